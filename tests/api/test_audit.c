/*
 * test_audit.c - GET /api/audit-logs and `clinicledger audit verify`
 * against the real server.
 *
 * Writes by the demo admin (PUT /api/v1/tenant, POST /api/v1/users) must
 * appear in the trail with actor, IP and request id; the filters,
 * pagination and CSV export are checked on them; a doctor (no audit:read)
 * gets 403, no token 401, and another tenant's admin sees none of demo's
 * entries. Tests run in order and build on the writes of the first ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static char tenant_action[64];	/* the action recorded for PUT /api/v1/tenant */
static char admin_actor_id[64]; /* the admin's actor id */

static struct api_resp *get(const char *path, const char *token)
{
	return api_req("GET", path, token, NULL, NULL);
}

static void put_tenant_name(const char *name, const char *request_id)
{
	char body[160], hdr[128];
	struct api_resp *r;

	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", request_id);
	r = api_req("PUT", "/api/v1/tenant", api_admin_token(), body, hdr, NULL);
	assert_status(r, 200);
	api_resp_free(r);
}

/* Number of items in data (an array) of a successful list. */
static size_t data_len(const struct api_resp *r)
{
	json_t *d = api_path(r, "data");

	assert_true(json_is_array(d));
	return json_array_size(d);
}

/* Every item of data has member `key` equal to `want`. */
static void all_have(const struct api_resp *r, const char *key, const char *want)
{
	json_t *d = api_path(r, "data"), *it;
	size_t i;

	json_array_foreach(d, i, it)
	{
		const char *v = json_string_value(json_object_get(it, key));

		if (!v || strcmp(v, want) != 0)
			fail_msg("item %zu: %s = %s, wanted %s", i, key, v ? v : "(null)", want);
	}
}

static void expect_invalid(const char *path, const char *param)
{
	struct api_resp *r = get(path, api_admin_token());

	assert_status(r, 400);
	assert_string_equal(api_str(r, "error.code"), "VALIDATION_ERROR");
	if (!strstr(r->body, param))
		fail_msg("400 for %s does not name %s: %s", path, param, r->body);
	api_resp_free(r);
}

static void t_write_is_audited(void **state)
{
	struct api_resp *r;
	json_t *it;

	(void)state;
	put_tenant_name("Demo Clinic Audited", "test-req-1");
	r = get("/api/audit-logs?requestId=test-req-1", api_admin_token());
	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "success")));
	assert_int_equal(data_len(r), 1);
	assert_int_equal(api_int(r, "pagination.total"), 1);
	it = api_path(r, "data.0");
	assert_non_null(it);
	assert_string_equal(api_str(r, "data.0.requestId"), "test-req-1");
	assert_string_equal(api_str(r, "data.0.actorType"), "user");
	assert_string_equal(api_str(r, "data.0.ip"), "127.0.0.1");
	assert_string_equal(api_str(r, "data.0.entity"), "tenant");
	assert_non_null(api_str(r, "data.0.actorId"));
	assert_non_null(api_str(r, "data.0.action"));
	assert_non_null(api_str(r, "data.0.entityId"));
	assert_non_null(api_str(r, "data.0.id"));
	assert_non_null(api_str(r, "data.0.at"));
	assert_int_equal(strlen(api_str(r, "data.0.hash")), 64);
	assert_true(api_int(r, "data.0.seq") >= 1);
	assert_string_equal(api_str(r, "data.0.after.name"), "Demo Clinic Audited");
	assert_true(json_is_object(api_path(r, "data.0.before")));
	snprintf(tenant_action, sizeof(tenant_action), "%s", api_str(r, "data.0.action"));
	snprintf(admin_actor_id, sizeof(admin_actor_id), "%s", api_str(r, "data.0.actorId"));
	api_resp_free(r);

	/* The same write under ?entity=tenant. */
	r = get("/api/audit-logs?entity=tenant", api_admin_token());
	assert_status(r, 200);
	assert_true(data_len(r) >= 1);
	all_have(r, "entity", "tenant");
	api_resp_free(r);
}

