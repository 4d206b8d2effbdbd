/*
 * test_money.c - exact decimal parsing, formatting, JSON numbers and
 * rounding (half away from zero) of src/core/money.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/money.h"

static int64_t parse_ok(const char *text, int scale)
{
	struct err e;
	int64_t v = 12345;

	err_clear(&e);
	if (money_parse(text, scale, &v, "amount", &e) != 0)
		fail_msg("money_parse(\"%s\", %d) failed: %s", text, scale, e.message);
	return v;
}

static void parse_bad(const char *text, int scale, const char *msg_part)
{
	struct err e;
	int64_t v = 777;

	err_clear(&e);
	if (money_parse(text, scale, &v, "total", &e) != ERR_INVALID)
		fail_msg("money_parse(\"%s\", %d) unexpectedly accepted", text ? text : "(null)", scale);
	assert_int_equal(e.code, ERR_INVALID);
	assert_string_equal(e.field, "total");
	assert_int_equal(v, 777);
	if (msg_part && !strstr(e.message, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", e.message, msg_part);
}

static void test_currency_find(void **state)
{
	static const struct {
		const char *code;
		int units;
	} want[] = {
	    {"USD", 2}, {"EUR", 2}, {"SDG", 2}, {"MAD", 2}, {"DOP", 2}, {"GBP", 2}, {"CAD", 2}, {"MXN", 2},
	    {"GTQ", 2}, {"HNL", 2}, {"NIO", 2}, {"CRC", 2}, {"PAB", 2}, {"COP", 2}, {"PEN", 2}, {"CLP", 0},
	    {"JPY", 0}, {"KWD", 3}, {"BHD", 3}, {"JOD", 3}, {"TND", 3}, {"XOF", 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct currency *c = currency_find(want[i].code);
		assert_non_null(c);
		assert_string_equal(c->code, want[i].code);
		assert_int_equal(c->minor_units, want[i].units);
		assert_non_null(c->name);
		assert_true(strlen(c->name) > 0);
	}
	assert_string_equal(currency_find("USD")->name, "US Dollar");
	assert_null(currency_find("usd"));
	assert_null(currency_find("XXX"));
	assert_null(currency_find(""));
	assert_null(currency_find("USDD"));
	assert_null(currency_find(NULL));
}

static void test_parse_valid(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("12", 2), 1200);
	assert_int_equal(parse_ok("35.00", 2), 3500);
	assert_int_equal(parse_ok("35.5", 2), 3550);
	assert_int_equal(parse_ok("0.01", 2), 1);
	assert_int_equal(parse_ok("-0.5", 2), -50);
	assert_int_equal(parse_ok("-12.34", 2), -1234);
	assert_int_equal(parse_ok("0", 2), 0);
	assert_int_equal(parse_ok("-0", 2), 0);
	assert_int_equal(parse_ok("-0.00", 2), 0);
	assert_int_equal(parse_ok("007.10", 2), 710);
	assert_int_equal(parse_ok("13", PCT_SCALE), 130000);
	assert_int_equal(parse_ok("1.5", QTY_SCALE), 1500);
	assert_int_equal(parse_ok("1.234", QTY_SCALE), 1234);
	assert_int_equal(parse_ok("500", 0), 500);
	assert_int_equal(parse_ok("1.250", 3), 1250);
	/* int64 edges */
	assert_int_equal(parse_ok("9223372036854775807", 0), INT64_MAX);
	assert_int_equal(parse_ok("-9223372036854775807", 0), -INT64_MAX);
	assert_int_equal(parse_ok("92233720368547758.07", 2), INT64_MAX);
	assert_int_equal(parse_ok("-92233720368547758.07", 2), -INT64_MAX);
	assert_int_equal(parse_ok("0.000000000000000001", 18), 1);
}

