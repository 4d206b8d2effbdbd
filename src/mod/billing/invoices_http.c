/*
 * invoices_http.c - the /api/v1/invoices routes of the billing-service
 * contract: JSON bodies and query strings into billing inputs, billing
 * documents into the contract's invoice JSON (amounts as JSON numbers,
 * money_json_number; camelCase members; statistics with the contract's
 * snake_case keys). Shape is checked here (jv_check); meaning (dates,
 * amounts in the currency's decimals, the state machine) in billing.c.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "http/handlers.h"
#include "mod/billing/billing.h"

#define INVOICES_PAGE_DEFAULT 50
#define INVOICES_PAGE_MAX     200

static const char *const new_statuses[] = {"draft", "pending", NULL};

static const struct jv_field create_fields[] = {
    {"patientId", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
    {"facilityId", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
    {"invoiceType", JV_STRING, JV_NULLABLE, 1, BILL_LABEL_MAX, NULL, 0},
    {"invoiceDate", JV_DATE, 0, 0, 0, NULL, 0},
    {"dueDate", JV_DATE, JV_NULLABLE, 0, 0, NULL, 0},
    {"paymentTerms", JV_STRING, JV_NULLABLE, 1, BILL_LABEL_MAX, NULL, 0},
    {"gracePeriodDays", JV_INT, 0, 0, BILL_GRACE_MAX, NULL, 0},
    {"lateFeePercentage", JV_DECIMAL, 0, 0, 0, NULL, PCT_SCALE},
    {"currency", JV_STRING, 0, 3, 3, NULL, 0},
    {"description", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
    {"internalNotes", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
    {"notes", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
    {"status", JV_STRING, 0, 1, 16, new_statuses, 0},
    {"pricesIncludeTax", JV_BOOL, 0, 0, 0, NULL, 0},
    {"externalRef", JV_STRING, JV_NULLABLE, 1, 128, NULL, 0},
    {"lineItems", JV_ARRAY, JV_REQUIRED, 1, BILL_MAX_LINES, NULL, 0},
};

static const struct jv_field line_fields[] = {
    {"serviceId", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
    {"itemType", JV_STRING, JV_NULLABLE, 1, BILL_LABEL_MAX, NULL, 0},
    {"itemName", JV_STRING, JV_NULLABLE, 1, BILL_LABEL_MAX, NULL, 0},
    {"itemCode", JV_STRING, JV_NULLABLE, 1, BILL_LABEL_MAX, NULL, 0},
    {"procedureCode", JV_STRING, JV_NULLABLE, 1, 32, NULL, 0},
    {"description", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
    {"unitOfMeasure", JV_STRING, JV_NULLABLE, 1, 64, NULL, 0},
    {"quantity", JV_DECIMAL, 0, 0, 0, NULL, QTY_SCALE},
    {"unitPrice", JV_DECIMAL, 0, 0, 0, NULL, BILL_IN_SCALE},
    {"discountPercent", JV_DECIMAL, 0, 0, 0, NULL, PCT_SCALE},
    {"discountAmount", JV_DECIMAL, 0, 0, 0, NULL, BILL_IN_SCALE},
    {"taxPercent", JV_DECIMAL, 0, 0, 0, NULL, PCT_SCALE},
    {"taxTreatment", JV_STRING, 0, 1, 16, NULL, 0},
    {"serviceDate", JV_DATE, JV_NULLABLE, 0, 0, NULL, 0},
    {"serviceProviderId", JV_STRING, JV_NULLABLE, 1, 64, NULL, 0},
    {"diagnosisCodes", JV_ARRAY, JV_NULLABLE, 0, BILL_MAX_DIAGNOSES, NULL, 0},
};

static const struct jv_field update_fields[] = {
    {"dueDate", JV_DATE, JV_NULLABLE, 0, 0, NULL, 0},
    {"taxAmount", JV_DECIMAL, JV_NULLABLE, 0, 0, NULL, BILL_IN_SCALE},
    {"discountAmount", JV_DECIMAL, 0, 0, 0, NULL, BILL_IN_SCALE},
    {"internalNotes", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
    {"paymentTerms", JV_STRING, JV_NULLABLE, 1, BILL_LABEL_MAX, NULL, 0},
    {"description", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
    {"notes", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
    {"gracePeriodDays", JV_INT, 0, 0, BILL_GRACE_MAX, NULL, 0},
    {"lateFeePercentage", JV_DECIMAL, 0, 0, 0, NULL, PCT_SCALE},
    {"status", JV_STRING, 0, 1, 32, NULL, 0},
    {"invoiceType", JV_STRING, JV_NULLABLE, 1, BILL_LABEL_MAX, NULL, 0},
    {"facilityId", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
    {"reason", JV_STRING, JV_NULLABLE, 0, BILL_REASON_MAX, NULL, 0},
};

static const struct jv_field cancel_fields[] = {
    {"reason", JV_STRING, JV_REQUIRED, 1, BILL_REASON_MAX, NULL, 0},
};

/* A decimal member already checked by jv_check, at scale. */
static int64_t dec(const json_t *obj, const char *name, int scale, int64_t def)
{
	const json_t *v = json_object_get(obj, name);
	struct err ignored;
	int64_t out = def;

	if (!v || json_is_null(v))
		return def;
	if (money_from_json(v, scale, &out, name, &ignored) != 0)
		return def;
	return out;
}

