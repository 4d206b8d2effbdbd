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

/* mod/billing/invoices_http.c (billing-service contract) */
HANDLER(invoices_http_create);
HANDLER(invoices_http_list);
HANDLER(invoices_http_statistics);
HANDLER(invoices_http_get);
HANDLER(invoices_http_update);
HANDLER(invoices_http_cancel);
/* mod/billing/webhooks_http.c (payment gateway webhooks, billing-service contract) */
HANDLER(webhooks_http_payment_confirmed);
HANDLER(webhooks_http_payment_failed);

/* mod/billing/orders_http.c (clinic contract) */
HANDLER(orders_http_create);
HANDLER(orders_http_list);
HANDLER(orders_http_get);
HANDLER(orders_http_update);
HANDLER(orders_http_cancel);
HANDLER(patients_http_billing_history);
/* mod/billing/payments_http.c (clinic contract: payments taken at the desk) */
HANDLER(payments_http_create);
HANDLER(payments_http_list);
HANDLER(payments_http_get);
HANDLER(payments_http_refund);

/* mod/stripe/stripe_http.c */
HANDLER(stripe_http_create_intent);
HANDLER(stripe_http_confirm);
HANDLER(stripe_http_connection_token);
HANDLER(stripe_http_config);
HANDLER(stripe_http_webhook);
HANDLER(invoices_http_sync_payment);

/* mod/reports/reports_http.c */
HANDLER(reports_http_revenue);
HANDLER(reports_http_payments);
HANDLER(reports_http_taxes);

/* mod/fiscal: facturas_http.c, receptores_http.c, webhook_endpoints_http.c (fiscal-engine contract) */
HANDLER(facturas_http_create);
HANDLER(facturas_http_get);
HANDLER(facturas_http_list);
HANDLER(receptores_http_upsert);
HANDLER(receptores_http_get);
HANDLER(receptores_http_list);
HANDLER(webhook_endpoints_http_create);
HANDLER(webhook_endpoints_http_list);
HANDLER(webhook_endpoints_http_delete);
HANDLER(webhook_endpoints_http_deliveries);

/* mod/dte/dte_http.c (clinic contract §3: El Salvador DTE) */
HANDLER(dte_http_submit);
HANDLER(dte_http_get);
HANDLER(dte_http_retry);
HANDLER(dte_http_xml);
HANDLER(dte_http_pdf);
HANDLER(dte_http_invalidate);
HANDLER(dte_http_notes);
HANDLER(dte_http_report_status);

#endif
