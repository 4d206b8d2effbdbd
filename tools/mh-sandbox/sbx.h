/*
 * sbx.h - the MH sandbox's internal interfaces (tools/mh-sandbox only).
 *
 * build/clinicledger-mh-sandbox is a local stand-in for the Ministerio de
 * Hacienda's DTE web services (../shared/dte-sv/README.md §1): the same
 * paths, request and response shapes and codes, backed by an in-memory
 * store that can be persisted to a file. docs/mh-sandbox.md is the user
 * manual. One file per job:
 *
 *   main.c       options (flags and environment), start-up, signals
 *   http.c       libmicrohttpd glue: bodies, routing, JSON replies
 *   auth.c       POST /seguridad/auth, bearer tokens (HS512 JWT), emisores
 *   reception.c  POST /fesv/recepciondte, POST /fesv/recepcion/consultadte/
 *   rules.c      MH's business rules on a DTE (numeroControl, dates, totals)
 *   events.c     POST /fesv/anulardte, POST /fesv/contingencia
 *   faults.c     fault injection (latency, hangs, 5xx bursts, rejections)
 *   state.c      documents, events, emisores and their persistence
 *   control.c    /_sandbox/... endpoints for tests and operators
 *   util.c       MH's response bodies, clock, sellos, small helpers
 *
 * Threads: libmicrohttpd runs one thread per connection; everything shared
 * lives in state.c behind one mutex (sbx_lock/sbx_unlock) or in faults.c
 * behind its own.
 */
#ifndef CL_TOOLS_MH_SANDBOX_SBX_H
#define CL_TOOLS_MH_SANDBOX_SBX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "crypto/jws.h"

#define SBX_BODY_MAX  (16u << 20) /* larger request bodies get 413 */
#define SBX_NIT_MAX   14
#define SBX_CODE_LEN  36 /* codigoGeneracion */
#define SBX_SELLO_LEN 40
#define SBX_MAX_OBS   20 /* observaciones returned per rejection */

/* ---- configuration (main.c) ---- */

struct sbx_config {
	char host[64];
	int port;	      /* 0: any free port (see port_file) */
	char port_file[512];  /* written with the port once listening */
	char ambiente[3];     /* "00" prueba (default) or "01" */
	char state_path[512]; /* "" = memory only */
	char certs_dir[512];  /* public keys per NIT: <NIT>.pem | <NIT>.crt */
	int token_ttl_s;      /* bearer token lifetime */
	int max_past_days;    /* normal transmission: fecEmi >= today - N */
	bool calc_observe;    /* CALCULO INCORRECTO as 002 observations, not a rejection */
	bool verbose;	      /* one log line per request */
};

extern struct sbx_config sbx_cfg;

/* ---- HTTP (http.c) ---- */

struct sbx_req {
	const char *method;
	const char *path;
	const char *authorization; /* header value or NULL */
	const char *content_type;  /* header value or NULL */
	const char *body;	   /* NUL-terminated, body_len bytes */
	size_t body_len;
	void *conn; /* for sbx_query */
};

struct sbx_resp {
	int status;
	json_t *json; /* owned body (NULL: empty body) */
	bool drop;    /* close the connection without any answer */
};

/* Query-string value or NULL. Borrowed. */
const char *sbx_query(const struct sbx_req *r, const char *name);
/* Start listening (fills sbx_cfg.port when it was 0). */
int sbx_http_start(struct err *e);
void sbx_http_stop(void);
/* Set when the process is stopping: long sleeps end early. */
bool sbx_stopping(void);
void sbx_request_stop(void);
/* Sleep up to ms milliseconds; returns early when stopping. */
void sbx_sleep_ms(int64_t ms);

/* Reply helpers: take ownership of body. */
void sbx_reply(struct sbx_resp *resp, int status, json_t *body);
/* Spring-style error body {timestamp,status,error,message,path}. */
void sbx_reply_error(struct sbx_resp *resp, const struct sbx_req *r, int status, const char *message);

/* ---- handlers ---- */

