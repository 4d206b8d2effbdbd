/*
 * stripe.c - the Stripe REST client: form bodies with bracket keys, the
 * pinned Stripe-Version, Idempotency-Key on every POST, Stripe's error
 * objects mapped to our error codes, readers of PaymentIntent / Charge /
 * Refund JSON, and the Stripe-Signature check of webhooks (see stripe.h).
 */
#include "net/stripe.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "net/httpc.h"

/* ---- form bodies ---- */

static void form_append(struct stripe_form *f, const char *s)
{
	size_t n = strlen(s);

	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap : 256;
		while (cap < f->len + n + 1)
			cap *= 2;
		f->buf = xrealloc(f->buf, cap);
		f->cap = cap;
	}
	memcpy(f->buf + f->len, s, n + 1);
	f->len += n;
}

void stripe_form_add(struct stripe_form *f, const char *key, const char *value)
{
	char *k = httpc_escape(key, 1);
	char *v = httpc_escape(value ? value : "", 0);

	if (f->len)
		form_append(f, "&");
	form_append(f, k);
	form_append(f, "=");
	form_append(f, v);
	free(k);
	free(v);
}

void stripe_form_add_int(struct stripe_form *f, const char *key, int64_t value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, value);
	stripe_form_add(f, key, buf);
}

const char *stripe_form_body(const struct stripe_form *f)
{
	return f->buf ? f->buf : "";
}

