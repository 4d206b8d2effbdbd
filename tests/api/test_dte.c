/*
 * test_dte.c - the DTE flow over HTTP (the /api/dte routes, /api/reports/dte-status)
 * against the real MH sandbox (build dir's clinicledger-mh-sandbox, started
 * here with a freshly generated emisor key pair registered by --certs):
 *
 *   a paid order becomes an accepted DTE with no manual step; 01 vs 03 (the
 *   receptor's NRC, the order's taxDocument, tipoDte on submit); a rejection
 *   (sandbox rejectNext) that is not retried blindly, then POST /retry with
 *   new codes; a burst of 5xx answered by MH's retry policy; MH down ->
 *   contingency -> evento de contingencia -> accepted; invalidation (with and
 *   without a replacement); credit and debit notes; JSON / XML / PDF
 *   downloads; the dte-status report; autoSubmit off + manual submit;
 *   validation errors (nothing written); 401, 403 and 404 across tenants; the
 *   audit trail.
 *
 * The sandbox binary: CLINICLEDGER_TEST_SANDBOX_BIN, else the directory of
 * CLINICLEDGER_TEST_BIN, else build/.
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
#define WAIT_S 30

static struct {
	pid_t pid;
	int port;
	char dir[128];
	char key[200];
	char svc_taxable[40];
	char svc_exempt[40];
	char p_dui[40];	 /* DUI: Factura */
	char p_nrc[40];	 /* NIT + NRC with a fiscal receptor: Crédito Fiscal */
	char p_none[40]; /* no fiscal data: anonymous consumer */
} T;

/* ---- the sandbox ---- */

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

/* An RSA-2048 emisor key: private PEM for the server, public PEM for MH. */
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
	chmod(T.key, 0600);
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
			print_error("sandbox %s exited early, log %s\n", argv[0], log);
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

/* A request to the sandbox's control endpoints; the parsed JSON answer (owned) or NULL. */
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

static void faults(const char *json)
{
	json_t *j = sbx(json ? "PUT" : "DELETE", "/_sandbox/faults", json);

	assert_non_null(j);
	json_decref(j);
}

/* The sandbox's record of a codigoGeneracion (owned), or NULL. */
static json_t *sbx_document(const char *codigo)
{
	char path[120];

	snprintf(path, sizeof(path), "/_sandbox/documents/%s", codigo);
	return sbx("GET", path, NULL);
}

/* ---- API helpers ---- */

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
	static char buf[4][512];
	static int k;
	va_list ap;
	char *p = buf[k++ % 4];

	va_start(ap, fmt);
	vsnprintf(p, 512, fmt, ap);
	va_end(ap);
	return p;
}

static const char *admin(void)
{
	return api_admin_token();
}

static void id_from(struct api_resp *r, char *out)
{
	const char *id = api_str(r, "data.id");

	assert_non_null(id);
	snprintf(out, 40, "%s", id);
}

static void create_patient(const char *body, char *out)
{
	struct api_resp *r = api_req("POST", "/api/patients", admin(), body, NULL);

	assert_status(r, 201);
	id_from(r, out);
	api_resp_free(r);
}

/* An order of qty units of svc for patient (taxDocument optional JSON), paid
 * in full with method when pay is true. The order id into out. */
static void order_for(const char *patient, const char *svc, const char *qty, const char *tax_doc, bool pay,
		      const char *method, char *out)
{
	char body[600];
	struct api_resp *r;

	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\",\"quantity\":\"%s\"}]%s%s}",
		 patient, svc, qty, tax_doc ? ",\"taxDocument\":" : "", tax_doc ? tax_doc : "");
	r = api_req("POST", "/api/orders", admin(), body, NULL);
	assert_status(r, 201);
	id_from(r, out);
	if (pay) {
		char amount[32];
		snprintf(amount, sizeof(amount), "%s", api_str(r, "data.total"));
		api_resp_free(r);
		snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"method\":\"%s\",\"amount\":\"%s\"}", out,
			 method ? method : "cash", amount);
		r = api_req("POST", "/api/payments", admin(), body, NULL);
		assert_status(r, 201);
	}
	api_resp_free(r);
}

/* Poll GET /api/dte/:orderId until its status is `want`; the last answer (owned). */
static struct api_resp *wait_status(const char *order, const char *want)
{
	struct api_resp *r = NULL;
	time_t until = time(NULL) + WAIT_S;

	for (;;) {
		api_resp_free(r);
		r = api_req("GET", pathf("/api/dte/%s", order), admin(), NULL, NULL);
		if (r->status == 200 && api_str(r, "data.status") && strcmp(api_str(r, "data.status"), want) == 0)
			return r;
		if (time(NULL) > until)
			fail_msg("DTE of order %s never became %s: %.800s", order, want, r->body);
		usleep(100 * 1000);
	}
}

static long long count_dtes(void)
{
	return api_sql_int("SELECT COUNT(*) FROM dtes");
}

/* ---- setup ---- */

