/*
 * test_jobs.c - GET /api/jobs and POST /api/jobs/:id/retry over HTTP, and
 * the server's own job workers and scheduler.
 *
 * No endpoint creates jobs, so the test puts rows of the demo tenant into
 * the jobs table with the database's own client (api_sql) and then drives
 * everything else through the API: listing and its filters, tenant scoping
 * (another tenant sees nothing, global maintenance jobs are never listed),
 * retry of a dead job (audited; the server's workers then run it again),
 * the state guard (409 INVALID_STATE), and 400/401/403/404.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define JOB_DEAD    "a0000000-0000-4000-8000-000000000001"
#define JOB_RUNNING "a0000000-0000-4000-8000-000000000002"
#define JOB_DONE    "a0000000-0000-4000-8000-000000000003"
#define JOB_LATER   "a0000000-0000-4000-8000-000000000004"
#define JOB_OTHER   "a0000000-0000-4000-8000-000000000005"

static char demo_tenant[64];

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}



/* Insert one job of tenant with the given state and columns. */
static void insert_job(const char *id, const char *tenant, const char *state, int attempts, const char *run_at,
		       const char *locked_until, const char *last_error, const char *finished_at)
{
	char sql[1024], lu[64], le[128], fa[64];

	snprintf(lu, sizeof(lu), locked_until ? "'%s'" : "NULL", locked_until);
	snprintf(le, sizeof(le), last_error ? "'%s'" : "NULL", last_error);
	snprintf(fa, sizeof(fa), finished_at ? "'%s'" : "NULL", finished_at);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO jobs (id, tenant_id, kind, payload, state, attempts, max_attempts, run_at, "
		 "locked_by, locked_until, last_error, created_at, updated_at, finished_at) VALUES "
		 "('%s', '%s', 'test.api', '{}', '%s', %d, 3, '%s', %s, %s, %s, "
		 "'2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', %s)",
		 id, tenant, state, attempts, run_at, locked_until ? "'elsewhere'" : "NULL", lu, le, fa);
	api_sql_ok(sql);
}

static struct api_resp *get(const char *path, const char *token)
{
	return api_req("GET", path, token, NULL, NULL);
}

static struct api_resp *retry(const char *id, const char *token, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/jobs/%s/retry", id);
	return api_req("POST", path, token, body, NULL);
}


/* The item with this id in r's data array, or NULL. Borrowed. */
static json_t *find_item(const struct api_resp *r, const char *id)
{
	json_t *data = api_path(r, "data"), *it;
	size_t i;

	json_array_foreach(data, i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "id")), id) == 0)
			return it;
	}
	return NULL;
}

