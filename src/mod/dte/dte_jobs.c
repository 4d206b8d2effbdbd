/*
 * dte_jobs.c - everything of the DTE flow that talks to the Ministerio de
 * Hacienda (src/net/mh.h): the MH session of a tenant with its token cache
 * (encrypted in dte_mh_tokens), the transmission of one DTE under MH's
 * retry policy, contingency (re-issue, the evento de contingencia, the
 * transmission afterwards), the evento de invalidación, and the job
 * handlers "dte.submit", "dte.contingency" and "dte.sweep".
 *
 * No database connection is held while MH is called: every step reads or
 * writes in a short transaction of its own, and a step that finds the row
 * in another state than it expects does nothing (at-least-once jobs, two
 * workers after an expired lease, a retry from the API).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "crypto/field.h"
#include "jobs/jobs.h"
#include "mod/dte/dte_flow.h"
#include "mod/dte/dte_schemas.h"
#include "net/mh.h"

#define SWEEP_IDLE_S  600 /* work untouched this long without a live job is re-enqueued */
#define SWEEP_LIMIT   200 /* rows per sweep run */
#define CONTINGENCY_MAX_DOCS 1000 /* contingencia-schema-v3 detalleDTE.maxItems */

/* ---- the MH session of a tenant ---- */

struct token_ctx {
	struct app *app;
	const char *tenant_id;
	const char *endpoint;
};

struct mh_session {
	struct mh_client cli;
	struct mh_token_store store;
	struct token_ctx tctx;
	char user[64];
	char nit[16];
};

static void token_aad(const struct token_ctx *t, const char *user, char *out, size_t n)
{
	snprintf(out, n, "mh-token:%s:%s", t->tenant_id, user);
}

static int tok_load(void *ud, const char *user, char *token, size_t len, int64_t *expires_s)
{
	struct token_ctx *t = ud;
	struct db_conn *c = NULL;
	struct err e;
	char *enc = NULL, *plain = NULL, aad[160];
	int rc;

	err_clear(&e);
	rc = db_acquire(t->app->db, DB_READ, &c, &e);
	if (rc)
		return rc;
	rc = dte__token_load(c, t->tenant_id, user, t->endpoint, &enc, expires_s, &e);
	db_release(c);
	if (rc)
		return rc;
	token_aad(t, user, aad, sizeof(aad));
	rc = field_decrypt(t->app->keys.data_enc, aad, enc, &plain, &e);
	free(enc);
	if (rc == 0 && plain && strlen(plain) < len)
		snprintf(token, len, "%s", plain);
	else if (rc == 0)
		rc = ERR_INVALID;
	if (plain) {
		mem_wipe(plain, strlen(plain));
		free(plain);
	}
	return rc;
}

static void tok_save(void *ud, const char *user, const char *token, int64_t expires_s)
{
	struct token_ctx *t = ud;
	struct db_conn *c = NULL;
	struct err e;
	char *enc = NULL, aad[160];
	int rc;

	err_clear(&e);
	token_aad(t, user, aad, sizeof(aad));
	rc = field_encrypt(t->app->keys.data_enc, aad, token, &enc, &e);
	if (rc == 0)
		rc = db_acquire(t->app->db, DB_WRITE, &c, &e);
	if (rc == 0) {
		rc = db_begin(c, &e);
		if (rc == 0)
			rc = dte__token_save(c, t->tenant_id, user, t->endpoint, enc, expires_s, &e);
		if (rc == 0)
			rc = db_commit(c, &e);
		db_release(c);
	}
	free(enc);
	if (rc)
		log_warn("msg=\"cannot cache the MH token\" tenant=%s detail=\"%s\"", t->tenant_id, e.detail);
}

