/*
 * tenants.c - the rules for tenants: validation of the profile and of the
 * fiscal identity in settings, creation, partial update, first-start
 * bootstrap.
 *
 * Settings are checked with jv field tables (unknown keys refused) plus the
 * checks a table cannot express: NIT/NRC/RNC check digits through
 * doc_normalize (stored canonical), digit patterns of the MH catalogue codes
 * (departamento 01..14, municipio 2 digits, codActividad 2..6 digits).
 */
#include "mod/tenants/tenants.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/jsonv.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/money.h"
#include "core/timeutil.h"
#include "mod/auth/accounts.h"
#include "mod/tenants/tenants_repo.h"

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static const char *const tenant_kinds[] = {"clinic", "hospital", "lab", NULL};
static const char *const tipos_establecimiento[] = {"01", "02", "04", "07", "20", NULL};

/* settings: the accepted members (extend here). */
static const struct jv_field settings_fields[] = {
    {"emisor", JV_OBJECT, JV_NULLABLE, 0, 0, NULL, 0},
    {"rnc", JV_STRING, JV_NULLABLE, 1, 20, NULL, 0},
    /* DTE flow (docs/dte-flow.md): {autoSubmit, mhUser, responsable {nombre, tipoDocumento, numDocumento}} */
    {"dte", JV_OBJECT, JV_NULLABLE, 0, 0, NULL, 0},
};

static const struct jv_field emisor_fields[] = {
    {"nit", JV_STRING, JV_REQUIRED, 1, 20, NULL, 0},
    {"nrc", JV_STRING, JV_REQUIRED, 1, 10, NULL, 0},
    {"nombre", JV_STRING, JV_REQUIRED, 1, 250, NULL, 0},
    {"nombreComercial", JV_STRING, JV_NULLABLE, 1, 150, NULL, 0},
    {"codActividad", JV_STRING, 0, 2, 6, NULL, 0},
    {"descActividad", JV_STRING, 0, 1, 150, NULL, 0},
    {"tipoEstablecimiento", JV_STRING, 0, 2, 2, tipos_establecimiento, 0},
    {"codEstable", JV_STRING, JV_NULLABLE, 1, 10, NULL, 0},
    {"codEstableMH", JV_STRING, JV_NULLABLE, 4, 4, NULL, 0},
    {"codPuntoVenta", JV_STRING, JV_NULLABLE, 1, 15, NULL, 0},
    {"codPuntoVentaMH", JV_STRING, JV_NULLABLE, 4, 4, NULL, 0},
    {"direccion", JV_OBJECT, 0, 0, 0, NULL, 0},
    {"telefono", JV_STRING, 0, 8, 30, NULL, 0},
    {"correo", JV_EMAIL, 0, 0, 0, NULL, 0},
};

static const struct jv_field direccion_fields[] = {
    {"departamento", JV_STRING, JV_REQUIRED, 2, 2, NULL, 0},
    {"municipio", JV_STRING, JV_REQUIRED, 2, 2, NULL, 0},
    {"complemento", JV_STRING, JV_REQUIRED, 1, 200, NULL, 0},
};

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Replace member `name` of obj (a string) by its canonical document form. */
static int normalize_doc(json_t *obj, const char *name, enum doc_type type, const char *field, struct err *e)
{
	const char *v = jv_str(obj, name);
	char canon[32];
	int rc;

	if (!v)
		return 0;
	if ((rc = doc_normalize(type, v, canon, sizeof(canon), field, e)))
		return rc;
	json_object_set_new(obj, name, json_string(canon));
	return 0;
}

/* Drop members whose value is null (null = "not set"). */
static void drop_nulls(json_t *obj)
{
	const char *key;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(obj, tmp, key, v)
	{
		if (json_is_null(v))
			json_object_del(obj, key);
	}
}

