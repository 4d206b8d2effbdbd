/*
 * state.c - what the MH sandbox remembers: received documents (by
 * codigoGeneracion), events (invalidación, contingencia), emisores (NIT,
 * API password hash, public key), the token secret, statistics.
 *
 * PERSISTENCE. With --state FILE every change rewrites FILE atomically
 * (write FILE.tmp, fsync, rename) while the lock is held, and start-up
 * reads it back: the sandbox can be killed and restarted and still knows
 * every sello it gave, every event, the emisores registered through
 * /_sandbox/emisores, the clock offset and the token secret (issued tokens
 * stay valid). Without --state everything lives in memory only. Emisores
 * found in --certs DIR are not written (the directory is the source).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/jschema.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "mod/dte/dte_keys.h"
#include "sbx.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sbx_doc *docs, **docs_tail = &docs;
static struct sbx_event *events, **events_tail = &events;
static struct sbx_emisor *emisores;
static struct jws_key *retired_keys[256]; /* replaced keys: borrowed pointers may still be in use */
static size_t nretired;
static struct sbx_stats stats;
static unsigned char token_secret[32];
static bool secret_ready;
static int64_t token_generation = 1;

void sbx_lock(void)
{
	pthread_mutex_lock(&lock);
}

void sbx_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

struct sbx_doc *sbx_docs(void)
{
	return docs;
}

struct sbx_event *sbx_events(void)
{
	return events;
}

struct sbx_emisor *sbx_emisores(void)
{
	return emisores;
}

struct sbx_stats *sbx_stats(void)
{
	return &stats;
}

const unsigned char *sbx_token_secret(void)
{
	if (!secret_ready) {
		crypto_random(token_secret, sizeof(token_secret));
		secret_ready = true;
	}
	return token_secret;
}

int64_t sbx_token_generation(void)
{
	return token_generation;
}

void sbx_token_generation_bump(void)
{
	token_generation++;
	sbx_save();
}

struct sbx_doc *sbx_doc_find(const char *codigo)
{
	for (struct sbx_doc *d = docs; d; d = d->next)
		if (strcmp(d->codigo, codigo) == 0)
			return d;
	return NULL;
}

struct sbx_doc *sbx_doc_find_numero(const char *nit, const char *numero_control, const char *year)
{
	for (struct sbx_doc *d = docs; d; d = d->next)
		if (d->estado == SBX_PROCESADO && strcmp(d->nit, nit) == 0 &&
		    strcmp(d->numero_control, numero_control) == 0 && strncmp(d->fec_emi, year, 4) == 0)
			return d;
	return NULL;
}

struct sbx_doc *sbx_doc_add(void)
{
	struct sbx_doc *d = xcalloc(1, sizeof(*d));
	*docs_tail = d;
	docs_tail = &d->next;
	return d;
}

struct sbx_event *sbx_event_find(const char *codigo)
{
	for (struct sbx_event *ev = events; ev; ev = ev->next)
		if (strcmp(ev->codigo, codigo) == 0)
			return ev;
	return NULL;
}

struct sbx_event *sbx_event_add(void)
{
	struct sbx_event *ev = xcalloc(1, sizeof(*ev));
	*events_tail = ev;
	events_tail = &ev->next;
	return ev;
}

/* ---- emisores ---- */

struct sbx_emisor *sbx_emisor_put(const char *nit, const char *password, struct jws_key *key, const char *source)
{
	struct sbx_emisor *em;
	for (em = emisores; em; em = em->next)
		if (strcmp(em->nit, nit) == 0)
			break;
	if (!em) {
		em = xcalloc(1, sizeof(*em));
		snprintf(em->nit, sizeof(em->nit), "%s", nit);
		em->next = emisores;
		emisores = em;
	}
	if (password)
		crypto_sha256_hex(password, strlen(password), em->pwd_sha256);
	if (key) {
		if (em->key) {
			if (nretired < sizeof(retired_keys) / sizeof(retired_keys[0]))
				retired_keys[nretired++] = em->key;
			else
				log_warn("msg=\"too many key replacements; old key leaked on purpose\"");
		}
		em->key = key;
	}
	snprintf(em->source, sizeof(em->source), "%s", source);
	return em;
}

