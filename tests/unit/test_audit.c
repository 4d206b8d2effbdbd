/*
 * test_audit.c - the audit trail (src/mod/audit) at the database level,
 * against SQLite and, when CLINICLEDGER_TEST_PG names a server, PostgreSQL.
 *
 * Every test gets a fresh, migrated database (a temporary SQLite file; a
 * uniquely named PostgreSQL database dropped afterwards). Tampering tests
 * drop the append-only triggers first, as an attacker with database access
 * would, and check that audit_verify names the first damaged seq.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/db.h"
#include "mod/audit/audit.h"
#include "mod/audit/audit_repo.h"

#define T1 "11111111-1111-4111-8111-111111111111"
#define T2 "22222222-2222-4222-8222-222222222222"

struct fx {
	enum db_backend kind;
	struct db *db;
	char *url;
	char dir[256];	/* SQLite: temp directory */
	char *base_url; /* PostgreSQL: server the test database was created on */
	char dbname[64];
};

/* ---- fixtures ---- */

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name);

		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static int open_and_migrate(struct fx *f)
{
	struct db_options o = {.pool_size = 10, .acquire_timeout_ms = 30000};
	struct err e;

	err_clear(&e);
	if (db_open(f->url, &o, &f->db, &e) != 0 || db_migrate(f->db, NULL, &e) != 0) {
		fprintf(stderr, "open/migrate %s: %s (%s)\n", f->url, e.message, e.detail);
		return -1;
	}
	return 0;
}

static int setup_sqlite(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	*state = f;
	f->kind = DB_SQLITE;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cl-test-audit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->url = xasprintf("sqlite:%s/test.db", f->dir);
	return open_and_migrate(f);
}

/* One statement on a short-lived pool at url (CREATE/DROP DATABASE). */
static int admin_exec(const char *url, const char *sql)
{
	struct db_options o = {.pool_size = 1};
	struct db *db = NULL;
	struct db_conn *c = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	rc = db_open(url, &o, &db, &e);
	if (rc == 0)
		rc = db_acquire(db, DB_WRITE, &c, &e);
	if (rc == 0)
		rc = db_exec_script(c, sql, &e);
	if (rc != 0)
		fprintf(stderr, "%s: %s (%s)\n", sql, e.message, e.detail);
	db_release(c);
	db_close(db);
	return rc;
}

