/*
 * billing_payments.c - payments and refunds of billing documents. Every
 * function runs inside the caller's open write transaction: it locks the
 * document row first (so all money movements of one document serialise, in
 * one order: document, then payment, then refund), re-reads what it changes
 * under that lock, writes, recomputes the document's paid / balance / status
 * (billing__apply_money) and records its audit entries, all in that same
 * transaction. The *_tx wrappers open and commit a transaction of their own.
 */
#include <stdio.h>
#include <string.h>

#include "mod/billing/billing_repo.h"
#include "mod/dte/dte.h"

#define PAY_TEXT_MAX 255  /* ids and references from gateways */
#define PAY_URL_MAX  2048 /* receipt URLs */

/* billing__apply_money, and when the document has just become paid, the
 * automatic DTE (dte.h) enqueued in this same transaction. */
static int apply_money(struct db_conn *c, const struct actor *who, struct bill_document *d, struct err *e)
{
	enum bill_status before = d->status;
	int rc = billing__apply_money(c, who, d, e);

	if (rc == 0 && before != BILL_PAID && d->status == BILL_PAID)
		rc = dte_on_document_paid(c, who, d, e);
	return rc;
}

static int payment_state(struct err *e, const char *what, enum bill_pay_status s)
{
	err_set(e, ERR_CONFLICT, NULL, "cannot %s: payment is %s", what, billing_pay_status_name(s));
	return err_name(e, "INVALID_STATE");
}

static int refund_state(struct err *e, const char *what, enum bill_refund_status s)
{
	err_set(e, ERR_CONFLICT, NULL, "cannot %s: refund is %s", what, billing_refund_status_name(s));
	return err_name(e, "INVALID_STATE");
}

