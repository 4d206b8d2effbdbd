/*
 * main.c - clinicledger-mh-sandbox: options, start-up and shutdown of the
 * local MH (Ministerio de Hacienda) DTE web-service stand-in.
 *
 * Every option is a flag and an MH_SANDBOX_* environment variable (the flag
 * wins); `clinicledger-mh-sandbox --help` lists them, docs/mh-sandbox.md
 * explains them. Stops cleanly on SIGINT/SIGTERM (state saved).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "mod/dte/dte_keys.h"
#include "mod/dte/dte_schemas.h"
#include "sbx.h"

struct sbx_config sbx_cfg;

static const char usage[] =
    "usage: clinicledger-mh-sandbox [options]\n"
    "A local stand-in for the Ministerio de Hacienda DTE web services (docs/mh-sandbox.md).\n"
    "Each option also reads an environment variable (shown); a flag wins over it.\n"
    "  --listen HOST:PORT     MH_SANDBOX_LISTEN       default 127.0.0.1:8181 (port 0: any free port)\n"
    "  --port-file PATH       MH_SANDBOX_PORT_FILE    write the port there once listening\n"
    "  --ambiente 00|01       MH_SANDBOX_AMBIENTE     default 00 (prueba)\n"
    "  --state FILE           MH_SANDBOX_STATE        persist documents/events/emisores there (default: memory)\n"
    "  --certs DIR            MH_SANDBOX_CERTS        public keys per emisor: DIR/<NIT>.pem | <NIT>.crt (MH file)\n"
    "  --user NIT:PWD[:KEY]   MH_SANDBOX_USERS        an API user (repeatable; env: comma-separated);\n"
    "                                                 KEY = public key/certificate PEM, MH .crt or private key PEM\n"
    "  --token-ttl SECONDS    MH_SANDBOX_TOKEN_TTL    token lifetime, default 86400\n"
    "  --max-past-days N      MH_SANDBOX_MAX_PAST_DAYS normal transmission: fecEmi >= today - N, default 1\n"
    "  --calc-observe         MH_SANDBOX_CALC_OBSERVE=1 calculation errors as observations (002), not rejections\n"
    "  --verbose              MH_SANDBOX_VERBOSE=1    log every request\n"
    "Fault injection (also PUT /_sandbox/faults at run time):\n"
    "  --latency-ms N         MH_SANDBOX_LATENCY_MS\n"
    "  --hang-next N          MH_SANDBOX_HANG_NEXT    (-1: every request)\n"
    "  --hang-seconds N       MH_SANDBOX_HANG_SECONDS default 10\n"
    "  --hang-mode drop|answer MH_SANDBOX_HANG_MODE   default drop\n"
    "  --fail-next N          MH_SANDBOX_FAIL_NEXT    (-1: every request)\n"
    "  --fail-status CODE     MH_SANDBOX_FAIL_STATUS  default 503\n"
    "  --error-rate PCT       MH_SANDBOX_ERROR_RATE\n"
    "  --seed N               MH_SANDBOX_SEED\n"
    "  --reject-next N        MH_SANDBOX_REJECT_NEXT  (-1: every reception)\n"
    "  --reject-code CODE     MH_SANDBOX_REJECT_CODE  default 099\n"
    "  --fault-path PREFIX    MH_SANDBOX_FAULT_PATH   default: every MH endpoint\n";

static const struct fault_opt {
	const char *flag, *env, *knob;
} fault_opts[] = {
    {"--latency-ms", "MH_SANDBOX_LATENCY_MS", "latencyMs"},
    {"--hang-next", "MH_SANDBOX_HANG_NEXT", "hangNext"},
    {"--hang-seconds", "MH_SANDBOX_HANG_SECONDS", "hangSeconds"},
    {"--hang-mode", "MH_SANDBOX_HANG_MODE", "hangMode"},
    {"--fail-next", "MH_SANDBOX_FAIL_NEXT", "failNext"},
    {"--fail-status", "MH_SANDBOX_FAIL_STATUS", "failStatus"},
    {"--error-rate", "MH_SANDBOX_ERROR_RATE", "errorRatePct"},
    {"--seed", "MH_SANDBOX_SEED", "seed"},
    {"--reject-next", "MH_SANDBOX_REJECT_NEXT", "rejectNext"},
    {"--reject-code", "MH_SANDBOX_REJECT_CODE", "rejectCode"},
    {"--fault-path", "MH_SANDBOX_FAULT_PATH", "path"},
};

static int parse_listen(const char *v, struct err *e)
{
	const char *colon = strrchr(v, ':');
	char *end;
	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(sbx_cfg.host))
		return err_set(e, ERR_INVALID, "listen", "listen must be HOST:PORT");
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return err_set(e, ERR_INVALID, "listen", "listen port must be 0..65535");
	snprintf(sbx_cfg.host, sizeof(sbx_cfg.host), "%.*s", (int)(colon - v), v);
	sbx_cfg.port = (int)port;
	return 0;
}

static int parse_int(const char *name, const char *v, long lo, long hi, int *out, struct err *e)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < lo || n > hi)
		return err_set(e, ERR_INVALID, name, "%s must be an integer from %ld to %ld", name, lo, hi);
	*out = (int)n;
	return 0;
}

static bool truthy(const char *v)
{
	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
}

/* Public key from a file: public PEM, certificate, MH .crt, or a private
 * PEM key (its public half). Owned. */