void stripe_form_free(struct stripe_form *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

/* ---- JSON readers ---- */

static void jcopy(const json_t *obj, const char *key, char *dst, size_t len)
{
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(dst, len, "%s", s ? s : "");
}

static int64_t jint(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* An id field that must be present and fit. */
static int jid(const json_t *obj, const char *key, char *dst, size_t len, const char *what, struct err *e)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (!s || !*s || strlen(s) >= len) {
		err_set(e, ERR_UPSTREAM, NULL, "the payment provider sent an unexpected response");
		return err_detail(e, "stripe %s without a usable %s", what, key);
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int check_object(const json_t *obj, const char *want, struct err *e)
{
	const char *o = json_string_value(json_object_get(obj, "object"));

	if (!json_is_object(obj) || !o || strcmp(o, want) != 0) {
		err_set(e, ERR_UPSTREAM, NULL, "the payment provider sent an unexpected response");
		return err_detail(e, "stripe: expected a %s object", want);
	}
	return 0;
}

/* brand/last4 from payment_method_details.{card_present|card|...}. */
static void card_details(const json_t *charge, char *brand, size_t blen, char *last4, size_t llen)
{
	const json_t *pmd = json_object_get(charge, "payment_method_details");
	const char *type = json_string_value(json_object_get(pmd, "type"));
	const json_t *d = NULL;

	if (type)
		d = json_object_get(pmd, type);
	if (!json_is_object(d))
		d = json_object_get(pmd, "card_present");
	if (!json_is_object(d))
		d = json_object_get(pmd, "card");
	if (!json_is_object(d))
		return;
	jcopy(d, "brand", brand, blen);
	jcopy(d, "last4", last4, llen);
}

int stripe_charge_from_json(const json_t *obj, struct stripe_charge *out, struct err *e)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *pi = json_object_get(obj, "payment_intent");
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_object(obj, "charge", e);
	if (rc == 0)
		rc = jid(obj, "id", out->id, sizeof(out->id), "charge", e);
	if (rc)
		return rc;
	if (json_is_object(pi))
		jcopy(pi, "id", out->payment_intent, sizeof(out->payment_intent));
	else
		jcopy(obj, "payment_intent", out->payment_intent, sizeof(out->payment_intent));
	jcopy(obj, "status", out->status, sizeof(out->status));
	out->amount_minor = jint(obj, "amount");
	out->amount_refunded_minor = jint(obj, "amount_refunded");
	out->refunded = json_is_true(json_object_get(obj, "refunded"));
	jcopy(obj, "currency", out->currency, sizeof(out->currency));
	jcopy(obj, "receipt_url", out->receipt_url, sizeof(out->receipt_url));
	card_details(obj, out->card_brand, sizeof(out->card_brand), out->card_last4, sizeof(out->card_last4));
	jcopy(obj, "failure_code", out->failure_code, sizeof(out->failure_code));
	jcopy(obj, "failure_message", out->failure_message, sizeof(out->failure_message));
	jcopy(meta, "order_id", out->order_id, sizeof(out->order_id));
	jcopy(meta, "tenant_id", out->tenant_id, sizeof(out->tenant_id));
	return 0;
}

int stripe_pi_from_json(const json_t *obj, struct stripe_pi *out, struct err *e)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *charge = json_object_get(obj, "latest_charge");
	const json_t *lpe = json_object_get(obj, "last_payment_error");
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_object(obj, "payment_intent", e);
	if (rc == 0)
		rc = jid(obj, "id", out->id, sizeof(out->id), "payment_intent", e);
	if (rc)
		return rc;
	jcopy(obj, "status", out->status, sizeof(out->status));
	out->amount_minor = jint(obj, "amount");
	out->amount_received_minor = jint(obj, "amount_received");
	jcopy(obj, "currency", out->currency, sizeof(out->currency));
	jcopy(obj, "client_secret", out->client_secret, sizeof(out->client_secret));
	out->created_s = jint(obj, "created");
	jcopy(meta, "order_id", out->order_id, sizeof(out->order_id));
	jcopy(meta, "tenant_id", out->tenant_id, sizeof(out->tenant_id));
	if (json_is_object(charge)) {
		jcopy(charge, "id", out->latest_charge, sizeof(out->latest_charge));
		jcopy(charge, "receipt_url", out->receipt_url, sizeof(out->receipt_url));
		card_details(charge, out->card_brand, sizeof(out->card_brand), out->card_last4,
			     sizeof(out->card_last4));
	} else {
		jcopy(obj, "latest_charge", out->latest_charge, sizeof(out->latest_charge));
	}
	if (json_is_object(lpe)) {
		jcopy(lpe, "decline_code", out->failure_code, sizeof(out->failure_code));
		if (!out->failure_code[0])
			jcopy(lpe, "code", out->failure_code, sizeof(out->failure_code));
		jcopy(lpe, "message", out->failure_message, sizeof(out->failure_message));
	}
	return 0;
}

int stripe_refund_from_json(const json_t *obj, struct stripe_refund *out, struct err *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_object(obj, "refund", e);
	if (rc == 0)
		rc = jid(obj, "id", out->id, sizeof(out->id), "refund", e);
	if (rc)
		return rc;
	jcopy(obj, "status", out->status, sizeof(out->status));
	out->amount_minor = jint(obj, "amount");
	jcopy(obj, "currency", out->currency, sizeof(out->currency));
	jcopy(obj, "payment_intent", out->payment_intent, sizeof(out->payment_intent));
	jcopy(obj, "charge", out->charge, sizeof(out->charge));
	jcopy(obj, "failure_reason", out->failure_reason, sizeof(out->failure_reason));
	jcopy(json_object_get(obj, "metadata"), "refund_id", out->local_id, sizeof(out->local_id));
	jcopy(json_object_get(obj, "metadata"), "tenant_id", out->tenant_id, sizeof(out->tenant_id));
	return 0;
}

/* ---- calls ---- */

/* Map a non-2xx Stripe response to our error (see stripe.h ERRORS). */
static int map_error(long status, const char *body, const char *request_id, const char *method, const char *path,
		     struct err *e)
{
	json_t *root = json_loads(body, 0, NULL);
	const json_t *error = json_object_get(root, "error");
	char type[64], code[64], message[256], param[64];
	int rc;

	jcopy(error, "type", type, sizeof(type));
	jcopy(error, "decline_code", code, sizeof(code));
	if (!code[0])
		jcopy(error, "code", code, sizeof(code));
	jcopy(error, "message", message, sizeof(message));
	jcopy(error, "param", param, sizeof(param));
	json_decref(root);

	if (status == 400 && strcmp(type, "idempotency_error") == 0) {
		err_set(e, ERR_CONFLICT, NULL, "%s",
			message[0] ? message : "the payment provider refused a reused idempotency key");
		err_name(e, "IDEMPOTENCY_CONFLICT");
	} else if (status == 400) {
		err_set(e, ERR_INVALID, param[0] ? param : NULL, "%s",
			message[0] ? message : "the payment provider refused the request");
	} else if (status == 402) {
		err_set(e, ERR_CONFLICT, NULL, "%s", message[0] ? message : "the payment was declined");
		err_name(e, "PAYMENT_FAILED");
	} else if (status == 404) {
		err_set(e, ERR_NOT_FOUND, NULL, "%s", message[0] ? message : "no such object at the payment provider");
	} else if (status == 409) {
		err_set(e, ERR_CONFLICT, NULL, "the payment provider is busy with this object; try again");
	} else if (status == 401 || status == 403) {
		err_set(e, ERR_UPSTREAM, NULL, "the payment provider refused the server's credentials");
	} else if (status >= 500 || status == 429) {
		err_set(e, ERR_UPSTREAM, NULL, "the payment provider is unavailable; try again later");
	} else {
		err_set(e, ERR_UPSTREAM, NULL, "the payment provider answered unexpectedly");
	}
	rc = err_detail(e, "stripe %s %s: HTTP %ld type=%s code=%s param=%s request_id=%s", method, path, status,
			type[0] ? type : "-", code[0] ? code : "-", param[0] ? param : "-",
			request_id ? request_id : "-");
	log_warn("msg=\"stripe error\" method=%s path=\"%.*s\" status=%ld type=%s code=%s request_id=%s", method,
		 (int)strcspn(path, "?"), path, status, type[0] ? type : "-", code[0] ? code : "-",
		 request_id ? request_id : "-");
	return rc;
}

static int valid_idempotency_key(const char *k)
{
	size_t n;

	if (!k || !*k)
		return 0;
	n = strlen(k);
	if (n > STRIPE_IDEMPOTENCY_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)k[i]))
			return 0;
	return 1;
}

