/*
 * test_timeutil.c - ISO-8601 text, calendar arithmetic and IANA zones of
 * src/core/timeutil.c. Zone offsets are checked against fixed expectations
 * and, over many instants, against glibc's localtime_r (which this test
 * alone may drive through setenv("TZ")); hand-made TZif files in a
 * temporary TZDIR cover version 1 files and the Jn / n footer rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timeutil.h"

static int64_t iso(const char *s)
{
	struct err e;
	int64_t t = 0;
	err_clear(&e);
	if (time_parse_iso(s, &t, "at", &e) != 0)
		fail_msg("time_parse_iso(\"%s\") failed: %s", s, e.message);
	return t;
}

static void iso_bad(const char *s)
{
	struct err e;
	int64_t t = 42;
	err_clear(&e);
	if (time_parse_iso(s, &t, "at", &e) != ERR_INVALID)
		fail_msg("time_parse_iso(\"%s\") unexpectedly accepted", s ? s : "(null)");
	assert_string_equal(e.field, "at");
	assert_int_equal(t, 42);
}

static int32_t off_at(const char *zone, const char *when)
{
	struct err e;
	int32_t off = 12345;
	err_clear(&e);
	if (tz_offset(zone, iso(when), &off, &e) != 0)
		fail_msg("tz_offset(%s, %s) failed: %s", zone, when, e.message);
	return off;
}

static void test_clocks(void **state)
{
	int64_t s, ms, m1, m2;
	char buf[TIME_ISO_LEN + 1];
	(void)state;
	s = time_now_s();
	ms = time_now_ms();
	assert_true(s > 1735689600); /* after 2025-01-01 */
	assert_true(ms / 1000 - s >= 0 && ms / 1000 - s <= 2);
	m1 = time_mono_ms();
	m2 = time_mono_ms();
	assert_true(m2 >= m1);
	time_now_iso(buf);
	assert_int_equal(strlen(buf), TIME_ISO_LEN);
	assert_int_equal(buf[10], 'T');
	assert_int_equal(buf[19], 'Z');
}