/* Try DIR/<nit>.pem, DIR/<nit>.crt (MH's file: its public key). */
static struct jws_key *key_from_dir(const char *nit)
{
	static const char *const exts[] = {".pem", ".crt", ".pub"};
	if (!sbx_cfg.certs_dir[0] || !sbx_nit_valid(nit))
		return NULL;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		char path[700];
		snprintf(path, sizeof(path), "%s/%s%s", sbx_cfg.certs_dir, nit, exts[i]);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		char *buf = xmalloc(DTE_KEYS_FILE_MAX + 1);
		size_t n = fread(buf, 1, DTE_KEYS_FILE_MAX, f);
		fclose(f);
		buf[n] = '\0';
		struct jws_key *key = NULL;
		char file_nit[DTE_NIT_MAX + 1];
		struct err e;
		if (dte_keys_public_from_text(buf, n, &key, file_nit, &e) != 0)
			log_warn("msg=\"unusable key file\" path=%s reason=\"%s\"", path, e.message);
		else if (file_nit[0] && strcmp(file_nit, nit) != 0)
			log_warn("msg=\"MH certificate file names another NIT\" path=%s", path);
		mem_wipe(buf, n);
		free(buf);
		if (key)
			return key;
	}
	return NULL;
}

struct sbx_emisor *sbx_emisor_find(const char *nit)
{
	struct sbx_emisor *em;
	if (!nit)
		return NULL;
	for (em = emisores; em; em = em->next)
		if (strcmp(em->nit, nit) == 0)
			break;
	if (em && em->key)
		return em;
	struct jws_key *key = key_from_dir(nit);
	if (!key)
		return em;
	return sbx_emisor_put(nit, NULL, key, em ? em->source : "certs-dir");
}

/* ---- reset / free ---- */

static void docs_free(void)
{
	for (struct sbx_doc *d = docs, *next; d; d = next) {
		next = d->next;
		json_decref(d->related);
		json_decref(d->response);
		json_decref(d->payload);
		free(d->jws);
		free(d);
	}
	docs = NULL;
	docs_tail = &docs;
	for (struct sbx_event *ev = events, *next; ev; ev = next) {
		next = ev->next;
		json_decref(ev->payload);
		json_decref(ev->response);
		free(ev);
	}
	events = NULL;
	events_tail = &events;
}

void sbx_state_reset(void)
{
	docs_free();
	memset(&stats, 0, sizeof(stats));
	sbx_save();
}

void sbx_state_free(void)
{
	docs_free();
	for (struct sbx_emisor *em = emisores, *next; em; em = next) {
		next = em->next;
		jws_key_free(em->key);
		free(em);
	}
	emisores = NULL;
	for (size_t i = 0; i < nretired; i++)
		jws_key_free(retired_keys[i]);
	nretired = 0;
	mem_wipe(token_secret, sizeof(token_secret));
}

/* ---- persistence ---- */

static json_t *doc_json(const struct sbx_doc *d)
{
	return json_pack(
	    "{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:I, s:I, s:b, s:s, s:i, s:O?, s:O?, s:O?, s:s?}",
	    "codigoGeneracion", d->codigo, "nit", d->nit, "tipoDte", d->tipo_dte, "version", d->version,
	    "numeroControl", d->numero_control, "fecEmi", d->fec_emi, "tipoOperacion", d->tipo_operacion, "estado",
	    d->estado == SBX_PROCESADO ? "PROCESADO" : "RECHAZADO", "selloRecibido", d->sello, "processedAt",
	    (json_int_t)d->processed_at, "montoCents", (json_int_t)d->monto_cents, "invalidated", d->invalidated,
	    "invalidatedBy", d->invalidated_by, "attempts", d->attempts, "related", d->related, "response", d->response,
	    "payload", d->payload, "jws", d->jws);
}

