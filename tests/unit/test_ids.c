/*
 * test_ids.c - UUID generation and the DUI / NIT / NRC / RNC / cédula
 * check digits of src/core/ids.c, with the vectors of
 * ../shared/dte-sv/README.md §3.9 and §8 and their one-digit flips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/ids.h"

static void test_uuid_v4(void **state)
{
	char a[UUID_LEN + 1], b[UUID_LEN + 1];
	(void)state;
	for (int i = 0; i < 200; i++) {
		uuid_v4(a);
		assert_int_equal(strlen(a), UUID_LEN);
		assert_true(uuid_valid(a));
		assert_int_equal(a[14], '4');
		assert_non_null(strchr("89ab", a[19]));
		for (int j = 0; j < UUID_LEN; j++)
			assert_false(a[j] >= 'A' && a[j] <= 'F');
		uuid_v4(b);
		assert_string_not_equal(a, b);
	}
	uuid_v4_upper(a);
	assert_true(uuid_valid(a));
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89AB", a[19]));
	for (int j = 0; j < UUID_LEN; j++)
		assert_false(a[j] >= 'a' && a[j] <= 'f');
}

static void test_uuid_valid(void **state)
{
	(void)state;
	assert_true(uuid_valid("123e4567-e89b-12d3-a456-426614174000"));
	assert_true(uuid_valid("123E4567-E89B-12D3-A456-426614174000"));
	assert_true(uuid_valid("00000000-0000-0000-0000-000000000000"));
	assert_false(uuid_valid(NULL));
	assert_false(uuid_valid(""));
	assert_false(uuid_valid("123e4567-e89b-12d3-a456-42661417400"));   /* short */
	assert_false(uuid_valid("123e4567-e89b-12d3-a456-4266141740000")); /* long */
	assert_false(uuid_valid("123e4567e89b-12d3-a456-4266141740000"));
	assert_false(uuid_valid("123e4567-e89b-12d3-a456-42661417400g"));
	assert_false(uuid_valid("123e4567_e89b_12d3_a456_426614174000"));
	assert_false(uuid_valid("{123e4567-e89b-12d3-a456-426614174000}"));
	assert_false(uuid_valid(" 123e4567-e89b-12d3-a456-426614174000"));
}

static void test_doc_type_names(void **state)
{
	static const char *const names[] = {"DUI", "NIT", "NRC", "RNC", "CEDULA", "PASSPORT", "OTHER"};
	(void)state;
	for (int i = 0; i < 7; i++) {
		assert_int_equal(doc_type_parse(names[i]), i);
		assert_string_equal(doc_type_name((enum doc_type)i), names[i]);
	}
	assert_int_equal(doc_type_parse("dui"), -1);
	assert_int_equal(doc_type_parse(""), -1);
	assert_int_equal(doc_type_parse("SSN"), -1);
	assert_int_equal(doc_type_parse(NULL), -1);
}

/* Changing one digit by +-1 must be rejected by `check` at every position
 * marked 'x' in positions (NULL: all). Positions whose weight is a multiple
 * of the modulus (old NIT: weight 11) cannot be detected and are left out. */
static void flip_each(bool (*check)(const char *), const char *valid, const char *positions)
{
	char buf[32];
	size_t n = strlen(valid);

	for (size_t i = 0; i < n; i++) {
		if (positions && positions[i] != 'x')
			continue;
		for (int delta = -1; delta <= 1; delta += 2) {
			int d = valid[i] - '0' + delta;
			if (d < 0 || d > 9)
				continue;
			memcpy(buf, valid, n + 1);
			buf[i] = (char)('0' + d);
			if (check(buf))
				fail_msg("%s accepted (flipped from %s)", buf, valid);
		}
	}
}

static void test_dui(void **state)
{
	(void)state;
	assert_true(dui_valid("023827235"));
	flip_each(dui_valid, "023827235", NULL);
	assert_false(dui_valid("000000000"));
	assert_false(dui_valid("02382723"));
	assert_false(dui_valid("0238272350"));
	assert_false(dui_valid("02382723-5"));
	assert_false(dui_valid(NULL));
	/* a check digit of 0: 00000001 -> sum 2 -> 8; 00000005 -> 10 -> 0 */
	assert_true(dui_valid("000000018"));
	assert_true(dui_valid("000000050"));
}

static void test_nit(void **state)
{
	(void)state;
	assert_true(nit_valid("06140507071048"));		  /* new rule, stdnum */
	assert_true(nit_valid("06141809480014"));		  /* old rule (sequence 001) */
	assert_true(nit_valid("06142004981074"));		  /* new rule */
	assert_true(nit_valid("023827235"));			  /* DUI as NIT */
	flip_each(nit_valid, "06141809480014", "xxx-xxxxxxxxxx"); /* weight 11 at [3] */
	flip_each(nit_valid, "06140507071048", NULL);
	/* [10]: "107" -> "007" switches to the old rule and happens to match */
	flip_each(nit_valid, "06142004981074", "xxxxxxxxxx-xxx");
	assert_false(nit_valid("06140507071047"));
	assert_false(nit_valid("06140507071049"));
	assert_false(nit_valid("06141809480015"));
	assert_false(nit_valid("06142004981075"));
	assert_false(nit_valid("023827234"));
	assert_false(nit_valid("00000000000000"));
	assert_false(nit_valid("0614050707104"));
	assert_false(nit_valid("061405070710488"));
	assert_false(nit_valid("0614-050707-104-8"));
	assert_false(nit_valid(""));
	assert_false(nit_valid(NULL));
}

