/*
 * test_http.c - the HTTP edge without sockets: the route table, the
 * contract envelopes, pagination, rate limiting, and that every route is
 * documented in docs/api/openapi.yaml.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "http/envelope.h"
#include "http/http.h"
#include "http/ratelimit.h"

static void test_route_table_is_sane(void **state)
{
	(void)state;
	assert_true(routes_count > 20);
	for (size_t i = 0; i < routes_count; i++) {
		const struct route *r = &routes[i];
		assert_non_null(r->handler);
		assert_true(strcmp(r->method, "GET") == 0 || strcmp(r->method, "POST") == 0 ||
			    strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0 ||
			    strcmp(r->method, "DELETE") == 0);
		assert_true(r->path[0] == '/');
		for (size_t j = i + 1; j < routes_count; j++)
			if (strcmp(r->method, routes[j].method) == 0 && strcmp(r->path, routes[j].path) == 0)
				fail_msg("duplicate route %s %s", r->method, r->path);
		/* public: health, metrics, login, refresh, and the webhooks that carry their own signatures */
		if (r->flags & ROUTE_PUBLIC)
			assert_true(strncmp(r->path, "/health", 7) == 0 || strcmp(r->path, "/metrics") == 0 ||
				    strcmp(r->path, "/api/v1/auth/login") == 0 ||
				    strcmp(r->path, "/api/v1/auth/refresh") == 0 ||
				    strncmp(r->path, "/api/v1/webhooks/", 17) == 0 ||
				    strcmp(r->path, "/api/stripe/webhook") == 0 || strncmp(r->path, "/dashboard", 10) == 0);
		/* every write that is not public needs a permission, except the caller's own session */
		if (strcmp(r->method, "GET") != 0 && !(r->flags & ROUTE_PUBLIC) && r->perm == PERM_NONE)
			assert_string_equal(r->path, "/api/v1/auth/logout");
		/* the billing-service contract lives under /api/v1 and /health */
		if (strncmp(r->path, "/api/v1/", 8) == 0)
			assert_int_equal(r->contract, CONTRACT_BILLING);
	}
}

/* Every route appears in docs/api/openapi.yaml (":id" written "{id}"). */
static void test_every_route_is_documented(void **state)
{
	FILE *f = fopen("docs/api/openapi.yaml", "r");
	char line[512], current[512] = "";
	char (*documented)[600] = xcalloc(4096, 600);
	size_t n = 0;

	(void)state;
	if (!f)
		fail_msg("docs/api/openapi.yaml not found (run from the repository root)");
	while (fgets(line, sizeof(line), f) && n < 4096) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "  /", 3) == 0 && line[strlen(line) - 1] == ':') {
			snprintf(current, sizeof(current), "%.*s", (int)strlen(line) - 3, line + 2);
		} else if (current[0] && strncmp(line, "    ", 4) == 0 && line[4] != ' ') {
			static const char *const verbs[] = { "get", "post", "put", "patch", "delete" };
			for (int v = 0; v < 5; v++) {
				size_t len = strlen(verbs[v]);
				if (strncmp(line + 4, verbs[v], len) == 0 && line[4 + len] == ':')
					snprintf(documented[n++], 600, "%s %s", verbs[v], current);
			}
		} else if (line[0] && line[0] != ' ') {
			current[0] = '\0';
		}
	}
	fclose(f);
	for (size_t i = 0; i < routes_count; i++) {
		char want[600], path[512];
		size_t o = 0;
		const char *p = routes[i].path;
		while (*p && o < sizeof(path) - 2) {
			if (*p == ':') {
				path[o++] = '{';
				p++;
				while (*p && *p != '/' && o < sizeof(path) - 2)
					path[o++] = *p++;
				path[o++] = '}';
			} else {
				path[o++] = *p++;
			}
		}
		path[o] = '\0';
		snprintf(want, sizeof(want), "%s %s", routes[i].method, path);
		for (char *c = want; *c != ' '; c++)
			*c = (char)(*c - 'A' + 'a');
		int found = 0;
		for (size_t j = 0; j < n && !found; j++)
			found = strcmp(documented[j], want) == 0;
		if (!found)
			fail_msg("route %s %s is missing from docs/api/openapi.yaml", routes[i].method, routes[i].path);
	}
	free(documented);
}

