/*
 * patients_http.c - the /api/patients routes (clinic contract): JSON bodies
 * and query strings into patient inputs, patient records into JSON.
 *
 * Shape (types, lengths, enumerations, unknown fields) is checked here with
 * jv_check tables, nested for the address and for each insurance policy;
 * meaning (check digits, dates, phone form, one primary policy ...) is
 * patients.c's. Responses carry the decrypted fields: every route here
 * requires patients:read or a stronger patients permission.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "http/handlers.h"
#include "mod/patients/patients.h"

#define PATIENTS_PAGE_DEFAULT 20
#define PATIENTS_PAGE_MAX     100
#define NFIELDS(t)	      (sizeof(t) / sizeof((t)[0]))

static const char *const sex_values[] = {"female", "male", "other", "unknown", NULL};
static const char *const doc_values[] = {"DUI", "NIT", "NRC", "RNC", "CEDULA", "PASSPORT", "OTHER", NULL};
static const char *const relationship_values[] = {"self", "spouse", "child", "other", NULL};

/* Byte caps: characters are counted by patients_validate (4 bytes per
 * character at most in UTF-8). */
static const struct jv_field patient_fields[] = {
    {"firstName", JV_STRING, 0, 0, 4 * PATIENT_NAME_MAX, NULL, 0},
    {"lastName", JV_STRING, 0, 0, 4 * PATIENT_NAME_MAX, NULL, 0},
    {"middleName", JV_STRING, JV_NULLABLE, 0, 4 * PATIENT_NAME_MAX, NULL, 0},
    {"dateOfBirth", JV_DATE, JV_NULLABLE, 0, 0, NULL, 0},
    {"sex", JV_STRING, JV_NULLABLE, 0, 0, sex_values, 0},
    {"phone", JV_STRING, JV_NULLABLE, 0, 40, NULL, 0},
    {"email", JV_EMAIL, JV_NULLABLE, 0, 0, NULL, 0},
    {"address", JV_OBJECT, JV_NULLABLE, 0, 0, NULL, 0},
    {"documentType", JV_STRING, JV_NULLABLE, 0, 0, doc_values, 0},
    {"documentNumber", JV_STRING, JV_NULLABLE, 0, 40, NULL, 0},
    {"nrc", JV_STRING, JV_NULLABLE, 0, 20, NULL, 0},
    {"fiscalName", JV_STRING, JV_NULLABLE, 0, 4 * 250, NULL, 0},
    {"insurancePolicies", JV_ARRAY, JV_NULLABLE, 0, PATIENT_MAX_POLICIES, NULL, 0},
    {"notes", JV_STRING, JV_NULLABLE, 0, 4 * PATIENT_NOTES_MAX, NULL, 0},
};

static const struct jv_field address_fields[] = {
    {"line1", JV_STRING, JV_NULLABLE, 0, 4 * 200, NULL, 0},  {"line2", JV_STRING, JV_NULLABLE, 0, 4 * 200, NULL, 0},
    {"city", JV_STRING, JV_NULLABLE, 0, 4 * 100, NULL, 0},   {"state", JV_STRING, JV_NULLABLE, 0, 4 * 100, NULL, 0},
    {"postalCode", JV_STRING, JV_NULLABLE, 0, 20, NULL, 0},  {"country", JV_STRING, JV_NULLABLE, 0, 2, NULL, 0},
    {"departamento", JV_STRING, JV_NULLABLE, 0, 2, NULL, 0}, {"municipio", JV_STRING, JV_NULLABLE, 0, 2, NULL, 0},
};

static const struct jv_field policy_fields[] = {
    {"id", JV_UUID, JV_NULLABLE, 0, 0, NULL, 0},
    {"insurerName", JV_STRING, JV_REQUIRED, 1, 4 * 200, NULL, 0},
    {"insurerCode", JV_STRING, JV_NULLABLE, 0, 50, NULL, 0},
    {"planName", JV_STRING, JV_NULLABLE, 0, 4 * 200, NULL, 0},
    {"policyNumber", JV_STRING, JV_REQUIRED, 1, 64, NULL, 0},
    {"memberNumber", JV_STRING, JV_NULLABLE, 0, 64, NULL, 0},
    {"groupNumber", JV_STRING, JV_NULLABLE, 0, 64, NULL, 0},
    {"relationship", JV_STRING, JV_NULLABLE, 0, 0, relationship_values, 0},
    {"validFrom", JV_DATE, JV_NULLABLE, 0, 0, NULL, 0},
    {"validTo", JV_DATE, JV_NULLABLE, 0, 0, NULL, 0},
    {"isPrimary", JV_BOOL, 0, 0, 0, NULL, 0},
    {"active", JV_BOOL, 0, 0, 0, NULL, 0},
};

