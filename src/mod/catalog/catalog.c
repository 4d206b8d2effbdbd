/*
 * catalog.c - the service catalog's rules: field validation (codes, CPT /
 * HCPCS procedure codes, MH CAT-014 units, exact prices), the JSON shape of a
 * service, and the write operations, each one transaction that also records
 * its audit entry. All SQL is in catalog_repo.c.
 */
#include "mod/catalog/catalog.h"

#include <stdio.h>
#include <string.h>

#include "mod/catalog/catalog_repo.h"

static const char *const tax_names[] = {
    [CATALOG_TAX_TAXABLE] = "taxable",
    [CATALOG_TAX_EXEMPT] = "exempt",
    [CATALOG_TAX_NOT_SUBJECT] = "not_subject",
};

/* MH CAT-014 "Unidad de medida" (../shared/dte-sv/README.md §4), the codes
 * currently accepted by the FE/CCF schemas. */
static const struct {
	int code;
	const char *name;
} uom_table[] = {
    {1, "metro"},
    {2, "yarda"},
    {6, "milímetro"},
    {9, "kilómetro cuadrado"},
    {10, "hectárea"},
    {13, "metro cuadrado"},
    {15, "vara cuadrada"},
    {18, "metro cúbico"},
    {20, "barril"},
    {22, "galón"},
    {23, "litro"},
    {24, "botella"},
    {26, "mililitro"},
    {30, "tonelada"},
    {32, "quintal"},
    {33, "arroba"},
    {34, "kilogramo"},
    {36, "libra"},
    {37, "onza troy"},
    {38, "onza"},
    {39, "gramo"},
    {40, "miligramo"},
    {42, "megawatt"},
    {43, "kilowatt"},
    {44, "watt"},
    {45, "megavoltio-amperio"},
    {46, "kilovoltio-amperio"},
    {47, "voltio-amperio"},
    {49, "gigawatt-hora"},
    {50, "megawatt-hora"},
    {51, "kilowatt-hora"},
    {52, "watt-hora"},
    {53, "kilovoltio"},
    {54, "voltio"},
    {55, "millar"},
    {56, "medio millar"},
    {57, "ciento"},
    {58, "docena"},
    {59, "unidad"},
    {99, "otra"},
};

int catalog_tax_parse(const char *s)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(tax_names) / sizeof(tax_names[0]); i++)
		if (strcmp(s, tax_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *catalog_tax_name(enum catalog_tax t)
{
	if ((unsigned)t >= sizeof(tax_names) / sizeof(tax_names[0]))
		return "taxable";
	return tax_names[t];
}

int catalog_tax_rate_bp(enum catalog_tax t)
{
	return t == CATALOG_TAX_TAXABLE ? CATALOG_IVA_SV_BP : 0;
}

int catalog_item_type_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "good") == 0)
		return CATALOG_ITEM_GOOD;
	if (strcmp(s, "service") == 0)
		return CATALOG_ITEM_SERVICE;
	return -1;
}