static bool present(const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);
	return v && !json_is_null(v);
}

/* lineItems (checked array) into line inputs in the request arena. */
static int lines_from_json(const json_t *arr, struct arena *a, struct bill_line_input **out, size_t *n, struct err *e)
{
	size_t count = json_array_size(arr);
	struct bill_line_input *lines = arena_alloc(a, (count ? count : 1) * sizeof(*lines));

	for (size_t i = 0; i < count; i++) {
		const json_t *o = json_array_get(arr, i);
		struct bill_line_input *l = &lines[i];
		char prefix[32];
		const json_t *diag;
		int rc;

		snprintf(prefix, sizeof(prefix), "lineItems[%zu].", i);
		if (!json_is_object(o))
			return err_set(e, ERR_INVALID, "lineItems", "lineItems[%zu] must be an object", i);
		rc = jv_check(o, line_fields, sizeof(line_fields) / sizeof(line_fields[0]), prefix, e);
		if (rc)
			return rc;
		l->service_id = jv_str(o, "serviceId");
		l->item_type = jv_str(o, "itemType");
		l->item_name = jv_str(o, "itemName");
		l->item_code = jv_str(o, "itemCode");
		l->procedure_code = jv_str(o, "procedureCode");
		l->description = jv_str(o, "description");
		l->unit_of_measure = jv_str(o, "unitOfMeasure");
		l->quantity_milli = dec(o, "quantity", QTY_SCALE, 1000);
		l->has_unit_price = present(o, "unitPrice");
		l->unit_price_micro = dec(o, "unitPrice", BILL_IN_SCALE, 0);
		l->has_discount_pct = present(o, "discountPercent");
		l->discount_pct = dec(o, "discountPercent", PCT_SCALE, 0);
		l->has_discount_amount = present(o, "discountAmount");
		l->discount_amount_micro = dec(o, "discountAmount", BILL_IN_SCALE, 0);
		l->has_tax_pct = present(o, "taxPercent");
		l->tax_pct = dec(o, "taxPercent", PCT_SCALE, 0);
		l->tax_treatment = jv_str(o, "taxTreatment");
		l->service_date = jv_str(o, "serviceDate");
		l->service_provider_id = jv_str(o, "serviceProviderId");
		diag = json_object_get(o, "diagnosisCodes");
		if (json_is_array(diag) && json_array_size(diag) > 0) {
			size_t nd = json_array_size(diag);
			const char **codes = arena_alloc(a, nd * sizeof(char *));
			for (size_t k = 0; k < nd; k++) {
				codes[k] = json_string_value(json_array_get(diag, k));
				if (!codes[k])
					return err_set(e, ERR_INVALID, "diagnosisCodes",
						       "lineItems[%zu].diagnosisCodes must be strings", i);
			}
			l->diagnosis_codes = codes;
			l->n_diagnosis_codes = nd;
		}
	}
	*out = lines;
	*n = count;
	return 0;
}

/* ---- rendering ---- */

