/*
 * dte_doc.c - build DTE JSON (01, 03, 05, 06, 14) from struct dte_input,
 * print it exactly, read it back exactly, and re-check its arithmetic.
 *
 * Flow of dte_build: find the (type, version) row; validate every input
 * field against the strictest bound of the official schemas (so a document
 * that passes here passes the schema) and MH's rules the schemas cannot
 * say; compute items in 1e-8 units and the resumen in cents with one
 * half-up rounding per value (128-bit intermediates, no double); then emit
 * the tree in the schema's key order with every nullable member present.
 *
 * Decimals live in the jansson tree as strings whose first byte is 0x1F
 * (DEC_MARK) followed by the decimal text; dte_json_dump prints them raw.
 * Input strings may not contain control characters, so no caller text can
 * ever look like a marker, and dte_json_load refuses a string starting with
 * U+001F.
 */
#include "mod/dte/dte_doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/mem.h"
#include "core/money.h"
#include "core/timeutil.h"

#define DEC_MARK    '\x1f'
#define E8_PER_CENT 1000000LL
#define MAX_DEPTH   64
#define FIELD_LEN   64

/* ---- the version table ---- */

static const struct dte_version_info versions[] = {
    {DTE_FE, 1, true, "fe-fc-v1.json", "Factura Electrónica v1",
     DTE_FS_RECEPTOR_NULLABLE | DTE_FS_PRICES_WITH_IVA | DTE_FS_OTROS_DOCUMENTOS | DTE_FS_VENTA_TERCERO |
	 DTE_FS_EXTENSION | DTE_FS_EXT_PLACA | DTE_FS_EMISOR_ESTAB_CODES | DTE_FS_EMISOR_COMERCIAL |
	 DTE_FS_ITEM_PSV_NOGRAVADO | DTE_FS_RESUMEN_PAGO | DTE_FS_NUM_PAGO_ELEC,
     5, 150, 10, "04 09"},
    {DTE_CCF, 3, true, "fe-ccf-v3.json", "Comprobante de Crédito Fiscal Electrónica v3",
     DTE_FS_IVA_TRIBUTO | DTE_FS_OTROS_DOCUMENTOS | DTE_FS_VENTA_TERCERO | DTE_FS_EXTENSION | DTE_FS_EXT_PLACA |
	 DTE_FS_EMISOR_ESTAB_CODES | DTE_FS_EMISOR_COMERCIAL | DTE_FS_ITEM_PSV_NOGRAVADO | DTE_FS_RESUMEN_PAGO |
	 DTE_FS_NUM_PAGO_ELEC | DTE_FS_IVA_PERCI,
     1, 150, 50, "04 08 09"},
    {DTE_NC, 3, true, "fe-nc-v3.json", "Nota de Crédito Electrónica",
     DTE_FS_IVA_TRIBUTO | DTE_FS_DOC_REL_REQUIRED | DTE_FS_VENTA_TERCERO | DTE_FS_EXTENSION | DTE_FS_EMISOR_COMERCIAL |
	 DTE_FS_IVA_PERCI,
     1, 150, 50, "03 07"},
    {DTE_ND, 3, true, "fe-nd-v3.json", "Nota de Débito Electrónica",
     DTE_FS_IVA_TRIBUTO | DTE_FS_DOC_REL_REQUIRED | DTE_FS_VENTA_TERCERO | DTE_FS_EXTENSION | DTE_FS_EMISOR_COMERCIAL |
	 DTE_FS_IVA_PERCI | DTE_FS_NUM_PAGO_ELEC,
     1, 150, 50, "03 07"},
    {DTE_FSE, 1, true, "fe-fse-v1.json", "Factura de Sujeto Excluido Electrónica v1",
     DTE_FS_SUJETO_EXCLUIDO | DTE_FS_EMISOR_ESTAB_CODES, 1, 500, 0, ""},
};

const struct dte_version_info *dte_versions(size_t *n)
{
	*n = sizeof(versions) / sizeof(versions[0]);
	return versions;
}

const struct dte_version_info *dte_version_find(enum dte_type type, int version)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (versions[i].type != type)
			continue;
		if (version == 0 ? versions[i].is_default : versions[i].version == version)
			return &versions[i];
	}
	return NULL;
}

const char *dte_type_code(enum dte_type t)
{
	switch (t) {
	case DTE_FE: return "01";
	case DTE_CCF: return "03";
	case DTE_NC: return "05";
	case DTE_ND: return "06";
	case DTE_FSE: return "14";
	}
	return NULL;
}

const char *dte_type_name(enum dte_type t)
{
	switch (t) {
	case DTE_FE: return "Factura";
	case DTE_CCF: return "Comprobante de crédito fiscal";
	case DTE_NC: return "Nota de crédito";
	case DTE_ND: return "Nota de débito";
	case DTE_FSE: return "Factura de sujeto excluido";
	}
	return NULL;
}

int dte_type_parse(const char *code)
{
	static const enum dte_type all[] = {DTE_FE, DTE_CCF, DTE_NC, DTE_ND, DTE_FSE};

	if (!code)
		return -1;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(code, dte_type_code(all[i])) == 0)
			return (int)all[i];
	return -1;
}

enum dte_type dte_type_for_receptor(bool receptor_has_nrc)
{
	return receptor_has_nrc ? DTE_CCF : DTE_FE;
}

/* ---- fixed point ---- */

/* round(n / d) half away from zero; d > 0. */
static __int128 div_round(__int128 n, __int128 d)
{
	__int128 q = n / d, r = n % d;

	if (r < 0)
		r = -r;
	if (2 * r >= d)
		q += n < 0 ? -1 : 1;
	return q;
}

static int64_t mul_e8(int64_t a_e8, int64_t b_e8)
{
	return (int64_t)div_round((__int128)a_e8 * b_e8, DTE_E8);
}

int64_t dte_price_with_iva(int64_t price_e8)
{
	return (int64_t)div_round((__int128)price_e8 * (100 + DTE_IVA_PCT), 100);
}

int64_t dte_price_without_iva(int64_t price_e8)
{
	return (int64_t)div_round((__int128)price_e8 * 100, 100 + DTE_IVA_PCT);
}

/* IVA contained in an IVA-inclusive e8 amount: round8(x × 13 / 113). */
static int64_t iva_included_e8(int64_t x_e8)
{
	return (int64_t)div_round((__int128)x_e8 * DTE_IVA_PCT, 100 + DTE_IVA_PCT);
}

/* IVA on a base without IVA, cents: round2(x × 13 / 100). */
static int64_t iva_added_cents(int64_t base_cents)
{
	return (int64_t)div_round((__int128)base_cents * DTE_IVA_PCT, 100);
}

static int64_t e8_to_cents(__int128 x_e8)
{
	return (int64_t)div_round(x_e8, E8_PER_CENT);
}

/* ---- text checks ---- */

/* Characters (code points) of a UTF-8 string; -1 when not valid UTF-8 or
 * when it holds a control character other than tab, LF and CR. */
static long text_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p) {
		unsigned c = *p;
		int extra;
		unsigned cp, min;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
				return -1;
			p++;
			n++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			extra = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			extra = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			extra = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return -1;
		}
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (*p & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return -1;
		n++;
	}
	return n;
}

/* s NULL: an error when required. Otherwise min..max characters. */
static int check_text(const char *s, bool required, long min, long max, const char *field, struct err *e)
{
	long n;

	if (!s) {
		if (required)
			return err_set(e, ERR_INVALID, field, "%s is required", field);
		return 0;
	}
	n = text_chars(s);
	if (n < 0)
		return err_set(e, ERR_INVALID, field, "%s must be UTF-8 text without control characters", field);
	if (n < min || n > max) {
		if (min == max)
			return err_set(e, ERR_INVALID, field, "%s must have %ld characters", field, min);
		return err_set(e, ERR_INVALID, field, "%s must have %ld to %ld characters", field, min, max);
	}
	return 0;
}

static bool all_digits(const char *s, size_t min, size_t max)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool nit_format(const char *s)
{
	return s && (strlen(s) == 14 || strlen(s) == 9) && all_digits(s, 9, 14);
}

