/*
 * fiscal_repo.c - all the SQL of the fiscal module (migration 0011) and the
 * form of its rows at rest.
 *
 * A receptor's numDocumento, nrc, telefono and correo are encrypted with
 * field_encrypt (associated data = the receptor's id) beside the blind index
 * of its document; an endpoint's secret is encrypted the same way (aad = the
 * endpoint's id). Every statement filters by tenant_id. Decrypted values are
 * copied into the caller's arena and the temporary plaintext wiped.
 */
#include "mod/fiscal/fiscal_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/field.h"

#define NP(a) DB_NPARAMS(a)

static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

/* Decrypt `stored` (may be NULL) into an arena copy. */
static int decrypt_to(const struct app_keys *keys, const char *aad, const char *stored, struct arena *a,
		      const char **out, struct err *e)
{
	char *plain = NULL;
	int rc;

	*out = NULL;
	if (!stored)
		return 0;
	rc = field_decrypt(keys->data_enc, aad, stored, &plain, e);
	if (rc)
		return rc;
	if (plain) {
		size_t n = strlen(plain);

		*out = arena_strndup(a, plain, n);
		mem_wipe(plain, n);
		free(plain);
	}
	return 0;
}

static const char *text_at(struct arena *a, const struct db_rows *r, size_t row, size_t col)
{
	return arena_strdup(a, db_rows_text(r, row, col));
}

static void copy_fixed(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

void fiscal__receptor_bidx(const struct app_keys *keys, const char *tipo, const char *canonical, char out[65])
{
	char buf[128];

	snprintf(buf, sizeof(buf), "receptor:%s:%s", tipo, canonical);
	field_blind_index(keys->data_index, buf, out);
}

/* ---- receptores ---- */

static const char receptor_cols[] = "id, tipo_documento, num_documento_enc, nrc_enc, nombre, cod_actividad, "
				    "desc_actividad, direccion_json, telefono_enc, correo_enc, patient_id, "
				    "created_at, updated_at";
enum { R_ID, R_TIPO, R_DOC, R_NRC, R_NOMBRE, R_ACT, R_DESC, R_DIR, R_TEL, R_CORREO, R_PATIENT, R_CREATED, R_UPDATED };

static char *direccion_json(const struct fiscal_receptor *r)
{
	json_t *o;
	char *text;

	if (!r->has_direccion)
		return NULL;
	o = json_pack("{s:s?,s:s?,s:s?}", "departamento", r->direccion.departamento, "municipio",
		      r->direccion.municipio, "complemento", r->direccion.complemento);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static int receptor_decode(const struct app_keys *keys, const struct db_rows *rows, size_t i, struct arena *a,
			   struct fiscal_receptor *out, struct err *e)
{
	const char *dir;
	int rc;

	memset(out, 0, sizeof(*out));
	copy_fixed(out->id, sizeof(out->id), db_rows_text(rows, i, R_ID));
	out->tipo_documento = text_at(a, rows, i, R_TIPO);
	out->nombre = text_at(a, rows, i, R_NOMBRE);
	out->cod_actividad = text_at(a, rows, i, R_ACT);
	out->desc_actividad = text_at(a, rows, i, R_DESC);
	copy_fixed(out->patient_id, sizeof(out->patient_id), db_rows_text(rows, i, R_PATIENT));
	copy_fixed(out->created_at, sizeof(out->created_at), db_rows_text(rows, i, R_CREATED));
	copy_fixed(out->updated_at, sizeof(out->updated_at), db_rows_text(rows, i, R_UPDATED));
	if ((rc = decrypt_to(keys, out->id, db_rows_text(rows, i, R_DOC), a, &out->num_documento, e)) ||
	    (rc = decrypt_to(keys, out->id, db_rows_text(rows, i, R_NRC), a, &out->nrc, e)) ||
	    (rc = decrypt_to(keys, out->id, db_rows_text(rows, i, R_TEL), a, &out->telefono, e)) ||
	    (rc = decrypt_to(keys, out->id, db_rows_text(rows, i, R_CORREO), a, &out->correo, e)))
		return rc;
	dir = db_rows_text(rows, i, R_DIR);
	if (dir) {
		json_t *o = json_loads(dir, 0, NULL);

		if (!json_is_object(o)) {
			json_decref(o);
			err_set(e, ERR_DB, NULL, "stored receptor address is unreadable");
			return err_detail(e, "receptor %s direccion_json", out->id);
		}
		out->has_direccion = true;
		out->direccion.departamento = arena_strdup(a, json_string_value(json_object_get(o, "departamento")));
		out->direccion.municipio = arena_strdup(a, json_string_value(json_object_get(o, "municipio")));
		out->direccion.complemento = arena_strdup(a, json_string_value(json_object_get(o, "complemento")));
		json_decref(o);
	}
	return 0;
}

static int receptor_query_one(struct db_conn *c, const struct app_keys *keys, const char *sql, const struct db_param *p,
			      size_t np, struct arena *a, struct fiscal_receptor *out, bool *found, struct err *e)
{
	struct db_rows *rows = NULL;
	int rc = db_query(c, sql, p, np, &rows, e);

	if (rc)
		return rc;
	*found = db_rows_count(rows) > 0;
	if (*found)
		rc = receptor_decode(keys, rows, 0, a, out, e);
	db_rows_free(rows);
	return rc;
}

int fiscal__receptor_find(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const char *bidx,
			  struct arena *a, struct fiscal_receptor *out, bool *found, struct err *e)
{
	char sql[512];
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(bidx)};

	snprintf(sql, sizeof(sql), "SELECT %s FROM fiscal_receptores WHERE tenant_id = ? AND num_documento_bidx = ?",
		 receptor_cols);
	return receptor_query_one(c, keys, sql, p, NP(p), a, out, found, e);
}

int fiscal__receptor_get(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const char *id,
			 struct arena *a, struct fiscal_receptor *out, struct err *e)
{
	char sql[512];
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	bool found = false;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM fiscal_receptores WHERE tenant_id = ? AND id = ?", receptor_cols);
	rc = receptor_query_one(c, keys, sql, p, NP(p), a, out, &found, e);
	if (rc == 0 && !found)
		rc = err_set(e, ERR_NOT_FOUND, "id", "receptor not found");
	return rc;
}

int fiscal__receptor_by_patient(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
				const char *patient_id, struct arena *a, struct fiscal_receptor *out, bool *found,
				struct err *e)
{
	char sql[512];
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(patient_id)};

	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM fiscal_receptores WHERE tenant_id = ? AND patient_id = ? "
		 "ORDER BY updated_at DESC, id DESC LIMIT 1",
		 receptor_cols);
	return receptor_query_one(c, keys, sql, p, NP(p), a, out, found, e);
}

