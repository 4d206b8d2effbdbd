/*
 * dte_repo.c - the SQL of the DTE flow (dte_repo.h): rows of dtes,
 * dte_history, dte_events and dte_mh_tokens in the portable dialect of
 * db.h, bound parameters only, every statement scoped to a tenant except
 * the sweep's maintenance query.
 */
#include "mod/dte/dte_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/timeutil.h"

#define NP(a) DB_NPARAMS(a)

#define DTE_COLS                                                                                                   \
	"id, tenant_id, document_id, tipo_dte, version, ambiente, codigo_generacion, numero_control, fec_emi, "   \
	"hor_emi, status, tipo_modelo, tipo_operacion, tipo_contingencia, document_text, jws, normal_text, "      \
	"normal_jws, sello, fh_procesamiento, clasifica_msg, codigo_msg, descripcion_msg, observaciones, "        \
	"last_error, attempts, send_failures, sent, submit_gen, related_codigo, replaces, replaced_by, "          \
	"contingency_event_id, invalidation_event_id, total_cents, iva_cents, auto_submit, created_by, "          \
	"created_at, updated_at, issued_at, accepted_at, invalidated_at"

static void copy_text(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

static void decode(const struct db_rows *r, size_t i, struct arena *a, struct dte_record *d)
{
	int st;

	memset(d, 0, sizeof(*d));
	copy_text(d->id, sizeof(d->id), db_rows_text(r, i, 0));
	copy_text(d->tenant_id, sizeof(d->tenant_id), db_rows_text(r, i, 1));
	copy_text(d->document_id, sizeof(d->document_id), db_rows_text(r, i, 2));
	copy_text(d->tipo_dte, sizeof(d->tipo_dte), db_rows_text(r, i, 3));
	d->version = (int)db_rows_int(r, i, 4);
	copy_text(d->ambiente, sizeof(d->ambiente), db_rows_text(r, i, 5));
	copy_text(d->codigo_generacion, sizeof(d->codigo_generacion), db_rows_text(r, i, 6));
	copy_text(d->numero_control, sizeof(d->numero_control), db_rows_text(r, i, 7));
	copy_text(d->fec_emi, sizeof(d->fec_emi), db_rows_text(r, i, 8));
	copy_text(d->hor_emi, sizeof(d->hor_emi), db_rows_text(r, i, 9));
	st = dte_status_parse(db_rows_text(r, i, 10));
	d->status = st < 0 ? DTE_ST_ERROR : (enum dte_status)st;
	d->tipo_modelo = (int)db_rows_int(r, i, 11);
	d->tipo_operacion = (int)db_rows_int(r, i, 12);
	d->tipo_contingencia = (int)db_rows_int(r, i, 13);
	d->document_text = arena_strdup(a, db_rows_text(r, i, 14));
	d->jws = arena_strdup(a, db_rows_text(r, i, 15));
	d->normal_text = arena_strdup(a, db_rows_text(r, i, 16));
	d->normal_jws = arena_strdup(a, db_rows_text(r, i, 17));
	copy_text(d->sello, sizeof(d->sello), db_rows_text(r, i, 18));
	copy_text(d->fh_procesamiento, sizeof(d->fh_procesamiento), db_rows_text(r, i, 19));
	d->clasifica_msg = arena_strdup(a, db_rows_text(r, i, 20));
	d->codigo_msg = arena_strdup(a, db_rows_text(r, i, 21));
	d->descripcion_msg = arena_strdup(a, db_rows_text(r, i, 22));
	d->observaciones = arena_strdup(a, db_rows_text(r, i, 23));
	d->last_error = arena_strdup(a, db_rows_text(r, i, 24));
	d->attempts = (int)db_rows_int(r, i, 25);
	d->send_failures = (int)db_rows_int(r, i, 26);
	d->sent = db_rows_int(r, i, 27) != 0;
	d->submit_gen = (int)db_rows_int(r, i, 28);
	copy_text(d->related_codigo, sizeof(d->related_codigo), db_rows_text(r, i, 29));
	copy_text(d->replaces, sizeof(d->replaces), db_rows_text(r, i, 30));
	copy_text(d->replaced_by, sizeof(d->replaced_by), db_rows_text(r, i, 31));
	copy_text(d->contingency_event_id, sizeof(d->contingency_event_id), db_rows_text(r, i, 32));
	copy_text(d->invalidation_event_id, sizeof(d->invalidation_event_id), db_rows_text(r, i, 33));
	d->total_cents = db_rows_int(r, i, 34);
	d->iva_cents = db_rows_int(r, i, 35);
	d->auto_submit = db_rows_int(r, i, 36) != 0;
	copy_text(d->created_by, sizeof(d->created_by), db_rows_text(r, i, 37));
	copy_text(d->created_at, sizeof(d->created_at), db_rows_text(r, i, 38));
	copy_text(d->updated_at, sizeof(d->updated_at), db_rows_text(r, i, 39));
	copy_text(d->issued_at, sizeof(d->issued_at), db_rows_text(r, i, 40));
	copy_text(d->accepted_at, sizeof(d->accepted_at), db_rows_text(r, i, 41));
	copy_text(d->invalidated_at, sizeof(d->invalidated_at), db_rows_text(r, i, 42));
}

static int query_records(struct db_conn *c, const char *sql, const struct db_param *p, size_t np, struct arena *a,
			 struct dte_record **out, size_t *n, struct err *e)
{
	struct db_rows *rows = NULL;
	int rc = db_query(c, sql, p, np, &rows, e);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	*n = db_rows_count(rows);
	if (*n) {
		*out = arena_alloc(a, *n * sizeof(**out));
		for (size_t i = 0; i < *n; i++)
			decode(rows, i, a, &(*out)[i]);
	}
	db_rows_free(rows);
	return 0;
}

static int query_one(struct db_conn *c, const char *sql, const struct db_param *p, size_t np, struct arena *a,
		     struct dte_record **out, struct err *e)
{
	size_t n = 0;
	int rc = query_records(c, sql, p, np, a, out, &n, e);

	if (rc)
		return rc;
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "DTE not found");
	return 0;
}