static json_t *num(int64_t v, int scale)
{
	return money_json_number(v, scale);
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *quantity_json(int64_t milli)
{
	if (milli % 1000 == 0)
		return json_integer(milli / 1000);
	return money_json_number(milli, QTY_SCALE);
}

static json_t *line_json(const struct bill_line *l, int s)
{
	json_t *j = json_object(), *diag = json_array();

	for (size_t k = 0; k < l->n_diagnosis_codes; k++)
		json_array_append_new(diag, json_string(l->diagnosis_codes[k]));
	json_object_set_new(j, "id", json_string(l->id));
	json_object_set_new(j, "lineNumber", json_integer(l->line_number));
	json_object_set_new(j, "serviceId", str_or_null(l->service_id));
	json_object_set_new(j, "itemType", str_or_null(l->item_type));
	json_object_set_new(j, "itemName", str_or_null(l->item_name));
	json_object_set_new(j, "itemCode", str_or_null(l->item_code));
	json_object_set_new(j, "procedureCode", str_or_null(l->procedure_code));
	json_object_set_new(j, "description", str_or_null(l->description));
	json_object_set_new(j, "unitOfMeasure", str_or_null(l->unit_of_measure));
	json_object_set_new(j, "quantity", quantity_json(l->quantity_milli));
	json_object_set_new(j, "unitPrice", num(l->unit_price_minor, s));
	json_object_set_new(j, "discountPercent", num(l->discount_pct, PCT_SCALE));
	json_object_set_new(j, "discountAmount", num(l->discount_minor, s));
	json_object_set_new(j, "taxTreatment", json_string(billing_tax_name(l->tax_treatment)));
	json_object_set_new(j, "taxPercent", num(l->tax_pct, PCT_SCALE));
	json_object_set_new(j, "taxAmount", num(l->tax_minor, s));
	json_object_set_new(j, "netAmount", num(l->net_minor, s));
	json_object_set_new(j, "lineTotal", num(l->total_minor, s));
	json_object_set_new(j, "serviceDate", str_or_null(l->service_date));
	json_object_set_new(j, "serviceProviderId", str_or_null(l->service_provider_id));
	json_object_set_new(j, "diagnosisCodes", diag);
	return j;
}

static json_t *payment_json(const struct bill_payment *p, int s)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_string(p->id));
	json_object_set_new(j, "amount", num(p->amount_minor, s));
	json_object_set_new(j, "currency", json_string(p->currency));
	json_object_set_new(j, "status", json_string(billing_pay_status_name(p->status)));
	json_object_set_new(j, "paymentMethod", json_string(billing_pay_method_name(p->method)));
	json_object_set_new(j, "methodDetail", str_or_null(p->method_detail));
	json_object_set_new(j, "gateway", json_string(billing_gateway_name(p->gateway)));
	json_object_set_new(j, "paymentId", str_or_null(p->gateway_payment_id));
	json_object_set_new(j, "paymentGatewayReference", str_or_null(p->gateway_reference));
	json_object_set_new(j, "receiptUrl", str_or_null(p->receipt_url));
	json_object_set_new(j, "cardBrand", str_or_null(p->card_brand));
	json_object_set_new(j, "cardLast4", str_or_null(p->card_last4));
	json_object_set_new(j, "refundedAmount", num(p->refunded_minor, s));
	json_object_set_new(j, "failureReason", str_or_null(p->failure_reason));
	json_object_set_new(j, "confirmedAt", str_or_null(p->confirmed_at));
	json_object_set_new(j, "failedAt", str_or_null(p->failed_at));
	json_object_set_new(j, "createdAt", json_string(p->created_at));
	return j;
}

static json_t *refund_json(const struct bill_refund *r, int s)
{
	return json_pack("{s:s, s:s, s:o, s:s?, s:s, s:o, s:s}", "id", r->id, "paymentId", r->payment_id, "amount",
			 num(r->amount_minor, s), "reason", r->reason, "status", billing_refund_status_name(r->status),
			 "gatewayRefundId", str_or_null(r->gateway_refund_id), "createdAt", r->created_at);
}

