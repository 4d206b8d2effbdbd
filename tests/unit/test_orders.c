/*
 * test_orders.c - unit tests of the clinic contract's order rules
 * (src/mod/billing/orders.c): the tax-included pricing convention per
 * country, the fiscal identity a patient needs for a Factura ("01") or a
 * Crédito Fiscal ("03") in El Salvador, the Dominican Republic and
 * elsewhere, and the JSON of orders, payments and refunds (amounts as
 * decimal strings at the currency's minor units, quantities with 3
 * decimals, rates as percentages, clinic status names, refundable amounts
 * net of pending refunds). The HTTP routes are covered on both backends by
 * tests/api/test_orders.c and tests/api/test_payments.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mod/billing/orders.h"

static void test_prices_include_tax(void **state)
{
	(void)state;
	assert_true(orders_prices_include_tax("SV"));
	assert_false(orders_prices_include_tax("DO"));
	assert_false(orders_prices_include_tax("SD"));
	assert_false(orders_prices_include_tax("MA"));
	assert_false(orders_prices_include_tax("sv"));
	assert_false(orders_prices_include_tax(""));
	assert_false(orders_prices_include_tax(NULL));
}

static void test_tax_doc_types(void **state)
{
	(void)state;
	assert_true(orders_tax_doc_type_valid("01"));
	assert_true(orders_tax_doc_type_valid("03"));
	assert_false(orders_tax_doc_type_valid("02"));
	assert_false(orders_tax_doc_type_valid("1"));
	assert_false(orders_tax_doc_type_valid(""));
	assert_false(orders_tax_doc_type_valid(NULL));
}

/* identity check -> 0 or ERR_INVALID naming patientId */
static int check(const char *country, const char *type, const char *doc_type, bool has_number, bool has_nrc)
{
	struct orders_fiscal_identity id = {doc_type, has_number, has_nrc};
	struct err e;
	int rc;

	err_clear(&e);
	rc = orders_tax_identity_check(country, type, &id, &e);
	if (rc) {
		assert_int_equal(rc, ERR_INVALID);
		assert_string_equal(e.field, "patientId");
		assert_true(strlen(e.message) > 10);
	}
	return rc;
}

static void test_identity_el_salvador(void **state)
{
	(void)state;
	/* Factura: NIT, DUI or NRC */
	assert_int_equal(check("SV", "01", "DUI", true, false), 0);
	assert_int_equal(check("SV", "01", "NIT", true, false), 0);
	assert_int_equal(check("SV", "01", "NRC", true, false), 0);
	assert_int_equal(check("SV", "01", NULL, false, true), 0); /* an NRC alone */
	assert_int_equal(check("SV", "01", "PASSPORT", true, false), ERR_INVALID);
	assert_int_equal(check("SV", "01", "OTHER", true, false), ERR_INVALID);
	assert_int_equal(check("SV", "01", "RNC", true, false), ERR_INVALID);
	assert_int_equal(check("SV", "01", NULL, false, false), ERR_INVALID);
	assert_int_equal(check("SV", "01", "DUI", false, false), ERR_INVALID); /* type without number */
	/* Crédito Fiscal: an NRC */
	assert_int_equal(check("SV", "03", "NIT", true, true), 0);
	assert_int_equal(check("SV", "03", "DUI", true, true), 0);
	assert_int_equal(check("SV", "03", "NRC", true, false), 0);
	assert_int_equal(check("SV", "03", "NIT", true, false), ERR_INVALID);
	assert_int_equal(check("SV", "03", "DUI", true, false), ERR_INVALID);
	assert_int_equal(check("SV", "03", "PASSPORT", true, false), ERR_INVALID);
}

static void test_identity_dominican_republic(void **state)
{
	(void)state;
	assert_int_equal(check("DO", "01", "RNC", true, false), 0);
	assert_int_equal(check("DO", "01", "CEDULA", true, false), 0);
	assert_int_equal(check("DO", "01", "DUI", true, false), ERR_INVALID);
	assert_int_equal(check("DO", "01", "NIT", true, false), ERR_INVALID);
	assert_int_equal(check("DO", "01", NULL, false, true), ERR_INVALID); /* an SV NRC is not Dominican */
	assert_int_equal(check("DO", "03", "RNC", true, false), 0);
	assert_int_equal(check("DO", "03", "CEDULA", true, false), ERR_INVALID);
}

static void test_identity_elsewhere(void **state)
{
	(void)state;
	assert_int_equal(check("SD", "01", "NIT", true, false), 0);
	assert_int_equal(check("SD", "01", "CEDULA", true, false), 0);
	assert_int_equal(check("SD", "01", "PASSPORT", true, false), ERR_INVALID);
	assert_int_equal(check("SD", "03", "RNC", true, false), 0);
	assert_int_equal(check("SD", "03", "NIT", true, true), 0);
	assert_int_equal(check("SD", "03", "NIT", true, false), ERR_INVALID);
}