/* The year a numeroControl belongs to (its sequence restarts every year). */
static void control_year(const struct dte_record *r, char out[5])
{
	out[0] = '\0';
	if (r->numero_control[0] && strlen(r->fec_emi) >= 4)
		snprintf(out, 5, "%.4s", r->fec_emi);
}

int dte__insert(struct db_conn *c, const struct dte_record *r, const char *tipo_requested, struct err *e)
{
	char year[5];
	int64_t row_seq = 0;
	int rc = dte__sequence_next(c, r->tenant_id, "dte-row", &row_seq, e);

	if (rc)
		return rc;
	control_year(r, year);
	const struct db_param p[] = {
	    DBP_TEXT(r->id),
	    DBP_TEXT(r->tenant_id),
	    DBP_TEXT(r->document_id),
	    DBP_TEXT(r->tipo_dte),
	    DBP_INT(r->version),
	    DBP_TEXT(r->ambiente),
	    DBP_TEXT(r->codigo_generacion),
	    DBP_TEXT(nz(r->numero_control)),
	    DBP_TEXT(nz(year)),
	    DBP_TEXT(nz(r->fec_emi)),
	    DBP_TEXT(nz(r->hor_emi)),
	    DBP_TEXT(dte_status_name(r->status)),
	    DBP_TEXT(tipo_requested),
	    DBP_INT(r->tipo_modelo),
	    DBP_INT(r->tipo_operacion),
	    DBP_INT(r->tipo_contingencia),
	    DBP_TEXT(r->document_text),
	    DBP_TEXT(r->jws),
	    DBP_TEXT(r->normal_text),
	    DBP_TEXT(r->normal_jws),
	    DBP_TEXT(nz(r->sello)),
	    DBP_TEXT(nz(r->fh_procesamiento)),
	    DBP_TEXT(r->clasifica_msg),
	    DBP_TEXT(r->codigo_msg),
	    DBP_TEXT(r->descripcion_msg),
	    DBP_TEXT(r->observaciones),
	    DBP_TEXT(r->last_error),
	    DBP_INT(r->attempts),
	    DBP_INT(r->send_failures),
	    DBP_INT(r->sent ? 1 : 0),
	    DBP_INT(r->submit_gen),
	    DBP_TEXT(nz(r->related_codigo)),
	    DBP_TEXT(nz(r->replaces)),
	    DBP_TEXT(nz(r->replaced_by)),
	    DBP_TEXT(nz(r->contingency_event_id)),
	    DBP_TEXT(nz(r->invalidation_event_id)),
	    DBP_INT(r->total_cents),
	    DBP_INT(r->iva_cents),
	    DBP_INT(r->auto_submit ? 1 : 0),
	    DBP_TEXT(nz(r->created_by)),
	    DBP_TEXT(r->created_at),
	    DBP_TEXT(r->updated_at),
	    DBP_TEXT(nz(r->issued_at)),
	    DBP_TEXT(nz(r->accepted_at)),
	    DBP_TEXT(nz(r->invalidated_at)),
	    DBP_INT(row_seq),
	};
	return db_exec(c,
		       "INSERT INTO dtes (id, tenant_id, document_id, tipo_dte, version, ambiente, codigo_generacion, "
		       "numero_control, control_year, fec_emi, hor_emi, status, tipo_requested, tipo_modelo, "
		       "tipo_operacion, tipo_contingencia, document_text, jws, normal_text, normal_jws, sello, "
		       "fh_procesamiento, clasifica_msg, codigo_msg, descripcion_msg, observaciones, last_error, "
		       "attempts, send_failures, sent, submit_gen, related_codigo, replaces, replaced_by, "
		       "contingency_event_id, invalidation_event_id, total_cents, iva_cents, auto_submit, created_by, "
		       "created_at, updated_at, issued_at, accepted_at, invalidated_at, row_seq) VALUES (?, ?, ?, ?, ?, "
		       "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		       "?, ?, ?, ?, ?, ?, ?, ?)",
		       p, NP(p), NULL, e);
}

