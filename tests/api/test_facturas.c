/*
 * test_facturas.c - API tests of the fiscal-engine contract's
 * POST/GET /api/facturas and /api/receptores against the real binary and
 * the MH sandbox (tests/lib/fiscal_env.h starts it with a fresh RSA key of
 * the emisor; the server signs and transmits to it through its job queue).
 *
 * Callers are servers with an API key (Bearer clk_... or X-API-Key) and
 * x-tenant-id, as the contract says. Covered:
 *   facturas: the §3.1 body creates a billing document and its DTE (01, or
 *   03 when the receptor has an NRC; tipoDte overrides), sealed by the
 *   sandbox with no manual step; the response (estado, codigoGeneracion,
 *   numeroControl, sello, pdfUrl under CLINICLEDGER_PUBLIC_URL,
 *   referenciaExterna); the PDF behind pdfUrl; idempotency by
 *   referenciaExterna (same reference and content -> 200 with the same
 *   factura and never a second DTE, also with numbers spelled differently;
 *   other content -> 409) and with Idempotency-Key (replayed); lookup by
 *   reference, list, estado filter, pagination; every validation error (400
 *   naming the field: bad NIT check digit, bad DUI, NRC format, empty items,
 *   negative precio, too many decimals, cantidad 0, missing / long
 *   referenciaExterna, tipoDte, CCF without correo, unknown fields) with
 *   nothing written; an API key or role without dte:submit -> 403 naming it,
 *   without billing:create -> 403; 401; another tenant's factura 404;
 *   x-tenant-id of another tenant 403; the audit trail.
 *   receptores: create (encrypted at rest), upsert by document (200, same
 *   id), link to a patient (which must be the tenant's), get, find by
 *   numDocumento in any printed form, validation, 401/403/404, audit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#include "../lib/fiscal_env.h"

static struct fenv F;
static char *tenant_id;	   /* demo */
static char *other_admin;  /* admin of tenant "other" */
static char *other_tenant; /* its id */
static char *key_full;	   /* API key: billing:create, billing:read, dte:submit */
static char *key_no_dte;   /* API key: billing:create, billing:read */
static char hdr_tenant[128];

/* ---- helpers ---- */

static char *new_key(const char *perms_json)
{
	char body[512];
	struct api_resp *r;
	char *key;

	snprintf(body, sizeof(body), "{\"name\":\"sigma server\",\"permissions\":%s}", perms_json);
	r = api_req("POST", "/api/v1/api-keys", api_admin_token(), body, NULL);
	assert_status(r, 201);
	key = strdup(api_str(r, "data.key"));
	api_resp_free(r);
	return key;
}

/* A request as the SIGMA server: API key + x-tenant-id. */
static struct api_resp *as_key(const char *key, const char *method, const char *path, const char *body)
{
	return api_req(method, path, key, body, hdr_tenant, NULL);
}

/* A valid DUI "NNNNNNNN-C" from 8 digits. */
static void make_dui(const char *base8, char out[11])
{
	int sum = 0;

	for (int i = 0; i < 8; i++)
		sum += (base8[i] - '0') * (9 - i);
	snprintf(out, 11, "%.8s-%d", base8, (10 - sum % 10) % 10);
}

/* The contract's example body with reference ref and a price. Owned. */
static char *factura_body(const char *ref, const char *precio)
{
	char *b = NULL;

	if (asprintf(
		&b,
		"{\"receptor\":{\"nombre\":\"Juan Pérez\",\"numDocumento\":\"02382723-5\",\"tipoDocumento\":\"13\","
		"\"correo\":\"juan@email.com\"},\"items\":[{\"descripcion\":\"Consulta General\",\"cantidad\":1,"
		"\"precio\":%s,\"tipo\":\"servicio\"}],\"referenciaExterna\":\"%s\"}",
		precio, ref) < 0)
		abort();
	return b;
}

/* An upper-case UUID (MH codigoGeneracion). */
static int upper_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

static long long count(const char *sql)
{
	return api_sql_int(sql);
}

static int factura_accepted(void *arg)
{
	const char *id = arg;
	char path[128];
	struct api_resp *r;
	int ok;

	snprintf(path, sizeof(path), "/api/facturas/%s", id);
	r = as_key(key_full, "GET", path, NULL);
	ok = r->status == 200 && api_str(r, "data.estado") && strcmp(api_str(r, "data.estado"), "accepted") == 0;
	api_resp_free(r);
	return ok;
}