static bool upper_uuid(const char *s)
{
	if (!s || strlen(s) != UUID_LEN)
		return false;
	for (int i = 0; i < UUID_LEN; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

static bool in_list(const char *s, const char *const *list)
{
	if (!s)
		return false;
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* s is one of the space-separated words of list. */
static bool in_words(const char *s, const char *list)
{
	size_t n;

	if (!s || !*s)
		return false;
	n = strlen(s);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, s, n) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

static bool email_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static bool label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The "email" format of ajv-formats (full mode): dot-atoms, '@', two or
 * more dot-separated labels of letters, digits and inner hyphens. */
static bool email_valid(const char *s)
{
	const char *at = s ? strchr(s, '@') : NULL;
	int labels = 0;

	if (!at || at == s)
		return false;
	for (const char *p = s; p < at; p++) {
		if (*p == '.') {
			if (p == s || p + 1 == at || p[1] == '.')
				return false;
		} else if (!email_atext((unsigned char)*p)) {
			return false;
		}
	}
	for (const char *p = at + 1;;) {
		const char *start = p;

		while (label_char((unsigned char)*p) || *p == '-')
			p++;
		if (p == start || start[0] == '-' || p[-1] == '-')
			return false;
		labels++;
		if (*p == '\0')
			break;
		if (*p != '.')
			return false;
		p++;
	}
	return labels >= 2;
}

static int check_email(const char *s, bool required, const char *field, struct err *e)
{
	int rc = check_text(s, required, 3, 100, field, e);

	if (rc || !s)
		return rc;
	if (!email_valid(s))
		return err_set(e, ERR_INVALID, field, "%s must be an e-mail address", field);
	return 0;
}

static int check_digits(const char *s, bool required, size_t min, size_t max, const char *field, struct err *e)
{
	if (!s) {
		if (required)
			return err_set(e, ERR_INVALID, field, "%s is required", field);
		return 0;
	}
	if (!all_digits(s, min, max)) {
		if (min == max)
			return err_set(e, ERR_INVALID, field, "%s must be %zu digits", field, min);
		return err_set(e, ERR_INVALID, field, "%s must be %zu to %zu digits", field, min, max);
	}
	return 0;
}

static int check_nit(const char *s, bool required, bool check_digit, const char *field, struct err *e)
{
	if (!s) {
		if (required)
			return err_set(e, ERR_INVALID, field, "%s is required", field);
		return 0;
	}
	if (!nit_format(s))
		return err_set(e, ERR_INVALID, field, "%s must be a NIT of 14 digits or a DUI of 9 digits", field);
	if (check_digit && !nit_valid(s))
		return err_set(e, ERR_INVALID, field, "%s has a wrong check digit", field);
	return 0;
}

static const char *fmt_field(char buf[FIELD_LEN], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *fmt_field(char buf[FIELD_LEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, FIELD_LEN, fmt, ap);
	va_end(ap);
	return buf;
}

/* Highest municipio code of each departamento (CAT-013): the codes before
 * the 2024 reform run 01..n, the 44 new ones follow right after. */
static int municipio_max(int departamento)
{
	static const int max[15] = {0, 15, 17, 20, 36, 28, 24, 18, 25, 11, 15, 26, 23, 28, 20};

	return departamento >= 1 && departamento <= 14 ? max[departamento] : 0;
}

static int check_address(const struct dte_address *a, const char *prefix, long complemento_min, struct err *e)
{
	char f[FIELD_LEN];
	int dep, mun;

	if (!all_digits(a->departamento, 2, 2) || (dep = atoi(a->departamento)) < 1 || dep > 14)
		return err_set(e, ERR_INVALID, fmt_field(f, "%s.departamento", prefix),
			       "%s.departamento must be a CAT-012 code 01..14", prefix);
	if (!all_digits(a->municipio, 2, 2) || (mun = atoi(a->municipio)) < 1 || mun > municipio_max(dep))
		return err_set(e, ERR_INVALID, fmt_field(f, "%s.municipio", prefix),
			       "%s.municipio is not a CAT-013 code of departamento %s", prefix, a->departamento);
	return check_text(a->complemento, true, complemento_min, 200, fmt_field(f, "%s.complemento", prefix), e);
}

/* ---- identificacion ---- */

static bool numero_control_valid(const char *s, const char *code)
{
	bool nonzero = false;

	if (!s || strlen(s) != DTE_NUMERO_CONTROL_LEN || strncmp(s, "DTE-", 4) != 0 || strncmp(s + 4, code, 2) != 0 ||
	    s[6] != '-' || s[15] != '-')
		return false;
	for (int i = 7; i < 15; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	for (int i = 16; i < DTE_NUMERO_CONTROL_LEN; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		nonzero |= s[i] != '0';
	}
	return nonzero;
}

static bool time_of_day_valid(const char *s)
{
	if (!s || strlen(s) != 8 || s[2] != ':' || s[5] != ':')
		return false;
	for (int i = 0; i < 8; i++)
		if (i != 2 && i != 5 && (s[i] < '0' || s[i] > '9'))
			return false;
	return atoi(s) <= 23 && atoi(s + 3) <= 59 && atoi(s + 6) <= 59;
}

int dte_numero_control(enum dte_type type, const char *estable, const char *punto_venta, int64_t sequence,
		       char out[DTE_NUMERO_CONTROL_LEN + 1], struct err *e)
{
	const char *code = dte_type_code(type);

	if (!code)
		return err_set(e, ERR_INVALID, "tipoDte", "tipoDte is not one of 01, 03, 05, 06, 14");
	for (int k = 0; k < 2; k++) {
		const char *s = k == 0 ? estable : punto_venta;

		if (!s || strlen(s) != 4)
			goto bad_block;
		for (int i = 0; i < 4; i++)
			if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
				goto bad_block;
	}
	if (sequence < 1 || sequence > 999999999999999LL)
		return err_set(e, ERR_INVALID, "identificacion.numeroControl",
			       "the numeroControl sequence must be 1 to 999999999999999");
	snprintf(out, DTE_NUMERO_CONTROL_LEN + 1, "DTE-%s-%s%s-%015lld", code, estable, punto_venta,
		 (long long)sequence);
	return 0;
bad_block:
	return err_set(e, ERR_INVALID, "identificacion.numeroControl",
		       "establishment and point-of-sale codes must be 4 characters A-Z or 0-9 each");
}

static int check_identificacion(const struct dte_input *in, const struct dte_version_info *vi, struct err *e)
{
	const char *code = dte_type_code(in->type);

	if (!in->ambiente || (strcmp(in->ambiente, "00") != 0 && strcmp(in->ambiente, "01") != 0))
		return err_set(e, ERR_INVALID, "identificacion.ambiente", "identificacion.ambiente must be 00 or 01");
	if (!numero_control_valid(in->numero_control, code))
		return err_set(e, ERR_INVALID, "identificacion.numeroControl",
			       "identificacion.numeroControl must be DTE-%s-XXXXXXXX-NNNNNNNNNNNNNNN", code);
	if (!upper_uuid(in->codigo_generacion))
		return err_set(e, ERR_INVALID, "identificacion.codigoGeneracion",
			       "identificacion.codigoGeneracion must be an upper-case UUID");
	if (!in->fec_emi || strlen(in->fec_emi) != DATE_LEN || !date_valid(in->fec_emi))
		return err_set(e, ERR_INVALID, "identificacion.fecEmi",
			       "identificacion.fecEmi must be a date YYYY-MM-DD");
	if (!time_of_day_valid(in->hor_emi))
		return err_set(e, ERR_INVALID, "identificacion.horEmi",
			       "identificacion.horEmi must be a time HH:MM:SS");
	if (in->tipo_contingencia < 0 || in->tipo_contingencia > 5)
		return err_set(
		    e, ERR_INVALID, "identificacion.tipoContingencia",
		    "identificacion.tipoContingencia must be 1..5 (CAT-005), or 0 for a normal transmission");
	if (in->tipo_contingencia == 0 && in->motivo_contin)
		return err_set(e, ERR_INVALID, "identificacion.motivoContin",
			       "identificacion.motivoContin is only for a document issued in contingency");
	return check_text(in->motivo_contin, in->tipo_contingencia == 5, vi->motivo_min, vi->motivo_max,
			  "identificacion.motivoContin", e);
}

/* ---- emisor and receptor ---- */

static int check_emisor(const struct dte_emisor *m, const struct dte_version_info *vi, struct err *e)
{
	static const char *const estab[] = {"01", "02", "04", "07", "20", NULL};
	int rc;

	if (!m)
		return err_set(e, ERR_INVALID, "emisor", "emisor is required");
	if ((rc = check_nit(m->nit, true, false, "emisor.nit", e)) ||
	    (rc = check_digits(m->nrc, !(vi->fields & DTE_FS_SUJETO_EXCLUIDO), 2, 8, "emisor.nrc", e)) ||
	    (rc = check_text(m->nombre, true, 3, 200, "emisor.nombre", e)) ||
	    (rc = check_digits(m->cod_actividad, true, 5, 6, "emisor.codActividad", e)) ||
	    (rc = check_text(m->desc_actividad, true, 5, 150, "emisor.descActividad", e)) ||
	    (rc = check_text(m->nombre_comercial, false, 5, 150, "emisor.nombreComercial", e)))
		return rc;
	if ((m->tipo_establecimiento || (vi->fields & DTE_FS_EMISOR_COMERCIAL)) &&
	    !in_list(m->tipo_establecimiento, estab))
		return err_set(e, ERR_INVALID, "emisor.tipoEstablecimiento",
			       "emisor.tipoEstablecimiento must be a CAT-009 code (01, 02, 04, 07, 20)");
	if ((rc = check_address(&m->direccion, "emisor.direccion", 1, e)) ||
	    (rc = check_text(m->telefono, true, 8, 30, "emisor.telefono", e)) ||
	    (rc = check_email(m->correo, true, "emisor.correo", e)) ||
	    (rc = check_text(m->cod_estable_mh, false, 4, 4, "emisor.codEstableMH", e)) ||
	    (rc = check_text(m->cod_estable, false, 4, 4, "emisor.codEstable", e)) ||
	    (rc = check_text(m->cod_punto_venta_mh, false, 4, 4, "emisor.codPuntoVentaMH", e)) ||
	    (rc = check_text(m->cod_punto_venta, false, 1, 15, "emisor.codPuntoVenta", e)))
		return rc;
	return 0;
}

/* A DUI as 9 digits (from "NNNNNNNN-N" or "NNNNNNNNN") into out[10] when its
 * check digit is right. */
static bool dui_digits(const char *s, char out[10])
{
	size_t n = s ? strlen(s) : 0;

	if (n == 10 && s[8] == '-') {
		memcpy(out, s, 8);
		out[8] = s[9];
	} else if (n == 9) {
		memcpy(out, s, 9);
	} else {
		return false;
	}
	out[9] = '\0';
	return all_digits(out, 9, 9) && dui_valid(out);
}

static const char *const receptor_doc_types[] = {"36", "13", "02", "03", "37", NULL};

/* The document number as the type writes it, into out[24]. */
static int receptor_document(const char *tipo, const char *num, bool fse, const char *field, char out[24],
			     struct err *e)
{
	char dui[10];

	if (!num)
		return err_set(e, ERR_INVALID, field, "%s is required with its tipoDocumento", field);
	if (strcmp(tipo, "13") == 0) {
		if (!dui_digits(num, dui))
			return err_set(e, ERR_INVALID, field, "%s must be a DUI NNNNNNNN-N with a right check digit",
				       field);
		if (fse)
			snprintf(out, 24, "%s", dui);
		else
			snprintf(out, 24, "%.8s-%c", dui, dui[8]);
		return 0;
	}
	if (strcmp(tipo, "36") == 0) {
		int rc = check_nit(num, true, true, field, e);

		if (rc)
			return rc;
		snprintf(out, 24, "%s", num);
		return 0;
	}
	if (check_text(num, true, fse ? 1 : 3, 20, field, e))
		return e->code;
	snprintf(out, 24, "%s", num);
	return 0;
}

/* ---- JSON helpers ---- */

static void set(json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) != 0)
		abort(); /* only validated UTF-8 reaches here; jansson fails on nothing else but memory */
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *dec8(int64_t v)
{
	return dte_json_decimal(v, 8);
}

static json_t *dec2(int64_t v)
{
	return dte_json_decimal(v, 2);
}

static json_t *address_json(const struct dte_address *a)
{
	json_t *o = json_object();

	set(o, "departamento", jstr(a->departamento));
	set(o, "municipio", jstr(a->municipio));
	set(o, "complemento", jstr(a->complemento));
	return o;
}

static json_t *emisor_json(const struct dte_emisor *m, unsigned fs)
{
	json_t *o = json_object();
	bool fse = fs & DTE_FS_SUJETO_EXCLUIDO;

	set(o, "nit", jstr(m->nit));
	set(o, "nrc", jstr(m->nrc));
	set(o, "nombre", jstr(m->nombre));
	set(o, "codActividad", jstr(m->cod_actividad));
	set(o, "descActividad", jstr(m->desc_actividad));
	if (fs & DTE_FS_EMISOR_COMERCIAL) {
		set(o, "nombreComercial", jstr(m->nombre_comercial));
		set(o, "tipoEstablecimiento", jstr(m->tipo_establecimiento));
	}
	set(o, "direccion", address_json(&m->direccion));
	set(o, "telefono", jstr(m->telefono));
	if (!fse)
		set(o, "correo", jstr(m->correo));
	if (fs & DTE_FS_EMISOR_ESTAB_CODES) {
		set(o, "codEstableMH", jstr(m->cod_estable_mh));
		set(o, "codEstable", jstr(m->cod_estable));
		set(o, "codPuntoVentaMH", jstr(m->cod_punto_venta_mh));
		set(o, "codPuntoVenta", jstr(m->cod_punto_venta));
	}
	if (fse)
		set(o, "correo", jstr(m->correo));
	return o;
}

/* FE receptor (may be null). */
static int receptor_fe(const struct dte_receptor *r, json_t **out, struct err *e)
{
	char num[24];
	bool has_nit;
	int rc;
	json_t *o;

	*out = NULL;
	if (!r) {
		*out = json_null();
		return 0;
	}
	if (r->tipo_documento && !in_list(r->tipo_documento, receptor_doc_types))
		return err_set(e, ERR_INVALID, "receptor.tipoDocumento",
			       "receptor.tipoDocumento must be a CAT-022 code (36, 13, 02, 03, 37)");
	if (!r->tipo_documento && r->num_documento)
		return err_set(e, ERR_INVALID, "receptor.tipoDocumento",
			       "receptor.tipoDocumento is required with receptor.numDocumento");
	if (r->tipo_documento &&
	    (rc = receptor_document(r->tipo_documento, r->num_documento, false, "receptor.numDocumento", num, e)))
		return rc;
	has_nit = r->tipo_documento && strcmp(r->tipo_documento, "36") == 0;
	if ((has_nit && (rc = check_digits(r->nrc, false, 2, 8, "receptor.nrc", e))) ||
	    (rc = check_text(r->nombre, false, 1, 250, "receptor.nombre", e)) ||
	    (rc = check_digits(r->cod_actividad, false, 5, 6, "receptor.codActividad", e)) ||
	    (rc = check_text(r->desc_actividad, false, 5, 150, "receptor.descActividad", e)) ||
	    (r->direccion && (rc = check_address(r->direccion, "receptor.direccion", 5, e))) ||
	    (rc = check_text(r->telefono, false, 8, 30, "receptor.telefono", e)) ||
	    (rc = check_email(r->correo, false, "receptor.correo", e)))
		return rc;
	o = json_object();
	set(o, "tipoDocumento", jstr(r->tipo_documento));
	set(o, "numDocumento", r->tipo_documento ? json_string(num) : json_null());
	set(o, "nrc", jstr(has_nit ? r->nrc : NULL));
	set(o, "nombre", jstr(r->nombre));
	set(o, "codActividad", jstr(r->cod_actividad));
	set(o, "descActividad", jstr(r->desc_actividad));
	set(o, "direccion", r->direccion ? address_json(r->direccion) : json_null());
	set(o, "telefono", jstr(r->telefono));
	set(o, "correo", jstr(r->correo));
	*out = o;
	return 0;
}

/* CCF/NC/ND receptor (a registered contributor). */
static int receptor_contribuyente(const struct dte_receptor *r, json_t **out, struct err *e)
{
	int rc;
	json_t *o;

	*out = NULL;
	if (!r)
		return err_set(e, ERR_INVALID, "receptor", "receptor is required");
	if (!r->direccion)
		return err_set(e, ERR_INVALID, "receptor.direccion", "receptor.direccion is required");
	if ((rc = check_nit(r->nit, true, true, "receptor.nit", e)) ||
	    (rc = check_digits(r->nrc, true, 1, 8, "receptor.nrc", e)) ||
	    (rc = check_text(r->nombre, true, 1, 250, "receptor.nombre", e)) ||
	    (rc = check_digits(r->cod_actividad, true, 2, 6, "receptor.codActividad", e)) ||
	    (rc = check_text(r->desc_actividad, true, 1, 150, "receptor.descActividad", e)) ||
	    (rc = check_text(r->nombre_comercial, false, 1, 150, "receptor.nombreComercial", e)) ||
	    (rc = check_address(r->direccion, "receptor.direccion", 1, e)) ||
	    (rc = check_text(r->telefono, false, 8, 30, "receptor.telefono", e)) ||
	    (rc = check_email(r->correo, true, "receptor.correo", e)))
		return rc;
	o = json_object();
	set(o, "nit", jstr(r->nit));
	set(o, "nrc", jstr(r->nrc));
	set(o, "nombre", jstr(r->nombre));
	set(o, "codActividad", jstr(r->cod_actividad));
	set(o, "descActividad", jstr(r->desc_actividad));
	set(o, "nombreComercial", jstr(r->nombre_comercial));
	set(o, "direccion", address_json(r->direccion));
	set(o, "telefono", jstr(r->telefono));
	set(o, "correo", jstr(r->correo));
	*out = o;
	return 0;
}

/* FSE sujetoExcluido. */
static int sujeto_excluido(const struct dte_receptor *r, json_t **out, struct err *e)
{
	char num[24];
	int rc;
	json_t *o;

	*out = NULL;
	if (!r)
		return err_set(e, ERR_INVALID, "sujetoExcluido", "sujetoExcluido is required");
	if (!in_list(r->tipo_documento, receptor_doc_types))
		return err_set(e, ERR_INVALID, "sujetoExcluido.tipoDocumento",
			       "sujetoExcluido.tipoDocumento must be a CAT-022 code (36, 13, 02, 03, 37)");
	if (!r->direccion)
		return err_set(e, ERR_INVALID, "sujetoExcluido.direccion", "sujetoExcluido.direccion is required");
	if ((rc =
		 receptor_document(r->tipo_documento, r->num_documento, true, "sujetoExcluido.numDocumento", num, e)) ||
	    (rc = check_text(r->nombre, true, 1, 250, "sujetoExcluido.nombre", e)) ||
	    (rc = check_digits(r->cod_actividad, false, 2, 6, "sujetoExcluido.codActividad", e)) ||
	    (rc = check_text(r->desc_actividad, false, 1, 150, "sujetoExcluido.descActividad", e)) ||
	    (rc = check_address(r->direccion, "sujetoExcluido.direccion", 1, e)) ||
	    (rc = check_text(r->telefono, false, 8, 30, "sujetoExcluido.telefono", e)) ||
	    (rc = check_email(r->correo, false, "sujetoExcluido.correo", e)))
		return rc;
	o = json_object();
	set(o, "tipoDocumento", jstr(r->tipo_documento));
	set(o, "numDocumento", json_string(num));
	set(o, "nombre", jstr(r->nombre));
	set(o, "codActividad", jstr(r->cod_actividad));
	set(o, "descActividad", jstr(r->desc_actividad));
	set(o, "direccion", address_json(r->direccion));
	set(o, "telefono", jstr(r->telefono));
	set(o, "correo", jstr(r->correo));
	*out = o;
	return 0;
}

/* ---- related documents, otros, tercero, extension, apéndice ---- */

static int doc_rel_json(const struct dte_input *in, const struct dte_version_info *vi, json_t **out, struct err *e)
{
	char f[FIELD_LEN];
	json_t *arr;

	*out = NULL;
	if (in->ndoc_rel > 0 && !in->doc_rel)
		return err_set(e, ERR_INVALID, "documentoRelacionado", "documentoRelacionado is missing");
	if (vi->doc_rel_max == 0 && in->ndoc_rel > 0)
		return err_set(e, ERR_INVALID, "documentoRelacionado", "documentoRelacionado is not part of this type");
	if ((vi->fields & DTE_FS_DOC_REL_REQUIRED) && in->ndoc_rel == 0)
		return err_set(e, ERR_INVALID, "documentoRelacionado",
			       "documentoRelacionado is required: a note adjusts an earlier document");
	if (in->ndoc_rel > (size_t)vi->doc_rel_max)
		return err_set(e, ERR_INVALID, "documentoRelacionado", "documentoRelacionado has more than %d entries",
			       vi->doc_rel_max);
	for (size_t i = 0; i < in->ndoc_rel; i++) {
		const struct dte_doc_rel *d = &in->doc_rel[i];
		int rc;

		if (!in_words(d->tipo_documento, vi->doc_rel_types))
			return err_set(e, ERR_INVALID, fmt_field(f, "documentoRelacionado[%zu].tipoDocumento", i),
				       "documentoRelacionado[%zu].tipoDocumento must be one of %s", i,
				       vi->doc_rel_types);
		if (d->tipo_generacion == 2) {
			if (!upper_uuid(d->numero_documento))
				return err_set(e, ERR_INVALID,
					       fmt_field(f, "documentoRelacionado[%zu].numeroDocumento", i),
					       "an electronic related document is named by its upper-case "
					       "codigoGeneracion");
		} else if (d->tipo_generacion == 1) {
			if ((rc = check_text(d->numero_documento, true, 1, in->type == DTE_FE ? 20 : 36,
					     fmt_field(f, "documentoRelacionado[%zu].numeroDocumento", i), e)))
				return rc;
		} else {
			return err_set(e, ERR_INVALID, fmt_field(f, "documentoRelacionado[%zu].tipoGeneracion", i),
				       "documentoRelacionado[%zu].tipoGeneracion must be 1 (físico) or 2 (electrónico)",
				       i);
		}
		if (!d->fecha_emision || strlen(d->fecha_emision) != DATE_LEN || !date_valid(d->fecha_emision) ||
		    strcmp(d->fecha_emision, in->fec_emi) > 0)
			return err_set(e, ERR_INVALID, fmt_field(f, "documentoRelacionado[%zu].fechaEmision", i),
				       "documentoRelacionado[%zu].fechaEmision must be a date not after fecEmi", i);
	}
	if (in->ndoc_rel == 0) {
		*out = json_null();
		return 0;
	}
	arr = json_array();
	for (size_t i = 0; i < in->ndoc_rel; i++) {
		const struct dte_doc_rel *d = &in->doc_rel[i];
		json_t *o = json_object();

		set(o, "tipoDocumento", jstr(d->tipo_documento));
		set(o, "tipoGeneracion", json_integer(d->tipo_generacion));
		set(o, "numeroDocumento", jstr(d->numero_documento));
		set(o, "fechaEmision", jstr(d->fecha_emision));
		json_array_append_new(arr, o);
	}
	*out = arr;
	return 0;
}

static int otros_json(const struct dte_input *in, const struct dte_version_info *vi, json_t **out, struct err *e)
{
	char f[FIELD_LEN];
	json_t *arr;

	*out = NULL;
	if (in->notros > 0 && (!in->otros || !(vi->fields & DTE_FS_OTROS_DOCUMENTOS)))
		return err_set(e, ERR_INVALID, "otrosDocumentos", "otrosDocumentos is not part of this type");
	if (in->notros > 10)
		return err_set(e, ERR_INVALID, "otrosDocumentos", "otrosDocumentos has more than 10 entries");
	for (size_t i = 0; i < in->notros; i++) {
		const struct dte_otro_doc *d = &in->otros[i];
		int rc;

		if (d->cod_doc_asociado < 1 || d->cod_doc_asociado > 4)
			return err_set(e, ERR_INVALID, fmt_field(f, "otrosDocumentos[%zu].codDocAsociado", i),
				       "otrosDocumentos[%zu].codDocAsociado must be 1..4 (CAT-021)", i);
		if (d->cod_doc_asociado == 3) {
			const struct dte_medico *m = d->medico;

			if (!m)
				return err_set(e, ERR_INVALID, fmt_field(f, "otrosDocumentos[%zu].medico", i),
					       "otrosDocumentos[%zu].medico is required with codDocAsociado 3", i);
			if (d->desc_documento || d->detalle_documento)
				return err_set(e, ERR_INVALID, fmt_field(f, "otrosDocumentos[%zu].descDocumento", i),
					       "a médico entry has no descDocumento or detalleDocumento");
			if ((rc = check_text(m->nombre, true, 1, 100,
					     fmt_field(f, "otrosDocumentos[%zu].medico.nombre", i), e)) ||
			    (rc = check_nit(m->nit, false, false, fmt_field(f, "otrosDocumentos[%zu].medico.nit", i),
					    e)) ||
			    (rc = check_text(m->doc_identificacion, false, 2, 25,
					     fmt_field(f, "otrosDocumentos[%zu].medico.docIdentificacion", i), e)))
				return rc;
			if (!m->nit && !m->doc_identificacion)
				return err_set(e, ERR_INVALID, fmt_field(f, "otrosDocumentos[%zu].medico.nit", i),
					       "a médico needs a NIT or a docIdentificacion");
			if (m->tipo_servicio < 1 || m->tipo_servicio > 6)
				return err_set(e, ERR_INVALID,
					       fmt_field(f, "otrosDocumentos[%zu].medico.tipoServicio", i),
					       "otrosDocumentos[%zu].medico.tipoServicio must be 1..6 (CAT-010)", i);
		} else {
			if (d->medico)
				return err_set(e, ERR_INVALID, fmt_field(f, "otrosDocumentos[%zu].medico", i),
					       "medico goes with codDocAsociado 3 only");
			if ((rc = check_text(d->desc_documento, true, 1, 100,
					     fmt_field(f, "otrosDocumentos[%zu].descDocumento", i), e)) ||
			    (rc = check_text(d->detalle_documento, true, 1, 300,
					     fmt_field(f, "otrosDocumentos[%zu].detalleDocumento", i), e)))
				return rc;
		}
	}
	if (in->notros == 0) {
		*out = json_null();
		return 0;
	}
	arr = json_array();
	for (size_t i = 0; i < in->notros; i++) {
		const struct dte_otro_doc *d = &in->otros[i];
		json_t *o = json_object();

		set(o, "codDocAsociado", json_integer(d->cod_doc_asociado));
		set(o, "descDocumento", jstr(d->desc_documento));
		set(o, "detalleDocumento", jstr(d->detalle_documento));
		if (d->medico) {
			json_t *m = json_object();

			set(m, "nombre", jstr(d->medico->nombre));
			set(m, "nit", jstr(d->medico->nit));
			set(m, "docIdentificacion", jstr(d->medico->doc_identificacion));
			set(m, "tipoServicio", json_integer(d->medico->tipo_servicio));
			set(o, "medico", m);
		} else {
			set(o, "medico", json_null());
		}
		json_array_append_new(arr, o);
	}
	*out = arr;
	return 0;
}

static int tercero_json(const struct dte_input *in, const struct dte_version_info *vi, json_t **out, struct err *e)
{
	const struct dte_venta_tercero *t = in->venta_tercero;
	int rc;

	*out = NULL;
	if (!t) {
		*out = json_null();
		return 0;
	}
	if (!(vi->fields & DTE_FS_VENTA_TERCERO))
		return err_set(e, ERR_INVALID, "ventaTercero", "ventaTercero is not part of this type");
	if ((rc = check_nit(t->nit, true, false, "ventaTercero.nit", e)) ||
	    (rc = check_text(t->nombre, true, 3, 200, "ventaTercero.nombre", e)))
		return rc;
	*out = json_object();
	set(*out, "nit", jstr(t->nit));
	set(*out, "nombre", jstr(t->nombre));
	return 0;
}

static int extension_json(const struct dte_input *in, const struct dte_version_info *vi, json_t **out, struct err *e)
{
	const struct dte_extension *x = in->extension;
	int rc;

	*out = NULL;
	if (!x) {
		*out = json_null();
		return 0;
	}
	if (!(vi->fields & DTE_FS_EXTENSION))
		return err_set(e, ERR_INVALID, "extension", "extension is not part of this type");
	if (x->placa_vehiculo && !(vi->fields & DTE_FS_EXT_PLACA))
		return err_set(e, ERR_INVALID, "extension.placaVehiculo",
			       "extension.placaVehiculo is not part of this type");
	if ((rc = check_text(x->nomb_entrega, false, 5, 100, "extension.nombEntrega", e)) ||
	    (rc = check_text(x->docu_entrega, false, 5, 25, "extension.docuEntrega", e)) ||
	    (rc = check_text(x->nomb_recibe, false, 5, 100, "extension.nombRecibe", e)) ||
	    (rc = check_text(x->docu_recibe, false, 5, 25, "extension.docuRecibe", e)) ||
	    (rc = check_text(x->observaciones, false, 0, 3000, "extension.observaciones", e)) ||
	    (rc = check_text(x->placa_vehiculo, false, 2, 10, "extension.placaVehiculo", e)))
		return rc;
	*out = json_object();
	set(*out, "nombEntrega", jstr(x->nomb_entrega));
	set(*out, "docuEntrega", jstr(x->docu_entrega));
	set(*out, "nombRecibe", jstr(x->nomb_recibe));
	set(*out, "docuRecibe", jstr(x->docu_recibe));
	set(*out, "observaciones", jstr(x->observaciones));
	if (vi->fields & DTE_FS_EXT_PLACA)
		set(*out, "placaVehiculo", jstr(x->placa_vehiculo));
	return 0;
}

static int apendice_json(const struct dte_input *in, json_t **out, struct err *e)
{
	char f[FIELD_LEN];
	json_t *arr;

	*out = NULL;
	if (in->napendice > 0 && !in->apendice)
		return err_set(e, ERR_INVALID, "apendice", "apendice is missing");
	if (in->napendice > 10)
		return err_set(e, ERR_INVALID, "apendice", "apendice has more than 10 entries");
	for (size_t i = 0; i < in->napendice; i++) {
		const struct dte_apendice *a = &in->apendice[i];
		int rc;

		if ((rc = check_text(a->campo, true, 2, 25, fmt_field(f, "apendice[%zu].campo", i), e)) ||
		    (rc = check_text(a->etiqueta, true, 3, 50, fmt_field(f, "apendice[%zu].etiqueta", i), e)) ||
		    (rc = check_text(a->valor, true, 1, 150, fmt_field(f, "apendice[%zu].valor", i), e)))
			return rc;
	}
	if (in->napendice == 0) {
		*out = json_null();
		return 0;
	}
	arr = json_array();
	for (size_t i = 0; i < in->napendice; i++) {
		json_t *o = json_object();

		set(o, "campo", jstr(in->apendice[i].campo));
		set(o, "etiqueta", jstr(in->apendice[i].etiqueta));
		set(o, "valor", jstr(in->apendice[i].valor));
		json_array_append_new(arr, o);
	}
	*out = arr;
	return 0;
}

/* ---- items ---- */

/* CAT-014 units of measure (catalog v1.2). */
static bool uni_medida_valid(int u)
{
	static const int codes[] = {1,	2,  6,	9,  10, 13, 15, 18, 20, 22, 23, 24, 26, 30, 32, 33, 34, 36, 37, 38,
				    39, 40, 42, 43, 44, 45, 46, 47, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 99};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == u)
			return true;
	return false;
}

struct item_calc {
	int64_t venta_e8; /* after the line discount */
	int64_t iva_e8;	  /* FE ivaItem */
	const char *numero_documento;
};

/* Sums over the items, in 1e-8 units. */
struct item_sums {
	__int128 no_suj, exenta, gravada, descu, iva, no_gravado, compra;
};

static int check_amount(int64_t v, bool signed_ok, bool positive, const char *field, struct err *e)
{
	if ((positive && v <= 0) || (!signed_ok && v < 0))
		return err_set(e, ERR_INVALID, field, "%s must be %s", field,
			       positive ? "greater than 0" : "0 or more");
	if (v >= DTE_ITEM_MAX_E8 || v <= -DTE_ITEM_MAX_E8)
		return err_set(e, ERR_INVALID, field, "%s is too large", field);
	return 0;
}

static bool doc_rel_has(const struct dte_input *in, const char *numero)
{
	for (size_t i = 0; i < in->ndoc_rel; i++)
		if (in->doc_rel[i].numero_documento && strcmp(in->doc_rel[i].numero_documento, numero) == 0)
			return true;
	return false;
}

static int compute_items(const struct dte_input *in, const struct dte_version_info *vi, struct item_calc *calc,
			 struct item_sums *sums, struct err *e)
{
	unsigned fs = vi->fields;
	char f[FIELD_LEN];

	memset(sums, 0, sizeof(*sums));
	if (in->nitems == 0 || !in->items)
		return err_set(e, ERR_INVALID, "cuerpoDocumento", "cuerpoDocumento needs at least one item");
	if (in->nitems > DTE_MAX_ITEMS)
		return err_set(e, ERR_INVALID, "cuerpoDocumento", "cuerpoDocumento has more than %d items",
			       DTE_MAX_ITEMS);
	for (size_t i = 0; i < in->nitems; i++) {
		const struct dte_item *it = &in->items[i];
		struct item_calc *c = &calc[i];
		int uni = it->uni_medida ? it->uni_medida : 59;
		__int128 bruto;
		int rc;

		if (it->tipo_item < 1 || it->tipo_item > 3)
			return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].tipoItem", i),
				       "cuerpoDocumento[%zu].tipoItem must be 1 bienes, 2 servicios or 3 ambos "
				       "(4, otros tributos, is not issued by this engine)",
				       i);
		if (!uni_medida_valid(uni))
			return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].uniMedida", i),
				       "cuerpoDocumento[%zu].uniMedida is not a CAT-014 code", i);
		if ((rc = check_text(it->codigo, false, 1, 25, fmt_field(f, "cuerpoDocumento[%zu].codigo", i), e)) ||
		    (rc = check_text(it->descripcion, true, 1, 1000,
				     fmt_field(f, "cuerpoDocumento[%zu].descripcion", i), e)) ||
		    (rc = check_amount(it->cantidad_e8, false, true, fmt_field(f, "cuerpoDocumento[%zu].cantidad", i),
				       e)) ||
		    (rc = check_amount(it->precio_uni_e8, false, false,
				       fmt_field(f, "cuerpoDocumento[%zu].precioUni", i), e)) ||
		    (rc = check_amount(it->monto_descu_e8, false, false,
				       fmt_field(f, "cuerpoDocumento[%zu].montoDescu", i), e)) ||
		    (rc = check_amount(it->psv_e8, false, false, fmt_field(f, "cuerpoDocumento[%zu].psv", i), e)) ||
		    (rc = check_amount(it->no_gravado_e8, true, false,
				       fmt_field(f, "cuerpoDocumento[%zu].noGravado", i), e)))
			return rc;
		if (!(fs & DTE_FS_ITEM_PSV_NOGRAVADO) && (it->psv_e8 != 0 || it->no_gravado_e8 != 0))
			return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].noGravado", i),
				       "psv and noGravado are not part of this type");
		if (it->treatment != DTE_GRAVADA && it->treatment != DTE_EXENTA && it->treatment != DTE_NO_SUJETA)
			return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].ventaGravada", i),
				       "unknown tax treatment");

		bruto = div_round((__int128)it->cantidad_e8 * it->precio_uni_e8, DTE_E8);
		if (bruto >= DTE_ITEM_MAX_E8)
			return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].precioUni", i),
				       "cuerpoDocumento[%zu]: cantidad × precioUni is too large", i);
		if (it->monto_descu_e8 > bruto)
			return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].montoDescu", i),
				       "cuerpoDocumento[%zu].montoDescu is more than cantidad × precioUni", i);
		c->venta_e8 = (int64_t)bruto - it->monto_descu_e8;
		c->iva_e8 = 0;

		/* the related document of the line */
		c->numero_documento = it->numero_documento;
		if (fs & DTE_FS_SUJETO_EXCLUIDO) {
			if (it->numero_documento)
				return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].numeroDocumento", i),
					       "numeroDocumento is not part of this type");
		} else if (!c->numero_documento && (fs & DTE_FS_DOC_REL_REQUIRED)) {
			if (in->ndoc_rel != 1)
				return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].numeroDocumento", i),
					       "cuerpoDocumento[%zu].numeroDocumento must name the related document "
					       "it adjusts",
					       i);
			c->numero_documento = in->doc_rel[0].numero_documento;
		}
		if (c->numero_documento && !(fs & DTE_FS_SUJETO_EXCLUIDO) && !doc_rel_has(in, c->numero_documento))
			return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].numeroDocumento", i),
				       "cuerpoDocumento[%zu].numeroDocumento is not a documentoRelacionado", i);

		sums->descu += it->monto_descu_e8;
		sums->no_gravado += it->no_gravado_e8;
		if (fs & DTE_FS_SUJETO_EXCLUIDO) {
			sums->compra += c->venta_e8;
			continue;
		}
		switch (it->treatment) {
		case DTE_GRAVADA:
			sums->gravada += c->venta_e8;
			if (fs & DTE_FS_PRICES_WITH_IVA) {
				c->iva_e8 = iva_included_e8(c->venta_e8);
				sums->iva += c->iva_e8;
			}
			break;
		case DTE_EXENTA: sums->exenta += c->venta_e8; break;
		case DTE_NO_SUJETA: sums->no_suj += c->venta_e8; break;
		}
	}
	return 0;
}

