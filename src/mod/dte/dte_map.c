/*
 * dte_map.c - a billing document becomes a struct dte_input (dte.h
 * "mapping"): the emisor from the tenant's settings, the receptor from a
 * patient, a fiscal receptor or an issued DTE, items, discounts, pagos and
 * the apéndice. Pure: no database, no clock, no keys; every amount in fixed
 * point (billing minor units -> DTE 1e-8 units and cents), never double.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "mod/dte/dte.h"

#define IVA_PCT_SCALED 130000 /* 13 % at PCT_SCALE */

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

int dte_map_emisor(const json_t *emisor, struct dte_emisor *out, struct err *e)
{
	const json_t *dir;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(emisor))
		return err_set(e, ERR_INVALID, "settings.emisor",
			       "the tenant has no DTE issuer: set settings.emisor (PUT /api/v1/tenant)");
	out->nit = jstr(emisor, "nit");
	out->nrc = jstr(emisor, "nrc");
	out->nombre = jstr(emisor, "nombre");
	out->cod_actividad = jstr(emisor, "codActividad");
	out->desc_actividad = jstr(emisor, "descActividad");
	out->nombre_comercial = jstr(emisor, "nombreComercial");
	out->tipo_establecimiento = jstr(emisor, "tipoEstablecimiento");
	if (!out->tipo_establecimiento)
		out->tipo_establecimiento = "02"; /* casa matriz */
	dir = json_object_get(emisor, "direccion");
	out->direccion.departamento = jstr(dir, "departamento");
	out->direccion.municipio = jstr(dir, "municipio");
	out->direccion.complemento = jstr(dir, "complemento");
	out->telefono = jstr(emisor, "telefono");
	out->correo = jstr(emisor, "correo");
	out->cod_estable_mh = jstr(emisor, "codEstableMH");
	out->cod_estable = jstr(emisor, "codEstable");
	out->cod_punto_venta_mh = jstr(emisor, "codPuntoVentaMH");
	out->cod_punto_venta = jstr(emisor, "codPuntoVenta");
	if (!out->nit || !out->nombre)
		return err_set(e, ERR_INVALID, "settings.emisor", "settings.emisor needs nit and nombre");
	return 0;
}

static int block4(const char *mh, const char *own, const char *field, char out[5], struct err *e)
{
	const char *v = mh ? mh : own;
	size_t n;

	if (!v) {
		snprintf(out, 5, "0001");
		return 0;
	}
	n = strlen(v);
	if (n > 4)
		return err_set(e, ERR_INVALID, field, "%s must have at most 4 characters for numeroControl", field);
	memset(out, '0', 4);
	out[4] = '\0';
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)toupper((unsigned char)v[i]);
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
			return err_set(e, ERR_INVALID, field, "%s must be letters and digits", field);
		out[4 - n + i] = (char)ch;
	}
	return 0;
}

int dte_map_control_block(const json_t *emisor, char estable[5], char punto[5], struct err *e)
{
	int rc = block4(jstr(emisor, "codEstableMH"), jstr(emisor, "codEstable"),
			jstr(emisor, "codEstableMH") ? "settings.emisor.codEstableMH" : "settings.emisor.codEstable",
			estable, e);
	if (rc)
		return rc;
	return block4(jstr(emisor, "codPuntoVentaMH"), jstr(emisor, "codPuntoVenta"),
		      jstr(emisor, "codPuntoVentaMH") ? "settings.emisor.codPuntoVentaMH"
						      : "settings.emisor.codPuntoVenta",
		      punto, e);
}

int dte_map_type(const char *requested, const struct dte_receptor *receptor, enum dte_type *out, struct err *e)
{
	int t;

	if (!requested) {
		*out = dte_type_for_receptor(receptor && receptor->nrc && *receptor->nrc);
		return 0;
	}
	t = dte_type_parse(requested);
	if (t != DTE_FE && t != DTE_CCF && t != DTE_NC && t != DTE_ND)
		return err_set(e, ERR_INVALID, "tipoDte", "tipoDte must be 01, 03, 05 or 06");
	*out = (enum dte_type)t;
	return 0;
}

/* ---- receptors ---- */

