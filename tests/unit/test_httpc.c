/*
 * test_httpc.c - unit tests of src/net/httpc.c against a small HTTP server
 * run inside the test (libmicrohttpd, one thread per connection, on a free
 * loopback port): request headers and bodies as sent, captured response
 * headers, the total timeout, the response size cap (with and without a
 * Content-Length), retries on 503 and 429 until success, no retry on 400,
 * the retry hint header, connection refused, bad requests, and many threads
 * calling at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <microhttpd.h>
#include <pthread.h>

#include "core/err.h"
#include "core/timeutil.h"
#include "net/httpc.h"

#define BIG_BYTES (5u << 20)

static struct MHD_Daemon *daemon_;
static unsigned short port_;
static pthread_mutex_t hits_mu = PTHREAD_MUTEX_INITIALIZER;
static int hits; /* requests seen by the counting endpoints since the last reset */

static int hit(void)
{
	int n;

	pthread_mutex_lock(&hits_mu);
	n = ++hits;
	pthread_mutex_unlock(&hits_mu);
	return n;
}

static void reset_hits(void)
{
	pthread_mutex_lock(&hits_mu);
	hits = 0;
	pthread_mutex_unlock(&hits_mu);
}

static int get_hits(void)
{
	int n;

	pthread_mutex_lock(&hits_mu);
	n = hits;
	pthread_mutex_unlock(&hits_mu);
	return n;
}

struct upload {
	char *p;
	size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, const char *hname,
			     const char *hvalue)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (hname)
		MHD_add_response_header(r, hname, hvalue);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static ssize_t big_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	if (pos >= BIG_BYTES)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > BIG_BYTES - pos)
		max = BIG_BYTES - pos;
	memset(buf, 'x', max);
	return (ssize_t)max;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)version;
	if (!up) {
		up = calloc(1, sizeof(*up));
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_data_size) {
		up->p = realloc(up->p, up->len + *upload_data_size + 1);
		memcpy(up->p + up->len, upload_data, *upload_data_size);
		up->len += *upload_data_size;
		up->p[up->len] = '\0';
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (strcmp(url, "/ok") == 0)
		return reply(c, 200, "hello", "X-Test", "captured-value");
	if (strcmp(url, "/echo") == 0) {
		char out[2048];
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
		const char *au = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		const char *ik = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
		snprintf(out, sizeof(out), "%s|%s|%s|%s|%s", method, ct ? ct : "-", au ? au : "-", ik ? ik : "-",
			 up->p ? up->p : "");
		return reply(c, 200, out, NULL, NULL);
	}
	if (strcmp(url, "/slow") == 0) {
		usleep(1500 * 1000);
		return reply(c, 200, "late", NULL, NULL);
	}
	if (strcmp(url, "/big") == 0) {
		char *body = malloc(BIG_BYTES);
		struct MHD_Response *r;
		enum MHD_Result ret;
		memset(body, 'x', BIG_BYTES);
		r = MHD_create_response_from_buffer(BIG_BYTES, body, MHD_RESPMEM_MUST_FREE);
		ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/big-chunked") == 0) {
		struct MHD_Response *r =
		    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, big_stream, NULL, NULL);
		enum MHD_Result ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/flaky") == 0) /* 503 twice, then 200 */
		return hit() <= 2 ? reply(c, 503, "{\"error\":\"busy\"}", NULL, NULL)
				  : reply(c, 200, "recovered", NULL, NULL);
	if (strcmp(url, "/always503") == 0) {
		hit();
		return reply(c, 503, "down", NULL, NULL);
	}
	if (strcmp(url, "/bad") == 0) {
		hit();
		return reply(c, 400, "{\"error\":\"bad\"}", NULL, NULL);
	}
	if (strcmp(url, "/ratelimited") == 0) /* 429 with Retry-After: 0 once, then 200 */
		return hit() <= 1 ? reply(c, 429, "slow down", "Retry-After", "0") : reply(c, 200, "ok", NULL, NULL);
	if (strcmp(url, "/hint-retry") == 0) /* a 409 the server says to retry */
		return hit() <= 1 ? reply(c, 409, "locked", "Stripe-Should-Retry", "true")
				  : reply(c, 200, "ok", NULL, NULL);
	if (strcmp(url, "/hint-noretry") == 0) {
		hit();
		return reply(c, 500, "no", "Stripe-Should-Retry", "false");
	}
	return reply(c, 404, "not found", NULL, NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (up) {
		free(up->p);
		free(up);
		*con_cls = NULL;
	}
}

static int setup(void **state)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	struct err e = {0};

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (httpc_global_init(&e) != 0)
		return -1;
	daemon_ = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
				   handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_SOCK_ADDR,
				   (struct sockaddr *)&sa, MHD_OPTION_END);
	if (!daemon_)
		return -1;
	info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	port_ = info ? info->port : 0;
	return port_ ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(daemon_);
	return 0;
}

