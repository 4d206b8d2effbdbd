/*
 * db_sqlite.c - the SQLite backend (the only file including sqlite3.h).
 *
 * Every connection is opened NOMUTEX (a pooled connection is used by one
 * thread at a time) with foreign_keys=ON, synchronous=FULL and a busy
 * timeout; the writer puts the file in WAL mode and readers run with
 * query_only=ON. Each connection keeps a small LRU cache of prepared
 * statements keyed by SQL text; a statement is reset and its bindings
 * cleared after every use, so no read transaction outlives a call. Also the
 * online backup (sqlite3_backup_*) and the offline check of a backup file.
 *
 * Checkpoints run off the write path: a WAL hook on the writer (called after
 * every commit with the WAL's size) wakes a checkpointer thread with a
 * connection of its own every SQ_CKPT_FRAMES new pages; it runs PASSIVE
 * checkpoints, which never block the writer or the readers, and syncs the
 * database file (synchronous=FULL) before SQLite may reuse the WAL; every
 * SQ_WAL_RESTART_FRAMES pages it briefly holds the writer so that the WAL
 * starts over (sq_ckpt_run). Should it fall behind, the writer checkpoints
 * itself at SQ_CKPT_HARD.
 * The writer keeps a large page cache, so a transaction seldom reads the
 * file. (No mmap: a database that grows is remapped on every growth, and
 * each munmap stops every thread of the process for a TLB shootdown.)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/db_backend.h"

#define SQ_CACHE 64
#define SQ_WRITER_CACHE_KIB "-65536"   /* the writer's page cache: 64 MiB */
#define SQ_READER_CACHE_KIB "-8192"    /* each reader's: 8 MiB */
#define SQ_CKPT_FRAMES 4000            /* new WAL pages that wake the checkpointer (~16 MiB) */
#define SQ_WAL_RESTART_FRAMES 32000    /* WAL pages (~128 MiB) after which it is started over */
#define SQ_RESTART_GAP_MS 100          /* at most one such restart per this period */
#define SQ_CKPT_PASSES 8               /* concurrent passes before a restart's pause ... */
#define SQ_CKPT_REST 128               /* ... unless the WAL pages left are this few */
#define SQ_CKPT_HARD 100000            /* WAL pages that make the writer checkpoint itself */
#define SQ_CKPT_IDLE_MS 1000           /* checkpoint (and restart) a WAL left alone this long */

/* The checkpointer: a thread with its own connection (db->bpriv). */
struct sq_ckpt {
	struct db *db;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	sqlite3 *h;
	int wal_frames; /* WAL size reported by the last commit */
	int kick_at;    /* WAL size that wakes the checkpointer next */
	int64_t restart_ms; /* when the WAL was last started over */
	bool kick;      /* wal_frames reached kick_at */
	bool stop;
};

static int64_t time_mono_ms_sq(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sq_stmt {
	char *sql; /* owned; NULL = free slot */
	uint64_t hash;
	uint64_t used; /* tick of last use, for LRU eviction */
	sqlite3_stmt *st;
};

struct sq_cache {
	uint64_t tick;
	struct sq_stmt e[SQ_CACHE];
};

/* Hash of a statement's text for the cache: its length and at most its
 * first and last 64 bytes, 8 at a time (statements are long and share
 * prefixes; a match is confirmed with strcmp). */
static uint64_t sq_mix(uint64_t h, const char *p, size_t n)
{
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
	return h ^ (h >> 32);
}

static uint64_t sq_hash(const char *s)
{
	size_t n = strlen(s);
	uint64_t h = sq_mix(n, s, n < 64 ? n : 64);

	return n > 64 ? sq_mix(h, s + n - (n < 128 ? n - 64 : 64), n < 128 ? n - 64 : 64) : h;
}

/* Translate the connection's last error (extended code xrc). */
static int sq_fail(sqlite3 *h, int xrc, struct err *e)
{
	int code;

	switch (xrc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_ROWID:
		code = ERR_CONFLICT;
		break;
	default:
		switch (xrc & 0xff) {
		case SQLITE_CONSTRAINT:
			code = ERR_INVALID;
			break;
		case SQLITE_BUSY:
		case SQLITE_LOCKED:
			code = ERR_UNAVAILABLE;
			break;
		default:
			code = ERR_DB;
			break;
		}
	}
	return db_fail(e, code, "sqlite %d: %s", xrc, h ? sqlite3_errmsg(h) : sqlite3_errstr(xrc));
}

/* Is s only whitespace, semicolons and comments? */
static bool sq_blank_tail(sqlite3 *h, const char *s)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	bool blank;

	s += strspn(s, " \t\r\n;");
	if (!*s)
		return true;
	if (sqlite3_prepare_v2(h, s, -1, &st, &tail) != SQLITE_OK)
		return false;
	blank = st == NULL;
	sqlite3_finalize(st);
	return blank;
}

