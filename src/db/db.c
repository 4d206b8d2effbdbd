/*
 * db.c - the backend-neutral half of the database layer.
 *
 * Owns the connection pool (one mutex, one condition variable, a timed wait
 * for a free connection), dispatches every call to the backend's struct
 * db_ops, tracks transactions per connection, materialises result rows,
 * words driver errors for clients, and runs the embedded migrations from
 * migrations.h. The SQLite writer (sessions, group commit, db_write) is
 * db_group.c's: calls on a session are passed there. Nothing here knows a driver API: sqlite3.h lives only in
 * db_sqlite.c and libpq-fe.h only in db_pgsql.c.
 */
#include "db/db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/db_backend.h"
#include "db/migrations.h"

#define DB_DEFAULT_POOL 8
#define DB_DEFAULT_ACQUIRE_MS 5000
#define DB_DEFAULT_BUSY_MS 5000
#define DB_MAX_POOL 256
#define DB_DEFAULT_GROUP_MEMBERS 64
#define DB_DEFAULT_GROUP_US 4000
#define DB_DEFAULT_GROUP_LINGER_US 200

struct db_rows {
	size_t nrows;
	size_t ncols;
	size_t cap; /* rows allocated in vals */
	char **names;
	char **vals; /* nrows * ncols, row-major; NULL = SQL NULL */
};

/* ---- errors ---- */

int db_fail(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;
	const char *msg;

	switch (code) {
	case ERR_CONFLICT:
	case ERR_INVALID:
		msg = "database constraint violated";
		break;
	case ERR_UNAVAILABLE:
		msg = "database unavailable";
		break;
	default:
		msg = "database error";
		break;
	}
	err_set(e, code, NULL, "%s", msg);
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return code;
}

/* ---- rows ---- */

struct db_rows *db_rows_new(size_t ncols)
{
	struct db_rows *r = xcalloc(1, sizeof(*r));

	r->ncols = ncols;
	r->names = xcalloc(ncols ? ncols : 1, sizeof(char *));
	return r;
}

void db_rows_set_name(struct db_rows *r, size_t col, const char *name)
{
	if (col >= r->ncols)
		return;
	free(r->names[col]);
	r->names[col] = xstrdup(name ? name : "");
}

char **db_rows_add_row(struct db_rows *r)
{
	char **row;
	size_t ncap;

	if (r->nrows >= DB_ROWS_MAX)
		return NULL;
	if (r->nrows == r->cap) {
		ncap = r->cap ? r->cap * 2 : 16;
		if (ncap > DB_ROWS_MAX)
			ncap = DB_ROWS_MAX;
		r->vals = xrealloc(r->vals, ncap * (r->ncols ? r->ncols : 1) * sizeof(char *));
		r->cap = ncap;
	}
	row = r->vals + r->nrows * r->ncols;
	memset(row, 0, r->ncols * sizeof(char *));
	r->nrows++;
	return row;
}

size_t db_rows_count(const struct db_rows *r)
{
	return r ? r->nrows : 0;
}

size_t db_rows_cols(const struct db_rows *r)
{
	return r ? r->ncols : 0;
}

const char *db_rows_colname(const struct db_rows *r, size_t col)
{
	if (!r || col >= r->ncols)
		return NULL;
	return r->names[col];
}

const char *db_rows_text(const struct db_rows *r, size_t row, size_t col)
{
	if (!r || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->vals[row * r->ncols + col];
}

int64_t db_rows_int(const struct db_rows *r, size_t row, size_t col)
{
	const char *s = db_rows_text(r, row, col);
	char *end;
	long long v;

	if (!s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s)
		return 0;
	return (int64_t)v;
}

bool db_rows_isnull(const struct db_rows *r, size_t row, size_t col)
{
	return db_rows_text(r, row, col) == NULL;
}

void db_rows_free(struct db_rows *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nrows * r->ncols; i++)
		free(r->vals[i]);
	for (i = 0; i < r->ncols; i++)
		free(r->names[i]);
	free(r->vals);
	free(r->names);
	free(r);
}

/* ---- pool ---- */

