/*
 * test_webhooks_out.c - API tests of the outgoing webhooks of the
 * fiscal-engine contract (§3.2): /api/webhooks/endpoints and the
 * "dte.processed" deliveries, against the real binary, the MH sandbox
 * (tests/lib/fiscal_env.h) and a REAL HTTP receiver started in this
 * program (tests/lib/webhook_receiver.h), which verifies every signature
 * with OpenSSL's HMAC.
 *
 * Covered: register (secret shown once, never listed), list, delete, the
 * delivery log (also of a deleted endpoint), validation (400 naming the
 * field), 401 / 403 (admin:tenant), another tenant's endpoints 404; every
 * DTE state change of a factura (pending, accepted) arrives signed with the
 * §3.2 payload plus estado, observaciones, numeroControl, tipoDte; a
 * rejection by MH arrives with its observaciones; a receiver answering 500
 * gets the delivery again (same X-ClinicLedger-Delivery) and the log shows
 * both attempts; 4xx -> dead without retries; a deleted endpoint gets
 * nothing more; the audit trail. The server runs with
 * CLINICLEDGER_WEBHOOKS_ALLOW_PRIVATE=1 (the receiver is on loopback) and
 * CLINICLEDGER_WEBHOOKS_RETRY_BASE_S=1.
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
#include "../lib/webhook_receiver.h"

static struct fenv F;
static struct wr W;
static char *tenant_id;
static char *key_full;
static char *other_admin;
static char hdr_tenant[128];
static int ref_seq;

/* ---- helpers ---- */

static struct api_resp *admin(const char *method, const char *path, const char *body)
{
	return api_req(method, path, api_admin_token(), body, NULL);
}

/* Register the receiver (path suffix) for dte.processed; returns the id
 * (owned) and the secret (owned) in *secret. */
static char *register_endpoint(const char *suffix, char **secret)
{
	char body[300];
	struct api_resp *r;
	char *id;

	snprintf(body, sizeof(body),
		 "{\"url\":\"http://127.0.0.1:%d%s\",\"events\":[\"dte.processed\"],\"description\":\"SIGMA\"}", W.port,
		 suffix);
	r = admin("POST", "/api/webhooks/endpoints", body);
	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	*secret = strdup(api_str(r, "data.secret"));
	api_resp_free(r);
	return id;
}

static void delete_endpoint(const char *id)
{
	char path[128];
	struct api_resp *r;

	snprintf(path, sizeof(path), "/api/webhooks/endpoints/%s", id);
	r = admin("DELETE", path, NULL);
	assert_status(r, 200);
	api_resp_free(r);
}

/* A new factura (unique reference); returns its codigoGeneracion (owned)
 * and its reference in ref_out (>= 32 bytes). */
static char *new_factura(char *ref_out)
{
	char body[600];
	struct api_resp *r;
	char *codigo;

	snprintf(ref_out, 32, "WH-%d-%d", (int)getpid(), ++ref_seq);
	snprintf(
	    body, sizeof(body),
	    "{\"receptor\":{\"nombre\":\"Juan Pérez\",\"numDocumento\":\"02382723-5\",\"tipoDocumento\":\"13\"},"
	    "\"items\":[{\"descripcion\":\"Consulta General\",\"cantidad\":1,\"precio\":35.00,\"tipo\":\"servicio\"}],"
	    "\"referenciaExterna\":\"%s\"}",
	    ref_out);
	r = api_req("POST", "/api/facturas", key_full, body, hdr_tenant, NULL);
	assert_status(r, 201);
	codigo = strdup(api_str(r, "data.codigoGeneracion"));
	api_resp_free(r);
	return codigo;
}

struct want {
	const char *codigo;
	const char *estado;
	const char *path; /* receiver path, e.g. "/hook-a" */
	int min_count;
};

/* Requests of the receiver matching w (locked copy-free scan). */
static int matching(struct want *w)
{
	int n = 0;

	pthread_mutex_lock(&W.mu);
	for (int i = 0; i < W.n; i++) {
		json_t *b = json_loads(W.req[i].body, 0, NULL);
		const char *c = json_string_value(json_object_get(b, "codigoGeneracion"));
		const char *st = json_string_value(json_object_get(b, "estado"));

		if (c && st && strcmp(c, w->codigo) == 0 && strcmp(st, w->estado) == 0 &&
		    (!w->path || strcmp(W.req[i].path, w->path) == 0))
			n++;
		json_decref(b);
	}
	pthread_mutex_unlock(&W.mu);
	return n;
}

