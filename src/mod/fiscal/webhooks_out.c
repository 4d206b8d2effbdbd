/*
 * webhooks_out.c - outgoing webhooks (fiscal.h WEBHOOKS): the endpoints a
 * tenant registers, the events stored for them, and the job
 * "webhook.deliver" that makes one delivery attempt, logs it, and schedules
 * the next one.
 *
 * One job = one attempt, so the delivery log can say exactly when the next
 * try happens: the job POSTs once (httpc, max_attempts 1), then in ONE
 * transaction writes the log row and, when the failure is retryable and
 * attempts remain, enqueues the next attempt's job (dedupe key
 * "webhook:<delivery>:<attempt>") with the backoff as its delay. A crash
 * between the POST and that commit re-runs the attempt (at least once;
 * X-ClinicLedger-Delivery lets the receiver de-duplicate); an attempt that
 * is logged already is never sent again. No database connection is held
 * during the POST.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "app.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "jobs/jobs.h"
#include "mod/fiscal/fiscal.h"
#include "mod/fiscal/fiscal_repo.h"
#include "net/httpc.h"

#define WEBHOOK_DESC_MAX     500   /* bytes of a description */
#define WEBHOOK_EVENTS_MAX   8	   /* events per endpoint */
#define WEBHOOK_RESPONSE_MAX 65536 /* bytes of a receiver's answer we read */
#define WEBHOOK_RETRY_CAP_S  21600 /* 6 hours */
#define WEBHOOK_ERROR_MAX    255

const char *const fiscal_webhook_events[] = {FISCAL_EVENT_DTE, NULL};

/* ---- URL policy ---- */

struct url_parts {
	bool https;
	char host[256]; /* lower case; IPv6 without brackets */
	bool host_is_v6;
	int port; /* 0 = the scheme's */
};

/* Split an http(s) URL; ERR_INVALID naming field for anything else. */
static int url_parse(const char *url, struct url_parts *out, const char *field, struct err *e)
{
	const char *p, *auth_end, *h, *h_end;
	size_t n = url ? strlen(url) : 0;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return err_set(e, ERR_INVALID, field, "%s is required", field);
	if (n > FISCAL_WEBHOOK_URL_MAX)
		return err_set(e, ERR_INVALID, field, "%s must be at most %d characters", field,
			       FISCAL_WEBHOOK_URL_MAX);
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || (unsigned char)*p >= 0x80 || *p == '\\')
			return err_set(e, ERR_INVALID, field, "%s must not contain spaces or non-ASCII characters",
				       field);
	if (strncasecmp(url, "https://", 8) == 0) {
		out->https = true;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else {
		return err_set(e, ERR_INVALID, field, "%s must be an http:// or https:// URL", field);
	}
	if (strchr(url, '#'))
		return err_set(e, ERR_INVALID, field, "%s must not have a fragment", field);
	auth_end = p + strcspn(p, "/?");
	if (memchr(p, '@', (size_t)(auth_end - p)))
		return err_set(e, ERR_INVALID, field, "%s must not carry credentials", field);
	if (*p == '[') {
		h = p + 1;
		h_end = memchr(h, ']', (size_t)(auth_end - h));
		if (!h_end)
			return err_set(e, ERR_INVALID, field, "%s has a malformed IPv6 host", field);
		out->host_is_v6 = true;
		p = h_end + 1;
	} else {
		h = p;
		h_end = h + strcspn(h, ":/?");
		if (h_end > auth_end)
			h_end = auth_end;
		p = h_end;
	}
	if (h_end == h || (size_t)(h_end - h) >= sizeof(out->host))
		return err_set(e, ERR_INVALID, field, "%s must name a host", field);
	for (size_t i = 0; i < (size_t)(h_end - h); i++)
		out->host[i] = (char)tolower((unsigned char)h[i]);
	if (p < auth_end) {
		char *end = NULL;
		long port;

		if (*p != ':' || p + 1 == auth_end)
			return err_set(e, ERR_INVALID, field, "%s has a malformed host or port", field);
		port = strtol(p + 1, &end, 10);
		if (end != auth_end || port < 1 || port > 65535)
			return err_set(e, ERR_INVALID, field, "%s has an invalid port", field);
		out->port = (int)port;
	}
	if (out->host_is_v6) {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, out->host, &a6) != 1)
			return err_set(e, ERR_INVALID, field, "%s has a malformed IPv6 host", field);
	}
	return 0;
}

