/*
 * httpc.c - the outbound HTTP client over libcurl: one easy handle per
 * attempt, timeouts, a response cap, retries with backoff and jitter on
 * network errors, 5xx and 429 (see httpc.h for the rules).
 */
#include "net/httpc.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int httpc_global_init(struct err *e)
{
	pthread_once(&global_once, global_init_once);
	if (global_rc != CURLE_OK) {
		err_set(e, ERR_INTERNAL, NULL, "HTTP client initialisation failed");
		return err_detail(e, "curl_global_init: %s", curl_easy_strerror(global_rc));
	}
	return 0;
}

/* The body being received, with its cap. */
struct sink {
	char *p;
	size_t len, cap, max;
	int over; /* the cap was hit */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;

	if (n > s->max - s->len) {
		s->over = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n + 1)
			cap *= 2;
		s->p = xrealloc(s->p, cap);
		s->cap = cap;
	}
	memcpy(s->p + s->len, data, n);
	s->len += n;
	s->p[s->len] = '\0';
	return n;
}

/* Response headers of the current attempt: the requested ones plus the two
 * the retry logic reads. */
struct hdrs {
	const char *const *want;
	const char *hint_name;
	struct httpc_header got[HTTPC_MAX_HEADERS]; /* owned strings */
	size_t n;
	char retry_after[32];
	char hint[16];
};

static void hdrs_reset(struct hdrs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free((char *)h->got[i].name);
		free((char *)h->got[i].value);
	}
	h->n = 0;
	h->retry_after[0] = '\0';
	h->hint[0] = '\0';
}

static void copy_trimmed(char *dst, size_t dstlen, const char *v, size_t vlen)
{
	if (vlen >= dstlen)
		vlen = dstlen - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct hdrs *h = ud;
	size_t n = size * nmemb, nl, vl;
	const char *colon, *v;

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		hdrs_reset(h); /* a new response (after 100 Continue) */
		return n;
	}
	colon = memchr(data, ':', n);
	if (!colon)
		return n;
	nl = (size_t)(colon - data);
	v = colon + 1;
	vl = n - nl - 1;
	while (vl && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (vl > HTTPC_HEADER_VALUE_MAX)
		vl = HTTPC_HEADER_VALUE_MAX;
	if (nl == 11 && strncasecmp(data, "Retry-After", 11) == 0)
		copy_trimmed(h->retry_after, sizeof(h->retry_after), v, vl);
	if (h->hint_name && strlen(h->hint_name) == nl && strncasecmp(data, h->hint_name, nl) == 0)
		copy_trimmed(h->hint, sizeof(h->hint), v, vl);
	for (size_t i = 0; h->want && h->want[i]; i++) {
		if (strlen(h->want[i]) != nl || strncasecmp(data, h->want[i], nl) != 0)
			continue;
		if (h->n < HTTPC_MAX_HEADERS) {
			h->got[h->n].name = xstrdup(h->want[i]);
			h->got[h->n].value = xstrndup(v, vl);
			h->n++;
		}
		break;
	}
	return n;
}

const char *httpc_response_header(const struct httpc_response *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

void httpc_response_free(struct httpc_response *r)
{
	if (!r)
		return;
	free(r->body);
	for (size_t i = 0; i < r->nheaders; i++) {
		free((char *)r->headers[i].name);
		free((char *)r->headers[i].value);
	}
	memset(r, 0, sizeof(*r));
}

char *httpc_escape(const char *s, int keep_brackets)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), j = 0;
	char *out = xmalloc(3 * n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
		    (keep_brackets && (c == '[' || c == ']'))) {
			out[j++] = (char)c;
		} else {
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 15];
		}
	}
	out[j] = '\0';
	return out;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Delay before attempt n+1 (n = attempts made, >= 1). */
static int64_t backoff_ms(const struct httpc_request *rq, int n, const char *retry_after)
{
	int64_t base = rq->backoff_base_ms > 0 ? rq->backoff_base_ms : HTTPC_DEFAULT_BACKOFF_BASE_MS;
	int64_t max = rq->backoff_max_ms > 0 ? rq->backoff_max_ms : HTTPC_DEFAULT_BACKOFF_MAX_MS;
	int64_t d = base;
	uint32_t r;

	if (retry_after && *retry_after) {
		char *end;
		long s = strtol(retry_after, &end, 10);
		if (*end == '\0' && s >= 0 && s <= 3600)
			return s * 1000 < max ? s * 1000 : max;
	}
	for (int i = 1; i < n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	crypto_random(&r, sizeof(r));
	return d / 2 + (int64_t)(r % (uint32_t)(d / 2 + 1));
}

static int valid_request(const struct httpc_request *rq, struct err *e)
{
	if (!rq->method || !rq->url)
		return err_set(e, ERR_INVALID, NULL, "HTTP request without method or URL");
	if (strncmp(rq->url, "http://", 7) != 0 && strncmp(rq->url, "https://", 8) != 0)
		return err_set(e, ERR_INVALID, NULL, "only http and https URLs are allowed");
	if (rq->nheaders > HTTPC_MAX_HEADERS)
		return err_set(e, ERR_INVALID, NULL, "too many request headers");
	if (rq->body && !rq->content_type)
		return err_set(e, ERR_INVALID, NULL, "request body without content type");
	return 0;
}

/* The headers list of one attempt. Owned by the caller (curl_slist_free_all);
 * the Authorization line is wiped before it is freed (see free_headers). */
static struct curl_slist *build_headers(const struct httpc_request *rq)
{
	struct curl_slist *list = NULL;
	char *line;

	list = curl_slist_append(list, "Expect:");
	list = curl_slist_append(list, "User-Agent: clinicledger/1.0");
	if (rq->content_type) {
		line = xasprintf("Content-Type: %s", rq->content_type);
		list = curl_slist_append(list, line);
		free(line);
	}
	if (rq->bearer) {
		line = xasprintf("Authorization: Bearer %s", rq->bearer);
		list = curl_slist_append(list, line);
		mem_wipe(line, strlen(line));
		free(line);
	}
	for (size_t i = 0; i < rq->nheaders; i++) {
		line = xasprintf("%s: %s", rq->headers[i].name, rq->headers[i].value);
		list = curl_slist_append(list, line);
		free(line);
	}
	return list;
}

static void free_headers(struct curl_slist *list)
{
	for (struct curl_slist *p = list; p; p = p->next)
		if (strncasecmp(p->data, "Authorization:", 14) == 0)
			mem_wipe(p->data, strlen(p->data));
	curl_slist_free_all(list);
}

/* One attempt. Returns the curl code; *status gets the HTTP status. */
static CURLcode attempt(const struct httpc_request *rq, struct curl_slist *headers, struct sink *body, struct hdrs *h,
			long *status, char *errbuf)
{
	CURL *c = curl_easy_init();
	CURLcode rc;
	int ct = rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : HTTPC_DEFAULT_CONNECT_TIMEOUT_MS;
	int tt = rq->timeout_ms > 0 ? rq->timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS;

	*status = 0;
	errbuf[0] = '\0';
	if (!c)
		return CURLE_FAILED_INIT;
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rq->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, rq->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ct);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)tt);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)body->max);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	if (strcmp(rq->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	if (rq->body || strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->body_len : 0));
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	return rc;
}

