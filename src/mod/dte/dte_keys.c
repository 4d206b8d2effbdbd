/*
 * dte_keys.c - load the DTE signing key from PEM files or from MH's
 * <CertificadoMH> certificate file, and sign with it (see dte_keys.h).
 *
 * MH's file is a small XML document; we read it with a strict little
 * scanner (elements, attributes, text, CDATA, comments, the XML
 * declaration and the five predefined entities plus character references;
 * no DTD) that collects the text of the few element paths we need and
 * refuses anything malformed or ambiguous (a wanted element twice).
 */
#include "mod/dte/dte_keys.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "crypto/crypto.h"

struct dte_key {
	struct jws_key *priv;
	struct jws_key *pub;
	enum dte_key_source source;
	char nit[DTE_NIT_MAX + 1];
};

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

/* Read a whole file (<= DTE_KEYS_FILE_MAX) into an owned NUL-terminated
 * buffer. Errors name `field` and never show the content. */
static int read_secret_file(const char *path, const char *field, char **out, size_t *len, bool *others_can_read,
			    struct err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, rc = 0;

	*out = NULL;
	*len = 0;
	*others_can_read = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, ERR_INVALID, field, "%s: cannot open the file", field);
		return err_detail(e, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = err_set(e, ERR_INVALID, field, "%s: not a regular file", field);
		goto out;
	}
	if (st.st_size <= 0 || (unsigned long long)st.st_size > DTE_KEYS_FILE_MAX) {
		rc = err_set(e, ERR_INVALID, field, "%s: empty or larger than %u bytes", field, DTE_KEYS_FILE_MAX);
		goto out;
	}
	*others_can_read = (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
	buf = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (n != (size_t)st.st_size) {
		rc = err_set(e, ERR_INVALID, field, "%s: cannot read the file", field);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	if (buf) {
		mem_wipe(buf, (size_t)st.st_size + 1);
		free(buf);
	}
	close(fd);
	return rc;
}

static void free_secret(char *p, size_t len)
{
	if (p) {
		mem_wipe(p, len);
		free(p);
	}
}

/* ------------------------------------------------------------------ */
/* MH's XML                                                            */
/* ------------------------------------------------------------------ */

#define XML_DEPTH_MAX 16

struct xml_want {
	const char *path[6]; /* element names from the root, NULL-terminated */
	char *text;	     /* owned once found */
	size_t len;
	bool found;
};

struct xml_scan {
	const char *p, *end;
	const char *stack[XML_DEPTH_MAX];
	size_t stack_len[XML_DEPTH_MAX];
	int depth;
	struct xml_want *want;
	size_t nwant;
	int collecting; /* index + 1 of the want whose element is open at this depth */
	int collect_depth;
};

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == ':' || (unsigned char)c >= 0x80;
}

