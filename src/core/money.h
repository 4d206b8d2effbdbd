/*
 * money.h - exact decimals and currencies. No double arithmetic, ever.
 *
 * An amount is an int64_t in fixed point with an explicit scale (number of
 * decimals): money in a document's currency uses the currency's minor units
 * (USD 2, SDG 2, MAD 2, DOP 2, EUR 2, JPY 0, KWD 3 ...); quantities use
 * scale 3 (QTY_SCALE); percentages scale 4 (PCT_SCALE, "13" -> 130000).
 *
 * Rounding rule (money_mul_round, money_rescale): half away from zero
 * ("half-up" on magnitudes), applied once per computed value. Parsing never
 * rounds: more decimals than the scale allows is ERR_INVALID.
 *
 * JSON numbers: jansson reads numbers as double, so money_from_json accepts a
 * number only when its shortest round-trip text has at most 15 significant
 * digits, and then parses that text exactly; anything else must be a string.
 */
#ifndef CL_CORE_MONEY_H
#define CL_CORE_MONEY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define QTY_SCALE 3
#define PCT_SCALE 4
#define MONEY_MAX_TEXT 32

struct currency {
	const char *code;  /* ISO 4217 alphabetic */
	int minor_units;   /* decimals */
	const char *name;
};

/* Currency by ISO code (case-sensitive, upper-case); NULL when unknown. Static storage. */
const struct currency *currency_find(const char *code);

/* Parse an optionally signed decimal ("12", "-0.5", "35.00") into fixed
 * point with `scale` decimals. Rejects empty text, exponents, spaces, more
 * than `scale` decimals and overflow with ERR_INVALID naming `field`. */
int money_parse(const char *text, int scale, int64_t *out, const char *field, struct err *e);

/* Same from a JSON string or number (see header note). */
int money_from_json(const json_t *v, int scale, int64_t *out, const char *field, struct err *e);

/* Write value as a decimal with exactly `scale` decimals ("1234.50",
 * "-0.05"). buf needs MONEY_MAX_TEXT bytes. Returns buf. */
char *money_format(int64_t value, int scale, char *buf, size_t len);

/* New JSON string "1234.50" (owned). */
json_t *money_json_string(int64_t value, int scale);
/* New JSON real whose shortest text is the exact decimal (owned), for
 * contracts that show numbers (230.00 -> 230.0). Exact below 10^13 at scale 2. */
json_t *money_json_number(int64_t value, int scale);

/* round(a * b / 10^div_scale) half away from zero, with 128-bit
 * intermediate. Overflow of the int64 result -> ERR_INVALID. */
int money_mul_round(int64_t a, int64_t b, int div_scale, int64_t *out, struct err *e);
/* round(a / b) half away from zero; b != 0. */
int64_t money_div_round(int64_t a, int64_t b);
/* Change scale (down: rounds half away from zero; up: exact, overflow -> ERR_INVALID). */
int money_rescale(int64_t value, int from_scale, int to_scale, int64_t *out, struct err *e);
/* Checked addition; overflow -> ERR_INVALID. */
int money_add(int64_t a, int64_t b, int64_t *out, struct err *e);

#endif
