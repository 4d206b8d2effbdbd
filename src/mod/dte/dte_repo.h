/*
 * dte_repo.h - all the SQL of the DTE flow (migration 0010_dte): DTE rows,
 * their state history, the events sent to MH (contingencia, invalidación)
 * and the MH token cache. Internal to src/mod/dte (the dte__ prefix).
 *
 * Every statement filters by tenant_id, except the maintenance queries of
 * the sweep job (named *_all_tenants). Functions taking c run on the
 * caller's connection and transaction; "_for_update" variants lock the row
 * on PostgreSQL (SQLite's single writer already serialises writers).
 * Strings of records are copied into the arena given.
 */
#ifndef CL_MOD_DTE_REPO_H
#define CL_MOD_DTE_REPO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/mem.h"
#include "db/db.h"
#include "mod/dte/dte.h"

/* ---- dtes ---- */

/* Insert r (all members) with the requested type (NULL = automatic). */
int dte__insert(struct db_conn *c, const struct dte_record *r, const char *tipo_requested, struct err *e);
/* Write every mutable member of r (by r->id and r->tenant_id). */
int dte__update(struct db_conn *c, const struct dte_record *r, struct err *e);

enum dte_lookup { DTE_BY_ID, DTE_BY_CODIGO };
/* One row; lock it (PostgreSQL FOR UPDATE) when for_update. ERR_NOT_FOUND. */
int dte__get(struct db_conn *c, const char *tenant_id, enum dte_lookup by, const char *key, bool for_update,
	     struct arena *a, struct dte_record **out, struct err *e);
/* The type a queued row was requested with (NULL = automatic), in a. */
int dte__tipo_requested(struct db_conn *c, const char *tenant_id, const char *id, struct arena *a, const char **out,
			struct err *e);
/* The current DTE of a document: newest row not replaced. ERR_NOT_FOUND. */
int dte__current(struct db_conn *c, const char *tenant_id, const char *document_id, bool for_update,
		 struct arena *a, struct dte_record **out, struct err *e);
/* Every DTE of a document, oldest first. */
int dte__list_document(struct db_conn *c, const char *tenant_id, const char *document_id, struct arena *a,
		       struct dte_record **out, size_t *n, struct err *e);
/* Whether the document has any DTE row. */
int dte__document_has_dte(struct db_conn *c, const char *tenant_id, const char *document_id, bool *has,
			  struct err *e);
/* DTEs related to codigo (notes of a CCF) in the given statuses (a
 * NULL-terminated list of names); *out arena array. */
int dte__list_related(struct db_conn *c, const char *tenant_id, const char *codigo, const char *const *statuses,
		      struct arena *a, struct dte_record **out, size_t *n, struct err *e);
/* Contingency rows of an event (contingency_event_id = event_id). */
int dte__list_event_members(struct db_conn *c, const char *tenant_id, const char *event_id, struct arena *a,
			    struct dte_record **out, size_t *n, struct err *e);

/* Take the next value of the tenant's sequence `name` (table sequences:
 * upsert ... RETURNING, gap-free inside the transaction). */
int dte__sequence_next(struct db_conn *c, const char *tenant_id, const char *name, int64_t *value, struct err *e);
/* Whether a job with this dedupe key is queued, running or failed (will run again). */
int dte__job_alive(struct db_conn *c, const char *dedupe_key, bool *alive, struct err *e);

/* ---- history ---- */

/* Append a state change (n = previous + 1). from may be NULL (creation). */
int dte__history_add(struct db_conn *c, const char *tenant_id, const char *dte_id, const char *from, const char *to,
		     const char *note, const char *actor, struct err *e);
/* [{at, from, to, note, actor}], oldest first. Owned. */
int dte__history_json(struct db_conn *c, const char *tenant_id, const char *dte_id, json_t **out, struct err *e);

/* ---- events ---- */

struct dte_event {
	char id[UUID_LEN + 1];
	char tenant_id[UUID_LEN + 1];
	char kind[16];	 /* "contingencia" | "invalidacion" */
	char status[12]; /* "open" | "sending" | "accepted" | "rejected" | "failed" */
	char codigo_generacion[UUID_LEN + 1]; /* "" while open */
	char dte_id[UUID_LEN + 1];	      /* invalidación: the DTE */
	const char *event_text;
	const char *jws;
	char f_inicio[DATE_LEN + 1], h_inicio[9], f_fin[DATE_LEN + 1], h_fin[9];
	int tipo_anulacion;
	char codigo_generacion_r[UUID_LEN + 1];
	char sello[DTE_SELLO_LEN + 1];
	const char *fh_procesamiento;
	const char *codigo_msg;
	const char *descripcion_msg;
	const char *observaciones;
	int attempts;
	const char *last_error;
	char created_by[40];
	char created_at[TIME_ISO_LEN + 1];
	char updated_at[TIME_ISO_LEN + 1];
};

int dte__event_insert(struct db_conn *c, const struct dte_event *ev, struct err *e);
int dte__event_update(struct db_conn *c, const struct dte_event *ev, struct err *e);
int dte__event_get(struct db_conn *c, const char *tenant_id, const char *id, bool for_update, struct arena *a,
		   struct dte_event **out, struct err *e);
/* The tenant's open contingency event. ERR_NOT_FOUND when none. */
int dte__event_open(struct db_conn *c, const char *tenant_id, struct arena *a, struct dte_event **out,
		    struct err *e);

/* ---- MH tokens (encrypted by the caller) ---- */

int dte__token_load(struct db_conn *c, const char *tenant_id, const char *user, const char *endpoint,
		    char **token_enc, int64_t *expires_s, struct err *e);
int dte__token_save(struct db_conn *c, const char *tenant_id, const char *user, const char *endpoint,
		    const char *token_enc, int64_t expires_s, struct err *e);
int dte__token_drop(struct db_conn *c, const char *tenant_id, const char *user, const char *endpoint,
		    struct err *e);

/* ---- maintenance (all tenants) ---- */

/* Work whose job is gone: {tenant_id, id, kind} where kind is "submit" for
 * queued/pending rows untouched since before cutoff without a live
 * dte.submit job of their current generation, and "contingency" for
 * open/sending contingency events without a live dte.contingency job.
 * At most limit rows. *out owned (db_rows); columns tenant_id, id, kind. */
int dte__orphans_all_tenants(struct db_conn *c, const char *cutoff, int limit, struct db_rows **out,
			     struct err *e);

/* ---- reports ---- */

/* Rows (status, tipo_dte, count) of the tenant in [from, to] (dates of
 * created_at; NULL = open). */
int dte__report_counts(struct db_conn *c, const char *tenant_id, const char *from, const char *to,
		       struct db_rows **out, struct err *e);
/* Rejected and error DTEs, newest first (at most limit). */
int dte__report_problems(struct db_conn *c, const char *tenant_id, const char *from, const char *to, int limit,
			 struct arena *a, struct dte_record **out, size_t *n, struct err *e);
/* Pending work (queued, pending, contingency): count and oldest created_at. */
int dte__report_pending(struct db_conn *c, const char *tenant_id, struct db_rows **out, struct err *e);
/* Contingency events not yet accepted. */
int dte__report_events(struct db_conn *c, const char *tenant_id, struct db_rows **out, struct err *e);

#endif
