/*
 * auth_sessions.c - login, refresh-token rotation and logout.
 *
 * Login verifies the password outside any transaction (argon2id is slow and
 * must not hold the writer), then records the outcome in one write
 * transaction: a failure bumps the user's counter (and may lock the
 * account), a success resets it and opens a session. An unknown email is
 * verified against a dummy hash of the same parameters so it costs as much
 * as a wrong password.
 *
 * Refresh tokens are opaque "clr_..." strings; the database keeps only their
 * SHA-256 hex. Each refresh revokes the presented session (reason
 * "rotated", replaced_by the new one) and opens a new one; presenting a
 * rotated token again means it was copied, so every session of that user is
 * revoked (reason "reuse"). A token ended by logout or a password change is
 * simply refused.
 */
#include "mod/auth/accounts.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "crypto/password.h"
#include "mod/auth/auth_repo.h"

#define BAD_CREDENTIALS	  "invalid email or password"
#define REFRESH_TOKEN_MAX 256

/* The dummy hash: computed once with the live parameters, then read-only. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_MAX];

static void dummy_init(void)
{
	struct err e;
	char *pw = crypto_token("");

	err_clear(&e);
	if (password_hash(pw, dummy_hash, &e) != 0)
		dummy_hash[0] = '\0';
	mem_wipe(pw, strlen(pw));
	free(pw);
}

/* Spend the cost of one verification on a password that cannot match. */
static void burn_verify(const char *password)
{
	pthread_once(&dummy_once, dummy_init);
	if (dummy_hash[0])
		(void)password_verify(dummy_hash, password);
}

void auth_tokens_release(struct auth_tokens *t)
{
	if (t->access_token) {
		mem_wipe(t->access_token, strlen(t->access_token));
		free(t->access_token);
	}
	if (t->refresh_token) {
		mem_wipe(t->refresh_token, strlen(t->refresh_token));
		free(t->refresh_token);
	}
	memset(t, 0, sizeof(*t));
}

/* Sign the access token for user u in session sid and fill out. */
static int issue_access(struct app *app, const struct user *u, const char *sid, struct auth_tokens *out, struct err *e)
{
	struct jwt_claims cl;
	int known = 0;

	memset(&cl, 0, sizeof(cl));
	snprintf(cl.iss, sizeof(cl.iss), "%s", app->cfg.jwt_issuer);
	snprintf(cl.aud, sizeof(cl.aud), "%s", app->cfg.jwt_audience);
	snprintf(cl.sub, sizeof(cl.sub), "%s", u->id);
	snprintf(cl.tid, sizeof(cl.tid), "%s", u->tenant_id);
	snprintf(cl.role, sizeof(cl.role), "%s", u->role);
	snprintf(cl.sid, sizeof(cl.sid), "%s", sid);
	uuid_v4(cl.jti);
	cl.iat = time_now_s();
	cl.exp = cl.iat + app->cfg.access_ttl_s;
	out->access_token = jwt_sign_hs256(&cl, app->keys.jwt, app->keys.jwt_len);
	out->expires_in_s = app->cfg.access_ttl_s;
	out->user = *u;
	out->perms = perm_role_defaults(u->role, &known);
	if (!known)
		return err_set(e, ERR_INTERNAL, NULL, "internal error");
	return 0;
}

/* Insert a new session (id, or a fresh one when NULL) for u inside the open
 * transaction; *token_out owned. */
