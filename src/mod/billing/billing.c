/*
 * billing.c - the rules of billing documents: names of statuses, methods
 * and treatments, the state graph, THE rounding rule (billing_compute),
 * numbering, input validation, and the document operations (create, get,
 * list, update, cancel, statistics, the overdue job), each write one
 * transaction with its audit entry. All SQL is in billing_repo.c; payments
 * and refunds are in billing_payments.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "mod/billing/billing_repo.h"
#include "mod/catalog/catalog.h"

/* ---- names ---- */

static const char *const status_names[BILL_STATUS_COUNT] = {
    [BILL_DRAFT] = "draft",	  [BILL_PENDING] = "pending", [BILL_PARTIALLY_PAID] = "partially_paid",
    [BILL_PAID] = "paid",	  [BILL_OVERDUE] = "overdue", [BILL_CANCELLED] = "cancelled",
    [BILL_REFUNDED] = "refunded",
};

const char *billing_status_name(enum bill_status s)
{
	return (unsigned)s < BILL_STATUS_COUNT ? status_names[s] : "pending";
}

const char *billing_status_clinic_name(enum bill_status s)
{
	return s == BILL_PENDING ? "pending_payment" : billing_status_name(s);
}

int billing_status_parse(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "pending_payment") == 0)
		return BILL_PENDING;
	for (int i = 0; i < BILL_STATUS_COUNT; i++)
		if (strcmp(name, status_names[i]) == 0)
			return i;
	return -1;
}

#define B(s) (1u << (s))
/* allowed[from] = bit set of the states `from` may move to */
static const unsigned allowed[BILL_STATUS_COUNT] = {
    [BILL_DRAFT] = B(BILL_PENDING) | B(BILL_PARTIALLY_PAID) | B(BILL_PAID) | B(BILL_CANCELLED),
    [BILL_PENDING] = B(BILL_PARTIALLY_PAID) | B(BILL_PAID) | B(BILL_OVERDUE) | B(BILL_CANCELLED),
    [BILL_PARTIALLY_PAID] = B(BILL_PAID) | B(BILL_OVERDUE) | B(BILL_REFUNDED) | B(BILL_CANCELLED),
    [BILL_PAID] = B(BILL_PARTIALLY_PAID) | B(BILL_REFUNDED),
    [BILL_OVERDUE] = B(BILL_PARTIALLY_PAID) | B(BILL_PAID) | B(BILL_PENDING) | B(BILL_CANCELLED),
    [BILL_CANCELLED] = 0,
    [BILL_REFUNDED] = 0,
};
#undef B

bool billing_transition_allowed(enum bill_status from, enum bill_status to)
{
	if ((unsigned)from >= BILL_STATUS_COUNT || (unsigned)to >= BILL_STATUS_COUNT || from == to)
		return false;
	return (allowed[from] & (1u << to)) != 0;
}

int billing_invalid_state(struct err *e, const char *doc_kind, enum bill_status current, const char *what)
{
	bool clinic = doc_kind && strcmp(doc_kind, "order") == 0;

	err_set(e, ERR_CONFLICT, NULL, "cannot %s: %s is %s", what, doc_kind ? doc_kind : "invoice",
		clinic ? billing_status_clinic_name(current) : billing_status_name(current));
	return err_name(e, "INVALID_STATE");
}

static const char *const tax_names[] = {"taxable", "exempt", "not_subject"};

const char *billing_tax_name(enum bill_tax t)
{
	return (unsigned)t < 3 ? tax_names[t] : "taxable";
}

int billing_tax_parse(const char *name)
{
	for (int i = 0; name && i < 3; i++)
		if (strcmp(name, tax_names[i]) == 0)
			return i;
	return -1;
}

static const char *const method_names[] = {"cash",	   "card_present", "card_online", "bank_transfer",
					   "mobile_money", "insurance",	   "other"};

const char *billing_pay_method_name(enum bill_pay_method m)
{
	return (unsigned)m < 7 ? method_names[m] : "other";
}

int billing_pay_method_parse(const char *name)
{
	for (int i = 0; name && i < 7; i++)
		if (strcmp(name, method_names[i]) == 0)
			return i;
	return -1;
}

enum bill_pay_method billing_pay_method_from_gateway(const char *name, const char **detail)
{
	static const struct {
		const char *word;
		enum bill_pay_method method;
	} words[] = {
	    {"zain_cash", BILL_PAY_MOBILE_MONEY},    {"zaincash", BILL_PAY_MOBILE_MONEY},
	    {"mtn_momo", BILL_PAY_MOBILE_MONEY},     {"mtn_mobile_money", BILL_PAY_MOBILE_MONEY},
	    {"bankak", BILL_PAY_MOBILE_MONEY},	     {"mbok", BILL_PAY_MOBILE_MONEY},
	    {"syber_pay", BILL_PAY_MOBILE_MONEY},    {"cashi", BILL_PAY_MOBILE_MONEY},
	    {"orange_money", BILL_PAY_MOBILE_MONEY}, {"mpesa", BILL_PAY_MOBILE_MONEY},
	    {"m_pesa", BILL_PAY_MOBILE_MONEY},	     {"tigo_money", BILL_PAY_MOBILE_MONEY},
	    {"card", BILL_PAY_CARD_ONLINE},	     {"credit_card", BILL_PAY_CARD_ONLINE},
	    {"debit_card", BILL_PAY_CARD_ONLINE},    {"visa", BILL_PAY_CARD_ONLINE},
	    {"mastercard", BILL_PAY_CARD_ONLINE},    {"bank", BILL_PAY_BANK_TRANSFER},
	    {"wire", BILL_PAY_BANK_TRANSFER},	     {"transfer", BILL_PAY_BANK_TRANSFER},
	};
	int m;

	*detail = NULL;
	if (!name || !*name) {
		return BILL_PAY_OTHER;
	}
	m = billing_pay_method_parse(name);
	if (m >= 0)
		return (enum bill_pay_method)m;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(name, words[i].word) == 0) {
			*detail = name;
			return words[i].method;
		}
	*detail = name;
	return BILL_PAY_OTHER;
}

static const char *const pay_status_names[] = {"pending", "confirmed", "failed", "refunded"};

const char *billing_pay_status_name(enum bill_pay_status s)
{
	return (unsigned)s < 4 ? pay_status_names[s] : "pending";
}

int billing_pay_status_parse(const char *name)
{
	for (int i = 0; name && i < 4; i++)
		if (strcmp(name, pay_status_names[i]) == 0)
			return i;
	return -1;
}

static const char *const gateway_names[] = {"manual", "gateway", "stripe"};

const char *billing_gateway_name(enum bill_gateway g)
{
	return (unsigned)g < 3 ? gateway_names[g] : "manual";
}

int billing_gateway_parse(const char *name)
{
	for (int i = 0; name && i < 3; i++)
		if (strcmp(name, gateway_names[i]) == 0)
			return i;
	return -1;
}

const char *billing_refund_status_name(enum bill_refund_status s)
{
	return s == BILL_REFUND_SUCCEEDED ? "succeeded" : s == BILL_REFUND_FAILED ? "failed" : "pending";
}

/* ---- money rules ---- */

