/*
 * harness.h - API tests: start the real binary on a free loopback port with a
 * fresh database, and talk to it over HTTP (libcurl).
 *
 * Backend: env CLINICLEDGER_TEST_PG set (a postgresql:// URL of a throwaway
 * server, see tests/lib/pg.sh) -> a new database is created for this test
 * program; otherwise a fresh SQLite file in a temporary directory.
 * Binary: env CLINICLEDGER_TEST_BIN, default build/clinicledger.
 *
 * TLS: when extra_env sets CLINICLEDGER_TLS_CERT (a self-signed PEM for
 * 127.0.0.1), the harness speaks https and trusts that certificate.
 *
 * The server is started with the bootstrap admin API_ADMIN_EMAIL /
 * API_ADMIN_PASSWORD in tenant "demo" (slug), and with job workers on.
 * Use from a cmocka group setup:
 *     static int setup(void **state) { return api_server_start(NULL); }
 *     static int teardown(void **state) { api_server_stop(); return 0; }
 */
#ifndef CL_TESTS_API_HARNESS_H
#define CL_TESTS_API_HARNESS_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#define API_ADMIN_EMAIL "admin@demo.test"
#define API_ADMIN_PASSWORD "Admin-Pass-2025"
#define API_USER_PASSWORD "User-Pass-2025x"

struct api_resp {
	long status;
	char *body;         /* NUL-terminated */
	size_t len;
	json_t *json;       /* parsed body or NULL */
	char content_type[128];
	char retry_after[32];
	char request_id[64];
	char *headers;      /* raw response headers */
};

/* Start the server. extra_env: NULL-terminated "NAME=value" list added to
 * the server's environment (may be NULL). Returns 0 or -1. */
int api_server_start(const char *const *extra_env);
void api_server_stop(void);
/* Kill -9 and start again on the same database. */
int api_server_restart_hard(void);
/* Stop with SIGTERM, keeping the database and data directory ... */
void api_server_halt(void);
/* ... and start again on them. */
int api_server_resume(void);
/* The server's temporary directory (database, keys, logs). */
const char *api_data_dir(void);
/* Run SQL on the server's database with the sqlite3 or psql client; returns
 * the client's exit status and (when out != NULL) its output, rows "a|b\n". */
int api_sql(char **out, const char *sql);
/* True when the server runs on PostgreSQL. */
int api_is_pg(void);
const char *api_base_url(void);
const char *api_db_url(void); /* the database URL the server uses */

/* One request. token may be NULL (no Authorization). body may be NULL.
 * Extra headers: NULL-terminated list of "Name: value" strings. Owned result. */
struct api_resp *api_req(const char *method, const char *path, const char *token, const char *body, ...);
struct api_resp *api_reqv(const char *method, const char *path, const char *token, const char *body,
			  const char *const *headers);
void api_resp_free(struct api_resp *r);

/* The bootstrap admin's access token (logged in once, cached). Borrowed. */
const char *api_admin_token(void);
/* Log in; returns an owned access token or NULL. */
char *api_login(const char *email, const char *password);

/* Run `clinicledger ARGS...` against the server's database; returns the
 * exit status and (when out != NULL) stdout as an owned string. args is a
 * NULL-terminated argv without the program name. */
int api_cli(char **out, const char *const *args);

/* Make a tenant (slug; created once) and a user with role in it; returns an
 * owned access token. email_out (may be NULL) receives the email (>= 128 bytes). */
char *api_user_token(const char *tenant_slug, const char *role, char *email_out);

/* JSON helpers on r->json: value at a dotted path ("data.items.0.id"), or NULL. Borrowed. */
json_t *api_path(const struct api_resp *r, const char *path);
const char *api_str(const struct api_resp *r, const char *path);
long long api_int(const struct api_resp *r, const char *path);

/* Default cmocka group setup/teardown: a server with no extra configuration. */
int api_setup(void **state);
int api_teardown(void **state);

/* Assert an error response: status, envelope success:false, error.code (when
 * code != NULL) and error.details.field (when field != NULL). */
void api_expect_error(const struct api_resp *r, long status, const char *code, const char *field);

/* Run SQL on the server's database (see api_sql); a client failure fails the
 * test. api_sql_text returns the output (owned); api_sql_int the first value. */
void api_sql_ok(const char *sql);
char *api_sql_text(const char *sql);
long long api_sql_int(const char *sql);

/* Assert status with the body in the failure message. */
#define assert_status(r, want)                                                                          \
	do {                                                                                            \
		if ((r)->status != (want))                                                               \
			fail_msg("HTTP %ld, wanted %d: %.500s", (r)->status, (int)(want), (r)->body);  \
	} while (0)

#endif
