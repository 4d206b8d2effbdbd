/*
 * reception.c - POST /fesv/recepciondte and POST /fesv/recepcion/consultadte/
 * (README §1.2, §1.3, §1.5).
 *
 * A reception is checked in MH's order: token; envelope fields; the JWS
 * (structure, RS512, signature with the public key registered for the
 * token's NIT); the payload is JSON; envelope = payload (version, tipoDte,
 * codigoGeneracion, ambiente); the official schema of (tipoDte, version);
 * the stateless rules (rules.c); then, under the state lock, duplicates
 * (codigoGeneracion already PROCESADO -> 004; numeroControl reused in the
 * year -> 004), contingency coverage (012/013/018), related documents of
 * NC/ND (014/015/016), and an injected rejection. Accepted: HTTP 200,
 * PROCESADO, a 40-char selloRecibido, codigoMsg 001 (002 with observations).
 * Rejected: HTTP 400, RECHAZADO, selloRecibido null.
 *
 * A document rejected after its signature verified is remembered as
 * RECHAZADO (consultadte shows it) and may be sent again, corrected, with
 * the same codigoGeneracion; a PROCESADO one never again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jschema.h"
#include "core/log.h"
#include "core/mem.h"
#include "mod/dte/dte_schemas.h"
#include "sbx.h"

static bool upper_uuid(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

/* clasificaMsg for a codigoMsg used by an injected rejection */
static const char *clasifica_for(const char *code)
{
	static const struct {
		const char *code, *clasifica;
	} map[] = {
	    {"008", "12"}, {"009", "12"}, {"010", "12"}, {"011", "12"}, {"014", "14"}, {"015", "14"}, {"016", "14"},
	    {"028", "14"}, {"020", "16"}, {"022", "20"}, {"096", "98"}, {"098", "98"}, {"097", "99"}, {"099", "99"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].code, code) == 0)
			return map[i].clasifica;
	return "11";
}

/* Check one envelope member: present (005), of the right JSON type (006). */
static bool envelope_field(const json_t *env, const char *name, bool want_string, struct sbx_verdict *v)
{
	const json_t *x = json_object_get(env, name);
	if (!x || json_is_null(x) || (json_is_string(x) && json_string_length(x) == 0)) {
		sbx_verdict_reject(v, "11", "005", name);
		return false;
	}
	if (want_string ? !json_is_string(x) : !json_is_integer(x)) {
		sbx_verdict_reject(v, "11", "006", name);
		return false;
	}
	return true;
}

/* payload member (exact number or string) equals the envelope's */
static bool same_int(const json_t *exact, const json_t *plain)
{
	int64_t a;
	struct err e;
	return jschema_is_number(exact) && json_is_integer(plain) && jschema_fixed(exact, 0, &a, &e) == 0 &&
	       a == json_integer_value(plain);
}

/* Schema errors as observaciones "[path] message". */
static void schema_notes(const struct jschema_report *rep, struct sbx_verdict *v)
{
	for (size_t i = 0; i < rep->count && i < SBX_MAX_OBS; i++)
		sbx_verdict_note(v, "[%s] %s", rep->errors[i].path[0] ? rep->errors[i].path : "documento",
				 rep->errors[i].message);
}

/* Verify the JWS for nit; on success *payload = the exact DTE JSON. */
static void verify_document(const char *jws, const char *nit, json_t **payload, struct sbx_verdict *v)
{
	unsigned char *text = NULL;
	size_t len = 0;
	struct err e;

	*payload = NULL;
	sbx_lock();
	struct sbx_emisor *em = sbx_emisor_find(nit);
	const struct jws_key *key = em ? em->key : NULL; /* keys live until exit */
	sbx_unlock();
	if (!key) {
		sbx_verdict_reject(v, "20", "803", NULL);
		sbx_verdict_note(v, "[firma] no hay llave publica registrada para el NIT %s", nit);
		return;
	}
	if (jws_verify_rs512(key, jws, &text, &len, &e) != 0) {
		sbx_verdict_reject(v, "20", "802", NULL);
		sbx_verdict_note(v, "[firma] %s: %s", e.message, e.detail);
		return;
	}
	if (jschema_parse_exact((const char *)text, len, payload, &e) != 0) {
		sbx_verdict_reject(v, "98", "098", "documento");
		sbx_verdict_note(v, "[documento] %s", e.message);
	}
	free(text);
}

