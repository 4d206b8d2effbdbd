/*
 * billing.h - billing documents, their lines, payments and refunds: the one
 * domain API behind the invoices of the billing-service contract
 * (/api/v1/invoices), the orders of the clinic contract (/api/orders), and
 * later facturas and expenses. One row of billing_documents is one document,
 * whatever contract created it (`source`); the *_http.c adapters render it.
 *
 * CHANGES after the first publication (only additions unless noted here):
 *   1. billing_payment_record: the state and overpayment checks apply to
 *      MANUAL (desk) payments only; gateway / Stripe payments report money
 *      already taken and are recorded whatever the document's state.
 *      A payment may be recorded as FAILED (amount 0 = unknown allowed);
 *      struct bill_payment_input gained failure_reason (added member).
 *   2. The tax document a document asks for (clinic orders' taxDocument:
 *      "01" Factura / "03" Crédito Fiscal): bill_input.tax_doc_type,
 *      bill_document.tax_doc_type, bill_update.tax_doc_type with
 *      BILL_U_TAX_DOC; column billing_documents.tax_doc_type.
 *      bill_filter.number_prefix; billing_patient_totals (added).
 *
 * MONEY. Every amount of a document is an int64 in minor units of the
 * document's one currency (ISO 4217; currency_find(code)->minor_units:
 * USD/SDG/MAD/DOP/EUR 2, JPY 0, KWD 3 ...). Amounts coming from a client
 * arrive as exact decimals with 6 decimals ("micro" units of the major
 * unit: BILL_IN_SCALE) because the HTTP layer does not know the currency
 * yet; billing_amount_in() converts them exactly (more decimals than the
 * currency has -> ERR_INVALID naming the field, never rounded). Quantities
 * use QTY_SCALE 3 (quantity_milli: "0.333" = 333), percentages PCT_SCALE 4
 * (13 % = 130000).
 *
 * ROUNDING RULE (billing_compute; every value rounded once, half away from
 * zero, to the currency's minor unit):
 *   per line
 *     extended = round(quantity x unit price)
 *     discount = discountAmount, or round(extended x discountPercent / 100)
 *                (an amount larger than extended is refused at input)
 *     base     = extended - discount                       (never < 0)
 *     prices exclude tax: tax = round(base x taxPercent / 100)
 *                         line total = base + tax
 *     prices include tax: tax = round(base x taxPercent / (100 + taxPercent))
 *                         line total = base
 *     net      = line total - tax
 *   per document
 *     subtotal = sum(net + discount)
 *     discount = sum(line discount) + document discount (PUT discountAmount)
 *     tax      = sum(line tax), or the PUT taxAmount override when set
 *     total    = subtotal - discount + tax + late fee (once applied)
 *     paid     = sum(confirmed payment amounts) - sum(succeeded refunds)
 *     balance  = total - paid
 *   late fee (overdue job, once) = round(balance x lateFeePercentage / 100)
 * A client never supplies totals.
 *
 * TAX OF A LINE. A catalog line copies price, tax treatment and rate in
 * force at the time of sale (catalog_price_at at the document's creation):
 * taxable = the catalog rate (13 %), exempt / not_subject = 0. A line's
 * taxPercent overrides the rate of a taxable line (exempt / not_subject lines
 * with taxPercent > 0 are refused). A free line (no serviceId) takes
 * taxPercent (default 0) and treatment `taxable` when its rate is > 0, else
 * `exempt`, unless it names its treatment.
 *
 * STATUS MACHINE (billing_transition_allowed):
 *   draft -> pending ("pending_payment" in the clinic contract) -> partially_paid -> paid
 *   pending / partially_paid -> overdue (job "billing.overdue": local date of
 *       the tenant past due_date + grace_period_days; late fee applied once)
 *   overdue -> partially_paid / paid (payments); overdue -> pending /
 *       partially_paid when the due date is moved into the future
 *   paid -> partially_paid (partial refund); any paid state -> refunded when
 *       every confirmed payment is fully refunded
 *   draft / pending / partially_paid / overdue -> cancelled, with a reason,
 *       only while no payment is confirmed (else 409: refunds are the way)
 *   cancelled and refunded are final.
 * Illegal transitions -> ERR_CONFLICT named "INVALID_STATE" whose message
 * names the current state. Explicit transitions a client may ask for: only
 * draft -> pending (billing_update with status) and cancel; the others
 * follow from payments, refunds and the overdue job.
 *
 * NUMBERS. "INV-YYYYMMDD-NNNNNN" per tenant, YYYYMMDD = the creation date in
 * the tenant's time zone, NNNNNN from the `sequences` row ("INV-YYYYMMDD")
 * taken inside the creating transaction: unique and gap-free (a rollback
 * gives the number back). An order's number is its invoice number.
 *
 * TRANSACTIONS. Functions taking struct db *db open their own write
 * transaction (one per call, audit included). Functions taking struct
 * db_conn *c run inside the CALLER's open transaction (DB_WRITE + db_begin
 * for the writers) and never commit: Stripe and clinic code call them
 * inside their own transactions. Every write records its audit entry.
 * Document audit entries use the document's source as entity ("invoice",
 * "order"), payments "payment", refunds "refund".
 *
 * MEMORY. Results are in the arena passed in (strings and lists alike);
 * the structs own nothing. Inputs are borrowed for the call.
 */