static int open_session(struct app *app, struct db_conn *c, const struct user *u, const struct auth_origin *from,
			const char *id, struct auth_session_row *s, char **token_out, struct err *e)
{
	char hash[2 * SHA256_LEN + 1], now[TIME_ISO_LEN + 1];
	int64_t now_s = time_now_s();
	char *token = crypto_token("clr_");
	int rc;

	memset(s, 0, sizeof(*s));
	if (id)
		snprintf(s->id, sizeof(s->id), "%s", id);
	else
		uuid_v4(s->id);
	snprintf(s->tenant_id, sizeof(s->tenant_id), "%s", u->tenant_id);
	snprintf(s->user_id, sizeof(s->user_id), "%s", u->id);
	time_iso(now_s + app->cfg.refresh_ttl_s, s->expires_at);
	time_iso(now_s, now);
	crypto_sha256_hex(token, strlen(token), hash);
	rc = auth_repo_session_insert(c, s, hash, now, from ? from->ip : NULL, e);
	if (rc) {
		free(token);
		return rc;
	}
	*token_out = token;
	return 0;
}

static void user_actor(struct actor *a, const struct user *u, const struct auth_origin *from)
{
	memset(a, 0, sizeof(*a));
	a->tenant_id = u->tenant_id;
	a->kind = "user";
	a->id = u->id;
	a->ip = from ? from->ip : NULL;
	a->request_id = from ? from->request_id : NULL;
}

/* Record a failed login of a known user; sets *locked when it locked. */
static int record_failure(struct app *app, const struct user *u, const struct auth_origin *from, int *locked,
			  struct err *e)
{
	struct db_conn *c = NULL;
	struct actor a;
	char until[TIME_ISO_LEN + 1];
	json_t *after = NULL;
	int max = app->cfg.login_max_failures;
	int rc;

	*locked = 0;
	user_actor(&a, u, from);
	time_iso(time_now_s() + app->cfg.login_lock_s, until);
	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)))
		return rc;
	if ((rc = db_begin(c, e)))
		goto out;
	if (max > 0 && (rc = auth_repo_user_login_failed(c, u->id, max, until, locked, e)))
		goto out;
	after = json_pack("{s:s, s:b}", "email", u->email, "locked", *locked);
	if ((rc = audit_record(c, &a, "auth.login_failed", "user", u->id, NULL, after, NULL, e)))
		goto out;
	rc = db_commit(c, e);
out:
	json_decref(after);
	db_release(c);
	return rc;
}

int sessions_login(struct app *app, const char *email, const char *password, const struct auth_origin *from,
		   struct auth_tokens *out, struct err *e)
{
	struct auth_user_row row;
	struct auth_session_row s;
	struct db_conn *c = NULL;
	struct actor a;
	struct err ignore;
	char norm[EMAIL_MAX + 1], now[TIME_ISO_LEN + 1];
	json_t *after = NULL;
	bool ok, is_locked = false;
	int64_t until_s = 0;
	int rc, locked = 0;

	memset(out, 0, sizeof(*out));
	memset(&row, 0, sizeof(row));
	err_clear(&ignore);
	if (users_email_normalize(email, norm, sizeof(norm), "email", &ignore) != 0) {
		burn_verify(password);
		return err_set(e, ERR_UNAUTHORIZED, NULL, BAD_CREDENTIALS);
	}
	if ((rc = db_acquire(app->db, DB_READ, &c, e)))
		return rc;
	rc = auth_repo_user_by_email(c, norm, &row, e);
	db_release(c);
	c = NULL;
	if (rc == ERR_NOT_FOUND) {
		burn_verify(password);
		rc = err_set(e, ERR_UNAUTHORIZED, NULL, BAD_CREDENTIALS);
		goto out;
	}
	if (rc)
		goto out;

	ok = password_verify(row.password_hash, password);
	if (row.u.locked_until[0] && time_parse_iso(row.u.locked_until, &until_s, "lockedUntil", &ignore) == 0 &&
	    until_s > time_now_s())
		is_locked = true;
	if (is_locked) {
		rc = err_set(e, ERR_LOCKED, NULL, "account locked after too many failed logins; try again later");
		goto out;
	}
	if (!ok) {
		if ((rc = record_failure(app, &row.u, from, &locked, e)))
			goto out;
		if (locked)
			log_warn("msg=\"account locked\" user=%s tenant=%s", row.u.id, row.u.tenant_id);
		rc = err_set(e, ERR_UNAUTHORIZED, NULL, BAD_CREDENTIALS);
		goto out;
	}
	if (!row.u.active || !row.tenant_active) {
		rc = err_set(e, ERR_UNAUTHORIZED, NULL, BAD_CREDENTIALS);
		goto out;
	}

