/*
 * test_stripe.c - API tests of the Stripe routes (clinic contract §2) and of
 * POST /api/v1/invoices/:id/sync-payment, against the real binary talking
 * to the Stripe test double (tests/doubles/stripe-double.mjs, started here
 * with node on a free port; the server gets STRIPE_API_BASE pointing at it).
 * Webhook payloads are the events the double generated, signed by Stripe's
 * own code (the `stripe` npm package, tests/doubles/stripe-sign.mjs).
 *
 * Covered: config; connection token; create-intent (happy, reuse of an open
 * PaymentIntent, online mode, every validation error with nothing written,
 * card data refused, 404 incl. another tenant, 401, 403, paid order 409,
 * Idempotency-Key replay); confirm (Terminal, online card, declined card,
 * errors); webhooks (succeeded -> paid, duplicate ignored, charge.succeeded
 * receipt, payment_failed, bad / stale / tampered / missing signatures,
 * unknown types recorded, charge.refunded -> refunded); sync-payment;
 * Stripe down (502, nothing written) and a timeout retried; a refund job
 * whose answer is lost still makes exactly one refund at Stripe; 503 when
 * Stripe is not configured. Needs node and `npm ci --prefix tests`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"

#define SK	  "sk_test_clinicledger_api_51Hx"
#define PK	  "pk_test_clinicledger_api_51Hx"
#define WHSEC	  "whsec_clinicledger_api_test_0123456789abcdef"
#define DOUBLE_JS "tests/doubles/stripe-double.mjs"
#define SIGN_JS	  "tests/doubles/stripe-sign.mjs"

static pid_t dbl_pid = -1;
static int dbl_stdin = -1;
static char dbl_base[64];
static char *other_admin;
static char *doctor;

/* ---- the double ---- */

