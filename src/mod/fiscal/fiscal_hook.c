/*
 * fiscal_hook.c - fiscal_on_dte_state, the DTE flow's state listener
 * (dte.h STATE LISTENERS): inside the transaction that writes a DTE's new
 * state it updates the factura's projection and stores the "dte.processed"
 * event with one first delivery job per subscribed endpoint
 * (webhooks_out.c runs them). Kept apart from the rest of the module so
 * that only the DTE flow pulls the DTE symbols in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "mod/billing/billing.h"
#include "mod/dte/dte.h"
#include "mod/fiscal/fiscal.h"
#include "mod/fiscal/fiscal_repo.h"

static bool subscribed(const struct fiscal_endpoint *ep, const char *event)
{
	for (size_t i = 0; i < ep->nevents; i++)
		if (strcmp(ep->events[i], event) == 0)
			return true;
	return false;
}

/* The caller's reference of a document: the factura's referenciaExterna,
 * else the document's own external reference, else NULL. In a. */
static int reference_of(struct db_conn *c, const char *tenant_id, const char *doc_id, struct arena *a, const char **ref,
			struct err *e)
{
	struct fiscal__factura_row row;
	struct bill_document *doc = NULL;
	struct err scratch;
	int rc;

	*ref = NULL;
	err_clear(&scratch);
	rc = fiscal__factura_get(c, tenant_id, doc_id, false, a, &row, &scratch);
	if (rc == 0) {
		*ref = row.referencia_externa;
		return 0;
	}
	if (rc != ERR_NOT_FOUND) {
		*e = scratch;
		return rc;
	}
	err_clear(&scratch);
	rc = billing_get_conn(c, tenant_id, doc_id, 0, a, &doc, &scratch);
	if (rc == 0) {
		*ref = doc->external_ref;
		return 0;
	}
	if (rc != ERR_NOT_FOUND) {
		*e = scratch;
		return rc;
	}
	return 0;
}

static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

static json_t *event_payload(const char *event_id, const char *now, const char *ref, const struct dte_record *d)
{
	json_t *obs = d->observaciones ? json_loads(d->observaciones, 0, NULL) : NULL;
	json_t *o =
	    json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s,s:s?,s:s?,s:s?,s:s?}", "eventId", event_id,
		      "event", FISCAL_EVENT_DTE, "occurredAt", now, "referenciaExterna", ref, "documentId",
		      d->document_id, "codigoGeneracion", d->codigo_generacion, "numeroControl", nz(d->numero_control),
		      "tipoDte", nz(d->tipo_dte), "ambiente", nz(d->ambiente), "fecEmi", nz(d->fec_emi), "estado",
		      dte_status_name(d->status), "sello", nz(d->sello), "fhProcesamiento", nz(d->fh_procesamiento),
		      "codigoMsg", d->codigo_msg, "descripcionMsg", d->descripcion_msg);

	if (!json_is_array(obs)) {
		json_decref(obs);
		obs = json_array();
	}
	json_object_set_new(o, "observaciones", obs);
	json_object_set_new(o, "reemplazadoPor", nz(d->replaced_by) ? json_string(d->replaced_by) : json_null());
	return o;
}

static int webhooks_emit(struct db_conn *c, const char *tenant_id, const struct dte_record *d, const char *now,
			 struct err *e)
{
	struct fiscal_endpoint *eps = NULL;
	struct arena *a = arena_new(0);
	char event_id[UUID_LEN + 1];
	const char *ref = NULL;
	json_t *payload = NULL;
	char *text = NULL;
	size_t n = 0, targets = 0;
	int rc;

	rc = fiscal__endpoint_list(c, tenant_id, a, &eps, &n, e);
	for (size_t i = 0; rc == 0 && i < n; i++)
		targets += subscribed(&eps[i], FISCAL_EVENT_DTE);
	if (rc || targets == 0)
		goto out;
	rc = reference_of(c, tenant_id, d->document_id, a, &ref, e);
	if (rc)
		goto out;
	uuid_v4(event_id);
	payload = event_payload(event_id, now, ref, d);
	text = json_dumps(payload, JSON_COMPACT);
	rc = fiscal__event_insert(c, tenant_id, event_id, FISCAL_EVENT_DTE, text, now, e);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char delivery_id[UUID_LEN + 1];

		if (!subscribed(&eps[i], FISCAL_EVENT_DTE))
			continue;
		uuid_v4(delivery_id);
		rc = fiscal__webhook_enqueue(c, tenant_id, delivery_id, eps[i].id, event_id, 1, 0, e);
	}
out:
	free(text);
	json_decref(payload);
	arena_free(a);
	return rc;
}

int fiscal_on_dte_state(struct db_conn *c, const struct actor *who, const struct dte_record *d, struct err *e)
{
	const char *tenant = d->tenant_id[0] ? d->tenant_id : who->tenant_id;
	char now[TIME_ISO_LEN + 1];
	int64_t affected = 0;
	int rc;

	if (!tenant || !d->document_id[0] || !d->codigo_generacion[0])
		return err_set(e, ERR_INVALID, NULL, "a DTE state needs its tenant, document and codigoGeneracion");
	time_now_iso(now);
	/* a replaced row no longer speaks for its document */
	if (!d->replaced_by[0]) {
		rc = fiscal__factura_set_state(c, tenant, d, dte_status_name(d->status), now, &affected, e);
		if (rc)
			return rc;
	}
	return webhooks_emit(c, tenant, d, now, e);
}
