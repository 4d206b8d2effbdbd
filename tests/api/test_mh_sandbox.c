/*
 * test_mh_sandbox.c - drives build/clinicledger-mh-sandbox over HTTP.
 *
 * The sandbox binary sits next to the server binary of the build under test
 * (CLINICLEDGER_TEST_BIN's directory; CLINICLEDGER_TEST_SANDBOX_BIN wins),
 * started on a free loopback port with a fresh directory of emisor keys.
 * The tests sign real documents (RSA-2048 keys generated here, jws.c) and
 * check MH's answers as README §1 describes them: token expiry, reception
 * (PROCESADO with a sello, RECHAZADO with MH's codes), consultadte,
 * invalidation and contingency events with their rules and deadlines (the
 * sandbox clock is moved through /_sandbox/clock), every fault-injection
 * knob, persistence across a kill -9, and the control endpoints.
 *
 * A small local HTTP helper (libcurl) is used, not the server harness: the
 * sandbox is not the clinicledger server. Any sanitizer report in the
 * sandbox's log fails the test that stops it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/err.h"
#include "core/ids.h"
#include "core/jschema.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "crypto/jws.h"

#define NIT	  "06141809480014"
#define PWD	  "Api-Password-2025!"
#define NIT_NOKEY "06142004981074"
#define PWD_NOKEY "Otra-Clave-2025!"

/* ---- document templates: tests/lib/dte_sample_docs.h ---- */

#include "../lib/dte_sample_docs.h"

/* ---- keys ---- */

static EVP_PKEY *pk_a, *pk_b;
static struct jws_key *key_a, *key_b;
static char *pub_pem_a, *pub_pem_b;
static char certs_dir[128];

static char *public_pem(EVP_PKEY *pk)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	PEM_write_bio_PUBKEY(b, pk);
	long n = BIO_get_mem_data(b, &data);
	char *out = xstrndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

static struct jws_key *private_key(EVP_PKEY *pk)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	struct jws_key *k = NULL;
	struct err e;
	PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	long n = BIO_get_mem_data(b, &data);
	if (jws_key_private_pem(data, (size_t)n, NULL, &k, &e) != 0)
		k = NULL;
	BIO_free(b);
	return k;
}

/* ---- the sandbox process ---- */

struct sbx {
	pid_t pid;
	int port;
	char dir[128];
	char state[256];
};

static struct sbx S; /* the instance most tests use */

static const char *sandbox_bin(void)
{
	static char path[600];
	const char *bin = getenv("CLINICLEDGER_TEST_SANDBOX_BIN");
	if (bin && *bin)
		return bin;
	const char *server = getenv("CLINICLEDGER_TEST_BIN");
	if (server && strrchr(server, '/')) {
		snprintf(path, sizeof(path), "%.*s/clinicledger-mh-sandbox", (int)(strrchr(server, '/') - server),
			 server);
		return path;
	}
	return "build/clinicledger-mh-sandbox";
}

static void log_scan(const struct sbx *s, bool *bad)
{
	char path[200], line[1024];
	snprintf(path, sizeof(path), "%s/sandbox.log", s->dir);
	FILE *f = fopen(path, "r");
	*bad = false;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "ERROR: AddressSanitizer") || strstr(line, "ERROR: LeakSanitizer") ||
		    strstr(line, "runtime error:")) {
			print_error("sandbox: %s", line);
			*bad = true;
		}
	}
	fclose(f);
}

/* Start an instance; args/env: NULL-terminated lists (may be NULL). When
 * state_from is not NULL its state file is reused. */
static int sbx_start(struct sbx *s, const char *const *args, const char *const *env, const struct sbx *state_from)
{
	char port_file[200], log[200], user1[64], user2[64];
	const char *argv[40];
	int n = 0;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/test_mh_sandbox_XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(port_file, sizeof(port_file), "%s/port", s->dir);
	snprintf(log, sizeof(log), "%s/sandbox.log", s->dir);
	snprintf(s->state, sizeof(s->state), "%s", state_from ? state_from->state : "");
	snprintf(user1, sizeof(user1), "%s:%s", NIT, PWD);
	snprintf(user2, sizeof(user2), "%s:%s", NIT_NOKEY, PWD_NOKEY);
	argv[n++] = sandbox_bin();
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	argv[n++] = "--certs";
	argv[n++] = certs_dir;
	argv[n++] = "--user";
	argv[n++] = user1;
	argv[n++] = "--user";
	argv[n++] = user2;
	for (int i = 0; args && args[i] && n < 38; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	for (int i = 0; args && args[i]; i++)
		if (strcmp(args[i], "--state") == 0 && args[i + 1])
			snprintf(s->state, sizeof(s->state), "%s", args[i + 1]);

	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		FILE *f = freopen(log, "a", stdout);
		(void)f;
		dup2(STDOUT_FILENO, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) { /* 30 s: sanitizer builds start slowly */
		FILE *f = fopen(port_file, "r");
		if (f) {
			int ok = fscanf(f, "%d", &s->port);
			fclose(f);
			if (ok == 1 && s->port > 0)
				return 0;
		}
		int st;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			print_error("sandbox exited early (status %d), log in %s\n", st, log);
			s->pid = 0;
			return -1;
		}
		usleep(100 * 1000);
	}
	return -1;
}

/* SIGTERM (or SIGKILL when hard) and wait; returns the exit status. */
static int sbx_stop(struct sbx *s, bool hard)
{
	int st = 0;
	if (s->pid <= 0)
		return -1;
	kill(s->pid, hard ? SIGKILL : SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			break;
		usleep(50 * 1000);
		if (i == 199) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &st, 0);
		}
	}
	s->pid = 0;
	return st;
}

