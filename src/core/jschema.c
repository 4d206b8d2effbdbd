/*
 * jschema.c - the draft-07 validator of jschema.h.
 *
 * A compiled schema is the schema's jansson tree plus every "pattern" (and
 * patternProperties key) compiled once into a regex_t, found again by the
 * address of its JSON node through a small open-addressing table.
 * Validation walks the schema and the instance together; sub-schemas whose
 * failure is not an error by itself (anyOf, oneOf, not, if, contains) are
 * run "quietly": they stop at the first failure and record nothing.
 *
 * Numbers are compared as decimals (struct dec: sign, digits without
 * leading or trailing zeros, power of ten), see the header.
 */
#include "core/jschema.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define DEPTH_MAX 200	      /* schema/instance nesting before giving up ($ref loops) */
#define TEXT_MAX  (64u << 20) /* largest text parse_exact accepts */

/* ------------------------------------------------------------------ */
/* Decimals                                                            */
/* ------------------------------------------------------------------ */

/* value = sign * dig[0..n) * 10^exp; dig has no leading or trailing zeros;
 * sign 0 means zero (n 0). */
struct dec {
	int sign;
	const char *dig;
	size_t n;
	long long exp;
};

/* Parse a JSON number literal (strict grammar) into d, digits into buf
 * (>= strlen(s) + 1 bytes). */
static bool dec_parse(const char *s, struct dec *d, char *buf)
{
	const char *p = s;
	size_t n = 0, frac = 0;
	long long ex = 0;
	bool neg = false;

	memset(d, 0, sizeof(*d));
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p == '0') {
		buf[n++] = '0';
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			buf[n++] = *p++;
	} else {
		return false;
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9') {
			buf[n++] = *p++;
			frac++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		bool eneg = false;
		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9') {
			if (ex < 1000000000LL)
				ex = ex * 10 + (*p - '0');
			p++;
		}
		if (eneg)
			ex = -ex;
	}
	if (*p != '\0')
		return false;
	/* strip leading zeros */
	size_t start = 0;
	while (start < n && buf[start] == '0')
		start++;
	if (start == n) {
		d->sign = 0;
		d->dig = buf;
		d->n = 0;
		return true;
	}
	size_t end = n;
	long long e10 = ex - (long long)frac;
	while (end > start && buf[end - 1] == '0') {
		end--;
		e10++;
	}
	d->sign = neg ? -1 : 1;
	d->dig = buf + start;
	d->n = end - start;
	d->exp = e10;
	return true;
}

/* Compare |a| and |b|. */
static int dec_cmp_abs(const struct dec *a, const struct dec *b)
{
	if (a->n == 0 || b->n == 0)
		return (a->n != 0) - (b->n != 0);
	/* position of the most significant digit */
	long long ma = a->exp + (long long)a->n, mb = b->exp + (long long)b->n;
	if (ma != mb)
		return ma < mb ? -1 : 1;
	size_t m = a->n < b->n ? a->n : b->n;
	int c = memcmp(a->dig, b->dig, m);
	if (c != 0)
		return c < 0 ? -1 : 1;
	if (a->n == b->n)
		return 0;
	return a->n < b->n ? -1 : 1; /* no trailing zeros: the longer one is bigger */
}

static int dec_cmp(const struct dec *a, const struct dec *b)
{
	if (a->sign != b->sign)
		return a->sign < b->sign ? -1 : 1;
	int c = dec_cmp_abs(a, b);
	return a->sign < 0 ? -c : c;
}

static bool dec_is_integer(const struct dec *d)
{
	return d->sign == 0 || d->exp >= 0;
}

/* x is an integer multiple of m (m > 0). *unsupported set when m's digits
 * do not fit 19 digits. */
static bool dec_multiple(const struct dec *x, const struct dec *m, bool *unsupported)
{
	*unsupported = false;
	if (x->sign == 0)
		return true;
	if (m->n > 19) {
		*unsupported = true;
		return false;
	}
	long long k = x->exp - m->exp;
	if (k < 0)
		return false; /* x's digits end in a non-zero digit finer than m's */
	unsigned long long mm = 0;
	for (size_t i = 0; i < m->n; i++)
		mm = mm * 10 + (unsigned long long)(m->dig[i] - '0');
	if (mm == 1)
		return true;
	unsigned __int128 r = 0;
	for (size_t i = 0; i < x->n; i++)
		r = (r * 10 + (unsigned)(x->dig[i] - '0')) % mm;
	/* r * 10^k mod mm by squaring */
	unsigned __int128 base = 10 % mm, acc = 1 % mm;
	unsigned long long e = (unsigned long long)k;
	while (e) {
		if (e & 1)
			acc = (acc * base) % mm;
		base = (base * base) % mm;
		e >>= 1;
	}
	return (r * acc) % mm == 0;
}

/* ------------------------------------------------------------------ */
/* Number values                                                       */
/* ------------------------------------------------------------------ */

static bool is_marked(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 1 && json_string_value(v)[0] == '\x01';
}

bool jschema_is_number(const json_t *v)
{
	return json_is_number(v) || is_marked(v);
}

static bool real_text(double x, char *buf, size_t size)
{
	if (x != x || x > 1.7976931348623157e308 || x < -1.7976931348623157e308)
		return false;
	for (int prec = 15; prec <= 17; prec++) {
		int n = snprintf(buf, size, "%.*g", prec, x);
		if (n < 0 || (size_t)n >= size)
			return false;
		if (strtod(buf, NULL) == x)
			break;
	}
	/* "%g" may give "1e-08" or "100000000000": both valid JSON numbers; make
	 * sure there is no "inf"/"nan" and a leading '.' cannot happen. */
	return true;
}

bool jschema_number_text(const json_t *v, char *buf, size_t size)
{
	if (size == 0)
		return false;
	buf[0] = '\0';
	if (json_is_integer(v)) {
		int n = snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		if (n < 0 || (size_t)n >= size) {
			buf[0] = '\0';
			return false;
		}
		return true;
	}
	if (json_is_real(v)) {
		if (!real_text(json_real_value(v), buf, size)) {
			buf[0] = '\0';
			return false;
		}
		return true;
	}
	if (is_marked(v)) {
		size_t n = json_string_length(v) - 1;
		if (n >= size)
			return false;
		memcpy(buf, json_string_value(v) + 1, n);
		buf[n] = '\0';
		return true;
	}
	return false;
}

/* v as a decimal; text/buf are scratch of JSCHEMA_NUMBER_MAX + 2 bytes. */
static bool num_dec(const json_t *v, struct dec *d, char *text, char *buf)
{
	if (!jschema_number_text(v, text, JSCHEMA_NUMBER_MAX + 2))
		return false;
	return dec_parse(text, d, buf);
}

