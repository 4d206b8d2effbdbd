/*
 * test_reports.c - the pure pieces of src/mod/reports: parameters, periods
 * (days, ISO weeks from Monday, months; clamping to the range), the range
 * rules and their errors, local day boundaries in real IANA zones (DST gaps
 * and fall-backs over midnight), tax rate text, and the RFC 4180 CSV writer
 * with its formula-injection guard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mod/reports/reports.h"

static void test_parse_names(void **state)
{
	(void)state;
	assert_int_equal(reports_group_parse("day"), REPORTS_GROUP_DAY);
	assert_int_equal(reports_group_parse("week"), REPORTS_GROUP_WEEK);
	assert_int_equal(reports_group_parse("month"), REPORTS_GROUP_MONTH);
	assert_int_equal(reports_group_parse("Month"), -1);
	assert_int_equal(reports_group_parse("year"), -1);
	assert_int_equal(reports_group_parse(""), -1);
	assert_int_equal(reports_group_parse(NULL), -1);
	assert_string_equal(reports_group_name(REPORTS_GROUP_WEEK), "week");

	assert_int_equal(reports_dim_parse("service"), REPORTS_BY_SERVICE);
	assert_int_equal(reports_dim_parse("category"), REPORTS_BY_CATEGORY);
	assert_int_equal(reports_dim_parse("provider"), REPORTS_BY_PROVIDER);
	assert_int_equal(reports_dim_parse(""), -1);
	assert_int_equal(reports_dim_parse("patient"), -1);
	assert_int_equal(reports_dim_parse(NULL), -1);
	assert_string_equal(reports_dim_name(REPORTS_BY_PROVIDER), "provider");
}

static void expect_period(enum reports_group g, const char *date, const char *label, const char *start, const char *end)
{
	struct reports_period p;

	reports_period_of(g, date, &p);
	if (strcmp(p.label, label) || strcmp(p.start, start) || strcmp(p.end, end))
		fail_msg("%s of %s: got %s %s..%s, wanted %s %s..%s", reports_group_name(g), date, p.label, p.start,
			 p.end, label, start, end);
}

static void test_period_of(void **state)
{
	(void)state;
	expect_period(REPORTS_GROUP_DAY, "2025-10-14", "2025-10-14", "2025-10-14", "2025-10-14");

	/* ISO weeks: Monday to Sunday, numbered in the year of their Thursday. */
	expect_period(REPORTS_GROUP_WEEK, "2025-10-14", "2025-W42", "2025-10-13", "2025-10-19");
	expect_period(REPORTS_GROUP_WEEK, "2025-10-13", "2025-W42", "2025-10-13", "2025-10-19");
	expect_period(REPORTS_GROUP_WEEK, "2025-10-19", "2025-W42", "2025-10-13", "2025-10-19");
	expect_period(REPORTS_GROUP_WEEK, "2025-10-20", "2025-W43", "2025-10-20", "2025-10-26");
	expect_period(REPORTS_GROUP_WEEK, "2024-12-30", "2025-W01", "2024-12-30", "2025-01-05");
	expect_period(REPORTS_GROUP_WEEK, "2025-01-01", "2025-W01", "2024-12-30", "2025-01-05");
	expect_period(REPORTS_GROUP_WEEK, "2021-01-03", "2020-W53", "2020-12-28", "2021-01-03");
	expect_period(REPORTS_GROUP_WEEK, "2021-01-04", "2021-W01", "2021-01-04", "2021-01-10");
	expect_period(REPORTS_GROUP_WEEK, "2026-12-31", "2026-W53", "2026-12-28", "2027-01-03");
	expect_period(REPORTS_GROUP_WEEK, "2027-01-03", "2026-W53", "2026-12-28", "2027-01-03");
	expect_period(REPORTS_GROUP_WEEK, "2023-01-01", "2022-W52", "2022-12-26", "2023-01-01");
	expect_period(REPORTS_GROUP_WEEK, "1970-01-01", "1970-W01", "1969-12-29", "1970-01-04");
	expect_period(REPORTS_GROUP_WEEK, "1969-12-28", "1969-W52", "1969-12-22", "1969-12-28");

	expect_period(REPORTS_GROUP_MONTH, "2025-10-14", "2025-10", "2025-10-01", "2025-10-31");
	expect_period(REPORTS_GROUP_MONTH, "2024-02-10", "2024-02", "2024-02-01", "2024-02-29");
	expect_period(REPORTS_GROUP_MONTH, "2025-02-28", "2025-02", "2025-02-01", "2025-02-28");
	expect_period(REPORTS_GROUP_MONTH, "1900-02-01", "1900-02", "1900-02-01", "1900-02-28");
	expect_period(REPORTS_GROUP_MONTH, "2000-02-01", "2000-02", "2000-02-01", "2000-02-29");
	expect_period(REPORTS_GROUP_MONTH, "2025-12-31", "2025-12", "2025-12-01", "2025-12-31");
	expect_period(REPORTS_GROUP_MONTH, "2025-04-30", "2025-04", "2025-04-01", "2025-04-30");
}