static json_t *items_json(const struct dte_input *in, const struct dte_version_info *vi, const struct item_calc *calc)
{
	unsigned fs = vi->fields;
	json_t *arr = json_array();

	for (size_t i = 0; i < in->nitems; i++) {
		const struct dte_item *it = &in->items[i];
		const struct item_calc *c = &calc[i];
		json_t *o = json_object();
		int64_t gravada = 0, exenta = 0, no_suj = 0;

		if (!(fs & DTE_FS_SUJETO_EXCLUIDO)) {
			if (it->treatment == DTE_GRAVADA)
				gravada = c->venta_e8;
			else if (it->treatment == DTE_EXENTA)
				exenta = c->venta_e8;
			else
				no_suj = c->venta_e8;
		}
		set(o, "numItem", json_integer((json_int_t)i + 1));
		set(o, "tipoItem", json_integer(it->tipo_item));
		if (!(fs & DTE_FS_SUJETO_EXCLUIDO))
			set(o, "numeroDocumento", jstr(c->numero_documento));
		set(o, "cantidad", dec8(it->cantidad_e8));
		set(o, "codigo", jstr(it->codigo));
		if (!(fs & DTE_FS_SUJETO_EXCLUIDO))
			set(o, "codTributo", json_null());
		set(o, "uniMedida", json_integer(it->uni_medida ? it->uni_medida : 59));
		set(o, "descripcion", jstr(it->descripcion));
		set(o, "precioUni", dec8(it->precio_uni_e8));
		set(o, "montoDescu", dec8(it->monto_descu_e8));
		if (fs & DTE_FS_SUJETO_EXCLUIDO) {
			set(o, "compra", dec8(c->venta_e8));
			json_array_append_new(arr, o);
			continue;
		}
		set(o, "ventaNoSuj", dec8(no_suj));
		set(o, "ventaExenta", dec8(exenta));
		set(o, "ventaGravada", dec8(gravada));
		if ((fs & DTE_FS_IVA_TRIBUTO) && gravada > 0) {
			json_t *t = json_array();

			json_array_append_new(t, json_string("20"));
			set(o, "tributos", t);
		} else {
			set(o, "tributos", json_null());
		}
		if (fs & DTE_FS_ITEM_PSV_NOGRAVADO) {
			set(o, "psv", dec8(it->psv_e8));
			set(o, "noGravado", dec8(it->no_gravado_e8));
		}
		if (fs & DTE_FS_PRICES_WITH_IVA)
			set(o, "ivaItem", dec8(c->iva_e8));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* ---- resumen ---- */

static const char *const pago_codes[] = {"01", "02", "03", "04", "05", "08", "09", "11", "12", "13", "14", "99", NULL};
static const char *const plazo_codes[] = {"01", "02", "03", NULL};

static int check_cents(int64_t v, const char *field, struct err *e)
{
	if (v < 0)
		return err_set(e, ERR_INVALID, field, "%s must be 0 or more", field);
	if (v >= DTE_RESUMEN_MAX_CENTS)
		return err_set(e, ERR_INVALID, field, "%s is too large", field);
	return 0;
}

/* Totals of the document (cents) and the pagos with `rest` resolved. */
struct resumen_calc {
	int64_t total_no_suj, total_exenta, total_gravada, sub_total_ventas;
	int64_t descu_global, total_descu, porcentaje, sub_total, iva;
	int64_t monto_total, total_no_gravado, total_pagar, letras_amount;
	int condicion;
	int64_t *pago_cents; /* owned, npagos entries */
};

static int compute_resumen(const struct dte_input *in, const struct dte_version_info *vi, const struct item_sums *s,
			   struct resumen_calc *r, struct err *e)
{
	unsigned fs = vi->fields;
	bool fse = fs & DTE_FS_SUJETO_EXCLUIDO;
	bool pays = fse || (fs & DTE_FS_RESUMEN_PAGO);
	char f[FIELD_LEN];
	int64_t sum_pagos = 0;
	int nrest = 0, rc;

	if ((rc = check_cents(in->descu_no_suj_cents, "resumen.descuNoSuj", e)) ||
	    (rc = check_cents(in->descu_exenta_cents, "resumen.descuExenta", e)) ||
	    (rc = check_cents(in->descu_gravada_cents, "resumen.descuGravada", e)) ||
	    (rc = check_cents(in->descu_cents, "resumen.descu", e)) ||
	    (rc = check_cents(in->iva_perci1_cents, "resumen.ivaPerci1", e)) ||
	    (rc = check_cents(in->iva_rete1_cents, "resumen.ivaRete1", e)) ||
	    (rc = check_cents(in->rete_renta_cents, "resumen.reteRenta", e)))
		return rc;
	r->condicion = in->condicion_operacion ? in->condicion_operacion : 1;
	if (r->condicion < 1 || r->condicion > 3)
		return err_set(e, ERR_INVALID, "resumen.condicionOperacion",
			       "resumen.condicionOperacion must be 1 contado, 2 crédito or 3 otro");
	if (in->iva_perci1_cents && !(fs & DTE_FS_IVA_PERCI))
		return err_set(e, ERR_INVALID, "resumen.ivaPerci1", "resumen.ivaPerci1 is not part of this type");
	if (fse && (in->descu_no_suj_cents || in->descu_exenta_cents || in->descu_gravada_cents))
		return err_set(e, ERR_INVALID, "resumen.descu", "a Sujeto Excluido document has one discount: descu");
	if (!fse && in->descu_cents)
		return err_set(e, ERR_INVALID, "resumen.descu",
			       "resumen.descu is the Sujeto Excluido discount; use descuGravada/Exenta/NoSuj");
	if (in->observaciones && !fse)
		return err_set(e, ERR_INVALID, "resumen.observaciones",
			       "resumen.observaciones is part of a Sujeto Excluido document only (see extension)");
	if ((rc = check_text(in->observaciones, false, 0, 3000, "resumen.observaciones", e)))
		return rc;
	if (in->num_pago_electronico && !(fs & DTE_FS_NUM_PAGO_ELEC))
		return err_set(e, ERR_INVALID, "resumen.numPagoElectronico",
			       "resumen.numPagoElectronico is not part of this type");
	if ((rc = check_text(in->num_pago_electronico, false, 0, 100, "resumen.numPagoElectronico", e)))
		return rc;

	r->total_no_gravado = e8_to_cents(s->no_gravado);
	r->total_descu = e8_to_cents(s->descu);
	if (fse) {
		r->sub_total_ventas = e8_to_cents(s->compra); /* totalCompra */
		if (in->descu_cents > r->sub_total_ventas)
			return err_set(e, ERR_INVALID, "resumen.descu", "resumen.descu is more than totalCompra");
		r->descu_global = in->descu_cents;
		r->sub_total = r->sub_total_ventas - r->descu_global;
		r->monto_total = r->sub_total_ventas;
		r->total_pagar = r->sub_total - in->iva_rete1_cents - in->rete_renta_cents;
	} else {
		r->total_no_suj = e8_to_cents(s->no_suj);
		r->total_exenta = e8_to_cents(s->exenta);
		r->total_gravada = e8_to_cents(s->gravada);
		r->sub_total_ventas = r->total_no_suj + r->total_exenta + r->total_gravada;
		if (in->descu_no_suj_cents > r->total_no_suj)
			return err_set(e, ERR_INVALID, "resumen.descuNoSuj",
				       "resumen.descuNoSuj is more than totalNoSuj");
		if (in->descu_exenta_cents > r->total_exenta)
			return err_set(e, ERR_INVALID, "resumen.descuExenta",
				       "resumen.descuExenta is more than totalExenta");
		if (in->descu_gravada_cents > r->total_gravada)
			return err_set(e, ERR_INVALID, "resumen.descuGravada",
				       "resumen.descuGravada is more than totalGravada");
		r->descu_global = in->descu_no_suj_cents + in->descu_exenta_cents + in->descu_gravada_cents;
		r->sub_total = r->sub_total_ventas - r->descu_global;
		r->porcentaje = r->sub_total_ventas > 0
				    ? (int64_t)div_round((__int128)r->descu_global * 10000, r->sub_total_ventas)
				    : 0;
		if (fs & DTE_FS_PRICES_WITH_IVA)
			r->iva = e8_to_cents(s->iva - iva_included_e8(in->descu_gravada_cents * E8_PER_CENT));
		else if (fs & DTE_FS_IVA_TRIBUTO)
			r->iva = iva_added_cents(r->total_gravada - in->descu_gravada_cents);
		if (r->total_gravada == 0 && (in->iva_rete1_cents || in->iva_perci1_cents))
			return err_set(e, ERR_INVALID, "resumen.ivaRete1",
				       "IVA retenido or percibido needs taxable sales (totalGravada > 0)");
		r->monto_total = r->sub_total + ((fs & DTE_FS_IVA_TRIBUTO) ? r->iva : 0);
		r->total_pagar = r->monto_total + in->iva_perci1_cents - in->iva_rete1_cents - in->rete_renta_cents +
				 r->total_no_gravado;
		if (!(fs & DTE_FS_RESUMEN_PAGO))
			r->total_pagar = r->monto_total;
	}
	r->total_descu += r->descu_global;

	/* the limits of every resumen amount */
	{
		const struct {
			const char *name;
			int64_t v;
		} all[] = {
		    {"resumen.subTotalVentas", r->sub_total_ventas},
		    {"resumen.totalDescu", r->total_descu},
		    {"resumen.montoTotalOperacion", r->monto_total},
		    {"resumen.totalPagar", r->total_pagar},
		    {"resumen.totalNoGravado", r->total_no_gravado < 0 ? -r->total_no_gravado : r->total_no_gravado},
		};

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if ((rc = check_cents(all[i].v, all[i].name, e)))
				return rc;
	}
	if (!fse && (fs & DTE_FS_IVA_TRIBUTO) && r->monto_total <= 0)
		return err_set(e, ERR_INVALID, "resumen.montoTotalOperacion",
			       "resumen.montoTotalOperacion must be greater than 0 for this type");
	if ((fs & DTE_FS_RECEPTOR_NULLABLE) && r->monto_total >= 109500 &&
	    (!in->receptor || !in->receptor->tipo_documento || !in->receptor->num_documento || !in->receptor->nombre))
		return err_set(e, ERR_INVALID, "receptor",
			       "a Factura of 1,095.00 or more needs the receptor's tipoDocumento, numDocumento and "
			       "nombre");
	if ((fs & DTE_FS_IVA_TRIBUTO) && (fs & DTE_FS_RESUMEN_PAGO) && r->total_pagar == 0 && r->condicion != 1)
		return err_set(e, ERR_INVALID, "resumen.condicionOperacion",
			       "a document with nothing to pay is contado (condicionOperacion 1)");
	r->letras_amount = r->total_pagar;

	/* pagos */
	if (in->npagos > 0 && (!in->pagos || !pays))
		return err_set(e, ERR_INVALID, "resumen.pagos", "resumen.pagos is not part of this type");
	if (in->npagos > 20)
		return err_set(e, ERR_INVALID, "resumen.pagos", "resumen.pagos has more than 20 entries");
	r->pago_cents = in->npagos ? xcalloc(in->npagos, sizeof(int64_t)) : NULL;
	for (size_t i = 0; i < in->npagos; i++) {
		const struct dte_pago *p = &in->pagos[i];

		if (!in_list(p->codigo, pago_codes))
			return err_set(e, ERR_INVALID, fmt_field(f, "resumen.pagos[%zu].codigo", i),
				       "resumen.pagos[%zu].codigo must be a CAT-017 code", i);
		if ((rc = check_text(p->referencia, false, 0, 50, fmt_field(f, "resumen.pagos[%zu].referencia", i), e)))
			return rc;
		if (p->plazo && !in_list(p->plazo, plazo_codes))
			return err_set(e, ERR_INVALID, fmt_field(f, "resumen.pagos[%zu].plazo", i),
				       "resumen.pagos[%zu].plazo must be 01 días, 02 meses or 03 años", i);
		if (p->plazo && p->periodo <= 0)
			return err_set(e, ERR_INVALID, fmt_field(f, "resumen.pagos[%zu].periodo", i),
				       "resumen.pagos[%zu].periodo must be greater than 0 with a plazo", i);
		if (r->condicion == 2 && !p->plazo)
			return err_set(e, ERR_INVALID, fmt_field(f, "resumen.pagos[%zu].plazo", i),
				       "a credit sale states the plazo and periodo of each pago");
		if (p->rest) {
			if (++nrest > 1)
				return err_set(e, ERR_INVALID, fmt_field(f, "resumen.pagos[%zu].montoPago", i),
					       "only one pago can take the rest of totalPagar");
			continue;
		}
		if ((rc = check_cents(p->monto_cents, fmt_field(f, "resumen.pagos[%zu].montoPago", i), e)))
			return rc;
		r->pago_cents[i] = p->monto_cents;
		sum_pagos += p->monto_cents;
	}
	if (sum_pagos > r->total_pagar)
		return err_set(e, ERR_INVALID, "resumen.pagos", "resumen.pagos add up to more than totalPagar");
	for (size_t i = 0; i < in->npagos; i++)
		if (in->pagos[i].rest) {
			r->pago_cents[i] = r->total_pagar - sum_pagos;
			sum_pagos = r->total_pagar;
		}
	if (in->npagos > 0 && r->condicion == 1 && sum_pagos != r->total_pagar)
		return err_set(e, ERR_INVALID, "resumen.pagos",
			       "resumen.pagos of a contado sale must add up to totalPagar");
	return 0;
}

static json_t *pagos_json(const struct dte_input *in, const struct resumen_calc *r)
{
	json_t *arr;

	if (in->npagos == 0)
		return json_null();
	arr = json_array();
	for (size_t i = 0; i < in->npagos; i++) {
		const struct dte_pago *p = &in->pagos[i];
		json_t *o = json_object();

		set(o, "codigo", jstr(p->codigo));
		set(o, "montoPago", dec2(r->pago_cents[i]));
		set(o, "referencia", jstr(p->referencia));
		set(o, "plazo", jstr(p->plazo));
		set(o, "periodo", p->plazo ? json_integer(p->periodo) : json_null());
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *resumen_json(const struct dte_input *in, const struct dte_version_info *vi, const struct resumen_calc *r,
			    const char *letras)
{
	unsigned fs = vi->fields;
	json_t *o = json_object();

	if (fs & DTE_FS_SUJETO_EXCLUIDO) {
		set(o, "totalCompra", dec2(r->sub_total_ventas));
		set(o, "descu", dec2(r->descu_global));
		set(o, "totalDescu", dec2(r->total_descu));
		set(o, "subTotal", dec2(r->sub_total));
		set(o, "ivaRete1", dec2(in->iva_rete1_cents));
		set(o, "reteRenta", dec2(in->rete_renta_cents));
		set(o, "totalPagar", dec2(r->total_pagar));
		set(o, "totalLetras", json_string(letras));
		set(o, "condicionOperacion", json_integer(r->condicion));
		set(o, "pagos", pagos_json(in, r));
		set(o, "observaciones", jstr(in->observaciones));
		return o;
	}
	set(o, "totalNoSuj", dec2(r->total_no_suj));
	set(o, "totalExenta", dec2(r->total_exenta));
	set(o, "totalGravada", dec2(r->total_gravada));
	set(o, "subTotalVentas", dec2(r->sub_total_ventas));
	set(o, "descuNoSuj", dec2(in->descu_no_suj_cents));
	set(o, "descuExenta", dec2(in->descu_exenta_cents));
	set(o, "descuGravada", dec2(in->descu_gravada_cents));
	if (fs & DTE_FS_RESUMEN_PAGO)
		set(o, "porcentajeDescuento", dec2(r->porcentaje));
	set(o, "totalDescu", dec2(r->total_descu));
	if ((fs & DTE_FS_IVA_TRIBUTO) && r->total_gravada > 0) {
		json_t *arr = json_array(), *t = json_object();

		set(t, "codigo", json_string("20"));
		set(t, "descripcion", json_string("Impuesto al Valor Agregado 13%"));
		set(t, "valor", dec2(r->iva));
		json_array_append_new(arr, t);
		set(o, "tributos", arr);
	} else {
		set(o, "tributos", json_null());
	}
	set(o, "subTotal", dec2(r->sub_total));
	if (fs & DTE_FS_IVA_PERCI)
		set(o, "ivaPerci1", dec2(in->iva_perci1_cents));
	set(o, "ivaRete1", dec2(in->iva_rete1_cents));
	set(o, "reteRenta", dec2(in->rete_renta_cents));
	set(o, "montoTotalOperacion", dec2(r->monto_total));
	if (fs & DTE_FS_RESUMEN_PAGO) {
		set(o, "totalNoGravado", dec2(r->total_no_gravado));
		set(o, "totalPagar", dec2(r->total_pagar));
	}
	set(o, "totalLetras", json_string(letras));
	if (fs & DTE_FS_PRICES_WITH_IVA)
		set(o, "totalIva", dec2(r->iva));
	if (fs & DTE_FS_RESUMEN_PAGO)
		set(o, "saldoFavor", dec2(0));
	set(o, "condicionOperacion", json_integer(r->condicion));
	if (fs & DTE_FS_RESUMEN_PAGO)
		set(o, "pagos", pagos_json(in, r));
	if (fs & DTE_FS_NUM_PAGO_ELEC)
		set(o, "numPagoElectronico", jstr(in->num_pago_electronico));
	return o;
}

/* ---- the document ---- */

static json_t *identificacion_json(const struct dte_input *in, const struct dte_version_info *vi)
{
	json_t *o = json_object();
	bool contingency = in->tipo_contingencia != 0;

	set(o, "version", json_integer(vi->version));
	set(o, "ambiente", jstr(in->ambiente));
	set(o, "tipoDte", json_string(dte_type_code(in->type)));
	set(o, "numeroControl", jstr(in->numero_control));
	set(o, "codigoGeneracion", jstr(in->codigo_generacion));
	set(o, "tipoModelo", json_integer(contingency ? 2 : 1));
	set(o, "tipoOperacion", json_integer(contingency ? 2 : 1));
	set(o, "tipoContingencia", contingency ? json_integer(in->tipo_contingencia) : json_null());
	set(o, "motivoContin", jstr(in->motivo_contin));
	set(o, "fecEmi", jstr(in->fec_emi));
	set(o, "horEmi", jstr(in->hor_emi));
	set(o, "tipoMoneda", json_string("USD"));
	return o;
}

int dte_build(const struct dte_input *in, json_t **out, struct dte_totals *totals, struct err *e)
{
	const struct dte_version_info *vi;
	struct item_calc *calc = NULL;
	struct item_sums sums;
	struct resumen_calc r;
	char letras[DTE_LETRAS_MAX];
	json_t *doc = NULL, *doc_rel = NULL, *receptor = NULL, *otros = NULL, *tercero = NULL, *ext = NULL,
	       *apendice = NULL;
	unsigned fs;
	int rc;

	memset(&r, 0, sizeof(r));
	*out = NULL;
	if (!dte_type_code(in->type))
		return err_set(e, ERR_INVALID, "identificacion.tipoDte",
			       "identificacion.tipoDte must be 01, 03, 05, 06 or 14");
	vi = dte_version_find(in->type, in->version);
	if (!vi)
		return err_set(e, ERR_INVALID, "identificacion.version",
			       "identificacion.version %d is not supported for tipoDte %s", in->version,
			       dte_type_code(in->type));
	fs = vi->fields;
	if ((rc = check_identificacion(in, vi, e)) || (rc = check_emisor(in->emisor, vi, e)))
		goto out;
	if (fs & DTE_FS_SUJETO_EXCLUIDO)
		rc = sujeto_excluido(in->receptor, &receptor, e);
	else if (fs & DTE_FS_RECEPTOR_NULLABLE)
		rc = receptor_fe(in->receptor, &receptor, e);
	else
		rc = receptor_contribuyente(in->receptor, &receptor, e);
	if (rc || (rc = doc_rel_json(in, vi, &doc_rel, e)) || (rc = otros_json(in, vi, &otros, e)) ||
	    (rc = tercero_json(in, vi, &tercero, e)) || (rc = extension_json(in, vi, &ext, e)) ||
	    (rc = apendice_json(in, &apendice, e)))
		goto out;

	if (in->nitems == 0 || !in->items || in->nitems > DTE_MAX_ITEMS) {
		rc = err_set(e, ERR_INVALID, "cuerpoDocumento", "cuerpoDocumento needs 1 to %d items", DTE_MAX_ITEMS);
		goto out;
	}
	calc = xcalloc(in->nitems, sizeof(*calc));
	if ((rc = compute_items(in, vi, calc, &sums, e)) || (rc = compute_resumen(in, vi, &sums, &r, e)) ||
	    (rc = dte_amount_words(r.letras_amount, letras, sizeof(letras), e)))
		goto out;

	doc = json_object();
	set(doc, "identificacion", identificacion_json(in, vi));
	if (vi->doc_rel_max > 0) {
		set(doc, "documentoRelacionado", doc_rel);
		doc_rel = NULL;
	}
	set(doc, "emisor", emisor_json(in->emisor, fs));
	set(doc, (fs & DTE_FS_SUJETO_EXCLUIDO) ? "sujetoExcluido" : "receptor", receptor);
	receptor = NULL;
	if (fs & DTE_FS_OTROS_DOCUMENTOS) {
		set(doc, "otrosDocumentos", otros);
		otros = NULL;
	}
	if (fs & DTE_FS_VENTA_TERCERO) {
		set(doc, "ventaTercero", tercero);
		tercero = NULL;
	}
	set(doc, "cuerpoDocumento", items_json(in, vi, calc));
	set(doc, "resumen", resumen_json(in, vi, &r, letras));
	if (fs & DTE_FS_EXTENSION) {
		set(doc, "extension", ext);
		ext = NULL;
	}
	set(doc, "apendice", apendice);
	apendice = NULL;

	if (totals) {
		memset(totals, 0, sizeof(*totals));
		totals->version = vi;
		totals->total_no_suj_cents = r.total_no_suj;
		totals->total_exenta_cents = r.total_exenta;
		totals->total_gravada_cents = r.total_gravada;
		totals->sub_total_ventas_cents = r.sub_total_ventas;
		totals->total_descu_cents = r.total_descu;
		totals->sub_total_cents = r.sub_total;
		totals->iva_cents = r.iva;
		totals->monto_total_operacion_cents = r.monto_total;
		totals->total_no_gravado_cents = r.total_no_gravado;
		totals->total_pagar_cents = r.total_pagar;
		snprintf(totals->total_letras, sizeof(totals->total_letras), "%s", letras);
	}
	*out = doc;
	rc = 0;
out:
	json_decref(doc_rel);
	json_decref(receptor);
	json_decref(otros);
	json_decref(tercero);
	json_decref(ext);
	json_decref(apendice);
	free(calc);
	free(r.pago_cents);
	return rc;
}

/* ---- exact JSON ---- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;

		while (b->len + n + 1 > cap)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* value / 10^scale as decimal text, trailing fraction zeros trimmed, into
 * buf (>= 32 bytes). */
static void decimal_text(int64_t value, int scale, char *buf, size_t len)
{
	uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
	uint64_t div = 1;
	char frac[24];
	int n;

	for (int i = 0; i < scale; i++)
		div *= 10;
	n = snprintf(frac, sizeof(frac), "%0*llu", scale, (unsigned long long)(mag % div));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(buf, len, "%s%llu%s%s", value < 0 ? "-" : "", (unsigned long long)(mag / div), n ? "." : "", frac);
}

json_t *dte_json_decimal(int64_t value, int scale)
{
	char buf[40];

	if (scale < 0)
		scale = 0;
	if (scale > 8)
		scale = 8;
	buf[0] = DEC_MARK;
	decimal_text(value, scale, buf + 1, sizeof(buf) - 1);
	return json_string(buf);
}

/* Plain decimal text: -?digits(.digits)?, no exponent. */
static bool plain_decimal(const char *s)
{
	bool digits = false, dot = false;

	if (*s == '-')
		s++;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			digits = true;
		} else if (*s == '.' && !dot && digits) {
			dot = true;
			if (!(s[1] >= '0' && s[1] <= '9'))
				return false;
		} else {
			return false;
		}
	}
	return digits;
}

const char *dte_json_decimal_text(const json_t *v)
{
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	if (s[0] != DEC_MARK || !plain_decimal(s + 1))
		return NULL;
	return s + 1;
}

int dte_json_number(const json_t *v, int scale, int64_t *out, const char *field, struct err *e)
{
	const char *text = dte_json_decimal_text(v);

	if (json_is_integer(v)) {
		int64_t x = json_integer_value(v);
		__int128 y = x;

		for (int i = 0; i < scale; i++)
			y *= 10;
		if (y > INT64_MAX || y < INT64_MIN)
			return err_set(e, ERR_INVALID, field, "%s is too large", field);
		*out = (int64_t)y;
		return 0;
	}
	if (!text)
		return err_set(e, ERR_INVALID, field, "%s must be a number", field);
	return money_parse(text, scale, out, field, e);
}

static void dump_string(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	sb_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x20) {
				u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15];
				u[6] = '\0';
				esc = u;
			}
		}
		if (!esc) {
			run++;
			continue;
		}
		sb_put(b, s + i - run, run);
		run = 0;
		sb_str(b, esc);
	}
	sb_put(b, s + n - run, run);
	sb_put(b, "\"", 1);
}