static int load_key_file(const char *path, struct jws_key **out, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int rc;

	*out = NULL;
	if (!f)
		return err_set(e, ERR_INVALID, "user", "cannot open key file %s: %s", path, strerror(errno));
	buf = xmalloc(DTE_KEYS_FILE_MAX + 1);
	n = fread(buf, 1, DTE_KEYS_FILE_MAX, f);
	fclose(f);
	buf[n] = '\0';
	rc = dte_keys_public_from_text(buf, n, out, NULL, e);
	if (rc != 0 && strstr(buf, "PRIVATE KEY")) {
		struct jws_key *priv = NULL;
		struct err sub;
		if (jws_key_private_pem(buf, n, NULL, &priv, &sub) == 0) {
			char *pem = jws_key_public_pem_text(priv);
			rc = pem ? jws_key_public_pem(pem, strlen(pem), out, e) : -1;
			free(pem);
			jws_key_free(priv);
		}
	}
	mem_wipe(buf, n);
	free(buf);
	if (rc)
		return err_set(e, ERR_INVALID, "user", "key file %s holds no usable RSA key", path);
	return 0;
}

/* "NIT:PWD[:KEYFILE]" */
static int add_user(const char *spec, const char *source, struct err *e)
{
	char *copy = xstrdup(spec);
	char *pwd = strchr(copy, ':');
	struct jws_key *key = NULL;
	int rc = 0;

	if (!pwd) {
		rc = err_set(e, ERR_INVALID, "user", "user must be NIT:PASSWORD[:KEYFILE]");
		goto out;
	}
	*pwd++ = '\0';
	char *keyfile = strchr(pwd, ':');
	if (keyfile)
		*keyfile++ = '\0';
	if (!sbx_nit_valid(copy)) {
		rc = err_set(e, ERR_INVALID, "user", "user NIT must be 14 or 9 digits");
		goto out;
	}
	if (keyfile && *keyfile && (rc = load_key_file(keyfile, &key, e)))
		goto out;
	sbx_lock();
	sbx_emisor_put(copy, pwd, key, source);
	sbx_unlock();
out:
	mem_wipe(copy, strlen(spec));
	free(copy);
	return rc;
}

static int apply_env(struct err *e)
{
	const char *v;
	int rc;

	if ((v = getenv("MH_SANDBOX_LISTEN")) && (rc = parse_listen(v, e)))
		return rc;
	if ((v = getenv("MH_SANDBOX_PORT_FILE")))
		snprintf(sbx_cfg.port_file, sizeof(sbx_cfg.port_file), "%s", v);
	if ((v = getenv("MH_SANDBOX_AMBIENTE")))
		snprintf(sbx_cfg.ambiente, sizeof(sbx_cfg.ambiente), "%.2s", v);
	if ((v = getenv("MH_SANDBOX_STATE")))
		snprintf(sbx_cfg.state_path, sizeof(sbx_cfg.state_path), "%s", v);
	if ((v = getenv("MH_SANDBOX_CERTS")))
		snprintf(sbx_cfg.certs_dir, sizeof(sbx_cfg.certs_dir), "%s", v);
	if ((v = getenv("MH_SANDBOX_TOKEN_TTL")) &&
	    (rc = parse_int("MH_SANDBOX_TOKEN_TTL", v, 1, 30 * 86400, &sbx_cfg.token_ttl_s, e)))
		return rc;
	if ((v = getenv("MH_SANDBOX_MAX_PAST_DAYS")) &&
	    (rc = parse_int("MH_SANDBOX_MAX_PAST_DAYS", v, 0, 3650, &sbx_cfg.max_past_days, e)))
		return rc;
	if (truthy(getenv("MH_SANDBOX_CALC_OBSERVE")))
		sbx_cfg.calc_observe = true;
	if (truthy(getenv("MH_SANDBOX_VERBOSE")))
		sbx_cfg.verbose = true;
	for (size_t i = 0; i < sizeof(fault_opts) / sizeof(fault_opts[0]); i++)
		if ((v = getenv(fault_opts[i].env))) {
			struct err sub;
			if (sbx_faults_set(fault_opts[i].knob, v, &sub) != 0)
				return err_set(e, ERR_INVALID, fault_opts[i].env, "%s: %s", fault_opts[i].env,
					       sub.message);
		}
	return 0;
}

