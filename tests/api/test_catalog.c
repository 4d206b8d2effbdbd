/*
 * test_catalog.c - API tests of /api/services (clinic-billing-backend §5)
 * against the real binary: create (string and number prices, defaults from
 * the demo tenant), list filters and pagination, get, partial update and the
 * price history, duplicate codes, every validation error (400 naming the
 * field, nothing written), 401 / 403, tenant isolation, deactivation and the
 * audit trail.
 */
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

static const char *path(const char *fmt, const char *id)
{
	snprintf(path_buf, sizeof(path_buf), fmt, id);
	return path_buf;
}

/* POST a service as admin, expect 201; returns its id (owned). */
static char *create_ok(const char *body)
{
	struct api_resp *r = api_req("POST", "/api/services", api_admin_token(), body, NULL);
	char *id;

	assert_status(r, 201);
	assert_true(json_is_true(api_path(r, "success")));
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

/* pagination.total of a GET. */
static long long total_of(const char *p, const char *token)
{
	struct api_resp *r = api_req("GET", p, token, NULL, NULL);
	long long n;

	assert_status(r, 200);
	n = api_int(r, "pagination.total");
	api_resp_free(r);
	return n;
}

static long long services_total(void)
{
	return total_of("/api/services?active=all&limit=1", api_admin_token());
}

static long long audit_total(void)
{
	return total_of("/api/audit-logs?entity=service&limit=1", api_admin_token());
}


static void test_create_string_and_number_price(void **state)
{
	struct api_resp *r;
	char *id;

	(void)state;
	r = api_req("POST", "/api/services", api_admin_token(),
		    "{\"code\":\"CONS-GEN\",\"name\":\"Consulta general\",\"category\":\"Consultas\","
		    "\"price\":\"35.00\",\"description\":\"Consulta de medicina general\"}",
		    NULL);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.code"), "CONS-GEN");
	assert_string_equal(api_str(r, "data.price"), "35.00");
	assert_string_equal(api_str(r, "data.currency"), "USD"); /* the demo tenant's currency */
	assert_string_equal(api_str(r, "data.taxTreatment"), "taxable");
	assert_string_equal(api_str(r, "data.taxRate"), "13.00");
	assert_string_equal(api_str(r, "data.itemType"), "service");
	assert_int_equal(api_int(r, "data.mhTipoItem"), 2);
	assert_int_equal(api_int(r, "data.unitOfMeasure"), 59);
	assert_string_equal(api_str(r, "data.unitOfMeasureName"), "unidad");
	assert_true(json_is_true(api_path(r, "data.active")));
	assert_true(json_is_null(api_path(r, "data.procedureCode")));
	assert_non_null(api_str(r, "data.createdAt"));
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);

	/* Stored exactly: read back. */
	r = api_req("GET", path("/api/services/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.price"), "35.00");
	assert_string_equal(api_str(r, "data.description"), "Consulta de medicina general");
	api_resp_free(r);
	free(id);

	r = api_req("POST", "/api/services", api_admin_token(),
		    "{\"code\":\"CONS-ESP\",\"name\":\"Consulta especialista\",\"category\":\"Consultas\","
		    "\"price\":35,\"procedureCode\":\"99213\",\"itemType\":\"service\"}",
		    NULL);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.price"), "35.00");
	assert_string_equal(api_str(r, "data.procedureCode"), "99213");
	api_resp_free(r);

	/* A good with its own unit, exempt, a HCPCS code given in lower case. */
	r = api_req("POST", "/api/services", api_admin_token(),
		    "{\"code\":\"med.amox-500\",\"name\":\"Amoxicilina 500 mg\",\"category\":\"Farmacia\","
		    "\"price\":\"0.35\",\"itemType\":\"good\",\"taxTreatment\":\"exempt\",\"unitOfMeasure\":58,"
		    "\"procedureCode\":\"j1100\",\"currency\":\"USD\"}",
		    NULL);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.price"), "0.35");
	assert_string_equal(api_str(r, "data.taxRate"), "0.00");
	assert_int_equal(api_int(r, "data.mhTipoItem"), 1);
	assert_string_equal(api_str(r, "data.unitOfMeasureName"), "docena");
	assert_string_equal(api_str(r, "data.procedureCode"), "J1100");
	api_resp_free(r);

	/* Another currency keeps its own minor units. */
	r = api_req("POST", "/api/services", api_admin_token(),
		    "{\"code\":\"JPY-1\",\"name\":\"Yen priced\",\"category\":\"Otros\",\"price\":\"1500\","
		    "\"currency\":\"JPY\"}",
		    NULL);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.price"), "1500");
	api_resp_free(r);
}

