/*
 * dte_doc.h - the El Salvador DTE document model: build the JSON of a
 * Factura (01), Comprobante de Crédito Fiscal (03), Nota de Crédito (05),
 * Nota de Débito (06) or Factura de Sujeto Excluido (14) from a neutral
 * input, with MH's arithmetic and rounding, and print it exactly.
 *
 * This module knows nothing of billing, patients or the database: the DTE
 * flow maps a billing document to struct dte_input, calls dte_build, prints
 * the result with dte_json_dump and signs THAT text. Facts and sources:
 * ../shared/dte-sv/README.md (§3 structure, §3.7 arithmetic); the official
 * schemas are in tests/fixtures/dte-sv/; docs/dte.md explains the model.
 *
 * VERSIONS. (tipoDte, version) rows in a static table (dte_version_find):
 * the schema file, title and a field set (DTE_FS_* flags) that the builder
 * follows. Version 0 in the input means the default row of the type. Today:
 * FE 1, CCF 3, NC 3, ND 3, FSE 1 (Normativa 1.x); docs/dte.md says how to
 * add the Normativa 2.0 rows.
 *
 * NUMBERS. Item amounts (cantidad, precioUni, montoDescu, venta*, ivaItem,
 * psv, noGravado, compra) are int64 fixed point in units of 1e-8 (names end
 * in _e8; DTE_E8 = 1.00000000); resumen amounts are int64 cents (_cents).
 * Every value is rounded ONCE, half away from zero ("half-up" on magnitudes,
 * as MH's manual says: 8 decimals on items, 2 on the resumen). No double is
 * ever used. Limits: an item amount (and cantidad × precioUni) must be below
 * DTE_ITEM_MAX_E8 (10^10 dollars); resumen values below 10^11 dollars (the
 * schemas' exclusiveMaximum).
 *
 * ARITHMETIC (README §3.7; docs/dte.md has worked examples):
 *   item     bruto   = round8(cantidad × precioUni)
 *            venta   = bruto − montoDescu  (must be >= 0), put in ventaGravada,
 *                      ventaExenta or ventaNoSuj by the line's treatment
 *                      (FSE: compra)
 *            FE:      ivaItem = round8(ventaGravada × 13 / 113) (price includes IVA)
 *            CCF/NC/ND: tributos ["20"] when ventaGravada > 0, else null
 *   resumen  totalGravada/Exenta/NoSuj = round2(Σ venta of the kind)
 *            subTotalVentas = totalNoSuj + totalExenta + totalGravada
 *            descuNoSuj/descuExenta/descuGravada = the global discounts given
 *            totalDescu = round2(Σ montoDescu) + the three global discounts
 *            porcentajeDescuento = round2(100 × global discounts / subTotalVentas)
 *            subTotal = subTotalVentas − global discounts
 *            FE:  totalIva = round2(Σ ivaItem − round8(descuGravada × 13/113))
 *                 tributos null; IVA is inside the prices
 *            CCF/NC/ND: tributos [{"20","Impuesto al Valor Agregado 13%",
 *                 round2((totalGravada − descuGravada) × 13/100)}] when
 *                 totalGravada > 0, else null
 *            montoTotalOperacion = subTotal + Σ tributos.valor
 *            totalNoGravado = round2(Σ noGravado)                (FE, CCF)
 *            totalPagar = montoTotalOperacion + ivaPerci1 − ivaRete1
 *                         − reteRenta + totalNoGravado           (FE, CCF)
 *            FSE: totalCompra = round2(Σ compra); subTotal = totalCompra − descu;
 *                 totalPagar = subTotal − ivaRete1 − reteRenta
 *            totalLetras = dte_amount_words(totalPagar; NC/ND: montoTotalOperacion)
 *   (Where IVA percibido/retenido and renta enter the totals is UNCONFIRMED
 *   by MH, README §10; the choice above is written down in docs/dte.md.)
 *
 * EXACT JSON. jansson keeps reals as double, so decimals are held in the
 * json_t tree as strings carrying a private marker (dte_json_decimal) and
 * dte_json_dump prints them raw, e.g. 0.1, 1.15, 999999.99, 0.00000001
 * (trailing zeros trimmed: 2000.00 prints 2000). Every nullable field is
 * present (null) and keys are in the schema's order. Never print a DTE tree
 * with json_dumps (the markers would show); use dte_json_dump. Reading a
 * stored document back: dte_json_load keeps its decimals exact the same way.
 *
 * ERRORS. Bad input is ERR_INVALID with e->field = the DTE path of the value
 * ("cuerpoDocumento[2].precioUni", "receptor.numDocumento", "resumen.pagos")
 * and a client-safe message that never repeats the value.
 */