static void sbx_cleanup(struct sbx *s)
{
	char cmd[200];
	bool bad = false;
	log_scan(s, &bad);
	assert_false(bad);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- HTTP ---- */

struct resp {
	long status;
	char *body;
	size_t len;
	json_t *json;
	CURLcode cc;
	long ms;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct resp *r = ud;
	r->body = xrealloc(r->body, r->len + size * n + 1);
	memcpy(r->body + r->len, p, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct resp *http(const struct sbx *s, const char *method, const char *path, const char *auth, const char *ctype,
			 const char *body, long timeout_ms)
{
	struct resp *r = xcalloc(1, sizeof(*r));
	char url[512], h1[4096], h2[256];
	struct curl_slist *hs = NULL;
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	hs = curl_slist_append(hs, "User-Agent: clinicledger-test");
	if (auth) {
		snprintf(h1, sizeof(h1), "Authorization: %s", auth);
		hs = curl_slist_append(hs, h1);
	}
	if (ctype) {
		snprintf(h2, sizeof(h2), "Content-Type: %s", ctype);
		hs = curl_slist_append(hs, h2);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	long t0 = mono_ms();
	r->cc = curl_easy_perform(c);
	r->ms = mono_ms() - t0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body)
		r->json = json_loads(r->body, 0, NULL);
	curl_slist_free_all(hs);
	curl_easy_cleanup(c);
	return r;
}

static void resp_free(struct resp *r)
{
	if (!r)
		return;
	json_decref(r->json);
	free(r->body);
	free(r);
}

static const char *jstr(const struct resp *r, const char *key)
{
	const json_t *v = json_object_get(r->json, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

#define expect_status(r, want)                                                                                         \
	do {                                                                                                           \
		if ((r)->status != (want))                                                                             \
			fail_msg("HTTP %ld (curl %d), wanted %d: %.600s", (r)->status, (int)(r)->cc, (int)(want),      \
				 (r)->body ? (r)->body : "");                                                          \
	} while (0)

static struct resp *get(const struct sbx *s, const char *path)
{
	return http(s, "GET", path, NULL, NULL, NULL, 0);
}

static void put_json(const struct sbx *s, const char *method, const char *path, const char *body)
{
	struct resp *r = http(s, method, path, NULL, "application/json", body, 0);
	expect_status(r, strcmp(path, "/_sandbox/emisores") == 0 ? 201 : 200);
	resp_free(r);
}

static char *login(const struct sbx *s, const char *nit, const char *pwd)
{
	char form[128];
	snprintf(form, sizeof(form), "user=%s&pwd=%s", nit, pwd);
	struct resp *r = http(s, "POST", "/seguridad/auth", NULL, "application/x-www-form-urlencoded", form, 0);
	expect_status(r, 200);
	const json_t *tok = json_object_get(json_object_get(r->json, "body"), "token");
	assert_true(json_is_string(tok));
	char *out = xstrdup(json_string_value(tok));
	resp_free(r);
	return out;
}

/* ---- documents ---- */

/* El Salvador local date of now + days (UTC-6). */
static void sv_date(int64_t offset_s, char out[11])
{
	time_t t = time(NULL) - 6 * 3600 + (time_t)offset_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void sv_time(int64_t offset_s, char out[9])
{
	time_t t = time(NULL) - 6 * 3600 + (time_t)offset_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 9, "%H:%M:%S", &tm);
}

/* A copy of doc with the value at a dotted path replaced by the JSON text
 * value (exact), or removed when value is NULL. Owned. */
static char *edit(const char *doc, const char *path, const char *value)
{
	json_t *root = NULL, *v = NULL;
	struct err e;
	char seg[64];
	assert_int_equal(jschema_parse_exact(doc, strlen(doc), &root, &e), 0);
	json_t *cur = root;
	const char *p = path;
	for (;;) {
		size_t n = strcspn(p, ".");
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (p[n] == '\0') {
			if (value)
				assert_int_equal(jschema_parse_exact(value, strlen(value), &v, &e), 0);
			if (json_is_array(cur))
				json_array_set_new(cur, strtoul(seg, NULL, 10), v);
			else if (value)
				json_object_set_new(cur, seg, v);
			else
				json_object_del(cur, seg);
			break;
		}
		cur = json_is_array(cur) ? json_array_get(cur, strtoul(seg, NULL, 10)) : json_object_get(cur, seg);
		assert_non_null(cur);
		p += n + 1;
	}
	char *out = jschema_dump_exact(root, JSON_COMPACT);
	json_decref(root);
	return out;
}

/* edit in place: *doc replaced */
static void set(char **doc, const char *path, const char *value)
{
	char *d = edit(*doc, path, value);
	free(*doc);
	*doc = d;
}

static void set_str(char **doc, const char *path, const char *text)
{
	char *quoted = xasprintf("\"%s\"", text);
	set(doc, path, quoted);
	free(quoted);
}

/* String at a dotted path into out. */
static void doc_str(const char *doc, const char *path, char *out, size_t size)
{
	json_t *root = NULL;
	struct err e;
	char seg[64];
	assert_int_equal(jschema_parse_exact(doc, strlen(doc), &root, &e), 0);
	const json_t *cur = root;
	while (cur && *path) {
		size_t n = strcspn(path, ".");
		memcpy(seg, path, n);
		seg[n] = '\0';
		cur = json_object_get(cur, seg);
		path += n + (path[n] == '.');
	}
	assert_true(json_is_string(cur));
	snprintf(out, size, "%s", json_string_value(cur));
	json_decref(root);
}

static int doc_counter;

/* tmpl with a new codigoGeneracion, a new numeroControl and today's date. */
static char *fresh(const char *tmpl)
{
	char code[UUID_LEN + 1], nc[40], tipo[3], today[11], now[9];
	uuid_v4_upper(code);
	char *d = xstrdup(tmpl);
	if (strstr(tmpl, "\"numeroControl\"") && strstr(tmpl, "\"tipoDte\"")) {
		doc_str(tmpl, "identificacion.tipoDte", tipo, sizeof(tipo));
		snprintf(nc, sizeof(nc), "DTE-%s-00010001-%015d", tipo,
			 ++doc_counter + (int)(time(NULL) % 100000) * 1000);
		set_str(&d, "identificacion.numeroControl", nc);
	}
	set_str(&d, "identificacion.codigoGeneracion", code);
	sv_date(0, today);
	sv_time(-60, now);
	if (strstr(tmpl, "\"fecEmi\"") && !strstr(tmpl, "\"fecAnula\"")) {
		set_str(&d, "identificacion.fecEmi", today);
		set_str(&d, "identificacion.horEmi", now);
	}
	return d;
}

static char *code_of(const char *doc)
{
	static char code[UUID_LEN + 1];
	doc_str(doc, "identificacion.codigoGeneracion", code, sizeof(code));
	return code;
}

static char *sign_doc(const char *doc, const struct jws_key *key)
{
	char *jws = NULL;
	struct err e;
	assert_int_equal(jws_sign_rs512(key, doc, strlen(doc), &jws, &e), 0);
	return jws;
}

/* The recepciondte envelope for doc (version/tipoDte/codigo from the doc). */
static char *envelope(const char *doc, const char *jws)
{
	char tipo[3], version[8];
	json_t *root = NULL;
	struct err e;
	assert_int_equal(jschema_parse_exact(doc, strlen(doc), &root, &e), 0);
	jschema_number_text(json_object_get(json_object_get(root, "identificacion"), "version"), version,
			    sizeof(version));
	json_decref(root);
	doc_str(doc, "identificacion.tipoDte", tipo, sizeof(tipo));
	return xasprintf("{\"ambiente\":\"00\",\"idEnvio\":%d,\"version\":%s,\"tipoDte\":\"%s\",\"documento\":\"%s\","
			 "\"codigoGeneracion\":\"%s\"}",
			 ++doc_counter, version, tipo, jws, code_of(doc));
}

static struct resp *send_env(const struct sbx *s, const char *tok, const char *env)
{
	return http(s, "POST", "/fesv/recepciondte", tok, "application/json", env, 0);
}

static struct resp *send_doc(const struct sbx *s, const char *tok, const char *doc)
{
	char *jws = sign_doc(doc, key_a);
	char *env = envelope(doc, jws);
	struct resp *r = send_env(s, tok, env);
	free(env);
	free(jws);
	return r;
}

static void expect_procesado(const struct resp *r)
{
	expect_status(r, 200);
	assert_string_equal(jstr(r, "estado"), "PROCESADO");
	const char *sello = jstr(r, "selloRecibido");
	assert_non_null(sello);
	assert_int_equal(strlen(sello), 40);
	for (const char *c = sello; *c; c++)
		assert_true((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'));
	assert_string_equal(jstr(r, "clasificaMsg"), "10");
}

static void expect_rechazado(const struct resp *r, const char *clasifica, const char *codigo, const char *descripcion)
{
	expect_status(r, 400);
	assert_string_equal(jstr(r, "estado"), "RECHAZADO");
	assert_true(json_is_null(json_object_get(r->json, "selloRecibido")));
	assert_string_equal(jstr(r, "codigoMsg"), codigo);
	if (clasifica)
		assert_string_equal(jstr(r, "clasificaMsg"), clasifica);
	if (descripcion && strcmp(jstr(r, "descripcionMsg"), descripcion) != 0)
		fail_msg("descripcionMsg \"%s\", wanted \"%s\"", jstr(r, "descripcionMsg"), descripcion);
}

/* A sealed document of tmpl; returns the owned doc text, sello in sello[41]. */
static char *sealed(const char *tok, const char *tmpl, char sello[41])
{
	char *doc = fresh(tmpl);
	struct resp *r = send_doc(&S, tok, doc);
	expect_procesado(r);
	snprintf(sello, 41, "%s", jstr(r, "selloRecibido"));
	resp_free(r);
	return doc;
}

static void clock_offset(const struct sbx *s, long seconds)
{
	char body[64];
	snprintf(body, sizeof(body), "{\"offsetSeconds\":%ld}", seconds);
	put_json(s, "PUT", "/_sandbox/clock", body);
}

/* ---- setup ---- */

static int group_setup(void **state)
{
	char path[256];
	FILE *f;
	(void)state;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pk_a = EVP_RSA_gen(2048);
	pk_b = EVP_RSA_gen(2048);
	key_a = private_key(pk_a);
	key_b = private_key(pk_b);
	pub_pem_a = public_pem(pk_a);
	pub_pem_b = public_pem(pk_b);
	if (!key_a || !key_b)
		return -1;
	snprintf(certs_dir, sizeof(certs_dir), "/tmp/test_mh_sandbox_certs_XXXXXX");
	if (!mkdtemp(certs_dir))
		return -1;
	/* the emisor's registered public key, as MH holds it */
	snprintf(path, sizeof(path), "%s/%s.pem", certs_dir, NIT);
	f = fopen(path, "w");
	fputs(pub_pem_a, f);
	fclose(f);
	return sbx_start(&S, NULL, NULL, NULL);
}

static int group_teardown(void **state)
{
	char cmd[200];
	(void)state;
	int st = sbx_stop(&S, false);
	bool bad = false;
	log_scan(&S, &bad);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", S.dir, certs_dir);
	if (system(cmd) != 0)
		bad = true;
	jws_key_free(key_a);
	jws_key_free(key_b);
	EVP_PKEY_free(pk_a);
	EVP_PKEY_free(pk_b);
	free(pub_pem_a);
	free(pub_pem_b);
	curl_global_cleanup();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		print_error("sandbox exit status %d\n", st);
		return -1;
	}
	return bad ? -1 : 0;
}

/* every test starts with no faults and the real clock */
static int test_setup(void **state)
{
	(void)state;
	struct resp *r = http(&S, "DELETE", "/_sandbox/faults", NULL, NULL, NULL, 0);
	long st = r->status;
	resp_free(r);
	r = http(&S, "PUT", "/_sandbox/clock", NULL, "application/json", "{\"offsetSeconds\":0}", 0);
	st = st == 200 ? r->status : st;
	resp_free(r);
	return st == 200 ? 0 : -1;
}

/* ---- authentication ---- */

static void test_auth(void **state)
{
	(void)state;
	struct resp *r = http(&S, "POST", "/seguridad/auth", NULL, "application/x-www-form-urlencoded",
			      "user=" NIT "&pwd=Api-Password-2025%21", 0);
	expect_status(r, 200);
	assert_string_equal(jstr(r, "status"), "OK");
	const json_t *body = json_object_get(r->json, "body");
	assert_string_equal(json_string_value(json_object_get(body, "user")), NIT);
	const char *tok = json_string_value(json_object_get(body, "token"));
	/* "Bearer " + an HS512 JWT, as MH's */
	assert_true(strncmp(tok, "Bearer eyJhbGciOiJIUzUxMiJ9.", 28) == 0);
	assert_string_equal(json_string_value(json_object_get(body, "tokenType")), "Bearer");
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "rol"), "codigo")), "ROLE_USER");
	assert_string_equal(json_string_value(json_array_get(json_object_get(body, "roles"), 0)), "ROLE_USER");
	resp_free(r);

	/* wrong password, unknown user */
	r = http(&S, "POST", "/seguridad/auth", NULL, "application/x-www-form-urlencoded", "user=" NIT "&pwd=mala", 0);
	expect_status(r, 401);
	assert_string_equal(jstr(r, "status"), "ERROR");
	assert_string_equal(jstr(r, "message"), "Usuario no valido");
	resp_free(r);
	r = http(&S, "POST", "/seguridad/auth", NULL, "application/x-www-form-urlencoded",
		 "user=09999999999999&pwd=" PWD, 0);
	expect_status(r, 401);
	resp_free(r);
	/* JSON instead of a form (a common client mistake), missing pwd */
	r = http(&S, "POST", "/seguridad/auth", NULL, "application/json", "{\"user\":\"" NIT "\",\"pwd\":\"" PWD "\"}",
		 0);
	expect_status(r, 400);
	resp_free(r);
	r = http(&S, "POST", "/seguridad/auth", NULL, "application/x-www-form-urlencoded", "user=" NIT, 0);
	expect_status(r, 400);
	resp_free(r);
	/* GET is not the method */
	r = get(&S, "/seguridad/auth");
	expect_status(r, 405);
	resp_free(r);
}

static void test_token_required_and_invalid(void **state)
{
	(void)state;
	char *doc = fresh(DOC_FE);
	char *jws = sign_doc(doc, key_a);
	char *env = envelope(doc, jws);
	struct resp *r = send_env(&S, NULL, env);
	expect_status(r, 401);
	assert_string_equal(jstr(r, "codigoMsg"), "108");
	resp_free(r);
	r = send_env(&S, "Bearer nada", env);
	expect_status(r, 401);
	assert_string_equal(jstr(r, "codigoMsg"), "107");
	resp_free(r);
	/* a token with a changed signature */
	char *tok = login(&S, NIT, PWD);
	tok[strlen(tok) - 3] = tok[strlen(tok) - 3] == 'A' ? 'B' : 'A';
	r = send_env(&S, tok, env);
	expect_status(r, 401);
	resp_free(r);
	/* without the "Bearer " prefix */
	free(tok);
	tok = login(&S, NIT, PWD);
	r = send_env(&S, tok + 7, env);
	expect_status(r, 401);
	resp_free(r);
	/* nothing was received */
	char path[128];
	snprintf(path, sizeof(path), "/_sandbox/documents/%s", code_of(doc));
	r = get(&S, path);
	expect_status(r, 404);
	resp_free(r);
	free(tok);
	free(env);
	free(jws);
	free(doc);
}

static void test_token_expiry(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *doc = fresh(DOC_FE);
	/* 24 h later (sandbox clock) the token is expired: 401, log in again */
	clock_offset(&S, 86400 + 5);
	struct resp *r = send_doc(&S, tok, doc);
	expect_status(r, 401);
	resp_free(r);
	char *tok2 = login(&S, NIT, PWD);
	clock_offset(&S, 0);
	/* the new token was issued "tomorrow": still valid today */
	r = send_doc(&S, tok2, doc);
	expect_procesado(r);
	resp_free(r);
	/* revoke every token */
	put_json(&S, "POST", "/_sandbox/tokens/expire", "{}");
	free(doc);
	doc = fresh(DOC_FE);
	r = send_doc(&S, tok2, doc);
	expect_status(r, 401);
	resp_free(r);
	free(tok2);
	tok2 = login(&S, NIT, PWD);
	r = send_doc(&S, tok2, doc);
	expect_procesado(r);
	resp_free(r);
	free(tok2);
	free(tok);
	free(doc);
}

static void test_short_token_ttl(void **state)
{
	struct sbx s2;
	const char *args[] = {"--token-ttl", "1", NULL};
	(void)state;
	assert_int_equal(sbx_start(&s2, args, NULL, NULL), 0);
	char *tok = login(&s2, NIT, PWD);
	char *doc = fresh(DOC_FE);
	sleep(2);
	struct resp *r = send_doc(&s2, tok, doc);
	expect_status(r, 401);
	resp_free(r);
	free(tok);
	tok = login(&s2, NIT, PWD);
	r = send_doc(&s2, tok, doc);
	expect_procesado(r);
	resp_free(r);
	assert_int_equal(sbx_stop(&s2, false), 0);
	sbx_cleanup(&s2);
	free(tok);
	free(doc);
}

/* ---- reception ---- */

static void test_reception_accepted(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	static const char *const tmpls[] = {DOC_FE, DOC_CCF, DOC_FSE};
	for (size_t i = 0; i < 3; i++) {
		char *doc = fresh(tmpls[i]);
		struct resp *r = send_doc(&S, tok, doc);
		expect_procesado(r);
		/* MH's answer, field by field */
		assert_int_equal(json_integer_value(json_object_get(r->json, "version")), 2);
		assert_int_equal(json_integer_value(json_object_get(r->json, "versionApp")), 2);
		assert_string_equal(jstr(r, "ambiente"), "00");
		assert_string_equal(jstr(r, "codigoGeneracion"), code_of(doc));
		assert_string_equal(jstr(r, "codigoMsg"), "001");
		assert_string_equal(jstr(r, "descripcionMsg"), "RECIBIDO");
		assert_int_equal(json_array_size(json_object_get(r->json, "observaciones")), 0);
		const char *fh = jstr(r, "fhProcesamiento");
		int dd, mm, yy, h, m, sec;
		assert_int_equal(strlen(fh), 19);
		assert_int_equal(sscanf(fh, "%2d/%2d/%4d %2d:%2d:%2d", &dd, &mm, &yy, &h, &m, &sec), 6);
		char today[11];
		sv_date(0, today);
		char expect_day[11];
		snprintf(expect_day, sizeof(expect_day), "%04d-%02d-%02d", yy, mm, dd);
		if (strcmp(today, expect_day) != 0) /* unless midnight passed in between */
			sv_date(-5, today);
		assert_string_equal(today, expect_day);
		resp_free(r);
		free(doc);
	}
	free(tok);
}

static void test_duplicates(void **state)
{
	char sello[41];
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *doc = sealed(tok, DOC_CCF, sello);
	/* the same codigoGeneracion again */
	struct resp *r = send_doc(&S, tok, doc);
	expect_rechazado(r, "11", "004", "[identificacion.codigoGeneracion] YA EXISTE UN REGISTRO CON ESE VALOR");
	assert_string_equal(jstr(r, "codigoGeneracion"), code_of(doc));
	resp_free(r);
	/* the same numeroControl with another codigoGeneracion */
	char code[UUID_LEN + 1];
	uuid_v4_upper(code);
	char *again = xstrdup(doc);
	set_str(&again, "identificacion.codigoGeneracion", code);
	r = send_doc(&S, tok, again);
	expect_rechazado(r, "11", "004", "[identificacion.numeroControl] YA EXISTE UN REGISTRO CON ESE VALOR");
	resp_free(r);
	/* the first one still holds its sello; three attempts named it */
	char path[128];
	snprintf(path, sizeof(path), "/_sandbox/documents/%s", code_of(doc));
	r = get(&S, path);
	expect_status(r, 200);
	assert_string_equal(jstr(r, "selloRecibido"), sello);
	assert_int_equal(json_integer_value(json_object_get(r->json, "attempts")), 2);
	assert_string_equal(jstr(r, "estado"), "PROCESADO");
	resp_free(r);
	free(again);
	free(doc);
	free(tok);
}

static void test_signature_checks(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	/* signed with a key MH does not hold for this NIT */
	char *doc = fresh(DOC_FE);
	char *jws = sign_doc(doc, key_b);
	char *env = envelope(doc, jws);
	struct resp *r = send_env(&S, tok, env);
	expect_rechazado(r, "20", "802", "No valido");
	resp_free(r);
	free(env);
	free(jws);
	/* an RS256 header */
	char *h = b64url_encode("{\"alg\":\"RS256\"}", 15);
	char *good = sign_doc(doc, key_a);
	char *bad = xasprintf("%s%s", h, strchr(good, '.'));
	env = envelope(doc, bad);
	r = send_env(&S, tok, env);
	expect_rechazado(r, "20", "802", NULL);
	resp_free(r);
	free(env);
	free(bad);
	/* truncated: two parts */
	bad = xstrndup(good, (size_t)(strrchr(good, '.') - good));
	env = envelope(doc, bad);
	r = send_env(&S, tok, env);
	expect_rechazado(r, "20", "802", NULL);
	resp_free(r);
	free(env);
	free(bad);
	free(good);
	free(h);
	/* the document of another emisor under this token */
	char *other = edit(doc, "emisor.nit", "\"" NIT_NOKEY "\"");
	r = send_doc(&S, tok, other);
	expect_rechazado(r, "12", "008", "[emisor.nit] NO CORRESPONDE A CONTRIBUYENTE");
	resp_free(r);
	/* an emisor with an API user but no registered public key */
	char *tok2 = login(&S, NIT_NOKEY, PWD_NOKEY);
	r = send_doc(&S, tok2, other);
	expect_rechazado(r, "20", "803", "No existe llave publica para este nit");
	resp_free(r);
	free(tok2);
	free(other);
	/* the good one still goes through */
	r = send_doc(&S, tok, doc);
	expect_procesado(r);
	resp_free(r);
	free(doc);
	free(tok);
}

static void test_envelope_checks(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *doc = fresh(DOC_FE);
	char *jws = sign_doc(doc, key_a);
	char *code = xstrdup(code_of(doc));
	struct {
		const char *env_fmt; /* %s = jws, %s = code */
		const char *clasifica, *codigo, *descripcion;
	} cases[] = {
	    {"{\"ambiente\":\"00\",\"idEnvio\":1,\"version\":3,\"tipoDte\":\"01\",\"documento\":\"%s\","
	     "\"codigoGeneracion\":\"%s\"}",
	     "11", "027", "[identificacion.version] DATO NO COINCIDE CON DTE"},
	    {"{\"ambiente\":\"00\",\"idEnvio\":1,\"version\":1,\"tipoDte\":\"03\",\"documento\":\"%s\","
	     "\"codigoGeneracion\":\"%s\"}",
	     "11", "027", "[identificacion.tipoDte] DATO NO COINCIDE CON DTE"},
	    {"{\"ambiente\":\"00\",\"version\":1,\"tipoDte\":\"01\",\"documento\":\"%s\",\"codigoGeneracion\":\"%s\"}",
	     "11", "005", "[idEnvio] DEBE PROPORCIONAR UN VALOR"},
	    {"{\"ambiente\":\"00\",\"idEnvio\":\"1\",\"version\":1,\"tipoDte\":\"01\",\"documento\":\"%s\","
	     "\"codigoGeneracion\":\"%s\"}",
	     "11", "006", "[idEnvio] FORMATO NO VALIDO"},
	    {"{\"ambiente\":\"01\",\"idEnvio\":1,\"version\":1,\"tipoDte\":\"01\",\"documento\":\"%s\","
	     "\"codigoGeneracion\":\"%s\"}",
	     "11", "003", "[ambiente] VALOR NO VALIDO"},
	    {"{\"ambiente\":\"00\",\"idEnvio\":1,\"version\":1,\"tipoDte\":\"01\",\"documento\":\"%s\"}", "11", "005",
	     "[codigoGeneracion] DEBE PROPORCIONAR UN VALOR"},
	    {"{\"ambiente\":\"00\",\"idEnvio\":1,\"version\":1,\"tipoDte\":\"99\",\"documento\":\"%s\","
	     "\"codigoGeneracion\":\"%s\"}",
	     "11", "027", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *env = xasprintf(cases[i].env_fmt, jws, code);
		struct resp *r = send_env(&S, tok, env);
		expect_rechazado(r, cases[i].clasifica, cases[i].codigo, cases[i].descripcion);
		resp_free(r);
		free(env);
	}
	/* lower-case codigoGeneracion, another document's code */
	char *lower = xstrdup(code);
	for (char *c = lower; *c; c++)
		*c = (char)((*c >= 'A' && *c <= 'F') ? *c + 32 : *c);
	char *env =
	    xasprintf("{\"ambiente\":\"00\",\"idEnvio\":1,\"version\":1,\"tipoDte\":\"01\",\"documento\":\"%s\","
		      "\"codigoGeneracion\":\"%s\"}",
		      jws, lower);
	struct resp *r = send_env(&S, tok, env);
	expect_rechazado(r, "11", "006", "[codigoGeneracion] FORMATO NO VALIDO");
	resp_free(r);
	free(env);
	env = xasprintf("{\"ambiente\":\"00\",\"idEnvio\":1,\"version\":1,\"tipoDte\":\"01\",\"documento\":\"%s\","
			"\"codigoGeneracion\":\"00000000-0000-4000-8000-000000000000\"}",
			jws);
	r = send_env(&S, tok, env);
	expect_rechazado(r, "11", "027", "[identificacion.codigoGeneracion] DATO NO COINCIDE CON DTE");
	resp_free(r);
	free(env);
	/* not JSON */
	r = send_env(&S, tok, "{\"ambiente\":");
	expect_rechazado(r, "98", "098", "DATOS NO CUMPLEN ESTANDAR JSON");
	resp_free(r);
	/* and after all that, the document itself is fine */
	r = send_doc(&S, tok, doc);
	expect_procesado(r);
	resp_free(r);
	free(lower);
	free(code);
	free(jws);
	free(doc);
	free(tok);
}

static void test_schema_rejection(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *doc = fresh(DOC_CCF);
	set(&doc, "resumen.totalPagar", NULL);
	set(&doc, "emisor.web", "\"x\"");
	struct resp *r = send_doc(&S, tok, doc);
	expect_rechazado(r, "98", "096", "DOCUMENTO NO CUMPLE ESQUEMA JSON");
	char *obs = json_dumps(json_object_get(r->json, "observaciones"), 0);
	assert_non_null(strstr(obs, "[resumen.totalPagar] is required"));
	assert_non_null(strstr(obs, "[emisor.web] is not allowed"));
	free(obs);
	resp_free(r);
	/* a multipleOf violation is a schema error, an exact 1.15 is not */
	free(doc);
	doc = fresh(DOC_CCF);
	set(&doc, "resumen.totalNoGravado", "0.001");
	r = send_doc(&S, tok, doc);
	expect_rechazado(r, "98", "096", NULL);
	resp_free(r);
	free(doc);
	free(tok);
}

static void test_business_rules(void **state)
{
	char day[11];
	(void)state;
	char *tok = login(&S, NIT, PWD);
	/* IVA total off by more than 0.01 (MH's observed answer) */
	char *doc = fresh(DOC_FE);
	set(&doc, "resumen.totalIva", "4.05");
	struct resp *r = send_doc(&S, tok, doc);
	expect_rechazado(r, "16", "020", "[resumen.totalIva] CALCULO INCORRECTO");
	resp_free(r);
	free(doc);
	/* within the +/-0.01 holgura: accepted */
	doc = fresh(DOC_FE);
	set(&doc, "resumen.totalIva", "4.04");
	r = send_doc(&S, tok, doc);
	expect_procesado(r);
	resp_free(r);
	free(doc);
	/* a line whose venta is not cantidad x precio */
	doc = fresh(DOC_FE);
	set(&doc, "cuerpoDocumento.1.cantidad", "2");
	r = send_doc(&S, tok, doc);
	expect_rechazado(r, "15", "020", "[cuerpoDocumento.ventaExenta] CALCULO INCORRECTO");
	resp_free(r);
	free(doc);
	/* CCF: IVA (tributo 20) must be 13% of the taxed total */
	doc = fresh(DOC_CCF);
	set(&doc, "resumen.tributos.0.valor", "250");
	r = send_doc(&S, tok, doc);
	expect_rechazado(r, "16", "020", "[resumen.tributos.valor] CALCULO INCORRECTO");
	resp_free(r);
	free(doc);
	/* fecEmi: too old for a normal transmission, or in the future */
	doc = fresh(DOC_FE);
	sv_date(-10 * 86400, day);
	set_str(&doc, "identificacion.fecEmi", day);
	r = send_doc(&S, tok, doc);
	expect_rechazado(r, "11", "018", "[identificacion.fecEmi] FECHA FUERA DE PLAZO PERMITIDO");
	resp_free(r);
	free(doc);
	doc = fresh(DOC_FE);
	sv_date(5 * 86400, day);
	set_str(&doc, "identificacion.fecEmi", day);
	r = send_doc(&S, tok, doc);
	expect_rechazado(r, "11", "017", "[identificacion.fecEmi] FECHA NO ES CORRECTA");
	resp_free(r);
	free(doc);
	/* yesterday is still accepted */
	doc = fresh(DOC_FE);
	sv_date(-86400, day);
	set_str(&doc, "identificacion.fecEmi", day);
	r = send_doc(&S, tok, doc);
	expect_procesado(r);
	resp_free(r);
	free(doc);
	/* correlativo 000000000000000 */
	doc = fresh(DOC_FE);
	set_str(&doc, "identificacion.numeroControl", "DTE-01-00010001-000000000000000");
	r = send_doc(&S, tok, doc);
	expect_rechazado(r, "11", "019", "[identificacion.numeroControl] ERROR EN CORRELATIVO");
	resp_free(r);
	free(doc);
	free(tok);
}

static void test_calc_observe_mode(void **state)
{
	struct sbx s2;
	const char *args[] = {"--calc-observe", NULL};
	(void)state;
	assert_int_equal(sbx_start(&s2, args, NULL, NULL), 0);
	char *tok = login(&s2, NIT, PWD);
	char *doc = fresh(DOC_FE);
	set(&doc, "resumen.totalIva", "4.50");
	struct resp *r = send_doc(&s2, tok, doc);
	expect_procesado(r);
	assert_string_equal(jstr(r, "codigoMsg"), "002");
	assert_string_equal(jstr(r, "descripcionMsg"), "RECIBIDO CON OBSERVACIONES");
	assert_string_equal(json_string_value(json_array_get(json_object_get(r->json, "observaciones"), 0)),
			    "[resumen.totalIva] CALCULO INCORRECTO");
	resp_free(r);
	assert_int_equal(sbx_stop(&s2, false), 0);
	sbx_cleanup(&s2);
	free(tok);
	free(doc);
}

static struct resp *consulta(const struct sbx *s, const char *tok, const char *nit, const char *tdte, const char *code)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"nitEmisor\":\"%s\",\"tdte\":\"%s\",\"codigoGeneracion\":\"%s\"}", nit, tdte,
		 code);
	return http(s, "POST", "/fesv/recepcion/consultadte/", tok, "application/json", body, 0);
}

static void test_consultadte(void **state)
{
	char sello[41];
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *doc = sealed(tok, DOC_FE, sello);
	struct resp *r = consulta(&S, tok, NIT, "01", code_of(doc));
	expect_procesado(r);
	assert_string_equal(jstr(r, "selloRecibido"), sello);
	assert_string_equal(jstr(r, "codigoGeneracion"), code_of(doc));
	resp_free(r);
	/* never received */
	r = consulta(&S, tok, NIT, "01", "00000000-0000-4000-8000-000000000001");
	expect_status(r, 404);
	assert_true(json_is_null(json_object_get(r->json, "estado")));
	assert_string_equal(jstr(r, "codigoMsg"), "014");
	resp_free(r);
	/* another type, another contributor */
	r = consulta(&S, tok, NIT, "03", code_of(doc));
	expect_status(r, 404);
	resp_free(r);
	r = consulta(&S, tok, NIT_NOKEY, "01", code_of(doc));
	expect_rechazado(r, "12", "008", "[nitEmisor] NO CORRESPONDE A CONTRIBUYENTE");
	resp_free(r);
	r = http(&S, "POST", "/fesv/recepcion/consultadte/", NULL, "application/json", "{}", 0);
	expect_status(r, 401);
	resp_free(r);
	/* a rejected document shows RECHAZADO; corrected, it is accepted with the same code */
	char *bad = fresh(DOC_FE);
	set(&bad, "resumen.totalIva", "9.99");
	r = send_doc(&S, tok, bad);
	expect_rechazado(r, "16", "020", NULL);
	resp_free(r);
	r = consulta(&S, tok, NIT, "01", code_of(bad));
	expect_status(r, 200);
	assert_string_equal(jstr(r, "estado"), "RECHAZADO");
	assert_string_equal(jstr(r, "codigoMsg"), "020");
	resp_free(r);
	set(&bad, "resumen.totalIva", "4.03");
	r = send_doc(&S, tok, bad);
	expect_procesado(r);
	resp_free(r);
	r = consulta(&S, tok, NIT, "01", code_of(bad));
	expect_procesado(r);
	resp_free(r);
	free(bad);
	free(doc);
	free(tok);
}

/* ---- invalidation ---- */

static char *invalidation(const char *target_doc, const char *sello, int motive, const char *replacement)
{
	char code[UUID_LEN + 1], today[11], now[9], tipo[3], nc[40], fec[11], buf[64];
	uuid_v4_upper(code);
	sv_date(0, today);
	sv_time(0, now);
	char *d = xstrdup(DOC_ANULACION);
	set_str(&d, "identificacion.codigoGeneracion", code);
	set_str(&d, "identificacion.fecAnula", today);
	set_str(&d, "identificacion.horAnula", now);
	doc_str(target_doc, "identificacion.tipoDte", tipo, sizeof(tipo));
	doc_str(target_doc, "identificacion.numeroControl", nc, sizeof(nc));
	doc_str(target_doc, "identificacion.fecEmi", fec, sizeof(fec));
	set_str(&d, "documento.tipoDte", tipo);
	set_str(&d, "documento.codigoGeneracion", code_of(target_doc));
	set_str(&d, "documento.selloRecibido", sello);
	set_str(&d, "documento.numeroControl", nc);
	set_str(&d, "documento.fecEmi", fec);
	snprintf(buf, sizeof(buf), "%d", motive);
	set(&d, "motivo.tipoAnulacion", buf);
	if (replacement)
		set_str(&d, "documento.codigoGeneracionR", replacement);
	if (motive == 3)
		set_str(&d, "motivo.motivoAnulacion", "Datos del receptor equivocados");
	return d;
}

static struct resp *send_invalidation(const char *tok, const char *event, const struct jws_key *key)
{
	char *jws = sign_doc(event, key);
	char *env =
	    xasprintf("{\"ambiente\":\"00\",\"idEnvio\":%d,\"version\":2,\"documento\":\"%s\"}", ++doc_counter, jws);
	struct resp *r = http(&S, "POST", "/fesv/anulardte", tok, "application/json", env, 0);
	free(env);
	free(jws);
	return r;
}

static void test_invalidation(void **state)
{
	char sello[41], sello2[41];
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *doc = sealed(tok, DOC_FE, sello);
	/* motive 2 (rescindir): no replacement */
	char *ev = invalidation(doc, sello, 2, NULL);
	struct resp *r = send_invalidation(tok, ev, key_a);
	expect_procesado(r);
	assert_string_equal(jstr(r, "codigoGeneracion"), code_of(ev));
	assert_string_equal(jstr(r, "codigoMsg"), "001");
	resp_free(r);
	/* the event itself cannot be sent twice, the DTE cannot be invalidated twice */
	r = send_invalidation(tok, ev, key_a);
	expect_rechazado(r, "11", "004", NULL);
	resp_free(r);
	free(ev);
	ev = invalidation(doc, sello, 2, NULL);
	r = send_invalidation(tok, ev, key_a);
	expect_rechazado(r, "11", "015", "[documento.codigoGeneracion] DOCUMENTO SE ENCUENTA ANULADO");
	resp_free(r);
	free(ev);
	char path[128];
	snprintf(path, sizeof(path), "/_sandbox/documents/%s", code_of(doc));
	r = get(&S, path);
	assert_true(json_is_true(json_object_get(r->json, "invalidated")));
	resp_free(r);
	free(doc);

	/* unknown document, wrong sello, signature of another key */
	doc = sealed(tok, DOC_FE, sello);
	char *unknown = fresh(DOC_FE);
	char ucode[UUID_LEN + 1];
	snprintf(ucode, sizeof(ucode), "%s", code_of(unknown));
	ev = invalidation(unknown, sello, 2, NULL);
	r = send_invalidation(tok, ev, key_a);
	expect_rechazado(r, "11", "014", "[documento.codigoGeneracion] NO EXISTE UN REGISTRO CON ESTE DATO");
	resp_free(r);
	free(ev);
	ev = invalidation(doc, "2025AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 2, NULL);
	r = send_invalidation(tok, ev, key_a);
	expect_rechazado(r, "11", "027", "[documento.selloRecibido] DATO NO COINCIDE CON DTE");
	resp_free(r);
	free(ev);
	ev = invalidation(doc, sello, 2, NULL);
	r = send_invalidation(tok, ev, key_b);
	expect_rechazado(r, "20", "802", NULL);
	resp_free(r);
	free(ev);
	/* motive 1 needs a sealed replacement */
	ev = invalidation(doc, sello, 1, ucode);
	r = send_invalidation(tok, ev, key_a);
	expect_rechazado(r, "11", "014", "[documento.codigoGeneracionR] NO EXISTE UN REGISTRO CON ESTE DATO");
	resp_free(r);
	free(ev);
	char *replacement = sealed(tok, DOC_FE, sello2);
	char rcode[UUID_LEN + 1];
	snprintf(rcode, sizeof(rcode), "%s", code_of(replacement)); /* code_of's buffer is reused */
	ev = invalidation(doc, sello, 1, rcode);
	r = send_invalidation(tok, ev, key_a);
	expect_procesado(r);
	resp_free(r);
	free(ev);
	/* schema: motive 3 without motivoAnulacion */
	char *other = sealed(tok, DOC_FE, sello);
	ev = invalidation(other, sello, 3, rcode);
	set(&ev, "motivo.motivoAnulacion", "null");
	r = send_invalidation(tok, ev, key_a);
	expect_rechazado(r, "98", "096", NULL);
	resp_free(r);
	free(ev);
	free(other);
	free(replacement);
	free(unknown);
	free(doc);
	free(tok);
}

static void test_invalidation_deadlines(void **state)
{
	char s_ccf[41], s_fe[41];
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *ccf = sealed(tok, DOC_CCF, s_ccf);
	char *fe = sealed(tok, DOC_FE, s_fe);
	/* three days later: a CCF is out of time (until the end of the next day), a Factura is not (3 months) */
	clock_offset(&S, 3 * 86400);
	free(tok);
	tok = login(&S, NIT, PWD);
	char *ev = invalidation(ccf, s_ccf, 2, NULL);
	struct resp *r = send_invalidation(tok, ev, key_a);
	expect_rechazado(r, "11", "018", "[identificacion.fecAnula] FECHA FUERA DE PLAZO PERMITIDO");
	resp_free(r);
	free(ev);
	ev = invalidation(fe, s_fe, 2, NULL);
	r = send_invalidation(tok, ev, key_a);
	expect_procesado(r);
	resp_free(r);
	free(ev);
	/* four months later a Factura is out of time too */
	clock_offset(&S, 0);
	free(tok);
	tok = login(&S, NIT, PWD);
	char *fe2 = sealed(tok, DOC_FE, s_fe);
	clock_offset(&S, 124 * 86400);
	free(tok);
	tok = login(&S, NIT, PWD);
	ev = invalidation(fe2, s_fe, 2, NULL);
	r = send_invalidation(tok, ev, key_a);
	expect_rechazado(r, "11", "018", NULL);
	resp_free(r);
	free(ev);
	clock_offset(&S, 0);
	free(fe2);
	free(fe);
	free(ccf);
	free(tok);
}

/* ---- credit notes ---- */

static void test_credit_note(void **state)
{
	char s_ccf[41], s_nc[41], fec[11];
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *ccf = sealed(tok, DOC_CCF, s_ccf);
	doc_str(ccf, "identificacion.fecEmi", fec, sizeof(fec));
	char *nc = fresh(DOC_NC);
	set_str(&nc, "documentoRelacionado.0.numeroDocumento", code_of(ccf));
	set_str(&nc, "documentoRelacionado.0.fechaEmision", fec);
	set_str(&nc, "cuerpoDocumento.0.numeroDocumento", code_of(ccf));
	struct resp *r = send_doc(&S, tok, nc);
	expect_procesado(r);
	snprintf(s_nc, sizeof(s_nc), "%s", jstr(r, "selloRecibido"));
	resp_free(r);
	/* a note against an unknown document */
	char *nc2 = fresh(DOC_NC);
	r = send_doc(&S, tok, nc2);
	expect_rechazado(r, "14", "014", "[documentoRelacionado.numeroDocumento] NO EXISTE UN REGISTRO CON ESTE DATO");
	resp_free(r);
	free(nc2);
	/* a credit note larger than the CCF (2260.00) */
	nc2 = fresh(DOC_NC);
	set_str(&nc2, "documentoRelacionado.0.numeroDocumento", code_of(ccf));
	set_str(&nc2, "cuerpoDocumento.0.numeroDocumento", code_of(ccf));
	set(&nc2, "cuerpoDocumento.0.precioUni", "2100");
	set(&nc2, "cuerpoDocumento.0.ventaGravada", "2100");
	set(&nc2, "resumen.totalGravada", "2100");
	set(&nc2, "resumen.subTotalVentas", "2100");
	set(&nc2, "resumen.subTotal", "2100");
	set(&nc2, "resumen.tributos.0.valor", "273");
	set(&nc2, "resumen.montoTotalOperacion", "2373");
	r = send_doc(&S, tok, nc2);
	expect_rechazado(r, "14", "016",
			 "[resumen.montoTotalOperacion] MONTO DE OPERACIÓN ES MAYOR AL DOCUMENTO RELACIONADO");
	resp_free(r);
	free(nc2);
	/* an item naming a document that is not related */
	nc2 = fresh(DOC_NC);
	set_str(&nc2, "documentoRelacionado.0.numeroDocumento", code_of(ccf));
	r = send_doc(&S, tok, nc2);
	expect_rechazado(r, "15", "027", "[cuerpoDocumento.numeroDocumento] DATO NO COINCIDE CON DTE");
	resp_free(r);
	free(nc2);
	/* the CCF cannot be invalidated while a live note refers to it */
	char *ev = invalidation(ccf, s_ccf, 2, NULL);
	r = send_invalidation(tok, ev, key_a);
	expect_rechazado(r, "14", "028", "[documento.codigoGeneracion] DTE ESTA RELACIONADO CON OTRO DTE");
	resp_free(r);
	free(ev);
	/* invalidate the note first (its replacement may be null), then the CCF */
	ev = invalidation(nc, s_nc, 2, NULL);
	r = send_invalidation(tok, ev, key_a);
	expect_procesado(r);
	resp_free(r);
	free(ev);
	ev = invalidation(ccf, s_ccf, 2, NULL);
	r = send_invalidation(tok, ev, key_a);
	expect_procesado(r);
	resp_free(r);
	free(ev);
	free(nc);
	free(ccf);
	free(tok);
}

/* ---- contingency ---- */

static char *contingency_event(const char *const *codes, const char *const *types, size_t n, int64_t end_offset_s)
{
	char code[UUID_LEN + 1], d[11], t[9], start_d[11], start_t[9];
	uuid_v4_upper(code);
	char *ev = xstrdup(DOC_CONTINGENCIA);
	set_str(&ev, "identificacion.codigoGeneracion", code);
	sv_date(0, d);
	sv_time(0, t);
	set_str(&ev, "identificacion.fTransmision", d);
	set_str(&ev, "identificacion.hTransmision", t);
	sv_date(end_offset_s - 3600, start_d);
	sv_time(end_offset_s - 3600, start_t);
	sv_date(end_offset_s, d);
	sv_time(end_offset_s, t);
	set_str(&ev, "motivo.fInicio", start_d);
	set_str(&ev, "motivo.hInicio", start_t);
	set_str(&ev, "motivo.fFin", d);
	set_str(&ev, "motivo.hFin", t);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:I, s:s, s:s}", "noItem", (json_int_t)(i + 1),
						      "codigoGeneracion", codes[i], "tipoDoc", types[i]));
	char *text = json_dumps(list, JSON_COMPACT);
	set(&ev, "detalleDTE", text);
	free(text);
	json_decref(list);
	return ev;
}

