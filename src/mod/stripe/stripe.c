/*
 * stripe.c - the rules of Stripe payments (see mod/stripe/stripe.h): create
 * and confirm PaymentIntents for billing documents, apply what Stripe says
 * to our payments and refunds (one transaction each, through billing.h),
 * process webhook events once, and run the "stripe.refund" job.
 *
 * Stripe is never called while a write connection is held.
 */
#include "mod/stripe/stripe.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "jobs/jobs.h"
#include "mod/stripe/stripe_repo.h"

#define SYNC_MAX_CALLS	50 /* PaymentIntents retrieved per sync-payment */
#define JOB_ARENA_BYTES (1u << 20)
#define NOTE_MAX	200

void stripe_mod_client(const struct app *app, struct stripe_client *out)
{
	memset(out, 0, sizeof(*out));
	out->api_base = app->cfg.stripe_api_base;
	out->secret_key = app->cfg.stripe_secret_key;
	out->timeout_ms = app->cfg.stripe_timeout_ms;
	out->max_attempts = 3;
}

int stripe_mod_require(const struct app *app, struct err *e)
{
	if (!app->cfg.stripe_secret_key[0])
		return err_set(e, ERR_UNAVAILABLE, NULL,
			       "Stripe payments are not configured on this server (STRIPE_SECRET_KEY is not set)");
	return 0;
}

/* NULL for "", else s. */
static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

