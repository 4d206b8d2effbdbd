/*
 * orders_http.c - /api/orders (clinic-billing-backend.md §1): an order is a
 * billing document with source "order", created from catalog services.
 *
 * POST copies each service's price, currency and tax treatment in force now
 * (billing_create does the copy and the arithmetic); this file checks the
 * clinic's rules first, on one read connection: the patient exists in the
 * tenant and is active, every service exists, is active and all share one
 * currency (the order's), and a requested tax document finds a fiscal
 * identity on the patient (orders.h). PUT edits notes, due date, tax
 * document and replaces items; DELETE cancels with an optional reason.
 * Responses are orders_json (amounts as decimal strings). docs/orders.md.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "core/jsonv.h"
#include "core/money.h"
#include "http/handlers.h"
#include "mod/billing/billing.h"
#include "mod/billing/orders.h"
#include "mod/catalog/catalog.h"
#include "mod/patients/patients.h"
#include "mod/tenants/tenants.h"

#define NFIELDS(t)		     (sizeof(t) / sizeof((t)[0]))
#define ORDERS_CANCEL_REASON_DEFAULT "cancelled at the clinic"

static const char *const tax_doc_types[] = {ORDERS_TAX_DOC_FACTURA, ORDERS_TAX_DOC_CCF, NULL};

static const struct jv_field create_fields[] = {
    {"patientId", JV_UUID, JV_REQUIRED, 0, 0, NULL, 0},
    {"items", JV_ARRAY, JV_REQUIRED, 1, ORDERS_MAX_ITEMS, NULL, 0},
    {"notes", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
    {"dueDate", JV_DATE, JV_NULLABLE, 0, 0, NULL, 0},
    {"taxDocument", JV_OBJECT, JV_NULLABLE, 0, 0, NULL, 0},
};

static const struct jv_field update_fields[] = {
    {"items", JV_ARRAY, 0, 1, ORDERS_MAX_ITEMS, NULL, 0},
    {"notes", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
    {"dueDate", JV_DATE, JV_NULLABLE, 0, 0, NULL, 0},
    {"taxDocument", JV_OBJECT, JV_NULLABLE, 0, 0, NULL, 0},
};

static const struct jv_field item_fields[] = {
    {"serviceId", JV_UUID, JV_REQUIRED, 0, 0, NULL, 0},
    {"quantity", JV_DECIMAL, 0, 0, 0, NULL, QTY_SCALE},
    {"discountPercent", JV_DECIMAL, JV_NULLABLE, 0, 0, NULL, PCT_SCALE},
    {"discountAmount", JV_DECIMAL, JV_NULLABLE, 0, 0, NULL, BILL_IN_SCALE},
    {"notes", JV_STRING, JV_NULLABLE, 0, BILL_TEXT_MAX, NULL, 0},
};

static const struct jv_field tax_doc_fields[] = {
    {"required", JV_BOOL, JV_REQUIRED, 0, 0, NULL, 0},
    {"type", JV_STRING, JV_NULLABLE, 0, 0, tax_doc_types, 0},
};

static const struct jv_field cancel_fields[] = {
    {"reason", JV_STRING, JV_NULLABLE, 0, BILL_REASON_MAX, NULL, 0},
};

/* Lower-case copy of a (validated) UUID into the arena. */
static char *lower_id(struct arena *a, const char *id)
{
	char *s = arena_strdup(a, id);

	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

/* The :id path variable, lower-cased; not a UUID -> 404. */
static int path_id(struct req_ctx *ctx, const char **out, struct err *e)
{
	const char *id = http_param(ctx->req, "id");

	if (!id || !uuid_valid(id))
		return err_set(e, ERR_NOT_FOUND, NULL, "order not found");
	*out = lower_id(ctx->req->arena, id);
	return 0;
}

/* The items array (checked by jv_check for its size) into line inputs in the
 * arena. Shape and ranges only: services are resolved by check_services. */
static int parse_items(struct arena *a, const json_t *items, struct bill_line_input **out, size_t *n, struct err *e)
{
	size_t count = json_array_size(items), i;
	struct bill_line_input *lines = arena_alloc(a, (count ? count : 1) * sizeof(*lines));
	const json_t *item;
	int rc;

	json_array_foreach(items, i, item)
	{
		struct bill_line_input *l = &lines[i];
		char *prefix = arena_printf(a, "items[%zu].", i), *field;
		const json_t *v;

		if (!json_is_object(item)) {
			prefix[strlen(prefix) - 1] = '\0';
			return err_set(e, ERR_INVALID, prefix, "%s must be an object", prefix);
		}
		rc = jv_check(item, item_fields, NFIELDS(item_fields), prefix, e);
		if (rc)
			return rc;
		l->service_id = lower_id(a, jv_str(item, "serviceId"));
		l->description = jv_str(item, "notes");
		l->quantity_milli = 1000;
		v = json_object_get(item, "quantity");
		if (v) {
			field = arena_printf(a, "%squantity", prefix);
			rc = money_from_json(v, QTY_SCALE, &l->quantity_milli, field, e);
			if (rc)
				return rc;
			if (l->quantity_milli <= 0)
				return err_set(e, ERR_INVALID, field, "%s must be greater than 0", field);
		}
		v = json_object_get(item, "discountPercent");
		if (v && !json_is_null(v)) {
			field = arena_printf(a, "%sdiscountPercent", prefix);
			rc = money_from_json(v, PCT_SCALE, &l->discount_pct, field, e);
			if (rc)
				return rc;
			if (l->discount_pct < 0 || l->discount_pct > 100 * 10000)
				return err_set(e, ERR_INVALID, field, "%s must be between 0 and 100", field);
			l->has_discount_pct = true;
		}
		v = json_object_get(item, "discountAmount");
		if (v && !json_is_null(v)) {
			field = arena_printf(a, "%sdiscountAmount", prefix);
			if (l->has_discount_pct)
				return err_set(e, ERR_INVALID, field, "give %sdiscountPercent or %s, not both", prefix,
					       field);
			rc = money_from_json(v, BILL_IN_SCALE, &l->discount_amount_micro, field, e);
			if (rc)
				return rc;
			if (l->discount_amount_micro < 0)
				return err_set(e, ERR_INVALID, field, "%s must not be negative", field);
			l->has_discount_amount = true;
		}
	}
	*out = lines;
	*n = count;
	return 0;
}

/* taxDocument into a type ("01" / "03") or NULL when none is requested.
 * {required: false} (with or without a type) asks for none; {required:
 * true} without a type asks for a Factura ("01"). */
static int parse_tax_doc(const json_t *obj, const char **type, struct err *e)
{
	int rc;

	*type = NULL;
	if (!obj || json_is_null(obj))
		return 0;
	rc = jv_check(obj, tax_doc_fields, NFIELDS(tax_doc_fields), "taxDocument.", e);
	if (rc)
		return rc;
	if (jv_bool(obj, "required", false))
		*type = jv_str(obj, "type") ? jv_str(obj, "type") : ORDERS_TAX_DOC_FACTURA;
	return 0;
}

/* The tenant's country into out[3]. */
static int tenant_country(struct db_conn *c, const char *tenant_id, char out[3], struct err *e)
{
	struct tenant t;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = tenants_get(c, tenant_id, &t, e);
	if (rc)
		return rc;
	snprintf(out, 3, "%s", t.country);
	tenant_release(&t);
	return 0;
}

/* The order's patient: exists in the tenant and is active; with a tax
 * document type, carries a fiscal identity for the tenant's country. */
static int check_patient(struct req_ctx *ctx, struct db_conn *c, const char *patient_id, const char *tax_doc_type,
			 const char *country, struct err *e)
{
	struct patient p;
	struct orders_fiscal_identity fid;
	int rc;

	memset(&p, 0, sizeof(p));
	rc = patients_repo_get(c, &ctx->app->keys, ctx->who.tenant_id, patient_id, ctx->req->arena, &p, e);
	if (rc == ERR_NOT_FOUND)
		return err_set(e, ERR_INVALID, "patientId", "patientId does not name a patient of this clinic");
	if (rc)
		return rc;
	if (!p.active)
		return err_set(e, ERR_INVALID, "patientId", "patientId names an inactive patient");
	if (!tax_doc_type)
		return 0;
	fid.document_type = p.document_type;
	fid.has_document_number = p.document_number && *p.document_number;
	fid.has_nrc = p.nrc && *p.nrc;
	return orders_tax_identity_check(country, tax_doc_type, &fid, e);
}

/* Every item's service exists in the tenant and is active, and all are
 * priced in one currency: the order's (currency, when given, else the
 * first item's, written to cur_out[4]). */
static int check_services(struct req_ctx *ctx, struct db_conn *c, const struct bill_line_input *lines, size_t n,
			  const char *currency, char cur_out[4], struct err *e)
{
	struct arena *a = ctx->req->arena;
	char first[4] = "";

	for (size_t i = 0; i < n; i++) {
		struct catalog_service *svc = NULL;
		char *field = arena_printf(a, "items[%zu].serviceId", i);
		int rc = catalog_get(c, ctx->who.tenant_id, lines[i].service_id, a, &svc, e);

		if (rc == ERR_NOT_FOUND)
			return err_set(e, ERR_INVALID, field, "%s does not name a service of this clinic", field);
		if (rc)
			return rc;
		if (!svc->active)
			return err_set(e, ERR_INVALID, field, "%s names an inactive service", field);
		if (currency && strcmp(svc->currency, currency) != 0)
			return err_set(e, ERR_INVALID, field, "%s is priced in %s but the order is in %s", field,
				       svc->currency, currency);
		if (!first[0])
			snprintf(first, sizeof(first), "%s", svc->currency);
		else if (strcmp(svc->currency, first) != 0)
			return err_set(e, ERR_INVALID, field,
				       "all items must be in one currency: items[0] is priced in %s, %s in %s", first,
				       field, svc->currency);
	}
	snprintf(cur_out, 4, "%s", currency ? currency : first);
	return 0;
}

/* Patient summaries of docs[0..n) into out[] (NULL entries for documents
 * without a patient or whose patient is gone), one read connection, each
 * patient loaded once. */
static int load_patients(struct req_ctx *ctx, const struct bill_document *docs, size_t n,
			 struct orders_patient_summary **out, struct err *e)
{
	struct arena *a = ctx->req->arena;
	struct orders_patient_summary *sums = arena_alloc(a, (n ? n : 1) * sizeof(*sums));
	struct orders_patient_summary **ptrs = arena_alloc(a, (n ? n : 1) * sizeof(*ptrs));
	struct db_conn *c = NULL;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		struct patient p;

		if (!docs[i].patient_id[0])
			continue;
		for (size_t k = 0; k < i; k++)
			if (ptrs[k] && strcmp(ptrs[k]->id, docs[i].patient_id) == 0) {
				ptrs[i] = ptrs[k];
				break;
			}
		if (ptrs[i])
			continue;
		if (!c && (rc = db_acquire(ctx->app->db, DB_READ, &c, e)))
			goto out;
		memset(&p, 0, sizeof(p));
		rc = patients_repo_get(c, &ctx->app->keys, ctx->who.tenant_id, docs[i].patient_id, a, &p, e);
		if (rc == ERR_NOT_FOUND) {
			rc = 0;
			err_clear(e);
			continue;
		}
		if (rc)
			goto out;
		sums[i].id = docs[i].patient_id;
		sums[i].first_name = p.first_name;
		sums[i].last_name = p.last_name;
		ptrs[i] = &sums[i];
	}
	for (size_t i = 0; i < n; i++)
		out[i] = ptrs[i];
out:
	if (c)
		db_release(c);
	return rc;
}

