/*
 * auth_repo.c - the SQL of the identity module: users, sessions, API keys.
 *
 * Plain reads and writes on the caller's connection, portable dialect with
 * '?' placeholders and bound parameters only. Unique violations surface as
 * ERR_CONFLICT from db.h; this file names the field. Policy (lockout,
 * rotation, permission subsets) lives in auth_users.c, auth_sessions.c and
 * auth_apikeys.c.
 */
#include "mod/auth/auth_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* Copy a nullable column into dst (always terminated; NULL -> ""). */
static void col(char *dst, size_t cap, const struct db_rows *r, size_t row, size_t c)
{
	const char *s = db_rows_text(r, row, c);

	snprintf(dst, cap, "%s", s ? s : "");
}

/* ---- users ---- */

#define USER_COLS                                                                                                      \
	"u.id, u.tenant_id, u.email_norm, u.full_name, u.role, u.active, u.last_login_at, u.locked_until, "            \
	"u.created_at, u.updated_at, u.password_hash, u.failed_logins, t.active"

static void user_from_row(const struct db_rows *r, size_t i, struct auth_user_row *out)
{
	memset(out, 0, sizeof(*out));
	col(out->u.id, sizeof(out->u.id), r, i, 0);
	col(out->u.tenant_id, sizeof(out->u.tenant_id), r, i, 1);
	col(out->u.email, sizeof(out->u.email), r, i, 2);
	col(out->u.full_name, sizeof(out->u.full_name), r, i, 3);
	col(out->u.role, sizeof(out->u.role), r, i, 4);
	out->u.active = (int)db_rows_int(r, i, 5);
	col(out->u.last_login_at, sizeof(out->u.last_login_at), r, i, 6);
	col(out->u.locked_until, sizeof(out->u.locked_until), r, i, 7);
	col(out->u.created_at, sizeof(out->u.created_at), r, i, 8);
	col(out->u.updated_at, sizeof(out->u.updated_at), r, i, 9);
	col(out->password_hash, sizeof(out->password_hash), r, i, 10);
	out->failed_logins = db_rows_int(r, i, 11);
	out->tenant_active = (int)db_rows_int(r, i, 12);
}

static int user_one(struct db_conn *c, const char *sql, const struct db_param *p, size_t np, struct auth_user_row *out,
		    struct err *e)
{
	struct db_rows *r = NULL;
	int rc = db_query(c, sql, p, np, &r, e);

	if (rc)
		return rc;
	if (db_rows_count(r) == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "user not found");
	else
		user_from_row(r, 0, out);
	db_rows_free(r);
	return rc;
}

int auth_repo_user_by_email(struct db_conn *c, const char *email, struct auth_user_row *out, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(email)};

	return user_one(c,
			"SELECT " USER_COLS " FROM users u JOIN tenants t ON t.id = u.tenant_id"
			" WHERE u.email_norm = ?",
			p, DB_NPARAMS(p), out, e);
}

int auth_repo_user_by_id(struct db_conn *c, const char *tenant_id, const char *id, struct auth_user_row *out,
			 struct err *e)
{
	struct db_param p[] = {DBP_TEXT(id), DBP_TEXT(tenant_id)};

	if (!tenant_id)
		return user_one(c,
				"SELECT " USER_COLS " FROM users u JOIN tenants t ON t.id = u.tenant_id"
				" WHERE u.id = ?",
				p, 1, out, e);
	return user_one(c,
			"SELECT " USER_COLS " FROM users u JOIN tenants t ON t.id = u.tenant_id"
			" WHERE u.id = ? AND u.tenant_id = ?",
			p, DB_NPARAMS(p), out, e);
}

static int email_conflict(int rc, struct err *e)
{
	if (rc == ERR_CONFLICT)
		return err_set(e, ERR_CONFLICT, "email", "a user with this email already exists");
	return rc;
}

int auth_repo_user_insert(struct db_conn *c, const struct auth_user_row *r, struct err *e)
{
	struct db_param p[] = {
	    DBP_TEXT(r->u.id),		DBP_TEXT(r->u.tenant_id),  DBP_TEXT(r->u.email), DBP_TEXT(r->u.email),
	    DBP_TEXT(r->password_hash), DBP_TEXT(r->u.full_name),  DBP_TEXT(r->u.role),	 DBP_INT(r->u.active),
	    DBP_TEXT(r->u.created_at),	DBP_TEXT(r->u.updated_at),
	};

	return email_conflict(db_exec(c,
				      "INSERT INTO users (id, tenant_id, email, email_norm, password_hash,"
				      " full_name, role, active, failed_logins, created_at, updated_at)"
				      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
				      p, DB_NPARAMS(p), NULL, e),
			      e);
}

