/*
 * auth_apikeys.c - the rules for API keys: creation within the creator's
 * permissions, the secret shown once, revocation.
 *
 * The secret "clk_<43 base64url chars>" is never stored: the database holds
 * its SHA-256 hex (looked up on every request) and the first 12 characters
 * as a display prefix so people can tell their keys apart.
 */
#include "mod/auth/accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "mod/auth/auth_repo.h"

json_t *apikey_to_json(const struct apikey *k)
{
	json_t *o = json_object();
	json_t *tenants = json_array();

	json_array_append_new(tenants, json_string(k->tenant_id));
	for (size_t i = 0; i < k->n_extra_tenants; i++)
		json_array_append_new(tenants, json_string(k->extra_tenants[i]));
	json_object_set_new(o, "id", json_string(k->id));
	json_object_set_new(o, "name", json_string(k->name));
	json_object_set_new(o, "prefix", json_string(k->prefix));
	json_object_set_new(o, "permissions", accounts_perms_json(k->perms));
	json_object_set_new(o, "tenantId", json_string(k->tenant_id));
	json_object_set_new(o, "tenants", tenants);
	json_object_set_new(o, "createdBy", k->created_by[0] ? json_string(k->created_by) : json_null());
	json_object_set_new(o, "createdAt", json_string(k->created_at));
	json_object_set_new(o, "lastUsedAt", k->last_used_at[0] ? json_string(k->last_used_at) : json_null());
	json_object_set_new(o, "revokedAt", k->revoked_at[0] ? json_string(k->revoked_at) : json_null());
	json_object_set_new(o, "active", json_boolean(k->revoked_at[0] == '\0'));
	return o;
}

static int check_name(const char *name, struct err *e)
{
	size_t len;

	if (!name)
		return err_set(e, ERR_INVALID, "name", "name is required");
	len = strlen(name);
	if (len == 0)
		return err_set(e, ERR_INVALID, "name", "name is required");
	if (len > 127)
		return err_set(e, ERR_INVALID, "name", "name must be at most 127 characters");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20)
			return err_set(e, ERR_INVALID, "name", "name must not contain control characters");
	return 0;
}

int apikeys_create(struct db_conn *c, const struct actor *actor, perm_set granter_perms, const struct apikey_input *in,
		   struct apikey *out, char **key_out, struct err *e)
{
	struct apikey k;
	char hash[2 * SHA256_LEN + 1];
	char *key = NULL, *perms_text = NULL;
	json_t *after = NULL;
	int rc;

	*key_out = NULL;
	memset(&k, 0, sizeof(k));
	if ((rc = check_name(in->name, e)))
		goto out;
	if (in->perms == 0) {
		rc = err_set(e, ERR_INVALID, "permissions", "permissions must name at least one permission");
		goto out;
	}
	if ((in->perms & ~granter_perms) != 0) {
		rc = err_set(e, ERR_FORBIDDEN, "permissions",
			     "an API key cannot have permissions its creator does not hold");
		goto out;
	}
	if (in->n_extra_tenants > APIKEY_MAX_EXTRA_TENANTS) {
		rc = err_set(e, ERR_INVALID, "tenants", "at most %d extra tenants", APIKEY_MAX_EXTRA_TENANTS);
		goto out;
	}

	uuid_v4(k.id);
	snprintf(k.tenant_id, sizeof(k.tenant_id), "%s", actor->tenant_id);
	snprintf(k.name, sizeof(k.name), "%s", in->name);
	snprintf(k.created_by, sizeof(k.created_by), "%s", in->created_by ? in->created_by : "");
	time_now_iso(k.created_at);
	k.perms = in->perms;
	key = crypto_token("clk_");
	memcpy(k.prefix, key, APIKEY_PREFIX_LEN);
	k.prefix[APIKEY_PREFIX_LEN] = '\0';
	crypto_sha256_hex(key, strlen(key), hash);
	perms_text = accounts_perms_text(k.perms);
	if ((rc = auth_repo_apikey_insert(c, &k, hash, perms_text, e)))
		goto out;
	for (size_t i = 0; i < in->n_extra_tenants; i++) {
		const char *t = in->extra_tenant_ids[i];
		if (strcmp(t, k.tenant_id) == 0)
			continue;
		if ((rc = auth_repo_apikey_tenant_insert(c, k.id, t, e)))
			goto out;
		snprintf(k.extra_tenants[k.n_extra_tenants++], 37, "%s", t);
	}
	after = apikey_to_json(&k);
	if ((rc = audit_record(c, actor, "apikey.create", "api_key", k.id, NULL, after, NULL, e)))
		goto out;
	if (out)
		*out = k;
	*key_out = key;
	key = NULL;
out:
	if (key) {
		mem_wipe(key, strlen(key));
		free(key);
	}
	free(perms_text);
	json_decref(after);
	return rc;
}

int apikeys_list(struct db_conn *c, const char *tenant_id, int page, int limit, struct apikey **items, size_t *n,
		 int64_t *total, struct err *e)
{
	return auth_repo_apikey_list(c, tenant_id, page, limit, items, n, total, e);
}

int apikeys_get(struct db_conn *c, const char *tenant_id, const char *id, struct apikey *out, struct err *e)
{
	if (!uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "API key not found");
	return auth_repo_apikey_by_id(c, tenant_id, id, out, e);
}

int apikeys_revoke(struct db_conn *c, const struct actor *actor, const char *id, struct apikey *out, struct err *e)
{
	struct apikey k;
	json_t *before = NULL, *after = NULL;
	int64_t n = 0;
	int rc;

	if ((rc = apikeys_get(c, actor->tenant_id, id, &k, e)))
		return rc;
	if (k.revoked_at[0])
		return err_set(e, ERR_CONFLICT, NULL, "API key already revoked");
	before = apikey_to_json(&k);
	time_now_iso(k.revoked_at);
	if ((rc = auth_repo_apikey_revoke(c, k.id, k.revoked_at, &n, e)))
		goto out;
	if (n != 1) {
		rc = err_set(e, ERR_CONFLICT, NULL, "API key already revoked");
		goto out;
	}
	after = apikey_to_json(&k);
	if ((rc = audit_record(c, actor, "apikey.revoke", "api_key", k.id, before, after, NULL, e)))
		goto out;
	if (out)
		*out = k;
out:
	json_decref(before);
	json_decref(after);
	return rc;
}