static const struct jv_field anonymize_fields[] = {
    {"reason", JV_STRING, JV_REQUIRED, 1, 2000, NULL, 0},
};

/* Members of the response a client may not write. */
static const char *const read_only[] = {"id",		"active", "createdAt", "updatedAt", "deactivatedAt",
					"anonymizedAt", NULL};

/* A body into a patient input: the shape checked, strings borrowed from body. */
static int input_from_json(struct arena *a, const json_t *body, struct patient_input *in, struct err *e)
{
	struct patient *v = &in->v;
	const json_t *addr, *pols;
	int rc;

	memset(in, 0, sizeof(*in));
	if (!json_is_object(body))
		return err_set(e, ERR_INVALID, NULL, "request body must be a JSON object");
	for (size_t i = 0; read_only[i]; i++)
		if (json_object_get(body, read_only[i]))
			return err_set(e, ERR_INVALID, read_only[i], "%s is read-only", read_only[i]);
	rc = jv_check(body, patient_fields, NFIELDS(patient_fields), "", e);
	if (rc)
		return rc;
	for (int f = 0; f < PF__COUNT; f++)
		if (jv_has(body, patients_field_name((enum patient_field)f)))
			in->present |= 1u << f;

	v->first_name = jv_str(body, "firstName");
	v->last_name = jv_str(body, "lastName");
	v->middle_name = jv_str(body, "middleName");
	v->date_of_birth = jv_str(body, "dateOfBirth");
	v->sex = jv_str(body, "sex");
	v->phone = jv_str(body, "phone");
	v->email = jv_str(body, "email");
	v->document_type = jv_str(body, "documentType");
	v->document_number = jv_str(body, "documentNumber");
	v->nrc = jv_str(body, "nrc");
	v->fiscal_name = jv_str(body, "fiscalName");
	v->notes = jv_str(body, "notes");

	addr = json_object_get(body, "address");
	if (json_is_object(addr)) {
		rc = jv_check(addr, address_fields, NFIELDS(address_fields), "address.", e);
		if (rc)
			return rc;
		v->has_address = true;
		v->address.line1 = jv_str(addr, "line1");
		v->address.line2 = jv_str(addr, "line2");
		v->address.city = jv_str(addr, "city");
		v->address.state = jv_str(addr, "state");
		v->address.postal_code = jv_str(addr, "postalCode");
		v->address.country = jv_str(addr, "country");
		v->address.departamento = jv_str(addr, "departamento");
		v->address.municipio = jv_str(addr, "municipio");
	}

	pols = json_object_get(body, "insurancePolicies");
	if (json_is_array(pols)) {
		size_t i;
		json_t *item;

		json_array_foreach(pols, i, item)
		{
			struct patient_policy *pp;
			char *prefix;
			const char *id;

			if (i >= PATIENT_MAX_POLICIES)
				return err_set(e, ERR_INVALID, "insurancePolicies",
					       "insurancePolicies must have at most %d items", PATIENT_MAX_POLICIES);
			pp = &v->policies[i];
			prefix = arena_printf(a, "insurancePolicies[%zu].", i);
			if (!json_is_object(item)) {
				prefix[strlen(prefix) - 1] = '\0';
				return err_set(e, ERR_INVALID, prefix, "%s must be an object", prefix);
			}
			rc = jv_check(item, policy_fields, NFIELDS(policy_fields), prefix, e);
			if (rc)
				return rc;
			id = jv_str(item, "id");
			if (id) {
				for (size_t k = 0; k <= UUID_LEN; k++)
					pp->id[k] = (id[k] >= 'A' && id[k] <= 'Z') ? (char)(id[k] - 'A' + 'a') : id[k];
				in->policy_has_id[i] = true;
			}
			pp->insurer_name = jv_str(item, "insurerName");
			pp->insurer_code = jv_str(item, "insurerCode");
			pp->plan_name = jv_str(item, "planName");
			pp->policy_number = jv_str(item, "policyNumber");
			pp->member_number = jv_str(item, "memberNumber");
			pp->group_number = jv_str(item, "groupNumber");
			pp->relationship = jv_str(item, "relationship");
			pp->valid_from = jv_str(item, "validFrom");
			pp->valid_to = jv_str(item, "validTo");
			pp->is_primary = jv_bool(item, "isPrimary", false);
			pp->active = jv_bool(item, "active", true);
			v->npolicies = i + 1;
		}
	}
	return 0;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *address_json(const struct patient *p)
{
	const struct patient_address *ad = &p->address;

	if (!p->has_address)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "line1", str_or_null(ad->line1), "line2",
			 str_or_null(ad->line2), "city", str_or_null(ad->city), "state", str_or_null(ad->state),
			 "postalCode", str_or_null(ad->postal_code), "country", str_or_null(ad->country),
			 "departamento", str_or_null(ad->departamento), "municipio", str_or_null(ad->municipio));
}