static bool starts(const struct xml_scan *x, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

/* Skip to just after `s`; false when not found. */
static bool skip_past(struct xml_scan *x, const char *s)
{
	size_t n = strlen(s);
	while ((size_t)(x->end - x->p) >= n) {
		if (memcmp(x->p, s, n) == 0) {
			x->p += n;
			return true;
		}
		x->p++;
	}
	return false;
}

static void collect(struct xml_want *w, const char *s, size_t n)
{
	w->text = xrealloc(w->text, w->len + n + 1);
	memcpy(w->text + w->len, s, n);
	w->len += n;
	w->text[w->len] = '\0';
}

/* Append the UTF-8 of a character reference. */
static bool collect_charref(struct xml_want *w, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	collect(w, u, n);
	return true;
}

/* Text up to the next '<': decode entities into the collected want. */
static bool scan_text(struct xml_scan *x)
{
	struct xml_want *w = x->collecting && x->collect_depth == x->depth ? &x->want[x->collecting - 1] : NULL;
	while (x->p < x->end && *x->p != '<') {
		if (*x->p == '&') {
			const char *semi = memchr(x->p, ';', (size_t)(x->end - x->p));
			if (!semi || semi - x->p > 10)
				return false;
			size_t n = (size_t)(semi - x->p - 1);
			const char *ent = x->p + 1;
			char c = 0;
			if (n == 2 && memcmp(ent, "lt", 2) == 0)
				c = '<';
			else if (n == 2 && memcmp(ent, "gt", 2) == 0)
				c = '>';
			else if (n == 3 && memcmp(ent, "amp", 3) == 0)
				c = '&';
			else if (n == 4 && memcmp(ent, "quot", 4) == 0)
				c = '"';
			else if (n == 4 && memcmp(ent, "apos", 4) == 0)
				c = '\'';
			if (c) {
				if (w)
					collect(w, &c, 1);
			} else if (n >= 2 && ent[0] == '#') {
				char num[12];
				char *endp;
				memcpy(num, ent + 1, n - 1);
				num[n - 1] = '\0';
				unsigned long cp =
				    (num[0] == 'x') ? strtoul(num + 1, &endp, 16) : strtoul(num, &endp, 10);
				if (*endp != '\0' || (num[0] == 'x' && num[1] == '\0'))
					return false;
				if (w && !collect_charref(w, cp))
					return false;
			} else {
				return false; /* no DTD, so no other entity exists */
			}
			x->p = semi + 1;
			continue;
		}
		const char *start = x->p;
		while (x->p < x->end && *x->p != '<' && *x->p != '&')
			x->p++;
		if (w)
			collect(w, start, (size_t)(x->p - start));
	}
	return true;
}

static int want_at(struct xml_scan *x)
{
	for (size_t i = 0; i < x->nwant; i++) {
		int d = 0;
		while (x->want[i].path[d])
			d++;
		if (d != x->depth)
			continue;
		bool same = true;
		for (int k = 0; k < d && same; k++)
			same = strlen(x->want[i].path[k]) == x->stack_len[k] &&
			       memcmp(x->want[i].path[k], x->stack[k], x->stack_len[k]) == 0;
		if (same)
			return (int)i + 1;
	}
	return 0;
}

/* Scan the whole document; collect the wanted texts. false = malformed. */
static bool xml_scan_doc(struct xml_scan *x, bool *duplicate)
{
	bool root_seen = false;
	*duplicate = false;
	/* UTF-8 byte order mark */
	if (starts(x, "\xEF\xBB\xBF"))
		x->p += 3;
	while (x->p < x->end) {
		if (*x->p != '<') {
			if (x->depth == 0) {
				/* only whitespace outside the root element */
				if (!isspace((unsigned char)*x->p))
					return false;
				x->p++;
				continue;
			}
			if (!scan_text(x))
				return false;
			continue;
		}
		if (starts(x, "<?")) {
			if (!skip_past(x, "?>"))
				return false;
			continue;
		}
		if (starts(x, "<!--")) {
			if (!skip_past(x, "-->"))
				return false;
			continue;
		}
		if (starts(x, "<![CDATA[")) {
			if (x->depth == 0)
				return false;
			x->p += 9;
			const char *start = x->p;
			if (!skip_past(x, "]]>"))
				return false;
			if (x->collecting && x->collect_depth == x->depth)
				collect(&x->want[x->collecting - 1], start, (size_t)(x->p - 3 - start));
			continue;
		}
		if (starts(x, "<!"))
			return false; /* DOCTYPE and friends: refused */
		if (starts(x, "</")) {
			x->p += 2;
			const char *name = x->p;
			while (x->p < x->end && name_char(*x->p))
				x->p++;
			size_t n = (size_t)(x->p - name);
			while (x->p < x->end && isspace((unsigned char)*x->p))
				x->p++;
			if (x->p >= x->end || *x->p != '>' || x->depth == 0)
				return false;
			x->p++;
			if (n != x->stack_len[x->depth - 1] || memcmp(name, x->stack[x->depth - 1], n) != 0)
				return false;
			if (x->collecting && x->collect_depth == x->depth)
				x->collecting = 0;
			x->depth--;
			continue;
		}
		/* start tag */
		x->p++;
		const char *name = x->p;
		while (x->p < x->end && name_char(*x->p))
			x->p++;
		size_t n = (size_t)(x->p - name);
		if (n == 0)
			return false;
		bool self_close = false;
		for (;;) {
			while (x->p < x->end && isspace((unsigned char)*x->p))
				x->p++;
			if (x->p >= x->end)
				return false;
			if (*x->p == '>') {
				x->p++;
				break;
			}
			if (*x->p == '/' && x->p + 1 < x->end && x->p[1] == '>') {
				x->p += 2;
				self_close = true;
				break;
			}
			/* attribute: name = "value" */
			const char *an = x->p;
			while (x->p < x->end && name_char(*x->p))
				x->p++;
			if (x->p == an)
				return false;
			while (x->p < x->end && isspace((unsigned char)*x->p))
				x->p++;
			if (x->p >= x->end || *x->p != '=')
				return false;
			x->p++;
			while (x->p < x->end && isspace((unsigned char)*x->p))
				x->p++;
			if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
				return false;
			char q = *x->p++;
			const char *close = memchr(x->p, q, (size_t)(x->end - x->p));
			if (!close || memchr(x->p, '<', (size_t)(close - x->p)))
				return false;
			x->p = close + 1;
		}
		if (x->depth == 0) {
			if (root_seen)
				return false; /* two roots */
			root_seen = true;
		}
		if (x->depth >= XML_DEPTH_MAX)
			return false;
		x->stack[x->depth] = name;
		x->stack_len[x->depth] = n;
		x->depth++;
		int w = want_at(x);
		if (w) {
			if (x->want[w - 1].found) {
				*duplicate = true;
				return false;
			}
			x->want[w - 1].found = true;
			if (!x->want[w - 1].text)
				collect(&x->want[w - 1], "", 0);
			x->collecting = w;
			x->collect_depth = x->depth;
		}
		if (self_close) {
			if (x->collecting && x->collect_depth == x->depth)
				x->collecting = 0;
			x->depth--;
		}
	}
	return root_seen && x->depth == 0;
}

/* Is text an XML document whose root element is CertificadoMH? */
static bool looks_like_mh(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end || *p != '<')
			return false;
		if (end - p >= 2 && (p[1] == '?' || p[1] == '!')) {
			const char *close = memchr(p, '>', (size_t)(end - p));
			if (!close)
				return false;
			p = close + 1;
			continue;
		}
		return (size_t)(end - p) > 14 && memcmp(p + 1, "CertificadoMH", 13) == 0 && !name_char(p[14]);
	}
	return false;
}

