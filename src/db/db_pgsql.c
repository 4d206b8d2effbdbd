/*
 * db_pgsql.c - the PostgreSQL backend (the only file including libpq-fe.h).
 *
 * Every pooled connection is a PGconn. Statements go through PQexecParams
 * with every parameter as text (integers formatted as decimal, types left to
 * the server to infer), after rewriting the portable '?' placeholders to
 * $1..$n. A connection found broken on acquire is PQreset transparently, so
 * the pool recovers after the server comes back. SQLSTATEs are translated to
 * the err codes of db.h; notices are dropped.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "db/db_backend.h"

static bool pg_ident_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || (unsigned char)ch >= 0x80;
}

/* Length of a dollar-quote opener "$tag$" at s, or 0 when s is not one. */
static size_t pg_dollar_tag(const char *s)
{
	size_t n = 1;

	if (s[0] != '$')
		return 0;
	if (s[1] >= '0' && s[1] <= '9')
		return 0; /* $1 positional parameter */
	while (s[n] && s[n] != '$') {
		if (!pg_ident_char(s[n]))
			return 0;
		n++;
	}
	return s[n] == '$' ? n + 1 : 0;
}

char *db_pgsql_rewrite(const char *sql, size_t *nparams)
{
	size_t len = strlen(sql), qs = 0, i, o = 0, n = 0, tag = 0, depth = 0;
	const char *tagp = NULL;
	enum { NORMAL, SQUOTE, ESTRING, DQUOTE, LINE, BLOCK, DOLLAR } st = NORMAL;
	char *out;

	for (i = 0; i < len; i++)
		qs += sql[i] == '?';
	out = xmalloc(len + qs * 11 + 1);
	for (i = 0; i < len; i++) {
		char ch = sql[i];

		switch (st) {
		case NORMAL:
			if (ch == '?') {
				o += (size_t)sprintf(out + o, "$%zu", ++n);
				continue;
			}
			if (ch == '\'') {
				st = SQUOTE;
				if (i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
				    (i < 2 || !pg_ident_char(sql[i - 2])))
					st = ESTRING;
			} else if (ch == '"') {
				st = DQUOTE;
			} else if (ch == '-' && sql[i + 1] == '-') {
				st = LINE;
			} else if (ch == '/' && sql[i + 1] == '*') {
				st = BLOCK;
				depth = 1;
				out[o++] = sql[i++];
			} else if (ch == '$' && (i == 0 || !pg_ident_char(sql[i - 1])) &&
				   (tag = pg_dollar_tag(sql + i)) > 0) {
				st = DOLLAR;
				tagp = sql + i;
				memcpy(out + o, sql + i, tag);
				o += tag;
				i += tag - 1;
				continue;
			}
			break;
		case SQUOTE:
			if (ch == '\'')
				st = NORMAL; /* '' re-enters SQUOTE at the next quote */
			break;
		case ESTRING:
			if (ch == '\\' && sql[i + 1]) {
				out[o++] = sql[i++];
			} else if (ch == '\'') {
				st = NORMAL;
			}
			break;
		case DQUOTE:
			if (ch == '"')
				st = NORMAL;
			break;
		case LINE:
			if (ch == '\n')
				st = NORMAL;
			break;
		case BLOCK:
			if (ch == '*' && sql[i + 1] == '/') {
				out[o++] = sql[i++];
				if (--depth == 0)
					st = NORMAL;
			} else if (ch == '/' && sql[i + 1] == '*') {
				out[o++] = sql[i++];
				depth++;
			}
			break;
		case DOLLAR:
			if (ch == '$' && strncmp(sql + i, tagp, tag) == 0) {
				memcpy(out + o, sql + i, tag);
				o += tag;
				i += tag - 1;
				st = NORMAL;
				continue;
			}
			break;
		}
		out[o++] = sql[i];
	}
	out[o] = '\0';
	*nparams = n;
	return out;
}

static void pg_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Copy s without its trailing newline(s) into the detail of e. */
static void pg_detail(struct err *e, const char *sqlstate, const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;

	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		n--;
	snprintf(e->detail, sizeof(e->detail), "pg %s: %.*s", sqlstate ? sqlstate : "-", (int)n,
		 msg ? msg : "");
}

