/*
 * test_orders.c - API tests of /api/orders (clinic-billing-backend §1) and
 * GET /api/patients/:id/billing-history against the real binary: create
 * from catalog services (price, currency and tax treatment copied at the
 * time of sale; El Salvador prices include IVA, Dominican ones exclude it),
 * the exact totals, get, list filters and pagination, update (notes, due
 * date, item replacement) and its 409 once a payment is confirmed, cancel
 * (with and without a reason, 409 with a payment), tax documents and the
 * patient's fiscal identity, every validation error (400 naming the field,
 * nothing written), 401 / 403, tenant isolation, idempotent replay, the
 * audit trail, the billing history with its per-currency totals, and that
 * deleting a patient with billing history deactivates instead of deleting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static char path_buf[512];

/* Services and patients of the demo tenant shared by the tests. */
static char *svc_cons;	   /* CONS-GEN 35.00 USD taxable */
static char *svc_lab;	   /* LAB-CBC 12.50 USD exempt */
static char *svc_eur;	   /* EUR-1 20.00 EUR taxable */
static char *svc_inactive; /* deactivated */
static char *pat_dui;	   /* DUI only */
static char *pat_nrc;	   /* DUI and NRC */
static char *pat_none;	   /* no document */
static char *pat_passport; /* passport */

static const char *path(const char *fmt, const char *id)
{
	snprintf(path_buf, sizeof(path_buf), fmt, id);
	return path_buf;
}

/* A valid DUI from 8 digits: printed "NNNNNNNN-C" into out[11]. */
static void make_dui(const char *base8, char out[11])
{
	int sum = 0;

	for (int i = 0; i < 8; i++)
		sum += (base8[i] - '0') * (9 - i);
	snprintf(out, 11, "%.8s-%d", base8, (10 - sum % 10) % 10);
}

/* POST body to p as token, expect 201; returns data.id (owned). */
static char *post_id(const char *p, const char *token, const char *body)
{
	struct api_resp *r = api_req("POST", p, token, body, NULL);
	char *id;

	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

static char *make_service(const char *token, const char *code, const char *price, const char *tax, const char *currency)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"code\":\"%s\",\"name\":\"Service %s\",\"category\":\"Tests\",\"price\":\"%s\","
		 "\"taxTreatment\":\"%s\"%s%s%s}",
		 code, code, price, tax, currency ? ",\"currency\":\"" : "", currency ? currency : "",
		 currency ? "\"" : "");
	return post_id("/api/services", token, body);
}

static char *make_patient(const char *token, const char *first, const char *doc_json)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"firstName\":\"%s\",\"lastName\":\"Ordenes\"%s%s}", first, doc_json ? "," : "",
		 doc_json ? doc_json : "");
	return post_id("/api/patients", token, body);
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

static long long orders_total(void)
{
	return total_of("/api/orders?limit=1", api_admin_token());
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

/* POST /api/orders as token with body, expect 201; returns the response. */
static struct api_resp *create_order_as(const char *token, const char *body)
{
	struct api_resp *r = api_req("POST", "/api/orders", token, body, NULL);

	assert_status(r, 201);
	assert_true(json_is_true(api_path(r, "success")));
	return r;
}

/* An order of `qty` x CONS-GEN for patient; returns its id (owned). */
static char *simple_order(const char *patient, const char *qty)
{
	char body[512];
	struct api_resp *r;
	char *id;

	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"%s\"}]}",
		 patient, svc_cons, qty);
	r = create_order_as(api_admin_token(), body);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

/* A confirmed cash payment of amount on order id. */
static void pay(const char *order_id, const char *amount)
{
	char body[256];
	struct api_resp *r;

	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"%s\"}", order_id, amount);
	r = api_req("POST", "/api/payments", api_admin_token(), body, NULL);
	assert_status(r, 201);
	api_resp_free(r);
}