static void test_parse_invalid(void **state)
{
	(void)state;
	parse_bad(NULL, 2, "must be a decimal number");
	parse_bad("", 2, "must be a decimal number");
	parse_bad("-", 2, NULL);
	parse_bad("+1", 2, NULL);
	parse_bad(" 1", 2, NULL);
	parse_bad("1 ", 2, NULL);
	parse_bad("1 000", 2, NULL);
	parse_bad("1,00", 2, NULL);
	parse_bad("1e2", 2, NULL);
	parse_bad("1E2", 2, NULL);
	parse_bad(".5", 2, NULL);
	parse_bad("5.", 2, NULL);
	parse_bad("-.5", 2, NULL);
	parse_bad("--1", 2, NULL);
	parse_bad("1.2.3", 2, NULL);
	parse_bad("0x10", 2, NULL);
	parse_bad("abc", 2, NULL);
	parse_bad("NaN", 2, NULL);
	parse_bad("inf", 2, NULL);
	parse_bad("1.001", 2, "total has more than 2 decimals");
	parse_bad("0.123", 2, "more than 2 decimals");
	parse_bad("1.00001", 4, "more than 4 decimals");
	parse_bad("1.25", 1, "more than 1 decimal");
	parse_bad("1.5", 0, "whole number");
	parse_bad("1.0", 0, "whole number");
	parse_bad("1.0000", 3, "more than 3 decimals");
	/* overflow */
	parse_bad("9223372036854775808", 0, "too large");
	parse_bad("-9223372036854775808", 0, "too large");
	parse_bad("92233720368547758.08", 2, "too large");
	parse_bad("92233720368547759", 2, "too large");
	parse_bad("99999999999999999999999999", 2, "too large");
	parse_bad("100000000000000000", 2, "too large");
}

static void test_parse_default_field_name(void **state)
{
	struct err e;
	int64_t v;
	(void)state;
	err_clear(&e);
	assert_int_equal(money_parse("1.001", 2, &v, NULL, &e), ERR_INVALID);
	assert_string_equal(e.message, "amount has more than 2 decimals");
	assert_string_equal(e.field, "");
	err_clear(&e);
	assert_int_equal(money_parse("1", 19, &v, "x", &e), ERR_INTERNAL);
	assert_int_equal(money_parse("1", -1, &v, "x", &e), ERR_INTERNAL);
}

static void test_format(void **state)
{
	char buf[MONEY_MAX_TEXT];
	(void)state;
	assert_string_equal(money_format(123450, 2, buf, sizeof(buf)), "1234.50");
	assert_string_equal(money_format(-5, 2, buf, sizeof(buf)), "-0.05");
	assert_string_equal(money_format(0, 2, buf, sizeof(buf)), "0.00");
	assert_string_equal(money_format(7, 0, buf, sizeof(buf)), "7");
	assert_string_equal(money_format(-7, 0, buf, sizeof(buf)), "-7");
	assert_string_equal(money_format(1, 3, buf, sizeof(buf)), "0.001");
	assert_string_equal(money_format(130000, 4, buf, sizeof(buf)), "13.0000");
	assert_string_equal(money_format(INT64_MAX, 2, buf, sizeof(buf)), "92233720368547758.07");
	assert_string_equal(money_format(INT64_MIN, 2, buf, sizeof(buf)), "-92233720368547758.08");
	assert_string_equal(money_format(INT64_MIN, 0, buf, sizeof(buf)), "-9223372036854775808");
	assert_string_equal(money_format(INT64_MIN, 18, buf, sizeof(buf)), "-9.223372036854775808");
	assert_string_equal(money_format(-1, 18, buf, sizeof(buf)), "-0.000000000000000001");
	assert_true(strlen(money_format(INT64_MIN, 18, buf, sizeof(buf))) < MONEY_MAX_TEXT);
	/* truncation is safe */
	char small[4];
	money_format(123456, 2, small, sizeof(small));
	assert_string_equal(small, "123");
}

static void test_format_parse_roundtrip(void **state)
{
	static const int64_t vals[] = {0, 1, -1, 99, -99, 100, 123456789, -987654321, INT64_MAX, -INT64_MAX};
	char buf[MONEY_MAX_TEXT];
	(void)state;
	for (int scale = 0; scale <= 4; scale++)
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
			assert_int_equal(parse_ok(money_format(vals[i], scale, buf, sizeof(buf)), scale), vals[i]);
}

static int from_json_text(const char *json, int scale, int64_t *out, struct err *e)
{
	json_error_t je;
	json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
	int rc;

	if (!v)
		fail_msg("bad test JSON %s: %s", json, je.text);
	err_clear(e);
	rc = money_from_json(v, scale, out, "price", e);
	json_decref(v);
	return rc;
}

static void json_ok(const char *json, int scale, int64_t want)
{
	struct err e;
	int64_t v = 0;
	if (from_json_text(json, scale, &v, &e) != 0)
		fail_msg("money_from_json(%s, %d) failed: %s", json, scale, e.message);
	assert_int_equal(v, want);
}