/* An order of 2 x 35.00 taxable (IVA inside) and 1 x 12.50 exempt with 10 %. */
static void make_order(struct bill_document *d, struct bill_line *lines, struct bill_payment *pays,
		       struct bill_refund *refs)
{
	memset(d, 0, sizeof(*d));
	memset(lines, 0, 2 * sizeof(*lines));
	memset(pays, 0, 2 * sizeof(*pays));
	memset(refs, 0, 2 * sizeof(*refs));
	strcpy(d->id, "11111111-1111-4111-8111-111111111111");
	strcpy(d->number, "INV-20251014-000001");
	strcpy(d->source, "order");
	strcpy(d->patient_id, "22222222-2222-4222-8222-222222222222");
	d->status = BILL_PARTIALLY_PAID;
	strcpy(d->currency, "USD");
	d->minor_units = 2;
	strcpy(d->invoice_date, "2025-10-14");
	d->prices_include_tax = true;
	d->subtotal_minor = 7445;
	d->discount_minor = 125;
	d->tax_minor = 805;
	d->total_minor = 8125;
	d->paid_minor = 2000;
	d->balance_minor = 6125;
	strcpy(d->tax_doc_type, "03");
	d->notes = "walk-in";
	strcpy(d->created_at, "2025-10-14T16:00:00Z");
	strcpy(d->updated_at, "2025-10-14T16:05:00Z");

	strcpy(lines[0].id, "33333333-3333-4333-8333-333333333333");
	lines[0].line_number = 1;
	strcpy(lines[0].service_id, "44444444-4444-4444-8444-444444444444");
	lines[0].item_code = "CONS-GEN";
	lines[0].item_name = "Consulta general";
	lines[0].quantity_milli = 2000;
	lines[0].unit_price_minor = 3500;
	lines[0].tax_treatment = BILL_TAX_TAXABLE;
	lines[0].tax_pct = 130000;
	lines[0].net_minor = 6195;
	lines[0].tax_minor = 805;
	lines[0].total_minor = 7000;
	strcpy(lines[1].id, "55555555-5555-4555-8555-555555555555");
	lines[1].line_number = 2;
	lines[1].item_name = "Hemograma";
	lines[1].quantity_milli = 1500;
	lines[1].unit_price_minor = 1250;
	lines[1].discount_pct = 125000; /* 12.5 % */
	lines[1].discount_minor = 125;
	lines[1].tax_treatment = BILL_TAX_EXEMPT;
	lines[1].tax_pct = 123456;
	lines[1].net_minor = 1125;
	lines[1].total_minor = 1125;
	d->lines = lines;
	d->nlines = 2;

	strcpy(pays[0].id, "66666666-6666-4666-8666-666666666666");
	strcpy(pays[0].document_id, d->id);
	pays[0].method = BILL_PAY_MOBILE_MONEY;
	pays[0].method_detail = "zain_cash";
	pays[0].amount_minor = 3000;
	strcpy(pays[0].currency, "USD");
	pays[0].status = BILL_PAYMENT_CONFIRMED;
	pays[0].refunded_minor = 500;
	pays[0].gateway = BILL_GATEWAY_MANUAL;
	strcpy(pays[0].created_at, "2025-10-14T16:01:00Z");
	strcpy(pays[0].updated_at, "2025-10-14T16:01:00Z");
	strcpy(pays[1].id, "77777777-7777-4777-8777-777777777777");
	strcpy(pays[1].document_id, d->id);
	pays[1].method = BILL_PAY_CARD_ONLINE;
	pays[1].amount_minor = 1000;
	strcpy(pays[1].currency, "USD");
	pays[1].status = BILL_PAYMENT_FAILED;
	pays[1].gateway = BILL_GATEWAY_STRIPE;
	d->payments = pays;
	d->npayments = 2;

	strcpy(refs[0].id, "88888888-8888-4888-8888-888888888888");
	strcpy(refs[0].payment_id, pays[0].id);
	strcpy(refs[0].document_id, d->id);
	refs[0].amount_minor = 500;
	refs[0].reason = "duplicate";
	refs[0].status = BILL_REFUND_SUCCEEDED;
	strcpy(refs[1].id, "99999999-9999-4999-8999-999999999999");
	strcpy(refs[1].payment_id, pays[0].id);
	strcpy(refs[1].document_id, d->id);
	refs[1].amount_minor = 700;
	refs[1].reason = "goodwill";
	refs[1].status = BILL_REFUND_PENDING;
	d->refunds = refs;
	d->nrefunds = 2;
}