const char *catalog_item_type_name(enum catalog_item_type t)
{
	return t == CATALOG_ITEM_GOOD ? "good" : "service";
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool catalog_code_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (!(is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return n >= 1 && n <= CATALOG_CODE_MAX;
}

bool catalog_procedure_code_valid(const char *s)
{
	if (!s || strlen(s) != 5)
		return false;
	if (is_digit(s[0])) {
		/* [0-9]{5} | [0-9]{4}[FTU] */
		for (int i = 1; i < 4; i++)
			if (!is_digit(s[i]))
				return false;
		return is_digit(s[4]) || s[4] == 'F' || s[4] == 'T' || s[4] == 'U';
	}
	/* [A-V][0-9]{4} */
	if (s[0] < 'A' || s[0] > 'V')
		return false;
	for (int i = 1; i < 5; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

const char *catalog_uom_name(int64_t code)
{
	for (size_t i = 0; i < sizeof(uom_table) / sizeof(uom_table[0]); i++)
		if (uom_table[i].code == code)
			return uom_table[i].name;
	return NULL;
}

int catalog_price_parse(const json_t *v, const struct currency *cur, int64_t *out_minor, struct err *e)
{
	int64_t minor;
	int rc;

	if (!v || json_is_null(v))
		return err_set(e, ERR_INVALID, "price", "price is required");
	if (!json_is_string(v) && !json_is_number(v))
		return err_set(e, ERR_INVALID, "price", "price must be a decimal string or a number");
	rc = money_from_json(v, cur->minor_units, &minor, "price", e);
	if (rc)
		return rc;
	if (minor < 0)
		return err_set(e, ERR_INVALID, "price", "price must not be negative");
	*out_minor = minor;
	return 0;
}

/* Number of UTF-8 code points (jansson has already checked the encoding). */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

/* A one-line label (name, category): present, not blank, 1..max characters,
 * no control characters. */
static int check_label(const char *v, const char *field, size_t max, struct err *e)
{
	if (!v)
		return err_set(e, ERR_INVALID, field, "%s is required", field);
	if (!*v || blank(v))
		return err_set(e, ERR_INVALID, field, "%s must not be blank", field);
	if (utf8_len(v) > max)
		return err_set(e, ERR_INVALID, field, "%s must be at most %zu characters", field, max);
	if (has_control(v))
		return err_set(e, ERR_INVALID, field, "%s must not contain control characters", field);
	return 0;
}

/* Upper-case copy of a procedure code into out[6]; false when it cannot be one. */
static bool procedure_normalize(const char *in, char out[CATALOG_PROCEDURE_MAX + 1])
{
	size_t n = strlen(in);

	if (n != CATALOG_PROCEDURE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (in[i] >= 'a' && in[i] <= 'z') ? (char)(in[i] - 'a' + 'A') : in[i];
	out[n] = '\0';
	return catalog_procedure_code_valid(out);
}

int catalog_input_check(const struct catalog_input *in, bool create, struct err *e)
{
	unsigned set = in->set;
	char proc[CATALOG_PROCEDURE_MAX + 1];
	int rc;

	if (create || (set & CATALOG_F_CODE)) {
		if (!in->code)
			return err_set(e, ERR_INVALID, "code", "code is required");
		if (!catalog_code_valid(in->code))
			return err_set(e, ERR_INVALID, "code",
				       "code must be 1-%d characters of letters, digits, '.', '_' or '-'",
				       CATALOG_CODE_MAX);
	}
	if (create || (set & CATALOG_F_NAME)) {
		rc = check_label(in->name, "name", CATALOG_NAME_MAX, e);
		if (rc)
			return rc;
	}
	if ((set & CATALOG_F_DESCRIPTION) && in->description && utf8_len(in->description) > CATALOG_DESCRIPTION_MAX)
		return err_set(e, ERR_INVALID, "description", "description must be at most %d characters",
			       CATALOG_DESCRIPTION_MAX);
	if (create || (set & CATALOG_F_CATEGORY)) {
		rc = check_label(in->category, "category", CATALOG_CATEGORY_MAX, e);
		if (rc)
			return rc;
	}
	if ((create || (set & CATALOG_F_PRICE)) && (!in->price || json_is_null(in->price)))
		return err_set(e, ERR_INVALID, "price", "price is required");
	if ((set & CATALOG_F_CURRENCY) && !currency_find(in->currency))
		return err_set(e, ERR_INVALID, "currency", "currency must be a supported ISO 4217 code");
	if ((set & CATALOG_F_TAX) && catalog_tax_parse(in->tax) < 0)
		return err_set(e, ERR_INVALID, "taxTreatment",
			       "taxTreatment must be one of taxable, exempt, not_subject");
	if ((set & CATALOG_F_ITEM_TYPE) && catalog_item_type_parse(in->item_type) < 0)
		return err_set(e, ERR_INVALID, "itemType", "itemType must be one of good, service");
	if ((set & CATALOG_F_PROCEDURE) && in->procedure_code && !procedure_normalize(in->procedure_code, proc))
		return err_set(e, ERR_INVALID, "procedureCode",
			       "procedureCode must be a CPT code (5 digits, or 4 digits and F, T or U) "
			       "or a HCPCS Level II code (a letter A-V and 4 digits)");
	if ((set & CATALOG_F_UOM) && !catalog_uom_name(in->unit_of_measure))
		return err_set(e, ERR_INVALID, "unitOfMeasure",
			       "unitOfMeasure must be a code of the MH CAT-014 catalogue (59 = unidad)");
	if (in->reason && utf8_len(in->reason) > CATALOG_REASON_MAX)
		return err_set(e, ERR_INVALID, "priceChangeReason", "priceChangeReason must be at most %d characters",
			       CATALOG_REASON_MAX);
	return 0;
}

static int scale_of(const char *code)
{
	const struct currency *cur = currency_find(code);
	return cur ? cur->minor_units : 2;
}

json_t *catalog_service_json(const struct catalog_service *s)
{
	char rate[MONEY_MAX_TEXT];

	money_format(s->tax_rate_bp, 2, rate, sizeof(rate));
	return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o, s:s, s:s, s:s, s:s, s:i, s:s?, s:i, s:s?, s:b, "
			 "s:s, s:s}",
			 "id", s->id, "code", s->code, "name", s->name, "description", s->description, "category",
			 s->category, "price", money_json_string(s->price_minor, scale_of(s->currency)), "currency",
			 s->currency, "taxTreatment", catalog_tax_name(s->tax), "taxRate", rate, "itemType",
			 catalog_item_type_name(s->item_type), "mhTipoItem", (int)s->item_type, "procedureCode",
			 s->procedure_code[0] ? s->procedure_code : NULL, "unitOfMeasure", s->unit_of_measure,
			 "unitOfMeasureName", catalog_uom_name(s->unit_of_measure), "active", s->active, "createdAt",
			 s->created_at, "updatedAt", s->updated_at);
}

json_t *catalog_price_json(const struct catalog_price *p)
{
	char rate[MONEY_MAX_TEXT];

	money_format(p->tax_rate_bp, 2, rate, sizeof(rate));
	return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?}", "id", p->id, "serviceId",
			 p->service_id, "price", money_json_string(p->price_minor, p->minor_units), "currency",
			 p->currency, "taxTreatment", catalog_tax_name(p->tax), "taxRate", rate, "validFrom",
			 p->valid_from, "validTo", p->valid_to[0] ? p->valid_to : NULL, "changedBy",
			 p->changed_by[0] ? p->changed_by : NULL, "reason", p->reason);
}

/* Apply the fields of in that are set onto s (already checked). */
static void apply_input(struct catalog_service *s, const struct catalog_input *in, struct arena *a)
{
	unsigned set = in->set;

	if (set & CATALOG_F_CODE)
		snprintf(s->code, sizeof(s->code), "%s", in->code);
	if (set & CATALOG_F_NAME)
		s->name = arena_strdup(a, in->name);
	if (set & CATALOG_F_DESCRIPTION)
		s->description = in->description ? arena_strdup(a, in->description) : NULL;
	if (set & CATALOG_F_CATEGORY)
		s->category = arena_strdup(a, in->category);
	if (set & CATALOG_F_CURRENCY)
		snprintf(s->currency, sizeof(s->currency), "%s", in->currency);
	if (set & CATALOG_F_TAX) {
		s->tax = (enum catalog_tax)catalog_tax_parse(in->tax);
		s->tax_rate_bp = catalog_tax_rate_bp(s->tax);
	}
	if (set & CATALOG_F_ITEM_TYPE)
		s->item_type = (enum catalog_item_type)catalog_item_type_parse(in->item_type);
	if (set & CATALOG_F_PROCEDURE) {
		if (in->procedure_code)
			procedure_normalize(in->procedure_code, s->procedure_code);
		else
			s->procedure_code[0] = '\0';
	}
	if (set & CATALOG_F_UOM)
		s->unit_of_measure = (int)in->unit_of_measure;
	if (set & CATALOG_F_ACTIVE)
		s->active = in->active;
}

/* The price in s's currency; the currency must be known. */
static int parse_price_for(struct catalog_service *s, const json_t *price, struct err *e)
{
	const struct currency *cur = currency_find(s->currency);

	if (!cur)
		return err_set(e, ERR_INVALID, "currency", "the tenant's currency is not supported; give a currency");
	return catalog_price_parse(price, cur, &s->price_minor, e);
}

/* Code not used by another service of the tenant. */
static int check_code_free(struct db_conn *c, const char *tenant_id, const char *code, const char *self_id,
			   struct err *e)
{
	bool taken = false;
	int rc = catalog__code_taken(c, tenant_id, code, self_id, &taken, e);

	if (rc)
		return rc;
	if (taken)
		return err_set(e, ERR_CONFLICT, "code", "a service with this code already exists");
	return 0;
}

/* A unique violation on write is a concurrent insert of the same code. */
static int code_conflict(int rc, struct err *e)
{
	if (rc == ERR_CONFLICT)
		return err_set(e, ERR_CONFLICT, "code", "a service with this code already exists");
	return rc;
}

int catalog_create(struct db *db, const struct actor *who, const struct catalog_input *in, struct arena *a,
		   struct catalog_service **out, struct err *e)
{
	struct db_conn *c = NULL;
	struct catalog_service *s = arena_alloc(a, sizeof(*s));
	json_t *after = NULL;
	char now[TIME_ISO_LEN + 1];
	int rc;

	*out = NULL;
	rc = catalog_input_check(in, true, e);
	if (rc)
		return rc;
	s->tax = CATALOG_TAX_TAXABLE;
	s->tax_rate_bp = catalog_tax_rate_bp(s->tax);
	s->item_type = CATALOG_ITEM_SERVICE;
	s->unit_of_measure = CATALOG_UOM_DEFAULT;
	s->active = true;
	apply_input(s, in, a);

	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc)
		goto out;
	rc = db_begin(c, e);
	if (rc)
		goto out;
	if (!(in->set & CATALOG_F_CURRENCY)) {
		rc = catalog__tenant_currency(c, who->tenant_id, s->currency, e);
		if (rc)
			goto out;
	}
	rc = parse_price_for(s, in->price, e);
	if (rc)
		goto out;
	rc = check_code_free(c, who->tenant_id, s->code, NULL, e);
	if (rc)
		goto out;

	uuid_v4(s->id);
	time_now_iso(now);
	memcpy(s->created_at, now, sizeof(now));
	memcpy(s->updated_at, now, sizeof(now));
	rc = code_conflict(catalog__insert(c, who->tenant_id, s, e), e);
	if (rc)
		goto out;
	rc = catalog__price_roll(c, who->tenant_id, s, now, who->id, in->reason, false, e);
	if (rc)
		goto out;
	after = catalog_service_json(s);
	rc = audit_record(c, who, "service.create", "service", s->id, NULL, after, in->reason, e);
	if (rc)
		goto out;
	rc = db_commit(c, e);
out:
	if (c)
		db_release(c); /* rolls back unless committed */
	json_decref(after);
	if (!rc)
		*out = s;
	return rc;
}

static bool str_eq(const char *x, const char *y)
{
	if (!x || !y)
		return x == y;
	return strcmp(x, y) == 0;
}

/* Lock the service's row, then read it (see catalog__lock). */
static int load_for_update(struct db_conn *c, const char *tenant_id, const char *id, struct arena *a,
			   struct catalog_service **out, struct err *e)
{
	int rc = catalog__lock(c, tenant_id, id, e);

	if (rc)
		return rc;
	return catalog_get(c, tenant_id, id, a, out, e);
}

int catalog_update(struct db *db, const struct actor *who, const char *id, const struct catalog_input *in,
		   struct arena *a, struct catalog_service **out, struct err *e)
{
	struct db_conn *c = NULL;
	struct catalog_service *old = NULL, *s = arena_alloc(a, sizeof(*s));
	json_t *before = NULL, *after = NULL;
	char now[TIME_ISO_LEN + 1];
	bool price_changed, changed;
	int rc;

	*out = NULL;
	rc = catalog_input_check(in, false, e);
	if (rc)
		return rc;
	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc)
		goto out;
	rc = db_begin(c, e);
	if (rc)
		goto out;
	rc = load_for_update(c, who->tenant_id, id, a, &old, e);
	if (rc)
		goto out;
	*s = *old;
	apply_input(s, in, a);
	if (strcmp(s->currency, old->currency) != 0 && !(in->set & CATALOG_F_PRICE)) {
		rc = err_set(e, ERR_INVALID, "price", "price is required when currency changes");
		goto out;
	}
	if (in->set & CATALOG_F_PRICE) {
		rc = parse_price_for(s, in->price, e);
		if (rc)
			goto out;
	}
	if (strcmp(s->code, old->code) != 0) {
		rc = check_code_free(c, who->tenant_id, s->code, s->id, e);
		if (rc)
			goto out;
	}

	price_changed =
	    s->price_minor != old->price_minor || strcmp(s->currency, old->currency) != 0 || s->tax != old->tax;
	changed = price_changed || strcmp(s->code, old->code) != 0 || !str_eq(s->name, old->name) ||
		  !str_eq(s->description, old->description) || !str_eq(s->category, old->category) ||
		  s->item_type != old->item_type || strcmp(s->procedure_code, old->procedure_code) != 0 ||
		  s->unit_of_measure != old->unit_of_measure || s->active != old->active;
	if (!changed)
		goto out; /* nothing to write: answer with the current entry */

	time_now_iso(now);
	memcpy(s->updated_at, now, sizeof(now));
	rc = code_conflict(catalog__update(c, who->tenant_id, s, e), e);
	if (rc)
		goto out;
	if (price_changed) {
		rc = catalog__price_roll(c, who->tenant_id, s, now, who->id, in->reason, true, e);
		if (rc)
			goto out;
	}
	before = catalog_service_json(old);
	after = catalog_service_json(s);
	rc = audit_record(c, who, "service.update", "service", s->id, before, after, in->reason, e);
	if (rc)
		goto out;
	rc = db_commit(c, e);
out:
	if (c)
		db_release(c);
	json_decref(before);
	json_decref(after);
	if (!rc)
		*out = s;
	return rc;
}