static void test_periods_cover_and_clamp(void **state)
{
	struct arena *a = arena_new(0);
	struct reports_period *p;
	size_t n;

	(void)state;
	reports_periods(REPORTS_GROUP_DAY, "2025-02-27", "2025-03-02", a, &p, &n);
	assert_int_equal(n, 4);
	assert_string_equal(p[0].label, "2025-02-27");
	assert_string_equal(p[2].label, "2025-03-01");
	assert_string_equal(p[3].end, "2025-03-02");

	reports_periods(REPORTS_GROUP_DAY, "2025-10-14", "2025-10-14", a, &p, &n);
	assert_int_equal(n, 1);

	/* Weeks: the first and last are cut at the range. */
	reports_periods(REPORTS_GROUP_WEEK, "2025-10-15", "2025-10-28", a, &p, &n);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].label, "2025-W42");
	assert_string_equal(p[0].start, "2025-10-15");
	assert_string_equal(p[0].end, "2025-10-19");
	assert_string_equal(p[1].label, "2025-W43");
	assert_string_equal(p[1].start, "2025-10-20");
	assert_string_equal(p[1].end, "2025-10-26");
	assert_string_equal(p[2].label, "2025-W44");
	assert_string_equal(p[2].start, "2025-10-27");
	assert_string_equal(p[2].end, "2025-10-28");

	reports_periods(REPORTS_GROUP_MONTH, "2024-01-31", "2024-03-01", a, &p, &n);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].label, "2024-01");
	assert_string_equal(p[0].start, "2024-01-31");
	assert_string_equal(p[0].end, "2024-01-31");
	assert_string_equal(p[1].start, "2024-02-01");
	assert_string_equal(p[1].end, "2024-02-29");
	assert_string_equal(p[2].start, "2024-03-01");
	assert_string_equal(p[2].end, "2024-03-01");

	/* A whole year by month; ten years by week: contiguous, no gaps. */
	reports_periods(REPORTS_GROUP_MONTH, "2025-01-01", "2025-12-31", a, &p, &n);
	assert_int_equal(n, 12);
	reports_periods(REPORTS_GROUP_WEEK, "2016-01-01", "2025-12-31", a, &p, &n);
	for (size_t i = 1; i < n; i++) {
		char next[DATE_LEN + 1];
		date_add_days(p[i - 1].end, 1, next);
		assert_string_equal(p[i].start, next);
	}
	assert_string_equal(p[0].start, "2016-01-01");
	assert_string_equal(p[n - 1].end, "2025-12-31");
	arena_free(a);
}

static void range_ok(const char *from, const char *to, const char *group, const char *today, const char *want_from,
		     const char *want_to, enum reports_group want_group)
{
	struct reports_range r;
	struct err e;

	err_clear(&e);
	if (reports_range_resolve(from, to, group, REPORTS_GROUP_DAY, today, &r, &e) != 0)
		fail_msg("range %s..%s (%s) refused: %s", from ? from : "-", to ? to : "-", group ? group : "-",
			 e.message);
	assert_string_equal(r.from, want_from);
	assert_string_equal(r.to, want_to);
	assert_int_equal(r.group, want_group);
}

