/*
 * test_payments.c - API tests of /api/payments (clinic contract: payments
 * taken at the desk) against the real binary: partial and full payments
 * moving the order's paid / balance / status in the same write, amounts as
 * strings or numbers, the 409 on an amount above the balance, every
 * validation error (400 naming the field, nothing written), idempotent
 * replay with Idempotency-Key (the second call returns the first response
 * and the balance is charged once), list filters and pagination, get with
 * its refunds, refunds (partial, full, the order going refunded, amounts
 * above the refundable amount, replay), concurrent payments racing for one
 * balance (never overpaid), 401 / 403, tenant isolation and the audit trail.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static char path_buf[512];
static char *svc_cons; /* 35.00 USD taxable */
static char *patient;

static const char *path(const char *fmt, const char *id)
{
	snprintf(path_buf, sizeof(path_buf), fmt, id);
	return path_buf;
}

static char *post_id(const char *p, const char *token, const char *body)
{
	struct api_resp *r = api_req("POST", p, token, body, NULL);
	char *id;

	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

static long long total_of(const char *p, const char *token)
{
	struct api_resp *r = api_req("GET", p, token, NULL, NULL);
	long long n;

	assert_status(r, 200);
	assert_non_null(api_path(r, "pagination.totalPages"));
	n = api_int(r, "pagination.total");
	api_resp_free(r);
	return n;
}

static long long payments_total(void)
{
	return total_of("/api/payments?limit=1", api_admin_token());
}

static long long audit_total(const char *entity)
{
	char p[128];

	snprintf(p, sizeof(p), "/api/audit-logs?entity=%s&limit=1", entity);
	return total_of(p, api_admin_token());
}

static void expect_error(struct api_resp *r, int status, const char *code, const char *field)
{
	assert_status(r, status);
	assert_true(json_is_false(api_path(r, "success")));
	if (code && (!api_str(r, "error.code") || strcmp(api_str(r, "error.code"), code) != 0))
		fail_msg("error code %s, wanted %s: %.300s", api_str(r, "error.code"), code, r->body);
	if (field) {
		const char *got = api_str(r, "error.details.field");
		if (!got || strcmp(got, field) != 0)
			fail_msg("error names field %s, wanted %s: %.300s", got ? got : "(none)", field, r->body);
	}
}

/* An order of qty x 35.00 (owned id). */
static char *make_order(const char *qty)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"%s\"}]}",
		 patient, svc_cons, qty);
	return post_id("/api/orders", api_admin_token(), body);
}

static struct api_resp *get_order(const char *id)
{
	struct api_resp *r = api_req("GET", path("/api/orders/%s", id), api_admin_token(), NULL, NULL);

	assert_status(r, 200);
	return r;
}

/* POST /api/payments {orderId, method, amount (raw JSON)} as token. */
static struct api_resp *pay_as(const char *token, const char *order, const char *method, const char *amount_json)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"method\":\"%s\",\"amount\":%s}", order, method,
		 amount_json);
	return api_req("POST", "/api/payments", token, body, NULL);
}

static int setup(void **state)
{
	(void)state;
	if (api_server_start(NULL) != 0)
		return -1;
	svc_cons = post_id("/api/services", api_admin_token(),
			   "{\"code\":\"CONS\",\"name\":\"Consulta\",\"category\":\"Consultas\",\"price\":\"35.00\"}");
	patient = post_id("/api/patients", api_admin_token(), "{\"firstName\":\"Paula\",\"lastName\":\"Pagos\"}");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop();
	free(svc_cons);
	free(patient);
	return 0;
}

