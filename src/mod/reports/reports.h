/*
 * reports.h - financial reports of the clinic contract (§7): revenue,
 * payments and taxes over a date range, grouped by day, ISO week or month,
 * per currency, computed from the billing documents, their lines, payments
 * and refunds (migration 0008_billing). docs/reports.md describes the
 * output; this header the rules.
 *
 * Bases (written in docs/reports.md):
 *   revenue  accrual: documents issued (status not draft / cancelled), dated
 *            by their invoice date, a calendar date of the tenant's zone.
 *   payments cash: a payment is dated when it was confirmed (created when it
 *            never was), a refund when it was created; both are UTC instants
 *            bucketed by the local date in the tenant's time zone.
 *   taxes    the revenue documents' lines by tax treatment and rate: taxable,
 *            exempt and not-subject bases and tax (El Salvador IVA: ventas
 *            gravadas / exentas / no sujetas and débito fiscal).
 * Money never crosses currencies: every figure belongs to one currency and
 * is an exact int64 sum of minor units (BIGINT SUM in SQL).
 *
 * Periods: day ("2025-10-14"), ISO week starting Monday ("2025-W42"), month
 * ("2025-10"). A period's start / end are clamped to the report's range.
 *
 * Memory: functions taking a struct arena return their results in it.
 */
#ifndef CL_REPORTS_REPORTS_H
#define CL_REPORTS_REPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"

#define REPORTS_DEFAULT_DAYS  30   /* default range: the 30 days ending today (tenant's zone) */
#define REPORTS_DAY_RANGE_MAX 366  /* days in a range grouped by day */
#define REPORTS_RANGE_MAX     3660 /* days in a range grouped by week or month (about 10 years) */
#define REPORTS_LABEL_LEN     10   /* "2025-10-14", "2025-W42", "2025-10" */

/* The document sources that are sales (billing_documents.source). A new
 * kind of sale document must be added here to be reported. */
#define REPORTS_SALE_SOURCES "('invoice', 'order', 'factura')"

enum reports_group { REPORTS_GROUP_DAY, REPORTS_GROUP_WEEK, REPORTS_GROUP_MONTH };

/* The optional second dimension of the revenue report. */
enum reports_dim { REPORTS_BY_NONE, REPORTS_BY_SERVICE, REPORTS_BY_CATEGORY, REPORTS_BY_PROVIDER };

/* ---- rules (no database) ---- */

/* "day" | "week" | "month" -> enum; -1 when unknown. */
int reports_group_parse(const char *s);
const char *reports_group_name(enum reports_group g); /* static */
/* "service" | "category" | "provider" -> enum; -1 when unknown. */
int reports_dim_parse(const char *s);
const char *reports_dim_name(enum reports_dim d); /* static; "" for REPORTS_BY_NONE */

struct reports_period {
	char label[REPORTS_LABEL_LEN + 1];
	char start[DATE_LEN + 1]; /* first day, inclusive */
	char end[DATE_LEN + 1];	  /* last day, inclusive */
};

/* The whole period of group g that contains `date` (a valid date). */
void reports_period_of(enum reports_group g, const char *date, struct reports_period *out);

/* The periods of g covering [from, to] (valid dates, from <= to), in order,
 * the first and last clamped to the range. *out is an arena array of *n. */
void reports_periods(enum reports_group g, const char *from, const char *to, struct arena *a,
		     struct reports_period **out, size_t *n);

/* A report's date range and grouping. */
struct reports_range {
	char from[DATE_LEN + 1];
	char to[DATE_LEN + 1];
	enum reports_group group;
};

/* Resolve the query text of a report (each may be NULL = absent):
 *   groupBy  default def_group; unknown -> ERR_INVALID "groupBy"
 *   to       a date; default `today` (the tenant's local date)
 *   from     a date; default 29 days before `to` (30 days in all)
 * from > to -> ERR_INVALID "from"; a range longer than REPORTS_DAY_RANGE_MAX
 * days grouped by day, or REPORTS_RANGE_MAX otherwise -> ERR_INVALID "to". */
int reports_range_resolve(const char *from, const char *to, const char *group, enum reports_group def_group,
			  const char *today, struct reports_range *out, struct err *e);

/* The first UTC instant whose local date in zone tz is `date` or later
 * (local midnight, or the end of a DST gap that skips midnight), as
 * "YYYY-MM-DDTHH:MM:SS" without zone suffix: compared as text with stored
 * "...SSZ" / "...SS.mmmZ" timestamps it orders them correctly. out[20]. */
int reports_local_day_start_utc(const char *tz, const char *date, char out[TIME_ISO_LEN], struct err *e);

/* A tax rate at PCT_SCALE as the API shows it: at least two decimals,
 * trailing zeros beyond them dropped (130000 -> "13.00", 125000 -> "12.50",
 * 71250 -> "7.125"). buf >= 32 bytes; returns buf. */
char *reports_rate_text(int64_t rate_pct, char *buf, size_t len);

/* ---- CSV (RFC 4180) ---- */

/* A growing CSV text: cells separated by ',', rows ended by CRLF, a cell
 * quoted when it holds ',', '"', CR or LF (quotes doubled). Text cells that
 * a spreadsheet would read as a formula (first character = + - @ TAB or CR)
 * get a leading apostrophe; number cells are written as they are. */