/* The invoice as the billing-service contract shows it. Owned. */
static json_t *invoice_json(const struct bill_document *d, bool with_parts)
{
	int s = d->minor_units;
	json_t *j = json_object();

	json_object_set_new(j, "id", json_string(d->id));
	json_object_set_new(j, "invoiceNumber", json_string(d->number));
	json_object_set_new(j, "source", json_string(d->source));
	json_object_set_new(j, "patientId", str_or_null(d->patient_id));
	json_object_set_new(j, "facilityId", str_or_null(d->facility_id));
	json_object_set_new(j, "invoiceType", str_or_null(d->invoice_type));
	json_object_set_new(j, "subtotal", num(d->subtotal_minor, s));
	json_object_set_new(j, "taxAmount", num(d->tax_minor, s));
	json_object_set_new(j, "discountAmount", num(d->discount_minor, s));
	json_object_set_new(j, "lateFeeAmount", num(d->late_fee_minor, s));
	json_object_set_new(j, "totalAmount", num(d->total_minor, s));
	json_object_set_new(j, "paidAmount", num(d->paid_minor, s));
	json_object_set_new(j, "refundedAmount", num(d->refunded_minor, s));
	json_object_set_new(j, "balanceDue", num(d->balance_minor, s));
	json_object_set_new(j, "currency", json_string(d->currency));
	json_object_set_new(j, "status", json_string(billing_status_name(d->status)));
	json_object_set_new(j, "invoiceDate", json_string(d->invoice_date));
	json_object_set_new(j, "dueDate", str_or_null(d->due_date));
	json_object_set_new(j, "paymentTerms", str_or_null(d->payment_terms));
	json_object_set_new(j, "gracePeriodDays", json_integer(d->grace_period_days));
	json_object_set_new(j, "lateFeePercentage", num(d->late_fee_pct, PCT_SCALE));
	json_object_set_new(j, "lateFeeAppliedAt", str_or_null(d->late_fee_applied_at));
	json_object_set_new(j, "pricesIncludeTax", json_boolean(d->prices_include_tax));
	json_object_set_new(j, "description", str_or_null(d->description));
	json_object_set_new(j, "internalNotes", str_or_null(d->internal_notes));
	json_object_set_new(j, "notes", str_or_null(d->notes));
	json_object_set_new(j, "externalRef", str_or_null(d->external_ref));
	json_object_set_new(j, "cancelledAt", str_or_null(d->cancelled_at));
	json_object_set_new(j, "cancellationReason", str_or_null(d->cancel_reason));
	json_object_set_new(j, "paidAt", str_or_null(d->paid_at));
	json_object_set_new(j, "createdBy", str_or_null(d->created_by));
	json_object_set_new(j, "createdAt", json_string(d->created_at));
	json_object_set_new(j, "updatedAt", json_string(d->updated_at));
	if (with_parts) {
		json_t *lines = json_array(), *pays = json_array(), *refs = json_array();
		for (size_t i = 0; i < d->nlines; i++)
			json_array_append_new(lines, line_json(&d->lines[i], s));
		for (size_t i = 0; i < d->npayments; i++)
			json_array_append_new(pays, payment_json(&d->payments[i], s));
		for (size_t i = 0; i < d->nrefunds; i++)
			json_array_append_new(refs, refund_json(&d->refunds[i], s));
		json_object_set_new(j, "lineItems", lines);
		json_object_set_new(j, "payments", pays);
		json_object_set_new(j, "refunds", refs);
	}
	return j;
}

/* The :id path variable, lower-cased; not a UUID -> 404. */
static int path_id(struct req_ctx *ctx, char out[UUID_LEN + 1], struct err *e)
{
	const char *id = http_param(ctx->req, "id");

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	for (size_t i = 0; i <= UUID_LEN; i++)
		out[i] = (id[i] >= 'A' && id[i] <= 'Z') ? (char)(id[i] - 'A' + 'a') : id[i];
	return 0;
}

/* Reply with the document, re-read with its lines and payments. */
static int reply_document(struct req_ctx *ctx, struct http_resp *resp, const char *id, struct err *e)
{
	struct bill_document *d;
	int rc = billing_get(ctx->app->db, ctx->who.tenant_id, id, BILL_WITH_LINES | BILL_WITH_PAYMENTS,
			     ctx->req->arena, &d, e);

	if (rc)
		return rc;
	resp->data = invoice_json(d, true);
	return 0;
}

