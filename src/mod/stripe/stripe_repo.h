/*
 * stripe_repo.h - the SQL of the Stripe module: the stripe_events table
 * (sql/{sqlite,pgsql}/0009_stripe.sql), one row per webhook event id.
 *
 * Event ids are global at Stripe, so the de-duplication look-up is by
 * event id alone: the one query of the module not filtered by tenant (the
 * event's tenant is what it is being looked up to find out), run only
 * after the webhook's signature has been verified.
 */
#ifndef CL_MOD_STRIPE_REPO_H
#define CL_MOD_STRIPE_REPO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

struct stripe_event_row {
	const char *event_id;
	const char *tenant_id; /* "-" when no tenant could be found */
	const char *type;
	const char *object_id; /* may be NULL */
	const char *outcome;   /* "processed" | "ignored" */
	const char *note;      /* may be NULL */
	bool livemode;
	int64_t event_created; /* Stripe's created (epoch s) */
	const char *received_at;
};

/* *seen = the event id is recorded already. */
int stripe_repo_event_seen(struct db_conn *c, const char *event_id, bool *seen, struct err *e);

/* Insert the row unless its event id exists (in the caller's write
 * transaction); *inserted = false when it existed. */
int stripe_repo_event_insert(struct db_conn *c, const struct stripe_event_row *r, bool *inserted, struct err *e);

#endif
