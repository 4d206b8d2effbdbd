/*
 * patients_repo.c - all the SQL of patients, and their form at rest.
 *
 * Tables (sql/<dialect>/0004_patients.sql): patients and
 * patient_insurance_policies, both with tenant_id, and every statement
 * filters by it. Here a struct patient becomes a row: document number,
 * phone, email and NRC are encrypted with field_encrypt (associated data =
 * patient id) next to their blind indexes; policy and member numbers are
 * encrypted with the policy id as associated data. Names are stored as
 * given plus normalised copies (patients_name_normalize) for search and
 * sorting; the address is one JSON text. Decrypted values are copied into
 * the caller's arena and the temporary plaintext wiped.
 */
#include "mod/patients/patients.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/field.h"

#define NAME_NORM_MAX 512

static const char patient_cols[] =
    "id, first_name, last_name, middle_name, date_of_birth, sex, phone_enc, email_enc, address_json, "
    "document_type, document_enc, nrc_enc, fiscal_name, notes, active, deactivated_at, anonymized_at, "
    "created_at, updated_at";
enum {
	C_ID,
	C_FIRST,
	C_LAST,
	C_MIDDLE,
	C_DOB,
	C_SEX,
	C_PHONE,
	C_EMAIL,
	C_ADDRESS,
	C_DOC_TYPE,
	C_DOC,
	C_NRC,
	C_FISCAL,
	C_NOTES,
	C_ACTIVE,
	C_DEACTIVATED,
	C_ANONYMIZED,
	C_CREATED,
	C_UPDATED,
};

static const char policy_cols[] =
    "id, patient_id, insurer_name, insurer_code, plan_name, policy_number_enc, member_number_enc, "
    "group_number, relationship, valid_from, valid_to, is_primary, active, created_at, updated_at";
enum {
	PC_ID,
	PC_PATIENT,
	PC_INSURER,
	PC_INSURER_CODE,
	PC_PLAN,
	PC_POLICY_NO,
	PC_MEMBER_NO,
	PC_GROUP_NO,
	PC_RELATIONSHIP,
	PC_FROM,
	PC_TO,
	PC_PRIMARY,
	PC_ACTIVE,
	PC_CREATED,
	PC_UPDATED,
};

/* ---- encryption helpers ------------------------------------------------ */

/* Decrypt `stored` (may be NULL) into an arena copy. */
static int decrypt_to(const struct app_keys *keys, const char *aad, const char *stored, struct arena *a,
		      const char **out, struct err *e)
{
	char *plain = NULL;
	int rc;

	*out = NULL;
	if (!stored)
		return 0;
	rc = field_decrypt(keys->data_enc, aad, stored, &plain, e);
	if (rc)
		return rc;
	if (plain) {
		size_t n = strlen(plain);

		*out = arena_strndup(a, plain, n);
		mem_wipe(plain, n);
		free(plain);
	}
	return 0;
}

/* The encrypted and indexed form of a patient's row. */
struct row_form {
	char *phone_enc, *email_enc, *doc_enc, *nrc_enc; /* owned */
	char *address_json;				 /* owned */
	char phone_bidx[PATIENT_BIDX_LEN], email_bidx[PATIENT_BIDX_LEN];
	char doc_bidx[PATIENT_BIDX_LEN], nrc_bidx[PATIENT_BIDX_LEN];
	char full_norm[NAME_NORM_MAX], first_norm[NAME_NORM_MAX], last_norm[NAME_NORM_MAX];
};

static void row_form_release(struct row_form *r)
{
	free(r->phone_enc);
	free(r->email_enc);
	free(r->doc_enc);
	free(r->nrc_enc);
	free(r->address_json);
	memset(r, 0, sizeof(*r));
}

static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

