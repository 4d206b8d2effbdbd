/*
 * test_dte_crash.c - DTE submissions survive the server being killed.
 *
 * Orders are paid while the MH sandbox is slow and fails a share of its
 * requests (latency, 5xx), and the server is killed with SIGKILL several
 * times in the middle of the submissions and started again on the same
 * database. When MH behaves again, every paid order must end with exactly
 * one accepted DTE, and MH must hold exactly one sealed document per
 * codigoGeneracion and one per order: nothing lost, nothing sent twice under
 * two codes, whatever was in flight when the process died.
 *
 * A killed worker's job keeps its lease (job_types.c: 60 s for dte.submit)
 * until it expires; to stay within the test budget the test ends those
 * leases right after each restart (UPDATE jobs ... locked_until), which is
 * exactly what the passage of time does: the recovery path is the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NIT "06140507071048"
#define PWD "Api-Password-2025!"
#define ORDERS 12
#define KILLS 4
#define SETTLE_S 45

static struct {
	pid_t pid;
	int port;
	char dir[128];
	char key[200];
	char svc[40];
	char patient[40];
	char orders[ORDERS][40];
} T;

static const char *sandbox_bin(void)
{
	static char path[600];
	const char *bin = getenv("CLINICLEDGER_TEST_SANDBOX_BIN"), *server = getenv("CLINICLEDGER_TEST_BIN");

	if (bin && *bin)
		return bin;
	if (server && strrchr(server, '/')) {
		snprintf(path, sizeof(path), "%.*s/clinicledger-mh-sandbox", (int)(strrchr(server, '/') - server),
			 server);
		return path;
	}
	return "build/clinicledger-mh-sandbox";
}

static int make_keys(void)
{
	char certs[200], pub[260];
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	FILE *f;
	int ok;

	if (!pk)
		return -1;
	snprintf(T.key, sizeof(T.key), "%s/emisor-key.pem", T.dir);
	snprintf(certs, sizeof(certs), "%s/certs", T.dir);
	snprintf(pub, sizeof(pub), "%s/%s.pem", certs, NIT);
	mkdir(certs, 0700);
	f = fopen(T.key, "w");
	ok = f && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	if (f)
		fclose(f);
	f = fopen(pub, "w");
	ok = ok && f && PEM_write_PUBKEY(f, pk);
	if (f)
		fclose(f);
	EVP_PKEY_free(pk);
	return ok ? 0 : -1;
}

static int sandbox_start(void)
{
	char port_file[200], log[200], certs[200], user[80];
	const char *argv[12];
	int n = 0;

	snprintf(port_file, sizeof(port_file), "%s/port", T.dir);
	snprintf(log, sizeof(log), "%s/sandbox.log", T.dir);
	snprintf(certs, sizeof(certs), "%s/certs", T.dir);
	snprintf(user, sizeof(user), "%s:%s", NIT, PWD);
	argv[n++] = sandbox_bin();
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	argv[n++] = "--certs";
	argv[n++] = certs;
	argv[n++] = "--user";
	argv[n++] = user;
	argv[n] = NULL;
	T.pid = fork();
	if (T.pid < 0)
		return -1;
	if (T.pid == 0) {
		FILE *f = freopen(log, "a", stdout);
		(void)f;
		dup2(STDOUT_FILENO, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		FILE *f = fopen(port_file, "r");
		int st;
		if (f) {
			int ok = fscanf(f, "%d", &T.port);
			fclose(f);
			if (ok == 1 && T.port > 0)
				return 0;
		}
		if (waitpid(T.pid, &st, WNOHANG) == T.pid) {
			T.pid = 0;
			return -1;
		}
		usleep(100 * 1000);
	}
	return -1;
}

static void sandbox_stop(void)
{
	int st;

	if (T.pid <= 0)
		return;
	kill(T.pid, SIGTERM);
	for (int i = 0; i < 100 && waitpid(T.pid, &st, WNOHANG) != T.pid; i++)
		usleep(50 * 1000);
	kill(T.pid, SIGKILL);
	waitpid(T.pid, &st, 0);
	T.pid = 0;
}

struct buf {
	char *p;
	size_t n;
};

static size_t buf_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t len = size * nmemb;

	b->p = realloc(b->p, b->n + len + 1);
	memcpy(b->p + b->n, ptr, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

static json_t *sbx(const char *method, const char *path, const char *body)
{
	CURL *c = curl_easy_init();
	struct buf b = {NULL, 0};
	char url[300];
	json_t *j = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", T.port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(c) == CURLE_OK && b.p)
		j = json_loads(b.p, 0, NULL);
	curl_easy_cleanup(c);
	free(b.p);
	return j;
}

static void id_from(struct api_resp *r, char *out)
{
	const char *id = api_str(r, "data.id");

	assert_non_null(id);
	snprintf(out, 40, "%s", id);
}

static int group_setup(void **state)
{
	char env_endpoint[80], env_key[260];
	const char *env[8];
	struct api_resp *r;

	(void)state;
	snprintf(T.dir, sizeof(T.dir), "/tmp/test_dte_crash_XXXXXX");
	if (!mkdtemp(T.dir) || make_keys() || sandbox_start())
		return -1;
	snprintf(env_endpoint, sizeof(env_endpoint), "DTE_MH_ENDPOINT=http://127.0.0.1:%d", T.port);
	snprintf(env_key, sizeof(env_key), "DTE_PRIVATE_KEY=%s", T.key);
	env[0] = env_endpoint;
	env[1] = env_key;
	env[2] = "DTE_MH_PASSWORD=" PWD;
	env[3] = "DTE_MH_TIMEOUT_MS=1500";
	env[4] = "CLINICLEDGER_JOB_WORKERS=3";
	env[5] = NULL;
	if (api_server_start(env))
		return -1;
	r = api_req("PUT", "/api/v1/tenant", api_admin_token(),
		    "{\"settings\":{\"emisor\":{\"nit\":\"" NIT "\",\"nrc\":\"1234567\",\"nombre\":\"Clínica Demo S.A. de "
		    "C.V.\",\"codActividad\":\"86201\",\"descActividad\":\"Clínicas médicas\",\"tipoEstablecimiento\":"
		    "\"02\",\"direccion\":{\"departamento\":\"06\",\"municipio\":\"14\",\"complemento\":\"Colonia Escalón\"},"
		    "\"telefono\":\"22223333\",\"correo\":\"facturas@demo.clinic\"}}}",
		    NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("POST", "/api/services", api_admin_token(),
		    "{\"code\":\"CONS-01\",\"name\":\"Consulta general\",\"category\":\"consultas\",\"price\":\"35.00\","
		    "\"taxTreatment\":\"taxable\"}",
		    NULL);
	assert_status(r, 201);
	id_from(r, T.svc);
	api_resp_free(r);
	r = api_req("POST", "/api/patients", api_admin_token(),
		    "{\"firstName\":\"Ana\",\"lastName\":\"López\",\"documentType\":\"DUI\",\"documentNumber\":"
		    "\"02382723-5\"}",
		    NULL);
	assert_status(r, 201);
	id_from(r, T.patient);
	api_resp_free(r);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[200];

	(void)state;
	api_server_stop();
	sandbox_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", T.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Create and pay order i (retrying while the server restarts). */