int stripe_call(const struct stripe_client *c, const char *method, const char *path, const struct stripe_form *form,
		const char *idempotency_key, json_t **out, struct err *e)
{
	static const char *const capture[] = {"Request-Id", "Idempotent-Replayed", NULL};
	const char *base = c->api_base && *c->api_base ? c->api_base : STRIPE_DEFAULT_API_BASE;
	size_t blen = strlen(base);
	struct httpc_header headers[2];
	struct httpc_request rq = {0};
	struct httpc_response resp = {0};
	int is_post = strcmp(method, "POST") == 0;
	json_error_t jerr;
	char *url = NULL;
	int rc;

	*out = NULL;
	if (!c->secret_key || !*c->secret_key)
		return err_set(e, ERR_UNAVAILABLE, NULL, "Stripe is not configured on this server (STRIPE_SECRET_KEY)");
	if (is_post && !valid_idempotency_key(idempotency_key)) {
		err_set(e, ERR_INTERNAL, NULL, "internal error");
		return err_detail(e, "stripe POST %s without a valid idempotency key", path);
	}
	while (blen && base[blen - 1] == '/')
		blen--;
	url = xasprintf("%.*s%s", (int)blen, base, path);
	headers[0] = (struct httpc_header){"Stripe-Version", STRIPE_API_VERSION};
	rq.headers = headers;
	rq.nheaders = 1;
	if (is_post) {
		headers[1] = (struct httpc_header){"Idempotency-Key", idempotency_key};
		rq.nheaders = 2;
		rq.content_type = "application/x-www-form-urlencoded";
		rq.body = form ? stripe_form_body(form) : "";
		rq.body_len = strlen(rq.body);
	}
	rq.method = method;
	rq.url = url;
	rq.bearer = c->secret_key;
	rq.timeout_ms = c->timeout_ms;
	rq.connect_timeout_ms = c->connect_timeout_ms;
	rq.max_attempts = c->max_attempts;
	rq.backoff_base_ms = c->backoff_base_ms;
	rq.capture = capture;
	rq.retry_hint_header = "Stripe-Should-Retry";
	rq.ca_file = c->ca_file;
	rq.log_name = "stripe";

	rc = httpc_do(&rq, &resp, e);
	if (rc) {
		if (rc == ERR_UPSTREAM)
			err_set(e, ERR_UPSTREAM, NULL, "the payment provider could not be reached; try again later");
		goto out;
	}
	if (resp.status < 200 || resp.status > 299) {
		rc = map_error(resp.status, resp.body, httpc_response_header(&resp, "Request-Id"), method, path, e);
		goto out;
	}
	*out = json_loads(resp.body, 0, &jerr);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		err_set(e, ERR_UPSTREAM, NULL, "the payment provider sent an unexpected response");
		rc = err_detail(e, "stripe %s %s: response is not a JSON object (%s)", method, path, jerr.text);
		goto out;
	}
	log_debug("msg=\"stripe call\" method=%s path=\"%.*s\" status=%ld attempts=%d replayed=%s request_id=%s",
		  method, (int)strcspn(path, "?"), path, resp.status, resp.attempts,
		  httpc_response_header(&resp, "Idempotent-Replayed") ? "true" : "false",
		  httpc_response_header(&resp, "Request-Id") ? httpc_response_header(&resp, "Request-Id") : "-");
	rc = 0;