/* The cached statement for sql, preparing (and maybe evicting) as needed. */
static int sq_stmt(struct db_conn *c, const char *sql, sqlite3_stmt **out, struct err *e)
{
	struct sq_cache *cache = c->priv;
	sqlite3 *h = c->handle;
	uint64_t hash = sq_hash(sql);
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	struct sq_stmt *slot = NULL;
	int i, rc;

	*out = NULL;
	for (i = 0; i < SQ_CACHE; i++) {
		struct sq_stmt *s = &cache->e[i];

		if (s->sql && s->hash == hash && strcmp(s->sql, sql) == 0) {
			s->used = ++cache->tick;
			*out = s->st;
			return 0;
		}
	}
	rc = sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
	if (rc != SQLITE_OK)
		return sq_fail(h, sqlite3_extended_errcode(h), e);
	if (!st)
		return db_fail(e, ERR_DB, "empty SQL statement");
	if (tail && !sq_blank_tail(h, tail)) {
		sqlite3_finalize(st);
		return db_fail(e, ERR_DB, "several statements in one call (use db_exec_script)");
	}
	for (i = 0; i < SQ_CACHE; i++) {
		struct sq_stmt *s = &cache->e[i];

		if (!s->sql) {
			slot = s;
			break;
		}
		if (!slot || s->used < slot->used)
			slot = s;
	}
	if (slot->sql) {
		sqlite3_finalize(slot->st);
		free(slot->sql);
	}
	slot->sql = xstrdup(sql);
	slot->hash = hash;
	slot->st = st;
	slot->used = ++cache->tick;
	*out = st;
	return 0;
}

static int sq_bind(sqlite3 *h, sqlite3_stmt *st, const struct db_param *params, size_t nparams,
		   struct err *e)
{
	size_t i;
	int rc = SQLITE_OK;

	if ((size_t)sqlite3_bind_parameter_count(st) != nparams)
		return db_fail(e, ERR_DB, "statement has %d placeholders, %zu parameters given",
			       sqlite3_bind_parameter_count(st), nparams);
	for (i = 0; i < nparams && rc == SQLITE_OK; i++) {
		int idx = (int)i + 1;

		switch (params[i].type) {
		case DB_TEXT:
			rc = params[i].text ? sqlite3_bind_text(st, idx, params[i].text, -1, SQLITE_STATIC)
					    : sqlite3_bind_null(st, idx);
			break;
		case DB_INT:
			rc = sqlite3_bind_int64(st, idx, (sqlite3_int64)params[i].i);
			break;
		default:
			rc = sqlite3_bind_null(st, idx);
			break;
		}
	}
	if (rc != SQLITE_OK)
		return sq_fail(h, sqlite3_extended_errcode(h), e);
	return 0;
}

/* Column value of the current row as an owned string; NULL for SQL NULL. */
static char *sq_value(sqlite3_stmt *st, int col)
{
	const unsigned char *t;
	char *v;
	int n;

	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		return NULL;
	case SQLITE_INTEGER:
		return xasprintf("%lld", (long long)sqlite3_column_int64(st, col));
	default:
		t = sqlite3_column_text(st, col);
		n = sqlite3_column_bytes(st, col);
		v = xmalloc((size_t)n + 1);
		if (n > 0 && t)
			memcpy(v, t, (size_t)n);
		v[n] = '\0';
		return v;
	}
}

static int sq_run(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
		  int64_t *affected, struct db_rows **rows, struct err *e)
{
	sqlite3 *h = c->handle;
	sqlite3_stmt *st = NULL;
	struct db_rows *r = NULL;
	char **row;
	int rc, src, i, ncols;

	rc = sq_stmt(c, sql, &st, e);
	if (rc < 0)
		goto out;
	rc = sq_bind(h, st, params, nparams, e);
	if (rc < 0)
		goto out;
	ncols = sqlite3_column_count(st);
	if (rows) {
		r = db_rows_new((size_t)ncols);
		for (i = 0; i < ncols; i++)
			db_rows_set_name(r, (size_t)i, sqlite3_column_name(st, i));
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (!r)
			continue;
		row = db_rows_add_row(r);
		if (!row) {
			rc = db_fail(e, ERR_DB, "query returned more than %d rows", DB_ROWS_MAX);
			goto out;
		}
		for (i = 0; i < ncols; i++)
			row[i] = sq_value(st, i);
	}
	if (src != SQLITE_DONE) {
		rc = sq_fail(h, sqlite3_extended_errcode(h), e);
		goto out;
	}
	if (affected)
		*affected = (int64_t)sqlite3_changes64(h);
out:
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	if (rows) {
		if (rc == 0) {
			*rows = r;
			r = NULL;
		}
		db_rows_free(r);
	}
	return rc;
}