static bool db_is_pg_url(const char *url)
{
	return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

/* SQLite path from url: strips "sqlite://", "sqlite:", "file://", "file:"
 * and, after "file:", a "?query". Owned. */
static char *db_sqlite_path(const char *url)
{
	static const char *const prefixes[] = { "sqlite://", "sqlite:", "file://", "file:" };
	size_t i, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(url, prefixes[i], n) != 0)
			continue;
		url += n;
		if (i >= 2)
			return xstrndup(url, strcspn(url, "?"));
		return xstrdup(url);
	}
	return xstrdup(url);
}

/* Close every opened connection and free db. */
static void db_free(struct db *db)
{
	int i;

	if (db->started && db->ops->db_stop)
		db->ops->db_stop(db);
	for (i = 0; i < db->nconns; i++)
		if (db->conns[i].handle || db->conns[i].priv)
			db->ops->conn_close(&db->conns[i]);
	pthread_cond_destroy(&db->g_cond);
	pthread_cond_destroy(&db->w_arrive);
	pthread_cond_destroy(&db->cond);
	pthread_mutex_destroy(&db->mu);
	free(db->conns);
	free(db->target);
	free(db);
}

int db_open(const char *url, const struct db_options *opt, struct db **out, struct err *e)
{
	struct db *db = NULL;
	pthread_condattr_t ca;
	int rc = 0, i, readers;
	bool memory;

	*out = NULL;
	if (!url || !*url)
		return err_set(e, ERR_INVALID, "db_url", "database URL is empty");
	db = xcalloc(1, sizeof(*db));
	db->opt.pool_size = opt && opt->pool_size > 0 ? opt->pool_size : DB_DEFAULT_POOL;
	if (db->opt.pool_size > DB_MAX_POOL)
		db->opt.pool_size = DB_MAX_POOL;
	db->opt.acquire_timeout_ms =
		opt && opt->acquire_timeout_ms > 0 ? opt->acquire_timeout_ms : DB_DEFAULT_ACQUIRE_MS;
	db->opt.busy_timeout_ms =
		opt && opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : DB_DEFAULT_BUSY_MS;
	db->opt.group_max_members = opt && opt->group_max_members > 0 ? opt->group_max_members
								       : DB_DEFAULT_GROUP_MEMBERS;
	db->opt.group_max_us = opt && opt->group_max_us > 0 ? opt->group_max_us : DB_DEFAULT_GROUP_US;
	db->opt.group_linger_us = !opt || opt->group_linger_us == 0 ? DB_DEFAULT_GROUP_LINGER_US
				  : opt->group_linger_us < 0	? 0
								: opt->group_linger_us;
	pthread_mutex_init(&db->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&db->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&db->g_cond, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&db->w_arrive, &ca);
	pthread_condattr_destroy(&ca);

	if (db_is_pg_url(url)) {
		db->ops = &db_pgsql_ops;
		db->target = xstrdup(url);
		db->nconns = db->opt.pool_size;
		db->conns = xcalloc((size_t)db->nconns, sizeof(*db->conns));
		for (i = 0; i < db->nconns; i++)
			db->conns[i].writer = true;
	} else {
		db->ops = &db_sqlite_ops;
		db->target = db_sqlite_path(url);
		if (!*db->target) {
			rc = err_set(e, ERR_INVALID, "db_url", "database path is empty");
			goto out;
		}
		/* Each ":memory:" connection would be its own database: use the
		 * writer alone for reads as well. */
		memory = strcmp(db->target, ":memory:") == 0;
		readers = memory ? 0 : db->opt.pool_size;
		db->nconns = 1 + readers;
		db->conns = xcalloc((size_t)db->nconns, sizeof(*db->conns));
		db->conns[0].writer = true;
	}
	for (i = 0; i < db->nconns; i++) {
		db->conns[i].db = db;
		rc = db->ops->conn_open(db, &db->conns[i], e);
		if (rc < 0)
			goto out;
	}
	if (db->ops->db_start) {
		rc = db->ops->db_start(db, e);
		if (rc < 0)
			goto out;
		db->started = true;
	}
out:
	if (rc < 0) {
		db_free(db);
		return rc;
	}
	*out = db;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&db->mu);
	if (db->in_use > 0)
		log_error("msg=\"db_close with connections checked out\" in_use=%d", db->in_use);
	pthread_mutex_unlock(&db->mu);
	db_free(db);
}