static char *url_of(const char *path)
{
	static __thread char buf[128];

	snprintf(buf, sizeof(buf), "http://127.0.0.1:%u%s", (unsigned)port_, path);
	return buf;
}

static struct httpc_request base_request(const char *method, const char *path)
{
	struct httpc_request rq = {0};

	rq.method = method;
	rq.url = url_of(path);
	rq.timeout_ms = 5000;
	rq.backoff_base_ms = 10;
	rq.backoff_max_ms = 50;
	rq.log_name = "test";
	return rq;
}

static void test_get_and_capture(void **state)
{
	static const char *const capture[] = {"x-test", "Absent", NULL};
	struct httpc_request rq = base_request("GET", "/ok");
	struct httpc_response r;
	struct err e = {0};

	(void)state;
	rq.capture = capture;
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello");
	assert_int_equal(r.body_len, 5);
	assert_int_equal(r.attempts, 1);
	assert_non_null(httpc_response_header(&r, "X-Test"));
	assert_string_equal(httpc_response_header(&r, "X-TEST"), "captured-value");
	assert_null(httpc_response_header(&r, "Absent"));
	httpc_response_free(&r);
}

static void test_post_form_headers(void **state)
{
	struct httpc_header h[] = {{"Idempotency-Key", "idem-123"}};
	struct httpc_request rq = base_request("POST", "/echo");
	struct httpc_response r;
	struct err e = {0};

	(void)state;
	rq.headers = h;
	rq.nheaders = 1;
	rq.bearer = "sk_test_abc";
	rq.content_type = "application/x-www-form-urlencoded";
	rq.body = "a=1&b%5B%5D=x";
	rq.body_len = strlen(rq.body);
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "POST|application/x-www-form-urlencoded|Bearer sk_test_abc|idem-123|a=1&b%5B%5D=x");
	httpc_response_free(&r);

	/* JSON body with PUT */
	rq = base_request("PUT", "/echo");
	rq.content_type = "application/json";
	rq.body = "{\"x\":1}";
	rq.body_len = strlen(rq.body);
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_string_equal(r.body, "PUT|application/json|-|-|{\"x\":1}");
	httpc_response_free(&r);
}

static void test_timeout(void **state)
{
	struct httpc_request rq = base_request("GET", "/slow");
	struct httpc_response r;
	struct err e = {0};
	int64_t t0 = time_mono_ms();

	(void)state;
	rq.timeout_ms = 300;
	rq.max_attempts = 1;
	assert_int_equal(httpc_do(&rq, &r, &e), ERR_UPSTREAM);
	assert_true(time_mono_ms() - t0 < 1400);
	assert_int_equal(r.attempts, 1);
	assert_null(r.body);
	assert_non_null(strstr(e.detail, "/slow"));
	httpc_response_free(&r);

	/* a timeout is a network error: retried up to max_attempts */
	rq.max_attempts = 2;
	err_clear(&e);
	assert_int_equal(httpc_do(&rq, &r, &e), ERR_UPSTREAM);
	assert_int_equal(r.attempts, 2);
	httpc_response_free(&r);
}

static void test_size_cap(void **state)
{
	struct httpc_request rq = base_request("GET", "/big");
	struct httpc_response r;
	struct err e = {0};

	(void)state;
	/* default cap 4 MiB < 5 MiB body with a Content-Length */
	assert_int_equal(httpc_do(&rq, &r, &e), ERR_UPSTREAM);
	assert_int_equal(r.attempts, 1); /* never retried */
	assert_non_null(strstr(e.message, "oversized"));
	httpc_response_free(&r);

	/* no Content-Length: the write callback stops it */
	rq = base_request("GET", "/big-chunked");
	err_clear(&e);
	assert_int_equal(httpc_do(&rq, &r, &e), ERR_UPSTREAM);
	assert_int_equal(r.attempts, 1);
	httpc_response_free(&r);

	/* a larger cap lets it through */
	rq = base_request("GET", "/big-chunked");
	rq.max_response_bytes = 6u << 20;
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, BIG_BYTES);
	httpc_response_free(&r);
}

static void test_retry_503_then_success(void **state)
{
	struct httpc_request rq = base_request("POST", "/flaky");
	struct httpc_response r;
	struct err e = {0};

	(void)state;
	reset_hits();
	rq.max_attempts = 3;
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "recovered");
	assert_int_equal(r.attempts, 3);
	assert_int_equal(get_hits(), 3);
	httpc_response_free(&r);
}

