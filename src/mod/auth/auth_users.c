/*
 * auth_users.c - the rules for users: email normalisation, roles within the
 * granter's permissions, password policy and hashing, self-protection, and
 * the permission-list helpers shared with API keys.
 *
 * Writes happen inside the caller's transaction and are audited there with
 * the user's public view (never the password or its hash).
 */
#include "mod/auth/accounts.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "crypto/password.h"
#include "mod/auth/auth_repo.h"

/* ---- permissions as text ---- */

int accounts_perms_parse(const char *text, perm_set *out, const char *field, struct err *e)
{
	char name[64];
	const char *p = text;
	int count = 0;

	*out = 0;
	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		len = strcspn(p, " \t,");
		if (len >= sizeof(name))
			return err_set(e, ERR_INVALID, field, "%s contains an unknown permission", field);
		memcpy(name, p, len);
		name[len] = '\0';
		if (perm_parse(name, out))
			return err_set(e, ERR_INVALID, field, "%s: unknown permission \"%s\"", field, name);
		count++;
		p += len;
	}
	if (count == 0)
		return err_set(e, ERR_INVALID, field, "%s must name at least one permission", field);
	return 0;
}

char *accounts_perms_text(perm_set s)
{
	size_t cap = 1, used = 0;
	char *out;

	for (int p = 0; p < PERM__COUNT; p++)
		if (s & PERM_BIT(p))
			cap += strlen(perm_name((enum perm)p)) + 1;
	out = xmalloc(cap);
	out[0] = '\0';
	for (int p = 0; p < PERM__COUNT; p++) {
		if (!(s & PERM_BIT(p)))
			continue;
		used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? " " : "", perm_name((enum perm)p));
	}
	return out;
}

json_t *accounts_perms_json(perm_set s)
{
	json_t *a = json_array();

	for (int p = 0; p < PERM__COUNT; p++)
		if (s & PERM_BIT(p))
			json_array_append_new(a, json_string(perm_name((enum perm)p)));
	return a;
}

/* ---- users ---- */

int users_email_normalize(const char *in, char *out, size_t outlen, const char *field, struct err *e)
{
	const char *start = in, *end, *at;
	size_t len;

	if (!in)
		return err_set(e, ERR_INVALID, field, "%s is required", field);
	while (*start && isspace((unsigned char)*start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	len = (size_t)(end - start);
	if (len == 0)
		return err_set(e, ERR_INVALID, field, "%s is required", field);
	if (len > EMAIL_MAX || len >= outlen)
		return err_set(e, ERR_INVALID, field, "%s is too long", field);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)start[i];
		if (ch <= ' ' || ch == 0x7f)
			return err_set(e, ERR_INVALID, field, "%s must be a valid email address", field);
		out[i] = (char)tolower(ch);
	}
	out[len] = '\0';
	at = strchr(out, '@');
	if (!at || at == out || strchr(at + 1, '@') || !strchr(at + 1, '.') || at[1] == '.' || out[len - 1] == '.')
		return err_set(e, ERR_INVALID, field, "%s must be a valid email address", field);
	return 0;
}

json_t *user_to_json(const struct user *u)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(u->id));
	json_object_set_new(o, "email", json_string(u->email));
	json_object_set_new(o, "fullName", json_string(u->full_name));
	json_object_set_new(o, "role", json_string(u->role));
	json_object_set_new(o, "tenantId", json_string(u->tenant_id));
	json_object_set_new(o, "active", json_boolean(u->active));
	json_object_set_new(o, "lastLoginAt", u->last_login_at[0] ? json_string(u->last_login_at) : json_null());
	json_object_set_new(o, "lockedUntil", u->locked_until[0] ? json_string(u->locked_until) : json_null());
	json_object_set_new(o, "createdAt", json_string(u->created_at));
	json_object_set_new(o, "updatedAt", json_string(u->updated_at));
	return o;
}

char *users_generate_password(void)
{
	struct err e;

	for (;;) {
		char *pw = crypto_token("");
		/* 43 base64url characters; keep 24 of them, retry until the policy holds. */
		pw[24] = '\0';
		err_clear(&e);
		if (password_check_policy(pw, "password", &e) == 0)
			return pw;
		mem_wipe(pw, strlen(pw));
		free(pw);
	}
}

static int check_full_name(const char *name, struct err *e)
{
	size_t len = strlen(name);

	if (len == 0)
		return err_set(e, ERR_INVALID, "fullName", "fullName is required");
	if (len > 127)
		return err_set(e, ERR_INVALID, "fullName", "fullName must be at most 127 characters");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20)
			return err_set(e, ERR_INVALID, "fullName", "fullName must not contain control characters");
	return 0;
}

/* Role known and its defaults within what the granter holds. */
static int check_role(const char *role, perm_set granter_perms, struct err *e)
{
	int known = 0;
	perm_set perms = perm_role_defaults(role, &known);

	if (!known)
		return err_set(e, ERR_INVALID, "role",
			       "role must be one of admin, medical_director, "
			       "billing_staff, accountant, doctor, receptionist, pharmacist");
	if ((perms & ~granter_perms) != 0)
		return err_set(e, ERR_FORBIDDEN, "role", "you cannot grant a role with permissions you do not hold");
	return 0;
}

