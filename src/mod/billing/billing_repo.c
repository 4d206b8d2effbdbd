/*
 * billing_repo.c - all SQL of the billing module (migration 0008):
 * billing_documents, billing_lines, payments, refunds, plus the reads of
 * tenants, patients and sequences that creation needs. Every statement
 * filters by the caller's tenant, except the two documented cross-tenant
 * readers (the overdue job's candidates and the webhook's tenant lookup).
 * Rows are decoded into structs in the caller's arena; "" in a fixed-size
 * char member is NULL in the database and the other way round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mod/billing/billing_repo.h"

#define DOC_COLS                                                                                                       \
	"id, number, source, patient_id, facility_id, invoice_type, status, currency, minor_units, invoice_date, "     \
	"due_date, payment_terms, grace_period_days, late_fee_pct, late_fee_minor, late_fee_applied_at, "              \
	"prices_include_tax, subtotal_minor, discount_minor, doc_discount_minor, tax_minor, tax_override_minor, "      \
	"total_minor, paid_minor, refunded_minor, balance_minor, description, internal_notes, notes, external_ref, "   \
	"cancelled_at, cancel_reason, paid_at, created_by, created_at, updated_at, version, tax_doc_type"

#define LINE_COLS                                                                                                      \
	"id, line_number, service_id, item_type, item_name, item_code, procedure_code, description, "                  \
	"unit_of_measure, quantity_milli, unit_price_minor, discount_pct, discount_minor, tax_treatment, tax_pct, "    \
	"net_minor, tax_minor, total_minor, service_date, service_provider_id, diagnosis_codes"

#define PAY_COLS                                                                                                       \
	"id, document_id, method, method_detail, amount_minor, currency, status, refunded_minor, gateway, "            \
	"gateway_payment_id, gateway_reference, stripe_charge_id, card_brand, card_last4, receipt_url, "               \
	"failure_reason, confirmed_at, failed_at, created_by, created_at, updated_at"

#define REFUND_COLS                                                                                                    \
	"id, payment_id, document_id, amount_minor, reason, status, gateway_refund_id, created_by, created_at, "       \
	"updated_at"

static void copy_text(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* "" -> NULL for binding optional fixed-size members. */
static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

/* ---- tenant facts ---- */

int billing__tenant(struct db_conn *c, const char *tenant_id, char currency[4], char tz[64], struct err *e)
{
	struct db_rows *r = NULL;
	const struct db_param p[] = {DBP_TEXT(tenant_id)};
	int rc = db_query(c, "SELECT currency, time_zone FROM tenants WHERE id = ?", p, DB_NPARAMS(p), &r, e);

	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "tenant not found");
	} else {
		copy_text(currency, 4, db_rows_text(r, 0, 0));
		copy_text(tz, 64, db_rows_text(r, 0, 1));
	}
	db_rows_free(r);
	return rc;
}

int billing__patient_exists(struct db_conn *c, const char *tenant_id, const char *id, bool *exists, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	int64_t n = 0;
	int rc =
	    db_query_int(c, "SELECT COUNT(*) FROM patients WHERE tenant_id = ? AND id = ?", p, DB_NPARAMS(p), &n, e);

	*exists = rc == 0 && n > 0;
	return rc;
}

int billing__sequence_next(struct db_conn *c, const char *tenant_id, const char *name, int64_t *value, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(name)};

	return db_query_int(c,
			    "INSERT INTO sequences (tenant_id, name, next_value) VALUES (?, ?, 1) "
			    "ON CONFLICT (tenant_id, name) DO UPDATE SET next_value = sequences.next_value + 1 "
			    "RETURNING next_value",
			    p, DB_NPARAMS(p), value, e);
}

/* ---- documents ---- */

static void decode_doc(const struct db_rows *r, size_t i, struct arena *a, struct bill_document *d)
{
	int s;

	copy_text(d->id, sizeof(d->id), db_rows_text(r, i, 0));
	copy_text(d->number, sizeof(d->number), db_rows_text(r, i, 1));
	copy_text(d->source, sizeof(d->source), db_rows_text(r, i, 2));
	copy_text(d->patient_id, sizeof(d->patient_id), db_rows_text(r, i, 3));
	copy_text(d->facility_id, sizeof(d->facility_id), db_rows_text(r, i, 4));
	d->invoice_type = arena_strdup(a, db_rows_text(r, i, 5));
	s = billing_status_parse(db_rows_text(r, i, 6));
	d->status = s < 0 ? BILL_PENDING : (enum bill_status)s;
	copy_text(d->currency, sizeof(d->currency), db_rows_text(r, i, 7));
	d->minor_units = (int)db_rows_int(r, i, 8);
	copy_text(d->invoice_date, sizeof(d->invoice_date), db_rows_text(r, i, 9));
	copy_text(d->due_date, sizeof(d->due_date), db_rows_text(r, i, 10));
	d->payment_terms = arena_strdup(a, db_rows_text(r, i, 11));
	d->grace_period_days = (int)db_rows_int(r, i, 12);
	d->late_fee_pct = db_rows_int(r, i, 13);
	d->late_fee_minor = db_rows_int(r, i, 14);
	copy_text(d->late_fee_applied_at, sizeof(d->late_fee_applied_at), db_rows_text(r, i, 15));
	d->prices_include_tax = db_rows_int(r, i, 16) != 0;
	d->subtotal_minor = db_rows_int(r, i, 17);
	d->discount_minor = db_rows_int(r, i, 18);
	d->doc_discount_minor = db_rows_int(r, i, 19);
	d->tax_minor = db_rows_int(r, i, 20);
	d->has_tax_override = !db_rows_isnull(r, i, 21);
	d->tax_override_minor = db_rows_int(r, i, 21);
	d->total_minor = db_rows_int(r, i, 22);
	d->paid_minor = db_rows_int(r, i, 23);
	d->refunded_minor = db_rows_int(r, i, 24);
	d->balance_minor = db_rows_int(r, i, 25);
	d->description = arena_strdup(a, db_rows_text(r, i, 26));
	d->internal_notes = arena_strdup(a, db_rows_text(r, i, 27));
	d->notes = arena_strdup(a, db_rows_text(r, i, 28));
	d->external_ref = arena_strdup(a, db_rows_text(r, i, 29));
	copy_text(d->cancelled_at, sizeof(d->cancelled_at), db_rows_text(r, i, 30));
	d->cancel_reason = arena_strdup(a, db_rows_text(r, i, 31));
	copy_text(d->paid_at, sizeof(d->paid_at), db_rows_text(r, i, 32));
	copy_text(d->created_by, sizeof(d->created_by), db_rows_text(r, i, 33));
	copy_text(d->created_at, sizeof(d->created_at), db_rows_text(r, i, 34));
	copy_text(d->updated_at, sizeof(d->updated_at), db_rows_text(r, i, 35));
	d->version = db_rows_int(r, i, 36);
	copy_text(d->tax_doc_type, sizeof(d->tax_doc_type), db_rows_text(r, i, 37));
}