struct reports_csv {
	char *buf; /* owned: release with reports_csv_release */
	size_t len, cap;
	bool row_open; /* a cell was written in the current row */
};

void reports_csv_init(struct reports_csv *c);
void reports_csv_release(struct reports_csv *c);
/* A text cell (NULL = empty). */
void reports_csv_text(struct reports_csv *c, const char *s);
/* A number cell: s must be a decimal ("-12.50", "3"); anything else is
 * written as a text cell. */
void reports_csv_number(struct reports_csv *c, const char *s);
void reports_csv_int(struct reports_csv *c, int64_t v);
/* An amount in minor units with `scale` decimals ("1234.50"). */
void reports_csv_money(struct reports_csv *c, int64_t minor, int scale);
/* End the current row (CRLF). */
void reports_csv_end_row(struct reports_csv *c);

/* ---- the reports ---- */

/* What every report takes: built by reports_query_init, then by, currency
 * and facility_id set by the caller. */
struct reports_query {
	struct reports_range range;
	enum reports_dim by;	 /* revenue only */
	char currency[4];	 /* ISO 4217, "" = every currency */
	const char *facility_id; /* borrowed; NULL = every facility */
	char time_zone[64];	 /* the tenant's */
	char tenant_currency[4]; /* the tenant's: the currency of all-zero totals */
};

/* Read the tenant's time zone and currency, take today's date in that zone
 * and resolve the range from the query text (reports_range_resolve). The
 * other members start empty. Unknown tenant -> ERR_NOT_FOUND. */
int reports_query_init(struct db *db, const char *tenant_id, const char *from, const char *to, const char *group,
		       enum reports_group def_group, struct reports_query *q, struct err *e);

/* Document amounts, minor units. net = subtotal - discount; late fees (and
 * any other document charge) = total - net - tax. */
struct reports_amounts {
	int64_t subtotal, discount, tax, total;
};

/* One value of the revenue report's second dimension, or (adjustment) the
 * document-level amounts that belong to no line (document discounts, tax
 * overrides, late fees), so that a row's items add up to its documents. */
struct reports_revenue_item {
	const char *key;  /* service id, category, provider id; arena; NULL = none (free line, no provider) */
	const char *code; /* by service: service or item code; arena; may be NULL */
	const char *name; /* label; arena */
	bool adjustment;  /* the document-level adjustments item */
	int64_t documents, lines;
	struct reports_amounts amt;
};

struct reports_revenue_row {
	size_t period; /* index into periods (rows); unused in totals */
	char currency[4];
	int64_t documents, lines;
	struct reports_amounts amt;
	struct reports_revenue_item *items; /* by != NONE; arena */
	size_t nitems;
};

struct reports_revenue {
	struct reports_period *periods;
	size_t nperiods;
	struct reports_revenue_row *rows; /* periods with data, by period then currency */
	size_t nrows;
	struct reports_revenue_row *totals; /* one per currency (at least one, zeros when no data) */
	size_t ntotals;
};

/* A payment or refund cell: (method, status) -> count, amount. */
struct reports_pay_cell {
	const char *method, *status; /* arena */
	int64_t count, amount;
};

struct reports_payments_row {
	size_t period;
	char currency[4];
	struct reports_pay_cell *payments; /* every payment status, by method then status */
	size_t npayments;
	struct reports_pay_cell *refunds; /* every refund status, by the payment's method */
	size_t nrefunds;
	int64_t collected_count, collected; /* payments confirmed (status confirmed or refunded) */
	int64_t refunded_count, refunded;   /* refunds succeeded */
					    /* net collected = collected - refunded */
};

struct reports_payments {
	struct reports_period *periods;
	size_t nperiods;
	struct reports_payments_row *rows;
	size_t nrows;
	struct reports_payments_row *totals;
	size_t ntotals;
};

/* Lines of one tax rate (or their sum). Taxable lines carry their rate;
 * exempt and not-subject lines are reported at rate 0. */
struct reports_tax_line {
	int64_t rate_pct; /* PCT_SCALE: 130000 = 13 % */
	int64_t lines;
	int64_t taxable, exempt, not_subject; /* line net amounts (after line discounts) */
	int64_t tax;			      /* line taxes */
};

struct reports_taxes_row {
	size_t period;
	char currency[4];
	int64_t documents;
	struct reports_tax_line *rates; /* by rate ascending */
	size_t nrates;
	struct reports_tax_line sum; /* of the rates (rate_pct 0) */
	int64_t doc_discount;	     /* document-level discounts (not in any line) */
	int64_t doc_tax;	     /* documents' tax = sum.tax + override adjustments */
				     /* net sales = taxable + exempt + not_subject - doc_discount */
};

struct reports_taxes {
	struct reports_period *periods;
	size_t nperiods;
	struct reports_taxes_row *rows;
	size_t nrows;
	struct reports_taxes_row *totals;
	size_t ntotals;
};

/* Each runs on one read connection of db for tenant_id and returns the
 * report in arena a. */
int reports_revenue(struct db *db, const char *tenant_id, const struct reports_query *q, struct arena *a,
		    struct reports_revenue *out, struct err *e);
int reports_payments(struct db *db, const char *tenant_id, const struct reports_query *q, struct arena *a,
		     struct reports_payments *out, struct err *e);
int reports_taxes(struct db *db, const char *tenant_id, const struct reports_query *q, struct arena *a,
		  struct reports_taxes *out, struct err *e);

#endif
