/*
 * test_fiscal.c - the fiscal module's rules (src/mod/fiscal/fiscal.h) and
 * its outgoing webhooks against a fresh SQLite database and a REAL HTTP
 * receiver in this process (tests/lib/webhook_receiver.h).
 *
 * Pure rules: the target policy (fiscal_ip_public, fiscal_webhook_url_check),
 * the signature (a vector computed with Python's hmac), the backoff bounds,
 * which statuses are retried, receptor validation (DUI / NIT check digits,
 * NRC, CAT codes, lengths, field names with the prefix) and the factura
 * fingerprint (same content in another spelling = same fingerprint).
 *
 * Delivery: fiscal_on_dte_state inside a write transaction stores the event
 * and one job per subscribed endpoint; jobs_run_once runs "webhook.deliver"
 * from the server's job table, which POSTs to the receiver. Checked: headers
 * and signature (verified with OpenSSL here), the body (§3.2 fields plus
 * estado, observaciones, pdfUrl from the public URL setting), 500 -> logged
 * "retrying" with the exact next retry and a next job, then delivered with
 * the same delivery id; 404 -> dead; 429 -> retried; the last attempt ->
 * dead; a deleted endpoint -> nothing sent; a logged attempt is never sent
 * again; private targets refused without the webhooks_allow_private setting;
 * no endpoint -> no event; another tenant's endpoint gets nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/webhook_receiver.h"

#include "app.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "mod/dte/dte.h"
#include "mod/fiscal/fiscal.h"

#define TENANT "11111111-1111-4111-8111-111111111111"
#define OTHER  "22222222-2222-4222-8222-222222222222"
#define DOC_ID "33333333-3333-4333-8333-333333333333"
#define CODIGO "A1B2C3D4-0000-4000-8000-00000000000A"
#define PUBLIC "https://fx.example/"
#define PAST   "2000-01-01T00:00:00Z"

/* ---- pure rules ---- */

static void test_ip_public(void **state)
{
	static const char *const private_addrs[] = {
	    "127.0.0.1",
	    "10.1.2.3",
	    "172.16.0.1",
	    "172.31.255.255",
	    "192.168.1.1",
	    "169.254.169.254",
	    "100.64.0.1",
	    "0.0.0.0",
	    "224.0.0.1",
	    "255.255.255.255",
	    "192.0.2.5",
	    "198.18.0.1",
	    "::1",
	    "::",
	    "fe80::1",
	    "fc00::1",
	    "fd12::3",
	    "ff02::1",
	    "::ffff:127.0.0.1",
	    "::ffff:10.0.0.1",
	    "64:ff9b::a00:1",
	    "2001:db8::1",
	    "2002::1",
	    "2001::1",
	    "not an ip",
	    "",
	};
	static const char *const public_addrs[] = {"8.8.8.8",	      "1.1.1.1",      "172.32.0.1",    "192.169.0.1",
						   "2606:4700::1111", "2a00:1450::1", "::ffff:8.8.8.8"};

	(void)state;
	for (size_t i = 0; i < sizeof(private_addrs) / sizeof(private_addrs[0]); i++)
		if (fiscal_ip_public(private_addrs[i]))
			fail_msg("%s taken as public", private_addrs[i]);
	for (size_t i = 0; i < sizeof(public_addrs) / sizeof(public_addrs[0]); i++)
		if (!fiscal_ip_public(public_addrs[i]))
			fail_msg("%s taken as private", public_addrs[i]);
	assert_false(fiscal_ip_public(NULL));
}

static void test_url_check(void **state)
{
	static const char *const good[] = {"https://example.com/hook", "http://example.com:8080/x?y=1",
					   "https://8.8.8.8/h", "https://[2606:4700::1111]/h", "HTTPS://Example.COM"};
	static const char *const bad[] = {
	    "",
	    "ftp://example.com/x",
	    "example.com/hook",
	    "https://",
	    "https:///path",
	    "https://user:pw@example.com/",
	    "https://example.com/#frag",
	    "https://example.com:0/",
	    "https://example.com:99999/",
	    "https://example.com:abc/",
	    "https://exa mple.com/",
	    "https://localhost/x",
	    "http://api.localhost:8080/",
	    "http://127.0.0.1:9000/",
	    "http://10.0.0.5/",
	    "http://169.254.169.254/latest/meta-data",
	    "http://[::1]:8080/",
	    "http://[fe80::1]/",
	    "http://[::ffff:127.0.0.1]/",
	    "http://2130706433/",
	    "http://0x7f.1/",
	    "http://127.1/",
	    "http://[::1/",
	};
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err_clear(&e);
		if (fiscal_webhook_url_check(good[i], false, "url", &e) != 0)
			fail_msg("%s refused: %s", good[i], e.message);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (fiscal_webhook_url_check(bad[i], false, "url", &e) != ERR_INVALID)
			fail_msg("%s accepted", bad[i]);
		assert_string_equal(e.field, "url");
	}
	/* the override lets loopback through, never other schemes or credentials */
	err_clear(&e);
	assert_int_equal(fiscal_webhook_url_check("http://127.0.0.1:9000/hook", true, "url", &e), 0);
	assert_int_equal(fiscal_webhook_url_check("http://localhost:9000/hook", true, "url", &e), 0);
	assert_int_equal(fiscal_webhook_url_check("ftp://127.0.0.1/", true, "url", &e), ERR_INVALID);
	assert_int_equal(fiscal_webhook_url_check("http://a:b@127.0.0.1/", true, "url", &e), ERR_INVALID);
	/* resolution: a literal loopback address is refused, allowed with the override */
	err_clear(&e);
	assert_int_equal(fiscal_webhook_url_resolve_check("http://127.0.0.1:1/", false, &e), ERR_INVALID);
	assert_int_equal(fiscal_webhook_url_resolve_check("http://127.0.0.1:1/", true, &e), 0);
}

