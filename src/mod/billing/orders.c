/*
 * orders.c - the clinic contract's order rules (see orders.h): the
 * tax-included pricing convention per country, the fiscal identity a
 * patient needs for a Factura or a Crédito Fiscal, and the JSON of orders,
 * payments and refunds with amounts as decimal strings. No database, no I/O.
 */
#include "mod/billing/orders.h"

#include <stddef.h>
#include <string.h>

#include "core/money.h"

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool str_in(const char *s, const char *const *set)
{
	for (size_t i = 0; set[i]; i++)
		if (str_eq(s, set[i]))
			return true;
	return false;
}

bool orders_prices_include_tax(const char *country)
{
	return str_eq(country, "SV");
}

bool orders_tax_doc_type_valid(const char *type)
{
	return str_eq(type, ORDERS_TAX_DOC_FACTURA) || str_eq(type, ORDERS_TAX_DOC_CCF);
}

/* The fiscal rules of one country: identity documents accepted, and the
 * documents that identify a business receptor for a crédito fiscal. */
struct fiscal_rule {
	const char *country; /* NULL: every other country */
	const char *const *identity;
	const char *const *business;
	bool nrc_field_is_business; /* patient.nrc names a business receptor */
	const char *identity_msg;
	const char *business_msg;
};

static const char *const sv_identity[] = {"NIT", "DUI", "NRC", NULL};
static const char *const sv_business[] = {"NRC", NULL};
static const char *const do_identity[] = {"RNC", "CEDULA", NULL};
static const char *const do_business[] = {"RNC", NULL};
static const char *const any_identity[] = {"NIT", "DUI", "NRC", "RNC", "CEDULA", NULL};
static const char *const any_business[] = {"NRC", "RNC", NULL};

static const struct fiscal_rule fiscal_rules[] = {
    {"SV", sv_identity, sv_business, true, "a tax document needs a patient with a NIT, DUI or NRC",
     "a credito fiscal (type 03) needs a patient with an NRC"},
    {"DO", do_identity, do_business, false, "a tax document needs a patient with an RNC or cedula",
     "a credito fiscal (type 03) needs a patient with an RNC"},
    {NULL, any_identity, any_business, true, "a tax document needs a patient with a tax identification number",
     "a credito fiscal (type 03) needs a patient with an NRC or RNC"},
};

int orders_tax_identity_check(const char *country, const char *type, const struct orders_fiscal_identity *id,
			      struct err *e)
{
	const struct fiscal_rule *r = &fiscal_rules[sizeof(fiscal_rules) / sizeof(fiscal_rules[0]) - 1];
	bool has_doc = id->document_type && id->has_document_number;
	bool identity, business;

	for (size_t i = 0; fiscal_rules[i].country; i++)
		if (str_eq(country, fiscal_rules[i].country)) {
			r = &fiscal_rules[i];
			break;
		}
	business = (has_doc && str_in(id->document_type, r->business)) || (r->nrc_field_is_business && id->has_nrc);
	identity = (has_doc && str_in(id->document_type, r->identity)) || business;
	if (!identity)
		return err_set(e, ERR_INVALID, "patientId", "%s", r->identity_msg);
	if (str_eq(type, ORDERS_TAX_DOC_CCF) && !business)
		return err_set(e, ERR_INVALID, "patientId", "%s", r->business_msg);
	return 0;
}

/* ---- JSON ---- */

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* A percentage at PCT_SCALE as "13.00" (or with 4 decimals when needed). */
static json_t *pct_json(int64_t pct)
{
	char buf[MONEY_MAX_TEXT];

	if (pct % 100 == 0)
		return json_string(money_format(pct / 100, PCT_SCALE - 2, buf, sizeof(buf)));
	return json_string(money_format(pct, PCT_SCALE, buf, sizeof(buf)));
}

static int currency_scale(const char *code)
{
	const struct currency *c = currency_find(code);

	return c ? c->minor_units : 2;
}

