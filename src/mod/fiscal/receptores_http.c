/*
 * receptores_http.c - /api/receptores (fiscal-engine contract §2.2): JSON
 * bodies into receptor inputs, receptores into JSON.
 *
 * Shape (types, byte caps, CAT-022 codes, unknown fields) is checked here
 * with jv_check tables; meaning (check digits, code lists, lengths in
 * characters, the patient) is fiscal.c's. The receptor object of
 * POST /api/facturas has the same members, so facturas_http.c uses
 * fiscal_http_receptor_input from here.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "http/handlers.h"
#include "mod/fiscal/fiscal.h"
#include "mod/fiscal/fiscal_http.h"

#define RECEPTORES_PAGE_DEFAULT 20
#define RECEPTORES_PAGE_MAX	100
#define NFIELDS(t)		(sizeof(t) / sizeof((t)[0]))

static const char *const tipo_values[] = {"13", "36", "02", "03", "37", NULL};

/* Byte caps allow 4 bytes per character; fiscal_receptor_check counts characters. */
static const struct jv_field receptor_fields[] = {
    {"tipoDocumento", JV_STRING, JV_REQUIRED, 0, 0, tipo_values, 0},
    {"numDocumento", JV_STRING, JV_REQUIRED, 1, 40, NULL, 0},
    {"nrc", JV_STRING, JV_NULLABLE, 1, 20, NULL, 0},
    {"nombre", JV_STRING, JV_REQUIRED, 1, 4 * 250, NULL, 0},
    {"codActividad", JV_STRING, JV_NULLABLE, 1, 6, NULL, 0},
    {"descActividad", JV_STRING, JV_NULLABLE, 1, 4 * 150, NULL, 0},
    {"direccion", JV_OBJECT, JV_NULLABLE, 0, 0, NULL, 0},
    {"telefono", JV_STRING, JV_NULLABLE, 1, 40, NULL, 0},
    {"correo", JV_EMAIL, JV_NULLABLE, 0, 0, NULL, 0},
    {"patientId", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
};

static const struct jv_field direccion_fields[] = {
    {"departamento", JV_STRING, JV_REQUIRED, 2, 2, NULL, 0},
    {"municipio", JV_STRING, JV_REQUIRED, 2, 2, NULL, 0},
    {"complemento", JV_STRING, JV_REQUIRED, 1, 4 * 200, NULL, 0},
};

/* Members whose explicit null clears the stored value on an update. */
static const struct {
	const char *name;
	unsigned bit;
} null_members[] = {
    {"nrc", FISCAL_RM_NRC},
    {"codActividad", FISCAL_RM_ACTIVIDAD},
    {"descActividad", FISCAL_RM_ACTIVIDAD},
    {"direccion", FISCAL_RM_DIRECCION},
    {"telefono", FISCAL_RM_TELEFONO},
    {"correo", FISCAL_RM_CORREO},
    {"patientId", FISCAL_RM_PATIENT},
};

int fiscal_http_receptor_input(struct arena *a, const json_t *obj, const char *prefix,
			       struct fiscal_receptor_input *out, struct err *e)
{
	const json_t *dir;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = jv_check(obj, receptor_fields, NFIELDS(receptor_fields), prefix, e);
	if (rc)
		return rc;
	dir = json_object_get(obj, "direccion");
	if (json_is_object(dir)) {
		struct fiscal_address *ad = arena_alloc(a, sizeof(*ad));

		rc = jv_check(dir, direccion_fields, NFIELDS(direccion_fields), arena_printf(a, "%sdireccion.", prefix),
			      e);
		if (rc)
			return rc;
		ad->departamento = jv_str(dir, "departamento");
		ad->municipio = jv_str(dir, "municipio");
		ad->complemento = jv_str(dir, "complemento");
		out->direccion = ad;
	}
	out->tipo_documento = jv_str(obj, "tipoDocumento");
	out->num_documento = jv_str(obj, "numDocumento");
	out->nrc = jv_str(obj, "nrc");
	out->nombre = jv_str(obj, "nombre");
	out->cod_actividad = jv_str(obj, "codActividad");
	out->desc_actividad = jv_str(obj, "descActividad");
	out->telefono = jv_str(obj, "telefono");
	out->correo = jv_str(obj, "correo");
	out->patient_id = jv_str(obj, "patientId");
	out->field_prefix = prefix;
	for (size_t i = 0; i < NFIELDS(null_members); i++)
		if (json_is_null(json_object_get(obj, null_members[i].name)))
			out->nulls |= null_members[i].bit;
	return 0;
}

HANDLER(receptores_http_upsert)
{
	struct fiscal_receptor_input in;
	struct fiscal_receptor r;
	bool created = false;
	json_t *body;
	int rc;

	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = fiscal_http_receptor_input(ctx->req->arena, body, "", &in, e);
	if (rc)
		return rc;
	rc = fiscal_receptor_upsert(ctx->app, &ctx->actor, &in, ctx->req->arena, &r, &created, e);
	if (rc)
		return rc;
	resp->data = fiscal_receptor_json(&r);
	resp->status = created ? 201 : 200;
	return 0;
}

HANDLER(receptores_http_get)
{
	struct fiscal_receptor r;
	int rc;

	rc = fiscal_receptor_get(ctx->app, ctx->who.tenant_id, http_param(ctx->req, "id"), ctx->req->arena, &r, e);
	if (rc)
		return rc;
	resp->data = fiscal_receptor_json(&r);
	return 0;
}

HANDLER(receptores_http_list)
{
	struct fiscal_receptor *items = NULL;
	const char *num = http_query(ctx->req, "numDocumento");
	int page = 1, limit = RECEPTORES_PAGE_DEFAULT, rc;
	int64_t total = 0;
	size_t n = 0;
	json_t *arr;

	rc = http_pagination(ctx->req, RECEPTORES_PAGE_DEFAULT, RECEPTORES_PAGE_MAX, &page, &limit, e);
	if (rc)
		return rc;
	if (num && (strlen(num) == 0 || strlen(num) > 40))
		return err_set(e, ERR_INVALID, "numDocumento", "numDocumento must be 1 to 40 characters");
	rc = fiscal_receptor_list(ctx->app, ctx->who.tenant_id, num, page, limit, ctx->req->arena, &items, &n, &total,
				  e);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, fiscal_receptor_json(&items[i]));
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}
