/*
 * ids.c - random UUIDs and national identity / tax number validation.
 *
 * UUIDs come straight from getrandom(2). Document numbers are normalized to
 * their canonical form (digits only for the numeric types) and checked with
 * the published check-digit rules: El Salvador DUI and NIT, Dominican RNC
 * (weighted mod 11) and cédula (Luhn). See ../shared/dte-sv/README.md §3.9, §8.
 */
#include "core/ids.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static void random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "clinicledger: getrandom failed: %s\n", strerror(errno));
			abort();
		}
		got += (size_t)r;
	}
}

static void uuid_write(char out[UUID_LEN + 1], const char *hex)
{
	unsigned char b[16];
	size_t pos = 0;

	random_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[pos++] = '-';
		out[pos++] = hex[b[i] >> 4];
		out[pos++] = hex[b[i] & 0x0f];
	}
	out[pos] = '\0';
}

void uuid_v4(char out[UUID_LEN + 1])
{
	uuid_write(out, "0123456789abcdef");
}

void uuid_v7(char out[UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	struct timespec ts;
	uint64_t ms;
	size_t pos = 0;

	random_bytes(b, sizeof(b));
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x70); /* version 7 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[pos++] = '-';
		out[pos++] = hex[b[i] >> 4];
		out[pos++] = hex[b[i] & 0x0f];
	}
	out[pos] = '\0';
}

void uuid_v4_upper(char out[UUID_LEN + 1])
{
	uuid_write(out, "0123456789ABCDEF");
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool uuid_valid(const char *s)
{
	if (!s)
		return false;
	for (int i = 0; i < UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!is_hex(s[i])) {
			return false;
		}
	}
	return s[UUID_LEN] == '\0';
}

static const char *const doc_names[] = {
    "DUI", "NIT", "NRC", "RNC", "CEDULA", "PASSPORT", "OTHER",
};

int doc_type_parse(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < (int)(sizeof(doc_names) / sizeof(doc_names[0])); i++)
		if (strcmp(doc_names[i], name) == 0)
			return i;
	return -1;
}

const char *doc_type_name(enum doc_type t)
{
	if ((int)t < 0 || (size_t)t >= sizeof(doc_names) / sizeof(doc_names[0]))
		return "OTHER";
	return doc_names[t];
}

/* True when s is exactly n digits. */
static bool all_digits(const char *s, size_t n)
{
	if (!s)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return s[n] == '\0';
}

static bool all_zero(const char *s)
{
	for (; *s; s++)
		if (*s != '0')
			return false;
	return true;
}

bool dui_valid(const char *digits9)
{
	int sum = 0;

	if (!all_digits(digits9, 9) || all_zero(digits9))
		return false;
	for (int i = 0; i < 8; i++)
		sum += (digits9[i] - '0') * (9 - i);
	return (10 - sum % 10) % 10 == digits9[8] - '0';
}

static bool nit14_valid(const char *d)
{
	static const int new_weights[13] = {2, 7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
	int sum = 0, check;

	if (all_zero(d))
		return false;
	if (strncmp(d + 10, "100", 3) <= 0) {
		/* old NIT: weights 14..2, (sum mod 11) mod 10 */
		for (int i = 0; i < 13; i++)
			sum += (d[i] - '0') * (14 - i);
		check = (sum % 11) % 10;
	} else {
		for (int i = 0; i < 13; i++)
			sum += (d[i] - '0') * new_weights[i];
		check = ((11 - sum % 11) % 11) % 10;
	}
	return check == d[13] - '0';
}

bool nit_valid(const char *digits)
{
	if (all_digits(digits, 14))
		return nit14_valid(digits);
	return dui_valid(digits);
}

bool nrc_valid(const char *digits)
{
	size_t n;

	if (!digits)
		return false;
	n = strlen(digits);
	return n >= 1 && n <= 8 && all_digits(digits, n);
}

bool rnc_valid(const char *digits9)
{
	static const int w[8] = {7, 9, 8, 6, 5, 4, 3, 2};
	int sum = 0;

	if (!all_digits(digits9, 9) || all_zero(digits9))
		return false;
	for (int i = 0; i < 8; i++)
		sum += (digits9[i] - '0') * w[i];
	return (10 - sum % 11 + 9) % 9 + 1 == digits9[8] - '0';
}

bool cedula_valid(const char *digits11)
{
	int sum = 0;

	if (!all_digits(digits11, 11) || all_zero(digits11))
		return false;
	/* Luhn: from the right, double every second digit */
	for (int i = 0; i < 11; i++) {
		int d = digits11[10 - i] - '0';
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Trim surrounding white space: start and length of the inner text. */
static const char *trim(const char *in, size_t *len)
{
	size_t n;

	while (is_space(*in))
		in++;
	n = strlen(in);
	while (n > 0 && is_space(in[n - 1]))
		n--;
	*len = n;
	return in;
}

int doc_normalize(enum doc_type type, const char *in, char *out, size_t outlen, const char *field, struct err *e)
{
	const char *name = doc_type_name(type), *s;
	const char *f = field && *field ? field : "document number";
	char buf[64];
	size_t n, len = 0;
	bool ok;

	if (!in)
		return err_set(e, ERR_INVALID, field, "%s is required", f);
	s = trim(in, &n);
	if (n == 0)
		return err_set(e, ERR_INVALID, field, "%s is required", f);

	if (type == DOC_OTHER) {
		if (n > 30)
			return err_set(e, ERR_INVALID, field, "%s must be at most 30 characters", f);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return err_set(e, ERR_INVALID, field, "%s contains a control character", f);
		memcpy(buf, s, n);
		len = n;
		goto done;
	}
	if (type == DOC_PASSPORT) {
		for (size_t i = 0; i < n; i++) {
			if (!is_alnum(s[i]))
				return err_set(e, ERR_INVALID, field, "%s must contain only letters and digits", f);
		}
		if (n < 5 || n > 20)
			return err_set(e, ERR_INVALID, field, "%s must be 5 to 20 letters and digits", f);
		for (size_t i = 0; i < n; i++)
			buf[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
		len = n;
		goto done;
	}
	if ((int)type < 0 || type > DOC_OTHER)
		return err_set(e, ERR_INVALID, field, "%s has an unknown document type", f);

	/* numeric types: digits, with hyphens and spaces of the printed forms */
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-' || s[i] == ' ')
			continue;
		if (!is_digit(s[i]))
			return err_set(e, ERR_INVALID, field, "%s must contain only digits and hyphens", f);
		if (len >= 20)
			return err_set(e, ERR_INVALID, field, "%s has too many digits for a %s", f, name);
		buf[len++] = s[i];
	}
	buf[len] = '\0';
	switch (type) {
	case DOC_DUI:
		if (len != 9)
			return err_set(e, ERR_INVALID, field, "%s must be a DUI of 9 digits (NNNNNNNN-N)", f);
		ok = dui_valid(buf);
		break;
	case DOC_NIT:
		if (len != 14 && len != 9)
			return err_set(e, ERR_INVALID, field, "%s must be a NIT of 14 digits or a DUI of 9 digits", f);
		ok = nit_valid(buf);
		break;
	case DOC_NRC:
		if (len < 1 || len > 8)
			return err_set(e, ERR_INVALID, field, "%s must be an NRC of 1 to 8 digits", f);
		ok = nrc_valid(buf);
		break;
	case DOC_RNC:
		if (len != 9)
			return err_set(e, ERR_INVALID, field, "%s must be an RNC of 9 digits", f);
		ok = rnc_valid(buf);
		break;
	case DOC_CEDULA:
		if (len != 11)
			return err_set(e, ERR_INVALID, field, "%s must be a cedula of 11 digits", f);
		ok = cedula_valid(buf);
		break;
	case DOC_PASSPORT:
	case DOC_OTHER:
	default: ok = false; break;
	}
	if (!ok)
		return err_set(e, ERR_INVALID, field, "%s is not a valid %s (check digit)", f, name);
done:
	if (len + 1 > outlen)
		return err_set(e, ERR_INTERNAL, field, "%s: output buffer too small", f);
	memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}

void doc_format(enum doc_type type, const char *canonical, char *out, size_t outlen)
{
	if (!out || outlen == 0)
		return;
	if (!canonical) {
		out[0] = '\0';
		return;
	}
	if ((type == DOC_DUI || type == DOC_NIT) && all_digits(canonical, 9))
		snprintf(out, outlen, "%.8s-%c", canonical, canonical[8]);
	else if (type == DOC_NIT && all_digits(canonical, 14))
		snprintf(out, outlen, "%.4s-%.6s-%.3s-%c", canonical, canonical + 4, canonical + 10, canonical[13]);
	else
		snprintf(out, outlen, "%s", canonical);
}
