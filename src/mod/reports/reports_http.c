/*
 * reports_http.c - GET /api/reports/{revenue,payments,taxes} (clinic
 * contract §7): query string into a reports_query, the report into JSON
 * (the {success, data} envelope, amounts as decimal strings in each row's
 * currency) or, with ?format=csv, into an RFC 4180 attachment
 * (text/csv; charset=utf-8) whose columns docs/reports.md lists.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/ids.h"
#include "core/money.h"
#include "http/handlers.h"
#include "mod/reports/reports.h"

/* Decimals of a row's currency (2 when unknown, which stored rows never are). */
static int minor_units(const char *currency)
{
	const struct currency *cur = currency_find(currency);
	return cur ? cur->minor_units : 2;
}

/* format, groupBy, from, to, currency and facilityId: the parameters every
 * report takes. */
static int parse_query(struct req_ctx *ctx, enum reports_group def_group, struct reports_query *q, bool *csv,
		       struct err *e)
{
	const char *format = http_query(ctx->req, "format");
	const char *currency = http_query(ctx->req, "currency");
	const char *facility = http_query(ctx->req, "facilityId");
	char code[4];
	int rc;

	*csv = false;
	if (format) {
		if (strcmp(format, "csv") == 0)
			*csv = true;
		else if (strcmp(format, "json") != 0)
			return err_set(e, ERR_INVALID, "format", "format must be json or csv");
	}
	rc = reports_query_init(ctx->app->db, ctx->who.tenant_id, http_query(ctx->req, "from"),
				http_query(ctx->req, "to"), http_query(ctx->req, "groupBy"), def_group, q, e);
	if (rc)
		return rc;
	if (currency) {
		if (strlen(currency) != 3)
			return err_set(e, ERR_INVALID, "currency", "currency must be an ISO 4217 code");
		for (size_t i = 0; i < 4; i++)
			code[i] = (char)toupper((unsigned char)currency[i]);
		if (!currency_find(code))
			return err_set(e, ERR_INVALID, "currency", "currency must be an ISO 4217 code");
		memcpy(q->currency, code, sizeof(q->currency));
	}
	if (facility) {
		if (!uuid_valid(facility))
			return err_set(e, ERR_INVALID, "facilityId", "facilityId must be a UUID");
		q->facility_id = facility;
	}
	return 0;
}

/* The members every report's data starts with. Owned. */
static json_t *report_head(const char *name, const struct reports_query *q)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "report", name, "from", q->range.from, "to",
			 q->range.to, "groupBy", reports_group_name(q->range.group), "timeZone", q->time_zone,
			 "currency", q->currency[0] ? json_string(q->currency) : json_null(), "facilityId",
			 q->facility_id ? json_string(q->facility_id) : json_null());
}

static void period_members(json_t *o, const struct reports_period *p)
{
	json_object_set_new(o, "period", json_string(p->label));
	json_object_set_new(o, "start", json_string(p->start));
	json_object_set_new(o, "end", json_string(p->end));
}

/* Send the CSV as an attachment named <report>_<from>_<to>.csv. */
static void send_csv(struct req_ctx *ctx, struct http_resp *resp, const char *report, const struct reports_query *q,
		     struct reports_csv *csv)
{
	char disposition[128];

	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s_%s_%s.csv\"", report, q->range.from,
		 q->range.to);
	http_resp_raw(ctx, resp, 200, "text/csv; charset=utf-8", csv->buf ? csv->buf : "", csv->len);
	http_resp_header(ctx, resp, "Content-Disposition", disposition);
	reports_csv_release(csv);
}

static void csv_header(struct reports_csv *c, const char *const *names)
{
	for (; *names; names++)
		reports_csv_text(c, *names);
	reports_csv_end_row(c);
}

/* The period columns of a CSV row: a period, or TOTAL over the range. */
static void csv_period(struct reports_csv *c, const struct reports_period *p, const struct reports_query *q)
{
	reports_csv_text(c, p ? p->label : "TOTAL");
	reports_csv_text(c, p ? p->start : q->range.from);
	reports_csv_text(c, p ? p->end : q->range.to);
}

