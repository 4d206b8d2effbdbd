/*
 * pipeline.h - the fixed request pipeline, independent of the HTTP library.
 *
 *   request id -> limits (body cap) -> authentication -> rate limit ->
 *   permission -> idempotency -> handler -> envelope -> access log + metrics
 *
 * server.c builds a struct http_req from the wire and sends what comes out.
 */
#ifndef CL_HTTP_PIPELINE_H
#define CL_HTTP_PIPELINE_H

#include <stddef.h>

#include "app.h"
#include "http/http.h"

struct pipeline_result {
	int status;
	const char *content_type;       /* static or arena */
	char *body;                     /* owned (malloc): caller frees */
	size_t body_len;
	struct http_header_out headers[12]; /* arena or static strings */
	size_t nheaders;
};

/* Run route routes[route_index] (route_index == routes_count: no route matched
 * -> 404) for req. Always fills *out. */
void pipeline_run(struct app *app, size_t route_index, struct http_req *req, struct pipeline_result *out);

#endif