static char *address_json(const struct patient *p)
{
	const struct patient_address *ad = &p->address;
	json_t *o;
	char *text;

	if (!p->has_address)
		return NULL;
	o = json_object();
#define PUT(key, member)                                                                                               \
	do {                                                                                                           \
		if (ad->member)                                                                                        \
			json_object_set_new(o, key, json_string(ad->member));                                          \
	} while (0)
	PUT("line1", line1);
	PUT("line2", line2);
	PUT("city", city);
	PUT("state", state);
	PUT("postalCode", postal_code);
	PUT("country", country);
	PUT("departamento", departamento);
	PUT("municipio", municipio);
#undef PUT
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

static void address_from_json(struct arena *a, const char *text, struct patient *p)
{
	json_t *o;
	struct patient_address *ad = &p->address;

	memset(ad, 0, sizeof(*ad));
	p->has_address = false;
	if (!text)
		return;
	o = json_loads(text, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	p->has_address = true;
#define GET(key, member) ad->member = arena_strdup(a, json_string_value(json_object_get(o, key)))
	GET("line1", line1);
	GET("line2", line2);
	GET("city", city);
	GET("state", state);
	GET("postalCode", postal_code);
	GET("country", country);
	GET("departamento", departamento);
	GET("municipio", municipio);
#undef GET
	json_decref(o);
}

static int row_form_build(const struct app_keys *keys, const struct patient *p, struct row_form *r, struct err *e)
{
	char *full;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = field_encrypt(keys->data_enc, p->id, p->phone, &r->phone_enc, e)) ||
	    (rc = field_encrypt(keys->data_enc, p->id, p->email, &r->email_enc, e)) ||
	    (rc = field_encrypt(keys->data_enc, p->id, p->document_number, &r->doc_enc, e)) ||
	    (rc = field_encrypt(keys->data_enc, p->id, p->nrc, &r->nrc_enc, e))) {
		row_form_release(r);
		return rc;
	}
	patients_bidx_phone(keys->data_index, p->phone, r->phone_bidx);
	patients_bidx_email(keys->data_index, p->email, r->email_bidx);
	if (p->document_type && p->document_number)
		patients_bidx_document(keys->data_index, p->document_type, p->document_number, r->doc_bidx);
	patients_bidx_nrc(keys->data_index, p->nrc, r->nrc_bidx);
	r->address_json = address_json(p);

	full = xasprintf("%s %s %s", p->first_name ? p->first_name : "", p->middle_name ? p->middle_name : "",
			 p->last_name ? p->last_name : "");
	patients_name_normalize(full, r->full_norm, sizeof(r->full_norm));
	free(full);
	patients_name_normalize(p->first_name, r->first_norm, sizeof(r->first_norm));
	patients_name_normalize(p->last_name, r->last_norm, sizeof(r->last_norm));
	return 0;
}

/* ---- policies -------------------------------------------------------- */

static int policies_write(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
			  const struct patient *p, struct err *e)
{
	static const char del[] = "DELETE FROM patient_insurance_policies WHERE tenant_id = ? AND patient_id = ?";
	static const char ins[] =
	    "INSERT INTO patient_insurance_policies (id, tenant_id, patient_id, position, insurer_name, "
	    "insurer_code, plan_name, policy_number_enc, member_number_enc, group_number, relationship, "
	    "valid_from, valid_to, is_primary, active, created_at, updated_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	struct db_param dp[] = {DBP_TEXT(tenant_id), DBP_TEXT(p->id)};
	int rc;

	rc = db_exec(c, del, dp, DB_NPARAMS(dp), NULL, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < p->npolicies; i++) {
		const struct patient_policy *pp = &p->policies[i];
		char *pol_enc = NULL, *mem_enc = NULL;

		if ((rc = field_encrypt(keys->data_enc, pp->id, pp->policy_number, &pol_enc, e)) ||
		    (rc = field_encrypt(keys->data_enc, pp->id, pp->member_number, &mem_enc, e))) {
			free(pol_enc);
			return rc;
		}
		{
			struct db_param ip[] = {
			    DBP_TEXT(pp->id),
			    DBP_TEXT(tenant_id),
			    DBP_TEXT(p->id),
			    DBP_INT(i),
			    DBP_TEXT(pp->insurer_name),
			    DBP_TEXT(pp->insurer_code),
			    DBP_TEXT(pp->plan_name),
			    DBP_TEXT(pol_enc),
			    DBP_TEXT(mem_enc),
			    DBP_TEXT(pp->group_number),
			    DBP_TEXT(pp->relationship),
			    DBP_TEXT(pp->valid_from),
			    DBP_TEXT(pp->valid_to),
			    DBP_INT(pp->is_primary ? 1 : 0),
			    DBP_INT(pp->active ? 1 : 0),
			    DBP_TEXT(pp->created_at),
			    DBP_TEXT(pp->updated_at),
			};

			rc = db_exec(c, ins, ip, DB_NPARAMS(ip), NULL, e);
		}
		free(pol_enc);
		free(mem_enc);
		if (rc)
			return rc;
	}
	return 0;
}