static struct resp *send_contingency(const char *tok, const char *ev)
{
	char *jws = sign_doc(ev, key_a);
	char *env = xasprintf("{\"nit\":\"%s\",\"documento\":\"%s\"}", NIT, jws);
	struct resp *r = http(&S, "POST", "/fesv/contingencia", tok, "application/json", env, 0);
	free(env);
	free(jws);
	return r;
}

static char *contingency_doc(const char *tmpl)
{
	char *d = fresh(tmpl);
	set(&d, "identificacion.tipoModelo", "2");
	set(&d, "identificacion.tipoOperacion", "2");
	set(&d, "identificacion.tipoContingencia", "1");
	/* issued during the outage, an hour ago */
	char t[9], day[11];
	sv_date(-3600, day);
	sv_time(-3600, t);
	set_str(&d, "identificacion.fecEmi", day);
	set_str(&d, "identificacion.horEmi", t);
	return d;
}

static void test_contingency(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *d1 = contingency_doc(DOC_FE), *d2 = contingency_doc(DOC_CCF), *d3 = contingency_doc(DOC_FE);
	char c1[UUID_LEN + 1], c2[UUID_LEN + 1];
	snprintf(c1, sizeof(c1), "%s", code_of(d1));
	snprintf(c2, sizeof(c2), "%s", code_of(d2));
	/* before the event: 012 */
	struct resp *r = send_doc(&S, tok, d1);
	expect_rechazado(r, "11", "012", "[identificacion.codigoGeneracion] NO EXISTE EVENTO DE CONTINGENCIA");
	resp_free(r);
	/* the event, the outage ended a few minutes ago */
	const char *codes[] = {c1, c2}, *types[] = {"01", "03"};
	char *ev = contingency_event(codes, types, 2, -300);
	r = send_contingency(tok, ev);
	expect_status(r, 200);
	assert_string_equal(jstr(r, "estado"), "RECIBIDO");
	assert_string_equal(jstr(r, "mensaje"), "Documento recibido");
	assert_int_equal(strlen(jstr(r, "selloRecibido")), 40);
	assert_int_equal(strlen(jstr(r, "fechaHora")), 19);
	assert_int_equal(json_array_size(json_object_get(r->json, "observaciones")), 0);
	resp_free(r);
	/* the same event again */
	r = send_contingency(tok, ev);
	expect_status(r, 400);
	assert_string_equal(jstr(r, "estado"), "RECHAZADO");
	assert_string_equal(jstr(r, "mensaje"), "Validaciones no superadas");
	resp_free(r);
	free(ev);
	/* listed documents are received; an unlisted one is not */
	r = send_doc(&S, tok, d1);
	expect_procesado(r);
	resp_free(r);
	r = send_doc(&S, tok, d3);
	expect_rechazado(r, "11", "012", NULL);
	resp_free(r);
	/* 72 hours after the event, a listed document is out of time */
	clock_offset(&S, 73 * 3600);
	free(tok);
	tok = login(&S, NIT, PWD);
	r = send_doc(&S, tok, d2);
	expect_rechazado(r, "11", "018", "[identificacion.codigoGeneracion] FECHA FUERA DE PLAZO PERMITIDO");
	resp_free(r);
	clock_offset(&S, 0);
	free(tok);
	tok = login(&S, NIT, PWD);
	/* an event more than 24 hours after the outage ended */
	char c3[UUID_LEN + 1];
	snprintf(c3, sizeof(c3), "%s", code_of(d3));
	const char *one[] = {c3}, *t1[] = {"01"};
	ev = contingency_event(one, t1, 1, -2 * 86400);
	r = send_contingency(tok, ev);
	expect_status(r, 400);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r->json, "observaciones"), 0)),
			    "[motivo.fFin] FECHA FUERA DE PLAZO PERMITIDO");
	resp_free(r);
	free(ev);
	/* repeated codes, a type not allowed in contingency */
	const char *dup[] = {c1, c1}, *tdup[] = {"01", "01"};
	ev = contingency_event(dup, tdup, 2, -300);
	r = send_contingency(tok, ev);
	expect_status(r, 400);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r->json, "observaciones"), 0)),
			    "[detalleDTE.codigoGeneracion] VALORES REPETIDOS");
	resp_free(r);
	free(ev);
	const char *t15[] = {"15"};
	ev = contingency_event(one, t15, 1, -300);
	r = send_contingency(tok, ev);
	expect_status(r, 400);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r->json, "observaciones"), 0)),
			    "[detalleDTE.tipoDoc] VALOR NO ES PERMITIDO");
	resp_free(r);
	free(ev);
	/* an outage that has not ended yet */
	ev = contingency_event(one, t1, 1, 3600);
	r = send_contingency(tok, ev);
	expect_status(r, 400);
	resp_free(r);
	free(ev);
	/* the nit of the envelope must be the token's */
	r = http(&S, "POST", "/fesv/contingencia", tok, "application/json",
		 "{\"nit\":\"" NIT_NOKEY "\",\"documento\":\"x\"}", 0);
	expect_status(r, 400);
	resp_free(r);
	free(d1);
	free(d2);
	free(d3);
	free(tok);
}

