/*
 * test_db.c - the database layer against SQLite and, when
 * CLINICLEDGER_TEST_PG names a server, PostgreSQL.
 *
 * Every test runs once per backend on a fresh database (a temporary SQLite
 * file; a uniquely named PostgreSQL database created from the base URL and
 * dropped at the end), after db_migrate. Start a throwaway server with
 * `eval "$(sh tests/lib/pg.sh start /tmp/clpg)"`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"
#include "db/db_backend.h"
#include "db/migrations.h"

struct fx {
	enum db_backend kind;
	struct db *db;
	char *url;      /* what db was opened with */
	char dir[256];  /* SQLite: temp directory */
	char *base_url; /* PostgreSQL: server URL the test database was created from */
	char dbname[64];
};

/* ---- helpers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name);

		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static struct db_conn *acq(struct fx *f, enum db_mode mode)
{
	struct db_conn *c = NULL;
	struct err e;

	err_clear(&e);
	assert_int_equal(db_acquire(f->db, mode, &c, &e), 0);
	assert_non_null(c);
	return c;
}

static void exec_ok(struct db_conn *c, const char *sql, const struct db_param *p, size_t n)
{
	struct err e;
	int rc;

	err_clear(&e);
	rc = db_exec(c, sql, p, n, NULL, &e);
	if (rc != 0)
		print_error("exec failed: %s (%s)\n", e.message, e.detail);
	assert_int_equal(rc, 0);
}

static int64_t q_int(struct db_conn *c, const char *sql, const struct db_param *p, size_t n)
{
	struct err e;
	int64_t v = -1;

	err_clear(&e);
	assert_int_equal(db_query_int(c, sql, p, n, &v, &e), 0);
	return v;
}

static int insert_tenant(struct db_conn *c, const char *id, const char *slug, const char *kind,
			 struct err *e)
{
	struct db_param p[] = { DBP_TEXT(id), DBP_TEXT("Clinic"), DBP_TEXT(slug), DBP_TEXT(kind) };

	err_clear(e);
	return db_exec(c,
		       "INSERT INTO tenants (id, name, slug, kind, currency, country, created_at, "
		       "updated_at) VALUES (?, ?, ?, ?, 'USD', 'US', '2025-01-01T00:00:00Z', "
		       "'2025-01-01T00:00:00Z')",
		       p, DB_NPARAMS(p), NULL, e);
}

static int64_t count_tenant(struct fx *f, const char *id)
{
	struct db_conn *c = acq(f, DB_READ);
	struct db_param p[] = { DBP_TEXT(id) };
	int64_t n = q_int(c, "SELECT COUNT(*) FROM tenants WHERE id = ?", p, 1);

	db_release(c);
	return n;
}

/* ---- fixtures ---- */

static int setup_common(struct fx *f)
{
	struct err e;
	struct db_options o = { .pool_size = 10, .acquire_timeout_ms = 10000 };
	int applied = -1;

	err_clear(&e);
	if (db_open(f->url, &o, &f->db, &e) != 0) {
		fprintf(stderr, "db_open %s: %s (%s)\n", f->kind == DB_SQLITE ? "sqlite" : "pg",
			e.message, e.detail);
		return -1;
	}
	if (db_migrate(f->db, &applied, &e) != 0 || applied != (int)db_migrations_sqlite_count) {
		fprintf(stderr, "db_migrate: %s (%s)\n", e.message, e.detail);
		return -1;
	}
	return 0;
}

static int setup_sqlite(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	*state = f;
	f->kind = DB_SQLITE;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cl-test-db-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->url = xasprintf("sqlite:%s/test.db", f->dir);
	return setup_common(f);
}

/* Run one statement on a short-lived pool at url. */
static int admin_exec(const char *url, const char *sql)
{
	struct db_options o = { .pool_size = 1 };
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
	snprintf(f->dbname, sizeof(f->dbname), "cl_test_db_%ld_%ld", (long)getpid(), (long)time(NULL));
	sql = xasprintf("CREATE DATABASE %s", f->dbname);
	rc = admin_exec(f->base_url, sql);
	free(sql);
	if (rc != 0) {
		f->dbname[0] = '\0';
		return -1;
	}
	f->url = xasprintf("%s%sdbname=%s", f->base_url, strchr(f->base_url, '?') ? "&" : "?",
			   f->dbname);
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

/* ---- tests ---- */

static void t_migrate(void **state)
{
	struct fx *f = *state;
	const struct migration *tab = f->kind == DB_PGSQL ? db_migrations_pgsql : db_migrations_sqlite;
	size_t count = f->kind == DB_PGSQL ? db_migrations_pgsql_count : db_migrations_sqlite_count;
	struct db_conn *c;
	struct err e;
	int version = -1, applied = -1;

	err_clear(&e);
	assert_true(count >= 1);
	assert_int_equal(db_schema_version(f->db, &version, &e), 0);
	assert_int_equal(version, tab[count - 1].version);
	/* Idempotent. */
	assert_int_equal(db_migrate(f->db, &applied, &e), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(db_schema_version(f->db, &version, &e), 0);
	assert_int_equal(version, tab[count - 1].version);

	c = acq(f, DB_READ);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM schema_migrations", NULL, 0), (int64_t)count);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM tenants", NULL, 0), 0);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM users", NULL, 0), 0);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM sessions", NULL, 0), 0);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM api_keys", NULL, 0), 0);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM api_key_tenants", NULL, 0), 0);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM sequences", NULL, 0), 0);
	db_release(c);
	assert_string_equal(db_backend_name(f->db), f->kind == DB_PGSQL ? "postgresql" : "sqlite");
}