static void test_sign(void **state)
{
	char out[128];

	(void)state;
	/* python3: hmac.new(b'whsec_test', b'1700000000.{"a":1}', hashlib.sha256).hexdigest() */
	fiscal_webhook_sign("whsec_test", 1700000000, "{\"a\":1}", 7, out, sizeof(out));
	assert_string_equal(out, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
}

static void test_backoff_and_retryable(void **state)
{
	(void)state;
	for (int attempt = 1; attempt <= 12; attempt++) {
		int64_t d = 5;

		for (int i = 1; i < attempt && d < 21600; i++)
			d *= 4;
		if (d > 21600)
			d = 21600;
		for (int k = 0; k < 50; k++) {
			int64_t v = fiscal_webhook_backoff_s(attempt, 5, 21600);

			if (v < d / 2 || v > d)
				fail_msg("attempt %d: %lld outside [%lld, %lld]", attempt, (long long)v,
					 (long long)(d / 2), (long long)d);
		}
	}
	assert_true(fiscal_webhook_backoff_s(1, 1, 60) <= 1);
	assert_true(fiscal_webhook_retryable(0));
	assert_true(fiscal_webhook_retryable(408));
	assert_true(fiscal_webhook_retryable(429));
	assert_true(fiscal_webhook_retryable(500));
	assert_true(fiscal_webhook_retryable(503));
	assert_false(fiscal_webhook_retryable(200));
	assert_false(fiscal_webhook_retryable(301));
	assert_false(fiscal_webhook_retryable(400));
	assert_false(fiscal_webhook_retryable(401));
	assert_false(fiscal_webhook_retryable(404));
	assert_false(fiscal_webhook_retryable(410));
}

/* A valid DUI "NNNNNNNN-C" from 8 digits. */
static void make_dui(const char *base8, char out[11])
{
	int sum = 0;

	for (int i = 0; i < 8; i++)
		sum += (base8[i] - '0') * (9 - i);
	snprintf(out, 11, "%.8s-%d", base8, (10 - sum % 10) % 10);
}

static int check(const struct fiscal_receptor_input *in, struct fiscal_receptor *out, struct err *e)
{
	struct arena *a = arena_new(0);
	int rc;

	err_clear(e);
	rc = fiscal_receptor_check(in, a, out, e);
	arena_free(a);
	return rc;
}

static void expect_receptor_error(const struct fiscal_receptor_input *in, const char *field)
{
	struct fiscal_receptor out;
	struct err e;

	if (check(in, &out, &e) != ERR_INVALID)
		fail_msg("accepted; wanted an error on %s", field);
	if (strcmp(e.field, field) != 0)
		fail_msg("error on %s (%s), wanted %s", e.field, e.message, field);
}

static void test_receptor_check(void **state)
{
	struct fiscal_address dir = {"06", "23", "Colonia Escalón, San Salvador"};
	struct fiscal_address bad_mun = {"06", "99", "Colonia Escalón"};
	struct fiscal_address bad_dep = {"15", "01", "Colonia Escalón"};
	struct fiscal_address short_comp = {"06", "23", "x"};
	struct fiscal_receptor_input in,
	    base = {
		.tipo_documento = "13", .num_documento = NULL, .nombre = "  Juan Pérez  ", .field_prefix = "receptor."};
	struct fiscal_receptor out;
	struct arena *a = arena_new(0);
	char dui[11], bad[11];
	struct err e;

	(void)state;
	make_dui("02382723", dui);
	assert_string_equal(dui, "02382723-5"); /* README §3.9 vector */
	snprintf(bad, sizeof(bad), "%s", dui);
	bad[9] = '6';
	base.num_documento = dui;

	in = base;
	err_clear(&e);
	assert_int_equal(fiscal_receptor_check(&in, a, &out, &e), 0);
	assert_string_equal(out.num_documento, "023827235");
	assert_string_equal(out.nombre, "Juan Pérez");
	assert_null(out.nrc);
	assert_false(out.has_direccion);

	/* a full contributor: NIT, NRC with hyphen, activity, address, mail, phone */
	in = base;
	in.tipo_documento = "36";
	in.num_documento = "0614-050707-104-8";
	in.nrc = "123456-7";
	in.cod_actividad = "86201";
	in.desc_actividad = "Clínicas médicas";
	in.direccion = &dir;
	in.correo = " Compras@Example.com ";
	in.telefono = "2222-3333";
	in.patient_id = "AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA";
	err_clear(&e);
	assert_int_equal(fiscal_receptor_check(&in, a, &out, &e), 0);
	assert_string_equal(out.num_documento, "06140507071048");
	assert_string_equal(out.nrc, "1234567");
	assert_true(out.has_direccion);
	assert_string_equal(out.direccion.complemento, "Colonia Escalón, San Salvador");
	assert_string_equal(out.correo, "Compras@Example.com");
	assert_string_equal(out.patient_id, "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");

	/* passport canonical, other documents trimmed */
	in = base;
	in.tipo_documento = "03";
	in.num_documento = "ab123456";
	err_clear(&e);
	assert_int_equal(fiscal_receptor_check(&in, a, &out, &e), 0);
	assert_string_equal(out.num_documento, "AB123456");

	/* errors, each naming its field with the prefix */
	in = base;
	in.num_documento = bad;
	expect_receptor_error(&in, "receptor.numDocumento");
	in = base;
	in.num_documento = "00000000-0";
	expect_receptor_error(&in, "receptor.numDocumento");
	in = base;
	in.tipo_documento = "36";
	in.num_documento = "0614-050707-104-9";
	expect_receptor_error(&in, "receptor.numDocumento");
	in = base;
	in.tipo_documento = "99";
	expect_receptor_error(&in, "receptor.tipoDocumento");
	in = base;
	in.tipo_documento = NULL;
	expect_receptor_error(&in, "receptor.tipoDocumento");
	in = base;
	in.num_documento = NULL;
	expect_receptor_error(&in, "receptor.numDocumento");
	in = base;
	in.tipo_documento = "37";
	in.num_documento = "ab";
	expect_receptor_error(&in, "receptor.numDocumento");
	in = base;
	in.nrc = "12-34A";
	expect_receptor_error(&in, "receptor.nrc");
	in = base;
	in.nrc = "123456789";
	expect_receptor_error(&in, "receptor.nrc");
	in = base;
	in.nrc = "1";
	expect_receptor_error(&in, "receptor.nrc");
	in = base;
	in.nombre = NULL;
	expect_receptor_error(&in, "receptor.nombre");
	in = base;
	in.nombre = "   ";
	expect_receptor_error(&in, "receptor.nombre");
	in = base;
	in.nombre = "Juan\001";
	expect_receptor_error(&in, "receptor.nombre");
	in = base;
	in.cod_actividad = "8620";
	in.desc_actividad = "Clínicas médicas";
	expect_receptor_error(&in, "receptor.codActividad");
	in = base;
	in.cod_actividad = "86201";
	expect_receptor_error(&in, "receptor.descActividad");
	in = base;
	in.desc_actividad = "Clínicas médicas";
	expect_receptor_error(&in, "receptor.codActividad");
	in = base;
	in.direccion = &bad_mun;
	expect_receptor_error(&in, "receptor.direccion.municipio");
	in = base;
	in.direccion = &bad_dep;
	expect_receptor_error(&in, "receptor.direccion.departamento");
	in = base;
	in.direccion = &short_comp;
	expect_receptor_error(&in, "receptor.direccion.complemento");
	in = base;
	in.telefono = "2222";
	expect_receptor_error(&in, "receptor.telefono");
	in = base;
	in.correo = "not-an-email";
	expect_receptor_error(&in, "receptor.correo");
	in = base;
	in.patient_id = "nope";
	expect_receptor_error(&in, "receptor.patientId");
	in = base;
	in.field_prefix = NULL;
	in.num_documento = bad;
	expect_receptor_error(&in, "numDocumento");
	arena_free(a);
}

static void test_fingerprint(void **state)
{
	struct fiscal_item it1 = {.descripcion = "Consulta General", .cantidad_milli = 1000, .precio_micro = 35000000},
			   it2 = it1;
	struct fiscal_factura_input in = {.items = &it1, .nitems = 1, .referencia_externa = "CONSULTA-10234"};
	struct fiscal_receptor_input ri = {
	    .tipo_documento = "13", .num_documento = "02382723-5", .nombre = "Juan Pérez"};
	struct fiscal_receptor r1, r2;
	char f1[65], f2[65], f3[65];
	struct err e;

	(void)state;
	/* the same content in two spellings, then one change at a time */
	{
		struct arena *a = arena_new(0);

		ri.num_documento = "02382723-5";
		ri.nombre = "Juan Pérez";
		assert_int_equal(fiscal_receptor_check(&ri, a, &r1, &e), 0);
		fiscal_factura_fingerprint(&in, &r1, f1);
		ri.num_documento = "023827235";
		ri.nombre = " Juan Pérez ";
		assert_int_equal(fiscal_receptor_check(&ri, a, &r2, &e), 0);
		fiscal_factura_fingerprint(&in, &r2, f2);
		assert_string_equal(f1, f2);
		in.items = &it2;
		it2.precio_micro = 35010000;
		fiscal_factura_fingerprint(&in, &r2, f3);
		assert_string_not_equal(f1, f3);
		it2.precio_micro = 35000000;
		it2.tax = FISCAL_EXENTO;
		fiscal_factura_fingerprint(&in, &r2, f3);
		assert_string_not_equal(f1, f3);
		it2.tax = FISCAL_GRAVADO;
		in.tipo_dte = "01";
		fiscal_factura_fingerprint(&in, &r2, f3);
		assert_string_not_equal(f1, f3);
		in.tipo_dte = NULL;
		fiscal_factura_fingerprint(&in, &r2, f3);
		assert_string_equal(f1, f3);
		ri.correo = "a@b.sv";
		assert_int_equal(fiscal_receptor_check(&ri, a, &r2, &e), 0);
		fiscal_factura_fingerprint(&in, &r2, f3);
		assert_string_not_equal(f1, f3);
		arena_free(a);
	}
}

/* ---- delivery against SQLite and the receiver ---- */

struct fx {
	char dir[256];
	char url[600];
	char *base_url; /* PostgreSQL: the server's URL; NULL for SQLite */
	char dbname[64];
	struct db *db;
	struct app app;
	struct actor actor, other;
	struct wr w;
};

static int64_t q_int(struct fx *f, const char *sql, const char *arg)
{
	struct db_param p[] = {DBP_TEXT(arg)};
	struct db_conn *c = NULL;
	struct err e;
	int64_t v = -1;

	err_clear(&e);
	assert_int_equal(db_acquire(f->db, DB_READ, &c, &e), 0);
	if (db_query_int(c, sql, p, arg ? 1 : 0, &v, &e) != 0)
		fail_msg("%s: %s (%s)", sql, e.message, e.detail);
	db_release(c);
	return v;
}

static char *q_text(struct fx *f, const char *sql, const char *arg)
{
	struct db_param p[] = {DBP_TEXT(arg)};
	struct db_conn *c = NULL;
	struct db_rows *rows = NULL;
	struct err e;
	char *out = NULL;

	err_clear(&e);
	assert_int_equal(db_acquire(f->db, DB_READ, &c, &e), 0);
	if (db_query(c, sql, p, arg ? 1 : 0, &rows, &e) != 0)
		fail_msg("%s: %s (%s)", sql, e.message, e.detail);
	if (db_rows_count(rows) > 0 && db_rows_text(rows, 0, 0))
		out = xstrdup(db_rows_text(rows, 0, 0));
	db_rows_free(rows);
	db_release(c);
	return out;
}

static int64_t iso_s(const char *iso)
{
	struct err e;
	int64_t s = 0;

	err_clear(&e);
	assert_int_equal(time_parse_iso(iso, &s, "t", &e), 0);
	return s;
}

static void exec_ok(struct fx *f, const char *sql)
{
	struct db_conn *c = NULL;
	struct err e;

	err_clear(&e);
	assert_int_equal(db_acquire(f->db, DB_WRITE, &c, &e), 0);
	if (db_exec(c, sql, NULL, 0, NULL, &e) != 0)
		fail_msg("%s: %s (%s)", sql, e.message, e.detail);
	db_release(c);
}

/* Run one SQL script on url (PostgreSQL administration). */
static int admin_exec(const char *url, const char *sql)
{
	struct db_options o = {.pool_size = 1};
	struct db *db = NULL;
	struct db_conn *c = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	rc = db_open(url, &o, &db, &e);
	if (rc == 0)
		rc = db_acquire(db, DB_WRITE, &c, &e);
	if (rc == 0)
		rc = db_exec_script(c, sql, &e);
	if (rc != 0)
		fprintf(stderr, "%s: %s (%s)\n", sql, e.message, e.detail);
	db_release(c);
	db_close(db);
	return rc;
}

static int setup_common(struct fx *f)
{
	struct err e;

	err_clear(&e);
	if (db_open(f->url, NULL, &f->db, &e) || db_migrate(f->db, NULL, &e)) {
		fprintf(stderr, "db: %s (%s)\n", e.message, e.detail);
		return -1;
	}
	f->app.db = f->db;
	crypto_random(f->app.keys.data_enc, sizeof(f->app.keys.data_enc));
	crypto_random(f->app.keys.data_index, sizeof(f->app.keys.data_index));
	snprintf(f->app.cfg.listen_host, sizeof(f->app.cfg.listen_host), "127.0.0.1");
	f->app.cfg.listen_port = 8080;
	f->actor = (struct actor){.tenant_id = TENANT, .kind = "user", .id = "test-admin"};
	f->other = (struct actor){.tenant_id = OTHER, .kind = "user", .id = "other-admin"};
	exec_ok(f, "INSERT INTO tenants (id, name, slug, kind, time_zone, currency, country, created_at, updated_at) "
		   "VALUES ('" TENANT "', 'T', 't', 'clinic', 'America/El_Salvador', 'USD', 'SV', "
		   "'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')");
	exec_ok(f, "INSERT INTO tenants (id, name, slug, kind, time_zone, currency, country, created_at, updated_at) "
		   "VALUES ('" OTHER "', 'O', 'o', 'clinic', 'America/El_Salvador', 'USD', 'SV', "
		   "'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')");
	f->app.cfg.webhooks_allow_private = 1;
	snprintf(f->app.cfg.public_url, sizeof(f->app.cfg.public_url), "%s", PUBLIC);
	f->app.cfg.webhooks_retry_base_s = 10;
	return wr_start(&f->w);
}

static int setup_sqlite(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	log_set_level(LOG_ERROR);
	*state = f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cl-test-fiscal-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->url, sizeof(f->url), "%s/fiscal.db", f->dir);
	return setup_common(f);
}