/* ---- fault injection ---- */

static void test_faults_5xx_burst(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	put_json(&S, "PUT", "/_sandbox/faults", "{\"failNext\":2,\"failStatus\":503}");
	char *doc = fresh(DOC_FE);
	for (int i = 0; i < 2; i++) {
		struct resp *r = send_doc(&S, tok, doc);
		expect_status(r, 503);
		resp_free(r);
	}
	struct resp *r = send_doc(&S, tok, doc);
	expect_procesado(r);
	resp_free(r);
	/* a 5xx burst only on reception: auth keeps working */
	put_json(&S, "PUT", "/_sandbox/faults", "{\"failNext\":-1,\"failStatus\":502,\"path\":\"/fesv/recepciondte\"}");
	free(tok);
	tok = login(&S, NIT, PWD);
	free(doc);
	doc = fresh(DOC_FE);
	for (int i = 0; i < 3; i++) {
		r = send_doc(&S, tok, doc);
		expect_status(r, 502);
		resp_free(r);
	}
	r = consulta(&S, tok, NIT, "01", code_of(doc));
	expect_status(r, 404); /* never received */
	resp_free(r);
	put_json(&S, "DELETE", "/_sandbox/faults", NULL);
	r = send_doc(&S, tok, doc);
	expect_procesado(r);
	resp_free(r);
	r = get(&S, "/_sandbox/stats");
	assert_true(json_integer_value(json_object_get(r->json, "faults5xx")) >= 5);
	resp_free(r);
	free(doc);
	free(tok);
}

