/*
 * pipeline.c - the one path every request takes (see pipeline.h).
 *
 * Handlers never choose an error status and never render an envelope; this
 * file does both, for every contract, in one place.
 */
#include "http/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "http/envelope.h"
#include "http/idempotency.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "mod/auth/auth.h"

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void out_header(struct pipeline_result *out, const char *name, const char *value)
{
	if (out->nheaders < sizeof(out->headers) / sizeof(out->headers[0])) {
		out->headers[out->nheaders].name = name;
		out->headers[out->nheaders].value = value;
		out->nheaders++;
	}
}

static void out_json(struct pipeline_result *out, int status, json_t *body)
{
	out->status = status;
	out->content_type = "application/json; charset=utf-8";
	out->body = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
	out->body_len = out->body ? strlen(out->body) : 0;
	json_decref(body);
}

static void render_error(struct pipeline_result *out, enum contract c, const struct err *e)
{
	out_json(out, envelope_error_status(c, e), envelope_error(c, e));
}

/* X-Request-Id from the client when sane, else a new UUID. */
static const char *request_id(struct http_req *req)
{
	const char *given = http_header(req, "X-Request-Id");
	size_t n = given ? strlen(given) : 0;

	if (n > 0 && n <= 64) {
		int ok = 1;
		for (const char *p = given; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			      *p == '-' || *p == '_' || *p == '.' || *p == ':'))
				ok = 0;
		if (ok)
			return given;
	}
	char *id = arena_alloc(req->arena, UUID_LEN + 1);
	uuid_v4(id);
	return id;
}

static int check_limits(struct app *app, const struct route *rt, const struct http_req *req, struct err *e)
{
	size_t cap = rt->body_cap ? rt->body_cap : app->cfg.body_cap;
	const char *cl = http_header(req, "Content-Length");

	if (cap > app->cfg.body_cap)
		cap = app->cfg.body_cap;
	/* the server reads at most body_cap + 1 bytes (server.c), so a longer body
	 * shows up here as body_len > cap even when it came without Content-Length */
	if (req->body_len > cap || (cl && strtoull(cl, NULL, 10) > cap))
		return err_set(e, ERR_TOO_LARGE, "body", "request body exceeds %zu bytes", cap);
	return 0;
}

static int rate_limit(struct app *app, struct req_ctx *ctx, struct pipeline_result *out, struct err *e)
{
	char key[64];
	int retry_after = 0;

	if (ctx->who.kind == PRINCIPAL_USER)
		snprintf(key, sizeof(key), "u:%s", ctx->who.id);
	else if (ctx->who.kind == PRINCIPAL_API_KEY)
		snprintf(key, sizeof(key), "k:%s", ctx->who.id);
	else
		snprintf(key, sizeof(key), "ip:%s", ctx->req->ip);
	if (ratelimit_take(app->ratelimit, key, time_mono_ms(), &retry_after))
		return 0;
	out_header(out, "Retry-After", arena_printf(ctx->req->arena, "%d", retry_after));
	return err_set(e, ERR_RATE_LIMITED, NULL, "too many requests; retry after %d seconds", retry_after);
}

static void fill_actor(struct req_ctx *ctx)
{
	ctx->actor.tenant_id = ctx->who.tenant_id;
	ctx->actor.kind = ctx->who.kind == PRINCIPAL_API_KEY ? "api_key" : ctx->who.kind == PRINCIPAL_USER ? "user"
													   : "anonymous";
	ctx->actor.id = ctx->who.id;
	ctx->actor.ip = ctx->req->ip;
	ctx->actor.request_id = ctx->req->request_id;
}

static void render_success(struct req_ctx *ctx, struct http_resp *resp, struct pipeline_result *out)
{
	if (resp->raw) {
		out->status = resp->status ? resp->status : 200;
		out->content_type = resp->content_type ? resp->content_type : "application/octet-stream";
		out->body = xmalloc(resp->raw_len + 1);
		memcpy(out->body, resp->raw, resp->raw_len);
		out->body[resp->raw_len] = '\0';
		out->body_len = resp->raw_len;
	} else {
		out_json(out, resp->status ? resp->status : 200, envelope_success(ctx->route->contract, resp));
	}
	for (size_t i = 0; i < resp->nheaders; i++)
		out_header(out, resp->headers[i].name, resp->headers[i].value);
}

