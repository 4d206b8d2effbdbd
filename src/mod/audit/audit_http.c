/*
 * audit_http.c - GET /api/audit-logs: the caller's tenant's audit trail,
 * filtered and paginated as JSON, or exported whole as CSV.
 *
 * Query parameters: from, to (ISO date = whole day, or date-time; on the
 * entry time `at`), userId (actor id), actorType (user | api_key | system),
 * entity, entityId, action, requestId (exact matches), page, limit (default
 * 50, max 500), format (json | csv). Unknown parameters are ignored. The
 * CSV export (RFC 4180, CRLF line ends, header row) holds every matching
 * entry, newest first, read in keyset pages; more than AUDIT_CSV_MAX_ROWS
 * matches is a validation error asking for a narrower range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "http/handlers.h"
#include "mod/audit/audit_repo.h"

#define AUDIT_DEFAULT_LIMIT  50
#define AUDIT_MAX_LIMIT	     500
#define AUDIT_CSV_MAX_ROWS   100000
#define AUDIT_CSV_MAX_BYTES  ((size_t)64 << 20)
#define AUDIT_CSV_PAGE	     1000
#define AUDIT_FILTER_MAX_LEN 200

static const char *const actor_types[] = {"user", "api_key", "system", NULL};

/* ---- filters ---- */

/* A text filter: absent or empty -> NULL; too long -> ERR_INVALID. */
static int filter_text(const struct http_req *r, const char *name, const char **out, struct err *e)
{
	const char *v = http_query(r, name);

	*out = NULL;
	if (!v || !*v)
		return 0;
	if (strlen(v) > AUDIT_FILTER_MAX_LEN)
		return err_set(e, ERR_INVALID, name, "%s must be at most %d characters", name, AUDIT_FILTER_MAX_LEN);
	*out = v;
	return 0;
}

/* from/to: a date "YYYY-MM-DD" (the whole day) or an ISO date-time, into a
 * stored-form timestamp in the arena. A date as `to` becomes the next
 * midnight, exclusive. */
static int filter_time(const struct http_req *r, const char *name, bool is_to, const char **out, bool *exclusive,
		       struct err *e)
{
	const char *v = http_query(r, name);
	char day[DATE_LEN + 1], iso[TIME_ISO_LEN + 1];
	struct err perr;
	int64_t epoch;

	*out = NULL;
	*exclusive = false;
	if (!v || !*v)
		return 0;
	if (strlen(v) == DATE_LEN && date_valid(v)) {
		if (is_to) {
			date_add_days(v, 1, day);
			*exclusive = true;
		} else {
			snprintf(day, sizeof(day), "%s", v);
		}
		*out = arena_printf(r->arena, "%sT00:00:00Z", day);
		return 0;
	}
	err_clear(&perr);
	if (strlen(v) > 40 || time_parse_iso(v, &epoch, name, &perr) != 0)
		return err_set(e, ERR_INVALID, name, "%s must be an ISO-8601 date (YYYY-MM-DD) or date-time", name);
	time_iso(epoch, iso);
	*out = arena_strdup(r->arena, iso);
	return 0;
}

static int parse_filter(struct req_ctx *ctx, struct audit_filter *f, struct err *e)
{
	const struct http_req *r = ctx->req;
	bool from_excl;
	int rc, ok, i;

	memset(f, 0, sizeof(*f));
	f->tenant_id = ctx->who.tenant_id;
	if ((rc = filter_time(r, "from", false, &f->at_from, &from_excl, e)) ||
	    (rc = filter_time(r, "to", true, &f->at_to, &f->at_to_exclusive, e)) ||
	    (rc = filter_text(r, "userId", &f->actor_id, e)) || (rc = filter_text(r, "actorType", &f->actor_type, e)) ||
	    (rc = filter_text(r, "entity", &f->entity, e)) || (rc = filter_text(r, "entityId", &f->entity_id, e)) ||
	    (rc = filter_text(r, "action", &f->action, e)) || (rc = filter_text(r, "requestId", &f->request_id, e)))
		return rc;
	if (f->actor_type) {
		for (ok = 0, i = 0; actor_types[i]; i++)
			ok |= strcmp(actor_types[i], f->actor_type) == 0;
		if (!ok)
			return err_set(e, ERR_INVALID, "actorType", "actorType must be one of user, api_key, system");
	}
	if (f->at_from && f->at_to) {
		int cmp = strcmp(f->at_from, f->at_to);

		if (cmp > 0 || (cmp == 0 && f->at_to_exclusive))
			return err_set(e, ERR_INVALID, "from", "from must not be after to");
	}
	return 0;
}

