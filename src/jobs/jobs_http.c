/*
 * jobs_http.c - GET /api/jobs and POST /api/jobs/:id/retry (admin:jobs).
 *
 * Both act on the caller's tenant only: global maintenance jobs (tenant
 * "-") and other tenants' jobs are never listed and are NOT_FOUND to retry.
 * The list takes state (queued | running | succeeded | failed | dead), kind,
 * page and limit (default 20, max 100) and returns, newest first,
 * {id, kind, state, attempts, maxAttempts, runAt, lastError, createdAt,
 * updatedAt, finishedAt} with a pagination member. The job payload is not
 * shown: it may reference patient records. Retry takes an optional body
 * {"reason": "..."} stored in the audit entry.
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "http/handlers.h"
#include "jobs/jobs.h"

#define JOBS_DEFAULT_LIMIT 20
#define JOBS_MAX_LIMIT	   100

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *job_json(const struct job_info *j)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(j->id));
	json_object_set_new(o, "kind", json_string(j->kind));
	json_object_set_new(o, "state", json_string(j->state));
	json_object_set_new(o, "attempts", json_integer(j->attempts));
	json_object_set_new(o, "maxAttempts", json_integer(j->max_attempts));
	json_object_set_new(o, "runAt", str_or_null(j->run_at));
	json_object_set_new(o, "lastError", j->has_last_error ? json_string(j->last_error) : json_null());
	json_object_set_new(o, "createdAt", str_or_null(j->created_at));
	json_object_set_new(o, "updatedAt", str_or_null(j->updated_at));
	json_object_set_new(o, "finishedAt", str_or_null(j->finished_at));
	return o;
}

int jobs_http_list(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	const char *state = http_query(ctx->req, "state");
	const char *kind = http_query(ctx->req, "kind");
	struct job_info *items = NULL;
	size_t n = 0;
	int64_t total = 0;
	int page, limit, rc;
	json_t *arr;

	if (state && !state[0])
		state = NULL;
	if (kind && !kind[0])
		kind = NULL;
	rc = http_pagination(ctx->req, JOBS_DEFAULT_LIMIT, JOBS_MAX_LIMIT, &page, &limit, e);
	if (rc)
		return rc;
	rc = jobs_list(ctx->app->db, ctx->who.tenant_id, state, kind, page, limit, &items, &n, &total, e);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, job_json(&items[i]));
	free(items);
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}

static const struct jv_field retry_fields[] = {
    {.name = "reason", .type = JV_STRING, .flags = JV_NULLABLE, .min = 0, .max = 500},
};

int jobs_http_retry(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	const char *id = http_param(ctx->req, "id");
	struct job_info after;
	json_t *body = NULL;
	int rc;

	rc = http_json_body(ctx->req, true, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, retry_fields, sizeof(retry_fields) / sizeof(retry_fields[0]), "", e);
	if (rc)
		return rc;
	rc = jobs_retry(ctx->app->db, &ctx->actor, id, jv_str(body, "reason"), &after, e);
	if (rc)
		return rc;
	jobs_notify(ctx->app->jobs);
	resp->data = job_json(&after);
	return 0;
}
