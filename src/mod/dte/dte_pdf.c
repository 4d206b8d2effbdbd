/*
 * dte_pdf.c - the PDF "representación gráfica" of a delivered DTE (libharu +
 * libqrencode). See dte_pdf.h for the contract and the layout.
 *
 * How it draws: one struct pdf_ctx walks the document top to bottom keeping
 * a cursor `y` (PDF points from the page bottom). Every block either fits
 * above the bottom margin or starts a new page; the items table closes its
 * frame and repeats its header on each new page. Blocks whose height must be
 * known before drawing (the side-by-side emisor/receptor boxes, the totals)
 * are laid out twice: once "dry" (nothing drawn, only y moves) to measure,
 * once for real. Page numbers ("Página x de y") are drawn when everything
 * else is done, since only then is y known. Text goes through
 * dte_render_cp1252 because the base-14 fonts use WinAnsiEncoding.
 */
#include "mod/dte/dte_pdf.h"

#include <hpdf.h>
#include <math.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "mod/dte/dte_render.h"

#define PAGE_W	       612.0f /* US Letter */
#define PAGE_H	       792.0f
#define MARGIN_X       36.0f
#define MARGIN_TOP     36.0f
#define CONTENT_BOTTOM 48.0f /* below: footer */
#define CONTENT_W      (PAGE_W - 2 * MARGIN_X)
#define QR_SIZE	       104.0f
#define MAX_ITEMS      2000
#define FIRMA_HEAD     32 /* characters of firmaElectronica printed from its start */
#define FIRMA_TAIL     16 /* ... and from its end */

struct rgb {
	float r, g, b;
};

static const struct rgb INK = {0.0f, 0.0f, 0.0f};
static const struct rgb ACCENT = {0.09f, 0.22f, 0.42f};
static const struct rgb MUTED = {0.35f, 0.35f, 0.35f};
static const struct rgb LIGHT = {0.90f, 0.93f, 0.97f};
static const struct rgb RULE = {0.55f, 0.60f, 0.68f};
static const struct rgb WHITE = {1.0f, 1.0f, 1.0f};

struct status_def {
	const char *label;
	const char *banner; /* NULL for PROCESADO */
	struct rgb color;
};

static const struct status_def STATUSES[] = {
    {DTE_STATUS_PROCESADO, NULL, {0.10f, 0.45f, 0.20f}},
    {DTE_STATUS_PENDIENTE,
     "DOCUMENTO PENDIENTE DE RECEPCIÓN POR EL MINISTERIO DE HACIENDA — SIN SELLO DE RECEPCIÓN",
     {0.80f, 0.42f, 0.00f}},
    {DTE_STATUS_CONTINGENCIA,
     "DOCUMENTO EMITIDO EN CONTINGENCIA — PENDIENTE DE TRANSMISIÓN AL MINISTERIO DE HACIENDA",
     {0.80f, 0.42f, 0.00f}},
    {DTE_STATUS_RECHAZADO,
     "DOCUMENTO RECHAZADO POR EL MINISTERIO DE HACIENDA — SIN VALIDEZ TRIBUTARIA",
     {0.72f, 0.08f, 0.08f}},
    {DTE_STATUS_INVALIDADO,
     "DOCUMENTO INVALIDADO ANTE EL MINISTERIO DE HACIENDA — SIN VALIDEZ TRIBUTARIA",
     {0.72f, 0.08f, 0.08f}},
};

struct col {
	const char *title; /* UTF-8, may wrap to two lines */
	float w;
	int align; /* 0 left, 1 right, 2 center */
};

/* Sales documents (01, 03, 05, 06): 540 points. */
static const struct col SALE_COLS[] = {
    {"N.º", 18, 2},
    {"Cantidad", 42, 1},
    {"Unidad", 42, 0},
    {"Descripción", 174, 0},
    {"Precio unitario", 54, 1},
    {"Descuento", 46, 1},
    {"Ventas no sujetas", 52, 1},
    {"Ventas exentas", 52, 1},
    {"Ventas gravadas", 60, 1},
};

/* Factura de sujeto excluido (14). */
static const struct col FSE_COLS[] = {
    {"N.º", 18, 2},	  {"Cantidad", 48, 1}, {"Unidad", 54, 0}, {"Descripción", 240, 0}, {"Precio unitario", 60, 1},
    {"Descuento", 56, 1}, {"Compra", 64, 1},
};

#define SL_TRIBUTOS 1u /* insert resumen.tributos here (key NULL) */
#define SL_TOTAL    2u /* the emphasized last line */
#define SL_NONZERO  4u /* only when not zero */
#define SL_PERCENT  8u /* a percentage, not money */

struct sum_line {
	const char *key;
	const char *label;
	unsigned flags;
};

/* Factura and Crédito Fiscal (also the 2.0 renames ivaPerci / ivaRete). */
static const struct sum_line SUM_SALE[] = {
    {"subTotalVentas", "Suma total de operaciones", 0},
    {"descuNoSuj", "Descuento a ventas no sujetas", 0},
    {"descuExenta", "Descuento a ventas exentas", 0},
    {"descuGravada", "Descuento a ventas gravadas", 0},
    {"porcentajeDescuento", "Porcentaje de descuento global", SL_PERCENT | SL_NONZERO},
    {"totalDescu", "Total descuentos", 0},
    {NULL, NULL, SL_TRIBUTOS},
    {"subTotal", "Sub-total", 0},
    {"totalIva", "IVA 13% incluido en ventas gravadas", 0},
    {"ivaPerci1", "IVA percibido", 0},
    {"ivaPerci", "IVA percibido", 0},
    {"ivaRete1", "IVA retenido", 0},
    {"ivaRete", "IVA retenido", 0},
    {"reteRenta", "Retención de renta", 0},
    {"montoTotalOperacion", "Monto total de la operación", 0},
    {"totalNoGravado", "Total otros montos no afectos", 0},
    {"saldoFavor", "Saldo a favor", SL_NONZERO},
    {"totalPagar", "TOTAL A PAGAR", SL_TOTAL},
};

/* Notas de crédito / débito: no totalPagar, the operation amount is the total. */
static const struct sum_line SUM_NOTE[] = {
    {"subTotalVentas", "Suma total de operaciones", 0},
    {"descuNoSuj", "Descuento a ventas no sujetas", 0},
    {"descuExenta", "Descuento a ventas exentas", 0},
    {"descuGravada", "Descuento a ventas gravadas", 0},
    {"totalDescu", "Total descuentos", 0},
    {NULL, NULL, SL_TRIBUTOS},
    {"subTotal", "Sub-total", 0},
    {"ivaPerci1", "IVA percibido", 0},
    {"ivaPerci", "IVA percibido", 0},
    {"ivaRete1", "IVA retenido", 0},
    {"ivaRete", "IVA retenido", 0},
    {"reteRenta", "Retención de renta", 0},
    {"totalPagar", "Total a pagar", 0},
    {"montoTotalOperacion", "MONTO TOTAL DE LA OPERACIÓN", SL_TOTAL},
};

/* Factura de sujeto excluido. */
static const struct sum_line SUM_FSE[] = {
    {"totalCompra", "Suma de compras", 0},  {"descu", "Descuento global", 0},
    {"totalDescu", "Total descuentos", 0},  {"subTotal", "Sub-total", 0},
    {"ivaRete1", "IVA retenido", 0},	    {"ivaRete", "IVA retenido", 0},
    {"reteRenta", "Retención de renta", 0}, {"totalPagar", "TOTAL A PAGAR", SL_TOTAL},
};

struct hpdf_state {
	HPDF_STATUS error_no, detail_no;
};

struct pdf_ctx {
	HPDF_Doc pdf;
	HPDF_Font font, bold;
	HPDF_ExtGState wm_gs;
	struct hpdf_state hs;
	struct arena *a;
	const json_t *doc, *ident, *resumen;
	const char *tipo;
	bool fse, note;
	const struct status_def *st;
	const char *status_detail;
	const char *qr_url;
	HPDF_Page *pages;
	size_t npages, cap_pages;
	HPDF_Page page;
	float y;
	bool dry;  /* measuring: move y, draw nothing */
	bool flow; /* paragraphs may continue on a new page (full-width blocks) */
	/* items table */
	const struct col *cols;
	size_t ncols;
	float table_top;
};