/* scheme://host/path of url, without the query, for the log. */
static void log_url(const char *url, char *out, size_t len)
{
	size_t n = strcspn(url, "?#");

	if (n >= len)
		n = len - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

int httpc_do(const struct httpc_request *rq, struct httpc_response *out, struct err *e)
{
	struct curl_slist *headers = NULL;
	struct sink body = {0};
	struct hdrs h = {0};
	char errbuf[CURL_ERROR_SIZE];
	char where[256];
	const char *who = rq->log_name ? rq->log_name : "httpc";
	int max_attempts = rq->max_attempts > 0 ? rq->max_attempts : HTTPC_DEFAULT_ATTEMPTS;
	int rc;
	CURLcode cc = CURLE_OK;
	long status = 0;

	memset(out, 0, sizeof(*out));
	if (max_attempts > HTTPC_MAX_ATTEMPTS)
		max_attempts = HTTPC_MAX_ATTEMPTS;
	rc = httpc_global_init(e);
	if (rc)
		return rc;
	rc = valid_request(rq, e);
	if (rc)
		return rc;
	log_url(rq->url, where, sizeof(where));
	headers = build_headers(rq);
	h.want = rq->capture;
	h.hint_name = rq->retry_hint_header;
	body.max = rq->max_response_bytes ? rq->max_response_bytes : HTTPC_DEFAULT_MAX_RESPONSE;

	for (int n = 1;; n++) {
		int64_t t0 = time_mono_ms();
		int retry;

		body.len = 0;
		body.over = 0;
		if (body.p)
			body.p[0] = '\0';
		hdrs_reset(&h);
		cc = attempt(rq, headers, &body, &h, &status, errbuf);
		out->attempts = n;
		log_debug(
		    "msg=\"outbound request\" client=%s method=%s url=\"%s\" attempt=%d status=%ld curl=%d ms=%lld",
		    who, rq->method, where, n, status, (int)cc, (long long)(time_mono_ms() - t0));
		if (body.over || cc == CURLE_FILESIZE_EXCEEDED) {
			log_warn("msg=\"outbound response too large\" client=%s method=%s url=\"%s\" cap=%zu", who,
				 rq->method, where, body.max);
			err_set(e, ERR_UPSTREAM, NULL, "the upstream service sent an oversized response");
			rc = err_detail(e, "%s %s: response over %zu bytes", rq->method, where, body.max);
			goto out;
		}
		if (cc != CURLE_OK)
			retry = 1;
		else if (h.hint[0])
			retry = strcasecmp(h.hint, "true") == 0;
		else
			retry = status >= 500 || status == 429;
		if (!retry || n >= max_attempts)
			break;
		sleep_ms(backoff_ms(rq, n, (status == 429 || status == 503) ? h.retry_after : NULL));
	}
	if (cc != CURLE_OK) {
		log_warn("msg=\"outbound request failed\" client=%s method=%s url=\"%s\" attempts=%d curl=\"%s\"", who,
			 rq->method, where, out->attempts, curl_easy_strerror(cc));
		err_set(e, ERR_UPSTREAM, NULL, "the upstream service could not be reached");
		rc = err_detail(e, "%s %s: %s (%s) after %d attempts", rq->method, where, curl_easy_strerror(cc),
				errbuf, out->attempts);
		goto out;
	}
	if (status >= 500 || status == 429)
		log_warn("msg=\"outbound request failed\" client=%s method=%s url=\"%s\" attempts=%d status=%ld", who,
			 rq->method, where, out->attempts, status);
	out->status = status;
	out->body = body.p ? body.p : xstrdup("");
	out->body_len = body.len;
	body.p = NULL;
	memcpy(out->headers, h.got, sizeof(h.got));
	out->nheaders = h.n;
	h.n = 0;
	rc = 0;
out:
	hdrs_reset(&h);
	free(body.p);
	free_headers(headers);
	return rc;
}