/* ---- revenue ---- */

static void amounts_json(json_t *o, const struct reports_amounts *m, int scale)
{
	int64_t net = m->subtotal - m->discount;

	json_object_set_new(o, "subtotal", money_json_string(m->subtotal, scale));
	json_object_set_new(o, "discount", money_json_string(m->discount, scale));
	json_object_set_new(o, "net", money_json_string(net, scale));
	json_object_set_new(o, "tax", money_json_string(m->tax, scale));
	json_object_set_new(o, "lateFees", money_json_string(m->total - net - m->tax, scale));
	json_object_set_new(o, "total", money_json_string(m->total, scale));
}

static json_t *revenue_row_json(const struct reports_revenue_row *r, const struct reports_period *p,
				enum reports_dim by)
{
	int scale = minor_units(r->currency);
	json_t *o = json_object(), *items;

	if (p)
		period_members(o, p);
	json_object_set_new(o, "currency", json_string(r->currency));
	json_object_set_new(o, "documents", json_integer(r->documents));
	json_object_set_new(o, "lines", json_integer(r->lines));
	amounts_json(o, &r->amt, scale);
	if (by == REPORTS_BY_NONE)
		return o;
	items = json_array();
	for (size_t i = 0; i < r->nitems; i++) {
		const struct reports_revenue_item *it = &r->items[i];
		json_t *x =
		    json_pack("{s:o, s:o, s:s, s:b, s:I, s:I}", "key", it->key ? json_string(it->key) : json_null(),
			      "code", it->code ? json_string(it->code) : json_null(), "name", it->name, "adjustment",
			      it->adjustment, "documents", (json_int_t)it->documents, "lines", (json_int_t)it->lines);
		amounts_json(x, &it->amt, scale);
		json_array_append_new(items, x);
	}
	json_object_set_new(o, "breakdown", items);
	return o;
}

static void revenue_csv_row(struct reports_csv *c, const struct reports_revenue_row *r, const struct reports_period *p,
			    const struct reports_query *q, const struct reports_revenue_item *it)
{
	const struct reports_amounts *m = it ? &it->amt : &r->amt;
	int scale = minor_units(r->currency);

	csv_period(c, p, q);
	reports_csv_text(c, r->currency);
	if (q->by != REPORTS_BY_NONE) {
		reports_csv_text(c, it->key);
		reports_csv_text(c, it->code);
		reports_csv_text(c, it->name);
	}
	reports_csv_int(c, it ? it->documents : r->documents);
	reports_csv_int(c, it ? it->lines : r->lines);
	reports_csv_money(c, m->subtotal, scale);
	reports_csv_money(c, m->discount, scale);
	reports_csv_money(c, m->subtotal - m->discount, scale);
	reports_csv_money(c, m->tax, scale);
	reports_csv_money(c, m->total - (m->subtotal - m->discount) - m->tax, scale);
	reports_csv_money(c, m->total, scale);
	reports_csv_end_row(c);
}

static void revenue_csv_rows(struct reports_csv *c, const struct reports_revenue_row *r, const struct reports_period *p,
			     const struct reports_query *q)
{
	if (q->by == REPORTS_BY_NONE) {
		revenue_csv_row(c, r, p, q, NULL);
		return;
	}
	for (size_t i = 0; i < r->nitems; i++)
		revenue_csv_row(c, r, p, q, &r->items[i]);
}

