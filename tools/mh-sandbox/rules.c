/*
 * rules.c - MH's business rules on a DTE that already passed its schema
 * (README §1.6, §3.1, §3.7), without state: numeroControl correlativo,
 * the fecEmi window of a normal transmission, and the arithmetic.
 *
 * ARITHMETIC. Every amount is read exactly from its decimal text (the
 * document was parsed with jschema_parse_exact) into 1e-8 units in 128-bit
 * integers. Lines: ventaNoSuj + ventaExenta + ventaGravada (or compra for
 * 14) must equal cantidad x precioUni - montoDescu; FE ivaItem must equal
 * ventaGravada x 13/113. Resumen: totals are the sums of the lines,
 * subTotalVentas = totalNoSuj + totalExenta + totalGravada, subTotal =
 * subTotalVentas - descuNoSuj - descuExenta - descuGravada, FE totalIva =
 * sum of ivaItem (or that less descuGravada x 13/113: either reading),
 * CCF/NC/ND tributo "20" = 13% of (totalGravada - descuGravada),
 * montoTotalOperacion = subTotal + sum of resumen.tributos,
 * totalPagar = montoTotalOperacion - ivaRete1 - reteRenta (+ ivaPerci1 for
 * CCF) + totalNoGravado. Everything is compared with MH's holgura of
 * +/-0.01. Where implementations disagree (README §3.7: whether CCF's
 * ivaPerci1/ivaRete1/reteRenta enter montoTotalOperacion or only
 * totalPagar) both readings are accepted.
 *
 * A failed sum is "[field] CALCULO INCORRECTO" (codigoMsg 020): RECHAZADO,
 * or with --calc-observe an observation on a PROCESADO answer (002), which
 * MH also does for some fields.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jschema.h"
#include "core/timeutil.h"
#include "sbx.h"

typedef __int128 i128;

#define UNIT	  ((i128)100000000) /* 1e8: amounts are in 1e-8 */
#define TOLERANCE ((i128)1000000)   /* 0.01 */

void sbx_verdict_init(struct sbx_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->observaciones = json_array();
}

void sbx_verdict_free(struct sbx_verdict *v)
{
	json_decref(v->observaciones);
	v->observaciones = NULL;
}

void sbx_verdict_reject(struct sbx_verdict *v, const char *clasifica, const char *code, const char *field)
{
	const char *text = sbx_msg_text(code);
	if (v->reject)
		return; /* the first rejection is the answer */
	v->reject = true;
	snprintf(v->clasifica, sizeof(v->clasifica), "%s", clasifica);
	snprintf(v->codigo, sizeof(v->codigo), "%s", code);
	if (field && *field)
		snprintf(v->descripcion, sizeof(v->descripcion), "[%s] %s", field, text ? text : "ERROR");
	else
		snprintf(v->descripcion, sizeof(v->descripcion), "%s", text ? text : "ERROR");
}

void sbx_verdict_note(struct sbx_verdict *v, const char *fmt, ...)
{
	char line[300];
	va_list ap;
	if (json_array_size(v->observaciones) >= SBX_MAX_OBS)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	json_array_append_new(v->observaciones, json_string(line));
}

/* ---- exact amounts ---- */

/* v as an amount in 1e-8 units (half-up beyond 8 decimals). false when not
 * a number or too large. */
static bool amount(const json_t *v, i128 *out)
{
	char text[JSCHEMA_NUMBER_MAX + 2];
	const char *p = text;
	bool neg = false;
	i128 mant = 0;
	int frac = 0, digits = 0;
	long ex = 0;

	*out = 0;
	if (!jschema_number_text(v, text, sizeof(text)))
		return false;
	if (*p == '-') {
		neg = true;
		p++;
	}
	bool seen_dot = false;
	int dropped_first = -1; /* first digit beyond what we keep, for rounding */
	for (; *p && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			seen_dot = true;
			continue;
		}
		if (*p < '0' || *p > '9')
			return false;
		if (digits >= 36) {
			if (!seen_dot)
				return false; /* integer part too large */
			if (dropped_first < 0)
				dropped_first = *p - '0';
			continue;
		}
		mant = mant * 10 + (*p - '0');
		if (mant != 0)
			digits++;
		if (seen_dot)
			frac++;
	}
	if (*p == 'e' || *p == 'E')
		ex = strtol(p + 1, NULL, 10);
	long shift = 8 + ex - frac; /* value = mant * 10^(ex - frac); want * 10^8 */
	if (shift > 0) {
		if (shift + digits > 36)
			return false;
		while (shift-- > 0)
			mant *= 10;
	} else if (shift < 0) {
		int last = 0;
		while (shift++ < 0) {
			last = (int)(mant % 10);
			mant /= 10;
		}
		if (last >= 5)
			mant += 1;
	} else if (dropped_first >= 5) {
		mant += 1;
	}
	*out = neg ? -mant : mant;
	return true;
}

static i128 get_amount(const json_t *obj, const char *name)
{
	i128 x = 0;
	amount(json_object_get(obj, name), &x);
	return x;
}

