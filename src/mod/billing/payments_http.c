/*
 * payments_http.c - /api/payments (clinic contract): payments taken at the
 * desk and their refunds.
 *
 * A desk payment (cash, card on the clinic's own terminal, transfer, mobile
 * money, insurance, other) is recorded CONFIRMED with gateway "manual": the
 * money is in hand when the cashier records it. Payment, the order's new
 * paid / balance / status and the audit entries are one transaction
 * (billing_payment_record on our write connection, which holds the
 * document's row lock first), and the response is read back inside it.
 * An amount above the balance is refused (409 AMOUNT_EXCEEDS_BALANCE):
 * there is no overpayment at the desk.
 *
 * Refunds: a manual (or payment-gateway) payment is refunded at once
 * (status succeeded: the cashier hands the money back, or the gateway's
 * console did); a Stripe payment's refund must move money at Stripe, so it
 * is recorded pending and goes to Stripe through the durable job queue
 * (stripe_refund_enqueue) and is settled by that job or the charge.refunded
 * webhook. docs/orders.md.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "core/money.h"
#include "http/handlers.h"
#include "jobs/jobs.h"
#include "mod/billing/billing.h"
#include "mod/billing/orders.h"
#include "mod/stripe/stripe.h"

#define NFIELDS(t)	      (sizeof(t) / sizeof((t)[0]))
#define PAYMENTS_PAGE_DEFAULT 20
#define PAYMENTS_PAGE_MAX     100
#define PAYMENTS_DETAIL_MAX   64
#define PAYMENTS_REF_MAX      200

static const char *const method_values[] = {"cash",	    "card_present", "card_online", "bank_transfer",
					    "mobile_money", "insurance",    "other",	   NULL};

static const struct jv_field create_fields[] = {
    {"orderId", JV_UUID, JV_REQUIRED, 0, 0, NULL, 0},
    {"method", JV_STRING, JV_REQUIRED, 0, 0, method_values, 0},
    {"methodDetail", JV_STRING, JV_NULLABLE, 1, PAYMENTS_DETAIL_MAX, NULL, 0},
    {"amount", JV_DECIMAL, JV_REQUIRED, 0, 0, NULL, BILL_IN_SCALE},
    {"currency", JV_STRING, JV_NULLABLE, 3, 3, NULL, 0},
    {"reference", JV_STRING, JV_NULLABLE, 1, PAYMENTS_REF_MAX, NULL, 0},
};

static const struct jv_field refund_fields[] = {
    {"amount", JV_DECIMAL, JV_NULLABLE, 0, 0, NULL, BILL_IN_SCALE},
    {"reason", JV_STRING, JV_REQUIRED, 1, BILL_REASON_MAX, NULL, 0},
};

static char *lower_id(struct arena *a, const char *id)
{
	char *s = arena_strdup(a, id);

	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

static int path_id(struct req_ctx *ctx, const char **out, struct err *e)
{
	const char *id = http_param(ctx->req, "id");

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "payment not found");
	*out = lower_id(ctx->req->arena, id);
	return 0;
}

/* A payment with its refunds and its order's summary. Owned. */
static json_t *payment_with_order(const struct bill_payment *p, const struct bill_document *d)
{
	json_t *o = orders_payment_json(p, d->refunds, d->nrefunds);

	json_object_set_new(o, "orderNumber", json_string(d->number));
	json_object_set_new(o, "order", orders_summary_json(d));
	return o;
}