static void pay_order(int i)
{
	char body[300];
	struct api_resp *r = NULL;

	for (int tries = 0; tries < 50; tries++) {
		api_resp_free(r);
		snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"%d\"}]}",
			 T.patient, T.svc, 1 + i % 3);
		r = api_req("POST", "/api/orders", api_admin_token(), body, NULL);
		if (r->status == 201)
			break;
		usleep(100 * 1000);
	}
	assert_status(r, 201);
	id_from(r, T.orders[i]);
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"%s\"}", T.orders[i],
		 api_str(r, "data.total"));
	api_resp_free(r);
	r = api_req("POST", "/api/payments", api_admin_token(), body, NULL);
	assert_status(r, 201);
	api_resp_free(r);
}

/* SIGKILL, start again, and end the dead workers' leases (see the header). */
static void kill_and_restart(void)
{
	assert_int_equal(api_server_restart_hard(), 0);
	api_sql_ok("UPDATE jobs SET locked_until = '2000-01-01T00:00:00Z' WHERE state = 'running'");
}

static const char *dte_status(int i, struct api_resp **keep)
{
	struct api_resp *r;
	char path[120];

	snprintf(path, sizeof(path), "/api/dte/%s", T.orders[i]);
	r = api_req("GET", path, api_admin_token(), NULL, NULL);
	*keep = r;
	return r->status == 200 ? api_str(r, "data.status") : NULL;
}

