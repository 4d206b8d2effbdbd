/*
 * test_reports.c - API tests of GET /api/reports/{revenue,payments,taxes}
 * (clinic-billing-backend §7) against the real binary.
 *
 * Data is generated through the API in tenant "rpt" (America/El_Salvador,
 * UTC-6): catalog services (taxable, exempt, not subject), patients, many
 * invoices (POST /api/v1/invoices) with quantities, percent and amount
 * discounts, taxes included or not, free lines, providers, a second
 * currency, document discounts and tax overrides (PUT), a draft and a
 * cancelled invoice, documents just outside the range; payments (cash,
 * card, mobile money, a failed one) and refunds. The reports' totals must
 * equal, exactly, the sums computed from GET /api/v1/invoices/:id (and its
 * payments and refunds), in JSON and in CSV, per period and in total, for
 * every grouping and dimension. Then: local-midnight bucketing in the
 * tenant's zone, CSV format and formula-injection safety, every 400, 401,
 * 403 and tenant isolation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <unistd.h>

#include "core/mem.h"
#include "core/money.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "harness.h"

#define MAX_DOCS       128
#define FROM	       "2025-03-01"
#define TO	       "2025-03-31"
#define WEBHOOK_SECRET "whsec-reports-test"

static char *rpt;				   /* admin token of tenant "rpt" (owned) */
static char *svc_taxable, *svc_exempt, *svc_nosub; /* catalog service ids (owned) */
static char *patients[4];
static char *doc_ids[MAX_DOCS]; /* invoices that count (issued, in range) */
static size_t ndocs;

/* ---- helpers ---- */

static char path_buf[1024];

static const char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *pathf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path_buf, sizeof(path_buf), fmt, ap);
	va_end(ap);
	return path_buf;
}

/* An amount (JSON number or decimal string) in minor units at scale. */
static int64_t minor_of(const json_t *v, int scale)
{
	struct err e;
	int64_t out = 0;

	err_clear(&e);
	if (!v || money_from_json(v, scale, &out, "amount", &e) != 0)
		fail_msg("not an amount at scale %d: %s", scale,
			 v ? (json_is_string(v) ? json_string_value(v) : "?") : "(missing)");
	return out;
}

static int64_t text_minor(const char *s, int scale)
{
	struct err e;
	int64_t out = 0;

	err_clear(&e);
	if (!s || money_parse(s, scale, &out, "amount", &e) != 0)
		fail_msg("not an amount: %s", s ? s : "(null)");
	return out;
}

static int64_t member_minor(const json_t *o, const char *name)
{
	return minor_of(json_object_get(o, name), 2);
}

static long long member_int(const json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_integer(v))
		fail_msg("member %s is not an integer", name);
	return json_integer_value(v);
}

static const char *member_str(const json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));
	return s ? s : "";
}

/* GET a report as token; expect 200 with success:true. Owned. */
static struct api_resp *report(const char *token, const char *path)
{
	struct api_resp *r = api_req("GET", path, token, NULL, NULL);

	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "success")));
	return r;
}

/* The entry of array arr whose members match (NULL values skip). Borrowed. */
static json_t *find_entry(const json_t *arr, const char *k1, const char *v1, const char *k2, const char *v2)
{
	size_t i;
	json_t *it;

	json_array_foreach(arr, i, it)
	{
		if (k1 && strcmp(member_str(it, k1), v1) != 0)
			continue;
		if (k2 && strcmp(member_str(it, k2), v2) != 0)
			continue;
		return it;
	}
	return NULL;
}

/* ---- a minimal RFC 4180 reader for the CSV answers ---- */

struct csv_table {
	size_t nrows;
	size_t ncols[2048];
	char *cell[2048][24]; /* owned */
};

static void csv_parse(const char *s, struct csv_table *t)
{
	char buf[4096];
	size_t n = 0;
	bool quoted = false;

	memset(t, 0, sizeof(*t));
	for (const char *p = s; *p; p++) {
		if (quoted) {
			if (*p == '"' && p[1] == '"') {
				buf[n++] = '"';
				p++;
			} else if (*p == '"') {
				quoted = false;
			} else {
				buf[n++] = *p;
			}
			continue;
		}
		if (*p == '"') {
			quoted = true;
		} else if (*p == ',' || (*p == '\r' && p[1] == '\n')) {
			buf[n] = '\0';
			assert_true(t->ncols[t->nrows] < 24);
			t->cell[t->nrows][t->ncols[t->nrows]++] = strdup(buf);
			n = 0;
			if (*p == '\r') {
				p++;
				t->nrows++;
				assert_true(t->nrows < 2048);
			}
		} else {
			assert_true(*p != '\n'); /* bare LF only inside quotes */
			buf[n++] = *p;
		}
		assert_true(n < sizeof(buf) - 1);
	}
	assert_int_equal(n, 0); /* the last row ends with CRLF */
}

static void csv_free(struct csv_table *t)
{
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols[r]; c++)
			free(t->cell[r][c]);
}

static int csv_col(const struct csv_table *t, const char *name)
{
	for (size_t c = 0; c < t->ncols[0]; c++)
		if (strcmp(t->cell[0][c], name) == 0)
			return (int)c;
	fail_msg("CSV has no column %s", name);
	return -1;
}

static const char *csv_get(const struct csv_table *t, size_t row, const char *col)
{
	return t->cell[row][csv_col(t, col)];
}

/* GET a report as CSV; checks the envelope-free answer and parses it. */
static void report_csv(const char *path, struct csv_table *t, const char *filename_prefix)
{
	struct api_resp *r = api_req("GET", path, rpt, NULL, NULL);
	char want[128];

	assert_status(r, 200);
	assert_string_equal(r->content_type, "text/csv; charset=utf-8");
	snprintf(want, sizeof(want), "Content-Disposition: attachment; filename=\"%s", filename_prefix);
	if (!strstr(r->headers, want))
		fail_msg("no %s in headers:\n%s", want, r->headers);
	assert_null(r->json);
	csv_parse(r->body, t);
	assert_true(t->nrows >= 1);
	for (size_t i = 1; i < t->nrows; i++)
		assert_int_equal(t->ncols[i], t->ncols[0]);
	api_resp_free(r);
}

/* ---- data generation ---- */

static uint32_t rng = 20251014;

