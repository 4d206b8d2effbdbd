/*
 * test_auth.c - identity and access over HTTP: login, lockout, refresh-token
 * rotation and reuse detection, logout, forged/expired access tokens, API
 * keys (Bearer and X-API-Key, permissions, revocation, extra tenants via
 * x-tenant-id), users CRUD with its validation and tenant scoping, the
 * audit entries of those writes, and the `user add` / `apikey` commands.
 *
 * The server runs with CLINICLEDGER_LOGIN_MAX_FAILURES=3 and a JWT secret
 * known to this program, which signs its own tokens (OpenSSL HMAC) to
 * prove that only tokens with our issuer, audience, expiry and a live
 * session are accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"

#define JWT_SECRET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int setup(void **state)
{
	static const char *const env[] = {"CLINICLEDGER_LOGIN_MAX_FAILURES=3", "CLINICLEDGER_JWT_SECRET=" JWT_SECRET,
					  NULL};

	(void)state;
	return api_server_start(env);
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop();
	return 0;
}

/* ---- helpers ---- */

static struct api_resp *login(const char *email, const char *password)
{
	json_t *b = json_pack("{s:s, s:s}", "email", email, "password", password);
	char *body = json_dumps(b, JSON_COMPACT);
	struct api_resp *r = api_req("POST", "/api/v1/auth/login", NULL, body, NULL);

	free(body);
	json_decref(b);
	return r;
}

static struct api_resp *refresh(const char *token)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", token);
	return api_req("POST", "/api/v1/auth/refresh", NULL, body, NULL);
}

static char *str_at(const struct api_resp *r, const char *path)
{
	const char *s = api_str(r, path);

	if (!s)
		fail_msg("no string at %s in %s", path, r->body);
	return strdup(s);
}

static long status_of(const char *method, const char *path, const char *token, const char *body)
{
	struct api_resp *r = api_req(method, path, token, body, NULL);
	long st = r->status;

	api_resp_free(r);
	return st;
}

static void expect_invalid(const char *method, const char *path, const char *token, const char *body, const char *field)
{
	struct api_resp *r = api_req(method, path, token, body, NULL);

	assert_status(r, 400);
	assert_string_equal(api_str(r, "error.code"), "VALIDATION_ERROR");
	if (!strstr(r->body, field))
		fail_msg("400 for %s does not name %s: %s", body, field, r->body);
	api_resp_free(r);
}

/* Count audit entries of the caller's tenant matching a query string. */
static long long audit_count(const char *token, const char *query)
{
	char path[512];
	struct api_resp *r;
	long long n;

	snprintf(path, sizeof(path), "/api/audit-logs?%s", query);
	r = api_req("GET", path, token, NULL, NULL);
	assert_status(r, 200);
	n = (long long)json_array_size(api_path(r, "data"));
	api_resp_free(r);
	return n;
}

static char *b64url(const unsigned char *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n * 4 / 3 + 4), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*o++ = al[v >> 18 & 63], *o++ = al[v >> 12 & 63], *o++ = al[v >> 6 & 63], *o++ = al[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		*o++ = al[v >> 18 & 63], *o++ = al[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		*o++ = al[v >> 18 & 63], *o++ = al[v >> 12 & 63], *o++ = al[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

/* Claims of a real access token (its payload, decoded). Owned. */
static json_t *claims_of(const char *token)
{
	const char *p = strchr(token, '.') + 1;
	size_t n = strcspn(p, ".");
	unsigned char *buf = calloc(1, n + 4);
	char *std = calloc(1, n + 8);
	int len;
	json_t *j;

	for (size_t i = 0; i < n; i++)
		std[i] = p[i] == '-' ? '+' : p[i] == '_' ? '/' : p[i];
	while (n % 4)
		std[n++] = '=';
	len = EVP_DecodeBlock(buf, (const unsigned char *)std, (int)n);
	assert_true(len > 0);
	j = json_loadb((const char *)buf, strlen((const char *)buf), 0, NULL);
	assert_non_null(j);
	free(buf);
	free(std);
	return j;
}

/* header.payload.signature with HS256 over the given header and claims. Owned. */
static char *sign(const char *header_json, json_t *claims, const char *secret)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	char *h = b64url((const unsigned char *)header_json, strlen(header_json));
	char *p = b64url((const unsigned char *)payload, strlen(payload));
	size_t n = strlen(h) + strlen(p) + 2;
	char *signing = malloc(n), *sig, *token;
	unsigned char mac[32];
	unsigned int maclen = 0;

	snprintf(signing, n, "%s.%s", h, p);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)signing, strlen(signing), mac, &maclen);
	sig = b64url(mac, maclen);
	token = malloc(strlen(signing) + strlen(sig) + 2);
	sprintf(token, "%s.%s", signing, sig);
	free(payload);
	free(h);
	free(p);
	free(signing);
	free(sig);
	return token;
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* ---- tests ---- */

static void test_login_ok(void **state)
{
	struct api_resp *r = login(API_ADMIN_EMAIL, API_ADMIN_PASSWORD), *me;
	char *access;
	json_t *perms;

	(void)state;
	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "success")));
	assert_string_equal(api_str(r, "data.tokenType"), "Bearer");
	assert_int_equal(api_int(r, "data.expiresIn"), 900);
	assert_int_equal(strncmp(api_str(r, "data.refreshToken"), "clr_", 4), 0);
	assert_string_equal(api_str(r, "data.user.email"), API_ADMIN_EMAIL);
	assert_string_equal(api_str(r, "data.user.role"), "admin");
	assert_non_null(api_str(r, "data.user.id"));
	assert_non_null(api_str(r, "data.user.tenantId"));
	assert_non_null(api_str(r, "data.user.fullName"));
	perms = api_path(r, "data.user.permissions");
	assert_true(json_is_array(perms));
	assert_true(strstr(r->body, "\"admin:users\"") != NULL);
	assert_true(strstr(r->body, "\"billing:create\"") != NULL);
	assert_null(api_path(r, "data.user.passwordHash"));
	access = str_at(r, "data.accessToken");

	me = api_req("GET", "/api/v1/auth/me", access, NULL, NULL);
	assert_status(me, 200);
	assert_string_equal(api_str(me, "data.type"), "user");
	assert_string_equal(api_str(me, "data.email"), API_ADMIN_EMAIL);
	assert_string_equal(api_str(me, "data.tenantId"), api_str(r, "data.user.tenantId"));
	api_resp_free(me);

	/* email is case- and space-insensitive */
	api_resp_free(r);
	r = login("  ADMIN@Demo.Test ", API_ADMIN_PASSWORD);
	assert_status(r, 200);
	api_resp_free(r);
	free(access);
}