static int group_setup(void **state)
{
	char env_endpoint[80], env_key[260];
	const char *env[8];
	struct api_resp *r;
	char body[2048];

	(void)state;
	snprintf(T.dir, sizeof(T.dir), "/tmp/test_dte_XXXXXX");
	if (!mkdtemp(T.dir) || make_keys() || sandbox_start())
		return -1;
	snprintf(env_endpoint, sizeof(env_endpoint), "DTE_MH_ENDPOINT=http://127.0.0.1:%d", T.port);
	snprintf(env_key, sizeof(env_key), "DTE_PRIVATE_KEY=%s", T.key);
	env[0] = env_endpoint;
	env[1] = env_key;
	env[2] = "DTE_MH_PASSWORD=" PWD;
	env[3] = "DTE_NIT_EMISOR=" NIT;
	env[4] = "DTE_MH_TIMEOUT_MS=3000";
	env[5] = NULL;
	if (api_server_start(env))
		return -1;

	/* the demo tenant is the emisor */
	r = api_req("PUT", "/api/v1/tenant", admin(),
		    "{\"settings\":{\"emisor\":{\"nit\":\"" NIT "\",\"nrc\":\"1234567\",\"nombre\":\"Clínica Demo S.A. de "
		    "C.V.\",\"nombreComercial\":\"Clínica Demo\",\"codActividad\":\"86201\",\"descActividad\":\"Clínicas "
		    "médicas\",\"tipoEstablecimiento\":\"02\",\"codEstable\":\"0001\",\"codPuntoVenta\":\"0001\","
		    "\"direccion\":{\"departamento\":\"06\",\"municipio\":\"14\",\"complemento\":\"Colonia Escalón, San "
		    "Salvador\"},\"telefono\":\"22223333\",\"correo\":\"facturas@demo.clinic\"},\"dte\":{\"autoSubmit\":"
		    "true,\"responsable\":{\"nombre\":\"María Hernández\",\"tipoDocumento\":\"13\",\"numDocumento\":"
		    "\"02382723-5\"}}}}",
		    NULL);
	if (r->status != 200) {
		print_error("tenant settings: %s\n", r->body);
		api_resp_free(r);
		return -1;
	}
	api_resp_free(r);

	r = api_req("POST", "/api/services", admin(),
		    "{\"code\":\"CONS-01\",\"name\":\"Consulta general\",\"category\":\"consultas\",\"price\":\"35.00\","
		    "\"taxTreatment\":\"taxable\",\"itemType\":\"service\"}",
		    NULL);
	assert_status(r, 201);
	id_from(r, T.svc_taxable);
	api_resp_free(r);
	r = api_req("POST", "/api/services", admin(),
		    "{\"code\":\"VAC-01\",\"name\":\"Vacuna\",\"category\":\"vacunas\",\"price\":\"20.00\","
		    "\"taxTreatment\":\"exempt\",\"itemType\":\"service\"}",
		    NULL);
	assert_status(r, 201);
	id_from(r, T.svc_exempt);
	api_resp_free(r);

	create_patient("{\"firstName\":\"Ana\",\"lastName\":\"López\",\"documentType\":\"DUI\",\"documentNumber\":"
		       "\"02382723-5\",\"email\":\"ana@example.com\"}",
		       T.p_dui);
	create_patient("{\"firstName\":\"Carlos\",\"lastName\":\"Mejía\",\"documentType\":\"NIT\",\"documentNumber\":"
		       "\"0614-180948-001-4\",\"nrc\":\"2587416\",\"fiscalName\":\"Laboratorios Unidos S.A.\","
		       "\"email\":\"compras@lab.example\"}",
		       T.p_nrc);
	create_patient("{\"firstName\":\"Juan\",\"lastName\":\"Pérez\"}", T.p_none);
	/* the Crédito Fiscal receptor of the NRC patient (activity, address, e-mail) */
	snprintf(body, sizeof(body),
		 "{\"tipoDocumento\":\"36\",\"numDocumento\":\"0614-180948-001-4\",\"nrc\":\"2587416\",\"nombre\":"
		 "\"Laboratorios Unidos S.A.\",\"codActividad\":\"46900\",\"descActividad\":\"Venta al por mayor de "
		 "otros productos\",\"direccion\":{\"departamento\":\"06\",\"municipio\":\"23\",\"complemento\":\"Calle "
		 "El Mirador 123\"},\"telefono\":\"22334455\",\"correo\":\"compras@lab.example\",\"patientId\":\"%s\"}",
		 T.p_nrc);
	r = api_req("POST", "/api/receptores", admin(), body, NULL);
	if (r->status != 201 && r->status != 200) {
		print_error("receptor: %s\n", r->body);
		api_resp_free(r);
		return -1;
	}
	api_resp_free(r);
	/* MH's v1 schemas (fe-ccf-v3, fe-nc-v3, fe-nd-v3) only know the municipio
	 * codes from before the 2024 reform (README §3.8) and the sandbox applies
	 * them, while the receptor API takes only the new CAT-013 codes: give this
	 * receptor the legacy code of San Salvador (06/14), as records entered
	 * before the reform have. docs/dte-flow.md "Known gaps". */
	api_sql_ok("UPDATE fiscal_receptores SET direccion_json = replace(direccion_json, '\"23\"', '\"14\"')");
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[200], log[200], line[1024];
	FILE *f;
	int bad = 0;

	(void)state;
	api_server_stop();
	sandbox_stop();
	snprintf(log, sizeof(log), "%s/sandbox.log", T.dir);
	if ((f = fopen(log, "r")) != NULL) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "Sanitizer") || strstr(line, "runtime error:"))
				bad = 1;
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", T.dir);
	if (!bad && system(cmd) != 0)
		return -1;
	return bad ? -1 : 0;
}

static int case_setup(void **state)
{
	(void)state;
	faults(NULL);
	return 0;
}

/* ---- the tests ---- */