#ifndef CL_MOD_DTE_DOC_H
#define CL_MOD_DTE_DOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define DTE_E8		       100000000LL	     /* 1.00000000 in item units */
#define DTE_ITEM_MAX_E8	       1000000000000000000LL /* 10^10 dollars, exclusive */
#define DTE_RESUMEN_MAX_CENTS  10000000000000LL	     /* 10^11 dollars, exclusive */
#define DTE_MAX_ITEMS	       2000
#define DTE_LETRAS_MAX	       256 /* bytes for totalLetras (schema: 200 characters) */
#define DTE_NUMERO_CONTROL_LEN 31  /* "DTE-01-ABCD1234-000000000000001" */
#define DTE_IVA_PCT	       13

/* ---- document types and versions ---- */

enum dte_type {
	DTE_FE = 1,   /* Factura (consumidor final), "01" */
	DTE_CCF = 3,  /* Comprobante de Crédito Fiscal, "03" */
	DTE_NC = 5,   /* Nota de Crédito, "05" */
	DTE_ND = 6,   /* Nota de Débito, "06" */
	DTE_FSE = 14, /* Factura de Sujeto Excluido, "14" */
};

/* "01" | "03" | "05" | "06" | "14"; NULL for another value. Static storage. */
const char *dte_type_code(enum dte_type t);
/* Spanish name as MH's catalog CAT-002 writes it ("Factura", "Comprobante de
 * crédito fiscal", ...); NULL for another value. Static storage. */
const char *dte_type_name(enum dte_type t);
/* "01" -> DTE_FE ...; -1 when not one of the five types built here. */
int dte_type_parse(const char *code);
/* The type the engine picks for a receptor: CCF when it has an NRC, else FE
 * (issue 4: the caller can override). */
enum dte_type dte_type_for_receptor(bool receptor_has_nrc);

/* Field set of a (type, version) row: what the builder emits. */
enum dte_field_set {
	DTE_FS_RECEPTOR_NULLABLE = 1u << 0,   /* receptor may be null (FE anonymous consumer) */
	DTE_FS_PRICES_WITH_IVA = 1u << 1,     /* prices include IVA; cuerpo ivaItem; resumen totalIva (FE) */
	DTE_FS_IVA_TRIBUTO = 1u << 2,	      /* IVA as tributo "20" on items and in resumen.tributos */
	DTE_FS_DOC_REL_REQUIRED = 1u << 3,    /* documentoRelacionado required; items carry numeroDocumento */
	DTE_FS_OTROS_DOCUMENTOS = 1u << 4,    /* root otrosDocumentos (incl. médico) */
	DTE_FS_VENTA_TERCERO = 1u << 5,	      /* root ventaTercero */
	DTE_FS_EXTENSION = 1u << 6,	      /* root extension */
	DTE_FS_EXT_PLACA = 1u << 7,	      /* extension.placaVehiculo */
	DTE_FS_EMISOR_ESTAB_CODES = 1u << 8,  /* emisor codEstableMH/codEstable/codPuntoVentaMH/codPuntoVenta */
	DTE_FS_EMISOR_COMERCIAL = 1u << 9,    /* emisor nombreComercial and tipoEstablecimiento */
	DTE_FS_ITEM_PSV_NOGRAVADO = 1u << 10, /* cuerpo psv and noGravado */
	DTE_FS_RESUMEN_PAGO = 1u << 11,	      /* resumen porcentajeDescuento, totalNoGravado, totalPagar,
						 saldoFavor, pagos */
	DTE_FS_NUM_PAGO_ELEC = 1u << 12,      /* resumen numPagoElectronico */
	DTE_FS_IVA_PERCI = 1u << 13,	      /* resumen ivaPerci1 */
	DTE_FS_SUJETO_EXCLUIDO = 1u << 14,    /* FSE layout: sujetoExcluido, items with compra, resumen
						 totalCompra/descu/observaciones */
};

