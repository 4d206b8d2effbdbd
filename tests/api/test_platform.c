/*
 * test_platform.c - what every route shares, through the real server:
 * health, readiness and metrics; request ids; unknown routes; body limits;
 * malformed JSON; Idempotency-Key; durability across kill -9; backup and
 * restore; readiness when the database goes away; the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static long long count_services(const char *search)
{
	char path[256];
	snprintf(path, sizeof(path), "/api/services?active=all&search=%s", search);
	struct api_resp *r = api_req("GET", path, api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	long long total = api_int(r, "pagination.total");
	api_resp_free(r);
	return total;
}

static char *make_service(const char *code)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"name\":\"Servicio %s\",\"category\":\"lab\",\"price\":\"12.50\"}",
		 code, code);
	struct api_resp *r = api_req("POST", "/api/services", api_admin_token(), body, NULL);
	assert_status(r, 201);
	char *id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

static void test_health_ready_metrics(void **state)
{
	(void)state;
	struct api_resp *r = api_req("GET", "/health", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "status"), "healthy");
	assert_non_null(api_str(r, "service"));
	assert_non_null(api_str(r, "version"));
	assert_non_null(api_str(r, "timestamp"));
	assert_true(json_is_integer(api_path(r, "port")));
	api_resp_free(r);

	r = api_req("GET", "/health/ready", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "status"), "ready");
	assert_string_equal(api_str(r, "checks.database"), "connected");
	assert_true(json_is_true(api_path(r, "checks.overall")));
	api_resp_free(r);

	r = api_req("GET", "/metrics", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->content_type, "text/plain"));
	assert_non_null(strstr(r->body, "# TYPE billing_service_uptime_seconds counter\nbilling_service_uptime_seconds "));
	assert_non_null(strstr(r->body, "billing_service_info{version=\""));
	assert_non_null(strstr(r->body, "http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} "));
	assert_non_null(strstr(r->body, "http_request_duration_seconds_bucket{method=\"GET\",route=\"/health/ready\""));
	assert_non_null(strstr(r->body, "db_pool_connections{backend="));
	assert_non_null(strstr(r->body, "jobs_queue{state=\"queued\"}"));
	api_resp_free(r);
}

static void test_request_id_and_unknown_route(void **state)
{
	(void)state;
	struct api_resp *r = api_req("GET", "/api/services", api_admin_token(), NULL, "X-Request-Id: abc-123.x", NULL);
	assert_status(r, 200);
	assert_string_equal(r->request_id, "abc-123.x");
	api_resp_free(r);
	/* an unsafe id is replaced by a fresh UUID */
	r = api_req("GET", "/api/services", api_admin_token(), NULL, "X-Request-Id: <script>", NULL);
	assert_int_equal(strlen(r->request_id), 36);
	api_resp_free(r);

	r = api_req("GET", "/api/nothing-here", api_admin_token(), NULL, NULL);
	assert_status(r, 404);
	assert_true(json_is_false(api_path(r, "success")));
	assert_string_equal(api_str(r, "error.code"), "NOT_FOUND");
	api_resp_free(r);
}

static void test_malformed_and_oversized_bodies(void **state)
{
	(void)state;
	long long before = count_services("");
	static const char *const bad[] = { "{\"code\":", "[1,2]", "\"text\"", "{\"code\":\"A\",\"code\":\"B\"}", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct api_resp *r = api_req("POST", "/api/services", api_admin_token(), bad[i], NULL);
		assert_status(r, 400);
		assert_string_equal(api_str(r, "error.code"), "VALIDATION_ERROR");
		assert_string_equal(api_str(r, "error.details.field"), "body");
		api_resp_free(r);
	}
	/* the login route caps bodies at 4 KiB */
	char *big = malloc(6000);
	memset(big, 'a', 5999);
	big[5999] = '\0';
	memcpy(big, "{\"email\":\"", 10);
	big[5997] = '"';
	big[5998] = '}';
	struct api_resp *r = api_req("POST", "/api/v1/auth/login", NULL, big, NULL);
	assert_status(r, 413);
	assert_string_equal(api_str(r, "error.code"), "PAYLOAD_TOO_LARGE");
	api_resp_free(r);
	free(big);
	assert_int_equal(count_services(""), before);
}

