/*
 * jobs_repo.c - all SQL of the job queue (see jobs_repo.h).
 *
 * The claim is the one statement that differs by backend: PostgreSQL locks
 * the chosen row with FOR UPDATE SKIP LOCKED so concurrent claimers (threads
 * or whole servers) each take a different job; SQLite has one writer
 * connection, which already serialises claims. Queue-wide statements (the
 * claim, the counts, the maintenance purges) deliberately span tenants: they
 * are the queue's machinery, not tenant data access. Everything the API
 * reads or changes is filtered by the caller's tenant.
 */
#include "jobs/jobs_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define JOB_INFO_COLS                                                                                                  \
	"id, kind, state, attempts, max_attempts, run_at, last_error, created_at, updated_at, "                        \
	"finished_at"

static void copy_text(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

int jobs_repo_insert(struct db_conn *c, const char *id, const char *tenant_id, const char *kind, const char *payload,
		     const char *state, int max_attempts, const char *run_at, const char *last_error,
		     const char *dedupe_key, const char *now, int *inserted, struct err *e)
{
	static const char sql[] =
	    "INSERT INTO jobs (id, tenant_id, kind, payload, state, attempts, max_attempts, run_at, "
	    "last_error, dedupe_key, created_at, updated_at, finished_at) "
	    "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING";
	bool final = strcmp(state, "dead") == 0 || strcmp(state, "succeeded") == 0;
	struct db_param p[] = {
	    DBP_TEXT(id),	  DBP_TEXT(tenant_id),	 DBP_TEXT(kind),   DBP_TEXT(payload),
	    DBP_TEXT(state),	  DBP_INT(max_attempts), DBP_TEXT(run_at), DBP_TEXT(last_error),
	    DBP_TEXT(dedupe_key), DBP_TEXT(now),	 DBP_TEXT(now),	   DBP_TEXT(final ? now : NULL),
	};
	int64_t affected = 0;
	int rc = db_exec(c, sql, p, DB_NPARAMS(p), &affected, e);

	if (rc == 0)
		*inserted = affected > 0;
	return rc;
}

int jobs_repo_id_by_dedupe(struct db_conn *c, const char *dedupe_key, char id_out[37], struct err *e)
{
	struct db_param p[] = {DBP_TEXT(dedupe_key)};
	struct db_rows *r = NULL;
	int rc = db_query(c, "SELECT id FROM jobs WHERE dedupe_key = ?", p, DB_NPARAMS(p), &r, e);

	if (rc)
		return rc;
	if (db_rows_count(r) == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "job not found");
	else
		copy_text(id_out, 37, db_rows_text(r, 0, 0));
	db_rows_free(r);
	return rc;
}

int jobs_repo_claim(struct db_conn *c, const char *worker_id, const char *now, const char *lease_until,
		    struct jobs_claimed *out, bool *found, struct err *e)
{
	static const char sql_pg[] = "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?, "
				     "locked_until = ?, updated_at = ? WHERE id = (SELECT id FROM jobs "
				     "WHERE (state IN ('queued', 'failed') AND run_at <= ?) "
				     "OR (state = 'running' AND locked_until < ?) "
				     "ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
				     "RETURNING id, tenant_id, kind, payload, attempts, max_attempts";
	static const char sql_lite[] = "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?, "
				       "locked_until = ?, updated_at = ? WHERE id = (SELECT id FROM jobs "
				       "WHERE (state IN ('queued', 'failed') AND run_at <= ?) "
				       "OR (state = 'running' AND locked_until < ?) "
				       "ORDER BY run_at LIMIT 1) "
				       "RETURNING id, tenant_id, kind, payload, attempts, max_attempts";
	struct db_param p[] = {DBP_TEXT(worker_id), DBP_TEXT(lease_until), DBP_TEXT(now), DBP_TEXT(now), DBP_TEXT(now)};
	struct db_rows *r = NULL;
	int rc = db_query(c, db_conn_backend(c) == DB_PGSQL ? sql_pg : sql_lite, p, DB_NPARAMS(p), &r, e);

	*found = false;
	if (rc)
		return rc;
	if (db_rows_count(r) > 0) {
		memset(out, 0, sizeof(*out));
		copy_text(out->id, sizeof(out->id), db_rows_text(r, 0, 0));
		copy_text(out->tenant_id, sizeof(out->tenant_id), db_rows_text(r, 0, 1));
		copy_text(out->kind, sizeof(out->kind), db_rows_text(r, 0, 2));
		out->payload = xstrdup(db_rows_text(r, 0, 3) ? db_rows_text(r, 0, 3) : "{}");
		out->attempts = (int)db_rows_int(r, 0, 4);
		out->max_attempts = (int)db_rows_int(r, 0, 5);
		*found = true;
	}
	db_rows_free(r);
	return 0;
}

int jobs_repo_set_lease(struct db_conn *c, const char *id, const char *worker_id, const char *until, const char *now,
			struct err *e)
{
	struct db_param p[] = {DBP_TEXT(until), DBP_TEXT(now), DBP_TEXT(id), DBP_TEXT(worker_id)};

	return db_exec(c,
		       "UPDATE jobs SET locked_until = ?, updated_at = ? "
		       "WHERE id = ? AND state = 'running' AND locked_by = ?",
		       p, DB_NPARAMS(p), NULL, e);
}

int jobs_repo_finish(struct db_conn *c, const char *id, const char *worker_id, const char *state, const char *run_at,
		     const char *last_error, int max_attempts, const char *now, int64_t *affected, struct err *e)
{
	bool final = strcmp(state, "failed") != 0;
	struct db_param p[] = {
	    DBP_TEXT(state),	   DBP_TEXT(run_at),	DBP_TEXT(last_error),
	    DBP_INT(max_attempts), DBP_TEXT(now),	DBP_TEXT(final ? now : NULL),
	    DBP_TEXT(id),	   DBP_TEXT(worker_id),
	};

	return db_exec(c,
		       "UPDATE jobs SET state = ?, run_at = COALESCE(CAST(? AS TEXT), run_at), "
		       "last_error = ?, max_attempts = ?, locked_by = NULL, locked_until = NULL, "
		       "updated_at = ?, finished_at = ? "
		       "WHERE id = ? AND state = 'running' AND locked_by = ?",
		       p, DB_NPARAMS(p), affected, e);
}

int jobs_repo_counts(struct db_conn *c, int64_t counts[JOB_STATE_COUNT], struct err *e)
{
	struct db_rows *r = NULL;
	int rc = db_query(c, "SELECT state, COUNT(*) FROM jobs GROUP BY state", NULL, 0, &r, e);

	for (int i = 0; i < JOB_STATE_COUNT; i++)
		counts[i] = 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < db_rows_count(r); i++) {
		int s = jobs_state_parse(db_rows_text(r, i, 0));

		if (s >= 0)
			counts[s] = db_rows_int(r, i, 1);
	}
	db_rows_free(r);
	return 0;
}