static uint32_t next_rand(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

static char *post_id(const char *path, const char *token, const char *body)
{
	struct api_resp *r = api_req("POST", path, token, body, NULL);
	char *id;

	assert_status(r, 201);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

static char *create_invoice(json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	char *id = post_id("/api/v1/invoices", rpt, text);

	free(text);
	json_decref(body);
	return id;
}

/* A random line: a catalog service or a free line, with a quantity, maybe a
 * discount, a provider. */
static json_t *random_line(void)
{
	static const char *const qty[] = {"1", "2", "1.5", "0.333", "3", "10"};
	static const char *const providers[] = {"dr-ana", "dr-beto", NULL};
	json_t *l = json_object();
	const char *prov = providers[next_rand(3)];
	bool cheap = false;

	switch (next_rand(6)) {
	case 0: json_object_set_new(l, "serviceId", json_string(svc_taxable)); break;
	case 1: json_object_set_new(l, "serviceId", json_string(svc_exempt)); break;
	case 2: json_object_set_new(l, "serviceId", json_string(svc_nosub)); break;
	case 3:
		json_object_set_new(l, "itemType", json_string("lab_test"));
		json_object_set_new(l, "itemName", json_string("Hemograma completo"));
		json_object_set_new(l, "itemCode", json_string("LAB-CBC"));
		json_object_set_new(l, "unitPrice", json_string("8.99"));
		json_object_set_new(l, "taxPercent", json_string("13"));
		break;
	case 4:
		json_object_set_new(l, "itemType", json_string("consultation"));
		json_object_set_new(l, "itemName", json_string("Consulta, especialista"));
		json_object_set_new(l, "itemCode", json_string("CONS-ESP"));
		json_object_set_new(l, "unitPrice", json_real(45.5));
		json_object_set_new(l, "taxTreatment", json_string("exempt"));
		break;
	default:
		json_object_set_new(l, "itemType", json_string("supply"));
		json_object_set_new(l, "itemName", json_string("Gasa esteril"));
		json_object_set_new(l, "itemCode", json_string("SUP-GASA"));
		json_object_set_new(l, "unitPrice", json_string("0.37"));
		json_object_set_new(l, "taxTreatment", json_string("not_subject"));
		cheap = true;
		break;
	}
	json_object_set_new(l, "quantity", json_string(qty[next_rand(6)]));
	/* A discount amount never exceeds the cheapest line (0.37 x 0.333 is 0.12): percentages only there. */
	switch (next_rand(cheap ? 2 : 4)) {
	case 0: json_object_set_new(l, "discountPercent", json_string("10")); break;
	case 1: json_object_set_new(l, "discountPercent", json_string("7.5")); break;
	case 2: json_object_set_new(l, "discountAmount", json_string("0.25")); break;
	default: break;
	}
	if (prov)
		json_object_set_new(l, "serviceProviderId", json_string(prov));
	return l;
}

static json_t *random_invoice(const char *date, const char *currency, bool big)
{
	json_t *body = json_object(), *lines = json_array();
	int n = 1 + (int)next_rand(4);

	json_object_set_new(body, "patientId", json_string(patients[next_rand(4)]));
	json_object_set_new(body, "invoiceType", json_string("consultation"));
	json_object_set_new(body, "invoiceDate", json_string(date));
	if (currency)
		json_object_set_new(body, "currency", json_string(currency));
	if (next_rand(3) == 0)
		json_object_set_new(body, "pricesIncludeTax", json_true());
	for (int i = 0; i < n; i++) {
		json_t *l = random_line();
		/* Catalog services are priced in USD: other currencies use free lines. */
		if (currency && json_object_get(l, "serviceId")) {
			json_decref(l);
			l = json_pack("{s:s, s:s, s:s, s:s, s:s}", "itemType", "consultation", "itemName", "Consulta",
				      "unitPrice", "20.05", "quantity", "1", "taxPercent", "13");
		}
		json_array_append_new(lines, l);
	}
	if (big) /* room for a document discount */
		json_array_append_new(lines, json_pack("{s:s, s:s, s:s, s:s}", "itemName", "Procedimiento", "unitPrice",
						       "50.00", "quantity", "1", "taxPercent", "13"));
	json_object_set_new(body, "lineItems", lines);
	return body;
}

static void put_ok(const char *id, const char *body)
{
	struct api_resp *r = api_req("PUT", pathf("/api/v1/invoices/%s", id), rpt, body, NULL);

	assert_status(r, 200);
	api_resp_free(r);
}

static int setup(void **state)
{
	char body[256];

	static const char *const env[] = {"CLINICLEDGER_GATEWAY_WEBHOOK_SECRET=" WEBHOOK_SECRET, NULL};

	(void)state;
	if (api_server_start(env) != 0)
		return -1;
	rpt = api_user_token("rpt", "admin", NULL);
	svc_taxable = post_id("/api/services", rpt,
			      "{\"code\":\"RPT-CONS\",\"name\":\"Consulta general\",\"category\":\"Consultas\","
			      "\"price\":\"35.00\"}");
	svc_exempt = post_id("/api/services", rpt,
			     "{\"code\":\"RPT-LAB\",\"name\":\"Examen de orina\",\"category\":\"Laboratorio\","
			     "\"price\":\"12.49\",\"taxTreatment\":\"exempt\"}");
	svc_nosub = post_id("/api/services", rpt,
			    "{\"code\":\"RPT-DON\",\"name\":\"Donativo\",\"category\":\"Otros\",\"price\":\"5.00\","
			    "\"taxTreatment\":\"not_subject\"}");
	for (int i = 0; i < 4; i++) {
		snprintf(body, sizeof(body), "{\"firstName\":\"Paciente%d\",\"lastName\":\"Reportes\"}", i);
		patients[i] = post_id("/api/patients", rpt, body);
	}

	/* 36 issued USD invoices over March, 4 in EUR. */
	for (int i = 0; i < 40; i++) {
		char date[DATE_LEN + 1];
		snprintf(date, sizeof(date), "2025-03-%02d", 1 + (int)next_rand(31));
		if (i == 0)
			snprintf(date, sizeof(date), "%s", FROM);
		if (i == 1)
			snprintf(date, sizeof(date), "%s", TO);
		doc_ids[ndocs++] = create_invoice(
		    random_invoice(date, i >= 36 ? "EUR" : NULL, i == 3 || i == 7 || i == 11 || i == 38));
	}
	/* Document discounts and a tax override: amounts outside any line. */
	put_ok(doc_ids[3], "{\"discountAmount\":\"2.50\"}");
	put_ok(doc_ids[7], "{\"discountAmount\":1}");
	put_ok(doc_ids[11], "{\"taxAmount\":\"3.21\"}");
	put_ok(doc_ids[38], "{\"discountAmount\":\"0.10\"}");

	/* Not counted: a draft, a cancelled invoice, and invoices just outside. */
	{
		json_t *b = random_invoice("2025-03-15", NULL, false);
		json_object_set_new(b, "status", json_string("draft"));
		free(create_invoice(b));
	}
	{
		char *id = create_invoice(random_invoice("2025-03-15", NULL, false));
		struct api_resp *r =
		    api_req("DELETE", pathf("/api/v1/invoices/%s", id), rpt, "{\"reason\":\"duplicate\"}", NULL);
		assert_status(r, 200);
		api_resp_free(r);
		free(id);
	}
	free(create_invoice(random_invoice("2025-02-28", NULL, false)));
	free(create_invoice(random_invoice("2025-04-01", NULL, false)));
	return 0;
}

static int teardown(void **state)
{
	for (size_t i = 0; i < ndocs; i++)
		free(doc_ids[i]);
	for (int i = 0; i < 4; i++)
		free(patients[i]);
	free(svc_taxable);
	free(svc_exempt);
	free(svc_nosub);
	free(rpt);
	(void)state;
	api_server_stop();
	return 0;
}

/* ---- what the documents say ---- */

/* Sums of documents (and their lines) for one key: a date or "" (all). */
struct sums {
	char date[DATE_LEN + 1];
	char currency[4];
	long long documents, lines;
	int64_t subtotal, discount, tax, total, paid;
	int64_t line_discount, line_tax, line_total;
	int64_t taxable, exempt, not_subject;
	int64_t taxable_13; /* taxable base of lines at 13 % */
};

struct expect {
	struct sums s[64];
	size_t n;
};

static struct sums *sums_for(struct expect *x, const char *date, const char *currency)
{
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->s[i].date, date) == 0 && strcmp(x->s[i].currency, currency) == 0)
			return &x->s[i];
	assert_true(x->n < 64);
	memset(&x->s[x->n], 0, sizeof(x->s[x->n]));
	snprintf(x->s[x->n].date, sizeof(x->s[x->n].date), "%s", date);
	snprintf(x->s[x->n].currency, sizeof(x->s[x->n].currency), "%s", currency);
	return &x->s[x->n++];
}

static void add_doc(struct sums *s, const struct api_resp *r)
{
	json_t *d = api_path(r, "data"), *lines = api_path(r, "data.lineItems"), *l;
	size_t i;

	s->documents++;
	s->subtotal += member_minor(d, "subtotal");
	s->discount += member_minor(d, "discountAmount");
	s->tax += member_minor(d, "taxAmount");
	s->total += member_minor(d, "totalAmount");
	s->paid += member_minor(d, "paidAmount");
	json_array_foreach(lines, i, l)
	{
		const char *t = member_str(l, "taxTreatment");
		int64_t net = member_minor(l, "netAmount");

		s->lines++;
		s->line_discount += member_minor(l, "discountAmount");
		s->line_tax += member_minor(l, "taxAmount");
		s->line_total += member_minor(l, "lineTotal");
		if (strcmp(t, "taxable") == 0) {
			s->taxable += net;
			if (minor_of(json_object_get(l, "taxPercent"), 4) == 130000)
				s->taxable_13 += net;
		} else if (strcmp(t, "exempt") == 0) {
			s->exempt += net;
		} else {
			s->not_subject += net;
		}
	}
}

/* Read every counted invoice back: per invoice date and in total. */
static void expected_from_documents(struct expect *by_date, struct expect *all)
{
	memset(by_date, 0, sizeof(*by_date));
	memset(all, 0, sizeof(*all));
	for (size_t i = 0; i < ndocs; i++) {
		struct api_resp *r = api_req("GET", pathf("/api/v1/invoices/%s", doc_ids[i]), rpt, NULL, NULL);
		const char *cur = api_str(r, "data.currency");

		assert_status(r, 200);
		add_doc(sums_for(by_date, api_str(r, "data.invoiceDate"), cur), r);
		add_doc(sums_for(all, "", cur), r);
		api_resp_free(r);
	}
}

/* A revenue row (period or total) equals the sums. */
static void revenue_row_equals(const json_t *row, const struct sums *s)
{
	if (!row)
		fail_msg("no revenue row for %s %s", s->date, s->currency);
	assert_int_equal(member_int(row, "documents"), s->documents);
	assert_int_equal(member_int(row, "lines"), s->lines);
	assert_int_equal(member_minor(row, "subtotal"), s->subtotal);
	assert_int_equal(member_minor(row, "discount"), s->discount);
	assert_int_equal(member_minor(row, "net"), s->subtotal - s->discount);
	assert_int_equal(member_minor(row, "tax"), s->tax);
	assert_int_equal(member_minor(row, "lateFees"), s->total - (s->subtotal - s->discount) - s->tax);
	assert_int_equal(member_minor(row, "total"), s->total);
}

/* ---- revenue ---- */

