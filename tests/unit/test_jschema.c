/*
 * test_jschema.c - unit tests of src/core/jschema.c against MH's official
 * schemas (tests/fixtures/dte-sv, embedded by tools/embed_schemas.sh).
 *
 * Valid documents written by hand after README §3 and the official sealed
 * CCF example of the Manual Funcional (one service line of 2000.00, IVA
 * 260.00, total 2260.00): a CCF, a Factura with an identified consumer and
 * an exempt line, a Nota de Crédito, a Factura de Sujeto Excluido, an
 * invalidation and a contingency event. Then each way a document must fail
 * (missing and extra fields, patterns, multipleOf with exact decimals,
 * const, the if/then rules) with the path the error names, MH's pattern
 * quirks kept as MH has them, the keywords MH does not use on small
 * schemas, the exact-number API, and the embedded bytes against the
 * fixture files and the sha256 sums in SOURCES.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/jschema.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "mod/dte/dte_schemas.h"

/* ---- documents: tests/lib/dte_sample_docs.h ---- */

#include "../lib/dte_sample_docs.h"

static struct jschema_report rep;

static const struct jschema *schema(const char *name)
{
	const struct jschema *s = NULL;
	struct err e;
	assert_int_equal(dte_schema_get(name, &s, &e), 0);
	assert_non_null(s);
	return s;
}

/* Validate text; returns the result code (report in rep). */
static int check(const char *schema_name, const char *text)
{
	struct err e;
	return jschema_validate_text(schema(schema_name), text, strlen(text), &rep, &e);
}

static bool has_error(const char *path, const char *message_part)
{
	for (size_t i = 0; i < rep.count; i++)
		if (strcmp(rep.errors[i].path, path) == 0 &&
		    (!message_part || strstr(rep.errors[i].message, message_part)))
			return true;
	return false;
}

static void print_report(void)
{
	for (size_t i = 0; i < rep.count; i++)
		print_message("  %s: %s\n", rep.errors[i].path, rep.errors[i].message);
}

#define assert_valid(schema_name, text)                                                                                \
	do {                                                                                                           \
		if (check(schema_name, text) != 0) {                                                                   \
			print_report();                                                                                \
			fail_msg("%s: expected a valid document", schema_name);                                        \
		}                                                                                                      \
	} while (0)

#define assert_error(schema_name, text, path, part)                                                                    \
	do {                                                                                                           \
		assert_int_equal(check(schema_name, text), ERR_INVALID);                                               \
		if (!has_error(path, part)) {                                                                          \
			print_report();                                                                                \
			fail_msg("expected an error at \"%s\" (%s)", path, part ? part : "");                          \
		}                                                                                                      \
	} while (0)

/* A copy of doc with the value at a dotted path ("cuerpoDocumento.0.cantidad")
 * replaced by the JSON text value (kept exact), or removed when value is
 * NULL. Owned. */
static char *edit(const char *doc, const char *path, const char *value)
{
	json_t *root = NULL, *v = NULL;
	struct err e;
	char seg[64];
	assert_int_equal(jschema_parse_exact(doc, strlen(doc), &root, &e), 0);
	json_t *cur = root;
	const char *p = path;
	for (;;) {
		size_t n = strcspn(p, ".");
		assert_true(n < sizeof(seg));
		memcpy(seg, p, n);
		seg[n] = '\0';
		bool last = p[n] == '\0';
		if (last) {
			if (value)
				assert_int_equal(jschema_parse_exact(value, strlen(value), &v, &e), 0);
			if (json_is_array(cur)) {
				size_t idx = strtoul(seg, NULL, 10);
				if (value)
					json_array_set_new(cur, idx, v);
				else
					json_array_remove(cur, idx);
			} else if (value) {
				json_object_set_new(cur, seg, v);
			} else {
				assert_int_equal(json_object_del(cur, seg), 0);
			}
			break;
		}
		cur = json_is_array(cur) ? json_array_get(cur, strtoul(seg, NULL, 10)) : json_object_get(cur, seg);
		assert_non_null(cur);
		p += n + 1;
	}
	char *out = jschema_dump_exact(root, JSON_COMPACT);
	json_decref(root);
	return out;
}

/* ---- valid documents ---- */

