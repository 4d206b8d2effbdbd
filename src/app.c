/* app.c - building and releasing the server context. */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "http/metrics.h"
#include "http/http.h"
#include "http/ratelimit.h"

int app_init(struct app *app, const struct config *cfg, struct err *e)
{
	struct db_options opt = { .pool_size = cfg->db_pool, .acquire_timeout_ms = 5000, .busy_timeout_ms = 5000 };
	unsigned char *master = NULL;
	size_t master_len = 0;
	int applied = 0, rc;

	memset(app, 0, sizeof(*app));
	app->cfg = *cfg;
	app->started_at = time(NULL);
	if ((rc = config_resolve_secrets(&app->cfg, e)))
		goto fail;
	app->keys.jwt_len = strlen(app->cfg.jwt_secret);
	if (app->keys.jwt_len > sizeof(app->keys.jwt))
		app->keys.jwt_len = sizeof(app->keys.jwt);
	memcpy(app->keys.jwt, app->cfg.jwt_secret, app->keys.jwt_len);
	if ((rc = hex_decode(app->cfg.data_key_hex, &master, &master_len, e)))
		goto fail;
	crypto_derive_key(master, master_len, "field-enc-v1", app->keys.data_enc);
	crypto_derive_key(master, master_len, "blind-index-v1", app->keys.data_index);
	mem_wipe(master, master_len);
	free(master);
	if ((rc = db_open(app->cfg.db_url, &opt, &app->db, e)))
		goto fail;
	if ((rc = db_migrate(app->db, &applied, e)))
		goto fail;
	if (applied)
		log_info("msg=\"migrations applied\" count=%d backend=%s", applied, db_backend_name(app->db));
	app->metrics = metrics_new(routes, routes_count);
	app->ratelimit = ratelimit_new(app->cfg.rate_per_min, app->cfg.rate_burst);
	return 0;
fail:
	app_release(app);
	return rc;
}

void app_release(struct app *app)
{
	if (app->db)
		db_close(app->db);
	metrics_free(app->metrics);
	ratelimit_free(app->ratelimit);
	mem_wipe(&app->keys, sizeof(app->keys));
	mem_wipe(app->cfg.jwt_secret, sizeof(app->cfg.jwt_secret));
	mem_wipe(app->cfg.data_key_hex, sizeof(app->cfg.data_key_hex));
	memset(app, 0, sizeof(*app));
}
