/*
 * test_jobs.c - the durable job queue (src/jobs) against SQLite and, when
 * CLINICLEDGER_TEST_PG names a server, PostgreSQL.
 *
 * Each backend gets a fresh migrated database (a temporary SQLite file, or a
 * uniquely named PostgreSQL database dropped at the end); every test starts
 * from an empty jobs table. The tests register their own job kinds (a
 * handler that always succeeds, one that fails twice then succeeds, one
 * that always fails, one that counts its runs per job) and also run the
 * server's maintenance kinds against rows they insert. Time-dependent steps
 * move run_at into the past instead of sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "mod/audit/audit.h"

#define TENANT_A "11111111-1111-4111-8111-111111111111"
#define TENANT_B "22222222-2222-4222-8222-222222222222"
#define PAST	 "2000-01-01T00:00:00Z"
#define NCOUNT	 200

struct fx {
	enum db_backend kind;
	struct db *db;
	struct app app;
	char *url;
	char dir[256];
	char *base_url;
	char dbname[64];
};

/* ---- test job kinds ---- */

static atomic_int ok_runs;
static atomic_int count_runs[NCOUNT];

static int run_ok(struct app *app, const struct job *job, struct err *e)
{
	(void)app;
	(void)job;
	(void)e;
	atomic_fetch_add(&ok_runs, 1);
	return 0;
}

/* Fails on attempts 1 and 2, succeeds on the third. */
static int run_flaky(struct app *app, const struct job *job, struct err *e)
{
	(void)app;
	if (job->attempts < 3)
		return err_set(e, ERR_UPSTREAM, NULL, "flaky failure %d", job->attempts);
	return 0;
}

static int run_fail(struct app *app, const struct job *job, struct err *e)
{
	(void)app;
	(void)job;
	err_set(e, ERR_UPSTREAM, NULL, "always fails");
	err_detail(e, "secret driver text");
	return ERR_UPSTREAM;
}

static int run_count(struct app *app, const struct job *job, struct err *e)
{
	json_int_t n = json_integer_value(json_object_get(job->payload, "n"));

	(void)app;
	if (n < 0 || n >= NCOUNT)
		return err_set(e, ERR_INVALID, "n", "n out of range");
	atomic_fetch_add(&count_runs[n], 1);
	return 0;
}

/* Simulates losing the lease mid-run: another worker takes the job over. */
static int run_stolen(struct app *app, const struct job *job, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(job->id)};
	struct db_conn *c = NULL;
	int rc = db_acquire(app->db, DB_WRITE, &c, e);

	if (rc)
		return rc;
	rc = db_exec(c, "UPDATE jobs SET locked_by = 'thief' WHERE id = ?", p, 1, NULL, e);
	db_release(c);
	return rc;
}

static const struct job_type test_types[] = {
    {"test.ok", run_ok, 3, 0, 0, 60},	      {"test.flaky", run_flaky, 5, 10, 1000, 60},
    {"test.fail", run_fail, 3, 0, 0, 60},     {"test.count", run_count, 3, 0, 0, 60},
    {"test.stolen", run_stolen, 3, 0, 0, 60},
};
#define NTEST_TYPES (sizeof(test_types) / sizeof(test_types[0]))

/* ---- helpers ---- */

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static struct db_conn *acq(struct db *db, enum db_mode mode)
{
	struct db_conn *c = NULL;
	struct err e;

	err_clear(&e);
	assert_int_equal(db_acquire(db, mode, &c, &e), 0);
	return c;
}

static void exec_ok(struct fx *f, const char *sql, const struct db_param *p, size_t n)
{
	struct db_conn *c = acq(f->db, DB_WRITE);
	struct err e;
	int rc;

	err_clear(&e);
	rc = db_exec(c, sql, p, n, NULL, &e);
	if (rc)
		print_error("exec failed: %s (%s)\n", e.message, e.detail);
	assert_int_equal(rc, 0);
	db_release(c);
}

static int64_t q_int(struct fx *f, const char *sql, const struct db_param *p, size_t n)
{
	struct db_conn *c = acq(f->db, DB_READ);
	struct err e;
	int64_t v = -1;

	err_clear(&e);
	assert_int_equal(db_query_int(c, sql, p, n, &v, &e), 0);
	db_release(c);
	return v;
}

static int64_t count_jobs(struct fx *f)
{
	return q_int(f, "SELECT COUNT(*) FROM jobs", NULL, 0);
}

/* Enqueue in its own committed transaction. */
static void enqueue(struct fx *f, const char *tenant, const char *kind, json_t *payload, const char *key,
		    int64_t delay_s, char id[37])
{
	struct db_conn *c = acq(f->db, DB_WRITE);
	struct err e;

	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	if (jobs_enqueue(c, tenant, kind, payload, key, delay_s, id, &e) != 0)
		fail_msg("enqueue: %s (%s)", e.message, e.detail);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
}

struct row {
	char state[16];
	int attempts, max_attempts;
	char run_at[32], last_error[256], finished_at[32], locked_by[128], tenant_id[40];
	int has_last_error, has_finished, has_lock;
};