static void test_nrc(void **state)
{
	(void)state;
	assert_true(nrc_valid("1"));
	assert_true(nrc_valid("1234567"));
	assert_true(nrc_valid("12345678"));
	assert_false(nrc_valid("123456789"));
	assert_false(nrc_valid(""));
	assert_false(nrc_valid("12a4"));
	assert_false(nrc_valid("123456-7"));
	assert_false(nrc_valid(NULL));
}

static void test_rnc(void **state)
{
	(void)state;
	assert_true(rnc_valid("101850043"));
	assert_true(rnc_valid("131246796"));
	assert_true(rnc_valid("101672919"));
	flip_each(rnc_valid, "101850043", NULL);
	flip_each(rnc_valid, "131246796", NULL);
	assert_false(rnc_valid("101672918"));
	assert_false(rnc_valid("000000000"));
	assert_false(rnc_valid("10185004"));
	assert_false(rnc_valid("1018500430"));
	assert_false(rnc_valid(NULL));
}

static void test_cedula(void **state)
{
	(void)state;
	assert_true(cedula_valid("00113918205"));
	assert_true(cedula_valid("22400022111"));
	assert_true(cedula_valid("40200571939"));
	flip_each(cedula_valid, "00113918205", NULL);
	flip_each(cedula_valid, "40200571939", NULL);
	assert_false(cedula_valid("22400022112"));
	assert_false(cedula_valid("00000000000"));
	assert_false(cedula_valid("0011391820"));
	assert_false(cedula_valid("001139182050"));
	assert_false(cedula_valid(NULL));
}

static void norm_ok(enum doc_type t, const char *in, const char *want)
{
	char out[64];
	struct err e;

	err_clear(&e);
	memset(out, 'x', sizeof(out));
	if (doc_normalize(t, in, out, sizeof(out), "documentNumber", &e) != 0)
		fail_msg("doc_normalize(%s, \"%s\") failed: %s", doc_type_name(t), in, e.message);
	assert_string_equal(out, want);
}