/* Flags that need a value; users are applied after the state is loaded. */
static int apply_flags(int argc, char **argv, bool users_pass, struct err *e)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;
		const char *v = has_value ? argv[i + 1] : NULL;
		int rc = 0;

		if (strcmp(a, "--calc-observe") == 0) {
			sbx_cfg.calc_observe = true;
			continue;
		}
		if (strcmp(a, "--verbose") == 0) {
			sbx_cfg.verbose = true;
			continue;
		}
		if (!has_value)
			return err_set(e, ERR_INVALID, a, "unknown option or missing value: %s (see --help)", a);
		i++;
		if (strcmp(a, "--user") == 0) {
			if (users_pass && (rc = add_user(v, "flag", e)))
				return rc;
			continue;
		}
		if (users_pass)
			continue;
		if (strcmp(a, "--listen") == 0)
			rc = parse_listen(v, e);
		else if (strcmp(a, "--port-file") == 0)
			snprintf(sbx_cfg.port_file, sizeof(sbx_cfg.port_file), "%s", v);
		else if (strcmp(a, "--ambiente") == 0)
			snprintf(sbx_cfg.ambiente, sizeof(sbx_cfg.ambiente), "%.2s", v);
		else if (strcmp(a, "--state") == 0)
			snprintf(sbx_cfg.state_path, sizeof(sbx_cfg.state_path), "%s", v);
		else if (strcmp(a, "--certs") == 0)
			snprintf(sbx_cfg.certs_dir, sizeof(sbx_cfg.certs_dir), "%s", v);
		else if (strcmp(a, "--token-ttl") == 0)
			rc = parse_int("--token-ttl", v, 1, 30 * 86400, &sbx_cfg.token_ttl_s, e);
		else if (strcmp(a, "--max-past-days") == 0)
			rc = parse_int("--max-past-days", v, 0, 3650, &sbx_cfg.max_past_days, e);
		else {
			size_t k;
			for (k = 0; k < sizeof(fault_opts) / sizeof(fault_opts[0]); k++)
				if (strcmp(a, fault_opts[k].flag) == 0)
					break;
			if (k == sizeof(fault_opts) / sizeof(fault_opts[0]))
				return err_set(e, ERR_INVALID, a, "unknown option %s (see --help)", a);
			rc = sbx_faults_set(fault_opts[k].knob, v, e);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int add_env_users(struct err *e)
{
	const char *v = getenv("MH_SANDBOX_USERS");
	if (!v || !*v)
		return 0;
	char *list = xstrdup(v), *save = NULL;
	int rc = 0;
	for (char *tok = strtok_r(list, ", \n", &save); tok; tok = strtok_r(NULL, ", \n", &save))
		if ((rc = add_user(tok, "env", e)))
			break;
	mem_wipe(list, strlen(v));
	free(list);
	return rc;
}

int main(int argc, char **argv)
{
	struct err e;
	sigset_t sigs;
	int sig = 0, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		}
	}
	snprintf(sbx_cfg.host, sizeof(sbx_cfg.host), "127.0.0.1");
	sbx_cfg.port = 8181;
	snprintf(sbx_cfg.ambiente, sizeof(sbx_cfg.ambiente), "00");
	sbx_cfg.token_ttl_s = 86400;
	sbx_cfg.max_past_days = 1;

	if (apply_env(&e) != 0 || apply_flags(argc, argv, false, &e) != 0)
		goto fail;
	if (strcmp(sbx_cfg.ambiente, "00") != 0 && strcmp(sbx_cfg.ambiente, "01") != 0) {
		err_set(&e, ERR_INVALID, "ambiente", "ambiente must be 00 or 01");
		goto fail;
	}
	if (sbx_state_load(&e) != 0 || add_env_users(&e) != 0 || apply_flags(argc, argv, true, &e) != 0)
		goto fail;
	/* every embedded schema must compile before we answer anything */
	for (size_t i = 0; i < dte_schema_files_count; i++) {
		const struct jschema *s;
		if (dte_schema_get(dte_schema_files[i].name, &s, &e) != 0)
			goto fail;
	}

	/* signals go to sigwait below, in no other thread */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (sbx_http_start(&e) != 0)
		goto fail;
	if (sbx_cfg.port_file[0]) {
		char tmp[600];
		snprintf(tmp, sizeof(tmp), "%s.tmp", sbx_cfg.port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", sbx_cfg.port) < 0 || fclose(f) != 0 ||
		    rename(tmp, sbx_cfg.port_file) != 0) {
			err_set(&e, ERR_INVALID, "port-file", "cannot write %s", sbx_cfg.port_file);
			sbx_http_stop();
			goto fail;
		}
	}
	printf("mh-sandbox: listening on http://%s:%d (ambiente %s, state %s)\n", sbx_cfg.host, sbx_cfg.port,
	       sbx_cfg.ambiente, sbx_cfg.state_path[0] ? sbx_cfg.state_path : "in memory");
	fflush(stdout);

	while (sigwait(&sigs, &sig) != 0)
		;
	log_info("msg=\"stopping\" signal=%d", sig);
	sbx_http_stop();
	sbx_lock();
	sbx_save();
	sbx_state_free();
	sbx_unlock();
	rc = 0;
	return rc;
fail:
	fprintf(stderr, "mh-sandbox: %s\n", e.message);
	sbx_lock();
	sbx_state_free();
	sbx_unlock();
	return 2;
}
