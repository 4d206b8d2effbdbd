/*
 * db.h - the one database API, two backends (SQLite, PostgreSQL).
 *
 * Domain code writes one portable SQL dialect with '?' placeholders; the
 * PostgreSQL backend rewrites them to $1..$n. Rules of the dialect:
 *   - ids are TEXT (UUID strings), money BIGINT minor units, flags INTEGER 0/1,
 *     timestamps TEXT in UTC ISO-8601 "YYYY-MM-DDTHH:MM:SSZ" (or with .mmm),
 *     dates TEXT "YYYY-MM-DD"; JSON documents TEXT.
 *   - every parameter is sent as text (or int) and typed by its context; where
 *     PostgreSQL cannot infer a type ("? IS NULL") write CAST(? AS TEXT).
 *   - INSERT ... ON CONFLICT DO NOTHING/UPDATE and RETURNING work on both.
 *   - where a statement must differ, branch on db_backend() where it is used.
 *
 * Connections come from a pool. A DB_WRITE connection is the one that may run
 * a write transaction: every PostgreSQL connection is a writer (PostgreSQL
 * groups concurrent commits' WAL flushes itself); SQLite has a single writer
 * connection that callers take in turn, in arrival order (so writers queue
 * in our process instead of spinning on SQLITE_BUSY). A DB_READ connection
 * must not write.
 *
 * SQLite group commit (db_group.c). With synchronous=FULL every COMMIT is an
 * fsync; concurrent write transactions therefore share one SQLite
 * transaction and one COMMIT:
 *   - db_acquire(DB_WRITE) returns a session standing for the writer; the
 *     writer is held by one session at a time;
 *   - db_begin opens the group (BEGIN IMMEDIATE) when none is open, then a
 *     SAVEPOINT for this caller, a member of the group;
 *   - db_commit RELEASEs the savepoint. When other callers wait for the
 *     writer (or one arrives within group_linger_us while the group already
 *     holds two members) and the group is within its bounds
 *     (group_max_members, group_max_us), the writer passes to the next one
 *     with the group still open and db_commit sleeps until the group's
 *     COMMIT; otherwise this member COMMITs for all. db_commit returns 0
 *     only once the member's work is on disk: acknowledged = committed and
 *     synced. A failed COMMIT fails every member of the group (none was
 *     acknowledged: they are all still waiting in db_commit).
 *   - db_rollback (and db_release of a session with its member open) is
 *     ROLLBACK TO + RELEASE: only this member's work is undone. A statement
 *     error undoes only the statement, as before; a member leaving a
 *     deferred constraint violated is refused at its own db_commit; if
 *     SQLite itself rolls the transaction back (I/O error, disk full), every
 *     member of the group fails.
 *   - a statement run on a session outside db_begin is a member of its own
 *     (durable on return, as an autocommit statement was).
 *   - members run one at a time, each seeing the earlier members'
 *     uncommitted writes: the group is a serial schedule. Readers see a
 *     group's writes once it committed; its members are still waiting then,
 *     so no client learned of them earlier.
 * db_write runs a whole transaction given as a function: one caller (the
 * combiner) takes the writer and runs the queued callers' functions back to
 * back, each in its own savepoint, under one COMMIT, without handing the
 * writer from thread to thread; it is the fast path for request writes.
 * Checkpoints run on a thread of their own (db_sqlite.c), off the write path.
 *
 * Driver errors are translated here: unique violation -> ERR_CONFLICT,
 * foreign-key/check violation -> ERR_INVALID, busy/locked/connection lost ->
 * ERR_UNAVAILABLE, anything else -> ERR_DB. The driver's text goes to
 * err.detail only.
 */
#ifndef CL_DB_DB_H
#define CL_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum db_backend { DB_SQLITE, DB_PGSQL };
enum db_mode { DB_READ, DB_WRITE };
enum db_type { DB_NULL, DB_TEXT, DB_INT };

struct db_param {
	enum db_type type;
	const char *text; /* DB_TEXT: NUL-terminated, borrowed for the call */
	int64_t i;        /* DB_INT */
};

/* NULL text binds SQL NULL. (A function, so char arrays do not trip -Waddress.) */
static inline struct db_param dbp_text(const char *s)
{
	struct db_param p = { .type = s ? DB_TEXT : DB_NULL, .text = s, .i = 0 };
	return p;
}
#define DBP_TEXT(s) dbp_text(s)
#define DBP_INT(v) ((struct db_param){ .type = DB_INT, .i = (int64_t)(v) })
#define DBP_NULL ((struct db_param){ .type = DB_NULL })
#define DB_NPARAMS(a) (sizeof(a) / sizeof((a)[0]))

struct db_options {
	int pool_size;          /* connections (PostgreSQL) or readers (SQLite); default 8 */
	int acquire_timeout_ms; /* wait for a free connection; default 5000 */
	int busy_timeout_ms;    /* SQLite busy_timeout; default 5000 */
	int group_max_members;  /* SQLite group commit: members per group; default 64 */
	int group_max_us;       /* SQLite group commit: a group's age before it must commit; default 4000 */
	int group_linger_us;    /* SQLite group commit: wait this long for one more member when nobody
				   queues but the group already has two; default 200, -1 = never */
};

