/*
 * test_invoices.c - API tests of the billing-service contract's invoices
 * (/api/v1/invoices) and payment webhooks (/api/v1/webhooks/...) against the
 * real binary, on whichever database the harness runs: the spec's example
 * (230.00 in SDG), rounding through the API (tax-exclusive / inclusive,
 * discounts, catalog lines, JPY and KWD), every validation error (400
 * naming the field, nothing written), 401 / 403 / cross-tenant 404,
 * Idempotency-Key replay, every list filter and pagination, update and the
 * status machine (409 naming the current state), cancel with reason,
 * statistics with the contract's keys, the overdue job applying the late
 * fee once, the signed webhooks (good, bad, stale, replayed, unknown
 * invoice, wrong scale; 503 without a secret in a second server) and the
 * audit trail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "harness.h"

#define SECRET "whsec_gateway_test_secret"

static char pbuf[512];

static const char *path(const char *fmt, const char *id)
{
	snprintf(pbuf, sizeof(pbuf), fmt, id);
	return pbuf;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static double num(const struct api_resp *r, const char *p)
{
	json_t *v = api_path(r, p);

	if (!json_is_number(v))
		fail_msg("%s is not a JSON number in %.300s", p, r->body);
	return json_number_value(v);
}

#define assert_num(r, p, want)                                                                                         \
	do {                                                                                                           \
		double got_ = num((r), (p));                                                                           \
		if (got_ != (double)(want))                                                                            \
			fail_msg("%s = %.10g, want %.10g", (p), got_, (double)(want));                                 \
	} while (0)

static long long docs_count(void)
{
	return api_sql_int("SELECT COUNT(*) FROM billing_documents");
}

/* POST an invoice as token; expect 201; returns the response (owned). */
static struct api_resp *create_ok(const char *token, const char *body)
{
	struct api_resp *r = api_req("POST", "/api/v1/invoices", token, body, NULL);

	assert_status(r, 201);
	assert_true(json_is_true(api_path(r, "success")));
	return r;
}

/* Create an invoice and return its id (owned). */
static char *create_id(const char *body)
{
	struct api_resp *r = create_ok(api_admin_token(), body);
	char *id = strdup(api_str(r, "data.id"));

	api_resp_free(r);
	return id;
}

static char *make_patient(void)
{
	struct api_resp *r = api_req(
	    "POST", "/api/patients", api_admin_token(),
	    "{\"firstName\":\"Amal\",\"lastName\":\"Osman\",\"dateOfBirth\":\"1980-02-03\",\"sex\":\"female\"}", NULL);
	char *id;

	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

static bool number_shape(const char *n)
{
	/* INV-YYYYMMDD-NNNNNN */
	if (!n || strlen(n) != 19 || strncmp(n, "INV-", 4) != 0 || n[12] != '-')
		return false;
	for (int i = 4; i < 19; i++)
		if (i != 12 && (n[i] < '0' || n[i] > '9'))
			return false;
	return true;
}

/* ---- webhooks ---- */

/* POST a signed webhook; ts_offset shifts the timestamp; bad != 0 signs with
 * a wrong secret. */
static struct api_resp *webhook(const char *kind, const char *body, long ts_offset, int bad)
{
	char sig[2 * SHA256_LEN + 1], header[256], p[128], *msg;
	long long t = (long long)time(NULL) + ts_offset;
	const char *secret = bad ? "not-the-secret" : SECRET;
	size_t n;

	n = (size_t)snprintf(NULL, 0, "%lld.%s", t, body) + 1;
	msg = malloc(n);
	snprintf(msg, n, "%lld.%s", t, body);
	crypto_hmac_sha256_hex(secret, strlen(secret), msg, strlen(msg), sig);
	free(msg);
	snprintf(header, sizeof(header), "X-Webhook-Signature: t=%lld,v1=%s", t, sig);
	snprintf(p, sizeof(p), "/api/v1/webhooks/%s", kind);
	return api_req("POST", p, NULL, body, header, NULL);
}

static struct api_resp *confirm_payment(const char *invoice, const char *payment, const char *amount)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"invoiceId\":\"%s\",\"paymentId\":\"%s\",\"amount\":%s,\"paymentGatewayReference\":\"PAY-%s\","
		 "\"paymentMethod\":\"zain_cash\"}",
		 invoice, payment, amount, payment);
	return webhook("payment-confirmed", body, 0, 0);
}

static void confirm_ok(const char *invoice, const char *payment, const char *amount)
{
	struct api_resp *r = confirm_payment(invoice, payment, amount);

	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "success")));
	assert_string_equal(api_str(r, "message"), "Payment confirmation received and processed");
	api_resp_free(r);
}

static struct api_resp *get_invoice(const char *id)
{
	struct api_resp *r = api_req("GET", path("/api/v1/invoices/%s", id), api_admin_token(), NULL, NULL);

	assert_status(r, 200);
	return r;
}

/* ---- tests ---- */

static const char SPEC_LINES[] =
    "\"lineItems\":[{\"itemType\":\"consultation\",\"itemName\":\"General Consultation\",\"itemCode\":\"CONS-GEN\","
    "\"procedureCode\":\"99213\",\"quantity\":1,\"unitPrice\":150.00,\"unitOfMeasure\":\"each\","
    "\"discountPercent\":0,\"taxPercent\":0,\"serviceDate\":\"2025-10-14\","
    "\"serviceProviderId\":\"doctor-uuid\",\"diagnosisCodes\":[\"Z00.00\"]},"
    "{\"itemType\":\"lab_test\",\"itemName\":\"Complete Blood Count\",\"itemCode\":\"LAB-CBC\","
    "\"procedureCode\":\"85025\",\"quantity\":1,\"unitPrice\":80.00,\"serviceDate\":\"2025-10-14\"}]";

