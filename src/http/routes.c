/*
 * routes.c - THE route table: every endpoint the server answers.
 *
 * One line per route: method, path (Ulfius ":var" syntax), handler,
 * permission (PERM_NONE = any authenticated caller, or public with
 * ROUTE_PUBLIC), contract (decides the envelope), body cap (0 = server
 * default) and flags. docs/api/openapi.yaml documents every line; a test
 * (test_every_route_is_documented in tests/unit/test_http.c) fails when one
 * is missing there.
 */
#include "http/handlers.h"

#define KiB(n) ((size_t)(n) << 10)

const struct route routes[] = {
	/* health and monitoring (billing-service contract, bare bodies) */
	{ "GET", "/health", health_live, PERM_NONE, CONTRACT_PLAIN, 0, ROUTE_PUBLIC | ROUTE_NO_RATELIMIT },
	{ "GET", "/health/ready", health_ready, PERM_NONE, CONTRACT_PLAIN, 0, ROUTE_PUBLIC | ROUTE_NO_RATELIMIT },
	{ "GET", "/metrics", health_metrics, PERM_NONE, CONTRACT_PLAIN, 0, ROUTE_PUBLIC | ROUTE_NO_RATELIMIT },

	/* identity and access */
	{ "POST", "/api/v1/auth/login", auth_http_login, PERM_NONE, CONTRACT_BILLING, KiB(4), ROUTE_PUBLIC },
	{ "POST", "/api/v1/auth/refresh", auth_http_refresh, PERM_NONE, CONTRACT_BILLING, KiB(4), ROUTE_PUBLIC },
	{ "POST", "/api/v1/auth/logout", auth_http_logout, PERM_NONE, CONTRACT_BILLING, KiB(4), ROUTE_USER_ONLY },
	{ "GET", "/api/v1/auth/me", auth_http_me, PERM_NONE, CONTRACT_BILLING, 0, 0 },
	{ "GET", "/api/v1/users", users_http_list, PERM_ADMIN_USERS, CONTRACT_BILLING, 0, 0 },
	{ "POST", "/api/v1/users", users_http_create, PERM_ADMIN_USERS, CONTRACT_BILLING, KiB(8), ROUTE_IDEMPOTENT },
	{ "PUT", "/api/v1/users/:id", users_http_update, PERM_ADMIN_USERS, CONTRACT_BILLING, KiB(8), 0 },
	{ "GET", "/api/v1/api-keys", apikeys_http_list, PERM_ADMIN_APIKEYS, CONTRACT_BILLING, 0, 0 },
	{ "POST", "/api/v1/api-keys", apikeys_http_create, PERM_ADMIN_APIKEYS, CONTRACT_BILLING, KiB(8), ROUTE_USER_ONLY },
	{ "DELETE", "/api/v1/api-keys/:id", apikeys_http_revoke, PERM_ADMIN_APIKEYS, CONTRACT_BILLING, KiB(4), 0 },
	{ "GET", "/api/v1/tenant", tenants_http_get_current, PERM_NONE, CONTRACT_BILLING, 0, 0 },
	{ "PUT", "/api/v1/tenant", tenants_http_update_current, PERM_ADMIN_TENANT, CONTRACT_BILLING, KiB(16), 0 },

	/* audit trail and jobs (clinic contract envelope) */
	{ "GET", "/api/audit-logs", audit_http_list, PERM_AUDIT_READ, CONTRACT_CLINIC, 0, 0 },
	{ "GET", "/api/jobs", jobs_http_list, PERM_ADMIN_JOBS, CONTRACT_CLINIC, 0, 0 },
	{ "POST", "/api/jobs/:id/retry", jobs_http_retry, PERM_ADMIN_JOBS, CONTRACT_CLINIC, KiB(4), 0 },

	/* patients (clinic-billing-backend §4) */
	{ "GET", "/api/patients", patients_http_list, PERM_PATIENTS_READ, CONTRACT_CLINIC, 0, 0 },
	{ "POST", "/api/patients", patients_http_create, PERM_PATIENTS_CREATE, CONTRACT_CLINIC, KiB(64), ROUTE_IDEMPOTENT },
	{ "GET", "/api/patients/:id", patients_http_get, PERM_PATIENTS_READ, CONTRACT_CLINIC, 0, 0 },
	{ "PUT", "/api/patients/:id", patients_http_update, PERM_PATIENTS_UPDATE, CONTRACT_CLINIC, KiB(64), 0 },
	{ "DELETE", "/api/patients/:id", patients_http_delete, PERM_PATIENTS_DELETE, CONTRACT_CLINIC, KiB(4), 0 },
	{ "POST", "/api/patients/:id/anonymize", patients_http_anonymize, PERM_PATIENTS_DELETE, CONTRACT_CLINIC, KiB(4), 0 },

	/* service catalog (clinic-billing-backend §5) */
	{ "GET", "/api/services", services_http_list, PERM_SERVICES_READ, CONTRACT_CLINIC, 0, 0 },
	{ "POST", "/api/services", services_http_create, PERM_SERVICES_CREATE, CONTRACT_CLINIC, KiB(16), ROUTE_IDEMPOTENT },
	{ "GET", "/api/services/:id", services_http_get, PERM_SERVICES_READ, CONTRACT_CLINIC, 0, 0 },
	{ "PUT", "/api/services/:id", services_http_update, PERM_SERVICES_UPDATE, CONTRACT_CLINIC, KiB(16), 0 },
	{ "DELETE", "/api/services/:id", services_http_delete, PERM_SERVICES_DELETE, CONTRACT_CLINIC, KiB(4), 0 },
	{ "GET", "/api/services/:id/price-history", services_http_price_history, PERM_SERVICES_READ, CONTRACT_CLINIC, 0, 0 },

	/* reports (clinic contract §7): JSON, or CSV with ?format=csv */
	{ "GET", "/api/reports/revenue", reports_http_revenue, PERM_REPORTS_READ, CONTRACT_CLINIC, 0, 0 },
	{ "GET", "/api/reports/payments", reports_http_payments, PERM_REPORTS_READ, CONTRACT_CLINIC, 0, 0 },
	{ "GET", "/api/reports/taxes", reports_http_taxes, PERM_REPORTS_READ, CONTRACT_CLINIC, 0, 0 },
	/* billing documents: the billing-service contract (invoices) */
	{ "POST", "/api/v1/invoices", invoices_http_create, PERM_BILLING_CREATE, CONTRACT_BILLING, KiB(256), ROUTE_IDEMPOTENT },
	{ "GET", "/api/v1/invoices", invoices_http_list, PERM_BILLING_READ, CONTRACT_BILLING, 0, 0 },
	{ "GET", "/api/v1/invoices/statistics", invoices_http_statistics, PERM_BILLING_READ, CONTRACT_BILLING, 0, 0 },
	{ "GET", "/api/v1/invoices/:id", invoices_http_get, PERM_BILLING_READ, CONTRACT_BILLING, 0, 0 },
	{ "PUT", "/api/v1/invoices/:id", invoices_http_update, PERM_BILLING_UPDATE, CONTRACT_BILLING, KiB(16), 0 },
	{ "DELETE", "/api/v1/invoices/:id", invoices_http_cancel, PERM_BILLING_DELETE, CONTRACT_BILLING, KiB(4), 0 },
	/* payment gateway webhooks: public, authenticated by their HMAC signature */
	{ "POST", "/api/v1/webhooks/payment-confirmed", webhooks_http_payment_confirmed, PERM_NONE, CONTRACT_BILLING, KiB(16), ROUTE_PUBLIC },
	{ "POST", "/api/v1/webhooks/payment-failed", webhooks_http_payment_failed, PERM_NONE, CONTRACT_BILLING, KiB(16), ROUTE_PUBLIC },
	{ "POST", "/api/v1/invoices/:id/sync-payment", invoices_http_sync_payment, PERM_BILLING_UPDATE, CONTRACT_BILLING, KiB(4), 0 },
	{ "POST", "/api/payments/stripe/create-intent", stripe_http_create_intent, PERM_PAYMENTS_CREATE, CONTRACT_CLINIC, KiB(8), ROUTE_IDEMPOTENT },
	{ "POST", "/api/payments/stripe/confirm", stripe_http_confirm, PERM_PAYMENTS_CREATE, CONTRACT_CLINIC, KiB(8), 0 },
	{ "POST", "/api/stripe/connection-token", stripe_http_connection_token, PERM_PAYMENTS_CREATE, CONTRACT_CLINIC, KiB(4), 0 },
	{ "GET", "/api/stripe/config", stripe_http_config, PERM_NONE, CONTRACT_CLINIC, 0, 0 },
	{ "POST", "/api/stripe/webhook", stripe_http_webhook, PERM_NONE, CONTRACT_CLINIC, KiB(512), ROUTE_PUBLIC | ROUTE_NO_RATELIMIT },
	/* billing documents: the clinic contract (orders) */
	{ "POST", "/api/orders", orders_http_create, PERM_ORDERS_CREATE, CONTRACT_CLINIC, KiB(256), ROUTE_IDEMPOTENT },
	{ "GET", "/api/orders", orders_http_list, PERM_ORDERS_READ, CONTRACT_CLINIC, 0, 0 },
	{ "GET", "/api/orders/:id", orders_http_get, PERM_ORDERS_READ, CONTRACT_CLINIC, 0, 0 },
	{ "PUT", "/api/orders/:id", orders_http_update, PERM_ORDERS_UPDATE, CONTRACT_CLINIC, KiB(64), 0 },
	{ "DELETE", "/api/orders/:id", orders_http_cancel, PERM_ORDERS_DELETE, CONTRACT_CLINIC, KiB(4), 0 },
	{ "GET", "/api/patients/:id/billing-history", patients_http_billing_history, PERM_BILLING_READ, CONTRACT_CLINIC, 0, 0 },
	/* payments */
	{ "POST", "/api/payments", payments_http_create, PERM_PAYMENTS_CREATE, CONTRACT_CLINIC, KiB(16), ROUTE_IDEMPOTENT },
	{ "GET", "/api/payments", payments_http_list, PERM_PAYMENTS_READ, CONTRACT_CLINIC, 0, 0 },
	{ "GET", "/api/payments/:id", payments_http_get, PERM_PAYMENTS_READ, CONTRACT_CLINIC, 0, 0 },
	{ "POST", "/api/payments/:id/refund", payments_http_refund, PERM_PAYMENTS_REFUND, CONTRACT_CLINIC, KiB(8), ROUTE_IDEMPOTENT },
	/* fiscal-engine contract (fiscal-engine-integration.md): receptores, outgoing webhooks, facturas */
	{ "POST", "/api/receptores", receptores_http_upsert, PERM_BILLING_CREATE, CONTRACT_FISCAL, KiB(16), ROUTE_IDEMPOTENT },
	{ "GET", "/api/receptores", receptores_http_list, PERM_BILLING_READ, CONTRACT_FISCAL, 0, 0 },
	{ "GET", "/api/receptores/:id", receptores_http_get, PERM_BILLING_READ, CONTRACT_FISCAL, 0, 0 },
	{ "POST", "/api/webhooks/endpoints", webhook_endpoints_http_create, PERM_ADMIN_TENANT, CONTRACT_FISCAL, KiB(8), 0 },
	{ "GET", "/api/webhooks/endpoints", webhook_endpoints_http_list, PERM_ADMIN_TENANT, CONTRACT_FISCAL, 0, 0 },
	{ "DELETE", "/api/webhooks/endpoints/:id", webhook_endpoints_http_delete, PERM_ADMIN_TENANT, CONTRACT_FISCAL, KiB(4), 0 },
	{ "GET", "/api/webhooks/endpoints/:id/deliveries", webhook_endpoints_http_deliveries, PERM_ADMIN_TENANT, CONTRACT_FISCAL, 0, 0 },
	{ "POST", "/api/facturas", facturas_http_create, PERM_BILLING_CREATE, CONTRACT_FISCAL, KiB(256), ROUTE_IDEMPOTENT },
	{ "GET", "/api/facturas", facturas_http_list, PERM_BILLING_READ, CONTRACT_FISCAL, 0, 0 },
	{ "GET", "/api/facturas/:id", facturas_http_get, PERM_BILLING_READ, CONTRACT_FISCAL, 0, 0 },
	/* El Salvador DTE (clinic contract §3; docs/dte-flow.md) */
	{ "POST", "/api/dte/submit", dte_http_submit, PERM_DTE_SUBMIT, CONTRACT_CLINIC, KiB(4), 0 },
	{ "POST", "/api/dte/retry", dte_http_retry, PERM_DTE_SUBMIT, CONTRACT_CLINIC, KiB(4), 0 },
	{ "POST", "/api/dte/invalidate", dte_http_invalidate, PERM_DTE_INVALIDATE, CONTRACT_CLINIC, KiB(8), 0 },
	{ "POST", "/api/dte/notes", dte_http_notes, PERM_DTE_SUBMIT, CONTRACT_CLINIC, KiB(256), ROUTE_IDEMPOTENT },
	{ "GET", "/api/dte/xml/:uuid", dte_http_xml, PERM_DTE_READ, CONTRACT_CLINIC, 0, 0 },
	{ "GET", "/api/dte/pdf/:uuid", dte_http_pdf, PERM_DTE_READ, CONTRACT_CLINIC, 0, 0 },
	{ "GET", "/api/dte/:orderId", dte_http_get, PERM_DTE_READ, CONTRACT_CLINIC, 0, 0 },
	{ "GET", "/api/reports/dte-status", dte_http_report_status, PERM_REPORTS_READ, CONTRACT_CLINIC, 0, 0 },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
