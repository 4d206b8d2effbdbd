/*
 * test_jws.c - unit tests of src/crypto/jws.c (RS512 compact JWS, RSA keys).
 *
 * Keys are generated in the group setup with the OpenSSL API (RSA-2048,
 * plus a 1024-bit and an EC key that must be refused). Besides round trips
 * and every way a JWS must be refused (other algorithms, bad signature,
 * truncated or extra parts, padding, crit), one signature is made by the
 * openssl command-line tool so verification is not only checked against
 * our own signer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/err.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "crypto/jws.h"

static EVP_PKEY *pk_a, *pk_b, *pk_small, *pk_ec;
static char *pem_a, *pem_b, *pub_a, *pem_small, *pem_ec;
static struct jws_key *key_a, *key_b, *pubkey_a;

static const char PAYLOAD[] =
    "{\"identificacion\":{\"version\":1,\"tipoDte\":\"01\"},\"total\":1.15,\"nombre\":\"Clínica\"}";

static char *pem_private(EVP_PKEY *pk, const char *pass)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;
	if (pass)
		PEM_write_bio_PKCS8PrivateKey(b, pk, EVP_aes_256_cbc(), pass, (int)strlen(pass), NULL, NULL);
	else
		PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &data);
	out = xstrndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

static char *pem_public(EVP_PKEY *pk)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;
	PEM_write_bio_PUBKEY(b, pk);
	n = BIO_get_mem_data(b, &data);
	out = xstrndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

static int group_setup(void **state)
{
	struct err e;
	(void)state;
	pk_a = EVP_RSA_gen(2048);
	pk_b = EVP_RSA_gen(2048);
	pk_small = EVP_RSA_gen(1024);
	pk_ec = EVP_EC_gen("P-256");
	if (!pk_a || !pk_b || !pk_small || !pk_ec)
		return -1;
	pem_a = pem_private(pk_a, NULL);
	pem_b = pem_private(pk_b, NULL);
	pem_small = pem_private(pk_small, NULL);
	pem_ec = pem_private(pk_ec, NULL);
	pub_a = pem_public(pk_a);
	if (jws_key_private_pem(pem_a, strlen(pem_a), NULL, &key_a, &e) ||
	    jws_key_private_pem(pem_b, strlen(pem_b), NULL, &key_b, &e) ||
	    jws_key_public_pem(pub_a, strlen(pub_a), &pubkey_a, &e))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	jws_key_free(key_a);
	jws_key_free(key_b);
	jws_key_free(pubkey_a);
	EVP_PKEY_free(pk_a);
	EVP_PKEY_free(pk_b);
	EVP_PKEY_free(pk_small);
	EVP_PKEY_free(pk_ec);
	free(pem_a);
	free(pem_b);
	free(pem_small);
	free(pem_ec);
	free(pub_a);
	return 0;
}

static char *sign(const struct jws_key *k, const char *payload)
{
	char *out = NULL;
	struct err e;
	assert_int_equal(jws_sign_rs512(k, payload, strlen(payload), &out, &e), 0);
	assert_non_null(out);
	return out;
}

static void assert_refused(const struct jws_key *k, const char *jws, const char *message)
{
	unsigned char *payload = (unsigned char *)"sentinel";
	size_t len = 99;
	struct err e;
	err_clear(&e);
	assert_int_equal(jws_verify_rs512(k, jws, &payload, &len, &e), ERR_INVALID);
	assert_null(payload);
	assert_int_equal(len, 0);
	if (message)
		assert_string_equal(e.message, message);
	assert_true(e.detail[0] != '\0' || strcmp(e.message, "invalid signature") == 0);
}

/* Replace part `idx` (0 header, 1 payload, 2 signature) of a compact JWS. */
static char *with_part(const char *jws, int idx, const char *replacement)
{
	const char *d1 = strchr(jws, '.'), *d2 = strchr(d1 + 1, '.');
	if (idx == 0)
		return xasprintf("%s%s", replacement, d1);
	if (idx == 1)
		return xasprintf("%.*s.%s%s", (int)(d1 - jws), jws, replacement, d2);
	return xasprintf("%.*s.%s", (int)(d2 - jws), jws, replacement);
}