static int setup_pg(void **state)
{
	static int counter;
	struct fx *f = xcalloc(1, sizeof(*f));
	char *sql;
	int rc;

	*state = f;
	f->kind = DB_PGSQL;
	f->base_url = xstrdup(getenv("CLINICLEDGER_TEST_PG"));
	snprintf(f->dbname, sizeof(f->dbname), "cl_test_audit_%ld_%ld_%d", (long)getpid(), (long)time(NULL), ++counter);
	sql = xasprintf("CREATE DATABASE %s", f->dbname);
	rc = admin_exec(f->base_url, sql);
	free(sql);
	if (rc != 0) {
		f->dbname[0] = '\0';
		return -1;
	}
	f->url = xasprintf("%s%sdbname=%s", f->base_url, strchr(f->base_url, '?') ? "&" : "?", f->dbname);
	return open_and_migrate(f);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *sql;

	if (!f)
		return 0;
	db_close(f->db);
	if (f->kind == DB_SQLITE && f->dir[0]) {
		rm_tree(f->dir);
	} else if (f->kind == DB_PGSQL && f->dbname[0]) {
		sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", f->dbname);
		admin_exec(f->base_url, sql);
		free(sql);
	}
	free(f->url);
	free(f->base_url);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static struct db_conn *acq(struct fx *f, enum db_mode mode)
{
	struct db_conn *c = NULL;
	struct err e;

	err_clear(&e);
	assert_int_equal(db_acquire(f->db, mode, &c, &e), 0);
	return c;
}

/* One audit entry in its own transaction. */
static void rec(struct fx *f, const char *tenant, const char *action, const char *entity_id, json_t *before,
		json_t *after)
{
	struct actor who = {
	    .tenant_id = tenant, .kind = "user", .id = "user-1", .ip = "127.0.0.1", .request_id = "req-1"};
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;
	int rc;

	err_clear(&e);
	rc = db_begin(c, &e);
	if (rc == 0)
		rc = audit_record(c, &who, action, "patient", entity_id, before, after, NULL, &e);
	if (rc == 0)
		rc = db_commit(c, &e);
	if (rc)
		print_error("audit_record: %s (%s)\n", e.message, e.detail);
	db_release(c);
	assert_int_equal(rc, 0);
}

/* Five entries in T1 and three in T2, with and without before/after. */
static void seed(struct fx *f)
{
	json_t *a = json_pack("{s:s, s:i, s:s}", "name", "Ana Pérez", "age", 40, "city", "San Salvador");
	json_t *b = json_pack("{s:s, s:i}", "zeta", "z", "alpha", 1);
	int i;

	for (i = 0; i < 5; i++)
		rec(f, T1, i == 0 ? "patient.create" : "patient.update", "p-1", i ? a : NULL, b);
	for (i = 0; i < 3; i++)
		rec(f, T2, "patient.create", "p-2", NULL, a);
	json_decref(a);
	json_decref(b);
}

static int64_t q_int(struct fx *f, const char *sql, const struct db_param *p, size_t n)
{
	struct db_conn *c = acq(f, DB_READ);
	struct err e;
	int64_t v = -1;

	err_clear(&e);
	assert_int_equal(db_query_int(c, sql, p, n, &v, &e), 0);
	db_release(c);
	return v;
}

static int exec_sql(struct fx *f, const char *sql, const struct db_param *p, size_t n)
{
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;
	int rc;

	err_clear(&e);
	rc = db_exec(c, sql, p, n, NULL, &e);
	db_release(c);
	return rc;
}

static void drop_triggers(struct fx *f)
{
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;
	int rc;

	err_clear(&e);
	if (f->kind == DB_PGSQL)
		rc = db_exec_script(c, "DROP TRIGGER audit_log_append_only ON audit_log", &e);
	else
		rc = db_exec_script(c, "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete", &e);
	db_release(c);
	assert_int_equal(rc, 0);
}

static void verify(struct fx *f, const char *tenant, struct audit_verify_result *res)
{
	struct err e;

	err_clear(&e);
	assert_int_equal(audit_verify(f->db, tenant, res, &e), 0);
}

struct seen {
	int n;
	char tenant[4][40];
	bool intact[4];
	int64_t bad_seq[4];
};

static void collect(const struct audit_verify_tenant *t, void *ud)
{
	struct seen *s = ud;

	if (s->n < 4) {
		snprintf(s->tenant[s->n], 40, "%s", t->tenant_id);
		s->intact[s->n] = t->intact;
		s->bad_seq[s->n] = t->bad_seq;
		s->n++;
	}
}

/* ---- tests ---- */

static void t_record_and_verify(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct db_conn *c;
	struct db_rows *r = NULL;
	struct db_param p1[] = {DBP_TEXT(T1)};
	struct err e;
	size_t i;

	seed(f);
	verify(f, NULL, &res);
	assert_int_equal(res.tenants, 2);
	assert_int_equal(res.entries, 8);
	assert_int_equal(res.broken, 0);
	verify(f, T1, &res);
	assert_int_equal(res.tenants, 1);
	assert_int_equal(res.entries, 5);
	assert_int_equal(res.broken, 0);

	/* seq 1..5, linked prev_hash, canonical JSON, chain head on the last. */
	c = acq(f, DB_READ);
	err_clear(&e);
	assert_int_equal(db_query(c,
				  "SELECT seq, prev_hash, hash, before_json, after_json, actor_type, actor_id, ip, "
				  "request_id, at FROM audit_log WHERE tenant_id = ? ORDER BY seq",
				  p1, 1, &r, &e),
			 0);
	assert_int_equal(db_rows_count(r), 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(db_rows_int(r, i, 0), (int64_t)i + 1);
		assert_string_equal(db_rows_text(r, i, 1), i == 0 ? "" : db_rows_text(r, i - 1, 2));
		assert_int_equal(strlen(db_rows_text(r, i, 2)), 64);
		assert_string_equal(db_rows_text(r, i, 4), "{\"alpha\":1,\"zeta\":\"z\"}");
		assert_string_equal(db_rows_text(r, i, 5), "user");
		assert_string_equal(db_rows_text(r, i, 6), "user-1");
		assert_string_equal(db_rows_text(r, i, 7), "127.0.0.1");
		assert_string_equal(db_rows_text(r, i, 8), "req-1");
		assert_int_equal(strlen(db_rows_text(r, i, 9)), 20);
	}
	assert_true(db_rows_isnull(r, 0, 3));
	assert_string_equal(db_rows_text(r, 1, 3), "{\"age\":40,\"city\":\"San Salvador\",\"name\":\"Ana Pérez\"}");
	{
		struct db_param p[] = {DBP_TEXT(T1), DBP_TEXT(db_rows_text(r, 4, 2))};
		int64_t n = -1;

		assert_int_equal(db_query_int(c,
					      "SELECT COUNT(*) FROM audit_chain WHERE tenant_id = ? AND "
					      "last_seq = 5 AND last_hash = ?",
					      p, 2, &n, &e),
				 0);
		assert_int_equal(n, 1);
	}
	db_rows_free(r);
	db_release(c);
}

static void t_hash_is_canonical(void **state)
{
	struct audit_entry en = {.id = "x",
				 .tenant_id = T1,
				 .seq = 1,
				 .at = "2025-01-01T00:00:00Z",
				 .actor_type = "user",
				 .action = "a",
				 .entity = "b",
				 .prev_hash = ""};
	char h1[65], h2[65];
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(audit_entry_hash(&en, h1, &e), 0);
	/* Moving a character between adjacent fields changes the hash. */
	en.action = "ab";
	en.entity = "";
	assert_int_equal(audit_entry_hash(&en, h2, &e), 0);
	assert_string_not_equal(h1, h2);
	/* NULL and "" differ. */
	en.action = "a";
	en.entity = "b";
	en.ip = "";
	assert_int_equal(audit_entry_hash(&en, h2, &e), 0);
	assert_string_not_equal(h1, h2);
	/* The previous hash takes part. */
	en.ip = NULL;
	en.prev_hash = "00";
	assert_int_equal(audit_entry_hash(&en, h2, &e), 0);
	assert_string_not_equal(h1, h2);
	/* Invalid UTF-8 is refused, not hashed ambiguously. */
	en.prev_hash = "";
	en.reason = "\xff";
	assert_int_equal(audit_entry_hash(&en, h2, &e), ERR_INVALID);
}

static void t_append_only(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;

	seed(f);
	assert_int_not_equal(exec_sql(f, "UPDATE audit_log SET reason = 'x' WHERE seq = 2", NULL, 0), 0);
	assert_int_not_equal(exec_sql(f, "DELETE FROM audit_log WHERE seq = 5", NULL, 0), 0);
	assert_int_not_equal(exec_sql(f, "DELETE FROM audit_log", NULL, 0), 0);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log", NULL, 0), 8);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE reason IS NOT NULL", NULL, 0), 0);
	verify(f, NULL, &res);
	assert_int_equal(res.broken, 0);
}

