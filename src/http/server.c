/*
 * server.c - the only file that includes ulfius.h: wire <-> struct http_req.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

#include "core/log.h"
#include "core/mem.h"
#include "http/pipeline.h"

#define MAX_HEADERS 100
#define MAX_QUERY 100
#define REQUEST_ARENA_CAP ((size_t)256 << 20)

struct server_route {
	struct server *server;
	size_t index; /* into routes[]; routes_count = default (no match) */
};

struct server {
	struct app *app;
	struct _u_instance instance;
	struct server_route *bindings; /* routes_count + 1 */
	char *tls_key, *tls_cert;
};

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1 << 20) && fseek(f, 0, SEEK_SET) == 0) {
		buf = xmalloc((size_t)n + 1);
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a query component ('+' is a space) into the arena. */
static char *url_decode(struct arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n + 0 + 1 && i + 2 <= n - 1 + 1 && hexval(s[i + 1]) >= 0 &&
			   i + 2 < n + 1 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static void parse_query(struct http_req *req, const char *url)
{
	const char *q = strchr(url, '?');

	req->query = arena_alloc(req->arena, sizeof(*req->query) * MAX_QUERY);
	if (!q)
		return;
	q++;
	while (*q && req->nquery < MAX_QUERY) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		if (len > 0) {
			size_t klen = eq ? (size_t)(eq - q) : len;
			req->query[req->nquery].key = url_decode(req->arena, q, klen);
			req->query[req->nquery].value = eq ? url_decode(req->arena, eq + 1, len - klen - 1)
							   : arena_strdup(req->arena, "");
			req->nquery++;
		}
		q += len;
		if (*q == '&')
			q++;
	}
}

static void copy_map(struct arena *a, const struct _u_map *map, struct http_kv **out, size_t *n, size_t cap)
{
	const char **keys = map ? u_map_enum_keys(map) : NULL;
	size_t count = 0;

	while (keys && keys[count] && count < cap)
		count++;
	*out = arena_alloc(a, sizeof(**out) * (count ? count : 1));
	for (size_t i = 0; i < count; i++) {
		(*out)[i].key = arena_strdup(a, keys[i]);
		(*out)[i].value = arena_strdup(a, u_map_get(map, keys[i]));
	}
	*n = count;
}

/* Route variables: the ":name" segments of the matched pattern. */
static void copy_params(struct http_req *req, const struct _u_request *ur, const char *pattern)
{
	size_t cap = 8;

	req->params = arena_alloc(req->arena, sizeof(*req->params) * cap);
	for (const char *p = strchr(pattern, ':'); p && req->nparams < cap; p = strchr(p, ':')) {
		size_t len = strcspn(p + 1, "/");
		char *name = arena_strndup(req->arena, p + 1, len);
		const char *value = u_map_get(ur->map_url, name);
		req->params[req->nparams].key = name;
		req->params[req->nparams].value = arena_strdup(req->arena, value ? value : "");
		req->nparams++;
		p += len + 1;
	}
}

static void client_ip(const struct _u_request *ur, char *out, size_t n)
{
	const struct sockaddr *sa = ur->client_address;

	snprintf(out, n, "unknown");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)n);
}

static int on_request(const struct _u_request *ur, struct _u_response *uresp, void *user_data)
{
	const struct server_route *binding = user_data;
	struct server *s = binding->server;
	struct http_req req;
	struct pipeline_result out;
	char ip[INET6_ADDRSTRLEN];

	memset(&req, 0, sizeof(req));
	req.arena = arena_new(REQUEST_ARENA_CAP);
	req.method = arena_strdup(req.arena, ur->http_verb);
	req.path = arena_strdup(req.arena, ur->url_path ? ur->url_path : "/");
	client_ip(ur, ip, sizeof(ip));
	req.ip = arena_strdup(req.arena, ip);
	parse_query(&req, ur->http_url ? ur->http_url : "");
	copy_map(req.arena, ur->map_header, &req.headers, &req.nheaders, MAX_HEADERS);
	if (binding->index < routes_count)
		copy_params(&req, ur, routes[binding->index].path);
	req.body_len = ur->binary_body_length;
	char *body = arena_alloc(req.arena, req.body_len + 1);
	if (req.body_len)
		memcpy(body, ur->binary_body, req.body_len);
	req.body = body;

	pipeline_run(s->app, binding->index, &req, &out);

	ulfius_set_binary_body_response(uresp, (unsigned int)out.status, out.body ? out.body : "", out.body_len);
	u_map_put(uresp->map_header, "Content-Type", out.content_type ? out.content_type : "application/json");
	for (size_t i = 0; i < out.nheaders; i++)
		u_map_put(uresp->map_header, out.headers[i].name, out.headers[i].value);
	free(out.body);
	json_decref(req.json);
	arena_free(req.arena);
	return U_CALLBACK_COMPLETE;
}

