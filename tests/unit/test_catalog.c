/*
 * test_catalog.c - unit tests of the service catalog's rules (catalog.c):
 * procedure codes (CPT / HCPCS Level II), MH CAT-014 units, exact price
 * parsing per currency, service codes, input checks, and the JSON shape;
 * then, on a temporary migrated SQLite database, catalog_price_at (the
 * lookup billing documents use) across a price change. The HTTP operations
 * are covered on both backends by tests/api/test_catalog.c.
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

#include "core/log.h"
#include "db/db.h"

#include "mod/catalog/catalog.h"

static void test_procedure_codes(void **state)
{
	static const char *const valid[] = {
	    "99213", "85025", "00100", "0001F", "0042T", "0001U", "J1100", "A0425", "G0008", "V2020", "D0120", "E0114",
	};
	static const char *const invalid[] = {
	    "9921",   /* too short */
	    "992134", /* too long */
	    "ABCDE",  /* letters only */
	    "W1234",  /* HCPCS letters stop at V */
	    "Z1234",  /* idem */
	    "0001X",  /* Category II/III/PLA suffixes are F, T, U only */
	    "0001f",  /* exact form is upper-case */
	    "j1100",  /* idem */
	    "J110",   /* HCPCS needs 4 digits */
	    "J11000", /* idem */
	    "JJ100",  /* one letter */
	    "99 13",  /* space */
	    "9921F3", /* suffix in the middle */
	    "",	      /* empty */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (!catalog_procedure_code_valid(valid[i]))
			fail_msg("%s should be a valid procedure code", valid[i]);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (catalog_procedure_code_valid(invalid[i]))
			fail_msg("%s should be an invalid procedure code", invalid[i]);
	assert_false(catalog_procedure_code_valid(NULL));
}

static void test_units_of_measure(void **state)
{
	static const int allowed[] = {1,  2,  6,  9,  10, 13, 15, 18, 20, 22, 23, 24, 26, 30, 32, 33, 34, 36, 37, 38,
				      39, 40, 42, 43, 44, 45, 46, 47, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 99};
	size_t nallowed = sizeof(allowed) / sizeof(allowed[0]);

	(void)state;
	assert_int_equal(nallowed, 40);
	for (int code = -5; code <= 120; code++) {
		bool want = false;
		for (size_t i = 0; i < nallowed; i++)
			if (allowed[i] == code)
				want = true;
		if (want != (catalog_uom_name(code) != NULL))
			fail_msg("unit %d: expected %s", code, want ? "allowed" : "refused");
	}
	assert_string_equal(catalog_uom_name(59), "unidad");
	assert_string_equal(catalog_uom_name(99), "otra");
	assert_string_equal(catalog_uom_name(58), "docena");
	assert_string_equal(catalog_uom_name(26), "mililitro");
	assert_null(catalog_uom_name(INT64_MAX));
}

/* Parse v (owned, stolen) for currency code; returns rc, *out on success. */
static int parse(json_t *v, const char *code, int64_t *out, struct err *e)
{
	int rc;

	err_clear(e);
	rc = catalog_price_parse(v, currency_find(code), out, e);
	json_decref(v);
	return rc;
}

static void expect_price(json_t *v, const char *code, int64_t want)
{
	struct err e;
	int64_t got = -1;
	int rc = parse(v, code, &got, &e);

	if (rc != 0)
		fail_msg("price in %s refused: %s", code, e.message);
	assert_int_equal(got, want);
}

static void expect_bad_price(json_t *v, const char *code)
{
	struct err e;
	int64_t got = -1;
	int rc = parse(v, code, &got, &e);

	assert_int_equal(rc, ERR_INVALID);
	assert_string_equal(e.field, "price");
	assert_int_equal(got, -1);
}