static void test_login_bad_credentials(void **state)
{
	struct api_resp *r;

	(void)state;
	r = login(API_ADMIN_EMAIL, "Wrong-Pass-2025");
	assert_status(r, 401);
	assert_string_equal(api_str(r, "error.code"), "UNAUTHORIZED");
	assert_string_equal(api_str(r, "error.message"), "invalid email or password");
	api_resp_free(r);

	r = login("nobody@nowhere.test", "Wrong-Pass-2025");
	assert_status(r, 401);
	assert_string_equal(api_str(r, "error.message"), "invalid email or password");
	api_resp_free(r);

	r = login("not-an-email", "whatever");
	assert_status(r, 401);
	api_resp_free(r);

	expect_invalid("POST", "/api/v1/auth/login", NULL, "{\"email\":\"a@b.test\"}", "password");
	expect_invalid("POST", "/api/v1/auth/login", NULL, "{\"password\":\"x\"}", "email");
	expect_invalid("POST", "/api/v1/auth/login", NULL, "{\"email\":\"a@b.test\",\"password\":\"x\",\"x\":1}", "x");
	expect_invalid("POST", "/api/v1/auth/login", NULL, "{\"email\":5,\"password\":\"x\"}", "email");

	/* the admin is not locked by one failure: a success resets the count */
	r = login(API_ADMIN_EMAIL, API_ADMIN_PASSWORD);
	assert_status(r, 200);
	api_resp_free(r);
}