/* Sign "b64(header).b64(payload)" with pk and SHA-512/SHA-256 through the
 * OpenSSL API: to make tokens with other headers. */
static char *raw_token(EVP_PKEY *pk, const char *header, const char *payload, const EVP_MD *md)
{
	char *h = b64url_encode(header, strlen(header)), *p = b64url_encode(payload, strlen(payload));
	char *input = xasprintf("%s.%s", h, p), *s, *out;
	unsigned char sig[512];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, pk), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	s = b64url_encode(sig, siglen);
	out = xasprintf("%s.%s", input, s);
	free(h);
	free(p);
	free(input);
	free(s);
	return out;
}

static void test_round_trip(void **state)
{
	unsigned char *payload = NULL;
	size_t len = 0;
	struct err e;
	(void)state;

	char *jws = sign(key_a, PAYLOAD);
	/* header exactly {"alg":"RS512"} */
	assert_true(strncmp(jws, "eyJhbGciOiJSUzUxMiJ9.", 21) == 0);
	assert_string_equal(JWS_RS512_HEADER_B64, "eyJhbGciOiJSUzUxMiJ9");
	/* a 256-byte signature: 342 base64url characters, no padding */
	assert_int_equal(strlen(strrchr(jws, '.') + 1), 342);
	assert_null(strchr(jws, '='));
	assert_int_equal(jws_verify_rs512(pubkey_a, jws, &payload, &len, &e), 0);
	assert_int_equal(len, strlen(PAYLOAD));
	assert_memory_equal(payload, PAYLOAD, len);
	free(payload);
	/* the private key verifies too; the payload may be left out */
	assert_int_equal(jws_verify_rs512(key_a, jws, NULL, NULL, &e), 0);
	/* RSASSA-PKCS1-v1_5 is deterministic */
	char *again = sign(key_a, PAYLOAD);
	assert_string_equal(jws, again);
	free(again);
	free(jws);
}