int auth_repo_user_update(struct db_conn *c, const struct auth_user_row *r, struct err *e)
{
	struct db_param p[] = {
	    DBP_TEXT(r->u.email), DBP_TEXT(r->u.email),	     DBP_TEXT(r->u.full_name),	 DBP_TEXT(r->u.role),
	    DBP_INT(r->u.active), DBP_TEXT(r->u.updated_at), DBP_TEXT(r->password_hash), DBP_TEXT(r->password_hash),
	    DBP_TEXT(r->u.id),	  DBP_TEXT(r->u.tenant_id),
	};
	int64_t n = 0;
	int rc = db_exec(c,
			 "UPDATE users SET email = ?, email_norm = ?, full_name = ?, role = ?, active = ?,"
			 " updated_at = ?,"
			 " password_hash = CASE WHEN CAST(? AS TEXT) = '' THEN password_hash ELSE ? END"
			 " WHERE id = ? AND tenant_id = ?",
			 p, DB_NPARAMS(p), &n, e);

	if (rc)
		return email_conflict(rc, e);
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "user not found");
	return 0;
}

int auth_repo_user_list(struct db_conn *c, const char *tenant_id, int page, int limit, struct user **items, size_t *n,
			int64_t *total, struct err *e)
{
	struct db_param pc[] = {DBP_TEXT(tenant_id)};
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_INT(limit), DBP_INT((int64_t)(page - 1) * limit)};
	struct db_rows *r = NULL;
	struct auth_user_row row;
	int rc;

	*items = NULL;
	*n = 0;
	rc = db_query_int(c, "SELECT COUNT(*) FROM users WHERE tenant_id = ?", pc, 1, total, e);
	if (rc)
		return rc;
	rc = db_query(c,
		      "SELECT " USER_COLS " FROM users u JOIN tenants t ON t.id = u.tenant_id"
		      " WHERE u.tenant_id = ? ORDER BY u.email_norm LIMIT ? OFFSET ?",
		      p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	*n = db_rows_count(r);
	*items = xcalloc(*n ? *n : 1, sizeof(**items));
	for (size_t i = 0; i < *n; i++) {
		user_from_row(r, i, &row);
		(*items)[i] = row.u;
	}
	mem_wipe(&row, sizeof(row));
	db_rows_free(r);
	return 0;
}

int auth_repo_user_login_failed(struct db_conn *c, const char *id, int max_failures, const char *lock_until,
				int *locked, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(id)};
	struct db_param pl[] = {DBP_TEXT(lock_until), DBP_TEXT(id), DBP_INT(max_failures)};
	int64_t n = 0;
	int rc;

	*locked = 0;
	rc = db_exec(c, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?", p, 1, NULL, e);
	if (rc)
		return rc;
	rc = db_exec(c, "UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ? AND failed_logins >= ?", pl,
		     DB_NPARAMS(pl), &n, e);
	if (rc)
		return rc;
	*locked = n > 0;
	return 0;
}

int auth_repo_user_login_ok(struct db_conn *c, const char *id, const char *now, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(now), DBP_TEXT(id)};

	return db_exec(c, "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?", p,
		       DB_NPARAMS(p), NULL, e);
}

int auth_repo_user_state(struct db_conn *c, const char *id, char tenant_id[37], char role[32], int *active,
			 struct err *e)
{
	struct db_param p[] = {DBP_TEXT(id)};
	struct db_rows *r = NULL;
	int rc = db_query(c,
			  "SELECT u.tenant_id, u.role, u.active, t.active FROM users u"
			  " JOIN tenants t ON t.id = u.tenant_id WHERE u.id = ?",
			  p, 1, &r, e);

	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "user not found");
	} else {
		col(tenant_id, 37, r, 0, 0);
		col(role, 32, r, 0, 1);
		*active = db_rows_int(r, 0, 2) == 1 && db_rows_int(r, 0, 3) == 1;
	}
	db_rows_free(r);
	return rc;
}

/* ---- sessions ---- */

int auth_repo_session_insert(struct db_conn *c, const struct auth_session_row *s, const char *token_hash,
			     const char *created_at, const char *ip, struct err *e)
{
	struct db_param p[] = {
	    DBP_TEXT(s->id),	     DBP_TEXT(s->tenant_id), DBP_TEXT(s->user_id), DBP_TEXT(token_hash),
	    DBP_TEXT(s->expires_at), DBP_TEXT(created_at),   DBP_TEXT(ip),
	};

	return db_exec(c,
		       "INSERT INTO sessions (id, tenant_id, user_id, refresh_hash, expires_at, created_at, ip)"
		       " VALUES (?, ?, ?, ?, ?, ?, ?)",
		       p, DB_NPARAMS(p), NULL, e);
}