#ifndef CL_MOD_BILLING_H
#define CL_MOD_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/money.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "mod/audit/audit.h"

struct app;
struct job;

#define BILL_IN_SCALE	      6	      /* decimals of client amounts before conversion (micro units) */
#define BILL_NUMBER_LEN	      19      /* "INV-20251014-000001" */
#define BILL_MAX_LINES	      500     /* lines per document */
#define BILL_TEXT_MAX	      2000    /* bytes of description / notes / internal notes */
#define BILL_LABEL_MAX	      200     /* bytes of item names, codes, types, terms */
#define BILL_REASON_MAX	      500     /* bytes of a cancel / refund / failure reason */
#define BILL_MAX_DIAGNOSES    12      /* diagnosis codes per line */
#define BILL_GRACE_MAX	      365     /* days */
#define BILL_LATE_FEE_MAX_PCT 1000000 /* 100 % at PCT_SCALE */

/* ---- enumerations ---- */

enum bill_status {
	BILL_DRAFT,
	BILL_PENDING, /* "pending"; clinic contract: "pending_payment" */
	BILL_PARTIALLY_PAID,
	BILL_PAID,
	BILL_OVERDUE,
	BILL_CANCELLED,
	BILL_REFUNDED,
	BILL_STATUS_COUNT
};

/* billing-service name: "draft" | "pending" | "partially_paid" | "paid" |
 * "overdue" | "cancelled" | "refunded". Static storage. */
const char *billing_status_name(enum bill_status s);
/* clinic-contract name: as above but "pending_payment" for BILL_PENDING. */
const char *billing_status_clinic_name(enum bill_status s);
/* Either name -> status; -1 when unknown. */
int billing_status_parse(const char *name);
/* May a document go from -> to? (The state graph above, ignoring the
 * payment conditions that billing_cancel checks.) from == to is false. */
bool billing_transition_allowed(enum bill_status from, enum bill_status to);
/* Fill e with ERR_CONFLICT named "INVALID_STATE":
 * "cannot <what>: invoice is <current state>" (doc_kind "invoice"/"order";
 * the state in the clinic spelling when doc_kind is "order"). Returns the code. */
int billing_invalid_state(struct err *e, const char *doc_kind, enum bill_status current, const char *what);

enum bill_tax { BILL_TAX_TAXABLE, BILL_TAX_EXEMPT, BILL_TAX_NOT_SUBJECT };
const char *billing_tax_name(enum bill_tax t); /* "taxable" | "exempt" | "not_subject" */
int billing_tax_parse(const char *name);       /* -1 when unknown */

enum bill_pay_method {
	BILL_PAY_CASH,
	BILL_PAY_CARD_PRESENT,
	BILL_PAY_CARD_ONLINE,
	BILL_PAY_BANK_TRANSFER,
	BILL_PAY_MOBILE_MONEY,
	BILL_PAY_INSURANCE,
	BILL_PAY_OTHER,
};
/* "cash" | "card_present" | "card_online" | "bank_transfer" |
 * "mobile_money" | "insurance" | "other". Static storage. */
const char *billing_pay_method_name(enum bill_pay_method m);
/* Method name -> method; -1 when unknown. */
int billing_pay_method_parse(const char *name);
/* A gateway's method word ("zain_cash", "card", "cash", "bank_transfer",
 * "mtn_momo", ...) -> our method; *detail (static or name itself, borrowed)
 * gets the specific wallet/product or NULL. Unknown words map to
 * BILL_PAY_OTHER with detail = name. Never fails. */
enum bill_pay_method billing_pay_method_from_gateway(const char *name, const char **detail);

enum bill_pay_status { BILL_PAYMENT_PENDING, BILL_PAYMENT_CONFIRMED, BILL_PAYMENT_FAILED, BILL_PAYMENT_REFUNDED };
const char *billing_pay_status_name(enum bill_pay_status s); /* "pending" | "confirmed" | "failed" | "refunded" */
int billing_pay_status_parse(const char *name);		     /* -1 when unknown */