/* Why a factura is not accepted: its state and the server log's DTE lines. */
static void explain(const char *id)
{
	char path[128], cmd[700];
	struct api_resp *r;

	snprintf(path, sizeof(path), "/api/facturas/%s", id);
	r = as_key(key_full, "GET", path, NULL);
	print_error("factura: %.600s\n", r->body);
	api_resp_free(r);
	snprintf(cmd, sizeof(cmd), "grep -i 'dte\\|mh\\|job' '%s/server.log' | tail -15 1>&2", api_data_dir());
	if (system(cmd) != 0)
		print_error("(no server log lines)\n");
}

/* ---- setup ---- */

static int setup(void **state)
{
	struct api_resp *r;

	(void)state;
	if (fenv_start(&F) != 0) {
		fprintf(stderr, "test_facturas: could not start the MH sandbox (build it: make BUILD=... "
				"<build>/clinicledger-mh-sandbox)\n");
		return -1;
	}
	if (api_server_start(F.envp) != 0)
		return -1;
	fenv_set_emisor(api_admin_token());
	tenant_id = fenv_tenant_id(api_admin_token());
	snprintf(hdr_tenant, sizeof(hdr_tenant), "x-tenant-id: %s", tenant_id);
	other_admin = api_user_token("other", "admin", NULL);
	r = api_req("GET", "/api/v1/tenant", other_admin, NULL, NULL);
	other_tenant = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	key_full = new_key("[\"billing:create\",\"billing:read\",\"dte:submit\"]");
	key_no_dte = new_key("[\"billing:create\",\"billing:read\"]");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop();
	fenv_stop(&F);
	free(tenant_id);
	free(other_admin);
	free(other_tenant);
	free(key_full);
	free(key_no_dte);
	return 0;
}

/* ---- facturas ---- */

