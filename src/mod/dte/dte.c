/*
 * dte.c - the rules of the DTE flow (dte.h): issuing a DTE for a billing
 * document (numbering, building, schema check, signing), writing every state
 * change with its history, audit entry and listeners, the automatic flow
 * after payment, and the operations behind POST /api/dte/submit, /retry and
 * /notes, the clinic view of a DTE and the dte-status report. Everything
 * that talks to MH is in dte_jobs.c; the SQL is in dte_repo.c.
 */
#include "mod/dte/dte_flow.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/jschema.h"
#include "core/jsonv.h"
#include "core/log.h"
#include "core/money.h"
#include "core/timeutil.h"
#include "jobs/jobs.h"
#include "mod/dte/dte_keys.h"
#include "mod/dte/dte_schemas.h"
#include "mod/fiscal/fiscal.h"
#include "mod/patients/patients.h"
#include "mod/tenants/tenants.h"

static const char *const status_names[DTE_ST_COUNT] = {"queued",   "pending", "contingency", "accepted",
						       "rejected", "error",   "invalidated"};

const char *dte_status_name(enum dte_status s)
{
	return (unsigned)s < DTE_ST_COUNT ? status_names[s] : "error";
}

int dte_status_parse(const char *name)
{
	for (int i = 0; name && i < DTE_ST_COUNT; i++)
		if (strcmp(name, status_names[i]) == 0)
			return i;
	return -1;
}

const char *dte_status_pdf_label(enum dte_status s)
{
	switch (s) {
	case DTE_ST_ACCEPTED:
		return "PROCESADO";
	case DTE_ST_REJECTED:
		return "RECHAZADO";
	case DTE_ST_INVALIDATED:
		return "INVALIDADO";
	case DTE_ST_CONTINGENCY:
		return "CONTINGENCIA";
	default:
		return "PENDIENTE";
	}
}

/* ---- the state listeners (STATE LISTENERS in dte.h) ---- */

static int fiscal_listener(struct db_conn *c, const struct actor *who, const struct dte_record *d, int previous,
			   struct err *e)
{
	(void)previous;
	return fiscal_on_dte_state(c, who, d, e);
}

static const dte_state_listener listeners[] = {
    fiscal_listener, /* fiscal contract: factura projection and dte.processed webhooks */
};

