/*
 * control.c - the sandbox's own endpoints under /_sandbox/ (not MH's; no
 * token, never subject to fault injection). For tests and operators:
 *
 *   GET    /_sandbox/health               {"status":"ok", ambiente, port}
 *   GET    /_sandbox/faults               current fault knobs (faults.c)
 *   PUT    /_sandbox/faults               change some knobs: {"failNext":3}
 *   DELETE /_sandbox/faults               all knobs back to "no faults"
 *   GET    /_sandbox/documents            every DTE received (?nit= ?estado=
 *                                         ?tipoDte=): summaries with attempts
 *   GET    /_sandbox/documents/{codigo}   one DTE: summary, MH's answer, the
 *                                         payload as received and its JWS
 *   GET    /_sandbox/events               invalidation and contingency events
 *   GET    /_sandbox/stats                counters
 *   GET    /_sandbox/emisores             registered NITs (never keys)
 *   POST   /_sandbox/emisores             {nit, password?, publicKeyPem? |
 *                                         certificate?}: register an emisor
 *   POST   /_sandbox/tokens/expire        every token issued so far -> 401
 *   GET    /_sandbox/clock                the sandbox clock
 *   PUT    /_sandbox/clock                {"offsetSeconds": N}: move it
 *   POST   /_sandbox/reset                forget documents, events, stats;
 *                                         faults off; clock back to real time
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jschema.h"
#include "core/timeutil.h"
#include "mod/dte/dte_keys.h"
#include "sbx.h"

static void bad(struct sbx_resp *resp, int status, const char *field, const char *message)
{
	sbx_reply(resp, status, json_pack("{s:s, s:s?}", "error", message, "field", field));
}

static json_t *doc_summary(const struct sbx_doc *d)
{
	char fh[20];
	sbx_fh(d->processed_at, fh);
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:s?, s:s, s:b, s:s?, s:i, s:I}", "codigoGeneracion",
			 d->codigo, "nit", d->nit, "tipoDte", d->tipo_dte, "version", d->version, "numeroControl",
			 d->numero_control, "fecEmi", d->fec_emi, "tipoOperacion", d->tipo_operacion, "estado",
			 d->estado == SBX_PROCESADO ? "PROCESADO" : "RECHAZADO", "selloRecibido",
			 d->sello[0] ? d->sello : NULL, "fhProcesamiento", fh, "invalidated", d->invalidated,
			 "invalidatedBy", d->invalidated_by[0] ? d->invalidated_by : NULL, "attempts", d->attempts,
			 "montoCents", (json_int_t)d->monto_cents);
}

static void documents_list(const struct sbx_req *r, struct sbx_resp *resp)
{
	const char *nit = sbx_query(r, "nit"), *estado = sbx_query(r, "estado"), *tipo = sbx_query(r, "tipoDte");
	json_t *list = json_array();
	sbx_lock();
	for (struct sbx_doc *d = sbx_docs(); d; d = d->next) {
		if (nit && strcmp(nit, d->nit) != 0)
			continue;
		if (tipo && strcmp(tipo, d->tipo_dte) != 0)
			continue;
		if (estado && strcmp(estado, d->estado == SBX_PROCESADO ? "PROCESADO" : "RECHAZADO") != 0)
			continue;
		json_array_append_new(list, doc_summary(d));
	}
	sbx_unlock();
	sbx_reply(resp, 200, json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(list), "documents", list));
}

static void document_one(const char *codigo, struct sbx_resp *resp)
{
	sbx_lock();
	struct sbx_doc *d = sbx_doc_find(codigo);
	if (!d) {
		sbx_unlock();
		bad(resp, 404, "codigoGeneracion", "no document with this codigoGeneracion");
		return;
	}
	json_t *j = doc_summary(d);
	json_object_set_new(j, "response", d->response ? json_deep_copy(d->response) : json_null());
	json_object_set_new(j, "payload", d->payload ? json_deep_copy(d->payload) : json_null());
	json_object_set_new(j, "documento", d->jws ? json_string(d->jws) : json_null());
	sbx_unlock();
	sbx_reply(resp, 200, j);
}

static void events_list(struct sbx_resp *resp)
{
	json_t *list = json_array();
	sbx_lock();
	for (struct sbx_event *ev = sbx_events(); ev; ev = ev->next) {
		char fh[20];
		sbx_fh(ev->received_at, fh);
		json_array_append_new(list,
				      json_pack("{s:s, s:s, s:s, s:s, s:s, s:O?}", "kind",
						ev->kind == SBX_EVENT_INVALIDACION ? "invalidacion" : "contingencia",
						"codigoGeneracion", ev->codigo, "nit", ev->nit, "selloRecibido",
						ev->sello, "fechaHora", fh, "payload", ev->payload));
	}
	sbx_unlock();
	sbx_reply(resp, 200, json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(list), "events", list));
}

static void stats_get(struct sbx_resp *resp)
{
	long docs = 0, sealed = 0, events = 0;
	sbx_lock();
	struct sbx_stats s = *sbx_stats();
	for (struct sbx_doc *d = sbx_docs(); d; d = d->next) {
		docs++;
		sealed += d->estado == SBX_PROCESADO;
	}
	for (struct sbx_event *ev = sbx_events(); ev; ev = ev->next)
		events++;
	sbx_unlock();
	sbx_reply(resp, 200,
		  json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			    "requests", (json_int_t)s.requests, "authOk", (json_int_t)s.auth_ok, "authFailed",
			    (json_int_t)s.auth_failed, "unauthorized", (json_int_t)s.unauthorized, "procesado",
			    (json_int_t)s.procesado, "rechazado", (json_int_t)s.rechazado, "consultas",
			    (json_int_t)s.consultas, "invalidaciones", (json_int_t)s.invalidaciones, "contingencias",
			    (json_int_t)s.contingencias, "faults5xx", (json_int_t)s.faults_5xx, "faultsDropped",
			    (json_int_t)s.faults_dropped, "faultsHung", (json_int_t)s.faults_hung, "faultsRejected",
			    (json_int_t)s.faults_rejected, "documents", (json_int_t)docs, "sealed", (json_int_t)sealed,
			    "events", (json_int_t)events, "tokenGeneration", (json_int_t)sbx_token_generation()));
}

static void emisores_list(struct sbx_resp *resp)
{
	json_t *list = json_array();
	sbx_lock();
	for (struct sbx_emisor *em = sbx_emisores(); em; em = em->next)
		json_array_append_new(list,
				      json_pack("{s:s, s:b, s:b, s:s}", "nit", em->nit, "hasPublicKey", em->key != NULL,
						"hasPassword", em->pwd_sha256[0] != '\0', "source", em->source));
	sbx_unlock();
	sbx_reply(resp, 200, json_pack("{s:o}", "emisores", list));
}

static void emisores_post(const struct sbx_req *r, struct sbx_resp *resp)
{
	json_t *body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	const char *nit = sbx_str(body, "nit"), *pwd = sbx_str(body, "password");
	const char *pem = sbx_str(body, "publicKeyPem"), *cert = sbx_str(body, "certificate");
	struct jws_key *key = NULL;
	char file_nit[DTE_NIT_MAX + 1] = "";
	struct err e;

	if (!json_is_object(body)) {
		bad(resp, 400, NULL, "body must be a JSON object");
		goto out;
	}
	if (!nit || !sbx_nit_valid(nit)) {
		bad(resp, 400, "nit", "nit must be 14 or 9 digits");
		goto out;
	}
	if (pem || cert) {
		const char *text = pem ? pem : cert;
		if (dte_keys_public_from_text(text, strlen(text), &key, file_nit, &e) != 0) {
			bad(resp, 400, pem ? "publicKeyPem" : "certificate", e.message);
			goto out;
		}
		if (file_nit[0] && strcmp(file_nit, nit) != 0) {
			jws_key_free(key);
			bad(resp, 400, "certificate", "the MH certificate file belongs to another NIT");
			goto out;
		}
	}
	sbx_lock();
	sbx_emisor_put(nit, pwd, key, "control");
	sbx_save();
	sbx_unlock();
	sbx_reply(resp, 201, json_pack("{s:s, s:b}", "nit", nit, "hasPublicKey", key != NULL));
out:
	json_decref(body);
}

static void clock_reply(struct sbx_resp *resp)
{
	char iso[TIME_ISO_LEN + 1], fh[20];
	int64_t now = sbx_now();
	time_iso(now, iso);
	sbx_fh(now, fh);
	sbx_reply(
	    resp, 200,
	    json_pack("{s:I, s:s, s:s}", "offsetSeconds", (json_int_t)sbx_clock_offset(), "now", iso, "local", fh));
}

void sbx_control_handle(const struct sbx_req *r, struct sbx_resp *resp)
{
	const char *p = r->path + strlen("/_sandbox");
	const char *m = r->method;
	bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
	bool put = strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0, del = strcmp(m, "DELETE") == 0;
	struct err e;

	if (strcmp(p, "/health") == 0 && get) {
		sbx_reply(
		    resp, 200,
		    json_pack("{s:s, s:s, s:i}", "status", "ok", "ambiente", sbx_cfg.ambiente, "port", sbx_cfg.port));
	} else if (strcmp(p, "/faults") == 0 && get) {
		sbx_reply(resp, 200, sbx_faults_json());
	} else if (strcmp(p, "/faults") == 0 && (put || post)) {
		json_t *body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
		if (sbx_faults_update(body, &e) != 0)
			bad(resp, 400, e.field[0] ? e.field : NULL, e.message);
		else
			sbx_reply(resp, 200, sbx_faults_json());
		json_decref(body);
	} else if (strcmp(p, "/faults") == 0 && del) {
		sbx_faults_reset();
		sbx_reply(resp, 200, sbx_faults_json());
	} else if (strcmp(p, "/documents") == 0 && get) {
		documents_list(r, resp);
	} else if (strncmp(p, "/documents/", 11) == 0 && get) {
		document_one(p + 11, resp);
	} else if (strcmp(p, "/events") == 0 && get) {
		events_list(resp);
	} else if (strcmp(p, "/stats") == 0 && get) {
		stats_get(resp);
	} else if (strcmp(p, "/emisores") == 0 && get) {
		emisores_list(resp);
	} else if (strcmp(p, "/emisores") == 0 && post) {
		emisores_post(r, resp);
	} else if (strcmp(p, "/tokens/expire") == 0 && post) {
		sbx_tokens_expire_all();
		sbx_reply(resp, 200, json_pack("{s:I}", "tokenGeneration", (json_int_t)sbx_token_generation()));
	} else if (strcmp(p, "/clock") == 0 && get) {
		clock_reply(resp);
	} else if (strcmp(p, "/clock") == 0 && (put || post)) {
		json_t *body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
		json_t *off = json_object_get(body, "offsetSeconds");
		if (!json_is_integer(off) || json_integer_value(off) < -10LL * 365 * 86400 ||
		    json_integer_value(off) > 10LL * 365 * 86400) {
			bad(resp, 400, "offsetSeconds", "offsetSeconds must be an integer (at most ten years)");
		} else {
			sbx_clock_set_offset(json_integer_value(off));
			sbx_lock();
			sbx_save();
			sbx_unlock();
			clock_reply(resp);
		}
		json_decref(body);
	} else if (strcmp(p, "/reset") == 0 && post) {
		sbx_faults_reset();
		sbx_clock_set_offset(0);
		sbx_lock();
		sbx_state_reset();
		sbx_unlock();
		sbx_reply(resp, 200, json_pack("{s:s}", "status", "reset"));
	} else {
		bad(resp, 404, NULL, "no such sandbox endpoint (see docs/mh-sandbox.md)");
	}
}