static void test_price_parsing(void **state)
{
	(void)state;
	expect_price(json_string("35.00"), "USD", 3500);
	expect_price(json_string("35"), "USD", 3500);
	expect_price(json_string("35.5"), "USD", 3550);
	expect_price(json_string("0"), "USD", 0);
	expect_price(json_string("0.01"), "USD", 1);
	expect_price(json_integer(35), "USD", 3500);
	expect_price(json_real(35.5), "USD", 3550);
	expect_price(json_real(0.1), "USD", 10);
	expect_price(json_string("1500"), "JPY", 1500);
	expect_price(json_string("1.234"), "KWD", 1234);
	expect_price(json_string("92233720368547758.07"), "USD", INT64_MAX);

	expect_bad_price(json_string("35.001"), "USD"); /* more decimals than cents */
	expect_bad_price(json_real(35.001), "USD");
	expect_bad_price(json_string("-1"), "USD");
	expect_bad_price(json_integer(-1), "USD");
	expect_bad_price(json_real(-0.5), "USD");
	expect_bad_price(json_string("1e3"), "USD"); /* exponents only as JSON numbers */
	expect_bad_price(json_string(""), "USD");
	expect_bad_price(json_string(" 35"), "USD");
	expect_bad_price(json_string("35."), "USD");
	expect_bad_price(json_string(".5"), "USD");
	expect_bad_price(json_string("35,00"), "USD");
	expect_bad_price(json_string("+35"), "USD");
	expect_bad_price(json_string("abc"), "USD");
	expect_bad_price(json_string("35.5"), "JPY"); /* yen has no minor unit */
	expect_bad_price(json_string("92233720368547758.08"), "USD");
	expect_bad_price(json_true(), "USD");
	expect_bad_price(json_null(), "USD");
	expect_bad_price(json_object(), "USD");
}

static void test_service_codes(void **state)
{
	(void)state;
	assert_true(catalog_code_valid("CONS-GEN"));
	assert_true(catalog_code_valid("lab.hemo_01"));
	assert_true(catalog_code_valid("A"));
	assert_true(catalog_code_valid("12345678901234567890123456789012"));   /* 32 */
	assert_false(catalog_code_valid("123456789012345678901234567890123")); /* 33 */
	assert_false(catalog_code_valid(""));
	assert_false(catalog_code_valid("CONS GEN"));
	assert_false(catalog_code_valid("CONS/GEN"));
	assert_false(catalog_code_valid("CÓDIGO"));
	assert_false(catalog_code_valid(NULL));
}

static void test_enums(void **state)
{
	(void)state;
	assert_int_equal(catalog_tax_parse("taxable"), CATALOG_TAX_TAXABLE);
	assert_int_equal(catalog_tax_parse("exempt"), CATALOG_TAX_EXEMPT);
	assert_int_equal(catalog_tax_parse("not_subject"), CATALOG_TAX_NOT_SUBJECT);
	assert_int_equal(catalog_tax_parse("Taxable"), -1);
	assert_int_equal(catalog_tax_parse(NULL), -1);
	assert_int_equal(catalog_tax_rate_bp(CATALOG_TAX_TAXABLE), 1300);
	assert_int_equal(catalog_tax_rate_bp(CATALOG_TAX_EXEMPT), 0);
	assert_int_equal(catalog_tax_rate_bp(CATALOG_TAX_NOT_SUBJECT), 0);
	assert_int_equal(catalog_item_type_parse("good"), 1);	 /* MH tipoItem 1 bienes */
	assert_int_equal(catalog_item_type_parse("service"), 2); /* MH tipoItem 2 servicios */
	assert_int_equal(catalog_item_type_parse("both"), -1);
	assert_string_equal(catalog_item_type_name(CATALOG_ITEM_GOOD), "good");
	assert_string_equal(catalog_tax_name(CATALOG_TAX_NOT_SUBJECT), "not_subject");
}

/* A valid create input; tests break one field at a time. */
static struct catalog_input good_input(json_t *price)
{
	struct catalog_input in = {
	    .set = CATALOG_F_CODE | CATALOG_F_NAME | CATALOG_F_CATEGORY | CATALOG_F_PRICE,
	    .code = "CONS-GEN",
	    .name = "Consulta general",
	    .category = "Consultas",
	    .price = price,
	};
	return in;
}

static void expect_input_error(const struct catalog_input *in, bool create, const char *field)
{
	struct err e;

	err_clear(&e);
	if (catalog_input_check(in, create, &e) != ERR_INVALID)
		fail_msg("input accepted, expected an error on %s", field);
	assert_string_equal(e.field, field);
}