static int sq_script(struct db_conn *c, const char *sql, struct err *e)
{
	sqlite3 *h = c->handle;
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return sq_fail(h, sqlite3_extended_errcode(h), e);
	return 0;
}

static bool sq_tx_open(struct db_conn *c)
{
	return c->handle && !sqlite3_get_autocommit(c->handle);
}

static bool sq_deferred_violations(struct db_conn *c)
{
	int cur = 0, hi = 0;

	return c->handle && sqlite3_db_status(c->handle, SQLITE_DBSTATUS_DEFERRED_FKS, &cur, &hi, 0) == SQLITE_OK &&
	       cur > 0;
}

static int sq_commit(struct db_conn *c, struct err *e)
{
	return sq_run(c, "COMMIT", NULL, 0, NULL, NULL, e);
}

static void sq_rollback(struct db_conn *c)
{
	struct err e;

	if (!sq_tx_open(c))
		return;
	err_clear(&e);
	if (sq_run(c, "ROLLBACK", NULL, 0, NULL, NULL, &e) < 0)
		log_error("msg=\"sqlite rollback failed\" detail=\"%s\"", e.detail);
}

/* sqlite3_exec callback keeping the first column of the first row. */
static int sq_first_cb(void *arg, int ncols, char **vals, char **names)
{
	char *buf = arg;

	(void)names;
	if (!buf[0] && ncols > 0)
		snprintf(buf, 64, "%s", vals[0] ? vals[0] : "");
	return 0;
}

/* Process-wide SQLite settings, before its first use: no memory statistics
 * (they put a global mutex around every allocation of every connection). */
