/*
 * webhook_endpoints_http.c - /api/webhooks/endpoints: a tenant's webhook
 * receivers (register, list, delete) and each one's delivery log. The
 * secret is in the answer of the create only. Rules are webhooks_out.c's.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "http/handlers.h"
#include "mod/fiscal/fiscal.h"

#define DELIVERIES_PAGE_DEFAULT 50
#define DELIVERIES_PAGE_MAX	200
#define NFIELDS(t)		(sizeof(t) / sizeof((t)[0]))

static const struct jv_field endpoint_fields[] = {
    {"url", JV_STRING, JV_REQUIRED, 1, FISCAL_WEBHOOK_URL_MAX, NULL, 0},
    {"events", JV_ARRAY, JV_NULLABLE, 1, 8, NULL, 0},
    {"description", JV_STRING, JV_NULLABLE, 0, 500, NULL, 0},
};

HANDLER(webhook_endpoints_http_create)
{
	const char *events[8], *const defaults[] = {FISCAL_EVENT_DTE};
	struct fiscal_endpoint ep;
	const json_t *ev;
	json_t *body;
	size_t nev = 0;
	int rc;

	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, endpoint_fields, NFIELDS(endpoint_fields), "", e);
	if (rc)
		return rc;
	ev = json_object_get(body, "events");
	if (json_is_array(ev)) {
		for (size_t i = 0; i < json_array_size(ev); i++) {
			const char *s = json_string_value(json_array_get(ev, i));

			if (!s)
				return err_set(e, ERR_INVALID, arena_printf(ctx->req->arena, "events[%zu]", i),
					       "events[%zu] must be a string", i);
			events[nev++] = s;
		}
	}
	rc = fiscal_endpoint_create(ctx->app, &ctx->actor, jv_str(body, "url"), nev ? events : defaults, nev ? nev : 1,
				    jv_str(body, "description"), ctx->req->arena, &ep, e);
	if (rc)
		return rc;
	resp->data = fiscal_endpoint_json(&ep);
	resp->status = 201;
	return 0;
}

HANDLER(webhook_endpoints_http_list)
{
	struct fiscal_endpoint *eps = NULL;
	size_t n = 0;
	json_t *arr;
	int rc;

	rc = fiscal_endpoint_list(ctx->app, ctx->who.tenant_id, ctx->req->arena, &eps, &n, e);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, fiscal_endpoint_json(&eps[i]));
	resp->data = arr;
	return 0;
}

HANDLER(webhook_endpoints_http_delete)
{
	const char *id = http_param(ctx->req, "id");
	int rc;

	rc = fiscal_endpoint_delete(ctx->app, &ctx->actor, id, e);
	if (rc)
		return rc;
	resp->data = json_pack("{s:s,s:b}", "id", id, "deleted", 1);
	return 0;
}

HANDLER(webhook_endpoints_http_deliveries)
{
	struct fiscal_delivery *items = NULL;
	int page = 1, limit = DELIVERIES_PAGE_DEFAULT, rc;
	int64_t total = 0;
	size_t n = 0;
	json_t *arr;

	rc = http_pagination(ctx->req, DELIVERIES_PAGE_DEFAULT, DELIVERIES_PAGE_MAX, &page, &limit, e);
	if (rc)
		return rc;
	rc = fiscal_delivery_list(ctx->app, ctx->who.tenant_id, http_param(ctx->req, "id"), page, limit,
				  ctx->req->arena, &items, &n, &total, e);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, fiscal_delivery_json(&items[i]));
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}
