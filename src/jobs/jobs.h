/*
 * jobs.h - the durable job queue: a table in the database, worker threads
 * that claim and run its rows, and a scheduler for periodic maintenance.
 *
 * THE TABLE (sql/{sqlite,pgsql}/0003_jobs.sql)
 *   jobs(id, tenant_id, kind, payload, state, attempts, max_attempts, run_at,
 *        locked_by, locked_until, last_error, dedupe_key UNIQUE, created_at,
 *        updated_at, finished_at), indexed on (state, run_at) and
 *        (tenant_id, state, created_at).
 *
 * TENANTS. Every job belongs to a tenant: work done for a tenant (a DTE to
 *   submit, a webhook to deliver) carries that tenant's id. Maintenance that
 *   concerns no single tenant (purges, the audit chain check over all
 *   tenants) carries the literal tenant id JOBS_TENANT_GLOBAL ("-"), which
 *   no real tenant can have (tenant ids are UUIDs). Tenants do not see
 *   global jobs: GET /api/jobs shows only rows of the caller's own tenant,
 *   so an admin sees their own tenant's work and nothing else.
 *
 * LIFE OF A JOB
 *   queued --claim--> running --ok--> succeeded
 *                        |  \--error, attempts < max--> failed (run_at = now + backoff) --claim--> running
 *                        \--error, attempts >= max, or unknown kind--> dead
 *   failed and dead jobs go back to queued through POST /api/jobs/:id/retry
 *   (attempts reset to 0). A running job whose lease (locked_until) has
 *   passed is claimed again by any worker: that is how a job survives the
 *   death of its worker or of its whole server (crash recovery). A job
 *   reclaimed after it has already used all its attempts goes dead without
 *   running again.
 *
 * GUARANTEES
 *   - jobs_enqueue runs in the caller's write transaction: the job exists if
 *     and only if the business write committed.
 *   - A dedupe_key makes enqueuing idempotent: a second enqueue with the same
 *     key leaves the first job as it is (whatever its state) and is not an
 *     error.
 *   - At-least-once execution: a handler may run again after a crash or an
 *     expired lease, so handlers are idempotent (check before acting, use
 *     upstream idempotency keys). A handler runs outside any transaction;
 *     its own writes use their own transactions.
 *   - Several server processes can share one queue: on PostgreSQL the claim
 *     uses FOR UPDATE SKIP LOCKED; on SQLite the single writer connection
 *     serialises claims.
 *   - The scheduler enqueues each occurrence of a schedule with dedupe_key
 *     "sched:<name>:<slot>", slot = floor(now / period_s): exactly one run
 *     per occurrence however many schedulers run.
 *
 * TIMEOUTS. job_type.timeout_s is the lease: a worker holds a job until
 *   claim time + timeout_s; past that another worker may take it. A handler
 *   must finish within it (pass shorter timeouts to network calls). Threads
 *   are not killed.
 *
 * BACKOFF. After failed attempt n (1-based) the job waits a uniformly random
 *   delay in [0, min(backoff_max_s, backoff_base_s * 2^(n-1))] ("full
 *   jitter", random bytes from crypto_random).
 *
 * last_error is the failing handler's client-safe err.message (never its
 *   detail, which goes to the log only).
 */
#ifndef CL_JOBS_JOBS_H
#define CL_JOBS_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"
#include "mod/audit/audit.h"

struct app;
struct jobs;

#define JOBS_TENANT_GLOBAL	  "-"  /* tenant id of global maintenance jobs */
#define JOBS_KIND_MAX		  63   /* bytes of a kind name */
#define JOBS_DEDUPE_MAX		  255  /* bytes of a dedupe key */
#define JOBS_DEFAULT_MAX_ATTEMPTS 5    /* when a type says 0 */
#define JOBS_DEFAULT_TIMEOUT_S	  300  /* lease when a type says 0 */
#define JOBS_POLL_MS		  200  /* idle worker poll interval */
#define JOBS_SCHED_TICK_MS	  5000 /* scheduler wake-up interval */
#define JOBS_ERROR_MAX		  255  /* bytes of last_error kept */

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_SUCCEEDED, JOB_FAILED, JOB_DEAD, JOB_STATE_COUNT };

/* "queued" | "running" | "succeeded" | "failed" | "dead". Static storage. */
const char *jobs_state_name(enum job_state s);
/* Name -> state; -1 when unknown. */
int jobs_state_parse(const char *name);

/* What a handler gets: one claimed job. All fields belong to the worker. */
struct job {
	char id[37];
	char tenant_id[37];
	char kind[64];
	json_t *payload; /* borrowed from the worker for the call (never NULL) */
	int attempts;	 /* this run's number, 1-based */
	int max_attempts;
};

/* One kind of job. The handler returns 0 (done: succeeded) or a negative
 * err code with e filled (failed: retried with backoff until max_attempts,
 * then dead). Zero fields take the defaults above; backoff_base_s 0 means
 * retry at once. */
