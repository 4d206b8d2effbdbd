/*
 * jws.h - JWS compact serialization with RS512, as MH's "firmador" signs a
 * DTE (../shared/dte-sv/README.md §2.3), and the RSA keys it needs.
 *
 * Signing writes the protected header exactly {"alg":"RS512"} (base64url
 * "eyJhbGciOiJSUzUxMiJ9"), the payload bytes as given, and an RSASSA-PKCS1-
 * v1_5 SHA-512 signature: "header.payload.signature", base64url without
 * padding. Verification accepts only that algorithm: the header must be a
 * JSON object whose "alg" is "RS512" (other members are tolerated, "crit" is
 * not); three non-empty parts in canonical unpadded base64url; a signature of
 * exactly the key's modulus size that verifies. Every refusal is
 * ERR_INVALID with a generic message and the reason in e->detail.
 *
 * Keys are RSA of at least 2048 bits (OpenSSL underneath, never exposed).
 * Key material is never logged or put in error texts; OpenSSL clears private
 * key numbers when a key is freed. Thread-safe: a key may be shared by
 * threads for signing and verifying.
 */
#ifndef CL_CRYPTO_JWS_H
#define CL_CRYPTO_JWS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define JWS_RS512_HEADER_B64 "eyJhbGciOiJSUzUxMiJ9" /* base64url of {"alg":"RS512"} */
#define JWS_MIN_RSA_BITS     2048
#define JWS_MAX_LEN	     (16u << 20) /* longest compact JWS accepted */
#define JWS_SHA512_HEX_LEN   128

struct jws_key;

/* A private key from PEM text ("PRIVATE KEY" PKCS#8, "RSA PRIVATE KEY"
 * PKCS#1, or "ENCRYPTED PRIVATE KEY" / legacy encrypted PEM opened with
 * passphrase; passphrase may be NULL). Owned result; free with jws_key_free.
 * Not PEM, wrong passphrase, not RSA or < 2048 bits -> ERR_INVALID. */
int jws_key_private_pem(const char *pem, size_t len, const char *passphrase, struct jws_key **out, struct err *e);

/* A private key from unencrypted PKCS#8 DER (MH's privateKey/encodied, after
 * base64 decoding). Owned result. */
int jws_key_private_der(const unsigned char *der, size_t len, struct jws_key **out, struct err *e);

/* A public key from PEM text: "PUBLIC KEY" (SubjectPublicKeyInfo), "RSA
 * PUBLIC KEY" (PKCS#1) or "CERTIFICATE" (X.509: its subject key). Owned. */
int jws_key_public_pem(const char *pem, size_t len, struct jws_key **out, struct err *e);

/* A public key from SubjectPublicKeyInfo DER (MH's publicKey/encodied). Owned. */
int jws_key_public_der(const unsigned char *der, size_t len, struct jws_key **out, struct err *e);

void jws_key_free(struct jws_key *k);

/* True when k holds a private key (can sign). */
bool jws_key_is_private(const struct jws_key *k);
/* Modulus size in bits. */
int jws_key_bits(const struct jws_key *k);
/* True when a and b have the same public key (a private key and its
 * certificate, or two copies of one public key). */
bool jws_key_match(const struct jws_key *a, const struct jws_key *b);
/* The public part as "-----BEGIN PUBLIC KEY-----" PEM text. Owned; NULL on
 * failure. Never the private part. */
char *jws_key_public_pem_text(const struct jws_key *k);

/* Sign payload (len bytes, the exact DTE JSON text) with a private key.
 * *out: owned NUL-terminated compact JWS. Public key -> ERR_INVALID. */
int jws_sign_rs512(const struct jws_key *key, const void *payload, size_t len, char **out, struct err *e);

/* Verify a compact JWS with key (public or private). On success *payload
 * (owned, NUL-terminated for convenience; may be NULL when not wanted) and
 * *payload_len receive the decoded payload. Refusal -> ERR_INVALID with
 * message "invalid signature" (bad signature, wrong key) or "malformed JWS"
 * (structure, encoding, algorithm). */
int jws_verify_rs512(const struct jws_key *key, const char *jws, unsigned char **payload, size_t *payload_len,
		     struct err *e);

/* Decode the payload of a compact JWS WITHOUT verifying it (to learn who
 * claims to have signed it before choosing the key). Checks the structure
 * and the algorithm as jws_verify_rs512 does. *payload owned. */
int jws_peek(const char *jws, unsigned char **payload, size_t *payload_len, struct err *e);

/* Lower-case hex SHA-512 of data into out[129] (MH's certificate password
 * gate, README §2.2). */
void jws_sha512_hex(const void *data, size_t len, char out[JWS_SHA512_HEX_LEN + 1]);

#endif