static void test_idempotency_key(void **state)
{
	(void)state;
	const char *body = "{\"code\":\"IDEM-1\",\"name\":\"Idempotent\",\"category\":\"lab\",\"price\":\"10.00\"}";
	struct api_resp *a = api_req("POST", "/api/services", api_admin_token(), body, "Idempotency-Key: key-one", NULL);
	assert_status(a, 201);
	struct api_resp *b = api_req("POST", "/api/services", api_admin_token(), body, "Idempotency-Key: key-one", NULL);
	assert_status(b, 201);
	assert_string_equal(api_str(a, "data.id"), api_str(b, "data.id"));
	assert_non_null(strstr(b->headers, "Idempotent-Replayed: true"));
	assert_int_equal(count_services("IDEM-1"), 1);
	api_resp_free(a);
	api_resp_free(b);

	/* the same key for another request is refused */
	const char *other = "{\"code\":\"IDEM-2\",\"name\":\"Other\",\"category\":\"lab\",\"price\":\"10.00\"}";
	struct api_resp *c = api_req("POST", "/api/services", api_admin_token(), other, "Idempotency-Key: key-one", NULL);
	assert_status(c, 409);
	assert_string_equal(api_str(c, "error.code"), "IDEMPOTENCY_KEY_REUSED");
	api_resp_free(c);
	assert_int_equal(count_services("IDEM-2"), 0);

	/* a failed request releases its key: the corrected request goes through */
	const char *bad = "{\"code\":\"IDEM-3\",\"name\":\"Bad\",\"category\":\"lab\",\"price\":\"-1\"}";
	struct api_resp *d = api_req("POST", "/api/services", api_admin_token(), bad, "Idempotency-Key: key-two", NULL);
	assert_status(d, 400);
	api_resp_free(d);
	const char *good = "{\"code\":\"IDEM-3\",\"name\":\"Good\",\"category\":\"lab\",\"price\":\"1\"}";
	d = api_req("POST", "/api/services", api_admin_token(), good, "Idempotency-Key: key-two", NULL);
	assert_status(d, 201);
	api_resp_free(d);

	/* keys are per tenant: another tenant's identical key is independent */
	char *other_token = api_user_token("idem-other", "admin", NULL);
	struct api_resp *e = api_req("POST", "/api/services", other_token, body, "Idempotency-Key: key-one", NULL);
	assert_status(e, 201);
	assert_null(strstr(e->headers, "Idempotent-Replayed"));
	api_resp_free(e);
	free(other_token);

	/* a bad key is a validation error */
	struct api_resp *f = api_req("POST", "/api/services", api_admin_token(), good, "Idempotency-Key: has space", NULL);
	assert_status(f, 400);
	assert_string_equal(api_str(f, "error.details.field"), "Idempotency-Key");
	api_resp_free(f);
}

static void test_acknowledged_writes_survive_kill_9(void **state)
{
	char code[32];
	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(code, sizeof(code), "DUR-%03d", i);
		free(make_service(code));
	}
	assert_int_equal(api_server_restart_hard(), 0);
	assert_int_equal(count_services("DUR-"), 40);
	const char *args[] = { "audit", "verify", NULL };
	char *out = NULL;
	assert_int_equal(api_cli(&out, args), 0);
	free(out);
}

static void test_backup_and_restore(void **state)
{
	char backup[600], *out = NULL;
	(void)state;
	if (api_is_pg()) {
		skip(); /* PostgreSQL is backed up with pg_dump / pg_basebackup (README, Operations) */
		return;
	}
	free(make_service("BAK-BEFORE"));
	snprintf(backup, sizeof(backup), "%s/backup.db", api_data_dir());
	const char *args[] = { "backup", backup, NULL };
	assert_int_equal(api_cli(&out, args), 0);
	assert_non_null(strstr(out, "verified"));
	free(out);
	/* a second backup to the same file is refused */
	assert_int_not_equal(api_cli(NULL, args), 0);
	free(make_service("BAK-AFTER"));
	assert_int_equal(count_services("BAK-"), 2);

	api_server_halt();
	/* a file that is not a database is refused and changes nothing */
	char junk[600];
	snprintf(junk, sizeof(junk), "%s/junk.db", api_data_dir());
	FILE *f = fopen(junk, "w");
	fputs("not a database", f);
	fclose(f);
	const char *bad[] = { "restore", junk, NULL };
	assert_int_not_equal(api_cli(NULL, bad), 0);
	const char *restore[] = { "restore", backup, NULL };
	assert_int_equal(api_cli(NULL, restore), 0);
	assert_int_equal(api_server_resume(), 0);
	assert_int_equal(count_services("BAK-BEFORE"), 1);
	assert_int_equal(count_services("BAK-AFTER"), 0);
	const char *verify[] = { "audit", "verify", NULL };
	assert_int_equal(api_cli(NULL, verify), 0);
}