static int notify_listeners(struct db_conn *c, const struct actor *who, const struct dte_record *d, int previous,
			    struct err *e)
{
	for (size_t i = 0; i < sizeof(listeners) / sizeof(listeners[0]); i++) {
		int rc = listeners[i](c, who, d, previous, e);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- small helpers ---- */

struct actor dte__system_actor(const char *tenant_id, const char *id)
{
	struct actor a = {.tenant_id = tenant_id, .kind = "system", .id = id};

	return a;
}

void dte__local_at(int64_t epoch_s, char date[DATE_LEN + 1], char time_of_day[9])
{
	struct err e;
	char iso[TIME_ISO_LEN + 1];

	err_clear(&e);
	if (tz_local(DTE_TIME_ZONE, epoch_s, date, time_of_day, &e) == 0)
		return;
	/* no tzdata: El Salvador is UTC-6 all year (no DST since 1988) */
	time_iso(epoch_s - 6 * 3600, iso);
	snprintf(date, DATE_LEN + 1, "%.10s", iso);
	snprintf(time_of_day, 9, "%.8s", iso + 11);
}

void dte__local_now(char date[DATE_LEN + 1], char time_of_day[9])
{
	dte__local_at(time_now_s(), date, time_of_day);
}

int dte__tenant_settings(struct db_conn *c, const char *tenant_id, json_t **out, struct err *e)
{
	struct tenant t;
	int rc;

	memset(&t, 0, sizeof(t));
	*out = NULL;
	rc = tenants_get(c, tenant_id, &t, e);
	if (rc)
		return rc;
	*out = t.settings ? json_deep_copy(t.settings) : json_object();
	tenant_release(&t);
	return 0;
}


int dte__schema_check(const char *name, const char *text, struct err *e)
{
	const struct jschema *s = NULL;
	struct jschema_report *rep = xcalloc(1, sizeof(*rep));
	struct err e2;
	int rc;

	err_clear(&e2);
	rc = dte_schema_get(name, &s, &e2);
	if (rc) {
		err_set(e, ERR_INTERNAL, NULL, "the MH schema %s is not available", name ? name : "?");
		err_detail(e, "%s", e2.message);
		goto out;
	}
	rc = jschema_validate_text(s, text, strlen(text), rep, &e2);
	if (rc == 0)
		goto out;
	rc = 0;
	int first = dte_schema_first_real_error(rep);
	if (first >= 0) {
		const struct jschema_error *je = &rep->errors[first];
		rc = err_set(e, ERR_INVALID, je->path[0] ? je->path : "document",
			     "the DTE does not match MH's schema at %s: %s", je->path[0] ? je->path : "(root)",
			     je->message);
	}
	if (rc == 0 && rep->total > rep->count)
		rc = err_set(e, ERR_INVALID, "document", "the DTE does not match MH's schema");
out:
	free(rep);
	return rc;
}

int dte__sign(struct app *app, const char *emisor_nit, const char *text, char **jws, struct err *e)
{
	const struct config *cfg = &app->cfg;
	struct dte_key *k = NULL;
	struct err e2;
	const char *key_nit;
	int rc;

	*jws = NULL;
	err_clear(&e2);
	if (!cfg->dte_private_key[0] && !cfg->dte_certificate[0]) {
		err_set(e, ERR_UNAVAILABLE, NULL, "DTE signing is not configured on this server");
		err_name(e, DTE_ERR_NOT_CONFIGURED);
		return err_detail(e, "set DTE_PRIVATE_KEY or DTE_CERTIFICATE");
	}
	if (cfg->dte_nit_emisor[0] && emisor_nit && strcmp(cfg->dte_nit_emisor, emisor_nit) != 0)
		return err_set(e, ERR_INVALID, "settings.emisor.nit",
			       "settings.emisor.nit is not the NIT the DTE signing key belongs to (DTE_NIT_EMISOR)");
	rc = dte_keys_load_files(cfg->dte_private_key[0] ? cfg->dte_private_key : NULL,
				 cfg->dte_certificate[0] ? cfg->dte_certificate : NULL,
				 cfg->dte_cert_password[0] ? cfg->dte_cert_password : NULL, &k, &e2);
	if (rc) {
		err_set(e, ERR_UNAVAILABLE, NULL, "the DTE signing key cannot be loaded");
		err_name(e, DTE_ERR_NOT_CONFIGURED);
		return err_detail(e, "%s: %s", e2.field, e2.message);
	}
	key_nit = dte_keys_nit(k);
	if (key_nit && *key_nit && emisor_nit && strcmp(key_nit, emisor_nit) != 0) {
		dte_keys_free(k);
		return err_set(e, ERR_INVALID, "settings.emisor.nit",
			       "settings.emisor.nit is not the NIT of the MH certificate (DTE_CERTIFICATE)");
	}
	rc = dte_keys_sign(k, text, strlen(text), jws, e);
	dte_keys_free(k);
	return rc;
}

static const char *const cat022[] = {"36", "13", "02", "03", "37", NULL};

static const struct jv_field settings_fields[] = {
    {"autoSubmit", JV_BOOL, JV_NULLABLE, 0, 0, NULL, 0},
    {"mhUser", JV_STRING, JV_NULLABLE, 1, 64, NULL, 0},
    {"responsable", JV_OBJECT, JV_NULLABLE, 0, 0, NULL, 0},
};

static const struct jv_field responsable_fields[] = {
    {"nombre", JV_STRING, JV_REQUIRED, 5, 400, NULL, 0},
    {"tipoDocumento", JV_STRING, JV_REQUIRED, 2, 2, cat022, 0},
    {"numDocumento", JV_STRING, JV_REQUIRED, 5, 25, NULL, 0},
};

int dte_settings_check(const json_t *dte, const char *field, struct err *e)
{
	char prefix[96];
	const json_t *resp;
	int rc;

	if (!dte || json_is_null(dte))
		return 0;
	if (!json_is_object(dte))
		return err_set(e, ERR_INVALID, field, "%s must be an object", field);
	snprintf(prefix, sizeof(prefix), "%s.", field);
	rc = jv_check(dte, settings_fields, sizeof(settings_fields) / sizeof(settings_fields[0]), prefix, e);
	if (rc)
		return rc;
	resp = json_object_get(dte, "responsable");
	if (json_is_object(resp)) {
		snprintf(prefix, sizeof(prefix), "%s.responsable.", field);
		rc = jv_check(resp, responsable_fields, sizeof(responsable_fields) / sizeof(responsable_fields[0]),
			      prefix, e);
	}
	return rc;
}

/* ---- issuing ---- */

static bool doc_is_note(const struct bill_document *d)
{
	return strcmp(d->source, "credit_note") == 0 || strcmp(d->source, "debit_note") == 0;
}

/* A fiscal receptor (POST /api/receptores) as the receptor of `type`. */
static struct dte_receptor *fiscal_receptor_map(const struct fiscal_receptor *f, enum dte_type type,
						struct arena *a)
{
	struct dte_receptor *r = arena_alloc(a, sizeof(*r));
	bool business = type == DTE_CCF || type == DTE_NC || type == DTE_ND;

	if (business) {
		if (f->tipo_documento && (strcmp(f->tipo_documento, "36") == 0 || strcmp(f->tipo_documento, "13") == 0))
			r->nit = f->num_documento;
	} else {
		r->tipo_documento = f->tipo_documento;
		r->num_documento = f->num_documento;
	}
	r->nrc = f->nrc;
	r->nombre = f->nombre;
	r->cod_actividad = f->cod_actividad;
	r->desc_actividad = f->desc_actividad;
	if (f->has_direccion) {
		struct dte_address *d = arena_alloc(a, sizeof(*d));
		d->departamento = f->direccion.departamento;
		d->municipio = f->direccion.municipio;
		d->complemento = f->direccion.complemento;
		r->direccion = d;
	}
	r->telefono = f->telefono;
	r->correo = f->correo;
	return r;
}

/* The receptor of the document's patient for `type`: the fiscal receptor
 * registered for the patient, else the patient's own fiscal identity.
 * *type_out: the requested type, else 03 when that receptor has an NRC. */
static int patient_receptor(struct app *app, struct db_conn *c, const char *tenant_id, const char *patient_id,
			    const char *requested, struct arena *a, enum dte_type *type_out,
			    struct dte_receptor **out, struct err *e)
{
	struct patient p;
	struct dte_patient_identity id;
	struct fiscal_receptor fr;
	bool has_nrc, found = false;
	int rc;

	*out = NULL;
	memset(&fr, 0, sizeof(fr));
	rc = fiscal_receptor_for_patient(c, &app->keys, tenant_id, patient_id, a, &fr, &found, e);
	if (rc)
		return rc;
	if (found) {
		struct dte_receptor probe = {.nrc = fr.nrc};
		if ((rc = dte_map_type(requested, &probe, type_out, e)))
			return rc;
		*out = fiscal_receptor_map(&fr, *type_out, a);
		return 0;
	}
	memset(&p, 0, sizeof(p));
	rc = patients_repo_get(c, &app->keys, tenant_id, patient_id, a, &p, e);
	if (rc == ERR_NOT_FOUND)
		return err_set(e, ERR_INVALID, "receptor", "the document's patient no longer exists");
	if (rc)
		return rc;
	memset(&id, 0, sizeof(id));
	id.document_type = p.document_type;
	id.document_number = p.document_number;
	id.nrc = p.nrc;
	id.fiscal_name = p.fiscal_name;
	id.first_name = p.first_name;
	id.middle_name = p.middle_name;
	id.last_name = p.last_name;
	id.email = p.email;
	id.phone = p.phone;
	if (p.has_address && p.address.departamento && p.address.municipio) {
		id.departamento = p.address.departamento;
		id.municipio = p.address.municipio;
		id.line1 = p.address.line1;
		id.line2 = p.address.line2;
		id.city = p.address.city;
	}
	has_nrc = (p.nrc && *p.nrc) || (p.document_type && strcmp(p.document_type, "NRC") == 0);
	if (requested) {
		struct dte_receptor probe = {.nrc = has_nrc ? "x" : NULL};
		rc = dte_map_type(requested, &probe, type_out, e);
	} else {
		*type_out = dte_type_for_receptor(has_nrc);
	}
	if (rc)
		return rc;
	return dte_map_receptor_patient(&id, *type_out, a, out, e);
}

int dte__issue_row(struct app *app, struct db_conn *c, const struct bill_document *doc,
		   const struct dte_issue_args *args, struct arena *a, struct dte_record *r, struct err *e)
{
	json_t *settings = NULL, *tree = NULL;
	const json_t *emisor;
	const struct dte_receptor *receptor = NULL;
	struct dte_receptor *pr = NULL;
	struct dte_map_source src;
	struct dte_input in;
	struct dte_totals totals;
	enum dte_type type;
	char estable[5], punto[5], seq_name[64], nc[DTE_NUMERO_CONTROL_LEN + 1];
	char *text = NULL, *jws = NULL;
	const char *schema;
	int64_t seq = 0;
	/* the caller's choice, else the tax document the order asked for, else automatic */
	const char *requested = args->tipo_requested ? args->tipo_requested
			       : doc->tax_doc_type[0] ? doc->tax_doc_type
						      : NULL;
	int rc;

	rc = dte__tenant_settings(c, r->tenant_id, &settings, e);
	if (rc)
		goto out;
	emisor = json_object_get(settings, "emisor");
	if (!json_is_object(emisor)) {
		rc = err_set(e, ERR_INVALID, "settings.emisor",
			     "the tenant has no DTE issuer: set settings.emisor (PUT /api/v1/tenant)");
		goto out;
	}
	if (args->use_receptor) {
		receptor = args->receptor;
		rc = dte_map_type(requested, receptor, &type, e);
	} else if (doc->patient_id[0]) {
		rc = patient_receptor(app, c, r->tenant_id, doc->patient_id, requested, a, &type, &pr, e);
		receptor = pr;
	} else {
		rc = dte_map_type(requested, NULL, &type, e);
	}
	if (rc)
		goto out;
	if ((rc = dte_map_control_block(emisor, estable, punto, e)))
		goto out;
	dte__local_now(r->fec_emi, r->hor_emi);
	snprintf(seq_name, sizeof(seq_name), "DTE-%s-%s%s-%.4s", dte_type_code(type), estable, punto, r->fec_emi);
	if ((rc = dte__sequence_next(c, r->tenant_id, seq_name, &seq, e)) ||
	    (rc = dte_numero_control(type, estable, punto, seq, nc, e)))
		goto out;
	memset(&src, 0, sizeof(src));
	src.doc = doc;
	src.emisor = emisor;
	src.receptor = receptor;
	src.type = type;
	src.ambiente = app->cfg.dte_ambiente;
	src.numero_control = nc;
	src.codigo_generacion = r->codigo_generacion;
	src.fec_emi = r->fec_emi;
	src.hor_emi = r->hor_emi;
	src.doc_rel = args->doc_rel;
	src.ndoc_rel = args->ndoc_rel;
	src.apendice = args->apendice;
	src.napendice = args->napendice;
	if ((rc = dte_map_document(&src, a, &in, e)) || (rc = dte_build(&in, &tree, &totals, e)) ||
	    (rc = dte_json_dump(tree, &text, e)))
		goto out;
	schema = dte_schema_name(dte_type_code(type), totals.version->version);
	if ((rc = dte__schema_check(schema, text, e)) ||
	    (rc = dte__sign(app, json_string_value(json_object_get(emisor, "nit")), text, &jws, e)))
		goto out;
	snprintf(r->tipo_dte, sizeof(r->tipo_dte), "%s", dte_type_code(type));
	r->version = totals.version->version;
	snprintf(r->ambiente, sizeof(r->ambiente), "%s", app->cfg.dte_ambiente);
	snprintf(r->numero_control, sizeof(r->numero_control), "%s", nc);
	r->tipo_modelo = 1;
	r->tipo_operacion = 1;
	r->tipo_contingencia = 0;
	r->document_text = arena_strdup(a, text);
	r->jws = arena_strdup(a, jws);
	r->normal_text = NULL;
	r->normal_jws = NULL;
	r->total_cents = totals.total_pagar_cents;
	r->iva_cents = totals.iva_cents;
	r->sent = false;
	r->send_failures = 0;
	r->last_error = NULL;
	time_now_iso(r->issued_at);
out:
	free(text);
	free(jws);
	json_decref(tree);
	json_decref(settings);
	return rc;
}

/* Audit snapshot of a DTE: identifiers and state, never document contents. */
static json_t *audit_json(const struct dte_record *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:i}", "status", dte_status_name(r->status),
			 "documentId", r->document_id, "tipoDte", r->tipo_dte, "codigoGeneracion", r->codigo_generacion,
			 "ambiente", r->ambiente, "numeroControl", r->numero_control[0] ? r->numero_control : NULL,
			 "sello", r->sello[0] ? r->sello : NULL, "codigoMsg", r->codigo_msg, "attempts", r->attempts);
}

