/*
 * field.h - encryption at rest of single fields, and blind indexes.
 *
 * field_encrypt: AES-256-GCM with a random 96-bit nonce; stored text is
 * "v1:" + base64(nonce || ciphertext || tag). The entity's id is bound as
 * associated data, so a ciphertext copied to another row fails to decrypt.
 * field_blind_index: HMAC-SHA256(index key, normalised value) in hex, for
 * exact-match search without decrypting (keys derived from
 * CLINICLEDGER_DATA_KEY with crypto_derive_key, labels "field-enc-v1" and
 * "blind-index-v1").
 */
#ifndef CL_CRYPTO_FIELD_H
#define CL_CRYPTO_FIELD_H

#include "core/err.h"

/* plain NULL -> *out NULL. *out is owned. */
int field_encrypt(const unsigned char key[32], const char *aad, const char *plain, char **out,
		  struct err *e);
/* stored NULL -> *out NULL. Tampered/wrong key -> ERR_INTERNAL. *out owned. */
int field_decrypt(const unsigned char key[32], const char *aad, const char *stored, char **out,
		  struct err *e);
/* Hex HMAC into out[65]; value NULL -> out is "". */
void field_blind_index(const unsigned char key[32], const char *value, char out[65]);

#endif