static json_t *item_json(const struct bill_line *l, int scale)
{
	char buf[MONEY_MAX_TEXT];
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(l->id));
	json_object_set_new(o, "lineNumber", json_integer(l->line_number));
	json_object_set_new(o, "serviceId", str_or_null(l->service_id));
	json_object_set_new(o, "code", str_or_null(l->item_code));
	json_object_set_new(o, "name", str_or_null(l->item_name));
	json_object_set_new(o, "itemType", str_or_null(l->item_type));
	json_object_set_new(o, "procedureCode", str_or_null(l->procedure_code));
	json_object_set_new(o, "quantity", json_string(money_format(l->quantity_milli, QTY_SCALE, buf, sizeof(buf))));
	json_object_set_new(o, "unitPrice", money_json_string(l->unit_price_minor, scale));
	json_object_set_new(o, "discountPercent", l->discount_pct ? pct_json(l->discount_pct) : json_null());
	json_object_set_new(o, "discount", money_json_string(l->discount_minor, scale));
	json_object_set_new(o, "taxTreatment", json_string(billing_tax_name(l->tax_treatment)));
	json_object_set_new(o, "taxRate", pct_json(l->tax_pct));
	json_object_set_new(o, "net", money_json_string(l->net_minor, scale));
	json_object_set_new(o, "tax", money_json_string(l->tax_minor, scale));
	json_object_set_new(o, "total", money_json_string(l->total_minor, scale));
	json_object_set_new(o, "notes", str_or_null(l->description));
	return o;
}

int64_t orders_payment_refundable(const struct bill_payment *p, const struct bill_refund *refunds, size_t nrefunds)
{
	int64_t left;

	if (p->status != BILL_PAYMENT_CONFIRMED)
		return 0;
	left = p->amount_minor - p->refunded_minor;
	for (size_t i = 0; i < nrefunds; i++)
		if (refunds[i].status == BILL_REFUND_PENDING && strcmp(refunds[i].payment_id, p->id) == 0)
			left -= refunds[i].amount_minor;
	return left > 0 ? left : 0;
}

json_t *orders_refund_json(const struct bill_refund *r, const char *currency, int minor_units)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "paymentId", json_string(r->payment_id));
	json_object_set_new(o, "orderId", json_string(r->document_id));
	json_object_set_new(o, "amount", money_json_string(r->amount_minor, minor_units));
	json_object_set_new(o, "currency", json_string(currency));
	json_object_set_new(o, "reason", str_or_null(r->reason));
	json_object_set_new(o, "status", json_string(billing_refund_status_name(r->status)));
	json_object_set_new(o, "gatewayRefundId", str_or_null(r->gateway_refund_id));
	json_object_set_new(o, "createdAt", json_string(r->created_at));
	json_object_set_new(o, "updatedAt", json_string(r->updated_at));
	return o;
}

json_t *orders_payment_json(const struct bill_payment *p, const struct bill_refund *refunds, size_t nrefunds)
{
	int scale = currency_scale(p->currency);
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(p->id));
	json_object_set_new(o, "orderId", json_string(p->document_id));
	json_object_set_new(o, "method", json_string(billing_pay_method_name(p->method)));
	json_object_set_new(o, "methodDetail", str_or_null(p->method_detail));
	json_object_set_new(o, "amount", money_json_string(p->amount_minor, scale));
	json_object_set_new(o, "currency", json_string(p->currency));
	json_object_set_new(o, "status", json_string(billing_pay_status_name(p->status)));
	json_object_set_new(o, "refunded", money_json_string(p->refunded_minor, scale));
	json_object_set_new(o, "refundable", money_json_string(orders_payment_refundable(p, refunds, nrefunds), scale));
	json_object_set_new(o, "gateway", json_string(billing_gateway_name(p->gateway)));
	json_object_set_new(o, "gatewayPaymentId", str_or_null(p->gateway_payment_id));
	json_object_set_new(o, "reference", str_or_null(p->gateway_reference));
	json_object_set_new(o, "cardBrand", str_or_null(p->card_brand));
	json_object_set_new(o, "cardLast4", str_or_null(p->card_last4));
	json_object_set_new(o, "receiptUrl", str_or_null(p->receipt_url));
	json_object_set_new(o, "failureReason", str_or_null(p->failure_reason));
	json_object_set_new(o, "confirmedAt", str_or_null(p->confirmed_at));
	json_object_set_new(o, "failedAt", str_or_null(p->failed_at));
	json_object_set_new(o, "createdAt", json_string(p->created_at));
	json_object_set_new(o, "updatedAt", json_string(p->updated_at));
	if (refunds) {
		json_t *arr = json_array();

		for (size_t i = 0; i < nrefunds; i++)
			if (strcmp(refunds[i].payment_id, p->id) == 0)
				json_array_append_new(arr, orders_refund_json(&refunds[i], p->currency, scale));
		json_object_set_new(o, "refunds", arr);
	}
	return o;
}