struct dte_version_info {
	enum dte_type type;
	int version;		    /* identificacion.version */
	bool is_default;	    /* the row used when the input says version 0 */
	const char *schema_file;    /* official schema, e.g. "fe-fc-v1.json" (tests/fixtures/dte-sv/) */
	const char *title;	    /* the schema's title */
	unsigned fields;	    /* enum dte_field_set */
	int motivo_min, motivo_max; /* identificacion.motivoContin length bounds (characters) */
	int doc_rel_max;	    /* documentoRelacionado entries allowed (0 = no such block) */
	const char *doc_rel_types;  /* its allowed tipoDocumento codes, space-separated ("04 09") */
};

/* Row for (type, version); version 0 = the type's default. NULL when none.
 * Static storage. */
const struct dte_version_info *dte_version_find(enum dte_type type, int version);
/* The whole table (*n rows), for listings and the test corpus. Static storage. */
const struct dte_version_info *dte_versions(size_t *n);

/* ---- input ---- */

/* All strings are borrowed for the call (UTF-8). NULL = absent/null. */

struct dte_address {
	const char *departamento; /* CAT-012 "01".."14" */
	const char *municipio;	  /* CAT-013, 2 digits (see docs/dte.md on the schemas' municipio patterns) */
	const char *complemento;  /* street etc.; the distrito goes here (CAT-013 §13.1) */
};

/* The issuer (the tenant). Validated with the strictest bounds of the five
 * schemas, so one emisor is good for every type. */
struct dte_emisor {
	const char *nit;		  /* 14 digits, or a 9-digit DUI; no hyphens */
	const char *nrc;		  /* 2-8 digits, no hyphen (FSE alone accepts NULL) */
	const char *nombre;		  /* 3-200 characters */
	const char *cod_actividad;	  /* CAT-019, 5-6 digits (e.g. "86201" clínicas médicas) */
	const char *desc_actividad;	  /* 5-150 characters */
	const char *nombre_comercial;	  /* 5-150 characters, or NULL */
	const char *tipo_establecimiento; /* CAT-009 "01" sucursal, "02" casa matriz, "04", "07", "20" */
	struct dte_address direccion;	  /* complemento 1-200 characters */
	const char *telefono;		  /* 8-30 characters */
	const char *correo;		  /* e-mail, 3-100 characters */
	const char *cod_estable_mh;	  /* 4 characters assigned by MH, or NULL */
	const char *cod_estable;	  /* 4 characters, the issuer's own, or NULL */
	const char *cod_punto_venta_mh;	  /* 4 characters assigned by MH, or NULL */
	const char *cod_punto_venta;	  /* 1-15 characters, or NULL */
};

/* The buyer. Which members a type uses:
 *   FE (01): everything nullable; tipo_documento (CAT-022 "36" NIT, "13" DUI,
 *     "02" carnet de residente, "03" pasaporte, "37" otro) with num_documento;
 *     nrc is emitted only with "36" (the schema forbids it otherwise) and is
 *     ignored with another document type. A Factura whose
 *     montoTotalOperacion is >= 1,095.00 needs tipo_documento,
 *     num_documento and nombre. struct dte_input.receptor NULL = anonymous.
 *   CCF/NC/ND: nit, nrc, nombre, cod_actividad, desc_actividad, direccion,
 *     correo required; nombre_comercial, telefono optional.
 *   FSE (14), the sujeto excluido: tipo_documento (required), num_documento,
 *     nombre, direccion required; cod_actividad, desc_actividad, telefono,
 *     correo optional.
 * DUI: give "NNNNNNNN-N" or 9 digits; the builder writes the form the type
 * wants (FE with hyphen, FSE without) after checking the check digit. A NIT
 * ("36") is 14 digits or a 9-digit DUI, check digit verified (ids.h). */