/* Name from the parts, single-spaced, in a. */
static const char *full_name(struct arena *a, const struct dte_patient_identity *p)
{
	const char *parts[3] = {p->first_name, p->middle_name, p->last_name};
	char buf[512];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < 3; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? " " : "", parts[i]);
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
	}
	return len ? arena_strdup(a, buf) : NULL;
}

/* Street, second line and city as the complemento (1..200 characters). */
static const char *complemento(struct arena *a, const struct dte_patient_identity *p)
{
	const char *parts[3] = {p->line1, p->line2, p->city};
	char buf[256];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < 3; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? ", " : "", parts[i]);
		if (len >= 200) {
			len = 200;
			/* back to a character boundary */
			while (len > 0 && ((unsigned char)buf[len] & 0xC0) == 0x80)
				len--;
			buf[len] = '\0';
			break;
		}
	}
	return len ? arena_strdup(a, buf) : NULL;
}

int dte_map_receptor_patient(const struct dte_patient_identity *p, enum dte_type type, struct arena *a,
			     struct dte_receptor **out, struct err *e)
{
	struct dte_receptor *r;
	const char *dt = p->document_type, *num = p->document_number;
	bool business = type == DTE_CCF || type == DTE_NC || type == DTE_ND;

	(void)e;
	*out = NULL;
	if (!dt && !p->nrc && !p->fiscal_name && !business)
		return 0; /* no fiscal identity: the anonymous consumer of a Factura */
	r = arena_alloc(a, sizeof(*r));
	r->nombre = p->fiscal_name && *p->fiscal_name ? p->fiscal_name : full_name(a, p);
	r->correo = p->email;
	r->telefono = p->phone;
	if (p->departamento && p->municipio) {
		struct dte_address *d = arena_alloc(a, sizeof(*d));
		d->departamento = p->departamento;
		d->municipio = p->municipio;
		d->complemento = complemento(a, p);
		if (d->complemento)
			r->direccion = d;
	}
	if (business) {
		if (dt && (strcmp(dt, "NIT") == 0 || strcmp(dt, "DUI") == 0))
			r->nit = num;
		r->nrc = p->nrc ? p->nrc : (dt && strcmp(dt, "NRC") == 0 ? num : NULL);
	} else if (dt && num) {
		if (strcmp(dt, "DUI") == 0)
			r->tipo_documento = "13";
		else if (strcmp(dt, "NIT") == 0)
			r->tipo_documento = "36";
		else if (strcmp(dt, "PASSPORT") == 0)
			r->tipo_documento = "03";
		else
			r->tipo_documento = "37";
		r->num_documento = num;
		if (strcmp(dt, "NIT") == 0)
			r->nrc = p->nrc;
	}
	*out = r;
	return 0;
}

int dte_map_receptor_json(const json_t *o, struct arena *a, struct dte_receptor **out, struct err *e)
{
	struct dte_receptor *r;
	const json_t *dir;

	(void)e;
	*out = NULL;
	if (!json_is_object(o))
		return 0;
	r = arena_alloc(a, sizeof(*r));
	r->tipo_documento = arena_strdup(a, jstr(o, "tipoDocumento"));
	r->num_documento = arena_strdup(a, jstr(o, "numDocumento"));
	r->nit = arena_strdup(a, jstr(o, "nit"));
	r->nrc = arena_strdup(a, jstr(o, "nrc"));
	r->nombre = arena_strdup(a, jstr(o, "nombre"));
	r->cod_actividad = arena_strdup(a, jstr(o, "codActividad"));
	r->desc_actividad = arena_strdup(a, jstr(o, "descActividad"));
	r->nombre_comercial = arena_strdup(a, jstr(o, "nombreComercial"));
	r->telefono = arena_strdup(a, jstr(o, "telefono"));
	r->correo = arena_strdup(a, jstr(o, "correo"));
	dir = json_object_get(o, "direccion");
	if (json_is_object(dir)) {
		struct dte_address *d = arena_alloc(a, sizeof(*d));
		d->departamento = arena_strdup(a, jstr(dir, "departamento"));
		d->municipio = arena_strdup(a, jstr(dir, "municipio"));
		d->complemento = arena_strdup(a, jstr(dir, "complemento"));
		r->direccion = d;
	}
	*out = r;
	return 0;
}

