/*
 * jwt.c - signing and verifying HS256 access tokens.
 *
 * Signing builds the fixed header {"alg":"HS256","typ":"JWT"} and a compact
 * claims object with jansson. Verification trusts nothing before the
 * signature: it checks the shape and size (at most 4096 bytes, three
 * base64url parts), recomputes the HMAC over "header.payload" and compares
 * it in constant time, and only then parses the header (alg must be exactly
 * "HS256"; "none" and every other algorithm are refused) and the claims
 * (iss and aud strings equal to ours, exp > now - 30, iat <= now + 30, sub
 * and tid present, every string within its field's size). Every failure is
 * ERR_UNAUTHORIZED with one generic message; the reason goes to e->detail.
 */
#include "crypto/jwt.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/mem.h"
#include "crypto/crypto.h"

#define JWT_MAX_LEN 4096
#define JWT_SKEW_S 30
#define JWT_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

char *jwt_sign_hs256(const struct jwt_claims *c, const unsigned char *key, size_t key_len)
{
	json_t *obj = json_object();
	char *payload_json = NULL, *header_b64 = NULL, *payload_b64 = NULL, *signing = NULL;
	char *sig_b64 = NULL, *token = NULL;
	unsigned char mac[SHA256_LEN];

	json_object_set_new(obj, "iss", json_string(c->iss));
	json_object_set_new(obj, "aud", json_string(c->aud));
	json_object_set_new(obj, "sub", json_string(c->sub));
	json_object_set_new(obj, "tid", json_string(c->tid));
	if (c->role[0])
		json_object_set_new(obj, "role", json_string(c->role));
	if (c->sid[0])
		json_object_set_new(obj, "sid", json_string(c->sid));
	if (c->jti[0])
		json_object_set_new(obj, "jti", json_string(c->jti));
	json_object_set_new(obj, "iat", json_integer((json_int_t)c->iat));
	json_object_set_new(obj, "exp", json_integer((json_int_t)c->exp));
	payload_json = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!payload_json) {
		/* Only on OOM or invalid UTF-8 in a claim: both programming errors. */
		abort();
	}

	header_b64 = b64url_encode(JWT_HEADER, strlen(JWT_HEADER));
	payload_b64 = b64url_encode(payload_json, strlen(payload_json));
	signing = xasprintf("%s.%s", header_b64, payload_b64);
	crypto_hmac_sha256(key, key_len, signing, strlen(signing), mac);
	sig_b64 = b64url_encode(mac, sizeof(mac));
	token = xasprintf("%s.%s", signing, sig_b64);

	mem_wipe(mac, sizeof(mac));
	json_decref(obj);
	free(payload_json);
	free(header_b64);
	free(payload_b64);
	free(signing);
	free(sig_b64);
	return token;
}

/* Copy a required/optional string claim into dst (size cap). */
static int claim_string(json_t *claims, const char *name, bool required, char *dst, size_t cap,
			struct err *e)
{
	json_t *v = json_object_get(claims, name);
	const char *s;
	size_t len;

	dst[0] = '\0';
	if (!v) {
		if (required)
			return err_detail(e, "claim %s missing", name);
		return 0;
	}
	if (!json_is_string(v))
		return err_detail(e, "claim %s is not a string", name);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len != strlen(s))
		return err_detail(e, "claim %s contains NUL", name);
	if (len >= cap)
		return err_detail(e, "claim %s too long", name);
	if (required && len == 0)
		return err_detail(e, "claim %s empty", name);
	memcpy(dst, s, len + 1);
	return 0;
}

static int claim_int(json_t *claims, const char *name, int64_t *dst, struct err *e)
{
	json_t *v = json_object_get(claims, name);

	if (!v)
		return err_detail(e, "claim %s missing", name);
	if (!json_is_integer(v))
		return err_detail(e, "claim %s is not an integer", name);
	*dst = (int64_t)json_integer_value(v);
	return 0;
}

/* Decode a base64url part and parse it as a JSON object. */
static json_t *decode_json_part(const char *part, size_t len, const char *what, struct err *e)
{
	char *text = xstrndup(part, len);
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	struct err derr;
	json_t *obj = NULL;
	json_error_t jerr;

	err_clear(&derr);
	if (b64url_decode(text, &raw, &raw_len, &derr) != 0) {
		err_detail(e, "%s is not base64url", what);
		goto out;
	}
	obj = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		err_detail(e, "%s is not JSON", what);
		goto out;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		obj = NULL;
		err_detail(e, "%s is not a JSON object", what);
		goto out;
	}