static int setup_pg(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char *sql;
	int rc;

	log_set_level(LOG_ERROR);
	*state = f;
	f->base_url = xstrdup(getenv("CLINICLEDGER_TEST_PG"));
	snprintf(f->dbname, sizeof(f->dbname), "cl_test_fiscal_%ld_%ld", (long)getpid(), (long)time(NULL));
	sql = xasprintf("CREATE DATABASE %s", f->dbname);
	rc = admin_exec(f->base_url, sql);
	free(sql);
	if (rc != 0) {
		f->dbname[0] = '\0';
		return -1;
	}
	snprintf(f->url, sizeof(f->url), "%s%sdbname=%s", f->base_url, strchr(f->base_url, '?') ? "&" : "?", f->dbname);
	return setup_common(f);
}

static int teardown_db(void **state)
{
	struct fx *f = *state;
	char cmd[400];

	wr_stop(&f->w);
	db_close(f->db);
	if (f->base_url) {
		char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", f->dbname);

		if (f->dbname[0])
			admin_exec(f->base_url, sql);
		free(sql);
		free(f->base_url);
	} else if (f->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", f->dir);
	}
	free(f);
	return 0;
}

/* Register an endpoint of actor's tenant at url; returns its secret (owned) and id. */
static char *endpoint(struct fx *f, const struct actor *who, const char *url, char id[UUID_LEN + 1])
{
	static const char *const ev[] = {FISCAL_EVENT_DTE};
	struct fiscal_endpoint ep;
	struct arena *a = arena_new(0);
	struct err e;
	char *secret;

	err_clear(&e);
	if (fiscal_endpoint_create(&f->app, who, url, ev, 1, "test receiver", a, &ep, &e) != 0)
		fail_msg("endpoint: %s (%s)", e.message, e.detail);
	assert_non_null(ep.secret);
	assert_int_equal(strncmp(ep.secret, FISCAL_SECRET_PREFIX, 6), 0);
	secret = xstrdup(ep.secret);
	snprintf(id, UUID_LEN + 1, "%s", ep.id);
	arena_free(a);
	return secret;
}

