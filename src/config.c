/* config.c - environment variables -> struct config, validated up front. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"

static int env_str(const char *name, const char *def, char *out, size_t n, struct err *e)
{
	const char *v = getenv(name);

	if (!v || !*v)
		v = def;
	if (strlen(v) >= n)
		return err_set(e, ERR_INVALID, name, "%s is longer than %zu characters", name, n - 1);
	snprintf(out, n, "%s", v);
	return 0;
}

static int env_int(const char *name, long def, long min, long max, long *out, struct err *e)
{
	const char *v = getenv(name);
	char *end;

	if (!v || !*v) {
		*out = def;
		return 0;
	}
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || *end || end == v || x < min || x > max)
		return err_set(e, ERR_INVALID, name, "%s must be an integer from %ld to %ld", name, min, max);
	*out = x;
	return 0;
}

static int parse_listen(struct config *cfg, struct err *e)
{
	char buf[128];
	char *colon;
	long port;
	char *end;

	if (env_str("CLINICLEDGER_LISTEN", "127.0.0.1:8080", buf, sizeof(buf), e))
		return e->code;
	colon = strrchr(buf, ':');
	if (!colon || colon == buf)
		return err_set(e, ERR_INVALID, "CLINICLEDGER_LISTEN", "CLINICLEDGER_LISTEN must be host:port");
	*colon = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return err_set(e, ERR_INVALID, "CLINICLEDGER_LISTEN", "CLINICLEDGER_LISTEN port must be 0..65535");
	if (strcmp(buf, "localhost") == 0)
		snprintf(buf, sizeof(buf), "127.0.0.1");
	snprintf(cfg->listen_host, sizeof(cfg->listen_host), "%s", buf);
	cfg->listen_port = (int)port;
	return 0;
}

int config_load(struct config *cfg, struct err *e)
{
	long v;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cfg, 0, sizeof(*cfg));
	if (cores < 1)
		cores = 1;
	if (parse_listen(cfg, e) ||
	    env_str("CLINICLEDGER_DATA_DIR", "./data", cfg->data_dir, sizeof(cfg->data_dir), e) ||
	    env_str("CLINICLEDGER_JWT_SECRET", "", cfg->jwt_secret, sizeof(cfg->jwt_secret), e) ||
	    env_str("CLINICLEDGER_DATA_KEY", "", cfg->data_key_hex, sizeof(cfg->data_key_hex), e) ||
	    env_str("CLINICLEDGER_JWT_ISSUER", "clinicledger", cfg->jwt_issuer, sizeof(cfg->jwt_issuer), e) ||
	    env_str("CLINICLEDGER_JWT_AUDIENCE", "clinicledger-api", cfg->jwt_audience, sizeof(cfg->jwt_audience), e) ||
	    env_str("CLINICLEDGER_TLS_CERT", "", cfg->tls_cert, sizeof(cfg->tls_cert), e) ||
	    env_str("CLINICLEDGER_TLS_KEY", "", cfg->tls_key, sizeof(cfg->tls_key), e) ||
	    env_str("CLINICLEDGER_LOG_LEVEL", "info", cfg->log_level, sizeof(cfg->log_level), e) ||
	    env_str("CLINICLEDGER_BOOTSTRAP_EMAIL", "admin@demo.clinic", cfg->bootstrap_email,
		    sizeof(cfg->bootstrap_email), e) ||
	    env_str("CLINICLEDGER_BOOTSTRAP_PASSWORD", "", cfg->bootstrap_password, sizeof(cfg->bootstrap_password),
		    e) ||
	    env_str("CLINICLEDGER_BOOTSTRAP_TENANT", "Demo Clinic", cfg->bootstrap_tenant,
		    sizeof(cfg->bootstrap_tenant), e))
		return e->code;
	if (env_str("STRIPE_SECRET_KEY", "", cfg->stripe_secret_key, sizeof(cfg->stripe_secret_key), e) ||
	    env_str("STRIPE_PUBLISHABLE_KEY", "", cfg->stripe_publishable_key, sizeof(cfg->stripe_publishable_key), e) ||
	    env_str("STRIPE_WEBHOOK_SECRET", "", cfg->stripe_webhook_secret, sizeof(cfg->stripe_webhook_secret), e) ||
	    env_str("STRIPE_API_BASE", "https://api.stripe.com", cfg->stripe_api_base, sizeof(cfg->stripe_api_base), e) ||
	    env_str("CLINICLEDGER_GATEWAY_WEBHOOK_SECRET", "", cfg->gateway_webhook_secret,
		    sizeof(cfg->gateway_webhook_secret), e) ||
	    env_str("CLINICLEDGER_PUBLIC_URL", "", cfg->public_url, sizeof(cfg->public_url), e))
		return e->code;
	if (env_str("DTE_MH_ENDPOINT", "https://apitest.dtes.mh.gob.sv", cfg->dte_mh_endpoint,
		    sizeof(cfg->dte_mh_endpoint), e) ||
	    env_str("DTE_MH_USER", "", cfg->dte_mh_user, sizeof(cfg->dte_mh_user), e) ||
	    env_str("DTE_MH_PASSWORD", "", cfg->dte_mh_password, sizeof(cfg->dte_mh_password), e) ||
	    env_str("DTE_AMBIENTE", "00", cfg->dte_ambiente, sizeof(cfg->dte_ambiente), e) ||
	    env_str("DTE_PRIVATE_KEY", "", cfg->dte_private_key, sizeof(cfg->dte_private_key), e) ||
	    env_str("DTE_CERTIFICATE", "", cfg->dte_certificate, sizeof(cfg->dte_certificate), e) ||
	    env_str("DTE_CERT_PASSWORD", "", cfg->dte_cert_password, sizeof(cfg->dte_cert_password), e) ||
	    env_str("DTE_NIT_EMISOR", "", cfg->dte_nit_emisor, sizeof(cfg->dte_nit_emisor), e) ||
	    env_str("DTE_MH_CA_FILE", "", cfg->dte_mh_ca_file, sizeof(cfg->dte_mh_ca_file), e))
		return e->code;
	if (strncmp(cfg->dte_mh_endpoint, "http://", 7) != 0 && strncmp(cfg->dte_mh_endpoint, "https://", 8) != 0)
		return err_set(e, ERR_INVALID, "DTE_MH_ENDPOINT", "DTE_MH_ENDPOINT must be an http:// or https:// URL");
	if (strcmp(cfg->dte_ambiente, "00") != 0 && strcmp(cfg->dte_ambiente, "01") != 0)
		return err_set(e, ERR_INVALID, "DTE_AMBIENTE", "DTE_AMBIENTE must be 00 (pruebas) or 01 (producción)");
	if (cfg->dte_nit_emisor[0] && ((strlen(cfg->dte_nit_emisor) != 14 && strlen(cfg->dte_nit_emisor) != 9) ||
				       strspn(cfg->dte_nit_emisor, "0123456789") != strlen(cfg->dte_nit_emisor)))
		return err_set(e, ERR_INVALID, "DTE_NIT_EMISOR", "DTE_NIT_EMISOR must be 14 digits (or a 9-digit DUI)");
	{
		char def_db[600];
		snprintf(def_db, sizeof(def_db), "%s/clinicledger.db", cfg->data_dir);
		if (env_str("CLINICLEDGER_DB", def_db, cfg->db_url, sizeof(cfg->db_url), e))
			return e->code;
	}
	if ((!!cfg->tls_cert[0]) != (!!cfg->tls_key[0]))
		return err_set(e, ERR_INVALID, "CLINICLEDGER_TLS_CERT",
			       "set both CLINICLEDGER_TLS_CERT and CLINICLEDGER_TLS_KEY, or neither");
#define INT_SETTING(name, def, min, max, field)                  \
	do {                                                     \
		if (env_int(name, def, min, max, &v, e))         \
			return e->code;                          \
		cfg->field = (int)v;                             \
	} while (0)
	INT_SETTING("CLINICLEDGER_ACCESS_TTL", 900, 1, 86400, access_ttl_s);
	INT_SETTING("CLINICLEDGER_REFRESH_TTL", 1209600, 60, 31536000, refresh_ttl_s);
	INT_SETTING("CLINICLEDGER_HTTP_THREADS", cores * 2 < 4 ? 4 : (cores * 2 > 64 ? 64 : cores * 2), 1, 256,
		    http_threads);
	INT_SETTING("CLINICLEDGER_MAX_CONNECTIONS", 1024, 1, 100000, http_max_connections);
	INT_SETTING("CLINICLEDGER_HTTP_TIMEOUT", 30, 1, 3600, http_timeout_s);
	INT_SETTING("CLINICLEDGER_DB_POOL", 8, 1, 256, db_pool);
	INT_SETTING("CLINICLEDGER_JOB_WORKERS", 2, 0, 64, job_workers);
	INT_SETTING("CLINICLEDGER_RATE_LIMIT", 6000, 0, 100000000, rate_per_min);
	INT_SETTING("CLINICLEDGER_RATE_BURST", 200, 1, 1000000, rate_burst);
	INT_SETTING("CLINICLEDGER_LOGIN_MAX_FAILURES", 5, 1, 1000, login_max_failures);
	INT_SETTING("CLINICLEDGER_LOGIN_LOCK_SECONDS", 900, 1, 86400 * 30, login_lock_s);
	INT_SETTING("STRIPE_TIMEOUT_MS", 15000, 100, 120000, stripe_timeout_ms);
	INT_SETTING("CLINICLEDGER_WEBHOOKS_ALLOW_PRIVATE", 0, 0, 1, webhooks_allow_private);
	INT_SETTING("CLINICLEDGER_WEBHOOKS_RETRY_BASE_S", 5, 1, 3600, webhooks_retry_base_s);
	INT_SETTING("DTE_MH_TIMEOUT_MS", 8000, 100, 120000, dte_mh_timeout_ms);
	INT_SETTING("DTE_MH_CONNECT_TIMEOUT_MS", 5000, 100, 60000, dte_mh_connect_timeout_ms);
#undef INT_SETTING
	if (env_int("CLINICLEDGER_MAX_BODY", 1 << 20, 1024, 64L << 20, &v, e))
		return e->code;
	cfg->body_cap = (size_t)v;
	if (log_level_parse(cfg->log_level) < 0)
		return err_set(e, ERR_INVALID, "CLINICLEDGER_LOG_LEVEL",
			       "CLINICLEDGER_LOG_LEVEL must be debug, info, warn or error");
	return 0;
}

/* Read a secret file, or create it with fresh random bytes (hex) mode 0600. */
static int secret_file(const char *dir, const char *name, size_t nbytes, char *out, size_t outlen, struct err *e)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(out, (int)outlen, f)) {
			fclose(f);
			return err_set(e, ERR_INVALID, name, "cannot read %s", path);
		}
		fclose(f);
		out[strcspn(out, "\r\n")] = '\0';
		return 0;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_INVALID, "CLINICLEDGER_DATA_DIR", "cannot create %s", dir);
	unsigned char raw[64];
	crypto_random(raw, nbytes);
	char *hex = hex_encode(raw, nbytes);
	mem_wipe(raw, sizeof(raw));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		free(hex);
		return err_set(e, ERR_INVALID, name, "cannot create %s", path);
	}
	size_t len = strlen(hex);
	int ok = write(fd, hex, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	close(fd);
	snprintf(out, outlen, "%s", hex);
	mem_wipe(hex, len);
	free(hex);
	if (!ok)
		return err_set(e, ERR_INVALID, name, "cannot write %s", path);
	return 0;
}

int config_resolve_secrets(struct config *cfg, struct err *e)
{
	if (!cfg->jwt_secret[0] &&
	    secret_file(cfg->data_dir, "jwt.secret", 32, cfg->jwt_secret, sizeof(cfg->jwt_secret), e))
		return e->code;
	if (strlen(cfg->jwt_secret) < 32)
		return err_set(e, ERR_INVALID, "CLINICLEDGER_JWT_SECRET",
			       "CLINICLEDGER_JWT_SECRET must be at least 32 characters");
	if (!cfg->data_key_hex[0] &&
	    secret_file(cfg->data_dir, "data.key", 32, cfg->data_key_hex, sizeof(cfg->data_key_hex), e))
		return e->code;
	if (strlen(cfg->data_key_hex) != 64 || strspn(cfg->data_key_hex, "0123456789abcdefABCDEF") != 64)
		return err_set(e, ERR_INVALID, "CLINICLEDGER_DATA_KEY",
			       "CLINICLEDGER_DATA_KEY must be 64 hex characters (32 bytes)");
	return 0;
}
