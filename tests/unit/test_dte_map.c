/*
 * test_dte_map.c - a billing document becomes a DTE (src/mod/dte/dte_map.c):
 * the tax-inclusive Factura of an El Salvador order and the Crédito Fiscal
 * of the same prices, prices that exclude tax, exempt / not-subject lines,
 * line and document discounts, late fees, pagos (cash, cards, credit), the
 * receptor from a patient's identity and from an issued DTE, numeroControl
 * blocks, the type choice, and every refusal naming its field. Each mapped
 * document is built with dte_build, checked with dte_verify (strict) and
 * against MH's official schema (embedded), and its words checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jschema.h"
#include "mod/dte/dte.h"
#include "mod/dte/dte_schemas.h"

#define CODIGO "0F6A8E2C-54B1-4C0B-9E4B-2C6D3A1B7E90"

static json_t *emisor_settings(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:s}", "nit",
			 "06140507071048", "nrc", "1234567", "nombre", "Clínica Demo S.A. de C.V.", "codActividad",
			 "86201", "descActividad", "Clínicas médicas", "tipoEstablecimiento", "02", "codEstable", "0001",
			 "codPuntoVenta", "0001", "direccion", "departamento", "06", "municipio", "14", "complemento",
			 "Colonia Escalón, San Salvador", "telefono", "22223333", "correo", "facturas@demo.clinic");
}

struct fixture {
	struct arena *a;
	json_t *emisor;
	struct bill_document doc;
	struct bill_line lines[6];
	struct bill_payment pays[4];
};

static void doc_init(struct fixture *f, bool prices_include_tax)
{
	memset(&f->doc, 0, sizeof(f->doc));
	memset(f->lines, 0, sizeof(f->lines));
	memset(f->pays, 0, sizeof(f->pays));
	snprintf(f->doc.id, sizeof(f->doc.id), "7d1c2b6e-0a7e-4c39-9d0f-2f6a1c3e5b10");
	snprintf(f->doc.number, sizeof(f->doc.number), "INV-20251014-000007");
	snprintf(f->doc.source, sizeof(f->doc.source), "order");
	snprintf(f->doc.currency, sizeof(f->doc.currency), "USD");
	f->doc.minor_units = 2;
	f->doc.status = BILL_PAID;
	snprintf(f->doc.invoice_date, sizeof(f->doc.invoice_date), "2025-10-14");
	f->doc.prices_include_tax = prices_include_tax;
	f->doc.lines = f->lines;
	f->doc.payments = f->pays;
}

static void add_line(struct fixture *f, const char *name, int64_t qty_milli, int64_t price_minor,
		     enum bill_tax treatment, int64_t discount_minor)
{
	struct bill_line *l = &f->lines[f->doc.nlines++];

	l->line_number = (int)f->doc.nlines;
	l->item_type = "service";
	l->item_name = name;
	l->item_code = "CONS-01";
	l->quantity_milli = qty_milli;
	l->unit_price_minor = price_minor;
	l->discount_minor = discount_minor;
	l->tax_treatment = treatment;
	l->tax_pct = treatment == BILL_TAX_TAXABLE ? 130000 : 0;
}

static void add_payment(struct fixture *f, enum bill_pay_method m, int64_t amount_minor)
{
	struct bill_payment *p = &f->pays[f->doc.npayments++];

	p->method = m;
	p->amount_minor = amount_minor;
	p->status = BILL_PAYMENT_CONFIRMED;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->a = arena_new(8u << 20);
	f->emisor = emisor_settings();
	doc_init(f, true);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	json_decref(f->emisor);
	arena_free(f->a);
	free(f);
	return 0;
}

static void source_init(struct dte_map_source *src, struct fixture *f, enum dte_type type,
			const struct dte_receptor *receptor, const char *nc)
{
	memset(src, 0, sizeof(*src));
	src->doc = &f->doc;
	src->emisor = f->emisor;
	src->receptor = receptor;
	src->type = type;
	src->ambiente = "00";
	src->numero_control = nc;
	src->codigo_generacion = CODIGO;
	src->fec_emi = "2025-10-14";
	src->hor_emi = "10:30:00";
}

/* Map, build, verify, dump and schema-check; returns the tree (owned). */
static json_t *map_build(struct fixture *f, const struct dte_map_source *src, struct dte_totals *t)
{
	struct dte_input in;
	struct err e;
	json_t *doc = NULL;
	char *text = NULL;
	const struct jschema *s = NULL;
	struct jschema_report *rep = calloc(1, sizeof(*rep));
	int rc;

	err_clear(&e);
	rc = dte_map_document(src, f->a, &in, &e);
	if (rc)
		fail_msg("dte_map_document: %s (%s)", e.message, e.field);
	rc = dte_build(&in, &doc, t, &e);
	if (rc)
		fail_msg("dte_build: %s (%s)", e.message, e.field);
	rc = dte_verify(doc, true, &e);
	if (rc)
		fail_msg("dte_verify: %s (%s)", e.message, e.field);
	assert_int_equal(dte_json_dump(doc, &text, &e), 0);
	assert_int_equal(dte_schema_get(dte_schema_name(dte_type_code(src->type), t->version->version), &s, &e), 0);
	rc = jschema_validate_text(s, text, strlen(text), rep, &e);
	if (rc)
		fail_msg("schema: %s", e.message);
	free(rep);
	free(text);
	return doc;
}