int dte__update(struct db_conn *c, const struct dte_record *r, struct err *e)
{
	char year[5];
	int64_t affected = 0;
	int rc;

	control_year(r, year);
	const struct db_param p[] = {
	    DBP_TEXT(r->tipo_dte),
	    DBP_INT(r->version),
	    DBP_TEXT(nz(r->numero_control)),
	    DBP_TEXT(nz(year)),
	    DBP_TEXT(nz(r->fec_emi)),
	    DBP_TEXT(nz(r->hor_emi)),
	    DBP_TEXT(dte_status_name(r->status)),
	    DBP_INT(r->tipo_modelo),
	    DBP_INT(r->tipo_operacion),
	    DBP_INT(r->tipo_contingencia),
	    DBP_TEXT(r->document_text),
	    DBP_TEXT(r->jws),
	    DBP_TEXT(r->normal_text),
	    DBP_TEXT(r->normal_jws),
	    DBP_TEXT(nz(r->sello)),
	    DBP_TEXT(nz(r->fh_procesamiento)),
	    DBP_TEXT(r->clasifica_msg),
	    DBP_TEXT(r->codigo_msg),
	    DBP_TEXT(r->descripcion_msg),
	    DBP_TEXT(r->observaciones),
	    DBP_TEXT(r->last_error),
	    DBP_INT(r->attempts),
	    DBP_INT(r->send_failures),
	    DBP_INT(r->sent ? 1 : 0),
	    DBP_INT(r->submit_gen),
	    DBP_TEXT(nz(r->replaced_by)),
	    DBP_TEXT(nz(r->contingency_event_id)),
	    DBP_TEXT(nz(r->invalidation_event_id)),
	    DBP_INT(r->total_cents),
	    DBP_INT(r->iva_cents),
	    DBP_TEXT(r->updated_at),
	    DBP_TEXT(nz(r->issued_at)),
	    DBP_TEXT(nz(r->accepted_at)),
	    DBP_TEXT(nz(r->invalidated_at)),
	    DBP_TEXT(r->tenant_id),
	    DBP_TEXT(r->id),
	};
	rc = db_exec(c,
		     "UPDATE dtes SET tipo_dte = ?, version = ?, numero_control = ?, control_year = ?, fec_emi = ?, "
		     "hor_emi = ?, status = ?, tipo_modelo = ?, tipo_operacion = ?, tipo_contingencia = ?, "
		     "document_text = ?, jws = ?, normal_text = ?, normal_jws = ?, sello = ?, fh_procesamiento = ?, "
		     "clasifica_msg = ?, codigo_msg = ?, descripcion_msg = ?, observaciones = ?, last_error = ?, "
		     "attempts = ?, send_failures = ?, sent = ?, submit_gen = ?, replaced_by = ?, "
		     "contingency_event_id = ?, invalidation_event_id = ?, total_cents = ?, iva_cents = ?, "
		     "updated_at = ?, issued_at = ?, accepted_at = ?, invalidated_at = ? WHERE tenant_id = ? AND id = ?",
		     p, NP(p), &affected, e);
	if (rc == 0 && affected == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "DTE not found");
	return rc;
}

