/*
 * jobs_sched.c - the scheduler pass: turn periodic schedules into jobs.
 *
 * Time is cut into slots of period_s seconds (slot = floor(now / period_s),
 * so hourly slots start on the hour and daily ones at 00:00 UTC). Each pass
 * enqueues the current slot's job of every schedule with dedupe_key
 * "sched:<name>:<slot>": the first scheduler to get there inserts it, every
 * later pass (of this or any other server) inserts nothing. A server that
 * was down for a whole slot does not catch up on it: the next slot's run
 * does the same maintenance.
 */
#include <stdio.h>

#include "app.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "jobs/jobs.h"
#include "jobs/jobs_repo.h"

static int enqueue_slot(struct db *db, const struct job_schedule *s, int64_t now_s, int *inserted, struct err *e)
{
	size_t ntypes = 0;
	const struct job_type *types = job_types_table(&ntypes);
	const struct job_type *t = jobs_find_type(types, ntypes, s->kind);
	int64_t slot = now_s / s->period_s;
	char key[JOBS_DEDUPE_MAX + 1], payload[48], id[UUID_LEN + 1], now[TIME_ISO_LEN + 1];
	struct db_conn *c = NULL;
	int rc;

	snprintf(key, sizeof(key), "sched:%s:%lld", s->name, (long long)slot);
	snprintf(payload, sizeof(payload), "{\"slot\":%lld}", (long long)slot);
	uuid_v4(id);
	time_iso(now_s, now);
	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = jobs_repo_insert(c, id, JOBS_TENANT_GLOBAL, s->kind, payload, "queued",
				      t && t->max_attempts > 0 ? t->max_attempts : JOBS_DEFAULT_MAX_ATTEMPTS, now, NULL,
				      key, now, inserted, e);
	if (rc == 0)
		rc = db_commit(c, e);
	db_release(c);
	if (rc == 0 && *inserted)
		log_info("msg=\"scheduled job enqueued\" schedule=%s kind=%s slot=%lld job=%s", s->name, s->kind,
			 (long long)slot, id);
	return rc;
}

int jobs_schedule_tick(struct app *app, const struct job_schedule *sched, size_t nsched, int64_t now_s, int *enqueued,
		       struct err *e)
{
	int count = 0, first_rc = 0;

	for (size_t i = 0; i < nsched; i++) {
		struct err se;
		int inserted = 0, rc;

		if (sched[i].period_s <= 0)
			continue;
		err_clear(&se);
		rc = enqueue_slot(app->db, &sched[i], now_s, &inserted, &se);
		if (rc) {
			log_warn("msg=\"schedule not enqueued\" schedule=%s code=%s detail=\"%s\"", sched[i].name,
				 err_code_name(rc), se.detail);
			if (first_rc == 0) {
				first_rc = rc;
				*e = se;
			}
			continue;
		}
		count += inserted;
	}
	if (enqueued)
		*enqueued = count;
	return first_rc;
}