static void test_lockout_after_max_failures(void **state)
{
	char email[128];
	char *token = api_user_token("demo", "doctor", email);
	struct api_resp *r;

	(void)state;
	free(token);
	/* two failures, then a success resets the counter */
	for (int i = 0; i < 2; i++) {
		r = login(email, "Wrong-Pass-2025");
		assert_status(r, 401);
		api_resp_free(r);
	}
	r = login(email, API_USER_PASSWORD);
	assert_status(r, 200);
	api_resp_free(r);
	/* three consecutive failures lock the account */
	for (int i = 0; i < 3; i++) {
		r = login(email, "Wrong-Pass-2025");
		assert_status(r, 401);
		api_resp_free(r);
	}
	r = login(email, API_USER_PASSWORD);
	assert_status(r, 423);
	assert_string_equal(api_str(r, "error.code"), "ACCOUNT_LOCKED");
	api_resp_free(r);
	r = login(email, "Wrong-Pass-2025");
	assert_status(r, 423);
	api_resp_free(r);

	/* the failures are in the audit trail, without the password */
	{
		struct api_resp *a =
		    api_req("GET", "/api/audit-logs?action=auth.login_failed", api_admin_token(), NULL, NULL);
		assert_status(a, 200);
		assert_true(json_array_size(api_path(a, "data")) >= 5);
		assert_null(strstr(a->body, "Wrong-Pass-2025"));
		api_resp_free(a);
	}
	/* the admin sees the lock on the user */
	r = api_req("GET", "/api/v1/users?limit=100", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	{
		json_t *it;
		size_t i;
		int seen = 0;
		json_array_foreach(api_path(r, "data"), i, it)
		{
			if (strcmp(json_string_value(json_object_get(it, "email")), email) == 0) {
				assert_true(json_is_string(json_object_get(it, "lockedUntil")));
				seen = 1;
			}
		}
		assert_true(seen);
	}
	api_resp_free(r);
}

static void test_refresh_rotation_and_reuse(void **state)
{
	char email[128];
	char *t0 = api_user_token("demo", "receptionist", email);
	struct api_resp *r = login(email, API_USER_PASSWORD), *r2, *r3;
	char *rt1 = str_at(r, "data.refreshToken"), *at1 = str_at(r, "data.accessToken");
	char *rt2, *at2;

	(void)state;
	api_resp_free(r);
	/* rotation: a new pair, the same user */
	r2 = refresh(rt1);
	assert_status(r2, 200);
	rt2 = str_at(r2, "data.refreshToken");
	at2 = str_at(r2, "data.accessToken");
	assert_string_not_equal(rt1, rt2);
	assert_string_equal(api_str(r2, "data.user.email"), email);
	assert_string_equal(api_str(r2, "data.tokenType"), "Bearer");
	assert_true(json_is_array(api_path(r2, "data.user.permissions")));
	api_resp_free(r2);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", at2, NULL), 200);
	/* the rotated session's access token no longer works */
	assert_int_equal(status_of("GET", "/api/v1/auth/me", at1, NULL), 401);
	/* the other login of this user (api_user_token's) is still alive */
	assert_int_equal(status_of("GET", "/api/v1/auth/me", t0, NULL), 200);

	/* reuse of the old refresh token: 401 and every session of the user is revoked */
	r3 = refresh(rt1);
	assert_status(r3, 401);
	assert_string_equal(api_str(r3, "error.code"), "UNAUTHORIZED");
	api_resp_free(r3);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", at2, NULL), 401);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", t0, NULL), 401);
	r3 = refresh(rt2);
	assert_status(r3, 401);
	api_resp_free(r3);

	/* the user can log in again */
	r = login(email, API_USER_PASSWORD);
	assert_status(r, 200);
	api_resp_free(r);

	/* garbage and validation */
	r = refresh("clr_not-a-real-token");
	assert_status(r, 401);
	api_resp_free(r);
	expect_invalid("POST", "/api/v1/auth/refresh", NULL, "{}", "refreshToken");
	assert_true(audit_count(api_admin_token(), "action=auth.refresh_reuse") >= 1);
	free(rt1);
	free(rt2);
	free(at1);
	free(at2);
	free(t0);
}

static void test_logout_revokes(void **state)
{
	struct api_resp *r = login(API_ADMIN_EMAIL, API_ADMIN_PASSWORD), *o;
	char *at = str_at(r, "data.accessToken"), *rt = str_at(r, "data.refreshToken");
	char body[512];

	(void)state;
	api_resp_free(r);
	assert_int_equal(status_of("POST", "/api/v1/auth/logout", NULL, NULL), 401);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", at, NULL), 200);
	snprintf(body, sizeof(body), "{\"refreshToken\":\"%s\"}", rt);
	o = api_req("POST", "/api/v1/auth/logout", at, body, NULL);
	assert_status(o, 200);
	assert_true(json_is_true(api_path(o, "success")));
	assert_true(json_is_true(api_path(o, "data.loggedOut")));
	api_resp_free(o);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", at, NULL), 401);
	assert_int_equal(status_of("POST", "/api/v1/auth/logout", at, NULL), 401);
	/* its refresh token is refused, without ending the admin's other sessions */
	r = refresh(rt);
	assert_status(r, 401);
	api_resp_free(r);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", api_admin_token(), NULL), 200);
	/* without a body too */
	r = login(API_ADMIN_EMAIL, API_ADMIN_PASSWORD);
	free(at);
	at = str_at(r, "data.accessToken");
	api_resp_free(r);
	assert_int_equal(status_of("POST", "/api/v1/auth/logout", at, NULL), 200);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", at, NULL), 401);
	assert_true(audit_count(api_admin_token(), "action=auth.logout") >= 2);
	free(at);
	free(rt);
}

