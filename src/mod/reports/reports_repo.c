/*
 * reports_repo.c - all SQL of the reports: grouped BIGINT sums over
 * billing_documents, billing_lines, payments and refunds (migration
 * 0008_billing) of one tenant, per bucket (see reports_repo.h). Every statement filters by the tenant; every value is a
 * bound parameter. Results are decoded into arena arrays and sorted in C
 * (byte order), so both databases give the same order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mod/reports/reports_repo.h"

/* A statement being built: text in an owned growing buffer (release with
 * stmt_release), parameters in an arena array. */
struct stmt {
	struct arena *a;
	char *sql;
	size_t len, cap;
	struct db_param *p;
	size_t n, cap_params;
};

static void stmt_init(struct stmt *s, struct arena *a, size_t nb)
{
	s->a = a;
	s->cap = 1024 + nb * 96;
	s->sql = xmalloc(s->cap);
	s->sql[0] = '\0';
	s->len = 0;
	s->cap_params = nb + 16;
	s->p = arena_alloc(a, s->cap_params * sizeof(*s->p));
	s->n = 0;
}

static void stmt_release(struct stmt *s)
{
	free(s->sql);
	s->sql = NULL;
}

static void stmt_sql(struct stmt *s, const char *text)
{
	size_t n = strlen(text);

	if (s->len + n + 1 > s->cap) {
		while (s->len + n + 1 > s->cap)
			s->cap *= 2;
		s->sql = xrealloc(s->sql, s->cap);
	}
	memcpy(s->sql + s->len, text, n + 1);
	s->len += n;
}

static void stmt_text(struct stmt *s, const char *v)
{
	s->p[s->n++] = DBP_TEXT(v);
}

/* The bucket index of value expression v as nested CASEs over buckets
 * lo..hi (a binary search: about log2(n) comparisons per row, one pass over
 * the rows). The rows' range [b[0].lo, b[nb - 1].hi) is the WHERE's. Bucket
 * numbers are our own integers, written as literals; bounds are parameters,
 * added in the order their '?' appear. */
static void bucket_case(struct stmt *s, const char *v, const struct reports_bucket *b, size_t lo, size_t hi)
{
	size_t mid;

	char num[32];

	if (lo == hi) {
		snprintf(num, sizeof(num), "%zu", lo);
		stmt_sql(s, num);
		return;
	}
	mid = lo + (hi - lo + 1) / 2;
	stmt_sql(s, "CASE WHEN ");
	stmt_sql(s, v);
	stmt_sql(s, " < ? THEN ");
	stmt_text(s, b[mid].lo);
	bucket_case(s, v, b, lo, mid - 1);
	stmt_sql(s, " ELSE ");
	bucket_case(s, v, b, mid, hi);
	stmt_sql(s, " END");
}

/* "SELECT <bucket of v>, " */
static void stmt_select_bucket(struct stmt *s, const char *v, const struct reports_bucket *b, size_t nb)
{
	stmt_sql(s, "SELECT ");
	bucket_case(s, v, b, 0, nb - 1);
	stmt_sql(s, ", ");
}

/* The revenue documents of the tenant in the buckets' range (joined as d). */
static void stmt_doc_filter(struct stmt *s, const char *tenant_id, const struct reports_query *q,
			    const struct reports_bucket *b, size_t nb)
{
	stmt_sql(
	    s, " WHERE d.tenant_id = ? AND d.status NOT IN ('draft', 'cancelled') AND d.source IN " REPORTS_SALE_SOURCES
	       " AND d.invoice_date >= ? AND d.invoice_date < ?");
	stmt_text(s, tenant_id);
	stmt_text(s, b[0].lo);
	stmt_text(s, b[nb - 1].hi);
	if (q->currency[0]) {
		stmt_sql(s, " AND d.currency = ?");
		stmt_text(s, q->currency);
	}
	if (q->facility_id) {
		stmt_sql(s, " AND d.facility_id = ?");
		stmt_text(s, q->facility_id);
	}
}

