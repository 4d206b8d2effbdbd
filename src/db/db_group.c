/*
 * db_group.c - the SQLite writer: sessions, a FIFO hand-off and group commit.
 *
 * SQLite has one writer connection (db->conns[0]). Every db_acquire(DB_WRITE)
 * gets its own session (struct db_conn with session set) and takes the
 * writer in arrival order; waiters sleep on their own condition variable, so
 * a hand-off wakes exactly one thread.
 *
 * Group commit. Concurrent write transactions share one SQLite transaction
 * and one fsync:
 *   - db_begin opens the group's BEGIN IMMEDIATE when none is open, then a
 *     SAVEPOINT for this member;
 *   - db_commit RELEASEs the savepoint. If other sessions wait for the writer
 *     and the group is within its bounds (members, age), the writer is handed
 *     to the next waiter WITHOUT committing and this member sleeps until the
 *     group's COMMIT; otherwise this member is the leader: it COMMITs (one
 *     fsync for everyone), gives every sleeping member the outcome, and
 *     passes the writer on. db_commit therefore returns only once the
 *     member's work is durable, or with an error when it is not: a failed
 *     COMMIT fails every member.
 *   - db_rollback is ROLLBACK TO + RELEASE of the member's savepoint: only
 *     its own work is undone, the group goes on.
 *   - a statement error is confined to the statement (SQLite's statement
 *     journal); should SQLite roll the whole transaction back (I/O error,
 *     disk full), every sleeping member is failed and the member that saw
 *     it may only roll back.
 *   - a statement run outside db_begin is a member of its own (implicit
 *     begin/commit), so it is durable on return like before.
 *   - whoever gives the writer up while a group is open with nobody waiting
 *     commits it first: an open group always has a holder or a successor.
 * A member's reads see the earlier members' uncommitted writes; members
 * run one at a time, so the group is a serial schedule. Readers (their own
 * connections) see a group's writes only once it committed, as every
 * member is still waiting then, no client has seen them earlier.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/db_backend.h"

#define SP_BEGIN    "SAVEPOINT cl_member"
#define SP_RELEASE  "RELEASE cl_member"
#define SP_ROLLBACK "ROLLBACK TO cl_member"

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A statement without parameters or rows on the writer s holds. */
static int sg_exec(struct db_conn *s, const char *sql, struct err *e)
{
	return s->db->ops->run(s, sql, NULL, 0, NULL, NULL, e);
}

static void sg_attach(struct db_conn *s)
{
	struct db_conn *w = &s->db->conns[0];

	s->handle = w->handle;
	s->priv = w->priv;
	s->holds = true;
}

static void sg_detach(struct db_conn *s)
{
	s->handle = NULL;
	s->priv = NULL;
	s->holds = false;
}

/* Pass the writer to the first waiter, or mark it free. Caller holds mu and
 * the writer; afterwards s no longer does. */
static void sg_pass_locked(struct db_conn *s)
{
	struct db *db = s->db;
	struct db_wwait *w = db->wq_head;

	sg_detach(s);
	if (w) {
		db->wq_head = w->next;
		if (!db->wq_head)
			db->wq_tail = NULL;
		w->next = NULL;
		w->granted = true;
		pthread_cond_signal(&w->cond);
		return;
	}
	db->w_busy = false;
	db->in_use--;
}

/* Take the writer for s, waiting in FIFO order up to acquire_timeout_ms. */
static int sg_take(struct db_conn *s, struct err *e)
{
	struct db *db = s->db;
	struct db_wwait w;
	struct timespec deadline;
	pthread_condattr_t ca;
	int rc = 0;

	pthread_mutex_lock(&db->mu);
	if (!db->w_busy && !db->wq_head) {
		db->w_busy = true;
		db->in_use++;
		sg_attach(s);
		pthread_mutex_unlock(&db->mu);
		return 0;
	}
	memset(&w, 0, sizeof(w));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (db->wq_tail)
		db->wq_tail->next = &w;
	else
		db->wq_head = &w;
	db->wq_tail = &w;
	db->waiting++;
	if (db->w_lingering)
		pthread_cond_signal(&db->w_arrive);
	db_deadline(&deadline, db->opt.acquire_timeout_ms);
	while (!w.granted) {
		if (pthread_cond_timedwait(&w.cond, &db->mu, &deadline) == ETIMEDOUT && !w.granted) {
			struct db_wwait **pp = &db->wq_head, *prev = NULL;

			while (*pp && *pp != &w) {
				prev = *pp;
				pp = &(*pp)->next;
			}
			if (*pp)
				*pp = w.next;
			if (db->wq_tail == &w)
				db->wq_tail = prev;
			db->acquire_timeouts++;
			rc = db_fail(e, ERR_UNAVAILABLE, "no free write connection within %d ms",
				     db->opt.acquire_timeout_ms);
			break;
		}
	}
	db->waiting--;
	if (rc == 0)
		sg_attach(s); /* w_busy and in_use carried over from the previous holder */
	pthread_mutex_unlock(&db->mu);
	pthread_cond_destroy(&w.cond);
	return rc;
}