int billing__doc_insert(struct db_conn *c, const char *tenant_id, const struct bill_document *d, struct err *e)
{
	const struct db_param p[] = {
	    DBP_TEXT(d->id),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(d->number),
	    DBP_TEXT(d->source),
	    DBP_TEXT(nz(d->patient_id)),
	    DBP_TEXT(nz(d->facility_id)),
	    DBP_TEXT(d->invoice_type),
	    DBP_TEXT(billing_status_name(d->status)),
	    DBP_TEXT(d->currency),
	    DBP_INT(d->minor_units),
	    DBP_TEXT(d->invoice_date),
	    DBP_TEXT(nz(d->due_date)),
	    DBP_TEXT(d->payment_terms),
	    DBP_INT(d->grace_period_days),
	    DBP_INT(d->late_fee_pct),
	    DBP_INT(d->late_fee_minor),
	    DBP_TEXT(nz(d->late_fee_applied_at)),
	    DBP_INT(d->prices_include_tax ? 1 : 0),
	    DBP_INT(d->subtotal_minor),
	    DBP_INT(d->discount_minor),
	    DBP_INT(d->doc_discount_minor),
	    DBP_INT(d->tax_minor),
	    d->has_tax_override ? DBP_INT(d->tax_override_minor) : DBP_NULL,
	    DBP_INT(d->total_minor),
	    DBP_INT(d->paid_minor),
	    DBP_INT(d->refunded_minor),
	    DBP_INT(d->balance_minor),
	    DBP_TEXT(d->description),
	    DBP_TEXT(d->internal_notes),
	    DBP_TEXT(d->notes),
	    DBP_TEXT(d->external_ref),
	    DBP_TEXT(nz(d->cancelled_at)),
	    DBP_TEXT(d->cancel_reason),
	    DBP_TEXT(nz(d->paid_at)),
	    DBP_TEXT(nz(d->created_by)),
	    DBP_TEXT(d->created_at),
	    DBP_TEXT(d->updated_at),
	    DBP_INT(d->version),
	    DBP_TEXT(nz(d->tax_doc_type)),
	};

	return db_exec(
	    c,
	    "INSERT INTO billing_documents (id, tenant_id, number, source, patient_id, facility_id, "
	    "invoice_type, status, currency, minor_units, invoice_date, due_date, payment_terms, "
	    "grace_period_days, late_fee_pct, late_fee_minor, late_fee_applied_at, prices_include_tax, "
	    "subtotal_minor, discount_minor, doc_discount_minor, tax_minor, tax_override_minor, total_minor, "
	    "paid_minor, refunded_minor, balance_minor, description, internal_notes, notes, external_ref, "
	    "cancelled_at, cancel_reason, paid_at, created_by, created_at, updated_at, version, tax_doc_type) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?)",
	    p, DB_NPARAMS(p), NULL, e);
}