static bool v4_public(uint32_t a)
{
	static const struct {
		uint32_t net, mask;
	} blocked[] = {
	    {0x00000000, 0xFF000000}, /* 0.0.0.0/8 "this network" */
	    {0x0A000000, 0xFF000000}, /* 10/8 private */
	    {0x64400000, 0xFFC00000}, /* 100.64/10 CGNAT */
	    {0x7F000000, 0xFF000000}, /* 127/8 loopback */
	    {0xA9FE0000, 0xFFFF0000}, /* 169.254/16 link-local (cloud metadata) */
	    {0xAC100000, 0xFFF00000}, /* 172.16/12 private */
	    {0xC0000000, 0xFFFFFF00}, /* 192.0.0/24 IETF protocol assignments */
	    {0xC0000200, 0xFFFFFF00}, /* 192.0.2/24 documentation */
	    {0xC0586300, 0xFFFFFF00}, /* 192.88.99/24 6to4 relay */
	    {0xC0A80000, 0xFFFF0000}, /* 192.168/16 private */
	    {0xC6120000, 0xFFFE0000}, /* 198.18/15 benchmarking */
	    {0xC6336400, 0xFFFFFF00}, /* 198.51.100/24 documentation */
	    {0xCB007100, 0xFFFFFF00}, /* 203.0.113/24 documentation */
	    {0xE0000000, 0xF0000000}, /* 224/4 multicast */
	    {0xF0000000, 0xF0000000}, /* 240/4 reserved, broadcast */
	};

	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
		if ((a & blocked[i].mask) == blocked[i].net)
			return false;
	return true;
}

static bool v6_public(const unsigned char b[16])
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

	if (memcmp(b, v4mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_public((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
	if ((b[0] & 0xE0) != 0x20) /* only global unicast 2000::/3 (covers ::, ::1, fc00::/7, fe80::/10, ff00::/8) */
		return false;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02) /* 2001::/23 IETF protocol assignments (Teredo ...) */
		return false;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 documentation */
		return false;
	if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4 */
		return false;
	return true;
}

bool fiscal_ip_public(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!addr)
		return false;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return v4_public(ntohl(a4.s_addr));
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return v6_public(a6.s6_addr);
	return false;
}

static bool host_is_localhost(const char *h)
{
	size_t n = strlen(h);

	if (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 9 && strncmp(h, "localhost", 9) == 0)
		return true;
	return n > 10 && strncmp(h + n - 10, ".localhost", 10) == 0;
}

int fiscal_webhook_url_check(const char *url, bool allow_private, const char *field, struct err *e)
{
	struct url_parts u;
	struct in_addr a4;
	int rc = url_parse(url, &u, field, e);

	if (rc || allow_private)
		return rc;
	if (host_is_localhost(u.host))
		return err_set(e, ERR_INVALID, field, "%s must not point at this machine (localhost)", field);
	/* inet_aton also reads the short and numeric forms ("127.1", "2130706433") */
	if ((u.host_is_v6 && !fiscal_ip_public(u.host)) ||
	    (!u.host_is_v6 && inet_aton(u.host, &a4) != 0 && !v4_public(ntohl(a4.s_addr))))
		return err_set(e, ERR_INVALID, field, "%s must not point at a private or reserved address", field);
	return 0;
}

int fiscal_webhook_url_resolve_check(const char *url, bool allow_private, struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct url_parts u;
	int rc = url_parse(url, &u, "url", e), gai;

	if (rc || allow_private)
		return rc;
	if ((rc = fiscal_webhook_url_check(url, false, "url", e)))
		return rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(u.host, NULL, &hints, &res);
	if (gai != 0) {
		err_set(e, ERR_UPSTREAM, NULL, "could not resolve the endpoint's host");
		return err_detail(e, "getaddrinfo: %s", gai_strerror(gai));
	}
	for (ai = res; ai && rc == 0; ai = ai->ai_next) {
		char text[INET6_ADDRSTRLEN] = "";

		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, text, sizeof(text));
		else if (ai->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, text,
				  sizeof(text));
		else
			continue;
		if (!fiscal_ip_public(text))
			rc = err_set(e, ERR_INVALID, "url",
				     "the endpoint's host resolves to a private or reserved address");
	}
	freeaddrinfo(res);
	return rc;
}

/* ---- signing, backoff, retry rule ---- */