static void expect_codigo_shape(const char *codigo)
{
	assert_non_null(codigo);
	assert_int_equal(strlen(codigo), 36);
	for (const char *p = codigo; *p; p++)
		assert_true((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F') || *p == '-');
}

/* Payment -> accepted DTE, no manual step. */
static void test_paid_order_becomes_accepted(void **state)
{
	char order[40], nc_prefix[32];
	struct api_resp *r, *a;
	json_t *doc;
	const char *codigo;

	(void)state;
	order_for(T.p_dui, T.svc_taxable, "1", NULL, true, "cash", order);
	r = wait_status(order, "accepted");
	codigo = api_str(r, "data.codigoGeneracion");
	expect_codigo_shape(codigo);
	assert_string_equal(api_str(r, "data.tipoDte"), "01");
	snprintf(nc_prefix, sizeof(nc_prefix), "DTE-01-00010001-");
	assert_true(strncmp(api_str(r, "data.numeroControl"), nc_prefix, strlen(nc_prefix)) == 0);
	assert_int_equal(strlen(api_str(r, "data.numeroControl")), 31);
	assert_int_equal(strlen(api_str(r, "data.sello")), 40);
	assert_non_null(api_str(r, "data.fhProcesamiento"));
	assert_int_equal(api_int(r, "data.attempts"), 1);
	assert_int_equal(api_int(r, "data.tipoOperacion"), 1);
	assert_string_equal(api_str(r, "data.total"), "35.00");
	assert_string_equal(api_str(r, "data.iva"), "4.03");
	assert_true(json_is_true(api_path(r, "data.automatic")));
	assert_string_equal(api_str(r, "data.history.0.to"), "queued");
	assert_string_equal(api_str(r, "data.history.1.to"), "pending");
	assert_string_equal(api_str(r, "data.history.2.to"), "accepted");
	/* MH has it sealed, received once */
	doc = sbx_document(codigo);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "estado")), "PROCESADO");
	assert_string_equal(json_string_value(json_object_get(doc, "selloRecibido")), api_str(r, "data.sello"));
	assert_int_equal(json_integer_value(json_object_get(doc, "attempts")), 1);
	json_decref(doc);
	/* the audit trail of the DTE */
	a = api_req("GET", pathf("/api/audit-logs?entity=dte&entityId=%s", api_str(r, "data.id")), admin(), NULL, NULL);
	assert_status(a, 200);
	assert_non_null(strstr(a->body, "dte.queue"));
	assert_non_null(strstr(a->body, "dte.issue"));
	assert_non_null(strstr(a->body, "dte.accept"));
	api_resp_free(a);
	api_resp_free(r);
}

/* 03 when the receptor has an NRC; the order's taxDocument and the submit's tipoDte override. */
static void test_type_choice(void **state)
{
	char order[40], order2[40], order3[40];
	struct api_resp *r;
	json_t *doc, *payload;

	(void)state;
	order_for(T.p_nrc, T.svc_taxable, "2", NULL, true, "bank_transfer", order);
	r = wait_status(order, "accepted");
	assert_string_equal(api_str(r, "data.tipoDte"), "03");
	assert_true(strncmp(api_str(r, "data.numeroControl"), "DTE-03-00010001-", 16) == 0);
	assert_string_equal(api_str(r, "data.total"), "70.00");
	doc = sbx_document(api_str(r, "data.codigoGeneracion"));
	payload = json_object_get(doc, "payload");
	assert_string_equal(json_string_value(json_object_get(json_object_get(payload, "receptor"), "nrc")), "2587416");
	assert_string_equal(json_string_value(json_object_get(json_object_get(payload, "receptor"), "codActividad")),
			    "46900");
	json_decref(doc);
	api_resp_free(r);

	/* the order asks for a Factura */
	order_for(T.p_nrc, T.svc_taxable, "1", "{\"required\":true,\"type\":\"01\"}", true, "cash", order2);
	r = wait_status(order2, "accepted");
	assert_string_equal(api_str(r, "data.tipoDte"), "01");
	api_resp_free(r);

	/* an unpaid order submitted by hand as a Factura: a sale on credit */
	order_for(T.p_nrc, T.svc_exempt, "1", NULL, false, NULL, order3);
	r = api_req("POST", "/api/dte/submit", admin(),
		    pathf("{\"orderId\":\"%s\",\"tipoDte\":\"01\"}", order3), NULL);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.tipoDte"), "01");
	assert_string_equal(api_str(r, "data.status"), "pending");
	assert_false(json_is_true(api_path(r, "data.automatic")));
	api_resp_free(r);
	r = wait_status(order3, "accepted");
	doc = sbx_document(api_str(r, "data.codigoGeneracion"));
	payload = json_object_get(doc, "payload");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(payload, "resumen"), "condicionOperacion")),
			 2);
	json_decref(doc);
	api_resp_free(r);
}

/* RECHAZADO: stored with MH's reasons, never retried blindly; retry issues new codes. */
static void test_rejection_and_retry(void **state)
{
	char order[40], old_codigo[40], old_nc[40];
	struct api_resp *r, *r2;
	json_t *doc;

	(void)state;
	faults("{\"rejectNext\":1,\"rejectCode\":\"020\"}");
	order_for(T.p_dui, T.svc_taxable, "1", NULL, true, "cash", order);
	r = wait_status(order, "rejected");
	assert_string_equal(api_str(r, "data.codigoMsg"), "020");
	assert_non_null(api_str(r, "data.descripcionMsg"));
	assert_true(json_array_size(api_path(r, "data.errors")) >= 1);
	assert_null(api_str(r, "data.sello"));
	snprintf(old_codigo, sizeof(old_codigo), "%s", api_str(r, "data.codigoGeneracion"));
	snprintf(old_nc, sizeof(old_nc), "%s", api_str(r, "data.numeroControl"));
	api_resp_free(r);
	/* no blind retry: MH saw it once and keeps seeing it once */
	sleep(2);
	doc = sbx_document(old_codigo);
	assert_int_equal(json_integer_value(json_object_get(doc, "attempts")), 1);
	assert_string_equal(json_string_value(json_object_get(doc, "estado")), "RECHAZADO");
	json_decref(doc);
	r = api_req("GET", pathf("/api/dte/%s", order), admin(), NULL, NULL);
	assert_string_equal(api_str(r, "data.status"), "rejected");
	api_resp_free(r);
	/* a manual submit is refused: retry is the way */
	r = api_req("POST", "/api/dte/submit", admin(), pathf("{\"orderId\":\"%s\"}", order), NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);

	/* the corrected document: new codigoGeneracion and numeroControl */
	r = api_req("POST", "/api/dte/retry", admin(), pathf("{\"orderId\":\"%s\"}", order), NULL);
	assert_status(r, 200);
	assert_string_not_equal(api_str(r, "data.codigoGeneracion"), old_codigo);
	assert_string_not_equal(api_str(r, "data.numeroControl"), old_nc);
	assert_string_equal(api_str(r, "data.replaces"), old_codigo);
	api_resp_free(r);
	r = wait_status(order, "accepted");
	assert_string_equal(api_str(r, "data.otherDtes.0.codigoGeneracion"), old_codigo);
	assert_string_equal(api_str(r, "data.otherDtes.0.status"), "rejected");
	assert_string_equal(api_str(r, "data.otherDtes.0.replacedBy"), api_str(r, "data.codigoGeneracion"));
	/* retrying an accepted DTE, or the replaced one: 409 */
	r2 = api_req("POST", "/api/dte/retry", admin(), pathf("{\"orderId\":\"%s\"}", order), NULL);
	api_expect_error(r2, 409, "INVALID_STATE", NULL);
	api_resp_free(r2);
	r2 = api_req("POST", "/api/dte/retry", admin(), pathf("{\"codigoGeneracion\":\"%s\"}", old_codigo), NULL);
	api_expect_error(r2, 409, "INVALID_STATE", NULL);
	api_resp_free(r2);
	api_resp_free(r);
}