HANDLER(reports_http_revenue)
{
	static const char *const cols[] = {"period",   "start", "end", "currency", "documents", "lines", "subtotal",
					   "discount", "net",	"tax", "lateFees", "total",	NULL};
	static const char *const cols_by[] = {"period", "start",     "end",   "currency", "key",      "code",
					      "name",	"documents", "lines", "subtotal", "discount", "net",
					      "tax",	"lateFees",  "total", NULL};
	struct reports_query q;
	struct reports_revenue rep;
	const char *by;
	bool csv;
	int rc, dim;

	rc = parse_query(ctx, REPORTS_GROUP_DAY, &q, &csv, e);
	if (rc)
		return rc;
	by = http_query(ctx->req, "by");
	if (by) {
		dim = reports_dim_parse(by);
		if (dim < 0)
			return err_set(e, ERR_INVALID, "by", "by must be service, category or provider");
		q.by = (enum reports_dim)dim;
	}
	rc = reports_revenue(ctx->app->db, ctx->who.tenant_id, &q, ctx->req->arena, &rep, e);
	if (rc)
		return rc;
	if (csv) {
		struct reports_csv c;

		reports_csv_init(&c);
		csv_header(&c, q.by == REPORTS_BY_NONE ? cols : cols_by);
		for (size_t i = 0; i < rep.nrows; i++)
			revenue_csv_rows(&c, &rep.rows[i], &rep.periods[rep.rows[i].period], &q);
		for (size_t i = 0; i < rep.ntotals; i++)
			revenue_csv_rows(&c, &rep.totals[i], NULL, &q);
		send_csv(ctx, resp, "revenue", &q, &c);
		return 0;
	}
	{
		json_t *data = report_head("revenue", &q), *periods = json_array(), *totals = json_array();

		json_object_set_new(data, "basis", json_string("accrual"));
		json_object_set_new(data, "dateField", json_string("invoiceDate"));
		json_object_set_new(data, "by",
				    q.by == REPORTS_BY_NONE ? json_null() : json_string(reports_dim_name(q.by)));
		for (size_t i = 0; i < rep.nrows; i++)
			json_array_append_new(periods,
					      revenue_row_json(&rep.rows[i], &rep.periods[rep.rows[i].period], q.by));
		for (size_t i = 0; i < rep.ntotals; i++)
			json_array_append_new(totals, revenue_row_json(&rep.totals[i], NULL, q.by));
		json_object_set_new(data, "periods", periods);
		json_object_set_new(data, "totals", totals);
		resp->data = data;
	}
	return 0;
}

/* ---- payments ---- */

static json_t *cells_json(const struct reports_pay_cell *cells, size_t n, int scale)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:o}", "method", cells[i].method, "status",
						   cells[i].status, "count", (json_int_t)cells[i].count, "amount",
						   money_json_string(cells[i].amount, scale)));
	return a;
}

static json_t *payments_row_json(const struct reports_payments_row *r, const struct reports_period *p)
{
	int scale = minor_units(r->currency);
	json_t *o = json_object();

	if (p)
		period_members(o, p);
	json_object_set_new(o, "currency", json_string(r->currency));
	json_object_set_new(o, "payments", cells_json(r->payments, r->npayments, scale));
	json_object_set_new(o, "refunds", cells_json(r->refunds, r->nrefunds, scale));
	json_object_set_new(o, "collected",
			    json_pack("{s:I, s:o}", "count", (json_int_t)r->collected_count, "amount",
				      money_json_string(r->collected, scale)));
	json_object_set_new(o, "refunded",
			    json_pack("{s:I, s:o}", "count", (json_int_t)r->refunded_count, "amount",
				      money_json_string(r->refunded, scale)));
	json_object_set_new(o, "netCollected", money_json_string(r->collected - r->refunded, scale));
	return o;
}

static void payments_csv_line(struct reports_csv *c, const struct reports_payments_row *r,
			      const struct reports_period *p, const struct reports_query *q, const char *type,
			      const char *method, const char *status, const int64_t *count, int64_t amount)
{
	csv_period(c, p, q);
	reports_csv_text(c, r->currency);
	reports_csv_text(c, type);
	reports_csv_text(c, method);
	reports_csv_text(c, status);
	if (count)
		reports_csv_int(c, *count);
	else
		reports_csv_text(c, NULL);
	reports_csv_money(c, amount, minor_units(r->currency));
	reports_csv_end_row(c);
}