static void t_params(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f, DB_WRITE);
	struct db_rows *r = NULL;
	struct err e;
	int64_t aff = -1;
	const int64_t big = -9007199254740993LL;

	err_clear(&e);
	exec_ok(c, "CREATE TABLE t_params (id TEXT PRIMARY KEY, n BIGINT, note TEXT)", NULL, 0);
	{
		struct db_param p[] = { DBP_TEXT("a"), DBP_INT(42), DBP_TEXT("hello \xc3\xbc") };

		assert_int_equal(db_exec(c, "INSERT INTO t_params (id, n, note) VALUES (?, ?, ?)", p, 3,
					 &aff, &e),
				 0);
		assert_int_equal(aff, 1);
	}
	{
		struct db_param p[] = { DBP_TEXT("b"), DBP_INT(big), DBP_TEXT(NULL) };

		assert_int_equal(db_exec(c, "INSERT INTO t_params (id, n, note) VALUES (?, ?, ?)", p, 3,
					 &aff, &e),
				 0);
	}
	{
		struct db_param p[] = { DBP_TEXT("c"), DBP_NULL, DBP_TEXT("it's ?") };

		assert_int_equal(db_exec(c, "INSERT INTO t_params (id, n, note) VALUES (?, ?, ?)", p, 3,
					 &aff, &e),
				 0);
	}
	{
		struct db_param p[] = { DBP_TEXT("a"), DBP_INT(big) };

		assert_int_equal(db_query(c, "SELECT id, n, note FROM t_params WHERE id = ? OR n = ? "
					     "ORDER BY id",
					  p, 2, &r, &e),
				 0);
		assert_int_equal(db_rows_count(r), 2);
		assert_int_equal(db_rows_cols(r), 3);
		assert_string_equal(db_rows_colname(r, 0), "id");
		assert_string_equal(db_rows_colname(r, 2), "note");
		assert_null(db_rows_colname(r, 3));
		assert_string_equal(db_rows_text(r, 0, 0), "a");
		assert_int_equal(db_rows_int(r, 0, 1), 42);
		assert_string_equal(db_rows_text(r, 0, 1), "42");
		assert_string_equal(db_rows_text(r, 0, 2), "hello \xc3\xbc");
		assert_string_equal(db_rows_text(r, 1, 0), "b");
		assert_true(db_rows_int(r, 1, 1) == big);
		assert_string_equal(db_rows_text(r, 1, 1), "-9007199254740993");
		assert_true(db_rows_isnull(r, 1, 2));
		db_rows_free(r);
		r = NULL;
	}
	/* A text parameter compared with an integer column is typed by context. */
	{
		struct db_param p[] = { DBP_TEXT("42") };

		assert_int_equal(q_int(c, "SELECT COUNT(*) FROM t_params WHERE n = ?", p, 1), 1);
	}
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM t_params WHERE note IS NULL", NULL, 0), 1);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM t_params WHERE n IS NULL", NULL, 0), 1);
	{
		struct db_param p[] = { DBP_INT(1) };

		assert_int_equal(db_exec(c, "UPDATE t_params SET n = n + ? WHERE n IS NOT NULL", p, 1,
					 &aff, &e),
				 0);
		assert_int_equal(aff, 2);
	}
	/* Upsert with RETURNING works on both. */
	{
		struct db_param p[] = { DBP_TEXT("a"), DBP_INT(100) };

		assert_int_equal(db_query(c,
					  "INSERT INTO t_params (id, n) VALUES (?, ?) ON CONFLICT (id) "
					  "DO UPDATE SET n = t_params.n + excluded.n RETURNING n",
					  p, 2, &r, &e),
				 0);
		assert_int_equal(db_rows_count(r), 1);
		assert_int_equal(db_rows_int(r, 0, 0), 143);
		db_rows_free(r);
		r = NULL;
	}
	/* Placeholder / parameter count mismatch. */
	{
		struct db_param p[] = { DBP_TEXT("a") };

		assert_int_equal(db_exec(c, "DELETE FROM t_params WHERE id = ? AND note = ?", p, 1, NULL,
					 &e),
				 ERR_DB);
		assert_string_equal(e.message, "database error");
	}
	/* A syntax error is ERR_DB, not a crash. */
	assert_int_equal(db_exec(c, "SELEC nothing", NULL, 0, NULL, &e), ERR_DB);
	db_release(c);
}

