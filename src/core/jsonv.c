/*
 * jsonv.c - strict validation of JSON request bodies against field tables.
 *
 * jv_check rejects, in this order, a non-object body, keys the table does not
 * name, then each table field in table order: missing required fields, nulls
 * where not allowed, wrong JSON types and out-of-range values. The first
 * problem found is reported with the full field path in e->field. Decimals
 * are validated with money_from_json (never converted through double).
 */
#include "core/jsonv.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "core/money.h"
#include "core/timeutil.h"

#define JV_STRING_MAX_DEFAULT 10000
#define JV_ARRAY_MAX_DEFAULT  1000
#define JV_EMAIL_MAX	      254

static bool is_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\v' && *s != '\f')
			return false;
	return true;
}

static bool email_ok(const char *s, size_t len)
{
	const char *at = NULL, *dot = NULL;

	if (len == 0 || len > JV_EMAIL_MAX)
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c == 0x7f)
			return false;
		if (c == '@') {
			if (at)
				return false;
			at = p;
		}
	}
	if (!at || at == s || at[1] == '\0')
		return false;
	dot = strrchr(at + 1, '.');
	if (!dot || dot == at + 1 || dot[1] == '\0')
		return false;
	if (at[1] == '.' || strstr(at + 1, ".."))
		return false;
	return true;
}

static int check_one_of(const json_t *v, const struct jv_field *f, const char *path, struct err *e)
{
	const char *s = json_string_value(v);
	char list[200];
	size_t pos = 0;

	for (const char *const *o = f->one_of; *o; o++)
		if (strcmp(*o, s) == 0)
			return 0;
	list[0] = '\0';
	for (const char *const *o = f->one_of; *o; o++) {
		int w = snprintf(list + pos, sizeof(list) - pos, "%s%s", o == f->one_of ? "" : ", ", *o);
		if (w < 0 || (size_t)w >= sizeof(list) - pos) {
			/* keep the message bounded: end with an ellipsis */
			snprintf(list + (sizeof(list) > 5 ? sizeof(list) - 5 : 0), 5, "...");
			break;
		}
		pos += (size_t)w;
	}
	return err_set(e, ERR_INVALID, path, "%s must be one of: %s", path, list);
}

static int check_string(const json_t *v, const struct jv_field *f, const char *path, struct err *e)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	int64_t max = f->max > 0 ? f->max : JV_STRING_MAX_DEFAULT;

	if ((f->flags & JV_REQUIRED) && is_blank(s))
		return err_set(e, ERR_INVALID, path, "%s is required", path);
	if (f->min > 0 && (int64_t)len < f->min)
		return err_set(e, ERR_INVALID, path, "%s must be at least %" PRId64 " bytes long", path, f->min);
	if ((int64_t)len > max)
		return err_set(e, ERR_INVALID, path, "%s must be at most %" PRId64 " bytes long", path, max);
	if (f->one_of)
		return check_one_of(v, f, path, e);
	return 0;
}

