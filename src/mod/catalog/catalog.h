/*
 * catalog.h - the service catalog: what a clinic sells, at what price, and
 * how each line is taxed (clinic-billing-backend.md §5; the MH item fields of
 * fiscal-engine-integration.md §2.2).
 *
 * A service has a tenant-unique code (case-insensitive), a name, a category,
 * a price in exact minor units of its currency, a tax treatment (taxable /
 * exempt / not subject), an item type (good / service = MH tipoItem 1 / 2),
 * an optional procedure code (CPT or HCPCS Level II) and an MH CAT-014 unit
 * of measure. Entries are never destroyed: billing documents reference them,
 * so "delete" deactivates.
 *
 * Every change of price, currency or tax treatment closes the current row of
 * the price history (valid_to = now) and opens a new one in the same
 * transaction, so catalog_price_at() answers "what did this cost, and how was
 * it taxed, at that instant" for billing documents.
 *
 * Tax rate: a taxable service carries tax_rate_bp = 1300 (13.00 %, El
 * Salvador's IVA); exempt and not-subject services carry 0. The rate is
 * stored per service and per price-history row, so another country's rate
 * can be introduced later without rewriting history.
 *
 * Memory: functions taking a struct arena return their results in it.
 */
#ifndef CL_CATALOG_CATALOG_H
#define CL_CATALOG_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/money.h"
#include "core/timeutil.h"
#include "db/db.h"
#include "mod/audit/audit.h"

#define CATALOG_CODE_MAX	32   /* bytes of [A-Za-z0-9._-] */
#define CATALOG_NAME_MAX	200  /* characters (UTF-8 code points) */
#define CATALOG_CATEGORY_MAX	64   /* characters */
#define CATALOG_DESCRIPTION_MAX 2000 /* characters */
#define CATALOG_REASON_MAX	500  /* characters of a price-change / deactivation reason */
#define CATALOG_UOM_DEFAULT	59   /* MH CAT-014 "unidad" */
#define CATALOG_IVA_SV_BP	1300 /* El Salvador IVA, basis points (13.00 %) */
#define CATALOG_PROCEDURE_MAX	5

enum catalog_tax { CATALOG_TAX_TAXABLE, CATALOG_TAX_EXEMPT, CATALOG_TAX_NOT_SUBJECT };

/* Values are MH CAT-011 tipoItem codes. */
enum catalog_item_type { CATALOG_ITEM_GOOD = 1, CATALOG_ITEM_SERVICE = 2 };

struct catalog_service {
	char id[UUID_LEN + 1];
	char code[CATALOG_CODE_MAX + 1];
	const char *name;	 /* arena */
	const char *description; /* arena; NULL when none */
	const char *category;	 /* arena */
	int64_t price_minor;	 /* in minor units of currency */
	char currency[4];	 /* ISO 4217 */
	enum catalog_tax tax;
	int tax_rate_bp; /* 1300 = 13.00 % */
	enum catalog_item_type item_type;
	char procedure_code[CATALOG_PROCEDURE_MAX + 1]; /* "" when none */
	int unit_of_measure;				/* MH CAT-014 code */
	bool active;
	char created_at[TIME_ISO_LEN + 1];
	char updated_at[TIME_ISO_LEN + 1];
};

/* One row of a service's price history. */
struct catalog_price {
	char id[UUID_LEN + 1];
	char service_id[UUID_LEN + 1];
	int64_t price_minor;
	char currency[4];
	int minor_units; /* decimals of currency */
	enum catalog_tax tax;
	int tax_rate_bp;
	char valid_from[TIME_ISO_LEN + 1];
	char valid_to[TIME_ISO_LEN + 1]; /* "" while current */
	char changed_by[40];		 /* actor id (user / API key / job) */
	const char *reason;		 /* arena, NULL when none (NULL from catalog_price_at) */
};

/* Which members of struct catalog_input were given. */
enum catalog_field {
	CATALOG_F_CODE = 1u << 0,
	CATALOG_F_NAME = 1u << 1,
	CATALOG_F_DESCRIPTION = 1u << 2,
	CATALOG_F_CATEGORY = 1u << 3,
	CATALOG_F_PRICE = 1u << 4,
	CATALOG_F_CURRENCY = 1u << 5,
	CATALOG_F_TAX = 1u << 6,
	CATALOG_F_ITEM_TYPE = 1u << 7,
	CATALOG_F_PROCEDURE = 1u << 8,
	CATALOG_F_UOM = 1u << 9,
	CATALOG_F_ACTIVE = 1u << 10,
};

/* Input of create (absent optional fields take their defaults) and of a
 * partial update (only the fields in `set` change). Strings are borrowed;
 * a NULL description / procedure_code with its bit set clears it. */
struct catalog_input {
	unsigned set; /* enum catalog_field bits */
	const char *code, *name, *description, *category;
	const json_t *price;   /* JSON string "35.00" or number 35 */
	const char *currency;  /* ISO 4217; create default: the tenant's currency */
	const char *tax;       /* "taxable" | "exempt" | "not_subject" */
	const char *item_type; /* "good" | "service" */
	const char *procedure_code;
	int64_t unit_of_measure;
	bool active;
	const char *reason; /* update: priceChangeReason, also the audit reason; may be NULL */
};

