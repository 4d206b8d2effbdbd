/*
 * password.h - password hashing with argon2id (libargon2).
 *
 * Parameters: t=3, m=64 MiB, p=1, 16-byte salt, 32-byte hash, stored in
 * the standard encoded form "$argon2id$v=19$m=65536,t=3,p=1$salt$hash".
 * CLINICLEDGER_ARGON2_MEMORY_KIB lowers m for tests only (minimum 8192).
 */
#ifndef CL_CRYPTO_PASSWORD_H
#define CL_CRYPTO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define PASSWORD_HASH_MAX 128

/* Hash pw into out (PASSWORD_HASH_MAX bytes). */
int password_hash(const char *pw, char out[PASSWORD_HASH_MAX], struct err *e);
/* True when pw matches the encoded hash (constant-time inside libargon2). */
bool password_verify(const char *encoded, const char *pw);
/* Policy: 10..128 bytes with at least one letter and one digit ->
 * ERR_INVALID naming field otherwise. */
int password_check_policy(const char *pw, const char *field, struct err *e);

#endif