static void payments_csv_rows(struct reports_csv *c, const struct reports_payments_row *r,
			      const struct reports_period *p, const struct reports_query *q)
{
	for (size_t i = 0; i < r->npayments; i++)
		payments_csv_line(c, r, p, q, "payment", r->payments[i].method, r->payments[i].status,
				  &r->payments[i].count, r->payments[i].amount);
	for (size_t i = 0; i < r->nrefunds; i++)
		payments_csv_line(c, r, p, q, "refund", r->refunds[i].method, r->refunds[i].status,
				  &r->refunds[i].count, r->refunds[i].amount);
	payments_csv_line(c, r, p, q, "collected", NULL, NULL, &r->collected_count, r->collected);
	payments_csv_line(c, r, p, q, "refunded", NULL, NULL, &r->refunded_count, r->refunded);
	payments_csv_line(c, r, p, q, "net_collected", NULL, NULL, NULL, r->collected - r->refunded);
}

HANDLER(reports_http_payments)
{
	static const char *const cols[] = {"period", "start",  "end",	"currency", "type",
					   "method", "status", "count", "amount",   NULL};
	struct reports_query q;
	struct reports_payments rep;
	bool csv;
	int rc;

	rc = parse_query(ctx, REPORTS_GROUP_DAY, &q, &csv, e);
	if (rc)
		return rc;
	rc = reports_payments(ctx->app->db, ctx->who.tenant_id, &q, ctx->req->arena, &rep, e);
	if (rc)
		return rc;
	if (csv) {
		struct reports_csv c;

		reports_csv_init(&c);
		csv_header(&c, cols);
		for (size_t i = 0; i < rep.nrows; i++)
			payments_csv_rows(&c, &rep.rows[i], &rep.periods[rep.rows[i].period], &q);
		for (size_t i = 0; i < rep.ntotals; i++)
			payments_csv_rows(&c, &rep.totals[i], NULL, &q);
		send_csv(ctx, resp, "payments", &q, &c);
		return 0;
	}
	{
		json_t *data = report_head("payments", &q), *periods = json_array(), *totals = json_array();

		json_object_set_new(data, "basis", json_string("cash"));
		for (size_t i = 0; i < rep.nrows; i++)
			json_array_append_new(periods,
					      payments_row_json(&rep.rows[i], &rep.periods[rep.rows[i].period]));
		for (size_t i = 0; i < rep.ntotals; i++)
			json_array_append_new(totals, payments_row_json(&rep.totals[i], NULL));
		json_object_set_new(data, "periods", periods);
		json_object_set_new(data, "totals", totals);
		resp->data = data;
	}
	return 0;
}

/* ---- taxes ---- */

static void tax_line_json(json_t *o, const struct reports_tax_line *t, int scale)
{
	json_object_set_new(o, "lines", json_integer(t->lines));
	json_object_set_new(o, "taxableBase", money_json_string(t->taxable, scale));
	json_object_set_new(o, "exemptBase", money_json_string(t->exempt, scale));
	json_object_set_new(o, "notSubjectBase", money_json_string(t->not_subject, scale));
}

static json_t *taxes_row_json(const struct reports_taxes_row *r, const struct reports_period *p)
{
	int scale = minor_units(r->currency);
	json_t *o = json_object(), *rates = json_array();
	char rate[32];

	if (p)
		period_members(o, p);
	json_object_set_new(o, "currency", json_string(r->currency));
	json_object_set_new(o, "documents", json_integer(r->documents));
	for (size_t i = 0; i < r->nrates; i++) {
		json_t *x = json_pack("{s:s}", "taxRate", reports_rate_text(r->rates[i].rate_pct, rate, sizeof(rate)));
		tax_line_json(x, &r->rates[i], scale);
		json_object_set_new(x, "tax", money_json_string(r->rates[i].tax, scale));
		json_array_append_new(rates, x);
	}
	json_object_set_new(o, "rates", rates);
	tax_line_json(o, &r->sum, scale);
	json_object_set_new(o, "documentDiscount", money_json_string(r->doc_discount, scale));
	json_object_set_new(
	    o, "netSales",
	    money_json_string(r->sum.taxable + r->sum.exempt + r->sum.not_subject - r->doc_discount, scale));
	json_object_set_new(o, "lineTax", money_json_string(r->sum.tax, scale));
	json_object_set_new(o, "taxAdjustment", money_json_string(r->doc_tax - r->sum.tax, scale));
	json_object_set_new(o, "tax", money_json_string(r->doc_tax, scale));
	return o;
}