static void t_user_create_is_audited(void **state)
{
	struct api_resp *r;
	char path[160], id[64];

	(void)state;
	r = api_req("POST", "/api/v1/users", api_admin_token(),
		    "{\"email\":\"audit.user@demo.test\",\"password\":\"" API_USER_PASSWORD "\","
		    "\"fullName\":\"Audit User\",\"role\":\"billing_staff\"}",
		    "X-Request-Id: test-req-user", NULL);
	assert_status(r, 201);
	snprintf(id, sizeof(id), "%s", api_str(r, "data.id"));
	api_resp_free(r);

	snprintf(path, sizeof(path), "/api/audit-logs?entity=user&entityId=%s", id);
	r = get(path, api_admin_token());
	assert_status(r, 200);
	assert_true(data_len(r) >= 1);
	all_have(r, "entityId", id);
	assert_string_equal(api_str(r, "data.0.requestId"), "test-req-user");
	assert_string_equal(api_str(r, "data.0.after.email"), "audit.user@demo.test");
	/* No secret reaches the trail. */
	if (strstr(r->body, API_USER_PASSWORD) || strstr(r->body, "argon2"))
		fail_msg("password material in the audit trail: %s", r->body);
	api_resp_free(r);
}

static void t_filters(void **state)
{
	struct api_resp *r;
	char path[256], today[11], tomorrow[11], yesterday[11];
	time_t now = time(NULL), t1 = now + 86400, t0 = now - 86400;
	struct tm tm;

	(void)state;
	assert_true(tenant_action[0] != '\0');
	strftime(today, sizeof(today), "%Y-%m-%d", gmtime_r(&now, &tm));
	strftime(tomorrow, sizeof(tomorrow), "%Y-%m-%d", gmtime_r(&t1, &tm));
	strftime(yesterday, sizeof(yesterday), "%Y-%m-%d", gmtime_r(&t0, &tm));

	snprintf(path, sizeof(path), "/api/audit-logs?action=%s", tenant_action);
	r = get(path, api_admin_token());
	assert_status(r, 200);
	assert_true(data_len(r) >= 1);
	all_have(r, "action", tenant_action);
	api_resp_free(r);

	snprintf(path, sizeof(path), "/api/audit-logs?userId=%s&actorType=user", admin_actor_id);
	r = get(path, api_admin_token());
	assert_status(r, 200);
	assert_true(data_len(r) >= 2);
	all_have(r, "actorId", admin_actor_id);
	all_have(r, "actorType", "user");
	api_resp_free(r);

	r = get("/api/audit-logs?actorType=api_key&requestId=test-req-1", api_admin_token());
	assert_status(r, 200);
	assert_int_equal(data_len(r), 0);
	api_resp_free(r);

	/* Dates: today (a whole day) holds the write; tomorrow onwards and up to
	 * yesterday do not; date-times work too. */
	snprintf(path, sizeof(path), "/api/audit-logs?requestId=test-req-1&from=%s&to=%s", today, today);
	r = get(path, api_admin_token());
	assert_status(r, 200);
	assert_int_equal(data_len(r), 1);
	api_resp_free(r);
	snprintf(path, sizeof(path), "/api/audit-logs?requestId=test-req-1&from=%s", tomorrow);
	r = get(path, api_admin_token());
	assert_status(r, 200);
	assert_int_equal(data_len(r), 0);
	api_resp_free(r);
	snprintf(path, sizeof(path), "/api/audit-logs?requestId=test-req-1&to=%s", yesterday);
	r = get(path, api_admin_token());
	assert_status(r, 200);
	assert_int_equal(data_len(r), 0);
	api_resp_free(r);
	snprintf(path, sizeof(path), "/api/audit-logs?requestId=test-req-1&from=%sT00:00:00Z&to=%sT00:00:00Z",
		 yesterday, tomorrow);
	r = get(path, api_admin_token());
	assert_status(r, 200);
	assert_int_equal(data_len(r), 1);
	api_resp_free(r);

	/* Unknown parameters are ignored. */
	r = get("/api/audit-logs?requestId=test-req-1&colour=blue", api_admin_token());
	assert_status(r, 200);
	assert_int_equal(data_len(r), 1);
	api_resp_free(r);

	/* Bad values name their parameter. */
	expect_invalid("/api/audit-logs?from=yesterday", "from");
	expect_invalid("/api/audit-logs?to=2025-02-30", "to");
	expect_invalid("/api/audit-logs?from=2025-13-01T00:00:00Z", "from");
	expect_invalid("/api/audit-logs?from=2025-02-01&to=2025-01-01", "from");
	expect_invalid("/api/audit-logs?actorType=robot", "actorType");
	expect_invalid("/api/audit-logs?format=xml", "format");
	expect_invalid("/api/audit-logs?page=0", "page");
	expect_invalid("/api/audit-logs?limit=abc", "limit");
}

