/*
 * audit.h - the append-only, hash-chained audit trail.
 *
 * Every write records one entry in the same transaction as the write:
 * who (user or API key), tenant, IP, action, entity, before and after
 * values, reason and request id. Each entry's hash is
 *   SHA-256(prev_hash || "\n" || canonical text of the entry's fields)
 * chained per tenant through audit_chain(tenant_id, seq, last_hash), whose
 * row is updated first so concurrent writers of one tenant serialise on it
 * (a row lock in PostgreSQL; the single writer in SQLite).
 * Nothing updates or deletes audit_log rows.
 */
#ifndef CL_AUDIT_AUDIT_H
#define CL_AUDIT_AUDIT_H

#include <jansson.h>

#include "core/err.h"
#include "db/db.h"

/* Who is acting, for audit and ownership. All strings borrowed. */
struct actor {
	const char *tenant_id;  /* tenant the action is scoped to */
	const char *kind;       /* "user" | "api_key" | "system" */
	const char *id;         /* user id / api key id / job kind */
	const char *ip;         /* client address or NULL */
	const char *request_id; /* X-Request-Id or NULL */
	const char *idempotency_key; /* Idempotency-Key of the request, or NULL: audit_record marks
	                                the key's reservation committed in the same transaction */
};

/* Append one entry inside the caller's open write transaction on c.
 * before/after may be NULL (create / delete); they are borrowed and stored as
 * canonical JSON (sorted keys). reason may be NULL. */
int audit_record(struct db_conn *c, const struct actor *who, const char *action, const char *entity,
		 const char *entity_id, json_t *before, json_t *after, const char *reason, struct err *e);

struct audit_verify_result {
	int64_t entries;    /* entries checked */
	int64_t tenants;    /* chains checked */
	int64_t broken;     /* 0 when every chain is intact */
	char first_bad_tenant[40];
	int64_t first_bad_seq; /* seq of the first entry whose hash or position is wrong */
};

/* Recompute every tenant's chain (or one tenant's when tenant_id != NULL).
 * A broken chain is not an error: it is reported in *out. */
int audit_verify(struct db *db, const char *tenant_id, struct audit_verify_result *out, struct err *e);

/* One tenant's verdict, as audit_verify_each reports it. Strings borrowed
 * for the duration of the callback. */
struct audit_verify_tenant {
	const char *tenant_id;
	int64_t entries;     /* entries found intact (up to the break, if any) */
	bool intact;
	int64_t bad_seq;     /* !intact: first seq whose entry is wrong or missing */
	const char *problem; /* !intact: static text, e.g. "hash mismatch" */
};

typedef void (*audit_verify_fn)(const struct audit_verify_tenant *t, void *ud);

/* audit_verify, calling fn (may be NULL) once per tenant checked, in
 * tenant id order. Each tenant is read in one snapshot (a read transaction,
 * REPEATABLE READ in PostgreSQL), so concurrent writers cause no false
 * alarms. Checks: seq runs 1, 2, 3... without gaps; every prev_hash is the
 * previous entry's hash ("" for seq 1); every hash recomputes from the
 * stored fields; audit_chain's last_seq/last_hash name the last entry and
 * no entry lies beyond it. Fails only on database errors. */
int audit_verify_each(struct db *db, const char *tenant_id, audit_verify_fn fn, void *ud,
		      struct audit_verify_result *out, struct err *e);

#endif