static bool last4_valid(const char *s)
{
	if (strlen(s) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Gateway facts (shared by record, confirm and annotate). */
static int facts_check(const char *reference, const char *charge, const char *brand, const char *last4,
		       const char *receipt, const char *detail, struct err *e)
{
	int rc;

	if ((rc = billing__text_check(reference, "gatewayReference", PAY_TEXT_MAX, false, e)) ||
	    (rc = billing__text_check(charge, "stripeChargeId", PAY_TEXT_MAX, false, e)) ||
	    (rc = billing__text_check(brand, "cardBrand", 32, false, e)) ||
	    (rc = billing__text_check(receipt, "receiptUrl", PAY_URL_MAX, false, e)) ||
	    (rc = billing__text_check(detail, "methodDetail", 64, false, e)))
		return rc;
	if (last4 && !last4_valid(last4))
		return err_set(e, ERR_INVALID, "cardLast4", "cardLast4 must be exactly 4 digits");
	return 0;
}

static int payment_input_check(const struct bill_payment_input *in, struct err *e)
{
	int rc;

	if ((unsigned)in->method > BILL_PAY_OTHER)
		return err_set(e, ERR_INVALID, "method", "method is not a payment method");
	if ((unsigned)in->gateway > BILL_GATEWAY_STRIPE)
		return err_set(e, ERR_INVALID, "gateway", "gateway is not a payment gateway");
	if (in->status != BILL_PAYMENT_PENDING && in->status != BILL_PAYMENT_CONFIRMED &&
	    in->status != BILL_PAYMENT_FAILED)
		return err_set(e, ERR_INVALID, "status",
			       "status of a new payment must be pending, confirmed or failed");
	if (in->amount_minor < 0 || (in->amount_minor == 0 && in->status != BILL_PAYMENT_FAILED))
		return err_set(e, ERR_INVALID, "amount", "amount must be greater than 0");
	if (in->currency && !currency_find(in->currency))
		return err_set(e, ERR_INVALID, "currency", "currency must be a supported ISO 4217 code");
	if ((rc = billing__text_check(in->gateway_payment_id, "gatewayPaymentId", PAY_TEXT_MAX, false, e)) ||
	    (rc = billing__text_check(in->audit_reason, "reason", BILL_REASON_MAX, true, e)) ||
	    (rc = billing__text_check(in->failure_reason, "failureReason", BILL_REASON_MAX, true, e)))
		return rc;
	if (in->gateway_payment_id && !*in->gateway_payment_id)
		return err_set(e, ERR_INVALID, "gatewayPaymentId", "gatewayPaymentId must not be empty");
	return facts_check(in->gateway_reference, in->stripe_charge_id, in->card_brand, in->card_last4, in->receipt_url,
			   in->method_detail, e);
}

int billing_payment_record(struct db_conn *c, const struct actor *who, const char *doc_id,
			   const struct bill_payment_input *in, char id_out[UUID_LEN + 1], struct err *e)
{
	struct arena *a = arena_new(1 << 20);
	struct bill_document *d = NULL;
	struct bill_payment p;
	json_t *after = NULL;
	int rc;

	if (id_out)
		id_out[0] = '\0';
	rc = payment_input_check(in, e);
	if (rc)
		goto out;
	rc = billing__lock_load(c, who->tenant_id, doc_id, a, &d, e);
	if (rc)
		goto out;
	if (in->currency && strcmp(in->currency, d->currency) != 0) {
		rc = err_set(e, ERR_INVALID, "currency", "currency must be the document's currency %s", d->currency);
		goto out;
	}
	if (in->gateway == BILL_GATEWAY_MANUAL && in->status != BILL_PAYMENT_FAILED) {
		if (d->status == BILL_DRAFT || d->status == BILL_CANCELLED || d->status == BILL_REFUNDED ||
		    d->status == BILL_PAID) {
			rc = billing_invalid_state(e, d->source, d->status, "take a payment");
			goto out;
		}
		if (in->amount_minor > d->balance_minor) {
			char bal[MONEY_MAX_TEXT];
			money_format(d->balance_minor, d->minor_units, bal, sizeof(bal));
			rc = err_set(e, ERR_INVALID, "amount", "amount must not exceed the balance due (%s %s)", bal,
				     d->currency);
			goto out;
		}
	}
	if (in->gateway_payment_id) {
		struct bill_payment *other = NULL;
		struct err e2;
		err_clear(&e2);
		rc = billing__payment_get(c, who->tenant_id, in->gateway_payment_id, 1, a, &other, &e2);
		if (rc == 0) {
			rc =
			    err_set(e, ERR_CONFLICT, "gatewayPaymentId", "a payment with this gatewayPaymentId exists");
			goto out;
		}
		if (rc != ERR_NOT_FOUND) {
			*e = e2;
			goto out;
		}
	}

	memset(&p, 0, sizeof(p));
	uuid_v4(p.id);
	snprintf(p.document_id, sizeof(p.document_id), "%s", d->id);
	p.method = in->method;
	p.method_detail = in->method_detail;
	p.amount_minor = in->amount_minor;
	snprintf(p.currency, sizeof(p.currency), "%s", d->currency);
	p.status = in->status;
	p.gateway = in->gateway;
	p.gateway_payment_id = in->gateway_payment_id;
	p.gateway_reference = in->gateway_reference;
	p.stripe_charge_id = in->stripe_charge_id;
	p.card_brand = in->card_brand;
	p.card_last4 = in->card_last4;
	p.receipt_url = in->receipt_url;
	p.failure_reason = in->status == BILL_PAYMENT_FAILED ? in->failure_reason : NULL;
	snprintf(p.created_by, sizeof(p.created_by), "%s", who->id ? who->id : "");
	time_now_iso(p.created_at);
	memcpy(p.updated_at, p.created_at, sizeof(p.created_at));
	if (p.status == BILL_PAYMENT_CONFIRMED)
		memcpy(p.confirmed_at, p.created_at, sizeof(p.created_at));
	if (p.status == BILL_PAYMENT_FAILED)
		memcpy(p.failed_at, p.created_at, sizeof(p.created_at));
	rc = billing__payment_insert(c, who->tenant_id, &p, e);
	if (rc == ERR_CONFLICT) {
		rc = err_set(e, ERR_CONFLICT, "gatewayPaymentId", "a payment with this gatewayPaymentId exists");
		goto out;
	}
	if (rc)
		goto out;
	after = billing__payment_audit_json(&p, d->minor_units);
	rc = audit_record(c, who, "payment.create", "payment", p.id, NULL, after, in->audit_reason, e);
	if (rc)
		goto out;
	if (p.status == BILL_PAYMENT_CONFIRMED)
		rc = apply_money(c, who, d, e);
	if (rc == 0 && id_out)
		memcpy(id_out, p.id, UUID_LEN + 1);
out:
	json_decref(after);
	arena_free(a);
	return rc;
}

/* Lock the payment's document, then re-read the payment under the lock. */
static int lock_payment(struct db_conn *c, const char *tenant_id, const char *key, int by, struct arena *a,
			struct bill_document **d, struct bill_payment **p, struct err *e)
{
	int rc;

	if (!key || !*key)
		return err_set(e, ERR_NOT_FOUND, NULL, "payment not found");
	if (by == 0 && !uuid_valid(key))
		return err_set(e, ERR_NOT_FOUND, NULL, "payment not found");
	rc = billing__payment_get(c, tenant_id, key, by, a, p, e);
	if (rc)
		return rc;
	rc = billing__lock_load(c, tenant_id, (*p)->document_id, a, d, e);
	if (rc)
		return rc;
	return billing__payment_get(c, tenant_id, (*p)->id, 0, a, p, e);
}

/* Copy the given facts onto p; true when something changed. */
static bool apply_facts(struct bill_payment *p, const struct bill_payment_confirm *f)
{
	bool changed = false;

#define SETF(member)                                                                                                   \
	if (f->member && (!p->member || strcmp(f->member, p->member) != 0)) {                                          \
		p->member = f->member;                                                                                 \
		changed = true;                                                                                        \
	}
	SETF(gateway_reference)
	SETF(stripe_charge_id)
	SETF(card_brand)
	SETF(card_last4)
	SETF(receipt_url)
	SETF(method_detail)
#undef SETF
	return changed;
}

static int confirm_impl(struct db_conn *c, const struct actor *who, const char *key, int by,
			const struct bill_payment_confirm *conf, bool *changed, struct err *e)
{
	struct arena *a = arena_new(1 << 20);
	struct bill_document *d = NULL;
	struct bill_payment *p = NULL;
	json_t *before = NULL, *after = NULL;
	int rc;

	if (changed)
		*changed = false;
	if (conf) {
		if (conf->amount_minor < 0) {
			rc = err_set(e, ERR_INVALID, "amount", "amount must be greater than 0");
			goto out;
		}
		rc = facts_check(conf->gateway_reference, conf->stripe_charge_id, conf->card_brand, conf->card_last4,
				 conf->receipt_url, conf->method_detail, e);
		if (rc)
			goto out;
	}
	rc = lock_payment(c, who->tenant_id, key, by, a, &d, &p, e);
	if (rc)
		goto out;
	if (p->status == BILL_PAYMENT_CONFIRMED || p->status == BILL_PAYMENT_REFUNDED)
		goto out; /* a replay: nothing changes */
	before = billing__payment_audit_json(p, d->minor_units);
	p->status = BILL_PAYMENT_CONFIRMED;
	if (conf) {
		if (conf->amount_minor > 0)
			p->amount_minor = conf->amount_minor;
		apply_facts(p, conf);
	}
	if (p->amount_minor <= 0) {
		rc = err_set(e, ERR_INVALID, "amount", "amount of the confirmed payment is required");
		goto out;
	}
	p->failure_reason = NULL;
	p->failed_at[0] = '\0';
	time_now_iso(p->confirmed_at);
	memcpy(p->updated_at, p->confirmed_at, sizeof(p->updated_at));
	rc = billing__payment_update(c, who->tenant_id, p, e);
	if (rc)
		goto out;
	after = billing__payment_audit_json(p, d->minor_units);
	rc = audit_record(c, who, "payment.confirm", "payment", p->id, before, after, NULL, e);
	if (rc == 0)
		rc = apply_money(c, who, d, e);
	if (rc == 0 && changed)
		*changed = true;
out:
	json_decref(before);
	json_decref(after);
	arena_free(a);
	return rc;
}

static int fail_impl(struct db_conn *c, const struct actor *who, const char *key, int by, const char *reason,
		     bool *changed, struct err *e)
{
	struct arena *a = arena_new(1 << 20);
	struct bill_document *d = NULL;
	struct bill_payment *p = NULL;
	json_t *before = NULL, *after = NULL;
	int rc;

	if (changed)
		*changed = false;
	rc = billing__text_check(reason, "reason", BILL_REASON_MAX, true, e);
	if (rc)
		goto out;
	rc = lock_payment(c, who->tenant_id, key, by, a, &d, &p, e);
	if (rc)
		goto out;
	if (p->status == BILL_PAYMENT_FAILED)
		goto out;
	if (p->status != BILL_PAYMENT_PENDING) {
		rc = payment_state(e, "mark the payment failed", p->status);
		goto out;
	}
	before = billing__payment_audit_json(p, d->minor_units);
	p->status = BILL_PAYMENT_FAILED;
	p->failure_reason = reason;
	time_now_iso(p->failed_at);
	memcpy(p->updated_at, p->failed_at, sizeof(p->updated_at));
	rc = billing__payment_update(c, who->tenant_id, p, e);
	if (rc)
		goto out;
	after = billing__payment_audit_json(p, d->minor_units);
	rc = audit_record(c, who, "payment.fail", "payment", p->id, before, after, reason, e);
	if (rc == 0 && changed)
		*changed = true;
out:
	json_decref(before);
	json_decref(after);
	arena_free(a);
	return rc;
}

int billing_payment_confirm(struct db_conn *c, const struct actor *who, const char *payment_id,
			    const struct bill_payment_confirm *conf, bool *changed, struct err *e)
{
	return confirm_impl(c, who, payment_id, 0, conf, changed, e);
}

int billing_payment_fail(struct db_conn *c, const struct actor *who, const char *payment_id, const char *reason,
			 bool *changed, struct err *e)
{
	return fail_impl(c, who, payment_id, 0, reason, changed, e);
}

int billing_payment_confirm_by_gateway(struct db_conn *c, const struct actor *who, const char *gateway_payment_id,
				       const struct bill_payment_confirm *conf, bool *changed, struct err *e)
{
	return confirm_impl(c, who, gateway_payment_id, 1, conf, changed, e);
}

int billing_payment_fail_by_gateway(struct db_conn *c, const struct actor *who, const char *gateway_payment_id,
				    const char *reason, bool *changed, struct err *e)
{
	return fail_impl(c, who, gateway_payment_id, 1, reason, changed, e);
}

int billing_payment_annotate(struct db_conn *c, const struct actor *who, const char *payment_id,
			     const struct bill_payment_confirm *facts, struct err *e)
{
	struct arena *a = arena_new(1 << 20);
	struct bill_document *d = NULL;
	struct bill_payment *p = NULL;
	json_t *before = NULL, *after = NULL;
	int rc;

	rc = facts_check(facts->gateway_reference, facts->stripe_charge_id, facts->card_brand, facts->card_last4,
			 facts->receipt_url, facts->method_detail, e);
	if (rc)
		goto out;
	rc = lock_payment(c, who->tenant_id, payment_id, 0, a, &d, &p, e);
	if (rc)
		goto out;
	before = billing__payment_audit_json(p, d->minor_units);
	if (!apply_facts(p, facts))
		goto out;
	time_now_iso(p->updated_at);
	rc = billing__payment_update(c, who->tenant_id, p, e);
	if (rc)
		goto out;
	after = billing__payment_audit_json(p, d->minor_units);
	rc = audit_record(c, who, "payment.annotate", "payment", p->id, before, after, NULL, e);
out:
	json_decref(before);
	json_decref(after);
	arena_free(a);
	return rc;
}

int billing_payment_get(struct db_conn *c, const char *tenant_id, const char *payment_id, struct arena *a,
			struct bill_payment **out, struct err *e)
{
	*out = NULL;
	if (!payment_id || !uuid_valid(payment_id))
		return err_set(e, ERR_NOT_FOUND, NULL, "payment not found");
	return billing__payment_get(c, tenant_id, payment_id, 0, a, out, e);
}

int billing_payment_get_by_gateway(struct db_conn *c, const char *tenant_id, const char *gateway_payment_id,
				   struct arena *a, struct bill_payment **out, struct err *e)
{
	*out = NULL;
	if (!gateway_payment_id || !*gateway_payment_id)
		return err_set(e, ERR_NOT_FOUND, NULL, "payment not found");
	return billing__payment_get(c, tenant_id, gateway_payment_id, 1, a, out, e);
}

int billing_payment_list(struct db_conn *c, const char *tenant_id, const struct bill_payment_filter *f, int page,
			 int limit, struct arena *a, struct bill_payment **out, size_t *n, int64_t *total,
			 struct err *e)
{
	*out = NULL;
	*n = 0;
	*total = 0;
	if (page < 1 || limit < 1)
		return err_set(e, ERR_INVALID, "page", "page and limit must be positive");
	if (f->document_id && !uuid_valid(f->document_id))
		return err_set(e, ERR_INVALID, "orderId", "orderId must be a UUID");
	if (f->date_from && !date_valid(f->date_from))
		return err_set(e, ERR_INVALID, "startDate", "startDate must be a date YYYY-MM-DD");
	if (f->date_to && !date_valid(f->date_to))
		return err_set(e, ERR_INVALID, "endDate", "endDate must be a date YYYY-MM-DD");
	return billing__payment_list(c, tenant_id, f, (int64_t)(page - 1) * limit, limit, a, out, n, total, e);
}

/* ---- refunds ---- */

/* Apply a succeeded refund to its payment (refunded_minor, status). */
static int refund_apply(struct db_conn *c, const struct actor *who, struct bill_payment *p, int64_t amount,
			int minor_units, struct err *e)
{
	json_t *before = billing__payment_audit_json(p, minor_units), *after;
	int rc;

	p->refunded_minor += amount;
	if (p->refunded_minor >= p->amount_minor)
		p->status = BILL_PAYMENT_REFUNDED;
	time_now_iso(p->updated_at);
	rc = billing__payment_update(c, who->tenant_id, p, e);
	after = billing__payment_audit_json(p, minor_units);
	if (rc == 0)
		rc = audit_record(c, who, "payment.refund", "payment", p->id, before, after, NULL, e);
	json_decref(before);
	json_decref(after);
	return rc;
}

static json_t *refund_json(const struct bill_refund *r, int minor_units)
{
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s?}", "paymentId", r->payment_id, "documentId", r->document_id,
			 "amount", money_json_string(r->amount_minor, minor_units), "reason",
			 r->reason ? r->reason : "", "status", billing_refund_status_name(r->status), "gatewayRefundId",
			 r->gateway_refund_id);
}

