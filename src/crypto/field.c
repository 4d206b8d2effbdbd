/*
 * field.c - AES-256-GCM encryption of single fields, and blind indexes.
 *
 * A stored field is "v1:" + base64(nonce[12] || ciphertext || tag[16]),
 * with a fresh random nonce per encryption and the owning entity's id as
 * associated data, so a value moved to another row no longer decrypts.
 * Any decryption failure (bad prefix, bad base64, short blob, wrong key,
 * wrong id, tampering) is ERR_INTERNAL "stored data could not be
 * decrypted": stored data is ours, so failure means corruption or a key
 * mix-up, never bad client input.
 *
 * Blind index: hex HMAC-SHA256(index key, normalised value). Normalising
 * trims ASCII whitespace at both ends and lower-cases ASCII letters, so
 * " Smith@Example.org" and "smith@example.org" index alike.
 */
#include "crypto/field.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/mem.h"
#include "crypto/crypto.h"

#define FIELD_PREFIX "v1:"
#define FIELD_NONCE_LEN 12
#define FIELD_TAG_LEN 16
/* Fields are small; this also keeps int conversions for EVP safe. */
#define FIELD_MAX_PLAIN (16u * 1024u * 1024u)

static const char field_decrypt_msg[] = "stored data could not be decrypted";

int field_encrypt(const unsigned char key[32], const char *aad, const char *plain, char **out,
		  struct err *e)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *blob = NULL;
	size_t plain_len, aad_len, blob_len = 0;
	int n = 0, fin = 0, rc = 0;

	*out = NULL;
	if (!plain)
		return 0;
	if (!aad)
		aad = "";
	plain_len = strlen(plain);
	aad_len = strlen(aad);
	if (plain_len > FIELD_MAX_PLAIN || aad_len > FIELD_MAX_PLAIN) {
		rc = err_set(e, ERR_INTERNAL, NULL, "internal error");
		err_detail(e, "field too large to encrypt");
		goto out;
	}
	blob_len = FIELD_NONCE_LEN + plain_len + FIELD_TAG_LEN;
	blob = xmalloc(blob_len);
	crypto_random(blob, FIELD_NONCE_LEN);

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, FIELD_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key, blob) != 1 ||
	    (aad_len > 0 &&
	     EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)aad_len) != 1) ||
	    EVP_EncryptUpdate(ctx, blob + FIELD_NONCE_LEN, &n, (const unsigned char *)plain,
			      (int)plain_len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, blob + FIELD_NONCE_LEN + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != plain_len ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, FIELD_TAG_LEN,
				blob + FIELD_NONCE_LEN + plain_len) != 1) {
		rc = err_set(e, ERR_INTERNAL, NULL, "internal error");
		err_detail(e, "AES-256-GCM encryption failed");
		goto out;
	}
	{
		char *b64 = b64_encode(blob, blob_len);
		*out = xasprintf("%s%s", FIELD_PREFIX, b64);
		free(b64);
	}
out:
	EVP_CIPHER_CTX_free(ctx);
	if (blob) {
		mem_wipe(blob, blob_len);
		free(blob);
	}
	return rc;
}

int field_decrypt(const unsigned char key[32], const char *aad, const char *stored, char **out,
		  struct err *e)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *blob = NULL, *tag;
	size_t blob_len = 0, ct_len = 0, aad_len;
	char *plain = NULL;
	struct err derr;
	int n = 0, fin = 0, rc = 0;

	*out = NULL;
	if (!stored)
		return 0;
	if (!aad)
		aad = "";
	aad_len = strlen(aad);
	err_clear(&derr);
	if (strncmp(stored, FIELD_PREFIX, strlen(FIELD_PREFIX)) != 0) {
		rc = err_set(e, ERR_INTERNAL, NULL, "%s", field_decrypt_msg);
		err_detail(e, "unknown field encryption version");
		goto out;
	}
	if (b64_decode(stored + strlen(FIELD_PREFIX), &blob, &blob_len, &derr) != 0) {
		rc = err_set(e, ERR_INTERNAL, NULL, "%s", field_decrypt_msg);
		err_detail(e, "encrypted field is not base64");
		goto out;
	}
	if (blob_len < FIELD_NONCE_LEN + FIELD_TAG_LEN ||
	    blob_len - FIELD_NONCE_LEN - FIELD_TAG_LEN > FIELD_MAX_PLAIN || aad_len > FIELD_MAX_PLAIN) {
		rc = err_set(e, ERR_INTERNAL, NULL, "%s", field_decrypt_msg);
		err_detail(e, "encrypted field has a bad length");
		goto out;
	}
	ct_len = blob_len - FIELD_NONCE_LEN - FIELD_TAG_LEN;
	tag = blob + FIELD_NONCE_LEN + ct_len;
	plain = xmalloc(ct_len + 1);

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, FIELD_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, blob) != 1 ||
	    (aad_len > 0 &&
	     EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)aad_len) != 1) ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n, blob + FIELD_NONCE_LEN,
			      (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, FIELD_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != ct_len) {
		rc = err_set(e, ERR_INTERNAL, NULL, "%s", field_decrypt_msg);
		err_detail(e, "AES-256-GCM authentication failed");
		goto out;
	}
	plain[ct_len] = '\0';
	if (memchr(plain, '\0', ct_len)) {
		rc = err_set(e, ERR_INTERNAL, NULL, "%s", field_decrypt_msg);
		err_detail(e, "decrypted field contains NUL");
		goto out;
	}
	*out = plain;
	plain = NULL;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (plain) {
		mem_wipe(plain, ct_len + 1);
		free(plain);
	}
	if (blob) {
		mem_wipe(blob, blob_len);
		free(blob);
	}
	return rc;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void field_blind_index(const unsigned char key[32], const char *value, char out[65])
{
	const char *start, *end;
	char *norm;
	size_t len;

	out[0] = '\0';
	if (!value)
		return;
	start = value;
	end = value + strlen(value);
	while (start < end && is_space(*start))
		start++;
	while (end > start && is_space(end[-1]))
		end--;
	len = (size_t)(end - start);
	norm = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		char c = start[i];
		norm[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	norm[len] = '\0';
	crypto_hmac_sha256_hex(key, 32, norm, len, out);
	mem_wipe(norm, len + 1);
	free(norm);
}
