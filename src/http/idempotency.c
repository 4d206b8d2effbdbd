/* idempotency.c - Idempotency-Key reservations (see idempotency.h). */
#include "http/idempotency.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "core/log.h"
#include "db/db.h"

#define IDEM_KEY_MAX 255
#define IDEM_STALE_S 120 /* longer than any request may run (HTTP timeout 30 s) */

static int idem_key_valid(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > IDEM_KEY_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return 0;
	return 1;
}

static void request_hash(const struct http_req *r, char out[65])
{
	size_t n = strlen(r->method) + strlen(r->path) + r->body_len + 2;
	char *buf = xmalloc(n + 1);
	size_t m = (size_t)snprintf(buf, n + 1, "%s\n%s\n", r->method, r->path);

	memcpy(buf + m, r->body, r->body_len);
	crypto_sha256_hex(buf, m + r->body_len, out);
	free(buf);
}

int idem_begin(struct app *app, const struct req_ctx *ctx, const char *key, enum idem_outcome *outcome,
	       int *status, char **body, struct err *e)
{
	struct db_conn *c = NULL;
	struct db_rows *rows = NULL;
	char hash[65], now[TIME_ISO_LEN + 1], stale[TIME_ISO_LEN + 1];
	int64_t affected = 0;
	int rc;

	*outcome = IDEM_PROCEED;
	*body = NULL;
	if (!idem_key_valid(key))
		return err_set(e, ERR_INVALID, "Idempotency-Key",
			       "Idempotency-Key must be 1 to %d printable ASCII characters", IDEM_KEY_MAX);
	request_hash(ctx->req, hash);
	time_now_iso(now);
	time_iso(time_now_s() - IDEM_STALE_S, stale);
	if ((rc = db_acquire(app->db, DB_WRITE, &c, e)) || (rc = db_begin(c, e)))
		goto out;
	struct db_param ins[] = { DBP_TEXT(ctx->who.tenant_id), DBP_TEXT(key), DBP_TEXT(ctx->req->method),
				  DBP_TEXT(ctx->req->path), DBP_TEXT(hash), DBP_TEXT(now), DBP_TEXT(now) };
	rc = db_exec(c,
		     "INSERT INTO idempotency_keys (tenant_id, idem_key, method, path, request_hash, state, "
		     "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'processing', ?, ?) ON CONFLICT DO NOTHING",
		     ins, DB_NPARAMS(ins), &affected, e);
	if (rc)
		goto out;
	if (affected == 0) {
		struct db_param sel[] = { DBP_TEXT(ctx->who.tenant_id), DBP_TEXT(key) };
		rc = db_query(c,
			      "SELECT request_hash, state, status, response, entity, entity_id, updated_at FROM idempotency_keys "
			      "WHERE tenant_id = ? AND idem_key = ?",
			      sel, DB_NPARAMS(sel), &rows, e);
		if (rc)
			goto out;
		if (db_rows_count(rows) != 1) {
			rc = err_set(e, ERR_CONFLICT, "Idempotency-Key", "Idempotency-Key is being released; retry");
			err_name(e, "IDEMPOTENCY_IN_PROGRESS");
			goto out;
		}
		const char *state = db_rows_text(rows, 0, 1);
		if (strcmp(db_rows_text(rows, 0, 0), hash) != 0) {
			rc = err_set(e, ERR_CONFLICT, "Idempotency-Key",
				     "Idempotency-Key was already used for a different request");
			err_name(e, "IDEMPOTENCY_KEY_REUSED");
		} else if (strcmp(state, "done") == 0) {
			*outcome = IDEM_REPLAY;
			*status = (int)db_rows_int(rows, 0, 2);
			*body = xstrdup(db_rows_text(rows, 0, 3) ? db_rows_text(rows, 0, 3) : "");
		} else if (strcmp(state, "committed") == 0) {
			rc = err_set(e, ERR_CONFLICT, "Idempotency-Key",
				     "the first request with this Idempotency-Key was completed (%s %s); fetch it",
				     db_rows_text(rows, 0, 4) ? db_rows_text(rows, 0, 4) : "entity",
				     db_rows_text(rows, 0, 5) ? db_rows_text(rows, 0, 5) : "");
			err_name(e, "IDEMPOTENCY_KEY_COMMITTED");
		} else if (strcmp(db_rows_text(rows, 0, 6), stale) < 0) {
			/* a reservation left by a crash before its transaction committed
			 * (nothing was written, or the row would say 'committed'): take it over */
			struct db_param up[] = { DBP_TEXT(now), DBP_TEXT(ctx->who.tenant_id), DBP_TEXT(key) };
			rc = db_exec(c,
				     "UPDATE idempotency_keys SET updated_at = ? WHERE tenant_id = ? AND idem_key = ? "
				     "AND state = 'processing'",
				     up, DB_NPARAMS(up), NULL, e);
		} else {
			rc = err_set(e, ERR_CONFLICT, "Idempotency-Key",
				     "a request with this Idempotency-Key is still being processed");
			err_name(e, "IDEMPOTENCY_IN_PROGRESS");
		}
		if (rc)
			goto out;
	}
	rc = db_commit(c, e);
out:
	db_rows_free(rows);
	if (c)
		db_release(c);
	return rc;
}

void idem_finish(struct app *app, const struct req_ctx *ctx, const char *key, int status, const char *body)
{
	struct db_conn *c = NULL;
	struct err e;
	char now[TIME_ISO_LEN + 1];
	int rc;

	err_clear(&e);
	time_now_iso(now);
	if ((rc = db_acquire(app->db, DB_WRITE, &c, &e)))
		goto out;
	if (status >= 200 && status < 300) {
		struct db_param p[] = { DBP_INT(status), DBP_TEXT(body), DBP_TEXT(now), DBP_TEXT(ctx->who.tenant_id),
					DBP_TEXT(key) };
		rc = db_exec(c,
			     "UPDATE idempotency_keys SET state = 'done', status = ?, response = ?, updated_at = ? "
			     "WHERE tenant_id = ? AND idem_key = ?",
			     p, DB_NPARAMS(p), NULL, &e);
	} else {
		struct db_param p[] = { DBP_TEXT(ctx->who.tenant_id), DBP_TEXT(key) };
		rc = db_exec(c, "DELETE FROM idempotency_keys WHERE tenant_id = ? AND idem_key = ? AND state = 'processing'",
			     p, DB_NPARAMS(p), NULL, &e);
	}
out:
	if (rc)
		log_error("msg=\"idempotency record not stored\" request_id=%s detail=\"%s\"",
			  ctx->req->request_id, e.detail);
	if (c)
		db_release(c);
}
