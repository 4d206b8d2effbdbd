/*
 * dte.h - the DTE flow of El Salvador: a billing document becomes a signed
 * DTE, the DTE is transmitted to the Ministerio de Hacienda (MH), and its
 * state is kept, reported and changed (retry, contingency, invalidation,
 * credit and debit notes). Facts: ../shared/dte-sv/README.md; the whole
 * design with its rules is docs/dte-flow.md.
 *
 * Building blocks used: dte_doc.h (the document model), dte_map.c (billing
 * document -> struct dte_input), dte_schemas.h + jschema.h (the exact text is
 * checked against MH's schema before it is signed), dte_keys.h (signing),
 * src/net/mh.h (the MH web-service client), jobs.h (durable submission),
 * dte_pdf.h / dte_xml.h (renderings).
 *
 * ONE ROW PER DTE (table dtes). A billing document (order, invoice, factura,
 * note) has zero or more DTE rows: normally one; a rejected one replaced by
 * a corrected one, or an accepted one replaced before its invalidation,
 * leaves the old row in the history. The "current" DTE of a document is its
 * newest row that no other row replaced.
 *
 * IDENTITY. codigoGeneracion (upper-case UUID v4) is chosen when the row is
 * created and NEVER changes, whatever happens to the row (contingency
 * re-issue included), so MH never sees one sale under two codes.
 * numeroControl "DTE-TT-EEEEPPPP-NNNNNNNNNNNNNNN" is taken when the document
 * is issued, inside the issuing transaction, from the gap-free sequence
 * "DTE-<tt>-<EEEEPPPP>-<year>" of the tenant (table sequences; a rollback
 * gives the number back). fecEmi/horEmi are America/El_Salvador local time at
 * issue.
 *
 * STATES (enum dte_status)
 *   queued       created (codigoGeneracion fixed), not issued yet: the
 *                submission job issues it first (automatic DTE after payment)
 *   pending      issued and signed; being transmitted by job "dte.submit"
 *   contingency  MH unreachable after MH's retry policy: re-issued in
 *                contingency (tipoModelo 2, tipoOperacion 2, tipoContingencia
 *                1), waiting for the evento de contingencia (job
 *                "dte.contingency"), then transmitted again (pending)
 *   accepted     PROCESADO: selloRecibido and fhProcesamiento stored
 *   rejected     RECHAZADO: codigoMsg, descripcionMsg, observaciones stored;
 *                never retried blindly (POST /api/dte/retry)
 *   error        could not be issued or transmitted for a reason a person
 *                must fix (data, configuration, MH credentials); last_error
 *   invalidated  an evento de invalidación was PROCESADO by MH
 *   queued -> pending | error;  pending -> accepted | rejected | contingency
 *   | error;  contingency -> pending (event received) | accepted (MH had it);
 *   accepted -> invalidated;  error -> queued | pending (retry).
 *
 * STATE LISTENERS. Every state change (and the creation of a row) is written
 * in one transaction together with its audit entry and a call of each
 * listener of the static table in dte.c (today fiscal_on_dte_state of
 * src/mod/fiscal/fiscal.h, which enqueues the dte.processed webhooks). A
 * listener runs inside that transaction on c: it may write its own tables
 * and enqueue jobs, and must not call the write functions of this header;
 * an error from it rolls the state change back (the job retries).
 *
 * TRANSACTIONS. Functions taking struct db_conn *c run inside the caller's
 * open WRITE transaction and never commit; after committing, the caller
 * calls jobs_notify(app->jobs) when the function says it enqueued. Functions
 * taking struct app *app alone open their own transactions and may call MH
 * (never while a write connection is held).
 *
 * MEMORY. Records and strings are in the arena passed in; inputs borrowed.
 */
#ifndef CL_MOD_DTE_H
#define CL_MOD_DTE_H

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
#include "mod/billing/billing.h"
#include "mod/dte/dte_doc.h"

struct app;
struct job;

