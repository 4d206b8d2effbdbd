/*
 * auth_http.c - the identity routes of the billing-service contract:
 * /api/v1/auth/{login,refresh,logout,me}, /api/v1/users, /api/v1/api-keys.
 *
 * JSON in, checked against a field table, handed to accounts.h; JSON out.
 * Token responses have the shape {accessToken, refreshToken, expiresIn,
 * tokenType:"Bearer", user:{id, email, fullName, role, tenantId,
 * permissions}}. Secrets appear only in the response that creates them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/ids.h"
#include "core/jsonv.h"
#include "core/mem.h"
#include "http/handlers.h"
#include "mod/auth/accounts.h"

#define LIST_DEFAULT_LIMIT 20
#define LIST_MAX_LIMIT	   100

/* ---- shared ---- */

static int write_begin(struct req_ctx *ctx, struct db_conn **c, struct err *e)
{
	int rc = db_acquire(ctx->app->db, DB_WRITE, c, e);

	if (rc)
		return rc;
	rc = db_begin(*c, e);
	if (rc) {
		db_release(*c);
		*c = NULL;
	}
	return rc;
}

/* Commit when rc == 0, then give the connection back (rollback otherwise). */
static int write_end(struct db_conn *c, int rc, struct err *e)
{
	if (!c)
		return rc;
	if (rc == 0)
		rc = db_commit(c, e);
	db_release(c);
	return rc;
}

static json_t *tokens_json(const struct auth_tokens *t)
{
	json_t *user = json_object();

	json_object_set_new(user, "id", json_string(t->user.id));
	json_object_set_new(user, "email", json_string(t->user.email));
	json_object_set_new(user, "fullName", json_string(t->user.full_name));
	json_object_set_new(user, "role", json_string(t->user.role));
	json_object_set_new(user, "tenantId", json_string(t->user.tenant_id));
	json_object_set_new(user, "permissions", accounts_perms_json(t->perms));
	return json_pack("{s:s, s:s, s:i, s:s, s:o}", "accessToken", t->access_token, "refreshToken", t->refresh_token,
			 "expiresIn", t->expires_in_s, "tokenType", "Bearer", "user", user);
}

/* ---- /api/v1/auth ---- */

static const struct jv_field login_fields[] = {
    {"email", JV_STRING, JV_REQUIRED, 1, 320, NULL, 0},
    {"password", JV_STRING, JV_REQUIRED, 1, 1024, NULL, 0},
};

HANDLER(auth_http_login)
{
	struct auth_origin from = {ctx->req->ip, ctx->req->request_id};
	struct auth_tokens t;
	json_t *body;
	int rc;

	if ((rc = http_json_body(ctx->req, false, &body, e)))
		return rc;
	if ((rc = jv_check(body, login_fields, sizeof(login_fields) / sizeof(login_fields[0]), "", e)))
		return rc;
	if ((rc = sessions_login(ctx->app, jv_str(body, "email"), jv_str(body, "password"), &from, &t, e)))
		return rc;
	resp->data = tokens_json(&t);
	auth_tokens_release(&t);
	return 0;
}

static const struct jv_field refresh_fields[] = {
    {"refreshToken", JV_STRING, JV_REQUIRED, 1, 512, NULL, 0},
};

HANDLER(auth_http_refresh)
{
	struct auth_origin from = {ctx->req->ip, ctx->req->request_id};
	struct auth_tokens t;
	json_t *body;
	int rc;

	if ((rc = http_json_body(ctx->req, false, &body, e)))
		return rc;
	if ((rc = jv_check(body, refresh_fields, sizeof(refresh_fields) / sizeof(refresh_fields[0]), "", e)))
		return rc;
	if ((rc = sessions_refresh(ctx->app, jv_str(body, "refreshToken"), &from, &t, e)))
		return rc;
	resp->data = tokens_json(&t);
	auth_tokens_release(&t);
	return 0;
}

static const struct jv_field logout_fields[] = {
    {"refreshToken", JV_STRING, 0, 1, 512, NULL, 0},
};

