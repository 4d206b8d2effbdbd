/*
 * fiscal.c - the rules and services of the fiscal-engine contract
 * (fiscal.h): receptor validation and upsert, and the module's
 * configuration. SQL is fiscal_repo.c's, facturas are facturas.c's, the DTE
 * state hook is fiscal_hook.c's, webhook delivery is webhooks_out.c's.
 */
#include "mod/fiscal/fiscal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/log.h"
#include "mod/fiscal/fiscal_repo.h"
#include "mod/patients/patients.h"

#define RECEPTOR_NOMBRE_MAX 250 /* characters (MH schemas) */
#define RECEPTOR_DOC_MIN    3
#define RECEPTOR_DOC_MAX    20

/* ---- small helpers ---- */

size_t fiscal__utf8_chars(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Trimmed arena copy; NULL for NULL. */
static const char *trim_dup(struct arena *a, const char *s)
{
	const char *end;

	if (!s)
		return NULL;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	return arena_strndup(a, s, (size_t)(end - s));
}

bool fiscal__has_control(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool all_digits(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (; s && *s; s++, n++)
		if (*s < '0' || *s > '9')
			return false;
	return n >= min && n <= max;
}

/* Check a free text: trimmed, min..max characters, no control characters. */
static int text_check(struct arena *a, const char *in, size_t min, size_t max, const char *prefix, const char *name,
		      const char **out, struct err *e)
{
	const char *t = trim_dup(a, in);
	size_t n = fiscal__utf8_chars(t);

	*out = t;
	if (!t)
		return 0;
	if (n < min || n > max)
		return err_set(e, ERR_INVALID, arena_printf(a, "%s%s", prefix, name),
			       "%s%s must be %zu to %zu characters", prefix, name, min, max);
	if (fiscal__has_control(t))
		return err_set(e, ERR_INVALID, arena_printf(a, "%s%s", prefix, name),
			       "%s%s contains a control character", prefix, name);
	return 0;
}

/* The canonical number of a document of CAT-022 type tipo, into out. */
static int doc_canonical(const char *tipo, const char *num, char *out, size_t outlen, const char *field, struct err *e)
{
	enum doc_type t;
	size_t n;
	int rc;

	if (strcmp(tipo, "13") == 0)
		t = DOC_DUI;
	else if (strcmp(tipo, "36") == 0)
		t = DOC_NIT;
	else if (strcmp(tipo, "03") == 0)
		t = DOC_PASSPORT;
	else
		t = DOC_OTHER;
	rc = doc_normalize(t, num, out, outlen, field, e);
	if (rc)
		return rc;
	n = fiscal__utf8_chars(out);
	if (n < RECEPTOR_DOC_MIN || n > RECEPTOR_DOC_MAX)
		return err_set(e, ERR_INVALID, field, "%s must be %d to %d characters", field, RECEPTOR_DOC_MIN,
			       RECEPTOR_DOC_MAX);
	return 0;
}

/* The pre-2024 municipio codes (01..N per departamento, 262 in all) that
 * the v1 schemas' patterns still require (README §3.8) and MH's schema
 * check may hold against a document: accepted beside the 2024 catalog's. */
static bool municipio_pre2024(const char *dep, const char *mun)
{
	static const int count[15] = {0, 12, 13, 16, 33, 22, 19, 16, 22, 9, 13, 23, 20, 26, 18};
	int d, m;

	if (!all_digits(dep, 2, 2) || !all_digits(mun, 2, 2))
		return false;
	d = (dep[0] - '0') * 10 + (dep[1] - '0');
	m = (mun[0] - '0') * 10 + (mun[1] - '0');
	return d >= 1 && d <= 14 && m >= 1 && m <= count[d];
}

static const char *const tipo_documento_codes[] = {"13", "36", "02", "03", "37", NULL};

static bool tipo_documento_valid(const char *t)
{
	for (size_t i = 0; t && tipo_documento_codes[i]; i++)
		if (strcmp(t, tipo_documento_codes[i]) == 0)
			return true;
	return false;
}

/* ---- receptores: rules ---- */

int fiscal_receptor_check(const struct fiscal_receptor_input *in, struct arena *a, struct fiscal_receptor *out,
			  struct err *e)
{
	const char *p = in->field_prefix ? in->field_prefix : "";
	char canon[64];
	const char *f;
	int rc;

	memset(out, 0, sizeof(*out));
	f = arena_printf(a, "%stipoDocumento", p);
	if (!in->tipo_documento)
		return err_set(e, ERR_INVALID, f, "%s is required", f);
	if (!tipo_documento_valid(in->tipo_documento))
		return err_set(e, ERR_INVALID, f, "%s must be one of 13 (DUI), 36 (NIT), 02, 03, 37", f);
	out->tipo_documento = arena_strdup(a, in->tipo_documento);

	f = arena_printf(a, "%snumDocumento", p);
	if (!in->num_documento)
		return err_set(e, ERR_INVALID, f, "%s is required", f);
	rc = doc_canonical(in->tipo_documento, in->num_documento, canon, sizeof(canon), f, e);
	if (rc)
		return rc;
	out->num_documento = arena_strdup(a, canon);

	if (in->nrc) {
		f = arena_printf(a, "%snrc", p);
		rc = doc_normalize(DOC_NRC, in->nrc, canon, sizeof(canon), f, e);
		if (rc)
			return rc;
		if (strlen(canon) < 2)
			return err_set(e, ERR_INVALID, f, "%s must have 2 to 8 digits", f);
		out->nrc = arena_strdup(a, canon);
	}

	f = arena_printf(a, "%snombre", p);
	if (!in->nombre)
		return err_set(e, ERR_INVALID, f, "%s is required", f);
	if ((rc = text_check(a, in->nombre, 1, RECEPTOR_NOMBRE_MAX, p, "nombre", &out->nombre, e)))
		return rc;

	if (in->cod_actividad) {
		f = arena_printf(a, "%scodActividad", p);
		if (!all_digits(in->cod_actividad, 5, 6))
			return err_set(e, ERR_INVALID, f, "%s must be a CAT-019 code of 5 or 6 digits", f);
		out->cod_actividad = arena_strdup(a, in->cod_actividad);
	}
	if ((rc = text_check(a, in->desc_actividad, 5, 150, p, "descActividad", &out->desc_actividad, e)))
		return rc;
	if (!out->cod_actividad != !out->desc_actividad) {
		f = arena_printf(a, "%s%s", p, out->cod_actividad ? "descActividad" : "codActividad");
		return err_set(e, ERR_INVALID, f, "codActividad and descActividad go together: %s is required", f);
	}

	if (in->direccion) {
		const struct fiscal_address *d = in->direccion;

		f = arena_printf(a, "%sdireccion.departamento", p);
		if (!d->departamento || !patients_departamento_valid(d->departamento) ||
		    strcmp(d->departamento, "00") == 0)
			return err_set(e, ERR_INVALID, f, "%s must be a CAT-012 code 01 to 14", f);
		f = arena_printf(a, "%sdireccion.municipio", p);
		if (!d->municipio || (!patients_municipio_valid(d->departamento, d->municipio) &&
				      !municipio_pre2024(d->departamento, d->municipio)))
			return err_set(e, ERR_INVALID, f, "%s must be a CAT-013 municipio of the departamento", f);
		f = arena_printf(a, "%sdireccion.complemento", p);
		if (!d->complemento)
			return err_set(e, ERR_INVALID, f, "%s is required", f);
		if ((rc = text_check(a, d->complemento, 5, 200, p, "direccion.complemento", &out->direccion.complemento,
				     e)))
			return rc;
		out->has_direccion = true;
		out->direccion.departamento = arena_strdup(a, d->departamento);
		out->direccion.municipio = arena_strdup(a, d->municipio);
	}
	if ((rc = text_check(a, in->telefono, 8, 30, p, "telefono", &out->telefono, e)))
		return rc;
	if (in->correo) {
		const char *c = trim_dup(a, in->correo);
		const char *at = strchr(c, '@');

		f = arena_printf(a, "%scorreo", p);
		if (strlen(c) < 3 || strlen(c) > 100 || !at || at == c || strchr(at + 1, '@') || !strchr(at + 1, '.') ||
		    strpbrk(c, " \t") || fiscal__has_control(c))
			return err_set(e, ERR_INVALID, f, "%s must be an e-mail address of at most 100 characters", f);
		out->correo = c;
	}
	if (in->patient_id) {
		f = arena_printf(a, "%spatientId", p);
		if (!uuid_valid(in->patient_id))
			return err_set(e, ERR_INVALID, f, "%s must be a UUID", f);
		snprintf(out->patient_id, sizeof(out->patient_id), "%s", in->patient_id);
		for (char *q = out->patient_id; *q; q++)
			*q = (char)tolower((unsigned char)*q);
	}
	return 0;
}

/* ---- receptores: services ---- */

static json_t *audit_receptor(const struct fiscal_receptor *r)
{
	char mask[PATIENT_MASK_MAX];

	patients_mask(r->num_documento, mask);
	return json_pack("{s:s,s:s,s:s,s:b,s:s?,s:b,s:b,s:b,s:s?}", "id", r->id, "tipoDocumento", r->tipo_documento,
			 "numDocumento", mask, "nrc", r->nrc != NULL, "codActividad", r->cod_actividad, "direccion",
			 r->has_direccion, "telefono", r->telefono != NULL, "correo", r->correo != NULL, "patientId",
			 r->patient_id[0] ? r->patient_id : NULL);
}

/* Optional members absent from the input keep their stored values (old);
 * those sent as null stay cleared. */
static void merge(struct fiscal_receptor *rec, const struct fiscal_receptor *old, unsigned nulls)
{
	if (!rec->nrc && !(nulls & FISCAL_RM_NRC))
		rec->nrc = old->nrc;
	if (!rec->cod_actividad && !(nulls & FISCAL_RM_ACTIVIDAD)) {
		rec->cod_actividad = old->cod_actividad;
		rec->desc_actividad = old->desc_actividad;
	}
	if (!rec->has_direccion && !(nulls & FISCAL_RM_DIRECCION)) {
		rec->has_direccion = old->has_direccion;
		rec->direccion = old->direccion;
	}
	if (!rec->telefono && !(nulls & FISCAL_RM_TELEFONO))
		rec->telefono = old->telefono;
	if (!rec->correo && !(nulls & FISCAL_RM_CORREO))
		rec->correo = old->correo;
	if (!rec->patient_id[0] && !(nulls & FISCAL_RM_PATIENT))
		snprintf(rec->patient_id, sizeof(rec->patient_id), "%s", old->patient_id);
}

int fiscal_receptor_upsert_conn(struct db_conn *c, const struct app_keys *keys, const struct actor *who,
				const struct fiscal_receptor_input *in, struct arena *a, struct fiscal_receptor *out,
				bool *created, struct err *e)
{
	struct fiscal_receptor rec, old;
	char bidx[65], now[TIME_ISO_LEN + 1];
	bool found = false;
	json_t *before = NULL, *after = NULL;
	int rc;

	*created = false;
	rc = fiscal_receptor_check(in, a, &rec, e);
	if (rc)
		return rc;
	if (rec.patient_id[0]) {
		struct patient pt;

		rc = patients_repo_get(c, keys, who->tenant_id, rec.patient_id, a, &pt, e);
		if (rc == ERR_NOT_FOUND)
			return err_set(e, ERR_INVALID,
				       arena_printf(a, "%spatientId", in->field_prefix ? in->field_prefix : ""),
				       "patientId names no patient of this tenant");
		if (rc)
			return rc;
	}
	fiscal__receptor_bidx(keys, rec.tipo_documento, rec.num_documento, bidx);
	rc = fiscal__receptor_find(c, keys, who->tenant_id, bidx, a, &old, &found, e);
	if (rc)
		return rc;
	time_now_iso(now);
	snprintf(rec.updated_at, sizeof(rec.updated_at), "%s", now);
	if (found) {
		snprintf(rec.id, sizeof(rec.id), "%s", old.id);
		snprintf(rec.created_at, sizeof(rec.created_at), "%s", old.created_at);
		merge(&rec, &old, in->nulls);
		rc = fiscal__receptor_update(c, keys, who->tenant_id, &rec, e);
		if (rc)
			return rc;
		before = audit_receptor(&old);
		after = audit_receptor(&rec);
		rc = audit_record(c, who, "receptor.update", "receptor", rec.id, before, after, NULL, e);
	} else {
		uuid_v4(rec.id);
		snprintf(rec.created_at, sizeof(rec.created_at), "%s", now);
		rc = fiscal__receptor_insert(c, keys, who->tenant_id, &rec, bidx, who->id, e);
		if (rc)
			return rc;
		after = audit_receptor(&rec);
		rc = audit_record(c, who, "receptor.create", "receptor", rec.id, NULL, after, NULL, e);
		*created = true;
	}
	json_decref(before);
	json_decref(after);
	if (rc == 0)
		*out = rec;
	return rc;
}

int fiscal_receptor_upsert(struct app *app, const struct actor *who, const struct fiscal_receptor_input *in,
			   struct arena *a, struct fiscal_receptor *out, bool *created, struct err *e)
{
	struct fiscal_receptor tmp;
	struct db_conn *c = NULL;
	int rc;

	/* shape and meaning first: nothing is opened for bad input */
	rc = fiscal_receptor_check(in, a, &tmp, e);
	if (rc)
		return rc;
	rc = db_acquire(app->db, DB_WRITE, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = fiscal_receptor_upsert_conn(c, &app->keys, who, in, a, out, created, e);
	if (rc == 0)
		rc = db_commit(c, e);
	db_release(c);
	return rc;
}

int fiscal_receptor_get(struct app *app, const char *tenant_id, const char *id, struct arena *a,
			struct fiscal_receptor *out, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	if (!uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, "id", "receptor not found");
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = fiscal__receptor_get(c, &app->keys, tenant_id, id, a, out, e);
	db_release(c);
	return rc;
}

int fiscal_receptor_list(struct app *app, const char *tenant_id, const char *num_documento, int page, int limit,
			 struct arena *a, struct fiscal_receptor **out, size_t *n, int64_t *total, struct err *e)
{
	static const char *const tipos[] = {"13", "36", "03", "02", "37"};
	const char *bidx[8];
	size_t nb = 0;
	struct db_conn *c = NULL;
	int rc;

	if (num_documento) {
		/* every canonical form the text can have, under each type */
		for (size_t i = 0; i < sizeof(tipos) / sizeof(tipos[0]); i++) {
			char canon[64], *h;
			struct err scratch;

			err_clear(&scratch);
			if (doc_canonical(tipos[i], num_documento, canon, sizeof(canon), "numDocumento", &scratch) != 0)
				continue;
			h = arena_alloc(a, 65);
			fiscal__receptor_bidx(&app->keys, tipos[i], canon, h);
			bidx[nb++] = h;
		}
	}
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = fiscal__receptor_list(c, &app->keys, tenant_id, num_documento ? bidx : NULL, nb,
				   (int64_t)(page - 1) * limit, limit, a, out, n, total, e);
	db_release(c);
	return rc;
}

int fiscal_receptor_for_patient(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
				const char *patient_id, struct arena *a, struct fiscal_receptor *out, bool *found,
				struct err *e)
{
	*found = false;
	if (!uuid_valid(patient_id))
		return 0;
	return fiscal__receptor_by_patient(c, keys, tenant_id, patient_id, a, out, found, e);
}

json_t *fiscal_receptor_json(const struct fiscal_receptor *r)
{
	json_t *dir = json_null();

	if (r->has_direccion)
		dir = json_pack("{s:s?,s:s?,s:s?}", "departamento", r->direccion.departamento, "municipio",
				r->direccion.municipio, "complemento", r->direccion.complemento);
	return json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s?,s:s?,s:o,s:s?,s:s?,s:s?,s:s,s:s}", "id", r->id, "tipoDocumento",
			 r->tipo_documento, "numDocumento", r->num_documento, "nrc", r->nrc, "nombre", r->nombre,
			 "codActividad", r->cod_actividad, "descActividad", r->desc_actividad, "direccion", dir,
			 "telefono", r->telefono, "correo", r->correo, "patientId",
			 r->patient_id[0] ? r->patient_id : NULL, "createdAt", r->created_at, "updatedAt",
			 r->updated_at);
}

/* ---- configuration ---- */

void fiscal_public_url(const struct app *app, char *out, size_t outlen)
{
	size_t n;

	if (app->cfg.public_url[0]) {
		snprintf(out, outlen, "%s", app->cfg.public_url);
	} else {
		const char *h = app->cfg.listen_host[0] ? app->cfg.listen_host : "127.0.0.1";

		if (strchr(h, ':'))
			snprintf(out, outlen, "http://[%s]:%d", h, app->cfg.listen_port);
		else
			snprintf(out, outlen, "http://%s:%d", h, app->cfg.listen_port);
	}
	n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
}

bool fiscal_webhooks_allow_private(const struct app *app)
{
	return app->cfg.webhooks_allow_private != 0;
}

int64_t fiscal_webhooks_retry_base_s(const struct app *app)
{
	return app->cfg.webhooks_retry_base_s > 0 ? app->cfg.webhooks_retry_base_s : 5;
}