static int policy_from_row(const struct app_keys *keys, const struct db_rows *r, size_t row, struct arena *a,
			   struct patient_policy *pp, struct err *e)
{
	int rc;

	memset(pp, 0, sizeof(*pp));
	snprintf(pp->id, sizeof(pp->id), "%s", db_rows_text(r, row, PC_ID));
	pp->insurer_name = arena_strdup(a, db_rows_text(r, row, PC_INSURER));
	pp->insurer_code = arena_strdup(a, db_rows_text(r, row, PC_INSURER_CODE));
	pp->plan_name = arena_strdup(a, db_rows_text(r, row, PC_PLAN));
	pp->group_number = arena_strdup(a, db_rows_text(r, row, PC_GROUP_NO));
	pp->relationship = arena_strdup(a, db_rows_text(r, row, PC_RELATIONSHIP));
	pp->valid_from = arena_strdup(a, db_rows_text(r, row, PC_FROM));
	pp->valid_to = arena_strdup(a, db_rows_text(r, row, PC_TO));
	pp->is_primary = db_rows_int(r, row, PC_PRIMARY) != 0;
	pp->active = db_rows_int(r, row, PC_ACTIVE) != 0;
	pp->created_at = arena_strdup(a, db_rows_text(r, row, PC_CREATED));
	pp->updated_at = arena_strdup(a, db_rows_text(r, row, PC_UPDATED));
	if ((rc = decrypt_to(keys, pp->id, db_rows_text(r, row, PC_POLICY_NO), a, &pp->policy_number, e)) ||
	    (rc = decrypt_to(keys, pp->id, db_rows_text(r, row, PC_MEMBER_NO), a, &pp->member_number, e)))
		return rc;
	return 0;
}

/* Load the policies of items[0..n) (one query) and attach them. */
static int policies_load(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, struct patient *items,
			 size_t n, struct arena *a, struct err *e)
{
	struct db_param params[1 + 100];
	struct db_rows *rows = NULL;
	char sql[1024];
	size_t len, np = 0;
	int rc;

	if (n == 0)
		return 0;
	if (n > 100)
		return err_set(e, ERR_INTERNAL, NULL, "too many patients in one page");
	len = (size_t)snprintf(sql, sizeof(sql),
			       "SELECT %s FROM patient_insurance_policies WHERE tenant_id = ? AND patient_id IN (",
			       policy_cols);
	params[np++] = DBP_TEXT(tenant_id);
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, i ? ", ?" : "?");
		params[np++] = DBP_TEXT(items[i].id);
		items[i].npolicies = 0;
	}
	snprintf(sql + len, sizeof(sql) - len, ") ORDER BY patient_id, position");
	rc = db_query(c, sql, params, np, &rows, e);
	if (rc)
		return rc;
	for (size_t row = 0; row < db_rows_count(rows); row++) {
		const char *pid = db_rows_text(rows, row, PC_PATIENT);

		for (size_t i = 0; i < n; i++) {
			struct patient *p = &items[i];

			if (strcmp(p->id, pid) != 0)
				continue;
			if (p->npolicies >= PATIENT_MAX_POLICIES)
				break;
			rc = policy_from_row(keys, rows, row, a, &p->policies[p->npolicies], e);
			if (rc)
				goto out;
			p->npolicies++;
			break;
		}
	}
out:
	db_rows_free(rows);
	return rc;
}

/* ---- patients ------------------------------------------------------- */

