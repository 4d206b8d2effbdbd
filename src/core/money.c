/*
 * money.c - exact fixed-point decimals and the ISO 4217 currency table.
 *
 * Amounts are int64_t with an explicit scale. Text is parsed digit by digit
 * with overflow checks (never through double), products go through a
 * 128-bit intermediate and are rounded half away from zero. JSON numbers,
 * which jansson holds as double, are accepted only when their shortest
 * 15-significant-digit text round-trips; that text is then parsed exactly.
 */
#include "core/money.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MONEY_MAX_SCALE 18

static const struct currency currencies[] = {
    {"AED", 2, "UAE Dirham"},
    {"ARS", 2, "Argentine Peso"},
    {"AUD", 2, "Australian Dollar"},
    {"BHD", 3, "Bahraini Dinar"},
    {"BOB", 2, "Boliviano"},
    {"BRL", 2, "Brazilian Real"},
    {"BZD", 2, "Belize Dollar"},
    {"CAD", 2, "Canadian Dollar"},
    {"CHF", 2, "Swiss Franc"},
    {"CLP", 0, "Chilean Peso"},
    {"CNY", 2, "Yuan Renminbi"},
    {"COP", 2, "Colombian Peso"},
    {"CRC", 2, "Costa Rican Colon"},
    {"CUP", 2, "Cuban Peso"},
    {"DOP", 2, "Dominican Peso"},
    {"DZD", 2, "Algerian Dinar"},
    {"EGP", 2, "Egyptian Pound"},
    {"ETB", 2, "Ethiopian Birr"},
    {"EUR", 2, "Euro"},
    {"GBP", 2, "Pound Sterling"},
    {"GHS", 2, "Ghana Cedi"},
    {"GTQ", 2, "Quetzal"},
    {"HNL", 2, "Lempira"},
    {"HTG", 2, "Gourde"},
    {"INR", 2, "Indian Rupee"},
    {"IQD", 3, "Iraqi Dinar"},
    {"JOD", 3, "Jordanian Dinar"},
    {"JPY", 0, "Yen"},
    {"KES", 2, "Kenyan Shilling"},
    {"KRW", 0, "Won"},
    {"KWD", 3, "Kuwaiti Dinar"},
    {"LBP", 2, "Lebanese Pound"},
    {"LYD", 3, "Libyan Dinar"},
    {"MAD", 2, "Moroccan Dirham"},
    {"MXN", 2, "Mexican Peso"},
    {"NGN", 2, "Naira"},
    {"NIO", 2, "Cordoba Oro"},
    {"OMR", 3, "Rial Omani"},
    {"PAB", 2, "Balboa"},
    {"PEN", 2, "Sol"},
    {"PYG", 0, "Guarani"},
    {"QAR", 2, "Qatari Rial"},
    {"SAR", 2, "Saudi Riyal"},
    {"SDG", 2, "Sudanese Pound"},
    {"SSP", 2, "South Sudanese Pound"},
    {"TND", 3, "Tunisian Dinar"},
    {"TRY", 2, "Turkish Lira"},
    {"USD", 2, "US Dollar"},
    {"UYU", 2, "Peso Uruguayo"},
    {"VES", 2, "Bolivar Soberano"},
    {"XAF", 0, "CFA Franc BEAC"},
    {"XOF", 0, "CFA Franc BCEAO"},
    {"ZAR", 2, "Rand"},
};

static const uint64_t pow10_u64[MONEY_MAX_SCALE + 1] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
};

const struct currency *currency_find(const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
		if (strcmp(currencies[i].code, code) == 0)
			return &currencies[i];
	return NULL;
}

static const char *fname(const char *field)
{
	return field && *field ? field : "amount";
}

static int scale_ok(int scale)
{
	return scale >= 0 && scale <= MONEY_MAX_SCALE;
}

