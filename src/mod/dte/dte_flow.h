/*
 * dte_flow.h - internals shared by dte.c (issuing, state changes, the API
 * operations) and dte_jobs.c (everything that talks to MH: transmission,
 * contingency, invalidation, the token cache). Not part of the module's API
 * (dte.h); the dte__ prefix marks it.
 */
#ifndef CL_MOD_DTE_FLOW_H
#define CL_MOD_DTE_FLOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "core/err.h"
#include "core/mem.h"
#include "db/db.h"
#include "mod/audit/audit.h"
#include "mod/dte/dte.h"
#include "mod/dte/dte_repo.h"

/* err name of a configuration problem (no key, unreadable key): a person
 * must act, retrying cannot help. */
#define DTE_ERR_NOT_CONFIGURED "DTE_NOT_CONFIGURED"

/* What an issue needs beyond the document. All borrowed; NULL = none. */
struct dte_issue_args {
	const char *tipo_requested;	     /* "01" ... or NULL (automatic) */
	const struct dte_receptor *receptor; /* explicit receptor */
	bool use_receptor;		     /* receptor given (even NULL for an anonymous 01) */
	const struct dte_doc_rel *doc_rel;   /* NC/ND */
	size_t ndoc_rel;
	const struct dte_apendice *apendice;
	size_t napendice;
};

/* A system actor for tenant_id acting as `id` (a job kind). */
struct actor dte__system_actor(const char *tenant_id, const char *id);

/* America/El_Salvador local date and time now (or at epoch_s). */
void dte__local_now(char date[DATE_LEN + 1], char time_of_day[9]);
void dte__local_at(int64_t epoch_s, char date[DATE_LEN + 1], char time_of_day[9]);

/* The tenant's settings object (an owned copy; never NULL on success). */
int dte__tenant_settings(struct db_conn *c, const char *tenant_id, json_t **out, struct err *e);

/* Check exact DTE / event text against MH's embedded schema `name`
 * (dte_schema_name). Failure -> ERR_INVALID naming the first path. The v1
 * schemas' pre-2024 municipio patterns are not held against a document
 * (docs/dte.md, README §3.8): MH's catalog is authoritative. */
int dte__schema_check(const char *name, const char *text, struct err *e);

/* Sign exact text with the configured key (DTE_PRIVATE_KEY / DTE_CERTIFICATE),
 * refusing an emisor NIT that is not the key's (DTE_NIT_EMISOR, or the NIT of
 * an MH certificate file). *jws owned. */
int dte__sign(struct app *app, const char *emisor_nit, const char *text, char **jws, struct err *e);

/* Build, check and sign the DTE of doc into r (r->id, tenant_id,
 * document_id, codigo_generacion set by the caller; the rest is filled:
 * type, version, ambiente, a NEW numeroControl from the tenant's sequence,
 * fecEmi/horEmi now, normal transmission, text, jws, totals, issued_at). r's
 * status is not changed. Nothing is written but the sequence. */
int dte__issue_row(struct app *app, struct db_conn *c, const struct bill_document *doc,
		   const struct dte_issue_args *args, struct arena *a, struct dte_record *r, struct err *e);

/* Insert a new row r (with its history entry, audit `action` and the state
 * listeners). tipo_requested may be NULL. */
int dte__create(struct db_conn *c, const struct actor *who, struct dte_record *r, const char *tipo_requested,
		const char *action, const char *note, struct err *e);
/* Write r. previous < 0: a plain update of the row. Otherwise also a
 * history entry (previous -> r->status, note) and audit `action`, and the
 * state listeners when the status changed. */
int dte__save(struct db_conn *c, const struct actor *who, struct dte_record *r, int previous, const char *action,
	      const char *note, struct err *e);

/* Enqueue the submission of r for its generation r->submit_gen (dedupe
 * "dte.submit:<codigo>:<gen>"), in c's transaction. */
int dte__enqueue_submit(struct db_conn *c, const struct dte_record *r, int64_t delay_s, struct err *e);

/* Mark r accepted / rejected from MH's answer (r locked by the caller's
 * transaction), with history, audit and listeners. */
struct mh_answer;
int dte__accept(struct db_conn *c, const struct actor *who, struct dte_record *r, const struct mh_answer *ans,
		struct arena *a, struct err *e);
int dte__reject(struct db_conn *c, const struct actor *who, struct dte_record *r, const struct mh_answer *ans,
		struct arena *a, struct err *e);

/* Move a pending DTE into contingency (README §1.7): re-issue it with
 * tipoModelo 2, tipoOperacion 2, tipoContingencia 1 (same codigoGeneracion,
 * numeroControl, fecEmi/horEmi), keep the normal version, attach it to the
 * tenant's open contingency event (created when none) and enqueue that
 * event's job. In c's transaction. */
int dte__enter_contingency(struct app *app, struct db_conn *c, const struct actor *who, struct dte_record *r,
			   struct arena *a, struct err *e);

/* Attach r (its contingency version already issued) to the tenant's open
 * contingency event, creating one when none is open, set it contingency
 * (from `previous`, with `note`) and enqueue the event's job. */
int dte__attach_contingency(struct db_conn *c, const struct actor *who, struct dte_record *r, int previous,
			    const char *note, struct arena *a, struct err *e);

/* Enqueue the job of contingency event id (dedupe "dte.contingency:<id>" +
 * suffix, "" for the first). */
int dte__enqueue_contingency(struct db_conn *c, const char *tenant_id, const char *event_id, const char *suffix,
			     struct err *e);

/* Transmit DTE dte_id of tenant_id once under MH's retry policy (dte_jobs.c):
 * 0 when the DTE needs nothing more from this run (accepted, rejected,
 * error, contingency), ERR_UPSTREAM when MH did not answer and the job must
 * try again. */
int dte__transmit(struct app *app, const char *tenant_id, const char *dte_id, struct err *e);

#endif