/* One DTE state change of TENANT's document, as the DTE flow reports it. */
static void emit(struct fx *f, enum dte_status st, const char *sello, const char *obs)
{
	struct dte_record d;
	struct db_conn *c = NULL;
	struct err e;

	memset(&d, 0, sizeof(d));
	snprintf(d.tenant_id, sizeof(d.tenant_id), "%s", TENANT);
	snprintf(d.document_id, sizeof(d.document_id), "%s", DOC_ID);
	snprintf(d.codigo_generacion, sizeof(d.codigo_generacion), "%s", CODIGO);
	snprintf(d.tipo_dte, sizeof(d.tipo_dte), "01");
	snprintf(d.numero_control, sizeof(d.numero_control), "DTE-01-M001P001-000000000000001");
	snprintf(d.ambiente, sizeof(d.ambiente), "00");
	snprintf(d.fec_emi, sizeof(d.fec_emi), "2025-10-14");
	d.status = st;
	if (sello)
		snprintf(d.sello, sizeof(d.sello), "%s", sello);
	d.observaciones = obs;
	d.codigo_msg = st == DTE_ST_REJECTED ? "004" : NULL;
	err_clear(&e);
	assert_int_equal(db_acquire(f->db, DB_WRITE, &c, &e), 0);
	assert_int_equal(db_begin(c, &e), 0);
	if (fiscal_on_dte_state(c, &f->actor, &d, &e) != 0)
		fail_msg("hook: %s (%s)", e.message, e.detail);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
}

