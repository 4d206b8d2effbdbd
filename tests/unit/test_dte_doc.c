/*
 * test_dte_doc.c - the DTE document model of src/mod/dte/dte_doc.c and the
 * amount words of dte_words.c.
 *
 * Expected values are worked out by hand from README §3.7 (and MH's own
 * examples: the manual's CCF of 2000 + IVA 260 = 2260, and a CCF sealed by
 * MH, 2501.87 + 325.24 = 2827.11). Every built document is also checked
 * three more ways: its keys against the official schema's properties and
 * required lists (tests/fixtures/dte-sv, run from the repository root),
 * MH's arithmetic rules re-derived here from the printed text with
 * independent integer code (check_rules), and dte_verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/money.h"
#include "mod/dte/dte_doc.h"

#define FIXTURES "tests/fixtures/dte-sv/"
#define E8	 DTE_E8

/* ---- sample parties ---- */

static const struct dte_emisor clinic = {
    .nit = "06140507071048",
    .nrc = "1234567",
    .nombre = "Clínica Médica San Rafael, S.A. de C.V.",
    .cod_actividad = "86201",
    .desc_actividad = "Clínicas médicas",
    .nombre_comercial = "Clínica San Rafael",
    .tipo_establecimiento = "02",
    .direccion = {"06", "14", "Colonia Escalón, 3a Calle Poniente #4521, San Salvador"},
    .telefono = "22223333",
    .correo = "facturacion@clinicasanrafael.com.sv",
    .cod_estable_mh = "M001",
    .cod_estable = "0001",
    .cod_punto_venta_mh = "P001",
    .cod_punto_venta = "CAJA-1",
};

static const struct dte_address addr_libertad = {"05", "11", "Km 12 1/2 Carretera al Puerto de La Libertad"};

static const struct dte_receptor company = {
    .nit = "06142004981074",
    .nrc = "1069217",
    .nombre = "UNIDAD DE TRANSACCIONES S.A. DE C.V.",
    .cod_actividad = "35103",
    .desc_actividad = "Distribución de energía eléctrica",
    .nombre_comercial = "UT",
    .direccion = &addr_libertad,
    .telefono = "22477300",
    .correo = "sisdte@example.com",
};

static const struct dte_address addr_patient = {"06", "14", "Residencial Los Pinos, pasaje 3, casa 12"};

static const struct dte_receptor patient = {
    .tipo_documento = "13",
    .num_documento = "02382723-5",
    .nombre = "María José Pérez",
    .direccion = &addr_patient,
    .telefono = "77778888",
    .correo = "maria.perez@example.com",
};

static const struct dte_receptor sujeto = {
    .tipo_documento = "13",
    .num_documento = "02382723-5",
    .nombre = "Dr. José Antonio Ramírez",
    .cod_actividad = "86203",
    .desc_actividad = "Servicios médicos",
    .direccion = &addr_patient,
};

#define UUID_A "5F2A0C3E-8B1D-4E6F-9A7B-1C2D3E4F5A6B"
#define UUID_B "0C9B8A7D-6E5F-4A3B-8C2D-1E0F9A8B7C6D"

static struct dte_input base(enum dte_type type, char nc[DTE_NUMERO_CONTROL_LEN + 1])
{
	struct dte_input in;
	struct err e;

	memset(&in, 0, sizeof(in));
	in.type = type;
	in.ambiente = "00";
	assert_int_equal(dte_numero_control(type, "M001", "P001", 42, nc, &e), 0);
	in.numero_control = nc;
	in.codigo_generacion = UUID_A;
	in.fec_emi = "2025-10-14";
	in.hor_emi = "10:30:00";
	in.emisor = &clinic;
	if (type == DTE_CCF || type == DTE_NC || type == DTE_ND)
		in.receptor = &company;
	if (type == DTE_FSE)
		in.receptor = &sujeto;
	return in;
}

static struct dte_item item(int64_t cantidad_e8, int64_t precio_e8, enum dte_treatment t)
{
	struct dte_item it;

	memset(&it, 0, sizeof(it));
	it.tipo_item = 2;
	it.codigo = "CONS-01";
	it.descripcion = "Consulta médica general";
	it.uni_medida = 59;
	it.cantidad_e8 = cantidad_e8;
	it.precio_uni_e8 = precio_e8;
	it.treatment = t;
	return it;
}

/* ---- the official schema's keys ---- */

static json_t *schema_cache[8];

static const json_t *schema_for(const struct dte_version_info *vi)
{
	size_t n;
	const struct dte_version_info *all = dte_versions(&n);
	char path[256];
	json_error_t jerr;

	for (size_t i = 0; i < n && i < 8; i++) {
		if (&all[i] != vi)
			continue;
		if (!schema_cache[i]) {
			snprintf(path, sizeof(path), FIXTURES "%s", vi->schema_file);
			schema_cache[i] = json_load_file(path, 0, &jerr);
			if (!schema_cache[i])
				fail_msg("cannot read %s (run from the repository root): %s", path, jerr.text);
		}
		return schema_cache[i];
	}
	fail_msg("no schema for the version row");
	return NULL;
}

static bool type_allows(const json_t *type, const char *name)
{
	if (json_is_string(type))
		return strcmp(json_string_value(type), name) == 0;
	for (size_t i = 0; i < json_array_size(type); i++)
		if (strcmp(json_string_value(json_array_get(type, i)), name) == 0)
			return true;
	return false;
}

/* Every required key present, no key the schema lacks, JSON types as the
 * schema says (a decimal is a number, never a string). */
static void walk(const json_t *schema, const json_t *v, const char *path)
{
	const json_t *type = json_object_get(schema, "type"), *props = json_object_get(schema, "properties");
	const json_t *items = json_object_get(schema, "items");
	char sub[256];

	if (json_is_null(v)) {
		if (type && !type_allows(type, "null"))
			fail_msg("%s is null but the schema says otherwise", path);
		return;
	}
	if (type) {
		bool ok;

		if (json_is_object(v))
			ok = type_allows(type, "object");
		else if (json_is_array(v))
			ok = type_allows(type, "array");
		else if (dte_json_decimal_text(v))
			ok = type_allows(type, "number");
		else if (json_is_integer(v))
			ok = type_allows(type, "integer") || type_allows(type, "number");
		else if (json_is_string(v))
			ok = type_allows(type, "string");
		else
			ok = true;
		if (!ok)
			fail_msg("%s has the wrong JSON type", path);
	}
	if (props && json_is_object(v)) {
		const json_t *req = json_object_get(schema, "required");
		const char *key;
		json_t *val;

		for (size_t i = 0; i < json_array_size(req); i++)
			if (!json_object_get(v, json_string_value(json_array_get(req, i))))
				fail_msg("%s lacks required %s", path, json_string_value(json_array_get(req, i)));
		json_object_foreach((json_t *)v, key, val)
		{
			const json_t *ps = json_object_get(props, key);

			if (!ps)
				fail_msg("%s has %s, which the schema does not allow", path, key);
			snprintf(sub, sizeof(sub), "%s.%s", path, key);
			walk(ps, val, sub);
		}
	}
	if (items && json_is_array(v))
		for (size_t i = 0; i < json_array_size(v); i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			walk(items, json_array_get(v, i), sub);
		}
}

/* ---- README §3.7 rules, re-derived independently from the text ---- */

static int64_t dec(const json_t *o, const char *key, int scale)
{
	const json_t *v = json_object_get(o, key);
	struct err e;
	int64_t x = 0;

	if (json_is_integer(v)) {
		x = json_integer_value(v);
		for (int i = 0; i < scale; i++)
			x *= 10;
		return x;
	}
	if (!dte_json_decimal_text(v))
		fail_msg("%s is not a number", key);
	if (money_parse(dte_json_decimal_text(v), scale, &x, key, &e) != 0)
		fail_msg("%s: %s", key, e.message);
	return x;
}

/* round(n / d), halves away from zero, by plain long division. */
static __int128 rdiv(__int128 n, __int128 d)
{
	bool neg = n < 0;
	__int128 a = neg ? -n : n, q = a / d;

	if ((a % d) * 2 >= d)
		q++;
	return neg ? -q : q;
}