int jschema_fixed(const json_t *v, int scale, int64_t *out, struct err *e)
{
	char text[JSCHEMA_NUMBER_MAX + 2], buf[JSCHEMA_NUMBER_MAX + 2];
	struct dec d;

	*out = 0;
	if (scale < 0 || scale > 18)
		return err_set(e, ERR_INVALID, NULL, "scale out of range");
	if (!num_dec(v, &d, text, buf))
		return err_set(e, ERR_INVALID, NULL, "not a number");
	if (d.sign == 0)
		return 0;
	long long shift = d.exp + scale;
	if (shift < 0)
		return err_set(e, ERR_INVALID, NULL, "more than %d decimals", scale);
	if ((long long)d.n + shift > 19)
		return err_set(e, ERR_INVALID, NULL, "number out of range");
	unsigned long long acc = 0;
	for (size_t i = 0; i < d.n; i++)
		acc = acc * 10 + (unsigned long long)(d.dig[i] - '0');
	for (long long i = 0; i < shift; i++) {
		if (acc > ULLONG_MAX / 10)
			return err_set(e, ERR_INVALID, NULL, "number out of range");
		acc *= 10;
	}
	if (d.sign > 0 && acc > (unsigned long long)INT64_MAX)
		return err_set(e, ERR_INVALID, NULL, "number out of range");
	if (d.sign < 0 && acc > (unsigned long long)INT64_MAX + 1)
		return err_set(e, ERR_INVALID, NULL, "number out of range");
	*out = d.sign > 0 ? (int64_t)acc : (int64_t)(0 - acc);
	return 0;
}

json_t *jschema_fixed_json(int64_t value, int scale)
{
	char digits[32], text[48];
	uint64_t mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
	int n, pos = 0;

	if (scale < 0)
		scale = 0;
	if (scale > 18)
		scale = 18;
	n = snprintf(digits, sizeof(digits), "%0*llu", scale + 1, (unsigned long long)mag);
	text[pos++] = '\x01';
	if (value < 0)
		text[pos++] = '-';
	memcpy(text + pos, digits, (size_t)(n - scale));
	pos += n - scale;
	if (scale > 0) {
		text[pos++] = '.';
		memcpy(text + pos, digits + n - scale, (size_t)scale);
		pos += scale;
	}
	text[pos] = '\0';
	return json_string(text);
}

/* ------------------------------------------------------------------ */
/* Exact parsing and printing                                          */
/* ------------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Length of the JSON number token at s (strict grammar), 0 if none. */
static size_t number_token(const char *s, size_t avail)
{
	size_t i = 0;
	if (i < avail && s[i] == '-')
		i++;
	if (i < avail && s[i] == '0') {
		i++;
	} else if (i < avail && s[i] >= '1' && s[i] <= '9') {
		while (i < avail && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return 0;
	}
	if (i < avail && s[i] == '.') {
		size_t j = i + 1;
		if (!(j < avail && s[j] >= '0' && s[j] <= '9'))
			return 0;
		while (j < avail && s[j] >= '0' && s[j] <= '9')
			j++;
		i = j;
	}
	if (i < avail && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < avail && (s[j] == '+' || s[j] == '-'))
			j++;
		if (!(j < avail && s[j] >= '0' && s[j] <= '9'))
			return 0;
		while (j < avail && s[j] >= '0' && s[j] <= '9')
			j++;
		i = j;
	}
	/* a number must not run into letters/digits ("1x", "01") */
	if (i < avail && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
			  (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '.' || s[i] == '+' || s[i] == '-'))
		return 0;
	return i;
}

int jschema_parse_exact(const char *text, size_t len, json_t **out, struct err *e)
{
	struct sbuf b = {0};
	json_error_t je;
	int rc = 0;

	*out = NULL;
	if (!text)
		return err_set(e, ERR_INVALID, NULL, "no JSON text");
	if (len > TEXT_MAX)
		return err_set(e, ERR_INVALID, NULL, "JSON text too large");
	for (size_t i = 0; i < len;) {
		char c = text[i];
		if (c == '"') {
			size_t j = i + 1;
			while (j < len && text[j] != '"') {
				if (text[j] == '\\') {
					if (j + 5 < len && text[j + 1] == 'u' && memcmp(text + j + 2, "0001", 4) == 0) {
						rc = err_set(e, ERR_INVALID, NULL,
							     "invalid JSON: U+0001 in a string at byte %zu", j);
						goto out;
					}
					j++;
				} else if (text[j] == '\x01') {
					rc = err_set(e, ERR_INVALID, NULL,
						     "invalid JSON: control character at byte %zu", j);
					goto out;
				}
				j++;
			}
			if (j >= len) {
				rc = err_set(e, ERR_INVALID, NULL, "invalid JSON: unterminated string at byte %zu", i);
				goto out;
			}
			sb_put(&b, text + i, j + 1 - i);
			i = j + 1;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t n = number_token(text + i, len - i);
			if (n == 0) {
				rc = err_set(e, ERR_INVALID, NULL, "invalid JSON: bad number at byte %zu", i);
				goto out;
			}
			if (n > JSCHEMA_NUMBER_MAX) {
				rc = err_set(e, ERR_INVALID, NULL, "invalid JSON: number too long at byte %zu", i);
				goto out;
			}
			sb_put(&b, "\"\\u0001", 7);
			sb_put(&b, text + i, n);
			sb_put(&b, "\"", 1);
			i += n;
		} else {
			size_t j = i;
			while (j < len && text[j] != '"' && text[j] != '-' && !(text[j] >= '0' && text[j] <= '9'))
				j++;
			sb_put(&b, text + i, j - i);
			i = j;
		}
	}
	if (!b.p)
		sb_put(&b, "", 0);
	*out = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!*out)
		rc = err_set(e, ERR_INVALID, NULL, "invalid JSON near line %d column %d: %s", je.line, je.column,
			     je.text);
out:
	free(b.p);
	return rc;
}

char *jschema_dump_exact(const json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_ENCODE_ANY);
	if (!s)
		return NULL;
	/* jansson writes the mark as \u0001 right after a string's opening
	 * quote; such a string is printed as the bare literal it holds. Other
	 * strings are copied as they are (escapes included). */
	char *w = s;
	const char *r = s;
	while (*r) {
		if (*r != '"') {
			*w++ = *r++;
			continue;
		}
		if (strncmp(r + 1, "\\u0001", 6) == 0) {
			r += 7;
			while (*r && *r != '"')
				*w++ = *r++;
			if (*r == '"')
				r++;
			continue;
		}
		*w++ = *r++; /* opening quote */
		while (*r && *r != '"') {
			if (*r == '\\' && r[1])
				*w++ = *r++;
			*w++ = *r++;
		}
		if (*r == '"')
			*w++ = *r++;
	}
	*w = '\0';
	return s;
}

/* ------------------------------------------------------------------ */
/* Patterns: ECMA-262 -> POSIX ERE                                     */
/* ------------------------------------------------------------------ */

struct rx {
	const json_t *node; /* the pattern string node (or the patternProperties object key's schema) */
	const char *key;    /* patternProperties: the key text; NULL for "pattern" */
	regex_t re;
	bool has_pre; /* a leading look-ahead */
	bool pre_negative;
	regex_t pre;
};

struct jschema {
	json_t *root;
	struct rx *rx;
	size_t nrx, caprx;
	size_t *slots; /* open addressing: index + 1 into rx, 0 = empty */
	size_t nslots;
	char title[128];
};

/* Append the UTF-8 encoding of code point cp to the translation. */
static void put_utf8(struct sbuf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	}
	sb_put(b, u, n);
}