static char *trim_dup(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* Base64 text of an XML element (whitespace and line breaks allowed,
 * padding optional) -> owned DER. */
static int b64_field(const char *text, unsigned char **der, size_t *der_len, struct err *e)
{
	size_t n = strlen(text), k = 0;
	char *clean = xmalloc(n + 4);
	struct err sub;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)text[i]))
			clean[k++] = text[i];
	while (k % 4 != 0)
		clean[k++] = '=';
	clean[k] = '\0';
	rc = b64_decode(clean, der, der_len, &sub);
	mem_wipe(clean, n + 4);
	free(clean);
	if (rc)
		return err_set(e, ERR_INVALID, "DTE_CERTIFICATE", "DTE_CERTIFICATE: a key is not valid base64");
	return 0;
}

enum { W_NIT, W_ACTIVO, W_PRIV, W_CLAVE, W_PUB, W_COUNT };

static void wants_free(struct xml_want *w)
{
	for (int i = 0; i < W_COUNT; i++)
		free_secret(w[i].text, w[i].len);
}

/* Parse MH's file; fills the wants. */
static int mh_parse(const char *xml, size_t len, struct xml_want *w, struct err *e)
{
	static const char *const paths[W_COUNT][4] = {
	    [W_NIT] = {"CertificadoMH", "nit", NULL},
	    [W_ACTIVO] = {"CertificadoMH", "activo", NULL},
	    [W_PRIV] = {"CertificadoMH", "privateKey", "encodied", NULL},
	    [W_CLAVE] = {"CertificadoMH", "privateKey", "clave", NULL},
	    [W_PUB] = {"CertificadoMH", "publicKey", "encodied", NULL},
	};
	struct xml_scan x;
	bool duplicate;

	memset(w, 0, sizeof(*w) * W_COUNT);
	for (int i = 0; i < W_COUNT; i++)
		for (int k = 0; k < 4; k++)
			w[i].path[k] = paths[i][k];
	if (!looks_like_mh(xml, len))
		return err_set(e, ERR_INVALID, "DTE_CERTIFICATE", "DTE_CERTIFICATE: not an MH certificate file");
	memset(&x, 0, sizeof(x));
	x.p = xml;
	x.end = xml + len;
	x.want = w;
	x.nwant = W_COUNT;
	if (!xml_scan_doc(&x, &duplicate)) {
		wants_free(w);
		return err_set(e, ERR_INVALID, "DTE_CERTIFICATE", "DTE_CERTIFICATE: %s",
			       duplicate ? "a key element appears twice" : "malformed XML");
	}
	return 0;
}