struct lines {
	char **v;
	size_t n;
};

static void hpdf_error_cb(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data)
{
	struct hpdf_state *hs = user_data;

	if (hs->error_no == 0) {
		hs->error_no = error_no;
		hs->detail_no = detail_no;
	}
}

/* ---- small JSON accessors (borrowed values) ---- */

static const json_t *jget(const json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
	const json_t *v = jget(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jint(const json_t *o, const char *k, long long *out)
{
	const json_t *v = jget(o, k);

	if (json_is_integer(v)) {
		*out = (long long)json_integer_value(v);
		return true;
	}
	if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) && fabs(json_real_value(v)) < 1e15) {
		*out = (long long)json_real_value(v);
		return true;
	}
	return false;
}

static bool nonempty(const char *s)
{
	return s && *s;
}

/* ---- drawing primitives (no-ops when dry) ---- */

static char *cp(struct pdf_ctx *c, const char *utf8)
{
	return dte_render_cp1252(c->a, utf8);
}

static float text_w(HPDF_Font f, float size, const char *s, size_t len)
{
	HPDF_TextWidth tw;

	if (len == 0)
		return 0;
	tw = HPDF_Font_TextWidth(f, (const HPDF_BYTE *)s, (HPDF_UINT)len);
	return (float)tw.width * size / 1000.0f;
}

static float width_of(HPDF_Font f, float size, const char *s)
{
	return text_w(f, size, s, strlen(s));
}

static void draw_text(struct pdf_ctx *c, float x, float y, HPDF_Font f, float size, struct rgb col, const char *s)
{
	if (c->dry || !s || !*s)
		return;
	HPDF_Page_SetRGBFill(c->page, col.r, col.g, col.b);
	HPDF_Page_BeginText(c->page);
	HPDF_Page_SetFontAndSize(c->page, f, size);
	HPDF_Page_TextOut(c->page, x, y, s);
	HPDF_Page_EndText(c->page);
}

/* Text in a cell [x, x+w]: aligned, shrunk (down to 4.5 pt) when too wide. */
static void draw_cell(struct pdf_ctx *c, float x, float y, float w, int align, HPDF_Font f, float size, struct rgb col,
		      const char *s)
{
	float tw = width_of(f, size, s);

	while (tw > w && size > 4.5f) {
		size -= 0.5f;
		tw = width_of(f, size, s);
	}
	if (align == 1)
		x += w - tw;
	else if (align == 2)
		x += (w - tw) / 2;
	draw_text(c, x, y, f, size, col, s);
}

static void rect(struct pdf_ctx *c, float x, float y, float w, float h, const struct rgb *fill,
		 const struct rgb *stroke, float line_w)
{
	if (c->dry)
		return;
	if (fill)
		HPDF_Page_SetRGBFill(c->page, fill->r, fill->g, fill->b);
	if (stroke) {
		HPDF_Page_SetRGBStroke(c->page, stroke->r, stroke->g, stroke->b);
		HPDF_Page_SetLineWidth(c->page, line_w);
	}
	HPDF_Page_Rectangle(c->page, x, y, w, h);
	if (fill && stroke)
		HPDF_Page_FillStroke(c->page);
	else if (fill)
		HPDF_Page_Fill(c->page);
	else
		HPDF_Page_Stroke(c->page);
}

static void line(struct pdf_ctx *c, float x1, float y1, float x2, float y2, struct rgb col, float line_w)
{
	if (c->dry)
		return;
	HPDF_Page_SetRGBStroke(c->page, col.r, col.g, col.b);
	HPDF_Page_SetLineWidth(c->page, line_w);
	HPDF_Page_MoveTo(c->page, x1, y1);
	HPDF_Page_LineTo(c->page, x2, y2);
	HPDF_Page_Stroke(c->page);
}

/* Break CP1252 text s into lines: the first at most first_w wide, the others
 * rest_w. Spaces collapse; a word wider than a line is cut. Lines in the arena. */
static struct lines wrap(struct pdf_ctx *c, HPDF_Font f, float size, float first_w, float rest_w, const char *s)
{
	size_t n = strlen(s), o = 0, pos = 0, cap = 8;
	char *t = arena_alloc(c->a, n + 1);
	struct lines L = {arena_alloc(c->a, cap * sizeof(char *)), 0};

	for (size_t i = 0; i < n; i++) /* collapse runs of spaces */
		if (s[i] != ' ' || (o > 0 && t[o - 1] != ' '))
			t[o++] = s[i];
	while (o > 0 && t[o - 1] == ' ')
		o--;
	t[o] = '\0';
	n = o;
	while (pos < n) {
		float limit = L.n == 0 ? first_w : rest_w;
		size_t best = pos, i = pos;

		while (i < n) {
			size_t we = i;
			while (we < n && t[we] != ' ')
				we++;
			if (text_w(f, size, t + pos, we - pos) > limit)
				break;
			best = we;
			i = we < n ? we + 1 : we;
		}
		if (best == pos) { /* the first word does not fit: cut it */
			size_t k = pos + 1;
			while (k < n && t[k] != ' ' && text_w(f, size, t + pos, k + 1 - pos) <= limit)
				k++;
			best = k;
		}
		if (L.n == cap) {
			char **nv = arena_alloc(c->a, cap * 2 * sizeof(char *));
			memcpy(nv, L.v, cap * sizeof(char *));
			L.v = nv;
			cap *= 2;
		}
		L.v[L.n++] = arena_strndup(c->a, t + pos, best - pos);
		pos = best;
		while (pos < n && t[pos] == ' ')
			pos++;
	}
	return L;
}

static void new_page(struct pdf_ctx *c);

/* Before a text line of height lh: in flowing mode, a new page when the line
 * would cross the bottom margin. */
static void line_room(struct pdf_ctx *c, float lh)
{
	if (c->flow && !c->dry && c->y - lh < CONTENT_BOTTOM)
		new_page(c);
}

/* "Label: value" wrapped in [x, x+w] from c->y down; label bold. */
static void kv(struct pdf_ctx *c, float x, float w, const char *label, const char *value, float size)
{
	char *l2 = cp(c, arena_printf(c->a, "%s: ", label));
	float lw = width_of(c->bold, size, l2);
	float lh = size * 1.3f;
	struct lines L;
	bool label_alone = lw > w * 0.6f; /* long label: value below it */

	L = wrap(c, c->font, size, label_alone ? w : w - lw, w, cp(c, value ? value : ""));
	line_room(c, lh);
	draw_text(c, x, c->y - size, c->bold, size, INK, l2);
	if (label_alone || L.n == 0)
		c->y -= lh;
	for (size_t i = 0; i < L.n; i++) {
		if (i > 0 || label_alone)
			line_room(c, lh);
		draw_text(c, i == 0 && !label_alone ? x + lw : x, c->y - size, c->font, size, INK, L.v[i]);
		c->y -= lh;
	}
}

/* A plain wrapped paragraph. */
static void para(struct pdf_ctx *c, float x, float w, HPDF_Font f, float size, struct rgb col, const char *utf8)
{
	struct lines L = wrap(c, f, size, w, w, cp(c, utf8));
	float lh = size * 1.3f;

	if (L.n == 0)
		c->y -= lh;
	for (size_t i = 0; i < L.n; i++) {
		line_room(c, lh);
		draw_text(c, x, c->y - size, f, size, col, L.v[i]);
		c->y -= lh;
	}
}

/* ---- pages ---- */