static void actor_text(const struct actor *who, char *out, size_t n)
{
	snprintf(out, n, "%s:%s", who->kind ? who->kind : "?", who->id ? who->id : "?");
}

int dte__create(struct db_conn *c, const struct actor *who, struct dte_record *r, const char *tipo_requested,
		const char *action, const char *note, struct err *e)
{
	char actor[96];
	json_t *after;
	int rc;

	if (!r->created_at[0])
		time_now_iso(r->created_at);
	memcpy(r->updated_at, r->created_at, sizeof(r->updated_at));
	rc = dte__insert(c, r, tipo_requested, e);
	if (rc == ERR_CONFLICT) {
		err_set(e, ERR_CONFLICT, NULL, "the document already has a DTE in progress");
		return err_name(e, "INVALID_STATE");
	}
	if (rc)
		return rc;
	actor_text(who, actor, sizeof(actor));
	rc = dte__history_add(c, r->tenant_id, r->id, NULL, dte_status_name(r->status), note, actor, e);
	if (rc)
		return rc;
	after = audit_json(r);
	rc = audit_record(c, who, action, "dte", r->id, NULL, after, note, e);
	json_decref(after);
	if (rc)
		return rc;
	return notify_listeners(c, who, r, -1, e);
}

int dte__save(struct db_conn *c, const struct actor *who, struct dte_record *r, int previous, const char *action,
	      const char *note, struct err *e)
{
	char actor[96];
	json_t *before, *after;
	int rc;

	time_now_iso(r->updated_at);
	rc = dte__update(c, r, e);
	if (rc == ERR_CONFLICT) {
		err_set(e, ERR_CONFLICT, NULL, "the document already has a DTE in progress");
		return err_name(e, "INVALID_STATE");
	}
	if (rc || previous < 0)
		return rc;
	actor_text(who, actor, sizeof(actor));
	rc = dte__history_add(c, r->tenant_id, r->id, dte_status_name((enum dte_status)previous),
			      dte_status_name(r->status), note, actor, e);
	if (rc)
		return rc;
	before = json_pack("{s:s}", "status", dte_status_name((enum dte_status)previous));
	after = audit_json(r);
	rc = audit_record(c, who, action, "dte", r->id, before, after, note, e);
	json_decref(before);
	json_decref(after);
	if (rc || previous == (int)r->status)
		return rc;
	return notify_listeners(c, who, r, previous, e);
}

int dte__enqueue_submit(struct db_conn *c, const struct dte_record *r, int64_t delay_s, struct err *e)
{
	char key[128];
	json_t *payload = json_pack("{s:s}", "dteId", r->id);
	int rc;

	snprintf(key, sizeof(key), "%s:%s:%d", DTE_JOB_SUBMIT, r->codigo_generacion, r->submit_gen);
	rc = jobs_enqueue(c, r->tenant_id, DTE_JOB_SUBMIT, payload, key, delay_s, NULL, e);
	json_decref(payload);
	return rc;
}

int dte__enqueue_contingency(struct db_conn *c, const char *tenant_id, const char *event_id, const char *suffix,
			     struct err *e)
{
	char key[160];
	json_t *payload = json_pack("{s:s}", "eventId", event_id);
	int rc;

	snprintf(key, sizeof(key), "%s:%s%s", DTE_JOB_CONTINGENCY, event_id, suffix ? suffix : "");
	rc = jobs_enqueue(c, tenant_id, DTE_JOB_CONTINGENCY, payload, key, 1, NULL, e);
	json_decref(payload);
	return rc;
}

static int invalid_state(struct err *e, const char *fmt, const char *arg)
{
	err_set(e, ERR_CONFLICT, NULL, fmt, arg);
	return err_name(e, "INVALID_STATE");
}

/* May a DTE be issued for d? */
static int document_issuable(const struct bill_document *d, struct err *e)
{
	if (d->status == BILL_CANCELLED || d->status == BILL_REFUNDED ||
	    (d->status == BILL_DRAFT && !doc_is_note(d)))
		return invalid_state(e, "cannot issue a DTE: the document is %s",
				     billing_status_clinic_name(d->status));
	if (strcmp(d->currency, "USD") != 0)
		return err_set(e, ERR_INVALID, "currency", "a DTE is issued in USD; the document is in %s",
			       d->currency);
	return 0;
}

