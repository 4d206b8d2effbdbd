/*
 * jschema.h - JSON Schema (draft-07) validation for the subset the
 * Ministerio de Hacienda's DTE schemas use (../shared/dte-sv/README.md §3).
 *
 * Keywords: type (also arrays of types), enum, const, required, properties,
 * patternProperties, additionalProperties (false or a schema), pattern,
 * minLength/maxLength (in characters = Unicode code points, as ajv counts),
 * minimum/maximum/exclusiveMinimum/exclusiveMaximum, multipleOf, items (a
 * schema or a tuple) with additionalItems, minItems/maxItems, uniqueItems,
 * contains, minProperties/maxProperties, propertyNames, dependencies, allOf/
 * anyOf/oneOf/not, if/then/else, $ref to "#" and "#/definitions/..." (any
 * JSON pointer in the same document), format "date", "time", "date-time" and
 * "email" (ajv-formats "full" rules). Unknown keywords are ignored (MH's
 * fe-ccf-v3 has a misspelt "exclusiveMonimun": ignored, as ajv does when not
 * strict). Boolean schemas true/false work anywhere a schema may appear.
 *
 * NUMBERS ARE DECIMAL. Every numeric comparison and multipleOf is done on the
 * decimal text of the number, never in binary floating point: 1.15 is a
 * multiple of 0.01 and 1.001 is not. A jansson real has lost its text, so its
 * value is taken as the shortest decimal that reads back as the same double
 * (exact for every number written with at most 15 significant digits). To be
 * exact for ANY literal (MH's "11.8" amounts have up to 19 digits), parse the
 * text with jschema_parse_exact / validate with jschema_validate_text: every
 * number then stays a JSON string holding JSCHEMA_NUMBER_MARK followed by the
 * literal, which this validator (and jschema_fixed/jschema_number_text)
 * treats as that number, and jschema_dump_exact prints back unchanged.
 *
 * PATTERNS are ECMA-262 regular expressions run as POSIX extended regular
 * expressions (regcomp) after translation: \d \w \s and their negations, (?:,
 * escapes, lazy quantifiers (meaningless for a yes/no search), empty
 * alternatives. A leading "^(?!...)" / "^(?=...)" (Normativa 2.0 writes
 * "^(?!.*[\r\n])") becomes a separate check; other look-arounds and back
 * references make jschema_compile fail. MH's quirks are kept, not fixed:
 * "^0[1-9]|1[0-4]$" means (^0[1-9])|(1[0-4]$) here as it does for MH and ajv,
 * and "^(0[1-9]||1[0-4]||99)$" matches "". Matching is by bytes, so "." is one
 * byte of a multi-byte character (no MH pattern uses "." on text).
 *
 * A compiled schema is immutable: share it between threads freely.
 */
#ifndef CL_CORE_JSCHEMA_H
#define CL_CORE_JSCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define JSCHEMA_MAX_ERRORS  64	/* errors kept in a report */
#define JSCHEMA_PATH_MAX    160 /* "cuerpoDocumento[12].tributos[0]" */
#define JSCHEMA_MESSAGE_MAX 200
#define JSCHEMA_NUMBER_MARK "\x01" /* prefix of an exact number kept as a string */
#define JSCHEMA_NUMBER_MAX  400	   /* longest number literal accepted (characters) */

struct jschema;

/* One failed check: path of the offending value ("" for the document root,
 * "identificacion.numeroControl", "cuerpoDocumento[0].cantidad"; for a
 * missing or unexpected property, the path of that property) and an English
 * message ("is required", "must match pattern \"^[0-9]{9}$\""). Values of the
 * document are never copied into messages (they may be personal data); only
 * schema text is. */
struct jschema_error {
	char path[JSCHEMA_PATH_MAX];
	char message[JSCHEMA_MESSAGE_MAX];
};

/* Result of one validation: the first JSCHEMA_MAX_ERRORS errors in document
 * order, and how many were found in all. */
struct jschema_report {
	size_t count; /* errors kept in errors[] */
	size_t total; /* errors found (>= count) */
	struct jschema_error errors[JSCHEMA_MAX_ERRORS];
};

/* Compile a schema from its JSON text (len bytes). Checks that every
 * pattern translates and compiles and every $ref resolves. Owned result
 * (*out), free with jschema_free. Bad JSON or an unsupported construct ->
 * ERR_INVALID with the reason (and the JSON pointer of the keyword). */
int jschema_compile(const char *text, size_t len, struct jschema **out, struct err *e);
void jschema_free(struct jschema *s);

/* The schema's "title" (e.g. "Factura Electronica"), or "". Borrowed. */
const char *jschema_title(const struct jschema *s);

/* Validate doc. Returns 0 when valid; ERR_INVALID when not, with e->field =
 * path and e->message = "<path>: <message>" of the first error, and rep (may
 * be NULL) filled with the errors. rep is reset on entry. */
int jschema_validate(const struct jschema *s, const json_t *doc, struct jschema_report *rep, struct err *e);

/* Parse text exactly (jschema_parse_exact) and validate it. Text that is not
 * JSON -> ERR_INVALID with one report entry at path "" saying so. */
int jschema_validate_text(const struct jschema *s, const char *text, size_t len, struct jschema_report *rep,
			  struct err *e);

/* ---- exact numbers ---- */

/* Parse JSON text (one value; duplicate keys refused) keeping every number
 * as a string JSCHEMA_NUMBER_MARK + literal (e.g. "\x01" "1.15"). Text that
 * is not JSON, a number longer than JSCHEMA_NUMBER_MAX, or a string holding
 * U+0001 -> ERR_INVALID with the position. Owned result (json_decref). */
int jschema_parse_exact(const char *text, size_t len, json_t **out, struct err *e);

/* Serialize like json_dumps(v, flags) but print exact numbers (marked
 * strings) as the number literals they hold. Owned; NULL on failure. */
char *jschema_dump_exact(const json_t *v, size_t flags);

/* True for a JSON number or an exact (marked) number. */
bool jschema_is_number(const json_t *v);

/* Decimal text of a number value into buf: the literal of an exact number,
 * the digits of an integer, the shortest round-trip text of a real. Returns
 * false (buf = "") when v is not a number or buf is too small. */
bool jschema_number_text(const json_t *v, char *buf, size_t size);

/* v as a fixed-point integer with `scale` decimals: 1.15 at scale 2 -> 115,
 * "0.00000001" at scale 8 -> 1. Not a number, more non-zero decimals than
 * scale, or outside int64 -> ERR_INVALID (field NULL). scale 0..18. */
int jschema_fixed(const json_t *v, int scale, int64_t *out, struct err *e);

/* A JSON value for the fixed-point amount `value` with `scale` decimals,
 * printed with exactly `scale` decimals ("35.00", "0.13274336"): an exact
 * (marked) number, so jschema_dump_exact prints it as is. Owned. */
json_t *jschema_fixed_json(int64_t value, int scale);

#endif