static void test_retry_exhausted_returns_status(void **state)
{
	struct httpc_request rq = base_request("GET", "/always503");
	struct httpc_response r;
	struct err e = {0};

	(void)state;
	reset_hits();
	rq.max_attempts = 4;
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "down");
	assert_int_equal(r.attempts, 4);
	assert_int_equal(get_hits(), 4);
	httpc_response_free(&r);

	/* the attempt cap holds whatever the caller asks */
	reset_hits();
	rq.max_attempts = 1000;
	rq.backoff_base_ms = 1;
	rq.backoff_max_ms = 2;
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.attempts, HTTPC_MAX_ATTEMPTS);
	assert_int_equal(get_hits(), HTTPC_MAX_ATTEMPTS);
	httpc_response_free(&r);
}

static void test_no_retry_on_400(void **state)
{
	struct httpc_request rq = base_request("POST", "/bad");
	struct httpc_response r;
	struct err e = {0};

	(void)state;
	reset_hits();
	rq.max_attempts = 5;
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "{\"error\":\"bad\"}");
	assert_int_equal(r.attempts, 1);
	assert_int_equal(get_hits(), 1);
	httpc_response_free(&r);
}

static void test_retry_429_and_hints(void **state)
{
	struct httpc_request rq = base_request("GET", "/ratelimited");
	struct httpc_response r;
	struct err e = {0};

	(void)state;
	reset_hits();
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 2);
	httpc_response_free(&r);

	/* hint "true" makes a 409 retryable */
	reset_hits();
	rq = base_request("POST", "/hint-retry");
	rq.retry_hint_header = "Stripe-Should-Retry";
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 2);
	httpc_response_free(&r);

	/* without the hint header configured a 409 is final */
	reset_hits();
	rq.retry_hint_header = NULL;
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 409);
	assert_int_equal(r.attempts, 1);
	httpc_response_free(&r);

	/* hint "false" stops the retry of a 500 */
	reset_hits();
	rq = base_request("POST", "/hint-noretry");
	rq.retry_hint_header = "Stripe-Should-Retry";
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 500);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(get_hits(), 1);
	httpc_response_free(&r);
}

static void test_connection_refused(void **state)
{
	struct httpc_request rq = base_request("GET", "/");
	struct httpc_response r;
	struct err e = {0};

	(void)state;
	rq.url = "http://127.0.0.1:1/nothing?secret=not-logged";
	rq.max_attempts = 2;
	assert_int_equal(httpc_do(&rq, &r, &e), ERR_UPSTREAM);
	assert_int_equal(e.code, ERR_UPSTREAM);
	assert_int_equal(r.attempts, 2);
	assert_null(strstr(e.detail, "not-logged")); /* the query string stays out of messages */
	assert_null(strstr(e.message, "127.0.0.1"));
	httpc_response_free(&r);
}

static void test_bad_requests(void **state)
{
	struct httpc_request rq = base_request("GET", "/");
	struct httpc_response r;
	struct err e = {0};

	(void)state;
	rq.url = "ftp://127.0.0.1/x";
	assert_int_equal(httpc_do(&rq, &r, &e), ERR_INVALID);
	httpc_response_free(&r);
	rq = base_request("POST", "/echo");
	rq.body = "x";
	rq.body_len = 1;
	assert_int_equal(httpc_do(&rq, &r, &e), ERR_INVALID); /* body without content type */
	httpc_response_free(&r);
	rq.url = NULL;
	assert_int_equal(httpc_do(&rq, &r, &e), ERR_INVALID);
	httpc_response_free(&r);
	/* 404 is a response like any other */
	rq = base_request("GET", "/nope");
	assert_int_equal(httpc_do(&rq, &r, &e), 0);
	assert_int_equal(r.status, 404);
	httpc_response_free(&r);
}

#define THREADS	   8
#define PER_THREAD 25

static void *worker(void *arg)
{
	int *ok = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		struct httpc_request rq = base_request("GET", "/ok");
		struct httpc_response r;
		struct err e = {0};
		if (httpc_do(&rq, &r, &e) == 0 && r.status == 200 && strcmp(r.body, "hello") == 0)
			(*ok)++;
		httpc_response_free(&r);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[THREADS];
	int ok[THREADS] = {0};

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, &ok[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(ok[i], PER_THREAD);
	}
}

static void test_escape(void **state)
{
	char *s;

	(void)state;
	s = httpc_escape("a b&c=d/é~._-", 0);
	assert_string_equal(s, "a%20b%26c%3Dd%2F%C3%A9~._-");
	free(s);
	s = httpc_escape("metadata[order_id]", 1);
	assert_string_equal(s, "metadata[order_id]");
	free(s);
	s = httpc_escape("metadata[order_id]", 0);
	assert_string_equal(s, "metadata%5Border_id%5D");
	free(s);
	s = httpc_escape("", 0);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_and_capture),
	    cmocka_unit_test(test_post_form_headers),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_size_cap),
	    cmocka_unit_test(test_retry_503_then_success),
	    cmocka_unit_test(test_retry_exhausted_returns_status),
	    cmocka_unit_test(test_no_retry_on_400),
	    cmocka_unit_test(test_retry_429_and_hints),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