static bool is_ere_special(char c)
{
	return strchr(".[]()*+?{}|^$\\", c) != NULL;
}

/* Literal character c outside a class. */
static void put_literal(struct sbuf *b, unsigned cp)
{
	if (cp < 0x80 && is_ere_special((char)cp)) {
		char t[2] = {'\\', (char)cp};
		sb_put(b, t, 2);
	} else {
		put_utf8(b, cp);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a simple escape at p (after the backslash) to a code point:
 * \n \r \t \f \v \0 \xHH \uHHHH or an escaped punctuator. *used = chars
 * consumed after the backslash. Returns -1 for class escapes/unsupported. */
static long escape_char(const char *p, size_t *used)
{
	*used = 1;
	switch (*p) {
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'f': return '\f';
	case 'v': return '\v';
	case '0': return (p[1] >= '0' && p[1] <= '9') ? -1 : 0;
	case 'x':
		if (hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			*used = 3;
			return hexval(p[1]) * 16 + hexval(p[2]);
		}
		return -1;
	case 'u':
		if (hexval(p[1]) >= 0 && hexval(p[2]) >= 0 && hexval(p[3]) >= 0 && hexval(p[4]) >= 0) {
			*used = 5;
			return ((long)hexval(p[1]) << 12) | (hexval(p[2]) << 8) | (hexval(p[3]) << 4) | hexval(p[4]);
		}
		return -1;
	default:
		if (*p != '\0' && strchr("^$\\.*+?()[]{}|/-,:=!<>'\"#%&;@`~ _", *p))
			return (unsigned char)*p;
		return -1;
	}
}

/* Translate a bracket expression starting at p ('[' already consumed) up to
 * and including ']'. Returns chars consumed, 0 on unsupported input. */
static size_t translate_class(const char *p, struct sbuf *b)
{
	struct sbuf items = {0};
	bool neg = false, close_br = false, dash = false, caret = false;
	size_t i = 0;

	if (p[i] == '^') {
		neg = true;
		i++;
	}
	for (;;) {
		char c = p[i];
		if (c == '\0') {
			free(items.p);
			return 0;
		}
		if (c == ']')
			break;
		if (c == '\\') {
			char k = p[i + 1];
			size_t used;
			if (k == 'd') {
				sb_put(&items, "0-9", 3);
				i += 2;
				continue;
			}
			if (k == 'w') {
				sb_put(&items, "A-Za-z0-9_", 10);
				i += 2;
				continue;
			}
			if (k == 's') {
				sb_put(&items, "[:space:]", 9);
				i += 2;
				continue;
			}
			long cp = escape_char(p + i + 1, &used);
			if (cp <= 0) {
				free(items.p);
				return 0;
			}
			i += 1 + used;
			if (cp == ']')
				close_br = true;
			else if (cp == '-')
				dash = true;
			else if (cp == '^')
				caret = true;
			else
				put_utf8(&items, (unsigned)cp);
			continue;
		}
		if (c == '-' && (i == 0 || (neg && i == 1) || p[i + 1] == ']')) {
			dash = true; /* a literal dash at either end */
			i++;
			continue;
		}
		if (c == '^') {
			caret = true;
			i++;
			continue;
		}
		if (c == '[' && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
			free(items.p);
			return 0; /* would read as a POSIX class name */
		}
		sb_put(&items, &c, 1);
		i++;
	}
	if (!items.p && !close_br && !dash && !caret)
		return 0; /* "[]" / "[^]" have no POSIX spelling */
	sb_put(b, neg ? "[^" : "[", neg ? 2 : 1);
	if (close_br)
		sb_put(b, "]", 1);
	if (items.p)
		sb_put(b, items.p, items.len);
	if (caret)
		sb_put(b, "^", 1);
	if (dash)
		sb_put(b, "-", 1);
	sb_put(b, "]", 1);
	free(items.p);
	return i + 1;
}

/* Translate ECMA pattern src into out (POSIX ERE). A leading ^(?=X) /
 * ^(?!X) is split off into *pre ("^X"). Returns false with *why on an
 * unsupported construct. */
static bool translate(const char *src, struct sbuf *out, struct sbuf *pre, bool *pre_neg, const char **why)
{
	const char *p = src;
	int depth = 0;

	if ((strncmp(p, "^(?!", 4) == 0 || strncmp(p, "^(?=", 4) == 0) && pre) {
		/* find the matching ')' of the look-ahead */
		int lvl = 1;
		const char *q = p + 4;
		bool in_class = false;
		for (; *q && lvl > 0; q++) {
			if (*q == '\\' && q[1]) {
				q++;
				continue;
			}
			if (in_class) {
				if (*q == ']')
					in_class = false;
				continue;
			}
			if (*q == '[')
				in_class = true;
			else if (*q == '(')
				lvl++;
			else if (*q == ')')
				lvl--;
		}
		if (lvl != 0) {
			*why = "unbalanced look-ahead";
			return false;
		}
		char *inner = xstrndup(p + 4, (size_t)(q - 1 - (p + 4)));
		struct sbuf tmp = {0};
		sb_put(&tmp, "^", 1);
		bool ok = translate(inner, &tmp, NULL, NULL, why);
		free(inner);
		if (!ok) {
			free(tmp.p);
			return false;
		}
		/* inner translated after "^": tmp = "^" + translation; but
		 * translate() of inner already produced its own output */
		sb_put(pre, tmp.p, tmp.len);
		free(tmp.p);
		*pre_neg = p[3] == '!';
		/* the rest keeps the anchor */
		sb_put(out, "^", 1);
		p = q;
	}
	bool after_atom = false, at_alt_start = true;
	while (*p) {
		char c = *p;
		if (c == '\\') {
			char k = p[1];
			size_t used;
			const char *cls = NULL;
			switch (k) {
			case 'd': cls = "[0-9]"; break;
			case 'D': cls = "[^0-9]"; break;
			case 'w': cls = "[A-Za-z0-9_]"; break;
			case 'W': cls = "[^A-Za-z0-9_]"; break;
			case 's': cls = "[[:space:]]"; break;
			case 'S': cls = "[^[:space:]]"; break;
			case 'b': cls = "\\b"; break;
			case 'B': cls = "\\B"; break;
			default: break;
			}
			if (cls) {
				sb_put(out, cls, strlen(cls));
				p += 2;
				after_atom = k != 'b' && k != 'B';
				at_alt_start = false;
				continue;
			}
			if (k >= '1' && k <= '9') {
				*why = "back references are not supported";
				return false;
			}
			long cp = escape_char(p + 1, &used);
			if (cp <= 0) {
				*why = "unsupported escape";
				return false;
			}
			put_literal(out, (unsigned)cp);
			p += 1 + used;
			after_atom = true;
			at_alt_start = false;
			continue;
		}
		if (c == '[') {
			size_t n = translate_class(p + 1, out);
			if (n == 0) {
				*why = "unsupported character class";
				return false;
			}
			p += 1 + n;
			after_atom = true;
			at_alt_start = false;
			continue;
		}
		if (c == '(') {
			if (p[1] == '?') {
				if (p[2] == ':') {
					sb_put(out, "(", 1);
					p += 3;
				} else {
					*why = "look-around groups are not supported";
					return false;
				}
			} else {
				sb_put(out, "(", 1);
				p++;
			}
			depth++;
			after_atom = false;
			at_alt_start = true;
			continue;
		}
		if (c == ')') {
			if (depth == 0) {
				*why = "unbalanced parenthesis";
				return false;
			}
			if (at_alt_start)
				sb_put(out, "()", 2); /* empty last alternative */
			sb_put(out, ")", 1);
			depth--;
			p++;
			after_atom = true;
			at_alt_start = false;
			continue;
		}
		if (c == '|') {
			if (at_alt_start)
				sb_put(out, "()", 2); /* empty alternative: matches "" as in ECMA */
			sb_put(out, "|", 1);
			p++;
			after_atom = false;
			at_alt_start = true;
			continue;
		}
		if (c == '*' || c == '+' || c == '?' || c == '{') {
			if (c == '{') {
				/* a quantifier only when {n}, {n,} or {n,m} follows an atom */
				const char *q = p + 1;
				bool digits = false;
				while (*q >= '0' && *q <= '9') {
					q++;
					digits = true;
				}
				if (digits && *q == ',') {
					q++;
					while (*q >= '0' && *q <= '9')
						q++;
				}
				if (!digits || *q != '}') {
					put_literal(out, '{');
					p++;
					after_atom = true;
					at_alt_start = false;
					continue;
				}
				if (!after_atom) {
					*why = "quantifier without an atom";
					return false;
				}
				sb_put(out, p, (size_t)(q + 1 - p));
				p = q + 1;
			} else {
				if (!after_atom) {
					*why = "quantifier without an atom";
					return false;
				}
				sb_put(out, &c, 1);
				p++;
			}
			if (*p == '?')
				p++; /* lazy: same yes/no answer */
			after_atom = false;
			at_alt_start = false;
			continue;
		}
		if (c == '.') {
			sb_put(out, "[^\n\r]", 5);
			p++;
			after_atom = true;
			at_alt_start = false;
			continue;
		}
		if (c == '^' || c == '$') {
			sb_put(out, &c, 1);
			p++;
			after_atom = false;
			at_alt_start = false;
			continue;
		}
		if (c == '}' || c == ']') {
			put_literal(out, (unsigned char)c);
			p++;
			after_atom = true;
			at_alt_start = false;
			continue;
		}
		/* a literal byte (UTF-8 continuation bytes pass through) */
		sb_put(out, &c, 1);
		p++;
		after_atom = true;
		at_alt_start = false;
	}
	if (depth != 0) {
		*why = "unbalanced parenthesis";
		return false;
	}
	if (at_alt_start && out->len > 0 && out->p[out->len - 1] == '|')
		sb_put(out, "()", 2);
	if (!out->p)
		sb_put(out, "", 0);
	return true;
}

static size_t ptr_hash(const void *p, size_t n)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 17;
	x *= (uintptr_t)0x9E3779B97F4A7C15ull;
	x ^= x >> 29;
	return (size_t)x & (n - 1);
}

static const struct rx *rx_find(const struct jschema *s, const json_t *node)
{
	if (!s->nslots)
		return NULL;
	for (size_t h = ptr_hash(node, s->nslots);; h = (h + 1) & (s->nslots - 1)) {
		size_t v = s->slots[h];
		if (v == 0)
			return NULL;
		if (s->rx[v - 1].node == node)
			return &s->rx[v - 1];
	}
}

static int rx_add(struct jschema *s, const json_t *node, const char *src, const char *where, struct err *e)
{
	struct sbuf out = {0}, pre = {0};
	const char *why = "";
	bool pre_neg = false;
	struct rx r;
	int rc;

	memset(&r, 0, sizeof(r));
	if (!translate(src, &out, &pre, &pre_neg, &why)) {
		rc = err_set(e, ERR_INVALID, NULL, "pattern at %s: %s", where, why);
		goto fail;
	}
	if (regcomp(&r.re, out.p, REG_EXTENDED | REG_NOSUB) != 0) {
		rc = err_set(e, ERR_INVALID, NULL, "pattern at %s does not compile", where);
		goto fail;
	}
	if (pre.p) {
		if (regcomp(&r.pre, pre.p, REG_EXTENDED | REG_NOSUB) != 0) {
			regfree(&r.re);
			rc = err_set(e, ERR_INVALID, NULL, "pattern at %s does not compile", where);
			goto fail;
		}
		r.has_pre = true;
		r.pre_negative = pre_neg;
	}
	free(out.p);
	free(pre.p);
	r.node = node;
	if (s->nrx == s->caprx) {
		s->caprx = s->caprx ? s->caprx * 2 : 64;
		s->rx = xrealloc(s->rx, s->caprx * sizeof(*s->rx));
	}
	s->rx[s->nrx++] = r;
	return 0;
fail:
	free(out.p);
	free(pre.p);
	return rc;
}

static bool rx_match(const struct rx *r, const char *str, size_t len)
{
	regmatch_t m[1];
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)len;
	if (r->has_pre) {
		bool hit = regexec(&r->pre, str, 1, m, REG_STARTEND) == 0;
		if (hit == r->pre_negative)
			return false;
		m[0].rm_so = 0;
		m[0].rm_eo = (regoff_t)len;
	}
	return regexec(&r->re, str, 1, m, REG_STARTEND) == 0;
}

