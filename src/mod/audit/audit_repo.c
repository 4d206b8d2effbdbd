/*
 * audit_repo.c - every SQL statement of the audit module.
 *
 * The chain head (audit_chain) is advanced with an UPDATE ... RETURNING so
 * that in PostgreSQL the row lock queues concurrent writers of one tenant
 * until the holder commits; in SQLite the single writer connection already
 * serialises them. Entries are read by seq for verification and by filters,
 * newest first, for the listing. All statements are tenant-scoped.
 */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "mod/audit/audit_repo.h"

/* Column order shared by every query that audit_repo_row reads. */
#define AUDIT_COLS                                                                                                     \
	"id, tenant_id, seq, at, actor_type, actor_id, ip, action, entity, entity_id, before_json, "                   \
	"after_json, reason, request_id, prev_hash, hash"

int audit_repo_chain_advance(struct db_conn *c, const char *tenant_id, int64_t *seq, char prev_hash[AUDIT_HASH_LEN + 1],
			     struct err *e)
{
	struct db_rows *r = NULL;
	struct db_param p[] = {DBP_TEXT(tenant_id)};
	const char *h;
	int rc;

	rc = db_exec(c,
		     "INSERT INTO audit_chain (tenant_id, last_seq, last_hash) VALUES (?, 0, '') "
		     "ON CONFLICT DO NOTHING",
		     p, DB_NPARAMS(p), NULL, e);
	if (rc)
		return rc;
	rc = db_query(c,
		      "UPDATE audit_chain SET last_seq = last_seq + 1 WHERE tenant_id = ? "
		      "RETURNING last_seq, last_hash",
		      p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) != 1) {
		rc = err_set(e, ERR_INTERNAL, NULL, "audit chain unavailable");
		err_detail(e, "audit_chain row missing after insert");
		goto out;
	}
	*seq = db_rows_int(r, 0, 0);
	h = db_rows_text(r, 0, 1);
	if (!h || strlen(h) > AUDIT_HASH_LEN) {
		rc = err_set(e, ERR_INTERNAL, NULL, "audit chain unavailable");
		err_detail(e, "audit_chain.last_hash malformed");
		goto out;
	}
	strcpy(prev_hash, h);
out:
	db_rows_free(r);
	return rc;
}

int audit_repo_chain_set_hash(struct db_conn *c, const char *tenant_id, const char *hash, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(hash), DBP_TEXT(tenant_id)};

	return db_exec(c, "UPDATE audit_chain SET last_hash = ? WHERE tenant_id = ?", p, DB_NPARAMS(p), NULL, e);
}

int audit_repo_chain_get(struct db_conn *c, const char *tenant_id, bool *found, int64_t *last_seq,
			 char last_hash[AUDIT_HASH_LEN + 1], struct err *e)
{
	struct db_rows *r = NULL;
	struct db_param p[] = {DBP_TEXT(tenant_id)};
	const char *h;
	int rc;

	*found = false;
	*last_seq = 0;
	last_hash[0] = '\0';
	rc = db_query(c, "SELECT last_seq, last_hash FROM audit_chain WHERE tenant_id = ?", p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 1) {
		*found = true;
		*last_seq = db_rows_int(r, 0, 0);
		h = db_rows_text(r, 0, 1);
		/* A malformed head simply will not match any entry hash. */
		snprintf(last_hash, AUDIT_HASH_LEN + 1, "%s", h ? h : "");
	}
	db_rows_free(r);
	return 0;
}

int audit_repo_idem_commit(struct db_conn *c, const char *tenant_id, const char *key, const char *entity,
			   const char *entity_id, const char *now, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(entity), DBP_TEXT(entity_id), DBP_TEXT(now), DBP_TEXT(tenant_id),
			       DBP_TEXT(key)};

	return db_exec(c,
		       "UPDATE idempotency_keys SET state = 'committed', entity = ?, entity_id = ?, updated_at = ? "
		       "WHERE tenant_id = ? AND idem_key = ? AND state = 'processing'",
		       p, DB_NPARAMS(p), NULL, e);
}

int audit_repo_insert(struct db_conn *c, const struct audit_entry *en, struct err *e)
{
	struct db_param p[] = {
	    DBP_TEXT(en->id),	      DBP_TEXT(en->tenant_id),	DBP_INT(en->seq),	   DBP_TEXT(en->at),
	    DBP_TEXT(en->actor_type), DBP_TEXT(en->actor_id),	DBP_TEXT(en->ip),	   DBP_TEXT(en->action),
	    DBP_TEXT(en->entity),     DBP_TEXT(en->entity_id),	DBP_TEXT(en->before_json), DBP_TEXT(en->after_json),
	    DBP_TEXT(en->reason),     DBP_TEXT(en->request_id), DBP_TEXT(en->prev_hash),   DBP_TEXT(en->hash),
	};

	return db_exec(c,
		       "INSERT INTO audit_log (" AUDIT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       p, DB_NPARAMS(p), NULL, e);
}

int audit_repo_tenants(struct db_conn *c, struct db_rows **out, struct err *e)
{
	return db_query(c,
			"SELECT tenant_id FROM audit_chain UNION SELECT DISTINCT tenant_id FROM audit_log "
			"ORDER BY 1",
			NULL, 0, out, e);
}

int audit_repo_page_by_seq(struct db_conn *c, const char *tenant_id, int64_t after_seq, int64_t max_seq, int limit,
			   struct db_rows **out, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_INT(after_seq), DBP_INT(max_seq), DBP_INT(limit)};

	return db_query(c,
			"SELECT " AUDIT_COLS " FROM audit_log WHERE tenant_id = ? AND seq > ? AND seq <= ? "
			"ORDER BY seq LIMIT ?",
			p, DB_NPARAMS(p), out, e);
}