static void test_faults_hang_drop(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	put_json(&S, "PUT", "/_sandbox/faults", "{\"hangNext\":1,\"hangSeconds\":1,\"hangMode\":\"drop\"}");
	char *doc = fresh(DOC_FE);
	struct resp *r = send_doc(&S, tok, doc);
	/* no answer at all after a second: the connection is closed */
	assert_int_equal(r->cc, CURLE_GOT_NOTHING);
	assert_true(r->ms >= 900);
	resp_free(r);
	/* nothing was received; the next attempt goes through */
	r = consulta(&S, tok, NIT, "01", code_of(doc));
	expect_status(r, 404);
	resp_free(r);
	r = send_doc(&S, tok, doc);
	expect_procesado(r);
	resp_free(r);
	free(doc);
	free(tok);
}

static void test_faults_hang_answer_after_client_timeout(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	put_json(&S, "PUT", "/_sandbox/faults", "{\"hangNext\":1,\"hangSeconds\":2,\"hangMode\":\"answer\"}");
	char *doc = fresh(DOC_FE);
	char *jws = sign_doc(doc, key_a);
	char *env = envelope(doc, jws);
	/* the client gives up after 500 ms ... */
	struct resp *r = http(&S, "POST", "/fesv/recepciondte", tok, "application/json", env, 500);
	assert_int_equal(r->cc, CURLE_OPERATION_TIMEDOUT);
	resp_free(r);
	/* ... but MH processed it: consultadte (README §1.6) shows the sello, a resend is 004 */
	usleep(2500 * 1000);
	r = consulta(&S, tok, NIT, "01", code_of(doc));
	expect_procesado(r);
	resp_free(r);
	r = send_env(&S, tok, env);
	expect_rechazado(r, "11", "004", NULL);
	resp_free(r);
	free(env);
	free(jws);
	free(doc);
	free(tok);
}

