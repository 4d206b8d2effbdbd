/*
 * events.c - MH's events: POST /fesv/anulardte (evento de invalidación,
 * anulacion-schema-v2, README §1.8) and POST /fesv/contingencia (evento de
 * contingencia, contingencia-schema-v3, README §1.7).
 *
 * Invalidation rules: the DTE exists, belongs to the emisor and was
 * PROCESADO (014); tipoDte, selloRecibido, numeroControl and fecEmi match it
 * (027); it is not already invalidated (015); fecAnula is not before its
 * fecEmi (017); the deadline (018): FE/FEX/FSE (01, 11, 14) until 23:59:59
 * of the same day three months after the seal, every other type until
 * 23:59:59 of the day after the seal (Manual Funcional V1.2); for motives 1
 * and 3 the replacement DTE (codigoGeneracionR) must exist, be sealed and
 * be the emisor's (014); a CCF with live NC/ND related to it cannot be
 * invalidated first (028). Answer: the reception answer shape, PROCESADO
 * with a sello, or RECHAZADO (HTTP 400).
 *
 * Contingency rules: codigoGeneracion values in detalleDTE are unique (025)
 * and of the types allowed in contingency (CAT-023: 01 03 04 05 06 11 14,
 * else 007); the reported period ends after it starts and not in the future
 * (017); the event is sent within 24 hours of the end of the outage (018).
 * Answer {estado RECIBIDO|RECHAZADO, fechaHora, mensaje, selloRecibido,
 * observaciones}. DTEs listed in a RECIBIDO event may then be received with
 * tipoOperacion 2 within 72 hours (reception.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jschema.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "mod/dte/dte_schemas.h"
#include "sbx.h"

/* Signature and schema of an event document. On success *doc (exact JSON). */
static void event_document(const char *jws, const char *nit, const char *schema_name, json_t **doc,
			   struct sbx_verdict *v)
{
	unsigned char *text = NULL;
	size_t len = 0;
	const struct jschema *schema;
	struct jschema_report *rep = NULL;
	struct err e;

	*doc = NULL;
	if (jws_peek(jws, &text, &len, &e) != 0) {
		sbx_verdict_reject(v, "20", "802", NULL);
		sbx_verdict_note(v, "[firma] %s: %s", e.message, e.detail);
		return;
	}
	free(text);
	text = NULL;
	sbx_lock();
	struct sbx_emisor *em = sbx_emisor_find(nit);
	const struct jws_key *key = em ? em->key : NULL;
	sbx_unlock();
	if (!key) {
		sbx_verdict_reject(v, "20", "803", NULL);
		return;
	}
	if (jws_verify_rs512(key, jws, &text, &len, &e) != 0) {
		sbx_verdict_reject(v, "20", "802", NULL);
		sbx_verdict_note(v, "[firma] %s: %s", e.message, e.detail);
		return;
	}
	if (jschema_parse_exact((const char *)text, len, doc, &e) != 0) {
		free(text);
		sbx_verdict_reject(v, "98", "098", "documento");
		return;
	}
	free(text);
	const char *claimed = sbx_str(sbx_get(*doc, "emisor"), "nit");
	if (!claimed || strcmp(claimed, nit) != 0) {
		sbx_verdict_reject(v, "12", "008", "emisor.nit");
		return;
	}
	if (dte_schema_get(schema_name, &schema, &e) != 0) {
		log_error("msg=\"schema unavailable\" schema=%s", schema_name);
		sbx_verdict_reject(v, "99", "099", NULL);
		return;
	}
	rep = xmalloc(sizeof(*rep));
	if (jschema_validate(schema, *doc, rep, &e) != 0) {
		sbx_verdict_reject(v, "98", "096", NULL);
		for (size_t i = 0; i < rep->count && i < SBX_MAX_OBS; i++)
			sbx_verdict_note(v, "[%s] %s", rep->errors[i].path[0] ? rep->errors[i].path : "documento",
					 rep->errors[i].message);
	}
	free(rep);
}

/* Last moment (epoch s) an invalidation of a document sealed at sealed_at
 * may be received. */