/* ---- items ---- */

static bool is_good(const char *item_type)
{
	static const char *const goods[] = {"good", "goods", "product", "medication", "medicine", "supply",
					    "supplies", "bien", "producto", "medicamento", NULL};
	if (!item_type)
		return false;
	for (size_t i = 0; goods[i]; i++)
		if (strcmp(item_type, goods[i]) == 0)
			return true;
	return false;
}

static int uni_medida(const char *uom)
{
	char *end;
	long v;

	if (!uom || !*uom)
		return 59;
	v = strtol(uom, &end, 10);
	if (*end || v < 1 || v > 99)
		return 59;
	return (int)v;
}

/* At most max characters of s (UTF-8), in a; NULL for NULL/empty. */
static const char *clip(struct arena *a, const char *s, size_t max)
{
	size_t chars = 0, i = 0;

	if (!s || !*s)
		return NULL;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (chars == max)
				break;
			chars++;
		}
	}
	return arena_strndup(a, s, i);
}

/* A billing amount in minor units -> 1e-8 units. */
static int to_e8(int64_t minor, int minor_units, int64_t *out, const char *field, struct err *e)
{
	int rc = money_rescale(minor, minor_units, 8, out, e);

	if (rc)
		return err_set(e, ERR_INVALID, field, "%s is too large for a DTE", field);
	return 0;
}

/* Convert a price (or discount) between the document's convention and the
 * DTE type's, for a gravada line. */
static int64_t convert_iva(int64_t v_e8, bool doc_includes, bool dte_includes)
{
	if (doc_includes == dte_includes)
		return v_e8;
	return dte_includes ? dte_price_with_iva(v_e8) : dte_price_without_iva(v_e8);
}

/* Half-up e8 -> cents. */
static int64_t e8_to_cents(int64_t v)
{
	return money_div_round(v, 1000000);
}

static const char *pago_code(enum bill_pay_method m)
{
	switch (m) {
	case BILL_PAY_CASH:
		return "01";
	case BILL_PAY_CARD_PRESENT:
	case BILL_PAY_CARD_ONLINE:
		return "03";
	case BILL_PAY_BANK_TRANSFER:
		return "05";
	case BILL_PAY_MOBILE_MONEY:
		return "08";
	case BILL_PAY_INSURANCE:
	case BILL_PAY_OTHER:
	default:
		return "99";
	}
}

static int map_pagos(const struct dte_map_source *src, struct arena *a, struct dte_input *in, struct err *e)
{
	const struct bill_document *d = src->doc;
	struct dte_pago *p;
	size_t n = 0, largest = 0;
	int64_t paid_cents = 0;
	bool credit = d->balance_minor > 0;
	int periodo = 30;

	(void)e;
	/* at most one entry per CAT-017 code, plus the credit entry */
	p = arena_alloc(a, 8 * sizeof(*p));
	for (size_t i = 0; i < d->npayments; i++) {
		const struct bill_payment *bp = &d->payments[i];
		int64_t net = bp->amount_minor - bp->refunded_minor, cents = 0;
		const char *code = pago_code(bp->method);
		size_t j;

		if (bp->status != BILL_PAYMENT_CONFIRMED && bp->status != BILL_PAYMENT_REFUNDED)
			continue;
		if (net <= 0)
			continue;
		if (money_rescale(net, d->minor_units, 2, &cents, e))
			return e->code;
		for (j = 0; j < n; j++)
			if (strcmp(p[j].codigo, code) == 0)
				break;
		if (j == n) {
			if (n == 6)
				j = n - 1; /* more than 6 methods: fold into the last */
			else
				p[n++].codigo = code;
		}
		p[j].monto_cents += cents;
		paid_cents += cents;
	}
	if (credit) {
		if (d->due_date[0] && d->invoice_date[0]) {
			int64_t days = date_to_days(d->due_date) - date_to_days(d->invoice_date);
			if (days >= 1 && days <= 3650)
				periodo = (int)days;
		}
		in->condicion_operacion = 2;
		p[n].codigo = "13"; /* cuentas por pagar del receptor */
		p[n].rest = true;
		n++;
		for (size_t j = 0; j < n; j++) {
			p[j].plazo = "01";
			p[j].periodo = periodo;
		}
	} else {
		in->condicion_operacion = 1;
		if (n == 0) {
			/* paid with nothing recorded (a zero total): billetes y monedas */
			p[n++].codigo = "01";
		}
		for (size_t j = 1; j < n; j++)
			if (p[j].monto_cents > p[largest].monto_cents)
				largest = j;
		p[largest].rest = true; /* absorbs the DTE's own rounding of the total */
	}
	(void)paid_cents;
	in->pagos = p;
	in->npagos = n;
	return 0;
}