static void test_time_iso(void **state)
{
	char buf[TIME_ISO_LEN + 1];
	(void)state;
	time_iso(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	time_iso(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	time_iso(1760436000, buf);
	assert_string_equal(buf, "2025-10-14T10:00:00Z");
	time_iso(951782400, buf);
	assert_string_equal(buf, "2000-02-29T00:00:00Z");
	time_iso(253402300799, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	time_iso(INT64_MAX, buf); /* clamped */
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	time_iso(INT64_MIN, buf);
	assert_string_equal(buf, "0000-01-01T00:00:00Z");
	time_iso(-62135596800, buf);
	assert_string_equal(buf, "0001-01-01T00:00:00Z");
	/* agrees with gmtime_r over a wide range */
	for (int64_t t = -2208988800; t < 4102444800; t += 86400 * 37 + 3671) {
		struct tm tm;
		char want[32];
		time_t tt = (time_t)t;
		gmtime_r(&tt, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		time_iso(t, buf);
		assert_string_equal(buf, want);
		assert_int_equal(iso(buf), t);
	}
}

static void test_parse_iso(void **state)
{
	(void)state;
	assert_int_equal(iso("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(iso("2025-10-14T10:00:00Z"), 1760436000);
	assert_int_equal(iso("2025-10-14T04:00:00-06:00"), 1760436000);
	assert_int_equal(iso("2025-10-14T12:00:00+02:00"), 1760436000);
	assert_int_equal(iso("2025-10-14T15:30:00+05:30"), 1760436000);
	assert_int_equal(iso("2025-10-14T10:00:00+00:00"), 1760436000);
	assert_int_equal(iso("2025-10-14T10:00:00-00:00"), 1760436000);
	assert_int_equal(iso("2025-10-14T10:00:00.123Z"), 1760436000);
	assert_int_equal(iso("2025-10-14T10:00:00.999999999Z"), 1760436000);
	assert_int_equal(iso("2025-10-14T10:00:00.5-06:00"), 1760436000 + 21600);
	assert_int_equal(iso("2025-10-14"), 1760400000);
	assert_int_equal(iso("1969-12-31T23:59:59Z"), -1);
	assert_int_equal(iso("2024-02-29T23:59:59Z"), 1709251199);
	assert_int_equal(iso("2025-01-01T00:30:00+01:00"), 1735687800);

	iso_bad(NULL);
	iso_bad("");
	iso_bad("2025-10-14T10:00:00");
	iso_bad("2025-10-14 10:00:00Z");
	iso_bad("2025-10-14t10:00:00Z");
	iso_bad("2025-10-14T10:00:00z");
	iso_bad("2025-10-14T10:00Z");
	iso_bad("2025-10-14T24:00:00Z");
	iso_bad("2025-10-14T10:60:00Z");
	iso_bad("2025-10-14T10:00:60Z");
	iso_bad("2025-02-29T10:00:00Z");
	iso_bad("2025-13-01T10:00:00Z");
	iso_bad("2025-10-14T10:00:00.Z");
	iso_bad("2025-10-14T10:00:00.1234567890Z");
	iso_bad("2025-10-14T10:00:00+0500");
	iso_bad("2025-10-14T10:00:00+05");
	iso_bad("2025-10-14T10:00:00+24:00");
	iso_bad("2025-10-14T10:00:00+05:60");
	iso_bad("2025-10-14T10:00:00+05:00x");
	iso_bad("2025-10-14T10:00:00Zx");
	iso_bad("2025-10-14x");
	iso_bad("2025-10-1");
	iso_bad("25-10-14");
	iso_bad("2025/10/14");
	iso_bad("+2025-10-14");
	iso_bad("0000-01-01");
}

static void test_parse_iso_message(void **state)
{
	struct err e;
	int64_t t;
	(void)state;
	err_clear(&e);
	assert_int_equal(time_parse_iso("nope", &t, "scheduledAt", &e), ERR_INVALID);
	assert_string_equal(e.field, "scheduledAt");
	assert_non_null(strstr(e.message, "scheduledAt"));
}

static void test_date_valid(void **state)
{
	(void)state;
	assert_true(date_valid("2025-10-14"));
	assert_true(date_valid("2024-02-29"));
	assert_true(date_valid("2000-02-29"));
	assert_true(date_valid("0001-01-01"));
	assert_true(date_valid("9999-12-31"));
	assert_true(date_valid("2025-04-30"));
	assert_true(date_valid("2025-12-31"));
	assert_false(date_valid("2023-02-29"));
	assert_false(date_valid("1900-02-29"));
	assert_false(date_valid("2100-02-29"));
	assert_false(date_valid("2025-04-31"));
	assert_false(date_valid("2025-13-01"));
	assert_false(date_valid("2025-00-10"));
	assert_false(date_valid("2025-01-00"));
	assert_false(date_valid("2025-01-32"));
	assert_false(date_valid("0000-01-01"));
	assert_false(date_valid("2025-1-01"));
	assert_false(date_valid("2025-01-01x"));
	assert_false(date_valid("2025-01-01T00:00:00Z"));
	assert_false(date_valid("2025/01/01"));
	assert_false(date_valid(" 2025-01-01"));
	assert_false(date_valid(""));
	assert_false(date_valid(NULL));
}

static void test_date_days(void **state)
{
	char buf[DATE_LEN + 1];
	(void)state;
	assert_int_equal(date_to_days("1970-01-01"), 0);
	assert_int_equal(date_to_days("1969-12-31"), -1);
	assert_int_equal(date_to_days("2000-03-01"), 11017);
	assert_int_equal(date_to_days("2025-10-14"), 20375);
	assert_int_equal(date_to_days("0001-01-01"), -719162);
	assert_int_equal(date_to_days("9999-12-31"), 2932896);
	assert_int_equal(date_to_days("2025-02-30"), INT64_MIN);
	date_from_days(0, buf);
	assert_string_equal(buf, "1970-01-01");
	date_from_days(-1, buf);
	assert_string_equal(buf, "1969-12-31");
	date_from_days(20375, buf);
	assert_string_equal(buf, "2025-10-14");
	date_from_days(INT64_MAX / 2, buf); /* clamped */
	assert_string_equal(buf, "9999-12-31");
	date_from_days(INT64_MIN / 2, buf);
	assert_string_equal(buf, "0000-01-01");
	/* round trip over the whole supported range */
	for (int64_t d = -719162; d <= 2932896; d += 13) {
		date_from_days(d, buf);
		assert_true(date_valid(buf));
		assert_int_equal(date_to_days(buf), d);
	}
	/* consecutive days are consecutive dates around leap days */
	for (int64_t d = date_to_days("1899-12-01"); d < date_to_days("2101-03-31"); d++) {
		char next[DATE_LEN + 1];
		date_from_days(d, buf);
		date_add_days(buf, 1, next);
		assert_int_equal(date_to_days(next), d + 1);
	}
}

static void test_date_add(void **state)
{
	char buf[DATE_LEN + 1];
	(void)state;
	date_add_days("2024-02-28", 1, buf);
	assert_string_equal(buf, "2024-02-29");
	date_add_days("2024-02-28", 2, buf);
	assert_string_equal(buf, "2024-03-01");
	date_add_days("2023-02-28", 1, buf);
	assert_string_equal(buf, "2023-03-01");
	date_add_days("2025-12-31", 1, buf);
	assert_string_equal(buf, "2026-01-01");
	date_add_days("2025-01-01", -1, buf);
	assert_string_equal(buf, "2024-12-31");
	date_add_days("2025-10-14", 0, buf);
	assert_string_equal(buf, "2025-10-14");
	date_add_days("2025-10-14", 30, buf);
	assert_string_equal(buf, "2025-11-13");
	date_add_days("2025-10-14", 365, buf);
	assert_string_equal(buf, "2026-10-14");
	date_add_days("2025-10-14", -36500, buf);
	assert_string_equal(buf, "1925-11-08");
	date_add_days("2025-02-30", 1, buf);
	assert_string_equal(buf, "");
}

static void test_tz_fixed_zones(void **state)
{
	char date[DATE_LEN + 1], tod[9];
	struct err e;
	(void)state;
	assert_int_equal(off_at("America/El_Salvador", "2025-10-14T10:00:00Z"), -21600);
	assert_int_equal(off_at("America/El_Salvador", "2025-06-01T00:00:00Z"), -21600);
	assert_int_equal(off_at("America/El_Salvador", "2060-06-01T00:00:00Z"), -21600);
	assert_int_equal(off_at("Africa/Khartoum", "2025-10-14T10:00:00Z"), 7200);
	assert_int_equal(off_at("Africa/Khartoum", "2016-01-01T00:00:00Z"), 10800);
	assert_int_equal(off_at("Africa/Khartoum", "2050-01-01T00:00:00Z"), 7200);
	assert_int_equal(off_at("America/Santo_Domingo", "2025-10-14T10:00:00Z"), -14400);
	assert_int_equal(off_at("America/Santo_Domingo", "2045-01-01T00:00:00Z"), -14400);
	assert_int_equal(off_at("UTC", "2025-10-14T10:00:00Z"), 0);
	assert_int_equal(off_at("Etc/UTC", "1950-10-14T10:00:00Z"), 0);
	assert_int_equal(off_at("America/Sao_Paulo", "2040-01-01T00:00:00Z"), -10800);

	err_clear(&e);
	assert_int_equal(tz_local("America/El_Salvador", iso("2025-10-14T03:00:00Z"), date, tod, &e), 0);
	assert_string_equal(date, "2025-10-13");
	assert_string_equal(tod, "21:00:00");
	assert_int_equal(tz_local("Africa/Khartoum", iso("2025-12-31T22:30:05Z"), date, tod, &e), 0);
	assert_string_equal(date, "2026-01-01");
	assert_string_equal(tod, "00:30:05");
	assert_int_equal(tz_local("UTC", 0, date, tod, &e), 0);
	assert_string_equal(date, "1970-01-01");
	assert_string_equal(tod, "00:00:00");
}

static void test_tz_extreme_instants(void **state)
{
	char date[DATE_LEN + 1], tod[9];
	struct err e;
	int32_t off;
	(void)state;
	err_clear(&e);
	assert_int_equal(tz_offset("America/New_York", INT64_MAX, &off, &e), 0);
	assert_true(off == -18000 || off == -14400);
	assert_int_equal(tz_offset("America/New_York", INT64_MIN, &off, &e), 0);
	assert_int_equal(off, -17762);
	assert_int_equal(tz_local("Asia/Tokyo", INT64_MAX, date, tod, &e), 0);
	assert_string_equal(date, "9999-12-31");
	assert_string_equal(tod, "23:59:59");
	assert_int_equal(tz_local("America/New_York", INT64_MIN, date, tod, &e), 0);
	assert_string_equal(date, "0000-01-01");
	assert_string_equal(tod, "00:00:00");
}

static void test_tz_new_york_dst(void **state)
{
	(void)state;
	/* 2025 (transition table) */
	assert_int_equal(off_at("America/New_York", "2025-03-09T06:59:59Z"), -18000);
	assert_int_equal(off_at("America/New_York", "2025-03-09T07:00:00Z"), -14400);
	assert_int_equal(off_at("America/New_York", "2025-11-02T05:59:59Z"), -14400);
	assert_int_equal(off_at("America/New_York", "2025-11-02T06:00:00Z"), -18000);
	assert_int_equal(off_at("America/New_York", "2025-07-04T12:00:00Z"), -14400);
	assert_int_equal(off_at("America/New_York", "2025-01-15T12:00:00Z"), -18000);
	/* 2040: past the last transition, the footer EST5EDT,M3.2.0,M11.1.0 */
	assert_int_equal(off_at("America/New_York", "2040-03-11T06:59:59Z"), -18000);
	assert_int_equal(off_at("America/New_York", "2040-03-11T07:00:00Z"), -14400);
	assert_int_equal(off_at("America/New_York", "2040-11-04T05:59:59Z"), -14400);
	assert_int_equal(off_at("America/New_York", "2040-11-04T06:00:00Z"), -18000);
	assert_int_equal(off_at("America/New_York", "2040-01-01T00:00:00Z"), -18000);
	assert_int_equal(off_at("America/New_York", "2040-12-31T23:59:59Z"), -18000);
	/* before the first transition: local mean time (first non-DST type) */
	assert_int_equal(off_at("America/New_York", "1800-01-01T00:00:00Z"), -17762);
}

static void test_tz_madrid_casablanca(void **state)
{
	struct err e;
	int32_t off;
	(void)state;
	assert_int_equal(off_at("Europe/Madrid", "2025-01-15T12:00:00Z"), 3600);
	assert_int_equal(off_at("Europe/Madrid", "2025-07-15T12:00:00Z"), 7200);
	assert_int_equal(off_at("Europe/Madrid", "2025-03-30T00:59:59Z"), 3600);
	assert_int_equal(off_at("Europe/Madrid", "2025-03-30T01:00:00Z"), 7200);
	assert_int_equal(off_at("Europe/Madrid", "2040-03-25T00:59:59Z"), 3600);
	assert_int_equal(off_at("Europe/Madrid", "2040-03-25T01:00:00Z"), 7200);
	assert_int_equal(off_at("Europe/Madrid", "2040-10-28T00:59:59Z"), 7200);
	assert_int_equal(off_at("Europe/Madrid", "2040-10-28T01:00:00Z"), 3600);
	for (int64_t t = iso("2025-01-01T00:00:00Z"); t < iso("2027-01-01T00:00:00Z"); t += 86400 * 5) {
		err_clear(&e);
		assert_int_equal(tz_offset("Africa/Casablanca", t, &off, &e), 0);
		assert_true(off == 0 || off == 3600);
	}
	err_clear(&e);
	assert_int_equal(tz_offset("Africa/Casablanca", iso("2090-06-01T00:00:00Z"), &off, &e), 0);
	assert_true(off == 0 || off == 3600);
}

/* glibc's offset for zone at t (the test process alone touches TZ). */
static long libc_offset(const char *zone, int64_t t)
{
	char tzenv[128];
	struct tm tm;
	time_t tt = (time_t)t;

	snprintf(tzenv, sizeof(tzenv), ":%s", zone);
	setenv("TZ", tzenv, 1);
	tzset();
	localtime_r(&tt, &tm);
	return tm.tm_gmtoff;
}

static void test_tz_against_libc(void **state)
{
	static const char *const zones[] = {
	    "America/El_Salvador", "Africa/Khartoum",	  "America/Santo_Domingo", "America/New_York",
	    "Europe/Madrid",	   "Africa/Casablanca",	  "America/Sao_Paulo",	   "America/Santiago",
	    "Australia/Sydney",	   "Australia/Lord_Howe", "Pacific/Chatham",	   "America/Nuuk",
	    "Europe/Dublin",	   "Asia/Tehran",	  "America/Havana",	   "Asia/Kolkata",
	    "America/Mexico_City", "Europe/London",
	};
	char *old_tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	(void)state;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		/* 1971..2110, about every 3.9 days, plus both sides of each hour step */
		for (int64_t t = 31536000; t < 4418064000; t += 86400 * 3 + 77777) {
			struct err e;
			int32_t off;
			err_clear(&e);
			if (tz_offset(zones[z], t, &off, &e) != 0)
				fail_msg("tz_offset(%s) failed: %s", zones[z], e.message);
			long want = libc_offset(zones[z], t);
			if (off != want) {
				char buf[TIME_ISO_LEN + 1];
				time_iso(t, buf);
				fail_msg("%s at %s: got %d, libc %ld", zones[z], buf, off, want);
			}
		}
	}
	if (old_tz)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	free(old_tz);
	tzset();
}

static void test_tz_invalid(void **state)
{
	static const char *const bad[] = {
	    "../etc/passwd",
	    "Nope/Zone",
	    "",
	    "/etc/passwd",
	    "/usr/share/zoneinfo/UTC",
	    "America",
	    "America/",
	    "America//New_York",
	    "America/New York",
	    "America/New_York\n",
	    "zone.tab",
	    "tzdata.zi",
	    "America/../UTC",
	    "..",
	    "America/New_York/x",
	    "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err e;
		int32_t off = 99;
		char date[DATE_LEN + 1], tod[9];
		if (tz_valid(bad[i]))
			fail_msg("tz_valid(\"%s\") accepted", bad[i]);
		err_clear(&e);
		assert_int_equal(tz_offset(bad[i], 0, &off, &e), ERR_INVALID);
		assert_int_equal(e.code, ERR_INVALID);
		assert_string_equal(e.field, "timezone");
		err_clear(&e);
		assert_int_equal(tz_local(bad[i], 0, date, tod, &e), ERR_INVALID);
	}
	assert_false(tz_valid(NULL));
	assert_true(tz_valid("America/El_Salvador"));
	assert_true(tz_valid("UTC"));
	assert_true(tz_valid("Etc/GMT+6"));
	assert_true(tz_valid("America/Port-au-Prince"));
	assert_int_equal(off_at("Etc/GMT+6", "2025-01-01T00:00:00Z"), -21600);
}

/* ---- hand-made TZif files in a private TZDIR ---- */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Header with counts; returns bytes written (44). */
static size_t tzif_head(unsigned char *p, char version, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
	memset(p, 0, 44);
	memcpy(p, "TZif", 4);
	p[4] = (unsigned char)version;
	put32(p + 32, timecnt);
	put32(p + 36, typecnt);
	put32(p + 40, charcnt);
	return 44;
}

static void write_file(const char *dir, const char *name, const unsigned char *b, size_t n)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

/* v1 file: one transition at t=1000000000 from +05:30 to +06:00. */
static size_t make_v1(unsigned char *b)
{
	size_t n = tzif_head(b, 0, 1, 2, 4);
	put32(b + n, 1000000000);
	n += 4;
	b[n++] = 1;	     /* index */
	put32(b + n, 19800); /* type 0: +05:30 */
	b[n + 4] = 0;
	b[n + 5] = 0;
	n += 6;
	put32(b + n, 21600); /* type 1: +06:00 */
	b[n + 4] = 0;
	b[n + 5] = 0;
	n += 6;
	memcpy(b + n, "XX\0\0", 4);
	return n + 4;
}

/* v2 file without transitions, only a footer. */
static size_t make_footer_only(unsigned char *b, const char *footer, int32_t type0)
{
	size_t n = tzif_head(b, '2', 0, 1, 4);
	put32(b + n, (uint32_t)type0);
	n += 6;
	memcpy(b + n, "XX\0\0", 4);
	n += 4;
	n += tzif_head(b + n, '2', 0, 1, 4);
	put32(b + n, (uint32_t)type0);
	b[n + 4] = 0;
	b[n + 5] = 0;
	n += 6;
	memcpy(b + n, "XX\0\0", 4);
	n += 4;
	b[n++] = '\n';
	memcpy(b + n, footer, strlen(footer));
	n += strlen(footer);
	b[n++] = '\n';
	return n;
}

static void test_tz_custom_files(void **state)
{
	char dir[] = "/tmp/cl-tzdir-XXXXXX";
	char *old = getenv("TZDIR") ? strdup(getenv("TZDIR")) : NULL;
	unsigned char b[512];
	size_t n;
	char path[600];
	struct err e;
	int32_t off;
	(void)state;

	assert_non_null(mkdtemp(dir));
	n = make_v1(b);
	write_file(dir, "Test_V1", b, n);
	write_file(dir, "Truncated", b, n - 5);
	write_file(dir, "Garbage",
		   (const unsigned char *)"not a tzif file at all, really: long enough to "
					  "pass the size check",
		   66);
	n = make_footer_only(b, "<+03>-3", 0);
	write_file(dir, "Plus_Three", b, n);
	/* Jn: DST from day 60 (Mar 1, no Feb 29 count) 02:00 to J300 02:00 */
	n = make_footer_only(b, "XST5XDT,J60,J300", -18000);
	write_file(dir, "Julian", b, n);
	/* n: zero-based day 59 (Feb 29 in leap years) 02:00 to day 299 */
	n = make_footer_only(b, "XST5XDT4,59/0:30,299/-1", -18000);
	write_file(dir, "Zero_Based", b, n);
	n = make_footer_only(b, "bad footer!", 7200);
	write_file(dir, "Bad_Footer", b, n);
	n = make_footer_only(b, "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", -10800);
	write_file(dir, "Negative_Times", b, n);
	setenv("TZDIR", dir, 1);

	assert_true(tz_valid("Test_V1"));
	assert_false(tz_valid("Truncated"));
	assert_false(tz_valid("Garbage"));
	assert_false(tz_valid("America/El_Salvador")); /* not in this TZDIR */
	assert_int_equal(off_at("Test_V1", "2001-09-09T01:46:39Z"), 19800);
	assert_int_equal(off_at("Test_V1", "2001-09-09T01:46:40Z"), 21600);
	assert_int_equal(off_at("Test_V1", "2090-01-01T00:00:00Z"), 21600);
	assert_int_equal(off_at("Test_V1", "1950-01-01T00:00:00Z"), 19800);

	assert_int_equal(off_at("Plus_Three", "2025-06-01T00:00:00Z"), 10800);
	assert_int_equal(off_at("Bad_Footer", "2025-06-01T00:00:00Z"), 7200); /* type 0 */

	/* J60 is March 1 in every year; 2024 and 2025 alike */
	assert_int_equal(off_at("Julian", "2024-03-01T06:59:59Z"), -18000);
	assert_int_equal(off_at("Julian", "2024-03-01T07:00:00Z"), -14400);
	assert_int_equal(off_at("Julian", "2025-03-01T07:00:00Z"), -14400);
	assert_int_equal(off_at("Julian", "2025-02-28T12:00:00Z"), -18000);
	/* J300 = Oct 27 (day 300 of a 365-day year, Feb 29 never counted) */
	assert_int_equal(off_at("Julian", "2024-10-27T05:59:59Z"), -14400);
	assert_int_equal(off_at("Julian", "2024-10-27T06:00:00Z"), -18000);

	/* day 59 zero-based: Feb 29 in 2024, Mar 1 in 2025, at 00:30 local std */
	assert_int_equal(off_at("Zero_Based", "2024-02-29T05:29:59Z"), -18000);
	assert_int_equal(off_at("Zero_Based", "2024-02-29T05:30:00Z"), -14400);
	assert_int_equal(off_at("Zero_Based", "2025-03-01T05:30:00Z"), -14400);
	assert_int_equal(off_at("Zero_Based", "2025-02-28T23:00:00Z"), -18000);
	/* day 299 at -1:00 DST: 2024-10-26 (leap) 23:00 local of Oct 25 -> 03:00Z Oct 26 */
	assert_int_equal(off_at("Zero_Based", "2024-10-26T02:59:59Z"), -14400);
	assert_int_equal(off_at("Zero_Based", "2024-10-26T03:00:00Z"), -18000);

	/* negative rule times (America/Nuuk style) */
	assert_int_equal(off_at("Negative_Times", "2030-03-31T00:59:59Z"), -10800);
	assert_int_equal(off_at("Negative_Times", "2030-03-31T01:00:00Z"), -7200);
	assert_int_equal(off_at("Negative_Times", "2030-10-27T00:59:59Z"), -7200);
	assert_int_equal(off_at("Negative_Times", "2030-10-27T01:00:00Z"), -10800);

	err_clear(&e);
	assert_int_equal(tz_offset("Missing", 0, &off, &e), ERR_INVALID);

	if (old)
		setenv("TZDIR", old, 1);
	else
		unsetenv("TZDIR");
	free(old);
	static const char *const names[] = {"Test_V1", "Truncated",  "Garbage",	   "Plus_Three",
					    "Julian",  "Zero_Based", "Bad_Footer", "Negative_Times"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clocks),
	    cmocka_unit_test(test_time_iso),
	    cmocka_unit_test(test_parse_iso),
	    cmocka_unit_test(test_parse_iso_message),
	    cmocka_unit_test(test_date_valid),
	    cmocka_unit_test(test_date_days),
	    cmocka_unit_test(test_date_add),
	    cmocka_unit_test(test_tz_fixed_zones),
	    cmocka_unit_test(test_tz_extreme_instants),
	    cmocka_unit_test(test_tz_new_york_dst),
	    cmocka_unit_test(test_tz_madrid_casablanca),
	    cmocka_unit_test(test_tz_against_libc),
	    cmocka_unit_test(test_tz_invalid),
	    cmocka_unit_test(test_tz_custom_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