static void test_openssl_cli_signature(void **state)
{
	char dir[] = "/tmp/test_jws_XXXXXX", path[256], cmd[1024];
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	char *p64 = b64url_encode(PAYLOAD, strlen(PAYLOAD));
	char *input = xasprintf("%s.%s", JWS_RS512_HEADER_B64, p64);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	f = fopen(path, "w");
	fputs(pem_a, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/input", dir);
	f = fopen(path, "w");
	fputs(input, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "openssl dgst -sha512 -sign %s/key.pem -out %s/sig %s/input && "
		 "base64 -w0 %s/sig | tr '+/' '-_' | tr -d '=' > %s/sig.b64",
		 dir, dir, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	char sig[600] = "";
	snprintf(path, sizeof(path), "%s/sig.b64", dir);
	f = fopen(path, "r");
	assert_non_null(fgets(sig, sizeof(sig), f));
	fclose(f);
	char *jws = xasprintf("%s.%s", input, sig);
	struct err e;
	unsigned char *payload = NULL;
	size_t len;
	assert_int_equal(jws_verify_rs512(pubkey_a, jws, &payload, &len, &e), 0);
	assert_memory_equal(payload, PAYLOAD, len);
	/* and the tool's signature equals ours (deterministic padding) */
	char *ours = sign(key_a, PAYLOAD);
	assert_string_equal(ours, jws);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(ours);
	free(payload);
	free(jws);
	free(input);
	free(p64);
}

static void test_bad_signature(void **state)
{
	(void)state;
	char *jws = sign(key_a, PAYLOAD);
	/* another key */
	assert_refused(key_b, jws, "invalid signature");
	/* another payload under the same signature */
	char *p = b64url_encode("{\"total\":2.15}", 14);
	char *t = with_part(jws, 1, p);
	assert_refused(pubkey_a, t, "invalid signature");
	free(t);
	free(p);
	/* a signature of the right length with one bit flipped */
	char *sig = xstrdup(strrchr(jws, '.') + 1);
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	t = with_part(jws, 2, sig);
	assert_refused(pubkey_a, t, "invalid signature");
	free(t);
	free(sig);
	/* a signature made by key b over the same input */
	char *other = sign(key_b, PAYLOAD);
	t = with_part(jws, 2, strrchr(other, '.') + 1);
	assert_refused(pubkey_a, t, "invalid signature");
	free(t);
	free(other);
	free(jws);
}

static void test_other_algorithms_refused(void **state)
{
	(void)state;
	/* RS256 correctly signed: still refused, only RS512 exists here */
	char *t = raw_token(pk_a, "{\"alg\":\"RS256\"}", PAYLOAD, EVP_sha256());
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	/* the RS512 signature under an RS256 header */
	t = raw_token(pk_a, "{\"alg\":\"RS256\"}", PAYLOAD, EVP_sha512());
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = raw_token(pk_a, "{\"alg\":\"none\"}", PAYLOAD, EVP_sha512());
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = raw_token(pk_a, "{\"alg\":\"HS512\"}", PAYLOAD, EVP_sha512());
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = raw_token(pk_a, "{\"alg\":\"rs512\"}", PAYLOAD, EVP_sha512());
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = raw_token(pk_a, "{\"typ\":\"JWT\"}", PAYLOAD, EVP_sha512());
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = raw_token(pk_a, "[\"RS512\"]", PAYLOAD, EVP_sha512());
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = raw_token(pk_a, "{\"alg\":\"RS512\",\"alg\":\"RS512\"}", PAYLOAD, EVP_sha512());
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	/* crit is refused; an extra informational member is tolerated */
	t = raw_token(pk_a, "{\"alg\":\"RS512\",\"crit\":[\"exp\"],\"exp\":1}", PAYLOAD, EVP_sha512());
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	struct err e;
	t = raw_token(pk_a, "{\"alg\":\"RS512\",\"typ\":\"JWT\"}", PAYLOAD, EVP_sha512());
	assert_int_equal(jws_verify_rs512(pubkey_a, t, NULL, NULL, &e), 0);
	free(t);
}

static void test_truncated_and_malformed(void **state)
{
	(void)state;
	char *jws = sign(key_a, PAYLOAD);
	const char *d1 = strchr(jws, '.'), *d2 = strchr(d1 + 1, '.');
	char *t;

	assert_refused(pubkey_a, "", "malformed JWS");
	assert_refused(pubkey_a, "..", "malformed JWS");
	assert_refused(pubkey_a, "abc", "malformed JWS");
	assert_refused(pubkey_a, NULL, "malformed JWS");
	/* two parts */
	t = xstrndup(jws, (size_t)(d2 - jws));
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	/* empty signature, payload, header */
	t = xstrndup(jws, (size_t)(d2 - jws) + 1);
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = with_part(jws, 1, "");
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = xasprintf("%s", d1);
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	/* four parts */
	t = xasprintf("%s.%s", jws, "AAAA");
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	/* signature shortened by 3 bytes (4 characters taken from its middle, so
	 * the base64url stays canonical): wrong length */
	t = xasprintf("%.*s%s", (int)(d2 - jws + 100), jws, d2 + 104);
	assert_int_equal(strlen(t), strlen(jws) - 4);
	assert_refused(pubkey_a, t, "invalid signature");
	free(t);
	/* and cut at its end: wrong length or a non-canonical last character */
	t = xstrndup(jws, strlen(jws) - 4);
	assert_refused(pubkey_a, t, NULL);
	free(t);
	/* signature cut to one character: not base64url */
	t = xasprintf("%.*sA", (int)(d2 - jws + 1), jws);
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	/* padding, whitespace, standard-alphabet characters */
	t = xasprintf("%s==", jws);
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = xasprintf("%s\n", jws);
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	t = xstrdup(jws);
	t[d2 - jws + 5] = '+';
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	/* header truncated */
	t = with_part(jws, 0, "eyJhbGciOiJSUzUxMi");
	assert_refused(pubkey_a, t, "malformed JWS");
	free(t);
	/* payload truncated by one character (non-canonical tail or bad length) */
	char *p = xstrndup(d1 + 1, (size_t)(d2 - d1 - 2));
	t = with_part(jws, 1, p);
	assert_refused(pubkey_a, t, NULL);
	free(t);
	free(p);
	free(jws);
}

static void test_peek(void **state)
{
	unsigned char *payload = NULL;
	size_t len = 0;
	struct err e;
	(void)state;
	char *jws = sign(key_b, PAYLOAD);
	/* no key needed, signature not checked */
	assert_int_equal(jws_peek(jws, &payload, &len, &e), 0);
	assert_memory_equal(payload, PAYLOAD, len);
	free(payload);
	char *t = raw_token(pk_a, "{\"alg\":\"HS256\"}", PAYLOAD, EVP_sha512());
	assert_int_equal(jws_peek(t, &payload, &len, &e), ERR_INVALID);
	assert_null(payload);
	free(t);
	free(jws);
}

static void test_key_loading(void **state)
{
	struct jws_key *k = NULL;
	struct err e;
	(void)state;

	assert_true(jws_key_is_private(key_a));
	assert_false(jws_key_is_private(pubkey_a));
	assert_int_equal(jws_key_bits(key_a), 2048);
	assert_true(jws_key_match(key_a, pubkey_a));
	assert_false(jws_key_match(key_b, pubkey_a));
	/* the public part only, never the private */
	char *text = jws_key_public_pem_text(key_a);
	assert_non_null(strstr(text, "-----BEGIN PUBLIC KEY-----"));
	assert_null(strstr(text, "PRIVATE"));
	free(text);
	/* too small, not RSA, not a key */
	assert_int_equal(jws_key_private_pem(pem_small, strlen(pem_small), NULL, &k, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "too short"));
	assert_null(k);
	assert_int_equal(jws_key_private_pem(pem_ec, strlen(pem_ec), NULL, &k, &e), ERR_INVALID);
	assert_string_equal(e.message, "key is not RSA");
	assert_int_equal(jws_key_private_pem("hello", 5, NULL, &k, &e), ERR_INVALID);
	assert_int_equal(jws_key_public_pem(pem_a, strlen(pem_a), &k, &e),
			 ERR_INVALID); /* a private PEM is no public key */
	/* a public key cannot sign */
	char *out = NULL;
	assert_int_equal(jws_sign_rs512(pubkey_a, "x", 1, &out, &e), ERR_INVALID);
	assert_null(out);
	/* PKCS#1 "RSA PUBLIC KEY" */
	BIO *b = BIO_new(BIO_s_mem());
	unsigned char *der = NULL;
	int n = i2d_PublicKey(pk_a, &der);
	assert_true(n > 0);
	PEM_write_bio(b, "RSA PUBLIC KEY", "", der, n);
	OPENSSL_free(der);
	char *data;
	long len = BIO_get_mem_data(b, &data);
	assert_int_equal(jws_key_public_pem(data, (size_t)len, &k, &e), 0);
	assert_true(jws_key_match(k, key_a));
	jws_key_free(k);
	BIO_free(b);
}

static void test_der_and_certificate(void **state)
{
	struct jws_key *k = NULL;
	struct err e;
	(void)state;

	/* PKCS#8 DER (MH's privateKey/encodied) and SPKI DER (publicKey/encodied) */
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pk_a);
	unsigned char *der = NULL;
	int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	PKCS8_PRIV_KEY_INFO_free(p8);
	assert_int_equal(jws_key_private_der(der, (size_t)n, &k, &e), 0);
	assert_true(jws_key_is_private(k));
	assert_true(jws_key_match(k, pubkey_a));
	jws_key_free(k);
	/* trailing garbage is refused */
	unsigned char *longer = xmalloc((size_t)n + 1);
	memcpy(longer, der, (size_t)n);
	longer[n] = 0;
	assert_int_equal(jws_key_private_der(longer, (size_t)n + 1, &k, &e), ERR_INVALID);
	free(longer);
	OPENSSL_clear_free(der, (size_t)n);
	der = NULL;
	n = i2d_PUBKEY(pk_a, &der);
	assert_int_equal(jws_key_public_der(der, (size_t)n, &k, &e), 0);
	assert_false(jws_key_is_private(k));
	assert_true(jws_key_match(k, key_a));
	jws_key_free(k);
	assert_int_equal(jws_key_public_der(der, (size_t)n - 1, &k, &e), ERR_INVALID);
	OPENSSL_free(der);

	/* a self-signed X.509 certificate of key a */
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk_a);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (unsigned char *)"06141809480014", -1,
				   -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, pk_a, EVP_sha256()) > 0);
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	char *data;
	long len = BIO_get_mem_data(b, &data);
	assert_int_equal(jws_key_public_pem(data, (size_t)len, &k, &e), 0);
	assert_true(jws_key_match(k, key_a));
	char *jws = sign(key_a, PAYLOAD);
	assert_int_equal(jws_verify_rs512(k, jws, NULL, NULL, &e), 0);
	free(jws);
	jws_key_free(k);
	BIO_free(b);
	X509_free(x);
}