static void check_rules(const char *text)
{
	json_t *doc;
	struct err e;
	const json_t *id, *items, *res, *pagos;
	const char *tipo;
	__int128 ns = 0, ex = 0, gr = 0, descu = 0, iva = 0, nograv = 0, compra = 0;
	int64_t pagar;

	if (dte_json_load(text, &doc, &e) != 0)
		fail_msg("reload: %s", e.message);
	id = json_object_get(doc, "identificacion");
	tipo = json_string_value(json_object_get(id, "tipoDte"));
	items = json_object_get(doc, "cuerpoDocumento");
	res = json_object_get(doc, "resumen");
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *it = json_array_get(items, i);
		__int128 bruto = rdiv((__int128)dec(it, "cantidad", 8) * dec(it, "precioUni", 8), 100000000);
		int64_t d = dec(it, "montoDescu", 8);

		assert_int_equal(json_integer_value(json_object_get(it, "numItem")), (json_int_t)i + 1);
		descu += d;
		if (strcmp(tipo, "14") == 0) {
			assert_true(dec(it, "compra", 8) == (int64_t)(bruto - d));
			compra += dec(it, "compra", 8);
			continue;
		}
		assert_true(dec(it, "ventaNoSuj", 8) + dec(it, "ventaExenta", 8) + dec(it, "ventaGravada", 8) ==
			    (int64_t)(bruto - d));
		ns += dec(it, "ventaNoSuj", 8);
		ex += dec(it, "ventaExenta", 8);
		gr += dec(it, "ventaGravada", 8);
		if (strcmp(tipo, "01") == 0) {
			/* ivaItem = ventaGravada - ventaGravada / 1.13, 8 decimals */
			int64_t g = dec(it, "ventaGravada", 8);
			assert_true(dec(it, "ivaItem", 8) == (int64_t)(g - rdiv((__int128)g * 100, 113)) ||
				    dec(it, "ivaItem", 8) == (int64_t)rdiv((__int128)g * 13, 113));
			iva += dec(it, "ivaItem", 8);
			assert_true(json_is_null(json_object_get(it, "tributos")));
		} else {
			const json_t *t = json_object_get(it, "tributos");
			if (dec(it, "ventaGravada", 8) > 0) {
				assert_int_equal(json_array_size(t), 1);
				assert_string_equal(json_string_value(json_array_get(t, 0)), "20");
			} else {
				assert_true(json_is_null(t));
			}
		}
		if (json_object_get(it, "noGravado"))
			nograv += dec(it, "noGravado", 8);
	}
	if (strcmp(tipo, "14") == 0) {
		int64_t total = (int64_t)rdiv(compra, 1000000);

		assert_true(dec(res, "totalCompra", 2) == total);
		assert_true(dec(res, "subTotal", 2) == total - dec(res, "descu", 2));
		assert_true(dec(res, "totalDescu", 2) == (int64_t)rdiv(descu, 1000000) + dec(res, "descu", 2));
		pagar = dec(res, "subTotal", 2) - dec(res, "ivaRete1", 2) - dec(res, "reteRenta", 2);
		assert_true(dec(res, "totalPagar", 2) == pagar);
	} else {
		int64_t tns = (int64_t)rdiv(ns, 1000000), tex = (int64_t)rdiv(ex, 1000000);
		int64_t tgr = (int64_t)rdiv(gr, 1000000);
		int64_t dns = dec(res, "descuNoSuj", 2), dex = dec(res, "descuExenta", 2),
			dgr = dec(res, "descuGravada", 2);
		int64_t sub, tributos = 0, mto;
		const json_t *trib = json_object_get(res, "tributos");

		assert_true(dec(res, "totalNoSuj", 2) == tns);
		assert_true(dec(res, "totalExenta", 2) == tex);
		assert_true(dec(res, "totalGravada", 2) == tgr);
		assert_true(dec(res, "subTotalVentas", 2) == tns + tex + tgr);
		assert_true(dec(res, "totalDescu", 2) == (int64_t)rdiv(descu, 1000000) + dns + dex + dgr);
		sub = tns + tex + tgr - dns - dex - dgr;
		assert_true(dec(res, "subTotal", 2) == sub);
		for (size_t i = 0; i < json_array_size(trib); i++)
			tributos += dec(json_array_get(trib, i), "valor", 2);
		if (strcmp(tipo, "01") == 0) {
			/* IVA inside the prices: Σ ivaItem less the IVA of the global discount */
			assert_true(json_is_null(trib));
			assert_true(dec(res, "totalIva", 2) ==
				    (int64_t)rdiv(iva - rdiv((__int128)dgr * 1000000 * 13, 113), 1000000));
		} else if (tgr > 0) {
			assert_int_equal(json_array_size(trib), 1);
			assert_string_equal(json_string_value(json_object_get(json_array_get(trib, 0), "codigo")),
					    "20");
			assert_true(tributos == (int64_t)rdiv((__int128)(tgr - dgr) * 13, 100));
		} else {
			assert_true(json_is_null(trib));
		}
		mto = sub + tributos;
		assert_true(dec(res, "montoTotalOperacion", 2) == mto);
		pagar = mto;
		if (json_object_get(res, "totalPagar")) {
			int64_t perci = json_object_get(res, "ivaPerci1") ? dec(res, "ivaPerci1", 2) : 0;

			assert_true(dec(res, "totalNoGravado", 2) == (int64_t)rdiv(nograv, 1000000));
			pagar = mto + perci - dec(res, "ivaRete1", 2) - dec(res, "reteRenta", 2) +
				dec(res, "totalNoGravado", 2);
			assert_true(dec(res, "totalPagar", 2) == pagar);
		}
		if (strcmp(tipo, "01") == 0 && mto >= 109500)
			assert_true(json_is_string(json_object_get(json_object_get(doc, "receptor"), "numDocumento")));
	}
	pagos = json_object_get(res, "pagos");
	if (json_is_array(pagos) && json_integer_value(json_object_get(res, "condicionOperacion")) == 1) {
		int64_t sum = 0;

		for (size_t i = 0; i < json_array_size(pagos); i++)
			sum += dec(json_array_get(pagos, i), "montoPago", 2);
		assert_true(sum == pagar);
	}
	{
		char words[DTE_LETRAS_MAX];

		assert_int_equal(dte_amount_words(pagar, words, sizeof(words), &e), 0);
		assert_string_equal(json_string_value(json_object_get(res, "totalLetras")), words);
	}
	json_decref(doc);
}

/* Build, print, then check the text every way. Returns the text (owned). */
static char *build_ok(const struct dte_input *in, struct dte_totals *t)
{
	json_t *doc = NULL, *again = NULL;
	struct err e;
	char *text = NULL, *text2 = NULL;

	err_clear(&e);
	if (dte_build(in, &doc, t, &e) != 0)
		fail_msg("dte_build: %s (%s)", e.message, e.field);
	if (dte_json_dump(doc, &text, &e) != 0)
		fail_msg("dte_json_dump: %s", e.message);
	assert_null(strstr(text, "\\u001f"));
	assert_null(strchr(text, '\x1f'));
	walk(schema_for(dte_version_find(in->type, in->version)), doc, "$");
	check_rules(text);
	if (dte_verify(doc, true, &e) != 0)
		fail_msg("dte_verify: %s (%s)", e.message, e.field);
	/* what is read back prints the same bytes */
	assert_int_equal(dte_json_load(text, &again, &e), 0);
	assert_int_equal(dte_verify(again, true, &e), 0);
	assert_int_equal(dte_json_dump(again, &text2, &e), 0);
	assert_string_equal(text, text2);
	free(text2);
	json_decref(again);
	json_decref(doc);
	return text;
}

static void build_fails(const struct dte_input *in, const char *field)
{
	json_t *doc = (json_t *)1;
	struct err e;

	err_clear(&e);
	if (dte_build(in, &doc, NULL, &e) != ERR_INVALID)
		fail_msg("dte_build accepted input that should fail on %s", field);
	assert_null(doc);
	assert_int_equal(e.code, ERR_INVALID);
	if (strcmp(e.field, field) != 0)
		fail_msg("failed on \"%s\" (%s), expected \"%s\"", e.field, e.message, field);
}

static void has(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("missing %s in %s", part, text);
}

/* ---- tests ---- */

static void words_is(int64_t cents, const char *want)
{
	char buf[DTE_LETRAS_MAX];
	struct err e;

	err_clear(&e);
	assert_int_equal(dte_amount_words(cents, buf, sizeof(buf), &e), 0);
	assert_string_equal(buf, want);
}

static void test_words(void **state)
{
	char small[20];
	struct err e;

	(void)state;
	words_is(0, "CERO 00/100 DÓLARES");
	words_is(5, "CERO 05/100 DÓLARES");
	words_is(100, "UN 00/100 DÓLAR");
	words_is(150, "UN 50/100 DÓLARES");
	words_is(1600, "DIECISÉIS 00/100 DÓLARES");
	words_is(2100, "VEINTIÚN 00/100 DÓLARES");
	words_is(2200, "VEINTIDÓS 00/100 DÓLARES");
	words_is(3100, "TREINTA Y UN 00/100 DÓLARES");
	words_is(4599, "CUARENTA Y CINCO 99/100 DÓLARES");
	words_is(10000, "CIEN 00/100 DÓLARES");
	words_is(10100, "CIENTO UN 00/100 DÓLARES");
	words_is(11500, "CIENTO QUINCE 00/100 DÓLARES");
	words_is(50000, "QUINIENTOS 00/100 DÓLARES");
	words_is(77700, "SETECIENTOS SETENTA Y SIETE 00/100 DÓLARES");
	words_is(99900, "NOVECIENTOS NOVENTA Y NUEVE 00/100 DÓLARES");
	words_is(100000, "MIL 00/100 DÓLARES");
	words_is(100100, "MIL UN 00/100 DÓLARES");
	words_is(226000, "DOS MIL DOSCIENTOS SESENTA 00/100 DÓLARES");
	words_is(226017, "DOS MIL DOSCIENTOS SESENTA 17/100 DÓLARES");
	words_is(282711, "DOS MIL OCHOCIENTOS VEINTISIETE 11/100 DÓLARES");
	words_is(2100000, "VEINTIÚN MIL 00/100 DÓLARES");
	words_is(10100000, "CIENTO UN MIL 00/100 DÓLARES");
	words_is(100000000, "UN MILLÓN 00/100 DÓLARES");
	words_is(110000000, "UN MILLÓN CIEN MIL 00/100 DÓLARES");
	words_is(200000000, "DOS MILLONES 00/100 DÓLARES");
	words_is(2100000000LL, "VEINTIÚN MILLONES 00/100 DÓLARES");
	words_is(12100000000LL, "CIENTO VEINTIÚN MILLONES 00/100 DÓLARES");
	words_is(100000000000LL, "MIL MILLONES 00/100 DÓLARES");
	words_is(250000000000LL, "DOS MIL QUINIENTOS MILLONES 00/100 DÓLARES");
	words_is(9999999999999LL, "NOVENTA Y NUEVE MIL NOVECIENTOS NOVENTA Y NUEVE MILLONES NOVECIENTOS NOVENTA Y "
				  "NUEVE MIL NOVECIENTOS NOVENTA Y NUEVE 99/100 DÓLARES");
	assert_int_equal(dte_amount_words(-1, small, sizeof(small), &e), ERR_INVALID);
	assert_int_equal(dte_amount_words(DTE_RESUMEN_MAX_CENTS, small, sizeof(small), &e), ERR_INVALID);
	assert_int_equal(dte_amount_words(226017, small, sizeof(small), &e), ERR_INVALID);
	assert_string_equal(small, "");
}

