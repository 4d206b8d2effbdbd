/*
 * facturas.c - POST/GET /api/facturas as a service (fiscal.h FACTURAS): one
 * request becomes, in ONE write transaction, the receptor upsert, a billing
 * document (source "factura"), the mapping row fiscal_facturas and the DTE
 * (dte.h: number, document and its submission job). referenciaExterna is
 * the idempotency key of the contract: the same reference with the same
 * content finds the factura again, with other content it is a conflict.
 */
#include "mod/fiscal/fiscal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/money.h"
#include "crypto/crypto.h"
#include "jobs/jobs.h"
#include "mod/billing/billing.h"
#include "mod/billing/orders.h"
#include "mod/dte/dte.h"
#include "mod/dte/dte_doc.h"
#include "mod/fiscal/fiscal_repo.h"
#include "mod/tenants/tenants.h"

#define ITEM_DESC_MAX	1000 /* characters (cuerpoDocumento.descripcion) */
#define ITEM_DESC_BYTES BILL_TEXT_MAX
#define ITEM_CODE_MAX	25
#define IVA_PCT		(13 * 10000) /* PCT_SCALE */
#define FISCAL_SOURCE	"factura"
#define ESTADO_INITIAL	"pending" /* until the DTE flow reports its first state */

/* ---- facturas ---- */

static const char *item_kind_name(enum fiscal_item_kind k)
{
	return k == FISCAL_ITEM_BIEN ? "bien" : "servicio";
}

static const char *tax_name(enum fiscal_tax t)
{
	return t == FISCAL_EXENTO ? "exento" : t == FISCAL_NO_SUJETO ? "no_sujeto" : "gravado";
}

void fiscal_factura_fingerprint(const struct fiscal_factura_input *in, const struct fiscal_receptor *r, char out[65])
{
	json_t *items = json_array(), *doc;
	char *text;

	for (size_t i = 0; i < in->nitems; i++) {
		const struct fiscal_item *it = &in->items[i];

		json_array_append_new(items,
				      json_pack("{s:s,s:s?,s:I,s:I,s:s,s:s}", "d", it->descripcion, "c", it->codigo,
						"q", (json_int_t)it->cantidad_milli, "p", (json_int_t)it->precio_micro,
						"k", item_kind_name(it->tipo), "t", tax_name(it->tax)));
	}
	doc = json_pack("{s:s?,s:{s:s,s:s,s:s?,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?},s:o}", "tipoDte",
			in->tipo_dte, "receptor", "tipo", r->tipo_documento, "num", r->num_documento, "nrc", r->nrc,
			"nombre", r->nombre, "act", r->cod_actividad, "desc", r->desc_actividad, "dep",
			r->has_direccion ? r->direccion.departamento : NULL, "mun",
			r->has_direccion ? r->direccion.municipio : NULL, "comp",
			r->has_direccion ? r->direccion.complemento : NULL, "tel", r->telefono, "mail", r->correo,
			"patient", r->patient_id[0] ? r->patient_id : NULL, "items", items);
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	crypto_sha256_hex(text, strlen(text), out);
	free(text);
	json_decref(doc);
}

/* The DTE type the factura will have: the override, or CCF when the
 * receptor has an NRC. A CCF needs a contributor: NIT (or DUI as NIT), NRC,
 * activity, address and e-mail (fe-ccf-v3 receptor). */
static int factura_tipo(const struct fiscal_factura_input *in, const struct fiscal_receptor *r, const char **tipo,
			struct err *e)
{
	*tipo = in->tipo_dte ? in->tipo_dte : dte_type_code(dte_type_for_receptor(r->nrc != NULL));
	if (strcmp(*tipo, "03") != 0)
		return 0;
	if (strcmp(r->tipo_documento, "36") != 0 && strcmp(r->tipo_documento, "13") != 0)
		return err_set(e, ERR_INVALID, "receptor.tipoDocumento",
			       "a crédito fiscal (03) needs a receptor with NIT (36) or DUI (13)");
	if (!r->nrc)
		return err_set(e, ERR_INVALID, "receptor.nrc", "a crédito fiscal (03) needs the receptor's nrc");
	if (!r->cod_actividad)
		return err_set(e, ERR_INVALID, "receptor.codActividad",
			       "a crédito fiscal (03) needs the receptor's codActividad and descActividad");
	if (!r->has_direccion)
		return err_set(e, ERR_INVALID, "receptor.direccion",
			       "a crédito fiscal (03) needs the receptor's direccion");
	if (!r->correo)
		return err_set(e, ERR_INVALID, "receptor.correo", "a crédito fiscal (03) needs the receptor's correo");
	return 0;
}