static void watermark(struct pdf_ctx *c)
{
	const char *s = c->st->label;
	float size = 66, ang = 0.7854f; /* 45 degrees */
	float w = width_of(c->bold, size, s), h = size * 0.7f;
	float cx = PAGE_W / 2, cy = PAGE_H * 0.40f;
	float cs = cosf(ang), sn = sinf(ang);
	float x0 = cx - (w / 2) * cs + (h / 2) * sn;
	float y0 = cy - (w / 2) * sn - (h / 2) * cs;

	HPDF_Page_GSave(c->page);
	HPDF_Page_SetExtGState(c->page, c->wm_gs);
	HPDF_Page_SetRGBFill(c->page, c->st->color.r, c->st->color.g, c->st->color.b);
	HPDF_Page_BeginText(c->page);
	HPDF_Page_SetFontAndSize(c->page, c->bold, size);
	HPDF_Page_SetTextMatrix(c->page, cs, sn, -sn, cs, x0, y0);
	HPDF_Page_ShowText(c->page, s);
	HPDF_Page_EndText(c->page);
	HPDF_Page_GRestore(c->page);
}

static void new_page(struct pdf_ctx *c)
{
	HPDF_Page p = HPDF_AddPage(c->pdf);

	HPDF_Page_SetWidth(p, PAGE_W);
	HPDF_Page_SetHeight(p, PAGE_H);
	if (c->npages == c->cap_pages) {
		c->cap_pages = c->cap_pages ? c->cap_pages * 2 : 8;
		c->pages = xrealloc(c->pages, c->cap_pages * sizeof(*c->pages));
	}
	c->pages[c->npages++] = p;
	c->page = p;
	c->y = PAGE_H - MARGIN_TOP;
	if (c->st->banner)
		watermark(c);
	if (c->npages > 1) { /* continuation header */
		const char *name = dte_render_type_name(c->tipo);
		char *t = cp(c, arena_printf(c->a, "%s (continuación)", name));
		char *r1 = cp(c, arena_printf(c->a, "Número de control: %s", jstr(c->ident, "numeroControl")));
		char *r2 = cp(c, arena_printf(c->a, "Código de generación: %s", jstr(c->ident, "codigoGeneracion")));

		draw_text(c, MARGIN_X, c->y - 10, c->bold, 10, ACCENT, t);
		draw_cell(c, MARGIN_X, c->y - 9, CONTENT_W, 1, c->font, 7.5f, INK, r1);
		draw_cell(c, MARGIN_X, c->y - 19, CONTENT_W, 1, c->font, 7.5f, INK, r2);
		c->y -= 24;
		line(c, MARGIN_X, c->y, PAGE_W - MARGIN_X, c->y, ACCENT, 0.8f);
		c->y -= 8;
	}
}

static bool fits(const struct pdf_ctx *c, float h)
{
	return c->y - h >= CONTENT_BOTTOM;
}

static void ensure(struct pdf_ctx *c, float h)
{
	if (!fits(c, h))
		new_page(c);
}

static void section_title(struct pdf_ctx *c, const char *utf8)
{
	ensure(c, 30);
	rect(c, MARGIN_X, c->y - 13, CONTENT_W, 13, &LIGHT, NULL, 0);
	draw_text(c, MARGIN_X + 4, c->y - 9.5f, c->bold, 8, ACCENT, cp(c, utf8));
	c->y -= 16;
}

/* ---- header ---- */