static int patient_from_row(const struct app_keys *keys, const struct db_rows *r, size_t row, struct arena *a,
			    struct patient *p, struct err *e)
{
	int rc;

	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", db_rows_text(r, row, C_ID));
	p->first_name = arena_strdup(a, db_rows_text(r, row, C_FIRST));
	p->last_name = arena_strdup(a, db_rows_text(r, row, C_LAST));
	p->middle_name = arena_strdup(a, db_rows_text(r, row, C_MIDDLE));
	p->date_of_birth = arena_strdup(a, db_rows_text(r, row, C_DOB));
	p->sex = arena_strdup(a, db_rows_text(r, row, C_SEX));
	address_from_json(a, db_rows_text(r, row, C_ADDRESS), p);
	p->document_type = arena_strdup(a, db_rows_text(r, row, C_DOC_TYPE));
	p->fiscal_name = arena_strdup(a, db_rows_text(r, row, C_FISCAL));
	p->notes = arena_strdup(a, db_rows_text(r, row, C_NOTES));
	p->active = db_rows_int(r, row, C_ACTIVE) != 0;
	p->deactivated_at = arena_strdup(a, db_rows_text(r, row, C_DEACTIVATED));
	p->anonymized_at = arena_strdup(a, db_rows_text(r, row, C_ANONYMIZED));
	p->created_at = arena_strdup(a, db_rows_text(r, row, C_CREATED));
	p->updated_at = arena_strdup(a, db_rows_text(r, row, C_UPDATED));
	if ((rc = decrypt_to(keys, p->id, db_rows_text(r, row, C_PHONE), a, &p->phone, e)) ||
	    (rc = decrypt_to(keys, p->id, db_rows_text(r, row, C_EMAIL), a, &p->email, e)) ||
	    (rc = decrypt_to(keys, p->id, db_rows_text(r, row, C_DOC), a, &p->document_number, e)) ||
	    (rc = decrypt_to(keys, p->id, db_rows_text(r, row, C_NRC), a, &p->nrc, e)))
		return rc;
	return 0;
}

int patients_repo_insert(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const struct patient *p,
			 struct err *e)
{
	static const char sql[] =
	    "INSERT INTO patients (id, tenant_id, first_name, last_name, middle_name, full_name_norm, "
	    "first_name_norm, last_name_norm, date_of_birth, sex, phone_enc, phone_bidx, email_enc, "
	    "email_bidx, address_json, document_type, document_enc, document_bidx, nrc_enc, nrc_bidx, "
	    "fiscal_name, notes, active, deactivated_at, anonymized_at, created_at, updated_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	struct row_form f;
	int rc;

	rc = row_form_build(keys, p, &f, e);
	if (rc)
		return rc;
	{
		struct db_param params[] = {
		    DBP_TEXT(p->id),
		    DBP_TEXT(tenant_id),
		    DBP_TEXT(p->first_name),
		    DBP_TEXT(p->last_name),
		    DBP_TEXT(p->middle_name),
		    DBP_TEXT(f.full_norm),
		    DBP_TEXT(f.first_norm),
		    DBP_TEXT(f.last_norm),
		    DBP_TEXT(p->date_of_birth),
		    DBP_TEXT(p->sex),
		    DBP_TEXT(f.phone_enc),
		    DBP_TEXT(nz(f.phone_bidx)),
		    DBP_TEXT(f.email_enc),
		    DBP_TEXT(nz(f.email_bidx)),
		    DBP_TEXT(f.address_json),
		    DBP_TEXT(p->document_type),
		    DBP_TEXT(f.doc_enc),
		    DBP_TEXT(nz(f.doc_bidx)),
		    DBP_TEXT(f.nrc_enc),
		    DBP_TEXT(nz(f.nrc_bidx)),
		    DBP_TEXT(p->fiscal_name),
		    DBP_TEXT(p->notes),
		    DBP_INT(p->active ? 1 : 0),
		    DBP_TEXT(p->deactivated_at),
		    DBP_TEXT(p->anonymized_at),
		    DBP_TEXT(p->created_at),
		    DBP_TEXT(p->updated_at),
		};

		rc = db_exec(c, sql, params, DB_NPARAMS(params), NULL, e);
	}
	row_form_release(&f);
	if (rc)
		return rc;
	return policies_write(c, keys, tenant_id, p, e);
}