static void t_edit_detected(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct seen s = {0};
	struct db_param p[] = {DBP_TEXT(T1)};
	struct err e;

	seed(f);
	drop_triggers(f);
	assert_int_equal(exec_sql(f,
				  "UPDATE audit_log SET after_json = '{\"alpha\":2,\"zeta\":\"z\"}' "
				  "WHERE tenant_id = ? AND seq = 3",
				  p, 1),
			 0);
	verify(f, NULL, &res);
	assert_int_equal(res.broken, 1);
	assert_string_equal(res.first_bad_tenant, T1);
	assert_int_equal(res.first_bad_seq, 3);
	/* The other tenant's chain is reported intact. */
	err_clear(&e);
	assert_int_equal(audit_verify_each(f->db, NULL, collect, &s, &res, &e), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.tenant[0], T1);
	assert_false(s.intact[0]);
	assert_int_equal(s.bad_seq[0], 3);
	assert_string_equal(s.tenant[1], T2);
	assert_true(s.intact[1]);
	verify(f, T2, &res);
	assert_int_equal(res.broken, 0);
}

static void t_actor_edit_detected(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct db_param p[] = {DBP_TEXT(T2)};

	seed(f);
	drop_triggers(f);
	assert_int_equal(
	    exec_sql(f, "UPDATE audit_log SET actor_id = 'someone-else' WHERE tenant_id = ? AND seq = 1", p, 1), 0);
	verify(f, NULL, &res);
	assert_int_equal(res.broken, 1);
	assert_string_equal(res.first_bad_tenant, T2);
	assert_int_equal(res.first_bad_seq, 1);
}