static void test_ready_reports_a_lost_database(void **state)
{
	char name[128], maintenance[1024], cmd[1400];
	const char *url = api_db_url(), *at, *q;
	(void)state;
	if (!api_is_pg()) {
		skip(); /* an embedded SQLite database cannot go away under a running server */
		return;
	}
	/* the harness's URL is postgresql://postgres@/<database>?host=...&port=... */
	at = strstr(url, "@/");
	assert_non_null(at);
	q = strchr(at, '?');
	snprintf(name, sizeof(name), "%.*s", (int)(q ? q - (at + 2) : (long)strlen(at + 2)), at + 2);
	snprintf(maintenance, sizeof(maintenance), "%.*spostgres%s", (int)(at + 2 - url), url, q ? q : "");

	/* the database stops accepting connections and loses the server's */
	snprintf(cmd, sizeof(cmd),
		 "psql -X -q -At '%s' -c 'ALTER DATABASE %s ALLOW_CONNECTIONS false' -c \"SELECT "
		 "count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '%s'\" >/dev/null",
		 maintenance, name, name);
	assert_int_equal(system(cmd), 0);
	struct api_resp *r = api_req("GET", "/health/ready", NULL, NULL, NULL);
	assert_status(r, 503);
	assert_string_equal(api_str(r, "status"), "not_ready");
	assert_string_equal(api_str(r, "checks.database"), "disconnected");
	assert_true(json_is_false(api_path(r, "checks.overall")));
	api_resp_free(r);
	/* a request that needs the database fails with a clear 503 */
	r = api_req("GET", "/api/services", api_admin_token(), NULL, NULL);
	assert_status(r, 503);
	assert_string_equal(api_str(r, "error.code"), "SERVICE_UNAVAILABLE");
	api_resp_free(r);

	/* and the server recovers by itself when the database is back */
	snprintf(cmd, sizeof(cmd), "psql -X -q -At '%s' -c 'ALTER DATABASE %s ALLOW_CONNECTIONS true'", maintenance,
		 name);
	assert_int_equal(system(cmd), 0);
	r = api_req("GET", "/health/ready", NULL, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("GET", "/api/services", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
}

static void test_command_line(void **state)
{
	char *out = NULL;
	(void)state;
	static const char *const commands[][3] = {
		{ "serve", "--help", NULL },  { "migrate", "--help", NULL }, { "tenant", "add", "--help" },
		{ "user", "add", "--help" },  { "apikey", "create", "--help" }, { "apikey", "revoke", "--help" },
		{ "backup", "--help", NULL }, { "restore", "--help", NULL },   { "audit", "verify", "--help" },
		{ "version", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *args[4] = { commands[i][0], commands[i][1], commands[i][2], NULL };
		int rc = api_cli(&out, args);
		if (rc != 0)
			fail_msg("clinicledger %s %s: exit %d", commands[i][0], commands[i][1] ? commands[i][1] : "", rc);
		assert_true(strlen(out) > 10);
		free(out);
	}
	const char *unknown[] = { "frobnicate", NULL };
	assert_int_equal(api_cli(NULL, unknown), 2);
	const char *migrate[] = { "migrate", NULL };
	assert_int_equal(api_cli(&out, migrate), 0);
	assert_non_null(strstr(out, "schema version"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_ready_metrics),
		cmocka_unit_test(test_request_id_and_unknown_route),
		cmocka_unit_test(test_malformed_and_oversized_bodies),
		cmocka_unit_test(test_idempotency_key),
		cmocka_unit_test(test_acknowledged_writes_survive_kill_9),
		cmocka_unit_test(test_backup_and_restore),
		cmocka_unit_test(test_ready_reports_a_lost_database),
		cmocka_unit_test(test_command_line),
	};
	return cmocka_run_group_tests(tests, api_setup, api_teardown);
}
