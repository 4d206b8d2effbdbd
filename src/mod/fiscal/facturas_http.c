/*
 * facturas_http.c - /api/facturas (fiscal-engine contract §3.1): the body
 * {receptor, items, referenciaExterna[, tipoDte]} into a factura input, and
 * facturas into the contract's JSON.
 *
 * Callers are other systems' servers with an API key (Bearer clk_... or
 * X-API-Key, and x-tenant-id). The route asks for billing:create; issuing
 * a DTE also needs dte:submit, checked here so the 403 names it.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "core/money.h"
#include "http/handlers.h"
#include "mod/billing/billing.h"
#include "mod/dte/dte.h"
#include "mod/fiscal/fiscal.h"
#include "mod/fiscal/fiscal_http.h"

#define FACTURAS_PAGE_DEFAULT 20
#define FACTURAS_PAGE_MAX     100
#define NFIELDS(t)	      (sizeof(t) / sizeof((t)[0]))

static const char *const tipo_dte_values[] = {"01", "03", NULL};
static const char *const item_tipo_values[] = {"servicio", "bien", NULL};
static const char *const tributo_values[] = {"20", NULL};

static const struct jv_field factura_fields[] = {
    {"receptor", JV_OBJECT, JV_REQUIRED, 0, 0, NULL, 0},
    {"items", JV_ARRAY, JV_REQUIRED, 1, FISCAL_MAX_ITEMS, NULL, 0},
    {"referenciaExterna", JV_STRING, JV_REQUIRED, 1, FISCAL_REF_MAX, NULL, 0},
    {"tipoDte", JV_STRING, JV_NULLABLE, 0, 0, tipo_dte_values, 0},
};

/* descripcion: 1000 characters of up to 2 bytes (BILL_TEXT_MAX bytes). */
static const struct jv_field item_fields[] = {
    {"descripcion", JV_STRING, JV_REQUIRED, 1, BILL_TEXT_MAX, NULL, 0},
    {"cantidad", JV_DECIMAL, JV_REQUIRED, 0, 0, NULL, QTY_SCALE},
    {"precio", JV_DECIMAL, JV_REQUIRED, 0, 0, NULL, BILL_IN_SCALE},
    {"tipo", JV_STRING, JV_NULLABLE, 0, 0, item_tipo_values, 0},
    {"codigo", JV_STRING, JV_NULLABLE, 1, 100, NULL, 0},
    {"tributo", JV_STRING, JV_NULLABLE, 0, 0, tributo_values, 0},
    {"exento", JV_BOOL, JV_NULLABLE, 0, 0, NULL, 0},
    {"noSujeto", JV_BOOL, JV_NULLABLE, 0, 0, NULL, 0},
};

static int item_input(struct arena *a, const json_t *obj, size_t i, struct fiscal_item *out, struct err *e)
{
	const char *prefix = arena_printf(a, "items[%zu].", i);
	const char *tipo;
	bool exento, no_sujeto;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return err_set(e, ERR_INVALID, arena_printf(a, "items[%zu]", i), "items[%zu] must be an object", i);
	rc = jv_check(obj, item_fields, NFIELDS(item_fields), prefix, e);
	if (rc)
		return rc;
	out->descripcion = jv_str(obj, "descripcion");
	out->codigo = jv_str(obj, "codigo");
	if ((rc = money_from_json(json_object_get(obj, "cantidad"), QTY_SCALE, &out->cantidad_milli,
				  arena_printf(a, "%scantidad", prefix), e)) ||
	    (rc = money_from_json(json_object_get(obj, "precio"), BILL_IN_SCALE, &out->precio_micro,
				  arena_printf(a, "%sprecio", prefix), e)))
		return rc;
	tipo = jv_str(obj, "tipo");
	out->tipo = tipo && strcmp(tipo, "bien") == 0 ? FISCAL_ITEM_BIEN : FISCAL_ITEM_SERVICIO;
	exento = jv_bool(obj, "exento", false);
	no_sujeto = jv_bool(obj, "noSujeto", false);
	if (exento && no_sujeto)
		return err_set(e, ERR_INVALID, arena_printf(a, "%snoSujeto", prefix),
			       "%snoSujeto and exento exclude each other", prefix);
	if (jv_str(obj, "tributo") && (exento || no_sujeto))
		return err_set(e, ERR_INVALID, arena_printf(a, "%stributo", prefix),
			       "%stributo 20 (IVA) cannot go with an exempt or not-subject item", prefix);
	out->tax = exento ? FISCAL_EXENTO : no_sujeto ? FISCAL_NO_SUJETO : FISCAL_GRAVADO;
	return 0;
}

