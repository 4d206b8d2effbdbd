/*
 * job_types.c - THE job table and THE schedule table, and the handlers of
 * the periodic maintenance jobs.
 *
 * A kind's row says how to run it (handler), how often to try (max_attempts),
 * how long to wait between tries (backoff base and cap, full jitter) and how
 * long a run may hold its lease (timeout_s). Modules add their kinds here
 * ("dte.submit", "webhook.deliver", ...). The maintenance jobs run for the
 * global tenant JOBS_TENANT_GLOBAL and touch every tenant's rows of their
 * table; they are idempotent, so a second run of a slot does no harm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "jobs/jobs.h"
#include "jobs/jobs_repo.h"
#include "mod/audit/audit.h"
#include "mod/billing/billing.h"
#include "mod/dte/dte.h"
#include "mod/fiscal/fiscal.h"
#include "mod/stripe/stripe.h"

#define SESSIONS_KEEP_S	   (7 * 86400)	/* expired or revoked sessions kept this long */
#define IDEMPOTENCY_KEEP_S 86400	/* Idempotency-Key replay window */
#define JOBS_KEEP_S	   (30 * 86400) /* succeeded jobs kept this long */
/* outgoing webhook delivery log and events: far beyond webhook.deliver's
 * retries (5 tries, minutes apart); a dead delivery retried by hand later
 * than this finds its event gone and fails with that reason */
#define WEBHOOK_LOG_KEEP_S (90 * 86400)
/* Stripe event ids: Stripe retries a webhook for up to 3 days */
#define STRIPE_EVENTS_KEEP_S (30 * 86400)