static void t_placeholders(void **state)
{
	struct fx *f = *state;
	struct db_conn *c;
	struct db_rows *r = NULL;
	struct err e;
	size_t n = 0;
	char *s;

	/* The rewrite itself (used by the PostgreSQL backend). */
	s = db_pgsql_rewrite("SELECT ?, '?', \"?\", ? -- ?\n/* ? /* ? */ ? */ $$ ? $$ $a$ ? $a$ "
			     "E'\\' ?' 'it''s ?' x$y ?",
			     &n);
	assert_string_equal(s, "SELECT $1, '?', \"?\", $2 -- ?\n/* ? /* ? */ ? */ $$ ? $$ $a$ ? $a$ "
			       "E'\\' ?' 'it''s ?' x$y $3");
	assert_int_equal(n, 3);
	free(s);
	s = db_pgsql_rewrite("", &n);
	assert_string_equal(s, "");
	assert_int_equal(n, 0);
	free(s);
	s = db_pgsql_rewrite("a = ? AND b IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &n);
	assert_string_equal(s, "a = $1 AND b IN ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
	assert_int_equal(n, 11);
	free(s);

	/* Live, on this backend. */
	err_clear(&e);
	c = acq(f, DB_READ);
	{
		struct db_param p[] = { DBP_TEXT("x"), DBP_INT(5) };

		assert_int_equal(db_query(c,
					  "SELECT '?' AS \"q?\", CAST(? AS TEXT) AS p, 'it''s ?' AS s, "
					  "/* ? */ CAST(? AS INTEGER) + 1 AS n -- trailing ?\n",
					  p, 2, &r, &e),
				 0);
	}
	assert_int_equal(db_rows_count(r), 1);
	assert_string_equal(db_rows_colname(r, 0), "q?");
	assert_string_equal(db_rows_text(r, 0, 0), "?");
	assert_string_equal(db_rows_text(r, 0, 1), "x");
	assert_string_equal(db_rows_text(r, 0, 2), "it's ?");
	assert_int_equal(db_rows_int(r, 0, 3), 6);
	db_rows_free(r);
	db_release(c);
}

static void t_unique_conflict(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;

	assert_int_equal(insert_tenant(c, "t-u1", "uniq-1", "clinic", &e), 0);
	assert_int_equal(insert_tenant(c, "t-u1", "uniq-2", "clinic", &e), ERR_CONFLICT);
	assert_string_equal(e.message, "database constraint violated");
	assert_true(e.detail[0] != '\0');
	assert_int_equal(insert_tenant(c, "t-u2", "uniq-1", "lab", &e), ERR_CONFLICT);
	db_release(c);
	assert_int_equal(count_tenant(f, "t-u1"), 1);
	assert_int_equal(count_tenant(f, "t-u2"), 0);
}

static void t_fk_check_invalid(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f, DB_WRITE);
	struct db_param p[] = { DBP_TEXT("u-1"), DBP_TEXT("no-such-tenant") };
	struct err e;

	err_clear(&e);
	assert_int_equal(db_exec(c,
				 "INSERT INTO users (id, tenant_id, email, email_norm, password_hash, "
				 "role, created_at, updated_at) VALUES (?, ?, 'a@b.c', 'a@b.c', 'h', "
				 "'admin', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
				 p, 2, NULL, &e),
			 ERR_INVALID);
	assert_string_equal(e.message, "database constraint violated");
	/* CHECK (kind IN ...) */
	assert_int_equal(insert_tenant(c, "t-k1", "kind-1", "spa", &e), ERR_INVALID);
	/* NOT NULL */
	assert_int_equal(insert_tenant(c, "t-k2", NULL, "clinic", &e), ERR_INVALID);
	db_release(c);
}

static void t_rollback_commit(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;

	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(db_begin(c, &e), ERR_DB); /* no nesting */
	assert_int_equal(insert_tenant(c, "t-rb", "rb", "clinic", &e), 0);
	db_rollback(c);
	db_rollback(c); /* harmless twice */
	assert_int_equal(db_commit(c, &e), ERR_DB);
	db_release(c);
	assert_int_equal(count_tenant(f, "t-rb"), 0);

	c = acq(f, DB_WRITE);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(insert_tenant(c, "t-cm", "cm", "hospital", &e), 0);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	assert_int_equal(count_tenant(f, "t-cm"), 1);
}

static void t_release_rolls_back(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;

	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(insert_tenant(c, "t-rel", "rel", "clinic", &e), 0);
	db_release(c);
	assert_int_equal(count_tenant(f, "t-rel"), 0);
	/* The writer is usable again, with no transaction left open. */
	c = acq(f, DB_WRITE);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(insert_tenant(c, "t-rel", "rel", "clinic", &e), 0);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	assert_int_equal(count_tenant(f, "t-rel"), 1);
}

/* An error inside a transaction: PostgreSQL aborts the whole transaction
 * (COMMIT fails), SQLite undoes only the failed statement. */
static void t_error_in_tx(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;

	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(insert_tenant(c, "t-ab", "ab", "clinic", &e), 0);
	assert_int_equal(insert_tenant(c, "t-ab", "ab2", "clinic", &e), ERR_CONFLICT);
	if (f->kind == DB_PGSQL) {
		assert_int_equal(db_commit(c, &e), ERR_DB);
		db_release(c);
		assert_int_equal(count_tenant(f, "t-ab"), 0);
	} else {
		assert_int_equal(db_commit(c, &e), 0);
		db_release(c);
		assert_int_equal(count_tenant(f, "t-ab"), 1);
	}
}

struct worker {
	struct fx *f;
	int failures;
};

#define N_THREADS 8
#define N_INCR 200

static void *counter_worker(void *arg)
{
	struct worker *w = arg;
	struct fx *f = w->f;
	const char *sel = f->kind == DB_PGSQL ? "SELECT n FROM t_counter WHERE id = 'c' FOR UPDATE"
					      : "SELECT n FROM t_counter WHERE id = 'c'";
	int i;

	for (i = 0; i < N_INCR; i++) {
		struct db_conn *c = NULL;
		struct err e;
		int64_t n = 0;
		int rc;

		err_clear(&e);
		rc = db_acquire(f->db, DB_WRITE, &c, &e);
		if (rc == 0)
			rc = db_begin(c, &e);
		if (rc == 0)
			rc = db_query_int(c, sel, NULL, 0, &n, &e);
		if (rc == 0) {
			struct db_param p[] = { DBP_INT(n + 1) };

			rc = db_exec(c, "UPDATE t_counter SET n = ? WHERE id = 'c'", p, 1, NULL, &e);
		}
		if (rc == 0)
			rc = db_commit(c, &e);
		db_release(c);
		if (rc != 0) {
			fprintf(stderr, "worker: %s (%s)\n", e.message, e.detail);
			w->failures++;
		}
	}
	return NULL;
}

static void t_concurrent_writers(void **state)
{
	struct fx *f = *state;
	struct worker w[N_THREADS];
	pthread_t th[N_THREADS];
	struct db_conn *c = acq(f, DB_WRITE);
	int i, failures = 0;

	exec_ok(c, "CREATE TABLE t_counter (id TEXT PRIMARY KEY, n BIGINT NOT NULL)", NULL, 0);
	exec_ok(c, "INSERT INTO t_counter (id, n) VALUES ('c', 0)", NULL, 0);
	db_release(c);
	for (i = 0; i < N_THREADS; i++) {
		w[i].f = f;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, counter_worker, &w[i]), 0);
	}
	for (i = 0; i < N_THREADS; i++) {
		pthread_join(th[i], NULL);
		failures += w[i].failures;
	}
	assert_int_equal(failures, 0);
	c = acq(f, DB_READ);
	assert_int_equal(q_int(c, "SELECT n FROM t_counter WHERE id = 'c'", NULL, 0),
			 N_THREADS * N_INCR);
	db_release(c);
}

struct waiter {
	struct db *db;
	int rc;
	struct db_conn *c;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct err e;

	err_clear(&e);
	w->rc = db_acquire(w->db, DB_READ, &w->c, &e);
	return NULL;
}