int billing_refund_record(struct db_conn *c, const struct actor *who, const char *payment_id, int64_t amount_minor,
			  const char *reason, enum bill_refund_status status, const char *gateway_refund_id,
			  char id_out[UUID_LEN + 1], struct err *e)
{
	struct arena *a = arena_new(1 << 20);
	struct bill_document *d = NULL;
	struct bill_payment *p = NULL;
	struct bill_refund r;
	json_t *after = NULL;
	int64_t pending = 0, refundable;
	int rc;

	if (id_out)
		id_out[0] = '\0';
	if (amount_minor <= 0) {
		rc = err_set(e, ERR_INVALID, "amount", "amount must be greater than 0");
		goto out;
	}
	if (!reason || !*reason) {
		rc = err_set(e, ERR_INVALID, "reason", "reason is required");
		goto out;
	}
	if ((rc = billing__text_check(reason, "reason", BILL_REASON_MAX, true, e)) ||
	    (rc = billing__text_check(gateway_refund_id, "gatewayRefundId", PAY_TEXT_MAX, false, e)))
		goto out;
	if (status != BILL_REFUND_PENDING && status != BILL_REFUND_SUCCEEDED) {
		rc = err_set(e, ERR_INVALID, "status", "status of a new refund must be pending or succeeded");
		goto out;
	}
	rc = lock_payment(c, who->tenant_id, payment_id, 0, a, &d, &p, e);
	if (rc)
		goto out;
	if (p->status != BILL_PAYMENT_CONFIRMED) {
		rc = payment_state(e, "refund", p->status);
		goto out;
	}
	rc = billing__refund_pending_sum(c, who->tenant_id, p->id, &pending, e);
	if (rc)
		goto out;
	refundable = p->amount_minor - p->refunded_minor - pending;
	if (amount_minor > refundable) {
		char left[MONEY_MAX_TEXT];
		money_format(refundable < 0 ? 0 : refundable, d->minor_units, left, sizeof(left));
		rc = err_set(e, ERR_INVALID, "amount", "amount must not exceed the refundable amount (%s %s)", left,
			     d->currency);
		goto out;
	}
	if (gateway_refund_id) {
		struct bill_refund *other = NULL;
		struct err e2;
		err_clear(&e2);
		rc = billing__refund_get(c, who->tenant_id, gateway_refund_id, 1, a, &other, &e2);
		if (rc == 0) {
			rc = err_set(e, ERR_CONFLICT, "gatewayRefundId", "a refund with this gatewayRefundId exists");
			goto out;
		}
		if (rc != ERR_NOT_FOUND) {
			*e = e2;
			goto out;
		}
	}
	memset(&r, 0, sizeof(r));
	uuid_v4(r.id);
	snprintf(r.payment_id, sizeof(r.payment_id), "%s", p->id);
	snprintf(r.document_id, sizeof(r.document_id), "%s", d->id);
	r.amount_minor = amount_minor;
	r.reason = reason;
	r.status = status;
	r.gateway_refund_id = gateway_refund_id;
	snprintf(r.created_by, sizeof(r.created_by), "%s", who->id ? who->id : "");
	time_now_iso(r.created_at);
	memcpy(r.updated_at, r.created_at, sizeof(r.created_at));
	rc = billing__refund_insert(c, who->tenant_id, &r, NULL, e);
	if (rc)
		goto out;
	after = refund_json(&r, d->minor_units);
	rc = audit_record(c, who, "refund.create", "refund", r.id, NULL, after, reason, e);
	if (rc)
		goto out;
	if (status == BILL_REFUND_SUCCEEDED) {
		rc = refund_apply(c, who, p, amount_minor, d->minor_units, e);
		if (rc == 0)
			rc = apply_money(c, who, d, e);
	}
	if (rc == 0 && id_out)
		memcpy(id_out, r.id, UUID_LEN + 1);
out:
	json_decref(after);
	arena_free(a);
	return rc;
}