static void test_duplicate_code(void **state)
{
	struct api_resp *r;
	long long before;

	(void)state;
	free(create_ok("{\"code\":\"LAB-HEMO\",\"name\":\"Hemograma\",\"category\":\"Laboratorio\","
		       "\"price\":\"12.50\"}"));
	before = services_total();
	r = api_req("POST", "/api/services", api_admin_token(),
		    "{\"code\":\"lab-hemo\",\"name\":\"Otro hemograma\",\"category\":\"Laboratorio\","
		    "\"price\":\"10\"}",
		    NULL);
	api_expect_error(r, 409, "CONFLICT", "code");
	api_resp_free(r);
	assert_int_equal(services_total(), before);
}

/* Each bad body: 400 VALIDATION_ERROR naming the field; nothing written. */
static void test_validation_errors(void **state)
{
	static const struct {
		const char *body;
		const char *field;
	} cases[] = {
	    {"{\"name\":\"X\",\"category\":\"C\",\"price\":\"1\"}", "code"},
	    {"{\"code\":\"bad code\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\"}", "code"},
	    {"{\"code\":\"123456789012345678901234567890123\",\"name\":\"X\",\"category\":\"C\","
	     "\"price\":\"1\"}",
	     "code"},
	    {"{\"code\":\"V1\",\"category\":\"C\",\"price\":\"1\"}", "name"},
	    {"{\"code\":\"V1\",\"name\":\"   \",\"category\":\"C\",\"price\":\"1\"}", "name"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"price\":\"1\"}", "category"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\"}", "price"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"35.001\"}", "price"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"-1\"}", "price"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":-1}", "price"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1e3\"}", "price"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":true}", "price"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\",\"currency\":\"XXX\"}", "currency"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1.5\",\"currency\":\"JPY\"}", "price"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\",\"taxTreatment\":\"zero\"}",
	     "taxTreatment"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\",\"itemType\":\"both\"}", "itemType"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\",\"procedureCode\":\"W1234\"}",
	     "procedureCode"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\",\"procedureCode\":\"9921\"}",
	     "procedureCode"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\",\"unitOfMeasure\":3}",
	     "unitOfMeasure"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\",\"unitOfMeasure\":\"59\"}",
	     "unitOfMeasure"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\",\"active\":\"yes\"}", "active"},
	    {"{\"code\":\"V1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\",\"taxRate\":\"13.00\"}", "taxRate"},
	};
	long long services_before = services_total(), audit_before = audit_total();
	struct api_resp *r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = api_req("POST", "/api/services", api_admin_token(), cases[i].body, NULL);
		api_expect_error(r, 400, "VALIDATION_ERROR", cases[i].field);
		api_resp_free(r);
	}
	/* A body that is not JSON, and an empty one. */
	r = api_req("POST", "/api/services", api_admin_token(), "{\"code\":", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/services", api_admin_token(), "", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", NULL);
	api_resp_free(r);
	assert_int_equal(services_total(), services_before);
	assert_int_equal(audit_total(), audit_before);
}