int billing_amount_in(const char *currency, int64_t micro, const char *field, int64_t *minor_out, struct err *e)
{
	const struct currency *cur = currency ? currency_find(currency) : NULL;
	int64_t factor = 1;

	if (!cur)
		return err_set(e, ERR_INVALID, "currency", "currency must be a supported ISO 4217 code");
	for (int i = cur->minor_units; i < BILL_IN_SCALE; i++)
		factor *= 10;
	if (micro % factor != 0)
		return err_set(e, ERR_INVALID, field, "%s must have at most %d decimals for %s", field,
			       cur->minor_units, cur->code);
	*minor_out = micro / factor;
	return 0;
}

/* round(num / den) half away from zero, den > 0; overflow of int64 -> ERR_INVALID. */
static int div_round(__int128 num, __int128 den, int64_t *out, struct err *e)
{
	__int128 q = num / den, r = num % den;

	if (r < 0)
		r = -r;
	if (2 * r >= den)
		q += num < 0 ? -1 : 1;
	if (q > INT64_MAX || q < INT64_MIN)
		return err_set(e, ERR_INVALID, NULL, "amount out of range");
	*out = (int64_t)q;
	return 0;
}

#define PCT_100 1000000 /* 100 % at PCT_SCALE */

int billing_compute_line(struct bill_line *l, bool prices_include_tax, struct err *e)
{
	int64_t ext = 0, disc = 0, base, tax = 0;
	int rc;

	rc = div_round((__int128)l->quantity_milli * l->unit_price_minor, 1000, &ext, e);
	if (rc)
		return rc;
	if (l->discount_pct > 0) {
		rc = div_round((__int128)ext * l->discount_pct, PCT_100, &disc, e);
		if (rc)
			return rc;
	} else {
		disc = l->discount_minor;
	}
	if (disc < 0)
		disc = 0;
	if (disc > ext)
		disc = ext; /* base never < 0 (input refuses larger amounts) */
	base = ext - disc;
	if (prices_include_tax)
		rc = div_round((__int128)base * l->tax_pct, (__int128)PCT_100 + l->tax_pct, &tax, e);
	else
		rc = div_round((__int128)base * l->tax_pct, PCT_100, &tax, e);
	if (rc)
		return rc;
	l->extended_minor = ext;
	l->discount_minor = disc;
	l->tax_minor = tax;
	l->total_minor = prices_include_tax ? base : base + tax;
	l->net_minor = l->total_minor - tax;
	return 0;
}

int billing_compute(struct bill_document *d, struct err *e)
{
	__int128 subtotal = 0, discount = 0, tax = 0, total;
	int rc;

	for (size_t i = 0; i < d->nlines; i++) {
		struct bill_line *l = &d->lines[i];
		rc = billing_compute_line(l, d->prices_include_tax, e);
		if (rc)
			return rc;
		subtotal += (__int128)l->net_minor + l->discount_minor;
		discount += l->discount_minor;
		tax += l->tax_minor;
	}
	discount += d->doc_discount_minor;
	if (d->has_tax_override)
		tax = d->tax_override_minor;
	total = subtotal - discount + tax + d->late_fee_minor;
	if (subtotal > INT64_MAX || discount > INT64_MAX || tax > INT64_MAX || total > INT64_MAX || total < INT64_MIN ||
	    total - d->paid_minor > INT64_MAX || total - d->paid_minor < INT64_MIN)
		return err_set(e, ERR_INVALID, NULL, "amount out of range");
	d->subtotal_minor = (int64_t)subtotal;
	d->discount_minor = (int64_t)discount;
	d->tax_minor = (int64_t)tax;
	d->total_minor = (int64_t)total;
	d->balance_minor = d->total_minor - d->paid_minor;
	return 0;
}

int64_t billing_late_fee(int64_t balance_minor, int64_t late_fee_pct)
{
	struct err e;
	int64_t fee = 0;

	if (balance_minor <= 0 || late_fee_pct <= 0)
		return 0;
	if (div_round((__int128)balance_minor * late_fee_pct, PCT_100, &fee, &e))
		return 0;
	return fee;
}

enum bill_status billing_status_after_money(const struct bill_document *d)
{
	int64_t confirmed = d->paid_minor + d->refunded_minor;

	if (d->status == BILL_CANCELLED || d->status == BILL_REFUNDED)
		return d->status;
	if (confirmed <= 0)
		return d->status == BILL_PARTIALLY_PAID || d->status == BILL_PAID ? BILL_PENDING : d->status;
	if (d->paid_minor <= 0)
		return BILL_REFUNDED;
	if (d->balance_minor <= 0)
		return BILL_PAID;
	return BILL_PARTIALLY_PAID;
}

void billing_number_format(const char *local_date, int64_t seq, char *out, size_t outlen)
{
	snprintf(out, outlen, "INV-%.4s%.2s%.2s-%06lld", local_date, local_date + 5, local_date + 8, (long long)seq);
}

/* ---- input checks ---- */

int billing__text_check(const char *v, const char *field, size_t max, bool allow_newlines, struct err *e)
{
	if (!v)
		return 0;
	if (strlen(v) > max)
		return err_set(e, ERR_INVALID, field, "%s must be at most %zu bytes", field, max);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if ((*p < 0x20 && !(allow_newlines && (*p == '\n' || *p == '\r' || *p == '\t'))) || *p == 0x7f)
			return err_set(e, ERR_INVALID, field, "%s must not contain control characters", field);
	return 0;
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* A required-when-given label: not blank, <= max, no control characters. */
static int label_check(const char *v, const char *field, size_t max, struct err *e)
{
	if (!v)
		return 0;
	if (!*v || blank(v))
		return err_set(e, ERR_INVALID, field, "%s must not be blank", field);
	return billing__text_check(v, field, max, false, e);
}

static bool diagnosis_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 16)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '.' ||
		      *s == '-'))
			return false;
	return true;
}

static const char *lines_name(const char *lines_field)
{
	return lines_field ? lines_field : "lineItems";
}

/* Field name "lineItems[i].member" in buf. */
static const char *lf(char *buf, size_t len, const char *lines_field, size_t i, const char *member)
{
	snprintf(buf, len, "%s[%zu].%s", lines_name(lines_field), i, member);
	return buf;
}