int patients_repo_update(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const struct patient *p,
			 struct err *e)
{
	static const char sql[] =
	    "UPDATE patients SET first_name = ?, last_name = ?, middle_name = ?, full_name_norm = ?, "
	    "first_name_norm = ?, last_name_norm = ?, date_of_birth = ?, sex = ?, phone_enc = ?, "
	    "phone_bidx = ?, email_enc = ?, email_bidx = ?, address_json = ?, document_type = ?, "
	    "document_enc = ?, document_bidx = ?, nrc_enc = ?, nrc_bidx = ?, fiscal_name = ?, notes = ?, "
	    "updated_at = ? WHERE tenant_id = ? AND id = ?";
	struct row_form f;
	int64_t affected = 0;
	int rc;

	rc = row_form_build(keys, p, &f, e);
	if (rc)
		return rc;
	{
		struct db_param params[] = {
		    DBP_TEXT(p->first_name),
		    DBP_TEXT(p->last_name),
		    DBP_TEXT(p->middle_name),
		    DBP_TEXT(f.full_norm),
		    DBP_TEXT(f.first_norm),
		    DBP_TEXT(f.last_norm),
		    DBP_TEXT(p->date_of_birth),
		    DBP_TEXT(p->sex),
		    DBP_TEXT(f.phone_enc),
		    DBP_TEXT(nz(f.phone_bidx)),
		    DBP_TEXT(f.email_enc),
		    DBP_TEXT(nz(f.email_bidx)),
		    DBP_TEXT(f.address_json),
		    DBP_TEXT(p->document_type),
		    DBP_TEXT(f.doc_enc),
		    DBP_TEXT(nz(f.doc_bidx)),
		    DBP_TEXT(f.nrc_enc),
		    DBP_TEXT(nz(f.nrc_bidx)),
		    DBP_TEXT(p->fiscal_name),
		    DBP_TEXT(p->notes),
		    DBP_TEXT(p->updated_at),
		    DBP_TEXT(tenant_id),
		    DBP_TEXT(p->id),
		};

		rc = db_exec(c, sql, params, DB_NPARAMS(params), &affected, e);
	}
	row_form_release(&f);
	if (rc)
		return rc;
	if (affected == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
	return policies_write(c, keys, tenant_id, p, e);
}

int patients_repo_get(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const char *id,
		      struct arena *a, struct patient *out, struct err *e)
{
	struct db_param params[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	struct db_rows *rows = NULL;
	char sql[512];
	int rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM patients WHERE tenant_id = ? AND id = ?", patient_cols);
	rc = db_query(c, sql, params, DB_NPARAMS(params), &rows, e);
	if (rc)
		return rc;
	if (db_rows_count(rows) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
		goto out;
	}
	rc = patient_from_row(keys, rows, 0, a, out, e);
	if (rc)
		goto out;
	rc = policies_load(c, keys, tenant_id, out, 1, a, e);
out:
	db_rows_free(rows);
	return rc;
}

/* Append " IN (?, ?, ...)" for n blind indexes. */
static size_t in_list(char *sql, size_t cap, size_t len, struct db_param *params, size_t *np,
		      const char list[][PATIENT_BIDX_LEN], size_t n)
{
	len += (size_t)snprintf(sql + len, cap - len, " IN (");
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(sql + len, cap - len, i ? ", ?" : "?");
		params[(*np)++] = DBP_TEXT(list[i]);
	}
	len += (size_t)snprintf(sql + len, cap - len, ")");
	return len;
}

int patients_repo_list(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
		       const struct patient_filter *f, struct arena *a, struct patient **items, size_t *n,
		       int64_t *total, struct err *e)
{
	struct db_param params[32];
	struct db_rows *rows = NULL;
	char where[2048], sql[3072];
	size_t len = 0, np = 0, count;
	int rc;

	*items = NULL;
	*n = 0;
	*total = 0;
	len += (size_t)snprintf(where + len, sizeof(where) - len, " WHERE tenant_id = ? AND active = ?");
	params[np++] = DBP_TEXT(tenant_id);
	params[np++] = DBP_INT(f->active ? 1 : 0);
	if (f->has_search) {
		const char *sep = "";

		len += (size_t)snprintf(where + len, sizeof(where) - len, " AND (");
		if (f->name_like) {
			len += (size_t)snprintf(where + len, sizeof(where) - len, "full_name_norm LIKE ? ESCAPE '\\'");
			params[np++] = DBP_TEXT(f->name_like);
			sep = " OR ";
		}
		if (f->nsearch_doc) {
			len += (size_t)snprintf(where + len, sizeof(where) - len, "%sdocument_bidx", sep);
			len = in_list(where, sizeof(where), len, params, &np, f->search_doc, f->nsearch_doc);
			sep = " OR ";
		}
		if (f->search_nrc[0]) {
			len += (size_t)snprintf(where + len, sizeof(where) - len, "%snrc_bidx = ?", sep);
			params[np++] = DBP_TEXT(f->search_nrc);
			sep = " OR ";
		}
		if (f->search_phone[0]) {
			len += (size_t)snprintf(where + len, sizeof(where) - len, "%sphone_bidx = ?", sep);
			params[np++] = DBP_TEXT(f->search_phone);
			sep = " OR ";
		}
		if (f->search_email[0]) {
			len += (size_t)snprintf(where + len, sizeof(where) - len, "%semail_bidx = ?", sep);
			params[np++] = DBP_TEXT(f->search_email);
			sep = " OR ";
		}
		len += (size_t)snprintf(where + len, sizeof(where) - len, "%s)", *sep ? "" : "1 = 0");
	}
	if (f->has_doc) {
		if (f->ndoc == 0)
			return 0;
		len += (size_t)snprintf(where + len, sizeof(where) - len, " AND document_bidx");
		len = in_list(where, sizeof(where), len, params, &np, f->doc, f->ndoc);
	}
	if (f->phone[0]) {
		len += (size_t)snprintf(where + len, sizeof(where) - len, " AND phone_bidx = ?");
		params[np++] = DBP_TEXT(f->phone);
	}
	if (f->email[0]) {
		len += (size_t)snprintf(where + len, sizeof(where) - len, " AND email_bidx = ?");
		params[np++] = DBP_TEXT(f->email);
	}

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM patients%s", where);
	rc = db_query_int(c, sql, params, np, total, e);
	if (rc)
		return rc;
	if (*total == 0 || f->offset >= *total)
		return 0;

	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM patients%s ORDER BY last_name_norm, first_name_norm, id LIMIT ? OFFSET ?",
		 patient_cols, where);
	params[np++] = DBP_INT(f->limit);
	params[np++] = DBP_INT(f->offset);
	rc = db_query(c, sql, params, np, &rows, e);
	if (rc)
		return rc;
	count = db_rows_count(rows);
	*items = arena_alloc(a, (count ? count : 1) * sizeof(**items));
	for (size_t i = 0; i < count; i++) {
		rc = patient_from_row(keys, rows, i, a, &(*items)[i], e);
		if (rc)
			goto out;
	}
	*n = count;
	rc = policies_load(c, keys, tenant_id, *items, count, a, e);
out:
	db_rows_free(rows);
	return rc;
}