void fiscal_webhook_sign(const char *secret, int64_t t, const char *body, size_t body_len, char *out, size_t outlen)
{
	char prefix[32], hex[2 * SHA256_LEN + 1];
	size_t np = (size_t)snprintf(prefix, sizeof(prefix), "%lld.", (long long)t);
	char *msg = xmalloc(np + body_len + 1);

	memcpy(msg, prefix, np);
	memcpy(msg + np, body, body_len);
	msg[np + body_len] = '\0';
	crypto_hmac_sha256_hex(secret, strlen(secret), msg, np + body_len, hex);
	free(msg);
	snprintf(out, outlen, "t=%lld,v1=%s", (long long)t, hex);
}

int64_t fiscal_webhook_backoff_s(int attempt, int64_t base_s, int64_t cap_s)
{
	int64_t d = base_s > 0 ? base_s : 1;
	uint64_t r = 0;

	for (int i = 1; i < attempt && d < cap_s; i++)
		d *= 4;
	if (d > cap_s)
		d = cap_s;
	crypto_random(&r, sizeof(r));
	return d / 2 + (int64_t)(r % (uint64_t)(d - d / 2 + 1));
}

bool fiscal_webhook_retryable(long status)
{
	return status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599);
}

/* ---- endpoints ---- */

static json_t *endpoint_audit(const struct fiscal_endpoint *ep)
{
	json_t *ev = json_array();

	for (size_t i = 0; i < ep->nevents; i++)
		json_array_append_new(ev, json_string(ep->events[i]));
	return json_pack("{s:s,s:s,s:o,s:s?,s:b}", "id", ep->id, "url", ep->url, "events", ev, "description",
			 ep->description, "active", ep->active);
}

int fiscal_endpoint_create(struct app *app, const struct actor *who, const char *url, const char *const *events,
			   size_t nevents, const char *description, struct arena *a, struct fiscal_endpoint *out,
			   struct err *e)
{
	struct db_conn *c = NULL;
	json_t *ev_json = NULL, *after = NULL;
	char *events_text = NULL, *secret = NULL, now[TIME_ISO_LEN + 1];
	int64_t active = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = fiscal_webhook_url_check(url, fiscal_webhooks_allow_private(app), "url", e)))
		return rc;
	if (nevents < 1 || nevents > WEBHOOK_EVENTS_MAX)
		return err_set(e, ERR_INVALID, "events", "events must name 1 to %d events", WEBHOOK_EVENTS_MAX);
	out->events = arena_alloc(a, nevents * sizeof(*out->events));
	ev_json = json_array();
	for (size_t i = 0; i < nevents; i++) {
		bool known = false, dup = false;

		for (size_t k = 0; fiscal_webhook_events[k]; k++)
			known = known || strcmp(events[i], fiscal_webhook_events[k]) == 0;
		if (!known) {
			json_decref(ev_json);
			return err_set(e, ERR_INVALID, arena_printf(a, "events[%zu]", i),
				       "events[%zu] is not a known event (dte.processed)", i);
		}
		for (size_t k = 0; k < out->nevents; k++)
			dup = dup || strcmp(out->events[k], events[i]) == 0;
		if (dup)
			continue;
		out->events[out->nevents++] = arena_strdup(a, events[i]);
		json_array_append_new(ev_json, json_string(events[i]));
	}
	if (description && strlen(description) > WEBHOOK_DESC_MAX) {
		json_decref(ev_json);
		return err_set(e, ERR_INVALID, "description", "description must be at most %d characters",
			       WEBHOOK_DESC_MAX);
	}
	events_text = json_dumps(ev_json, JSON_COMPACT);
	json_decref(ev_json);

	uuid_v4(out->id);
	out->url = arena_strdup(a, url);
	out->description = arena_strdup(a, description);
	out->active = true;
	time_now_iso(now);
	snprintf(out->created_at, sizeof(out->created_at), "%s", now);
	snprintf(out->updated_at, sizeof(out->updated_at), "%s", now);
	secret = crypto_token(FISCAL_SECRET_PREFIX);

	rc = db_acquire(app->db, DB_WRITE, &c, e);
	if (rc)
		goto out;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = fiscal__endpoint_count_active(c, who->tenant_id, &active, e);
	if (rc == 0 && active >= FISCAL_WEBHOOK_MAX)
		rc = err_set(e, ERR_CONFLICT, "url", "a tenant may have at most %d webhook endpoints",
			     FISCAL_WEBHOOK_MAX);
	if (rc == 0)
		rc = fiscal__endpoint_insert(c, &app->keys, who->tenant_id, out, events_text, secret, who->id, e);
	if (rc == 0) {
		after = endpoint_audit(out);
		rc = audit_record(c, who, "webhook_endpoint.create", "webhook_endpoint", out->id, NULL, after, NULL, e);
	}
	if (rc == 0)
		rc = db_commit(c, e);
	db_release(c);
	if (rc == 0)
		out->secret = arena_strdup(a, secret);
