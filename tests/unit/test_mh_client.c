/*
 * test_mh_client.c - the MH web-service client (src/net/mh.c) against a
 * scripted local HTTP server (a thread in this program): the auth form
 * (content type, URL-encoded fields, no Authorization), the token cache in
 * the client and in a token store (one authentication for many calls, a new
 * one when the token expires), the 401 refresh (once, never a loop), the
 * request bodies of the five services, MH's answers (PROCESADO, RECHAZADO on
 * HTTP 400, an unknown code on consultation), 5xx and garbage as transient,
 * refused credentials, and timeouts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "net/httpc.h"
#include "net/mh.h"

#define USER "06140507071048"
#define PASSWORD "P@ss+word!2025"

/* ---- the scripted server ---- */

struct server {
	int fd;
	int port;
	pthread_t thread;
	pthread_mutex_t mu;
	volatile int stop;
	/* script */
	int token_ttl_s;	/* exp of issued tokens = now + ttl */
	int refuse_tokens_upto; /* tokens with serial <= this get 401 on services */
	int auth_status;	/* 0 = 200 OK; else this status with an error body */
	int auth_error_200;	/* answer auth with 200 {"status":"ERROR"} */
	int fail_next;		/* service requests answered 503 */
	int garbage_next;	/* service requests answered 200 "not json" */
	int delay_ms;		/* every request waits this long */
	int reject;		/* recepciondte answers RECHAZADO */
	/* observations */
	int serial;		/* tokens issued */
	int auth_calls, service_calls;
	char last_path[128];
	char last_ctype[128];
	char last_auth[1024];
	char last_body[8192];
	char auth_body[512];
};

static struct server S;

static char *make_token(int serial, int64_t exp)
{
	char claims[128], *b64, *tok;

	snprintf(claims, sizeof(claims), "{\"sub\":\"%s\",\"serial\":%d,\"iat\":%lld,\"exp\":%lld}", USER, serial,
		 (long long)time_now_s(), (long long)exp);
	b64 = b64url_encode(claims, strlen(claims));
	tok = malloc(strlen(b64) + 64);
	sprintf(tok, "Bearer eyJhbGciOiJIUzUxMiJ9.%s.c2lnbmF0dXJl", b64);
	free(b64);
	return tok;
}

static int token_serial(const char *auth)
{
	const char *p = strchr(auth, '.'), *q;
	unsigned char *raw = NULL;
	size_t n = 0;
	struct err e;
	int serial = -1;
	char part[512];

	if (!p || !(q = strchr(p + 1, '.')) || (size_t)(q - p - 1) >= sizeof(part))
		return -1;
	memcpy(part, p + 1, (size_t)(q - p - 1));
	part[q - p - 1] = '\0';
	err_clear(&e);
	if (b64url_decode(part, &raw, &n, &e) == 0) {
		const char *s = strstr((const char *)raw, "\"serial\":");
		if (s)
			serial = atoi(s + 9);
	}
	free(raw);
	return serial;
}

static void respond(int c, int status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: "
			 "close\r\n\r\n",
			 status, strlen(body));
	send(c, head, (size_t)n, MSG_NOSIGNAL);
	send(c, body, strlen(body), MSG_NOSIGNAL);
}

static const char *header(const char *req, const char *name, char *out, size_t n)
{
	const char *p = req;

	out[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, strlen(name)) == 0 && p[strlen(name)] == ':') {
			const char *v = p + strlen(name) + 1, *end = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			snprintf(out, n, "%.*s", (int)(end - v), v);
			return out;
		}
	}
	return out;
}