/* Items: meaning checks (shape is the handler's). */
static int items_check(const struct fiscal_factura_input *in, struct arena *a, struct err *e)
{
	if (in->nitems < 1 || in->nitems > FISCAL_MAX_ITEMS)
		return err_set(e, ERR_INVALID, "items", "items must have 1 to %d entries", FISCAL_MAX_ITEMS);
	for (size_t i = 0; i < in->nitems; i++) {
		const struct fiscal_item *it = &in->items[i];
		const char *f;
		size_t n;

		f = arena_printf(a, "items[%zu].descripcion", i);
		n = fiscal__utf8_chars(it->descripcion);
		if (!it->descripcion || n < 1 || n > ITEM_DESC_MAX || strlen(it->descripcion) > ITEM_DESC_BYTES)
			return err_set(e, ERR_INVALID, f, "%s must be 1 to %d characters", f, ITEM_DESC_MAX);
		if (fiscal__has_control(it->descripcion))
			return err_set(e, ERR_INVALID, f, "%s contains a control character", f);
		if (it->codigo) {
			f = arena_printf(a, "items[%zu].codigo", i);
			n = fiscal__utf8_chars(it->codigo);
			if (n < 1 || n > ITEM_CODE_MAX || fiscal__has_control(it->codigo))
				return err_set(e, ERR_INVALID, f, "%s must be 1 to %d characters", f, ITEM_CODE_MAX);
		}
		if (it->cantidad_milli <= 0)
			return err_set(e, ERR_INVALID, arena_printf(a, "items[%zu].cantidad", i),
				       "items[%zu].cantidad must be greater than 0", i);
		if (it->precio_micro < 0)
			return err_set(e, ERR_INVALID, arena_printf(a, "items[%zu].precio", i),
				       "items[%zu].precio must not be negative", i);
	}
	return 0;
}

/* referenciaExterna: 1..FISCAL_REF_MAX bytes, no control characters, not blank. */
static int ref_check(const char *ref, struct err *e)
{
	size_t n = ref ? strlen(ref) : 0;

	if (n == 0)
		return err_set(e, ERR_INVALID, "referenciaExterna", "referenciaExterna is required");
	if (n > FISCAL_REF_MAX)
		return err_set(e, ERR_INVALID, "referenciaExterna", "referenciaExterna must be at most %d characters",
			       FISCAL_REF_MAX);
	if (fiscal__has_control(ref) || ref[0] == ' ' || ref[n - 1] == ' ')
		return err_set(e, ERR_INVALID, "referenciaExterna",
			       "referenciaExterna must not contain control characters or surrounding spaces");
	return 0;
}

/* A line's item_name: the description cut at BILL_LABEL_MAX bytes on a
 * character boundary. */
static const char *line_name(struct arena *a, const char *desc)
{
	size_t n = strlen(desc);

	if (n <= BILL_LABEL_MAX)
		return desc;
	n = BILL_LABEL_MAX;
	while (n > 0 && ((unsigned char)desc[n] & 0xC0) == 0x80)
		n--;
	return arena_strndup(a, desc, n);
}

/* The DTE receptor of a factura from the request's validated receptor
 * (DUI and NIT also serve as the CCF's nit). */
static void dte_receptor_of(const struct fiscal_receptor *r, struct dte_address *addr, struct dte_receptor *out)
{
	memset(out, 0, sizeof(*out));
	memset(addr, 0, sizeof(*addr));
	out->tipo_documento = r->tipo_documento;
	out->num_documento = r->num_documento;
	if (strcmp(r->tipo_documento, "36") == 0 || strcmp(r->tipo_documento, "13") == 0)
		out->nit = r->num_documento;
	out->nrc = r->nrc;
	out->nombre = r->nombre;
	out->cod_actividad = r->cod_actividad;
	out->desc_actividad = r->desc_actividad;
	if (r->has_direccion) {
		addr->departamento = r->direccion.departamento;
		addr->municipio = r->direccion.municipio;
		addr->complemento = r->direccion.complemento;
		out->direccion = addr;
	}
	out->telefono = r->telefono;
	out->correo = r->correo;
}