struct dte_receptor {
	const char *tipo_documento;
	const char *num_documento;
	const char *nit;
	const char *nrc;
	const char *nombre;
	const char *cod_actividad;
	const char *desc_actividad;
	const char *nombre_comercial;
	const struct dte_address *direccion; /* NULL = null (FE only; required otherwise) */
	const char *telefono;
	const char *correo;
};

enum dte_treatment {
	DTE_GRAVADA = 0,   /* taxable at 13 % */
	DTE_EXENTA = 1,	   /* exempt */
	DTE_NO_SUJETA = 2, /* not subject */
};

/* One line of cuerpoDocumento. */
struct dte_item {
	int tipo_item;		      /* CAT-011: 1 bienes, 2 servicios, 3 ambos (4 = otros tributos: refused) */
	const char *codigo;	      /* 1-25 characters, or NULL */
	const char *descripcion;      /* 1-1000 characters */
	int uni_medida;		      /* CAT-014; 0 = 59 "Unidad" (FSE: the schema's older list) */
	int64_t cantidad_e8;	      /* > 0 */
	int64_t precio_uni_e8;	      /* >= 0; FE: IVA included; CCF/NC/ND/FSE: without IVA */
	int64_t monto_descu_e8;	      /* >= 0, <= cantidad × precioUni */
	enum dte_treatment treatment; /* ignored by FSE (no IVA) */
	/* The related document this line adjusts or comes from: must equal the
	 * numeroDocumento of one documentoRelacionado. NC/ND: required, except
	 * that NULL with exactly one related document means that one. */
	const char *numero_documento;
	int64_t psv_e8;	       /* FE/CCF precio sugerido de venta, >= 0 (usually 0) */
	int64_t no_gravado_e8; /* FE/CCF cargos/abonos outside the tax base, signed (usually 0) */
};

/* One resumen.pagos entry (FE, CCF, FSE). */
struct dte_pago {
	const char *codigo;	/* CAT-017 "01" billetes y monedas, "02" tarjeta débito, "03" crédito,
				   "04" cheque, "05" transferencia, ..., "99" otros */
	int64_t monto_cents;	/* >= 0; ignored when rest is true */
	bool rest;		/* this entry takes totalPagar minus the other entries (at most one) */
	const char *referencia; /* <= 50 characters, or NULL */
	const char *plazo;	/* CAT-018 "01" días, "02" meses, "03" años; NULL unless credit */
	int periodo;		/* > 0 with plazo; ignored without */
};

/* One documentoRelacionado entry. */
struct dte_doc_rel {
	const char *tipo_documento;   /* CAT-002: FE "04"/"09"; CCF "04"/"08"/"09"; NC/ND "03"/"07" */
	int tipo_generacion;	      /* CAT-007: 1 físico, 2 electrónico */
	const char *numero_documento; /* 2: the related codigoGeneracion (upper-case UUID); 1: its number */
	const char *fecha_emision;    /* YYYY-MM-DD */
};

/* otrosDocumentos (FE, CCF): cod_doc_asociado CAT-021 1 emisor, 2 receptor,
 * 3 médico (medico required, desc/detalle unused), 4 transporte. */
struct dte_medico {
	const char *nombre;		/* 1-100 characters */
	const char *nit;		/* 14 or 9 digits, or NULL */
	const char *doc_identificacion; /* 2-25 characters (non-resident), or NULL; one of the two */
	int tipo_servicio;		/* CAT-010 1..6 */
};
struct dte_otro_doc {
	int cod_doc_asociado;
	const char *desc_documento;    /* 1-100 characters (codes 1, 2, 4) */
	const char *detalle_documento; /* 1-300 characters (codes 1, 2, 4) */
	const struct dte_medico *medico;
};

struct dte_venta_tercero {
	const char *nit;    /* 14 or 9 digits */
	const char *nombre; /* 3-200 characters */
};