static void get_row(struct fx *f, const char *id, struct row *r)
{
	struct db_conn *c = acq(f->db, DB_READ);
	struct db_param p[] = {DBP_TEXT(id)};
	struct db_rows *rows = NULL;
	struct err e;

	err_clear(&e);
	memset(r, 0, sizeof(*r));
	assert_int_equal(db_query(c,
				  "SELECT state, attempts, max_attempts, run_at, last_error, finished_at, "
				  "locked_by, tenant_id FROM jobs WHERE id = ?",
				  p, 1, &rows, &e),
			 0);
	assert_int_equal(db_rows_count(rows), 1);
	snprintf(r->state, sizeof(r->state), "%s", db_rows_text(rows, 0, 0));
	r->attempts = (int)db_rows_int(rows, 0, 1);
	r->max_attempts = (int)db_rows_int(rows, 0, 2);
	snprintf(r->run_at, sizeof(r->run_at), "%s", db_rows_text(rows, 0, 3));
	r->has_last_error = !db_rows_isnull(rows, 0, 4);
	snprintf(r->last_error, sizeof(r->last_error), "%s", r->has_last_error ? db_rows_text(rows, 0, 4) : "");
	r->has_finished = !db_rows_isnull(rows, 0, 5);
	snprintf(r->finished_at, sizeof(r->finished_at), "%s", r->has_finished ? db_rows_text(rows, 0, 5) : "");
	r->has_lock = !db_rows_isnull(rows, 0, 6);
	snprintf(r->locked_by, sizeof(r->locked_by), "%s", r->has_lock ? db_rows_text(rows, 0, 6) : "");
	snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", db_rows_text(rows, 0, 7));
	db_rows_free(rows);
	db_release(c);
}

static void rewind_job(struct fx *f, const char *id)
{
	struct db_param p[] = {DBP_TEXT(PAST), DBP_TEXT(id)};

	exec_ok(f, "UPDATE jobs SET run_at = ? WHERE id = ?", p, 2);
}

static int run_once(struct fx *f, const struct job_type *types, size_t n)
{
	struct err e;
	int ran = -1;

	err_clear(&e);
	if (jobs_run_once(&f->app, types, n, "test-worker", &ran, &e) != 0)
		fail_msg("run_once: %s (%s)", e.message, e.detail);
	return ran;
}

static int64_t iso_s(const char *iso)
{
	struct err e;
	int64_t s = 0;

	err_clear(&e);
	assert_int_equal(time_parse_iso(iso, &s, "t", &e), 0);
	return s;
}

/* ---- fixtures ---- */

static int setup_common(struct fx *f)
{
	struct db_options o = {.pool_size = 8, .acquire_timeout_ms = 20000, .busy_timeout_ms = 20000};
	struct err e;

	err_clear(&e);
	if (db_open(f->url, &o, &f->db, &e) != 0 || db_migrate(f->db, NULL, &e) != 0) {
		fprintf(stderr, "open/migrate: %s (%s)\n", e.message, e.detail);
		return -1;
	}
	memset(&f->app, 0, sizeof(f->app));
	f->app.db = f->db;
	return 0;
}

static int setup_sqlite(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	*state = f;
	f->kind = DB_SQLITE;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cl-test-jobs-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->url = xasprintf("sqlite:%s/test.db", f->dir);
	return setup_common(f);
}

static int admin_exec(const char *url, const char *sql)
{
	struct db_options o = {.pool_size = 1};
	struct db *db = NULL;
	struct db_conn *c = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	rc = db_open(url, &o, &db, &e);
	if (rc == 0)
		rc = db_acquire(db, DB_WRITE, &c, &e);
	if (rc == 0)
		rc = db_exec_script(c, sql, &e);
	if (rc != 0)
		fprintf(stderr, "%s: %s (%s)\n", sql, e.message, e.detail);
	db_release(c);
	db_close(db);
	return rc;
}

static int setup_pg(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char *sql;
	int rc;

	*state = f;
	f->kind = DB_PGSQL;
	f->base_url = xstrdup(getenv("CLINICLEDGER_TEST_PG"));
	snprintf(f->dbname, sizeof(f->dbname), "cl_test_jobs_%ld_%ld", (long)getpid(), (long)time(NULL));
	sql = xasprintf("CREATE DATABASE %s", f->dbname);
	rc = admin_exec(f->base_url, sql);
	free(sql);
	if (rc != 0) {
		f->dbname[0] = '\0';
		return -1;
	}
	f->url = xasprintf("%s%sdbname=%s", f->base_url, strchr(f->base_url, '?') ? "&" : "?", f->dbname);
	return setup_common(f);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *sql;

	if (!f)
		return 0;
	db_close(f->db);
	if (f->kind == DB_SQLITE && f->dir[0]) {
		rm_tree(f->dir);
	} else if (f->kind == DB_PGSQL && f->dbname[0]) {
		sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", f->dbname);
		admin_exec(f->base_url, sql);
		free(sql);
	}
	free(f->url);
	free(f->base_url);
	free(f);
	return 0;
}

/* Every test starts with an empty queue. */
static int reset(void **state)
{
	struct fx *f = *state;

	exec_ok(f, "DELETE FROM jobs", NULL, 0);
	atomic_store(&ok_runs, 0);
	for (int i = 0; i < NCOUNT; i++)
		atomic_store(&count_runs[i], 0);
	return 0;
}

/* ---- tests ---- */

