/*
 * fiscal.h - the fiscal-engine contract (../shared/specs/fiscal-engine-
 * integration.md): facturas requested by other systems' servers, the fiscal
 * receptores they send, and the outgoing webhooks that tell them what became
 * of each DTE. docs/fiscal.md is the one-page description.
 *
 * FACTURAS (POST /api/facturas). One request = one billing document (source
 * "factura", billing.h) and its DTE (dte.h: 01, or 03 when the receptor has
 * an NRC; "tipoDte" overrides), created in ONE write transaction together
 * with the receptor upsert, the DTE's submission job and the mapping row
 * fiscal_facturas(tenant, referenciaExterna -> document). The factura's id
 * IS the billing document's id. referenciaExterna is idempotent per tenant:
 * the same reference with the same content answers the existing factura
 * (200, nothing written), with other content ERR_CONFLICT; never a second
 * DTE (UNIQUE (tenant_id, referencia_externa)). "Same content" compares a
 * canonical form of the validated input (fiscal_factura_fingerprint), so
 * 35 and "35.00" are the same price.
 *
 * RECEPTORES. A fiscal receptor is a buyer's fiscal identity: CAT-022
 * tipoDocumento ("13" DUI, "36" NIT, "02" carnet de residente, "03"
 * pasaporte, "37" otro) and numDocumento (DUI/NIT check digits verified,
 * stored canonical), nrc, nombre, activity, address, phone, e-mail, and
 * optionally the patient it belongs to. numDocumento, nrc, telefono and
 * correo are encrypted at rest (field_encrypt, associated data = the
 * receptor's id); lookups use a blind index of "<tipoDocumento>:<canonical>".
 * Upsert by (tipoDocumento, numDocumento) per tenant: tipoDocumento,
 * numDocumento and nombre are replaced, optional members merged (absent =
 * kept, null = cleared). A factura's DTE carries the receptor exactly as
 * its request gave it; the registry keeps the merged record.
 *
 * WEBHOOKS. A tenant registers endpoints {url, events, description}; the
 * secret ("whsec_...") is shown once at creation and stored encrypted.
 * Every DTE state change reported through fiscal_on_dte_state stores one
 * event and enqueues one "webhook.deliver" job per active endpoint that
 * subscribed to the event, in the caller's transaction. Each job is ONE
 * delivery attempt (POST with src/net/httpc.h, one try): its outcome is
 * logged in webhook_deliveries, and a retryable failure (network error,
 * timeout, 5xx, 408, 429) enqueues the next attempt's job with backoff in
 * the same transaction as the log row, so the log knows the exact next
 * retry. Other 4xx, or the last attempt, -> "dead". Signature:
 *   X-ClinicLedger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 * plus X-ClinicLedger-Event (event type) and X-ClinicLedger-Delivery (one id
 * per event and endpoint, the same on every retry: receivers de-duplicate
 * with it). Delivery is at least once.
 *
 * TARGET POLICY. Endpoint URLs are http(s) without credentials; hosts that
 * are or resolve to loopback, private, link-local, CGNAT, multicast,
 * unspecified or otherwise reserved addresses are refused (at registration
 * for literal addresses and "localhost", at every delivery after
 * resolution) unless CLINICLEDGER_WEBHOOKS_ALLOW_PRIVATE=1 (tests, on-site
 * installs).
 */
#ifndef CL_MOD_FISCAL_H
#define CL_MOD_FISCAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "mod/audit/audit.h"

struct app;
struct app_keys;
struct bill_document;
struct dte_record;
struct job;

#define FISCAL_REF_MAX		  100 /* bytes of a referenciaExterna */
#define FISCAL_MAX_ITEMS	  200 /* items per factura */
#define FISCAL_EVENT_DTE	  "dte.processed"
#define FISCAL_JOB_WEBHOOK	  "webhook.deliver"
#define FISCAL_WEBHOOK_URL_MAX	  2000 /* bytes of an endpoint URL */
#define FISCAL_WEBHOOK_MAX	  20   /* active endpoints per tenant */
#define FISCAL_WEBHOOK_ATTEMPTS	  10   /* delivery attempts before "dead" */
#define FISCAL_WEBHOOK_TIMEOUT_MS 10000
#define FISCAL_SECRET_PREFIX	  "whsec_"

/* ---- the hook the DTE flow calls ---------------------------------------- */

/* A state listener of the DTE flow (dte.h STATE LISTENERS, its static
 * table in dte.c): called inside the open write transaction that creates a
 * DTE row or changes its state, with the row as just written. Keeps the
 * factura's projection (estado, codigoGeneracion, sello, ... in
 * fiscal_facturas) when d is its document's current DTE (not replaced),
 * and, for every active endpoint of the tenant subscribed to
 * "dte.processed", stores the event and enqueues its first delivery job.
 * The DTE flow runs jobs_notify(app->jobs) after its commit. Database
 * errors as db.h (the caller rolls back: no state change without its
 * webhooks). */
