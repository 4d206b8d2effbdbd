/*
 * crypto.c - randomness, SHA-256, HMAC-SHA256, HKDF and the text encodings.
 *
 * Thin wrappers over OpenSSL 3 (RAND_bytes, EVP_Digest, HMAC, EVP_KDF
 * "HKDF", CRYPTO_memcmp). Failures of the library in the void functions are
 * unrecoverable (a broken RNG or digest leaves nothing safe to do), so they
 * abort. The base64/base64url/hex codecs are our own and strict: decoders
 * reject any character outside the alphabet, wrong padding, impossible
 * lengths and non-canonical trailing bits, so one value has one encoding.
 */
#include "crypto/crypto.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "core/mem.h"

static void crypto_fail(const char *what)
{
	fprintf(stderr, "clinicledger: fatal: %s failed\n", what);
	abort();
}

void crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
		if (RAND_bytes(p, chunk) != 1)
			crypto_fail("RAND_bytes");
		p += chunk;
		n -= (size_t)chunk;
	}
}

static void to_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

void crypto_sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	static const unsigned char empty = 0;
	unsigned int out_len = 0;

	if (!data)
		data = &empty;
	if (EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL) != 1 || out_len != SHA256_LEN)
		crypto_fail("SHA-256");
}

void crypto_sha256_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1])
{
	unsigned char md[SHA256_LEN];

	crypto_sha256(data, len, md);
	to_hex(md, sizeof(md), out);
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
			unsigned char out[SHA256_LEN])
{
	static const unsigned char empty = 0;
	unsigned int out_len = 0;

	if (!key || key_len == 0) {
		key = &empty;
		key_len = 0;
	}
	if (!msg)
		msg = &empty;
	if (key_len > (size_t)INT_MAX)
		crypto_fail("HMAC-SHA256 (key too long)");
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &out_len) ||
	    out_len != SHA256_LEN)
		crypto_fail("HMAC-SHA256");
}

void crypto_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
			    char out[2 * SHA256_LEN + 1])
{
	unsigned char mac[SHA256_LEN];

	crypto_hmac_sha256(key, key_len, msg, msg_len, mac);
	to_hex(mac, sizeof(mac), out);
	mem_wipe(mac, sizeof(mac));
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_derive_key(const void *ikm, size_t ikm_len, const char *label, unsigned char out[32])
{
	static const unsigned char empty = 0;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[4];
	size_t np = 0;
	size_t label_len = label ? strlen(label) : 0;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		crypto_fail("HKDF fetch");
	ctx = EVP_KDF_CTX_new(kdf);
	if (!ctx)
		crypto_fail("HKDF context");
	params[np++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[np++] = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_KEY, (void *)(ikm ? ikm : (const void *)&empty), ikm_len);
	if (label_len > 0)
		params[np++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label,
								 label_len);
	params[np] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, 32, params) != 1)
		crypto_fail("HKDF derive");
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

