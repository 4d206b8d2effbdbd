/*
 * test_tls.c - the server speaks HTTPS when CLINICLEDGER_TLS_CERT and
 * CLINICLEDGER_TLS_KEY are set: a self-signed certificate for 127.0.0.1 is
 * made with the openssl command line, trusted by the client, and a login
 * and an authenticated request go through over TLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char dir[] = "/tmp/clinicledger-tls-XXXXXX";

static int setup(void **state)
{
	char cmd[1024], cert_env[600], key_env[600];
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
		 "-addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
		 dir, dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cert_env, sizeof(cert_env), "CLINICLEDGER_TLS_CERT=%s/cert.pem", dir);
	snprintf(key_env, sizeof(key_env), "CLINICLEDGER_TLS_KEY=%s/key.pem", dir);
	const char *env[] = { cert_env, key_env, NULL };
	return api_server_start(env);
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;
	api_server_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_https(void **state)
{
	(void)state;
	assert_int_equal(strncmp(api_base_url(), "https://", 8), 0);
	struct api_resp *r = api_req("GET", "/health", NULL, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("GET", "/api/v1/auth/me", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.email"), API_ADMIN_EMAIL);
	api_resp_free(r);
	/* plain HTTP to the TLS port gets no answer */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "curl -s -m 5 -o /dev/null -w '%%{http_code}' http%s/health | grep -qx 200",
		 api_base_url() + 5);
	assert_int_not_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_https),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