static void t_pool_exhaustion(void **state)
{
	struct fx *f = *state;
	struct db_options o = { .pool_size = 2, .acquire_timeout_ms = 300 };
	struct db *db = NULL;
	struct db_conn *a = NULL, *b = NULL, *x = NULL, *w1 = NULL;
	struct db_stats st;
	struct waiter wt;
	pthread_t th;
	struct err e;
	int64_t t0;
	int i;

	err_clear(&e);
	assert_int_equal(db_open(f->url, &o, &db, &e), 0);
	assert_int_equal(db_acquire(db, DB_READ, &a, &e), 0);
	assert_int_equal(db_acquire(db, DB_READ, &b, &e), 0);
	t0 = now_ms();
	assert_int_equal(db_acquire(db, DB_READ, &x, &e), ERR_UNAVAILABLE);
	assert_true(now_ms() - t0 >= 250);
	assert_null(x);
	assert_string_equal(e.message, "database unavailable");
	db_stats(db, &st);
	assert_int_equal(st.in_use, 2);
	assert_int_equal(st.acquire_timeouts, 1);
	if (f->kind == DB_SQLITE) {
		assert_int_equal(st.size, 3);
		/* The writer is separate from the readers, and single. */
		assert_int_equal(db_acquire(db, DB_WRITE, &w1, &e), 0);
		assert_int_equal(db_acquire(db, DB_WRITE, &x, &e), ERR_UNAVAILABLE);
		db_release(w1);
	} else {
		assert_int_equal(st.size, 2);
		assert_int_equal(db_acquire(db, DB_WRITE, &x, &e), ERR_UNAVAILABLE);
	}

	/* A blocked caller is woken by a release. */
	wt.db = db;
	wt.rc = 1;
	wt.c = NULL;
	assert_int_equal(pthread_create(&th, NULL, waiter_main, &wt), 0);
	for (i = 0; i < 100; i++) {
		db_stats(db, &st);
		if (st.waiting == 1)
			break;
		usleep(2000);
	}
	assert_int_equal(st.waiting, 1);
	db_release(a);
	pthread_join(th, NULL);
	assert_int_equal(wt.rc, 0);
	assert_non_null(wt.c);
	db_release(wt.c);
	db_release(b);
	db_stats(db, &st);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.waiting, 0);
	db_close(db);
}

static void t_rows_null(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f, DB_READ);
	struct db_rows *r = NULL;
	struct err e;
	int64_t v = -1;

	err_clear(&e);
	assert_int_equal(db_query(c, "SELECT CAST(NULL AS TEXT) AS a, '' AS b, 7 AS c, 'x7' AS d",
				  NULL, 0, &r, &e),
			 0);
	assert_int_equal(db_rows_count(r), 1);
	assert_int_equal(db_rows_cols(r), 4);
	assert_true(db_rows_isnull(r, 0, 0));
	assert_null(db_rows_text(r, 0, 0));
	assert_int_equal(db_rows_int(r, 0, 0), 0);
	assert_false(db_rows_isnull(r, 0, 1));
	assert_string_equal(db_rows_text(r, 0, 1), "");
	assert_string_equal(db_rows_text(r, 0, 2), "7");
	assert_int_equal(db_rows_int(r, 0, 2), 7);
	assert_int_equal(db_rows_int(r, 0, 3), 0);
	/* Out of range reads are NULL, not a crash. */
	assert_null(db_rows_text(r, 1, 0));
	assert_null(db_rows_text(r, 0, 4));
	db_rows_free(r);
	r = NULL;

	/* No rows: the columns are still known. */
	assert_int_equal(db_query(c, "SELECT id, slug FROM tenants WHERE id = 'none'", NULL, 0, &r, &e),
			 0);
	assert_int_equal(db_rows_count(r), 0);
	assert_int_equal(db_rows_cols(r), 2);
	assert_string_equal(db_rows_colname(r, 1), "slug");
	db_rows_free(r);
	db_rows_free(NULL);

	/* A NULL parameter. */
	{
		struct db_param p[] = { DBP_NULL, DBP_TEXT(NULL) };

		assert_int_equal(q_int(c, "SELECT COUNT(*) WHERE CAST(? AS TEXT) IS NULL AND "
					  "CAST(? AS TEXT) IS NULL",
				       p, 2),
				 1);
	}
	assert_int_equal(db_query_int(c, "SELECT id FROM tenants WHERE id = 'none'", NULL, 0, &v, &e),
			 ERR_NOT_FOUND);
	assert_int_equal(q_int(c, "SELECT MAX(n) FROM (SELECT 1 AS n WHERE 1 = 0) z", NULL, 0), 0);
	db_release(c);
}

static void t_rows_cap(void **state)
{
	struct fx *f = *state;
	struct db_conn *c = acq(f, DB_READ);
	struct db_rows *r = NULL;
	struct err e;

	err_clear(&e);
	assert_int_equal(db_query(c,
				  "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
				  "WHERE i < 100000) SELECT i FROM s",
				  NULL, 0, &r, &e),
			 0);
	assert_int_equal(db_rows_count(r), 100000);
	assert_int_equal(db_rows_int(r, 99999, 0), 100000);
	db_rows_free(r);
	r = NULL;
	assert_int_equal(db_query(c,
				  "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
				  "WHERE i < 100001) SELECT i FROM s",
				  NULL, 0, &r, &e),
			 ERR_DB);
	assert_null(r);
	db_release(c);
}

static void t_ping_stats(void **state)
{
	struct fx *f = *state;
	struct db_stats st;
	struct err e;

	err_clear(&e);
	assert_int_equal(db_ping(f->db, &e), 0);
	db_stats(f->db, &st);
	assert_int_equal(st.size, f->kind == DB_SQLITE ? 11 : 10);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.waiting, 0);
}

static void t_sqlite_reader_readonly(void **state)
{
	struct fx *f = *state;
	struct db_conn *c;
	struct err e;

	if (f->kind != DB_SQLITE)
		skip();
	c = acq(f, DB_READ);
	err_clear(&e);
	assert_int_not_equal(insert_tenant(c, "t-ro", "ro", "clinic", &e), 0);
	db_release(c);
	assert_int_equal(count_tenant(f, "t-ro"), 0);
}

