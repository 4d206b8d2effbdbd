/*
 * test_jsonv.c - request body validation of src/core/jsonv.c: unknown and
 * missing fields, nulls, every type's accepted and rejected values, bounds,
 * one_of lists, nested prefixes and the getters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/jsonv.h"

static const char *const payer_kinds[] = {"self", "insurer", "employer", NULL};

static const struct jv_field patient_fields[] = {
    {.name = "name", .type = JV_STRING, .flags = JV_REQUIRED, .min = 1, .max = 20},
    {.name = "kind", .type = JV_STRING, .one_of = payer_kinds},
    {.name = "age", .type = JV_INT, .min = 0, .max = 150},
    {.name = "count", .type = JV_INT},
    {.name = "price", .type = JV_DECIMAL, .scale = 2},
    {.name = "active", .type = JV_BOOL},
    {.name = "birthDate", .type = JV_DATE, .flags = JV_NULLABLE},
    {.name = "at", .type = JV_DATETIME},
    {.name = "email", .type = JV_EMAIL},
    {.name = "id", .type = JV_UUID},
    {.name = "meta", .type = JV_OBJECT},
    {.name = "items", .type = JV_ARRAY, .min = 1, .max = 3},
    {.name = "tags", .type = JV_ARRAY},
    {.name = "extra", .type = JV_ANY},
    {.name = "note", .type = JV_STRING, .flags = JV_NULLABLE},
};
#define NPATIENT (sizeof(patient_fields) / sizeof(patient_fields[0]))

static int check_text(const char *json, const char *prefix, struct err *e)
{
	json_error_t je;
	json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
	int rc;

	if (!v)
		fail_msg("bad test JSON %s: %s", json, je.text);
	err_clear(e);
	rc = jv_check(v, patient_fields, NPATIENT, prefix, e);
	json_decref(v);
	return rc;
}

static void ok(const char *json)
{
	struct err e;
	if (check_text(json, "", &e) != 0)
		fail_msg("%s rejected: %s (field %s)", json, e.message, e.field);
}

static void bad(const char *json, const char *field, const char *message)
{
	struct err e;
	if (check_text(json, "", &e) != ERR_INVALID)
		fail_msg("%s unexpectedly accepted", json);
	assert_int_equal(e.code, ERR_INVALID);
	if (strcmp(e.field, field) != 0)
		fail_msg("%s: field \"%s\", want \"%s\" (%s)", json, e.field, field, e.message);
	if (strcmp(e.message, message) != 0)
		fail_msg("%s: message \"%s\", want \"%s\"", json, e.message, message);
}

static void test_minimal_and_full(void **state)
{
	(void)state;
	ok("{\"name\":\"Ana\"}");
	ok("{\"name\":\"Ana\",\"kind\":\"insurer\",\"age\":0,\"count\":-9223372036854775807,"
	   "\"price\":\"12.50\",\"active\":false,\"birthDate\":\"2000-02-29\","
	   "\"at\":\"2025-10-14T10:00:00Z\",\"email\":\"ana@example.com\","
	   "\"id\":\"123e4567-e89b-12d3-a456-426614174000\",\"meta\":{},\"items\":[1],"
	   "\"tags\":[],\"extra\":[1,{\"a\":null}],\"note\":null}");
}

static void test_not_object(void **state)
{
	struct err e;
	(void)state;
	assert_int_equal(check_text("[]", "", &e), ERR_INVALID);
	assert_string_equal(e.message, "request body must be a JSON object");
	assert_string_equal(e.field, "");
	assert_int_equal(check_text("\"x\"", "lineItems[2].", &e), ERR_INVALID);
	assert_string_equal(e.field, "lineItems[2]");
	assert_string_equal(e.message, "lineItems[2] must be an object");
	err_clear(&e);
	assert_int_equal(jv_check(NULL, patient_fields, NPATIENT, "", &e), ERR_INVALID);
	assert_int_equal(jv_check(json_null(), patient_fields, NPATIENT, NULL, &e), ERR_INVALID);
}

static void test_unknown_and_missing(void **state)
{
	struct err e;
	(void)state;
	bad("{\"name\":\"Ana\",\"nmae\":1}", "nmae", "unknown field 'nmae'");
	bad("{\"nmae\":\"Ana\"}", "nmae", "unknown field 'nmae'");
	bad("{}", "name", "name is required");
	bad("{\"age\":3}", "name", "name is required");
	bad("{\"name\":null}", "name", "name is required");
	bad("{\"name\":\"\"}", "name", "name is required");
	bad("{\"name\":\"   \"}", "name", "name is required");
	bad("{\"name\":\"\\t\\n\"}", "name", "name is required");
	/* prefixes */
	assert_int_equal(check_text("{\"name\":\"A\",\"bogus\":1}", "lineItems[1].", &e), ERR_INVALID);
	assert_string_equal(e.field, "lineItems[1].bogus");
	assert_string_equal(e.message, "unknown field 'lineItems[1].bogus'");
	assert_int_equal(check_text("{}", "lineItems[1].", &e), ERR_INVALID);
	assert_string_equal(e.field, "lineItems[1].name");
	assert_string_equal(e.message, "lineItems[1].name is required");
	assert_int_equal(check_text("{\"name\":\"A\",\"age\":\"3\"}", "lineItems[0].", &e), ERR_INVALID);
	assert_string_equal(e.field, "lineItems[0].age");
	assert_string_equal(e.message, "lineItems[0].age must be an integer");
}

