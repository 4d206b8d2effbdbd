/* stripe_repo.c - SQL of the Stripe module (stripe_events). See stripe_repo.h. */
#include "mod/stripe/stripe_repo.h"

#include <stddef.h>

int stripe_repo_event_seen(struct db_conn *c, const char *event_id, bool *seen, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(event_id)};
	int64_t n = 0;
	int rc;

	rc = db_query_int(c, "SELECT COUNT(*) FROM stripe_events WHERE event_id = ?", p, DB_NPARAMS(p), &n, e);
	*seen = rc == 0 && n > 0;
	return rc;
}

int stripe_repo_event_insert(struct db_conn *c, const struct stripe_event_row *r, bool *inserted, struct err *e)
{
	struct db_param p[] = {
	    DBP_TEXT(r->event_id),	  DBP_TEXT(r->tenant_id),    DBP_TEXT(r->type),
	    DBP_TEXT(r->object_id),	  DBP_TEXT(r->outcome),	     DBP_TEXT(r->note),
	    DBP_INT(r->livemode ? 1 : 0), DBP_INT(r->event_created), DBP_TEXT(r->received_at),
	};
	int64_t affected = 0;
	int rc;

	rc = db_exec(c,
		     "INSERT INTO stripe_events (event_id, tenant_id, type, object_id, outcome, note, livemode, "
		     "event_created, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
		     p, DB_NPARAMS(p), &affected, e);
	*inserted = rc == 0 && affected > 0;
	return rc;
}