static int line_input_check(const struct bill_line_input *in, const char *lines_field, size_t i, struct err *e)
{
	char f[96];
	int rc;

	if (in->service_id && !uuid_valid(in->service_id))
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "serviceId"), "%s must be a UUID", f);
	if (!in->service_id && !in->item_name)
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "itemName"),
			       "%s is required for a line without serviceId", f);
	if (!in->service_id && !in->has_unit_price)
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "unitPrice"),
			       "%s is required for a line without serviceId", f);
	if ((rc = label_check(in->item_name, lf(f, sizeof(f), lines_field, i, "itemName"), BILL_LABEL_MAX, e)) ||
	    (rc = label_check(in->item_type, lf(f, sizeof(f), lines_field, i, "itemType"), BILL_LABEL_MAX, e)) ||
	    (rc = label_check(in->item_code, lf(f, sizeof(f), lines_field, i, "itemCode"), BILL_LABEL_MAX, e)) ||
	    (rc = label_check(in->procedure_code, lf(f, sizeof(f), lines_field, i, "procedureCode"), 32, e)) ||
	    (rc = billing__text_check(in->description, lf(f, sizeof(f), lines_field, i, "description"), BILL_TEXT_MAX,
				      true, e)) ||
	    (rc = label_check(in->unit_of_measure, lf(f, sizeof(f), lines_field, i, "unitOfMeasure"), 64, e)) ||
	    (rc = label_check(in->service_provider_id, lf(f, sizeof(f), lines_field, i, "serviceProviderId"), 64, e)))
		return rc;
	if (in->quantity_milli <= 0 || in->quantity_milli > 1000000000LL)
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "quantity"),
			       "%s must be greater than 0 and at most 1000000", f);
	if (in->has_unit_price && (in->unit_price_micro < 0 || in->unit_price_micro > 1000000000000000000LL))
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "unitPrice"), "%s must not be negative",
			       f);
	if (in->has_discount_pct && (in->discount_pct < 0 || in->discount_pct > PCT_100))
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "discountPercent"),
			       "%s must be between 0 and 100", f);
	if (in->has_discount_amount && in->discount_amount_micro < 0)
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "discountAmount"),
			       "%s must not be negative", f);
	if (in->has_discount_amount && in->discount_amount_micro > 0 && in->has_discount_pct && in->discount_pct > 0)
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "discountAmount"),
			       "give discountPercent or discountAmount, not both");
	if (in->has_tax_pct && (in->tax_pct < 0 || in->tax_pct > PCT_100))
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "taxPercent"),
			       "%s must be between 0 and 100", f);
	if (in->tax_treatment) {
		int t = billing_tax_parse(in->tax_treatment);
		if (t < 0)
			return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "taxTreatment"),
				       "%s must be one of taxable, exempt, not_subject", f);
		if (in->service_id)
			return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "taxTreatment"),
				       "%s comes from the catalog for a line with serviceId", f);
		if (t != BILL_TAX_TAXABLE && in->has_tax_pct && in->tax_pct > 0)
			return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "taxPercent"),
				       "%s must be 0 for an %s line", f, in->tax_treatment);
	}
	if (in->service_date && !date_valid(in->service_date))
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "serviceDate"),
			       "%s must be a date YYYY-MM-DD", f);
	if (in->n_diagnosis_codes > BILL_MAX_DIAGNOSES)
		return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "diagnosisCodes"),
			       "%s must have at most %d codes", f, BILL_MAX_DIAGNOSES);
	for (size_t k = 0; k < in->n_diagnosis_codes; k++)
		if (!in->diagnosis_codes[k] || !diagnosis_valid(in->diagnosis_codes[k]))
			return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "diagnosisCodes"),
				       "%s must be codes of 1-16 letters, digits, '.' or '-' (ICD-10)", f);
	return 0;
}

static int lines_check(const struct bill_line_input *lines, size_t n, const char *lines_field, struct err *e)
{
	const char *name = lines_name(lines_field);

	if (n < 1)
		return err_set(e, ERR_INVALID, name, "%s must have at least one item", name);
	if (n > BILL_MAX_LINES)
		return err_set(e, ERR_INVALID, name, "%s must have at most %d items", name, BILL_MAX_LINES);
	for (size_t i = 0; i < n; i++) {
		int rc = line_input_check(&lines[i], lines_field, i, e);
		if (rc)
			return rc;
	}
	return 0;
}

static bool source_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 15)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	return true;
}

static int input_check(const struct bill_input *in, struct err *e)
{
	int rc;

	if (!source_valid(in->source))
		return err_set(e, ERR_INVALID, "source", "source must be a document kind such as invoice or order");
	if (in->patient_id && !uuid_valid(in->patient_id))
		return err_set(e, ERR_INVALID, "patientId", "patientId must be a UUID");
	if (in->facility_id && !uuid_valid(in->facility_id))
		return err_set(e, ERR_INVALID, "facilityId", "facilityId must be a UUID");
	if ((rc = label_check(in->invoice_type, "invoiceType", BILL_LABEL_MAX, e)) ||
	    (rc = label_check(in->payment_terms, "paymentTerms", BILL_LABEL_MAX, e)) ||
	    (rc = billing__text_check(in->description, "description", BILL_TEXT_MAX, true, e)) ||
	    (rc = billing__text_check(in->internal_notes, "internalNotes", BILL_TEXT_MAX, true, e)) ||
	    (rc = billing__text_check(in->notes, "notes", BILL_TEXT_MAX, true, e)) ||
	    (rc = label_check(in->external_ref, "externalRef", 128, e)) ||
	    (rc = billing__text_check(in->audit_reason, "reason", BILL_REASON_MAX, true, e)))
		return rc;
	if (in->invoice_date && !date_valid(in->invoice_date))
		return err_set(e, ERR_INVALID, "invoiceDate", "invoiceDate must be a date YYYY-MM-DD");
	if (in->due_date && !date_valid(in->due_date))
		return err_set(e, ERR_INVALID, "dueDate", "dueDate must be a date YYYY-MM-DD");
	if (in->invoice_date && in->due_date && strcmp(in->due_date, in->invoice_date) < 0)
		return err_set(e, ERR_INVALID, "dueDate", "dueDate must not be before invoiceDate");
	if (in->currency && !currency_find(in->currency))
		return err_set(e, ERR_INVALID, "currency", "currency must be a supported ISO 4217 code");
	if (in->has_grace_period && (in->grace_period_days < 0 || in->grace_period_days > BILL_GRACE_MAX))
		return err_set(e, ERR_INVALID, "gracePeriodDays", "gracePeriodDays must be between 0 and %d",
			       BILL_GRACE_MAX);
	if (in->has_late_fee_pct && (in->late_fee_pct < 0 || in->late_fee_pct > BILL_LATE_FEE_MAX_PCT))
		return err_set(e, ERR_INVALID, "lateFeePercentage", "lateFeePercentage must be between 0 and 100");
	if (in->initial_status != -1 && in->initial_status != BILL_DRAFT && in->initial_status != BILL_PENDING)
		return err_set(e, ERR_INVALID, "status", "status of a new document must be draft or pending");
	return lines_check(in->lines, in->nlines, in->lines_field, e);
}

/* ---- building lines ---- */

/* Fill out[0..n) from the inputs for document d (currency known): catalog
 * lookups for service lines, amounts converted, computed. */
static int build_lines(struct db_conn *c, const char *tenant_id, struct bill_document *d,
		       const struct bill_line_input *in, size_t n, const char *lines_field, struct arena *a,
		       struct err *e)
{
	char f[96];
	int rc;