static void t_list_access(void **state)
{
	struct api_resp *r;
	char *doctor;

	(void)state;
	r = get("/api/jobs", api_admin_token());
	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "success")));
	assert_true(json_is_array(api_path(r, "data")));
	assert_int_equal(api_int(r, "pagination.page"), 1);
	assert_int_equal(api_int(r, "pagination.limit"), 20);
	assert_non_null(api_path(r, "pagination.total"));
	api_resp_free(r);

	doctor = api_user_token("demo", "doctor", NULL);
	assert_non_null(doctor);
	r = get("/api/jobs", doctor);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = retry(JOB_DEAD, doctor, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	free(doctor);

	r = get("/api/jobs", NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = retry(JOB_DEAD, NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
}

static void t_list_validation(void **state)
{
	struct api_resp *r;

	(void)state;
	r = get("/api/jobs?state=bogus", api_admin_token());
	api_expect_error(r, 400, "VALIDATION_ERROR", "state");
	api_resp_free(r);
	r = get("/api/jobs?limit=0", api_admin_token());
	api_expect_error(r, 400, "VALIDATION_ERROR", "limit");
	api_resp_free(r);
	r = get("/api/jobs?limit=101", api_admin_token());
	api_expect_error(r, 400, "VALIDATION_ERROR", "limit");
	api_resp_free(r);
	r = get("/api/jobs?page=abc", api_admin_token());
	api_expect_error(r, 400, "VALIDATION_ERROR", "page");
	api_resp_free(r);
}

/* The server's scheduler enqueues the maintenance jobs for the global
 * tenant, its workers run them, and no tenant ever sees them. */
static void t_scheduled_maintenance(void **state)
{
	static const char *const kinds[] = {"sessions.purge", "idempotency.purge", "jobs.purge", "audit.verify"};
	char sql[256];
	struct api_resp *r;
	long long done = 0;

	(void)state;
	for (int i = 0; i < 300 && done < 4; i++) {
		done = api_sql_int("SELECT COUNT(DISTINCT kind) FROM jobs WHERE tenant_id = '-' "
			       "AND state = 'succeeded' AND dedupe_key LIKE 'sched:%'");
		if (done < 4)
			sleep_ms(100);
	}
	if (done < 4)
		fail_msg("only %lld of 4 maintenance kinds ran (are jobs_start and the scheduler wired?)", done);
	for (size_t i = 0; i < 4; i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM jobs WHERE tenant_id = '-' AND kind = '%s' AND state = 'succeeded'",
			 kinds[i]);
		assert_true(api_sql_int(sql) >= 1);
	}
	r = get("/api/jobs?limit=100", api_admin_token());
	assert_status(r, 200);
	for (size_t i = 0; i < 4; i++)
		if (strstr(r->body, kinds[i]))
			fail_msg("a global maintenance job is listed for a tenant: %.500s", r->body);
	api_resp_free(r);
}

static void t_retry_dead_job(void **state)
{
	struct api_resp *r;
	json_t *it;
	char *other, path[160];
	int seen = 0;

	(void)state;
	insert_job(JOB_DEAD, demo_tenant, "dead", 3, "2025-01-01T00:00:00Z", NULL, "boom", "2025-01-01T00:05:00Z");

	r = get("/api/jobs?state=dead&kind=test.api", api_admin_token());
	assert_status(r, 200);
	it = find_item(r, JOB_DEAD);
	if (!it)
		fail_msg("dead job not listed: %.500s", r->body);
	assert_string_equal(json_string_value(json_object_get(it, "state")), "dead");
	assert_string_equal(json_string_value(json_object_get(it, "kind")), "test.api");
	assert_string_equal(json_string_value(json_object_get(it, "lastError")), "boom");
	assert_int_equal(json_integer_value(json_object_get(it, "attempts")), 3);
	assert_int_equal(json_integer_value(json_object_get(it, "maxAttempts")), 3);
	assert_string_equal(json_string_value(json_object_get(it, "finishedAt")), "2025-01-01T00:05:00Z");
	assert_string_equal(json_string_value(json_object_get(it, "runAt")), "2025-01-01T00:00:00Z");
	assert_non_null(json_object_get(it, "createdAt"));
	assert_non_null(json_object_get(it, "updatedAt"));
	assert_null(json_object_get(it, "payload"));
	api_resp_free(r);
	r = get("/api/jobs?state=queued&kind=test.api", api_admin_token());
	assert_status(r, 200);
	assert_null(find_item(r, JOB_DEAD));
	api_resp_free(r);

	/* Another tenant's admin neither sees nor retries it. */
	other = api_user_token("other", "admin", NULL);
	assert_non_null(other);
	r = get("/api/jobs?limit=100", other);
	assert_status(r, 200);
	assert_null(find_item(r, JOB_DEAD));
	api_resp_free(r);
	r = retry(JOB_DEAD, other, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	free(other);

	/* Bad bodies are refused before anything changes. */
	r = retry(JOB_DEAD, api_admin_token(), "{\"bogus\":1}");
	api_expect_error(r, 400, "VALIDATION_ERROR", "bogus");
	api_resp_free(r);
	r = retry(JOB_DEAD, api_admin_token(), "{\"reason\":5}");
	api_expect_error(r, 400, "VALIDATION_ERROR", "reason");
	api_resp_free(r);
	snprintf(path, sizeof(path), "SELECT COUNT(*) FROM jobs WHERE id = '%s' AND state = 'dead'", JOB_DEAD);
	assert_int_equal(api_sql_int(path), 1);

	r = retry(JOB_DEAD, api_admin_token(), "{\"reason\":\"upstream fixed\"}");
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), JOB_DEAD);
	assert_string_equal(api_str(r, "data.state"), "queued");
	assert_int_equal(api_int(r, "data.attempts"), 0);
	assert_true(json_is_null(api_path(r, "data.finishedAt")));
	api_resp_free(r);

	/* Audited. */
	snprintf(path, sizeof(path), "/api/audit-logs?entity=job&entityId=%s", JOB_DEAD);
	r = get(path, api_admin_token());
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.0.action"), "job.retry");
	assert_string_equal(api_str(r, "data.0.reason"), "upstream fixed");
	assert_string_equal(api_str(r, "data.0.before.state"), "dead");
	assert_string_equal(api_str(r, "data.0.after.state"), "queued");
	api_resp_free(r);

	/* The server's workers take it again: its kind is unknown to them, so it
	 * goes dead after one attempt with a client-safe reason. */
	for (int i = 0; i < 100 && !seen; i++) {
		r = get("/api/jobs?kind=test.api&state=dead", api_admin_token());
		assert_status(r, 200);
		it = find_item(r, JOB_DEAD);
		if (it && json_integer_value(json_object_get(it, "attempts")) == 1) {
			assert_string_equal(json_string_value(json_object_get(it, "lastError")), "unknown job kind");
			seen = 1;
		}
		api_resp_free(r);
		if (!seen)
			sleep_ms(100);
	}
	if (!seen)
		fail_msg("the retried job was not run by the server's workers");
}