/* Everything of one factura in the caller's write transaction on c. */
static int factura_write(struct app *app, struct db_conn *c, const struct actor *who,
			 const struct fiscal_factura_input *in, const char *fingerprint, struct arena *a,
			 char doc_id_out[UUID_LEN + 1], struct err *e)
{
	struct tenant t;
	struct fiscal_receptor rec, req_rec;
	struct bill_line_input *lines;
	struct bill_input bi;
	struct bill_document *doc = NULL;
	struct fiscal__factura_row row;
	struct dte_receptor dr;
	struct dte_address daddr;
	struct dte_issue_opts opts;
	struct dte_apendice ref_apendice;
	const char *tipo;
	char now[TIME_ISO_LEN + 1];
	bool created = false;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = tenants_get(c, who->tenant_id, &t, e);
	if (rc)
		return rc;
	lines = arena_alloc(a, in->nitems * sizeof(*lines));
	for (size_t i = 0; i < in->nitems; i++) {
		const struct fiscal_item *it = &in->items[i];
		struct bill_line_input *l = &lines[i];

		l->item_type = it->tipo == FISCAL_ITEM_BIEN ? "good" : "service";
		l->item_name = line_name(a, it->descripcion);
		l->description = it->descripcion;
		l->item_code = it->codigo;
		l->unit_of_measure = "59"; /* CAT-014 Unidad */
		l->quantity_milli = it->cantidad_milli;
		l->has_unit_price = true;
		/* exactly representable in the currency, or 400 naming the item */
		rc = billing_amount_in(t.currency, it->precio_micro, arena_printf(a, "items[%zu].precio", i),
				       &(int64_t){0}, e);
		if (rc)
			goto out;
		l->unit_price_micro = it->precio_micro;
		l->has_tax_pct = true;
		l->tax_pct = it->tax == FISCAL_GRAVADO ? IVA_PCT : 0;
		l->tax_treatment = it->tax == FISCAL_GRAVADO  ? "taxable"
				   : it->tax == FISCAL_EXENTO ? "exempt"
							      : "not_subject";
	}

	/* the DTE carries the receptor as the request gave it; the registry merges */
	rc = fiscal_receptor_check(&in->receptor, a, &req_rec, e);
	if (rc == 0)
		rc = factura_tipo(in, &req_rec, &tipo, e);
	if (rc == 0)
		rc = fiscal_receptor_upsert_conn(c, &app->keys, who, &in->receptor, a, &rec, &created, e);
	if (rc)
		goto out;

	memset(&bi, 0, sizeof(bi));
	bi.source = FISCAL_SOURCE;
	bi.patient_id = rec.patient_id[0] ? rec.patient_id : NULL;
	bi.currency = t.currency;
	bi.prices_include_tax = orders_prices_include_tax(t.country);
	bi.initial_status = BILL_PENDING;
	bi.lines = lines;
	bi.nlines = in->nitems;
	bi.lines_field = "items";
	rc = billing_create_conn(c, who, &bi, a, &doc, e);
	if (rc)
		goto out;

	/* the mapping row first, so the DTE flow's state hook finds it */
	time_now_iso(now);
	memset(&row, 0, sizeof(row));
	snprintf(row.document_id, sizeof(row.document_id), "%s", doc->id);
	row.referencia_externa = in->referencia_externa;
	row.fingerprint = fingerprint;
	snprintf(row.receptor_id, sizeof(row.receptor_id), "%s", rec.id);
	row.tipo_dte = tipo;
	row.estado = ESTADO_INITIAL;
	row.estado_at = now;
	row.created_at = now;
	rc = fiscal__factura_insert(c, who->tenant_id, &row, who->id, e);
	if (rc)
		goto out;

	dte_receptor_of(&req_rec, &daddr, &dr);
	memset(&opts, 0, sizeof(opts));
	opts.tipo_dte = tipo;
	opts.receptor = &dr;
	ref_apendice.campo = "referencia";
	ref_apendice.etiqueta = "Referencia externa";
	ref_apendice.valor = in->referencia_externa;
	opts.apendice = &ref_apendice;
	opts.napendice = 1;
	rc = dte_issue(app, c, who, doc->id, &opts, a, NULL, e);
	if (rc)
		goto out;
	snprintf(doc_id_out, UUID_LEN + 1, "%s", doc->id);
out:
	tenant_release(&t);
	return rc;
}