/* The job exists iff the enclosing transaction commits. */
static void t_enqueue_tx(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f->db, DB_WRITE);
	json_t *payload = json_pack("{s:s, s:i}", "invoice", "inv-1", "n", 7);
	char id[37] = "";
	struct row r;
	struct err e;

	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(jobs_enqueue(c, TENANT_A, "test.ok", payload, NULL, 0, id, &e), 0);
	assert_true(uuid_valid(id));
	db_rollback(c);
	db_release(c);
	assert_int_equal(count_jobs(f), 0);

	enqueue(f, TENANT_A, "test.ok", payload, NULL, 0, id);
	json_decref(payload);
	assert_int_equal(count_jobs(f), 1);
	get_row(f, id, &r);
	assert_string_equal(r.state, "queued");
	assert_int_equal(r.attempts, 0);
	assert_string_equal(r.tenant_id, TENANT_A);
	assert_false(r.has_last_error);
	assert_false(r.has_finished);
	{
		struct db_param p[] = {DBP_TEXT(id)};
		struct db_conn *rc = acq(f->db, DB_READ);
		struct db_rows *rows = NULL;
		json_t *stored;

		assert_int_equal(db_query(rc, "SELECT payload FROM jobs WHERE id = ?", p, 1, &rows, &e), 0);
		stored = json_loads(db_rows_text(rows, 0, 0), 0, NULL);
		assert_non_null(stored);
		assert_string_equal(json_string_value(json_object_get(stored, "invoice")), "inv-1");
		assert_int_equal(json_integer_value(json_object_get(stored, "n")), 7);
		json_decref(stored);
		db_rows_free(rows);
		db_release(rc);
	}
	/* A delayed job is not due yet. */
	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 3600, id);
	get_row(f, id, &r);
	assert_true(iso_s(r.run_at) >= time_now_s() + 3590);
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1); /* the first */
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 0); /* the delayed one waits */
	assert_int_equal(atomic_load(&ok_runs), 1);
}

static void t_enqueue_invalid(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f->db, DB_WRITE);
	struct err e;

	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(jobs_enqueue(c, "", "test.ok", NULL, NULL, 0, NULL, &e), ERR_INVALID);
	assert_int_equal(jobs_enqueue(c, NULL, "test.ok", NULL, NULL, 0, NULL, &e), ERR_INVALID);
	assert_int_equal(jobs_enqueue(c, TENANT_A, "", NULL, NULL, 0, NULL, &e), ERR_INVALID);
	assert_int_equal(jobs_enqueue(c, TENANT_A, "Bad Kind", NULL, NULL, 0, NULL, &e), ERR_INVALID);
	assert_int_equal(jobs_enqueue(c, TENANT_A, "test.ok", NULL, "", 0, NULL, &e), ERR_INVALID);
	assert_int_equal(jobs_enqueue(c, TENANT_A, "test.ok", NULL, NULL, -1, NULL, &e), ERR_INVALID);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	assert_int_equal(count_jobs(f), 0);
}

static void t_dedupe(void **state)
{
	struct fx *f = *state;
	char id1[37] = "", id2[37] = "", id3[37] = "", id4[37] = "";

	enqueue(f, TENANT_A, "test.ok", NULL, "dte.submit:doc-1", 0, id1);
	enqueue(f, TENANT_A, "test.ok", NULL, "dte.submit:doc-1", 0, id2);
	assert_int_equal(count_jobs(f), 1);
	assert_string_equal(id1, id2);
	/* Also after the first one ran: the existing job stands. */
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
	enqueue(f, TENANT_A, "test.ok", NULL, "dte.submit:doc-1", 0, id2);
	assert_string_equal(id1, id2);
	assert_int_equal(count_jobs(f), 1);
	/* Without a key there is no deduplication. */
	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, id3);
	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, id4);
	assert_string_not_equal(id3, id4);
	assert_int_equal(count_jobs(f), 3);
}

static void t_backoff_window(void **state)
{
	const struct job_type t = {"x", run_ok, 10, 10, 1000, 60};
	const struct job_type zero = {"x", run_ok, 10, 0, 0, 60};
	int64_t prev = 0, seen_min = 1 << 30, seen_max = -1;

	(void)state;
	assert_int_equal(jobs_backoff_cap_s(&t, 1), 10);
	assert_int_equal(jobs_backoff_cap_s(&t, 2), 20);
	assert_int_equal(jobs_backoff_cap_s(&t, 3), 40);
	assert_int_equal(jobs_backoff_cap_s(&t, 7), 640);
	assert_int_equal(jobs_backoff_cap_s(&t, 8), 1000);
	assert_int_equal(jobs_backoff_cap_s(&t, 60), 1000);
	for (int a = 1; a < 20; a++) {
		assert_true(jobs_backoff_cap_s(&t, a) >= prev);
		prev = jobs_backoff_cap_s(&t, a);
	}
	for (int i = 0; i < 2000; i++) {
		int64_t d = jobs_backoff_s(&t, 3);

		assert_true(d >= 0 && d <= 40);
		seen_min = d < seen_min ? d : seen_min;
		seen_max = d > seen_max ? d : seen_max;
	}
	/* Full jitter spreads over the whole window. */
	assert_true(seen_min <= 5);
	assert_true(seen_max >= 35);
	assert_int_equal(jobs_backoff_s(&zero, 5), 0);
}

/* Fails twice, then succeeds: three attempts, a growing retry window. */
static void t_retry_then_succeed(void **state)
{
	struct fx *f = *state;
	char id[37];
	struct row r;
	int64_t before, after;

	enqueue(f, TENANT_A, "test.flaky", NULL, NULL, 0, id);
	for (int attempt = 1; attempt <= 2; attempt++) {
		before = time_now_s();
		assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
		after = time_now_s();
		get_row(f, id, &r);
		assert_string_equal(r.state, "failed");
		assert_int_equal(r.attempts, attempt);
		assert_int_equal(r.max_attempts, 5);
		assert_false(r.has_lock);
		assert_false(r.has_finished);
		assert_true(strncmp(r.last_error, "flaky failure", 13) == 0);
		/* run_at = failure time + a delay within [0, 10 * 2^(attempt-1)]. */
		assert_true(iso_s(r.run_at) >= before);
		assert_true(iso_s(r.run_at) <= after + (attempt == 1 ? 10 : 20));
		if (iso_s(r.run_at) > after)
			assert_int_equal(run_once(f, test_types, NTEST_TYPES), 0); /* not due yet */
		rewind_job(f, id);
	}
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
	get_row(f, id, &r);
	assert_string_equal(r.state, "succeeded");
	assert_int_equal(r.attempts, 3);
	assert_false(r.has_last_error);
	assert_true(r.has_finished);
	assert_false(r.has_lock);
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 0);
}

