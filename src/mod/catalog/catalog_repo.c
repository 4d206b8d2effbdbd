/*
 * catalog_repo.c - all SQL of the service catalog: the services table and its
 * price history (service_prices, migration 0005). Every statement filters by
 * the caller's tenant; rows are decoded into structs in the caller's arena.
 */
#include <stdio.h>
#include <string.h>

#include "mod/catalog/catalog_repo.h"

#define SERVICE_COLS                                                                                                   \
	"id, code, name, description, category, price_minor, currency, tax_treatment, tax_rate_bp, "                   \
	"item_type, procedure_code, unit_of_measure, active, created_at, updated_at"

#define PRICE_COLS                                                                                                     \
	"id, service_id, price_minor, currency, tax_treatment, tax_rate_bp, valid_from, valid_to, "                    \
	"changed_by, reason"

static void copy_text(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void decode_service(const struct db_rows *r, size_t i, struct arena *a, struct catalog_service *s)
{
	int t;

	copy_text(s->id, sizeof(s->id), db_rows_text(r, i, 0));
	copy_text(s->code, sizeof(s->code), db_rows_text(r, i, 1));
	s->name = arena_strdup(a, db_rows_text(r, i, 2));
	s->description = arena_strdup(a, db_rows_text(r, i, 3));
	s->category = arena_strdup(a, db_rows_text(r, i, 4));
	s->price_minor = db_rows_int(r, i, 5);
	copy_text(s->currency, sizeof(s->currency), db_rows_text(r, i, 6));
	t = catalog_tax_parse(db_rows_text(r, i, 7));
	s->tax = t < 0 ? CATALOG_TAX_TAXABLE : (enum catalog_tax)t;
	s->tax_rate_bp = (int)db_rows_int(r, i, 8);
	t = catalog_item_type_parse(db_rows_text(r, i, 9));
	s->item_type = t < 0 ? CATALOG_ITEM_SERVICE : (enum catalog_item_type)t;
	copy_text(s->procedure_code, sizeof(s->procedure_code), db_rows_text(r, i, 10));
	s->unit_of_measure = (int)db_rows_int(r, i, 11);
	s->active = db_rows_int(r, i, 12) != 0;
	copy_text(s->created_at, sizeof(s->created_at), db_rows_text(r, i, 13));
	copy_text(s->updated_at, sizeof(s->updated_at), db_rows_text(r, i, 14));
}

static void decode_price(const struct db_rows *r, size_t i, struct arena *a, struct catalog_price *p)
{
	const struct currency *cur;
	int t;

	copy_text(p->id, sizeof(p->id), db_rows_text(r, i, 0));
	copy_text(p->service_id, sizeof(p->service_id), db_rows_text(r, i, 1));
	p->price_minor = db_rows_int(r, i, 2);
	copy_text(p->currency, sizeof(p->currency), db_rows_text(r, i, 3));
	cur = currency_find(p->currency);
	p->minor_units = cur ? cur->minor_units : 2;
	t = catalog_tax_parse(db_rows_text(r, i, 4));
	p->tax = t < 0 ? CATALOG_TAX_TAXABLE : (enum catalog_tax)t;
	p->tax_rate_bp = (int)db_rows_int(r, i, 5);
	copy_text(p->valid_from, sizeof(p->valid_from), db_rows_text(r, i, 6));
	copy_text(p->valid_to, sizeof(p->valid_to), db_rows_text(r, i, 7));
	copy_text(p->changed_by, sizeof(p->changed_by), db_rows_text(r, i, 8));
	p->reason = a ? arena_strdup(a, db_rows_text(r, i, 9)) : NULL;
}

int catalog_get(struct db_conn *c, const char *tenant_id, const char *id, struct arena *a, struct catalog_service **out,
		struct err *e)
{
	struct db_rows *r = NULL;
	struct catalog_service *s;
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	int rc;

	*out = NULL;
	rc = db_query(c, "SELECT " SERVICE_COLS " FROM services WHERE tenant_id = ? AND id = ?", p, DB_NPARAMS(p), &r,
		      e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 0) {
		rc = err_set(e, ERR_NOT_FOUND, NULL, "service not found");
		goto out;
	}
	s = arena_alloc(a, sizeof(*s));
	decode_service(r, 0, a, s);
	*out = s;
out:
	db_rows_free(r);
	return rc;
}

int catalog_price_at(struct db_conn *c, const char *tenant_id, const char *service_id, const char *at_iso,
		     struct catalog_price *out, struct err *e)
{
	struct db_rows *r = NULL;
	char at[TIME_ISO_LEN + 1];
	int64_t epoch_s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (at_iso) {
		rc = time_parse_iso(at_iso, &epoch_s, "at", e);
		if (rc)
			return rc;
		time_iso(epoch_s, at); /* canonical UTC text compares in time order */
	} else {
		time_now_iso(at);
	}
	{
		const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(service_id), DBP_TEXT(at), DBP_TEXT(at)};
		rc = db_query(c,
			      "SELECT " PRICE_COLS " FROM service_prices WHERE tenant_id = ? AND service_id = ? "
			      "AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) "
			      "ORDER BY seq DESC LIMIT 1",
			      p, DB_NPARAMS(p), &r, e);
	}
	if (rc)
		return rc;
	if (db_rows_count(r) == 0)
		rc = err_set(e, ERR_NOT_FOUND, NULL, "service has no price at that time");
	else
		decode_price(r, 0, NULL, out);
	db_rows_free(r);
	return rc;
}