/* An order as JSON with its patient summary. Owned via *json. */
static int order_response(struct req_ctx *ctx, const struct bill_document *d, json_t **json, struct err *e)
{
	struct orders_patient_summary *p = NULL;
	int rc = load_patients(ctx, d, 1, &p, e);

	if (rc)
		return rc;
	*json = orders_json(d, p);
	return 0;
}

HANDLER(orders_http_create)
{
	struct arena *a = ctx->req->arena;
	struct bill_input in;
	struct bill_line_input *lines = NULL;
	struct bill_document *doc = NULL;
	struct db_conn *c = NULL;
	const char *patient_id, *tax_doc_type;
	char country[3] = "", currency[4] = "";
	size_t nlines = 0;
	json_t *body;
	int rc;

	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, create_fields, NFIELDS(create_fields), "", e);
	if (rc)
		return rc;
	rc = parse_items(a, json_object_get(body, "items"), &lines, &nlines, e);
	if (rc)
		return rc;
	rc = parse_tax_doc(json_object_get(body, "taxDocument"), &tax_doc_type, e);
	if (rc)
		return rc;
	patient_id = lower_id(a, jv_str(body, "patientId"));

	rc = db_acquire(ctx->app->db, DB_READ, &c, e);
	if (rc)
		return rc;
	if ((rc = tenant_country(c, ctx->who.tenant_id, country, e)) ||
	    (rc = check_patient(ctx, c, patient_id, tax_doc_type, country, e)) ||
	    (rc = check_services(ctx, c, lines, nlines, NULL, currency, e)))
		goto out;
	db_release(c);
	c = NULL;

	memset(&in, 0, sizeof(in));
	in.source = "order";
	in.patient_id = patient_id;
	in.currency = currency;
	in.due_date = jv_str(body, "dueDate");
	in.notes = jv_str(body, "notes");
	in.prices_include_tax = orders_prices_include_tax(country);
	in.initial_status = BILL_PENDING;
	in.tax_doc_type = tax_doc_type;
	in.lines = lines;
	in.nlines = nlines;
	in.lines_field = "items";
	rc = billing_create(ctx->app->db, &ctx->actor, &in, a, &doc, e);
	if (rc)
		goto out;
	rc = order_response(ctx, doc, &resp->data, e);
	if (rc)
		goto out;
	resp->status = 201;
