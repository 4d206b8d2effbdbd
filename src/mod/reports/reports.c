/*
 * reports.c - the rules of the reports: parameters, periods in the tenant's
 * zone, the CSV writer, and the assembly of the grouped sums that
 * reports_repo.c reads into per-period, per-currency rows and totals.
 *
 * Totals are not added up here: they are the same query run over one bucket
 * spanning the whole range, so a period's figures and the totals come from
 * the same SQL and the same rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "mod/reports/reports.h"
#include "mod/reports/reports_repo.h"

#define YEAR_MIN 1900
#define YEAR_MAX 2999
#define DAY_S	 86400

/* ---- parameters and periods ---- */

static const char *const group_names[] = {"day", "week", "month"};
static const char *const dim_names[] = {"", "service", "category", "provider"};

int reports_group_parse(const char *s)
{
	for (size_t i = 0; s && i < sizeof(group_names) / sizeof(group_names[0]); i++)
		if (strcmp(s, group_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *reports_group_name(enum reports_group g)
{
	return group_names[g];
}

int reports_dim_parse(const char *s)
{
	for (size_t i = 1; s && i < sizeof(dim_names) / sizeof(dim_names[0]); i++)
		if (strcmp(s, dim_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *reports_dim_name(enum reports_dim d)
{
	return dim_names[d];
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	int64_t m = a % b;
	return m < 0 ? m + b : m;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

void reports_period_of(enum reports_group g, const char *date, struct reports_period *out)
{
	int64_t days = date_to_days(date);
	int y = atoi(date), m = atoi(date + 5);

	switch (g) {
	case REPORTS_GROUP_DAY:
		snprintf(out->label, sizeof(out->label), "%s", date);
		snprintf(out->start, sizeof(out->start), "%s", date);
		snprintf(out->end, sizeof(out->end), "%s", date);
		break;
	case REPORTS_GROUP_WEEK: {
		/* 1970-01-01 was a Thursday: (days + 3) mod 7 is 0 on Mondays. The
		 * ISO week belongs to the year of its Thursday. */
		int64_t monday = days - floor_mod(days + 3, 7);
		char thu[DATE_LEN + 1], jan1[DATE_LEN + 1];
		int iso_year;

		date_from_days(monday + 3, thu);
		iso_year = atoi(thu);
		snprintf(jan1, sizeof(jan1), "%04d-01-01", iso_year);
		snprintf(out->label, sizeof(out->label), "%04d-W%02d", iso_year,
			 (int)((monday + 3 - date_to_days(jan1)) / 7 + 1));
		date_from_days(monday, out->start);
		date_from_days(monday + 6, out->end);
		break;
	}
	case REPORTS_GROUP_MONTH:
		snprintf(out->label, sizeof(out->label), "%04d-%02d", y, m);
		snprintf(out->start, sizeof(out->start), "%04d-%02d-01", y, m);
		snprintf(out->end, sizeof(out->end), "%04d-%02d-%02d", y, m, month_days(y, m));
		break;
	}
}

void reports_periods(enum reports_group g, const char *from, const char *to, struct arena *a,
		     struct reports_period **out, size_t *n)
{
	int64_t first = date_to_days(from), last = date_to_days(to);
	struct reports_period *p = arena_alloc(a, (size_t)(last - first + 1) * sizeof(*p));
	char cur[DATE_LEN + 1];
	size_t count = 0;

	snprintf(cur, sizeof(cur), "%s", from);
	while (strcmp(cur, to) <= 0) {
		reports_period_of(g, cur, &p[count]);
		if (strcmp(p[count].start, from) < 0)
			snprintf(p[count].start, sizeof(p[count].start), "%s", from);
		if (strcmp(p[count].end, to) > 0)
			snprintf(p[count].end, sizeof(p[count].end), "%s", to);
		date_add_days(p[count].end, 1, cur);
		count++;
	}
	*out = p;
	*n = count;
}

static int date_param(const char *s, const char *name, char out[DATE_LEN + 1], struct err *e)
{
	int y;

	if (!date_valid(s))
		return err_set(e, ERR_INVALID, name, "%s must be a date YYYY-MM-DD", name);
	y = atoi(s);
	if (y < YEAR_MIN || y > YEAR_MAX)
		return err_set(e, ERR_INVALID, name, "%s must be between %d-01-01 and %d-12-31", name, YEAR_MIN,
			       YEAR_MAX);
	snprintf(out, DATE_LEN + 1, "%s", s);
	return 0;
}

int reports_range_resolve(const char *from, const char *to, const char *group, enum reports_group def_group,
			  const char *today, struct reports_range *out, struct err *e)
{
	int64_t span, max;
	int g = (int)def_group, rc;

	memset(out, 0, sizeof(*out));
	if (group) {
		g = reports_group_parse(group);
		if (g < 0)
			return err_set(e, ERR_INVALID, "groupBy", "groupBy must be day, week or month");
	}
	out->group = (enum reports_group)g;
	rc = date_param(to ? to : today, "to", out->to, e);
	if (rc)
		return rc;
	if (from) {
		rc = date_param(from, "from", out->from, e);
		if (rc)
			return rc;
	} else {
		date_add_days(out->to, -(REPORTS_DEFAULT_DAYS - 1), out->from);
	}
	if (strcmp(out->from, out->to) > 0)
		return err_set(e, ERR_INVALID, "from", "from must not be after to");
	span = date_to_days(out->to) - date_to_days(out->from) + 1;
	max = out->group == REPORTS_GROUP_DAY ? REPORTS_DAY_RANGE_MAX : REPORTS_RANGE_MAX;
	if (span > max)
		return err_set(e, ERR_INVALID, "to",
			       "the range covers %lld days; at most %lld days can be grouped by %s%s", (long long)span,
			       (long long)max, group_names[out->group],
			       out->group == REPORTS_GROUP_DAY ? " (group by week or month, or narrow from/to)" : "");
	return 0;
}

/* Local seconds since the epoch at UTC instant t. */
static int local_s(const char *tz, int64_t t, int64_t *out, struct err *e)
{
	int32_t off;
	int rc = tz_offset(tz, t, &off, e);

	*out = t + off;
	return rc;
}

int reports_local_day_start_utc(const char *tz, const char *date, char out[TIME_ISO_LEN], struct err *e)
{
	int64_t midnight = date_to_days(date) * DAY_S, t, lt, before, lo, hi;
	char iso[TIME_ISO_LEN + 1];
	int32_t off;
	int rc;

	/* Fast path: midnight exists and the previous second is on the day before. */
	rc = tz_offset(tz, midnight, &off, e);
	if (rc)
		return rc;
	t = midnight - off;
	rc = tz_offset(tz, t, &off, e);
	if (rc)
		return rc;
	t = midnight - off;
	rc = local_s(tz, t, &lt, e);
	if (rc)
		return rc;
	rc = local_s(tz, t - 1, &before, e);
	if (rc)
		return rc;
	if (!(lt >= midnight && before < midnight)) {
		/* DST gap over midnight, or a fall-back into the day before: the
		 * first instant whose local time reaches midnight. Offsets lie
		 * within [-12 h, +14 h]. */
		lo = midnight - 16 * 3600;
		hi = midnight + 16 * 3600;
		while (hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2;
			rc = local_s(tz, mid, &lt, e);
			if (rc)
				return rc;
			if (lt >= midnight)
				hi = mid;
			else
				lo = mid;
		}
		t = hi;
	}
	time_iso(t, iso);
	memcpy(out, iso, TIME_ISO_LEN - 1);
	out[TIME_ISO_LEN - 1] = '\0';
	return 0;
}

char *reports_rate_text(int64_t rate_pct, char *buf, size_t len)
{
	char *dot;
	size_t n;

	money_format(rate_pct, PCT_SCALE, buf, len);
	dot = strchr(buf, '.');
	if (!dot)
		return buf;
	n = strlen(buf);
	while (n > (size_t)(dot - buf) + 3 && buf[n - 1] == '0')
		buf[--n] = '\0';
	return buf;
}

/* ---- CSV ---- */

void reports_csv_init(struct reports_csv *c)
{
	memset(c, 0, sizeof(*c));
}

void reports_csv_release(struct reports_csv *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

static void csv_put(struct reports_csv *c, const char *s, size_t n)
{
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (c->len + n + 1 > cap)
			cap *= 2;
		c->buf = xrealloc(c->buf, cap);
		c->cap = cap;
	}
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->buf[c->len] = '\0';
}

static void csv_sep(struct reports_csv *c)
{
	if (c->row_open)
		csv_put(c, ",", 1);
	c->row_open = true;
}

void reports_csv_text(struct reports_csv *c, const char *s)
{
	bool quote, guard;
	const char *p;

	csv_sep(c);
	if (!s || !*s)
		return;
	guard = strchr("=+-@\t\r", s[0]) != NULL;
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		csv_put(c, "\"", 1);
	if (guard)
		csv_put(c, "'", 1);
	for (p = s; *p; p++) {
		if (*p == '"')
			csv_put(c, "\"\"", 2);
		else
			csv_put(c, p, 1);
	}
	if (quote)
		csv_put(c, "\"", 1);
}

static bool is_decimal(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

void reports_csv_number(struct reports_csv *c, const char *s)
{
	if (!s || !is_decimal(s)) {
		reports_csv_text(c, s);
		return;
	}
	csv_sep(c);
	csv_put(c, s, strlen(s));
}

void reports_csv_int(struct reports_csv *c, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	reports_csv_number(c, buf);
}

void reports_csv_money(struct reports_csv *c, int64_t minor, int scale)
{
	char buf[MONEY_MAX_TEXT];

	reports_csv_number(c, money_format(minor, scale, buf, sizeof(buf)));
}

void reports_csv_end_row(struct reports_csv *c)
{
	csv_put(c, "\r\n", 2);
	c->row_open = false;
}

/* ---- the reports ---- */

int reports_query_init(struct db *db, const char *tenant_id, const char *from, const char *to, const char *group,
		       enum reports_group def_group, struct reports_query *q, struct err *e)
{
	struct db_conn *c = NULL;
	char today[DATE_LEN + 1], hms[9];
	int rc;

	memset(q, 0, sizeof(*q));
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = reports_repo_tenant(c, tenant_id, q->time_zone, q->tenant_currency, e);
	db_release(c);
	if (rc)
		return rc;
	rc = tz_local(q->time_zone, time_now_s(), today, hms, e);
	if (rc)
		return rc;
	return reports_range_resolve(from, to, group, def_group, today, &q->range, e);
}

/* The periods of q and their buckets over dates ([start, end + 1 day)),
 * plus the one bucket of the whole range. */
static void date_buckets(const struct reports_query *q, struct arena *a, struct reports_period **periods,
			 size_t *nperiods, struct reports_bucket **b, struct reports_bucket *all)
{
	char *hi;

	reports_periods(q->range.group, q->range.from, q->range.to, a, periods, nperiods);
	*b = arena_alloc(a, *nperiods * sizeof(**b));
	for (size_t i = 0; i < *nperiods; i++) {
		hi = arena_alloc(a, DATE_LEN + 1);
		date_add_days((*periods)[i].end, 1, hi);
		(*b)[i].lo = (*periods)[i].start;
		(*b)[i].hi = hi;
	}
	all->lo = q->range.from;
	all->hi = (*b)[*nperiods - 1].hi;
}

/* The same over UTC instants: each period from the first instant of its
 * first local day to the first instant of the day after its last. */
static int instant_buckets(const struct reports_query *q, struct arena *a, struct reports_period **periods,
			   size_t *nperiods, struct reports_bucket **b, struct reports_bucket *all, struct err *e)
{
	char day[DATE_LEN + 1], *bound;
	size_t n;
	int rc;

	reports_periods(q->range.group, q->range.from, q->range.to, a, periods, nperiods);
	n = *nperiods;
	*b = arena_alloc(a, n * sizeof(**b));
	for (size_t i = 0; i <= n; i++) {
		if (i < n)
			snprintf(day, sizeof(day), "%s", (*periods)[i].start);
		else
			date_add_days((*periods)[n - 1].end, 1, day);
		bound = arena_alloc(a, TIME_ISO_LEN);
		rc = reports_local_day_start_utc(q->time_zone, day, bound, e);
		if (rc)
			return rc;
		if (i < n)
			(*b)[i].lo = bound;
		if (i > 0)
			(*b)[i - 1].hi = bound;
	}
	all->lo = (*b)[0].lo;
	all->hi = (*b)[n - 1].hi;
	return 0;
}

static const char *zero_currency(const struct reports_query *q)
{
	return q->currency[0] ? q->currency : q->tenant_currency;
}

/* Rows are keyed by (bucket, currency), sorted. */
struct row_key {
	size_t bucket;
	char currency[4];
};

static int key_cmp(const void *pa, const void *pb)
{
	const struct row_key *x = pa, *y = pb;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return strcmp(x->currency, y->currency);
}

/* Index of (bucket, currency) in the sorted keys. */
static size_t key_find(const struct row_key *keys, size_t n, size_t bucket, const char *currency)
{
	struct row_key k = {.bucket = bucket};
	const struct row_key *hit;

	snprintf(k.currency, sizeof(k.currency), "%s", currency);
	hit = bsearch(&k, keys, n, sizeof(*keys), key_cmp);
	return hit ? (size_t)(hit - keys) : n;
}

/* -- revenue -- */

static int item_cmp(const void *pa, const void *pb)
{
	const struct reports_revenue_item *x = pa, *y = pb;
	int c;

	if (x->amt.total != y->amt.total)
		return x->amt.total > y->amt.total ? -1 : 1;
	c = strcmp(x->name ? x->name : "", y->name ? y->name : "");
	if (c)
		return c;
	return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

/* Rows from the document sums, line counts and (by != NONE) items from the
 * line sums, and the adjustments item that makes the items add up. */
static void revenue_rows(const struct reports_doc_sum *d, size_t nd, const struct reports_line_sum *l, size_t nl,
			 enum reports_dim by, struct arena *a, struct reports_revenue_row **out, size_t *n)
{
	struct reports_revenue_row *rows = arena_alloc(a, (nd ? nd : 1) * sizeof(*rows));
	struct row_key *keys = arena_alloc(a, (nd ? nd : 1) * sizeof(*keys));
	size_t *counts = arena_alloc(a, (nd ? nd : 1) * sizeof(*counts));
	size_t k;

	for (size_t i = 0; i < nd; i++) {
		keys[i].bucket = rows[i].period = d[i].bucket;
		memcpy(keys[i].currency, d[i].currency, 4);
		memcpy(rows[i].currency, d[i].currency, 4);
		rows[i].documents = d[i].documents;
		rows[i].amt.subtotal = d[i].subtotal;
		rows[i].amt.discount = d[i].discount;
		rows[i].amt.tax = d[i].tax;
		rows[i].amt.total = d[i].total;
	}
	for (size_t i = 0; i < nl; i++) {
		k = key_find(keys, nd, l[i].bucket, l[i].currency);
		if (k == nd)
			continue; /* a line without its document cannot be: same filters */
		rows[k].lines += l[i].lines;
		counts[k]++;
	}
	if (by == REPORTS_BY_NONE) {
		*out = rows;
		*n = nd;
		return;
	}
	for (size_t i = 0; i < nd; i++)
		rows[i].items = arena_alloc(a, (counts[i] + 1) * sizeof(*rows[i].items));
	for (size_t i = 0; i < nl; i++) {
		struct reports_revenue_item *it;

		k = key_find(keys, nd, l[i].bucket, l[i].currency);
		if (k == nd)
			continue;
		it = &rows[k].items[rows[k].nitems++];
		it->key = l[i].key;
		it->code = l[i].code;
		it->name = l[i].name;
		it->documents = l[i].documents;
		it->lines = l[i].lines;
		it->amt.subtotal = l[i].net + l[i].discount;
		it->amt.discount = l[i].discount;
		it->amt.tax = l[i].tax;
		it->amt.total = l[i].total;
	}
	for (size_t i = 0; i < nd; i++) {
		struct reports_amounts sum = {0, 0, 0, 0}, adj;
		struct reports_revenue_row *row = &rows[i];

		qsort(row->items, row->nitems, sizeof(*row->items), item_cmp);
		for (size_t j = 0; j < row->nitems; j++) {
			sum.subtotal += row->items[j].amt.subtotal;
			sum.discount += row->items[j].amt.discount;
			sum.tax += row->items[j].amt.tax;
			sum.total += row->items[j].amt.total;
		}
		adj.subtotal = row->amt.subtotal - sum.subtotal;
		adj.discount = row->amt.discount - sum.discount;
		adj.tax = row->amt.tax - sum.tax;
		adj.total = row->amt.total - sum.total;
		if (adj.subtotal || adj.discount || adj.tax || adj.total) {
			struct reports_revenue_item *it = &row->items[row->nitems++];
			memset(it, 0, sizeof(*it));
			it->name = "Document-level adjustments";
			it->adjustment = true;
			it->amt = adj;
		}
	}
	*out = rows;
	*n = nd;
}

int reports_revenue(struct db *db, const char *tenant_id, const struct reports_query *q, struct arena *a,
		    struct reports_revenue *out, struct err *e)
{
	struct reports_bucket *b, all;
	struct reports_doc_sum *dp = NULL, *dt = NULL;
	struct reports_line_sum *lp = NULL, *lt = NULL;
	size_t ndp = 0, ndt = 0, nlp = 0, nlt = 0;
	struct db_conn *c = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	date_buckets(q, a, &out->periods, &out->nperiods, &b, &all);
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = reports_repo_docs(c, tenant_id, q, b, out->nperiods, a, &dp, &ndp, e);
	if (!rc)
		rc = reports_repo_docs(c, tenant_id, q, &all, 1, a, &dt, &ndt, e);
	if (!rc)
		rc = reports_repo_lines(c, tenant_id, q, q->by, b, out->nperiods, a, &lp, &nlp, e);
	if (!rc)
		rc = reports_repo_lines(c, tenant_id, q, q->by, &all, 1, a, &lt, &nlt, e);
	db_release(c);
	if (rc)
		return rc;
	revenue_rows(dp, ndp, lp, nlp, q->by, a, &out->rows, &out->nrows);
	revenue_rows(dt, ndt, lt, nlt, q->by, a, &out->totals, &out->ntotals);
	if (out->ntotals == 0) {
		out->ntotals = 1;
		snprintf(out->totals[0].currency, sizeof(out->totals[0].currency), "%s", zero_currency(q));
		if (q->by != REPORTS_BY_NONE)
			out->totals[0].items = arena_alloc(a, sizeof(*out->totals[0].items));
	}
	return 0;
}

/* -- payments -- */

static void payments_rows(const struct reports_pay_sum *p, size_t np, const struct reports_pay_sum *r, size_t nr,
			  struct arena *a, struct reports_payments_row **out, size_t *n)
{
	struct row_key *keys = arena_alloc(a, (np + nr + 1) * sizeof(*keys));
	struct reports_payments_row *rows;
	size_t nk = 0, u = 0, k;

	for (size_t i = 0; i < np; i++) {
		keys[nk].bucket = p[i].bucket;
		memcpy(keys[nk++].currency, p[i].currency, 4);
	}
	for (size_t i = 0; i < nr; i++) {
		keys[nk].bucket = r[i].bucket;
		memcpy(keys[nk++].currency, r[i].currency, 4);
	}
	qsort(keys, nk, sizeof(*keys), key_cmp);
	for (size_t i = 0; i < nk; i++)
		if (u == 0 || key_cmp(&keys[u - 1], &keys[i]) != 0)
			keys[u++] = keys[i];
	rows = arena_alloc(a, (u ? u : 1) * sizeof(*rows));
	for (size_t i = 0; i < u; i++) {
		rows[i].period = keys[i].bucket;
		memcpy(rows[i].currency, keys[i].currency, 4);
	}
	for (size_t i = 0; i < np; i++)
		rows[key_find(keys, u, p[i].bucket, p[i].currency)].npayments++;
	for (size_t i = 0; i < nr; i++)
		rows[key_find(keys, u, r[i].bucket, r[i].currency)].nrefunds++;
	for (size_t i = 0; i < u; i++) {
		rows[i].payments = arena_alloc(a, (rows[i].npayments + 1) * sizeof(*rows[i].payments));
		rows[i].refunds = arena_alloc(a, (rows[i].nrefunds + 1) * sizeof(*rows[i].refunds));
		rows[i].npayments = rows[i].nrefunds = 0;
	}
	for (size_t i = 0; i < np; i++) {
		struct reports_payments_row *row = &rows[key_find(keys, u, p[i].bucket, p[i].currency)];
		struct reports_pay_cell *cell = &row->payments[row->npayments++];

		cell->method = p[i].method;
		cell->status = p[i].status;
		cell->count = p[i].count;
		cell->amount = p[i].amount;
		if (strcmp(p[i].status, "confirmed") == 0 || strcmp(p[i].status, "refunded") == 0) {
			row->collected_count += p[i].count;
			row->collected += p[i].amount;
		}
	}
	for (size_t i = 0; i < nr; i++) {
		struct reports_pay_cell *cell;

		k = key_find(keys, u, r[i].bucket, r[i].currency);
		cell = &rows[k].refunds[rows[k].nrefunds++];

		cell->method = r[i].method;
		cell->status = r[i].status;
		cell->count = r[i].count;
		cell->amount = r[i].amount;
		if (strcmp(r[i].status, "succeeded") == 0) {
			rows[k].refunded_count += r[i].count;
			rows[k].refunded += r[i].amount;
		}
	}
	*out = rows;
	*n = u;
}

int reports_payments(struct db *db, const char *tenant_id, const struct reports_query *q, struct arena *a,
		     struct reports_payments *out, struct err *e)
{
	struct reports_bucket *b, all;
	struct reports_pay_sum *pp = NULL, *pt = NULL, *rp = NULL, *rt = NULL;
	size_t npp = 0, npt = 0, nrp = 0, nrt = 0;
	struct db_conn *c = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = instant_buckets(q, a, &out->periods, &out->nperiods, &b, &all, e);
	if (rc)
		return rc;
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = reports_repo_payments(c, tenant_id, q, b, out->nperiods, a, &pp, &npp, e);
	if (!rc)
		rc = reports_repo_payments(c, tenant_id, q, &all, 1, a, &pt, &npt, e);
	if (!rc)
		rc = reports_repo_refunds(c, tenant_id, q, b, out->nperiods, a, &rp, &nrp, e);
	if (!rc)
		rc = reports_repo_refunds(c, tenant_id, q, &all, 1, a, &rt, &nrt, e);
	db_release(c);
	if (rc)
		return rc;
	payments_rows(pp, npp, rp, nrp, a, &out->rows, &out->nrows);
	payments_rows(pt, npt, rt, nrt, a, &out->totals, &out->ntotals);
	if (out->ntotals == 0) {
		out->ntotals = 1;
		snprintf(out->totals[0].currency, sizeof(out->totals[0].currency), "%s", zero_currency(q));
		out->totals[0].payments = arena_alloc(a, sizeof(*out->totals[0].payments));
		out->totals[0].refunds = arena_alloc(a, sizeof(*out->totals[0].refunds));
	}
	return 0;
}

/* -- taxes -- */

static void taxes_rows(const struct reports_doc_sum *d, size_t nd, const struct reports_rate_sum *s, size_t ns,
		       struct arena *a, struct reports_taxes_row **out, size_t *n)
{
	struct reports_taxes_row *rows = arena_alloc(a, (nd ? nd : 1) * sizeof(*rows));
	struct row_key *keys = arena_alloc(a, (nd ? nd : 1) * sizeof(*keys));
	size_t k;

	for (size_t i = 0; i < nd; i++) {
		keys[i].bucket = rows[i].period = d[i].bucket;
		memcpy(keys[i].currency, d[i].currency, 4);
		memcpy(rows[i].currency, d[i].currency, 4);
		rows[i].documents = d[i].documents;
		rows[i].doc_discount = d[i].doc_discount;
		rows[i].doc_tax = d[i].tax;
	}
	for (size_t i = 0; i < ns; i++) {
		k = key_find(keys, nd, s[i].bucket, s[i].currency);
		if (k < nd)
			rows[k].nrates++;
	}
	for (size_t i = 0; i < nd; i++) {
		rows[i].rates = arena_alloc(a, (rows[i].nrates + 1) * sizeof(*rows[i].rates));
		rows[i].nrates = 0;
	}
	for (size_t i = 0; i < ns; i++) {
		struct reports_tax_line *t;

		k = key_find(keys, nd, s[i].bucket, s[i].currency);
		if (k == nd)
			continue; /* lines without their document cannot be: same filters */
		t = &rows[k].rates[rows[k].nrates++];
		t->rate_pct = s[i].rate_pct;
		t->lines = s[i].lines;
		t->taxable = s[i].taxable;
		t->exempt = s[i].exempt;
		t->not_subject = s[i].not_subject;
		t->tax = s[i].tax;
		rows[k].sum.lines += t->lines;
		rows[k].sum.taxable += t->taxable;
		rows[k].sum.exempt += t->exempt;
		rows[k].sum.not_subject += t->not_subject;
		rows[k].sum.tax += t->tax;
	}
	*out = rows;
	*n = nd;
}

int reports_taxes(struct db *db, const char *tenant_id, const struct reports_query *q, struct arena *a,
		  struct reports_taxes *out, struct err *e)
{
	struct reports_bucket *b, all;
	struct reports_doc_sum *dp = NULL, *dt = NULL;
	struct reports_rate_sum *sp = NULL, *st = NULL;
	size_t ndp = 0, ndt = 0, nsp = 0, nst = 0;
	struct db_conn *c = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	date_buckets(q, a, &out->periods, &out->nperiods, &b, &all);
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = reports_repo_docs(c, tenant_id, q, b, out->nperiods, a, &dp, &ndp, e);
	if (!rc)
		rc = reports_repo_docs(c, tenant_id, q, &all, 1, a, &dt, &ndt, e);
	if (!rc)
		rc = reports_repo_rates(c, tenant_id, q, b, out->nperiods, a, &sp, &nsp, e);
	if (!rc)
		rc = reports_repo_rates(c, tenant_id, q, &all, 1, a, &st, &nst, e);
	db_release(c);
	if (rc)
		return rc;
	taxes_rows(dp, ndp, sp, nsp, a, &out->rows, &out->nrows);
	taxes_rows(dt, ndt, st, nst, a, &out->totals, &out->ntotals);
	if (out->ntotals == 0) {
		out->ntotals = 1;
		snprintf(out->totals[0].currency, sizeof(out->totals[0].currency), "%s", zero_currency(q));
		out->totals[0].rates = arena_alloc(a, sizeof(*out->totals[0].rates));
	}
	return 0;
}