static void test_create_spec_example(void **state)
{
	char body[2048], *patient = make_patient();
	struct api_resp *r, *g;

	(void)state;
	snprintf(body, sizeof(body),
		 "{\"patientId\":\"%s\",\"facilityId\":\"0f0f0f0f-0000-4000-8000-000000000001\","
		 "\"invoiceType\":\"consultation\",\"invoiceDate\":\"2025-10-14\",\"dueDate\":\"2025-11-14\","
		 "\"paymentTerms\":\"Net 30\",\"gracePeriodDays\":7,\"lateFeePercentage\":2.0,\"currency\":\"SDG\","
		 "\"description\":\"Medical consultation and lab tests\",%s}",
		 patient, SPEC_LINES);
	r = create_ok(api_admin_token(), body);
	assert_true(number_shape(api_str(r, "data.invoiceNumber")));
	assert_string_equal(api_str(r, "data.patientId"), patient);
	assert_string_equal(api_str(r, "data.facilityId"), "0f0f0f0f-0000-4000-8000-000000000001");
	assert_string_equal(api_str(r, "data.invoiceType"), "consultation");
	assert_num(r, "data.subtotal", 230);
	assert_num(r, "data.taxAmount", 0);
	assert_num(r, "data.discountAmount", 0);
	assert_num(r, "data.totalAmount", 230);
	assert_num(r, "data.paidAmount", 0);
	assert_num(r, "data.balanceDue", 230);
	assert_string_equal(api_str(r, "data.currency"), "SDG");
	assert_string_equal(api_str(r, "data.status"), "pending");
	assert_string_equal(api_str(r, "data.invoiceDate"), "2025-10-14");
	assert_string_equal(api_str(r, "data.dueDate"), "2025-11-14");
	assert_num(r, "data.lateFeePercentage", 2);
	assert_int_equal(api_int(r, "data.gracePeriodDays"), 7);
	assert_int_equal(json_array_size(api_path(r, "data.lineItems")), 2);
	assert_int_equal(json_array_size(api_path(r, "data.payments")), 0);
	assert_non_null(api_str(r, "data.createdAt"));

	g = get_invoice(api_str(r, "data.id"));
	assert_string_equal(api_str(g, "data.invoiceNumber"), api_str(r, "data.invoiceNumber"));
	assert_int_equal(api_int(g, "data.lineItems.0.lineNumber"), 1);
	assert_string_equal(api_str(g, "data.lineItems.0.itemName"), "General Consultation");
	assert_int_equal(api_int(g, "data.lineItems.0.quantity"), 1);
	assert_num(g, "data.lineItems.0.unitPrice", 150);
	assert_num(g, "data.lineItems.0.lineTotal", 150);
	assert_num(g, "data.lineItems.1.lineTotal", 80);
	assert_string_equal(api_str(g, "data.lineItems.0.diagnosisCodes.0"), "Z00.00");
	assert_string_equal(api_str(g, "data.lineItems.0.procedureCode"), "99213");
	assert_true(json_is_array(api_path(g, "data.payments")));
	/* the exact text of amounts: 230.0, never 229.99999 */
	assert_non_null(strstr(g->body, "\"totalAmount\": 230.0") ? g->body : strstr(g->body, "\"totalAmount\":230.0"));
	api_resp_free(g);
	api_resp_free(r);
	free(patient);

	/* the Testing Examples' minimal body */
	r = create_ok(api_admin_token(),
		      "{\"patientId\":null,\"facilityId\":\"0f0f0f0f-0000-4000-8000-000000000001\","
		      "\"invoiceType\":\"consultation\",\"invoiceDate\":\"2025-10-14\",\"dueDate\":\"2025-11-14\","
		      "\"lineItems\":[{\"itemType\":\"consultation\",\"itemName\":\"General Consultation\","
		      "\"quantity\":1,\"unitPrice\":150.00}]}");
	assert_num(r, "data.totalAmount", 150);
	assert_string_equal(api_str(r, "data.currency"), "USD"); /* the demo tenant's */
	api_resp_free(r);
}