static json_t *policy_json(const struct patient_policy *pp)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(pp->id));
	json_object_set_new(o, "insurerName", str_or_null(pp->insurer_name));
	json_object_set_new(o, "insurerCode", str_or_null(pp->insurer_code));
	json_object_set_new(o, "planName", str_or_null(pp->plan_name));
	json_object_set_new(o, "policyNumber", str_or_null(pp->policy_number));
	json_object_set_new(o, "memberNumber", str_or_null(pp->member_number));
	json_object_set_new(o, "groupNumber", str_or_null(pp->group_number));
	json_object_set_new(o, "relationship", str_or_null(pp->relationship));
	json_object_set_new(o, "validFrom", str_or_null(pp->valid_from));
	json_object_set_new(o, "validTo", str_or_null(pp->valid_to));
	json_object_set_new(o, "isPrimary", json_boolean(pp->is_primary));
	json_object_set_new(o, "active", json_boolean(pp->active));
	json_object_set_new(o, "createdAt", str_or_null(pp->created_at));
	json_object_set_new(o, "updatedAt", str_or_null(pp->updated_at));
	return o;
}

/* A patient as the clinic contract shows it (decrypted). Owned. */
static json_t *patient_json(const struct patient *p)
{
	json_t *o = json_object(), *pols = json_array();
	char doc[PATIENT_DOC_MAX + 8];

	json_object_set_new(o, "id", json_string(p->id));
	json_object_set_new(o, "firstName", str_or_null(p->first_name));
	json_object_set_new(o, "lastName", str_or_null(p->last_name));
	json_object_set_new(o, "middleName", str_or_null(p->middle_name));
	json_object_set_new(o, "dateOfBirth", str_or_null(p->date_of_birth));
	json_object_set_new(o, "sex", str_or_null(p->sex));
	json_object_set_new(o, "phone", str_or_null(p->phone));
	json_object_set_new(o, "email", str_or_null(p->email));
	json_object_set_new(o, "address", address_json(p));
	json_object_set_new(o, "documentType", str_or_null(p->document_type));
	if (p->document_type && p->document_number) {
		int type = doc_type_parse(p->document_type);

		doc_format(type < 0 ? DOC_OTHER : (enum doc_type)type, p->document_number, doc, sizeof(doc));
		json_object_set_new(o, "documentNumber", json_string(doc));
	} else {
		json_object_set_new(o, "documentNumber", json_null());
	}
	json_object_set_new(o, "nrc", str_or_null(p->nrc));
	json_object_set_new(o, "fiscalName", str_or_null(p->fiscal_name));
	for (size_t i = 0; i < p->npolicies; i++)
		json_array_append_new(pols, policy_json(&p->policies[i]));
	json_object_set_new(o, "insurancePolicies", pols);
	json_object_set_new(o, "notes", str_or_null(p->notes));
	json_object_set_new(o, "active", json_boolean(p->active));
	json_object_set_new(o, "deactivatedAt", str_or_null(p->deactivated_at));
	json_object_set_new(o, "anonymizedAt", str_or_null(p->anonymized_at));
	json_object_set_new(o, "createdAt", str_or_null(p->created_at));
	json_object_set_new(o, "updatedAt", str_or_null(p->updated_at));
	return o;
}