#define DTE_JOB_SUBMIT	    "dte.submit"      /* payload {"dteId"}; dedupe "dte.submit:<codigo>:<gen>" */
#define DTE_JOB_CONTINGENCY "dte.contingency" /* payload {"eventId"}; dedupe "dte.contingency:<event id>" */
#define DTE_JOB_SWEEP	    "dte.sweep"	      /* periodic: re-enqueue work whose job died */
#define DTE_TIME_ZONE	    "America/El_Salvador"
#define DTE_SELLO_LEN	    40
#define DTE_MAX_SEND_TRIES  3 /* MH §1.6: one send and at most 2 retries, then contingency */
#define DTE_MH_TIMEOUT_MS   8000 /* MH §1.6: reception answers within 8 s */

enum dte_status {
	DTE_ST_QUEUED,
	DTE_ST_PENDING,
	DTE_ST_CONTINGENCY,
	DTE_ST_ACCEPTED,
	DTE_ST_REJECTED,
	DTE_ST_ERROR,
	DTE_ST_INVALIDATED,
	DTE_ST_COUNT
};

/* "queued" | "pending" | "contingency" | "accepted" | "rejected" | "error" |
 * "invalidated". Static storage. */
const char *dte_status_name(enum dte_status s);
/* Name -> status; -1 when unknown. */
int dte_status_parse(const char *name);
/* The label of the representación gráfica (dte_pdf.h DTE_STATUS_*):
 * accepted PROCESADO, rejected RECHAZADO, invalidated INVALIDADO,
 * contingency CONTINGENCIA, else PENDIENTE. Static storage. */
const char *dte_status_pdf_label(enum dte_status s);

/* One DTE as stored. Strings in the arena (NULL when absent); fixed arrays
 * "" when absent. */
struct dte_record {
	char id[UUID_LEN + 1];
	char tenant_id[UUID_LEN + 1];
	char document_id[UUID_LEN + 1]; /* the billing document */
	char tipo_dte[3];		/* "01" "03" "05" "06" */
	int version;			/* identificacion.version */
	char ambiente[3];
	char codigo_generacion[UUID_LEN + 1]; /* upper case, fixed for life */
	char numero_control[DTE_NUMERO_CONTROL_LEN + 1]; /* "" until issued */
	char fec_emi[DATE_LEN + 1];			 /* "" until issued */
	char hor_emi[9];
	enum dte_status status;
	int tipo_modelo;       /* 1 previo, 2 diferido (0 until issued) */
	int tipo_operacion;    /* 1 normal, 2 contingencia */
	int tipo_contingencia; /* 0 or CAT-005 */
	char sello[DTE_SELLO_LEN + 1];	/* selloRecibido, "" until accepted */
	char fh_procesamiento[20];	/* "dd/MM/yyyy HH:mm:ss" as MH wrote it */
	const char *clasifica_msg;	/* MH's last answer (rejections, observations) */
	const char *codigo_msg;
	const char *descripcion_msg;
	const char *observaciones;	/* JSON array text, or NULL */
	const char *last_error;		/* client-safe reason of status error / the last failed try */
	int attempts;			/* recepciondte calls made for this row */
	int send_failures;		/* transmissions without an answer since the last phase */
	bool sent;			/* a recepciondte may have reached MH: consult first */
	int submit_gen;			/* bumps for each new transmission phase (job dedupe) */
	const char *document_text;	/* the signed DTE JSON, exactly (NULL until issued) */
	const char *jws;		/* firmaElectronica (NULL until issued) */
	const char *normal_text;	/* before a contingency re-issue: the normal version */
	const char *normal_jws;
	char related_codigo[UUID_LEN + 1]; /* NC/ND: the DTE it adjusts; "" otherwise */
	char replaces[UUID_LEN + 1];	   /* the DTE this one replaces; "" */
	char replaced_by[UUID_LEN + 1];	   /* the DTE that replaced this one; "" */
	char contingency_event_id[UUID_LEN + 1]; /* the evento de contingencia row; "" */
	char invalidation_event_id[UUID_LEN + 1]; /* the evento de invalidación row; "" */
	int64_t total_cents;		/* totalPagar (NC/ND: montoTotalOperacion) */
	int64_t iva_cents;		/* FE totalIva or CCF/NC/ND tributo 20 */
	bool auto_submit;		/* created by the automatic flow after payment */
	char created_by[40];
	char created_at[TIME_ISO_LEN + 1];
	char updated_at[TIME_ISO_LEN + 1];
	char issued_at[TIME_ISO_LEN + 1];   /* "" until issued */
	char accepted_at[TIME_ISO_LEN + 1]; /* "" until accepted */
	char invalidated_at[TIME_ISO_LEN + 1];
};

