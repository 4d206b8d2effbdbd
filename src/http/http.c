/* http.c - request accessors, response helpers and pagination for handlers. */
#include "http/http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *kv_find(const struct http_kv *kv, size_t n, const char *name, int nocase)
{
	for (size_t i = 0; i < n; i++)
		if (nocase ? strcasecmp(kv[i].key, name) == 0 : strcmp(kv[i].key, name) == 0)
			return kv[i].value;
	return NULL;
}

const char *http_param(const struct http_req *r, const char *name)
{
	return kv_find(r->params, r->nparams, name, 0);
}

const char *http_query(const struct http_req *r, const char *name)
{
	return kv_find(r->query, r->nquery, name, 0);
}

const char *http_header(const struct http_req *r, const char *name)
{
	return kv_find(r->headers, r->nheaders, name, 1);
}

void http_resp_header(struct req_ctx *ctx, struct http_resp *resp, const char *name, const char *value)
{
	if (resp->nheaders >= sizeof(resp->headers) / sizeof(resp->headers[0]))
		return;
	resp->headers[resp->nheaders].name = arena_strdup(ctx->req->arena, name);
	resp->headers[resp->nheaders].value = arena_strdup(ctx->req->arena, value);
	resp->nheaders++;
}

void http_resp_raw(struct req_ctx *ctx, struct http_resp *resp, int status, const char *content_type,
		   const char *body, size_t len)
{
	char *copy = arena_alloc(ctx->req->arena, len + 1);

	memcpy(copy, body, len);
	resp->status = status;
	resp->raw = copy;
	resp->raw_len = len;
	resp->content_type = arena_strdup(ctx->req->arena, content_type);
}

static int parse_positive(const char *s, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s || strlen(s) > 12)
		return -1;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	v = strtoll(s, &end, 10);
	if (*end || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

int http_pagination(const struct http_req *r, int def_limit, int max_limit, int *page, int *limit,
		    struct err *e)
{
	const char *p = http_query(r, "page"), *l = http_query(r, "limit");
	long long v;

	*page = 1;
	*limit = def_limit;
	if (p) {
		if (parse_positive(p, 1000000, &v))
			return err_set(e, ERR_INVALID, "page", "page must be an integer from 1 to 1000000");
		*page = (int)v;
	}
	if (l) {
		if (parse_positive(l, max_limit, &v))
			return err_set(e, ERR_INVALID, "limit", "limit must be an integer from 1 to %d", max_limit);
		*limit = (int)v;
	}
	return 0;
}

json_t *http_pagination_json(int page, int limit, long long total)
{
	long long pages = limit > 0 ? (total + limit - 1) / limit : 0;

	return json_pack("{s:i, s:i, s:I, s:I}", "page", page, "limit", limit, "total", (json_int_t)total,
			 "totalPages", (json_int_t)pages);
}

int http_json_body(struct http_req *r, bool allow_empty, json_t **out, struct err *e)
{
	json_error_t jerr;
	size_t i = 0;

	if (r->json) {
		*out = r->json;
		return 0;
	}
	while (i < r->body_len && (r->body[i] == ' ' || r->body[i] == '\t' || r->body[i] == '\r' ||
				   r->body[i] == '\n'))
		i++;
	if (i == r->body_len) {
		if (!allow_empty)
			return err_set(e, ERR_INVALID, "body", "request body is required (JSON object)");
		r->json = json_object();
		*out = r->json;
		return 0;
	}
	r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!r->json)
		return err_set(e, ERR_INVALID, "body", "malformed JSON at line %d column %d: %s", jerr.line,
			       jerr.column, jerr.text);
	if (!json_is_object(r->json))
		return err_set(e, ERR_INVALID, "body", "request body must be a JSON object");
	*out = r->json;
	return 0;
}