out:
	if (secret) {
		mem_wipe(secret, strlen(secret));
		free(secret);
	}
	free(events_text);
	json_decref(after);
	return rc;
}

int fiscal_endpoint_list(struct app *app, const char *tenant_id, struct arena *a, struct fiscal_endpoint **out,
			 size_t *n, struct err *e)
{
	struct db_conn *c = NULL;
	int rc = db_acquire(app->db, DB_READ, &c, e);

	if (rc)
		return rc;
	rc = fiscal__endpoint_list(c, tenant_id, a, out, n, e);
	db_release(c);
	return rc;
}

int fiscal_endpoint_delete(struct app *app, const struct actor *who, const char *id, struct err *e)
{
	struct fiscal_endpoint ep;
	struct db_conn *c = NULL;
	struct arena *a;
	json_t *before = NULL;
	char now[TIME_ISO_LEN + 1];
	int64_t affected = 0;
	int rc;

	if (!uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, "id", "webhook endpoint not found");
	a = arena_new(0);
	rc = db_acquire(app->db, DB_WRITE, &c, e);
	if (rc)
		goto out;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = fiscal__endpoint_get(c, &app->keys, who->tenant_id, id, false, a, &ep, e);
	if (rc == 0 && !ep.active)
		rc = err_set(e, ERR_NOT_FOUND, "id", "webhook endpoint not found");
	if (rc == 0) {
		time_now_iso(now);
		rc = fiscal__endpoint_deactivate(c, who->tenant_id, id, now, &affected, e);
	}
	if (rc == 0 && affected == 0)
		rc = err_set(e, ERR_NOT_FOUND, "id", "webhook endpoint not found");
	if (rc == 0) {
		before = endpoint_audit(&ep);
		rc = audit_record(c, who, "webhook_endpoint.delete", "webhook_endpoint", id, before, NULL, NULL, e);
	}
	if (rc == 0)
		rc = db_commit(c, e);
	db_release(c);
out:
	json_decref(before);
	arena_free(a);
	return rc;
}

json_t *fiscal_endpoint_json(const struct fiscal_endpoint *ep)
{
	json_t *ev = json_array(), *o;

	for (size_t i = 0; i < ep->nevents; i++)
		json_array_append_new(ev, json_string(ep->events[i]));
	o = json_pack("{s:s,s:s,s:o,s:s?,s:b,s:s,s:s}", "id", ep->id, "url", ep->url, "events", ev, "description",
		      ep->description, "active", ep->active, "createdAt", ep->created_at, "updatedAt", ep->updated_at);
	if (ep->secret)
		json_object_set_new(o, "secret", json_string(ep->secret));
	return o;
}

int fiscal_delivery_list(struct app *app, const char *tenant_id, const char *endpoint_id, int page, int limit,
			 struct arena *a, struct fiscal_delivery **out, size_t *n, int64_t *total, struct err *e)
{
	struct fiscal_endpoint ep;
	struct db_conn *c = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (!uuid_valid(endpoint_id))
		return err_set(e, ERR_NOT_FOUND, "id", "webhook endpoint not found");
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = fiscal__endpoint_get(c, &app->keys, tenant_id, endpoint_id, false, a, &ep, e);
	if (rc == 0)
		rc = fiscal__delivery_list(c, tenant_id, endpoint_id, (int64_t)(page - 1) * limit, limit, a, out, n,
					   total, e);
	db_release(c);
	return rc;
}

json_t *fiscal_delivery_json(const struct fiscal_delivery *d)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:i,s:o,s:I,s:s?,s:s,s:o,s:s}", "id", d->id, "deliveryId", d->delivery_id,
			 "eventId", d->event_id, "event", d->event_type, "attempt", d->attempt, "statusCode",
			 d->status_code > 0 ? json_integer(d->status_code) : json_null(), "durationMs",
			 (json_int_t)d->duration_ms, "error", d->error, "outcome", d->outcome, "nextRetryAt",
			 d->next_retry_at[0] ? json_string(d->next_retry_at) : json_null(), "createdAt", d->created_at);
}

