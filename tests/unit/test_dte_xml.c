/*
 * test_dte_xml.c - the XML rendering of delivered DTEs (src/mod/dte/dte_xml.c).
 *
 * Every sample of tests/fixtures/dte-samples must give well-formed XML
 * (xmllint from libxml2-utils) whose values round-trip: for every leaf of the
 * JSON, an XPath query through xmllint reads the same string, the same number
 * (compared as the same double / integer) or an xsi:nil element, and every
 * array has as many <item> children as entries. Then the exact text of a small
 * document (format lock), escaping of markup and of characters XML cannot
 * carry, and the error cases.
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
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"
#include "mod/dte/dte_doc.h"
#include "mod/dte/dte_xml.h"

static char g_dir[64];

/* Run argv (no shell), stdout captured (owned), stderr discarded; exit status or -1. */
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

static char *render_ok(const json_t *doc, size_t *len)
{
	struct err e;
	char *xml = NULL;

	err_clear(&e);
	if (dte_xml_render(doc, &xml, len, &e) != 0)
		fail_msg("dte_xml_render failed: %s (%s)", e.message, e.field);
	assert_non_null(xml);
	assert_int_equal(strlen(xml), *len);
	return xml;
}

static const char *write_xml(const char *xml, const char *stem)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.xml", g_dir, stem);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fputs(xml, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void expect_well_formed(const char *path)
{
	char *out;
	char *argv[] = {"xmllint", "--noout", (char *)path, NULL};
	int rc = run_capture(argv, &out);

	free(out);
	if (rc != 0)
		fail_msg("xmllint rejects %s (exit %d; is libxml2-utils installed?)", path, rc);
}

/* ---- round trip: collect every leaf and array of the JSON with its XPath ---- */

enum leaf_kind { LEAF_STRING, LEAF_INT, LEAF_REAL, LEAF_BOOL, LEAF_NULL, LEAF_COUNT };

struct leaf {
	char *xpath; /* the element */
	enum leaf_kind kind;
	const json_t *v;
};

struct leaves {
	struct leaf *v;
	size_t n, cap;
};

static void add_leaf(struct leaves *L, char *xpath, enum leaf_kind kind, const json_t *v)
{
	if (L->n == L->cap) {
		L->cap = L->cap ? L->cap * 2 : 64;
		L->v = xrealloc(L->v, L->cap * sizeof(*L->v));
	}
	L->v[L->n++] = (struct leaf){xpath, kind, v};
}

static void collect(struct leaves *L, const char *xpath, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *c;
		json_object_foreach((json_t *)v, k, c)
		{
			char *p = xasprintf("%s/%s", xpath, k);
			collect(L, p, c);
			free(p);
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *c;
		add_leaf(L, xstrdup(xpath), LEAF_COUNT, v);
		json_array_foreach(v, i, c)
		{
			char *p = xasprintf("%s/item[%zu]", xpath, i + 1);
			collect(L, p, c);
			free(p);
		}
		break;
	}
	case JSON_STRING: add_leaf(L, xstrdup(xpath), LEAF_STRING, v); break;
	case JSON_INTEGER: add_leaf(L, xstrdup(xpath), LEAF_INT, v); break;
	case JSON_REAL: add_leaf(L, xstrdup(xpath), LEAF_REAL, v); break;
	case JSON_TRUE:
	case JSON_FALSE: add_leaf(L, xstrdup(xpath), LEAF_BOOL, v); break;
	case JSON_NULL: add_leaf(L, xstrdup(xpath), LEAF_NULL, v); break;
	}
}

#define SEP "|#|"