static void t_delete_last_detected(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct db_param p[] = {DBP_TEXT(T1)};

	seed(f);
	drop_triggers(f);
	assert_int_equal(exec_sql(f, "DELETE FROM audit_log WHERE tenant_id = ? AND seq = 5", p, 1), 0);
	verify(f, NULL, &res);
	assert_int_equal(res.broken, 1);
	assert_string_equal(res.first_bad_tenant, T1);
	assert_int_equal(res.first_bad_seq, 5);
}

static void t_delete_middle_detected(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct db_param p[] = {DBP_TEXT(T1)};

	seed(f);
	drop_triggers(f);
	assert_int_equal(exec_sql(f, "DELETE FROM audit_log WHERE tenant_id = ? AND seq = 2", p, 1), 0);
	verify(f, T1, &res);
	assert_int_equal(res.broken, 1);
	assert_int_equal(res.first_bad_seq, 2);
}

/* An entry appended behind the chain head (a valid hash, but audit_chain
 * not advanced) is found. */
static void t_insert_beyond_head_detected(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct db_param p[] = {DBP_TEXT(T2)};
	struct db_conn *c;
	struct err e;

	seed(f);
	c = acq(f, DB_WRITE);
	err_clear(&e);
	/* Record a 4th entry, then put the chain head back to 3. */
	assert_int_equal(db_begin(c, &e), 0);
	{
		struct actor who = {.tenant_id = T2, .kind = "system", .id = "job", .ip = NULL, .request_id = NULL};
		char h3[65];
		struct db_rows *r = NULL;

		assert_int_equal(
		    db_query(c, "SELECT hash FROM audit_log WHERE tenant_id = ? AND seq = 3", p, 1, &r, &e), 0);
		snprintf(h3, sizeof(h3), "%s", db_rows_text(r, 0, 0));
		db_rows_free(r);
		assert_int_equal(audit_record(c, &who, "x.y", "x", NULL, NULL, NULL, "forged", &e), 0);
		struct db_param q[] = {DBP_TEXT(h3), DBP_TEXT(T2)};
		assert_int_equal(db_exec(c, "UPDATE audit_chain SET last_seq = 3, last_hash = ? WHERE tenant_id = ?", q,
					 2, NULL, &e),
				 0);
	}
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	verify(f, T2, &res);
	assert_int_equal(res.broken, 1);
	assert_int_equal(res.first_bad_seq, 4);
}

/* A rolled-back write leaves neither an entry nor a gap. */
static void t_rollback_leaves_no_gap(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct actor who = {.tenant_id = T1, .kind = "api_key", .id = "key-1", .ip = NULL, .request_id = NULL};
	struct db_conn *c;
	struct err e;

	seed(f);
	c = acq(f, DB_WRITE);
	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(audit_record(c, &who, "patient.delete", "patient", "p-1", NULL, NULL, "gone", &e), 0);
	db_rollback(c);
	db_release(c);
	rec(f, T1, "patient.update", "p-1", NULL, NULL);
	assert_int_equal(q_int(f, "SELECT MAX(seq) FROM audit_log WHERE tenant_id = '" T1 "'", NULL, 0), 6);
	verify(f, NULL, &res);
	assert_int_equal(res.entries, 9);
	assert_int_equal(res.broken, 0);
}

/* Header-borne text that is not UTF-8 is stored cleaned; the chain holds. */
static void t_invalid_utf8_cleaned(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct actor who = {
	    .tenant_id = T1, .kind = "user", .id = "u", .ip = "10.0.0.1", .request_id = "bad\xff\xfeid"};
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;

	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(audit_record(c, &who, "a.b", "a", NULL, NULL, NULL, NULL, &e), 0);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE request_id = 'bad??id'", NULL, 0), 1);
	verify(f, NULL, &res);
	assert_int_equal(res.broken, 0);
	assert_int_equal(res.entries, 1);
}