static const char *dstr(const json_t *doc, const char *block, const char *key)
{
	return json_string_value(json_object_get(json_object_get(doc, block), key));
}

/* A decimal of the tree as text ("35", "4.03"). */
static const char *dnum(const json_t *doc, const char *block, const char *key)
{
	const json_t *v = json_object_get(json_object_get(doc, block), key);
	static char buf[64];

	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return dte_json_decimal_text(v);
}

static const json_t *item(const json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "cuerpoDocumento"), i);
}

static const char *inum(const json_t *it, const char *key)
{
	const json_t *v = json_object_get(it, key);
	static char buf[64];

	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return dte_json_decimal_text(v);
}

/* The El Salvador order: 35.00 with IVA included, paid cash: a Factura. */
static void test_fe_tax_inclusive(void **state)
{
	struct fixture *f = *state;
	struct dte_map_source src;
	struct dte_totals t;
	json_t *doc, *pagos;

	add_line(f, "Consulta general", 1000, 3500, BILL_TAX_TAXABLE, 0);
	add_payment(f, BILL_PAY_CASH, 3500);
	source_init(&src, f, DTE_FE, NULL, "DTE-01-00010001-000000000000001");
	doc = map_build(f, &src, &t);
	assert_true(json_is_null(json_object_get(doc, "receptor")));
	assert_string_equal(inum(item(doc, 0), "precioUni"), "35");
	assert_string_equal(inum(item(doc, 0), "ventaGravada"), "35");
	assert_string_equal(inum(item(doc, 0), "ivaItem"), "4.02654867");
	assert_int_equal(json_integer_value(json_object_get(item(doc, 0), "tipoItem")), 2);
	assert_int_equal(json_integer_value(json_object_get(item(doc, 0), "uniMedida")), 59);
	assert_string_equal(dnum(doc, "resumen", "totalIva"), "4.03");
	assert_string_equal(dnum(doc, "resumen", "totalPagar"), "35");
	assert_string_equal(dstr(doc, "resumen", "totalLetras"), "TREINTA Y CINCO 00/100 DÓLARES");
	assert_int_equal(t.total_pagar_cents, 3500);
	assert_int_equal(t.iva_cents, 403);
	pagos = json_object_get(json_object_get(doc, "resumen"), "pagos");
	assert_int_equal(json_array_size(pagos), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(pagos, 0), "codigo")), "01");
	assert_string_equal(inum(json_array_get(pagos, 0), "montoPago"), "35");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "resumen"), "condicionOperacion")), 1);
	/* the order number in the apéndice */
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "apendice"), 0),
								  "valor")),
			    "INV-20251014-000007");
	json_decref(doc);
}

/* The same prices as a Crédito Fiscal: IVA taken out of the price, added
 * back as tributo 20; the receptor from a patient with an NRC. */
