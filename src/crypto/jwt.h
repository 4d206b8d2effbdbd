/*
 * jwt.h - HS256 JSON Web Tokens for access tokens.
 *
 * Header {"alg":"HS256","typ":"JWT"}; claims iss, aud, sub (user id),
 * tid (tenant id), role, sid (refresh session id), jti, iat, exp.
 * Verification checks the signature (constant time), alg, iss, aud, exp
 * (no leeway beyond 30 s clock skew) and iat not in the future.
 */
#ifndef CL_CRYPTO_JWT_H
#define CL_CRYPTO_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct jwt_claims {
	char iss[128];
	char aud[128];
	char sub[40];
	char tid[40];
	char role[32];
	char sid[40];
	char jti[40];
	int64_t iat;
	int64_t exp;
};

/* Signed compact token. Owned. */
char *jwt_sign_hs256(const struct jwt_claims *c, const unsigned char *key, size_t key_len);

/* Verify token at time now (epoch s); on success fill *out. Any failure ->
 * ERR_UNAUTHORIZED with a generic message and the reason in e->detail. */
int jwt_verify_hs256(const char *token, const unsigned char *key, size_t key_len, const char *iss,
		     const char *aud, int64_t now, struct jwt_claims *out, struct err *e);

#endif