/* The encrypted form of the secret columns of a receptor. */
struct receptor_enc {
	char *doc, *nrc, *tel, *correo, *dir; /* owned */
};

static void receptor_enc_release(struct receptor_enc *x)
{
	free(x->doc);
	free(x->nrc);
	free(x->tel);
	free(x->correo);
	free(x->dir);
	memset(x, 0, sizeof(*x));
}

static int receptor_encrypt(const struct app_keys *keys, const struct fiscal_receptor *r, struct receptor_enc *x,
			    struct err *e)
{
	int rc;

	memset(x, 0, sizeof(*x));
	if ((rc = field_encrypt(keys->data_enc, r->id, r->num_documento, &x->doc, e)) ||
	    (rc = field_encrypt(keys->data_enc, r->id, nz(r->nrc), &x->nrc, e)) ||
	    (rc = field_encrypt(keys->data_enc, r->id, nz(r->telefono), &x->tel, e)) ||
	    (rc = field_encrypt(keys->data_enc, r->id, nz(r->correo), &x->correo, e))) {
		receptor_enc_release(x);
		return rc;
	}
	x->dir = direccion_json(r);
	return 0;
}

int fiscal__receptor_insert(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
			    const struct fiscal_receptor *r, const char *bidx, const char *created_by, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO fiscal_receptores (id, tenant_id, tipo_documento, num_documento_enc, num_documento_bidx, "
	    "nrc_enc, nombre, cod_actividad, desc_actividad, direccion_json, telefono_enc, correo_enc, patient_id, "
	    "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	struct receptor_enc x;
	int rc = receptor_encrypt(keys, r, &x, e);

	if (rc)
		return rc;
	struct db_param p[] = {
	    DBP_TEXT(r->id),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(r->tipo_documento),
	    DBP_TEXT(x.doc),
	    DBP_TEXT(bidx),
	    DBP_TEXT(x.nrc),
	    DBP_TEXT(r->nombre),
	    DBP_TEXT(nz(r->cod_actividad)),
	    DBP_TEXT(nz(r->desc_actividad)),
	    DBP_TEXT(x.dir),
	    DBP_TEXT(x.tel),
	    DBP_TEXT(x.correo),
	    DBP_TEXT(nz(r->patient_id)),
	    DBP_TEXT(created_by),
	    DBP_TEXT(r->created_at),
	    DBP_TEXT(r->updated_at),
	};
	rc = db_exec(c, sql, p, NP(p), NULL, e);
	receptor_enc_release(&x);
	return rc;
}

int fiscal__receptor_update(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
			    const struct fiscal_receptor *r, struct err *e)
{
	static const char sql[] =
	    "UPDATE fiscal_receptores SET num_documento_enc = ?, nrc_enc = ?, nombre = ?, cod_actividad = ?, "
	    "desc_actividad = ?, direccion_json = ?, telefono_enc = ?, correo_enc = ?, patient_id = ?, "
	    "updated_at = ?, version = version + 1 WHERE tenant_id = ? AND id = ?";
	struct receptor_enc x;
	int64_t affected = 0;
	int rc = receptor_encrypt(keys, r, &x, e);

	if (rc)
		return rc;
	struct db_param p[] = {
	    DBP_TEXT(x.doc),
	    DBP_TEXT(x.nrc),
	    DBP_TEXT(r->nombre),
	    DBP_TEXT(nz(r->cod_actividad)),
	    DBP_TEXT(nz(r->desc_actividad)),
	    DBP_TEXT(x.dir),
	    DBP_TEXT(x.tel),
	    DBP_TEXT(x.correo),
	    DBP_TEXT(nz(r->patient_id)),
	    DBP_TEXT(r->updated_at),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(r->id),
	};
	rc = db_exec(c, sql, p, NP(p), &affected, e);
	receptor_enc_release(&x);
	if (rc == 0 && affected == 0)
		rc = err_set(e, ERR_NOT_FOUND, "id", "receptor not found");
	return rc;
}

#define LIST_MAX_BIDX 8

int fiscal__receptor_list(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
			  const char *const *bidx, size_t nbidx, int64_t offset, int limit, struct arena *a,
			  struct fiscal_receptor **out, size_t *n, int64_t *total, struct err *e)
{
	struct db_param p[LIST_MAX_BIDX + 3];
	struct db_rows *rows = NULL;
	char where[512], sql[1024];
	size_t np = 0, len;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (nbidx > LIST_MAX_BIDX)
		return err_set(e, ERR_INTERNAL, NULL, "too many document forms");
	p[np++] = DBP_TEXT(tenant_id);
	len = (size_t)snprintf(where, sizeof(where), " WHERE tenant_id = ?");
	if (bidx) {
		if (nbidx == 0)
			return 0; /* no canonical form: nothing can match */
		len += (size_t)snprintf(where + len, sizeof(where) - len, " AND num_documento_bidx IN (");
		for (size_t i = 0; i < nbidx; i++) {
			len += (size_t)snprintf(where + len, sizeof(where) - len, "%s?", i ? ", " : "");
			p[np++] = DBP_TEXT(bidx[i]);
		}
		snprintf(where + len, sizeof(where) - len, ")");
	}
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM fiscal_receptores%s", where);
	rc = db_query_int(c, sql, p, np, total, e);
	if (rc || *total == 0)
		return rc;
	p[np++] = DBP_INT(limit);
	p[np++] = DBP_INT(offset);
	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM fiscal_receptores%s ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", receptor_cols,
		 where);
	rc = db_query(c, sql, p, np, &rows, e);
	if (rc)
		return rc;
	*n = db_rows_count(rows);
	*out = arena_alloc(a, (*n ? *n : 1) * sizeof(**out));
	for (size_t i = 0; i < *n && rc == 0; i++)
		rc = receptor_decode(keys, rows, i, a, &(*out)[i], e);
	db_rows_free(rows);
	return rc;
}