	user_actor(&a, &row.u, from);
	time_now_iso(now);
	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)))
		goto out;
	if ((rc = db_begin(c, e)))
		goto out;
	if ((rc = auth_repo_user_login_ok(c, row.u.id, now, e)))
		goto out;
	if ((rc = open_session(app, c, &row.u, from, NULL, &s, &out->refresh_token, e)))
		goto out;
	after = json_pack("{s:s}", "sessionId", s.id);
	if ((rc = audit_record(c, &a, "auth.login", "session", s.id, NULL, after, NULL, e)))
		goto out;
	if ((rc = db_commit(c, e)))
		goto out;
	memcpy(row.u.last_login_at, now, sizeof(row.u.last_login_at));
	row.u.locked_until[0] = '\0';
	rc = issue_access(app, &row.u, s.id, out, e);
out:
	json_decref(after);
	if (c)
		db_release(c);
	mem_wipe(&row, sizeof(row));
	if (rc)
		auth_tokens_release(out);
	return rc;
}

/* Refresh-token reuse: revoke every session of the user, audited. */
static int revoke_all(struct db_conn *c, const struct auth_session_row *s, const struct auth_origin *from,
		      struct err *e)
{
	struct actor a = {.tenant_id = s->tenant_id,
			  .kind = "user",
			  .id = s->user_id,
			  .ip = from ? from->ip : NULL,
			  .request_id = from ? from->request_id : NULL};
	char now[TIME_ISO_LEN + 1];
	int64_t n = 0;
	json_t *after;
	int rc;

	time_now_iso(now);
	if ((rc = auth_repo_session_revoke_user(c, s->user_id, now, "reuse", &n, e)))
		return rc;
	after = json_pack("{s:s, s:I}", "reusedSessionId", s->id, "sessionsRevoked", (json_int_t)n);
	rc = audit_record(c, &a, "auth.refresh_reuse", "user", s->user_id, NULL, after, NULL, e);
	json_decref(after);
	if (rc)
		return rc;
	log_warn("msg=\"refresh token reuse; all sessions revoked\" user=%s revoked=%lld", s->user_id, (long long)n);
	return db_commit(c, e);
}