static void test_forged_and_expired_tokens(void **state)
{
	struct api_resp *r = login(API_ADMIN_EMAIL, API_ADMIN_PASSWORD);
	char *at = str_at(r, "data.accessToken");
	json_t *cl = claims_of(at), *c2;
	long long now = (long long)time(NULL);
	char *tok;

	(void)state;
	api_resp_free(r);
	/* our own signature over the same claims is accepted: the signer is right */
	tok = sign(HS256, cl, JWT_SECRET);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", tok, NULL), 200);
	free(tok);

	/* tampered: flip a signature character */
	tok = strdup(at);
	tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(status_of("GET", "/api/v1/auth/me", tok, NULL), 401);
	free(tok);

	/* wrong audience, wrong issuer, same secret */
	c2 = json_deep_copy(cl);
	json_object_set_new(c2, "aud", json_string("someone-else"));
	tok = sign(HS256, c2, JWT_SECRET);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", tok, NULL), 401);
	free(tok);
	json_decref(c2);
	c2 = json_deep_copy(cl);
	json_object_set_new(c2, "iss", json_string("evil-issuer"));
	tok = sign(HS256, c2, JWT_SECRET);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", tok, NULL), 401);
	free(tok);
	json_decref(c2);

	/* expired */
	c2 = json_deep_copy(cl);
	json_object_set_new(c2, "iat", json_integer(now - 3600));
	json_object_set_new(c2, "exp", json_integer(now - 600));
	tok = sign(HS256, c2, JWT_SECRET);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", tok, NULL), 401);
	free(tok);
	json_decref(c2);

	/* another secret; alg none; an unknown session */
	tok = sign(HS256, cl, "another-secret-another-secret-another-secret");
	assert_int_equal(status_of("GET", "/api/v1/auth/me", tok, NULL), 401);
	free(tok);
	tok = sign("{\"alg\":\"none\",\"typ\":\"JWT\"}", cl, JWT_SECRET);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", tok, NULL), 401);
	free(tok);
	c2 = json_deep_copy(cl);
	json_object_set_new(c2, "sid", json_string("00000000-0000-4000-8000-000000000000"));
	tok = sign(HS256, c2, JWT_SECRET);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", tok, NULL), 401);
	free(tok);
	json_decref(c2);
	/* a claimed tenant that is not the user's */
	c2 = json_deep_copy(cl);
	json_object_set_new(c2, "tid", json_string("00000000-0000-4000-8000-000000000000"));
	tok = sign(HS256, c2, JWT_SECRET);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", tok, NULL), 401);
	free(tok);
	json_decref(c2);

	/* other schemes and garbage */
	{
		struct api_resp *x = api_req("GET", "/api/v1/auth/me", NULL, NULL, "Authorization: Basic YTpi", NULL);
		assert_status(x, 401);
		api_resp_free(x);
	}
	assert_int_equal(status_of("GET", "/api/v1/auth/me", "a.b.c", NULL), 401);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", "garbage", NULL), 401);
	json_decref(cl);
	free(at);
}