static const char *lock_suffix(struct db_conn *c, bool for_update)
{
	return for_update && db_conn_backend(c) == DB_PGSQL ? " FOR UPDATE" : "";
}

int dte__get(struct db_conn *c, const char *tenant_id, enum dte_lookup by, const char *key, bool for_update,
	     struct arena *a, struct dte_record **out, struct err *e)
{
	char sql[1024];
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(key)};

	snprintf(sql, sizeof(sql), "SELECT " DTE_COLS " FROM dtes WHERE tenant_id = ? AND %s = ?%s",
		 by == DTE_BY_ID ? "id" : "codigo_generacion", lock_suffix(c, for_update));
	return query_one(c, sql, p, NP(p), a, out, e);
}

int dte__tipo_requested(struct db_conn *c, const char *tenant_id, const char *id, struct arena *a, const char **out,
			struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	struct db_rows *rows = NULL;
	int rc = db_query(c, "SELECT tipo_requested FROM dtes WHERE tenant_id = ? AND id = ?", p, NP(p), &rows, e);

	*out = NULL;
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "DTE not found");
	else
		*out = arena_strdup(a, db_rows_text(rows, 0, 0));
	db_rows_free(rows);
	return rc;
}

int dte__current(struct db_conn *c, const char *tenant_id, const char *document_id, bool for_update,
		 struct arena *a, struct dte_record **out, struct err *e)
{
	char sql[1024];
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(document_id)};

	snprintf(sql, sizeof(sql),
		 "SELECT " DTE_COLS " FROM dtes WHERE tenant_id = ? AND document_id = ? AND replaced_by IS NULL "
		 "ORDER BY row_seq DESC LIMIT 1%s",
		 lock_suffix(c, for_update));
	return query_one(c, sql, p, NP(p), a, out, e);
}

int dte__list_document(struct db_conn *c, const char *tenant_id, const char *document_id, struct arena *a,
		       struct dte_record **out, size_t *n, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(document_id)};

	return query_records(c,
			     "SELECT " DTE_COLS " FROM dtes WHERE tenant_id = ? AND document_id = ? "
			     "ORDER BY row_seq LIMIT 1000",
			     p, NP(p), a, out, n, e);
}

int dte__document_has_dte(struct db_conn *c, const char *tenant_id, const char *document_id, bool *has,
			  struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(document_id)};
	int64_t n = 0;
	int rc = db_query_int(c, "SELECT COUNT(*) FROM dtes WHERE tenant_id = ? AND document_id = ?", p, NP(p), &n, e);

	*has = rc == 0 && n > 0;
	return rc;
}

int dte__list_related(struct db_conn *c, const char *tenant_id, const char *codigo, const char *const *statuses,
		      struct arena *a, struct dte_record **out, size_t *n, struct err *e)
{
	struct db_param p[16];
	size_t np = 0;
	char sql[2048];
	size_t len;

	p[np++] = DBP_TEXT(tenant_id);
	p[np++] = DBP_TEXT(codigo);
	len = (size_t)snprintf(sql, sizeof(sql),
			       "SELECT " DTE_COLS " FROM dtes WHERE tenant_id = ? AND related_codigo = ? AND status IN (");
	for (size_t i = 0; statuses[i] && np < 15; i++) {
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s?", i ? ", " : "");
		p[np++] = DBP_TEXT(statuses[i]);
	}
	snprintf(sql + len, sizeof(sql) - len, ") ORDER BY row_seq LIMIT 1000");
	return query_records(c, sql, p, np, a, out, n, e);
}

int dte__list_event_members(struct db_conn *c, const char *tenant_id, const char *event_id, struct arena *a,
			    struct dte_record **out, size_t *n, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(event_id)};

	return query_records(c,
			     "SELECT " DTE_COLS " FROM dtes WHERE tenant_id = ? AND contingency_event_id = ? "
			     "ORDER BY fec_emi, hor_emi, id LIMIT 1000",
			     p, NP(p), a, out, n, e);
}

