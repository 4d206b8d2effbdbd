/*
 * jws.c - RS512 compact JWS and RSA key loading on OpenSSL 3 (see jws.h).
 *
 * PEM input is read with PEM_read_bio (name + DER) and dispatched on the
 * PEM label, so no OpenSSL call ever falls back to prompting for a
 * passphrase on the terminal. Signature checks go through EVP_DigestVerify
 * with SHA-512 and the RSA default padding (PKCS#1 v1.5).
 */
#include "crypto/jws.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <string.h>

#include "core/mem.h"
#include "crypto/crypto.h"

struct jws_key {
	EVP_PKEY *pkey;
	bool is_private;
};

/* Wrap pkey (taking ownership) after checking it is RSA >= 2048 bits. */
static int key_wrap(EVP_PKEY *pkey, bool is_private, struct jws_key **out, struct err *e)
{
	if (!pkey)
		return err_set(e, ERR_INVALID, NULL, "not a usable RSA key");
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pkey);
		return err_set(e, ERR_INVALID, NULL, "key is not RSA");
	}
	if (EVP_PKEY_get_bits(pkey) < JWS_MIN_RSA_BITS) {
		int bits = EVP_PKEY_get_bits(pkey);
		EVP_PKEY_free(pkey);
		return err_set(e, ERR_INVALID, NULL, "RSA key of %d bits is too short (minimum %d)", bits,
			       JWS_MIN_RSA_BITS);
	}
	struct jws_key *k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	k->is_private = is_private;
	*out = k;
	return 0;
}

/* Our passphrase callback: the given passphrase or nothing (never a prompt). */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	(void)rwflag;
	if (!pass || size <= 0)
		return 0;
	size_t n = strlen(pass);
	if (n > (size_t)size)
		return 0;
	memcpy(buf, pass, n);
	return (int)n;
}

int jws_key_private_pem(const char *pem, size_t len, const char *passphrase, struct jws_key **out, struct err *e)
{
	BIO *bio;
	EVP_PKEY *pkey;

	*out = NULL;
	if (!pem || len == 0 || len > INT32_MAX)
		return err_set(e, ERR_INVALID, NULL, "empty private key");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return err_set(e, ERR_INTERNAL, NULL, "out of memory");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)passphrase);
	BIO_free(bio);
	if (!pkey) {
		unsigned long code = ERR_peek_last_error();
		ERR_clear_error();
		err_set(e, ERR_INVALID, NULL, "cannot read the private key (not PEM, or wrong passphrase)");
		return err_detail(e, "openssl: %s",
				  ERR_reason_error_string(code) ? ERR_reason_error_string(code) : "?");
	}
	return key_wrap(pkey, true, out, e);
}

int jws_key_private_der(const unsigned char *der, size_t len, struct jws_key **out, struct err *e)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8;
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	if (!der || len == 0 || len > INT32_MAX)
		return err_set(e, ERR_INVALID, NULL, "empty private key");
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
	if (p8 && p == der + len)
		pkey = EVP_PKCS82PKEY(p8);
	PKCS8_PRIV_KEY_INFO_free(p8);
	ERR_clear_error();
	if (!pkey)
		return err_set(e, ERR_INVALID, NULL, "private key is not PKCS#8 DER");
	return key_wrap(pkey, true, out, e);
}

int jws_key_public_der(const unsigned char *der, size_t len, struct jws_key **out, struct err *e)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;

	*out = NULL;
	if (!der || len == 0 || len > INT32_MAX)
		return err_set(e, ERR_INVALID, NULL, "empty public key");
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey && p != der + len) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	ERR_clear_error();
	if (!pkey)
		return err_set(e, ERR_INVALID, NULL, "public key is not SubjectPublicKeyInfo DER");
	return key_wrap(pkey, false, out, e);
}