int catalog__tenant_currency(struct db_conn *c, const char *tenant_id, char out[4], struct err *e)
{
	struct db_rows *r = NULL;
	const struct db_param p[] = {DBP_TEXT(tenant_id)};
	int rc;

	rc = db_query(c, "SELECT currency FROM tenants WHERE id = ?", p, DB_NPARAMS(p), &r, e);
	if (rc)
		return rc;
	if (db_rows_count(r) == 0 || db_rows_isnull(r, 0, 0))
		rc = err_set(e, ERR_NOT_FOUND, NULL, "tenant not found");
	else
		copy_text(out, 4, db_rows_text(r, 0, 0));
	db_rows_free(r);
	return rc;
}

int catalog__code_taken(struct db_conn *c, const char *tenant_id, const char *code, const char *except_id, bool *taken,
			struct err *e)
{
	int64_t n = 0;
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(code), DBP_TEXT(except_id ? except_id : "")};
	int rc = db_query_int(c,
			      "SELECT COUNT(*) FROM services WHERE tenant_id = ? AND lower(code) = lower(?) "
			      "AND id <> ?",
			      p, DB_NPARAMS(p), &n, e);

	if (rc)
		return rc;
	*taken = n > 0;
	return 0;
}

int catalog__lock(struct db_conn *c, const char *tenant_id, const char *id, struct err *e)
{
	int64_t n = 0;
	const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(id)};
	int rc = db_exec(c, "UPDATE services SET updated_at = updated_at WHERE tenant_id = ? AND id = ?", p,
			 DB_NPARAMS(p), &n, e);

	if (rc)
		return rc;
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "service not found");
	return 0;
}

