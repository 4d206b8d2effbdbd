/*
 * stripe_http.c - the Stripe routes (clinic contract §2) and the
 * billing-service sync-payment: JSON in, mod/stripe/stripe.h, JSON out.
 *
 * Card data never reaches this server (PCI DSS): a body carrying a card
 * number, CVC or expiry field is refused with 400 before anything else,
 * naming the field; payments are made on a Stripe Terminal reader or with
 * Stripe.js, which hand us only PaymentIntent / PaymentMethod ids.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "core/jsonv.h"
#include "core/money.h"
#include "http/handlers.h"
#include "jobs/jobs.h"
#include "mod/billing/billing.h"
#include "mod/stripe/stripe.h"

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* Member names that would carry card data. */
static const char *const card_fields[] = {
    "card",
    "cardNumber",
    "card_number",
    "number",
    "pan",
    "cvc",
    "cvv",
    "cvc2",
    "cvv2",
    "cardCvc",
    "card_cvc",
    "securityCode",
    "expMonth",
    "exp_month",
    "expYear",
    "exp_year",
    "expiry",
    "expiration",
    "cardholderName",
    "track1",
    "track2",
    "paymentMethodData",
    "payment_method_data",
    NULL,
};

static int refuse_card_data(const json_t *body, struct err *e)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)body, key, v)
	{
		for (size_t i = 0; card_fields[i]; i++)
			if (strcasecmp(key, card_fields[i]) == 0)
				return err_set(e, ERR_INVALID, key,
					       "card data must never be sent to this server; pay on a Stripe Terminal "
					       "reader or with Stripe.js and send only the PaymentMethod id");
	}
	return 0;
}

/* A Stripe id with the given prefix: prefix + [A-Za-z0-9_]. */
static int stripe_id_check(const char *id, const char *prefix, const char *field, struct err *e)
{
	size_t n = id ? strlen(id) : 0, pl = strlen(prefix);

	if (n <= pl || n >= STRIPE_ID_MAX || strncmp(id, prefix, pl) != 0)
		return err_set(e, ERR_INVALID, field, "%s must be a Stripe id starting with %s", field, prefix);
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return err_set(e, ERR_INVALID, field, "%s must be a Stripe id starting with %s", field, prefix);
	}
	return 0;
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* A payment in the clinic contract's spelling (amounts as decimal strings). Owned. */
static json_t *payment_json(const struct bill_payment *p, int minor_units)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(p->id));
	json_object_set_new(o, "orderId", json_string(p->document_id));
	json_object_set_new(o, "method", json_string(billing_pay_method_name(p->method)));
	json_object_set_new(o, "amount", money_json_string(p->amount_minor, minor_units));
	json_object_set_new(o, "refundedAmount", money_json_string(p->refunded_minor, minor_units));
	json_object_set_new(o, "currency", json_string(p->currency));
	json_object_set_new(o, "status", json_string(billing_pay_status_name(p->status)));
	json_object_set_new(o, "gateway", json_string(billing_gateway_name(p->gateway)));
	json_object_set_new(o, "stripePaymentIntentId", str_or_null(p->gateway_payment_id));
	json_object_set_new(o, "stripeChargeId", str_or_null(p->stripe_charge_id));
	json_object_set_new(o, "cardBrand", str_or_null(p->card_brand));
	json_object_set_new(o, "cardLast4", str_or_null(p->card_last4));
	json_object_set_new(o, "receiptUrl", str_or_null(p->receipt_url));
	json_object_set_new(o, "failureReason", str_or_null(p->failure_reason));
	json_object_set_new(o, "confirmedAt", str_or_null(p->confirmed_at));
	json_object_set_new(o, "failedAt", str_or_null(p->failed_at));
	json_object_set_new(o, "createdAt", json_string(p->created_at));
	return o;
}

/* The order beside a payment. Owned. */
static json_t *order_json(const struct bill_document *d)
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