static void new_row(struct dte_record *r, const char *tenant_id, const char *document_id, const struct actor *who)
{
	memset(r, 0, sizeof(*r));
	uuid_v4(r->id);
	uuid_v4_upper(r->codigo_generacion);
	snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", tenant_id);
	snprintf(r->document_id, sizeof(r->document_id), "%s", document_id);
	snprintf(r->created_by, sizeof(r->created_by), "%s", who->id ? who->id : "");
	snprintf(r->tipo_dte, sizeof(r->tipo_dte), "01");
	snprintf(r->ambiente, sizeof(r->ambiente), "00");
}

/* Issue a new pending row for doc (in c's transaction) and enqueue it. */
static int issue_new(struct app *app, struct db_conn *c, const struct actor *who, const struct bill_document *doc,
		     const struct dte_issue_args *args, const char *replaces, struct arena *a,
		     struct dte_record **out, struct err *e)
{
	struct dte_record *r = arena_alloc(a, sizeof(*r));
	int rc;

	new_row(r, who->tenant_id, doc->id, who);
	if (replaces)
		snprintf(r->replaces, sizeof(r->replaces), "%s", replaces);
	rc = dte__issue_row(app, c, doc, args, a, r, e);
	if (rc)
		return rc;
	r->status = DTE_ST_PENDING;
	rc = dte__create(c, who, r, args->tipo_requested, "dte.issue", "issued and signed", e);
	if (rc == 0)
		rc = dte__enqueue_submit(c, r, 0, e);
	if (rc == 0 && out)
		*out = r;
	return rc;
}

static void upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

int dte_issue(struct app *app, struct db_conn *c, const struct actor *who, const char *document_id,
	      const struct dte_issue_opts *opts, struct arena *a, struct dte_record **out, struct err *e)
{
	struct bill_document *doc = NULL;
	struct dte_record *cur = NULL;
	struct dte_issue_args args;
	char replaces[UUID_LEN + 1] = "";
	struct err e2;
	int rc;

	if (out)
		*out = NULL;
	memset(&args, 0, sizeof(args));
	if (opts) {
		args.tipo_requested = opts->tipo_dte;
		args.receptor = opts->receptor;
		args.use_receptor = opts->receptor != NULL;
		args.apendice = opts->apendice;
		args.napendice = opts->napendice;
		if (opts->replaces) {
			if (!uuid_valid(opts->replaces))
				return err_set(e, ERR_INVALID, "replaces", "replaces must be a codigoGeneracion");
			snprintf(replaces, sizeof(replaces), "%s", opts->replaces);
			upper(replaces);
		}
	}
	if (!document_id || !uuid_valid(document_id))
		return err_set(e, ERR_NOT_FOUND, NULL, "document not found");
	rc = billing_get_conn(c, who->tenant_id, document_id, BILL_WITH_LINES | BILL_WITH_PAYMENTS | BILL_FOR_UPDATE,
			      a, &doc, e);
	if (rc)
		return rc;
	if ((rc = document_issuable(doc, e)))
		return rc;
	err_clear(&e2);
	rc = dte__current(c, who->tenant_id, doc->id, true, a, &cur, &e2);
	if (rc && rc != ERR_NOT_FOUND) {
		*e = e2;
		return rc;
	}
	if (rc == 0) {
		if (replaces[0]) {
			if (cur->status != DTE_ST_ACCEPTED || strcmp(cur->codigo_generacion, replaces) != 0)
				return invalid_state(e, "replaces must name the document's accepted DTE (%s)",
						     dte_status_name(cur->status));
		} else if (cur->status != DTE_ST_INVALIDATED) {
			return invalid_state(e, "the document already has a DTE (%s)", dte_status_name(cur->status));
		}
	} else if (replaces[0]) {
		return err_set(e, ERR_INVALID, "replaces", "replaces must name the document's accepted DTE");
	}
	return issue_new(app, c, who, doc, &args, replaces[0] ? replaces : NULL, a, out, e);
}

int dte_on_document_paid(struct db_conn *c, const struct actor *who, const struct bill_document *doc,
			 struct err *e)
{
	json_t *settings = NULL;
	const json_t *dte_set, *auto_flag;
	struct dte_record r;
	bool has = false;
	int rc;

	if (strcmp(doc->currency, "USD") != 0 || doc_is_note(doc))
		return 0;
	rc = dte__tenant_settings(c, who->tenant_id, &settings, e);
	if (rc == ERR_NOT_FOUND) {
		err_clear(e);
		return 0;
	}
	if (rc)
		return rc;
	dte_set = json_object_get(settings, "dte");
	auto_flag = json_object_get(dte_set, "autoSubmit");
	if (!json_is_object(json_object_get(settings, "emisor")) || json_is_false(auto_flag))
		goto out;
	rc = dte__document_has_dte(c, who->tenant_id, doc->id, &has, e);
	if (rc || has)
		goto out;
	new_row(&r, who->tenant_id, doc->id, who);
	r.status = DTE_ST_QUEUED;
	r.auto_submit = true;
	rc = dte__create(c, who, &r, NULL, "dte.queue", "paid: automatic DTE", e);
	if (rc == 0)
		rc = dte__enqueue_submit(c, &r, 0, e);
	if (rc == 0)
		log_info("msg=\"dte queued after payment\" tenant=%s document=%s dte=%s", who->tenant_id, doc->id,
			 r.id);
out:
	json_decref(settings);
	return rc;
}

/* ---- lookups and views ---- */

int dte_get_by_codigo(struct db_conn *c, const char *tenant_id, const char *codigo, struct arena *a,
		      struct dte_record **out, struct err *e)
{
	char key[UUID_LEN + 1];

	if (!codigo || !uuid_valid(codigo))
		return err_set(e, ERR_NOT_FOUND, NULL, "DTE not found");
	snprintf(key, sizeof(key), "%s", codigo);
	upper(key);
	return dte__get(c, tenant_id, DTE_BY_CODIGO, key, false, a, out, e);
}

int dte_get_current(struct db_conn *c, const char *tenant_id, const char *document_id, struct arena *a,
		    struct dte_record **out, struct err *e)
{
	if (!document_id || !uuid_valid(document_id))
		return err_set(e, ERR_NOT_FOUND, NULL, "DTE not found");
	return dte__current(c, tenant_id, document_id, false, a, out, e);
}

int dte_list_for_document(struct db_conn *c, const char *tenant_id, const char *document_id, struct arena *a,
			  struct dte_record **out, size_t *n, struct err *e)
{
	return dte__list_document(c, tenant_id, document_id, a, out, n, e);
}

int dte_history_json(struct db_conn *c, const char *tenant_id, const char *dte_id, json_t **out, struct err *e)
{
	return dte__history_json(c, tenant_id, dte_id, out, e);
}

