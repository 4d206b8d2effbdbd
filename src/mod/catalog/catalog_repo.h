/*
 * catalog_repo.h - the catalog's repository (catalog_repo.c, all its SQL)
 * as catalog.c uses it. Not for other modules: they use catalog.h.
 *
 * Every function works on a connection the caller holds (a write transaction
 * for the writers) and filters by tenant_id.
 */
#ifndef CL_CATALOG_CATALOG_REPO_H
#define CL_CATALOG_CATALOG_REPO_H

#include "mod/catalog/catalog.h"

/* The tenant's default currency into out[4]. Unknown tenant -> ERR_NOT_FOUND. */
int catalog__tenant_currency(struct db_conn *c, const char *tenant_id, char out[4], struct err *e);
/* Is code (case-insensitive) used by another service of the tenant than
 * except_id (may be NULL)? */
int catalog__code_taken(struct db_conn *c, const char *tenant_id, const char *code, const char *except_id, bool *taken,
			struct err *e);
/* Take the service's row lock (a no-op UPDATE: a row lock in PostgreSQL; SQLite
 * has one writer) so concurrent updates of one service serialise.
 * Unknown service (or another tenant's) -> ERR_NOT_FOUND. */
int catalog__lock(struct db_conn *c, const char *tenant_id, const char *id, struct err *e);
int catalog__insert(struct db_conn *c, const char *tenant_id, const struct catalog_service *s, struct err *e);
/* Write every mutable column of s (matched by tenant and id). */
int catalog__update(struct db_conn *c, const char *tenant_id, const struct catalog_service *s, struct err *e);
/* Close the open price row of the service at now_iso (valid_to) and open a new
 * one from s's price, currency and tax at now_iso. */
int catalog__price_roll(struct db_conn *c, const char *tenant_id, const struct catalog_service *s, const char *now_iso,
			const char *changed_by, const char *reason, bool close_current, struct err *e);
int catalog__list(struct db_conn *c, const char *tenant_id, const struct catalog_filter *f, int64_t offset, int limit,
		  struct arena *a, struct catalog_service **out, size_t *n, int64_t *total, struct err *e);
int catalog__history(struct db_conn *c, const char *tenant_id, const char *service_id, int64_t offset, int limit,
		     struct arena *a, struct catalog_price **out, size_t *n, int64_t *total, struct err *e);

#endif