int money_parse(const char *text, int scale, int64_t *out, const char *field, struct err *e)
{
	const char *p = text;
	bool neg = false;
	uint64_t mag = 0;
	int ndigits = 0, ndec = 0;

	if (!scale_ok(scale))
		return err_set(e, ERR_INTERNAL, field, "invalid scale");
	if (!p || !*p)
		return err_set(e, ERR_INVALID, field, "%s must be a decimal number", fname(field));
	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++, ndigits++) {
		if (mag > (uint64_t)INT64_MAX / 10)
			goto overflow;
		mag = mag * 10 + (uint64_t)(*p - '0');
		if (mag > (uint64_t)INT64_MAX)
			goto overflow;
	}
	if (ndigits == 0)
		return err_set(e, ERR_INVALID, field, "%s must be a decimal number", fname(field));
	if (*p == '.') {
		p++;
		for (; *p >= '0' && *p <= '9'; p++, ndec++) {
			if (ndec >= scale)
				continue; /* counted, rejected below unless invalid text */
			if (mag > (uint64_t)INT64_MAX / 10)
				goto overflow;
			mag = mag * 10 + (uint64_t)(*p - '0');
			if (mag > (uint64_t)INT64_MAX)
				goto overflow;
		}
		if (ndec == 0)
			return err_set(e, ERR_INVALID, field, "%s must be a decimal number", fname(field));
	}
	if (*p != '\0')
		return err_set(e, ERR_INVALID, field, "%s must be a decimal number", fname(field));
	if (ndec > scale) {
		if (scale == 0)
			return err_set(e, ERR_INVALID, field, "%s must be a whole number", fname(field));
		return err_set(e, ERR_INVALID, field, "%s has more than %d decimal%s", fname(field), scale,
			       scale == 1 ? "" : "s");
	}
	for (; ndec < scale; ndec++) {
		if (mag > (uint64_t)INT64_MAX / 10)
			goto overflow;
		mag *= 10;
	}
	*out = neg ? -(int64_t)mag : (int64_t)mag;
	return 0;
overflow:
	return err_set(e, ERR_INVALID, field, "%s is too large", fname(field));
}

/*
 * Rewrite "[-]d[.ddd]e[+-]XX" (printf %g output) as plain decimal text into
 * out. Returns 0, or -1 when the result would not fit (it could not be a
 * valid amount anyway).
 */
static int expand_exponent(const char *in, char *out, size_t outlen)
{
	char digits[40];
	size_t nd = 0, pos = 0;
	int point = -1, exp10;
	const char *p = in;
	char *end;
	long x;

	if (*p == '-')
		out[pos++] = *p++;
	for (; *p && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			point = (int)nd;
			continue;
		}
		if (nd >= sizeof(digits))
			return -1;
		digits[nd++] = *p;
	}
	if (point < 0)
		point = (int)nd;
	if (*p == '\0')
		return -1;
	x = strtol(p + 1, &end, 10);
	if (*end != '\0' || x < -40 || x > 40)
		return -1;
	exp10 = point + (int)x; /* position of the decimal point in digits[] */
	if (exp10 <= 0) {
		if (pos + 2 + (size_t)(-exp10) + nd + 1 > outlen)
			return -1;
		out[pos++] = '0';
		out[pos++] = '.';
		for (int i = 0; i < -exp10; i++)
			out[pos++] = '0';
		for (size_t i = 0; i < nd; i++)
			out[pos++] = digits[i];
	} else {
		if (pos + (size_t)exp10 + 1 + nd + 1 > outlen)
			return -1;
		for (int i = 0; i < exp10; i++)
			out[pos++] = (size_t)i < nd ? digits[i] : '0';
		if ((size_t)exp10 < nd) {
			out[pos++] = '.';
			for (size_t i = (size_t)exp10; i < nd; i++)
				out[pos++] = digits[i];
		}
	}
	out[pos] = '\0';
	return 0;
}

