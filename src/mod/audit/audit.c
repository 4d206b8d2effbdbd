/*
 * audit.c - recording and verifying the hash-chained audit trail.
 *
 * audit_record appends one entry inside the caller's write transaction:
 * it advances the tenant's chain head (which serialises writers of that
 * tenant), hashes the new entry together with the previous hash, inserts
 * it and stores the new hash as the head; when the request carries an
 * Idempotency-Key, the key's reservation is marked committed in the same
 * transaction. audit_verify walks each chain in
 * seq order, recomputing every hash from the stored fields, so an entry
 * edited, removed or inserted behind the database's back (e.g. by someone
 * who dropped the append-only triggers) is found and named by its seq.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "crypto/crypto.h"
#include "mod/audit/audit.h"
#include "mod/audit/audit_repo.h"

#define VERIFY_PAGE 1000

/* ---- canonical text and hash ---- */

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms,
 * no surrogates, at most U+10FFFF; the rules jansson applies), or 0. */
static size_t utf8_seq_len(const unsigned char *p)
{
	unsigned cp;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
		cp = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		cp = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* s itself when it is valid UTF-8 (or NULL); otherwise an owned copy in
 * *copy with every invalid byte replaced by '?'. */
static const char *utf8_clean(const char *s, char **copy)
{
	const unsigned char *p;
	size_t n, i;
	char *c;

	*copy = NULL;
	if (!s)
		return NULL;
	for (p = (const unsigned char *)s; *p; p += n)
		if ((n = utf8_seq_len(p)) == 0)
			break;
	if (!*p)
		return s;
	c = xstrdup(s);
	for (i = 0; c[i]; i += n) {
		n = utf8_seq_len((const unsigned char *)c + i);
		if (n == 0) {
			c[i] = '?';
			n = 1;
		}
	}
	*copy = c;
	return c;
}

static int canon_push(json_t *arr, const char *s)
{
	json_t *v = s ? json_string(s) : json_null();

	return v ? json_array_append_new(arr, v) : -1;
}

int audit_entry_hash(const struct audit_entry *en, char out[AUDIT_HASH_LEN + 1], struct err *e)
{
	json_t *arr = json_array();
	char *line = NULL, *buf = NULL;
	size_t plen, llen;
	int rc = 0, bad = 0;

	bad |= canon_push(arr, en->id);
	bad |= canon_push(arr, en->tenant_id);
	bad |= json_array_append_new(arr, json_integer((json_int_t)en->seq));
	bad |= canon_push(arr, en->at);
	bad |= canon_push(arr, en->actor_type);
	bad |= canon_push(arr, en->actor_id);
	bad |= canon_push(arr, en->ip);
	bad |= canon_push(arr, en->action);
	bad |= canon_push(arr, en->entity);
	bad |= canon_push(arr, en->entity_id);
	bad |= canon_push(arr, en->before_json);
	bad |= canon_push(arr, en->after_json);
	bad |= canon_push(arr, en->reason);
	bad |= canon_push(arr, en->request_id);
	if (bad || !(line = json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII))) {
		rc = err_set(e, ERR_INVALID, NULL, "audit entry is not valid UTF-8");
		goto out;
	}
	plen = en->prev_hash ? strlen(en->prev_hash) : 0;
	llen = strlen(line);
	buf = xmalloc(plen + 1 + llen);
	if (plen)
		memcpy(buf, en->prev_hash, plen);
	buf[plen] = '\n';
	memcpy(buf + plen + 1, line, llen);
	crypto_sha256_hex(buf, plen + 1 + llen, out);
out:
	free(buf);
	free(line);
	json_decref(arr);
	return rc;
}

/* ---- recording ---- */

/* Canonical JSON text of v (sorted keys, compact), owned; NULL for NULL. */
static int canon_json(json_t *v, const char *what, char **out, struct err *e)
{
	*out = NULL;
	if (!v)
		return 0;
	*out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!*out)
		return err_set(e, ERR_INTERNAL, NULL, "cannot serialise audit %s value", what);
	return 0;
}