int catalog__insert(struct db_conn *c, const char *tenant_id, const struct catalog_service *s, struct err *e)
{
	const struct db_param p[] = {
	    DBP_TEXT(s->id),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(s->code),
	    DBP_TEXT(s->name),
	    DBP_TEXT(s->description),
	    DBP_TEXT(s->category),
	    DBP_INT(s->price_minor),
	    DBP_TEXT(s->currency),
	    DBP_TEXT(catalog_tax_name(s->tax)),
	    DBP_INT(s->tax_rate_bp),
	    DBP_TEXT(catalog_item_type_name(s->item_type)),
	    DBP_TEXT(s->procedure_code[0] ? s->procedure_code : NULL),
	    DBP_INT(s->unit_of_measure),
	    DBP_INT(s->active ? 1 : 0),
	    DBP_TEXT(s->created_at),
	    DBP_TEXT(s->updated_at),
	};

	return db_exec(c,
		       "INSERT INTO services (id, tenant_id, code, name, description, category, price_minor, "
		       "currency, tax_treatment, tax_rate_bp, item_type, procedure_code, unit_of_measure, "
		       "active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       p, DB_NPARAMS(p), NULL, e);
}

int catalog__update(struct db_conn *c, const char *tenant_id, const struct catalog_service *s, struct err *e)
{
	int64_t n = 0;
	const struct db_param p[] = {
	    DBP_TEXT(s->code),
	    DBP_TEXT(s->name),
	    DBP_TEXT(s->description),
	    DBP_TEXT(s->category),
	    DBP_INT(s->price_minor),
	    DBP_TEXT(s->currency),
	    DBP_TEXT(catalog_tax_name(s->tax)),
	    DBP_INT(s->tax_rate_bp),
	    DBP_TEXT(catalog_item_type_name(s->item_type)),
	    DBP_TEXT(s->procedure_code[0] ? s->procedure_code : NULL),
	    DBP_INT(s->unit_of_measure),
	    DBP_INT(s->active ? 1 : 0),
	    DBP_TEXT(s->updated_at),
	    DBP_TEXT(tenant_id),
	    DBP_TEXT(s->id),
	};
	int rc = db_exec(c,
			 "UPDATE services SET code = ?, name = ?, description = ?, category = ?, price_minor = ?, "
			 "currency = ?, tax_treatment = ?, tax_rate_bp = ?, item_type = ?, procedure_code = ?, "
			 "unit_of_measure = ?, active = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
			 p, DB_NPARAMS(p), &n, e);

	if (rc)
		return rc;
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, NULL, "service not found");
	return 0;
}

int catalog__price_roll(struct db_conn *c, const char *tenant_id, const struct catalog_service *s, const char *now_iso,
			const char *changed_by, const char *reason, bool close_current, struct err *e)
{
	char id[UUID_LEN + 1];
	int64_t seq = 0;
	int rc;

	if (close_current) {
		const struct db_param p[] = {DBP_TEXT(now_iso), DBP_TEXT(tenant_id), DBP_TEXT(s->id)};
		rc = db_exec(c,
			     "UPDATE service_prices SET valid_to = ? WHERE tenant_id = ? AND service_id = ? "
			     "AND valid_to IS NULL",
			     p, DB_NPARAMS(p), NULL, e);
		if (rc)
			return rc;
	}
	{
		const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(s->id)};
		rc = db_query_int(c,
				  "SELECT COALESCE(MAX(seq), 0) FROM service_prices WHERE tenant_id = ? "
				  "AND service_id = ?",
				  p, DB_NPARAMS(p), &seq, e);
		if (rc)
			return rc;
	}
	uuid_v4(id);
	{
		const struct db_param p[] = {
		    DBP_TEXT(id),
		    DBP_TEXT(tenant_id),
		    DBP_TEXT(s->id),
		    DBP_INT(seq + 1),
		    DBP_INT(s->price_minor),
		    DBP_TEXT(s->currency),
		    DBP_TEXT(catalog_tax_name(s->tax)),
		    DBP_INT(s->tax_rate_bp),
		    DBP_TEXT(now_iso),
		    DBP_TEXT(changed_by),
		    DBP_TEXT(reason),
		};
		return db_exec(c,
			       "INSERT INTO service_prices (id, tenant_id, service_id, seq, price_minor, currency, "
			       "tax_treatment, tax_rate_bp, valid_from, valid_to, changed_by, reason) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
			       p, DB_NPARAMS(p), NULL, e);
	}
}

