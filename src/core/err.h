/*
 * err.h - the one error-handling pattern of clinicledger.
 *
 * Every fallible function returns int: 0 on success or a negative
 * enum err_code, and fills a caller-provided struct err passed last.
 * The message is safe to show a client (never patient data, never SQL);
 * the detail is for the log only. Contracts map the code to an HTTP status
 * and an error code string in one place (src/http/envelope.c).
 */
#ifndef CL_CORE_ERR_H
#define CL_CORE_ERR_H

enum err_code {
	ERR_OK = 0,
	ERR_INVALID = -1,      /* 400 VALIDATION_ERROR: bad input, names the field */
	ERR_UNAUTHORIZED = -2, /* 401 UNAUTHORIZED: no or bad credentials */
	ERR_FORBIDDEN = -3,    /* 403 FORBIDDEN: authenticated, not allowed */
	ERR_NOT_FOUND = -4,    /* 404 NOT_FOUND (also: another tenant's row) */
	ERR_CONFLICT = -5,     /* 409 CONFLICT: duplicate or illegal state transition */
	ERR_TOO_LARGE = -6,    /* 413 PAYLOAD_TOO_LARGE */
	ERR_RATE_LIMITED = -7, /* 429 RATE_LIMIT_EXCEEDED */
	ERR_LOCKED = -8,       /* 423 ACCOUNT_LOCKED: too many failed logins */
	ERR_UNAVAILABLE = -9,  /* 503 SERVICE_UNAVAILABLE: database busy/down, shutting down */
	ERR_UPSTREAM = -10,    /* 502 UPSTREAM_ERROR: an external service failed */
	ERR_DB = -11,          /* 500 DATABASE_ERROR */
	ERR_INTERNAL = -12,    /* 500 INTERNAL_ERROR */
};

struct err {
	int code;          /* enum err_code; 0 when no error */
	char name[40];     /* optional contract code overriding the default, e.g. "INVALID_STATE" */
	char field[64];    /* offending input field ("lineItems[2].quantity"), or "" */
	char message[256]; /* client-safe, English, no patient data */
	char detail[256];  /* log-only detail (driver message, errno text) */
};

/* Reset e to "no error". */
void err_clear(struct err *e);

/* Fill e (code, field may be NULL, printf-style client message) and return code.
 * Typical use: return err_set(e, ERR_INVALID, "email", "email is required"); */
int err_set(struct err *e, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Set the log-only detail of e; returns e->code. */
int err_detail(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set the contract code override (e.g. "INVALID_STATE"); returns e->code. */
int err_name(struct err *e, const char *name);

/* Default contract code string for a code ("VALIDATION_ERROR", ...). Static storage. */
const char *err_code_name(int code);

/* HTTP status for a code (400, 401, ...). */
int err_http_status(int code);

#endif