int fiscal_on_dte_state(struct db_conn *c, const struct actor *who, const struct dte_record *d, struct err *e);

/* ---- receptores --------------------------------------------------------- */

struct fiscal_address {
	const char *departamento; /* CAT-012 "00".."14" */
	const char *municipio;	  /* CAT-013, 2 digits */
	const char *complemento;  /* 1..200 characters */
};

/* A receptor as stored and shown. Strings in the arena; NULL = none. */
struct fiscal_receptor {
	char id[UUID_LEN + 1];
	const char *tipo_documento; /* CAT-022 code */
	const char *num_documento;  /* canonical: DUI/NIT digits only, others trimmed */
	const char *nrc;	    /* digits only */
	const char *nombre;
	const char *cod_actividad; /* CAT-019, 2..6 digits */
	const char *desc_actividad;
	bool has_direccion;
	struct fiscal_address direccion;
	const char *telefono;
	const char *correo;
	char patient_id[UUID_LEN + 1]; /* "" when none */
	char created_at[TIME_ISO_LEN + 1];
	char updated_at[TIME_ISO_LEN + 1];
};

/* Optional members of a receptor input, for struct fiscal_receptor_input.nulls. */
enum fiscal_receptor_member {
	FISCAL_RM_NRC = 1u << 0,
	FISCAL_RM_ACTIVIDAD = 1u << 1, /* codActividad and descActividad */
	FISCAL_RM_DIRECCION = 1u << 2,
	FISCAL_RM_TELEFONO = 1u << 3,
	FISCAL_RM_CORREO = 1u << 4,
	FISCAL_RM_PATIENT = 1u << 5,
};

/* Input of an upsert; strings borrowed, NULL = absent. On an update an
 * absent optional member keeps its stored value; one sent as null (its bit
 * in `nulls`) is cleared. */
struct fiscal_receptor_input {
	const char *tipo_documento; /* required */
	const char *num_documento;  /* required */
	const char *nrc;
	const char *nombre; /* required */
	const char *cod_actividad;
	const char *desc_actividad;
	const struct fiscal_address *direccion;
	const char *telefono;
	const char *correo;
	const char *patient_id;
	unsigned nulls;		  /* enum fiscal_receptor_member bits: sent as null */
	const char *field_prefix; /* prefix of field names in errors ("" or "receptor.") */
};

/* Validate and normalise in place into *out (strings in a): CAT-022 code;
 * DUI ("13") and NIT ("36") check digits (doc_normalize) and canonical
 * digits; "02"/"03"/"37" 3..20 characters; NRC 1..8 digits (hyphen
 * allowed on input); nombre 1..250 characters; codActividad 2..6 digits
 * with descActividad; departamento / municipio codes (patients.h rules);
 * telefono 8..30 characters; correo an e-mail of <= 100 bytes.
 * ERR_INVALID naming "<prefix><field>". Pure (no database). */
int fiscal_receptor_check(const struct fiscal_receptor_input *in, struct arena *a, struct fiscal_receptor *out,
			  struct err *e);

/* Upsert by document inside the caller's write transaction: the tenant's
 * receptor with the same tipoDocumento and numDocumento is updated (merge,
 * see RECEPTORES; audit
 * "receptor.update", *created false) or a new one inserted (audit
 * "receptor.create", *created true). A patient_id must be the tenant's
 * (ERR_INVALID naming "<prefix>patientId"). keys: app->keys. *out in a. */
int fiscal_receptor_upsert_conn(struct db_conn *c, const struct app_keys *keys, const struct actor *who,
				const struct fiscal_receptor_input *in, struct arena *a, struct fiscal_receptor *out,
				bool *created, struct err *e);
/* The same in its own transaction. */
int fiscal_receptor_upsert(struct app *app, const struct actor *who, const struct fiscal_receptor_input *in,
			   struct arena *a, struct fiscal_receptor *out, bool *created, struct err *e);
/* One receptor of the tenant; ERR_NOT_FOUND. */
int fiscal_receptor_get(struct app *app, const char *tenant_id, const char *id, struct arena *a,
			struct fiscal_receptor *out, struct err *e);
/* A page of the tenant's receptores, newest first; num_documento (NULL =
 * all) finds by document (any type, through the blind indexes of the
 * candidate canonical forms). *out arena array of *n; *total all matches. */