/* ------------------------------------------------------------------ */
/* Compilation                                                         */
/* ------------------------------------------------------------------ */

static const json_t *resolve_ref(const json_t *root, const char *ref)
{
	if (strcmp(ref, "#") == 0)
		return root;
	if (strncmp(ref, "#/", 2) != 0)
		return NULL;
	const json_t *cur = root;
	const char *p = ref + 2;
	char seg[256];
	while (cur) {
		size_t n = 0;
		while (*p && *p != '/' && n + 1 < sizeof(seg)) {
			if (p[0] == '~' && p[1] == '0') {
				seg[n++] = '~';
				p += 2;
			} else if (p[0] == '~' && p[1] == '1') {
				seg[n++] = '/';
				p += 2;
			} else if (p[0] == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				seg[n++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
				p += 3;
			} else {
				seg[n++] = *p++;
			}
		}
		seg[n] = '\0';
		if (json_is_object(cur)) {
			cur = json_object_get(cur, seg);
		} else if (json_is_array(cur)) {
			char *end;
			unsigned long idx = strtoul(seg, &end, 10);
			cur = (*end == '\0' && n > 0) ? json_array_get(cur, idx) : NULL;
		} else {
			cur = NULL;
		}
		if (*p == '\0')
			break;
		p++;
	}
	return cur;
}

/* Walk a schema node: compile its patterns, check its $refs. where is the
 * JSON pointer (for messages). */
static int compile_walk(struct jschema *s, const json_t *sch, char *where, size_t wlen, int depth, struct err *e);

static int walk_child(struct jschema *s, const json_t *sch, char *where, size_t wlen, const char *seg, int depth,
		      struct err *e)
{
	size_t old = strlen(where);
	snprintf(where + old, wlen - old, "/%s", seg);
	int rc = compile_walk(s, sch, where, wlen, depth + 1, e);
	where[old] = '\0';
	return rc;
}

static int compile_walk(struct jschema *s, const json_t *sch, char *where, size_t wlen, int depth, struct err *e)
{
	static const char *const one[] = {
	    "additionalProperties", "additionalItems", "contains", "propertyNames", "not", "if", "then", "else"};
	static const char *const lists[] = {"allOf", "anyOf", "oneOf"};
	static const char *const maps[] = {"properties", "definitions"};
	const json_t *v;
	int rc;

	if (depth > DEPTH_MAX)
		return err_set(e, ERR_INVALID, NULL, "schema nested too deeply at %s", where);
	if (json_is_boolean(sch))
		return 0;
	if (!json_is_object(sch))
		return err_set(e, ERR_INVALID, NULL, "schema at %s is not an object or boolean", where);
	if ((v = json_object_get(sch, "$ref"))) {
		if (!json_is_string(v) || !resolve_ref(s->root, json_string_value(v)))
			return err_set(e, ERR_INVALID, NULL, "unresolvable $ref at %s", where);
	}
	if ((v = json_object_get(sch, "pattern")) && json_is_string(v)) {
		size_t old = strlen(where);
		snprintf(where + old, wlen - old, "/pattern");
		rc = rx_add(s, v, json_string_value(v), where, e);
		where[old] = '\0';
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		v = json_object_get(sch, one[i]);
		if (v && (json_is_object(v) || json_is_boolean(v)) &&
		    (rc = walk_child(s, v, where, wlen, one[i], depth, e)))
			return rc;
	}
	if ((v = json_object_get(sch, "items"))) {
		if (json_is_array(v)) {
			size_t i;
			const json_t *it;
			json_array_foreach(v, i, it)
			{
				char seg[32];
				snprintf(seg, sizeof(seg), "items/%zu", i);
				if ((rc = walk_child(s, it, where, wlen, seg, depth, e)))
					return rc;
			}
		} else if ((rc = walk_child(s, v, where, wlen, "items", depth, e))) {
			return rc;
		}
	}
	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		v = json_object_get(sch, lists[k]);
		if (!v)
			continue;
		if (!json_is_array(v) || json_array_size(v) == 0)
			return err_set(e, ERR_INVALID, NULL, "%s at %s must be a non-empty array", lists[k], where);
		size_t i;
		const json_t *it;
		json_array_foreach(v, i, it)
		{
			char seg[32];
			snprintf(seg, sizeof(seg), "%s/%zu", lists[k], i);
			if ((rc = walk_child(s, it, where, wlen, seg, depth, e)))
				return rc;
		}
	}
	for (size_t k = 0; k < sizeof(maps) / sizeof(maps[0]); k++) {
		v = json_object_get(sch, maps[k]);
		if (!v)
			continue;
		if (!json_is_object(v))
			return err_set(e, ERR_INVALID, NULL, "%s at %s must be an object", maps[k], where);
		const char *key;
		const json_t *it;
		json_object_foreach((json_t *)v, key, it)
		{
			char seg[160];
			snprintf(seg, sizeof(seg), "%s/%s", maps[k], key);
			if ((rc = walk_child(s, it, where, wlen, seg, depth, e)))
				return rc;
		}
	}
	if ((v = json_object_get(sch, "patternProperties"))) {
		if (!json_is_object(v))
			return err_set(e, ERR_INVALID, NULL, "patternProperties at %s must be an object", where);
		const char *key;
		const json_t *it;
		json_object_foreach((json_t *)v, key, it)
		{
			/* the compiled key is found again through its schema node */
			if ((rc = rx_add(s, it, key, where, e)))
				return rc;
			char seg[160];
			snprintf(seg, sizeof(seg), "patternProperties/%s", key);
			if ((rc = walk_child(s, it, where, wlen, seg, depth, e)))
				return rc;
		}
	}
	if ((v = json_object_get(sch, "dependencies")) && json_is_object(v)) {
		const char *key;
		const json_t *it;
		json_object_foreach((json_t *)v, key, it)
		{
			if (json_is_array(it))
				continue;
			char seg[160];
			snprintf(seg, sizeof(seg), "dependencies/%s", key);
			if ((rc = walk_child(s, it, where, wlen, seg, depth, e)))
				return rc;
		}
	}
	return 0;
}