static void test_ccf_from_tax_inclusive(void **state)
{
	struct fixture *f = *state;
	struct dte_patient_identity p = {.document_type = "NIT",
					 .document_number = "06140507071048",
					 .nrc = "2587416",
					 .fiscal_name = "Laboratorios Unidos S.A.",
					 .email = "compras@lab.example",
					 .phone = "+50322334455",
					 .departamento = "06",
					 .municipio = "14",
					 .line1 = "Calle El Mirador 123",
					 .city = "San Salvador"};
	struct dte_receptor *r = NULL, probe;
	struct dte_map_source src;
	struct dte_totals t;
	enum dte_type type;
	struct err e;
	json_t *doc, *trib;

	err_clear(&e);
	probe.nrc = p.nrc;
	assert_int_equal(dte_map_type(NULL, &probe, &type, &e), 0);
	assert_int_equal(type, DTE_CCF);
	assert_int_equal(dte_map_receptor_patient(&p, DTE_CCF, f->a, &r, &e), 0);
	assert_non_null(r);
	assert_string_equal(r->nit, "06140507071048");
	assert_string_equal(r->nrc, "2587416");
	assert_string_equal(r->nombre, "Laboratorios Unidos S.A.");
	assert_string_equal(r->direccion->complemento, "Calle El Mirador 123, San Salvador");
	r->cod_actividad = "46900";
	r->desc_actividad = "Venta al por mayor de otros productos";

	add_line(f, "Perfil lipídico", 1000, 11300, BILL_TAX_TAXABLE, 0);
	add_payment(f, BILL_PAY_BANK_TRANSFER, 11300);
	source_init(&src, f, DTE_CCF, r, "DTE-03-00010001-000000000000001");
	doc = map_build(f, &src, &t);
	assert_string_equal(inum(item(doc, 0), "precioUni"), "100");
	assert_string_equal(inum(item(doc, 0), "ventaGravada"), "100");
	assert_string_equal(json_string_value(json_array_get(json_object_get(item(doc, 0), "tributos"), 0)), "20");
	trib = json_array_get(json_object_get(json_object_get(doc, "resumen"), "tributos"), 0);
	assert_string_equal(json_string_value(json_object_get(trib, "codigo")), "20");
	assert_string_equal(inum(trib, "valor"), "13");
	assert_string_equal(dnum(doc, "resumen", "montoTotalOperacion"), "113");
	assert_string_equal(dnum(doc, "resumen", "totalPagar"), "113");
	assert_string_equal(dstr(doc, "resumen", "totalLetras"), "CIENTO TRECE 00/100 DÓLARES");
	assert_string_equal(dstr(doc, "receptor", "nrc"), "2587416");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
									      json_object_get(doc, "resumen"), "pagos"),
									  0),
								  "codigo")),
			    "05");
	json_decref(doc);
}

/* Prices that exclude tax (billing-service invoices) as a Factura: IVA is
 * put into the price. 3 x 10.00 -> 3 x 11.30. */
static void test_fe_from_tax_exclusive(void **state)
{
	struct fixture *f = *state;
	struct dte_map_source src;
	struct dte_totals t;
	json_t *doc;

	doc_init(f, false);
	add_line(f, "Curación", 3000, 1000, BILL_TAX_TAXABLE, 0);
	add_payment(f, BILL_PAY_CASH, 3390);
	source_init(&src, f, DTE_FE, NULL, "DTE-01-00010001-000000000000002");
	doc = map_build(f, &src, &t);
	assert_string_equal(inum(item(doc, 0), "precioUni"), "11.3");
	assert_string_equal(inum(item(doc, 0), "ventaGravada"), "33.9");
	assert_string_equal(dnum(doc, "resumen", "totalPagar"), "33.9");
	assert_string_equal(dnum(doc, "resumen", "totalIva"), "3.9");
	assert_string_equal(dstr(doc, "resumen", "totalLetras"), "TREINTA Y TRES 90/100 DÓLARES");
	json_decref(doc);
}

/* Exempt and not-subject lines, a line discount, a document discount
 * (gravada first), a late fee; paid by cash and card: the card (larger)
 * takes the rounding rest. */
