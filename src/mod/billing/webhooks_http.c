/*
 * webhooks_http.c - the payment gateway's webhooks of the billing-service
 * contract: POST /api/v1/webhooks/payment-confirmed and /payment-failed.
 *
 * The routes are public; each request is authenticated by the header
 *   X-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 * with the shared secret CLINICLEDGER_GATEWAY_WEBHOOK_SECRET (empty: 503,
 * the webhooks are switched off). Several v1 values are accepted (secret
 * rotation); comparison is constant-time; t must be within 300 s of now.
 * Only after the signature is verified is the invoice looked up, across
 * tenants, and its tenant becomes the actor's tenant.
 *
 * Both webhooks are idempotent by paymentId (the gateway's payment id,
 * stored as payments.gateway_payment_id): a replay changes nothing and
 * answers 200 with the same message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "http/handlers.h"
#include "mod/billing/billing.h"

#define WEBHOOK_TOLERANCE_S 300
#define WEBHOOK_MAX_SIGS    8

static const struct jv_field confirmed_fields[] = {
    {"invoiceId", JV_UUID, JV_REQUIRED, 0, 0, NULL, 0},
    {"paymentId", JV_STRING, JV_REQUIRED, 1, 255, NULL, 0},
    {"amount", JV_DECIMAL, JV_REQUIRED, 0, 0, NULL, BILL_IN_SCALE},
    {"paymentGatewayReference", JV_STRING, JV_NULLABLE, 1, 255, NULL, 0},
    {"paymentMethod", JV_STRING, JV_NULLABLE, 1, 64, NULL, 0},
    {"currency", JV_STRING, 0, 3, 3, NULL, 0},
};

static const struct jv_field failed_fields[] = {
    {"invoiceId", JV_UUID, JV_REQUIRED, 0, 0, NULL, 0},
    {"paymentId", JV_STRING, JV_REQUIRED, 1, 255, NULL, 0},
    {"reason", JV_STRING, JV_NULLABLE, 0, BILL_REASON_MAX, NULL, 0},
    {"paymentMethod", JV_STRING, JV_NULLABLE, 1, 64, NULL, 0},
};

/* Verify X-Webhook-Signature over the raw body (see the file comment). */
static int verify_signature(struct req_ctx *ctx, struct err *e)
{
	const char *secret = ctx->app->cfg.gateway_webhook_secret;
	const char *header = http_header(ctx->req, "X-Webhook-Signature");
	char sigs[WEBHOOK_MAX_SIGS][65], expected[2 * SHA256_LEN + 1], *msg;
	int nsigs = 0, ok = 0;
	long long t = -1;
	const char *p;

	if (!secret[0])
		return err_set(e, ERR_UNAVAILABLE, NULL, "payment webhooks are not configured on this server");
	if (!header || !*header)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "X-Webhook-Signature header is required");
	for (p = header; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && *p == ' ') {
			p++;
			len--;
		}
		if (len > 2 && strncmp(p, "t=", 2) == 0) {
			char num[24];
			char *stop;
			if (len - 2 >= sizeof(num))
				return err_set(e, ERR_UNAUTHORIZED, NULL, "invalid webhook signature");
			memcpy(num, p + 2, len - 2);
			num[len - 2] = '\0';
			t = strtoll(num, &stop, 10);
			if (*stop || stop == num)
				return err_set(e, ERR_UNAUTHORIZED, NULL, "invalid webhook signature");
		} else if (len == 3 + 64 && strncmp(p, "v1=", 3) == 0 && nsigs < WEBHOOK_MAX_SIGS) {
			memcpy(sigs[nsigs], p + 3, 64);
			sigs[nsigs][64] = '\0';
			for (int i = 0; i < 64; i++)
				if (sigs[nsigs][i] >= 'A' && sigs[nsigs][i] <= 'F')
					sigs[nsigs][i] = (char)(sigs[nsigs][i] - 'A' + 'a');
			nsigs++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	if (t < 0 || nsigs == 0)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "invalid webhook signature");
	if (llabs((long long)time_now_s() - t) > WEBHOOK_TOLERANCE_S)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "webhook timestamp outside the tolerance");
	msg = xasprintf("%lld.", t);
	{
		size_t head = strlen(msg);
		msg = xrealloc(msg, head + ctx->req->body_len + 1);
		memcpy(msg + head, ctx->req->body ? ctx->req->body : "", ctx->req->body_len);
		msg[head + ctx->req->body_len] = '\0';
		crypto_hmac_sha256_hex(secret, strlen(secret), msg, head + ctx->req->body_len, expected);
	}
	free(msg);
	for (int i = 0; i < nsigs; i++)
		ok |= crypto_equal(expected, sigs[i], 64);
	if (!ok)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "invalid webhook signature");
	return 0;
}

