/* err.c - filling struct err and naming error codes. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
	memset(e, 0, sizeof(*e));
}

int err_set(struct err *e, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	e->name[0] = '\0';
	e->detail[0] = '\0';
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return code;
}

int err_detail(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return e->code;
}

int err_name(struct err *e, const char *name)
{
	snprintf(e->name, sizeof(e->name), "%s", name);
	return e->code;
}

static const struct {
	int code;
	int status;
	const char *name;
} err_table[] = {
	{ ERR_INVALID, 400, "VALIDATION_ERROR" },
	{ ERR_UNAUTHORIZED, 401, "UNAUTHORIZED" },
	{ ERR_FORBIDDEN, 403, "FORBIDDEN" },
	{ ERR_NOT_FOUND, 404, "NOT_FOUND" },
	{ ERR_CONFLICT, 409, "CONFLICT" },
	{ ERR_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE" },
	{ ERR_LOCKED, 423, "ACCOUNT_LOCKED" },
	{ ERR_RATE_LIMITED, 429, "RATE_LIMIT_EXCEEDED" },
	{ ERR_UPSTREAM, 502, "UPSTREAM_ERROR" },
	{ ERR_UNAVAILABLE, 503, "SERVICE_UNAVAILABLE" },
	{ ERR_DB, 500, "DATABASE_ERROR" },
	{ ERR_INTERNAL, 500, "INTERNAL_ERROR" },
};

const char *err_code_name(int code)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == code)
			return err_table[i].name;
	return "INTERNAL_ERROR";
}

int err_http_status(int code)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == code)
			return err_table[i].status;
	return 500;
}