static void handle(int c)
{
	char buf[16384], path[128] = "", tmp[1024], *body;
	size_t len = 0;
	long clen = 0;
	ssize_t got;
	char resp[2048];

	while (len < sizeof(buf) - 1 && (got = recv(c, buf + len, sizeof(buf) - 1 - len, 0)) > 0) {
		len += (size_t)got;
		buf[len] = '\0';
		if ((body = strstr(buf, "\r\n\r\n")) != NULL) {
			clen = atol(header(buf, "Content-Length", tmp, sizeof(tmp)));
			if ((long)(len - (size_t)(body + 4 - buf)) >= clen)
				break;
		}
	}
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	body = body ? body + 4 : buf + len;
	sscanf(buf, "POST %127s", path);

	pthread_mutex_lock(&S.mu);
	int delay = S.delay_ms;
	snprintf(S.last_path, sizeof(S.last_path), "%s", path);
	header(buf, "Content-Type", S.last_ctype, sizeof(S.last_ctype));
	header(buf, "Authorization", S.last_auth, sizeof(S.last_auth));
	snprintf(S.last_body, sizeof(S.last_body), "%s", body);
	pthread_mutex_unlock(&S.mu);
	if (delay)
		usleep((useconds_t)delay * 1000);

	pthread_mutex_lock(&S.mu);
	if (strcmp(path, MH_PATH_AUTH) == 0) {
		S.auth_calls++;
		snprintf(S.auth_body, sizeof(S.auth_body), "%s", body);
		if (S.auth_error_200) {
			respond(c, 200, "{\"status\":\"ERROR\",\"error\":\"Unauthorized\",\"message\":\"Usuario no valido\"}");
		} else if (S.auth_status) {
			respond(c, S.auth_status,
				"{\"status\":\"ERROR\",\"error\":\"Unauthorized\",\"message\":\"Usuario no valido\"}");
		} else {
			char *tok = make_token(++S.serial, time_now_s() + S.token_ttl_s);
			snprintf(resp, sizeof(resp),
				 "{\"status\":\"OK\",\"body\":{\"user\":\"%s\",\"token\":\"%s\",\"roles\":[\"ROLE_USER\"],"
				 "\"tokenType\":\"Bearer\"}}",
				 USER, tok);
			free(tok);
			respond(c, 200, resp);
		}
		goto out;
	}
	S.service_calls++;
	if (!S.last_auth[0]) {
		respond(c, 401, "{\"status\":401,\"error\":\"Unauthorized\",\"message\":\"108\"}");
		goto out;
	}
	if (token_serial(S.last_auth) <= S.refuse_tokens_upto) {
		respond(c, 401, "{\"status\":401,\"error\":\"Unauthorized\",\"message\":\"107\"}");
		goto out;
	}
	if (S.fail_next) {
		S.fail_next--;
		respond(c, 503, "{\"error\":\"Service Unavailable\"}");
		goto out;
	}
	if (S.garbage_next) {
		S.garbage_next--;
		respond(c, 200, "<html>proxy error</html>");
		goto out;
	}
	if (strcmp(path, MH_PATH_RECEPCION) == 0 && S.reject) {
		respond(c, 400,
			"{\"version\":2,\"ambiente\":\"00\",\"versionApp\":2,\"estado\":\"RECHAZADO\",\"codigoGeneracion\":"
			"\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"selloRecibido\":null,\"fhProcesamiento\":\"14/10/2025 "
			"10:30:01\",\"clasificaMsg\":\"16\",\"codigoMsg\":\"020\",\"descripcionMsg\":\"[resumen.totalIva] "
			"CALCULO INCORRECTO\",\"observaciones\":[\"[resumen.totalIva] CALCULO INCORRECTO\"]}");
	} else if (strcmp(path, MH_PATH_CONSULTA) == 0 && strstr(body, "UNKNOWN") == NULL &&
		   strstr(body, "00000000-0000-4000-8000-000000000000")) {
		respond(c, 404,
			"{\"version\":2,\"ambiente\":\"00\",\"versionApp\":2,\"estado\":null,\"codigoGeneracion\":null,"
			"\"selloRecibido\":null,\"fhProcesamiento\":null,\"clasificaMsg\":\"11\",\"codigoMsg\":\"014\","
			"\"descripcionMsg\":\"[codigoGeneracion] NO EXISTE UN REGISTRO CON ESTE DATO\",\"observaciones\":[]}");
	} else if (strcmp(path, MH_PATH_CONTINGENCIA) == 0) {
		respond(c, 200,
			"{\"estado\":\"RECIBIDO\",\"fechaHora\":\"14/10/2025 10:30:01\",\"mensaje\":\"Documento "
			"recibido\",\"selloRecibido\":\"2025A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6E7F8\",\"observaciones\":[]}");
	} else {
		respond(c, 200,
			"{\"version\":2,\"ambiente\":\"00\",\"versionApp\":2,\"estado\":\"PROCESADO\",\"codigoGeneracion\":"
			"\"0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90\",\"selloRecibido\":\"20259E9D4DC0292F4681AD759B0B0F5CA99DC23G\","
			"\"fhProcesamiento\":\"14/10/2025 10:30:01\",\"clasificaMsg\":\"10\",\"codigoMsg\":\"001\","
			"\"descripcionMsg\":\"RECIBIDO\",\"observaciones\":[]}");
	}
out:
	pthread_mutex_unlock(&S.mu);
}