static void test_treatments_discounts_pagos(void **state)
{
	struct fixture *f = *state;
	struct dte_map_source src;
	struct dte_totals t;
	json_t *doc, *pagos;

	add_line(f, "Consulta", 2000, 3500, BILL_TAX_TAXABLE, 700); /* 70.00 - 7.00 */
	add_line(f, "Vacuna (exenta)", 1000, 2000, BILL_TAX_EXEMPT, 0);
	add_line(f, "Tasa municipal", 1000, 150, BILL_TAX_NOT_SUBJECT, 0);
	f->lines[1].item_type = "medication";
	f->lines[0].unit_of_measure = "99";
	f->doc.doc_discount_minor = 300; /* 3.00 off the gravada part */
	f->doc.late_fee_minor = 125;
	add_payment(f, BILL_PAY_CASH, 2000);
	add_payment(f, BILL_PAY_CARD_PRESENT, 6175);
	source_init(&src, f, DTE_FE, NULL, "DTE-01-00010001-000000000000003");
	doc = map_build(f, &src, &t);
	assert_int_equal(json_array_size(json_object_get(doc, "cuerpoDocumento")), 4);
	assert_string_equal(inum(item(doc, 0), "montoDescu"), "7");
	assert_string_equal(inum(item(doc, 0), "ventaGravada"), "63");
	assert_int_equal(json_integer_value(json_object_get(item(doc, 0), "uniMedida")), 99);
	assert_string_equal(inum(item(doc, 1), "ventaExenta"), "20");
	assert_int_equal(json_integer_value(json_object_get(item(doc, 1), "tipoItem")), 1);
	assert_string_equal(inum(item(doc, 2), "ventaNoSuj"), "1.5");
	assert_string_equal(json_string_value(json_object_get(item(doc, 3), "descripcion")), "Recargo por mora");
	assert_string_equal(inum(item(doc, 3), "ventaNoSuj"), "1.25");
	assert_string_equal(dnum(doc, "resumen", "descuGravada"), "3");
	assert_string_equal(dnum(doc, "resumen", "totalDescu"), "10");
	/* 63 + 20 + 2.75 - 3 */
	assert_string_equal(dnum(doc, "resumen", "totalPagar"), "82.75");
	pagos = json_object_get(json_object_get(doc, "resumen"), "pagos");
	assert_int_equal(json_array_size(pagos), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(pagos, 0), "codigo")), "01");
	assert_string_equal(inum(json_array_get(pagos, 0), "montoPago"), "20");
	assert_string_equal(json_string_value(json_object_get(json_array_get(pagos, 1), "codigo")), "03");
	assert_string_equal(inum(json_array_get(pagos, 1), "montoPago"), "62.75");
	json_decref(doc);
}

/* An unpaid balance: a sale on credit (condición 2) with plazo/periodo. */
static void test_credit_sale(void **state)
{
	struct fixture *f = *state;
	struct dte_map_source src;
	struct dte_totals t;
	json_t *doc, *pagos;

	add_line(f, "Hospitalización", 1000, 25000, BILL_TAX_TAXABLE, 0);
	add_payment(f, BILL_PAY_CASH, 5000);
	f->doc.status = BILL_PARTIALLY_PAID;
	f->doc.balance_minor = 20000;
	snprintf(f->doc.due_date, sizeof(f->doc.due_date), "2025-11-13");
	source_init(&src, f, DTE_FE, NULL, "DTE-01-00010001-000000000000004");
	doc = map_build(f, &src, &t);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "resumen"), "condicionOperacion")), 2);
	pagos = json_object_get(json_object_get(doc, "resumen"), "pagos");
	assert_int_equal(json_array_size(pagos), 2);
	assert_string_equal(inum(json_array_get(pagos, 0), "montoPago"), "50");
	assert_string_equal(json_string_value(json_object_get(json_array_get(pagos, 1), "codigo")), "13");
	assert_string_equal(inum(json_array_get(pagos, 1), "montoPago"), "200");
	assert_string_equal(json_string_value(json_object_get(json_array_get(pagos, 1), "plazo")), "01");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(pagos, 1), "periodo")), 30);
	json_decref(doc);
}

/* A credit note of a CCF: related document, receptor taken back from the
 * CCF's JSON, no pagos. */