/* ---- base64 / base64url ---- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode_with(const void *data, size_t len, const char *alphabet, bool pad)
{
	const unsigned char *in = data;
	size_t full = len / 3, rest = len % 3;
	size_t cap = 4 * (full + 1) + 1;
	char *out, *o;

	if (len > (SIZE_MAX / 4) * 3 - 3)
		crypto_fail("base64 (input too large)");
	out = xmalloc(cap);
	o = out;
	for (size_t i = 0; i < full; i++, in += 3) {
		uint32_t v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = alphabet[v & 63];
	}
	if (rest == 1) {
		uint32_t v = (uint32_t)in[0] << 16;
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		if (pad) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (rest == 2) {
		uint32_t v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8;
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

char *b64_encode(const void *data, size_t len)
{
	return b64_encode_with(data, len, b64_std, true);
}

char *b64url_encode(const void *data, size_t len)
{
	return b64_encode_with(data, len, b64_url, false);
}

/* Value of c in the alphabet, or -1. */
static int b64_value(char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/*
 * Decode n data characters (no padding) of text. n % 4 == 1 is impossible;
 * the unused low bits of the last character must be zero.
 */
static int b64_decode_core(const char *text, size_t n, bool url, unsigned char **out,
			   size_t *out_len, struct err *e)
{
	size_t rest = n % 4, len = (n / 4) * 3 + (rest ? rest - 1 : 0);
	unsigned char *buf = NULL;
	uint32_t acc = 0;
	int bits = 0, rc = 0;
	size_t o = 0;

	*out = NULL;
	*out_len = 0;
	if (rest == 1) {
		rc = err_set(e, ERR_INVALID, NULL, "invalid base64 length");
		goto out;
	}
	buf = xmalloc(len + 1);
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(text[i], url);
		if (v < 0) {
			rc = err_set(e, ERR_INVALID, NULL, "invalid base64 character");
			goto out;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) {
		rc = err_set(e, ERR_INVALID, NULL, "non-canonical base64");
		goto out;
	}
	buf[o] = '\0';
	*out = buf;
	*out_len = o;
	buf = NULL;
out:
	if (buf) {
		mem_wipe(buf, len + 1);
		free(buf);
	}
	return rc;
}

int b64_decode(const char *text, unsigned char **out, size_t *out_len, struct err *e)
{
	size_t n, data;

	*out = NULL;
	*out_len = 0;
	if (!text)
		return err_set(e, ERR_INVALID, NULL, "missing base64 text");
	n = strlen(text);
	if (n % 4 != 0)
		return err_set(e, ERR_INVALID, NULL, "invalid base64 length");
	data = n;
	if (data > 0 && text[data - 1] == '=')
		data--;
	if (data > 0 && text[data - 1] == '=')
		data--;
	/* Padding must be exactly what the data length requires. */
	if (n - data != (4 - data % 4) % 4)
		return err_set(e, ERR_INVALID, NULL, "invalid base64 padding");
	return b64_decode_core(text, data, false, out, out_len, e);
}

int b64url_decode(const char *text, unsigned char **out, size_t *out_len, struct err *e)
{
	*out = NULL;
	*out_len = 0;
	if (!text)
		return err_set(e, ERR_INVALID, NULL, "missing base64url text");
	return b64_decode_core(text, strlen(text), true, out, out_len, e);
}

/* ---- hex ---- */

char *hex_encode(const void *data, size_t len)
{
	char *out;

	if (len > (SIZE_MAX - 1) / 2)
		crypto_fail("hex (input too large)");
	out = xmalloc(2 * len + 1);
	to_hex(data, len, out);
	return out;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *text, unsigned char **out, size_t *out_len, struct err *e)
{
	unsigned char *buf = NULL;
	size_t n;
	int rc = 0;

	*out = NULL;
	*out_len = 0;
	if (!text)
		return err_set(e, ERR_INVALID, NULL, "missing hex text");
	n = strlen(text);
	if (n % 2 != 0)
		return err_set(e, ERR_INVALID, NULL, "invalid hex length");
	buf = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
		if (hi < 0 || lo < 0) {
			rc = err_set(e, ERR_INVALID, NULL, "invalid hex character");
			goto out;
		}
		buf[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	buf[n / 2] = '\0';
	*out = buf;
	*out_len = n / 2;
	buf = NULL;
out:
	if (buf) {
		mem_wipe(buf, n / 2 + 1);
		free(buf);
	}
	return rc;
}

char *crypto_token(const char *prefix)
{
	unsigned char raw[32];
	char *enc, *tok;

	crypto_random(raw, sizeof(raw));
	enc = b64url_encode(raw, sizeof(raw));
	tok = xasprintf("%s%s", prefix ? prefix : "", enc);
	mem_wipe(raw, sizeof(raw));
	mem_wipe(enc, strlen(enc));
	free(enc);
	return tok;
}