static void *serve(void *arg)
{
	(void)arg;
	while (!S.stop) {
		int c = accept(S.fd, NULL, NULL);
		if (c < 0)
			continue;
		if (!S.stop)
			handle(c);
		close(c);
	}
	return NULL;
}

static int server_start(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int one = 1;

	(void)state;
	memset(&S, 0, sizeof(S));
	pthread_mutex_init(&S.mu, NULL);
	S.token_ttl_s = 86400;
	S.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(S.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(S.fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(S.fd, 16) ||
	    getsockname(S.fd, (struct sockaddr *)&sa, &sl))
		return -1;
	S.port = ntohs(sa.sin_port);
	return pthread_create(&S.thread, NULL, serve, NULL);
}

static int server_stop(void **state)
{
	struct sockaddr_in sa;
	int c;

	(void)state;
	S.stop = 1;
	/* wake accept() */
	c = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)S.port);
	connect(c, (struct sockaddr *)&sa, sizeof(sa));
	close(c);
	pthread_join(S.thread, NULL);
	close(S.fd);
	pthread_mutex_destroy(&S.mu);
	return 0;
}

/* Reset the script between tests (the server keeps running). */
static int reset(void **state)
{
	(void)state;
	pthread_mutex_lock(&S.mu);
	S.token_ttl_s = 86400;
	S.refuse_tokens_upto = 0;
	S.auth_status = 0;
	S.auth_error_200 = 0;
	S.fail_next = 0;
	S.garbage_next = 0;
	S.delay_ms = 0;
	S.reject = 0;
	S.auth_calls = 0;
	S.service_calls = 0;
	pthread_mutex_unlock(&S.mu);
	return 0;
}

/* ---- an in-memory token store ---- */

struct mem_store {
	char token[MH_TOKEN_MAX];
	int64_t exp;
	int loads, saves, drops;
};

static int ms_load(void *ud, const char *user, char *token, size_t len, int64_t *exp)
{
	struct mem_store *m = ud;

	(void)user;
	m->loads++;
	if (!m->token[0])
		return -1;
	snprintf(token, len, "%s", m->token);
	*exp = m->exp;
	return 0;
}

static void ms_save(void *ud, const char *user, const char *token, int64_t exp)
{
	struct mem_store *m = ud;

	assert_string_equal(user, USER);
	m->saves++;
	snprintf(m->token, sizeof(m->token), "%s", token);
	m->exp = exp;
}

static void ms_drop(void *ud, const char *user)
{
	struct mem_store *m = ud;

	(void)user;
	m->drops++;
	m->token[0] = '\0';
}

static char base_url[64];

static void client_init(struct mh_client *c, const struct mh_token_store *store)
{
	memset(c, 0, sizeof(*c));
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d/", S.port);
	c->base_url = base_url;
	c->user = USER;
	c->password = PASSWORD;
	c->timeout_ms = 3000;
	c->store = store;
}

static const struct mh_recepcion RQ = {.ambiente = "00",
				       .id_envio = 7,
				       .version = 1,
				       .tipo_dte = "01",
				       .documento = "eyJhbGciOiJSUzUxMiJ9.eyJ4IjoxfQ.c2ln",
				       .codigo_generacion = "0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90"};

static void test_auth_form(void **state)
{
	struct mh_client c;
	struct mh_answer a;
	struct err e;

	(void)state;
	memset(&a, 0, sizeof(a));
	err_clear(&e);
	client_init(&c, NULL);
	assert_int_equal(mh_auth(&c, &a, &e), 0);
	assert_string_equal(S.last_path, MH_PATH_AUTH);
	assert_string_equal(S.last_ctype, "application/x-www-form-urlencoded");
	assert_string_equal(S.last_auth, ""); /* no Authorization on auth */
	assert_string_equal(S.auth_body, "user=06140507071048&pwd=P%40ss%2Bword%212025");
	assert_true(strncmp(c.token, "Bearer eyJ", 10) == 0);
	assert_true(c.token_expires_s > time_now_s() + 86000 && c.token_expires_s <= time_now_s() + 86400);
	assert_int_equal(c.auth_calls, 1);
	mh_answer_free(&a);
}