int dte__sequence_next(struct db_conn *c, const char *tenant_id, const char *name, int64_t *value, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(name)};

	return db_query_int(c,
			    "INSERT INTO sequences (tenant_id, name, next_value) VALUES (?, ?, 1) "
			    "ON CONFLICT (tenant_id, name) DO UPDATE SET next_value = sequences.next_value + 1 "
			    "RETURNING next_value",
			    p, NP(p), value, e);
}

int dte__job_alive(struct db_conn *c, const char *dedupe_key, bool *alive, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(dedupe_key)};
	int64_t n = 0;
	int rc = db_query_int(c,
			      "SELECT COUNT(*) FROM jobs WHERE dedupe_key = ? AND state IN ('queued', 'running', "
			      "'failed')",
			      p, NP(p), &n, e);

	*alive = rc == 0 && n > 0;
	return rc;
}

/* ---- history ---- */

int dte__history_add(struct db_conn *c, const char *tenant_id, const char *dte_id, const char *from, const char *to,
		     const char *note, const char *actor, struct err *e)
{
	char id[UUID_LEN + 1], now[TIME_ISO_LEN + 1];
	int64_t n = 0;
	int rc;
	const struct db_param q[] = {DBP_TEXT(tenant_id), DBP_TEXT(dte_id)};

	rc = db_query_int(c, "SELECT COALESCE(MAX(n), 0) FROM dte_history WHERE tenant_id = ? AND dte_id = ?", q,
			  NP(q), &n, e);
	if (rc)
		return rc;
	uuid_v4(id);
	time_now_iso(now);
	const struct db_param p[] = {DBP_TEXT(id),   DBP_TEXT(tenant_id), DBP_TEXT(dte_id), DBP_INT(n + 1),
				     DBP_TEXT(now),  DBP_TEXT(from),	  DBP_TEXT(to),	    DBP_TEXT(note),
				     DBP_TEXT(actor)};
	return db_exec(c,
		       "INSERT INTO dte_history (id, tenant_id, dte_id, n, at, from_status, to_status, note, actor) "
		       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       p, NP(p), NULL, e);
}

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int dte__history_json(struct db_conn *c, const char *tenant_id, const char *dte_id, json_t **out, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(dte_id)};
	struct db_rows *rows = NULL;
	int rc = db_query(c,
			  "SELECT at, from_status, to_status, note, actor FROM dte_history WHERE tenant_id = ? AND "
			  "dte_id = ? ORDER BY n LIMIT 1000",
			  p, NP(p), &rows, e);

	*out = NULL;
	if (rc)
		return rc;
	*out = json_array();
	for (size_t i = 0; i < db_rows_count(rows); i++)
		json_array_append_new(*out, json_pack("{s:o, s:o, s:o, s:o, s:o}", "at",
						      text_or_null(db_rows_text(rows, i, 0)), "from",
						      text_or_null(db_rows_text(rows, i, 1)), "to",
						      text_or_null(db_rows_text(rows, i, 2)), "note",
						      text_or_null(db_rows_text(rows, i, 3)), "actor",
						      text_or_null(db_rows_text(rows, i, 4))));
	db_rows_free(rows);
	return 0;
}

/* ---- events ---- */

#define EV_COLS                                                                                                  \
	"id, tenant_id, kind, status, codigo_generacion, dte_id, event_text, jws, f_inicio, h_inicio, f_fin, "  \
	"h_fin, tipo_anulacion, codigo_generacion_r, sello, fh_procesamiento, codigo_msg, descripcion_msg, "    \
	"observaciones, attempts, last_error, created_by, created_at, updated_at"