static void dec_is(int64_t v, int scale, const char *want)
{
	json_t *d = dte_json_decimal(v, scale);

	assert_non_null(dte_json_decimal_text(d));
	assert_string_equal(dte_json_decimal_text(d), want);
	json_decref(d);
}

static void test_decimal_text(void **state)
{
	json_t *o = json_object();
	char *text;
	struct err e;
	int64_t x;

	(void)state;
	dec_is(10000000, 8, "0.1");
	dec_is(115, 2, "1.15");
	dec_is(99999999, 2, "999999.99");
	dec_is(1, 8, "0.00000001");
	dec_is(0, 8, "0");
	dec_is(226000, 2, "2260");
	dec_is(-5, 2, "-0.05");
	dec_is(-100000000, 8, "-1");
	dec_is(99999999999999999LL, 8, "999999999.99999999");
	json_object_set_new(o, "a", dte_json_decimal(10000000, 8));
	json_object_set_new(o, "b", dte_json_decimal(115, 2));
	json_object_set_new(o, "c", dte_json_decimal(99999999, 2));
	json_object_set_new(o, "d", dte_json_decimal(1, 8));
	json_object_set_new(o, "n", json_integer(7));
	json_object_set_new(o, "s", json_string("Clínica \"Ñ\"\\\n\t\x01 end"));
	json_object_set_new(o, "z", json_null());
	json_object_set_new(o, "t", json_true());
	assert_int_equal(dte_json_dump(o, &text, &e), 0);
	assert_string_equal(text, "{\"a\":0.1,\"b\":1.15,\"c\":999999.99,\"d\":0.00000001,\"n\":7,"
				  "\"s\":\"Clínica \\\"Ñ\\\"\\\\\\n\\t\\u0001 end\",\"z\":null,\"t\":true}");
	free(text);
	/* numbers back */
	assert_int_equal(dte_json_number(json_object_get(o, "b"), 2, &x, "b", &e), 0);
	assert_int_equal(x, 115);
	assert_int_equal(dte_json_number(json_object_get(o, "b"), 8, &x, "b", &e), 0);
	assert_int_equal(x, 115000000);
	assert_int_equal(dte_json_number(json_object_get(o, "n"), 2, &x, "n", &e), 0);
	assert_int_equal(x, 700);
	assert_int_equal(dte_json_number(json_object_get(o, "d"), 2, &x, "d", &e), ERR_INVALID);
	assert_int_equal(dte_json_number(json_object_get(o, "s"), 2, &x, "s", &e), ERR_INVALID);
	/* a binary real is refused by the printer */
	json_object_set_new(o, "r", json_real(0.5));
	assert_int_equal(dte_json_dump(o, &text, &e), ERR_INTERNAL);
	assert_null(text);
	json_decref(o);
}

static void load_is(const char *in, const char *want)
{
	json_t *doc;
	char *text;
	struct err e;

	err_clear(&e);
	if (dte_json_load(in, &doc, &e) != 0)
		fail_msg("dte_json_load(%s): %s", in, e.message);
	assert_int_equal(dte_json_dump(doc, &text, &e), 0);
	assert_string_equal(text, want);
	free(text);
	json_decref(doc);
}

static void load_bad(const char *in)
{
	json_t *doc = (json_t *)1;
	struct err e;

	if (dte_json_load(in, &doc, &e) != ERR_INVALID)
		fail_msg("dte_json_load accepted %s", in);
	assert_null(doc);
}

static void test_json_load(void **state)
{
	(void)state;
	load_is("{\"a\":0.1,\"b\":1.15,\"c\":999999.99,\"d\":0.00000001}",
		"{\"a\":0.1,\"b\":1.15,\"c\":999999.99,\"d\":0.00000001}");
	load_is(" { \"a\" : 1e-8 , \"b\": 2.5E+3, \"c\":2260.00, \"d\":-0.0, \"e\":12, \"f\":-3, \"g\":0.50 } ",
		"{\"a\":0.00000001,\"b\":2500,\"c\":2260,\"d\":0,\"e\":12,\"f\":-3,\"g\":0.5}");
	load_is("{\"s\":\"x 1.5 \\\" 2.5 \\\\\",\"u\":\"\\u00d1\",\"arr\":[1.10,[2e1],{\"k\":null}],\"b\":false}",
		"{\"s\":\"x 1.5 \\\" 2.5 \\\\\",\"u\":\"Ñ\",\"arr\":[1.1,[20],{\"k\":null}],\"b\":false}");
	load_bad("[1, 2]");
	load_bad("{\"a\":01}");
	load_bad("{\"a\":1.}");
	load_bad("{\"a\":.5}");
	load_bad("{\"a\":1e}");
	load_bad("{\"a\":1e999}");
	load_bad("{\"a\":\"\\u001f1.5\"}");
	load_bad("{\"a\":1,\"a\":2}");
	load_bad("{\"a\":");
	load_bad("not json");
	load_bad("");
}

/* MH's manual example (README §3.7): one item at 2000, CCF. */
static void test_ccf_official_example(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_CCF, nc);
	struct dte_item it = item(1 * E8, 2000 * E8, DTE_GRAVADA);
	struct dte_pago pago = {.codigo = "01", .rest = true};
	struct dte_totals t;

	(void)state;
	in.items = &it;
	in.nitems = 1;
	in.pagos = &pago;
	in.npagos = 1;
	text = build_ok(&in, &t);
	has(text, "\"identificacion\":{\"version\":3,\"ambiente\":\"00\",\"tipoDte\":\"03\","
		  "\"numeroControl\":\"DTE-03-M001P001-000000000000042\",\"codigoGeneracion\":\"" UUID_A "\","
		  "\"tipoModelo\":1,\"tipoOperacion\":1,\"tipoContingencia\":null,\"motivoContin\":null,"
		  "\"fecEmi\":\"2025-10-14\",\"horEmi\":\"10:30:00\",\"tipoMoneda\":\"USD\"}");
	has(text, "\"precioUni\":2000,\"montoDescu\":0,\"ventaNoSuj\":0,\"ventaExenta\":0,\"ventaGravada\":2000,"
		  "\"tributos\":[\"20\"],\"psv\":0,\"noGravado\":0}");
	has(text, "\"resumen\":{\"totalNoSuj\":0,\"totalExenta\":0,\"totalGravada\":2000,\"subTotalVentas\":2000,"
		  "\"descuNoSuj\":0,\"descuExenta\":0,\"descuGravada\":0,\"porcentajeDescuento\":0,\"totalDescu\":0,"
		  "\"tributos\":[{\"codigo\":\"20\",\"descripcion\":\"Impuesto al Valor Agregado 13%\",\"valor\":260}],"
		  "\"subTotal\":2000,\"ivaPerci1\":0,\"ivaRete1\":0,\"reteRenta\":0,\"montoTotalOperacion\":2260,"
		  "\"totalNoGravado\":0,\"totalPagar\":2260,"
		  "\"totalLetras\":\"DOS MIL DOSCIENTOS SESENTA 00/100 DÓLARES\",\"saldoFavor\":0,"
		  "\"condicionOperacion\":1,\"pagos\":[{\"codigo\":\"01\",\"montoPago\":2260,\"referencia\":null,"
		  "\"plazo\":null,\"periodo\":null}],\"numPagoElectronico\":null}");
	has(text, "\"documentoRelacionado\":null,\"emisor\":{");
	has(text, "\"otrosDocumentos\":null,\"ventaTercero\":null,\"cuerpoDocumento\":[");
	has(text, "\"extension\":null,\"apendice\":null}");
	assert_int_equal(t.iva_cents, 26000);
	assert_int_equal(t.monto_total_operacion_cents, 226000);
	assert_int_equal(t.total_pagar_cents, 226000);
	assert_string_equal(t.version->schema_file, "fe-ccf-v3.json");
	free(text);
}

/* A CCF MH sealed (README §9, calfarosv/factura-electronica): 2501.87 on
 * credit, 13 days, paid by cheque. */
static void test_ccf_sealed_example(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_CCF, nc);
	struct dte_item it = item(1 * E8, 250187000000LL, DTE_GRAVADA);
	struct dte_pago pago = {.codigo = "04", .rest = true, .plazo = "01", .periodo = 13};
	struct dte_totals t;

	(void)state;
	it.tipo_item = 3;
	in.items = &it;
	in.nitems = 1;
	in.condicion_operacion = 2;
	in.pagos = &pago;
	in.npagos = 1;
	text = build_ok(&in, &t);
	has(text, "\"valor\":325.24}]");
	has(text, "\"montoTotalOperacion\":2827.11,\"totalNoGravado\":0,\"totalPagar\":2827.11,"
		  "\"totalLetras\":\"DOS MIL OCHOCIENTOS VEINTISIETE 11/100 DÓLARES\"");
	has(text, "\"pagos\":[{\"codigo\":\"04\",\"montoPago\":2827.11,\"referencia\":null,\"plazo\":\"01\","
		  "\"periodo\":13}]");
	assert_int_equal(t.iva_cents, 32524);
	free(text);
}