enum bill_gateway { BILL_GATEWAY_MANUAL, BILL_GATEWAY_GATEWAY, BILL_GATEWAY_STRIPE };
const char *billing_gateway_name(enum bill_gateway g); /* "manual" | "gateway" | "stripe" */
int billing_gateway_parse(const char *name);	       /* -1 when unknown */

enum bill_refund_status { BILL_REFUND_PENDING, BILL_REFUND_SUCCEEDED, BILL_REFUND_FAILED };
const char *billing_refund_status_name(enum bill_refund_status s); /* "pending" | "succeeded" | "failed" */

/* ---- documents ---- */

/* One line as stored and shown. Strings in the arena, NULL when absent. */
struct bill_line {
	char id[UUID_LEN + 1];
	int line_number;	       /* 1-based, in input order */
	char service_id[UUID_LEN + 1]; /* catalog service, "" for a free line */
	const char *item_type;	       /* "consultation", "lab_test", catalog "service"/"good" ... */
	const char *item_name;
	const char *item_code;	    /* catalog code for catalog lines unless given */
	const char *procedure_code; /* CPT / HCPCS */
	const char *description;
	const char *unit_of_measure; /* free text ("each") or the catalog's CAT-014 code as text */
	int64_t quantity_milli;	     /* QTY_SCALE */
	int64_t unit_price_minor;
	int64_t discount_pct;	/* PCT_SCALE; 0 when the discount is an amount */
	int64_t discount_minor; /* computed from discount_pct, or the given amount */
	enum bill_tax tax_treatment;
	int64_t tax_pct; /* PCT_SCALE */
	/* computed by billing_compute */
	int64_t extended_minor; /* round(quantity x unit price); not stored, recomputed */
	int64_t net_minor, tax_minor, total_minor;
	char service_date[DATE_LEN + 1]; /* "" when none */
	const char *service_provider_id;
	const char **diagnosis_codes; /* arena array of n_diagnosis_codes strings */
	size_t n_diagnosis_codes;
};

struct bill_payment {
	char id[UUID_LEN + 1];
	char document_id[UUID_LEN + 1];
	enum bill_pay_method method;
	const char *method_detail; /* "zain_cash" ...; NULL */
	int64_t amount_minor;
	char currency[4];
	enum bill_pay_status status;
	int64_t refunded_minor; /* sum of succeeded refunds of this payment */
	enum bill_gateway gateway;
	const char *gateway_payment_id; /* gateway paymentId / Stripe PaymentIntent id; NULL */
	const char *gateway_reference;	/* "PAY-20251014-ABC123"; NULL */
	const char *stripe_charge_id;
	const char *card_brand;
	const char *card_last4;
	const char *receipt_url;
	const char *failure_reason;
	char confirmed_at[TIME_ISO_LEN + 1]; /* "" when not */
	char failed_at[TIME_ISO_LEN + 1];
	char created_by[40];
	char created_at[TIME_ISO_LEN + 1];
	char updated_at[TIME_ISO_LEN + 1];
};

struct bill_refund {
	char id[UUID_LEN + 1];
	char payment_id[UUID_LEN + 1];
	char document_id[UUID_LEN + 1];
	int64_t amount_minor;
	const char *reason;
	enum bill_refund_status status;
	const char *gateway_refund_id; /* Stripe re_...; NULL */
	char created_by[40];
	char created_at[TIME_ISO_LEN + 1];
	char updated_at[TIME_ISO_LEN + 1];
};