static int64_t invalidation_deadline(const char *tipo, int64_t sealed_at)
{
	char date[11], tod[9], until[11];
	sbx_local(sealed_at, date, tod);
	if (strcmp(tipo, "01") == 0 || strcmp(tipo, "11") == 0 || strcmp(tipo, "14") == 0) {
		static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int y = atoi(date), m = atoi(date + 5), d = atoi(date + 8);
		m += 3;
		if (m > 12) {
			m -= 12;
			y++;
		}
		int last = mdays[m - 1] + (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
		if (d > last)
			d = last;
		snprintf(until, sizeof(until), "%04d-%02d-%02d", y, m, d);
	} else {
		date_add_days(date, 1, until);
	}
	return sbx_local_epoch(until, "23:59:59");
}

void sbx_anular_handle(const struct sbx_req *r, struct sbx_resp *resp)
{
	char nit[SBX_NIT_MAX + 1];
	struct sbx_verdict v;
	json_t *env = NULL, *doc = NULL;
	const char *codigo = NULL;
	int64_t now = sbx_now();
	char sello[SBX_SELLO_LEN + 1] = "";

	if (sbx_auth_check(r, nit, resp) != 0)
		return;
	sbx_verdict_init(&v);
	env = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(env)) {
		sbx_verdict_reject(&v, "98", "098", NULL);
		goto answer;
	}
	static const struct {
		const char *name;
		bool is_string;
	} fields[] = {{"ambiente", true}, {"idEnvio", false}, {"version", false}, {"documento", true}};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const json_t *x = json_object_get(env, fields[i].name);
		if (!x || json_is_null(x)) {
			sbx_verdict_reject(&v, "11", "005", fields[i].name);
			goto answer;
		}
		if (fields[i].is_string ? !json_is_string(x) : !json_is_integer(x)) {
			sbx_verdict_reject(&v, "11", "006", fields[i].name);
			goto answer;
		}
	}
	if (strcmp(sbx_str(env, "ambiente"), sbx_cfg.ambiente) != 0) {
		sbx_verdict_reject(&v, "11", "003", "ambiente");
		goto answer;
	}
	const char *schema_name =
	    dte_schema_name("anulacion", (int)json_integer_value(json_object_get(env, "version")));
	if (!schema_name) {
		sbx_verdict_reject(&v, "11", "003", "version");
		goto answer;
	}
	event_document(sbx_str(env, "documento"), nit, schema_name, &doc, &v);
	if (v.reject)
		goto answer;
	const json_t *id = json_object_get(doc, "identificacion");
	codigo = sbx_str(id, "codigoGeneracion");
	if (!sbx_str(id, "ambiente") || strcmp(sbx_str(id, "ambiente"), sbx_str(env, "ambiente")) != 0) {
		sbx_verdict_reject(&v, "11", "027", "identificacion.ambiente");
		goto answer;
	}

	const json_t *dd = json_object_get(doc, "documento");
	const char *target_code = sbx_str(dd, "codigoGeneracion");
	const char *fec_anula = sbx_str(id, "fecAnula");
	json_t *tipo_anul = json_object_get(json_object_get(doc, "motivo"), "tipoAnulacion");
	int64_t motive = 0;
	struct err e;
	jschema_fixed(tipo_anul, 0, &motive, &e);

	sbx_lock();
	struct sbx_doc *t = target_code ? sbx_doc_find(target_code) : NULL;
	if (sbx_event_find(codigo)) {
		sbx_verdict_reject(&v, "11", "004", "identificacion.codigoGeneracion");
	} else if (!t || t->estado != SBX_PROCESADO || strcmp(t->nit, nit) != 0) {
		sbx_verdict_reject(&v, "11", "014", "documento.codigoGeneracion");
	} else if (t->invalidated) {
		sbx_verdict_reject(&v, "11", "015", "documento.codigoGeneracion");
	} else if (strcmp(sbx_str(dd, "tipoDte"), t->tipo_dte) != 0) {
		sbx_verdict_reject(&v, "11", "027", "documento.tipoDte");
	} else if (strcmp(sbx_str(dd, "selloRecibido"), t->sello) != 0) {
		sbx_verdict_reject(&v, "11", "027", "documento.selloRecibido");
	} else if (strcmp(sbx_str(dd, "numeroControl"), t->numero_control) != 0) {
		sbx_verdict_reject(&v, "11", "027", "documento.numeroControl");
	} else if (strcmp(sbx_str(dd, "fecEmi"), t->fec_emi) != 0) {
		sbx_verdict_reject(&v, "11", "027", "documento.fecEmi");
	} else if (fec_anula && strcmp(fec_anula, t->fec_emi) < 0) {
		sbx_verdict_reject(&v, "11", "017", "identificacion.fecAnula");
	} else if (now > invalidation_deadline(t->tipo_dte, t->processed_at)) {
		sbx_verdict_reject(&v, "11", "018", "identificacion.fecAnula");
	}
	if (!v.reject && motive != 2) {
		const char *rcode = sbx_str(dd, "codigoGeneracionR");
		struct sbx_doc *rep_doc = rcode ? sbx_doc_find(rcode) : NULL;
		if (rcode && (!rep_doc || rep_doc == t || rep_doc->estado != SBX_PROCESADO ||
			      strcmp(rep_doc->nit, nit) != 0 || rep_doc->invalidated))
			sbx_verdict_reject(&v, "11", "014", "documento.codigoGeneracionR");
	}
	if (!v.reject && strcmp(t->tipo_dte, "03") == 0) {
		for (struct sbx_doc *x = sbx_docs(); x; x = x->next) {
			if (x->estado != SBX_PROCESADO || x->invalidated || !x->related)
				continue;
			size_t i;
			const json_t *c;
			json_array_foreach(x->related, i, c)
			{
				if (strcmp(json_string_value(c), t->codigo) == 0)
					sbx_verdict_reject(&v, "14", "028", "documento.codigoGeneracion");
			}
		}
	}
	if (!v.reject) {
		struct sbx_event *ev = sbx_event_add();
		ev->kind = SBX_EVENT_INVALIDACION;
		snprintf(ev->codigo, sizeof(ev->codigo), "%s", codigo);
		snprintf(ev->nit, sizeof(ev->nit), "%s", nit);
		sbx_sello(now, ev->sello);
		snprintf(sello, sizeof(sello), "%s", ev->sello);
		ev->received_at = now;
		ev->payload = json_incref(doc);
		t->invalidated = true;
		snprintf(t->invalidated_by, sizeof(t->invalidated_by), "%s", codigo);
		sbx_stats()->invalidaciones++;
		ev->response = sbx_mh_response(codigo, "PROCESADO", ev->sello, now, "10", "001", "RECIBIDO", NULL);
		sbx_save();
	}
	sbx_unlock();

