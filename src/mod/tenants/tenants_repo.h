/*
 * tenants_repo.h - the SQL of the tenants module (tenants_repo.c).
 *
 * Internal to src/mod/tenants. Settings travel as JSON text; the caller
 * validated them.
 */
#ifndef CL_TENANTS_TENANTS_REPO_H
#define CL_TENANTS_TENANTS_REPO_H

#include <stdint.h>

#include "db/db.h"
#include "mod/tenants/tenants.h"

/* Load by "id" or "slug" (by_slug != 0). Absent -> ERR_NOT_FOUND. */
int tenants_repo_get(struct db_conn *c, int by_slug, const char *value, struct tenant *t, struct err *e);
/* Insert t with settings_json (slug taken -> ERR_CONFLICT "slug"). */
int tenants_repo_insert(struct db_conn *c, const struct tenant *t, const char *settings_json, const char *updated_at,
			struct err *e);
/* Write name, kind, time_zone, currency, country, settings of t->id. */
int tenants_repo_update(struct db_conn *c, const struct tenant *t, const char *settings_json, const char *updated_at,
			struct err *e);
int tenants_repo_count(struct db_conn *c, int64_t *n, struct err *e);

#endif