static void nit_copy(const struct xml_want *w, char *nit_out)
{
	nit_out[0] = '\0';
	if (w->text) {
		char *t = trim_dup(w->text);
		if (strlen(t) <= DTE_NIT_MAX) {
			bool digits = true;
			for (const char *c = t; *c; c++)
				digits = digits && isdigit((unsigned char)*c);
			if (digits)
				snprintf(nit_out, DTE_NIT_MAX + 1, "%s", t);
		}
		free(t);
	}
}

static int mh_public(const struct xml_want *w, struct jws_key **out, struct err *e)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	struct err sub;
	int rc;

	*out = NULL;
	if (!w[W_PUB].found)
		return err_set(e, ERR_INVALID, "DTE_CERTIFICATE", "DTE_CERTIFICATE: no publicKey/encodied");
	if ((rc = b64_field(w[W_PUB].text, &der, &der_len, e)))
		return rc;
	rc = jws_key_public_der(der, der_len, out, &sub);
	free(der);
	if (rc)
		return err_set(e, ERR_INVALID, "DTE_CERTIFICATE", "DTE_CERTIFICATE: public key: %s", sub.message);
	return 0;
}

int dte_keys_public_from_text(const char *text, size_t len, struct jws_key **out, char *nit_out, struct err *e)
{
	struct xml_want w[W_COUNT];
	int rc;

	*out = NULL;
	if (nit_out)
		nit_out[0] = '\0';
	if (!text || len == 0)
		return err_set(e, ERR_INVALID, NULL, "empty certificate");
	if (!looks_like_mh(text, len))
		return jws_key_public_pem(text, len, out, e);
	if ((rc = mh_parse(text, len, w, e)))
		return rc;
	rc = mh_public(w, out, e);
	if (!rc && nit_out)
		nit_copy(&w[W_NIT], nit_out);
	wants_free(w);
	return rc;
}

