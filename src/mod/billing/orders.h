/*
 * orders.h - the clinic contract's rules for orders (clinic-billing-backend.md
 * §1) on top of the billing document (billing.h): which tenants quote prices
 * with tax included, and which patients may receive a tax document.
 *
 * An order is a billing document with source "order"; everything about
 * money, numbers and states is billing.h's. What is only the clinic's lives
 * here, as pure functions (no database), unit-tested in
 * tests/unit/test_orders.c; orders_http.c, payments_http.c and
 * history_http.c are the route handlers. docs/orders.md is the one-page
 * description.
 *
 * PRICES INCLUDE TAX. An order's pricesIncludeTax follows its tenant's
 * country: El Salvador (SV) quotes consumer prices with IVA included (the
 * Factura convention: the 13 % is inside the price, tax = base x 13 / 113);
 * every other country's prices exclude tax (tax = base x rate / 100).
 *
 * TAX DOCUMENTS. taxDocument {required: true, type} asks for a fiscal
 * document: type "01" (Factura, consumidor final) or "03" (Comprobante de
 * Crédito Fiscal, a business receptor). The patient must then carry a fiscal
 * identity valid in the tenant's country (stored canonical, check digits
 * verified by the patients module):
 *   SV      documentType NIT, DUI or NRC (or an NRC in `nrc`);
 *           "03" additionally needs an NRC (`nrc`, or documentType NRC);
 *   DO      documentType RNC or CEDULA; "03" (crédito fiscal) needs an RNC;
 *   others  any of NIT, DUI, NRC, RNC, CEDULA; "03" needs NRC or RNC.
 * A passport or "OTHER" document is never a fiscal identity. Failures are
 * ERR_INVALID naming "patientId" with a message that says what is missing
 * (never the patient's data).
 */
#ifndef CL_MOD_BILLING_ORDERS_H
#define CL_MOD_BILLING_ORDERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "mod/billing/billing.h"

#define ORDERS_MAX_ITEMS       200 /* items per order */
#define ORDERS_PAGE_DEFAULT    20
#define ORDERS_PAGE_MAX	       100
#define ORDERS_TAX_DOC_FACTURA "01"
#define ORDERS_TAX_DOC_CCF     "03"

/* Whether prices of a tenant in `country` (ISO 3166-1 alpha-2) include
 * tax: true for "SV", false otherwise (see the header note). */
bool orders_prices_include_tax(const char *country);

/* "01" | "03" -> true. */
bool orders_tax_doc_type_valid(const char *type);

/* The fiscal identity a patient presents: the document type name
 * ("DUI", "NIT", ... as stored; NULL when none), whether a document number
 * is stored with it, and whether an NRC is stored in `nrc`. */
struct orders_fiscal_identity {
	const char *document_type;
	bool has_document_number;
	bool has_nrc;
};

/* May a patient with identity id receive a tax document of type (validated
 * "01" / "03") from a tenant in country? 0, or ERR_INVALID naming
 * "patientId" with a client-safe message ("a tax document needs a patient
 * with a NIT, DUI or NRC"). */
int orders_tax_identity_check(const char *country, const char *type, const struct orders_fiscal_identity *id,
			      struct err *e);

/* ---- the clinic contract's JSON (all amounts decimal strings) ---- */

/* The patient shown inside an order: {id, firstName, lastName}. Borrowed. */
struct orders_patient_summary {
	const char *id;
	const char *first_name;
	const char *last_name;
};

/* An order as GET /api/orders/:id shows it: number, patient summary (p may
 * be NULL: "patient" is then null), clinic status name, items, totals,
 * taxDocument, and the payments and refunds when d has them loaded.
 * Owned. */
json_t *orders_json(const struct bill_document *d, const struct orders_patient_summary *p);

/* {id, orderNumber, source, status, currency, total, paid, balance}: the
 * order beside a payment or refund. Owned. */
json_t *orders_summary_json(const struct bill_document *d);

/* A payment; with refunds (the document's, or NULL/0) its own refunds are
 * listed and "refundable" deducts the pending ones. Owned. */
json_t *orders_payment_json(const struct bill_payment *p, const struct bill_refund *refunds, size_t nrefunds);

/* Amount a confirmed payment can still refund: amount - refunded - pending
 * refunds among refunds[] (the document's). 0 for a payment not confirmed. */
int64_t orders_payment_refundable(const struct bill_payment *p, const struct bill_refund *refunds, size_t nrefunds);

/* A refund, with amounts at minor_units decimals of currency. Owned. */
json_t *orders_refund_json(const struct bill_refund *r, const char *currency, int minor_units);

/* One line of a patient's billing history: {id, number, source, status,
 * invoiceDate, dueDate, createdAt, currency, total, paid, balance}. Owned. */
json_t *orders_history_json(const struct bill_document *d);

#endif
