/*
 * idempotency.h - Idempotency-Key for POSTs that create something.
 *
 * Before the handler runs, the key is reserved in idempotency_keys
 * (tenant, key) in its own transaction. A replay of a finished request
 * returns the stored status and body (with Idempotent-Replayed: true) and
 * runs nothing; the same key with another method, path or body is 409
 * IDEMPOTENCY_KEY_REUSED; a key whose first request is still running is 409
 * IDEMPOTENCY_IN_PROGRESS. The business write's own transaction marks the
 * reservation committed (audit_record does it, see audit.h), so after a
 * crash between commit and storing the response a replay still creates
 * nothing: it answers 409 IDEMPOTENCY_KEY_COMMITTED naming the entity
 * created. A failed request (4xx/5xx) releases the key. Keys expire after
 * 24 hours (job "idempotency.purge").
 */
#ifndef CL_HTTP_IDEMPOTENCY_H
#define CL_HTTP_IDEMPOTENCY_H

#include "app.h"
#include "http/http.h"

enum idem_outcome {
	IDEM_PROCEED, /* reserved: run the handler, then idem_finish */
	IDEM_REPLAY,  /* *status, *body (owned) hold the stored response */
};

/* Validate the key and reserve it, or find the stored response. */
int idem_begin(struct app *app, const struct req_ctx *ctx, const char *key, enum idem_outcome *outcome,
	       int *status, char **body, struct err *e);
/* Store the response of a successful request, or release the key. */
void idem_finish(struct app *app, const struct req_ctx *ctx, const char *key, int status, const char *body);

#endif
