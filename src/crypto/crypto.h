/*
 * crypto.h - hashing, MACs, randomness and encodings (OpenSSL underneath).
 *
 * Nothing here logs its inputs. Comparisons of secrets use crypto_equal.
 */
#ifndef CL_CRYPTO_CRYPTO_H
#define CL_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define SHA256_LEN 32

/* Cryptographically secure random bytes; aborts if the RNG fails. */
void crypto_random(void *buf, size_t n);
void crypto_sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* Lower-case hex digest into out[65]. */
void crypto_sha256_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1]);
void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
			unsigned char out[SHA256_LEN]);
void crypto_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
			    char out[2 * SHA256_LEN + 1]);
/* Constant-time equality of two n-byte buffers. */
bool crypto_equal(const void *a, const void *b, size_t n);
/* HKDF-SHA256(ikm, salt = none, info = label) -> 32 bytes. */
void crypto_derive_key(const void *ikm, size_t ikm_len, const char *label, unsigned char out[32]);

/* Encodings. Encoders return an owned NUL-terminated string. Decoders
 * return 0 and an owned buffer (*out, *out_len, NUL-terminated for
 * convenience) or ERR_INVALID on malformed input. */
char *b64_encode(const void *data, size_t len);     /* standard, padded */
char *b64url_encode(const void *data, size_t len);  /* URL-safe, unpadded */
int b64_decode(const char *text, unsigned char **out, size_t *out_len, struct err *e);
int b64url_decode(const char *text, unsigned char **out, size_t *out_len, struct err *e);
char *hex_encode(const void *data, size_t len);
int hex_decode(const char *text, unsigned char **out, size_t *out_len, struct err *e);

/* A fresh random token: prefix followed by 32 random bytes in base64url
 * ("clk_live_..."). Owned. */
char *crypto_token(const char *prefix);

#endif