void jschema_free(struct jschema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nrx; i++) {
		regfree(&s->rx[i].re);
		if (s->rx[i].has_pre)
			regfree(&s->rx[i].pre);
	}
	free(s->rx);
	free(s->slots);
	json_decref(s->root);
	free(s);
}

int jschema_compile(const char *text, size_t len, struct jschema **out, struct err *e)
{
	struct jschema *s = NULL;
	json_error_t je;
	char where[1024] = "#";
	int rc;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!s->root) {
		rc = err_set(e, ERR_INVALID, NULL, "schema is not JSON (line %d: %s)", je.line, je.text);
		goto fail;
	}
	if ((rc = compile_walk(s, s->root, where, sizeof(where), 0, e)))
		goto fail;
	/* index the compiled patterns by node */
	s->nslots = 16;
	while (s->nslots < s->nrx * 2 + 2)
		s->nslots *= 2;
	s->slots = xcalloc(s->nslots, sizeof(size_t));
	for (size_t i = 0; i < s->nrx; i++) {
		size_t h = ptr_hash(s->rx[i].node, s->nslots);
		while (s->slots[h] != 0)
			h = (h + 1) & (s->nslots - 1);
		s->slots[h] = i + 1;
	}
	const json_t *t = json_is_object(s->root) ? json_object_get(s->root, "title") : NULL;
	snprintf(s->title, sizeof(s->title), "%s", json_is_string(t) ? json_string_value(t) : "");
	*out = s;
	return 0;
fail:
	jschema_free(s);
	return rc;
}

const char *jschema_title(const struct jschema *s)
{
	return s ? s->title : "";
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

struct vctx {
	const struct jschema *s;
	struct jschema_report *rep;
	int quiet; /* > 0: inside anyOf/oneOf/not/if: record nothing, stop early */
	char path[JSCHEMA_PATH_MAX];
	size_t plen;
	char text[JSCHEMA_NUMBER_MAX + 2], buf[JSCHEMA_NUMBER_MAX + 2];	  /* instance number */
	char stext[JSCHEMA_NUMBER_MAX + 2], sbuf[JSCHEMA_NUMBER_MAX + 2]; /* schema number */
};

__attribute__((format(printf, 2, 3))) static int fail(struct vctx *c, const char *fmt, ...)
{
	if (c->quiet)
		return 1;
	c->rep->total++;
	if (c->rep->count < JSCHEMA_MAX_ERRORS) {
		struct jschema_error *er = &c->rep->errors[c->rep->count++];
		va_list ap;
		snprintf(er->path, sizeof(er->path), "%s", c->path);
		va_start(ap, fmt);
		vsnprintf(er->message, sizeof(er->message), fmt, ap);
		va_end(ap);
	}
	return 1;
}

/* Push ".name" or "[i]" on the path; returns the old length for path_pop. */
static size_t path_key(struct vctx *c, const char *name)
{
	size_t old = c->plen;
	int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "%s%s", c->plen ? "." : "", name);
	c->plen = (n < 0 || (size_t)n >= sizeof(c->path) - old) ? sizeof(c->path) - 1 : old + (size_t)n;
	return old;
}