/* ---- facturas ---- */

static const char factura_cols[] =
    "document_id, referencia_externa, fingerprint, receptor_id, tipo_dte, codigo_generacion, numero_control, "
    "estado, sello, fh_procesamiento, codigo_msg, descripcion_msg, observaciones_json, estado_at, created_at";
enum {
	F_DOC,
	F_REF,
	F_FP,
	F_RECEPTOR,
	F_TIPO,
	F_CODIGO,
	F_NUMERO,
	F_ESTADO,
	F_SELLO,
	F_FH,
	F_CMSG,
	F_DMSG,
	F_OBS,
	F_ESTADO_AT,
	F_CREATED
};

static void factura_decode(const struct db_rows *rows, size_t i, struct arena *a, struct fiscal__factura_row *o)
{
	memset(o, 0, sizeof(*o));
	copy_fixed(o->document_id, sizeof(o->document_id), db_rows_text(rows, i, F_DOC));
	o->referencia_externa = text_at(a, rows, i, F_REF);
	o->fingerprint = text_at(a, rows, i, F_FP);
	copy_fixed(o->receptor_id, sizeof(o->receptor_id), db_rows_text(rows, i, F_RECEPTOR));
	o->tipo_dte = text_at(a, rows, i, F_TIPO);
	o->codigo_generacion = text_at(a, rows, i, F_CODIGO);
	o->numero_control = text_at(a, rows, i, F_NUMERO);
	o->estado = text_at(a, rows, i, F_ESTADO);
	o->sello = text_at(a, rows, i, F_SELLO);
	o->fh_procesamiento = text_at(a, rows, i, F_FH);
	o->codigo_msg = text_at(a, rows, i, F_CMSG);
	o->descripcion_msg = text_at(a, rows, i, F_DMSG);
	o->observaciones_json = text_at(a, rows, i, F_OBS);
	o->estado_at = text_at(a, rows, i, F_ESTADO_AT);
	o->created_at = text_at(a, rows, i, F_CREATED);
}

