/*
 * ids.h - identifiers: UUIDs and national identity / tax numbers.
 *
 * Check-digit algorithms are those of ../shared/dte-sv/README.md §3.9
 * (El Salvador DUI, NIT, NRC) and §8 (Dominican RNC, cédula), with the
 * test vectors given there in tests/unit/test_ids.c.
 */
#ifndef CL_CORE_IDS_H
#define CL_CORE_IDS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define UUID_LEN 36

/* Random (getrandom) UUID v4, lower-case, into out[37]. */
void uuid_v4(char out[UUID_LEN + 1]);
/* A time-ordered UUID (RFC 9562 version 7: 48 bits of Unix milliseconds,
 * then random bits), lowercase, for row ids: rows created together land in
 * the same index pages instead of random ones (4x fewer pages written per
 * invoice, docs/performance.md). Reveals the creation time; never use it
 * where an id must be unguessable. */
void uuid_v7(char out[UUID_LEN + 1]);
/* Same, upper-case (MH codigoGeneracion). */
void uuid_v4_upper(char out[UUID_LEN + 1]);
/* 8-4-4-4-12 hex, any case. */
bool uuid_valid(const char *s);

enum doc_type { DOC_DUI, DOC_NIT, DOC_NRC, DOC_RNC, DOC_CEDULA, DOC_PASSPORT, DOC_OTHER };

/* "DUI" | "NIT" | "NRC" | "RNC" | "CEDULA" | "PASSPORT" | "OTHER" -> type; -1 unknown. */
int doc_type_parse(const char *name);
const char *doc_type_name(enum doc_type t);

/* Validate a document number of a type and write its canonical form into
 * out (digits only for DUI/NIT/NRC/RNC/CEDULA; upper-case alphanumerics for
 * PASSPORT; trimmed text for OTHER). Accepts the printed forms with hyphens
 * ("02382723-5", "0614-050707-104-8", "123456-7", "1-01-85004-3",
 * "001-1391820-5"). Bad format or check digit -> ERR_INVALID naming field. */
int doc_normalize(enum doc_type type, const char *in, char *out, size_t outlen, const char *field,
		  struct err *e);

/* Individual checks on canonical digit strings. */
bool dui_valid(const char *digits9);      /* 8 digits + check; rejects 000000000 */
bool nit_valid(const char *digits);       /* 14 digits (old/new rule) or a 9-digit DUI */
bool nrc_valid(const char *digits);       /* 1-8 digits */
bool rnc_valid(const char *digits9);      /* weights 7,9,8,6,5,4,3,2 */
bool cedula_valid(const char *digits11);  /* Luhn */

/* Format for humans: DUI "NNNNNNNN-N", NIT "XXXX-XXXXXX-XXX-X", others as is. */
void doc_format(enum doc_type type, const char *canonical, char *out, size_t outlen);

#endif