/* Always fails: dead after max_attempts; retry puts it back; states guarded. */
static void t_dead_and_retry(void **state)
{
	struct fx *f = *state;
	struct actor admin = {.tenant_id = TENANT_A,
			      .kind = "user",
			      .id = "33333333-3333-4333-8333-333333333333",
			      .ip = "127.0.0.1",
			      .request_id = "req-1"};
	struct actor other = {.tenant_id = TENANT_B, .kind = "user", .id = "44444444-4444-4444-8444-444444444444"};
	struct job_info info;
	char id[37], unknown[37];
	struct row r;
	struct err e;
	int64_t audits_before;

	enqueue(f, TENANT_A, "test.fail", NULL, NULL, 0, id);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
		get_row(f, id, &r);
		assert_string_equal(r.state, i < 3 ? "failed" : "dead");
		assert_int_equal(r.attempts, i);
	}
	assert_string_equal(r.last_error, "always fails"); /* message, never the detail */
	assert_true(r.has_finished);
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 0);

	/* Another tenant's job and an unknown id are NOT_FOUND. */
	err_clear(&e);
	assert_int_equal(jobs_retry(f->db, &other, id, NULL, &info, &e), ERR_NOT_FOUND);
	uuid_v4(unknown);
	assert_int_equal(jobs_retry(f->db, &admin, unknown, NULL, &info, &e), ERR_NOT_FOUND);
	assert_int_equal(jobs_retry(f->db, &admin, "not-a-uuid", NULL, &info, &e), ERR_NOT_FOUND);

	audits_before = q_int(f, "SELECT COUNT(*) FROM audit_log WHERE action = 'job.retry'", NULL, 0);
	err_clear(&e);
	if (jobs_retry(f->db, &admin, id, "upstream fixed", &info, &e) != 0)
		fail_msg("retry: %s (%s)", e.message, e.detail);
	assert_string_equal(info.state, "queued");
	assert_int_equal(info.attempts, 0);
	assert_string_equal(info.id, id);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE action = 'job.retry'", NULL, 0),
			 audits_before + 1);
	get_row(f, id, &r);
	assert_string_equal(r.state, "queued");
	assert_false(r.has_finished);
	assert_true(iso_s(r.run_at) <= time_now_s());

	/* queued -> 409 INVALID_STATE naming the state. */
	err_clear(&e);
	assert_int_equal(jobs_retry(f->db, &admin, id, NULL, &info, &e), ERR_CONFLICT);
	assert_string_equal(e.name, "INVALID_STATE");
	assert_non_null(strstr(e.message, "queued"));

	/* It runs again from attempt 1. */
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
	get_row(f, id, &r);
	assert_string_equal(r.state, "failed");
	assert_int_equal(r.attempts, 1);
	/* A failed job can be retried too; a succeeded one cannot. */
	err_clear(&e);
	assert_int_equal(jobs_retry(f->db, &admin, id, NULL, &info, &e), 0);
	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, id);
	while (run_once(f, test_types, NTEST_TYPES) == 1)
		;
	err_clear(&e);
	assert_int_equal(jobs_retry(f->db, &admin, id, NULL, &info, &e), ERR_CONFLICT);
	assert_non_null(strstr(e.message, "succeeded"));
}

static void t_unknown_kind(void **state)
{
	struct fx *f = *state;
	char id[37];
	struct row r;

	enqueue(f, TENANT_A, "test.nobody", NULL, NULL, 0, id);
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
	get_row(f, id, &r);
	assert_string_equal(r.state, "dead");
	assert_string_equal(r.last_error, "unknown job kind");
}

/* A running job whose lease expired is taken over; one still leased is not. */
static void t_stale_reclaimed(void **state)
{
	struct fx *f = *state;
	char id[37], live[37], spent[37];
	struct row r;

	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, id);
	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, live);
	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, spent);
	{
		struct db_param p[] = {DBP_TEXT(PAST), DBP_TEXT(id)};
		struct db_param q[] = {DBP_TEXT(live)};
		struct db_param s[] = {DBP_TEXT(PAST), DBP_TEXT(spent)};

		exec_ok(f,
			"UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'dead-worker', "
			"locked_until = ? WHERE id = ?",
			p, 2);
		exec_ok(f,
			"UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'busy-worker', "
			"locked_until = '2999-01-01T00:00:00Z' WHERE id = ?",
			q, 1);
		/* Died during its last allowed attempt (max 3). */
		exec_ok(f,
			"UPDATE jobs SET state = 'running', attempts = 3, locked_by = 'dead-worker', "
			"locked_until = ? WHERE id = ?",
			s, 2);
	}
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 0);
	get_row(f, id, &r);
	assert_string_equal(r.state, "succeeded");
	assert_int_equal(r.attempts, 2);
	get_row(f, live, &r);
	assert_string_equal(r.state, "running");
	assert_string_equal(r.locked_by, "busy-worker");
	get_row(f, spent, &r);
	assert_string_equal(r.state, "dead");
	assert_int_equal(r.attempts, 4);
	assert_non_null(strstr(r.last_error, "no attempts are left"));
	assert_int_equal(atomic_load(&ok_runs), 1); /* the spent one did not run again */
}