HANDLER(auth_http_logout)
{
	json_t *body;
	int rc;

	if (ctx->who.kind != PRINCIPAL_USER)
		return err_set(e, ERR_FORBIDDEN, NULL, "logout needs a user access token");
	if ((rc = http_json_body(ctx->req, true, &body, e)))
		return rc;
	if ((rc = jv_check(body, logout_fields, sizeof(logout_fields) / sizeof(logout_fields[0]), "", e)))
		return rc;
	if ((rc = sessions_logout(ctx->app, &ctx->actor, ctx->who.id, ctx->who.session_id, jv_str(body, "refreshToken"),
				  e)))
		return rc;
	resp->data = json_pack("{s:b}", "loggedOut", 1);
	return 0;
}

HANDLER(auth_http_me)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = db_acquire(ctx->app->db, DB_READ, &c, e)))
		return rc;
	if (ctx->who.kind == PRINCIPAL_USER) {
		struct user u;
		if ((rc = users_get(c, ctx->who.tenant_id, ctx->who.id, &u, e)))
			goto out;
		resp->data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "type", "user", "id", u.id, "email",
				       u.email, "fullName", u.full_name, "role", u.role, "tenantId", u.tenant_id,
				       "permissions", accounts_perms_json(ctx->who.perms));
	} else {
		struct apikey k;
		if ((rc = apikeys_get(c, NULL, ctx->who.id, &k, e)))
			goto out;
		resp->data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "type", "api_key", "id", k.id, "name", k.name,
				       "prefix", k.prefix, "tenantId", ctx->who.tenant_id, "permissions",
				       accounts_perms_json(ctx->who.perms));
	}
out:
	db_release(c);
	return rc;
}

/* ---- /api/v1/users ---- */

HANDLER(users_http_list)
{
	struct db_conn *c = NULL;
	struct user *items = NULL;
	size_t n = 0;
	int64_t total = 0;
	int page, limit, rc;
	json_t *arr;

	if ((rc = http_pagination(ctx->req, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, &page, &limit, e)))
		return rc;
	if ((rc = db_acquire(ctx->app->db, DB_READ, &c, e)))
		return rc;
	rc = users_list(c, ctx->who.tenant_id, page, limit, &items, &n, &total, e);
	db_release(c);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, user_to_json(&items[i]));
	free(items);
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}

static const struct jv_field user_create_fields[] = {
    {"email", JV_EMAIL, JV_REQUIRED, 0, 0, NULL, 0},
    {"password", JV_STRING, JV_REQUIRED, 1, 128, NULL, 0},
    {"fullName", JV_STRING, JV_REQUIRED, 1, 127, NULL, 0},
    {"role", JV_STRING, JV_REQUIRED, 1, 31, perm_role_names, 0},
    {"active", JV_BOOL, 0, 0, 0, NULL, 0},
};

static const struct jv_field user_update_fields[] = {
    {"email", JV_EMAIL, 0, 0, 0, NULL, 0},	 {"password", JV_STRING, 0, 1, 128, NULL, 0},
    {"fullName", JV_STRING, 0, 1, 127, NULL, 0}, {"role", JV_STRING, 0, 1, 31, perm_role_names, 0},
    {"active", JV_BOOL, 0, 0, 0, NULL, 0},
};

static void user_input_from(const json_t *body, struct user_input *in)
{
	in->email = jv_str(body, "email");
	in->password = jv_str(body, "password");
	in->full_name = jv_str(body, "fullName");
	in->role = jv_str(body, "role");
	in->active = jv_has(body, "active") && json_is_boolean(json_object_get(body, "active"))
			 ? (int)jv_bool(body, "active", true)
			 : -1;
}

HANDLER(users_http_create)
{
	struct db_conn *c = NULL;
	struct user_input in;
	struct user u;
	json_t *body;
	int rc;

	if ((rc = http_json_body(ctx->req, false, &body, e)))
		return rc;
	if ((rc =
		 jv_check(body, user_create_fields, sizeof(user_create_fields) / sizeof(user_create_fields[0]), "", e)))
		return rc;
	user_input_from(body, &in);
	if ((rc = write_begin(ctx, &c, e)))
		return rc;
	rc = users_create(c, &ctx->actor, ctx->who.perms, &in, &u, e);
	if ((rc = write_end(c, rc, e)))
		return rc;
	resp->status = 201;
	resp->data = user_to_json(&u);
	return 0;
}

