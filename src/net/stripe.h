/*
 * stripe.h - a Stripe REST client (https://docs.stripe.com/api) over httpc,
 * and Stripe webhook signature verification.
 *
 * THE WIRE. Base URL client->api_base (STRIPE_API_BASE, default
 * https://api.stripe.com), "Authorization: Bearer <secret key>", request
 * bodies application/x-www-form-urlencoded with Stripe's bracket notation
 * (metadata[order_id]=..., payment_method_types[]=card_present, expand[]=
 * latest_charge), JSON responses. Every POST carries an Idempotency-Key
 * chosen by the caller: deterministic whenever a repeat of the same
 * business action must not create a second object (a refund: its refund id),
 * so httpc's retries and a job's re-runs are safe. Stripe-Version is pinned
 * to STRIPE_API_VERSION so the response shapes read here cannot change
 * under us when the account's default version moves; bump it deliberately
 * after reading Stripe's changelog. The fields read here (PaymentIntent
 * id/status/amount/amount_received/currency/client_secret/latest_charge/
 * last_payment_error/metadata, Charge receipt_url/payment_method_details.
 * card|card_present.brand|last4/amount_refunded, Refund id/status/amount,
 * terminal.connection_token secret) are stable across the dated versions.
 *
 * RETRIES. Network errors, 429 and 5xx are retried by httpc (exponential
 * backoff with jitter, client->max_attempts), honouring Stripe's
 * "Stripe-Should-Retry" response header; 4xx never.
 *
 * ERRORS. Stripe answers errors as {"error":{"type","code","decline_code",
 * "message","param"}}; they map to:
 *   network failure, timeout, 5xx, 429 after retries  -> ERR_UPSTREAM (502)
 *   401/403 (our key refused), other 4xx, bad JSON     -> ERR_UPSTREAM
 *   400 idempotency_error                              -> ERR_CONFLICT "IDEMPOTENCY_CONFLICT"
 *   400 invalid_request_error                          -> ERR_INVALID, field = Stripe's param
 *   402 card_error (declined, expired, ...)            -> ERR_CONFLICT "PAYMENT_FAILED"
 *   404 resource_missing                               -> ERR_NOT_FOUND
 *   409 (concurrent use of an object)                  -> ERR_CONFLICT
 * e->message is Stripe's message for 400/402/404 (written for end users,
 * never contains a key or card number) and a fixed text otherwise; Stripe's
 * request id and error code go to e->detail (log only).
 *
 * PCI. Nothing here sends or accepts card numbers or CVCs: PaymentIntents
 * are confirmed with a PaymentMethod id or by a Terminal reader; only
 * brand and last4 are read back.
 *
 * Thread-safe: a client is read-only configuration.
 */
#ifndef CL_NET_STRIPE_H
#define CL_NET_STRIPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* The pinned API version (sent as Stripe-Version): the version of the stripe
 * npm package the tests sign webhooks with (tests/package.json, 23.1.0). */
#define STRIPE_API_VERSION	   "2026-10-28.endive"
#define STRIPE_DEFAULT_API_BASE	   "https://api.stripe.com"
#define STRIPE_WEBHOOK_TOLERANCE_S 300
#define STRIPE_ID_MAX		   256 /* Stripe ids are opaque strings of up to 255 bytes */
#define STRIPE_SECRET_MAX	   512 /* client_secret, connection token secret */
#define STRIPE_URL_MAX		   1024
#define STRIPE_IDEMPOTENCY_KEY_MAX 255

/* Connection settings. Strings borrowed (they live in app->cfg). */
struct stripe_client {
	const char *api_base;	/* "" or NULL -> STRIPE_DEFAULT_API_BASE */
	const char *secret_key; /* sk_live_... / sk_test_... / rk_...; "" -> ERR_UNAVAILABLE */
	int timeout_ms;		/* per attempt; 0 -> 15000 */
	int connect_timeout_ms; /* 0 -> 5000 */
	int max_attempts;	/* 0 -> 3 */
	int backoff_base_ms;	/* 0 -> httpc's default */
	const char *ca_file;	/* NULL: system CA bundle */
};

/* ---- form bodies ---- */

/* An application/x-www-form-urlencoded body under construction. Keys keep
 * their brackets ("metadata[order_id]"), everything else is percent-encoded. */
struct stripe_form {
	char *buf; /* owned, NUL-terminated; NULL while empty */
	size_t len, cap;
};

void stripe_form_add(struct stripe_form *f, const char *key, const char *value);
void stripe_form_add_int(struct stripe_form *f, const char *key, int64_t value);
/* The body so far: borrowed, "" when empty. */
const char *stripe_form_body(const struct stripe_form *f);
void stripe_form_free(struct stripe_form *f);

/* ---- objects ---- */

/* A PaymentIntent, with what its latest charge says when that was expanded
 * (retrieve) or when taken from a charge event. Empty strings when absent. */
struct stripe_pi {
	char id[STRIPE_ID_MAX];
	char status[40]; /* requires_payment_method | requires_confirmation | requires_action |
			    processing | requires_capture | canceled | succeeded */
	int64_t amount_minor;
	int64_t amount_received_minor;
	char currency[8];		       /* lower-case ISO code, as Stripe writes it */
	char client_secret[STRIPE_SECRET_MAX]; /* hand only to the paying client */
	char latest_charge[STRIPE_ID_MAX];     /* ch_... */
	char receipt_url[STRIPE_URL_MAX];
	char card_brand[32];
	char card_last4[8];
	char failure_code[64];	   /* last_payment_error.code (decline_code when set) */
	char failure_message[256]; /* last_payment_error.message */
	char order_id[64];	   /* metadata[order_id] */
	char tenant_id[64];	   /* metadata[tenant_id] */
	int64_t created_s;
};