answer:
	if (v.reject) {
		sbx_reply(resp, 400,
			  sbx_mh_response(codigo, "RECHAZADO", NULL, now, v.clasifica, v.codigo, v.descripcion,
					  json_incref(v.observaciones)));
	} else {
		sbx_reply(resp, 200, sbx_mh_response(codigo, "PROCESADO", sello, now, "10", "001", "RECIBIDO", NULL));
	}
	json_decref(doc);
	json_decref(env);
	sbx_verdict_free(&v);
}

static bool contingency_type(const char *t)
{
	static const char *const allowed[] = {"01", "03", "04", "05", "06", "11", "14"};
	for (size_t i = 0; t && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(t, allowed[i]) == 0)
			return true;
	return false;
}

static json_t *contingency_answer(const char *estado, int64_t now, const char *sello, json_t *obs)
{
	char fh[20];
	sbx_fh(now, fh);
	return json_pack("{s:s, s:s, s:s, s:o, s:o}", "estado", estado, "fechaHora", fh, "mensaje",
			 strcmp(estado, "RECIBIDO") == 0 ? "Documento recibido" : "Validaciones no superadas",
			 "selloRecibido", sello ? json_string(sello) : json_null(), "observaciones", obs);
}

void sbx_contingencia_handle(const struct sbx_req *r, struct sbx_resp *resp)
{
	char nit[SBX_NIT_MAX + 1], sello[SBX_SELLO_LEN + 1] = "";
	struct sbx_verdict v;
	json_t *env = NULL, *doc = NULL;
	int64_t now = sbx_now();

	if (sbx_auth_check(r, nit, resp) != 0)
		return;
	sbx_verdict_init(&v);
	env = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(env)) {
		sbx_verdict_reject(&v, "98", "098", NULL);
		goto answer;
	}
	if (!sbx_str(env, "nit")) {
		sbx_verdict_reject(&v, "11", json_object_get(env, "nit") ? "006" : "005", "nit");
		goto answer;
	}
	if (!sbx_str(env, "documento")) {
		sbx_verdict_reject(&v, "11", json_object_get(env, "documento") ? "006" : "005", "documento");
		goto answer;
	}
	if (strcmp(sbx_str(env, "nit"), nit) != 0) {
		sbx_verdict_reject(&v, "12", "008", "nit");
		goto answer;
	}
	event_document(sbx_str(env, "documento"), nit, "contingencia-schema-v3", &doc, &v);
	if (v.reject)
		goto answer;
	const json_t *id = json_object_get(doc, "identificacion");
	const char *codigo = sbx_str(id, "codigoGeneracion");
	if (strcmp(sbx_str(id, "ambiente"), sbx_cfg.ambiente) != 0) {
		sbx_verdict_reject(&v, "11", "003", "identificacion.ambiente");
		goto answer;
	}
	const json_t *m = json_object_get(doc, "motivo");
	int64_t start = sbx_local_epoch(sbx_str(m, "fInicio"), sbx_str(m, "hInicio"));
	int64_t end = sbx_local_epoch(sbx_str(m, "fFin"), sbx_str(m, "hFin"));
	if (start == INT64_MIN || end == INT64_MIN || end < start || end > now)
		sbx_verdict_reject(&v, "11", "017", "motivo.fFin");
	else if (now > end + 24 * 3600)
		sbx_verdict_reject(&v, "11", "018", "motivo.fFin");
	const json_t *det = json_object_get(doc, "detalleDTE");
	size_t i, k;
	const json_t *it, *other;
	json_array_foreach(det, i, it)
	{
		if (!contingency_type(sbx_str(it, "tipoDoc")))
			sbx_verdict_reject(&v, "11", "007", "detalleDTE.tipoDoc");
		json_array_foreach(det, k, other)
		{
			if (k > i && strcmp(sbx_str(it, "codigoGeneracion"), sbx_str(other, "codigoGeneracion")) == 0)
				sbx_verdict_reject(&v, "11", "025", "detalleDTE.codigoGeneracion");
		}
	}
	if (v.reject)
		goto answer;
	sbx_lock();
	if (sbx_event_find(codigo)) {
		sbx_verdict_reject(&v, "11", "004", "identificacion.codigoGeneracion");
	} else {
		struct sbx_event *ev = sbx_event_add();
		ev->kind = SBX_EVENT_CONTINGENCIA;
		snprintf(ev->codigo, sizeof(ev->codigo), "%s", codigo);
		snprintf(ev->nit, sizeof(ev->nit), "%s", nit);
		sbx_sello(now, ev->sello);
		snprintf(sello, sizeof(sello), "%s", ev->sello);
		ev->received_at = now;
		ev->payload = json_incref(doc);
		ev->response = contingency_answer("RECIBIDO", now, ev->sello, json_array());
		sbx_stats()->contingencias++;
		sbx_save();
	}
	sbx_unlock();
answer:
	if (v.reject) {
		json_t *obs = json_array();
		json_array_append_new(obs, json_string(v.descripcion));
		json_array_extend(obs, v.observaciones);
		sbx_reply(resp, 400, contingency_answer("RECHAZADO", now, NULL, obs));
	} else {
		sbx_reply(resp, 200, contingency_answer("RECIBIDO", now, sello, json_array()));
	}
	json_decref(doc);
	json_decref(env);
	sbx_verdict_free(&v);
}