static int double_start(void)
{
	int out[2], in[2];
	char line[32] = {0};
	size_t n = 0;
	struct pollfd pfd;

	if (access(DOUBLE_JS, R_OK) != 0) {
		fprintf(stderr, "harness: %s not found (run from the repository root)\n", DOUBLE_JS);
		return -1;
	}
	if (pipe(out) != 0 || pipe(in) != 0)
		return -1;
	dbl_pid = fork();
	if (dbl_pid < 0)
		return -1;
	if (dbl_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		setenv("STRIPE_DOUBLE_EXIT_ON_STDIN_EOF", "1", 1);
		setenv("STRIPE_DOUBLE_SECRET_KEY", SK, 1);
		execlp("node", "node", DOUBLE_JS, "0", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	dbl_stdin = in[1];
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (n < sizeof(line) - 1 && !strchr(line, '\n')) {
		ssize_t r;
		if (poll(&pfd, 1, 10000) <= 0)
			break;
		r = read(out[0], line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(out[0]);
	if (atoi(line) <= 0) {
		fprintf(stderr, "harness: the Stripe double did not start\n");
		return -1;
	}
	snprintf(dbl_base, sizeof(dbl_base), "http://127.0.0.1:%d", atoi(line));
	return 0;
}

static void double_stop(void)
{
	if (dbl_pid > 0) {
		kill(dbl_pid, SIGTERM);
		waitpid(dbl_pid, NULL, 0);
		dbl_pid = -1;
	}
	if (dbl_stdin >= 0)
		close(dbl_stdin);
	dbl_stdin = -1;
}

struct buf {
	char *p;
	size_t n;
};

static size_t on_data(char *d, size_t s, size_t m, void *ud)
{
	struct buf *b = ud;

	b->p = realloc(b->p, b->n + s * m + 1);
	memcpy(b->p + b->n, d, s * m);
	b->n += s * m;
	b->p[b->n] = '\0';
	return s * m;
}

/* A call to the double: test control (JSON) or its Stripe API (form body,
 * our secret key). Returns the parsed body (owned) or NULL; *status. */
static json_t *dbl(const char *method, const char *path, const char *body, long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct buf b = {0};
	char url[512];
	json_t *j;
	long st = 0;

	snprintf(url, sizeof(url), "%s%s", dbl_base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (strncmp(path, "/v1/", 4) == 0) {
		h = curl_slist_append(h, "Authorization: Bearer " SK);
		h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
	} else {
		h = curl_slist_append(h, "Content-Type: application/json");
	}
	if (body) {
		char idem[64];
		snprintf(idem, sizeof(idem), "Idempotency-Key: test-%ld-%d", (long)time(NULL), rand());
		h = curl_slist_append(h, idem);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (status)
		*status = st;
	j = b.p ? json_loads(b.p, 0, NULL) : NULL;
	free(b.p);
	return j;
}

static void dbl_ok(const char *method, const char *path, const char *body)
{
	long st = 0;
	json_t *j = dbl(method, path, body, &st);

	if (st != 200)
		fail_msg("double %s %s: HTTP %ld", method, path, st);
	json_decref(j);
}

static void dbl_succeed(const char *pi, const char *brand, const char *last4)
{
	char p[256], body[128];

	snprintf(p, sizeof(p), "/__test/payment_intents/%s/succeed", pi);
	snprintf(body, sizeof(body), "{\"brand\":\"%s\",\"last4\":\"%s\"}", brand, last4);
	dbl_ok("POST", p, body);
}

static void dbl_fault(const char *mode, int count, const char *path)
{
	char body[160];

	snprintf(body, sizeof(body), "{\"mode\":\"%s\",\"count\":%d,\"path\":\"%s\"}", mode, count, path);
	dbl_ok("POST", "/__test/faults", body);
}

/* Requests the double saw: method + path, and for POST /v1/payment_intents
 * only those for order_id (NULL: all). */
static int dbl_count(const char *method, const char *path, const char *order_id, int *replayed, int *faulted)
{
	char p[256];
	long st;
	json_t *j, *item;
	size_t i;
	int n = 0;

	snprintf(p, sizeof(p), "/__test/requests?path=%s", path);
	j = dbl("GET", p, NULL, &st);
	if (replayed)
		*replayed = 0;
	if (faulted)
		*faulted = 0;
	json_array_foreach(json_object_get(j, "data"), i, item)
	{
		const char *oid = json_string_value(
		    json_object_get(json_object_get(json_object_get(item, "params"), "metadata"), "order_id"));
		if (strcmp(json_string_value(json_object_get(item, "method")), method) != 0 ||
		    strcmp(json_string_value(json_object_get(item, "path")), path) != 0)
			continue;
		if (order_id && (!oid || strcmp(oid, order_id) != 0))
			continue;
		n++;
		if (replayed && json_is_true(json_object_get(item, "replayed")))
			(*replayed)++;
		if (faulted && json_is_string(json_object_get(item, "fault")))
			(*faulted)++;
	}
	json_decref(j);
	return n;
}

/* The newest event of type whose data.object.id is object_id, as compact
 * JSON (owned). */
static char *dbl_event(const char *type, const char *object_id)
{
	char p[128];
	long st;
	json_t *j, *item, *found = NULL;
	size_t i;
	char *s;

	snprintf(p, sizeof(p), "/__test/events?type=%s", type);
	j = dbl("GET", p, NULL, &st);
	json_array_foreach(json_object_get(j, "data"), i, item)
	{
		const char *id =
		    json_string_value(json_object_get(json_object_get(json_object_get(item, "data"), "object"), "id"));
		if (id && strcmp(id, object_id) == 0)
			found = item;
	}
	if (!found)
		fail_msg("no %s event for %s at the double", type, object_id);
	s = json_dumps(found, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

/* Stripe-Signature for payload from the stripe npm package (owned). */
static char *sign_with(const char *payload, const char *secret, long long timestamp)
{
	char file[] = "/tmp/stripe-payload-XXXXXX";
	char cmd[512], out[1024] = {0};
	int fd = mkstemp(file);
	FILE *p;
	size_t n;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, payload, strlen(payload)), (ssize_t)strlen(payload));
	close(fd);
	if (timestamp)
		snprintf(cmd, sizeof(cmd), "node %s %s '%s' --timestamp %lld", SIGN_JS, file, secret, timestamp);
	else
		snprintf(cmd, sizeof(cmd), "node %s %s '%s'", SIGN_JS, file, secret);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	if (pclose(p) != 0 || strncmp(out, "t=", 2) != 0)
		fail_msg("stripe-sign.mjs failed (npm ci --prefix tests?): %s", out);
	unlink(file);
	return strdup(out);
}

static char *sign(const char *payload)
{
	return sign_with(payload, WHSEC, 0);
}

static struct api_resp *webhook(const char *payload, const char *signature)
{
	char h[1200];
	const char *headers[3] = {"Content-Type: application/json", NULL, NULL};

	if (signature) {
		snprintf(h, sizeof(h), "Stripe-Signature: %s", signature);
		headers[1] = h;
	}
	return api_reqv("POST", "/api/stripe/webhook", NULL, payload, headers);
}

/* Sign and deliver; expect 200. */
static void deliver(const char *payload)
{
	char *sig = sign(payload);
	struct api_resp *r = webhook(payload, sig);

	assert_status(r, 200);
	api_resp_free(r);
	free(sig);
}

/* ---- the server's side ---- */

static char *new_invoice_as(const char *token, const char *amount)
{
	char body[512];
	struct api_resp *r;
	char *id;

	snprintf(body, sizeof(body),
		 "{\"currency\":\"USD\",\"description\":\"Stripe test\",\"lineItems\":[{\"itemName\":\"Consulta\","
		 "\"quantity\":1,\"unitPrice\":\"%s\"}]}",
		 amount);
	r = api_req("POST", "/api/v1/invoices", token, body, NULL);
	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

static char *new_invoice(const char *amount)
{
	return new_invoice_as(api_admin_token(), amount);
}

static struct api_resp *create_intent(const char *token, const char *order_id, const char *mode)
{
	char body[256];

	if (mode)
		snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"mode\":\"%s\"}", order_id, mode);
	else
		snprintf(body, sizeof(body), "{\"orderId\":\"%s\"}", order_id);
	return api_req("POST", "/api/payments/stripe/create-intent", token, body, NULL);
}

/* create-intent as admin, expect 201; the PaymentIntent id (owned). */
static char *intent_for(const char *order_id, const char *mode)
{
	struct api_resp *r = create_intent(api_admin_token(), order_id, mode);
	char *pi;

	assert_status(r, 201);
	pi = strdup(api_str(r, "data.paymentIntentId"));
	api_resp_free(r);
	return pi;
}

static struct api_resp *invoice(const char *id)
{
	char p[128];
	struct api_resp *r;

	snprintf(p, sizeof(p), "/api/v1/invoices/%s", id);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	return r;
}

static void assert_invoice(const char *id, const char *status, double paid)
{
	struct api_resp *r = invoice(id);

	if (strcmp(api_str(r, "data.status"), status) != 0)
		fail_msg("invoice %s is %s, wanted %s", id, api_str(r, "data.status"), status);
	if (json_number_value(api_path(r, "data.paidAmount")) != paid)
		fail_msg("invoice %s paid %s, wanted %.2f", id, r->body, paid);
	api_resp_free(r);
}

static long long sql_count(const char *fmt, const char *arg)
{
	char q[512];

	snprintf(q, sizeof(q), fmt, arg);
	return api_sql_int(q);
}

static long long audit_total(const char *entity)
{
	char p[128];
	struct api_resp *r;
	long long n;

	snprintf(p, sizeof(p), "/api/audit-logs?entity=%s", entity);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	n = api_int(r, "pagination.total");
	api_resp_free(r);
	return n;
}

static int setup(void **state)
{
	char base[96];
	const char *env[8];

	(void)state;
	srand((unsigned)time(NULL));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (double_start() != 0)
		return -1;
	snprintf(base, sizeof(base), "STRIPE_API_BASE=%s", dbl_base);
	env[0] = base;
	env[1] = "STRIPE_SECRET_KEY=" SK;
	env[2] = "STRIPE_PUBLISHABLE_KEY=" PK;
	env[3] = "STRIPE_WEBHOOK_SECRET=" WHSEC;
	env[4] = "STRIPE_TIMEOUT_MS=1500";
	env[5] = NULL;
	if (api_server_start(env) != 0)
		return -1;
	other_admin = api_user_token("other", "admin", NULL);
	doctor = api_user_token("demo", "doctor", NULL);
	return other_admin && doctor ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop();
	double_stop();
	free(other_admin);
	free(doctor);
	return 0;
}

/* ---- tests ---- */

static void test_config(void **state)
{
	struct api_resp *r;

	(void)state;
	r = api_req("GET", "/api/stripe/config", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.publishableKey"), PK);
	assert_null(strstr(r->body, SK)); /* the secret key never leaves */
	api_resp_free(r);
	r = api_req("GET", "/api/stripe/config", doctor, NULL, NULL); /* any authenticated caller */
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("GET", "/api/stripe/config", NULL, NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
}

static void test_connection_token(void **state)
{
	struct api_resp *r;

	(void)state;
	r = api_req("POST", "/api/stripe/connection-token", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(strncmp(api_str(r, "data.secret"), "pst_test_", 9) == 0);
	api_resp_free(r);
	r = api_req("POST", "/api/stripe/connection-token", api_admin_token(), "{\"location\":\"tml_FakeLocation1\"}",
		    NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("POST", "/api/stripe/connection-token", api_admin_token(), "{\"location\":\"nope\"}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "location");
	api_resp_free(r);
	r = api_req("POST", "/api/stripe/connection-token", api_admin_token(), "{\"cardNumber\":\"4242424242424242\"}",
		    NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "cardNumber");
	assert_null(strstr(r->body, "4242424242424242"));
	api_resp_free(r);
	r = api_req("POST", "/api/stripe/connection-token", NULL, NULL, NULL);
	api_expect_error(r, 401, NULL, NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/stripe/connection-token", doctor, NULL, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
}

static void test_create_intent(void **state)
{
	char *inv = new_invoice("50.00");
	long long audits = audit_total("payment");
	struct api_resp *r;
	char p[128], *pi;
	json_t *obj, *types;
	long st;

	(void)state;
	r = create_intent(api_admin_token(), inv, NULL);
	assert_status(r, 201);
	pi = strdup(api_str(r, "data.paymentIntentId"));
	assert_true(strncmp(pi, "pi_", 3) == 0);
	assert_true(strncmp(api_str(r, "data.clientSecret"), pi, strlen(pi)) == 0);
	assert_string_equal(api_str(r, "data.amount"), "50.00");
	assert_string_equal(api_str(r, "data.currency"), "USD");
	assert_string_equal(api_str(r, "data.publishableKey"), PK);
	assert_string_equal(api_str(r, "data.status"), "requires_payment_method");
	assert_string_equal(api_str(r, "data.paymentMethod"), "card_present");
	assert_string_equal(api_str(r, "data.orderId"), inv);
	api_resp_free(r);

	/* what Stripe received */
	snprintf(p, sizeof(p), "/__test/objects/%s", pi);
	obj = dbl("GET", p, NULL, &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_integer_value(json_object_get(obj, "amount")), 5000);
	assert_string_equal(json_string_value(json_object_get(obj, "currency")), "usd");
	assert_string_equal(json_string_value(json_object_get(obj, "capture_method")), "automatic");
	assert_string_equal(json_string_value(json_object_get(json_object_get(obj, "metadata"), "order_id")), inv);
	assert_non_null(json_string_value(json_object_get(json_object_get(obj, "metadata"), "tenant_id")));
	assert_true(strncmp(json_string_value(json_object_get(json_object_get(obj, "metadata"), "invoice_number")),
			    "INV-", 4) == 0);
	types = json_object_get(obj, "payment_method_types");
	assert_string_equal(json_string_value(json_array_get(types, 0)), "card_present");
	json_decref(obj);
	assert_int_equal(dbl_count("POST", "/v1/payment_intents", inv, NULL, NULL), 1);

	/* a pending Stripe payment on the invoice, audited */
	r = invoice(inv);
	assert_string_equal(api_str(r, "data.payments.0.status"), "pending");
	assert_string_equal(api_str(r, "data.payments.0.gateway"), "stripe");
	assert_string_equal(api_str(r, "data.payments.0.paymentId"), pi);
	assert_string_equal(api_str(r, "data.payments.0.paymentMethod"), "card_present");
	assert_string_equal(api_str(r, "data.status"), "pending");
	api_resp_free(r);
	assert_true(audit_total("payment") > audits);

	/* asked again: the open PaymentIntent is handed back, no second one */
	r = create_intent(api_admin_token(), inv, "terminal");
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.paymentIntentId"), pi);
	api_resp_free(r);
	assert_int_equal(dbl_count("POST", "/v1/payment_intents", inv, NULL, NULL), 1);

	/* online: a card PaymentIntent */
	r = create_intent(api_admin_token(), inv, "online");
	assert_status(r, 201);
	assert_string_not_equal(api_str(r, "data.paymentIntentId"), pi);
	assert_string_equal(api_str(r, "data.paymentMethod"), "card_online");
	snprintf(p, sizeof(p), "/__test/objects/%s", api_str(r, "data.paymentIntentId"));
	api_resp_free(r);
	obj = dbl("GET", p, NULL, &st);
	types = json_object_get(obj, "payment_method_types");
	assert_int_equal(json_array_size(types), 1);
	assert_string_equal(json_string_value(json_array_get(types, 0)), "card");
	json_decref(obj);
	free(pi);
	free(inv);
}

static void test_create_intent_validation(void **state)
{
	char *inv = new_invoice("20.00");
	int before = dbl_count("POST", "/v1/payment_intents", NULL, NULL, NULL);
	char body[256];
	struct api_resp *r;

	(void)state;
	r = api_req("POST", "/api/payments/stripe/create-intent", api_admin_token(), "{}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "orderId");
	api_resp_free(r);
	r = api_req("POST", "/api/payments/stripe/create-intent", api_admin_token(), "{\"orderId\":\"not-a-uuid\"}",
		    NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "orderId");
	api_resp_free(r);
	r = api_req("POST", "/api/payments/stripe/create-intent", api_admin_token(), "{\"orderId\":42}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "orderId");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"mode\":\"swipe\"}", inv);
	r = api_req("POST", "/api/payments/stripe/create-intent", api_admin_token(), body, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "mode");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"amount\":\"1.00\"}", inv);
	r = api_req("POST", "/api/payments/stripe/create-intent", api_admin_token(), body, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "amount");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"cvc\":\"123\"}", inv);
	r = api_req("POST", "/api/payments/stripe/create-intent", api_admin_token(), body, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "cvc");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"card\":{\"number\":\"4242424242424242\"}}", inv);
	r = api_req("POST", "/api/payments/stripe/create-intent", api_admin_token(), body, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "card");
	api_resp_free(r);
	r = api_req("POST", "/api/payments/stripe/create-intent", api_admin_token(), "not json", NULL);
	assert_status(r, 400);
	api_resp_free(r);
	/* nothing written, nothing sent to Stripe */
	assert_int_equal(dbl_count("POST", "/v1/payment_intents", NULL, NULL, NULL), before);
	assert_int_equal(sql_count("SELECT COUNT(*) FROM payments WHERE document_id = '%s'", inv), 0);
	free(inv);
}

static void test_create_intent_access(void **state)
{
	char *inv = new_invoice("20.00");
	struct api_resp *r;

	(void)state;
	r = create_intent(api_admin_token(), "6f1c1c7e-8a9b-4c2d-9e3f-0a1b2c3d4e5f", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = create_intent(other_admin, inv, NULL); /* another tenant's order */
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = create_intent(NULL, inv, NULL);
	api_expect_error(r, 401, NULL, NULL);
	api_resp_free(r);
	r = create_intent(doctor, inv, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	assert_int_equal(dbl_count("POST", "/v1/payment_intents", inv, NULL, NULL), 0);
	assert_int_equal(sql_count("SELECT COUNT(*) FROM payments WHERE document_id = '%s'", inv), 0);
	free(inv);
}

static void test_create_intent_idempotent_replay(void **state)
{
	char *inv = new_invoice("12.34");
	char body[128], *pi;
	const char *h[] = {"Idempotency-Key: stripe-intent-replay-1", NULL};
	struct api_resp *r;

	(void)state;
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\"}", inv);
	r = api_reqv("POST", "/api/payments/stripe/create-intent", api_admin_token(), body, h);
	assert_status(r, 201);
	pi = strdup(api_str(r, "data.paymentIntentId"));
	api_resp_free(r);
	r = api_reqv("POST", "/api/payments/stripe/create-intent", api_admin_token(), body, h);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.paymentIntentId"), pi);
	assert_non_null(strcasestr(r->headers, "Idempotent-Replayed: true"));
	api_resp_free(r);
	assert_int_equal(dbl_count("POST", "/v1/payment_intents", inv, NULL, NULL), 1);
	assert_int_equal(sql_count("SELECT COUNT(*) FROM payments WHERE document_id = '%s'", inv), 1);
	free(pi);
	free(inv);
}

static void test_confirm_terminal(void **state)
{
	char *inv = new_invoice("50.00");
	char *pi = intent_for(inv, "terminal");
	char body[256];
	struct api_resp *r;

	(void)state;
	/* the reader takes the tap */
	dbl_succeed(pi, "visa", "4242");
	snprintf(body, sizeof(body), "{\"paymentIntentId\":\"%s\"}", pi);
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), body, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.status"), "succeeded");
	assert_string_equal(api_str(r, "data.paymentStatus"), "confirmed");
	assert_true(strncmp(api_str(r, "data.receiptUrl"), "https://pay.stripe.com/receipts/", 32) == 0);
	assert_string_equal(api_str(r, "data.cardBrand"), "visa");
	assert_string_equal(api_str(r, "data.cardLast4"), "4242");
	assert_string_equal(api_str(r, "data.order.status"), "paid");
	api_resp_free(r);
	assert_invoice(inv, "paid", 50.0);

	/* again: nothing changes */
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), body, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.paymentStatus"), "confirmed");
	api_resp_free(r);
	assert_invoice(inv, "paid", 50.0);

	/* a paid order has nothing to pay */
	r = create_intent(api_admin_token(), inv, NULL);
	api_expect_error(r, 409, NULL, NULL);
	api_resp_free(r);
	free(pi);
	free(inv);
}

static void test_confirm_online(void **state)
{
	char *inv = new_invoice("75.50");
	char *pi = intent_for(inv, "online");
	char body[256];
	struct api_resp *r;

	(void)state;
	/* declined: 409 PAYMENT_FAILED and the payment is recorded failed */
	snprintf(body, sizeof(body), "{\"paymentIntentId\":\"%s\",\"paymentMethodId\":\"pm_card_chargeDeclined\"}", pi);
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), body, NULL);
	api_expect_error(r, 409, "PAYMENT_FAILED", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "declined"));
	api_resp_free(r);
	r = invoice(inv);
	assert_string_equal(api_str(r, "data.payments.0.status"), "failed");
	assert_non_null(strstr(api_str(r, "data.payments.0.failureReason"), "declined"));
	assert_string_equal(api_str(r, "data.status"), "pending");
	api_resp_free(r);

	/* another card on the same PaymentIntent */
	snprintf(body, sizeof(body), "{\"paymentIntentId\":\"%s\",\"paymentMethodId\":\"pm_card_mastercard\"}", pi);
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), body, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.paymentStatus"), "confirmed");
	assert_string_equal(api_str(r, "data.cardBrand"), "mastercard");
	assert_string_equal(api_str(r, "data.cardLast4"), "4444");
	api_resp_free(r);
	assert_invoice(inv, "paid", 75.5);
	free(pi);
	free(inv);
}

static void test_confirm_errors(void **state)
{
	char *inv = new_invoice("10.00");
	char *pi = intent_for(inv, NULL);
	char body[256];
	struct api_resp *r;

	(void)state;
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(),
		    "{\"paymentIntentId\":\"pi_DoesNotExist\"}", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"paymentIntentId\":\"%s\"}", pi);
	r = api_req("POST", "/api/payments/stripe/confirm", other_admin, body, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), "{\"paymentIntentId\":\"abc\"}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "paymentIntentId");
	api_resp_free(r);
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), "{}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "paymentIntentId");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"paymentIntentId\":\"%s\",\"paymentMethodId\":\"4242424242424242\"}", pi);
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), body, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "paymentMethodId");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"paymentIntentId\":\"%s\",\"cvc\":\"123\"}", pi);
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), body, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "cvc");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"paymentIntentId\":\"%s\"}", pi);
	r = api_req("POST", "/api/payments/stripe/confirm", NULL, body, NULL);
	api_expect_error(r, 401, NULL, NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/payments/stripe/confirm", doctor, body, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	/* not paid yet: still pending */
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), body, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.status"), "requires_payment_method");
	assert_string_equal(api_str(r, "data.paymentStatus"), "pending");
	api_resp_free(r);
	free(pi);
	free(inv);
}

