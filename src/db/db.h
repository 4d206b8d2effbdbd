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
 * a write transaction: SQLite has a single writer connection behind a mutex
 * (so writers queue in our process instead of spinning on SQLITE_BUSY), and
 * every PostgreSQL connection is a writer. A DB_READ connection must not write.
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

/* Transactions. db_begin on SQLite is BEGIN IMMEDIATE for a DB_WRITE
 * connection, BEGIN for a reader. db_commit fails -> the transaction is
 * rolled back. db_rollback never fails (errors are logged). */
int db_begin(struct db_conn *c, struct err *e);
int db_commit(struct db_conn *c, struct err *e);
void db_rollback(struct db_conn *c);

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