/* The gateway as actor, in the invoice's tenant. */
static void gateway_actor(const struct req_ctx *ctx, const char *tenant_id, struct actor *a)
{
	*a = ctx->actor;
	a->tenant_id = tenant_id;
	a->kind = "system";
	a->id = "payment-gateway";
}

static void reply(struct http_resp *resp, const char *message)
{
	resp->data = NULL;
	resp->extra = json_pack("{s:s}", "message", message);
}

/* Body checked against fields, after the signature. */
static int webhook_body(struct req_ctx *ctx, const struct jv_field *fields, size_t n, json_t **body, struct err *e)
{
	int rc = verify_signature(ctx, e);

	if (rc)
		return rc;
	rc = http_json_body(ctx->req, false, body, e);
	if (rc)
		return rc;
	return jv_check(*body, fields, n, "", e);
}

/* The existing payment with this gateway id must belong to this invoice. */
static int same_invoice(const struct bill_payment *p, const char *invoice_id, struct err *e)
{
	if (strcmp(p->document_id, invoice_id) != 0)
		return err_set(e, ERR_CONFLICT, "paymentId", "paymentId belongs to another invoice");
	return 0;
}

HANDLER(webhooks_http_payment_confirmed)
{
	static const char message[] = "Payment confirmation received and processed";
	struct db_conn *c = NULL;
	struct bill_document *d = NULL;
	struct bill_payment *p = NULL;
	char tenant[UUID_LEN + 1], invoice_id[UUID_LEN + 1];
	struct actor who;
	json_t *body;
	int64_t micro = 0, minor = 0;
	const char *payment_id, *currency;
	struct err e2;
	int rc;

	rc = webhook_body(ctx, confirmed_fields, sizeof(confirmed_fields) / sizeof(confirmed_fields[0]), &body, e);
	if (rc)
		return rc;
	snprintf(invoice_id, sizeof(invoice_id), "%s", jv_str(body, "invoiceId"));
	for (char *q = invoice_id; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	payment_id = jv_str(body, "paymentId");
	currency = jv_str(body, "currency");
	rc = money_from_json(json_object_get(body, "amount"), BILL_IN_SCALE, &micro, "amount", e);
	if (rc)
		return rc;
	if (micro <= 0)
		return err_set(e, ERR_INVALID, "amount", "amount must be greater than 0");

	rc = db_acquire(ctx->app->db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = billing_document_tenant(c, invoice_id, tenant, e);
	if (rc)
		goto out;
	gateway_actor(ctx, tenant, &who);
	rc = billing_get_conn(c, tenant, invoice_id, BILL_FOR_UPDATE, ctx->req->arena, &d, e);
	if (rc)
		goto out;
	if (currency && strcmp(currency, d->currency) != 0) {
		rc = err_set(e, ERR_INVALID, "currency", "currency must be the invoice's currency %s", d->currency);
		goto out;
	}
	rc = billing_amount_in(d->currency, micro, "amount", &minor, e);
	if (rc)
		goto out;
	err_clear(&e2);
	rc = billing_payment_get_by_gateway(c, tenant, payment_id, ctx->req->arena, &p, &e2);
	if (rc == 0) {
		struct bill_payment_confirm conf;
		const char *detail = NULL;

		rc = same_invoice(p, invoice_id, e);
		if (rc)
			goto out;
		memset(&conf, 0, sizeof(conf));
		conf.amount_minor = minor;
		conf.gateway_reference = jv_str(body, "paymentGatewayReference");
		if (jv_str(body, "paymentMethod"))
			billing_pay_method_from_gateway(jv_str(body, "paymentMethod"), &detail);
		conf.method_detail = detail;
		rc = billing_payment_confirm(c, &who, p->id, &conf, NULL, e);
	} else if (rc == ERR_NOT_FOUND) {
		struct bill_payment_input in;
		memset(&in, 0, sizeof(in));
		in.method = billing_pay_method_from_gateway(jv_str(body, "paymentMethod"), &in.method_detail);
		in.amount_minor = minor;
		in.status = BILL_PAYMENT_CONFIRMED;
		in.gateway = BILL_GATEWAY_GATEWAY;
		in.gateway_payment_id = payment_id;
		in.gateway_reference = jv_str(body, "paymentGatewayReference");
		rc = billing_payment_record(c, &who, invoice_id, &in, NULL, e);
	} else {
		*e = e2;
	}
	if (rc == 0)
		rc = db_commit(c, e);
out:
	db_release(c);
	if (rc == ERR_CONFLICT && strcmp(e->field, "gatewayPaymentId") == 0)
		rc = 0; /* a concurrent delivery of the same paymentId committed first */
	if (rc)
		return rc;
	reply(resp, message);
	return 0;
}

HANDLER(webhooks_http_payment_failed)
{
	static const char message[] = "Payment failure notification received";
	struct db_conn *c = NULL;
	struct bill_payment *p = NULL;
	char tenant[UUID_LEN + 1], invoice_id[UUID_LEN + 1];
	struct actor who;
	json_t *body;
	const char *payment_id, *reason;
	struct err e2;
	int rc;

	rc = webhook_body(ctx, failed_fields, sizeof(failed_fields) / sizeof(failed_fields[0]), &body, e);
	if (rc)
		return rc;
	snprintf(invoice_id, sizeof(invoice_id), "%s", jv_str(body, "invoiceId"));
	for (char *q = invoice_id; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	payment_id = jv_str(body, "paymentId");
	reason = jv_str(body, "reason");

	rc = db_acquire(ctx->app->db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = billing_document_tenant(c, invoice_id, tenant, e);
	if (rc)
		goto out;
	gateway_actor(ctx, tenant, &who);
	err_clear(&e2);
	rc = billing_payment_get_by_gateway(c, tenant, payment_id, ctx->req->arena, &p, &e2);
	if (rc == 0) {
		rc = same_invoice(p, invoice_id, e);
		if (rc == 0)
			rc = billing_payment_fail(c, &who, p->id, reason, NULL, e);
	} else if (rc == ERR_NOT_FOUND) {
		/* the gateway reports an attempt we never saw: record it, amount unknown (0) */
		struct bill_payment_input in;
		memset(&in, 0, sizeof(in));
		in.method = billing_pay_method_from_gateway(jv_str(body, "paymentMethod"), &in.method_detail);
		in.amount_minor = 0;
		in.status = BILL_PAYMENT_FAILED;
		in.gateway = BILL_GATEWAY_GATEWAY;
		in.gateway_payment_id = payment_id;
		in.failure_reason = reason;
		rc = billing_payment_record(c, &who, invoice_id, &in, NULL, e);
	} else {
		*e = e2;
	}
	if (rc == 0)
		rc = db_commit(c, e);
out:
	db_release(c);
	if (rc == ERR_CONFLICT && strcmp(e->field, "gatewayPaymentId") == 0)
		rc = 0; /* a concurrent delivery of the same paymentId committed first */
	if (rc)
		return rc;
	reply(resp, message);
	return 0;
}
