/*
 * jobs_repo.h - internal to src/jobs: every SQL statement of the queue.
 *
 * jobs.c, job_types.c and the unit test call these; nothing outside
 * src/jobs does. Each function runs on a connection the caller holds (and,
 * for writes, in the caller's transaction). Timestamps are the ISO-8601 text
 * of timeutil.h, compared as text (lexicographic order = time order).
 */
#ifndef CL_JOBS_JOBS_REPO_H
#define CL_JOBS_JOBS_REPO_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "jobs/jobs.h"

/* A claimed row. payload is owned: free() it. */
struct jobs_claimed {
	char id[37];
	char tenant_id[37];
	char kind[64];
	char *payload;
	int attempts;
	int max_attempts;
};

/* INSERT ... ON CONFLICT (dedupe_key) DO NOTHING. *inserted = 1 or 0.
 * last_error and dedupe_key may be NULL. */
int jobs_repo_insert(struct db_conn *c, const char *id, const char *tenant_id, const char *kind, const char *payload,
		     const char *state, int max_attempts, const char *run_at, const char *last_error,
		     const char *dedupe_key, const char *now, int *inserted, struct err *e);
/* Id of the job holding dedupe_key into id_out[37]; ERR_NOT_FOUND if none. */
int jobs_repo_id_by_dedupe(struct db_conn *c, const char *dedupe_key, char id_out[37], struct err *e);

/* Claim the next due job for worker_id with lease until lease_until.
 * *found = false when none is due. */
int jobs_repo_claim(struct db_conn *c, const char *worker_id, const char *now, const char *lease_until,
		    struct jobs_claimed *out, bool *found, struct err *e);
/* Move the lease of a job this worker holds. */
int jobs_repo_set_lease(struct db_conn *c, const char *id, const char *worker_id, const char *until, const char *now,
			struct err *e);
/* Record the outcome of a run held by worker_id: state "succeeded",
 * "failed" (run_at = next try) or "dead". last_error NULL clears it.
 * *affected = 0 when the worker no longer holds the job (lease lost). */
int jobs_repo_finish(struct db_conn *c, const char *id, const char *worker_id, const char *state, const char *run_at,
		     const char *last_error, int max_attempts, const char *now, int64_t *affected, struct err *e);

int jobs_repo_counts(struct db_conn *c, int64_t counts[JOB_STATE_COUNT], struct err *e);

/* GET /api/jobs: page of tenant_id's jobs (state/kind NULL = any). *items owned. */
int jobs_repo_list(struct db_conn *c, const char *tenant_id, const char *state, const char *kind, int limit,
		   int64_t offset, struct job_info **items, size_t *n, struct err *e);
int jobs_repo_count(struct db_conn *c, const char *tenant_id, const char *state, const char *kind, int64_t *total,
		    struct err *e);
/* One job of tenant_id; ERR_NOT_FOUND when absent or another tenant's. */
int jobs_repo_get(struct db_conn *c, const char *tenant_id, const char *id, struct job_info *out, struct err *e);
/* failed|dead -> queued, attempts 0, run_at now; *affected = 0 when the job
 * is in another state (or absent). */
int jobs_repo_requeue(struct db_conn *c, const char *tenant_id, const char *id, const char *now, int64_t *affected,
		      struct err *e);

/* Maintenance deletes (all tenants); *deleted = rows removed. */
int jobs_repo_purge_sessions(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e);
int jobs_repo_purge_idempotency(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e);
int jobs_repo_purge_jobs(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e);
/* Outgoing webhooks: delivery attempts older than cutoff, then events older
 * than cutoff that no delivery row references any more. */
int jobs_repo_purge_webhook_log(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e);
/* Stripe webhook events (the de-duplication record) received before cutoff. */
int jobs_repo_purge_stripe_events(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e);

#endif