static const char *sget(json_t *o, const char *path)
{
	char buf[256], *save = NULL;
	json_t *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, (size_t)atoi(tok));
		else
			v = json_object_get(v, tok);
	}
	if (!v)
		fail_msg("no %s", path);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_order_json(void **state)
{
	struct bill_document d;
	struct bill_line lines[2];
	struct bill_payment pays[2];
	struct bill_refund refs[2];
	struct orders_patient_summary p = {"22222222-2222-4222-8222-222222222222", "Ana", "Perez"};
	json_t *o;

	(void)state;
	make_order(&d, lines, pays, refs);
	o = orders_json(&d, &p);
	assert_string_equal(sget(o, "orderNumber"), "INV-20251014-000001");
	assert_string_equal(sget(o, "status"), "partially_paid");
	assert_string_equal(sget(o, "patient.firstName"), "Ana");
	assert_string_equal(sget(o, "subtotal"), "74.45");
	assert_string_equal(sget(o, "discount"), "1.25");
	assert_string_equal(sget(o, "tax"), "8.05");
	assert_string_equal(sget(o, "total"), "81.25");
	assert_string_equal(sget(o, "paid"), "20.00");
	assert_string_equal(sget(o, "balance"), "61.25");
	assert_true(json_is_true(json_object_get(o, "pricesIncludeTax")));
	assert_true(json_is_true(json_object_get(json_object_get(o, "taxDocument"), "required")));
	assert_string_equal(sget(o, "taxDocument.type"), "03");
	assert_string_equal(sget(o, "items.0.quantity"), "2.000");
	assert_string_equal(sget(o, "items.0.unitPrice"), "35.00");
	assert_string_equal(sget(o, "items.0.taxRate"), "13.00");
	assert_string_equal(sget(o, "items.0.taxTreatment"), "taxable");
	assert_string_equal(sget(o, "items.0.code"), "CONS-GEN");
	assert_string_equal(sget(o, "items.0.tax"), "8.05");
	assert_string_equal(sget(o, "items.0.total"), "70.00");
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(o, "items"), 0), "discountPercent")));
	assert_string_equal(sget(o, "items.1.quantity"), "1.500");
	assert_string_equal(sget(o, "items.1.discountPercent"), "12.50");
	assert_string_equal(sget(o, "items.1.taxRate"), "12.3456");
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(o, "items"), 1), "serviceId")));
	assert_string_equal(sget(o, "payments.0.method"), "mobile_money");
	assert_string_equal(sget(o, "payments.0.methodDetail"), "zain_cash");
	assert_string_equal(sget(o, "payments.0.amount"), "30.00");
	assert_string_equal(sget(o, "payments.0.refunded"), "5.00");
	assert_string_equal(sget(o, "payments.0.refundable"), "18.00"); /* 30 - 5 refunded - 7 pending */
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(o, "payments"), 0), "refunds")),
			 2);
	assert_string_equal(sget(o, "payments.1.status"), "failed");
	assert_string_equal(sget(o, "payments.1.refundable"), "0.00");
	assert_string_equal(sget(o, "refunds.1.status"), "pending");
	assert_string_equal(sget(o, "refunds.1.amount"), "7.00");
	json_decref(o);

	/* pending shows as pending_payment; no patient and no tax document */
	d.status = BILL_PENDING;
	d.tax_doc_type[0] = '\0';
	o = orders_json(&d, NULL);
	assert_string_equal(sget(o, "status"), "pending_payment");
	assert_true(json_is_null(json_object_get(o, "patient")));
	assert_true(json_is_false(json_object_get(json_object_get(o, "taxDocument"), "required")));
	assert_true(json_is_null(json_object_get(json_object_get(o, "taxDocument"), "type")));
	json_decref(o);
}

static void test_summary_history_and_currency_scale(void **state)
{
	struct bill_document d;
	struct bill_line lines[2];
	struct bill_payment pays[2];
	struct bill_refund refs[2];
	json_t *o;

	(void)state;
	make_order(&d, lines, pays, refs);
	o = orders_summary_json(&d);
	assert_string_equal(sget(o, "orderNumber"), "INV-20251014-000001");
	assert_string_equal(sget(o, "balance"), "61.25");
	json_decref(o);
	o = orders_history_json(&d);
	assert_string_equal(sget(o, "number"), "INV-20251014-000001");
	assert_string_equal(sget(o, "source"), "order");
	assert_string_equal(sget(o, "invoiceDate"), "2025-10-14");
	assert_true(json_is_null(json_object_get(o, "dueDate")));
	json_decref(o);

	/* a payment in a 0-decimal currency */
	strcpy(pays[0].currency, "JPY");
	pays[0].amount_minor = 1500;
	pays[0].refunded_minor = 0;
	o = orders_payment_json(&pays[0], NULL, 0);
	assert_string_equal(sget(o, "amount"), "1500");
	assert_string_equal(sget(o, "refundable"), "1500");
	assert_null(json_object_get(o, "refunds"));
	json_decref(o);
	assert_int_equal(orders_payment_refundable(&pays[0], refs, 2), 1500 - 700);
	o = orders_refund_json(&refs[0], "JPY", 0);
	assert_string_equal(sget(o, "amount"), "500");
	assert_string_equal(sget(o, "status"), "succeeded");
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prices_include_tax),
	    cmocka_unit_test(test_tax_doc_types),
	    cmocka_unit_test(test_identity_el_salvador),
	    cmocka_unit_test(test_identity_dominican_republic),
	    cmocka_unit_test(test_identity_elsewhere),
	    cmocka_unit_test(test_order_json),
	    cmocka_unit_test(test_summary_history_and_currency_scale),
	};
	return cmocka_run_group_tests_name("unit_orders", tests, NULL, NULL);
}