/* extension (FE, CCF, NC, ND). Each member NULL or 5-100 / 5-25 characters;
 * observaciones <= 3000; placa_vehiculo 2-10 (FE, CCF only). */
struct dte_extension {
	const char *nomb_entrega, *docu_entrega, *nomb_recibe, *docu_recibe;
	const char *observaciones;
	const char *placa_vehiculo;
};

struct dte_apendice {
	const char *campo;    /* 2-25 characters */
	const char *etiqueta; /* 3-50 characters */
	const char *valor;    /* 1-150 characters */
};

struct dte_input {
	enum dte_type type;
	int version;		       /* 0 = the type's default (dte_version_find) */
	const char *ambiente;	       /* "00" prueba | "01" producción */
	const char *numero_control;    /* "DTE-TT-XXXXXXXX-NNNNNNNNNNNNNNN", TT = the type (dte_numero_control) */
	const char *codigo_generacion; /* upper-case UUID v4 (uuid_v4_upper) */
	const char *fec_emi;	       /* YYYY-MM-DD, America/El_Salvador */
	const char *hor_emi;	       /* HH:MM:SS, America/El_Salvador */
	/* 0 = normal transmission (tipoModelo 1, tipoOperacion 1); 1..5 (CAT-005) =
	 * issued in contingency (tipoModelo 2 diferido, tipoOperacion 2). */
	int tipo_contingencia;
	const char *motivo_contin; /* required with 5; optional with 1..4; bounds per type */

	const struct dte_emisor *emisor;     /* required */
	const struct dte_receptor *receptor; /* see struct dte_receptor; FSE: the sujeto excluido */

	const struct dte_item *items; /* 1..DTE_MAX_ITEMS */
	size_t nitems;

	/* Global discounts (resumen descuNoSuj/descuExenta/descuGravada), cents,
	 * each <= the matching total; FSE uses descu_cents (resumen.descu). */
	int64_t descu_no_suj_cents, descu_exenta_cents, descu_gravada_cents;
	int64_t descu_cents;
	/* Withholdings the caller has computed (cents, >= 0; 0 when none). IVA
	 * percibido/retenido need a taxable total; iva_perci1 only CCF/NC/ND. */
	int64_t iva_perci1_cents, iva_rete1_cents, rete_renta_cents;

	int condicion_operacion;      /* CAT-016 1 contado, 2 crédito, 3 otro; 0 = 1 */
	const struct dte_pago *pagos; /* FE/CCF/FSE, at most 20; none = pagos null */
	size_t npagos;
	const char *num_pago_electronico; /* FE/CCF/ND, <= 100 characters, or NULL */

	const struct dte_doc_rel *doc_rel; /* FE/CCF 0..10/50; NC/ND 1..50 */
	size_t ndoc_rel;
	const struct dte_otro_doc *otros; /* FE/CCF 0..10 */
	size_t notros;
	const struct dte_venta_tercero *venta_tercero; /* FE/CCF/NC/ND, or NULL */
	const struct dte_extension *extension;	       /* FE/CCF/NC/ND, or NULL */
	const char *observaciones;		       /* FSE resumen.observaciones (<= 3000), or NULL */
	const struct dte_apendice *apendice;	       /* 0..10 */
	size_t napendice;
};

/* ---- output ---- */

/* The computed resumen (cents), for storage and reports. */
struct dte_totals {
	const struct dte_version_info *version; /* the row used (static) */
	int64_t total_no_suj_cents, total_exenta_cents, total_gravada_cents;
	int64_t sub_total_ventas_cents, total_descu_cents, sub_total_cents;
	int64_t iva_cents;		     /* FE totalIva (included) or CCF/NC/ND tributo 20; FSE 0 */
	int64_t monto_total_operacion_cents; /* FSE: totalCompra */
	int64_t total_no_gravado_cents;
	int64_t total_pagar_cents; /* NC/ND: montoTotalOperacion */
	char total_letras[DTE_LETRAS_MAX];
};

