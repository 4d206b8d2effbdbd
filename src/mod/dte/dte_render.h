/*
 * dte_render.h - shared helpers of the DTE renderings (dte_pdf.c, dte_xml.c).
 *
 * Internal to src/mod/dte: the MH catalog names a printed DTE shows instead of
 * codes (CAT-002 document types, CAT-003/004/005 transmission, CAT-009
 * establishments, CAT-012/013 departamentos and municipios, CAT-014 units,
 * CAT-016/017/018 payment terms, CAT-010/021 associated documents, CAT-022
 * identity documents), the display formats of Salvadoran numbers (NIT, DUI,
 * NRC, telephone, dates, exact decimals) and the UTF-8 -> Windows-1252
 * conversion the PDF's base-14 fonts need. Everything here is pure: no I/O,
 * no global state. Catalog lookups return static strings or NULL when the
 * code is not in the catalog (the caller then prints the code itself).
 */
#ifndef CL_MOD_DTE_RENDER_H
#define CL_MOD_DTE_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/mem.h"

/* Longest text dte_render_amount writes, NUL included ("-99,999,999,999.99999999"). */
#define DTE_RENDER_AMOUNT_MAX 48

/* Catalog names (static storage; NULL = unknown code). */
const char *dte_render_type_name(const char *tipo_dte);		    /* CAT-002: "FACTURA", ... (upper case) */
const char *dte_render_modelo(long long tipo_modelo);		    /* CAT-003: "Previo" / "Diferido" */
const char *dte_render_transmision(long long tipo_operacion);	    /* CAT-004: "Normal" / "Contingencia" */
const char *dte_render_contingencia(long long tipo_contingencia);   /* CAT-005 */
const char *dte_render_establecimiento(const char *code);	    /* CAT-009 */
const char *dte_render_departamento(const char *code);		    /* CAT-012 */
const char *dte_render_municipio(const char *dep, const char *mun); /* CAT-013 (2024 reform codes) */
const char *dte_render_unidad(long long code);			    /* CAT-014 */
const char *dte_render_condicion(long long code);		    /* CAT-016 */
const char *dte_render_forma_pago(const char *code);		    /* CAT-017 */
const char *dte_render_plazo(const char *code);			    /* CAT-018: "días", "meses", "años" */
const char *dte_render_tipo_servicio(long long code);		    /* CAT-010 */
const char *dte_render_doc_asociado(long long code);		    /* CAT-021 */
const char *dte_render_doc_label(const char *tipo_documento);	    /* CAT-022: "DUI", "NIT", "Pasaporte"... */
const char *dte_render_generacion(long long code);		    /* CAT-007: "Físico" / "Electrónico" */

/* Display formats. Each writes into buf (len bytes, always NUL-terminated)
 * and returns buf; input that does not have the expected shape is copied
 * unchanged. */
char *dte_render_nit(const char *nit, char *buf, size_t len);	/* 14 digits -> 0614-150395-102-3; 9 -> 04583921-6 */
char *dte_render_nrc(const char *nrc, char *buf, size_t len);	/* 2587416 -> 258741-6 */
char *dte_render_phone(const char *tel, char *buf, size_t len); /* 8 digits -> 2263-7845 */
char *dte_render_date(const char *iso, char *buf, size_t len);	/* 2025-11-14 -> 14/11/2025 */

/* Decimals in a DTE tree come in three forms: JSON integers, JSON reals
 * (json_loads of the document text) and dte_doc's exact marker strings
 * (dte_build / dte_json_load trees, see dte_doc.h); plain decimal strings
 * are accepted too. dte_render_decimal reads any of them exactly into units of
 * 1e-8 (a real only when its shortest text has at most 15 significant
 * digits); false when v is none of them or does not fit 8 decimals. */
bool dte_render_decimal(const json_t *v, int64_t *e8);
/* True for absent, null or a zero decimal. */
bool dte_render_is_zero(const json_t *v);

/* A decimal (any form above) as display text: at least min_dec and at most
 * 8 decimals, trailing zeros trimmed down to min_dec; thousands separators
 * (",") when `grouped`. NULL or JSON null gives "" (returns false); a value
 * that cannot be read exactly is shown as best it can be (a real rounded to
 * 8 decimals, a string as itself) and returns false. buf needs
 * DTE_RENDER_AMOUNT_MAX bytes. */
bool dte_render_amount(const json_t *v, int min_dec, bool grouped, char *buf, size_t len);

/* UTF-8 -> Windows-1252 (the WinAnsiEncoding of the PDF base-14 fonts), in
 * the arena. Characters outside CP1252 become '?', control characters a space,
 * invalid UTF-8 bytes '?'. NULL in -> "". */
char *dte_render_cp1252(struct arena *a, const char *utf8);

/* Shortest decimal text (no exponent) that reads back as exactly d, e.g.
 * 4.02654867 -> "4.02654867", 72.5 -> "72.5", 2260.0 -> "2260". Falls back to
 * "%.17g" for magnitudes a fixed text cannot hold. buf needs 64 bytes. */
char *dte_render_real(double d, char *buf, size_t len);

#endif
