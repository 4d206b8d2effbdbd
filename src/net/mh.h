/*
 * mh.h - a client of the DTE web services of El Salvador's Ministerio de
 * Hacienda (MH) over httpc (../shared/dte-sv/README.md §1): authentication,
 * reception one by one, consultation, invalidation and contingency events.
 *
 * THE WIRE. Base URL client->base_url (DTE_MH_ENDPOINT: MH's test host
 * https://apitest.dtes.mh.gob.sv, production https://api.dtes.mh.gob.sv, or
 * the local MH sandbox). Every call sends a User-Agent; every call but
 * authentication sends "Authorization: <token>" exactly as MH returned it
 * (the token already starts with "Bearer ") and a JSON body.
 *   POST /seguridad/auth              form user=<user>&pwd=<password>
 *   POST /fesv/recepciondte           {ambiente, idEnvio, version, tipoDte, documento (JWS), codigoGeneracion}
 *   POST /fesv/recepcion/consultadte/ {nitEmisor, tdte, codigoGeneracion}
 *   POST /fesv/anulardte              {ambiente, idEnvio, version, documento}
 *   POST /fesv/contingencia           {nit, documento}
 *
 * THE TOKEN. A client keeps the token it holds and its expiry; with a token
 * store (struct mh_token_store) it also loads the token another run saved
 * and saves each new one, so a token lives until it expires (MH: 24 h; the
 * expiry is the JWT's "exp" claim when the token is a JWT, else 24 h) and
 * authentication happens once per day, as MH asks, not once per call. A
 * token within MH_TOKEN_MARGIN_S of its expiry is renewed first. A 401 on a
 * call drops the token, authenticates again ONCE and repeats the call once;
 * a second 401 is MH_FAIL_AUTH.
 *
 * NO HIDDEN RETRIES. Every request is made once (httpc max_attempts 1):
 * MH's retry policy (consult first, resend at most twice, then contingency,
 * README §1.6) belongs to the caller, which knows what it already sent.
 *
 * OUTCOME. 0 when MH answered in its own terms (answer filled: estado and
 * the message fields; a RECHAZADO reception is HTTP 400 and still 0; a
 * consultation of an unknown code is 0 with found = false). Otherwise
 * ERR_UPSTREAM with answer->fail saying why: MH_FAIL_TRANSIENT (no answer:
 * network error, timeout, 5xx, 429, or a body that is not MH's), MH_FAIL_AUTH
 * (credentials refused: a person must fix the configuration),
 * MH_FAIL_PROTOCOL (another 4xx: our request was malformed). e->message is a
 * fixed client-safe text; details go to e->detail and the log.
 *
 * LOGS. One line per call: path, HTTP status, outcome, milliseconds. Never
 * the password, the token, a JWS or a document.
 *
 * Not thread-safe: one client per thread (job run, request).
 */
#ifndef CL_NET_MH_H
#define CL_NET_MH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MH_TOKEN_MAX	  2048 /* bytes of a token ("Bearer eyJ...") */
#define MH_TOKEN_MARGIN_S 300  /* renew a token this long before it expires */
#define MH_TOKEN_TTL_S	  86400 /* assumed lifetime when the token carries no exp */
#define MH_USER_AGENT	  "clinicledger-dte/1.0"
#define MH_PATH_AUTH	  "/seguridad/auth"
#define MH_PATH_RECEPCION "/fesv/recepciondte"
#define MH_PATH_CONSULTA  "/fesv/recepcion/consultadte/"
#define MH_PATH_ANULAR	  "/fesv/anulardte"
#define MH_PATH_CONTINGENCIA "/fesv/contingencia"

/* Where tokens outlive a client (the DTE flow keeps them encrypted in the
 * database). Every member is called with ud. */
struct mh_token_store {
	void *ud;
	/* Copy the saved token of user into token (len bytes) and its expiry
	 * (epoch seconds): 0, or non-zero when there is none. */
	int (*load)(void *ud, const char *user, char *token, size_t len, int64_t *expires_s);
	/* Save (replace) user's token. A failure is logged, not fatal. */
	void (*save)(void *ud, const char *user, const char *token, int64_t expires_s);
	/* Forget user's token (it was refused). */
	void (*drop)(void *ud, const char *user);
};

