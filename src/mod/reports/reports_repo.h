/*
 * reports_repo.h - the SQL side of the reports (module-internal): grouped
 * sums over billing_documents, billing_lines, payments and refunds of one
 * tenant, per bucket and currency.
 *
 * A bucket is a half-open text interval [lo, hi) of the column a report
 * dates by: dates "YYYY-MM-DD" for documents (invoice_date), UTC instants
 * "YYYY-MM-DDTHH:MM:SS" for payments and refunds. The buckets of a query are
 * contiguous and ordered (b[i].hi == b[i + 1].lo): the periods are cut in C,
 * in the tenant's zone, and the database puts each row in its bucket with a
 * nested CASE over the bounds (a binary search: one pass over the rows,
 * about log2(n) comparisons each) and sums per bucket. Each result row names
 * its bucket by index. Sums are CAST(SUM(x) AS BIGINT): exact, and an
 * overflow is an error rather than a wrong number.
 *
 * All results are arena arrays ordered by bucket, currency, then the
 * row's own keys.
 */
#ifndef CL_REPORTS_REPORTS_REPO_H
#define CL_REPORTS_REPORTS_REPO_H

#include "mod/reports/reports.h"

struct reports_bucket {
	const char *lo, *hi; /* borrowed */
};

/* Sums over the revenue documents (issued, sales). */
struct reports_doc_sum {
	size_t bucket;
	char currency[4];
	int64_t documents;
	int64_t subtotal, discount, tax, total, doc_discount;
};

/* Sums over their lines, per dimension value when dim != NONE. */
struct reports_line_sum {
	size_t bucket;
	char currency[4];
	const char *key, *code, *name; /* dim != NONE; arena; key NULL = no value */
	int64_t lines, documents;
	int64_t net, discount, tax, total;
};

/* Line sums per tax rate (rate 0 for exempt and not-subject lines). */
struct reports_rate_sum {
	size_t bucket;
	char currency[4];
	int64_t rate_pct, lines, taxable, exempt, not_subject, tax;
};

/* Payments or refunds per (method, status). */
struct reports_pay_sum {
	size_t bucket;
	char currency[4];
	const char *method, *status; /* arena */
	int64_t count, amount;
};

int reports_repo_tenant(struct db_conn *c, const char *tenant_id, char tz[64], char currency[4], struct err *e);

int reports_repo_docs(struct db_conn *c, const char *tenant_id, const struct reports_query *q,
		      const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_doc_sum **out,
		      size_t *n, struct err *e);
int reports_repo_lines(struct db_conn *c, const char *tenant_id, const struct reports_query *q, enum reports_dim dim,
		       const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_line_sum **out,
		       size_t *n, struct err *e);
int reports_repo_rates(struct db_conn *c, const char *tenant_id, const struct reports_query *q,
		       const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_rate_sum **out,
		       size_t *n, struct err *e);
/* Payments dated by COALESCE(confirmed_at, created_at). */
int reports_repo_payments(struct db_conn *c, const char *tenant_id, const struct reports_query *q,
			  const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_pay_sum **out,
			  size_t *n, struct err *e);
/* Refunds dated by created_at, with their payment's method and currency. */
int reports_repo_refunds(struct db_conn *c, const char *tenant_id, const struct reports_query *q,
			 const struct reports_bucket *b, size_t nb, struct arena *a, struct reports_pay_sum **out,
			 size_t *n, struct err *e);

#endif