/* ---- issuing (inside the caller's write transaction) ---- */

struct dte_issue_opts {
	/* "01" | "03" | "05" | "06", or NULL: the document's requested tax
	 * document type if any, else 03 when the receptor has an NRC, else 01. */
	const char *tipo_dte;
	/* The receptor, borrowed (the fiscal contract's receptor); NULL: the
	 * fiscal receptor registered for the document's patient if any, else
	 * the patient's own identity, else (01 only) the anonymous consumer. */
	const struct dte_receptor *receptor;
	/* codigoGeneracion of an accepted DTE of the same document that this
	 * one replaces (to invalidate it afterwards with tipoAnulacion 1 or 3),
	 * or NULL. */
	const char *replaces;
	/* Extra apendice entries (e.g. the caller's reference), borrowed. */
	const struct dte_apendice *apendice;
	size_t napendice;
};

/* Issue a DTE for billing document document_id of who->tenant_id, inside
 * the caller's open write transaction on c: checks the document (not
 * cancelled / refunded, not a draft unless a note, currency USD, no live DTE: queued, pending,
 * contingency or accepted, unless opts->replaces names the accepted one),
 * maps it (dte_map.c), takes the numeroControl, builds, schema-checks, signs
 * (DTE_PRIVATE_KEY / DTE_CERTIFICATE), stores the row as pending with its
 * history entry and audit "dte.issue", calls the state listeners and
 * enqueues "dte.submit". *out (may be NULL) in a. The caller commits and
 * then calls jobs_notify(app->jobs).
 * Errors: unknown document -> ERR_NOT_FOUND; bad data for a DTE ->
 * ERR_INVALID naming the DTE field ("receptor.nit", "emisor", ...); a live
 * DTE -> ERR_CONFLICT named "INVALID_STATE"; no signing key or tenant
 * emisor -> ERR_INVALID naming the setting. Nothing is written on error. */
int dte_issue(struct app *app, struct db_conn *c, const struct actor *who, const char *document_id,
	      const struct dte_issue_opts *opts, struct arena *a, struct dte_record **out, struct err *e);

/* The automatic flow (billing_payments.c calls it inside the transaction
 * that made doc paid): when the tenant has an El Salvador emisor and its
 * settings.dte.autoSubmit is not false (default on), doc is in USD and has
 * no DTE yet, create its DTE row as queued (codigoGeneracion fixed now) and
 * enqueue "dte.submit", whose worker issues and transmits it. Otherwise
 * nothing. Never fails the payment for a DTE reason: only database errors
 * are returned. (The queue's workers poll, so no notify is needed.) */
int dte_on_document_paid(struct db_conn *c, const struct actor *who, const struct bill_document *doc,
			 struct err *e);

/* ---- lookups ---- */

/* By codigoGeneracion (any case) in tenant_id. ERR_NOT_FOUND. */
int dte_get_by_codigo(struct db_conn *c, const char *tenant_id, const char *codigo, struct arena *a,
		      struct dte_record **out, struct err *e);
/* The current DTE of a billing document (see the header note). ERR_NOT_FOUND
 * when it has none. */
int dte_get_current(struct db_conn *c, const char *tenant_id, const char *document_id, struct arena *a,
		    struct dte_record **out, struct err *e);
/* Every DTE of a document, oldest first. *out arena array of *n. */
int dte_list_for_document(struct db_conn *c, const char *tenant_id, const char *document_id, struct arena *a,
			  struct dte_record **out, size_t *n, struct err *e);

/* The document as delivered to the buyer: the signed text with
 * "firmaElectronica" and "selloRecibido" (null until accepted) appended.
 * Owned (free). Not issued -> ERR_CONFLICT "INVALID_STATE". */
