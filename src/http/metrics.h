/*
 * metrics.h - request counters and latency histograms per route and status,
 * rendered in the Prometheus text format by GET /metrics.
 *
 * Lock-free: every cell is an atomic counter, so observing costs a few
 * relaxed atomic adds on the request path.
 */
#ifndef CL_HTTP_METRICS_H
#define CL_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

struct metrics;

/* For the route table (routes, n); owned: free with metrics_free. */
struct metrics *metrics_new(const struct route *table, size_t n);
void metrics_free(struct metrics *m);

/* Record one response. route_index == n means "no route matched". */
void metrics_observe(struct metrics *m, size_t route_index, int status, int64_t duration_us);

/* Append the http_* series to an owned, growing text (*buf, *len, *cap). */
void metrics_render(struct metrics *m, char **buf, size_t *len, size_t *cap);

/* printf into a growing owned buffer (also used by health.c). */
void metrics_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