out:
	if (c)
		db_release(c);
	return rc;
}

/* A comma-separated list of status names (clinic or billing spelling) into
 * a mask of (1u << enum bill_status). */
static int parse_status_mask(struct arena *a, const char *text, unsigned *mask, struct err *e)
{
	char *copy = arena_strdup(a, text), *save = NULL;

	*mask = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int s = billing_status_parse(tok);

		if (s < 0)
			return err_set(e, ERR_INVALID, "status",
				       "status must be one of draft, pending_payment, partially_paid, paid, overdue, "
				       "cancelled, refunded");
		*mask |= 1u << s;
	}
	if (!*mask)
		return err_set(e, ERR_INVALID, "status", "status must name at least one status");
	return 0;
}

static int query_date(struct req_ctx *ctx, const char *name, const char **out, struct err *e)
{
	const char *v = http_query(ctx->req, name);

	*out = NULL;
	if (!v)
		return 0;
	if (!date_valid(v))
		return err_set(e, ERR_INVALID, name, "%s must be a date (YYYY-MM-DD)", name);
	*out = v;
	return 0;
}

HANDLER(orders_http_list)
{
	struct arena *a = ctx->req->arena;
	struct bill_filter f;
	struct bill_document *docs = NULL;
	struct orders_patient_summary **pats;
	const char *v;
	size_t n = 0;
	int64_t total = 0;
	int page, limit, rc;
	json_t *arr;

	memset(&f, 0, sizeof(f));
	f.source = "order";
	rc = http_pagination(ctx->req, ORDERS_PAGE_DEFAULT, ORDERS_PAGE_MAX, &page, &limit, e);
	if (rc)
		return rc;
	if ((v = http_query(ctx->req, "status")) && (rc = parse_status_mask(a, v, &f.status_mask, e)))
		return rc;
	if ((v = http_query(ctx->req, "patientId"))) {
		if (!uuid_valid(v))
			return err_set(e, ERR_INVALID, "patientId", "patientId must be a UUID");
		f.patient_id = lower_id(a, v);
	}
	if ((rc = query_date(ctx, "from", &f.date_from, e)) || (rc = query_date(ctx, "to", &f.date_to, e)))
		return rc;
	if (f.date_from && f.date_to && strcmp(f.date_from, f.date_to) > 0)
		return err_set(e, ERR_INVALID, "to", "to must not be before from");
	if ((v = http_query(ctx->req, "search")) && *v) {
		if (strlen(v) > BILL_NUMBER_LEN + 8)
			return err_set(e, ERR_INVALID, "search", "search must be at most %d characters",
				       BILL_NUMBER_LEN + 8);
		f.number_prefix = v;
	}
	rc = billing_list(ctx->app->db, ctx->who.tenant_id, &f, page, limit, BILL_WITH_LINES | BILL_WITH_PAYMENTS, a,
			  &docs, &n, &total, e);
	if (rc)
		return rc;
	pats = arena_alloc(a, (n ? n : 1) * sizeof(*pats));
	rc = load_patients(ctx, docs, n, pats, e);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, orders_json(&docs[i], pats[i]));
	resp->data = arr;
	resp->extra = json_pack("{s:o}", "pagination", http_pagination_json(page, limit, total));
	return 0;
}