static bool last4_ok(const char *s)
{
	if (!s || strlen(s) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool payable(enum bill_status s)
{
	return s == BILL_PENDING || s == BILL_PARTIALLY_PAID || s == BILL_OVERDUE;
}

/* A PaymentIntent a customer can still pay. */
static bool pi_open(const struct stripe_pi *pi)
{
	return strcmp(pi->status, "requires_payment_method") == 0 || strcmp(pi->status, "requires_confirmation") == 0 ||
	       strcmp(pi->status, "requires_action") == 0;
}

/* What a PaymentIntent says about one of our payments, applied on c (open
 * write transaction). *changed (may be NULL) tells whether anything moved. */
static int apply_pi(struct db_conn *c, const struct actor *who, const struct bill_payment *pay,
		    const struct stripe_pi *pi, bool *changed, struct err *e)
{
	struct bill_payment_confirm facts = {0};
	bool ch = false;
	int rc = 0;

	facts.stripe_charge_id = nz(pi->latest_charge);
	facts.receipt_url = nz(pi->receipt_url);
	facts.card_brand = nz(pi->card_brand);
	facts.card_last4 = last4_ok(pi->card_last4) ? pi->card_last4 : NULL;
	if (strcmp(pi->status, "succeeded") == 0) {
		if (pay->status == BILL_PAYMENT_PENDING || pay->status == BILL_PAYMENT_FAILED) {
			facts.amount_minor = pi->amount_received_minor > 0 ? pi->amount_received_minor : 0;
			rc = billing_payment_confirm(c, who, pay->id, &facts, &ch, e);
		} else if ((facts.receipt_url && !pay->receipt_url) || (facts.card_last4 && !pay->card_last4) ||
			   (facts.stripe_charge_id && !pay->stripe_charge_id)) {
			rc = billing_payment_annotate(c, who, pay->id, &facts, e);
			ch = rc == 0;
		}
	} else if (strcmp(pi->status, "canceled") == 0 ||
		   (strcmp(pi->status, "requires_payment_method") == 0 && pi->failure_message[0])) {
		if (pay->status == BILL_PAYMENT_PENDING) {
			char reason[BILL_REASON_MAX];
			if (strcmp(pi->status, "canceled") == 0)
				snprintf(reason, sizeof(reason), "payment canceled at Stripe");
			else
				snprintf(reason, sizeof(reason), "%s%s%s%s", pi->failure_message,
					 pi->failure_code[0] ? " (" : "", pi->failure_code,
					 pi->failure_code[0] ? ")" : "");
			rc = billing_payment_fail(c, who, pay->id, reason, &ch, e);
		}
	}
	if (changed)
		*changed = ch;
	return rc;
}

/* Open a write transaction on app->db. */
static int write_begin(struct app *app, struct db_conn **c, struct err *e)
{
	int rc = db_acquire(app->db, DB_WRITE, c, e);

	if (rc)
		return rc;
	rc = db_begin(*c, e);
	if (rc) {
		db_release(*c);
		*c = NULL;
	}
	return rc;
}

/* ---- create intent ---- */

static int find_reusable(const struct stripe_client *sc, const struct bill_document *doc, enum bill_pay_method method,
			 struct stripe_intent_result *out, bool *found, struct err *e)
{
	*found = false;
	for (size_t i = 0; i < doc->npayments; i++) {
		const struct bill_payment *p = &doc->payments[i];
		struct stripe_pi pi;
		int rc;

		if (p->gateway != BILL_GATEWAY_STRIPE || p->status != BILL_PAYMENT_PENDING || !p->gateway_payment_id ||
		    p->method != method)
			continue;
		rc = stripe_pi_retrieve(sc, p->gateway_payment_id, &pi, e);
		if (rc)
			return rc;
		if (strcmp(pi.status, "processing") == 0 || strcmp(pi.status, "succeeded") == 0 ||
		    strcmp(pi.status, "requires_capture") == 0) {
			err_set(e, ERR_CONFLICT, NULL,
				"a Stripe payment of this %s is being processed; wait for its outcome", doc->source);
			return err_name(e, "PAYMENT_IN_PROGRESS");
		}
		if (pi_open(&pi) && pi.amount_minor == doc->balance_minor) {
			out->pi = pi;
			out->payment = (struct bill_payment *)p;
			*found = true;
			return 0;
		}
	}
	return 0;
}

int stripe_create_intent(struct app *app, const struct actor *who, const char *order_id, const char *mode,
			 const char *request_idem_key, struct arena *a, struct stripe_intent_result *out, struct err *e)
{
	static const char *const terminal_types[] = {"card_present", "card", NULL};
	static const char *const online_types[] = {"card", NULL};
	bool terminal = strcmp(mode, "terminal") == 0;
	enum bill_pay_method method = terminal ? BILL_PAY_CARD_PRESENT : BILL_PAY_CARD_ONLINE;
	struct stripe_client sc;
	struct stripe_pi_params p = {0};
	struct bill_document *doc = NULL, *locked = NULL;
	struct bill_payment_input in = {0};
	struct db_conn *c = NULL;
	char key[STRIPE_IDEMPOTENCY_KEY_MAX + 1];
	char pay_id[UUID_LEN + 1];
	bool found = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = stripe_mod_require(app, e)))
		return rc;
	stripe_mod_client(app, &sc);
	rc = billing_get(app->db, who->tenant_id, order_id, BILL_WITH_PAYMENTS, a, &doc, e);
	if (rc)
		return rc;
	if (!payable(doc->status))
		return billing_invalid_state(e, doc->source, doc->status, "take a payment");
	if (doc->balance_minor <= 0) {
		err_set(e, ERR_CONFLICT, NULL, "this %s has no balance to pay", doc->source);
		return err_name(e, "NOTHING_TO_PAY");
	}
	rc = find_reusable(&sc, doc, method, out, &found, e);
	if (rc)
		return rc;
	if (found) {
		out->doc = doc;
		return 0;
	}

	if (request_idem_key && *request_idem_key) {
		char material[512], hex[2 * SHA256_LEN + 1];
		snprintf(material, sizeof(material), "%s:%s:%s", who->tenant_id, mode, request_idem_key);
		crypto_sha256_hex(material, strlen(material), hex);
		snprintf(key, sizeof(key), "cl-pi-%s", hex);
	} else {
		snprintf(key, sizeof(key), "cl-pi-%s-v%lld-%s-%lld", doc->id, (long long)doc->version, mode,
			 (long long)doc->balance_minor);
	}
	p.amount_minor = doc->balance_minor;
	p.currency = doc->currency;
	p.order_id = doc->id;
	p.tenant_id = who->tenant_id;
	p.invoice_number = doc->number;
	p.payment_method_types = terminal ? terminal_types : online_types;
	rc = stripe_pi_create(&sc, &p, key, &out->pi, e);
	if (rc)
		return rc;

	rc = write_begin(app, &c, e);
	if (rc)
		return rc;
	rc = billing_get_conn(c, who->tenant_id, doc->id, BILL_FOR_UPDATE, a, &locked, e);
	if (rc)
		goto out;
	if (!payable(locked->status)) {
		rc = billing_invalid_state(e, locked->source, locked->status, "take a payment");
		goto out;
	}
	rc = billing_payment_get_by_gateway(c, who->tenant_id, out->pi.id, a, &out->payment, e);
	if (rc == 0) {
		/* a retry found the PaymentIntent a previous attempt recorded */
		snprintf(pay_id, sizeof(pay_id), "%s", out->payment->id);
	} else if (rc == ERR_NOT_FOUND) {
		err_clear(e);
		in.method = method;
		in.amount_minor = out->pi.amount_minor;
		in.status = BILL_PAYMENT_PENDING;
		in.gateway = BILL_GATEWAY_STRIPE;
		in.gateway_payment_id = out->pi.id;
		in.audit_reason = terminal ? "Stripe PaymentIntent (Terminal)" : "Stripe PaymentIntent (online)";
		rc = billing_payment_record(c, who, doc->id, &in, pay_id, e);
		if (rc)
			goto out;
		out->created = true;
	} else {
		goto out;
	}
	if ((rc = billing_payment_get(c, who->tenant_id, pay_id, a, &out->payment, e)) ||
	    (rc = billing_get_conn(c, who->tenant_id, doc->id, BILL_WITH_PAYMENTS, a, &out->doc, e)) ||
	    (rc = db_commit(c, e)))
		goto out;
	log_info("msg=\"stripe payment intent\" tenant=%s document=%s payment=%s payment_intent=%s amount_minor=%lld "
		 "created=%d",
		 who->tenant_id, doc->id, pay_id, out->pi.id, (long long)out->pi.amount_minor, out->created ? 1 : 0);
out:
	if (c)
		db_release(c);
	return rc;
}