/* A worker that lost its lease does not overwrite the new owner's result. */
static void t_lease_lost(void **state)
{
	struct fx *f = *state;
	char id[37];
	struct row r;

	enqueue(f, TENANT_A, "test.stolen", NULL, NULL, 0, id);
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
	get_row(f, id, &r);
	assert_string_equal(r.state, "running");
	assert_string_equal(r.locked_by, "thief");
	assert_false(r.has_finished);
}

struct second {
	struct db *db;
	struct app app;
};

static void open_second(struct fx *f, struct second *s)
{
	struct db_options o = {.pool_size = 6, .acquire_timeout_ms = 20000, .busy_timeout_ms = 20000};
	struct err e;

	err_clear(&e);
	if (db_open(f->url, &o, &s->db, &e) != 0)
		fail_msg("second pool: %s (%s)", e.message, e.detail);
	memset(&s->app, 0, sizeof(s->app));
	s->app.db = s->db;
}

/* 200 jobs, 4 workers in two "servers" (two pools): each job runs once. */
static void t_concurrent_workers(void **state)
{
	struct fx *f = *state;
	struct second s2;
	struct jobs *j1 = NULL, *j2 = NULL;
	int64_t counts[JOB_STATE_COUNT];
	struct db_conn *c;
	struct err e;
	int64_t deadline;

	c = acq(f->db, DB_WRITE);
	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	for (int i = 0; i < NCOUNT; i++) {
		json_t *p = json_pack("{s:i}", "n", i);

		assert_int_equal(jobs_enqueue(c, i % 2 ? TENANT_A : TENANT_B, "test.count", p, NULL, 0, NULL, &e), 0);
		json_decref(p);
	}
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);

	open_second(f, &s2);
	assert_int_equal(jobs_start(&f->app, test_types, NTEST_TYPES, NULL, 0, 2, &j1, &e), 0);
	assert_int_equal(jobs_start(&s2.app, test_types, NTEST_TYPES, NULL, 0, 2, &j2, &e), 0);
	jobs_notify(j1);
	jobs_notify(j2);
	deadline = time_mono_ms() + 120000;
	for (;;) {
		err_clear(&e);
		assert_int_equal(jobs_counts(f->db, counts, &e), 0);
		if (counts[JOB_SUCCEEDED] == NCOUNT || time_mono_ms() > deadline)
			break;
		sleep_ms(50);
	}
	jobs_stop(j1);
	jobs_stop(j2);
	db_close(s2.db);
	assert_int_equal(counts[JOB_SUCCEEDED], NCOUNT);
	assert_int_equal(counts[JOB_QUEUED] + counts[JOB_RUNNING] + counts[JOB_FAILED] + counts[JOB_DEAD], 0);
	for (int i = 0; i < NCOUNT; i++)
		if (atomic_load(&count_runs[i]) != 1)
			fail_msg("job %d ran %d times", i, atomic_load(&count_runs[i]));
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM jobs WHERE attempts <> 1", NULL, 0), 0);
}

/* jobs_notify wakes an idle worker well before a poll would matter, and
 * jobs_stop lets a running job finish. */
static void t_start_stop(void **state)
{
	struct fx *f = *state;
	struct jobs *j = NULL;
	struct err e;
	char id[37];
	struct row r;
	int64_t deadline;

	err_clear(&e);
	assert_int_equal(jobs_start(&f->app, test_types, NTEST_TYPES, NULL, 0, 1, &j, &e), 0);
	sleep_ms(50);
	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, id);
	jobs_notify(j);
	deadline = time_mono_ms() + 10000;
	while (atomic_load(&ok_runs) == 0 && time_mono_ms() < deadline)
		sleep_ms(5);
	jobs_stop(j);
	assert_int_equal(atomic_load(&ok_runs), 1);
	get_row(f, id, &r);
	assert_string_equal(r.state, "succeeded");
	jobs_stop(NULL);
	jobs_notify(NULL);
	assert_int_equal(jobs_start(&f->app, test_types, NTEST_TYPES, NULL, 0, -1, &j, &e), ERR_INVALID);
}

static const struct job_schedule test_sched[] = {
    {"t.hourly", "test.ok", 3600},
    {"t.daily", "test.ok", 86400},
};

struct tick_arg {
	struct app *app;
	int64_t base;
	int failures;
};

static void *tick_thread(void *arg)
{
	struct tick_arg *a = arg;

	for (int k = 0; k < 20; k++) {
		struct err e;

		err_clear(&e);
		if (jobs_schedule_tick(a->app, test_sched, 2, a->base + (int64_t)k * 3600, NULL, &e) != 0)
			a->failures++;
	}
	return NULL;
}