int money_from_json(const json_t *v, int scale, int64_t *out, const char *field, struct err *e)
{
	char text[40], plain[96];
	double d;

	if (!scale_ok(scale))
		return err_set(e, ERR_INTERNAL, field, "invalid scale");
	if (json_is_string(v))
		return money_parse(json_string_value(v), scale, out, field, e);
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		int64_t r;
		if (__builtin_mul_overflow((int64_t)n, (int64_t)pow10_u64[scale], &r))
			return err_set(e, ERR_INVALID, field, "%s is too large", fname(field));
		*out = r;
		return 0;
	}
	if (!json_is_real(v))
		return err_set(e, ERR_INVALID, field, "%s must be a decimal number", fname(field));
	d = json_real_value(v);
	if (!isfinite(d))
		return err_set(e, ERR_INVALID, field, "%s must be a decimal number", fname(field));
	snprintf(text, sizeof(text), "%.15g", d);
	if (strtod(text, NULL) != d)
		return err_set(e, ERR_INVALID, field,
			       "%s has too many digits for a JSON number; send as a decimal string", fname(field));
	if (strchr(text, 'e')) {
		if (expand_exponent(text, plain, sizeof(plain)) != 0)
			return err_set(e, ERR_INVALID, field, "%s is out of range; send as a decimal string",
				       fname(field));
		return money_parse(plain, scale, out, field, e);
	}
	return money_parse(text, scale, out, field, e);
}

char *money_format(int64_t value, int scale, char *buf, size_t len)
{
	uint64_t mag, ip, fp;
	const char *sign = value < 0 ? "-" : "";

	if (!buf || len == 0)
		return buf;
	if (!scale_ok(scale)) {
		buf[0] = '\0';
		return buf;
	}
	mag = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
	ip = mag / pow10_u64[scale];
	fp = mag % pow10_u64[scale];
	if (scale == 0)
		snprintf(buf, len, "%s%llu", sign, (unsigned long long)ip);
	else
		snprintf(buf, len, "%s%llu.%0*llu", sign, (unsigned long long)ip, scale, (unsigned long long)fp);
	return buf;
}

json_t *money_json_string(int64_t value, int scale)
{
	char buf[MONEY_MAX_TEXT];
	return json_string(money_format(value, scale, buf, sizeof(buf)));
}

json_t *money_json_number(int64_t value, int scale)
{
	char buf[MONEY_MAX_TEXT];
	/* strtod of the exact decimal text gives the nearest double, whose
	 * shortest representation is that decimal while it has <= 15 digits. */
	return json_real(strtod(money_format(value, scale, buf, sizeof(buf)), NULL));
}

/* round(n / d) half away from zero, d > 0. */
static __int128 div_round_i128(__int128 n, __int128 d)
{
	__int128 q = n / d, r = n % d;
	if (r < 0)
		r = -r;
	if (r >= d - r)
		q += n < 0 ? -1 : 1;
	return q;
}

int money_mul_round(int64_t a, int64_t b, int div_scale, int64_t *out, struct err *e)
{
	__int128 p, q;

	if (!scale_ok(div_scale))
		return err_set(e, ERR_INTERNAL, NULL, "invalid scale");
	p = (__int128)a * (__int128)b;
	q = div_round_i128(p, (__int128)pow10_u64[div_scale]);
	if (q > INT64_MAX || q < INT64_MIN)
		return err_set(e, ERR_INVALID, NULL, "amount is out of range");
	*out = (int64_t)q;
	return 0;
}

int64_t money_div_round(int64_t a, int64_t b)
{
	__int128 n = a, d = b, q;

	if (b == 0)
		return 0; /* precondition violated; never divide by zero */
	if (d < 0) {
		n = -n;
		d = -d;
	}
	q = div_round_i128(n, d);
	if (q > INT64_MAX)
		return INT64_MAX; /* only INT64_MIN / -1 */
	return (int64_t)q;
}

int money_rescale(int64_t value, int from_scale, int to_scale, int64_t *out, struct err *e)
{
	if (!scale_ok(from_scale) || !scale_ok(to_scale))
		return err_set(e, ERR_INTERNAL, NULL, "invalid scale");
	if (to_scale <= from_scale) {
		*out = (int64_t)div_round_i128(value, (__int128)pow10_u64[from_scale - to_scale]);
		return 0;
	}
	if (__builtin_mul_overflow(value, (int64_t)pow10_u64[to_scale - from_scale], out))
		return err_set(e, ERR_INVALID, NULL, "amount is out of range");
	return 0;
}

int money_add(int64_t a, int64_t b, int64_t *out, struct err *e)
{
	if (__builtin_add_overflow(a, b, out))
		return err_set(e, ERR_INVALID, NULL, "amount is out of range");
	return 0;
}