HANDLER(invoices_http_create)
{
	json_t *body;
	struct bill_input in;
	struct bill_line_input *lines = NULL;
	struct bill_document *d;
	const char *status;
	int rc;

	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, create_fields, sizeof(create_fields) / sizeof(create_fields[0]), "", e);
	if (rc)
		return rc;
	memset(&in, 0, sizeof(in));
	in.source = "invoice";
	in.patient_id = jv_str(body, "patientId");
	in.facility_id = jv_str(body, "facilityId");
	in.invoice_type = jv_str(body, "invoiceType");
	in.invoice_date = jv_str(body, "invoiceDate");
	in.due_date = jv_str(body, "dueDate");
	in.payment_terms = jv_str(body, "paymentTerms");
	in.has_grace_period = present(body, "gracePeriodDays");
	in.grace_period_days = (int)jv_int(body, "gracePeriodDays", 0);
	in.has_late_fee_pct = present(body, "lateFeePercentage");
	in.late_fee_pct = dec(body, "lateFeePercentage", PCT_SCALE, 0);
	in.currency = jv_str(body, "currency");
	in.description = jv_str(body, "description");
	in.internal_notes = jv_str(body, "internalNotes");
	in.notes = jv_str(body, "notes");
	in.prices_include_tax = jv_bool(body, "pricesIncludeTax", false);
	in.external_ref = jv_str(body, "externalRef");
	status = jv_str(body, "status");
	in.initial_status = status ? billing_status_parse(status) : -1;
	in.lines_field = "lineItems";
	rc = lines_from_json(json_object_get(body, "lineItems"), ctx->req->arena, &lines, &in.nlines, e);
	if (rc)
		return rc;
	in.lines = lines;
	rc = billing_create(ctx->app->db, &ctx->actor, &in, ctx->req->arena, &d, e);
	if (rc)
		return rc;
	resp->status = 201;
	resp->data = invoice_json(d, true); /* a new document has no payments */
	return 0;
}

HANDLER(invoices_http_get)
{
	char id[UUID_LEN + 1];
	int rc = path_id(ctx, id, e);

	if (rc)
		return rc;
	return reply_document(ctx, resp, id, e);
}

/* A query parameter that must be a UUID (else 400 naming it). */
static int query_uuid(struct req_ctx *ctx, const char *name, const char **out, struct err *e)
{
	const char *v = http_query(ctx->req, name);

	*out = NULL;
	if (!v)
		return 0;
	if (!uuid_valid(v))
		return err_set(e, ERR_INVALID, name, "%s must be a UUID", name);
	*out = v;
	return 0;
}

static int query_date(struct req_ctx *ctx, const char *name, const char **out, struct err *e)
{
	const char *v = http_query(ctx->req, name);

	*out = NULL;
	if (!v)
		return 0;
	if (!date_valid(v))
		return err_set(e, ERR_INVALID, name, "%s must be a date (YYYY-MM-DD)", name);
	*out = v;
	return 0;
}

static int query_amount(struct req_ctx *ctx, const char *name, bool *has, int64_t *out, struct err *e)
{
	const char *v = http_query(ctx->req, name);
	int rc;

	*has = false;
	if (!v)
		return 0;
	rc = money_parse(v, BILL_IN_SCALE, out, name, e);
	if (rc)
		return rc;
	if (*out < 0)
		return err_set(e, ERR_INVALID, name, "%s must not be negative", name);
	*has = true;
	return 0;
}

/* status=pending or status=pending,overdue (either contract's names). */
static int query_statuses(struct req_ctx *ctx, unsigned *mask, struct err *e)
{
	const char *v = http_query(ctx->req, "status");
	char buf[256];
	char *save = NULL;

	*mask = 0;
	if (!v)
		return 0;
	if (strlen(v) >= sizeof(buf))
		return err_set(e, ERR_INVALID, "status", "status is too long");
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int s = billing_status_parse(tok);
		if (s < 0)
			return err_set(
			    e, ERR_INVALID, "status",
			    "status must be one of draft, pending, partially_paid, paid, overdue, cancelled, "
			    "refunded");
		*mask |= 1u << s;
	}
	if (*mask == 0)
		return err_set(e, ERR_INVALID, "status", "status must not be empty");
	return 0;
}