int users_create(struct db_conn *c, const struct actor *actor, perm_set granter_perms, const struct user_input *in,
		 struct user *out, struct err *e)
{
	struct auth_user_row row;
	json_t *after = NULL;
	int rc;

	memset(&row, 0, sizeof(row));
	if ((rc = users_email_normalize(in->email, row.u.email, sizeof(row.u.email), "email", e)))
		goto out;
	if (!in->password) {
		rc = err_set(e, ERR_INVALID, "password", "password is required");
		goto out;
	}
	if ((rc = password_check_policy(in->password, "password", e)))
		goto out;
	if (!in->full_name) {
		rc = err_set(e, ERR_INVALID, "fullName", "fullName is required");
		goto out;
	}
	if ((rc = check_full_name(in->full_name, e)))
		goto out;
	if (!in->role) {
		rc = err_set(e, ERR_INVALID, "role", "role is required");
		goto out;
	}
	if ((rc = check_role(in->role, granter_perms, e)))
		goto out;

	uuid_v4(row.u.id);
	snprintf(row.u.tenant_id, sizeof(row.u.tenant_id), "%s", actor->tenant_id);
	snprintf(row.u.full_name, sizeof(row.u.full_name), "%s", in->full_name);
	snprintf(row.u.role, sizeof(row.u.role), "%s", in->role);
	row.u.active = in->active == 0 ? 0 : 1;
	time_now_iso(row.u.created_at);
	memcpy(row.u.updated_at, row.u.created_at, sizeof(row.u.updated_at));
	if ((rc = password_hash(in->password, row.password_hash, e)))
		goto out;
	if ((rc = auth_repo_user_insert(c, &row, e)))
		goto out;
	after = user_to_json(&row.u);
	if ((rc = audit_record(c, actor, "user.create", "user", row.u.id, NULL, after, NULL, e)))
		goto out;
	if (out)
		*out = row.u;
out:
	json_decref(after);
	mem_wipe(&row, sizeof(row));
	return rc;
}

int users_update(struct db_conn *c, const struct actor *actor, perm_set granter_perms, const char *self_id,
		 const char *id, const struct user_input *in, struct user *out, struct err *e)
{
	struct auth_user_row row;
	json_t *before = NULL, *after = NULL;
	bool revoke = false;
	int64_t n = 0;
	int rc;

	memset(&row, 0, sizeof(row));
	if (!uuid_valid(id)) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "user not found");
		goto out;
	}
	if ((rc = auth_repo_user_by_id(c, actor->tenant_id, id, &row, e)))
		goto out;
	before = user_to_json(&row.u);
	row.password_hash[0] = '\0'; /* unchanged unless a new password is given */

	if (in->email && (rc = users_email_normalize(in->email, row.u.email, sizeof(row.u.email), "email", e)))
		goto out;
	if (in->full_name) {
		if ((rc = check_full_name(in->full_name, e)))
			goto out;
		snprintf(row.u.full_name, sizeof(row.u.full_name), "%s", in->full_name);
	}
	if (in->role && strcmp(in->role, row.u.role) != 0) {
		if ((rc = check_role(in->role, granter_perms, e)))
			goto out;
		snprintf(row.u.role, sizeof(row.u.role), "%s", in->role);
	}
	if (in->active == 0 || in->active == 1) {
		if (in->active == 0 && self_id && strcmp(self_id, row.u.id) == 0) {
			rc = err_set(e, ERR_INVALID, "active", "you cannot deactivate yourself");
			goto out;
		}
		if (in->active == 0 && row.u.active)
			revoke = true;
		row.u.active = in->active;
	}
	if (in->password) {
		if ((rc = password_check_policy(in->password, "password", e)))
			goto out;
		if ((rc = password_hash(in->password, row.password_hash, e)))
			goto out;
		revoke = true;
	}
	time_now_iso(row.u.updated_at);
	if ((rc = auth_repo_user_update(c, &row, e)))
		goto out;
	if (revoke && (rc = auth_repo_session_revoke_user(c, row.u.id, row.u.updated_at, "password", &n, e)))
		goto out;
	after = user_to_json(&row.u);
	if (in->password)
		json_object_set_new(after, "passwordChanged", json_true());
	if ((rc = audit_record(c, actor, "user.update", "user", row.u.id, before, after, NULL, e)))
		goto out;
	if (out)
		*out = row.u;
out:
	json_decref(before);
	json_decref(after);
	mem_wipe(&row, sizeof(row));
	return rc;
}

int users_get(struct db_conn *c, const char *tenant_id, const char *id, struct user *out, struct err *e)
{
	struct auth_user_row row;
	int rc;

	if (!uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "user not found");
	rc = auth_repo_user_by_id(c, tenant_id, id, &row, e);
	if (rc == 0)
		*out = row.u;
	mem_wipe(&row, sizeof(row));
	return rc;
}

int users_list(struct db_conn *c, const char *tenant_id, int page, int limit, struct user **items, size_t *n,
	       int64_t *total, struct err *e)
{
	return auth_repo_user_list(c, tenant_id, page, limit, items, n, total, e);
}