out:
	httpc_response_free(&resp);
	free(url);
	return rc;
}

/* A Stripe id safe to put in a URL path (letters, digits, '_'). */
static int valid_path_id(const char *id, const char *field, struct err *e)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n >= STRIPE_ID_MAX)
		return err_set(e, ERR_INVALID, field, "%s is not a valid Stripe id", field);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '_')
			return err_set(e, ERR_INVALID, field, "%s is not a valid Stripe id", field);
	return 0;
}

int stripe_pi_create(const struct stripe_client *c, const struct stripe_pi_params *p, const char *idempotency_key,
		     struct stripe_pi *out, struct err *e)
{
	struct stripe_form f = {0};
	char cur[8];
	json_t *root = NULL;
	size_t n = p->currency ? strlen(p->currency) : 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (p->amount_minor <= 0)
		return err_set(e, ERR_INVALID, "amount", "amount must be greater than zero");
	if (n != 3)
		return err_set(e, ERR_INVALID, "currency", "currency must be an ISO 4217 code");
	for (size_t i = 0; i <= n; i++)
		cur[i] = (char)tolower((unsigned char)p->currency[i]);
	stripe_form_add_int(&f, "amount", p->amount_minor);
	stripe_form_add(&f, "currency", cur);
	stripe_form_add(&f, "capture_method", "automatic");
	for (size_t i = 0; p->payment_method_types && p->payment_method_types[i]; i++)
		stripe_form_add(&f, "payment_method_types[]", p->payment_method_types[i]);
	if (p->order_id)
		stripe_form_add(&f, "metadata[order_id]", p->order_id);
	if (p->tenant_id)
		stripe_form_add(&f, "metadata[tenant_id]", p->tenant_id);
	if (p->invoice_number)
		stripe_form_add(&f, "metadata[invoice_number]", p->invoice_number);
	if (p->description)
		stripe_form_add(&f, "description", p->description);
	rc = stripe_call(c, "POST", "/v1/payment_intents", &f, idempotency_key, &root, e);
	if (rc == 0)
		rc = stripe_pi_from_json(root, out, e);
	json_decref(root);
	stripe_form_free(&f);
	return rc;
}