/* ---- confirm ---- */

/* One transaction: re-read the payment, apply pi to it, read back payment
 * and document into out. */
static int apply_and_load(struct app *app, const struct actor *who, const char *payment_id, const struct stripe_pi *pi,
			  struct arena *a, struct stripe_intent_result *out, struct err *e)
{
	struct db_conn *c = NULL;
	struct bill_payment *pay = NULL;
	int rc = write_begin(app, &c, e);

	if (rc)
		return rc;
	if ((rc = billing_payment_get(c, who->tenant_id, payment_id, a, &pay, e)) ||
	    (rc = apply_pi(c, who, pay, pi, NULL, e)) ||
	    (rc = billing_payment_get(c, who->tenant_id, payment_id, a, &out->payment, e)) ||
	    (rc = billing_get_conn(c, who->tenant_id, pay->document_id, BILL_WITH_PAYMENTS, a, &out->doc, e)))
		goto out;
	rc = db_commit(c, e);
out:
	db_release(c);
	return rc;
}

int stripe_confirm(struct app *app, const struct actor *who, const char *payment_intent_id, const char *payment_method,
		   struct arena *a, struct stripe_intent_result *out, struct err *e)
{
	struct stripe_client sc;
	struct bill_payment *pay = NULL;
	struct db_conn *c = NULL;
	char key[64];
	char pay_id[UUID_LEN + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = stripe_mod_require(app, e)))
		return rc;
	stripe_mod_client(app, &sc);
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = billing_payment_get_by_gateway(c, who->tenant_id, payment_intent_id, a, &pay, e);
	db_release(c);
	if (rc == 0 && pay->gateway != BILL_GATEWAY_STRIPE)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "payment intent not found");
	if (rc == ERR_NOT_FOUND)
		err_set(e, ERR_NOT_FOUND, NULL, "payment intent not found");
	if (rc)
		return rc;
	snprintf(pay_id, sizeof(pay_id), "%s", pay->id);

	if (payment_method) {
		char uuid[UUID_LEN + 1];
		uuid_v4(uuid);
		snprintf(key, sizeof(key), "cl-confirm-%s", uuid); /* httpc's retries reuse it */
		rc = stripe_pi_confirm(&sc, payment_intent_id, payment_method, key, &out->pi, e);
		if (rc == ERR_CONFLICT && strcmp(e->name, "PAYMENT_FAILED") == 0) {
			/* declined: record the failure, then report it */
			struct err declined = *e;
			struct err e2 = {0};
			if (stripe_pi_retrieve(&sc, payment_intent_id, &out->pi, &e2) == 0 &&
			    apply_and_load(app, who, pay_id, &out->pi, a, out, &e2) != 0)
				log_warn("msg=\"stripe decline not recorded\" payment=%s code=%d", pay_id, e2.code);
			*e = declined;
			return e->code;
		}
	} else {
		rc = stripe_pi_retrieve(&sc, payment_intent_id, &out->pi, e);
	}
	if (rc)
		return rc;
	return apply_and_load(app, who, pay_id, &out->pi, a, out, e);
}