static void test_partial_then_full(void **state)
{
	char *order = make_order("2"); /* 70.00 */
	struct api_resp *r;
	char *pay1;

	(void)state;
	char body[512];
	snprintf(body, sizeof(body),
		 "{\"orderId\":\"%s\",\"method\":\"mobile_money\",\"methodDetail\":\"zain_cash\",\"amount\":\"20.50\","
		 "\"currency\":\"USD\",\"reference\":\"ZC-778899\"}",
		 order);
	r = api_req("POST", "/api/payments", api_admin_token(), body, NULL);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.orderId"), order);
	assert_string_equal(api_str(r, "data.method"), "mobile_money");
	assert_string_equal(api_str(r, "data.methodDetail"), "zain_cash");
	assert_string_equal(api_str(r, "data.amount"), "20.50");
	assert_string_equal(api_str(r, "data.currency"), "USD");
	assert_string_equal(api_str(r, "data.status"), "confirmed");
	assert_string_equal(api_str(r, "data.gateway"), "manual");
	assert_string_equal(api_str(r, "data.reference"), "ZC-778899");
	assert_string_equal(api_str(r, "data.refundable"), "20.50");
	assert_non_null(api_str(r, "data.confirmedAt"));
	assert_string_equal(api_str(r, "data.order.status"), "partially_paid");
	assert_string_equal(api_str(r, "data.order.paid"), "20.50");
	assert_string_equal(api_str(r, "data.order.balance"), "49.50");
	assert_string_equal(api_str(r, "data.order.total"), "70.00");
	pay1 = strdup(api_str(r, "data.id"));
	api_resp_free(r);

	r = get_order(order);
	assert_string_equal(api_str(r, "data.status"), "partially_paid");
	assert_string_equal(api_str(r, "data.paid"), "20.50");
	assert_string_equal(api_str(r, "data.balance"), "49.50");
	assert_int_equal(json_array_size(api_path(r, "data.payments")), 1);
	assert_string_equal(api_str(r, "data.payments.0.id"), pay1);
	api_resp_free(r);

	/* the rest as a JSON number: paid */
	r = pay_as(api_admin_token(), order, "card_present", "49.5");
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.amount"), "49.50");
	assert_string_equal(api_str(r, "data.order.status"), "paid");
	assert_string_equal(api_str(r, "data.order.balance"), "0.00");
	api_resp_free(r);
	r = get_order(order);
	assert_string_equal(api_str(r, "data.status"), "paid");
	assert_string_equal(api_str(r, "data.paid"), "70.00");
	assert_non_null(api_str(r, "data.paidAt"));
	assert_int_equal(json_array_size(api_path(r, "data.payments")), 2);
	api_resp_free(r);

	/* nothing more to pay */
	r = pay_as(api_admin_token(), order, "cash", "\"1.00\"");
	expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "paid"));
	api_resp_free(r);
	free(order);
	free(pay1);
}

static void test_overpayment_and_validation(void **state)
{
	char *order = make_order("1"); /* 35.00 */
	char unknown[] = "00000000-0000-4000-8000-000000000000";
	char body[40][512];
	const char *fields[40];
	size_t n = 0;
	long long before = payments_total(), audit_before = audit_total("payment");
	struct api_resp *r;

	(void)state;
	/* above the balance: 409, named */
	r = pay_as(api_admin_token(), order, "cash", "\"35.01\"");
	expect_error(r, 409, "AMOUNT_EXCEEDS_BALANCE", "amount");
	assert_non_null(strstr(api_str(r, "error.message"), "exceeds balance"));
	api_resp_free(r);

#define CASE(field, ...)                                                                                               \
	do {                                                                                                           \
		snprintf(body[n], sizeof(body[n]), __VA_ARGS__);                                                       \
		fields[n++] = field;                                                                                   \
	} while (0)
	CASE("orderId", "{\"method\":\"cash\",\"amount\":\"1.00\"}");
	CASE("orderId", "{\"orderId\":\"42\",\"method\":\"cash\",\"amount\":\"1.00\"}");
	CASE("method", "{\"orderId\":\"%s\",\"amount\":\"1.00\"}", order);
	CASE("method", "{\"orderId\":\"%s\",\"method\":\"bitcoin\",\"amount\":\"1.00\"}", order);
	CASE("amount", "{\"orderId\":\"%s\",\"method\":\"cash\"}", order);
	CASE("amount", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":0}", order);
	CASE("amount", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"-5.00\"}", order);
	CASE("amount", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"1.001\"}", order);
	CASE("amount", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"ten\"}", order);
	CASE("amount", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":true}", order);
	CASE("currency", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"1.00\",\"currency\":\"EUR\"}", order);
	CASE("currency", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"1.00\",\"currency\":\"US\"}", order);
	CASE("methodDetail", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"1.00\",\"methodDetail\":\"\"}",
	     order);
	CASE("reference", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"1.00\",\"reference\":5}", order);
	CASE("status", "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"1.00\",\"status\":\"confirmed\"}", order);
	CASE("cardNumber",
	     "{\"orderId\":\"%s\",\"method\":\"card_present\",\"amount\":\"1.00\",\"cardNumber\":\"4242424242424242\"}",
	     order);
#undef CASE
	for (size_t i = 0; i < n; i++) {
		r = api_req("POST", "/api/payments", api_admin_token(), body[i], NULL);
		if (r->status != 400)
			fail_msg("case %zu (%s): HTTP %ld: %.300s", i, fields[i], r->status, r->body);
		expect_error(r, 400, "VALIDATION_ERROR", fields[i]);
		api_resp_free(r);
	}
	/* an order that does not exist */
	snprintf(body[0], sizeof(body[0]), "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"1.00\"}", unknown);
	r = api_req("POST", "/api/payments", api_admin_token(), body[0], NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);

	assert_int_equal(payments_total(), before);
	assert_int_equal(audit_total("payment"), audit_before);
	r = get_order(order);
	assert_string_equal(api_str(r, "data.status"), "pending_payment");
	assert_string_equal(api_str(r, "data.balance"), "35.00");
	api_resp_free(r);

	/* exactly the balance is fine */
	r = pay_as(api_admin_token(), order, "bank_transfer", "\"35.00\"");
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.order.status"), "paid");
	api_resp_free(r);
	free(order);
}