/* A burst of 5xx: consult, resend (MH §1.6), accepted without contingency. */
static void test_5xx_burst(void **state)
{
	char order[40];
	struct api_resp *r;
	json_t *doc;

	(void)state;
	faults("{\"failNext\":2,\"failStatus\":503,\"path\":\"/fesv/\"}");
	order_for(T.p_dui, T.svc_taxable, "3", NULL, true, "card_present", order);
	r = wait_status(order, "accepted");
	assert_int_equal(api_int(r, "data.tipoOperacion"), 1);
	assert_true(api_int(r, "data.attempts") >= 1);
	doc = sbx_document(api_str(r, "data.codigoGeneracion"));
	assert_string_equal(json_string_value(json_object_get(doc, "estado")), "PROCESADO");
	json_decref(doc);
	api_resp_free(r);
}

/* MH down: contingency, then the evento de contingencia, then accepted. */
static void test_contingency(void **state)
{
	char order[40], codigo[40];
	struct api_resp *r;
	json_t *doc, *events, *ev;
	size_t i;
	bool listed = false;

	(void)state;
	faults("{\"failNext\":-1,\"failStatus\":503,\"path\":\"/fesv/\"}");
	order_for(T.p_dui, T.svc_taxable, "1", NULL, true, "cash", order);
	r = wait_status(order, "contingency");
	assert_int_equal(api_int(r, "data.tipoModelo"), 2);
	assert_int_equal(api_int(r, "data.tipoOperacion"), 2);
	assert_int_equal(api_int(r, "data.tipoContingencia"), 1);
	snprintf(codigo, sizeof(codigo), "%s", api_str(r, "data.codigoGeneracion"));
	api_resp_free(r);
	/* the report shows the open event while MH is down */
	r = api_req("GET", "/api/reports/dte-status", admin(), NULL, NULL);
	assert_status(r, 200);
	assert_true(api_int(r, "data.byStatus.contingency") >= 1);
	assert_true(json_array_size(api_path(r, "data.contingencyEvents")) >= 1);
	api_resp_free(r);
	/* the delivered document (without seal) is already signed in contingency */
	r = api_req("GET", pathf("/api/dte/xml/%s", codigo), admin(), NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, "\"tipoOperacion\":2"));
	assert_non_null(strstr(r->body, "\"selloRecibido\":null"));
	api_resp_free(r);

	faults(NULL); /* MH answers again */
	r = wait_status(order, "accepted");
	assert_string_equal(api_str(r, "data.codigoGeneracion"), codigo); /* the same code, never another */
	assert_int_equal(api_int(r, "data.tipoOperacion"), 2);
	api_resp_free(r);
	doc = sbx_document(codigo);
	assert_int_equal(json_integer_value(json_object_get(doc, "tipoOperacion")), 2);
	assert_string_equal(json_string_value(json_object_get(doc, "estado")), "PROCESADO");
	json_decref(doc);
	events = sbx("GET", "/_sandbox/events", NULL);
	json_array_foreach(json_object_get(events, "events"), i, ev)
	{
		char *det = json_dumps(json_object_get(json_object_get(ev, "payload"), "detalleDTE"), 0);
		if (strcmp(json_string_value(json_object_get(ev, "kind")), "contingencia") == 0 && det &&
		    strstr(det, codigo))
			listed = true;
		free(det);
	}
	assert_true(listed);
	json_decref(events);
}

static const char *INVALIDATION_PEOPLE =
    "\"nombreResponsable\":\"María Hernández\",\"tipDocResponsable\":\"13\",\"numDocResponsable\":\"02382723-5\","
    "\"nombreSolicita\":\"Juan Pérez Gómez\",\"tipDocSolicita\":\"13\",\"numDocSolicita\":\"02382723-5\"";