static void sq_global_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int sq_conn_open(struct db *db, struct db_conn *c, struct err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	sqlite3 *h = NULL;
	char mode[64] = "";
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int rc;

	pthread_once(&once, sq_global_init);
	if (c->writer)
		flags |= SQLITE_OPEN_CREATE;
	c->priv = xcalloc(1, sizeof(struct sq_cache));
	rc = sqlite3_open_v2(db->target, &h, flags, NULL);
	c->handle = h;
	if (rc != SQLITE_OK) {
		rc = db_fail(e, ERR_UNAVAILABLE, "sqlite open %s: %s", db->target,
			     h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(h, 1);
	sqlite3_busy_timeout(h, db->opt.busy_timeout_ms);
	rc = sq_script(c,
		       c->writer ? "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; "
				   "PRAGMA cache_size = " SQ_WRITER_CACHE_KIB ";"
				 : "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; "
				   "PRAGMA cache_size = " SQ_READER_CACHE_KIB ";",
		       e);
	if (rc < 0)
		goto out;
	if (c->writer) {
		if (sqlite3_exec(h, "PRAGMA journal_mode = WAL", sq_first_cb, mode, NULL) != SQLITE_OK) {
			rc = sq_fail(h, sqlite3_extended_errcode(h), e);
			goto out;
		}
		if (strcmp(mode, "wal") != 0 && strcmp(db->target, ":memory:") != 0)
			log_warn("msg=\"sqlite journal_mode is not wal\" mode=%s", mode);
	} else {
		rc = sq_script(c, "PRAGMA query_only = ON;", e);
		if (rc < 0)
			goto out;
	}
out:
	return rc;
}

static void sq_conn_close(struct db_conn *c)
{
	struct sq_cache *cache = c->priv;
	int i;

	if (cache) {
		for (i = 0; i < SQ_CACHE; i++) {
			if (!cache->e[i].sql)
				continue;
			sqlite3_finalize(cache->e[i].st);
			free(cache->e[i].sql);
		}
		free(cache);
	}
	if (c->handle && sqlite3_close(c->handle) != SQLITE_OK)
		log_error("msg=\"sqlite close failed\" detail=\"%s\"", sqlite3_errmsg(c->handle));
	c->handle = NULL;
	c->priv = NULL;
}

static int sq_conn_check(struct db_conn *c, struct err *e)
{
	if (!c->handle)
		return db_fail(e, ERR_UNAVAILABLE, "sqlite connection is closed");
	return 0;
}

/* ---- checkpointer ---- */

/* WAL hook of the writer: after each commit, with the WAL's size in pages. */
static int sq_wal_hook(void *arg, sqlite3 *h, const char *dbname, int frames)
{
	struct sq_ckpt *k = arg;
	int logged = 0, done = 0;

	if (frames >= SQ_CKPT_HARD) {
		/* The checkpointer fell behind: catch up here (PASSIVE; SQLITE_BUSY
		 * when the checkpointer is at it right now, which is fine). */
		sqlite3_wal_checkpoint_v2(h, dbname, SQLITE_CHECKPOINT_PASSIVE, &logged, &done);
		return SQLITE_OK;
	}
	pthread_mutex_lock(&k->mu);
	k->wal_frames = frames;
	if (frames >= k->kick_at && !k->kick) {
		k->kick = true;
		pthread_cond_signal(&k->cond);
	}
	pthread_mutex_unlock(&k->mu);
	return SQLITE_OK;
}

/* One PASSIVE checkpoint: copies what it can of the WAL into the database
 * file and syncs it, never waiting for the writer or a reader. *logged = the
 * WAL's size, *left = its pages not yet in the file (-1 on error). */
static void sq_ckpt_once(struct sq_ckpt *k, int *logged, int *left)
{
	int done = 0, src;

	*logged = 0;
	src = sqlite3_wal_checkpoint_v2(k->h, NULL, SQLITE_CHECKPOINT_PASSIVE, logged, &done);
	if (src != SQLITE_OK && src != SQLITE_BUSY)
		log_warn("msg=\"sqlite checkpoint failed\" rc=%d detail=\"%s\"", src, sqlite3_errmsg(k->h));
	*left = src == SQLITE_OK && *logged >= done ? *logged - done : -1;
}

static void sq_ckpt_final(void *arg)
{
	int logged, left;

	sq_ckpt_once(arg, &logged, &left);
}

/* Copy the WAL into the database file while writers go on. Once the WAL is
 * large (or the database idle), also start it over: only a WAL
 * checkpointed to its very end is reused from its beginning by the next
 * write transaction, which under a steady stream of commits a concurrent
 * checkpoint never reaches; so the last few pages are copied with the
 * writer held (no group open), a pause of a few milliseconds taken once
 * per SQ_WAL_RESTART_FRAMES pages rather than at every checkpoint. */
static void sq_ckpt_run(struct sq_ckpt *k, bool idle)
{
	struct err e;
	int64_t now;
	int logged = 0, left = -1, i;

	/* Each pass copies what the writer added during the previous one:
	 * the rest left for the pause shrinks to what arrives during one sync. */
	for (i = 0; i < SQ_CKPT_PASSES; i++) {
		sq_ckpt_once(k, &logged, &left);
		if (left >= 0 && left <= SQ_CKPT_REST)
			break;
	}
	now = time_mono_ms_sq();
	pthread_mutex_lock(&k->mu);
	k->kick_at = logged + SQ_CKPT_FRAMES;
	pthread_mutex_unlock(&k->mu);
	if (!idle && logged < SQ_WAL_RESTART_FRAMES)
		return;
	if (now - k->restart_ms < SQ_RESTART_GAP_MS)
		return; /* readers kept the last restart from happening: not in a loop */
	k->restart_ms = now;
	err_clear(&e);
	if (dbg_exclusive(k->db, sq_ckpt_final, k, &e) < 0) {
		log_warn("msg=\"sqlite checkpoint could not take the writer\" detail=\"%s\"", e.detail);
		return;
	}
	pthread_mutex_lock(&k->mu);
	k->kick_at = SQ_CKPT_FRAMES; /* the WAL starts over at the next commit */
	pthread_mutex_unlock(&k->mu);
}

static void *sq_ckpt_main(void *arg)
{
	struct sq_ckpt *k = arg;
	struct timespec deadline;
	bool idle = false;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		if (!k->kick) {
			db_deadline(&deadline, SQ_CKPT_IDLE_MS);
			if (pthread_cond_timedwait(&k->cond, &k->mu, &deadline) == ETIMEDOUT && k->wal_frames > 0) {
				k->kick = true;
				idle = true;
			}
			continue;
		}
		k->kick = false;
		k->wal_frames = 0;
		pthread_mutex_unlock(&k->mu);
		sq_ckpt_run(k, idle);
		idle = false;
		pthread_mutex_lock(&k->mu);
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

static void sq_db_stop(struct db *db)
{
	struct sq_ckpt *k = db->bpriv;

	if (!k)
		return;
	if (db->conns[0].handle)
		sqlite3_wal_hook(db->conns[0].handle, NULL, NULL);
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->th, NULL);
	sqlite3_close(k->h);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->mu);
	free(k);
	db->bpriv = NULL;
}

static int sq_db_start(struct db *db, struct err *e)
{
	struct sq_ckpt *k;
	pthread_condattr_t ca;
	sqlite3 *h = NULL;
	int rc;

	if (strcmp(db->target, ":memory:") == 0)
		return 0;
	rc = sqlite3_open_v2(db->target, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(e, ERR_UNAVAILABLE, "sqlite open %s (checkpointer): %s", db->target,
			     h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return rc;
	}
	sqlite3_busy_timeout(h, db->opt.busy_timeout_ms);
	/* FULL: a checkpoint syncs the database file before the WAL is reused. */
	if (sqlite3_exec(h, "PRAGMA synchronous = FULL;", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sq_fail(h, sqlite3_extended_errcode(h), e);
		sqlite3_close(h);
		return rc;
	}
	k = xcalloc(1, sizeof(*k));
	k->db = db;
	k->h = h;
	k->kick_at = SQ_CKPT_FRAMES;
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&k->th, NULL, sq_ckpt_main, k) != 0) {
		pthread_cond_destroy(&k->cond);
		pthread_mutex_destroy(&k->mu);
		sqlite3_close(h);
		free(k);
		return db_fail(e, ERR_INTERNAL, "cannot start the sqlite checkpointer thread");
	}
	db->bpriv = k;
	/* Replaces SQLite's own autocheckpoint on the writer. */
	sqlite3_wal_hook(db->conns[0].handle, sq_wal_hook, k);
	return 0;
}

static int sq_backup(struct db_conn *c, const char *path, struct err *e)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	bool created = false;
	int fd, rc = 0, src;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return err_set(e, ERR_CONFLICT, "path", "backup file already exists");
		int saved = errno;

		err_set(e, ERR_INVALID, "path", "cannot create backup file");
		return err_detail(e, "%s: %s", path, strerror(saved));
	}
	close(fd);
	created = true;
	src = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (src != SQLITE_OK) {
		rc = sq_fail(dst, src, e);
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", c->handle, "main");
	if (!b) {
		rc = sq_fail(dst, sqlite3_extended_errcode(dst), e);
		goto out;
	}
	src = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (src != SQLITE_DONE) {
		rc = sq_fail(dst, src, e);
		goto out;
	}
	/* A backup is one self-contained file: leave WAL mode. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sq_fail(dst, sqlite3_extended_errcode(dst), e);
		goto out;
	}
out:
	if (dst)
		sqlite3_close(dst);
	if (rc < 0 && created)
		unlink(path);
	return rc;
}

int db_verify_file(const char *path, struct err *e)
{
	sqlite3 *h = NULL;
	struct stat stb;
	char first[64] = "";
	char count[64] = "";
	char *msg = NULL;
	int rc = 0;

	if (!path || stat(path, &stb) != 0 || !S_ISREG(stb.st_mode)) {
		rc = err_set(e, ERR_INVALID, "path", "database file not found");
		err_detail(e, "%s", path ? path : "(null)");
		goto out;
	}
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = err_set(e, ERR_INVALID, "path", "cannot open database file");
		err_detail(e, "%s", h ? sqlite3_errmsg(h) : "out of memory");
		goto out;
	}
	if (sqlite3_exec(h, "PRAGMA integrity_check", sq_first_cb, first, &msg) != SQLITE_OK) {
		rc = err_set(e, ERR_INVALID, "path", "not a readable SQLite database");
		err_detail(e, "%s", msg ? msg : sqlite3_errmsg(h));
		goto out;
	}
	if (strcmp(first, "ok") != 0) {
		rc = err_set(e, ERR_INVALID, "path", "database integrity check failed");
		err_detail(e, "%s", first);
		goto out;
	}
	if (sqlite3_exec(h,
			 "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
			 "name = 'schema_migrations'",
			 sq_first_cb, count, &msg) != SQLITE_OK ||
	    strcmp(count, "1") != 0) {
		rc = err_set(e, ERR_INVALID, "path", "not a clinicledger database (no schema_migrations)");
		err_detail(e, "%s", msg ? msg : path);
		goto out;
	}
out:
	sqlite3_free(msg);
	if (h)
		sqlite3_close(h);
	return rc;
}

const struct db_ops db_sqlite_ops = {
	.kind = DB_SQLITE,
	.name = "sqlite",
	.conn_open = sq_conn_open,
	.conn_close = sq_conn_close,
	.conn_check = sq_conn_check,
	.tx_open = sq_tx_open,
	.deferred_violations = sq_deferred_violations,
	.run = sq_run,
	.script = sq_script,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.backup = sq_backup,
	.db_start = sq_db_start,
	.db_stop = sq_db_stop,
};