/* ---- JSON ---- */

static json_t *jstr(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;

	return v ? v : json_null();
}

/* Stored canonical JSON text back to a value (null when absent). */
static json_t *jdoc(const char *s)
{
	json_t *v;

	if (!s)
		return json_null();
	v = json_loads(s, JSON_DECODE_ANY, NULL);
	return v ? v : jstr(s);
}

static json_t *entry_json(const struct audit_entry *en)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", jstr(en->id));
	json_object_set_new(o, "seq", json_integer((json_int_t)en->seq));
	json_object_set_new(o, "at", jstr(en->at));
	json_object_set_new(o, "actorType", jstr(en->actor_type));
	json_object_set_new(o, "actorId", jstr(en->actor_id));
	json_object_set_new(o, "ip", jstr(en->ip));
	json_object_set_new(o, "action", jstr(en->action));
	json_object_set_new(o, "entity", jstr(en->entity));
	json_object_set_new(o, "entityId", jstr(en->entity_id));
	json_object_set_new(o, "before", jdoc(en->before_json));
	json_object_set_new(o, "after", jdoc(en->after_json));
	json_object_set_new(o, "reason", jstr(en->reason));
	json_object_set_new(o, "requestId", jstr(en->request_id));
	json_object_set_new(o, "prevHash", jstr(en->prev_hash));
	json_object_set_new(o, "hash", jstr(en->hash));
	return o;
}

static int list_json(struct req_ctx *ctx, struct http_resp *resp, const struct audit_filter *f, struct err *e)
{
	struct db_conn *c = NULL;
	struct db_rows *rows = NULL;
	struct audit_entry en;
	json_t *data = NULL;
	int64_t total = 0;
	int page, limit, rc;
	size_t i, n;

	rc = http_pagination(ctx->req, AUDIT_DEFAULT_LIMIT, AUDIT_MAX_LIMIT, &page, &limit, e);
	if (rc)
		return rc;
	rc = db_acquire(ctx->app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = audit_repo_count(c, f, &total, e);
	if (rc)
		goto out;
	rc = audit_repo_list(c, f, 0, (int64_t)(page - 1) * limit, limit, &rows, e);
	if (rc)
		goto out;
	data = json_array();
	n = db_rows_count(rows);
	for (i = 0; i < n; i++) {
		audit_repo_row(rows, i, &en);
		json_array_append_new(data, entry_json(&en));
	}
	resp->data = data;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, (long long)total));
out:
	db_rows_free(rows);
	db_release(c);
	return rc;
}

/* ---- CSV ---- */

struct csv_buf {
	char *p;
	size_t len, cap;
};