static void test_rounding_through_api(void **state)
{
	struct api_resp *r;
	char body[1024], *svc;

	(void)state;
	/* 2.5 x 19.99 = 49.975 -> 49.98; 10 % off = 4.998 -> 5.00; 13 % of 44.98 = 5.8474 -> 5.85 */
	r = create_ok(api_admin_token(),
		      "{\"lineItems\":[{\"itemName\":\"A\",\"quantity\":\"2.5\",\"unitPrice\":\"19.99\","
		      "\"taxPercent\":13},{\"itemName\":\"B\",\"quantity\":2.5,\"unitPrice\":19.99,"
		      "\"discountPercent\":10,\"taxPercent\":\"13\"},{\"itemName\":\"C\",\"quantity\":\"0.333\","
		      "\"unitPrice\":\"0.05\"},{\"itemName\":\"D\",\"quantity\":1,\"unitPrice\":\"15.00\","
		      "\"discountAmount\":\"1.00\",\"taxPercent\":13}]}");
	assert_num(r, "data.lineItems.0.lineTotal", 56.48);
	assert_num(r, "data.lineItems.0.taxAmount", 6.5);
	assert_num(r, "data.lineItems.1.discountAmount", 5);
	assert_num(r, "data.lineItems.1.taxAmount", 5.85);
	assert_num(r, "data.lineItems.1.lineTotal", 50.83);
	assert_num(r, "data.lineItems.2.lineTotal", 0.02);
	assert_num(r, "data.lineItems.2.quantity", 0.333);
	assert_num(r, "data.lineItems.3.lineTotal", 15.82);
	assert_num(r, "data.subtotal", 114.98);	   /* 49.98 + (44.98 + 5.00) + 0.02 + (14.00 + 1.00) */
	assert_num(r, "data.discountAmount", 6);   /* 5.00 + 1.00 */
	assert_num(r, "data.taxAmount", 14.17);	   /* 6.50 + 5.85 + 1.82 */
	assert_num(r, "data.totalAmount", 123.15); /* 56.48 + 50.83 + 0.02 + 15.82 */
	api_resp_free(r);

	/* prices include tax (Factura): 11.30 holds 1.30 of IVA */
	r = create_ok(api_admin_token(),
		      "{\"pricesIncludeTax\":true,\"lineItems\":[{\"itemName\":\"A\","
		      "\"quantity\":1,\"unitPrice\":\"11.30\",\"taxPercent\":13},"
		      "{\"itemName\":\"B\",\"quantity\":1,\"unitPrice\":\"10.00\",\"taxPercent\":13}]}");
	assert_true(json_is_true(api_path(r, "data.pricesIncludeTax")));
	assert_num(r, "data.totalAmount", 21.3);
	assert_num(r, "data.taxAmount", 2.45);
	assert_num(r, "data.subtotal", 18.85);
	assert_num(r, "data.lineItems.1.netAmount", 8.85);
	api_resp_free(r);

	/* a catalog line: price and 13 % copied */
	r = api_req("POST", "/api/services", api_admin_token(),
		    "{\"code\":\"INV-CONS\",\"name\":\"Consulta\",\"category\":\"Consultas\",\"price\":\"35.00\"}",
		    NULL);
	assert_status(r, 201);
	svc = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"lineItems\":[{\"serviceId\":\"%s\",\"quantity\":2}]}", svc);
	r = create_ok(api_admin_token(), body);
	assert_num(r, "data.lineItems.0.unitPrice", 35);
	assert_num(r, "data.lineItems.0.taxPercent", 13);
	assert_string_equal(api_str(r, "data.lineItems.0.taxTreatment"), "taxable");
	assert_string_equal(api_str(r, "data.lineItems.0.itemName"), "Consulta");
	assert_string_equal(api_str(r, "data.lineItems.0.serviceId"), svc);
	assert_num(r, "data.totalAmount", 79.1);
	api_resp_free(r);
	/* the price at the time of sale stays when the catalog changes */
	r = api_req("PUT", path("/api/services/%s", svc), api_admin_token(), "{\"price\":\"40.00\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/invoices?limit=200", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	free(svc);

	/* 0 and 3 decimals */
	r = create_ok(api_admin_token(), "{\"currency\":\"JPY\",\"lineItems\":[{\"itemName\":\"A\",\"quantity\":2.5,"
					 "\"unitPrice\":333,\"taxPercent\":10}]}");
	assert_num(r, "data.totalAmount", 916);
	assert_num(r, "data.taxAmount", 83);
	api_resp_free(r);
	r = create_ok(api_admin_token(), "{\"currency\":\"KWD\",\"lineItems\":[{\"itemName\":\"A\",\"quantity\":2.5,"
					 "\"unitPrice\":\"1.234\",\"taxPercent\":5}]}");
	assert_num(r, "data.totalAmount", 3.239);
	assert_num(r, "data.taxAmount", 0.154);
	api_resp_free(r);
	r = api_req("POST", "/api/v1/invoices", api_admin_token(),
		    "{\"currency\":\"JPY\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"1.5\"}]}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "lineItems[0].unitPrice");
	api_resp_free(r);
}

/* Each bad body: 400 naming the field, nothing written. */
static void test_validation_errors(void **state)
{
	static const struct {
		const char *body;
		const char *field;
	} cases[] = {
	    {"{}", "lineItems"},
	    {"{\"lineItems\":[]}", "lineItems"},
	    {"{\"lineItems\":{}}", "lineItems"},
	    {"{\"lineItems\":[42]}", "lineItems"},
	    {"{\"lineItems\":[{\"unitPrice\":1}]}", "lineItems[0].itemName"},
	    {"{\"lineItems\":[{\"itemName\":\"A\"}]}", "lineItems[0].unitPrice"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"1.001\"}]}", "lineItems[0].unitPrice"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"-1\"}]}", "lineItems[0].unitPrice"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"abc\"}]}", "lineItems[0].unitPrice"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1,\"quantity\":0}]}", "lineItems[0].quantity"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1,\"quantity\":\"1.0001\"}]}", "lineItems[0].quantity"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1,\"discountPercent\":150}]}",
	     "lineItems[0].discountPercent"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1,\"discountAmount\":2}]}",
	     "lineItems[0].discountAmount"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1,\"taxPercent\":-1}]}", "lineItems[0].taxPercent"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1,\"taxTreatment\":\"zero\"}]}",
	     "lineItems[0].taxTreatment"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1,\"serviceDate\":\"2025-02-30\"}]}",
	     "lineItems[0].serviceDate"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1,\"color\":\"red\"}]}", "lineItems[0].color"},
	    {"{\"lineItems\":[{\"serviceId\":\"5b1f9a3e-7c2d-4e8f-9a0b-1c2d3e4f5a6b\"}]}", "lineItems[0].serviceId"},
	    {"{\"lineItems\":[{\"serviceId\":\"nope\"}]}", "lineItems[0].serviceId"},
	    {"{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1,\"diagnosisCodes\":[\"Z0 0\"]}]}",
	     "lineItems[0].diagnosisCodes"},
	    {"{\"patientId\":\"abc\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}", "patientId"},
	    {"{\"patientId\":\"5b1f9a3e-7c2d-4e8f-9a0b-1c2d3e4f5a6b\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":"
	     "1}]}",
	     "patientId"},
	    {"{\"facilityId\":\"x\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}", "facilityId"},
	    {"{\"invoiceDate\":\"14/10/2025\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}", "invoiceDate"},
	    {"{\"invoiceDate\":\"2025-10-14\",\"dueDate\":\"2025-10-13\",\"lineItems\":[{\"itemName\":\"A\","
	     "\"unitPrice\":1}]}",
	     "dueDate"},
	    {"{\"currency\":\"XYZ\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}", "currency"},
	    {"{\"gracePeriodDays\":-1,\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}", "gracePeriodDays"},
	    {"{\"lateFeePercentage\":101,\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}", "lateFeePercentage"},
	    {"{\"status\":\"paid\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}", "status"},
	    {"{\"totalAmount\":5,\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}", "totalAmount"},
	    {"{\"invoiceType\":\"\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}", "invoiceType"},
	};
	long long before = docs_count();
	struct api_resp *r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = api_req("POST", "/api/v1/invoices", api_admin_token(), cases[i].body, NULL);
		if (r->status != 400 || !api_str(r, "error.details.field") ||
		    strcmp(api_str(r, "error.details.field"), cases[i].field) != 0)
			fail_msg("case %zu %s: HTTP %ld %.300s", i, cases[i].body, r->status, r->body);
		api_expect_error(r, 400, "VALIDATION_ERROR", cases[i].field);
		api_resp_free(r);
	}
	r = api_req("POST", "/api/v1/invoices", api_admin_token(), "{not json", NULL);
	assert_status(r, 400);
	api_resp_free(r);
	assert_int_equal(docs_count(), before);
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM billing_lines WHERE document_id NOT IN "
				     "(SELECT id FROM billing_documents)"),
			 0);
}