static int draw_qr(struct pdf_ctx *c, float x, float y_top, float size, struct err *e)
{
	QRcode *qr = QRcode_encodeString(c->qr_url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int n, quiet = 4;
	float m;

	if (!qr)
		return err_set(e, ERR_INTERNAL, NULL, "could not encode the QR code");
	n = qr->width;
	m = size / (float)(n + 2 * quiet);
	rect(c, x, y_top - size, size, size, &WHITE, NULL, 0);
	if (!c->dry) {
		HPDF_Page_SetRGBFill(c->page, 0, 0, 0);
		for (int r = 0; r < n; r++) {
			int col = 0;
			while (col < n) {
				int start;
				if (!(qr->data[r * n + col] & 1)) {
					col++;
					continue;
				}
				start = col;
				while (col < n && (qr->data[r * n + col] & 1))
					col++;
				HPDF_Page_Rectangle(c->page, x + (float)(quiet + start) * m,
						    y_top - (float)(quiet + r + 1) * m, (float)(col - start) * m, m);
			}
		}
		HPDF_Page_Fill(c->page);
	}
	QRcode_free(qr);
	return 0;
}

static void header(struct pdf_ctx *c, struct err *e, int *rc)
{
	const char *type_name = dte_render_type_name(c->tipo);
	const char *sello = jstr(c->doc, "selloRecibido");
	long long modelo = 0, oper = 0, cont = 0, version = 0;
	char d[16];
	float top, box_w = CONTENT_W - QR_SIZE - 12, x = MARGIN_X + 6;
	const char *ambiente = jstr(c->ident, "ambiente");

	draw_cell(c, MARGIN_X, c->y - 12, CONTENT_W, 2, c->bold, 12, ACCENT, cp(c, "DOCUMENTO TRIBUTARIO ELECTRÓNICO"));
	draw_cell(c, MARGIN_X, c->y - 28, CONTENT_W, 2, c->bold, 14, INK, cp(c, type_name));
	c->y -= 34;
	if (ambiente && strcmp(ambiente, "00") == 0) {
		draw_cell(c, MARGIN_X, c->y - 8, CONTENT_W, 2, c->bold, 7.5f, (struct rgb){0.72f, 0.08f, 0.08f},
			  cp(c, "AMBIENTE DE PRUEBAS — DOCUMENTO SIN VALIDEZ TRIBUTARIA"));
		c->y -= 11;
	}
	c->y -= 4;
	top = c->y;
	c->y -= 5;
	kv(c, x, box_w - 12, "Código de generación", jstr(c->ident, "codigoGeneracion"), 8);
	kv(c, x, box_w - 12, "Número de control", jstr(c->ident, "numeroControl"), 8);
	kv(c, x, box_w - 12, "Sello de recepción", sello ? sello : "Pendiente (sin sello de recepción)", 8);
	jint(c->ident, "tipoModelo", &modelo);
	jint(c->ident, "tipoOperacion", &oper);
	kv(c, x, box_w - 12, "Modelo de facturación",
	   dte_render_modelo(modelo) ? dte_render_modelo(modelo) : arena_printf(c->a, "%lld", modelo), 8);
	kv(c, x, box_w - 12, "Tipo de transmisión",
	   dte_render_transmision(oper) ? dte_render_transmision(oper) : arena_printf(c->a, "%lld", oper), 8);
	if (jint(c->ident, "tipoContingencia", &cont)) {
		const char *cn = dte_render_contingencia(cont);
		kv(c, x, box_w - 12, "Tipo de contingencia",
		   cn ? arena_printf(c->a, "%lld — %s", cont, cn) : arena_printf(c->a, "%lld", cont), 8);
	}
	if (nonempty(jstr(c->ident, "motivoContin")))
		kv(c, x, box_w - 12, "Motivo de contingencia", jstr(c->ident, "motivoContin"), 8);
	kv(c, x, box_w - 12, "Fecha y hora de generación",
	   arena_printf(c->a, "%s %s", dte_render_date(jstr(c->ident, "fecEmi"), d, sizeof(d)),
			jstr(c->ident, "horEmi")),
	   8);
	if (jint(c->ident, "version", &version))
		kv(c, x, box_w - 12, "Versión del JSON", arena_printf(c->a, "%lld", version), 8);
	if (nonempty(jstr(c->ident, "tipoMoneda")))
		kv(c, x, box_w - 12, "Moneda", jstr(c->ident, "tipoMoneda"), 8);
	kv(c, x, box_w - 12, "Estado", c->st->label, 8);
	if (top - c->y < QR_SIZE + 16)
		c->y = top - QR_SIZE - 16;
	c->y -= 3;
	rect(c, MARGIN_X, c->y, CONTENT_W, top - c->y, NULL, &RULE, 0.6f);
	if (*rc == 0)
		*rc = draw_qr(c, PAGE_W - MARGIN_X - QR_SIZE - 4, top - 4, QR_SIZE, e);
	draw_cell(c, PAGE_W - MARGIN_X - QR_SIZE - 4, top - QR_SIZE - 11, QR_SIZE, 2, c->font, 6, MUTED,
		  cp(c, "Consulta pública — Ministerio de Hacienda"));
	c->y -= 6;

	if (c->st->banner) {
		struct lines L = wrap(c, c->bold, 8.5f, CONTENT_W - 16, CONTENT_W - 16, cp(c, c->st->banner));
		struct lines D = {NULL, 0};
		float h;

		if (nonempty(c->status_detail))
			D = wrap(c, c->font, 7.5f, CONTENT_W - 16, CONTENT_W - 16, cp(c, c->status_detail));
		h = 8 + (float)L.n * 11 + (float)D.n * 10;
		rect(c, MARGIN_X, c->y - h, CONTENT_W, h, &c->st->color, NULL, 0);
		for (size_t i = 0; i < L.n; i++)
			draw_cell(c, MARGIN_X + 8, c->y - 12 - (float)i * 11, CONTENT_W - 16, 2, c->bold, 8.5f, WHITE,
				  L.v[i]);
		for (size_t i = 0; i < D.n; i++)
			draw_cell(c, MARGIN_X + 8, c->y - 12 - (float)L.n * 11 - (float)i * 10, CONTENT_W - 16, 2,
				  c->font, 7.5f, WHITE, D.v[i]);
		c->y -= h + 6;
	}
}

/* ---- parties ---- */

static char *address_text(struct pdf_ctx *c, const json_t *dir)
{
	const char *dep = jstr(dir, "departamento"), *mun = jstr(dir, "municipio");
	const char *comp = jstr(dir, "complemento");
	const char *dn = dte_render_departamento(dep), *mn = dte_render_municipio(dep, mun);
	char *s = arena_strdup(c->a, comp ? comp : "");

	if (!json_is_object(dir))
		return NULL;
	if (mn)
		s = arena_printf(c->a, "%s%s%s", s, *s ? ", " : "", mn);
	if (dn)
		s = arena_printf(c->a, "%s%s%s", s, *s ? ", " : "", dn);
	else if (dep)
		s = arena_printf(c->a, "%s%sdepartamento %s", s, *s ? ", " : "", dep);
	if (!mn && mun && dn)
		s = arena_printf(c->a, "%s (municipio %s)", s, mun);
	return s;
}

static void party_line(struct pdf_ctx *c, float x, float w, const char *label, const char *value)
{
	if (nonempty(value))
		kv(c, x, w, label, value, 7.5f);
}

static void emisor_block(struct pdf_ctx *c, float x, float w)
{
	const json_t *em = jget(c->doc, "emisor");
	char b1[64], b2[64];
	const char *act = jstr(em, "codActividad"), *dact = jstr(em, "descActividad");
	const char *est = jstr(em, "tipoEstablecimiento");

	para(c, x, w, c->bold, 8.5f, INK, jstr(em, "nombre") ? jstr(em, "nombre") : "—");
	if (nonempty(jstr(em, "nombreComercial")))
		para(c, x, w, c->font, 7.5f, MUTED, jstr(em, "nombreComercial"));
	party_line(c, x, w, "NIT", dte_render_nit(jstr(em, "nit"), b1, sizeof(b1)));
	party_line(c, x, w, "NRC", dte_render_nrc(jstr(em, "nrc"), b2, sizeof(b2)));
	if (act || dact)
		party_line(c, x, w, "Actividad económica",
			   arena_printf(c->a, "%s%s%s", act ? act : "", act && dact ? " — " : "", dact ? dact : ""));
	party_line(c, x, w, "Dirección", address_text(c, jget(em, "direccion")));
	party_line(c, x, w, "Teléfono", dte_render_phone(jstr(em, "telefono"), b1, sizeof(b1)));
	party_line(c, x, w, "Correo electrónico", jstr(em, "correo"));
	if (est) {
		const char *en = dte_render_establecimiento(est);
		party_line(c, x, w, "Tipo de establecimiento", en ? en : est);
	}
	if (jstr(em, "codEstableMH") || jstr(em, "codEstable"))
		party_line(c, x, w, "Establecimiento",
			   arena_printf(c->a, "%s / %s", jstr(em, "codEstableMH") ? jstr(em, "codEstableMH") : "—",
					jstr(em, "codEstable") ? jstr(em, "codEstable") : "—"));
	if (jstr(em, "codPuntoVentaMH") || jstr(em, "codPuntoVenta"))
		party_line(c, x, w, "Punto de venta",
			   arena_printf(c->a, "%s / %s",
					jstr(em, "codPuntoVentaMH") ? jstr(em, "codPuntoVentaMH") : "—",
					jstr(em, "codPuntoVenta") ? jstr(em, "codPuntoVenta") : "—"));
}

/* Identity document with its dynamic label (CAT-022). */
static void id_line(struct pdf_ctx *c, float x, float w, const char *tipo_doc, const char *num)
{
	const char *label = dte_render_doc_label(tipo_doc);
	char b[64];

	if (!nonempty(num))
		return;
	if (tipo_doc && (strcmp(tipo_doc, "36") == 0 || strcmp(tipo_doc, "13") == 0))
		dte_render_nit(num, b, sizeof(b)); /* NIT 14 digits, or DUI 9 digits without hyphen */
	else
		snprintf(b, sizeof(b), "%s", num);
	party_line(c, x, w, label ? label : arena_printf(c->a, "Documento (%s)", tipo_doc ? tipo_doc : "?"), b);
}

static void receptor_block(struct pdf_ctx *c, float x, float w)
{
	const json_t *r = c->fse ? jget(c->doc, "sujetoExcluido") : jget(c->doc, "receptor");
	char b[64];
	const char *act, *dact;

	if (!json_is_object(r)) {
		para(c, x, w, c->bold, 8.5f, INK, "Consumidor final");
		para(c, x, w, c->font, 7.5f, MUTED, "Sin datos de identificación del receptor");
		return;
	}
	para(c, x, w, c->bold, 8.5f, INK, nonempty(jstr(r, "nombre")) ? jstr(r, "nombre") : "Consumidor final");
	if (nonempty(jstr(r, "nombreComercial")))
		para(c, x, w, c->font, 7.5f, MUTED, jstr(r, "nombreComercial"));
	if (jget(r, "tipoDocumento")) /* Factura and sujeto excluido: the label follows the document type */
		id_line(c, x, w, jstr(r, "tipoDocumento"), jstr(r, "numDocumento"));
	else
		party_line(c, x, w, "NIT", dte_render_nit(jstr(r, "nit"), b, sizeof(b)));
	party_line(c, x, w, "NRC", dte_render_nrc(jstr(r, "nrc"), b, sizeof(b)));
	act = jstr(r, "codActividad");
	dact = jstr(r, "descActividad");
	if (act || dact)
		party_line(c, x, w, "Actividad económica",
			   arena_printf(c->a, "%s%s%s", act ? act : "", act && dact ? " — " : "", dact ? dact : ""));
	party_line(c, x, w, "Dirección", address_text(c, jget(r, "direccion")));
	party_line(c, x, w, "Teléfono", dte_render_phone(jstr(r, "telefono"), b, sizeof(b)));
	party_line(c, x, w, "Correo electrónico", jstr(r, "correo"));
}

static void parties(struct pdf_ctx *c)
{
	float gap = 8, w = (CONTENT_W - gap) / 2, top = c->y, inner = w - 12;
	float y_left, y_right, h;
	float xl = MARGIN_X, xr = MARGIN_X + w + gap;
	const char *rtitle = c->fse ? "SUJETO EXCLUIDO" : "RECEPTOR";
	bool was_dry = c->dry;

	/* measure, then draw */
	c->dry = true;
	c->y = top - 18;
	emisor_block(c, xl + 6, inner);
	y_left = c->y;
	c->y = top - 18;
	receptor_block(c, xr + 6, inner);
	y_right = c->y;
	c->dry = was_dry;
	h = top - (y_left < y_right ? y_left : y_right) + 4;

	c->y = top;
	ensure(c, h);
	top = c->y;
	rect(c, xl, top - 14, w, 14, &LIGHT, NULL, 0);
	rect(c, xr, top - 14, w, 14, &LIGHT, NULL, 0);
	draw_text(c, xl + 6, top - 10, c->bold, 8, ACCENT, cp(c, c->fse ? "EMISOR (ADQUIRENTE)" : "EMISOR"));
	draw_text(c, xr + 6, top - 10, c->bold, 8, ACCENT, cp(c, rtitle));
	c->y = top - 18;
	emisor_block(c, xl + 6, inner);
	c->y = top - 18;
	receptor_block(c, xr + 6, inner);
	rect(c, xl, top - h, w, h, NULL, &RULE, 0.6f);
	rect(c, xr, top - h, w, h, NULL, &RULE, 0.6f);
	c->y = top - h - 8;
}

/* ---- optional blocks: related documents, associated documents, third party ---- */

static void related_docs(struct pdf_ctx *c)
{
	const json_t *rel = jget(c->doc, "documentoRelacionado");
	static const struct col cols[] = {
	    {"Tipo de documento", 170, 0},
	    {"Tipo de generación", 90, 0},
	    {"Número de documento", 200, 0},
	    {"Fecha de emisión", 80, 0},
	};
	size_t i;
	const json_t *d;

	if (!json_is_array(rel) || json_array_size(rel) == 0)
		return;
	section_title(c, "DOCUMENTOS RELACIONADOS");
	{
		float x = MARGIN_X + 4;
		for (size_t k = 0; k < 4; k++) {
			draw_text(c, x, c->y - 7, c->bold, 7, INK, cp(c, cols[k].title));
			x += cols[k].w;
		}
		c->y -= 11;
	}
	json_array_foreach(rel, i, d)
	{
		long long gen = 0;
		const char *tipo = jstr(d, "tipoDocumento");
		const char *tn = dte_render_type_name(tipo);
		char date[16];
		const char *vals[4];
		float x = MARGIN_X + 4;

		jint(d, "tipoGeneracion", &gen);
		vals[0] = tn ? arena_printf(c->a, "%s — %s", tipo, tn) : (tipo ? tipo : "");
		vals[1] = dte_render_generacion(gen) ? dte_render_generacion(gen) : "";
		vals[2] = jstr(d, "numeroDocumento") ? jstr(d, "numeroDocumento") : "";
		vals[3] = dte_render_date(jstr(d, "fechaEmision"), date, sizeof(date));
		ensure(c, 10);
		for (size_t k = 0; k < 4; k++) {
			draw_cell(c, x, c->y - 7, cols[k].w - 4, 0, c->font, 7, INK, cp(c, vals[k]));
			x += cols[k].w;
		}
		c->y -= 10;
	}
	c->y -= 6;
}

static void other_docs(struct pdf_ctx *c)
{
	const json_t *od = jget(c->doc, "otrosDocumentos"), *vt = jget(c->doc, "ventaTercero");
	size_t i;
	const json_t *d;
	char b[64];

	if (json_is_array(od) && json_array_size(od) > 0) {
		section_title(c, "OTROS DOCUMENTOS ASOCIADOS");
		json_array_foreach(od, i, d)
		{
			long long code = 0;
			const json_t *med = jget(d, "medico");
			const char *kind;

			jint(d, "codDocAsociado", &code);
			kind = dte_render_doc_asociado(code);
			ensure(c, 12);
			if (json_is_object(med)) {
				long long ts = 0;
				const char *tsn = jint(med, "tipoServicio", &ts) ? dte_render_tipo_servicio(ts) : NULL;
				char *v = arena_printf(c->a, "%s", jstr(med, "nombre") ? jstr(med, "nombre") : "—");
				if (nonempty(jstr(med, "nit")))
					v = arena_printf(c->a, "%s — NIT %s", v,
							 dte_render_nit(jstr(med, "nit"), b, sizeof(b)));
				if (nonempty(jstr(med, "docIdentificacion")))
					v = arena_printf(c->a, "%s — Documento %s", v, jstr(med, "docIdentificacion"));
				if (tsn)
					v = arena_printf(c->a, "%s — Servicio: %s", v, tsn);
				kv(c, MARGIN_X + 4, CONTENT_W - 8, kind ? kind : "Médico", v, 7.5f);
			} else {
				const char *desc = jstr(d, "descDocumento"), *det = jstr(d, "detalleDocumento");
				kv(c, MARGIN_X + 4, CONTENT_W - 8, kind ? kind : "Documento",
				   arena_printf(c->a, "%s%s%s", desc ? desc : "", desc && det ? " — " : "",
						det ? det : ""),
				   7.5f);
			}
		}
		c->y -= 6;
	}
	if (json_is_object(vt)) {
		section_title(c, "VENTA A CUENTA DE TERCEROS");
		kv(c, MARGIN_X + 4, CONTENT_W - 8, "NIT", dte_render_nit(jstr(vt, "nit"), b, sizeof(b)), 7.5f);
		kv(c, MARGIN_X + 4, CONTENT_W - 8, "Nombre", jstr(vt, "nombre"), 7.5f);
		c->y -= 6;
	}
}

/* ---- items table ---- */

#define ROW_FONT      7.0f
#define ROW_LH	      8.6f
#define HEAD_H	      20.0f
#define ROW_MAX_LINES 70 /* a row never taller than a page */

static void table_header(struct pdf_ctx *c)
{
	float x = MARGIN_X;

	c->table_top = c->y;
	rect(c, MARGIN_X, c->y - HEAD_H, CONTENT_W, HEAD_H, &LIGHT, NULL, 0);
	for (size_t k = 0; k < c->ncols; k++) {
		struct lines L = wrap(c, c->bold, 6.5f, c->cols[k].w - 4, c->cols[k].w - 4, cp(c, c->cols[k].title));
		float y0 = L.n > 1 ? c->y - 8 : c->y - 12.5f;
		for (size_t i = 0; i < L.n && i < 2; i++)
			draw_cell(c, x + 2, y0 - (float)i * 7.5f, c->cols[k].w - 4, 2, c->bold, 6.5f, ACCENT, L.v[i]);
		x += c->cols[k].w;
	}
	c->y -= HEAD_H;
	line(c, MARGIN_X, c->y, PAGE_W - MARGIN_X, c->y, RULE, 0.6f);
}

/* Frame and column rules of the table part on the current page. */
static void table_close(struct pdf_ctx *c)
{
	float x = MARGIN_X;

	rect(c, MARGIN_X, c->y, CONTENT_W, c->table_top - c->y, NULL, &RULE, 0.6f);
	for (size_t k = 0; k + 1 < c->ncols; k++) {
		x += c->cols[k].w;
		line(c, x, c->table_top, x, c->y, RULE, 0.3f);
	}
}

static const char *amount(struct pdf_ctx *c, const json_t *v, int min_dec)
{
	char b[DTE_RENDER_AMOUNT_MAX];

	dte_render_amount(v, min_dec, true, b, sizeof(b));
	return arena_strdup(c->a, b);
}

static void item_row(struct pdf_ctx *c, const json_t *it, size_t idx)
{
	long long num = (long long)idx + 1, um = 0;
	const char *cells[9] = {0};
	const char *code = jstr(it, "codigo"), *desc = jstr(it, "descripcion");
	char *dtext;
	struct lines L;
	float h, x = MARGIN_X;
	size_t desc_col = 3, main_lines;
	const char *reldoc = jstr(it, "numeroDocumento"), *codtrib = jstr(it, "codTributo");

	jint(it, "numItem", &num);
	cells[0] = arena_printf(c->a, "%lld", num);
	cells[1] = amount(c, jget(it, "cantidad"), 0);
	if (jint(it, "uniMedida", &um))
		cells[2] = dte_render_unidad(um) ? dte_render_unidad(um) : arena_printf(c->a, "%lld", um);
	else
		cells[2] = "";
	dtext = arena_printf(c->a, "%s%s%s", nonempty(code) ? code : "", nonempty(code) ? " — " : "", desc ? desc : "");
	if (nonempty(codtrib))
		dtext = arena_printf(c->a, "%s [tributo %s]", dtext, codtrib);
	cells[4] = amount(c, jget(it, "precioUni"), 2);
	cells[5] = amount(c, jget(it, "montoDescu"), 2);
	if (c->fse) {
		cells[6] = amount(c, jget(it, "compra"), 2);
	} else {
		cells[6] = amount(c, jget(it, "ventaNoSuj"), 2);
		cells[7] = amount(c, jget(it, "ventaExenta"), 2);
		cells[8] = amount(c, jget(it, "ventaGravada"), 2);
	}
	L = wrap(c, c->font, ROW_FONT, c->cols[desc_col].w - 5, c->cols[desc_col].w - 5, cp(c, dtext));
	main_lines = L.n;
	if (nonempty(reldoc)) { /* notes: the document each line adjusts, in small print */
		struct lines R = wrap(c, c->font, 6.0f, c->cols[desc_col].w - 5, c->cols[desc_col].w - 5,
				      cp(c, arena_printf(c->a, "Documento relacionado: %s", reldoc)));
		char **nv = arena_alloc(c->a, (L.n + R.n) * sizeof(char *));
		if (L.n)
			memcpy(nv, L.v, L.n * sizeof(char *));
		memcpy(nv + L.n, R.v, R.n * sizeof(char *));
		L.v = nv;
		L.n += R.n;
	}
	if (L.n > ROW_MAX_LINES) { /* longer than a page: cut (the schema caps descripcion at 1000 characters) */
		size_t n = strlen(L.v[ROW_MAX_LINES - 1]);
		L.v[ROW_MAX_LINES - 1] =
		    arena_printf(c->a, "%.*s \x85", (int)(n > 2 ? n - 2 : n), L.v[ROW_MAX_LINES - 1]);
		L.n = ROW_MAX_LINES;
		if (main_lines > L.n)
			main_lines = L.n;
	}
	h = (float)(L.n ? L.n : 1) * ROW_LH + 4;
	if (!fits(c, h)) {
		table_close(c);
		new_page(c);
		table_header(c);
	}
	for (size_t k = 0; k < c->ncols; k++) {
		if (k == desc_col) {
			for (size_t i = 0; i < L.n; i++) {
				bool small = i >= main_lines;
				draw_text(c, x + 3, c->y - 8 - (float)i * ROW_LH, c->font, small ? 6.0f : ROW_FONT,
					  small ? MUTED : INK, L.v[i]);
			}
		} else {
			draw_cell(c, x + 2.5f, c->y - 8, c->cols[k].w - 5, c->cols[k].align, c->font, ROW_FONT, INK,
				  cp(c, cells[k]));
		}
		x += c->cols[k].w;
	}
	c->y -= h;
	line(c, MARGIN_X, c->y, PAGE_W - MARGIN_X, c->y, (struct rgb){0.82f, 0.84f, 0.88f}, 0.3f);
}

static void items_table(struct pdf_ctx *c)
{
	const json_t *items = jget(c->doc, "cuerpoDocumento");
	size_t i;
	const json_t *it;
	float x = MARGIN_X;

	c->cols = c->fse ? FSE_COLS : SALE_COLS;
	c->ncols = c->fse ? sizeof(FSE_COLS) / sizeof(FSE_COLS[0]) : sizeof(SALE_COLS) / sizeof(SALE_COLS[0]);
	ensure(c, HEAD_H + 3 * ROW_LH + 20);
	table_header(c);
	json_array_foreach(items, i, it) item_row(c, it, i);
	/* the sums row */
	if (!fits(c, 14)) {
		table_close(c);
		new_page(c);
		table_header(c);
	}
	for (size_t k = 0; k < c->ncols; k++) {
		const char *v = NULL;
		if (c->fse && k == 6)
			v = amount(c, jget(c->resumen, "totalCompra"), 2);
		else if (!c->fse && k == 6)
			v = amount(c, jget(c->resumen, "totalNoSuj"), 2);
		else if (!c->fse && k == 7)
			v = amount(c, jget(c->resumen, "totalExenta"), 2);
		else if (!c->fse && k == 8)
			v = amount(c, jget(c->resumen, "totalGravada"), 2);
		if (k == 5)
			draw_cell(c, x + 2.5f, c->y - 9, c->cols[k].w - 5, 1, c->bold, ROW_FONT, INK, "SUMAS");
		if (v)
			draw_cell(c, x + 2.5f, c->y - 9, c->cols[k].w - 5, 1, c->bold, ROW_FONT, INK, cp(c, v));
		x += c->cols[k].w;
	}
	c->y -= 13;
	table_close(c);
	c->y -= 8;
}

/* ---- totals and the rest ---- */

static void sum_value_line(struct pdf_ctx *c, float x, float w, const char *label, const char *value, bool total)
{
	float size = total ? 9.0f : 7.5f, lw = w - 78;
	struct lines L = wrap(c, total ? c->bold : c->font, size, lw, lw, cp(c, label));
	float lh = size * 1.35f, h = (float)(L.n ? L.n : 1) * lh + (total ? 6 : 1);

	if (total)
		rect(c, x, c->y - h, w, h, &LIGHT, &RULE, 0.6f);
	for (size_t i = 0; i < L.n; i++)
		draw_cell(c, x + 3, c->y - size - (total ? 3 : 0) - (float)i * lh, lw - 3, 1, total ? c->bold : c->font,
			  size, INK, L.v[i]);
	draw_cell(c, x + lw + 2, c->y - size - (total ? 3 : 0), w - lw - 5, 1, total ? c->bold : c->font, size, INK,
		  cp(c, value));
	c->y -= h;
}

static void totals_right(struct pdf_ctx *c, float x, float w)
{
	const struct sum_line *t;
	size_t n;

	if (c->fse) {
		t = SUM_FSE;
		n = sizeof(SUM_FSE) / sizeof(SUM_FSE[0]);
	} else if (c->note) {
		t = SUM_NOTE;
		n = sizeof(SUM_NOTE) / sizeof(SUM_NOTE[0]);
	} else {
		t = SUM_SALE;
		n = sizeof(SUM_SALE) / sizeof(SUM_SALE[0]);
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *v;
		if (t[i].flags & SL_TRIBUTOS) {
			const json_t *trib = jget(c->resumen, "tributos"), *tr;
			size_t k;
			json_array_foreach(trib, k, tr)
			{
				const char *code = jstr(tr, "codigo"), *desc = jstr(tr, "descripcion");
				sum_value_line(c, x, w,
					       nonempty(desc) ? desc
							      : arena_printf(c->a, "Tributo %s", code ? code : "?"),
					       arena_printf(c->a, "$ %s", amount(c, jget(tr, "valor"), 2)), false);
			}
			continue;
		}
		v = jget(c->resumen, t[i].key);
		if (!v || ((t[i].flags & SL_NONZERO) && dte_render_is_zero(v)))
			continue;
		if (t[i].flags & SL_PERCENT)
			sum_value_line(c, x, w, t[i].label, arena_printf(c->a, "%s %%", amount(c, v, 0)), false);
		else
			sum_value_line(c, x, w, t[i].label, arena_printf(c->a, "$ %s", amount(c, v, 2)),
				       (t[i].flags & SL_TOTAL) != 0);
	}
}

static void totals_left(struct pdf_ctx *c, float x, float w)
{
	const json_t *pagos = jget(c->resumen, "pagos"), *p, *ext = jget(c->doc, "extension");
	const json_t *ap = jget(c->doc, "apendice");
	long long cond = 0;
	size_t i;

	if (nonempty(jstr(c->resumen, "totalLetras")))
		kv(c, x, w, "Valor en letras", jstr(c->resumen, "totalLetras"), 7.5f);
	if (jint(c->resumen, "condicionOperacion", &cond)) {
		const char *cn = dte_render_condicion(cond);
		kv(c, x, w, "Condición de la operación", cn ? cn : arena_printf(c->a, "%lld", cond), 7.5f);
	}
	if (json_is_array(pagos) && json_array_size(pagos) > 0) {
		kv(c, x, w, "Formas de pago", "", 7.5f);
		json_array_foreach(pagos, i, p)
		{
			const char *code = jstr(p, "codigo"), *fp = dte_render_forma_pago(code);
			const char *ref = jstr(p, "referencia"), *plazo = jstr(p, "plazo");
			const json_t *per = jget(p, "periodo");
			char *s = arena_printf(c->a, "• %s: $ %s", fp ? fp : (code ? code : "?"),
					       amount(c, jget(p, "montoPago"), 2));
			if (nonempty(ref))
				s = arena_printf(c->a, "%s — Ref.: %s", s, ref);
			if (per && !json_is_null(per))
				s = arena_printf(c->a, "%s — Plazo: %s %s", s, amount(c, per, 0),
						 dte_render_plazo(plazo) ? dte_render_plazo(plazo)
									 : (plazo ? plazo : ""));
			para(c, x + 6, w - 6, c->font, 7.5f, INK, s);
		}
	}
	if (nonempty(jstr(c->resumen, "numPagoElectronico")))
		kv(c, x, w, "N.º de pago electrónico", jstr(c->resumen, "numPagoElectronico"), 7.5f);
	if (nonempty(jstr(c->resumen, "observaciones")))
		kv(c, x, w, "Observaciones", jstr(c->resumen, "observaciones"), 7.5f);
	if (json_is_object(ext)) {
		const char *ne = jstr(ext, "nombEntrega"), *de = jstr(ext, "docuEntrega");
		const char *nr = jstr(ext, "nombRecibe"), *dr = jstr(ext, "docuRecibe");
		if (nonempty(ne) || nonempty(de))
			kv(c, x, w, "Entregado por",
			   arena_printf(c->a, "%s%s%s%s", ne ? ne : "", nonempty(de) ? " (doc. " : "",
					nonempty(de) ? de : "", nonempty(de) ? ")" : ""),
			   7.5f);
		if (nonempty(nr) || nonempty(dr))
			kv(c, x, w, "Recibido por",
			   arena_printf(c->a, "%s%s%s%s", nr ? nr : "", nonempty(dr) ? " (doc. " : "",
					nonempty(dr) ? dr : "", nonempty(dr) ? ")" : ""),
			   7.5f);
		if (nonempty(jstr(ext, "observaciones")))
			kv(c, x, w, "Observaciones", jstr(ext, "observaciones"), 7.5f);
		if (nonempty(jstr(ext, "placaVehiculo")))
			kv(c, x, w, "Placa del vehículo", jstr(ext, "placaVehiculo"), 7.5f);
	}
	if (json_is_array(ap)) {
		json_array_foreach(ap, i, p)
		{
			const char *et = jstr(p, "etiqueta"), *ca = jstr(p, "campo");
			kv(c, x, w, nonempty(et) ? et : (ca ? ca : "Dato"), jstr(p, "valor"), 7.5f);
		}
	}
}

static void totals(struct pdf_ctx *c)
{
	float gap = 12, rw = 236, lw = CONTENT_W - rw - gap;
	float top = c->y, yl, yr, hl, hr;
	bool was_dry = c->dry;

	c->dry = true;
	totals_left(c, MARGIN_X, lw);
	hl = top - c->y;
	c->y = top;
	totals_right(c, MARGIN_X + lw + gap, rw);
	hr = top - c->y;
	c->dry = was_dry;
	c->y = top;
	if ((hl > hr ? hl : hr) <= PAGE_H - MARGIN_TOP - CONTENT_BOTTOM - 40) {
		/* side by side: amounts on the right, words, payment and notes on the left */
		ensure(c, hl > hr ? hl : hr);
		top = c->y;
		totals_left(c, MARGIN_X, lw);
		yl = c->y;
		c->y = top;
		totals_right(c, MARGIN_X + lw + gap, rw);
		yr = c->y;
		c->y = (yl < yr ? yl : yr) - 10;
		return;
	}
	/* notes too long for one page: the amounts first, then the notes flowing over pages */
	ensure(c, hr);
	totals_right(c, MARGIN_X + lw + gap, rw);
	c->y -= 8;
	c->flow = true;
	totals_left(c, MARGIN_X, CONTENT_W);
	c->y -= 10;
}

static void firma(struct pdf_ctx *c)
{
	const char *jws = jstr(c->doc, "firmaElectronica");
	char *s;
	size_t n;

	if (!jws) {
		s = arena_strdup(c->a, "Documento sin firma electrónica");
	} else {
		n = strlen(jws);
		if (n <= FIRMA_HEAD + FIRMA_TAIL + 3)
			s = arena_printf(c->a, "%s (JWS, %zu caracteres)", jws, n);
		else
			s = arena_printf(c->a, "%.*s … %s (JWS, %zu caracteres)", FIRMA_HEAD, jws, jws + n - FIRMA_TAIL,
					 n);
	}
	ensure(c, 24);
	line(c, MARGIN_X, c->y, PAGE_W - MARGIN_X, c->y, RULE, 0.4f);
	c->y -= 4;
	c->flow = true;
	kv(c, MARGIN_X, CONTENT_W, "Firma electrónica", s, 6.5f);
}

static void footers(struct pdf_ctx *c)
{
	const char *left = cp(c, arena_printf(c->a,
					      "Representación gráfica de documento tributario electrónico — "
					      "código de generación %s",
					      jstr(c->ident, "codigoGeneracion")));

	for (size_t i = 0; i < c->npages; i++) {
		char *pg = cp(c, arena_printf(c->a, "Página %zu de %zu", i + 1, c->npages));
		c->page = c->pages[i];
		line(c, MARGIN_X, 36, PAGE_W - MARGIN_X, 36, RULE, 0.4f);
		draw_cell(c, MARGIN_X, 26, CONTENT_W - 70, 0, c->font, 6.5f, MUTED, left);
		draw_cell(c, PAGE_W - MARGIN_X - 70, 26, 70, 1, c->bold, 7, INK, pg);
	}
}

/* ---- validation and entry points ---- */

static int need_str(const json_t *o, const char *k, const char *path, struct err *e)
{
	const char *s = jstr(o, k);

	if (!nonempty(s))
		return err_set(e, ERR_INVALID, path, "%s is required to render the document", path);
	return 0;
}

static int check_doc(const json_t *doc, const char *status, const struct status_def **st, struct err *e)
{
	const json_t *ident = jget(doc, "identificacion"), *items = jget(doc, "cuerpoDocumento");
	const json_t *sello = jget(doc, "selloRecibido"), *firma_v = jget(doc, "firmaElectronica");
	const char *tipo;
	int rc;

	*st = NULL;
	for (size_t i = 0; status && i < sizeof(STATUSES) / sizeof(STATUSES[0]); i++)
		if (strcmp(STATUSES[i].label, status) == 0)
			*st = &STATUSES[i];
	if (!*st)
		return err_set(e, ERR_INVALID, "status",
			       "status must be PROCESADO, PENDIENTE, CONTINGENCIA, RECHAZADO or INVALIDADO");
	if (!json_is_object(doc))
		return err_set(e, ERR_INVALID, "document", "the document must be a JSON object");
	if (!json_is_object(ident))
		return err_set(e, ERR_INVALID, "identificacion", "identificacion is required to render the document");
	tipo = jstr(ident, "tipoDte");
	if (!tipo)
		return err_set(e, ERR_INVALID, "identificacion.tipoDte", "identificacion.tipoDte is required");
	if (strcmp(tipo, "01") != 0 && strcmp(tipo, "03") != 0 && strcmp(tipo, "05") != 0 && strcmp(tipo, "06") != 0 &&
	    strcmp(tipo, "14") != 0)
		return err_set(e, ERR_INVALID, "identificacion.tipoDte",
			       "identificacion.tipoDte must be 01, 03, 05, 06 or 14");
	if ((rc = need_str(ident, "codigoGeneracion", "identificacion.codigoGeneracion", e)) ||
	    (rc = need_str(ident, "numeroControl", "identificacion.numeroControl", e)) ||
	    (rc = need_str(ident, "fecEmi", "identificacion.fecEmi", e)) ||
	    (rc = need_str(ident, "horEmi", "identificacion.horEmi", e)) ||
	    (rc = need_str(ident, "ambiente", "identificacion.ambiente", e)))
		return rc;
	if (!json_is_object(jget(doc, "emisor")))
		return err_set(e, ERR_INVALID, "emisor", "emisor is required to render the document");
	if (strcmp(tipo, "14") == 0 && !json_is_object(jget(doc, "sujetoExcluido")))
		return err_set(e, ERR_INVALID, "sujetoExcluido", "sujetoExcluido is required for tipoDte 14");
	if ((strcmp(tipo, "03") == 0 || strcmp(tipo, "05") == 0 || strcmp(tipo, "06") == 0) &&
	    !json_is_object(jget(doc, "receptor")))
		return err_set(e, ERR_INVALID, "receptor", "receptor is required for tipoDte %s", tipo);
	if (!json_is_array(items) || json_array_size(items) == 0 || json_array_size(items) > MAX_ITEMS)
		return err_set(e, ERR_INVALID, "cuerpoDocumento", "cuerpoDocumento must hold 1 to %d items", MAX_ITEMS);
	for (size_t i = 0; i < json_array_size(items); i++)
		if (!json_is_object(json_array_get(items, i)))
			return err_set(e, ERR_INVALID, "cuerpoDocumento", "cuerpoDocumento[%zu] must be an object", i);
	if (!json_is_object(jget(doc, "resumen")))
		return err_set(e, ERR_INVALID, "resumen", "resumen is required to render the document");
	if (sello && !json_is_null(sello) && !json_is_string(sello))
		return err_set(e, ERR_INVALID, "selloRecibido", "selloRecibido must be a string or null");
	if (firma_v && !json_is_null(firma_v) && !json_is_string(firma_v))
		return err_set(e, ERR_INVALID, "firmaElectronica", "firmaElectronica must be a string or null");
	if (strcmp((*st)->label, DTE_STATUS_PROCESADO) == 0 && !nonempty(jstr(doc, "selloRecibido")))
		return err_set(e, ERR_INVALID, "selloRecibido", "a PROCESADO document needs its selloRecibido");
	return 0;
}

const char *dte_pdf_type_name(const char *tipo_dte)
{
	return dte_render_type_name(tipo_dte);
}

static void url_append(char **s, size_t *len, size_t *cap, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*len + 4 >= *cap) {
			*cap *= 2;
			*s = xrealloc(*s, *cap);
		}
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '.' || *p == '_' || *p == '~') {
			(*s)[(*len)++] = (char)*p;
		} else {
			(*s)[(*len)++] = '%';
			(*s)[(*len)++] = hex[*p >> 4];
			(*s)[(*len)++] = hex[*p & 15];
		}
	}
	(*s)[*len] = '\0';
}