void sbx_auth_handle(const struct sbx_req *r, struct sbx_resp *resp);
void sbx_reception_handle(const struct sbx_req *r, struct sbx_resp *resp);
void sbx_consulta_handle(const struct sbx_req *r, struct sbx_resp *resp);
void sbx_anular_handle(const struct sbx_req *r, struct sbx_resp *resp);
void sbx_contingencia_handle(const struct sbx_req *r, struct sbx_resp *resp);
void sbx_control_handle(const struct sbx_req *r, struct sbx_resp *resp);

/* ---- auth (auth.c) ---- */

/* Check the Authorization header: 0 and the token's NIT in nit_out, or -1
 * with resp set to MH's 401. */
int sbx_auth_check(const struct sbx_req *r, char nit_out[SBX_NIT_MAX + 1], struct sbx_resp *resp);
/* Issue a token for nit (used by the auth endpoint). Owned "Bearer ...". */
char *sbx_token_issue(const char *nit);
/* Invalidate every token issued so far. */
void sbx_tokens_expire_all(void);

/* ---- state (state.c) ---- */

enum sbx_doc_estado { SBX_PROCESADO = 1, SBX_RECHAZADO = 2 };

struct sbx_doc {
	char codigo[SBX_CODE_LEN + 1];
	char nit[SBX_NIT_MAX + 1];
	char tipo_dte[3];
	int version;
	char numero_control[32];
	char fec_emi[11];
	int tipo_operacion;
	enum sbx_doc_estado estado;
	char sello[SBX_SELLO_LEN + 1];
	int64_t processed_at; /* epoch s (sandbox clock) */
	int64_t monto_cents;  /* resumen.montoTotalOperacion (or totalCompra for 14) */
	bool invalidated;
	char invalidated_by[SBX_CODE_LEN + 1]; /* event codigoGeneracion */
	int attempts;			       /* recepciondte calls that named this codigoGeneracion */
	json_t *related;		       /* array of related codigoGeneracion (NC/ND), or NULL */
	json_t *response;		       /* MH's last answer for it (owned) */
	json_t *payload;		       /* the DTE JSON (exact numbers; owned) */
	char *jws;			       /* the signed document as received (owned) */
	struct sbx_doc *next;
};

enum sbx_event_kind { SBX_EVENT_INVALIDACION = 1, SBX_EVENT_CONTINGENCIA = 2 };

struct sbx_event {
	enum sbx_event_kind kind;
	char codigo[SBX_CODE_LEN + 1];
	char nit[SBX_NIT_MAX + 1];
	char sello[SBX_SELLO_LEN + 1];
	int64_t received_at;
	json_t *payload;  /* owned */
	json_t *response; /* owned */
	struct sbx_event *next;
};

struct sbx_emisor {
	char nit[SBX_NIT_MAX + 1];
	char pwd_sha256[65]; /* "" = any password (not configured) */
	struct jws_key *key; /* public key; kept until exit */
	char source[16];     /* "flag" | "env" | "certs-dir" | "control" */
	struct sbx_emisor *next;
};

struct sbx_stats {
	long requests, auth_ok, auth_failed, unauthorized;
	long procesado, rechazado, consultas, invalidaciones, contingencias;
	long faults_5xx, faults_dropped, faults_hung, faults_rejected;
};

void sbx_lock(void);
void sbx_unlock(void);
/* Under the lock: */
struct sbx_doc *sbx_doc_find(const char *codigo);
struct sbx_doc *sbx_doc_find_numero(const char *nit, const char *numero_control, const char *year);
struct sbx_doc *sbx_doc_add(void); /* zeroed, linked; fill then sbx_save */
struct sbx_event *sbx_event_find(const char *codigo);
struct sbx_event *sbx_event_add(void);
struct sbx_doc *sbx_docs(void);
struct sbx_event *sbx_events(void);
struct sbx_emisor *sbx_emisores(void);
struct sbx_stats *sbx_stats(void);
/* The emisor for nit, loading DIR/<nit>.pem|.crt on a miss. NULL if unknown. */
struct sbx_emisor *sbx_emisor_find(const char *nit);
/* Register or replace an emisor (password may be NULL = any; key owned by
 * the emisor afterwards). */