struct bill_document {
	char id[UUID_LEN + 1];
	char number[BILL_NUMBER_LEN + 1];
	char source[16];		/* "invoice" | "order" | ... : the contract that created it */
	char patient_id[UUID_LEN + 1];	/* "" when none */
	char facility_id[UUID_LEN + 1]; /* "" when none */
	const char *invoice_type;	/* "consultation" ...; NULL */
	enum bill_status status;
	char currency[4];
	int minor_units; /* of currency */
	char invoice_date[DATE_LEN + 1];
	char due_date[DATE_LEN + 1]; /* "" when none */
	const char *payment_terms;   /* "Net 30"; NULL */
	int grace_period_days;
	int64_t late_fee_pct;			    /* PCT_SCALE */
	int64_t late_fee_minor;			    /* 0 until the overdue job applies it */
	char late_fee_applied_at[TIME_ISO_LEN + 1]; /* "" until then */
	bool prices_include_tax;
	int64_t subtotal_minor;
	int64_t discount_minor;	    /* line discounts + doc_discount_minor */
	int64_t doc_discount_minor; /* document-level discount (PUT discountAmount) */
	int64_t tax_minor;	    /* sum of line tax, or the override */
	bool has_tax_override;
	int64_t tax_override_minor; /* PUT taxAmount */
	int64_t total_minor;
	int64_t paid_minor;	/* confirmed payments - succeeded refunds */
	int64_t refunded_minor; /* succeeded refunds */
	int64_t balance_minor;	/* total - paid */
	const char *description;
	const char *internal_notes;
	const char *notes;
	const char *external_ref; /* caller's own reference, unique per tenant; NULL */
	char cancelled_at[TIME_ISO_LEN + 1];
	const char *cancel_reason;
	char paid_at[TIME_ISO_LEN + 1];
	char created_by[40];
	char created_at[TIME_ISO_LEN + 1];
	char updated_at[TIME_ISO_LEN + 1];
	int64_t version;	 /* +1 on every write */
	char tax_doc_type[3];	 /* fiscal document asked for: "01" | "03"; "" = none */
	struct bill_line *lines; /* arena; loaded when BILL_WITH_LINES */
	size_t nlines;
	struct bill_payment *payments; /* arena, oldest first; loaded when BILL_WITH_PAYMENTS */
	size_t npayments;
	struct bill_refund *refunds; /* arena, oldest first; loaded when BILL_WITH_PAYMENTS */
	size_t nrefunds;
};

/* What billing_get / billing_list load besides the document row. */
enum bill_with {
	BILL_WITH_LINES = 1u << 0,
	BILL_WITH_PAYMENTS = 1u << 1, /* payments and refunds */
	BILL_FOR_UPDATE = 1u << 2,    /* billing_get_conn: take the row lock first (write transaction) */
};

/* ---- input ---- */

/* One line of a create (or of a line replacement). Strings borrowed; NULL
 * = absent. Amounts in micro units (BILL_IN_SCALE) until converted. */
struct bill_line_input {
	const char *service_id;	    /* catalog service UUID: price, tax, name, code copied; or NULL */
	const char *item_type;	    /* default: catalog item type name, or "other" */
	const char *item_name;	    /* required for a free line; default: catalog name */
	const char *item_code;	    /* default: catalog code */
	const char *procedure_code; /* default: catalog procedure code */
	const char *description;
	const char *unit_of_measure; /* default: catalog CAT-014 code as text, or NULL */
	int64_t quantity_milli;	     /* > 0; QTY_SCALE */
	bool has_unit_price;	     /* required for a free line; with a service: overrides the catalog price */
	int64_t unit_price_micro;    /* >= 0 */
	bool has_discount_pct;
	int64_t discount_pct; /* 0..100 % at PCT_SCALE */
	bool has_discount_amount;
	int64_t discount_amount_micro; /* >= 0, <= extended; not with a non-zero discount_pct */
	bool has_tax_pct;
	int64_t tax_pct;	   /* 0..100 % at PCT_SCALE */
	const char *tax_treatment; /* free lines only: "taxable" | "exempt" | "not_subject" */
	const char *service_date;  /* "YYYY-MM-DD" */
	const char *service_provider_id;
	const char *const *diagnosis_codes;
	size_t n_diagnosis_codes;
};

/* A new document. Strings borrowed; NULL = absent / default. */
struct bill_input {
	const char *source;	  /* "invoice" | "order" (required) */
	const char *patient_id;	  /* UUID of a patient of the tenant, or NULL */
	const char *facility_id;  /* UUID or NULL */
	const char *invoice_type; /* free label ("consultation") or NULL */
	const char *invoice_date; /* "YYYY-MM-DD"; default today in the tenant's zone */
	const char *due_date;	  /* >= invoice_date; default: none */
	const char *currency;	  /* ISO 4217; default: the tenant's currency */
	const char *payment_terms;
	bool has_grace_period;
	int grace_period_days; /* 0..BILL_GRACE_MAX; default 0 */
	bool has_late_fee_pct;
	int64_t late_fee_pct;	 /* PCT_SCALE, 0..100 %; default 0 */
	bool prices_include_tax; /* default false (invoices); orders decide */
	int initial_status;	 /* BILL_DRAFT or BILL_PENDING; -1 = BILL_PENDING */
	const char *description;
	const char *internal_notes;
	const char *notes;
	const char *external_ref; /* unique per tenant (ERR_CONFLICT naming "externalRef") */
	const struct bill_line_input *lines;
	size_t nlines;		  /* 1..BILL_MAX_LINES */
	const char *tax_doc_type; /* "01" | "03" or NULL; the caller checked the receptor */
	const char *audit_reason; /* may be NULL */
	/* field names for errors, so each contract names its own members;
	 * NULL = the billing-service names ("lineItems", "patientId") */
	const char *lines_field;
};

