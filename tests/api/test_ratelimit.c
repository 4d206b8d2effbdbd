/*
 * test_ratelimit.c - per-caller rate limiting: 429 with Retry-After once a
 * caller's bucket is empty, other callers unaffected, health never limited.
 * The server runs with 60 requests/minute and a burst of 5.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int setup(void **state)
{
	static const char *const env[] = { "CLINICLEDGER_RATE_LIMIT=60", "CLINICLEDGER_RATE_BURST=5", NULL };
	(void)state;
	return api_server_start(env);
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop();
	return 0;
}

static void test_limit_per_caller(void **state)
{
	(void)state;
	/* logging in spends the IP's tokens, not the user's */
	char *doctor = api_user_token("demo", "doctor", NULL);
	const char *admin = api_admin_token();
	int ok = 0, limited = 0;
	struct api_resp *r;

	for (int i = 0; i < 8; i++) {
		r = api_req("GET", "/api/services", admin, NULL, NULL);
		if (r->status == 200) {
			ok++;
		} else {
			assert_status(r, 429);
			assert_string_equal(api_str(r, "error.code"), "RATE_LIMIT_EXCEEDED");
			assert_true(atoi(r->retry_after) >= 1);
			limited++;
		}
		api_resp_free(r);
	}
	assert_true(ok >= 5 && ok <= 6); /* the burst, plus at most one refill during the loop */
	assert_true(limited >= 2);

	/* another user has a bucket of their own */
	r = api_req("GET", "/api/services", doctor, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);

	/* health and metrics are never limited */
	for (int i = 0; i < 20; i++) {
		r = api_req("GET", "/health", NULL, NULL, NULL);
		assert_status(r, 200);
		api_resp_free(r);
	}
	free(doctor);
}

static void test_failed_credentials_count_against_the_ip(void **state)
{
	(void)state;
	int limited = 0;
	for (int i = 0; i < 12; i++) {
		struct api_resp *r = api_req("GET", "/api/services", "garbage-token", NULL, NULL);
		assert_true(r->status == 401 || r->status == 429);
		limited += r->status == 429;
		api_resp_free(r);
	}
	assert_true(limited > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_per_caller),
		cmocka_unit_test(test_failed_credentials_count_against_the_ip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