static int check_value(const json_t *v, const struct jv_field *f, const char *path, struct err *e)
{
	int64_t tmp;

	/* jansson can be told to accept \u0000; C string checks would then see
	 * only a prefix of the value */
	if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
		return err_set(e, ERR_INVALID, path, "%s must not contain NUL characters", path);
	switch (f->type) {
	case JV_STRING:
		if (!json_is_string(v))
			return err_set(e, ERR_INVALID, path, "%s must be a string", path);
		return check_string(v, f, path, e);
	case JV_INT:
		if (!json_is_integer(v))
			return err_set(e, ERR_INVALID, path, "%s must be an integer", path);
		tmp = json_integer_value(v);
		if (f->min != 0 || f->max != 0) {
			if (tmp < f->min)
				return err_set(e, ERR_INVALID, path, "%s must be at least %" PRId64, path, f->min);
			if (f->max >= f->min && tmp > f->max) /* max < min: no upper bound */
				return err_set(e, ERR_INVALID, path, "%s must be at most %" PRId64, path, f->max);
		}
		return 0;
	case JV_DECIMAL:
		if (!json_is_string(v) && !json_is_number(v))
			return err_set(e, ERR_INVALID, path, "%s must be a decimal number", path);
		return money_from_json(v, f->scale, &tmp, path, e);
	case JV_BOOL:
		if (!json_is_boolean(v))
			return err_set(e, ERR_INVALID, path, "%s must be a boolean", path);
		return 0;
	case JV_DATE:
		if (!json_is_string(v) || !date_valid(json_string_value(v)))
			return err_set(e, ERR_INVALID, path, "%s must be a date (YYYY-MM-DD)", path);
		return 0;
	case JV_DATETIME: {
		struct err ignored;
		const char *s = json_string_value(v);
		if (!json_is_string(v) || strlen(s) <= DATE_LEN || time_parse_iso(s, &tmp, path, &ignored) != 0)
			return err_set(e, ERR_INVALID, path, "%s must be a date-time (YYYY-MM-DDTHH:MM:SSZ)", path);
		return 0;
	}
	case JV_EMAIL:
		if (!json_is_string(v) || !email_ok(json_string_value(v), json_string_length(v)))
			return err_set(e, ERR_INVALID, path, "%s must be an email address", path);
		return 0;
	case JV_UUID:
		if (!json_is_string(v) || !uuid_valid(json_string_value(v)))
			return err_set(e, ERR_INVALID, path, "%s must be a UUID", path);
		return 0;
	case JV_OBJECT:
		if (!json_is_object(v))
			return err_set(e, ERR_INVALID, path, "%s must be an object", path);
		return 0;
	case JV_ARRAY: {
		int64_t max = f->max > 0 ? f->max : JV_ARRAY_MAX_DEFAULT;
		int64_t n;
		if (!json_is_array(v))
			return err_set(e, ERR_INVALID, path, "%s must be an array", path);
		n = (int64_t)json_array_size(v);
		if (f->min > 0 && n < f->min)
			return err_set(e, ERR_INVALID, path, "%s must have at least %" PRId64 " item%s", path, f->min,
				       f->min == 1 ? "" : "s");
		if (n > max)
			return err_set(e, ERR_INVALID, path, "%s must have at most %" PRId64 " item%s", path, max,
				       max == 1 ? "" : "s");
		return 0;
	}
	case JV_ANY: return 0;
	}
	return err_set(e, ERR_INTERNAL, path, "%s has an unknown validation type", path);
}

int jv_check(const json_t *obj, const struct jv_field *fields, size_t nfields, const char *prefix, struct err *e)
{
	char path[160];
	const char *key;
	json_t *v;
	size_t plen;

	if (!prefix)
		prefix = "";
	plen = strlen(prefix);
	if (!json_is_object(obj)) {
		if (plen == 0)
			return err_set(e, ERR_INVALID, NULL, "request body must be a JSON object");
		/* "lineItems[0]." -> "lineItems[0]" */
		snprintf(path, sizeof(path), "%.*s", (int)(prefix[plen - 1] == '.' ? plen - 1 : plen), prefix);
		return err_set(e, ERR_INVALID, path, "%s must be an object", path);
	}
	json_object_foreach((json_t *)obj, key, v)
	{
		size_t i;
		for (i = 0; i < nfields; i++)
			if (strcmp(fields[i].name, key) == 0)
				break;
		if (i == nfields) {
			snprintf(path, sizeof(path), "%s%s", prefix, key);
			return err_set(e, ERR_INVALID, path, "unknown field '%s'", path);
		}
	}
	for (size_t i = 0; i < nfields; i++) {
		const struct jv_field *f = &fields[i];
		int rc;

		snprintf(path, sizeof(path), "%s%s", prefix, f->name);
		v = json_object_get(obj, f->name);
		if (!v) {
			if (f->flags & JV_REQUIRED)
				return err_set(e, ERR_INVALID, path, "%s is required", path);
			continue;
		}
		if (json_is_null(v)) {
			if (f->flags & JV_NULLABLE)
				continue;
			if (f->flags & JV_REQUIRED)
				return err_set(e, ERR_INVALID, path, "%s is required", path);
			return err_set(e, ERR_INVALID, path, "%s must not be null", path);
		}
		rc = check_value(v, f, path, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

const char *jv_str(const json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

int64_t jv_int(const json_t *obj, const char *name, int64_t def)
{
	const json_t *v = json_object_get(obj, name);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

bool jv_bool(const json_t *obj, const char *name, bool def)
{
	const json_t *v = json_object_get(obj, name);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

bool jv_has(const json_t *obj, const char *name)
{
	return json_object_get(obj, name) != NULL;
}