/* Load the full factura (row, document with lines, receptor) on c. */
static int factura_load(struct app *app, struct db_conn *c, const char *tenant_id, const char *key, bool by_ref,
			struct arena *a, struct fiscal_factura *out, struct err *e)
{
	struct fiscal__factura_row row;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = fiscal__factura_get(c, tenant_id, key, by_ref, a, &row, e);
	if (rc)
		return rc;
	snprintf(out->id, sizeof(out->id), "%s", row.document_id);
	out->referencia_externa = row.referencia_externa;
	snprintf(out->receptor_id, sizeof(out->receptor_id), "%s", row.receptor_id);
	out->tipo_dte = row.tipo_dte;
	out->estado = row.estado;
	out->codigo_generacion = row.codigo_generacion;
	out->numero_control = row.numero_control;
	out->sello = row.sello;
	out->fh_procesamiento = row.fh_procesamiento;
	out->codigo_msg = row.codigo_msg;
	out->descripcion_msg = row.descripcion_msg;
	out->observaciones_json = row.observaciones_json;
	out->updated_estado_at = row.estado_at;
	snprintf(out->created_at, sizeof(out->created_at), "%s", row.created_at ? row.created_at : "");
	rc = billing_get_conn(c, tenant_id, row.document_id, BILL_WITH_LINES, a, &out->doc, e);
	if (rc)
		return rc;
	if (row.receptor_id[0]) {
		struct fiscal_receptor *r = arena_alloc(a, sizeof(*r));

		rc = fiscal__receptor_get(c, &app->keys, tenant_id, row.receptor_id, a, r, e);
		if (rc == 0)
			out->receptor = r;
		else if (rc == ERR_NOT_FOUND)
			rc = 0;
	}
	return rc;
}

/* Find the factura of a reference: 0 with *found, or an error. Same content
 * (fingerprint) -> found; other content -> ERR_CONFLICT. */
static int factura_existing(struct app *app, struct db_conn *c, const struct actor *who,
			    const struct fiscal_factura_input *in, const char *fingerprint, struct arena *a,
			    struct fiscal_factura *out, bool *found, struct err *e)
{
	struct fiscal__factura_row row;
	struct err scratch;
	int rc;

	*found = false;
	err_clear(&scratch);
	rc = fiscal__factura_get(c, who->tenant_id, in->referencia_externa, true, a, &row, &scratch);
	if (rc == ERR_NOT_FOUND)
		return 0;
	if (rc) {
		*e = scratch;
		return rc;
	}
	if (strcmp(row.fingerprint, fingerprint) != 0) {
		err_set(e, ERR_CONFLICT, "referenciaExterna",
			"referenciaExterna was already used for a factura with other content");
		return err_name(e, "REFERENCE_CONFLICT");
	}
	*found = true;
	return factura_load(app, c, who->tenant_id, in->referencia_externa, true, a, out, e);
}

int fiscal_factura_create(struct app *app, const struct actor *who, const struct fiscal_factura_input *in,
			  struct arena *a, struct fiscal_factura *out, bool *created, struct err *e)
{
	struct fiscal_receptor rec;
	char fingerprint[65], doc_id[UUID_LEN + 1] = "";
	const char *tipo;
	bool found = false;
	int rc;

	*created = false;
	/* everything that needs no database, before anything is opened */
	if ((rc = ref_check(in->referencia_externa, e)) || (rc = fiscal_receptor_check(&in->receptor, a, &rec, e)) ||
	    (rc = items_check(in, a, e)))
		return rc;
	if (in->tipo_dte && strcmp(in->tipo_dte, "01") != 0 && strcmp(in->tipo_dte, "03") != 0)
		return err_set(e, ERR_INVALID, "tipoDte", "tipoDte must be 01 or 03");
	if ((rc = factura_tipo(in, &rec, &tipo, e)))
		return rc;
	fiscal_factura_fingerprint(in, &rec, fingerprint);

	/* two rounds: a concurrent request with the same reference may commit
	 * between our look-up and our insert (PostgreSQL); the second round
	 * then finds it */
	for (int round = 0; round < 2; round++) {
		struct db_conn *c = NULL;

		rc = db_acquire(app->db, DB_WRITE, &c, e);
		if (rc)
			return rc;
		rc = db_begin(c, e);
		if (rc == 0)
			rc = factura_existing(app, c, who, in, fingerprint, a, out, &found, e);
		if (rc == 0 && !found) {
			rc = factura_write(app, c, who, in, fingerprint, a, doc_id, e);
			if (rc == 0)
				rc = db_commit(c, e);
		}
		db_release(c); /* rolls back what is left open */
		/* a unique index lost to a concurrent writer (the reference, or the
		 * receptor's document): everything rolled back; look again */
		if (rc == ERR_CONFLICT && round == 0 && !found && e->name[0] == '\0') {
			err_clear(e);
			continue;
		}
		break;
	}
	if (rc)
		return rc;
	if (found)
		return 0;
	*created = true;
	jobs_notify(app->jobs);
	return fiscal_factura_get(app, who->tenant_id, doc_id, a, out, e);
}

int fiscal_factura_get(struct app *app, const char *tenant_id, const char *id, struct arena *a,
		       struct fiscal_factura *out, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	if (!uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, "id", "factura not found");
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e); /* one snapshot for the row, the document and the receptor */
	if (rc == 0)
		rc = factura_load(app, c, tenant_id, id, false, a, out, e);
	db_release(c);
	return rc;
}