static void test_nulls(void **state)
{
	(void)state;
	ok("{\"name\":\"A\",\"birthDate\":null}");
	ok("{\"name\":\"A\",\"note\":null}");
	bad("{\"name\":\"A\",\"age\":null}", "age", "age must not be null");
	bad("{\"name\":\"A\",\"kind\":null}", "kind", "kind must not be null");
}

static void test_strings(void **state)
{
	char json[64];
	(void)state;
	bad("{\"name\":5}", "name", "name must be a string");
	bad("{\"name\":true}", "name", "name must be a string");
	bad("{\"name\":[\"a\"]}", "name", "name must be a string");
	ok("{\"name\":\"12345678901234567890\"}");
	bad("{\"name\":\"123456789012345678901\"}", "name", "name must be at most 20 bytes long");
	ok("{\"name\":\" a \"}");
	ok("{\"name\":\"\\u00e9\"}");
	/* default max is 10,000 bytes */
	ok("{\"name\":\"A\",\"note\":\"\"}");
	{
		static char big[10100];
		memset(big, 0, sizeof(big));
		strcpy(big, "{\"name\":\"A\",\"note\":\"");
		size_t n = strlen(big);
		memset(big + n, 'x', 10000);
		strcpy(big + n + 10000, "\"}");
		ok(big);
		big[n + 10000] = 'x';
		strcpy(big + n + 10001, "\"}");
		bad(big, "note", "note must be at most 10000 bytes long");
	}
	/* one_of */
	ok("{\"name\":\"A\",\"kind\":\"self\"}");
	ok("{\"name\":\"A\",\"kind\":\"employer\"}");
	bad("{\"name\":\"A\",\"kind\":\"Self\"}", "kind", "kind must be one of: self, insurer, employer");
	bad("{\"name\":\"A\",\"kind\":\"\"}", "kind", "kind must be one of: self, insurer, employer");
	bad("{\"name\":\"A\",\"kind\":1}", "kind", "kind must be a string");
	snprintf(json, sizeof(json), "{\"name\":\"A\",\"kind\":\"self \"}");
	bad(json, "kind", "kind must be one of: self, insurer, employer");
}

static void test_min_length(void **state)
{
	static const struct jv_field f[] = {
	    {.name = "code", .type = JV_STRING, .min = 3, .max = 5},
	};
	struct err e;
	json_t *o;
	(void)state;
	o = json_pack("{s:s}", "code", "ab");
	err_clear(&e);
	assert_int_equal(jv_check(o, f, 1, "", &e), ERR_INVALID);
	assert_string_equal(e.message, "code must be at least 3 bytes long");
	json_decref(o);
	o = json_pack("{s:s}", "code", "");
	err_clear(&e);
	assert_int_equal(jv_check(o, f, 1, "", &e), ERR_INVALID);
	json_decref(o);
	o = json_pack("{s:s}", "code", "abc");
	assert_int_equal(jv_check(o, f, 1, "", &e), 0);
	json_decref(o);
	o = json_object(); /* optional: absent is fine */
	assert_int_equal(jv_check(o, f, 1, "", &e), 0);
	json_decref(o);
}