HANDLER(invoices_http_list)
{
	struct bill_filter f;
	struct bill_document *items;
	size_t n;
	int64_t total;
	int page, limit, rc;
	json_t *arr;

	memset(&f, 0, sizeof(f));
	rc = http_pagination(ctx->req, INVOICES_PAGE_DEFAULT, INVOICES_PAGE_MAX, &page, &limit, e);
	if (rc == 0)
		rc = query_uuid(ctx, "patientId", &f.patient_id, e);
	if (rc == 0)
		rc = query_uuid(ctx, "facilityId", &f.facility_id, e);
	if (rc == 0)
		rc = query_statuses(ctx, &f.status_mask, e);
	if (rc == 0)
		rc = query_date(ctx, "startDate", &f.date_from, e);
	if (rc == 0)
		rc = query_date(ctx, "endDate", &f.date_to, e);
	if (rc == 0)
		rc = query_amount(ctx, "minAmount", &f.has_min_total, &f.min_total_micro, e);
	if (rc == 0)
		rc = query_amount(ctx, "maxAmount", &f.has_max_total, &f.max_total_micro, e);
	if (rc)
		return rc;
	f.invoice_type = http_query(ctx->req, "invoiceType");
	if (f.invoice_type && strlen(f.invoice_type) > BILL_LABEL_MAX)
		return err_set(e, ERR_INVALID, "invoiceType", "invoiceType is too long");
	f.currency = http_query(ctx->req, "currency");
	if (f.currency && !currency_find(f.currency))
		return err_set(e, ERR_INVALID, "currency", "currency must be a supported ISO 4217 code");
	f.number = http_query(ctx->req, "invoiceNumber");
	if (f.date_from && f.date_to && strcmp(f.date_from, f.date_to) > 0)
		return err_set(e, ERR_INVALID, "endDate", "endDate must not be before startDate");
	if (f.has_min_total && f.has_max_total && f.min_total_micro > f.max_total_micro)
		return err_set(e, ERR_INVALID, "maxAmount", "maxAmount must not be less than minAmount");
	rc = billing_list(ctx->app->db, ctx->who.tenant_id, &f, page, limit, 0, ctx->req->arena, &items, &n, &total, e);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, invoice_json(&items[i], false));
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}

HANDLER(invoices_http_update)
{
	static const struct {
		const char *name;
		unsigned bit;
	} bits[] = {
	    {"dueDate", BILL_U_DUE_DATE},
	    {"taxAmount", BILL_U_TAX_AMOUNT},
	    {"discountAmount", BILL_U_DISCOUNT_AMOUNT},
	    {"internalNotes", BILL_U_INTERNAL_NOTES},
	    {"paymentTerms", BILL_U_PAYMENT_TERMS},
	    {"description", BILL_U_DESCRIPTION},
	    {"notes", BILL_U_NOTES},
	    {"gracePeriodDays", BILL_U_GRACE},
	    {"lateFeePercentage", BILL_U_LATE_FEE_PCT},
	    {"status", BILL_U_STATUS},
	    {"invoiceType", BILL_U_INVOICE_TYPE},
	    {"facilityId", BILL_U_FACILITY},
	};
	char id[UUID_LEN + 1];
	struct bill_update in;
	struct bill_document *d;
	json_t *body;
	int rc;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, update_fields, sizeof(update_fields) / sizeof(update_fields[0]), "", e);
	if (rc)
		return rc;
	memset(&in, 0, sizeof(in));
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (jv_has(body, bits[i].name))
			in.set |= bits[i].bit;
	if ((in.set & BILL_U_DISCOUNT_AMOUNT) && !present(body, "discountAmount"))
		return err_set(e, ERR_INVALID, "discountAmount", "discountAmount must be a decimal number");
	if ((in.set & BILL_U_GRACE) && !present(body, "gracePeriodDays"))
		return err_set(e, ERR_INVALID, "gracePeriodDays", "gracePeriodDays must be an integer");
	if ((in.set & BILL_U_LATE_FEE_PCT) && !present(body, "lateFeePercentage"))
		return err_set(e, ERR_INVALID, "lateFeePercentage", "lateFeePercentage must be a decimal number");
	if (in.set & BILL_U_STATUS) {
		const char *s = jv_str(body, "status");
		in.status = billing_status_parse(s);
		if (in.status < 0)
			return err_set(
			    e, ERR_INVALID, "status",
			    "status must be one of draft, pending, partially_paid, paid, overdue, cancelled, "
			    "refunded");
	}
	in.due_date = jv_str(body, "dueDate");
	in.has_tax_amount = present(body, "taxAmount");
	in.tax_amount_micro = dec(body, "taxAmount", BILL_IN_SCALE, 0);
	in.discount_amount_micro = dec(body, "discountAmount", BILL_IN_SCALE, 0);
	in.internal_notes = jv_str(body, "internalNotes");
	in.payment_terms = jv_str(body, "paymentTerms");
	in.description = jv_str(body, "description");
	in.notes = jv_str(body, "notes");
	in.grace_period_days = (int)jv_int(body, "gracePeriodDays", 0);
	in.late_fee_pct = dec(body, "lateFeePercentage", PCT_SCALE, 0);
	in.invoice_type = jv_str(body, "invoiceType");
	in.facility_id = jv_str(body, "facilityId");
	in.reason = jv_str(body, "reason");
	rc = billing_update(ctx->app->db, &ctx->actor, id, &in, ctx->req->arena, &d, e);
	if (rc)
		return rc;
	resp->data = invoice_json(d, true);
	return 0;
}