int catalog_deactivate(struct db *db, const struct actor *who, const char *id, const char *reason, struct arena *a,
		       struct catalog_service **out, struct err *e)
{
	struct db_conn *c = NULL;
	struct catalog_service *old = NULL, *s = arena_alloc(a, sizeof(*s));
	json_t *before = NULL, *after = NULL;
	int rc;

	*out = NULL;
	if (reason && utf8_len(reason) > CATALOG_REASON_MAX)
		return err_set(e, ERR_INVALID, "reason", "reason must be at most %d characters", CATALOG_REASON_MAX);
	rc = db_acquire(db, DB_WRITE, &c, e);
	if (rc)
		goto out;
	rc = db_begin(c, e);
	if (rc)
		goto out;
	rc = load_for_update(c, who->tenant_id, id, a, &old, e);
	if (rc)
		goto out;
	if (!old->active) {
		err_set(e, ERR_CONFLICT, NULL, "service is already inactive");
		rc = err_name(e, "INVALID_STATE");
		goto out;
	}
	*s = *old;
	s->active = false;
	time_now_iso(s->updated_at);
	rc = catalog__update(c, who->tenant_id, s, e);
	if (rc)
		goto out;
	before = catalog_service_json(old);
	after = catalog_service_json(s);
	rc = audit_record(c, who, "service.deactivate", "service", s->id, before, after, reason, e);
	if (rc)
		goto out;
	rc = db_commit(c, e);
out:
	if (c)
		db_release(c);
	json_decref(before);
	json_decref(after);
	if (!rc)
		*out = s;
	return rc;
}

