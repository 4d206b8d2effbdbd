/*
 * dte_words.c - an amount in Spanish words for resumen.totalLetras.
 *
 * "DOS MIL DOSCIENTOS SESENTA 17/100 DÓLARES": the whole dollars in words,
 * the cents as NN/100, then the currency. Spanish rules followed: "uno"
 * loses its last letter before a masculine noun, also inside compounds
 * (UN, VEINTIÚN, TREINTA Y UN, CIENTO UN, VEINTIÚN MIL, UN MILLÓN); 100 is
 * CIEN alone and CIENTO before more; 1,000 is MIL (never "UN MIL"); 10^6 is
 * UN MILLÓN, plural MILLONES; 10^9 is MIL MILLONES (the long scale: a
 * "billón" is 10^12, beyond any DTE amount). Upper case with accents
 * (UTF-8), as MH's example writes it.
 */
#include "mod/dte/dte_doc.h"

#include <stdio.h>
#include <string.h>

static const char *const units_word[] = {
    "",		  "UNO",	 "DOS",	       "TRES",	       "CUATRO",      "CINCO",	    "SEIS",
    "SIETE",	  "OCHO",	 "NUEVE",      "DIEZ",	       "ONCE",	      "DOCE",	    "TRECE",
    "CATORCE",	  "QUINCE",	 "DIECISÉIS",  "DIECISIETE",   "DIECIOCHO",   "DIECINUEVE", "VEINTE",
    "VEINTIUNO",  "VEINTIDÓS",	 "VEINTITRÉS", "VEINTICUATRO", "VEINTICINCO", "VEINTISÉIS", "VEINTISIETE",
    "VEINTIOCHO", "VEINTINUEVE",
};

static const char *const tens_word[] = {
    "", "", "", "TREINTA", "CUARENTA", "CINCUENTA", "SESENTA", "SETENTA", "OCHENTA", "NOVENTA",
};

static const char *const hundreds_word[] = {
    "",		  "CIENTO",	 "DOSCIENTOS",	"TRESCIENTOS", "CUATROCIENTOS",
    "QUINIENTOS", "SEISCIENTOS", "SETECIENTOS", "OCHOCIENTOS", "NOVECIENTOS",
};

struct words_buf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void put(struct words_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->overflow || b->len + n + 1 > b->cap) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* A word, with a space before it unless it is the first. */
static void word(struct words_buf *b, const char *s)
{
	if (b->len > 0)
		put(b, " ");
	put(b, s);
}

/* 1..999. apocope: the number stands before a masculine noun (dólares,
 * mil, millones), so a final "uno" becomes "un" (veintiuno -> veintiún). */
static void below_thousand(struct words_buf *b, int n, bool apocope)
{
	int h = n / 100, rest = n % 100;

	if (h > 0)
		word(b, (h == 1 && rest == 0) ? "CIEN" : hundreds_word[h]);
	if (rest == 0)
		return;
	if (rest < 30) {
		if (apocope && rest == 1)
			word(b, "UN");
		else if (apocope && rest == 21)
			word(b, "VEINTIÚN");
		else
			word(b, units_word[rest]);
		return;
	}
	word(b, tens_word[rest / 10]);
	if (rest % 10 != 0) {
		word(b, "Y");
		word(b, (apocope && rest % 10 == 1) ? "UN" : units_word[rest % 10]);
	}
}

/* 1..999,999 (a count of thousands may be up to 999,999 for MIL MILLONES). */
static void below_million(struct words_buf *b, int64_t n, bool apocope)
{
	int thousands = (int)(n / 1000), rest = (int)(n % 1000);

	if (thousands > 0) {
		if (thousands > 1)
			below_thousand(b, thousands, true);
		word(b, "MIL");
	}
	if (rest > 0)
		below_thousand(b, rest, apocope);
}

int dte_amount_words(int64_t cents, char *out, size_t outlen, struct err *e)
{
	struct words_buf b = {out, 0, outlen, false};
	int64_t dollars, millions, rest;
	char frac[24];

	if (cents < 0 || cents >= DTE_RESUMEN_MAX_CENTS)
		return err_set(e, ERR_INVALID, "resumen.totalLetras", "amount out of range for totalLetras");
	if (!out || outlen == 0)
		return err_set(e, ERR_INVALID, "resumen.totalLetras", "no room for totalLetras");
	out[0] = '\0';
	dollars = cents / 100;
	millions = dollars / 1000000;
	rest = dollars % 1000000;

	if (dollars == 0)
		word(&b, "CERO");
	if (millions > 0) {
		if (millions == 1) {
			word(&b, "UN MILLÓN");
		} else {
			below_million(&b, millions, true);
			word(&b, "MILLONES");
		}
	}
	if (rest > 0)
		below_million(&b, rest, true);

	snprintf(frac, sizeof(frac), "%02d/100", (int)(cents % 100));
	word(&b, frac);
	word(&b, cents == 100 ? "DÓLAR" : "DÓLARES");
	if (b.overflow) {
		out[0] = '\0';
		return err_set(e, ERR_INVALID, "resumen.totalLetras", "no room for totalLetras");
	}
	return 0;
}