static void t_sqlite_pragmas(void **state)
{
	struct fx *f = *state;
	struct db_conn *c;
	struct db_rows *r = NULL;
	struct err e;
	int mode;

	if (f->kind != DB_SQLITE)
		skip();
	err_clear(&e);
	for (mode = DB_READ; mode <= DB_WRITE; mode++) {
		c = acq(f, (enum db_mode)mode);
		assert_int_equal(q_int(c, "PRAGMA synchronous", NULL, 0), 2); /* FULL */
		assert_int_equal(q_int(c, "PRAGMA foreign_keys", NULL, 0), 1);
		assert_int_equal(q_int(c, "PRAGMA query_only", NULL, 0), mode == DB_READ);
		assert_true(q_int(c, "PRAGMA busy_timeout", NULL, 0) > 0);
		assert_int_equal(db_query(c, "PRAGMA journal_mode", NULL, 0, &r, &e), 0);
		assert_string_equal(db_rows_text(r, 0, 0), "wal");
		db_rows_free(r);
		r = NULL;
		db_release(c);
	}
}

static void t_backup_verify(void **state)
{
	struct fx *f = *state;
	struct db_conn *c;
	struct db *bdb = NULL;
	struct err e;
	char *path, *bad, *empty;
	FILE *fp;
	int i, version = 0;

	err_clear(&e);
	if (f->kind != DB_SQLITE) {
		assert_int_equal(db_backup(f->db, "/tmp/never-written.db", &e), ERR_INVALID);
		return;
	}
	c = acq(f, DB_WRITE);
	assert_int_equal(insert_tenant(c, "t-bk", "bk", "lab", &e), 0);
	db_release(c);

	path = xasprintf("%s/backup.db", f->dir);
	assert_int_equal(db_backup(f->db, path, &e), 0);
	assert_int_equal(db_backup(f->db, path, &e), ERR_CONFLICT);
	assert_int_equal(db_verify_file(path, &e), 0);
	/* The copy is a working database with the data. */
	assert_int_equal(db_open(path, NULL, &bdb, &e), 0);
	assert_int_equal(db_schema_version(bdb, &version, &e), 0);
	assert_true(version >= 1);
	c = NULL;
	assert_int_equal(db_acquire(bdb, DB_READ, &c, &e), 0);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM tenants WHERE id = 't-bk'", NULL, 0), 1);
	db_release(c);
	db_close(bdb);

	assert_int_equal(db_verify_file("/nonexistent/dir/x.db", &e), ERR_INVALID);
	bad = xasprintf("%s/garbage.db", f->dir);
	fp = fopen(bad, "w");
	assert_non_null(fp);
	for (i = 0; i < 200; i++)
		fputs("this is not a database file at all\n", fp);
	fclose(fp);
	assert_int_equal(db_verify_file(bad, &e), ERR_INVALID);
	empty = xasprintf("%s/empty.db", f->dir);
	fp = fopen(empty, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(db_verify_file(empty, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "schema_migrations"));
	free(path);
	free(bad);
	free(empty);
}

/* Backend-independent: opening failures and SQLite ":memory:" (one
 * connection serves reads and writes). */
static void t_open_misc(void **state)
{
	struct db *db = NULL;
	struct db_conn *c = NULL;
	struct db_stats st;
	struct err e;
	int applied = 0;

	(void)state;
	err_clear(&e);
	assert_int_not_equal(db_open("/nonexistent-dir/x/y.db", NULL, &db, &e), 0);
	assert_null(db);
	assert_int_equal(db_open("", NULL, &db, &e), ERR_INVALID);
	assert_int_equal(db_open("postgresql://nobody@/nodb?host=/nonexistent-dir&port=1", NULL, &db,
				 &e),
			 ERR_UNAVAILABLE);
	assert_null(db);

	assert_int_equal(db_open("sqlite::memory:", NULL, &db, &e), 0);
	assert_int_equal(db_backend(db), DB_SQLITE);
	assert_int_equal(db_migrate(db, &applied, &e), 0);
	assert_true(applied >= 1);
	db_stats(db, &st);
	assert_int_equal(st.size, 1);
	assert_int_equal(db_acquire(db, DB_WRITE, &c, &e), 0);
	assert_int_equal(db_conn_backend(c), DB_SQLITE);
	assert_int_equal(insert_tenant(c, "t-mem", "mem", "clinic", &e), 0);
	db_release(c);
	c = NULL;
	assert_int_equal(db_acquire(db, DB_READ, &c, &e), 0);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM tenants", NULL, 0), 1);
	db_release(c);
	assert_int_equal(db_ping(db, &e), 0);
	db_close(db);
}

/* PostgreSQL: a connection killed under the pool is re-established by the
 * next acquire; db_ping reports it recovered. */
static void t_pg_reconnect(void **state)
{
	struct fx *f = *state;
	struct db_options o = { .pool_size = 1, .acquire_timeout_ms = 2000 };
	struct db *db = NULL;
	struct db_conn *c = NULL, *k;
	struct db_rows *r = NULL;
	struct err e;
	int64_t pid, pid2;
	char *url;

	if (f->kind != DB_PGSQL)
		skip();
	err_clear(&e);
	/* Default application_name, overridable from the URL. */
	k = acq(f, DB_READ);
	assert_int_equal(db_query(k, "SELECT current_setting('application_name')", NULL, 0, &r, &e), 0);
	assert_string_equal(db_rows_text(r, 0, 0), "clinicledger");
	db_rows_free(r);
	r = NULL;
	db_release(k);
	url = xasprintf("%s&application_name=cl_reconnect", f->url);
	assert_int_equal(db_open(url, &o, &db, &e), 0);
	free(url);
	assert_int_equal(db_acquire(db, DB_READ, &c, &e), 0);
	pid = q_int(c, "SELECT pg_backend_pid()", NULL, 0);
	assert_int_equal(db_query(c, "SELECT current_setting('application_name')", NULL, 0, &r, &e), 0);
	assert_string_equal(db_rows_text(r, 0, 0), "cl_reconnect");
	db_rows_free(r);
	r = NULL;
	db_release(c);

	k = acq(f, DB_WRITE);
	{
		struct db_param p[] = { DBP_INT(pid) };

		assert_int_equal(q_int(k, "SELECT CASE WHEN pg_terminate_backend(CAST(? AS INTEGER), "
					  "5000) THEN 1 ELSE 0 END",
				       p, 1),
				 1);
	}
	db_release(k);

	/* The first statement on the dropped connection is a SELECT outside a
	 * transaction: it is repeated once on a fresh connection, so the caller
	 * never sees the loss. */
	c = NULL;
	assert_int_equal(db_acquire(db, DB_READ, &c, &e), 0);
	pid2 = q_int(c, "SELECT pg_backend_pid()", NULL, 0);
	assert_true(pid2 != pid);
	db_release(c);
	assert_int_equal(db_ping(db, &e), 0);

	/* Inside a transaction nothing is repeated: the loss is ERR_UNAVAILABLE. */
	c = NULL;
	assert_int_equal(db_acquire(db, DB_WRITE, &c, &e), 0);
	assert_int_equal(db_begin(c, &e), 0);
	k = acq(f, DB_WRITE);
	{
		struct db_param p[] = { DBP_INT(pid2) };
		assert_int_equal(q_int(k, "SELECT CASE WHEN pg_terminate_backend(CAST(? AS INTEGER), 5000) THEN 1 ELSE 0 END",
				       p, 1),
				 1);
	}
	db_release(k);
	assert_int_equal(db_query_int(c, "SELECT 1", NULL, 0, &pid, &e), ERR_UNAVAILABLE);
	db_release(c);
	db_close(db);
}

/* ---- group commit (SQLite: concurrent write transactions share one
 * COMMIT; PostgreSQL: independent transactions, same outcomes) ---- */

static void make_grp_table(struct fx *f)
{
	struct db_conn *c = acq(f, DB_WRITE);

	exec_ok(c, "DROP TABLE IF EXISTS t_grp", NULL, 0);
	exec_ok(c, "CREATE TABLE t_grp (id TEXT PRIMARY KEY, who BIGINT NOT NULL, n BIGINT NOT NULL)", NULL, 0);
	db_release(c);
}

static int insert_grp(struct db_conn *c, int who, int n, struct err *e)
{
	char id[64];

	snprintf(id, sizeof(id), "w%d-%d", who, n);
	struct db_param p[] = { DBP_TEXT(id), DBP_INT(who), DBP_INT(n) };

	return db_exec(c, "INSERT INTO t_grp (id, who, n) VALUES (?, ?, ?)", p, DB_NPARAMS(p), NULL, e);
}

static int64_t count_grp(struct db *db, const char *where)
{
	struct db_conn *c = NULL;
	struct err e;
	char *sql = xasprintf("SELECT COUNT(*) FROM t_grp WHERE %s", where);
	int64_t n = -1;

	err_clear(&e);
	assert_int_equal(db_acquire(db, DB_READ, &c, &e), 0);
	assert_int_equal(db_query_int(c, sql, NULL, 0, &n, &e), 0);
	db_release(c);
	free(sql);
	return n;
}

/* Close and open the database again: what a commit acknowledged is on disk. */
static void reopen(struct fx *f)
{
	struct db_options o = { .pool_size = 10, .acquire_timeout_ms = 10000 };
	struct err e;

	db_close(f->db);
	f->db = NULL;
	err_clear(&e);
	assert_int_equal(db_open(f->url, &o, &f->db, &e), 0);
}

#define G_THREADS 16
#define G_TX 40

struct gworker {
	struct fx *f;
	int who;
	int mode; /* 0: all commit; 1: every third rolls back; 2: every third fails a statement */
	int committed, failures;
};

static void *group_worker(void *arg)
{
	struct gworker *w = arg;
	int i;

	for (i = 0; i < G_TX; i++) {
		struct db_conn *c = NULL;
		struct err e;
		bool odd = i % 3 == 2;
		int rc;

		err_clear(&e);
		rc = db_acquire(w->f->db, DB_WRITE, &c, &e);
		if (rc == 0)
			rc = db_begin(c, &e);
		if (rc == 0)
			rc = insert_grp(c, w->who, i, &e);
		if (rc == 0 && w->mode == 2 && odd) {
			/* a statement that fails: its own transaction is rolled back, the others go on */
			rc = insert_grp(c, w->who, i, &e);
			assert_int_equal(rc, ERR_CONFLICT);
			db_rollback(c);
			db_release(c);
			continue;
		}
		if (rc == 0 && w->mode == 1 && odd) {
			rc = insert_grp(c, w->who, 1000 + i, &e);
			db_rollback(c);
			db_release(c);
			assert_int_equal(rc, 0);
			continue;
		}
		if (rc == 0)
			rc = db_commit(c, &e);
		db_release(c);
		if (rc == 0)
			w->committed++;
		else
			w->failures++;
	}
	return NULL;
}

static void run_group_workers(struct fx *f, int mode)
{
	struct gworker w[G_THREADS];
	pthread_t th[G_THREADS];
	struct db_stats before, after;
	int i, committed = 0, failures = 0;

	db_stats(f->db, &before);
	for (i = 0; i < G_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].f = f;
		w[i].who = i;
		w[i].mode = mode;
		assert_int_equal(pthread_create(&th[i], NULL, group_worker, &w[i]), 0);
	}
	for (i = 0; i < G_THREADS; i++) {
		pthread_join(th[i], NULL);
		committed += w[i].committed;
		failures += w[i].failures;
	}
	assert_int_equal(failures, 0);
	assert_int_equal(committed, mode == 0 ? G_THREADS * G_TX : G_THREADS * (G_TX - G_TX / 3));
	db_stats(f->db, &after);
	if (f->kind == DB_SQLITE) {
		/* every committed transaction went through a group, and groups
		 * were shared (fewer COMMITs than transactions) */
		assert_true(after.group_members - before.group_members >= (uint64_t)committed);
		assert_true(after.group_commits - before.group_commits < (uint64_t)committed);
	}
}