static int dump_value(struct sbuf *b, const json_t *v, int depth, struct err *e)
{
	char num[32];

	if (depth > MAX_DEPTH)
		return err_set(e, ERR_INVALID, "", "document nested too deeply");
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		bool first = true;

		sb_put(b, "{", 1);
		json_object_foreach((json_t *)v, key, val)
		{
			int rc;

			if (!first)
				sb_put(b, ",", 1);
			first = false;
			dump_string(b, key, strlen(key));
			sb_put(b, ":", 1);
			if ((rc = dump_value(b, val, depth + 1, e)))
				return rc;
		}
		sb_put(b, "}", 1);
		return 0;
	}
	case JSON_ARRAY:
		sb_put(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			int rc;

			if (i)
				sb_put(b, ",", 1);
			if ((rc = dump_value(b, json_array_get(v, i), depth + 1, e)))
				return rc;
		}
		sb_put(b, "]", 1);
		return 0;
	case JSON_STRING: {
		const char *text = dte_json_decimal_text(v);

		if (text)
			sb_str(b, text);
		else
			dump_string(b, json_string_value(v), json_string_length(v));
		return 0;
	}
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		sb_str(b, num);
		return 0;
	case JSON_REAL: return err_set(e, ERR_INTERNAL, "", "a binary floating-point number in a DTE");
	case JSON_TRUE: sb_str(b, "true"); return 0;
	case JSON_FALSE: sb_str(b, "false"); return 0;
	case JSON_NULL: sb_str(b, "null"); return 0;
	}
	return err_set(e, ERR_INTERNAL, "", "unknown JSON value");
}