static json_t *event_json(const struct sbx_event *ev)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:O?, s:O?}", "kind",
			 ev->kind == SBX_EVENT_INVALIDACION ? "invalidacion" : "contingencia", "codigoGeneracion",
			 ev->codigo, "nit", ev->nit, "selloRecibido", ev->sello, "receivedAt",
			 (json_int_t)ev->received_at, "payload", ev->payload, "response", ev->response);
}

void sbx_save(void)
{
	char tmp[600];
	json_t *root, *jd, *je, *jm;
	int fd;

	if (!sbx_cfg.state_path[0])
		return;
	char *secret_hex = hex_encode(sbx_token_secret(), sizeof(token_secret));
	root = json_pack("{s:i, s:s, s:I, s:I}", "format", 1, "tokenSecret", secret_hex, "tokenGeneration",
			 (json_int_t)token_generation, "clockOffset", (json_int_t)sbx_clock_offset());
	mem_wipe(secret_hex, strlen(secret_hex));
	free(secret_hex);
	jd = json_array();
	for (struct sbx_doc *d = docs; d; d = d->next)
		json_array_append_new(jd, doc_json(d));
	je = json_array();
	for (struct sbx_event *ev = events; ev; ev = ev->next)
		json_array_append_new(je, event_json(ev));
	jm = json_array();
	for (struct sbx_emisor *em = emisores; em; em = em->next) {
		if (strcmp(em->source, "certs-dir") == 0)
			continue;
		char *pem = em->key ? jws_key_public_pem_text(em->key) : NULL;
		json_array_append_new(jm, json_pack("{s:s, s:s, s:s?, s:s}", "nit", em->nit, "pwdSha256",
						    em->pwd_sha256, "publicKeyPem", pem, "source", em->source));
		free(pem);
	}
	json_object_set_new(root, "documents", jd);
	json_object_set_new(root, "events", je);
	json_object_set_new(root, "emisores", jm);
	json_object_set_new(root, "stats",
			    json_pack("{s:I, s:I, s:I, s:I, s:I}", "procesado", (json_int_t)stats.procesado,
				      "rechazado", (json_int_t)stats.rechazado, "consultas",
				      (json_int_t)stats.consultas, "invalidaciones", (json_int_t)stats.invalidaciones,
				      "contingencias", (json_int_t)stats.contingencias));

	snprintf(tmp, sizeof(tmp), "%s.tmp", sbx_cfg.state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("msg=\"cannot write the state file\" path=%s error=\"%s\"", tmp, strerror(errno));
		json_decref(root);
		return;
	}
	if (json_dumpfd(root, fd, JSON_COMPACT) != 0 || fsync(fd) != 0) {
		log_error("msg=\"cannot write the state file\" path=%s", tmp);
		close(fd);
		unlink(tmp);
		json_decref(root);
		return;
	}
	close(fd);
	if (rename(tmp, sbx_cfg.state_path) != 0)
		log_error("msg=\"cannot replace the state file\" path=%s error=\"%s\"", sbx_cfg.state_path,
			  strerror(errno));
	json_decref(root);
}

static void copy_str(char *dst, size_t size, const json_t *obj, const char *name)
{
	const char *s = sbx_str(obj, name);
	snprintf(dst, size, "%s", s ? s : "");
}

static json_t *take(const json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);
	return v && !json_is_null(v) ? json_incref(v) : NULL;
}

