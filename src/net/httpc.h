/*
 * httpc.h - THE outbound HTTP client (libcurl underneath; only src/net
 * includes curl/curl.h).
 *
 * One call = one request, retried on failure: a fresh CURL easy handle per
 * attempt, so any thread may call at any time. Every call has a connect
 * timeout and a total timeout per attempt, a cap on the response body
 * (bigger -> ERR_UPSTREAM, never retried), TLS peer and host verification
 * always on (ca_file may point at another CA bundle, for tests), redirects
 * not followed, and only http/https URLs.
 *
 * RETRIES. An attempt is retried when it failed at the network level
 * (connection refused or reset, DNS failure, timeout) or answered 5xx or
 * 429; never after any other status (4xx is the caller's problem and a
 * retry would fail the same way). When retry_hint_header is set (Stripe:
 * "Stripe-Should-Retry") and the response carries it, "true" forces a retry
 * and "false" forbids one, whatever the status. At most max_attempts
 * attempts (capped at HTTPC_MAX_ATTEMPTS). Before attempt n+1 the call
 * sleeps a random delay in [d/2, d], d = min(backoff_max_ms,
 * backoff_base_ms * 2^(n-1)) ("equal jitter"), or the server's Retry-After
 * seconds when a 429/503 says so (still capped at backoff_max_ms).
 * A POST is retried too: callers that must not repeat a POST send an
 * idempotency key (Stripe) or set max_attempts = 1.
 *
 * OUTCOME. httpc_do returns 0 whenever an HTTP response was received (any
 * status, including a 5xx that survived every retry): the caller maps the
 * status. It returns ERR_UPSTREAM when no response came back (network
 * failure or timeout on the last attempt) or the body went past the cap,
 * ERR_INVALID for a bad request description (programming error).
 *
 * LOGS. One line per attempt at debug level and one per failed call at warn
 * level: method, scheme://host/path (never the query string), status, curl
 * error, attempt number and milliseconds. Never headers, bodies, keys.
 */
#ifndef CL_NET_HTTPC_H
#define CL_NET_HTTPC_H

#include <stddef.h>

#include "core/err.h"

#define HTTPC_DEFAULT_MAX_RESPONSE	 (4u << 20) /* 4 MiB */
#define HTTPC_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define HTTPC_DEFAULT_TIMEOUT_MS	 15000
#define HTTPC_DEFAULT_ATTEMPTS		 3
#define HTTPC_MAX_ATTEMPTS		 8
#define HTTPC_DEFAULT_BACKOFF_BASE_MS	 250
#define HTTPC_DEFAULT_BACKOFF_MAX_MS	 4000
#define HTTPC_MAX_HEADERS		 16 /* request headers and captured response headers */
#define HTTPC_HEADER_VALUE_MAX		 512

struct httpc_header {
	const char *name;
	const char *value;
};

/* What to send. All pointers are borrowed for the duration of the call.
 * Zero numeric fields take the defaults above. */
struct httpc_request {
	const char *method;		    /* "GET" | "POST" | "PUT" | "PATCH" | "DELETE" */
	const char *url;		    /* http:// or https:// */
	const struct httpc_header *headers; /* extra request headers (<= HTTPC_MAX_HEADERS) */
	size_t nheaders;
	const char *bearer;	  /* "Authorization: Bearer <bearer>" when not NULL; never logged */
	const char *content_type; /* of body, e.g. "application/x-www-form-urlencoded" */
	const char *body;	  /* NULL: no body */
	size_t body_len;
	int connect_timeout_ms;
	int timeout_ms; /* total, per attempt */
	size_t max_response_bytes;
	int max_attempts;
	int backoff_base_ms;
	int backoff_max_ms;
	const char *const *capture;    /* NULL-terminated response header names to return, or NULL */
	const char *retry_hint_header; /* see RETRIES; NULL: none */
	const char *ca_file;	       /* CA bundle override (PEM path); NULL: the system's */
	const char *log_name;	       /* who is calling, for the log ("stripe"); NULL: "httpc" */
};

/* What came back. Fill with httpc_do, release with httpc_response_free. */
struct httpc_response {
	long status; /* HTTP status of the last attempt; 0 when none */
	char *body;  /* owned, NUL-terminated ("" when empty) */
	size_t body_len;
	struct httpc_header headers[HTTPC_MAX_HEADERS]; /* owned copies of the captured headers */
	size_t nheaders;
	int attempts; /* attempts made */
};

/* curl_global_init, once per process (later calls are no-ops). Call it from
 * main before any thread starts; httpc_do also calls it (under pthread_once)
 * so tests and tools need not. Fails only when libcurl cannot initialise:
 * ERR_INTERNAL. */
int httpc_global_init(struct err *e);

/* Perform rq (see OUTCOME). *out is reset first and owns what it holds
 * afterwards, also on error: always call httpc_response_free. */
int httpc_do(const struct httpc_request *rq, struct httpc_response *out, struct err *e);

/* Value of a captured response header (case-insensitive name), or NULL.
 * Borrowed from r. */
const char *httpc_response_header(const struct httpc_response *r, const char *name);

/* Free what r owns and reset it. */
void httpc_response_free(struct httpc_response *r);

/* Percent-encode s for a URL query or form body: RFC 3986 unreserved
 * characters are kept, every other byte becomes %XX; when keep_brackets,
 * '[' and ']' are kept too (Stripe's form keys "metadata[order_id]").
 * Owned result. */
char *httpc_escape(const char *s, int keep_brackets);

#endif
