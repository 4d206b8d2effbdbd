/*
 * health.c - GET /health (liveness), GET /health/ready (readiness) and
 * GET /metrics (Prometheus), as billing-service-api.md shows them.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cli.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "http/handlers.h"
#include "http/metrics.h"
#include "jobs/jobs.h"

#define SERVICE_NAME "clinicledger"

int health_live(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	char now[TIME_ISO_LEN + 1];
	json_t *body;
	char *text;

	(void)e;
	time_now_iso(now);
	body = json_pack("{s:s, s:s, s:i, s:s, s:s, s:I}", "status", "healthy", "service", SERVICE_NAME, "port",
			 ctx->app->cfg.listen_port, "version", CLI_VERSION, "timestamp", now, "uptimeSeconds",
			 (json_int_t)(time(NULL) - ctx->app->started_at));
	text = json_dumps(body, JSON_COMPACT);
	http_resp_raw(ctx, resp, 200, "application/json; charset=utf-8", text, strlen(text));
	free(text);
	json_decref(body);
	return 0;
}

int health_ready(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	char now[TIME_ISO_LEN + 1];
	struct err dberr;
	int version = 0, db_ok, schema_ok;
	json_t *body;
	char *text;

	(void)e;
	err_clear(&dberr);
	time_now_iso(now);
	db_ok = db_ping(ctx->app->db, &dberr) == 0;
	schema_ok = db_ok && db_schema_version(ctx->app->db, &version, &dberr) == 0 && version > 0;
	body = json_pack("{s:s, s:s, s:{s:s, s:s, s:i, s:b}, s:s}", "status", db_ok && schema_ok ? "ready" : "not_ready",
			 "service", SERVICE_NAME, "checks", "database", db_ok ? "connected" : "disconnected", "schema",
			 schema_ok ? "migrated" : "unknown", "schemaVersion", version, "overall", db_ok && schema_ok,
			 "timestamp", now);
	text = json_dumps(body, JSON_COMPACT);
	http_resp_raw(ctx, resp, db_ok && schema_ok ? 200 : 503, "application/json; charset=utf-8", text,
		      strlen(text));
	free(text);
	json_decref(body);
	return 0;
}

int health_metrics(struct req_ctx *ctx, struct http_resp *resp, struct err *e)
{
	struct app *app = ctx->app;
	struct db_stats st;
	int64_t counts[JOB_STATE_COUNT];
	struct err jerr;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	(void)e;
	metrics_appendf(&buf, &len, &cap,
			"# HELP billing_service_uptime_seconds Service uptime in seconds\n"
			"# TYPE billing_service_uptime_seconds counter\n"
			"billing_service_uptime_seconds %lld\n\n"
			"# HELP billing_service_info Service information\n"
			"# TYPE billing_service_info gauge\n"
			"billing_service_info{version=\"%s\",service=\"" SERVICE_NAME "\"} 1\n\n",
			(long long)(time(NULL) - app->started_at), CLI_VERSION);
	metrics_render(app->metrics, &buf, &len, &cap);
	db_stats(app->db, &st);
	metrics_appendf(&buf, &len, &cap,
			"# HELP db_pool_connections Database connections in the pool\n"
			"# TYPE db_pool_connections gauge\n"
			"db_pool_connections{backend=\"%s\",state=\"total\"} %d\n"
			"db_pool_connections{backend=\"%s\",state=\"in_use\"} %d\n"
			"# HELP db_pool_waiting Callers waiting for a database connection\n"
			"# TYPE db_pool_waiting gauge\n"
			"db_pool_waiting{backend=\"%s\"} %d\n"
			"# HELP db_pool_acquire_timeouts_total Connection requests that timed out\n"
			"# TYPE db_pool_acquire_timeouts_total counter\n"
			"db_pool_acquire_timeouts_total{backend=\"%s\"} %llu\n",
			db_backend_name(app->db), st.size, db_backend_name(app->db), st.in_use,
			db_backend_name(app->db), st.waiting, db_backend_name(app->db),
			(unsigned long long)st.acquire_timeouts);
	err_clear(&jerr);
	if (jobs_counts(app->db, counts, &jerr) == 0) {
		metrics_appendf(&buf, &len, &cap,
				"# HELP jobs_queue Jobs in the durable queue by state\n# TYPE jobs_queue gauge\n");
		for (int s = 0; s < JOB_STATE_COUNT; s++)
			metrics_appendf(&buf, &len, &cap, "jobs_queue{state=\"%s\"} %lld\n", jobs_state_name((enum job_state)s),
					(long long)counts[s]);
	}
	http_resp_raw(ctx, resp, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
	free(buf);
	return 0;
}
