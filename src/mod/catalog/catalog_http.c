/*
 * catalog_http.c - the /api/services routes (clinic contract): JSON bodies and
 * query strings into catalog inputs, catalog structs into JSON. Validation of
 * meaning (codes, prices, units) is catalog.c's; this file checks shape only.
 */
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "http/handlers.h"
#include "mod/catalog/catalog.h"

#define SERVICES_PAGE_DEFAULT 50
#define SERVICES_PAGE_MAX     200

/* Byte caps (characters are counted by catalog_input_check). */
static const struct jv_field create_fields[] = {
    {"code", JV_STRING, JV_REQUIRED, 1, CATALOG_CODE_MAX, NULL, 0},
    {"name", JV_STRING, JV_REQUIRED, 1, 4 * CATALOG_NAME_MAX, NULL, 0},
    {"description", JV_STRING, JV_NULLABLE, 0, 4 * CATALOG_DESCRIPTION_MAX, NULL, 0},
    {"category", JV_STRING, JV_REQUIRED, 1, 4 * CATALOG_CATEGORY_MAX, NULL, 0},
    {"price", JV_ANY, JV_REQUIRED, 0, 0, NULL, 0},
    {"currency", JV_STRING, 0, 3, 3, NULL, 0},
    {"taxTreatment", JV_STRING, 0, 1, 32, NULL, 0},
    {"itemType", JV_STRING, 0, 1, 32, NULL, 0},
    {"procedureCode", JV_STRING, JV_NULLABLE, 1, 16, NULL, 0},
    {"unitOfMeasure", JV_INT, 0, 0, 0, NULL, 0},
    {"active", JV_BOOL, 0, 0, 0, NULL, 0},
};

static const struct jv_field update_fields[] = {
    {"code", JV_STRING, 0, 1, CATALOG_CODE_MAX, NULL, 0},
    {"name", JV_STRING, 0, 1, 4 * CATALOG_NAME_MAX, NULL, 0},
    {"description", JV_STRING, JV_NULLABLE, 0, 4 * CATALOG_DESCRIPTION_MAX, NULL, 0},
    {"category", JV_STRING, 0, 1, 4 * CATALOG_CATEGORY_MAX, NULL, 0},
    {"price", JV_ANY, 0, 0, 0, NULL, 0},
    {"currency", JV_STRING, 0, 3, 3, NULL, 0},
    {"taxTreatment", JV_STRING, 0, 1, 32, NULL, 0},
    {"itemType", JV_STRING, 0, 1, 32, NULL, 0},
    {"procedureCode", JV_STRING, JV_NULLABLE, 1, 16, NULL, 0},
    {"unitOfMeasure", JV_INT, 0, 0, 0, NULL, 0},
    {"active", JV_BOOL, 0, 0, 0, NULL, 0},
    {"priceChangeReason", JV_STRING, JV_NULLABLE, 0, 4 * CATALOG_REASON_MAX, NULL, 0},
};

static const struct jv_field delete_fields[] = {
    {"reason", JV_STRING, JV_NULLABLE, 0, 4 * CATALOG_REASON_MAX, NULL, 0},
};

/* Body member -> input bit. */
static const struct {
	const char *name;
	unsigned bit;
} body_bits[] = {
    {"code", CATALOG_F_CODE},	      {"name", CATALOG_F_NAME},		 {"description", CATALOG_F_DESCRIPTION},
    {"category", CATALOG_F_CATEGORY}, {"price", CATALOG_F_PRICE},	 {"currency", CATALOG_F_CURRENCY},
    {"taxTreatment", CATALOG_F_TAX},  {"itemType", CATALOG_F_ITEM_TYPE}, {"procedureCode", CATALOG_F_PROCEDURE},
    {"unitOfMeasure", CATALOG_F_UOM}, {"active", CATALOG_F_ACTIVE},
};

/* A checked body into an input; strings are borrowed from body. */
static void input_from_json(const json_t *body, struct catalog_input *in)
{
	memset(in, 0, sizeof(*in));
	for (size_t i = 0; i < sizeof(body_bits) / sizeof(body_bits[0]); i++)
		if (jv_has(body, body_bits[i].name))
			in->set |= body_bits[i].bit;
	in->code = jv_str(body, "code");
	in->name = jv_str(body, "name");
	in->description = jv_str(body, "description");
	in->category = jv_str(body, "category");
	in->price = json_object_get(body, "price");
	in->currency = jv_str(body, "currency");
	in->tax = jv_str(body, "taxTreatment");
	in->item_type = jv_str(body, "itemType");
	in->procedure_code = jv_str(body, "procedureCode");
	in->unit_of_measure = jv_int(body, "unitOfMeasure", CATALOG_UOM_DEFAULT);
	in->active = jv_bool(body, "active", true);
	in->reason = jv_str(body, "priceChangeReason");
}

