/*
 * test_patients.c - API tests of /api/patients (clinic-billing-backend §4)
 * against the real binary: create and get (fields echoed, decrypted),
 * search by name / printed DUI / phone / email and the explicit filters,
 * pagination, partial update and replacement of insurance policies,
 * duplicate documents, every validation error (400 naming the field,
 * nothing written), 401 / 403, tenant isolation, deletion, anonymisation,
 * the audit trail without plaintext identifiers, and (through the sqlite3 or
 * psql client) that the database holds no plaintext document numbers,
 * phones, emails or policy numbers.
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

/* A valid DUI from 8 digits: printed "NNNNNNNN-C" into out[11]. */
static void make_dui(const char *base8, char out[11])
{
	int sum = 0;

	for (int i = 0; i < 8; i++)
		sum += (base8[i] - '0') * (9 - i);
	snprintf(out, 11, "%.8s-%d", base8, (10 - sum % 10) % 10);
}

/* The same DUI with a wrong check digit. */
static void make_bad_dui(const char *base8, char out[11])
{
	make_dui(base8, out);
	out[9] = (char)('0' + (out[9] - '0' + 1) % 10);
}

/* POST a patient as `token`, expect 201; returns its id (owned). */
static char *create_as(const char *token, const char *body)
{
	struct api_resp *r = api_req("POST", "/api/patients", token, body, NULL);
	char *id;

	assert_status(r, 201);
	assert_true(json_is_true(api_path(r, "success")));
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

static char *create_ok(const char *body)
{
	return create_as(api_admin_token(), body);
}

/* pagination.total of a GET. */
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

/* Every patient of demo, active or not. */
static long long patients_total(void)
{
	return total_of("/api/patients?limit=1", api_admin_token()) +
	       total_of("/api/patients?limit=1&active=false", api_admin_token());
}

static long long audit_total(void)
{
	return total_of("/api/audit-logs?entity=patient&limit=1", api_admin_token());
}



static void test_create_and_get(void **state)
{
	char dui[11], body[2048];
	struct api_resp *r;
	char *id;

	(void)state;
	make_dui("10000001", dui);
	snprintf(body, sizeof(body),
		 "{\"firstName\":\" Ana \",\"lastName\":\"Pérez\",\"middleName\":\"María\","
		 "\"dateOfBirth\":\"1985-04-12\",\"sex\":\"female\",\"phone\":\"+503 7777-8888\","
		 "\"email\":\"Ana.Perez@Example.com\",\"address\":{\"line1\":\"Calle Arce 123\","
		 "\"city\":\"San Salvador\",\"country\":\"sv\",\"departamento\":\"06\",\"municipio\":\"23\"},"
		 "\"documentType\":\"DUI\",\"documentNumber\":\"%s\",\"nrc\":\"123456-7\","
		 "\"fiscalName\":\"Ana Pérez S.A. de C.V.\",\"notes\":\"alergia a penicilina\","
		 "\"insurancePolicies\":[{\"insurerName\":\"ASESUISA\",\"insurerCode\":\"ASE\","
		 "\"planName\":\"Plata\",\"policyNumber\":\"POL-99887766\",\"memberNumber\":\"MEM-55443322\","
		 "\"relationship\":\"self\",\"validFrom\":\"2025-01-01\",\"validTo\":\"2025-12-31\","
		 "\"isPrimary\":true},{\"insurerName\":\"MAPFRE\",\"policyNumber\":\"MF-1\"}]}",
		 dui);
	r = api_req("POST", "/api/patients", api_admin_token(), body, NULL);
	assert_status(r, 201);
	assert_true(json_is_true(api_path(r, "success")));
	id = strdup(api_str(r, "data.id"));
	assert_int_equal(strlen(id), 36);
	assert_string_equal(api_str(r, "data.firstName"), "Ana");
	assert_string_equal(api_str(r, "data.lastName"), "Pérez");
	assert_string_equal(api_str(r, "data.middleName"), "María");
	assert_string_equal(api_str(r, "data.dateOfBirth"), "1985-04-12");
	assert_string_equal(api_str(r, "data.sex"), "female");
	assert_string_equal(api_str(r, "data.phone"), "+50377778888");
	assert_string_equal(api_str(r, "data.email"), "Ana.Perez@Example.com");
	assert_string_equal(api_str(r, "data.address.country"), "SV");
	assert_string_equal(api_str(r, "data.address.municipio"), "23");
	assert_string_equal(api_str(r, "data.documentType"), "DUI");
	assert_string_equal(api_str(r, "data.documentNumber"), dui);
	assert_string_equal(api_str(r, "data.nrc"), "1234567");
	assert_string_equal(api_str(r, "data.fiscalName"), "Ana Pérez S.A. de C.V.");
	assert_true(json_is_true(api_path(r, "data.active")));
	assert_non_null(api_str(r, "data.createdAt"));
	assert_int_equal(json_array_size(api_path(r, "data.insurancePolicies")), 2);
	assert_int_equal(strlen(api_str(r, "data.insurancePolicies.0.id")), 36);
	assert_int_equal(strlen(api_str(r, "data.insurancePolicies.1.id")), 36);
	assert_string_equal(api_str(r, "data.insurancePolicies.0.policyNumber"), "POL-99887766");
	assert_string_equal(api_str(r, "data.insurancePolicies.0.memberNumber"), "MEM-55443322");
	assert_true(json_is_true(api_path(r, "data.insurancePolicies.0.isPrimary")));
	assert_true(json_is_false(api_path(r, "data.insurancePolicies.1.isPrimary")));
	assert_true(json_is_true(api_path(r, "data.insurancePolicies.1.active")));
	api_resp_free(r);

	r = api_req("GET", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), id);
	assert_string_equal(api_str(r, "data.documentNumber"), dui);
	assert_string_equal(api_str(r, "data.phone"), "+50377778888");
	assert_string_equal(api_str(r, "data.email"), "Ana.Perez@Example.com");
	assert_string_equal(api_str(r, "data.notes"), "alergia a penicilina");
	assert_string_equal(api_str(r, "data.insurancePolicies.0.insurerName"), "ASESUISA");
	assert_string_equal(api_str(r, "data.insurancePolicies.0.policyNumber"), "POL-99887766");
	api_resp_free(r);

	/* an unknown or malformed id is a 404 */
	r = api_req("GET", "/api/patients/6f1c2c1e-0000-4000-8000-000000000000", api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/patients/not-a-uuid", api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);

	/* at rest: ciphertexts only */
	{
		char sql[256], canon[10];
		char *dump;

		snprintf(canon, sizeof(canon), "%.8s%c", dui, dui[9]);
		snprintf(sql, sizeof(sql), "SELECT * FROM patients WHERE id = '%s'", id);
		dump = api_sql_text(sql);
		assert_non_null(strstr(dump, "Ana")); /* names stay plain */
		assert_non_null(strstr(dump, "v1:")); /* ciphertexts */
		assert_null(strstr(dump, canon));
		assert_null(strstr(dump, dui));
		assert_null(strstr(dump, "77778888"));
		assert_null(strstr(dump, "Example.com"));
		assert_null(strstr(dump, "1234567"));
		free(dump);
		snprintf(sql, sizeof(sql), "SELECT * FROM patient_insurance_policies WHERE patient_id = '%s'", id);
		dump = api_sql_text(sql);
		assert_non_null(strstr(dump, "ASESUISA"));
		assert_null(strstr(dump, "99887766"));
		assert_null(strstr(dump, "55443322"));
		free(dump);
	}
	free(id);
}

static void test_search_and_pagination(void **state)
{
	char dui[11], body[1024], p[256];
	struct api_resp *r;
	char *a, *b, *c;

	(void)state;
	make_dui("20000002", dui);
	snprintf(body, sizeof(body),
		 "{\"firstName\":\"Beatriz\",\"lastName\":\"Zelaya Núñez\",\"documentType\":\"DUI\","
		 "\"documentNumber\":\"%.8s%c\",\"phone\":\"+503 7111 2222\",\"email\":\"bzelaya@example.org\"}",
		 dui, dui[9]);
	a = create_ok(body);
	b = create_ok("{\"firstName\":\"Carlos\",\"lastName\":\"Zelaya\",\"phone\":\"+50371113333\"}");
	c = create_ok("{\"firstName\":\"Diana\",\"lastName\":\"100%_real\"}");

	/* by name, case- and accent-insensitive; sorted by lastName then firstName */
	r = api_req("GET", "/api/patients?search=ZELAYA", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 2);
	assert_string_equal(api_str(r, "data.0.id"), b); /* "zelaya" < "zelaya nunez" */
	assert_string_equal(api_str(r, "data.1.id"), a);
	api_resp_free(r);
	assert_int_equal(total_of("/api/patients?search=nunez", api_admin_token()), 1);
	assert_int_equal(total_of("/api/patients?search=N%C3%BA%C3%B1ez", api_admin_token()), 1);
	assert_int_equal(total_of("/api/patients?search=beatriz%20zel", api_admin_token()), 1);
	/* LIKE wildcards are literal */
	assert_int_equal(total_of("/api/patients?search=%25", api_admin_token()), 1);
	assert_int_equal(total_of("/api/patients?search=0%25_r", api_admin_token()), 1);
	assert_int_equal(total_of("/api/patients?search=_", api_admin_token()), 1);

	/* by document as printed with the hyphen, and as digits */
	snprintf(p, sizeof(p), "/api/patients?search=%s", dui);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 1);
	assert_string_equal(api_str(r, "data.0.id"), a);
	assert_string_equal(api_str(r, "data.0.documentNumber"), dui);
	api_resp_free(r);
	snprintf(p, sizeof(p), "/api/patients?documentNumber=%.8s%c&documentType=DUI", dui, dui[9]);
	assert_int_equal(total_of(p, api_admin_token()), 1);
	snprintf(p, sizeof(p), "/api/patients?documentNumber=%s", dui);
	assert_int_equal(total_of(p, api_admin_token()), 1);

	/* by phone (any spacing, '+' encoded or left out) and by email (any case) */
	r = api_req("GET", "/api/patients?search=%2B503%207111-2222", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 1);
	assert_string_equal(api_str(r, "data.0.id"), a);
	api_resp_free(r);
	assert_int_equal(total_of("/api/patients?search=50371113333", api_admin_token()), 1);
	assert_int_equal(total_of("/api/patients?phone=%2B50371113333", api_admin_token()), 1);
	assert_int_equal(total_of("/api/patients?search=BZelaya@Example.org", api_admin_token()), 1);
	assert_int_equal(total_of("/api/patients?email=bzelaya%40example.org", api_admin_token()), 1);
	assert_int_equal(total_of("/api/patients?email=nobody%40example.org", api_admin_token()), 0);
	/* filters combine */
	assert_int_equal(total_of("/api/patients?search=zelaya&phone=%2B50371113333", api_admin_token()), 1);

	/* bad filters */
	r = api_req("GET", "/api/patients?phone=12", api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "phone");
	api_resp_free(r);
	r = api_req("GET", "/api/patients?documentNumber=123&documentType=DUI", api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "documentNumber");
	api_resp_free(r);
	r = api_req("GET", "/api/patients?active=maybe", api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "active");
	api_resp_free(r);
	r = api_req("GET", "/api/patients?limit=101", api_admin_token(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "limit");
	api_resp_free(r);

	/* pagination: 7 of one family name, pages of 3 */
	for (int i = 0; i < 7; i++) {
		char name[128];

		snprintf(name, sizeof(name), "{\"firstName\":\"Hijo%d\",\"lastName\":\"Paginado\"}", i);
		free(create_ok(name));
	}
	r = api_req("GET", "/api/patients?search=paginado&limit=3&page=3", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 7);
	assert_int_equal(api_int(r, "pagination.totalPages"), 3);
	assert_int_equal(api_int(r, "pagination.page"), 3);
	assert_int_equal(api_int(r, "pagination.limit"), 3);
	assert_int_equal(json_array_size(api_path(r, "data")), 1);
	assert_string_equal(api_str(r, "data.0.firstName"), "Hijo6");
	api_resp_free(r);
	r = api_req("GET", "/api/patients?search=paginado&limit=3&page=1", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 3);
	assert_string_equal(api_str(r, "data.0.firstName"), "Hijo0");
	api_resp_free(r);
	r = api_req("GET", "/api/patients?search=paginado&limit=3&page=9", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 0);
	assert_int_equal(api_int(r, "pagination.total"), 7);
	api_resp_free(r);
	/* default page size 20 */
	r = api_req("GET", "/api/patients", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.limit"), 20);
	api_resp_free(r);
	free(a);
	free(b);
	free(c);
}

static void test_update_and_policies(void **state)
{
	char dui[11], body[2048], pol0[40], pol1[40];
	struct api_resp *r;
	char *id;

	(void)state;
	make_dui("30000003", dui);
	snprintf(body, sizeof(body),
		 "{\"firstName\":\"Elena\",\"lastName\":\"Castro\",\"phone\":\"+50370000001\","
		 "\"documentType\":\"DUI\",\"documentNumber\":\"%s\",\"notes\":\"n1\","
		 "\"insurancePolicies\":[{\"insurerName\":\"A\",\"policyNumber\":\"A-1\",\"isPrimary\":true},"
		 "{\"insurerName\":\"B\",\"policyNumber\":\"B-1\"}]}",
		 dui);
	r = api_req("POST", "/api/patients", api_admin_token(), body, NULL);
	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	snprintf(pol0, sizeof(pol0), "%s", api_str(r, "data.insurancePolicies.0.id"));
	snprintf(pol1, sizeof(pol1), "%s", api_str(r, "data.insurancePolicies.1.id"));
	api_resp_free(r);

	/* partial: only the fields present change; null clears */
	r = api_req("PUT", path("/api/patients/%s", id), api_admin_token(),
		    "{\"firstName\":\"Elena Sofía\",\"notes\":null,\"email\":\"elena@example.com\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.firstName"), "Elena Sofía");
	assert_string_equal(api_str(r, "data.lastName"), "Castro");
	assert_string_equal(api_str(r, "data.phone"), "+50370000001");
	assert_string_equal(api_str(r, "data.email"), "elena@example.com");
	assert_string_equal(api_str(r, "data.documentNumber"), dui);
	assert_true(json_is_null(api_path(r, "data.notes")));
	assert_int_equal(json_array_size(api_path(r, "data.insurancePolicies")), 2);
	api_resp_free(r);

	/* the list replaces: pol0 kept (changed), pol1 dropped, one new */
	snprintf(body, sizeof(body),
		 "{\"insurancePolicies\":[{\"id\":\"%s\",\"insurerName\":\"A2\",\"policyNumber\":\"A-2\","
		 "\"isPrimary\":false},{\"insurerName\":\"C\",\"policyNumber\":\"C-1\",\"isPrimary\":true,"
		 "\"validFrom\":\"2025-01-01\"}]}",
		 pol0);
	r = api_req("PUT", path("/api/patients/%s", id), api_admin_token(), body, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data.insurancePolicies")), 2);
	assert_string_equal(api_str(r, "data.insurancePolicies.0.id"), pol0);
	assert_string_equal(api_str(r, "data.insurancePolicies.0.insurerName"), "A2");
	assert_string_equal(api_str(r, "data.insurancePolicies.0.policyNumber"), "A-2");
	assert_string_not_equal(api_str(r, "data.insurancePolicies.1.id"), pol0);
	assert_string_not_equal(api_str(r, "data.insurancePolicies.1.id"), pol1);
	assert_string_equal(api_str(r, "data.insurancePolicies.1.insurerName"), "C");
	api_resp_free(r);
	r = api_req("GET", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data.insurancePolicies")), 2);
	assert_string_equal(api_str(r, "data.insurancePolicies.0.id"), pol0);
	assert_string_equal(api_str(r, "data.insurancePolicies.1.policyNumber"), "C-1");
	assert_string_equal(api_str(r, "data.firstName"), "Elena Sofía");
	api_resp_free(r);

	/* a new document number alone is checked against the stored type */
	r = api_req("PUT", path("/api/patients/%s", id), api_admin_token(), "{\"documentNumber\":\"123\"}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "documentNumber");
	api_resp_free(r);
	/* an empty list removes every policy; the document can be cleared */
	r = api_req("PUT", path("/api/patients/%s", id), api_admin_token(),
		    "{\"insurancePolicies\":[],\"documentType\":null,\"documentNumber\":null}", NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data.insurancePolicies")), 0);
	assert_true(json_is_null(api_path(r, "data.documentNumber")));
	api_resp_free(r);
	snprintf(path_buf, sizeof(path_buf), "/api/patients?search=%s", dui);
	assert_int_equal(total_of(path_buf, api_admin_token()), 0);

	r = api_req("PUT", "/api/patients/6f1c2c1e-0000-4000-8000-000000000000", api_admin_token(),
		    "{\"firstName\":\"X\"}", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(id);
}

static void test_duplicate_document(void **state)
{
	char dui[11], body[512];
	struct api_resp *r;
	long long before;
	char *id, *other;

	(void)state;
	make_dui("40000004", dui);
	snprintf(body, sizeof(body),
		 "{\"firstName\":\"Fer\",\"lastName\":\"Uno\",\"documentType\":\"DUI\",\"documentNumber\":\"%s\"}",
		 dui);
	id = create_ok(body);
	before = patients_total();
	/* the same number printed without the hyphen */
	snprintf(body, sizeof(body),
		 "{\"firstName\":\"Fer\",\"lastName\":\"Dos\",\"documentType\":\"DUI\",\"documentNumber\":\"%.8s%c\"}",
		 dui, dui[9]);
	r = api_req("POST", "/api/patients", api_admin_token(), body, NULL);
	api_expect_error(r, 409, "CONFLICT", NULL);
	assert_non_null(strstr(r->body, "a patient with this document already exists"));
	api_resp_free(r);
	assert_int_equal(patients_total(), before);

	/* the same digits as another type are another document */
	snprintf(body, sizeof(body),
		 "{\"firstName\":\"Fer\",\"lastName\":\"Tres\",\"documentType\":\"NIT\",\"documentNumber\":\"%s\"}",
		 dui);
	other = create_ok(body);
	/* moving another patient onto the document is a conflict too */
	snprintf(body, sizeof(body), "{\"documentType\":\"DUI\",\"documentNumber\":\"%s\"}", dui);
	r = api_req("PUT", path("/api/patients/%s", other), api_admin_token(), body, NULL);
	api_expect_error(r, 409, "CONFLICT", NULL);
	api_resp_free(r);
	/* re-saving the owner with its own document is fine */
	r = api_req("PUT", path("/api/patients/%s", id), api_admin_token(), body, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	free(id);
	free(other);
}

struct bad_case {
	const char *body;
	const char *field;
};

static void test_validation_errors(void **state)
{
	char dui[11], bad[11], b1[512], b2[512];
	long long patients_before = patients_total(), audit_before = audit_total();
	struct api_resp *r;
	char *id;

	(void)state;
	make_dui("50000005", dui);
	make_bad_dui("50000005", bad);
	snprintf(b1, sizeof(b1),
		 "{\"firstName\":\"G\",\"lastName\":\"H\",\"documentType\":\"DUI\",\"documentNumber\":\"%s\"}", bad);
	snprintf(b2, sizeof(b2), "{\"firstName\":\"G\",\"lastName\":\"H\",\"documentNumber\":\"%s\"}", dui);
	const struct bad_case cases[] = {
	    {"{\"lastName\":\"H\"}", "firstName"},
	    {"{\"firstName\":\"  \",\"lastName\":\"H\"}", "firstName"},
	    {"{\"firstName\":\"G\"}", "lastName"},
	    {b1, "documentNumber"},
	    {b2, "documentType"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"documentType\":\"DUI\"}", "documentNumber"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"documentType\":\"SSN\",\"documentNumber\":\"1\"}",
	     "documentType"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"dateOfBirth\":\"1990-02-30\"}", "dateOfBirth"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"dateOfBirth\":\"2999-01-01\"}", "dateOfBirth"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"dateOfBirth\":\"1899-12-31\"}", "dateOfBirth"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"favouriteColour\":\"blue\"}", "favouriteColour"},
	    {"{\"firstName\":5,\"lastName\":\"H\"}", "firstName"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"insurancePolicies\":{}}", "insurancePolicies"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"email\":\"not-an-email\"}", "email"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"phone\":\"7777-8888\"}", "phone"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"sex\":\"x\"}", "sex"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"nrc\":\"123456789\"}", "nrc"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"active\":false}", "active"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"id\":\"x\"}", "id"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"address\":{\"country\":\"XX\"}}", "address.country"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"address\":{\"zip\":\"1\"}}", "address.zip"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"address\":{\"departamento\":\"06\",\"municipio\":\"99\"}}",
	     "address.municipio"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"insurancePolicies\":[{\"insurerName\":\"A\","
	     "\"policyNumber\":\"1\",\"validFrom\":\"2025-05-01\",\"validTo\":\"2025-04-30\"}]}",
	     "insurancePolicies[0].validTo"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"insurancePolicies\":[{\"insurerName\":\"A\","
	     "\"policyNumber\":\"1\",\"isPrimary\":true},{\"insurerName\":\"B\",\"policyNumber\":\"2\","
	     "\"isPrimary\":true}]}",
	     "insurancePolicies[1].isPrimary"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"insurancePolicies\":[{\"insurerName\":\"A\"}]}",
	     "insurancePolicies[0].policyNumber"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"insurancePolicies\":[{\"insurerName\":\"A\","
	     "\"policyNumber\":\"1\",\"relationship\":\"cousin\"}]}",
	     "insurancePolicies[0].relationship"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"insurancePolicies\":[{\"insurerName\":\"A\","
	     "\"policyNumber\":\"1\",\"copay\":5}]}",
	     "insurancePolicies[0].copay"},
	    {"{\"firstName\":\"G\",\"lastName\":\"H\",\"insurancePolicies\":[1]}", "insurancePolicies[0]"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = api_req("POST", "/api/patients", api_admin_token(), cases[i].body, NULL);
		api_expect_error(r, 400, "VALIDATION_ERROR", cases[i].field);
		api_resp_free(r);
	}
	/* more than 10 policies */
	{
		char big[4096];
		size_t len = (size_t)snprintf(big, sizeof(big),
					      "{\"firstName\":\"G\",\"lastName\":\"H\",\"insurancePolicies\":[");
		for (int i = 0; i < 11; i++)
			len += (size_t)snprintf(big + len, sizeof(big) - len,
						"%s{\"insurerName\":\"I\",\"policyNumber\":\"%d\"}", i ? "," : "", i);
		snprintf(big + len, sizeof(big) - len, "]}");
		r = api_req("POST", "/api/patients", api_admin_token(), big, NULL);
		api_expect_error(r, 400, "VALIDATION_ERROR", "insurancePolicies");
		api_resp_free(r);
	}
	r = api_req("POST", "/api/patients", api_admin_token(), "not json", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", NULL);
	api_resp_free(r);
	assert_int_equal(patients_total(), patients_before);
	assert_int_equal(audit_total(), audit_before);

	/* updates: bad input changes nothing */
	id = create_ok("{\"firstName\":\"Gina\",\"lastName\":\"Hernández\",\"dateOfBirth\":\"1970-01-01\"}");
	audit_before = audit_total();
	const struct bad_case updates[] = {
	    {"{\"firstName\":null}", "firstName"},
	    {"{\"lastName\":\"\"}", "lastName"},
	    {"{\"dateOfBirth\":\"2999-01-01\"}", "dateOfBirth"},
	    {"{\"email\":\"a@@\"}", "email"},
	    {"{\"createdAt\":\"2020-01-01T00:00:00Z\"}", "createdAt"},
	    {"{\"insurancePolicies\":[{\"insurerName\":\"A\",\"policyNumber\":\"1\",\"isPrimary\":true},"
	     "{\"insurerName\":\"B\",\"policyNumber\":\"2\",\"isPrimary\":true}]}",
	     "insurancePolicies[1].isPrimary"},
	};
	for (size_t i = 0; i < sizeof(updates) / sizeof(updates[0]); i++) {
		r = api_req("PUT", path("/api/patients/%s", id), api_admin_token(), updates[i].body, NULL);
		api_expect_error(r, 400, "VALIDATION_ERROR", updates[i].field);
		api_resp_free(r);
	}
	r = api_req("GET", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.firstName"), "Gina");
	assert_string_equal(api_str(r, "data.dateOfBirth"), "1970-01-01");
	assert_true(json_is_null(api_path(r, "data.email")));
	assert_int_equal(json_array_size(api_path(r, "data.insurancePolicies")), 0);
	api_resp_free(r);
	assert_int_equal(audit_total(), audit_before);

	/* anonymize needs a reason */
	r = api_req("POST", path("/api/patients/%s/anonymize", id), api_admin_token(), "{}", NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "reason");
	api_resp_free(r);
	r = api_req("GET", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	assert_string_equal(api_str(r, "data.firstName"), "Gina");
	api_resp_free(r);
	free(id);
}

static void test_auth_and_roles(void **state)
{
	struct api_resp *r;
	char *recep = api_user_token("demo", "receptionist", NULL);
	char *acct = api_user_token("demo", "accountant", NULL);
	char *id;

	(void)state;
	r = api_req("GET", "/api/patients", NULL, NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/patients", NULL, "{\"firstName\":\"A\",\"lastName\":\"B\"}", NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/patients", "not.a.token", NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);

	/* a receptionist registers, reads and edits patients, but does not delete */
	id = create_as(recep, "{\"firstName\":\"Irene\",\"lastName\":\"Recepción\"}");
	r = api_req("GET", path("/api/patients/%s", id), recep, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("PUT", path("/api/patients/%s", id), recep, "{\"middleName\":\"Isabel\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/patients/%s", id), recep, NULL, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("POST", path("/api/patients/%s/anonymize", id), recep, "{\"reason\":\"x\"}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	/* an accountant reads but does not create or edit */
	assert_true(total_of("/api/patients?search=recepcion", acct) == 1);
	r = api_req("POST", "/api/patients", acct, "{\"firstName\":\"A\",\"lastName\":\"B\"}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("PUT", path("/api/patients/%s", id), acct, "{\"middleName\":\"X\"}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.middleName"), "Isabel");
	assert_true(json_is_true(api_path(r, "data.active")));
	api_resp_free(r);
	free(id);
	free(recep);
	free(acct);
}

static void test_tenant_isolation(void **state)
{
	char dui[11], body[512];
	struct api_resp *r;
	char *other = api_user_token("other", "admin", NULL);
	char *id, *theirs;

	(void)state;
	make_dui("60000006", dui);
	snprintf(body, sizeof(body),
		 "{\"firstName\":\"Jorge\",\"lastName\":\"Aislado\",\"documentType\":\"DUI\",\"documentNumber\":\"%s\","
		 "\"phone\":\"+50379990000\"}",
		 dui);
	id = create_ok(body);

	r = api_req("GET", path("/api/patients/%s", id), other, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("PUT", path("/api/patients/%s", id), other, "{\"firstName\":\"Hack\"}", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/patients/%s", id), other, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("POST", path("/api/patients/%s/anonymize", id), other, "{\"reason\":\"x\"}", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);

	/* their list holds none of demo's patients, whatever the search */
	assert_int_equal(total_of("/api/patients", other), 0);
	assert_int_equal(total_of("/api/patients?active=false", other), 0);
	assert_int_equal(total_of("/api/patients?search=aislado", other), 0);
	snprintf(path_buf, sizeof(path_buf), "/api/patients?search=%s", dui);
	assert_int_equal(total_of(path_buf, other), 0);
	assert_int_equal(total_of("/api/patients?phone=%2B50379990000", other), 0);

	/* the same document in another tenant is not a duplicate */
	theirs = create_as(other, body);
	assert_int_equal(total_of("/api/patients", other), 1);
	snprintf(path_buf, sizeof(path_buf), "/api/patients?search=%s", dui);
	r = api_req("GET", path_buf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "pagination.total"), 1);
	assert_string_equal(api_str(r, "data.0.id"), id);
	api_resp_free(r);

	r = api_req("GET", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.firstName"), "Jorge");
	api_resp_free(r);
	r = api_req("GET", path("/api/patients/%s", theirs), api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(id);
	free(theirs);
	free(other);
}

static void test_delete(void **state)
{
	struct api_resp *r;
	long long before;
	char *id;

	(void)state;
	id = create_ok("{\"firstName\":\"Karla\",\"lastName\":\"Borrada\",\"insurancePolicies\":"
		       "[{\"insurerName\":\"A\",\"policyNumber\":\"K-1\"}]}");
	before = patients_total();
	r = api_req("DELETE", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "success")));
	assert_string_equal(api_str(r, "data.id"), id);
	assert_true(json_is_true(api_path(r, "data.deleted")));
	assert_true(json_is_false(api_path(r, "data.active")));
	api_resp_free(r);
	assert_int_equal(patients_total(), before - 1);
	r = api_req("GET", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	assert_int_equal(total_of("/api/patients?search=borrada", api_admin_token()), 0);
	{
		char sql[256], *out;

		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM patient_insurance_policies WHERE patient_id = '%s'",
			 id);
		out = api_sql_text(sql);
		assert_string_equal(out, "0\n");
		free(out);
	}
	free(id);
}

static void test_anonymize(void **state)
{
	char dui[11], body[1024];
	struct api_resp *r;
	char *id;

	(void)state;
	make_dui("70000007", dui);
	snprintf(body, sizeof(body),
		 "{\"firstName\":\"Laura\",\"lastName\":\"Olvido\",\"dateOfBirth\":\"1990-03-03\","
		 "\"phone\":\"+50372223333\",\"email\":\"laura@example.net\",\"documentType\":\"DUI\","
		 "\"documentNumber\":\"%s\",\"nrc\":\"7654321\",\"notes\":\"nota privada\","
		 "\"address\":{\"line1\":\"Av. Norte 1\",\"country\":\"SV\"},"
		 "\"insurancePolicies\":[{\"insurerName\":\"ASESUISA\",\"policyNumber\":\"POL-LAURA-1\","
		 "\"memberNumber\":\"MEM-LAURA\",\"isPrimary\":true}]}",
		 dui);
	id = create_ok(body);

	r = api_req("POST", path("/api/patients/%s/anonymize", id), api_admin_token(),
		    "{\"reason\":\"solicitud del titular (derecho de supresión)\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.firstName"), "ANONYMIZED");
	api_resp_free(r);

	r = api_req("GET", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.firstName"), "ANONYMIZED");
	assert_string_equal(api_str(r, "data.lastName"), "ANONYMIZED");
	assert_true(json_is_null(api_path(r, "data.documentNumber")));
	assert_true(json_is_null(api_path(r, "data.documentType")));
	assert_true(json_is_null(api_path(r, "data.phone")));
	assert_true(json_is_null(api_path(r, "data.email")));
	assert_true(json_is_null(api_path(r, "data.dateOfBirth")));
	assert_true(json_is_null(api_path(r, "data.address")));
	assert_true(json_is_null(api_path(r, "data.nrc")));
	assert_true(json_is_null(api_path(r, "data.notes")));
	assert_true(json_is_false(api_path(r, "data.active")));
	assert_non_null(api_str(r, "data.anonymizedAt"));
	assert_string_equal(api_str(r, "data.insurancePolicies.0.insurerName"), "ASESUISA");
	assert_true(json_is_null(api_path(r, "data.insurancePolicies.0.policyNumber")));
	assert_true(json_is_null(api_path(r, "data.insurancePolicies.0.memberNumber")));
	assert_null(strstr(r->body, "Laura"));
	assert_null(strstr(r->body, "Olvido"));
	api_resp_free(r);

	/* nothing finds the person any more */
	snprintf(path_buf, sizeof(path_buf), "/api/patients?active=false&search=%s", dui);
	assert_int_equal(total_of(path_buf, api_admin_token()), 0);
	assert_int_equal(total_of("/api/patients?active=false&search=olvido", api_admin_token()), 0);
	assert_int_equal(total_of("/api/patients?active=false&phone=%2B50372223333", api_admin_token()), 0);
	/* and the document is free for a new registration */
	snprintf(
	    body, sizeof(body),
	    "{\"firstName\":\"Nuevo\",\"lastName\":\"Titular\",\"documentType\":\"DUI\",\"documentNumber\":\"%s\"}",
	    dui);
	free(create_ok(body));

	r = api_req("POST", path("/api/patients/%s/anonymize", id), api_admin_token(), "{\"reason\":\"again\"}", NULL);
	api_expect_error(r, 409, "CONFLICT", NULL);
	api_resp_free(r);
	r = api_req("PUT", path("/api/patients/%s", id), api_admin_token(), "{\"firstName\":\"Laura\"}", NULL);
	api_expect_error(r, 409, "CONFLICT", NULL);
	api_resp_free(r);

	/* the audit entry has the reason and the erased field names, not values */
	snprintf(path_buf, sizeof(path_buf), "/api/audit-logs?entity=patient&entityId=%s&action=patient.anonymize", id);
	r = api_req("GET", path_buf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 1);
	assert_string_equal(api_str(r, "data.0.reason"), "solicitud del titular (derecho de supresión)");
	assert_non_null(strstr(r->body, "\"documentNumber\""));
	assert_null(strstr(r->body, "Laura"));
	assert_null(strstr(r->body, "Olvido"));
	assert_null(strstr(r->body, "72223333"));
	assert_null(strstr(r->body, "laura@"));
	assert_null(strstr(r->body, "7654321"));
	assert_null(strstr(r->body, "POL-LAURA"));
	api_resp_free(r);

	{
		char sql[512], *out;

		snprintf(sql, sizeof(sql),
			 "SELECT first_name || '|' || CASE WHEN document_enc IS NULL AND document_bidx IS NULL "
			 "AND phone_enc IS NULL AND email_bidx IS NULL AND address_json IS NULL AND "
			 "date_of_birth IS NULL AND notes IS NULL AND anonymized_at IS NOT NULL AND active = 0 "
			 "THEN 'erased' ELSE 'kept' END FROM patients WHERE id = '%s'",
			 id);
		out = api_sql_text(sql);
		assert_string_equal(out, "ANONYMIZED|erased\n");
		free(out);
		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM patient_insurance_policies WHERE patient_id = '%s' AND "
			 "policy_number_enc IS NULL AND member_number_enc IS NULL",
			 id);
		out = api_sql_text(sql);
		assert_string_equal(out, "1\n");
		free(out);
	}
	free(id);
}

/* Does the audit list for entity=patient hold action for entity_id? */
static int audit_has(const char *action, const char *entity_id)
{
	char p[512];
	struct api_resp *r;
	json_t *data;
	size_t i;
	json_t *item;
	int found = 0;

	snprintf(p, sizeof(p), "/api/audit-logs?entity=patient&entityId=%s&limit=100", entity_id);
	r = api_req("GET", p, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	data = api_path(r, "data");
	json_array_foreach(data, i, item)
	{
		const char *a = json_string_value(json_object_get(item, "action"));
		if (a && strcmp(a, action) == 0)
			found = 1;
	}
	api_resp_free(r);
	return found;
}

static void test_audit_trail(void **state)
{
	char dui[11], canon[10], body[1024];
	struct api_resp *r;
	char *id;

	(void)state;
	make_dui("80000008", dui);
	snprintf(canon, sizeof(canon), "%.8s%c", dui, dui[9]);
	snprintf(
	    body, sizeof(body),
	    "{\"firstName\":\"Mario\",\"lastName\":\"Auditado\",\"documentType\":\"DUI\",\"documentNumber\":\"%s\","
	    "\"phone\":\"+50374445555\",\"email\":\"mario@example.com\",\"insurancePolicies\":"
	    "[{\"insurerName\":\"A\",\"policyNumber\":\"POL-MARIO-77\"}]}",
	    dui);
	id = create_ok(body);
	r = api_req("PUT", path("/api/patients/%s", id), api_admin_token(),
		    "{\"phone\":\"+50374446666\",\"lastName\":\"Auditado Dos\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("DELETE", path("/api/patients/%s", id), api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);

	assert_true(audit_has("patient.create", id));
	assert_true(audit_has("patient.update", id));
	assert_true(audit_has("patient.delete", id));

	snprintf(path_buf, sizeof(path_buf), "/api/audit-logs?entity=patient&entityId=%s&limit=100", id);
	r = api_req("GET", path_buf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_null(strstr(r->body, canon));
	assert_null(strstr(r->body, dui));
	assert_null(strstr(r->body, "74445555"));
	assert_null(strstr(r->body, "74446666"));
	assert_null(strstr(r->body, "mario@"));
	assert_null(strstr(r->body, "POL-MARIO"));
	assert_non_null(strstr(r->body, "\"****"));
	api_resp_free(r);

	/* the update entry lists the changed fields with masked values */
	snprintf(path_buf, sizeof(path_buf), "/api/audit-logs?entity=patient&entityId=%s&action=patient.update", id);
	r = api_req("GET", path_buf, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.0.before.phone"), "****5555");
	assert_string_equal(api_str(r, "data.0.after.phone"), "****6666");
	assert_string_equal(api_str(r, "data.0.after.email"), "***@example.com");
	assert_string_equal(api_str(r, "data.0.after.changed.0"), "lastName");
	assert_string_equal(api_str(r, "data.0.after.changed.1"), "phone");
	api_resp_free(r);

	/* the whole patient audit trail, across every test, holds no plaintext identifier */
	r = api_req("GET", "/api/audit-logs?entity=patient&limit=100", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(api_int(r, "pagination.total") > 10);
	assert_null(strstr(r->body, "+503"));
	assert_null(strstr(r->body, "Ana.Perez"));
	assert_null(strstr(r->body, "elena@"));
	assert_null(strstr(r->body, "bzelaya@"));
	assert_null(strstr(r->body, "POL-99887766"));
	api_resp_free(r);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_and_get),	cmocka_unit_test(test_search_and_pagination),
	    cmocka_unit_test(test_update_and_policies), cmocka_unit_test(test_duplicate_document),
	    cmocka_unit_test(test_validation_errors),	cmocka_unit_test(test_auth_and_roles),
	    cmocka_unit_test(test_tenant_isolation),	cmocka_unit_test(test_delete),
	    cmocka_unit_test(test_anonymize),		cmocka_unit_test(test_audit_trail),
	};
	return cmocka_run_group_tests_name("api_patients", tests, api_setup, api_teardown);
}