/* Run due jobs until none is due; returns how many ran. */
static int run_due(struct fx *f)
{
	const struct job_type *types;
	size_t ntypes;
	struct err e;
	int ran = 1, total = 0;

	types = job_types_table(&ntypes);
	while (ran) {
		err_clear(&e);
		if (jobs_run_once(&f->app, types, ntypes, "test-worker", &ran, &e) != 0)
			fail_msg("run_once: %s (%s)", e.message, e.detail);
		total += ran;
	}
	return total;
}

static void rewind_jobs(struct fx *f)
{
	exec_ok(f, "UPDATE jobs SET run_at = '" PAST "' WHERE state IN ('queued', 'failed')");
}

static void clean(struct fx *f)
{
	exec_ok(f, "DELETE FROM jobs");
	exec_ok(f, "DELETE FROM webhook_deliveries");
	exec_ok(f, "DELETE FROM webhook_events");
	exec_ok(f, "UPDATE webhook_endpoints SET active = 0, deleted_at = '" PAST "'");
}

static void test_deliver_retry_then_ok(void **state)
{
	struct fx *f = *state;
	static const int script[] = {500};
	char id[UUID_LEN + 1], other_id[UUID_LEN + 1], *secret, *other_secret, *next, *dlv;
	json_t *body;
	long long t = 0;

	clean(f);
	secret = endpoint(f, &f->actor, f->w.url, id);
	other_secret = endpoint(f, &f->other, f->w.url, other_id); /* another tenant: must get nothing */
	wr_reset(&f->w, script, 1, 200);

	emit(f, DTE_ST_ACCEPTED, "2025ABCDEF0123456789ABCDEF0123456789ABCD", "[\"obs 1\"]");
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_events WHERE tenant_id = ?", TENANT), 1);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM jobs WHERE kind = ?", "webhook.deliver"), 1);

	/* attempt 1: the receiver answers 500 -> logged retrying, next job delayed */
	assert_int_equal(run_due(f), 1);
	assert_int_equal(wr_count(&f->w), 1);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?", id), 1);
	assert_int_equal(q_int(f, "SELECT status_code FROM webhook_deliveries WHERE endpoint_id = ?", id), 500);
	dlv = q_text(f, "SELECT outcome FROM webhook_deliveries WHERE endpoint_id = ?", id);
	assert_string_equal(dlv, "retrying");
	free(dlv);
	next = q_text(f, "SELECT next_retry_at FROM webhook_deliveries WHERE endpoint_id = ?", id);
	assert_non_null(next);
	dlv = q_text(f, "SELECT run_at FROM jobs WHERE state = 'queued' AND kind = ?", "webhook.deliver");
	assert_non_null(dlv);
	/* the log says when the next try runs (the job's run_at, within a second) */
	assert_true(llabs(iso_s(dlv) - iso_s(next)) <= 1);
	free(dlv);
	free(next);
	assert_int_equal(run_due(f), 0); /* not due yet */

	/* attempt 2: 200 -> delivered, same delivery id */
	rewind_jobs(f);
	assert_int_equal(run_due(f), 1);
	assert_int_equal(wr_count(&f->w), 2);
	assert_int_equal(q_int(f,
			       "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'delivered' AND attempt = 2 "
			       "AND endpoint_id = ?",
			       id),
			 1);
	assert_string_equal(f->w.req[0].delivery, f->w.req[1].delivery);
	assert_true(uuid_valid(f->w.req[0].delivery));
	assert_string_equal(f->w.req[1].event, "dte.processed");
	assert_string_equal(f->w.req[1].method, "POST");
	assert_string_equal(f->w.req[1].path, "/hook");
	assert_non_null(strstr(f->w.req[1].content_type, "application/json"));
	assert_non_null(strstr(f->w.req[1].user_agent, "clinicledger"));
	assert_true(wr_verify(&f->w, 0, secret, NULL));
	assert_true(wr_verify(&f->w, 1, secret, &t));
	assert_true(t > time_now_s() - 60 && t <= time_now_s());
	assert_false(wr_verify(&f->w, 1, other_secret, NULL));

	body = json_loads(f->w.req[1].body, 0, NULL);
	assert_non_null(body);
	assert_true(json_is_null(json_object_get(body, "referenciaExterna")));
	assert_string_equal(json_string_value(json_object_get(body, "codigoGeneracion")), CODIGO);
	assert_string_equal(json_string_value(json_object_get(body, "sello")),
			    "2025ABCDEF0123456789ABCDEF0123456789ABCD");
	assert_string_equal(json_string_value(json_object_get(body, "pdfUrl")),
			    "https://fx.example/api/dte/pdf/" CODIGO);
	assert_string_equal(json_string_value(json_object_get(body, "estado")), "accepted");
	assert_string_equal(json_string_value(json_object_get(body, "numeroControl")),
			    "DTE-01-M001P001-000000000000001");
	assert_string_equal(json_string_value(json_object_get(body, "tipoDte")), "01");
	assert_string_equal(json_string_value(json_object_get(body, "event")), "dte.processed");
	assert_true(uuid_valid(json_string_value(json_object_get(body, "eventId"))));
	assert_non_null(json_string_value(json_object_get(body, "occurredAt")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(body, "observaciones"), 0)), "obs 1");
	json_decref(body);
	/* the other tenant's endpoint saw nothing */
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?", other_id), 0);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_events WHERE tenant_id = ?", OTHER), 0);
	free(secret);
	free(other_secret);
}