static void test_faults_latency_and_forced_rejection(void **state)
{
	(void)state;
	char *tok = login(&S, NIT, PWD);
	put_json(&S, "PUT", "/_sandbox/faults", "{\"latencyMs\":300}");
	char *doc = fresh(DOC_FE);
	struct resp *r = send_doc(&S, tok, doc);
	expect_procesado(r);
	assert_true(r->ms >= 300);
	resp_free(r);
	/* control endpoints are never delayed */
	r = get(&S, "/_sandbox/health");
	assert_true(r->ms < 300);
	resp_free(r);
	put_json(&S, "DELETE", "/_sandbox/faults", NULL);
	/* the next reception is rejected with the code asked for */
	put_json(&S, "PUT", "/_sandbox/faults", "{\"rejectNext\":1,\"rejectCode\":\"020\"}");
	free(doc);
	doc = fresh(DOC_CCF);
	r = send_doc(&S, tok, doc);
	expect_rechazado(r, "16", "020", "CALCULO INCORRECTO");
	resp_free(r);
	/* a rejected document may be sent again */
	r = send_doc(&S, tok, doc);
	expect_procesado(r);
	resp_free(r);
	/* invalid knobs are refused, all or nothing */
	r = http(&S, "PUT", "/_sandbox/faults", NULL, "application/json", "{\"latencyMs\":5,\"rejectCode\":\"001\"}",
		 0);
	expect_status(r, 400);
	assert_string_equal(jstr(r, "field"), "rejectCode");
	resp_free(r);
	r = http(&S, "PUT", "/_sandbox/faults", NULL, "application/json", "{\"hangMode\":\"sometimes\"}", 0);
	expect_status(r, 400);
	resp_free(r);
	r = http(&S, "PUT", "/_sandbox/faults", NULL, "application/json", "{\"unknownKnob\":1}", 0);
	expect_status(r, 400);
	resp_free(r);
	r = get(&S, "/_sandbox/faults");
	assert_int_equal(json_integer_value(json_object_get(r->json, "latencyMs")), 0);
	resp_free(r);
	/* an error rate of 100% */
	put_json(&S, "PUT", "/_sandbox/faults", "{\"errorRatePct\":100,\"failStatus\":500}");
	r = http(&S, "POST", "/seguridad/auth", NULL, "application/x-www-form-urlencoded", "user=" NIT "&pwd=" PWD, 0);
	expect_status(r, 500);
	resp_free(r);
	put_json(&S, "DELETE", "/_sandbox/faults", NULL);
	free(doc);
	free(tok);
}