int dte_delivered_text(const struct dte_record *r, char **out, struct err *e);

/* The clinic contract's view of a DTE: {id, orderId, status, tipoDte,
 * version, ambiente, numeroControl, codigoGeneracion, fecEmi, horEmi,
 * tipoModelo, tipoOperacion, tipoContingencia, sello, fhProcesamiento,
 * codigoMsg, descripcionMsg, observaciones, errors, attempts, total, iva,
 * relatedCodigo, replaces, replacedBy, xmlUrl, pdfUrl, jsonUrl, createdAt,
 * updatedAt, issuedAt, acceptedAt, invalidatedAt}. Owned. */
json_t *dte_record_json(const struct dte_record *r);

/* ---- the state-change hook of the fiscal contract ---- */

/* Signature of a state listener (see STATE LISTENERS): d is the row as just
 * written (d->status the new state), previous the state before it or -1 when
 * the row was just created. */
typedef int (*dte_state_listener)(struct db_conn *c, const struct actor *who, const struct dte_record *d,
				  int previous, struct err *e);

/* ---- operations behind /api/dte (own transactions; may call MH) ---- */

/* POST /api/dte/submit: issue the DTE of order order_id (any billing
 * document of the tenant) now, or return its live one. tipo_dte NULL = the
 * automatic choice; replaces as in dte_issue_opts. *created tells whether a
 * new DTE was issued (201) or the live one returned (200). A queued row
 * (automatic flow) is issued here. An accepted DTE without replaces, or a
 * rejected / error one (POST /api/dte/retry is the way) -> ERR_CONFLICT
 * "INVALID_STATE". Enqueues and notifies the workers itself. */
int dte_submit(struct app *app, const struct actor *who, const char *order_id, const char *tipo_dte,
	       const char *replaces, struct arena *a, struct dte_record **out, bool *created, struct err *e);

/* POST /api/dte/retry, on the DTE named by codigo (or, when codigo is NULL,
 * the current DTE of order_id). The rule (docs/dte-flow.md "Retry"):
 *   rejected (MH received and refused it) -> a corrected document is issued
 *     from the current data with a NEW codigoGeneracion and numeroControl;
 *     the old row keeps its rejection and names its replacement;
 *   error, or queued/pending whose job died (MH never received it) -> the
 *     SAME codigoGeneracion is issued again from the current data when it
 *     was never signed, or the same signed document is transmitted again;
 *   contingency whose event MH refused -> a new event is prepared;
 *   accepted, invalidated, or work in progress -> ERR_CONFLICT "INVALID_STATE".
 * *out: the DTE now in charge (the new one, or the same row). */
int dte_retry(struct app *app, const struct actor *who, const char *order_id, const char *codigo, struct arena *a,
	      struct dte_record **out, struct err *e);

/* POST /api/dte/invalidate. Strings borrowed. */
struct dte_invalidation_input {
	const char *codigo_generacion;	 /* the accepted DTE */
	int tipo_anulacion;		 /* CAT-024: 1 error, 2 rescindir, 3 otro */
	const char *motivo_anulacion;	 /* required with 3 (5-250 characters) */
	const char *nombre_responsable;	 /* 5-100 */
	const char *tip_doc_responsable; /* CAT-022 "36" "13" "02" "03" "37" */
	const char *num_doc_responsable; /* 3-20 */
	const char *nombre_solicita;
	const char *tip_doc_solicita;
	const char *num_doc_solicita;
	const char *codigo_generacion_r; /* 1 and 3: the accepted replacement; 2: must be NULL */
};

/* The outcome of an invalidation event. Strings in the arena. */
struct dte_event_result {
	char id[UUID_LEN + 1];
	char codigo_generacion[UUID_LEN + 1]; /* the event's own code */
	const char *estado;		      /* "PROCESADO" | "RECHAZADO" */
	char sello[DTE_SELLO_LEN + 1];
	const char *fh_procesamiento;
	const char *codigo_msg;
	const char *descripcion_msg;
	const char *observaciones; /* JSON array text or NULL */
};