HANDLER(invoices_http_cancel)
{
	char id[UUID_LEN + 1];
	struct bill_document *d;
	json_t *body;
	int rc;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = http_json_body(ctx->req, true, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, cancel_fields, sizeof(cancel_fields) / sizeof(cancel_fields[0]), "", e);
	if (rc)
		return rc;
	rc = billing_cancel(ctx->app->db, &ctx->actor, id, jv_str(body, "reason"), ctx->req->arena, &d, e);
	if (rc)
		return rc;
	resp->data = invoice_json(d, true);
	return 0;
}

HANDLER(invoices_http_statistics)
{
	struct bill_stats_filter f;
	struct bill_stats st;
	json_t *j;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = query_uuid(ctx, "facilityId", &f.facility_id, e);
	if (rc == 0)
		rc = query_date(ctx, "startDate", &f.date_from, e);
	if (rc == 0)
		rc = query_date(ctx, "endDate", &f.date_to, e);
	if (rc)
		return rc;
	f.currency = http_query(ctx->req, "currency");
	if (f.date_from && f.date_to && strcmp(f.date_from, f.date_to) > 0)
		return err_set(e, ERR_INVALID, "endDate", "endDate must not be before startDate");
	rc = billing_statistics(ctx->app->db, ctx->who.tenant_id, &f, &st, e);
	if (rc)
		return rc;
	j = json_object();
	json_object_set_new(j, "total_invoices", json_integer(st.total_invoices));
	json_object_set_new(j, "total_amount", num(st.total_amount_minor, st.minor_units));
	json_object_set_new(j, "total_paid", num(st.total_paid_minor, st.minor_units));
	json_object_set_new(j, "total_outstanding", num(st.total_outstanding_minor, st.minor_units));
	json_object_set_new(j, "average_invoice_amount", num(st.average_amount_minor, st.minor_units));
	json_object_set_new(j, "paid_count", json_integer(st.count[BILL_PAID]));
	json_object_set_new(j, "pending_count", json_integer(st.count[BILL_PENDING]));
	json_object_set_new(j, "overdue_count", json_integer(st.count[BILL_OVERDUE]));
	json_object_set_new(j, "partially_paid_count", json_integer(st.count[BILL_PARTIALLY_PAID]));
	json_object_set_new(j, "draft_count", json_integer(st.count[BILL_DRAFT]));
	json_object_set_new(j, "cancelled_count", json_integer(st.count[BILL_CANCELLED]));
	json_object_set_new(j, "refunded_count", json_integer(st.count[BILL_REFUNDED]));
	json_object_set_new(j, "currency", json_string(st.currency));
	resp->data = j;
	return 0;
}