HANDLER(payments_http_create)
{
	struct arena *a = ctx->req->arena;
	struct bill_document *doc = NULL;
	struct bill_payment *pay = NULL;
	struct bill_payment_input in;
	struct db_conn *c = NULL;
	const char *order_id, *currency;
	char pay_id[UUID_LEN + 1];
	int64_t micro = 0;
	json_t *body;
	int rc;

	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, create_fields, NFIELDS(create_fields), "", e);
	if (rc)
		return rc;
	rc = money_from_json(json_object_get(body, "amount"), BILL_IN_SCALE, &micro, "amount", e);
	if (rc)
		return rc;
	if (micro <= 0)
		return err_set(e, ERR_INVALID, "amount", "amount must be greater than 0");
	order_id = lower_id(a, jv_str(body, "orderId"));
	currency = jv_str(body, "currency");

	memset(&in, 0, sizeof(in));
	in.method = (enum bill_pay_method)billing_pay_method_parse(jv_str(body, "method"));
	in.method_detail = jv_str(body, "methodDetail");
	in.currency = currency;
	in.status = BILL_PAYMENT_CONFIRMED;
	in.gateway = BILL_GATEWAY_MANUAL;
	in.gateway_reference = jv_str(body, "reference");

	if ((rc = db_acquire(ctx->app->db, DB_WRITE, &c, e)) || (rc = db_begin(c, e)))
		goto out;
	rc = billing_get_conn(c, ctx->who.tenant_id, order_id, BILL_FOR_UPDATE, a, &doc, e);
	if (rc == ERR_NOT_FOUND) {
		err_set(e, ERR_NOT_FOUND, "orderId", "order not found");
		goto out;
	}
	if (rc)
		goto out;
	if (currency && strcmp(currency, doc->currency) != 0) {
		rc = err_set(e, ERR_INVALID, "currency", "currency must be %s, the order's currency", doc->currency);
		goto out;
	}
	rc = billing_amount_in(doc->currency, micro, "amount", &in.amount_minor, e);
	if (rc)
		goto out;
	if (doc->status != BILL_PENDING && doc->status != BILL_PARTIALLY_PAID && doc->status != BILL_OVERDUE) {
		rc = billing_invalid_state(e, "order", doc->status, "record a payment");
		goto out;
	}
	if (in.amount_minor > doc->balance_minor) {
		char bal[MONEY_MAX_TEXT];

		err_set(e, ERR_CONFLICT, "amount", "amount exceeds balance (%s %s)", doc->currency,
			money_format(doc->balance_minor, doc->minor_units, bal, sizeof(bal)));
		rc = err_name(e, "AMOUNT_EXCEEDS_BALANCE");
		goto out;
	}
	if ((rc = billing_payment_record(c, &ctx->actor, doc->id, &in, pay_id, e)) ||
	    (rc = billing_payment_get(c, ctx->who.tenant_id, pay_id, a, &pay, e)) ||
	    (rc = billing_get_conn(c, ctx->who.tenant_id, doc->id, BILL_WITH_PAYMENTS, a, &doc, e)) ||
	    (rc = db_commit(c, e)))
		goto out;
	resp->status = 201;
	resp->data = payment_with_order(pay, doc);
out:
	if (c)
		db_release(c);
	return rc;
}

static int query_date(struct req_ctx *ctx, const char *name, const char **out, struct err *e)
{
	const char *v = http_query(ctx->req, name);

	*out = NULL;
	if (!v)
		return 0;
	if (!date_valid(v))
		return err_set(e, ERR_INVALID, name, "%s must be a date (YYYY-MM-DD)", name);
	*out = v;
	return 0;
}

HANDLER(payments_http_list)
{
	struct arena *a = ctx->req->arena;
	struct bill_payment_filter f;
	struct bill_payment *pays = NULL;
	struct db_conn *c = NULL;
	const char *v;
	size_t n = 0;
	int64_t total = 0;
	int page, limit, rc;
	json_t *arr;

	memset(&f, 0, sizeof(f));
	f.status = -1;
	f.method = -1;
	rc = http_pagination(ctx->req, PAYMENTS_PAGE_DEFAULT, PAYMENTS_PAGE_MAX, &page, &limit, e);
	if (rc)
		return rc;
	if ((v = http_query(ctx->req, "orderId"))) {
		if (!uuid_valid(v))
			return err_set(e, ERR_INVALID, "orderId", "orderId must be a UUID");
		f.document_id = lower_id(a, v);
	}
	if ((v = http_query(ctx->req, "method")) && (f.method = billing_pay_method_parse(v)) < 0)
		return err_set(e, ERR_INVALID, "method",
			       "method must be one of cash, card_present, card_online, bank_transfer, mobile_money, "
			       "insurance, other");
	if ((v = http_query(ctx->req, "status")) && (f.status = billing_pay_status_parse(v)) < 0)
		return err_set(e, ERR_INVALID, "status", "status must be one of pending, confirmed, failed, refunded");
	if ((rc = query_date(ctx, "from", &f.date_from, e)) || (rc = query_date(ctx, "to", &f.date_to, e)))
		return rc;
	if (f.date_from && f.date_to && strcmp(f.date_from, f.date_to) > 0)
		return err_set(e, ERR_INVALID, "to", "to must not be before from");

	rc = db_acquire(ctx->app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = billing_payment_list(c, ctx->who.tenant_id, &f, page, limit, a, &pays, &n, &total, e);
	db_release(c);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, orders_payment_json(&pays[i], NULL, 0));
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}