static void test_idempotent_replay(void **state)
{
	char *order = make_order("1"), body[512], p[256];
	struct api_resp *a, *b;
	long long audit_before = audit_total("payment");

	(void)state;
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"15.00\"}", order);
	a = api_req("POST", "/api/payments", api_admin_token(), body, "Idempotency-Key: pay-once-1", NULL);
	assert_status(a, 201);
	b = api_req("POST", "/api/payments", api_admin_token(), body, "Idempotency-Key: pay-once-1", NULL);
	assert_status(b, 201);
	assert_non_null(strstr(b->headers, "Idempotent-Replayed: true"));
	assert_string_equal(api_str(a, "data.id"), api_str(b, "data.id"));
	assert_string_equal(api_str(b, "data.order.balance"), "20.00");
	assert_string_equal(a->body, b->body); /* the first response, verbatim */
	api_resp_free(a);
	api_resp_free(b);

	/* charged once */
	a = get_order(order);
	assert_string_equal(api_str(a, "data.paid"), "15.00");
	assert_string_equal(api_str(a, "data.balance"), "20.00");
	assert_int_equal(json_array_size(api_path(a, "data.payments")), 1);
	api_resp_free(a);
	snprintf(p, sizeof(p), "/api/payments?orderId=%s", order);
	assert_int_equal(total_of(p, api_admin_token()), 1);
	assert_int_equal(audit_total("payment"), audit_before + 1);

	/* another key pays again */
	b = api_req("POST", "/api/payments", api_admin_token(), body, "Idempotency-Key: pay-once-2", NULL);
	assert_status(b, 201);
	assert_string_equal(api_str(b, "data.order.balance"), "5.00");
	api_resp_free(b);
	free(order);
}

