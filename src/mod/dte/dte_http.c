/*
 * dte_http.c - the /api/dte routes of the clinic contract (clinic-billing-
 * backend.md §3) and GET /api/reports/dte-status: JSON bodies checked
 * against field tables, then the operations of dte.h; documents delivered as
 * raw JSON, XML or PDF downloads. Permissions are the route table's
 * (dte:submit, dte:read, dte:invalidate, reports:read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "core/money.h"
#include "http/handlers.h"
#include "mod/dte/dte.h"
#include "mod/dte/dte_pdf.h"
#include "mod/dte/dte_xml.h"

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static const char *const tipos_venta[] = {"01", "03", NULL};
static const char *const tipos_nota[] = {"05", "06", NULL};
static const char *const cat022[] = {"36", "13", "02", "03", "37", NULL};
static const char *const treatments[] = {"taxable", "exempt", "not_subject", NULL};

static const struct jv_field submit_fields[] = {
    {"orderId", JV_UUID, JV_REQUIRED, 0, 0, NULL, 0},
    {"tipoDte", JV_STRING, JV_NULLABLE, 2, 2, tipos_venta, 0},
    {"replaces", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
};

static const struct jv_field retry_fields[] = {
    {"orderId", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
    {"codigoGeneracion", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
};

static const struct jv_field invalidate_fields[] = {
    {"codigoGeneracion", JV_UUID, JV_REQUIRED, 0, 0, NULL, 0},
    {"tipoAnulacion", JV_INT, JV_REQUIRED, 1, 3, NULL, 0},
    {"motivoAnulacion", JV_STRING, JV_NULLABLE, 5, 1000, NULL, 0},
    {"nombreResponsable", JV_STRING, JV_REQUIRED, 5, 400, NULL, 0},
    {"tipDocResponsable", JV_STRING, JV_REQUIRED, 2, 2, cat022, 0},
    {"numDocResponsable", JV_STRING, JV_REQUIRED, 3, 20, NULL, 0},
    {"nombreSolicita", JV_STRING, JV_REQUIRED, 5, 400, NULL, 0},
    {"tipDocSolicita", JV_STRING, JV_REQUIRED, 2, 2, cat022, 0},
    {"numDocSolicita", JV_STRING, JV_REQUIRED, 3, 20, NULL, 0},
    {"codigoGeneracionR", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
};

static const struct jv_field note_fields[] = {
    {"codigoGeneracion", JV_UUID, JV_REQUIRED, 0, 0, NULL, 0},
    {"tipoDte", JV_STRING, JV_REQUIRED, 2, 2, tipos_nota, 0},
    {"items", JV_ARRAY, JV_REQUIRED, 1, BILL_MAX_LINES, NULL, 0},
    {"reason", JV_STRING, JV_REQUIRED, 1, BILL_REASON_MAX, NULL, 0},
};

static const struct jv_field note_item_fields[] = {
    {"description", JV_STRING, JV_REQUIRED, 1, 4000, NULL, 0},
    {"code", JV_STRING, JV_NULLABLE, 1, 25, NULL, 0},
    {"quantity", JV_DECIMAL, 0, 0, 0, NULL, QTY_SCALE},
    {"unitPrice", JV_DECIMAL, JV_REQUIRED, 0, 0, NULL, 2},
    {"taxTreatment", JV_STRING, JV_NULLABLE, 1, 16, treatments, 0},
};

/* The DTE with its state history and the document's other DTEs. */
static int record_view(struct req_ctx *ctx, const struct dte_record *r, json_t **out, struct err *e)
{
	struct db_conn *c = NULL;
	struct dte_record *all = NULL;
	size_t n = 0;
	json_t *o = dte_record_json(r), *hist = NULL, *docs = json_array();
	int rc = db_acquire(ctx->app->db, DB_READ, &c, e);

	if (rc == 0)
		rc = dte_history_json(c, ctx->who.tenant_id, r->id, &hist, e);
	if (rc == 0)
		rc = dte_list_for_document(c, ctx->who.tenant_id, r->document_id, ctx->req->arena, &all, &n, e);
	if (c)
		db_release(c);
	if (rc) {
		json_decref(o);
		json_decref(docs);
		json_decref(hist);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(all[i].id, r->id) == 0)
			continue;
		json_array_append_new(docs, json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "codigoGeneracion",
						      all[i].codigo_generacion, "status",
						      dte_status_name(all[i].status), "tipoDte",
						      all[i].numero_control[0] ? json_string(all[i].tipo_dte) : json_null(),
						      "numeroControl",
						      all[i].numero_control[0] ? json_string(all[i].numero_control)
									       : json_null(),
						      "replacedBy",
						      all[i].replaced_by[0] ? json_string(all[i].replaced_by) : json_null(),
						      "createdAt", all[i].created_at));
	}
	json_object_set_new(o, "history", hist);
	json_object_set_new(o, "otherDtes", docs);
	*out = o;
	return 0;
}

