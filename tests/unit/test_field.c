/*
 * test_field.c - unit tests of src/crypto/field.c.
 *
 * Encryption round trips, refusal of tampered, moved (wrong aad), re-keyed
 * and malformed ciphertexts, NULL pass-through, nonce freshness, and the
 * blind index (deterministic, normalised, key-dependent).
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
#include "crypto/field.h"

static void make_key(unsigned char key[32], const char *label)
{
	crypto_derive_key("test-data-key-material", 22, label, key);
}

static void assert_decrypt_fails(const unsigned char key[32], const char *aad, const char *stored)
{
	char *out = (char *)"sentinel";
	struct err e;

	err_clear(&e);
	assert_int_equal(field_decrypt(key, aad, stored, &out, &e), ERR_INTERNAL);
	assert_int_equal(e.code, ERR_INTERNAL);
	assert_string_equal(e.message, "stored data could not be decrypted");
	assert_null(out);
}

static void test_round_trip(void **state)
{
	static const char *values[] = {
		"", "a", "123-45-6789", "Jane Q. Patient", "naïve café ✓",
		"a fairly long value that spans more than one AES block of sixteen bytes",
	};
	unsigned char key[32];
	struct err e;

	(void)state;
	make_key(key, "field-enc-v1");
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char *enc = NULL, *dec = NULL;

		err_clear(&e);
		assert_int_equal(field_encrypt(key, "pat_0001", values[i], &enc, &e), 0);
		assert_non_null(enc);
		assert_int_equal(strncmp(enc, "v1:", 3), 0);
		if (strlen(values[i]) >= 8) /* shorter ones may appear in base64 by chance */
			assert_null(strstr(enc, values[i]));
		assert_int_equal(field_decrypt(key, "pat_0001", enc, &dec, &e), 0);
		assert_string_equal(dec, values[i]);
		free(enc);
		free(dec);
	}
}

static void test_layout(void **state)
{
	unsigned char key[32], *raw = NULL;
	size_t raw_len = 0;
	char *enc = NULL;
	struct err e;

	(void)state;
	err_clear(&e);
	make_key(key, "field-enc-v1");
	assert_int_equal(field_encrypt(key, "pat_0001", "hello", &enc, &e), 0);
	assert_int_equal(b64_decode(enc + 3, &raw, &raw_len, &e), 0);
	assert_int_equal(raw_len, 12 + 5 + 16);
	free(raw);
	free(enc);
}

static void test_tamper(void **state)
{
	unsigned char key[32], *raw = NULL;
	size_t raw_len = 0;
	char *enc = NULL, *b64, *forged;
	struct err e;

	(void)state;
	err_clear(&e);
	make_key(key, "field-enc-v1");
	assert_int_equal(field_encrypt(key, "pat_0001", "123-45-6789", &enc, &e), 0);
	assert_int_equal(b64_decode(enc + 3, &raw, &raw_len, &e), 0);

	/* Flip a bit in the nonce, the ciphertext and the tag in turn. */
	for (size_t pos = 0; pos < raw_len; pos += 5) {
		raw[pos] ^= 0x01;
		b64 = b64_encode(raw, raw_len);
		forged = malloc(strlen(b64) + 4);
		strcpy(forged, "v1:");
		strcat(forged, b64);
		assert_decrypt_fails(key, "pat_0001", forged);
		free(forged);
		free(b64);
		raw[pos] ^= 0x01;
	}
	/* Truncated (tag cut short) and too short overall. */
	b64 = b64_encode(raw, raw_len - 1);
	forged = malloc(strlen(b64) + 4);
	strcpy(forged, "v1:");
	strcat(forged, b64);
	assert_decrypt_fails(key, "pat_0001", forged);
	free(forged);
	free(b64);
	b64 = b64_encode(raw, 27);
	forged = malloc(strlen(b64) + 4);
	strcpy(forged, "v1:");
	strcat(forged, b64);
	assert_decrypt_fails(key, "pat_0001", forged);
	free(forged);
	free(b64);

	free(raw);
	free(enc);
}