static void json_bad(const char *json, int scale, const char *msg_part)
{
	struct err e;
	int64_t v = 0;
	if (from_json_text(json, scale, &v, &e) != ERR_INVALID)
		fail_msg("money_from_json(%s, %d) unexpectedly accepted", json, scale);
	assert_string_equal(e.field, "price");
	if (msg_part && !strstr(e.message, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", e.message, msg_part);
}

static void test_from_json(void **state)
{
	(void)state;
	/* strings */
	json_ok("\"12.50\"", 2, 1250);
	json_ok("\"-0.01\"", 2, -1);
	json_bad("\"12.505\"", 2, "more than 2 decimals");
	json_bad("\"1e3\"", 2, NULL);
	json_bad("\"\"", 2, "decimal number");
	/* integers */
	json_ok("12", 2, 1200);
	json_ok("-3", 2, -300);
	json_ok("0", 0, 0);
	json_ok("92233720368547758", 2, 9223372036854775800);
	json_bad("92233720368547759", 2, "too large");
	json_bad("-92233720368547759", 2, "too large");
	json_ok("9223372036854775807", 0, INT64_MAX);
	/* reals */
	json_ok("12.5", 2, 1250);
	json_ok("0.1", 2, 10);
	json_ok("1.15", 2, 115);
	json_ok("-1.15", 2, -115);
	json_ok("230.0", 2, 23000);
	json_ok("1.0", 0, 1);
	json_ok("0.3", 1, 3);
	json_ok("99999999999.99", 2, 9999999999999);
	json_ok("1e2", 2, 10000);
	json_ok("1.5E1", 2, 1500);
	json_ok("1e-2", 2, 1);
	json_ok("0.00001", 5, 1);
	json_ok("1.5e-5", 6, 15);
	json_ok("1e15", 2, 100000000000000000);
	json_ok("-2.5e15", 0, -2500000000000000);
	json_bad("1e-5", 2, "more than 2 decimals");
	json_bad("12.345", 2, "more than 2 decimals");
	json_bad("0.30000000000000004", 2, "send as a decimal string");
	json_bad("1234567890.1234567", 8, "send as a decimal string");
	json_bad("1e17", 2, "too large");
	json_bad("1e300", 2, NULL);
	json_bad("1e-300", 2, NULL);
	/* other types */
	json_bad("true", 2, "must be a decimal number");
	json_bad("null", 2, "must be a decimal number");
	json_bad("[1]", 2, "must be a decimal number");
	json_bad("{}", 2, "must be a decimal number");
}

static void test_from_json_null_value(void **state)
{
	struct err e;
	int64_t v;
	(void)state;
	err_clear(&e);
	assert_int_equal(money_from_json(NULL, 2, &v, "price", &e), ERR_INVALID);
}

static void test_json_outputs(void **state)
{
	json_t *s, *n;
	char *dump;
	(void)state;
	s = money_json_string(123450, 2);
	assert_string_equal(json_string_value(s), "1234.50");
	json_decref(s);
	s = money_json_string(-5, 2);
	assert_string_equal(json_string_value(s), "-0.05");
	json_decref(s);

	n = money_json_number(23000, 2);
	assert_true(json_is_real(n));
	assert_true(json_real_value(n) == 230.0);
	dump = json_dumps(n, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	assert_string_equal(dump, "230.0");
	free(dump);
	json_decref(n);

	n = money_json_number(10, 2);
	assert_true(json_real_value(n) == 0.1);
	dump = json_dumps(n, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	assert_string_equal(dump, "0.1");
	free(dump);
	json_decref(n);

	n = money_json_number(999999999999999, 2); /* 9999999999999.99 */
	dump = json_dumps(n, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	assert_string_equal(dump, "9999999999999.99");
	free(dump);
	json_decref(n);

	/* a number produced here is accepted back exactly */
	for (int64_t v = -1005; v <= 1005; v += 7) {
		struct err e;
		int64_t back = 0;
		n = money_json_number(v, 2);
		err_clear(&e);
		assert_int_equal(money_from_json(n, 2, &back, "x", &e), 0);
		assert_int_equal(back, v);
		json_decref(n);
	}
}

static int64_t mul(int64_t a, int64_t b, int div_scale)
{
	struct err e;
	int64_t out = 0;
	err_clear(&e);
	if (money_mul_round(a, b, div_scale, &out, &e) != 0)
		fail_msg("money_mul_round(%lld, %lld, %d) failed", (long long)a, (long long)b, div_scale);
	return out;
}

static void test_mul_round(void **state)
{
	struct err e;
	int64_t out;
	(void)state;
	/* half away from zero, both signs */
	assert_int_equal(mul(25, 1, 1), 3);   /* 2.5 -> 3 */
	assert_int_equal(mul(-25, 1, 1), -3); /* -2.5 -> -3 */
	assert_int_equal(mul(25, -1, 1), -3);
	assert_int_equal(mul(-25, -1, 1), 3);
	assert_int_equal(mul(24999, 1, 4), 2); /* 2.4999 -> 2 */
	assert_int_equal(mul(-24999, 1, 4), -2);
	assert_int_equal(mul(25001, 1, 4), 3);
	assert_int_equal(mul(15, 1, 1), 2); /* 1.5 -> 2 (not banker's) */
	assert_int_equal(mul(-15, 1, 1), -2);
	assert_int_equal(mul(35, 1, 1), 4);
	assert_int_equal(mul(14, 1, 1), 1);
	assert_int_equal(mul(-14, 1, 1), -1);
	/* money x quantity: 19.99 x 3.000 at scale 2 */
	assert_int_equal(mul(1999, 3000, QTY_SCALE), 5997);
	/* 13% of 10.05 = 1.3065 -> 1.31 */
	assert_int_equal(mul(1005, 130000, PCT_SCALE + 2), 131);
	/* 13% of 10.03 = 1.3039 -> 1.30 */
	assert_int_equal(mul(1003, 130000, PCT_SCALE + 2), 130);
	/* 13% of 0.50 = 0.065 -> 0.07 (exact half) */
	assert_int_equal(mul(50, 130000, PCT_SCALE + 2), 7);
	assert_int_equal(mul(-50, 130000, PCT_SCALE + 2), -7);
	assert_int_equal(mul(0, INT64_MAX, 0), 0);
	assert_int_equal(mul(7, 3, 0), 21);
	/* 128-bit intermediate: the product exceeds int64, the result does not */
	assert_int_equal(mul(INT64_MAX, 1000, 3), INT64_MAX);
	assert_int_equal(mul(INT64_MIN, 1000, 3), INT64_MIN);
	/* (2^63-1)^2 / 10^18 ~ 8.5e19 does not fit */
	err_clear(&e);
	assert_int_equal(money_mul_round(INT64_MAX, INT64_MAX, 18, &out, &e), ERR_INVALID);
	assert_int_equal(e.code, ERR_INVALID);
	err_clear(&e);
	assert_int_equal(money_mul_round(INT64_MAX, 2, 0, &out, &e), ERR_INVALID);
	err_clear(&e);
	assert_int_equal(money_mul_round(INT64_MIN, -1, 0, &out, &e), ERR_INVALID);
	err_clear(&e);
	assert_int_equal(money_mul_round(INT64_MIN, 1, 0, &out, &e), 0);
	assert_int_equal(out, INT64_MIN);
	err_clear(&e);
	assert_int_equal(money_mul_round(1, 1, 19, &out, &e), ERR_INTERNAL);
	/* rounding can reach but not pass INT64_MAX */
	assert_int_equal(mul(INT64_MAX / 10 * 10 + 7, 1, 1), INT64_MAX / 10 + 1);
}

static void test_div_round(void **state)
{
	(void)state;
	assert_int_equal(money_div_round(5, 2), 3);   /* 2.5 -> 3 */
	assert_int_equal(money_div_round(-5, 2), -3); /* -2.5 -> -3 */
	assert_int_equal(money_div_round(5, -2), -3);
	assert_int_equal(money_div_round(-5, -2), 3);
	assert_int_equal(money_div_round(24999, 10000), 2);
	assert_int_equal(money_div_round(-24999, 10000), -2);
	assert_int_equal(money_div_round(7, 3), 2);
	assert_int_equal(money_div_round(8, 3), 3);
	assert_int_equal(money_div_round(-8, 3), -3);
	assert_int_equal(money_div_round(10000, 3), 3333);
	assert_int_equal(money_div_round(0, 7), 0);
	assert_int_equal(money_div_round(INT64_MAX, 1), INT64_MAX);
	assert_int_equal(money_div_round(INT64_MIN, 1), INT64_MIN);
	assert_int_equal(money_div_round(INT64_MIN, 2), INT64_MIN / 2);
	assert_int_equal(money_div_round(INT64_MAX, 2), INT64_MAX / 2 + 1);
	assert_int_equal(money_div_round(INT64_MIN, -1), INT64_MAX); /* saturates */
	assert_int_equal(money_div_round(INT64_MIN, INT64_MIN), 1);
	assert_int_equal(money_div_round(INT64_MAX, INT64_MIN), -1);
	assert_int_equal(money_div_round(1, INT64_MIN), 0);
	assert_int_equal(money_div_round(5, 0), 0); /* precondition violated: no crash */
}

static void test_rescale(void **state)
{
	struct err e;
	int64_t out;
	(void)state;
	err_clear(&e);
	assert_int_equal(money_rescale(12345, 3, 2, &out, &e), 0);
	assert_int_equal(out, 1235); /* 12.345 -> 12.35 */
	assert_int_equal(money_rescale(-12345, 3, 2, &out, &e), 0);
	assert_int_equal(out, -1235);
	assert_int_equal(money_rescale(12344, 3, 2, &out, &e), 0);
	assert_int_equal(out, 1234);
	assert_int_equal(money_rescale(25, 1, 0, &out, &e), 0);
	assert_int_equal(out, 3);
	assert_int_equal(money_rescale(-25, 1, 0, &out, &e), 0);
	assert_int_equal(out, -3);
	assert_int_equal(money_rescale(24999, 4, 0, &out, &e), 0);
	assert_int_equal(out, 2);
	assert_int_equal(money_rescale(1234, 2, 2, &out, &e), 0);
	assert_int_equal(out, 1234);
	assert_int_equal(money_rescale(1234, 2, 4, &out, &e), 0);
	assert_int_equal(out, 123400);
	assert_int_equal(money_rescale(-1234, 2, 4, &out, &e), 0);
	assert_int_equal(out, -123400);
	assert_int_equal(money_rescale(INT64_MIN, 2, 0, &out, &e), 0);
	assert_int_equal(out, INT64_MIN / 100); /* -...758.08 -> -...758 */
	assert_int_equal(money_rescale(INT64_MIN, 1, 0, &out, &e), 0);
	assert_int_equal(out, INT64_MIN / 10 - 1); /* -...477580.8 -> -...477581 */
	assert_int_equal(money_rescale(-250, 2, 0, &out, &e), 0);
	assert_int_equal(out, -3);
	assert_int_equal(money_rescale(-249, 2, 0, &out, &e), 0);
	assert_int_equal(out, -2);
	assert_int_equal(money_rescale(INT64_MAX, 18, 0, &out, &e), 0);
	assert_int_equal(out, 9);
	assert_int_equal(money_rescale(INT64_MAX / 100 + 1, 0, 2, &out, &e), ERR_INVALID);
	assert_int_equal(money_rescale(INT64_MIN / 100 - 1, 0, 2, &out, &e), ERR_INVALID);
	assert_int_equal(money_rescale(INT64_MAX / 100, 0, 2, &out, &e), 0);
	assert_int_equal(out, INT64_MAX / 100 * 100);
	assert_int_equal(money_rescale(1, 0, 19, &out, &e), ERR_INTERNAL);
	assert_int_equal(money_rescale(1, -1, 2, &out, &e), ERR_INTERNAL);
}

static void test_add(void **state)
{
	struct err e;
	int64_t out;
	(void)state;
	err_clear(&e);
	assert_int_equal(money_add(100, 250, &out, &e), 0);
	assert_int_equal(out, 350);
	assert_int_equal(money_add(-100, 50, &out, &e), 0);
	assert_int_equal(out, -50);
	assert_int_equal(money_add(INT64_MAX, 0, &out, &e), 0);
	assert_int_equal(out, INT64_MAX);
	assert_int_equal(money_add(INT64_MAX, -1, &out, &e), 0);
	assert_int_equal(money_add(INT64_MIN, INT64_MAX, &out, &e), 0);
	assert_int_equal(out, -1);
	assert_int_equal(money_add(INT64_MAX, 1, &out, &e), ERR_INVALID);
	assert_int_equal(e.code, ERR_INVALID);
	err_clear(&e);
	assert_int_equal(money_add(INT64_MIN, -1, &out, &e), ERR_INVALID);
	assert_int_equal(money_add(INT64_MIN, INT64_MIN, &out, &e), ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_currency_find), cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_parse_invalid), cmocka_unit_test(test_parse_default_field_name),
	    cmocka_unit_test(test_format),	  cmocka_unit_test(test_format_parse_roundtrip),
	    cmocka_unit_test(test_from_json),	  cmocka_unit_test(test_from_json_null_value),
	    cmocka_unit_test(test_json_outputs),  cmocka_unit_test(test_mul_round),
	    cmocka_unit_test(test_div_round),	  cmocka_unit_test(test_rescale),
	    cmocka_unit_test(test_add),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