/* ---- sync-payment ---- */

int stripe_sync_document(struct app *app, const struct actor *who, const char *doc_id, struct arena *a,
			 struct bill_document **out, struct err *e)
{
	struct stripe_client sc;
	struct bill_document *doc = NULL;
	struct stripe_pi *pis;
	const char **ids;
	struct db_conn *c = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	rc = billing_get(app->db, who->tenant_id, doc_id, BILL_WITH_PAYMENTS, a, &doc, e);
	if (rc)
		return rc;
	pis = arena_alloc(a, (doc->npayments + 1) * sizeof(*pis));
	ids = arena_alloc(a, (doc->npayments + 1) * sizeof(*ids));
	for (size_t i = 0; i < doc->npayments && n < SYNC_MAX_CALLS; i++) {
		const struct bill_payment *p = &doc->payments[i];
		if (p->gateway != BILL_GATEWAY_STRIPE || !p->gateway_payment_id)
			continue;
		if (p->status == BILL_PAYMENT_REFUNDED || (p->status == BILL_PAYMENT_CONFIRMED && p->receipt_url))
			continue;
		if (n == 0 && (rc = stripe_mod_require(app, e)))
			return rc;
		if (n == 0)
			stripe_mod_client(app, &sc);
		rc = stripe_pi_retrieve(&sc, p->gateway_payment_id, &pis[n], e);
		if (rc)
			return rc;
		ids[n++] = p->id;
	}
	if (n) {
		rc = write_begin(app, &c, e);
		if (rc)
			return rc;
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct bill_payment *pay = NULL;
			rc = billing_payment_get(c, who->tenant_id, ids[i], a, &pay, e);
			if (rc == 0)
				rc = apply_pi(c, who, pay, &pis[i], NULL, e);
		}
		if (rc == 0)
			rc = db_commit(c, e);
		db_release(c);
		if (rc)
			return rc;
	}
	return billing_get(app->db, who->tenant_id, doc_id, BILL_WITH_PAYMENTS, a, out, e);
}

/* ---- refunds ---- */

int stripe_refund_enqueue(struct db_conn *c, const struct actor *who, const char *payment_id, int64_t amount_minor,
			  const char *reason, char id_out[UUID_LEN + 1], struct err *e)
{
	struct arena *a = arena_new(64u << 10);
	struct bill_payment *pay = NULL;
	char dedupe[UUID_LEN + 32];
	json_t *payload = NULL;
	int rc;

	rc = billing_payment_get(c, who->tenant_id, payment_id, a, &pay, e);
	if (rc)
		goto out;
	if (pay->gateway != BILL_GATEWAY_STRIPE || !pay->gateway_payment_id) {
		rc = err_set(e, ERR_INVALID, NULL, "the payment was not taken with Stripe");
		goto out;
	}
	rc = billing_refund_record(c, who, payment_id, amount_minor, reason, BILL_REFUND_PENDING, NULL, id_out, e);
	if (rc)
		goto out;
	payload = json_pack("{s:s, s:s}", "refundId", id_out, "paymentId", payment_id);
	snprintf(dedupe, sizeof(dedupe), "%s:%s", STRIPE_JOB_REFUND, id_out);
	rc = jobs_enqueue(c, who->tenant_id, STRIPE_JOB_REFUND, payload, dedupe, 0, NULL, e);
out:
	json_decref(payload);
	arena_free(a);
	return rc;
}

/* Settle our refund from Stripe's refund re. */
static int settle_refund(struct db_conn *c, const struct actor *who, const char *refund_id,
			 const struct stripe_refund *re, bool *changed, struct err *e)
{
	*changed = false;
	if (strcmp(re->status, "succeeded") == 0)
		return billing_refund_succeed(c, who, refund_id, re->id, changed, e);
	if (strcmp(re->status, "failed") == 0 || strcmp(re->status, "canceled") == 0) {
		char reason[BILL_REASON_MAX];
		snprintf(reason, sizeof(reason), "refund %s at Stripe%s%s", re->status,
			 re->failure_reason[0] ? ": " : "", re->failure_reason);
		return billing_refund_fail(c, who, refund_id, reason, changed, e);
	}
	return 0; /* pending / requires_action: the webhook settles it */
}