int dte_pdf_consulta_url(const json_t *dte, const char *base, char **url, struct err *e)
{
	const json_t *ident = jget(dte, "identificacion");
	const char *amb = jstr(ident, "ambiente"), *cod = jstr(ident, "codigoGeneracion");
	const char *fec = jstr(ident, "fecEmi");
	char *s;
	size_t len, cap;

	*url = NULL;
	if (!nonempty(amb))
		return err_set(e, ERR_INVALID, "identificacion.ambiente", "identificacion.ambiente is required");
	if (!nonempty(cod))
		return err_set(e, ERR_INVALID, "identificacion.codigoGeneracion",
			       "identificacion.codigoGeneracion is required");
	if (!nonempty(fec))
		return err_set(e, ERR_INVALID, "identificacion.fecEmi", "identificacion.fecEmi is required");
	if (!base)
		base = DTE_PDF_CONSULTA_BASE;
	cap = strlen(base) + 64 + 3 * (strlen(amb) + strlen(cod) + strlen(fec));
	s = xmalloc(cap);
	len = (size_t)snprintf(s, cap, "%s?ambiente=", base);
	url_append(&s, &len, &cap, amb);
	len += (size_t)snprintf(s + len, cap - len, "&codGen=");
	url_append(&s, &len, &cap, cod);
	len += (size_t)snprintf(s + len, cap - len, "&fechaEmi=");
	url_append(&s, &len, &cap, fec);
	*url = s;
	return 0;
}

