/*
 * jsonv.h - strict validation of JSON request bodies against a field table.
 *
 * Every handler that accepts a body declares a static const table of its
 * fields and calls jv_check first. Unknown fields, missing required fields,
 * wrong types and out-of-range values are ERR_INVALID with e->field set to
 * the full path ("lineItems[1].quantity") and a message naming it.
 */
#ifndef CL_CORE_JSONV_H
#define CL_CORE_JSONV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

enum jv_type {
	JV_STRING,   /* string; min/max = length bounds in bytes (max 0 -> 10,000) */
	JV_INT,      /* integer; min/max = value bounds (both 0 -> any int64) */
	JV_DECIMAL,  /* exact decimal as string or number (money_from_json rules); scale in `scale` */
	JV_BOOL,
	JV_DATE,     /* "YYYY-MM-DD", a real date */
	JV_DATETIME, /* ISO-8601 with zone */
	JV_EMAIL,    /* string with one '@', a dot in the domain, no spaces, <= 254 bytes */
	JV_UUID,
	JV_OBJECT,
	JV_ARRAY,    /* min/max = item count bounds (max 0 -> 1,000) */
	JV_ANY,
};

#define JV_REQUIRED 1u /* must be present and not null */
#define JV_NULLABLE 2u /* null accepted (means "clear" on updates) */

struct jv_field {
	const char *name;
	enum jv_type type;
	unsigned flags;
	int64_t min, max;
	const char *const *one_of; /* JV_STRING: allowed values, NULL-terminated; or NULL */
	int scale;                 /* JV_DECIMAL: decimals allowed (e.g. 2 for money); min/max not used */
};

/* Check object `obj` (must be a JSON object) against the table. prefix is
 * prepended to field names in errors ("" or "lineItems[0]."). */
int jv_check(const json_t *obj, const struct jv_field *fields, size_t nfields, const char *prefix,
	     struct err *e);

/* Getters for checked objects: the value, or def / NULL when absent or null. */
const char *jv_str(const json_t *obj, const char *name);
int64_t jv_int(const json_t *obj, const char *name, int64_t def);
bool jv_bool(const json_t *obj, const char *name, bool def);
/* True when the key is present (even if null). */
bool jv_has(const json_t *obj, const char *name);

#endif