HANDLER(payments_http_get)
{
	struct arena *a = ctx->req->arena;
	struct bill_payment *pay = NULL;
	struct bill_document *doc = NULL;
	struct db_conn *c = NULL;
	const char *id;
	int rc;

	rc = path_id(ctx, &id, e);
	if (rc)
		return rc;
	rc = db_acquire(ctx->app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	if ((rc = db_begin(c, e)) || (rc = billing_payment_get(c, ctx->who.tenant_id, id, a, &pay, e)) ||
	    (rc = billing_get_conn(c, ctx->who.tenant_id, pay->document_id, BILL_WITH_PAYMENTS, a, &doc, e)))
		goto out;
	resp->data = payment_with_order(pay, doc);
out:
	db_release(c);
	return rc;
}

HANDLER(payments_http_refund)
{
	struct arena *a = ctx->req->arena;
	struct bill_payment *pay = NULL;
	struct bill_document *doc = NULL;
	struct bill_refund *ref = NULL;
	struct db_conn *c = NULL;
	const char *id, *reason;
	const json_t *amount;
	char ref_id[UUID_LEN + 1];
	int64_t micro = 0, minor = 0, refundable;
	bool stripe = false;
	json_t *body, *o;
	int rc;

	rc = path_id(ctx, &id, e);
	if (rc)
		return rc;
	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, refund_fields, NFIELDS(refund_fields), "", e);
	if (rc)
		return rc;
	amount = json_object_get(body, "amount");
	if (amount && !json_is_null(amount)) {
		rc = money_from_json(amount, BILL_IN_SCALE, &micro, "amount", e);
		if (rc)
			return rc;
		if (micro <= 0)
			return err_set(e, ERR_INVALID, "amount", "amount must be greater than 0");
	}
	reason = jv_str(body, "reason");

	if ((rc = db_acquire(ctx->app->db, DB_WRITE, &c, e)) || (rc = db_begin(c, e)))
		goto out;
	rc = billing_payment_get(c, ctx->who.tenant_id, id, a, &pay, e);
	if (rc)
		goto out;
	/* the document's row lock serialises refunds of its payments */
	if ((rc = billing_get_conn(c, ctx->who.tenant_id, pay->document_id, BILL_FOR_UPDATE | BILL_WITH_PAYMENTS, a,
				   &doc, e)) ||
	    (rc = billing_payment_get(c, ctx->who.tenant_id, id, a, &pay, e)))
		goto out;
	if (pay->status != BILL_PAYMENT_CONFIRMED) {
		err_set(e, ERR_CONFLICT, NULL, "cannot refund: payment is %s", billing_pay_status_name(pay->status));
		rc = err_name(e, "INVALID_STATE");
		goto out;
	}
	refundable = orders_payment_refundable(pay, doc->refunds, doc->nrefunds);
	if (micro) {
		rc = billing_amount_in(pay->currency, micro, "amount", &minor, e);
		if (rc)
			goto out;
	} else {
		minor = refundable;
	}
	if (minor > refundable || minor <= 0) {
		char left[MONEY_MAX_TEXT];

		err_set(e, ERR_CONFLICT, "amount", "amount exceeds the refundable amount (%s %s)", pay->currency,
			money_format(refundable, doc->minor_units, left, sizeof(left)));
		rc = err_name(e, "AMOUNT_EXCEEDS_REFUNDABLE");
		goto out;
	}
	stripe = pay->gateway == BILL_GATEWAY_STRIPE;
	if (stripe)
		rc = stripe_refund_enqueue(c, &ctx->actor, pay->id, minor, reason, ref_id, e);
	else
		rc = billing_refund_record(c, &ctx->actor, pay->id, minor, reason, BILL_REFUND_SUCCEEDED, NULL, ref_id,
					   e);
	if (rc)
		goto out;
	if ((rc = billing_refund_get(c, ctx->who.tenant_id, ref_id, a, &ref, e)) ||
	    (rc = billing_payment_get(c, ctx->who.tenant_id, id, a, &pay, e)) ||
	    (rc = billing_get_conn(c, ctx->who.tenant_id, pay->document_id, BILL_WITH_PAYMENTS, a, &doc, e)) ||
	    (rc = db_commit(c, e)))
		goto out;
	if (stripe)
		jobs_notify(ctx->app->jobs);
	o = orders_refund_json(ref, pay->currency, doc->minor_units);
	json_object_set_new(o, "payment", orders_payment_json(pay, doc->refunds, doc->nrefunds));
	json_object_set_new(o, "order", orders_summary_json(doc));
	resp->status = 201;
	resp->data = o;
out:
	if (c)
		db_release(c);
	return rc;
}
