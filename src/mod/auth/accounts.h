/*
 * accounts.h - the identity domain behind auth.h: users, login sessions
 * (refresh tokens) and API keys.
 *
 * Users belong to one tenant, have one role (perm_role_names) whose default
 * permissions they get, and log in with email (unique across tenants,
 * stored lower-case) and password (argon2id). A login opens a session: an
 * opaque refresh token "clr_..." stored only as its SHA-256 hex, and a
 * short-lived HS256 access token naming the session (sid). Refreshing
 * rotates the refresh token; presenting a rotated one again is treated as
 * theft and revokes every session of the user. Consecutive failed logins
 * lock the account for cfg.login_lock_s.
 *
 * API keys "clk_..." are stored as SHA-256 hex plus a display prefix (the
 * first 12 characters); their permissions are an explicit list, never more
 * than their creator holds; they act in their own tenant and in the extra
 * tenants of api_key_tenants (granted from the command line only).
 *
 * Every write audits in its own transaction; passwords, hashes and tokens
 * never appear in audit values, logs or errors.
 */
#ifndef CL_AUTH_ACCOUNTS_H
#define CL_AUTH_ACCOUNTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "core/err.h"
#include "db/db.h"
#include "mod/audit/audit.h"
#include "mod/auth/perm.h"

#define EMAIL_MAX		 254
#define APIKEY_PREFIX_LEN	 12
#define APIKEY_MAX_EXTRA_TENANTS 32

/* ---- permissions as text ---- */

/* Parse a space-separated list of permission names ("billing:read
 * patients:*"); empty or unknown name -> ERR_INVALID naming field. */
int accounts_perms_parse(const char *text, perm_set *out, const char *field, struct err *e);
/* Space-separated names of every permission in s, in table order. Owned. */
char *accounts_perms_text(perm_set s);
/* JSON array of the names of s. Owned. */
json_t *accounts_perms_json(perm_set s);

/* ---- users ---- */

struct user {
	char id[37];
	char tenant_id[37];
	char email[EMAIL_MAX + 1];
	char full_name[128];
	char role[32];
	int active;
	char last_login_at[21]; /* "" when never */
	char locked_until[21];	/* "" when not locked */
	char created_at[21];
	char updated_at[21];
};

/* Create/update input; strings borrowed, NULL = absent (update keeps the
 * value). active: -1 absent, 0 or 1. */
struct user_input {
	const char *email;
	const char *password;
	const char *full_name;
	const char *role;
	int active;
};

/* Lower-case and trim an email, check its shape -> out (EMAIL_MAX + 1).
 * Bad -> ERR_INVALID naming field. */
int users_email_normalize(const char *in, char *out, size_t outlen, const char *field, struct err *e);

/* Create a user in actor->tenant_id. Required: email, password (policy),
 * full_name, role (known, and its permissions within granter_perms).
 * Email taken (any tenant) -> ERR_CONFLICT "email". c: open write tx.
 * Audits "user.create". *out (may be NULL) gets the user. */
int users_create(struct db_conn *c, const struct actor *actor, perm_set granter_perms, const struct user_input *in,
		 struct user *out, struct err *e);

/* Partial update of user id in actor->tenant_id (another tenant's ->
 * ERR_NOT_FOUND). Deactivating yourself (self_id) -> ERR_INVALID "active".
 * A new password or deactivation revokes the user's sessions. Audits
 * "user.update". c: open write tx. */
int users_update(struct db_conn *c, const struct actor *actor, perm_set granter_perms, const char *self_id,
		 const char *id, const struct user_input *in, struct user *out, struct err *e);

/* One user of tenant_id; absent -> ERR_NOT_FOUND. */
int users_get(struct db_conn *c, const char *tenant_id, const char *id, struct user *out, struct err *e);

/* A page of tenant_id's users ordered by email; *items owned (free()). */
int users_list(struct db_conn *c, const char *tenant_id, int page, int limit, struct user **items, size_t *n,
	       int64_t *total, struct err *e);