int dte_delivered_text(const struct dte_record *r, char **out, struct err *e)
{
	*out = NULL;
	if (!r->document_text || !r->jws)
		return invalid_state(e, "the DTE has not been issued yet (%s)", dte_status_name(r->status));
	return dte_json_delivered(r->document_text, r->jws, r->sello[0] ? r->sello : NULL, out, e);
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

json_t *dte_record_json(const struct dte_record *r)
{
	bool issued = r->numero_control[0] != '\0';
	json_t *o = json_object(), *obs = NULL, *errors = json_array();
	char url[160];

	if (r->observaciones)
		obs = json_loads(r->observaciones, 0, NULL);
	if (!json_is_array(obs)) {
		json_decref(obs);
		obs = json_array();
	}
	if (r->status == DTE_ST_REJECTED && r->descripcion_msg)
		json_array_append_new(errors, json_string(r->descripcion_msg));
	if (r->status == DTE_ST_REJECTED) {
		size_t i;
		json_t *v;
		json_array_foreach(obs, i, v) json_array_append(errors, v);
	}
	if (r->last_error && r->status != DTE_ST_ACCEPTED && r->status != DTE_ST_REJECTED)
		json_array_append_new(errors, json_string(r->last_error));
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "orderId", json_string(r->document_id));
	json_object_set_new(o, "status", json_string(dte_status_name(r->status)));
	json_object_set_new(o, "tipoDte", issued ? json_string(r->tipo_dte) : json_null());
	json_object_set_new(o, "version", issued ? json_integer(r->version) : json_null());
	json_object_set_new(o, "ambiente", issued ? json_string(r->ambiente) : json_null());
	json_object_set_new(o, "numeroControl", str_or_null(r->numero_control));
	json_object_set_new(o, "codigoGeneracion", json_string(r->codigo_generacion));
	json_object_set_new(o, "fecEmi", str_or_null(r->fec_emi));
	json_object_set_new(o, "horEmi", str_or_null(r->hor_emi));
	json_object_set_new(o, "tipoModelo", issued ? json_integer(r->tipo_modelo) : json_null());
	json_object_set_new(o, "tipoOperacion", issued ? json_integer(r->tipo_operacion) : json_null());
	json_object_set_new(o, "tipoContingencia", r->tipo_contingencia ? json_integer(r->tipo_contingencia)
								    : json_null());
	json_object_set_new(o, "sello", str_or_null(r->sello));
	json_object_set_new(o, "fhProcesamiento", str_or_null(r->fh_procesamiento));
	json_object_set_new(o, "clasificaMsg", str_or_null(r->clasifica_msg));
	json_object_set_new(o, "codigoMsg", str_or_null(r->codigo_msg));
	json_object_set_new(o, "descripcionMsg", str_or_null(r->descripcion_msg));
	json_object_set_new(o, "observaciones", obs);
	json_object_set_new(o, "errors", errors);
	json_object_set_new(o, "lastError", str_or_null(r->last_error));
	json_object_set_new(o, "attempts", json_integer(r->attempts));
	json_object_set_new(o, "total", issued ? money_json_string(r->total_cents, 2) : json_null());
	json_object_set_new(o, "iva", issued ? money_json_string(r->iva_cents, 2) : json_null());
	json_object_set_new(o, "relatedCodigo", str_or_null(r->related_codigo));
	json_object_set_new(o, "replaces", str_or_null(r->replaces));
	json_object_set_new(o, "replacedBy", str_or_null(r->replaced_by));
	json_object_set_new(o, "automatic", json_boolean(r->auto_submit));
	snprintf(url, sizeof(url), "/api/dte/xml/%s", r->codigo_generacion);
	json_object_set_new(o, "jsonUrl", json_string(url));
	snprintf(url, sizeof(url), "/api/dte/xml/%s?format=xml", r->codigo_generacion);
	json_object_set_new(o, "xmlUrl", json_string(url));
	snprintf(url, sizeof(url), "/api/dte/pdf/%s", r->codigo_generacion);
	json_object_set_new(o, "pdfUrl", json_string(url));
	json_object_set_new(o, "createdAt", json_string(r->created_at));
	json_object_set_new(o, "updatedAt", json_string(r->updated_at));
	json_object_set_new(o, "issuedAt", str_or_null(r->issued_at));
	json_object_set_new(o, "acceptedAt", str_or_null(r->accepted_at));
	json_object_set_new(o, "invalidatedAt", str_or_null(r->invalidated_at));
	return o;
}

/* ---- operations ---- */

/* One write transaction on app->db around fn. */
static int write_tx(struct app *app, int (*fn)(struct app *app, struct db_conn *c, void *arg, struct err *e),
		    void *arg, struct err *e)
{
	struct db_conn *c = NULL;
	int rc = db_acquire(app->db, DB_WRITE, &c, e);

	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0) {
		rc = fn(app, c, arg, e);
		if (rc == 0)
			rc = db_commit(c, e);
		else
			db_rollback(c);
	}
	db_release(c);
	return rc;
}

struct submit_arg {
	const struct actor *who;
	const char *order_id, *tipo, *replaces;
	struct arena *a;
	struct dte_record *out;
	bool created;
};

static int submit_fn(struct app *app, struct db_conn *c, void *argp, struct err *e)
{
	struct submit_arg *s = argp;
	struct bill_document *doc = NULL;
	struct dte_record *cur = NULL;
	struct dte_issue_args args;
	struct err e2;
	int rc;

	memset(&args, 0, sizeof(args));
	args.tipo_requested = s->tipo;
	rc = billing_get_conn(c, s->who->tenant_id, s->order_id, BILL_WITH_LINES | BILL_WITH_PAYMENTS | BILL_FOR_UPDATE,
			      s->a, &doc, e);
	if (rc)
		return rc;
	if ((rc = document_issuable(doc, e)))
		return rc;
	err_clear(&e2);
	rc = dte__current(c, s->who->tenant_id, doc->id, true, s->a, &cur, &e2);
	if (rc && rc != ERR_NOT_FOUND) {
		*e = e2;
		return rc;
	}
	if (rc == ERR_NOT_FOUND) {
		if (s->replaces)
			return err_set(e, ERR_INVALID, "replaces", "replaces must name the order's accepted DTE");
		s->created = true;
		return issue_new(app, c, s->who, doc, &args, NULL, s->a, &s->out, e);
	}
	if (s->replaces) {
		if (cur->status != DTE_ST_ACCEPTED || strcmp(cur->codigo_generacion, s->replaces) != 0)
			return err_set(e, ERR_INVALID, "replaces", "replaces must name the order's accepted DTE");
		s->created = true;
		return issue_new(app, c, s->who, doc, &args, s->replaces, s->a, &s->out, e);
	}
	switch (cur->status) {
	case DTE_ST_QUEUED: {
		const char *requested = NULL;
		if ((rc = dte__tipo_requested(c, s->who->tenant_id, cur->id, s->a, &requested, e)))
			return rc;
		args.tipo_requested = s->tipo ? s->tipo : requested;
		if ((rc = dte__issue_row(app, c, doc, &args, s->a, cur, e)))
			return rc;
		cur->status = DTE_ST_PENDING;
		if ((rc = dte__save(c, s->who, cur, DTE_ST_QUEUED, "dte.issue", "issued and signed", e)) ||
		    (rc = dte__enqueue_submit(c, cur, 0, e)))
			return rc;
		s->created = true;
		s->out = cur;
		return 0;
	}
	case DTE_ST_PENDING:
	case DTE_ST_CONTINGENCY:
	case DTE_ST_ACCEPTED:
		if (s->tipo && strcmp(s->tipo, cur->tipo_dte) != 0)
			return invalid_state(e,
					     "the order already has a DTE of type %s (to change it, invalidate and "
					     "replace it)",
					     cur->tipo_dte);
		s->out = cur;
		return 0;
	case DTE_ST_INVALIDATED:
		s->created = true;
		return issue_new(app, c, s->who, doc, &args, NULL, s->a, &s->out, e);
	default:
		return invalid_state(e, "the order's DTE is %s: use POST /api/dte/retry",
				     dte_status_name(cur->status));
	}
}