/* Which members of struct bill_update are set. */
enum bill_update_field {
	BILL_U_DUE_DATE = 1u << 0,
	BILL_U_TAX_AMOUNT = 1u << 1,	  /* tax override; has_tax_amount false with the bit = clear it */
	BILL_U_DISCOUNT_AMOUNT = 1u << 2, /* document discount */
	BILL_U_INTERNAL_NOTES = 1u << 3,
	BILL_U_PAYMENT_TERMS = 1u << 4,
	BILL_U_DESCRIPTION = 1u << 5,
	BILL_U_GRACE = 1u << 6,
	BILL_U_LATE_FEE_PCT = 1u << 7,
	BILL_U_STATUS = 1u << 8, /* only draft -> pending */
	BILL_U_NOTES = 1u << 9,
	BILL_U_PATIENT = 1u << 10, /* no payments yet */
	BILL_U_FACILITY = 1u << 11,
	BILL_U_INVOICE_TYPE = 1u << 12,
	BILL_U_LINES = 1u << 13, /* replace all lines: draft / pending without payments */
	BILL_U_EXTERNAL_REF = 1u << 14,
	BILL_U_TAX_DOC = 1u << 15, /* tax_doc_type; not on cancelled / refunded documents */
};

/* A partial update. Strings borrowed; a NULL string with its bit set
 * clears the member. Money fields in micro units. */
struct bill_update {
	unsigned set; /* enum bill_update_field bits */
	const char *due_date;
	bool has_tax_amount;
	int64_t tax_amount_micro;      /* >= 0 */
	int64_t discount_amount_micro; /* >= 0; the document discount, replacing the previous one */
	const char *internal_notes;
	const char *payment_terms;
	const char *description;
	const char *notes;
	int grace_period_days;
	int64_t late_fee_pct;
	int status; /* enum bill_status wanted */
	const char *patient_id;
	const char *facility_id;
	const char *invoice_type;
	const struct bill_line_input *lines;
	size_t nlines;
	const char *external_ref;
	const char *reason;	 /* audit reason; may be NULL */
	const char *lines_field; /* as in bill_input */
	const char *tax_doc_type; /* "01" | "03"; NULL with BILL_U_TAX_DOC clears */
};

/* List filters; NULL / false members do not filter. */
struct bill_filter {
	const char *source; /* "invoice" / "order" / NULL = any */
	const char *patient_id;
	const char *facility_id;
	unsigned status_mask;	  /* bits (1u << enum bill_status); 0 = any */
	const char *invoice_type; /* exact */
	const char *date_from;	  /* invoice_date >= (YYYY-MM-DD) */
	const char *date_to;	  /* invoice_date <= */
	const char *currency;
	const char *number; /* exact document number */
	const char *number_prefix; /* number starts with it (order-number search) */
	bool has_min_total;
	int64_t min_total_micro; /* total_amount >= (compared exactly at each document's scale) */
	bool has_max_total;
	int64_t max_total_micro;
};

/* Aggregates over the tenant's documents in one currency. */
struct bill_stats_filter {
	const char *source; /* NULL = any */
	const char *facility_id;
	const char *date_from; /* invoice_date range, inclusive */
	const char *date_to;
	const char *currency; /* default: the tenant's currency */
};

struct bill_stats {
	char currency[4];
	int minor_units;
	int64_t total_invoices;		  /* every document but drafts and cancelled ones */
	int64_t total_amount_minor;	  /* sum of total over them */
	int64_t total_paid_minor;	  /* sum of paid */
	int64_t total_outstanding_minor;  /* sum of balance of pending, partially_paid, overdue */
	int64_t average_amount_minor;	  /* round(total_amount / total_invoices); 0 when none */
	int64_t count[BILL_STATUS_COUNT]; /* per status, drafts and cancelled included */
};

/* One currency's totals of a patient (billing_patient_totals). */
struct bill_currency_totals {
	char currency[4];
	int minor_units;
	int64_t documents;     /* documents counted */
	int64_t billed_minor;  /* sum(total) */
	int64_t paid_minor;    /* sum(paid) */
	int64_t balance_minor; /* sum(balance) */
};

/* ---- pure rules (no database) ---- */

/* Convert a client amount in micro units to minor units of currency code:
 * exact or ERR_INVALID naming field ("must have at most 2 decimals for
 * USD"). Unknown currency -> ERR_INVALID naming "currency". */