/* A Charge. */
struct stripe_charge {
	char id[STRIPE_ID_MAX];
	char payment_intent[STRIPE_ID_MAX];
	char status[32]; /* succeeded | pending | failed */
	int64_t amount_minor;
	int64_t amount_refunded_minor;
	bool refunded; /* fully refunded */
	char currency[8];
	char receipt_url[STRIPE_URL_MAX];
	char card_brand[32];
	char card_last4[8];
	char failure_code[64];
	char failure_message[256];
	char order_id[64]; /* metadata copied from the PaymentIntent, when present */
	char tenant_id[64];
};

/* A Refund. */
struct stripe_refund {
	char id[STRIPE_ID_MAX];
	char status[32]; /* pending | requires_action | succeeded | failed | canceled */
	int64_t amount_minor;
	char currency[8];
	char payment_intent[STRIPE_ID_MAX];
	char charge[STRIPE_ID_MAX];
	char failure_reason[64];
	char local_id[64];  /* metadata[refund_id]: our refund's id, when we created it */
	char tenant_id[64]; /* metadata[tenant_id] */
};

/* Read objects from Stripe's JSON (an API response or an event's
 * data.object). Missing id or wrong "object" -> ERR_UPSTREAM. */
int stripe_pi_from_json(const json_t *obj, struct stripe_pi *out, struct err *e);
int stripe_charge_from_json(const json_t *obj, struct stripe_charge *out, struct err *e);
int stripe_refund_from_json(const json_t *obj, struct stripe_refund *out, struct err *e);

/* ---- operations ---- */

/* One API call: method "GET"/"POST"/"DELETE", path "/v1/..." (query string
 * allowed for GET), form body (POST; may be NULL), idempotency_key (required
 * for POST, ignored otherwise). On 2xx *out is the parsed response (owned,
 * json_decref). Errors as in ERRORS above. */
int stripe_call(const struct stripe_client *c, const char *method, const char *path, const struct stripe_form *form,
		const char *idempotency_key, json_t **out, struct err *e);

/* What a PaymentIntent is created with. */
struct stripe_pi_params {
	int64_t amount_minor;			 /* > 0, in the currency's minor units */
	const char *currency;			 /* ISO 4217, any case (sent lower-case) */
	const char *order_id;			 /* metadata[order_id] (the billing document id) */
	const char *tenant_id;			 /* metadata[tenant_id] */
	const char *invoice_number;		 /* metadata[invoice_number]; may be NULL */
	const char *const *payment_method_types; /* NULL-terminated, e.g. {"card_present","card",NULL} */
	const char *description;		 /* may be NULL; never patient data */
};

/* POST /v1/payment_intents (capture_method=automatic). */
int stripe_pi_create(const struct stripe_client *c, const struct stripe_pi_params *p, const char *idempotency_key,
		     struct stripe_pi *out, struct err *e);
/* GET /v1/payment_intents/:id?expand[]=latest_charge: receipt_url and
 * brand/last4 filled from the expanded charge. */
int stripe_pi_retrieve(const struct stripe_client *c, const char *id, struct stripe_pi *out, struct err *e);
/* POST /v1/payment_intents/:id/confirm [payment_method=pm_...]
 * (expand[]=latest_charge). payment_method may be NULL. */
int stripe_pi_confirm(const struct stripe_client *c, const char *id, const char *payment_method,
		      const char *idempotency_key, struct stripe_pi *out, struct err *e);
/* POST /v1/terminal/connection_tokens [location=tml_...]: the token's
 * secret into secret[STRIPE_SECRET_MAX]. location may be NULL. */
int stripe_connection_token(const struct stripe_client *c, const char *location, const char *idempotency_key,
			    char secret[STRIPE_SECRET_MAX], struct err *e);
/* POST /v1/refunds payment_intent=..&amount=..&metadata[refund_id]=..
 * &metadata[tenant_id]=..&metadata[order_id]=.. (the three may be NULL).
 * Use the refund's own id as idempotency key. */
int stripe_refund_create(const struct stripe_client *c, const char *payment_intent, int64_t amount_minor,
			 const char *refund_id, const char *tenant_id, const char *order_id,
			 const char *idempotency_key, struct stripe_refund *out, struct err *e);
/* GET /v1/refunds?charge=ch_...&limit=100: the charge's refunds, newest
 * first, into *out (owned array, free()) of *n. */
int stripe_refund_list(const struct stripe_client *c, const char *charge_id, struct stripe_refund **out, size_t *n,
		       struct err *e);

/* ---- webhooks ---- */

/* Verify a Stripe-Signature header "t=<unix s>,v1=<hex>[,v1=<hex>...][,v0=...]"
 * over the RAW payload: some v1 must equal hex(HMAC-SHA256(secret,
 * "<t>.<payload>")) (constant-time compare; other schemes ignored) and
 * |now_s - t| <= tolerance_s (STRIPE_WEBHOOK_TOLERANCE_S). The secret is
 * used as is ("whsec_..." bytes, as Stripe's libraries do).
 * Empty secret -> ERR_UNAVAILABLE; missing/malformed header, no matching
 * signature, or a timestamp outside the tolerance -> ERR_UNAUTHORIZED. */
int stripe_webhook_verify(const char *secret, const char *header, const char *payload, size_t payload_len,
			  int64_t now_s, int64_t tolerance_s, struct err *e);

#endif