/* One write transaction running a purge with cutoff = now - keep_s. */
static int run_purge(struct app *app, const struct job *job,
		     int (*fn)(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e), int64_t keep_s,
		     const char *table, struct err *e)
{
	struct db_conn *c = NULL;
	char cutoff[TIME_ISO_LEN + 1];
	int64_t deleted = 0;
	int rc;

	time_iso(time_now_s() - keep_s, cutoff);
	rc = db_acquire(app->db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = fn(c, cutoff, &deleted, e);
	if (rc == 0)
		rc = db_commit(c, e);
	db_release(c);
	if (rc == 0)
		log_info("msg=\"purge done\" job=%s kind=%s table=%s deleted=%lld cutoff=%s", job->id, job->kind, table,
			 (long long)deleted, cutoff);
	return rc;
}

static int sessions_purge(struct app *app, const struct job *job, struct err *e)
{
	return run_purge(app, job, jobs_repo_purge_sessions, SESSIONS_KEEP_S, "sessions", e);
}

static int idempotency_purge(struct app *app, const struct job *job, struct err *e)
{
	return run_purge(app, job, jobs_repo_purge_idempotency, IDEMPOTENCY_KEEP_S, "idempotency_keys", e);
}

static int jobs_purge(struct app *app, const struct job *job, struct err *e)
{
	return run_purge(app, job, jobs_repo_purge_jobs, JOBS_KEEP_S, "jobs", e);
}

static int webhooks_purge(struct app *app, const struct job *job, struct err *e)
{
	int rc = run_purge(app, job, jobs_repo_purge_webhook_log, WEBHOOK_LOG_KEEP_S,
			   "webhook_deliveries+webhook_events", e);

	return rc ? rc : run_purge(app, job, jobs_repo_purge_stripe_events, STRIPE_EVENTS_KEEP_S, "stripe_events", e);
}

#define AUDIT_FLAG_MAX 64 /* broken chains flagged to their tenants per run */

/* The broken chains seen by one verification run. */
struct audit_broken {
	size_t n;
	char tenant_id[AUDIT_FLAG_MAX][40];
	int64_t seq[AUDIT_FLAG_MAX];
};

static void audit_collect(const struct audit_verify_tenant *t, void *ud)
{
	struct audit_broken *b = ud;

	if (t->intact || b->n >= AUDIT_FLAG_MAX)
		return;
	snprintf(b->tenant_id[b->n], sizeof(b->tenant_id[b->n]), "%s", t->tenant_id);
	b->seq[b->n] = t->bad_seq;
	b->n++;
}

/* Make a broken chain visible to the tenant it belongs to: a dead
 * "audit.verify" job of that tenant (at most one per tenant per day), which
 * its admins see in GET /api/jobs and can retry to verify their chain
 * again. */
static void audit_flag_tenant(struct app *app, const char *tenant_id, int64_t seq)
{
	struct db_conn *c = NULL;
	struct err e;
	char id[UUID_LEN + 1], now[TIME_ISO_LEN + 1], key[128], msg[160], payload[64];
	int inserted = 0, rc;

	err_clear(&e);
	uuid_v4(id);
	time_now_iso(now);
	snprintf(key, sizeof(key), "audit.broken:%s:%lld", tenant_id, (long long)(time_now_s() / 86400));
	snprintf(msg, sizeof(msg), "audit chain broken at entry %lld", (long long)seq);
	snprintf(payload, sizeof(payload), "{\"seq\":%lld}", (long long)seq);
	rc = db_acquire(app->db, DB_WRITE, &c, &e);
	if (rc == 0) {
		rc = db_begin(c, &e);
		if (rc == 0)
			rc = jobs_repo_insert(c, id, tenant_id, "audit.verify", payload, "dead", 1, now, msg, key, now,
					      &inserted, &e);
		if (rc == 0)
			rc = db_commit(c, &e);
		db_release(c);
	}
	if (rc)
		log_warn("msg=\"could not flag the broken audit chain to its tenant\" tenant=%s detail=\"%s\"",
			 tenant_id, e.detail);
}

/* Verify every tenant's chain (the global job) or one tenant's (a tenant's
 * own job, e.g. retried from the API). A broken chain fails the job; the
 * global run also flags each broken chain to its tenant. */
static int audit_verify_job(struct app *app, const struct job *job, struct err *e)
{
	struct audit_verify_result res;
	struct audit_broken *broken;
	bool global = strcmp(job->tenant_id, JOBS_TENANT_GLOBAL) == 0;
	int rc;

	memset(&res, 0, sizeof(res));
	broken = xcalloc(1, sizeof(*broken));
	rc = audit_verify_each(app->db, global ? NULL : job->tenant_id, audit_collect, broken, &res, e);
	if (rc)
		goto out;
	if (res.broken == 0) {
		log_info("msg=\"audit chains intact\" job=%s tenants=%lld entries=%lld", job->id,
			 (long long)res.tenants, (long long)res.entries);
		goto out;
	}
	for (size_t i = 0; i < broken->n; i++) {
		log_error("msg=\"audit chain broken\" job=%s tenant=%s seq=%lld", job->id, broken->tenant_id[i],
			  (long long)broken->seq[i]);
		if (global)
			audit_flag_tenant(app, broken->tenant_id[i], broken->seq[i]);
	}
	rc = err_set(e, ERR_INTERNAL, NULL, "audit chain of tenant %s broken at entry %lld (%lld chains broken)",
		     res.first_bad_tenant, (long long)res.first_bad_seq, (long long)res.broken);
out:
	free(broken);
	return rc;
}

/* kind, handler, max_attempts, backoff_base_s, backoff_max_s, timeout_s */
static const struct job_type job_types[] = {
    {"sessions.purge", sessions_purge, 3, 60, 900, 300},
    {"idempotency.purge", idempotency_purge, 3, 60, 900, 300},
    {"jobs.purge", jobs_purge, 3, 60, 900, 300},
    {"webhooks.purge", webhooks_purge, 3, 60, 900, 300},
    {"audit.verify", audit_verify_job, 2, 300, 300, 3600},
    {"billing.overdue", billing_overdue_job, 3, 300, 3600, 3600},
    /* POST /v1/refunds with Idempotency-Key = the refund id: retries make one refund */
    {"stripe.refund", stripe_refund_job, 10, 2, 300, 120},
    /* one delivery attempt per job; the handler schedules the next attempt itself (fiscal.h) */
    {"webhook.deliver", fiscal_webhook_deliver_job, 5, 5, 300, 60},
    /* one DTE under MH's retry policy (the row counts its tries; 3 without answer -> contingency) */
    {"dte.submit", dte_submit_job, 30, 1, 30, 60},
    /* the evento de contingencia: retried with backoff until MH answers again */
    {"dte.contingency", dte_contingency_job, 40, 2, 30, 300},
    /* DTE work whose job died (dead job, lost lease) is enqueued again */
    {"dte.sweep", dte_sweep_job, 3, 60, 600, 300},
};

/* name, kind, period_s */
static const struct job_schedule job_schedules[] = {
    {"sessions.purge", "sessions.purge", 3600},
    {"idempotency.purge", "idempotency.purge", 3600},
    {"jobs.purge", "jobs.purge", 86400},
    {"webhooks.purge", "webhooks.purge", 86400},
    {"audit.verify", "audit.verify", 86400},
    {"billing.overdue", "billing.overdue", 86400},
    {"dte.sweep", "dte.sweep", 600},
};

const struct job_type *job_types_table(size_t *n)
{
	*n = sizeof(job_types) / sizeof(job_types[0]);
	return job_types;
}

const struct job_schedule *job_schedules_table(size_t *n)
{
	*n = sizeof(job_schedules) / sizeof(job_schedules[0]);
	return job_schedules;
}
