/*
 * patients.c - the rules of the patient record and its service functions.
 *
 * The first half is pure: normalising phones, names and search text,
 * checking dates, addresses and insurance policies, masking secrets for
 * the audit trail. It touches no database and is unit-tested on its own.
 * The second half runs each use case in one transaction: read what is
 * there, apply the input, validate the merged record, write it through
 * patients_repo.c and append the audit entry before committing. Invalid
 * input fails before anything is written.
 */
#include "mod/patients/patients.h"

#include <stdio.h>
#include <string.h>

#include "crypto/field.h"

static const char *const field_names[PF__COUNT] = {
    [PF_FIRST_NAME] = "firstName",
    [PF_LAST_NAME] = "lastName",
    [PF_MIDDLE_NAME] = "middleName",
    [PF_DATE_OF_BIRTH] = "dateOfBirth",
    [PF_SEX] = "sex",
    [PF_PHONE] = "phone",
    [PF_EMAIL] = "email",
    [PF_ADDRESS] = "address",
    [PF_DOCUMENT_TYPE] = "documentType",
    [PF_DOCUMENT_NUMBER] = "documentNumber",
    [PF_NRC] = "nrc",
    [PF_FISCAL_NAME] = "fiscalName",
    [PF_INSURANCE_POLICIES] = "insurancePolicies",
    [PF_NOTES] = "notes",
};

const char *patients_field_name(enum patient_field f)
{
	if ((int)f < 0 || f >= PF__COUNT)
		return "";
	return field_names[f];
}

/* ---- pure rules ---------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int patients_phone_normalize(const char *in, char out[PATIENT_PHONE_MAX], const char *field, struct err *e)
{
	const char *f = field ? field : "phone";
	size_t digits = 0, pos = 0;
	bool plus = false;

	if (!in)
		return err_set(e, ERR_INVALID, f, "%s is required", f);
	for (const char *s = in; *s; s++) {
		char ch = *s;

		if (is_space(ch) || ch == '-' || ch == '.' || ch == '(' || ch == ')')
			continue;
		if (ch == '+') {
			if (plus || digits > 0)
				return err_set(e, ERR_INVALID, f, "%s must be '+' followed by 7 to 15 digits", f);
			plus = true;
			out[pos++] = '+';
			continue;
		}
		if (!is_digit(ch) || !plus || digits >= 15)
			return err_set(e, ERR_INVALID, f, "%s must be '+' followed by 7 to 15 digits", f);
		out[pos++] = ch;
		digits++;
	}
	out[pos] = '\0';
	if (!plus || digits < 7)
		return err_set(e, ERR_INVALID, f, "%s must be '+' followed by 7 to 15 digits", f);
	return 0;
}

/* ASCII base letters of U+00C0..U+00FF (UTF-8 C3 80..C3 BF); '*' = keep. */
static const char latin1_fold[65] = "aaaaaaaceeeeiiiidnooooo*ouuuuy*s"
				    "aaaaaaaceeeeiiiidnooooo*ouuuuy*y";

/* Byte length of the UTF-8 sequence starting with lead byte b (1 for
 * anything malformed, so bad input is copied byte by byte). */
static size_t utf8_len(unsigned char b)
{
	if (b >= 0xf0 && b <= 0xf4)
		return 4;
	if (b >= 0xe0)
		return 3;
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	return 1;
}

size_t patients_name_normalize(const char *in, char *out, size_t outlen)
{
	size_t pos = 0;
	bool pending_space = false;

	if (!out || outlen == 0)
		return 0;
	if (!in) {
		out[0] = '\0';
		return 0;
	}
	for (const unsigned char *s = (const unsigned char *)in; *s;) {
		size_t n;

		if (is_space((char)*s)) {
			pending_space = pos > 0;
			s++;
			continue;
		}
		if (pending_space) {
			if (pos + 1 >= outlen)
				break;
			out[pos++] = ' ';
			pending_space = false;
		}
		if (*s < 0x80) {
			if (pos + 1 >= outlen)
				break;
			out[pos++] = (char)((*s >= 'A' && *s <= 'Z') ? *s - 'A' + 'a' : *s);
			s++;
			continue;
		}
		if (*s == 0xc3 && s[1] >= 0x80 && s[1] <= 0xbf && latin1_fold[s[1] - 0x80] != '*') {
			if (pos + 1 >= outlen)
				break;
			out[pos++] = latin1_fold[s[1] - 0x80];
			s += 2;
			continue;
		}
		n = utf8_len(*s);
		for (size_t i = 1; i < n; i++) {
			if (s[i] == 0) {
				n = i;
				break;
			}
		}
		if (pos + n >= outlen)
			break;
		memcpy(out + pos, s, n);
		pos += n;
		s += n;
	}
	out[pos] = '\0';
	return pos;
}

int patients_like_escape(const char *in, char *out, size_t outlen)
{
	size_t pos = 0;

	if (!out || outlen == 0)
		return -1;
	for (const char *s = in ? in : ""; *s; s++) {
		if (*s == '\\' || *s == '%' || *s == '_') {
			if (pos + 2 >= outlen)
				return -1;
			out[pos++] = '\\';
		} else if (pos + 1 >= outlen) {
			return -1;
		}
		out[pos++] = *s;
	}
	out[pos] = '\0';
	return (int)pos;
}