static void test_deliver_4xx_dead_429_retried(void **state)
{
	struct fx *f = *state;
	static const int s404[] = {404}, s429[] = {429};
	char id[UUID_LEN + 1], *secret, *out;

	clean(f);
	secret = endpoint(f, &f->actor, f->w.url, id);
	wr_reset(&f->w, s404, 1, 200);
	emit(f, DTE_ST_REJECTED, NULL, "[\"a\",\"b\"]");
	assert_int_equal(run_due(f), 1);
	rewind_jobs(f);
	assert_int_equal(run_due(f), 0); /* dead: nothing scheduled */
	out = q_text(f, "SELECT outcome FROM webhook_deliveries WHERE endpoint_id = ?", id);
	assert_string_equal(out, "dead");
	free(out);
	out = q_text(f, "SELECT error FROM webhook_deliveries WHERE endpoint_id = ?", id);
	assert_non_null(strstr(out, "404"));
	free(out);
	assert_int_equal(wr_count(&f->w), 1);

	wr_reset(&f->w, s429, 1, 200);
	emit(f, DTE_ST_ACCEPTED, "2025ABCDEF0123456789ABCDEF0123456789ABCD", NULL);
	assert_int_equal(run_due(f), 1);
	rewind_jobs(f);
	assert_int_equal(run_due(f), 1);
	assert_int_equal(wr_count(&f->w), 2);
	assert_int_equal(
	    q_int(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE outcome = 'delivered' AND endpoint_id = ?", id), 1);
	free(secret);
}

static void test_last_attempt_dead(void **state)
{
	struct fx *f = *state;
	char id[UUID_LEN + 1], *secret, *out;
	char delivery[UUID_LEN + 1], sql[512];

	clean(f);
	secret = endpoint(f, &f->actor, f->w.url, id);
	wr_reset(&f->w, NULL, 0, 503);
	emit(f, DTE_ST_ACCEPTED, NULL, NULL);
	/* pretend the earlier attempts happened: the queued job is the last one */
	snprintf(sql, sizeof(sql),
		 "UPDATE jobs SET payload = REPLACE(payload, '\"attempt\":1', '\"attempt\":%d') WHERE kind = "
		 "'webhook.deliver'",
		 FISCAL_WEBHOOK_ATTEMPTS);
	exec_ok(f, sql);
	assert_int_equal(run_due(f), 1);
	rewind_jobs(f);
	assert_int_equal(run_due(f), 0);
	out = q_text(f, "SELECT outcome FROM webhook_deliveries WHERE endpoint_id = ?", id);
	assert_string_equal(out, "dead");
	free(out);
	assert_int_equal(q_int(f, "SELECT attempt FROM webhook_deliveries WHERE endpoint_id = ?", id),
			 FISCAL_WEBHOOK_ATTEMPTS);

	/* a logged attempt is not sent again (a job re-run after a crash) */
	out = q_text(f, "SELECT delivery_id FROM webhook_deliveries WHERE endpoint_id = ?", id);
	snprintf(delivery, sizeof(delivery), "%s", out);
	free(out);
	exec_ok(f,
		"UPDATE jobs SET state = 'queued', run_at = '" PAST "', attempts = 0 WHERE kind = 'webhook.deliver'");
	assert_int_equal(run_due(f), 1);
	assert_int_equal(wr_count(&f->w), 1);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE delivery_id = ?", delivery), 1);
	free(secret);
}

static void test_deleted_endpoint_and_no_endpoint(void **state)
{
	struct fx *f = *state;
	char id[UUID_LEN + 1], *secret;
	struct err e;

	clean(f);
	wr_reset(&f->w, NULL, 0, 200);
	/* no endpoint: no event, no job */
	emit(f, DTE_ST_PENDING, NULL, NULL);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_events", NULL), 0);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM jobs", NULL), 0);

	secret = endpoint(f, &f->actor, f->w.url, id);
	emit(f, DTE_ST_PENDING, NULL, NULL);
	err_clear(&e);
	assert_int_equal(fiscal_endpoint_delete(&f->app, &f->actor, id, &e), 0);
	assert_int_equal(fiscal_endpoint_delete(&f->app, &f->actor, id, &e), ERR_NOT_FOUND);
	assert_int_equal(run_due(f), 1);
	assert_int_equal(wr_count(&f->w), 0);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_deliveries", NULL), 0);
	/* the other tenant cannot delete ours */
	free(secret);
	secret = endpoint(f, &f->actor, f->w.url, id);
	assert_int_equal(fiscal_endpoint_delete(&f->app, &f->other, id, &e), ERR_NOT_FOUND);
	free(secret);
}