static size_t path_index(struct vctx *c, size_t i)
{
	size_t old = c->plen;
	int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "[%zu]", i);
	c->plen = (n < 0 || (size_t)n >= sizeof(c->path) - old) ? sizeof(c->path) - 1 : old + (size_t)n;
	return old;
}

static void path_pop(struct vctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static const char *type_of(const json_t *v)
{
	if (jschema_is_number(v))
		return "number";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	default: return "number";
	}
}

static bool is_integer_value(struct vctx *c, const json_t *v)
{
	struct dec d;
	if (json_is_integer(v))
		return true;
	return num_dec(v, &d, c->text, c->buf) && dec_is_integer(&d);
}

static bool type_matches(struct vctx *c, const char *t, const json_t *v)
{
	if (strcmp(t, "integer") == 0)
		return jschema_is_number(v) && is_integer_value(c, v);
	return strcmp(t, type_of(v)) == 0;
}

/* JSON equality as JSON Schema defines it (numbers by value). */
static bool equal(const json_t *a, const json_t *b)
{
	if (jschema_is_number(a) || jschema_is_number(b)) {
		char t1[JSCHEMA_NUMBER_MAX + 2], b1[JSCHEMA_NUMBER_MAX + 2];
		char t2[JSCHEMA_NUMBER_MAX + 2], b2[JSCHEMA_NUMBER_MAX + 2];
		struct dec x, y;
		if (!jschema_is_number(a) || !jschema_is_number(b))
			return false;
		if (!num_dec(a, &x, t1, b1) || !num_dec(b, &y, t2, b2))
			return false;
		return dec_cmp(&x, &y) == 0;
	}
	if (json_typeof(a) != json_typeof(b))
		return false;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
	case JSON_ARRAY: {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!equal(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *va;
		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach((json_t *)a, k, va)
		{
			const json_t *vb = json_object_get(b, k);
			if (!vb || !equal(va, vb))
				return false;
		}
		return true;
	}
	default: return true; /* true, false, null of the same type */
	}
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

/* ajv-formats "date": YYYY-MM-DD with a real month/day (leap years). */
static bool fmt_date(const char *s, size_t n)
{
	static const int days[] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !(s[i] >= '0' && s[i] <= '9'))
			return false;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	return m >= 1 && m <= 12 && d >= 1 && d <= (m == 2 && leap ? 29 : days[m]);
}

/* ajv-formats "time": HH:MM:SS[.frac](Z|±HH:MM), leap second only at 23:59. */
static bool fmt_time(const char *s, size_t n)
{
	size_t i = 0;
	if (n < 9)
		return false;
	for (size_t k = 0; k < 8; k++)
		if (k == 2 || k == 5 ? s[k] != ':' : !(s[k] >= '0' && s[k] <= '9'))
			return false;
	int hh = (s[0] - '0') * 10 + (s[1] - '0'), mm = (s[3] - '0') * 10 + (s[4] - '0');
	int ss = (s[6] - '0') * 10 + (s[7] - '0');
	i = 8;
	if (i < n && s[i] == '.') {
		i++;
		size_t st = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == st)
			return false;
	}
	int th = 0, tm = 0, sign = 0;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		for (size_t k = 1; k <= 5; k++)
			if (k != 3 && !(s[i + k] >= '0' && s[i + k] <= '9'))
				return false;
		sign = s[i] == '+' ? 1 : -1;
		th = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
		tm = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
		if (th > 23 || tm > 59)
			return false;
		i += 6;
	} else {
		return false;
	}
	if (i != n)
		return false;
	if (hh <= 23 && mm <= 59 && ss <= 59)
		return true;
	/* leap second: 23:59:60 in UTC */
	int utc_min = hh * 60 + mm - sign * (th * 60 + tm);
	utc_min = ((utc_min % 1440) + 1440) % 1440;
	return ss == 60 && utc_min == 23 * 60 + 59;
}

static bool fmt_datetime(const char *s, size_t n)
{
	if (n < 11 || !(s[10] == 'T' || s[10] == 't' || s[10] == ' '))
		return false;
	return fmt_date(s, 10) && fmt_time(s + 11, n - 11);
}

static bool email_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ajv-formats "email" (full): atoms of [a-z0-9!#$%&'*+/=?^_`{|}~-] joined
 * by single dots, '@', then at least two dot-separated labels of
 * alphanumerics and inner hyphens. Case-insensitive. */
static bool fmt_email(const char *s, size_t n)
{
	size_t at = n, i;
	for (i = 0; i < n; i++)
		if (s[i] == '@') {
			at = i;
			break;
		}
	if (at == n || at == 0)
		return false;
	bool prev_dot = true;
	for (i = 0; i < at; i++) {
		if (s[i] == '.') {
			if (prev_dot)
				return false;
			prev_dot = true;
		} else if (email_char(s[i])) {
			prev_dot = false;
		} else {
			return false;
		}
	}
	if (prev_dot)
		return false;
	size_t labels = 0, start = at + 1;
	if (start >= n)
		return false;
	for (i = start; i <= n; i++) {
		if (i == n || s[i] == '.') {
			size_t len = i - start;
			if (len == 0 || !alnum(s[start]) || !alnum(s[i - 1]))
				return false;
			for (size_t k = start; k < i; k++)
				if (!alnum(s[k]) && s[k] != '-')
					return false;
			labels++;
			start = i + 1;
		}
	}
	return labels >= 2;
}

static int validate(struct vctx *c, const json_t *sch, const json_t *v, int depth);

/* Run sch on v quietly: true when valid. */
static bool passes(struct vctx *c, const json_t *sch, const json_t *v, int depth)
{
	c->quiet++;
	int n = validate(c, sch, v, depth);
	c->quiet--;
	return n == 0;
}

#define BAIL(n)                                                                                                        \
	do {                                                                                                           \
		errs += (n);                                                                                           \
		if (errs && c->quiet)                                                                                  \
			return errs;                                                                                   \
	} while (0)

static int check_number(struct vctx *c, const json_t *sch, const json_t *v)
{
	static const struct {
		const char *kw;
		int bad_if; /* cmp(value, limit) result that fails: >0, >=0, <0, <=0 */
		const char *msg;
	} lim[] = {
	    {"maximum", 1, "must be <= %s"},
	    {"exclusiveMaximum", 0, "must be < %s"},
	    {"minimum", -1, "must be >= %s"},
	    {"exclusiveMinimum", 2, "must be > %s"},
	};
	struct dec x, lmt;
	int errs = 0;

	if (!num_dec(v, &x, c->text, c->buf))
		return fail(c, "is not a valid number");
	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		const json_t *l = json_object_get(sch, lim[i].kw);
		if (!l || !jschema_is_number(l) || !num_dec(l, &lmt, c->stext, c->sbuf))
			continue;
		int cmp = dec_cmp(&x, &lmt);
		bool bad = (lim[i].bad_if == 1 && cmp > 0) || (lim[i].bad_if == 0 && cmp >= 0) ||
			   (lim[i].bad_if == -1 && cmp < 0) || (lim[i].bad_if == 2 && cmp <= 0);
		if (bad)
			BAIL(fail(c, lim[i].msg, c->stext));
	}
	const json_t *m = json_object_get(sch, "multipleOf");
	if (m && jschema_is_number(m) && num_dec(m, &lmt, c->stext, c->sbuf) && lmt.sign > 0) {
		bool unsupported;
		if (!dec_multiple(&x, &lmt, &unsupported))
			BAIL(fail(c, unsupported ? "multipleOf %s is too precise to check" : "must be a multiple of %s",
				  c->stext));
	}
	return errs;
}