static void check_leaf(const struct leaf *l, const char *got)
{
	char *end;

	switch (l->kind) {
	case LEAF_STRING:
		if (strcmp(got, json_string_value(l->v)) != 0)
			fail_msg("%s: XML has \"%s\", JSON \"%s\"", l->xpath, got, json_string_value(l->v));
		break;
	case LEAF_INT:
		if (strtoll(got, &end, 10) != (long long)json_integer_value(l->v) || *end || !*got)
			fail_msg("%s: XML has \"%s\", JSON %lld", l->xpath, got, (long long)json_integer_value(l->v));
		break;
	case LEAF_REAL:
		if (strtod(got, &end) != json_real_value(l->v) || *end || !*got || strchr(got, 'e'))
			fail_msg("%s: XML has \"%s\", JSON %.17g", l->xpath, got, json_real_value(l->v));
		break;
	case LEAF_BOOL: assert_string_equal(got, json_is_true(l->v) ? "true" : "false"); break;
	case LEAF_NULL:
		if (strcmp(got, "true/0/") != 0) /* nil attribute, no children, no text */
			fail_msg("%s: null should be an empty xsi:nil element, got %s", l->xpath, got);
		break;
	case LEAF_COUNT: {
		char want[64];
		snprintf(want, sizeof(want), "%zu/%zu", json_array_size(l->v), json_array_size(l->v));
		if (strcmp(got, want) != 0)
			fail_msg("%s: array of %zu entries has item/children counts %s", l->xpath,
				 json_array_size(l->v), got);
		break;
	}
	}
}

/* Query the leaves in batches of 30 through one concat() per xmllint call. */
static size_t check_round_trip(const char *path, const json_t *doc)
{
	struct leaves L = {NULL, 0, 0};
	size_t checked = 0;

	collect(&L, "/DTE", doc);
	for (size_t start = 0; start < L.n; start += 30) {
		size_t end = start + 30 < L.n ? start + 30 : L.n;
		size_t cap = 256, len = 0;
		char *expr = xmalloc(cap), *out, *p;
		char *argv[] = {"xmllint", "--xpath", NULL, (char *)path, NULL};

		len += (size_t)snprintf(expr, cap, "concat(\"[[\"");
		for (size_t i = start; i < end; i++) {
			const struct leaf *l = &L.v[i];
			char *part;
			if (l->kind == LEAF_NULL)
				part = xasprintf(",string(%s/@*[local-name()=\"nil\"]),\"/\",count(%s/node()),\"/\""
						 ",string(%s)",
						 l->xpath, l->xpath, l->xpath);
			else if (l->kind == LEAF_COUNT)
				part = xasprintf(",count(%s/item),\"/\",count(%s/*)", l->xpath, l->xpath);
			else
				part = xasprintf(",string(%s)", l->xpath);
			if (len + strlen(part) + 16 > cap) {
				cap = (len + strlen(part) + 16) * 2;
				expr = xrealloc(expr, cap);
			}
			len += (size_t)snprintf(expr + len, cap - len, "%s%s", part, i + 1 < end ? ",\"" SEP "\"" : "");
			free(part);
		}
		snprintf(expr + len, cap - len, ",\"]]\")");
		argv[2] = expr;
		if (run_capture(argv, &out) != 0)
			fail_msg("xmllint --xpath failed on %s", path);
		p = strstr(out, "[[");
		assert_non_null(p);
		p += 2;
		{
			char *close = NULL; /* the last "]]" */
			for (char *q = strstr(p, "]]"); q; q = strstr(q + 1, "]]"))
				close = q;
			assert_non_null(close);
			*close = '\0';
		}
		for (size_t i = start; i < end; i++) {
			char *sep = i + 1 < end ? strstr(p, SEP) : NULL;
			if (i + 1 < end) {
				assert_non_null(sep);
				*sep = '\0';
			}
			check_leaf(&L.v[i], p);
			checked++;
			if (sep)
				p = sep + strlen(SEP);
		}
		free(out);
		free(expr);
	}
	for (size_t i = 0; i < L.n; i++)
		free(L.v[i].xpath);
	free(L.v);
	return checked;
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/cl-dte-xml-XXXXXX");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *out;
	char *argv[] = {"rm", "-rf", g_dir, NULL};

	(void)state;
	run_capture(argv, &out);
	free(out);
	return 0;
}

/* ---- tests ---- */

static void test_samples_round_trip(void **state)
{
	static const char *const files[] = {"fe-01.json", "ccf-03.json", "nc-05.json", "nd-06.json", "fse-14.json"};

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		json_t *doc = load_sample(files[f]);
		size_t len, leaves;
		char *xml = render_ok(doc, &len);
		const char *path = write_xml(xml, files[f]);

		assert_memory_equal(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DTE ", 44);
		expect_well_formed(path);
		leaves = check_round_trip(path, doc);
		assert_true(leaves > 50);
		/* the delivery keys are there, the signature whole */
		assert_non_null(strstr(xml, "<selloRecibido>"));
		assert_non_null(strstr(xml, json_string_value(json_object_get(doc, "firmaElectronica"))));
		free(xml);
		json_decref(doc);
	}
}