static void test_auth_roles_and_tenants(void **state)
{
	static const char body[] = "{\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}";
	char *id = create_id(body);
	char *doctor = api_user_token("demo", "doctor", NULL);
	char *accountant = api_user_token("demo", "accountant", NULL);
	char *reception = api_user_token("demo", "receptionist", NULL);
	char *billing = api_user_token("demo", "billing_staff", NULL);
	char *other = api_user_token("other", "admin", NULL);
	struct api_resp *r;

	(void)state;
	/* 401 without a token, on every route */
	r = api_req("POST", "/api/v1/invoices", NULL, body, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/invoices", NULL, NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/invoices/statistics", NULL, NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("GET", path("/api/v1/invoices/%s", id), NULL, NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("PUT", path("/api/v1/invoices/%s", id), NULL, "{\"internalNotes\":\"x\"}", NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/v1/invoices/%s", id), NULL, "{\"reason\":\"x\"}", NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);

	/* doctor and accountant: billing:read only */
	r = api_req("GET", path("/api/v1/invoices/%s", id), doctor, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/invoices/statistics", accountant, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("POST", "/api/v1/invoices", doctor, body, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/v1/invoices", accountant, body, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("PUT", path("/api/v1/invoices/%s", id), doctor, "{\"internalNotes\":\"x\"}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	/* receptionist: create and read, not update or cancel */
	r = api_req("POST", "/api/v1/invoices", reception, body, NULL);
	assert_status(r, 201);
	api_resp_free(r);
	r = api_req("PUT", path("/api/v1/invoices/%s", id), reception, "{\"internalNotes\":\"x\"}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/v1/invoices/%s", id), reception, "{\"reason\":\"x\"}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	/* billing staff: everything */
	r = api_req("PUT", path("/api/v1/invoices/%s", id), billing, "{\"internalNotes\":\"checked\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.internalNotes"), "checked");
	api_resp_free(r);

	/* another tenant sees nothing */
	r = api_req("GET", path("/api/v1/invoices/%s", id), other, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("PUT", path("/api/v1/invoices/%s", id), other, "{\"internalNotes\":\"x\"}", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/v1/invoices/%s", id), other, "{\"reason\":\"x\"}", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/invoices", other, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 0);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/invoices/statistics", other, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "data.total_invoices"), 0);
	api_resp_free(r);
	/* an id that is not a UUID */
	r = api_req("GET", "/api/v1/invoices/not-a-uuid", api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	/* still untouched by the other tenant */
	r = get_invoice(id);
	assert_string_equal(api_str(r, "data.status"), "pending");
	api_resp_free(r);

	free(id);
	free(doctor);
	free(accountant);
	free(reception);
	free(billing);
	free(other);
}

static void test_idempotent_replay(void **state)
{
	static const char body[] =
	    "{\"externalRef\":\"idem-inv-1\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":7}]}";
	struct api_resp *a, *b, *c;

	(void)state;
	a = api_req("POST", "/api/v1/invoices", api_admin_token(), body, "Idempotency-Key: inv-key-1", NULL);
	assert_status(a, 201);
	b = api_req("POST", "/api/v1/invoices", api_admin_token(), body, "Idempotency-Key: inv-key-1", NULL);
	assert_status(b, 201);
	assert_string_equal(api_str(a, "data.id"), api_str(b, "data.id"));
	assert_string_equal(api_str(a, "data.invoiceNumber"), api_str(b, "data.invoiceNumber"));
	assert_non_null(strstr(b->headers, "Idempotent-Replayed: true"));
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM billing_documents WHERE external_ref = 'idem-inv-1'"), 1);
	/* without the key, the duplicate externalRef is a conflict */
	c = api_req("POST", "/api/v1/invoices", api_admin_token(), body, NULL);
	api_expect_error(c, 409, "CONFLICT", "externalRef");
	api_resp_free(a);
	api_resp_free(b);
	api_resp_free(c);
}

static void test_list_filters(void **state)
{
	char body[1024], *p1 = make_patient(), *p2 = make_patient();
	const char *fac = "0f0f0f0f-0000-4000-8000-0000000000f1";
	struct api_resp *r;
	char *ids[5];

	(void)state;
	/* five invoices in facility fac */
	snprintf(body, sizeof(body),
		 "{\"facilityId\":\"%s\",\"patientId\":\"%s\",\"invoiceType\":\"consultation\","
		 "\"invoiceDate\":\"2025-01-10\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"100.00\"}]}",
		 fac, p1);
	ids[0] = create_id(body);
	snprintf(body, sizeof(body),
		 "{\"facilityId\":\"%s\",\"patientId\":\"%s\",\"invoiceType\":\"lab\","
		 "\"invoiceDate\":\"2025-02-10\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"250.50\"}]}",
		 fac, p1);
	ids[1] = create_id(body);
	snprintf(body, sizeof(body),
		 "{\"facilityId\":\"%s\",\"patientId\":\"%s\",\"invoiceType\":\"lab\","
		 "\"invoiceDate\":\"2025-03-10\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"999.99\"}]}",
		 fac, p2);
	ids[2] = create_id(body);
	snprintf(body, sizeof(body),
		 "{\"facilityId\":\"%s\",\"status\":\"draft\",\"invoiceType\":\"pharmacy\","
		 "\"invoiceDate\":\"2025-03-20\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"5\"}]}",
		 fac);
	ids[3] = create_id(body);
	snprintf(body, sizeof(body),
		 "{\"facilityId\":\"%s\",\"currency\":\"JPY\",\"invoiceType\":\"lab\","
		 "\"invoiceDate\":\"2025-04-01\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"250\"}]}",
		 fac);
	ids[4] = create_id(body);

	static const struct {
		const char *query;
		long long total;
	} cases[] = {
	    {"", 5},
	    {"&patientId=%s", 2},
	    {"&status=draft", 1},
	    {"&status=pending", 4},
	    {"&status=pending,draft", 5},
	    {"&invoiceType=lab", 3},
	    {"&startDate=2025-02-10", 4},
	    {"&endDate=2025-02-10", 2},
	    {"&startDate=2025-02-01&endDate=2025-03-15", 2},
	    {"&minAmount=250.50", 2}, /* 250.50 and 999.99 (250 JPY is less) */
	    {"&maxAmount=100", 2},    /* 100.00 and 5.00 */
	    {"&minAmount=100&maxAmount=250.5", 3},
	    {"&minAmount=250.51", 1},
	    {"&invoiceType=lab&status=pending&minAmount=300", 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char q[256], qq[512];
		snprintf(q, sizeof(q), cases[i].query, p1);
		snprintf(qq, sizeof(qq), "/api/v1/invoices?facilityId=%s%s", fac, q);
		r = api_req("GET", qq, api_admin_token(), NULL, NULL);
		assert_status(r, 200);
		if (api_int(r, "pagination.total") != cases[i].total)
			fail_msg("%s: total %lld, want %lld", qq, api_int(r, "pagination.total"), cases[i].total);
		assert_int_equal(json_array_size(api_path(r, "data")), cases[i].total);
		api_resp_free(r);
	}
	/* newest invoiceDate first; pagination */
	snprintf(body, sizeof(body), "/api/v1/invoices?facilityId=%s&page=2&limit=2", fac);
	r = api_req("GET", body, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.page"), 2);
	assert_int_equal(api_int(r, "pagination.limit"), 2);
	assert_int_equal(api_int(r, "pagination.total"), 5);
	assert_int_equal(api_int(r, "pagination.totalPages"), 3);
	assert_int_equal(json_array_size(api_path(r, "data")), 2);
	assert_string_equal(api_str(r, "data.0.id"), ids[2]);
	assert_string_equal(api_str(r, "data.1.id"), ids[1]);
	api_resp_free(r);
	snprintf(body, sizeof(body), "/api/v1/invoices?facilityId=%s&page=9", fac);
	r = api_req("GET", body, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 0);
	assert_int_equal(api_int(r, "pagination.total"), 5);
	api_resp_free(r);
	/* the default limit is the spec's 50 */
	r = api_req("GET", "/api/v1/invoices", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.limit"), 50);
	api_resp_free(r);

	/* bad query values: 400 naming the parameter */
	static const struct {
		const char *query, *field;
	} bad[] = {
	    {"patientId=xyz", "patientId"},
	    {"facilityId=1", "facilityId"},
	    {"status=open", "status"},
	    {"startDate=2025-13-01", "startDate"},
	    {"endDate=yesterday", "endDate"},
	    {"minAmount=abc", "minAmount"},
	    {"maxAmount=-5", "maxAmount"},
	    {"page=0", "page"},
	    {"limit=100000", "limit"},
	    {"startDate=2025-05-01&endDate=2025-04-01", "endDate"},
	    {"minAmount=10&maxAmount=5", "maxAmount"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "/api/v1/invoices?%s", bad[i].query);
		r = api_req("GET", body, api_admin_token(), NULL, NULL);
		api_expect_error(r, 400, "VALIDATION_ERROR", bad[i].field);
		api_resp_free(r);
	}
	for (int i = 0; i < 5; i++)
		free(ids[i]);
	free(p1);
	free(p2);
}

static void test_update_and_status_machine(void **state)
{
	char *id = create_id("{\"status\":\"draft\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"100.00\"}]}");
	struct api_resp *r;

	(void)state;
	r = get_invoice(id);
	assert_string_equal(api_str(r, "data.status"), "draft");
	api_resp_free(r);
	/* draft -> paid / overdue / refunded: 409 naming the current state */
	static const char *const illegal[] = {"paid", "partially_paid", "overdue", "refunded", "cancelled"};
	for (size_t i = 0; i < sizeof(illegal) / sizeof(illegal[0]); i++) {
		char body[64];
		snprintf(body, sizeof(body), "{\"status\":\"%s\"}", illegal[i]);
		r = api_req("PUT", path("/api/v1/invoices/%s", id), api_admin_token(), body, NULL);
		api_expect_error(r, 409, "INVALID_STATE", NULL);
		assert_non_null(strstr(api_str(r, "error.message"), "invoice is draft"));
		api_resp_free(r);
	}
	/* issue it */
	r = api_req("PUT", path("/api/v1/invoices/%s", id), api_admin_token(), "{\"status\":\"pending\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.status"), "pending");
	api_resp_free(r);
	static const char *const illegal2[] = {"draft", "paid", "partially_paid", "overdue", "refunded"};
	for (size_t i = 0; i < sizeof(illegal2) / sizeof(illegal2[0]); i++) {
		char body[64];
		snprintf(body, sizeof(body), "{\"status\":\"%s\"}", illegal2[i]);
		r = api_req("PUT", path("/api/v1/invoices/%s", id), api_admin_token(), body, NULL);
		api_expect_error(r, 409, "INVALID_STATE", NULL);
		assert_non_null(strstr(api_str(r, "error.message"), "invoice is pending"));
		api_resp_free(r);
	}

	/* the spec's body: document-level tax and discount, audited */
	r = api_req("PUT", path("/api/v1/invoices/%s", id), api_admin_token(),
		    "{\"taxAmount\":10.00,\"discountAmount\":20.00,\"dueDate\":\"2099-11-20\","
		    "\"internalNotes\":\"Payment plan requested\",\"paymentTerms\":\"Net 15\",\"gracePeriodDays\":3,"
		    "\"lateFeePercentage\":1.5,\"description\":\"adjusted\",\"reason\":\"agreement\"}",
		    NULL);
	assert_status(r, 200);
	assert_num(r, "data.taxAmount", 10);
	assert_num(r, "data.discountAmount", 20);
	assert_num(r, "data.totalAmount", 90);
	assert_num(r, "data.balanceDue", 90);
	assert_string_equal(api_str(r, "data.dueDate"), "2099-11-20");
	assert_string_equal(api_str(r, "data.internalNotes"), "Payment plan requested");
	assert_string_equal(api_str(r, "data.paymentTerms"), "Net 15");
	assert_num(r, "data.lateFeePercentage", 1.5);
	assert_int_equal(api_int(r, "data.gracePeriodDays"), 3);
	api_resp_free(r);
	/* taxAmount null: back to the lines' tax */
	r = api_req("PUT", path("/api/v1/invoices/%s", id), api_admin_token(), "{\"taxAmount\":null}", NULL);
	assert_status(r, 200);
	assert_num(r, "data.taxAmount", 0);
	assert_num(r, "data.totalAmount", 80);
	api_resp_free(r);

	/* validation: 400 naming the field, nothing written */
	static const struct {
		const char *body, *field;
	} bad[] = {
	    {"{\"taxAmount\":-1}", "taxAmount"},
	    {"{\"taxAmount\":\"1.001\"}", "taxAmount"},
	    {"{\"discountAmount\":500}", "discountAmount"},
	    {"{\"discountAmount\":null}", "discountAmount"},
	    {"{\"dueDate\":\"2025-02-30\"}", "dueDate"},
	    {"{\"dueDate\":\"1999-01-01\"}", "dueDate"},
	    {"{\"gracePeriodDays\":400}", "gracePeriodDays"},
	    {"{\"lateFeePercentage\":-1}", "lateFeePercentage"},
	    {"{\"status\":\"closed\"}", "status"},
	    {"{\"totalAmount\":1}", "totalAmount"},
	    {"{\"paymentTerms\":\"\"}", "paymentTerms"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = api_req("PUT", path("/api/v1/invoices/%s", id), api_admin_token(), bad[i].body, NULL);
		if (r->status != 400)
			fail_msg("%s: HTTP %ld %.300s", bad[i].body, r->status, r->body);
		api_expect_error(r, 400, "VALIDATION_ERROR", bad[i].field);
		api_resp_free(r);
	}
	r = api_req("PUT", path("/api/v1/invoices/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 400);
	api_resp_free(r);
	{
		char sql[256];
		snprintf(sql, sizeof(sql), "SELECT total_minor FROM billing_documents WHERE id = '%s'", id);
		assert_int_equal(api_sql_int(sql), 8000);
	}
	r = api_req("PUT", "/api/v1/invoices/5b1f9a3e-7c2d-4e8f-9a0b-1c2d3e4f5a6b", api_admin_token(),
		    "{\"internalNotes\":\"x\"}", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);

	/* audited, with before/after and the reason */
	snprintf(pbuf, sizeof(pbuf), "/api/audit-logs?entity=invoice&entityId=%s&action=invoice.update&limit=100", id);
	r = api_req("GET", pbuf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 3);
	api_resp_free(r);
	snprintf(pbuf, sizeof(pbuf), "/api/audit-logs?entity=invoice&entityId=%s&limit=100", id);
	r = api_req("GET", pbuf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, "invoice.create"));
	assert_non_null(strstr(r->body, "agreement"));
	api_resp_free(r);
	free(id);
}

static void test_cancel(void **state)
{
	char *id = create_id("{\"internalNotes\":\"walk-in\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":50}]}");
	char *paid = create_id("{\"currency\":\"SDG\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":50}]}");
	struct api_resp *r;

	(void)state;
	r = api_req("DELETE", path("/api/v1/invoices/%s", id), api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "reason");
	api_resp_free(r);
	r = api_req("DELETE", path("/api/v1/invoices/%s", id), api_admin_token(), "{\"reason\":\"\"}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "reason");
	api_resp_free(r);
	r = api_req("DELETE", path("/api/v1/invoices/%s", id), api_admin_token(), "{\"reason\":\"x\",\"y\":1}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "y");
	api_resp_free(r);
	r = api_req("DELETE", path("/api/v1/invoices/%s", id), api_admin_token(),
		    "{\"reason\":\"Appointment cancelled by patient\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), id);
	assert_string_equal(api_str(r, "data.status"), "cancelled");
	assert_string_equal(api_str(r, "data.internalNotes"), "walk-in [CANCELLED] Appointment cancelled by patient");
	api_resp_free(r);
	r = api_req("DELETE", path("/api/v1/invoices/%s", id), api_admin_token(), "{\"reason\":\"again\"}", NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "invoice is cancelled"));
	api_resp_free(r);
	r = api_req("PUT", path("/api/v1/invoices/%s", id), api_admin_token(), "{\"dueDate\":\"2099-01-01\"}", NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);
	/* a confirmed payment: 409, refunds are the way */
	confirm_ok(paid, "gw-cancel-1", "10.00");
	r = api_req("DELETE", path("/api/v1/invoices/%s", paid), api_admin_token(), "{\"reason\":\"no\"}", NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "partially_paid"));
	api_resp_free(r);
	snprintf(pbuf, sizeof(pbuf), "/api/audit-logs?entity=invoice&entityId=%s&action=invoice.cancel", id);
	r = api_req("GET", pbuf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 1);
	assert_string_equal(api_str(r, "data.0.reason"), "Appointment cancelled by patient");
	api_resp_free(r);
	free(id);
	free(paid);
}

static void test_statistics(void **state)
{
	const char *fac = "0f0f0f0f-0000-4000-8000-0000000000f2";
	char body[512], *a, *b, *c, *d;
	struct api_resp *r;

	(void)state;
	snprintf(body, sizeof(body),
		 "{\"facilityId\":\"%s\",\"currency\":\"SDG\",\"invoiceDate\":\"2025-06-01\","
		 "\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"100.00\"}]}",
		 fac);
	a = create_id(body);
	b = create_id(body);
	c = create_id(body);
	snprintf(body, sizeof(body),
		 "{\"facilityId\":\"%s\",\"currency\":\"SDG\",\"invoiceDate\":\"2025-06-02\","
		 "\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"50.01\"}]}",
		 fac);
	d = create_id(body);
	confirm_ok(a, "gw-stat-a", "100.00");
	confirm_ok(b, "gw-stat-b", "40.00");
	r = api_req("DELETE", path("/api/v1/invoices/%s", c), api_admin_token(), "{\"reason\":\"dup\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);

	snprintf(pbuf, sizeof(pbuf), "/api/v1/invoices/statistics?facilityId=%s&currency=SDG", fac);
	r = api_req("GET", pbuf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "data.total_invoices"), 3);
	assert_num(r, "data.total_amount", 250.01);
	assert_num(r, "data.total_paid", 140);
	assert_num(r, "data.total_outstanding", 110.01);
	assert_num(r, "data.average_invoice_amount", 83.34); /* 250.01 / 3 = 83.336... */
	assert_int_equal(api_int(r, "data.paid_count"), 1);
	assert_int_equal(api_int(r, "data.pending_count"), 1);
	assert_int_equal(api_int(r, "data.overdue_count"), 0);
	assert_int_equal(api_int(r, "data.partially_paid_count"), 1);
	assert_int_equal(api_int(r, "data.cancelled_count"), 1);
	assert_string_equal(api_str(r, "data.currency"), "SDG");
	api_resp_free(r);
	/* date filters */
	snprintf(pbuf, sizeof(pbuf), "/api/v1/invoices/statistics?facilityId=%s&currency=SDG&startDate=2025-06-02",
		 fac);
	r = api_req("GET", pbuf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "data.total_invoices"), 1);
	assert_num(r, "data.total_amount", 50.01);
	api_resp_free(r);
	snprintf(pbuf, sizeof(pbuf), "/api/v1/invoices/statistics?facilityId=%s&currency=SDG&endDate=2025-06-01", fac);
	r = api_req("GET", pbuf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "data.total_invoices"), 2);
	api_resp_free(r);
	/* default currency = the tenant's (USD): none of these */
	snprintf(pbuf, sizeof(pbuf), "/api/v1/invoices/statistics?facilityId=%s", fac);
	r = api_req("GET", pbuf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "data.total_invoices"), 0);
	assert_num(r, "data.average_invoice_amount", 0);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/invoices/statistics?startDate=June", api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "startDate");
	api_resp_free(r);
	r = api_req("GET", "/api/v1/invoices/statistics?facilityId=zz", api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "facilityId");
	api_resp_free(r);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_webhooks(void **state)
{
	char *id = create_id("{\"currency\":\"SDG\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"230.00\"}]}");
	char *draft = create_id("{\"status\":\"draft\",\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":1}]}");
	char body[512];
	struct api_resp *r;
	long long audit_before;

	(void)state;
	/* partial, replay, full */
	confirm_ok(id, "pay-1", "100.00");
	r = get_invoice(id);
	assert_string_equal(api_str(r, "data.status"), "partially_paid");
	assert_num(r, "data.paidAmount", 100);
	assert_num(r, "data.balanceDue", 130);
	assert_int_equal(json_array_size(api_path(r, "data.payments")), 1);
	assert_string_equal(api_str(r, "data.payments.0.status"), "confirmed");
	assert_string_equal(api_str(r, "data.payments.0.paymentId"), "pay-1");
	assert_string_equal(api_str(r, "data.payments.0.paymentMethod"), "mobile_money");
	assert_string_equal(api_str(r, "data.payments.0.methodDetail"), "zain_cash");
	assert_string_equal(api_str(r, "data.payments.0.paymentGatewayReference"), "PAY-pay-1");
	assert_num(r, "data.payments.0.amount", 100);
	api_resp_free(r);
	audit_before = api_sql_int("SELECT COUNT(*) FROM audit_log");
	confirm_ok(id, "pay-1", "100.00"); /* replay: nothing changes */
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM audit_log"), audit_before);
	r = get_invoice(id);
	assert_num(r, "data.paidAmount", 100);
	assert_int_equal(json_array_size(api_path(r, "data.payments")), 1);
	api_resp_free(r);
	confirm_ok(id, "pay-2", "130");
	r = get_invoice(id);
	assert_string_equal(api_str(r, "data.status"), "paid");
	assert_num(r, "data.balanceDue", 0);
	assert_non_null(api_str(r, "data.paidAt"));
	api_resp_free(r);

	/* signature failures: 401, nothing written */
	snprintf(body, sizeof(body), "{\"invoiceId\":\"%s\",\"paymentId\":\"pay-x\",\"amount\":1}", draft);
	r = webhook("payment-confirmed", body, 0, 1);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = webhook("payment-confirmed", body, -301, 0); /* stale */
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = webhook("payment-confirmed", body, 400, 0); /* from the future */
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/v1/webhooks/payment-confirmed", NULL, body, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/v1/webhooks/payment-confirmed", NULL, body, "X-Webhook-Signature: t=abc,v1=00", NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	/* a body changed after signing */
	{
		char sig[2 * SHA256_LEN + 1], header[256], msg[600];
		long long t = (long long)time(NULL);
		snprintf(msg, sizeof(msg), "%lld.%s", t, body);
		crypto_hmac_sha256_hex(SECRET, strlen(SECRET), msg, strlen(msg), sig);
		/* several v1 values: one good one is enough (secret rotation) */
		snprintf(header, sizeof(header), "X-Webhook-Signature: t=%lld,v1=%064d,v1=%s", t, 0, sig);
		r = api_req("POST", "/api/v1/webhooks/payment-failed", NULL, body, header, NULL);
		api_expect_error(r, 400, "VALIDATION_ERROR",
				 "amount"); /* signed, then the failed schema refuses amount */
		api_resp_free(r);
		body[strlen(body) - 2] = '2';
		r = api_req("POST", "/api/v1/webhooks/payment-confirmed", NULL, body, header, NULL);
		api_expect_error(r, 401, "UNAUTHORIZED", NULL);
		api_resp_free(r);
	}
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM payments WHERE gateway_payment_id = 'pay-x'"), 0);

	/* unknown invoice 404; bad scale 400; bad body 400 */
	r = confirm_payment("5b1f9a3e-7c2d-4e8f-9a0b-1c2d3e4f5a6b", "pay-y", "1.00");
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = confirm_payment(id, "pay-z", "230.001");
	api_expect_error(r, 400, "VALIDATION_ERROR", "amount");
	api_resp_free(r);
	r = confirm_payment(id, "pay-z", "0");
	api_expect_error(r, 400, "VALIDATION_ERROR", "amount");
	api_resp_free(r);
	r = webhook("payment-confirmed", "{\"invoiceId\":\"x\",\"paymentId\":\"p\",\"amount\":1}", 0, 0);
	api_expect_error(r, 400, "VALIDATION_ERROR", "invoiceId");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"invoiceId\":\"%s\",\"amount\":1}", id);
	r = webhook("payment-confirmed", body, 0, 0);
	api_expect_error(r, 400, "VALIDATION_ERROR", "paymentId");
	api_resp_free(r);
	/* the same paymentId for another invoice: conflict */
	r = confirm_payment(draft, "pay-1", "1");
	api_expect_error(r, 409, "CONFLICT", "paymentId");
	api_resp_free(r);
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM payments WHERE gateway_payment_id = 'pay-z'"), 0);

	/* payment-failed: recorded, replay is a no-op, confirmed cannot fail */
	snprintf(body, sizeof(body), "{\"invoiceId\":\"%s\",\"paymentId\":\"pay-f\",\"reason\":\"Insufficient funds\"}",
		 draft);
	r = webhook("payment-failed", body, 0, 0);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "message"), "Payment failure notification received");
	api_resp_free(r);
	r = webhook("payment-failed", body, 0, 0);
	assert_status(r, 200);
	api_resp_free(r);
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM payments WHERE gateway_payment_id = 'pay-f' AND "
				     "status = 'failed'"),
			 1);
	r = get_invoice(draft);
	assert_string_equal(api_str(r, "data.status"), "draft");
	assert_string_equal(api_str(r, "data.payments.0.failureReason"), "Insufficient funds");
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"invoiceId\":\"%s\",\"paymentId\":\"pay-1\",\"reason\":\"late\"}", id);
	r = webhook("payment-failed", body, 0, 0);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);
	snprintf(body, sizeof(body),
		 "{\"invoiceId\":\"5b1f9a3e-7c2d-4e8f-9a0b-1c2d3e4f5a6b\",\"paymentId\":\"q\",\"reason\":\"x\"}");
	r = webhook("payment-failed", body, 0, 0);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	/* a pending gateway payment that fails, then succeeds on retry (same paymentId) */
	snprintf(body, sizeof(body), "{\"invoiceId\":\"%s\",\"paymentId\":\"pay-f\",\"amount\":1}", draft);
	r = webhook("payment-confirmed", body, 0, 0);
	assert_status(r, 200);
	api_resp_free(r);
	r = get_invoice(draft);
	assert_string_equal(api_str(r, "data.payments.0.status"), "confirmed");
	assert_string_equal(api_str(r, "data.status"), "paid");
	api_resp_free(r);

	/* the audit trail holds the gateway's writes */
	r = api_req("GET", "/api/audit-logs?entity=payment&action=payment.create&limit=100", api_admin_token(), NULL,
		    NULL);
	assert_status(r, 200);
	assert_true(api_int(r, "pagination.total") >= 3);
	api_resp_free(r);
	snprintf(pbuf, sizeof(pbuf), "/api/audit-logs?entity=invoice&entityId=%s&action=invoice.status", id);
	r = api_req("GET", pbuf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 2); /* partially_paid, paid */
	api_resp_free(r);
	free(id);
	free(draft);
}