/* List filters; NULL members do not filter. */
struct catalog_filter {
	const char *search;    /* substring of code or name, case-insensitive */
	const char *category;  /* exact, case-insensitive */
	int active;	       /* 1 active only (default), 0 inactive only, -1 all */
	const char *tax;       /* tax treatment name */
	const char *item_type; /* "good" | "service" */
};

/* ---- rules (no database) ---- */

/* "taxable" | "exempt" | "not_subject" -> enum; -1 when unknown. */
int catalog_tax_parse(const char *s);
const char *catalog_tax_name(enum catalog_tax t); /* static */
/* Rate of a treatment in basis points: CATALOG_IVA_SV_BP for taxable, else 0. */
int catalog_tax_rate_bp(enum catalog_tax t);
/* "good" | "service" -> enum; -1 when unknown. */
int catalog_item_type_parse(const char *s);
const char *catalog_item_type_name(enum catalog_item_type t); /* static */

/* Code: 1-32 bytes of [A-Za-z0-9._-]. */
bool catalog_code_valid(const char *s);
/* Procedure code, exact upper-case form; the regex equivalent is
 *   ^([0-9]{5}|[0-9]{4}[FTU]|[A-V][0-9]{4})$
 * i.e. CPT Category I (5 digits), CPT Category II/III and PLA codes (4 digits
 * and F, T or U), HCPCS Level II (a letter A-V and 4 digits). */
bool catalog_procedure_code_valid(const char *s);
/* MH CAT-014 name of a unit-of-measure code ("unidad" for 59); NULL when the
 * code is not in the catalogue. Static storage. */
const char *catalog_uom_name(int64_t code);
/* Parse a price (JSON string or number) for currency cur: exact, >= 0, at
 * most cur->minor_units decimals. ERR_INVALID naming "price". */
int catalog_price_parse(const json_t *v, const struct currency *cur, int64_t *out_minor, struct err *e);

/* Check the fields of in that are set (create additionally requires code,
 * name, category and price). Of the price only its presence: its value needs
 * the currency (catalog_price_parse). ERR_INVALID naming the field. */
int catalog_input_check(const struct catalog_input *in, bool create, struct err *e);

/* The JSON of a service as the API shows it (camelCase, price "35.00",
 * taxRate "13.00", mhTipoItem, unitOfMeasureName). Owned. */
json_t *catalog_service_json(const struct catalog_service *s);
/* The JSON of a price-history row. Owned. */
json_t *catalog_price_json(const struct catalog_price *p);

/* ---- operations (each acquires its own connection) ---- */

/* Create a service (one transaction with its first price row and the audit
 * entry "service.create"). Duplicate code -> ERR_CONFLICT naming "code". */
int catalog_create(struct db *db, const struct actor *who, const struct catalog_input *in, struct arena *a,
		   struct catalog_service **out, struct err *e);
/* Partial update; a change of price, currency or tax treatment rolls the price
 * history. Changing currency requires a price in the same input. Audit
 * "service.update" when anything changed. Another tenant's id -> ERR_NOT_FOUND. */
int catalog_update(struct db *db, const struct actor *who, const char *id, const struct catalog_input *in,
		   struct arena *a, struct catalog_service **out, struct err *e);
/* Deactivate (active = 0); audit "service.deactivate". Already inactive ->
 * ERR_CONFLICT named INVALID_STATE. */
int catalog_deactivate(struct db *db, const struct actor *who, const char *id, const char *reason, struct arena *a,
		       struct catalog_service **out, struct err *e);
/* One service of the tenant, on a read connection. */
int catalog_load(struct db *db, const char *tenant_id, const char *id, struct arena *a, struct catalog_service **out,
		 struct err *e);
/* A page of services sorted by category, name. *out is an arena array of *n
 * entries; *total counts all matches. page >= 1, 1 <= limit. */
int catalog_list(struct db *db, const char *tenant_id, const struct catalog_filter *f, int page, int limit,
		 struct arena *a, struct catalog_service **out, size_t *n, int64_t *total, struct err *e);
/* A page of a service's price history, newest first. Unknown service ->
 * ERR_NOT_FOUND. */
int catalog_price_history(struct db *db, const char *tenant_id, const char *service_id, int page, int limit,
			  struct arena *a, struct catalog_price **out, size_t *n, int64_t *total, struct err *e);

/* ---- for other modules, inside their own transaction on c ---- */

/* The service (active or not) of the tenant; ERR_NOT_FOUND otherwise. *out in a. */
int catalog_get(struct db_conn *c, const char *tenant_id, const char *id, struct arena *a, struct catalog_service **out,
		struct err *e);
/* The price, currency and tax treatment of a service in force at at_iso
 * (ISO-8601; NULL = now). ERR_NOT_FOUND when the service is unknown or did not
 * exist yet at that instant; bad at_iso -> ERR_INVALID naming "at". */
int catalog_price_at(struct db_conn *c, const char *tenant_id, const char *service_id, const char *at_iso,
		     struct catalog_price *out, struct err *e);

#endif