static void test_revenue_reconciles_by_day(void **state)
{
	struct expect by_date, all;
	struct api_resp *r;
	json_t *periods, *totals;

	(void)state;
	expected_from_documents(&by_date, &all);
	assert_int_equal(all.n, 2); /* USD and EUR, never added together */

	r = report(rpt, "/api/reports/revenue?from=" FROM "&to=" TO "&groupBy=day");
	assert_string_equal(api_str(r, "data.report"), "revenue");
	assert_string_equal(api_str(r, "data.basis"), "accrual");
	assert_string_equal(api_str(r, "data.from"), FROM);
	assert_string_equal(api_str(r, "data.to"), TO);
	assert_string_equal(api_str(r, "data.groupBy"), "day");
	assert_string_equal(api_str(r, "data.timeZone"), "America/El_Salvador");
	assert_true(json_is_null(api_path(r, "data.by")));
	assert_true(json_is_null(api_path(r, "data.currency")));
	periods = api_path(r, "data.periods");
	totals = api_path(r, "data.totals");
	/* One row per (day, currency) with documents; each equals its documents. */
	assert_int_equal(json_array_size(periods), by_date.n);
	for (size_t i = 0; i < by_date.n; i++) {
		json_t *row = find_entry(periods, "period", by_date.s[i].date, "currency", by_date.s[i].currency);
		revenue_row_equals(row, &by_date.s[i]);
		assert_string_equal(member_str(row, "start"), by_date.s[i].date);
		assert_string_equal(member_str(row, "end"), by_date.s[i].date);
	}
	assert_int_equal(json_array_size(totals), 2);
	revenue_row_equals(find_entry(totals, "currency", "USD", NULL, NULL), sums_for(&all, "", "USD"));
	revenue_row_equals(find_entry(totals, "currency", "EUR", NULL, NULL), sums_for(&all, "", "EUR"));
	assert_string_equal(member_str(json_array_get(totals, 0), "currency"), "EUR");
	api_resp_free(r);

	/* One currency only. */
	r = report(rpt, "/api/reports/revenue?from=" FROM "&to=" TO "&currency=eur");
	assert_string_equal(api_str(r, "data.currency"), "EUR");
	assert_int_equal(json_array_size(api_path(r, "data.totals")), 1);
	revenue_row_equals(json_array_get(api_path(r, "data.totals"), 0), sums_for(&all, "", "EUR"));
	api_resp_free(r);
}

/* Week and month groupings: same totals; every period is the sum of its days. */
static void test_revenue_week_and_month(void **state)
{
	static const char *const groups[] = {"week", "month"};
	struct expect by_date, all;

	(void)state;
	expected_from_documents(&by_date, &all);
	for (size_t g = 0; g < 2; g++) {
		struct api_resp *r =
		    report(rpt, pathf("/api/reports/revenue?from=" FROM "&to=" TO "&groupBy=%s", groups[g]));
		json_t *periods = api_path(r, "data.periods"), *row;
		struct expect per;
		size_t i;

		memset(&per, 0, sizeof(per));
		for (size_t k = 0; k < by_date.n; k++) {
			/* The period of each document's date, as the report labels it. */
			const struct sums *d = &by_date.s[k];
			json_t *hit = NULL;
			json_array_foreach(periods, i, row)
			{
				if (strcmp(member_str(row, "currency"), d->currency) == 0 &&
				    strcmp(member_str(row, "start"), d->date) <= 0 &&
				    strcmp(member_str(row, "end"), d->date) >= 0)
					hit = row;
			}
			assert_non_null(hit);
			struct sums *p = sums_for(&per, member_str(hit, "period"), d->currency);
			p->documents += d->documents;
			p->lines += d->lines;
			p->subtotal += d->subtotal;
			p->discount += d->discount;
			p->tax += d->tax;
			p->total += d->total;
		}
		assert_int_equal(json_array_size(periods), per.n);
		for (size_t k = 0; k < per.n; k++)
			revenue_row_equals(find_entry(periods, "period", per.s[k].date, "currency", per.s[k].currency),
					   &per.s[k]);
		revenue_row_equals(find_entry(api_path(r, "data.totals"), "currency", "USD", NULL, NULL),
				   sums_for(&all, "", "USD"));
		if (g == 0) {
			/* 2025-03-01 is a Saturday: the first week is cut at the range. */
			row = find_entry(periods, "period", "2025-W09", "currency", "USD");
			assert_non_null(row);
			assert_string_equal(member_str(row, "start"), FROM);
			assert_string_equal(member_str(row, "end"), "2025-03-02");
			row = find_entry(periods, "period", "2025-W14", "currency", "USD");
			assert_non_null(row);
			assert_string_equal(member_str(row, "start"), "2025-03-31");
			assert_string_equal(member_str(row, "end"), TO);
		} else {
			assert_int_equal(json_array_size(periods), 2);
			assert_string_equal(member_str(json_array_get(periods, 0), "period"), "2025-03");
		}
		api_resp_free(r);
	}
}

/* Sum of the breakdown items of a row equals the row. */
static void items_add_up(const json_t *row)
{
	json_t *items = json_object_get(row, "breakdown"), *it;
	int64_t sub = 0, disc = 0, tax = 0, total = 0;
	long long lines = 0;
	size_t i;

	assert_true(json_is_array(items));
	json_array_foreach(items, i, it)
	{
		sub += member_minor(it, "subtotal");
		disc += member_minor(it, "discount");
		tax += member_minor(it, "tax");
		total += member_minor(it, "total");
		lines += member_int(it, "lines");
		assert_int_equal(member_minor(it, "net"), member_minor(it, "subtotal") - member_minor(it, "discount"));
	}
	assert_int_equal(sub, member_minor(row, "subtotal"));
	assert_int_equal(disc, member_minor(row, "discount"));
	assert_int_equal(tax, member_minor(row, "tax"));
	assert_int_equal(total, member_minor(row, "total"));
	assert_int_equal(lines, member_int(row, "lines"));
}

/* Line totals of the counted documents whose line member `key` equals value
 * (NULL: absent) in currency. */
static int64_t lines_total_where(const char *key, const char *value, const char *currency, long long *count)
{
	int64_t total = 0;

	*count = 0;
	for (size_t i = 0; i < ndocs; i++) {
		struct api_resp *r = api_req("GET", pathf("/api/v1/invoices/%s", doc_ids[i]), rpt, NULL, NULL);
		json_t *l;
		size_t k;

		assert_status(r, 200);
		if (strcmp(api_str(r, "data.currency"), currency) == 0) {
			json_array_foreach(api_path(r, "data.lineItems"), k, l)
			{
				const char *v = json_string_value(json_object_get(l, key));
				if ((value && v && strcmp(v, value) == 0) || (!value && !v)) {
					total += member_minor(l, "lineTotal");
					(*count)++;
				}
			}
		}
		api_resp_free(r);
	}
	return total;
}

static void test_revenue_by_dimensions(void **state)
{
	static const char *const dims[] = {"service", "category", "provider"};
	struct expect by_date, all;
	long long count;

	(void)state;
	expected_from_documents(&by_date, &all);
	for (size_t d = 0; d < 3; d++) {
		struct api_resp *r =
		    report(rpt, pathf("/api/reports/revenue?from=" FROM "&to=" TO "&groupBy=week&by=%s", dims[d]));
		json_t *row, *usd, *adj, *it;
		size_t i;

		assert_string_equal(api_str(r, "data.by"), dims[d]);
		json_array_foreach(api_path(r, "data.periods"), i, row)
		{
			items_add_up(row);
		}
		json_array_foreach(api_path(r, "data.totals"), i, row)
		{
			items_add_up(row);
		}
		usd = find_entry(api_path(r, "data.totals"), "currency", "USD", NULL, NULL);
		revenue_row_equals(usd, sums_for(&all, "", "USD"));

		/* The adjustments item holds what no line holds. */
		adj = NULL;
		json_array_foreach(json_object_get(usd, "breakdown"), i, it)
		{
			if (json_is_true(json_object_get(it, "adjustment")))
				adj = it;
		}
		assert_non_null(adj);
		assert_true(json_is_null(json_object_get(adj, "key")));
		assert_int_equal(member_int(adj, "lines"), 0);
		assert_int_equal(member_minor(adj, "total"),
				 sums_for(&all, "", "USD")->total - sums_for(&all, "", "USD")->line_total);
		assert_int_equal(member_minor(adj, "discount"),
				 sums_for(&all, "", "USD")->discount - sums_for(&all, "", "USD")->line_discount);
		assert_int_equal(member_minor(adj, "tax"),
				 sums_for(&all, "", "USD")->tax - sums_for(&all, "", "USD")->line_tax);
		assert_true(member_minor(adj, "discount") >= 350); /* 2.50 + 1.00 */

		/* Each dimension value equals its lines. */
		if (d == 0) {
			it = find_entry(json_object_get(usd, "breakdown"), "key", svc_taxable, NULL, NULL);
			assert_non_null(it);
			assert_string_equal(member_str(it, "code"), "RPT-CONS");
			assert_string_equal(member_str(it, "name"), "Consulta general");
			assert_int_equal(member_minor(it, "total"),
					 lines_total_where("serviceId", svc_taxable, "USD", &count));
			assert_int_equal(member_int(it, "lines"), count);
			it = find_entry(json_object_get(usd, "breakdown"), "code", "LAB-CBC", NULL, NULL);
			assert_non_null(it);
			assert_true(json_is_null(json_object_get(it, "key")));
			assert_int_equal(member_minor(it, "total"),
					 lines_total_where("itemCode", "LAB-CBC", "USD", &count));
		} else if (d == 1) {
			it = find_entry(json_object_get(usd, "breakdown"), "key", "Laboratorio", NULL, NULL);
			assert_non_null(it);
			assert_int_equal(member_minor(it, "total"),
					 lines_total_where("serviceId", svc_exempt, "USD", &count));
			it = find_entry(json_object_get(usd, "breakdown"), "key", "lab_test", NULL, NULL);
			assert_non_null(it);
			assert_int_equal(member_minor(it, "total"),
					 lines_total_where("itemType", "lab_test", "USD", &count));
		} else {
			it = find_entry(json_object_get(usd, "breakdown"), "key", "dr-ana", NULL, NULL);
			assert_non_null(it);
			assert_string_equal(member_str(it, "name"), "dr-ana");
			assert_int_equal(member_minor(it, "total"),
					 lines_total_where("serviceProviderId", "dr-ana", "USD", &count));
			assert_int_equal(member_int(it, "lines"), count);
			it = find_entry(json_object_get(usd, "breakdown"), "name", "Unassigned", NULL, NULL);
			assert_non_null(it);
			assert_int_equal(member_minor(it, "total"),
					 lines_total_where("serviceProviderId", NULL, "USD", &count));
		}
		api_resp_free(r);
	}
}