/* Factura: prices include IVA; ivaItem per item at 8 decimals. */
static void test_fe_iva_included(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_FE, nc);
	struct dte_item its[3] = {item(1 * E8, 1130000000LL, DTE_GRAVADA), item(3 * E8, 10 * E8, DTE_GRAVADA),
				  item(7 * E8, 99000000LL, DTE_GRAVADA)};
	struct dte_pago pagos[2] = {{.codigo = "02", .monto_cents = 2000, .referencia = "POS 1234"},
				    {.codigo = "01", .rest = true}};
	struct dte_totals t;

	(void)state;
	in.items = its;
	in.nitems = 3;
	in.pagos = pagos;
	in.npagos = 2;
	text = build_ok(&in, &t); /* anonymous consumer */
	has(text, "\"receptor\":null");
	/* 11.30 x 13/113 = 1.3; 30 x 13/113 = 3.451327433...; 6.93 x 13/113 = 0.797256637... */
	has(text, "\"ventaGravada\":11.3,\"tributos\":null,\"psv\":0,\"noGravado\":0,\"ivaItem\":1.3}");
	has(text, "\"ventaGravada\":30,\"tributos\":null,\"psv\":0,\"noGravado\":0,\"ivaItem\":3.45132743}");
	has(text, "\"ventaGravada\":6.93,\"tributos\":null,\"psv\":0,\"noGravado\":0,\"ivaItem\":0.79725664}");
	/* Σ ivaItem = 5.54858407 -> 5.55 */
	has(text, "\"totalGravada\":48.23,");
	has(text, "\"tributos\":null,\"subTotal\":48.23,\"ivaRete1\":0,\"reteRenta\":0,\"montoTotalOperacion\":48.23,"
		  "\"totalNoGravado\":0,\"totalPagar\":48.23,\"totalLetras\":\"CUARENTA Y OCHO 23/100 DÓLARES\","
		  "\"totalIva\":5.55,\"saldoFavor\":0,\"condicionOperacion\":1,");
	has(text, "{\"codigo\":\"02\",\"montoPago\":20,\"referencia\":\"POS 1234\",\"plazo\":null,\"periodo\":null},"
		  "{\"codigo\":\"01\",\"montoPago\":28.23,");
	assert_int_equal(t.iva_cents, 555);
	free(text);

	/* an identified consumer with a DUI: written with its hyphen */
	in.receptor = &patient;
	text = build_ok(&in, NULL);
	has(text, "\"receptor\":{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nrc\":null,"
		  "\"nombre\":\"María José Pérez\",\"codActividad\":null,\"descActividad\":null,\"direccion\":{");
	free(text);
	/* the same DUI given as 9 digits */
	{
		struct dte_receptor r = patient;

		r.num_documento = "023827235";
		in.receptor = &r;
		text = build_ok(&in, NULL);
		has(text, "\"numDocumento\":\"02382723-5\"");
		free(text);
	}
}

/* Item discounts and global discounts, FE and CCF. */
static void test_discounts(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_FE, nc);
	struct dte_item its[3] = {item(2 * E8, 100 * E8, DTE_GRAVADA), item(1 * E8, 50 * E8, DTE_EXENTA),
				  item(1 * E8, 20 * E8, DTE_NO_SUJETA)};
	struct dte_totals t;

	(void)state;
	its[0].monto_descu_e8 = 15 * E8;
	its[1].monto_descu_e8 = 5 * E8;
	in.items = its;
	in.nitems = 3;
	in.descu_gravada_cents = 1000;
	in.descu_exenta_cents = 500;
	text = build_ok(&in, &t);
	has(text, "\"montoDescu\":15,\"ventaNoSuj\":0,\"ventaExenta\":0,\"ventaGravada\":185,");
	has(text, "\"ivaItem\":21.28318584}");
	has(text, "\"montoDescu\":5,\"ventaNoSuj\":0,\"ventaExenta\":45,\"ventaGravada\":0,\"tributos\":null,"
		  "\"psv\":0,\"noGravado\":0,\"ivaItem\":0}");
	/* 185 x 13/113 = 21.28318584; discount 10 x 13/113 = 1.15044248; IVA 20.13274336 -> 20.13 */
	has(text, "\"totalNoSuj\":20,\"totalExenta\":45,\"totalGravada\":185,\"subTotalVentas\":250,\"descuNoSuj\":0,"
		  "\"descuExenta\":5,\"descuGravada\":10,\"porcentajeDescuento\":6,\"totalDescu\":35,\"tributos\":null,"
		  "\"subTotal\":235,");
	has(text, "\"totalIva\":20.13,");
	assert_int_equal(t.total_pagar_cents, 23500);
	free(text);

	/* CCF: 100 - 10 on the line, 5 global: IVA 13 % of 85 = 11.05 */
	{
		char nc3[32];
		struct dte_input c = base(DTE_CCF, nc3);
		struct dte_item one = item(1 * E8, 100 * E8, DTE_GRAVADA);

		one.monto_descu_e8 = 10 * E8;
		c.items = &one;
		c.nitems = 1;
		c.descu_gravada_cents = 500;
		text = build_ok(&c, &t);
		has(text, "\"valor\":11.05}],\"subTotal\":85,");
		has(text, "\"montoTotalOperacion\":96.05,");
		has(text, "\"porcentajeDescuento\":5.56,\"totalDescu\":15,"); /* 5 / 90 */
		free(text);
	}
	/* a discount larger than the line, a global discount larger than its total */
	its[0].monto_descu_e8 = 200 * E8 + 1;
	build_fails(&in, "cuerpoDocumento[0].montoDescu");
	its[0].monto_descu_e8 = 200 * E8; /* a fully discounted line is fine */
	in.descu_gravada_cents = 0;
	text = build_ok(&in, NULL);
	free(text);
	in.descu_exenta_cents = 4501;
	build_fails(&in, "resumen.descuExenta");
}

/* Exempt and not-subject sales: no IVA anywhere. */
static void test_exempt_not_subject(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_CCF, nc);
	struct dte_item its[2] = {item(1 * E8, 4000000000LL, DTE_EXENTA), item(2 * E8, 1250000000LL, DTE_NO_SUJETA)};
	struct dte_totals t;

	(void)state;
	in.items = its;
	in.nitems = 2;
	text = build_ok(&in, &t);
	has(text, "\"ventaNoSuj\":0,\"ventaExenta\":40,\"ventaGravada\":0,\"tributos\":null");
	has(text, "\"ventaNoSuj\":25,\"ventaExenta\":0,\"ventaGravada\":0,\"tributos\":null");
	has(text, "\"totalNoSuj\":25,\"totalExenta\":40,\"totalGravada\":0,\"subTotalVentas\":65,");
	has(text, "\"tributos\":null,\"subTotal\":65,\"ivaPerci1\":0,\"ivaRete1\":0,\"reteRenta\":0,"
		  "\"montoTotalOperacion\":65,");
	assert_int_equal(t.iva_cents, 0);
	free(text);
	/* IVA retenido needs taxable sales (schema rule) */
	in.iva_rete1_cents = 100;
	build_fails(&in, "resumen.ivaRete1");
	in.iva_rete1_cents = 0;
	/* renta retention is fine, and lowers totalPagar */
	in.rete_renta_cents = 650;
	text = build_ok(&in, &t);
	has(text, "\"reteRenta\":6.5,\"montoTotalOperacion\":65,\"totalNoGravado\":0,\"totalPagar\":58.5,");
	free(text);

	/* Factura with an exempt line only */
	{
		struct dte_input f = base(DTE_FE, nc);

		f.items = its;
		f.nitems = 1;
		text = build_ok(&f, &t);
		has(text, "\"totalIva\":0,");
		free(text);
	}
}

/* Factura de Sujeto Excluido: the clinic buys from someone outside IVA. */
static void test_fse(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_FSE, nc);
	struct dte_item its[2] = {item(1 * E8, 300 * E8, DTE_GRAVADA), item(3 * E8, 3333333333LL, DTE_GRAVADA)};
	struct dte_pago pago = {.codigo = "05", .rest = true, .referencia = "TRF-778"};
	struct dte_totals t;

	(void)state;
	its[0].descripcion = "Honorarios por turno de guardia";
	its[1].monto_descu_e8 = 1;
	in.items = its;
	in.nitems = 2;
	in.descu_cents = 1000;
	in.rete_renta_cents = 3900; /* 10 % of 390 */
	in.pagos = &pago;
	in.npagos = 1;
	in.observaciones = "Pago de honorarios de octubre";
	text = build_ok(&in, &t);
	has(text, "\"sujetoExcluido\":{\"tipoDocumento\":\"13\",\"numDocumento\":\"023827235\",");
	assert_null(strstr(text, "\"receptor\""));
	has(text,
	    "{\"numItem\":1,\"tipoItem\":2,\"cantidad\":1,\"codigo\":\"CONS-01\",\"uniMedida\":59,"
	    "\"descripcion\":\"Honorarios por turno de guardia\",\"precioUni\":300,\"montoDescu\":0,\"compra\":300}");
	/* 3 x 33.33333333 = 99.99999999, less 0.00000001 */
	has(text, "\"precioUni\":33.33333333,\"montoDescu\":0.00000001,\"compra\":99.99999998}");
	has(text, "\"resumen\":{\"totalCompra\":400,\"descu\":10,\"totalDescu\":10,\"subTotal\":390,\"ivaRete1\":0,"
		  "\"reteRenta\":39,\"totalPagar\":351,\"totalLetras\":\"TRESCIENTOS CINCUENTA Y UN 00/100 DÓLARES\","
		  "\"condicionOperacion\":1,\"pagos\":[{\"codigo\":\"05\",\"montoPago\":351,\"referencia\":\"TRF-778\","
		  "\"plazo\":null,\"periodo\":null}],\"observaciones\":\"Pago de honorarios de octubre\"}");
	has(text, "\"codEstableMH\":\"M001\",\"codEstable\":\"0001\",\"codPuntoVentaMH\":\"P001\","
		  "\"codPuntoVenta\":\"CAJA-1\",\"correo\":\"facturacion@clinicasanrafael.com.sv\"}");
	assert_int_equal(t.total_pagar_cents, 35100);
	free(text);
	/* no sujeto excluido, or global discounts of the other types */
	in.receptor = NULL;
	build_fails(&in, "sujetoExcluido");
	in.receptor = &sujeto;
	in.descu_gravada_cents = 100;
	build_fails(&in, "resumen.descu");
	in.descu_gravada_cents = 0;
	in.descu_cents = 40001;
	build_fails(&in, "resumen.descu");
}