static void test_token_exp(void **state)
{
	char *t = make_token(1, 1761000000);

	(void)state;
	assert_int_equal(mh_token_exp(t), 1761000000);
	assert_int_equal(mh_token_exp(t + 7), 1761000000); /* without "Bearer " */
	assert_int_equal(mh_token_exp("Bearer not-a-jwt"), 0);
	assert_int_equal(mh_token_exp(NULL), 0);
	free(t);
}

/* One authentication for many calls; the store lends the token to a new
 * client; an expired stored token is replaced. */
static void test_token_cache(void **state)
{
	struct mem_store m;
	struct mh_token_store store = {&m, ms_load, ms_save, ms_drop};
	struct mh_client c, c2;
	struct mh_answer a;
	struct err e;

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(&a, 0, sizeof(a));
	err_clear(&e);
	client_init(&c, &store);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), 0);
		assert_true(mh_answer_accepted(&a));
	}
	assert_int_equal(S.auth_calls, 1);
	assert_int_equal(S.service_calls, 3);
	assert_int_equal(m.saves, 1);
	assert_string_equal(S.last_auth, m.token); /* sent exactly as MH gave it */

	client_init(&c2, &store); /* another run: the stored token */
	assert_int_equal(mh_consulta(&c2, USER, "01", RQ.codigo_generacion, &a, &e), 0);
	assert_int_equal(S.auth_calls, 1);
	assert_int_equal(c2.auth_calls, 0);

	/* a token about to expire (within the margin) is renewed first */
	m.exp = time_now_s() + MH_TOKEN_MARGIN_S - 5;
	client_init(&c2, &store);
	assert_int_equal(mh_consulta(&c2, USER, "01", RQ.codigo_generacion, &a, &e), 0);
	assert_int_equal(S.auth_calls, 2);
	assert_int_equal(m.saves, 2);
	assert_true(m.exp > time_now_s() + 3600);

	/* without a JWT exp the token lives MH_TOKEN_TTL_S; a short-lived one is renewed */
	pthread_mutex_lock(&S.mu);
	S.token_ttl_s = 100; /* expires inside the renewal margin */
	pthread_mutex_unlock(&S.mu);
	client_init(&c2, NULL);
	assert_int_equal(mh_recepcion(&c2, &RQ, &a, &e), 0);
	assert_int_equal(mh_recepcion(&c2, &RQ, &a, &e), 0);
	assert_int_equal(c2.auth_calls, 2);
	mh_answer_free(&a);
}

/* 401 on a call: drop the token, authenticate once more, repeat once. */
static void test_401_refresh(void **state)
{
	struct mem_store m;
	struct mh_token_store store = {&m, ms_load, ms_save, ms_drop};
	struct mh_client c;
	struct mh_answer a;
	struct err e;
	int refused;

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(&a, 0, sizeof(a));
	err_clear(&e);
	client_init(&c, &store);
	assert_int_equal(mh_auth(&c, &a, &e), 0);
	pthread_mutex_lock(&S.mu);
	S.refuse_tokens_upto = S.serial; /* MH forgets every token issued so far */
	S.auth_calls = 0;
	S.service_calls = 0;
	pthread_mutex_unlock(&S.mu);
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), 0);
	assert_true(mh_answer_accepted(&a));
	assert_int_equal(S.auth_calls, 1);
	assert_int_equal(S.service_calls, 2);
	assert_int_equal(m.drops, 1);
	assert_int_equal(m.saves, 2);

	/* every token refused: exactly one refresh, then MH_FAIL_AUTH */
	pthread_mutex_lock(&S.mu);
	S.refuse_tokens_upto = 1000000;
	S.auth_calls = 0;
	S.service_calls = 0;
	refused = S.service_calls;
	pthread_mutex_unlock(&S.mu);
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), ERR_UPSTREAM);
	assert_int_equal(a.fail, MH_FAIL_AUTH);
	assert_string_equal(e.name, "MH_AUTH_FAILED");
	assert_int_equal(S.auth_calls, 1);
	assert_int_equal(S.service_calls - refused, 2);
	mh_answer_free(&a);
}