static int have(void *arg)
{
	struct want *w = arg;

	return matching(w) >= w->min_count;
}

/* Index of the last receiver request matching w, or -1. */
static int find(struct want *w)
{
	int found = -1;

	pthread_mutex_lock(&W.mu);
	for (int i = 0; i < W.n; i++) {
		json_t *b = json_loads(W.req[i].body, 0, NULL);
		const char *c = json_string_value(json_object_get(b, "codigoGeneracion"));
		const char *st = json_string_value(json_object_get(b, "estado"));

		if (c && st && strcmp(c, w->codigo) == 0 && strcmp(st, w->estado) == 0 &&
		    (!w->path || strcmp(W.req[i].path, w->path) == 0))
			found = i;
		json_decref(b);
	}
	pthread_mutex_unlock(&W.mu);
	return found;
}

static json_t *deliveries(const char *endpoint_id)
{
	char path[160];
	struct api_resp *r;
	json_t *d;

	snprintf(path, sizeof(path), "/api/webhooks/endpoints/%s/deliveries?limit=200", endpoint_id);
	r = admin("GET", path, NULL);
	assert_status(r, 200);
	d = json_incref(api_path(r, "data"));
	api_resp_free(r);
	return d;
}

/* ---- setup ---- */

static int setup(void **state)
{
	struct api_resp *r;

	(void)state;
	if (wr_start(&W) != 0)
		return -1;
	if (fenv_start(&F) != 0) {
		fprintf(stderr, "test_webhooks_out: could not start the MH sandbox\n");
		return -1;
	}
	if (api_server_start(F.envp) != 0)
		return -1;
	fenv_set_emisor(api_admin_token());
	tenant_id = fenv_tenant_id(api_admin_token());
	snprintf(hdr_tenant, sizeof(hdr_tenant), "x-tenant-id: %s", tenant_id);
	r = admin("POST", "/api/v1/api-keys",
		  "{\"name\":\"sigma\",\"permissions\":[\"billing:create\",\"billing:read\",\"dte:submit\"]}");
	assert_status(r, 201);
	key_full = strdup(api_str(r, "data.key"));
	api_resp_free(r);
	other_admin = api_user_token("other", "admin", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop();
	fenv_stop(&F);
	wr_stop(&W);
	free(tenant_id);
	free(key_full);
	free(other_admin);
	return 0;
}

/* ---- endpoints ---- */

static void test_endpoints_crud(void **state)
{
	struct api_resp *r;
	char path[160], body[300], *id, *secret;
	json_t *d;

	(void)state;
	snprintf(body, sizeof(body), "{\"url\":\"%s/crud\"}", W.url);
	r = admin("POST", "/api/webhooks/endpoints", body);
	assert_status(r, 201);
	assert_true(json_is_true(api_path(r, "success")));
	id = strdup(api_str(r, "data.id"));
	secret = strdup(api_str(r, "data.secret"));
	assert_int_equal(strncmp(secret, "whsec_", 6), 0);
	assert_true(strlen(secret) > 40);
	assert_string_equal(api_str(r, "data.events.0"), "dte.processed"); /* the default */
	assert_true(json_is_true(api_path(r, "data.active")));
	api_resp_free(r);

	/* listed, never with the secret */
	r = admin("GET", "/api/webhooks/endpoints", NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, id));
	assert_null(strstr(r->body, secret));
	assert_null(strstr(r->body, "\"secret\""));
	api_resp_free(r);
	/* nor stored in clear */
	snprintf(body, sizeof(body), "SELECT COUNT(*) FROM webhook_endpoints WHERE secret_enc LIKE '%%%s%%'",
		 secret + 6);
	assert_int_equal(api_sql_int(body), 0);

	/* another tenant sees nothing and cannot delete it or read its log */
	r = api_req("GET", "/api/webhooks/endpoints", other_admin, NULL, NULL);
	assert_status(r, 200);
	assert_null(strstr(r->body, id));
	api_resp_free(r);
	snprintf(path, sizeof(path), "/api/webhooks/endpoints/%s", id);
	r = api_req("DELETE", path, other_admin, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	snprintf(path, sizeof(path), "/api/webhooks/endpoints/%s/deliveries", id);
	r = api_req("GET", path, other_admin, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);

	/* delete: gone from the list, log still readable, second delete 404 */
	delete_endpoint(id);
	r = admin("GET", "/api/webhooks/endpoints", NULL);
	assert_null(strstr(r->body, id));
	api_resp_free(r);
	d = deliveries(id);
	assert_true(json_is_array(d));
	json_decref(d);
	snprintf(path, sizeof(path), "/api/webhooks/endpoints/%s", id);
	r = admin("DELETE", path, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = admin("DELETE", "/api/webhooks/endpoints/00000000-0000-4000-8000-000000000000", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = admin("GET", "/api/webhooks/endpoints/nope/deliveries", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);

	/* audited, without the secret */
	r = admin("GET", "/api/audit-logs?entity=webhook_endpoint", NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, "webhook_endpoint.create"));
	assert_non_null(strstr(r->body, "webhook_endpoint.delete"));
	assert_null(strstr(r->body, secret));
	api_resp_free(r);
	free(id);
	free(secret);
}

static void test_endpoints_validation_and_access(void **state)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
	    {"{}", "url"},
	    {"{\"url\":\"ftp://example.com/x\"}", "url"},
	    {"{\"url\":\"example.com/hook\"}", "url"},
	    {"{\"url\":\"https://user:pw@example.com/hook\"}", "url"},
	    {"{\"url\":\"https://example.com/hook#x\"}", "url"},
	    {"{\"url\":\"https://example.com:99999/hook\"}", "url"},
	    {"{\"url\":\"https://example.com/hook\",\"events\":[\"dte.nope\"]}", "events[0]"},
	    {"{\"url\":\"https://example.com/hook\",\"events\":[]}", "events"},
	    {"{\"url\":\"https://example.com/hook\",\"events\":[1]}", "events[0]"},
	    {"{\"url\":\"https://example.com/hook\",\"secret\":\"mine\"}", "secret"},
	    {"{\"url\":1}", "url"},
	};
	long long before = api_sql_int("SELECT COUNT(*) FROM webhook_endpoints");
	struct api_resp *r;
	char *accountant, *staff;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = admin("POST", "/api/webhooks/endpoints", cases[i].body);
		if (r->status != 400)
			fail_msg("case %zu: HTTP %ld: %.300s", i, r->status, r->body);
		api_expect_error(r, 400, "VALIDATION_ERROR", cases[i].field);
		api_resp_free(r);
	}
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM webhook_endpoints"), before);

	r = api_req("POST", "/api/webhooks/endpoints", NULL, "{\"url\":\"https://example.com/h\"}", NULL);
	api_expect_error(r, 401, NULL, NULL);
	api_resp_free(r);
	accountant = api_user_token("demo", "accountant", NULL);
	staff = api_user_token("demo", "billing_staff", NULL);
	r = api_req("POST", "/api/webhooks/endpoints", accountant, "{\"url\":\"https://example.com/h\"}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/webhooks/endpoints", staff, NULL, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/webhooks/endpoints", key_full, NULL, hdr_tenant, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	free(accountant);
	free(staff);
}