static void row_to_info(const struct db_rows *r, size_t i, struct job_info *out)
{
	memset(out, 0, sizeof(*out));
	copy_text(out->id, sizeof(out->id), db_rows_text(r, i, 0));
	copy_text(out->kind, sizeof(out->kind), db_rows_text(r, i, 1));
	copy_text(out->state, sizeof(out->state), db_rows_text(r, i, 2));
	out->attempts = (int)db_rows_int(r, i, 3);
	out->max_attempts = (int)db_rows_int(r, i, 4);
	copy_text(out->run_at, sizeof(out->run_at), db_rows_text(r, i, 5));
	out->has_last_error = !db_rows_isnull(r, i, 6);
	copy_text(out->last_error, sizeof(out->last_error), db_rows_text(r, i, 6));
	copy_text(out->created_at, sizeof(out->created_at), db_rows_text(r, i, 7));
	copy_text(out->updated_at, sizeof(out->updated_at), db_rows_text(r, i, 8));
	copy_text(out->finished_at, sizeof(out->finished_at), db_rows_text(r, i, 9));
}

/* The filter shared by the list and its count: tenant, optional state, optional kind. */
#define LIST_WHERE                                                                                                     \
	" FROM jobs WHERE tenant_id = ? AND (CAST(? AS TEXT) IS NULL OR state = ?) "                                   \
	"AND (CAST(? AS TEXT) IS NULL OR kind = ?)"