int fiscal_factura_get_by_ref(struct app *app, const char *tenant_id, const char *ref, struct arena *a,
			      struct fiscal_factura *out, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = factura_load(app, c, tenant_id, ref, true, a, out, e);
	db_release(c);
	return rc;
}

int fiscal_factura_list(struct app *app, const char *tenant_id, const char *ref, const char *estado, int page,
			int limit, struct arena *a, struct fiscal_factura **out, size_t *n, int64_t *total,
			struct err *e)
{
	struct fiscal__factura_row *rows = NULL;
	struct db_conn *c = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = fiscal__factura_list(c, tenant_id, ref, estado, (int64_t)(page - 1) * limit, limit, a, &rows, n,
					  total, e);
	if (rc == 0 && *n > 0) {
		*out = arena_alloc(a, *n * sizeof(**out));
		for (size_t i = 0; i < *n && rc == 0; i++)
			rc = factura_load(app, c, tenant_id, rows[i].document_id, false, a, &(*out)[i], e);
	}
	db_release(c);
	return rc;
}

/* Quantity without trailing zeros: 1000 -> "1", 2500 -> "2.5". */
static json_t *quantity_json(int64_t milli)
{
	char buf[MONEY_MAX_TEXT];
	size_t n;

	money_format(milli, QTY_SCALE, buf, sizeof(buf));
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return json_string(buf);
}

json_t *fiscal_factura_json(const struct fiscal_factura *f, const char *public_url)
{
	const struct bill_document *d = f->doc;
	json_t *items = json_array(), *obs = NULL, *o;
	int mu = d ? d->minor_units : 2;

	for (size_t i = 0; d && i < d->nlines; i++) {
		const struct bill_line *l = &d->lines[i];
		const char *tax = l->tax_treatment == BILL_TAX_EXEMPT	     ? "exento"
				  : l->tax_treatment == BILL_TAX_NOT_SUBJECT ? "no_sujeto"
									     : "gravado";

		json_array_append_new(items,
				      json_pack("{s:i,s:s?,s:s?,s:o,s:o,s:s,s:s,s:o,s:o}", "numItem", l->line_number,
						"descripcion", l->description ? l->description : l->item_name, "codigo",
						l->item_code, "cantidad", quantity_json(l->quantity_milli), "precio",
						money_json_string(l->unit_price_minor, mu), "tipo",
						l->item_type && strcmp(l->item_type, "good") == 0 ? "bien" : "servicio",
						"tributo", tax, "iva", money_json_string(l->tax_minor, mu), "total",
						money_json_string(l->total_minor, mu)));
	}
	if (f->observaciones_json)
		obs = json_loads(f->observaciones_json, 0, NULL);
	if (!json_is_array(obs)) {
		json_decref(obs);
		obs = json_array();
	}
	o = json_pack("{s:s,s:s,s:s?,s:s,s:s?,s:s?,s:s?,s:s?,s:o}", "id", f->id, "referenciaExterna",
		      f->referencia_externa, "tipoDte", f->tipo_dte, "estado", f->estado ? f->estado : ESTADO_INITIAL,
		      "codigoGeneracion", f->codigo_generacion, "numeroControl", f->numero_control, "sello", f->sello,
		      "fhProcesamiento", f->fh_procesamiento, "observaciones", obs);
	json_object_set_new(o, "mensaje", f->descripcion_msg ? json_string(f->descripcion_msg) : json_null());
	json_object_set_new(o, "pdfUrl",
			    f->codigo_generacion ? json_sprintf("%s/api/dte/pdf/%s", public_url, f->codigo_generacion)
						 : json_null());
	json_object_set_new(o, "receptor", f->receptor ? fiscal_receptor_json(f->receptor) : json_null());
	json_object_set_new(o, "items", items);
	if (d) {
		json_object_set_new(o, "numero", json_string(d->number));
		json_object_set_new(
		    o, "resumen",
		    json_pack("{s:s,s:b,s:o,s:o,s:o,s:o}", "moneda", d->currency, "preciosIncluyenIva",
			      d->prices_include_tax, "subtotal", money_json_string(d->subtotal_minor, mu), "descuento",
			      money_json_string(d->discount_minor, mu), "iva", money_json_string(d->tax_minor, mu),
			      "total", money_json_string(d->total_minor, mu)));
	}
	json_object_set_new(o, "estadoActualizado",
			    f->updated_estado_at ? json_string(f->updated_estado_at) : json_null());
	json_object_set_new(o, "createdAt", json_string(f->created_at));
	return o;
}