int sbx_state_load(struct err *e)
{
	json_error_t je;
	json_t *root;
	size_t i;
	json_t *it;

	if (!sbx_cfg.state_path[0] || access(sbx_cfg.state_path, F_OK) != 0)
		return 0;
	root = json_load_file(sbx_cfg.state_path, 0, &je);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_INVALID, "state", "state file %s is not valid JSON (line %d: %s)",
			       sbx_cfg.state_path, je.line, je.text);
	}
	const char *secret = sbx_str(root, "tokenSecret");
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	struct err sub;
	if (secret && hex_decode(secret, &raw, &raw_len, &sub) == 0 && raw_len == sizeof(token_secret)) {
		memcpy(token_secret, raw, sizeof(token_secret));
		secret_ready = true;
	}
	if (raw) {
		mem_wipe(raw, raw_len);
		free(raw);
	}
	json_t *g = json_object_get(root, "tokenGeneration");
	if (json_is_integer(g))
		token_generation = json_integer_value(g);
	g = json_object_get(root, "clockOffset");
	if (json_is_integer(g))
		sbx_clock_set_offset(json_integer_value(g));
	json_array_foreach(json_object_get(root, "documents"), i, it)
	{
		struct sbx_doc *d = sbx_doc_add();
		copy_str(d->codigo, sizeof(d->codigo), it, "codigoGeneracion");
		copy_str(d->nit, sizeof(d->nit), it, "nit");
		copy_str(d->tipo_dte, sizeof(d->tipo_dte), it, "tipoDte");
		d->version = (int)json_integer_value(json_object_get(it, "version"));
		copy_str(d->numero_control, sizeof(d->numero_control), it, "numeroControl");
		copy_str(d->fec_emi, sizeof(d->fec_emi), it, "fecEmi");
		d->tipo_operacion = (int)json_integer_value(json_object_get(it, "tipoOperacion"));
		const char *estado = sbx_str(it, "estado");
		d->estado = estado && strcmp(estado, "PROCESADO") == 0 ? SBX_PROCESADO : SBX_RECHAZADO;
		copy_str(d->sello, sizeof(d->sello), it, "selloRecibido");
		d->processed_at = json_integer_value(json_object_get(it, "processedAt"));
		d->monto_cents = json_integer_value(json_object_get(it, "montoCents"));
		d->invalidated = json_is_true(json_object_get(it, "invalidated"));
		copy_str(d->invalidated_by, sizeof(d->invalidated_by), it, "invalidatedBy");
		d->attempts = (int)json_integer_value(json_object_get(it, "attempts"));
		d->related = take(it, "related");
		d->response = take(it, "response");
		d->payload = take(it, "payload");
		const char *jws = sbx_str(it, "jws");
		d->jws = jws ? xstrdup(jws) : NULL;
	}
	json_array_foreach(json_object_get(root, "events"), i, it)
	{
		struct sbx_event *ev = sbx_event_add();
		const char *kind = sbx_str(it, "kind");
		ev->kind = kind && strcmp(kind, "invalidacion") == 0 ? SBX_EVENT_INVALIDACION : SBX_EVENT_CONTINGENCIA;
		copy_str(ev->codigo, sizeof(ev->codigo), it, "codigoGeneracion");
		copy_str(ev->nit, sizeof(ev->nit), it, "nit");
		copy_str(ev->sello, sizeof(ev->sello), it, "selloRecibido");
		ev->received_at = json_integer_value(json_object_get(it, "receivedAt"));
		ev->payload = take(it, "payload");
		ev->response = take(it, "response");
	}
	json_array_foreach(json_object_get(root, "emisores"), i, it)
	{
		const char *nit = sbx_str(it, "nit"), *pem = sbx_str(it, "publicKeyPem");
		struct jws_key *key = NULL;
		if (!nit || !sbx_nit_valid(nit))
			continue;
		if (pem && jws_key_public_pem(pem, strlen(pem), &key, &sub) != 0)
			log_warn("msg=\"state file: unusable public key\" nit=%s", nit);
		struct sbx_emisor *em =
		    sbx_emisor_put(nit, NULL, key, sbx_str(it, "source") ? sbx_str(it, "source") : "control");
		copy_str(em->pwd_sha256, sizeof(em->pwd_sha256), it, "pwdSha256");
	}
	json_t *st = json_object_get(root, "stats");
	stats.procesado = (long)json_integer_value(json_object_get(st, "procesado"));
	stats.rechazado = (long)json_integer_value(json_object_get(st, "rechazado"));
	stats.consultas = (long)json_integer_value(json_object_get(st, "consultas"));
	stats.invalidaciones = (long)json_integer_value(json_object_get(st, "invalidaciones"));
	stats.contingencias = (long)json_integer_value(json_object_get(st, "contingencias"));
	json_decref(root);
	return 0;
}