/* Configuration (borrowed strings, must outlive the client) and state. */
struct mh_client {
	const char *base_url;	/* "https://apitest.dtes.mh.gob.sv" (no trailing slash needed) */
	const char *user;	/* MH API user (the emisor's NIT) */
	const char *password;	/* never logged */
	int timeout_ms;		/* per request; 0 = 8000 (MH's reception limit) */
	int connect_timeout_ms; /* 0 = 5000 */
	const char *ca_file;	/* CA bundle override, or NULL */
	const struct mh_token_store *store; /* or NULL: the client's memory only */
	/* state, zero-initialise */
	char token[MH_TOKEN_MAX];
	int64_t token_expires_s;
	int auth_calls; /* authentications made by this client */
};

enum mh_fail { MH_FAIL_NONE, MH_FAIL_TRANSIENT, MH_FAIL_AUTH, MH_FAIL_PROTOCOL };

/* What MH answered. Fill with an mh_* call, release with mh_answer_free. */
struct mh_answer {
	long http_status;   /* 0 when no response */
	enum mh_fail fail;  /* MH_FAIL_NONE when the call returned 0 */
	bool found;	    /* consultation: MH knows the code (false on its 404) */
	char estado[16];    /* "PROCESADO" | "RECHAZADO" | "RECIBIDO" (events) | "" */
	char codigo_generacion[40];
	char sello[48];		   /* selloRecibido, "" when null */
	char fh_procesamiento[32]; /* "dd/MM/yyyy HH:mm:ss" (contingency: fechaHora) */
	char clasifica_msg[8];
	char codigo_msg[8];
	char descripcion_msg[512]; /* contingency: mensaje */
	char *observaciones;	   /* owned JSON array text ("[]" when none) */
	int64_t elapsed_ms;
};

void mh_answer_free(struct mh_answer *a);

/* Accepted by MH: estado PROCESADO (or RECIBIDO for a contingency event)
 * with a non-empty selloRecibido (README §1.2). */
bool mh_answer_accepted(const struct mh_answer *a);

/* Authenticate now (POST /seguridad/auth as a form), replacing the held
 * token and saving it to the store. Refused credentials -> ERR_UPSTREAM
 * with fail MH_FAIL_AUTH (answer may be NULL). */
int mh_auth(struct mh_client *c, struct mh_answer *answer, struct err *e);

/* A valid token in c->token (held, stored, or a new authentication). */
int mh_ensure_token(struct mh_client *c, struct mh_answer *answer, struct err *e);

struct mh_recepcion {
	const char *ambiente;
	int64_t id_envio;
	int version;
	const char *tipo_dte;
	const char *documento; /* the JWS */
	const char *codigo_generacion;
};

/* POST /fesv/recepciondte. */
int mh_recepcion(struct mh_client *c, const struct mh_recepcion *rq, struct mh_answer *out, struct err *e);

/* POST /fesv/recepcion/consultadte/. Unknown code: 0 with found false. */
int mh_consulta(struct mh_client *c, const char *nit_emisor, const char *tipo_dte, const char *codigo,
		struct mh_answer *out, struct err *e);

/* POST /fesv/anulardte (the JWS of an anulacion-schema-v2 event). */
int mh_anular(struct mh_client *c, const char *ambiente, int64_t id_envio, int version, const char *jws,
	      struct mh_answer *out, struct err *e);

/* POST /fesv/contingencia (the JWS of a contingencia-schema-v3 event).
 * estado RECIBIDO with a sello, or RECHAZADO with observaciones. */
int mh_contingencia(struct mh_client *c, const char *nit, const char *jws, struct mh_answer *out, struct err *e);

/* The "exp" claim of a JWT-shaped token ("Bearer a.b.c" or "a.b.c"), or 0. */
int64_t mh_token_exp(const char *token);

#endif
