/*
 * stripe.h (module) - Stripe payments of billing documents (clinic contract
 * §2): PaymentIntents for an order's balance (Terminal card_present or
 * online card), their confirmation, Terminal connection tokens, Stripe's
 * webhooks, the billing-service sync-payment, and refunds through the job
 * queue. The wire client is src/net/stripe.h; money and states are
 * billing.h's (every change of a payment goes through billing_payment_* /
 * billing_refund_* inside one transaction with the document).
 *
 * NO NETWORK INSIDE A TRANSACTION. Stripe is called first (or last), never
 * while a write connection is held: on SQLite there is one writer.
 *
 * CREATE INTENT (POST /api/payments/stripe/create-intent). The order must be
 * the caller tenant's (any source), payable (pending / partially_paid /
 * overdue; else 409 INVALID_STATE) with balance > 0 (else 409). A pending
 * Stripe payment of the order for the same amount and mode whose
 * PaymentIntent can still be paid is returned again (no second
 * PaymentIntent, no double charge); otherwise Stripe creates one
 * (capture_method automatic, amount = balance in minor units, currency
 * lower-case, metadata order_id / tenant_id / invoice_number,
 * payment_method_types card_present + card for "terminal", card for
 * "online") and a pending payment (gateway stripe, method card_present /
 * card_online, gateway_payment_id = the PaymentIntent id) is recorded in one
 * transaction. Stripe's Idempotency-Key: derived from the request's
 * Idempotency-Key when there is one, else from the document's id, version,
 * mode and amount, so a retry after a failure between Stripe's answer and
 * our commit finds the same PaymentIntent instead of a second one.
 *
 * CONFIRM. With a paymentMethodId the PaymentIntent is confirmed at Stripe
 * (online cards: a pm_... from Stripe.js; never card data); without, it is
 * retrieved (a Terminal reader confirmed it). succeeded -> payment
 * confirmed (amount received, charge id, receipt URL, brand / last4);
 * requires_payment_method with an error or canceled -> payment failed
 * (a declined card answers 409 PAYMENT_FAILED after the failure is
 * recorded); other states leave it pending.
 *
 * WEBHOOK. Verified over the raw body (stripe_webhook_verify,
 * STRIPE_WEBHOOK_SECRET; 401 otherwise), de-duplicated by event id in
 * stripe_events (a duplicate answers 200 and changes nothing). The tenant
 * comes from the object's metadata (tenant_id + order_id, checked against
 * the document's owner) or from its PaymentIntent's metadata. Handled:
 * payment_intent.succeeded / .payment_failed / .canceled, charge.succeeded
 * (receipt URL, brand / last4), charge.refunded (the charge's refunds are
 * read from Stripe and matched to ours by metadata[refund_id]; a refund made
 * in Stripe's dashboard is recorded), refund.updated / refund.failed. Each
 * event is one transaction: the event row, the payment / refund change and
 * the document's new totals. Unknown types and events that concern no
 * payment of ours are acknowledged and recorded as "ignored". Stripe being
 * unreachable while an event needs it -> 502, and Stripe delivers again.
 *
 * REFUNDS (decision for billing.h's R4). POST /api/payments/:id/refund of a
 * Stripe payment (payments_http.c, billing-clinic) calls
 * stripe_refund_enqueue inside its transaction: a pending refund plus a job
 * "stripe.refund" (dedupe key "stripe.refund:<refund id>"); the caller runs
 * jobs_notify(app->jobs) after its commit. The job (stripe_refund_job) calls
 * POST /v1/refunds with Idempotency-Key = the refund id (so httpc's retries,
 * the job's own retries and a re-run after a crash make ONE refund at
 * Stripe) and settles ours: succeeded -> billing_refund_succeed, failed /
 * canceled or refused by Stripe (4xx) -> billing_refund_fail, pending ->
 * left for the webhook. Network / 5xx -> the job fails and is retried.
 */
#ifndef CL_MOD_STRIPE_H
#define CL_MOD_STRIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/ids.h"
#include "core/mem.h"
#include "db/db.h"
#include "mod/audit/audit.h"
#include "mod/billing/billing.h"
#include "net/stripe.h"

struct app;
struct job;

#define STRIPE_JOB_REFUND    "stripe.refund"
#define STRIPE_WEBHOOK_ACTOR "stripe.webhook"

/* The Stripe client of this server (app->cfg: key, base URL, timeout). */
void stripe_mod_client(const struct app *app, struct stripe_client *out);

/* ERR_UNAVAILABLE (503) naming STRIPE_SECRET_KEY when Stripe is not
 * configured; 0 otherwise. */
int stripe_mod_require(const struct app *app, struct err *e);

/* Outcome of create-intent and confirm. Pointers in the arena. */
struct stripe_intent_result {
	struct stripe_pi pi;
	struct bill_payment *payment;
	struct bill_document *doc; /* with payments */
	bool created;		   /* a new PaymentIntent and payment were made */
};

/* mode: "terminal" | "online". request_idem_key: the request's
 * Idempotency-Key or NULL. */
int stripe_create_intent(struct app *app, const struct actor *who, const char *order_id, const char *mode,
			 const char *request_idem_key, struct arena *a, struct stripe_intent_result *out,
			 struct err *e);

/* payment_method may be NULL. A PaymentIntent with no payment of the
 * caller's tenant -> ERR_NOT_FOUND. */
int stripe_confirm(struct app *app, const struct actor *who, const char *payment_intent_id, const char *payment_method,
		   struct arena *a, struct stripe_intent_result *out, struct err *e);

/* Bring every Stripe payment of document doc_id up to date from Stripe (one
 * transaction for all changes); *out: the document with payments (arena). */
int stripe_sync_document(struct app *app, const struct actor *who, const char *doc_id, struct arena *a,
			 struct bill_document **out, struct err *e);

/* A webhook delivery. */
struct stripe_webhook_in {
	const char *payload; /* raw body */
	size_t payload_len;
	const char *signature; /* Stripe-Signature header or NULL */
	const char *ip;
	const char *request_id;
};
struct stripe_webhook_out {
	char event_id[STRIPE_ID_MAX];
	char type[64];
	bool duplicate;
	char outcome[16]; /* "processed" | "ignored" | "duplicate" */
};
int stripe_webhook_handle(struct app *app, const struct stripe_webhook_in *in, struct stripe_webhook_out *out,
			  struct err *e);

/* See REFUNDS. Runs in the caller's open write transaction on c; who's
 * tenant scopes it. Payment not confirmed / not Stripe -> INVALID_STATE /
 * ERR_INVALID; amount beyond the refundable -> as billing_refund_record.
 * id_out gets the refund id. */
int stripe_refund_enqueue(struct db_conn *c, const struct actor *who, const char *payment_id, int64_t amount_minor,
			  const char *reason, char id_out[UUID_LEN + 1], struct err *e);

/* The job handler of "stripe.refund" (payload {"refundId"}). */
int stripe_refund_job(struct app *app, const struct job *job, struct err *e);

#endif