int dte_submit(struct app *app, const struct actor *who, const char *order_id, const char *tipo_dte,
	       const char *replaces, struct arena *a, struct dte_record **out, bool *created, struct err *e)
{
	struct submit_arg s = {.who = who, .order_id = order_id, .tipo = tipo_dte, .a = a};
	char rep[UUID_LEN + 1];
	int rc;

	*out = NULL;
	*created = false;
	if (!order_id || !uuid_valid(order_id))
		return err_set(e, ERR_NOT_FOUND, NULL, "order not found");
	if (tipo_dte && strcmp(tipo_dte, "01") != 0 && strcmp(tipo_dte, "03") != 0)
		return err_set(e, ERR_INVALID, "tipoDte", "tipoDte must be 01 (Factura) or 03 (Crédito Fiscal)");
	if (replaces) {
		if (!uuid_valid(replaces))
			return err_set(e, ERR_INVALID, "replaces", "replaces must be a codigoGeneracion");
		snprintf(rep, sizeof(rep), "%s", replaces);
		upper(rep);
		s.replaces = rep;
	}
	rc = write_tx(app, submit_fn, &s, e);
	if (rc)
		return rc;
	jobs_notify(app->jobs);
	*out = s.out;
	*created = s.created;
	return 0;
}

/* The issue arguments that rebuild a note's DTE: the original CCF's
 * receptor and the documentoRelacionado. */
static int note_args(const struct dte_record *orig, struct arena *a, struct dte_issue_args *args, struct err *e)
{
	json_t *tree = NULL;
	struct dte_receptor *rc_receptor = NULL;
	struct dte_doc_rel *rel;
	int rc;

	if (!orig->document_text)
		return invalid_state(e, "the related DTE %s has not been issued", orig->codigo_generacion);
	rc = dte_json_load(orig->document_text, &tree, e);
	if (rc)
		return rc;
	rc = dte_map_receptor_json(json_object_get(tree, "receptor"), a, &rc_receptor, e);
	json_decref(tree);
	if (rc)
		return rc;
	rel = arena_alloc(a, sizeof(*rel));
	rel->tipo_documento = arena_strdup(a, orig->tipo_dte);
	rel->tipo_generacion = 2;
	rel->numero_documento = arena_strdup(a, orig->codigo_generacion);
	rel->fecha_emision = arena_strdup(a, orig->fec_emi);
	args->receptor = rc_receptor;
	args->use_receptor = true;
	args->doc_rel = rel;
	args->ndoc_rel = 1;
	return 0;
}

struct retry_arg {
	const struct actor *who;
	const char *order_id, *codigo;
	struct arena *a;
	struct dte_record *out;
};

static int retry_fn(struct app *app, struct db_conn *c, void *argp, struct err *e)
{
	struct retry_arg *s = argp;
	const char *tenant = s->who->tenant_id;
	struct dte_record *r = NULL;
	struct bill_document *doc = NULL;
	struct dte_issue_args args;
	const char *requested = NULL;
	char key[128];
	bool alive = false;
	int rc, prev;

	memset(&args, 0, sizeof(args));
	if (s->codigo)
		rc = dte__get(c, tenant, DTE_BY_CODIGO, s->codigo, true, s->a, &r, e);
	else
		rc = dte__current(c, tenant, s->order_id, true, s->a, &r, e);
	if (rc)
		return rc;
	prev = (int)r->status;
	if ((rc = dte__tipo_requested(c, tenant, r->id, s->a, &requested, e)))
		return rc;
	args.tipo_requested = requested;
	if (r->related_codigo[0]) {
		struct dte_record *orig = NULL;
		if ((rc = dte__get(c, tenant, DTE_BY_CODIGO, r->related_codigo, false, s->a, &orig, e)) ||
		    (rc = note_args(orig, s->a, &args, e)))
			return rc;
		args.tipo_requested = r->tipo_dte;
	}
	switch (r->status) {
	case DTE_ST_ACCEPTED:
	case DTE_ST_INVALIDATED:
		return invalid_state(e, "cannot retry: the DTE is %s", dte_status_name(r->status));
	case DTE_ST_REJECTED: {
		/* MH received and refused it: a corrected document, new codes */
		struct dte_record *n = NULL;
		if (r->replaced_by[0])
			return invalid_state(e, "cannot retry: the DTE was already replaced by %s", r->replaced_by);
		if ((rc = billing_get_conn(c, tenant, r->document_id,
					   BILL_WITH_LINES | BILL_WITH_PAYMENTS | BILL_FOR_UPDATE, s->a, &doc, e)) ||
		    (rc = document_issuable(doc, e)))
			return rc;
		n = arena_alloc(s->a, sizeof(*n));
		new_row(n, tenant, doc->id, s->who);
		snprintf(n->replaces, sizeof(n->replaces), "%s", r->codigo_generacion);
		snprintf(n->related_codigo, sizeof(n->related_codigo), "%s", r->related_codigo);
		if ((rc = dte__issue_row(app, c, doc, &args, s->a, n, e)))
			return rc;
		n->status = DTE_ST_PENDING;
		snprintf(r->replaced_by, sizeof(r->replaced_by), "%s", n->codigo_generacion);
		if ((rc = dte__save(c, s->who, r, -1, NULL, NULL, e)) ||
		    (rc = dte__create(c, s->who, n, requested, "dte.retry", "corrected after a rejection", e)) ||
		    (rc = dte__enqueue_submit(c, n, 0, e)))
			return rc;
		s->out = n;
		return 0;
	}
	case DTE_ST_ERROR:
	case DTE_ST_QUEUED:
	case DTE_ST_PENDING:
		if (r->status != DTE_ST_ERROR) {
			snprintf(key, sizeof(key), "%s:%s:%d", DTE_JOB_SUBMIT, r->codigo_generacion, r->submit_gen);
			if ((rc = dte__job_alive(c, key, &alive, e)))
				return rc;
			if (alive)
				return invalid_state(e, "cannot retry: the DTE is %s and its submission is in progress",
						     dte_status_name(r->status));
		}
		if (!r->numero_control[0]) {
			/* never issued: issue it now, same codigoGeneracion */
			if ((rc = billing_get_conn(c, tenant, r->document_id,
						   BILL_WITH_LINES | BILL_WITH_PAYMENTS | BILL_FOR_UPDATE, s->a, &doc,
						   e)) ||
			    (rc = document_issuable(doc, e)) || (rc = dte__issue_row(app, c, doc, &args, s->a, r, e)))
				return rc;
		}
		/* never received by MH: the same signed document again */
		r->status = DTE_ST_PENDING;
		r->send_failures = 0;
		r->last_error = NULL;
		r->submit_gen++;
		if ((rc = dte__save(c, s->who, r, prev, "dte.retry", "submitted again", e)) ||
		    (rc = dte__enqueue_submit(c, r, 0, e)))
			return rc;
		s->out = r;
		return 0;
	case DTE_ST_CONTINGENCY: {
		struct dte_event *ev = NULL;
		if (r->contingency_event_id[0]) {
			if ((rc = dte__event_get(c, tenant, r->contingency_event_id, true, s->a, &ev, e)))
				return rc;
			if (strcmp(ev->status, "rejected") != 0 && strcmp(ev->status, "failed") != 0)
				return invalid_state(e, "cannot retry: the contingency event is %s", ev->status);
		}
		/* a new event for it */
		r->contingency_event_id[0] = '\0';
		if ((rc = dte__attach_contingency(c, s->who, r, prev, "reported again in a new contingency event",
						  s->a, e)))
			return rc;
		s->out = r;
		return 0;
	}
	default:
		return invalid_state(e, "cannot retry: the DTE is %s", dte_status_name(r->status));
	}
}