int dte_http_submit(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	json_t *body;
	struct dte_record *r = NULL;
	bool created = false;
	int rc;

	if ((rc = http_json_body(ctx->req, false, &body, e)) ||
	    (rc = jv_check(body, submit_fields, NFIELDS(submit_fields), "", e)))
		return rc;
	rc = dte_submit(ctx->app, &ctx->actor, jv_str(body, "orderId"), jv_str(body, "tipoDte"),
			jv_str(body, "replaces"), ctx->req->arena, &r, &created, e);
	if (rc)
		return rc;
	resp->status = created ? 201 : 200;
	return record_view(ctx, r, &resp->data, e);
}

int dte_http_get(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	const char *id = http_param(ctx->req, "orderId");
	struct db_conn *c = NULL;
	struct dte_record *r = NULL;
	int rc;

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "order not found");
	rc = db_acquire(ctx->app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = dte_get_current(c, ctx->who.tenant_id, id, ctx->req->arena, &r, e);
	db_release(c);
	if (rc == ERR_NOT_FOUND)
		return err_set(e, ERR_NOT_FOUND, NULL, "the order has no DTE");
	if (rc)
		return rc;
	return record_view(ctx, r, &resp->data, e);
}

int dte_http_retry(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	json_t *body;
	struct dte_record *r = NULL;
	const char *order, *codigo;
	int rc;

	if ((rc = http_json_body(ctx->req, false, &body, e)) ||
	    (rc = jv_check(body, retry_fields, NFIELDS(retry_fields), "", e)))
		return rc;
	order = jv_str(body, "orderId");
	codigo = jv_str(body, "codigoGeneracion");
	if (!order && !codigo)
		return err_set(e, ERR_INVALID, "orderId", "orderId or codigoGeneracion is required");
	if (order && codigo)
		return err_set(e, ERR_INVALID, "codigoGeneracion", "give orderId or codigoGeneracion, not both");
	rc = dte_retry(ctx->app, &ctx->actor, order, codigo, ctx->req->arena, &r, e);
	if (rc)
		return rc;
	return record_view(ctx, r, &resp->data, e);
}