static int session_one(struct db_conn *c, const char *where, const char *value, struct auth_session_row *out,
		       struct err *e)
{
	struct db_param p[] = {DBP_TEXT(value)};
	struct db_rows *r = NULL;
	char sql[256];
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT id, tenant_id, user_id, expires_at, revoked_at, revoked_reason FROM sessions"
		 " WHERE %s = ?",
		 where);
	rc = db_query(c, sql, p, 1, &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "session not found");
	} else {
		memset(out, 0, sizeof(*out));
		col(out->id, sizeof(out->id), r, 0, 0);
		col(out->tenant_id, sizeof(out->tenant_id), r, 0, 1);
		col(out->user_id, sizeof(out->user_id), r, 0, 2);
		col(out->expires_at, sizeof(out->expires_at), r, 0, 3);
		col(out->revoked_at, sizeof(out->revoked_at), r, 0, 4);
		col(out->revoked_reason, sizeof(out->revoked_reason), r, 0, 5);
	}
	db_rows_free(r);
	return rc;
}

int auth_repo_session_by_hash(struct db_conn *c, const char *token_hash, struct auth_session_row *out, struct err *e)
{
	return session_one(c, "refresh_hash", token_hash, out, e);
}

int auth_repo_session_by_id(struct db_conn *c, const char *id, struct auth_session_row *out, struct err *e)
{
	return session_one(c, "id", id, out, e);
}

int auth_repo_session_revoke(struct db_conn *c, const char *id, const char *now, const char *reason,
			     const char *replaced_by, int64_t *revoked, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(now), DBP_TEXT(reason), DBP_TEXT(replaced_by), DBP_TEXT(id)};

	return db_exec(c,
		       "UPDATE sessions SET revoked_at = ?, revoked_reason = ?, replaced_by = ?"
		       " WHERE id = ? AND revoked_at IS NULL",
		       p, DB_NPARAMS(p), revoked, e);
}

int auth_repo_session_revoke_user(struct db_conn *c, const char *user_id, const char *now, const char *reason,
				  int64_t *revoked, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(now), DBP_TEXT(reason), DBP_TEXT(user_id)};

	return db_exec(
	    c, "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL", p,
	    DB_NPARAMS(p), revoked, e);
}

/* ---- API keys ---- */

int auth_repo_apikey_insert(struct db_conn *c, const struct apikey *k, const char *key_hash, const char *perms_text,
			    struct err *e)
{
	struct db_param p[] = {
	    DBP_TEXT(k->id),	DBP_TEXT(k->tenant_id), DBP_TEXT(k->name),	 DBP_TEXT(k->prefix),
	    DBP_TEXT(key_hash), DBP_TEXT(perms_text),	DBP_TEXT(k->created_by), DBP_TEXT(k->created_at),
	};

	return db_exec(c,
		       "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, permissions, created_by,"
		       " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		       p, DB_NPARAMS(p), NULL, e);
}

int auth_repo_apikey_tenant_insert(struct db_conn *c, const char *key_id, const char *tenant_id, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(key_id), DBP_TEXT(tenant_id)};

	return db_exec(c, "INSERT INTO api_key_tenants (api_key_id, tenant_id) VALUES (?, ?) ON CONFLICT DO NOTHING", p,
		       DB_NPARAMS(p), NULL, e);
}

#define KEY_COLS "id, tenant_id, name, prefix, permissions, created_by, created_at, last_used_at, revoked_at"

static int key_from_row(const struct db_rows *r, size_t i, struct apikey *out, struct err *e)
{
	const char *perms = db_rows_text(r, i, 4);

	memset(out, 0, sizeof(*out));
	col(out->id, sizeof(out->id), r, i, 0);
	col(out->tenant_id, sizeof(out->tenant_id), r, i, 1);
	col(out->name, sizeof(out->name), r, i, 2);
	col(out->prefix, sizeof(out->prefix), r, i, 3);
	col(out->created_by, sizeof(out->created_by), r, i, 5);
	col(out->created_at, sizeof(out->created_at), r, i, 6);
	col(out->last_used_at, sizeof(out->last_used_at), r, i, 7);
	col(out->revoked_at, sizeof(out->revoked_at), r, i, 8);
	out->perms = 0;
	if (perms && perms[0] && accounts_perms_parse(perms, &out->perms, "permissions", e))
		return err_detail(e, "api key %s has unknown stored permissions", out->id);
	return 0;
}