static void test_note_with_related_document(void **state)
{
	struct fixture *f = *state;
	json_t *ccf_receptor = json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:{s:s, s:s, s:s}, s:n, s:s}", "nit",
					 "06140507071048", "nrc", "2587416", "nombre", "Laboratorios Unidos S.A.",
					 "codActividad", "46900", "descActividad", "Venta al por mayor",
					 "nombreComercial", "direccion", "departamento", "06", "municipio", "14",
					 "complemento", "Calle El Mirador 123", "telefono", "correo", "compras@lab.example");
	struct dte_receptor *r = NULL;
	struct dte_doc_rel rel = {.tipo_documento = "03",
				  .tipo_generacion = 2,
				  .numero_documento = "5A1C2B3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D",
				  .fecha_emision = "2025-10-14"};
	struct dte_map_source src;
	struct dte_totals t;
	struct err e;
	json_t *doc;

	err_clear(&e);
	assert_int_equal(dte_map_receptor_json(ccf_receptor, f->a, &r, &e), 0);
	assert_string_equal(r->nit, "06140507071048");
	assert_string_equal(r->direccion->municipio, "14");
	assert_null(r->telefono);
	doc_init(f, false);
	snprintf(f->doc.source, sizeof(f->doc.source), "credit_note");
	f->doc.status = BILL_DRAFT;
	f->doc.balance_minor = 1130;
	add_line(f, "Descuento por pronto pago", 1000, 1000, BILL_TAX_TAXABLE, 0);
	source_init(&src, f, DTE_NC, r, "DTE-05-00010001-000000000000001");
	src.doc_rel = &rel;
	src.ndoc_rel = 1;
	doc = map_build(f, &src, &t);
	assert_string_equal(json_string_value(json_object_get(item(doc, 0), "numeroDocumento")),
			    rel.numero_documento);
	assert_string_equal(dnum(doc, "resumen", "montoTotalOperacion"), "11.3");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "resumen"), "condicionOperacion")), 1);
	assert_int_equal(t.total_pagar_cents, 1130);
	json_decref(doc);
	json_decref(ccf_receptor);
}

static void test_receptor_from_patient(void **state)
{
	struct fixture *f = *state;
	struct dte_patient_identity dui = {.document_type = "DUI",
					   .document_number = "023827235",
					   .first_name = "Ana",
					   .middle_name = "María",
					   .last_name = "López"};
	struct dte_patient_identity pass = {.document_type = "PASSPORT", .document_number = "X1234567",
					    .first_name = "John", .last_name = "Smith"};
	struct dte_patient_identity none = {.first_name = "Juan", .last_name = "Pérez"};
	struct dte_receptor *r = NULL;
	struct err e;

	err_clear(&e);
	assert_int_equal(dte_map_receptor_patient(&dui, DTE_FE, f->a, &r, &e), 0);
	assert_string_equal(r->tipo_documento, "13");
	assert_string_equal(r->num_documento, "023827235");
	assert_string_equal(r->nombre, "Ana María López");
	assert_null(r->nrc);
	assert_null(r->direccion);
	assert_int_equal(dte_map_receptor_patient(&dui, DTE_CCF, f->a, &r, &e), 0);
	assert_string_equal(r->nit, "023827235"); /* the DUI is the NIT (homologation) */
	assert_null(r->tipo_documento);
	assert_int_equal(dte_map_receptor_patient(&pass, DTE_FE, f->a, &r, &e), 0);
	assert_string_equal(r->tipo_documento, "03");
	assert_int_equal(dte_map_receptor_patient(&none, DTE_FE, f->a, &r, &e), 0);
	assert_null(r); /* the anonymous consumer */
}

/* A Factura to an identified DUI holder validates and writes the DUI with its hyphen. */
static void test_fe_identified_receptor(void **state)
{
	struct fixture *f = *state;
	struct dte_patient_identity dui = {.document_type = "DUI",
					   .document_number = "023827235",
					   .first_name = "Ana",
					   .last_name = "López",
					   .email = "ana@example.com"};
	struct dte_receptor *r = NULL;
	struct dte_map_source src;
	struct dte_totals t;
	struct err e;
	json_t *doc;

	err_clear(&e);
	assert_int_equal(dte_map_receptor_patient(&dui, DTE_FE, f->a, &r, &e), 0);
	add_line(f, "Consulta", 1000, 3500, BILL_TAX_TAXABLE, 0);
	add_payment(f, BILL_PAY_CASH, 3500);
	source_init(&src, f, DTE_FE, r, "DTE-01-00010001-000000000000005");
	doc = map_build(f, &src, &t);
	assert_string_equal(dstr(doc, "receptor", "tipoDocumento"), "13");
	assert_string_equal(dstr(doc, "receptor", "numDocumento"), "02382723-5");
	json_decref(doc);
}