int billing__doc_update(struct db_conn *c, const char *tenant_id, struct bill_document *d, struct err *e)
{
	const struct db_param p[] = {
	    DBP_TEXT(nz(d->patient_id)),
	    DBP_TEXT(nz(d->facility_id)),
	    DBP_TEXT(d->invoice_type),
	    DBP_TEXT(billing_status_name(d->status)),
	    DBP_TEXT(nz(d->due_date)),
	    DBP_TEXT(d->payment_terms),
	    DBP_INT(d->grace_period_days),
	    DBP_INT(d->late_fee_pct),
	    DBP_INT(d->late_fee_minor),
	    DBP_TEXT(nz(d->late_fee_applied_at)),
	    DBP_INT(d->subtotal_minor),
	    DBP_INT(d->discount_minor),
	    DBP_INT(d->doc_discount_minor),
	    DBP_INT(d->tax_minor),
	    d->has_tax_override ? DBP_INT(d->tax_override_minor) : DBP_NULL,
	    DBP_INT(d->total_minor),
	    DBP_INT(d->paid_minor),
	    DBP_INT(d->refunded_minor),
	    DBP_INT(d->balance_minor),
	    DBP_TEXT(d->description),
	    DBP_TEXT(d->internal_notes),
	    DBP_TEXT(d->notes),
	    DBP_TEXT(d->external_ref),
	    DBP_TEXT(nz(d->cancelled_at)),
	    DBP_TEXT(d->cancel_reason),
	    DBP_TEXT(nz(d->paid_at)),
	    DBP_TEXT(d->updated_at),
	    DBP_TEXT(nz(d->tax_doc_type)),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(d->id),
	};
	int64_t affected = 0;
	int rc =
	    db_exec(c,
		    "UPDATE billing_documents SET patient_id = ?, facility_id = ?, invoice_type = ?, status = ?, "
		    "due_date = ?, payment_terms = ?, grace_period_days = ?, late_fee_pct = ?, late_fee_minor = ?, "
		    "late_fee_applied_at = ?, subtotal_minor = ?, discount_minor = ?, doc_discount_minor = ?, "
		    "tax_minor = ?, tax_override_minor = ?, total_minor = ?, paid_minor = ?, refunded_minor = ?, "
		    "balance_minor = ?, description = ?, internal_notes = ?, notes = ?, external_ref = ?, "
		    "cancelled_at = ?, cancel_reason = ?, paid_at = ?, updated_at = ?, tax_doc_type = ?, version = version + 1 "
		    "WHERE tenant_id = ? AND id = ?",
		    p, DB_NPARAMS(p), &affected, e);

	if (rc)
		return rc;
	if (affected == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	d->version++;
	return 0;
}

int billing__doc_lock(struct db_conn *c, const char *tenant_id, const char *id, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	int64_t affected = 0;
	int rc = db_exec(c, "UPDATE billing_documents SET version = version WHERE tenant_id = ? AND id = ?", p,
			 DB_NPARAMS(p), &affected, e);

	if (rc)
		return rc;
	if (affected == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	return 0;
}

int billing__doc_get(struct db_conn *c, const char *tenant_id, const char *id, bool by_ref, struct arena *a,
		     struct bill_document **out, struct err *e)
{
	struct db_rows *r = NULL;
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	int rc;

	*out = NULL;
	rc = db_query(c,
		      by_ref ? "SELECT " DOC_COLS " FROM billing_documents WHERE tenant_id = ? AND external_ref = ?"
			     : "SELECT " DOC_COLS " FROM billing_documents WHERE tenant_id = ? AND id = ?",
		      p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	} else {
		struct bill_document *d = arena_alloc(a, sizeof(*d));
		decode_doc(r, 0, a, d);
		*out = d;
	}
	db_rows_free(r);
	return rc;
}

int billing_document_tenant(struct db_conn *c, const char *id, char tenant_out[UUID_LEN + 1], struct err *e)
{
	struct db_rows *r = NULL;
	const struct db_param p[] = {DBP_TEXT(id)};
	int rc;

	tenant_out[0] = '\0';
	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	rc = db_query(c, "SELECT tenant_id FROM billing_documents WHERE id = ?", p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	else
		copy_text(tenant_out, UUID_LEN + 1, db_rows_text(r, 0, 0));
	db_rows_free(r);
	return rc;
}

static char *diagnoses_text(const struct bill_line *l)
{
	json_t *arr;
	char *s;

	if (l->n_diagnosis_codes == 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < l->n_diagnosis_codes; i++)
		json_array_append_new(arr, json_string(l->diagnosis_codes[i]));
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

int billing__lines_insert(struct db_conn *c, const char *tenant_id, const struct bill_document *d, struct err *e)
{
	for (size_t i = 0; i < d->nlines; i++) {
		const struct bill_line *l = &d->lines[i];
		char *diag = diagnoses_text(l);
		const struct db_param p[] = {
		    DBP_TEXT(l->id),
		    DBP_TEXT(tenant_id),
		    DBP_TEXT(d->id),
		    DBP_INT(l->line_number),
		    DBP_TEXT(nz(l->service_id)),
		    DBP_TEXT(l->item_type),
		    DBP_TEXT(l->item_name),
		    DBP_TEXT(l->item_code),
		    DBP_TEXT(l->procedure_code),
		    DBP_TEXT(l->description),
		    DBP_TEXT(l->unit_of_measure),
		    DBP_INT(l->quantity_milli),
		    DBP_INT(l->unit_price_minor),
		    DBP_INT(l->discount_pct),
		    DBP_INT(l->discount_minor),
		    DBP_TEXT(billing_tax_name(l->tax_treatment)),
		    DBP_INT(l->tax_pct),
		    DBP_INT(l->net_minor),
		    DBP_INT(l->tax_minor),
		    DBP_INT(l->total_minor),
		    DBP_TEXT(nz(l->service_date)),
		    DBP_TEXT(l->service_provider_id),
		    DBP_TEXT(diag),
		};
		int rc =
		    db_exec(c,
			    "INSERT INTO billing_lines (id, tenant_id, document_id, line_number, service_id, "
			    "item_type, item_name, item_code, procedure_code, description, unit_of_measure, "
			    "quantity_milli, unit_price_minor, discount_pct, discount_minor, tax_treatment, tax_pct, "
			    "net_minor, tax_minor, total_minor, service_date, service_provider_id, diagnosis_codes) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    p, DB_NPARAMS(p), NULL, e);
		free(diag);
		if (rc)
			return rc;
	}
	return 0;
}

int billing__lines_delete(struct db_conn *c, const char *tenant_id, const char *doc_id, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(doc_id)};

	return db_exec(c, "DELETE FROM billing_lines WHERE tenant_id = ? AND document_id = ?", p, DB_NPARAMS(p), NULL,
		       e);
}

static void decode_diagnoses(const char *text, struct arena *a, struct bill_line *l)
{
	json_t *arr;
	size_t n;

	l->diagnosis_codes = NULL;
	l->n_diagnosis_codes = 0;
	if (!text)
		return;
	arr = json_loads(text, 0, NULL);
	if (!json_is_array(arr) || (n = json_array_size(arr)) == 0) {
		json_decref(arr);
		return;
	}
	l->diagnosis_codes = arena_alloc(a, n * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (s)
			l->diagnosis_codes[l->n_diagnosis_codes++] = arena_strdup(a, s);
	}
	json_decref(arr);
}

static void decode_line(const struct db_rows *r, size_t i, struct arena *a, struct bill_line *l)
{
	int t;

	copy_text(l->id, sizeof(l->id), db_rows_text(r, i, 0));
	l->line_number = (int)db_rows_int(r, i, 1);
	copy_text(l->service_id, sizeof(l->service_id), db_rows_text(r, i, 2));
	l->item_type = arena_strdup(a, db_rows_text(r, i, 3));
	l->item_name = arena_strdup(a, db_rows_text(r, i, 4));
	l->item_code = arena_strdup(a, db_rows_text(r, i, 5));
	l->procedure_code = arena_strdup(a, db_rows_text(r, i, 6));
	l->description = arena_strdup(a, db_rows_text(r, i, 7));
	l->unit_of_measure = arena_strdup(a, db_rows_text(r, i, 8));
	l->quantity_milli = db_rows_int(r, i, 9);
	l->unit_price_minor = db_rows_int(r, i, 10);
	l->discount_pct = db_rows_int(r, i, 11);
	l->discount_minor = db_rows_int(r, i, 12);
	t = billing_tax_parse(db_rows_text(r, i, 13));
	l->tax_treatment = t < 0 ? BILL_TAX_TAXABLE : (enum bill_tax)t;
	l->tax_pct = db_rows_int(r, i, 14);
	l->net_minor = db_rows_int(r, i, 15);
	l->tax_minor = db_rows_int(r, i, 16);
	l->total_minor = db_rows_int(r, i, 17);
	copy_text(l->service_date, sizeof(l->service_date), db_rows_text(r, i, 18));
	l->service_provider_id = arena_strdup(a, db_rows_text(r, i, 19));
	decode_diagnoses(db_rows_text(r, i, 20), a, l);
	/* extended is not stored: net + discount (+ tax when prices include it) */
	l->extended_minor = l->total_minor - l->tax_minor + l->discount_minor;
}

int billing__lines_load(struct db_conn *c, const char *tenant_id, struct bill_document *d, struct arena *a,
			struct err *e)
{
	struct db_rows *r = NULL;
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(d->id)};
	size_t n;
	int rc = db_query(c,
			  "SELECT " LINE_COLS " FROM billing_lines WHERE tenant_id = ? AND document_id = ? "
			  "ORDER BY line_number",
			  p, DB_NPARAMS(p), &r, e);

	if (rc)
		return rc;
	n = db_rows_count(r);
	d->lines = n ? arena_alloc(a, n * sizeof(*d->lines)) : NULL;
	d->nlines = n;
	for (size_t i = 0; i < n; i++) {
		decode_line(r, i, a, &d->lines[i]);
		if (d->prices_include_tax)
			d->lines[i].extended_minor = d->lines[i].total_minor + d->lines[i].discount_minor;
	}
	db_rows_free(r);
	return 0;
}

static void decode_payment(const struct db_rows *r, size_t i, struct arena *a, struct bill_payment *p)
{
	int t;

	copy_text(p->id, sizeof(p->id), db_rows_text(r, i, 0));
	copy_text(p->document_id, sizeof(p->document_id), db_rows_text(r, i, 1));
	t = billing_pay_method_parse(db_rows_text(r, i, 2));
	p->method = t < 0 ? BILL_PAY_OTHER : (enum bill_pay_method)t;
	p->method_detail = arena_strdup(a, db_rows_text(r, i, 3));
	p->amount_minor = db_rows_int(r, i, 4);
	copy_text(p->currency, sizeof(p->currency), db_rows_text(r, i, 5));
	t = billing_pay_status_parse(db_rows_text(r, i, 6));
	p->status = t < 0 ? BILL_PAYMENT_PENDING : (enum bill_pay_status)t;
	p->refunded_minor = db_rows_int(r, i, 7);
	t = billing_gateway_parse(db_rows_text(r, i, 8));
	p->gateway = t < 0 ? BILL_GATEWAY_MANUAL : (enum bill_gateway)t;
	p->gateway_payment_id = arena_strdup(a, db_rows_text(r, i, 9));
	p->gateway_reference = arena_strdup(a, db_rows_text(r, i, 10));
	p->stripe_charge_id = arena_strdup(a, db_rows_text(r, i, 11));
	p->card_brand = arena_strdup(a, db_rows_text(r, i, 12));
	p->card_last4 = arena_strdup(a, db_rows_text(r, i, 13));
	p->receipt_url = arena_strdup(a, db_rows_text(r, i, 14));
	p->failure_reason = arena_strdup(a, db_rows_text(r, i, 15));
	copy_text(p->confirmed_at, sizeof(p->confirmed_at), db_rows_text(r, i, 16));
	copy_text(p->failed_at, sizeof(p->failed_at), db_rows_text(r, i, 17));
	copy_text(p->created_by, sizeof(p->created_by), db_rows_text(r, i, 18));
	copy_text(p->created_at, sizeof(p->created_at), db_rows_text(r, i, 19));
	copy_text(p->updated_at, sizeof(p->updated_at), db_rows_text(r, i, 20));
}

static void decode_refund(const struct db_rows *r, size_t i, struct arena *a, struct bill_refund *f)
{
	const char *s;

	copy_text(f->id, sizeof(f->id), db_rows_text(r, i, 0));
	copy_text(f->payment_id, sizeof(f->payment_id), db_rows_text(r, i, 1));
	copy_text(f->document_id, sizeof(f->document_id), db_rows_text(r, i, 2));
	f->amount_minor = db_rows_int(r, i, 3);
	f->reason = arena_strdup(a, db_rows_text(r, i, 4));
	s = db_rows_text(r, i, 5);
	f->status = s && strcmp(s, "succeeded") == 0 ? BILL_REFUND_SUCCEEDED
		    : s && strcmp(s, "failed") == 0  ? BILL_REFUND_FAILED
						     : BILL_REFUND_PENDING;
	f->gateway_refund_id = arena_strdup(a, db_rows_text(r, i, 6));
	copy_text(f->created_by, sizeof(f->created_by), db_rows_text(r, i, 7));
	copy_text(f->created_at, sizeof(f->created_at), db_rows_text(r, i, 8));
	copy_text(f->updated_at, sizeof(f->updated_at), db_rows_text(r, i, 9));
}

int billing__payments_load(struct db_conn *c, const char *tenant_id, struct bill_document *d, struct arena *a,
			   struct err *e)
{
	struct db_rows *r = NULL;
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(d->id)};
	size_t n;
	int rc = db_query(c,
			  "SELECT " PAY_COLS " FROM payments WHERE tenant_id = ? AND document_id = ? "
			  "ORDER BY created_at, id",
			  p, DB_NPARAMS(p), &r, e);

	if (rc)
		return rc;
	n = db_rows_count(r);
	d->payments = n ? arena_alloc(a, n * sizeof(*d->payments)) : NULL;
	d->npayments = n;
	for (size_t i = 0; i < n; i++)
		decode_payment(r, i, a, &d->payments[i]);
	db_rows_free(r);
	r = NULL;
	rc = db_query(c,
		      "SELECT " REFUND_COLS " FROM refunds WHERE tenant_id = ? AND document_id = ? "
		      "ORDER BY created_at, id",
		      p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	n = db_rows_count(r);
	d->refunds = n ? arena_alloc(a, n * sizeof(*d->refunds)) : NULL;
	d->nrefunds = n;
	for (size_t i = 0; i < n; i++)
		decode_refund(r, i, a, &d->refunds[i]);
	db_rows_free(r);
	return 0;
}

/* A WHERE clause under construction with its parameters. */
struct where {
	char sql[2048];
	size_t len;
	struct db_param p[32];
	size_t n;
};

static void where_add(struct where *w, const char *clause)
{
	w->len += (size_t)snprintf(w->sql + w->len, sizeof(w->sql) - w->len, " AND %s", clause);
}

static void where_text(struct where *w, const char *clause, const char *v)
{
	where_add(w, clause);
	w->p[w->n++] = DBP_TEXT(v);
}

static void where_int(struct where *w, const char *clause, int64_t v)
{
	where_add(w, clause);
	w->p[w->n++] = DBP_INT(v);
}

/* total in micro units of the major unit, whatever the document's scale */
#define TOTAL_MICRO                                                                                                    \
	"(total_minor * CASE minor_units WHEN 0 THEN 1000000 WHEN 1 THEN 100000 WHEN 2 THEN 10000 "                    \
	"WHEN 3 THEN 1000 ELSE 100 END)"

static void doc_where(struct where *w, const char *tenant_id, const struct bill_filter *f)
{
	memset(w, 0, sizeof(*w));
	w->len = (size_t)snprintf(w->sql, sizeof(w->sql), " WHERE tenant_id = ?");
	w->p[w->n++] = DBP_TEXT(tenant_id);
	if (f->source)
		where_text(w, "source = ?", f->source);
	if (f->patient_id)
		where_text(w, "patient_id = ?", f->patient_id);
	if (f->facility_id)
		where_text(w, "facility_id = ?", f->facility_id);
	if (f->status_mask) {
		char clause[256];
		size_t len = (size_t)snprintf(clause, sizeof(clause), "status IN (");
		int first = 1;

		for (int s = 0; s < BILL_STATUS_COUNT; s++) {
			if (!(f->status_mask & (1u << s)))
				continue;
			len += (size_t)snprintf(clause + len, sizeof(clause) - len, "%s?", first ? "" : ", ");
			first = 0;
			w->p[w->n++] = DBP_TEXT(billing_status_name((enum bill_status)s));
		}
		snprintf(clause + len, sizeof(clause) - len, ")");
		where_add(w, clause);
	}
	if (f->invoice_type)
		where_text(w, "invoice_type = ?", f->invoice_type);
	if (f->date_from)
		where_text(w, "invoice_date >= ?", f->date_from);
	if (f->date_to)
		where_text(w, "invoice_date <= ?", f->date_to);
	if (f->currency)
		where_text(w, "currency = ?", f->currency);
	if (f->number)
		where_text(w, "number = ?", f->number);
	if (f->number_prefix) {
		where_text(w, "substr(number, 1, length(CAST(? AS TEXT))) = ?", f->number_prefix);
		w->p[w->n++] = DBP_TEXT(f->number_prefix);
	}
	if (f->has_min_total)
		where_int(w, TOTAL_MICRO " >= ?", f->min_total_micro);
	if (f->has_max_total)
		where_int(w, TOTAL_MICRO " <= ?", f->max_total_micro);
}

int billing__doc_list(struct db_conn *c, const char *tenant_id, const struct bill_filter *f, int64_t offset, int limit,
		      struct arena *a, struct bill_document **out, size_t *n, int64_t *total, struct err *e)
{
	struct where *w = xcalloc(1, sizeof(*w));
	struct db_rows *r = NULL;
	char *sql = NULL;
	size_t count;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	doc_where(w, tenant_id, f);
	sql = xasprintf("SELECT COUNT(*) FROM billing_documents%s", w->sql);
	rc = db_query_int(c, sql, w->p, w->n, total, e);
	free(sql);
	sql = NULL;
	if (rc || *total == 0 || offset >= *total)
		goto out;
	w->p[w->n++] = DBP_INT(limit);
	w->p[w->n++] = DBP_INT(offset);
	sql = xasprintf("SELECT " DOC_COLS " FROM billing_documents%s "
			"ORDER BY invoice_date DESC, created_at DESC, number DESC LIMIT ? OFFSET ?",
			w->sql);
	rc = db_query(c, sql, w->p, w->n, &r, e);
	if (rc)
		goto out;
	count = db_rows_count(r);
	*out = count ? arena_alloc(a, count * sizeof(**out)) : NULL;
	for (size_t i = 0; i < count; i++)
		decode_doc(r, i, a, &(*out)[i]);
	*n = count;
out:
	db_rows_free(r);
	free(sql);
	free(w);
	return rc;
}

int billing__stats(struct db_conn *c, const char *tenant_id, const struct bill_stats_filter *f, const char *currency,
		   struct bill_stats *out, struct err *e)
{
	struct bill_filter df;
	struct where *w = xcalloc(1, sizeof(*w));
	struct db_rows *r = NULL;
	char *sql;
	int rc;

	memset(&df, 0, sizeof(df));
	df.source = f->source;
	df.facility_id = f->facility_id;
	df.date_from = f->date_from;
	df.date_to = f->date_to;
	df.currency = currency;
	doc_where(w, tenant_id, &df);
	sql = xasprintf("SELECT status, COUNT(*), SUM(total_minor), SUM(paid_minor), SUM(balance_minor) "
			"FROM billing_documents%s GROUP BY status",
			w->sql);
	rc = db_query(c, sql, w->p, w->n, &r, e);
	free(sql);
	free(w);
	if (rc)
		return rc;
	for (size_t i = 0; i < db_rows_count(r); i++) {
		int s = billing_status_parse(db_rows_text(r, i, 0));
		int64_t count = db_rows_int(r, i, 1);

		if (s < 0)
			continue;
		out->count[s] += count;
		if (s == BILL_DRAFT || s == BILL_CANCELLED)
			continue;
		out->total_invoices += count;
		out->total_amount_minor += db_rows_int(r, i, 2);
		out->total_paid_minor += db_rows_int(r, i, 3);
		if (s == BILL_PENDING || s == BILL_PARTIALLY_PAID || s == BILL_OVERDUE)
			out->total_outstanding_minor += db_rows_int(r, i, 4);
	}
	db_rows_free(r);
	return 0;
}

int billing__overdue_candidates(struct db_conn *c, const char *max_due, const char *after_tenant, const char *after_id,
				int limit, struct bill_overdue_candidate **out, size_t *n, struct err *e)
{
	struct db_rows *r = NULL;
	const struct db_param p[] = {DBP_TEXT(max_due), DBP_TEXT(after_tenant), DBP_TEXT(after_tenant),
				     DBP_TEXT(after_id), DBP_INT(limit)};
	size_t count;
	int rc;

	*out = NULL;
	*n = 0;
	rc = db_query(c,
		      "SELECT d.tenant_id, d.id, d.due_date, d.grace_period_days, t.time_zone "
		      "FROM billing_documents d JOIN tenants t ON t.id = d.tenant_id "
		      "WHERE d.status IN ('pending', 'partially_paid') AND d.due_date IS NOT NULL AND d.due_date <= ? "
		      "AND (d.tenant_id > ? OR (d.tenant_id = ? AND d.id > ?)) "
		      "ORDER BY d.tenant_id, d.id LIMIT ?",
		      p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	count = db_rows_count(r);
	*out = count ? xcalloc(count, sizeof(**out)) : NULL;
	for (size_t i = 0; i < count; i++) {
		struct bill_overdue_candidate *k = &(*out)[i];
		copy_text(k->tenant_id, sizeof(k->tenant_id), db_rows_text(r, i, 0));
		copy_text(k->id, sizeof(k->id), db_rows_text(r, i, 1));
		copy_text(k->due_date, sizeof(k->due_date), db_rows_text(r, i, 2));
		k->grace_period_days = (int)db_rows_int(r, i, 3);
		copy_text(k->time_zone, sizeof(k->time_zone), db_rows_text(r, i, 4));
	}
	*n = count;
	db_rows_free(r);
	return 0;
}

/* ---- payments and refunds ---- */

int billing__payment_insert(struct db_conn *c, const char *tenant_id, const struct bill_payment *p, struct err *e)
{
	const struct db_param q[] = {
	    DBP_TEXT(p->id),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(p->document_id),
	    DBP_TEXT(billing_pay_method_name(p->method)),
	    DBP_TEXT(p->method_detail),
	    DBP_INT(p->amount_minor),
	    DBP_TEXT(p->currency),
	    DBP_TEXT(billing_pay_status_name(p->status)),
	    DBP_INT(p->refunded_minor),
	    DBP_TEXT(billing_gateway_name(p->gateway)),
	    DBP_TEXT(p->gateway_payment_id),
	    DBP_TEXT(p->gateway_reference),
	    DBP_TEXT(p->stripe_charge_id),
	    DBP_TEXT(p->card_brand),
	    DBP_TEXT(p->card_last4),
	    DBP_TEXT(p->receipt_url),
	    DBP_TEXT(p->failure_reason),
	    DBP_TEXT(nz(p->confirmed_at)),
	    DBP_TEXT(nz(p->failed_at)),
	    DBP_TEXT(nz(p->created_by)),
	    DBP_TEXT(p->created_at),
	    DBP_TEXT(p->updated_at),
	};

	return db_exec(
	    c,
	    "INSERT INTO payments (id, tenant_id, document_id, method, method_detail, amount_minor, currency, "
	    "status, refunded_minor, gateway, gateway_payment_id, gateway_reference, stripe_charge_id, "
	    "card_brand, card_last4, receipt_url, failure_reason, confirmed_at, failed_at, created_by, "
	    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    q, DB_NPARAMS(q), NULL, e);
}

int billing__payment_update(struct db_conn *c, const char *tenant_id, const struct bill_payment *p, struct err *e)
{
	const struct db_param q[] = {
	    DBP_TEXT(p->method_detail),
	    DBP_INT(p->amount_minor),
	    DBP_TEXT(billing_pay_status_name(p->status)),
	    DBP_INT(p->refunded_minor),
	    DBP_TEXT(p->gateway_reference),
	    DBP_TEXT(p->stripe_charge_id),
	    DBP_TEXT(p->card_brand),
	    DBP_TEXT(p->card_last4),
	    DBP_TEXT(p->receipt_url),
	    DBP_TEXT(p->failure_reason),
	    DBP_TEXT(nz(p->confirmed_at)),
	    DBP_TEXT(nz(p->failed_at)),
	    DBP_TEXT(p->updated_at),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(p->id),
	};

	return db_exec(
	    c,
	    "UPDATE payments SET method_detail = ?, amount_minor = ?, status = ?, refunded_minor = ?, "
	    "gateway_reference = ?, stripe_charge_id = ?, card_brand = ?, card_last4 = ?, receipt_url = ?, "
	    "failure_reason = ?, confirmed_at = ?, failed_at = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
	    q, DB_NPARAMS(q), NULL, e);
}

int billing__payment_get(struct db_conn *c, const char *tenant_id, const char *key, int by, struct arena *a,
			 struct bill_payment **out, struct err *e)
{
	struct db_rows *r = NULL;
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(key)};
	int rc;

	*out = NULL;
	rc = db_query(c,
		      by ? "SELECT " PAY_COLS " FROM payments WHERE tenant_id = ? AND gateway_payment_id = ?"
			 : "SELECT " PAY_COLS " FROM payments WHERE tenant_id = ? AND id = ?",
		      p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "payment not found");
	} else {
		struct bill_payment *pay = arena_alloc(a, sizeof(*pay));
		decode_payment(r, 0, a, pay);
		*out = pay;
	}
	db_rows_free(r);
	return rc;
}

int billing__payment_list(struct db_conn *c, const char *tenant_id, const struct bill_payment_filter *f, int64_t offset,
			  int limit, struct arena *a, struct bill_payment **out, size_t *n, int64_t *total,
			  struct err *e)
{
	struct where *w = xcalloc(1, sizeof(*w));
	struct db_rows *r = NULL;
	char *sql = NULL, from_ts[TIME_ISO_LEN + 1], to_ts[TIME_ISO_LEN + 1];
	size_t count;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	w->len = (size_t)snprintf(w->sql, sizeof(w->sql), " WHERE tenant_id = ?");
	w->p[w->n++] = DBP_TEXT(tenant_id);
	if (f->document_id)
		where_text(w, "document_id = ?", f->document_id);
	if (f->status >= 0)
		where_text(w, "status = ?", billing_pay_status_name((enum bill_pay_status)f->status));
	if (f->method >= 0)
		where_text(w, "method = ?", billing_pay_method_name((enum bill_pay_method)f->method));
	if (f->date_from) {
		snprintf(from_ts, sizeof(from_ts), "%.10sT00:00:00Z", f->date_from);
		where_text(w, "created_at >= ?", from_ts);
	}
	if (f->date_to) {
		snprintf(to_ts, sizeof(to_ts), "%.10sT23:59:59Z", f->date_to);
		where_text(w, "created_at <= ?", to_ts);
	}
	sql = xasprintf("SELECT COUNT(*) FROM payments%s", w->sql);
	rc = db_query_int(c, sql, w->p, w->n, total, e);
	free(sql);
	sql = NULL;
	if (rc || *total == 0 || offset >= *total)
		goto out;
	w->p[w->n++] = DBP_INT(limit);
	w->p[w->n++] = DBP_INT(offset);
	sql =
	    xasprintf("SELECT " PAY_COLS " FROM payments%s ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", w->sql);
	rc = db_query(c, sql, w->p, w->n, &r, e);
	if (rc)
		goto out;
	count = db_rows_count(r);
	*out = count ? arena_alloc(a, count * sizeof(**out)) : NULL;
	for (size_t i = 0; i < count; i++)
		decode_payment(r, i, a, &(*out)[i]);
	*n = count;
out:
	db_rows_free(r);
	free(sql);
	free(w);
	return rc;
}

int billing__doc_money(struct db_conn *c, const char *tenant_id, const char *doc_id, int64_t *confirmed,
		       int64_t *refunded, int64_t *confirmed_open, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(doc_id)};
	int rc;

	rc = db_query_int(c,
			  "SELECT COALESCE(SUM(amount_minor), 0) FROM payments WHERE tenant_id = ? AND document_id = ? "
			  "AND status IN ('confirmed', 'refunded')",
			  p, DB_NPARAMS(p), confirmed, e);
	if (rc == 0)
		rc = db_query_int(c,
				  "SELECT COALESCE(SUM(amount_minor), 0) FROM refunds WHERE tenant_id = ? AND "
				  "document_id = ? AND status = 'succeeded'",
				  p, DB_NPARAMS(p), refunded, e);
	if (rc == 0)
		rc = db_query_int(c,
				  "SELECT COUNT(*) FROM payments WHERE tenant_id = ? AND document_id = ? AND "
				  "status = 'confirmed'",
				  p, DB_NPARAMS(p), confirmed_open, e);
	return rc;
}

int billing__refund_insert(struct db_conn *c, const char *tenant_id, const struct bill_refund *r,
			   const char *failure_reason, struct err *e)
{
	const struct db_param p[] = {
	    DBP_TEXT(r->id),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(r->payment_id),
	    DBP_TEXT(r->document_id),
	    DBP_INT(r->amount_minor),
	    DBP_TEXT(r->reason),
	    DBP_TEXT(billing_refund_status_name(r->status)),
	    DBP_TEXT(r->gateway_refund_id),
	    DBP_TEXT(failure_reason),
	    DBP_TEXT(nz(r->created_by)),
	    DBP_TEXT(r->created_at),
	    DBP_TEXT(r->updated_at),
	};

	return db_exec(c,
		       "INSERT INTO refunds (id, tenant_id, payment_id, document_id, amount_minor, reason, status, "
		       "gateway_refund_id, failure_reason, created_by, created_at, updated_at) "
		       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       p, DB_NPARAMS(p), NULL, e);
}

int billing__refund_update(struct db_conn *c, const char *tenant_id, const struct bill_refund *r,
			   const char *failure_reason, struct err *e)
{
	const struct db_param p[] = {
	    DBP_TEXT(billing_refund_status_name(r->status)),
	    DBP_TEXT(r->gateway_refund_id),
	    DBP_TEXT(failure_reason),
	    DBP_TEXT(r->updated_at),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(r->id),
	};

	return db_exec(c,
		       "UPDATE refunds SET status = ?, gateway_refund_id = ?, "
		       "failure_reason = COALESCE(?, failure_reason), updated_at = ? WHERE tenant_id = ? AND id = ?",
		       p, DB_NPARAMS(p), NULL, e);
}

int billing__refund_get(struct db_conn *c, const char *tenant_id, const char *key, int by, struct arena *a,
			struct bill_refund **out, struct err *e)
{
	struct db_rows *r = NULL;
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(key)};
	int rc;

	*out = NULL;
	rc = db_query(c,
		      by ? "SELECT " REFUND_COLS " FROM refunds WHERE tenant_id = ? AND gateway_refund_id = ?"
			 : "SELECT " REFUND_COLS " FROM refunds WHERE tenant_id = ? AND id = ?",
		      p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "refund not found");
	} else {
		struct bill_refund *f = arena_alloc(a, sizeof(*f));
		decode_refund(r, 0, a, f);
		*out = f;
	}
	db_rows_free(r);
	return rc;
}