static void t_incomplete_refused(void **state)
{
	struct fx *f = *state;
	struct actor who = {.tenant_id = NULL, .kind = "user", .id = "u", .ip = NULL, .request_id = NULL};
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;

	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(audit_record(c, &who, "a.b", "a", NULL, NULL, NULL, NULL, &e), ERR_INTERNAL);
	who.tenant_id = T1;
	assert_int_equal(audit_record(c, &who, NULL, "a", NULL, NULL, NULL, NULL, &e), ERR_INTERNAL);
	db_rollback(c);
	db_release(c);
}

/* An Idempotency-Key reservation is marked committed by the first audited
 * write of its request, in the write's transaction; rollback undoes it. */
static void t_idempotency_committed(void **state)
{
	struct fx *f = *state;
	struct actor who = {.tenant_id = T1, .kind = "user", .id = "u", .idempotency_key = "key-42"};
	struct db_conn *c;
	struct err e;

	assert_int_equal(
	    exec_sql(f,
		     "INSERT INTO idempotency_keys (tenant_id, idem_key, method, path, request_hash, state, "
		     "created_at, updated_at) VALUES ('" T1 "', 'key-42', 'POST', '/api/patients', 'h', "
		     "'processing', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
		     NULL, 0),
	    0);
	c = acq(f, DB_WRITE);
	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(audit_record(c, &who, "patient.create", "patient", "p-1", NULL, NULL, NULL, &e), 0);
	db_rollback(c);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM idempotency_keys WHERE state = 'processing'", NULL, 0), 1);
	assert_int_equal(db_begin(c, &e), 0);
	assert_int_equal(audit_record(c, &who, "patient.create", "patient", "p-1", NULL, NULL, NULL, &e), 0);
	assert_int_equal(audit_record(c, &who, "invoice.create", "invoice", "i-1", NULL, NULL, NULL, &e), 0);
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	assert_int_equal(q_int(f,
			       "SELECT COUNT(*) FROM idempotency_keys WHERE state = 'committed' AND entity = 'patient' "
			       "AND entity_id = 'p-1' AND updated_at > '2025-01-01T00:00:00Z'",
			       NULL, 0),
			 1);
}

/* More entries than one verification page; damage on the second page. */
static void t_long_chain(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct actor who = {.tenant_id = T1, .kind = "system", .id = "import", .ip = NULL, .request_id = NULL};
	struct db_conn *c = acq(f, DB_WRITE);
	struct err e;
	json_t *after;
	int i;

	err_clear(&e);
	assert_int_equal(db_begin(c, &e), 0);
	for (i = 0; i < 2100; i++) {
		after = json_pack("{s:i}", "n", i);
		assert_int_equal(audit_record(c, &who, "service.create", "service", NULL, NULL, after, NULL, &e), 0);
		json_decref(after);
	}
	assert_int_equal(db_commit(c, &e), 0);
	db_release(c);
	verify(f, NULL, &res);
	assert_int_equal(res.entries, 2100);
	assert_int_equal(res.broken, 0);
	drop_triggers(f);
	assert_int_equal(exec_sql(f, "UPDATE audit_log SET after_json = '{\"n\":0}' WHERE seq = 1500", NULL, 0), 0);
	verify(f, NULL, &res);
	assert_int_equal(res.broken, 1);
	assert_int_equal(res.first_bad_seq, 1500);
}

#define THREADS	   8
#define PER_THREAD 25

struct worker {
	struct fx *f;
	int failures;
	char actor_id[16];
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct actor who = {.tenant_id = T1, .kind = "user", .id = w->actor_id, .ip = "127.0.0.1", .request_id = NULL};
	struct db_conn *c;
	struct err e;
	json_t *after;
	int i, rc;

	for (i = 0; i < PER_THREAD; i++) {
		err_clear(&e);
		c = NULL;
		after = json_pack("{s:s, s:i}", "by", w->actor_id, "i", i);
		rc = db_acquire(w->f->db, DB_WRITE, &c, &e);
		if (rc == 0)
			rc = db_begin(c, &e);
		if (rc == 0)
			rc = audit_record(c, &who, "patient.update", "patient", "p-9", NULL, after, NULL, &e);
		if (rc == 0)
			rc = db_commit(c, &e);
		if (rc) {
			fprintf(stderr, "worker: %s (%s)\n", e.message, e.detail);
			w->failures++;
		}
		db_release(c);
		json_decref(after);
	}
	return NULL;
}

