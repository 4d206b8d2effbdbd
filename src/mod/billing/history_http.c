/*
 * history_http.c - GET /api/patients/:id/billing-history (clinic contract
 * §4 "Track patient billing history"): one patient's billing documents of
 * every source (orders, invoices, ...), newest first, a page at a time,
 * with the patient's totals per currency over all of them.
 *
 * Totals count every document that is neither a draft nor cancelled:
 * billed = sum of totals, paid = sum of paid (confirmed payments less
 * succeeded refunds), balance = sum of balances. The patient must exist in
 * the caller's tenant (deactivated and anonymised patients too: their
 * financial records remain); otherwise 404.
 */
#include <string.h>

#include "app.h"
#include "core/money.h"
#include "http/handlers.h"
#include "mod/billing/billing.h"
#include "mod/billing/orders.h"
#include "mod/patients/patients.h"

#define HISTORY_PAGE_DEFAULT 20
#define HISTORY_PAGE_MAX     100

HANDLER(patients_http_billing_history)
{
	struct arena *a = ctx->req->arena;
	const char *raw = http_param(ctx->req, "id");
	struct bill_filter f;
	struct bill_document *docs = NULL;
	struct bill_currency_totals *tot = NULL;
	struct db_conn *c = NULL;
	struct patient p;
	size_t n = 0, ntot = 0;
	int64_t total = 0;
	int page, limit, rc;
	char *id;
	json_t *arr, *totals;

	if (!raw || !uuid_valid(raw))
		return err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
	id = arena_strdup(a, raw);
	for (char *s = id; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	rc = http_pagination(ctx->req, HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX, &page, &limit, e);
	if (rc)
		return rc;

	rc = db_acquire(ctx->app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	memset(&p, 0, sizeof(p));
	rc = patients_repo_get(c, &ctx->app->keys, ctx->who.tenant_id, id, a, &p, e);
	db_release(c);
	if (rc)
		return rc;

	memset(&f, 0, sizeof(f));
	f.patient_id = id;
	if ((rc = billing_list(ctx->app->db, ctx->who.tenant_id, &f, page, limit, 0, a, &docs, &n, &total, e)) ||
	    (rc = billing_patient_totals(ctx->app->db, ctx->who.tenant_id, id, a, &tot, &ntot, e)))
		return rc;

	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, orders_history_json(&docs[i]));
	totals = json_array();
	for (size_t i = 0; i < ntot; i++)
		json_array_append_new(totals,
				      json_pack("{s:s, s:I, s:o, s:o, s:o}", "currency", tot[i].currency, "documents",
						(json_int_t)tot[i].documents, "billed",
						money_json_string(tot[i].billed_minor, tot[i].minor_units), "paid",
						money_json_string(tot[i].paid_minor, tot[i].minor_units), "balance",
						money_json_string(tot[i].balance_minor, tot[i].minor_units)));
	resp->data = json_pack("{s:s, s:o, s:o}", "patientId", id, "documents", arr, "totals", totals);
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}