static void t_pagination(void **state)
{
	struct api_resp *r1, *r2;
	long long total;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char name[32], rid[32];

		snprintf(name, sizeof(name), "Demo Clinic %d", i);
		snprintf(rid, sizeof(rid), "test-req-page-%d", i);
		put_tenant_name(name, rid);
	}
	r1 = get("/api/audit-logs?entity=tenant&limit=2&page=1", api_admin_token());
	assert_status(r1, 200);
	assert_int_equal(data_len(r1), 2);
	total = api_int(r1, "pagination.total");
	assert_true(total >= 4);
	assert_int_equal(api_int(r1, "pagination.limit"), 2);
	assert_int_equal(api_int(r1, "pagination.page"), 1);
	assert_int_equal(api_int(r1, "pagination.totalPages"), (total + 1) / 2);
	/* Newest first. */
	assert_string_equal(api_str(r1, "data.0.requestId"), "test-req-page-2");
	assert_true(api_int(r1, "data.0.seq") > api_int(r1, "data.1.seq"));

	r2 = get("/api/audit-logs?entity=tenant&limit=2&page=2", api_admin_token());
	assert_status(r2, 200);
	assert_int_equal(data_len(r2), 2);
	assert_true(api_int(r1, "data.1.seq") > api_int(r2, "data.0.seq"));
	api_resp_free(r1);
	api_resp_free(r2);

	/* Default limit 50, maximum 500. */
	r1 = get("/api/audit-logs", api_admin_token());
	assert_status(r1, 200);
	assert_int_equal(api_int(r1, "pagination.limit"), 50);
	api_resp_free(r1);
	r1 = get("/api/audit-logs?limit=100000", api_admin_token());
	if (r1->status == 200)
		assert_true(api_int(r1, "pagination.limit") <= 500);
	else
		assert_status(r1, 400);
	api_resp_free(r1);
}

static const char csv_header[] =
    "id,seq,at,actorType,actorId,ip,action,entity,entityId,before,after,reason,requestId,prevHash,hash\r\n";