static void decode_event(const struct db_rows *r, size_t i, struct arena *a, struct dte_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	copy_text(ev->id, sizeof(ev->id), db_rows_text(r, i, 0));
	copy_text(ev->tenant_id, sizeof(ev->tenant_id), db_rows_text(r, i, 1));
	copy_text(ev->kind, sizeof(ev->kind), db_rows_text(r, i, 2));
	copy_text(ev->status, sizeof(ev->status), db_rows_text(r, i, 3));
	copy_text(ev->codigo_generacion, sizeof(ev->codigo_generacion), db_rows_text(r, i, 4));
	copy_text(ev->dte_id, sizeof(ev->dte_id), db_rows_text(r, i, 5));
	ev->event_text = arena_strdup(a, db_rows_text(r, i, 6));
	ev->jws = arena_strdup(a, db_rows_text(r, i, 7));
	copy_text(ev->f_inicio, sizeof(ev->f_inicio), db_rows_text(r, i, 8));
	copy_text(ev->h_inicio, sizeof(ev->h_inicio), db_rows_text(r, i, 9));
	copy_text(ev->f_fin, sizeof(ev->f_fin), db_rows_text(r, i, 10));
	copy_text(ev->h_fin, sizeof(ev->h_fin), db_rows_text(r, i, 11));
	ev->tipo_anulacion = (int)db_rows_int(r, i, 12);
	copy_text(ev->codigo_generacion_r, sizeof(ev->codigo_generacion_r), db_rows_text(r, i, 13));
	copy_text(ev->sello, sizeof(ev->sello), db_rows_text(r, i, 14));
	ev->fh_procesamiento = arena_strdup(a, db_rows_text(r, i, 15));
	ev->codigo_msg = arena_strdup(a, db_rows_text(r, i, 16));
	ev->descripcion_msg = arena_strdup(a, db_rows_text(r, i, 17));
	ev->observaciones = arena_strdup(a, db_rows_text(r, i, 18));
	ev->attempts = (int)db_rows_int(r, i, 19);
	ev->last_error = arena_strdup(a, db_rows_text(r, i, 20));
	copy_text(ev->created_by, sizeof(ev->created_by), db_rows_text(r, i, 21));
	copy_text(ev->created_at, sizeof(ev->created_at), db_rows_text(r, i, 22));
	copy_text(ev->updated_at, sizeof(ev->updated_at), db_rows_text(r, i, 23));
}

int dte__event_insert(struct db_conn *c, const struct dte_event *ev, struct err *e)
{
	const struct db_param p[] = {
	    DBP_TEXT(ev->id),
	    DBP_TEXT(ev->tenant_id),
	    DBP_TEXT(ev->kind),
	    DBP_TEXT(ev->status),
	    DBP_TEXT(nz(ev->codigo_generacion)),
	    DBP_TEXT(nz(ev->dte_id)),
	    DBP_TEXT(ev->event_text),
	    DBP_TEXT(ev->jws),
	    DBP_TEXT(nz(ev->f_inicio)),
	    DBP_TEXT(nz(ev->h_inicio)),
	    DBP_TEXT(nz(ev->f_fin)),
	    DBP_TEXT(nz(ev->h_fin)),
	    ev->tipo_anulacion ? DBP_INT(ev->tipo_anulacion) : DBP_NULL,
	    DBP_TEXT(nz(ev->codigo_generacion_r)),
	    DBP_TEXT(nz(ev->sello)),
	    DBP_TEXT(ev->fh_procesamiento),
	    DBP_TEXT(ev->codigo_msg),
	    DBP_TEXT(ev->descripcion_msg),
	    DBP_TEXT(ev->observaciones),
	    DBP_INT(ev->attempts),
	    DBP_TEXT(ev->last_error),
	    DBP_TEXT(nz(ev->created_by)),
	    DBP_TEXT(ev->created_at),
	    DBP_TEXT(ev->updated_at),
	};
	return db_exec(c,
		       "INSERT INTO dte_events (" EV_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		       "?, ?, ?, ?, ?, ?, ?, ?)",
		       p, NP(p), NULL, e);
}

int dte__event_update(struct db_conn *c, const struct dte_event *ev, struct err *e)
{
	int64_t affected = 0;
	const struct db_param p[] = {
	    DBP_TEXT(ev->status),
	    DBP_TEXT(nz(ev->codigo_generacion)),
	    DBP_TEXT(ev->event_text),
	    DBP_TEXT(ev->jws),
	    DBP_TEXT(nz(ev->f_inicio)),
	    DBP_TEXT(nz(ev->h_inicio)),
	    DBP_TEXT(nz(ev->f_fin)),
	    DBP_TEXT(nz(ev->h_fin)),
	    DBP_TEXT(nz(ev->sello)),
	    DBP_TEXT(ev->fh_procesamiento),
	    DBP_TEXT(ev->codigo_msg),
	    DBP_TEXT(ev->descripcion_msg),
	    DBP_TEXT(ev->observaciones),
	    DBP_INT(ev->attempts),
	    DBP_TEXT(ev->last_error),
	    DBP_TEXT(ev->updated_at),
	    DBP_TEXT(ev->tenant_id),
	    DBP_TEXT(ev->id),
	};
	int rc = db_exec(c,
			 "UPDATE dte_events SET status = ?, codigo_generacion = ?, event_text = ?, jws = ?, "
			 "f_inicio = ?, h_inicio = ?, f_fin = ?, h_fin = ?, sello = ?, fh_procesamiento = ?, "
			 "codigo_msg = ?, descripcion_msg = ?, observaciones = ?, attempts = ?, last_error = ?, "
			 "updated_at = ? WHERE tenant_id = ? AND id = ?",
			 p, NP(p), &affected, e);

	if (rc == 0 && affected == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "event not found");
	return rc;
}