static void test_list_and_get(void **state)
{
	char *order = make_order("3"), *other_order = make_order("1"), p[512], today[16], *cash_id;
	struct api_resp *r;

	(void)state;
	r = pay_as(api_admin_token(), order, "cash", "\"10.00\"");
	assert_status(r, 201);
	cash_id = strdup(api_str(r, "data.id"));
	snprintf(today, sizeof(today), "%.10s", api_str(r, "data.createdAt"));
	api_resp_free(r);
	r = pay_as(api_admin_token(), order, "card_present", "\"20.00\"");
	api_resp_free(r);
	r = pay_as(api_admin_token(), order, "cash", "\"30.00\"");
	api_resp_free(r);
	r = pay_as(api_admin_token(), other_order, "cash", "\"5.00\"");
	api_resp_free(r);

	snprintf(p, sizeof(p), "/api/payments?orderId=%s", order);
	assert_int_equal(total_of(p, api_admin_token()), 3);
	snprintf(p, sizeof(p), "/api/payments?orderId=%s&method=cash", order);
	assert_int_equal(total_of(p, api_admin_token()), 2);
	snprintf(p, sizeof(p), "/api/payments?orderId=%s&status=confirmed", order);
	assert_int_equal(total_of(p, api_admin_token()), 3);
	snprintf(p, sizeof(p), "/api/payments?orderId=%s&status=refunded", order);
	assert_int_equal(total_of(p, api_admin_token()), 0);
	snprintf(p, sizeof(p), "/api/payments?orderId=%s&from=%s&to=%s", order, today, today);
	assert_int_equal(total_of(p, api_admin_token()), 3);
	snprintf(p, sizeof(p), "/api/payments?orderId=%s&to=2000-01-01", order);
	assert_int_equal(total_of(p, api_admin_token()), 0);
	snprintf(p, sizeof(p), "/api/payments?orderId=%s&limit=2&page=2", order);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 1);
	assert_int_equal(api_int(r, "pagination.totalPages"), 2);
	assert_string_equal(api_str(r, "data.0.orderId"), order);
	api_resp_free(r);

	static const struct {
		const char *query, *field;
	} bad[] = {
	    {"method=crypto", "method"}, {"status=done", "status"}, {"orderId=1", "orderId"},
	    {"from=2025-1-1", "from"},	 {"limit=0", "limit"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(p, sizeof(p), "/api/payments?%s", bad[i].query);
		r = api_req("GET", p, api_admin_token(), NULL, NULL);
		expect_error(r, 400, "VALIDATION_ERROR", bad[i].field);
		api_resp_free(r);
	}

	r = api_req("GET", path("/api/payments/%s", cash_id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), cash_id);
	assert_string_equal(api_str(r, "data.amount"), "10.00");
	assert_string_equal(api_str(r, "data.order.id"), order);
	assert_string_equal(api_str(r, "data.order.balance"), "45.00");
	assert_non_null(api_str(r, "data.orderNumber"));
	assert_int_equal(json_array_size(api_path(r, "data.refunds")), 0);
	api_resp_free(r);
	r = api_req("GET", "/api/payments/00000000-0000-4000-8000-000000000000", api_admin_token(), NULL, NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/payments/nope", api_admin_token(), NULL, NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(order);
	free(other_order);
	free(cash_id);
}

static void test_refunds(void **state)
{
	char *order = make_order("1"), *pay_id, body[256];
	struct api_resp *r, *a, *b;
	long long audit_before;

	(void)state;
	r = pay_as(api_admin_token(), order, "cash", "\"35.00\"");
	assert_status(r, 201);
	pay_id = strdup(api_str(r, "data.id"));
	api_resp_free(r);

	/* validation and limits: nothing written */
	audit_before = audit_total("refund");
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(), "{\"amount\":\"5.00\"}", NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "reason");
	api_resp_free(r);
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(),
		    "{\"amount\":\"5.00\",\"reason\":\"\"}", NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "reason");
	api_resp_free(r);
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(),
		    "{\"amount\":\"0\",\"reason\":\"x\"}", NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "amount");
	api_resp_free(r);
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(),
		    "{\"amount\":\"0.001\",\"reason\":\"x\"}", NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "amount");
	api_resp_free(r);
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(),
		    "{\"amount\":\"35.01\",\"reason\":\"x\"}", NULL);
	expect_error(r, 409, "AMOUNT_EXCEEDS_REFUNDABLE", "amount");
	api_resp_free(r);
	assert_int_equal(audit_total("refund"), audit_before);

	/* partial refund, applied at once for a desk payment */
	snprintf(body, sizeof(body), "{\"amount\":\"10.00\",\"reason\":\"overcharged\"}");
	a = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(), body,
		    "Idempotency-Key: refund-1", NULL);
	assert_status(a, 201);
	assert_string_equal(api_str(a, "data.status"), "succeeded");
	assert_string_equal(api_str(a, "data.amount"), "10.00");
	assert_string_equal(api_str(a, "data.reason"), "overcharged");
	assert_string_equal(api_str(a, "data.paymentId"), pay_id);
	assert_string_equal(api_str(a, "data.payment.refunded"), "10.00");
	assert_string_equal(api_str(a, "data.payment.refundable"), "25.00");
	assert_string_equal(api_str(a, "data.payment.status"), "confirmed");
	assert_string_equal(api_str(a, "data.order.paid"), "25.00");
	assert_string_equal(api_str(a, "data.order.balance"), "10.00");
	assert_string_equal(api_str(a, "data.order.status"), "partially_paid");
	/* replayed: the same refund, money moved once */
	b = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(), body,
		    "Idempotency-Key: refund-1", NULL);
	assert_status(b, 201);
	assert_string_equal(api_str(a, "data.id"), api_str(b, "data.id"));
	api_resp_free(a);
	api_resp_free(b);
	r = get_order(order);
	assert_string_equal(api_str(r, "data.paid"), "25.00");
	assert_string_equal(api_str(r, "data.refunded"), "10.00");
	assert_int_equal(json_array_size(api_path(r, "data.refunds")), 1);
	api_resp_free(r);

	/* no amount: everything left */
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(),
		    "{\"reason\":\"cancelled visit\"}", NULL);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.amount"), "25.00");
	assert_string_equal(api_str(r, "data.payment.status"), "refunded");
	assert_string_equal(api_str(r, "data.order.status"), "refunded");
	assert_string_equal(api_str(r, "data.order.paid"), "0.00");
	api_resp_free(r);
	r = api_req("GET", path("/api/payments/%s", pay_id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data.refunds")), 2);
	assert_string_equal(api_str(r, "data.refundable"), "0.00");
	api_resp_free(r);
	/* a refunded payment refunds no more; a refunded order takes no payment and no cancel */
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(), "{\"reason\":\"again\"}", NULL);
	expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);
	r = pay_as(api_admin_token(), order, "cash", "\"1.00\"");
	expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/orders/%s", order), api_admin_token(), "{\"reason\":\"x\"}", NULL);
	expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);
	assert_int_equal(audit_total("refund"), audit_before + 2);
	r = api_req("POST", "/api/payments/00000000-0000-4000-8000-000000000000/refund", api_admin_token(),
		    "{\"reason\":\"x\"}", NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(order);
	free(pay_id);
}