int stripe_pi_retrieve(const struct stripe_client *c, const char *id, struct stripe_pi *out, struct err *e)
{
	json_t *root = NULL;
	char *path;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = valid_path_id(id, "paymentIntentId", e);
	if (rc)
		return rc;
	path = xasprintf("/v1/payment_intents/%s?expand%%5B%%5D=latest_charge", id);
	rc = stripe_call(c, "GET", path, NULL, NULL, &root, e);
	if (rc == 0)
		rc = stripe_pi_from_json(root, out, e);
	json_decref(root);
	free(path);
	return rc;
}

int stripe_pi_confirm(const struct stripe_client *c, const char *id, const char *payment_method,
		      const char *idempotency_key, struct stripe_pi *out, struct err *e)
{
	struct stripe_form f = {0};
	json_t *root = NULL;
	char *path;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = valid_path_id(id, "paymentIntentId", e);
	if (rc == 0 && payment_method)
		rc = valid_path_id(payment_method, "paymentMethodId", e);
	if (rc)
		return rc;
	if (payment_method)
		stripe_form_add(&f, "payment_method", payment_method);
	stripe_form_add(&f, "expand[]", "latest_charge");
	path = xasprintf("/v1/payment_intents/%s/confirm", id);
	rc = stripe_call(c, "POST", path, &f, idempotency_key, &root, e);
	if (rc == 0)
		rc = stripe_pi_from_json(root, out, e);
	json_decref(root);
	free(path);
	stripe_form_free(&f);
	return rc;
}

int stripe_connection_token(const struct stripe_client *c, const char *location, const char *idempotency_key,
			    char secret[STRIPE_SECRET_MAX], struct err *e)
{
	struct stripe_form f = {0};
	json_t *root = NULL;
	int rc;

	secret[0] = '\0';
	if (location)
		stripe_form_add(&f, "location", location);
	rc = stripe_call(c, "POST", "/v1/terminal/connection_tokens", &f, idempotency_key, &root, e);
	if (rc == 0)
		rc = check_object(root, "terminal.connection_token", e);
	if (rc == 0)
		rc = jid(root, "secret", secret, STRIPE_SECRET_MAX, "connection token", e);
	json_decref(root);
	stripe_form_free(&f);
	return rc;
}

int stripe_refund_create(const struct stripe_client *c, const char *payment_intent, int64_t amount_minor,
			 const char *refund_id, const char *tenant_id, const char *order_id,
			 const char *idempotency_key, struct stripe_refund *out, struct err *e)
{
	struct stripe_form f = {0};
	json_t *root = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = valid_path_id(payment_intent, "paymentIntentId", e);
	if (rc)
		return rc;
	if (amount_minor <= 0)
		return err_set(e, ERR_INVALID, "amount", "amount must be greater than zero");
	stripe_form_add(&f, "payment_intent", payment_intent);
	stripe_form_add_int(&f, "amount", amount_minor);
	if (refund_id)
		stripe_form_add(&f, "metadata[refund_id]", refund_id);
	if (tenant_id)
		stripe_form_add(&f, "metadata[tenant_id]", tenant_id);
	if (order_id)
		stripe_form_add(&f, "metadata[order_id]", order_id);
	rc = stripe_call(c, "POST", "/v1/refunds", &f, idempotency_key, &root, e);
	if (rc == 0)
		rc = stripe_refund_from_json(root, out, e);
	json_decref(root);
	stripe_form_free(&f);
	return rc;
}

#define STRIPE_LIST_MAX 100