/* The CSV carries the same figures; TOTAL rows equal the documents. */
static void test_revenue_csv(void **state)
{
	struct expect by_date, all;
	struct csv_table t;
	size_t totals = 0, periods = 0;
	int64_t sum_total = 0;

	(void)state;
	expected_from_documents(&by_date, &all);
	report_csv("/api/reports/revenue?from=" FROM "&to=" TO "&format=csv", &t, "revenue_" FROM "_" TO);
	assert_string_equal(t.cell[0][0], "period");
	assert_int_equal(t.ncols[0], 12);
	for (size_t i = 1; i < t.nrows; i++) {
		const char *cur = csv_get(&t, i, "currency");
		const struct sums *s;

		if (strcmp(csv_get(&t, i, "period"), "TOTAL") == 0) {
			totals++;
			s = sums_for(&all, "", cur);
			assert_string_equal(csv_get(&t, i, "start"), FROM);
			assert_string_equal(csv_get(&t, i, "end"), TO);
		} else {
			periods++;
			s = sums_for(&by_date, csv_get(&t, i, "period"), cur);
			if (strcmp(cur, "USD") == 0)
				sum_total += text_minor(csv_get(&t, i, "total"), 2);
		}
		assert_int_equal(atoll(csv_get(&t, i, "documents")), s->documents);
		assert_int_equal(atoll(csv_get(&t, i, "lines")), s->lines);
		assert_int_equal(text_minor(csv_get(&t, i, "subtotal"), 2), s->subtotal);
		assert_int_equal(text_minor(csv_get(&t, i, "discount"), 2), s->discount);
		assert_int_equal(text_minor(csv_get(&t, i, "net"), 2), s->subtotal - s->discount);
		assert_int_equal(text_minor(csv_get(&t, i, "tax"), 2), s->tax);
		assert_int_equal(text_minor(csv_get(&t, i, "total"), 2), s->total);
	}
	assert_int_equal(totals, 2);
	assert_int_equal(periods, by_date.n);
	assert_int_equal(sum_total, sums_for(&all, "", "USD")->total);
	csv_free(&t);

	/* With a dimension: one row per item; the TOTAL rows add up to the documents. */
	report_csv("/api/reports/revenue?from=" FROM "&to=" TO "&groupBy=month&by=service&format=csv&currency=USD", &t,
		   "revenue_");
	assert_int_equal(t.ncols[0], 15);
	assert_string_equal(t.cell[0][4], "key");
	sum_total = 0;
	{
		int64_t sum_tax = 0, sum_disc = 0;
		bool saw_adjustments = false;
		for (size_t i = 1; i < t.nrows; i++) {
			assert_string_equal(csv_get(&t, i, "currency"), "USD");
			if (strcmp(csv_get(&t, i, "period"), "TOTAL") != 0)
				continue;
			sum_total += text_minor(csv_get(&t, i, "total"), 2);
			sum_tax += text_minor(csv_get(&t, i, "tax"), 2);
			sum_disc += text_minor(csv_get(&t, i, "discount"), 2);
			if (strcmp(csv_get(&t, i, "name"), "Document-level adjustments") == 0)
				saw_adjustments = true;
			/* "Consulta, especialista" (a comma) was quoted and read back whole. */
		}
		assert_true(saw_adjustments);
		assert_int_equal(sum_total, sums_for(&all, "", "USD")->total);
		assert_int_equal(sum_tax, sums_for(&all, "", "USD")->tax);
		assert_int_equal(sum_disc, sums_for(&all, "", "USD")->discount);
	}
	csv_free(&t);
}

/* ---- taxes ---- */

static void taxes_row_equals(const json_t *row, const struct sums *s)
{
	json_t *rate13;

	if (!row)
		fail_msg("no taxes row for %s %s", s->date, s->currency);
	assert_int_equal(member_int(row, "documents"), s->documents);
	assert_int_equal(member_int(row, "lines"), s->lines);
	assert_int_equal(member_minor(row, "taxableBase"), s->taxable);
	assert_int_equal(member_minor(row, "exemptBase"), s->exempt);
	assert_int_equal(member_minor(row, "notSubjectBase"), s->not_subject);
	assert_int_equal(member_minor(row, "documentDiscount"), s->discount - s->line_discount);
	assert_int_equal(member_minor(row, "netSales"), s->subtotal - s->discount);
	assert_int_equal(member_minor(row, "lineTax"), s->line_tax);
	assert_int_equal(member_minor(row, "taxAdjustment"), s->tax - s->line_tax);
	assert_int_equal(member_minor(row, "tax"), s->tax);
	rate13 = find_entry(json_object_get(row, "rates"), "taxRate", "13.00", NULL, NULL);
	if (s->taxable_13) {
		assert_non_null(rate13);
		assert_int_equal(member_minor(rate13, "taxableBase"), s->taxable_13);
	}
}

static void test_taxes_reconcile(void **state)
{
	struct expect by_date, all;
	struct api_resp *r;
	json_t *row, *rate;
	size_t i;

	(void)state;
	expected_from_documents(&by_date, &all);

	/* Default grouping: month. */
	r = report(rpt, "/api/reports/taxes?from=" FROM "&to=" TO);
	assert_string_equal(api_str(r, "data.report"), "taxes");
	assert_string_equal(api_str(r, "data.groupBy"), "month");
	assert_int_equal(json_array_size(api_path(r, "data.periods")), 2); /* 2025-03 USD and EUR */
	taxes_row_equals(find_entry(api_path(r, "data.periods"), "period", "2025-03", "currency", "USD"),
			 sums_for(&all, "", "USD"));
	taxes_row_equals(find_entry(api_path(r, "data.totals"), "currency", "USD", NULL, NULL),
			 sums_for(&all, "", "USD"));
	taxes_row_equals(find_entry(api_path(r, "data.totals"), "currency", "EUR", NULL, NULL),
			 sums_for(&all, "", "EUR"));
	/* Rates add up to the row; exempt and not-subject lines sit at 0. */
	row = find_entry(api_path(r, "data.totals"), "currency", "USD", NULL, NULL);
	{
		int64_t taxable = 0, exempt = 0, nosub = 0, tax = 0;
		json_array_foreach(json_object_get(row, "rates"), i, rate)
		{
			taxable += member_minor(rate, "taxableBase");
			exempt += member_minor(rate, "exemptBase");
			nosub += member_minor(rate, "notSubjectBase");
			tax += member_minor(rate, "tax");
			if (strcmp(member_str(rate, "taxRate"), "0.00") != 0) {
				assert_int_equal(member_minor(rate, "exemptBase"), 0);
				assert_int_equal(member_minor(rate, "notSubjectBase"), 0);
			}
		}
		assert_int_equal(taxable, member_minor(row, "taxableBase"));
		assert_int_equal(exempt, member_minor(row, "exemptBase"));
		assert_int_equal(nosub, member_minor(row, "notSubjectBase"));
		assert_int_equal(tax, member_minor(row, "lineTax"));
		assert_true(member_minor(row, "taxAdjustment") != 0); /* the override */
	}
	api_resp_free(r);

	/* By day: each day equals its documents. */
	r = report(rpt, "/api/reports/taxes?from=" FROM "&to=" TO "&groupBy=day");
	assert_int_equal(json_array_size(api_path(r, "data.periods")), by_date.n);
	for (size_t k = 0; k < by_date.n; k++)
		taxes_row_equals(find_entry(api_path(r, "data.periods"), "period", by_date.s[k].date, "currency",
					    by_date.s[k].currency),
				 &by_date.s[k]);
	api_resp_free(r);
}

static void test_taxes_csv(void **state)
{
	struct expect by_date, all;
	struct csv_table t;
	bool saw_total = false;

	(void)state;
	expected_from_documents(&by_date, &all);
	report_csv("/api/reports/taxes?from=" FROM "&to=" TO "&format=csv&groupBy=week", &t, "taxes_" FROM "_" TO);
	assert_int_equal(t.ncols[0], 15);
	for (size_t i = 1; i < t.nrows; i++) {
		const struct sums *s;

		if (strcmp(csv_get(&t, i, "period"), "TOTAL") != 0 || strcmp(csv_get(&t, i, "taxRate"), "ALL") != 0)
			continue;
		s = sums_for(&all, "", csv_get(&t, i, "currency"));
		assert_int_equal(atoll(csv_get(&t, i, "documents")), s->documents);
		assert_int_equal(atoll(csv_get(&t, i, "lines")), s->lines);
		assert_int_equal(text_minor(csv_get(&t, i, "taxableBase"), 2), s->taxable);
		assert_int_equal(text_minor(csv_get(&t, i, "exemptBase"), 2), s->exempt);
		assert_int_equal(text_minor(csv_get(&t, i, "notSubjectBase"), 2), s->not_subject);
		assert_int_equal(text_minor(csv_get(&t, i, "documentDiscount"), 2), s->discount - s->line_discount);
		assert_int_equal(text_minor(csv_get(&t, i, "netSales"), 2), s->subtotal - s->discount);
		assert_int_equal(text_minor(csv_get(&t, i, "lineTax"), 2), s->line_tax);
		assert_int_equal(text_minor(csv_get(&t, i, "tax"), 2), s->tax);
		saw_total = true;
	}
	assert_true(saw_total);
	csv_free(&t);
}