enum db_backend db_backend(const struct db *db)
{
	return db->ops->kind;
}

const char *db_backend_name(const struct db *db)
{
	return db->ops->name;
}

enum db_backend db_conn_backend(const struct db_conn *c)
{
	return c->db->ops->kind;
}

void db_deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* A free pooled connection (PostgreSQL, or an SQLite reader), or NULL.
 * Caller holds db->mu. The SQLite writer is taken through db_group.c. */
static struct db_conn *db_find_free(struct db *db)
{
	int i;

	for (i = db->ops->kind == DB_SQLITE ? 1 : 0; i < db->nconns; i++)
		if (!db->conns[i].in_use)
			return &db->conns[i];
	return NULL;
}

/* Give c back to the pool without touching its driver state. One
 * connection came free: one waiter is enough. */
static void db_put(struct db_conn *c)
{
	struct db *db = c->db;

	pthread_mutex_lock(&db->mu);
	c->in_use = false;
	db->in_use--;
	pthread_cond_signal(&db->cond);
	pthread_mutex_unlock(&db->mu);
}

int db_acquire(struct db *db, enum db_mode mode, struct db_conn **out, struct err *e)
{
	struct db_conn *c;
	struct timespec deadline;
	bool timed_out = false;
	int rc;

	*out = NULL;
	/* SQLite: the single writer (also serving reads of a ":memory:" database,
	 * where every connection would be a database of its own). */
	if (db->ops->kind == DB_SQLITE && (mode == DB_WRITE || db->nconns == 1))
		return dbg_acquire(db, out, e);
	db_deadline(&deadline, db->opt.acquire_timeout_ms);

	pthread_mutex_lock(&db->mu);
	for (;;) {
		c = db_find_free(db);
		if (c)
			break;
		if (timed_out) {
			db->acquire_timeouts++;
			pthread_mutex_unlock(&db->mu);
			return db_fail(e, ERR_UNAVAILABLE, "no free %s connection within %d ms",
				       mode == DB_WRITE ? "write" : "read", db->opt.acquire_timeout_ms);
		}
		db->waiting++;
		timed_out = pthread_cond_timedwait(&db->cond, &db->mu, &deadline) == ETIMEDOUT;
		db->waiting--;
	}
	c->in_use = true;
	db->in_use++;
	pthread_mutex_unlock(&db->mu);

	rc = db->ops->conn_check(c, e);
	if (rc < 0) {
		db_put(c);
		return rc;
	}
	c->in_tx = false;
	*out = c;
	return 0;
}

void db_release(struct db_conn *c)
{
	if (!c)
		return;
	if (c->session) {
		dbg_release(c);
		return;
	}
	if (c->in_tx || c->db->ops->tx_open(c))
		db_rollback(c);
	db_put(c);
}

/* ---- statements ---- */

int db_begin(struct db_conn *c, struct err *e)
{
	const char *sql;
	int rc;

	if (c->session)
		return dbg_begin(c, e);
	if (c->in_tx)
		return db_fail(e, ERR_DB, "db_begin: transaction already open");
	sql = "BEGIN";
	rc = c->db->ops->run(c, sql, NULL, 0, NULL, NULL, e);
	if (rc == 0)
		c->in_tx = true;
	return rc;
}

int db_commit(struct db_conn *c, struct err *e)
{
	int rc;

	if (c->session)
		return dbg_commit(c, e);
	if (!c->in_tx && !c->db->ops->tx_open(c))
		return db_fail(e, ERR_DB, "db_commit: no transaction open");
	rc = c->db->ops->commit(c, e);
	if (rc < 0)
		c->db->ops->rollback(c);
	c->in_tx = false;
	return rc;
}

void db_rollback(struct db_conn *c)
{
	if (c->session) {
		dbg_rollback(c);
		return;
	}
	c->db->ops->rollback(c);
	c->in_tx = false;
}

