/* envelope.c - the contracts' success and error envelopes, in one place. */
#include "http/envelope.h"

#include <string.h>

json_t *envelope_success(enum contract c, struct http_resp *resp)
{
	json_t *body;

	if (c == CONTRACT_DASHBOARD) {
		body = resp->data ? resp->data : json_object();
		resp->data = NULL;
		json_decref(resp->extra);
		resp->extra = NULL;
		return body;
	}
	body = json_object();
	json_object_set_new(body, "success", json_true());
	/* a response made only of top-level members ({"success":true,"message":...},
	 * as the billing-service webhooks answer) carries no "data" */
	if (resp->data || !resp->extra)
		json_object_set_new(body, "data", resp->data ? resp->data : json_null());
	resp->data = NULL;
	if (resp->extra) {
		json_object_update(body, resp->extra);
		json_decref(resp->extra);
		resp->extra = NULL;
	}
	return body;
}

/* Dashboard error codes (billing-insurance-dashboard-api.md). */
static const char *dashboard_code(const struct err *e)
{
	switch (e->code) {
	case ERR_INVALID: return "BILLING_VALIDATION_ERROR";
	case ERR_UNAUTHORIZED: return "BILLING_UNAUTHORIZED";
	case ERR_FORBIDDEN: return "BILLING_FORBIDDEN";
	case ERR_NOT_FOUND: return "BILLING_NOT_FOUND";
	case ERR_CONFLICT: return "BILLING_CONFLICT";
	case ERR_TOO_LARGE: return "BILLING_PAYLOAD_TOO_LARGE";
	case ERR_RATE_LIMITED: return "BILLING_RATE_LIMITED";
	case ERR_UNAVAILABLE: return "BILLING_UNAVAILABLE";
	default: return "BILLING_INTERNAL_ERROR";
	}
}

json_t *envelope_error(enum contract c, const struct err *e)
{
	const char *code = e->name[0] ? e->name : err_code_name(e->code);
	const char *message = e->message[0] ? e->message : "request failed";
	json_t *details = NULL;

	if (c == CONTRACT_DASHBOARD) {
		json_t *body = json_pack("{s:s, s:s}", "message", message, "code",
					 strncmp(code, "BILLING_", 8) == 0 ? code : dashboard_code(e));
		if (e->field[0])
			json_object_set_new(body, "field", json_string(e->field));
		return body;
	}
	if (e->field[0])
		details = json_pack("{s:s}", "field", e->field);
	return json_pack("{s:b, s:{s:s, s:s, s:o*}}", "success", 0, "error", "code", code, "message", message,
			 "details", details);
}

int envelope_error_status(enum contract c, const struct err *e)
{
	(void)c;
	return err_http_status(e->code);
}