/* ---- payments ---- */

/* A signed payment-gateway webhook (X-Webhook-Signature); expect 200. */
static void webhook(const char *kind, const char *body)
{
	char t[24], sig[2 * SHA256_LEN + 1], header[160], *msg;
	const char *hdrs[2];
	struct api_resp *r;

	snprintf(t, sizeof(t), "%lld", (long long)time(NULL));
	msg = xasprintf("%s.%s", t, body);
	crypto_hmac_sha256_hex(WEBHOOK_SECRET, strlen(WEBHOOK_SECRET), msg, strlen(msg), sig);
	free(msg);
	snprintf(header, sizeof(header), "X-Webhook-Signature: t=%s,v1=%s", t, sig);
	hdrs[0] = header;
	hdrs[1] = NULL;
	r = api_reqv("POST", pathf("/api/v1/webhooks/%s", kind), NULL, body, hdrs);
	assert_status(r, 200);
	api_resp_free(r);
}

static void pay_confirmed(const char *invoice_id, const char *payment_id, const char *amount, const char *method)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"invoiceId\":\"%s\",\"paymentId\":\"%s\",\"amount\":\"%s\",\"paymentMethod\":\"%s\","
		 "\"paymentGatewayReference\":\"PAY-%s\"}",
		 invoice_id, payment_id, amount, method, payment_id);
	webhook("payment-confirmed", body);
}

static void pay_failed(const char *invoice_id, const char *payment_id, const char *method)
{
	char body[512];

	snprintf(
	    body, sizeof(body),
	    "{\"invoiceId\":\"%s\",\"paymentId\":\"%s\",\"reason\":\"insufficient funds\",\"paymentMethod\":\"%s\"}",
	    invoice_id, payment_id, method);
	webhook("payment-failed", body);
}

/* Today in zone tz shifted by `days`, into out[11]. */
static void local_day(const char *tz, int days, char out[DATE_LEN + 1])
{
	char today[DATE_LEN + 1], hms[9];
	struct err e;

	err_clear(&e);
	assert_int_equal(tz_local(tz, time_now_s(), today, hms, &e), 0);
	date_add_days(today, days, out);
}

/* Cells of the payments of invoices[]: (method, status) -> count, amount. */
struct pay_expect {
	char method[32], status[16];
	long long count;
	int64_t amount;
};

static void add_cell(struct pay_expect *cells, size_t *n, const char *method, const char *status, int64_t amount)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(cells[i].method, method) == 0 && strcmp(cells[i].status, status) == 0) {
			cells[i].count++;
			cells[i].amount += amount;
			return;
		}
	assert_true(*n < 32);
	snprintf(cells[*n].method, sizeof(cells[*n].method), "%s", method);
	snprintf(cells[*n].status, sizeof(cells[*n].status), "%s", status);
	cells[*n].count = 1;
	cells[*n].amount = amount;
	(*n)++;
}

static void test_payments_reconcile(void **state)
{
	struct pay_expect pays[32];
	size_t npays = 0;
	int64_t collected = 0, refunded = 0, paid = 0;
	char from[DATE_LEN + 1], to[DATE_LEN + 1], id[64];
	struct api_resp *r;
	json_t *row, *cell;
	size_t i;

	(void)state;
	/* Payments on a dozen invoices: full, partial, several per invoice, a failure. */
	for (size_t k = 0; k < 12; k++) {
		struct api_resp *d = api_req("GET", pathf("/api/v1/invoices/%s", doc_ids[k]), rpt, NULL, NULL);
		int64_t total = member_minor(api_path(d, "data"), "totalAmount");
		char amount[32];
		int scale = 2;

		assert_status(d, 200);
		api_resp_free(d);
		snprintf(id, sizeof(id), "rpt-pay-%zu-a", k);
		money_format(k % 3 == 0 ? total : total / 2, scale, amount, sizeof(amount));
		pay_confirmed(doc_ids[k], id, amount, k % 2 ? "zain_cash" : "cash");
		if (k % 4 == 1) {
			snprintf(id, sizeof(id), "rpt-pay-%zu-b", k);
			money_format(total - total / 2, scale, amount, sizeof(amount));
			pay_confirmed(doc_ids[k], id, amount, "card");
		}
		if (k == 5) {
			snprintf(id, sizeof(id), "rpt-pay-%zu-f", k);
			pay_failed(doc_ids[k], id, "card");
		}
	}
	/* A replayed webhook changes nothing. */
	{
		struct api_resp *d = api_req("GET", pathf("/api/v1/invoices/%s", doc_ids[0]), rpt, NULL, NULL);
		char amount[32];
		money_format(member_minor(api_path(d, "data"), "totalAmount"), 2, amount, sizeof(amount));
		api_resp_free(d);
		pay_confirmed(doc_ids[0], "rpt-pay-0-a", amount, "cash");
	}

	/* What the invoices say. */
	for (size_t k = 0; k < ndocs; k++) {
		struct api_resp *d = api_req("GET", pathf("/api/v1/invoices/%s", doc_ids[k]), rpt, NULL, NULL);
		json_t *p;
		size_t j;

		assert_status(d, 200);
		if (strcmp(api_str(d, "data.currency"), "USD") == 0) {
			paid += member_minor(api_path(d, "data"), "paidAmount");
			json_array_foreach(api_path(d, "data.payments"), j, p)
			{
				const char *st = member_str(p, "status");
				add_cell(pays, &npays, member_str(p, "paymentMethod"), st, member_minor(p, "amount"));
				if (strcmp(st, "confirmed") == 0 || strcmp(st, "refunded") == 0)
					collected += member_minor(p, "amount");
			}
			json_array_foreach(api_path(d, "data.refunds"), j, p)
			{
				if (strcmp(member_str(p, "status"), "succeeded") == 0)
					refunded += member_minor(p, "amount");
			}
		}
		api_resp_free(d);
	}
	assert_true(npays >= 3);
	assert_true(collected > 0);

	/* Today (tenant's zone) is inside [from, to] however long the test ran. */
	local_day("America/El_Salvador", -2, from);
	local_day("America/El_Salvador", 1, to);
	r = report(rpt, pathf("/api/reports/payments?from=%s&to=%s&currency=USD", from, to));
	assert_string_equal(api_str(r, "data.report"), "payments");
	assert_string_equal(api_str(r, "data.basis"), "cash");
	row = find_entry(api_path(r, "data.totals"), "currency", "USD", NULL, NULL);
	assert_non_null(row);
	assert_int_equal(member_minor(row, "netCollected"), paid);
	assert_int_equal(member_minor(row, "netCollected"), collected - refunded);
	assert_int_equal(minor_of(api_path(r, "data.totals.0.collected.amount"), 2), collected);
	assert_int_equal(minor_of(api_path(r, "data.totals.0.refunded.amount"), 2), refunded);
	assert_int_equal(json_array_size(json_object_get(row, "payments")), npays);
	for (size_t k = 0; k < npays; k++) {
		cell = find_entry(json_object_get(row, "payments"), "method", pays[k].method, "status", pays[k].status);
		assert_non_null(cell);
		assert_int_equal(member_int(cell, "count"), pays[k].count);
		assert_int_equal(member_minor(cell, "amount"), pays[k].amount);
	}
	assert_non_null(find_entry(json_object_get(row, "payments"), "method", "mobile_money", "status", "confirmed"));
	assert_non_null(find_entry(json_object_get(row, "payments"), "status", "failed", NULL, NULL));
	/* The periods add up to the totals. */
	{
		int64_t net = 0;
		json_array_foreach(api_path(r, "data.periods"), i, cell)
		{
			net += member_minor(cell, "netCollected");
		}
		assert_int_equal(net, paid);
	}
	api_resp_free(r);

	/* CSV: the same figures. */
	{
		struct csv_table t;
		bool saw_net = false;

		report_csv(pathf("/api/reports/payments?from=%s&to=%s&format=csv&groupBy=week", from, to), &t,
			   "payments_");
		assert_int_equal(t.ncols[0], 9);
		for (size_t k = 1; k < t.nrows; k++) {
			if (strcmp(csv_get(&t, k, "period"), "TOTAL") != 0 || strcmp(csv_get(&t, k, "currency"), "USD"))
				continue;
			if (strcmp(csv_get(&t, k, "type"), "net_collected") == 0) {
				assert_int_equal(text_minor(csv_get(&t, k, "amount"), 2), paid);
				assert_string_equal(csv_get(&t, k, "count"), "");
				saw_net = true;
			} else if (strcmp(csv_get(&t, k, "type"), "collected") == 0) {
				assert_int_equal(text_minor(csv_get(&t, k, "amount"), 2), collected);
			}
		}
		assert_true(saw_net);
		csv_free(&t);
	}
}

