/*
 * timeutil.c - clocks, ISO-8601 text, proleptic Gregorian dates, IANA zones.
 *
 * Calendar arithmetic uses Howard Hinnant's days_from_civil / civil_from_days
 * algorithms on int64_t, so no libc time zone state is touched. Time zones
 * are read from the TZif file of the zone (RFC 8536; version 1 data, or the
 * 64-bit section of version 2+) on every call: files are small and this
 * keeps the module free of global caches. Instants after the last
 * transition use the POSIX TZ string in the file's footer, parsed here
 * (angle-bracket names, hh[:mm[:ss]] offsets, Mm.w.d / Jn / n rules).
 */
#include "core/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"

#define TZ_NAME_MAX   64
#define TZ_FILE_MAX   (1024 * 1024)
#define TZ_FOOTER_MAX 128

/* ---- calendar ---------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *year, int *month, int *day)
{
	int64_t era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*year = y + (m <= 2);
	*month = (int)m;
	*day = (int)d;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Read exactly n decimal digits. */
static bool read_num(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* "YYYY-MM-DD" at s (not necessarily terminated after it). */
static bool parse_date_prefix(const char *s, int *y, int *m, int *d)
{
	if (!read_num(s, 4, y) || s[4] != '-' || !read_num(s + 5, 2, m) || s[7] != '-' || !read_num(s + 8, 2, d))
		return false;
	if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return false;
	return true;
}

bool date_valid(const char *s)
{
	int y, m, d;
	return s && strlen(s) == DATE_LEN && parse_date_prefix(s, &y, &m, &d);
}

int64_t date_to_days(const char *s)
{
	int y, m, d;
	if (!date_valid(s))
		return INT64_MIN;
	parse_date_prefix(s, &y, &m, &d);
	return days_from_civil(y, m, d);
}

/* Write v (0 <= v < 10^width) as exactly `width` digits. */
static char *put_num(char *p, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* "YYYY-MM-DD" (no terminator) at p; y must be 0..9999. */
static char *put_date(char *p, int64_t y, int m, int d)
{
	p = put_num(p, y, 4);
	*p++ = '-';
	p = put_num(p, m, 2);
	*p++ = '-';
	return put_num(p, d, 2);
}

/* "HH:MM:SS" (no terminator) at p. */
static char *put_time(char *p, int h, int mi, int s)
{
	p = put_num(p, h, 2);
	*p++ = ':';
	p = put_num(p, mi, 2);
	*p++ = ':';
	return put_num(p, s, 2);
}

/* Text forms cover years 0000..9999: days outside are clamped to the ends. */
#define DAYS_MIN (-719528) /* 0000-01-01 */
#define DAYS_MAX (2932896) /* 9999-12-31 */

/* Keep instants within years 0000..9999 so that offsets can be added safely. */
static int64_t clamp_epoch(int64_t t)
{
	if (t < (int64_t)DAYS_MIN * 86400)
		return (int64_t)DAYS_MIN * 86400;
	if (t > (int64_t)DAYS_MAX * 86400 + 86399)
		return (int64_t)DAYS_MAX * 86400 + 86399;
	return t;
}

void date_from_days(int64_t days, char out[DATE_LEN + 1])
{
	int64_t y;
	int m, d;

	if (days < DAYS_MIN)
		days = DAYS_MIN;
	if (days > DAYS_MAX)
		days = DAYS_MAX;
	civil_from_days(days, &y, &m, &d);
	*put_date(out, y, m, d) = '\0';
}

void date_add_days(const char *s, int n, char out[DATE_LEN + 1])
{
	if (!date_valid(s)) {
		out[0] = '\0';
		return;
	}
	date_from_days(date_to_days(s) + n, out);
}

/* ---- clocks and ISO-8601 ------------------------------------------------ */

int64_t time_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void split_epoch(int64_t t, int64_t *y, int *mo, int *d, int *h, int *mi, int *s)
{
	int64_t days = floor_div(t, 86400);
	int64_t secs = t - days * 86400;

	civil_from_days(days, y, mo, d);
	*h = (int)(secs / 3600);
	*mi = (int)(secs / 60 % 60);
	*s = (int)(secs % 60);
}

void time_iso(int64_t epoch_s, char out[TIME_ISO_LEN + 1])
{
	int64_t y;
	int mo, d, h, mi, s;

	char *p;

	split_epoch(clamp_epoch(epoch_s), &y, &mo, &d, &h, &mi, &s);
	p = put_date(out, y, mo, d);
	*p++ = 'T';
	p = put_time(p, h, mi, s);
	*p++ = 'Z';
	*p = '\0';
}

void time_now_iso(char out[TIME_ISO_LEN + 1])
{
	time_iso(time_now_s(), out);
}

int time_parse_iso(const char *s, int64_t *epoch_s, const char *field, struct err *e)
{
	const char *f = field && *field ? field : "timestamp";
	const char *p;
	int y, mo, d, h, mi, sec, oh, om;
	int32_t off = 0;

	if (!s || !parse_date_prefix(s, &y, &mo, &d))
		goto bad;
	if (s[DATE_LEN] == '\0') {
		*epoch_s = days_from_civil(y, mo, d) * 86400;
		return 0;
	}
	if (s[10] != 'T' || !read_num(s + 11, 2, &h) || s[13] != ':' || !read_num(s + 14, 2, &mi) || s[16] != ':' ||
	    !read_num(s + 17, 2, &sec))
		goto bad;
	if (h > 23 || mi > 59 || sec > 59)
		goto bad;
	p = s + 19;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			n++;
		if (n < 1 || n > 9)
			goto bad;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (!read_num(p + 1, 2, &oh) || p[3] != ':' || !read_num(p + 4, 2, &om) || oh > 23 || om > 59)
			goto bad;
		off = oh * 3600 + om * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	} else {
		goto bad;
	}
	if (*p != '\0')
		goto bad;
	*epoch_s = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
bad:
	return err_set(e, ERR_INVALID, field, "%s must be an ISO-8601 date-time (YYYY-MM-DDTHH:MM:SSZ)", f);
}

/* ---- POSIX TZ strings ---------------------------------------------------- */

enum tzrule_kind { RULE_JULIAN1, RULE_ZERO, RULE_MONTH };

struct tzrule {
	enum tzrule_kind kind;
	int n, m, w, d; /* day n (J/zero-based), or month m, week w, weekday d */
	int32_t time;	/* seconds after local midnight, may be negative or > 24h */
};

struct posix_tz {
	int32_t std_off, dst_off; /* UTC offsets, east positive */
	bool has_dst;
	struct tzrule start, end;
};

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *ptz_name(const char *p)
{
	const char *q = p;

	if (*p == '<') {
		for (q = p + 1; is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-'; q++)
			;
		if (*q != '>' || q - p - 1 < 1)
			return NULL;
		return q + 1;
	}
	while (is_alpha(*q))
		q++;
	return q - p >= 3 ? q : NULL;
}

/* [+-]h[hh][:mm[:ss]] with hours <= max_h; seconds into *out. */
static const char *ptz_hms(const char *p, int max_h, int32_t *out)
{
	int sign = 1, h = 0, m = 0, s = 0, n = 0;

	if (*p == '+' || *p == '-') {
		if (*p == '-')
			sign = -1;
		p++;
	}
	for (; is_digit(*p) && n < 3; p++, n++)
		h = h * 10 + (*p - '0');
	if (n == 0 || h > max_h)
		return NULL;
	if (*p == ':') {
		if (!is_digit(p[1]) || !is_digit(p[2]))
			return NULL;
		m = (p[1] - '0') * 10 + (p[2] - '0');
		p += 3;
		if (*p == ':') {
			if (!is_digit(p[1]) || !is_digit(p[2]))
				return NULL;
			s = (p[1] - '0') * 10 + (p[2] - '0');
			p += 3;
		}
	}
	if (m > 59 || s > 59)
		return NULL;
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *ptz_int(const char *p, int lo, int hi, int *out)
{
	int v = 0, n = 0;

	for (; is_digit(*p) && n < 4; p++, n++)
		v = v * 10 + (*p - '0');
	if (n == 0 || v < lo || v > hi)
		return NULL;
	*out = v;
	return p;
}

static const char *ptz_rule(const char *p, struct tzrule *r)
{
	if (*p == 'J') {
		r->kind = RULE_JULIAN1;
		p = ptz_int(p + 1, 1, 365, &r->n);
	} else if (*p == 'M') {
		r->kind = RULE_MONTH;
		p = ptz_int(p + 1, 1, 12, &r->m);
		if (!p || *p != '.')
			return NULL;
		p = ptz_int(p + 1, 1, 5, &r->w);
		if (!p || *p != '.')
			return NULL;
		p = ptz_int(p + 1, 0, 6, &r->d);
	} else {
		r->kind = RULE_ZERO;
		p = ptz_int(p, 0, 365, &r->n);
	}
	if (!p)
		return NULL;
	r->time = 7200;
	if (*p == '/')
		p = ptz_hms(p + 1, 167, &r->time);
	return p;
}

/* Parse a POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0", "<-03>3"). 0 or -1. */
static int posix_tz_parse(const char *s, struct posix_tz *tz)
{
	const char *p = s;
	int32_t off;

	memset(tz, 0, sizeof(*tz));
	p = ptz_name(p);
	if (!p)
		return -1;
	p = ptz_hms(p, 24, &off);
	if (!p)
		return -1;
	tz->std_off = -off;
	if (*p == '\0')
		return 0;
	p = ptz_name(p);
	if (!p)
		return -1;
	tz->has_dst = true;
	tz->dst_off = tz->std_off + 3600;
	if (*p && *p != ',') {
		p = ptz_hms(p, 24, &off);
		if (!p)
			return -1;
		tz->dst_off = -off;
	}
	if (*p == '\0') {
		/* no rule: the traditional US default */
		tz->start = (struct tzrule){RULE_MONTH, 0, 3, 2, 0, 7200};
		tz->end = (struct tzrule){RULE_MONTH, 0, 11, 1, 0, 7200};
		return 0;
	}
	if (*p != ',')
		return -1;
	p = ptz_rule(p + 1, &tz->start);
	if (!p || *p != ',')
		return -1;
	p = ptz_rule(p + 1, &tz->end);
	if (!p || *p != '\0')
		return -1;
	return 0;
}

/* The local wall-clock instant (as if local were UTC) a rule fires in year y. */
static int64_t rule_local(const struct tzrule *r, int64_t y)
{
	int64_t jan1 = days_from_civil(y, 1, 1), day;

	switch (r->kind) {
	case RULE_JULIAN1: day = jan1 + r->n - 1 + (is_leap(y) && r->n >= 60 ? 1 : 0); break;
	case RULE_ZERO: day = jan1 + r->n; break;
	case RULE_MONTH:
	default: {
		int64_t first = days_from_civil(y, r->m, 1);
		int64_t wd = first + 4 - floor_div(first + 4, 7) * 7; /* 1970-01-01 was a Thursday */
		int64_t last = first + days_in_month(y, r->m) - 1;
		day = first + (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
		while (day > last)
			day -= 7;
		break;
	}
	}
	return day * 86400 + r->time;
}

static int32_t posix_tz_offset(const struct posix_tz *tz, int64_t t)
{
	int64_t y, start, end;
	int mo, d;
	bool dst;

	if (!tz->has_dst)
		return tz->std_off;
	civil_from_days(floor_div(t + tz->std_off, 86400), &y, &mo, &d);
	start = rule_local(&tz->start, y) - tz->std_off;
	end = rule_local(&tz->end, y) - tz->dst_off;
	if (start < end)
		dst = t >= start && t < end;
	else
		dst = !(t >= end && t < start);
	return dst ? tz->dst_off : tz->std_off;
}

/* ---- TZif files ---------------------------------------------------------- */

struct tzif {
	const unsigned char *times; /* timecnt big-endian times of tsize bytes */
	int tsize;
	uint32_t timecnt;
	const unsigned char *idx;   /* timecnt type indices */
	const unsigned char *types; /* typecnt 6-byte ttinfo */
	uint32_t typecnt;
	bool has_footer;
	char footer[TZ_FOOTER_MAX];
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t tz_time_at(const struct tzif *z, uint32_t i)
{
	const unsigned char *p = z->times + (size_t)i * (size_t)z->tsize;
	if (z->tsize == 4)
		return (int32_t)be32(p);
	return (int64_t)(((uint64_t)be32(p) << 32) | be32(p + 4));
}

static int32_t tz_type_off(const struct tzif *z, uint32_t type)
{
	return (int32_t)be32(z->types + (size_t)type * 6);
}

static bool tz_type_dst(const struct tzif *z, uint32_t type)
{
	return z->types[(size_t)type * 6 + 4] != 0;
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chr;
};

static int tzif_header(const unsigned char *b, size_t n, size_t at, struct tzif_counts *c)
{
	if (at > n || n - at < 44 || memcmp(b + at, "TZif", 4) != 0)
		return -1;
	c->isut = be32(b + at + 20);
	c->isstd = be32(b + at + 24);
	c->leap = be32(b + at + 28);
	c->time = be32(b + at + 32);
	c->type = be32(b + at + 36);
	c->chr = be32(b + at + 40);
	if (c->type == 0 || c->type > 256 || c->time > TZ_FILE_MAX || c->leap > TZ_FILE_MAX || c->chr > TZ_FILE_MAX ||
	    (c->isstd != 0 && c->isstd != c->type) || (c->isut != 0 && c->isut != c->type))
		return -1;
	return 0;
}

static uint64_t tzif_block_size(const struct tzif_counts *c, int tsize)
{
	return (uint64_t)c->time * (uint64_t)(tsize + 1) + (uint64_t)c->type * 6 + c->chr +
	       (uint64_t)c->leap * (uint64_t)(tsize + 4) + c->isstd + c->isut;
}

static int tzif_parse(const unsigned char *b, size_t n, struct tzif *z)
{
	struct tzif_counts c;
	size_t at = 0;
	uint64_t size;

	memset(z, 0, sizeof(*z));
	if (tzif_header(b, n, 0, &c) != 0)
		return -1;
	z->tsize = 4;
	size = tzif_block_size(&c, 4);
	if (size > n - 44)
		return -1;
	if (b[4] >= '2') {
		at = 44 + (size_t)size;
		if (tzif_header(b, n, at, &c) != 0)
			return -1;
		z->tsize = 8;
		size = tzif_block_size(&c, 8);
		if (size > n - at - 44)
			return -1;
	}
	z->times = b + at + 44;
	z->timecnt = c.time;
	z->idx = z->times + (size_t)c.time * (size_t)z->tsize;
	z->types = z->idx + c.time;
	z->typecnt = c.type;
	for (uint32_t i = 0; i < c.time; i++)
		if (z->idx[i] >= c.type)
			return -1;
	if (z->tsize == 8) {
		size_t f = at + 44 + (size_t)size, e;
		if (f < n && b[f] == '\n') {
			for (e = f + 1; e < n && b[e] != '\n'; e++)
				;
			if (e < n && e - f - 1 < TZ_FOOTER_MAX) {
				memcpy(z->footer, b + f + 1, e - f - 1);
				z->footer[e - f - 1] = '\0';
				z->has_footer = z->footer[0] != '\0';
			}
		}
	}
	return 0;
}

static int32_t tzif_offset(const struct tzif *z, int64_t t)
{
	struct posix_tz ptz;
	uint32_t lo, hi;

	if (z->timecnt == 0 || t >= tz_time_at(z, z->timecnt - 1)) {
		if (z->has_footer && posix_tz_parse(z->footer, &ptz) == 0)
			return posix_tz_offset(&ptz, t);
		if (z->timecnt == 0)
			return tz_type_off(z, 0);
		return tz_type_off(z, z->idx[z->timecnt - 1]);
	}
	if (t < tz_time_at(z, 0)) {
		for (uint32_t i = 0; i < z->typecnt; i++)
			if (!tz_type_dst(z, i))
				return tz_type_off(z, i);
		return tz_type_off(z, 0);
	}
	/* largest i with times[i] <= t; times[0] <= t < times[timecnt-1] */
	lo = 0;
	hi = z->timecnt - 1;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (tz_time_at(z, mid) <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz_type_off(z, z->idx[lo]);
}

static bool tz_name_ok(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/' || strstr(name, "..") ||
	    strstr(name, "//"))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '+' || c == '/'))
			return false;
	}
	return true;
}

/* Read the zone's TZif file into an owned buffer. 0, or -1 (errno-ish detail in e). */
static int tz_read(const char *name, unsigned char **buf, size_t *len)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	struct stat st;
	unsigned char *b = NULL;
	size_t got = 0;
	int fd = -1, rc = -1;

	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 44 || st.st_size > TZ_FILE_MAX)
		goto out;
	b = xmalloc((size_t)st.st_size);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		got += (size_t)r;
	}
	*buf = b;
	*len = got;
	b = NULL;
	rc = 0;