int fiscal__factura_insert(struct db_conn *c, const char *tenant_id, const struct fiscal__factura_row *r,
			   const char *created_by, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO fiscal_facturas (document_id, tenant_id, referencia_externa, fingerprint, receptor_id, "
	    "tipo_dte, codigo_generacion, numero_control, estado, sello, fh_procesamiento, codigo_msg, "
	    "descripcion_msg, observaciones_json, estado_at, created_by, created_at, updated_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	struct db_param p[] = {
	    DBP_TEXT(r->document_id),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(r->referencia_externa),
	    DBP_TEXT(r->fingerprint),
	    DBP_TEXT(nz(r->receptor_id)),
	    DBP_TEXT(r->tipo_dte),
	    DBP_TEXT(r->codigo_generacion),
	    DBP_TEXT(r->numero_control),
	    DBP_TEXT(r->estado),
	    DBP_TEXT(r->sello),
	    DBP_TEXT(r->fh_procesamiento),
	    DBP_TEXT(r->codigo_msg),
	    DBP_TEXT(r->descripcion_msg),
	    DBP_TEXT(r->observaciones_json),
	    DBP_TEXT(r->estado_at),
	    DBP_TEXT(created_by),
	    DBP_TEXT(r->created_at),
	    DBP_TEXT(r->created_at),
	};
	int rc = db_exec(c, sql, p, NP(p), NULL, e);

	if (rc == ERR_CONFLICT)
		err_set(e, ERR_CONFLICT, "referenciaExterna", "a factura with this referenciaExterna exists");
	return rc;
}

int fiscal__factura_get(struct db_conn *c, const char *tenant_id, const char *key, bool by_ref, struct arena *a,
			struct fiscal__factura_row *out, struct err *e)
{
	char sql[512];
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(key)};
	struct db_rows *rows = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM fiscal_facturas WHERE tenant_id = ? AND %s = ?", factura_cols,
		 by_ref ? "referencia_externa" : "document_id");
	rc = db_query(c, sql, p, NP(p), &rows, e);
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = err_set(e, ERR_NOT_FOUND, by_ref ? "referenciaExterna" : "id", "factura not found");
	else
		factura_decode(rows, 0, a, out);
	db_rows_free(rows);
	return rc;
}

