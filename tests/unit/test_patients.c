/*
 * test_patients.c - the pure rules of src/mod/patients/patients.c: phone,
 * name and email normalisation, LIKE escaping, masking for the audit trail,
 * date of birth, country and MH address codes, insurance policy rules, and
 * patients_validate / patients_apply on whole records. No database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mod/patients/patients.h"

static void phone_ok(const char *in, const char *want)
{
	char out[PATIENT_PHONE_MAX];
	struct err e;

	err_clear(&e);
	if (patients_phone_normalize(in, out, "phone", &e) != 0)
		fail_msg("phone \"%s\" rejected: %s", in, e.message);
	assert_string_equal(out, want);
}

static void phone_bad(const char *in)
{
	char out[PATIENT_PHONE_MAX];
	struct err e;

	err_clear(&e);
	if (patients_phone_normalize(in, out, "phone", &e) != ERR_INVALID)
		fail_msg("phone \"%s\" accepted", in ? in : "(null)");
	assert_string_equal(e.field, "phone");
}

static void test_phone_normalize(void **state)
{
	(void)state;
	phone_ok("+50377778888", "+50377778888");
	phone_ok("+503 7777-8888", "+50377778888");
	phone_ok(" +1 (809) 555-0100 ", "+18095550100");
	phone_ok("+212.6.12.34.56.78", "+212612345678");
	phone_ok("+1234567", "+1234567");		  /* 7 digits */
	phone_ok("+123456789012345", "+123456789012345"); /* 15 digits */
	phone_bad("77778888");				  /* no '+' */
	phone_bad("+123456");				  /* 6 digits */
	phone_bad("+1234567890123456");			  /* 16 digits */
	phone_bad("+503 7777 888a");
	phone_bad("++50377778888");
	phone_bad("503+77778888");
	phone_bad("+");
	phone_bad("");
	phone_bad(NULL);
}