static int check_string(struct vctx *c, const json_t *sch, const json_t *v)
{
	const char *str = json_string_value(v);
	size_t len = json_string_length(v);
	const json_t *k;
	int errs = 0;

	if ((k = json_object_get(sch, "maxLength")) || (k = json_object_get(sch, "minLength"))) {
		size_t chars = utf8_chars(str, len);
		const json_t *mx = json_object_get(sch, "maxLength"), *mn = json_object_get(sch, "minLength");
		if (json_is_integer(mx) && (json_int_t)chars > json_integer_value(mx))
			BAIL(fail(c, "must NOT have more than %" JSON_INTEGER_FORMAT " characters",
				  json_integer_value(mx)));
		if (json_is_integer(mn) && (json_int_t)chars < json_integer_value(mn))
			BAIL(fail(c, "must NOT have fewer than %" JSON_INTEGER_FORMAT " characters",
				  json_integer_value(mn)));
	}
	if ((k = json_object_get(sch, "pattern")) && json_is_string(k)) {
		const struct rx *r = rx_find(c->s, k);
		if (r && !rx_match(r, str, len))
			BAIL(fail(c, "must match pattern \"%.150s\"", json_string_value(k)));
	}
	if ((k = json_object_get(sch, "format")) && json_is_string(k)) {
		const char *f = json_string_value(k);
		bool ok = true;
		if (strcmp(f, "date") == 0)
			ok = fmt_date(str, len);
		else if (strcmp(f, "time") == 0)
			ok = fmt_time(str, len);
		else if (strcmp(f, "date-time") == 0)
			ok = fmt_datetime(str, len);
		else if (strcmp(f, "email") == 0)
			ok = fmt_email(str, len);
		if (!ok)
			BAIL(fail(c, "must match format \"%s\"", f));
	}
	return errs;
}

static int check_array(struct vctx *c, const json_t *sch, const json_t *v, int depth)
{
	size_t n = json_array_size(v);
	const json_t *k;
	int errs = 0;

	if ((k = json_object_get(sch, "maxItems")) && json_is_integer(k) && (json_int_t)n > json_integer_value(k))
		BAIL(fail(c, "must NOT have more than %" JSON_INTEGER_FORMAT " items", json_integer_value(k)));
	if ((k = json_object_get(sch, "minItems")) && json_is_integer(k) && (json_int_t)n < json_integer_value(k))
		BAIL(fail(c, "must NOT have fewer than %" JSON_INTEGER_FORMAT " items", json_integer_value(k)));
	if ((k = json_object_get(sch, "uniqueItems")) && json_is_true(k)) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (equal(json_array_get(v, i), json_array_get(v, j))) {
					BAIL(fail(c, "must NOT have duplicate items (items %zu and %zu are identical)",
						  i, j));
					i = j = n;
				}
	}
	const json_t *items = json_object_get(sch, "items");
	if (items && json_is_array(items)) {
		size_t ni = json_array_size(items);
		const json_t *addl = json_object_get(sch, "additionalItems");
		for (size_t i = 0; i < n; i++) {
			const json_t *isch = i < ni ? json_array_get(items, i) : addl;
			if (!isch)
				break;
			size_t old = path_index(c, i);
			if (i >= ni && json_is_false(isch)) {
				BAIL(fail(c, "must NOT have more than %zu items", ni));
				path_pop(c, old);
				break;
			}
			int r = validate(c, isch, json_array_get(v, i), depth + 1);
			path_pop(c, old);
			BAIL(r);
		}
	} else if (items) {
		for (size_t i = 0; i < n; i++) {
			size_t old = path_index(c, i);
			int r = validate(c, items, json_array_get(v, i), depth + 1);
			path_pop(c, old);
			BAIL(r);
		}
	}
	if ((k = json_object_get(sch, "contains"))) {
		bool found = false;
		for (size_t i = 0; i < n && !found; i++)
			found = passes(c, k, json_array_get(v, i), depth + 1);
		if (!found)
			BAIL(fail(c, "must contain at least 1 valid item"));
	}
	return errs;
}

static int check_object(struct vctx *c, const json_t *sch, const json_t *v, int depth)
{
	const json_t *k, *props = json_object_get(sch, "properties");
	const json_t *pprops = json_object_get(sch, "patternProperties");
	const json_t *addl = json_object_get(sch, "additionalProperties");
	const char *key;
	json_t *val;
	int errs = 0;

	if ((k = json_object_get(sch, "maxProperties")) && json_is_integer(k) &&
	    (json_int_t)json_object_size(v) > json_integer_value(k))
		BAIL(fail(c, "must NOT have more than %" JSON_INTEGER_FORMAT " properties", json_integer_value(k)));
	if ((k = json_object_get(sch, "minProperties")) && json_is_integer(k) &&
	    (json_int_t)json_object_size(v) < json_integer_value(k))
		BAIL(fail(c, "must NOT have fewer than %" JSON_INTEGER_FORMAT " properties", json_integer_value(k)));
	if ((k = json_object_get(sch, "required")) && json_is_array(k)) {
		size_t i;
		const json_t *name;
		json_array_foreach(k, i, name)
		{
			if (json_is_string(name) && !json_object_get(v, json_string_value(name))) {
				size_t old = path_key(c, json_string_value(name));
				int r = fail(c, "is required");
				path_pop(c, old);
				BAIL(r);
			}
		}
	}
	if ((k = json_object_get(sch, "dependencies")) && json_is_object(k)) {
		const char *dk;
		json_t *dv;
		json_object_foreach((json_t *)k, dk, dv)
		{
			if (!json_object_get(v, dk))
				continue;
			if (json_is_array(dv)) {
				size_t i;
				const json_t *name;
				json_array_foreach(dv, i, name)
				{
					if (json_is_string(name) && !json_object_get(v, json_string_value(name))) {
						size_t old = path_key(c, json_string_value(name));
						int r = fail(c, "is required when \"%.60s\" is present", dk);
						path_pop(c, old);
						BAIL(r);
					}
				}
			} else {
				BAIL(validate(c, dv, v, depth + 1));
			}
		}
	}
	const json_t *pnames = json_object_get(sch, "propertyNames");
	json_object_foreach((json_t *)v, key, val)
	{
		bool known = false;
		size_t old = path_key(c, key);
		if (pnames) {
			json_t *ks = json_string(key);
			bool ok = ks && passes(c, pnames, ks, depth + 1);
			json_decref(ks);
			if (!ok)
				BAIL(fail(c, "property name is not valid"));
		}
		const json_t *psch = json_is_object(props) ? json_object_get(props, key) : NULL;
		if (psch) {
			known = true;
			int r = validate(c, psch, val, depth + 1);
			if (r) {
				path_pop(c, old);
				BAIL(r);
				continue;
			}
		}
		if (json_is_object(pprops)) {
			const char *pk;
			json_t *ps;
			json_object_foreach((json_t *)pprops, pk, ps)
			{
				const struct rx *r = rx_find(c->s, ps);
				if (r && rx_match(r, key, strlen(key))) {
					known = true;
					int n = validate(c, ps, val, depth + 1);
					if (n) {
						path_pop(c, old);
						BAIL(n);
						goto next;
					}
				}
			}
		}
		if (!known && addl) {
			if (json_is_false(addl)) {
				int r = fail(c, "is not allowed (additionalProperties)");
				path_pop(c, old);
				BAIL(r);
				continue;
			}
			if (json_is_object(addl)) {
				int r = validate(c, addl, val, depth + 1);
				path_pop(c, old);
				BAIL(r);
				continue;
			}
		}
		path_pop(c, old);
	next:;
	}
	return errs;
}