#define FROM_DOCS     " FROM billing_documents d"
#define LINES_OF_DOCS " JOIN billing_lines l ON l.tenant_id = d.tenant_id AND l.document_id = d.id"

static void copy_currency(char dst[4], const char *src)
{
	snprintf(dst, 4, "%s", src ? src : "");
}

static int cmp_bucket_currency(size_t b1, const char *c1, size_t b2, const char *c2)
{
	if (b1 != b2)
		return b1 < b2 ? -1 : 1;
	return strcmp(c1, c2);
}

static int cmp_str(const char *x, const char *y)
{
	if (!x || !y)
		return x ? 1 : y ? -1 : 0;
	return strcmp(x, y);
}

int reports_repo_tenant(struct db_conn *c, const char *tenant_id, char tz[64], char currency[4], struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id)};
	struct db_rows *r = NULL;
	int rc;

	rc = db_query(c, "SELECT time_zone, currency FROM tenants WHERE id = ?", p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "tenant not found");
	} else {
		snprintf(tz, 64, "%s", db_rows_text(r, 0, 0) ? db_rows_text(r, 0, 0) : "UTC");
		copy_currency(currency, db_rows_text(r, 0, 1));
	}
	db_rows_free(r);
	return rc;
}

/* -- documents -- */

static int doc_cmp(const void *pa, const void *pb)
{
	const struct reports_doc_sum *x = pa, *y = pb;
	return cmp_bucket_currency(x->bucket, x->currency, y->bucket, y->currency);
}

int reports_repo_docs(struct db_conn *c, const char *tenant_id, const struct reports_query *q,
		      const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_doc_sum **out,
		      size_t *n, struct err *e)
{
	struct db_rows *r = NULL;
	struct reports_doc_sum *d;
	struct stmt s;
	size_t rows;
	int rc;

	stmt_init(&s, a, nb);
	stmt_select_bucket(&s, "d.invoice_date", b, nb);
	stmt_sql(&s, "d.currency, COUNT(*), CAST(SUM(d.subtotal_minor) AS BIGINT), "
		     "CAST(SUM(d.discount_minor) AS BIGINT), CAST(SUM(d.tax_minor) AS BIGINT), "
		     "CAST(SUM(d.total_minor) AS BIGINT), CAST(SUM(d.doc_discount_minor) AS BIGINT)" FROM_DOCS);
	stmt_doc_filter(&s, tenant_id, q, b, nb);
	stmt_sql(&s, " GROUP BY 1, d.currency");
	rc = db_query(c, s.sql, s.p, s.n, &r, e);
	stmt_release(&s);
	if (rc)
		return rc;
	rows = db_rows_count(r);
	d = arena_alloc(a, (rows ? rows : 1) * sizeof(*d));
	for (size_t i = 0; i < rows; i++) {
		d[i].bucket = (size_t)db_rows_int(r, i, 0);
		copy_currency(d[i].currency, db_rows_text(r, i, 1));
		d[i].documents = db_rows_int(r, i, 2);
		d[i].subtotal = db_rows_int(r, i, 3);
		d[i].discount = db_rows_int(r, i, 4);
		d[i].tax = db_rows_int(r, i, 5);
		d[i].total = db_rows_int(r, i, 6);
		d[i].doc_discount = db_rows_int(r, i, 7);
	}
	db_rows_free(r);
	qsort(d, rows, sizeof(*d), doc_cmp);
	*out = d;
	*n = rows;
	return 0;
}

/* -- lines -- */

static int line_cmp(const void *pa, const void *pb)
{
	const struct reports_line_sum *x = pa, *y = pb;
	int c = cmp_bucket_currency(x->bucket, x->currency, y->bucket, y->currency);

	if (c)
		return c;
	c = cmp_str(x->key, y->key);
	return c ? c : cmp_str(x->code, y->code);
}