int stripe_refund_job(struct app *app, const struct job *job, struct err *e)
{
	struct arena *a = arena_new(JOB_ARENA_BYTES);
	struct actor who = {.tenant_id = job->tenant_id, .kind = "system", .id = STRIPE_JOB_REFUND};
	const char *refund_id = json_string_value(json_object_get(job->payload, "refundId"));
	struct stripe_client sc;
	struct stripe_refund re;
	struct bill_refund *ref = NULL;
	struct bill_payment *pay = NULL;
	struct db_conn *c = NULL;
	bool changed = false, permanent;
	char reason[BILL_REASON_MAX];
	int rc;

	if (!refund_id || !uuid_valid(refund_id)) {
		rc = err_set(e, ERR_INVALID, "refundId", "job payload without a refund id");
		goto done;
	}
	if ((rc = stripe_mod_require(app, e)))
		goto done;
	stripe_mod_client(app, &sc);
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		goto done;
	rc = billing_refund_get(c, job->tenant_id, refund_id, a, &ref, e);
	if (rc == 0)
		rc = billing_payment_get(c, job->tenant_id, ref->payment_id, a, &pay, e);
	db_release(c);
	c = NULL;
	if (rc == ERR_NOT_FOUND) {
		log_warn("msg=\"stripe refund job: refund gone\" job=%s refund=%s", job->id, refund_id);
		err_clear(e);
		rc = 0;
		goto done;
	}
	if (rc)
		goto done;
	if (ref->status != BILL_REFUND_PENDING)
		goto done; /* settled already (by an earlier run or the webhook) */

	rc = stripe_refund_create(&sc, pay->gateway_payment_id ? pay->gateway_payment_id : "", ref->amount_minor,
				  ref->id, job->tenant_id, ref->document_id, ref->id, &re, e);
	permanent = rc == ERR_INVALID || rc == ERR_NOT_FOUND ||
		    (rc == ERR_CONFLICT && strcmp(e->name, "IDEMPOTENCY_CONFLICT") == 0);
	if (rc && !permanent)
		goto done; /* network, 5xx, 409: the job is retried with the same idempotency key */
	if (permanent)
		snprintf(reason, sizeof(reason), "refused by Stripe: %s", e->message);

	err_clear(e);
	if ((rc = write_begin(app, &c, e)))
		goto done;
	if (permanent)
		rc = billing_refund_fail(c, &who, ref->id, reason, &changed, e);
	else
		rc = settle_refund(c, &who, ref->id, &re, &changed, e);
	if (rc == 0)
		rc = db_commit(c, e);
	db_release(c);
	if (rc == 0)
		log_info("msg=\"stripe refund\" job=%s tenant=%s refund=%s stripe_refund=%s status=%s changed=%d",
			 job->id, job->tenant_id, ref->id, permanent ? "-" : re.id, permanent ? "refused" : re.status,
			 changed ? 1 : 0);
done:
	arena_free(a);
	return rc;
}

/* ---- webhooks ---- */

/* What an event needs, gathered before the transaction. */
struct event_work {
	const char *type;
	char tenant[UUID_LEN + 1]; /* "" when unresolved */
	char object_id[STRIPE_ID_MAX];
	char pi_id[STRIPE_ID_MAX]; /* the PaymentIntent concerned */
	enum { EV_IGNORE, EV_PI, EV_CHARGE_SUCCEEDED, EV_CHARGE_REFUNDED, EV_REFUND } kind;
	struct stripe_pi pi;
	struct stripe_charge charge;
	struct stripe_refund refund;
	struct stripe_refund *refunds; /* owned: the charge's refunds (charge.refunded) */
	size_t nrefunds;
	char note[NOTE_MAX];
};

/* tenant_id + order_id from metadata, checked against the document's owner. */
static int tenant_from_metadata(struct app *app, const char *tenant, const char *order, char out[UUID_LEN + 1],
				struct err *e)
{
	struct db_conn *c = NULL;
	char owner[UUID_LEN + 1];
	int rc;