int fiscal__factura_list(struct db_conn *c, const char *tenant_id, const char *ref, const char *estado, int64_t offset,
			 int limit, struct arena *a, struct fiscal__factura_row **out, size_t *n, int64_t *total,
			 struct err *e)
{
	struct db_param p[5];
	struct db_rows *rows = NULL;
	char where[256], sql[1024];
	size_t np = 0, len;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	p[np++] = DBP_TEXT(tenant_id);
	len = (size_t)snprintf(where, sizeof(where), " WHERE tenant_id = ?");
	if (ref) {
		len += (size_t)snprintf(where + len, sizeof(where) - len, " AND referencia_externa = ?");
		p[np++] = DBP_TEXT(ref);
	}
	if (estado) {
		snprintf(where + len, sizeof(where) - len, " AND estado = ?");
		p[np++] = DBP_TEXT(estado);
	}
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM fiscal_facturas%s", where);
	rc = db_query_int(c, sql, p, np, total, e);
	if (rc || *total == 0)
		return rc;
	p[np++] = DBP_INT(limit);
	p[np++] = DBP_INT(offset);
	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM fiscal_facturas%s ORDER BY created_at DESC, document_id DESC LIMIT ? OFFSET ?",
		 factura_cols, where);
	rc = db_query(c, sql, p, np, &rows, e);
	if (rc)
		return rc;
	*n = db_rows_count(rows);
	*out = arena_alloc(a, (*n ? *n : 1) * sizeof(**out));
	for (size_t i = 0; i < *n; i++)
		factura_decode(rows, i, a, &(*out)[i]);
	db_rows_free(rows);
	return 0;
}

int fiscal__factura_set_state(struct db_conn *c, const char *tenant_id, const struct dte_record *d, const char *estado,
			      const char *now, int64_t *affected, struct err *e)
{
	static const char sql[] =
	    "UPDATE fiscal_facturas SET tipo_dte = ?, codigo_generacion = ?, numero_control = ?, estado = ?, "
	    "sello = ?, fh_procesamiento = ?, codigo_msg = ?, descripcion_msg = ?, observaciones_json = ?, "
	    "estado_at = ?, updated_at = ? WHERE tenant_id = ? AND document_id = ?";
	struct db_param p[] = {
	    DBP_TEXT(nz(d->tipo_dte)),
	    DBP_TEXT(d->codigo_generacion),
	    DBP_TEXT(nz(d->numero_control)),
	    DBP_TEXT(estado),
	    DBP_TEXT(nz(d->sello)),
	    DBP_TEXT(nz(d->fh_procesamiento)),
	    DBP_TEXT(d->codigo_msg),
	    DBP_TEXT(d->descripcion_msg),
	    DBP_TEXT(d->observaciones),
	    DBP_TEXT(now),
	    DBP_TEXT(now),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(d->document_id),
	};

	return db_exec(c, sql, p, NP(p), affected, e);
}

/* ---- webhook endpoints ---- */

static const char endpoint_cols[] = "id, url, description, events_json, active, created_at, updated_at, secret_enc";
enum { E_ID, E_URL, E_DESC, E_EVENTS, E_ACTIVE, E_CREATED, E_UPDATED, E_SECRET };

static void endpoint_decode(const struct db_rows *rows, size_t i, struct arena *a, struct fiscal_endpoint *o)
{
	json_t *ev = json_loads(db_rows_text(rows, i, E_EVENTS) ? db_rows_text(rows, i, E_EVENTS) : "[]", 0, NULL);
	size_t k, nev = json_is_array(ev) ? json_array_size(ev) : 0;

	memset(o, 0, sizeof(*o));
	copy_fixed(o->id, sizeof(o->id), db_rows_text(rows, i, E_ID));
	o->url = text_at(a, rows, i, E_URL);
	o->description = text_at(a, rows, i, E_DESC);
	o->active = db_rows_int(rows, i, E_ACTIVE) != 0;
	copy_fixed(o->created_at, sizeof(o->created_at), db_rows_text(rows, i, E_CREATED));
	copy_fixed(o->updated_at, sizeof(o->updated_at), db_rows_text(rows, i, E_UPDATED));
	o->events = arena_alloc(a, (nev ? nev : 1) * sizeof(*o->events));
	for (k = 0; k < nev; k++) {
		const char *s = json_string_value(json_array_get(ev, k));

		if (s)
			o->events[o->nevents++] = arena_strdup(a, s);
	}
	json_decref(ev);
}