static void test_valid_documents(void **state)
{
	(void)state;
	assert_valid("fe-ccf-v3", DOC_CCF);
	assert_valid("fe-fc-v1", DOC_FE);
	assert_valid("fe-nc-v3", DOC_NC);
	assert_valid("fe-fse-v1", DOC_FSE);
	assert_valid("anulacion-schema-v2", DOC_ANULACION);
	assert_valid("contingencia-schema-v3", DOC_CONTINGENCIA);
	/* a Nota de Débito has the NC structure plus numPagoElectronico */
	char *nd = edit(DOC_NC, "identificacion.tipoDte", "\"06\"");
	char *nd2 = edit(nd, "identificacion.numeroControl", "\"DTE-06-00010001-000000000000001\"");
	char *nd3 = edit(nd2, "resumen.numPagoElectronico", "null");
	assert_valid("fe-nd-v3", nd3);
	free(nd);
	free(nd2);
	free(nd3);
	/* anonymous consumer (receptor null) below US$1,095 */
	char *anon = edit(DOC_FE, "receptor", "null");
	assert_valid("fe-fc-v1", anon);
	free(anon);
	/* a contingency document: tipoModelo 2, tipoOperacion 2, tipoContingencia set */
	char *c1 = edit(DOC_FE, "identificacion.tipoModelo", "2");
	char *c2 = edit(c1, "identificacion.tipoOperacion", "2");
	char *c3 = edit(c2, "identificacion.tipoContingencia", "3");
	assert_valid("fe-fc-v1", c3);
	free(c1);
	free(c2);
	free(c3);
}