static void test_invalidation(void **state)
{
	char order[40], codigo[40], replacement[40];
	struct api_resp *r;
	json_t *doc;

	(void)state;
	order_for(T.p_none, T.svc_taxable, "1", NULL, true, "cash", order);
	r = wait_status(order, "accepted");
	snprintf(codigo, sizeof(codigo), "%s", api_str(r, "data.codigoGeneracion"));
	api_resp_free(r);

	/* validation: 1 and 3 need the replacement, 2 must not have one */
	r = api_req("POST", "/api/dte/invalidate", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":1,%s}", codigo, INVALIDATION_PEOPLE), NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "codigoGeneracionR");
	api_resp_free(r);
	r = api_req("POST", "/api/dte/invalidate", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":3,%s,\"codigoGeneracionR\":\"%s\"}", codigo,
			  INVALIDATION_PEOPLE, codigo),
		    NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "motivoAnulacion");
	api_resp_free(r);
	r = api_req("POST", "/api/dte/invalidate", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":4,%s}", codigo, INVALIDATION_PEOPLE), NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "tipoAnulacion");
	api_resp_free(r);
	r = api_req("POST", "/api/dte/invalidate", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":2,\"tipDocResponsable\":\"99\","
			  "\"nombreResponsable\":\"María Hernández\",\"numDocResponsable\":\"023827235\","
			  "\"nombreSolicita\":\"Juan Pérez\",\"tipDocSolicita\":\"13\",\"numDocSolicita\":\"023827235\"}",
			  codigo),
		    NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "tipDocResponsable");
	api_resp_free(r);

	/* a replacement first (submit with replaces), then invalidation type 1 naming it */
	r = api_req("POST", "/api/dte/submit", admin(),
		    pathf("{\"orderId\":\"%s\",\"replaces\":\"%s\"}", order, codigo), NULL);
	assert_status(r, 201);
	snprintf(replacement, sizeof(replacement), "%s", api_str(r, "data.codigoGeneracion"));
	assert_string_not_equal(replacement, codigo);
	api_resp_free(r);
	r = wait_status(order, "accepted");
	assert_string_equal(api_str(r, "data.codigoGeneracion"), replacement);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/invalidate", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":1,\"motivoAnulacion\":\"Error en el nombre del "
			  "receptor\",%s,\"codigoGeneracionR\":\"%s\"}",
			  codigo, INVALIDATION_PEOPLE, replacement),
		    NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.status"), "invalidated");
	assert_string_equal(api_str(r, "data.replacedBy"), replacement);
	assert_string_equal(api_str(r, "data.invalidation.estado"), "PROCESADO");
	assert_int_equal(strlen(api_str(r, "data.invalidation.sello")), 40);
	api_resp_free(r);
	doc = sbx_document(codigo);
	assert_true(json_is_true(json_object_get(doc, "invalidated")));
	json_decref(doc);
	/* twice: no longer accepted */
	r = api_req("POST", "/api/dte/invalidate", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":2,%s}", codigo, INVALIDATION_PEOPLE), NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);
	/* the order's DTE is the replacement now */
	r = api_req("GET", pathf("/api/dte/%s", order), admin(), NULL, NULL);
	assert_string_equal(api_str(r, "data.codigoGeneracion"), replacement);
	api_resp_free(r);
	/* rescind the replacement (type 2: no replacement) */
	r = api_req("POST", "/api/dte/invalidate", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":2,\"motivoAnulacion\":\"Operación "
			  "rescindida\",%s}",
			  replacement, INVALIDATION_PEOPLE),
		    NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.status"), "invalidated");
	api_resp_free(r);
	r = api_req("GET", "/api/audit-logs?entity=dte", admin(), NULL, NULL);
	assert_non_null(strstr(r->body, "dte.invalidate"));
	api_resp_free(r);
}

static void test_notes(void **state)
{
	char order[40], ccf[40], note_order[40], fe_order[40], fe_codigo[40];
	struct api_resp *r;
	json_t *doc;

	(void)state;
	order_for(T.p_nrc, T.svc_taxable, "2", NULL, true, "cash", order);
	r = wait_status(order, "accepted");
	assert_string_equal(api_str(r, "data.tipoDte"), "03");
	snprintf(ccf, sizeof(ccf), "%s", api_str(r, "data.codigoGeneracion"));
	api_resp_free(r);

	/* a credit note of 10.00 + IVA */
	r = api_req("POST", "/api/dte/notes", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoDte\":\"05\",\"items\":[{\"description\":\"Descuento por "
			  "convenio\",\"quantity\":\"1\",\"unitPrice\":\"10.00\"}],\"reason\":\"Descuento acordado\"}",
			  ccf),
		    NULL);
	assert_status(r, 201);
	assert_string_equal(api_str(r, "data.tipoDte"), "05");
	assert_string_equal(api_str(r, "data.relatedCodigo"), ccf);
	assert_string_equal(api_str(r, "data.total"), "11.30");
	snprintf(note_order, sizeof(note_order), "%s", api_str(r, "data.orderId"));
	api_resp_free(r);
	r = wait_status(note_order, "accepted");
	doc = sbx_document(api_str(r, "data.codigoGeneracion"));
	assert_string_equal(json_string_value(json_object_get(doc, "estado")), "PROCESADO");
	json_decref(doc);
	api_resp_free(r);

	/* a debit note */
	r = api_req("POST", "/api/dte/notes", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoDte\":\"06\",\"items\":[{\"description\":\"Insumos "
			  "adicionales\",\"quantity\":\"2\",\"unitPrice\":\"5.00\",\"taxTreatment\":\"taxable\"}],"
			  "\"reason\":\"Cargo adicional\"}",
			  ccf),
		    NULL);
	assert_status(r, 201);
	snprintf(note_order, sizeof(note_order), "%s", api_str(r, "data.orderId"));
	api_resp_free(r);
	r = wait_status(note_order, "accepted");
	assert_string_equal(api_str(r, "data.tipoDte"), "06");
	api_resp_free(r);

	/* more credit than the CCF has left */
	r = api_req("POST", "/api/dte/notes", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoDte\":\"05\",\"items\":[{\"description\":\"Todo\","
			  "\"unitPrice\":\"70.00\"}],\"reason\":\"Devolución total\"}",
			  ccf),
		    NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "items");
	api_resp_free(r);
	/* notes adjust a Crédito Fiscal only */
	order_for(T.p_dui, T.svc_taxable, "1", NULL, true, "cash", fe_order);
	r = wait_status(fe_order, "accepted");
	snprintf(fe_codigo, sizeof(fe_codigo), "%s", api_str(r, "data.codigoGeneracion"));
	api_resp_free(r);
	r = api_req("POST", "/api/dte/notes", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoDte\":\"05\",\"items\":[{\"description\":\"x\","
			  "\"unitPrice\":\"1.00\"}],\"reason\":\"x\"}",
			  fe_codigo),
		    NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "codigoGeneracion");
	api_resp_free(r);
	/* the CCF cannot be invalidated while its notes live */
	r = api_req("POST", "/api/dte/invalidate", admin(),
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":2,%s}", ccf, INVALIDATION_PEOPLE), NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);
}

