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

};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