/* Lock the refund's document and re-read refund and payment under the lock. */
static int lock_refund(struct db_conn *c, const char *tenant_id, const char *refund_id, struct arena *a,
		       struct bill_document **d, struct bill_payment **p, struct bill_refund **r, struct err *e)
{
	int rc;

	if (!refund_id || !uuid_valid(refund_id))
		return err_set(e, ERR_NOT_FOUND, NULL, "refund not found");
	rc = billing__refund_get(c, tenant_id, refund_id, 0, a, r, e);
	if (rc)
		return rc;
	rc = billing__lock_load(c, tenant_id, (*r)->document_id, a, d, e);
	if (rc == 0)
		rc = billing__refund_get(c, tenant_id, refund_id, 0, a, r, e);
	if (rc == 0)
		rc = billing__payment_get(c, tenant_id, (*r)->payment_id, 0, a, p, e);
	return rc;
}

int billing_refund_succeed(struct db_conn *c, const struct actor *who, const char *refund_id,
			   const char *gateway_refund_id, bool *changed, struct err *e)
{
	struct arena *a = arena_new(1 << 20);
	struct bill_document *d = NULL;
	struct bill_payment *p = NULL;
	struct bill_refund *r = NULL;
	json_t *before = NULL, *after = NULL;
	int rc;

	if (changed)
		*changed = false;
	rc = billing__text_check(gateway_refund_id, "gatewayRefundId", PAY_TEXT_MAX, false, e);
	if (rc)
		goto out;
	rc = lock_refund(c, who->tenant_id, refund_id, a, &d, &p, &r, e);
	if (rc)
		goto out;
	if (r->status == BILL_REFUND_SUCCEEDED)
		goto out;
	if (r->status != BILL_REFUND_PENDING) {
		rc = refund_state(e, "mark the refund succeeded", r->status);
		goto out;
	}
	before = refund_json(r, d->minor_units);
	r->status = BILL_REFUND_SUCCEEDED;
	if (gateway_refund_id)
		r->gateway_refund_id = gateway_refund_id;
	time_now_iso(r->updated_at);
	rc = billing__refund_update(c, who->tenant_id, r, NULL, e);
	if (rc)
		goto out;
	after = refund_json(r, d->minor_units);
	rc = audit_record(c, who, "refund.succeed", "refund", r->id, before, after, NULL, e);
	if (rc == 0)
		rc = refund_apply(c, who, p, r->amount_minor, d->minor_units, e);
	if (rc == 0)
		rc = apply_money(c, who, d, e);
	if (rc == 0 && changed)
		*changed = true;
out:
	json_decref(before);
	json_decref(after);
	arena_free(a);
	return rc;
}

