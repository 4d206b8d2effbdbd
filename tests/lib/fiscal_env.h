/*
 * fiscal_env.h - what the fiscal-contract API tests (tests/api/
 * test_facturas.c, test_webhooks_out.c) need around the server: an RSA
 * signing key of the emisor, the MH sandbox (the build directory's
 * clinicledger-mh-sandbox, started on a free port with that key
 * registered), the server's environment pointing at both, and the demo
 * tenant's emisor settings. Everything is static: include it once per test
 * program, after harness.h.
 */
#ifndef CL_TESTS_FISCAL_ENV_H
#define CL_TESTS_FISCAL_ENV_H

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define FENV_NIT	"06141809480014" /* README §3.9 vector 0614-180948-001-4 */
#define FENV_NRC	"2345678"
#define FENV_MH_PWD	"Api-Password-2025!"
#define FENV_PUBLIC_URL "https://facturas.test"

struct fenv {
	char dir[128];
	char key[256];
	char certs[256];
	pid_t sbx_pid;
	int sbx_port;
	char mh_url[64];
	char env[12][600];
	const char *envp[13];
};

static inline const char *fenv_sandbox_bin(void)
{
	static char path[600];
	const char *bin = getenv("CLINICLEDGER_TEST_SANDBOX_BIN");
	const char *server = getenv("CLINICLEDGER_TEST_BIN");

	if (bin && *bin)
		return bin;
	if (server && strrchr(server, '/')) {
		snprintf(path, sizeof(path), "%.*s/clinicledger-mh-sandbox", (int)(strrchr(server, '/') - server),
			 server);
		return path;
	}
	return "build/clinicledger-mh-sandbox";
}

/* A fresh 2048-bit RSA key: private PEM at f->key, public PEM at
 * f->certs/<NIT>.pem (what MH holds after "Cargar certificado"). */
static inline int fenv_keys(struct fenv *f)
{
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	char pub[400];
	FILE *fp;
	int ok = 1;

	if (!pk)
		return -1;
	snprintf(f->key, sizeof(f->key), "%s/dte-key.pem", f->dir);
	snprintf(f->certs, sizeof(f->certs), "%s/certs", f->dir);
	snprintf(pub, sizeof(pub), "%s/%s.pem", f->certs, FENV_NIT);
	if (mkdir(f->certs, 0700) != 0)
		ok = 0;
	if (ok && (fp = fopen(f->key, "w"))) {
		ok = PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL) == 1;
		fclose(fp);
		chmod(f->key, 0600);
	} else {
		ok = 0;
	}
	if (ok && (fp = fopen(pub, "w"))) {
		ok = PEM_write_PUBKEY(fp, pk) == 1;
		fclose(fp);
	} else {
		ok = 0;
	}
	EVP_PKEY_free(pk);
	return ok ? 0 : -1;
}

static inline int fenv_sandbox_start(struct fenv *f)
{
	char port_file[200], log[200], user[128];
	const char *argv[16];
	int n = 0;

	snprintf(port_file, sizeof(port_file), "%s/sandbox.port", f->dir);
	snprintf(log, sizeof(log), "%s/sandbox.log", f->dir);
	snprintf(user, sizeof(user), "%s:%s", FENV_NIT, FENV_MH_PWD);
	argv[n++] = fenv_sandbox_bin();
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	argv[n++] = "--certs";
	argv[n++] = f->certs;
	argv[n++] = "--user";
	argv[n++] = user;
	argv[n] = NULL;
	unlink(port_file);
	f->sbx_pid = fork();
	if (f->sbx_pid < 0)
		return -1;
	if (f->sbx_pid == 0) {
		FILE *o = freopen(log, "a", stdout);

		(void)o;
		dup2(STDOUT_FILENO, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) { /* 30 s: sanitizer builds start slowly */
		FILE *p = fopen(port_file, "r");
		int st;

		if (p) {
			int ok = fscanf(p, "%d", &f->sbx_port);

			fclose(p);
			if (ok == 1 && f->sbx_port > 0) {
				snprintf(f->mh_url, sizeof(f->mh_url), "http://127.0.0.1:%d", f->sbx_port);
				return 0;
			}
		}
		if (waitpid(f->sbx_pid, &st, WNOHANG) == f->sbx_pid) {
			fprintf(stderr, "fiscal_env: the MH sandbox %s exited (status %d); log %s\n", argv[0], st, log);
			f->sbx_pid = 0;
			return -1;
		}
		usleep(100 * 1000);
	}
	return -1;
}

static inline void fenv_sandbox_stop(struct fenv *f)
{
	int st;

	if (f->sbx_pid <= 0)
		return;
	kill(f->sbx_pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(f->sbx_pid, &st, WNOHANG) == f->sbx_pid) {
			f->sbx_pid = 0;
			return;
		}
		usleep(50 * 1000);
	}
	kill(f->sbx_pid, SIGKILL);
	waitpid(f->sbx_pid, &st, 0);
	f->sbx_pid = 0;
}

