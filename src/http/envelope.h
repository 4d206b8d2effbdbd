/*
 * envelope.h - how each contract wraps success and error bodies.
 *
 *   billing, clinic, fiscal, inventory:
 *       {"success":true,"data":...,<extra members>}   ("data" left out when the
 *       handler set only extra members, e.g. {"success":true,"message":...})
 *       {"success":false,"error":{"code","message","details"}}
 *   dashboard (billing-insurance-dashboard-api.md):
 *       the bare payload; errors {"message","code":"BILLING_xxx"}
 *   plain: the handler's raw body; errors as billing.
 *
 * The pipeline calls these and nothing else renders a response body.
 */
#ifndef CL_HTTP_ENVELOPE_H
#define CL_HTTP_ENVELOPE_H

#include <jansson.h>

#include "core/err.h"
#include "http/http.h"

/* Success body: steals resp->data and resp->extra (sets them NULL). Owned result. */
json_t *envelope_success(enum contract c, struct http_resp *resp);
/* Error body from e (code, field, message). Owned result. */
json_t *envelope_error(enum contract c, const struct err *e);
/* HTTP status for e under contract c. */
int envelope_error_status(enum contract c, const struct err *e);

#endif