static json_t *intent_json(const struct app *app, const struct stripe_intent_result *r)
{
	const struct bill_document *d = r->doc;
	json_t *o = json_object();

	json_object_set_new(o, "paymentIntentId", json_string(r->pi.id));
	json_object_set_new(o, "clientSecret", json_string(r->pi.client_secret));
	json_object_set_new(o, "amount", money_json_string(r->pi.amount_minor, d->minor_units));
	json_object_set_new(o, "currency", json_string(d->currency));
	json_object_set_new(o, "publishableKey",
			    app->cfg.stripe_publishable_key[0] ? json_string(app->cfg.stripe_publishable_key)
							       : json_null());
	json_object_set_new(o, "status", json_string(r->pi.status));
	json_object_set_new(o, "paymentId", json_string(r->payment->id));
	json_object_set_new(o, "paymentMethod", json_string(billing_pay_method_name(r->payment->method)));
	json_object_set_new(o, "orderId", json_string(d->id));
	json_object_set_new(o, "orderNumber", json_string(d->number));
	return o;
}

HANDLER(stripe_http_create_intent)
{
	static const char *const modes[] = {"terminal", "online", NULL};
	static const struct jv_field fields[] = {
	    {"orderId", JV_UUID, JV_REQUIRED, 0, 0, NULL, 0},
	    {"mode", JV_STRING, 0, 0, 0, modes, 0},
	};
	struct stripe_intent_result r;
	const char *mode;
	json_t *body;
	int rc;

	if ((rc = stripe_mod_require(ctx->app, e)) || (rc = http_json_body(ctx->req, false, &body, e)) ||
	    (rc = refuse_card_data(body, e)) || (rc = jv_check(body, fields, NFIELDS(fields), "", e)))
		return rc;
	mode = jv_str(body, "mode") ? jv_str(body, "mode") : "terminal";
	rc = stripe_create_intent(ctx->app, &ctx->actor, jv_str(body, "orderId"), mode, ctx->actor.idempotency_key,
				  ctx->req->arena, &r, e);
	if (rc)
		return rc;
	resp->status = r.created ? 201 : 200;
	resp->data = intent_json(ctx->app, &r);
	return 0;
}

HANDLER(stripe_http_confirm)
{
	static const struct jv_field fields[] = {
	    {"paymentIntentId", JV_STRING, JV_REQUIRED, 1, STRIPE_ID_MAX - 1, NULL, 0},
	    {"paymentMethodId", JV_STRING, 0, 1, STRIPE_ID_MAX - 1, NULL, 0},
	};
	struct stripe_intent_result r;
	const char *pm;
	json_t *body, *o;
	int rc;

	if ((rc = stripe_mod_require(ctx->app, e)) || (rc = http_json_body(ctx->req, false, &body, e)) ||
	    (rc = refuse_card_data(body, e)) || (rc = jv_check(body, fields, NFIELDS(fields), "", e)) ||
	    (rc = stripe_id_check(jv_str(body, "paymentIntentId"), "pi_", "paymentIntentId", e)))
		return rc;
	pm = jv_str(body, "paymentMethodId");
	if (pm && (rc = stripe_id_check(pm, "pm_", "paymentMethodId", e)))
		return rc;
	rc = stripe_confirm(ctx->app, &ctx->actor, jv_str(body, "paymentIntentId"), pm, ctx->req->arena, &r, e);
	if (rc)
		return rc;
	o = json_object();
	json_object_set_new(o, "paymentIntentId", json_string(r.pi.id));
	json_object_set_new(o, "status", json_string(r.pi.status));
	json_object_set_new(o, "paymentStatus", json_string(billing_pay_status_name(r.payment->status)));
	json_object_set_new(o, "receiptUrl", str_or_null(r.payment->receipt_url));
	json_object_set_new(o, "cardBrand", str_or_null(r.payment->card_brand));
	json_object_set_new(o, "cardLast4", str_or_null(r.payment->card_last4));
	json_object_set_new(o, "failureReason", str_or_null(r.payment->failure_reason));
	json_object_set_new(o, "payment", payment_json(r.payment, r.doc->minor_units));
	json_object_set_new(o, "order", order_json(r.doc));
	resp->data = o;
	return 0;
}