static void test_api_keys(void **state)
{
	const char *admin = api_admin_token();
	struct api_resp *r;
	char *key, *id, hdr[256], path[128];

	(void)state;
	r = api_req("POST", "/api/v1/api-keys", admin, "{\"name\":\"lab reader\",\"permissions\":[\"patients:read\"]}",
		    NULL);
	assert_status(r, 201);
	key = str_at(r, "data.key");
	id = str_at(r, "data.id");
	assert_int_equal(strncmp(key, "clk_", 4), 0);
	assert_int_equal(strncmp(key, api_str(r, "data.prefix"), 12), 0);
	assert_int_equal(strlen(api_str(r, "data.prefix")), 12);
	assert_string_equal(api_str(r, "data.name"), "lab reader");
	assert_string_equal(api_str(r, "data.permissions.0"), "patients:read");
	assert_non_null(api_str(r, "data.createdAt"));
	api_resp_free(r);

	/* the list never shows the key */
	r = api_req("GET", "/api/v1/api-keys", admin, NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, id));
	assert_null(strstr(r->body, key));
	assert_null(strstr(r->body, "\"key\""));
	assert_non_null(api_path(r, "pagination"));
	api_resp_free(r);

	/* Bearer and X-API-Key */
	assert_int_equal(status_of("GET", "/api/patients", key, NULL), 200);
	snprintf(hdr, sizeof(hdr), "X-API-Key: %s", key);
	r = api_req("GET", "/api/patients", NULL, NULL, hdr, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/auth/me", NULL, NULL, hdr, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.type"), "api_key");
	assert_string_equal(api_str(r, "data.id"), id);
	assert_string_equal(api_str(r, "data.name"), "lab reader");
	assert_string_equal(api_str(r, "data.permissions.0"), "patients:read");
	assert_int_equal(json_array_size(api_path(r, "data.permissions")), 1);
	api_resp_free(r);

	/* its use is recorded (at most once a minute) */
	r = api_req("GET", "/api/v1/api-keys", admin, NULL, NULL);
	{
		json_t *it;
		size_t i;
		int seen = 0;
		json_array_foreach(api_path(r, "data"), i, it)
		{
			if (strcmp(json_string_value(json_object_get(it, "id")), id) == 0) {
				assert_true(json_is_string(json_object_get(it, "lastUsedAt")));
				assert_null(json_object_get(it, "key"));
				seen = 1;
			}
		}
		assert_true(seen);
	}
	api_resp_free(r);

	/* lacking permission: 403 */
	r = api_req("GET", "/api/v1/users", key, NULL, NULL);
	assert_status(r, 403);
	assert_string_equal(api_str(r, "error.code"), "FORBIDDEN");
	api_resp_free(r);
	assert_int_equal(status_of("POST", "/api/patients", key, "{}"), 403);
	/* keys cannot log out or mint keys */
	assert_int_equal(status_of("POST", "/api/v1/auth/logout", key, NULL), 403);

	/* revoke: the key stops working; revoking twice is a conflict */
	snprintf(path, sizeof(path), "/api/v1/api-keys/%s", id);
	r = api_req("DELETE", path, admin, NULL, NULL);
	assert_status(r, 200);
	assert_non_null(api_str(r, "data.revokedAt"));
	api_resp_free(r);
	assert_int_equal(status_of("GET", "/api/patients", key, NULL), 401);
	r = api_req("GET", "/api/patients", NULL, NULL, hdr, NULL);
	assert_status(r, 401);
	api_resp_free(r);
	assert_int_equal(status_of("DELETE", path, admin, NULL), 409);
	assert_int_equal(status_of("DELETE", "/api/v1/api-keys/00000000-0000-4000-8000-000000000000", admin, NULL),
			 404);
	assert_int_equal(status_of("GET", "/api/patients", "clk_unknown-key", NULL), 401);

	/* audited, never with the key */
	r = api_req("GET", "/api/audit-logs?entity=api_key", admin, NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, "apikey.create"));
	assert_non_null(strstr(r->body, "apikey.revoke"));
	assert_null(strstr(r->body, key));
	api_resp_free(r);

	/* validation: nothing written */
	{
		long long before, after;
		r = api_req("GET", "/api/v1/api-keys", admin, NULL, NULL);
		before = api_int(r, "pagination.total");
		api_resp_free(r);
		expect_invalid("POST", "/api/v1/api-keys", admin, "{\"permissions\":[\"patients:read\"]}", "name");
		expect_invalid("POST", "/api/v1/api-keys", admin, "{\"name\":\"x\"}", "permissions");
		expect_invalid("POST", "/api/v1/api-keys", admin, "{\"name\":\"x\",\"permissions\":[]}", "permissions");
		expect_invalid("POST", "/api/v1/api-keys", admin,
			       "{\"name\":\"x\",\"permissions\":[\"patients:read\",\"nope:read\"]}", "permissions[1]");
		expect_invalid("POST", "/api/v1/api-keys", admin, "{\"name\":\"x\",\"permissions\":[\"*\"],\"y\":1}",
			       "y");
		expect_invalid("POST", "/api/v1/api-keys", admin,
			       "{\"name\":\"x\",\"permissions\":[\"patients:*\"],\"tenants\":[\"nope\"]}",
			       "tenants[0]");
		r = api_req("POST", "/api/v1/api-keys", admin,
			    "{\"name\":\"x\",\"permissions\":[\"patients:*\"],"
			    "\"tenants\":[\"00000000-0000-4000-8000-000000000000\"]}",
			    NULL);
		assert_status(r, 403);
		api_resp_free(r);
		r = api_req("GET", "/api/v1/api-keys", admin, NULL, NULL);
		after = api_int(r, "pagination.total");
		api_resp_free(r);
		assert_true(before == after);
	}

	/* naming your own tenant is allowed */
	{
		char *own = NULL, body[256];
		r = api_req("GET", "/api/v1/tenant", admin, NULL, NULL);
		own = str_at(r, "data.id");
		api_resp_free(r);
		snprintf(body, sizeof(body),
			 "{\"name\":\"own\",\"permissions\":[\"patients:read\"],\"tenants\":[\"%s\"]}", own);
		r = api_req("POST", "/api/v1/api-keys", admin, body, NULL);
		assert_status(r, 201);
		assert_int_equal(json_array_size(api_path(r, "data.tenants")), 1);
		api_resp_free(r);
		free(own);
	}

	/* "area:*" expands; a doctor may not manage keys */
	r = api_req("POST", "/api/v1/api-keys", admin, "{\"name\":\"svc\",\"permissions\":[\"services:*\"]}", NULL);
	assert_status(r, 201);
	assert_int_equal(json_array_size(api_path(r, "data.permissions")), 4);
	api_resp_free(r);
	{
		char *doctor = api_user_token("demo", "doctor", NULL);
		assert_int_equal(status_of("GET", "/api/v1/api-keys", doctor, NULL), 403);
		assert_int_equal(status_of("POST", "/api/v1/api-keys", doctor,
					   "{\"name\":\"x\",\"permissions\":[\"patients:read\"]}"),
				 403);
		free(doctor);
	}
	free(key);
	free(id);
}

/* The tenant id seen by a token. Owned. */
static char *tenant_of(const char *token)
{
	struct api_resp *r = api_req("GET", "/api/v1/tenant", token, NULL, NULL);
	char *id;

	assert_status(r, 200);
	id = str_at(r, "data.id");
	api_resp_free(r);
	return id;
}