static void test_faults_from_flags_and_environment(void **state)
{
	struct sbx s2;
	const char *args[] = {"--latency-ms", "50", "--reject-code", "096", NULL};
	const char *env[] = {"MH_SANDBOX_FAIL_NEXT=1", "MH_SANDBOX_REJECT_NEXT=1", NULL};
	(void)state;
	assert_int_equal(sbx_start(&s2, args, env, NULL), 0);
	struct resp *r = get(&s2, "/_sandbox/faults");
	expect_status(r, 200);
	assert_int_equal(json_integer_value(json_object_get(r->json, "latencyMs")), 50);
	assert_int_equal(json_integer_value(json_object_get(r->json, "failNext")), 1);
	assert_string_equal(jstr(r, "rejectCode"), "096");
	resp_free(r);
	r = http(&s2, "POST", "/seguridad/auth", NULL, "application/x-www-form-urlencoded", "user=" NIT "&pwd=" PWD, 0);
	expect_status(r, 503);
	resp_free(r);
	char *tok = login(&s2, NIT, PWD);
	char *doc = fresh(DOC_FE);
	r = send_doc(&s2, tok, doc);
	expect_rechazado(r, "98", "096", NULL);
	resp_free(r);
	r = send_doc(&s2, tok, doc);
	expect_procesado(r);
	resp_free(r);
	assert_int_equal(sbx_stop(&s2, false), 0);
	sbx_cleanup(&s2);
	/* a bad value stops the start-up */
	const char *bad_env[] = {"MH_SANDBOX_HANG_MODE=maybe", NULL};
	assert_int_equal(sbx_start(&s2, NULL, bad_env, NULL), -1);
	sbx_cleanup(&s2);
	free(doc);
	free(tok);
}