static void test_valid_documents_as_jansson_trees(void **state)
{
	json_t *doc;
	struct err e;
	(void)state;
	/* a tree parsed by jansson itself (reals as doubles): every amount
	 * here has few digits, so its shortest text is exact */
	doc = json_loads(DOC_CCF, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(jschema_validate(schema("fe-ccf-v3"), doc, &rep, &e), 0);
	json_decref(doc);
	doc = json_loads(DOC_FE, 0, NULL);
	assert_int_equal(jschema_validate(schema("fe-fc-v1"), doc, &rep, &e), 0);
	json_decref(doc);
	assert_int_equal(rep.count, 0);
	assert_int_equal(rep.total, 0);
}

/* ---- invalid documents ---- */

static void test_missing_field(void **state)
{
	struct err e;
	(void)state;
	char *d = edit(DOC_CCF, "resumen.totalPagar", NULL);
	assert_error("fe-ccf-v3", d, "resumen.totalPagar", "is required");
	/* the first error goes into the struct err too */
	assert_int_equal(jschema_validate_text(schema("fe-ccf-v3"), d, strlen(d), NULL, &e), ERR_INVALID);
	assert_string_equal(e.field, "resumen.totalPagar");
	assert_string_equal(e.message, "resumen.totalPagar: is required");
	free(d);
	/* a nullable field must still be present */
	d = edit(DOC_CCF, "identificacion.motivoContin", NULL);
	assert_error("fe-ccf-v3", d, "identificacion.motivoContin", "is required");
	free(d);
	d = edit(DOC_FE, "cuerpoDocumento.0.ivaItem", NULL);
	assert_error("fe-fc-v1", d, "cuerpoDocumento[0].ivaItem", "is required");
	free(d);
	d = edit(DOC_FE, "apendice", NULL);
	assert_error("fe-fc-v1", d, "apendice", "is required");
	free(d);
}

static void test_extra_field(void **state)
{
	(void)state;
	char *d = edit(DOC_CCF, "emisor.sitioWeb", "\"https://clinica.test\"");
	assert_error("fe-ccf-v3", d, "emisor.sitioWeb", "additionalProperties");
	free(d);
	d = edit(DOC_CCF, "firmaElectronica", "\"x.y.z\"");
	assert_error("fe-ccf-v3", d, "firmaElectronica", "additionalProperties");
	free(d);
	/* FE's ivaItem does not exist in CCF items */
	d = edit(DOC_CCF, "cuerpoDocumento.0.ivaItem", "0");
	assert_error("fe-ccf-v3", d, "cuerpoDocumento[0].ivaItem", "additionalProperties");
	free(d);
	/* CCF emisor fields do not exist in NC */
	d = edit(DOC_NC, "emisor.codEstable", "\"0001\"");
	assert_error("fe-nc-v3", d, "emisor.codEstable", "additionalProperties");
	free(d);
}

static void test_bad_pattern(void **state)
{
	(void)state;
	char *d = edit(DOC_CCF, "identificacion.numeroControl", "\"DTE-01-00010001-000000000000001\"");
	assert_error("fe-ccf-v3", d, "identificacion.numeroControl", "must match pattern");
	free(d);
	d = edit(DOC_CCF, "identificacion.codigoGeneracion", "\"8a1b5c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d\"");
	assert_error("fe-ccf-v3", d, "identificacion.codigoGeneracion", "must match pattern");
	free(d);
	d = edit(DOC_CCF, "emisor.nit", "\"0614-180948-001-4\"");
	assert_error("fe-ccf-v3", d, "emisor.nit", "must match pattern");
	free(d);
	/* FE: tipoDocumento 13 (DUI) needs the hyphen form */
	d = edit(DOC_FE, "receptor.numDocumento", "\"023827235\"");
	assert_error("fe-fc-v1", d, "receptor.numDocumento", "must match pattern");
	free(d);
	/* FSE: DUI without hyphen; a hyphen is wrong there */
	d = edit(DOC_FSE, "sujetoExcluido.numDocumento", "\"02382723-5\"");
	assert_error("fe-fse-v1", d, "sujetoExcluido.numDocumento", "must match pattern");
	free(d);
	d = edit(DOC_ANULACION, "documento.selloRecibido", "\"2025ab12CD34EF56GH78IJ90KL12MN34OP56QR78\"");
	assert_error("anulacion-schema-v2", d, "documento.selloRecibido", "must match pattern");
	free(d);
	d = edit(DOC_CCF, "identificacion.horEmi", "\"24:00:00\"");
	assert_error("fe-ccf-v3", d, "identificacion.horEmi", "must match pattern");
	free(d);
	/* formats */
	d = edit(DOC_CCF, "identificacion.fecEmi", "\"2025-02-29\"");
	assert_error("fe-ccf-v3", d, "identificacion.fecEmi", "format \"date\"");
	free(d);
	d = edit(DOC_CCF, "identificacion.fecEmi", "\"2024-02-29\"");
	assert_valid("fe-ccf-v3", d);
	free(d);
	d = edit(DOC_CCF, "receptor.correo", "\"compras@cliente\"");
	assert_error("fe-ccf-v3", d, "receptor.correo", "format \"email\"");
	free(d);
	/* lengths count characters, not bytes: 150 "ñ" (300 bytes) fit in descActividad (<= 150) */
	char name[2 * 151 + 3] = "\"";
	for (int i = 0; i < 150; i++)
		strcat(name, "ñ");
	strcat(name, "\"");
	d = edit(DOC_CCF, "emisor.descActividad", name);
	assert_valid("fe-ccf-v3", d);
	free(d);
	name[strlen(name) - 1] = '\0';
	strcat(name, "ñ\"");
	d = edit(DOC_CCF, "emisor.descActividad", name);
	assert_error("fe-ccf-v3", d, "emisor.descActividad", "more than 150 characters");
	free(d);
}

static void test_multiple_of_exact(void **state)
{
	(void)state;
	/* 0.01 on resumen values */
	char *d = edit(DOC_CCF, "resumen.totalNoGravado", "1.001");
	assert_error("fe-ccf-v3", d, "resumen.totalNoGravado", "multiple of 0.01");
	free(d);
	d = edit(DOC_CCF, "resumen.totalNoGravado", "1.15");
	assert_valid("fe-ccf-v3", d); /* a float division says 1.15/0.01 = 114.99999999999999 */
	free(d);
	d = edit(DOC_CCF, "resumen.totalNoGravado", "1.150000");
	assert_valid("fe-ccf-v3", d);
	free(d);
	d = edit(DOC_CCF, "resumen.totalNoGravado", "115e-2");
	assert_valid("fe-ccf-v3", d);
	free(d);
	d = edit(DOC_CCF, "resumen.totalNoGravado", "1.151");
	assert_error("fe-ccf-v3", d, "resumen.totalNoGravado", "multiple of 0.01");
	free(d);
	d = edit(DOC_CCF, "resumen.totalNoGravado", "-0.07");
	assert_valid("fe-ccf-v3", d);
	free(d);
	/* 1e-8 on line values */
	d = edit(DOC_CCF, "cuerpoDocumento.0.cantidad", "0.00000001");
	assert_valid("fe-ccf-v3", d);
	free(d);
	d = edit(DOC_CCF, "cuerpoDocumento.0.cantidad", "0.000000015");
	assert_error("fe-ccf-v3", d, "cuerpoDocumento[0].cantidad", "multiple of 1e-08");
	free(d);
	d = edit(DOC_CCF, "cuerpoDocumento.0.precioUni", "0.33333333");
	assert_valid("fe-ccf-v3", d);
	free(d);
	d = edit(DOC_CCF, "cuerpoDocumento.0.precioUni", "0.333333333");
	assert_error("fe-ccf-v3", d, "cuerpoDocumento[0].precioUni", "multiple of 1e-08");
	free(d);
	/* 19 significant digits: beyond a double, exact here */
	d = edit(DOC_CCF, "cuerpoDocumento.0.precioUni", "99999999999.99999999");
	assert_valid("fe-ccf-v3", d);
	free(d);
	d = edit(DOC_CCF, "cuerpoDocumento.0.precioUni", "99999999999.999999991");
	assert_error("fe-ccf-v3", d, "cuerpoDocumento[0].precioUni", "multiple of 1e-08");
	free(d);
	/* exclusiveMaximum 100000000000 */
	d = edit(DOC_CCF, "cuerpoDocumento.0.precioUni", "100000000000");
	assert_error("fe-ccf-v3", d, "cuerpoDocumento[0].precioUni", "must be < 100000000000");
	free(d);
	/* minimum 0 */
	d = edit(DOC_CCF, "cuerpoDocumento.0.montoDescu", "-0.01");
	assert_error("fe-ccf-v3", d, "cuerpoDocumento[0].montoDescu", "must be >= 0");
	free(d);
	/* maximum 0 (saldoFavor) */
	d = edit(DOC_CCF, "resumen.saldoFavor", "0.01");
	assert_error("fe-ccf-v3", d, "resumen.saldoFavor", "must be <= 0");
	free(d);
}

static void test_wrong_const_and_enum(void **state)
{
	(void)state;
	char *d = edit(DOC_CCF, "identificacion.version", "1");
	assert_error("fe-ccf-v3", d, "identificacion.version", "constant 3");
	free(d);
	d = edit(DOC_CCF, "identificacion.version", "3.0");
	assert_valid("fe-ccf-v3", d); /* 3.0 is the integer 3 */
	free(d);
	d = edit(DOC_CCF, "identificacion.version", "\"3\"");
	assert_error("fe-ccf-v3", d, "identificacion.version", "must be integer");
	free(d);
	d = edit(DOC_CCF, "identificacion.tipoDte", "\"01\"");
	assert_error("fe-ccf-v3", d, "identificacion.tipoDte", "constant \"03\"");
	free(d);
	d = edit(DOC_CCF, "identificacion.tipoMoneda", "\"EUR\"");
	assert_error("fe-ccf-v3", d, "identificacion.tipoMoneda", "allowed values");
	free(d);
	d = edit(DOC_CCF, "identificacion.ambiente", "\"02\"");
	assert_error("fe-ccf-v3", d, "identificacion.ambiente", "allowed values");
	free(d);
	/* FE resumen.tributos must not carry IVA ("20") */
	d = edit(DOC_FE, "resumen.tributos", "[{\"codigo\":\"20\",\"descripcion\":\"IVA\",\"valor\":4.03}]");
	assert_error("fe-fc-v1", d, "resumen.tributos[0].codigo", "allowed values");
	free(d);
}

static void test_if_then_rules(void **state)
{
	(void)state;
	/* tipoOperacion 1 => tipoModelo 1 */
	char *d = edit(DOC_CCF, "identificacion.tipoModelo", "2");
	assert_error("fe-ccf-v3", d, "identificacion.tipoModelo", "constant 1");
	free(d);
	/* tipoOperacion 1 => tipoContingencia null */
	d = edit(DOC_CCF, "identificacion.tipoContingencia", "1");
	assert_error("fe-ccf-v3", d, "identificacion.tipoContingencia", "must be null");
	free(d);
	/* tipoOperacion 2 => tipoModelo 2 (the "else") and tipoContingencia integer */
	d = edit(DOC_CCF, "identificacion.tipoOperacion", "2");
	assert_error("fe-ccf-v3", d, "identificacion.tipoModelo", "allowed values");
	assert_true(has_error("identificacion.tipoContingencia", "must be integer"));
	free(d);
	/* tipoContingencia 5 => motivoContin string */
	char *d1 = edit(DOC_CCF, "identificacion.tipoOperacion", "2");
	char *d2 = edit(d1, "identificacion.tipoModelo", "2");
	char *d3 = edit(d2, "identificacion.tipoContingencia", "5");
	assert_error("fe-ccf-v3", d3, "identificacion.motivoContin", "must be string");
	char *d4 = edit(d3, "identificacion.motivoContin", "\"Falla del proveedor de internet\"");
	assert_valid("fe-ccf-v3", d4);
	free(d1);
	free(d2);
	free(d3);
	free(d4);
	/* ventaGravada > 0 => tributos array; ventaGravada 0 => tributos null */
	d = edit(DOC_CCF, "cuerpoDocumento.0.tributos", "null");
	assert_error("fe-ccf-v3", d, "cuerpoDocumento[0].tributos", "must be array");
	free(d);
	/* FE: montoTotalOperacion >= 1095 needs an identified receptor */
	d1 = edit(DOC_FE, "receptor", "null");
	d2 = edit(d1, "resumen.montoTotalOperacion", "1095");
	assert_error("fe-fc-v1", d2, "receptor", "must be object");
	free(d1);
	free(d2);
	/* FE: nrc only with tipoDocumento 36 (NIT) */
	d = edit(DOC_FE, "receptor.nrc", "\"1234567\"");
	assert_error("fe-fc-v1", d, "receptor.nrc", "must be null");
	free(d);
	/* invalidation: tipoAnulacion 2 => codigoGeneracionR null; 1 => a string */
	d = edit(DOC_ANULACION, "documento.codigoGeneracionR", "\"9A1B5C2D-3E4F-4A5B-8C6D-7E8F9A0B1C2D\"");
	assert_error("anulacion-schema-v2", d, "documento.codigoGeneracionR", "must be null");
	free(d);
	d = edit(DOC_ANULACION, "motivo.tipoAnulacion", "1");
	assert_error("anulacion-schema-v2", d, "documento.codigoGeneracionR", "must be string");
	free(d);
	/* contingency: tipoContingencia 5 => motivoContingencia */
	d = edit(DOC_CONTINGENCIA, "motivo.tipoContingencia", "5");
	assert_error("contingencia-schema-v3", d, "motivo.motivoContingencia", "must be string");
	free(d);
	/* CCF: condicionOperacion 2 => each pago has plazo and periodo */
	d = edit(DOC_CCF, "resumen.condicionOperacion", "2");
	assert_error("fe-ccf-v3", d, "resumen.pagos[0].plazo", "must be string");
	free(d);
}

static void test_mh_pattern_quirks(void **state)
{
	(void)state;
	/* "^0[1-9]|1[0-4]$" is (^0[1-9])|(1[0-4]$): kept as MH's and ajv's reading */
	char *d = edit(DOC_CCF, "emisor.direccion.departamento", "\"5x14\"");
	assert_valid("fe-ccf-v3", d);
	free(d);
	d = edit(DOC_CCF, "emisor.direccion.departamento", "\"15\"");
	assert_error("fe-ccf-v3", d, "emisor.direccion.departamento", "must match pattern");
	free(d);
	/* "^(0[1-9]||1[0-4]||99)$" has empty alternatives: "" matches */
	d = edit(DOC_CCF, "resumen.pagos.0.codigo", "\"\"");
	assert_valid("fe-ccf-v3", d);
	free(d);
	d = edit(DOC_CCF, "resumen.pagos.0.codigo", "\"15\"");
	assert_error("fe-ccf-v3", d, "resumen.pagos[0].codigo", "must match pattern");
	free(d);
	/* horEmi's last seconds digit is optional */
	d = edit(DOC_CCF, "identificacion.horEmi", "\"10:30:0\"");
	assert_valid("fe-ccf-v3", d);
	free(d);
	/* the pre-2024 municipio table of departamento 01 stops at 12 */
	char *d1 = edit(DOC_CCF, "emisor.direccion.departamento", "\"01\"");
	d = edit(d1, "emisor.direccion.municipio", "\"13\"");
	assert_error("fe-ccf-v3", d, "emisor.direccion.municipio", "must match pattern");
	free(d);
	free(d1);
}

/* ---- keywords on small schemas ---- */

static const struct jschema *compile(const char *text)
{
	struct jschema *s = NULL;
	struct err e;
	if (jschema_compile(text, strlen(text), &s, &e) != 0)
		fail_msg("compile: %s", e.message);
	return s;
}

static int run(const struct jschema *s, const char *doc)
{
	struct err e;
	return jschema_validate_text(s, doc, strlen(doc), &rep, &e);
}

static void test_keywords(void **state)
{
	(void)state;
	struct jschema *s = (struct jschema *)compile(
	    "{\"definitions\":{\"money\":{\"type\":\"number\",\"multipleOf\":0.01,\"exclusiveMinimum\":0},"
	    "\"code\":{\"type\":\"string\",\"pattern\":\"^\\\\d{2}(?:-[A-Z]+?)?$\"}},"
	    "\"type\":\"object\",\"required\":[\"a\"],"
	    "\"properties\":{\"a\":{\"$ref\":\"#/definitions/money\"},"
	    "\"b\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/code\"},\"uniqueItems\":true,\"minItems\":1,"
	    "\"maxItems\":3,\"contains\":{\"const\":\"01\"}},"
	    "\"c\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\",\"minLength\":2}]},"
	    "\"d\":{\"oneOf\":[{\"minimum\":0},{\"maximum\":10}]},"
	    "\"e\":{\"not\":{\"type\":\"null\"}},"
	    "\"f\":{\"type\":\"string\",\"format\":\"date-time\"},"
	    "\"g\":{\"enum\":[1,\"1\",[1,2],{\"k\":null}]},"
	    "\"h\":{\"type\":\"string\",\"pattern\":\"^(?!.*[\\\\r\\\\n])[a-z ]+$\"}},"
	    "\"patternProperties\":{\"^x-\":{\"type\":\"boolean\"}},"
	    "\"additionalProperties\":{\"type\":\"string\"}}");
	assert_int_equal(run(s, "{\"a\":0.1}"), 0);
	assert_int_equal(run(s, "{}"), ERR_INVALID);
	assert_true(has_error("a", "is required"));
	assert_int_equal(run(s, "{\"a\":0}"), ERR_INVALID);
	assert_true(has_error("a", "must be > 0"));
	assert_int_equal(run(s, "{\"a\":0.105}"), ERR_INVALID);
	/* items via $ref, \d, (?:...), lazy quantifier, uniqueItems, contains */
	assert_int_equal(run(s, "{\"a\":1,\"b\":[\"01\",\"02-AB\"]}"), 0);
	assert_int_equal(run(s, "{\"a\":1,\"b\":[\"01\",\"2\"]}"), ERR_INVALID);
	assert_true(has_error("b[1]", "must match pattern"));
	assert_int_equal(run(s, "{\"a\":1,\"b\":[\"01\",\"01\"]}"), ERR_INVALID);
	assert_true(has_error("b", "duplicate"));
	assert_int_equal(run(s, "{\"a\":1,\"b\":[\"02\"]}"), ERR_INVALID);
	assert_true(has_error("b", "contain"));
	assert_int_equal(run(s, "{\"a\":1,\"b\":[]}"), ERR_INVALID);
	assert_int_equal(run(s, "{\"a\":1,\"b\":[\"01\",\"02\",\"03\",\"04\"]}"), ERR_INVALID);
	/* anyOf / oneOf / not */
	assert_int_equal(run(s, "{\"a\":1,\"c\":5.0,\"d\":-1,\"e\":1}"), 0);
	assert_int_equal(run(s, "{\"a\":1,\"c\":\"x\"}"), ERR_INVALID);
	assert_true(has_error("c", "anyOf"));
	assert_int_equal(run(s, "{\"a\":1,\"d\":5}"), ERR_INVALID);
	assert_true(has_error("d", "matches 2"));
	assert_int_equal(run(s, "{\"a\":1,\"e\":null}"), ERR_INVALID);
	assert_true(has_error("e", "NOT"));
	/* date-time, enum with structured values (numbers by value) */
	assert_int_equal(run(s, "{\"a\":1,\"f\":\"2025-10-14T10:00:00-06:00\",\"g\":1.0}"), 0);
	assert_int_equal(run(s, "{\"a\":1,\"g\":[1,2]}"), 0);
	assert_int_equal(run(s, "{\"a\":1,\"g\":{\"k\":null}}"), 0);
	assert_int_equal(run(s, "{\"a\":1,\"g\":{\"k\":0}}"), ERR_INVALID);
	assert_int_equal(run(s, "{\"a\":1,\"f\":\"2025-10-14 25:00:00Z\"}"), ERR_INVALID);
	/* a leading look-ahead (Normativa 2.0 style) */
	assert_int_equal(run(s, "{\"a\":1,\"h\":\"sin saltos\"}"), 0);
	assert_int_equal(run(s, "{\"a\":1,\"h\":\"con\\nsalto\"}"), ERR_INVALID);
	/* patternProperties and an additionalProperties schema */
	assert_int_equal(run(s, "{\"a\":1,\"x-flag\":true,\"other\":\"text\"}"), 0);
	assert_int_equal(run(s, "{\"a\":1,\"x-flag\":\"yes\"}"), ERR_INVALID);
	assert_true(has_error("x-flag", "boolean"));
	assert_int_equal(run(s, "{\"a\":1,\"other\":3}"), ERR_INVALID);
	assert_true(has_error("other", "string"));
	jschema_free(s);

	/* boolean schemas, "#" references, tuples */
	s = (struct jschema *)compile("{\"type\":\"array\",\"items\":[{\"type\":\"integer\"},true],"
				      "\"additionalItems\":false}");
	assert_int_equal(run(s, "[1,\"x\"]"), 0);
	assert_int_equal(run(s, "[1,\"x\",3]"), ERR_INVALID);
	assert_int_equal(run(s, "[1.5]"), ERR_INVALID);
	jschema_free(s);
	s = (struct jschema *)compile("{\"type\":\"object\",\"properties\":{\"child\":{\"$ref\":\"#\"}},"
				      "\"additionalProperties\":false}");
	assert_int_equal(run(s, "{\"child\":{\"child\":{}}}"), 0);
	assert_int_equal(run(s, "{\"child\":{\"x\":1}}"), ERR_INVALID);
	assert_true(has_error("child.x", "additionalProperties"));
	jschema_free(s);
}

static void test_compile_errors(void **state)
{
	struct jschema *s = NULL;
	struct err e;
	(void)state;
	static const char *const bad[] = {
	    "{\"pattern\":\"(?<=a)b\"}",  /* look-behind */
	    "{\"pattern\":\"(a)\\\\1\"}", /* back reference */
	    "{\"pattern\":\"(ab\"}",	  /* unbalanced */
	    "{\"$ref\":\"#/definitions/none\"}",
	    "{\"$ref\":\"other.json#\"}",
	    "{\"anyOf\":[]}",
	    "{\"properties\":{\"a\":3}}",
	    "not json",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(jschema_compile(bad[i], strlen(bad[i]), &s, &e), ERR_INVALID);
		assert_null(s);
	}
	/* every official schema compiles */
	for (size_t i = 0; i < dte_schema_files_count; i++) {
		assert_int_equal(jschema_compile(dte_schema_files[i].text, dte_schema_files[i].len, &s, &e), 0);
		assert_true(strlen(jschema_title(s)) > 0);
		jschema_free(s);
	}
}

static void test_report_cap_and_garbage(void **state)
{
	(void)state;
	/* 100 unknown members: 100 errors found, the first 64 kept */
	size_t cap = strlen(DOC_CCF) + 100 * 16;
	char *d = xmalloc(cap);
	size_t n = strlen(DOC_CCF) - 1; /* without the closing brace */
	memcpy(d, DOC_CCF, n);
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(d + n, cap - n, ",\"extra%03d\":1", i);
	snprintf(d + n, cap - n, "}");
	assert_int_equal(check("fe-ccf-v3", d), ERR_INVALID);
	assert_int_equal(rep.total, 100);
	assert_int_equal(rep.count, JSCHEMA_MAX_ERRORS);
	assert_string_equal(rep.errors[0].path, "extra000");
	free(d);
	/* not JSON: one error at the root, no crash */
	assert_int_equal(check("fe-ccf-v3", "{\"identificacion\":"), ERR_INVALID);
	assert_int_equal(rep.count, 1);
	assert_string_equal(rep.errors[0].path, "");
	assert_int_equal(check("fe-ccf-v3", "[]"), ERR_INVALID);
	assert_true(has_error("", "must be object"));
	/* values of the document never appear in messages */
	d = edit(DOC_CCF, "receptor.nombre", "\"\"");
	char *d2 = edit(d, "receptor.nit", "\"Juan Perez 123\"");
	assert_int_equal(check("fe-ccf-v3", d2), ERR_INVALID);
	for (size_t i = 0; i < rep.count; i++)
		assert_null(strstr(rep.errors[i].message, "Juan"));
	free(d);
	free(d2);
}

/* ---- exact numbers ---- */

static void test_exact_numbers(void **state)
{
	json_t *v = NULL;
	struct err e;
	int64_t x;
	char buf[64];
	(void)state;

	assert_int_equal(jschema_parse_exact("[1.15,0.00000001,-0.5,115e-2,2000,1E+3]", 39, &v, &e), 0);
	assert_true(jschema_is_number(json_array_get(v, 0)));
	assert_true(jschema_number_text(json_array_get(v, 0), buf, sizeof(buf)));
	assert_string_equal(buf, "1.15");
	assert_int_equal(jschema_fixed(json_array_get(v, 0), 2, &x, &e), 0);
	assert_int_equal(x, 115);
	assert_int_equal(jschema_fixed(json_array_get(v, 0), 1, &x, &e), ERR_INVALID);
	assert_int_equal(jschema_fixed(json_array_get(v, 1), 8, &x, &e), 0);
	assert_int_equal(x, 1);
	assert_int_equal(jschema_fixed(json_array_get(v, 2), 1, &x, &e), 0);
	assert_int_equal(x, -5);
	assert_int_equal(jschema_fixed(json_array_get(v, 3), 2, &x, &e), 0);
	assert_int_equal(x, 115);
	assert_int_equal(jschema_fixed(json_array_get(v, 4), 8, &x, &e), 0);
	assert_int_equal(x, 200000000000LL);
	assert_int_equal(jschema_fixed(json_array_get(v, 5), 0, &x, &e), 0);
	assert_int_equal(x, 1000);
	/* printed back exactly as written */
	char *text = jschema_dump_exact(v, JSON_COMPACT);
	assert_string_equal(text, "[1.15,0.00000001,-0.5,115e-2,2000,1E+3]");
	free(text);
	json_decref(v);
	/* out of int64, not a number */
	assert_int_equal(jschema_parse_exact("[99999999999999999999, \"1\"]", 27, &v, &e), 0);
	assert_int_equal(jschema_fixed(json_array_get(v, 0), 0, &x, &e), ERR_INVALID);
	assert_int_equal(jschema_fixed(json_array_get(v, 1), 0, &x, &e), ERR_INVALID);
	json_decref(v);
	/* plain jansson numbers work too */
	v = json_real(1.15);
	assert_int_equal(jschema_fixed(v, 2, &x, &e), 0);
	assert_int_equal(x, 115);
	json_decref(v);
	v = json_integer(-42);
	assert_true(jschema_number_text(v, buf, sizeof(buf)));
	assert_string_equal(buf, "-42");
	json_decref(v);
	/* fixed-point values as exact JSON */
	v = json_pack("{s:o, s:o, s:o, s:o}", "a", jschema_fixed_json(115, 2), "b", jschema_fixed_json(-5, 1), "c",
		      jschema_fixed_json(402654867, 8), "d", jschema_fixed_json(0, 2));
	text = jschema_dump_exact(v, JSON_COMPACT);
	assert_string_equal(text, "{\"a\":1.15,\"b\":-0.5,\"c\":4.02654867,\"d\":0.00}");
	free(text);
	json_decref(v);
	/* refused input */
	static const char *const bad[] = {"[01]", "[1.]", "[-]",  "[.5]", "[1e]", "[\"\\u0001x\"]", "{\"a\":1,\"a\":2}",
					  "[1x]", "[+1]", "[NaN]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = NULL;
		assert_int_equal(jschema_parse_exact(bad[i], strlen(bad[i]), &v, &e), ERR_INVALID);
		assert_null(v);
	}
	char longnum[JSCHEMA_NUMBER_MAX + 8];
	memset(longnum, '1', sizeof(longnum) - 1);
	longnum[sizeof(longnum) - 1] = '\0';
	assert_int_equal(jschema_parse_exact(longnum, strlen(longnum), &v, &e), ERR_INVALID);
	/* a string holding a quote then U+0001 (not at its start) is no number */
	v = json_pack("[s, o]", "a\"\x01" "b", jschema_fixed_json(5, 0));
	text = jschema_dump_exact(v, JSON_COMPACT);
	assert_string_equal(text, "[\"a\\\"\\u0001b\",5]");
	free(text);
	json_decref(v);
	/* strings that look like numbers stay strings */
	assert_int_equal(jschema_parse_exact("[\"1.15\",\"-2\"]", 13, &v, &e), 0);
	assert_false(jschema_is_number(json_array_get(v, 0)));
	text = jschema_dump_exact(v, JSON_COMPACT);
	assert_string_equal(text, "[\"1.15\",\"-2\"]");
	free(text);
	json_decref(v);
}

/* ---- the embedded schemas are the fixture files ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = xmalloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void test_embedded_schemas_are_the_fixtures(void **state)
{
	(void)state;
	size_t sources_len = 0;
	char *sources = slurp("tests/fixtures/dte-sv/SOURCES.md", &sources_len);
	if (!sources)
		skip(); /* run from the repository root (tests/run.sh does) */
	assert_int_equal(dte_schema_files_count, 7);
	for (size_t i = 0; i < dte_schema_files_count; i++) {
		const struct dte_schema_file *f = &dte_schema_files[i];
		char path[256], hex[65];
		size_t len = 0;
		snprintf(path, sizeof(path), "tests/fixtures/dte-sv/%s.json", f->name);
		char *disk = slurp(path, &len);
		assert_non_null(disk);
		assert_int_equal(len, f->len);
		assert_memory_equal(disk, f->text, len);
		crypto_sha256_hex(f->text, f->len, hex);
		/* SOURCES.md lists "| name.json (...) | bytes | sha256 |" */
		assert_non_null(strstr(sources, hex));
		free(disk);
	}
	assert_non_null(dte_schema_file("fe-fc-v1"));
	assert_null(dte_schema_file("fe-fc-v2"));
	assert_string_equal(dte_schema_name("03", 3), "fe-ccf-v3");
	assert_string_equal(dte_schema_name("anulacion", 2), "anulacion-schema-v2");
	assert_null(dte_schema_name("03", 4));
	free(sources);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_documents),	 cmocka_unit_test(test_valid_documents_as_jansson_trees),
	    cmocka_unit_test(test_missing_field),	 cmocka_unit_test(test_extra_field),
	    cmocka_unit_test(test_bad_pattern),		 cmocka_unit_test(test_multiple_of_exact),
	    cmocka_unit_test(test_wrong_const_and_enum), cmocka_unit_test(test_if_then_rules),
	    cmocka_unit_test(test_mh_pattern_quirks),	 cmocka_unit_test(test_keywords),
	    cmocka_unit_test(test_compile_errors),	 cmocka_unit_test(test_report_cap_and_garbage),
	    cmocka_unit_test(test_exact_numbers),	 cmocka_unit_test(test_embedded_schemas_are_the_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