static void norm_bad(enum doc_type t, const char *in, const char *msg_part)
{
	char out[64];
	struct err e;

	err_clear(&e);
	if (doc_normalize(t, in, out, sizeof(out), "documentNumber", &e) != ERR_INVALID)
		fail_msg("doc_normalize(%s, \"%s\") unexpectedly accepted", doc_type_name(t), in ? in : "(null)");
	assert_string_equal(e.field, "documentNumber");
	if (msg_part && !strstr(e.message, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", e.message, msg_part);
}

static void test_normalize_sv(void **state)
{
	(void)state;
	norm_ok(DOC_DUI, "02382723-5", "023827235");
	norm_ok(DOC_DUI, "023827235", "023827235");
	norm_ok(DOC_DUI, " 02382723-5 ", "023827235");
	norm_bad(DOC_DUI, "02382723-4", "check digit");
	norm_bad(DOC_DUI, "00000000-0", "check digit");
	norm_bad(DOC_DUI, "2382723-5", "9 digits");
	norm_bad(DOC_DUI, "02382723-55", "9 digits");
	norm_bad(DOC_DUI, "0238272a-5", "only digits");
	norm_bad(DOC_DUI, "02382723/5", "only digits");
	norm_bad(DOC_DUI, "", "required");
	norm_bad(DOC_DUI, "   ", "required");
	norm_bad(DOC_DUI, NULL, "required");

	norm_ok(DOC_NIT, "0614-050707-104-8", "06140507071048");
	norm_ok(DOC_NIT, "0614-180948-001-4", "06141809480014");
	norm_ok(DOC_NIT, "0614-200498-107-4", "06142004981074");
	norm_ok(DOC_NIT, "06142004981074", "06142004981074");
	norm_ok(DOC_NIT, "023827235", "023827235");
	norm_ok(DOC_NIT, "02382723-5", "023827235");
	norm_bad(DOC_NIT, "0614-050707-104-7", "check digit");
	norm_bad(DOC_NIT, "0614-180948-002-4", "check digit");
	norm_bad(DOC_NIT, "02382723-6", "check digit");
	norm_bad(DOC_NIT, "0614-050707-104", "14 digits");
	norm_bad(DOC_NIT, "0000-000000-000-0", "check digit");
	norm_bad(DOC_NIT, "123456789012345678901234", NULL);

	norm_ok(DOC_NRC, "123456-7", "1234567");
	norm_ok(DOC_NRC, "1234567", "1234567");
	norm_ok(DOC_NRC, "1", "1");
	norm_ok(DOC_NRC, "12345678", "12345678");
	norm_bad(DOC_NRC, "123456789", "1 to 8 digits");
	norm_bad(DOC_NRC, "-", "1 to 8 digits");
	norm_bad(DOC_NRC, "12A", "only digits");
}

static void test_normalize_do(void **state)
{
	(void)state;
	norm_ok(DOC_RNC, "1-01-85004-3", "101850043");
	norm_ok(DOC_RNC, "1-31-24679-6", "131246796");
	norm_ok(DOC_RNC, "101672919", "101672919");
	norm_bad(DOC_RNC, "1-01-85004-4", "check digit");
	norm_bad(DOC_RNC, "1-01-85014-3", "check digit");
	norm_bad(DOC_RNC, "10167291", "9 digits");

	norm_ok(DOC_CEDULA, "001-1391820-5", "00113918205");
	norm_ok(DOC_CEDULA, "00113918205", "00113918205");
	norm_ok(DOC_CEDULA, "224-0002211-1", "22400022111");
	norm_ok(DOC_CEDULA, "402-0057193-9", "40200571939");
	norm_bad(DOC_CEDULA, "001-1391820-6", "check digit");
	norm_bad(DOC_CEDULA, "402-0057193-8", "check digit");
	norm_bad(DOC_CEDULA, "000-0000000-0", "check digit");
	norm_bad(DOC_CEDULA, "0011391820", "11 digits");
}

static void test_normalize_other(void **state)
{
	(void)state;
	norm_ok(DOC_PASSPORT, "ab12345", "AB12345");
	norm_ok(DOC_PASSPORT, "  X1234  ", "X1234");
	norm_ok(DOC_PASSPORT, "A1234567890123456789", "A1234567890123456789");
	norm_bad(DOC_PASSPORT, "A123", "5 to 20");
	norm_bad(DOC_PASSPORT, "A12345678901234567890", "5 to 20");
	norm_bad(DOC_PASSPORT, "AB-12345", "letters and digits");
	norm_bad(DOC_PASSPORT, "AB 12345", "letters and digits");
	norm_bad(DOC_PASSPORT, "ÄB12345", "letters and digits");
	norm_bad(DOC_PASSPORT, "", "required");

	norm_ok(DOC_OTHER, "  Carnet 12/34  ", "Carnet 12/34");
	norm_ok(DOC_OTHER, "x", "x");
	norm_ok(DOC_OTHER, "123456789012345678901234567890", "123456789012345678901234567890");
	norm_bad(DOC_OTHER, "1234567890123456789012345678901", "at most 30");
	norm_bad(DOC_OTHER,
		 "ab\x01"
		 "cd",
		 "control");
	norm_bad(DOC_OTHER, " \t ", "required");
}

static void test_normalize_small_buffer(void **state)
{
	char out[5];
	struct err e;
	(void)state;
	err_clear(&e);
	assert_int_equal(doc_normalize(DOC_DUI, "02382723-5", out, sizeof(out), "d", &e), ERR_INTERNAL);
	err_clear(&e);
	char ten[10];
	assert_int_equal(doc_normalize(DOC_DUI, "02382723-5", ten, sizeof(ten), "d", &e), 0);
	assert_string_equal(ten, "023827235");
}

static void test_format(void **state)
{
	char out[32];
	(void)state;
	doc_format(DOC_DUI, "023827235", out, sizeof(out));
	assert_string_equal(out, "02382723-5");
	doc_format(DOC_NIT, "06140507071048", out, sizeof(out));
	assert_string_equal(out, "0614-050707-104-8");
	doc_format(DOC_NIT, "023827235", out, sizeof(out));
	assert_string_equal(out, "02382723-5");
	doc_format(DOC_NRC, "1234567", out, sizeof(out));
	assert_string_equal(out, "1234567");
	doc_format(DOC_RNC, "101850043", out, sizeof(out));
	assert_string_equal(out, "101850043");
	doc_format(DOC_PASSPORT, "AB12345", out, sizeof(out));
	assert_string_equal(out, "AB12345");
	doc_format(DOC_DUI, "12", out, sizeof(out)); /* not canonical: as is */
	assert_string_equal(out, "12");
	char small[6];
	doc_format(DOC_NIT, "06140507071048", small, sizeof(small));
	assert_string_equal(small, "0614-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uuid_v4),
	    cmocka_unit_test(test_uuid_valid),
	    cmocka_unit_test(test_doc_type_names),
	    cmocka_unit_test(test_dui),
	    cmocka_unit_test(test_nit),
	    cmocka_unit_test(test_nrc),
	    cmocka_unit_test(test_rnc),
	    cmocka_unit_test(test_cedula),
	    cmocka_unit_test(test_normalize_sv),
	    cmocka_unit_test(test_normalize_do),
	    cmocka_unit_test(test_normalize_other),
	    cmocka_unit_test(test_normalize_small_buffer),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