static void test_envelope_success_and_error(void **state)
{
	struct http_resp resp;
	struct err e;
	json_t *body;

	(void)state;
	memset(&resp, 0, sizeof(resp));
	resp.data = json_pack("{s:s}", "id", "x");
	resp.extra = json_pack("{s:{s:i}}", "pagination", "page", 1);
	body = envelope_success(CONTRACT_BILLING, &resp);
	assert_true(json_is_true(json_object_get(body, "success")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "data"), "id")), "x");
	assert_non_null(json_object_get(body, "pagination"));
	assert_null(resp.data);
	json_decref(body);

	err_set(&e, ERR_INVALID, "lineItems[0].quantity", "quantity must be positive");
	body = envelope_error(CONTRACT_CLINIC, &e);
	assert_true(json_is_false(json_object_get(body, "success")));
	json_t *error = json_object_get(body, "error");
	assert_string_equal(json_string_value(json_object_get(error, "code")), "VALIDATION_ERROR");
	assert_string_equal(json_string_value(json_object_get(error, "message")), "quantity must be positive");
	assert_string_equal(json_string_value(json_object_get(json_object_get(error, "details"), "field")),
			    "lineItems[0].quantity");
	assert_int_equal(envelope_error_status(CONTRACT_CLINIC, &e), 400);
	json_decref(body);

	err_set(&e, ERR_CONFLICT, NULL, "invoice is paid");
	err_name(&e, "INVALID_STATE");
	body = envelope_error(CONTRACT_BILLING, &e);
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "error"), "code")), "INVALID_STATE");
	assert_int_equal(envelope_error_status(CONTRACT_BILLING, &e), 409);
	json_decref(body);

	/* only top-level members: no "data" (the billing-service webhooks' answer) */
	memset(&resp, 0, sizeof(resp));
	resp.extra = json_pack("{s:s}", "message", "Payment failure notification received");
	body = envelope_success(CONTRACT_BILLING, &resp);
	assert_true(json_is_true(json_object_get(body, "success")));
	assert_null(json_object_get(body, "data"));
	assert_string_equal(json_string_value(json_object_get(body, "message")), "Payment failure notification received");
	json_decref(body);

	/* the dashboard contract: bare payload and {message, code: BILLING_xxx} */
	memset(&resp, 0, sizeof(resp));
	resp.data = json_pack("{s:[]}", "kpis");
	body = envelope_success(CONTRACT_DASHBOARD, &resp);
	assert_null(json_object_get(body, "success"));
	assert_non_null(json_object_get(body, "kpis"));
	json_decref(body);
	err_set(&e, ERR_NOT_FOUND, "caid", "clinical activity 7 not found");
	body = envelope_error(CONTRACT_DASHBOARD, &e);
	assert_string_equal(json_string_value(json_object_get(body, "code")), "BILLING_NOT_FOUND");
	assert_string_equal(json_string_value(json_object_get(body, "message")), "clinical activity 7 not found");
	json_decref(body);

	/* every error code maps to its documented status */
	static const struct {
		int code, status;
		const char *name;
	} table[] = { { ERR_INVALID, 400, "VALIDATION_ERROR" },     { ERR_UNAUTHORIZED, 401, "UNAUTHORIZED" },
		      { ERR_FORBIDDEN, 403, "FORBIDDEN" },          { ERR_NOT_FOUND, 404, "NOT_FOUND" },
		      { ERR_CONFLICT, 409, "CONFLICT" },            { ERR_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE" },
		      { ERR_RATE_LIMITED, 429, "RATE_LIMIT_EXCEEDED" }, { ERR_LOCKED, 423, "ACCOUNT_LOCKED" },
		      { ERR_UNAVAILABLE, 503, "SERVICE_UNAVAILABLE" }, { ERR_DB, 500, "DATABASE_ERROR" },
		      { ERR_INTERNAL, 500, "INTERNAL_ERROR" },      { ERR_UPSTREAM, 502, "UPSTREAM_ERROR" } };
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_int_equal(err_http_status(table[i].code), table[i].status);
		assert_string_equal(err_code_name(table[i].code), table[i].name);
	}
}