int audit_record(struct db_conn *c, const struct actor *who, const char *action, const char *entity,
		 const char *entity_id, json_t *before, json_t *after, const char *reason, struct err *e)
{
	char id[UUID_LEN + 1], at[TIME_ISO_LEN + 1];
	char prev[AUDIT_HASH_LEN + 1], hash[AUDIT_HASH_LEN + 1];
	char *before_s = NULL, *after_s = NULL;
	char *cp[7] = {NULL};
	struct audit_entry en;
	size_t i;
	int rc;

	if (!c || !who || !who->tenant_id || !who->tenant_id[0] || !who->kind || !who->kind[0] || !action ||
	    !action[0] || !entity || !entity[0]) {
		rc = err_set(e, ERR_INTERNAL, NULL, "audit entry incomplete");
		err_detail(e, "audit_record: missing tenant, actor kind, action or entity");
		return rc;
	}
	rc = canon_json(before, "before", &before_s, e);
	if (rc)
		goto out;
	rc = canon_json(after, "after", &after_s, e);
	if (rc)
		goto out;

	memset(&en, 0, sizeof(en));
	/* Header-borne values (ip, request id) may carry any bytes: store them
	 * as valid UTF-8 so the canonical text always exists. */
	en.tenant_id = utf8_clean(who->tenant_id, &cp[0]);
	en.actor_type = utf8_clean(who->kind, &cp[1]);
	en.actor_id = utf8_clean(who->id, &cp[2]);
	en.ip = utf8_clean(who->ip, &cp[3]);
	en.request_id = utf8_clean(who->request_id, &cp[4]);
	en.reason = utf8_clean(reason, &cp[5]);
	en.entity_id = utf8_clean(entity_id, &cp[6]);
	en.action = action;
	en.entity = entity;
	en.before_json = before_s;
	en.after_json = after_s;

	rc = audit_repo_chain_advance(c, en.tenant_id, &en.seq, prev, e);
	if (rc)
		goto out;
	uuid_v7(id);
	time_now_iso(at);
	en.id = id;
	en.at = at;
	en.prev_hash = prev;
	rc = audit_entry_hash(&en, hash, e);
	if (rc)
		goto out;
	en.hash = hash;
	rc = audit_repo_insert(c, &en, e);
	if (rc)
		goto out;
	rc = audit_repo_chain_set_hash(c, en.tenant_id, hash, e);
	if (rc)
		goto out;
	if (who->idempotency_key)
		rc = audit_repo_idem_commit(c, en.tenant_id, who->idempotency_key, entity, en.entity_id, at, e);
out:
	for (i = 0; i < sizeof(cp) / sizeof(cp[0]); i++)
		free(cp[i]);
	free(before_s);
	free(after_s);
	return rc;
}

/* ---- verification ---- */