static int event_query(struct db_conn *c, const char *sql, const struct db_param *p, size_t np, struct arena *a,
		       struct dte_event **out, struct err *e)
{
	struct db_rows *rows = NULL;
	int rc = db_query(c, sql, p, np, &rows, e);

	*out = NULL;
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "event not found");
	} else {
		*out = arena_alloc(a, sizeof(**out));
		decode_event(rows, 0, a, *out);
	}
	db_rows_free(rows);
	return rc;
}

int dte__event_get(struct db_conn *c, const char *tenant_id, const char *id, bool for_update, struct arena *a,
		   struct dte_event **out, struct err *e)
{
	char sql[1024];
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};

	snprintf(sql, sizeof(sql), "SELECT " EV_COLS " FROM dte_events WHERE tenant_id = ? AND id = ?%s",
		 lock_suffix(c, for_update));
	return event_query(c, sql, p, NP(p), a, out, e);
}

int dte__event_open(struct db_conn *c, const char *tenant_id, struct arena *a, struct dte_event **out,
		    struct err *e)
{
	char sql[1024];
	const struct db_param p[] = {DBP_TEXT(tenant_id)};

	snprintf(sql, sizeof(sql),
		 "SELECT " EV_COLS " FROM dte_events WHERE tenant_id = ? AND kind = 'contingencia' AND "
		 "status = 'open'%s",
		 lock_suffix(c, true));
	return event_query(c, sql, p, NP(p), a, out, e);
}

/* ---- tokens ---- */

int dte__token_load(struct db_conn *c, const char *tenant_id, const char *user, const char *endpoint,
		    char **token_enc, int64_t *expires_s, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(user), DBP_TEXT(endpoint)};
	struct db_rows *rows = NULL;
	int rc = db_query(c,
			  "SELECT token_enc, expires_at FROM dte_mh_tokens WHERE tenant_id = ? AND mh_user = ? AND "
			  "endpoint = ?",
			  p, NP(p), &rows, e);

	*token_enc = NULL;
	*expires_s = 0;
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "no token");
	} else {
		*token_enc = xstrdup(db_rows_text(rows, 0, 0));
		*expires_s = db_rows_int(rows, 0, 1);
	}
	db_rows_free(rows);
	return rc;
}

int dte__token_save(struct db_conn *c, const char *tenant_id, const char *user, const char *endpoint,
		    const char *token_enc, int64_t expires_s, struct err *e)
{
	char now[TIME_ISO_LEN + 1];

	time_now_iso(now);
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(user), DBP_TEXT(endpoint),
				     DBP_TEXT(token_enc), DBP_INT(expires_s), DBP_TEXT(now)};
	return db_exec(c,
		       "INSERT INTO dte_mh_tokens (tenant_id, mh_user, endpoint, token_enc, expires_at, updated_at) "
		       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, mh_user, endpoint) DO UPDATE SET "
		       "token_enc = excluded.token_enc, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
		       p, NP(p), NULL, e);
}

int dte__token_drop(struct db_conn *c, const char *tenant_id, const char *user, const char *endpoint,
		    struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(user), DBP_TEXT(endpoint)};

	return db_exec(c, "DELETE FROM dte_mh_tokens WHERE tenant_id = ? AND mh_user = ? AND endpoint = ?", p, NP(p),
		       NULL, e);
}

/* ---- maintenance ---- */