int server_start(struct app *app, struct server **out, struct err *e)
{
	struct server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in addr;
	int rc = 0, tls = app->cfg.tls_cert[0] && app->cfg.tls_key[0];

	s->app = app;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)app->cfg.listen_port);
	if (inet_pton(AF_INET, app->cfg.listen_host, &addr.sin_addr) != 1) {
		rc = err_set(e, ERR_INVALID, "CLINICLEDGER_LISTEN", "listen host must be an IPv4 address");
		goto fail;
	}
	if (ulfius_init_instance(&s->instance, (unsigned int)app->cfg.listen_port, &addr, NULL) != U_OK) {
		rc = err_set(e, ERR_INTERNAL, NULL, "cannot initialise the HTTP server");
		goto fail;
	}
	s->instance.max_post_body_size = app->cfg.body_cap + 1; /* one byte more reveals an oversized body */
	s->instance.allowed_post_processor = U_POST_PROCESS_NONE;
	s->bindings = xcalloc(routes_count + 1, sizeof(*s->bindings));
	for (size_t i = 0; i < routes_count; i++) {
		s->bindings[i].server = s;
		s->bindings[i].index = i;
		/* a literal path beats a pattern ("/invoices/statistics" before "/invoices/:id"):
		 * Ulfius runs lower priorities first, so the priority is the number of variables */
		unsigned int priority = 0;
		for (const char *p = routes[i].path; *p; p++)
			priority += *p == ':';
		if (ulfius_add_endpoint_by_val(&s->instance, routes[i].method, NULL, routes[i].path, priority, on_request,
					       &s->bindings[i]) != U_OK) {
			rc = err_set(e, ERR_INTERNAL, NULL, "cannot register route %s %s", routes[i].method,
				     routes[i].path);
			goto fail_instance;
		}
	}
	s->bindings[routes_count].server = s;
	s->bindings[routes_count].index = routes_count;
	ulfius_set_default_endpoint(&s->instance, on_request, &s->bindings[routes_count]);

	struct MHD_OptionItem ops[8];
	int n = 0;
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, app->cfg.http_threads, NULL };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, app->cfg.http_max_connections, NULL };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, app->cfg.http_timeout_s, NULL };
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (tls) {
		s->tls_key = read_file(app->cfg.tls_key);
		s->tls_cert = read_file(app->cfg.tls_cert);
		if (!s->tls_key || !s->tls_cert) {
			rc = err_set(e, ERR_INVALID, "CLINICLEDGER_TLS_CERT", "cannot read the TLS certificate or key");
			goto fail_instance;
		}
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key };
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert };
		flags |= MHD_USE_TLS;
	}
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	if (ulfius_start_framework_with_mhd_options(&s->instance, flags, ops) != U_OK) {
		rc = err_set(e, ERR_UNAVAILABLE, "CLINICLEDGER_LISTEN", "cannot listen on %s:%d", app->cfg.listen_host,
			     app->cfg.listen_port);
		goto fail_instance;
	}
	log_info("msg=\"listening\" address=%s://%s:%d threads=%d", tls ? "https" : "http", app->cfg.listen_host,
		 app->cfg.listen_port, app->cfg.http_threads);
	*out = s;
	return 0;

fail_instance:
	ulfius_clean_instance(&s->instance);
fail:
	free(s->bindings);
	free(s->tls_key);
	free(s->tls_cert);
	free(s);
	return rc;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	ulfius_stop_framework(&s->instance);
	ulfius_clean_instance(&s->instance);
	free(s->bindings);
	if (s->tls_key)
		mem_wipe(s->tls_key, strlen(s->tls_key));
	free(s->tls_key);
	free(s->tls_cert);
	free(s);
}