int fiscal__endpoint_insert(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
			    const struct fiscal_endpoint *ep, const char *events_json, const char *secret,
			    const char *created_by, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO webhook_endpoints (id, tenant_id, url, description, events_json, secret_enc, active, "
	    "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)";
	char *enc = NULL;
	int rc = field_encrypt(keys->data_enc, ep->id, secret, &enc, e);

	if (rc)
		return rc;
	struct db_param p[] = {
	    DBP_TEXT(ep->id),	       DBP_TEXT(tenant_id),	 DBP_TEXT(ep->url),
	    DBP_TEXT(ep->description), DBP_TEXT(events_json),	 DBP_TEXT(enc),
	    DBP_TEXT(created_by),      DBP_TEXT(ep->created_at), DBP_TEXT(ep->updated_at),
	};
	rc = db_exec(c, sql, p, NP(p), NULL, e);
	free(enc);
	return rc;
}

int fiscal__endpoint_count_active(struct db_conn *c, const char *tenant_id, int64_t *n, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(tenant_id)};

	return db_query_int(c, "SELECT COUNT(*) FROM webhook_endpoints WHERE tenant_id = ? AND active = 1", p, NP(p), n,
			    e);
}

int fiscal__endpoint_list(struct db_conn *c, const char *tenant_id, struct arena *a, struct fiscal_endpoint **out,
			  size_t *n, struct err *e)
{
	char sql[512];
	struct db_param p[] = {DBP_TEXT(tenant_id)};
	struct db_rows *rows = NULL;
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM webhook_endpoints WHERE tenant_id = ? AND active = 1 ORDER BY created_at, id",
		 endpoint_cols);
	rc = db_query(c, sql, p, NP(p), &rows, e);
	if (rc)
		return rc;
	*n = db_rows_count(rows);
	*out = arena_alloc(a, (*n ? *n : 1) * sizeof(**out));
	for (size_t i = 0; i < *n; i++)
		endpoint_decode(rows, i, a, &(*out)[i]);
	db_rows_free(rows);
	return 0;
}

int fiscal__endpoint_get(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const char *id,
			 bool with_secret, struct arena *a, struct fiscal_endpoint *out, struct err *e)
{
	char sql[512];
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	struct db_rows *rows = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM webhook_endpoints WHERE tenant_id = ? AND id = ?", endpoint_cols);
	rc = db_query(c, sql, p, NP(p), &rows, e);
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, "id", "webhook endpoint not found");
	} else {
		endpoint_decode(rows, 0, a, out);
		if (with_secret)
			rc = decrypt_to(keys, out->id, db_rows_text(rows, 0, E_SECRET), a, &out->secret, e);
	}
	db_rows_free(rows);
	return rc;
}

int fiscal__endpoint_deactivate(struct db_conn *c, const char *tenant_id, const char *id, const char *now,
				int64_t *affected, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(now), DBP_TEXT(now), DBP_TEXT(tenant_id), DBP_TEXT(id)};

	return db_exec(c,
		       "UPDATE webhook_endpoints SET active = 0, deleted_at = ?, updated_at = ? "
		       "WHERE tenant_id = ? AND id = ? AND active = 1",
		       p, NP(p), affected, e);
}

/* ---- events ---- */

int fiscal__event_insert(struct db_conn *c, const char *tenant_id, const char *id, const char *type,
			 const char *payload, const char *now, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(id), DBP_TEXT(tenant_id), DBP_TEXT(type), DBP_TEXT(payload), DBP_TEXT(now)};

	return db_exec(c,
		       "INSERT INTO webhook_events (id, tenant_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
		       p, NP(p), NULL, e);
}