HANDLER(orders_http_get)
{
	struct bill_document *doc = NULL;
	const char *id;
	int rc;

	rc = path_id(ctx, &id, e);
	if (rc)
		return rc;
	rc = billing_get(ctx->app->db, ctx->who.tenant_id, id, BILL_WITH_LINES | BILL_WITH_PAYMENTS, ctx->req->arena,
			 &doc, e);
	if (rc)
		return rc;
	return order_response(ctx, doc, &resp->data, e);
}

HANDLER(orders_http_update)
{
	struct arena *a = ctx->req->arena;
	struct bill_update upd;
	struct bill_document *doc = NULL, *out = NULL;
	struct bill_line_input *lines = NULL;
	struct db_conn *c = NULL;
	const char *id, *tax_doc_type = NULL;
	const json_t *items;
	char country[3] = "", currency[4] = "";
	size_t nlines = 0;
	json_t *body;
	int rc;

	rc = path_id(ctx, &id, e);
	if (rc)
		return rc;
	rc = http_json_body(ctx->req, false, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, update_fields, NFIELDS(update_fields), "", e);
	if (rc)
		return rc;
	items = json_object_get(body, "items");
	if (items && (rc = parse_items(a, items, &lines, &nlines, e)))
		return rc;
	if (jv_has(body, "taxDocument") && (rc = parse_tax_doc(json_object_get(body, "taxDocument"), &tax_doc_type, e)))
		return rc;

	rc = billing_get(ctx->app->db, ctx->who.tenant_id, id, 0, a, &doc, e);
	if (rc)
		return rc;
	if (items || tax_doc_type) {
		rc = db_acquire(ctx->app->db, DB_READ, &c, e);
		if (rc)
			return rc;
		if (items && (rc = check_services(ctx, c, lines, nlines, doc->currency, currency, e)))
			goto out;
		if (tax_doc_type) {
			if (!doc->patient_id[0]) {
				rc = err_set(e, ERR_INVALID, "taxDocument",
					     "a tax document needs an order with a patient");
				goto out;
			}
			if ((rc = tenant_country(c, ctx->who.tenant_id, country, e)) ||
			    (rc = check_patient(ctx, c, doc->patient_id, tax_doc_type, country, e)))
				goto out;
		}
		db_release(c);
		c = NULL;
	}

	memset(&upd, 0, sizeof(upd));
	if (jv_has(body, "notes")) {
		upd.set |= BILL_U_NOTES;
		upd.notes = jv_str(body, "notes");
	}
	if (jv_has(body, "dueDate")) {
		upd.set |= BILL_U_DUE_DATE;
		upd.due_date = jv_str(body, "dueDate");
	}
	if (jv_has(body, "taxDocument")) {
		upd.set |= BILL_U_TAX_DOC;
		upd.tax_doc_type = tax_doc_type;
	}
	if (items) {
		upd.set |= BILL_U_LINES;
		upd.lines = lines;
		upd.nlines = nlines;
		upd.lines_field = "items";
	}
	rc = billing_update(ctx->app->db, &ctx->actor, id, &upd, a, &out, e);
	if (rc)
		goto out;
	rc = order_response(ctx, out, &resp->data, e);
out:
	if (c)
		db_release(c);
	return rc;
}