static void test_wrong_aad_and_key(void **state)
{
	unsigned char key[32], other[32];
	char *enc = NULL;
	struct err e;

	(void)state;
	err_clear(&e);
	make_key(key, "field-enc-v1");
	make_key(other, "field-enc-v2");
	assert_int_equal(field_encrypt(key, "pat_0001", "Jane Doe", &enc, &e), 0);
	assert_decrypt_fails(key, "pat_0002", enc);
	assert_decrypt_fails(key, "", enc);
	assert_decrypt_fails(key, NULL, enc);
	assert_decrypt_fails(other, "pat_0001", enc);
	free(enc);

	/* Empty and NULL aad are the same binding. */
	assert_int_equal(field_encrypt(key, NULL, "x", &enc, &e), 0);
	{
		char *dec = NULL;
		assert_int_equal(field_decrypt(key, "", enc, &dec, &e), 0);
		assert_string_equal(dec, "x");
		free(dec);
	}
	free(enc);
}

static void test_malformed(void **state)
{
	unsigned char key[32];

	(void)state;
	make_key(key, "field-enc-v1");
	assert_decrypt_fails(key, "pat_0001", "");
	assert_decrypt_fails(key, "pat_0001", "plain text");
	assert_decrypt_fails(key, "pat_0001", "v1:");
	assert_decrypt_fails(key, "pat_0001", "v1:!!!!");
	assert_decrypt_fails(key, "pat_0001", "v1:AAAA");
	assert_decrypt_fails(key, "pat_0001", "v2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_decrypt_fails(key, "pat_0001", "v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
}

static void test_null_handling(void **state)
{
	unsigned char key[32];
	char *out = (char *)"sentinel";
	struct err e;

	(void)state;
	err_clear(&e);
	make_key(key, "field-enc-v1");
	assert_int_equal(field_encrypt(key, "pat_0001", NULL, &out, &e), 0);
	assert_null(out);
	out = (char *)"sentinel";
	assert_int_equal(field_decrypt(key, "pat_0001", NULL, &out, &e), 0);
	assert_null(out);
	assert_int_equal(e.code, 0);
}

static void test_fresh_nonces(void **state)
{
	unsigned char key[32];
	char *a = NULL, *b = NULL, *da = NULL, *db = NULL;
	struct err e;

	(void)state;
	err_clear(&e);
	make_key(key, "field-enc-v1");
	assert_int_equal(field_encrypt(key, "pat_0001", "same value", &a, &e), 0);
	assert_int_equal(field_encrypt(key, "pat_0001", "same value", &b, &e), 0);
	assert_string_not_equal(a, b);
	/* The nonces themselves (first 16 base64 chars = 12 bytes) differ. */
	assert_memory_not_equal(a + 3, b + 3, 16);
	assert_int_equal(field_decrypt(key, "pat_0001", a, &da, &e), 0);
	assert_int_equal(field_decrypt(key, "pat_0001", b, &db, &e), 0);
	assert_string_equal(da, db);
	free(a);
	free(b);
	free(da);
	free(db);
}

static void test_blind_index(void **state)
{
	unsigned char k1[32], k2[32];
	char a[65], b[65], c[65], d[65];
	char expect[65];

	(void)state;
	make_key(k1, "blind-index-v1");
	make_key(k2, "blind-index-v2");
	field_blind_index(k1, "123-45-6789", a);
	field_blind_index(k1, "123-45-6789", b);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	/* It is the hex HMAC of the (already normal) value. */
	crypto_hmac_sha256_hex(k1, 32, "123-45-6789", 11, expect);
	assert_string_equal(a, expect);
	/* Key-dependent. */
	field_blind_index(k2, "123-45-6789", c);
	assert_string_not_equal(a, c);
	/* Value-dependent. */
	field_blind_index(k1, "123-45-6780", d);
	assert_string_not_equal(a, d);
	/* Normalised: surrounding whitespace and ASCII case do not matter. */
	field_blind_index(k1, "jane@example.org", a);
	field_blind_index(k1, "  Jane@Example.ORG\t", b);
	assert_string_equal(a, b);
	/* NULL -> "". */
	field_blind_index(k1, NULL, c);
	assert_string_equal(c, "");
	/* Empty string is a real value, not "". */
	field_blind_index(k1, "", d);
	assert_int_equal(strlen(d), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_wrong_aad_and_key),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_null_handling),
		cmocka_unit_test(test_fresh_nonces),
		cmocka_unit_test(test_blind_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