	out[0] = '\0';
	if (!uuid_valid(order) || !*tenant)
		return 0;
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = billing_document_tenant(c, order, owner, e);
	db_release(c);
	if (rc == ERR_NOT_FOUND) {
		err_clear(e);
		return 0;
	}
	if (rc)
		return rc;
	if (strcmp(owner, tenant) == 0)
		snprintf(out, UUID_LEN + 1, "%s", owner);
	return 0;
}

/* The tenant of an event: from its metadata, else from its PaymentIntent's. */
static int resolve_tenant(struct app *app, const struct stripe_client *sc, const char *tenant, const char *order,
			  const char *pi_id, struct event_work *w, struct err *e)
{
	struct stripe_pi pi;
	int rc = tenant_from_metadata(app, tenant, order, w->tenant, e);

	if (rc || w->tenant[0] || !pi_id || !*pi_id)
		return rc;
	if (!app->cfg.stripe_secret_key[0])
		return 0;
	rc = stripe_pi_retrieve(sc, pi_id, &pi, e);
	if (rc == ERR_NOT_FOUND || rc == ERR_INVALID) {
		err_clear(e);
		return 0;
	}
	if (rc)
		return rc;
	return tenant_from_metadata(app, pi.tenant_id, pi.order_id, w->tenant, e);
}

static int event_prepare(struct app *app, const json_t *obj, struct event_work *w, struct err *e)
{
	struct stripe_client sc;
	const char *t = w->type;
	int rc;

	stripe_mod_client(app, &sc);
	if (strcmp(t, "payment_intent.succeeded") == 0 || strcmp(t, "payment_intent.payment_failed") == 0 ||
	    strcmp(t, "payment_intent.canceled") == 0) {
		if ((rc = stripe_pi_from_json(obj, &w->pi, e)))
			return err_set(e, ERR_INVALID, NULL, "event data is not a PaymentIntent");
		w->kind = EV_PI;
		snprintf(w->object_id, sizeof(w->object_id), "%s", w->pi.id);
		snprintf(w->pi_id, sizeof(w->pi_id), "%s", w->pi.id);
		return tenant_from_metadata(app, w->pi.tenant_id, w->pi.order_id, w->tenant, e);
	}
	if (strcmp(t, "charge.succeeded") == 0 || strcmp(t, "charge.refunded") == 0) {
		if ((rc = stripe_charge_from_json(obj, &w->charge, e)))
			return err_set(e, ERR_INVALID, NULL, "event data is not a Charge");
		w->kind = strcmp(t, "charge.succeeded") == 0 ? EV_CHARGE_SUCCEEDED : EV_CHARGE_REFUNDED;
		snprintf(w->object_id, sizeof(w->object_id), "%s", w->charge.id);
		snprintf(w->pi_id, sizeof(w->pi_id), "%s", w->charge.payment_intent);
		rc = resolve_tenant(app, &sc, w->charge.tenant_id, w->charge.order_id, w->pi_id, w, e);
		if (rc || !w->tenant[0] || w->kind != EV_CHARGE_REFUNDED)
			return rc;
		/* the event does not carry the charge's refunds: ask Stripe which they are */
		if ((rc = stripe_mod_require(app, e)))
			return rc;
		return stripe_refund_list(&sc, w->charge.id, &w->refunds, &w->nrefunds, e);
	}
	if (strcmp(t, "refund.created") == 0 || strcmp(t, "refund.updated") == 0 || strcmp(t, "refund.failed") == 0) {
		if ((rc = stripe_refund_from_json(obj, &w->refund, e)))
			return err_set(e, ERR_INVALID, NULL, "event data is not a Refund");
		w->kind = EV_REFUND;
		snprintf(w->object_id, sizeof(w->object_id), "%s", w->refund.id);
		snprintf(w->pi_id, sizeof(w->pi_id), "%s", w->refund.payment_intent);
		return resolve_tenant(app, &sc, "", "", w->pi_id, w, e);
	}
	w->kind = EV_IGNORE;
	snprintf(w->note, sizeof(w->note), "event type not handled");
	if (json_is_object(obj) && json_is_string(json_object_get(obj, "id")))
		snprintf(w->object_id, sizeof(w->object_id), "%s", json_string_value(json_object_get(obj, "id")));
	return 0;
}

/* Our refund matching Stripe's refund re of payment pay; then settle it, or
 * record a refund made outside this server (dashboard). */