/* Credit and debit notes reference the original CCF. */
static void test_nc_nd(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_NC, nc);
	struct dte_doc_rel rel[2] = {{"03", 2, UUID_B, "2025-10-01"}, {"03", 1, "CCF-000123", "2025-09-15"}};
	struct dte_item its[2] = {item(1 * E8, 5000000000LL, DTE_GRAVADA), item(1 * E8, 1000000000LL, DTE_EXENTA)};
	struct dte_totals t;

	(void)state;
	in.items = its;
	in.nitems = 2;
	in.doc_rel = rel;
	in.ndoc_rel = 1;
	text = build_ok(&in, &t);
	has(text, "\"documentoRelacionado\":[{\"tipoDocumento\":\"03\",\"tipoGeneracion\":2,"
		  "\"numeroDocumento\":\"" UUID_B "\",\"fechaEmision\":\"2025-10-01\"}]");
	has(text, "{\"numItem\":1,\"tipoItem\":2,\"numeroDocumento\":\"" UUID_B "\",");
	has(text, "\"valor\":6.5}],\"subTotal\":60,\"ivaPerci1\":0,\"ivaRete1\":0,\"reteRenta\":0,"
		  "\"montoTotalOperacion\":66.5,\"totalLetras\":\"SESENTA Y SEIS 50/100 DÓLARES\","
		  "\"condicionOperacion\":1}");
	assert_null(strstr(text, "totalPagar"));
	assert_null(strstr(text, "\"psv\""));
	assert_null(strstr(text, "codEstable"));
	assert_int_equal(t.total_pagar_cents, 6650);
	free(text);

	/* two related documents: each line names its own */
	in.ndoc_rel = 2;
	build_fails(&in, "cuerpoDocumento[0].numeroDocumento");
	its[0].numero_documento = UUID_B;
	its[1].numero_documento = "CCF-000123";
	text = build_ok(&in, NULL);
	has(text, "\"numeroDocumento\":\"CCF-000123\",");
	free(text);
	its[1].numero_documento = "CCF-999";
	build_fails(&in, "cuerpoDocumento[1].numeroDocumento");
	its[1].numero_documento = "CCF-000123";

	/* the related document is required, of type 03 or 07, electronic ones by UUID */
	in.ndoc_rel = 0;
	build_fails(&in, "documentoRelacionado");
	in.ndoc_rel = 2;
	rel[0].tipo_documento = "01";
	build_fails(&in, "documentoRelacionado[0].tipoDocumento");
	rel[0].tipo_documento = "03";
	rel[0].numero_documento = "not-a-uuid";
	build_fails(&in, "documentoRelacionado[0].numeroDocumento");
	rel[0].numero_documento = UUID_B;
	rel[1].fecha_emision = "2025-10-15"; /* after fecEmi */
	build_fails(&in, "documentoRelacionado[1].fechaEmision");
	rel[1].fecha_emision = "2025-09-15";
	/* a note has no pagos, psv, noGravado */
	its[0].psv_e8 = 1;
	build_fails(&in, "cuerpoDocumento[0].noGravado");
	its[0].psv_e8 = 0;
	{
		struct dte_pago p = {.codigo = "01", .rest = true};

		in.pagos = &p;
		in.npagos = 1;
		build_fails(&in, "resumen.pagos");
		in.pagos = NULL;
		in.npagos = 0;
	}
	in.num_pago_electronico = "PE-1";
	build_fails(&in, "resumen.numPagoElectronico");
	in.num_pago_electronico = NULL;

	/* Nota de Débito: same shape, plus numPagoElectronico */
	{
		struct dte_input d = in;
		char nd[32];

		d = base(DTE_ND, nd);
		d.items = its;
		d.nitems = 2;
		d.doc_rel = rel;
		d.ndoc_rel = 2;
		d.num_pago_electronico = "NPE-0001";
		text = build_ok(&d, NULL);
		has(text, "\"tipoDte\":\"06\"");
		has(text, "\"condicionOperacion\":1,\"numPagoElectronico\":\"NPE-0001\"}");
		free(text);
	}
}

/* Half-up at the 8th decimal on items and the 2nd on the resumen. */
static void test_rounding(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_CCF, nc);
	struct dte_item it;
	struct dte_totals t;

	(void)state;
	in.items = &it;
	in.nitems = 1;
	/* 0.5 x 0.00000002 = 0.00000001 exactly; 0.5 x 0.00000001 = 0.000000005 -> 0.00000001 */
	it = item(50000000, 1, DTE_GRAVADA);
	in.type = DTE_FSE;
	in.receptor = &sujeto;
	assert_int_equal(dte_numero_control(DTE_FSE, "M001", "P001", 7, nc, &(struct err){0}), 0);
	text = build_ok(&in, NULL);
	has(text, "\"compra\":0.00000001}");
	has(text, "\"totalCompra\":0,");
	free(text);
	/* 0.49999999 x 0.00000001 -> 0 */
	it.cantidad_e8 = 49999999;
	text = build_ok(&in, NULL);
	has(text, "\"compra\":0}");
	free(text);

	/* resumen: 5.665 -> 5.67, 5.664 -> 5.66 (MH's manual) */
	in = base(DTE_CCF, nc);
	in.items = &it;
	in.nitems = 1;
	it = item(1 * E8, 566500000LL, DTE_GRAVADA);
	text = build_ok(&in, &t);
	has(text, "\"ventaGravada\":5.665,");
	has(text, "\"totalGravada\":5.67,");
	/* IVA 13 % of 5.67 = 0.7371 -> 0.74 */
	has(text, "\"valor\":0.74}");
	free(text);
	it.precio_uni_e8 = 566400000LL;
	text = build_ok(&in, &t);
	has(text, "\"totalGravada\":5.66,");
	free(text);
	/* IVA boundaries: 0.50 x 13 % = 0.065 -> 0.07; 0.03 x 13 % = 0.0039 -> 0.00 */
	it.precio_uni_e8 = 50000000LL;
	text = build_ok(&in, &t);
	has(text, "\"valor\":0.07}");
	free(text);
	it.precio_uni_e8 = 3000000LL;
	text = build_ok(&in, &t);
	has(text, "\"valor\":0}");
	has(text, "\"montoTotalOperacion\":0.03,");
	free(text);
	/* one third: 0.33333333 x 3 = 0.99999999 -> 1.00 */
	it = item(33333333, 3 * E8, DTE_GRAVADA);
	text = build_ok(&in, &t);
	has(text, "\"ventaGravada\":0.99999999,");
	has(text, "\"totalGravada\":1,");
	free(text);
	/* noGravado -0.005 -> -0.01 (half away from zero) */
	it = item(1 * E8, 10 * E8, DTE_GRAVADA);
	it.no_gravado_e8 = -500000;
	text = build_ok(&in, &t);
	has(text, "\"noGravado\":-0.005}");
	has(text, "\"montoTotalOperacion\":11.3,\"totalNoGravado\":-0.01,\"totalPagar\":11.29,");
	free(text);

	/* the price helpers */
	assert_int_equal(dte_price_with_iva(1 * E8), 113000000);
	assert_int_equal(dte_price_without_iva(113000000), 1 * E8);
	assert_int_equal(dte_price_without_iva(1), 1);		   /* 0.0000000088 -> 0.00000001 */
	assert_int_equal(dte_price_with_iva(50), 57);		   /* 0.000000565 -> 0.00000057 */
	assert_int_equal(dte_price_without_iva(1 * E8), 88495575); /* 0.884955752... */
}

/* Decimals print exactly: no binary float artefacts anywhere. */
static void test_exact_serialisation(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_FE, nc);
	struct dte_item its[4] = {item(1 * E8, 10000000LL, DTE_GRAVADA), item(1 * E8, 115000000LL, DTE_GRAVADA),
				  item(1 * E8, 99999999000000LL, DTE_EXENTA), item(1, 1 * E8, DTE_GRAVADA)};

	(void)state;
	in.receptor = &patient; /* 999,999.99 needs an identified buyer */
	in.items = its;
	in.nitems = 4;
	text = build_ok(&in, NULL);
	has(text, "\"cantidad\":1,\"codigo\":\"CONS-01\",\"codTributo\":null,\"uniMedida\":59,"
		  "\"descripcion\":\"Consulta médica general\",\"precioUni\":0.1,");
	has(text, "\"precioUni\":1.15,");
	has(text, "\"precioUni\":999999.99,");
	has(text, "\"cantidad\":0.00000001,");
	has(text, "\"ventaGravada\":0.00000001,");
	has(text, "\"totalExenta\":999999.99,\"totalGravada\":1.25,\"subTotalVentas\":1000001.24,");
	has(text, "\"totalLetras\":\"UN MILLÓN UN 24/100 DÓLARES\"");
	{
		bool in_str = false; /* no exponent in any number */

		for (const char *p = text; p[0] && p[1]; p++) {
			if (in_str && p[0] == '\\') {
				p++;
				continue;
			}
			if (p[0] == '"')
				in_str = !in_str;
			else if (!in_str)
				assert_false(p[0] >= '0' && p[0] <= '9' && (p[1] == 'e' || p[1] == 'E'));
		}
	}
	assert_null(strstr(text, "0000001"
				 "0"));
	assert_null(strstr(text, "99999999"
				 "9"));
	free(text);
	/* anonymous at 1,095.00 and more is refused */
	in.receptor = NULL;
	build_fails(&in, "receptor");
	its[2].precio_uni_e8 = 109374999999LL; /* total 1094.99999999 + 1.25 -> 1096.25: still refused */
	build_fails(&in, "receptor");
	its[2].precio_uni_e8 = 109374000000LL; /* 1093.74 + 1.25 = 1094.99 */
	text = build_ok(&in, NULL);
	has(text, "\"montoTotalOperacion\":1094.99,");
	free(text);
}

