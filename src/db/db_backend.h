/*
 * db_backend.h - internal to src/db: what db.c shares with its two backends.
 *
 * db.c owns the pool (struct db and its array of struct db_conn), the
 * transaction bookkeeping, the row container and error wording; a backend
 * (db_sqlite.c, db_pgsql.c) fills a struct db_ops with the driver calls. Only
 * the files of src/db and the db unit test include this header.
 */
#ifndef CL_DB_DB_BACKEND_H
#define CL_DB_DB_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define DB_ROWS_MAX 100000

/* One pooled connection. The pool's mutex guards in_use; the rest belongs to
 * the thread holding the connection. */
struct db_conn {
	struct db *db;
	void *handle; /* sqlite3 * or PGconn * */
	void *priv;   /* backend state (the SQLite statement cache) */
	bool writer;  /* may run write transactions */
	bool in_use;
	bool in_tx; /* between db_begin and db_commit/db_rollback */
};

struct db_ops {
	enum db_backend kind;
	const char *name;
	/* Open the driver connection of c (c->writer already set). */
	int (*conn_open)(struct db *db, struct db_conn *c, struct err *e);
	/* Close and free what conn_open made; c->handle may be NULL. */
	void (*conn_close)(struct db_conn *c);
	/* Called on acquire: make sure c is usable, reconnecting if it broke.
	 * Failure -> ERR_UNAVAILABLE. */
	int (*conn_check)(struct db_conn *c, struct err *e);
	/* Is a transaction open on the driver connection? */
	bool (*tx_open)(struct db_conn *c);
	/* rows NULL: run a statement, discard any rows, *affected (may be NULL) =
	 * rows changed. rows non-NULL: materialise the result into *rows. */
	int (*run)(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
		   int64_t *affected, struct db_rows **rows, struct err *e);
	int (*script)(struct db_conn *c, const char *sql, struct err *e);
	int (*commit)(struct db_conn *c, struct err *e);
	void (*rollback)(struct db_conn *c); /* no-op when no transaction is open */
	/* Online backup through c (NULL: unsupported by the backend). */
	int (*backup)(struct db_conn *c, const char *path, struct err *e);
};

struct db {
	const struct db_ops *ops;
	char *target; /* SQLite path or PostgreSQL conninfo/URL; owned */
	struct db_options opt;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* signalled when a connection is returned */
	struct db_conn *conns;
	int nconns; /* SQLite: conns[0] is the writer, the rest readers */
	int in_use;
	int waiting;
	uint64_t acquire_timeouts;
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pgsql_ops;

/* Fill e with the client-safe message for code ("database constraint
 * violated", "database unavailable", "database error") and the driver text
 * (printf-style) as the log-only detail. Returns code. */
int db_fail(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Row container used by the backends. db_rows_new: ncols columns, names
 * unset (owned; free with db_rows_free). db_rows_set_name copies name.
 * db_rows_add_row returns the new row's ncols value slots, all NULL, which
 * the backend fills with xmalloc'd strings (ownership passes to r); NULL
 * when the row cap DB_ROWS_MAX would be exceeded. */
struct db_rows *db_rows_new(size_t ncols);
void db_rows_set_name(struct db_rows *r, size_t col, const char *name);
char **db_rows_add_row(struct db_rows *r);

/* PostgreSQL placeholder rewrite: '?' -> $1..$n outside single-quoted
 * strings, double-quoted identifiers, dollar-quoted strings and comments.
 * Returns an owned string; *nparams gets n. Exposed for the unit test. */
char *db_pgsql_rewrite(const char *sql, size_t *nparams);

#endif