out:
	free(b);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Offset of zone at t; 0 or -1 when the zone is unknown or unreadable. */
static int tz_lookup(const char *name, int64_t t, int32_t *off)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	struct tzif z;
	int rc = -1;

	if (!tz_name_ok(name))
		goto out;
	t = clamp_epoch(t);
	if (tz_read(name, &buf, &len) != 0) {
		/* a machine without tzdata still knows UTC */
		if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
			*off = 0;
			rc = 0;
		}
		goto out;
	}
	if (tzif_parse(buf, len, &z) != 0)
		goto out;
	*off = tzif_offset(&z, t);
	rc = 0;
out:
	free(buf);
	return rc;
}

bool tz_valid(const char *name)
{
	int32_t off;
	return tz_lookup(name, 0, &off) == 0;
}

int tz_offset(const char *name, int64_t epoch_s, int32_t *offset_s, struct err *e)
{
	if (tz_lookup(name, epoch_s, offset_s) != 0)
		return err_set(e, ERR_INVALID, "timezone",
			       "timezone must be an IANA time zone name (e.g. America/El_Salvador)");
	return 0;
}

int tz_local(const char *name, int64_t epoch_s, char date[DATE_LEN + 1], char time_of_day[9], struct err *e)
{
	int32_t off;
	int64_t y;
	int mo, d, h, mi, s;
	int rc;

	rc = tz_offset(name, epoch_s, &off, e);
	if (rc != 0)
		return rc;
	split_epoch(clamp_epoch(clamp_epoch(epoch_s) + off), &y, &mo, &d, &h, &mi, &s);
	*put_date(date, y, mo, d) = '\0';
	*put_time(time_of_day, h, mi, s) = '\0';
	return 0;
}