static void test_list_filter_search_paginate(void **state)
{
	struct api_resp *r;
	char *inactive;

	(void)state;
	free(create_ok("{\"code\":\"IMG-RX-TORAX\",\"name\":\"Rayos X de torax\",\"category\":\"Imagen-L\","
		       "\"price\":\"40\"}"));
	free(create_ok("{\"code\":\"IMG-US-ABD\",\"name\":\"ultrasonido abdominal\",\"category\":\"Imagen-L\","
		       "\"price\":\"55.00\",\"taxTreatment\":\"exempt\"}"));
	free(create_ok("{\"code\":\"IMG-TAC\",\"name\":\"Tomografia\",\"category\":\"Imagen-L\","
		       "\"price\":\"150.00\",\"itemType\":\"good\"}"));
	inactive = create_ok("{\"code\":\"IMG-OLD\",\"name\":\"Aaa retired\",\"category\":\"Imagen-L\","
			     "\"price\":\"1.00\",\"active\":false}");

	/* Category filter (case-insensitive), default active only, sorted by name. */
	r = api_req("GET", "/api/services?category=imagen-l", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_array(api_path(r, "data")));
	assert_int_equal(api_int(r, "pagination.total"), 3);
	assert_int_equal(api_int(r, "pagination.page"), 1);
	assert_int_equal(api_int(r, "pagination.limit"), 50);
	assert_string_equal(api_str(r, "data.0.code"), "IMG-RX-TORAX");
	assert_string_equal(api_str(r, "data.1.code"), "IMG-TAC");
	assert_string_equal(api_str(r, "data.2.code"), "IMG-US-ABD");
	api_resp_free(r);

	/* active=all and active=false */
	assert_int_equal(total_of("/api/services?category=Imagen-L&active=all", api_admin_token()), 4);
	r = api_req("GET", "/api/services?category=Imagen-L&active=false", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 1);
	assert_string_equal(api_str(r, "data.0.id"), inactive);
	api_resp_free(r);
	free(inactive);

	/* Search on code or name, case-insensitive. */
	r = api_req("GET", "/api/services?search=ULTRASONIDO", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 1);
	assert_string_equal(api_str(r, "data.0.code"), "IMG-US-ABD");
	api_resp_free(r);
	assert_int_equal(total_of("/api/services?search=img-", api_admin_token()), 3);
	/* LIKE wildcards are literal. */
	assert_int_equal(total_of("/api/services?search=%25", api_admin_token()), 0);
	assert_int_equal(total_of("/api/services?search=IMG_", api_admin_token()), 0);

	/* taxTreatment and itemType filters. */
	assert_int_equal(total_of("/api/services?category=Imagen-L&taxTreatment=exempt", api_admin_token()), 1);
	assert_int_equal(total_of("/api/services?category=Imagen-L&itemType=good", api_admin_token()), 1);

	/* Pagination. */
	r = api_req("GET", "/api/services?category=Imagen-L&limit=2&page=2", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 1);
	assert_int_equal(api_int(r, "pagination.total"), 3);
	assert_int_equal(api_int(r, "pagination.totalPages"), 2);
	assert_string_equal(api_str(r, "data.0.code"), "IMG-US-ABD");
	api_resp_free(r);

	/* Bad query parameters. */
	r = api_req("GET", "/api/services?active=maybe", api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "active");
	api_resp_free(r);
	r = api_req("GET", "/api/services?taxTreatment=zero", api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "taxTreatment");
	api_resp_free(r);
	r = api_req("GET", "/api/services?itemType=x", api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "itemType");
	api_resp_free(r);
	r = api_req("GET", "/api/services?limit=201", api_admin_token(), NULL, NULL);
	assert_true(r->status == 400 || (r->status == 200 && api_int(r, "pagination.limit") == 200));
	api_resp_free(r);
}