int catalog_load(struct db *db, const char *tenant_id, const char *id, struct arena *a, struct catalog_service **out,
		 struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	*out = NULL;
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = catalog_get(c, tenant_id, id, a, out, e);
	db_release(c);
	return rc;
}

int catalog_list(struct db *db, const char *tenant_id, const struct catalog_filter *f, int page, int limit,
		 struct arena *a, struct catalog_service **out, size_t *n, int64_t *total, struct err *e)
{
	struct db_conn *c = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (f->search && utf8_len(f->search) > CATALOG_NAME_MAX)
		return err_set(e, ERR_INVALID, "search", "search must be at most %d characters", CATALOG_NAME_MAX);
	if (f->category && utf8_len(f->category) > CATALOG_CATEGORY_MAX)
		return err_set(e, ERR_INVALID, "category", "category must be at most %d characters",
			       CATALOG_CATEGORY_MAX);
	if (f->tax && catalog_tax_parse(f->tax) < 0)
		return err_set(e, ERR_INVALID, "taxTreatment",
			       "taxTreatment must be one of taxable, exempt, not_subject");
	if (f->item_type && catalog_item_type_parse(f->item_type) < 0)
		return err_set(e, ERR_INVALID, "itemType", "itemType must be one of good, service");
	if (page < 1 || limit < 1)
		return err_set(e, ERR_INVALID, "page", "page and limit must be positive");
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = catalog__list(c, tenant_id, f, (int64_t)(page - 1) * limit, limit, a, out, n, total, e);
	db_release(c);
	return rc;
}

int catalog_price_history(struct db *db, const char *tenant_id, const char *service_id, int page, int limit,
			  struct arena *a, struct catalog_price **out, size_t *n, int64_t *total, struct err *e)
{
	struct db_conn *c = NULL;
	struct catalog_service *s;
	int rc;

	*out = NULL;
	*n = 0;
	*total = 0;
	if (page < 1 || limit < 1)
		return err_set(e, ERR_INVALID, "page", "page and limit must be positive");
	rc = db_acquire(db, DB_READ, &c, e);
	if (rc)
		return rc;
	rc = catalog_get(c, tenant_id, service_id, a, &s, e);
	if (!rc)
		rc =
		    catalog__history(c, tenant_id, service_id, (int64_t)(page - 1) * limit, limit, a, out, n, total, e);
	db_release(c);
	return rc;
}