/* Keys, sandbox, and the server's extra environment in f->envp. */
static inline int fenv_start(struct fenv *f)
{
	int n = 0;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/cl-fiscal-env-XXXXXX");
	if (!mkdtemp(f->dir) || fenv_keys(f) != 0 || fenv_sandbox_start(f) != 0)
		return -1;
	snprintf(f->env[n++], 600, "DTE_MH_ENDPOINT=%s", f->mh_url);
	snprintf(f->env[n++], 600, "DTE_MH_PASSWORD=%s", FENV_MH_PWD);
	snprintf(f->env[n++], 600, "DTE_PRIVATE_KEY=%s", f->key);
	snprintf(f->env[n++], 600, "DTE_MH_TIMEOUT_MS=3000");
	snprintf(f->env[n++], 600, "CLINICLEDGER_WEBHOOKS_ALLOW_PRIVATE=1");
	snprintf(f->env[n++], 600, "CLINICLEDGER_WEBHOOKS_RETRY_BASE_S=1");
	snprintf(f->env[n++], 600, "CLINICLEDGER_PUBLIC_URL=%s/", FENV_PUBLIC_URL);
	for (int i = 0; i < n; i++)
		f->envp[i] = f->env[i];
	f->envp[n] = NULL;
	return 0;
}

static inline void fenv_stop(struct fenv *f)
{
	char cmd[300];

	fenv_sandbox_stop(f);
	if (f->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "fiscal_env: could not remove %s\n", f->dir);
	}
}

/* The caller's tenant as an El Salvador issuer (PUT /api/v1/tenant), with
 * establishment code estable ("M001"). */
static inline void fenv_set_emisor_as(const char *admin_token, const char *estable)
{
	char body[1200];
	struct api_resp *r;

	snprintf(body, sizeof(body),
		 "{\"settings\":{\"emisor\":{\"nit\":\"" FENV_NIT "\",\"nrc\":\"" FENV_NRC "\","
		 "\"nombre\":\"Clínica Demo, S.A. de C.V.\",\"nombreComercial\":\"Clínica Demo\","
		 "\"codActividad\":\"86201\",\"descActividad\":\"Clínicas médicas\",\"tipoEstablecimiento\":\"02\","
		 "\"codEstable\":\"%s\",\"codPuntoVenta\":\"P001\","
		 "\"direccion\":{\"departamento\":\"06\",\"municipio\":\"14\","
		 "\"complemento\":\"Colonia Escalón, San Salvador\"},"
		 "\"telefono\":\"22223333\",\"correo\":\"facturas@clinica-demo.sv\"}}}",
		 estable);
	r = api_req("PUT", "/api/v1/tenant", admin_token, body, NULL);
	assert_status(r, 200);
	api_resp_free(r);
}

/* The demo tenant as an El Salvador issuer. */
static inline void fenv_set_emisor(const char *admin_token)
{
	fenv_set_emisor_as(admin_token, "M001");
}

/* The demo tenant's id (owned). */
static inline char *fenv_tenant_id(const char *admin_token)
{
	struct api_resp *r = api_req("GET", "/api/v1/tenant", admin_token, NULL, NULL);
	char *id;

	assert_status(r, 200);
	id = strdup(api_str(r, "data.id"));
	api_resp_free(r);
	return id;
}

static inline size_t fenv_on_data(char *d, size_t size, size_t n, void *ud)
{
	char **buf = ud;
	size_t old = *buf ? strlen(*buf) : 0;

	*buf = realloc(*buf, old + size * n + 1);
	memcpy(*buf + old, d, size * n);
	(*buf)[old + size * n] = '\0';
	return size * n;
}

/* A request to the sandbox's control endpoints (path "/_sandbox/..."):
 * the parsed JSON answer (owned; NULL when not JSON), *status the HTTP
 * status (may be NULL). */
static inline json_t *fenv_sandbox(struct fenv *f, const char *method, const char *path, const char *body, long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char url[300], *buf = NULL;
	json_t *out;
	long st = 0;

	snprintf(url, sizeof(url), "%s%s", f->mh_url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fenv_on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	out = buf ? json_loads(buf, 0, NULL) : NULL;
	free(buf);
	if (status)
		*status = st;
	return out;
}

/* Recepciondte calls the sandbox saw for codigo (its "attempts"), and
 * whether it is PROCESADO (*sealed may be NULL). -1 when unknown. */
static inline int fenv_sandbox_attempts(struct fenv *f, const char *codigo, int *sealed)
{
	char path[128];
	long st = 0;
	json_t *d;
	int n;

	snprintf(path, sizeof(path), "/_sandbox/documents/%s", codigo);
	d = fenv_sandbox(f, "GET", path, NULL, &st);
	if (st != 200 || !d) {
		json_decref(d);
		return -1;
	}
	n = (int)json_integer_value(json_object_get(d, "attempts"));
	if (sealed) {
		const char *estado = json_string_value(json_object_get(d, "estado"));

		*sealed = estado && strcmp(estado, "PROCESADO") == 0;
	}
	json_decref(d);
	return n;
}

/* Wait until the sandbox or the server made fn(arg) true; polls every
 * 100 ms up to timeout_ms. Returns fn's last value. */
static inline int fenv_until(int (*fn)(void *), void *arg, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 100) {
		if (fn(arg))
			return 1;
		usleep(100 * 1000);
	}
	return fn(arg);
}

#endif