int dte_keys_from_mh(const char *xml, size_t len, const char *password, struct dte_key **out, struct err *e)
{
	struct xml_want w[W_COUNT];
	struct dte_key *k = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char want_hex[JWS_SHA512_HEX_LEN + 1], got_hex[JWS_SHA512_HEX_LEN + 1];
	struct err sub;
	int rc;

	*out = NULL;
	if ((rc = mh_parse(xml, len, w, e)))
		return rc;
	k = xcalloc(1, sizeof(*k));
	k->source = DTE_KEY_MH;
	nit_copy(&w[W_NIT], k->nit);
	if (w[W_ACTIVO].found) {
		char *a = trim_dup(w[W_ACTIVO].text);
		bool inactive = strcmp(a, "false") == 0 || strcmp(a, "0") == 0;
		free(a);
		if (inactive) {
			rc = err_set(e, ERR_INVALID, "DTE_CERTIFICATE",
				     "DTE_CERTIFICATE: the certificate is not active");
			goto out;
		}
	}
	if (!w[W_PRIV].found || !w[W_CLAVE].found) {
		rc = err_set(e, ERR_INVALID, "DTE_CERTIFICATE",
			     "DTE_CERTIFICATE: no privateKey/encodied or privateKey/clave");
		goto out;
	}
	/* the password gate, compared in constant time */
	if (!password || !*password) {
		rc = err_set(e, ERR_INVALID, "DTE_CERT_PASSWORD",
			     "DTE_CERT_PASSWORD is required to open an MH certificate file");
		goto out;
	}
	{
		char *clave = trim_dup(w[W_CLAVE].text);
		size_t n = strlen(clave);
		for (size_t i = 0; i < n; i++)
			clave[i] = (char)tolower((unsigned char)clave[i]);
		snprintf(want_hex, sizeof(want_hex), "%s", n == JWS_SHA512_HEX_LEN ? clave : "");
		free_secret(clave, n);
	}
	jws_sha512_hex(password, strlen(password), got_hex);
	if (strlen(want_hex) != JWS_SHA512_HEX_LEN || !crypto_equal(want_hex, got_hex, JWS_SHA512_HEX_LEN)) {
		rc = err_set(e, ERR_INVALID, "DTE_CERT_PASSWORD", "DTE_CERT_PASSWORD does not open this certificate");
		goto out;
	}
	if ((rc = b64_field(w[W_PRIV].text, &der, &der_len, e)))
		goto out;
	if (jws_key_private_der(der, der_len, &k->priv, &sub) != 0) {
		rc = err_set(e, ERR_INVALID, "DTE_CERTIFICATE", "DTE_CERTIFICATE: private key: %s", sub.message);
		goto out;
	}
	if ((rc = mh_public(w, &k->pub, e)))
		goto out;
	if (!jws_key_match(k->priv, k->pub)) {
		rc = err_set(e, ERR_INVALID, "DTE_CERTIFICATE",
			     "DTE_CERTIFICATE: the public key does not belong to the private key");
		goto out;
	}
	*out = k;
	k = NULL;
out:
	mem_wipe(want_hex, sizeof(want_hex));
	mem_wipe(got_hex, sizeof(got_hex));
	if (der) {
		mem_wipe(der, der_len);
		free(der);
	}
	wants_free(w);
	dte_keys_free(k);
	return rc;
}

int dte_keys_from_pem(const char *key_pem, size_t key_len, const char *cert_pem, size_t cert_len,
		      const char *passphrase, struct dte_key **out, struct err *e)
{
	struct dte_key *k;
	struct err sub;
	int rc = 0;

	*out = NULL;
	k = xcalloc(1, sizeof(*k));
	k->source = DTE_KEY_PEM;
	if (jws_key_private_pem(key_pem, key_len, passphrase, &k->priv, &sub) != 0) {
		rc = err_set(e, ERR_INVALID, "DTE_PRIVATE_KEY", "DTE_PRIVATE_KEY: %s", sub.message);
		goto out;
	}
	if (cert_pem && cert_len > 0) {
		if (jws_key_public_pem(cert_pem, cert_len, &k->pub, &sub) != 0) {
			rc = err_set(e, ERR_INVALID, "DTE_CERTIFICATE", "DTE_CERTIFICATE: %s", sub.message);
			goto out;
		}
		if (!jws_key_match(k->priv, k->pub)) {
			rc = err_set(e, ERR_INVALID, "DTE_CERTIFICATE",
				     "DTE_CERTIFICATE does not belong to DTE_PRIVATE_KEY");
			goto out;
		}
	} else {
		/* no certificate: the public half of the private key */
		char *pem = jws_key_public_pem_text(k->priv);
		rc = pem ? jws_key_public_pem(pem, strlen(pem), &k->pub, &sub) : -1;
		free(pem);
		if (rc) {
			rc = err_set(e, ERR_INTERNAL, "DTE_PRIVATE_KEY", "cannot derive the public key");
			goto out;
		}
	}
	*out = k;
	k = NULL;
out:
	dte_keys_free(k);
	return rc;
}