static void test_webhook_succeeded(void **state)
{
	char *inv = new_invoice("40.00");
	char *pi = intent_for(inv, NULL);
	long long audits = audit_total("stripe_event");
	char *payload, *sig, *charge_evt;
	struct api_resp *r;
	json_t *evt;

	(void)state;
	dbl_succeed(pi, "amex", "8431");
	payload = dbl_event("payment_intent.succeeded", pi);
	sig = sign(payload);
	r = webhook(payload, sig);
	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "data.received")));
	assert_true(json_is_false(api_path(r, "data.duplicate")));
	assert_string_equal(api_str(r, "data.outcome"), "processed");
	api_resp_free(r);
	assert_invoice(inv, "paid", 40.0);
	assert_true(audit_total("stripe_event") > audits);

	/* the same delivery again: acknowledged, nothing changes */
	r = webhook(payload, sig);
	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "data.duplicate")));
	api_resp_free(r);
	assert_invoice(inv, "paid", 40.0);
	evt = json_loads(payload, 0, NULL);
	assert_int_equal(sql_count("SELECT COUNT(*) FROM stripe_events WHERE event_id = '%s'",
				   json_string_value(json_object_get(evt, "id"))),
			 1);
	json_decref(evt);

	/* charge.succeeded brings the receipt and the card */
	{
		char p[128];
		long st;
		json_t *o;
		snprintf(p, sizeof(p), "/__test/objects/%s", pi);
		o = dbl("GET", p, NULL, &st);
		charge_evt = dbl_event("charge.succeeded", json_string_value(json_object_get(o, "latest_charge")));
		json_decref(o);
	}
	deliver(charge_evt);
	r = invoice(inv);
	assert_true(strncmp(api_str(r, "data.payments.0.receiptUrl"), "https://pay.stripe.com/receipts/", 32) == 0);
	assert_string_equal(api_str(r, "data.payments.0.cardBrand"), "amex");
	assert_string_equal(api_str(r, "data.payments.0.cardLast4"), "8431");
	api_resp_free(r);
	free(charge_evt);
	free(sig);
	free(payload);
	free(pi);
	free(inv);
}