/* The dimension's key columns (key, code, name) and its GROUP BY terms.
 * Service: a catalog line groups by service (the catalog entry's current
 * code and name); a free line by its item code (name: the least of its item
 * names).
 * Category: the catalog entry's category, or the free line's item type.
 * Provider: the line's service provider (name: the tenant's user of that id). */
static const struct {
	const char *select, *join, *group;
} dim_sql[] = {
    [REPORTS_BY_NONE] = {"", "", ""},
    [REPORTS_BY_SERVICE] = {", l.service_id, MIN(COALESCE(s.code, l.item_code)), MIN(COALESCE(s.name, l.item_name))",
			    " LEFT JOIN services s ON s.tenant_id = l.tenant_id AND s.id = l.service_id",
			    ", l.service_id, CASE WHEN l.service_id IS NULL THEN COALESCE(l.item_code, '') END"},
    [REPORTS_BY_CATEGORY] = {", COALESCE(s.category, NULLIF(l.item_type, '')), CAST(NULL AS TEXT), "
			     "MIN(COALESCE(s.category, NULLIF(l.item_type, '')))",
			     " LEFT JOIN services s ON s.tenant_id = l.tenant_id AND s.id = l.service_id",
			     ", COALESCE(s.category, NULLIF(l.item_type, ''))"},
    [REPORTS_BY_PROVIDER] = {", l.service_provider_id, CAST(NULL AS TEXT), MIN(u.full_name)",
			     " LEFT JOIN users u ON u.tenant_id = l.tenant_id AND u.id = l.service_provider_id",
			     ", l.service_provider_id"},
};

int reports_repo_lines(struct db_conn *c, const char *tenant_id, const struct reports_query *q, enum reports_dim dim,
		       const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_line_sum **out,
		       size_t *n, struct err *e)
{
	struct db_rows *r = NULL;
	struct reports_line_sum *l;
	struct stmt s;
	size_t rows;
	int rc;

	stmt_init(&s, a, nb);
	stmt_select_bucket(&s, "d.invoice_date", b, nb);
	stmt_sql(&s, "d.currency, COUNT(*), COUNT(DISTINCT d.id), CAST(SUM(l.net_minor) AS BIGINT), "
		     "CAST(SUM(l.discount_minor) AS BIGINT), CAST(SUM(l.tax_minor) AS BIGINT), "
		     "CAST(SUM(l.total_minor) AS BIGINT)");
	stmt_sql(&s, dim_sql[dim].select);
	stmt_sql(&s, FROM_DOCS LINES_OF_DOCS);
	stmt_sql(&s, dim_sql[dim].join);
	stmt_doc_filter(&s, tenant_id, q, b, nb);
	stmt_sql(&s, " GROUP BY 1, d.currency");
	stmt_sql(&s, dim_sql[dim].group);
	rc = db_query(c, s.sql, s.p, s.n, &r, e);
	stmt_release(&s);
	if (rc)
		return rc;
	rows = db_rows_count(r);
	l = arena_alloc(a, (rows ? rows : 1) * sizeof(*l));
	for (size_t i = 0; i < rows; i++) {
		const char *key = NULL, *code = NULL, *name = NULL;

		l[i].bucket = (size_t)db_rows_int(r, i, 0);
		copy_currency(l[i].currency, db_rows_text(r, i, 1));
		l[i].lines = db_rows_int(r, i, 2);
		l[i].documents = db_rows_int(r, i, 3);
		l[i].net = db_rows_int(r, i, 4);
		l[i].discount = db_rows_int(r, i, 5);
		l[i].tax = db_rows_int(r, i, 6);
		l[i].total = db_rows_int(r, i, 7);
		if (dim == REPORTS_BY_NONE)
			continue;
		key = db_rows_text(r, i, 8);
		code = db_rows_text(r, i, 9);
		name = db_rows_text(r, i, 10);
		switch (dim) {
		case REPORTS_BY_SERVICE:
			if (!key && (!code || !*code))
				name = "Free lines without an item code";
			break;
		case REPORTS_BY_CATEGORY:
			if (!name)
				name = "Uncategorized";
			break;
		case REPORTS_BY_PROVIDER:
			if (!key)
				name = "Unassigned";
			else if (!name || !*name)
				name = key;
			break;
		case REPORTS_BY_NONE: break;
		}
		l[i].key = arena_strdup(a, key);
		l[i].code = code && *code ? arena_strdup(a, code) : NULL;
		l[i].name = arena_strdup(a, name ? name : "");
	}
	db_rows_free(r);
	qsort(l, rows, sizeof(*l), line_cmp);
	*out = l;
	*n = rows;
	return 0;
}