static void test_control_block(void **state)
{
	struct fixture *f = *state;
	char est[5], pv[5];
	struct err e;
	json_t *em;

	(void)f;
	err_clear(&e);
	em = json_pack("{s:s, s:s}", "codEstable", "1", "codPuntoVenta", "a7");
	assert_int_equal(dte_map_control_block(em, est, pv, &e), 0);
	assert_string_equal(est, "0001");
	assert_string_equal(pv, "00A7");
	json_decref(em);
	em = json_pack("{s:s, s:s, s:s, s:s}", "codEstable", "0009", "codEstableMH", "M001", "codPuntoVenta", "1",
		       "codPuntoVentaMH", "P001");
	assert_int_equal(dte_map_control_block(em, est, pv, &e), 0);
	assert_string_equal(est, "M001");
	assert_string_equal(pv, "P001");
	json_decref(em);
	em = json_object();
	assert_int_equal(dte_map_control_block(em, est, pv, &e), 0);
	assert_string_equal(est, "0001");
	assert_string_equal(pv, "0001");
	json_decref(em);
	em = json_pack("{s:s}", "codPuntoVenta", "CAJA-01");
	assert_int_equal(dte_map_control_block(em, est, pv, &e), ERR_INVALID);
	assert_string_equal(e.field, "settings.emisor.codPuntoVenta");
	json_decref(em);
	em = json_pack("{s:s}", "codEstable", "A-1");
	err_clear(&e);
	assert_int_equal(dte_map_control_block(em, est, pv, &e), ERR_INVALID);
	assert_string_equal(e.field, "settings.emisor.codEstable");
	json_decref(em);
}

static void test_type_choice(void **state)
{
	struct dte_receptor with_nrc = {.nrc = "2587416"}, without = {.nit = "06140507071048"};
	enum dte_type t;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(dte_map_type(NULL, NULL, &t, &e), 0);
	assert_int_equal(t, DTE_FE);
	assert_int_equal(dte_map_type(NULL, &without, &t, &e), 0);
	assert_int_equal(t, DTE_FE);
	assert_int_equal(dte_map_type(NULL, &with_nrc, &t, &e), 0);
	assert_int_equal(t, DTE_CCF);
	assert_int_equal(dte_map_type("01", &with_nrc, &t, &e), 0); /* the caller overrides */
	assert_int_equal(t, DTE_FE);
	assert_int_equal(dte_map_type("14", NULL, &t, &e), ERR_INVALID);
	assert_string_equal(e.field, "tipoDte");
	err_clear(&e);
	assert_int_equal(dte_map_type("99", NULL, &t, &e), ERR_INVALID);
}

static void expect_map_error(struct fixture *f, const struct dte_map_source *src, const char *field)
{
	struct dte_input in;
	struct err e;

	err_clear(&e);
	assert_int_equal(dte_map_document(src, f->a, &in, &e), ERR_INVALID);
	assert_string_equal(e.field, field);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct dte_map_source src;
	struct dte_emisor em;
	struct err e;

	add_line(f, "Consulta", 1000, 3500, BILL_TAX_TAXABLE, 0);
	source_init(&src, f, DTE_FE, NULL, "DTE-01-00010001-000000000000006");
	snprintf(f->doc.currency, sizeof(f->doc.currency), "DOP");
	expect_map_error(f, &src, "currency");
	snprintf(f->doc.currency, sizeof(f->doc.currency), "USD");
	f->lines[0].tax_pct = 100000; /* 10 %: not IVA */
	expect_map_error(f, &src, "cuerpoDocumento[0]");
	f->lines[0].tax_pct = 130000;
	source_init(&src, f, DTE_CCF, NULL, "DTE-03-00010001-000000000000006");
	expect_map_error(f, &src, "receptor");
	src.emisor = NULL;
	src.type = DTE_FE;
	expect_map_error(f, &src, "settings.emisor");
	f->doc.nlines = 0;
	src.emisor = f->emisor;
	expect_map_error(f, &src, "cuerpoDocumento");
	err_clear(&e);
	assert_int_equal(dte_map_emisor(NULL, &em, &e), ERR_INVALID);
	assert_string_equal(e.field, "settings.emisor");
}

