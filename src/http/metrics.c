/*
 * metrics.c - per-route, per-status request counts and latency histograms.
 *
 * Status codes are folded into a fixed set of slots (the ones the server
 * produces, plus "other"), so the table is a flat array sized at start-up.
 */
#include "http/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

static const int status_slots[] = { 200, 201, 204, 304, 400, 401, 403, 404, 405, 409,
				    413, 422, 423, 429, 500, 502, 503 };
#define NSTATUS (sizeof(status_slots) / sizeof(status_slots[0]) + 1) /* + "other" */

/* Histogram bucket upper bounds in microseconds, and their Prometheus labels. */
static const int64_t bucket_us[] = { 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
				     2500000, 5000000 };
static const char *const bucket_le[] = { "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
					 "0.1",   "0.25",   "0.5",   "1",    "2.5",   "5" };
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

struct metrics_cell {
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
	atomic_uint_fast64_t buckets[NBUCKETS]; /* non-cumulative; summed when rendered */
};

struct metrics {
	const struct route *table;
	size_t nroutes;              /* + 1 row for unmatched requests */
	struct metrics_cell *cells;  /* (nroutes + 1) * NSTATUS */
};

struct metrics *metrics_new(const struct route *table, size_t n)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->table = table;
	m->nroutes = n;
	m->cells = xcalloc((n + 1) * NSTATUS, sizeof(*m->cells));
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->cells);
	free(m);
}

static size_t status_slot(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (status_slots[i] == status)
			return i;
	return NSTATUS - 1;
}

void metrics_observe(struct metrics *m, size_t route_index, int status, int64_t duration_us)
{
	if (route_index > m->nroutes)
		route_index = m->nroutes;
	if (duration_us < 0)
		duration_us = 0;
	struct metrics_cell *c = &m->cells[route_index * NSTATUS + status_slot(status)];
	atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->sum_us, (uint64_t)duration_us, memory_order_relaxed);
	for (size_t b = 0; b < NBUCKETS; b++) {
		if (duration_us <= bucket_us[b]) {
			atomic_fetch_add_explicit(&c->buckets[b], 1, memory_order_relaxed);
			break;
		}
	}
}

void metrics_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (*buf && *len + (size_t)n < *cap) {
			*len += (size_t)n;
			return;
		}
		*cap = (*cap ? *cap * 2 : 4096) + (size_t)n;
		*buf = xrealloc(*buf, *cap);
	}
}

static void route_labels(const struct metrics *m, size_t r, int slot, char *out, size_t n)
{
	const char *method = r < m->nroutes ? m->table[r].method : "ANY";
	const char *path = r < m->nroutes ? m->table[r].path : "unmatched";
	char status[8];

	if ((size_t)slot < NSTATUS - 1)
		snprintf(status, sizeof(status), "%d", status_slots[slot]);
	else
		snprintf(status, sizeof(status), "other");
	snprintf(out, n, "method=\"%s\",route=\"%s\",status=\"%s\"", method, path, status);
}

void metrics_render(struct metrics *m, char **buf, size_t *len, size_t *cap)
{
	char labels[320];

	metrics_appendf(buf, len, cap,
			"# HELP http_requests_total HTTP requests by route and status\n"
			"# TYPE http_requests_total counter\n");
	for (size_t r = 0; r <= m->nroutes; r++) {
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t count = atomic_load(&m->cells[r * NSTATUS + s].count);
			if (!count)
				continue;
			route_labels(m, r, (int)s, labels, sizeof(labels));
			metrics_appendf(buf, len, cap, "http_requests_total{%s} %llu\n", labels,
					(unsigned long long)count);
		}
	}
	metrics_appendf(buf, len, cap,
			"# HELP http_request_duration_seconds HTTP request latency by route and status\n"
			"# TYPE http_request_duration_seconds histogram\n");
	for (size_t r = 0; r <= m->nroutes; r++) {
		for (size_t s = 0; s < NSTATUS; s++) {
			struct metrics_cell *c = &m->cells[r * NSTATUS + s];
			uint64_t count = atomic_load(&c->count), cumulative = 0;
			if (!count)
				continue;
			route_labels(m, r, (int)s, labels, sizeof(labels));
			for (size_t b = 0; b < NBUCKETS; b++) {
				cumulative += atomic_load(&c->buckets[b]);
				metrics_appendf(buf, len, cap, "http_request_duration_seconds_bucket{%s,le=\"%s\"} %llu\n",
						labels, bucket_le[b], (unsigned long long)cumulative);
			}
			uint64_t sum_us = atomic_load(&c->sum_us);
			metrics_appendf(buf, len, cap,
					"http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n"
					"http_request_duration_seconds_sum{%s} %llu.%06llu\n"
					"http_request_duration_seconds_count{%s} %llu\n",
					labels, (unsigned long long)count, labels,
					(unsigned long long)(sum_us / 1000000), (unsigned long long)(sum_us % 1000000),
					labels, (unsigned long long)count);
		}
	}
}
