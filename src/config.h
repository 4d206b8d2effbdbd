/*
 * config.h - configuration from environment variables, with defaults.
 *
 * Every variable is documented in README.md ("Configuration"). config_load
 * validates them all up front so a typo stops the server at start-up, not
 * in the middle of a request.
 */
#ifndef CL_CONFIG_H
#define CL_CONFIG_H

#include <stddef.h>

#include "core/err.h"

struct config {
	char listen_host[64];     /* CLINICLEDGER_LISTEN host part; default 127.0.0.1 */
	int listen_port;          /* CLINICLEDGER_LISTEN port part; default 8080 */
	char db_url[1024];        /* CLINICLEDGER_DB; default ./data/clinicledger.db */
	char data_dir[512];       /* CLINICLEDGER_DATA_DIR; default ./data (generated keys live here) */
	char jwt_secret[256];     /* CLINICLEDGER_JWT_SECRET; default: generated into data_dir/jwt.secret */
	char data_key_hex[129];   /* CLINICLEDGER_DATA_KEY (64 hex chars); default: generated into data_dir/data.key */
	char jwt_issuer[128];     /* CLINICLEDGER_JWT_ISSUER; default "clinicledger" */
	char jwt_audience[128];   /* CLINICLEDGER_JWT_AUDIENCE; default "clinicledger-api" */
	int access_ttl_s;         /* CLINICLEDGER_ACCESS_TTL; default 900 */
	int refresh_ttl_s;        /* CLINICLEDGER_REFRESH_TTL; default 1209600 (14 days) */
	int http_threads;         /* CLINICLEDGER_HTTP_THREADS; default 2 x cores, 4..64 */
	int http_max_connections; /* CLINICLEDGER_MAX_CONNECTIONS; default 1024 */
	int http_timeout_s;       /* CLINICLEDGER_HTTP_TIMEOUT; idle connection timeout, default 30 */
	size_t body_cap;          /* CLINICLEDGER_MAX_BODY; default 1 MiB */
	int db_pool;              /* CLINICLEDGER_DB_POOL; default 8 */
	int job_workers;          /* CLINICLEDGER_JOB_WORKERS; default 2 (0 disables workers) */
	int rate_per_min;         /* CLINICLEDGER_RATE_LIMIT: requests/minute per caller; 0 disables; default 6000 */
	int rate_burst;           /* CLINICLEDGER_RATE_BURST; default 200 */
	int login_max_failures;   /* CLINICLEDGER_LOGIN_MAX_FAILURES; default 5 */
	int login_lock_s;         /* CLINICLEDGER_LOGIN_LOCK_SECONDS; default 900 */
	char tls_cert[512];       /* CLINICLEDGER_TLS_CERT: PEM path; TLS on when both are set */
	char tls_key[512];        /* CLINICLEDGER_TLS_KEY */
	char log_level[16];       /* CLINICLEDGER_LOG_LEVEL; default info */
	char bootstrap_email[256];    /* CLINICLEDGER_BOOTSTRAP_EMAIL; default admin@demo.clinic */
	char bootstrap_password[256]; /* CLINICLEDGER_BOOTSTRAP_PASSWORD; default: generated, printed once */
	char bootstrap_tenant[128];   /* CLINICLEDGER_BOOTSTRAP_TENANT; default "Demo Clinic" */

	/* Stripe (clinic-billing-backend.md §2) */
	char stripe_secret_key[256];      /* STRIPE_SECRET_KEY; empty: Stripe endpoints answer 503 */
	char stripe_publishable_key[256]; /* STRIPE_PUBLISHABLE_KEY, handed to clients */
	char stripe_webhook_secret[256];  /* STRIPE_WEBHOOK_SECRET ("whsec_..."), verifies Stripe-Signature */
	char stripe_api_base[512];        /* STRIPE_API_BASE; default https://api.stripe.com */
	int stripe_timeout_ms;            /* STRIPE_TIMEOUT_MS; default 15000 */
	/* the billing-service payment gateway's webhooks */
	char gateway_webhook_secret[256]; /* CLINICLEDGER_GATEWAY_WEBHOOK_SECRET; empty: webhooks refused (503) */
	/* the fiscal-engine contract's outgoing webhooks and links */
	char public_url[512];          /* CLINICLEDGER_PUBLIC_URL: base of links we hand out (pdfUrl); default http://<listen> */
	int webhooks_allow_private;    /* CLINICLEDGER_WEBHOOKS_ALLOW_PRIVATE=1: allow loopback/private targets (tests) */
	int webhooks_retry_base_s;     /* CLINICLEDGER_WEBHOOKS_RETRY_BASE_S; default 5 */

	/* El Salvador DTE (clinic-billing-backend.md §3; docs/dte-flow.md) */
	char dte_mh_endpoint[512];    /* DTE_MH_ENDPOINT; default https://apitest.dtes.mh.gob.sv (MH's test host) */
	char dte_mh_user[64];         /* DTE_MH_USER: MH API user; empty = the tenant emisor's NIT */
	char dte_mh_password[128];    /* DTE_MH_PASSWORD: MH API password (secret) */
	char dte_ambiente[3];         /* DTE_AMBIENTE "00" prueba (default) | "01" producción */
	char dte_private_key[512];    /* DTE_PRIVATE_KEY: PEM private key file */
	char dte_certificate[512];    /* DTE_CERTIFICATE: PEM certificate / public key, or MH's <NIT>.crt */
	char dte_cert_password[256];  /* DTE_CERT_PASSWORD: key passphrase / MH certificate password (secret) */
	char dte_nit_emisor[16];      /* DTE_NIT_EMISOR: the NIT the key belongs to; tenants of another NIT cannot sign */
	char dte_mh_ca_file[512];     /* DTE_MH_CA_FILE: CA bundle for the MH host (optional) */
	int dte_mh_timeout_ms;        /* DTE_MH_TIMEOUT_MS: per MH call; default 8000 (MH's 8 s) */
	int dte_mh_connect_timeout_ms;/* DTE_MH_CONNECT_TIMEOUT_MS; default 5000 */
};

/* Fill cfg from the environment; bad values -> ERR_INVALID naming the variable. */
int config_load(struct config *cfg, struct err *e);

/* Resolve secrets (JWT secret, data key): from the environment, else read
 * or create (0600) data_dir/jwt.secret and data_dir/data.key. */
int config_resolve_secrets(struct config *cfg, struct err *e);

#endif