/* Close the open group with outcome rc/err: every sleeping member is given
 * it and woken. Caller holds mu. */
static void sg_close_group_locked(struct db *db, int rc, const struct err *err)
{
	struct db_gwait *w = db->g_waiters, *next;

	for (; w; w = next) {
		next = w->next;
		w->rc = rc;
		if (rc < 0)
			w->err = *err;
		w->done = true;
		if (w->cond)
			pthread_cond_signal(w->cond);
	}
	if (rc == 0) {
		db->g_commits++;
		db->g_committed += (uint64_t)db->g_members;
	}
	db->g_waiters = NULL;
	db->g_open = false;
	db->g_members = 0;
	pthread_cond_broadcast(&db->g_cond);
}

/* The leader's COMMIT of the open group on the writer s holds. Returns the
 * outcome, which every sleeping member receives too. */
static int sg_commit_group(struct db_conn *s, struct err *e)
{
	struct db *db = s->db;
	int rc;

	rc = db->ops->commit(s, e);
	if (rc < 0) {
		log_error("msg=\"group commit failed; every member fails\" members=%d detail=\"%s\"", db->g_members,
			  e->detail);
		db->ops->rollback(s);
	}
	pthread_mutex_lock(&db->mu);
	sg_close_group_locked(db, rc, e);
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* SQLite rolled the whole transaction back under a member (I/O error, disk
 * full, ...): nothing of the group is durable; fail its sleeping members. */
static void sg_group_lost(struct db_conn *s, const struct err *cause)
{
	struct db *db = s->db;
	struct err e;

	db_fail(&e, ERR_UNAVAILABLE, "group transaction rolled back by SQLite: %s", cause->detail);
	log_error("msg=\"group transaction lost; every member fails\" members=%d detail=\"%s\"", db->g_members,
		  cause->detail);
	pthread_mutex_lock(&db->mu);
	sg_close_group_locked(db, ERR_UNAVAILABLE, &e);
	pthread_mutex_unlock(&db->mu);
}

/* May the member committing now leave the group open for a successor? */
static bool sg_can_extend_locked(const struct db *db)
{
	return db->wq_head && db->g_members < db->opt.group_max_members &&
	       mono_us() - db->g_start_us < (int64_t)db->opt.group_max_us;
}

/* Nobody queues for the writer, but the group already batched members (so
 * there is concurrency): wait up to group_linger_us, within the group's age
 * bound, for one more to arrive. A commit costs far more than the wait, and
 * without it groups formed by bursts of arrivals stay small. Caller holds mu
 * and the writer. */
static void sg_linger_locked(struct db *db)
{
	struct timespec deadline;
	int64_t now = mono_us(), until;

	if (db->wq_head || db->wi_head || db->g_members < 2 || db->opt.group_linger_us <= 0 ||
	    db->g_members >= db->opt.group_max_members)
		return;
	until = now + db->opt.group_linger_us;
	if (until > db->g_start_us + db->opt.group_max_us)
		until = db->g_start_us + db->opt.group_max_us;
	if (until <= now)
		return;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += (long)(until - now) * 1000L;
	while (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	db->w_lingering = true;
	while (!db->wq_head && !db->wi_head)
		if (pthread_cond_timedwait(&db->w_arrive, &db->mu, &deadline) == ETIMEDOUT)
			break;
	db->w_lingering = false;
}

/* Give up the writer s holds (no member open). An open group is handed on
 * with the writer when someone waits and it is within bounds, else it is
 * committed here first. */
static void sg_put(struct db_conn *s)
{
	struct db *db = s->db;
	struct err e;

	if (!s->holds)
		return;
	pthread_mutex_lock(&db->mu);
	if (db->g_open && !sg_can_extend_locked(db)) {
		pthread_mutex_unlock(&db->mu);
		err_clear(&e);
		sg_commit_group(s, &e);
		pthread_mutex_lock(&db->mu);
	}
	sg_pass_locked(s);
	pthread_mutex_unlock(&db->mu);
}

/* ---- members: the steps shared by sessions and combined work ---- */

/* Open this member on the writer s holds: the group's BEGIN IMMEDIATE when
 * no group is open, then the member's savepoint. */
static int sg_member_begin(struct db_conn *s, struct err *e)
{
	struct db *db = s->db;
	int rc;

	if (!db->g_open) {
		rc = sg_exec(s, "BEGIN IMMEDIATE", e);
		if (rc < 0)
			return rc;
		pthread_mutex_lock(&db->mu);
		db->g_open = true;
		db->g_members = 0;
		db->g_start_us = mono_us();
		pthread_mutex_unlock(&db->mu);
	}
	rc = sg_exec(s, SP_BEGIN, e);
	if (rc < 0) {
		if (!db->ops->tx_open(s))
			sg_group_lost(s, e);
		return rc;
	}
	s->in_tx = true;
	return 0;
}

/* Undo this member's work only (or forget a member whose group was lost). */
static void sg_member_undo(struct db_conn *s)
{
	struct db *db = s->db;
	struct err e;

	if (s->aborted) {
		s->aborted = false;
		s->in_tx = false;
		return;
	}
	if (!s->in_tx)
		return;
	s->in_tx = false;
	err_clear(&e);
	if (sg_exec(s, SP_ROLLBACK, &e) < 0 || sg_exec(s, SP_RELEASE, &e) < 0) {
		/* The member's work could not be undone alone: undo the whole
		 * group rather than commit it. */
		log_error("msg=\"member rollback failed; rolling back the group\" detail=\"%s\"", e.detail);
		db->ops->rollback(s);
		sg_group_lost(s, &e);
	}
}

/* Release the member's savepoint: its work is now part of the group. On
 * failure the member is undone (or the group was lost). */
static int sg_member_release(struct db_conn *s, struct err *e)
{
	struct db *db = s->db;
	int rc;

	if (s->aborted) {
		sg_member_undo(s);
		return db_fail(e, ERR_DB, "the transaction was rolled back by the database");
	}
	if (!s->in_tx)
		return db_fail(e, ERR_DB, "db_commit: no transaction open");
	if (db->ops->deferred_violations && db->ops->deferred_violations(s)) {
		/* Earlier members left none (they were checked too): this one's. */
		sg_member_undo(s);
		return db_fail(e, ERR_INVALID, "deferred foreign key constraint violated");
	}
	rc = sg_exec(s, SP_RELEASE, e);
	if (rc < 0) {
		if (!db->ops->tx_open(s)) {
			sg_group_lost(s, e);
			s->in_tx = false;
		} else {
			sg_member_undo(s);
		}
		return rc;
	}
	s->in_tx = false;
	return 0;
}

/* A statement inside a member; a failure that took SQLite's transaction
 * with it fails the group. */
static int sg_member_run(struct db_conn *s, const char *sql, const struct db_param *params, size_t nparams,
			 int64_t *affected, struct db_rows **rows, struct err *e)
{
	int rc = s->db->ops->run(s, sql, params, nparams, affected, rows, e);

	if (rc < 0 && !s->db->ops->tx_open(s)) {
		sg_group_lost(s, e);
		s->aborted = true;
	}
	return rc;
}

/* ---- sessions (db_acquire(DB_WRITE)) ---- */

int dbg_acquire(struct db *db, struct db_conn **out, struct err *e)
{
	struct db_conn *s = xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	s->db = db;
	s->writer = true;
	s->in_use = true;
	s->session = true;
	rc = sg_take(s, e);
	if (rc == 0)
		rc = db->ops->conn_check(s, e);
	if (rc < 0) {
		sg_put(s);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void dbg_release(struct db_conn *s)
{
	if (s->combined) {
		log_error("msg=\"db_release inside db_write ignored\"");
		return;
	}
	if (s->in_tx || s->aborted)
		dbg_rollback(s);
	sg_put(s);
	free(s);
}

int dbg_exclusive(struct db *db, void (*fn)(void *arg), void *arg, struct err *e)
{
	struct db_conn s;
	struct err ge;
	int rc;

	memset(&s, 0, sizeof(s));
	s.db = db;
	s.writer = true;
	s.in_use = true;
	s.session = true;
	rc = sg_take(&s, e);
	if (rc < 0)
		return rc;
	if (db->g_open) {
		err_clear(&ge);
		sg_commit_group(&s, &ge);
	}
	fn(arg);
	sg_put(&s);
	return 0;
}

int dbg_begin(struct db_conn *s, struct err *e)
{
	int rc;

	if (s->in_tx || s->aborted || s->combined)
		return db_fail(e, ERR_DB, "db_begin: transaction already open");
	if (!s->holds && (rc = sg_take(s, e)) < 0)
		return rc;
	rc = sg_member_begin(s, e);
	if (rc < 0)
		sg_put(s);
	return rc;
}

int dbg_commit(struct db_conn *s, struct err *e)
{
	struct db *db = s->db;
	struct db_gwait w;
	int rc;

	if (s->combined)
		return db_fail(e, ERR_DB, "db_commit inside db_write (the caller commits)");
	rc = sg_member_release(s, e);
	if (rc < 0) {
		sg_put(s);
		return rc;
	}
	pthread_mutex_lock(&db->mu);
	db->g_members++;
	sg_linger_locked(db);
	if (sg_can_extend_locked(db)) {
		/* Follower: the next waiter carries the group on; sleep until
		 * whoever commits it reports the outcome. */
		memset(&w, 0, sizeof(w));
		w.next = db->g_waiters;
		db->g_waiters = &w;
		sg_pass_locked(s);
		while (!w.done)
			pthread_cond_wait(&db->g_cond, &db->mu);
		pthread_mutex_unlock(&db->mu);
		if (w.rc < 0)
			*e = w.err;
		return w.rc;
	}
	pthread_mutex_unlock(&db->mu);
	rc = sg_commit_group(s, e);
	sg_put(s);
	return rc;
}

void dbg_rollback(struct db_conn *s)
{
	if (s->combined) {
		log_error("msg=\"db_rollback inside db_write ignored (return an error instead)\"");
		return;
	}
	if (!s->in_tx && !s->aborted)
		return;
	sg_member_undo(s);
	sg_put(s);
}

int dbg_run(struct db_conn *s, const char *sql, const struct db_param *params, size_t nparams, int64_t *affected,
	    struct db_rows **rows, struct err *e)
{
	struct db_rows *r = NULL;
	int rc;

	if (s->aborted)
		return db_fail(e, ERR_DB, "transaction was rolled back by the database; roll back");
	if (s->in_tx)
		return sg_member_run(s, sql, params, nparams, affected, rows, e);
	/* Outside a transaction: a member of its own. */
	rc = dbg_begin(s, e);
	if (rc < 0)
		return rc;
	rc = sg_member_run(s, sql, params, nparams, affected, rows ? &r : NULL, e);
	if (rc < 0) {
		dbg_rollback(s);
		return rc;
	}
	rc = dbg_commit(s, e);
	if (rc < 0) {
		db_rows_free(r);
		if (affected)
			*affected = 0;
		return rc;
	}
	if (rows)
		*rows = r;
	return 0;
}

int dbg_script(struct db_conn *s, const char *sql, struct err *e)
{
	struct db *db = s->db;
	int rc;

	if (s->aborted)
		return db_fail(e, ERR_DB, "transaction was rolled back by the database; roll back");
	if (s->in_tx) {
		rc = db->ops->script(s, sql, e);
		if (rc < 0 && !db->ops->tx_open(s)) {
			sg_group_lost(s, e);
			s->aborted = true;
		}
		return rc;
	}
	/* Outside a transaction a script may manage transactions itself: close
	 * the open group first, then run it alone. */
	if (!s->holds && (rc = sg_take(s, e)) < 0)
		return rc;
	if (db->g_open) {
		struct err ge;

		err_clear(&ge);
		sg_commit_group(s, &ge);
	}
	rc = db->ops->script(s, sql, e);
	if (db->ops->tx_open(s)) {
		log_error("msg=\"script left a transaction open; rolled back\"");
		db->ops->rollback(s);
		if (rc == 0)
			rc = db_fail(e, ERR_DB, "script left a transaction open");
	}
	sg_put(s);
	return rc;
}

/* ---- db_write: combined work ---- */

/* Finish item it with rc/err without it joining a group. Caller holds mu. */
static void sg_item_fail_locked(struct db_witem *it, int rc, const struct err *err)
{
	it->gw.rc = rc;
	it->gw.err = *err;
	it->gw.done = true;
	pthread_cond_signal(&it->cond);
}

/* Run one queued item as a member of the group on the writer s holds. It
 * joins the group's waiters, or is finished at once when it failed. */
static void sg_run_item(struct db_conn *s, struct db_witem *it)
{
	struct db *db = s->db;
	int rc;

	err_clear(it->e);
	rc = sg_member_begin(s, it->e);
	if (rc == 0) {
		rc = it->fn(s, it->arg, it->e);
		if (rc > 0) /* not an err code: a bug in fn */
			rc = db_fail(it->e, ERR_INTERNAL, "db_write callback returned %d", rc);
		if (rc == 0)
			rc = sg_member_release(s, it->e);
		else
			sg_member_undo(s);
	}
	pthread_mutex_lock(&db->mu);
	if (rc < 0) {
		sg_item_fail_locked(it, rc, it->e);
	} else {
		db->g_members++;
		it->gw.next = db->g_waiters;
		db->g_waiters = &it->gw;
	}
	pthread_mutex_unlock(&db->mu);
}

/* The combiner: take the writer once and run queued items back to back in
 * one group (no hand-off, no context switch per member), starting with the
 * combiner's own (always first in the queue), until the queue is empty
 * (after lingering) or the group is full; commit it, then pass the role to
 * the next queued item. */
static void sg_combine(struct db *db)
{
	struct db_conn s;
	struct db_witem *it;
	struct err te;
	bool full;
	int rc;

	memset(&s, 0, sizeof(s));
	s.db = db;
	s.writer = true;
	s.in_use = true;
	s.session = true;
	s.combined = true;
	err_clear(&te);
	rc = sg_take(&s, &te);
	pthread_mutex_lock(&db->mu);
	if (rc < 0) {
		/* Everyone queued would wait as long: fail them all. */
		while ((it = db->wi_head)) {
			db->wi_head = it->next;
			sg_item_fail_locked(it, rc, &te);
		}
		db->wi_tail = NULL;
		db->combining = false;
		pthread_mutex_unlock(&db->mu);
		return;
	}
	for (;;) {
		if (!db->wi_head && db->g_open)
			sg_linger_locked(db);
		it = db->wi_head;
		if (!it)
			break;
		db->wi_head = it->next;
		if (!db->wi_head)
			db->wi_tail = NULL;
		pthread_mutex_unlock(&db->mu);
		sg_run_item(&s, it);
		pthread_mutex_lock(&db->mu);
		full = db->g_open && (db->g_members >= db->opt.group_max_members ||
				      mono_us() - db->g_start_us >= (int64_t)db->opt.group_max_us);
		if (full) {
			/* self ran first, so this commit settles it: pass the
			 * role on rather than make self's caller wait longer. */
			pthread_mutex_unlock(&db->mu);
			err_clear(&te);
			sg_commit_group(&s, &te);
			pthread_mutex_lock(&db->mu);
			break;
		}
	}
	pthread_mutex_unlock(&db->mu);
	sg_put(&s); /* commits the group, or hands it to a waiting session */
	pthread_mutex_lock(&db->mu);
	if (db->wi_head) {
		db->wi_head->lead = true;
		pthread_cond_signal(&db->wi_head->cond);
	} else {
		db->combining = false;
	}
	pthread_mutex_unlock(&db->mu);
}

int dbg_write(struct db *db, int (*fn)(struct db_conn *c, void *arg, struct err *e), void *arg, struct err *e)
{
	struct db_witem it;

	memset(&it, 0, sizeof(it));
	it.fn = fn;
	it.arg = arg;
	it.e = e;
	it.gw.cond = &it.cond;
	pthread_cond_init(&it.cond, NULL);
	pthread_mutex_lock(&db->mu);
	if (db->wi_tail)
		db->wi_tail->next = &it;
	else
		db->wi_head = &it;
	db->wi_tail = &it;
	if (!db->combining) {
		db->combining = true;
		it.lead = true;
	} else if (db->w_lingering) {
		pthread_cond_signal(&db->w_arrive);
	}
	while (!it.gw.done && !it.lead)
		pthread_cond_wait(&it.cond, &db->mu);
	if (!it.gw.done) {
		pthread_mutex_unlock(&db->mu);
		sg_combine(db);
		pthread_mutex_lock(&db->mu);
		while (!it.gw.done)
			pthread_cond_wait(&it.cond, &db->mu);
	}
	pthread_mutex_unlock(&db->mu);
	pthread_cond_destroy(&it.cond);
	if (it.gw.rc < 0 && e != &it.gw.err)
		*e = it.gw.err;
	return it.gw.rc;
}