static void test_ints(void **state)
{
	(void)state;
	ok("{\"name\":\"A\",\"age\":0}");
	ok("{\"name\":\"A\",\"age\":150}");
	bad("{\"name\":\"A\",\"age\":-1}", "age", "age must be at least 0");
	bad("{\"name\":\"A\",\"age\":151}", "age", "age must be at most 150");
	bad("{\"name\":\"A\",\"age\":1.0}", "age", "age must be an integer");
	bad("{\"name\":\"A\",\"age\":1.5}", "age", "age must be an integer");
	bad("{\"name\":\"A\",\"age\":true}", "age", "age must be an integer");
	bad("{\"name\":\"A\",\"age\":\"5\"}", "age", "age must be an integer");
	bad("{\"name\":\"A\",\"age\":1e2}", "age", "age must be an integer");
	/* both bounds 0: any int64 */
	ok("{\"name\":\"A\",\"count\":9223372036854775807}");
	ok("{\"name\":\"A\",\"count\":-9223372036854775808}");
	ok("{\"name\":\"A\",\"count\":0}");
}

static void test_int_lower_bound_only(void **state)
{
	static const struct jv_field f[] = {
	    {.name = "qty", .type = JV_INT, .min = 1},
	    {.name = "neg", .type = JV_INT, .min = -10, .max = 0},
	};
	json_t *o;
	struct err e;
	(void)state;
	o = json_pack("{s:I,s:i}", "qty", (json_int_t)INT64_MAX, "neg", 0);
	err_clear(&e);
	assert_int_equal(jv_check(o, f, 2, "", &e), 0);
	json_decref(o);
	o = json_pack("{s:i}", "qty", 0);
	assert_int_equal(jv_check(o, f, 2, "", &e), ERR_INVALID);
	assert_string_equal(e.message, "qty must be at least 1");
	json_decref(o);
	o = json_pack("{s:i}", "neg", 1);
	assert_int_equal(jv_check(o, f, 2, "", &e), ERR_INVALID);
	assert_string_equal(e.message, "neg must be at most 0");
	json_decref(o);
	o = json_pack("{s:i}", "neg", -11);
	assert_int_equal(jv_check(o, f, 2, "", &e), ERR_INVALID);
	assert_string_equal(e.message, "neg must be at least -10");
	json_decref(o);
}

static void test_decimals(void **state)
{
	(void)state;
	ok("{\"name\":\"A\",\"price\":\"12.50\"}");
	ok("{\"name\":\"A\",\"price\":12.5}");
	ok("{\"name\":\"A\",\"price\":12}");
	ok("{\"name\":\"A\",\"price\":\"-0.01\"}");
	bad("{\"name\":\"A\",\"price\":\"12.505\"}", "price", "price has more than 2 decimals");
	bad("{\"name\":\"A\",\"price\":12.505}", "price", "price has more than 2 decimals");
	bad("{\"name\":\"A\",\"price\":\"1e3\"}", "price", "price must be a decimal number");
	bad("{\"name\":\"A\",\"price\":\"\"}", "price", "price must be a decimal number");
	bad("{\"name\":\"A\",\"price\":true}", "price", "price must be a decimal number");
	bad("{\"name\":\"A\",\"price\":{}}", "price", "price must be a decimal number");
	bad("{\"name\":\"A\",\"price\":0.30000000000000004}", "price",
	    "price has too many digits for a JSON number; send as a decimal string");
	bad("{\"name\":\"A\",\"price\":\"92233720368547758.08\"}", "price", "price is too large");
}