/* The :id path variable, lower-cased into out; not a UUID -> 404. */
static int path_id(struct req_ctx *ctx, char out[UUID_LEN + 1], struct err *e)
{
	const char *id = http_param(ctx->req, "id");

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
	for (size_t i = 0; i <= UUID_LEN; i++)
		out[i] = (id[i] >= 'A' && id[i] <= 'Z') ? (char)(id[i] - 'A' + 'a') : id[i];
	return 0;
}

HANDLER(patients_http_list)
{
	struct patient_query q;
	struct patient *items;
	const char *active;
	size_t n;
	int64_t total;
	json_t *arr;
	int rc;

	memset(&q, 0, sizeof(q));
	q.active = true;
	rc = http_pagination(ctx->req, PATIENTS_PAGE_DEFAULT, PATIENTS_PAGE_MAX, &q.page, &q.limit, e);
	if (rc)
		return rc;
	active = http_query(ctx->req, "active");
	if (active) {
		if (strcmp(active, "true") == 0)
			q.active = true;
		else if (strcmp(active, "false") == 0)
			q.active = false;
		else
			return err_set(e, ERR_INVALID, "active", "active must be true or false");
	}
	q.search = http_query(ctx->req, "search");
	q.document_number = http_query(ctx->req, "documentNumber");
	q.document_type = http_query(ctx->req, "documentType");
	q.phone = http_query(ctx->req, "phone");
	q.email = http_query(ctx->req, "email");
	rc = patients_list(ctx->app, ctx->who.tenant_id, &q, ctx->req->arena, &items, &n, &total, e);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, patient_json(&items[i]));
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(q.page, q.limit, total));
	return 0;
}

HANDLER(patients_http_get)
{
	char id[UUID_LEN + 1];
	struct patient p;
	int rc;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = patients_get(ctx->app, ctx->who.tenant_id, id, ctx->req->arena, &p, e);
	if (rc)
		return rc;
	resp->data = patient_json(&p);
	return 0;
}

HANDLER(patients_http_create)
{
	struct patient_input in;
	struct patient p;
	json_t *body;
	int rc;

	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = input_from_json(ctx->req->arena, body, &in, e);
	if (rc)
		return rc;
	rc = patients_create(ctx->app, &ctx->actor, ctx->req->arena, &in, &p, e);
	if (rc)
		return rc;
	resp->status = 201;
	resp->data = patient_json(&p);
	return 0;
}

HANDLER(patients_http_update)
{
	char id[UUID_LEN + 1];
	struct patient_input in;
	struct patient p;
	json_t *body;
	int rc;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = input_from_json(ctx->req->arena, body, &in, e);
	if (rc)
		return rc;
	rc = patients_update(ctx->app, &ctx->actor, ctx->req->arena, id, &in, &p, e);
	if (rc)
		return rc;
	resp->data = patient_json(&p);
	return 0;
}

HANDLER(patients_http_delete)
{
	char id[UUID_LEN + 1];
	bool deleted = false;
	int rc;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = patients_delete(ctx->app, &ctx->actor, id, &deleted, e);
	if (rc)
		return rc;
	resp->data = json_pack("{s:s, s:b, s:b}", "id", id, "deleted", (int)deleted, "active", 0);
	return 0;
}

HANDLER(patients_http_anonymize)
{
	char id[UUID_LEN + 1];
	struct patient p;
	json_t *body;
	int rc;

	rc = path_id(ctx, id, e);
	if (rc)
		return rc;
	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, anonymize_fields, NFIELDS(anonymize_fields), "", e);
	if (rc)
		return rc;
	rc = patients_anonymize(ctx->app, &ctx->actor, ctx->req->arena, id, jv_str(body, "reason"), &p, e);
	if (rc)
		return rc;
	resp->data = patient_json(&p);
	return 0;
}