int patients_repo_document_taken(struct db_conn *c, const char *tenant_id, const char *doc_bidx, const char *exclude_id,
				 bool *taken, struct err *e)
{
	static const char sql[] = "SELECT COUNT(*) FROM patients WHERE tenant_id = ? AND "
				  "document_bidx = ? AND id <> ?";
	struct db_param params[] = {DBP_TEXT(tenant_id), DBP_TEXT(doc_bidx), DBP_TEXT(exclude_id ? exclude_id : "")};
	int64_t count = 0;
	int rc;

	*taken = false;
	rc = db_query_int(c, sql, params, DB_NPARAMS(params), &count, e);
	if (rc)
		return rc;
	*taken = count > 0;
	return 0;
}

/* Tables whose rows are the billing history of a patient: a patient with a
 * row in any of them is deactivated instead of deleted. Each query counts a
 * tenant's rows for one patient (parameters: tenant id, patient id).
 * Insurance policies are part of the patient record itself and so are not
 * listed; the billing_documents and claims tables join this list when they
 * land, e.g. "SELECT COUNT(*) FROM billing_documents WHERE tenant_id = ?
 * AND patient_id = ?". */
static const char *const billing_history_queries[] = {
    "SELECT COUNT(*) FROM billing_documents WHERE tenant_id = ? AND patient_id = ?",
    NULL,
};