static void test_input_check(void **state)
{
	json_t *price = json_string("35.00");
	struct catalog_input in;
	struct err e;
	char name[4 * CATALOG_NAME_MAX + 8];

	(void)state;
	in = good_input(price);
	assert_int_equal(catalog_input_check(&in, true, &e), 0);

	in = good_input(price);
	in.code = NULL;
	expect_input_error(&in, true, "code");
	in = good_input(price);
	in.code = "bad code";
	expect_input_error(&in, true, "code");
	in = good_input(price);
	in.name = "   ";
	expect_input_error(&in, true, "name");
	in = good_input(price);
	in.name = "line\nbreak";
	expect_input_error(&in, true, "name");
	in = good_input(price);
	in.category = NULL;
	expect_input_error(&in, true, "category");
	in = good_input(NULL);
	expect_input_error(&in, true, "price");

	/* 200 characters of two bytes each are fine, 201 are not. */
	name[0] = '\0';
	for (int i = 0; i < CATALOG_NAME_MAX; i++)
		strcat(name, "é");
	in = good_input(price);
	in.name = name;
	assert_int_equal(catalog_input_check(&in, true, &e), 0);
	strcat(name, "a");
	expect_input_error(&in, true, "name");

	in = good_input(price);
	in.set |= CATALOG_F_CURRENCY;
	in.currency = "usd";
	expect_input_error(&in, true, "currency");
	in.currency = "XYZ";
	expect_input_error(&in, true, "currency");
	in = good_input(price);
	in.set |= CATALOG_F_TAX;
	in.tax = "zero";
	expect_input_error(&in, true, "taxTreatment");
	in = good_input(price);
	in.set |= CATALOG_F_ITEM_TYPE;
	in.item_type = "thing";
	expect_input_error(&in, true, "itemType");
	in = good_input(price);
	in.set |= CATALOG_F_UOM;
	in.unit_of_measure = 3;
	expect_input_error(&in, true, "unitOfMeasure");
	in = good_input(price);
	in.set |= CATALOG_F_PROCEDURE;
	in.procedure_code = "W1234";
	expect_input_error(&in, true, "procedureCode");
	in.procedure_code = "j1100"; /* normalised to upper case */
	assert_int_equal(catalog_input_check(&in, true, &e), 0);
	in.procedure_code = NULL; /* clears */
	assert_int_equal(catalog_input_check(&in, true, &e), 0);

	/* Updates check only what is set. */
	memset(&in, 0, sizeof(in));
	assert_int_equal(catalog_input_check(&in, false, &e), 0);
	in.set = CATALOG_F_NAME;
	expect_input_error(&in, false, "name");
	in.set = CATALOG_F_PRICE;
	expect_input_error(&in, false, "price");
	json_decref(price);
}

static void test_service_json(void **state)
{
	struct catalog_service s = {
	    .id = "0b9f6c1e-3c1b-4d1a-9a51-0d2f1f1e2a3b",
	    .code = "CONS-GEN",
	    .name = "Consulta general",
	    .category = "Consultas",
	    .price_minor = 3500,
	    .currency = "USD",
	    .tax = CATALOG_TAX_TAXABLE,
	    .tax_rate_bp = 1300,
	    .item_type = CATALOG_ITEM_SERVICE,
	    .unit_of_measure = 59,
	    .active = true,
	    .created_at = "2025-10-14T10:00:00Z",
	    .updated_at = "2025-10-14T10:00:00Z",
	};
	json_t *j = catalog_service_json(&s);

	(void)state;
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "price")), "35.00");
	assert_string_equal(json_string_value(json_object_get(j, "taxRate")), "13.00");
	assert_string_equal(json_string_value(json_object_get(j, "taxTreatment")), "taxable");
	assert_string_equal(json_string_value(json_object_get(j, "itemType")), "service");
	assert_int_equal(json_integer_value(json_object_get(j, "mhTipoItem")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "unitOfMeasure")), 59);
	assert_string_equal(json_string_value(json_object_get(j, "unitOfMeasureName")), "unidad");
	assert_true(json_is_null(json_object_get(j, "description")));
	assert_true(json_is_null(json_object_get(j, "procedureCode")));
	assert_true(json_is_true(json_object_get(j, "active")));
	assert_int_equal(json_object_size(j), 17);
	json_decref(j);

	s.tax = CATALOG_TAX_EXEMPT;
	s.tax_rate_bp = 0;
	s.item_type = CATALOG_ITEM_GOOD;
	strcpy(s.currency, "JPY");
	s.price_minor = 1500;
	strcpy(s.procedure_code, "J1100");
	j = catalog_service_json(&s);
	assert_string_equal(json_string_value(json_object_get(j, "price")), "1500");
	assert_string_equal(json_string_value(json_object_get(j, "taxRate")), "0.00");
	assert_int_equal(json_integer_value(json_object_get(j, "mhTipoItem")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "procedureCode")), "J1100");
	json_decref(j);
}

#define TENANT "11111111-1111-4111-8111-111111111111"

static int exec_sql(struct db *db, const char *sql)
{
	struct db_conn *c = NULL;
	struct err e;
	int rc = db_acquire(db, DB_WRITE, &c, &e);

	if (rc == 0)
		rc = db_exec(c, sql, NULL, 0, NULL, &e);
	if (c)
		db_release(c);
	if (rc)
		fprintf(stderr, "%s: %s (%s)\n", sql, e.message, e.detail);
	return rc;
}