static int key_extra_tenants(struct db_conn *c, struct apikey *k, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(k->id)};
	struct db_rows *r = NULL;
	int rc =
	    db_query(c, "SELECT tenant_id FROM api_key_tenants WHERE api_key_id = ? ORDER BY tenant_id", p, 1, &r, e);

	if (rc)
		return rc;
	k->n_extra_tenants = 0;
	for (size_t i = 0; i < db_rows_count(r) && i < APIKEY_MAX_EXTRA_TENANTS; i++)
		col(k->extra_tenants[k->n_extra_tenants++], 37, r, i, 0);
	db_rows_free(r);
	return 0;
}

static int key_one(struct db_conn *c, const char *sql, const struct db_param *p, size_t np, struct apikey *out,
		   struct err *e)
{
	struct db_rows *r = NULL;
	int rc = db_query(c, sql, p, np, &r, e);

	if (rc)
		return rc;
	if (db_rows_count(r) == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "API key not found");
	else
		rc = key_from_row(r, 0, out, e);
	db_rows_free(r);
	if (rc)
		return rc;
	return key_extra_tenants(c, out, e);
}

int auth_repo_apikey_by_id(struct db_conn *c, const char *tenant_id, const char *id, struct apikey *out, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(id), DBP_TEXT(tenant_id)};

	if (!tenant_id)
		return key_one(c, "SELECT " KEY_COLS " FROM api_keys WHERE id = ?", p, 1, out, e);
	return key_one(c, "SELECT " KEY_COLS " FROM api_keys WHERE id = ? AND tenant_id = ?", p, DB_NPARAMS(p), out, e);
}

int auth_repo_apikey_by_hash(struct db_conn *c, const char *key_hash, struct apikey *out, int *tenant_active,
			     struct err *e)
{
	struct db_param p[] = {DBP_TEXT(key_hash)};
	struct db_rows *r = NULL;
	int rc = db_query(c,
			  "SELECT k.id, k.tenant_id, k.name, k.prefix, k.permissions, k.created_by, k.created_at,"
			  " k.last_used_at, k.revoked_at, t.active FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
			  " WHERE k.key_hash = ?",
			  p, 1, &r, e);

	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "API key not found");
	} else {
		rc = key_from_row(r, 0, out, e);
		*tenant_active = db_rows_int(r, 0, 9) == 1;
	}
	db_rows_free(r);
	return rc;
}

int auth_repo_apikey_serves(struct db_conn *c, const char *key_id, const char *tenant_id, int *active, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(key_id), DBP_TEXT(tenant_id)};
	int64_t v = 0;
	int rc = db_query_int(c,
			      "SELECT t.active FROM api_key_tenants x JOIN tenants t ON t.id = x.tenant_id"
			      " WHERE x.api_key_id = ? AND x.tenant_id = ?",
			      p, DB_NPARAMS(p), &v, e);

	*active = v == 1;
	return rc;
}

int auth_repo_apikey_list(struct db_conn *c, const char *tenant_id, int page, int limit, struct apikey **items,
			  size_t *n, int64_t *total, struct err *e)
{
	struct db_param pc[] = {DBP_TEXT(tenant_id)};
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_INT(limit), DBP_INT((int64_t)(page - 1) * limit)};
	struct db_rows *r = NULL;
	int rc;

	*items = NULL;
	*n = 0;
	rc = db_query_int(c, "SELECT COUNT(*) FROM api_keys WHERE tenant_id = ?", pc, 1, total, e);
	if (rc)
		return rc;
	rc = db_query(c,
		      "SELECT " KEY_COLS " FROM api_keys WHERE tenant_id = ?"
		      " ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
		      p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	*items = xcalloc(db_rows_count(r) ? db_rows_count(r) : 1, sizeof(**items));
	for (size_t i = 0; i < db_rows_count(r); i++) {
		rc = key_from_row(r, i, &(*items)[i], e);
		if (rc)
			goto out;
		(*n)++;
	}
	for (size_t i = 0; i < *n; i++) {
		rc = key_extra_tenants(c, &(*items)[i], e);
		if (rc)
			goto out;
	}
out:
	db_rows_free(r);
	if (rc) {
		free(*items);
		*items = NULL;
		*n = 0;
	}
	return rc;
}

int auth_repo_apikey_revoke(struct db_conn *c, const char *id, const char *now, int64_t *revoked, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(now), DBP_TEXT(id)};

	return db_exec(c, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", p, DB_NPARAMS(p),
		       revoked, e);
}

int auth_repo_apikey_touch(struct db_conn *c, const char *id, const char *now, const char *not_after, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(now), DBP_TEXT(id), DBP_TEXT(not_after)};

	return db_exec(c,
		       "UPDATE api_keys SET last_used_at = ? WHERE id = ?"
		       " AND (last_used_at IS NULL OR last_used_at < ?)",
		       p, DB_NPARAMS(p), NULL, e);
}