int patients_repo_has_billing_history(struct db_conn *c, const char *tenant_id, const char *id, bool *has,
				      struct err *e)
{
	struct db_param params[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};

	*has = false;
	for (size_t i = 0; billing_history_queries[i]; i++) {
		int64_t count = 0;
		int rc = db_query_int(c, billing_history_queries[i], params, DB_NPARAMS(params), &count, e);

		if (rc)
			return rc;
		if (count > 0) {
			*has = true;
			return 0;
		}
	}
	return 0;
}

int patients_repo_delete(struct db_conn *c, const char *tenant_id, const char *id, struct err *e)
{
	static const char del_pol[] = "DELETE FROM patient_insurance_policies WHERE tenant_id = ? AND patient_id = ?";
	static const char del[] = "DELETE FROM patients WHERE tenant_id = ? AND id = ?";
	struct db_param params[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	int64_t affected = 0;
	int rc;

	rc = db_exec(c, del_pol, params, DB_NPARAMS(params), NULL, e);
	if (rc)
		return rc;
	rc = db_exec(c, del, params, DB_NPARAMS(params), &affected, e);
	if (rc)
		return rc;
	if (affected == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
	return 0;
}

int patients_repo_deactivate(struct db_conn *c, const char *tenant_id, const char *id, const char *now, struct err *e)
{
	static const char sql[] = "UPDATE patients SET active = 0, deactivated_at = ?, updated_at = ? "
				  "WHERE tenant_id = ? AND id = ?";
	struct db_param params[] = {DBP_TEXT(now), DBP_TEXT(now), DBP_TEXT(tenant_id), DBP_TEXT(id)};
	int64_t affected = 0;
	int rc;

	rc = db_exec(c, sql, params, DB_NPARAMS(params), &affected, e);
	if (rc)
		return rc;
	if (affected == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
	return 0;
}

int patients_repo_anonymize(struct db_conn *c, const char *tenant_id, const char *id, const char *now, struct err *e)
{
	static const char sql[] = "UPDATE patients SET first_name = 'ANONYMIZED', last_name = 'ANONYMIZED', "
				  "middle_name = NULL, full_name_norm = 'anonymized', first_name_norm = 'anonymized', "
				  "last_name_norm = 'anonymized', date_of_birth = NULL, sex = NULL, phone_enc = NULL, "
				  "phone_bidx = NULL, email_enc = NULL, email_bidx = NULL, address_json = NULL, "
				  "document_type = NULL, document_enc = NULL, document_bidx = NULL, nrc_enc = NULL, "
				  "nrc_bidx = NULL, fiscal_name = NULL, notes = NULL, active = 0, "
				  "deactivated_at = COALESCE(deactivated_at, ?), anonymized_at = ?, updated_at = ? "
				  "WHERE tenant_id = ? AND id = ? AND anonymized_at IS NULL";
	static const char pol[] =
	    "UPDATE patient_insurance_policies SET policy_number_enc = NULL, member_number_enc = NULL, "
	    "updated_at = ? WHERE tenant_id = ? AND patient_id = ?";
	struct db_param params[] = {DBP_TEXT(now), DBP_TEXT(now), DBP_TEXT(now), DBP_TEXT(tenant_id), DBP_TEXT(id)};
	struct db_param pparams[] = {DBP_TEXT(now), DBP_TEXT(tenant_id), DBP_TEXT(id)};
	int64_t affected = 0;
	int rc;

	rc = db_exec(c, sql, params, DB_NPARAMS(params), &affected, e);
	if (rc)
		return rc;
	if (affected == 0)
		return err_set(e, ERR_CONFLICT, NULL, "patient has already been anonymized");
	return db_exec(c, pol, pparams, DB_NPARAMS(pparams), NULL, e);
}