static void test_update_and_price_history(void **state)
{
	struct api_resp *r;
	char *id;
	char body[256];

	(void)state;
	id = create_ok("{\"code\":\"PROC-SUT\",\"name\":\"Sutura\",\"category\":\"Procedimientos\","
		       "\"price\":\"20.00\"}");

	/* Change a label only: no new price row. */
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"name\":\"Sutura simple\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.name"), "Sutura simple");
	assert_string_equal(api_str(r, "data.price"), "20.00");
	api_resp_free(r);
	assert_int_equal(total_of(path("/api/services/%s/price-history", id), api_admin_token()), 1);

	/* Change the price. */
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(),
		    "{\"price\":\"25.50\",\"priceChangeReason\":\"tarifa 2026\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.price"), "25.50");
	assert_string_equal(api_str(r, "data.name"), "Sutura simple");
	api_resp_free(r);

	r = api_req("GET", path("/api/services/%s/price-history", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 2);
	assert_int_equal(api_int(r, "pagination.total"), 2);
	/* newest first: the open row, then the closed one */
	assert_string_equal(api_str(r, "data.0.price"), "25.50");
	assert_true(json_is_null(api_path(r, "data.0.validTo")));
	assert_string_equal(api_str(r, "data.0.reason"), "tarifa 2026");
	assert_string_equal(api_str(r, "data.0.taxRate"), "13.00");
	assert_string_equal(api_str(r, "data.1.price"), "20.00");
	assert_non_null(api_str(r, "data.1.validTo"));
	assert_string_equal(api_str(r, "data.1.validTo"), api_str(r, "data.0.validFrom"));
	api_resp_free(r);

	/* Tax treatment change also rolls the history. */
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"taxTreatment\":\"exempt\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.taxRate"), "0.00");
	api_resp_free(r);
	assert_int_equal(total_of(path("/api/services/%s/price-history", id), api_admin_token()), 3);

	/* Same price again: nothing changes. */
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"price\":25.5}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	assert_int_equal(total_of(path("/api/services/%s/price-history", id), api_admin_token()), 3);

	/* Currency change needs a price; bad updates write nothing. */
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"currency\":\"DOP\"}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "price");
	api_resp_free(r);
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"price\":\"1.234\"}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "price");
	api_resp_free(r);
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"name\":null}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "name");
	api_resp_free(r);
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"id\":\"x\"}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "id");
	api_resp_free(r);
	assert_int_equal(total_of(path("/api/services/%s/price-history", id), api_admin_token()), 3);

	/* Changing the code to one in use (any case) is a conflict. */
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"code\":\"cons-gen\"}", NULL);
	api_expect_error(r, 409, "CONFLICT", "code");
	api_resp_free(r);
	/* Its own code in another case is fine. */
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"code\":\"proc-sut\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.code"), "proc-sut");
	api_resp_free(r);

	/* Clear the description / procedure code with null; set a unit. */
	snprintf(body, sizeof(body),
		 "{\"description\":null,\"procedureCode\":\"12001\",\"unitOfMeasure\":99,\"currency\":\"DOP\","
		 "\"price\":\"1500.00\"}");
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), body, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.currency"), "DOP");
	assert_string_equal(api_str(r, "data.price"), "1500.00");
	assert_string_equal(api_str(r, "data.procedureCode"), "12001");
	assert_string_equal(api_str(r, "data.unitOfMeasureName"), "otra");
	api_resp_free(r);
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"procedureCode\":null}", NULL);
	assert_status(r, 200);
	assert_true(json_is_null(api_path(r, "data.procedureCode")));
	api_resp_free(r);
	assert_int_equal(total_of(path("/api/services/%s/price-history", id), api_admin_token()), 4);
	free(id);
}