HANDLER(stripe_http_connection_token)
{
	static const struct jv_field fields[] = {
	    {"location", JV_STRING, 0, 1, STRIPE_ID_MAX - 1, NULL, 0},
	};
	struct stripe_client sc;
	char secret[STRIPE_SECRET_MAX];
	char key[64], uuid[UUID_LEN + 1];
	const char *location;
	json_t *body;
	int rc;

	if ((rc = stripe_mod_require(ctx->app, e)) || (rc = http_json_body(ctx->req, true, &body, e)) ||
	    (rc = refuse_card_data(body, e)) || (rc = jv_check(body, fields, NFIELDS(fields), "", e)))
		return rc;
	location = jv_str(body, "location");
	if (location && (rc = stripe_id_check(location, "tml_", "location", e)))
		return rc;
	stripe_mod_client(ctx->app, &sc);
	uuid_v4(uuid);
	snprintf(key, sizeof(key), "cl-ct-%s", uuid);
	rc = stripe_connection_token(&sc, location, key, secret, e);
	if (rc)
		return rc;
	resp->data = json_pack("{s:s}", "secret", secret);
	http_resp_header(ctx, resp, "Cache-Control", "no-store");
	return 0;
}

HANDLER(stripe_http_config)
{
	if (!ctx->app->cfg.stripe_publishable_key[0])
		return err_set(e, ERR_UNAVAILABLE, NULL,
			       "Stripe payments are not configured on this server (STRIPE_PUBLISHABLE_KEY is not set)");
	resp->data = json_pack("{s:s, s:b}", "publishableKey", ctx->app->cfg.stripe_publishable_key, "terminal", 1);
	return 0;
}

HANDLER(stripe_http_webhook)
{
	struct stripe_webhook_in in = {0};
	struct stripe_webhook_out out;
	int rc;

	in.payload = ctx->req->body ? ctx->req->body : "";
	in.payload_len = ctx->req->body ? ctx->req->body_len : 0;
	in.signature = http_header(ctx->req, "Stripe-Signature");
	in.ip = ctx->req->ip;
	in.request_id = ctx->req->request_id;
	rc = stripe_webhook_handle(ctx->app, &in, &out, e);
	if (rc)
		return rc;
	resp->data = json_pack("{s:b, s:s, s:s, s:b, s:s}", "received", 1, "eventId", out.event_id, "type", out.type,
			       "duplicate", out.duplicate, "outcome", out.outcome);
	return 0;
}

HANDLER(invoices_http_sync_payment)
{
	const char *id = http_param(ctx->req, "id");
	struct bill_document *d = NULL;
	json_t *o, *list;
	int64_t confirmed = 0;
	int rc;

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	rc = stripe_sync_document(ctx->app, &ctx->actor, id, ctx->req->arena, &d, e);
	if (rc == ERR_NOT_FOUND && !e->message[0])
		err_set(e, ERR_NOT_FOUND, NULL, "invoice not found");
	if (rc)
		return rc;
	list = json_array();
	for (size_t i = 0; i < d->npayments; i++) {
		const struct bill_payment *p = &d->payments[i];
		json_t *j = json_object();
		json_object_set_new(j, "id", json_string(p->id));
		json_object_set_new(j, "amount", money_json_number(p->amount_minor, d->minor_units));
		json_object_set_new(j, "status", json_string(billing_pay_status_name(p->status)));
		json_object_set_new(j, "confirmedAt", str_or_null(p->confirmed_at));
		json_object_set_new(j, "method", json_string(billing_pay_method_name(p->method)));
		json_object_set_new(j, "gateway", json_string(billing_gateway_name(p->gateway)));
		json_object_set_new(j, "gatewayPaymentId", str_or_null(p->gateway_payment_id));
		json_object_set_new(j, "receiptUrl", str_or_null(p->receipt_url));
		json_array_append_new(list, j);
		if (p->status == BILL_PAYMENT_CONFIRMED)
			confirmed += p->amount_minor;
	}
	o = json_object();
	json_object_set_new(o, "invoiceId", json_string(d->id));
	json_object_set_new(o, "payments", list);
	json_object_set_new(o, "totalConfirmed", money_json_number(confirmed, d->minor_units));
	json_object_set_new(o, "synced", json_true());
	resp->data = o;
	return 0;
}