out:
	free(text);
	free(raw);
	return obj;
}

int jwt_verify_hs256(const char *token, const unsigned char *key, size_t key_len, const char *iss,
		     const char *aud, int64_t now, struct jwt_claims *out, struct err *e)
{
	const char *dot1, *dot2;
	size_t len, signing_len;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	unsigned char mac[SHA256_LEN];
	char *sig_text = NULL;
	json_t *header = NULL, *claims = NULL, *alg, *typ;
	struct jwt_claims c;
	struct err derr;
	int rc = err_set(e, ERR_UNAUTHORIZED, NULL, "invalid or expired access token");

	memset(&c, 0, sizeof(c));
	memset(mac, 0, sizeof(mac));
	err_clear(&derr);
	if (!token || !key || key_len == 0 || !iss || !aud) {
		err_detail(e, "missing token or verification parameters");
		goto out;
	}
	len = strnlen(token, JWT_MAX_LEN + 1);
	if (len > JWT_MAX_LEN) {
		err_detail(e, "token longer than %d bytes", JWT_MAX_LEN);
		goto out;
	}
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
		err_detail(e, "token does not have three parts");
		goto out;
	}
	if (dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == token + len) {
		err_detail(e, "token has an empty part");
		goto out;
	}

	/* 1. Signature, before anything else is looked at. */
	sig_text = xstrdup(dot2 + 1);
	if (b64url_decode(sig_text, &sig, &sig_len, &derr) != 0 || sig_len != SHA256_LEN) {
		err_detail(e, "malformed signature");
		goto out;
	}
	signing_len = (size_t)(dot2 - token);
	crypto_hmac_sha256(key, key_len, token, signing_len, mac);
	if (!crypto_equal(mac, sig, SHA256_LEN)) {
		err_detail(e, "bad signature");
		goto out;
	}

	/* 2. Header: exactly HS256. */
	header = decode_json_part(token, (size_t)(dot1 - token), "header", e);
	if (!header)
		goto out;
	alg = json_object_get(header, "alg");
	if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0 ||
	    json_string_length(alg) != 5) {
		err_detail(e, "unsupported alg");
		goto out;
	}
	typ = json_object_get(header, "typ");
	if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0)) {
		err_detail(e, "unsupported typ");
		goto out;
	}
	if (json_object_get(header, "crit")) {
		err_detail(e, "unsupported crit header");
		goto out;
	}

	/* 3. Claims. */
	claims = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload", e);
	if (!claims)
		goto out;
	if (claim_string(claims, "iss", true, c.iss, sizeof(c.iss), e) ||
	    claim_string(claims, "aud", true, c.aud, sizeof(c.aud), e) ||
	    claim_string(claims, "sub", true, c.sub, sizeof(c.sub), e) ||
	    claim_string(claims, "tid", true, c.tid, sizeof(c.tid), e) ||
	    claim_string(claims, "role", false, c.role, sizeof(c.role), e) ||
	    claim_string(claims, "sid", false, c.sid, sizeof(c.sid), e) ||
	    claim_string(claims, "jti", false, c.jti, sizeof(c.jti), e) ||
	    claim_int(claims, "iat", &c.iat, e) || claim_int(claims, "exp", &c.exp, e))
		goto out;
	if (strcmp(c.iss, iss) != 0) {
		err_detail(e, "wrong issuer");
		goto out;
	}
	if (strcmp(c.aud, aud) != 0) {
		err_detail(e, "wrong audience");
		goto out;
	}
	if (!(c.exp > now - JWT_SKEW_S)) {
		err_detail(e, "token expired");
		goto out;
	}
	if (!(c.iat <= now + JWT_SKEW_S)) {
		err_detail(e, "token issued in the future");
		goto out;
	}

	*out = c;
	err_clear(e);
	rc = 0;
out:
	mem_wipe(mac, sizeof(mac));
	json_decref(header);
	json_decref(claims);
	free(sig);
	free(sig_text);
	return rc;
}
