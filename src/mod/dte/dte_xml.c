/*
 * dte_xml.c - the XML rendering of a delivered DTE: a recursive walk of the
 * JSON writing elements into a growing buffer. The mapping rules are in
 * dte_xml.h; this file only implements them.
 */
#include "mod/dte/dte_xml.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "mod/dte/dte_doc.h"
#include "mod/dte/dte_render.h"

#define MAX_DEPTH 32

struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_grow(struct sbuf *b, size_t more)
{
	if (b->n + more + 1 <= b->cap)
		return;
	while (b->n + more + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 4096;
	b->p = xrealloc(b->p, b->cap);
}

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	sb_grow(b, n);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void sb_indent(struct sbuf *b, int level)
{
	sb_grow(b, (size_t)level * 2);
	for (int i = 0; i < level; i++) {
		b->p[b->n++] = ' ';
		b->p[b->n++] = ' ';
	}
	b->p[b->n] = '\0';
}

/* Length of the UTF-8 sequence at s (n bytes left) and its code point; 0 when
 * invalid (jansson strings are valid UTF-8, so this is only a guard). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	*cp = c;
	return len;
}

static void sb_text(struct sbuf *b, const char *s, size_t n)
{
	static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_seq(u + i, n - i, &cp);

		if (len == 0) {
			sb_puts(b, replacement);
			i++;
			continue;
		}
		switch (cp) {
		case '&': sb_puts(b, "&amp;"); break;
		case '<': sb_puts(b, "&lt;"); break;
		case '>': sb_puts(b, "&gt;"); break;
		case '"': sb_puts(b, "&quot;"); break;
		case '\'': sb_puts(b, "&apos;"); break;
		case '\r': sb_puts(b, "&#13;"); break;
		case '\t':
		case '\n': sb_putn(b, s + i, 1); break;
		default:
			if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF || (cp >= 0xD800 && cp <= 0xDFFF))
				sb_puts(b, replacement);
			else
				sb_putn(b, s + i, len);
			break;
		}
		i += len;
	}
}

static bool name_ok(const char *k)
{
	const unsigned char *s = (const unsigned char *)k;

	if (!s[0])
		return false;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	if ((s[0] == 'x' || s[0] == 'X') && (s[1] == 'm' || s[1] == 'M') && (s[2] == 'l' || s[2] == 'L'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-' || *s == '.'))
			return false;
	return true;
}

static int emit(struct sbuf *b, const char *name, const json_t *v, int level, const char *path, struct err *e);

static int emit_children(struct sbuf *b, const json_t *v, int level, const char *path, struct err *e)
{
	int rc = 0;

	if (json_is_object(v)) {
		const char *k;
		json_t *child;

		json_object_foreach((json_t *)v, k, child)
		{
			char *cpath = path && *path ? xasprintf("%s.%s", path, k) : xstrdup(k);

			if (!name_ok(k))
				rc = err_set(e, ERR_INVALID, cpath, "a key is not a usable XML element name");
			else
				rc = emit(b, k, child, level, cpath, e);
			free(cpath);
			if (rc)
				return rc;
		}
	} else {
		size_t i;
		json_t *child;

		json_array_foreach(v, i, child)
		{
			char *cpath = xasprintf("%s[%zu]", path, i);
			rc = emit(b, "item", child, level, cpath, e);
			free(cpath);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int emit(struct sbuf *b, const char *name, const json_t *v, int level, const char *path, struct err *e)
{
	char num[64];
	int rc;

	if (level > MAX_DEPTH)
		return err_set(e, ERR_INVALID, path, "the document is nested too deeply");
	sb_indent(b, level);
	sb_puts(b, "<");
	sb_puts(b, name);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		if ((json_is_object(v) && json_object_size(v) == 0) || (json_is_array(v) && json_array_size(v) == 0)) {
			sb_puts(b, "/>\n");
			return 0;
		}
		sb_puts(b, ">\n");
		rc = emit_children(b, v, level + 1, path, e);
		if (rc)
			return rc;
		sb_indent(b, level);
		break;
	case JSON_STRING:
		sb_puts(b, ">");
		if (dte_json_decimal_text(v)) /* an exact decimal of a dte_doc tree */
			sb_puts(b, dte_json_decimal_text(v));
		else
			sb_text(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		sb_puts(b, ">");
		sb_puts(b, num);
		break;
	case JSON_REAL:
		sb_puts(b, ">");
		sb_puts(b, dte_render_real(json_real_value(v), num, sizeof(num)));
		break;
	case JSON_TRUE: sb_puts(b, ">true"); break;
	case JSON_FALSE: sb_puts(b, ">false"); break;
	case JSON_NULL:
	default: sb_puts(b, " xsi:nil=\"true\"/>\n"); return 0;
	}
	sb_puts(b, "</");
	sb_puts(b, name);
	sb_puts(b, ">\n");
	return 0;
}

int dte_xml_render(const json_t *delivered, char **xml, size_t *xml_len, struct err *e)
{
	struct sbuf b = {NULL, 0, 0};
	int rc;

	*xml = NULL;
	*xml_len = 0;
	if (!json_is_object(delivered))
		return err_set(e, ERR_INVALID, "document", "the document must be a JSON object");
	sb_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<DTE xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n");
	rc = emit_children(&b, delivered, 1, "", e);
	if (rc)
		goto out;
	sb_puts(&b, "</DTE>\n");
	*xml = b.p;
	*xml_len = b.n;
	b.p = NULL;
out:
	free(b.p);
	return rc;
}