int tenants_settings_check(const json_t *settings, const char *field, json_t **normalized, struct err *e)
{
	char prefix[96], f[160];
	json_t *copy = NULL, *emisor, *dir;
	const char *s;
	int rc;

	*normalized = NULL;
	if (!json_is_object(settings))
		return err_set(e, ERR_INVALID, field, "%s must be an object", field);
	snprintf(prefix, sizeof(prefix), "%s.", field);
	if ((rc = jv_check(settings, settings_fields, NFIELDS(settings_fields), prefix, e)))
		return rc;
	copy = json_deep_copy(settings);
	drop_nulls(copy);

	snprintf(f, sizeof(f), "%s.rnc", field);
	if ((rc = normalize_doc(copy, "rnc", DOC_RNC, f, e)))
		goto out;

	emisor = json_object_get(copy, "emisor");
	if (emisor) {
		snprintf(prefix, sizeof(prefix), "%s.emisor.", field);
		if ((rc = jv_check(emisor, emisor_fields, NFIELDS(emisor_fields), prefix, e)))
			goto out;
		drop_nulls(emisor);
		snprintf(f, sizeof(f), "%snit", prefix);
		if ((rc = normalize_doc(emisor, "nit", DOC_NIT, f, e)))
			goto out;
		snprintf(f, sizeof(f), "%snrc", prefix);
		if ((rc = normalize_doc(emisor, "nrc", DOC_NRC, f, e)))
			goto out;
		s = jv_str(emisor, "codActividad");
		if (s && !all_digits(s)) {
			snprintf(f, sizeof(f), "%scodActividad", prefix);
			rc = err_set(e, ERR_INVALID, f, "%s must be 2 to 6 digits", f);
			goto out;
		}
		dir = json_object_get(emisor, "direccion");
		if (dir) {
			int dep;
			snprintf(prefix, sizeof(prefix), "%s.emisor.direccion.", field);
			if ((rc = jv_check(dir, direccion_fields, NFIELDS(direccion_fields), prefix, e)))
				goto out;
			s = jv_str(dir, "departamento");
			dep = all_digits(s) ? atoi(s) : 0;
			if (dep < 1 || dep > 14) {
				snprintf(f, sizeof(f), "%sdepartamento", prefix);
				rc = err_set(e, ERR_INVALID, f, "%s must be a code from 01 to 14", f);
				goto out;
			}
			if (!all_digits(jv_str(dir, "municipio"))) {
				snprintf(f, sizeof(f), "%smunicipio", prefix);
				rc = err_set(e, ERR_INVALID, f, "%s must be 2 digits", f);
				goto out;
			}
		}
	}
	*normalized = copy;
	copy = NULL;
out:
	json_decref(copy);
	return rc;
}

int tenants_slug_valid(const char *slug)
{
	size_t len = strlen(slug);

	if (len < 2 || len > 63 || slug[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = slug[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
	}
	return 1;
}

static int one_of(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(v, *list) == 0)
			return 1;
	return 0;
}

/* The profile columns (not settings), with the camelCase field names. */
static int check_profile(const struct tenant *t, struct err *e)
{
	size_t len = strlen(t->name);

	if (len == 0)
		return err_set(e, ERR_INVALID, "name", "name is required");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)t->name[i] < 0x20)
			return err_set(e, ERR_INVALID, "name", "name must not contain control characters");
	if (!one_of(t->kind, tenant_kinds))
		return err_set(e, ERR_INVALID, "kind", "kind must be one of clinic, hospital, lab");
	if (!tz_valid(t->time_zone))
		return err_set(e, ERR_INVALID, "timeZone",
			       "timeZone must be an IANA time zone such as "
			       "America/El_Salvador");
	if (!currency_find(t->currency))
		return err_set(e, ERR_INVALID, "currency", "currency must be an ISO 4217 code such as USD");
	if (strlen(t->country) != 2 || !isupper((unsigned char)t->country[0]) || !isupper((unsigned char)t->country[1]))
		return err_set(e, ERR_INVALID, "country", "country must be an ISO 3166 alpha-2 code such as SV");
	return 0;
}

/* Copy src into dst of cap bytes; too long -> ERR_INVALID naming field. */
static int copy_field(char *dst, size_t cap, const char *src, const char *field, struct err *e)
{
	if (strlen(src) >= cap)
		return err_set(e, ERR_INVALID, field, "%s must be at most %zu characters", field, cap - 1);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

json_t *tenant_to_json(const struct tenant *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "slug", json_string(t->slug));
	json_object_set_new(o, "kind", json_string(t->kind));
	json_object_set_new(o, "timeZone", json_string(t->time_zone));
	json_object_set_new(o, "currency", json_string(t->currency));
	json_object_set_new(o, "country", json_string(t->country));
	json_object_set_new(o, "settings", t->settings ? json_deep_copy(t->settings) : json_object());
	json_object_set_new(o, "active", json_boolean(t->active));
	json_object_set_new(o, "createdAt", json_string(t->created_at));
	return o;
}

