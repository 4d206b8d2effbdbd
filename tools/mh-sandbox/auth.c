/*
 * auth.c - MH's POST /seguridad/auth and the bearer tokens it hands out
 * (README §1.1).
 *
 * The request is a form (application/x-www-form-urlencoded) with user (the
 * emisor's NIT) and pwd. The answer carries body.token = "Bearer <JWT>",
 * which clients send back unchanged as the Authorization header. Tokens
 * are HS512 JWTs like MH's ({"alg":"HS512"}, sub = NIT, iat, exp) signed
 * with the sandbox's secret (kept in the state file, so tokens survive a
 * restart when the state does); they expire after --token-ttl seconds of
 * the sandbox clock, and /_sandbox/tokens/expire revokes all of them (a
 * generation number inside the token).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "sbx.h"

#define JWT_HEADER_B64 "eyJhbGciOiJIUzUxMiJ9" /* {"alg":"HS512"} */

static char *hs512_b64(const char *input)
{
	unsigned char mac[64];
	unsigned int len = 0;
	HMAC(EVP_sha512(), sbx_token_secret(), 32, (const unsigned char *)input, strlen(input), mac, &len);
	return b64url_encode(mac, len);
}

char *sbx_token_issue(const char *nit)
{
	int64_t now = sbx_now();
	json_t *claims = json_pack("{s:s, s:[s], s:s, s:s, s:I, s:I, s:I}", "sub", nit, "authorities", "ROLE_USER",
				   "c_nit", nit, "c_usr", nit, "gen", (json_int_t)sbx_token_generation(), "iat",
				   (json_int_t)now, "exp", (json_int_t)(now + sbx_cfg.token_ttl_s));
	char *text = json_dumps(claims, JSON_COMPACT);
	char *p64 = b64url_encode(text, strlen(text));
	char *input = xasprintf("%s.%s", JWT_HEADER_B64, p64);
	char *sig = hs512_b64(input);
	char *token = xasprintf("Bearer %s.%s", input, sig);
	free(text);
	free(p64);
	free(input);
	free(sig);
	json_decref(claims);
	return token;
}

void sbx_tokens_expire_all(void)
{
	sbx_lock();
	sbx_token_generation_bump();
	sbx_unlock();
}

static int unauthorized(const struct sbx_req *r, struct sbx_resp *resp, const char *code)
{
	sbx_lock();
	sbx_stats()->unauthorized++;
	sbx_unlock();
	sbx_reply_error(resp, r, 401, sbx_msg_text(code));
	json_object_set_new(resp->json, "codigoMsg", json_string(code));
	return -1;
}

int sbx_auth_check(const struct sbx_req *r, char nit_out[SBX_NIT_MAX + 1], struct sbx_resp *resp)
{
	const char *h = r->authorization;
	char *input = NULL, *sig = NULL;
	unsigned char *payload = NULL;
	size_t payload_len = 0;
	json_t *claims = NULL;
	struct err e;
	int rc = -1;

	nit_out[0] = '\0';
	if (!h || !*h)
		return unauthorized(r, resp, "108");
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return unauthorized(r, resp, "107");
	h += 7;
	while (*h == ' ')
		h++;
	const char *d1 = strchr(h, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '.') || strlen(h) > 4096)
		return unauthorized(r, resp, "107");
	input = xstrndup(h, (size_t)(d2 - h));
	sig = hs512_b64(input);
	if (strlen(sig) != strlen(d2 + 1) || !crypto_equal(sig, d2 + 1, strlen(sig)))
		goto out;
	char *p64 = xstrndup(d1 + 1, (size_t)(d2 - d1 - 1));
	int dec = b64url_decode(p64, &payload, &payload_len, &e);
	free(p64);
	if (dec != 0)
		goto out;
	claims = json_loadb((const char *)payload, payload_len, 0, NULL);
	const char *sub = sbx_str(claims, "sub");
	json_t *exp = json_object_get(claims, "exp"), *gen = json_object_get(claims, "gen");
	if (!sub || !sbx_nit_valid(sub) || !json_is_integer(exp) || !json_is_integer(gen))
		goto out;
	sbx_lock();
	int64_t current = sbx_token_generation();
	sbx_unlock();
	if (json_integer_value(gen) != current || json_integer_value(exp) <= sbx_now())
		goto out;
	snprintf(nit_out, SBX_NIT_MAX + 1, "%s", sub);
	rc = 0;
out:
	free(input);
	free(sig);
	free(payload);
	json_decref(claims);
	if (rc)
		return unauthorized(r, resp, "107");
	return 0;
}

/* application/x-www-form-urlencoded value of name (decoded, owned) or NULL. */
static char *form_value(const char *body, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			char *out = xmalloc((size_t)(stop - v) + 1);
			size_t o = 0;
			for (const char *q = v; q < stop; q++) {
				if (*q == '+') {
					out[o++] = ' ';
				} else if (*q == '%' && stop - q >= 3) {
					char hex[3] = {q[1], q[2], 0};
					char *endp;
					long c = strtol(hex, &endp, 16);
					if (*endp != '\0' || c == 0) {
						free(out);
						return NULL;
					}
					out[o++] = (char)c;
					q += 2;
				} else {
					out[o++] = *q;
				}
			}
			out[o] = '\0';
			return out;
		}
		p = stop + 1;
	}
	return NULL;
}

void sbx_auth_handle(const struct sbx_req *r, struct sbx_resp *resp)
{
	char *user = NULL, *pwd = NULL, hash[65];
	bool ok = false;

	if (!r->content_type || strncasecmp(r->content_type, "application/x-www-form-urlencoded", 33) != 0) {
		/* MH reads form parameters only; JSON is a common client mistake */
		sbx_reply_error(resp, r, 400,
				"Required request parameter 'user' for method parameter type String is not present");
		goto out;
	}
	user = form_value(r->body, r->body_len, "user");
	pwd = form_value(r->body, r->body_len, "pwd");
	if (!user || !pwd) {
		sbx_reply_error(
		    resp, r, 400,
		    !user ? "Required request parameter 'user' for method parameter type String is not present"
			  : "Required request parameter 'pwd' for method parameter type String is not present");
		goto out;
	}
	crypto_sha256_hex(pwd, strlen(pwd), hash);
	sbx_lock();
	struct sbx_emisor *em = sbx_emisor_find(user);
	ok = em && (!em->pwd_sha256[0] || crypto_equal(em->pwd_sha256, hash, 64));
	if (ok)
		sbx_stats()->auth_ok++;
	else
		sbx_stats()->auth_failed++;
	sbx_unlock();
	if (!ok) {
		sbx_reply(resp, 401,
			  json_pack("{s:s, s:s, s:s}", "status", "ERROR", "error", "Unauthorized", "message",
				    "Usuario no valido"));
		goto out;
	}
	char *token = sbx_token_issue(user);
	sbx_reply(resp, 200,
		  json_pack("{s:s, s:{s:s, s:s, s:{s:s, s:s, s:n, s:n, s:n, s:n, s:n}, s:[s], s:s}}", "status", "OK",
			    "body", "user", user, "token", token, "rol", "nombre", "Usuario", "codigo", "ROLE_USER",
			    "descripcion", "rolSuperior", "nivel", "activo", "permisos", "roles", "ROLE_USER",
			    "tokenType", "Bearer"));
	free(token);
out:
	if (pwd) {
		OPENSSL_cleanse(pwd, strlen(pwd));
		free(pwd);
	}
	free(user);
}