json_t *orders_summary_json(const struct bill_document *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "orderNumber", json_string(d->number));
	json_object_set_new(o, "source", json_string(d->source));
	json_object_set_new(o, "status", json_string(billing_status_clinic_name(d->status)));
	json_object_set_new(o, "currency", json_string(d->currency));
	json_object_set_new(o, "total", money_json_string(d->total_minor, d->minor_units));
	json_object_set_new(o, "paid", money_json_string(d->paid_minor, d->minor_units));
	json_object_set_new(o, "balance", money_json_string(d->balance_minor, d->minor_units));
	return o;
}

json_t *orders_history_json(const struct bill_document *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "number", json_string(d->number));
	json_object_set_new(o, "source", json_string(d->source));
	json_object_set_new(o, "status", json_string(billing_status_clinic_name(d->status)));
	json_object_set_new(o, "invoiceDate", str_or_null(d->invoice_date));
	json_object_set_new(o, "dueDate", str_or_null(d->due_date));
	json_object_set_new(o, "createdAt", json_string(d->created_at));
	json_object_set_new(o, "currency", json_string(d->currency));
	json_object_set_new(o, "total", money_json_string(d->total_minor, d->minor_units));
	json_object_set_new(o, "paid", money_json_string(d->paid_minor, d->minor_units));
	json_object_set_new(o, "balance", money_json_string(d->balance_minor, d->minor_units));
	return o;
}

json_t *orders_json(const struct bill_document *d, const struct orders_patient_summary *p)
{
	int scale = d->minor_units;
	json_t *o = json_object(), *items = json_array(), *tax_doc, *pays, *refs;

	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "orderNumber", json_string(d->number));
	json_object_set_new(o, "source", json_string(d->source));
	json_object_set_new(o, "patientId", str_or_null(d->patient_id));
	if (p)
		json_object_set_new(o, "patient",
				    json_pack("{s:s, s:o, s:o}", "id", p->id, "firstName", str_or_null(p->first_name),
					      "lastName", str_or_null(p->last_name)));
	else
		json_object_set_new(o, "patient", json_null());
	json_object_set_new(o, "status", json_string(billing_status_clinic_name(d->status)));
	json_object_set_new(o, "currency", json_string(d->currency));
	json_object_set_new(o, "pricesIncludeTax", json_boolean(d->prices_include_tax));
	for (size_t i = 0; i < d->nlines; i++)
		json_array_append_new(items, item_json(&d->lines[i], scale));
	json_object_set_new(o, "items", items);
	json_object_set_new(o, "subtotal", money_json_string(d->subtotal_minor, scale));
	json_object_set_new(o, "discount", money_json_string(d->discount_minor, scale));
	json_object_set_new(o, "tax", money_json_string(d->tax_minor, scale));
	json_object_set_new(o, "lateFee", money_json_string(d->late_fee_minor, scale));
	json_object_set_new(o, "total", money_json_string(d->total_minor, scale));
	json_object_set_new(o, "paid", money_json_string(d->paid_minor, scale));
	json_object_set_new(o, "refunded", money_json_string(d->refunded_minor, scale));
	json_object_set_new(o, "balance", money_json_string(d->balance_minor, scale));
	tax_doc = json_object();
	json_object_set_new(tax_doc, "required", json_boolean(d->tax_doc_type[0] != '\0'));
	json_object_set_new(tax_doc, "type", str_or_null(d->tax_doc_type));
	json_object_set_new(o, "taxDocument", tax_doc);
	json_object_set_new(o, "notes", str_or_null(d->notes));
	json_object_set_new(o, "invoiceDate", str_or_null(d->invoice_date));
	json_object_set_new(o, "dueDate", str_or_null(d->due_date));
	json_object_set_new(o, "cancelledAt", str_or_null(d->cancelled_at));
	json_object_set_new(o, "cancelReason", str_or_null(d->cancel_reason));
	json_object_set_new(o, "paidAt", str_or_null(d->paid_at));
	pays = json_array();
	for (size_t i = 0; i < d->npayments; i++)
		json_array_append_new(pays, orders_payment_json(&d->payments[i], d->refunds, d->nrefunds));
	json_object_set_new(o, "payments", pays);
	refs = json_array();
	for (size_t i = 0; i < d->nrefunds; i++)
		json_array_append_new(refs, orders_refund_json(&d->refunds[i], d->currency, scale));
	json_object_set_new(o, "refunds", refs);
	json_object_set_new(o, "createdAt", json_string(d->created_at));
	json_object_set_new(o, "updatedAt", json_string(d->updated_at));
	return o;
}
