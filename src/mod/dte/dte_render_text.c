/*
 * dte_render_text.c - MH catalog names, Salvadoran display formats, exact
 * decimal text and the UTF-8 -> CP1252 conversion used by the DTE renderings.
 *
 * The catalogs are MH's "Catálogos - Sistema de Transmisión" v1.2 (10/2025) as
 * summarized in shared/dte-sv/README.md §4. Municipio names are the 44
 * municipios of the 2024 territorial reform (CAT-013); documents that still
 * carry a pre-reform code (the v1 schemas' patterns only admit those) print
 * the departamento with the code, never a wrong name.
 */
#include "mod/dte/dte_render.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/money.h"
#include "mod/dte/dte_doc.h"

struct code_name {
	const char *code;
	const char *name;
};

struct num_name {
	long long code;
	const char *name;
};

static const char *find_code(const struct code_name *t, size_t n, const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].code, code) == 0)
			return t[i].name;
	return NULL;
}

static const char *find_num(const struct num_name *t, size_t n, long long code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *dte_render_type_name(const char *tipo_dte)
{
	static const struct code_name t[] = {
	    {"01", "FACTURA"},
	    {"03", "COMPROBANTE DE CRÉDITO FISCAL"},
	    {"04", "NOTA DE REMISIÓN"},
	    {"05", "NOTA DE CRÉDITO"},
	    {"06", "NOTA DE DÉBITO"},
	    {"07", "COMPROBANTE DE RETENCIÓN"},
	    {"08", "COMPROBANTE DE LIQUIDACIÓN"},
	    {"09", "DOCUMENTO CONTABLE DE LIQUIDACIÓN"},
	    {"11", "FACTURA DE EXPORTACIÓN"},
	    {"14", "FACTURA DE SUJETO EXCLUIDO"},
	    {"15", "COMPROBANTE DE DONACIÓN"},
	};
	return find_code(t, NELEM(t), tipo_dte);
}

const char *dte_render_modelo(long long tipo_modelo)
{
	static const struct num_name t[] = {{1, "Previo"}, {2, "Diferido"}};
	return find_num(t, NELEM(t), tipo_modelo);
}

const char *dte_render_transmision(long long tipo_operacion)
{
	static const struct num_name t[] = {{1, "Normal"}, {2, "Contingencia"}};
	return find_num(t, NELEM(t), tipo_operacion);
}

const char *dte_render_contingencia(long long tipo_contingencia)
{
	static const struct num_name t[] = {
	    {1, "No disponibilidad de sistema del MH"},
	    {2, "No disponibilidad de sistema del emisor"},
	    {3, "Falla en el suministro de servicio de Internet del emisor"},
	    {4, "Falla en el suministro de energía eléctrica del emisor"},
	    {5, "Otro"},
	};
	return find_num(t, NELEM(t), tipo_contingencia);
}

const char *dte_render_establecimiento(const char *code)
{
	static const struct code_name t[] = {
	    {"01", "Sucursal"}, {"02", "Casa matriz"}, {"04", "Bodega"}, {"07", "Patio"}, {"20", "Otro"},
	};
	return find_code(t, NELEM(t), code);
}

const char *dte_render_departamento(const char *code)
{
	static const struct code_name t[] = {
	    {"00", "Otro (extranjero)"}, {"01", "Ahuachapán"},	 {"02", "Santa Ana"},
	    {"03", "Sonsonate"},	 {"04", "Chalatenango"}, {"05", "La Libertad"},
	    {"06", "San Salvador"},	 {"07", "Cuscatlán"},	 {"08", "La Paz"},
	    {"09", "Cabañas"},		 {"10", "San Vicente"},	 {"11", "Usulután"},
	    {"12", "San Miguel"},	 {"13", "Morazán"},	 {"14", "La Unión"},
	};
	return find_code(t, NELEM(t), code);
}

const char *dte_render_municipio(const char *dep, const char *mun)
{
	static const struct {
		const char *dep, *mun, *name;
	} t[] = {
	    {"01", "13", "Ahuachapán Norte"},	 {"01", "14", "Ahuachapán Centro"}, {"01", "15", "Ahuachapán Sur"},
	    {"02", "14", "Santa Ana Norte"},	 {"02", "15", "Santa Ana Centro"},  {"02", "16", "Santa Ana Este"},
	    {"02", "17", "Santa Ana Oeste"},	 {"03", "17", "Sonsonate Norte"},   {"03", "18", "Sonsonate Centro"},
	    {"03", "19", "Sonsonate Este"},	 {"03", "20", "Sonsonate Oeste"},   {"04", "34", "Chalatenango Norte"},
	    {"04", "35", "Chalatenango Centro"}, {"04", "36", "Chalatenango Sur"},  {"05", "23", "La Libertad Norte"},
	    {"05", "24", "La Libertad Centro"},	 {"05", "25", "La Libertad Oeste"}, {"05", "26", "La Libertad Este"},
	    {"05", "27", "La Libertad Costa"},	 {"05", "28", "La Libertad Sur"},   {"06", "20", "San Salvador Norte"},
	    {"06", "21", "San Salvador Oeste"},	 {"06", "22", "San Salvador Este"}, {"06", "23", "San Salvador Centro"},
	    {"06", "24", "San Salvador Sur"},	 {"07", "17", "Cuscatlán Norte"},   {"07", "18", "Cuscatlán Sur"},
	    {"08", "23", "La Paz Oeste"},	 {"08", "24", "La Paz Centro"},	    {"08", "25", "La Paz Este"},
	    {"09", "10", "Cabañas Oeste"},	 {"09", "11", "Cabañas Este"},	    {"10", "14", "San Vicente Norte"},
	    {"10", "15", "San Vicente Sur"},	 {"11", "24", "Usulután Norte"},    {"11", "25", "Usulután Este"},
	    {"11", "26", "Usulután Oeste"},	 {"12", "21", "San Miguel Norte"},  {"12", "22", "San Miguel Centro"},
	    {"12", "23", "San Miguel Oeste"},	 {"13", "27", "Morazán Norte"},	    {"13", "28", "Morazán Sur"},
	    {"14", "19", "La Unión Norte"},	 {"14", "20", "La Unión Sur"},
	};
	if (!dep || !mun)
		return NULL;
	for (size_t i = 0; i < NELEM(t); i++)
		if (strcmp(t[i].dep, dep) == 0 && strcmp(t[i].mun, mun) == 0)
			return t[i].name;
	return NULL;
}

const char *dte_render_unidad(long long code)
{
	static const struct num_name t[] = {
	    {1, "Metro"},	  {2, "Yarda"},	     {6, "Milímetro"},	 {9, "Km²"},	    {10, "Hectárea"},
	    {13, "Metro²"},	  {15, "Vara²"},     {18, "Metro³"},	 {20, "Barril"},    {22, "Galón"},
	    {23, "Litro"},	  {24, "Botella"},   {26, "Mililitro"},	 {30, "Tonelada"},  {32, "Quintal"},
	    {33, "Arroba"},	  {34, "Kilogramo"}, {36, "Libra"},	 {37, "Onza troy"}, {38, "Onza"},
	    {39, "Gramo"},	  {40, "Miligramo"}, {42, "Megawatt"},	 {43, "Kilowatt"},  {44, "Watt"},
	    {45, "MVA"},	  {46, "kVA"},	     {47, "VA"},	 {49, "GWh"},	    {50, "MWh"},
	    {51, "kWh"},	  {52, "Wh"},	     {53, "Kilovoltio"}, {54, "Voltio"},    {55, "Millar"},
	    {56, "Medio millar"}, {57, "Ciento"},    {58, "Docena"},	 {59, "Unidad"},    {99, "Otra"},
	};
	return find_num(t, NELEM(t), code);
}

const char *dte_render_condicion(long long code)
{
	static const struct num_name t[] = {{1, "Contado"}, {2, "A crédito"}, {3, "Otro"}};
	return find_num(t, NELEM(t), code);
}

const char *dte_render_forma_pago(const char *code)
{
	static const struct code_name t[] = {
	    {"01", "Billetes y monedas"},
	    {"02", "Tarjeta débito"},
	    {"03", "Tarjeta crédito"},
	    {"04", "Cheque"},
	    {"05", "Transferencia - depósito bancario"},
	    {"08", "Dinero electrónico"},
	    {"09", "Monedero electrónico"},
	    {"11", "Bitcoin"},
	    {"12", "Otras criptomonedas"},
	    {"13", "Cuentas por pagar del receptor"},
	    {"14", "Giro bancario"},
	    {"99", "Otros"},
	};
	return find_code(t, NELEM(t), code);
}

const char *dte_render_plazo(const char *code)
{
	static const struct code_name t[] = {{"01", "días"}, {"02", "meses"}, {"03", "años"}};
	return find_code(t, NELEM(t), code);
}

const char *dte_render_tipo_servicio(long long code)
{
	static const struct num_name t[] = {
	    {1, "Cirugía"},
	    {2, "Operación"},
	    {3, "Tratamiento médico"},
	    {4, "Cirugía Instituto Salvadoreño de Bienestar Magisterial"},
	    {5, "Operación ISBM"},
	    {6, "Tratamiento médico ISBM"},
	};
	return find_num(t, NELEM(t), code);
}

const char *dte_render_doc_asociado(long long code)
{
	static const struct num_name t[] = {{1, "Emisor"}, {2, "Receptor"}, {3, "Médico"}, {4, "Transporte"}};
	return find_num(t, NELEM(t), code);
}

const char *dte_render_doc_label(const char *tipo_documento)
{
	static const struct code_name t[] = {
	    {"36", "NIT"}, {"13", "DUI"}, {"37", "Otro documento"}, {"03", "Pasaporte"}, {"02", "Carnet de residente"},
	};
	return find_code(t, NELEM(t), tipo_documento);
}

const char *dte_render_generacion(long long code)
{
	static const struct num_name t[] = {{1, "Físico"}, {2, "Electrónico"}};
	return find_num(t, NELEM(t), code);
}

static bool all_digits(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static char *copy_in(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s ? s : "");
	return buf;
}

char *dte_render_nit(const char *nit, char *buf, size_t len)
{
	if (all_digits(nit, 14))
		snprintf(buf, len, "%.4s-%.6s-%.3s-%.1s", nit, nit + 4, nit + 10, nit + 13);
	else if (all_digits(nit, 9))
		snprintf(buf, len, "%.8s-%.1s", nit, nit + 8);
	else
		copy_in(nit, buf, len);
	return buf;
}

char *dte_render_nrc(const char *nrc, char *buf, size_t len)
{
	size_t n = nrc ? strlen(nrc) : 0;

	if (n >= 2 && n <= 8 && all_digits(nrc, n))
		snprintf(buf, len, "%.*s-%s", (int)(n - 1), nrc, nrc + n - 1);
	else
		copy_in(nrc, buf, len);
	return buf;
}

char *dte_render_phone(const char *tel, char *buf, size_t len)
{
	if (all_digits(tel, 8))
		snprintf(buf, len, "%.4s-%.4s", tel, tel + 4);
	else
		copy_in(tel, buf, len);
	return buf;
}

char *dte_render_date(const char *iso, char *buf, size_t len)
{
	if (iso && strlen(iso) == 10 && iso[4] == '-' && iso[7] == '-')
		snprintf(buf, len, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
	else
		copy_in(iso, buf, len);
	return buf;
}

char *dte_render_real(double d, char *buf, size_t len)
{
	if (!isfinite(d) || fabs(d) >= 1e17 || (d != 0 && fabs(d) < 1e-9)) {
		snprintf(buf, len, "%.17g", d);
		return buf;
	}
	for (int p = 0; p <= 17; p++) {
		snprintf(buf, len, "%.*f", p, d);
		if (strtod(buf, NULL) == d)
			return buf;
	}
	snprintf(buf, len, "%.17g", d);
	return buf;
}

/* Insert "," every three digits of the integer part of a plain decimal text. */
static void group_thousands(const char *in, char *buf, size_t len)
{
	const char *digits = in;
	const char *dot;
	size_t int_len, o = 0;
	char tmp[DTE_RENDER_AMOUNT_MAX * 2];

	if (*digits == '-')
		tmp[o++] = *digits++;
	dot = strchr(digits, '.');
	int_len = dot ? (size_t)(dot - digits) : strlen(digits);
	for (size_t i = 0; i < int_len && o < sizeof(tmp) - 2; i++) {
		if (i > 0 && (int_len - i) % 3 == 0)
			tmp[o++] = ',';
		tmp[o++] = digits[i];
	}
	tmp[o] = '\0';
	snprintf(buf, len, "%s%s", tmp, dot ? dot : "");
}

bool dte_render_decimal(const json_t *v, int64_t *e8)
{
	struct err e;
	const char *text = dte_json_decimal_text(v);

	err_clear(&e);
	if (text)
		return money_parse(text, 8, e8, NULL, &e) == 0;
	if (!v || !(json_is_number(v) || json_is_string(v)))
		return false;
	return money_from_json(v, 8, e8, NULL, &e) == 0;
}

bool dte_render_is_zero(const json_t *v)
{
	int64_t x;

	if (!v || json_is_null(v))
		return true;
	if (dte_render_decimal(v, &x))
		return x == 0;
	return json_is_number(v) && json_number_value(v) == 0.0;
}

bool dte_render_amount(const json_t *v, int min_dec, bool grouped, char *buf, size_t len)
{
	int64_t fixed;
	char text[MONEY_MAX_TEXT + 8];
	bool exact = true;
	const char *marker = dte_json_decimal_text(v);

	if (min_dec < 0)
		min_dec = 0;
	if (min_dec > 8)
		min_dec = 8;
	if (!v || json_is_null(v)) {
		copy_in("", buf, len);
		return false;
	}
	if (dte_render_decimal(v, &fixed)) {
		money_format(fixed, 8, text, sizeof(text));
	} else if (json_is_number(v)) {
		/* more than 15 significant digits: the double, rounded to 8 decimals */
		snprintf(text, sizeof(text), "%.8f", json_number_value(v));
		exact = false;
	} else {
		/* not a decimal we can hold at 8 decimals: its own text, unchanged */
		copy_in(marker ? marker : json_is_string(v) ? json_string_value(v) : "?", buf, len);
		return false;
	}
	/* trim trailing zeros down to min_dec decimals */
	{
		char *dot = strchr(text, '.');
		if (dot) {
			size_t keep = (size_t)(dot - text) + 1 + (size_t)min_dec;
			size_t n = strlen(text);
			while (n > keep && text[n - 1] == '0')
				text[--n] = '\0';
			if (text[n - 1] == '.')
				text[--n] = '\0';
		}
	}
	if (grouped)
		group_thousands(text, buf, len);
	else
		copy_in(text, buf, len);
	return exact;
}

/* Unicode code points of CP1252 bytes 0x80..0x9F (0 = undefined). */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0,	    0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,	    0x017D, 0,	    0,	    0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,	    0x017E, 0x0178,
};

static unsigned char to_cp1252(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7F)
		return ' ';
	if (cp < 0x80)
		return (unsigned char)cp;
	if (cp >= 0xA0 && cp <= 0xFF)
		return (unsigned char)cp;
	for (unsigned i = 0; i < 32; i++)
		if (cp1252_high[i] && cp1252_high[i] == cp)
			return (unsigned char)(0x80 + i);
	if (cp == 0x2212) /* minus sign */
		return '-';
	if (cp == 0x00A0 || cp == 0x2007 || cp == 0x202F)
		return ' ';
	return '?';
}

/* Decode one UTF-8 sequence at s; returns its length (1 for an invalid byte,
 * with *cp = 0xFFFD). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		c &= 0x07;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = c;
	return n;
}

char *dte_render_cp1252(struct arena *a, const char *utf8)
{
	const unsigned char *s = (const unsigned char *)(utf8 ? utf8 : "");
	size_t n = strlen((const char *)s), o = 0;
	char *out = arena_alloc(a, n + 1);

	while (*s) {
		uint32_t cp;
		s += utf8_next(s, &cp);
		out[o++] = (char)to_cp1252(cp);
	}
	out[o] = '\0';
	return out;
}
