/*
 * billing_repo.h - the billing module's private interface: its repository
 * (billing_repo.c, all SQL of migration 0008) and the few rule helpers that
 * billing.c, billing_payments.c and the _http.c adapters of this module
 * share. Not for other modules: they use billing.h.
 *
 * Every repository function works on a connection the caller holds (an open
 * write transaction for the writers) and filters by tenant_id (except
 * billing__overdue_candidates and billing_document_tenant, which are
 * documented cross-tenant readers). Results are decoded into the caller's
 * arena.
 */
#ifndef CL_MOD_BILLING_REPO_H
#define CL_MOD_BILLING_REPO_H

#include <jansson.h>

#include "mod/billing/billing.h"

/* ---- tenant facts ---- */

/* The tenant's currency (out[4]) and time zone (tz[64]). ERR_NOT_FOUND. */
int billing__tenant(struct db_conn *c, const char *tenant_id, char currency[4], char tz[64], struct err *e);
/* Does patient id belong to the tenant? */
int billing__patient_exists(struct db_conn *c, const char *tenant_id, const char *id, bool *exists, struct err *e);
/* Take the next value of the tenant's sequence `name` (upsert ... RETURNING,
 * in the caller's transaction: a rollback returns it). */
int billing__sequence_next(struct db_conn *c, const char *tenant_id, const char *name, int64_t *value, struct err *e);

/* ---- documents ---- */

int billing__doc_insert(struct db_conn *c, const char *tenant_id, const struct bill_document *d, struct err *e);
/* Write every mutable column of d (matched by tenant and id); version + 1. */
int billing__doc_update(struct db_conn *c, const char *tenant_id, struct bill_document *d, struct err *e);
/* Row lock (no-op UPDATE). Unknown or another tenant's -> ERR_NOT_FOUND. */
int billing__doc_lock(struct db_conn *c, const char *tenant_id, const char *id, struct err *e);
/* One document row (no lines / payments). by_ref: id is an external_ref. */
int billing__doc_get(struct db_conn *c, const char *tenant_id, const char *id, bool by_ref, struct arena *a,
		     struct bill_document **out, struct err *e);
int billing__lines_insert(struct db_conn *c, const char *tenant_id, const struct bill_document *d, struct err *e);
int billing__lines_delete(struct db_conn *c, const char *tenant_id, const char *doc_id, struct err *e);
int billing__lines_load(struct db_conn *c, const char *tenant_id, struct bill_document *d, struct arena *a,
			struct err *e);
/* Payments and refunds of d, oldest first. */
int billing__payments_load(struct db_conn *c, const char *tenant_id, struct bill_document *d, struct arena *a,
			   struct err *e);
int billing__doc_list(struct db_conn *c, const char *tenant_id, const struct bill_filter *f, int64_t offset, int limit,
		      struct arena *a, struct bill_document **out, size_t *n, int64_t *total, struct err *e);
/* billing_patient_totals on c. */
int billing__patient_totals(struct db_conn *c, const char *tenant_id, const char *patient_id, struct arena *a,
			    struct bill_currency_totals **out, size_t *n, struct err *e);
int billing__stats(struct db_conn *c, const char *tenant_id, const struct bill_stats_filter *f, const char *currency,
		   struct bill_stats *out, struct err *e);

/* One document the overdue job may have to mark. */
struct bill_overdue_candidate {
	char tenant_id[UUID_LEN + 1];
	char id[UUID_LEN + 1];
	char due_date[DATE_LEN + 1];
	int grace_period_days;
	char time_zone[64];
};
/* Cross-tenant: pending / partially_paid documents with due_date <= max_due,
 * ordered by (tenant_id, id) after the key (after_tenant, after_id), at most
 * limit. *out owned (free()). */
int billing__overdue_candidates(struct db_conn *c, const char *max_due, const char *after_tenant, const char *after_id,
				int limit, struct bill_overdue_candidate **out, size_t *n, struct err *e);

/* ---- payments and refunds ---- */

int billing__payment_insert(struct db_conn *c, const char *tenant_id, const struct bill_payment *p, struct err *e);
/* Write status, amount, refunded, gateway facts, failure, timestamps. */
int billing__payment_update(struct db_conn *c, const char *tenant_id, const struct bill_payment *p, struct err *e);
/* by: 0 id, 1 gateway_payment_id. ERR_NOT_FOUND. */
int billing__payment_get(struct db_conn *c, const char *tenant_id, const char *key, int by, struct arena *a,
			 struct bill_payment **out, struct err *e);
int billing__payment_list(struct db_conn *c, const char *tenant_id, const struct bill_payment_filter *f, int64_t offset,
			  int limit, struct arena *a, struct bill_payment **out, size_t *n, int64_t *total,
			  struct err *e);
/* Money of a document from its payments and refunds: confirmed = sum of
 * amounts of payments confirmed or refunded; refunded = sum of succeeded
 * refunds; confirmed_open = count of payments in status confirmed. */
int billing__doc_money(struct db_conn *c, const char *tenant_id, const char *doc_id, int64_t *confirmed,
		       int64_t *refunded, int64_t *confirmed_open, struct err *e);
int billing__refund_insert(struct db_conn *c, const char *tenant_id, const struct bill_refund *r,
			   const char *failure_reason, struct err *e);
int billing__refund_update(struct db_conn *c, const char *tenant_id, const struct bill_refund *r,
			   const char *failure_reason, struct err *e);
/* by: 0 id, 1 gateway_refund_id. */
int billing__refund_get(struct db_conn *c, const char *tenant_id, const char *key, int by, struct arena *a,
			struct bill_refund **out, struct err *e);
/* Sum of pending refunds of a payment. */
int billing__refund_pending_sum(struct db_conn *c, const char *tenant_id, const char *payment_id, int64_t *sum,
				struct err *e);

/* ---- rules shared inside the module (billing.c) ---- */

/* Compact audit snapshot of a document (ids, number, status, amounts as
 * decimal strings, line count). Owned. */
json_t *billing__audit_json(const struct bill_document *d);
json_t *billing__payment_audit_json(const struct bill_payment *p, int minor_units);
/* After payments / refunds changed: recompute paid / refunded / balance /
 * status / paid_at of the locked document d from the database, write it and
 * audit "<source>.status" when the status changed. */
int billing__apply_money(struct db_conn *c, const struct actor *who, struct bill_document *d, struct err *e);
/* Load and lock a document for a payment operation (row only). */
int billing__lock_load(struct db_conn *c, const char *tenant_id, const char *id, struct arena *a,
		       struct bill_document **out, struct err *e);
/* Bytes check for optional text: NULL ok; else <= max bytes, no control
 * characters except in multi-line fields (allow_newlines). */
int billing__text_check(const char *v, const char *field, size_t max, bool allow_newlines, struct err *e);

#endif