/* A tree read with dte_json_load (decimals as exact marker strings) renders
 * the same XML as the json_loads tree; a dte_doc decimal prints as a number. */
static void test_exact_decimal_trees(void **state)
{
	static const char *const files[] = {"fe-01.json", "ccf-03.json", "nc-05.json", "nd-06.json", "fse-14.json"};
	struct err e;

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		json_t *plain = load_sample(files[f]), *exact = NULL;
		char *text = sample_text(files[f]);
		char *x1, *x2;
		size_t l1, l2;

		err_clear(&e);
		assert_non_null(text);
		if (dte_json_load(text, &exact, &e) != 0)
			fail_msg("dte_json_load(%s): %s", files[f], e.message);
		if (f == 0) /* the Factura's ivaItem 4.02654867 is held exactly */
			assert_string_equal(
			    dte_json_decimal_text(json_object_get(
				json_array_get(json_object_get(exact, "cuerpoDocumento"), 0), "ivaItem")),
			    "4.02654867");
		x1 = render_ok(plain, &l1);
		x2 = render_ok(exact, &l2);
		assert_string_equal(x1, x2);
		free(x1);
		free(x2);
		free(text);
		json_decref(plain);
		json_decref(exact);
	}
	{
		json_t *doc = json_object();
		size_t len;
		char *xml;

		json_object_set_new(doc, "precioUni", dte_json_decimal(123456789012, 8));
		json_object_set_new(doc, "total", dte_json_decimal(226000, 2));
		xml = render_ok(doc, &len);
		assert_non_null(strstr(xml, "<precioUni>1234.56789012</precioUni>"));
		assert_non_null(strstr(xml, "<total>2260</total>"));
		free(xml);
		json_decref(doc);
	}
}

static void test_pending_document(void **state)
{
	json_t *doc = load_sample("fe-01.json");
	size_t len;
	char *xml;

	(void)state;
	json_object_set_new(doc, "selloRecibido", json_null());
	xml = render_ok(doc, &len);
	assert_non_null(strstr(xml, "\n  <selloRecibido xsi:nil=\"true\"/>\n</DTE>\n"));
	expect_well_formed(write_xml(xml, "pending"));
	free(xml);
	json_decref(doc);
}

static void test_exact_format(void **state)
{
	json_t *doc = json_pack("{s:{s:i, s:s, s:n}, s:[{s:[s], s:f, s:f}], s:[], s:{}, s:s, s:b, s:f, s:[[i,i],[]]}",
				"identificacion", "version", 3, "tipoDte", "03", "motivoContin", "cuerpoDocumento",
				"tributos", "20", "precioUni", 0.00000001, "ventaGravada", 2260.0, "vacio", "objeto",
				"texto", "", "flag", 1, "iva", 4.02654867, "anidado", 1, 2);
	const char *want = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			   "<DTE xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
			   "  <identificacion>\n"
			   "    <version>3</version>\n"
			   "    <tipoDte>03</tipoDte>\n"
			   "    <motivoContin xsi:nil=\"true\"/>\n"
			   "  </identificacion>\n"
			   "  <cuerpoDocumento>\n"
			   "    <item>\n"
			   "      <tributos>\n"
			   "        <item>20</item>\n"
			   "      </tributos>\n"
			   "      <precioUni>0.00000001</precioUni>\n"
			   "      <ventaGravada>2260</ventaGravada>\n"
			   "    </item>\n"
			   "  </cuerpoDocumento>\n"
			   "  <vacio/>\n"
			   "  <objeto/>\n"
			   "  <texto></texto>\n"
			   "  <flag>true</flag>\n"
			   "  <iva>4.02654867</iva>\n"
			   "  <anidado>\n"
			   "    <item>\n"
			   "      <item>1</item>\n"
			   "      <item>2</item>\n"
			   "    </item>\n"
			   "    <item/>\n"
			   "  </anidado>\n"
			   "</DTE>\n";
	size_t len;
	char *xml;

	(void)state;
	assert_non_null(doc);
	xml = render_ok(doc, &len);
	assert_string_equal(xml, want);
	expect_well_formed(write_xml(xml, "format"));
	assert_true(check_round_trip(write_xml(xml, "format"), doc) > 5);
	free(xml);
	json_decref(doc);
}