/* ---- deliveries ---- */

static void test_every_state_change_delivered_signed(void **state)
{
	char ref[32], *id, *secret, *codigo, pdf[200];
	struct want pending = {0}, accepted = {0};
	json_t *body, *log;
	long long t = 0;
	int i;

	(void)state;
	wr_reset(&W, NULL, 0, 200);
	id = register_endpoint("/hook-a", &secret);
	codigo = new_factura(ref);
	pending = (struct want){codigo, "pending", "/hook-a", 1};
	accepted = (struct want){codigo, "accepted", "/hook-a", 1};
	if (!fenv_until(have, &accepted, 60000))
		fail_msg("no accepted event for %s (receiver saw %d requests)", codigo, wr_count(&W));
	assert_true(fenv_until(have, &pending, 5000));

	i = find(&accepted);
	assert_true(wr_verify(&W, i, secret, &t));
	assert_true(t > time(NULL) - 300 && t <= time(NULL) + 5);
	assert_string_equal(W.req[i].event, "dte.processed");
	assert_int_equal(strlen(W.req[i].delivery), 36);
	assert_string_equal(W.req[i].method, "POST");
	assert_non_null(strstr(W.req[i].content_type, "application/json"));
	body = json_loads(W.req[i].body, 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "referenciaExterna")), ref);
	assert_string_equal(json_string_value(json_object_get(body, "codigoGeneracion")), codigo);
	assert_int_equal(strlen(json_string_value(json_object_get(body, "sello"))), 40);
	snprintf(pdf, sizeof(pdf), FENV_PUBLIC_URL "/api/dte/pdf/%s", codigo);
	assert_string_equal(json_string_value(json_object_get(body, "pdfUrl")), pdf);
	assert_string_equal(json_string_value(json_object_get(body, "estado")), "accepted");
	assert_true(json_is_array(json_object_get(body, "observaciones")));
	assert_string_equal(json_string_value(json_object_get(body, "tipoDte")), "01");
	assert_int_equal(strncmp(json_string_value(json_object_get(body, "numeroControl")), "DTE-01-", 7), 0);
	assert_string_equal(json_string_value(json_object_get(body, "event")), "dte.processed");
	assert_int_equal(strlen(json_string_value(json_object_get(body, "eventId"))), 36);
	json_decref(body);
	/* the pending event: no sello yet, signed too, another delivery id */
	i = find(&pending);
	assert_true(wr_verify(&W, i, secret, NULL));
	body = json_loads(W.req[i].body, 0, NULL);
	assert_true(json_is_null(json_object_get(body, "sello")));
	json_decref(body);
	assert_string_not_equal(W.req[find(&pending)].delivery, W.req[find(&accepted)].delivery);

	/* the log: one delivered attempt per event */
	log = deliveries(id);
	assert_true(json_array_size(log) >= 2);
	for (size_t k = 0; k < json_array_size(log); k++) {
		json_t *d = json_array_get(log, k);

		assert_string_equal(json_string_value(json_object_get(d, "outcome")), "delivered");
		assert_int_equal(json_integer_value(json_object_get(d, "statusCode")), 200);
		assert_int_equal(json_integer_value(json_object_get(d, "attempt")), 1);
		assert_string_equal(json_string_value(json_object_get(d, "event")), "dte.processed");
		assert_true(json_is_null(json_object_get(d, "nextRetryAt")));
		assert_true(json_is_null(json_object_get(d, "error")));
		assert_true(json_is_integer(json_object_get(d, "durationMs")));
	}
	json_decref(log);
	delete_endpoint(id);
	free(id);
	free(secret);
	free(codigo);
}