static struct http_req *fake_req(struct arena *a, const char *page, const char *limit)
{
	struct http_req *r = arena_alloc(a, sizeof(*r));
	r->arena = a;
	r->query = arena_alloc(a, sizeof(*r->query) * 2);
	if (page) {
		r->query[r->nquery].key = "page";
		r->query[r->nquery++].value = page;
	}
	if (limit) {
		r->query[r->nquery].key = "limit";
		r->query[r->nquery++].value = limit;
	}
	return r;
}

static void test_pagination(void **state)
{
	struct arena *a = arena_new(0);
	struct err e;
	int page, limit;

	(void)state;
	assert_int_equal(http_pagination(fake_req(a, NULL, NULL), 50, 200, &page, &limit, &e), 0);
	assert_int_equal(page, 1);
	assert_int_equal(limit, 50);
	assert_int_equal(http_pagination(fake_req(a, "3", "20"), 50, 200, &page, &limit, &e), 0);
	assert_int_equal(page, 3);
	assert_int_equal(limit, 20);
	assert_int_equal(http_pagination(fake_req(a, "0", NULL), 50, 200, &page, &limit, &e), ERR_INVALID);
	assert_string_equal(e.field, "page");
	assert_int_equal(http_pagination(fake_req(a, NULL, "201"), 50, 200, &page, &limit, &e), ERR_INVALID);
	assert_string_equal(e.field, "limit");
	assert_int_equal(http_pagination(fake_req(a, "x", NULL), 50, 200, &page, &limit, &e), ERR_INVALID);
	assert_int_equal(http_pagination(fake_req(a, "-1", NULL), 50, 200, &page, &limit, &e), ERR_INVALID);
	json_t *p = http_pagination_json(2, 20, 45);
	assert_int_equal(json_integer_value(json_object_get(p, "totalPages")), 3);
	assert_int_equal(json_integer_value(json_object_get(p, "total")), 45);
	json_decref(p);
	p = http_pagination_json(1, 20, 0);
	assert_int_equal(json_integer_value(json_object_get(p, "totalPages")), 0);
	json_decref(p);
	arena_free(a);
}

static void test_ratelimit(void **state)
{
	struct ratelimit *rl = ratelimit_new(60, 3); /* 1 per second, burst 3 */
	int retry = 0;

	(void)state;
	assert_int_equal(ratelimit_take(rl, "u:a", 1000, &retry), 1);
	assert_int_equal(ratelimit_take(rl, "u:a", 1000, &retry), 1);
	assert_int_equal(ratelimit_take(rl, "u:a", 1000, &retry), 1);
	assert_int_equal(ratelimit_take(rl, "u:a", 1000, &retry), 0);
	assert_int_equal(retry, 1);
	/* another caller has its own bucket */
	assert_int_equal(ratelimit_take(rl, "u:b", 1000, &retry), 1);
	/* refills one token per second, not more than the burst */
	assert_int_equal(ratelimit_take(rl, "u:a", 1999, &retry), 0);
	assert_int_equal(ratelimit_take(rl, "u:a", 2000, &retry), 1);
	assert_int_equal(ratelimit_take(rl, "u:a", 2000, &retry), 0);
	assert_int_equal(ratelimit_take(rl, "u:a", 100000, &retry), 1);
	assert_int_equal(ratelimit_take(rl, "u:a", 100000, &retry), 1);
	assert_int_equal(ratelimit_take(rl, "u:a", 100000, &retry), 1);
	assert_int_equal(ratelimit_take(rl, "u:a", 100000, &retry), 0);
	/* many small steps add up (no lost remainders) */
	struct ratelimit *slow = ratelimit_new(30, 1); /* one per 2 s */
	assert_int_equal(ratelimit_take(slow, "k", 0, &retry), 1);
	int got = 0;
	for (int64_t t = 1; t <= 2000; t++)
		got += ratelimit_take(slow, "k", t, &retry);
	assert_int_equal(got, 1);
	ratelimit_free(slow);
	ratelimit_free(rl);
	/* disabled */
	rl = ratelimit_new(0, 1);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ratelimit_take(rl, "x", 0, &retry), 1);
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_table_is_sane),
		cmocka_unit_test(test_every_route_is_documented),
		cmocka_unit_test(test_envelope_success_and_error),
		cmocka_unit_test(test_pagination),
		cmocka_unit_test(test_ratelimit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
