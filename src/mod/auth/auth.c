/*
 * auth.c - who is calling: access tokens and API keys into a principal.
 *
 * A credential comes from "Authorization: Bearer <x>" (preferred) or
 * "X-API-Key: <x>". Two dots make it an access JWT: the signature, alg,
 * iss, aud and expiry are checked by jwt.c, then one primary-key lookup
 * confirms its session is not revoked and one that the user and tenant are
 * still active; the permissions are the user's role defaults as stored now
 * (a role change applies at once). Anything else must be an API key
 * "clk_...", found by its SHA-256 hex; its permissions are its own list.
 *
 * x-tenant-id: a user may only name the token's tenant; a key may name its
 * own tenant or one of its extra tenants (api_key_tenants). Anything else is
 * ERR_FORBIDDEN. A key's last_used_at is written at most once a minute.
 */
#include "mod/auth/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "mod/auth/accounts.h"
#include "mod/auth/auth_repo.h"

#define CREDENTIAL_MAX	     4096
#define KEY_TOUCH_INTERVAL_S 60

static int unauthorized(struct err *e, const char *detail)
{
	err_set(e, ERR_UNAUTHORIZED, NULL, "invalid or missing credentials");
	return err_detail(e, "%s", detail);
}

static int auth_jwt(struct app *app, const char *token, const char *want_tenant, struct principal *out, struct err *e)
{
	struct jwt_claims cl;
	struct auth_session_row s;
	struct db_conn *c = NULL;
	char tenant_id[37], role[32];
	int active = 0, known = 0, rc;
	perm_set perms;

	if ((rc = jwt_verify_hs256(token, app->keys.jwt, app->keys.jwt_len, app->cfg.jwt_issuer, app->cfg.jwt_audience,
				   time_now_s(), &cl, e)))
		return rc;
	if (!cl.sid[0])
		return unauthorized(e, "access token without session");
	if ((rc = db_acquire(app->db, DB_READ, &c, e)))
		return rc;
	rc = auth_repo_session_by_id(c, cl.sid, &s, e);
	if (rc == ERR_NOT_FOUND) {
		rc = unauthorized(e, "session not found");
		goto out;
	}
	if (rc)
		goto out;
	if (s.revoked_at[0] || strcmp(s.user_id, cl.sub) != 0) {
		rc = unauthorized(e, "session revoked");
		goto out;
	}
	rc = auth_repo_user_state(c, cl.sub, tenant_id, role, &active, e);
	if (rc == ERR_NOT_FOUND || (rc == 0 && (!active || strcmp(tenant_id, cl.tid) != 0))) {
		rc = unauthorized(e, "user inactive or moved");
		goto out;
	}
	if (rc)
		goto out;
	perms = perm_role_defaults(role, &known);
	if (!known) {
		rc = unauthorized(e, "unknown role");
		goto out;
	}
	if (want_tenant && strcmp(want_tenant, tenant_id) != 0) {
		rc = err_set(e, ERR_FORBIDDEN, NULL, "x-tenant-id does not match your tenant");
		goto out;
	}
	out->kind = PRINCIPAL_USER;
	snprintf(out->id, sizeof(out->id), "%s", cl.sub);
	snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", tenant_id);
	snprintf(out->role, sizeof(out->role), "%s", role);
	snprintf(out->session_id, sizeof(out->session_id), "%s", cl.sid);
	out->perms = perms;
out:
	db_release(c);
	return rc;
}