int audit_repo_count_after(struct db_conn *c, const char *tenant_id, int64_t after_seq, int64_t *n, struct err *e)
{
	struct db_param p[] = {DBP_TEXT(tenant_id), DBP_INT(after_seq)};

	return db_query_int(c, "SELECT COUNT(*) FROM audit_log WHERE tenant_id = ? AND seq > ?", p, DB_NPARAMS(p), n,
			    e);
}

void audit_repo_row(const struct db_rows *r, size_t i, struct audit_entry *en)
{
	en->id = db_rows_text(r, i, 0);
	en->tenant_id = db_rows_text(r, i, 1);
	en->seq = db_rows_int(r, i, 2);
	en->at = db_rows_text(r, i, 3);
	en->actor_type = db_rows_text(r, i, 4);
	en->actor_id = db_rows_text(r, i, 5);
	en->ip = db_rows_text(r, i, 6);
	en->action = db_rows_text(r, i, 7);
	en->entity = db_rows_text(r, i, 8);
	en->entity_id = db_rows_text(r, i, 9);
	en->before_json = db_rows_text(r, i, 10);
	en->after_json = db_rows_text(r, i, 11);
	en->reason = db_rows_text(r, i, 12);
	en->request_id = db_rows_text(r, i, 13);
	en->prev_hash = db_rows_text(r, i, 14);
	en->hash = db_rows_text(r, i, 15);
}

/* ---- listing ---- */

#define FILTER_MAX_PARAMS 16

/* Append " AND <cond>" with one text parameter when value is set. */
static void filter_add(char *sql, size_t sqlcap, struct db_param *p, size_t *np, const char *cond, const char *value)
{
	size_t len;

	if (!value)
		return;
	len = strlen(sql);
	snprintf(sql + len, sqlcap - len, " AND %s", cond);
	p[(*np)++] = DBP_TEXT(value);
}

/* The WHERE clause of f into sql (starting with " WHERE") and its parameters. */
static void filter_where(const struct audit_filter *f, char *sql, size_t sqlcap, struct db_param *p, size_t *np)
{
	*np = 0;
	snprintf(sql, sqlcap, " WHERE tenant_id = ?");
	p[(*np)++] = DBP_TEXT(f->tenant_id);
	filter_add(sql, sqlcap, p, np, "at >= ?", f->at_from);
	filter_add(sql, sqlcap, p, np, f->at_to_exclusive ? "at < ?" : "at <= ?", f->at_to);
	filter_add(sql, sqlcap, p, np, "actor_id = ?", f->actor_id);
	filter_add(sql, sqlcap, p, np, "actor_type = ?", f->actor_type);
	filter_add(sql, sqlcap, p, np, "entity = ?", f->entity);
	filter_add(sql, sqlcap, p, np, "entity_id = ?", f->entity_id);
	filter_add(sql, sqlcap, p, np, "action = ?", f->action);
	filter_add(sql, sqlcap, p, np, "request_id = ?", f->request_id);
}

int audit_repo_count(struct db_conn *c, const struct audit_filter *f, int64_t *total, struct err *e)
{
	char where[512], sql[640];
	struct db_param p[FILTER_MAX_PARAMS];
	size_t np;

	filter_where(f, where, sizeof(where), p, &np);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM audit_log%s", where);
	return db_query_int(c, sql, p, np, total, e);
}

int audit_repo_list(struct db_conn *c, const struct audit_filter *f, int64_t before_seq, int64_t offset, int limit,
		    struct db_rows **out, struct err *e)
{
	char where[512], sql[1024];
	struct db_param p[FILTER_MAX_PARAMS];
	size_t np, len;

	filter_where(f, where, sizeof(where), p, &np);
	if (before_seq > 0) {
		len = strlen(where);
		snprintf(where + len, sizeof(where) - len, " AND seq < ?");
		p[np++] = DBP_INT(before_seq);
	}
	p[np++] = DBP_INT(limit);
	p[np++] = DBP_INT(offset);
	snprintf(sql, sizeof(sql), "SELECT " AUDIT_COLS " FROM audit_log%s ORDER BY seq DESC LIMIT ? OFFSET ?", where);
	return db_query(c, sql, p, np, out, e);
}

/* ---- tenants ---- */

int audit_repo_tenant_by_slug(struct db_conn *c, const char *slug, char out[40], struct err *e)
{
	struct db_rows *r = NULL;
	struct db_param p[] = {DBP_TEXT(slug)};
	const char *id;
	int rc;

	rc = db_query(c, "SELECT id FROM tenants WHERE slug = ?", p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	id = db_rows_count(r) == 1 ? db_rows_text(r, 0, 0) : NULL;
	if (!id || strlen(id) >= 40)
		rc = err_set(e, ERR_NOT_FOUND, "tenant", "no tenant with that slug");
	else
		strcpy(out, id);
	db_rows_free(r);
	return rc;
}

int audit_repo_tenant_slug(struct db_conn *c, const char *tenant_id, char *out, size_t outlen, struct err *e)
{
	struct db_rows *r = NULL;
	struct db_param p[] = {DBP_TEXT(tenant_id)};
	const char *slug;
	int rc;

	out[0] = '\0';
	rc = db_query(c, "SELECT slug FROM tenants WHERE id = ?", p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	slug = db_rows_count(r) == 1 ? db_rows_text(r, 0, 0) : NULL;
	snprintf(out, outlen, "%s", slug ? slug : "");
	db_rows_free(r);
	return 0;
}