	d->lines = arena_alloc(a, n * sizeof(*d->lines));
	d->nlines = n;
	for (size_t i = 0; i < n; i++) {
		const struct bill_line_input *li = &in[i];
		struct bill_line *l = &d->lines[i];

		uuid_v7(l->id);
		l->line_number = (int)i + 1;
		l->item_type = arena_strdup(a, li->item_type);
		l->item_name = arena_strdup(a, li->item_name);
		l->item_code = arena_strdup(a, li->item_code);
		l->procedure_code = arena_strdup(a, li->procedure_code);
		l->description = arena_strdup(a, li->description);
		l->unit_of_measure = arena_strdup(a, li->unit_of_measure);
		l->quantity_milli = li->quantity_milli;
		l->service_provider_id = arena_strdup(a, li->service_provider_id);
		snprintf(l->service_date, sizeof(l->service_date), "%s", li->service_date ? li->service_date : "");
		if (li->n_diagnosis_codes) {
			l->diagnosis_codes = arena_alloc(a, li->n_diagnosis_codes * sizeof(char *));
			for (size_t k = 0; k < li->n_diagnosis_codes; k++)
				l->diagnosis_codes[k] = arena_strdup(a, li->diagnosis_codes[k]);
			l->n_diagnosis_codes = li->n_diagnosis_codes;
		}
		if (li->has_unit_price) {
			rc = billing_amount_in(d->currency, li->unit_price_micro,
					       lf(f, sizeof(f), lines_field, i, "unitPrice"), &l->unit_price_minor, e);
			if (rc)
				return rc;
		}
		if (li->has_discount_amount && li->discount_amount_micro > 0) {
			rc = billing_amount_in(d->currency, li->discount_amount_micro,
					       lf(f, sizeof(f), lines_field, i, "discountAmount"), &l->discount_minor,
					       e);
			if (rc)
				return rc;
		} else if (li->has_discount_pct) {
			l->discount_pct = li->discount_pct;
		}

		if (li->service_id) {
			struct catalog_service *svc = NULL;
			struct catalog_price price;

			rc = catalog_get(c, tenant_id, li->service_id, a, &svc, e);
			if (rc == 0)
				rc = catalog_price_at(c, tenant_id, li->service_id, NULL, &price, e);
			if (rc == ERR_NOT_FOUND)
				return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "serviceId"),
					       "%s does not name a service of this tenant", f);
			if (rc)
				return rc;
			if (!svc->active)
				return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "serviceId"),
					       "%s names an inactive service", f);
			if (strcmp(price.currency, d->currency) != 0)
				return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "serviceId"),
					       "%s is priced in %s, not in the document's currency %s", f,
					       price.currency, d->currency);
			snprintf(l->service_id, sizeof(l->service_id), "%s", li->service_id);
			if (!li->has_unit_price)
				l->unit_price_minor = price.price_minor;
			l->tax_treatment = price.tax == CATALOG_TAX_TAXABLE  ? BILL_TAX_TAXABLE
					   : price.tax == CATALOG_TAX_EXEMPT ? BILL_TAX_EXEMPT
									     : BILL_TAX_NOT_SUBJECT;
			if (l->tax_treatment == BILL_TAX_TAXABLE) {
				l->tax_pct = li->has_tax_pct ? li->tax_pct : (int64_t)price.tax_rate_bp * 100;
			} else if (li->has_tax_pct && li->tax_pct > 0) {
				return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "taxPercent"),
					       "%s must be 0: the service is %s", f,
					       billing_tax_name(l->tax_treatment));
			}
			if (!l->item_type)
				l->item_type = catalog_item_type_name(svc->item_type);
			if (!l->item_name)
				l->item_name = svc->name;
			if (!l->item_code)
				l->item_code = arena_strdup(a, svc->code);
			if (!l->procedure_code && svc->procedure_code[0])
				l->procedure_code = arena_strdup(a, svc->procedure_code);
			if (!l->unit_of_measure)
				l->unit_of_measure = arena_printf(a, "%d", svc->unit_of_measure);
		} else {
			l->tax_pct = li->has_tax_pct ? li->tax_pct : 0;
			if (li->tax_treatment)
				l->tax_treatment = (enum bill_tax)billing_tax_parse(li->tax_treatment);
			else
				l->tax_treatment = l->tax_pct > 0 ? BILL_TAX_TAXABLE : BILL_TAX_EXEMPT;
			if (!l->item_type)
				l->item_type = "other";
		}
		{
			int64_t given_discount = l->discount_minor;
			rc = billing_compute_line(l, d->prices_include_tax, e);
			if (rc)
				return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "quantity"),
					       "%s x unitPrice is out of range", f);
			if (l->discount_pct == 0 && given_discount > l->extended_minor)
				return err_set(e, ERR_INVALID, lf(f, sizeof(f), lines_field, i, "discountAmount"),
					       "%s must not exceed quantity x unitPrice", f);
		}
	}
	return 0;
}

/* ---- audit snapshots ---- */

static json_t *amount(int64_t v, int scale)
{
	return money_json_string(v, scale);
}

json_t *billing__audit_json(const struct bill_document *d)
{
	int s = d->minor_units;
	json_t *j = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i}", "number", d->number,
	    "source", d->source, "status", billing_status_name(d->status), "currency", d->currency, "invoiceDate",
	    d->invoice_date, "dueDate", d->due_date[0] ? d->due_date : NULL, "subtotal", amount(d->subtotal_minor, s),
	    "discount", amount(d->discount_minor, s), "tax", amount(d->tax_minor, s), "total",
	    amount(d->total_minor, s), "paid", amount(d->paid_minor, s), "balance", amount(d->balance_minor, s),
	    "lateFee", amount(d->late_fee_minor, s), "lines", (int)d->nlines, "gracePeriodDays", d->grace_period_days);

	if (!j)
		return json_object();
	if (d->patient_id[0])
		json_object_set_new(j, "patientId", json_string(d->patient_id));
	if (d->facility_id[0])
		json_object_set_new(j, "facilityId", json_string(d->facility_id));
	if (d->has_tax_override)
		json_object_set_new(j, "taxOverride", amount(d->tax_override_minor, s));
	if (d->doc_discount_minor)
		json_object_set_new(j, "documentDiscount", amount(d->doc_discount_minor, s));
	if (d->late_fee_pct) {
		char pct[MONEY_MAX_TEXT];
		money_format(d->late_fee_pct, PCT_SCALE, pct, sizeof(pct));
		json_object_set_new(j, "lateFeePercentage", json_string(pct));
	}
	if (d->payment_terms)
		json_object_set_new(j, "paymentTerms", json_string(d->payment_terms));
	if (d->invoice_type)
		json_object_set_new(j, "invoiceType", json_string(d->invoice_type));
	if (d->internal_notes)
		json_object_set_new(j, "internalNotes", json_string(d->internal_notes));
	if (d->description)
		json_object_set_new(j, "description", json_string(d->description));
	if (d->notes)
		json_object_set_new(j, "notes", json_string(d->notes));
	if (d->external_ref)
		json_object_set_new(j, "externalRef", json_string(d->external_ref));
	if (d->tax_doc_type[0])
		json_object_set_new(j, "taxDocumentType", json_string(d->tax_doc_type));
	return j;
}

json_t *billing__payment_audit_json(const struct bill_payment *p, int minor_units)
{
	json_t *j = json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:s}", "documentId", p->document_id, "method",
			      billing_pay_method_name(p->method), "amount", amount(p->amount_minor, minor_units),
			      "currency", p->currency, "status", billing_pay_status_name(p->status), "refunded",
			      amount(p->refunded_minor, minor_units), "gateway", billing_gateway_name(p->gateway));

	if (!j)
		return json_object();
	if (p->method_detail)
		json_object_set_new(j, "methodDetail", json_string(p->method_detail));
	if (p->gateway_payment_id)
		json_object_set_new(j, "gatewayPaymentId", json_string(p->gateway_payment_id));
	if (p->gateway_reference)
		json_object_set_new(j, "gatewayReference", json_string(p->gateway_reference));
	if (p->card_brand)
		json_object_set_new(j, "cardBrand", json_string(p->card_brand));
	if (p->card_last4)
		json_object_set_new(j, "cardLast4", json_string(p->card_last4));
	if (p->failure_reason)
		json_object_set_new(j, "failureReason", json_string(p->failure_reason));
	return j;
}

/* ---- loading ---- */

static int load_parts(struct db_conn *c, const char *tenant_id, struct bill_document *d, unsigned with, struct arena *a,
		      struct err *e)
{
	int rc = 0;

	if (with & BILL_WITH_LINES)
		rc = billing__lines_load(c, tenant_id, d, a, e);
	if (rc == 0 && (with & BILL_WITH_PAYMENTS))
		rc = billing__payments_load(c, tenant_id, d, a, e);
	return rc;
}