int patients_email_normalize(const char *in, char *out, size_t outlen)
{
	size_t n, pos = 0;

	if (!in || !out || outlen == 0)
		return -1;
	while (is_space(*in))
		in++;
	n = strlen(in);
	while (n > 0 && is_space(in[n - 1]))
		n--;
	if (n + 1 > outlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[pos++] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' : in[i]);
	out[pos] = '\0';
	return 0;
}

void patients_mask(const char *value, char out[PATIENT_MASK_MAX])
{
	size_t n = value ? strlen(value) : 0;

	if (n <= 4) {
		snprintf(out, PATIENT_MASK_MAX, "****");
		return;
	}
	snprintf(out, PATIENT_MASK_MAX, "****%s", value + n - 4);
}

void patients_mask_email(const char *email, char *out, size_t outlen)
{
	const char *at = email ? strrchr(email, '@') : NULL;

	if (!out || outlen == 0)
		return;
	snprintf(out, outlen, "***@%s", at && at[1] ? at + 1 : "***");
}

int patients_dob_check(const char *dob, const char *today, const char *field, struct err *e)
{
	const char *f = field ? field : "dateOfBirth";

	if (!dob || !date_valid(dob))
		return err_set(e, ERR_INVALID, f, "%s must be a date YYYY-MM-DD", f);
	if (strcmp(dob, "1900-01-01") < 0)
		return err_set(e, ERR_INVALID, f, "%s must not be before 1900-01-01", f);
	if (today && strcmp(dob, today) > 0)
		return err_set(e, ERR_INVALID, f, "%s must not be in the future", f);
	return 0;
}

/* ISO 3166-1 alpha-2, from the tz database's iso3166.tab (2023-04-05). */
static const char iso3166[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS "
    "BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE "
    "EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM "
    "HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC "
    "LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA "
    "NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO "
    "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW ";

bool patients_country_valid(const char *code)
{
	if (!code || strlen(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
		return false;
	for (const char *p = iso3166; *p; p += 3)
		if (p[0] == code[0] && p[1] == code[1])
			return true;
	return false;
}

/* MH CAT-013 after the 2024 territorial reform: municipio codes per
 * departamento (index = departamento number); "00" (Otro) is always valid. */
static const char *const municipios[15] = {
    "",			 /* 00 Otro (foreigners) */
    "13 14 15",		 /* 01 Ahuachapán */
    "14 15 16 17",	 /* 02 Santa Ana */
    "17 18 19 20",	 /* 03 Sonsonate */
    "34 35 36",		 /* 04 Chalatenango */
    "23 24 25 26 27 28", /* 05 La Libertad */
    "20 21 22 23 24",	 /* 06 San Salvador */
    "17 18",		 /* 07 Cuscatlán */
    "23 24 25",		 /* 08 La Paz */
    "10 11",		 /* 09 Cabañas */
    "14 15",		 /* 10 San Vicente */
    "24 25 26",		 /* 11 Usulután */
    "21 22 23",		 /* 12 San Miguel */
    "27 28",		 /* 13 Morazán */
    "19 20",		 /* 14 La Unión */
};

static int two_digits(const char *s)
{
	if (!s || !is_digit(s[0]) || !is_digit(s[1]) || s[2])
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

bool patients_departamento_valid(const char *code)
{
	int d = two_digits(code);

	return d >= 0 && d <= 14;
}

bool patients_municipio_valid(const char *departamento, const char *municipio)
{
	int d = two_digits(departamento), m = two_digits(municipio);

	if (d < 0 || d > 14 || m < 0)
		return false;
	if (m == 0)
		return true;
	for (const char *p = municipios[d]; *p; p += (p[2] ? 3 : 2))
		if ((p[0] - '0') * 10 + (p[1] - '0') == m)
			return true;
	return false;
}

static bool str_in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static const char *const relationships[] = {"self", "spouse", "child", "other", NULL};
static const char *const sexes[] = {"female", "male", "other", "unknown", NULL};

static bool blank(const char *s)
{
	if (!s)
		return true;
	for (; *s; s++)
		if (!is_space(*s))
			return false;
	return true;
}

int patients_policies_check(const struct patient_policy *p, size_t n, struct err *e)
{
	size_t primary = n;

	if (n > PATIENT_MAX_POLICIES)
		return err_set(e, ERR_INVALID, "insurancePolicies", "insurancePolicies must have at most %d items",
			       PATIENT_MAX_POLICIES);
	for (size_t i = 0; i < n; i++) {
		char f[64];

		if (blank(p[i].insurer_name)) {
			snprintf(f, sizeof(f), "insurancePolicies[%zu].insurerName", i);
			return err_set(e, ERR_INVALID, f, "%s is required", f);
		}
		if (blank(p[i].policy_number)) {
			snprintf(f, sizeof(f), "insurancePolicies[%zu].policyNumber", i);
			return err_set(e, ERR_INVALID, f, "%s is required", f);
		}
		if (p[i].relationship && !str_in(p[i].relationship, relationships)) {
			snprintf(f, sizeof(f), "insurancePolicies[%zu].relationship", i);
			return err_set(e, ERR_INVALID, f, "%s must be one of self, spouse, child, other", f);
		}
		if (p[i].valid_from && !date_valid(p[i].valid_from)) {
			snprintf(f, sizeof(f), "insurancePolicies[%zu].validFrom", i);
			return err_set(e, ERR_INVALID, f, "%s must be a date YYYY-MM-DD", f);
		}
		if (p[i].valid_to && !date_valid(p[i].valid_to)) {
			snprintf(f, sizeof(f), "insurancePolicies[%zu].validTo", i);
			return err_set(e, ERR_INVALID, f, "%s must be a date YYYY-MM-DD", f);
		}
		if (p[i].valid_from && p[i].valid_to && strcmp(p[i].valid_to, p[i].valid_from) < 0) {
			snprintf(f, sizeof(f), "insurancePolicies[%zu].validTo", i);
			return err_set(e, ERR_INVALID, f, "%s must not be before validFrom", f);
		}
		if (p[i].is_primary) {
			if (primary < n) {
				snprintf(f, sizeof(f), "insurancePolicies[%zu].isPrimary", i);
				return err_set(e, ERR_INVALID, f, "only one insurance policy may be primary (%s)", f);
			}
			primary = i;
		}
	}
	return 0;
}

void patients_apply(const struct patient *base, const struct patient_input *in, struct patient *out)
{
	const struct patient *v = &in->v;

	*out = *base;
#define TAKE(bit, member)                                                                                              \
	do {                                                                                                           \
		if (in->present & (1u << (bit)))                                                                       \
			out->member = v->member;                                                                       \
	} while (0)
	TAKE(PF_FIRST_NAME, first_name);
	TAKE(PF_LAST_NAME, last_name);
	TAKE(PF_MIDDLE_NAME, middle_name);
	TAKE(PF_DATE_OF_BIRTH, date_of_birth);
	TAKE(PF_SEX, sex);
	TAKE(PF_PHONE, phone);
	TAKE(PF_EMAIL, email);
	TAKE(PF_DOCUMENT_TYPE, document_type);
	TAKE(PF_DOCUMENT_NUMBER, document_number);
	TAKE(PF_NRC, nrc);
	TAKE(PF_FISCAL_NAME, fiscal_name);
	TAKE(PF_NOTES, notes);
#undef TAKE
	if (in->present & (1u << PF_ADDRESS)) {
		out->has_address = v->has_address;
		out->address = v->address;
	}
	if (in->present & (1u << PF_INSURANCE_POLICIES)) {
		out->npolicies = v->npolicies;
		memcpy(out->policies, v->policies, sizeof(out->policies));
	}
}

/* Trimmed arena copy; NULL for NULL or blank. */
static const char *trim_dup(struct arena *a, const char *s)
{
	size_t n;

	if (!s)
		return NULL;
	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		n--;
	return n ? arena_strndup(a, s, n) : NULL;
}

/* Characters of UTF-8 text (bytes that do not continue a sequence). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Trimmed text of at most max characters without control characters. */
static int text_field(struct arena *a, const char **s, size_t max, bool required, const char *field, struct err *e)
{
	const char *t = trim_dup(a, *s);

	if (!t) {
		*s = NULL;
		if (required)
			return err_set(e, ERR_INVALID, field, "%s is required", field);
		return 0;
	}
	if (utf8_chars(t) > max)
		return err_set(e, ERR_INVALID, field, "%s must be at most %zu characters", field, max);
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return err_set(e, ERR_INVALID, field, "%s must not contain control characters", field);
	*s = t;
	return 0;
}

/* Like text_field, but line breaks and tabs are allowed (notes). */
static int note_field(struct arena *a, const char **s, size_t max, const char *field, struct err *e)
{
	const char *t = trim_dup(a, *s);

	*s = t;
	if (!t)
		return 0;
	if (utf8_chars(t) > max)
		return err_set(e, ERR_INVALID, field, "%s must be at most %zu characters", field, max);
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t') || *p == 0x7f)
			return err_set(e, ERR_INVALID, field, "%s must not contain control characters", field);
	return 0;
}

static int address_validate(struct arena *a, struct patient_address *ad, struct err *e)
{
	int rc;

	if ((rc = text_field(a, &ad->line1, 200, false, "address.line1", e)) ||
	    (rc = text_field(a, &ad->line2, 200, false, "address.line2", e)) ||
	    (rc = text_field(a, &ad->city, 100, false, "address.city", e)) ||
	    (rc = text_field(a, &ad->state, 100, false, "address.state", e)) ||
	    (rc = text_field(a, &ad->postal_code, 20, false, "address.postalCode", e)) ||
	    (rc = text_field(a, &ad->country, 2, false, "address.country", e)) ||
	    (rc = text_field(a, &ad->departamento, 2, false, "address.departamento", e)) ||
	    (rc = text_field(a, &ad->municipio, 2, false, "address.municipio", e)))
		return rc;
	if (ad->country) {
		char cc[3] = {0};

		for (int i = 0; i < 2 && ad->country[i]; i++) {
			char ch = ad->country[i];
			cc[i] = (char)((ch >= 'a' && ch <= 'z') ? ch - 'a' + 'A' : ch);
		}
		if (!patients_country_valid(cc))
			return err_set(e, ERR_INVALID, "address.country",
				       "address.country must be an ISO 3166-1 alpha-2 code");
		ad->country = arena_strdup(a, cc);
	}
	if (ad->departamento && !patients_departamento_valid(ad->departamento))
		return err_set(e, ERR_INVALID, "address.departamento",
			       "address.departamento must be an MH departamento code 00 to 14");
	if (ad->municipio) {
		if (!ad->departamento)
			return err_set(e, ERR_INVALID, "address.departamento",
				       "address.departamento is required with address.municipio");
		if (!patients_municipio_valid(ad->departamento, ad->municipio))
			return err_set(e, ERR_INVALID, "address.municipio",
				       "address.municipio is not a municipio of departamento %s", ad->departamento);
	}
	return 0;
}

static int policy_validate(struct arena *a, struct patient_policy *p, size_t i, struct err *e)
{
	char f[64];
	int rc;

#define POLICY_TEXT(member, name, max, req)                                                                            \
	do {                                                                                                           \
		snprintf(f, sizeof(f), "insurancePolicies[%zu]." name, i);                                             \
		if ((rc = text_field(a, &p->member, max, req, f, e)))                                                  \
			return rc;                                                                                     \
	} while (0)
	POLICY_TEXT(insurer_name, "insurerName", 200, true);
	POLICY_TEXT(insurer_code, "insurerCode", 50, false);
	POLICY_TEXT(plan_name, "planName", 200, false);
	POLICY_TEXT(policy_number, "policyNumber", 64, true);
	POLICY_TEXT(member_number, "memberNumber", 64, false);
	POLICY_TEXT(group_number, "groupNumber", 64, false);
#undef POLICY_TEXT
	return 0;
}

int patients_validate(struct arena *a, struct patient *p, const char *today, struct err *e)
{
	char buf[PATIENT_DOC_MAX];
	int rc, type;

	if ((rc = text_field(a, &p->first_name, PATIENT_NAME_MAX, true, "firstName", e)) ||
	    (rc = text_field(a, &p->last_name, PATIENT_NAME_MAX, true, "lastName", e)) ||
	    (rc = text_field(a, &p->middle_name, PATIENT_NAME_MAX, false, "middleName", e)))
		return rc;
	if (p->date_of_birth && (rc = patients_dob_check(p->date_of_birth, today, "dateOfBirth", e)))
		return rc;
	if (p->sex && !str_in(p->sex, sexes))
		return err_set(e, ERR_INVALID, "sex", "sex must be one of female, male, other, unknown");
	if (p->phone) {
		char ph[PATIENT_PHONE_MAX];

		if ((rc = patients_phone_normalize(p->phone, ph, "phone", e)))
			return rc;
		p->phone = arena_strdup(a, ph);
	}
	if ((rc = text_field(a, &p->email, 254, false, "email", e)))
		return rc;
	if (p->email && (!strchr(p->email, '@') || strchr(p->email, ' ')))
		return err_set(e, ERR_INVALID, "email", "email must be an email address");
	if (p->has_address) {
		if ((rc = address_validate(a, &p->address, e)))
			return rc;
	}

	/* document: type and number together, number valid for its type */
	if ((rc = text_field(a, &p->document_number, 40, false, "documentNumber", e)))
		return rc;
	if (p->document_type && !p->document_number)
		return err_set(e, ERR_INVALID, "documentNumber", "documentNumber is required with documentType");
	if (p->document_number && !p->document_type)
		return err_set(e, ERR_INVALID, "documentType", "documentType is required with documentNumber");
	if (p->document_type) {
		type = doc_type_parse(p->document_type);
		if (type < 0)
			return err_set(e, ERR_INVALID, "documentType",
				       "documentType must be one of DUI, NIT, NRC, RNC, CEDULA, PASSPORT, OTHER");
		if ((rc =
			 doc_normalize((enum doc_type)type, p->document_number, buf, sizeof(buf), "documentNumber", e)))
			return rc;
		p->document_number = arena_strdup(a, buf);
	}
	if (p->nrc) {
		if ((rc = doc_normalize(DOC_NRC, p->nrc, buf, sizeof(buf), "nrc", e)))
			return rc;
		p->nrc = arena_strdup(a, buf);
	}
	if ((rc = text_field(a, &p->fiscal_name, 250, false, "fiscalName", e)))
		return rc;

	if (p->npolicies > PATIENT_MAX_POLICIES)
		return err_set(e, ERR_INVALID, "insurancePolicies", "insurancePolicies must have at most %d items",
			       PATIENT_MAX_POLICIES);
	for (size_t i = 0; i < p->npolicies; i++)
		if ((rc = policy_validate(a, &p->policies[i], i, e)))
			return rc;
	if ((rc = patients_policies_check(p->policies, p->npolicies, e)))
		return rc;
	return note_field(a, &p->notes, PATIENT_NOTES_MAX, "notes", e);
}

static void bidx_of(const unsigned char key[32], const char *domain, const char *value, char out[PATIENT_BIDX_LEN])
{
	char buf[320];

	if (!value) {
		out[0] = '\0';
		return;
	}
	snprintf(buf, sizeof(buf), "%s:%s", domain, value);
	field_blind_index(key, buf, out);
	mem_wipe(buf, sizeof(buf));
}

void patients_bidx_document(const unsigned char key[32], const char *type, const char *canonical,
			    char out[PATIENT_BIDX_LEN])
{
	bidx_of(key, type, canonical, out);
}

void patients_bidx_phone(const unsigned char key[32], const char *normalised, char out[PATIENT_BIDX_LEN])
{
	bidx_of(key, "phone", normalised, out);
}

void patients_bidx_email(const unsigned char key[32], const char *email, char out[PATIENT_BIDX_LEN])
{
	char low[256];

	if (!email || patients_email_normalize(email, low, sizeof(low))) {
		out[0] = '\0';
		return;
	}
	bidx_of(key, "email", low, out);
	mem_wipe(low, sizeof(low));
}

void patients_bidx_nrc(const unsigned char key[32], const char *canonical, char out[PATIENT_BIDX_LEN])
{
	bidx_of(key, "nrc", canonical, out);
}

static json_t *masked(const char *value)
{
	char m[PATIENT_MASK_MAX];

	if (!value)
		return json_null();
	patients_mask(value, m);
	return json_string(m);
}

json_t *patients_audit_snapshot(const struct patient *p)
{
	json_t *o = json_object(), *pols = json_array();
	char em[280];

	json_object_set_new(o, "active", json_boolean(p->active));
	json_object_set_new(o, "anonymized", json_boolean(p->anonymized_at != NULL));
	json_object_set_new(o, "documentType", p->document_type ? json_string(p->document_type) : json_null());
	json_object_set_new(o, "documentNumber", masked(p->document_number));
	json_object_set_new(o, "phone", masked(p->phone));
	if (p->email) {
		patients_mask_email(p->email, em, sizeof(em));
		json_object_set_new(o, "email", json_string(em));
	} else {
		json_object_set_new(o, "email", json_null());
	}
	json_object_set_new(o, "nrc", masked(p->nrc));
	for (size_t i = 0; i < p->npolicies; i++) {
		const struct patient_policy *pp = &p->policies[i];

		json_array_append_new(pols, json_pack("{s:s, s:s?, s:o, s:o, s:b, s:b}", "id", pp->id, "insurerName",
						      pp->insurer_name, "policyNumber", masked(pp->policy_number),
						      "memberNumber", masked(pp->member_number), "isPrimary",
						      (int)pp->is_primary, "active", (int)pp->active));
	}
	json_object_set_new(o, "insurancePolicies", pols);
	return o;
}

/* ---- service ------------------------------------------------------------- */

static void today_of(const char *now_iso, char today[DATE_LEN + 1])
{
	memcpy(today, now_iso, DATE_LEN);
	today[DATE_LEN] = '\0';
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool address_eq(const struct patient *a, const struct patient *b)
{
	const struct patient_address *x = &a->address, *y = &b->address;

	if (a->has_address != b->has_address)
		return false;
	if (!a->has_address)
		return true;
	return str_eq(x->line1, y->line1) && str_eq(x->line2, y->line2) && str_eq(x->city, y->city) &&
	       str_eq(x->state, y->state) && str_eq(x->postal_code, y->postal_code) && str_eq(x->country, y->country) &&
	       str_eq(x->departamento, y->departamento) && str_eq(x->municipio, y->municipio);
}

static bool policies_eq(const struct patient *a, const struct patient *b)
{
	if (a->npolicies != b->npolicies)
		return false;
	for (size_t i = 0; i < a->npolicies; i++) {
		const struct patient_policy *x = &a->policies[i], *y = &b->policies[i];

		if (strcmp(x->id, y->id) || !str_eq(x->insurer_name, y->insurer_name) ||
		    !str_eq(x->insurer_code, y->insurer_code) || !str_eq(x->plan_name, y->plan_name) ||
		    !str_eq(x->policy_number, y->policy_number) || !str_eq(x->member_number, y->member_number) ||
		    !str_eq(x->group_number, y->group_number) || !str_eq(x->relationship, y->relationship) ||
		    !str_eq(x->valid_from, y->valid_from) || !str_eq(x->valid_to, y->valid_to) ||
		    x->is_primary != y->is_primary || x->active != y->active)
			return false;
	}
	return true;
}

/* Names of the fields that differ between two records. Owned array. */
static json_t *changed_fields(const struct patient *old, const struct patient *cur)
{
	json_t *list = json_array();
	bool diff[PF__COUNT] = {
	    [PF_FIRST_NAME] = !str_eq(old->first_name, cur->first_name),
	    [PF_LAST_NAME] = !str_eq(old->last_name, cur->last_name),
	    [PF_MIDDLE_NAME] = !str_eq(old->middle_name, cur->middle_name),
	    [PF_DATE_OF_BIRTH] = !str_eq(old->date_of_birth, cur->date_of_birth),
	    [PF_SEX] = !str_eq(old->sex, cur->sex),
	    [PF_PHONE] = !str_eq(old->phone, cur->phone),
	    [PF_EMAIL] = !str_eq(old->email, cur->email),
	    [PF_ADDRESS] = !address_eq(old, cur),
	    [PF_DOCUMENT_TYPE] = !str_eq(old->document_type, cur->document_type),
	    [PF_DOCUMENT_NUMBER] = !str_eq(old->document_number, cur->document_number),
	    [PF_NRC] = !str_eq(old->nrc, cur->nrc),
	    [PF_FISCAL_NAME] = !str_eq(old->fiscal_name, cur->fiscal_name),
	    [PF_INSURANCE_POLICIES] = !policies_eq(old, cur),
	    [PF_NOTES] = !str_eq(old->notes, cur->notes),
	};

	for (int f = 0; f < PF__COUNT; f++)
		if (diff[f])
			json_array_append_new(list, json_string(field_names[f]));
	return list;
}

/* Give each policy of p its id: the id given in the input when `base` has a
 * policy with it (keeping that policy's creation time), else a new one. */
static int policies_assign_ids(struct arena *a, const struct patient *base, const struct patient_input *in,
			       struct patient *p, const char *now, struct err *e)
{
	for (size_t i = 0; i < p->npolicies; i++) {
		struct patient_policy *pp = &p->policies[i];
		const struct patient_policy *found = NULL;

		if (in->policy_has_id[i] && base) {
			for (size_t j = 0; j < base->npolicies; j++)
				if (strcmp(base->policies[j].id, pp->id) == 0)
					found = &base->policies[j];
			for (size_t k = 0; found && k < i; k++) {
				if (strcmp(p->policies[k].id, pp->id) == 0) {
					char f[64];

					snprintf(f, sizeof(f), "insurancePolicies[%zu].id", i);
					return err_set(e, ERR_INVALID, f, "%s repeats the id of another policy", f);
				}
			}
		}
		if (found) {
			pp->created_at = found->created_at;
		} else {
			uuid_v4(pp->id);
			pp->created_at = arena_strdup(a, now);
		}
		pp->updated_at = arena_strdup(a, now);
	}
	return 0;
}

/* The duplicate-document rule: 409 when another patient of the tenant has
 * the same type and number. */
static int document_unique(struct app *app, struct db_conn *c, const char *tenant_id, const struct patient *p,
			   struct err *e)
{
	char bidx[PATIENT_BIDX_LEN];
	bool taken = false;
	int rc;

	if (!p->document_type || !p->document_number)
		return 0;
	patients_bidx_document(app->keys.data_index, p->document_type, p->document_number, bidx);
	rc = patients_repo_document_taken(c, tenant_id, bidx, p->id, &taken, e);
	if (rc)
		return rc;
	if (taken)
		return err_set(e, ERR_CONFLICT, "documentNumber", "a patient with this document already exists");
	return 0;
}

/* A unique violation on write can only be the document index (the race
 * after document_unique): give it the same message. */
static int conflict_message(int rc, struct err *e)
{
	if (rc == ERR_CONFLICT)
		return err_set(e, ERR_CONFLICT, "documentNumber", "a patient with this document already exists");
	return rc;
}

int patients_create(struct app *app, const struct actor *who, struct arena *a, const struct patient_input *in,
		    struct patient *out, struct err *e)
{
	struct patient base, p;
	struct db_conn *c = NULL;
	char now[TIME_ISO_LEN + 1], today[DATE_LEN + 1];
	json_t *after = NULL;
	int rc;

	memset(&base, 0, sizeof(base));
	time_now_iso(now);
	today_of(now, today);
	patients_apply(&base, in, &p);
	rc = patients_validate(a, &p, today, e);
	if (rc)
		return rc;
	uuid_v4(p.id);
	rc = policies_assign_ids(a, NULL, in, &p, now, e);
	if (rc)
		return rc;
	p.active = true;
	p.deactivated_at = NULL;
	p.anonymized_at = NULL;
	p.created_at = p.updated_at = arena_strdup(a, now);
	after = patients_audit_snapshot(&p);

	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)) || (rc = db_begin(c, e)))
		goto out;
	if ((rc = document_unique(app, c, who->tenant_id, &p, e)))
		goto out;
	if ((rc = conflict_message(patients_repo_insert(c, &app->keys, who->tenant_id, &p, e), e)))
		goto out;
	if ((rc = audit_record(c, who, "patient.create", "patient", p.id, NULL, after, NULL, e)))
		goto out;
	if ((rc = db_commit(c, e)))
		goto out;
	*out = p;
out:
	if (c)
		db_release(c);
	json_decref(after);
	return rc;
}

int patients_get(struct app *app, const char *tenant_id, const char *id, struct arena *a, struct patient *out,
		 struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	if (!uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = patients_repo_get(c, &app->keys, tenant_id, id, a, out, e);
	db_release(c);
	return rc;
}

/* Add the blind indexes of every document type text `s` is valid for. */
static size_t document_candidates(const unsigned char key[32], const char *s,
				  char out[PATIENT_DOC_TYPES][PATIENT_BIDX_LEN], char nrc[PATIENT_BIDX_LEN])
{
	static const enum doc_type types[PATIENT_DOC_TYPES] = {DOC_DUI,	   DOC_NIT,	 DOC_NRC,  DOC_RNC,
							       DOC_CEDULA, DOC_PASSPORT, DOC_OTHER};
	char canon[PATIENT_DOC_MAX];
	size_t n = 0;

	for (size_t i = 0; i < PATIENT_DOC_TYPES; i++) {
		struct err ignored;

		err_clear(&ignored);
		if (doc_normalize(types[i], s, canon, sizeof(canon), NULL, &ignored))
			continue;
		patients_bidx_document(key, doc_type_name(types[i]), canon, out[n++]);
		if (types[i] == DOC_NRC && nrc)
			patients_bidx_nrc(key, canon, nrc);
	}
	mem_wipe(canon, sizeof(canon));
	return n;
}

/* Normalise the query of a list into blind indexes and a LIKE pattern. */
static int list_filter(struct app *app, struct arena *a, const struct patient_query *q, struct patient_filter *f,
		       struct err *e)
{
	const unsigned char *key = app->keys.data_index;
	char ph[PATIENT_PHONE_MAX];
	struct err ignored;
	int rc;

	memset(f, 0, sizeof(*f));
	f->active = q->active;
	f->limit = q->limit;
	f->offset = (q->page - 1) * q->limit;

	if (q->search && !blank(q->search)) {
		char norm[PATIENT_SEARCH_MAX + 1], esc[2 * PATIENT_SEARCH_MAX + 1];
		size_t n;

		if (strlen(q->search) > PATIENT_SEARCH_MAX)
			return err_set(e, ERR_INVALID, "search", "search must be at most %d characters",
				       PATIENT_SEARCH_MAX);
		f->has_search = true;
		n = patients_name_normalize(q->search, norm, sizeof(norm));
		if (n > 0 && patients_like_escape(norm, esc, sizeof(esc)) >= 0)
			f->name_like = arena_printf(a, "%%%s%%", esc);
		f->nsearch_doc = document_candidates(key, q->search, f->search_doc, f->search_nrc);
		err_clear(&ignored);
		if (patients_phone_normalize(q->search, ph, NULL, &ignored) == 0) {
			patients_bidx_phone(key, ph, f->search_phone);
		} else {
			/* digits typed without the '+' */
			char *plus = arena_printf(a, "+%s", q->search);

			err_clear(&ignored);
			if (patients_phone_normalize(plus, ph, NULL, &ignored) == 0)
				patients_bidx_phone(key, ph, f->search_phone);
		}
		if (strchr(q->search, '@'))
			patients_bidx_email(key, q->search, f->search_email);
	}

	if (q->document_type && !q->document_number)
		return err_set(e, ERR_INVALID, "documentNumber", "documentNumber is required with documentType");
	if (q->document_number) {
		f->has_doc = true;
		if (q->document_type) {
			char canon[PATIENT_DOC_MAX];
			int type = doc_type_parse(q->document_type);

			if (type < 0)
				return err_set(
				    e, ERR_INVALID, "documentType",
				    "documentType must be one of DUI, NIT, NRC, RNC, CEDULA, PASSPORT, OTHER");
			rc = doc_normalize((enum doc_type)type, q->document_number, canon, sizeof(canon),
					   "documentNumber", e);
			if (rc)
				return rc;
			patients_bidx_document(key, q->document_type, canon, f->doc[0]);
			f->ndoc = 1;
		} else {
			f->ndoc = document_candidates(key, q->document_number, f->doc, NULL);
		}
	}
	if (q->phone) {
		rc = patients_phone_normalize(q->phone, ph, "phone", e);
		if (rc)
			return rc;
		patients_bidx_phone(key, ph, f->phone);
	}
	if (q->email) {
		if (blank(q->email) || !strchr(q->email, '@'))
			return err_set(e, ERR_INVALID, "email", "email must be an email address");
		patients_bidx_email(key, q->email, f->email);
	}
	return 0;
}

int patients_list(struct app *app, const char *tenant_id, const struct patient_query *q, struct arena *a,
		  struct patient **items, size_t *n, int64_t *total, struct err *e)
{
	struct patient_filter f;
	struct db_conn *c = NULL;
	int rc;

	*items = NULL;
	*n = 0;
	*total = 0;
	if (q->page < 1 || q->limit < 1 || q->limit > 100)
		return err_set(e, ERR_INVALID, "limit", "limit must be an integer from 1 to 100");
	rc = list_filter(app, a, q, &f, e);
	if (rc)
		return rc;
	if (f.has_doc && f.ndoc == 0)
		return 0; /* not a document number of any type: nothing can match */
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = patients_repo_list(c, &app->keys, tenant_id, &f, a, items, n, total, e);
	db_release(c);
	return rc;
}

int patients_update(struct app *app, const struct actor *who, struct arena *a, const char *id,
		    const struct patient_input *in, struct patient *out, struct err *e)
{
	struct patient old, p;
	struct db_conn *c = NULL;
	char now[TIME_ISO_LEN + 1], today[DATE_LEN + 1];
	json_t *before = NULL, *after = NULL;
	int rc;

	if (!uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
	time_now_iso(now);
	today_of(now, today);
	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)) || (rc = db_begin(c, e)))
		goto out;
	if ((rc = patients_repo_get(c, &app->keys, who->tenant_id, id, a, &old, e)))
		goto out;
	if (old.anonymized_at) {
		rc = err_set(e, ERR_CONFLICT, NULL, "patient has been anonymized and cannot be changed");
		goto out;
	}
	patients_apply(&old, in, &p);
	if ((rc = patients_validate(a, &p, today, e)))
		goto out;
	if ((in->present & (1u << PF_INSURANCE_POLICIES)) && (rc = policies_assign_ids(a, &old, in, &p, now, e)))
		goto out;
	p.updated_at = arena_strdup(a, now);
	if ((rc = document_unique(app, c, who->tenant_id, &p, e)))
		goto out;
	if ((rc = conflict_message(patients_repo_update(c, &app->keys, who->tenant_id, &p, e), e)))
		goto out;
	before = patients_audit_snapshot(&old);
	after = patients_audit_snapshot(&p);
	json_object_set_new(after, "changed", changed_fields(&old, &p));
	if ((rc = audit_record(c, who, "patient.update", "patient", p.id, before, after, NULL, e)))
		goto out;
	if ((rc = db_commit(c, e)))
		goto out;
	*out = p;
out:
	if (c)
		db_release(c);
	json_decref(before);
	json_decref(after);
	return rc;
}

int patients_delete(struct app *app, const struct actor *who, const char *id, bool *deleted, struct err *e)
{
	struct arena *a = arena_new(1 << 20);
	struct patient old;
	struct db_conn *c = NULL;
	char now[TIME_ISO_LEN + 1];
	json_t *before = NULL, *after = NULL;
	bool history = false;
	int rc;

	*deleted = false;
	if (!uuid_valid(id)) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
		goto out;
	}
	time_now_iso(now);
	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)) || (rc = db_begin(c, e)))
		goto out;
	if ((rc = patients_repo_get(c, &app->keys, who->tenant_id, id, a, &old, e)))
		goto out;
	if ((rc = patients_repo_has_billing_history(c, who->tenant_id, id, &history, e)))
		goto out;
	if (history) {
		if (!old.active) {
			/* already inactive: nothing changes, nothing to audit */
			rc = db_commit(c, e);
			goto out;
		}
		if ((rc = patients_repo_deactivate(c, who->tenant_id, id, now, e)))
			goto out;
		before = json_pack("{s:b}", "active", 1);
		after = json_pack("{s:b, s:s}", "active", 0, "deactivatedAt", now);
		rc = audit_record(c, who, "patient.deactivate", "patient", id, before, after, NULL, e);
	} else {
		if ((rc = patients_repo_delete(c, who->tenant_id, id, e)))
			goto out;
		before = patients_audit_snapshot(&old);
		rc = audit_record(c, who, "patient.delete", "patient", id, before, NULL, NULL, e);
	}
	if (rc)
		goto out;
	if ((rc = db_commit(c, e)))
		goto out;
	*deleted = !history;