int billing_refund_fail(struct db_conn *c, const struct actor *who, const char *refund_id, const char *reason,
			bool *changed, struct err *e)
{
	struct arena *a = arena_new(1 << 20);
	struct bill_document *d = NULL;
	struct bill_payment *p = NULL;
	struct bill_refund *r = NULL;
	json_t *before = NULL, *after = NULL;
	int rc;

	if (changed)
		*changed = false;
	rc = billing__text_check(reason, "reason", BILL_REASON_MAX, true, e);
	if (rc)
		goto out;
	rc = lock_refund(c, who->tenant_id, refund_id, a, &d, &p, &r, e);
	if (rc)
		goto out;
	if (r->status == BILL_REFUND_FAILED)
		goto out;
	if (r->status != BILL_REFUND_PENDING) {
		rc = refund_state(e, "mark the refund failed", r->status);
		goto out;
	}
	before = refund_json(r, d->minor_units);
	r->status = BILL_REFUND_FAILED;
	time_now_iso(r->updated_at);
	rc = billing__refund_update(c, who->tenant_id, r, reason, e);
	if (rc)
		goto out;
	after = refund_json(r, d->minor_units);
	rc = audit_record(c, who, "refund.fail", "refund", r->id, before, after, reason, e);
	if (rc == 0 && changed)
		*changed = true;
out:
	json_decref(before);
	json_decref(after);
	arena_free(a);
	return rc;
}