#define RACERS 8

struct racer {
	const char *order;
	long status;
};

static void *race_pay(void *arg)
{
	struct racer *rc = arg;
	struct api_resp *r = pay_as(api_admin_token(), rc->order, "cash", "\"10.00\"");

	rc->status = r->status;
	api_resp_free(r);
	return NULL;
}

/* Eight cashiers post 10.00 at once on a 35.00 order: the document's row
 * lock serialises them, so exactly three are taken and five are refused. */
static void test_concurrent_payments(void **state)
{
	char *order = make_order("1"), p[256];
	pthread_t th[RACERS];
	struct racer rc[RACERS];
	int ok = 0, refused = 0;
	struct api_resp *r;

	(void)state;
	(void)api_admin_token(); /* log in before the threads */
	for (int i = 0; i < RACERS; i++) {
		rc[i].order = order;
		rc[i].status = 0;
		assert_int_equal(pthread_create(&th[i], NULL, race_pay, &rc[i]), 0);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < RACERS; i++) {
		if (rc[i].status == 201)
			ok++;
		else if (rc[i].status == 409)
			refused++;
		else
			fail_msg("racer %d: HTTP %ld", i, rc[i].status);
	}
	assert_int_equal(ok, 3);
	assert_int_equal(refused, RACERS - 3);
	r = get_order(order);
	assert_string_equal(api_str(r, "data.paid"), "30.00");
	assert_string_equal(api_str(r, "data.balance"), "5.00");
	assert_string_equal(api_str(r, "data.status"), "partially_paid");
	api_resp_free(r);
	snprintf(p, sizeof(p), "/api/payments?orderId=%s", order);
	assert_int_equal(total_of(p, api_admin_token()), 3);
	free(order);
}