/* Peek at the payload's emisor.nit (before choosing the key). */
static int claimed_nit(const char *jws, char out[SBX_NIT_MAX + 1], struct sbx_verdict *v)
{
	unsigned char *text = NULL;
	size_t len = 0;
	json_t *doc = NULL;
	struct err e;

	out[0] = '\0';
	if (jws_peek(jws, &text, &len, &e) != 0) {
		sbx_verdict_reject(v, "20", "802", NULL);
		sbx_verdict_note(v, "[firma] %s: %s", e.message, e.detail);
		return -1;
	}
	if (jschema_parse_exact((const char *)text, len, &doc, &e) != 0) {
		free(text);
		sbx_verdict_reject(v, "98", "098", "documento");
		sbx_verdict_note(v, "[documento] %s", e.message);
		return -1;
	}
	free(text);
	const char *nit = sbx_str(sbx_get(doc, "emisor"), "nit");
	snprintf(out, SBX_NIT_MAX + 1, "%s", nit && strlen(nit) <= SBX_NIT_MAX ? nit : "");
	json_decref(doc);
	return 0;
}

/* Under the lock: contingency coverage of a tipoOperacion 2 document. */
static void check_contingency(const json_t *doc, const char *nit, const char *codigo, int64_t now,
			      struct sbx_verdict *v)
{
	const char *fec = sbx_str(sbx_get(doc, "identificacion"), "fecEmi");
	for (struct sbx_event *ev = sbx_events(); ev; ev = ev->next) {
		if (ev->kind != SBX_EVENT_CONTINGENCIA || strcmp(ev->nit, nit) != 0)
			continue;
		size_t i;
		const json_t *it;
		json_array_foreach(json_object_get(ev->payload, "detalleDTE"), i, it)
		{
			const char *c = sbx_str(it, "codigoGeneracion");
			if (!c || strcmp(c, codigo) != 0)
				continue;
			const json_t *m = json_object_get(ev->payload, "motivo");
			const char *fi = sbx_str(m, "fInicio"), *ff = sbx_str(m, "fFin");
			if (fec && fi && ff && (strcmp(fec, fi) < 0 || strcmp(fec, ff) > 0))
				sbx_verdict_reject(v, "11", "013", "identificacion.fecEmi");
			else if (now > ev->received_at + 72 * 3600)
				sbx_verdict_reject(v, "11", "018", "identificacion.codigoGeneracion");
			return;
		}
	}
	sbx_verdict_reject(v, "11", "012", "identificacion.codigoGeneracion");
}

/* Under the lock: NC/ND documentoRelacionado. Returns the related codes. */
static json_t *check_related(const json_t *doc, const char *tipo, const char *nit, struct sbx_verdict *v)
{
	json_t *codes = json_array(), *numbers = json_array();
	int64_t related_total = 0;
	bool all_electronic = true;
	size_t i;
	const json_t *it;

	json_array_foreach(json_object_get(doc, "documentoRelacionado"), i, it)
	{
		const char *num = sbx_str(it, "numeroDocumento"), *td = sbx_str(it, "tipoDocumento");
		json_t *gen = json_object_get(it, "tipoGeneracion");
		int64_t g = 0;
		struct err e;
		if (num)
			json_array_append_new(numbers, json_string(num));
		if (!jschema_is_number(gen) || jschema_fixed(gen, 0, &g, &e) != 0 || g != 2) {
			all_electronic = false;
			continue;
		}
		struct sbx_doc *rel = num ? sbx_doc_find(num) : NULL;
		if (!rel || rel->estado != SBX_PROCESADO || strcmp(rel->nit, nit) != 0 || !td ||
		    strcmp(rel->tipo_dte, td) != 0) {
			sbx_verdict_reject(v, "14", "014", "documentoRelacionado.numeroDocumento");
			continue;
		}
		if (rel->invalidated) {
			sbx_verdict_reject(v, "14", "015", "documentoRelacionado.numeroDocumento");
			continue;
		}
		related_total += rel->monto_cents;
		json_array_append_new(codes, json_string(rel->codigo));
	}
	json_array_foreach(json_object_get(doc, "cuerpoDocumento"), i, it)
	{
		const char *num = sbx_str(it, "numeroDocumento");
		bool found = false;
		size_t k;
		const json_t *n;
		json_array_foreach(numbers, k, n) found = found || (num && strcmp(json_string_value(n), num) == 0);
		if (num && !found)
			sbx_verdict_reject(v, "15", "027", "cuerpoDocumento.numeroDocumento");
	}
	if (strcmp(tipo, "05") == 0 && all_electronic && json_array_size(codes) > 0 &&
	    sbx_rules_monto_cents(doc, tipo) > related_total)
		sbx_verdict_reject(v, "14", "016", "resumen.montoTotalOperacion");
	json_decref(numbers);
	return codes;
}