static void test_other_types(void **state)
{
	(void)state;
	ok("{\"name\":\"A\",\"active\":true}");
	bad("{\"name\":\"A\",\"active\":1}", "active", "active must be a boolean");
	bad("{\"name\":\"A\",\"active\":\"true\"}", "active", "active must be a boolean");

	ok("{\"name\":\"A\",\"birthDate\":\"2024-02-29\"}");
	bad("{\"name\":\"A\",\"birthDate\":\"2023-02-29\"}", "birthDate", "birthDate must be a date (YYYY-MM-DD)");
	bad("{\"name\":\"A\",\"birthDate\":\"2023-02-28T00:00:00Z\"}", "birthDate",
	    "birthDate must be a date (YYYY-MM-DD)");
	bad("{\"name\":\"A\",\"birthDate\":20230228}", "birthDate", "birthDate must be a date (YYYY-MM-DD)");

	ok("{\"name\":\"A\",\"at\":\"2025-10-14T10:00:00Z\"}");
	ok("{\"name\":\"A\",\"at\":\"2025-10-14T04:00:00.250-06:00\"}");
	bad("{\"name\":\"A\",\"at\":\"2025-10-14\"}", "at", "at must be a date-time (YYYY-MM-DDTHH:MM:SSZ)");
	bad("{\"name\":\"A\",\"at\":\"2025-10-14T10:00:00\"}", "at", "at must be a date-time (YYYY-MM-DDTHH:MM:SSZ)");
	bad("{\"name\":\"A\",\"at\":1760436000}", "at", "at must be a date-time (YYYY-MM-DDTHH:MM:SSZ)");

	ok("{\"name\":\"A\",\"email\":\"a.b+c@mail.example.org\"}");
	ok("{\"name\":\"A\",\"email\":\"x@y.co\"}");
	static const char *const bad_emails[] = {
	    "\"\"",
	    "\"plain\"",
	    "\"a@b\"",
	    "\"@b.com\"",
	    "\"a@.com\"",
	    "\"a@b.\"",
	    "\"a@@b.com\"",
	    "\"a@b@c.com\"",
	    "\"a b@c.com\"",
	    "\"a@b..com\"",
	    "\"a@b.com \"",
	    "\"a\\t@b.com\"",
	    "5",
	};
	for (size_t i = 0; i < sizeof(bad_emails) / sizeof(bad_emails[0]); i++) {
		char json[128];
		snprintf(json, sizeof(json), "{\"name\":\"A\",\"email\":%s}", bad_emails[i]);
		struct err e;
		json_error_t je;
		json_t *v = json_loads(json, JSON_ALLOW_NUL, &je);
		assert_non_null(v);
		err_clear(&e);
		if (jv_check(v, patient_fields, NPATIENT, "", &e) != ERR_INVALID)
			fail_msg("email %s accepted", bad_emails[i]);
		assert_string_equal(e.message, "email must be an email address");
		json_decref(v);
	}
	{
		json_error_t je;
		struct err e;
		json_t *v = json_loads("{\"name\":\"A\",\"email\":\"a@b.com\\u0000x\"}", JSON_ALLOW_NUL, &je);
		assert_non_null(v);
		err_clear(&e);
		assert_int_equal(jv_check(v, patient_fields, NPATIENT, "", &e), ERR_INVALID);
		assert_string_equal(e.message, "email must not contain NUL characters");
		json_decref(v);
		v = json_loads("{\"name\":\"A\\u0000\"}", JSON_ALLOW_NUL, &je);
		assert_non_null(v);
		assert_int_equal(jv_check(v, patient_fields, NPATIENT, "", &e), ERR_INVALID);
		assert_string_equal(e.message, "name must not contain NUL characters");
		json_decref(v);
	}
	{
		char json[400], local[300];
		memset(local, 'a', 250);
		local[250] = '\0';
		snprintf(json, sizeof(json), "{\"name\":\"A\",\"email\":\"%s@b.co\"}", local);
		bad(json, "email", "email must be an email address"); /* 255 bytes */
		local[249] = '\0';
		snprintf(json, sizeof(json), "{\"name\":\"A\",\"email\":\"%s@b.co\"}", local);
		ok(json); /* 254 bytes */
	}

	ok("{\"name\":\"A\",\"id\":\"123E4567-E89B-12D3-A456-426614174000\"}");
	bad("{\"name\":\"A\",\"id\":\"123e4567-e89b-12d3-a456\"}", "id", "id must be a UUID");
	bad("{\"name\":\"A\",\"id\":42}", "id", "id must be a UUID");

	ok("{\"name\":\"A\",\"meta\":{\"x\":1}}");
	bad("{\"name\":\"A\",\"meta\":[]}", "meta", "meta must be an object");
	bad("{\"name\":\"A\",\"meta\":\"{}\"}", "meta", "meta must be an object");

	ok("{\"name\":\"A\",\"items\":[1,2,3]}");
	bad("{\"name\":\"A\",\"items\":[]}", "items", "items must have at least 1 item");
	bad("{\"name\":\"A\",\"items\":[1,2,3,4]}", "items", "items must have at most 3 items");
	bad("{\"name\":\"A\",\"items\":{}}", "items", "items must be an array");

	ok("{\"name\":\"A\",\"extra\":\"x\"}");
	ok("{\"name\":\"A\",\"extra\":1.5}");
	ok("{\"name\":\"A\",\"extra\":false}");
}