int fiscal_receptor_list(struct app *app, const char *tenant_id, const char *num_documento, int page, int limit,
			 struct arena *a, struct fiscal_receptor **out, size_t *n, int64_t *total, struct err *e);
/* The receptor linked to a patient (the most recently updated one when
 * several are), inside the caller's connection c (any transaction):
 * *found false when the patient has none. For the DTE flow: a patient's
 * registered fiscal receptor is the buyer of its documents. keys:
 * app->keys. *out in a. */
int fiscal_receptor_for_patient(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
				const char *patient_id, struct arena *a, struct fiscal_receptor *out, bool *found,
				struct err *e);
/* {id, tipoDocumento, numDocumento, nrc, nombre, codActividad,
 * descActividad, direccion, telefono, correo, patientId, createdAt,
 * updatedAt}. Owned. */
json_t *fiscal_receptor_json(const struct fiscal_receptor *r);

/* ---- facturas ----------------------------------------------------------- */

enum fiscal_item_kind { FISCAL_ITEM_SERVICIO, FISCAL_ITEM_BIEN };
enum fiscal_tax { FISCAL_GRAVADO, FISCAL_EXENTO, FISCAL_NO_SUJETO };

/* One item of the request, validated. */
struct fiscal_item {
	const char *descripcion;
	const char *codigo;	/* NULL */
	int64_t cantidad_milli; /* QTY_SCALE, > 0 */
	int64_t precio_micro;	/* >= 0, micro units (BILL_IN_SCALE 6) of the tenant's currency */
	enum fiscal_item_kind tipo;
	enum fiscal_tax tax;
};

/* A POST /api/facturas request after shape checks. */
struct fiscal_factura_input {
	struct fiscal_receptor_input receptor;
	const struct fiscal_item *items;
	size_t nitems;			/* 1..FISCAL_MAX_ITEMS */
	const char *referencia_externa; /* required, 1..FISCAL_REF_MAX bytes, printable */
	const char *tipo_dte;		/* "01" | "03" | NULL (automatic) */
};

/* A factura as shown. Strings in the arena. */
struct fiscal_factura {
	char id[UUID_LEN + 1]; /* = the billing document id */
	const char *referencia_externa;
	char receptor_id[UUID_LEN + 1];
	const char *tipo_dte;
	const char *estado; /* the DTE's state (its flow's name) */
	const char *codigo_generacion;
	const char *numero_control;
	const char *sello;
	const char *fh_procesamiento;
	const char *codigo_msg;
	const char *descripcion_msg;
	const char *observaciones_json; /* JSON array text, or NULL */
	const char *updated_estado_at;
	char created_at[TIME_ISO_LEN + 1];
	struct bill_document *doc;	  /* with lines */
	struct fiscal_receptor *receptor; /* NULL when it was deleted */
};

/* SHA-256 hex (out[65]) of the canonical form of a validated request
 * (receptor after normalisation, items in exact units, tipoDte). Pure. */
void fiscal_factura_fingerprint(const struct fiscal_factura_input *in, const struct fiscal_receptor *receptor,
				char out[65]);

/* Create (or find) the factura of in->referencia_externa (see FACTURAS).
 * The caller has checked dte:submit. *created tells whether it was made
 * now. *out in a. */
int fiscal_factura_create(struct app *app, const struct actor *who, const struct fiscal_factura_input *in,
			  struct arena *a, struct fiscal_factura *out, bool *created, struct err *e);
/* By id (the document id) / by reference; ERR_NOT_FOUND. */
int fiscal_factura_get(struct app *app, const char *tenant_id, const char *id, struct arena *a,
		       struct fiscal_factura *out, struct err *e);
int fiscal_factura_get_by_ref(struct app *app, const char *tenant_id, const char *ref, struct arena *a,
			      struct fiscal_factura *out, struct err *e);
/* A page, newest first; ref / estado (NULL = any) filter. */
int fiscal_factura_list(struct app *app, const char *tenant_id, const char *ref, const char *estado, int page,
			int limit, struct arena *a, struct fiscal_factura **out, size_t *n, int64_t *total,
			struct err *e);
/* The contract's JSON (camelCase; amounts decimal strings). public_url:
 * fiscal_public_url(). Owned. */
json_t *fiscal_factura_json(const struct fiscal_factura *f, const char *public_url);

/* ---- webhook endpoints -------------------------------------------------- */

struct fiscal_endpoint {
	char id[UUID_LEN + 1];
	const char *url;
	const char *description;
	const char **events; /* arena array */
	size_t nevents;
	bool active;
	const char *secret; /* only right after creation (shown once); NULL otherwise */
	char created_at[TIME_ISO_LEN + 1];
	char updated_at[TIME_ISO_LEN + 1];
};