static void tok_drop(void *ud, const char *user)
{
	struct token_ctx *t = ud;
	struct db_conn *c = NULL;
	struct err e;

	err_clear(&e);
	if (db_acquire(t->app->db, DB_WRITE, &c, &e) == 0) {
		if (db_begin(c, &e) == 0 && dte__token_drop(c, t->tenant_id, user, t->endpoint, &e) == 0)
			db_commit(c, &e);
		db_release(c);
	}
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

/* Read the tenant's settings and prepare its MH client. *settings_out (may
 * be NULL) receives the settings (owned). */
static int session_open(struct app *app, const char *tenant_id, struct mh_session *s, json_t **settings_out,
			struct err *e)
{
	struct db_conn *c = NULL;
	json_t *settings = NULL;
	const json_t *emisor, *dte;
	const char *nit, *user;
	int rc;

	memset(s, 0, sizeof(*s));
	if (settings_out)
		*settings_out = NULL;
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = dte__tenant_settings(c, tenant_id, &settings, e);
	db_release(c);
	if (rc)
		return rc;
	emisor = json_object_get(settings, "emisor");
	dte = json_object_get(settings, "dte");
	nit = jstr(emisor, "nit");
	if (!nit) {
		json_decref(settings);
		return err_set(e, ERR_INVALID, "settings.emisor", "the tenant has no DTE issuer (settings.emisor)");
	}
	user = jstr(dte, "mhUser");
	if (!user)
		user = app->cfg.dte_mh_user[0] ? app->cfg.dte_mh_user : nit;
	snprintf(s->nit, sizeof(s->nit), "%s", nit);
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->tctx.app = app;
	s->tctx.tenant_id = tenant_id;
	s->tctx.endpoint = app->cfg.dte_mh_endpoint;
	s->store.ud = &s->tctx;
	s->store.load = tok_load;
	s->store.save = tok_save;
	s->store.drop = tok_drop;
	s->cli.base_url = app->cfg.dte_mh_endpoint;
	s->cli.user = s->user;
	s->cli.password = app->cfg.dte_mh_password;
	s->cli.timeout_ms = app->cfg.dte_mh_timeout_ms;
	s->cli.connect_timeout_ms = app->cfg.dte_mh_connect_timeout_ms;
	s->cli.ca_file = app->cfg.dte_mh_ca_file[0] ? app->cfg.dte_mh_ca_file : NULL;
	s->cli.store = &s->store;
	if (settings_out)
		*settings_out = settings;
	else
		json_decref(settings);
	return 0;
}

static void session_close(struct mh_session *s)
{
	mem_wipe(s->cli.token, sizeof(s->cli.token));
}

/* ---- small transactions ---- */

struct tx {
	struct db_conn *c;
};

static int tx_begin(struct app *app, struct tx *t, struct err *e)
{
	int rc = db_acquire(app->db, DB_WRITE, &t->c, e);

	if (rc) {
		t->c = NULL;
		return rc;
	}
	rc = db_begin(t->c, e);
	if (rc) {
		db_release(t->c);
		t->c = NULL;
	}
	return rc;
}

/* Commit when rc == 0, else roll back; release. Returns rc or the commit's error. */
static int tx_end(struct tx *t, int rc, struct err *e)
{
	if (!t->c)
		return rc;
	if (rc == 0)
		rc = db_commit(t->c, e);
	else
		db_rollback(t->c);
	db_release(t->c);
	t->c = NULL;
	return rc;
}

static bool transient_db(const struct err *e)
{
	return e->code == ERR_DB || (e->code == ERR_UNAVAILABLE && strcmp(e->name, DTE_ERR_NOT_CONFIGURED) != 0);
}

/* ---- accept / reject ---- */

int dte__accept(struct db_conn *c, const struct actor *who, struct dte_record *r, const struct mh_answer *ans,
		struct arena *a, struct err *e)
{
	int prev = (int)r->status;
	char note[160];

	if (r->status == DTE_ST_ACCEPTED || r->status == DTE_ST_INVALIDATED)
		return 0;
	r->status = DTE_ST_ACCEPTED;
	snprintf(r->sello, sizeof(r->sello), "%s", ans->sello);
	snprintf(r->fh_procesamiento, sizeof(r->fh_procesamiento), "%s", ans->fh_procesamiento);
	r->clasifica_msg = arena_strdup(a, ans->clasifica_msg[0] ? ans->clasifica_msg : NULL);
	r->codigo_msg = arena_strdup(a, ans->codigo_msg[0] ? ans->codigo_msg : NULL);
	r->descripcion_msg = arena_strdup(a, ans->descripcion_msg[0] ? ans->descripcion_msg : NULL);
	r->observaciones = arena_strdup(a, ans->observaciones);
	r->last_error = NULL;
	r->send_failures = 0;
	time_now_iso(r->accepted_at);
	snprintf(note, sizeof(note), "PROCESADO %s", ans->codigo_msg[0] ? ans->codigo_msg : "");
	return dte__save(c, who, r, prev, "dte.accept", note, e);
}

int dte__reject(struct db_conn *c, const struct actor *who, struct dte_record *r, const struct mh_answer *ans,
		struct arena *a, struct err *e)
{
	int prev = (int)r->status;
	char note[600];

	if (r->status == DTE_ST_REJECTED || r->status == DTE_ST_ACCEPTED || r->status == DTE_ST_INVALIDATED)
		return 0;
	r->status = DTE_ST_REJECTED;
	r->clasifica_msg = arena_strdup(a, ans->clasifica_msg[0] ? ans->clasifica_msg : NULL);
	r->codigo_msg = arena_strdup(a, ans->codigo_msg[0] ? ans->codigo_msg : NULL);
	r->descripcion_msg = arena_strdup(a, ans->descripcion_msg[0] ? ans->descripcion_msg : NULL);
	r->observaciones = arena_strdup(a, ans->observaciones);
	r->last_error = arena_strdup(a, ans->descripcion_msg[0] ? ans->descripcion_msg : "RECHAZADO");
	snprintf(note, sizeof(note), "RECHAZADO %s %s", ans->codigo_msg, ans->descripcion_msg);
	return dte__save(c, who, r, prev, "dte.reject", note, e);
}

/* Set r (pending) to error with a reason a person must act on. */
static int set_error(struct app *app, const struct actor *who, const char *tenant_id, const char *dte_id,
		     const char *reason, struct arena *a, struct err *e)
{
	struct tx t;
	struct dte_record *r = NULL;
	int rc = tx_begin(app, &t, e), prev;

	if (rc)
		return rc;
	rc = dte__get(t.c, tenant_id, DTE_BY_ID, dte_id, true, a, &r, e);
	if (rc == 0 && (r->status == DTE_ST_PENDING || r->status == DTE_ST_QUEUED)) {
		prev = (int)r->status;
		r->status = DTE_ST_ERROR;
		r->last_error = arena_strdup(a, reason);
		rc = dte__save(t.c, who, r, prev, "dte.error", reason, e);
	}
	rc = tx_end(&t, rc, e);
	if (rc == 0) {
		jobs_notify(app->jobs);
		log_warn("msg=\"dte error\" tenant=%s dte=%s reason=\"%s\"", tenant_id, dte_id, reason);
	}
	return rc;
}

/* Record MH's outcome for r (by id): accept or reject, in a transaction. */
static int record_answer(struct app *app, const struct actor *who, const char *tenant_id, const char *dte_id,
			 const struct mh_answer *ans, bool accepted, bool restore_normal, struct arena *a,
			 struct err *e)
{
	struct tx t;
	struct dte_record *r = NULL;
	int rc = tx_begin(app, &t, e);

	if (rc)
		return rc;
	rc = dte__get(t.c, tenant_id, DTE_BY_ID, dte_id, true, a, &r, e);
	if (rc == 0 && restore_normal && r->normal_text && r->status == DTE_ST_CONTINGENCY) {
		/* MH holds the normal version (received although we got no answer) */
		r->document_text = r->normal_text;
		r->jws = r->normal_jws;
		r->normal_text = NULL;
		r->normal_jws = NULL;
		r->tipo_modelo = 1;
		r->tipo_operacion = 1;
		r->tipo_contingencia = 0;
	}
	if (rc == 0)
		rc = accepted ? dte__accept(t.c, who, r, ans, a, e) : dte__reject(t.c, who, r, ans, a, e);
	rc = tx_end(&t, rc, e);
	if (rc == 0)
		jobs_notify(app->jobs); /* the listeners' webhook jobs */
	return rc;
}

/* ---- contingency ---- */

int dte__attach_contingency(struct db_conn *c, const struct actor *who, struct dte_record *r, int previous,
			    const char *note, struct arena *a, struct err *e)
{
	struct dte_event *ev = NULL, nev;
	struct err e2;
	bool created = false;
	int rc;

	err_clear(&e2);
	rc = dte__event_open(c, r->tenant_id, a, &ev, &e2);
	if (rc == ERR_NOT_FOUND) {
		memset(&nev, 0, sizeof(nev));
		uuid_v4(nev.id);
		snprintf(nev.tenant_id, sizeof(nev.tenant_id), "%s", r->tenant_id);
		snprintf(nev.kind, sizeof(nev.kind), "contingencia");
		snprintf(nev.status, sizeof(nev.status), "open");
		snprintf(nev.created_by, sizeof(nev.created_by), "%s", who->id ? who->id : "");
		time_now_iso(nev.created_at);
		memcpy(nev.updated_at, nev.created_at, sizeof(nev.updated_at));
		rc = dte__event_insert(c, &nev, e);
		if (rc)
			return rc;
		ev = &nev;
		created = true;
	} else if (rc) {
		*e = e2;
		return rc;
	}
	snprintf(r->contingency_event_id, sizeof(r->contingency_event_id), "%s", ev->id);
	r->status = DTE_ST_CONTINGENCY;
	r->send_failures = 0;
	rc = dte__save(c, who, r, previous, "dte.contingency", note, e);
	if (rc == 0)
		rc = dte__enqueue_contingency(c, r->tenant_id, ev->id, "", e);
	if (rc == 0 && created)
		log_warn("msg=\"MH unreachable: contingency event opened\" tenant=%s event=%s", r->tenant_id,
			 ev->id);
	return rc;
}

int dte__enter_contingency(struct app *app, struct db_conn *c, const struct actor *who, struct dte_record *r,
			   struct arena *a, struct err *e)
{
	json_t *tree = NULL, *ident;
	char *text = NULL, *jws = NULL, schema[64];
	const char *nit;
	int rc, prev = (int)r->status;

	if (!r->document_text || r->tipo_operacion != 1) {
		err_set(e, ERR_CONFLICT, NULL, "only an issued DTE of normal transmission enters contingency");
		return err_name(e, "INVALID_STATE");
	}
	rc = dte_json_load(r->document_text, &tree, e);
	if (rc)
		return rc;
	ident = json_object_get(tree, "identificacion");
	json_object_set_new(ident, "tipoModelo", json_integer(2));
	json_object_set_new(ident, "tipoOperacion", json_integer(2));
	json_object_set_new(ident, "tipoContingencia", json_integer(1));
	json_object_set_new(ident, "motivoContin", json_null());
	nit = json_string_value(json_object_get(json_object_get(tree, "emisor"), "nit"));
	snprintf(schema, sizeof(schema), "%s", dte_schema_name(r->tipo_dte, r->version));
	if ((rc = dte_json_dump(tree, &text, e)) || (rc = dte__schema_check(schema, text, e)) ||
	    (rc = dte__sign(app, nit, text, &jws, e)))
		goto out;
	r->normal_text = r->document_text;
	r->normal_jws = r->jws;
	r->document_text = arena_strdup(a, text);
	r->jws = arena_strdup(a, jws);
	r->tipo_modelo = 2;
	r->tipo_operacion = 2;
	r->tipo_contingencia = 1;
	r->last_error = "MH did not answer: issued in contingency (No disponibilidad de sistema del MH)";
	rc = dte__attach_contingency(c, who, r, prev, r->last_error, a, e);
out:
	free(text);
	free(jws);
	json_decref(tree);
	return rc;
}

/* ---- transmission of one DTE (MH §1.6) ---- */

/* A try without an answer: count it; after DTE_MAX_SEND_TRIES a normal DTE
 * goes into contingency (returns 0), else ERR_UPSTREAM (the job retries). */
static int transmit_failed(struct app *app, const struct actor *who, const char *tenant_id, const char *dte_id,
			   const char *why, struct arena *a, struct err *e)
{
	struct tx t;
	struct dte_record *r = NULL;
	bool contingency = false;
	struct err e2;
	int rc;

	err_clear(&e2);
	rc = tx_begin(app, &t, &e2);
	if (rc == 0)
		rc = dte__get(t.c, tenant_id, DTE_BY_ID, dte_id, true, a, &r, &e2);
	if (rc == 0 && r->status == DTE_ST_PENDING) {
		r->send_failures++;
		if (r->tipo_operacion == 1 && r->send_failures >= DTE_MAX_SEND_TRIES) {
			rc = dte__enter_contingency(app, t.c, who, r, a, &e2);
			contingency = rc == 0;
		} else {
			r->last_error = arena_printf(a, "%s (try %d)", why, r->send_failures);
			rc = dte__save(t.c, who, r, -1, NULL, NULL, &e2);
		}
	}
	rc = tx_end(&t, rc, &e2);
	if (rc) {
		*e = e2;
		return rc;
	}
	if (contingency) {
		jobs_notify(app->jobs);
		return 0;
	}
	err_set(e, ERR_UPSTREAM, NULL, "%s", why);
	return err_name(e, "MH_UNAVAILABLE");
}

static bool duplicate_codigo(const struct mh_answer *ans)
{
	return strcmp(ans->codigo_msg, "004") == 0 && strstr(ans->descripcion_msg, "codigoGeneracion") != NULL;
}

/* Handle an MH failure of any call: transient -> transmit_failed, else error. */
static int mh_failed(struct app *app, const struct actor *who, const char *tenant_id, const char *dte_id,
		     const struct mh_answer *ans, const struct err *me, struct arena *a, struct err *e)
{
	if (ans->fail == MH_FAIL_TRANSIENT)
		return transmit_failed(app, who, tenant_id, dte_id, "the Ministerio de Hacienda did not answer", a, e);
	if (ans->fail == MH_FAIL_AUTH)
		return set_error(app, who, tenant_id, dte_id,
				 "the Ministerio de Hacienda refused the API credentials (DTE_MH_USER / DTE_MH_PASSWORD)",
				 a, e);
	return set_error(app, who, tenant_id, dte_id, me->message, a, e);
}

/* Issue a queued row (the automatic flow). 0 also when the issue failed for
 * a reason a person must fix (the row is then error). */
static int issue_queued(struct app *app, const struct actor *who, const char *tenant_id, const char *dte_id,
			struct arena *a, struct err *e)
{
	struct tx t;
	struct dte_record *r = NULL;
	struct bill_document *doc = NULL;
	struct dte_issue_args args;
	const char *requested = NULL;
	struct err ie;
	int rc;

	err_clear(&ie);
	memset(&args, 0, sizeof(args));
	rc = tx_begin(app, &t, e);
	if (rc)
		return rc;
	rc = dte__get(t.c, tenant_id, DTE_BY_ID, dte_id, true, a, &r, e);
	if (rc || r->status != DTE_ST_QUEUED)
		return tx_end(&t, rc, e);
	if ((rc = dte__tipo_requested(t.c, tenant_id, dte_id, a, &requested, e)))
		return tx_end(&t, rc, e);
	args.tipo_requested = requested;
	rc = billing_get_conn(t.c, tenant_id, r->document_id, BILL_WITH_LINES | BILL_WITH_PAYMENTS | BILL_FOR_UPDATE,
			      a, &doc, &ie);
	if (rc == 0) {
		if (doc->status == BILL_CANCELLED || doc->status == BILL_REFUNDED)
			rc = err_set(&ie, ERR_CONFLICT, NULL, "the document is %s",
				     billing_status_clinic_name(doc->status));
		else
			rc = dte__issue_row(app, t.c, doc, &args, a, r, &ie);
	}
	if (rc == 0) {
		r->status = DTE_ST_PENDING;
		rc = dte__save(t.c, who, r, DTE_ST_QUEUED, "dte.issue", "issued and signed", &ie);
	}
	if (rc == 0)
		return tx_end(&t, 0, e);
	tx_end(&t, rc, e); /* roll back (the sequence number too) */
	if (transient_db(&ie)) {
		*e = ie;
		return rc;
	}
	return set_error(app, who, tenant_id, dte_id,
			 ie.field[0] && !strstr(ie.message, ie.field) ? arena_printf(a, "%s (%s)", ie.message, ie.field)
								      : ie.message,
			 a, e);
}

int dte__transmit(struct app *app, const char *tenant_id, const char *dte_id, struct err *e)
{
	struct arena *a = arena_new(32u << 20);
	struct actor who = dte__system_actor(tenant_id, DTE_JOB_SUBMIT);
	struct mh_session s;
	struct mh_answer ans;
	struct dte_record *r = NULL;
	struct db_conn *c = NULL;
	struct tx t;
	struct err me;
	bool session = false;
	int rc;

	memset(&ans, 0, sizeof(ans));
	err_clear(&me);
	rc = issue_queued(app, &who, tenant_id, dte_id, a, e);
	if (rc)
		goto out;
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		goto out;
	rc = dte__get(c, tenant_id, DTE_BY_ID, dte_id, false, a, &r, e);
	db_release(c);
	if (rc == ERR_NOT_FOUND) {
		rc = 0; /* the row is gone: nothing to do */
		goto out;
	}
	if (rc || r->status != DTE_ST_PENDING)
		goto out;
	rc = session_open(app, tenant_id, &s, NULL, e);
	if (rc) {
		if (rc == ERR_INVALID)
			rc = set_error(app, &who, tenant_id, dte_id, e->message, a, e);
		goto out;
	}
	session = true;

	/* it may have reached MH before (a timeout, a crash): ask first */
	if (r->sent) {
		rc = mh_consulta(&s.cli, s.nit, r->tipo_dte, r->codigo_generacion, &ans, &me);
		if (rc) {
			rc = mh_failed(app, &who, tenant_id, dte_id, &ans, &me, a, e);
			goto out;
		}
		if (ans.found && (mh_answer_accepted(&ans) || strcmp(ans.estado, "RECHAZADO") == 0)) {
			rc = record_answer(app, &who, tenant_id, dte_id, &ans, mh_answer_accepted(&ans), false, a, e);
			goto out;
		}
	}

	/* count the attempt before sending: after a crash we know to ask */
	rc = tx_begin(app, &t, e);
	if (rc)
		goto out;
	rc = dte__get(t.c, tenant_id, DTE_BY_ID, dte_id, true, a, &r, e);
	if (rc == 0 && r->status == DTE_ST_PENDING) {
		r->attempts++;
		r->sent = true;
		rc = dte__save(t.c, &who, r, -1, NULL, NULL, e);
	}
	rc = tx_end(&t, rc, e);
	if (rc || r->status != DTE_ST_PENDING)
		goto out;

	{
		struct mh_recepcion rq = {.ambiente = r->ambiente,
					  .id_envio = r->attempts,
					  .version = r->version,
					  .tipo_dte = r->tipo_dte,
					  .documento = r->jws,
					  .codigo_generacion = r->codigo_generacion};
		rc = mh_recepcion(&s.cli, &rq, &ans, &me);
	}
	if (rc) {
		rc = mh_failed(app, &who, tenant_id, dte_id, &ans, &me, a, e);
		goto out;
	}
	if (mh_answer_accepted(&ans)) {
		rc = record_answer(app, &who, tenant_id, dte_id, &ans, true, false, a, e);
	} else if (strcmp(ans.estado, "RECHAZADO") == 0 && duplicate_codigo(&ans)) {
		/* MH already holds this codigoGeneracion: what did it decide? */
		struct mh_answer q;
		memset(&q, 0, sizeof(q));
		rc = mh_consulta(&s.cli, s.nit, r->tipo_dte, r->codigo_generacion, &q, &me);
		if (rc)
			rc = mh_failed(app, &who, tenant_id, dte_id, &q, &me, a, e);
		else if (q.found && mh_answer_accepted(&q))
			rc = record_answer(app, &who, tenant_id, dte_id, &q, true, false, a, e);
		else
			rc = record_answer(app, &who, tenant_id, dte_id, &ans, false, false, a, e);
		mh_answer_free(&q);
	} else if (strcmp(ans.estado, "RECHAZADO") == 0) {
		rc = record_answer(app, &who, tenant_id, dte_id, &ans, false, false, a, e);
	} else {
		rc = transmit_failed(app, &who, tenant_id, dte_id, "the Ministerio de Hacienda answered without a seal",
				     a, e);
	}
out:
	if (session)
		session_close(&s);
	mh_answer_free(&ans);
	arena_free(a);
	return rc;
}

int dte_submit_job(struct app *app, const struct job *job, struct err *e)
{
	const char *id = json_string_value(json_object_get(job->payload, "dteId"));

	if (!id || !uuid_valid(id)) {
		log_warn("msg=\"dte.submit without a dteId\" job=%s", job->id);
		return 0;
	}
	return dte__transmit(app, job->tenant_id, id, e);
}

/* ---- the evento de contingencia ---- */

static const char *responsable(const json_t *settings, const char *key, const char *def)
{
	const char *v = jstr(json_object_get(json_object_get(settings, "dte"), "responsable"), key);

	return v ? v : def;
}

/* Build, check and sign the event JSON for the members into ev. */
static int build_contingency_event(struct app *app, const json_t *settings, struct dte_event *ev,
				   const struct dte_record *m, size_t n, struct arena *a, struct err *e)
{
	const json_t *em = json_object_get(settings, "emisor");
	const char *nit = jstr(em, "nit"), *nombre = jstr(em, "nombre");
	json_t *doc = NULL, *det = json_array();
	char f[DATE_LEN + 1], h[9], *text = NULL, *jws = NULL;
	size_t first = 0;
	int rc;

	for (size_t i = 1; i < n; i++)
		if (strcmp(m[i].fec_emi, m[first].fec_emi) < 0 ||
		    (strcmp(m[i].fec_emi, m[first].fec_emi) == 0 && strcmp(m[i].hor_emi, m[first].hor_emi) < 0))
			first = i;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(det, json_pack("{s:I, s:s, s:s}", "noItem", (json_int_t)(i + 1),
						     "codigoGeneracion", m[i].codigo_generacion, "tipoDoc",
						     m[i].tipo_dte));
	dte__local_now(f, h);
	uuid_v4_upper(ev->codigo_generacion);
	snprintf(ev->f_inicio, sizeof(ev->f_inicio), "%s", m[first].fec_emi);
	snprintf(ev->h_inicio, sizeof(ev->h_inicio), "%s", m[first].hor_emi);
	snprintf(ev->f_fin, sizeof(ev->f_fin), "%s", f);
	snprintf(ev->h_fin, sizeof(ev->h_fin), "%s", h);
	doc = json_pack("{s:{s:i, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s}, s:o, "
			"s:{s:s, s:s, s:s, s:s, s:i, s:n}}",
			"identificacion", "version", 3, "ambiente", app->cfg.dte_ambiente, "codigoGeneracion",
			ev->codigo_generacion, "fTransmision", f, "hTransmision", h, "emisor", "nit", nit ? nit : "",
			"nombre", nombre ? nombre : "", "nombreResponsable", responsable(settings, "nombre", nombre),
			"tipoDocResponsable", responsable(settings, "tipoDocumento", "36"), "numeroDocResponsable",
			responsable(settings, "numDocumento", nit), "tipoEstablecimiento",
			jstr(em, "tipoEstablecimiento") ? jstr(em, "tipoEstablecimiento") : "02", "codEstableMH",
			jstr(em, "codEstableMH") ? json_string(jstr(em, "codEstableMH")) : json_null(), "codPuntoVenta",
			jstr(em, "codPuntoVenta") ? json_string(jstr(em, "codPuntoVenta")) : json_null(), "telefono",
			jstr(em, "telefono") ? jstr(em, "telefono") : "", "correo",
			jstr(em, "correo") ? jstr(em, "correo") : "", "detalleDTE", det, "motivo", "fInicio",
			ev->f_inicio, "fFin", ev->f_fin, "hInicio", ev->h_inicio, "hFin", ev->h_fin,
			"tipoContingencia", 1, "motivoContingencia");
	if (!doc)
		return err_set(e, ERR_INVALID, "settings.emisor", "the contingency event cannot be built");
	if ((rc = dte_json_dump(doc, &text, e)) ||
	    (rc = dte__schema_check(dte_schema_name("contingencia", 3), text, e)) ||
	    (rc = dte__sign(app, nit, text, &jws, e)))
		goto out;
	ev->event_text = arena_strdup(a, text);
	ev->jws = arena_strdup(a, jws);
out:
	free(text);
	free(jws);
	json_decref(doc);
	return rc;
}

/* The event is received: its listed DTEs go back to pending and are sent. */
static int contingency_received(struct app *app, const struct actor *who, const char *tenant_id,
				const char *event_id, const struct mh_answer *ans, struct arena *a, struct err *e)
{
	struct tx t;
	struct dte_event *ev = NULL;
	struct dte_record *m = NULL;
	json_t *doc = NULL, *det;
	size_t n = 0, i;
	json_t *item;
	int rc = tx_begin(app, &t, e);

	if (rc)
		return rc;
	rc = dte__event_get(t.c, tenant_id, event_id, true, a, &ev, e);
	if (rc || strcmp(ev->status, "sending") != 0)
		return tx_end(&t, rc, e);
	snprintf(ev->status, sizeof(ev->status), "accepted");
	snprintf(ev->sello, sizeof(ev->sello), "%s", ans->sello);
	ev->fh_procesamiento = arena_strdup(a, ans->fh_procesamiento);
	ev->descripcion_msg = arena_strdup(a, ans->descripcion_msg);
	ev->observaciones = arena_strdup(a, ans->observaciones);
	ev->last_error = NULL;
	time_now_iso(ev->updated_at);
	rc = dte__event_update(t.c, ev, e);
	if (rc == 0)
		rc = dte_json_load(ev->event_text, &doc, e);
	if (rc == 0)
		rc = dte__list_event_members(t.c, tenant_id, event_id, a, &m, &n, e);
	det = json_object_get(doc, "detalleDTE");
	for (size_t k = 0; rc == 0 && k < n; k++) {
		bool listed = false;
		json_array_foreach(det, i, item)
		{
			if (strcmp(json_string_value(json_object_get(item, "codigoGeneracion")),
				   m[k].codigo_generacion) == 0)
				listed = true;
		}
		if (!listed || m[k].status != DTE_ST_CONTINGENCY)
			continue;
		m[k].status = DTE_ST_PENDING;
		m[k].submit_gen++;
		m[k].send_failures = 0;
		m[k].last_error = NULL;
		rc = dte__save(t.c, who, &m[k], DTE_ST_CONTINGENCY, "dte.contingency.reported",
			       "evento de contingencia received by MH: transmitting", e);
		if (rc == 0)
			rc = dte__enqueue_submit(t.c, &m[k], 0, e);
	}
	json_decref(doc);
	rc = tx_end(&t, rc, e);
	if (rc == 0) {
		jobs_notify(app->jobs);
		log_info("msg=\"contingency event received\" tenant=%s event=%s documents=%zu", tenant_id, event_id, n);
	}
	return rc;
}

static int event_note(struct app *app, const char *tenant_id, const char *event_id, const char *status,
		      const struct mh_answer *ans, const char *why, struct arena *a, struct err *e)
{
	struct tx t;
	struct dte_event *ev = NULL;
	int rc = tx_begin(app, &t, e);

	if (rc)
		return rc;
	rc = dte__event_get(t.c, tenant_id, event_id, true, a, &ev, e);
	if (rc == 0) {
		ev->attempts++;
		if (status)
			snprintf(ev->status, sizeof(ev->status), "%s", status);
		if (ans) {
			ev->codigo_msg = arena_strdup(a, ans->codigo_msg[0] ? ans->codigo_msg : NULL);
			ev->descripcion_msg = arena_strdup(a, ans->descripcion_msg[0] ? ans->descripcion_msg : NULL);
			ev->observaciones = arena_strdup(a, ans->observaciones);
		}
		ev->last_error = arena_strdup(a, why);
		time_now_iso(ev->updated_at);
		rc = dte__event_update(t.c, ev, e);
	}
	return tx_end(&t, rc, e);
}

/* Ask MH about each member of an open event: MH answering is the end of the
 * outage, and a member MH already holds (its normal version arrived although
 * the answer did not) is settled now instead of being reported. */
static int contingency_probe(struct app *app, const struct actor *who, struct mh_session *s, const char *tenant_id,
			     const char *event_id, struct arena *a, struct err *e)
{
	struct db_conn *c = NULL;
	struct dte_record *m = NULL;
	size_t n = 0;
	struct mh_answer ans;
	struct err me;
	int rc = db_acquire(app->db, DB_READ, &c, e);

	if (rc)
		return rc;
	rc = dte__list_event_members(c, tenant_id, event_id, a, &m, &n, e);
	db_release(c);
	if (rc)
		return rc;
	memset(&ans, 0, sizeof(ans));
	for (size_t i = 0; i < n; i++) {
		if (m[i].status != DTE_ST_CONTINGENCY)
			continue;
		err_clear(&me);
		rc = mh_consulta(&s->cli, s->nit, m[i].tipo_dte, m[i].codigo_generacion, &ans, &me);
		if (rc) {
			event_note(app, tenant_id, event_id, NULL, NULL, "the Ministerio de Hacienda did not answer",
				   a, e);
			err_set(e, ERR_UPSTREAM, NULL, "the Ministerio de Hacienda is still unavailable");
			rc = err_name(e, "MH_UNAVAILABLE");
			break;
		}
		if (ans.found && (mh_answer_accepted(&ans) || strcmp(ans.estado, "RECHAZADO") == 0)) {
			rc = record_answer(app, who, tenant_id, m[i].id, &ans, mh_answer_accepted(&ans), true, a, e);
			if (rc)
				break;
		}
	}
	mh_answer_free(&ans);
	return rc;
}

/* Close an open event: freeze its members, build and sign the event. */
static int contingency_close(struct app *app, const json_t *settings, const char *tenant_id, const char *event_id,
			     struct arena *a, struct err *e)
{
	struct tx t;
	struct dte_event *ev = NULL;
	struct dte_record *m = NULL, *live;
	size_t n = 0, k = 0;
	int rc = tx_begin(app, &t, e);

	if (rc)
		return rc;
	rc = dte__event_get(t.c, tenant_id, event_id, true, a, &ev, e);
	if (rc || strcmp(ev->status, "open") != 0)
		return tx_end(&t, rc, e);
	rc = dte__list_event_members(t.c, tenant_id, event_id, a, &m, &n, e);
	if (rc)
		return tx_end(&t, rc, e);
	live = arena_alloc(a, (n + 1) * sizeof(*live));
	for (size_t i = 0; i < n && k < CONTINGENCY_MAX_DOCS; i++)
		if (m[i].status == DTE_ST_CONTINGENCY)
			live[k++] = m[i];
	time_now_iso(ev->updated_at);
	if (k == 0) {
		snprintf(ev->status, sizeof(ev->status), "failed");
		ev->last_error = "no document left to report: MH had them all";
		rc = dte__event_update(t.c, ev, e);
		return tx_end(&t, rc, e);
	}
	rc = build_contingency_event(app, settings, ev, live, k, a, e);
	if (rc == 0) {
		snprintf(ev->status, sizeof(ev->status), "sending");
		rc = dte__event_update(t.c, ev, e);
	}
	return tx_end(&t, rc, e);
}

int dte_contingency_job(struct app *app, const struct job *job, struct err *e)
{
	const char *event_id = json_string_value(json_object_get(job->payload, "eventId"));
	const char *tenant_id = job->tenant_id;
	struct actor who = dte__system_actor(tenant_id, DTE_JOB_CONTINGENCY);
	struct arena *a;
	struct db_conn *c = NULL;
	struct dte_event *ev = NULL;
	struct mh_session s;
	struct mh_answer ans;
	json_t *settings = NULL;
	struct err me;
	bool session = false;
	int rc;

	if (!event_id || !uuid_valid(event_id)) {
		log_warn("msg=\"dte.contingency without an eventId\" job=%s", job->id);
		return 0;
	}
	a = arena_new(32u << 20);
	memset(&ans, 0, sizeof(ans));
	err_clear(&me);
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		goto out;
	rc = dte__event_get(c, tenant_id, event_id, false, a, &ev, e);
	db_release(c);
	if (rc == ERR_NOT_FOUND)
		rc = 0;
	if (rc || !ev || (strcmp(ev->status, "open") != 0 && strcmp(ev->status, "sending") != 0))
		goto out;
	rc = session_open(app, tenant_id, &s, &settings, e);
	if (rc)
		goto out;
	session = true;
	if (strcmp(ev->status, "open") == 0) {
		if ((rc = contingency_probe(app, &who, &s, tenant_id, event_id, a, e)) ||
		    (rc = contingency_close(app, settings, tenant_id, event_id, a, e)))
			goto out;
		rc = db_acquire(app->db, DB_READ, &c, e);
		if (rc)
			goto out;
		rc = dte__event_get(c, tenant_id, event_id, false, a, &ev, e);
		db_release(c);
		if (rc || strcmp(ev->status, "sending") != 0)
			goto out;
	}
	rc = mh_contingencia(&s.cli, s.nit, ev->jws, &ans, &me);
	if (rc) {
		if (ans.fail == MH_FAIL_PROTOCOL) {
			rc = event_note(app, tenant_id, event_id, "failed", &ans, me.message, a, e);
			goto out;
		}
		event_note(app, tenant_id, event_id, NULL, &ans, me.message, a, e);
		*e = me;
		rc = me.code;
		goto out;
	}
	if (mh_answer_accepted(&ans) || strcmp(ans.estado, "RECIBIDO") == 0 ||
	    (ans.observaciones && strstr(ans.observaciones, "identificacion.codigoGeneracion] YA EXISTE"))) {
		/* received now, or by an earlier try whose answer was lost */
		rc = contingency_received(app, &who, tenant_id, event_id, &ans, a, e);
	} else {
		rc = event_note(app, tenant_id, event_id, "rejected", &ans,
				ans.descripcion_msg[0] ? ans.descripcion_msg : "RECHAZADO", a, e);
		log_warn("msg=\"contingency event rejected\" tenant=%s event=%s", tenant_id, event_id);
	}
out:
	if (session)
		session_close(&s);
	mh_answer_free(&ans);
	json_decref(settings);
	arena_free(a);
	return rc;
}

/* ---- the sweep: work whose job died ---- */

int dte_sweep_job(struct app *app, const struct job *job, struct err *e)
{
	struct db_conn *c = NULL;
	struct db_rows *rows = NULL;
	struct arena *a = arena_new(8u << 20);
	char cutoff[TIME_ISO_LEN + 1], suffix[32];
	size_t requeued = 0;
	int rc;

	time_iso(time_now_s() - SWEEP_IDLE_S, cutoff);
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		goto out;
	rc = dte__orphans_all_tenants(c, cutoff, SWEEP_LIMIT, &rows, e);
	db_release(c);
	if (rc)
		goto out;
	for (size_t i = 0; i < db_rows_count(rows); i++) {
		const char *tenant = db_rows_text(rows, i, 0), *id = db_rows_text(rows, i, 1),
			   *kind = db_rows_text(rows, i, 2);
		struct actor who = dte__system_actor(tenant, DTE_JOB_SWEEP);
		struct tx t;
		struct dte_record *r = NULL;

		rc = tx_begin(app, &t, e);
		if (rc)
			goto out;
		if (strcmp(kind, "submit") == 0) {
			rc = dte__get(t.c, tenant, DTE_BY_ID, id, true, a, &r, e);
			if (rc == 0 && (r->status == DTE_ST_PENDING || r->status == DTE_ST_QUEUED)) {
				r->submit_gen++;
				if ((rc = dte__save(t.c, &who, r, -1, NULL, NULL, e)) == 0)
					rc = dte__enqueue_submit(t.c, r, 0, e);
			}
		} else {
			snprintf(suffix, sizeof(suffix), ":%lld", (long long)time_now_s());
			rc = dte__enqueue_contingency(t.c, tenant, id, suffix, e);
		}
		rc = tx_end(&t, rc, e);
		if (rc)
			goto out;
		requeued++;
	}
	if (requeued)
		jobs_notify(app->jobs);
	log_info("msg=\"dte sweep\" job=%s requeued=%zu", job->id, requeued);
out:
	db_rows_free(rows);
	arena_free(a);
	return rc;
}

/* ---- the evento de invalidación ---- */

/* Digits, '+' and ';' only (the event's telefono pattern); NULL when fewer than 8 remain. */
static json_t *phone_json(const char *s)
{
	char buf[64];
	size_t n = 0;

	for (; s && *s && n < sizeof(buf) - 1; s++)
		if ((*s >= '0' && *s <= '9') || *s == '+' || *s == ';')
			buf[n++] = *s;
	buf[n] = '\0';
	return n >= 8 && n <= 26 ? json_string(buf) : json_null();
}

static bool text_between(const char *s, size_t min, size_t max)
{
	size_t chars = 0;

	if (!s)
		return false;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			chars++;
	return chars >= min && chars <= max;
}

static const char *const doc_types[] = {"36", "13", "02", "03", "37", NULL};

static bool one_of(const char *v, const char *const *list)
{
	for (; v && *list; list++)
		if (strcmp(v, *list) == 0)
			return true;
	return false;
}

static int invalidation_input_check(const struct dte_invalidation_input *in, struct err *e)
{
	if (in->tipo_anulacion < 1 || in->tipo_anulacion > 3)
		return err_set(e, ERR_INVALID, "tipoAnulacion", "tipoAnulacion must be 1, 2 or 3 (CAT-024)");
	if (in->tipo_anulacion == 3 && !in->motivo_anulacion)
		return err_set(e, ERR_INVALID, "motivoAnulacion", "motivoAnulacion is required with tipoAnulacion 3");
	if (in->motivo_anulacion && !text_between(in->motivo_anulacion, 5, 250))
		return err_set(e, ERR_INVALID, "motivoAnulacion", "motivoAnulacion must have 5 to 250 characters");
	if (!text_between(in->nombre_responsable, 5, 100))
		return err_set(e, ERR_INVALID, "nombreResponsable", "nombreResponsable must have 5 to 100 characters");
	if (!one_of(in->tip_doc_responsable, doc_types))
		return err_set(e, ERR_INVALID, "tipDocResponsable", "tipDocResponsable must be 36, 13, 02, 03 or 37");
	if (!text_between(in->num_doc_responsable, 3, 20))
		return err_set(e, ERR_INVALID, "numDocResponsable", "numDocResponsable must have 3 to 20 characters");
	if (!text_between(in->nombre_solicita, 5, 100))
		return err_set(e, ERR_INVALID, "nombreSolicita", "nombreSolicita must have 5 to 100 characters");
	if (!one_of(in->tip_doc_solicita, doc_types))
		return err_set(e, ERR_INVALID, "tipDocSolicita", "tipDocSolicita must be 36, 13, 02, 03 or 37");
	if (!text_between(in->num_doc_solicita, 3, 20))
		return err_set(e, ERR_INVALID, "numDocSolicita", "numDocSolicita must have 3 to 20 characters");
	if (in->tipo_anulacion == 2 && in->codigo_generacion_r)
		return err_set(e, ERR_INVALID, "codigoGeneracionR",
			       "codigoGeneracionR must be null with tipoAnulacion 2 (rescindir)");
	if (in->tipo_anulacion != 2 && !in->codigo_generacion_r)
		return err_set(e, ERR_INVALID, "codigoGeneracionR",
			       "codigoGeneracionR (the accepted replacement DTE) is required with tipoAnulacion 1 or 3");
	if (in->codigo_generacion_r && !uuid_valid(in->codigo_generacion_r))
		return err_set(e, ERR_INVALID, "codigoGeneracionR", "codigoGeneracionR must be a codigoGeneracion");
	return 0;
}

/* The last moment (SV local "YYYY-MM-DD") an accepted DTE may be invalidated:
 * FE/FSE the same day three months after the seal, others the day after. */
static void invalidation_deadline(const struct dte_record *r, char out[DATE_LEN + 1])
{
	char sealed[DATE_LEN + 1];
	const char *fh = r->fh_procesamiento; /* dd/MM/yyyy HH:mm:ss */

	if (strlen(fh) >= 10 && fh[2] == '/' && fh[5] == '/')
		snprintf(sealed, sizeof(sealed), "%.4s-%.2s-%.2s", fh + 6, fh + 3, fh);
	else
		snprintf(sealed, sizeof(sealed), "%s", r->fec_emi);
	if (!date_valid(sealed))
		snprintf(sealed, sizeof(sealed), "%s", r->fec_emi);
	if (strcmp(r->tipo_dte, "01") == 0 || strcmp(r->tipo_dte, "14") == 0 || strcmp(r->tipo_dte, "11") == 0) {
		int y = atoi(sealed), m = atoi(sealed + 5) + 3, d = atoi(sealed + 8);
		static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int dim;
		if (m > 12) {
			m -= 12;
			y++;
		}
		dim = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
		if (d > dim)
			d = dim;
		snprintf(out, DATE_LEN + 1, "%04d-%02d-%02d", y, m, d);
	} else {
		date_add_days(sealed, 1, out);
	}
}

struct inval_state {
	struct dte_record *r;
	struct dte_event ev;
	char nit[16];
};

/* Validate and store the signed event (status sending). */
static int invalidation_prepare(struct app *app, const struct actor *who, const struct dte_invalidation_input *in,
				const char *codigo, const char *codigo_r, struct arena *a, struct inval_state *st,
				struct err *e)
{
	const char *tenant = who->tenant_id;
	static const char *const live[] = {"queued", "pending", "contingency", "accepted", NULL};
	struct tx t;
	struct dte_record *r = NULL, *rep = NULL, *notes = NULL;
	size_t nnotes = 0;
	json_t *tree = NULL, *emisor, *rec, *doc = NULL, *set = NULL;
	const json_t *sem;
	char today[DATE_LEN + 1], now_t[9], deadline[DATE_LEN + 1], *text = NULL, *jws = NULL;
	const char *tipo_doc, *num_doc, *nombre;
	int rc = tx_begin(app, &t, e);

	if (rc)
		return rc;
	rc = dte__get(t.c, tenant, DTE_BY_CODIGO, codigo, true, a, &r, e);
	if (rc)
		goto out;
	if (r->status != DTE_ST_ACCEPTED) {
		err_set(e, ERR_CONFLICT, NULL, "cannot invalidate: the DTE is %s", dte_status_name(r->status));
		rc = err_name(e, "INVALID_STATE");
		goto out;
	}
	dte__local_now(today, now_t);
	invalidation_deadline(r, deadline);
	if (strcmp(today, deadline) > 0) {
		err_set(e, ERR_CONFLICT, NULL, "cannot invalidate: MH's deadline for this DTE ended on %s", deadline);
		rc = err_name(e, "DEADLINE_PASSED");
		goto out;
	}
	if (codigo_r) {
		if (strcmp(codigo_r, codigo) == 0) {
			rc = err_set(e, ERR_INVALID, "codigoGeneracionR", "codigoGeneracionR must be another DTE");
			goto out;
		}
		rc = dte__get(t.c, tenant, DTE_BY_CODIGO, codigo_r, false, a, &rep, e);
		if (rc == ERR_NOT_FOUND) {
			rc = err_set(e, ERR_INVALID, "codigoGeneracionR", "codigoGeneracionR is not a DTE of this tenant");
			goto out;
		}
		if (rc)
			goto out;
		if (rep->status != DTE_ST_ACCEPTED) {
			rc = err_set(e, ERR_INVALID, "codigoGeneracionR",
				     "the replacement DTE must be accepted by MH first (it is %s)",
				     dte_status_name(rep->status));
			goto out;
		}
	}
	if (strcmp(r->tipo_dte, "03") == 0) {
		rc = dte__list_related(t.c, tenant, r->codigo_generacion, live, a, &notes, &nnotes, e);
		if (rc)
			goto out;
		if (nnotes > 0) {
			err_set(e, ERR_CONFLICT, NULL,
				"cannot invalidate: the Crédito Fiscal has notes (%s); invalidate them first",
				notes[0].codigo_generacion);
			rc = err_name(e, "INVALID_STATE");
			goto out;
		}
	}
	rc = dte_json_load(r->document_text, &tree, e);
	if (rc)
		goto out;
	rc = dte__tenant_settings(t.c, tenant, &set, e);
	if (rc)
		goto out;
	emisor = json_object_get(tree, "emisor");
	sem = json_object_get(set, "emisor");
	rec = json_object_get(tree, "receptor");
	tipo_doc = json_string_value(json_object_get(rec, "tipoDocumento"));
	num_doc = json_string_value(json_object_get(rec, "numDocumento"));
	nombre = json_string_value(json_object_get(rec, "nombre"));
	if (json_string_value(json_object_get(rec, "nit"))) { /* CCF/NC/ND receptor */
		tipo_doc = "36";
		num_doc = json_string_value(json_object_get(rec, "nit"));
	}
	if (!tipo_doc || !num_doc || !text_between(num_doc, 3, 20) || !text_between(nombre, 5, 200)) {
		/* anonymous consumer: the person asking for the invalidation identifies it */
		tipo_doc = in->tip_doc_solicita;
		num_doc = in->num_doc_solicita;
		nombre = in->nombre_solicita;
	}
	memset(&st->ev, 0, sizeof(st->ev));
	uuid_v4(st->ev.id);
	uuid_v4_upper(st->ev.codigo_generacion);
	snprintf(st->nit, sizeof(st->nit), "%s", json_string_value(json_object_get(emisor, "nit")));
	{
		const char *ne = json_string_value(json_object_get(emisor, "nombreComercial"));
		const char *cem = json_string_value(json_object_get(emisor, "codEstableMH"));
		const char *ce = json_string_value(json_object_get(emisor, "codEstable"));
		const char *cpm = json_string_value(json_object_get(emisor, "codPuntoVentaMH"));
		const char *cp = json_string_value(json_object_get(emisor, "codPuntoVenta"));
		const char *te = json_string_value(json_object_get(emisor, "tipoEstablecimiento"));
		const char *nom = json_string_value(json_object_get(emisor, "nombre"));
		/* NC/ND emisores carry no establishment codes: the tenant's settings */
		if (!cem)
			cem = jstr(sem, "codEstableMH");
		if (!ce)
			ce = jstr(sem, "codEstable");
		if (!cpm)
			cpm = jstr(sem, "codPuntoVentaMH");
		if (!cp)
			cp = jstr(sem, "codPuntoVenta");
		if (!te)
			te = jstr(sem, "tipoEstablecimiento") ? jstr(sem, "tipoEstablecimiento") : "02";
		if (!ne || !text_between(ne, 3, 150))
			ne = text_between(nom, 3, 150) ? nom : NULL;
		doc = json_pack(
		    "{s:{s:i, s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s}, "
		    "s:{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:o}, "
		    "s:{s:i, s:o, s:s, s:s, s:s, s:s, s:s, s:s}}",
		    "identificacion", "version", 2, "ambiente", r->ambiente, "codigoGeneracion", st->ev.codigo_generacion,
		    "fecAnula", today, "horAnula", now_t, "emisor", "nit", st->nit, "nombre", nom ? nom : "",
		    "tipoEstablecimiento", te, "nomEstablecimiento", ne ? json_string(ne) : json_null(), "codEstableMH",
		    cem ? json_string(cem) : json_null(), "codEstable", ce ? json_string(ce) : json_null(),
		    "codPuntoVentaMH", cpm ? json_string(cpm) : json_null(), "codPuntoVenta",
		    cp ? json_string(cp) : json_null(), "telefono",
		    phone_json(json_string_value(json_object_get(emisor, "telefono"))), "correo",
		    json_string_value(json_object_get(emisor, "correo")) ? json_string_value(json_object_get(emisor, "correo"))
									 : "",
		    "documento", "tipoDte", r->tipo_dte, "codigoGeneracion", r->codigo_generacion, "selloRecibido",
		    r->sello, "numeroControl", r->numero_control, "fecEmi", r->fec_emi, "montoIva",
		    dte_json_decimal(r->iva_cents, 2), "codigoGeneracionR",
		    codigo_r ? json_string(codigo_r) : json_null(), "tipoDocumento", tipo_doc, "numDocumento", num_doc,
		    "nombre", nombre, "telefono", phone_json(json_string_value(json_object_get(rec, "telefono"))),
		    "motivo", "tipoAnulacion", in->tipo_anulacion, "motivoAnulacion",
		    in->motivo_anulacion ? json_string(in->motivo_anulacion) : json_null(), "nombreResponsable",
		    in->nombre_responsable, "tipDocResponsable", in->tip_doc_responsable, "numDocResponsable",
		    in->num_doc_responsable, "nombreSolicita", in->nombre_solicita, "tipDocSolicita",
		    in->tip_doc_solicita, "numDocSolicita", in->num_doc_solicita);
	}
	if (!doc) {
		rc = err_set(e, ERR_INVALID, "codigoGeneracion", "the invalidation event cannot be built for this DTE");
		goto out;
	}
	{
		json_t *correo = json_object_get(rec, "correo");
		json_t *docu = json_object_get(doc, "documento");
		if (json_is_string(correo))
			json_object_set(docu, "correo", correo);
		if (json_is_null(json_object_get(docu, "telefono")))
			json_object_del(docu, "telefono");
	}
	if ((rc = dte_json_dump(doc, &text, e)) ||
	    (rc = dte__schema_check(dte_schema_name("anulacion", 2), text, e)) ||
	    (rc = dte__sign(app, st->nit, text, &jws, e)))
		goto out;
	snprintf(st->ev.tenant_id, sizeof(st->ev.tenant_id), "%s", tenant);
	snprintf(st->ev.kind, sizeof(st->ev.kind), "invalidacion");
	snprintf(st->ev.status, sizeof(st->ev.status), "sending");
	snprintf(st->ev.dte_id, sizeof(st->ev.dte_id), "%s", r->id);
	st->ev.event_text = arena_strdup(a, text);
	st->ev.jws = arena_strdup(a, jws);
	st->ev.tipo_anulacion = in->tipo_anulacion;
	if (codigo_r)
		snprintf(st->ev.codigo_generacion_r, sizeof(st->ev.codigo_generacion_r), "%s", codigo_r);
	snprintf(st->ev.created_by, sizeof(st->ev.created_by), "%s", who->id ? who->id : "");
	time_now_iso(st->ev.created_at);
	memcpy(st->ev.updated_at, st->ev.created_at, sizeof(st->ev.updated_at));
	rc = dte__event_insert(t.c, &st->ev, e);
	if (rc == 0) {
		json_t *after = json_pack("{s:s, s:s, s:i, s:s?}", "event", st->ev.codigo_generacion, "dte",
					  r->codigo_generacion, "tipoAnulacion", in->tipo_anulacion,
					  "codigoGeneracionR", codigo_r);
		rc = audit_record(t.c, who, "dte.invalidation.request", "dte", r->id, NULL, after,
				  in->motivo_anulacion, e);
		json_decref(after);
	}
	st->r = r;
out:
	free(text);
	free(jws);
	json_decref(doc);
	json_decref(tree);
	json_decref(set);
	return tx_end(&t, rc, e);
}

static void fill_result(struct dte_event_result *res, const struct dte_event *ev, const struct mh_answer *ans,
			struct arena *a)
{
	memset(res, 0, sizeof(*res));
	snprintf(res->id, sizeof(res->id), "%s", ev->id);
	snprintf(res->codigo_generacion, sizeof(res->codigo_generacion), "%s", ev->codigo_generacion);
	if (!ans)
		return;
	res->estado = arena_strdup(a, ans->estado[0] ? ans->estado : NULL);
	snprintf(res->sello, sizeof(res->sello), "%s", ans->sello);
	res->fh_procesamiento = arena_strdup(a, ans->fh_procesamiento[0] ? ans->fh_procesamiento : NULL);
	res->codigo_msg = arena_strdup(a, ans->codigo_msg[0] ? ans->codigo_msg : NULL);
	res->descripcion_msg = arena_strdup(a, ans->descripcion_msg[0] ? ans->descripcion_msg : NULL);
	res->observaciones = arena_strdup(a, ans->observaciones);
}

/* Store MH's answer to the invalidation event (and the DTE's new state). */
static int invalidation_store(struct app *app, const struct actor *who, struct inval_state *st,
			      const struct mh_answer *ans, const char *status, bool invalidated, struct arena *a,
			      struct dte_record **rec, struct err *e)
{
	struct tx t;
	struct dte_event *ev = NULL;
	struct dte_record *r = NULL;
	int rc = tx_begin(app, &t, e);

	if (rc)
		return rc;
	rc = dte__event_get(t.c, who->tenant_id, st->ev.id, true, a, &ev, e);
	if (rc == 0) {
		snprintf(ev->status, sizeof(ev->status), "%s", status);
		ev->attempts++;
		if (ans) {
			snprintf(ev->sello, sizeof(ev->sello), "%s", ans->sello);
			ev->fh_procesamiento = arena_strdup(a, ans->fh_procesamiento[0] ? ans->fh_procesamiento : NULL);
			ev->codigo_msg = arena_strdup(a, ans->codigo_msg[0] ? ans->codigo_msg : NULL);
			ev->descripcion_msg = arena_strdup(a, ans->descripcion_msg[0] ? ans->descripcion_msg : NULL);
			ev->observaciones = arena_strdup(a, ans->observaciones);
		} else {
			ev->last_error = "the Ministerio de Hacienda did not answer";
		}
		time_now_iso(ev->updated_at);
		rc = dte__event_update(t.c, ev, e);
	}
	if (rc == 0)
		rc = dte__get(t.c, who->tenant_id, DTE_BY_ID, st->ev.dte_id, true, a, &r, e);
	if (rc == 0 && invalidated && r->status == DTE_ST_ACCEPTED) {
		int prev = (int)r->status;
		r->status = DTE_ST_INVALIDATED;
		time_now_iso(r->invalidated_at);
		snprintf(r->invalidation_event_id, sizeof(r->invalidation_event_id), "%s", ev->id);
		if (st->ev.codigo_generacion_r[0]) {
			struct dte_record *rep = NULL;
			struct err e2;
			err_clear(&e2);
			/* the replacement takes over when it is the same document's */
			if (dte__get(t.c, who->tenant_id, DTE_BY_CODIGO, st->ev.codigo_generacion_r, false, a, &rep,
				     &e2) == 0 &&
			    strcmp(rep->document_id, r->document_id) == 0)
				snprintf(r->replaced_by, sizeof(r->replaced_by), "%s", rep->codigo_generacion);
		}
		rc = dte__save(t.c, who, r, prev, "dte.invalidate", "evento de invalidación PROCESADO", e);
	}
	if (rc == 0)
		*rec = r;
	return tx_end(&t, rc, e);
}

int dte_invalidate(struct app *app, const struct actor *who, const struct dte_invalidation_input *in,
		   struct arena *a, struct dte_record **rec, struct dte_event_result *res, struct err *e)
{
	struct inval_state st;
	struct mh_session s;
	struct mh_answer ans;
	struct err me;
	char codigo[UUID_LEN + 1], codigo_r[UUID_LEN + 1];
	int rc;

	*rec = NULL;
	memset(res, 0, sizeof(*res));
	memset(&st, 0, sizeof(st));
	memset(&ans, 0, sizeof(ans));
	err_clear(&me);
	if (!in->codigo_generacion || !uuid_valid(in->codigo_generacion))
		return err_set(e, ERR_INVALID, "codigoGeneracion", "codigoGeneracion must be the UUID of a DTE");
	if ((rc = invalidation_input_check(in, e)))
		return rc;
	snprintf(codigo, sizeof(codigo), "%s", in->codigo_generacion);
	for (char *p = codigo; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (in->codigo_generacion_r) {
		snprintf(codigo_r, sizeof(codigo_r), "%s", in->codigo_generacion_r);
		for (char *p = codigo_r; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
	}
	rc = invalidation_prepare(app, who, in, codigo, in->codigo_generacion_r ? codigo_r : NULL, a, &st, e);
	if (rc)
		return rc;
	rc = session_open(app, who->tenant_id, &s, NULL, e);
	if (rc)
		return rc;
	rc = mh_anular(&s.cli, st.r->ambiente, 1, 2, st.ev.jws, &ans, &me);
	session_close(&s);
	fill_result(res, &st.ev, rc ? NULL : &ans, a);
	if (rc) {
		invalidation_store(app, who, &st, NULL, "failed", false, a, rec, e);
		*e = me;
		rc = me.code;
		goto out;
	}
	if (mh_answer_accepted(&ans) || strcmp(ans.codigo_msg, "015") == 0) {
		/* PROCESADO, or MH says the DTE is already invalidated (an earlier event got through) */
		rc = invalidation_store(app, who, &st, &ans, "accepted", true, a, rec, e);
	} else {
		rc = invalidation_store(app, who, &st, &ans, "rejected", false, a, rec, e);
		if (rc == 0) {
			err_set(e, ERR_CONFLICT, NULL, "the Ministerio de Hacienda rejected the invalidation: %s %s",
				ans.codigo_msg, ans.descripcion_msg);
			rc = err_name(e, "MH_REJECTED");
		}
	}
	if (rc == 0)
		jobs_notify(app->jobs);
out:
	mh_answer_free(&ans);
	return rc;
}