static void test_x_tenant_id(void **state)
{
	const char *admin = api_admin_token();
	char *other = api_user_token("xt-other", "admin", NULL);
	char *third = api_user_token("xt-third", "admin", NULL);
	char *demo_id = tenant_of(admin), *other_id = tenant_of(other), *third_id = tenant_of(third);
	char h[128], kh[256], *key = NULL;
	struct api_resp *r;

	(void)state;
	/* a user: only the token's tenant */
	snprintf(h, sizeof(h), "x-tenant-id: %s", other_id);
	r = api_req("GET", "/api/v1/tenant", admin, NULL, h, NULL);
	assert_status(r, 403);
	assert_string_equal(api_str(r, "error.code"), "FORBIDDEN");
	api_resp_free(r);
	snprintf(h, sizeof(h), "x-tenant-id: %s", demo_id);
	r = api_req("GET", "/api/v1/tenant", admin, NULL, h, NULL);
	assert_status(r, 200);
	api_resp_free(r);

	/* a key serving demo and xt-other (granted by the CLI) */
	{
		const char *args[] = {"apikey",
				      "create",
				      "--tenant",
				      "demo",
				      "--name",
				      "multi",
				      "--permissions",
				      "patients:read services:read",
				      "--extra-tenants",
				      "xt-other",
				      NULL};
		assert_int_equal(api_cli(&key, args), 0);
		key[strcspn(key, "\r\n")] = '\0';
		assert_int_equal(strncmp(key, "clk_", 4), 0);
	}
	snprintf(kh, sizeof(kh), "X-API-Key: %s", key);
	r = api_req("GET", "/api/v1/tenant", NULL, NULL, kh, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), demo_id);
	api_resp_free(r);
	snprintf(h, sizeof(h), "x-tenant-id: %s", other_id);
	r = api_req("GET", "/api/v1/tenant", NULL, NULL, kh, h, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), other_id);
	api_resp_free(r);
	snprintf(h, sizeof(h), "x-tenant-id: %s", third_id);
	r = api_req("GET", "/api/v1/tenant", NULL, NULL, kh, h, NULL);
	assert_status(r, 403);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/tenant", NULL, NULL, kh, "x-tenant-id: not-a-tenant", NULL);
	assert_status(r, 403);
	api_resp_free(r);
	free(key);
	free(demo_id);
	free(other_id);
	free(third_id);
	free(other);
	free(third);
}