/* Contingency: tipoModelo 2, tipoOperacion 2, and the motive rules. */
static void test_contingency(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_FE, nc);
	struct dte_item it = item(1 * E8, 25 * E8, DTE_GRAVADA);

	(void)state;
	in.items = &it;
	in.nitems = 1;
	in.tipo_contingencia = 3;
	text = build_ok(&in, NULL);
	has(text, "\"tipoModelo\":2,\"tipoOperacion\":2,\"tipoContingencia\":3,\"motivoContin\":null,");
	free(text);
	in.tipo_contingencia = 5; /* "otro": the motive is required */
	build_fails(&in, "identificacion.motivoContin");
	in.motivo_contin = "Caíd"; /* FE: 5..150 characters */
	build_fails(&in, "identificacion.motivoContin");
	in.motivo_contin = "Caída"; /* 5 characters in 6 bytes */
	text = build_ok(&in, NULL);
	has(text, "\"tipoContingencia\":5,\"motivoContin\":\"Caída\",");
	free(text);
	/* a CCF accepts a 1-character motive, an FSE up to 500 */
	{
		struct dte_input c = base(DTE_CCF, nc);
		char long_motive[502];

		c.items = &it;
		c.nitems = 1;
		c.tipo_contingencia = 5;
		c.motivo_contin = "X";
		text = build_ok(&c, NULL);
		free(text);
		c = base(DTE_FSE, nc);
		c.items = &it;
		c.nitems = 1;
		c.tipo_contingencia = 5;
		memset(long_motive, 'm', 500);
		long_motive[500] = '\0';
		c.motivo_contin = long_motive;
		text = build_ok(&c, NULL);
		free(text);
		long_motive[500] = 'm';
		long_motive[501] = '\0';
		build_fails(&c, "identificacion.motivoContin");
	}
}

static void test_numero_control(void **state)
{
	char nc[32];
	struct err e;

	(void)state;
	assert_int_equal(dte_numero_control(DTE_CCF, "M001", "P001", 1, nc, &e), 0);
	assert_string_equal(nc, "DTE-03-M001P001-000000000000001");
	assert_int_equal(dte_numero_control(DTE_FSE, "0001", "0002", 999999999999999LL, nc, &e), 0);
	assert_string_equal(nc, "DTE-14-00010002-999999999999999");
	assert_int_equal(dte_numero_control(DTE_FE, "m001", "P001", 1, nc, &e), ERR_INVALID);
	assert_int_equal(dte_numero_control(DTE_FE, "M01", "P001", 1, nc, &e), ERR_INVALID);
	assert_int_equal(dte_numero_control(DTE_FE, "M001", "P-01", 1, nc, &e), ERR_INVALID);
	assert_int_equal(dte_numero_control(DTE_FE, "M001", "P001", 0, nc, &e), ERR_INVALID);
	assert_int_equal(dte_numero_control(DTE_FE, "M001", "P001", 1000000000000000LL, nc, &e), ERR_INVALID);
	assert_int_equal(dte_numero_control((enum dte_type)2, "M001", "P001", 1, nc, &e), ERR_INVALID);
}

static void test_types_and_versions(void **state)
{
	size_t n;
	const struct dte_version_info *v = dte_versions(&n);
	static const enum dte_type all[] = {DTE_FE, DTE_CCF, DTE_NC, DTE_ND, DTE_FSE};
	static const int want_version[] = {1, 3, 3, 3, 1};

	(void)state;
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 5; i++) {
		const struct dte_version_info *d = dte_version_find(all[i], 0);
		const json_t *schema;
		const json_t *props;

		assert_non_null(d);
		assert_true(d->is_default);
		assert_int_equal(d->version, want_version[i]);
		assert_ptr_equal(dte_version_find(all[i], want_version[i]), d);
		assert_int_equal(dte_type_parse(dte_type_code(all[i])), all[i]);
		assert_non_null(dte_type_name(all[i]));
		/* the row agrees with the schema file it names */
		schema = schema_for(d);
		assert_string_equal(json_string_value(json_object_get(schema, "title")), d->title);
		props = json_object_get(json_object_get(json_object_get(schema, "properties"), "identificacion"),
					"properties");
		assert_int_equal(json_integer_value(json_object_get(json_object_get(props, "version"), "const")),
				 d->version);
		assert_string_equal(json_string_value(json_object_get(json_object_get(props, "tipoDte"), "const")),
				    dte_type_code(all[i]));
		assert_int_equal(
		    json_integer_value(json_object_get(json_object_get(props, "motivoContin"), "maxLength")),
		    d->motivo_max);
		assert_int_equal(
		    json_integer_value(json_object_get(json_object_get(props, "motivoContin"), "minLength")),
		    d->motivo_min);
	}
	assert_null(dte_version_find(DTE_FE, 2));
	assert_null(dte_version_find(DTE_CCF, 4));
	assert_int_equal(dte_type_parse("04"), -1);
	assert_int_equal(dte_type_parse(NULL), -1);
	assert_null(dte_type_code((enum dte_type)4));
	assert_int_equal(dte_type_for_receptor(true), DTE_CCF);
	assert_int_equal(dte_type_for_receptor(false), DTE_FE);
	assert_string_equal(v[0].schema_file, "fe-fc-v1.json");
}