static void test_auth_refused(void **state)
{
	struct mh_client c;
	struct mh_answer a;
	struct err e;

	(void)state;
	memset(&a, 0, sizeof(a));
	err_clear(&e);
	pthread_mutex_lock(&S.mu);
	S.auth_status = 401;
	pthread_mutex_unlock(&S.mu);
	client_init(&c, NULL);
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), ERR_UPSTREAM);
	assert_int_equal(a.fail, MH_FAIL_AUTH);
	assert_int_equal(S.service_calls, 0);
	/* the password is never in an error text */
	assert_null(strstr(e.message, PASSWORD));
	assert_null(strstr(e.detail, PASSWORD));
	pthread_mutex_lock(&S.mu);
	S.auth_status = 0;
	S.auth_error_200 = 1; /* MH's other way of saying it */
	pthread_mutex_unlock(&S.mu);
	err_clear(&e);
	assert_int_equal(mh_auth(&c, &a, &e), ERR_UPSTREAM);
	assert_int_equal(a.fail, MH_FAIL_AUTH);
	pthread_mutex_lock(&S.mu);
	S.auth_error_200 = 0;
	S.auth_status = 503;
	pthread_mutex_unlock(&S.mu);
	err_clear(&e);
	assert_int_equal(mh_auth(&c, &a, &e), ERR_UPSTREAM);
	assert_int_equal(a.fail, MH_FAIL_TRANSIENT);
	mh_answer_free(&a);
}

/* What each service sends, and how MH's answers are read. */
static void test_bodies_and_answers(void **state)
{
	struct mh_client c;
	struct mh_answer a;
	struct err e;
	json_t *j;

	(void)state;
	memset(&a, 0, sizeof(a));
	err_clear(&e);
	client_init(&c, NULL);
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), 0);
	assert_string_equal(S.last_path, MH_PATH_RECEPCION);
	assert_string_equal(S.last_ctype, "application/json");
	j = json_loads(S.last_body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "ambiente")), "00");
	assert_true(json_is_integer(json_object_get(j, "idEnvio")));
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "tipoDte")), "01");
	assert_string_equal(json_string_value(json_object_get(j, "documento")), RQ.documento);
	assert_string_equal(json_string_value(json_object_get(j, "codigoGeneracion")), RQ.codigo_generacion);
	json_decref(j);
	assert_string_equal(a.estado, "PROCESADO");
	assert_string_equal(a.sello, "20259E9D4DC0292F4681AD759B0B0F5CA99DC23G");
	assert_string_equal(a.fh_procesamiento, "14/10/2025 10:30:01");
	assert_string_equal(a.codigo_msg, "001");
	assert_string_equal(a.observaciones, "[]");

	/* RECHAZADO arrives as HTTP 400 and is an answer, not a failure */
	pthread_mutex_lock(&S.mu);
	S.reject = 1;
	pthread_mutex_unlock(&S.mu);
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), 0);
	assert_int_equal(a.http_status, 400);
	assert_false(mh_answer_accepted(&a));
	assert_string_equal(a.estado, "RECHAZADO");
	assert_string_equal(a.codigo_msg, "020");
	assert_string_equal(a.clasifica_msg, "16");
	assert_string_equal(a.descripcion_msg, "[resumen.totalIva] CALCULO INCORRECTO");
	assert_string_equal(a.observaciones, "[\"[resumen.totalIva] CALCULO INCORRECTO\"]");
	assert_string_equal(a.sello, "");

	/* consultation: known and unknown codes */
	assert_int_equal(mh_consulta(&c, USER, "01", RQ.codigo_generacion, &a, &e), 0);
	j = json_loads(S.last_body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "nitEmisor")), USER);
	assert_string_equal(json_string_value(json_object_get(j, "tdte")), "01");
	json_decref(j);
	assert_string_equal(S.last_path, MH_PATH_CONSULTA);
	assert_true(a.found);
	assert_int_equal(mh_consulta(&c, USER, "01", "00000000-0000-4000-8000-000000000000", &a, &e), 0);
	assert_false(a.found);
	assert_string_equal(a.codigo_msg, "014");

	/* the events */
	assert_int_equal(mh_anular(&c, "00", 3, 2, "h.p.s", &a, &e), 0);
	assert_string_equal(S.last_path, MH_PATH_ANULAR);
	j = json_loads(S.last_body, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "idEnvio")), 3);
	assert_string_equal(json_string_value(json_object_get(j, "documento")), "h.p.s");
	json_decref(j);
	assert_int_equal(mh_contingencia(&c, USER, "h.p.s", &a, &e), 0);
	assert_string_equal(S.last_path, MH_PATH_CONTINGENCIA);
	j = json_loads(S.last_body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "nit")), USER);
	assert_null(json_object_get(j, "ambiente"));
	json_decref(j);
	assert_string_equal(a.estado, "RECIBIDO");
	assert_true(mh_answer_accepted(&a));
	assert_string_equal(a.fh_procesamiento, "14/10/2025 10:30:01");
	assert_string_equal(a.descripcion_msg, "Documento recibido");
	mh_answer_free(&a);
}