int dte_keys_load_files(const char *private_key_path, const char *certificate_path, const char *password,
			struct dte_key **out, struct err *e)
{
	char *key = NULL, *cert = NULL;
	size_t key_len = 0, cert_len = 0;
	bool has_key = private_key_path && *private_key_path;
	bool has_cert = certificate_path && *certificate_path;
	bool open_perms = false;
	int rc;

	*out = NULL;
	if (!has_key && !has_cert)
		return err_set(e, ERR_NOT_FOUND, "DTE_PRIVATE_KEY", "no DTE signing key is configured");
	if (has_cert && (rc = read_secret_file(certificate_path, "DTE_CERTIFICATE", &cert, &cert_len, &open_perms, e)))
		goto out;
	if (has_cert && looks_like_mh(cert, cert_len)) {
		if (open_perms) /* MH's file holds the private key in clear */
			log_warn("msg=\"key file is readable by other users; chmod 600 it\" variable=DTE_CERTIFICATE");
		if (has_key) {
			rc = err_set(e, ERR_INVALID, "DTE_PRIVATE_KEY",
				     "DTE_PRIVATE_KEY must be unset when DTE_CERTIFICATE is MH's certificate file");
			goto out;
		}
		rc = dte_keys_from_mh(cert, cert_len, password, out, e);
		goto out;
	}
	if (!has_key) {
		rc = err_set(e, ERR_INVALID, "DTE_PRIVATE_KEY",
			     "DTE_PRIVATE_KEY is required with a PEM DTE_CERTIFICATE");
		goto out;
	}
	if ((rc = read_secret_file(private_key_path, "DTE_PRIVATE_KEY", &key, &key_len, &open_perms, e)))
		goto out;
	if (open_perms)
		log_warn("msg=\"key file is readable by other users; chmod 600 it\" variable=DTE_PRIVATE_KEY");
	rc = dte_keys_from_pem(key, key_len, cert, cert_len, password, out, e);
out:
	free_secret(key, key_len);
	free_secret(cert, cert_len);
	return rc;
}

int dte_keys_load_env(struct dte_key **out, struct err *e)
{
	return dte_keys_load_files(getenv("DTE_PRIVATE_KEY"), getenv("DTE_CERTIFICATE"), getenv("DTE_CERT_PASSWORD"),
				   out, e);
}

int dte_keys_sign(const struct dte_key *k, const char *payload, size_t len, char **jws, struct err *e)
{
	*jws = NULL;
	if (!k)
		return err_set(e, ERR_UNAVAILABLE, NULL, "no DTE signing key is configured");
	return jws_sign_rs512(k->priv, payload, len, jws, e);
}

const struct jws_key *dte_keys_public(const struct dte_key *k)
{
	return k ? k->pub : NULL;
}

char *dte_keys_public_pem(const struct dte_key *k)
{
	return k ? jws_key_public_pem_text(k->pub) : NULL;
}

const char *dte_keys_nit(const struct dte_key *k)
{
	return k ? k->nit : "";
}

enum dte_key_source dte_keys_source(const struct dte_key *k)
{
	return k ? k->source : DTE_KEY_PEM;
}

void dte_keys_free(struct dte_key *k)
{
	if (!k)
		return;
	jws_key_free(k->priv);
	jws_key_free(k->pub);
	mem_wipe(k, sizeof(*k));
	free(k);
}