static void test_auth_and_roles(void **state)
{
	char *doctor = api_user_token("demo", "doctor", NULL);
	char *recep = api_user_token("demo", "receptionist", NULL);
	char *acct = api_user_token("demo", "accountant", NULL);
	char *order = make_order("1"), *pay_id;
	struct api_resp *r;
	long long before;

	(void)state;
	r = pay_as(NULL, order, "cash", "\"1.00\"");
	expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/payments", NULL, NULL, NULL);
	expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);

	before = payments_total();
	r = pay_as(doctor, order, "cash", "\"1.00\"");
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = pay_as(acct, order, "cash", "\"1.00\"");
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	assert_int_equal(payments_total(), before);
	r = api_req("GET", "/api/payments", doctor, NULL, NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/payments", acct, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);

	/* a receptionist takes payments but does not refund them */
	r = pay_as(recep, order, "cash", "\"5.00\"");
	assert_status(r, 201);
	pay_id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), recep, "{\"reason\":\"x\"}", NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), acct, "{\"reason\":\"x\"}", NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", path("/api/payments/%s", pay_id), api_admin_token(), NULL, NULL);
	assert_string_equal(api_str(r, "data.status"), "confirmed");
	assert_string_equal(api_str(r, "data.refunded"), "0.00");
	api_resp_free(r);
	free(doctor);
	free(recep);
	free(acct);
	free(order);
	free(pay_id);
}

static void test_tenant_isolation(void **state)
{
	char *other = api_user_token("other", "admin", NULL);
	char *order = make_order("1"), *pay_id;
	struct api_resp *r;

	(void)state;
	r = pay_as(api_admin_token(), order, "cash", "\"5.00\"");
	pay_id = strdup(api_str(r, "data.id"));
	api_resp_free(r);

	r = api_req("GET", path("/api/payments/%s", pay_id), other, NULL, NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), other, "{\"reason\":\"mine\"}", NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = pay_as(other, order, "cash", "\"5.00\"");
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	assert_int_equal(total_of("/api/payments?limit=1", other), 0);
	char p[256];
	snprintf(p, sizeof(p), "/api/payments?orderId=%s", order);
	assert_int_equal(total_of(p, other), 0);
	/* unchanged */
	r = get_order(order);
	assert_string_equal(api_str(r, "data.paid"), "5.00");
	assert_string_equal(api_str(r, "data.refunded"), "0.00");
	api_resp_free(r);
	free(other);
	free(order);
	free(pay_id);
}

static void test_audit_trail(void **state)
{
	char *order = make_order("1"), *pay_id, p[256];
	struct api_resp *r;

	(void)state;
	r = pay_as(api_admin_token(), order, "cash", "\"35.00\"");
	pay_id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	r = api_req("POST", path("/api/payments/%s/refund", pay_id), api_admin_token(),
		    "{\"amount\":\"5.00\",\"reason\":\"audit check\"}", NULL);
	assert_status(r, 201);
	api_resp_free(r);

	snprintf(p, sizeof(p), "/api/audit-logs?entity=payment&entityId=%s", pay_id);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(api_int(r, "pagination.total") >= 1);
	assert_non_null(strstr(r->body, "\"payment.create\""));
	api_resp_free(r);
	r = api_req("GET", "/api/audit-logs?entity=refund&action=refund.create", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, "audit check"));
	api_resp_free(r);
	/* the order's status changes are recorded on the order */
	snprintf(p, sizeof(p), "/api/audit-logs?entity=order&entityId=%s", order);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(api_int(r, "pagination.total") >= 2);
	assert_non_null(strstr(r->body, "\"order.status\""));
	api_resp_free(r);
	free(order);
	free(pay_id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_partial_then_full), cmocka_unit_test(test_overpayment_and_validation),
	    cmocka_unit_test(test_idempotent_replay), cmocka_unit_test(test_list_and_get),
	    cmocka_unit_test(test_refunds),	      cmocka_unit_test(test_concurrent_payments),
	    cmocka_unit_test(test_auth_and_roles),    cmocka_unit_test(test_tenant_isolation),
	    cmocka_unit_test(test_audit_trail),
	};
	return cmocka_run_group_tests_name("api_payments", tests, setup, teardown);
}