/* One job per schedule slot, however many schedulers run. */
static void t_scheduler(void **state)
{
	struct fx *f = *state;
	int64_t day0 = (time_now_s() / 86400) * 86400; /* 20 hours from midnight stay in one day */
	struct second s2;
	struct tick_arg a1, a2;
	pthread_t t1, t2;
	struct jobs *j1 = NULL, *j2 = NULL;
	struct err e;
	char key[64];
	int enq = -1;

	err_clear(&e);
	assert_int_equal(jobs_schedule_tick(&f->app, test_sched, 2, day0 + 10, &enq, &e), 0);
	assert_int_equal(enq, 2);
	assert_int_equal(jobs_schedule_tick(&f->app, test_sched, 2, day0 + 20, &enq, &e), 0);
	assert_int_equal(enq, 0);
	assert_int_equal(count_jobs(f), 2);
	snprintf(key, sizeof(key), "sched:t.hourly:%lld", (long long)(day0 / 3600));
	{
		struct db_param p[] = {DBP_TEXT(key)};

		assert_int_equal(q_int(f,
				       "SELECT COUNT(*) FROM jobs WHERE dedupe_key = ? AND tenant_id = '-' "
				       "AND kind = 'test.ok' AND state = 'queued'",
				       p, 1),
				 1);
	}

	/* Two schedulers on two pools race over the same 20 hourly slots. */
	open_second(f, &s2);
	a1 = (struct tick_arg){&f->app, day0 + 30, 0};
	a2 = (struct tick_arg){&s2.app, day0 + 40, 0};
	assert_int_equal(pthread_create(&t1, NULL, tick_thread, &a1), 0);
	assert_int_equal(pthread_create(&t2, NULL, tick_thread, &a2), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(a1.failures + a2.failures, 0);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM jobs WHERE dedupe_key LIKE 'sched:t.hourly:%'", NULL, 0), 20);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM jobs WHERE dedupe_key LIKE 'sched:t.daily:%'", NULL, 0), 1);

	/* The scheduler threads of two running queues enqueue the current slot once. */
	exec_ok(f, "DELETE FROM jobs", NULL, 0);
	assert_int_equal(jobs_start(&f->app, test_types, NTEST_TYPES, test_sched, 2, 0, &j1, &e), 0);
	assert_int_equal(jobs_start(&s2.app, test_types, NTEST_TYPES, test_sched, 2, 0, &j2, &e), 0);
	sleep_ms(500);
	jobs_stop(j1);
	jobs_stop(j2);
	db_close(s2.db);
	/* 2, or 3 should an hour boundary fall inside the half second. */
	assert_true(count_jobs(f) >= 2 && count_jobs(f) <= 3);
	assert_int_equal(q_int(f, "SELECT COUNT(DISTINCT dedupe_key) FROM jobs", NULL, 0), count_jobs(f));
}

static void t_counts(void **state)
{
	struct fx *f = *state;
	int64_t counts[JOB_STATE_COUNT];
	char id[37];
	struct err e;

	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, id);
	enqueue(f, TENANT_A, "test.nobody", NULL, NULL, 3600, id);
	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, id);
	assert_int_equal(run_once(f, test_types, NTEST_TYPES), 1);
	err_clear(&e);
	assert_int_equal(jobs_counts(f->db, counts, &e), 0);
	assert_int_equal(counts[JOB_QUEUED], 2);
	assert_int_equal(counts[JOB_SUCCEEDED], 1);
	assert_int_equal(counts[JOB_RUNNING] + counts[JOB_FAILED] + counts[JOB_DEAD], 0);
	assert_string_equal(jobs_state_name(JOB_DEAD), "dead");
	assert_int_equal(jobs_state_parse("failed"), JOB_FAILED);
	assert_int_equal(jobs_state_parse("bogus"), -1);
}