HANDLER(users_http_update)
{
	struct db_conn *c = NULL;
	struct user_input in;
	struct user u;
	const char *id = http_param(ctx->req, "id");
	json_t *body;
	int rc;

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "user not found");
	if ((rc = http_json_body(ctx->req, false, &body, e)))
		return rc;
	if ((rc =
		 jv_check(body, user_update_fields, sizeof(user_update_fields) / sizeof(user_update_fields[0]), "", e)))
		return rc;
	user_input_from(body, &in);
	if ((rc = write_begin(ctx, &c, e)))
		return rc;
	rc = users_update(c, &ctx->actor, ctx->who.perms, ctx->who.kind == PRINCIPAL_USER ? ctx->who.id : NULL, id, &in,
			  &u, e);
	if ((rc = write_end(c, rc, e)))
		return rc;
	resp->data = user_to_json(&u);
	return 0;
}

/* ---- /api/v1/api-keys ---- */

HANDLER(apikeys_http_list)
{
	struct db_conn *c = NULL;
	struct apikey *items = NULL;
	size_t n = 0;
	int64_t total = 0;
	int page, limit, rc;
	json_t *arr;

	if ((rc = http_pagination(ctx->req, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, &page, &limit, e)))
		return rc;
	if ((rc = db_acquire(ctx->app->db, DB_READ, &c, e)))
		return rc;
	rc = apikeys_list(c, ctx->who.tenant_id, page, limit, &items, &n, &total, e);
	db_release(c);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, apikey_to_json(&items[i]));
	free(items);
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}

static const struct jv_field apikey_create_fields[] = {
    {"name", JV_STRING, JV_REQUIRED, 1, 127, NULL, 0},
    {"permissions", JV_ARRAY, JV_REQUIRED, 1, 64, NULL, 0},
    {"tenants", JV_ARRAY, 0, 0, APIKEY_MAX_EXTRA_TENANTS, NULL, 0},
};

HANDLER(apikeys_http_create)
{
	struct db_conn *c = NULL;
	struct apikey_input in;
	struct apikey k;
	char *key = NULL;
	char field[32];
	json_t *body, *v;
	size_t i;
	int rc;

	memset(&in, 0, sizeof(in));
	if ((rc = http_json_body(ctx->req, false, &body, e)))
		return rc;
	if ((rc = jv_check(body, apikey_create_fields, sizeof(apikey_create_fields) / sizeof(apikey_create_fields[0]),
			   "", e)))
		return rc;
	json_array_foreach(json_object_get(body, "permissions"), i, v)
	{
		snprintf(field, sizeof(field), "permissions[%zu]", i);
		if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 63)
			return err_set(e, ERR_INVALID, field, "%s must be a permission name", field);
		if (perm_parse(json_string_value(v), &in.perms))
			return err_set(e, ERR_INVALID, field, "%s: unknown permission \"%s\"", field,
				       json_string_value(v));
	}
	json_array_foreach(json_object_get(body, "tenants"), i, v)
	{
		snprintf(field, sizeof(field), "tenants[%zu]", i);
		if (!json_is_string(v) || !uuid_valid(json_string_value(v)))
			return err_set(e, ERR_INVALID, field, "%s must be a tenant id", field);
		/* Extra tenants are granted from the command line only. */
		if (strcmp(json_string_value(v), ctx->who.tenant_id) != 0)
			return err_set(e, ERR_FORBIDDEN, field,
				       "an API key created here can only serve your own tenant");
	}
	in.name = jv_str(body, "name");
	in.created_by = ctx->who.id;
	if ((rc = write_begin(ctx, &c, e)))
		return rc;
	rc = apikeys_create(c, &ctx->actor, ctx->who.perms, &in, &k, &key, e);
	if ((rc = write_end(c, rc, e)))
		goto out;
	resp->status = 201;
	resp->data = apikey_to_json(&k);
	json_object_set_new(resp->data, "key", json_string(key));
out:
	if (key) {
		mem_wipe(key, strlen(key));
		free(key);
	}
	return rc;
}

HANDLER(apikeys_http_revoke)
{
	struct db_conn *c = NULL;
	struct apikey k;
	const char *id = http_param(ctx->req, "id");
	int rc;

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "API key not found");
	if ((rc = write_begin(ctx, &c, e)))
		return rc;
	rc = apikeys_revoke(c, &ctx->actor, id, &k, e);
	if ((rc = write_end(c, rc, e)))
		return rc;
	resp->data = apikey_to_json(&k);
	return 0;
}