void tenant_release(struct tenant *t)
{
	json_decref(t->settings);
	t->settings = NULL;
}

int tenants_get(struct db_conn *c, const char *id, struct tenant *t, struct err *e)
{
	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "tenant not found");
	return tenants_repo_get(c, 0, id, t, e);
}

int tenants_get_by_slug(struct db_conn *c, const char *slug, struct tenant *t, struct err *e)
{
	if (!slug || !tenants_slug_valid(slug))
		return err_set(e, ERR_NOT_FOUND, NULL, "tenant not found");
	return tenants_repo_get(c, 1, slug, t, e);
}

int tenants_create(struct db_conn *c, const struct actor *actor, const struct tenant_input *in, char id_out[37],
		   struct err *e)
{
	struct tenant t;
	struct actor a = *actor;
	json_t *settings = NULL, *after = NULL;
	char *settings_text = NULL;
	int rc;

	memset(&t, 0, sizeof(t));
	if (!in->name || !in->name[0]) {
		rc = err_set(e, ERR_INVALID, "name", "name is required");
		goto out;
	}
	if ((rc = copy_field(t.name, sizeof(t.name), in->name, "name", e)))
		goto out;
	if (!in->slug || !tenants_slug_valid(in->slug)) {
		rc = err_set(e, ERR_INVALID, "slug", "slug must be 2 to 63 characters of a-z, 0-9 and '-'");
		goto out;
	}
	snprintf(t.slug, sizeof(t.slug), "%s", in->slug);
	if ((rc = copy_field(t.kind, sizeof(t.kind), in->kind ? in->kind : "clinic", "kind", e)) ||
	    (rc = copy_field(t.time_zone, sizeof(t.time_zone), in->time_zone ? in->time_zone : "America/El_Salvador",
			     "timeZone", e)) ||
	    (rc = copy_field(t.currency, sizeof(t.currency), in->currency ? in->currency : "USD", "currency", e)) ||
	    (rc = copy_field(t.country, sizeof(t.country), in->country ? in->country : "SV", "country", e)))
		goto out;
	if ((rc = check_profile(&t, e)))
		goto out;
	if (in->settings) {
		if ((rc = tenants_settings_check(in->settings, "settings", &settings, e)))
			goto out;
	} else {
		settings = json_object();
	}
	t.settings = settings;
	t.active = 1;
	uuid_v4(t.id);
	time_now_iso(t.created_at);
	settings_text = json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS);
	if ((rc = tenants_repo_insert(c, &t, settings_text, t.created_at, e)))
		goto out;
	a.tenant_id = t.id;
	after = tenant_to_json(&t);
	if ((rc = audit_record(c, &a, "tenant.create", "tenant", t.id, NULL, after, NULL, e)))
		goto out;
	memcpy(id_out, t.id, sizeof(t.id));
out:
	free(settings_text);
	json_decref(settings);
	json_decref(after);
	return rc;
}