int billing_get_conn(struct db_conn *c, const char *tenant_id, const char *id, unsigned with, struct arena *a,
		     struct bill_document **out, struct err *e)
{
	int rc;

	*out = NULL;
	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	if (with & BILL_FOR_UPDATE) {
		rc = billing__doc_lock(c, tenant_id, id, e);
		if (rc)
			return rc;
	}
	rc = billing__doc_get(c, tenant_id, id, false, a, out, e);
	if (rc == 0)
		rc = load_parts(c, tenant_id, *out, with, a, e);
	if (rc)
		*out = NULL;
	return rc;
}

int billing__lock_load(struct db_conn *c, const char *tenant_id, const char *id, struct arena *a,
		       struct bill_document **out, struct err *e)
{
	return billing_get_conn(c, tenant_id, id, BILL_FOR_UPDATE, a, out, e);
}

int billing_get(struct db *db, const char *tenant_id, const char *id, unsigned with, struct arena *a,
		struct bill_document **out, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	*out = NULL;
	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = billing_get_conn(c, tenant_id, id, with & ~(unsigned)BILL_FOR_UPDATE, a, out, e);
	db_release(c);
	return rc;
}

int billing_get_by_external_ref(struct db *db, const char *tenant_id, const char *external_ref, unsigned with,
				struct arena *a, struct bill_document **out, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	*out = NULL;
	if (!external_ref)
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = billing__doc_get(c, tenant_id, external_ref, true, a, out, e);
	if (rc == 0)
		rc = load_parts(c, tenant_id, *out, with, a, e);
	if (rc)
		*out = NULL;
	db_release(c);
	return rc;
}

int billing_list(struct db *db, const char *tenant_id, const struct bill_filter *f, int page, int limit, unsigned with,
		 struct arena *a, struct bill_document **out, size_t *n, int64_t *total, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (page < 1 || limit < 1)
		return err_set(e, ERR_INVALID, "page", "page and limit must be positive");
	if (f->date_from && !date_valid(f->date_from))
		return err_set(e, ERR_INVALID, "startDate", "startDate must be a date YYYY-MM-DD");
	if (f->date_to && !date_valid(f->date_to))
		return err_set(e, ERR_INVALID, "endDate", "endDate must be a date YYYY-MM-DD");
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = billing__doc_list(c, tenant_id, f, (int64_t)(page - 1) * limit, limit, a, out, n, total, e);
	for (size_t i = 0; rc == 0 && i < *n; i++)
		rc = load_parts(c, tenant_id, &(*out)[i], with, a, e);
	db_release(c);
	return rc;
}

int billing_statistics(struct db *db, const char *tenant_id, const struct bill_stats_filter *f, struct bill_stats *out,
		       struct err *e)
{
	struct db_conn *c = NULL;
	char currency[4], tz[64];
	const struct currency *cur;
	int rc;

	memset(out, 0, sizeof(*out));
	if (f->date_from && !date_valid(f->date_from))
		return err_set(e, ERR_INVALID, "startDate", "startDate must be a date YYYY-MM-DD");
	if (f->date_to && !date_valid(f->date_to))
		return err_set(e, ERR_INVALID, "endDate", "endDate must be a date YYYY-MM-DD");
	if (f->currency && !currency_find(f->currency))
		return err_set(e, ERR_INVALID, "currency", "currency must be a supported ISO 4217 code");
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = billing__tenant(c, tenant_id, currency, tz, e);
	if (rc)
		goto out;
	if (f->currency)
		snprintf(currency, sizeof(currency), "%s", f->currency);
	cur = currency_find(currency);
	snprintf(out->currency, sizeof(out->currency), "%s", currency);
	out->minor_units = cur ? cur->minor_units : 2;
	rc = billing__stats(c, tenant_id, f, currency, out, e);
	if (rc == 0 && out->total_invoices > 0)
		out->average_amount_minor = money_div_round(out->total_amount_minor, out->total_invoices);
out:
	db_release(c);
	return rc;
}

/* ---- create ---- */

/* Today in the tenant's zone (UTC when the zone cannot be read). */
static void local_today(const char *tz, int64_t now_s, char out[DATE_LEN + 1])
{
	char tod[9];
	struct err e;

	if (tz_local(tz && *tz ? tz : "UTC", now_s, out, tod, &e) != 0) {
		char iso[TIME_ISO_LEN + 1];
		time_iso(now_s, iso);
		snprintf(out, DATE_LEN + 1, "%.10s", iso);
	}
}

int billing_create_conn(struct db_conn *c, const struct actor *who, const struct bill_input *in, struct arena *a,
			struct bill_document **out, struct err *e)
{
	struct bill_document *d;
	char tenant_cur[4], tz[64], today[DATE_LEN + 1], seq_name[16];
	const struct currency *cur;
	int64_t seq = 0, now_s;
	json_t *after = NULL;
	int rc;

	*out = NULL;
	rc = input_check(in, e);
	if (rc)
		return rc;
	rc = billing__tenant(c, who->tenant_id, tenant_cur, tz, e);
	if (rc)
		return rc;
	d = arena_alloc(a, sizeof(*d));
	snprintf(d->source, sizeof(d->source), "%s", in->source);
	snprintf(d->currency, sizeof(d->currency), "%s", in->currency ? in->currency : tenant_cur);
	cur = currency_find(d->currency);
	if (!cur)
		return err_set(e, ERR_INVALID, "currency", "currency must be a supported ISO 4217 code");
	d->minor_units = cur->minor_units;
	if (in->patient_id) {
		bool exists = false;
		rc = billing__patient_exists(c, who->tenant_id, in->patient_id, &exists, e);
		if (rc)
			return rc;
		if (!exists)
			return err_set(e, ERR_INVALID, "patientId", "patientId does not name a patient of this tenant");
		snprintf(d->patient_id, sizeof(d->patient_id), "%s", in->patient_id);
	}
	if (in->facility_id)
		snprintf(d->facility_id, sizeof(d->facility_id), "%s", in->facility_id);
	now_s = time_now_s();
	local_today(tz, now_s, today);
	snprintf(d->invoice_date, sizeof(d->invoice_date), "%s", in->invoice_date ? in->invoice_date : today);
	if (in->due_date) {
		if (strcmp(in->due_date, d->invoice_date) < 0)
			return err_set(e, ERR_INVALID, "dueDate", "dueDate must not be before invoiceDate");
		snprintf(d->due_date, sizeof(d->due_date), "%s", in->due_date);
	}
	d->invoice_type = arena_strdup(a, in->invoice_type);
	d->payment_terms = arena_strdup(a, in->payment_terms);
	d->grace_period_days = in->has_grace_period ? in->grace_period_days : 0;
	d->late_fee_pct = in->has_late_fee_pct ? in->late_fee_pct : 0;
	d->prices_include_tax = in->prices_include_tax;
	d->status = in->initial_status == BILL_DRAFT ? BILL_DRAFT : BILL_PENDING;
	d->description = arena_strdup(a, in->description);
	d->internal_notes = arena_strdup(a, in->internal_notes);
	d->notes = arena_strdup(a, in->notes);
	d->external_ref = arena_strdup(a, in->external_ref);
	snprintf(d->tax_doc_type, sizeof(d->tax_doc_type), "%s", in->tax_doc_type ? in->tax_doc_type : "");
	snprintf(d->created_by, sizeof(d->created_by), "%s", who->id ? who->id : "");
	d->version = 1;