HANDLER(orders_http_cancel)
{
	struct arena *a = ctx->req->arena;
	struct bill_document *doc = NULL, *out = NULL;
	const char *id, *reason;
	json_t *body;
	int rc;

	rc = path_id(ctx, &id, e);
	if (rc)
		return rc;
	rc = http_json_body(ctx->req, true, &body, e);
	if (rc)
		return rc;
	rc = jv_check(body, cancel_fields, NFIELDS(cancel_fields), "", e);
	if (rc)
		return rc;
	reason = jv_str(body, "reason");
	if (!reason || !*reason)
		reason = ORDERS_CANCEL_REASON_DEFAULT;

	/* A clear answer for the common case; billing_cancel re-checks under
	 * the row lock. */
	rc = billing_get(ctx->app->db, ctx->who.tenant_id, id, BILL_WITH_PAYMENTS, a, &doc, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < doc->npayments; i++)
		if (doc->payments[i].status == BILL_PAYMENT_CONFIRMED) {
			err_set(e, ERR_CONFLICT, NULL,
				"cannot cancel: order is %s and has a confirmed payment; refund instead",
				billing_status_clinic_name(doc->status));
			return err_name(e, "INVALID_STATE");
		}
	rc = billing_cancel(ctx->app->db, &ctx->actor, id, reason, a, &out, e);
	if (rc)
		return rc;
	return order_response(ctx, out, &resp->data, e);
}