static void test_retry_after_500(void **state)
{
	static const int script[] = {500};
	char ref[32], *id, *secret, *codigo;
	struct want pending;
	json_t *log;
	int first = -1, second = -1, retrying = 0, delivered = 0;

	(void)state;
	id = register_endpoint("/hook-retry", &secret);
	/* the first request of this endpoint fails with 500; the rest succeed */
	wr_reset(&W, script, 1, 200);
	codigo = new_factura(ref);
	pending = (struct want){codigo, "pending", "/hook-retry", 2};
	if (!fenv_until(have, &pending, 30000))
		fail_msg("the pending event of %s was not delivered twice", codigo);
	pthread_mutex_lock(&W.mu);
	for (int i = 0; i < W.n; i++) {
		if (strcmp(W.req[i].path, "/hook-retry") != 0 || !strstr(W.req[i].body, codigo) ||
		    !strstr(W.req[i].body, "\"estado\":\"pending\""))
			continue;
		if (first < 0)
			first = i;
		else if (second < 0)
			second = i;
	}
	pthread_mutex_unlock(&W.mu);
	assert_true(first >= 0 && second > first);
	assert_int_equal(W.req[first].answered, 500);
	assert_int_equal(W.req[second].answered, 200);
	assert_string_equal(W.req[first].delivery, W.req[second].delivery); /* the same delivery */
	assert_true(wr_verify(&W, first, secret, NULL));
	assert_true(wr_verify(&W, second, secret, NULL));

	log = deliveries(id);
	for (size_t k = 0; k < json_array_size(log); k++) {
		json_t *d = json_array_get(log, k);
		const char *outcome = json_string_value(json_object_get(d, "outcome"));

		if (strcmp(json_string_value(json_object_get(d, "deliveryId")), W.req[first].delivery) != 0)
			continue;
		if (strcmp(outcome, "retrying") == 0) {
			retrying++;
			assert_int_equal(json_integer_value(json_object_get(d, "statusCode")), 500);
			assert_int_equal(json_integer_value(json_object_get(d, "attempt")), 1);
			assert_true(json_is_string(json_object_get(d, "nextRetryAt")));
			assert_non_null(strstr(json_string_value(json_object_get(d, "error")), "500"));
		} else if (strcmp(outcome, "delivered") == 0) {
			delivered++;
			assert_int_equal(json_integer_value(json_object_get(d, "attempt")), 2);
		}
	}
	assert_int_equal(retrying, 1);
	assert_int_equal(delivered, 1);
	json_decref(log);
	delete_endpoint(id);
	free(id);
	free(secret);
	free(codigo);
}