out:
	if (c)
		db_release(c);
	json_decref(before);
	json_decref(after);
	arena_free(a);
	return rc;
}

/* The fields an anonymisation erases from this record (those with a value). */
static json_t *erased_fields(const struct patient *p)
{
	json_t *list = json_array();
	bool has_numbers = false;
	bool set[PF__COUNT] = {
	    [PF_FIRST_NAME] = p->first_name != NULL,
	    [PF_LAST_NAME] = p->last_name != NULL,
	    [PF_MIDDLE_NAME] = p->middle_name != NULL,
	    [PF_DATE_OF_BIRTH] = p->date_of_birth != NULL,
	    [PF_SEX] = p->sex != NULL,
	    [PF_PHONE] = p->phone != NULL,
	    [PF_EMAIL] = p->email != NULL,
	    [PF_ADDRESS] = p->has_address,
	    [PF_DOCUMENT_TYPE] = p->document_type != NULL,
	    [PF_DOCUMENT_NUMBER] = p->document_number != NULL,
	    [PF_NRC] = p->nrc != NULL,
	    [PF_FISCAL_NAME] = p->fiscal_name != NULL,
	    [PF_NOTES] = p->notes != NULL,
	};

	for (size_t i = 0; i < p->npolicies; i++)
		if (p->policies[i].policy_number || p->policies[i].member_number)
			has_numbers = true;
	for (int f = 0; f < PF__COUNT; f++)
		if (set[f])
			json_array_append_new(list, json_string(field_names[f]));
	if (has_numbers) {
		json_array_append_new(list, json_string("insurancePolicies[].policyNumber"));
		json_array_append_new(list, json_string("insurancePolicies[].memberNumber"));
	}
	return list;
}