static void t_list(void **state)
{
	struct fx *f = *state;
	struct job_info *items = NULL;
	size_t n = 0;
	int64_t total = 0;
	char id[37];
	struct err e;

	for (int i = 0; i < 5; i++)
		enqueue(f, TENANT_A, "test.ok", NULL, NULL, 3600, id);
	enqueue(f, TENANT_A, "test.fail", NULL, NULL, 0, id);
	enqueue(f, TENANT_B, "test.ok", NULL, NULL, 0, id);
	enqueue(f, JOBS_TENANT_GLOBAL, "test.ok", NULL, NULL, 0, id);
	while (run_once(f, test_types, NTEST_TYPES) == 1)
		;
	err_clear(&e);
	assert_int_equal(jobs_list(f->db, TENANT_A, NULL, NULL, 1, 4, &items, &n, &total, &e), 0);
	assert_int_equal(total, 6);
	assert_int_equal(n, 4);
	free(items);
	assert_int_equal(jobs_list(f->db, TENANT_A, NULL, NULL, 2, 4, &items, &n, &total, &e), 0);
	assert_int_equal(n, 2);
	free(items);
	assert_int_equal(jobs_list(f->db, TENANT_A, "dead", NULL, 1, 20, &items, &n, &total, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(items[0].kind, "test.fail");
	assert_int_equal(items[0].attempts, 3);
	assert_int_equal(items[0].max_attempts, 3);
	assert_string_equal(items[0].last_error, "always fails");
	assert_true(items[0].finished_at[0] != '\0');
	free(items);
	assert_int_equal(jobs_list(f->db, TENANT_A, NULL, "test.ok", 1, 20, &items, &n, &total, &e), 0);
	assert_int_equal(total, 5);
	free(items);
	assert_int_equal(jobs_list(f->db, TENANT_B, NULL, NULL, 1, 20, &items, &n, &total, &e), 0);
	assert_int_equal(total, 1);
	assert_string_equal(items[0].state, "succeeded");
	free(items);
	assert_int_equal(jobs_list(f->db, TENANT_A, "bogus", NULL, 1, 20, &items, &n, &total, &e), ERR_INVALID);
	assert_string_equal(e.field, "state");
}

static void insert_tenant_user(struct fx *f, const char *tenant, const char *user)
{
	struct db_param t[] = {DBP_TEXT(tenant), DBP_TEXT(tenant)};
	struct db_param u[] = {DBP_TEXT(user), DBP_TEXT(tenant), DBP_TEXT(user), DBP_TEXT(user)};

	exec_ok(f,
		"INSERT INTO tenants (id, name, slug, kind, currency, country, created_at, updated_at) "
		"VALUES (?, 'Clinic', ?, 'clinic', 'USD', 'US', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z') "
		"ON CONFLICT DO NOTHING",
		t, 2);
	exec_ok(f,
		"INSERT INTO users (id, tenant_id, email, email_norm, password_hash, role, created_at, "
		"updated_at) VALUES (?, ?, ?, ?, 'x', 'admin', '2025-01-01T00:00:00Z', "
		"'2025-01-01T00:00:00Z') ON CONFLICT DO NOTHING",
		u, 4);
}

static void insert_session(struct fx *f, const char *user, int64_t expires_s, int64_t revoked_s)
{
	char id[37], exp[TIME_ISO_LEN + 1], rev[TIME_ISO_LEN + 1];
	struct db_param p[] = {DBP_TEXT(id), DBP_TEXT(TENANT_A), DBP_TEXT(user),
			       DBP_TEXT(id), DBP_TEXT(exp),	 DBP_TEXT(revoked_s ? rev : NULL)};

	uuid_v4(id);
	time_iso(expires_s, exp);
	time_iso(revoked_s, rev);
	exec_ok(f,
		"INSERT INTO sessions (id, tenant_id, user_id, refresh_hash, expires_at, revoked_at, "
		"created_at) VALUES (?, ?, ?, ?, ?, ?, '2025-01-01T00:00:00Z')",
		p, 6);
}

/* The scheduled maintenance kinds of the server table. */
static void t_maintenance(void **state)
{
	struct fx *f = *state;
	size_t ntypes = 0, nsched = 0;
	const struct job_type *types = job_types_table(&ntypes);
	const struct job_schedule *sched = job_schedules_table(&nsched);
	const char *user = "55555555-5555-4555-8555-555555555555";
	int64_t now = time_now_s();
	char id[37], old_iso[TIME_ISO_LEN + 1], new_iso[TIME_ISO_LEN + 1];
	struct err e;
	int enq = 0;

	/* Every schedule names a kind of the table. */
	for (size_t i = 0; i < nsched; i++)
		assert_non_null(jobs_find_type(types, ntypes, sched[i].kind));

	insert_tenant_user(f, TENANT_A, user);
	exec_ok(f, "DELETE FROM sessions", NULL, 0);
	insert_session(f, user, now - 10 * 86400, 0);	       /* expired long ago: purged */
	insert_session(f, user, now + 86400, now - 8 * 86400); /* revoked long ago: purged */
	insert_session(f, user, now - 2 * 86400, 0);	       /* recently expired: kept */
	insert_session(f, user, now + 86400, now - 3600);      /* recently revoked: kept */
	insert_session(f, user, now + 86400, 0);	       /* live: kept */

	time_iso(now - 2 * 86400, old_iso);
	time_iso(now - 60, new_iso);
	{
		struct db_param a[] = {DBP_TEXT(TENANT_A), DBP_TEXT("k-old"), DBP_TEXT(old_iso), DBP_TEXT(old_iso)};
		struct db_param b[] = {DBP_TEXT(TENANT_A), DBP_TEXT("k-new"), DBP_TEXT(new_iso), DBP_TEXT(new_iso)};
		const char *sql = "INSERT INTO idempotency_keys (tenant_id, idem_key, method, path, request_hash, "
				  "state, created_at, updated_at) VALUES (?, ?, 'POST', '/x', 'h', 'done', ?, ?)";

		exec_ok(f, "DELETE FROM idempotency_keys", NULL, 0);
		exec_ok(f, sql, a, 4);
		exec_ok(f, sql, b, 4);
	}
	/* An old succeeded job is purged by jobs.purge; a recent one stays. */
	enqueue(f, TENANT_A, "test.ok", NULL, NULL, 0, id);
	{
		struct db_param p[] = {DBP_TEXT(id)};

		exec_ok(f,
			"UPDATE jobs SET state = 'succeeded', finished_at = '2001-01-01T00:00:00Z' "
			"WHERE id = ?",
			p, 1);
	}

	/* webhooks.purge: the delivery log and events older than 90 days, Stripe
	 * event ids older than 30 days; recent ones stay */
	{
		char old90[TIME_ISO_LEN + 1], old40[TIME_ISO_LEN + 1];
		struct db_param ep[] = {DBP_TEXT(TENANT_A), DBP_TEXT(old90), DBP_TEXT(TENANT_A), DBP_TEXT(old90)};
		struct db_param dp[] = {DBP_TEXT(TENANT_A), DBP_TEXT(old90), DBP_TEXT(TENANT_A), DBP_TEXT(old40)};
		struct db_param sp[] = {DBP_TEXT(TENANT_A), DBP_TEXT(old40), DBP_TEXT(TENANT_A), DBP_TEXT(new_iso)};

		time_iso(now - 91 * 86400, old90);
		time_iso(now - 40 * 86400, old40);

		exec_ok(f,
			"INSERT INTO webhook_endpoints (id, tenant_id, url, events_json, secret_enc, created_at, "
			"updated_at) VALUES ('we-1', ?, 'https://h.test/x', '[]', 's', ?, ?)",
			(struct db_param[]){DBP_TEXT(TENANT_A), DBP_TEXT(old90), DBP_TEXT(old90)}, 3);
		exec_ok(f,
			"INSERT INTO webhook_events (id, tenant_id, type, payload, created_at) VALUES "
			"('ev-old', ?, 'dte.processed', '{}', ?), ('ev-kept', ?, 'dte.processed', '{}', ?)",
			ep, 4);
		exec_ok(f,
			"INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, delivery_id, event_id, event_type, "
			"attempt, duration_ms, outcome, created_at) VALUES "
			"('wd-old', ?, 'we-1', 'd1', 'ev-old', 'dte.processed', 1, 5, 'delivered', ?), "
			"('wd-new', ?, 'we-1', 'd2', 'ev-kept', 'dte.processed', 1, 5, 'delivered', ?)",
			dp, 4);
		exec_ok(f,
			"INSERT INTO stripe_events (event_id, tenant_id, type, outcome, received_at) VALUES "
			"('evt_old', ?, 'charge.succeeded', 'processed', ?), "
			"('evt_new', ?, 'charge.succeeded', 'processed', ?)",
			sp, 4);
	}

	err_clear(&e);
	assert_int_equal(jobs_schedule_tick(&f->app, sched, nsched, now, &enq, &e), 0);
	assert_int_equal(enq, (int)nsched);
	while (run_once(f, types, ntypes) == 1)
		;
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM sessions", NULL, 0), 3);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM idempotency_keys", NULL, 0), 1);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM jobs WHERE finished_at < '2002-01-01'", NULL, 0), 0);
	/* the old attempt went, then its event (no delivery left); the event of
	 * a recent attempt stays although it is old itself */
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE id = 'wd-old'", NULL, 0), 0);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_deliveries WHERE id = 'wd-new'", NULL, 0), 1);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_events WHERE id = 'ev-old'", NULL, 0), 0);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM webhook_events WHERE id = 'ev-kept'", NULL, 0), 1);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM stripe_events WHERE event_id = 'evt_old'", NULL, 0), 0);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM stripe_events WHERE event_id = 'evt_new'", NULL, 0), 1);
	assert_int_equal(q_int(f,
			       "SELECT COUNT(*) FROM jobs WHERE tenant_id = '-' AND state = 'succeeded' "
			       "AND dedupe_key LIKE 'sched:%'",
			       NULL, 0),
			 (int64_t)nsched);
}

