/*
 * http.c - the MH sandbox's HTTP edge on libmicrohttpd: one thread per
 * connection (so an injected hang blocks only its own request), request
 * bodies collected up to SBX_BODY_MAX, one route table, JSON replies.
 *
 * Fault injection (faults.c) runs before the MH endpoints, never before the
 * /_sandbox/ control endpoints.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jschema.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "sbx.h"

typedef void (*sbx_handler)(const struct sbx_req *r, struct sbx_resp *resp);

static const struct route {
	const char *method;
	const char *path; /* compared without a trailing '/' */
	sbx_handler fn;
} routes[] = {
    {"POST", "/seguridad/auth", sbx_auth_handle},
    {"POST", "/fesv/recepciondte", sbx_reception_handle},
    {"POST", "/fesv/recepcion/consultadte", sbx_consulta_handle},
    {"POST", "/fesv/anulardte", sbx_anular_handle},
    {"POST", "/fesv/contingencia", sbx_contingencia_handle},
};

struct conn_ctx {
	char *body;
	size_t len, cap;
	bool too_large;
	int64_t started_ms;
};

static struct MHD_Daemon *daemon_handle;
static atomic_bool stopping;

bool sbx_stopping(void)
{
	return atomic_load(&stopping);
}

void sbx_request_stop(void)
{
	atomic_store(&stopping, true);
}

void sbx_sleep_ms(int64_t ms)
{
	int64_t end = time_mono_ms() + ms;
	while (!sbx_stopping()) {
		int64_t left = end - time_mono_ms();
		if (left <= 0)
			break;
		if (left > 100)
			left = 100;
		struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

void sbx_reply(struct sbx_resp *resp, int status, json_t *body)
{
	json_decref(resp->json);
	resp->status = status;
	resp->json = body;
}

void sbx_reply_error(struct sbx_resp *resp, const struct sbx_req *r, int status, const char *message)
{
	char iso[TIME_ISO_LEN + 1];
	const char *reason = status == 400   ? "Bad Request"
			     : status == 401 ? "Unauthorized"
			     : status == 404 ? "Not Found"
			     : status == 405 ? "Method Not Allowed"
			     : status == 413 ? "Payload Too Large"
			     : status == 415 ? "Unsupported Media Type"
			     : status == 502 ? "Bad Gateway"
			     : status == 504 ? "Gateway Timeout"
			     : status == 503 ? "Service Unavailable"
					     : "Internal Server Error";
	time_iso(sbx_now(), iso);
	sbx_reply(resp, status,
		  json_pack("{s:s, s:i, s:s, s:s, s:s}", "timestamp", iso, "status", status, "error", reason, "message",
			    message, "path", r->path));
}

const char *sbx_query(const struct sbx_req *r, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Length of path without trailing slashes (but keep "/"). */
static size_t path_len(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	return n;
}

static void dispatch(const struct sbx_req *r, struct sbx_resp *resp)
{
	size_t n = path_len(r->path);
	bool path_known = false;

	if (strncmp(r->path, "/_sandbox/", 10) == 0 || strcmp(r->path, "/_sandbox") == 0) {
		sbx_control_handle(r, resp);
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strlen(routes[i].path) != n || strncmp(routes[i].path, r->path, n) != 0)
			continue;
		path_known = true;
		if (strcmp(routes[i].method, r->method) != 0)
			continue;
		sbx_lock();
		sbx_stats()->requests++;
		sbx_unlock();
		if (sbx_faults_before(r, resp))
			return;
		routes[i].fn(r, resp);
		return;
	}
	if (path_known)
		sbx_reply_error(resp, r, 405, "Request method not supported");
	else
		sbx_reply_error(resp, r, 404, "No message available");
}

static enum MHD_Result send_json(struct MHD_Connection *conn, int status, json_t *body)
{
	char *text = body ? jschema_dump_exact(body, JSON_COMPACT) : NULL; /* exact DTE numbers */
	size_t len = text ? strlen(text) : 0;
	struct MHD_Response *mr = MHD_create_response_from_buffer(
	    len, text ? text : (void *)"", text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!mr) {
		free(text);
		return MHD_NO;
	}
	if (text)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, (unsigned)status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct conn_ctx *ctx = *con_cls;
	(void)cls;
	(void)version;

	if (!ctx) {
		ctx = xcalloc(1, sizeof(*ctx));
		ctx->started_ms = time_mono_ms();
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!ctx->too_large) {
			if (ctx->len + *upload_data_size > SBX_BODY_MAX) {
				ctx->too_large = true;
			} else {
				if (ctx->len + *upload_data_size + 1 > ctx->cap) {
					size_t cap = ctx->cap ? ctx->cap : 4096;
					while (cap < ctx->len + *upload_data_size + 1)
						cap *= 2;
					ctx->body = xrealloc(ctx->body, cap);
					ctx->cap = cap;
				}
				memcpy(ctx->body + ctx->len, upload_data, *upload_data_size);
				ctx->len += *upload_data_size;
				ctx->body[ctx->len] = '\0';
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	struct sbx_req r = {
	    .method = method,
	    .path = url,
	    .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	    .content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
	    .body = ctx->body ? ctx->body : "",
	    .body_len = ctx->len,
	    .conn = conn,
	};
	struct sbx_resp resp = {0};

	if (ctx->too_large)
		sbx_reply_error(&resp, &r, 413, "Request body too large");
	else
		dispatch(&r, &resp);
	if (sbx_cfg.verbose)
		log_info("msg=request method=%s path=%s status=%d ms=%lld%s", method, url, resp.drop ? 0 : resp.status,
			 (long long)(time_mono_ms() - ctx->started_ms), resp.drop ? " dropped=1" : "");
	if (resp.drop) {
		json_decref(resp.json);
		return MHD_NO; /* closes the connection without an answer */
	}
	enum MHD_Result ret = send_json(conn, resp.status ? resp.status : 500, resp.json);
	json_decref(resp.json);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (ctx) {
		free(ctx->body);
		free(ctx);
		*con_cls = NULL;
	}
}

int sbx_http_start(struct err *e)
{
	struct sockaddr_in addr;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)sbx_cfg.port);
	if (inet_pton(AF_INET, sbx_cfg.host, &addr.sin_addr) != 1)
		return err_set(e, ERR_INVALID, "listen", "listen host must be an IPv4 address, e.g. 127.0.0.1");
	daemon_handle = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)sbx_cfg.port,
	    NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)512, MHD_OPTION_END);
	if (!daemon_handle)
		return err_set(e, ERR_UNAVAILABLE, "listen", "cannot listen on %s:%d", sbx_cfg.host, sbx_cfg.port);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
	if (info && info->port)
		sbx_cfg.port = info->port;
	return 0;
}

void sbx_http_stop(void)
{
	sbx_request_stop();
	if (daemon_handle) {
		MHD_stop_daemon(daemon_handle);
		daemon_handle = NULL;
	}
}