int fiscal__event_get(struct db_conn *c, const char *tenant_id, const char *id, struct arena *a, const char **type,
		      const char **payload, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	struct db_rows *rows = NULL;
	int rc =
	    db_query(c, "SELECT type, payload FROM webhook_events WHERE tenant_id = ? AND id = ?", p, NP(p), &rows, e);

	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, "eventId", "webhook event not found");
	} else {
		*type = text_at(a, rows, 0, 0);
		*payload = text_at(a, rows, 0, 1);
	}
	db_rows_free(rows);
	return rc;
}

/* ---- deliveries ---- */

int fiscal__delivery_insert(struct db_conn *c, const char *tenant_id, const char *endpoint_id,
			    const struct fiscal_delivery *d, const char *job_id, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, delivery_id, event_id, event_type, attempt, "
	    "status_code, duration_ms, error, outcome, next_retry_at, job_id, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	struct db_param p[] = {
	    DBP_TEXT(d->id),	     DBP_TEXT(tenant_id),
	    DBP_TEXT(endpoint_id),   DBP_TEXT(d->delivery_id),
	    DBP_TEXT(d->event_id),   DBP_TEXT(d->event_type),
	    DBP_INT(d->attempt),     d->status_code > 0 ? DBP_INT(d->status_code) : DBP_NULL,
	    DBP_INT(d->duration_ms), DBP_TEXT(d->error),
	    DBP_TEXT(d->outcome),    DBP_TEXT(nz(d->next_retry_at)),
	    DBP_TEXT(job_id),	     DBP_TEXT(d->created_at),
	};

	return db_exec(c, sql, p, NP(p), NULL, e);
}

int fiscal__delivery_logged(struct db_conn *c, const char *tenant_id, const char *delivery_id, int attempt,
			    bool *logged, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(delivery_id), DBP_INT(attempt)};
	int64_t n = 0;
	int rc = db_query_int(c,
			      "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ? AND delivery_id = ? AND "
			      "attempt = ?",
			      p, NP(p), &n, e);

	*logged = n > 0;
	return rc;
}

static const char delivery_cols[] = "id, delivery_id, event_id, event_type, attempt, status_code, duration_ms, "
				    "error, outcome, next_retry_at, created_at";

int fiscal__delivery_list(struct db_conn *c, const char *tenant_id, const char *endpoint_id, int64_t offset, int limit,
			  struct arena *a, struct fiscal_delivery **out, size_t *n, int64_t *total, struct err *e)
{
	char sql[512];
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(endpoint_id), DBP_INT(limit), DBP_INT(offset)};
	struct db_rows *rows = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	rc = db_query_int(c, "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ?", p, 2,
			  total, e);
	if (rc || *total == 0)
		return rc;
	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ? "
		 "ORDER BY created_at DESC, attempt DESC, id DESC LIMIT ? OFFSET ?",
		 delivery_cols);
	rc = db_query(c, sql, p, NP(p), &rows, e);
	if (rc)
		return rc;
	*n = db_rows_count(rows);
	*out = arena_alloc(a, (*n ? *n : 1) * sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		struct fiscal_delivery *d = &(*out)[i];

		copy_fixed(d->id, sizeof(d->id), db_rows_text(rows, i, 0));
		copy_fixed(d->delivery_id, sizeof(d->delivery_id), db_rows_text(rows, i, 1));
		copy_fixed(d->event_id, sizeof(d->event_id), db_rows_text(rows, i, 2));
		d->event_type = text_at(a, rows, i, 3);
		d->attempt = (int)db_rows_int(rows, i, 4);
		d->status_code = (long)db_rows_int(rows, i, 5);
		d->duration_ms = db_rows_int(rows, i, 6);
		d->error = text_at(a, rows, i, 7);
		d->outcome = text_at(a, rows, i, 8);
		copy_fixed(d->next_retry_at, sizeof(d->next_retry_at), db_rows_text(rows, i, 9));
		copy_fixed(d->created_at, sizeof(d->created_at), db_rows_text(rows, i, 10));
	}
	db_rows_free(rows);
	return 0;
}