int billing__refund_pending_sum(struct db_conn *c, const char *tenant_id, const char *payment_id, int64_t *sum,
				struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(payment_id)};

	return db_query_int(c,
			    "SELECT COALESCE(SUM(amount_minor), 0) FROM refunds WHERE tenant_id = ? AND payment_id = ? "
			    "AND status = 'pending'",
			    p, DB_NPARAMS(p), sum, e);
}

int billing__patient_totals(struct db_conn *c, const char *tenant_id, const char *patient_id, struct arena *a,
			    struct bill_currency_totals **out, size_t *n, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(patient_id)};
	struct db_rows *r = NULL;
	size_t count;
	int rc;

	*out = NULL;
	*n = 0;
	rc = db_query(c,
		      "SELECT currency, MAX(minor_units), COUNT(*), SUM(total_minor), SUM(paid_minor), "
		      "SUM(balance_minor) FROM billing_documents WHERE tenant_id = ? AND patient_id = ? "
		      "AND status NOT IN ('draft', 'cancelled') GROUP BY currency ORDER BY currency",
		      p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	count = db_rows_count(r);
	*out = count ? arena_alloc(a, count * sizeof(**out)) : NULL;
	for (size_t i = 0; i < count; i++) {
		struct bill_currency_totals *t = &(*out)[i];

		copy_text(t->currency, sizeof(t->currency), db_rows_text(r, i, 0));
		t->minor_units = (int)db_rows_int(r, i, 1);
		t->documents = db_rows_int(r, i, 2);
		t->billed_minor = db_rows_int(r, i, 3);
		t->paid_minor = db_rows_int(r, i, 4);
		t->balance_minor = db_rows_int(r, i, 5);
	}
	*n = count;
	db_rows_free(r);
	return 0;
}