int jobs_repo_list(struct db_conn *c, const char *tenant_id, const char *state, const char *kind, int limit,
		   int64_t offset, struct job_info **items, size_t *n, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(state), DBP_TEXT(state), DBP_TEXT(kind),
			       DBP_TEXT(kind),	    DBP_INT(limit),  DBP_INT(offset)};
	struct db_rows *r = NULL;
	int rc = db_query(c, "SELECT " JOB_INFO_COLS LIST_WHERE " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
			  p, DB_NPARAMS(p), &r, e);

	*items = NULL;
	*n = 0;
	if (rc)
		return rc;
	*n = db_rows_count(r);
	*items = xcalloc(*n ? *n : 1, sizeof(**items));
	for (size_t i = 0; i < *n; i++)
		row_to_info(r, i, &(*items)[i]);
	db_rows_free(r);
	return 0;
}

int jobs_repo_count(struct db_conn *c, const char *tenant_id, const char *state, const char *kind, int64_t *total,
		    struct err *e)
{
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(state), DBP_TEXT(state), DBP_TEXT(kind), DBP_TEXT(kind)};

	return db_query_int(c, "SELECT COUNT(*)" LIST_WHERE, p, DB_NPARAMS(p), total, e);
}

int jobs_repo_get(struct db_conn *c, const char *tenant_id, const char *id, struct job_info *out, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(id), DBP_TEXT(tenant_id)};
	struct db_rows *r = NULL;
	int rc =
	    db_query(c, "SELECT " JOB_INFO_COLS " FROM jobs WHERE id = ? AND tenant_id = ?", p, DB_NPARAMS(p), &r, e);

	if (rc)
		return rc;
	if (db_rows_count(r) == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "job not found");
	else
		row_to_info(r, 0, out);
	db_rows_free(r);
	return rc;
}

int jobs_repo_requeue(struct db_conn *c, const char *tenant_id, const char *id, const char *now, int64_t *affected,
		      struct err *e)
{
	struct db_param p[] = {DBP_TEXT(now), DBP_TEXT(now), DBP_TEXT(id), DBP_TEXT(tenant_id)};

	return db_exec(c,
		       "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, locked_by = NULL, "
		       "locked_until = NULL, finished_at = NULL, updated_at = ? "
		       "WHERE id = ? AND tenant_id = ? AND state IN ('failed', 'dead')",
		       p, DB_NPARAMS(p), affected, e);
}

int jobs_repo_purge_sessions(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(cutoff), DBP_TEXT(cutoff)};

	return db_exec(c,
		       "DELETE FROM sessions WHERE expires_at < ? "
		       "OR (revoked_at IS NOT NULL AND revoked_at < ?)",
		       p, DB_NPARAMS(p), deleted, e);
}

int jobs_repo_purge_idempotency(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(cutoff)};

	return db_exec(c, "DELETE FROM idempotency_keys WHERE created_at < ?", p, DB_NPARAMS(p), deleted, e);
}

int jobs_repo_purge_webhook_log(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(cutoff)};
	int64_t n = 0;
	int rc;

	*deleted = 0;
	if ((rc = db_exec(c, "DELETE FROM webhook_deliveries WHERE created_at < ?", p, DB_NPARAMS(p), &n, e)))
		return rc;
	*deleted += n;
	if ((rc = db_exec(c,
			  "DELETE FROM webhook_events WHERE created_at < ? AND NOT EXISTS "
			  "(SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)",
			  p, DB_NPARAMS(p), &n, e)))
		return rc;
	*deleted += n;
	return 0;
}

int jobs_repo_purge_stripe_events(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(cutoff)};

	return db_exec(c, "DELETE FROM stripe_events WHERE received_at < ?", p, DB_NPARAMS(p), deleted, e);
}

int jobs_repo_purge_jobs(struct db_conn *c, const char *cutoff, int64_t *deleted, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(cutoff)};

	return db_exec(c, "DELETE FROM jobs WHERE state = 'succeeded' AND finished_at < ?", p, DB_NPARAMS(p), deleted,
		       e);
}