void sbx_reception_handle(const struct sbx_req *r, struct sbx_resp *resp)
{
	char nit[SBX_NIT_MAX + 1], claimed[SBX_NIT_MAX + 1];
	struct sbx_verdict v;
	json_t *env = NULL, *doc = NULL, *related = NULL;
	const char *codigo = NULL, *jws = NULL, *tipo = NULL;
	int64_t now = sbx_now();
	bool verified = false;
	struct jschema_report *rep = NULL;
	struct err e;

	if (sbx_auth_check(r, nit, resp) != 0)
		return;
	sbx_verdict_init(&v);
	env = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(env)) {
		sbx_verdict_reject(&v, "98", "098", NULL);
		goto answer;
	}
	codigo = sbx_str(env, "codigoGeneracion");
	if (!envelope_field(env, "ambiente", true, &v) || !envelope_field(env, "idEnvio", false, &v) ||
	    !envelope_field(env, "version", false, &v) || !envelope_field(env, "tipoDte", true, &v) ||
	    !envelope_field(env, "documento", true, &v) || !envelope_field(env, "codigoGeneracion", true, &v))
		goto answer;
	if (strcmp(sbx_str(env, "ambiente"), sbx_cfg.ambiente) != 0) {
		sbx_verdict_reject(&v, "11", "003", "ambiente");
		goto answer;
	}
	if (!upper_uuid(codigo)) {
		sbx_verdict_reject(&v, "11", "006", "codigoGeneracion");
		goto answer;
	}
	jws = sbx_str(env, "documento");
	tipo = sbx_str(env, "tipoDte");
	int version = (int)json_integer_value(json_object_get(env, "version"));

	/* the signature, with the key of the contributor who claims it */
	if (claimed_nit(jws, claimed, &v) != 0)
		goto answer;
	if (strcmp(claimed, nit) != 0) {
		sbx_verdict_reject(&v, "12", "008", "emisor.nit");
		goto answer;
	}
	verify_document(jws, nit, &doc, &v);
	if (v.reject)
		goto answer;
	verified = true;

	/* envelope = payload */
	const json_t *id = json_object_get(doc, "identificacion");
	if (!same_int(json_object_get(id, "version"), json_object_get(env, "version")))
		sbx_verdict_reject(&v, "11", "027", "identificacion.version");
	else if (!sbx_str(id, "tipoDte") || strcmp(sbx_str(id, "tipoDte"), tipo) != 0)
		sbx_verdict_reject(&v, "11", "027", "identificacion.tipoDte");
	else if (!sbx_str(id, "codigoGeneracion") || strcmp(sbx_str(id, "codigoGeneracion"), codigo) != 0)
		sbx_verdict_reject(&v, "11", "027", "identificacion.codigoGeneracion");
	else if (!sbx_str(id, "ambiente") || strcmp(sbx_str(id, "ambiente"), sbx_str(env, "ambiente")) != 0)
		sbx_verdict_reject(&v, "11", "027", "identificacion.ambiente");
	if (v.reject)
		goto answer;

	/* the official schema */
	const char *schema_name = dte_schema_name(tipo, version);
	const struct jschema *schema = NULL;
	if (!schema_name) {
		bool known_type = dte_schema_name(tipo, 1) || dte_schema_name(tipo, 3);
		sbx_verdict_reject(&v, "11", "003", known_type ? "version" : "tipoDte");
		goto answer;
	}
	if (dte_schema_get(schema_name, &schema, &e) != 0) {
		log_error("msg=\"schema unavailable\" schema=%s reason=\"%s\"", schema_name, e.message);
		sbx_verdict_reject(&v, "99", "099", NULL);
		goto answer;
	}
	rep = xmalloc(sizeof(*rep));
	if (jschema_validate(schema, doc, rep, &e) != 0 && dte_schema_first_real_error(rep) >= 0) {
		sbx_verdict_reject(&v, "98", "096", NULL);
		schema_notes(rep, &v);
		goto answer;
	}

	/* MH's rules */
	sbx_rules_dte(doc, tipo, now, &v);
	if (v.reject)
		goto answer;