int dte_retry(struct app *app, const struct actor *who, const char *order_id, const char *codigo, struct arena *a,
	      struct dte_record **out, struct err *e)
{
	struct retry_arg s = {.who = who, .a = a};
	char key[UUID_LEN + 1];
	int rc;

	*out = NULL;
	if (codigo) {
		if (!uuid_valid(codigo))
			return err_set(e, ERR_NOT_FOUND, NULL, "DTE not found");
		snprintf(key, sizeof(key), "%s", codigo);
		upper(key);
		s.codigo = key;
	} else if (!order_id || !uuid_valid(order_id)) {
		return err_set(e, ERR_NOT_FOUND, NULL, "order not found");
	}
	s.order_id = order_id;
	rc = write_tx(app, retry_fn, &s, e);
	if (rc)
		return rc;
	jobs_notify(app->jobs);
	*out = s.out;
	return 0;
}

/* ---- notes ---- */

struct note_arg {
	const struct actor *who;
	const struct dte_note_input *in;
	char codigo[UUID_LEN + 1];
	struct arena *a;
	struct dte_record *out;
	char doc_id[UUID_LEN + 1];
};

static int note_fn(struct app *app, struct db_conn *c, void *argp, struct err *e)
{
	struct note_arg *s = argp;
	const char *tenant = s->who->tenant_id;
	bool credit = strcmp(s->in->tipo_dte, "05") == 0;
	struct dte_record *orig = NULL, *prev = NULL, *n = NULL;
	struct bill_document *odoc = NULL, *ndoc = NULL;
	struct bill_input bin;
	struct bill_line_input *lines;
	struct dte_issue_args args;
	static const char *const live[] = {"queued", "pending", "contingency", "accepted", NULL};
	size_t nprev = 0;
	int64_t credited = 0;
	int rc;

	rc = dte__get(c, tenant, DTE_BY_CODIGO, s->codigo, true, s->a, &orig, e);
	if (rc == ERR_NOT_FOUND)
		return err_set(e, ERR_NOT_FOUND, NULL, "DTE not found");
	if (rc)
		return rc;
	if (strcmp(orig->tipo_dte, "03") != 0)
		return err_set(e, ERR_INVALID, "codigoGeneracion",
			       "credit and debit notes adjust a Crédito Fiscal (03); this DTE is a %s",
			       orig->tipo_dte);
	if (orig->status != DTE_ST_ACCEPTED)
		return invalid_state(e, "notes need an accepted Crédito Fiscal; this one is %s",
				     dte_status_name(orig->status));
	if ((rc = billing_get_conn(c, tenant, orig->document_id, 0, s->a, &odoc, e)))
		return rc;

	memset(&bin, 0, sizeof(bin));
	lines = arena_alloc(s->a, s->in->nitems * sizeof(*lines));
	for (size_t i = 0; i < s->in->nitems; i++) {
		const struct dte_note_item *it = &s->in->items[i];
		const char *t = it->treatment ? it->treatment : "taxable";
		lines[i].item_type = "service";
		lines[i].item_name = it->description;
		lines[i].item_code = it->code;
		lines[i].quantity_milli = it->quantity_milli;
		lines[i].has_unit_price = true;
		lines[i].unit_price_micro = it->unit_price_micro;
		lines[i].tax_treatment = t;
		lines[i].has_tax_pct = true;
		lines[i].tax_pct = strcmp(t, "taxable") == 0 ? 130000 : 0;
	}
	bin.source = credit ? "credit_note" : "debit_note";
	bin.patient_id = odoc->patient_id[0] ? odoc->patient_id : NULL;
	bin.currency = "USD";
	bin.prices_include_tax = false;
	bin.initial_status = credit ? BILL_DRAFT : BILL_PENDING;
	bin.description = s->in->reason;
	bin.lines = lines;
	bin.nlines = s->in->nitems;
	bin.audit_reason = s->in->reason;
	bin.lines_field = "items";
	if ((rc = billing_create_conn(c, s->who, &bin, s->a, &ndoc, e)))
		return rc;
	{
		char nid[UUID_LEN + 1];
		memcpy(nid, ndoc->id, sizeof(nid));
		if ((rc = billing_get_conn(c, tenant, nid, BILL_WITH_LINES | BILL_WITH_PAYMENTS, s->a, &ndoc, e)))
			return rc;
	}

	memset(&args, 0, sizeof(args));
	if ((rc = note_args(orig, s->a, &args, e)))
		return rc;
	args.tipo_requested = s->in->tipo_dte;
	n = arena_alloc(s->a, sizeof(*n));
	new_row(n, tenant, ndoc->id, s->who);
	snprintf(n->related_codigo, sizeof(n->related_codigo), "%s", orig->codigo_generacion);
	if ((rc = dte__issue_row(app, c, ndoc, &args, s->a, n, e)))
		return rc;
	if (credit) {
		/* MH 016: a credit note may not exceed what it adjusts */
		if ((rc = dte__list_related(c, tenant, orig->codigo_generacion, live, s->a, &prev, &nprev, e)))
			return rc;
		for (size_t i = 0; i < nprev; i++)
			if (strcmp(prev[i].tipo_dte, "05") == 0)
				credited += prev[i].total_cents;
		if (credited + n->total_cents > orig->total_cents)
			return err_set(e, ERR_INVALID, "items",
				       "the credit note exceeds what remains of the Crédito Fiscal it adjusts");
	}
	n->status = DTE_ST_PENDING;
	if ((rc = dte__create(c, s->who, n, s->in->tipo_dte, "dte.note", s->in->reason, e)) ||
	    (rc = dte__enqueue_submit(c, n, 0, e)))
		return rc;
	s->out = n;
	memcpy(s->doc_id, ndoc->id, sizeof(s->doc_id));
	return 0;
}

int dte_note_create(struct app *app, const struct actor *who, const struct dte_note_input *in, struct arena *a,
		    struct dte_record **out, char doc_id_out[UUID_LEN + 1], struct err *e)
{
	struct note_arg s = {.who = who, .in = in, .a = a};
	int rc;