/* a * b / 1e8 (both in 1e-8), half-up */
static i128 mul8(i128 a, i128 b)
{
	i128 p = a * b;
	bool neg = p < 0;
	if (neg)
		p = -p;
	i128 q = (p + UNIT / 2) / UNIT;
	return neg ? -q : q;
}

/* x * num / den, half-up */
static i128 ratio(i128 x, i128 num, i128 den)
{
	i128 p = x * num;
	bool neg = p < 0;
	if (neg)
		p = -p;
	i128 q = (p + den / 2) / den;
	return neg ? -q : q;
}

/* round 1e-8 units to cents (kept in 1e-8 units), half-up */
static i128 to_cents(i128 x)
{
	i128 c = 1000000;
	bool neg = x < 0;
	if (neg)
		x = -x;
	i128 r = (x + c / 2) / c * c;
	return neg ? -r : r;
}

static bool near(i128 a, i128 b)
{
	i128 d = a - b;
	return d <= TOLERANCE && d >= -TOLERANCE;
}

static void calc_fail(struct sbx_verdict *v, const char *clasifica, const char *field)
{
	if (sbx_cfg.calc_observe || v->reject)
		sbx_verdict_note(v, "[%s] CALCULO INCORRECTO", field);
	else
		sbx_verdict_reject(v, clasifica, "020", field);
}

static void expect(struct sbx_verdict *v, const char *clasifica, const char *field, i128 got, i128 want)
{
	if (!near(got, want))
		calc_fail(v, clasifica, field);
}

static void expect2(struct sbx_verdict *v, const char *clasifica, const char *field, i128 got, i128 want1, i128 want2)
{
	if (!near(got, want1) && !near(got, want2))
		calc_fail(v, clasifica, field);
}

/* ---- the rules ---- */

static void rule_numero_control(const json_t *doc, struct sbx_verdict *v)
{
	const char *nc = sbx_str(sbx_get(doc, "identificacion"), "numeroControl");
	if (!nc || strlen(nc) != 31)
		return; /* the schema reported it */
	bool zero = true;
	for (const char *p = nc + 16; *p; p++)
		zero = zero && *p == '0';
	if (zero)
		sbx_verdict_reject(v, "11", "019", "identificacion.numeroControl");
}

static bool last_day_of_month(const char *date)
{
	char next[11];
	date_add_days(date, 1, next);
	return strncmp(next + 5, date + 5, 2) != 0;
}

static void rule_fec_emi(const json_t *doc, int64_t now, struct sbx_verdict *v)
{
	const json_t *id = sbx_get(doc, "identificacion");
	const char *fec = sbx_str(id, "fecEmi"), *hor = sbx_str(id, "horEmi");
	const json_t *op = json_object_get(id, "tipoOperacion");
	char today[11], tod[9], limit[11];
	int64_t oper = 1;

	if (!fec || !date_valid(fec))
		return;
	if (jschema_is_number(op)) {
		struct err e;
		if (jschema_fixed(op, 0, &oper, &e) != 0)
			oper = 1;
	}
	sbx_local(now, today, tod);
	/* ahead of MH's clock: one day, only 30 minutes on the period's last day */
	if (last_day_of_month(today)) {
		int64_t at = sbx_local_epoch(fec, hor ? hor : "00:00:00");
		if (at != INT64_MIN && at > now + 30 * 60) {
			sbx_verdict_reject(v, "11", "017", "identificacion.fecEmi");
			return;
		}
	} else {
		date_add_days(today, 1, limit);
		if (strcmp(fec, limit) > 0) {
			sbx_verdict_reject(v, "11", "017", "identificacion.fecEmi");
			return;
		}
	}
	/* a normal transmission is sent right away (contingency: see the event) */
	if (oper == 1) {
		date_add_days(today, -sbx_cfg.max_past_days, limit);
		if (strcmp(fec, limit) < 0)
			sbx_verdict_reject(v, "11", "018", "identificacion.fecEmi");
	}
}

struct sums {
	i128 no_suj, exenta, gravada, iva, no_gravado, compra;
};

static void rule_items(const json_t *doc, const char *tipo, struct sums *s, struct sbx_verdict *v)
{
	const json_t *items = json_object_get(doc, "cuerpoDocumento");
	bool fe = strcmp(tipo, "01") == 0, fse = strcmp(tipo, "14") == 0;
	size_t i;
	const json_t *it;

	memset(s, 0, sizeof(*s));
	json_array_foreach(items, i, it)
	{
		i128 c = get_amount(it, "cantidad"), p = get_amount(it, "precioUni"), d = get_amount(it, "montoDescu");
		i128 line = mul8(c, p) - d;
		if (fse) {
			i128 compra = get_amount(it, "compra");
			s->compra += compra;
			expect(v, "15", "cuerpoDocumento.compra", compra, line);
			continue;
		}
		i128 ns = get_amount(it, "ventaNoSuj"), ex = get_amount(it, "ventaExenta"),
		     gr = get_amount(it, "ventaGravada");
		i128 ng = get_amount(it, "noGravado");
		s->no_suj += ns;
		s->exenta += ex;
		s->gravada += gr;
		s->no_gravado += ng;
		if (ng == 0) /* cargos/abonos lines carry their amount in noGravado */
			expect(v, "15",
			       gr   ? "cuerpoDocumento.ventaGravada"
			       : ex ? "cuerpoDocumento.ventaExenta"
				    : "cuerpoDocumento.ventaNoSuj",
			       ns + ex + gr, line);
		if (fe) {
			i128 iva = get_amount(it, "ivaItem");
			s->iva += iva;
			expect(v, "15", "cuerpoDocumento.ivaItem", iva, ratio(gr, 13, 113));
		}
	}
}