static void range_bad(const char *from, const char *to, const char *group, const char *field)
{
	struct reports_range r;
	struct err e;

	err_clear(&e);
	if (reports_range_resolve(from, to, group, REPORTS_GROUP_MONTH, "2025-10-14", &r, &e) != ERR_INVALID)
		fail_msg("range %s..%s (%s) accepted", from ? from : "-", to ? to : "-", group ? group : "-");
	assert_string_equal(e.field, field);
	assert_true(strstr(e.message, field) != NULL || strstr(e.message, "range") != NULL);
}

static void test_range_rules(void **state)
{
	(void)state;
	/* Defaults: the 30 days ending today. */
	range_ok(NULL, NULL, NULL, "2025-10-14", "2025-09-15", "2025-10-14", REPORTS_GROUP_DAY);
	range_ok(NULL, "2025-03-01", NULL, "2025-10-14", "2025-01-31", "2025-03-01", REPORTS_GROUP_DAY);
	range_ok("2025-10-01", NULL, "week", "2025-10-14", "2025-10-01", "2025-10-14", REPORTS_GROUP_WEEK);
	range_ok("2025-10-14", "2025-10-14", "month", "2025-01-01", "2025-10-14", "2025-10-14", REPORTS_GROUP_MONTH);
	/* 366 days by day is the limit (a leap year). */
	range_ok("2024-01-01", "2024-12-31", "day", "2025-01-01", "2024-01-01", "2024-12-31", REPORTS_GROUP_DAY);
	/* Longer ranges by week or month. */
	range_ok("2020-01-01", "2025-12-31", "month", "2025-01-01", "2020-01-01", "2025-12-31", REPORTS_GROUP_MONTH);
	range_ok("2016-01-01", "2025-12-31", "week", "2025-01-01", "2016-01-01", "2025-12-31", REPORTS_GROUP_WEEK);

	range_bad(NULL, NULL, "year", "groupBy");
	range_bad(NULL, NULL, "", "groupBy");
	range_bad("2025-13-01", NULL, NULL, "from");
	range_bad("2025-02-29", NULL, NULL, "from");
	range_bad("20251001", NULL, NULL, "from");
	range_bad("", NULL, NULL, "from");
	range_bad("1899-12-31", "1900-01-05", NULL, "from");
	range_bad(NULL, "2025-10-32", NULL, "to");
	range_bad(NULL, "tomorrow", NULL, "to");
	range_bad(NULL, "3000-01-01", NULL, "to");
	range_bad("2025-10-15", "2025-10-14", NULL, "from");
	range_bad("2024-01-01", "2025-01-01", "day", "to"); /* 367 days */
	range_bad("2015-01-01", "2025-01-10", "month", "to");
	range_bad("2015-01-01", "2025-01-10", "week", "to");
}

static void day_start(const char *tz, const char *date, const char *want)
{
	char out[TIME_ISO_LEN];
	struct err e;

	err_clear(&e);
	if (reports_local_day_start_utc(tz, date, out, &e) != 0)
		fail_msg("%s %s: %s", tz, date, e.message);
	if (strcmp(out, want) != 0)
		fail_msg("%s %s starts at %s, wanted %s", tz, date, out, want);
}

static void test_local_day_start(void **state)
{
	char out[TIME_ISO_LEN];
	struct err e;

	(void)state;
	day_start("UTC", "2025-10-14", "2025-10-14T00:00:00");
	day_start("America/El_Salvador", "2025-10-14", "2025-10-14T06:00:00");
	day_start("Pacific/Kiritimati", "2025-10-14", "2025-10-13T10:00:00");
	day_start("Pacific/Pago_Pago", "2025-10-14", "2025-10-14T11:00:00");
	day_start("Asia/Kathmandu", "2025-10-14", "2025-10-13T18:15:00");
	/* New York: DST starts 2025-03-09 02:00 and ends 2025-11-02 02:00. */
	day_start("America/New_York", "2025-03-09", "2025-03-09T05:00:00");
	day_start("America/New_York", "2025-03-10", "2025-03-10T04:00:00");
	day_start("America/New_York", "2025-11-02", "2025-11-02T04:00:00");
	day_start("America/New_York", "2025-11-03", "2025-11-03T05:00:00");
	/* São Paulo 2018-11-04: clocks jumped from 00:00 to 01:00, so the day
	 * began at 01:00 -02 = 03:00Z. 2019-02-17: at 00:00 -02 clocks fell
	 * back to 23:00 of the 16th; the 17th began at 00:00 -03 = 03:00Z. */
	day_start("America/Sao_Paulo", "2018-11-04", "2018-11-04T03:00:00");
	day_start("America/Sao_Paulo", "2018-11-05", "2018-11-05T02:00:00");
	day_start("America/Sao_Paulo", "2019-02-17", "2019-02-17T03:00:00");
	day_start("America/Sao_Paulo", "2019-02-16", "2019-02-16T02:00:00");

	err_clear(&e);
	assert_int_equal(reports_local_day_start_utc("Mars/Olympus", "2025-10-14", out, &e), ERR_INVALID);
}