static void t_retry_state_guard(void **state)
{
	struct api_resp *r;

	(void)state;
	insert_job(JOB_RUNNING, demo_tenant, "running", 1, "2025-01-01T00:00:00Z", "2999-01-01T00:00:00Z", NULL, NULL);
	insert_job(JOB_DONE, demo_tenant, "succeeded", 1, "2025-01-01T00:00:00Z", NULL, NULL, "2025-01-01T00:01:00Z");
	insert_job(JOB_LATER, demo_tenant, "queued", 0, "2999-01-01T00:00:00Z", NULL, NULL, NULL);

	r = retry(JOB_RUNNING, api_admin_token(), NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "running"));
	api_resp_free(r);
	r = retry(JOB_DONE, api_admin_token(), "{}");
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "succeeded"));
	api_resp_free(r);
	r = retry(JOB_LATER, api_admin_token(), NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	assert_non_null(strstr(api_str(r, "error.message"), "queued"));
	api_resp_free(r);
	/* Nothing changed, nothing audited. */
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM jobs WHERE id = '" JOB_RUNNING "' AND state = 'running' "
				 "AND attempts = 1"),
			 1);
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM audit_log WHERE entity = 'job' AND entity_id = '" JOB_LATER "'"),
			 0);
	/* The running filter. */
	r = get("/api/jobs?state=running", api_admin_token());
	assert_status(r, 200);
	assert_non_null(find_item(r, JOB_RUNNING));
	assert_null(find_item(r, JOB_DONE));
	api_resp_free(r);
}

static void t_retry_not_found(void **state)
{
	struct api_resp *r;

	(void)state;
	/* A job of the global tenant is not the demo tenant's. */
	insert_job(JOB_OTHER, "-", "dead", 3, "2025-01-01T00:00:00Z", NULL, "x", "2025-01-01T00:05:00Z");
	r = retry(JOB_OTHER, api_admin_token(), NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = retry("b0000000-0000-4000-8000-00000000abcd", api_admin_token(), NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = retry("not-a-job-id", api_admin_token(), NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
}

static int setup(void **state)
{
	struct api_resp *r;

	(void)state;
	if (api_server_start(NULL) != 0)
		return -1;
	r = api_req("GET", "/api/v1/auth/me", api_admin_token(), NULL, NULL);
	if (r->status != 200 || !api_str(r, "data.tenantId")) {
		api_resp_free(r);
		return -1;
	}
	snprintf(demo_tenant, sizeof(demo_tenant), "%s", api_str(r, "data.tenantId"));
	api_resp_free(r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_list_access),	       cmocka_unit_test(t_list_validation),
	    cmocka_unit_test(t_scheduled_maintenance), cmocka_unit_test(t_retry_dead_job),
	    cmocka_unit_test(t_retry_state_guard),     cmocka_unit_test(t_retry_not_found),
	};

	return cmocka_run_group_tests_name("api_jobs", tests, setup, teardown);
}