answer:;
	/* state: duplicates, contingency, related documents, and the record */
	int status;
	json_t *body;
	sbx_lock();
	struct sbx_doc *d = verified ? sbx_doc_find(codigo) : NULL;
	if (verified) {
		const json_t *id2 = json_object_get(doc, "identificacion");
		const char *nc = sbx_str(id2, "numeroControl"), *fec = sbx_str(id2, "fecEmi");
		if (d)
			d->attempts++;
		if (!v.reject && d && d->estado == SBX_PROCESADO)
			sbx_verdict_reject(&v, "11", "004", "identificacion.codigoGeneracion");
		if (!v.reject && nc && fec) {
			struct sbx_doc *same = sbx_doc_find_numero(nit, nc, fec);
			if (same && strcmp(same->codigo, codigo) != 0)
				sbx_verdict_reject(&v, "11", "004", "identificacion.numeroControl");
		}
		const json_t *op = json_object_get(id2, "tipoOperacion");
		int64_t oper = 1;
		if (jschema_is_number(op) && jschema_fixed(op, 0, &oper, &e) != 0)
			oper = 1;
		if (!v.reject && oper == 2)
			check_contingency(doc, nit, codigo, now, &v);
		if (!v.reject && (strcmp(tipo, "05") == 0 || strcmp(tipo, "06") == 0))
			related = check_related(doc, tipo, nit, &v);
		char forced[4];
		if (!v.reject && sbx_faults_take_reject(forced)) {
			sbx_stats()->faults_rejected++;
			sbx_verdict_reject(&v, clasifica_for(forced), forced, NULL);
			sbx_verdict_note(&v, "rechazo forzado por la inyeccion de fallas del sandbox");
		}
		if (!d || d->estado != SBX_PROCESADO) {
			if (!d) {
				d = sbx_doc_add();
				d->attempts = 1;
			}
			snprintf(d->codigo, sizeof(d->codigo), "%s", codigo);
			snprintf(d->nit, sizeof(d->nit), "%s", nit);
			snprintf(d->tipo_dte, sizeof(d->tipo_dte), "%s", tipo);
			d->version = (int)json_integer_value(json_object_get(env, "version"));
			snprintf(d->numero_control, sizeof(d->numero_control), "%s", nc ? nc : "");
			snprintf(d->fec_emi, sizeof(d->fec_emi), "%s", fec ? fec : "");
			d->tipo_operacion = (int)oper;
			d->processed_at = now;
			d->estado = v.reject ? SBX_RECHAZADO : SBX_PROCESADO;
			d->monto_cents = sbx_rules_monto_cents(doc, tipo);
			if (!v.reject)
				sbx_sello(now, d->sello);
			json_decref(d->related);
			d->related = related;
			related = NULL;
			json_decref(d->payload);
			d->payload = json_incref(doc);
			free(d->jws);
			d->jws = xstrdup(jws);
		}
	}
	if (v.reject) {
		sbx_stats()->rechazado++;
		status = 400;
		body = sbx_mh_response(codigo, "RECHAZADO", NULL, now, v.clasifica, v.codigo, v.descripcion,
				       json_incref(v.observaciones));
	} else {
		bool notes = json_array_size(v.observaciones) > 0;
		sbx_stats()->procesado++;
		status = 200;
		body = sbx_mh_response(codigo, "PROCESADO", d->sello, now, "10", notes ? "002" : "001",
				       notes ? "RECIBIDO CON OBSERVACIONES" : "RECIBIDO", json_incref(v.observaciones));
	}
	/* remember the answer (not for a duplicate of a sealed document) */
	if (verified && d && !(v.reject && d->estado == SBX_PROCESADO)) {
		json_decref(d->response);
		d->response = json_deep_copy(body);
	}
	sbx_save();
	sbx_unlock();
	sbx_reply(resp, status, body);
	json_decref(related);
	free(rep);
	json_decref(doc);
	json_decref(env);
	sbx_verdict_free(&v);
}

void sbx_consulta_handle(const struct sbx_req *r, struct sbx_resp *resp)
{
	char nit[SBX_NIT_MAX + 1];
	struct sbx_verdict v;
	json_t *q;
	const char *codigo = NULL;

	if (sbx_auth_check(r, nit, resp) != 0)
		return;
	sbx_verdict_init(&v);
	q = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(q)) {
		sbx_verdict_reject(&v, "98", "098", NULL);
		goto rejected;
	}
	codigo = sbx_str(q, "codigoGeneracion");
	if (!envelope_field(q, "nitEmisor", true, &v) || !envelope_field(q, "tdte", true, &v) ||
	    !envelope_field(q, "codigoGeneracion", true, &v))
		goto rejected;
	if (strcmp(sbx_str(q, "nitEmisor"), nit) != 0) {
		sbx_verdict_reject(&v, "12", "008", "nitEmisor");
		goto rejected;
	}
	sbx_lock();
	sbx_stats()->consultas++;
	struct sbx_doc *d = sbx_doc_find(codigo);
	if (!d || strcmp(d->nit, nit) != 0 || strcmp(d->tipo_dte, sbx_str(q, "tdte")) != 0 || !d->response) {
		sbx_unlock();
		json_t *body = sbx_mh_response(codigo, "RECHAZADO", NULL, sbx_now(), "11", "014",
					       "[codigoGeneracion] NO EXISTE UN REGISTRO CON ESTE DATO", NULL);
		json_object_set_new(body, "estado", json_null());
		sbx_reply(resp, 404, body);
		goto out;
	}
	json_t *body = json_deep_copy(d->response);
	sbx_unlock();
	sbx_reply(resp, 200, body);
	goto out;
rejected:
	sbx_reply(resp, 400,
		  sbx_mh_response(codigo, "RECHAZADO", NULL, sbx_now(), v.clasifica, v.codigo, v.descripcion,
				  json_incref(v.observaciones)));
out:
	json_decref(q);
	sbx_verdict_free(&v);
}
