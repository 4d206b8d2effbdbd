/*
 * patients.h - patients: demographics, identity and tax documents, insurance.
 *
 * A patient belongs to one tenant. Names and date of birth are stored in
 * clear (they are searched and sorted); document number, phone, email, NRC
 * and the policy and member numbers of insurance policies are encrypted at
 * rest with field_encrypt (associated data = the patient's id, or the
 * policy's id for policy fields) and found by exact match through blind
 * indexes (field_blind_index over a normalised, domain-prefixed value).
 * docs/patients.md describes the model, search, deletion and anonymisation.
 *
 * Three layers live here:
 *   - pure rules (normalisation and validation), unit-tested without a
 *     database: patients_phone_normalize, patients_name_normalize, ...
 *   - the service (patients_create, patients_update, ...): one transaction
 *     per write, with its audit entry in the same transaction;
 *   - the storage functions of patients_repo.c (all the SQL).
 * Strings inside a struct patient are in the caller's arena (or borrowed
 * from a request body that outlives the call); none is owned by the struct.
 */
#ifndef CL_MOD_PATIENTS_H
#define CL_MOD_PATIENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "mod/audit/audit.h"

#define PATIENT_MAX_POLICIES 10	  /* insurance policies per patient */
#define PATIENT_NAME_MAX     100  /* bytes of a first, middle or last name */
#define PATIENT_NOTES_MAX    2000 /* bytes of notes */
#define PATIENT_PHONE_MAX    17	  /* "+" + 15 digits + NUL */
#define PATIENT_DOC_MAX	     48	  /* canonical document number + NUL */
#define PATIENT_BIDX_LEN     65	  /* hex HMAC-SHA256 + NUL */
#define PATIENT_MASK_MAX     16	  /* "****" + last 4 + NUL */
#define PATIENT_SEARCH_MAX   200  /* bytes of a search text */

/* The fields a client may write, in response order. Used for "fields
 * present" in an update, the list of changed fields in audit entries and
 * the list of erased fields of an anonymisation. */
enum patient_field {
	PF_FIRST_NAME,
	PF_LAST_NAME,
	PF_MIDDLE_NAME,
	PF_DATE_OF_BIRTH,
	PF_SEX,
	PF_PHONE,
	PF_EMAIL,
	PF_ADDRESS,
	PF_DOCUMENT_TYPE,
	PF_DOCUMENT_NUMBER,
	PF_NRC,
	PF_FISCAL_NAME,
	PF_INSURANCE_POLICIES,
	PF_NOTES,
	PF__COUNT
};

/* The camelCase JSON name of a field ("firstName"). Static storage. */
const char *patients_field_name(enum patient_field f);

struct patient_address {
	const char *line1; /* street and number */
	const char *line2;
	const char *city;
	const char *state;
	const char *postal_code;
	const char *country;	  /* ISO 3166-1 alpha-2, upper case */
	const char *departamento; /* El Salvador MH CAT-012, "00".."14" */
	const char *municipio;	  /* MH CAT-013, relative to the departamento */
};

struct patient_policy {
	char id[UUID_LEN + 1];	  /* server-assigned */
	const char *insurer_name; /* required */
	const char *insurer_code;
	const char *plan_name;
	const char *policy_number; /* required; encrypted at rest */
	const char *member_number; /* encrypted at rest */
	const char *group_number;
	const char *relationship; /* "self" | "spouse" | "child" | "other" or NULL */
	const char *valid_from;	  /* "YYYY-MM-DD" or NULL */
	const char *valid_to;	  /* "YYYY-MM-DD" or NULL; >= valid_from */
	bool is_primary;	  /* at most one per patient */
	bool active;
	const char *created_at;
	const char *updated_at;
};

struct patient {
	char id[UUID_LEN + 1];
	const char *first_name; /* required, trimmed */
	const char *last_name;	/* required, trimmed */
	const char *middle_name;
	const char *date_of_birth; /* "YYYY-MM-DD", 1900-01-01 .. today */
	const char *sex;	   /* "female" | "male" | "other" | "unknown" or NULL */
	const char *phone;	   /* normalised "+" and 7-15 digits */
	const char *email;
	bool has_address;
	struct patient_address address;
	const char *document_type;   /* "DUI" ... "OTHER"; with document_number or neither */
	const char *document_number; /* canonical form (doc_normalize) */
	const char *nrc;	     /* canonical NRC digits of a business receptor */
	const char *fiscal_name;     /* razón social */
	struct patient_policy policies[PATIENT_MAX_POLICIES];
	size_t npolicies;
	const char *notes;
	bool active;
	const char *deactivated_at; /* set when deactivated by DELETE */
	const char *anonymized_at;  /* set by patients_anonymize; final */
	const char *created_at;
	const char *updated_at;
};