int dte_pdf_render(const json_t *delivered, const char *status, unsigned char **pdf, size_t *pdf_len, struct err *e)
{
	struct dte_pdf_options o = {.status = status, .status_detail = NULL, .consulta_base = NULL};

	return dte_pdf_render_opts(delivered, &o, pdf, pdf_len, e);
}

int dte_pdf_render_opts(const json_t *delivered, const struct dte_pdf_options *opts, unsigned char **pdf,
			size_t *pdf_len, struct err *e)
{
	struct pdf_ctx c;
	char *url = NULL;
	unsigned char *buf = NULL;
	HPDF_UINT32 size = 0;
	int rc;

	*pdf = NULL;
	*pdf_len = 0;
	memset(&c, 0, sizeof(c));
	if (!opts)
		return err_set(e, ERR_INTERNAL, NULL, "dte_pdf_render_opts needs options");
	rc = check_doc(delivered, opts->status, &c.st, e);
	if (rc)
		return rc;
	rc = dte_pdf_consulta_url(delivered, opts->consulta_base, &url, e);
	if (rc)
		return rc;
	c.a = arena_new(0);
	c.doc = delivered;
	c.ident = jget(delivered, "identificacion");
	c.resumen = jget(delivered, "resumen");
	c.tipo = jstr(c.ident, "tipoDte");
	c.fse = strcmp(c.tipo, "14") == 0;
	c.note = strcmp(c.tipo, "05") == 0 || strcmp(c.tipo, "06") == 0;
	c.status_detail = opts->status_detail;
	c.qr_url = url;
	c.pdf = HPDF_New(hpdf_error_cb, &c.hs);
	if (!c.pdf) {
		rc = err_set(e, ERR_INTERNAL, NULL, "could not create the PDF");
		goto out;
	}
	HPDF_SetCompressionMode(c.pdf, HPDF_COMP_ALL);
	c.font = HPDF_GetFont(c.pdf, "Helvetica", "WinAnsiEncoding");
	c.bold = HPDF_GetFont(c.pdf, "Helvetica-Bold", "WinAnsiEncoding");
	HPDF_SetInfoAttr(c.pdf, HPDF_INFO_CREATOR, "clinicledger");
	HPDF_SetInfoAttr(c.pdf, HPDF_INFO_TITLE,
			 arena_printf(c.a, "DTE %s %s", c.tipo, jstr(c.ident, "codigoGeneracion")));
	if (c.st->banner) {
		c.wm_gs = HPDF_CreateExtGState(c.pdf);
		HPDF_ExtGState_SetAlphaFill(c.wm_gs, 0.13f);
	}
	if (c.hs.error_no) {
		rc = err_set(e, ERR_INTERNAL, NULL, "could not set up the PDF");
		goto hpdf_fail;
	}

	new_page(&c);
	header(&c, e, &rc);
	if (rc)
		goto out;
	parties(&c);
	c.flow = true; /* from here on, full-width paragraphs may continue on the next page */
	related_docs(&c);
	other_docs(&c);
	items_table(&c);
	totals(&c);
	firma(&c);
	footers(&c);

	if (c.hs.error_no || HPDF_SaveToStream(c.pdf) != HPDF_OK) {
		rc = err_set(e, ERR_INTERNAL, NULL, "could not render the PDF");
		goto hpdf_fail;
	}
	size = HPDF_GetStreamSize(c.pdf);
	buf = xmalloc(size ? size : 1);
	{
		HPDF_UINT32 got = 0;
		while (got < size) {
			HPDF_UINT32 n = size - got;
			HPDF_STATUS st = HPDF_ReadFromStream(c.pdf, buf + got, &n);
			got += n;
			if (st != HPDF_OK && st != HPDF_STREAM_EOF)
				break;
			if (n == 0 || st == HPDF_STREAM_EOF)
				break;
		}
		if (got != size) {
			free(buf);
			buf = NULL;
			rc = err_set(e, ERR_INTERNAL, NULL, "could not read the rendered PDF");
			goto hpdf_fail;
		}
	}
	*pdf = buf;
	*pdf_len = size;
	rc = 0;
	goto out;

hpdf_fail:
	err_detail(e, "libharu error 0x%04X detail %u", (unsigned)c.hs.error_no, (unsigned)c.hs.detail_no);
out:
	if (c.pdf)
		HPDF_Free(c.pdf);
	free(c.pages);
	free(url);
	if (c.a)
		arena_free(c.a);
	return rc;
}
