/*
 * handlers.h - every route handler, declared once for the route table.
 *
 * Each is implemented in its module's <m>_http.c (or http/health.c) and has
 * the http_handler_fn signature from http.h.
 */
#ifndef CL_HTTP_HANDLERS_H
#define CL_HTTP_HANDLERS_H

#include "http/http.h"

#define HANDLER(name) int name(struct req_ctx *ctx, struct http_resp *resp, struct err *e)

/* http/health.c */
HANDLER(health_live);
HANDLER(health_ready);
HANDLER(health_metrics);

/* mod/auth/auth_http.c */
HANDLER(auth_http_login);
HANDLER(auth_http_refresh);
HANDLER(auth_http_logout);
HANDLER(auth_http_me);
HANDLER(users_http_list);
HANDLER(users_http_create);
HANDLER(users_http_update);
HANDLER(apikeys_http_list);
HANDLER(apikeys_http_create);
HANDLER(apikeys_http_revoke);

/* mod/tenants/tenants_http.c */
HANDLER(tenants_http_get_current);
HANDLER(tenants_http_update_current);

/* mod/audit/audit_http.c */
HANDLER(audit_http_list);

/* jobs/jobs_http.c */
HANDLER(jobs_http_list);
HANDLER(jobs_http_retry);

/* mod/patients/patients_http.c */
HANDLER(patients_http_list);
HANDLER(patients_http_get);
HANDLER(patients_http_create);
HANDLER(patients_http_update);
HANDLER(patients_http_delete);
HANDLER(patients_http_anonymize);

/* mod/catalog/catalog_http.c */
HANDLER(services_http_list);
HANDLER(services_http_get);
HANDLER(services_http_create);
HANDLER(services_http_update);
HANDLER(services_http_delete);
HANDLER(services_http_price_history);

#endif