/* {id, email, fullName, role, tenantId, active, lastLoginAt, lockedUntil,
 * createdAt, updatedAt}. Owned. */
json_t *user_to_json(const struct user *u);

/* A random password that satisfies password_check_policy. Owned; wipe and
 * free it after use. */
char *users_generate_password(void);

/* ---- sessions: login, refresh, logout ---- */

struct auth_tokens {
	char *access_token;  /* owned */
	char *refresh_token; /* owned */
	int expires_in_s;
	struct user user;
	perm_set perms;
};

/* Where a credential request came from (both may be NULL). */
struct auth_origin {
	const char *ip;
	const char *request_id;
};

/* Check email/password and open a session. Unknown email, wrong password,
 * inactive user or tenant -> ERR_UNAUTHORIZED "invalid email or password"
 * (same cost for every case); locked -> ERR_LOCKED. */
int sessions_login(struct app *app, const char *email, const char *password, const struct auth_origin *from,
		   struct auth_tokens *out, struct err *e);

/* Rotate a refresh token: the old session is revoked, a new one opened.
 * Unknown/expired/logged out -> ERR_UNAUTHORIZED; an already rotated token
 * (reuse) -> all the user's sessions are revoked and ERR_UNAUTHORIZED. */
int sessions_refresh(struct app *app, const char *refresh_token, const struct auth_origin *from,
		     struct auth_tokens *out, struct err *e);

/* Revoke the caller's session (session_id), and the session of
 * refresh_token too when given and it belongs to the same user. */
int sessions_logout(struct app *app, const struct actor *actor, const char *user_id, const char *session_id,
		    const char *refresh_token, struct err *e);

void auth_tokens_release(struct auth_tokens *t);

/* ---- API keys ---- */

struct apikey {
	char id[37];
	char tenant_id[37];
	char name[128];
	char prefix[APIKEY_PREFIX_LEN + 1];
	perm_set perms;
	char created_by[40];
	char created_at[21];
	char last_used_at[21]; /* "" when never */
	char revoked_at[21];   /* "" when active */
	char extra_tenants[APIKEY_MAX_EXTRA_TENANTS][37];
	size_t n_extra_tenants;
};

struct apikey_input {
	const char *name;
	perm_set perms;
	const char *const *extra_tenant_ids; /* other tenants the key serves (already checked) */
	size_t n_extra_tenants;
	const char *created_by; /* user id, or "cli" */
};

/* Create a key in actor->tenant_id. perms must be non-empty and within
 * granter_perms (-> ERR_FORBIDDEN "permissions"). *key_out (owned) is the
 * secret, shown once. Audits "apikey.create". c: open write tx. */
int apikeys_create(struct db_conn *c, const struct actor *actor, perm_set granter_perms, const struct apikey_input *in,
		   struct apikey *out, char **key_out, struct err *e);

/* A page of tenant_id's keys (revoked ones included), newest first.
 * *items owned (free()). */
int apikeys_list(struct db_conn *c, const char *tenant_id, int page, int limit, struct apikey **items, size_t *n,
		 int64_t *total, struct err *e);

/* Load key id; tenant_id NULL = any tenant (CLI). Absent -> ERR_NOT_FOUND. */
int apikeys_get(struct db_conn *c, const char *tenant_id, const char *id, struct apikey *out, struct err *e);

/* Revoke key id of actor->tenant_id (already revoked -> ERR_CONFLICT).
 * Audits "apikey.revoke". c: open write tx. */
int apikeys_revoke(struct db_conn *c, const struct actor *actor, const char *id, struct apikey *out, struct err *e);

/* {id, name, prefix, permissions, tenantId, tenants, createdBy, createdAt,
 * lastUsedAt, revokedAt, active}. Never the key. Owned. */
json_t *apikey_to_json(const struct apikey *k);

#endif
