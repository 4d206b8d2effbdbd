/*
 * dte_keys.h - the DTE signing key: loading, signing, and the public part.
 *
 * Two sources (../shared/dte-sv/README.md §2):
 *
 *   PEM     DTE_PRIVATE_KEY = a PEM private key file (PKCS#8 or PKCS#1,
 *           optionally encrypted: the passphrase is DTE_CERT_PASSWORD), and
 *           optionally DTE_CERTIFICATE = a PEM certificate or public key that
 *           must belong to that private key.
 *   MH      DTE_CERTIFICATE = the certificate file MH's portal hands out
 *           (<NIT>.crt, NOT X.509: an XML <CertificadoMH> holding <nit>,
 *           <activo>, <publicKey><encodied> (base64 SubjectPublicKeyInfo) and
 *           <privateKey><encodied> (base64 unencrypted PKCS#8) with
 *           <privateKey><clave> = lower-case hex SHA-512 of the private-key
 *           password). DTE_CERT_PASSWORD is that password: like MH's
 *           firmador, loading refuses the key unless sha512_hex(password)
 *           equals <clave>. DTE_PRIVATE_KEY must then be unset.
 *
 * The file kind is recognised from its content (an XML document whose root
 * is CertificadoMH), not its name. Either way the key must be RSA >= 2048
 * bits and the public key on file must match the private key.
 *
 * Secrets: keys, passwords and file contents are never logged, never put in
 * error messages and never returned; buffers that held them are wiped, and
 * dte_keys_free wipes the key. Only the public part can be exported
 * (dte_keys_public_pem), e.g. to register it with the MH sandbox.
 * A loaded key is immutable: threads may share it.
 */
#ifndef CL_MOD_DTE_KEYS_H
#define CL_MOD_DTE_KEYS_H

#include <stddef.h>

#include "core/err.h"
#include "crypto/jws.h"

#define DTE_KEYS_FILE_MAX (1u << 20) /* largest key/certificate file read */
#define DTE_NIT_MAX	  14

enum dte_key_source { DTE_KEY_PEM = 1, DTE_KEY_MH = 2 };

struct dte_key;

/* Load from the environment: DTE_PRIVATE_KEY, DTE_CERTIFICATE,
 * DTE_CERT_PASSWORD as described above. Owned result (*out).
 * Nothing configured -> ERR_NOT_FOUND; a bad combination, unreadable file,
 * bad key, password mismatch, inactive MH certificate or a certificate that
 * does not match the key -> ERR_INVALID with e->field naming the variable. */
int dte_keys_load_env(struct dte_key **out, struct err *e);

/* Same from explicit paths (either may be NULL or ""). password may be NULL.
 * Errors name "DTE_PRIVATE_KEY" / "DTE_CERTIFICATE" / "DTE_CERT_PASSWORD". */
int dte_keys_load_files(const char *private_key_path, const char *certificate_path, const char *password,
			struct dte_key **out, struct err *e);

/* From PEM text: key_pem (required) and cert_pem (certificate or public key;
 * NULL/0 = none). passphrase opens an encrypted key (may be NULL). Owned. */
int dte_keys_from_pem(const char *key_pem, size_t key_len, const char *cert_pem, size_t cert_len,
		      const char *passphrase, struct dte_key **out, struct err *e);

/* From the text of MH's certificate file, gated by password. Owned.
 * Wrong or missing password -> ERR_INVALID field "DTE_CERT_PASSWORD". */
int dte_keys_from_mh(const char *xml, size_t len, const char *password, struct dte_key **out, struct err *e);

/* A PUBLIC key only, from either an MH certificate file's text (its
 * publicKey; no password needed) or PEM (PUBLIC KEY, RSA PUBLIC KEY or
 * CERTIFICATE). nit_out (>= DTE_NIT_MAX + 1 bytes, may be NULL) receives the
 * MH file's <nit>, or "" for PEM. Owned *out (jws_key_free). */
int dte_keys_public_from_text(const char *text, size_t len, struct jws_key **out, char *nit_out, struct err *e);

/* Sign the exact DTE JSON text as MH's firmador does (compact JWS, header
 * {"alg":"RS512"}). *jws owned. */
int dte_keys_sign(const struct dte_key *k, const char *payload, size_t len, char **jws, struct err *e);

/* The public key, for jws_verify_rs512. Borrowed (lives as long as k). */
const struct jws_key *dte_keys_public(const struct dte_key *k);

/* The public key as "PUBLIC KEY" PEM text. Owned; NULL on failure. */
char *dte_keys_public_pem(const struct dte_key *k);

/* The NIT written in MH's certificate file, or "" for PEM keys. Borrowed. */
const char *dte_keys_nit(const struct dte_key *k);

enum dte_key_source dte_keys_source(const struct dte_key *k);

/* Wipe and free (NULL is fine). */
void dte_keys_free(struct dte_key *k);

#endif