/* ---- persistence ---- */

static void test_state_survives_restart(void **state)
{
	struct sbx s2, s3;
	char state_path[256], sello[41];
	(void)state;
	snprintf(state_path, sizeof(state_path), "%s/mh-state.json", certs_dir);
	const char *args[] = {"--state", state_path, NULL};
	assert_int_equal(sbx_start(&s2, args, NULL, NULL), 0);
	char *tok = login(&s2, NIT, PWD);
	char *doc = fresh(DOC_CCF);
	struct resp *r = send_doc(&s2, tok, doc);
	expect_procesado(r);
	snprintf(sello, sizeof(sello), "%s", jstr(r, "selloRecibido"));
	resp_free(r);
	/* an emisor registered at run time */
	json_t *reg = json_pack("{s:s, s:s, s:s}", "nit", "06140507071048", "password", "Tercera-Clave-1",
				"publicKeyPem", pub_pem_b);
	char *body = json_dumps(reg, JSON_COMPACT);
	json_decref(reg);
	r = http(&s2, "POST", "/_sandbox/emisores", NULL, "application/json", body, 0);
	expect_status(r, 201);
	resp_free(r);
	/* kill -9, start again on the same file */
	sbx_stop(&s2, true);
	assert_int_equal(sbx_start(&s3, args, NULL, NULL), 0);
	/* the token issued before the restart is still good, the sello is remembered */
	r = consulta(&s3, tok, NIT, "03", code_of(doc));
	expect_procesado(r);
	assert_string_equal(jstr(r, "selloRecibido"), sello);
	resp_free(r);
	r = send_doc(&s3, tok, doc);
	expect_rechazado(r, "11", "004", NULL);
	resp_free(r);
	char *tok3 = login(&s3, "06140507071048", "Tercera-Clave-1");
	free(tok3);
	struct stat st;
	assert_int_equal(stat(state_path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0); /* holds the token secret */
	assert_int_equal(sbx_stop(&s3, false), 0);
	sbx_cleanup(&s2);
	sbx_cleanup(&s3);
	unlink(state_path);
	free(body);
	free(doc);
	free(tok);
}

/* ---- control endpoints ---- */

static void test_control_endpoints(void **state)
{
	char sello[41];
	(void)state;
	char *tok = login(&S, NIT, PWD);
	char *doc = sealed(tok, DOC_FSE, sello);
	char path[160];
	snprintf(path, sizeof(path), "/_sandbox/documents/%s", code_of(doc));
	struct resp *r = get(&S, path);
	expect_status(r, 200);
	assert_string_equal(jstr(r, "tipoDte"), "14");
	assert_string_equal(jstr(r, "nit"), NIT);
	/* the payload as received, numbers exact */
	assert_non_null(strstr(r->body, "\"precioUni\":1.15"));
	assert_non_null(jstr(r, "documento"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r->json, "response"), "selloRecibido")),
			    sello);
	resp_free(r);
	r = get(&S, "/_sandbox/documents?tipoDte=14&estado=PROCESADO");
	expect_status(r, 200);
	assert_true(json_integer_value(json_object_get(r->json, "count")) >= 1);
	resp_free(r);
	r = get(&S, "/_sandbox/documents?nit=09999999999999");
	assert_int_equal(json_integer_value(json_object_get(r->json, "count")), 0);
	resp_free(r);
	r = get(&S, "/_sandbox/events");
	expect_status(r, 200);
	resp_free(r);
	r = get(&S, "/_sandbox/emisores");
	expect_status(r, 200);
	assert_null(strstr(r->body, "BEGIN")); /* never keys */
	assert_non_null(strstr(r->body, NIT));
	resp_free(r);
	/* register an emisor at run time: key b for a new NIT */
	json_t *reg = json_pack("{s:s, s:s, s:s}", "nit", "06141010101011", "password", "Cuarta-Clave-1",
				"publicKeyPem", pub_pem_b);
	char *body = json_dumps(reg, JSON_COMPACT);
	json_decref(reg);
	r = http(&S, "POST", "/_sandbox/emisores", NULL, "application/json", body, 0);
	expect_status(r, 201);
	resp_free(r);
	free(body);
	char *tok_b = login(&S, "06141010101011", "Cuarta-Clave-1");
	char *doc_b = fresh(DOC_FE);
	set_str(&doc_b, "emisor.nit", "06141010101011");
	char *jws = sign_doc(doc_b, key_b);
	char *env = envelope(doc_b, jws);
	r = send_env(&S, tok_b, env);
	expect_procesado(r);
	resp_free(r);
	free(env);
	free(jws);
	free(doc_b);
	free(tok_b);
	/* bad registrations */
	r = http(&S, "POST", "/_sandbox/emisores", NULL, "application/json", "{\"nit\":\"123\"}", 0);
	expect_status(r, 400);
	resp_free(r);
	r = http(&S, "POST", "/_sandbox/emisores", NULL, "application/json",
		 "{\"nit\":\"06141010101011\",\"publicKeyPem\":\"nope\"}", 0);
	expect_status(r, 400);
	resp_free(r);
	/* stats, clock */
	r = get(&S, "/_sandbox/stats");
	expect_status(r, 200);
	assert_true(json_integer_value(json_object_get(r->json, "procesado")) >= 1);
	assert_true(json_integer_value(json_object_get(r->json, "authOk")) >= 1);
	resp_free(r);
	r = http(&S, "PUT", "/_sandbox/clock", NULL, "application/json", "{\"offsetSeconds\":\"soon\"}", 0);
	expect_status(r, 400);
	resp_free(r);
	r = get(&S, "/_sandbox/clock");
	expect_status(r, 200);
	assert_int_equal(json_integer_value(json_object_get(r->json, "offsetSeconds")), 0);
	resp_free(r);
	/* unknown paths */
	r = http(&S, "POST", "/fesv/recepcionlote/", tok, "application/json", "{}", 0);
	expect_status(r, 404);
	resp_free(r);
	r = get(&S, "/_sandbox/nothing");
	expect_status(r, 404);
	resp_free(r);
	free(doc);
	free(tok);
}

static void test_reset(void **state)
{
	struct sbx s2;
	(void)state;
	assert_int_equal(sbx_start(&s2, NULL, NULL, NULL), 0);
	char *tok = login(&s2, NIT, PWD);
	char *doc = fresh(DOC_FE);
	struct resp *r = send_doc(&s2, tok, doc);
	expect_procesado(r);
	resp_free(r);
	put_json(&s2, "POST", "/_sandbox/reset", "{}");
	r = get(&s2, "/_sandbox/documents");
	assert_int_equal(json_integer_value(json_object_get(r->json, "count")), 0);
	resp_free(r);
	/* forgotten: the same document is accepted again */
	r = send_doc(&s2, tok, doc);
	expect_procesado(r);
	resp_free(r);
	assert_int_equal(sbx_stop(&s2, false), 0);
	sbx_cleanup(&s2);
	free(doc);
	free(tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_auth, test_setup),
	    cmocka_unit_test_setup(test_token_required_and_invalid, test_setup),
	    cmocka_unit_test_setup(test_token_expiry, test_setup),
	    cmocka_unit_test_setup(test_short_token_ttl, test_setup),
	    cmocka_unit_test_setup(test_reception_accepted, test_setup),
	    cmocka_unit_test_setup(test_duplicates, test_setup),
	    cmocka_unit_test_setup(test_signature_checks, test_setup),
	    cmocka_unit_test_setup(test_envelope_checks, test_setup),
	    cmocka_unit_test_setup(test_schema_rejection, test_setup),
	    cmocka_unit_test_setup(test_business_rules, test_setup),
	    cmocka_unit_test_setup(test_calc_observe_mode, test_setup),
	    cmocka_unit_test_setup(test_consultadte, test_setup),
	    cmocka_unit_test_setup(test_invalidation, test_setup),
	    cmocka_unit_test_setup(test_invalidation_deadlines, test_setup),
	    cmocka_unit_test_setup(test_credit_note, test_setup),
	    cmocka_unit_test_setup(test_contingency, test_setup),
	    cmocka_unit_test_setup(test_faults_5xx_burst, test_setup),
	    cmocka_unit_test_setup(test_faults_hang_drop, test_setup),
	    cmocka_unit_test_setup(test_faults_hang_answer_after_client_timeout, test_setup),
	    cmocka_unit_test_setup(test_faults_latency_and_forced_rejection, test_setup),
	    cmocka_unit_test_setup(test_faults_from_flags_and_environment, test_setup),
	    cmocka_unit_test_setup(test_state_survives_restart, test_setup),
	    cmocka_unit_test_setup(test_control_endpoints, test_setup),
	    cmocka_unit_test_setup(test_reset, test_setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