static int setup(void **state)
{
	char dui[11], doc[256];

	(void)state;
	if (api_server_start(NULL) != 0)
		return -1;
	svc_cons = make_service(api_admin_token(), "CONS-GEN", "35.00", "taxable", NULL);
	svc_lab = make_service(api_admin_token(), "LAB-CBC", "12.50", "exempt", NULL);
	svc_eur = make_service(api_admin_token(), "EUR-1", "20.00", "taxable", "EUR");
	svc_inactive = make_service(api_admin_token(), "OLD-1", "5.00", "taxable", NULL);
	struct api_resp *r = api_req("DELETE", path("/api/services/%s", svc_inactive), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	make_dui("20000001", dui);
	snprintf(doc, sizeof(doc), "\"documentType\":\"DUI\",\"documentNumber\":\"%s\"", dui);
	pat_dui = make_patient(api_admin_token(), "Ana", doc);
	make_dui("20000002", dui);
	snprintf(doc, sizeof(doc), "\"documentType\":\"DUI\",\"documentNumber\":\"%s\",\"nrc\":\"123456-7\"", dui);
	pat_nrc = make_patient(api_admin_token(), "Bruno", doc);
	pat_none = make_patient(api_admin_token(), "Carla", NULL);
	pat_passport =
	    make_patient(api_admin_token(), "Diego", "\"documentType\":\"PASSPORT\",\"documentNumber\":\"X1234567\"");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop();
	free(svc_cons);
	free(svc_lab);
	free(svc_eur);
	free(svc_inactive);
	free(pat_dui);
	free(pat_nrc);
	free(pat_none);
	free(pat_passport);
	return 0;
}

static bool number_shape(const char *s)
{
	if (!s || strlen(s) != 19 || strncmp(s, "INV-", 4) != 0 || s[12] != '-')
		return false;
	for (int i = 4; i < 19; i++)
		if (i != 12 && (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

static void test_create_and_get(void **state)
{
	char body[1024];
	struct api_resp *r, *g;
	long long audit_before = audit_total("order");

	(void)state;
	/* 2 x 35.00 taxable with IVA inside: tax = round(70 x 13 / 113) = 8.05;
	 * 1 x 12.50 exempt less 10 % = 11.25 */
	snprintf(body, sizeof(body),
		 "{\"patientId\":\"%s\",\"notes\":\"walk-in\",\"dueDate\":\"2099-01-31\",\"items\":["
		 "{\"serviceId\":\"%s\",\"quantity\":2,\"notes\":\"two visits\"},"
		 "{\"serviceId\":\"%s\",\"discountPercent\":\"10\"}]}",
		 pat_dui, svc_cons, svc_lab);
	r = create_order_as(api_admin_token(), body);
	assert_true(number_shape(api_str(r, "data.orderNumber")));
	assert_string_equal(api_str(r, "data.status"), "pending_payment");
	assert_string_equal(api_str(r, "data.source"), "order");
	assert_string_equal(api_str(r, "data.patientId"), pat_dui);
	assert_string_equal(api_str(r, "data.patient.id"), pat_dui);
	assert_string_equal(api_str(r, "data.patient.firstName"), "Ana");
	assert_string_equal(api_str(r, "data.patient.lastName"), "Ordenes");
	assert_string_equal(api_str(r, "data.currency"), "USD");
	assert_true(json_is_true(api_path(r, "data.pricesIncludeTax")));
	assert_string_equal(api_str(r, "data.items.0.serviceId"), svc_cons);
	assert_int_equal(api_int(r, "data.items.0.lineNumber"), 1);
	assert_string_equal(api_str(r, "data.items.0.code"), "CONS-GEN");
	assert_string_equal(api_str(r, "data.items.0.name"), "Service CONS-GEN");
	assert_string_equal(api_str(r, "data.items.0.quantity"), "2.000");
	assert_string_equal(api_str(r, "data.items.0.unitPrice"), "35.00");
	assert_string_equal(api_str(r, "data.items.0.discount"), "0.00");
	assert_string_equal(api_str(r, "data.items.0.taxTreatment"), "taxable");
	assert_string_equal(api_str(r, "data.items.0.taxRate"), "13.00");
	assert_string_equal(api_str(r, "data.items.0.tax"), "8.05");
	assert_string_equal(api_str(r, "data.items.0.total"), "70.00");
	assert_string_equal(api_str(r, "data.items.0.notes"), "two visits");
	assert_string_equal(api_str(r, "data.items.1.quantity"), "1.000");
	assert_string_equal(api_str(r, "data.items.1.discountPercent"), "10.00");
	assert_string_equal(api_str(r, "data.items.1.discount"), "1.25");
	assert_string_equal(api_str(r, "data.items.1.taxTreatment"), "exempt");
	assert_string_equal(api_str(r, "data.items.1.tax"), "0.00");
	assert_string_equal(api_str(r, "data.items.1.total"), "11.25");
	assert_string_equal(api_str(r, "data.subtotal"), "74.45");
	assert_string_equal(api_str(r, "data.discount"), "1.25");
	assert_string_equal(api_str(r, "data.tax"), "8.05");
	assert_string_equal(api_str(r, "data.total"), "81.25");
	assert_string_equal(api_str(r, "data.paid"), "0.00");
	assert_string_equal(api_str(r, "data.balance"), "81.25");
	assert_string_equal(api_str(r, "data.notes"), "walk-in");
	assert_string_equal(api_str(r, "data.dueDate"), "2099-01-31");
	assert_true(json_is_false(api_path(r, "data.taxDocument.required")));
	assert_int_equal(json_array_size(api_path(r, "data.payments")), 0);
	assert_non_null(api_str(r, "data.createdAt"));

	g = api_req("GET", path("/api/orders/%s", api_str(r, "data.id")), api_admin_token(), NULL, NULL);
	assert_status(g, 200);
	assert_string_equal(api_str(g, "data.orderNumber"), api_str(r, "data.orderNumber"));
	assert_string_equal(api_str(g, "data.total"), "81.25");
	assert_string_equal(api_str(g, "data.items.1.discount"), "1.25");
	assert_string_equal(api_str(g, "data.patient.firstName"), "Ana");
	assert_string_equal(api_str(g, "data.status"), "pending_payment");
	api_resp_free(g);
	assert_int_equal(audit_total("order"), audit_before + 1);
	api_resp_free(r);

	/* the quantity may be a decimal string; a number works too */
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"1.5\"}]}",
		 pat_dui, svc_lab);
	r = create_order_as(api_admin_token(), body);
	assert_string_equal(api_str(r, "data.items.0.quantity"), "1.500");
	assert_string_equal(api_str(r, "data.total"), "18.75");
	api_resp_free(r);
	snprintf(body, sizeof(body),
		 "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"discountAmount\":\"2.50\"}]}", pat_dui,
		 svc_lab);
	r = create_order_as(api_admin_token(), body);
	assert_string_equal(api_str(r, "data.items.0.discount"), "2.50");
	assert_string_equal(api_str(r, "data.total"), "10.00");
	api_resp_free(r);
}

static void test_price_copied_at_sale(void **state)
{
	char *svc = make_service(api_admin_token(), "COPY-1", "50.00", "taxable", NULL);
	char body[512], *first;
	struct api_resp *r;

	(void)state;
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui, svc);
	r = create_order_as(api_admin_token(), body);
	first = strdup(api_str(r, "data.id"));
	assert_string_equal(api_str(r, "data.items.0.unitPrice"), "50.00");
	api_resp_free(r);

	r = api_req("PUT", path("/api/services/%s", svc), api_admin_token(),
		    "{\"price\":\"60.00\",\"taxTreatment\":\"exempt\",\"priceChangeReason\":\"new tariff\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);

	/* the earlier order keeps what was in force when it was sold */
	r = api_req("GET", path("/api/orders/%s", first), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.items.0.unitPrice"), "50.00");
	assert_string_equal(api_str(r, "data.items.0.taxTreatment"), "taxable");
	assert_string_equal(api_str(r, "data.total"), "50.00");
	api_resp_free(r);
	/* a new one takes today's price and treatment */
	r = create_order_as(api_admin_token(), body);
	assert_string_equal(api_str(r, "data.items.0.unitPrice"), "60.00");
	assert_string_equal(api_str(r, "data.items.0.taxTreatment"), "exempt");
	assert_string_equal(api_str(r, "data.tax"), "0.00");
	api_resp_free(r);
	free(first);
	free(svc);
}

static void test_tax_documents(void **state)
{
	static const struct {
		char **patient;
		const char *tax_doc;
		int status;
		const char *type_out;
	} cases[] = {
	    {&pat_dui, "{\"required\":true,\"type\":\"01\"}", 201, "01"},
	    {&pat_dui, "{\"required\":true}", 201, "01"},
	    {&pat_nrc, "{\"required\":true,\"type\":\"03\"}", 201, "03"},
	    {&pat_nrc, "{\"required\":true,\"type\":\"01\"}", 201, "01"},
	    {&pat_none, "{\"required\":false}", 201, NULL},
	    {&pat_none, "{\"required\":false,\"type\":\"03\"}", 201, NULL},
	    {&pat_none, "null", 201, NULL},
	    {&pat_dui, "{\"required\":true,\"type\":\"03\"}", 400, NULL},
	    {&pat_none, "{\"required\":true,\"type\":\"01\"}", 400, NULL},
	    {&pat_passport, "{\"required\":true,\"type\":\"01\"}", 400, NULL},
	};
	char body[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long before = orders_total();
		struct api_resp *r;

		snprintf(body, sizeof(body),
			 "{\"patientId\":\"%s\",\"taxDocument\":%s,\"items\":[{\"serviceId\":\"%s\"}]}",
			 *cases[i].patient, cases[i].tax_doc, svc_cons);
		r = api_req("POST", "/api/orders", api_admin_token(), body, NULL);
		if (r->status != cases[i].status)
			fail_msg("case %zu: HTTP %ld, wanted %d: %.300s", i, r->status, cases[i].status, r->body);
		if (cases[i].status == 201) {
			if (cases[i].type_out) {
				assert_true(json_is_true(api_path(r, "data.taxDocument.required")));
				assert_string_equal(api_str(r, "data.taxDocument.type"), cases[i].type_out);
			} else {
				assert_true(json_is_false(api_path(r, "data.taxDocument.required")));
				assert_true(json_is_null(api_path(r, "data.taxDocument.type")));
			}
			/* the stored value comes back on GET */
			struct api_resp *g = api_req("GET", path("/api/orders/%s", api_str(r, "data.id")),
						     api_admin_token(), NULL, NULL);
			assert_status(g, 200);
			if (cases[i].type_out)
				assert_string_equal(api_str(g, "data.taxDocument.type"), cases[i].type_out);
			else
				assert_true(json_is_null(api_path(g, "data.taxDocument.type")));
			api_resp_free(g);
		} else {
			expect_error(r, 400, "VALIDATION_ERROR", "patientId");
			assert_null(strstr(r->body, "Ordenes")); /* no patient data in the message */
			assert_int_equal(orders_total(), before);
		}
		api_resp_free(r);
	}
}

static void test_validation_errors(void **state)
{
	char unknown[] = "00000000-0000-4000-8000-000000000000";
	char buf[40][768];
	const char *fields[40];
	size_t n = 0;
	long long before, audit_before;

	(void)state;
#define CASE(field, ...)                                                                                               \
	do {                                                                                                           \
		snprintf(buf[n], sizeof(buf[n]), __VA_ARGS__);                                                         \
		fields[n++] = field;                                                                                   \
	} while (0)
	CASE("patientId", "{\"items\":[{\"serviceId\":\"%s\"}]}", svc_cons);
	CASE("patientId", "{\"patientId\":\"nope\",\"items\":[{\"serviceId\":\"%s\"}]}", svc_cons);
	CASE("patientId", "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", unknown, svc_cons);
	CASE("items", "{\"patientId\":\"%s\"}", pat_dui);
	CASE("items", "{\"patientId\":\"%s\",\"items\":[]}", pat_dui);
	CASE("items", "{\"patientId\":\"%s\",\"items\":{}}", pat_dui);
	CASE("items[0]", "{\"patientId\":\"%s\",\"items\":[7]}", pat_dui);
	CASE("items[0].serviceId", "{\"patientId\":\"%s\",\"items\":[{\"quantity\":1}]}", pat_dui);
	CASE("items[0].serviceId", "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui, unknown);
	CASE("items[0].serviceId", "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui, svc_inactive);
	CASE("items[1].serviceId", "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"},{\"serviceId\":\"%s\"}]}",
	     pat_dui, svc_cons, svc_eur);
	CASE("items[0].quantity", "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":0}]}", pat_dui,
	     svc_cons);
	CASE("items[0].quantity", "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"-1\"}]}",
	     pat_dui, svc_cons);
	CASE("items[0].quantity", "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"1.2345\"}]}",
	     pat_dui, svc_cons);
	CASE("items[0].quantity", "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"two\"}]}",
	     pat_dui, svc_cons);
	CASE("items[0].discountPercent",
	     "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"discountPercent\":101}]}", pat_dui, svc_cons);
	CASE("items[0].discountPercent",
	     "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"discountPercent\":\"-1\"}]}", pat_dui, svc_cons);
	CASE("items[0].discountAmount",
	     "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"discountPercent\":5,\"discountAmount\":1}]}",
	     pat_dui, svc_cons);
	CASE("items[0].discountAmount",
	     "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"discountAmount\":\"-1\"}]}", pat_dui, svc_cons);
	CASE("items[0].discountAmount",
	     "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"discountAmount\":\"1.005\"}]}", pat_dui,
	     svc_cons);
	CASE("items[0].discountAmount",
	     "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"discountAmount\":\"35.01\"}]}", pat_dui,
	     svc_cons);
	CASE("items[0].price", "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"price\":\"1.00\"}]}", pat_dui,
	     svc_cons);
	CASE("total", "{\"patientId\":\"%s\",\"total\":\"1.00\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui,
	     svc_cons);
	CASE("dueDate", "{\"patientId\":\"%s\",\"dueDate\":\"2025-13-01\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui,
	     svc_cons);
	CASE("dueDate", "{\"patientId\":\"%s\",\"dueDate\":\"2000-01-01\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui,
	     svc_cons);
	CASE("notes", "{\"patientId\":\"%s\",\"notes\":7,\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui, svc_cons);
	CASE("taxDocument", "{\"patientId\":\"%s\",\"taxDocument\":\"01\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui,
	     svc_cons);
	CASE("taxDocument.required", "{\"patientId\":\"%s\",\"taxDocument\":{},\"items\":[{\"serviceId\":\"%s\"}]}",
	     pat_dui, svc_cons);
	CASE("taxDocument.type",
	     "{\"patientId\":\"%s\",\"taxDocument\":{\"required\":true,\"type\":\"02\"},\"items\":[{\"serviceId\":\"%"
	     "s\"}]}",
	     pat_dui, svc_cons);
#undef CASE
	before = orders_total();
	audit_before = audit_total("order");
	for (size_t i = 0; i < n; i++) {
		struct api_resp *r = api_req("POST", "/api/orders", api_admin_token(), buf[i], NULL);

		if (r->status != 400)
			fail_msg("case %zu (%s): HTTP %ld: %.300s", i, fields[i], r->status, r->body);
		expect_error(r, 400, "VALIDATION_ERROR", fields[i]);
		api_resp_free(r);
	}

	/* more than 200 items */
	{
		size_t cap = 300 * 64 + 256, len;
		char *big = malloc(cap);
		struct api_resp *r;

		len = (size_t)snprintf(big, cap, "{\"patientId\":\"%s\",\"items\":[", pat_dui);
		for (int i = 0; i < 201; i++)
			len +=
			    (size_t)snprintf(big + len, cap - len, "%s{\"serviceId\":\"%s\"}", i ? "," : "", svc_cons);
		snprintf(big + len, cap - len, "]}");
		r = api_req("POST", "/api/orders", api_admin_token(), big, NULL);
		expect_error(r, 400, "VALIDATION_ERROR", "items");
		api_resp_free(r);
		free(big);
	}
	/* not JSON, empty body */
	struct api_resp *r = api_req("POST", "/api/orders", api_admin_token(), "{nope", NULL);
	expect_error(r, 400, NULL, NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/orders", api_admin_token(), NULL, NULL);
	expect_error(r, 400, NULL, NULL);
	api_resp_free(r);

	assert_int_equal(orders_total(), before);
	assert_int_equal(audit_total("order"), audit_before);
}

static void test_auth_and_roles(void **state)
{
	char *doctor = api_user_token("demo", "doctor", NULL);
	char *recep = api_user_token("demo", "receptionist", NULL);
	char *acct = api_user_token("demo", "accountant", NULL);
	char *pharm = api_user_token("demo", "pharmacist", NULL);
	char body[512], *id;
	struct api_resp *r;

	(void)state;
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui, svc_cons);
	id = simple_order(pat_dui, "1");

	/* no token / bad token */
	r = api_req("POST", "/api/orders", NULL, body, NULL);
	expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/orders", "not-a-token", NULL, NULL);
	expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("GET", path("/api/orders/%s", id), NULL, NULL, NULL);
	expect_error(r, 401, NULL, NULL);
	api_resp_free(r);
	r = api_req("GET", path("/api/patients/%s/billing-history", pat_dui), NULL, NULL, NULL);
	expect_error(r, 401, NULL, NULL);
	api_resp_free(r);

	/* a doctor reads orders but does not create them */
	long long before = orders_total();
	r = api_req("POST", "/api/orders", doctor, body, NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	assert_int_equal(orders_total(), before);
	r = api_req("GET", "/api/orders", doctor, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	/* a receptionist creates, but neither updates nor cancels */
	r = create_order_as(recep, body);
	api_resp_free(r);
	r = api_req("PUT", path("/api/orders/%s", id), recep, "{\"notes\":\"x\"}", NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/orders/%s", id), recep, NULL, NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	/* an accountant reads orders and billing history only */
	r = api_req("POST", "/api/orders", acct, body, NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("PUT", path("/api/orders/%s", id), acct, "{\"notes\":\"x\"}", NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", path("/api/orders/%s", id), acct, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("GET", path("/api/patients/%s/billing-history", pat_dui), acct, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	/* a pharmacist has no billing permission at all */
	r = api_req("GET", "/api/orders", pharm, NULL, NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", path("/api/patients/%s/billing-history", pat_dui), pharm, NULL, NULL);
	expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	/* still pending: nothing changed it */
	r = api_req("GET", path("/api/orders/%s", id), api_admin_token(), NULL, NULL);
	assert_string_equal(api_str(r, "data.status"), "pending_payment");
	assert_true(json_is_null(api_path(r, "data.notes")));
	api_resp_free(r);
	free(id);
	free(doctor);
	free(recep);
	free(acct);
	free(pharm);
}

static void test_tenant_isolation(void **state)
{
	char *other = api_user_token("other", "admin", NULL);
	char *id = simple_order(pat_dui, "1");
	char *other_svc = make_service(other, "OTHER-1", "10.00", "taxable", NULL);
	char *other_pat = make_patient(other, "Otra", NULL);
	char body[512];
	struct api_resp *r;

	(void)state;
	r = api_req("GET", path("/api/orders/%s", id), other, NULL, NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("PUT", path("/api/orders/%s", id), other, "{\"notes\":\"mine\"}", NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/orders/%s", id), other, "{\"reason\":\"mine\"}", NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	assert_int_equal(total_of("/api/orders?limit=1", other), 0);
	r = api_req("GET", path("/api/patients/%s/billing-history", pat_dui), other, NULL, NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	/* another tenant's patient or service cannot go on an order */
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui, other_svc);
	r = api_req("POST", "/api/orders", other, body, NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "patientId");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", other_pat, svc_cons);
	r = api_req("POST", "/api/orders", other, body, NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "items[0].serviceId");
	api_resp_free(r);
	/* its own order works, and the demo tenant does not see it */
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", other_pat, other_svc);
	r = create_order_as(other, body);
	struct api_resp *g =
	    api_req("GET", path("/api/orders/%s", api_str(r, "data.id")), api_admin_token(), NULL, NULL);
	expect_error(g, 404, "NOT_FOUND", NULL);
	api_resp_free(g);
	api_resp_free(r);
	/* untouched */
	r = api_req("GET", path("/api/orders/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.status"), "pending_payment");
	assert_true(json_is_null(api_path(r, "data.notes")));
	api_resp_free(r);
	/* ids that are not UUIDs are simply not found */
	r = api_req("GET", "/api/orders/not-a-uuid", api_admin_token(), NULL, NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(id);
	free(other);
	free(other_svc);
	free(other_pat);
}

static void test_list_filters(void **state)
{
	char *pat = make_patient(api_admin_token(), "Lista", NULL);
	char *ids[5], p[512], number[32], date[16];
	struct api_resp *r;

	(void)state;
	for (int i = 0; i < 5; i++)
		ids[i] = simple_order(pat, "1");
	r = api_req("GET", path("/api/orders/%s", ids[2]), api_admin_token(), NULL, NULL);
	snprintf(number, sizeof(number), "%s", api_str(r, "data.orderNumber"));
	snprintf(date, sizeof(date), "%s", api_str(r, "data.invoiceDate"));
	api_resp_free(r);
	pay(ids[0], "10.00");
	r = api_req("DELETE", path("/api/orders/%s", ids[1]), api_admin_token(), "{\"reason\":\"duplicate\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);

	snprintf(p, sizeof(p), "/api/orders?patientId=%s", pat);
	assert_int_equal(total_of(p, api_admin_token()), 5);
	snprintf(p, sizeof(p), "/api/orders?patientId=%s&status=pending_payment", pat);
	assert_int_equal(total_of(p, api_admin_token()), 3);
	snprintf(p, sizeof(p), "/api/orders?patientId=%s&status=partially_paid", pat);
	assert_int_equal(total_of(p, api_admin_token()), 1);
	snprintf(p, sizeof(p), "/api/orders?patientId=%s&status=cancelled,partially_paid", pat);
	assert_int_equal(total_of(p, api_admin_token()), 2);
	snprintf(p, sizeof(p), "/api/orders?patientId=%s&from=%s&to=%s", pat, date, date);
	assert_int_equal(total_of(p, api_admin_token()), 5);
	snprintf(p, sizeof(p), "/api/orders?patientId=%s&from=2000-01-01&to=2000-12-31", pat);
	assert_int_equal(total_of(p, api_admin_token()), 0);
	snprintf(p, sizeof(p), "/api/orders?search=%s", number);
	assert_int_equal(total_of(p, api_admin_token()), 1);
	snprintf(p, sizeof(p), "/api/orders?patientId=%s&search=%.12s", pat, number); /* "INV-YYYYMMDD" */
	assert_int_equal(total_of(p, api_admin_token()), 5);
	assert_int_equal(total_of("/api/orders?search=INV-19990101", api_admin_token()), 0);

	/* newest first, pages of 2 */
	snprintf(p, sizeof(p), "/api/orders?patientId=%s&limit=2&page=3", pat);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 1);
	assert_int_equal(api_int(r, "pagination.page"), 3);
	assert_int_equal(api_int(r, "pagination.limit"), 2);
	assert_int_equal(api_int(r, "pagination.total"), 5);
	assert_int_equal(api_int(r, "pagination.totalPages"), 3);
	assert_string_equal(api_str(r, "data.0.id"), ids[0]);
	assert_string_equal(api_str(r, "data.0.patient.firstName"), "Lista");
	assert_string_equal(api_str(r, "data.0.status"), "partially_paid");
	assert_string_equal(api_str(r, "data.0.paid"), "10.00");
	api_resp_free(r);
	snprintf(p, sizeof(p), "/api/orders?patientId=%s&limit=2", pat);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_string_equal(api_str(r, "data.0.id"), ids[4]);
	assert_string_equal(api_str(r, "data.1.id"), ids[3]);
	api_resp_free(r);

	/* bad filters name themselves */
	static const struct {
		const char *query, *field;
	} bad[] = {
	    {"status=open", "status"},	 {"status=", "status"},	  {"patientId=42", "patientId"},
	    {"from=2025-02-30", "from"}, {"to=yesterday", "to"},  {"from=2025-02-01&to=2025-01-01", "to"},
	    {"page=0", "page"},		 {"limit=1000", "limit"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(p, sizeof(p), "/api/orders?%s", bad[i].query);
		r = api_req("GET", p, api_admin_token(), NULL, NULL);
		expect_error(r, 400, "VALIDATION_ERROR", bad[i].field);
		api_resp_free(r);
	}
	for (int i = 0; i < 5; i++)
		free(ids[i]);
	free(pat);
}

static void test_update(void **state)
{
	char *id = simple_order(pat_dui, "1");
	char body[768];
	struct api_resp *r;
	long long audit_before;

	(void)state;
	r = api_req("PUT", path("/api/orders/%s", id), api_admin_token(),
		    "{\"notes\":\"pay on Friday\",\"dueDate\":\"2099-02-28\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.notes"), "pay on Friday");
	assert_string_equal(api_str(r, "data.dueDate"), "2099-02-28");
	assert_string_equal(api_str(r, "data.total"), "35.00");
	api_resp_free(r);

	/* replace the items: totals recomputed, lines renumbered */
	snprintf(body, sizeof(body),
		 "{\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"3\"},{\"serviceId\":\"%s\",\"discountAmount\":\"0."
		 "50\"}]}",
		 svc_lab, svc_cons);
	r = api_req("PUT", path("/api/orders/%s", id), api_admin_token(), body, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data.items")), 2);
	assert_int_equal(api_int(r, "data.items.1.lineNumber"), 2);
	assert_string_equal(api_str(r, "data.items.0.code"), "LAB-CBC");
	assert_string_equal(api_str(r, "data.items.0.total"), "37.50");
	assert_string_equal(api_str(r, "data.items.1.total"), "34.50");
	assert_string_equal(api_str(r, "data.total"), "72.00");
	assert_string_equal(api_str(r, "data.balance"), "72.00");
	assert_string_equal(api_str(r, "data.notes"), "pay on Friday");
	api_resp_free(r);

	/* tax document added, then refused for a patient without an NRC */
	r = api_req("PUT", path("/api/orders/%s", id), api_admin_token(), "{\"taxDocument\":{\"required\":true}}",
		    NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.taxDocument.type"), "01");
	api_resp_free(r);
	r = api_req("GET", path("/api/orders/%s", id), api_admin_token(), NULL, NULL);
	assert_string_equal(api_str(r, "data.taxDocument.type"), "01"); /* stored */
	api_resp_free(r);
	r = api_req("PUT", path("/api/orders/%s", id), api_admin_token(),
		    "{\"taxDocument\":{\"required\":true,\"type\":\"03\"}}", NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "patientId");
	api_resp_free(r);

	/* validation: nothing changes */
	audit_before = audit_total("order");
	static const struct {
		const char *body, *field;
	} bad[] = {
	    {"{\"items\":[]}", "items"},
	    {"{\"dueDate\":\"someday\"}", "dueDate"},
	    {"{\"status\":\"paid\"}", "status"},
	    {"{\"total\":\"1.00\"}", "total"},
	    {"{\"items\":[{\"serviceId\":\"00000000-0000-4000-8000-000000000000\"}]}", "items[0].serviceId"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = api_req("PUT", path("/api/orders/%s", id), api_admin_token(), bad[i].body, NULL);
		expect_error(r, 400, "VALIDATION_ERROR", bad[i].field);
		api_resp_free(r);
	}
	snprintf(body, sizeof(body), "{\"items\":[{\"serviceId\":\"%s\"}]}", svc_eur);
	r = api_req("PUT", path("/api/orders/%s", id), api_admin_token(), body, NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "items[0].serviceId");
	api_resp_free(r);
	assert_int_equal(audit_total("order"), audit_before);
	r = api_req("GET", path("/api/orders/%s", id), api_admin_token(), NULL, NULL);
	assert_string_equal(api_str(r, "data.total"), "72.00");
	assert_string_equal(api_str(r, "data.dueDate"), "2099-02-28");
	api_resp_free(r);

	/* once a payment is confirmed the items are fixed (409), the notes are not */
	pay(id, "10.00");
	snprintf(body, sizeof(body), "{\"items\":[{\"serviceId\":\"%s\"}]}", svc_cons);
	r = api_req("PUT", path("/api/orders/%s", id), api_admin_token(), body, NULL);
	expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "partially_paid"));
	api_resp_free(r);
	r = api_req("PUT", path("/api/orders/%s", id), api_admin_token(), "{\"notes\":\"deposit taken\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.notes"), "deposit taken");
	assert_string_equal(api_str(r, "data.total"), "72.00");
	api_resp_free(r);

	/* unknown and malformed ids */
	r = api_req("PUT", "/api/orders/00000000-0000-4000-8000-000000000000", api_admin_token(), "{\"notes\":\"x\"}",
		    NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(id);
}

static void test_cancel(void **state)
{
	char *a = simple_order(pat_dui, "1"), *b = simple_order(pat_dui, "1"), *c = simple_order(pat_dui, "1");
	struct api_resp *r;
	long long audit_before = audit_total("order");

	(void)state;
	r = api_req("DELETE", path("/api/orders/%s", a), api_admin_token(), "{\"reason\":\"patient left\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.status"), "cancelled");
	assert_string_equal(api_str(r, "data.cancelReason"), "patient left");
	assert_non_null(api_str(r, "data.cancelledAt"));
	api_resp_free(r);
	assert_int_equal(audit_total("order"), audit_before + 1);

	/* again: 409 naming the state */
	r = api_req("DELETE", path("/api/orders/%s", a), api_admin_token(), "{\"reason\":\"again\"}", NULL);
	expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "cancelled"));
	api_resp_free(r);
	/* a cancelled order takes neither edits of its items nor payments */
	char body[256];
	snprintf(body, sizeof(body), "{\"items\":[{\"serviceId\":\"%s\"}]}", svc_cons);
	r = api_req("PUT", path("/api/orders/%s", a), api_admin_token(), body, NULL);
	expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"1.00\"}", a);
	r = api_req("POST", "/api/payments", api_admin_token(), body, NULL);
	expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);

	/* no body: a default reason */
	r = api_req("DELETE", path("/api/orders/%s", b), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.status"), "cancelled");
	assert_non_null(api_str(r, "data.cancelReason"));
	api_resp_free(r);
	/* a bad body is still checked */
	r = api_req("DELETE", path("/api/orders/%s", c), api_admin_token(), "{\"why\":\"x\"}", NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "why");
	api_resp_free(r);

	/* with a confirmed payment: refund instead */
	pay(c, "35.00");
	r = api_req("DELETE", path("/api/orders/%s", c), api_admin_token(), "{\"reason\":\"changed mind\"}", NULL);
	expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "refund"));
	api_resp_free(r);
	r = api_req("GET", path("/api/orders/%s", c), api_admin_token(), NULL, NULL);
	assert_string_equal(api_str(r, "data.status"), "paid");
	assert_string_equal(api_str(r, "data.balance"), "0.00");
	api_resp_free(r);
	free(a);
	free(b);
	free(c);
}

static void test_idempotent_create(void **state)
{
	char body[512];
	struct api_resp *a, *b, *c;
	long long before = orders_total();

	(void)state;
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui, svc_cons);
	a = api_req("POST", "/api/orders", api_admin_token(), body, "Idempotency-Key: order-key-1", NULL);
	assert_status(a, 201);
	b = api_req("POST", "/api/orders", api_admin_token(), body, "Idempotency-Key: order-key-1", NULL);
	assert_status(b, 201);
	assert_string_equal(api_str(a, "data.id"), api_str(b, "data.id"));
	assert_string_equal(api_str(a, "data.orderNumber"), api_str(b, "data.orderNumber"));
	assert_non_null(strstr(b->headers, "Idempotent-Replayed: true"));
	assert_int_equal(orders_total(), before + 1);
	/* the same key on another body is refused */
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", pat_dui, svc_lab);
	c = api_req("POST", "/api/orders", api_admin_token(), body, "Idempotency-Key: order-key-1", NULL);
	expect_error(c, 409, "IDEMPOTENCY_KEY_REUSED", NULL);
	assert_int_equal(orders_total(), before + 1);
	api_resp_free(a);
	api_resp_free(b);
	api_resp_free(c);
}

static void test_audit_trail(void **state)
{
	char *id = simple_order(pat_dui, "1"), p[256];
	struct api_resp *r;

	(void)state;
	r = api_req("PUT", path("/api/orders/%s", id), api_admin_token(), "{\"notes\":\"audited\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/orders/%s", id), api_admin_token(), "{\"reason\":\"audit test\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	snprintf(p, sizeof(p), "/api/audit-logs?entity=order&entityId=%s&limit=10", id);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 3);
	assert_non_null(strstr(r->body, "\"order.create\""));
	assert_non_null(strstr(r->body, "\"order.update\""));
	assert_non_null(strstr(r->body, "\"order.cancel\""));
	assert_non_null(strstr(r->body, "audit test"));
	assert_null(strstr(r->body, "Ordenes")); /* no patient names in the trail */
	api_resp_free(r);
	free(id);
}

static void test_billing_history(void **state)
{
	char *pat = make_patient(api_admin_token(), "Historia", NULL), body[512], p[256];
	char *o1, *o2, *o3, *inv;
	struct api_resp *r;

	(void)state;
	o1 = simple_order(pat, "2"); /* 70.00, paid 30.00 */
	pay(o1, "30.00");
	o2 = simple_order(pat, "1"); /* 35.00, cancelled: not counted */
	r = api_req("DELETE", path("/api/orders/%s", o2), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", pat, svc_eur);
	r = create_order_as(api_admin_token(), body); /* 20.00 EUR */
	o3 = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	/* an invoice of the billing-service contract for the same patient */
	snprintf(body, sizeof(body),
		 "{\"patientId\":\"%s\",\"currency\":\"USD\",\"lineItems\":[{\"itemType\":\"lab_test\","
		 "\"itemName\":\"Hemograma\",\"quantity\":1,\"unitPrice\":10.00}]}",
		 pat);
	r = api_req("POST", "/api/v1/invoices", api_admin_token(), body, NULL);
	assert_status(r, 201);
	inv = strdup(api_str(r, "data.id"));
	api_resp_free(r);

	r = api_req("GET", path("/api/patients/%s/billing-history", pat), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.patientId"), pat);
	assert_int_equal(json_array_size(api_path(r, "data.documents")), 4);
	assert_int_equal(api_int(r, "pagination.total"), 4);
	/* newest first */
	assert_string_equal(api_str(r, "data.documents.0.id"), inv);
	assert_string_equal(api_str(r, "data.documents.0.source"), "invoice");
	assert_string_equal(api_str(r, "data.documents.0.status"), "pending_payment");
	assert_string_equal(api_str(r, "data.documents.1.id"), o3);
	assert_string_equal(api_str(r, "data.documents.1.currency"), "EUR");
	assert_string_equal(api_str(r, "data.documents.2.status"), "cancelled");
	assert_string_equal(api_str(r, "data.documents.3.id"), o1);
	assert_string_equal(api_str(r, "data.documents.3.source"), "order");
	assert_string_equal(api_str(r, "data.documents.3.status"), "partially_paid");
	assert_string_equal(api_str(r, "data.documents.3.total"), "70.00");
	assert_string_equal(api_str(r, "data.documents.3.paid"), "30.00");
	assert_string_equal(api_str(r, "data.documents.3.balance"), "40.00");
	assert_true(number_shape(api_str(r, "data.documents.3.number")));
	/* per-currency totals, cancelled documents left out */
	assert_int_equal(json_array_size(api_path(r, "data.totals")), 2);
	assert_string_equal(api_str(r, "data.totals.0.currency"), "EUR");
	assert_string_equal(api_str(r, "data.totals.0.billed"), "20.00");
	assert_string_equal(api_str(r, "data.totals.0.paid"), "0.00");
	assert_string_equal(api_str(r, "data.totals.0.balance"), "20.00");
	assert_string_equal(api_str(r, "data.totals.1.currency"), "USD");
	assert_string_equal(api_str(r, "data.totals.1.billed"), "80.00");
	assert_string_equal(api_str(r, "data.totals.1.paid"), "30.00");
	assert_string_equal(api_str(r, "data.totals.1.balance"), "50.00");
	api_resp_free(r);

	/* pages; the totals stay those of every document */
	snprintf(p, sizeof(p), "/api/patients/%s/billing-history?limit=3&page=2", pat);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data.documents")), 1);
	assert_string_equal(api_str(r, "data.documents.0.id"), o1);
	assert_int_equal(api_int(r, "pagination.totalPages"), 2);
	assert_string_equal(api_str(r, "data.totals.1.billed"), "80.00");
	api_resp_free(r);
	snprintf(p, sizeof(p), "/api/patients/%s/billing-history?limit=500", pat);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "limit");
	api_resp_free(r);

	/* a patient without documents; unknown patients */
	r = api_req("GET", path("/api/patients/%s/billing-history", pat_passport), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data.documents")), 0);
	assert_int_equal(json_array_size(api_path(r, "data.totals")), 0);
	api_resp_free(r);
	r = api_req("GET", "/api/patients/00000000-0000-4000-8000-000000000000/billing-history", api_admin_token(),
		    NULL, NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/patients/xyz/billing-history", api_admin_token(), NULL, NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(pat);
	free(o1);
	free(o2);
	free(o3);
	free(inv);
}

static void test_delete_patient_with_history(void **state)
{
	char *with = make_patient(api_admin_token(), "Con", NULL),
	     *without = make_patient(api_admin_token(), "Sin", NULL);
	char *id = simple_order(with, "1");
	struct api_resp *r;

	(void)state;
	r = api_req("DELETE", path("/api/patients/%s", with), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_false(api_path(r, "data.deleted")));
	api_resp_free(r);
	r = api_req("GET", path("/api/patients/%s", with), api_admin_token(), NULL, NULL);
	assert_status(r, 200); /* kept, inactive */
	assert_true(json_is_false(api_path(r, "data.active")));
	api_resp_free(r);
	/* the order still shows its patient; no new order for an inactive patient */
	r = api_req("GET", path("/api/orders/%s", id), api_admin_token(), NULL, NULL);
	assert_string_equal(api_str(r, "data.patient.firstName"), "Con");
	api_resp_free(r);
	char body[256];
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", with, svc_cons);
	r = api_req("POST", "/api/orders", api_admin_token(), body, NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "patientId");
	api_resp_free(r);
	/* the history stays readable */
	r = api_req("GET", path("/api/patients/%s/billing-history", with), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data.documents")), 1);
	api_resp_free(r);
	/* a patient without history is deleted for good */
	r = api_req("DELETE", path("/api/patients/%s", without), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "data.deleted")));
	api_resp_free(r);
	r = api_req("GET", path("/api/patients/%s", without), api_admin_token(), NULL, NULL);
	expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(with);
	free(without);
	free(id);
}

/* A Dominican clinic: DOP, prices before ITBIS-style tax, RNC / cedula. */
static void test_dominican_tenant(void **state)
{
	char *admin = api_user_token("dr-clinic", "admin", NULL);
	char *svc, *cedula, *rnc, body[512];
	struct api_resp *r;

	(void)state;
	r = api_req("PUT", "/api/v1/tenant", admin,
		    "{\"country\":\"DO\",\"currency\":\"DOP\",\"timeZone\":\"America/Santo_Domingo\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	svc = make_service(admin, "CONS-DO", "1000.00", "taxable", NULL);
	cedula = make_patient(admin, "Juan", "\"documentType\":\"CEDULA\",\"documentNumber\":\"001-1391820-5\"");
	rnc = make_patient(admin, "Empresa", "\"documentType\":\"RNC\",\"documentNumber\":\"1-01-85004-3\"");

	snprintf(body, sizeof(body),
		 "{\"patientId\":\"%s\",\"taxDocument\":{\"required\":true,\"type\":\"01\"},\"items\":[{\"serviceId\":"
		 "\"%s\"}]}",
		 cedula, svc);
	r = create_order_as(admin, body);
	assert_string_equal(api_str(r, "data.currency"), "DOP");
	assert_true(json_is_false(api_path(r, "data.pricesIncludeTax")));
	assert_string_equal(api_str(r, "data.items.0.tax"), "130.00");
	assert_string_equal(api_str(r, "data.subtotal"), "1000.00");
	assert_string_equal(api_str(r, "data.tax"), "130.00");
	assert_string_equal(api_str(r, "data.total"), "1130.00");
	api_resp_free(r);
	/* a crédito fiscal needs an RNC */
	snprintf(body, sizeof(body),
		 "{\"patientId\":\"%s\",\"taxDocument\":{\"required\":true,\"type\":\"03\"},\"items\":[{\"serviceId\":"
		 "\"%s\"}]}",
		 cedula, svc);
	r = api_req("POST", "/api/orders", admin, body, NULL);
	expect_error(r, 400, "VALIDATION_ERROR", "patientId");
	assert_non_null(strstr(api_str(r, "error.message"), "RNC"));
	api_resp_free(r);
	snprintf(body, sizeof(body),
		 "{\"patientId\":\"%s\",\"taxDocument\":{\"required\":true,\"type\":\"03\"},\"items\":[{\"serviceId\":"
		 "\"%s\"}]}",
		 rnc, svc);
	r = create_order_as(admin, body);
	assert_string_equal(api_str(r, "data.taxDocument.type"), "03");
	api_resp_free(r);
	free(admin);
	free(svc);
	free(cedula);
	free(rnc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_and_get),
	    cmocka_unit_test(test_price_copied_at_sale),
	    cmocka_unit_test(test_tax_documents),
	    cmocka_unit_test(test_validation_errors),
	    cmocka_unit_test(test_auth_and_roles),
	    cmocka_unit_test(test_tenant_isolation),
	    cmocka_unit_test(test_list_filters),
	    cmocka_unit_test(test_update),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_idempotent_create),
	    cmocka_unit_test(test_audit_trail),
	    cmocka_unit_test(test_billing_history),
	    cmocka_unit_test(test_delete_patient_with_history),
	    cmocka_unit_test(test_dominican_tenant),
	};
	return cmocka_run_group_tests_name("api_orders", tests, setup, teardown);
}
