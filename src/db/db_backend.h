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
#include <time.h>

#include "db/db.h"

#define DB_ROWS_MAX 100000

/* One pooled connection, or (SQLite) a writer session. The pool's mutex
 * guards in_use; the rest belongs to the thread holding the connection.
 *
 * A writer session is what db_acquire(DB_WRITE) hands out with SQLite: a
 * small per-caller object (owned by the pool code, freed by db_release)
 * standing for the one writer connection db->conns[0]. While the session
 * holds the writer, handle and priv are borrowed from conns[0] so the
 * backend's run/commit/rollback work on it unchanged; after a group commit
 * gives the writer away they are NULL and the next use takes it back (see
 * db_group.c). */
struct db_conn {
	struct db *db;
	void *handle; /* sqlite3 * or PGconn * */
	void *priv;   /* backend state (the SQLite statement cache) */
	bool writer;  /* may run write transactions */
	bool in_use;
	bool in_tx; /* between db_begin and db_commit/db_rollback (a session: member open) */
	bool session; /* an SQLite writer session (db_group.c), not a pooled connection */
	bool holds;   /* session: holds the writer now */
	bool aborted; /* session: the group transaction died under this member */
	bool combined; /* session of the db_write combiner: no begin/commit/release by callbacks */
};

/* A thread waiting for the SQLite writer: FIFO, woken one at a time. */
struct db_wwait {
	struct db_wwait *next;
	pthread_cond_t cond;
	bool granted; /* the writer was handed to this waiter */
};

/* A member of an open group waiting for the group's COMMIT. */
struct db_gwait {
	struct db_gwait *next;
	pthread_cond_t *cond; /* signalled when done (NULL: the waiter sleeps on db->g_cond) */
	bool done;
	int rc;
	struct err err;
};

/* A db_write call waiting to be run by the combiner (or to become it). */
struct db_witem {
	struct db_witem *next;
	int (*fn)(struct db_conn *c, void *arg, struct err *e);
	void *arg;
	struct err *e; /* the caller's */
	pthread_cond_t cond;
	bool lead;          /* this caller is to combine next */
	struct db_gwait gw; /* the outcome: done once durable, or failed */
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
	/* Deferred constraint violations pending in the open transaction?
	 * (NULL: the backend cannot tell.) A group member leaving one would fail
	 * the whole group's COMMIT, so it is refused at its own commit. */
	bool (*deferred_violations)(struct db_conn *c);
	/* rows NULL: run a statement, discard any rows, *affected (may be NULL) =
	 * rows changed. rows non-NULL: materialise the result into *rows. */
	int (*run)(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
		   int64_t *affected, struct db_rows **rows, struct err *e);
	int (*script)(struct db_conn *c, const char *sql, struct err *e);
	int (*commit)(struct db_conn *c, struct err *e);
	void (*rollback)(struct db_conn *c); /* no-op when no transaction is open */
	/* Online backup through c (NULL: unsupported by the backend). */
	int (*backup)(struct db_conn *c, const char *path, struct err *e);
	/* After every connection opened / before any is closed (NULL: nothing
	 * to do): backend-wide state in db->bpriv (SQLite: the checkpointer). */
	int (*db_start)(struct db *db, struct err *e);
	void (*db_stop)(struct db *db);
};

struct db {
	const struct db_ops *ops;
	char *target; /* SQLite path or PostgreSQL conninfo/URL; owned */
	struct db_options opt;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* signalled when a connection is returned */
	struct db_conn *conns;
	int nconns; /* SQLite: conns[0] is the writer, the rest readers */
	void *bpriv; /* backend-wide state (db_start/db_stop) */
	bool started; /* db_start succeeded */
	int in_use;
	int waiting;
	uint64_t acquire_timeouts;

	/* SQLite writer and group commit (db_group.c); guarded by mu. */
	bool w_busy;                      /* a session holds conns[0] */
	struct db_wwait *wq_head, *wq_tail; /* sessions waiting for it, FIFO */
	bool g_open;                      /* the group's BEGIN IMMEDIATE is open on conns[0] */
	int g_members;                    /* members released into the open group */
	int64_t g_start_us;               /* monotonic time the group opened */
	struct db_gwait *g_waiters;       /* members blocked until the group commits */
	pthread_cond_t g_cond;            /* broadcast when a group commits or fails */
	struct db_witem *wi_head, *wi_tail; /* db_write calls waiting to be run, FIFO */
	bool combining;                   /* a db_write caller is (or is about to be) the combiner */
	bool w_lingering;                 /* a member waits for a successor before committing */
	pthread_cond_t w_arrive;          /* signalled when a session queues for the writer */
	uint64_t g_commits;               /* groups committed */
	uint64_t g_committed;             /* members committed in them */
};

extern const struct db_ops db_sqlite_ops;

/* Absolute CLOCK_MONOTONIC deadline ms milliseconds from now. */
void db_deadline(struct timespec *ts, int ms);

/* The SQLite writer sessions and group commit (db_group.c). db.c calls these
 * instead of the backend when c->session is set. */
int dbg_acquire(struct db *db, struct db_conn **out, struct err *e);
void dbg_release(struct db_conn *s);
int dbg_begin(struct db_conn *s, struct err *e);
int dbg_commit(struct db_conn *s, struct err *e);
void dbg_rollback(struct db_conn *s);
int dbg_run(struct db_conn *s, const char *sql, const struct db_param *params, size_t nparams,
	    int64_t *affected, struct db_rows **rows, struct err *e);
int dbg_script(struct db_conn *s, const char *sql, struct err *e);
int dbg_write(struct db *db, int (*fn)(struct db_conn *c, void *arg, struct err *e), void *arg, struct err *e);
/* Run fn(arg) while holding the SQLite writer with no group open (an open
 * group is committed first): no write can happen meanwhile. Waits for the
 * writer like db_acquire (ERR_UNAVAILABLE after acquire_timeout_ms). */
int dbg_exclusive(struct db *db, void (*fn)(void *arg), void *arg, struct err *e);
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
