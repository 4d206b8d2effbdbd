/*
 * test_password.c - unit tests of src/crypto/password.c.
 *
 * Runs with CLINICLEDGER_ARGON2_MEMORY_KIB=8192 so each hash is quick;
 * checks the encoded form, verification, salting and the policy rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "crypto/password.h"

static int setup(void **state)
{
	(void)state;
	return setenv("CLINICLEDGER_ARGON2_MEMORY_KIB", "8192", 1);
}

static void test_hash_and_verify(void **state)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(password_hash("correct horse 42", h1, &e), 0);
	assert_int_equal(strncmp(h1, "$argon2id$v=19$m=8192,t=3,p=1$", 30), 0);
	assert_true(strlen(h1) < PASSWORD_HASH_MAX);
	assert_true(password_verify(h1, "correct horse 42"));
	assert_false(password_verify(h1, "correct horse 43"));
	assert_false(password_verify(h1, "Correct horse 42"));
	assert_false(password_verify(h1, ""));

	/* Fresh salt each time: same password, different hashes, both verify. */
	assert_int_equal(password_hash("correct horse 42", h2, &e), 0);
	assert_string_not_equal(h1, h2);
	assert_true(password_verify(h2, "correct horse 42"));
}

static void test_verify_bad_input(void **state)
{
	char h[PASSWORD_HASH_MAX];
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(password_hash("abcdefgh12", h, &e), 0);
	assert_false(password_verify(NULL, "abcdefgh12"));
	assert_false(password_verify(h, NULL));
	assert_false(password_verify("", "abcdefgh12"));
	assert_false(password_verify("not a hash", "abcdefgh12"));
	/* argon2i/argon2d encodings are not accepted. */
	h[7] = 'i';
	h[8] = '$';
	assert_false(password_verify(h, "abcdefgh12"));
	/* Truncated encoding. */
	assert_int_equal(password_hash("abcdefgh12", h, &e), 0);
	h[strlen(h) - 5] = '\0';
	assert_false(password_verify(h, "abcdefgh12"));
	assert_int_equal(password_hash(NULL, h, &e), ERR_INVALID);
}

static void test_memory_env(void **state)
{
	char h[PASSWORD_HASH_MAX];
	struct err e;

	(void)state;
	err_clear(&e);
	/* Below the minimum is raised to 8192. */
	setenv("CLINICLEDGER_ARGON2_MEMORY_KIB", "1024", 1);
	assert_int_equal(password_hash("abcdefgh12", h, &e), 0);
	assert_int_equal(strncmp(h, "$argon2id$v=19$m=8192,t=3,p=1$", 30), 0);
	/* A value in range is used. */
	setenv("CLINICLEDGER_ARGON2_MEMORY_KIB", "9000", 1);
	assert_int_equal(password_hash("abcdefgh12", h, &e), 0);
	assert_int_equal(strncmp(h, "$argon2id$v=19$m=9000,t=3,p=1$", 30), 0);
	assert_true(password_verify(h, "abcdefgh12"));
	setenv("CLINICLEDGER_ARGON2_MEMORY_KIB", "8192", 1);
}

static void test_default_params(void **state)
{
	char h[PASSWORD_HASH_MAX];
	struct err e;

	(void)state;
	err_clear(&e);
	/* Without the override (or with garbage) the full 64 MiB is used. */
	setenv("CLINICLEDGER_ARGON2_MEMORY_KIB", "lots", 1);
	assert_int_equal(password_hash("abcdefgh12", h, &e), 0);
	assert_int_equal(strncmp(h, "$argon2id$v=19$m=65536,t=3,p=1$", 31), 0);
	assert_true(password_verify(h, "abcdefgh12"));
	setenv("CLINICLEDGER_ARGON2_MEMORY_KIB", "8192", 1);
}

static void test_policy(void **state)
{
	static const char *good[] = {
		"abcdefghi1", "1234567890a", "Pass word 2024!", "ÄÖÜäöüßx12",
	};
	static const char *bad[] = {
		"", "abc123", "abcdefgh1", "abcdefghijkl", "12345678901", "!!!!!!!!!!!!", "ÄÖÜäöüß12",
	};
	char long_ok[129], long_bad[130];
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err_clear(&e);
		assert_int_equal(password_check_policy(good[i], "password", &e), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_int_equal(password_check_policy(bad[i], "newPassword", &e), ERR_INVALID);
		assert_int_equal(e.code, ERR_INVALID);
		assert_string_equal(e.field, "newPassword");
		assert_true(e.message[0] != '\0');
	}
	memset(long_ok, 'a', 128);
	long_ok[0] = '1';
	long_ok[128] = '\0';
	assert_int_equal(password_check_policy(long_ok, "password", &e), 0);
	memset(long_bad, 'a', 129);
	long_bad[0] = '1';
	long_bad[129] = '\0';
	assert_int_equal(password_check_policy(long_bad, "password", &e), ERR_INVALID);
	assert_int_equal(password_check_policy(NULL, "password", &e), ERR_INVALID);
	assert_string_equal(e.field, "password");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_verify),
		cmocka_unit_test(test_verify_bad_input),
		cmocka_unit_test(test_memory_env),
		cmocka_unit_test(test_default_params),
		cmocka_unit_test(test_policy),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