/* ---- delivery jobs ---- */

int fiscal__webhook_enqueue(struct db_conn *c, const char *tenant_id, const char *delivery_id, const char *endpoint_id,
			    const char *event_id, int attempt, int64_t delay_s, struct err *e)
{
	char key[128];
	json_t *payload = json_pack("{s:s,s:s,s:s,s:i}", "deliveryId", delivery_id, "endpointId", endpoint_id,
				    "eventId", event_id, "attempt", attempt);
	int rc;

	snprintf(key, sizeof(key), "webhook:%s:%d", delivery_id, attempt);
	rc = jobs_enqueue(c, tenant_id, FISCAL_JOB_WEBHOOK, payload, key, delay_s, NULL, e);
	json_decref(payload);
	return rc;
}

/* ---- the job ---- */

/* The body as sent: the stored event with pdfUrl after "sello". Owned. */
static char *delivery_body(const char *payload_text, const char *public_url, struct err *e)
{
	json_t *stored = json_loads(payload_text, 0, NULL), *body, *v;
	const char *key, *codigo;
	char *text;

	if (!json_is_object(stored)) {
		json_decref(stored);
		err_set(e, ERR_INTERNAL, NULL, "stored webhook event is unreadable");
		return NULL;
	}
	codigo = json_string_value(json_object_get(stored, "codigoGeneracion"));
	body = json_object();
	json_object_foreach(stored, key, v)
	{
		json_object_set(body, key, v);
		if (strcmp(key, "sello") == 0)
			json_object_set_new(body, "pdfUrl",
					    codigo ? json_sprintf("%s/api/dte/pdf/%s", public_url, codigo)
						   : json_null());
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	json_decref(stored);
	return text;
}

/* Log the attempt and schedule the next one, in one transaction. */
static int record_attempt(struct app *app, const struct job *job, const char *endpoint_id,
			  const struct fiscal_delivery *d, int64_t delay_s, struct err *e)
{
	struct db_conn *c = NULL;
	int rc = db_acquire(app->db, DB_WRITE, &c, e);

	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc == 0)
		rc = fiscal__delivery_insert(c, job->tenant_id, endpoint_id, d, job->id, e);
	if (rc == 0 && strcmp(d->outcome, "retrying") == 0)
		rc = fiscal__webhook_enqueue(c, job->tenant_id, d->delivery_id, endpoint_id, d->event_id,
					     d->attempt + 1, delay_s, e);
	if (rc == 0)
		rc = db_commit(c, e);
	db_release(c);
	return rc;
}