/* The DTE named by the :uuid path parameter, issued. */
static int issued_dte(struct req_ctx *ctx, struct dte_record **r, char **delivered, struct err *e)
{
	const char *codigo = http_param(ctx->req, "uuid");
	struct db_conn *c = NULL;
	int rc;

	*delivered = NULL;
	if (!codigo || !uuid_valid(codigo))
		return err_set(e, ERR_NOT_FOUND, NULL, "DTE not found");
	rc = db_acquire(ctx->app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = dte_get_by_codigo(c, ctx->who.tenant_id, codigo, ctx->req->arena, r, e);
	db_release(c);
	if (rc)
		return rc;
	return dte_delivered_text(*r, delivered, e);
}

int dte_http_xml(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	const char *format = http_query(ctx->req, "format");
	struct dte_record *r = NULL;
	char *text = NULL, *xml = NULL, disp[128];
	size_t xml_len = 0;
	json_t *tree = NULL;
	int rc;

	if (format && strcmp(format, "json") != 0 && strcmp(format, "xml") != 0)
		return err_set(e, ERR_INVALID, "format", "format must be json or xml");
	rc = issued_dte(ctx, &r, &text, e);
	if (rc)
		return rc;
	if (format && strcmp(format, "xml") == 0) {
		rc = dte_json_load(text, &tree, e);
		if (rc == 0)
			rc = dte_xml_render(tree, &xml, &xml_len, e);
		if (rc == 0) {
			http_resp_raw(ctx, resp, 200, "application/xml; charset=utf-8", xml, xml_len);
			snprintf(disp, sizeof(disp), "attachment; filename=\"DTE-%s.xml\"", r->codigo_generacion);
			http_resp_header(ctx, resp, "Content-Disposition", disp);
		}
	} else {
		http_resp_raw(ctx, resp, 200, "application/json; charset=utf-8", text, strlen(text));
		snprintf(disp, sizeof(disp), "attachment; filename=\"DTE-%s.json\"", r->codigo_generacion);
		http_resp_header(ctx, resp, "Content-Disposition", disp);
	}
	json_decref(tree);
	free(xml);
	free(text);
	return rc;
}

int dte_http_pdf(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	struct dte_record *r = NULL;
	struct dte_pdf_options opts;
	char *text = NULL, disp[128];
	unsigned char *pdf = NULL;
	size_t pdf_len = 0;
	json_t *tree = NULL;
	int rc;

	rc = issued_dte(ctx, &r, &text, e);
	if (rc)
		return rc;
	memset(&opts, 0, sizeof(opts));
	opts.status = dte_status_pdf_label(r->status);
	if (r->status == DTE_ST_REJECTED)
		opts.status_detail = r->descripcion_msg;
	rc = dte_json_load(text, &tree, e);
	if (rc == 0)
		rc = dte_pdf_render_opts(tree, &opts, &pdf, &pdf_len, e);
	if (rc == 0) {
		http_resp_raw(ctx, resp, 200, "application/pdf", (const char *)pdf, pdf_len);
		snprintf(disp, sizeof(disp), "attachment; filename=\"DTE-%s.pdf\"", r->codigo_generacion);
		http_resp_header(ctx, resp, "Content-Disposition", disp);
	}
	json_decref(tree);
	free(pdf);
	free(text);
	return rc;
}

int dte_http_invalidate(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	json_t *body, *obs = NULL;
	struct dte_invalidation_input in;
	struct dte_record *r = NULL;
	struct dte_event_result res;
	int rc;

	if ((rc = http_json_body(ctx->req, false, &body, e)) ||
	    (rc = jv_check(body, invalidate_fields, NFIELDS(invalidate_fields), "", e)))
		return rc;
	memset(&in, 0, sizeof(in));
	in.codigo_generacion = jv_str(body, "codigoGeneracion");
	in.tipo_anulacion = (int)jv_int(body, "tipoAnulacion", 0);
	in.motivo_anulacion = jv_str(body, "motivoAnulacion");
	in.nombre_responsable = jv_str(body, "nombreResponsable");
	in.tip_doc_responsable = jv_str(body, "tipDocResponsable");
	in.num_doc_responsable = jv_str(body, "numDocResponsable");
	in.nombre_solicita = jv_str(body, "nombreSolicita");
	in.tip_doc_solicita = jv_str(body, "tipDocSolicita");
	in.num_doc_solicita = jv_str(body, "numDocSolicita");
	in.codigo_generacion_r = jv_str(body, "codigoGeneracionR");
	rc = dte_invalidate(ctx->app, &ctx->actor, &in, ctx->req->arena, &r, &res, e);
	if (rc)
		return rc;
	rc = record_view(ctx, r, &resp->data, e);
	if (rc)
		return rc;
	if (res.observaciones)
		obs = json_loads(res.observaciones, 0, NULL);
	json_object_set_new(resp->data, "invalidation",
			    json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:o}", "id", res.id, "codigoGeneracion",
				      res.codigo_generacion, "estado", res.estado, "sello", res.sello[0] ? res.sello : NULL,
				      "fhProcesamiento", res.fh_procesamiento, "codigoMsg", res.codigo_msg,
				      "descripcionMsg", res.descripcion_msg, "observaciones",
				      json_is_array(obs) ? obs : json_array()));
	if (!json_is_array(obs))
		json_decref(obs);
	return 0;
}