/* ---- orders (clinic contract), desk payments and refunds ---- */

/* The invoice's balance as a decimal string. */
static void balance_text(const char *token, const char *id, bool half, char out[32])
{
	struct api_resp *r = api_req("GET", pathf("/api/v1/invoices/%s", id), token, NULL, NULL);
	int64_t balance;

	assert_status(r, 200);
	balance = member_minor(api_path(r, "data"), "balanceDue");
	api_resp_free(r);
	money_format(half ? balance / 2 : balance, 2, out, 32);
}

/* Orders of tenant "rpto" (El Salvador: prices include IVA), dated today in
 * the tenant's zone, paid at the desk with several methods, partly and
 * fully refunded, one cancelled: every report equals the documents. */
static void test_orders_payments_refunds(void **state)
{
	static const char *const methods[] = {"cash", "card_present", "mobile_money", "bank_transfer"};
	char *o = api_user_token("rpto", "admin", NULL), *svc[3], *patient, *ids[8], *pay[6];
	char body[1024], amount[32], from[DATE_LEN + 1], to[DATE_LEN + 1], q[128];
	struct expect all, by_date;
	struct pay_expect pays[32], refs[32];
	size_t npays = 0, nrefs = 0;
	int64_t collected = 0, refunded = 0;
	struct api_resp *r;
	json_t *row, *cell;

	(void)state;
	svc[0] = post_id("/api/services", o,
			 "{\"code\":\"O-CONS\",\"name\":\"Consulta\",\"category\":\"Consultas\",\"price\":\"35.00\"}");
	svc[1] = post_id("/api/services", o,
			 "{\"code\":\"O-LAB\",\"name\":\"Glucosa\",\"category\":\"Laboratorio\",\"price\":\"12.50\","
			 "\"taxTreatment\":\"exempt\"}");
	svc[2] = post_id("/api/services", o,
			 "{\"code\":\"O-NS\",\"name\":\"Cuota\",\"category\":\"Otros\",\"price\":\"4.00\","
			 "\"taxTreatment\":\"not_subject\"}");
	patient = post_id("/api/patients", o, "{\"firstName\":\"Olga\",\"lastName\":\"Ordenes\"}");
	for (int k = 0; k < 8; k++) {
		snprintf(body, sizeof(body),
			 "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"%s\"%s},"
			 "{\"serviceId\":\"%s\",\"quantity\":\"%s\"%s},{\"serviceId\":\"%s\"}]}",
			 patient, svc[0], k % 3 == 0 ? "2" : "1.5", k % 2 ? ",\"discountPercent\":\"10\"" : "", svc[1],
			 k % 4 == 1 ? "0.333" : "1", k % 3 == 2 ? ",\"discountAmount\":\"1.00\"" : "", svc[2]);
		ids[k] = post_id("/api/orders", o, body);
	}
	r = api_req("DELETE", pathf("/api/orders/%s", ids[7]), o, "{\"reason\":\"patient left\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);

	/* Desk payments: half or all of the balance, four methods. */
	for (int k = 0; k < 6; k++) {
		balance_text(o, ids[k], k % 2 == 0, amount);
		snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"method\":\"%s\",\"amount\":\"%s\"%s}", ids[k],
			 methods[k % 4], amount, k % 4 == 2 ? ",\"methodDetail\":\"zain_cash\"" : "");
		pay[k] = post_id("/api/payments", o, body);
	}
	/* A second payment completes order 0. */
	balance_text(o, ids[0], false, amount);
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"method\":\"card_present\",\"amount\":\"%s\"}", ids[0],
		 amount);
	free(post_id("/api/payments", o, body));
	/* Refunds: part of one payment, all of another (that order becomes refunded). */
	free(post_id(pathf("/api/payments/%s/refund", pay[0]), o, "{\"amount\":\"1.00\",\"reason\":\"overcharged\"}"));
	free(post_id(pathf("/api/payments/%s/refund", pay[1]), o, "{\"reason\":\"service not given\"}"));

	/* What the documents say. */
	memset(&all, 0, sizeof(all));
	memset(&by_date, 0, sizeof(by_date));
	for (int k = 0; k < 7; k++) {
		json_t *p, *f;
		size_t j, m;

		r = api_req("GET", pathf("/api/v1/invoices/%s", ids[k]), o, NULL, NULL);
		assert_status(r, 200);
		assert_string_equal(api_str(r, "data.source"), "order");
		assert_true(json_is_true(api_path(r, "data.pricesIncludeTax")));
		add_doc(sums_for(&all, "", api_str(r, "data.currency")), r);
		add_doc(sums_for(&by_date, api_str(r, "data.invoiceDate"), api_str(r, "data.currency")), r);
		json_array_foreach(api_path(r, "data.payments"), j, p)
		{
			const char *st = member_str(p, "status");
			add_cell(pays, &npays, member_str(p, "paymentMethod"), st, member_minor(p, "amount"));
			if (strcmp(st, "confirmed") == 0 || strcmp(st, "refunded") == 0)
				collected += member_minor(p, "amount");
		}
		json_array_foreach(api_path(r, "data.refunds"), j, f)
		{
			const char *method = "";
			json_array_foreach(api_path(r, "data.payments"), m, p)
			{
				if (strcmp(member_str(p, "id"), member_str(f, "paymentId")) == 0)
					method = member_str(p, "paymentMethod");
			}
			add_cell(refs, &nrefs, method, member_str(f, "status"), member_minor(f, "amount"));
			if (strcmp(member_str(f, "status"), "succeeded") == 0)
				refunded += member_minor(f, "amount");
		}
		if (k == 1)
			assert_string_equal(api_str(r, "data.status"), "refunded");
		api_resp_free(r);
	}
	assert_int_equal(all.n, 1);
	assert_int_equal(nrefs, 2);
	assert_true(refunded > 100);

	local_day("America/El_Salvador", -1, from);
	local_day("America/El_Salvador", 1, to);
	snprintf(q, sizeof(q), "from=%s&to=%s", from, to);

	/* Revenue: the 7 issued orders (the refunded one included), by day and in total. */
	r = report(o, pathf("/api/reports/revenue?%s&by=category", q));
	revenue_row_equals(api_path(r, "data.totals.0"), sums_for(&all, "", "USD"));
	for (size_t k = 0; k < by_date.n; k++)
		revenue_row_equals(
		    find_entry(api_path(r, "data.periods"), "period", by_date.s[k].date, "currency", "USD"),
		    &by_date.s[k]);
	items_add_up(api_path(r, "data.totals.0"));
	assert_non_null(find_entry(api_path(r, "data.totals.0.breakdown"), "key", "Laboratorio", NULL, NULL));
	api_resp_free(r);

	/* Taxes: IVA inside the prices, reported on the base. */
	r = report(o, pathf("/api/reports/taxes?%s", q));
	taxes_row_equals(api_path(r, "data.totals.0"), sums_for(&all, "", "USD"));
	assert_true(member_minor(api_path(r, "data.totals.0"), "taxableBase") > 0);
	assert_true(member_minor(api_path(r, "data.totals.0"), "exemptBase") > 0);
	assert_true(member_minor(api_path(r, "data.totals.0"), "notSubjectBase") > 0);
	api_resp_free(r);

	/* Payments: net collected = the orders' paid amounts; refunds by the payment's method. */
	r = report(o, pathf("/api/reports/payments?%s", q));
	row = api_path(r, "data.totals.0");
	assert_int_equal(member_minor(row, "netCollected"), sums_for(&all, "", "USD")->paid);
	assert_int_equal(member_minor(row, "netCollected"), collected - refunded);
	assert_int_equal(minor_of(api_path(r, "data.totals.0.refunded.amount"), 2), refunded);
	assert_int_equal(api_int(r, "data.totals.0.refunded.count"), 2);
	assert_int_equal(json_array_size(json_object_get(row, "payments")), npays);
	for (size_t k = 0; k < npays; k++) {
		cell = find_entry(json_object_get(row, "payments"), "method", pays[k].method, "status", pays[k].status);
		assert_non_null(cell);
		assert_int_equal(member_int(cell, "count"), pays[k].count);
		assert_int_equal(member_minor(cell, "amount"), pays[k].amount);
	}
	assert_non_null(find_entry(json_object_get(row, "payments"), "status", "refunded", NULL, NULL));
	assert_int_equal(json_array_size(json_object_get(row, "refunds")), nrefs);
	for (size_t k = 0; k < nrefs; k++) {
		cell = find_entry(json_object_get(row, "refunds"), "method", refs[k].method, "status", refs[k].status);
		assert_non_null(cell);
		assert_int_equal(member_int(cell, "count"), refs[k].count);
		assert_int_equal(member_minor(cell, "amount"), refs[k].amount);
	}
	api_resp_free(r);

	/* The same in CSV. */
	{
		struct csv_table t;
		int64_t refund_rows = 0;
		bool saw_net = false;

		r = api_req("GET", pathf("/api/reports/payments?%s&format=csv", q), o, NULL, NULL);
		assert_status(r, 200);
		csv_parse(r->body, &t);
		api_resp_free(r);
		for (size_t k = 1; k < t.nrows; k++) {
			if (strcmp(csv_get(&t, k, "period"), "TOTAL") != 0)
				continue;
			if (strcmp(csv_get(&t, k, "type"), "refund") == 0 &&
			    strcmp(csv_get(&t, k, "status"), "succeeded") == 0)
				refund_rows += text_minor(csv_get(&t, k, "amount"), 2);
			if (strcmp(csv_get(&t, k, "type"), "net_collected") == 0) {
				assert_int_equal(text_minor(csv_get(&t, k, "amount"), 2),
						 sums_for(&all, "", "USD")->paid);
				saw_net = true;
			}
		}
		assert_int_equal(refund_rows, refunded);
		assert_true(saw_net);
		csv_free(&t);
	}

	for (int k = 0; k < 8; k++)
		free(ids[k]);
	for (int k = 0; k < 6; k++)
		free(pay[k]);
	for (int k = 0; k < 3; k++)
		free(svc[k]);
	free(patient);
	free(o);
}