/* Build the DTE. On success *out = a new tree (owned: json_decref), whose
 * decimals are marker strings (print with dte_json_dump), and *totals (may
 * be NULL) is filled. Bad input -> ERR_INVALID naming the DTE field;
 * nothing is returned then. */
int dte_build(const struct dte_input *in, json_t **out, struct dte_totals *totals, struct err *e);

/* numeroControl "DTE-" tt "-" estable(4) punto(4) "-" 15-digit sequence into
 * out[32]. estable and punto_venta: 4 characters [A-Z0-9] each (MH's
 * establishment and point-of-sale codes, e.g. "M001" "P001" in Normativa
 * 2.0 style, or "0001" "0001"); sequence 1..999999999999999 (restarts every
 * year). Bad input -> ERR_INVALID. */
int dte_numero_control(enum dte_type type, const char *estable, const char *punto_venta, int64_t sequence,
		       char out[DTE_NUMERO_CONTROL_LEN + 1], struct err *e);

/* Prices between the two conventions, round8 half-up: FE prices include
 * IVA, the others exclude it. price × 113/100 and price × 100/113. */
int64_t dte_price_with_iva(int64_t price_e8);
int64_t dte_price_without_iva(int64_t price_e8);

/* Amount in Spanish words as totalLetras: "DOS MIL DOSCIENTOS SESENTA
 * 17/100 DÓLARES" (UN/VEINTIÚN/CIENTO UN before the noun, CIEN, MIL, UN
 * MILLÓN, DOS MILLONES, MIL MILLONES; exactly 1.00 is "UN 00/100 DÓLAR").
 * cents in 0 .. DTE_RESUMEN_MAX_CENTS-1; out needs DTE_LETRAS_MAX bytes.
 * Out of range or short buffer -> ERR_INVALID. (dte_words.c) */
int dte_amount_words(int64_t cents, char *out, size_t outlen, struct err *e);

/* ---- exact JSON ---- */

/* New marker string holding value / 10^scale as exact decimal text (scale
 * 0..8). Owned. */
json_t *dte_json_decimal(int64_t value, int scale);
/* The decimal text of a marker string ("1.15"), or NULL when v is not one.
 * Borrowed from v. */
const char *dte_json_decimal_text(const json_t *v);
/* Value of a number in a DTE tree (marker string or JSON integer) at
 * `scale` decimals into *out. Not a number, more decimals than scale, or
 * overflow -> ERR_INVALID naming field. */
int dte_json_number(const json_t *v, int scale, int64_t *out, const char *field, struct err *e);

/* Print a DTE tree compactly: keys in insertion order, strings as UTF-8
 * (only '"', '\\' and control characters escaped), decimals exactly as
 * their text, integers as integers. *out owned (free). A binary real in the
 * tree (not made here) -> ERR_INTERNAL. */
int dte_json_dump(const json_t *doc, char **out, struct err *e);

/* Parse DTE text keeping every number with a fraction or exponent exact (as
 * a marker string, exponent removed); integers stay integers. *out owned.
 * Not JSON, or not an object -> ERR_INVALID. */
int dte_json_load(const char *text, json_t **out, struct err *e);

/* The document as delivered to the buyer (README §2.4): the signed text with
 * "firmaElectronica":jws and "selloRecibido":sello (NULL = null) appended as
 * the last two members. *out owned. doc_text not an object -> ERR_INVALID. */
int dte_json_delivered(const char *doc_text, const char *jws, const char *sello, char **out, struct err *e);

/* ---- independent check ---- */

/* Recompute MH's arithmetic (README §3.7) from a document tree (dte_build's
 * or dte_json_load's) and compare with what it states: item ventas and
 * ivaItem, tributos "20" on items, numItem order, the resumen totals,
 * discounts, IVA, montoTotalOperacion, totalPagar, pagos (contado: Σ =
 * totalPagar), totalLetras, NC/ND item references. strict: equal to the
 * cent (and to 1e-8 on items); otherwise MH's ±0.01 holgura on the resumen.
 * The first difference -> ERR_INVALID naming the field. */
int dte_verify(const json_t *doc, bool strict, struct err *e);

#endif