static void t_group_concurrent_commits(void **state)
{
	struct fx *f = *state;
	char where[64];
	int i;

	make_grp_table(f);
	run_group_workers(f, 0);
	reopen(f);
	assert_int_equal(count_grp(f->db, "1 = 1"), G_THREADS * G_TX);
	for (i = 0; i < G_THREADS; i++) {
		snprintf(where, sizeof(where), "who = %d", i);
		assert_int_equal(count_grp(f->db, where), G_TX);
	}
}

static void t_group_member_rollback(void **state)
{
	struct fx *f = *state;

	make_grp_table(f);
	run_group_workers(f, 1);
	reopen(f);
	assert_int_equal(count_grp(f->db, "1 = 1"), G_THREADS * (G_TX - G_TX / 3));
	assert_int_equal(count_grp(f->db, "n % 3 = 2"), 0); /* every rolled-back member's rows, and only them */
	assert_int_equal(count_grp(f->db, "n >= 1000"), 0);
}

static void t_group_member_error(void **state)
{
	struct fx *f = *state;

	make_grp_table(f);
	run_group_workers(f, 2);
	reopen(f);
	assert_int_equal(count_grp(f->db, "1 = 1"), G_THREADS * (G_TX - G_TX / 3));
	assert_int_equal(count_grp(f->db, "n % 3 = 2"), 0);
}