/* Every field of the input that can be wrong names itself. */
static void test_validation(void **state)
{
	char nc[32];
	struct dte_input in = base(DTE_CCF, nc);
	struct dte_item it = item(1 * E8, 10 * E8, DTE_GRAVADA);
	struct dte_emisor m = clinic;
	struct dte_receptor r = company;
	struct dte_address a = addr_libertad;

	(void)state;
	in.items = &it;
	in.nitems = 1;
	in.emisor = &m;
	in.receptor = &r;
	r.direccion = &a;

	in.version = 4;
	build_fails(&in, "identificacion.version");
	in.version = 3;
	in.ambiente = "02";
	build_fails(&in, "identificacion.ambiente");
	in.ambiente = "01";
	in.numero_control = "DTE-01-M001P001-000000000000042"; /* a Factura number on a CCF */
	build_fails(&in, "identificacion.numeroControl");
	in.numero_control = "DTE-03-M001P001-000000000000000";
	build_fails(&in, "identificacion.numeroControl");
	in.numero_control = nc;
	in.codigo_generacion = "5f2a0c3e-8b1d-4e6f-9a7b-1c2d3e4f5a6b";
	build_fails(&in, "identificacion.codigoGeneracion");
	in.codigo_generacion = UUID_A;
	in.fec_emi = "2025-02-30";
	build_fails(&in, "identificacion.fecEmi");
	in.fec_emi = "2025-10-14";
	in.hor_emi = "24:00:00";
	build_fails(&in, "identificacion.horEmi");
	in.hor_emi = "10:30";
	build_fails(&in, "identificacion.horEmi");
	in.hor_emi = "23:59:59";
	in.motivo_contin = "sin contingencia";
	build_fails(&in, "identificacion.motivoContin");
	in.motivo_contin = NULL;
	in.tipo_contingencia = 6;
	build_fails(&in, "identificacion.tipoContingencia");
	in.tipo_contingencia = 0;

	in.emisor = NULL;
	build_fails(&in, "emisor");
	in.emisor = &m;
	m.nit = "0614-050707-104-8";
	build_fails(&in, "emisor.nit");
	m.nit = clinic.nit;
	m.nrc = "1";
	build_fails(&in, "emisor.nrc");
	m.nrc = clinic.nrc;
	m.cod_actividad = "861";
	build_fails(&in, "emisor.codActividad");
	m.cod_actividad = clinic.cod_actividad;
	m.tipo_establecimiento = "03";
	build_fails(&in, "emisor.tipoEstablecimiento");
	m.tipo_establecimiento = clinic.tipo_establecimiento;
	m.correo = "facturacion@clinica";
	build_fails(&in, "emisor.correo");
	m.correo = "a b@clinica.sv";
	build_fails(&in, "emisor.correo");
	m.correo = clinic.correo;
	m.telefono = "2222";
	build_fails(&in, "emisor.telefono");
	m.telefono = clinic.telefono;
	m.direccion.departamento = "15";
	build_fails(&in, "emisor.direccion.departamento");
	m.direccion.departamento = "06";
	m.direccion.municipio = "25";
	build_fails(&in, "emisor.direccion.municipio");
	m.direccion.municipio = "23"; /* San Salvador Centro (2024 reform) is a catalog code */
	{
		json_t *doc;
		struct err e;

		assert_int_equal(dte_build(&in, &doc, NULL, &e), 0);
		json_decref(doc);
	}
	m.direccion.municipio = "14";
	m.cod_estable = "12345";
	build_fails(&in, "emisor.codEstable");
	m.cod_estable = clinic.cod_estable;
	m.nombre = "Clínica\x01";
	build_fails(&in, "emisor.nombre");
	m.nombre = "Cl\xc3\x28nica";
	build_fails(&in, "emisor.nombre");
	m.nombre = "Clínica\x1f"
		   "1,\"x\":2";
	build_fails(&in, "emisor.nombre");
	m.nombre = clinic.nombre;

	in.receptor = NULL;
	build_fails(&in, "receptor");
	in.receptor = &r;
	r.nit = "06142004981075"; /* wrong check digit */
	build_fails(&in, "receptor.nit");
	r.nit = "023827235"; /* a DUI as NIT */
	{
		json_t *doc;
		struct err e;

		assert_int_equal(dte_build(&in, &doc, NULL, &e), 0);
		json_decref(doc);
	}
	r.nit = company.nit;
	r.nrc = NULL;
	build_fails(&in, "receptor.nrc");
	r.nrc = company.nrc;
	r.correo = NULL;
	build_fails(&in, "receptor.correo");
	r.correo = company.correo;
	r.direccion = NULL;
	build_fails(&in, "receptor.direccion");
	r.direccion = &a;

	it.tipo_item = 4;
	build_fails(&in, "cuerpoDocumento[0].tipoItem");
	it.tipo_item = 2;
	it.uni_medida = 7;
	build_fails(&in, "cuerpoDocumento[0].uniMedida");
	it.uni_medida = 0; /* default 59 */
	it.cantidad_e8 = 0;
	build_fails(&in, "cuerpoDocumento[0].cantidad");
	it.cantidad_e8 = 1 * E8;
	it.precio_uni_e8 = -1;
	build_fails(&in, "cuerpoDocumento[0].precioUni");
	it.precio_uni_e8 = DTE_ITEM_MAX_E8;
	build_fails(&in, "cuerpoDocumento[0].precioUni");
	it.precio_uni_e8 = 10 * E8;
	it.cantidad_e8 = 200000 * E8; /* 2,000,000 x 10^5 ... */
	it.precio_uni_e8 = 100000 * E8;
	build_fails(&in, "cuerpoDocumento[0].precioUni");
	it.cantidad_e8 = 1 * E8;
	it.precio_uni_e8 = 10 * E8;
	it.descripcion = "";
	build_fails(&in, "cuerpoDocumento[0].descripcion");
	it.descripcion = "Consulta";
	it.codigo = "12345678901234567890123456";
	build_fails(&in, "cuerpoDocumento[0].codigo");
	it.codigo = NULL;
	it.numero_documento = "CCF-1";
	build_fails(&in, "cuerpoDocumento[0].numeroDocumento"); /* not among the related documents */
	it.numero_documento = NULL;
	in.nitems = 0;
	build_fails(&in, "cuerpoDocumento");
	in.nitems = 1;

	/* pagos */
	{
		struct dte_pago p[2] = {{.codigo = "01", .monto_cents = 1000}, {.codigo = "03", .monto_cents = 100}};

		in.pagos = p;
		in.npagos = 2;
		build_fails(&in, "resumen.pagos"); /* 11.00 of 11.30 on a contado sale */
		p[1].monto_cents = 130;
		{
			json_t *doc;
			struct err e;

			assert_int_equal(dte_build(&in, &doc, NULL, &e), 0);
			json_decref(doc);
		}
		p[1].monto_cents = 131;
		build_fails(&in, "resumen.pagos");
		p[1].codigo = "06";
		build_fails(&in, "resumen.pagos[1].codigo");
		p[1].codigo = "03";
		p[0].rest = p[1].rest = true;
		build_fails(&in, "resumen.pagos[1].montoPago");
		p[1].rest = false;
		in.condicion_operacion = 2;
		build_fails(&in, "resumen.pagos[0].plazo");
		p[0].plazo = p[1].plazo = "02";
		p[0].periodo = 0;
		build_fails(&in, "resumen.pagos[0].periodo");
		p[0].periodo = p[1].periodo = 3;
		p[0].plazo = "04";
		build_fails(&in, "resumen.pagos[0].plazo");
		p[0].plazo = "02";
		in.condicion_operacion = 4;
		build_fails(&in, "resumen.condicionOperacion");
		in.condicion_operacion = 0;
		in.pagos = NULL;
		in.npagos = 0;
	}
	/* blocks a type does not have */
	{
		struct dte_extension x = {.placa_vehiculo = "P123456"};
		struct dte_apendice ap = {"cita", "Número de cita", "A-1023"};
		struct dte_otro_doc od = {
		    .cod_doc_asociado = 1, .desc_documento = "Orden", .detalle_documento = "OS-1"};

		in.observaciones = "x";
		build_fails(&in, "resumen.observaciones");
		in.observaciones = NULL;
		in.descu_cents = 1;
		build_fails(&in, "resumen.descu");
		in.descu_cents = 0;
		in.extension = &x;
		in.apendice = &ap;
		in.napendice = 1;
		in.otros = &od;
		in.notros = 1;
		{
			json_t *doc;
			struct err e;

			assert_int_equal(dte_build(&in, &doc, NULL, &e), 0);
			json_decref(doc);
		}
		ap.campo = "c";
		build_fails(&in, "apendice[0].campo");
		ap.campo = "cita";
		od.detalle_documento = NULL;
		build_fails(&in, "otrosDocumentos[0].detalleDocumento");
		od.detalle_documento = "OS-1";
		od.cod_doc_asociado = 5;
		build_fails(&in, "otrosDocumentos[0].codDocAsociado");
		od.cod_doc_asociado = 1;
		x.nomb_entrega = "Ana";
		build_fails(&in, "extension.nombEntrega");
		x.nomb_entrega = NULL;
	}
}

/* The médico block (CAT-021 code 3, for clinics filing F-958), ventaTercero,
 * extension and apéndice on a Factura. */
static void test_fe_full_blocks(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_FE, nc);
	struct dte_item it = item(1 * E8, 45 * E8, DTE_GRAVADA);
	struct dte_medico med = {"Dra. Ana Lucía Flores", "023827235", NULL, 3};
	struct dte_medico med2 = {"Dr. John Smith", NULL, "P-AB1234567", 1};
	struct dte_otro_doc otros[2] = {{3, NULL, NULL, &med}, {3, NULL, NULL, &med2}};
	struct dte_venta_tercero vt = {"06142004981074", "Laboratorio Clínico Central"};
	struct dte_extension x = {"Recepción Central", "02382723-5",	    "María José Pérez",
				  "02382723-5",	       "Paciente referido", "P123-456"};
	struct dte_apendice ap[2] = {{"orden", "Número de orden", "INV-20251014-000001"},
				     {"paciente", "Expediente", "EXP-8841"}};
	struct dte_doc_rel rel = {"09", 2, UUID_B, "2025-10-10"};

	(void)state;
	in.receptor = &patient;
	in.items = &it;
	in.nitems = 1;
	in.otros = otros;
	in.notros = 2;
	in.venta_tercero = &vt;
	in.extension = &x;
	in.apendice = ap;
	in.napendice = 2;
	in.doc_rel = &rel;
	in.ndoc_rel = 1;
	in.num_pago_electronico = "NPE-77";
	text = build_ok(&in, NULL);
	has(text, "\"otrosDocumentos\":[{\"codDocAsociado\":3,\"descDocumento\":null,\"detalleDocumento\":null,"
		  "\"medico\":{\"nombre\":\"Dra. Ana Lucía Flores\",\"nit\":\"023827235\",\"docIdentificacion\":null,"
		  "\"tipoServicio\":3}},");
	has(text, "\"ventaTercero\":{\"nit\":\"06142004981074\",\"nombre\":\"Laboratorio Clínico Central\"}");
	has(text, "\"extension\":{\"nombEntrega\":\"Recepción Central\",");
	has(text, "\"placaVehiculo\":\"P123-456\"}");
	has(text,
	    "\"apendice\":[{\"campo\":\"orden\",\"etiqueta\":\"Número de orden\",\"valor\":\"INV-20251014-000001\"}");
	has(text, "\"documentoRelacionado\":[{\"tipoDocumento\":\"09\",");
	has(text, "\"numPagoElectronico\":\"NPE-77\"}");
	free(text);
	med.nit = NULL;
	build_fails(&in, "otrosDocumentos[0].medico.nit");
	med.nit = "023827235";
	otros[0].desc_documento = "x";
	build_fails(&in, "otrosDocumentos[0].descDocumento");
	otros[0].desc_documento = NULL;
	med.tipo_servicio = 7;
	build_fails(&in, "otrosDocumentos[0].medico.tipoServicio");
	med.tipo_servicio = 3;
	rel.tipo_documento = "03"; /* a Factura relates only 04 / 09 */
	build_fails(&in, "documentoRelacionado[0].tipoDocumento");
	rel.tipo_documento = "04";
	rel.tipo_generacion = 1;
	rel.numero_documento = "NR-000000000000000000"; /* 21 > 20 characters */
	build_fails(&in, "documentoRelacionado[0].numeroDocumento");
	rel.numero_documento = "NR-0001";
	text = build_ok(&in, NULL);
	free(text);

	/* FE receptor document rules */
	{
		struct dte_receptor r = patient;

		in.receptor = &r;
		r.num_documento = "02382723-4";
		build_fails(&in, "receptor.numDocumento");
		r.tipo_documento = "36";
		r.num_documento = "06142004981074";
		r.nrc = "1069217";
		text = build_ok(&in, NULL);
		has(text, "\"tipoDocumento\":\"36\",\"numDocumento\":\"06142004981074\",\"nrc\":\"1069217\",");
		free(text);
		r.tipo_documento = "03";
		r.num_documento = "A1234567";
		text = build_ok(&in, NULL); /* the NRC goes only with a NIT */
		has(text, "\"tipoDocumento\":\"03\",\"numDocumento\":\"A1234567\",\"nrc\":null,");
		free(text);
		r.tipo_documento = "99";
		build_fails(&in, "receptor.tipoDocumento");
		r.tipo_documento = NULL;
		build_fails(&in, "receptor.tipoDocumento");
		r.num_documento = NULL;
		r.direccion = NULL;
		text = build_ok(&in, NULL);
		has(text,
		    "\"receptor\":{\"tipoDocumento\":null,\"numDocumento\":null,\"nrc\":null,"
		    "\"nombre\":\"María José Pérez\",\"codActividad\":null,\"descActividad\":null,\"direccion\":null,");
		free(text);
	}
}