/* 5xx and a body that is not MH's are transient, and never retried here. */
static void test_transient(void **state)
{
	struct mh_client c;
	struct mh_answer a;
	struct err e;

	(void)state;
	memset(&a, 0, sizeof(a));
	err_clear(&e);
	client_init(&c, NULL);
	assert_int_equal(mh_auth(&c, &a, &e), 0);
	pthread_mutex_lock(&S.mu);
	S.fail_next = 1;
	S.service_calls = 0;
	pthread_mutex_unlock(&S.mu);
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), ERR_UPSTREAM);
	assert_int_equal(a.fail, MH_FAIL_TRANSIENT);
	assert_int_equal(a.http_status, 503);
	assert_int_equal(S.service_calls, 1); /* one request: the caller owns MH's retry policy */
	pthread_mutex_lock(&S.mu);
	S.garbage_next = 1;
	pthread_mutex_unlock(&S.mu);
	err_clear(&e);
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), ERR_UPSTREAM);
	assert_int_equal(a.fail, MH_FAIL_TRANSIENT);
	err_clear(&e);
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), 0);
	mh_answer_free(&a);
}

/* MH does not answer within the client's limit. */
static void test_timeout(void **state)
{
	struct mh_client c;
	struct mh_answer a;
	struct err e;
	int64_t t0;

	(void)state;
	memset(&a, 0, sizeof(a));
	err_clear(&e);
	client_init(&c, NULL);
	assert_int_equal(mh_auth(&c, &a, &e), 0);
	c.timeout_ms = 300;
	pthread_mutex_lock(&S.mu);
	S.delay_ms = 1500;
	pthread_mutex_unlock(&S.mu);
	t0 = time_mono_ms();
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), ERR_UPSTREAM);
	assert_true(time_mono_ms() - t0 < 1400);
	assert_int_equal(a.fail, MH_FAIL_TRANSIENT);
	assert_int_equal(a.http_status, 0);
	assert_string_equal(e.name, "MH_UNAVAILABLE");
	/* nothing listens: transient too */
	pthread_mutex_lock(&S.mu);
	S.delay_ms = 0;
	pthread_mutex_unlock(&S.mu);
	usleep(1600 * 1000); /* let the server finish the slow answer */
	c.base_url = "http://127.0.0.1:1";
	err_clear(&e);
	assert_int_equal(mh_recepcion(&c, &RQ, &a, &e), ERR_UPSTREAM);
	assert_int_equal(a.fail, MH_FAIL_TRANSIENT);
	mh_answer_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_auth_form, reset),	    cmocka_unit_test_setup(test_token_exp, reset),
	    cmocka_unit_test_setup(test_token_cache, reset),	    cmocka_unit_test_setup(test_401_refresh, reset),
	    cmocka_unit_test_setup(test_auth_refused, reset),	    cmocka_unit_test_setup(test_bodies_and_answers, reset),
	    cmocka_unit_test_setup(test_transient, reset),	    cmocka_unit_test_setup(test_timeout, reset),
	};
	httpc_global_init(&(struct err){0});
	return cmocka_run_group_tests(tests, server_start, server_stop);
}