/* A second writer joins the first one's group: step by step. */
struct joiner {
	struct fx *f;
	int rc;
	int64_t seen_in_group, seen_by_reader;
};

static void *joiner_main(void *arg)
{
	struct joiner *j = arg;
	struct db_conn *c = NULL, *r = NULL;
	struct err e;

	err_clear(&e);
	j->rc = db_acquire(j->f->db, DB_WRITE, &c, &e); /* queued behind the main thread */
	if (j->rc == 0)
		j->rc = db_begin(c, &e);
	/* the main thread's member is released into the open group, not committed */
	if (j->rc == 0)
		j->rc = db_query_int(c, "SELECT COUNT(*) FROM t_grp WHERE who = 0", NULL, 0, &j->seen_in_group, &e);
	if (j->rc == 0)
		j->rc = db_acquire(j->f->db, DB_READ, &r, &e);
	if (j->rc == 0)
		j->rc = db_query_int(r, "SELECT COUNT(*) FROM t_grp WHERE who = 0", NULL, 0, &j->seen_by_reader, &e);
	db_release(r);
	/* a member of its own that rolls back: only its work is undone, and as
	 * nobody else waits, the writer is given back by committing the group
	 * (the main thread's member) ... */
	if (j->rc == 0)
		j->rc = insert_grp(c, 1, 1, &e);
	db_rollback(c);
	/* ... then a transaction of its own */
	if (j->rc == 0)
		j->rc = db_begin(c, &e);
	if (j->rc == 0)
		j->rc = insert_grp(c, 1, 2, &e);
	if (j->rc == 0)
		j->rc = db_commit(c, &e);
	db_release(c);
	return NULL;
}

static void t_group_handoff(void **state)
{
	struct fx *f = *state;
	struct db_conn *c;
	struct db_stats st, before;
	struct joiner j = { .f = f, .rc = 1 };
	pthread_t th;
	struct err e;
	int i;

	if (f->kind != DB_SQLITE)
		skip();
	make_grp_table(f);
	err_clear(&e);
	c = acq(f, DB_WRITE);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(insert_grp(c, 0, 1, &e), 0);
	assert_int_equal(pthread_create(&th, NULL, joiner_main, &j), 0);
	for (i = 0; i < 500; i++) {
		db_stats(f->db, &st);
		if (st.waiting == 1)
			break;
		usleep(2000);
	}
	assert_int_equal(st.waiting, 1);
	db_stats(f->db, &before);
	/* Someone waits: the writer is handed over with the group open, and
	 * this returns once the joiner's commit made both durable. */
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	pthread_join(th, NULL);
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.seen_in_group, 1);  /* earlier members' writes are visible in the group */
	assert_int_equal(j.seen_by_reader, 0); /* ... but to nobody outside before the COMMIT */
	db_stats(f->db, &st);
	assert_int_equal(st.group_commits - before.group_commits, 2);
	assert_int_equal(st.group_members - before.group_members, 2);
	reopen(f);
	assert_int_equal(count_grp(f->db, "id = 'w0-1'"), 1);
	assert_int_equal(count_grp(f->db, "id = 'w1-1'"), 0);
	assert_int_equal(count_grp(f->db, "id = 'w1-2'"), 1);
}

/* A failed COMMIT fails every member of the group: none was acknowledged. */
static int failing_commit(struct db_conn *c, struct err *e)
{
	(void)c;
	return db_fail(e, ERR_UNAVAILABLE, "injected commit failure");
}

static void t_group_commit_failure(void **state)
{
	struct fx *f = *state;
	struct db_ops broken;
	const struct db_ops *real;
	struct db_conn *c;
	struct joiner j = { .f = f, .rc = 1 };
	struct db_stats st;
	pthread_t th;
	struct err e;
	int i;

	if (f->kind != DB_SQLITE)
		skip();
	make_grp_table(f);
	err_clear(&e);
	real = f->db->ops;
	broken = *real;
	broken.commit = failing_commit;
	c = acq(f, DB_WRITE);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(insert_grp(c, 0, 1, &e), 0);
	assert_int_equal(pthread_create(&th, NULL, joiner_main, &j), 0);
	for (i = 0; i < 500; i++) {
		db_stats(f->db, &st);
		if (st.waiting == 1)
			break;
		usleep(2000);
	}
	assert_int_equal(st.waiting, 1);
	f->db->ops = &broken; /* the joiner, leader of the group, will fail to commit */
	assert_int_equal(db_commit(c, &e), ERR_UNAVAILABLE);
	db_release(c);
	pthread_join(th, NULL);
	f->db->ops = real;
	assert_int_equal(j.rc, ERR_UNAVAILABLE);
	reopen(f);
	assert_int_equal(count_grp(f->db, "1 = 1"), 0);
	/* and the writer works again */
	c = acq(f, DB_WRITE);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(insert_grp(c, 0, 9, &e), 0);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	assert_int_equal(count_grp(f->db, "1 = 1"), 1);
}