int db_write(struct db *db, int (*fn)(struct db_conn *c, void *arg, struct err *e), void *arg, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	if (db->ops->kind == DB_SQLITE)
		return dbg_write(db, fn, arg, e);
	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc < 0)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0) {
		rc = fn(c, arg, e);
		if (rc > 0)
			rc = db_fail(e, ERR_INTERNAL, "db_write callback returned %d", rc);
		if (rc == 0)
			rc = db_commit(c, e);
		else
			db_rollback(c);
	}
	db_release(c);
	return rc;
}

int db_exec(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
	    int64_t *affected, struct err *e)
{
	if (affected)
		*affected = 0;
	if (c->session)
		return dbg_run(c, sql, params, nparams, affected, NULL, e);
	return c->db->ops->run(c, sql, params, nparams, affected, NULL, e);
}

int db_query(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
	     struct db_rows **out, struct err *e)
{
	*out = NULL;
	if (c->session)
		return dbg_run(c, sql, params, nparams, NULL, out, e);
	return c->db->ops->run(c, sql, params, nparams, NULL, out, e);
}

int db_exec_script(struct db_conn *c, const char *sql, struct err *e)
{
	if (c->session)
		return dbg_script(c, sql, e);
	return c->db->ops->script(c, sql, e);
}

int db_query_int(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
		 int64_t *out, struct err *e)
{
	struct db_rows *r = NULL;
	int rc;

	*out = 0;
	rc = db_query(c, sql, params, nparams, &r, e);
	if (rc < 0)
		goto out;
	if (db_rows_count(r) == 0 || db_rows_cols(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "not found");
		goto out;
	}
	*out = db_rows_int(r, 0, 0);
out:
	db_rows_free(r);
	return rc;
}

/* ---- health, stats, backup ---- */

/* One SELECT 1 round trip on a reader. */
static int db_ping_once(struct db *db, struct err *e)
{
	struct db_conn *c = NULL;
	int64_t one = 0;
	int rc;

	rc = db_acquire(db, DB_READ, &c, e);
	if (rc < 0)
		goto out;
	rc = db_query_int(c, "SELECT 1", NULL, 0, &one, e);
	if (rc == 0 && one != 1)
		rc = db_fail(e, ERR_DB, "SELECT 1 returned %lld", (long long)one);
out:
	db_release(c);
	return rc;
}

int db_ping(struct db *db, struct err *e)
{
	int rc = db_ping_once(db, e);

	/* A connection whose server went away only notices on use; the next
	 * acquire reconnects it, so one retry tells "down" from "was down". */
	if (rc == ERR_UNAVAILABLE)
		rc = db_ping_once(db, e);
	return rc;
}

void db_stats(struct db *db, struct db_stats *out)
{
	pthread_mutex_lock(&db->mu);
	out->size = db->nconns;
	out->in_use = db->in_use;
	out->waiting = db->waiting;
	out->acquire_timeouts = db->acquire_timeouts;
	out->group_commits = db->g_commits;
	out->group_members = db->g_committed;
	pthread_mutex_unlock(&db->mu);
}

int db_backup(struct db *db, const char *path, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	if (!db->ops->backup)
		return err_set(e, ERR_INVALID, NULL, "online backup is only supported with SQLite (use pg_dump)");
	if (!path || !*path)
		return err_set(e, ERR_INVALID, "path", "backup path is empty");
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc < 0)
		goto out;
	rc = db->ops->backup(c, path, e);
out:
	db_release(c);
	return rc;
}

/* ---- migrations ---- */