/* Run one billing.overdue job now (inserted like the scheduler does) and wait for it. */
static void run_overdue_job(const char *job_id)
{
	char sql[640];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO jobs (id, tenant_id, kind, payload, state, attempts, max_attempts, run_at, created_at, "
		 "updated_at) VALUES ('%s', '-', 'billing.overdue', '{}', 'queued', 0, 3, '2000-01-01T00:00:00Z', "
		 "'2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z')",
		 job_id);
	api_sql_ok(sql);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM jobs WHERE id = '%s' AND state = 'succeeded'", job_id);
	for (int i = 0; i < 300; i++) {
		if (api_sql_int(sql) == 1)
			return;
		sleep_ms(100);
	}
	fail_msg("job %s did not succeed", job_id);
}

static void test_overdue_job(void **state)
{
	char *late = create_id("{\"currency\":\"SDG\",\"invoiceDate\":\"2025-01-01\",\"dueDate\":\"2025-01-31\","
			       "\"gracePeriodDays\":7,\"lateFeePercentage\":2.0,"
			       "\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"230.00\"}]}");
	char *ontime = create_id("{\"invoiceDate\":\"2025-01-01\",\"dueDate\":\"2099-01-31\",\"lateFeePercentage\":2,"
				 "\"lineItems\":[{\"itemName\":\"A\",\"unitPrice\":\"10.00\"}]}");
	struct api_resp *r;

	(void)state;
	run_overdue_job("6b1f9a3e-7c2d-4e8f-9a0b-000000000001");
	r = get_invoice(late);
	assert_string_equal(api_str(r, "data.status"), "overdue");
	assert_num(r, "data.lateFeeAmount", 4.6);
	assert_num(r, "data.totalAmount", 234.6);
	assert_num(r, "data.balanceDue", 234.6);
	assert_non_null(api_str(r, "data.lateFeeAppliedAt"));
	api_resp_free(r);
	r = get_invoice(ontime);
	assert_string_equal(api_str(r, "data.status"), "pending");
	assert_num(r, "data.lateFeeAmount", 0);
	api_resp_free(r);
	/* twice: the fee is applied once */
	run_overdue_job("6b1f9a3e-7c2d-4e8f-9a0b-000000000002");
	r = get_invoice(late);
	assert_num(r, "data.totalAmount", 234.6);
	api_resp_free(r);
	/* a payment: partially_paid; the next run marks it overdue again, no second fee */
	confirm_ok(late, "pay-late-1", "100");
	r = get_invoice(late);
	assert_string_equal(api_str(r, "data.status"), "partially_paid");
	api_resp_free(r);
	run_overdue_job("6b1f9a3e-7c2d-4e8f-9a0b-000000000003");
	r = get_invoice(late);
	assert_string_equal(api_str(r, "data.status"), "overdue");
	assert_num(r, "data.totalAmount", 234.6);
	assert_num(r, "data.balanceDue", 134.6);
	api_resp_free(r);
	snprintf(pbuf, sizeof(pbuf), "/api/audit-logs?entity=invoice&entityId=%s&action=invoice.overdue", late);
	r = api_req("GET", pbuf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 2);
	api_resp_free(r);
	/* overdue cannot be cancelled once a payment is confirmed */
	r = api_req("DELETE", path("/api/v1/invoices/%s", late), api_admin_token(), "{\"reason\":\"x\"}", NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "invoice is overdue"));
	api_resp_free(r);
	free(late);
	free(ontime);
}