int tenants_update(struct db_conn *c, const struct actor *actor, const char *id, const json_t *patch,
		   struct tenant *out, struct err *e)
{
	struct tenant t;
	json_t *before = NULL, *after = NULL, *merged = NULL, *normalized = NULL, *sp;
	char *settings_text = NULL;
	char now[TIME_ISO_LEN + 1];
	const char *s;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = tenants_get(c, id, &t, e)))
		return rc;
	before = tenant_to_json(&t);
	if ((s = jv_str(patch, "name")) && (rc = copy_field(t.name, sizeof(t.name), s, "name", e)))
		goto out;
	if ((s = jv_str(patch, "kind")) && (rc = copy_field(t.kind, sizeof(t.kind), s, "kind", e)))
		goto out;
	if ((s = jv_str(patch, "timeZone")) && (rc = copy_field(t.time_zone, sizeof(t.time_zone), s, "timeZone", e)))
		goto out;
	if ((s = jv_str(patch, "currency")) && (rc = copy_field(t.currency, sizeof(t.currency), s, "currency", e)))
		goto out;
	if ((s = jv_str(patch, "country")) && (rc = copy_field(t.country, sizeof(t.country), s, "country", e)))
		goto out;
	if ((rc = check_profile(&t, e)))
		goto out;
	sp = json_object_get(patch, "settings");
	if (sp && !json_is_null(sp)) {
		const char *key;
		json_t *v;
		if (!json_is_object(sp)) {
			rc = err_set(e, ERR_INVALID, "settings", "settings must be an object");
			goto out;
		}
		merged = json_deep_copy(t.settings);
		json_object_foreach(sp, key, v)
		{
			json_object_set(merged, key, v);
		}
		if ((rc = tenants_settings_check(merged, "settings", &normalized, e)))
			goto out;
		json_decref(t.settings);
		t.settings = normalized;
		normalized = NULL;
	}
	time_now_iso(now);
	settings_text = json_dumps(t.settings, JSON_COMPACT | JSON_SORT_KEYS);
	if ((rc = tenants_repo_update(c, &t, settings_text, now, e)))
		goto out;
	after = tenant_to_json(&t);
	if ((rc = audit_record(c, actor, "tenant.update", "tenant", t.id, before, after, NULL, e)))
		goto out;
	if (out) {
		*out = t;
		t.settings = NULL;
	}
out:
	tenant_release(&t);
	free(settings_text);
	json_decref(before);
	json_decref(after);
	json_decref(merged);
	json_decref(normalized);
	return rc;
}

int tenants_bootstrap(struct app *app, struct err *e)
{
	struct tenant_input in = {0};
	struct user_input ui = {0};
	struct actor a = {.kind = "system", .id = "bootstrap"};
	struct db_conn *c = NULL;
	struct user u;
	char tenant_id[37];
	char *generated = NULL;
	const char *password;
	int64_t n = 0;
	int rc;

	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)))
		return rc;
	if ((rc = db_begin(c, e)))
		goto out;
	if ((rc = tenants_repo_count(c, &n, e)))
		goto out;
	if (n > 0)
		goto out; /* already bootstrapped: the release rolls the empty transaction back */

	in.name = app->cfg.bootstrap_tenant[0] ? app->cfg.bootstrap_tenant : "Demo Clinic";
	in.slug = "demo";
	in.kind = "clinic";
	in.time_zone = "America/El_Salvador";
	in.currency = "USD";
	in.country = "SV";
	if ((rc = tenants_create(c, &a, &in, tenant_id, e)))
		goto out;
	a.tenant_id = tenant_id;
	if (app->cfg.bootstrap_password[0]) {
		password = app->cfg.bootstrap_password;
	} else {
		generated = users_generate_password();
		password = generated;
	}
	ui.email = app->cfg.bootstrap_email[0] ? app->cfg.bootstrap_email : "admin@demo.clinic";
	ui.password = password;
	ui.full_name = "Administrator";
	ui.role = "admin";
	ui.active = 1;
	if ((rc = users_create(c, &a, PERM_ALL, &ui, &u, e)))
		goto out;
	if ((rc = db_commit(c, e)))
		goto out;
	log_info("msg=\"bootstrap tenant created\" tenant=%s slug=demo", tenant_id);
	if (generated) {
		printf("\nclinicledger: first start - created tenant \"%s\" (slug demo) and its administrator.\n"
		       "Log in with:\n"
		       "  email:    %s\n"
		       "  password: %s\n"
		       "This password is shown only once. For example:\n"
		       "  curl -s -X POST http://%s:%d/api/v1/auth/login -H 'Content-Type: application/json' \\\n"
		       "       -d '{\"email\":\"%s\",\"password\":\"%s\"}'\n\n",
		       in.name, u.email, generated, app->cfg.listen_host, app->cfg.listen_port, u.email, generated);
	} else {
		printf("clinicledger: first start - created tenant \"%s\" (slug demo); log in with %s and the "
		       "password from CLINICLEDGER_BOOTSTRAP_PASSWORD.\n",
		       in.name, u.email);
	}
	fflush(stdout);
out:
	if (generated) {
		mem_wipe(generated, strlen(generated));
		free(generated);
	}
	db_release(c);
	return rc;
}