int dte_http_notes(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	json_t *body, *items, *it;
	struct dte_note_input in;
	struct dte_note_item *lines;
	struct dte_record *r = NULL;
	char doc_id[UUID_LEN + 1], prefix[32], field[48];
	size_t i;
	int rc;

	if ((rc = http_json_body(ctx->req, false, &body, e)) ||
	    (rc = jv_check(body, note_fields, NFIELDS(note_fields), "", e)))
		return rc;
	items = json_object_get(body, "items");
	lines = arena_alloc(ctx->req->arena, json_array_size(items) * sizeof(*lines));
	json_array_foreach(items, i, it)
	{
		int64_t v = 0;
		snprintf(prefix, sizeof(prefix), "items[%zu].", i);
		if (!json_is_object(it))
			return err_set(e, ERR_INVALID, "items", "items[%zu] must be an object", i);
		if ((rc = jv_check(it, note_item_fields, NFIELDS(note_item_fields), prefix, e)))
			return rc;
		lines[i].description = jv_str(it, "description");
		lines[i].code = jv_str(it, "code");
		lines[i].treatment = jv_str(it, "taxTreatment");
		lines[i].quantity_milli = 1000;
		snprintf(field, sizeof(field), "%squantity", prefix);
		if (json_object_get(it, "quantity")) {
			if ((rc = money_from_json(json_object_get(it, "quantity"), QTY_SCALE, &v, field, e)))
				return rc;
			if (v <= 0)
				return err_set(e, ERR_INVALID, field, "%s must be greater than 0", field);
			lines[i].quantity_milli = v;
		}
		snprintf(field, sizeof(field), "%sunitPrice", prefix);
		if ((rc = money_from_json(json_object_get(it, "unitPrice"), 2, &v, field, e)))
			return rc;
		if (v < 0)
			return err_set(e, ERR_INVALID, field, "%s must not be negative", field);
		lines[i].unit_price_micro = v * 10000; /* cents -> BILL_IN_SCALE */
	}
	memset(&in, 0, sizeof(in));
	in.codigo_generacion = jv_str(body, "codigoGeneracion");
	in.tipo_dte = jv_str(body, "tipoDte");
	in.items = lines;
	in.nitems = json_array_size(items);
	in.reason = jv_str(body, "reason");
	rc = dte_note_create(ctx->app, &ctx->actor, &in, ctx->req->arena, &r, doc_id, e);
	if (rc)
		return rc;
	resp->status = 201;
	return record_view(ctx, r, &resp->data, e);
}

int dte_http_report_status(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	const char *from = http_query(ctx->req, "from"), *to = http_query(ctx->req, "to");

	if (from && !date_valid(from))
		return err_set(e, ERR_INVALID, "from", "from must be a date YYYY-MM-DD");
	if (to && !date_valid(to))
		return err_set(e, ERR_INVALID, "to", "to must be a date YYYY-MM-DD");
	if (from && to && strcmp(from, to) > 0)
		return err_set(e, ERR_INVALID, "to", "to must not be before from");
	return dte_report_status(ctx->app, ctx->who.tenant_id, from, to, &resp->data, e);
}