static void db_utc_now(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The embedded tables must ascend and carry the same versions in both
 * dialects; a mismatch is a build error caught at start-up. */
static int db_check_tables(struct err *e)
{
	size_t i;

	if (db_migrations_sqlite_count != db_migrations_pgsql_count)
		return err_set(e, ERR_INTERNAL, NULL, "embedded migrations differ between dialects");
	for (i = 0; i < db_migrations_sqlite_count; i++) {
		if (db_migrations_sqlite[i].version <= 0 ||
		    db_migrations_sqlite[i].version != db_migrations_pgsql[i].version ||
		    (i > 0 && db_migrations_sqlite[i].version <= db_migrations_sqlite[i - 1].version))
			return err_set(e, ERR_INTERNAL, NULL,
				       "embedded migrations are out of order or differ between dialects");
	}
	return 0;
}

int db_migrate(struct db *db, int *applied, struct err *e)
{
	const struct migration *tab;
	struct db_conn *c = NULL;
	size_t count, i;
	int64_t current = 0;
	bool pg = db->ops->kind == DB_PGSQL, locked = false;
	char now[32];
	int rc, n = 0;

	if (applied)
		*applied = 0;
	rc = db_check_tables(e);
	if (rc < 0)
		return rc;
	tab = pg ? db_migrations_pgsql : db_migrations_sqlite;
	count = pg ? db_migrations_pgsql_count : db_migrations_sqlite_count;

	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc < 0)
		goto out;
	if (pg) {
		rc = db_exec(c, "SELECT pg_advisory_lock(hashtext('clinicledger.migrate'))", NULL, 0,
			     NULL, e);
		if (rc < 0)
			goto out;
		locked = true;
	}
	rc = db_exec(c,
		     "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
		     "name TEXT NOT NULL, applied_at TEXT NOT NULL)",
		     NULL, 0, NULL, e);
	if (rc < 0)
		goto out;
	rc = db_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0,
			  &current, e);
	if (rc < 0)
		goto out;
	if (count > 0 && current > tab[count - 1].version)
		log_warn("msg=\"database schema is newer than this binary\" db_version=%lld "
			 "binary_version=%d",
			 (long long)current, tab[count - 1].version);

	for (i = 0; i < count; i++) {
		if (tab[i].version <= current)
			continue;
		db_utc_now(now, sizeof(now));
		struct db_param p[] = { DBP_INT(tab[i].version), DBP_TEXT(tab[i].name), DBP_TEXT(now) };

		rc = db_begin(c, e);
		if (rc < 0)
			goto out;
		rc = db_exec_script(c, tab[i].sql, e);
		if (rc == 0)
			rc = db_exec(c,
				     "INSERT INTO schema_migrations (version, name, applied_at) "
				     "VALUES (?, ?, ?)",
				     p, DB_NPARAMS(p), NULL, e);
		if (rc == 0)
			rc = db_commit(c, e);
		if (rc < 0) {
			log_error("msg=\"migration failed\" backend=%s version=%d name=%s detail=\"%s\"",
				  db->ops->name, tab[i].version, tab[i].name, e->detail);
			goto out;
		}
		log_info("msg=\"migration applied\" backend=%s version=%d name=%s", db->ops->name,
			 tab[i].version, tab[i].name);
		n++;
	}
out:
	if (c) {
		if (c->in_tx)
			db_rollback(c);
		if (locked) {
			struct err ue;

			err_clear(&ue);
			if (db_exec(c, "SELECT pg_advisory_unlock(hashtext('clinicledger.migrate'))",
				    NULL, 0, NULL, &ue) < 0)
				log_error("msg=\"migration unlock failed\" detail=\"%s\"", ue.detail);
		}
		db_release(c);
	}
	if (applied)
		*applied = n;
	return rc;
}

int db_schema_version(struct db *db, int *version, struct err *e)
{
	struct db_conn *c = NULL;
	int64_t exists = 0, v = 0;
	int rc;

	*version = 0;
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc < 0)
		goto out;
	if (db->ops->kind == DB_PGSQL)
		rc = db_query_int(c,
				  "SELECT COUNT(*) FROM information_schema.tables WHERE "
				  "table_schema = current_schema() AND table_name = 'schema_migrations'",
				  NULL, 0, &exists, e);
	else
		rc = db_query_int(c,
				  "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
				  "name = 'schema_migrations'",
				  NULL, 0, &exists, e);
	if (rc < 0 || exists == 0)
		goto out;
	rc = db_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", NULL, 0, &v, e);
	if (rc == 0)
		*version = (int)v;
out:
	db_release(c);
	return rc;
}