int jws_key_public_pem(const char *pem, size_t len, struct jws_key **out, struct err *e)
{
	BIO *bio;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	EVP_PKEY *pkey = NULL;
	int rc;

	*out = NULL;
	if (!pem || len == 0 || len > INT32_MAX)
		return err_set(e, ERR_INVALID, NULL, "empty public key");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return err_set(e, ERR_INTERNAL, NULL, "out of memory");
	/* skip blocks we do not use (e.g. a private key before the certificate) */
	while (PEM_read_bio(bio, &name, &header, &data, &dlen) == 1) {
		const unsigned char *p = data;
		if (strcmp(name, "PUBLIC KEY") == 0) {
			pkey = d2i_PUBKEY(NULL, &p, dlen);
		} else if (strcmp(name, "RSA PUBLIC KEY") == 0) {
			pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, dlen);
		} else if (strcmp(name, "CERTIFICATE") == 0) {
			X509 *x = d2i_X509(NULL, &p, dlen);
			if (x) {
				pkey = X509_get_pubkey(x);
				X509_free(x);
			}
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_clear_free(data, (size_t)dlen);
		name = header = NULL;
		data = NULL;
		if (pkey)
			break;
	}
	BIO_free(bio);
	ERR_clear_error();
	if (!pkey)
		return err_set(e, ERR_INVALID, NULL, "no public key or certificate in the PEM text");
	rc = key_wrap(pkey, false, out, e);
	return rc;
}

void jws_key_free(struct jws_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* clears the private numbers */
	mem_wipe(k, sizeof(*k));
	free(k);
}

bool jws_key_is_private(const struct jws_key *k)
{
	return k && k->is_private;
}

int jws_key_bits(const struct jws_key *k)
{
	return k ? EVP_PKEY_get_bits(k->pkey) : 0;
}

bool jws_key_match(const struct jws_key *a, const struct jws_key *b)
{
	if (!a || !b)
		return false;
	int r = EVP_PKEY_eq(a->pkey, b->pkey);
	ERR_clear_error();
	return r == 1;
}

char *jws_key_public_pem_text(const struct jws_key *k)
{
	BIO *bio;
	char *text = NULL, *data;
	long n;

	if (!k)
		return NULL;
	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return NULL;
	if (PEM_write_bio_PUBKEY(bio, k->pkey) == 1) {
		n = BIO_get_mem_data(bio, &data);
		if (n > 0)
			text = xstrndup(data, (size_t)n);
	}
	BIO_free(bio);
	ERR_clear_error();
	return text;
}

void jws_sha512_hex(const void *data, size_t len, char out[JWS_SHA512_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[64];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha512(), NULL) != 1 || mdlen != 64) {
		memset(out, '0', JWS_SHA512_HEX_LEN); /* cannot happen; never matches a real gate */
		out[JWS_SHA512_HEX_LEN] = '\0';
		return;
	}
	for (unsigned i = 0; i < 64; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[JWS_SHA512_HEX_LEN] = '\0';
}

int jws_sign_rs512(const struct jws_key *key, const void *payload, size_t len, char **out, struct err *e)
{
	EVP_MD_CTX *ctx = NULL;
	char *p64 = NULL, *input = NULL, *s64 = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc = 0;

	*out = NULL;
	if (!key || !key->is_private)
		return err_set(e, ERR_INVALID, NULL, "signing needs a private key");
	if (!payload || len == 0)
		return err_set(e, ERR_INVALID, NULL, "nothing to sign");
	if (len > JWS_MAX_LEN)
		return err_set(e, ERR_INVALID, NULL, "payload too large to sign");
	p64 = b64url_encode(payload, len);
	input = xasprintf("%s.%s", JWS_RS512_HEADER_B64, p64);
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha512(), NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
		rc = err_set(e, ERR_INTERNAL, NULL, "signing failed");
		goto out;
	}
	sig = xmalloc(siglen);
	if (EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
		rc = err_set(e, ERR_INTERNAL, NULL, "signing failed");
		goto out;
	}
	s64 = b64url_encode(sig, siglen);
	*out = xasprintf("%s.%s", input, s64);
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(p64);
	free(input);
	free(sig);
	free(s64);
	return rc;
}

/* Split and decode a compact JWS; checks structure and header. On success
 * *payload (owned), *sig (owned) and *signing_len (length of "h.p"). */