/* A create or update request: the values of the fields present. For a
 * field in `present`, a NULL value in `v` means "clear it". Policies given
 * with an id keep it when the patient already has a policy with that id. */
struct patient_input {
	unsigned present; /* bits (1u << enum patient_field) */
	struct patient v;
	bool policy_has_id[PATIENT_MAX_POLICIES]; /* v.policies[i].id was given */
};

/* ---- pure rules (patients.c) ------------------------------------------ */

/* Normalise a phone number: drop spaces, dashes, dots and parentheses; the
 * rest must be '+' followed by 7 to 15 digits. out gets "+50377778888".
 * Otherwise ERR_INVALID naming field. */
int patients_phone_normalize(const char *in, char out[PATIENT_PHONE_MAX], const char *field, struct err *e);

/* Normalise a name or search text for matching: trim, collapse runs of white
 * space to one space, lower-case, and fold the accented Latin letters of
 * UTF-8 (á é í ó ú ü ñ ç ...) to their ASCII base. Writes at most outlen-1
 * bytes (truncating at a character boundary) and returns the length. */
size_t patients_name_normalize(const char *in, char *out, size_t outlen);

/* Escape LIKE wildcards: '\' '%' '_' get a '\' before them (use with
 * ESCAPE '\'). Returns the length written, or -1 when out is too small. */
int patients_like_escape(const char *in, char *out, size_t outlen);

/* Lower-case copy of an email address, trimmed, into out. Returns 0, or -1
 * when out is too small. */
int patients_email_normalize(const char *in, char *out, size_t outlen);

/* Mask a secret for audit entries: "****" + its last 4 characters (all
 * stars for 4 characters or fewer). For an email: "***@" + domain. */
void patients_mask(const char *value, char out[PATIENT_MASK_MAX]);
/* The email form of patients_mask; out must hold 4 + strlen(domain) + 1. */
void patients_mask_email(const char *email, char *out, size_t outlen);

/* Date of birth: a real date, not before 1900-01-01 and not after today
 * ("YYYY-MM-DD"). ERR_INVALID naming field. */
int patients_dob_check(const char *dob, const char *today, const char *field, struct err *e);

/* ISO 3166-1 alpha-2 code (upper case) is assigned. */
bool patients_country_valid(const char *code);
/* MH departamento code ("00".."14") and municipio code for it (CAT-013
 * after the 2024 reform; "00" is "Otro" in every departamento). */
bool patients_departamento_valid(const char *code);
bool patients_municipio_valid(const char *departamento, const char *municipio);

/* Check a policy list: each has insurer name and policy number, a known
 * relationship, valid_to >= valid_from; at most one is_primary; at most
 * PATIENT_MAX_POLICIES. Errors name "insurancePolicies[i].<field>". */
int patients_policies_check(const struct patient_policy *p, size_t n, struct err *e);

/* Apply input `in` to base (copy of the current record, or zeroed for a
 * create) into *out: present fields replace, absent fields are kept. */
void patients_apply(const struct patient *base, const struct patient_input *in, struct patient *out);

/* Validate and normalise a whole record in place (trim names, canonical
 * document and NRC, normalised phone, upper-case country, ...). today is
 * "YYYY-MM-DD". New strings are allocated in a. ERR_INVALID naming the
 * first offending field. */
int patients_validate(struct arena *a, struct patient *p, const char *today, struct err *e);

/* Blind indexes (hex into out[PATIENT_BIDX_LEN]) of normalised values:
 * document "DUI:023827235", phone "phone:+50377778888", email
 * "email:ana@example.com", NRC "nrc:1234567". */
void patients_bidx_document(const unsigned char key[32], const char *type, const char *canonical,
			    char out[PATIENT_BIDX_LEN]);
void patients_bidx_phone(const unsigned char key[32], const char *normalised, char out[PATIENT_BIDX_LEN]);
void patients_bidx_email(const unsigned char key[32], const char *email, char out[PATIENT_BIDX_LEN]);
void patients_bidx_nrc(const unsigned char key[32], const char *canonical, char out[PATIENT_BIDX_LEN]);

/* Audit snapshot of a record: no names, dates or free text, and document,
 * phone, email, NRC and policy numbers masked. Owned. */
json_t *patients_audit_snapshot(const struct patient *p);

/* ---- service (patients.c) --------------------------------------------- */

/* A list request. Strings borrowed. */
struct patient_query {
	const char *search;	     /* name part, document, phone or email; or NULL */
	const char *document_number; /* exact document filter, or NULL */
	const char *document_type;   /* narrows document_number to one type, or NULL */
	const char *phone;	     /* exact phone filter, or NULL */
	const char *email;	     /* exact email filter, or NULL */
	bool active;		     /* default true */
	int page, limit;	     /* 1-based page; limit 1..100 */
};