int patients_anonymize(struct app *app, const struct actor *who, struct arena *a, const char *id, const char *reason,
		       struct patient *out, struct err *e)
{
	struct patient old;
	struct db_conn *c = NULL;
	char now[TIME_ISO_LEN + 1];
	json_t *before = NULL, *after = NULL;
	const char *why = NULL;
	int rc;

	if (!uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "patient not found");
	why = reason;
	if ((rc = text_field(a, &why, 500, true, "reason", e)))
		return rc;
	time_now_iso(now);
	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)) || (rc = db_begin(c, e)))
		goto out;
	if ((rc = patients_repo_get(c, &app->keys, who->tenant_id, id, a, &old, e)))
		goto out;
	if (old.anonymized_at) {
		rc = err_set(e, ERR_CONFLICT, NULL, "patient has already been anonymized");
		goto out;
	}
	if ((rc = patients_repo_anonymize(c, who->tenant_id, id, now, e)))
		goto out;
	before = json_pack("{s:b, s:b}", "active", (int)old.active, "anonymized", 0);
	after = json_pack("{s:b, s:b, s:s, s:o}", "active", 0, "anonymized", 1, "anonymizedAt", now, "erased",
			  erased_fields(&old));
	if ((rc = audit_record(c, who, "patient.anonymize", "patient", id, before, after, why, e)))
		goto out;
	if ((rc = patients_repo_get(c, &app->keys, who->tenant_id, id, a, out, e)))
		goto out;
	rc = db_commit(c, e);
out:
	if (c)
		db_release(c);
	json_decref(before);
	json_decref(after);
	return rc;
}