/* "%text%" for LIKE ... ESCAPE '\', lower-cased (ASCII, as SQL lower() here). Arena. */
static char *like_pattern(struct arena *a, const char *text)
{
	size_t n = strlen(text), j = 0;
	char *out = arena_alloc(a, 2 * n + 3);

	out[j++] = '%';
	for (size_t i = 0; i < n; i++) {
		char ch = text[i];
		if (ch == '%' || ch == '_' || ch == '\\')
			out[j++] = '\\';
		out[j++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	out[j++] = '%';
	out[j] = '\0';
	return out;
}

int catalog__list(struct db_conn *c, const char *tenant_id, const struct catalog_filter *f, int64_t offset, int limit,
		  struct arena *a, struct catalog_service **out, size_t *n, int64_t *total, struct err *e)
{
	struct db_param p[10];
	size_t np = 0, count;
	char where[512];
	size_t wl = 0;
	struct db_rows *r = NULL;
	struct catalog_service *items;
	char *sql;
	int rc;

	*out = NULL;
	*n = 0;
	/* Fixed fragments only; every value is a bound parameter. */
	wl += (size_t)snprintf(where + wl, sizeof(where) - wl, "tenant_id = ?");
	p[np++] = DBP_TEXT(tenant_id);
	if (f->active >= 0) {
		wl += (size_t)snprintf(where + wl, sizeof(where) - wl, " AND active = ?");
		p[np++] = DBP_INT(f->active ? 1 : 0);
	}
	if (f->search && *f->search) {
		const char *pat = like_pattern(a, f->search);
		wl += (size_t)snprintf(where + wl, sizeof(where) - wl,
				       " AND (lower(code) LIKE ? ESCAPE '\\' OR lower(name) LIKE ? ESCAPE '\\')");
		p[np++] = DBP_TEXT(pat);
		p[np++] = DBP_TEXT(pat);
	}
	if (f->category) {
		wl += (size_t)snprintf(where + wl, sizeof(where) - wl, " AND lower(category) = lower(?)");
		p[np++] = DBP_TEXT(f->category);
	}
	if (f->tax) {
		wl += (size_t)snprintf(where + wl, sizeof(where) - wl, " AND tax_treatment = ?");
		p[np++] = DBP_TEXT(f->tax);
	}
	if (f->item_type) {
		wl += (size_t)snprintf(where + wl, sizeof(where) - wl, " AND item_type = ?");
		p[np++] = DBP_TEXT(f->item_type);
	}

	sql = arena_printf(a, "SELECT COUNT(*) FROM services WHERE %s", where);
	rc = db_query_int(c, sql, p, np, total, e);
	if (rc)
		return rc;

	p[np++] = DBP_INT(limit);
	p[np++] = DBP_INT(offset);
	sql = arena_printf(a,
			   "SELECT " SERVICE_COLS " FROM services WHERE %s "
			   "ORDER BY lower(category), lower(name), code, id LIMIT ? OFFSET ?",
			   where);
	rc = db_query(c, sql, p, np, &r, e);
	if (rc)
		return rc;
	count = db_rows_count(r);
	items = arena_alloc(a, (count ? count : 1) * sizeof(*items));
	for (size_t i = 0; i < count; i++)
		decode_service(r, i, a, &items[i]);
	db_rows_free(r);
	*out = items;
	*n = count;
	return 0;
}

int catalog__history(struct db_conn *c, const char *tenant_id, const char *service_id, int64_t offset, int limit,
		     struct arena *a, struct catalog_price **out, size_t *n, int64_t *total, struct err *e)
{
	struct db_rows *r = NULL;
	struct catalog_price *items;
	size_t count;
	int rc;

	*out = NULL;
	*n = 0;
	{
		const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(service_id)};
		rc = db_query_int(c, "SELECT COUNT(*) FROM service_prices WHERE tenant_id = ? AND service_id = ?", p,
				  DB_NPARAMS(p), total, e);
		if (rc)
			return rc;
	}
	{
		const struct db_param p[] = {DBP_TEXT(tenant_id), DBP_TEXT(service_id), DBP_INT(limit),
					     DBP_INT(offset)};
		rc = db_query(c,
			      "SELECT " PRICE_COLS " FROM service_prices WHERE tenant_id = ? AND service_id = ? "
			      "ORDER BY seq DESC LIMIT ? OFFSET ?",
			      p, DB_NPARAMS(p), &r, e);
		if (rc)
			return rc;
	}
	count = db_rows_count(r);
	items = arena_alloc(a, (count ? count : 1) * sizeof(*items));
	for (size_t i = 0; i < count; i++)
		decode_price(r, i, a, &items[i]);
	db_rows_free(r);
	*out = items;
	*n = count;
	return 0;
}
