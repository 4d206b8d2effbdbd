/*
 * app.h - the server context: the only mutable state shared by threads.
 *
 * One struct app is built by main (app_init) and passed to every handler
 * (ctx->app) and job worker. Nothing else in the program is global and
 * mutable.
 */
#ifndef CL_APP_H
#define CL_APP_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "db/db.h"

struct metrics;
struct ratelimit;
struct jobs;

struct app_keys {
	unsigned char jwt[64];       /* HMAC key for HS256 access tokens */
	size_t jwt_len;
	unsigned char data_enc[32];  /* AES-256-GCM key for fields at rest (derived) */
	unsigned char data_index[32];/* HMAC key for blind indexes (derived) */
};

struct app {
	struct config cfg;
	struct app_keys keys;
	struct db *db;
	struct metrics *metrics;
	struct ratelimit *ratelimit;
	struct jobs *jobs;
	time_t started_at;
};

/* Open the database, migrate, derive keys, create metrics/ratelimit.
 * On failure everything opened is released. */
int app_init(struct app *app, const struct config *cfg, struct err *e);
void app_release(struct app *app);

#endif