static void test_private_target_refused(void **state)
{
	struct fx *f = *state;
	char id[UUID_LEN + 1], *secret, *out;

	clean(f);
	wr_reset(&f->w, NULL, 0, 200);
	secret = endpoint(f, &f->actor, f->w.url, id);
	emit(f, DTE_ST_ACCEPTED, NULL, NULL);
	f->app.cfg.webhooks_allow_private = 0;
	assert_int_equal(run_due(f), 1);
	f->app.cfg.webhooks_allow_private = 1;
	assert_int_equal(wr_count(&f->w), 0);
	out = q_text(f, "SELECT outcome FROM webhook_deliveries WHERE endpoint_id = ?", id);
	assert_string_equal(out, "dead");
	free(out);
	free(secret);
}

static void test_endpoint_validation(void **state)
{
	struct fx *f = *state;
	static const char *const unknown[] = {"dte.nope"};
	static const char *const ev[] = {FISCAL_EVENT_DTE, FISCAL_EVENT_DTE};
	struct fiscal_endpoint ep, *list = NULL;
	struct arena *a = arena_new(0);
	char id[UUID_LEN + 1];
	size_t n = 0;
	struct err e;

	clean(f);
	err_clear(&e);
	assert_int_equal(fiscal_endpoint_create(&f->app, &f->actor, "ftp://x/", ev, 1, NULL, a, &ep, &e), ERR_INVALID);
	assert_string_equal(e.field, "url");
	err_clear(&e);
	assert_int_equal(fiscal_endpoint_create(&f->app, &f->actor, f->w.url, unknown, 1, NULL, a, &ep, &e),
			 ERR_INVALID);
	assert_string_equal(e.field, "events[0]");
	err_clear(&e);
	assert_int_equal(fiscal_endpoint_create(&f->app, &f->actor, f->w.url, ev, 0, NULL, a, &ep, &e), ERR_INVALID);
	assert_string_equal(e.field, "events");
	/* duplicates collapse */
	err_clear(&e);
	assert_int_equal(fiscal_endpoint_create(&f->app, &f->actor, f->w.url, ev, 2, NULL, a, &ep, &e), 0);
	assert_int_equal(ep.nevents, 1);
	/* the secret is stored encrypted, never in clear */
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_endpoints WHERE secret_enc LIKE 'whsec_%'", NULL), 0);
	/* at most FISCAL_WEBHOOK_MAX active endpoints */
	for (int i = 1; i < FISCAL_WEBHOOK_MAX; i++)
		free(endpoint(f, &f->actor, f->w.url, id));
	err_clear(&e);
	assert_int_equal(fiscal_endpoint_create(&f->app, &f->actor, f->w.url, ev, 1, NULL, a, &ep, &e), ERR_CONFLICT);
	assert_int_equal(fiscal_endpoint_list(&f->app, TENANT, a, &list, &n, &e), 0);
	assert_int_equal(n, FISCAL_WEBHOOK_MAX);
	assert_null(list[0].secret);
	assert_int_equal(fiscal_endpoint_list(&f->app, OTHER, a, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(test_ip_public),	   cmocka_unit_test(test_url_check),
	    cmocka_unit_test(test_sign),	   cmocka_unit_test(test_backoff_and_retryable),
	    cmocka_unit_test(test_receptor_check), cmocka_unit_test(test_fingerprint),
	};
	const struct CMUnitTest delivery[] = {
	    cmocka_unit_test(test_deliver_retry_then_ok),  cmocka_unit_test(test_deliver_4xx_dead_429_retried),
	    cmocka_unit_test(test_last_attempt_dead),	   cmocka_unit_test(test_deleted_endpoint_and_no_endpoint),
	    cmocka_unit_test(test_private_target_refused), cmocka_unit_test(test_endpoint_validation),
	};
	const char *pg = getenv("CLINICLEDGER_TEST_PG");
	int failed = cmocka_run_group_tests_name("fiscal_rules", pure, NULL, NULL);

	failed += cmocka_run_group_tests_name("fiscal_webhooks_sqlite", delivery, setup_sqlite, teardown_db);
	if (pg && *pg)
		failed += cmocka_run_group_tests_name("fiscal_webhooks_pgsql", delivery, setup_pg, teardown_db);
	return failed ? 1 : 0;
}