/* Verifies in a loop while the workers write: a snapshot per tenant means
 * no false alarm. */
struct checker {
	struct fx *f;
	volatile int stop;
	int runs, alarms, errors;
};

static void *checker_run(void *arg)
{
	struct checker *k = arg;
	struct audit_verify_result res;
	struct err e;

	while (!k->stop) {
		err_clear(&e);
		if (audit_verify(k->f->db, NULL, &res, &e) != 0) {
			fprintf(stderr, "verify: %s (%s)\n", e.message, e.detail);
			k->errors++;
		} else if (res.broken) {
			fprintf(stderr, "verify: false alarm at seq %lld\n", (long long)res.first_bad_seq);
			k->alarms++;
		}
		k->runs++;
	}
	return NULL;
}

static void t_concurrent(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result res;
	struct worker w[THREADS];
	struct checker k = {.f = f};
	pthread_t th[THREADS], kt;
	int i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].f = f;
		snprintf(w[i].actor_id, sizeof(w[i].actor_id), "u%d", i);
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&kt, NULL, checker_run, &k), 0);
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	k.stop = 1;
	pthread_join(kt, NULL);
	assert_true(k.runs > 0);
	assert_int_equal(k.errors, 0);
	assert_int_equal(k.alarms, 0);
	assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log", NULL, 0), THREADS * PER_THREAD);
	assert_int_equal(q_int(f, "SELECT MIN(seq) FROM audit_log", NULL, 0), 1);
	assert_int_equal(q_int(f, "SELECT MAX(seq) FROM audit_log", NULL, 0), THREADS * PER_THREAD);
	assert_int_equal(q_int(f, "SELECT COUNT(DISTINCT seq) FROM audit_log", NULL, 0), THREADS * PER_THREAD);
	verify(f, NULL, &res);
	assert_int_equal(res.entries, THREADS * PER_THREAD);
	assert_int_equal(res.broken, 0);
}

/* ---- runner ---- */

#define CASES(setup)                                                                                                   \
	{                                                                                                              \
		cmocka_unit_test_setup_teardown(t_record_and_verify, setup, teardown),                                 \
		    cmocka_unit_test(t_hash_is_canonical),                                                             \
		    cmocka_unit_test_setup_teardown(t_append_only, setup, teardown),                                   \
		    cmocka_unit_test_setup_teardown(t_edit_detected, setup, teardown),                                 \
		    cmocka_unit_test_setup_teardown(t_actor_edit_detected, setup, teardown),                           \
		    cmocka_unit_test_setup_teardown(t_delete_last_detected, setup, teardown),                          \
		    cmocka_unit_test_setup_teardown(t_delete_middle_detected, setup, teardown),                        \
		    cmocka_unit_test_setup_teardown(t_insert_beyond_head_detected, setup, teardown),                   \
		    cmocka_unit_test_setup_teardown(t_rollback_leaves_no_gap, setup, teardown),                        \
		    cmocka_unit_test_setup_teardown(t_invalid_utf8_cleaned, setup, teardown),                          \
		    cmocka_unit_test_setup_teardown(t_incomplete_refused, setup, teardown),                            \
		    cmocka_unit_test_setup_teardown(t_idempotency_committed, setup, teardown),                         \
		    cmocka_unit_test_setup_teardown(t_long_chain, setup, teardown),                                    \
		    cmocka_unit_test_setup_teardown(t_concurrent, setup, teardown),                                    \
	}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = CASES(setup_sqlite);
	const struct CMUnitTest pg_tests[] = CASES(setup_pg);
	const char *pg = getenv("CLINICLEDGER_TEST_PG");
	int failed;

	log_set_level(LOG_ERROR);
	failed = cmocka_run_group_tests_name("audit_sqlite", sqlite_tests, NULL, NULL);
	if (pg && *pg)
		failed += cmocka_run_group_tests_name("audit_pgsql", pg_tests, NULL, NULL);
	return failed ? 1 : 0;
}