/* ---- local midnight ---- */

static int64_t tenant_payments(const char *token, const char *query, const char *period, const char *status,
			       long long *count)
{
	struct api_resp *r = report(token, pathf("/api/reports/payments?%s", query));
	json_t *row = find_entry(api_path(r, "data.periods"), "period", period, NULL, NULL), *cell;
	int64_t amount = 0;
	size_t i;

	*count = 0;
	if (row) {
		json_array_foreach(json_object_get(row, "payments"), i, cell)
		{
			if (strcmp(member_str(cell, "status"), status) == 0) {
				*count += member_int(cell, "count");
				amount += member_minor(cell, "amount");
			}
		}
	}
	api_resp_free(r);
	return amount;
}

static void set_zone(const char *token, const char *tz)
{
	char body[128];
	struct api_resp *r;

	snprintf(body, sizeof(body), "{\"timeZone\":\"%s\"}", tz);
	r = api_req("PUT", "/api/v1/tenant", token, body, NULL);
	assert_status(r, 200);
	api_resp_free(r);
}

static void test_local_midnight(void **state)
{
	char *z = api_user_token("rptz", "admin", NULL), *inv;
	const char *q = "from=2025-05-31&to=2025-06-02&groupBy=day";
	long long n;

	(void)state;
	inv = post_id(
	    "/api/v1/invoices", z,
	    "{\"invoiceDate\":\"2025-06-01\",\"lineItems\":[{\"itemName\":\"Consulta\",\"unitPrice\":\"100.00\","
	    "\"quantity\":1}]}");
	pay_confirmed(inv, "rptz-a", "30.00", "cash");
	pay_confirmed(inv, "rptz-b", "20.00", "cash");
	pay_failed(inv, "rptz-f", "card");
	/* Move the instants next to midnight in San Salvador (UTC-6). */
	api_sql_ok("UPDATE payments SET confirmed_at = '2025-06-01T05:59:59Z' WHERE gateway_payment_id = 'rptz-a'");
	api_sql_ok("UPDATE payments SET confirmed_at = '2025-06-01T06:00:00Z' WHERE gateway_payment_id = 'rptz-b'");
	api_sql_ok("UPDATE payments SET created_at = '2025-06-02T05:59:59.500Z' WHERE gateway_payment_id = 'rptz-f'");

	/* 05:59:59Z is 23:59:59 of May 31 locally; 06:00:00Z is June 1. */
	assert_int_equal(tenant_payments(z, q, "2025-05-31", "confirmed", &n), 3000);
	assert_int_equal(n, 1);
	assert_int_equal(tenant_payments(z, q, "2025-06-01", "confirmed", &n), 2000);
	assert_int_equal(n, 1);
	tenant_payments(z, q, "2025-06-01", "failed", &n);
	assert_int_equal(n, 1); /* 2025-06-02T05:59:59.5Z = June 1, 23:59:59.5 */
	tenant_payments(z, q, "2025-06-02", "failed", &n);
	assert_int_equal(n, 0);
	/* Ranges are local days too. */
	assert_int_equal(tenant_payments(z, "from=2025-06-01&to=2025-06-01", "2025-06-01", "confirmed", &n), 2000);

	/* Another zone, another bucketing: Tokyo (UTC+9). */
	set_zone(z, "Asia/Tokyo");
	assert_int_equal(tenant_payments(z, q, "2025-06-01", "confirmed", &n), 5000);
	assert_int_equal(n, 2);
	tenant_payments(z, q, "2025-06-02", "failed", &n);
	assert_int_equal(n, 1);
	{
		struct api_resp *r = report(z, pathf("/api/reports/payments?%s", q));
		assert_string_equal(api_str(r, "data.timeZone"), "Asia/Tokyo");
		api_resp_free(r);
	}

	/* Now: a zone whose local date differs from the UTC date at this hour;
	 * an invoice without invoiceDate is dated, and its payment counted, on
	 * the local day, not the UTC one. */
	{
		time_t now = time(NULL);
		struct tm tm;
		char utc_day[DATE_LEN + 1], local[DATE_LEN + 1], body[256];
		const char *tz;
		struct api_resp *r;
		char *doc;

		gmtime_r(&now, &tm);
		if (tm.tm_hour == 23 && tm.tm_min == 59) {
			sleep((unsigned)(61 - tm.tm_sec));
			now = time(NULL);
			gmtime_r(&now, &tm);
		}
		tz = tm.tm_hour >= 10 ? "Pacific/Kiritimati" : "Pacific/Pago_Pago"; /* UTC+14 / UTC-11 */
		set_zone(z, tz);
		doc = post_id("/api/v1/invoices", z,
			      "{\"lineItems\":[{\"itemName\":\"Curacion\",\"unitPrice\":\"7.77\",\"quantity\":1}]}");
		pay_confirmed(doc, "rptz-now", "7.77", "cash");
		r = api_req("GET", pathf("/api/v1/invoices/%s", doc), z, NULL, NULL);
		assert_status(r, 200);
		snprintf(local, sizeof(local), "%s", api_str(r, "data.invoiceDate"));
		api_resp_free(r);
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(utc_day, sizeof(utc_day), "%Y-%m-%d", &tm);
		assert_string_not_equal(local, utc_day);

		snprintf(body, sizeof(body), "from=%s&to=%s", local, local);
		r = report(z, pathf("/api/reports/revenue?%s", body));
		assert_int_equal(api_int(r, "data.totals.0.documents"), 1);
		assert_string_equal(api_str(r, "data.totals.0.total"), "7.77");
		api_resp_free(r);
		assert_int_equal(tenant_payments(z, body, local, "confirmed", &n), 777);

		snprintf(body, sizeof(body), "from=%s&to=%s", utc_day, utc_day);
		r = report(z, pathf("/api/reports/revenue?%s", body));
		assert_int_equal(api_int(r, "data.totals.0.documents"), 0);
		assert_string_equal(api_str(r, "data.totals.0.total"), "0.00");
		api_resp_free(r);
		assert_int_equal(tenant_payments(z, body, utc_day, "confirmed", &n), 0);
		free(doc);
	}
	free(inv);
	free(z);
}

/* ---- CSV safety ---- */