static void test_kill_during_submissions(void **state)
{
	json_t *f, *docs, *d;
	int paid = 0, accepted = 0;
	time_t until;
	size_t i;
	char sql[200];

	(void)state;
	/* MH slow and unreliable: latency on every call, 35 % of calls fail with 5xx,
	 * and the first 3 calls are processed but answered after the client gave up */
	f = sbx("PUT", "/_sandbox/faults",
		"{\"latencyMs\":250,\"errorRatePct\":35,\"seed\":7,\"failStatus\":503,\"hangNext\":3,"
		"\"hangSeconds\":2,\"hangMode\":\"answer\",\"path\":\"/fesv/\"}");
	assert_non_null(f);
	json_decref(f);

	for (int k = 0; k < KILLS; k++) {
		int batch = ORDERS / KILLS;
		for (int j = 0; j < batch; j++)
			pay_order(paid++);
		/* let some submissions get under way, then pull the plug */
		usleep((useconds_t)(400 + 250 * k) * 1000);
		kill_and_restart();
	}
	while (paid < ORDERS)
		pay_order(paid++);

	/* MH behaves again: everything must settle */
	f = sbx("DELETE", "/_sandbox/faults", NULL);
	json_decref(f);
	until = time(NULL) + SETTLE_S;
	for (;;) {
		accepted = 0;
		for (int k = 0; k < ORDERS; k++) {
			struct api_resp *r = NULL;
			const char *st = dte_status(k, &r);
			if (st && strcmp(st, "accepted") == 0)
				accepted++;
			else if (st && (strcmp(st, "rejected") == 0 || strcmp(st, "error") == 0))
				fail_msg("order %d: DTE %s: %.600s", k, st, r->body);
			api_resp_free(r);
		}
		if (accepted == ORDERS || time(NULL) > until)
			break;
		sleep(1);
	}
	if (accepted != ORDERS) {
		char *jobs = api_sql_text("SELECT kind, state, attempts, last_error FROM jobs WHERE kind LIKE 'dte.%'");
		char *rows = api_sql_text("SELECT status, attempts, send_failures, last_error FROM dtes");
		fail_msg("%d of %d orders accepted after %d s\njobs:\n%s\ndtes:\n%s", accepted, ORDERS, SETTLE_S, jobs,
			 rows);
	}

	/* ours: exactly one DTE per order, accepted, distinct codes and numbers */
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM dtes"), ORDERS);
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM dtes WHERE status = 'accepted'"), ORDERS);
	assert_int_equal(api_sql_int("SELECT COUNT(DISTINCT document_id) FROM dtes WHERE status = 'accepted'"), ORDERS);
	assert_int_equal(api_sql_int("SELECT COUNT(DISTINCT numero_control) FROM dtes"), ORDERS);
	for (int k = 0; k < ORDERS; k++) {
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM dtes WHERE document_id = '%s' AND status = 'accepted'",
			 T.orders[k]);
		assert_int_equal(api_sql_int(sql), 1);
	}

	/* MH's: one sealed document per codigoGeneracion, each one of ours, one per order */
	docs = sbx("GET", "/_sandbox/documents?estado=PROCESADO", NULL);
	assert_non_null(docs);
	assert_int_equal(json_array_size(json_object_get(docs, "documents")), ORDERS);
	json_array_foreach(json_object_get(docs, "documents"), i, d)
	{
		const char *codigo = json_string_value(json_object_get(d, "codigoGeneracion"));
		assert_non_null(json_string_value(json_object_get(d, "selloRecibido")));
		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM dtes WHERE codigo_generacion = '%s' AND status = 'accepted' AND sello = '%s'",
			 codigo, json_string_value(json_object_get(d, "selloRecibido")));
		assert_int_equal(api_sql_int(sql), 1);
		print_message("dte %s attempts=%lld tipoOperacion=%lld\n", codigo,
			      (long long)json_integer_value(json_object_get(d, "attempts")),
			      (long long)json_integer_value(json_object_get(d, "tipoOperacion")));
	}
	json_decref(docs);
	docs = sbx("GET", "/_sandbox/documents", NULL);
	assert_int_equal(json_integer_value(json_object_get(docs, "count")), ORDERS); /* no stray codes */
	json_decref(docs);

	/* the chaos happened: 5xx, late answers, consultations before resending, restarts mid-job */
	f = sbx("GET", "/_sandbox/stats", NULL);
	{
		char *text = json_dumps(f, JSON_COMPACT);
		print_message("sandbox stats: %s\n", text);
		free(text);
	}
	assert_true(json_integer_value(json_object_get(f, "faults5xx")) > 0);
	assert_true(json_integer_value(json_object_get(f, "faultsHung")) > 0);
	assert_true(json_integer_value(json_object_get(f, "consultas")) > 0);
	json_decref(f);
	print_message("submission jobs run more than once: %lld\n",
		      api_sql_int("SELECT COUNT(*) FROM jobs WHERE kind = 'dte.submit' AND attempts > 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_during_submissions),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