int dte_map_document(const struct dte_map_source *src, struct arena *a, struct dte_input *in, struct err *e)
{
	const struct bill_document *d = src->doc;
	const struct dte_version_info *vi = dte_version_find(src->type, 0);
	struct dte_emisor *em;
	struct dte_item *items;
	struct dte_apendice *ap;
	bool dte_includes, business;
	size_t n = 0;
	int64_t sums_cents[3] = {0, 0, 0}; /* per treatment, in the DTE's convention */
	int rc;

	memset(in, 0, sizeof(*in));
	if (!vi)
		return err_set(e, ERR_INVALID, "tipoDte", "tipoDte is not a type this engine issues");
	if (strcmp(d->currency, "USD") != 0)
		return err_set(e, ERR_INVALID, "currency", "a DTE is issued in USD; the document is in %s", d->currency);
	if (d->nlines == 0)
		return err_set(e, ERR_INVALID, "cuerpoDocumento", "the document has no lines");
	dte_includes = (vi->fields & DTE_FS_PRICES_WITH_IVA) != 0;
	business = src->type == DTE_CCF || src->type == DTE_NC || src->type == DTE_ND;

	em = arena_alloc(a, sizeof(*em));
	if ((rc = dte_map_emisor(src->emisor, em, e)))
		return rc;

	in->type = src->type;
	in->version = 0;
	in->ambiente = src->ambiente;
	in->numero_control = src->numero_control;
	in->codigo_generacion = src->codigo_generacion;
	in->fec_emi = src->fec_emi;
	in->hor_emi = src->hor_emi;
	in->tipo_contingencia = src->tipo_contingencia;
	in->emisor = em;
	in->receptor = src->receptor;
	if (business && !src->receptor)
		return err_set(e, ERR_INVALID, "receptor",
			       "a %s needs an identified receptor (NIT, NRC, activity, address, e-mail)",
			       dte_type_name(src->type));

	items = arena_alloc(a, (d->nlines + 1) * sizeof(*items));
	for (size_t i = 0; i < d->nlines; i++) {
		const struct bill_line *l = &d->lines[i];
		struct dte_item *it = &items[n];
		char field[64];
		int64_t price_e8, descu_e8, bruto_e8;
		int t;

		snprintf(field, sizeof(field), "cuerpoDocumento[%zu]", n);
		if (l->tax_treatment == BILL_TAX_TAXABLE) {
			if (l->tax_pct != IVA_PCT_SCALED)
				return err_set(e, ERR_INVALID, field,
					       "%s: a taxable line of a DTE must carry IVA at 13 %%", field);
			it->treatment = DTE_GRAVADA;
		} else if (l->tax_treatment == BILL_TAX_EXEMPT) {
			it->treatment = DTE_EXENTA;
		} else {
			it->treatment = DTE_NO_SUJETA;
		}
		it->tipo_item = is_good(l->item_type) ? 1 : 2;
		it->codigo = clip(a, l->item_code ? l->item_code : l->procedure_code, 25);
		if (l->description && *l->description && l->item_name)
			it->descripcion = clip(a, arena_printf(a, "%s - %s", l->item_name, l->description), 1000);
		else
			it->descripcion = clip(a, l->item_name ? l->item_name : l->description, 1000);
		if (!it->descripcion)
			it->descripcion = "Servicio";
		it->uni_medida = uni_medida(l->unit_of_measure);
		it->cantidad_e8 = l->quantity_milli * 100000;
		if ((rc = to_e8(l->unit_price_minor, d->minor_units, &price_e8, field, e)) ||
		    (rc = to_e8(l->discount_minor, d->minor_units, &descu_e8, field, e)))
			return rc;
		if (it->treatment == DTE_GRAVADA) {
			price_e8 = convert_iva(price_e8, d->prices_include_tax, dte_includes);
			descu_e8 = convert_iva(descu_e8, d->prices_include_tax, dte_includes);
		}
		it->precio_uni_e8 = price_e8;
		/* the discount never exceeds the line, whatever the conversion rounding did */
		if (money_mul_round(it->cantidad_e8, price_e8, 8, &bruto_e8, e))
			return err_set(e, ERR_INVALID, field, "%s is too large for a DTE", field);
		if (descu_e8 > bruto_e8)
			descu_e8 = bruto_e8;
		it->monto_descu_e8 = descu_e8;
		t = it->treatment;
		sums_cents[t] += e8_to_cents(bruto_e8 - descu_e8);
		if (src->ndoc_rel == 1)
			it->numero_documento = src->doc_rel[0].numero_documento;
		n++;
	}
	if (d->late_fee_minor > 0) {
		struct dte_item *it = &items[n++];
		int64_t fee_e8;
		if ((rc = to_e8(d->late_fee_minor, d->minor_units, &fee_e8, "resumen", e)))
			return rc;
		it->tipo_item = 2;
		it->descripcion = "Recargo por mora";
		it->uni_medida = 59;
		it->cantidad_e8 = DTE_E8;
		it->precio_uni_e8 = fee_e8;
		it->treatment = DTE_NO_SUJETA;
		sums_cents[DTE_NO_SUJETA] += e8_to_cents(fee_e8);
		if (src->ndoc_rel == 1)
			it->numero_documento = src->doc_rel[0].numero_documento;
	}
	in->items = items;
	in->nitems = n;

	/* the document-level discount, gravada first */
	if (d->doc_discount_minor > 0) {
		int64_t left = 0, take;
		int64_t *slots[3] = {&in->descu_gravada_cents, &in->descu_exenta_cents, &in->descu_no_suj_cents};
		const int order[3] = {DTE_GRAVADA, DTE_EXENTA, DTE_NO_SUJETA};
		if (money_rescale(d->doc_discount_minor, d->minor_units, 2, &left, e))
			return err_set(e, ERR_INVALID, "resumen.totalDescu", "the discount is too large");
		for (int k = 0; k < 3 && left > 0; k++) {
			int64_t cap = sums_cents[order[k]];
			int64_t amount = left;
			if (order[k] == DTE_GRAVADA && d->prices_include_tax != dte_includes) {
				/* the discount was given in the document's convention */
				int64_t e8 = convert_iva(left * 1000000, d->prices_include_tax, dte_includes);
				amount = e8_to_cents(e8);
			}
			take = amount < cap ? amount : cap;
			*slots[k] = take;
			if (take == amount)
				left = 0;
			else if (order[k] == DTE_GRAVADA && d->prices_include_tax != dte_includes)
				left -= e8_to_cents(convert_iva(take * 1000000, dte_includes, d->prices_include_tax));
			else
				left -= take;
		}
	}

	if (vi->fields & DTE_FS_RESUMEN_PAGO) {
		if ((rc = map_pagos(src, a, in, e)))
			return rc;
	} else {
		in->condicion_operacion = 1; /* notes carry no pagos */
	}

	in->doc_rel = src->doc_rel;
	in->ndoc_rel = src->ndoc_rel;

	ap = arena_alloc(a, (src->napendice + 1) * sizeof(*ap));
	for (size_t i = 0; i < src->napendice && i < 9; i++)
		ap[in->napendice++] = src->apendice[i];
	if (d->number[0]) {
		ap[in->napendice].campo = "numeroOrden";
		ap[in->napendice].etiqueta = "Número de orden";
		ap[in->napendice].valor = arena_strdup(a, d->number);
		in->napendice++;
	}
	in->apendice = in->napendice ? ap : NULL;
	return 0;
}