/* Translate a failed result (res may be NULL) on pc. Only the primary
 * message goes to the detail: the DETAIL field can echo row values. */
static int pg_fail(PGconn *pc, PGresult *res, struct err *e)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int code = ERR_DB;

	if (!msg)
		msg = PQerrorMessage(pc);
	if (!state) {
		if (PQstatus(pc) != CONNECTION_OK)
			code = ERR_UNAVAILABLE;
	} else if (strcmp(state, "23505") == 0) {
		code = ERR_CONFLICT;
	} else if (strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0 ||
		   strcmp(state, "23502") == 0 || strncmp(state, "22", 2) == 0) {
		code = ERR_INVALID;
	} else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
		   strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 ||
		   strcmp(state, "53300") == 0 || strcmp(state, "55P03") == 0) {
		code = ERR_UNAVAILABLE;
	}
	db_fail(e, code, "database error");
	pg_detail(e, state, msg);
	return code;
}

/* Per-session settings, after connect and after every reset. */
static int pg_session_init(PGconn *pc, struct err *e)
{
	PGresult *res;
	int rc = 0;

	PQsetNoticeProcessor(pc, pg_notice, NULL);
	res = PQexec(pc, "SET TIME ZONE 'UTC'; SET client_min_messages = warning");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(pc, res, e);
	PQclear(res);
	return rc;
}

static int pg_conn_open(struct db *db, struct db_conn *c, struct err *e)
{
	/* Defaults first: settings in the URL (expanded from dbname) win. */
	static const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "5", "clinicledger", db->target, NULL };
	PGconn *pc = PQconnectdbParams(keys, vals, 1);

	c->handle = pc;
	if (!pc)
		return db_fail(e, ERR_UNAVAILABLE, "PQconnectdb: out of memory");
	if (PQstatus(pc) != CONNECTION_OK) {
		db_fail(e, ERR_UNAVAILABLE, "connect");
		pg_detail(e, "connect", PQerrorMessage(pc));
		return ERR_UNAVAILABLE;
	}
	return pg_session_init(pc, e);
}

static void pg_conn_close(struct db_conn *c)
{
	if (c->handle)
		PQfinish(c->handle);
	c->handle = NULL;
}

static int pg_conn_check(struct db_conn *c, struct err *e)
{
	PGconn *pc = c->handle;

	if (!pc)
		return db_fail(e, ERR_UNAVAILABLE, "no connection");
	if (PQstatus(pc) == CONNECTION_OK && PQtransactionStatus(pc) != PQTRANS_UNKNOWN)
		return 0;
	PQreset(pc);
	if (PQstatus(pc) != CONNECTION_OK) {
		db_fail(e, ERR_UNAVAILABLE, "reconnect");
		pg_detail(e, "reconnect", PQerrorMessage(pc));
		return ERR_UNAVAILABLE;
	}
	log_info("msg=\"postgresql connection re-established\"");
	return pg_session_init(pc, e) < 0 ? ERR_UNAVAILABLE : 0;
}

