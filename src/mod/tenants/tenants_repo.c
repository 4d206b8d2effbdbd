/*
 * tenants_repo.c - reads and writes of the tenants table.
 *
 * settings is stored as compact JSON text with sorted keys; a row whose
 * settings do not parse (hand-edited database) loads as an empty object and
 * is logged, rather than failing every request of that tenant.
 */
#include "mod/tenants/tenants_repo.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

static void col(char *dst, size_t cap, const struct db_rows *r, size_t c)
{
	const char *s = db_rows_text(r, 0, c);

	snprintf(dst, cap, "%s", s ? s : "");
}

int tenants_repo_get(struct db_conn *c, int by_slug, const char *value, struct tenant *t, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(value)};
	struct db_rows *r = NULL;
	const char *settings;
	json_error_t jerr;
	int rc;

	rc =
	    db_query(c,
		     by_slug ? "SELECT id, name, slug, kind, time_zone, currency, country, settings, active, created_at"
			       " FROM tenants WHERE slug = ?"
			     : "SELECT id, name, slug, kind, time_zone, currency, country, settings, active, created_at"
			       " FROM tenants WHERE id = ?",
		     p, 1, &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		db_rows_free(r);
		return err_set(e, ERR_NOT_FOUND, NULL, "tenant not found");
	}
	memset(t, 0, sizeof(*t));
	col(t->id, sizeof(t->id), r, 0);
	col(t->name, sizeof(t->name), r, 1);
	col(t->slug, sizeof(t->slug), r, 2);
	col(t->kind, sizeof(t->kind), r, 3);
	col(t->time_zone, sizeof(t->time_zone), r, 4);
	col(t->currency, sizeof(t->currency), r, 5);
	col(t->country, sizeof(t->country), r, 6);
	settings = db_rows_text(r, 0, 7);
	t->settings = settings ? json_loads(settings, 0, &jerr) : NULL;
	if (!json_is_object(t->settings)) {
		if (settings)
			log_warn("msg=\"tenant settings unreadable; using {}\" tenant=%s", t->id);
		json_decref(t->settings);
		t->settings = json_object();
	}
	t->active = (int)db_rows_int(r, 0, 8);
	col(t->created_at, sizeof(t->created_at), r, 9);
	db_rows_free(r);
	return 0;
}

int tenants_repo_insert(struct db_conn *c, const struct tenant *t, const char *settings_json, const char *updated_at,
			struct err *e)
{
	struct db_param p[] = {
	    DBP_TEXT(t->id),	    DBP_TEXT(t->name),	     DBP_TEXT(t->slug),	   DBP_TEXT(t->kind),
	    DBP_TEXT(t->time_zone), DBP_TEXT(t->currency),   DBP_TEXT(t->country), DBP_TEXT(settings_json),
	    DBP_INT(t->active),	    DBP_TEXT(t->created_at), DBP_TEXT(updated_at),
	};
	int rc = db_exec(c,
			 "INSERT INTO tenants (id, name, slug, kind, time_zone, currency, country, settings, active,"
			 " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			 p, DB_NPARAMS(p), NULL, e);

	if (rc == ERR_CONFLICT)
		return err_set(e, ERR_CONFLICT, "slug", "a tenant with this slug already exists");
	return rc;
}

int tenants_repo_update(struct db_conn *c, const struct tenant *t, const char *settings_json, const char *updated_at,
			struct err *e)
{
	struct db_param p[] = {
	    DBP_TEXT(t->name),	  DBP_TEXT(t->kind),	   DBP_TEXT(t->time_zone), DBP_TEXT(t->currency),
	    DBP_TEXT(t->country), DBP_TEXT(settings_json), DBP_TEXT(updated_at),   DBP_TEXT(t->id),
	};
	int64_t n = 0;
	int rc = db_exec(c,
			 "UPDATE tenants SET name = ?, kind = ?, time_zone = ?, currency = ?, country = ?,"
			 " settings = ?, updated_at = ? WHERE id = ?",
			 p, DB_NPARAMS(p), &n, e);

	if (rc)
		return rc;
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "tenant not found");
	return 0;
}

int tenants_repo_count(struct db_conn *c, int64_t *n, struct err *e)
{
	return db_query_int(c, "SELECT COUNT(*) FROM tenants", NULL, 0, n, e);
}
