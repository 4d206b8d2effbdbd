/*
 * mh.c - the MH web-service client (mh.h): requests over httpc, the token
 * and its cache, and the reading of MH's answers into struct mh_answer.
 */
#include "net/mh.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "net/httpc.h"

#define MH_MAX_RESPONSE (1u << 20) /* MH answers are small; documents are never sent back */

void mh_answer_free(struct mh_answer *a)
{
	if (!a)
		return;
	free(a->observaciones);
	memset(a, 0, sizeof(*a));
}

bool mh_answer_accepted(const struct mh_answer *a)
{
	return a && a->sello[0] && (strcmp(a->estado, "PROCESADO") == 0 || strcmp(a->estado, "RECIBIDO") == 0);
}

static void answer_reset(struct mh_answer *a)
{
	free(a->observaciones);
	memset(a, 0, sizeof(*a));
}

int64_t mh_token_exp(const char *token)
{
	const char *p, *dot1, *dot2;
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	char *part;
	json_t *claims;
	int64_t exp = 0;
	struct err e;

	if (!token)
		return 0;
	p = strncmp(token, "Bearer ", 7) == 0 ? token + 7 : token;
	dot1 = strchr(p, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot1 || !dot2 || dot2 - dot1 - 1 <= 0 || dot2 - dot1 - 1 > 4096)
		return 0;
	part = xstrndup(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	err_clear(&e);
	if (b64url_decode(part, &raw, &raw_len, &e) == 0) {
		claims = json_loadb((const char *)raw, raw_len, 0, NULL);
		if (json_is_integer(json_object_get(claims, "exp")))
			exp = json_integer_value(json_object_get(claims, "exp"));
		json_decref(claims);
	}
	free(raw);
	free(part);
	return exp > 0 ? exp : 0;
}

static void copy_str(char *dst, size_t n, const json_t *v)
{
	dst[0] = '\0';
	if (json_is_string(v))
		snprintf(dst, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(dst, n, "%lld", (long long)json_integer_value(v));
}

/* MH's answer body -> out. Returns true when it is MH's reception shape
 * (has "estado", possibly null) or an event answer. */
static bool read_answer(const char *body, size_t len, struct mh_answer *out)
{
	json_t *j = json_loadb(body, len, 0, NULL), *obs;
	bool ok = false;

	if (!json_is_object(j))
		goto out;
	ok = json_object_get(j, "estado") != NULL;
	copy_str(out->estado, sizeof(out->estado), json_object_get(j, "estado"));
	copy_str(out->codigo_generacion, sizeof(out->codigo_generacion), json_object_get(j, "codigoGeneracion"));
	copy_str(out->sello, sizeof(out->sello), json_object_get(j, "selloRecibido"));
	copy_str(out->fh_procesamiento, sizeof(out->fh_procesamiento), json_object_get(j, "fhProcesamiento"));
	if (!out->fh_procesamiento[0])
		copy_str(out->fh_procesamiento, sizeof(out->fh_procesamiento), json_object_get(j, "fechaHora"));
	copy_str(out->clasifica_msg, sizeof(out->clasifica_msg), json_object_get(j, "clasificaMsg"));
	copy_str(out->codigo_msg, sizeof(out->codigo_msg), json_object_get(j, "codigoMsg"));
	copy_str(out->descripcion_msg, sizeof(out->descripcion_msg), json_object_get(j, "descripcionMsg"));
	if (!out->descripcion_msg[0])
		copy_str(out->descripcion_msg, sizeof(out->descripcion_msg), json_object_get(j, "mensaje"));
	obs = json_object_get(j, "observaciones");
	free(out->observaciones);
	out->observaciones = json_is_array(obs) ? json_dumps(obs, JSON_COMPACT) : xstrdup("[]");
out:
	json_decref(j);
	return ok;
}

/* One HTTP exchange (no retry). 0 with *resp filled whenever MH answered
 * anything; ERR_UPSTREAM (transient) when nothing came back. */
static int exchange(struct mh_client *c, const char *path, const char *content_type, const char *body,
		    bool with_token, struct httpc_response *resp, struct err *e)
{
	char url[1024];
	struct httpc_header hdr[2];
	size_t nh = 0;
	struct httpc_request rq;
	size_t blen = strlen(c->base_url);

	while (blen > 0 && c->base_url[blen - 1] == '/')
		blen--;
	snprintf(url, sizeof(url), "%.*s%s", (int)blen, c->base_url, path);
	hdr[nh++] = (struct httpc_header){"User-Agent", MH_USER_AGENT};
	if (with_token)
		hdr[nh++] = (struct httpc_header){"Authorization", c->token};
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = url;
	rq.headers = hdr;
	rq.nheaders = nh;
	rq.content_type = content_type;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.connect_timeout_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms : 5000;
	rq.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 8000;
	rq.max_response_bytes = MH_MAX_RESPONSE;
	rq.max_attempts = 1;
	rq.ca_file = c->ca_file;
	rq.log_name = "mh";
	return httpc_do(&rq, resp, e);
}

static int fail(struct mh_answer *out, enum mh_fail why, const char *path, long status, struct err *e)
{
	static const char *const texts[] = {"", "the Ministerio de Hacienda did not answer",
					    "the Ministerio de Hacienda refused the API credentials",
					    "the Ministerio de Hacienda refused the request"};
	if (out) {
		out->fail = why;
		out->http_status = status;
	}
	err_set(e, ERR_UPSTREAM, NULL, "%s", texts[why]);
	err_name(e, why == MH_FAIL_AUTH ? "MH_AUTH_FAILED" : "MH_UNAVAILABLE");
	return err_detail(e, "MH %s: HTTP %ld", path, status);
}

int mh_auth(struct mh_client *c, struct mh_answer *answer, struct err *e)
{
	struct httpc_response resp;
	char *u = httpc_escape(c->user ? c->user : "", 0), *p = httpc_escape(c->password ? c->password : "", 0);
	char *form = xasprintf("user=%s&pwd=%s", u, p);
	json_t *j = NULL, *tok;
	int64_t t0 = time_mono_ms(), exp;
	int rc;

	memset(&resp, 0, sizeof(resp));
	mem_wipe(p, strlen(p));
	free(u);
	free(p);
	c->auth_calls++;
	rc = exchange(c, MH_PATH_AUTH, "application/x-www-form-urlencoded", form, false, &resp, e);
	mem_wipe(form, strlen(form));
	free(form);
	if (rc) {
		rc = fail(answer, MH_FAIL_TRANSIENT, MH_PATH_AUTH, 0, e);
		goto out;
	}
	if (answer)
		answer->http_status = resp.status;
	if (resp.status >= 500 || resp.status == 429 || resp.status == 408) {
		rc = fail(answer, MH_FAIL_TRANSIENT, MH_PATH_AUTH, resp.status, e);
		goto out;
	}
	if (resp.status == 401 || resp.status == 403) {
		rc = fail(answer, MH_FAIL_AUTH, MH_PATH_AUTH, resp.status, e);
		goto out;
	}
	j = json_loadb(resp.body, resp.body_len, 0, NULL);
	tok = json_object_get(json_object_get(j, "body"), "token");
	if (resp.status != 200 || !json_is_string(tok)) {
		const char *st = json_string_value(json_object_get(j, "status"));
		/* MH also answers refused credentials as 200 {"status":"ERROR"} */
		enum mh_fail why = (st && strcasecmp(st, "ERROR") == 0) ? MH_FAIL_AUTH
				   : (resp.status == 200 && !j)	 ? MH_FAIL_TRANSIENT
								 : MH_FAIL_PROTOCOL;
		rc = fail(answer, why, MH_PATH_AUTH, resp.status, e);
		goto out;
	}
	if (strlen(json_string_value(tok)) >= sizeof(c->token)) {
		rc = fail(answer, MH_FAIL_PROTOCOL, MH_PATH_AUTH, resp.status, e);
		goto out;
	}
	snprintf(c->token, sizeof(c->token), "%s", json_string_value(tok));
	exp = mh_token_exp(c->token);
	if (exp <= 0 || exp > time_now_s() + MH_TOKEN_TTL_S)
		exp = time_now_s() + MH_TOKEN_TTL_S;
	c->token_expires_s = exp;
	if (c->store && c->store->save)
		c->store->save(c->store->ud, c->user ? c->user : "", c->token, exp);
	rc = 0;
out:
	log_info("msg=\"mh call\" path=%s status=%ld ok=%d ms=%lld", MH_PATH_AUTH, resp.status, rc == 0,
		 (long long)(time_mono_ms() - t0));
	json_decref(j);
	if (resp.body)
		mem_wipe(resp.body, resp.body_len);
	httpc_response_free(&resp);
	return rc;
}

static bool token_fresh(const struct mh_client *c)
{
	return c->token[0] && c->token_expires_s - MH_TOKEN_MARGIN_S > time_now_s();
}

int mh_ensure_token(struct mh_client *c, struct mh_answer *answer, struct err *e)
{
	if (token_fresh(c))
		return 0;
	if (c->store && c->store->load) {
		int64_t exp = 0;
		if (c->store->load(c->store->ud, c->user ? c->user : "", c->token, sizeof(c->token), &exp) == 0) {
			c->token_expires_s = exp;
			if (token_fresh(c))
				return 0;
		}
		c->token[0] = '\0';
	}
	return mh_auth(c, answer, e);
}

static void drop_token(struct mh_client *c)
{
	mem_wipe(c->token, sizeof(c->token));
	c->token_expires_s = 0;
	if (c->store && c->store->drop)
		c->store->drop(c->store->ud, c->user ? c->user : "");
}

/* A JSON call with the token, re-authenticating once on 401. */
static int call(struct mh_client *c, const char *path, const char *body, bool consulta, struct mh_answer *out,
		struct err *e)
{
	struct httpc_response resp;
	int64_t t0 = time_mono_ms();
	int rc = 0;

	answer_reset(out);
	memset(&resp, 0, sizeof(resp));
	for (int round = 0; round < 2; round++) {
		rc = mh_ensure_token(c, out, e);
		if (rc)
			goto out;
		httpc_response_free(&resp);
		rc = exchange(c, path, "application/json", body, true, &resp, e);
		if (rc) {
			rc = fail(out, MH_FAIL_TRANSIENT, path, 0, e);
			goto out;
		}
		out->http_status = resp.status;
		if (resp.status != 401)
			break;
		drop_token(c);
		if (round == 1) {
			rc = fail(out, MH_FAIL_AUTH, path, resp.status, e);
			goto out;
		}
	}
	if (resp.status >= 500 || resp.status == 429 || resp.status == 408) {
		rc = fail(out, MH_FAIL_TRANSIENT, path, resp.status, e);
		goto out;
	}
	if (resp.status == 403) {
		rc = fail(out, MH_FAIL_AUTH, path, resp.status, e);
		goto out;
	}
	if (!read_answer(resp.body, resp.body_len, out)) {
		rc = fail(out, resp.status == 200 ? MH_FAIL_TRANSIENT : MH_FAIL_PROTOCOL, path, resp.status, e);
		goto out;
	}
	if (consulta) {
		out->found = resp.status == 200 && out->estado[0];
	} else if (!out->estado[0] || (resp.status != 200 && resp.status != 400)) {
		rc = fail(out, MH_FAIL_PROTOCOL, path, resp.status, e);
		goto out;
	}
	out->fail = MH_FAIL_NONE;
out:
	out->elapsed_ms = time_mono_ms() - t0;
	log_info("msg=\"mh call\" path=%s status=%ld estado=%s codigo=%s ok=%d ms=%lld", path, out->http_status,
		 out->estado[0] ? out->estado : "-", out->codigo_msg[0] ? out->codigo_msg : "-", rc == 0,
		 (long long)out->elapsed_ms);
	httpc_response_free(&resp);
	return rc;
}

static char *dump_body(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

int mh_recepcion(struct mh_client *c, const struct mh_recepcion *rq, struct mh_answer *out, struct err *e)
{
	char *body = dump_body(json_pack("{s:s, s:I, s:i, s:s, s:s, s:s}", "ambiente", rq->ambiente, "idEnvio",
					 (json_int_t)rq->id_envio, "version", rq->version, "tipoDte", rq->tipo_dte,
					 "documento", rq->documento, "codigoGeneracion", rq->codigo_generacion));
	int rc;

	if (!body) {
		answer_reset(out);
		return err_set(e, ERR_INTERNAL, NULL, "cannot build the reception request");
	}
	rc = call(c, MH_PATH_RECEPCION, body, false, out, e);
	free(body);
	return rc;
}

int mh_consulta(struct mh_client *c, const char *nit_emisor, const char *tipo_dte, const char *codigo,
		struct mh_answer *out, struct err *e)
{
	char *body = dump_body(
	    json_pack("{s:s, s:s, s:s}", "nitEmisor", nit_emisor, "tdte", tipo_dte, "codigoGeneracion", codigo));
	int rc;

	if (!body) {
		answer_reset(out);
		return err_set(e, ERR_INTERNAL, NULL, "cannot build the consultation request");
	}
	rc = call(c, MH_PATH_CONSULTA, body, true, out, e);
	free(body);
	return rc;
}

int mh_anular(struct mh_client *c, const char *ambiente, int64_t id_envio, int version, const char *jws,
	      struct mh_answer *out, struct err *e)
{
	char *body = dump_body(json_pack("{s:s, s:I, s:i, s:s}", "ambiente", ambiente, "idEnvio",
					 (json_int_t)id_envio, "version", version, "documento", jws));
	int rc;

	if (!body) {
		answer_reset(out);
		return err_set(e, ERR_INTERNAL, NULL, "cannot build the invalidation request");
	}
	rc = call(c, MH_PATH_ANULAR, body, false, out, e);
	free(body);
	return rc;
}

int mh_contingencia(struct mh_client *c, const char *nit, const char *jws, struct mh_answer *out, struct err *e)
{
	char *body = dump_body(json_pack("{s:s, s:s}", "nit", nit, "documento", jws));
	int rc;

	if (!body) {
		answer_reset(out);
		return err_set(e, ERR_INTERNAL, NULL, "cannot build the contingency request");
	}
	rc = call(c, MH_PATH_CONTINGENCIA, body, false, out, e);
	free(body);
	return rc;
}