/* The :id path variable, lower-cased into out; not a UUID -> 404. */
static int path_id(struct req_ctx *ctx, char out[UUID_LEN + 1], struct err *e)
{
	const char *id = http_param(ctx->req, "id");

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "service not found");
	for (size_t i = 0; i <= UUID_LEN; i++)
		out[i] = (id[i] >= 'A' && id[i] <= 'Z') ? (char)(id[i] - 'A' + 'a') : id[i];
	return 0;
}

HANDLER(services_http_list)
{
	struct catalog_filter f = {.active = 1};
	struct catalog_service *items;
	const char *active;
	size_t n;
	int64_t total;
	int page, limit, rc;
	json_t *arr;

	rc = http_pagination(ctx->req, SERVICES_PAGE_DEFAULT, SERVICES_PAGE_MAX, &page, &limit, e);
	if (rc)
		return rc;
	active = http_query(ctx->req, "active");
	if (active) {
		if (strcmp(active, "true") == 0)
			f.active = 1;
		else if (strcmp(active, "false") == 0)
			f.active = 0;
		else if (strcmp(active, "all") == 0)
			f.active = -1;
		else
			return err_set(e, ERR_INVALID, "active", "active must be true, false or all");
	}
	f.search = http_query(ctx->req, "search");
	f.category = http_query(ctx->req, "category");
	f.tax = http_query(ctx->req, "taxTreatment");
	f.item_type = http_query(ctx->req, "itemType");
	rc = catalog_list(ctx->app->db, ctx->who.tenant_id, &f, page, limit, ctx->req->arena, &items, &n, &total, e);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, catalog_service_json(&items[i]));
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}

HANDLER(services_http_get)
{
	char id[UUID_LEN + 1];
	struct catalog_service *s;
	int rc;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = catalog_load(ctx->app->db, ctx->who.tenant_id, id, ctx->req->arena, &s, e);
	if (rc)
		return rc;
	resp->data = catalog_service_json(s);
	return 0;
}

HANDLER(services_http_create)
{
	json_t *body;
	struct catalog_input in;
	struct catalog_service *s;
	int rc;

	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, create_fields, sizeof(create_fields) / sizeof(create_fields[0]), "", e);
	if (rc)
		return rc;
	input_from_json(body, &in);
	rc = catalog_create(ctx->app->db, &ctx->actor, &in, ctx->req->arena, &s, e);
	if (rc)
		return rc;
	resp->status = 201;
	resp->data = catalog_service_json(s);
	return 0;
}

HANDLER(services_http_update)
{
	char id[UUID_LEN + 1];
	json_t *body;
	struct catalog_input in;
	struct catalog_service *s;
	int rc;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, update_fields, sizeof(update_fields) / sizeof(update_fields[0]), "", e);
	if (rc)
		return rc;
	input_from_json(body, &in);
	rc = catalog_update(ctx->app->db, &ctx->actor, id, &in, ctx->req->arena, &s, e);
	if (rc)
		return rc;
	resp->data = catalog_service_json(s);
	return 0;
}

HANDLER(services_http_delete)
{
	char id[UUID_LEN + 1];
	json_t *body;
	struct catalog_service *s;
	int rc;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = http_json_body(ctx->req, true, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, delete_fields, sizeof(delete_fields) / sizeof(delete_fields[0]), "", e);
	if (rc)
		return rc;
	rc = catalog_deactivate(ctx->app->db, &ctx->actor, id, jv_str(body, "reason"), ctx->req->arena, &s, e);
	if (rc)
		return rc;
	resp->data = json_pack("{s:s, s:b}", "id", s->id, "active", 0);
	return 0;
}

HANDLER(services_http_price_history)
{
	char id[UUID_LEN + 1];
	struct catalog_price *items;
	size_t n;
	int64_t total;
	int page, limit, rc;
	json_t *arr;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = http_pagination(ctx->req, SERVICES_PAGE_DEFAULT, SERVICES_PAGE_MAX, &page, &limit, e);
	if (rc)
		return rc;
	rc = catalog_price_history(ctx->app->db, ctx->who.tenant_id, id, page, limit, ctx->req->arena, &items, &n,
				   &total, e);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, catalog_price_json(&items[i]));
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}