/* -- tax rates -- */

static int rate_cmp(const void *pa, const void *pb)
{
	const struct reports_rate_sum *x = pa, *y = pb;
	int c = cmp_bucket_currency(x->bucket, x->currency, y->bucket, y->currency);

	if (c)
		return c;
	return x->rate_pct < y->rate_pct ? -1 : x->rate_pct > y->rate_pct;
}

#define RATE_EXPR "CASE WHEN l.tax_treatment = 'taxable' THEN l.tax_pct ELSE 0 END"
#define NET_IF(t) "CAST(SUM(CASE WHEN l.tax_treatment = '" t "' THEN l.net_minor ELSE 0 END) AS BIGINT)"

int reports_repo_rates(struct db_conn *c, const char *tenant_id, const struct reports_query *q,
		       const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_rate_sum **out,
		       size_t *n, struct err *e)
{
	struct db_rows *r = NULL;
	struct reports_rate_sum *t;
	struct stmt s;
	size_t rows;
	int rc;

	stmt_init(&s, a, nb);
	stmt_select_bucket(&s, "d.invoice_date", b, nb);
	stmt_sql(&s, "d.currency, " RATE_EXPR ", COUNT(*), " NET_IF("taxable") ", " NET_IF("exempt") ", " NET_IF(
			 "not_subject") ", CAST(SUM(l.tax_minor) AS BIGINT)" FROM_DOCS LINES_OF_DOCS);
	stmt_doc_filter(&s, tenant_id, q, b, nb);
	stmt_sql(&s, " GROUP BY 1, d.currency, " RATE_EXPR);
	rc = db_query(c, s.sql, s.p, s.n, &r, e);
	stmt_release(&s);
	if (rc)
		return rc;
	rows = db_rows_count(r);
	t = arena_alloc(a, (rows ? rows : 1) * sizeof(*t));
	for (size_t i = 0; i < rows; i++) {
		t[i].bucket = (size_t)db_rows_int(r, i, 0);
		copy_currency(t[i].currency, db_rows_text(r, i, 1));
		t[i].rate_pct = db_rows_int(r, i, 2);
		t[i].lines = db_rows_int(r, i, 3);
		t[i].taxable = db_rows_int(r, i, 4);
		t[i].exempt = db_rows_int(r, i, 5);
		t[i].not_subject = db_rows_int(r, i, 6);
		t[i].tax = db_rows_int(r, i, 7);
	}
	db_rows_free(r);
	qsort(t, rows, sizeof(*t), rate_cmp);
	*out = t;
	*n = rows;
	return 0;
}

/* -- payments and refunds -- */

static int pay_cmp(const void *pa, const void *pb)
{
	const struct reports_pay_sum *x = pa, *y = pb;
	int c = cmp_bucket_currency(x->bucket, x->currency, y->bucket, y->currency);

	if (c)
		return c;
	c = strcmp(x->method, y->method);
	return c ? c : strcmp(x->status, y->status);
}

static int pay_query(struct db_conn *c, struct stmt *s, struct arena *a, struct reports_pay_sum **out, size_t *n,
		     struct err *e)
{
	struct db_rows *r = NULL;
	struct reports_pay_sum *p;
	size_t rows;
	int rc;