static void test_encrypted_private_key(void **state)
{
	struct jws_key *k = NULL;
	struct err e;
	(void)state;
	char *enc = pem_private(pk_a, "Frase-Secreta-1");
	assert_non_null(strstr(enc, "ENCRYPTED PRIVATE KEY"));
	assert_int_equal(jws_key_private_pem(enc, strlen(enc), "Frase-Secreta-1", &k, &e), 0);
	assert_true(jws_key_match(k, pubkey_a));
	jws_key_free(k);
	k = NULL;
	/* wrong or missing passphrase: refused, never a prompt */
	assert_int_equal(jws_key_private_pem(enc, strlen(enc), "otra", &k, &e), ERR_INVALID);
	assert_null(k);
	assert_null(strstr(e.message, "otra"));
	assert_int_equal(jws_key_private_pem(enc, strlen(enc), NULL, &k, &e), ERR_INVALID);
	assert_null(k);
	free(enc);
}

static void test_sha512_hex(void **state)
{
	char hex[JWS_SHA512_HEX_LEN + 1];
	(void)state;
	/* FIPS 180-2 test vector "abc" */
	jws_sha512_hex("abc", 3, hex);
	assert_string_equal(hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
				 "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	jws_sha512_hex("", 0, hex);
	assert_string_equal(hex, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
				 "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
}

static void test_big_and_empty_payloads(void **state)
{
	struct err e;
	char *out = NULL;
	(void)state;
	assert_int_equal(jws_sign_rs512(key_a, "", 0, &out, &e), ERR_INVALID);
	assert_null(out);
	/* a 1 MiB document signs and verifies */
	size_t n = 1u << 20;
	char *big = xmalloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	assert_int_equal(jws_sign_rs512(key_a, big, n, &out, &e), 0);
	unsigned char *payload = NULL;
	size_t len = 0;
	assert_int_equal(jws_verify_rs512(pubkey_a, out, &payload, &len, &e), 0);
	assert_int_equal(len, n);
	free(payload);
	free(out);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_openssl_cli_signature),
	    cmocka_unit_test(test_bad_signature),
	    cmocka_unit_test(test_other_algorithms_refused),
	    cmocka_unit_test(test_truncated_and_malformed),
	    cmocka_unit_test(test_peek),
	    cmocka_unit_test(test_key_loading),
	    cmocka_unit_test(test_der_and_certificate),
	    cmocka_unit_test(test_encrypted_private_key),
	    cmocka_unit_test(test_sha512_hex),
	    cmocka_unit_test(test_big_and_empty_payloads),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