int dte_json_dump(const json_t *doc, char **out, struct err *e)
{
	struct sbuf b = {NULL, 0, 0};
	int rc;

	*out = NULL;
	if (!doc)
		return err_set(e, ERR_INTERNAL, "", "no document to print");
	if ((rc = dump_value(&b, doc, 0, e))) {
		free(b.p);
		return rc;
	}
	*out = b.p;
	return 0;
}

/* Length of a JSON number at s (RFC 8259 grammar), 0 when none. */
static size_t number_len(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
	} else {
		return 0;
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return (size_t)(p - s);
}

/* A valid JSON number token with a fraction or exponent -> plain decimal
 * text (no exponent, no trailing fraction zeros) into out[len]. */
static int number_plain(const char *tok, size_t n, char *out, size_t len)
{
	char digits[128];
	size_t nd = 0, i = 0;
	long point = 0, exp = 0;
	bool neg = false, seen_point = false;
	struct sbuf b = {NULL, 0, 0};

	if (tok[0] == '-')
		neg = true, i++;
	for (; i < n && tok[i] != 'e' && tok[i] != 'E'; i++) {
		if (tok[i] == '.') {
			seen_point = true;
			continue;
		}
		if (nd + 1 >= sizeof(digits))
			return -1;
		digits[nd++] = tok[i];
		if (!seen_point)
			point++;
	}
	if (i < n) {
		long sign = 1;

		i++;
		if (tok[i] == '+' || tok[i] == '-')
			sign = tok[i++] == '-' ? -1 : 1;
		for (; i < n; i++) {
			exp = exp * 10 + (tok[i] - '0');
			if (exp > 64)
				return -1;
		}
		exp *= sign;
	}
	point += exp;
	/* strip leading zeros of the digit string */
	while (nd > 0 && digits[0] == '0') {
		memmove(digits, digits + 1, --nd);
		point--;
	}
	while (nd > 0 && digits[nd - 1] == '0')
		nd--;
	if (nd == 0) {
		snprintf(out, len, "0");
		return 0;
	}
	if (neg)
		sb_str(&b, "-");
	if (point <= 0) {
		sb_str(&b, "0.");
		for (long k = point; k < 0; k++)
			sb_str(&b, "0");
		sb_put(&b, digits, nd);
	} else if ((size_t)point >= nd) {
		sb_put(&b, digits, nd);
		for (size_t k = nd; k < (size_t)point; k++)
			sb_str(&b, "0");
	} else {
		sb_put(&b, digits, (size_t)point);
		sb_str(&b, ".");
		sb_put(&b, digits + point, nd - (size_t)point);
	}
	if (b.len + 1 > len) {
		free(b.p);
		return -1;
	}
	memcpy(out, b.p, b.len + 1);
	free(b.p);
	return 0;
}