int stripe_refund_list(const struct stripe_client *c, const char *charge_id, struct stripe_refund **out, size_t *n,
		       struct err *e)
{
	json_t *root = NULL;
	const json_t *data, *item;
	char *path;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	rc = valid_path_id(charge_id, "chargeId", e);
	if (rc)
		return rc;
	path = xasprintf("/v1/refunds?charge=%s&limit=%d", charge_id, STRIPE_LIST_MAX);
	rc = stripe_call(c, "GET", path, NULL, NULL, &root, e);
	free(path);
	if (rc)
		return rc;
	data = json_object_get(root, "data");
	if (!json_is_array(data)) {
		json_decref(root);
		err_set(e, ERR_UPSTREAM, NULL, "the payment provider sent an unexpected response");
		return err_detail(e, "stripe refund list without data");
	}
	*out = xcalloc(json_array_size(data) + 1, sizeof(**out));
	json_array_foreach(data, i, item)
	{
		rc = stripe_refund_from_json(item, &(*out)[*n], e);
		if (rc) {
			free(*out);
			*out = NULL;
			*n = 0;
			json_decref(root);
			return rc;
		}
		(*n)++;
	}
	json_decref(root);
	return 0;
}

/* ---- webhooks ---- */

#define SIG_MAX_V1     8 /* v1 signatures looked at */
#define SIG_HEADER_MAX 4096

int stripe_webhook_verify(const char *secret, const char *header, const char *payload, size_t payload_len,
			  int64_t now_s, int64_t tolerance_s, struct err *e)
{
	const char *v1[SIG_MAX_V1];
	size_t nv1 = 0, hlen;
	int64_t t = -1;
	const char *p;
	char expected[2 * SHA256_LEN + 1];
	char *signed_payload = NULL;
	size_t plen, tlen;
	char tbuf[24];
	int match = 0;

	if (!secret || !*secret)
		return err_set(e, ERR_UNAVAILABLE, NULL, "Stripe webhooks are not configured on this server");
	if (!header || !*header)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "missing Stripe-Signature header");
	hlen = strlen(header);
	if (hlen > SIG_HEADER_MAX)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "invalid Stripe-Signature header");

	/* Elements "k=v" separated by ','. */
	for (p = header; *p;) {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);

		while (n && *p == ' ') {
			p++;
			n--;
			eq = memchr(p, '=', n);
		}
		if (eq) {
			size_t kl = (size_t)(eq - p), vl = n - kl - 1;
			const char *v = eq + 1;
			if (kl == 1 && p[0] == 't') {
				int64_t x = 0;
				size_t i;
				for (i = 0; i < vl && i < 15 && isdigit((unsigned char)v[i]); i++)
					x = x * 10 + (v[i] - '0');
				if (i == vl && vl > 0)
					t = x;
			} else if (kl == 2 && p[0] == 'v' && p[1] == '1' && vl == 2 * SHA256_LEN && nv1 < SIG_MAX_V1) {
				v1[nv1++] = v;
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (t < 0)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "Stripe-Signature has no timestamp");
	if (nv1 == 0)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "Stripe-Signature has no v1 signature");

	snprintf(tbuf, sizeof(tbuf), "%" PRId64 ".", t);
	tlen = strlen(tbuf);
	plen = tlen + payload_len;
	signed_payload = xmalloc(plen + 1);
	memcpy(signed_payload, tbuf, tlen);
	if (payload_len)
		memcpy(signed_payload + tlen, payload, payload_len);
	signed_payload[plen] = '\0';
	crypto_hmac_sha256_hex(secret, strlen(secret), signed_payload, plen, expected);
	free(signed_payload);
	for (size_t i = 0; i < nv1; i++) {
		char got[2 * SHA256_LEN];
		for (size_t j = 0; j < sizeof(got); j++)
			got[j] = (char)tolower((unsigned char)v1[i][j]);
		match |= crypto_equal(got, expected, sizeof(got));
	}
	mem_wipe(expected, sizeof(expected));
	if (!match)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "no Stripe-Signature matches the payload");
	if (now_s - t > tolerance_s || t - now_s > tolerance_s)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "Stripe-Signature timestamp is outside the tolerance");
	return 0;
}