HANDLER(facturas_http_create)
{
	struct fiscal_factura_input in;
	struct fiscal_factura f;
	struct fiscal_item *items;
	const json_t *arr;
	char public_url[512];
	bool created = false;
	json_t *body;
	size_t n;
	int rc;

	if (!perm_has(ctx->who.perms, PERM_DTE_SUBMIT))
		return err_set(e, ERR_FORBIDDEN, NULL, "missing permission %s", perm_name(PERM_DTE_SUBMIT));
	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, factura_fields, NFIELDS(factura_fields), "", e);
	if (rc)
		return rc;
	memset(&in, 0, sizeof(in));
	rc = fiscal_http_receptor_input(ctx->req->arena, json_object_get(body, "receptor"), "receptor.", &in.receptor,
					e);
	if (rc)
		return rc;
	arr = json_object_get(body, "items");
	n = json_array_size(arr);
	items = arena_alloc(ctx->req->arena, (n ? n : 1) * sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		rc = item_input(ctx->req->arena, json_array_get(arr, i), i, &items[i], e);
		if (rc)
			return rc;
	}
	in.items = items;
	in.nitems = n;
	in.referencia_externa = jv_str(body, "referenciaExterna");
	in.tipo_dte = jv_str(body, "tipoDte");
	rc = fiscal_factura_create(ctx->app, &ctx->actor, &in, ctx->req->arena, &f, &created, e);
	if (rc)
		return rc;
	fiscal_public_url(ctx->app, public_url, sizeof(public_url));
	resp->data = fiscal_factura_json(&f, public_url);
	resp->status = created ? 201 : 200;
	return 0;
}

HANDLER(facturas_http_get)
{
	struct fiscal_factura f;
	char public_url[512];
	int rc;

	rc = fiscal_factura_get(ctx->app, ctx->who.tenant_id, http_param(ctx->req, "id"), ctx->req->arena, &f, e);
	if (rc)
		return rc;
	fiscal_public_url(ctx->app, public_url, sizeof(public_url));
	resp->data = fiscal_factura_json(&f, public_url);
	return 0;
}

HANDLER(facturas_http_list)
{
	struct fiscal_factura *items = NULL;
	const char *ref = http_query(ctx->req, "referenciaExterna");
	const char *estado = http_query(ctx->req, "estado");
	int page = 1, limit = FACTURAS_PAGE_DEFAULT, rc;
	char public_url[512];
	int64_t total = 0;
	size_t n = 0;
	json_t *arr;

	rc = http_pagination(ctx->req, FACTURAS_PAGE_DEFAULT, FACTURAS_PAGE_MAX, &page, &limit, e);
	if (rc)
		return rc;
	if (ref && (strlen(ref) == 0 || strlen(ref) > FISCAL_REF_MAX))
		return err_set(e, ERR_INVALID, "referenciaExterna", "referenciaExterna must be 1 to %d characters",
			       FISCAL_REF_MAX);
	if (estado && dte_status_parse(estado) < 0)
		return err_set(e, ERR_INVALID, "estado",
			       "estado must be queued, pending, contingency, accepted, rejected, error or invalidated");
	rc = fiscal_factura_list(ctx->app, ctx->who.tenant_id, ref, estado, page, limit, ctx->req->arena, &items, &n,
				 &total, e);
	if (rc)
		return rc;
	fiscal_public_url(ctx->app, public_url, sizeof(public_url));
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, fiscal_factura_json(&items[i], public_url));
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}