int fiscal_webhook_deliver_job(struct app *app, const struct job *job, struct err *e)
{
	const char *delivery_id = json_string_value(json_object_get(job->payload, "deliveryId"));
	const char *endpoint_id = json_string_value(json_object_get(job->payload, "endpointId"));
	const char *event_id = json_string_value(json_object_get(job->payload, "eventId"));
	json_int_t attempt = json_integer_value(json_object_get(job->payload, "attempt"));
	struct fiscal_endpoint ep;
	struct fiscal_delivery d;
	struct httpc_request rq;
	struct httpc_response resp;
	struct httpc_header hdr[3];
	struct db_conn *c = NULL;
	struct arena *a;
	struct err he;
	const char *ev_type = NULL, *ev_payload = NULL;
	char public_url[512], sig[128], *body = NULL;
	bool logged = false;
	int64_t t0, delay_s = 0, now_s;
	int rc, hrc;

	memset(&resp, 0, sizeof(resp));
	memset(&ep, 0, sizeof(ep));
	if (!uuid_valid(delivery_id) || !uuid_valid(endpoint_id) || !uuid_valid(event_id) || attempt < 1 ||
	    attempt > FISCAL_WEBHOOK_ATTEMPTS)
		return err_set(e, ERR_INVALID, "payload", "webhook.deliver payload is malformed");
	a = arena_new(0);

	/* what to send (no connection is held during the POST) */
	rc = db_acquire(app->db, DB_READ, &c, e);
	if (rc)
		goto out;
	rc = fiscal__delivery_logged(c, job->tenant_id, delivery_id, (int)attempt, &logged, e);
	if (rc == 0 && !logged)
		rc = fiscal__endpoint_get(c, &app->keys, job->tenant_id, endpoint_id, true, a, &ep, e);
	if (rc == 0 && !logged && ep.active)
		rc = fiscal__event_get(c, job->tenant_id, event_id, a, &ev_type, &ev_payload, e);
	db_release(c);
	if (rc == ERR_NOT_FOUND) {
		log_warn("msg=\"webhook delivery dropped: endpoint or event gone\" job=%s delivery=%s", job->id,
			 delivery_id);
		rc = 0;
		goto out;
	}
	if (rc || logged)
		goto out;
	if (!ep.active) {
		log_info("msg=\"webhook delivery dropped: endpoint deleted\" job=%s delivery=%s endpoint=%s", job->id,
			 delivery_id, endpoint_id);
		goto out;
	}

	memset(&d, 0, sizeof(d));
	uuid_v4(d.id);
	snprintf(d.delivery_id, sizeof(d.delivery_id), "%s", delivery_id);
	snprintf(d.event_id, sizeof(d.event_id), "%s", event_id);
	d.event_type = ev_type;
	d.attempt = (int)attempt;

	fiscal_public_url(app, public_url, sizeof(public_url));
	body = delivery_body(ev_payload, public_url, e);
	if (!body) {
		rc = e->code;
		goto out;
	}
	t0 = time_mono_ms();
	err_clear(&he);
	hrc = fiscal_webhook_url_resolve_check(ep.url, fiscal_webhooks_allow_private(app), &he);
	if (hrc == 0) {
		now_s = time_now_s();
		fiscal_webhook_sign(ep.secret, now_s, body, strlen(body), sig, sizeof(sig));
		hdr[0] = (struct httpc_header){"X-ClinicLedger-Signature", sig};
		hdr[1] = (struct httpc_header){"X-ClinicLedger-Event", ev_type};
		hdr[2] = (struct httpc_header){"X-ClinicLedger-Delivery", delivery_id};
		memset(&rq, 0, sizeof(rq));
		rq.method = "POST";
		rq.url = ep.url;
		rq.headers = hdr;
		rq.nheaders = 3; /* httpc adds User-Agent: clinicledger/1.0 */
		rq.content_type = "application/json";
		rq.body = body;
		rq.body_len = strlen(body);
		rq.timeout_ms = FISCAL_WEBHOOK_TIMEOUT_MS;
		rq.max_response_bytes = WEBHOOK_RESPONSE_MAX;
		rq.max_attempts = 1;
		rq.log_name = "webhook";
		hrc = httpc_do(&rq, &resp, &he);
	}
	d.duration_ms = time_mono_ms() - t0;
	d.status_code = resp.status;
	if (resp.status >= 200 && resp.status <= 299) {
		d.outcome = "delivered";
	} else {
		if (hrc != 0)
			d.error = arena_strndup(a, he.message, WEBHOOK_ERROR_MAX);
		else
			d.error = arena_printf(a, "receiver answered HTTP %ld", resp.status);
		/* a refused target (policy) is final; unreachable or 5xx-ish is retried */
		if (hrc != ERR_INVALID && fiscal_webhook_retryable(resp.status) && attempt < FISCAL_WEBHOOK_ATTEMPTS) {
			d.outcome = "retrying";
			delay_s =
			    fiscal_webhook_backoff_s((int)attempt, fiscal_webhooks_retry_base_s(app), WEBHOOK_RETRY_CAP_S);
			time_iso(time_now_s() + delay_s, d.next_retry_at);
		} else {
			d.outcome = "dead";
		}
	}
	time_now_iso(d.created_at);
	rc = record_attempt(app, job, endpoint_id, &d, delay_s, e);
	if (rc == ERR_CONFLICT) /* another run logged this attempt meanwhile */
		rc = 0;
	if (rc == 0)
		log_info("msg=\"webhook attempt\" job=%s delivery=%s endpoint=%s attempt=%d status=%ld outcome=%s "
			 "duration_ms=%lld",
			 job->id, delivery_id, endpoint_id, d.attempt, d.status_code, d.outcome,
			 (long long)d.duration_ms);
out:
	if (ep.secret)
		mem_wipe((char *)ep.secret, strlen(ep.secret));
	httpc_response_free(&resp);
	free(body);
	arena_free(a);
	return rc;
}