static void name_is(const char *in, const char *want)
{
	char out[128];

	patients_name_normalize(in, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_name_normalize(void **state)
{
	char small[5], six[6];

	(void)state;
	name_is("Ana", "ana");
	name_is("  José   Pérez\tGÓMEZ  ", "jose perez gomez");
	name_is("MUÑOZ Ñandú", "munoz nandu");
	name_is("Çelik Ærø ÿ", "celik aro y");
	name_is("Łukasz", "Łukasz"); /* outside Latin-1: kept as is */
	name_is("", "");
	name_is(NULL, "");
	/* truncation never splits a character */
	assert_int_equal(patients_name_normalize("ab Łukasz", small, sizeof(small)), 3);
	assert_string_equal(small, "ab ");
	assert_int_equal(patients_name_normalize("ab Łukasz", six, sizeof(six)), 5);
	assert_string_equal(six, "ab Ł");
	assert_int_equal(patients_name_normalize("abcdefgh", small, sizeof(small)), 4);
	assert_string_equal(small, "abcd");
}

static void test_like_escape(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(patients_like_escape("ana", out, sizeof(out)), 3);
	assert_string_equal(out, "ana");
	assert_int_equal(patients_like_escape("50%_off\\", out, sizeof(out)), 11);
	assert_string_equal(out, "50\\%\\_off\\\\");
	assert_int_equal(patients_like_escape("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(patients_like_escape("%%%%", out, 8), -1); /* needs 9 bytes */
	assert_int_equal(patients_like_escape("%%%", out, 7), 6);
}

static void test_email_and_mask(void **state)
{
	char out[64], m[PATIENT_MASK_MAX];

	(void)state;
	assert_int_equal(patients_email_normalize("  Ana.Perez@Example.COM ", out, sizeof(out)), 0);
	assert_string_equal(out, "ana.perez@example.com");
	assert_int_equal(patients_email_normalize("a@b.c", out, 5), -1);

	patients_mask("023827235", m);
	assert_string_equal(m, "****7235");
	patients_mask("+50377778888", m);
	assert_string_equal(m, "****8888");
	patients_mask("1234", m);
	assert_string_equal(m, "****");
	patients_mask(NULL, m);
	assert_string_equal(m, "****");
	patients_mask_email("ana@example.com", out, sizeof(out));
	assert_string_equal(out, "***@example.com");
	patients_mask_email("nodomain", out, sizeof(out));
	assert_string_equal(out, "***@***");
}

static void dob_bad(const char *dob, const char *msg_part)
{
	struct err e;

	err_clear(&e);
	assert_int_equal(patients_dob_check(dob, "2025-06-15", "dateOfBirth", &e), ERR_INVALID);
	assert_string_equal(e.field, "dateOfBirth");
	if (!strstr(e.message, msg_part))
		fail_msg("message \"%s\" lacks \"%s\"", e.message, msg_part);
}

static void test_dob(void **state)
{
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(patients_dob_check("1980-02-29", "2025-06-15", NULL, &e), 0);
	assert_int_equal(patients_dob_check("1900-01-01", "2025-06-15", NULL, &e), 0);
	assert_int_equal(patients_dob_check("2025-06-15", "2025-06-15", NULL, &e), 0);
	dob_bad("2025-06-16", "future");
	dob_bad("1899-12-31", "1900");
	dob_bad("1981-02-29", "date");
	dob_bad("15/06/1980", "date");
	dob_bad(NULL, "date");
}

static void test_country_and_mh_codes(void **state)
{
	(void)state;
	assert_true(patients_country_valid("SV"));
	assert_true(patients_country_valid("DO"));
	assert_true(patients_country_valid("US"));
	assert_true(patients_country_valid("ZW"));
	assert_true(patients_country_valid("AD"));
	assert_false(patients_country_valid("XX"));
	assert_false(patients_country_valid("sv"));
	assert_false(patients_country_valid("SLV"));
	assert_false(patients_country_valid(""));
	assert_false(patients_country_valid(NULL));

	assert_true(patients_departamento_valid("00"));
	assert_true(patients_departamento_valid("06"));
	assert_true(patients_departamento_valid("14"));
	assert_false(patients_departamento_valid("15"));
	assert_false(patients_departamento_valid("6"));
	assert_false(patients_departamento_valid("ab"));

	assert_true(patients_municipio_valid("06", "23")); /* San Salvador Centro */
	assert_true(patients_municipio_valid("06", "20"));
	assert_true(patients_municipio_valid("01", "15"));
	assert_true(patients_municipio_valid("05", "28"));
	assert_true(patients_municipio_valid("14", "20"));
	assert_true(patients_municipio_valid("04", "36"));
	assert_true(patients_municipio_valid("03", "00")); /* Otro */
	assert_false(patients_municipio_valid("06", "25"));
	assert_false(patients_municipio_valid("01", "01")); /* pre-reform code */
	assert_false(patients_municipio_valid("00", "13"));
	assert_false(patients_municipio_valid("15", "00"));
	assert_false(patients_municipio_valid("06", "2"));
}

static struct patient_policy policy(const char *insurer, const char *number, bool primary)
{
	struct patient_policy p;

	memset(&p, 0, sizeof(p));
	p.insurer_name = insurer;
	p.policy_number = number;
	p.is_primary = primary;
	p.active = true;
	return p;
}

static void policies_bad(const struct patient_policy *p, size_t n, const char *field)
{
	struct err e;

	err_clear(&e);
	assert_int_equal(patients_policies_check(p, n, &e), ERR_INVALID);
	assert_string_equal(e.field, field);
}

static void test_policy_rules(void **state)
{
	struct patient_policy p[PATIENT_MAX_POLICIES + 1];
	struct err e;

	(void)state;
	err_clear(&e);
	p[0] = policy("ASESUISA", "P-1", true);
	p[1] = policy("MAPFRE", "P-2", false);
	p[1].relationship = "spouse";
	p[1].valid_from = "2025-01-01";
	p[1].valid_to = "2025-01-01";
	assert_int_equal(patients_policies_check(p, 2, &e), 0);
	assert_int_equal(patients_policies_check(p, 0, &e), 0);

	p[1].is_primary = true;
	policies_bad(p, 2, "insurancePolicies[1].isPrimary");
	p[1].is_primary = false;

	p[1].valid_to = "2024-12-31";
	policies_bad(p, 2, "insurancePolicies[1].validTo");
	p[1].valid_to = "2025-02-30";
	policies_bad(p, 2, "insurancePolicies[1].validTo");
	p[1].valid_to = NULL; /* open-ended */
	assert_int_equal(patients_policies_check(p, 2, &e), 0);

	p[1].relationship = "cousin";
	policies_bad(p, 2, "insurancePolicies[1].relationship");
	p[1].relationship = NULL;

	p[0].insurer_name = "  ";
	policies_bad(p, 2, "insurancePolicies[0].insurerName");
	p[0].insurer_name = "ASESUISA";
	p[1].policy_number = NULL;
	policies_bad(p, 2, "insurancePolicies[1].policyNumber");
	p[1].policy_number = "P-2";

	for (size_t i = 0; i <= PATIENT_MAX_POLICIES; i++)
		p[i] = policy("X", "N", false);
	assert_int_equal(patients_policies_check(p, PATIENT_MAX_POLICIES, &e), 0);
	policies_bad(p, PATIENT_MAX_POLICIES + 1, "insurancePolicies");
}

static void record(struct patient *p)
{
	memset(p, 0, sizeof(*p));
	p->first_name = "  Ana  ";
	p->last_name = "Pérez";
	p->document_type = "DUI";
	p->document_number = "02382723-5";
	p->phone = "+503 7777-8888";
	p->email = " ana@example.com ";
	p->has_address = true;
	p->address.country = "sv";
	p->address.departamento = "06";
	p->address.municipio = "23";
}

static void validate_bad(struct patient *p, const char *field)
{
	struct arena *a = arena_new(0);
	struct err e;

	err_clear(&e);
	if (patients_validate(a, p, "2025-06-15", &e) != ERR_INVALID)
		fail_msg("record accepted, wanted an error on %s", field);
	assert_string_equal(e.field, field);
	arena_free(a);
}

static void test_validate_record(void **state)
{
	struct arena *a = arena_new(0);
	struct patient p;
	struct err e;

	(void)state;
	err_clear(&e);
	record(&p);
	assert_int_equal(patients_validate(a, &p, "2025-06-15", &e), 0);
	assert_string_equal(p.first_name, "Ana");
	assert_string_equal(p.document_number, "023827235");
	assert_string_equal(p.phone, "+50377778888");
	assert_string_equal(p.email, "ana@example.com");
	assert_string_equal(p.address.country, "SV");
	arena_free(a);

	record(&p);
	p.first_name = " ";
	validate_bad(&p, "firstName");
	record(&p);
	p.last_name = NULL;
	validate_bad(&p, "lastName");
	record(&p);
	p.document_number = "02382723-4";
	validate_bad(&p, "documentNumber");
	record(&p);
	p.document_type = NULL;
	validate_bad(&p, "documentType");
	record(&p);
	p.document_number = NULL;
	validate_bad(&p, "documentNumber");
	record(&p);
	p.date_of_birth = "2030-01-01";
	validate_bad(&p, "dateOfBirth");
	record(&p);
	p.sex = "x";
	validate_bad(&p, "sex");
	record(&p);
	p.phone = "7777-8888";
	validate_bad(&p, "phone");
	record(&p);
	p.nrc = "123456789";
	validate_bad(&p, "nrc");
	record(&p);
	p.address.country = "XX";
	validate_bad(&p, "address.country");
	record(&p);
	p.address.municipio = "99";
	validate_bad(&p, "address.municipio");
	record(&p);
	p.address.departamento = NULL;
	validate_bad(&p, "address.departamento");
	record(&p);
	p.npolicies = 2;
	p.policies[0] = policy("A", "1", true);
	p.policies[1] = policy("B", "2", true);
	validate_bad(&p, "insurancePolicies[1].isPrimary");
	record(&p);
	p.first_name = "Ana\x01";
	validate_bad(&p, "firstName");
}

static void test_apply(void **state)
{
	struct patient base, out;
	struct patient_input in;

	(void)state;
	record(&base);
	base.notes = "n";
	memset(&in, 0, sizeof(in));
	in.present = (1u << PF_FIRST_NAME) | (1u << PF_NOTES) | (1u << PF_INSURANCE_POLICIES);
	in.v.first_name = "Beatriz";
	in.v.notes = NULL; /* present and null: cleared */
	in.v.last_name = "ignored, not present";
	in.v.npolicies = 1;
	in.v.policies[0] = policy("A", "1", true);
	patients_apply(&base, &in, &out);
	assert_string_equal(out.first_name, "Beatriz");
	assert_string_equal(out.last_name, "Pérez");
	assert_null(out.notes);
	assert_int_equal(out.npolicies, 1);
	assert_string_equal(out.policies[0].insurer_name, "A");
	assert_true(out.has_address);
	assert_string_equal(out.document_number, "02382723-5");
	assert_string_equal(patients_field_name(PF_DOCUMENT_NUMBER), "documentNumber");
	assert_string_equal(patients_field_name(PF_INSURANCE_POLICIES), "insurancePolicies");
}

static void test_audit_snapshot_masks(void **state)
{
	struct arena *a = arena_new(0);
	struct patient p;
	struct err e;
	json_t *snap;
	char *text;

	(void)state;
	err_clear(&e);
	record(&p);
	p.npolicies = 1;
	p.policies[0] = policy("ASESUISA", "POL-99887766", true);
	p.policies[0].member_number = "MEM-55443322";
	assert_int_equal(patients_validate(a, &p, "2025-06-15", &e), 0);
	snap = patients_audit_snapshot(&p);
	text = json_dumps(snap, JSON_COMPACT);
	assert_null(strstr(text, "023827235"));
	assert_null(strstr(text, "02382723"));
	assert_null(strstr(text, "77778888"));
	assert_null(strstr(text, "ana@"));
	assert_null(strstr(text, "99887766"));
	assert_null(strstr(text, "55443322"));
	assert_null(strstr(text, "Ana"));
	assert_non_null(strstr(text, "****7235"));
	assert_non_null(strstr(text, "****8888"));
	free(text);
	json_decref(snap);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_phone_normalize),
	    cmocka_unit_test(test_name_normalize),
	    cmocka_unit_test(test_like_escape),
	    cmocka_unit_test(test_email_and_mask),
	    cmocka_unit_test(test_dob),
	    cmocka_unit_test(test_country_and_mh_codes),
	    cmocka_unit_test(test_policy_rules),
	    cmocka_unit_test(test_validate_record),
	    cmocka_unit_test(test_apply),
	    cmocka_unit_test(test_audit_snapshot_masks),
	};
	return cmocka_run_group_tests_name("unit_patients", tests, NULL, NULL);
}