	if (in->external_ref) {
		struct bill_document *other = NULL;
		struct err e2;
		err_clear(&e2);
		rc = billing__doc_get(c, who->tenant_id, in->external_ref, true, a, &other, &e2);
		if (rc == 0)
			return err_set(e, ERR_CONFLICT, "externalRef",
				       "a document with this externalRef already exists");
		if (rc != ERR_NOT_FOUND) {
			*e = e2;
			return rc;
		}
	}
	rc = build_lines(c, who->tenant_id, d, in->lines, in->nlines, in->lines_field, a, e);
	if (rc)
		return rc;
	rc = billing_compute(d, e);
	if (rc)
		return rc;

	snprintf(seq_name, sizeof(seq_name), "INV-%.4s%.2s%.2s", today, today + 5, today + 8);
	rc = billing__sequence_next(c, who->tenant_id, seq_name, &seq, e);
	if (rc)
		return rc;
	billing_number_format(today, seq, d->number, sizeof(d->number));
	uuid_v7(d->id);
	time_iso(now_s, d->created_at);
	memcpy(d->updated_at, d->created_at, sizeof(d->created_at));

	rc = billing__doc_insert(c, who->tenant_id, d, e);
	if (rc == ERR_CONFLICT && in->external_ref)
		return err_set(e, ERR_CONFLICT, "externalRef", "a document with this externalRef already exists");
	if (rc)
		return rc;
	rc = billing__lines_insert(c, who->tenant_id, d, e);
	if (rc)
		return rc;
	after = billing__audit_json(d);
	{
		char action[40];
		snprintf(action, sizeof(action), "%s.create", d->source);
		rc = audit_record(c, who, action, d->source, d->id, NULL, after, in->audit_reason, e);
	}
	json_decref(after);
	if (rc)
		return rc;
	*out = d;
	return 0;
}

struct create_args {
	const struct actor *who;
	const struct bill_input *in;
	struct arena *a;
	struct bill_document **out;
};

static int create_tx(struct db_conn *c, void *arg, struct err *e)
{
	struct create_args *x = arg;

	return billing_create_conn(c, x->who, x->in, x->a, x->out, e);
}

int billing_create(struct db *db, const struct actor *who, const struct bill_input *in, struct arena *a,
		   struct bill_document **out, struct err *e)
{
	struct create_args x = { who, in, a, out };
	int rc;

	*out = NULL;
	rc = input_check(in, e); /* bad input never takes the writer */
	if (rc)
		return rc;
	/* db_write: with SQLite the transactions of concurrent creations run
	 * back to back on one thread under one group commit. */
	rc = db_write(db, create_tx, &x, e);
	if (rc)
		*out = NULL;
	return rc;
}

/* ---- money after payments ---- */

int billing__apply_money(struct db_conn *c, const struct actor *who, struct bill_document *d, struct err *e)
{
	int64_t confirmed = 0, refunded = 0, open = 0;
	enum bill_status before = d->status, after_status;
	json_t *jb = NULL, *ja = NULL;
	int rc;

	rc = billing__doc_money(c, who->tenant_id, d->id, &confirmed, &refunded, &open, e);
	if (rc)
		return rc;
	jb = billing__audit_json(d);
	d->paid_minor = confirmed - refunded;
	d->refunded_minor = refunded;
	d->balance_minor = d->total_minor - d->paid_minor;
	after_status = billing_status_after_money(d);
	d->status = after_status;
	if (after_status == BILL_PAID && before != BILL_PAID)
		time_now_iso(d->paid_at);
	else if (after_status != BILL_PAID && after_status != BILL_REFUNDED)
		d->paid_at[0] = '\0';
	time_now_iso(d->updated_at);
	rc = billing__doc_update(c, who->tenant_id, d, e);
	if (rc == 0 && before != after_status) {
		char action[40];
		ja = billing__audit_json(d);
		snprintf(action, sizeof(action), "%s.status", d->source);
		rc = audit_record(c, who, action, d->source, d->id, jb, ja, NULL, e);
	}
	json_decref(jb);
	json_decref(ja);
	return rc;
}

/* ---- update ---- */

static int update_check(const struct bill_update *in, struct err *e)
{
	unsigned set = in->set;
	int rc;

	if ((set & BILL_U_DUE_DATE) && in->due_date && !date_valid(in->due_date))
		return err_set(e, ERR_INVALID, "dueDate", "dueDate must be a date YYYY-MM-DD");
	if ((set & BILL_U_TAX_AMOUNT) && in->has_tax_amount && in->tax_amount_micro < 0)
		return err_set(e, ERR_INVALID, "taxAmount", "taxAmount must not be negative");
	if ((set & BILL_U_DISCOUNT_AMOUNT) && in->discount_amount_micro < 0)
		return err_set(e, ERR_INVALID, "discountAmount", "discountAmount must not be negative");
	if ((set & BILL_U_GRACE) && (in->grace_period_days < 0 || in->grace_period_days > BILL_GRACE_MAX))
		return err_set(e, ERR_INVALID, "gracePeriodDays", "gracePeriodDays must be between 0 and %d",
			       BILL_GRACE_MAX);
	if ((set & BILL_U_LATE_FEE_PCT) && (in->late_fee_pct < 0 || in->late_fee_pct > BILL_LATE_FEE_MAX_PCT))
		return err_set(e, ERR_INVALID, "lateFeePercentage", "lateFeePercentage must be between 0 and 100");
	if ((set & BILL_U_STATUS) && (in->status < 0 || in->status >= BILL_STATUS_COUNT))
		return err_set(e, ERR_INVALID, "status", "status is not a document status");
	if ((set & BILL_U_PATIENT) && in->patient_id && !uuid_valid(in->patient_id))
		return err_set(e, ERR_INVALID, "patientId", "patientId must be a UUID");
	if ((set & BILL_U_FACILITY) && in->facility_id && !uuid_valid(in->facility_id))
		return err_set(e, ERR_INVALID, "facilityId", "facilityId must be a UUID");
	if (((set & BILL_U_INTERNAL_NOTES) &&
	     (rc = billing__text_check(in->internal_notes, "internalNotes", BILL_TEXT_MAX, true, e))) ||
	    ((set & BILL_U_DESCRIPTION) &&
	     (rc = billing__text_check(in->description, "description", BILL_TEXT_MAX, true, e))) ||
	    ((set & BILL_U_NOTES) && (rc = billing__text_check(in->notes, "notes", BILL_TEXT_MAX, true, e))) ||
	    ((set & BILL_U_PAYMENT_TERMS) &&
	     (rc = label_check(in->payment_terms, "paymentTerms", BILL_LABEL_MAX, e))) ||
	    ((set & BILL_U_INVOICE_TYPE) && (rc = label_check(in->invoice_type, "invoiceType", BILL_LABEL_MAX, e))) ||
	    ((set & BILL_U_EXTERNAL_REF) && (rc = label_check(in->external_ref, "externalRef", 128, e))) ||
	    (rc = billing__text_check(in->reason, "reason", BILL_REASON_MAX, true, e)))
		return rc;
	if (set & BILL_U_LINES)
		return lines_check(in->lines, in->nlines, in->lines_field, e);
	return 0;
}

static bool has_live_payment(const struct bill_document *d)
{
	for (size_t i = 0; i < d->npayments; i++)
		if (d->payments[i].status != BILL_PAYMENT_FAILED)
			return true;
	return false;
}

/* Deadline = due_date + grace; past when the tenant-local today is after it. */
static bool past_due(const struct bill_document *d, const char *today)
{
	char deadline[DATE_LEN + 1];

	if (!d->due_date[0])
		return false;
	date_add_days(d->due_date, d->grace_period_days, deadline);
	return strcmp(today, deadline) > 0;
}