static void test_auth_and_roles(void **state)
{
	static const char body[] = "{\"code\":\"ROLE-1\",\"name\":\"X\",\"category\":\"C\",\"price\":\"1\"}";
	struct api_resp *r;
	char *doctor, *billing;

	(void)state;
	r = api_req("GET", "/api/services", NULL, NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/services", NULL, body, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);

	doctor = api_user_token("demo", "doctor", NULL);
	r = api_req("POST", "/api/services", doctor, body, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/services", doctor, NULL, NULL); /* services:read */
	assert_status(r, 200);
	api_resp_free(r);

	billing = api_user_token("demo", "billing_staff", NULL);
	r = api_req("DELETE", "/api/services/00000000-0000-4000-8000-000000000000", billing, NULL, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("PUT", "/api/services/00000000-0000-4000-8000-000000000000", billing, "{\"name\":\"Y\"}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	free(doctor);
	free(billing);
}

static void test_tenant_isolation(void **state)
{
	struct api_resp *r;
	char *other, *id;

	(void)state;
	id = create_ok("{\"code\":\"ISO-1\",\"name\":\"Aislado\",\"category\":\"Iso\",\"price\":\"5\"}");
	other = api_user_token("other", "admin", NULL);

	r = api_req("GET", path("/api/services/%s", id), other, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("PUT", path("/api/services/%s", id), other, "{\"name\":\"Hijacked\"}", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/services/%s", id), other, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", path("/api/services/%s/price-history", id), other, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	assert_int_equal(total_of("/api/services?active=all", other), 0);

	/* Codes are per tenant: the other tenant may reuse one. */
	r = api_req("POST", "/api/services", other,
		    "{\"code\":\"ISO-1\",\"name\":\"Propio\",\"category\":\"Iso\",\"price\":\"7\"}", NULL);
	assert_status(r, 201);
	api_resp_free(r);
	assert_int_equal(total_of("/api/services?active=all", other), 1);

	/* Demo's entry is untouched. */
	r = api_req("GET", path("/api/services/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.name"), "Aislado");
	api_resp_free(r);

	/* Not a UUID, unknown UUID. */
	r = api_req("GET", "/api/services/not-a-uuid", api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/services/00000000-0000-4000-8000-000000000000", api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(other);
	free(id);
}

static void test_delete_deactivates(void **state)
{
	struct api_resp *r;
	char *id;

	(void)state;
	id = create_ok("{\"code\":\"DEL-1\",\"name\":\"Para borrar\",\"category\":\"Borrar\",\"price\":\"9.99\"}");
	assert_int_equal(total_of("/api/services?category=Borrar", api_admin_token()), 1);

	r = api_req("DELETE", path("/api/services/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), id);
	assert_true(json_is_false(api_path(r, "data.active")));
	api_resp_free(r);

	/* Gone from the default list, still readable, history kept. */
	assert_int_equal(total_of("/api/services?category=Borrar", api_admin_token()), 0);
	assert_int_equal(total_of("/api/services?category=Borrar&active=false", api_admin_token()), 1);
	r = api_req("GET", path("/api/services/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_false(api_path(r, "data.active")));
	api_resp_free(r);
	assert_int_equal(total_of(path("/api/services/%s/price-history", id), api_admin_token()), 1);

	/* Second delete: 409 INVALID_STATE. */
	r = api_req("DELETE", path("/api/services/%s", id), api_admin_token(), NULL, NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "already inactive"));
	api_resp_free(r);

	/* Reactivate with PUT. */
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(), "{\"active\":true}", NULL);
	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "data.active")));
	api_resp_free(r);
	assert_int_equal(total_of("/api/services?category=Borrar", api_admin_token()), 1);

	/* A reason may be given. */
	r = api_req("DELETE", path("/api/services/%s", id), api_admin_token(), "{\"reason\":\"discontinued\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/services/%s", id), api_admin_token(), "{\"why\":\"x\"}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "why");
	api_resp_free(r);
	free(id);
}

/* Does the audit list for entity=service hold action for entity_id? */
static int audit_has(const char *action, const char *entity_id)
{
	char p[256];
	struct api_resp *r;
	json_t *data, *it;
	size_t i;
	int found = 0;

	snprintf(p, sizeof(p), "/api/audit-logs?entity=service&entityId=%s&limit=100", entity_id);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	data = api_path(r, "data");
	json_array_foreach(data, i, it)
	{
		const char *a = json_string_value(json_object_get(it, "action"));
		if (a && strcmp(a, action) == 0)
			found = 1;
	}
	api_resp_free(r);
	return found;
}

static void test_audit_trail(void **state)
{
	struct api_resp *r;
	char *id;

	(void)state;
	id = create_ok("{\"code\":\"AUD-1\",\"name\":\"Auditado\",\"category\":\"Audit\",\"price\":\"3\"}");
	r = api_req("PUT", path("/api/services/%s", id), api_admin_token(),
		    "{\"price\":\"4\",\"priceChangeReason\":\"ajuste\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/services/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);

	assert_true(audit_has("service.create", id));
	assert_true(audit_has("service.update", id));
	assert_true(audit_has("service.deactivate", id));

	/* The update entry carries before/after and the reason. */
	snprintf(path_buf, sizeof(path_buf), "/api/audit-logs?entity=service&entityId=%s&action=service.update", id);
	r = api_req("GET", path_buf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.0.before.price"), "3.00");
	assert_string_equal(api_str(r, "data.0.after.price"), "4.00");
	assert_string_equal(api_str(r, "data.0.reason"), "ajuste");
	api_resp_free(r);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_string_and_number_price),
	    cmocka_unit_test(test_duplicate_code),
	    cmocka_unit_test(test_validation_errors),
	    cmocka_unit_test(test_list_filter_search_paginate),
	    cmocka_unit_test(test_update_and_price_history),
	    cmocka_unit_test(test_auth_and_roles),
	    cmocka_unit_test(test_tenant_isolation),
	    cmocka_unit_test(test_delete_deactivates),
	    cmocka_unit_test(test_audit_trail),
	};
	return cmocka_run_group_tests_name("api_catalog", tests, api_setup, api_teardown);
}
