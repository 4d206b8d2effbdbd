/*
 * http.h - what a route handler sees: our request, our response, the route
 * table entry. No Ulfius type crosses this header; server.c adapts Ulfius
 * to it and pipeline.c runs the fixed pipeline around every handler:
 *
 *   request id -> limits (body cap, rate limit) -> authentication ->
 *   permission -> handler -> access log + metrics -> contract envelope
 *
 * A handler fills resp->data (or a raw body) and returns 0, or returns a
 * negative enum err_code with e filled. It never picks an error status: the
 * pipeline renders errors in the route's contract envelope.
 */
#ifndef CL_HTTP_HTTP_H
#define CL_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/mem.h"
#include "mod/audit/audit.h"
#include "mod/auth/perm.h"

struct app;

/* The API contracts; each has its envelope (envelope.c). */
enum contract {
	CONTRACT_BILLING,   /* billing-service-api: /api/v1, {success,data} */
	CONTRACT_CLINIC,    /* clinic-billing-backend: /api/..., same envelope */
	CONTRACT_FISCAL,    /* fiscal-engine-integration: /api/facturas, /api/receptores */
	CONTRACT_INVENTORY, /* medical-inventory-backend */
	CONTRACT_DASHBOARD, /* billing-insurance-dashboard: bare payload, {message,code} errors */
	CONTRACT_PLAIN,     /* /health, /metrics, pages: handler writes the whole body */
};

struct http_kv {
	const char *key, *value;
};

struct http_req {
	struct arena *arena;   /* per-request memory, freed after the response */
	const char *method;    /* "GET", ... */
	const char *path;      /* URL path without query */
	const char *ip;        /* client address text */
	const char *request_id;
	struct http_kv *params; size_t nparams;   /* path variables (":id") */
	struct http_kv *query; size_t nquery;     /* query string, decoded */
	struct http_kv *headers; size_t nheaders; /* header names as sent */
	const char *body; size_t body_len;        /* raw body (NUL-terminated copy) */
	json_t *json;                             /* parsed body (http_json_body), freed with the request */
};

/* Accessors; NULL when absent. Header lookup is case-insensitive. */
const char *http_param(const struct http_req *r, const char *name);
const char *http_query(const struct http_req *r, const char *name);
const char *http_header(const struct http_req *r, const char *name);

/* Parse the body as a JSON object. Empty body -> ERR_INVALID "request body
 * is required" unless allow_empty (then *out is an empty object).
 * *out is owned by the request (decref'd with it): do not decref. */
int http_json_body(struct http_req *r, bool allow_empty, json_t **out, struct err *e);

/* The caller, set by authentication. */
enum principal_kind { PRINCIPAL_ANON, PRINCIPAL_USER, PRINCIPAL_API_KEY };
struct principal {
	enum principal_kind kind;
	char id[40];         /* user id or API key id */
	char tenant_id[40];  /* the tenant this request acts in */
	char role[32];       /* users: role name; keys: "api_key" */
	char session_id[40]; /* users: the refresh session behind the token */
	perm_set perms;
};

/* Everything a handler gets. */
struct req_ctx {
	struct app *app;
	struct http_req *req;
	struct principal who;
	struct actor actor; /* derived from who + req, for audit_record */
	const struct route *route;
};

struct http_header_out {
	const char *name, *value; /* arena or static */
};

struct http_resp {
	int status;    /* default 200; set 201 on create */
	json_t *data;  /* owned: the "data" member of the envelope (or the bare payload) */
	json_t *extra; /* owned, optional: more top-level members ("pagination", "message", "count") */
	/* Raw body instead of an envelope (CSV, metrics, PDF, HTML). In the arena. */
	const char *raw;
	size_t raw_len;
	const char *content_type;
	struct http_header_out headers[8];
	size_t nheaders;
};

/* Add a response header (name/value copied into the request arena). */
void http_resp_header(struct req_ctx *ctx, struct http_resp *resp, const char *name, const char *value);
/* Set a raw body (copied into the arena) with its content type. */
void http_resp_raw(struct req_ctx *ctx, struct http_resp *resp, int status, const char *content_type,
		   const char *body, size_t len);

typedef int (*http_handler_fn)(struct req_ctx *ctx, struct http_resp *resp, struct err *e);

enum route_flags {
	ROUTE_PUBLIC = 1 << 0,      /* no authentication */
	ROUTE_IDEMPOTENT = 1 << 1,  /* honours Idempotency-Key (POST creates) */
	ROUTE_NO_RATELIMIT = 1 << 2,/* health and metrics */
	ROUTE_USER_ONLY = 1 << 3,   /* API keys refused (e.g. logout) */
};

struct route {
	const char *method;      /* "GET" | "POST" | "PUT" | "PATCH" | "DELETE" */
	const char *path;        /* Ulfius pattern: "/api/patients/:id" */
	http_handler_fn handler;
	enum perm perm;          /* PERM_NONE: any authenticated caller (or public) */
	enum contract contract;
	size_t body_cap;         /* bytes; 0 = the server default */
	unsigned flags;          /* enum route_flags */
};

/* THE route table (routes.c). */
extern const struct route routes[];
extern const size_t routes_count;

/* Pagination from ?page=&limit= (defaults 1 and def_limit, limit capped at
 * max_limit). Bad values -> ERR_INVALID naming the parameter. */
int http_pagination(const struct http_req *r, int def_limit, int max_limit, int *page, int *limit,
		    struct err *e);
/* {"page","limit","total","totalPages"}; owned. */
json_t *http_pagination_json(int page, int limit, long long total);

#endif
