/*
 * fiscal_repo.h - the fiscal module's private interface: its repository
 * (fiscal_repo.c, all SQL of migration 0011) for fiscal.c and
 * webhooks_out.c. Not for other modules: they use fiscal.h.
 *
 * Every function works on a connection the caller holds (an open write
 * transaction for the writers) and filters by tenant_id. Encrypted columns
 * are encrypted and decrypted here with the keys passed in; decrypted text
 * is copied into the caller's arena and the temporary plaintext wiped.
 */
#ifndef CL_MOD_FISCAL_REPO_H
#define CL_MOD_FISCAL_REPO_H

#include "app.h"
#include "mod/dte/dte.h"
#include "mod/fiscal/fiscal.h"

/* Blind index (hex, out[65]) of a receptor document: "receptor:<tipo>:<canonical>". */
void fiscal__receptor_bidx(const struct app_keys *keys, const char *tipo, const char *canonical, char out[65]);

/* ---- receptores ---- */

/* The tenant's receptor with this document blind index; *found false when none. */
int fiscal__receptor_find(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const char *bidx,
			  struct arena *a, struct fiscal_receptor *out, bool *found, struct err *e);
int fiscal__receptor_insert(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
			    const struct fiscal_receptor *r, const char *bidx, const char *created_by, struct err *e);
/* Rewrite every mutable column (matched by tenant and id); version + 1. */
int fiscal__receptor_update(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
			    const struct fiscal_receptor *r, struct err *e);
int fiscal__receptor_get(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const char *id,
			 struct arena *a, struct fiscal_receptor *out, struct err *e);
/* The newest-updated receptor linked to patient_id; *found false when none. */
int fiscal__receptor_by_patient(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
				const char *patient_id, struct arena *a, struct fiscal_receptor *out, bool *found,
				struct err *e);
/* bidx[0..nbidx) NULL/0 = every receptor. */
int fiscal__receptor_list(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
			  const char *const *bidx, size_t nbidx, int64_t offset, int limit, struct arena *a,
			  struct fiscal_receptor **out, size_t *n, int64_t *total, struct err *e);

/* ---- facturas ---- */

/* The stored row of a factura (without document and receptor). */
struct fiscal__factura_row {
	char document_id[UUID_LEN + 1];
	const char *referencia_externa;
	const char *fingerprint;
	char receptor_id[UUID_LEN + 1];
	const char *tipo_dte;
	const char *codigo_generacion;
	const char *numero_control;
	const char *estado;
	const char *sello;
	const char *fh_procesamiento;
	const char *codigo_msg;
	const char *descripcion_msg;
	const char *observaciones_json;
	const char *estado_at;
	const char *created_at;
};

int fiscal__factura_insert(struct db_conn *c, const char *tenant_id, const struct fiscal__factura_row *r,
			   const char *created_by, struct err *e);
/* by_ref: key is a referenciaExterna, else a document id. ERR_NOT_FOUND. */
int fiscal__factura_get(struct db_conn *c, const char *tenant_id, const char *key, bool by_ref, struct arena *a,
			struct fiscal__factura_row *out, struct err *e);
int fiscal__factura_list(struct db_conn *c, const char *tenant_id, const char *ref, const char *estado, int64_t offset,
			 int limit, struct arena *a, struct fiscal__factura_row **out, size_t *n, int64_t *total,
			 struct err *e);
/* The projection of a DTE's state (estado: its status name); *affected 0
 * when its document is no factura. */
int fiscal__factura_set_state(struct db_conn *c, const char *tenant_id, const struct dte_record *d, const char *estado,
			      const char *now, int64_t *affected, struct err *e);

/* ---- webhook endpoints, events, deliveries ---- */

int fiscal__endpoint_insert(struct db_conn *c, const struct app_keys *keys, const char *tenant_id,
			    const struct fiscal_endpoint *ep, const char *events_json, const char *secret,
			    const char *created_by, struct err *e);
int fiscal__endpoint_count_active(struct db_conn *c, const char *tenant_id, int64_t *n, struct err *e);
/* Active endpoints of the tenant, oldest first. */
int fiscal__endpoint_list(struct db_conn *c, const char *tenant_id, struct arena *a, struct fiscal_endpoint **out,
			  size_t *n, struct err *e);
/* One endpoint, deleted ones included. with_secret: decrypt the secret into
 * out->secret. ERR_NOT_FOUND. */
int fiscal__endpoint_get(struct db_conn *c, const struct app_keys *keys, const char *tenant_id, const char *id,
			 bool with_secret, struct arena *a, struct fiscal_endpoint *out, struct err *e);
/* active = 0, deleted_at = now; *affected 0 when unknown or already deleted. */
int fiscal__endpoint_deactivate(struct db_conn *c, const char *tenant_id, const char *id, const char *now,
				int64_t *affected, struct err *e);

int fiscal__event_insert(struct db_conn *c, const char *tenant_id, const char *id, const char *type,
			 const char *payload, const char *now, struct err *e);
/* The payload text (arena) of an event; ERR_NOT_FOUND. */
int fiscal__event_get(struct db_conn *c, const char *tenant_id, const char *id, struct arena *a, const char **type,
		      const char **payload, struct err *e);

/* One log row; d->id, delivery_id, event_id, ... set by the caller. */
int fiscal__delivery_insert(struct db_conn *c, const char *tenant_id, const char *endpoint_id,
			    const struct fiscal_delivery *d, const char *job_id, struct err *e);
/* Whether attempt `attempt` of delivery_id is logged already. */
int fiscal__delivery_logged(struct db_conn *c, const char *tenant_id, const char *delivery_id, int attempt,
			    bool *logged, struct err *e);
int fiscal__delivery_list(struct db_conn *c, const char *tenant_id, const char *endpoint_id, int64_t offset, int limit,
			  struct arena *a, struct fiscal_delivery **out, size_t *n, int64_t *total, struct err *e);

/* ---- fiscal.c helpers shared with facturas.c ---- */

/* Characters of a UTF-8 string (0 for NULL). */
size_t fiscal__utf8_chars(const char *s);
/* Whether s contains a control character (< 0x20 or DEL). */
bool fiscal__has_control(const char *s);

/* ---- webhooks_out.c, for the hook ---- */

/* Enqueue attempt `attempt` of a delivery (job "webhook.deliver", dedupe
 * key "webhook:<delivery_id>:<attempt>") in the caller's write transaction. */
int fiscal__webhook_enqueue(struct db_conn *c, const char *tenant_id, const char *delivery_id, const char *endpoint_id,
			    const char *event_id, int attempt, int64_t delay_s, struct err *e);

#endif
