/*
 * auth_repo.h - every SQL statement of the identity module (auth_repo.c).
 *
 * Internal to src/mod/auth. Functions take a connection from the caller
 * (writes: inside the caller's transaction) and never decide policy: they
 * read and write rows. Tables: users, sessions, api_keys, api_key_tenants
 * (sql/{sqlite,pgsql}/0001_core.sql and 0007_auth.sql).
 */
#ifndef CL_AUTH_AUTH_REPO_H
#define CL_AUTH_AUTH_REPO_H

#include <stdint.h>

#include "db/db.h"
#include "mod/auth/accounts.h"

/* A users row with its secrets (never leaves the module). */
struct auth_user_row {
	struct user u;
	char password_hash[128];
	int64_t failed_logins;
	int tenant_active;
};

/* users ------------------------------------------------------------ */

/* By email (any tenant) / by id (tenant_id NULL = any). -> ERR_NOT_FOUND. */
int auth_repo_user_by_email(struct db_conn *c, const char *email, struct auth_user_row *out, struct err *e);
int auth_repo_user_by_id(struct db_conn *c, const char *tenant_id, const char *id, struct auth_user_row *out,
			 struct err *e);
/* Insert (duplicate email -> ERR_CONFLICT "email"). */
int auth_repo_user_insert(struct db_conn *c, const struct auth_user_row *r, struct err *e);
/* Write every column of r->u plus password_hash (empty = unchanged). */
int auth_repo_user_update(struct db_conn *c, const struct auth_user_row *r, struct err *e);
int auth_repo_user_list(struct db_conn *c, const char *tenant_id, int page, int limit, struct user **items, size_t *n,
			int64_t *total, struct err *e);
/* Count one more failure; when it reaches max_failures, lock until
 * lock_until and restart the count. *locked = 1 when this call locked. */
int auth_repo_user_login_failed(struct db_conn *c, const char *id, int max_failures, const char *lock_until,
				int *locked, struct err *e);
/* Reset the failure count and lock, set last_login_at. */
int auth_repo_user_login_ok(struct db_conn *c, const char *id, const char *now, struct err *e);
/* For auth_authenticate: active flags and role in one lookup. */
int auth_repo_user_state(struct db_conn *c, const char *id, char tenant_id[37], char role[32], int *active,
			 struct err *e);

/* sessions --------------------------------------------------------- */

struct auth_session_row {
	char id[37];
	char tenant_id[37];
	char user_id[37];
	char expires_at[21];
	char revoked_at[21];	 /* "" when live */
	char revoked_reason[16]; /* rotated | logout | reuse | password, "" when live */
};

int auth_repo_session_insert(struct db_conn *c, const struct auth_session_row *s, const char *token_hash,
			     const char *created_at, const char *ip, struct err *e);
int auth_repo_session_by_hash(struct db_conn *c, const char *token_hash, struct auth_session_row *out, struct err *e);
int auth_repo_session_by_id(struct db_conn *c, const char *id, struct auth_session_row *out, struct err *e);
/* Revoke one live session for reason (replaced_by may be NULL);
 * *revoked = rows changed (0 or 1). */
int auth_repo_session_revoke(struct db_conn *c, const char *id, const char *now, const char *reason,
			     const char *replaced_by, int64_t *revoked, struct err *e);
/* Revoke every live session of a user; *revoked = how many. */
int auth_repo_session_revoke_user(struct db_conn *c, const char *user_id, const char *now, const char *reason,
				  int64_t *revoked, struct err *e);

/* API keys --------------------------------------------------------- */

int auth_repo_apikey_insert(struct db_conn *c, const struct apikey *k, const char *key_hash, const char *perms_text,
			    struct err *e);
int auth_repo_apikey_tenant_insert(struct db_conn *c, const char *key_id, const char *tenant_id, struct err *e);
/* By id (tenant_id NULL = any tenant), extra tenants included. */
int auth_repo_apikey_by_id(struct db_conn *c, const char *tenant_id, const char *id, struct apikey *out, struct err *e);
/* By hash, for authentication: one query, without the extra tenants;
 * *tenant_active = the flag of the key's own tenant. */
int auth_repo_apikey_by_hash(struct db_conn *c, const char *key_hash, struct apikey *out, int *tenant_active,
			     struct err *e);
/* Does key_id serve extra tenant tenant_id? *active = that tenant's flag.
 * Not an extra tenant of the key -> ERR_NOT_FOUND. */
int auth_repo_apikey_serves(struct db_conn *c, const char *key_id, const char *tenant_id, int *active, struct err *e);
int auth_repo_apikey_list(struct db_conn *c, const char *tenant_id, int page, int limit, struct apikey **items,
			  size_t *n, int64_t *total, struct err *e);
int auth_repo_apikey_revoke(struct db_conn *c, const char *id, const char *now, int64_t *revoked, struct err *e);
/* Set last_used_at = now unless it is newer than not_after. */
int auth_repo_apikey_touch(struct db_conn *c, const char *id, const char *now, const char *not_after, struct err *e);

#endif