static void test_factura_happy_path(void **state)
{
	char *body = factura_body("CONSULTA-10234", "35.00"), path[128], pdf[256];
	struct api_resp *r;
	char *id, *codigo;
	int sealed = 0;

	(void)state;
	r = as_key(key_full, "POST", "/api/facturas", body);
	assert_status(r, 201);
	assert_true(json_is_true(api_path(r, "success")));
	id = strdup(api_str(r, "data.id"));
	codigo = strdup(api_str(r, "data.codigoGeneracion"));
	assert_true(upper_uuid(codigo));
	assert_string_equal(api_str(r, "data.referenciaExterna"), "CONSULTA-10234");
	assert_string_equal(api_str(r, "data.tipoDte"), "01");
	assert_non_null(api_str(r, "data.estado"));
	assert_int_equal(strncmp(api_str(r, "data.numeroControl"), "DTE-01-M001P001-", 16), 0);
	snprintf(pdf, sizeof(pdf), FENV_PUBLIC_URL "/api/dte/pdf/%s", codigo);
	assert_string_equal(api_str(r, "data.pdfUrl"), pdf);
	assert_string_equal(api_str(r, "data.receptor.numDocumento"), "023827235");
	assert_string_equal(api_str(r, "data.receptor.tipoDocumento"), "13");
	assert_string_equal(api_str(r, "data.items.0.descripcion"), "Consulta General");
	assert_string_equal(api_str(r, "data.items.0.precio"), "35.00");
	assert_string_equal(api_str(r, "data.items.0.tipo"), "servicio");
	assert_string_equal(api_str(r, "data.resumen.total"), "35.00");
	assert_string_equal(api_str(r, "data.resumen.iva"), "4.03"); /* 35 x 13 / 113, included */
	assert_string_equal(api_str(r, "data.resumen.moneda"), "USD");
	api_resp_free(r);

	/* the DTE goes through the queue to the sandbox with no manual step */
	if (!fenv_until(factura_accepted, id, 60000)) {
		explain(id);
		fail_msg("factura %s not accepted by the sandbox in time", id);
	}
	snprintf(path, sizeof(path), "/api/facturas/%s", id);
	r = as_key(key_full, "GET", path, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.estado"), "accepted");
	assert_int_equal(strlen(api_str(r, "data.sello")), 40);
	assert_string_equal(api_str(r, "data.codigoGeneracion"), codigo);
	assert_true(json_is_array(api_path(r, "data.observaciones")));
	api_resp_free(r);
	assert_int_equal(fenv_sandbox_attempts(&F, codigo, &sealed), 1);
	assert_true(sealed);

	/* pdfUrl names a real PDF of this server */
	snprintf(path, sizeof(path), "/api/dte/pdf/%s", codigo);
	r = api_req("GET", path, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(r->len > 4 && memcmp(r->body, "%PDF", 4) == 0);
	api_resp_free(r);

	/* one billing document of source factura, one DTE */
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM billing_documents WHERE id = '%s' AND source = 'factura'", id);
	assert_int_equal(count(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM dtes WHERE document_id = '%s'", id);
	assert_int_equal(count(sql), 1);
	free(body);
	free(id);
	free(codigo);
}

static void test_factura_idempotent_by_reference(void **state)
{
	char *body = factura_body("CONSULTA-20001", "35.00"), *same = factura_body("CONSULTA-20001", "\"35\"");
	char *other = factura_body("CONSULTA-20001", "40.00"), *id, *codigo, sql[256];
	struct api_resp *r;

	(void)state;
	r = as_key(key_full, "POST", "/api/facturas", body);
	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	codigo = strdup(api_str(r, "data.codigoGeneracion"));
	api_resp_free(r);

	/* the same reference and content: the same factura, 200, nothing new */
	for (int i = 0; i < 2; i++) {
		r = as_key(key_full, "POST", "/api/facturas", i ? same : body);
		assert_status(r, 200);
		assert_string_equal(api_str(r, "data.id"), id);
		assert_string_equal(api_str(r, "data.codigoGeneracion"), codigo);
		api_resp_free(r);
	}
	/* through X-API-Key as well */
	{
		char xkey[300];

		snprintf(xkey, sizeof(xkey), "X-API-Key: %s", key_full);
		r = api_req("POST", "/api/facturas", NULL, body, hdr_tenant, xkey, NULL);
		assert_status(r, 200);
		assert_string_equal(api_str(r, "data.id"), id);
		api_resp_free(r);
	}
	/* other content under the same reference: conflict, nothing written */
	r = as_key(key_full, "POST", "/api/facturas", other);
	api_expect_error(r, 409, NULL, "referenciaExterna");
	api_resp_free(r);

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM fiscal_facturas WHERE referencia_externa = 'CONSULTA-20001'");
	assert_int_equal(count(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM dtes WHERE document_id = '%s'", id);
	assert_int_equal(count(sql), 1);
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM billing_documents WHERE source = 'factura' AND total_minor = 4000");
	assert_int_equal(count(sql), 0);
	/* never a second DTE: the sandbox saw this code at most once */
	if (!fenv_until(factura_accepted, id, 60000))
		fail_msg("factura %s not accepted", id);
	assert_int_equal(fenv_sandbox_attempts(&F, codigo, NULL), 1);
	free(body);
	free(same);
	free(other);
	free(id);
	free(codigo);
}

static void test_factura_idempotency_key(void **state)
{
	char *body = factura_body("CONSULTA-30001", "12.50"), *id;
	struct api_resp *r;

	(void)state;
	r = api_req("POST", "/api/facturas", key_full, body, hdr_tenant, "Idempotency-Key: fx-30001-a", NULL);
	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	r = api_req("POST", "/api/facturas", key_full, body, hdr_tenant, "Idempotency-Key: fx-30001-a", NULL);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.id"), id);
	assert_non_null(strcasestr(r->headers, "Idempotent-Replayed: true"));
	api_resp_free(r);
	/* a new key with the same reference: the reference rule answers */
	r = api_req("POST", "/api/facturas", key_full, body, hdr_tenant, "Idempotency-Key: fx-30001-b", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), id);
	api_resp_free(r);
	assert_int_equal(count("SELECT COUNT(*) FROM fiscal_facturas WHERE referencia_externa = 'CONSULTA-30001'"), 1);
	free(body);
	free(id);
}

static void test_factura_ccf_and_override(void **state)
{
	static const char ccf[] =
	    "{\"receptor\":{\"nombre\":\"Laboratorio Central, S.A. de C.V.\",\"numDocumento\":\"0614-050707-104-8\","
	    "\"tipoDocumento\":\"36\",\"nrc\":\"123456-7\",\"codActividad\":\"86901\","
	    "\"descActividad\":\"Servicios de diagnóstico\",\"correo\":\"compras@labcentral.sv\","
	    "\"direccion\":{\"departamento\":\"06\",\"municipio\":\"14\",\"complemento\":\"Calle Arce 123, San "
	    "Salvador\"}},"
	    "\"items\":[{\"descripcion\":\"Perfil lipídico\",\"cantidad\":2,\"precio\":10,\"tipo\":\"servicio\","
	    "\"codigo\":\"LAB-001\"},{\"descripcion\":\"Jeringas\",\"cantidad\":\"3\",\"precio\":\"0.50\",\"tipo\":"
	    "\"bien\","
	    "\"exento\":true}],\"referenciaExterna\":\"LAB-77\"}";
	static const char no_mail[] =
	    "{\"receptor\":{\"nombre\":\"Laboratorio Central\",\"numDocumento\":\"0614-050707-104-8\","
	    "\"tipoDocumento\":\"36\",\"nrc\":\"1234567\",\"codActividad\":\"86901\","
	    "\"descActividad\":\"Servicios de diagnóstico\",\"direccion\":{\"departamento\":\"06\","
	    "\"municipio\":\"14\",\"complemento\":\"Calle Arce 123, San Salvador\"}},"
	    "\"items\":[{\"descripcion\":\"X\",\"cantidad\":1,\"precio\":1}],\"referenciaExterna\":\"LAB-78\"}";
	static const char forced_01[] =
	    "{\"receptor\":{\"nombre\":\"Laboratorio Central\",\"numDocumento\":\"0614-050707-104-8\","
	    "\"tipoDocumento\":\"36\",\"nrc\":\"1234567\"},\"items\":[{\"descripcion\":\"X\",\"cantidad\":1,\"precio\":"
	    "1}],"
	    "\"referenciaExterna\":\"LAB-79\",\"tipoDte\":\"01\"}";
	struct api_resp *r;
	char *id;

	(void)state;
	r = as_key(key_full, "POST", "/api/facturas", ccf);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.tipoDte"), "03");
	assert_int_equal(strncmp(api_str(r, "data.numeroControl"), "DTE-03-", 7), 0);
	assert_string_equal(api_str(r, "data.receptor.nrc"), "1234567");
	assert_string_equal(api_str(r, "data.items.1.tributo"), "exento");
	assert_string_equal(api_str(r, "data.items.1.tipo"), "bien");
	assert_string_equal(api_str(r, "data.items.0.codigo"), "LAB-001");
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	if (!fenv_until(factura_accepted, id, 60000))
		fail_msg("CCF %s not accepted", id);
	free(id);

	r = as_key(key_full, "POST", "/api/facturas", no_mail);
	api_expect_error(r, 400, "VALIDATION_ERROR", "receptor.correo");
	api_resp_free(r);

	r = as_key(key_full, "POST", "/api/facturas", forced_01);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.tipoDte"), "01");
	api_resp_free(r);
}

struct bad_case {
	const char *body;
	const char *field;
};

/* Replace @R (a valid receptor), @B (one with a bad DUI check digit) and
 * @I (one valid item) in a template. Owned. */
static char *fill(const char *tpl, const char *rec_ok, const char *rec_bad, const char *item)
{
	size_t cap = strlen(tpl) + 4 * 400, n = 0;
	char *out = malloc(cap);

	for (const char *p = tpl; *p; p++) {
		const char *put = NULL;

		if (p[0] == '@' && p[1] == 'R')
			put = rec_ok;
		else if (p[0] == '@' && p[1] == 'B')
			put = rec_bad;
		else if (p[0] == '@' && p[1] == 'I')
			put = item;
		if (put) {
			n += (size_t)snprintf(out + n, cap - n, "%s", put);
			p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

static void test_factura_validation(void **state)
{
	static const struct bad_case cases[] = {
	    {"{\"receptor\":{\"nombre\":\"Ana\",\"numDocumento\":\"0614-050707-104-9\",\"tipoDocumento\":\"36\"},"
	     "\"items\":@I,\"referenciaExterna\":\"V-1\"}",
	     "receptor.numDocumento"},
	    {"{\"receptor\":@B,\"items\":@I,\"referenciaExterna\":\"V-2\"}", "receptor.numDocumento"},
	    {"{\"receptor\":{\"nombre\":\"Ana\",\"numDocumento\":\"0614-050707-104-8\",\"tipoDocumento\":\"36\","
	     "\"nrc\":\"12A-4\"},\"items\":@I,\"referenciaExterna\":\"V-3\"}",
	     "receptor.nrc"},
	    {"{\"receptor\":@R,\"items\":[],\"referenciaExterna\":\"V-4\"}", "items"},
	    {"{\"receptor\":@R,\"items\":[{\"descripcion\":\"C\",\"cantidad\":1,\"precio\":-5}],\"referenciaExterna\":"
	     "\"V-5\"}",
	     "items[0].precio"},
	    {"{\"receptor\":@R,\"items\":[{\"descripcion\":\"C\",\"cantidad\":1,\"precio\":\"1.005\"}],"
	     "\"referenciaExterna\":\"V-6\"}",
	     "items[0].precio"},
	    {"{\"receptor\":@R,\"items\":[{\"descripcion\":\"C\",\"cantidad\":0,\"precio\":1}],\"referenciaExterna\":"
	     "\"V-7\"}",
	     "items[0].cantidad"},
	    {"{\"receptor\":@R,\"items\":[{\"descripcion\":\"C\",\"cantidad\":1,\"precio\":1,\"tipo\":\"x\"}],"
	     "\"referenciaExterna\":\"V-8\"}",
	     "items[0].tipo"},
	    {"{\"receptor\":@R,\"items\":[{\"descripcion\":\"C\",\"cantidad\":1,\"precio\":1,\"exento\":true,"
	     "\"noSujeto\":true}],\"referenciaExterna\":\"V-9\"}",
	     "items[0].noSujeto"},
	    {"{\"receptor\":@R,\"items\":[{\"descripcion\":\"C\",\"cantidad\":1,\"precio\":1,\"color\":1}],"
	     "\"referenciaExterna\":\"V-10\"}",
	     "items[0].color"},
	    {"{\"receptor\":@R,\"items\":[{\"cantidad\":1,\"precio\":1}],\"referenciaExterna\":\"V-11\"}",
	     "items[0].descripcion"},
	    {"{\"receptor\":@R,\"items\":@I}", "referenciaExterna"},
	    {"{\"receptor\":@R,\"items\":@I,\"referenciaExterna\":\"x"
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
	     "referenciaExterna"},
	    {"{\"receptor\":@R,\"items\":@I,\"referenciaExterna\":\"V-14\",\"tipoDte\":\"05\"}", "tipoDte"},
	    {"{\"receptor\":{\"nombre\":\"Ana\",\"numDocumento\":\"1\",\"tipoDocumento\":\"99\"},\"items\":@I,"
	     "\"referenciaExterna\":\"V-15\"}",
	     "receptor.tipoDocumento"},
	    {"{\"items\":@I,\"referenciaExterna\":\"V-16\"}", "receptor"},
	    {"{\"receptor\":@R,\"items\":@I,\"referenciaExterna\":\"V-17\",\"total\":5}", "total"},
	    {"{\"receptor\":{\"numDocumento\":\"02382723-5\",\"tipoDocumento\":\"13\"},\"items\":@I,"
	     "\"referenciaExterna\":\"V-18\"}",
	     "receptor.nombre"},
	    {"{\"receptor\":@R,\"items\":@I,\"referenciaExterna\":\"  \"}", "referenciaExterna"},
	};
	static const char item[] = "[{\"descripcion\":\"Consulta\",\"cantidad\":1,\"precio\":35}]";
	char dui[11], bad_dui[11], rec_ok[200], rec_bad[200];
	long long before_docs, before_facturas, before_receptores;

	(void)state;
	make_dui("01234567", dui);
	snprintf(bad_dui, sizeof(bad_dui), "%s", dui);
	bad_dui[9] = (char)('0' + (bad_dui[9] - '0' + 1) % 10);
	snprintf(rec_ok, sizeof(rec_ok), "{\"nombre\":\"Ana\",\"numDocumento\":\"%s\",\"tipoDocumento\":\"13\"}", dui);
	snprintf(rec_bad, sizeof(rec_bad), "{\"nombre\":\"Ana\",\"numDocumento\":\"%s\",\"tipoDocumento\":\"13\"}",
		 bad_dui);
	before_docs = count("SELECT COUNT(*) FROM billing_documents");
	before_facturas = count("SELECT COUNT(*) FROM fiscal_facturas");
	before_receptores = count("SELECT COUNT(*) FROM fiscal_receptores");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *b = fill(cases[i].body, rec_ok, rec_bad, item);
		struct api_resp *r = as_key(key_full, "POST", "/api/facturas", b);

		if (r->status != 400)
			fail_msg("case %zu: HTTP %ld, wanted 400: %.300s", i, r->status, r->body);
		api_expect_error(r, 400, "VALIDATION_ERROR", cases[i].field);
		api_resp_free(r);
		free(b);
	}
	assert_int_equal(count("SELECT COUNT(*) FROM billing_documents"), before_docs);
	assert_int_equal(count("SELECT COUNT(*) FROM fiscal_facturas"), before_facturas);
	assert_int_equal(count("SELECT COUNT(*) FROM fiscal_receptores"), before_receptores);
}

static void test_factura_access(void **state)
{
	char *body = factura_body("ACCESS-1", "10"), *id, path[128], hdr[128], *receptionist, *doctor;
	struct api_resp *r;

	(void)state;
	/* an API key without dte:submit */
	r = as_key(key_no_dte, "POST", "/api/facturas", body);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "dte:submit"));
	api_resp_free(r);
	/* a role with billing:create but not dte:submit; one without billing:create */
	receptionist = api_user_token("demo", "receptionist", NULL);
	r = api_req("POST", "/api/facturas", receptionist, body, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "dte:submit"));
	api_resp_free(r);
	doctor = api_user_token("demo", "doctor", NULL);
	r = api_req("POST", "/api/facturas", doctor, body, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/facturas", NULL, body, hdr_tenant, NULL);
	api_expect_error(r, 401, NULL, NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/facturas", "clk_not_a_real_key", body, hdr_tenant, NULL);
	api_expect_error(r, 401, NULL, NULL);
	api_resp_free(r);
	assert_int_equal(count("SELECT COUNT(*) FROM fiscal_facturas WHERE referencia_externa = 'ACCESS-1'"), 0);

	/* x-tenant-id naming a tenant the key does not serve */
	snprintf(hdr, sizeof(hdr), "x-tenant-id: %s", other_tenant);
	r = api_req("POST", "/api/facturas", key_full, body, hdr, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/facturas", api_admin_token(), NULL, hdr, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);

	/* another tenant's factura is simply not there */
	r = as_key(key_full, "POST", "/api/facturas", body);
	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	snprintf(path, sizeof(path), "/api/facturas/%s", id);
	r = api_req("GET", path, other_admin, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/facturas?referenciaExterna=ACCESS-1", other_admin, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 0);
	api_resp_free(r);
	/* a tenant that is no DTE issuer cannot issue facturas; once it is, the
	 * same reference is free there (idempotency is per tenant) */
	r = api_req("POST", "/api/facturas", other_admin, body, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "settings.emisor");
	api_resp_free(r);
	fenv_set_emisor_as(other_admin, "M002");
	r = api_req("POST", "/api/facturas", other_admin, body, NULL);
	assert_status(r, 201);
	assert_string_not_equal(api_str(r, "data.id"), id);
	assert_int_equal(strncmp(api_str(r, "data.numeroControl"), "DTE-01-M002P001-", 16), 0);
	api_resp_free(r);
	r = api_req("GET", "/api/facturas/not-a-uuid", api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	/* doctor may read (billing:read) */
	r = api_req("GET", path, doctor, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	free(body);
	free(id);
	free(receptionist);
	free(doctor);
}

static void test_factura_lookup_and_list(void **state)
{
	char *body = factura_body("LOOKUP-1", "20"), *id;
	struct api_resp *r;

	(void)state;
	r = as_key(key_full, "POST", "/api/facturas", body);
	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);

	r = as_key(key_full, "GET", "/api/facturas?referenciaExterna=LOOKUP-1", NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 1);
	assert_string_equal(api_str(r, "data.0.id"), id);
	assert_int_equal(api_int(r, "pagination.total"), 1);
	api_resp_free(r);
	r = as_key(key_full, "GET", "/api/facturas?referenciaExterna=NOPE", NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 0);
	api_resp_free(r);
	r = as_key(key_full, "GET", "/api/facturas?limit=2&page=1", NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 2);
	assert_true(api_int(r, "pagination.total") >= 3);
	api_resp_free(r);
	r = as_key(key_full, "GET", "/api/facturas?estado=accepted", NULL);
	assert_status(r, 200);
	for (size_t i = 0; i < json_array_size(api_path(r, "data")); i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(api_path(r, "data"), i), "estado")), "accepted");
	api_resp_free(r);
	r = as_key(key_full, "GET", "/api/facturas?estado=sealed", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "estado");
	api_resp_free(r);
	r = as_key(key_full, "GET", "/api/facturas?limit=0", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "limit");
	api_resp_free(r);
	free(body);
	free(id);
}

static void test_factura_audit(void **state)
{
	struct api_resp *r;

	(void)state;
	r = api_req("GET", "/api/audit-logs?entity=factura", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(json_array_size(api_path(r, "data")) >= 1);
	assert_non_null(strstr(r->body, "factura.create"));
	assert_null(strstr(r->body, "02382723")); /* no document numbers in the trail */
	api_resp_free(r);
	r = api_req("GET", "/api/audit-logs?entity=receptor", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, "receptor.create"));
	assert_null(strstr(r->body, "023827235"));
	api_resp_free(r);
}

/* ---- receptores ---- */

static void test_receptores(void **state)
{
	char dui[11], body[600], path[160], *id, *patient;
	struct api_resp *r;

	(void)state;
	make_dui("04561237", dui);
	snprintf(body, sizeof(body),
		 "{\"tipoDocumento\":\"13\",\"numDocumento\":\"%s\",\"nombre\":\"María López\","
		 "\"correo\":\"maria@example.com\",\"telefono\":\"7777-8888\"}",
		 dui);
	r = as_key(key_full, "POST", "/api/receptores", body);
	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	assert_string_equal(api_str(r, "data.tipoDocumento"), "13");
	assert_int_equal(strlen(api_str(r, "data.numDocumento")), 9);
	assert_string_equal(api_str(r, "data.nombre"), "María López");
	assert_string_equal(api_str(r, "data.correo"), "maria@example.com");
	assert_true(json_is_null(api_path(r, "data.patientId")));
	api_resp_free(r);

	/* encrypted at rest: no plaintext document, phone or e-mail in the row */
	{
		char sql[300], canon[10];

		snprintf(canon, sizeof(canon), "%.8s%c", dui, dui[9]);
		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM fiscal_receptores WHERE num_documento_enc LIKE '%%%s%%' OR "
			 "correo_enc LIKE '%%maria%%' OR telefono_enc LIKE '%%7777%%'",
			 canon);
		assert_int_equal(count(sql), 0);
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM fiscal_receptores WHERE id = '%s'", id);
		assert_int_equal(count(sql), 1);
	}

	/* upsert by document: the canonical form, another name and a patient link -> 200, same id */
	r = api_req("POST", "/api/patients", api_admin_token(), "{\"firstName\":\"María\",\"lastName\":\"López\"}",
		    NULL);
	assert_status(r, 201);
	patient = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	snprintf(body, sizeof(body),
		 "{\"tipoDocumento\":\"13\",\"numDocumento\":\"%.8s%c\",\"nombre\":\"María E. López\","
		 "\"patientId\":\"%s\"}",
		 dui, dui[9], patient);
	r = as_key(key_full, "POST", "/api/receptores", body);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), id);
	assert_string_equal(api_str(r, "data.nombre"), "María E. López");
	assert_string_equal(api_str(r, "data.patientId"), patient);
	api_resp_free(r);

	snprintf(path, sizeof(path), "/api/receptores/%s", id);
	r = as_key(key_full, "GET", path, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.patientId"), patient);
	assert_string_equal(api_str(r, "data.telefono"), "7777-8888");
	api_resp_free(r);

	/* find by numDocumento, printed or canonical */
	snprintf(path, sizeof(path), "/api/receptores?numDocumento=%s", dui);
	r = as_key(key_full, "GET", path, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 1);
	assert_string_equal(api_str(r, "data.0.id"), id);
	api_resp_free(r);
	snprintf(path, sizeof(path), "/api/receptores?numDocumento=%.8s%c", dui, dui[9]);
	r = as_key(key_full, "GET", path, NULL);
	assert_int_equal(json_array_size(api_path(r, "data")), 1);
	api_resp_free(r);
	r = as_key(key_full, "GET", "/api/receptores?numDocumento=99999999-9", NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 0);
	api_resp_free(r);
	r = as_key(key_full, "GET", "/api/receptores", NULL);
	assert_status(r, 200);
	assert_true(api_int(r, "pagination.total") >= 1);
	api_resp_free(r);

	/* another tenant: 404 and an empty search; its patients cannot be linked */
	snprintf(path, sizeof(path), "/api/receptores/%s", id);
	r = api_req("GET", path, other_admin, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	snprintf(path, sizeof(path), "/api/receptores?numDocumento=%s", dui);
	r = api_req("GET", path, other_admin, NULL, NULL);
	assert_int_equal(json_array_size(api_path(r, "data")), 0);
	api_resp_free(r);
	r = api_req("POST", "/api/receptores", other_admin, body, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "patientId");
	api_resp_free(r);
	free(id);
	free(patient);
}

static void test_receptores_validation_and_access(void **state)
{
	static const struct bad_case cases[] = {
	    {"{\"tipoDocumento\":\"36\",\"numDocumento\":\"0614-050707-104-9\",\"nombre\":\"A\"}", "numDocumento"},
	    {"{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-4\",\"nombre\":\"A\"}", "numDocumento"},
	    {"{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nombre\":\"A\",\"nrc\":\"12-AB\"}", "nrc"},
	    {"{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nombre\":\"A\",\"nrc\":\"123456789\"}",
	     "nrc"},
	    {"{\"tipoDocumento\":\"99\",\"numDocumento\":\"02382723-5\",\"nombre\":\"A\"}", "tipoDocumento"},
	    {"{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\"}", "nombre"},
	    {"{\"numDocumento\":\"02382723-5\",\"nombre\":\"A\"}", "tipoDocumento"},
	    {"{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nombre\":\"A\",\"correo\":\"x\"}", "correo"},
	    {"{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nombre\":\"A\",\"direccion\":{"
	     "\"departamento\":"
	     "\"06\",\"municipio\":\"99\",\"complemento\":\"Calle 1, San Salvador\"}}",
	     "direccion.municipio"},
	    {"{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nombre\":\"A\",\"codActividad\":\"86201\"}",
	     "descActividad"},
	    {"{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nombre\":\"A\",\"patientId\":"
	     "\"00000000-0000-4000-8000-000000000000\"}",
	     "patientId"},
	    {"{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nombre\":\"A\",\"x\":1}", "x"},
	};
	long long before = count("SELECT COUNT(*) FROM fiscal_receptores");
	struct api_resp *r;
	char *doctor;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = as_key(key_full, "POST", "/api/receptores", cases[i].body);
		if (r->status != 400)
			fail_msg("case %zu: HTTP %ld: %.300s", i, r->status, r->body);
		api_expect_error(r, 400, "VALIDATION_ERROR", cases[i].field);
		api_resp_free(r);
	}
	assert_int_equal(count("SELECT COUNT(*) FROM fiscal_receptores"), before);

	r = api_req("POST", "/api/receptores", NULL, cases[0].body, NULL);
	api_expect_error(r, 401, NULL, NULL);
	api_resp_free(r);
	doctor = api_user_token("demo", "doctor", NULL);
	r = api_req("POST", "/api/receptores", doctor,
		    "{\"tipoDocumento\":\"13\",\"numDocumento\":\"02382723-5\",\"nombre\":\"A\"}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/receptores/00000000-0000-4000-8000-000000000000", api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(doctor);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_factura_happy_path),
	    cmocka_unit_test(test_factura_idempotent_by_reference),
	    cmocka_unit_test(test_factura_idempotency_key),
	    cmocka_unit_test(test_factura_ccf_and_override),
	    cmocka_unit_test(test_factura_validation),
	    cmocka_unit_test(test_factura_access),
	    cmocka_unit_test(test_factura_lookup_and_list),
	    cmocka_unit_test(test_receptores),
	    cmocka_unit_test(test_receptores_validation_and_access),
	    cmocka_unit_test(test_factura_audit),
	};

	return cmocka_run_group_tests_name("api_facturas", tests, setup, teardown);
}