	rc = db_query(c, s->sql, s->p, s->n, &r, e);
	stmt_release(s);
	if (rc)
		return rc;
	rows = db_rows_count(r);
	p = arena_alloc(a, (rows ? rows : 1) * sizeof(*p));
	for (size_t i = 0; i < rows; i++) {
		p[i].bucket = (size_t)db_rows_int(r, i, 0);
		copy_currency(p[i].currency, db_rows_text(r, i, 1));
		p[i].method = arena_strdup(a, db_rows_text(r, i, 2) ? db_rows_text(r, i, 2) : "");
		p[i].status = arena_strdup(a, db_rows_text(r, i, 3) ? db_rows_text(r, i, 3) : "");
		p[i].count = db_rows_int(r, i, 4);
		p[i].amount = db_rows_int(r, i, 5);
	}
	db_rows_free(r);
	qsort(p, rows, sizeof(*p), pay_cmp);
	*out = p;
	*n = rows;
	return 0;
}

/* Currency and facility filters of a payment (p) and its document (d). */
static void stmt_pay_filter(struct stmt *s, const struct reports_query *q)
{
	if (q->currency[0]) {
		stmt_sql(s, " AND p.currency = ?");
		stmt_text(s, q->currency);
	}
	if (q->facility_id) {
		stmt_sql(s, " AND d.facility_id = ?");
		stmt_text(s, q->facility_id);
	}
}

#define PAID_AT	       "COALESCE(p.confirmed_at, p.created_at)"
#define DOC_OF_PAYMENT " JOIN billing_documents d ON d.tenant_id = p.tenant_id AND d.id = p.document_id"

int reports_repo_payments(struct db_conn *c, const char *tenant_id, const struct reports_query *q,
			  const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_pay_sum **out,
			  size_t *n, struct err *e)
{
	struct stmt s;

	stmt_init(&s, a, nb);
	stmt_select_bucket(&s, PAID_AT, b, nb);
	stmt_sql(&s, "p.currency, p.method, p.status, COUNT(*), CAST(SUM(p.amount_minor) AS BIGINT) FROM payments p");
	if (q->facility_id)
		stmt_sql(&s, DOC_OF_PAYMENT);
	stmt_sql(&s, " WHERE p.tenant_id = ? AND " PAID_AT " >= ? AND " PAID_AT " < ?");
	stmt_text(&s, tenant_id);
	stmt_text(&s, b[0].lo);
	stmt_text(&s, b[nb - 1].hi);
	stmt_pay_filter(&s, q);
	stmt_sql(&s, " GROUP BY 1, p.currency, p.method, p.status");
	return pay_query(c, &s, a, out, n, e);
}

int reports_repo_refunds(struct db_conn *c, const char *tenant_id, const struct reports_query *q,
			 const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_pay_sum **out,
			 size_t *n, struct err *e)
{
	struct stmt s;

	stmt_init(&s, a, nb);
	stmt_select_bucket(&s, "r.created_at", b, nb);
	stmt_sql(&s, "p.currency, p.method, r.status, COUNT(*), CAST(SUM(r.amount_minor) AS BIGINT) "
		     "FROM refunds r JOIN payments p ON p.tenant_id = r.tenant_id AND p.id = r.payment_id");
	if (q->facility_id)
		stmt_sql(&s, DOC_OF_PAYMENT);
	stmt_sql(&s, " WHERE r.tenant_id = ? AND r.created_at >= ? AND r.created_at < ?");
	stmt_text(&s, tenant_id);
	stmt_text(&s, b[0].lo);
	stmt_text(&s, b[nb - 1].hi);
	stmt_pay_filter(&s, q);
	stmt_sql(&s, " GROUP BY 1, p.currency, p.method, r.status");
	return pay_query(c, &s, a, out, n, e);
}
