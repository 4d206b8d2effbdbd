/*
 * test_dte_pdf.c - the PDF representación gráfica of delivered DTEs
 * (src/mod/dte/dte_pdf.c) and its display helpers (dte_render_text.c).
 *
 * Renders the sample delivered documents of tests/fixtures/dte-samples (FE
 * 01, CCF 03, NC 05, ND 06, FSE 14) and checks the result the way a person
 * or an auditor would: the text poppler's pdftotext extracts (key strings,
 * Spanish accents, labels, amounts exactly as in the JSON, status banners,
 * an abbreviated firmaElectronica), the page count and "Página x de y" of a
 * 120-item document (pdfinfo), and the QR code decoded from a PNG of page 1
 * (pdftoppm + zbarimg), which must be MH's public consultation URL. Also the
 * input checks (ERR_INVALID naming the field) and the helper formats.
 * Needs poppler-utils and zbar-tools (tools/install-deps.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"
#include "mod/dte/dte_doc.h"
#include "mod/dte/dte_pdf.h"
#include "mod/dte/dte_render.h"

static char g_dir[64];

/* ---- helpers ---- */

/* Run argv (no shell), stdout captured (owned, NUL-terminated), stderr
 * discarded. Returns the exit status, or -1 when it could not run. */
static int run_capture(char *const argv[], char **out)
{
	int fd[2], status;
	pid_t pid;
	size_t n = 0, cap = 65536;
	char *buf = xmalloc(cap);

	*out = NULL;
	if (pipe(fd) != 0) {
		free(buf);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		free(buf);
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(fd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(fd[0]);
		close(fd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		ssize_t r;
		if (n + 4096 > cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd[0], buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd[0]);
	buf[n] = '\0';
	*out = buf;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *fixture_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n;

	if (access("tests/fixtures/dte-samples/fe-01.json", R_OK) == 0)
		return "tests/fixtures/dte-samples";
	/* from <build dir>/tests/unit/<exe> back to the source tree */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 4; up++) {
			char *slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = '\0';
		}
		snprintf(dir, sizeof(dir), "%s/tests/fixtures/dte-samples", exe);
		return dir;
	}
	return "tests/fixtures/dte-samples";
}

/* The sample's text (owned). */
static char *sample_text(const char *name)
{
	char path[PATH_MAX];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir(), name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("cannot read %s", path);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static json_t *load_sample(const char *name)
{
	char path[PATH_MAX];
	json_error_t je;
	json_t *d;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir(), name);
	d = json_load_file(path, 0, &je);
	if (!d)
		fail_msg("cannot load %s: %s (line %d)", path, je.text, je.line);
	return d;
}

static unsigned char *render_ok(const json_t *doc, const char *status, const char *detail, size_t *len)
{
	struct err e;
	unsigned char *pdf = NULL;
	struct dte_pdf_options o = {.status = status, .status_detail = detail, .consulta_base = NULL};

	err_clear(&e);
	if (dte_pdf_render_opts(doc, &o, &pdf, len, &e) != 0)
		fail_msg("render failed: %s (%s) %s", e.message, e.field, e.detail);
	assert_non_null(pdf);
	assert_true(*len > 1000);
	assert_memory_equal(pdf, "%PDF-", 5);
	{
		/* the file ends with %%EOF (libharu adds a newline) */
		const char *tail = (const char *)pdf + *len - 7;
		assert_non_null(memmem(tail, 7, "%%EOF", 5));
	}
	return pdf;
}

/* Write the PDF to <g_dir>/<stem>.pdf; returns the path (static buffer). */
static const char *write_pdf(const unsigned char *pdf, size_t len, const char *stem)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pdf", g_dir, stem);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(pdf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* pdftotext (reading order, not -layout, so wrapped lines stay readable) */
static char *pdf_text(const char *path, const char *first_page, const char *last_page)
{
	char *out;
	char *argv[] = {"pdftotext",	   "-enc",	 "UTF-8", "-f", (char *)first_page, "-l",
			(char *)last_page, (char *)path, "-",	  NULL};
	int rc = run_capture(argv, &out);

	if (rc != 0)
		fail_msg("pdftotext failed (%d) on %s: is poppler-utils installed?", rc, path);
	return out;
}

static char *pdf_text_all(const char *path)
{
	return pdf_text(path, "1", "100000");
}

static int pdf_pages(const char *path)
{
	char *out, *p;
	char *argv[] = {"pdfinfo", (char *)path, NULL};
	int pages = -1;

	if (run_capture(argv, &out) != 0)
		fail_msg("pdfinfo failed on %s", path);
	p = strstr(out, "Pages:");
	if (p)
		pages = atoi(p + 6);
	free(out);
	return pages;
}

/* Page 1 to PNG at 150 dpi, decoded with zbarimg; returns the QR text (owned). */
static char *qr_of_page1(const char *pdf_path, const char *stem)
{
	char prefix[128], png[160], *out;
	char *conv[] = {"pdftoppm",	  "-r",	  "150", "-f", "1", "-l", "1", "-singlefile", "-png",
			(char *)pdf_path, prefix, NULL};
	char *scan[] = {"zbarimg", "-q", "--raw", png, NULL};
	size_t n;

	snprintf(prefix, sizeof(prefix), "%s/%s-p1", g_dir, stem);
	snprintf(png, sizeof(png), "%s.png", prefix);
	if (run_capture(conv, &out) != 0)
		fail_msg("pdftoppm failed on %s", pdf_path);
	free(out);
	if (run_capture(scan, &out) != 0)
		fail_msg("zbarimg found no QR code in %s (is zbar-tools installed?)", png);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return out;
}

static void expect_text(const char *text, const char *needle, const char *what)
{
	if (!strstr(text, needle))
		fail_msg("%s: \"%s\" not found in the PDF text", what, needle);
}

static void expect_no_text(const char *text, const char *needle, const char *what)
{
	if (strstr(text, needle))
		fail_msg("%s: \"%s\" unexpectedly found in the PDF text", what, needle);
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/cl-dte-pdf-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char *out;
	char *argv[] = {"rm", "-rf", g_dir, NULL};

	(void)state;
	if (run_capture(argv, &out) == 0)
		free(out);
	else
		free(out);
	return 0;
}

/* ---- the samples ---- */

struct sample {
	const char *file, *stem, *type_name;
	const char *expect[12]; /* further strings the text must contain */
};

static const struct sample SAMPLES[] = {
    {"fe-01.json",
     "fe",
     "FACTURA",
     {"CLÍNICA MÉDICA SAN RAFAEL, S.A. DE C.V.", "NIT: 0614-150395-102-3", "NRC: 258741-6", "Clínicas médicas",
      "María José Hernández Peñate", "DUI: 04583921-6", "Hemograma completo con diferencial", "Acetaminofén 500 mg",
      "NOVENTA Y NUEVE 55/100 DÓLARES", "$ 99.55", "Dra. Ana Lucía Martínez Peña", "Tarjeta débito"}},
    {"ccf-03.json",
     "ccf",
     "COMPROBANTE DE CRÉDITO FISCAL",
     {"DISTRIBUIDORA FARMACÉUTICA CUSCATLÁN, S.A. DE C.V.", "NIT: 0614-220810-103-0", "NRC: 184527-3",
      "Impuesto al Valor Agregado 13%", "$ 66.56", "$ 573.44", "A crédito", "Plazo: 30 días",
      "Lic. Carlos Eduardo Ramírez", "Transferencia - depósito bancario", "IVA retenido", "$ 5.12"}},
    {"nc-05.json",
     "nc",
     "NOTA DE CRÉDITO",
     {"DOCUMENTOS RELACIONADOS", "03 — COMPROBANTE DE CRÉDITO FISCAL", "Electrónico",
      "B4E1F0A2-9C37-4D5B-8E6F-2A1C3B4D5E60", "12/11/2025", "Devolución: vacuna contra influenza",
      "MONTO TOTAL DE LA OPERACIÓN", "$ 40.68", "Documento relacionado", NULL}},
    {"nd-06.json",
     "nd",
     "NOTA DE DÉBITO",
     {"DOCUMENTOS RELACIONADOS", "electrocardiograma", "MONTO TOTAL DE LA OPERACIÓN", "$ 50.85", NULL}},
    {"fse-14.json",
     "fse",
     "FACTURA DE SUJETO EXCLUIDO",
     {"SUJETO EXCLUIDO", "José Ángel Guzmán Ayala", "DUI: 02382723-5", "Compra", "Retención de renta", "$ 12.00",
      "$ 108.00", "Servicio de lavandería", NULL}},
};

static void test_samples_text(void **state)
{
	(void)state;
	for (size_t s = 0; s < sizeof(SAMPLES) / sizeof(SAMPLES[0]); s++) {
		const struct sample *sm = &SAMPLES[s];
		json_t *doc = load_sample(sm->file);
		const json_t *ident = json_object_get(doc, "identificacion");
		size_t len;
		unsigned char *pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
		const char *path = write_pdf(pdf, len, sm->stem);
		char *text = pdf_text_all(path);
		char buf[256];

		expect_text(text, "DOCUMENTO TRIBUTARIO ELECTRÓNICO", sm->file);
		expect_text(text, sm->type_name, sm->file);
		snprintf(buf, sizeof(buf), "Código de generación: %s",
			 json_string_value(json_object_get(ident, "codigoGeneracion")));
		expect_text(text, buf, sm->file);
		snprintf(buf, sizeof(buf), "Número de control: %s",
			 json_string_value(json_object_get(ident, "numeroControl")));
		expect_text(text, buf, sm->file);
		snprintf(buf, sizeof(buf), "Sello de recepción: %s",
			 json_string_value(json_object_get(doc, "selloRecibido")));
		expect_text(text, buf, sm->file);
		expect_text(text, "Modelo de facturación: Previo", sm->file);
		expect_text(text, "Tipo de transmisión: Normal", sm->file);
		{
			const char *fec = json_string_value(json_object_get(ident, "fecEmi"));
			snprintf(buf, sizeof(buf), "Fecha y hora de generación: %.2s/%.2s/%.4s %s", fec + 8, fec + 5,
				 fec, json_string_value(json_object_get(ident, "horEmi")));
			expect_text(text, buf, sm->file);
		}
		expect_text(text, "Estado: PROCESADO", sm->file);
		expect_text(text, "AMBIENTE DE PRUEBAS", sm->file); /* the samples are ambiente 00 */
		expect_text(text, "EMISOR", sm->file);
		expect_text(text, "Correo electrónico: facturacion@clinicasanrafael.com.sv", sm->file);
		expect_text(text, "Teléfono: 2263-7845", sm->file);
		expect_text(text, "Página 1 de 1", sm->file);
		expect_text(text, "Firma electrónica:", sm->file);
		expect_no_text(text, "SIN SELLO DE RECEPCIÓN", sm->file);
		for (size_t k = 0; k < 12 && sm->expect[k]; k++)
			expect_text(text, sm->expect[k], sm->file);
		/* the total in words of the resumen */
		expect_text(text, json_string_value(json_object_get(json_object_get(doc, "resumen"), "totalLetras")),
			    sm->file);
		free(text);
		free(pdf);
		json_decref(doc);
	}
}

static void test_samples_qr(void **state)
{
	(void)state;
	for (size_t s = 0; s < sizeof(SAMPLES) / sizeof(SAMPLES[0]); s++) {
		json_t *doc = load_sample(SAMPLES[s].file);
		size_t len;
		unsigned char *pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
		const char *path = write_pdf(pdf, len, SAMPLES[s].stem);
		char *qr = qr_of_page1(path, SAMPLES[s].stem);
		char *url = NULL;
		struct err e;

		err_clear(&e);
		assert_int_equal(dte_pdf_consulta_url(doc, NULL, &url, &e), 0);
		assert_string_equal(qr, url);
		free(url);
		free(qr);
		free(pdf);
		json_decref(doc);
	}
	{
		/* the exact URL of MH's format for the Factura sample */
		json_t *doc = load_sample("fe-01.json");
		size_t len;
		unsigned char *pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
		char *qr = qr_of_page1(write_pdf(pdf, len, "fe-url"), "fe-url");
		assert_string_equal(qr, "https://admin.factura.gob.sv/consultaPublica?ambiente=00"
					"&codGen=7C3E9A1B-5D2F-4E8A-9B6C-1A2B3C4D5E6F&fechaEmi=2025-11-14");
		free(qr);
		free(pdf);
		json_decref(doc);
	}
}

static void test_consulta_url(void **state)
{
	json_t *doc = json_pack("{s:{s:s, s:s, s:s}}", "identificacion", "ambiente", "01", "codigoGeneracion",
				"00000000-0000-0000-0000-000000000000", "fecEmi", "2022-05-01");
	char *url = NULL;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(dte_pdf_consulta_url(doc, NULL, &url, &e), 0);
	assert_string_equal(url, "https://admin.factura.gob.sv/consultaPublica?ambiente=01"
				 "&codGen=00000000-0000-0000-0000-000000000000&fechaEmi=2022-05-01");
	free(url);
	assert_int_equal(dte_pdf_consulta_url(doc, "http://127.0.0.1:9/consultaPublica", &url, &e), 0);
	assert_string_equal(url, "http://127.0.0.1:9/consultaPublica?ambiente=01"
				 "&codGen=00000000-0000-0000-0000-000000000000&fechaEmi=2022-05-01");
	free(url);
	/* odd characters are percent-encoded, never injected into the query */
	json_object_set_new(json_object_get(doc, "identificacion"), "codigoGeneracion", json_string("a b&c=d/é"));
	assert_int_equal(dte_pdf_consulta_url(doc, NULL, &url, &e), 0);
	assert_non_null(strstr(url, "&codGen=a%20b%26c%3Dd%2F%C3%A9&fechaEmi="));
	free(url);
	json_object_del(json_object_get(doc, "identificacion"), "fecEmi");
	assert_int_equal(dte_pdf_consulta_url(doc, NULL, &url, &e), ERR_INVALID);
	assert_string_equal(e.field, "identificacion.fecEmi");
	assert_null(url);
	json_decref(doc);
}

/* ---- statuses ---- */

static void test_status_banners(void **state)
{
	static const struct {
		const char *status, *banner, *detail;
		bool sello;
	} cases[] = {
	    {DTE_STATUS_PENDIENTE, "DOCUMENTO PENDIENTE DE RECEPCIÓN POR EL MINISTERIO DE HACIENDA", NULL, false},
	    {DTE_STATUS_CONTINGENCIA, "DOCUMENTO EMITIDO EN CONTINGENCIA", NULL, false},
	    {DTE_STATUS_RECHAZADO, "DOCUMENTO RECHAZADO POR EL MINISTERIO DE HACIENDA",
	     "[receptor.nrc] NO ES CONTRIBUYENTE IVA", false},
	    {DTE_STATUS_INVALIDADO, "DOCUMENTO INVALIDADO ANTE EL MINISTERIO DE HACIENDA", NULL, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = load_sample("ccf-03.json");
		size_t len;
		unsigned char *pdf;
		char *text, *qr;
		const char *path;
		char stem[32];

		if (!cases[i].sello)
			json_object_set_new(doc, "selloRecibido", json_null());
		pdf = render_ok(doc, cases[i].status, cases[i].detail, &len);
		snprintf(stem, sizeof(stem), "status-%zu", i);
		path = write_pdf(pdf, len, stem);
		text = pdf_text_all(path);
		expect_text(text, cases[i].banner, cases[i].status);
		expect_text(text, cases[i].status, cases[i].status); /* Estado line and watermark */
		if (cases[i].detail)
			expect_text(text, cases[i].detail, cases[i].status);
		if (!cases[i].sello)
			expect_text(text, "Sello de recepción: Pendiente (sin sello de recepción)", cases[i].status);
		else
			expect_text(text, "Sello de recepción: 20250B9E4D7C2A1F3E5D7B9A1C3E5F7D9B2A4C6E",
				    cases[i].status);
		/* the watermark does not hide the QR code */
		qr = qr_of_page1(path, stem);
		assert_non_null(strstr(qr, "codGen=B4E1F0A2-9C37-4D5B-8E6F-2A1C3B4D5E60"));
		free(qr);
		free(text);
		free(pdf);
		json_decref(doc);
	}
}

static void test_contingency_and_production(void **state)
{
	json_t *doc = load_sample("fe-01.json");
	json_t *ident = json_object_get(doc, "identificacion");
	size_t len;
	unsigned char *pdf;
	char *text;

	(void)state;
	json_object_set_new(ident, "tipoModelo", json_integer(2));
	json_object_set_new(ident, "tipoOperacion", json_integer(2));
	json_object_set_new(ident, "tipoContingencia", json_integer(3));
	json_object_set_new(ident, "motivoContin", json_null());
	json_object_set_new(ident, "ambiente", json_string("01"));
	json_object_set_new(doc, "selloRecibido", json_null());
	pdf = render_ok(doc, DTE_STATUS_CONTINGENCIA, NULL, &len);
	text = pdf_text_all(write_pdf(pdf, len, "contingency"));
	expect_text(text, "Modelo de facturación: Diferido", "contingency");
	expect_text(text, "Tipo de transmisión: Contingencia", "contingency");
	expect_text(text, "Tipo de contingencia: 3 — Falla en el suministro de servicio de Internet del emisor",
		    "contingency");
	expect_no_text(text, "AMBIENTE DE PRUEBAS", "production document");
	free(text);
	free(pdf);

	/* a production document that MH sealed: no banner at all */
	json_object_set_new(ident, "tipoModelo", json_integer(1));
	json_object_set_new(ident, "tipoOperacion", json_integer(1));
	json_object_set_new(ident, "tipoContingencia", json_null());
	json_object_set_new(doc, "selloRecibido", json_string("20227A1DE27CA974440985C1791AE37F7821LT8M"));
	pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
	text = pdf_text_all(write_pdf(pdf, len, "production"));
	expect_no_text(text, "SIN VALIDEZ TRIBUTARIA", "processed production document");
	expect_no_text(text, "Tipo de contingencia", "processed production document");
	expect_text(text, "Sello de recepción: 20227A1DE27CA974440985C1791AE37F7821LT8M", "production");
	free(text);
	free(pdf);
	json_decref(doc);
}

/* ---- receptor variants ---- */

static void test_receptor_labels(void **state)
{
	static const struct {
		const char *tipo, *num, *expect;
	} cases[] = {
	    {"36", "06142208101030", "NIT: 0614-220810-103-0"}, {"13", "04583921-6", "DUI: 04583921-6"},
	    {"03", "A1234567", "Pasaporte: A1234567"},		{"02", "RS-88123", "Carnet de residente: RS-88123"},
	    {"37", "LIC-2231", "Otro documento: LIC-2231"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *doc = load_sample("fe-01.json");
		json_t *rec = json_object_get(doc, "receptor");
		size_t len;
		unsigned char *pdf;
		char *text, stem[32];

		json_object_set_new(rec, "tipoDocumento", json_string(cases[i].tipo));
		json_object_set_new(rec, "numDocumento", json_string(cases[i].num));
		pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
		snprintf(stem, sizeof(stem), "rec-%zu", i);
		text = pdf_text_all(write_pdf(pdf, len, stem));
		expect_text(text, cases[i].expect, cases[i].tipo);
		free(text);
		free(pdf);
		json_decref(doc);
	}
	{
		/* anonymous consumer (receptor null) */
		json_t *doc = load_sample("fe-01.json");
		size_t len;
		unsigned char *pdf;
		char *text;

		json_object_set_new(doc, "receptor", json_null());
		pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
		text = pdf_text_all(write_pdf(pdf, len, "anon"));
		expect_text(text, "Consumidor final", "anonymous receptor");
		expect_no_text(text, "María José", "anonymous receptor");
		free(text);
		free(pdf);
		json_decref(doc);
	}
}

/* ---- long documents ---- */

static json_t *long_document(size_t nitems)
{
	json_t *doc = load_sample("fe-01.json");
	json_t *orig = json_deep_copy(json_object_get(doc, "cuerpoDocumento"));
	json_t *items = json_array();

	for (size_t i = 0; i < nitems; i++) {
		json_t *it = json_deep_copy(json_array_get(orig, i % json_array_size(orig)));
		char desc[400];

		if (i % 9 == 4)
			snprintf(desc, sizeof(desc),
				 "Línea %zu: procedimiento con descripción larga que ocupa varias líneas de la celda "
				 "para comprobar el ajuste de texto, con acentos (á é í ó ú ñ ü) y símbolos €",
				 i + 1);
		else
			snprintf(desc, sizeof(desc), "Línea %zu: servicio clínico", i + 1);
		json_object_set_new(it, "numItem", json_integer((json_int_t)i + 1));
		json_object_set_new(it, "descripcion", json_string(desc));
		json_array_append_new(items, it);
	}
	json_object_set_new(doc, "cuerpoDocumento", items);
	json_decref(orig);
	return doc;
}

static void test_long_document_pages(void **state)
{
	json_t *doc = long_document(120);
	size_t len;
	unsigned char *pdf;
	const char *path;
	char *text, *qr, buf[64];
	int pages;

	(void)state;
	pdf = render_ok(doc, DTE_STATUS_PENDIENTE, NULL, &len);
	path = write_pdf(pdf, len, "long");
	pages = pdf_pages(path);
	assert_true(pages >= 3);
	text = pdf_text_all(path);
	for (int p = 1; p <= pages; p++) {
		snprintf(buf, sizeof(buf), "Página %d de %d", p, pages);
		expect_text(text, buf, "page footer");
	}
	snprintf(buf, sizeof(buf), "Página %d de %d", pages + 1, pages);
	expect_no_text(text, buf, "page footer");
	/* every item is printed exactly once */
	for (int i = 1; i <= 120; i++) {
		char needle[48];
		snprintf(needle, sizeof(needle), "Línea %d:", i);
		if (count_of(text, needle) != 1)
			fail_msg("item %d printed %zu times", i, count_of(text, needle));
	}
	/* the table header and a continuation header on every page after the first */
	assert_true(count_of(text, "Descripción") >= (size_t)pages - 1);
	assert_int_equal(count_of(text, "FACTURA (continuación)"), (size_t)pages - 1);
	assert_int_equal(count_of(text, "TOTAL A PAGAR"), 1);
	expect_text(text, "símbolos €", "long document");
	free(text);
	/* the last page carries the totals */
	snprintf(buf, sizeof(buf), "%d", pages);
	text = pdf_text(path, buf, buf);
	expect_text(text, "TOTAL A PAGAR", "last page");
	expect_text(text, "Valor en letras", "last page");
	free(text);
	qr = qr_of_page1(path, "long");
	assert_non_null(strstr(qr, "codGen=7C3E9A1B-5D2F-4E8A-9B6C-1A2B3C4D5E6F"));
	free(qr);
	free(pdf);
	json_decref(doc);

	/* the schema maximum of 2000 lines renders too */
	doc = long_document(2000);
	pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
	pages = pdf_pages(write_pdf(pdf, len, "max"));
	assert_true(pages > 30);
	free(pdf);
	json_decref(doc);
}

/* Content past what fits on a page: a 20,000-character description without a
 * space (cut, "…"), and notes taller than a page (they flow onto the next
 * pages after the amounts). Everything stays within the pages. */
static void test_overlong_content(void **state)
{
	json_t *doc = load_sample("ccf-03.json");
	json_t *it = json_array_get(json_object_get(doc, "cuerpoDocumento"), 1);
	json_t *ext = json_object_get(doc, "extension"), *ap = json_array();
	char *big = xmalloc(20001), *obs = xmalloc(3200);
	size_t len, o = 0;
	unsigned char *pdf;
	const char *path;
	char *text, buf[48];
	int pages;

	(void)state;
	memset(big, 'X', 20000);
	big[20000] = '\0';
	json_object_set_new(it, "descripcion", json_string(big));
	for (int w = 0; o + 16 < 3000; w++)
		o += (size_t)snprintf(obs + o, 3200 - o, "observación%03d ", w);
	snprintf(obs + o, 3200 - o, "FIN-OBS");
	json_object_set_new(ext, "observaciones", json_string(obs));
	for (int i = 0; i < 10; i++) {
		char v[160];
		memset(v, 'v', 149);
		snprintf(v + 140, 20, "-APX%02d", i);
		json_array_append_new(
		    ap, json_pack("{s:s, s:s, s:s}", "campo", "c", "etiqueta", "Dato adicional", "valor", v));
	}
	json_object_set_new(doc, "apendice", ap);
	pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
	path = write_pdf(pdf, len, "overlong");
	pages = pdf_pages(path);
	assert_true(pages >= 2 && pages <= 6);
	text = pdf_text_all(path);
	for (int p = 1; p <= pages; p++) {
		snprintf(buf, sizeof(buf), "Página %d de %d", p, pages);
		expect_text(text, buf, "page footer");
	}
	expect_text(text, "XXXX …", "cut description");
	expect_text(text, "FIN-OBS", "end of the long notes");
	expect_text(text, "-APX09", "last apéndice entry");
	expect_text(text, "TOTAL A PAGAR", "totals");
	expect_text(text, "Firma electrónica", "firma");
	free(text);
	free(pdf);
	free(big);
	free(obs);
	json_decref(doc);
}

/* ---- firma, accents, exact amounts ---- */

static void test_firma_abbreviated(void **state)
{
	json_t *doc = load_sample("ccf-03.json");
	const char *jws = json_string_value(json_object_get(doc, "firmaElectronica"));
	size_t n = strlen(jws), len;
	unsigned char *pdf;
	char *text, head[40], tail[24], mid[40];

	(void)state;
	assert_true(n > 1000);
	pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
	text = pdf_text_all(write_pdf(pdf, len, "firma"));
	snprintf(head, sizeof(head), "%.32s", jws);
	snprintf(tail, sizeof(tail), "%s", jws + n - 16);
	snprintf(mid, sizeof(mid), "%.24s", jws + n / 2);
	expect_text(text, head, "firma head");
	expect_text(text, tail, "firma tail");
	expect_no_text(text, mid, "firma middle");
	snprintf(mid, sizeof(mid), "%zu caracteres", n);
	expect_text(text, mid, "firma length");
	assert_null(memmem(pdf, len, jws + 100, 64)); /* not hidden in the file either */
	free(text);
	free(pdf);

	json_object_set_new(doc, "firmaElectronica", json_null());
	pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
	text = pdf_text_all(write_pdf(pdf, len, "nofirma"));
	expect_text(text, "Documento sin firma electrónica", "unsigned");
	free(text);
	free(pdf);
	json_decref(doc);
}

static void test_accents_and_exact_amounts(void **state)
{
	json_t *doc = load_sample("fe-01.json");
	json_t *it = json_array_get(json_object_get(doc, "cuerpoDocumento"), 0);
	json_t *em = json_object_get(doc, "emisor");
	size_t len;
	unsigned char *pdf;
	char *text;

	(void)state;
	json_object_set_new(em, "nombreComercial", json_string("Ñandú «Pediatría» — Łódź ✓"));
	json_object_set_new(it, "cantidad", json_real(3.33333333));
	json_object_set_new(it, "precioUni", json_real(0.00000001));
	json_object_set_new(it, "montoDescu", json_string("1234567.12345678"));
	json_object_set_new(it, "ventaGravada", json_real(999999.99));
	pdf = render_ok(doc, DTE_STATUS_PROCESADO, NULL, &len);
	text = pdf_text_all(write_pdf(pdf, len, "accents"));
	expect_text(text, "Ñandú «Pediatría» — ?ód? ?", "CP1252 text, others as ?");
	expect_text(text, "3.33333333", "8-decimal quantity");
	expect_text(text, "0.00000001", "8-decimal price");
	expect_text(text, "1,234,567.12345678", "decimal string amount");
	expect_text(text, "999,999.99", "grouped amount");
	expect_text(text, "Clínicas médicas", "accents");
	free(text);
	free(pdf);
	json_decref(doc);
}

/* A tree read back with dte_json_load (decimals as dte_doc marker strings,
 * what the DTE flow stores) renders the very same PDF as the json_loads tree. */
static void test_exact_decimal_tree(void **state)
{
	static const char *const files[] = {"fe-01.json", "ccf-03.json", "nc-05.json", "nd-06.json", "fse-14.json"};

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		json_t *plain = load_sample(files[f]), *exact = NULL;
		char *text = sample_text(files[f]);
		struct err e;
		size_t l1, l2;
		unsigned char *p1, *p2;

		err_clear(&e);
		if (dte_json_load(text, &exact, &e) != 0)
			fail_msg("dte_json_load(%s): %s", files[f], e.message);
		p1 = render_ok(plain, DTE_STATUS_PROCESADO, NULL, &l1);
		p2 = render_ok(exact, DTE_STATUS_PROCESADO, NULL, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(p1, p2, l1);
		free(p1);
		free(p2);
		free(text);
		json_decref(plain);
		json_decref(exact);
	}
}

/* ---- input checks ---- */

static void expect_invalid(json_t *doc, const char *status, const char *field)
{
	struct err e;
	unsigned char *pdf = (unsigned char *)"x";
	size_t len = 7;

	err_clear(&e);
	assert_int_equal(dte_pdf_render(doc, status, &pdf, &len, &e), ERR_INVALID);
	assert_string_equal(e.field, field);
	assert_null(pdf);
	assert_int_equal(len, 0);
}

static void test_invalid_inputs(void **state)
{
	json_t *doc = load_sample("fe-01.json");
	json_t *v;

	(void)state;
	expect_invalid(doc, "ACEPTADO", "status");
	expect_invalid(doc, NULL, "status");
	v = json_string("x");
	expect_invalid(v, DTE_STATUS_PROCESADO, "document");
	json_decref(v);

	json_object_set_new(doc, "selloRecibido", json_null());
	expect_invalid(doc, DTE_STATUS_PROCESADO, "selloRecibido");
	json_object_set_new(doc, "selloRecibido", json_integer(5));
	expect_invalid(doc, DTE_STATUS_PENDIENTE, "selloRecibido");
	json_object_set_new(doc, "selloRecibido", json_null());
	json_object_set_new(doc, "firmaElectronica", json_true());
	expect_invalid(doc, DTE_STATUS_PENDIENTE, "firmaElectronica");
	json_object_set_new(doc, "firmaElectronica", json_null());

	v = json_deep_copy(doc);
	json_object_set_new(json_object_get(v, "identificacion"), "tipoDte", json_string("11"));
	expect_invalid(v, DTE_STATUS_PENDIENTE, "identificacion.tipoDte");
	json_object_del(json_object_get(v, "identificacion"), "tipoDte");
	expect_invalid(v, DTE_STATUS_PENDIENTE, "identificacion.tipoDte");
	json_decref(v);

	static const char *const ident_fields[] = {"codigoGeneracion", "numeroControl", "fecEmi", "horEmi", "ambiente"};
	for (size_t i = 0; i < sizeof(ident_fields) / sizeof(ident_fields[0]); i++) {
		char field[64];
		v = json_deep_copy(doc);
		json_object_set_new(json_object_get(v, "identificacion"), ident_fields[i], json_string(""));
		snprintf(field, sizeof(field), "identificacion.%s", ident_fields[i]);
		expect_invalid(v, DTE_STATUS_PENDIENTE, field);
		json_decref(v);
	}

	v = json_deep_copy(doc);
	json_object_del(v, "identificacion");
	expect_invalid(v, DTE_STATUS_PENDIENTE, "identificacion");
	json_decref(v);

	v = json_deep_copy(doc);
	json_object_set_new(v, "emisor", json_null());
	expect_invalid(v, DTE_STATUS_PENDIENTE, "emisor");
	json_decref(v);

	v = json_deep_copy(doc);
	json_object_set_new(v, "cuerpoDocumento", json_array());
	expect_invalid(v, DTE_STATUS_PENDIENTE, "cuerpoDocumento");
	json_array_append_new(json_object_get(v, "cuerpoDocumento"), json_string("not an item"));
	expect_invalid(v, DTE_STATUS_PENDIENTE, "cuerpoDocumento");
	json_decref(v);

	v = json_deep_copy(doc);
	json_object_del(v, "resumen");
	expect_invalid(v, DTE_STATUS_PENDIENTE, "resumen");
	json_decref(v);
	json_decref(doc);

	doc = load_sample("ccf-03.json");
	json_object_set_new(doc, "receptor", json_null());
	expect_invalid(doc, DTE_STATUS_PROCESADO, "receptor");
	json_decref(doc);

	doc = load_sample("fse-14.json");
	json_object_del(doc, "sujetoExcluido");
	expect_invalid(doc, DTE_STATUS_PROCESADO, "sujetoExcluido");
	json_decref(doc);

	{
		/* too many items */
		doc = long_document(2001);
		expect_invalid(doc, DTE_STATUS_PROCESADO, "cuerpoDocumento");
		json_decref(doc);
	}
}

/* ---- display helpers ---- */

static void test_render_helpers(void **state)
{
	char b[DTE_RENDER_AMOUNT_MAX];
	struct arena *a = arena_new(0);
	json_t *v;

	(void)state;
	assert_string_equal(dte_render_nit("06141503951023", b, sizeof(b)), "0614-150395-102-3");
	assert_string_equal(dte_render_nit("045839216", b, sizeof(b)), "04583921-6");
	assert_string_equal(dte_render_nit("12-34", b, sizeof(b)), "12-34");
	assert_string_equal(dte_render_nit(NULL, b, sizeof(b)), "");
	assert_string_equal(dte_render_nrc("2587416", b, sizeof(b)), "258741-6");
	assert_string_equal(dte_render_nrc("7", b, sizeof(b)), "7");
	assert_string_equal(dte_render_phone("22637845", b, sizeof(b)), "2263-7845");
	assert_string_equal(dte_render_phone("+503 2263 7845", b, sizeof(b)), "+503 2263 7845");
	assert_string_equal(dte_render_date("2025-11-14", b, sizeof(b)), "14/11/2025");

	v = json_real(4.02654867);
	assert_true(dte_render_amount(v, 2, true, b, sizeof(b)));
	assert_string_equal(b, "4.02654867");
	json_decref(v);
	v = json_real(2260.0);
	assert_true(dte_render_amount(v, 2, true, b, sizeof(b)));
	assert_string_equal(b, "2,260.00");
	json_decref(v);
	v = json_integer(1000000);
	assert_true(dte_render_amount(v, 0, true, b, sizeof(b)));
	assert_string_equal(b, "1,000,000");
	json_decref(v);
	v = json_real(-1234.5);
	assert_true(dte_render_amount(v, 2, false, b, sizeof(b)));
	assert_string_equal(b, "-1234.50");
	json_decref(v);
	v = json_real(0.1 + 0.2); /* 0.30000000000000004: more than 15 digits */
	assert_false(dte_render_amount(v, 2, true, b, sizeof(b)));
	assert_string_equal(b, "0.30");
	json_decref(v);
	v = dte_json_decimal(123456789012, 8); /* dte_doc's exact decimal */
	assert_true(dte_render_amount(v, 2, true, b, sizeof(b)));
	assert_string_equal(b, "1,234.56789012");
	json_decref(v);
	v = dte_json_decimal(0, 2);
	assert_true(dte_render_is_zero(v));
	json_decref(v);
	v = dte_json_decimal(1, 8);
	assert_false(dte_render_is_zero(v));
	json_decref(v);
	v = json_string("12.5");
	assert_true(dte_render_amount(v, 2, true, b, sizeof(b)));
	assert_string_equal(b, "12.50");
	json_decref(v);
	v = json_string("1.123456789"); /* 9 decimals: shown as it is, not rounded */
	assert_false(dte_render_amount(v, 2, true, b, sizeof(b)));
	assert_string_equal(b, "1.123456789");
	json_decref(v);
	assert_false(dte_render_amount(NULL, 2, true, b, sizeof(b)));
	assert_string_equal(b, "");
	v = json_null();
	assert_false(dte_render_amount(v, 2, true, b, sizeof(b)));
	json_decref(v);

	assert_string_equal(dte_render_real(72.5, b, sizeof(b)), "72.5");
	assert_string_equal(dte_render_real(2260.0, b, sizeof(b)), "2260");
	assert_string_equal(dte_render_real(0.00000001, b, sizeof(b)), "0.00000001");
	assert_string_equal(dte_render_real(99999999999.99, b, sizeof(b)), "99999999999.99");

	assert_string_equal(dte_render_cp1252(a, "Peñate €5 “x” — ü"), "Pe\xF1"
								       "ate \x80"
								       "5 \x93x\x94 \x97 \xFC");
	assert_string_equal(dte_render_cp1252(a, "漢\x01\xFF"), "? ?");
	assert_string_equal(dte_render_cp1252(a, NULL), "");

	assert_string_equal(dte_render_type_name("05"), "NOTA DE CRÉDITO");
	assert_string_equal(dte_pdf_type_name("14"), "FACTURA DE SUJETO EXCLUIDO");
	assert_null(dte_pdf_type_name("99"));
	assert_string_equal(dte_render_municipio("06", "23"), "San Salvador Centro");
	assert_null(dte_render_municipio("06", "14")); /* pre-reform code: no name invented */
	assert_string_equal(dte_render_doc_label("13"), "DUI");
	assert_string_equal(dte_render_unidad(59), "Unidad");
	assert_string_equal(dte_render_forma_pago("05"), "Transferencia - depósito bancario");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_helpers),    cmocka_unit_test(test_consulta_url),
	    cmocka_unit_test(test_samples_text),      cmocka_unit_test(test_samples_qr),
	    cmocka_unit_test(test_status_banners),    cmocka_unit_test(test_contingency_and_production),
	    cmocka_unit_test(test_receptor_labels),   cmocka_unit_test(test_long_document_pages),
	    cmocka_unit_test(test_firma_abbreviated), cmocka_unit_test(test_accents_and_exact_amounts),
	    cmocka_unit_test(test_overlong_content),  cmocka_unit_test(test_exact_decimal_tree),
	    cmocka_unit_test(test_invalid_inputs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