static int reconcile_refund(struct db_conn *c, const struct actor *who, const struct bill_payment *pay,
			    const struct stripe_refund *re, struct arena *a, bool *changed, struct err *e)
{
	struct bill_refund *local = NULL;
	int rc = ERR_NOT_FOUND;

	*changed = false;
	if (uuid_valid(re->local_id))
		rc = billing_refund_get(c, who->tenant_id, re->local_id, a, &local, e);
	if (rc == ERR_NOT_FOUND)
		rc = billing_refund_get_by_gateway(c, who->tenant_id, re->id, a, &local, e);
	if (rc == ERR_NOT_FOUND) {
		err_clear(e);
		local = NULL;
		rc = 0;
	}
	if (rc)
		return rc;
	if (local) {
		if (strcmp(local->payment_id, pay->id) != 0)
			return 0;
		if (local->status != BILL_REFUND_PENDING && strcmp(re->status, "succeeded") != 0)
			return 0;
		rc = settle_refund(c, who, local->id, re, changed, e);
		if (rc == ERR_CONFLICT) { /* e.g. failed at Stripe after succeeding here: keep ours */
			err_clear(e);
			rc = 0;
		}
		return rc;
	}
	if (strcmp(re->status, "succeeded") != 0 || re->amount_minor <= 0)
		return 0;
	rc = billing_refund_record(c, who, pay->id, re->amount_minor, "refunded in the Stripe dashboard",
				   BILL_REFUND_SUCCEEDED, re->id, NULL, e);
	if (rc == ERR_INVALID || rc == ERR_CONFLICT) {
		log_warn("msg=\"stripe refund not recorded\" tenant=%s payment=%s stripe_refund=%s why=\"%s\"",
			 who->tenant_id, pay->id, re->id, e->message);
		err_clear(e);
		return 0;
	}
	*changed = rc == 0;
	return rc;
}

/* Apply the event on c. *changed tells whether anything of ours moved. */
static int event_apply(struct db_conn *c, const struct actor *who, struct event_work *w, struct arena *a, bool *changed,
		       struct err *e)
{
	struct bill_payment *pay = NULL;
	bool ch = false;
	int rc;

	*changed = false;
	rc = billing_payment_get_by_gateway(c, who->tenant_id, w->pi_id, a, &pay, e);
	if (rc == 0 && pay->gateway != BILL_GATEWAY_STRIPE)
		rc = ERR_NOT_FOUND;
	if (rc == ERR_NOT_FOUND) {
		err_clear(e);
		snprintf(w->note, sizeof(w->note), "no payment of ours for this PaymentIntent");
		return 0;
	}
	if (rc)
		return rc;
	switch (w->kind) {
	case EV_PI: rc = apply_pi(c, who, pay, &w->pi, changed, e); break;
	case EV_CHARGE_SUCCEEDED: {
		struct stripe_pi pi = {0};
		if (strcmp(w->charge.status, "succeeded") != 0)
			break;
		/* the charge stands for its PaymentIntent's success */
		snprintf(pi.id, sizeof(pi.id), "%s", w->pi_id);
		snprintf(pi.status, sizeof(pi.status), "succeeded");
		pi.amount_received_minor = w->charge.amount_minor;
		snprintf(pi.latest_charge, sizeof(pi.latest_charge), "%s", w->charge.id);
		snprintf(pi.receipt_url, sizeof(pi.receipt_url), "%s", w->charge.receipt_url);
		snprintf(pi.card_brand, sizeof(pi.card_brand), "%s", w->charge.card_brand);
		snprintf(pi.card_last4, sizeof(pi.card_last4), "%s", w->charge.card_last4);
		rc = apply_pi(c, who, pay, &pi, changed, e);
		break;
	}
	case EV_CHARGE_REFUNDED:
		/* oldest first, so refunds are applied in the order they were made */
		for (size_t i = w->nrefunds; i-- > 0 && rc == 0;) {
			rc = reconcile_refund(c, who, pay, &w->refunds[i], a, &ch, e);
			*changed = *changed || ch;
		}
		break;
	case EV_REFUND: rc = reconcile_refund(c, who, pay, &w->refund, a, changed, e); break;
	case EV_IGNORE: break;
	}
	if (rc == ERR_CONFLICT && strcmp(e->name, "INVALID_STATE") == 0) {
		snprintf(w->note, sizeof(w->note), "%s", e->message);
		err_clear(e);
		rc = 0;
	}
	if (rc == 0 && !*changed && !w->note[0])
		snprintf(w->note, sizeof(w->note), "nothing to change");
	return rc;
}