int dte_json_load(const char *text, json_t **out, struct err *e)
{
	struct sbuf b = {NULL, 0, 0};
	json_error_t jerr;
	json_t *doc;
	bool in_string = false;

	*out = NULL;
	if (!text)
		return err_set(e, ERR_INVALID, "", "no document text");
	for (const char *p = text; *p;) {
		if (in_string) {
			if (*p == '\\' && p[1]) {
				sb_put(&b, p, 2);
				p += 2;
				continue;
			}
			if (*p == '"')
				in_string = false;
			sb_put(&b, p, 1);
			p++;
			continue;
		}
		if (*p == '"') {
			if (strncmp(p + 1, "\\u001f", 6) == 0 || strncmp(p + 1, "\\u001F", 6) == 0) {
				free(b.p);
				return err_set(e, ERR_INVALID, "", "a string starts with U+001F");
			}
			in_string = true;
			sb_put(&b, p, 1);
			p++;
			continue;
		}
		if (*p == '-' || (*p >= '0' && *p <= '9')) {
			size_t n = number_len(p);
			char plain[96];

			if (n == 0) {
				free(b.p);
				return err_set(e, ERR_INVALID, "", "the document is not valid JSON (a bad number)");
			}
			if (memchr(p, '.', n) || memchr(p, 'e', n) || memchr(p, 'E', n)) {
				if (number_plain(p, n, plain, sizeof(plain)) != 0) {
					free(b.p);
					return err_set(e, ERR_INVALID, "", "a number of the document is out of range");
				}
				sb_str(&b, "\"\\u001f");
				sb_str(&b, plain);
				sb_str(&b, "\"");
			} else {
				sb_put(&b, p, n);
			}
			p += n;
			continue;
		}
		sb_put(&b, p, 1);
		p++;
	}
	doc = b.p ? json_loads(b.p, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	free(b.p);
	if (!doc)
		return err_set(e, ERR_INVALID, "", "the document is not valid JSON");
	if (!json_is_object(doc)) {
		json_decref(doc);
		return err_set(e, ERR_INVALID, "", "the document is not a JSON object");
	}
	*out = doc;
	return 0;
}

int dte_json_delivered(const char *doc_text, const char *jws, const char *sello, char **out, struct err *e)
{
	struct sbuf b = {NULL, 0, 0};
	json_t *doc;
	size_t n;
	bool empty;
	int rc;

	*out = NULL;
	if ((rc = dte_json_load(doc_text, &doc, e)))
		return rc;
	empty = json_object_size(doc) == 0;
	if (json_object_get(doc, "firmaElectronica") || json_object_get(doc, "selloRecibido")) {
		json_decref(doc);
		return err_set(e, ERR_INVALID, "firmaElectronica", "the document already carries its signature");
	}
	json_decref(doc);
	if (!jws || text_chars(jws) < 0 || (sello && text_chars(sello) < 0))
		return err_set(e, ERR_INVALID, "firmaElectronica", "a signature is required");
	n = strlen(doc_text);
	while (n > 0 && (doc_text[n - 1] == ' ' || doc_text[n - 1] == '\n' || doc_text[n - 1] == '\r' ||
			 doc_text[n - 1] == '\t'))
		n--;
	/* dte_json_load accepted an object, so the last character is its '}' */
	sb_put(&b, doc_text, n - 1);
	if (!empty)
		sb_put(&b, ",", 1);
	sb_str(&b, "\"firmaElectronica\":");
	dump_string(&b, jws, strlen(jws));
	sb_str(&b, ",\"selloRecibido\":");
	if (sello)
		dump_string(&b, sello, strlen(sello));
	else
		sb_str(&b, "null");
	sb_put(&b, "}", 1);
	*out = b.p;
	return 0;
}

/* ---- dte_verify ---- */

struct verify {
	bool strict;
	struct err *e;
	char f[FIELD_LEN];
};

static const json_t *get(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static int num(struct verify *v, const json_t *o, const char *key, int scale, int64_t *out, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int num(struct verify *v, const json_t *o, const char *key, int scale, int64_t *out, const char *fmt, ...)
{
	va_list ap;
	char prefix[FIELD_LEN];

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(v->f, sizeof(v->f), "%s%s%s", prefix, *prefix ? "." : "", key);
	return dte_json_number(get(o, key), scale, out, v->f, v->e);
}

/* stated vs recomputed; tolerance 0 when strict, else one cent (in units of
 * the scale). */
static int same(struct verify *v, int64_t stated, int64_t want, int scale, const char *field)
{
	int64_t tol = v->strict ? 0 : (scale == 8 ? E8_PER_CENT : 1);
	int64_t d = stated - want;
	char w[40];

	if (d <= tol && d >= -tol)
		return 0;
	decimal_text(want, scale, w, sizeof(w));
	return err_set(v->e, ERR_INVALID, field, "%s should be %s", field, w);
}

static bool has_code(const json_t *arr, const char *code)
{
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (json_is_string(json_array_get(arr, i)) &&
		    strcmp(json_string_value(json_array_get(arr, i)), code) == 0)
			return true;
	return false;
}

static int verify_items(struct verify *v, const json_t *doc, unsigned fs, struct item_sums *s)
{
	const json_t *items = get(doc, "cuerpoDocumento"), *rel = get(doc, "documentoRelacionado");
	struct err *e = v->e;
	char f[FIELD_LEN];
	int rc;

	memset(s, 0, sizeof(*s));
	if (!json_is_array(items) || json_array_size(items) == 0)
		return err_set(e, ERR_INVALID, "cuerpoDocumento", "cuerpoDocumento needs at least one item");
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *it = json_array_get(items, i);
		int64_t cantidad = 0, precio = 0, descu = 0, venta = 0, bruto, ns = 0, ex = 0, gr = 0, iva = 0,
			nograv = 0;

		if (json_integer_value(get(it, "numItem")) != (json_int_t)i + 1)
			return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].numItem", i),
				       "cuerpoDocumento[%zu].numItem should be %zu", i, i + 1);
		if ((rc = num(v, it, "cantidad", 8, &cantidad, "cuerpoDocumento[%zu]", i)) ||
		    (rc = num(v, it, "precioUni", 8, &precio, "cuerpoDocumento[%zu]", i)) ||
		    (rc = num(v, it, "montoDescu", 8, &descu, "cuerpoDocumento[%zu]", i)))
			return rc;
		bruto = mul_e8(cantidad, precio);
		s->descu += descu;
		if (fs & DTE_FS_SUJETO_EXCLUIDO) {
			if ((rc = num(v, it, "compra", 8, &venta, "cuerpoDocumento[%zu]", i)) ||
			    (rc = same(v, venta, bruto - descu, 8, fmt_field(f, "cuerpoDocumento[%zu].compra", i))))
				return rc;
			s->compra += venta;
			continue;
		}
		if ((rc = num(v, it, "ventaNoSuj", 8, &ns, "cuerpoDocumento[%zu]", i)) ||
		    (rc = num(v, it, "ventaExenta", 8, &ex, "cuerpoDocumento[%zu]", i)) ||
		    (rc = num(v, it, "ventaGravada", 8, &gr, "cuerpoDocumento[%zu]", i)) ||
		    (rc =
			 same(v, ns + ex + gr, bruto - descu, 8, fmt_field(f, "cuerpoDocumento[%zu].ventaGravada", i))))
			return rc;
		s->no_suj += ns;
		s->exenta += ex;
		s->gravada += gr;
		if (fs & DTE_FS_PRICES_WITH_IVA) {
			if ((rc = num(v, it, "ivaItem", 8, &iva, "cuerpoDocumento[%zu]", i)) ||
			    (rc =
				 same(v, iva, iva_included_e8(gr), 8, fmt_field(f, "cuerpoDocumento[%zu].ivaItem", i))))
				return rc;
			s->iva += iva;
		}
		if ((fs & DTE_FS_IVA_TRIBUTO) && (gr > 0) != has_code(get(it, "tributos"), "20"))
			return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].tributos", i),
				       "cuerpoDocumento[%zu].tributos carries \"20\" exactly when ventaGravada > 0", i);
		if (fs & DTE_FS_ITEM_PSV_NOGRAVADO) {
			if ((rc = num(v, it, "noGravado", 8, &nograv, "cuerpoDocumento[%zu]", i)))
				return rc;
			s->no_gravado += nograv;
		}
		if (fs & DTE_FS_DOC_REL_REQUIRED) {
			const json_t *ref = get(it, "numeroDocumento");
			bool found = false;

			for (size_t k = 0; json_is_string(ref) && k < json_array_size(rel); k++) {
				const json_t *n = get(json_array_get(rel, k), "numeroDocumento");

				found |= json_is_string(n) && strcmp(json_string_value(n), json_string_value(ref)) == 0;
			}
			if (!found)
				return err_set(e, ERR_INVALID, fmt_field(f, "cuerpoDocumento[%zu].numeroDocumento", i),
					       "cuerpoDocumento[%zu].numeroDocumento is not a documentoRelacionado", i);
		}
	}
	return 0;
}