/* Create a patient for who->tenant_id. *out (arena strings) is the stored
 * record. ERR_INVALID for bad input (nothing written), ERR_CONFLICT when the
 * tenant already has a patient with this document. Audited "patient.create". */
int patients_create(struct app *app, const struct actor *who, struct arena *a, const struct patient_input *in,
		    struct patient *out, struct err *e);

/* Read one patient with its fields decrypted. Another tenant's or unknown
 * id -> ERR_NOT_FOUND. */
int patients_get(struct app *app, const char *tenant_id, const char *id, struct arena *a, struct patient *out,
		 struct err *e);

/* A page of patients sorted by last name, first name. *items is an arena
 * array of *n records; *total counts every match. */
int patients_list(struct app *app, const char *tenant_id, const struct patient_query *q, struct arena *a,
		  struct patient **items, size_t *n, int64_t *total, struct err *e);

/* Replace the fields present in `in` (policies: the whole list). Anonymised
 * patient -> ERR_CONFLICT. Audited "patient.update" with the changed fields. */
int patients_update(struct app *app, const struct actor *who, struct arena *a, const char *id,
		    const struct patient_input *in, struct patient *out, struct err *e);

/* Delete a patient without billing history (with its policies), or
 * deactivate one that has history. *deleted tells which happened. Audited
 * "patient.delete" or "patient.deactivate". */
int patients_delete(struct app *app, const struct actor *who, const char *id, bool *deleted, struct err *e);

/* Erase the personal data of a patient for good, keeping the row (and so
 * the financial records that point at it). reason is required. Already
 * anonymised -> ERR_CONFLICT. Audited "patient.anonymize" with the list of
 * erased fields only. *out is the record afterwards. */
int patients_anonymize(struct app *app, const struct actor *who, struct arena *a, const char *id, const char *reason,
		       struct patient *out, struct err *e);

/* ---- storage (patients_repo.c) ----------------------------------------- */

/* Search filter after normalisation: blind indexes and a LIKE pattern. */
#define PATIENT_DOC_TYPES 7
struct patient_filter {
	bool active;
	/* free-text search: rows matching any of these (when has_search) */
	bool has_search;
	const char *name_like; /* "%escaped text%" or NULL */
	char search_doc[PATIENT_DOC_TYPES][PATIENT_BIDX_LEN];
	size_t nsearch_doc;
	char search_nrc[PATIENT_BIDX_LEN];   /* "" when not an NRC */
	char search_phone[PATIENT_BIDX_LEN]; /* "" when not a phone */
	char search_email[PATIENT_BIDX_LEN]; /* "" when not an email */
	/* exact filters: all must match */
	bool has_doc;
	char doc[PATIENT_DOC_TYPES][PATIENT_BIDX_LEN];
	size_t ndoc;
	char phone[PATIENT_BIDX_LEN]; /* "" = no filter */
	char email[PATIENT_BIDX_LEN]; /* "" = no filter */
	int limit, offset;
};

/* Insert a validated record (ids and timestamps set) with its policies. */
int patients_repo_insert(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const struct patient *p,
			 struct err *e);
/* Rewrite a record and replace its policies. Not found -> ERR_NOT_FOUND. */
int patients_repo_update(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const struct patient *p,
			 struct err *e);
/* Load and decrypt one record (strings in a). Missing -> ERR_NOT_FOUND. */
int patients_repo_get(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const char *id,
		      struct arena *a, struct patient *out, struct err *e);
/* One page of matches and the total count. *items in a. */
int patients_repo_list(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
		       const struct patient_filter *f, struct arena *a, struct patient **items, size_t *n,
		       int64_t *total, struct err *e);
/* Whether another patient of the tenant (not exclude_id, which may be NULL)
 * has this document blind index. */
int patients_repo_document_taken(struct db_conn *c, const char *tenant_id, const char *doc_bidx, const char *exclude_id,
				 bool *taken, struct err *e);
/* Whether billing documents or claims reference the patient. */
int patients_repo_has_billing_history(struct db_conn *c, const char *tenant_id, const char *id, bool *has,
				      struct err *e);
/* Delete the patient and its policies. Missing -> ERR_NOT_FOUND. */
int patients_repo_delete(struct db_conn *c, const char *tenant_id, const char *id, struct err *e);
/* active = 0, deactivated_at = now. Missing -> ERR_NOT_FOUND. */
int patients_repo_deactivate(struct db_conn *c, const char *tenant_id, const char *id, const char *now, struct err *e);
/* Erase personal data (names become "ANONYMIZED"; ciphertexts and blind
 * indexes NULL) and mark the row anonymised and inactive. */
int patients_repo_anonymize(struct db_conn *c, const char *tenant_id, const char *id, const char *now, struct err *e);

#endif