/* dte_verify finds a changed number. */
static void test_verify_detects(void **state)
{
	char nc[32], *text;
	struct dte_input in = base(DTE_FE, nc);
	struct dte_item its[2] = {item(1 * E8, 1130000000LL, DTE_GRAVADA), item(2 * E8, 5 * E8, DTE_EXENTA)};
	json_t *doc;
	struct err e;

	(void)state;
	in.items = its;
	in.nitems = 2;
	assert_int_equal(dte_build(&in, &doc, NULL, &e), 0);
	json_object_set_new(json_object_get(doc, "resumen"), "totalPagar", dte_json_decimal(2131, 2));
	assert_int_equal(dte_verify(doc, false, &e), 0); /* MH's ±0.01 */
	assert_int_equal(dte_verify(doc, true, &e), ERR_INVALID);
	assert_string_equal(e.field, "resumen.totalPagar");
	json_object_set_new(json_object_get(doc, "resumen"), "totalPagar", dte_json_decimal(2132, 2));
	assert_int_equal(dte_verify(doc, false, &e), ERR_INVALID);
	json_object_set_new(json_object_get(doc, "resumen"), "totalPagar", dte_json_decimal(2130, 2));
	assert_int_equal(dte_verify(doc, true, &e), 0);
	json_object_set_new(json_array_get(json_object_get(doc, "cuerpoDocumento"), 0), "ivaItem",
			    dte_json_decimal(130000001, 8));
	assert_int_equal(dte_verify(doc, true, &e), ERR_INVALID);
	assert_string_equal(e.field, "cuerpoDocumento[0].ivaItem");
	json_object_set_new(json_array_get(json_object_get(doc, "cuerpoDocumento"), 0), "ivaItem",
			    dte_json_decimal(130000000, 8));
	json_object_set_new(json_object_get(doc, "resumen"), "totalLetras", json_string("VEINTIUNO"));
	assert_int_equal(dte_verify(doc, true, &e), ERR_INVALID);
	assert_string_equal(e.field, "resumen.totalLetras");
	assert_int_equal(dte_verify(doc, false, &e), 0);
	json_object_set_new(json_array_get(json_object_get(doc, "cuerpoDocumento"), 1), "numItem", json_integer(3));
	assert_int_equal(dte_verify(doc, false, &e), ERR_INVALID);
	assert_string_equal(e.field, "cuerpoDocumento[1].numItem");
	json_decref(doc);

	/* MH's sealed CCF, as MH stored it (numbers with binary-looking text) */
	text = "{\"identificacion\":{\"version\":3,\"tipoDte\":\"03\"},\"cuerpoDocumento\":[{\"numItem\":1,"
	       "\"cantidad\":1,\"precioUni\":2501.87,\"montoDescu\":0,\"ventaNoSuj\":0,\"ventaExenta\":0,"
	       "\"ventaGravada\":2501.87,\"tributos\":[\"20\"],\"noGravado\":0}],\"resumen\":{\"totalNoSuj\":0,"
	       "\"totalExenta\":0,\"totalGravada\":2501.87,\"subTotalVentas\":2501.87,\"descuNoSuj\":0,"
	       "\"descuExenta\":0,\"descuGravada\":0,\"porcentajeDescuento\":0,\"totalDescu\":0,\"tributos\":"
	       "[{\"codigo\":\"20\",\"descripcion\":\"Impuesto al Valor Agregado 13%\",\"valor\":325.24}],"
	       "\"subTotal\":2501.87,\"ivaPerci1\":0,\"ivaRete1\":0,\"reteRenta\":0,\"montoTotalOperacion\":2827.11,"
	       "\"totalNoGravado\":0,\"totalPagar\":2827.11,\"totalLetras\":\"DOS MIL OCHOCIENTOS VEINTISIETE  "
	       "DÓLARES CON 11/100\",\"condicionOperacion\":2,\"pagos\":[{\"codigo\":\"04\",\"montoPago\":2827.11}]}}";
	assert_int_equal(dte_json_load(text, &doc, &e), 0);
	assert_int_equal(dte_verify(doc, false, &e), 0);
	assert_int_equal(dte_verify(doc, true, &e), ERR_INVALID); /* its totalLetras style is not ours */
	assert_string_equal(e.field, "resumen.totalLetras");
	json_decref(doc);
}

static void test_delivered(void **state)
{
	char *out;
	struct err e;

	(void)state;
	assert_int_equal(dte_json_delivered("{\"a\":1.5}\n", "eyJhbGciOiJSUzUxMiJ9.e30.c2ln",
					    "20239E36DC0349624941A4BF1E0BA0D71A29TUIF", &out, &e),
			 0);
	assert_string_equal(out, "{\"a\":1.5,\"firmaElectronica\":\"eyJhbGciOiJSUzUxMiJ9.e30.c2ln\","
				 "\"selloRecibido\":\"20239E36DC0349624941A4BF1E0BA0D71A29TUIF\"}");
	free(out);
	assert_int_equal(dte_json_delivered("{}", "x.y.z", NULL, &out, &e), 0);
	assert_string_equal(out, "{\"firmaElectronica\":\"x.y.z\",\"selloRecibido\":null}");
	free(out);
	assert_int_equal(dte_json_delivered("{\"firmaElectronica\":\"a\"}", "x.y.z", NULL, &out, &e), ERR_INVALID);
	assert_int_equal(dte_json_delivered("[1]", "x.y.z", NULL, &out, &e), ERR_INVALID);
	assert_int_equal(dte_json_delivered("{\"a\":1}", NULL, NULL, &out, &e), ERR_INVALID);
	assert_null(out);
}

/* A few hundred documents of every type from a fixed pseudo-random stream,
 * each checked every way (schema keys, README rules, dte_verify, reload). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % n;
}

static void test_mini_corpus(void **state)
{
	static const enum dte_type types[] = {DTE_FE, DTE_CCF, DTE_NC, DTE_ND, DTE_FSE};
	static const int64_t prices[] = {
	    1,		 10000000LL, 115000000LL, 99999999000000LL, 3333333333LL, 2000 * E8, 1130000000LL,
	    566500000LL, 0,	     4999999LL,	  123456789012LL};
	static const int64_t qtys[] = {1 * E8, 2 * E8, 1, 33333333, 50000000, 12345678, 1000 * E8, 3 * E8};
	struct dte_doc_rel rel = {"03", 2, UUID_B, "2025-10-01"};
	int built = 0;

	(void)state;
	for (int n = 0; n < 600; n++) {
		char nc[32], *text;
		enum dte_type type = types[n % 5];
		struct dte_input in = base(type, nc);
		struct dte_item its[6];
		struct dte_pago pago = {.codigo = "01", .rest = true};
		json_t *doc;
		struct err e;
		size_t k = 1 + rnd(6);

		for (size_t i = 0; i < k; i++) {
			its[i] = item(qtys[rnd(8)], prices[rnd(11)], (enum dte_treatment)rnd(3));
			if (rnd(4) == 0)
				its[i].monto_descu_e8 = (int64_t)rnd(
				    (uint64_t)(its[i].cantidad_e8 / 100000000 * its[i].precio_uni_e8 / 2) + 1);
		}
		in.items = its;
		in.nitems = k;
		if (type == DTE_FE && rnd(2))
			in.receptor = &patient;
		if (type == DTE_NC || type == DTE_ND) {
			in.doc_rel = &rel;
			in.ndoc_rel = 1;
		}
		if (type != DTE_NC && type != DTE_ND && rnd(2)) {
			in.pagos = &pago;
			in.npagos = 1;
		}
		if (rnd(5) == 0)
			in.tipo_contingencia = 1 + (int)rnd(4);
		err_clear(&e);
		if (dte_build(&in, &doc, NULL, &e) != 0) {
			/* only the documented refusals: a note or CCF of 0.00, an anonymous Factura >= 1,095 */
			if (!(strcmp(e.field, "resumen.montoTotalOperacion") == 0 || strcmp(e.field, "receptor") == 0))
				fail_msg("document %d: %s (%s)", n, e.message, e.field);
			continue;
		}
		json_decref(doc);
		text = build_ok(&in, NULL);
		free(text);
		built++;
	}
	assert_true(built > 400);
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 8; i++)
		json_decref(schema_cache[i]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_decimal_text),
	    cmocka_unit_test(test_json_load),
	    cmocka_unit_test(test_ccf_official_example),
	    cmocka_unit_test(test_ccf_sealed_example),
	    cmocka_unit_test(test_fe_iva_included),
	    cmocka_unit_test(test_discounts),
	    cmocka_unit_test(test_exempt_not_subject),
	    cmocka_unit_test(test_fse),
	    cmocka_unit_test(test_nc_nd),
	    cmocka_unit_test(test_rounding),
	    cmocka_unit_test(test_exact_serialisation),
	    cmocka_unit_test(test_contingency),
	    cmocka_unit_test(test_numero_control),
	    cmocka_unit_test(test_types_and_versions),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_fe_full_blocks),
	    cmocka_unit_test(test_verify_detects),
	    cmocka_unit_test(test_delivered),
	    cmocka_unit_test(test_mini_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