static void test_array_default_max(void **state)
{
	json_t *o = json_object(), *a = json_array();
	struct err e;
	(void)state;
	json_object_set_new(o, "name", json_string("A"));
	json_object_set_new(o, "tags", a);
	for (int i = 0; i < 1000; i++)
		json_array_append_new(a, json_integer(i));
	err_clear(&e);
	assert_int_equal(jv_check(o, patient_fields, NPATIENT, "", &e), 0);
	json_array_append_new(a, json_integer(1000));
	assert_int_equal(jv_check(o, patient_fields, NPATIENT, "", &e), ERR_INVALID);
	assert_string_equal(e.field, "tags");
	assert_string_equal(e.message, "tags must have at most 1000 items");
	json_decref(o);
}

static void test_long_one_of(void **state)
{
	static const char *const many[] = {
	    "aaaaaaaaaaaaaaaaaaaaaaaa",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "cccccccccccccccccccccccccc",
	    "dddddddddddddddddddddddd",
	    "eeeeeeeeeeeeeeeeeeeeeeeeeee",
	    "ffffffffffffffffffffffffff",
	    "gggggggggggggggggggggggg",
	    "hhhhhhhhhhhhhhhhhhhhhhhhhhh",
	    "iiiiiiiiiiiiiiiiiiiiiiiiii",
	    "jjjjjjjjjjjjjjjjjjjjjjjj",
	    NULL,
	};
	static const struct jv_field f[] = {
	    {.name = "v", .type = JV_STRING, .one_of = many},
	};
	json_t *o = json_pack("{s:s}", "v", "zzz");
	struct err e;
	(void)state;
	err_clear(&e);
	assert_int_equal(jv_check(o, f, 1, "", &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "v must be one of: aaaa"));
	assert_true(strlen(e.message) < sizeof(e.message) - 1);
	assert_non_null(strstr(e.message, "..."));
	json_decref(o);
	o = json_pack("{s:s}", "v", "jjjjjjjjjjjjjjjjjjjjjjjj");
	assert_int_equal(jv_check(o, f, 1, "", &e), 0);
	json_decref(o);
}

static void test_long_prefix(void **state)
{
	char prefix[200];
	json_t *o = json_object();
	struct err e;
	(void)state;
	memset(prefix, 'p', sizeof(prefix) - 2);
	prefix[sizeof(prefix) - 2] = '.';
	prefix[sizeof(prefix) - 1] = '\0';
	err_clear(&e);
	assert_int_equal(jv_check(o, patient_fields, NPATIENT, prefix, &e), ERR_INVALID);
	assert_true(strlen(e.field) < sizeof(e.field));
	json_decref(o);
}

static void test_getters(void **state)
{
	json_error_t je;
	json_t *o = json_loads("{\"s\":\"x\",\"i\":7,\"r\":1.5,\"b\":true,\"f\":false,\"n\":null}", 0, &je);
	(void)state;
	assert_non_null(o);
	assert_string_equal(jv_str(o, "s"), "x");
	assert_null(jv_str(o, "i"));
	assert_null(jv_str(o, "n"));
	assert_null(jv_str(o, "missing"));
	assert_int_equal(jv_int(o, "i", -1), 7);
	assert_int_equal(jv_int(o, "r", -1), -1);
	assert_int_equal(jv_int(o, "n", -1), -1);
	assert_int_equal(jv_int(o, "missing", 42), 42);
	assert_true(jv_bool(o, "b", false));
	assert_false(jv_bool(o, "f", true));
	assert_true(jv_bool(o, "n", true));
	assert_false(jv_bool(o, "missing", false));
	assert_true(jv_has(o, "n"));
	assert_true(jv_has(o, "s"));
	assert_false(jv_has(o, "missing"));
	assert_null(jv_str(NULL, "s"));
	assert_false(jv_has(NULL, "s"));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal_and_full),
	    cmocka_unit_test(test_not_object),
	    cmocka_unit_test(test_unknown_and_missing),
	    cmocka_unit_test(test_nulls),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_min_length),
	    cmocka_unit_test(test_ints),
	    cmocka_unit_test(test_int_lower_bound_only),
	    cmocka_unit_test(test_decimals),
	    cmocka_unit_test(test_other_types),
	    cmocka_unit_test(test_array_default_max),
	    cmocka_unit_test(test_long_one_of),
	    cmocka_unit_test(test_long_prefix),
	    cmocka_unit_test(test_getters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