int dte__orphans_all_tenants(struct db_conn *c, const char *cutoff, int limit, struct db_rows **out, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(cutoff), DBP_TEXT(cutoff), DBP_INT(limit)};

	return db_query(c,
			"SELECT tenant_id, id, kind FROM ("
			"SELECT d.tenant_id AS tenant_id, d.id AS id, 'submit' AS kind FROM dtes d "
			"WHERE d.status IN ('queued', 'pending') AND d.updated_at < ? AND NOT EXISTS ("
			"SELECT 1 FROM jobs j WHERE j.dedupe_key = 'dte.submit:' || d.codigo_generacion || ':' || "
			"CAST(d.submit_gen AS TEXT) AND j.state IN ('queued', 'running', 'failed')) "
			"UNION ALL "
			"SELECT ev.tenant_id AS tenant_id, ev.id AS id, 'contingency' AS kind FROM dte_events ev "
			"WHERE ev.kind = 'contingencia' AND ev.status IN ('open', 'sending') AND ev.updated_at < ? "
			"AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.dedupe_key LIKE 'dte.contingency:' || ev.id || '%' "
			"AND j.state IN ('queued', 'running', 'failed'))"
			") w ORDER BY tenant_id, id LIMIT ?",
			p, NP(p), out, e);
}

/* ---- reports ---- */

/* "(created_at >= ? OR ? IS NULL)" style date bounds, as parameters. */
int dte__report_counts(struct db_conn *c, const char *tenant_id, const char *from, const char *to,
		       struct db_rows **out, struct err *e)
{
	char from_ts[32] = "", to_ts[32] = "";

	if (from)
		snprintf(from_ts, sizeof(from_ts), "%sT00:00:00Z", from);
	if (to)
		snprintf(to_ts, sizeof(to_ts), "%sT23:59:59Z", to);
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(nz(from_ts)), DBP_TEXT(nz(from_ts)),
				     DBP_TEXT(nz(to_ts)), DBP_TEXT(nz(to_ts))};
	return db_query(c,
			"SELECT status, tipo_dte, COUNT(*) FROM dtes WHERE tenant_id = ? "
			"AND (CAST(? AS TEXT) IS NULL OR created_at >= ?) AND (CAST(? AS TEXT) IS NULL OR created_at <= ?) "
			"GROUP BY status, tipo_dte ORDER BY status, tipo_dte",
			p, NP(p), out, e);
}

int dte__report_problems(struct db_conn *c, const char *tenant_id, const char *from, const char *to, int limit,
			 struct arena *a, struct dte_record **out, size_t *n, struct err *e)
{
	char from_ts[32] = "", to_ts[32] = "";

	if (from)
		snprintf(from_ts, sizeof(from_ts), "%sT00:00:00Z", from);
	if (to)
		snprintf(to_ts, sizeof(to_ts), "%sT23:59:59Z", to);
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(nz(from_ts)), DBP_TEXT(nz(from_ts)),
				     DBP_TEXT(nz(to_ts)), DBP_TEXT(nz(to_ts)), DBP_INT(limit)};
	return query_records(c,
			     "SELECT " DTE_COLS " FROM dtes WHERE tenant_id = ? AND status IN ('rejected', 'error') "
			     "AND (CAST(? AS TEXT) IS NULL OR created_at >= ?) AND (CAST(? AS TEXT) IS NULL OR "
			     "created_at <= ?) ORDER BY updated_at DESC, id DESC LIMIT ?",
			     p, NP(p), a, out, n, e);
}

int dte__report_pending(struct db_conn *c, const char *tenant_id, struct db_rows **out, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id)};

	return db_query(c,
			"SELECT status, COUNT(*), MIN(created_at) FROM dtes WHERE tenant_id = ? AND status IN "
			"('queued', 'pending', 'contingency') GROUP BY status ORDER BY status",
			p, NP(p), out, e);
}

int dte__report_events(struct db_conn *c, const char *tenant_id, struct db_rows **out, struct err *e)
{
	const struct db_param p[] = {DBP_TEXT(tenant_id)};

	return db_query(c,
			"SELECT ev.id, ev.status, ev.codigo_generacion, ev.created_at, ev.descripcion_msg, "
			"(SELECT COUNT(*) FROM dtes d WHERE d.tenant_id = ev.tenant_id AND "
			"d.contingency_event_id = ev.id) FROM dte_events ev WHERE ev.tenant_id = ? AND "
			"ev.kind = 'contingencia' AND ev.status <> 'accepted' ORDER BY ev.created_at LIMIT 100",
			p, NP(p), out, e);
}