int sessions_refresh(struct app *app, const char *refresh_token, const struct auth_origin *from,
		     struct auth_tokens *out, struct err *e)
{
	struct auth_session_row old, s;
	struct auth_user_row row;
	struct db_conn *c = NULL;
	struct actor a;
	char hash[2 * SHA256_LEN + 1], now[TIME_ISO_LEN + 1], new_id[37];
	json_t *after = NULL;
	int64_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&row, 0, sizeof(row));
	if (!refresh_token || strncmp(refresh_token, "clr_", 4) != 0 || strlen(refresh_token) > REFRESH_TOKEN_MAX)
		return err_set(e, ERR_UNAUTHORIZED, NULL, "invalid refresh token");
	crypto_sha256_hex(refresh_token, strlen(refresh_token), hash);
	time_now_iso(now);

	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)))
		return rc;
	if ((rc = db_begin(c, e)))
		goto out;
	rc = auth_repo_session_by_hash(c, hash, &old, e);
	if (rc == ERR_NOT_FOUND) {
		rc = err_set(e, ERR_UNAUTHORIZED, NULL, "invalid refresh token");
		goto out;
	}
	if (rc)
		goto out;
	if (old.revoked_at[0] && strcmp(old.revoked_reason, "rotated") == 0) {
		if ((rc = revoke_all(c, &old, from, e)))
			goto out;
		rc = err_set(e, ERR_UNAUTHORIZED, NULL, "refresh token already used; all sessions revoked");
		goto out;
	}
	if (old.revoked_at[0]) {
		rc = err_set(e, ERR_UNAUTHORIZED, NULL, "refresh token revoked");
		goto out;
	}
	if (strcmp(old.expires_at, now) <= 0) {
		rc = err_set(e, ERR_UNAUTHORIZED, NULL, "refresh token expired");
		goto out;
	}
	rc = auth_repo_user_by_id(c, NULL, old.user_id, &row, e);
	if (rc == ERR_NOT_FOUND || (rc == 0 && (!row.u.active || !row.tenant_active))) {
		rc = err_set(e, ERR_UNAUTHORIZED, NULL, "invalid refresh token");
		goto out;
	}
	if (rc)
		goto out;
	uuid_v4(new_id);
	if ((rc = auth_repo_session_revoke(c, old.id, now, "rotated", new_id, &n, e)))
		goto out;
	if (n != 1) {
		/* Another request rotated it first: that is reuse too. */
		if ((rc = revoke_all(c, &old, from, e)))
			goto out;
		rc = err_set(e, ERR_UNAUTHORIZED, NULL, "refresh token already used; all sessions revoked");
		goto out;
	}
	if ((rc = open_session(app, c, &row.u, from, new_id, &s, &out->refresh_token, e)))
		goto out;
	user_actor(&a, &row.u, from);
	after = json_pack("{s:s, s:s}", "sessionId", s.id, "previousSessionId", old.id);
	if ((rc = audit_record(c, &a, "auth.refresh", "session", s.id, NULL, after, NULL, e)))
		goto out;
	if ((rc = db_commit(c, e)))
		goto out;
	rc = issue_access(app, &row.u, s.id, out, e);
out:
	json_decref(after);
	db_release(c);
	mem_wipe(&row, sizeof(row));
	if (rc)
		auth_tokens_release(out);
	return rc;
}

int sessions_logout(struct app *app, const struct actor *actor, const char *user_id, const char *session_id,
		    const char *refresh_token, struct err *e)
{
	struct auth_session_row s;
	struct db_conn *c = NULL;
	char hash[2 * SHA256_LEN + 1], now[TIME_ISO_LEN + 1];
	json_t *after = json_array();
	int64_t n = 0;
	int rc;

	time_now_iso(now);
	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)))
		goto done;
	if ((rc = db_begin(c, e)))
		goto out;
	rc = auth_repo_session_by_id(c, session_id, &s, e);
	if (rc == 0 && strcmp(s.user_id, user_id) == 0) {
		if ((rc = auth_repo_session_revoke(c, s.id, now, "logout", NULL, &n, e)))
			goto out;
		if (n)
			json_array_append_new(after, json_string(s.id));
	} else if (rc && rc != ERR_NOT_FOUND) {
		goto out;
	}
	err_clear(e);
	if (refresh_token && refresh_token[0]) {
		crypto_sha256_hex(refresh_token, strlen(refresh_token), hash);
		rc = auth_repo_session_by_hash(c, hash, &s, e);
		if (rc == 0 && strcmp(s.user_id, user_id) == 0) {
			if ((rc = auth_repo_session_revoke(c, s.id, now, "logout", NULL, &n, e)))
				goto out;
			if (n)
				json_array_append_new(after, json_string(s.id));
		} else if (rc && rc != ERR_NOT_FOUND) {
			goto out;
		}
		err_clear(e);
	}
	{
		json_t *v = json_pack("{s:O}", "sessionsRevoked", after);
		rc = audit_record(c, actor, "auth.logout", "session", session_id, NULL, v, NULL, e);
		json_decref(v);
	}
	if (rc)
		goto out;
	rc = db_commit(c, e);
out:
	db_release(c);
done:
	json_decref(after);
	return rc;
}