struct db;
struct db_conn;
struct db_rows;

/* Open a pool. url is a SQLite file path (or "file:...") or a
 * "postgresql://" / "postgres://" URL. opt may be NULL for defaults.
 * *out is owned: release with db_close. SQLite: WAL, synchronous=FULL,
 * foreign_keys=ON; the file's directory must exist. */
int db_open(const char *url, const struct db_options *opt, struct db **out, struct err *e);
void db_close(struct db *db);
enum db_backend db_backend(const struct db *db);
const char *db_backend_name(const struct db *db); /* "sqlite" | "postgresql" */

/* Take a connection (blocking up to acquire_timeout_ms -> ERR_UNAVAILABLE).
 * Borrowed from the pool: give it back with db_release, which rolls back a
 * transaction left open. */
int db_acquire(struct db *db, enum db_mode mode, struct db_conn **out, struct err *e);
void db_release(struct db_conn *c);
enum db_backend db_conn_backend(const struct db_conn *c);

/* Transactions. On a SQLite DB_WRITE session db_begin joins (or opens) the
 * group as described above; on a reader it is BEGIN. db_commit returns once
 * the transaction is durable; when it fails the transaction is rolled back.
 * db_rollback never fails (errors are logged) and undoes only this caller's
 * work. Between db_commit and the next db_begin a SQLite session may not
 * hold the writer: the next statement takes it again. */
int db_begin(struct db_conn *c, struct err *e);
int db_commit(struct db_conn *c, struct err *e);
void db_rollback(struct db_conn *c);

/* One write transaction as a function: fn(c, arg, e) runs between
 * db_begin and db_commit on a DB_WRITE connection and returns 0 or a
 * negative err code (then everything it wrote is rolled back). db_write
 * returns once the transaction is durable (0), or fn's error, or the
 * commit's. fn must not call db_begin/db_commit/db_rollback/db_release on
 * c, nor take another DB_WRITE connection or call db_write (it would wait
 * for itself). With SQLite, fn may run on another thread (the one combining
 * the current group: many callers' transactions run back to back under one
 * commit, without a hand-off of the writer between them), so it must not
 * rely on thread-local state; arg and e stay the caller's, who is blocked
 * meanwhile. Prefer it to db_acquire(DB_WRITE) for short request writes:
 * on a 2-core machine it doubles the SQLite write throughput
 * (docs/performance.md). */
int db_write(struct db *db, int (*fn)(struct db_conn *c, void *arg, struct err *e), void *arg, struct err *e);

/* Run a statement that returns no rows. *affected (may be NULL) gets the
 * number of rows changed. */
int db_exec(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
	    int64_t *affected, struct err *e);

/* Run a statement that returns rows (SELECT, or ... RETURNING).
 * *out is owned: free with db_rows_free. At most 100,000 rows are
 * materialised; more -> ERR_DB (queries must paginate). */
int db_query(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
	     struct db_rows **out, struct err *e);

/* Run a script of several statements without parameters (migrations). */
int db_exec_script(struct db_conn *c, const char *sql, struct err *e);

size_t db_rows_count(const struct db_rows *r);
size_t db_rows_cols(const struct db_rows *r);
const char *db_rows_colname(const struct db_rows *r, size_t col);
/* Value as text; NULL for SQL NULL. Borrowed: valid until db_rows_free. */
const char *db_rows_text(const struct db_rows *r, size_t row, size_t col);
/* Value as integer; 0 for SQL NULL or non-numeric text. */
int64_t db_rows_int(const struct db_rows *r, size_t row, size_t col);
bool db_rows_isnull(const struct db_rows *r, size_t row, size_t col);
void db_rows_free(struct db_rows *r);

/* Convenience: run a query expected to return one integer (COUNT(*) ...).
 * No row -> ERR_NOT_FOUND. */
int db_query_int(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
		 int64_t *out, struct err *e);

/* Health check: a round trip on a pooled connection. */
int db_ping(struct db *db, struct err *e);

struct db_stats {
	int size;    /* connections in the pool (SQLite: readers + 1 writer) */
	int in_use;  /* checked out now */
	int waiting; /* callers blocked in db_acquire */
	uint64_t acquire_timeouts;
	uint64_t group_commits; /* SQLite: group COMMITs (fsyncs) so far */
	uint64_t group_members; /* SQLite: transactions committed by them */
};
void db_stats(struct db *db, struct db_stats *out);

/* SQLite only: online backup of the whole database to a new file at path
 * (sqlite3_backup API). PostgreSQL -> ERR_INVALID (use pg_dump). */
int db_backup(struct db *db, const char *path, struct err *e);
/* SQLite only: check a database file (PRAGMA integrity_check and our
 * schema_migrations table present) without opening it as the live DB. */
int db_verify_file(const char *path, struct err *e);

/* Apply the embedded migrations for this backend that are not yet applied,
 * each in its own transaction, recording them in schema_migrations.
 * With PostgreSQL a session advisory lock serialises concurrent migrators.
 * *applied (may be NULL) gets the number applied now. */
int db_migrate(struct db *db, int *applied, struct err *e);
/* Highest applied migration version, 0 when none. */
int db_schema_version(struct db *db, int *version, struct err *e);

#endif