/* The status names and the PDF labels. */
static void test_status_names(void **state)
{
	(void)state;
	for (int s = 0; s < DTE_ST_COUNT; s++)
		assert_int_equal(dte_status_parse(dte_status_name((enum dte_status)s)), s);
	assert_int_equal(dte_status_parse("sent"), -1);
	assert_string_equal(dte_status_pdf_label(DTE_ST_ACCEPTED), "PROCESADO");
	assert_string_equal(dte_status_pdf_label(DTE_ST_REJECTED), "RECHAZADO");
	assert_string_equal(dte_status_pdf_label(DTE_ST_CONTINGENCY), "CONTINGENCIA");
	assert_string_equal(dte_status_pdf_label(DTE_ST_INVALIDATED), "INVALIDADO");
	assert_string_equal(dte_status_pdf_label(DTE_ST_PENDING), "PENDIENTE");
	assert_string_equal(dte_status_pdf_label(DTE_ST_QUEUED), "PENDIENTE");
}

/* Words of typical clinic totals (dte_amount_words through the mapping). */
static void test_words(void **state)
{
	struct fixture *f = *state;
	struct dte_map_source src;
	struct dte_totals t;
	json_t *doc;

	/* 1,095.00 or more: the Factura must identify its receptor */
	struct dte_receptor r = {.tipo_documento = "13", .num_documento = "02382723-5", .nombre = "Ana López"};
	struct dte_input in;
	struct err e;

	add_line(f, "Cirugía menor", 1000, 126017, BILL_TAX_TAXABLE, 0);
	add_line(f, "Insumos", 1000, 100000, BILL_TAX_EXEMPT, 0);
	add_payment(f, BILL_PAY_CARD_ONLINE, 226017);
	source_init(&src, f, DTE_FE, NULL, "DTE-01-00010001-000000000000007");
	err_clear(&e);
	assert_int_equal(dte_map_document(&src, f->a, &in, &e), 0);
	assert_int_equal(dte_build(&in, &doc, &t, &e), ERR_INVALID);
	assert_string_equal(e.field, "receptor");
	src.receptor = &r;
	doc = map_build(f, &src, &t);
	assert_string_equal(dstr(doc, "resumen", "totalLetras"), "DOS MIL DOSCIENTOS SESENTA 17/100 DÓLARES");
	json_decref(doc);
}

/* settings.dte of a tenant. */
static void test_settings_check(void **state)
{
	json_t *ok = json_pack("{s:b, s:s, s:{s:s, s:s, s:s}}", "autoSubmit", 0, "mhUser", "06140507071048",
			       "responsable", "nombre", "María Hernández", "tipoDocumento", "13", "numDocumento",
			       "02382723-5");
	json_t *bad_flag = json_pack("{s:s}", "autoSubmit", "yes");
	json_t *bad_doc = json_pack("{s:{s:s, s:s, s:s}}", "responsable", "nombre", "María Hernández", "tipoDocumento",
				    "99", "numDocumento", "02382723-5");
	json_t *unknown = json_pack("{s:i}", "ambiente", 1);
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(dte_settings_check(ok, "settings.dte", &e), 0);
	assert_int_equal(dte_settings_check(NULL, "settings.dte", &e), 0);
	assert_int_equal(dte_settings_check(bad_flag, "settings.dte", &e), ERR_INVALID);
	assert_string_equal(e.field, "settings.dte.autoSubmit");
	err_clear(&e);
	assert_int_equal(dte_settings_check(bad_doc, "settings.dte", &e), ERR_INVALID);
	assert_string_equal(e.field, "settings.dte.responsable.tipoDocumento");
	err_clear(&e);
	assert_int_equal(dte_settings_check(unknown, "settings.dte", &e), ERR_INVALID);
	assert_string_equal(e.field, "settings.dte.ambiente");
	json_decref(ok);
	json_decref(bad_flag);
	json_decref(bad_doc);
	json_decref(unknown);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fe_tax_inclusive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ccf_from_tax_inclusive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fe_from_tax_exclusive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_treatments_discounts_pagos, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_credit_sale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_note_with_related_document, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_receptor_from_patient, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fe_identified_receptor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_type_choice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_words, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_settings_check, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
