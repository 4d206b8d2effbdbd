/*
 * tenants_http.c - GET and PUT /api/v1/tenant: the caller's own tenant.
 *
 * PUT is a partial update: absent members keep their value; settings are
 * merged member by member (null removes one) and validated whole. The DTE
 * flow's own settings (settings.dte) are checked by the DTE module's rule
 * (dte_settings_check) here, at the edge, so the tenants module does not
 * depend on the modules that read its settings.
 */
#include "app.h"
#include "core/jsonv.h"
#include "http/handlers.h"
#include "mod/dte/dte.h"
#include "mod/tenants/tenants.h"

static const char *const kinds[] = {"clinic", "hospital", "lab", NULL};

static const struct jv_field update_fields[] = {
    {"name", JV_STRING, 0, 1, 127, NULL, 0},	{"kind", JV_STRING, 0, 1, 15, kinds, 0},
    {"timeZone", JV_STRING, 0, 1, 63, NULL, 0}, {"currency", JV_STRING, 0, 3, 3, NULL, 0},
    {"country", JV_STRING, 0, 2, 2, NULL, 0},	{"settings", JV_OBJECT, 0, 0, 0, NULL, 0},
};

HANDLER(tenants_http_get_current)
{
	struct db_conn *c = NULL;
	struct tenant t;
	int rc;

	if ((rc = db_acquire(ctx->app->db, DB_READ, &c, e)))
		return rc;
	rc = tenants_get(c, ctx->who.tenant_id, &t, e);
	db_release(c);
	if (rc)
		return rc;
	resp->data = tenant_to_json(&t);
	tenant_release(&t);
	return 0;
}

HANDLER(tenants_http_update_current)
{
	struct db_conn *c = NULL;
	struct tenant t;
	json_t *body;
	int rc;

	if ((rc = http_json_body(ctx->req, false, &body, e)))
		return rc;
	if ((rc = jv_check(body, update_fields, sizeof(update_fields) / sizeof(update_fields[0]), "", e)))
		return rc;
	if ((rc = dte_settings_check(json_object_get(json_object_get(body, "settings"), "dte"), "settings.dte", e)))
		return rc;
	if ((rc = db_acquire(ctx->app->db, DB_WRITE, &c, e)))
		return rc;
	if ((rc = db_begin(c, e)))
		goto out;
	if ((rc = tenants_update(c, &ctx->actor, ctx->who.tenant_id, body, &t, e)))
		goto out;
	if ((rc = db_commit(c, e))) {
		tenant_release(&t);
		goto out;
	}
	resp->data = tenant_to_json(&t);
	tenant_release(&t);
out:
	db_release(c);
	return rc;
}