static void test_users_crud(void **state)
{
	const char *admin = api_admin_token();
	struct api_resp *r;
	char *id, path[128], *utoken;
	long long before, after;

	(void)state;
	r = api_req("GET", "/api/v1/users", admin, NULL, NULL);
	assert_status(r, 200);
	before = api_int(r, "pagination.total");
	api_resp_free(r);

	/* validation: 400 naming the field, nothing written */
	expect_invalid("POST", "/api/v1/users", admin,
		       "{\"password\":\"Good-Pass-2025\",\"fullName\":\"A B\",\"role\":\"doctor\"}", "email");
	expect_invalid("POST", "/api/v1/users", admin,
		       "{\"email\":\"bad\",\"password\":\"Good-Pass-2025\",\"fullName\":\"A B\",\"role\":\"doctor\"}",
		       "email");
	expect_invalid("POST", "/api/v1/users", admin,
		       "{\"email\":\"n1@crud.test\",\"password\":\"short1\",\"fullName\":\"A B\",\"role\":\"doctor\"}",
		       "password");
	expect_invalid(
	    "POST", "/api/v1/users", admin,
	    "{\"email\":\"n1@crud.test\",\"password\":\"nodigitshere\",\"fullName\":\"A B\",\"role\":\"doctor\"}",
	    "password");
	expect_invalid(
	    "POST", "/api/v1/users", admin,
	    "{\"email\":\"n1@crud.test\",\"password\":\"Good-Pass-2025\",\"fullName\":\"A B\",\"role\":\"king\"}",
	    "role");
	expect_invalid("POST", "/api/v1/users", admin,
		       "{\"email\":\"n1@crud.test\",\"password\":\"Good-Pass-2025\",\"role\":\"doctor\"}", "fullName");
	expect_invalid(
	    "POST", "/api/v1/users", admin,
	    "{\"email\":\"n1@crud.test\",\"password\":\"Good-Pass-2025\",\"fullName\":\"A\",\"role\":\"doctor\","
	    "\"tenantId\":\"x\"}",
	    "tenantId");
	r = api_req("GET", "/api/v1/users", admin, NULL, NULL);
	after = api_int(r, "pagination.total");
	api_resp_free(r);
	assert_true(before == after);

	/* create */
	r = api_req("POST", "/api/v1/users", admin,
		    "{\"email\":\"Nurse.One@Crud.Test\",\"password\":\"Good-Pass-2025\",\"fullName\":\"Nurse One\","
		    "\"role\":\"receptionist\"}",
		    NULL);
	assert_status(r, 201);
	id = str_at(r, "data.id");
	assert_string_equal(api_str(r, "data.email"), "nurse.one@crud.test");
	assert_string_equal(api_str(r, "data.fullName"), "Nurse One");
	assert_string_equal(api_str(r, "data.role"), "receptionist");
	assert_true(json_is_true(api_path(r, "data.active")));
	assert_null(strstr(r->body, "Good-Pass-2025"));
	assert_null(strstr(r->body, "argon2"));
	api_resp_free(r);
	/* email unique (across tenants, case-insensitive) */
	r = api_req("POST", "/api/v1/users", admin,
		    "{\"email\":\"nurse.one@crud.test\",\"password\":\"Good-Pass-2025\",\"fullName\":\"Dup\","
		    "\"role\":\"doctor\"}",
		    NULL);
	assert_status(r, 409);
	api_resp_free(r);
	{
		char *other = api_user_token("crud-other", "admin", NULL);
		r = api_req("POST", "/api/v1/users", other,
			    "{\"email\":\"NURSE.ONE@crud.test\",\"password\":\"Good-Pass-2025\",\"fullName\":\"Dup\","
			    "\"role\":\"doctor\"}",
			    NULL);
		assert_status(r, 409);
		api_resp_free(r);
		/* cross-tenant: 404, and not in the other tenant's list */
		snprintf(path, sizeof(path), "/api/v1/users/%s", id);
		assert_int_equal(status_of("PUT", path, other, "{\"fullName\":\"Hijack\"}"), 404);
		r = api_req("GET", "/api/v1/users", other, NULL, NULL);
		assert_status(r, 200);
		assert_null(strstr(r->body, id));
		api_resp_free(r);
		free(other);
	}

	/* the new user logs in */
	r = login("nurse.one@crud.test", "Good-Pass-2025");
	assert_status(r, 200);
	utoken = str_at(r, "data.accessToken");
	assert_string_equal(api_str(r, "data.user.role"), "receptionist");
	api_resp_free(r);
	/* a non-admin cannot manage users */
	assert_int_equal(status_of("GET", "/api/v1/users", utoken, NULL), 403);
	assert_int_equal(status_of("POST", "/api/v1/users", utoken, "{}"), 403);

	/* update: partial, validated */
	snprintf(path, sizeof(path), "/api/v1/users/%s", id);
	r = api_req("PUT", path, admin, "{\"fullName\":\"Nurse Uno\",\"role\":\"billing_staff\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.fullName"), "Nurse Uno");
	assert_string_equal(api_str(r, "data.role"), "billing_staff");
	assert_string_equal(api_str(r, "data.email"), "nurse.one@crud.test");
	api_resp_free(r);
	/* the role applies at once to the existing token */
	r = api_req("GET", "/api/v1/auth/me", utoken, NULL, NULL);
	assert_string_equal(api_str(r, "data.role"), "billing_staff");
	assert_non_null(strstr(r->body, "claims:submit"));
	api_resp_free(r);
	expect_invalid("PUT", path, admin, "{\"role\":\"emperor\"}", "role");
	expect_invalid("PUT", path, admin, "{\"password\":\"abc\"}", "password");
	expect_invalid("PUT", path, admin, "{\"active\":\"no\"}", "active");
	expect_invalid("PUT", path, admin, "{\"bogus\":1}", "bogus");
	assert_int_equal(status_of("PUT", "/api/v1/users/00000000-0000-4000-8000-000000000000", admin, "{}"), 404);
	assert_int_equal(status_of("PUT", "/api/v1/users/not-a-uuid", admin, "{}"), 404);

	/* an admin cannot deactivate themselves */
	r = api_req("GET", "/api/v1/auth/me", admin, NULL, NULL);
	{
		char self[128];
		snprintf(self, sizeof(self), "/api/v1/users/%s", api_str(r, "data.id"));
		api_resp_free(r);
		expect_invalid("PUT", self, admin, "{\"active\":false}", "active");
	}

	/* deactivation: the user's tokens stop working and login fails */
	r = api_req("PUT", path, admin, "{\"active\":false}", NULL);
	assert_status(r, 200);
	assert_true(json_is_false(api_path(r, "data.active")));
	api_resp_free(r);
	assert_int_equal(status_of("GET", "/api/v1/auth/me", utoken, NULL), 401);
	r = login("nurse.one@crud.test", "Good-Pass-2025");
	assert_status(r, 401);
	api_resp_free(r);
	/* reactivate with a new password */
	r = api_req("PUT", path, admin, "{\"active\":true,\"password\":\"Newer-Pass-2026\"}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = login("nurse.one@crud.test", "Good-Pass-2025");
	assert_status(r, 401);
	api_resp_free(r);
	r = login("nurse.one@crud.test", "Newer-Pass-2026");
	assert_status(r, 200);
	api_resp_free(r);

	/* list and audit */
	r = api_req("GET", "/api/v1/users?limit=100", admin, NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, id));
	assert_null(strstr(r->body, "password"));
	api_resp_free(r);
	{
		char q[128];
		snprintf(q, sizeof(q), "entity=user&entityId=%s", id);
		r = api_req("GET", "/api/audit-logs?entity=user", admin, NULL, NULL);
		assert_status(r, 200);
		assert_non_null(strstr(r->body, "user.create"));
		assert_non_null(strstr(r->body, "user.update"));
		assert_null(strstr(r->body, "Good-Pass-2025"));
		assert_null(strstr(r->body, "Newer-Pass-2026"));
		assert_null(strstr(r->body, "argon2"));
		api_resp_free(r);
		assert_true(audit_count(admin, q) >= 4);
	}
	expect_invalid("GET", "/api/v1/users?limit=0", admin, NULL, "limit");
	free(utoken);
	free(id);
}

