/*
 * password.c - argon2id password hashes and the password policy.
 *
 * Hashes use libargon2's encoded form with t=3, m=65536 KiB, p=1, a
 * 16-byte random salt and a 32-byte hash. The environment variable
 * CLINICLEDGER_ARGON2_MEMORY_KIB may lower m (never below 8192, never
 * above the default) so the test suite stays fast; it is read at each call.
 * Verification takes its parameters from the stored encoding, so hashes
 * made with other parameters keep verifying.
 */
#include "crypto/password.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "core/mem.h"
#include "crypto/crypto.h"

#define PW_T_COST 3
#define PW_M_COST_KIB 65536
#define PW_M_COST_MIN_KIB 8192
#define PW_PARALLELISM 1
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32
#define PW_MIN_LEN 10
#define PW_MAX_LEN 128

/* Memory cost in KiB: the default, or the lower test override. */
static uint32_t password_memory_kib(void)
{
	const char *env = getenv("CLINICLEDGER_ARGON2_MEMORY_KIB");
	char *end = NULL;
	long v;

	if (!env || !*env)
		return PW_M_COST_KIB;
	errno = 0;
	v = strtol(env, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v >= PW_M_COST_KIB)
		return PW_M_COST_KIB;
	if (v < PW_M_COST_MIN_KIB)
		return PW_M_COST_MIN_KIB;
	return (uint32_t)v;
}

int password_hash(const char *pw, char out[PASSWORD_HASH_MAX], struct err *e)
{
	unsigned char salt[PW_SALT_LEN];
	uint32_t m = password_memory_kib();
	size_t need;
	int arc, rc = 0;

	out[0] = '\0';
	if (!pw)
		return err_set(e, ERR_INVALID, "password", "password is required");
	need = argon2_encodedlen(PW_T_COST, m, PW_PARALLELISM, PW_SALT_LEN, PW_HASH_LEN, Argon2_id);
	if (need > PASSWORD_HASH_MAX) {
		rc = err_set(e, ERR_INTERNAL, NULL, "internal error");
		err_detail(e, "argon2 encoding needs %zu bytes", need);
		goto out;
	}
	crypto_random(salt, sizeof(salt));
	arc = argon2id_hash_encoded(PW_T_COST, m, PW_PARALLELISM, pw, strlen(pw), salt, sizeof(salt),
				    PW_HASH_LEN, out, PASSWORD_HASH_MAX);
	if (arc != ARGON2_OK) {
		out[0] = '\0';
		rc = err_set(e, ERR_INTERNAL, NULL, "internal error");
		err_detail(e, "argon2id: %s", argon2_error_message(arc));
		goto out;
	}
out:
	mem_wipe(salt, sizeof(salt));
	return rc;
}

bool password_verify(const char *encoded, const char *pw)
{
	static const char prefix[] = "$argon2id$";

	if (!encoded || !pw)
		return false;
	if (strncmp(encoded, prefix, sizeof(prefix) - 1) != 0)
		return false;
	if (strnlen(encoded, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX)
		return false;
	return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
}

int password_check_policy(const char *pw, const char *field, struct err *e)
{
	bool letter = false, digit = false;
	size_t len;

	if (!field)
		field = "password";
	if (!pw)
		return err_set(e, ERR_INVALID, field, "%s is required", field);
	len = strlen(pw);
	if (len < PW_MIN_LEN)
		return err_set(e, ERR_INVALID, field, "%s must be at least %d characters", field,
			       PW_MIN_LEN);
	if (len > PW_MAX_LEN)
		return err_set(e, ERR_INVALID, field, "%s must be at most %d characters", field,
			       PW_MAX_LEN);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)pw[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
			letter = true;
		else if (ch >= '0' && ch <= '9')
			digit = true;
	}
	if (!letter || !digit)
		return err_set(e, ERR_INVALID, field, "%s must contain at least one letter and one digit",
			       field);
	return 0;
}