/* A member leaving a deferred foreign key violated is refused at its own
 * commit instead of failing the group's. */
static void t_group_deferred_fk(void **state)
{
	struct fx *f = *state;
	struct db_conn *c;
	struct err e;

	if (f->kind != DB_SQLITE)
		skip();
	err_clear(&e);
	c = acq(f, DB_WRITE);
	exec_ok(c, "DROP TABLE IF EXISTS t_kid", NULL, 0);
	exec_ok(c, "DROP TABLE IF EXISTS t_par", NULL, 0);
	exec_ok(c, "CREATE TABLE t_par (id TEXT PRIMARY KEY)", NULL, 0);
	exec_ok(c,
		"CREATE TABLE t_kid (id TEXT PRIMARY KEY, par TEXT REFERENCES t_par (id) "
		"DEFERRABLE INITIALLY DEFERRED)",
		NULL, 0);
	assert_int_equal(db_begin(c, &e), 0);
	exec_ok(c, "INSERT INTO t_kid (id, par) VALUES ('k1', 'missing')", NULL, 0);
	assert_int_equal(db_commit(c, &e), ERR_INVALID);
	assert_int_equal(db_begin(c, &e), 0);
	exec_ok(c, "INSERT INTO t_par (id) VALUES ('p1')", NULL, 0);
	exec_ok(c, "INSERT INTO t_kid (id, par) VALUES ('k2', 'p1')", NULL, 0);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	c = acq(f, DB_READ);
	assert_int_equal(q_int(c, "SELECT COUNT(*) FROM t_kid", NULL, 0), 1);
	db_release(c);
}

/* db_write: many callers, some failing; the rest durable. */
struct wargs {
	int who, n;
	bool fail;
};

static int write_cb(struct db_conn *c, void *arg, struct err *e)
{
	struct wargs *a = arg;
	int rc = insert_grp(c, a->who, a->n, e);

	if (rc == 0)
		rc = insert_grp(c, a->who, a->n + 1000, e);
	if (rc == 0 && a->fail)
		rc = err_set(e, ERR_INVALID, "n", "refused after writing");
	return rc;
}

struct wworker {
	struct fx *f;
	int who, ok, refused, other;
};

static void *write_worker(void *arg)
{
	struct wworker *w = arg;
	int i;

	for (i = 0; i < G_TX; i++) {
		struct wargs a = { .who = w->who, .n = i, .fail = i % 4 == 3 };
		struct err e;
		int rc;

		err_clear(&e);
		rc = db_write(w->f->db, write_cb, &a, &e);
		if (rc == 0)
			w->ok++;
		else if (rc == ERR_INVALID && strcmp(e.field, "n") == 0)
			w->refused++;
		else
			w->other++;
	}
	return NULL;
}

static void t_db_write(void **state)
{
	struct fx *f = *state;
	struct wworker w[G_THREADS];
	pthread_t th[G_THREADS];
	struct wargs dup = { .who = 0, .n = 0, .fail = false };
	struct err e;
	int i, ok = 0, refused = 0, other = 0;

	make_grp_table(f);
	for (i = 0; i < G_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].f = f;
		w[i].who = i;
		assert_int_equal(pthread_create(&th[i], NULL, write_worker, &w[i]), 0);
	}
	for (i = 0; i < G_THREADS; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
		refused += w[i].refused;
		other += w[i].other;
	}
	assert_int_equal(other, 0);
	assert_int_equal(refused, G_THREADS * (G_TX / 4));
	assert_int_equal(ok, G_THREADS * G_TX - refused);
	/* a statement error is the callback's error; nothing of it is kept */
	err_clear(&e);
	assert_int_equal(db_write(f->db, write_cb, &dup, &e), ERR_CONFLICT);
	reopen(f);
	assert_int_equal(count_grp(f->db, "1 = 1"), 2 * ok);
	assert_int_equal(count_grp(f->db, "n % 4 = 3"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_migrate),
		cmocka_unit_test(t_params),
		cmocka_unit_test(t_placeholders),
		cmocka_unit_test(t_unique_conflict),
		cmocka_unit_test(t_fk_check_invalid),
		cmocka_unit_test(t_rollback_commit),
		cmocka_unit_test(t_release_rolls_back),
		cmocka_unit_test(t_error_in_tx),
		cmocka_unit_test(t_concurrent_writers),
		cmocka_unit_test(t_pool_exhaustion),
		cmocka_unit_test(t_rows_null),
		cmocka_unit_test(t_rows_cap),
		cmocka_unit_test(t_ping_stats),
		cmocka_unit_test(t_sqlite_reader_readonly),
		cmocka_unit_test(t_sqlite_pragmas),
		cmocka_unit_test(t_backup_verify),
		cmocka_unit_test(t_open_misc),
		cmocka_unit_test(t_pg_reconnect),
		cmocka_unit_test(t_group_concurrent_commits),
		cmocka_unit_test(t_group_member_rollback),
		cmocka_unit_test(t_group_member_error),
		cmocka_unit_test(t_group_handoff),
		cmocka_unit_test(t_group_commit_failure),
		cmocka_unit_test(t_group_deferred_fk),
		cmocka_unit_test(t_db_write),
	};
	const char *pg = getenv("CLINICLEDGER_TEST_PG");
	int failed;

	log_set_level(LOG_ERROR);
	failed = cmocka_run_group_tests_name("db_sqlite", tests, setup_sqlite, teardown);
	if (pg && *pg)
		failed += cmocka_run_group_tests_name("db_pgsql", tests, setup_pg, teardown);
	return failed ? 1 : 0;
}
