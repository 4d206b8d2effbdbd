/*
 * jobs.c - the job queue: enqueue, claim-run-record, worker threads, and the
 * queries behind GET /api/jobs and POST /api/jobs/:id/retry.
 *
 * A worker's cycle is jobs_run_once: claim one due job in a short write
 * transaction, run its handler with no transaction open, then record the
 * outcome in a second short transaction guarded by "still mine" (state
 * running and locked_by = this worker), so a worker whose lease expired and
 * whose job was taken over cannot overwrite the newer run's result. Idle
 * workers sleep JOBS_POLL_MS on a condition variable that jobs_notify
 * signals. The scheduler thread calls jobs_schedule_tick (jobs_sched.c)
 * every JOBS_SCHED_TICK_MS.
 */
#include "jobs/jobs.h"

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
#include "crypto/crypto.h"
#include "jobs/jobs_repo.h"

static const char *const state_names[JOB_STATE_COUNT] = {"queued", "running", "succeeded", "failed", "dead"};

const char *jobs_state_name(enum job_state s)
{
	return (s >= 0 && s < JOB_STATE_COUNT) ? state_names[s] : "unknown";
}

int jobs_state_parse(const char *name)
{
	for (int i = 0; name && i < JOB_STATE_COUNT; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

const struct job_type *jobs_find_type(const struct job_type *types, size_t n, const char *kind)
{
	for (size_t i = 0; kind && i < n; i++)
		if (strcmp(types[i].kind, kind) == 0)
			return &types[i];
	return NULL;
}

static int type_max_attempts(const struct job_type *t)
{
	return t && t->max_attempts > 0 ? t->max_attempts : JOBS_DEFAULT_MAX_ATTEMPTS;
}

static int type_timeout_s(const struct job_type *t)
{
	return t && t->timeout_s > 0 ? t->timeout_s : JOBS_DEFAULT_TIMEOUT_S;
}

/* A kind is a short dotted name: [a-z0-9._-]. */
static bool kind_valid(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;

	if (n == 0 || n > JOBS_KIND_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = kind[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

int jobs_enqueue(struct db_conn *c, const char *tenant_id, const char *kind, json_t *payload, const char *dedupe_key,
		 int64_t delay_s, char id_out[37], struct err *e)
{
	size_t ntypes = 0;
	const struct job_type *types = job_types_table(&ntypes);
	char id[UUID_LEN + 1], now[TIME_ISO_LEN + 1], run_at[TIME_ISO_LEN + 1];
	char *text = NULL;
	int inserted = 0;
	int64_t now_s;
	int rc;

	if (!tenant_id || tenant_id[0] == '\0' || strlen(tenant_id) > 36)
		return err_set(e, ERR_INVALID, "tenantId", "tenant id is required");
	if (!kind_valid(kind))
		return err_set(e, ERR_INVALID, "kind", "job kind must be 1-%d characters of a-z0-9._-", JOBS_KIND_MAX);
	if (dedupe_key && (dedupe_key[0] == '\0' || strlen(dedupe_key) > JOBS_DEDUPE_MAX))
		return err_set(e, ERR_INVALID, "dedupeKey", "dedupe key must be 1-%d bytes", JOBS_DEDUPE_MAX);
	if (delay_s < 0 || delay_s > 10LL * 366 * 86400)
		return err_set(e, ERR_INVALID, "delay", "job delay out of range");
	text = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (payload && !text)
		return err_set(e, ERR_INVALID, "payload", "job payload is not serialisable");
	uuid_v4(id);
	now_s = time_now_s();
	time_iso(now_s, now);
	time_iso(now_s + delay_s, run_at);
	rc = jobs_repo_insert(c, id, tenant_id, kind, text ? text : "{}", "queued",
			      type_max_attempts(jobs_find_type(types, ntypes, kind)), run_at, NULL, dedupe_key, now,
			      &inserted, e);
	if (rc)
		goto out;
	if (!inserted) {
		rc = jobs_repo_id_by_dedupe(c, dedupe_key, id, e);
		if (rc)
			goto out;
	}
	if (id_out)
		memcpy(id_out, id, sizeof(id));
out:
	free(text);
	return rc;
}

int64_t jobs_backoff_cap_s(const struct job_type *t, int attempts)
{
	int64_t base = t->backoff_base_s > 0 ? t->backoff_base_s : 0;
	int64_t max = t->backoff_max_s > 0 ? t->backoff_max_s : base;
	int64_t cap = base;

	for (int i = 1; i < attempts && cap < max; i++)
		cap *= 2;
	return cap < max ? cap : max;
}

int64_t jobs_backoff_s(const struct job_type *t, int attempts)
{
	int64_t cap = jobs_backoff_cap_s(t, attempts);
	uint64_t r;

	if (cap <= 0)
		return 0;
	crypto_random(&r, sizeof(r));
	return (int64_t)(r % (uint64_t)(cap + 1));
}

/* Run f-with-transaction boilerplate: one write transaction around a finish. */
static int record_outcome(struct db *db, const char *id, const char *worker_id, const char *state, const char *run_at,
			  const char *last_error, int max_attempts, struct err *e)
{
	struct db_conn *c = NULL;
	char now[TIME_ISO_LEN + 1], msg[JOBS_ERROR_MAX + 1];
	int64_t affected = 0;
	int rc;

	if (last_error)
		snprintf(msg, sizeof(msg), "%s", last_error);
	time_now_iso(now);
	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc)
		goto out;
	rc =
	    jobs_repo_finish(c, id, worker_id, state, run_at, last_error ? msg : NULL, max_attempts, now, &affected, e);
	if (rc)
		goto out;
	rc = db_commit(c, e);
	if (rc == 0 && affected == 0)
		log_warn("msg=\"job lease lost before its outcome was recorded\" job=%s worker=%s state=%s", id,
			 worker_id, state);
out:
	db_release(c);
	return rc;
}

int jobs_run_once(struct app *app, const struct job_type *types, size_t ntypes, const char *worker_id, int *ran,
		  struct err *e)
{
	struct jobs_claimed cl = {0};
	const struct job_type *t;
	struct db_conn *c = NULL;
	char now[TIME_ISO_LEN + 1], until[TIME_ISO_LEN + 1], run_at[TIME_ISO_LEN + 1];
	const char *state = "succeeded", *last_error = NULL;
	struct err je;
	json_error_t jerr;
	json_t *payload = NULL;
	int64_t now_s, lease_s = 0, t0;
	bool found = false;
	int rc, max;

	*ran = 0;
	for (size_t i = 0; i < ntypes; i++)
		if (type_timeout_s(&types[i]) > lease_s)
			lease_s = type_timeout_s(&types[i]);
	if (lease_s == 0)
		lease_s = JOBS_DEFAULT_TIMEOUT_S;
	now_s = time_now_s();
	time_iso(now_s, now);
	time_iso(now_s + lease_s, until);

	rc = db_acquire(app->db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = jobs_repo_claim(c, worker_id, now, until, &cl, &found, e);
	if (rc == 0)
		rc = db_commit(c, e);
	db_release(c);
	c = NULL;
	if (rc || !found)
		goto out;
	*ran = 1;

	t = jobs_find_type(types, ntypes, cl.kind);
	max = t ? type_max_attempts(t) : cl.max_attempts;
	if (!t || !t->run) {
		state = "dead";
		last_error = "unknown job kind";
		log_error("msg=\"job of unknown kind\" job=%s kind=%s", cl.id, cl.kind);
		goto record;
	}
	if (cl.attempts > max) {
		/* Reclaimed from a dead worker after its last allowed attempt. */
		state = "dead";
		last_error = "job interrupted (worker stopped) and no attempts are left";
		log_error("msg=\"job abandoned after its last attempt\" job=%s kind=%s attempts=%d", cl.id, cl.kind,
			  cl.attempts);
		goto record;
	}
	payload = json_loads(cl.payload, JSON_DECODE_ANY, &jerr);
	if (!payload) {
		state = "dead";
		last_error = "job payload is not valid JSON";
		log_error("msg=\"job payload unreadable\" job=%s kind=%s", cl.id, cl.kind);
		goto record;
	}
	if (type_timeout_s(t) < lease_s) {
		struct err le;

		err_clear(&le);
		time_iso(now_s + type_timeout_s(t), until);
		if (db_acquire(app->db, DB_WRITE, &c, &le) == 0) {
			if (jobs_repo_set_lease(c, cl.id, worker_id, until, now, &le) != 0)
				log_warn("msg=\"job lease not shortened\" job=%s detail=\"%s\"", cl.id, le.detail);
			db_release(c);
			c = NULL;
		}
	}

	{
		struct job job;
		int hrc;

		memset(&job, 0, sizeof(job));
		memcpy(job.id, cl.id, sizeof(job.id));
		memcpy(job.tenant_id, cl.tenant_id, sizeof(job.tenant_id));
		memcpy(job.kind, cl.kind, sizeof(job.kind));
		job.payload = payload;
		job.attempts = cl.attempts;
		job.max_attempts = max;
		err_clear(&je);
		t0 = time_mono_ms();
		hrc = t->run(app, &job, &je);
		if (hrc == 0) {
			log_info("msg=\"job succeeded\" job=%s kind=%s tenant=%s attempt=%d duration_ms=%lld", cl.id,
				 cl.kind, cl.tenant_id, cl.attempts, (long long)(time_mono_ms() - t0));
			goto record;
		}
		last_error = je.message[0] ? je.message : "job failed";
		if (cl.attempts >= max) {
			state = "dead";
		} else {
			state = "failed";
			time_iso(time_now_s() + jobs_backoff_s(t, cl.attempts), run_at);
		}
		log_warn("msg=\"job %s\" job=%s kind=%s tenant=%s attempt=%d max_attempts=%d code=%s "
			 "error=\"%s\" detail=\"%s\" duration_ms=%lld",
			 state, cl.id, cl.kind, cl.tenant_id, cl.attempts, max, err_code_name(hrc), je.message,
			 je.detail, (long long)(time_mono_ms() - t0));
	}
record:
	rc = record_outcome(app->db, cl.id, worker_id, state, strcmp(state, "failed") == 0 ? run_at : NULL, last_error,
			    max, e);
out:
	if (payload)
		json_decref(payload);
	free(cl.payload);
	return rc;
}

int jobs_counts(struct db *db, int64_t counts[JOB_STATE_COUNT], struct err *e)
{
	struct db_conn *c = NULL;
	int rc = db_acquire(db, DB_READ, &c, e);

	if (rc) {
		for (int i = 0; i < JOB_STATE_COUNT; i++)
			counts[i] = 0;
		return rc;
	}
	rc = jobs_repo_counts(c, counts, e);
	db_release(c);
	return rc;
}

int jobs_list(struct db *db, const char *tenant_id, const char *state, const char *kind, int page, int limit,
	      struct job_info **items, size_t *n, int64_t *total, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	*items = NULL;
	*n = 0;
	*total = 0;
	if (state && jobs_state_parse(state) < 0)
		return err_set(e, ERR_INVALID, "state",
			       "state must be one of queued, running, succeeded, failed, dead");
	if (kind && (kind[0] == '\0' || strlen(kind) > JOBS_KIND_MAX))
		return err_set(e, ERR_INVALID, "kind", "kind must be 1-%d characters", JOBS_KIND_MAX);
	if (page < 1 || limit < 1)
		return err_set(e, ERR_INVALID, page < 1 ? "page" : "limit", "page and limit must be positive");
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = jobs_repo_count(c, tenant_id, state, kind, total, e);
	if (rc == 0)
		rc = jobs_repo_list(c, tenant_id, state, kind, limit, (int64_t)(page - 1) * limit, items, n, e);
	db_release(c);
	return rc;
}

static json_t *info_json_brief(const struct job_info *j)
{
	return json_pack("{s:s, s:i, s:s?}", "state", j->state, "attempts", j->attempts, "lastError",
			 j->has_last_error ? j->last_error : NULL);
}

int jobs_retry(struct db *db, const struct actor *actor, const char *id, const char *reason, struct job_info *out,
	       struct err *e)
{
	struct db_conn *c = NULL;
	struct job_info before, after;
	char now[TIME_ISO_LEN + 1];
	json_t *bj = NULL, *aj = NULL;
	int64_t affected = 0;
	int rc;

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "job not found");
	time_now_iso(now);
	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc)
		goto out;
	rc = jobs_repo_get(c, actor->tenant_id, id, &before, e);
	if (rc)
		goto out;
	rc = jobs_repo_requeue(c, actor->tenant_id, id, now, &affected, e);
	if (rc)
		goto out;
	if (affected == 0) {
		rc = err_set(e, ERR_CONFLICT, "state", "job is %s; only failed or dead jobs can be retried",
			     before.state);
		err_name(e, "INVALID_STATE");
		goto out;
	}
	rc = jobs_repo_get(c, actor->tenant_id, id, &after, e);
	if (rc)
		goto out;
	bj = info_json_brief(&before);
	aj = info_json_brief(&after);
	rc = audit_record(c, actor, "job.retry", "job", id, bj, aj, reason, e);
	if (rc)
		goto out;
	rc = db_commit(c, e);
	if (rc == 0 && out)
		*out = after;
out:
	if (bj)
		json_decref(bj);
	if (aj)
		json_decref(aj);
	db_release(c);
	return rc;
}

/* ---- threads ---------------------------------------------------------- */

struct jobs_worker {
	struct jobs *j;
	int index;
	char id[128];
	pthread_t thread;
	bool started;
};

struct jobs {
	struct app *app;
	const struct job_type *types;
	size_t ntypes;
	const struct job_schedule *sched;
	size_t nsched;
	pthread_mutex_t mu;
	pthread_cond_t work_cond;  /* jobs_notify and stop */
	pthread_cond_t sched_cond; /* stop */
	atomic_bool stopping;
	unsigned long notify_seq; /* guarded by mu */
	struct jobs_worker *workers;
	int nworkers;
	pthread_t sched_thread;
	bool sched_started;
};

/* Wait on cond for at most ms (monotonic clock); called with j->mu held. */
static void cond_wait_ms(struct jobs *j, pthread_cond_t *cond, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(cond, &j->mu, &ts);
}

static void *worker_main(void *arg)
{
	struct jobs_worker *w = arg;
	struct jobs *j = w->j;

	while (!atomic_load(&j->stopping)) {
		struct err e;
		unsigned long seq;
		int ran = 0, rc;

		pthread_mutex_lock(&j->mu);
		seq = j->notify_seq;
		pthread_mutex_unlock(&j->mu);
		err_clear(&e);
		rc = jobs_run_once(j->app, j->types, j->ntypes, w->id, &ran, &e);
		if (rc)
			log_warn("msg=\"job worker: database error\" worker=%s code=%s detail=\"%s\"", w->id,
				 err_code_name(rc), e.detail);
		if (ran && rc == 0)
			continue;
		pthread_mutex_lock(&j->mu);
		if (!atomic_load(&j->stopping) && seq == j->notify_seq)
			cond_wait_ms(j, &j->work_cond, rc ? 1000 : JOBS_POLL_MS);
		pthread_mutex_unlock(&j->mu);
	}
	return NULL;
}

static void *sched_main(void *arg)
{
	struct jobs *j = arg;

	while (!atomic_load(&j->stopping)) {
		struct err e;
		int enqueued = 0;

		err_clear(&e);
		if (jobs_schedule_tick(j->app, j->sched, j->nsched, time_now_s(), &enqueued, &e) != 0)
			log_warn("msg=\"job scheduler: tick failed\" code=%s detail=\"%s\"", err_code_name(e.code),
				 e.detail);
		if (enqueued > 0)
			jobs_notify(j);
		pthread_mutex_lock(&j->mu);
		if (!atomic_load(&j->stopping))
			cond_wait_ms(j, &j->sched_cond, JOBS_SCHED_TICK_MS);
		pthread_mutex_unlock(&j->mu);
	}
	return NULL;
}

int jobs_start(struct app *app, const struct job_type *types, size_t ntypes, const struct job_schedule *sched,
	       size_t nsched, int workers, struct jobs **out, struct err *e)
{
	struct jobs *j;
	pthread_condattr_t ca;
	char host[64] = "host";
	int rc;

	*out = NULL;
	if (workers < 0 || workers > 256)
		return err_set(e, ERR_INVALID, "workers", "job workers must be 0-256");
	j = xcalloc(1, sizeof(*j));
	j->app = app;
	j->types = types;
	j->ntypes = ntypes;
	j->sched = sched;
	j->nsched = nsched;
	atomic_init(&j->stopping, false);
	pthread_mutex_init(&j->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->work_cond, &ca);
	pthread_cond_init(&j->sched_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	j->workers = xcalloc(workers > 0 ? (size_t)workers : 1, sizeof(*j->workers));
	for (int i = 0; i < workers; i++) {
		struct jobs_worker *w = &j->workers[i];

		w->j = j;
		w->index = i;
		snprintf(w->id, sizeof(w->id), "%s/%ld/w%d", host, (long)getpid(), i);
		rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc != 0) {
			err_set(e, ERR_INTERNAL, NULL, "cannot start job workers");
			err_detail(e, "pthread_create: %s", strerror(rc));
			jobs_stop(j);
			return ERR_INTERNAL;
		}
		w->started = true;
		j->nworkers = i + 1;
	}
	if (nsched > 0) {
		rc = pthread_create(&j->sched_thread, NULL, sched_main, j);
		if (rc != 0) {
			err_set(e, ERR_INTERNAL, NULL, "cannot start the job scheduler");
			err_detail(e, "pthread_create: %s", strerror(rc));
			jobs_stop(j);
			return ERR_INTERNAL;
		}
		j->sched_started = true;
	}
	log_info("msg=\"job queue started\" workers=%d kinds=%zu schedules=%zu", workers, ntypes, nsched);
	*out = j;
	return 0;
}

void jobs_stop(struct jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	atomic_store(&j->stopping, true);
	pthread_cond_broadcast(&j->work_cond);
	pthread_cond_broadcast(&j->sched_cond);
	pthread_mutex_unlock(&j->mu);
	for (int i = 0; i < j->nworkers; i++)
		if (j->workers[i].started)
			pthread_join(j->workers[i].thread, NULL);
	if (j->sched_started)
		pthread_join(j->sched_thread, NULL);
	pthread_cond_destroy(&j->work_cond);
	pthread_cond_destroy(&j->sched_cond);
	pthread_mutex_destroy(&j->mu);
	free(j->workers);
	free(j);
}

void jobs_notify(struct jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	j->notify_seq++;
	pthread_cond_signal(&j->work_cond);
	pthread_mutex_unlock(&j->mu);
}