int billing_amount_in(const char *currency, int64_t micro, const char *field, int64_t *minor_out, struct err *e);

/* Apply THE rounding rule: recompute every line's discount (from
 * discount_pct when non-zero), extended, net, tax and total, then the
 * document's subtotal, discount, tax (or the override), total (with the
 * late fee), balance (total - paid_minor, which it does not change).
 * Reads: lines[].quantity_milli, unit_price_minor, discount_pct,
 * discount_minor, tax_pct; prices_include_tax, doc_discount_minor,
 * has_tax_override, tax_override_minor, late_fee_minor, paid_minor.
 * Overflow -> ERR_INVALID. */
int billing_compute(struct bill_document *d, struct err *e);

/* One line only (the first half of billing_compute). */
int billing_compute_line(struct bill_line *l, bool prices_include_tax, struct err *e);

/* round(balance x late_fee_pct / 100) in minor units; 0 when balance <= 0. */
int64_t billing_late_fee(int64_t balance_minor, int64_t late_fee_pct);

/* The status a document should have after its money changed: from paid,
 * refunded and total (and whether any payment was ever confirmed), keeping
 * draft / cancelled / refunded-final, and overdue while unpaid. */
enum bill_status billing_status_after_money(const struct bill_document *d);

/* "INV-YYYYMMDD-NNNNNN" into out[BILL_NUMBER_LEN + 1] from a local date
 * "YYYY-MM-DD" and a sequence value 1..999999 (larger values widen). */
void billing_number_format(const char *local_date, int64_t seq, char *out, size_t outlen);

/* ---- documents: operations with their own transaction ---- */

/* Validate in, then in one write transaction: resolve defaults (tenant
 * currency and zone), check the patient, copy catalog lines
 * (catalog_price_at now), compute, take the number, insert document and
 * lines, audit "<source>.create". *out: the new document with lines (arena).
 * Bad input -> ERR_INVALID naming the field (lines as
 * "<lines_field>[i].member"); unknown service -> ERR_INVALID naming
 * "<lines_field>[i].serviceId"; a service in another currency than the
 * document -> ERR_INVALID. */
int billing_create(struct db *db, const struct actor *who, const struct bill_input *in, struct arena *a,
		   struct bill_document **out, struct err *e);

/* One document of tenant_id (another tenant's -> ERR_NOT_FOUND; an id that
 * is not a UUID too). with: enum bill_with bits. */
int billing_get(struct db *db, const char *tenant_id, const char *id, unsigned with, struct arena *a,
		struct bill_document **out, struct err *e);
/* By external reference (NULL when none: ERR_NOT_FOUND). */
int billing_get_by_external_ref(struct db *db, const char *tenant_id, const char *external_ref, unsigned with,
				struct arena *a, struct bill_document **out, struct err *e);

/* A page (1-based) of the tenant's documents, newest invoice_date first
 * (then created_at, id). *out arena array of *n; *total all matches. */
int billing_list(struct db *db, const char *tenant_id, const struct bill_filter *f, int page, int limit, unsigned with,
		 struct arena *a, struct bill_document **out, size_t *n, int64_t *total, struct err *e);

/* Apply a partial update in one transaction (row lock, checks, recompute,
 * audit "<source>.update" with before/after; nothing changed -> nothing
 * written). Money changes on paid / cancelled / refunded documents and any
 * change on cancelled / refunded ones -> INVALID_STATE. A discount or tax
 * that would bring the total below the amount paid -> ERR_INVALID. *out
 * (with lines and payments) in a. */
int billing_update(struct db *db, const struct actor *who, const char *id, const struct bill_update *in,
		   struct arena *a, struct bill_document **out, struct err *e);

/* Cancel with a reason (required, 1..BILL_REASON_MAX): status cancelled,
 * cancelled_at, cancel_reason, internal_notes += "[CANCELLED] <reason>"
 * (after the previous notes and a space). A confirmed payment (not fully
 * refunded) or status paid / refunded / cancelled -> INVALID_STATE.
 * Audit "<source>.cancel". *out in a (with lines and payments). */
int billing_cancel(struct db *db, const struct actor *who, const char *id, const char *reason, struct arena *a,
		   struct bill_document **out, struct err *e);

/* Totals per currency of the tenant's documents of one patient, every
 * source, drafts and cancelled documents excluded, ordered by currency.
 * *out arena array of *n (NULL / 0 when none). */
int billing_patient_totals(struct db *db, const char *tenant_id, const char *patient_id, struct arena *a,
			   struct bill_currency_totals **out, size_t *n, struct err *e);