void pipeline_run(struct app *app, size_t route_index, struct http_req *req, struct pipeline_result *out)
{
	int64_t t0 = mono_us();
	struct req_ctx ctx;
	struct http_resp resp;
	struct err e;
	const struct route *rt = route_index < routes_count ? &routes[route_index] : NULL;
	enum contract contract = rt ? rt->contract : CONTRACT_BILLING;
	const char *idem_key = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&ctx, 0, sizeof(ctx));
	memset(&resp, 0, sizeof(resp));
	err_clear(&e);
	req->request_id = request_id(req);
	ctx.app = app;
	ctx.req = req;
	ctx.route = rt;
	out_header(out, "X-Request-Id", req->request_id);

	if (!rt) {
		err_set(&e, ERR_NOT_FOUND, NULL, "no endpoint %s %s", req->method, req->path);
		render_error(out, contract, &e);
		goto done;
	}
	if ((rc = check_limits(app, rt, req, &e)))
		goto fail;
	if (!(rt->flags & ROUTE_PUBLIC)) {
		if ((rc = auth_authenticate(app, req, &ctx.who, &e))) {
			/* failed credentials spend the client IP's tokens: guessing is rate limited too */
			struct err limited;
			memset(&ctx.who, 0, sizeof(ctx.who));
			err_clear(&limited);
			if (rate_limit(app, &ctx, out, &limited))
				e = limited;
			goto fail;
		}
		if ((rt->flags & ROUTE_USER_ONLY) && ctx.who.kind != PRINCIPAL_USER) {
			rc = err_set(&e, ERR_FORBIDDEN, NULL, "this endpoint is for users, not API keys");
			goto fail;
		}
	}
	if (!(rt->flags & ROUTE_NO_RATELIMIT) && (rc = rate_limit(app, &ctx, out, &e)))
		goto fail;
	if (!perm_has(ctx.who.perms, rt->perm)) {
		rc = err_set(&e, ERR_FORBIDDEN, NULL, "missing permission %s", perm_name(rt->perm));
		goto fail;
	}
	fill_actor(&ctx);
	if ((rt->flags & ROUTE_IDEMPOTENT) && ctx.who.kind != PRINCIPAL_ANON)
		idem_key = http_header(req, "Idempotency-Key");
	if (idem_key) {
		enum idem_outcome outcome;
		int stored_status = 0;
		char *stored = NULL;
		if ((rc = idem_begin(app, &ctx, idem_key, &outcome, &stored_status, &stored, &e))) {
			idem_key = NULL; /* not ours to release */
			goto fail;
		}
		if (outcome == IDEM_REPLAY) {
			out->status = stored_status;
			out->content_type = "application/json; charset=utf-8";
			out->body = stored;
			out->body_len = strlen(stored);
			out_header(out, "Idempotent-Replayed", "true");
			goto done;
		}
		ctx.actor.idempotency_key = idem_key;
	}
	rc = rt->handler(&ctx, &resp, &e);
	if (rc) {
		if (!e.code)
			err_set(&e, rc, NULL, "request failed");
		goto fail;
	}
	render_success(&ctx, &resp, out);
	if (idem_key)
		idem_finish(app, &ctx, idem_key, out->status, out->body);
	goto done;

fail:
	if (idem_key)
		idem_finish(app, &ctx, idem_key, envelope_error_status(contract, &e), NULL);
	if (e.code == ERR_INTERNAL || e.code == ERR_DB || e.code == ERR_UPSTREAM || e.code == ERR_UNAVAILABLE)
		log_error("msg=\"request failed\" request_id=%s route=\"%s %s\" code=%s detail=\"%s\"",
			  req->request_id, rt ? rt->method : "-", rt ? rt->path : "-", err_code_name(e.code),
			  e.detail);
	render_error(out, contract, &e);
done:
	json_decref(resp.data);
	json_decref(resp.extra);
	{
		int64_t us = mono_us() - t0;
		metrics_observe(app->metrics, route_index, out->status, us);
		log_info("msg=access method=%s path=\"%s\" status=%d duration_ms=%lld request_id=%s tenant=%s "
			  "principal=%s:%s",
			  req->method, req->path, out->status, (long long)(us / 1000), req->request_id,
			  ctx.who.tenant_id[0] ? ctx.who.tenant_id : "-", ctx.actor.kind ? ctx.actor.kind : "anonymous",
			  ctx.who.id[0] ? ctx.who.id : "-");
	}
}