static int apply_update(struct db_conn *c, const struct actor *who, struct bill_document *d,
			const struct bill_update *in, struct arena *a, struct err *e)
{
	const unsigned money = BILL_U_TAX_AMOUNT | BILL_U_DISCOUNT_AMOUNT | BILL_U_LINES | BILL_U_LATE_FEE_PCT;
	const char *kind = d->source;
	unsigned set = in->set;
	int rc;

	if (d->status == BILL_CANCELLED || d->status == BILL_REFUNDED)
		return billing_invalid_state(e, kind, d->status, "update");
	if (d->status == BILL_PAID && (set & money))
		return billing_invalid_state(e, kind, d->status, "change amounts");
	if (set & BILL_U_STATUS) {
		enum bill_status want = (enum bill_status)in->status;
		if (want != d->status) {
			if (!(d->status == BILL_DRAFT && want == BILL_PENDING)) {
				char what[64];
				snprintf(what, sizeof(what), "change status to %s",
					 strcmp(kind, "order") == 0 ? billing_status_clinic_name(want)
								    : billing_status_name(want));
				return billing_invalid_state(e, kind, d->status, what);
			}
			d->status = BILL_PENDING;
		}
	}
	if (set & BILL_U_TAX_DOC)
		snprintf(d->tax_doc_type, sizeof(d->tax_doc_type), "%s", in->tax_doc_type ? in->tax_doc_type : "");
	if (set & BILL_U_DUE_DATE) {
		if (in->due_date && strcmp(in->due_date, d->invoice_date) < 0)
			return err_set(e, ERR_INVALID, "dueDate", "dueDate must not be before invoiceDate");
		snprintf(d->due_date, sizeof(d->due_date), "%s", in->due_date ? in->due_date : "");
	}
	if (set & BILL_U_TAX_AMOUNT) {
		d->has_tax_override = in->has_tax_amount;
		d->tax_override_minor = 0;
		if (in->has_tax_amount) {
			rc = billing_amount_in(d->currency, in->tax_amount_micro, "taxAmount", &d->tax_override_minor,
					       e);
			if (rc)
				return rc;
		}
	}
	if (set & BILL_U_DISCOUNT_AMOUNT) {
		rc = billing_amount_in(d->currency, in->discount_amount_micro, "discountAmount", &d->doc_discount_minor,
				       e);
		if (rc)
			return rc;
	}
	if (set & BILL_U_INTERNAL_NOTES)
		d->internal_notes = arena_strdup(a, in->internal_notes);
	if (set & BILL_U_DESCRIPTION)
		d->description = arena_strdup(a, in->description);
	if (set & BILL_U_NOTES)
		d->notes = arena_strdup(a, in->notes);
	if (set & BILL_U_PAYMENT_TERMS)
		d->payment_terms = arena_strdup(a, in->payment_terms);
	if (set & BILL_U_INVOICE_TYPE)
		d->invoice_type = arena_strdup(a, in->invoice_type);
	if (set & BILL_U_GRACE)
		d->grace_period_days = in->grace_period_days;
	if (set & BILL_U_LATE_FEE_PCT)
		d->late_fee_pct = in->late_fee_pct;
	if (set & BILL_U_FACILITY)
		snprintf(d->facility_id, sizeof(d->facility_id), "%s", in->facility_id ? in->facility_id : "");
	if (set & BILL_U_EXTERNAL_REF) {
		if (in->external_ref && (!d->external_ref || strcmp(in->external_ref, d->external_ref) != 0)) {
			struct bill_document *other = NULL;
			struct err e2;
			err_clear(&e2);
			rc = billing__doc_get(c, who->tenant_id, in->external_ref, true, a, &other, &e2);
			if (rc == 0)
				return err_set(e, ERR_CONFLICT, "externalRef",
					       "a document with this externalRef already exists");
			if (rc != ERR_NOT_FOUND) {
				*e = e2;
				return rc;
			}
		}
		d->external_ref = arena_strdup(a, in->external_ref);
	}
	if (set & BILL_U_PATIENT) {
		if (d->status != BILL_DRAFT && d->status != BILL_PENDING)
			return billing_invalid_state(e, kind, d->status, "change the patient");
		if (in->patient_id) {
			bool exists = false;
			rc = billing__patient_exists(c, who->tenant_id, in->patient_id, &exists, e);
			if (rc)
				return rc;
			if (!exists)
				return err_set(e, ERR_INVALID, "patientId",
					       "patientId does not name a patient of this tenant");
		}
		snprintf(d->patient_id, sizeof(d->patient_id), "%s", in->patient_id ? in->patient_id : "");
	}
	if (set & BILL_U_LINES) {
		if ((d->status != BILL_DRAFT && d->status != BILL_PENDING) || has_live_payment(d)) {
			if (d->status == BILL_DRAFT || d->status == BILL_PENDING)
				return billing_invalid_state(e, kind, d->status,
							     "replace the lines of a document with payments");
			return billing_invalid_state(e, kind, d->status, "replace the lines");
		}
		rc = build_lines(c, who->tenant_id, d, in->lines, in->nlines, in->lines_field, a, e);
		if (rc)
			return rc;
	}
	rc = billing_compute(d, e);
	if (rc)
		return rc;
	if (d->total_minor < 0 || (d->paid_minor > 0 && d->total_minor < d->paid_minor)) {
		const char *field = (set & BILL_U_DISCOUNT_AMOUNT) ? "discountAmount"
				    : (set & BILL_U_TAX_AMOUNT)	   ? "taxAmount"
								   : lines_name(in->lines_field);
		return err_set(e, ERR_INVALID, field, "%s would make the total less than %s", field,
			       d->paid_minor > 0 ? "the amount paid" : "zero");
	}
	if (d->paid_minor > 0 || d->refunded_minor > 0)
		d->status = billing_status_after_money(d);
	if (set & (BILL_U_DUE_DATE | BILL_U_GRACE)) {
		char cur[4], tz[64], today[DATE_LEN + 1];
		rc = billing__tenant(c, who->tenant_id, cur, tz, e);
		if (rc)
			return rc;
		local_today(tz, time_now_s(), today);
		if (d->status == BILL_OVERDUE && !past_due(d, today))
			d->status = d->paid_minor > 0 ? BILL_PARTIALLY_PAID : BILL_PENDING;
	}
	return 0;
}

int billing_update(struct db *db, const struct actor *who, const char *id, const struct bill_update *in,
		   struct arena *a, struct bill_document **out, struct err *e)
{
	struct db_conn *c = NULL;
	struct bill_document *d = NULL;
	json_t *before = NULL, *after = NULL;
	int rc;

	*out = NULL;
	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	rc = update_check(in, e);
	if (rc)
		return rc;
	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc)
		goto out;
	rc = billing_get_conn(c, who->tenant_id, id, BILL_FOR_UPDATE | BILL_WITH_LINES | BILL_WITH_PAYMENTS, a, &d, e);
	if (rc)
		goto out;
	before = billing__audit_json(d);
	rc = apply_update(c, who, d, in, a, e);
	if (rc)
		goto out;
	after = billing__audit_json(d);
	if (json_equal(before, after) && !(in->set & BILL_U_LINES)) {
		db_rollback(c); /* nothing changed: nothing written */
		goto out;
	}
	time_now_iso(d->updated_at);
	rc = billing__doc_update(c, who->tenant_id, d, e);
	if (rc == ERR_CONFLICT) {
		rc = err_set(e, ERR_CONFLICT, "externalRef", "a document with this externalRef already exists");
		goto out;
	}
	if (rc == 0 && (in->set & BILL_U_LINES)) {
		rc = billing__lines_delete(c, who->tenant_id, d->id, e);
		if (rc == 0)
			rc = billing__lines_insert(c, who->tenant_id, d, e);
	}
	if (rc)
		goto out;
	{
		char action[40];
		snprintf(action, sizeof(action), "%s.update", d->source);
		rc = audit_record(c, who, action, d->source, d->id, before, after, in->reason, e);
	}
	if (rc == 0)
		rc = db_commit(c, e);