/* Aggregates (struct bill_stats) over the tenant's documents. */
int billing_statistics(struct db *db, const char *tenant_id, const struct bill_stats_filter *f, struct bill_stats *out,
		       struct err *e);

/* ---- documents: inside the caller's transaction on c ---- */

/* billing_create on an open write transaction (the caller commits). */
int billing_create_conn(struct db_conn *c, const struct actor *who, const struct bill_input *in, struct arena *a,
			struct bill_document **out, struct err *e);
/* billing_get on c; with BILL_FOR_UPDATE the document's row is locked
 * first (c must be in a write transaction). */
int billing_get_conn(struct db_conn *c, const char *tenant_id, const char *id, unsigned with, struct arena *a,
		     struct bill_document **out, struct err *e);

/* Webhooks only, AFTER their signature is verified: the tenant owning
 * document id, across tenants, into tenant_out[37]. ERR_NOT_FOUND. */
int billing_document_tenant(struct db_conn *c, const char *id, char tenant_out[UUID_LEN + 1], struct err *e);

/* ---- payments and refunds: inside the caller's open WRITE transaction ----
 *
 * Each locks the document row, writes the payment / refund, recomputes
 * paid / refunded / balance / status / paid_at of the document in the same
 * transaction, and audits ("payment.create", "payment.confirm",
 * "payment.fail", "refund.create", "refund.succeed", "refund.fail", plus
 * "<source>.status" when the document's status changed). The actor's
 * tenant_id scopes everything. */

struct bill_payment_input {
	enum bill_pay_method method;
	const char *method_detail;   /* "zain_cash" ...; NULL */
	int64_t amount_minor;	     /* > 0 (>= 0 when FAILED), in the document's minor units */
	const char *currency;	     /* NULL = the document's; else must equal it (ERR_INVALID "currency") */
	enum bill_pay_status status; /* PENDING (gateway in flight) or CONFIRMED (money received) */
	enum bill_gateway gateway;
	const char *gateway_payment_id; /* unique per tenant: a second record with it -> ERR_CONFLICT */
	const char *gateway_reference;
	const char *stripe_charge_id;
	const char *card_brand;
	const char *card_last4; /* exactly 4 digits or NULL (never a card number) */
	const char *receipt_url;
	const char *audit_reason;   /* may be NULL */
	const char *failure_reason; /* status FAILED: why (may be NULL) */
};

/* Record a payment against document doc_id.
 * MANUAL (desk) payments: document draft / cancelled / refunded / paid ->
 * INVALID_STATE; amount > balance -> ERR_INVALID naming "amount" (no
 * overpayment at the desk). GATEWAY / STRIPE payments report money the
 * gateway took or is taking: recorded in any document state and for any
 * amount > 0 (an overpaid or cancelled document then awaits a refund).
 * status FAILED records a failed attempt (amount_minor 0 = unknown).
 * gateway_payment_id taken -> ERR_CONFLICT naming "gatewayPaymentId".
 * id_out (may be NULL) gets the payment id. */
int billing_payment_record(struct db_conn *c, const struct actor *who, const char *doc_id,
			   const struct bill_payment_input *in, char id_out[UUID_LEN + 1], struct err *e);

/* Extra facts a gateway reports at confirmation; all optional (NULL keeps). */
struct bill_payment_confirm {
	int64_t amount_minor; /* 0 = the recorded amount; else the amount actually captured */
	const char *gateway_reference;
	const char *stripe_charge_id;
	const char *card_brand;
	const char *card_last4;
	const char *receipt_url;
	const char *method_detail;
};

/* pending / failed -> confirmed (money received: accepted even past the
 * balance, and even on a cancelled document, which then awaits a refund).
 * Already confirmed (or refunded) -> nothing changes, *changed = false
 * (idempotent replays). conf may be NULL. changed may be NULL. */
int billing_payment_confirm(struct db_conn *c, const struct actor *who, const char *payment_id,
			    const struct bill_payment_confirm *conf, bool *changed, struct err *e);
/* pending -> failed with a reason. Already failed -> nothing, *changed
 * false. Confirmed / refunded -> INVALID_STATE. */
int billing_payment_fail(struct db_conn *c, const struct actor *who, const char *payment_id, const char *reason,
			 bool *changed, struct err *e);
/* The same by the gateway's payment id (Stripe PaymentIntent id). Unknown
 * -> ERR_NOT_FOUND. */
int billing_payment_confirm_by_gateway(struct db_conn *c, const struct actor *who, const char *gateway_payment_id,
				       const struct bill_payment_confirm *conf, bool *changed, struct err *e);