static int parse_compact(const char *jws, unsigned char **payload, size_t *payload_len, unsigned char **sig,
			 size_t *sig_len, size_t *signing_len, struct err *e)
{
	const char *d1, *d2;
	char *part = NULL;
	unsigned char *hdr = NULL;
	size_t hlen = 0;
	json_t *h = NULL;
	json_error_t je;
	struct err sub;
	int rc = 0;

	*payload = NULL;
	*payload_len = 0;
	if (sig) {
		*sig = NULL;
		*sig_len = 0;
	}
	if (!jws) {
		err_set(e, ERR_INVALID, NULL, "malformed JWS");
		return err_detail(e, "no JWS");
	}
	size_t n = strnlen(jws, JWS_MAX_LEN + 1);
	if (n > JWS_MAX_LEN) {
		err_set(e, ERR_INVALID, NULL, "malformed JWS");
		return err_detail(e, "JWS longer than %u bytes", JWS_MAX_LEN);
	}
	d1 = memchr(jws, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - jws)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - jws)) || d1 == jws || d2 == d1 + 1 ||
	    d2 + 1 == jws + n) {
		err_set(e, ERR_INVALID, NULL, "malformed JWS");
		return err_detail(e, "a compact JWS has three non-empty parts");
	}
	/* header */
	part = xstrndup(jws, (size_t)(d1 - jws));
	if (b64url_decode(part, &hdr, &hlen, &sub) != 0) {
		rc = err_set(e, ERR_INVALID, NULL, "malformed JWS");
		err_detail(e, "header is not base64url");
		goto out;
	}
	free(part);
	part = NULL;
	h = json_loadb((const char *)hdr, hlen, JSON_REJECT_DUPLICATES, &je);
	const json_t *alg = json_is_object(h) ? json_object_get(h, "alg") : NULL;
	if (!json_is_object(h)) {
		rc = err_set(e, ERR_INVALID, NULL, "malformed JWS");
		err_detail(e, "header is not a JSON object");
		goto out;
	}
	if (!json_is_string(alg) || strcmp(json_string_value(alg), "RS512") != 0) {
		rc = err_set(e, ERR_INVALID, NULL, "malformed JWS");
		err_detail(e, "algorithm is not RS512");
		goto out;
	}
	if (json_object_get(h, "crit")) {
		rc = err_set(e, ERR_INVALID, NULL, "malformed JWS");
		err_detail(e, "critical header parameters are not supported");
		goto out;
	}
	/* payload */
	part = xstrndup(d1 + 1, (size_t)(d2 - d1 - 1));
	if (b64url_decode(part, payload, payload_len, &sub) != 0) {
		rc = err_set(e, ERR_INVALID, NULL, "malformed JWS");
		err_detail(e, "payload is not base64url");
		goto out;
	}
	free(part);
	part = NULL;
	if (sig) {
		if (b64url_decode(d2 + 1, sig, sig_len, &sub) != 0) {
			rc = err_set(e, ERR_INVALID, NULL, "malformed JWS");
			err_detail(e, "signature is not base64url");
			goto out;
		}
		*signing_len = (size_t)(d2 - jws);
	}
out:
	if (rc) {
		free(*payload);
		*payload = NULL;
		*payload_len = 0;
		if (sig) {
			free(*sig);
			*sig = NULL;
		}
	}
	free(part);
	free(hdr);
	json_decref(h);
	return rc;
}

int jws_peek(const char *jws, unsigned char **payload, size_t *payload_len, struct err *e)
{
	return parse_compact(jws, payload, payload_len, NULL, NULL, NULL, e);
}

int jws_verify_rs512(const struct jws_key *key, const char *jws, unsigned char **payload, size_t *payload_len,
		     struct err *e)
{
	unsigned char *pl = NULL, *sig = NULL;
	size_t pl_len = 0, sig_len = 0, signing_len = 0;
	EVP_MD_CTX *ctx = NULL;
	int rc;

	if (payload)
		*payload = NULL;
	if (payload_len)
		*payload_len = 0;
	if (!key)
		return err_set(e, ERR_INVALID, NULL, "no key to verify with");
	if ((rc = parse_compact(jws, &pl, &pl_len, &sig, &sig_len, &signing_len, e)))
		return rc;
	if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) {
		rc = err_set(e, ERR_INVALID, NULL, "invalid signature");
		err_detail(e, "signature is %zu bytes, the key needs %d", sig_len, EVP_PKEY_get_size(key->pkey));
		goto out;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, EVP_sha512(), NULL, key->pkey) != 1) {
		rc = err_set(e, ERR_INTERNAL, NULL, "signature check failed to start");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)jws, signing_len) != 1) {
		rc = err_set(e, ERR_INVALID, NULL, "invalid signature");
		err_detail(e, "RS512 signature does not verify with this key");
		goto out;
	}
	if (payload) {
		*payload = pl;
		pl = NULL;
	}
	if (payload_len)
		*payload_len = pl_len;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(pl);
	free(sig);
	return rc;
}