static void test_price_at(void **state)
{
	char dir[] = "/tmp/test_catalog.XXXXXX", url[128];
	struct actor who = {.tenant_id = TENANT, .kind = "system", .id = "test_catalog"};
	struct arena *a = arena_new(0);
	struct catalog_service *s, *s2;
	struct catalog_input in;
	struct catalog_price p;
	struct db_conn *c = NULL;
	struct db *db = NULL;
	json_t *price = json_string("20.00"), *price2 = json_string("25.50");
	struct err e;

	(void)state;
	log_set_level(LOG_WARN);
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "%s/catalog.db", dir);
	assert_int_equal(db_open(url, NULL, &db, &e), 0);
	assert_int_equal(db_migrate(db, NULL, &e), 0);
	assert_int_equal(exec_sql(db, "INSERT INTO tenants (id, name, slug, kind, currency, country, created_at, "
				      "updated_at) VALUES ('" TENANT "', 'T', 't', 'clinic', 'USD', 'SV', "
				      "'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')"),
			 0);

	in = good_input(price);
	assert_int_equal(catalog_create(db, &who, &in, a, &s, &e), 0);
	assert_string_equal(s->currency, "USD"); /* the tenant's */
	/* Pretend the first price was set long ago. */
	assert_int_equal(exec_sql(db, "UPDATE service_prices SET valid_from = '2025-01-01T00:00:00Z'"), 0);

	memset(&in, 0, sizeof(in));
	in.set = CATALOG_F_PRICE | CATALOG_F_TAX;
	in.price = price2;
	in.tax = "exempt";
	assert_int_equal(catalog_update(db, &who, s->id, &in, a, &s2, &e), 0);
	assert_int_equal(s2->price_minor, 2550);

	assert_int_equal(db_acquire(db, DB_READ, &c, &e), 0);
	assert_int_equal(catalog_price_at(c, TENANT, s->id, "2025-06-01T12:00:00Z", &p, &e), 0);
	assert_int_equal(p.price_minor, 2000);
	assert_int_equal(p.tax, CATALOG_TAX_TAXABLE);
	assert_int_equal(p.tax_rate_bp, 1300);
	assert_int_equal(p.minor_units, 2);
	assert_string_equal(p.currency, "USD");
	assert_string_equal(p.valid_from, "2025-01-01T00:00:00Z");
	assert_true(p.valid_to[0] != '\0');
	/* A zone offset is normalised before comparing. */
	assert_int_equal(catalog_price_at(c, TENANT, s->id, "2025-06-01T06:00:00-06:00", &p, &e), 0);
	assert_int_equal(p.price_minor, 2000);
	assert_int_equal(catalog_price_at(c, TENANT, s->id, NULL, &p, &e), 0);
	assert_int_equal(p.price_minor, 2550);
	assert_int_equal(p.tax, CATALOG_TAX_EXEMPT);
	assert_int_equal(p.tax_rate_bp, 0);
	assert_string_equal(p.valid_to, "");
	/* Before the service existed, another tenant, a bad instant. */
	assert_int_equal(catalog_price_at(c, TENANT, s->id, "2024-12-31T23:59:59Z", &p, &e), ERR_NOT_FOUND);
	assert_int_equal(catalog_price_at(c, "22222222-2222-4222-8222-222222222222", s->id, NULL, &p, &e),
			 ERR_NOT_FOUND);
	assert_int_equal(catalog_price_at(c, TENANT, s->id, "yesterday", &p, &e), ERR_INVALID);
	assert_string_equal(e.field, "at");
	/* catalog_get: tenant-scoped. */
	assert_int_equal(catalog_get(c, TENANT, s->id, a, &s2, &e), 0);
	assert_string_equal(s2->code, "CONS-GEN");
	assert_int_equal(catalog_get(c, "22222222-2222-4222-8222-222222222222", s->id, a, &s2, &e), ERR_NOT_FOUND);
	db_release(c);

	db_close(db);
	arena_free(a);
	json_decref(price);
	json_decref(price2);
	for (size_t i = 0; i < 3; i++) {
		static const char *const suffix[] = {"", "-wal", "-shm"};
		char f[160];
		snprintf(f, sizeof(f), "%s%s", url, suffix[i]);
		unlink(f);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_procedure_codes), cmocka_unit_test(test_units_of_measure),
	    cmocka_unit_test(test_price_parsing),   cmocka_unit_test(test_service_codes),
	    cmocka_unit_test(test_enums),	    cmocka_unit_test(test_input_check),
	    cmocka_unit_test(test_service_json),    cmocka_unit_test(test_price_at),
	};
	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