static void t_csv_export(void **state)
{
	struct api_resp *r, *j;
	const char *p;
	long long total;
	size_t lines = 0;

	(void)state;
	j = get("/api/audit-logs?entity=tenant", api_admin_token());
	assert_status(j, 200);
	total = api_int(j, "pagination.total");
	api_resp_free(j);

	r = get("/api/audit-logs?entity=tenant&format=csv&limit=1", api_admin_token());
	assert_status(r, 200);
	if (strncmp(r->content_type, "text/csv", 8) != 0)
		fail_msg("content type %s", r->content_type);
	assert_non_null(r->headers);
	if (!strcasestr(r->headers, "Content-Disposition: attachment"))
		fail_msg("no attachment header: %s", r->headers);
	if (strncmp(r->body, csv_header, strlen(csv_header)) != 0)
		fail_msg("CSV header: %.200s", r->body);
	/* One line per entry plus the header (all of them: limit does not apply);
	 * JSON values are quoted, so no raw newline hides inside a field. */
	for (p = r->body; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	assert_int_equal((long long)lines, total + 1);
	assert_non_null(strstr(r->body, ",test-req-1,"));
	assert_non_null(strstr(r->body, "\"{\"\"")); /* RFC 4180 doubled quotes */
	api_resp_free(r);
}

static void t_forbidden_and_unauthenticated(void **state)
{
	struct api_resp *r;
	char *doctor = api_user_token("demo", "doctor", NULL);

	(void)state;
	assert_non_null(doctor);
	r = get("/api/audit-logs", doctor);
	assert_status(r, 403);
	api_resp_free(r);
	r = get("/api/audit-logs?format=csv", doctor);
	assert_status(r, 403);
	api_resp_free(r);
	free(doctor);

	r = get("/api/audit-logs", NULL);
	assert_status(r, 401);
	api_resp_free(r);
}

static void t_other_tenant_sees_nothing(void **state)
{
	struct api_resp *r, *mine;
	char *other = api_user_token("other", "admin", NULL);
	json_t *it;
	size_t i;

	(void)state;
	assert_non_null(other);
	r = get("/api/audit-logs?requestId=test-req-1", other);
	assert_status(r, 200);
	assert_int_equal(data_len(r), 0);
	assert_int_equal(api_int(r, "pagination.total"), 0);
	api_resp_free(r);

	mine = get("/api/audit-logs?limit=500", api_admin_token());
	assert_status(mine, 200);
	r = get("/api/audit-logs?limit=500", other);
	assert_status(r, 200);
	json_array_foreach(api_path(r, "data"), i, it)
	{
		const char *id = json_string_value(json_object_get(it, "id"));
		json_t *m;
		size_t k;

		json_array_foreach(api_path(mine, "data"), k,
				   m) if (strcmp(id, json_string_value(json_object_get(m, "id"))) == 0)
		    fail_msg("other tenant sees demo's entry %s", id);
		if (json_string_value(json_object_get(it, "requestId")) &&
		    strncmp(json_string_value(json_object_get(it, "requestId")), "test-req", 8) == 0)
			fail_msg("other tenant sees a demo request");
	}
	api_resp_free(r);
	r = get("/api/audit-logs?format=csv", other);
	assert_status(r, 200);
	assert_null(strstr(r->body, "test-req-1"));
	api_resp_free(r);
	api_resp_free(mine);
	free(other);
}

static void t_cli_verify(void **state)
{
	const char *const args[] = {"audit", "verify", NULL};
	const char *const one[] = {"audit", "verify", "--tenant", "demo", NULL};
	const char *const none[] = {"audit", "verify", "--tenant", "no-such-tenant", NULL};
	char *out = NULL;

	(void)state;
	assert_int_equal(api_cli(&out, args), 0);
	assert_non_null(out);
	if (!strstr(out, "chain intact"))
		fail_msg("audit verify output: %s", out);
	free(out);
	out = NULL;
	assert_int_equal(api_cli(&out, one), 0);
	if (!strstr(out, "demo") || !strstr(out, "in 1 tenants verified, chain intact"))
		fail_msg("audit verify --tenant demo output: %s", out);
	free(out);
	out = NULL;
	assert_int_equal(api_cli(&out, none), 1);
	free(out);
}


/* Last: the database refuses edits; once its trigger is dropped, an edit is
 * found by `audit verify` (exit 1, tenant and seq named). */
static void t_cli_verify_detects_tampering(void **state)
{
	const char *const args[] = {"audit", "verify", NULL};
	const char *pg = strncmp(api_db_url(), "postgres", 8) == 0 ? "" : NULL;
	char *out = NULL;

	(void)state;
	assert_int_not_equal(api_sql(NULL, "UPDATE audit_log SET reason = 'edited' WHERE request_id = 'test-req-1'"), 0);
	assert_int_not_equal(api_sql(NULL, "DELETE FROM audit_log WHERE request_id = 'test-req-1'"), 0);
	assert_int_equal(api_cli(NULL, args), 0);
	assert_int_equal(
	    api_sql(NULL, pg ? "DROP TRIGGER audit_log_append_only ON audit_log" : "DROP TRIGGER audit_log_no_update"), 0);
	assert_int_equal(api_sql(NULL, "UPDATE audit_log SET reason = 'edited' WHERE request_id = 'test-req-1'"), 0);
	assert_int_equal(api_cli(&out, args), 1);
	if (!strstr(out, "BROKEN in tenant demo"))
		fail_msg("audit verify output: %s", out);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_write_is_audited),
	    cmocka_unit_test(t_user_create_is_audited),
	    cmocka_unit_test(t_filters),
	    cmocka_unit_test(t_pagination),
	    cmocka_unit_test(t_csv_export),
	    cmocka_unit_test(t_forbidden_and_unauthenticated),
	    cmocka_unit_test(t_other_tenant_sees_nothing),
	    cmocka_unit_test(t_cli_verify),
	    cmocka_unit_test(t_cli_verify_detects_tampering),
	};

	return cmocka_run_group_tests_name("api_audit", tests, api_setup, api_teardown) ? 1 : 0;
}