/* One CSV line: a rate (t != NULL) or the period's ALL line. */
static void taxes_csv_line(struct reports_csv *c, const struct reports_taxes_row *r, const struct reports_period *p,
			   const struct reports_query *q, const struct reports_tax_line *t)
{
	int scale = minor_units(r->currency);
	const struct reports_tax_line *m = t ? t : &r->sum;
	char rate[32];

	csv_period(c, p, q);
	reports_csv_text(c, r->currency);
	if (t)
		reports_csv_number(c, reports_rate_text(t->rate_pct, rate, sizeof(rate)));
	else
		reports_csv_text(c, "ALL");
	if (t)
		reports_csv_text(c, NULL);
	else
		reports_csv_int(c, r->documents);
	reports_csv_int(c, m->lines);
	reports_csv_money(c, m->taxable, scale);
	reports_csv_money(c, m->exempt, scale);
	reports_csv_money(c, m->not_subject, scale);
	reports_csv_money(c, t ? 0 : r->doc_discount, scale);
	reports_csv_money(c, m->taxable + m->exempt + m->not_subject - (t ? 0 : r->doc_discount), scale);
	reports_csv_money(c, m->tax, scale);
	reports_csv_money(c, t ? 0 : r->doc_tax - r->sum.tax, scale);
	reports_csv_money(c, t ? t->tax : r->doc_tax, scale);
	reports_csv_end_row(c);
}

static void taxes_csv_rows(struct reports_csv *c, const struct reports_taxes_row *r, const struct reports_period *p,
			   const struct reports_query *q)
{
	for (size_t i = 0; i < r->nrates; i++)
		taxes_csv_line(c, r, p, q, &r->rates[i]);
	taxes_csv_line(c, r, p, q, NULL);
}

HANDLER(reports_http_taxes)
{
	static const char *const cols[] = {"period",
					   "start",
					   "end",
					   "currency",
					   "taxRate",
					   "documents",
					   "lines",
					   "taxableBase",
					   "exemptBase",
					   "notSubjectBase",
					   "documentDiscount",
					   "netSales",
					   "lineTax",
					   "taxAdjustment",
					   "tax",
					   NULL};
	struct reports_query q;
	struct reports_taxes rep;
	bool csv;
	int rc;

	rc = parse_query(ctx, REPORTS_GROUP_MONTH, &q, &csv, e);
	if (rc)
		return rc;
	rc = reports_taxes(ctx->app->db, ctx->who.tenant_id, &q, ctx->req->arena, &rep, e);
	if (rc)
		return rc;
	if (csv) {
		struct reports_csv c;

		reports_csv_init(&c);
		csv_header(&c, cols);
		for (size_t i = 0; i < rep.nrows; i++)
			taxes_csv_rows(&c, &rep.rows[i], &rep.periods[rep.rows[i].period], &q);
		for (size_t i = 0; i < rep.ntotals; i++)
			taxes_csv_rows(&c, &rep.totals[i], NULL, &q);
		send_csv(ctx, resp, "taxes", &q, &c);
		return 0;
	}
	{
		json_t *data = report_head("taxes", &q), *periods = json_array(), *totals = json_array();

		json_object_set_new(data, "basis", json_string("accrual"));
		json_object_set_new(data, "dateField", json_string("invoiceDate"));
		for (size_t i = 0; i < rep.nrows; i++)
			json_array_append_new(periods, taxes_row_json(&rep.rows[i], &rep.periods[rep.rows[i].period]));
		for (size_t i = 0; i < rep.ntotals; i++)
			json_array_append_new(totals, taxes_row_json(&rep.totals[i], NULL));
		json_object_set_new(data, "periods", periods);
		json_object_set_new(data, "totals", totals);
		resp->data = data;
	}
	return 0;
}