struct sbx_emisor *sbx_emisor_put(const char *nit, const char *password, struct jws_key *key, const char *source);
/* Token secret and generation (auth.c), persisted with the state. */
const unsigned char *sbx_token_secret(void);
int64_t sbx_token_generation(void);
void sbx_token_generation_bump(void);
/* Forget documents, events and statistics (not emisores, not tokens). */
void sbx_state_reset(void);
/* Write the state file (when configured); errors are logged. */
void sbx_save(void);
/* Read the state file (when configured and present). */
int sbx_state_load(struct err *e);
void sbx_state_free(void);

/* ---- faults (faults.c) ---- */

/* Apply latency / hang / 5xx to an MH request. Returns true when the fault
 * produced the whole answer (resp filled or resp->drop set). */
bool sbx_faults_before(const struct sbx_req *r, struct sbx_resp *resp);
/* A forced rejection for the next DTE reception, if armed: codigoMsg into
 * code[4] (e.g. "020"). Takes only the faults lock: may be called with the
 * state lock held (the caller counts it in the stats). */
bool sbx_faults_take_reject(char code[4]);
json_t *sbx_faults_json(void); /* owned */
int sbx_faults_update(const json_t *body, struct err *e);
void sbx_faults_reset(void);
/* Configure from MH_SANDBOX_* environment / flags (main.c). */
int sbx_faults_set(const char *name, const char *value, struct err *e);

/* ---- rules (rules.c) ---- */

/* MH's verdict on a document: reject = RECHAZADO with clasificaMsg,
 * codigoMsg, descripcionMsg and observaciones; otherwise observaciones may
 * hold 002 notes. */
struct sbx_verdict {
	bool reject;
	char clasifica[3];
	char codigo[4];
	char descripcion[256];
	json_t *observaciones; /* owned array of strings */
};

void sbx_verdict_init(struct sbx_verdict *v);
void sbx_verdict_free(struct sbx_verdict *v);
/* Reject with code (MH's message for it) about field ("[field] TEXT"). */
void sbx_verdict_reject(struct sbx_verdict *v, const char *clasifica, const char *code, const char *field);
/* Add an observation line. */
void sbx_verdict_note(struct sbx_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stateless checks of a schema-valid DTE (doc with exact numbers):
 * numeroControl, fecEmi window, totals. now = sandbox epoch seconds. */
void sbx_rules_dte(const json_t *doc, const char *tipo_dte, int64_t now, struct sbx_verdict *v);
/* resumen amount in cents used for NC/ND limits (montoTotalOperacion or
 * totalCompra); 0 when absent. */
int64_t sbx_rules_monto_cents(const json_t *doc, const char *tipo_dte);

/* ---- utilities (util.c) ---- */

/* Sandbox clock: real time + the offset set through /_sandbox/clock. */
int64_t sbx_now(void);
void sbx_clock_set_offset(int64_t offset_s);
int64_t sbx_clock_offset(void);
/* El Salvador (UTC-6, no DST) local date "YYYY-MM-DD" and time "HH:MM:SS". */
void sbx_local(int64_t epoch_s, char date[11], char time_of_day[9]);
/* "dd/MM/yyyy HH:mm:ss" in El Salvador time into out[20]. */
void sbx_fh(int64_t epoch_s, char out[20]);
/* Epoch seconds of a local El Salvador date + time ("HH:MM:SS" or "HH:MM:S"). */
int64_t sbx_local_epoch(const char *date, const char *time_of_day);
/* A new 40-char sello: year + 36 of [A-Z0-9], into out[41]. */
void sbx_sello(int64_t epoch_s, char out[SBX_SELLO_LEN + 1]);
/* MH's text for a codigoMsg ("004" -> "YA EXISTE UN REGISTRO CON ESE VALOR"). */
const char *sbx_msg_text(const char *code);
/* The reception/anulación response object (version 2, versionApp 2). */
json_t *sbx_mh_response(const char *codigo_generacion, const char *estado, const char *sello, int64_t processed_at,
			const char *clasifica, const char *codigo_msg, const char *descripcion,
			json_t *observaciones /* stolen; NULL = [] */);
/* String member or NULL. */
const char *sbx_str(const json_t *obj, const char *name);
/* Dotted path lookup in a JSON tree ("identificacion.codigoGeneracion"). Borrowed. */
const json_t *sbx_get(const json_t *root, const char *path);
/* NIT: 14 or 9 digits. */
bool sbx_nit_valid(const char *nit);

#endif