/* A server without CLINICLEDGER_GATEWAY_WEBHOOK_SECRET refuses webhooks (503). */
static void test_webhooks_unconfigured(void **state)
{
	struct api_resp *r;

	(void)state;
	r = webhook("payment-confirmed",
		    "{\"invoiceId\":\"5b1f9a3e-7c2d-4e8f-9a0b-1c2d3e4f5a6b\",\"paymentId\":\"p\",\"amount\":1}", 0, 0);
	api_expect_error(r, 503, NULL, NULL);
	api_resp_free(r);
	r = webhook("payment-failed", "{\"invoiceId\":\"5b1f9a3e-7c2d-4e8f-9a0b-1c2d3e4f5a6b\",\"paymentId\":\"p\"}", 0,
		    0);
	api_expect_error(r, 503, NULL, NULL);
	api_resp_free(r);
}

static int setup_with_secret(void **state)
{
	static const char *const env[] = {"CLINICLEDGER_GATEWAY_WEBHOOK_SECRET=" SECRET, NULL};

	(void)state;
	return api_server_start(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_spec_example),
	    cmocka_unit_test(test_rounding_through_api),
	    cmocka_unit_test(test_validation_errors),
	    cmocka_unit_test(test_auth_roles_and_tenants),
	    cmocka_unit_test(test_idempotent_replay),
	    cmocka_unit_test(test_list_filters),
	    cmocka_unit_test(test_update_and_status_machine),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_statistics),
	    cmocka_unit_test(test_webhooks),
	    cmocka_unit_test(test_overdue_job),
	};
	const struct CMUnitTest unconfigured[] = {
	    cmocka_unit_test(test_webhooks_unconfigured),
	};
	int failed = cmocka_run_group_tests_name("api_invoices", tests, setup_with_secret, api_teardown);

	failed += cmocka_run_group_tests_name("api_invoices_no_webhook_secret", unconfigured, api_setup, api_teardown);
	return failed;
}