static void test_cli_user_and_apikey(void **state)
{
	char *out = NULL, *key = NULL, *id;
	struct api_resp *r;

	(void)state;
	{
		const char *args[] = {
		    "user",   "add",	    "--tenant", "demo",	    "--email",	  "cli.user@demo.test",
		    "--role", "accountant", "--name",	"Cli User", "--password", "Cli-Pass-2025",
		    NULL};
		assert_int_equal(api_cli(&out, args), 0);
		out[strcspn(out, "\r\n")] = '\0';
		assert_int_equal(strlen(out), 36);
	}
	r = login("cli.user@demo.test", "Cli-Pass-2025");
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.user.id"), out);
	assert_string_equal(api_str(r, "data.user.role"), "accountant");
	assert_string_equal(api_str(r, "data.user.fullName"), "Cli User");
	api_resp_free(r);
	free(out);
	out = NULL;
	{
		const char *dup[] = {"user",   "add",	 "--tenant",   "demo",		"--email", "cli.user@demo.test",
				     "--role", "doctor", "--password", "Cli-Pass-2025", NULL};
		const char *badrole[] = {"user",   "add",  "--tenant",	 "demo",	  "--email", "x@demo.test",
					 "--role", "boss", "--password", "Cli-Pass-2025", NULL};
		const char *notenant[] = {"user",   "add",    "--tenant",   "nope",	     "--email", "y@demo.test",
					  "--role", "doctor", "--password", "Cli-Pass-2025", NULL};
		const char *missing[] = {"user", "add", "--tenant", "demo", NULL};
		const char *help[] = {"user", "add", "--help", NULL};
		assert_int_equal(api_cli(NULL, dup), 1);
		assert_int_equal(api_cli(NULL, badrole), 1);
		assert_int_equal(api_cli(NULL, notenant), 1);
		assert_int_equal(api_cli(NULL, missing), 2);
		assert_int_equal(api_cli(&out, help), 0);
		assert_non_null(strstr(out, "usage: clinicledger user add"));
		free(out);
		out = NULL;
	}
	/* generated password: stdout is just the id */
	{
		const char *args[] = {"user",	"add",	  "--tenant", "demo", "--email", "gen.pw@demo.test",
				      "--role", "doctor", NULL};
		assert_int_equal(api_cli(&out, args), 0);
		out[strcspn(out, "\r\n")] = '\0';
		assert_int_equal(strlen(out), 36);
		free(out);
		out = NULL;
	}

	/* apikey create / revoke */
	{
		const char *args[] = {"apikey",	 "create",	  "--tenant",	   "demo", "--name",
				      "cli key", "--permissions", "patients:read", NULL};
		const char *bad[] = {"apikey", "create",	"--tenant",	"demo", "--name",
				     "bad",    "--permissions", "patients:fly", NULL};
		assert_int_equal(api_cli(&key, args), 0);
		key[strcspn(key, "\r\n")] = '\0';
		assert_int_equal(strncmp(key, "clk_", 4), 0);
		assert_int_equal(api_cli(NULL, bad), 1);
	}
	assert_int_equal(status_of("GET", "/api/patients", key, NULL), 200);
	r = api_req("GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_status(r, 200);
	id = str_at(r, "data.id");
	api_resp_free(r);
	{
		const char *args[] = {"apikey", "revoke", id, NULL};
		const char *again[] = {"apikey", "revoke", id, NULL};
		const char *unknown[] = {"apikey", "revoke", "00000000-0000-4000-8000-000000000000", NULL};
		assert_int_equal(api_cli(NULL, args), 0);
		assert_int_equal(api_cli(NULL, again), 1);
		assert_int_equal(api_cli(NULL, unknown), 1);
	}
	assert_int_equal(status_of("GET", "/api/patients", key, NULL), 401);
	/* CLI writes are audited as the system */
	r = api_req("GET", "/api/audit-logs?actorType=system&entity=api_key", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, "apikey.revoke"));
	assert_non_null(strstr(r->body, "\"cli\""));
	api_resp_free(r);
	free(id);
	free(key);
}

static void test_unauthenticated(void **state)
{
	(void)state;
	assert_int_equal(status_of("GET", "/api/v1/auth/me", NULL, NULL), 401);
	assert_int_equal(status_of("GET", "/api/v1/users", NULL, NULL), 401);
	assert_int_equal(status_of("GET", "/api/v1/api-keys", NULL, NULL), 401);
	assert_int_equal(status_of("GET", "/api/v1/tenant", NULL, NULL), 401);
	assert_int_equal(status_of("POST", "/api/v1/users", NULL, "{}"), 401);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_login_ok),
	    cmocka_unit_test(test_login_bad_credentials),
	    cmocka_unit_test(test_lockout_after_max_failures),
	    cmocka_unit_test(test_refresh_rotation_and_reuse),
	    cmocka_unit_test(test_logout_revokes),
	    cmocka_unit_test(test_forged_and_expired_tokens),
	    cmocka_unit_test(test_api_keys),
	    cmocka_unit_test(test_x_tenant_id),
	    cmocka_unit_test(test_users_crud),
	    cmocka_unit_test(test_cli_user_and_apikey),
	    cmocka_unit_test(test_unauthenticated),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