int stripe_webhook_handle(struct app *app, const struct stripe_webhook_in *in, struct stripe_webhook_out *out,
			  struct err *e)
{
	struct event_work w;
	struct arena *a = NULL;
	struct db_conn *c = NULL;
	struct stripe_event_row row = {0};
	struct actor who = {0};
	json_t *root = NULL, *after = NULL;
	const json_t *obj;
	const char *id, *type;
	char now[TIME_ISO_LEN + 1];
	bool seen = false, inserted = false, changed = false;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	rc = stripe_webhook_verify(app->cfg.stripe_webhook_secret, in->signature, in->payload, in->payload_len,
				   time_now_s(), STRIPE_WEBHOOK_TOLERANCE_S, e);
	if (rc)
		return rc;
	root = json_loadb(in->payload, in->payload_len, 0, NULL);
	id = json_string_value(json_object_get(root, "id"));
	type = json_string_value(json_object_get(root, "type"));
	obj = json_object_get(json_object_get(root, "data"), "object");
	if (!json_is_object(root) || !id || strncmp(id, "evt_", 4) != 0 || strlen(id) >= STRIPE_ID_MAX || !type ||
	    strlen(type) >= sizeof(out->type) || !json_is_object(obj)) {
		rc = err_set(e, ERR_INVALID, NULL, "the body is not a Stripe event");
		goto out;
	}
	snprintf(out->event_id, sizeof(out->event_id), "%s", id);
	snprintf(out->type, sizeof(out->type), "%s", type);

	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		goto out;
	rc = stripe_repo_event_seen(c, id, &seen, e);
	db_release(c);
	c = NULL;
	if (rc)
		goto out;
	if (seen)
		goto duplicate;

	w.type = out->type;
	rc = event_prepare(app, obj, &w, e);
	if (rc)
		goto out;

	a = arena_new(JOB_ARENA_BYTES);
	who.tenant_id = w.tenant[0] ? w.tenant : "-";
	who.kind = "system";
	who.id = STRIPE_WEBHOOK_ACTOR;
	who.ip = in->ip;
	who.request_id = in->request_id;
	rc = write_begin(app, &c, e);
	if (rc)
		goto out;
	if (w.kind != EV_IGNORE && w.tenant[0]) {
		rc = event_apply(c, &who, &w, a, &changed, e);
		if (rc)
			goto out;
	} else if (w.kind != EV_IGNORE) {
		snprintf(w.note, sizeof(w.note), "no tenant of ours in the event");
	}
	time_now_iso(now);
	row.event_id = id;
	row.tenant_id = who.tenant_id;
	row.type = type;
	row.object_id = nz(w.object_id);
	row.outcome = changed ? "processed" : "ignored";
	row.note = nz(w.note);
	row.livemode = json_is_true(json_object_get(root, "livemode"));
	row.event_created = json_integer_value(json_object_get(root, "created"));
	row.received_at = now;
	rc = stripe_repo_event_insert(c, &row, &inserted, e);
	if (rc)
		goto out;
	if (!inserted) { /* a concurrent delivery of the same event won */
		db_rollback(c);
		goto duplicate;
	}
	if (w.tenant[0]) {
		after = json_pack("{s:s, s:s?, s:s, s:s?}", "type", type, "objectId", row.object_id, "outcome",
				  row.outcome, "note", row.note);
		rc = audit_record(c, &who, "stripe_event.receive", "stripe_event", id, NULL, after, NULL, e);
		if (rc)
			goto out;
	}
	rc = db_commit(c, e);
	if (rc)
		goto out;
	snprintf(out->outcome, sizeof(out->outcome), "%s", row.outcome);
	log_info("msg=\"stripe event\" event=%s type=%s tenant=%s object=%s outcome=%s note=\"%s\"", id, type,
		 who.tenant_id, w.object_id[0] ? w.object_id : "-", row.outcome, w.note);
	goto out;
duplicate:
	out->duplicate = true;
	snprintf(out->outcome, sizeof(out->outcome), "duplicate");
	rc = 0;
out:
	if (c)
		db_release(c);
	free(w.refunds);
	json_decref(after);
	json_decref(root);
	if (a)
		arena_free(a);
	return rc;
}
