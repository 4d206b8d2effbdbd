/*
 * tenants.h - tenants: the clinics, hospitals and labs served by one server.
 *
 * A tenant owns every business row (tenant_id). It carries its time zone,
 * currency and country, and in `settings` its fiscal identity as an issuer:
 *
 *   {
 *     "emisor": {                      El Salvador DTE issuer (all strings)
 *       "nit", "nrc", "nombre",        required when "emisor" is set; NIT/NRC
 *                                      stored canonical (digits only)
 *       "nombreComercial", "codActividad", "descActividad",
 *       "tipoEstablecimiento" (01|02|04|07|20), "codEstable", "codEstableMH",
 *       "codPuntoVenta", "codPuntoVentaMH",
 *       "direccion": {"departamento", "municipio", "complemento"},
 *       "telefono", "correo"
 *     },
 *     "rnc": "101850043"               Dominican issuer RNC, canonical digits
 *   }
 *
 * Settings are validated by tenants_settings_check (unknown keys refused);
 * the table of accepted keys lives in tenants.c.
 */
#ifndef CL_TENANTS_TENANTS_H
#define CL_TENANTS_TENANTS_H

#include <jansson.h>

#include "app.h"
#include "core/err.h"
#include "db/db.h"
#include "mod/audit/audit.h"

struct tenant {
	char id[37];
	char name[128];
	char slug[64];
	char kind[16]; /* clinic | hospital | lab */
	char time_zone[64];
	char currency[4];
	char country[3];
	json_t *settings; /* owned (never NULL after a successful get) */
	int active;
	char created_at[21];
};

/* Input of tenants_create; every string borrowed. NULL kind/time_zone/
 * currency/country take the defaults clinic, America/El_Salvador, USD, SV.
 * settings may be NULL (empty object). */
struct tenant_input {
	const char *name;
	const char *slug;
	const char *kind;
	const char *time_zone;
	const char *currency;
	const char *country;
	const json_t *settings;
};

/* Load a tenant by id / by slug. Absent -> ERR_NOT_FOUND. On success *t
 * owns t->settings: release with tenant_release. */
int tenants_get(struct db_conn *c, const char *id, struct tenant *t, struct err *e);
int tenants_get_by_slug(struct db_conn *c, const char *slug, struct tenant *t, struct err *e);
void tenant_release(struct tenant *t);

/* Validate in, insert the tenant and audit "tenant.create" with actor
 * (whose tenant_id may be NULL: the new tenant's id is used). c must hold an
 * open write transaction. Bad input -> ERR_INVALID naming the field; slug
 * taken -> ERR_CONFLICT ("slug"). */
int tenants_create(struct db_conn *c, const struct actor *actor, const struct tenant_input *in, char id_out[37],
		   struct err *e);

/* Partial update of tenant `id` from a JSON patch already checked for
 * shape (tenants_http.c): members name, kind, timeZone, currency, country
 * and settings (shallow merge: a member set to null is removed). Audits
 * "tenant.update" with before/after. c must hold an open write transaction.
 * *out (may be NULL) receives the updated tenant (release it). */
int tenants_update(struct db_conn *c, const struct actor *actor, const char *id, const json_t *patch,
		   struct tenant *out, struct err *e);

/* Check a settings object (see the header note). On success *normalized
 * (owned) is a copy with NIT/NRC/RNC in canonical form. `field` prefixes
 * the names in errors ("settings"). */
int tenants_settings_check(const json_t *settings, const char *field, json_t **normalized, struct err *e);

/* The client's view: {id, name, slug, kind, timeZone, currency, country,
 * settings, active, createdAt}. Owned. */
json_t *tenant_to_json(const struct tenant *t);

/* Slug rule: 2..63 chars of [a-z0-9-], starting with a letter or digit. */
int tenants_slug_valid(const char *slug);

/* First start: when no tenant exists, create the bootstrap tenant (slug
 * "demo", cfg.bootstrap_tenant name, America/El_Salvador, USD, SV) and its
 * admin user cfg.bootstrap_email; the password is cfg.bootstrap_password or
 * a generated one printed once on stdout. Later starts do nothing. */
int tenants_bootstrap(struct app *app, struct err *e);

#endif