static void test_escaping(void **state)
{
	json_t *doc = json_object();
	size_t len;
	char *xml, *out;
	const char *path;
	char *argv[] = {"xmllint", "--xpath", "concat(\"[\",string(/DTE/control),\"]\")", NULL, NULL};

	(void)state;
	json_object_set_new(doc, "markup", json_string("<a href=\"x\">Tom & Jerry's ]]> </a>"));
	json_object_set_new(doc, "lines", json_string("uno\r\ndos\ttres\nñandú €"));
	json_object_set_new(doc, "control",
			    json_stringn("a\x01"
					 "b\0c\x1f"
					 "d",
					 7));
	json_object_set_new(doc, "noChar", json_string("x\xEF\xBF\xBEy")); /* U+FFFE */
	xml = render_ok(doc, &len);
	assert_non_null(
	    strstr(xml, "<markup>&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s ]]&gt; &lt;/a&gt;</markup>"));
	assert_non_null(strstr(xml, "<lines>uno&#13;\ndos\ttres\nñandú €</lines>"));
	assert_non_null(strstr(xml, "<control>a\xEF\xBF\xBD"
				    "b\xEF\xBF\xBD"
				    "c\xEF\xBF\xBD"
				    "d</control>"));
	assert_non_null(strstr(xml, "<noChar>x\xEF\xBF\xBDy</noChar>"));
	path = write_xml(xml, "escaping");
	expect_well_formed(path);
	/* markup and line ends round-trip exactly (CR included) */
	json_object_del(doc, "control");
	json_object_del(doc, "noChar");
	assert_int_equal(check_round_trip(path, doc), 2);
	argv[3] = (char *)path;
	assert_int_equal(run_capture(argv, &out), 0);
	assert_non_null(strstr(out, "[a\xEF\xBF\xBD"
				    "b\xEF\xBF\xBD"
				    "c\xEF\xBF\xBD"
				    "d]"));
	free(out);
	free(xml);
	json_decref(doc);
}

static void expect_invalid(json_t *doc, const char *field)
{
	struct err e;
	char *xml = (char *)"x";
	size_t len = 9;

	err_clear(&e);
	assert_int_equal(dte_xml_render(doc, &xml, &len, &e), ERR_INVALID);
	assert_string_equal(e.field, field);
	assert_null(xml);
	assert_int_equal(len, 0);
}

static void test_invalid(void **state)
{
	json_t *v;

	(void)state;
	v = json_array();
	expect_invalid(v, "document");
	json_decref(v);
	expect_invalid(NULL, "document");

	v = json_pack("{s:{s:i}}", "resumen", "1total", 1);
	expect_invalid(v, "resumen.1total");
	json_decref(v);
	v = json_pack("{s:[{s:i}]}", "cuerpoDocumento", "precio unitario", 1);
	expect_invalid(v, "cuerpoDocumento[0].precio unitario");
	json_decref(v);
	v = json_pack("{s:i}", "xmlns", 1);
	expect_invalid(v, "xmlns");
	json_decref(v);
	v = json_pack("{s:i}", "", 1);
	expect_invalid(v, "");
	json_decref(v);
	v = json_pack("{s:i}", "<x>", 1);
	expect_invalid(v, "<x>");
	json_decref(v);

	/* nesting deeper than 32 levels */
	v = json_integer(1);
	for (int i = 0; i < 40; i++)
		v = json_pack("{s:o}", "a", v);
	{
		struct err e;
		char *xml;
		size_t len;
		err_clear(&e);
		assert_int_equal(dte_xml_render(v, &xml, &len, &e), ERR_INVALID);
		assert_null(xml);
	}
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_format),
	    cmocka_unit_test(test_samples_round_trip),
	    cmocka_unit_test(test_exact_decimal_trees),
	    cmocka_unit_test(test_pending_document),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