	*out = NULL;
	doc_id_out[0] = '\0';
	if (!in->tipo_dte || (strcmp(in->tipo_dte, "05") != 0 && strcmp(in->tipo_dte, "06") != 0))
		return err_set(e, ERR_INVALID, "tipoDte", "tipoDte must be 05 (nota de crédito) or 06 (nota de débito)");
	if (!in->codigo_generacion || !uuid_valid(in->codigo_generacion))
		return err_set(e, ERR_INVALID, "codigoGeneracion", "codigoGeneracion must be the UUID of a DTE");
	if (in->nitems < 1 || in->nitems > BILL_MAX_LINES)
		return err_set(e, ERR_INVALID, "items", "items must have 1 to %d entries", BILL_MAX_LINES);
	if (!in->reason || !*in->reason || strlen(in->reason) > BILL_REASON_MAX)
		return err_set(e, ERR_INVALID, "reason", "reason is required (1 to %d bytes)", BILL_REASON_MAX);
	for (size_t i = 0; i < in->nitems; i++) {
		const struct dte_note_item *it = &in->items[i];
		char f[48];
		if (it->treatment && strcmp(it->treatment, "taxable") != 0 && strcmp(it->treatment, "exempt") != 0 &&
		    strcmp(it->treatment, "not_subject") != 0) {
			snprintf(f, sizeof(f), "items[%zu].taxTreatment", i);
			return err_set(e, ERR_INVALID, f, "%s must be taxable, exempt or not_subject", f);
		}
	}
	snprintf(s.codigo, sizeof(s.codigo), "%s", in->codigo_generacion);
	upper(s.codigo);
	rc = write_tx(app, note_fn, &s, e);
	if (rc)
		return rc;
	jobs_notify(app->jobs);
	*out = s.out;
	memcpy(doc_id_out, s.doc_id, UUID_LEN + 1);
	return 0;
}

/* ---- the dte-status report ---- */

int dte_report_status(struct app *app, const char *tenant_id, const char *from, const char *to, json_t **out,
		      struct err *e)
{
	struct db_conn *c = NULL;
	struct db_rows *rows = NULL;
	struct arena *a = arena_new(16u << 20);
	struct dte_record *probs = NULL;
	size_t nprobs = 0;
	json_t *by_status = json_object(), *by_type = json_object(), *rejections = json_array(), *pending,
	       *events = json_array(), *pend_by = json_object();
	int64_t total = 0, pend_count = 0;
	char oldest[TIME_ISO_LEN + 1] = "", now[TIME_ISO_LEN + 1];
	int rc;

	*out = NULL;
	for (int i = 0; i < DTE_ST_COUNT; i++)
		json_object_set_new(by_status, status_names[i], json_integer(0));
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		goto out;
	if ((rc = dte__report_counts(c, tenant_id, from, to, &rows, e)))
		goto out;
	for (size_t i = 0; i < db_rows_count(rows); i++) {
		const char *st = db_rows_text(rows, i, 0), *tp = db_rows_text(rows, i, 1);
		int64_t n = db_rows_int(rows, i, 2);
		json_t *t;
		if (!st || !tp)
			continue;
		json_object_set_new(by_status, st, json_integer(json_integer_value(json_object_get(by_status, st)) + n));
		t = json_object_get(by_type, tp);
		if (!t) {
			t = json_pack("{s:I, s:{}}", "total", (json_int_t)0, "byStatus");
			json_object_set_new(by_type, tp, t);
		}
		json_object_set_new(t, "total", json_integer(json_integer_value(json_object_get(t, "total")) + n));
		json_object_set_new(json_object_get(t, "byStatus"), st, json_integer(n));
		total += n;
	}
	db_rows_free(rows);
	rows = NULL;
	if ((rc = dte__report_problems(c, tenant_id, from, to, 100, a, &probs, &nprobs, e)))
		goto out;
	for (size_t i = 0; i < nprobs; i++) {
		const struct dte_record *r = &probs[i];
		json_t *obs = r->observaciones ? json_loads(r->observaciones, 0, NULL) : NULL;
		json_array_append_new(
		    rejections,
		    json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s}", "codigoGeneracion",
			      r->codigo_generacion, "orderId", r->document_id, "status", dte_status_name(r->status),
			      "tipoDte", r->numero_control[0] ? json_string(r->tipo_dte) : json_null(), "numeroControl",
			      r->numero_control, "codigoMsg", str_or_null(r->codigo_msg), "descripcionMsg",
			      str_or_null(r->descripcion_msg), "observaciones", json_is_array(obs) ? obs : json_array(),
			      "reason",
			      str_or_null(r->status == DTE_ST_REJECTED && r->descripcion_msg ? r->descripcion_msg
											    : r->last_error),
			      "updatedAt", r->updated_at));
		if (!json_is_array(obs))
			json_decref(obs);
	}
	if ((rc = dte__report_pending(c, tenant_id, &rows, e)))
		goto out;
	for (size_t i = 0; i < db_rows_count(rows); i++) {
		const char *st = db_rows_text(rows, i, 0), *first = db_rows_text(rows, i, 2);
		int64_t n = db_rows_int(rows, i, 1);
		json_object_set_new(pend_by, st ? st : "?", json_integer(n));
		pend_count += n;
		if (first && (!oldest[0] || strcmp(first, oldest) < 0))
			snprintf(oldest, sizeof(oldest), "%s", first);
	}
	db_rows_free(rows);
	rows = NULL;
	time_now_iso(now);
	{
		int64_t age = 0, t0;
		struct err e2;
		err_clear(&e2);
		if (oldest[0] && time_parse_iso(oldest, &t0, NULL, &e2) == 0)
			age = time_now_s() - t0;
		pending = json_pack("{s:I, s:o, s:o, s:I}", "count", (json_int_t)pend_count, "byStatus", pend_by,
				    "oldestCreatedAt", str_or_null(oldest), "oldestAgeSeconds", (json_int_t)age);
		pend_by = NULL;
	}
	if ((rc = dte__report_events(c, tenant_id, &rows, e)))
		goto out_pending;
	for (size_t i = 0; i < db_rows_count(rows); i++)
		json_array_append_new(events,
				      json_pack("{s:s, s:s, s:o, s:s, s:o, s:I}", "id", db_rows_text(rows, i, 0),
						"status", db_rows_text(rows, i, 1), "codigoGeneracion",
						str_or_null(db_rows_text(rows, i, 2)), "createdAt",
						db_rows_text(rows, i, 3), "descripcionMsg",
						str_or_null(db_rows_text(rows, i, 4)), "documents",
						(json_int_t)db_rows_int(rows, i, 5)));
	*out = json_pack("{s:o, s:o, s:I, s:O, s:O, s:O, s:O, s:s}", "from", from ? json_string(from) : json_null(),
			 "to", to ? json_string(to) : json_null(), "total", (json_int_t)total, "byStatus", by_status,
			 "byType", by_type, "rejections", rejections, "contingencyEvents", events, "generatedAt",
			 now);
	json_object_set(*out, "pending", pending);
out_pending:
	json_decref(pending);
out:
	db_rows_free(rows);
	if (c)
		db_release(c);
	json_decref(by_status);
	json_decref(by_type);
	json_decref(rejections);
	json_decref(events);
	json_decref(pend_by);
	arena_free(a);
	return rc;
}