struct job_type {
	const char *kind;
	int (*run)(struct app *app, const struct job *job, struct err *e);
	int max_attempts;
	int backoff_base_s;
	int backoff_max_s;
	int timeout_s;
};

/* A periodic job: kind is enqueued once per period_s (3600 hourly, 86400
 * daily) for JOBS_TENANT_GLOBAL with payload {"slot": N} and dedupe_key
 * "sched:<name>:<N>", N = floor(now / period_s). */
struct job_schedule {
	const char *name;
	const char *kind;
	int period_s;
};

/* THE tables of the server (job_types.c). Borrowed, static. */
const struct job_type *job_types_table(size_t *n);
const struct job_schedule *job_schedules_table(size_t *n);
/* Entry of kind in types[0..n), or NULL. Borrowed. */
const struct job_type *jobs_find_type(const struct job_type *types, size_t n, const char *kind);

/* Enqueue a job inside the caller's OPEN WRITE TRANSACTION on c.
 * tenant_id: the tenant concerned, or JOBS_TENANT_GLOBAL; never "".
 * payload: borrowed, may be NULL ({}); stored as compact JSON.
 * dedupe_key: NULL or a key; when a job with that key exists, nothing is
 * inserted and id_out gets the existing job's id.
 * delay_s >= 0: run_at = now + delay_s. id_out (may be NULL) gets the id.
 * max_attempts is taken from the server's job table (default when the kind
 * is not there; the worker's table decides at run time).
 * Bad input -> ERR_INVALID; database errors as db.h. */
int jobs_enqueue(struct db_conn *c, const char *tenant_id, const char *kind, json_t *payload, const char *dedupe_key,
		 int64_t delay_s, char id_out[37], struct err *e);

/* Claim one due job (queued or failed with run_at <= now, or running with
 * an expired lease) and run it synchronously with the handler of its kind
 * from types[0..ntypes), then record the outcome. *ran = 1 when a job was
 * claimed (whatever its outcome), 0 when none was due. worker_id is stored
 * in locked_by. Returns an error only when the database failed; a failing
 * handler is the job's outcome, not an error of this call. Uses app->db. */
int jobs_run_once(struct app *app, const struct job_type *types, size_t ntypes, const char *worker_id, int *ran,
		  struct err *e);

/* One scheduler pass at time now_s: for each schedule enqueue the current
 * slot's job (deduplicated, one transaction per schedule). *enqueued (may be
 * NULL) gets how many jobs were newly inserted. Uses app->db. */
int jobs_schedule_tick(struct app *app, const struct job_schedule *sched, size_t nsched, int64_t now_s, int *enqueued,
		       struct err *e);

/* The random delay after failed attempt `attempts` (1-based) of type t, and
 * its upper bound min(max, base * 2^(attempts-1)). */
int64_t jobs_backoff_cap_s(const struct job_type *t, int attempts);
int64_t jobs_backoff_s(const struct job_type *t, int attempts);

/* Start `workers` (>= 0) worker threads and, when nsched > 0, one scheduler
 * thread. app, types and sched are borrowed and must outlive jobs_stop.
 * *out is owned: release with jobs_stop. */
int jobs_start(struct app *app, const struct job_type *types, size_t ntypes, const struct job_schedule *sched,
	       size_t nsched, int workers, struct jobs **out, struct err *e);
/* Signal every thread, let each finish its running job, join them and free
 * j. NULL is a no-op. */
void jobs_stop(struct jobs *j);
/* Wake an idle worker now (call after committing a transaction that
 * enqueued). NULL is a no-op (no workers in this process). */
void jobs_notify(struct jobs *j);

/* Number of jobs in each state (indexed by enum job_state) over all tenants,
 * for the /metrics gauges. */
int jobs_counts(struct db *db, int64_t counts[JOB_STATE_COUNT], struct err *e);

/* A job as the API shows it. Timestamps "" when NULL. */
struct job_info {
	char id[37];
	char kind[64];
	char state[16];
	int attempts;
	int max_attempts;
	char run_at[32];
	char last_error[JOBS_ERROR_MAX + 1]; /* "" when none */
	bool has_last_error;
	char created_at[32];
	char updated_at[32];
	char finished_at[32];
};

/* One page of tenant_id's jobs, newest first. state (NULL = any; must be a
 * state name) and kind (NULL = any) filter. *items is owned (free()),
 * *n its length, *total the count over all pages. */
int jobs_list(struct db *db, const char *tenant_id, const char *state, const char *kind, int page, int limit,
	      struct job_info **items, size_t *n, int64_t *total, struct err *e);

/* Put a failed or dead job of actor->tenant_id back in the queue: state
 * queued, run_at now, attempts 0, last_error kept until the next run.
 * Audited as "job.retry" in the same transaction (reason may be NULL).
 * Unknown id or another tenant's job -> ERR_NOT_FOUND; any other state ->
 * ERR_CONFLICT named "INVALID_STATE" with the current state in the message.
 * *out (may be NULL) gets the job after the change. */
int jobs_retry(struct db *db, const struct actor *actor, const char *id, const char *reason, struct job_info *out,
	       struct err *e);

#endif