/* Record the key's use, at most once per KEY_TOUCH_INTERVAL_S; failures only logged. */
static void touch_key(struct app *app, const struct apikey *k)
{
	struct db_conn *c = NULL;
	struct err e;
	char now[TIME_ISO_LEN + 1], not_after[TIME_ISO_LEN + 1];
	int64_t now_s = time_now_s();

	time_iso(now_s, now);
	time_iso(now_s - KEY_TOUCH_INTERVAL_S, not_after);
	if (k->last_used_at[0] && strcmp(k->last_used_at, not_after) >= 0)
		return;
	err_clear(&e);
	if (db_acquire(app->db, DB_WRITE, &c, &e))
		goto fail;
	if (db_begin(c, &e) || auth_repo_apikey_touch(c, k->id, now, not_after, &e) || db_commit(c, &e))
		goto fail;
	db_release(c);
	return;
fail:
	if (c)
		db_release(c);
	log_warn("msg=\"api key last_used_at not updated\" key=%s err=\"%s\"", k->id, e.detail);
}

static int auth_key(struct app *app, const char *key, const char *want_tenant, struct principal *out, struct err *e)
{
	struct apikey k;
	struct db_conn *c = NULL;
	char hash[2 * SHA256_LEN + 1];
	const char *tenant;
	int active = 0, rc;

	if (strncmp(key, "clk_", 4) != 0 || strlen(key) > 256)
		return unauthorized(e, "not an API key");
	crypto_sha256_hex(key, strlen(key), hash);
	if ((rc = db_acquire(app->db, DB_READ, &c, e)))
		return rc;
	rc = auth_repo_apikey_by_hash(c, hash, &k, &active, e);
	if (rc == ERR_NOT_FOUND) {
		rc = unauthorized(e, "unknown API key");
		goto out;
	}
	if (rc)
		goto out;
	if (k.revoked_at[0]) {
		rc = unauthorized(e, "revoked API key");
		goto out;
	}
	tenant = k.tenant_id;
	if (want_tenant && strcmp(want_tenant, k.tenant_id) != 0) {
		rc = auth_repo_apikey_serves(c, k.id, want_tenant, &active, e);
		if (rc == ERR_NOT_FOUND)
			rc = err_set(e, ERR_FORBIDDEN, NULL, "this API key does not serve the tenant in x-tenant-id");
		if (rc)
			goto out;
		tenant = want_tenant;
	}
	if (!active) {
		rc = err_set(e, ERR_FORBIDDEN, NULL, "tenant is inactive");
		goto out;
	}
	out->kind = PRINCIPAL_API_KEY;
	snprintf(out->id, sizeof(out->id), "%s", k.id);
	snprintf(out->tenant_id, sizeof(out->tenant_id), "%s", tenant);
	snprintf(out->role, sizeof(out->role), "api_key");
	out->session_id[0] = '\0';
	out->perms = k.perms;
out:
	db_release(c);
	if (rc == 0)
		touch_key(app, &k);
	return rc;
}

int auth_authenticate(struct app *app, const struct http_req *req, struct principal *out, struct err *e)
{
	const char *authz = http_header(req, "Authorization");
	const char *xkey = http_header(req, "X-API-Key");
	const char *want_tenant = http_header(req, "x-tenant-id");
	const char *cred;
	int dots = 0, rc;

	memset(out, 0, sizeof(*out));
	out->kind = PRINCIPAL_ANON;
	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) != 0)
			return unauthorized(e, "unsupported authorization scheme");
		cred = authz + 7;
		while (*cred == ' ')
			cred++;
	} else if (xkey) {
		cred = xkey;
	} else {
		return err_set(e, ERR_UNAUTHORIZED, NULL, "authentication required");
	}
	if (!cred[0] || strlen(cred) > CREDENTIAL_MAX)
		return unauthorized(e, "empty or oversized credential");
	if (want_tenant && !want_tenant[0])
		want_tenant = NULL;
	for (const char *p = cred; *p; p++)
		dots += *p == '.';
	if (dots == 2)
		rc = auth_jwt(app, cred, want_tenant, out, e);
	else
		rc = auth_key(app, cred, want_tenant, out, e);
	if (rc) {
		memset(out, 0, sizeof(*out));
		out->kind = PRINCIPAL_ANON;
	}
	return rc;
}
