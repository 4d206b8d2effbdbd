/*
 * audit_repo.h - internal to src/mod/audit: the entry record, its canonical
 * hash, and every SQL statement of the module (audit_repo.c).
 *
 * audit.c (recording, verification), audit_http.c (listing, CSV export) and
 * audit_cli.c include this header; nothing outside the module does.
 */
#ifndef CL_AUDIT_AUDIT_REPO_H
#define CL_AUDIT_AUDIT_REPO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

#define AUDIT_HASH_LEN 64 /* lower-case hex SHA-256 */

/* One audit_log row. Strings borrowed (from the caller or from a db_rows). */
struct audit_entry {
	const char *id;
	const char *tenant_id;
	int64_t seq;
	const char *at;
	const char *actor_type;
	const char *actor_id; /* may be NULL */
	const char *ip;	      /* may be NULL */
	const char *action;
	const char *entity;
	const char *entity_id;	 /* may be NULL */
	const char *before_json; /* canonical JSON text or NULL */
	const char *after_json;	 /* canonical JSON text or NULL */
	const char *reason;	 /* may be NULL */
	const char *request_id;	 /* may be NULL */
	const char *prev_hash;	 /* "" for seq 1 */
	const char *hash;
};

/* hash = SHA-256 hex of prev_hash "\n" canonical, where canonical is the
 * compact JSON array (ASCII-only, "\uXXXX" escapes) of
 *   [id, tenant_id, seq, at, actor_type, actor_id, ip, action, entity,
 *    entity_id, before_json, after_json, reason, request_id]
 * with NULL fields as JSON null and seq as a number. The entry's own
 * prev_hash is used; its hash field is ignored. Fails (ERR_INVALID) only
 * when a text field is not valid UTF-8. */
int audit_entry_hash(const struct audit_entry *en, char out[AUDIT_HASH_LEN + 1], struct err *e);

/* ---- chain head (audit_chain) ---- */

/* Inside an open write transaction: create the tenant's chain row if
 * missing, advance it by one (locking it in PostgreSQL) and return the new
 * seq and the previous hash ("" for the first entry). */
int audit_repo_chain_advance(struct db_conn *c, const char *tenant_id, int64_t *seq, char prev_hash[AUDIT_HASH_LEN + 1],
			     struct err *e);
/* Store the hash of the entry just appended as the chain's last hash. */
int audit_repo_chain_set_hash(struct db_conn *c, const char *tenant_id, const char *hash, struct err *e);
/* Read a tenant's head; *found false (and 0, "") when it has no row. */
int audit_repo_chain_get(struct db_conn *c, const char *tenant_id, bool *found, int64_t *last_seq,
			 char last_hash[AUDIT_HASH_LEN + 1], struct err *e);

/* Mark the tenant's Idempotency-Key reservation `key` committed (naming
 * the entity written) when it is still 'processing'; a no-op otherwise, so
 * the first audited write of a request names it. See http/idempotency.h. */
int audit_repo_idem_commit(struct db_conn *c, const char *tenant_id, const char *key, const char *entity,
			   const char *entity_id, const char *now, struct err *e);

/* ---- entries ---- */

int audit_repo_insert(struct db_conn *c, const struct audit_entry *en, struct err *e);

/* Every tenant having a chain row or entries, ordered. *out owned
 * (db_rows_free); one column: tenant_id. */
int audit_repo_tenants(struct db_conn *c, struct db_rows **out, struct err *e);

/* Entries of a tenant with after_seq < seq <= max_seq in seq order, at most
 * limit rows. *out owned; read rows with audit_repo_row. */
int audit_repo_page_by_seq(struct db_conn *c, const char *tenant_id, int64_t after_seq, int64_t max_seq, int limit,
			   struct db_rows **out, struct err *e);
/* Number of a tenant's entries with seq > after_seq. */
int audit_repo_count_after(struct db_conn *c, const char *tenant_id, int64_t after_seq, int64_t *n, struct err *e);

/* Fill en from row i of rows returned by the audit_repo_page_* / list
 * functions. Strings borrowed from r. */
void audit_repo_row(const struct db_rows *r, size_t i, struct audit_entry *en);

/* ---- listing (GET /api/audit-logs) ---- */

/* Filters; NULL members are not applied. at_from/at_to are normalised
 * timestamps "YYYY-MM-DDTHH:MM:SSZ"; at_to_exclusive selects at < at_to
 * (a whole day ending) instead of at <= at_to. */
struct audit_filter {
	const char *tenant_id; /* required */
	const char *at_from;
	const char *at_to;
	bool at_to_exclusive;
	const char *actor_id;
	const char *actor_type;
	const char *entity;
	const char *entity_id;
	const char *action;
	const char *request_id;
};

int audit_repo_count(struct db_conn *c, const struct audit_filter *f, int64_t *total, struct err *e);
/* Matching entries newest first (seq descending). before_seq > 0 limits to
 * seq < before_seq (keyset paging for exports); offset skips rows. */
int audit_repo_list(struct db_conn *c, const struct audit_filter *f, int64_t before_seq, int64_t offset, int limit,
		    struct db_rows **out, struct err *e);

/* ---- tenants (table of migration 0001) ---- */

/* Tenant id of a slug into out; ERR_NOT_FOUND when there is none. */
int audit_repo_tenant_by_slug(struct db_conn *c, const char *slug, char out[40], struct err *e);
/* Slug of a tenant id into out, or "" when the tenant row is gone. */
int audit_repo_tenant_slug(struct db_conn *c, const char *tenant_id, char *out, size_t outlen, struct err *e);

#endif