/* Validate (state accepted, MH's deadline: FE/FSE three months after the
 * seal, other types until the end of the day after it, America/El_Salvador;
 * tipoAnulacion 2 without replacement, 1/3 with an accepted replacement of
 * the tenant; a CCF with live notes cannot be invalidated before them),
 * build the anulacion-schema-v2 event, schema-check, sign, store it, send
 * it to MH (POST /fesv/anulardte) and store the answer: PROCESADO -> the
 * DTE becomes invalidated. RECHAZADO -> ERR_CONFLICT named "MH_REJECTED"
 * with MH's description (the event is kept with its observations in *res).
 * MH unreachable -> ERR_UPSTREAM (the event is kept as failed; call again).
 * *rec: the DTE afterwards. */
int dte_invalidate(struct app *app, const struct actor *who, const struct dte_invalidation_input *in,
		   struct arena *a, struct dte_record **rec, struct dte_event_result *res, struct err *e);

/* One line of a credit or debit note (prices without IVA, as in a CCF). */
struct dte_note_item {
	const char *description;  /* required, 1-1000 characters */
	const char *code;	  /* optional, 1-25 */
	int64_t quantity_milli;	  /* > 0 (QTY_SCALE) */
	int64_t unit_price_micro; /* >= 0 (BILL_IN_SCALE), without IVA */
	const char *treatment;	  /* "taxable" (default) | "exempt" | "not_subject" */
};

struct dte_note_input {
	const char *codigo_generacion; /* the accepted, not invalidated Crédito Fiscal (03) */
	const char *tipo_dte;	       /* "05" nota de crédito | "06" nota de débito */
	const struct dte_note_item *items;
	size_t nitems; /* 1..BILL_MAX_LINES */
	const char *reason; /* required, 1..BILL_REASON_MAX: the note's description */
};

/* POST /api/dte/notes: in one transaction, a billing document (source
 * "credit_note" / "debit_note", patient of the original, USD, prices
 * without IVA; a debit note is pending payment, a credit note a draft that
 * records the credit) and its DTE 05/06 with documentoRelacionado = the
 * original (tipoGeneracion 2) and the original's receptor; a credit note may
 * not exceed what the original minus its earlier credit notes leaves.
 * Submitted like any DTE. *doc_id_out gets the note's document id. */
int dte_note_create(struct app *app, const struct actor *who, const struct dte_note_input *in, struct arena *a,
		    struct dte_record **out, char doc_id_out[UUID_LEN + 1], struct err *e);

/* GET /api/reports/dte-status: counts by status and by type, the rejected
 * DTEs with MH's reasons (newest first, at most 100), the pending ones'
 * ages, open contingency events. from/to (YYYY-MM-DD, may be NULL) bound
 * the creation date (UTC). *out owned. */
int dte_report_status(struct app *app, const char *tenant_id, const char *from, const char *to, json_t **out,
		      struct err *e);

/* History of a DTE's states, oldest first: [{at, from, to, note, actor}].
 * Owned. */
int dte_history_json(struct db_conn *c, const char *tenant_id, const char *dte_id, json_t **out, struct err *e);

/* ---- tenant settings ---- */

/* Check a tenant's settings.dte object (tenants_settings_check may call it):
 * {"autoSubmit": boolean (default true), "mhUser": MH API user, 1-64
 * characters (default DTE_MH_USER, else the emisor's NIT), "responsable":
 * {"nombre" 5-100, "tipoDocumento" CAT-022 "36"|"13"|"02"|"03"|"37",
 * "numDocumento" 5-25} (the person named in contingency events; default the
 * emisor itself)}. Unknown keys refused. ERR_INVALID naming
 * "<field>.<member>". The flow reads these leniently either way. */
int dte_settings_check(const json_t *dte, const char *field, struct err *e);

/* ---- mapping a billing document to a DTE (pure; dte_map.c) ---- */