int dte_verify(const json_t *doc, bool strict, struct err *e)
{
	struct verify v = {strict, e, ""};
	const json_t *ident = get(doc, "identificacion"), *res = get(doc, "resumen");
	const struct dte_version_info *vi;
	struct item_sums s;
	int64_t tot_ns = 0, tot_ex = 0, tot_gr = 0, stv = 0, d_ns = 0, d_ex = 0, d_gr = 0, total_descu = 0;
	int64_t sub_total = 0, mto = 0, rete = 0, renta = 0, perci = 0, tng = 0, pagar = 0, letras_amount = 0;
	int64_t sum_trib = 0;
	int type, rc;
	unsigned fs;
	const json_t *trib, *pagos;

	type = dte_type_parse(json_string_value(get(ident, "tipoDte")));
	if (type < 0 || !json_is_integer(get(ident, "version")))
		return err_set(e, ERR_INVALID, "identificacion.tipoDte", "not a DTE of type 01, 03, 05, 06 or 14");
	vi = dte_version_find((enum dte_type)type, (int)json_integer_value(get(ident, "version")));
	if (!vi)
		return err_set(e, ERR_INVALID, "identificacion.version", "unknown version of this tipoDte");
	fs = vi->fields;
	if (!json_is_object(res))
		return err_set(e, ERR_INVALID, "resumen", "resumen is missing");
	if ((rc = verify_items(&v, doc, fs, &s)))
		return rc;

	if ((rc = num(&v, res, "ivaRete1", 2, &rete, "resumen")) ||
	    (rc = num(&v, res, "reteRenta", 2, &renta, "resumen")))
		return rc;
	if (fs & DTE_FS_SUJETO_EXCLUIDO) {
		int64_t compra, descu;

		if ((rc = num(&v, res, "totalCompra", 2, &compra, "resumen")) ||
		    (rc = same(&v, compra, e8_to_cents(s.compra), 2, "resumen.totalCompra")) ||
		    (rc = num(&v, res, "descu", 2, &descu, "resumen")) ||
		    (rc = num(&v, res, "totalDescu", 2, &total_descu, "resumen")) ||
		    (rc = same(&v, total_descu, e8_to_cents(s.descu) + descu, 2, "resumen.totalDescu")) ||
		    (rc = num(&v, res, "subTotal", 2, &sub_total, "resumen")) ||
		    (rc = same(&v, sub_total, compra - descu, 2, "resumen.subTotal")) ||
		    (rc = num(&v, res, "totalPagar", 2, &pagar, "resumen")) ||
		    (rc = same(&v, pagar, sub_total - rete - renta, 2, "resumen.totalPagar")))
			return rc;
		letras_amount = pagar;
		goto pagos_and_letras;
	}
	if ((rc = num(&v, res, "totalNoSuj", 2, &tot_ns, "resumen")) ||
	    (rc = same(&v, tot_ns, e8_to_cents(s.no_suj), 2, "resumen.totalNoSuj")) ||
	    (rc = num(&v, res, "totalExenta", 2, &tot_ex, "resumen")) ||
	    (rc = same(&v, tot_ex, e8_to_cents(s.exenta), 2, "resumen.totalExenta")) ||
	    (rc = num(&v, res, "totalGravada", 2, &tot_gr, "resumen")) ||
	    (rc = same(&v, tot_gr, e8_to_cents(s.gravada), 2, "resumen.totalGravada")) ||
	    (rc = num(&v, res, "subTotalVentas", 2, &stv, "resumen")) ||
	    (rc = same(&v, stv, tot_ns + tot_ex + tot_gr, 2, "resumen.subTotalVentas")) ||
	    (rc = num(&v, res, "descuNoSuj", 2, &d_ns, "resumen")) ||
	    (rc = num(&v, res, "descuExenta", 2, &d_ex, "resumen")) ||
	    (rc = num(&v, res, "descuGravada", 2, &d_gr, "resumen")) ||
	    (rc = num(&v, res, "totalDescu", 2, &total_descu, "resumen")) ||
	    (rc = same(&v, total_descu, e8_to_cents(s.descu) + d_ns + d_ex + d_gr, 2, "resumen.totalDescu")) ||
	    (rc = num(&v, res, "subTotal", 2, &sub_total, "resumen")) ||
	    (rc = same(&v, sub_total, stv - d_ns - d_ex - d_gr, 2, "resumen.subTotal")))
		return rc;
	if (fs & DTE_FS_RESUMEN_PAGO) {
		int64_t pct, want = stv > 0 ? (int64_t)div_round((__int128)(d_ns + d_ex + d_gr) * 10000, stv) : 0;

		if ((rc = num(&v, res, "porcentajeDescuento", 2, &pct, "resumen")) ||
		    (rc = same(&v, pct, want, 2, "resumen.porcentajeDescuento")))
			return rc;
	}
	trib = get(res, "tributos");
	for (size_t i = 0; json_is_array(trib) && i < json_array_size(trib); i++) {
		const json_t *t = json_array_get(trib, i);
		int64_t valor;

		if ((rc = num(&v, t, "valor", 2, &valor, "resumen.tributos[%zu]", i)))
			return rc;
		sum_trib += valor;
		if ((fs & DTE_FS_IVA_TRIBUTO) && json_is_string(get(t, "codigo")) &&
		    strcmp(json_string_value(get(t, "codigo")), "20") == 0 &&
		    (rc = same(&v, valor, iva_added_cents(tot_gr - d_gr), 2, "resumen.tributos.valor")))
			return rc;
	}
	if ((fs & DTE_FS_IVA_TRIBUTO) && tot_gr > 0) {
		bool found = false;

		for (size_t i = 0; json_is_array(trib) && i < json_array_size(trib); i++) {
			const json_t *c = get(json_array_get(trib, i), "codigo");

			found |= json_is_string(c) && strcmp(json_string_value(c), "20") == 0;
		}
		if (!found)
			return err_set(e, ERR_INVALID, "resumen.tributos", "resumen.tributos lacks IVA (code 20)");
	}
	if (fs & DTE_FS_PRICES_WITH_IVA) {
		int64_t total_iva;

		if ((rc = num(&v, res, "totalIva", 2, &total_iva, "resumen")) ||
		    (rc = same(&v, total_iva, e8_to_cents(s.iva - iva_included_e8(d_gr * E8_PER_CENT)), 2,
			       "resumen.totalIva")))
			return rc;
	}
	if ((rc = num(&v, res, "montoTotalOperacion", 2, &mto, "resumen")) ||
	    (rc = same(&v, mto, sub_total + sum_trib, 2, "resumen.montoTotalOperacion")))
		return rc;
	letras_amount = mto;
	if (fs & DTE_FS_RESUMEN_PAGO) {
		if ((fs & DTE_FS_IVA_PERCI) && (rc = num(&v, res, "ivaPerci1", 2, &perci, "resumen")))
			return rc;
		if ((rc = num(&v, res, "totalNoGravado", 2, &tng, "resumen")) ||
		    (rc = same(&v, tng, e8_to_cents(s.no_gravado), 2, "resumen.totalNoGravado")) ||
		    (rc = num(&v, res, "totalPagar", 2, &pagar, "resumen")) ||
		    (rc = same(&v, pagar, mto + perci - rete - renta + tng, 2, "resumen.totalPagar")))
			return rc;
		letras_amount = pagar;
	}
	if ((fs & DTE_FS_RECEPTOR_NULLABLE) && mto >= 109500) {
		const json_t *r = get(doc, "receptor");

		if (!json_is_string(get(r, "tipoDocumento")) || !json_is_string(get(r, "numDocumento")) ||
		    !json_is_string(get(r, "nombre")))
			return err_set(e, ERR_INVALID, "receptor",
				       "a Factura of 1,095.00 or more identifies its receptor");
	}

pagos_and_letras:
	pagos = get(res, "pagos");
	if (json_is_array(pagos) && json_integer_value(get(res, "condicionOperacion")) == 1) {
		int64_t sum = 0, monto;

		for (size_t i = 0; i < json_array_size(pagos); i++) {
			if ((rc = num(&v, json_array_get(pagos, i), "montoPago", 2, &monto, "resumen.pagos[%zu]", i)))
				return rc;
			sum += monto;
		}
		if ((rc = same(&v, sum, letras_amount, 2, "resumen.pagos")))
			return rc;
	}
	if (strict) {
		char want[DTE_LETRAS_MAX];
		const json_t *letras = get(res, "totalLetras");

		if ((rc = dte_amount_words(letras_amount, want, sizeof(want), e)))
			return rc;
		if (!json_is_string(letras) || strcmp(json_string_value(letras), want) != 0)
			return err_set(e, ERR_INVALID, "resumen.totalLetras", "resumen.totalLetras should be %s", want);
	}
	return 0;
}
