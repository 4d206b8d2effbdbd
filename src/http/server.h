/*
 * server.h - the HTTP server: Ulfius on libmicrohttpd, kept at the edge.
 *
 * Registers every line of the route table with one callback that turns the
 * Ulfius request into our struct http_req and runs the pipeline. A bounded
 * pool of MHD worker threads (epoll), a connection limit, an idle timeout,
 * a body cap, optional TLS.
 */
#ifndef CL_HTTP_SERVER_H
#define CL_HTTP_SERVER_H

#include "app.h"

struct server;

/* Start listening per app->cfg. *out owned: stop with server_stop. */
int server_start(struct app *app, struct server **out, struct err *e);
void server_stop(struct server *s);

#endif