int billing_refund_get(struct db_conn *c, const char *tenant_id, const char *refund_id, struct arena *a,
		       struct bill_refund **out, struct err *e)
{
	*out = NULL;
	if (!refund_id || !uuid_valid(refund_id))
		return err_set(e, ERR_NOT_FOUND, NULL, "refund not found");
	return billing__refund_get(c, tenant_id, refund_id, 0, a, out, e);
}

int billing_refund_get_by_gateway(struct db_conn *c, const char *tenant_id, const char *gateway_refund_id,
				  struct arena *a, struct bill_refund **out, struct err *e)
{
	*out = NULL;
	if (!gateway_refund_id || !*gateway_refund_id)
		return err_set(e, ERR_NOT_FOUND, NULL, "refund not found");
	return billing__refund_get(c, tenant_id, gateway_refund_id, 1, a, out, e);
}

/* ---- own-transaction wrappers ---- */

/* Run fn inside one write transaction on a connection of db. */
#define IN_TX(db, e, call)                                                                                             \
	do {                                                                                                           \
		struct db_conn *c_ = NULL;                                                                             \
		int rc_ = db_acquire((db), DB_WRITE, &c_, (e));                                                        \
		if (rc_)                                                                                               \
			return rc_;                                                                                    \
		rc_ = db_begin(c_, (e));                                                                               \
		if (rc_ == 0) {                                                                                        \
			struct db_conn *c = c_;                                                                        \
			rc_ = (call);                                                                                  \
		}                                                                                                      \
		if (rc_ == 0)                                                                                          \
			rc_ = db_commit(c_, (e));                                                                      \
		db_release(c_);                                                                                        \
		return rc_;                                                                                            \
	} while (0)

int billing_payment_record_tx(struct db *db, const struct actor *who, const char *doc_id,
			      const struct bill_payment_input *in, char id_out[UUID_LEN + 1], struct err *e)
{
	IN_TX(db, e, billing_payment_record(c, who, doc_id, in, id_out, e));
}

int billing_payment_confirm_tx(struct db *db, const struct actor *who, const char *payment_id,
			       const struct bill_payment_confirm *conf, bool *changed, struct err *e)
{
	IN_TX(db, e, billing_payment_confirm(c, who, payment_id, conf, changed, e));
}

int billing_payment_fail_tx(struct db *db, const struct actor *who, const char *payment_id, const char *reason,
			    bool *changed, struct err *e)
{
	IN_TX(db, e, billing_payment_fail(c, who, payment_id, reason, changed, e));
}

int billing_refund_record_tx(struct db *db, const struct actor *who, const char *payment_id, int64_t amount_minor,
			     const char *reason, enum bill_refund_status status, const char *gateway_refund_id,
			     char id_out[UUID_LEN + 1], struct err *e)
{
	IN_TX(db, e,
	      billing_refund_record(c, who, payment_id, amount_minor, reason, status, gateway_refund_id, id_out, e));
}