/* What the mapping reads; everything borrowed. */
struct dte_map_source {
	const struct bill_document *doc; /* with lines and payments (USD) */
	const json_t *emisor;		 /* the tenant's settings.emisor object */
	const struct dte_receptor *receptor; /* resolved receptor, or NULL (01: anonymous consumer) */
	enum dte_type type;
	const char *ambiente;
	const char *numero_control;
	const char *codigo_generacion;
	const char *fec_emi, *hor_emi;
	int tipo_contingencia; /* 0 normal, 1..5 contingency (CAT-005) */
	const struct dte_doc_rel *doc_rel; /* NC/ND: the related CCF */
	size_t ndoc_rel;
	const struct dte_apendice *apendice; /* extra apendice entries */
	size_t napendice;
};

/* Fill *out (strings and arrays in a) from src, following MH's conventions:
 * FE prices include IVA and CCF/NC/ND prices do not (converted with
 * dte_price_with_iva / dte_price_without_iva when the document's
 * prices_include_tax says otherwise); taxable lines (13 %) are gravada,
 * exempt exenta, not_subject no sujeta; the document discount becomes the
 * global descuGravada (then descuExenta, descuNoSuj); a late fee is a no
 * sujeta line "Recargo por mora"; tipoItem 1 for goods ("good", "product",
 * "medication", "supply"), else 2 (services); uniMedida the line's CAT-014
 * code, else 59; pagos from the confirmed payments by CAT-017 (cash 01,
 * cards 03, transfer 05, mobile money 08, others 99; the largest takes the
 * rounding rest); an unpaid balance makes the sale a crédito (condición 2,
 * with the balance as 13 "cuentas por pagar" over the days to the due date,
 * 30 by default); the order number goes in the apéndice. Bad data ->
 * ERR_INVALID naming the DTE field. */
int dte_map_document(const struct dte_map_source *src, struct arena *a, struct dte_input *out, struct err *e);

/* The tenant's settings.emisor object -> struct dte_emisor (strings
 * borrowed from the object). Missing -> ERR_INVALID naming "settings.emisor". */
int dte_map_emisor(const json_t *emisor, struct dte_emisor *out, struct err *e);

/* The 8-character establishment + point-of-sale block of numeroControl
 * from the emisor settings: codEstableMH (else codEstable, else "0001") and
 * codPuntoVentaMH (else codPuntoVenta, else "0001"), upper-case, left-padded
 * with zeros to 4. Longer than 4 or not [A-Z0-9] -> ERR_INVALID. */
int dte_map_control_block(const json_t *emisor, char estable[5], char punto[5], struct err *e);

/* A receptor from a patient's fiscal identity (patients.h fields, borrowed:
 * document_type "DUI"/"NIT"/"NRC"/"PASSPORT"/..., document_number
 * canonical, nrc, fiscal_name or first/middle/last names, email, phone,
 * address). For 03/05/06 the NIT is the NIT document or the DUI (9 digits,
 * the DUI-NIT homologation) and the NRC the nrc field (or an NRC document).
 * A patient without any fiscal data -> *out NULL (the anonymous consumer).
 * Strings in a. */
struct dte_patient_identity {
	const char *document_type, *document_number, *nrc, *fiscal_name;
	const char *first_name, *middle_name, *last_name;
	const char *email, *phone;
	const char *departamento, *municipio; /* NULL when no address */
	const char *line1, *line2, *city;
};
int dte_map_receptor_patient(const struct dte_patient_identity *p, enum dte_type type, struct arena *a,
			     struct dte_receptor **out, struct err *e);

/* The receptor block of an issued DTE's JSON (for its notes and its
 * invalidation). NULL object -> *out NULL. Strings in a. */
int dte_map_receptor_json(const json_t *receptor, struct arena *a, struct dte_receptor **out, struct err *e);

/* The type to issue: requested ("01"/"03"/"05"/"06", NULL = automatic:
 * 03 when the receptor has an NRC, else 01). Bad code -> ERR_INVALID
 * naming "tipoDte". */
int dte_map_type(const char *requested, const struct dte_receptor *receptor, enum dte_type *out, struct err *e);

/* ---- jobs (job_types.c rows) ---- */

int dte_submit_job(struct app *app, const struct job *job, struct err *e);
int dte_contingency_job(struct app *app, const struct job *job, struct err *e);
int dte_sweep_job(struct app *app, const struct job *job, struct err *e);

#endif