static i128 tributos_sum(const json_t *res, i128 *iva20, bool *has20)
{
	i128 total = 0;
	size_t i;
	const json_t *t;
	*has20 = false;
	*iva20 = 0;
	json_array_foreach(json_object_get(res, "tributos"), i, t)
	{
		i128 val = get_amount(t, "valor");
		total += val;
		const char *code = sbx_str(t, "codigo");
		if (code && strcmp(code, "20") == 0) {
			*has20 = true;
			*iva20 += val;
		}
	}
	return total;
}

static void rule_resumen(const json_t *doc, const char *tipo, const struct sums *s, struct sbx_verdict *v)
{
	const json_t *res = json_object_get(doc, "resumen");
	bool fe = strcmp(tipo, "01") == 0, ccf = strcmp(tipo, "03") == 0;

	if (strcmp(tipo, "14") == 0) {
		i128 tc = get_amount(res, "totalCompra"), sub = get_amount(res, "subTotal");
		expect(v, "16", "resumen.totalCompra", tc, s->compra);
		expect(v, "16", "resumen.subTotal", sub, tc - get_amount(res, "descu"));
		expect(v, "16", "resumen.totalPagar", get_amount(res, "totalPagar"),
		       sub - get_amount(res, "ivaRete1") - get_amount(res, "reteRenta"));
		return;
	}
	i128 tns = get_amount(res, "totalNoSuj"), tex = get_amount(res, "totalExenta"),
	     tgr = get_amount(res, "totalGravada");
	expect(v, "16", "resumen.totalNoSuj", tns, s->no_suj);
	expect(v, "16", "resumen.totalExenta", tex, s->exenta);
	expect(v, "16", "resumen.totalGravada", tgr, s->gravada);
	i128 stv = get_amount(res, "subTotalVentas");
	expect(v, "16", "resumen.subTotalVentas", stv, tns + tex + tgr);
	i128 dgr = get_amount(res, "descuGravada");
	i128 sub = get_amount(res, "subTotal");
	expect(v, "16", "resumen.subTotal", sub,
	       stv - get_amount(res, "descuNoSuj") - get_amount(res, "descuExenta") - dgr);
	i128 iva20;
	bool has20;
	i128 trib = tributos_sum(res, &iva20, &has20);
	i128 perci = fe ? 0 : get_amount(res, "ivaPerci1");
	i128 rete = get_amount(res, "ivaRete1"), renta = get_amount(res, "reteRenta");
	i128 mto = get_amount(res, "montoTotalOperacion");
	if (fe) {
		/* a global descuGravada lowers the IVA inside the prices, or not */
		expect2(v, "16", "resumen.totalIva", get_amount(res, "totalIva"), to_cents(s->iva),
			to_cents(s->iva - ratio(dgr, 13, 113)));
		expect(v, "16", "resumen.montoTotalOperacion", mto, sub + trib);
	} else {
		i128 base = tgr - dgr;
		if (base > 0) {
			if (!has20)
				calc_fail(v, "16", "resumen.tributos");
			else
				expect(v, "16", "resumen.tributos.valor", iva20, to_cents(ratio(base, 13, 100)));
		}
		expect2(v, "16", "resumen.montoTotalOperacion", mto, sub + trib, sub + trib + perci - rete - renta);
	}
	if (fe || ccf) {
		i128 tng = get_amount(res, "totalNoGravado");
		expect(v, "16", "resumen.totalNoGravado", tng, s->no_gravado);
		i128 pagar = get_amount(res, "totalPagar");
		if (fe)
			expect(v, "16", "resumen.totalPagar", pagar, mto - rete - renta + tng);
		else
			expect2(v, "16", "resumen.totalPagar", pagar, mto + perci - rete - renta + tng, mto + tng);
	}
}

void sbx_rules_dte(const json_t *doc, const char *tipo_dte, int64_t now, struct sbx_verdict *v)
{
	struct sums s;

	rule_numero_control(doc, v);
	if (v->reject)
		return;
	rule_fec_emi(doc, now, v);
	if (v->reject)
		return;
	rule_items(doc, tipo_dte, &s, v);
	rule_resumen(doc, tipo_dte, &s, v);
}

int64_t sbx_rules_monto_cents(const json_t *doc, const char *tipo_dte)
{
	const json_t *res = json_object_get(doc, "resumen");
	i128 x = get_amount(res, strcmp(tipo_dte, "14") == 0 ? "totalPagar" : "montoTotalOperacion");
	return (int64_t)(to_cents(x) / 1000000);
}