out:
	db_release(c);
	json_decref(before);
	json_decref(after);
	if (rc == 0)
		*out = d;
	return rc;
}

/* ---- cancel ---- */

int billing_cancel(struct db *db, const struct actor *who, const char *id, const char *reason, struct arena *a,
		   struct bill_document **out, struct err *e)
{
	struct db_conn *c = NULL;
	struct bill_document *d = NULL;
	json_t *before = NULL, *after = NULL;
	int64_t confirmed = 0, refunded = 0, open = 0;
	int rc;

	*out = NULL;
	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	if (!reason || !*reason || blank(reason))
		return err_set(e, ERR_INVALID, "reason", "reason is required");
	rc = billing__text_check(reason, "reason", BILL_REASON_MAX, true, e);
	if (rc)
		return rc;
	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc)
		goto out;
	rc = billing_get_conn(c, who->tenant_id, id, BILL_FOR_UPDATE | BILL_WITH_LINES | BILL_WITH_PAYMENTS, a, &d, e);
	if (rc)
		goto out;
	if (d->status == BILL_CANCELLED || d->status == BILL_PAID || d->status == BILL_REFUNDED) {
		rc = billing_invalid_state(e, d->source, d->status, "cancel");
		goto out;
	}
	rc = billing__doc_money(c, who->tenant_id, d->id, &confirmed, &refunded, &open, e);
	if (rc)
		goto out;
	if (open > 0) {
		char what[96];
		snprintf(what, sizeof(what), "cancel a document with a confirmed payment (refund it first)");
		rc = billing_invalid_state(e, d->source, d->status, what);
		goto out;
	}
	before = billing__audit_json(d);
	d->status = BILL_CANCELLED;
	time_now_iso(d->cancelled_at);
	memcpy(d->updated_at, d->cancelled_at, sizeof(d->updated_at));
	d->cancel_reason = arena_strdup(a, reason);
	d->internal_notes = d->internal_notes && *d->internal_notes
				? arena_printf(a, "%s [CANCELLED] %s", d->internal_notes, reason)
				: arena_printf(a, "[CANCELLED] %s", reason);
	rc = billing__doc_update(c, who->tenant_id, d, e);
	if (rc)
		goto out;
	after = billing__audit_json(d);
	{
		char action[40];
		snprintf(action, sizeof(action), "%s.cancel", d->source);
		rc = audit_record(c, who, action, d->source, d->id, before, after, reason, e);
	}
	if (rc == 0)
		rc = db_commit(c, e);
out:
	db_release(c);
	json_decref(before);
	json_decref(after);
	if (rc == 0)
		*out = d;
	return rc;
}

/* ---- the overdue job ---- */

/* Mark one candidate overdue in its own transaction (re-checked under the lock). */
static int mark_overdue(struct db *db, const struct bill_overdue_candidate *k, int64_t now_s, const char *today,
			bool *marked, struct err *e)
{
	struct actor sys = {.tenant_id = k->tenant_id, .kind = "system", .id = "billing.overdue"};
	struct arena *a = arena_new(1 << 20);
	struct db_conn *c = NULL;
	struct bill_document *d = NULL;
	json_t *before = NULL, *after = NULL;
	int rc;

	*marked = false;
	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc)
		goto out;
	rc = db_begin(c, e);
	if (rc)
		goto out;
	rc = billing_get_conn(c, k->tenant_id, k->id, BILL_FOR_UPDATE, a, &d, e);
	if (rc)
		goto out;
	if ((d->status != BILL_PENDING && d->status != BILL_PARTIALLY_PAID) || !past_due(d, today))
		goto out; /* changed since the candidate list was read */
	before = billing__audit_json(d);
	d->status = BILL_OVERDUE;
	time_iso(now_s, d->updated_at);
	if (d->late_fee_pct > 0 && !d->late_fee_applied_at[0]) {
		int64_t fee = billing_late_fee(d->balance_minor, d->late_fee_pct);
		if (fee > 0) {
			d->late_fee_minor = fee;
			d->total_minor += fee;
			d->balance_minor += fee;
		}
		time_iso(now_s, d->late_fee_applied_at);
	}
	rc = billing__doc_update(c, k->tenant_id, d, e);
	if (rc)
		goto out;
	after = billing__audit_json(d);
	{
		char action[40];
		snprintf(action, sizeof(action), "%s.overdue", d->source);
		rc =
		    audit_record(c, &sys, action, d->source, d->id, before, after, "past due date and grace period", e);
	}
	if (rc == 0)
		rc = db_commit(c, e);
	if (rc == 0)
		*marked = true;
out:
	if (c)
		db_release(c);
	json_decref(before);
	json_decref(after);
	arena_free(a);
	return rc;
}

int billing_overdue_run(struct db *db, int64_t now_s, int64_t *marked, struct err *e)
{
	char utc_today[TIME_ISO_LEN + 1], after_tenant[UUID_LEN + 1] = "", after_id[UUID_LEN + 1] = "";
	int64_t count = 0;
	int rc = 0;

	time_iso(now_s, utc_today);
	utc_today[DATE_LEN] = '\0';
	for (;;) {
		struct bill_overdue_candidate *k = NULL;
		struct db_conn *c = NULL;
		size_t n = 0;

		rc = db_acquire(db, DB_READ, &c, e);
		if (rc)
			break;
		rc = billing__overdue_candidates(c, utc_today, after_tenant, after_id, 500, &k, &n, e);
		db_release(c);
		if (rc)
			break;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			char today[DATE_LEN + 1], deadline[DATE_LEN + 1];
			bool done = false;

			local_today(k[i].time_zone, now_s, today);
			date_add_days(k[i].due_date, k[i].grace_period_days, deadline);
			if (strcmp(today, deadline) <= 0)
				continue;
			rc = mark_overdue(db, &k[i], now_s, today, &done, e);
			if (done)
				count++;
		}
		if (n > 0) {
			snprintf(after_tenant, sizeof(after_tenant), "%s", k[n - 1].tenant_id);
			snprintf(after_id, sizeof(after_id), "%s", k[n - 1].id);
		}
		free(k);
		if (rc || n < 500)
			break;
	}
	if (marked)
		*marked = count;
	return rc;
}

int billing_overdue_job(struct app *app, const struct job *job, struct err *e)
{
	int64_t marked = 0;
	int rc = billing_overdue_run(app->db, time_now_s(), &marked, e);

	if (rc == 0)
		log_info("msg=\"overdue documents marked\" job=%s marked=%lld", job->id, (long long)marked);
	return rc;
}

int billing_patient_totals(struct db *db, const char *tenant_id, const char *patient_id, struct arena *a,
			   struct bill_currency_totals **out, size_t *n, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = billing__patient_totals(c, tenant_id, patient_id, a, out, n, e);
	db_release(c);
	return rc;
}