/* Walk one tenant's chain inside the open read transaction on c. */
static int verify_tenant(struct db_conn *c, const char *tenant_id, struct audit_verify_tenant *t, struct err *e)
{
	char head_hash[AUDIT_HASH_LEN + 1], prev[AUDIT_HASH_LEN + 1], calc[AUDIT_HASH_LEN + 1];
	struct db_rows *r = NULL;
	struct audit_entry en;
	struct err herr;
	int64_t head_seq, expect = 1, beyond;
	bool found;
	size_t i, n;
	int rc;

	memset(t, 0, sizeof(*t));
	t->tenant_id = tenant_id;
	t->intact = true;
	prev[0] = '\0';
	rc = audit_repo_chain_get(c, tenant_id, &found, &head_seq, head_hash, e);
	if (rc)
		return rc;
	for (;;) {
		rc = audit_repo_page_by_seq(c, tenant_id, expect - 1, found ? head_seq : INT64_MAX, VERIFY_PAGE, &r, e);
		if (rc)
			return rc;
		n = db_rows_count(r);
		for (i = 0; i < n; i++) {
			audit_repo_row(r, i, &en);
			if (en.seq != expect) {
				t->problem = "entry missing";
				goto broken;
			}
			if (!en.prev_hash || strcmp(en.prev_hash, prev) != 0) {
				t->problem = "prev_hash does not match the previous entry";
				goto broken;
			}
			err_clear(&herr);
			if (audit_entry_hash(&en, calc, &herr) != 0) {
				t->problem = "entry is not valid UTF-8";
				goto broken;
			}
			if (!en.hash || strcmp(en.hash, calc) != 0) {
				t->problem = "hash mismatch";
				goto broken;
			}
			snprintf(prev, sizeof(prev), "%s", en.hash);
			t->entries++;
			expect++;
		}
		db_rows_free(r);
		r = NULL;
		if (n < VERIFY_PAGE)
			break;
	}
	if (!found) {
		if (t->entries > 0) {
			t->intact = false;
			t->bad_seq = 1;
			t->problem = "chain head missing";
		}
		return 0;
	}
	if (head_seq >= expect) {
		t->intact = false;
		t->bad_seq = expect;
		t->problem = "entries missing at the end of the chain";
		return 0;
	}
	if (strcmp(head_hash, prev) != 0) {
		t->intact = false;
		t->bad_seq = head_seq;
		t->problem = "chain head hash does not match the last entry";
		return 0;
	}
	rc = audit_repo_count_after(c, tenant_id, head_seq, &beyond, e);
	if (rc)
		return rc;
	if (beyond > 0) {
		t->intact = false;
		t->bad_seq = head_seq + 1;
		t->problem = "entry beyond the chain head";
	}
	return 0;
broken:
	t->intact = false;
	t->bad_seq = expect;
	db_rows_free(r);
	return 0;
}

/* One tenant in its own snapshot: a read transaction (SQLite WAL readers
 * see one snapshot per transaction; PostgreSQL needs REPEATABLE READ). */
static int verify_one(struct db *db, const char *tenant_id, struct audit_verify_tenant *t, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = db_begin(c, e);
	if (rc)
		goto out;
	if (db_conn_backend(c) == DB_PGSQL) {
		rc = db_exec(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL, 0, NULL, e);
		if (rc)
			goto out;
	}
	rc = verify_tenant(c, tenant_id, t, e);
out:
	if (c) {
		db_rollback(c);
		db_release(c);
	}
	return rc;
}

int audit_verify_each(struct db *db, const char *tenant_id, audit_verify_fn fn, void *ud,
		      struct audit_verify_result *out, struct err *e)
{
	struct audit_verify_tenant t;
	struct db_conn *c = NULL;
	struct db_rows *tenants = NULL;
	size_t i, n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!tenant_id) {
		rc = db_acquire(db, DB_READ, &c, e);
		if (rc)
			return rc;
		rc = audit_repo_tenants(c, &tenants, e);
		db_release(c);
		if (rc)
			return rc;
	}
	n = tenant_id ? 1 : db_rows_count(tenants);
	for (i = 0; i < n; i++) {
		const char *tid = tenant_id ? tenant_id : db_rows_text(tenants, i, 0);

		if (!tid)
			continue;
		rc = verify_one(db, tid, &t, e);
		if (rc)
			goto out;
		out->tenants++;
		out->entries += t.entries;
		if (!t.intact) {
			if (out->broken == 0) {
				snprintf(out->first_bad_tenant, sizeof(out->first_bad_tenant), "%s", tid);
				out->first_bad_seq = t.bad_seq;
			}
			out->broken++;
			log_warn("msg=\"audit chain broken\" tenant=%s seq=%lld problem=\"%s\"", tid,
				 (long long)t.bad_seq, t.problem);
		}
		if (fn)
			fn(&t, ud);
	}
	rc = 0;
out:
	db_rows_free(tenants);
	return rc;
}

int audit_verify(struct db *db, const char *tenant_id, struct audit_verify_result *out, struct err *e)
{
	return audit_verify_each(db, tenant_id, NULL, NULL, out, e);
}
