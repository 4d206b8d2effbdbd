/*
 * test_perm.c - unit tests of src/mod/auth/perm.c.
 *
 * The billing and claims columns of the role table must be exactly the
 * "Role-Based Defaults" of billing-service-api.md:
 *   admin, medical_director  all permissions
 *   billing_staff            billing:*, claims:*
 *   accountant, doctor       billing:read, claims:read
 *   receptionist             billing:create, billing:read
 * Then perm_parse: exact names, "area:*", "*", and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "mod/auth/perm.h"

#define B(p)	       PERM_BIT(PERM_##p)
#define BILLING_ALL    (B(BILLING_CREATE) | B(BILLING_READ) | B(BILLING_UPDATE) | B(BILLING_DELETE))
#define CLAIMS_ALL     (B(CLAIMS_CREATE) | B(CLAIMS_READ) | B(CLAIMS_SUBMIT) | B(CLAIMS_PROCESS) | B(CLAIMS_APPEAL))
#define BILLING_CLAIMS (BILLING_ALL | CLAIMS_ALL)

static perm_set role(const char *name)
{
	int known = 0;
	perm_set s = perm_role_defaults(name, &known);

	if (!known)
		fail_msg("role %s unknown", name);
	return s;
}

static void test_billing_claims_defaults_match_spec(void **state)
{
	static const struct {
		const char *role;
		perm_set billing_claims;
	} spec[] = {
	    {"admin", BILLING_CLAIMS},
	    {"medical_director", BILLING_CLAIMS},
	    {"billing_staff", BILLING_CLAIMS},
	    {"accountant", B(BILLING_READ) | B(CLAIMS_READ)},
	    {"doctor", B(BILLING_READ) | B(CLAIMS_READ)},
	    {"receptionist", B(BILLING_CREATE) | B(BILLING_READ)},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		perm_set got = role(spec[i].role) & BILLING_CLAIMS;
		if (got != spec[i].billing_claims)
			fail_msg("role %s: billing/claims permissions %#llx, spec says %#llx", spec[i].role,
				 (unsigned long long)got, (unsigned long long)spec[i].billing_claims);
	}
}

static void test_admin_and_director_have_everything(void **state)
{
	(void)state;
	assert_true(role("admin") == PERM_ALL);
	assert_true(role("medical_director") == PERM_ALL);
	for (int p = 0; p < PERM__COUNT; p++)
		assert_true(perm_has(role("admin"), (enum perm)p));
}

static void test_other_roles_are_not_admins(void **state)
{
	static const char *const roles[] = {"billing_staff", "accountant", "doctor", "receptionist", "pharmacist"};

	(void)state;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		perm_set s = role(roles[i]);
		assert_false(perm_has(s, PERM_ADMIN_USERS));
		assert_false(perm_has(s, PERM_ADMIN_APIKEYS));
		assert_false(perm_has(s, PERM_ADMIN_TENANT));
		assert_false(perm_has(s, PERM_ADMIN_JOBS));
	}
	/* pharmacist is ours, not the spec's: no billing or claims at all */
	assert_true((role("pharmacist") & BILLING_CLAIMS) == 0);
}

static void test_role_names_table(void **state)
{
	size_t n = 0;
	int known = 1;

	(void)state;
	for (; perm_role_names[n]; n++) {
		int k = 0;
		(void)perm_role_defaults(perm_role_names[n], &k);
		assert_int_equal(k, 1);
	}
	assert_int_equal(n, 7);
	assert_int_equal(perm_role_defaults("superuser", &known), 0);
	assert_int_equal(known, 0);
	assert_int_equal(perm_role_defaults("Admin", &known), 0); /* case-sensitive */
	assert_int_equal(known, 0);
}

static void test_perm_names_round_trip(void **state)
{
	(void)state;
	assert_string_equal(perm_name(PERM_BILLING_CREATE), "billing:create");
	assert_string_equal(perm_name(PERM_CLAIMS_APPEAL), "claims:appeal");
	assert_string_equal(perm_name(PERM_ADMIN_TENANT), "admin:tenant");
	assert_null(perm_name(PERM_NONE));
	assert_null(perm_name(PERM__COUNT));
	for (int p = 0; p < PERM__COUNT; p++) {
		perm_set s = 0;
		const char *name = perm_name((enum perm)p);
		assert_non_null(name);
		assert_int_equal(perm_parse(name, &s), 0);
		assert_true(s == PERM_BIT(p));
	}
}

static void test_perm_parse_patterns(void **state)
{
	perm_set s = 0;

	(void)state;
	assert_int_equal(perm_parse("billing:*", &s), 0);
	assert_true(s == BILLING_ALL);
	s = 0;
	assert_int_equal(perm_parse("claims:*", &s), 0);
	assert_true(s == CLAIMS_ALL);
	/* accumulates */
	assert_int_equal(perm_parse("billing:*", &s), 0);
	assert_true(s == BILLING_CLAIMS);
	s = 0;
	assert_int_equal(perm_parse("admin:*", &s), 0);
	assert_true(s == (B(ADMIN_USERS) | B(ADMIN_APIKEYS) | B(ADMIN_JOBS) | B(ADMIN_TENANT)));
	s = 0;
	assert_int_equal(perm_parse("*", &s), 0);
	assert_true(s == PERM_ALL);
	/* "bill:*" must not match "billing:..." (prefix includes the colon) */
	s = 0;
	assert_int_equal(perm_parse("bill:*", &s), ERR_INVALID);
	assert_true(s == 0);
}

static void test_perm_parse_refusals(void **state)
{
	static const char *const bad[] = {"",	"billing",   "billing:",      "billing:write", "BILLING:READ",
					  ":*", "nothing:*", " billing:read", "billing:read ", "billing:**"};
	perm_set s = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (perm_parse(bad[i], &s) != ERR_INVALID)
			fail_msg("perm_parse accepted \"%s\"", bad[i]);
	}
	assert_true(s == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_billing_claims_defaults_match_spec),
	    cmocka_unit_test(test_admin_and_director_have_everything),
	    cmocka_unit_test(test_other_roles_are_not_admins),
	    cmocka_unit_test(test_role_names_table),
	    cmocka_unit_test(test_perm_names_round_trip),
	    cmocka_unit_test(test_perm_parse_patterns),
	    cmocka_unit_test(test_perm_parse_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