/* The events an endpoint may subscribe to; NULL-terminated, static. */
extern const char *const fiscal_webhook_events[];

/* Check an endpoint URL against the TARGET POLICY without resolving names
 * (literal addresses and "localhost" only). allow_private: the override.
 * ERR_INVALID naming field. Pure. */
int fiscal_webhook_url_check(const char *url, bool allow_private, const char *field, struct err *e);
/* Resolve the URL's host and refuse it when any address is not public
 * (unless allow_private). ERR_INVALID (not deliverable). */
int fiscal_webhook_url_resolve_check(const char *url, bool allow_private, struct err *e);
/* Whether an IPv4/IPv6 address text is public (not loopback, private,
 * link-local, CGNAT, multicast, unspecified, documentation, ...). Pure. */
bool fiscal_ip_public(const char *addr);

/* The signature header value for body at unix time t into out (>= 100
 * bytes): "t=<t>,v1=<hex>". Pure. */
void fiscal_webhook_sign(const char *secret, int64_t t, const char *body, size_t body_len, char *out, size_t outlen);
/* Delay before attempt n+1 after failed attempt n (1-based): equal jitter
 * in [d/2, d], d = min(cap_s, base_s x 4^(n-1)). */
int64_t fiscal_webhook_backoff_s(int attempt, int64_t base_s, int64_t cap_s);
/* Whether an HTTP status (0 = no response) is worth another attempt:
 * network errors, 408, 429, 5xx. */
bool fiscal_webhook_retryable(long status);

/* Register an endpoint for who->tenant_id (audit "webhook_endpoint.create");
 * out->secret holds the new secret. url checked with the TARGET POLICY;
 * events: 1..8 of fiscal_webhook_events. More than FISCAL_WEBHOOK_MAX
 * active endpoints -> ERR_CONFLICT. */
int fiscal_endpoint_create(struct app *app, const struct actor *who, const char *url, const char *const *events,
			   size_t nevents, const char *description, struct arena *a, struct fiscal_endpoint *out,
			   struct err *e);
/* The tenant's active endpoints, oldest first (secrets never shown). */
int fiscal_endpoint_list(struct app *app, const char *tenant_id, struct arena *a, struct fiscal_endpoint **out,
			 size_t *n, struct err *e);
/* Deactivate (audit "webhook_endpoint.delete"): no more deliveries; its
 * log stays readable. Unknown / another tenant's / already deleted ->
 * ERR_NOT_FOUND. */
int fiscal_endpoint_delete(struct app *app, const struct actor *who, const char *id, struct err *e);
json_t *fiscal_endpoint_json(const struct fiscal_endpoint *ep); /* owned */

/* One attempt in the delivery log. */
struct fiscal_delivery {
	char id[UUID_LEN + 1];
	char delivery_id[UUID_LEN + 1]; /* X-ClinicLedger-Delivery */
	char event_id[UUID_LEN + 1];
	const char *event_type;
	int attempt;
	long status_code; /* 0 when no response */
	int64_t duration_ms;
	const char *error;		      /* NULL on success */
	const char *outcome;		      /* "delivered" | "retrying" | "dead" */
	char next_retry_at[TIME_ISO_LEN + 1]; /* "" unless retrying */
	char created_at[TIME_ISO_LEN + 1];
};

/* A page of an endpoint's log (even a deleted endpoint's), newest first.
 * Unknown / another tenant's endpoint -> ERR_NOT_FOUND. */
int fiscal_delivery_list(struct app *app, const char *tenant_id, const char *endpoint_id, int page, int limit,
			 struct arena *a, struct fiscal_delivery **out, size_t *n, int64_t *total, struct err *e);
json_t *fiscal_delivery_json(const struct fiscal_delivery *d); /* owned */

/* The job "webhook.deliver" (job_types.c): one attempt of one delivery. */
int fiscal_webhook_deliver_job(struct app *app, const struct job *job, struct err *e);

/* ---- configuration ------------------------------------------------------ */

/* Base URL for links handed to clients (pdfUrl): CLINICLEDGER_PUBLIC_URL
 * without a trailing slash, default "http://<listen host>:<port>". Into
 * out (>= 512 bytes). */
void fiscal_public_url(const struct app *app, char *out, size_t outlen);
/* CLINICLEDGER_WEBHOOKS_ALLOW_PRIVATE=1. */
bool fiscal_webhooks_allow_private(const struct app *app);
/* CLINICLEDGER_WEBHOOKS_RETRY_BASE_S (default 5) and the cap (6 hours). */
int64_t fiscal_webhooks_retry_base_s(const struct app *app);

#endif
