/*
 * webhook_receiver.h - a real HTTP receiver of outgoing webhooks for the
 * tests (tests/unit/test_fiscal.c, tests/api/test_webhooks_out.c): a
 * libmicrohttpd server on 127.0.0.1 and a free port, in the test process.
 *
 * It records every request (method, path, the X-ClinicLedger-* headers,
 * body) and answers with the statuses of a script in order (e.g. 500 then
 * 200), then with a default status. wr_verify checks a request's signature
 * with OpenSSL's HMAC directly (not with the server's code):
 *   X-ClinicLedger-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 * Everything is static: include it in one test program.
 */
#ifndef CL_TESTS_WEBHOOK_RECEIVER_H
#define CL_TESTS_WEBHOOK_RECEIVER_H

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WR_MAX_REQUESTS 256
#define WR_MAX_BODY	(1 << 20)

struct wr_request {
	char method[8];
	char path[256];
	char signature[256];
	char event[64];
	char delivery[64];
	char user_agent[128];
	char content_type[128];
	char *body; /* NUL-terminated, owned */
	size_t len;
	int answered; /* the status we answered */
};

struct wr {
	struct MHD_Daemon *daemon;
	int port;
	char url[128]; /* http://127.0.0.1:<port>/hook */
	pthread_mutex_t mu;
	struct wr_request req[WR_MAX_REQUESTS];
	int n;
	int script[32];
	int nscript, next;
	int default_status;
};

/* Per-connection upload buffer. */
struct wr_upload {
	char *data;
	size_t len;
	int too_big;
};

static inline void wr_copy_header(struct MHD_Connection *c, const char *name, char *out, size_t outlen)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, outlen, "%s", v ? v : "");
}

static inline enum MHD_Result wr_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
					 const char *version, const char *upload_data, size_t *upload_data_size,
					 void **con_cls)
{
	struct wr *w = cls;
	struct wr_upload *up = *con_cls;
	struct MHD_Response *resp;
	struct wr_request *r;
	enum MHD_Result ret;
	int status;

	(void)version;
	if (!up) {
		up = calloc(1, sizeof(*up));
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (up->len + *upload_data_size > WR_MAX_BODY) {
			up->too_big = 1;
		} else {
			up->data = realloc(up->data, up->len + *upload_data_size + 1);
			memcpy(up->data + up->len, upload_data, *upload_data_size);
			up->len += *upload_data_size;
			up->data[up->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&w->mu);
	status = w->next < w->nscript ? w->script[w->next++] : w->default_status;
	if (w->n < WR_MAX_REQUESTS) {
		r = &w->req[w->n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->path, sizeof(r->path), "%s", url);
		wr_copy_header(c, "X-ClinicLedger-Signature", r->signature, sizeof(r->signature));
		wr_copy_header(c, "X-ClinicLedger-Event", r->event, sizeof(r->event));
		wr_copy_header(c, "X-ClinicLedger-Delivery", r->delivery, sizeof(r->delivery));
		wr_copy_header(c, "User-Agent", r->user_agent, sizeof(r->user_agent));
		wr_copy_header(c, "Content-Type", r->content_type, sizeof(r->content_type));
		r->body = up->data ? up->data : strdup("");
		r->len = up->len;
		up->data = NULL;
		r->answered = status;
	}
	pthread_mutex_unlock(&w->mu);
	resp = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static inline void wr_completed(void *cls, struct MHD_Connection *c, void **con_cls,
				enum MHD_RequestTerminationCode toe)
{
	struct wr_upload *up = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (up) {
		free(up->data);
		free(up);
		*con_cls = NULL;
	}
}

/* Start on a free loopback port. Returns 0 or -1. */
static inline int wr_start(struct wr *w)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	w->default_status = 200;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, wr_handler, w,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
				     wr_completed, NULL, MHD_OPTION_END);
	if (!w->daemon)
		return -1;
	info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		return -1;
	w->port = info->port;
	snprintf(w->url, sizeof(w->url), "http://127.0.0.1:%d/hook", w->port);
	return 0;
}

static inline void wr_stop(struct wr *w)
{
	if (w->daemon)
		MHD_stop_daemon(w->daemon);
	w->daemon = NULL;
	for (int i = 0; i < w->n; i++)
		free(w->req[i].body);
	w->n = 0;
	pthread_mutex_destroy(&w->mu);
}

/* Forget the requests seen and answer statuses[0..n) next, then def. */
static inline void wr_reset(struct wr *w, const int *statuses, int n, int def)
{
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < w->n; i++)
		free(w->req[i].body);
	w->n = 0;
	w->nscript = n < 32 ? n : 32;
	for (int i = 0; i < w->nscript; i++)
		w->script[i] = statuses[i];
	w->next = 0;
	w->default_status = def;
	pthread_mutex_unlock(&w->mu);
}

static inline int wr_count(struct wr *w)
{
	int n;

	pthread_mutex_lock(&w->mu);
	n = w->n;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/* Wait until at least `count` requests arrived (or timeout_ms passed);
 * returns the number seen. */
static inline int wr_wait(struct wr *w, int count, int timeout_ms)
{
	struct timespec ts = {0, 20 * 1000000L};
	int waited = 0, n;

	while ((n = wr_count(w)) < count && waited < timeout_ms) {
		nanosleep(&ts, NULL);
		waited += 20;
	}
	return n;
}

/* Check request i's signature against secret: 1 valid, 0 not. *t_out (may
 * be NULL) gets its timestamp. */
static inline int wr_verify(struct wr *w, int i, const char *secret, long long *t_out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1], *msg;
	const char *v1;
	long long t;
	int ok;

	pthread_mutex_lock(&w->mu);
	if (i >= w->n || sscanf(w->req[i].signature, "t=%lld,", &t) != 1 ||
	    !(v1 = strstr(w->req[i].signature, ",v1="))) {
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	v1 += 4;
	msg = malloc(w->req[i].len + 32);
	int np = snprintf(msg, 32, "%lld.", t);
	memcpy(msg + np, w->req[i].body, w->req[i].len);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, (size_t)np + w->req[i].len, mac, &maclen);
	free(msg);
	for (unsigned k = 0; k < maclen; k++)
		snprintf(hex + 2 * k, 3, "%02x", mac[k]);
	ok = strcmp(hex, v1) == 0;
	pthread_mutex_unlock(&w->mu);
	if (t_out)
		*t_out = t;
	return ok;
}

#endif