int billing_payment_fail_by_gateway(struct db_conn *c, const struct actor *who, const char *gateway_payment_id,
				    const char *reason, bool *changed, struct err *e);
/* Update receipt / card facts of a payment without changing its status
 * (Stripe charge.succeeded arriving after payment_intent.succeeded). */
int billing_payment_annotate(struct db_conn *c, const struct actor *who, const char *payment_id,
			     const struct bill_payment_confirm *facts, struct err *e);

/* Lookups (tenant of who / tenant_id). ERR_NOT_FOUND when absent. */
int billing_payment_get(struct db_conn *c, const char *tenant_id, const char *payment_id, struct arena *a,
			struct bill_payment **out, struct err *e);
int billing_payment_get_by_gateway(struct db_conn *c, const char *tenant_id, const char *gateway_payment_id,
				   struct arena *a, struct bill_payment **out, struct err *e);
/* A page of the tenant's payments, newest first; document_id / status /
 * method (-1 = any) filter. */
struct bill_payment_filter {
	const char *document_id;
	int status;	       /* enum bill_pay_status or -1 */
	int method;	       /* enum bill_pay_method or -1 */
	const char *date_from; /* created_at date >= (YYYY-MM-DD, UTC) */
	const char *date_to;
};
int billing_payment_list(struct db_conn *c, const char *tenant_id, const struct bill_payment_filter *f, int page,
			 int limit, struct arena *a, struct bill_payment **out, size_t *n, int64_t *total,
			 struct err *e);

/* Refund amount_minor of a confirmed payment (<= amount - refunded - other
 * pending refunds, else ERR_INVALID naming "amount"; payment not confirmed
 * -> INVALID_STATE). status PENDING (a gateway refund in flight: money moves
 * on billing_refund_succeed) or SUCCEEDED (cash handed back: applied now).
 * reason required. gateway_refund_id may be NULL. id_out may be NULL. */
int billing_refund_record(struct db_conn *c, const struct actor *who, const char *payment_id, int64_t amount_minor,
			  const char *reason, enum bill_refund_status status, const char *gateway_refund_id,
			  char id_out[UUID_LEN + 1], struct err *e);
/* pending -> succeeded (applies it: payment refunded_minor, its status
 * refunded when fully refunded, document paid/balance/status). Already
 * succeeded -> nothing, *changed false. gateway_refund_id (may be NULL) is
 * stored when given. */
int billing_refund_succeed(struct db_conn *c, const struct actor *who, const char *refund_id,
			   const char *gateway_refund_id, bool *changed, struct err *e);
/* pending -> failed. Already failed -> nothing. Succeeded -> INVALID_STATE. */
int billing_refund_fail(struct db_conn *c, const struct actor *who, const char *refund_id, const char *reason,
			bool *changed, struct err *e);
int billing_refund_get(struct db_conn *c, const char *tenant_id, const char *refund_id, struct arena *a,
		       struct bill_refund **out, struct err *e);
int billing_refund_get_by_gateway(struct db_conn *c, const char *tenant_id, const char *gateway_refund_id,
				  struct arena *a, struct bill_refund **out, struct err *e);

/* ---- convenience wrappers with their own transaction (db_acquire DB_WRITE,
 * begin, call, commit) ---- */
int billing_payment_record_tx(struct db *db, const struct actor *who, const char *doc_id,
			      const struct bill_payment_input *in, char id_out[UUID_LEN + 1], struct err *e);
int billing_payment_confirm_tx(struct db *db, const struct actor *who, const char *payment_id,
			       const struct bill_payment_confirm *conf, bool *changed, struct err *e);
int billing_payment_fail_tx(struct db *db, const struct actor *who, const char *payment_id, const char *reason,
			    bool *changed, struct err *e);
int billing_refund_record_tx(struct db *db, const struct actor *who, const char *payment_id, int64_t amount_minor,
			     const char *reason, enum bill_refund_status status, const char *gateway_refund_id,
			     char id_out[UUID_LEN + 1], struct err *e);

/* ---- the daily job "billing.overdue" ---- */

/* Mark overdue every pending / partially_paid document of every tenant
 * whose tenant-local date at now_s is past due_date + grace_period_days,
 * applying the late fee once (audited "<source>.overdue" by the system
 * actor; one transaction per document; idempotent). *marked (may be NULL)
 * gets how many changed. */
int billing_overdue_run(struct db *db, int64_t now_s, int64_t *marked, struct err *e);
/* The job handler (job_types.c row "billing.overdue"). */
int billing_overdue_job(struct app *app, const struct job *job, struct err *e);

#endif