static void csv_put(struct csv_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* One RFC 4180 field: quoted (with "" for ") when it holds a comma, quote,
 * CR or LF; NULL is the empty field. */
static void csv_field(struct csv_buf *b, const char *s, bool last)
{
	const char *q;

	if (s && s[strcspn(s, ",\"\r\n")]) {
		csv_put(b, "\"", 1);
		while ((q = strchr(s, '"')) != NULL) {
			csv_put(b, s, (size_t)(q - s) + 1);
			csv_put(b, "\"", 1);
			s = q + 1;
		}
		csv_put(b, s, strlen(s));
		csv_put(b, "\"", 1);
	} else if (s) {
		csv_put(b, s, strlen(s));
	}
	csv_put(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static void csv_entry(struct csv_buf *b, const struct audit_entry *en)
{
	char seq[24];

	snprintf(seq, sizeof(seq), "%lld", (long long)en->seq);
	csv_field(b, en->id, false);
	csv_field(b, seq, false);
	csv_field(b, en->at, false);
	csv_field(b, en->actor_type, false);
	csv_field(b, en->actor_id, false);
	csv_field(b, en->ip, false);
	csv_field(b, en->action, false);
	csv_field(b, en->entity, false);
	csv_field(b, en->entity_id, false);
	csv_field(b, en->before_json, false);
	csv_field(b, en->after_json, false);
	csv_field(b, en->reason, false);
	csv_field(b, en->request_id, false);
	csv_field(b, en->prev_hash, false);
	csv_field(b, en->hash, true);
}

static const char csv_header[] =
    "id,seq,at,actorType,actorId,ip,action,entity,entityId,before,after,reason,requestId,prevHash,hash\r\n";

static int list_csv(struct req_ctx *ctx, struct http_resp *resp, const struct audit_filter *f, struct err *e)
{
	struct csv_buf b = {0};
	struct db_conn *c = NULL;
	struct db_rows *rows = NULL;
	struct audit_entry en;
	char now[TIME_ISO_LEN + 1], disp[96];
	int64_t total = 0, before_seq = 0;
	size_t i, n;
	int rc;

	rc = db_acquire(ctx->app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = audit_repo_count(c, f, &total, e);
	if (rc)
		goto out;
	if (total > AUDIT_CSV_MAX_ROWS) {
		rc = err_set(e, ERR_INVALID, "from",
			     "the export is limited to %d entries and %lld match: narrow it with from and to",
			     AUDIT_CSV_MAX_ROWS, (long long)total);
		goto out;
	}
	csv_put(&b, csv_header, sizeof(csv_header) - 1);
	for (;;) {
		rc = audit_repo_list(c, f, before_seq, 0, AUDIT_CSV_PAGE, &rows, e);
		if (rc)
			goto out;
		n = db_rows_count(rows);
		for (i = 0; i < n; i++) {
			audit_repo_row(rows, i, &en);
			csv_entry(&b, &en);
			before_seq = en.seq;
		}
		db_rows_free(rows);
		rows = NULL;
		if (b.len > AUDIT_CSV_MAX_BYTES) {
			rc = err_set(e, ERR_INVALID, "from",
				     "the export is larger than %zu MiB: narrow it with from and to",
				     AUDIT_CSV_MAX_BYTES >> 20);
			goto out;
		}
		if (n < AUDIT_CSV_PAGE)
			break;
	}
	time_now_iso(now);
	/* "2025-10-14T10:00:00Z" -> audit-logs-20251014T100000Z.csv */
	snprintf(disp, sizeof(disp), "attachment; filename=\"audit-logs-%.4s%.2s%.2sT%.2s%.2s%.2sZ.csv\"", now, now + 5,
		 now + 8, now + 11, now + 14, now + 17);
	http_resp_raw(ctx, resp, 200, "text/csv; charset=utf-8", b.p, b.len);
	http_resp_header(ctx, resp, "Content-Disposition", disp);
out:
	db_rows_free(rows);
	db_release(c);
	free(b.p);
	return rc;
}

int audit_http_list(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	struct audit_filter f;
	const char *format = http_query(ctx->req, "format");
	int rc;

	if (!ctx->who.tenant_id[0])
		return err_set(e, ERR_FORBIDDEN, NULL, "no tenant");
	rc = parse_filter(ctx, &f, e);
	if (rc)
		return rc;
	if (!format || !*format || strcmp(format, "json") == 0)
		return list_json(ctx, resp, &f, e);
	if (strcmp(format, "csv") == 0)
		return list_csv(ctx, resp, &f, e);
	return err_set(e, ERR_INVALID, "format", "format must be json or csv");
}