static bool pg_tx_open(struct db_conn *c)
{
	PGTransactionStatusType ts;

	if (!c->handle)
		return false;
	ts = PQtransactionStatus(c->handle);
	return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

/* BEGIN or a SELECT: repeating it outside a transaction has no effect. */
static bool pg_safe_to_repeat(const char *q)
{
	while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
		q++;
	return strncasecmp(q, "BEGIN", 5) == 0 || strncasecmp(q, "SELECT", 6) == 0;
}

static int pg_run(struct db_conn *c, const char *sql, const struct db_param *params, size_t nparams,
		  int64_t *affected, struct db_rows **rows, struct err *e)
{
	PGconn *pc = c->handle;
	PGresult *res = NULL;
	struct db_rows *r = NULL;
	const char **values = NULL;
	char (*ibuf)[24] = NULL;
	char *q, **row;
	size_t nq, i;
	int rc = 0, nt, nf, t, f;
	ExecStatusType st;

	q = db_pgsql_rewrite(sql, &nq);
	if (nq != nparams) {
		rc = db_fail(e, ERR_DB, "statement has %zu placeholders, %zu parameters given", nq,
			     nparams);
		goto out;
	}
	if (nparams > 65535) {
		rc = db_fail(e, ERR_DB, "too many parameters (%zu)", nparams);
		goto out;
	}
	if (nparams > 0) {
		values = xcalloc(nparams, sizeof(*values));
		ibuf = xcalloc(nparams, sizeof(*ibuf));
		for (i = 0; i < nparams; i++) {
			if (params[i].type == DB_TEXT) {
				values[i] = params[i].text;
			} else if (params[i].type == DB_INT) {
				snprintf(ibuf[i], sizeof(ibuf[i]), "%lld", (long long)params[i].i);
				values[i] = ibuf[i];
			}
		}
	}
	bool was_idle = PQtransactionStatus(pc) == PQTRANS_IDLE;
	res = PQexecParams(pc, q, (int)nparams, NULL, values, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && was_idle && PQstatus(pc) != CONNECTION_OK &&
	    pg_safe_to_repeat(q)) {
		/* A pooled connection whose server went away (restart, failover,
		 * pg_terminate_backend) only shows it on first use. Outside a
		 * transaction, BEGIN and SELECT change nothing, so they are repeated
		 * once on a fresh connection instead of failing the request. */
		PQclear(res);
		PQreset(pc);
		if (PQstatus(pc) == CONNECTION_OK && pg_session_init(pc, e) == 0)
			res = PQexecParams(pc, q, (int)nparams, NULL, values, NULL, NULL, 0);
		else
			res = NULL;
		st = PQresultStatus(res);
	}
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		rc = pg_fail(pc, res, e);
		goto out;
	}
	if (affected) {
		const char *ct = PQcmdTuples(res);

		*affected = ct && *ct ? (int64_t)strtoll(ct, NULL, 10) : 0;
	}
	if (rows) {
		nt = PQntuples(res);
		nf = PQnfields(res);
		if (nt > DB_ROWS_MAX) {
			rc = db_fail(e, ERR_DB, "query returned more than %d rows", DB_ROWS_MAX);
			goto out;
		}
		r = db_rows_new((size_t)nf);
		for (f = 0; f < nf; f++)
			db_rows_set_name(r, (size_t)f, PQfname(res, f));
		for (t = 0; t < nt; t++) {
			row = db_rows_add_row(r);
			for (f = 0; f < nf; f++)
				if (!PQgetisnull(res, t, f))
					row[f] = xstrndup(PQgetvalue(res, t, f),
							  (size_t)PQgetlength(res, t, f));
		}
		*rows = r;
	}
out:
	PQclear(res);
	free(values);
	free(ibuf);
	free(q);
	return rc;
}

static int pg_script(struct db_conn *c, const char *sql, struct err *e)
{
	PGconn *pc = c->handle;
	PGresult *res = PQexec(pc, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
		rc = pg_fail(pc, res, e);
	PQclear(res);
	return rc;
}

static int pg_commit(struct db_conn *c, struct err *e)
{
	PGconn *pc = c->handle;
	PGresult *res = PQexec(pc, "COMMIT");
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(pc, res, e);
	else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
		/* COMMIT of a transaction aborted by an earlier error. */
		rc = db_fail(e, ERR_DB, "transaction was aborted by an earlier error and rolled back");
	PQclear(res);
	return rc;
}

static void pg_rollback(struct db_conn *c)
{
	PGconn *pc = c->handle;
	PGresult *res;

	if (!pg_tx_open(c))
		return;
	res = PQexec(pc, "ROLLBACK");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		log_error("msg=\"postgresql rollback failed\" detail=\"%s\"",
			  PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
				  ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
				  : "connection lost");
	PQclear(res);
}

const struct db_ops db_pgsql_ops = {
	.kind = DB_PGSQL,
	.name = "postgresql",
	.conn_open = pg_conn_open,
	.conn_close = pg_conn_close,
	.conn_check = pg_conn_check,
	.tx_open = pg_tx_open,
	.run = pg_run,
	.script = pg_script,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.backup = NULL,
};