static int validate(struct vctx *c, const json_t *sch, const json_t *v, int depth)
{
	const json_t *k;
	int errs = 0;

	if (json_is_true(sch))
		return 0;
	if (json_is_false(sch))
		return fail(c, "no value is allowed here");
	if (!json_is_object(sch))
		return 0;
	if (depth > DEPTH_MAX)
		return fail(c, "document or schema nested too deeply");

	if ((k = json_object_get(sch, "$ref")) && json_is_string(k)) {
		const json_t *target = resolve_ref(c->s->root, json_string_value(k));
		if (!target)
			return fail(c, "unresolvable $ref");
		return validate(c, target, v, depth + 1); /* draft-07: siblings of $ref are ignored */
	}

	if ((k = json_object_get(sch, "type"))) {
		bool ok = false;
		if (json_is_string(k)) {
			ok = type_matches(c, json_string_value(k), v);
		} else if (json_is_array(k)) {
			size_t i;
			const json_t *t;
			json_array_foreach(k, i, t)
			{
				if (json_is_string(t) && type_matches(c, json_string_value(t), v)) {
					ok = true;
					break;
				}
			}
		} else {
			ok = true;
		}
		if (!ok) {
			char want[96] = "";
			if (json_is_string(k)) {
				snprintf(want, sizeof(want), "%s", json_string_value(k));
			} else {
				size_t i, used = 0;
				const json_t *t;
				json_array_foreach(k, i, t)
				{
					int n = snprintf(want + used, sizeof(want) - used, "%s%s", i ? "," : "",
							 json_is_string(t) ? json_string_value(t) : "?");
					if (n < 0 || (size_t)n >= sizeof(want) - used)
						break;
					used += (size_t)n;
				}
			}
			BAIL(fail(c, "must be %s", want));
		}
	}
	if ((k = json_object_get(sch, "const")) && !equal(k, v)) {
		if (c->quiet)
			return errs + 1;
		char *want = jschema_dump_exact(k, JSON_COMPACT);
		errs += fail(c, "must be equal to constant %.120s", want ? want : "?");
		free(want);
	}
	if ((k = json_object_get(sch, "enum")) && json_is_array(k)) {
		bool ok = false;
		size_t i;
		const json_t *opt;
		json_array_foreach(k, i, opt)
		{
			if (equal(opt, v)) {
				ok = true;
				break;
			}
		}
		if (!ok) {
			if (c->quiet)
				return errs + 1;
			char *list = jschema_dump_exact(k, JSON_COMPACT);
			errs += fail(c, "must be equal to one of the allowed values %.150s", list ? list : "");
			free(list);
		}
	}

	if (jschema_is_number(v))
		BAIL(check_number(c, sch, v));
	else if (json_is_string(v))
		BAIL(check_string(c, sch, v));
	else if (json_is_array(v))
		BAIL(check_array(c, sch, v, depth));
	else if (json_is_object(v))
		BAIL(check_object(c, sch, v, depth));

	if ((k = json_object_get(sch, "allOf")) && json_is_array(k)) {
		size_t i;
		const json_t *sub;
		json_array_foreach(k, i, sub) BAIL(validate(c, sub, v, depth + 1));
	}
	if ((k = json_object_get(sch, "anyOf")) && json_is_array(k)) {
		bool ok = false;
		size_t i;
		const json_t *sub;
		json_array_foreach(k, i, sub)
		{
			if (passes(c, sub, v, depth + 1)) {
				ok = true;
				break;
			}
		}
		if (!ok)
			BAIL(fail(c, "must match a schema in anyOf"));
	}
	if ((k = json_object_get(sch, "oneOf")) && json_is_array(k)) {
		size_t i, hits = 0;
		const json_t *sub;
		json_array_foreach(k, i, sub) hits += passes(c, sub, v, depth + 1);
		if (hits != 1)
			BAIL(fail(c, "must match exactly one schema in oneOf (matches %zu)", hits));
	}
	if ((k = json_object_get(sch, "not")) && passes(c, k, v, depth + 1))
		BAIL(fail(c, "must NOT be valid against the \"not\" schema"));
	if ((k = json_object_get(sch, "if"))) {
		const json_t *then = json_object_get(sch, "then"), *els = json_object_get(sch, "else");
		if (then || els) {
			if (passes(c, k, v, depth + 1)) {
				if (then)
					BAIL(validate(c, then, v, depth + 1));
			} else if (els) {
				BAIL(validate(c, els, v, depth + 1));
			}
		}
	}
	return errs;
}

int jschema_validate(const struct jschema *s, const json_t *doc, struct jschema_report *rep, struct err *e)
{
	struct jschema_report local;
	struct vctx *c;
	int rc = 0;

	if (!rep)
		rep = &local;
	rep->count = 0;
	rep->total = 0;
	if (!s || !doc)
		return err_set(e, ERR_INVALID, NULL, "nothing to validate");
	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->rep = rep;
	validate(c, s->root, doc, 0);
	if (rep->total > 0) {
		const struct jschema_error *first = &rep->errors[0];
		rc = err_set(e, ERR_INVALID, first->path[0] ? first->path : NULL, "%s%s%s", first->path,
			     first->path[0] ? ": " : "", first->message);
	}
	free(c);
	return rc;
}

int jschema_validate_text(const struct jschema *s, const char *text, size_t len, struct jschema_report *rep,
			  struct err *e)
{
	json_t *doc = NULL;
	int rc;

	if (rep) {
		rep->count = 0;
		rep->total = 0;
	}
	if ((rc = jschema_parse_exact(text, len, &doc, e))) {
		if (rep) {
			rep->count = rep->total = 1;
			rep->errors[0].path[0] = '\0';
			snprintf(rep->errors[0].message, sizeof(rep->errors[0].message), "%.190s", e->message);
		}
		return rc;
	}
	rc = jschema_validate(s, doc, rep, e);
	json_decref(doc);
	return rc;
}