static void test_4xx_is_dead(void **state)
{
	char ref[32], *id, *secret, *codigo;
	struct want accepted;
	json_t *log;
	int dead = 0;

	(void)state;
	id = register_endpoint("/hook-gone", &secret);
	wr_reset(&W, NULL, 0, 410);
	codigo = new_factura(ref);
	accepted = (struct want){codigo, "accepted", "/hook-gone", 1};
	if (!fenv_until(have, &accepted, 60000))
		fail_msg("no accepted event for %s", codigo);
	sleep(3); /* a retry (base 1 s) would have come by now */
	accepted.estado = "accepted";
	assert_int_equal(matching(&accepted), 1);
	log = deliveries(id);
	for (size_t k = 0; k < json_array_size(log); k++) {
		json_t *d = json_array_get(log, k);

		assert_string_equal(json_string_value(json_object_get(d, "outcome")), "dead");
		assert_int_equal(json_integer_value(json_object_get(d, "statusCode")), 410);
		assert_int_equal(json_integer_value(json_object_get(d, "attempt")), 1);
		dead++;
	}
	assert_true(dead >= 2); /* pending and accepted, each once */
	json_decref(log);
	wr_reset(&W, NULL, 0, 200);
	delete_endpoint(id);
	free(id);
	free(secret);
	free(codigo);
}

static void test_rejection_and_deleted_endpoint(void **state)
{
	char ref[32], *id, *secret, *codigo, *codigo2;
	struct want rejected;
	json_t *body;
	long st = 0;
	int i;

	(void)state;
	wr_reset(&W, NULL, 0, 200);
	id = register_endpoint("/hook-rej", &secret);
	json_decref(fenv_sandbox(&F, "PUT", "/_sandbox/faults", "{\"rejectNext\":1,\"rejectCode\":\"020\"}", &st));
	assert_int_equal(st, 200);
	codigo = new_factura(ref);
	rejected = (struct want){codigo, "rejected", "/hook-rej", 1};
	if (!fenv_until(have, &rejected, 60000))
		fail_msg("no rejected event for %s", codigo);
	i = find(&rejected);
	assert_true(wr_verify(&W, i, secret, NULL));
	body = json_loads(W.req[i].body, 0, NULL);
	assert_true(json_is_null(json_object_get(body, "sello")));
	assert_string_equal(json_string_value(json_object_get(body, "codigoMsg")), "020");
	assert_true(json_is_array(json_object_get(body, "observaciones")));
	assert_non_null(json_string_value(json_object_get(body, "descripcionMsg")));
	json_decref(body);
	json_decref(fenv_sandbox(&F, "DELETE", "/_sandbox/faults", NULL, NULL));

	/* a deleted endpoint gets nothing more (a live one shows the flow went on) */
	delete_endpoint(id);
	wr_reset(&W, NULL, 0, 200);
	{
		char *id2, *secret2;
		struct want live;

		id2 = register_endpoint("/hook-live", &secret2);
		codigo2 = new_factura(ref);
		live = (struct want){codigo2, "accepted", "/hook-live", 1};
		if (!fenv_until(have, &live, 60000))
			fail_msg("no accepted event for %s", codigo2);
		pthread_mutex_lock(&W.mu);
		for (int k = 0; k < W.n; k++)
			assert_string_not_equal(W.req[k].path, "/hook-rej");
		pthread_mutex_unlock(&W.mu);
		delete_endpoint(id2);
		free(id2);
		free(secret2);
	}
	free(id);
	free(secret);
	free(codigo);
	free(codigo2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_endpoints_crud),
	    cmocka_unit_test(test_endpoints_validation_and_access),
	    cmocka_unit_test(test_every_state_change_delivered_signed),
	    cmocka_unit_test(test_retry_after_500),
	    cmocka_unit_test(test_4xx_is_dead),
	    cmocka_unit_test(test_rejection_and_deleted_endpoint),
	};

	return cmocka_run_group_tests_name("api_webhooks_out", tests, setup, teardown);
}
