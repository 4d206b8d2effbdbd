/*
 * test_crypto.c - unit tests of src/crypto/crypto.c.
 *
 * Digests and MACs are checked against published vectors (FIPS 180-2,
 * RFC 4231 test cases 1 and 2, RFC 5869 test case 3, plus one labelled
 * HKDF vector computed with Python's hmac module); the codecs against
 * RFC 4648 vectors and a list of malformed inputs that must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "crypto/crypto.h"

static char *hex_of(const unsigned char *p, size_t n)
{
	return hex_encode(p, n);
}

static void test_sha256_vectors(void **state)
{
	char hex[65];

	(void)state;
	crypto_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	crypto_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hmac_rfc4231(void **state)
{
	unsigned char key1[20];
	unsigned char mac[SHA256_LEN];
	char hex[65];
	char *h;

	(void)state;
	/* Test case 1 */
	memset(key1, 0x0b, sizeof(key1));
	crypto_hmac_sha256_hex(key1, sizeof(key1), "Hi There", 8, hex);
	assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* Test case 2 */
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	h = hex_of(mac, sizeof(mac));
	assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	free(h);
}

static void test_hkdf(void **state)
{
	unsigned char ikm[22];
	unsigned char out[32], out2[32], out3[32];
	char *h;

	(void)state;
	/* RFC 5869 test case 3: no salt, no info; first 32 bytes of OKM. */
	memset(ikm, 0x0b, sizeof(ikm));
	crypto_derive_key(ikm, sizeof(ikm), "", out);
	h = hex_of(out, sizeof(out));
	assert_string_equal(h, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d");
	free(h);
	/* Same with a NULL label. */
	crypto_derive_key(ikm, sizeof(ikm), NULL, out2);
	assert_memory_equal(out, out2, 32);

	/* Labelled: computed independently with Python hmac/hashlib. */
	crypto_derive_key("clinicledger-ikm", 16, "field-enc-v1", out);
	h = hex_of(out, sizeof(out));
	assert_string_equal(h, "cffb77c56dc3a12bff1e3783af6722157601967e5abea821cfd504ad69ab17f3");
	free(h);

	/* Deterministic; distinct labels and distinct keys give distinct outputs. */
	crypto_derive_key("clinicledger-ikm", 16, "field-enc-v1", out2);
	assert_memory_equal(out, out2, 32);
	crypto_derive_key("clinicledger-ikm", 16, "blind-index-v1", out3);
	assert_memory_not_equal(out, out3, 32);
	crypto_derive_key("clinicledger-ikm2", 17, "field-enc-v1", out3);
	assert_memory_not_equal(out, out3, 32);
}

static void test_equal(void **state)
{
	unsigned char a[32], b[32];

	(void)state;
	memset(a, 7, sizeof(a));
	memset(b, 7, sizeof(b));
	assert_true(crypto_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	assert_false(crypto_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	b[0] ^= 0x80;
	assert_false(crypto_equal(a, b, sizeof(a)));
	assert_true(crypto_equal(a, b, 0));
}

static void test_random_and_token(void **state)
{
	unsigned char a[32], b[32];
	char *t1, *t2;

	(void)state;
	crypto_random(a, sizeof(a));
	crypto_random(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	crypto_random(a, 0);

	t1 = crypto_token("clk_live_");
	t2 = crypto_token("clk_live_");
	assert_int_equal(strncmp(t1, "clk_live_", 9), 0);
	assert_int_equal(strlen(t1), 9 + 43);
	assert_string_not_equal(t1, t2);
	for (const char *p = t1 + 9; *p; p++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
	free(t1);
	free(t2);
}

static const struct {
	const char *plain;
	const char *b64;
	const char *b64url;
} b64_vectors[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void test_b64_vectors(void **state)
{
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(b64_vectors) / sizeof(b64_vectors[0]); i++) {
		const char *p = b64_vectors[i].plain;
		size_t n = strlen(p), out_len = 0;
		unsigned char *out = NULL;
		char *enc;

		enc = b64_encode(p, n);
		assert_string_equal(enc, b64_vectors[i].b64);
		free(enc);
		enc = b64url_encode(p, n);
		assert_string_equal(enc, b64_vectors[i].b64url);
		free(enc);

		err_clear(&e);
		assert_int_equal(b64_decode(b64_vectors[i].b64, &out, &out_len, &e), 0);
		assert_int_equal(out_len, n);
		assert_memory_equal(out, p, n);
		assert_int_equal(out[n], '\0');
		free(out);

		assert_int_equal(b64url_decode(b64_vectors[i].b64url, &out, &out_len, &e), 0);
		assert_int_equal(out_len, n);
		assert_memory_equal(out, p, n);
		free(out);
	}
}

static void test_b64_alphabets_and_round_trip(void **state)
{
	static const unsigned char hi[] = { 0xfb, 0xff };
	unsigned char buf[256], *out = NULL;
	size_t out_len = 0;
	struct err e;
	char *enc;

	(void)state;
	enc = b64_encode(hi, sizeof(hi));
	assert_string_equal(enc, "+/8=");
	free(enc);
	enc = b64url_encode(hi, sizeof(hi));
	assert_string_equal(enc, "-_8");
	free(enc);

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)i;
	for (size_t n = 0; n <= sizeof(buf); n += 7) {
		err_clear(&e);
		enc = b64_encode(buf, n);
		assert_int_equal(b64_decode(enc, &out, &out_len, &e), 0);
		assert_int_equal(out_len, n);
		assert_memory_equal(out, buf, n);
		free(out);
		free(enc);
		enc = b64url_encode(buf, n);
		assert_int_equal(b64url_decode(enc, &out, &out_len, &e), 0);
		assert_int_equal(out_len, n);
		assert_memory_equal(out, buf, n);
		free(out);
		free(enc);
	}
}

static void test_b64_rejects(void **state)
{
	static const char *bad_std[] = {
		"Zg",      /* missing padding */
		"Zg=",     /* short padding */
		"Zg===",   /* too much padding */
		"Zm9v=",   /* padding on a full group */
		"Z===",    /* three pad chars */
		"====",    /* only padding */
		"Zh==",    /* non-canonical trailing bits */
		"Zm9=",    /* non-canonical trailing bits */
		"Zm9v\n",  /* whitespace */
		"Zm 9",    /* whitespace */
		"Zm9-",    /* url alphabet */
		"Zm9_",    /* url alphabet */
		"Z=g=",    /* padding in the middle */
		"Zm9vYmFy====",
		"Zm9\x80", /* high byte */
	};
	static const char *bad_url[] = {
		"Zg==", /* padding */
		"Zg=",  /* padding */
		"Z",    /* impossible length */
		"Zm9vY", /* impossible length */
		"Zh",   /* non-canonical trailing bits */
		"Zm+v", /* std alphabet */
		"Zm/v", /* std alphabet */
		"Zm9v ",
		"Zm.v",
	};
	unsigned char *out = NULL;
	size_t out_len = 0;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++) {
		err_clear(&e);
		out = (unsigned char *)"x";
		assert_int_equal(b64_decode(bad_std[i], &out, &out_len, &e), ERR_INVALID);
		assert_int_equal(e.code, ERR_INVALID);
		assert_null(out);
	}
	for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
		err_clear(&e);
		assert_int_equal(b64url_decode(bad_url[i], &out, &out_len, &e), ERR_INVALID);
		assert_null(out);
	}
	assert_int_equal(b64_decode(NULL, &out, &out_len, &e), ERR_INVALID);
	assert_int_equal(b64url_decode(NULL, &out, &out_len, &e), ERR_INVALID);
}

static void test_hex(void **state)
{
	static const unsigned char bytes[] = { 0x00, 0x01, 0xab, 0xff, 0x10 };
	unsigned char *out = NULL;
	size_t out_len = 0;
	struct err e;
	char *enc;

	(void)state;
	err_clear(&e);
	enc = hex_encode(bytes, sizeof(bytes));
	assert_string_equal(enc, "0001abff10");
	assert_int_equal(hex_decode(enc, &out, &out_len, &e), 0);
	assert_int_equal(out_len, sizeof(bytes));
	assert_memory_equal(out, bytes, sizeof(bytes));
	free(out);
	free(enc);

	assert_int_equal(hex_decode("0001ABFF10", &out, &out_len, &e), 0);
	assert_memory_equal(out, bytes, sizeof(bytes));
	free(out);

	assert_int_equal(hex_decode("", &out, &out_len, &e), 0);
	assert_int_equal(out_len, 0);
	free(out);

	assert_int_equal(hex_decode("abc", &out, &out_len, &e), ERR_INVALID);
	assert_null(out);
	assert_int_equal(hex_decode("zz", &out, &out_len, &e), ERR_INVALID);
	assert_int_equal(hex_decode("0x00", &out, &out_len, &e), ERR_INVALID);
	assert_int_equal(hex_decode("00 1", &out, &out_len, &e), ERR_INVALID);
	assert_int_equal(hex_decode(NULL, &out, &out_len, &e), ERR_INVALID);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_hkdf),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_random_and_token),
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_alphabets_and_round_trip),
		cmocka_unit_test(test_b64_rejects),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