static void test_webhook_signatures(void **state)
{
	char *inv = new_invoice("30.00");
	char *pi = intent_for(inv, NULL);
	long long events;
	char *payload, *sig, *tampered, *p;
	struct api_resp *r;

	(void)state;
	dbl_succeed(pi, "visa", "4242");
	payload = dbl_event("payment_intent.succeeded", pi);
	events = sql_count("SELECT COUNT(*) FROM stripe_events%s", "");

	/* wrong secret */
	sig = sign_with(payload, "whsec_not_the_right_one_000000000000", 0);
	r = webhook(payload, sig);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	free(sig);
	/* stale: signed 400 s ago */
	sig = sign_with(payload, WHSEC, (long long)time(NULL) - 400);
	r = webhook(payload, sig);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	free(sig);
	/* tampered payload: amount changed after signing */
	sig = sign(payload);
	tampered = strdup(payload);
	p = strstr(tampered, "\"amount\":3000");
	assert_non_null(p);
	p[10] = '9';
	r = webhook(tampered, sig);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	/* no header */
	r = webhook(payload, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	/* garbage header */
	r = webhook(payload, "t=abc,v1=zz");
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	assert_int_equal(sql_count("SELECT COUNT(*) FROM stripe_events%s", ""), events);
	assert_invoice(inv, "pending", 0.0);

	/* signed properly, it goes through */
	r = webhook(payload, sig);
	assert_status(r, 200);
	api_resp_free(r);
	assert_invoice(inv, "paid", 30.0);

	/* a type we do not handle: acknowledged and recorded */
	{
		const char *unknown =
		    "{\"id\":\"evt_test_unknown_type_1\",\"object\":\"event\",\"api_version\":"
		    "\"2026-10-28.endive\",\"created\":1763780000,\"data\":{\"object\":{\"id\":"
		    "\"cus_123\",\"object\":\"customer\"}},\"livemode\":false,\"type\":\"customer.created\"}";
		char *s = sign(unknown);
		r = webhook(unknown, s);
		assert_status(r, 200);
		assert_string_equal(api_str(r, "data.outcome"), "ignored");
		api_resp_free(r);
		assert_int_equal(
		    sql_count("SELECT COUNT(*) FROM stripe_events WHERE event_id = '%s' AND outcome = 'ignored'",
			      "evt_test_unknown_type_1"),
		    1);
		free(s);
	}
	/* a signed body that is not an event */
	{
		char *s = sign("{\"hello\":1}");
		r = webhook("{\"hello\":1}", s);
		api_expect_error(r, 400, "VALIDATION_ERROR", NULL);
		api_resp_free(r);
		free(s);
	}
	free(tampered);
	free(sig);
	free(payload);
	free(pi);
	free(inv);
}

static void test_webhook_payment_failed(void **state)
{
	char *inv = new_invoice("25.00");
	char *pi = intent_for(inv, NULL);
	char p[128], *payload;
	struct api_resp *r;

	(void)state;
	snprintf(p, sizeof(p), "/__test/payment_intents/%s/fail", pi);
	dbl_ok("POST", p, "{\"code\":\"insufficient_funds\",\"message\":\"Your card has insufficient funds.\"}");
	payload = dbl_event("payment_intent.payment_failed", pi);
	deliver(payload);
	r = invoice(inv);
	assert_string_equal(api_str(r, "data.payments.0.status"), "failed");
	assert_non_null(strstr(api_str(r, "data.payments.0.failureReason"), "insufficient funds"));
	assert_string_equal(api_str(r, "data.status"), "pending");
	api_resp_free(r);
	free(payload);
	free(pi);
	free(inv);
}

static void test_sync_payment(void **state)
{
	char *inv = new_invoice("230.00");
	char *pi = intent_for(inv, NULL);
	char p[128];
	struct api_resp *r;

	(void)state;
	dbl_succeed(pi, "visa", "4242");
	snprintf(p, sizeof(p), "/api/v1/invoices/%s/sync-payment", inv);
	r = api_req("POST", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.invoiceId"), inv);
	assert_true(json_is_true(api_path(r, "data.synced")));
	assert_string_equal(api_str(r, "data.payments.0.status"), "confirmed");
	assert_true(json_is_number(api_path(r, "data.payments.0.amount")));
	assert_true(json_number_value(api_path(r, "data.payments.0.amount")) == 230.0);
	assert_non_null(api_str(r, "data.payments.0.confirmedAt"));
	assert_true(json_number_value(api_path(r, "data.totalConfirmed")) == 230.0);
	api_resp_free(r);
	assert_invoice(inv, "paid", 230.0);

	r = api_req("POST", p, other_admin, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/v1/invoices/6f1c1c7e-8a9b-4c2d-9e3f-0a1b2c3d4e5f/sync-payment", api_admin_token(),
		    NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("POST", p, NULL, NULL, NULL);
	api_expect_error(r, 401, NULL, NULL);
	api_resp_free(r);
	r = api_req("POST", p, doctor, NULL, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	free(pi);
	free(inv);
}

static void test_stripe_down(void **state)
{
	char *inv = new_invoice("60.00");
	int faulted = 0;
	struct api_resp *r;

	(void)state;
	/* every attempt fails: 502, nothing written */
	dbl_fault("503", 3, "/v1/payment_intents");
	r = create_intent(api_admin_token(), inv, NULL);
	api_expect_error(r, 502, "UPSTREAM_ERROR", NULL);
	api_resp_free(r);
	dbl_count("POST", "/v1/payment_intents", NULL, NULL, &faulted);
	assert_true(faulted >= 3);
	assert_int_equal(sql_count("SELECT COUNT(*) FROM payments WHERE document_id = '%s'", inv), 0);
	assert_invoice(inv, "pending", 0.0);

	/* one timeout, then Stripe answers: the retry carries the same key */
	dbl_fault("timeout", 1, "/v1/payment_intents");
	r = create_intent(api_admin_token(), inv, NULL);
	assert_status(r, 201);
	api_resp_free(r);
	assert_int_equal(dbl_count("POST", "/v1/payment_intents", inv, NULL, NULL), 1);
	assert_int_equal(sql_count("SELECT COUNT(*) FROM payments WHERE document_id = '%s'", inv), 1);
	free(inv);
}

/* Poll the invoice until refunds.<i>.status is want (10 s). */
static void wait_refund(const char *inv, const char *want)
{
	for (int i = 0; i < 100; i++) {
		struct api_resp *r = invoice(inv);
		const char *s = api_str(r, "data.refunds.0.status");
		int done = s && strcmp(s, want) == 0;
		api_resp_free(r);
		if (done)
			return;
		usleep(100 * 1000);
	}
	fail_msg("refund of %s never became %s", inv, want);
}

static void test_refund_job_exactly_once(void **state)
{
	char *inv = new_invoice("50.00");
	char *pi = intent_for(inv, NULL);
	char body[256], p[256], *pay_id, *ch_id, *evt;
	int replayed = 0, faulted = 0, n;
	struct api_resp *r;
	json_t *list, *o;
	long st;

	(void)state;
	dbl_succeed(pi, "visa", "4242");
	snprintf(body, sizeof(body), "{\"paymentIntentId\":\"%s\"}", pi);
	r = api_req("POST", "/api/payments/stripe/confirm", api_admin_token(), body, NULL);
	assert_status(r, 200);
	pay_id = strdup(api_str(r, "data.payment.id"));
	api_resp_free(r);

	/* Stripe makes the refund but its answer is lost: the client retries with the same key */
	dbl_fault("reset-after", 1, "/v1/refunds");
	snprintf(p, sizeof(p), "/api/payments/%s/refund", pay_id);
	r = api_req("POST", p, api_admin_token(), "{\"amount\":\"20.00\",\"reason\":\"partial refund\"}", NULL);
	assert_status(r, 201);
	api_resp_free(r);
	wait_refund(inv, "succeeded");
	n = dbl_count("POST", "/v1/refunds", NULL, &replayed, &faulted);
	assert_true(n >= 2);
	assert_true(replayed >= 1);
	assert_int_equal(faulted, 1);
	snprintf(p, sizeof(p), "/v1/refunds?payment_intent=%s", pi);
	list = dbl("GET", p, NULL, &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_array_size(json_object_get(list, "data")), 1); /* exactly one refund at Stripe */
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(json_object_get(list, "data"), 0), "amount")), 2000);
	json_decref(list);
	assert_invoice(inv, "partially_paid", 30.0);

	/* the webhook of that refund changes nothing more */
	snprintf(p, sizeof(p), "/__test/objects/%s", pi);
	o = dbl("GET", p, NULL, &st);
	ch_id = strdup(json_string_value(json_object_get(o, "latest_charge")));
	json_decref(o);
	evt = dbl_event("charge.refunded", ch_id);
	deliver(evt);
	free(evt);
	assert_invoice(inv, "partially_paid", 30.0);

	/* the rest refunded in Stripe's dashboard: charge.refunded -> refunded */
	snprintf(body, sizeof(body), "payment_intent=%s", pi);
	dbl_ok("POST", "/v1/refunds", body);
	evt = dbl_event("charge.refunded", ch_id);
	deliver(evt);
	free(evt);
	r = invoice(inv);
	assert_string_equal(api_str(r, "data.status"), "refunded");
	assert_true(json_number_value(api_path(r, "data.refundedAmount")) == 50.0);
	assert_string_equal(api_str(r, "data.payments.0.status"), "refunded");
	api_resp_free(r);
	free(ch_id);
	free(pay_id);
	free(pi);
	free(inv);
}

/* A refund made in Stripe's dashboard reaches us as charge.refunded. */
static void test_webhook_charge_refunded(void **state)
{
	char *inv = new_invoice("80.00");
	char *pi = intent_for(inv, NULL);
	char body[256], p[256], *ch_id, *evt;
	struct api_resp *r;
	json_t *o;
	long st;

	(void)state;
	dbl_succeed(pi, "visa", "4242");
	deliver(evt = dbl_event("payment_intent.succeeded", pi));
	free(evt);
	assert_invoice(inv, "paid", 80.0);
	snprintf(p, sizeof(p), "/__test/objects/%s", pi);
	o = dbl("GET", p, NULL, &st);
	ch_id = strdup(json_string_value(json_object_get(o, "latest_charge")));
	json_decref(o);

	/* part of it first */
	snprintf(body, sizeof(body), "payment_intent=%s&amount=3000", pi);
	dbl_ok("POST", "/v1/refunds", body);
	evt = dbl_event("charge.refunded", ch_id);
	deliver(evt);
	deliver(evt); /* a second delivery of the same event changes nothing */
	free(evt);
	assert_invoice(inv, "partially_paid", 50.0);
	/* then the rest */
	snprintf(body, sizeof(body), "payment_intent=%s", pi);
	dbl_ok("POST", "/v1/refunds", body);
	evt = dbl_event("charge.refunded", ch_id);
	deliver(evt);
	free(evt);
	r = invoice(inv);
	assert_string_equal(api_str(r, "data.status"), "refunded");
	assert_true(json_number_value(api_path(r, "data.refundedAmount")) == 80.0);
	assert_string_equal(api_str(r, "data.payments.0.status"), "refunded");
	assert_string_equal(api_str(r, "data.refunds.0.status"), "succeeded");
	assert_string_equal(api_str(r, "data.refunds.1.status"), "succeeded");
	assert_true(strncmp(api_str(r, "data.refunds.0.gatewayRefundId"), "re_", 3) == 0);
	api_resp_free(r);
	free(ch_id);
	free(pi);
	free(inv);
}

/* Last: the same routes on a server without Stripe settings. */
static void test_not_configured(void **state)
{
	char *inv;
	struct api_resp *r;

	(void)state;
	api_server_stop();
	assert_int_equal(api_server_start(NULL), 0);
	inv = new_invoice("10.00");
	r = create_intent(api_admin_token(), inv, NULL);
	api_expect_error(r, 503, "SERVICE_UNAVAILABLE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "STRIPE_SECRET_KEY"));
	api_resp_free(r);
	r = api_req("POST", "/api/stripe/connection-token", api_admin_token(), NULL, NULL);
	api_expect_error(r, 503, "SERVICE_UNAVAILABLE", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/stripe/config", api_admin_token(), NULL, NULL);
	api_expect_error(r, 503, "SERVICE_UNAVAILABLE", NULL);
	api_resp_free(r);
	r = webhook("{}", "t=1,v1=00");
	api_expect_error(r, 503, "SERVICE_UNAVAILABLE", NULL);
	api_resp_free(r);
	free(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_connection_token),
	    cmocka_unit_test(test_create_intent),
	    cmocka_unit_test(test_create_intent_validation),
	    cmocka_unit_test(test_create_intent_access),
	    cmocka_unit_test(test_create_intent_idempotent_replay),
	    cmocka_unit_test(test_confirm_terminal),
	    cmocka_unit_test(test_confirm_online),
	    cmocka_unit_test(test_confirm_errors),
	    cmocka_unit_test(test_webhook_succeeded),
	    cmocka_unit_test(test_webhook_signatures),
	    cmocka_unit_test(test_webhook_payment_failed),
	    cmocka_unit_test(test_sync_payment),
	    cmocka_unit_test(test_stripe_down),
	    cmocka_unit_test(test_webhook_charge_refunded),
	    cmocka_unit_test(test_refund_job_exactly_once),
	    cmocka_unit_test(test_not_configured),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