static void test_csv_formula_injection(void **state)
{
	char *z = api_user_token("rptcsv", "admin", NULL), *doc;
	struct api_resp *r;
	struct csv_table t;
	bool saw = false;

	(void)state;
	doc = post_id(
	    "/api/v1/invoices", z,
	    "{\"invoiceDate\":\"2025-07-04\",\"lineItems\":["
	    "{\"itemName\":\"=HYPERLINK(\\\"http://evil\\\",\\\"x\\\")\",\"itemCode\":\"+CMD\",\"unitPrice\":\"1\"},"
	    "{\"itemName\":\"-Descuento, especial\",\"itemCode\":\"@SUM\",\"unitPrice\":\"2\"},"
	    "{\"itemName\":\"Normal\",\"itemCode\":\"OK-1\",\"unitPrice\":\"3\"}]}");
	r = api_req("GET", "/api/reports/revenue?from=2025-07-04&to=2025-07-04&by=service&format=csv", z, NULL, NULL);
	assert_status(r, 200);
	/* Text cells a spreadsheet would evaluate start with an apostrophe. */
	assert_non_null(strstr(r->body, ",'+CMD,\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","));
	assert_non_null(strstr(r->body, ",'@SUM,\"'-Descuento, especial\","));
	assert_non_null(strstr(r->body, ",OK-1,Normal,"));
	/* Amounts stay numbers. */
	assert_null(strstr(r->body, "'6.00"));
	api_resp_free(r);

	r = api_req("GET", "/api/reports/revenue?from=2025-07-04&to=2025-07-04&by=service&format=csv", z, NULL, NULL);
	csv_parse(r->body, &t);
	for (size_t i = 1; i < t.nrows; i++)
		if (strcmp(t.cell[i][0], "TOTAL") == 0 &&
		    strcmp(t.cell[i][6], "'=HYPERLINK(\"http://evil\",\"x\")") == 0)
			saw = true;
	assert_true(saw);
	csv_free(&t);
	api_resp_free(r);
	free(doc);
	free(z);
}

/* ---- parameters ---- */

static void test_validation_errors(void **state)
{
	static const char *const reports[] = {"revenue", "payments", "taxes"};
	static const struct {
		const char *query, *field;
	} cases[] = {
	    {"from=2025-13-01", "from"},
	    {"from=yesterday", "from"},
	    {"from=2025-02-29&to=2025-03-10", "from"},
	    {"from=", "from"},
	    {"to=2025-02-30", "to"},
	    {"to=31-03-2025", "to"},
	    {"from=2025-03-10&to=2025-03-01", "from"},
	    {"from=2024-01-01&to=2025-01-01&groupBy=day", "to"},
	    {"from=2024-01-01&to=2025-01-01", "to"}, /* default groupBy day (taxes: below) */
	    {"from=2015-01-01&to=2025-01-10&groupBy=month", "to"},
	    {"groupBy=year", "groupBy"},
	    {"groupBy=DAY", "groupBy"},
	    {"currency=XXX", "currency"},
	    {"currency=US", "currency"},
	    {"facilityId=abc", "facilityId"},
	    {"format=xml", "format"},
	    {"format=csv&groupBy=hour", "groupBy"},
	};
	struct api_resp *r;

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			if (k == 2 && i == 8)
				continue; /* taxes group by month by default */
			r = api_req("GET", pathf("/api/reports/%s?%s", reports[k], cases[i].query), rpt, NULL, NULL);
			if (r->status != 400)
				fail_msg("%s?%s: HTTP %ld %s", reports[k], cases[i].query, r->status, r->body);
			api_expect_error(r, 400, "VALIDATION_ERROR", cases[i].field);
			api_resp_free(r);
		}
	}
	r = api_req("GET", "/api/reports/revenue?by=patient", rpt, NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "by");
	api_resp_free(r);
	r = api_req("GET", "/api/reports/revenue?by=", rpt, NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "by");
	api_resp_free(r);
	/* The error names the limit. */
	r = api_req("GET", "/api/reports/revenue?from=2024-01-01&to=2025-01-01", rpt, NULL, NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "366"));
	api_resp_free(r);

	/* The limits themselves are accepted. */
	r = report(rpt, "/api/reports/revenue?from=2024-01-01&to=2024-12-31&groupBy=day");
	api_resp_free(r);
	r = report(rpt, "/api/reports/taxes?from=2024-01-01&to=2025-01-01");
	api_resp_free(r);
	r = report(rpt, "/api/reports/payments?from=2016-01-01&to=2025-12-31&groupBy=week");
	api_resp_free(r);
	r = report(rpt, "/api/reports/revenue?from=2016-01-01&to=2025-12-31&groupBy=month&by=category");
	assert_int_equal(json_array_size(api_path(r, "data.periods")), 4); /* February, March, April USD; March EUR */
	api_resp_free(r);
}

/* Without from/to: the 30 days ending today in the tenant's zone. */
static void test_default_range(void **state)
{
	char from[DATE_LEN + 1], to[DATE_LEN + 1], to_after[DATE_LEN + 1];
	struct api_resp *r;

	(void)state;
	local_day("America/El_Salvador", 0, to);
	r = report(rpt, "/api/reports/payments");
	local_day("America/El_Salvador", 0, to_after);
	if (strcmp(api_str(r, "data.to"), to) != 0)
		assert_string_equal(api_str(r, "data.to"), to_after);
	date_add_days(api_str(r, "data.to"), -29, from);
	assert_string_equal(api_str(r, "data.from"), from);
	assert_string_equal(api_str(r, "data.groupBy"), "day");
	api_resp_free(r);
	r = report(rpt, "/api/reports/taxes?to=2025-03-31");
	assert_string_equal(api_str(r, "data.from"), "2025-03-02");
	assert_string_equal(api_str(r, "data.to"), "2025-03-31");
	assert_string_equal(api_str(r, "data.groupBy"), "month");
	api_resp_free(r);
}

/* ---- access ---- */

static void test_auth_and_roles(void **state)
{
	static const char *const paths[] = {"/api/reports/revenue", "/api/reports/payments", "/api/reports/taxes",
					    "/api/reports/revenue?format=csv"};
	char *doctor = api_user_token("rpt", "doctor", NULL), *recep = api_user_token("rpt", "receptionist", NULL);
	char *accountant = api_user_token("rpt", "accountant", NULL);
	char *billing = api_user_token("rpt", "billing_staff", NULL);
	struct api_resp *r;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		r = api_req("GET", paths[i], NULL, NULL, NULL);
		api_expect_error(r, 401, "UNAUTHORIZED", NULL);
		api_resp_free(r);
		r = api_req("GET", paths[i], "not-a-token", NULL, NULL);
		api_expect_error(r, 401, "UNAUTHORIZED", NULL);
		api_resp_free(r);
		r = api_req("GET", paths[i], doctor, NULL, NULL);
		api_expect_error(r, 403, "FORBIDDEN", NULL);
		api_resp_free(r);
		r = api_req("GET", paths[i], recep, NULL, NULL);
		api_expect_error(r, 403, "FORBIDDEN", NULL);
		api_resp_free(r);
		r = api_req("GET", paths[i], accountant, NULL, NULL);
		assert_status(r, 200);
		api_resp_free(r);
		r = api_req("GET", paths[i], billing, NULL, NULL);
		assert_status(r, 200);
		api_resp_free(r);
	}
	/* The accountant sees the same figures as the admin. */
	{
		struct api_resp *a = report(accountant, "/api/reports/revenue?from=" FROM "&to=" TO);
		struct api_resp *b = report(rpt, "/api/reports/revenue?from=" FROM "&to=" TO);
		char *ja = json_dumps(api_path(a, "data"), JSON_SORT_KEYS),
		     *jb = json_dumps(api_path(b, "data"), JSON_SORT_KEYS);
		assert_string_equal(ja, jb);
		free(ja);
		free(jb);
		api_resp_free(a);
		api_resp_free(b);
	}
	free(doctor);
	free(recep);
	free(accountant);
	free(billing);
}

/* Another tenant's reports are all zeros; demo's data never shows. */
static void test_tenant_isolation(void **state)
{
	char *other = api_user_token("other", "admin", NULL);
	struct api_resp *r;
	struct sums zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	r = report(other, "/api/reports/revenue?from=" FROM "&to=" TO "&by=service");
	assert_int_equal(json_array_size(api_path(r, "data.periods")), 0);
	assert_int_equal(json_array_size(api_path(r, "data.totals")), 1);
	assert_string_equal(api_str(r, "data.totals.0.currency"), "USD");
	revenue_row_equals(api_path(r, "data.totals.0"), &zero);
	assert_int_equal(json_array_size(api_path(r, "data.totals.0.breakdown")), 0);
	api_resp_free(r);

	r = report(other, "/api/reports/taxes?from=" FROM "&to=" TO "&currency=EUR");
	assert_int_equal(json_array_size(api_path(r, "data.periods")), 0);
	assert_string_equal(api_str(r, "data.totals.0.currency"), "EUR");
	assert_string_equal(api_str(r, "data.totals.0.tax"), "0.00");
	assert_string_equal(api_str(r, "data.totals.0.taxableBase"), "0.00");
	assert_int_equal(api_int(r, "data.totals.0.documents"), 0);
	api_resp_free(r);

	r = report(other, "/api/reports/payments?from=2020-01-01&to=2029-12-31&groupBy=month");
	assert_int_equal(json_array_size(api_path(r, "data.periods")), 0);
	assert_string_equal(api_str(r, "data.totals.0.netCollected"), "0.00");
	assert_int_equal(json_array_size(api_path(r, "data.totals.0.payments")), 0);
	api_resp_free(r);

	/* The CSV of an empty report: header and a zero TOTAL row. */
	r = api_req("GET", "/api/reports/revenue?from=" FROM "&to=" TO "&format=csv", other, NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(r->body,
			    "period,start,end,currency,documents,lines,subtotal,discount,net,tax,lateFees,total\r\n"
			    "TOTAL," FROM "," TO ",USD,0,0,0.00,0.00,0.00,0.00,0.00,0.00\r\n");
	api_resp_free(r);

	/* A facility filter with no documents is zero too. */
	r = report(rpt, "/api/reports/revenue?from=" FROM "&to=" TO "&facilityId=00000000-0000-4000-8000-000000000000");
	revenue_row_equals(api_path(r, "data.totals.0"), &zero);
	api_resp_free(r);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_revenue_reconciles_by_day),
	    cmocka_unit_test(test_revenue_week_and_month),
	    cmocka_unit_test(test_revenue_by_dimensions),
	    cmocka_unit_test(test_revenue_csv),
	    cmocka_unit_test(test_taxes_reconcile),
	    cmocka_unit_test(test_taxes_csv),
	    cmocka_unit_test(test_payments_reconcile),
	    cmocka_unit_test(test_orders_payments_refunds),
	    cmocka_unit_test(test_local_midnight),
	    cmocka_unit_test(test_csv_formula_injection),
	    cmocka_unit_test(test_validation_errors),
	    cmocka_unit_test(test_default_range),
	    cmocka_unit_test(test_auth_and_roles),
	    cmocka_unit_test(test_tenant_isolation),
	};
	return cmocka_run_group_tests_name("api_reports", tests, setup, teardown);
}