static void test_downloads(void **state)
{
	char order[40], codigo[40];
	struct api_resp *r;
	const char *sello;
	char sello_copy[48];

	(void)state;
	order_for(T.p_dui, T.svc_exempt, "1", NULL, true, "cash", order);
	r = wait_status(order, "accepted");
	snprintf(codigo, sizeof(codigo), "%s", api_str(r, "data.codigoGeneracion"));
	sello = api_str(r, "data.sello");
	snprintf(sello_copy, sizeof(sello_copy), "%s", sello);
	api_resp_free(r);

	r = api_req("GET", pathf("/api/dte/xml/%s", codigo), admin(), NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->content_type, "application/json"));
	assert_non_null(r->json);
	assert_string_equal(api_str(r, "identificacion.codigoGeneracion"), codigo);
	assert_string_equal(api_str(r, "selloRecibido"), sello_copy);
	assert_true(strncmp(api_str(r, "firmaElectronica"), "eyJhbGciOiJSUzUxMiJ9.", 21) == 0);
	assert_non_null(strstr(r->headers, "Content-Disposition: attachment"));
	api_resp_free(r);
	/* lower-case code works too */
	{
		char lower[40];
		for (size_t i = 0; i <= strlen(codigo); i++)
			lower[i] = (char)((codigo[i] >= 'A' && codigo[i] <= 'F') ? codigo[i] + 32 : codigo[i]);
		r = api_req("GET", pathf("/api/dte/xml/%s?format=xml", lower), admin(), NULL, NULL);
	}
	assert_status(r, 200);
	assert_non_null(strstr(r->content_type, "application/xml"));
	assert_true(strncmp(r->body, "<?xml", 5) == 0);
	assert_non_null(strstr(r->body, sello_copy));
	assert_non_null(strstr(r->body, "<firmaElectronica>"));
	api_resp_free(r);
	r = api_req("GET", pathf("/api/dte/xml/%s?format=csv", codigo), admin(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "format");
	api_resp_free(r);

	r = api_req("GET", pathf("/api/dte/pdf/%s", codigo), admin(), NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(r->content_type, "application/pdf");
	assert_true(r->len > 1000 && memcmp(r->body, "%PDF", 4) == 0);
	assert_non_null(strstr(r->headers, "filename=\"DTE-"));
	api_resp_free(r);

	r = api_req("GET", "/api/dte/pdf/0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90", admin(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/dte/xml/not-a-uuid", admin(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
}

/* autoSubmit off: nothing happens at payment; POST /api/dte/submit issues; submit again returns the same. */
static void test_manual_submit(void **state)
{
	char order[40], codigo[40];
	struct api_resp *r;

	(void)state;
	r = api_req("PUT", "/api/v1/tenant", admin(), "{\"settings\":{\"dte\":{\"autoSubmit\":false}}}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
	order_for(T.p_dui, T.svc_taxable, "1", NULL, true, "cash", order);
	usleep(500 * 1000);
	r = api_req("GET", pathf("/api/dte/%s", order), admin(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/submit", admin(), pathf("{\"orderId\":\"%s\"}", order), NULL);
	assert_status(r, 201);
	snprintf(codigo, sizeof(codigo), "%s", api_str(r, "data.codigoGeneracion"));
	assert_non_null(api_str(r, "data.numeroControl"));
	api_resp_free(r);
	r = wait_status(order, "accepted");
	api_resp_free(r);
	r = api_req("POST", "/api/dte/submit", admin(), pathf("{\"orderId\":\"%s\"}", order), NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.codigoGeneracion"), codigo);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/submit", admin(), pathf("{\"orderId\":\"%s\",\"tipoDte\":\"03\"}", order), NULL);
	api_expect_error(r, 409, "INVALID_STATE", NULL);
	api_resp_free(r);
	r = api_req("PUT", "/api/v1/tenant", admin(), "{\"settings\":{\"dte\":{\"autoSubmit\":true}}}", NULL);
	assert_status(r, 200);
	api_resp_free(r);
}

static void test_report(void **state)
{
	struct api_resp *r;
	char *acc;

	(void)state;
	r = api_req("GET", "/api/reports/dte-status", admin(), NULL, NULL);
	assert_status(r, 200);
	assert_true(api_int(r, "data.total") >= 5);
	assert_true(api_int(r, "data.byStatus.accepted") >= 3);
	assert_true(api_int(r, "data.byStatus.rejected") >= 1);
	assert_true(api_int(r, "data.byType.01.total") >= 1);
	assert_true(api_int(r, "data.byType.03.total") >= 1);
	assert_string_equal(api_str(r, "data.rejections.0.codigoMsg"), "020");
	assert_non_null(api_str(r, "data.rejections.0.reason"));
	assert_non_null(api_path(r, "data.pending.count"));
	assert_non_null(api_path(r, "data.pending.oldestAgeSeconds"));
	api_resp_free(r);
	r = api_req("GET", "/api/reports/dte-status?from=2025-13-01", admin(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "from");
	api_resp_free(r);
	r = api_req("GET", "/api/reports/dte-status?from=2025-10-02&to=2025-10-01", admin(), NULL, NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "to");
	api_resp_free(r);
	r = api_req("GET", "/api/reports/dte-status?from=2000-01-01&to=2000-01-31", admin(), NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "data.total"), 0);
	api_resp_free(r);
	/* an accountant reads reports; a doctor does not */
	acc = api_user_token("demo", "accountant", NULL);
	r = api_req("GET", "/api/reports/dte-status", acc, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	free(acc);
	acc = api_user_token("demo", "doctor", NULL);
	r = api_req("GET", "/api/reports/dte-status", acc, NULL, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	free(acc);
}

/* Bad input: 400 naming the field, nothing written. */
static void test_validation(void **state)
{
	static const struct {
		const char *path, *body, *field;
	} cases[] = {
	    {"/api/dte/submit", "{}", "orderId"},
	    {"/api/dte/submit", "{\"orderId\":\"nope\"}", "orderId"},
	    {"/api/dte/submit", "{\"orderId\":\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"tipoDte\":\"07\"}", "tipoDte"},
	    {"/api/dte/submit", "{\"orderId\":\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"extra\":1}", "extra"},
	    {"/api/dte/retry", "{}", "orderId"},
	    {"/api/dte/retry",
	     "{\"orderId\":\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"codigoGeneracion\":\"0F6A8E2C-54B1-4C0B-9E4B-"
	     "2C6D3A1B7E90\"}",
	     "codigoGeneracion"},
	    {"/api/dte/notes", "{\"codigoGeneracion\":\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"tipoDte\":\"05\","
			       "\"reason\":\"x\"}",
	     "items"},
	    {"/api/dte/notes", "{\"codigoGeneracion\":\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"tipoDte\":\"01\","
			       "\"items\":[{\"description\":\"x\",\"unitPrice\":\"1\"}],\"reason\":\"x\"}",
	     "tipoDte"},
	    {"/api/dte/notes", "{\"codigoGeneracion\":\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"tipoDte\":\"05\","
			       "\"items\":[{\"description\":\"x\",\"unitPrice\":\"1.001\"}],\"reason\":\"x\"}",
	     "items[0].unitPrice"},
	    {"/api/dte/notes", "{\"codigoGeneracion\":\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"tipoDte\":\"05\","
			       "\"items\":[{\"description\":\"x\",\"unitPrice\":\"1\",\"quantity\":\"0\"}],\"reason\":\"x\"}",
	     "items[0].quantity"},
	    {"/api/dte/notes", "{\"codigoGeneracion\":\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"tipoDte\":\"05\","
			       "\"items\":[{\"description\":\"x\",\"unitPrice\":\"1\",\"taxTreatment\":\"zero\"}],"
			       "\"reason\":\"x\"}",
	     "items[0].taxTreatment"},
	    {"/api/dte/invalidate", "{\"tipoAnulacion\":2}", "codigoGeneracion"},
	};
	long long before = count_dtes(), events = api_sql_int("SELECT COUNT(*) FROM dte_events");
	struct api_resp *r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = api_req("POST", cases[i].path, admin(), cases[i].body, NULL);
		api_expect_error(r, 400, "VALIDATION_ERROR", cases[i].field);
		api_resp_free(r);
	}
	/* unknown order / DTE */
	r = api_req("POST", "/api/dte/submit", admin(), "{\"orderId\":\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\"}", NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/dte/0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90", admin(), NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	assert_int_equal(count_dtes(), before);
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM dte_events"), events);
}

/* 401 without a token, 403 without the permission, 404 across tenants. */
static void test_access(void **state)
{
	static const char *const gets[] = {"/api/dte/%s", "/api/dte/xml/%s", "/api/dte/pdf/%s"};
	char order[40], codigo[40], body[200];
	struct api_resp *r;
	char *other, *acc, *doctor;

	(void)state;
	order_for(T.p_dui, T.svc_taxable, "1", NULL, true, "cash", order);
	r = wait_status(order, "accepted");
	snprintf(codigo, sizeof(codigo), "%s", api_str(r, "data.codigoGeneracion"));
	api_resp_free(r);

	r = api_req("GET", pathf("/api/dte/%s", order), NULL, NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/submit", NULL, pathf("{\"orderId\":\"%s\"}", order), NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/reports/dte-status", NULL, NULL, NULL);
	api_expect_error(r, 401, "UNAUTHORIZED", NULL);
	api_resp_free(r);

	/* the accountant reads DTEs but may not submit or invalidate; the doctor may not read */
	acc = api_user_token("demo", "accountant", NULL);
	doctor = api_user_token("demo", "doctor", NULL);
	r = api_req("GET", pathf("/api/dte/%s", order), acc, NULL, NULL);
	assert_status(r, 200);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/submit", acc, pathf("{\"orderId\":\"%s\"}", order), NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/retry", acc, pathf("{\"orderId\":\"%s\"}", order), NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/invalidate", acc,
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":2,%s}", codigo, INVALIDATION_PEOPLE), NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/notes", acc, "{}", NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);
	r = api_req("GET", pathf("/api/dte/pdf/%s", codigo), doctor, NULL, NULL);
	api_expect_error(r, 403, "FORBIDDEN", NULL);
	api_resp_free(r);

	/* another tenant sees nothing of demo's */
	other = api_user_token("other", "admin", NULL);
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
		r = api_req("GET", pathf(gets[i], i == 0 ? order : codigo), other, NULL, NULL);
		api_expect_error(r, 404, "NOT_FOUND", NULL);
		api_resp_free(r);
	}
	r = api_req("POST", "/api/dte/submit", other, pathf("{\"orderId\":\"%s\"}", order), NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/retry", other, pathf("{\"codigoGeneracion\":\"%s\"}", codigo), NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/invalidate", other,
		    pathf("{\"codigoGeneracion\":\"%s\",\"tipoAnulacion\":2,%s}", codigo, INVALIDATION_PEOPLE), NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	snprintf(body, sizeof(body),
		 "{\"codigoGeneracion\":\"%s\",\"tipoDte\":\"05\",\"items\":[{\"description\":\"x\",\"unitPrice\":\"1\"}],"
		 "\"reason\":\"x\"}",
		 codigo);
	r = api_req("POST", "/api/dte/notes", other, body, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("GET", "/api/reports/dte-status", other, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(api_int(r, "data.total"), 0);
	api_resp_free(r);
	/* still accepted, untouched */
	r = api_req("GET", pathf("/api/dte/%s", order), admin(), NULL, NULL);
	assert_string_equal(api_str(r, "data.status"), "accepted");
	api_resp_free(r);
	free(other);
	free(acc);
	free(doctor);
}

/* A DTE that cannot be issued (a Crédito Fiscal without the receptor's activity)
 * stops in error with the reason; after the data is fixed, POST /retry issues it
 * with the SAME codigoGeneracion (MH never saw it). */
static void test_error_then_retry_same_code(void **state)
{
	char patient[40], order[40], codigo[40], body[800];
	struct api_resp *r;

	(void)state;
	create_patient("{\"firstName\":\"Rosa\",\"lastName\":\"Campos\",\"documentType\":\"NIT\",\"documentNumber\":"
		       "\"0614-200498-107-4\",\"nrc\":\"3344556\",\"fiscalName\":\"Farmacia Campos S.A.\",\"email\":"
		       "\"rosa@campos.example\"}",
		       patient);
	order_for(patient, T.svc_taxable, "1", NULL, true, "cash", order);
	r = wait_status(order, "error");
	assert_null(api_str(r, "data.numeroControl"));
	/* the patient has a NIT and an NRC but no address or activity: the reason names the field */
	if (strncmp(api_str(r, "data.lastError"), "receptor.", 9) != 0)
		fail_msg("lastError: %s", api_str(r, "data.lastError"));
	assert_string_equal(api_str(r, "data.errors.0"), api_str(r, "data.lastError"));
	snprintf(codigo, sizeof(codigo), "%s", api_str(r, "data.codigoGeneracion"));
	api_resp_free(r);
	/* still broken: 400 naming the field, nothing changes */
	r = api_req("POST", "/api/dte/retry", admin(), pathf("{\"orderId\":\"%s\"}", order), NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "receptor.direccion");
	api_resp_free(r);
	/* fixed: the buyer's fiscal receptor is registered */
	snprintf(body, sizeof(body),
		 "{\"tipoDocumento\":\"36\",\"numDocumento\":\"0614-200498-107-4\",\"nrc\":\"3344556\",\"nombre\":"
		 "\"Farmacia Campos S.A.\",\"codActividad\":\"47721\",\"descActividad\":\"Venta de productos "
		 "farmacéuticos\",\"direccion\":{\"departamento\":\"06\",\"municipio\":\"23\",\"complemento\":"
		 "\"Avenida Olímpica 10\"},\"correo\":\"rosa@campos.example\",\"patientId\":\"%s\"}",
		 patient);
	r = api_req("POST", "/api/receptores", admin(), body, NULL);
	assert_true(r->status == 201 || r->status == 200);
	api_resp_free(r);
	api_sql_ok("UPDATE fiscal_receptores SET direccion_json = replace(direccion_json, '\"23\"', '\"14\"')");
	r = api_req("POST", "/api/dte/retry", admin(), pathf("{\"codigoGeneracion\":\"%s\"}", codigo), NULL);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.codigoGeneracion"), codigo);
	assert_string_equal(api_str(r, "data.tipoDte"), "03");
	api_resp_free(r);
	r = wait_status(order, "accepted");
	assert_string_equal(api_str(r, "data.codigoGeneracion"), codigo);
	assert_string_equal(api_str(r, "data.history.1.to"), "error");
	api_resp_free(r);
}

/* A tenant without an emisor: payments never make DTEs; a submit names the setting. */
static void test_tenant_without_emisor(void **state)
{
	char *other = api_user_token("other", "admin", NULL);
	struct api_resp *r;
	char svc[40], pat[40], order[40], body[400];

	(void)state;
	r = api_req("POST", "/api/services", other,
		    "{\"code\":\"X-1\",\"name\":\"Consulta\",\"category\":\"c\",\"price\":\"10.00\",\"taxTreatment\":"
		    "\"taxable\"}",
		    NULL);
	assert_status(r, 201);
	id_from(r, svc);
	api_resp_free(r);
	r = api_req("POST", "/api/patients", other, "{\"firstName\":\"Eva\",\"lastName\":\"Ruiz\"}", NULL);
	assert_status(r, 201);
	id_from(r, pat);
	api_resp_free(r);
	snprintf(body, sizeof(body), "{\"patientId\":\"%s\",\"items\":[{\"serviceId\":\"%s\"}]}", pat, svc);
	r = api_req("POST", "/api/orders", other, body, NULL);
	assert_status(r, 201);
	id_from(r, order);
	snprintf(body, sizeof(body), "{\"orderId\":\"%s\",\"method\":\"cash\",\"amount\":\"%s\"}", order,
		 api_str(r, "data.total"));
	api_resp_free(r);
	r = api_req("POST", "/api/payments", other, body, NULL);
	assert_status(r, 201);
	api_resp_free(r);
	r = api_req("GET", pathf("/api/dte/%s", order), other, NULL, NULL);
	api_expect_error(r, 404, "NOT_FOUND", NULL);
	api_resp_free(r);
	r = api_req("POST", "/api/dte/submit", other, pathf("{\"orderId\":\"%s\"}", order), NULL);
	api_expect_error(r, 400, "VALIDATION_ERROR", "settings.emisor");
	api_resp_free(r);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_paid_order_becomes_accepted, case_setup),
	    cmocka_unit_test_setup(test_type_choice, case_setup),
	    cmocka_unit_test_setup(test_rejection_and_retry, case_setup),
	    cmocka_unit_test_setup(test_5xx_burst, case_setup),
	    cmocka_unit_test_setup(test_contingency, case_setup),
	    cmocka_unit_test_setup(test_invalidation, case_setup),
	    cmocka_unit_test_setup(test_notes, case_setup),
	    cmocka_unit_test_setup(test_downloads, case_setup),
	    cmocka_unit_test_setup(test_manual_submit, case_setup),
	    cmocka_unit_test_setup(test_report, case_setup),
	    cmocka_unit_test_setup(test_validation, case_setup),
	    cmocka_unit_test_setup(test_access, case_setup),
	    cmocka_unit_test_setup(test_error_then_retry_same_code, case_setup),
	    cmocka_unit_test_setup(test_tenant_without_emisor, case_setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