/* audit.verify: intact chains succeed; a broken chain fails the global job
 * and shows up as a dead job of the tenant concerned. */
static void t_audit_verify(void **state)
{
	struct fx *f = *state;
	size_t ntypes = 0;
	const struct job_type *types = job_types_table(&ntypes);
	struct actor who = {.tenant_id = TENANT_B, .kind = "user", .id = "66666666-6666-4666-8666-666666666666"};
	struct db_conn *c;
	char id[37], fid[37];
	struct row r;
	struct err e;

	c = acq(f->db, DB_WRITE);
	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(audit_record(c, &who, "thing.create", "thing", "t-1", NULL, NULL, NULL, &e), 0);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);

	enqueue(f, JOBS_TENANT_GLOBAL, "audit.verify", NULL, NULL, 0, id);
	assert_int_equal(run_once(f, types, ntypes), 1);
	get_row(f, id, &r);
	assert_string_equal(r.state, "succeeded");

	/* Forge an entry past the chain head. */
	uuid_v4(fid);
	{
		struct db_param p[] = {DBP_TEXT(fid), DBP_TEXT(TENANT_B)};

		exec_ok(f,
			"INSERT INTO audit_log (id, tenant_id, seq, at, actor_type, action, entity, prev_hash, "
			"hash) VALUES (?, ?, 1000, '2025-01-01T00:00:00Z', 'user', 'x.forged', 'x', 'p', 'h')",
			p, 2);
	}
	enqueue(f, JOBS_TENANT_GLOBAL, "audit.verify", NULL, NULL, 0, id);
	assert_int_equal(run_once(f, types, ntypes), 1);
	get_row(f, id, &r);
	assert_string_equal(r.state, "failed");
	assert_non_null(strstr(r.last_error, TENANT_B));
	{
		struct db_param p[] = {DBP_TEXT(TENANT_B)};

		assert_int_equal(q_int(f,
				       "SELECT COUNT(*) FROM jobs WHERE tenant_id = ? AND kind = 'audit.verify' "
				       "AND state = 'dead' AND last_error LIKE 'audit chain broken%'",
				       p, 1),
				 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(t_enqueue_tx, reset),
	    cmocka_unit_test_setup(t_enqueue_invalid, reset),
	    cmocka_unit_test_setup(t_dedupe, reset),
	    cmocka_unit_test(t_backoff_window),
	    cmocka_unit_test_setup(t_retry_then_succeed, reset),
	    cmocka_unit_test_setup(t_dead_and_retry, reset),
	    cmocka_unit_test_setup(t_unknown_kind, reset),
	    cmocka_unit_test_setup(t_stale_reclaimed, reset),
	    cmocka_unit_test_setup(t_lease_lost, reset),
	    cmocka_unit_test_setup(t_concurrent_workers, reset),
	    cmocka_unit_test_setup(t_start_stop, reset),
	    cmocka_unit_test_setup(t_scheduler, reset),
	    cmocka_unit_test_setup(t_counts, reset),
	    cmocka_unit_test_setup(t_list, reset),
	    cmocka_unit_test_setup(t_maintenance, reset),
	    cmocka_unit_test_setup(t_audit_verify, reset),
	};
	const char *pg = getenv("CLINICLEDGER_TEST_PG");
	int failed;

	log_set_level(LOG_ERROR);
	failed = cmocka_run_group_tests_name("jobs_sqlite", tests, setup_sqlite, teardown);
	if (pg && *pg)
		failed += cmocka_run_group_tests_name("jobs_pgsql", tests, setup_pg, teardown);
	return failed ? 1 : 0;
}