static void test_rate_text(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(reports_rate_text(130000, buf, sizeof(buf)), "13.00");
	assert_string_equal(reports_rate_text(0, buf, sizeof(buf)), "0.00");
	assert_string_equal(reports_rate_text(125000, buf, sizeof(buf)), "12.50");
	assert_string_equal(reports_rate_text(71250, buf, sizeof(buf)), "7.125");
	assert_string_equal(reports_rate_text(1, buf, sizeof(buf)), "0.0001");
	assert_string_equal(reports_rate_text(1000000, buf, sizeof(buf)), "100.00");
}

static void test_csv_writer(void **state)
{
	struct reports_csv c;

	(void)state;
	reports_csv_init(&c);
	reports_csv_text(&c, "period");
	reports_csv_text(&c, "name");
	reports_csv_text(&c, "amount");
	reports_csv_end_row(&c);
	/* Quoting: comma, quote, CR/LF; empty and NULL cells. */
	reports_csv_text(&c, "Rayos X, tórax");
	reports_csv_text(&c, "He said \"hi\"");
	reports_csv_text(&c, "two\nlines");
	reports_csv_text(&c, "");
	reports_csv_text(&c, NULL);
	reports_csv_money(&c, 123450, 2);
	reports_csv_end_row(&c);
	/* Formula injection: text cells are defused, number cells are not. */
	reports_csv_text(&c, "=HYPERLINK(\"http://x\")");
	reports_csv_text(&c, "+1");
	reports_csv_text(&c, "-2");
	reports_csv_text(&c, "@SUM(A1)");
	reports_csv_text(&c, "\tx");
	reports_csv_text(&c, "a=b");
	reports_csv_money(&c, -5, 2);
	reports_csv_int(&c, -7);
	reports_csv_number(&c, "=1+2"); /* not a number: written as defused text */
	reports_csv_number(&c, "1.");
	reports_csv_money(&c, 1500, 0);
	reports_csv_money(&c, 1234567, 3);
	reports_csv_end_row(&c);
	assert_string_equal(c.buf,
			    "period,name,amount\r\n"
			    "\"Rayos X, tórax\",\"He said \"\"hi\"\"\",\"two\nlines\",,,1234.50\r\n"
			    "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-2,'@SUM(A1),'\tx,a=b,-0.05,-7,'=1+2,1.,1500,"
			    "1234.567\r\n");
	assert_int_equal(c.len, strlen(c.buf));
	reports_csv_release(&c);
	assert_null(c.buf);

	/* A big document grows the buffer. */
	reports_csv_init(&c);
	for (int i = 0; i < 20000; i++) {
		reports_csv_int(&c, i);
		reports_csv_text(&c, "x,y");
		reports_csv_end_row(&c);
	}
	assert_true(c.len > 100000);
	assert_string_equal(c.buf + c.len - 13, "19999,\"x,y\"\r\n");
	reports_csv_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_names),
	    cmocka_unit_test(test_period_of),
	    cmocka_unit_test(test_periods_cover_and_clamp),
	    cmocka_unit_test(test_range_rules),
	    cmocka_unit_test(test_local_day_start),
	    cmocka_unit_test(test_rate_text),
	    cmocka_unit_test(test_csv_writer),
	};
	return cmocka_run_group_tests_name("unit_reports", tests, NULL, NULL);
}
