/*
 * perm.c - permission names and THE role -> permission table.
 *
 * Roles and their billing/claims defaults are exactly those of
 * billing-service-api.md ("Role-Based Defaults"); the other areas are
 * granted by what each job does at a clinic:
 *   admin, medical_director  everything
 *   billing_staff            billing:*, claims:*, orders:*, payments:*, dte:*, patients (no delete),
 *                            services:read, reports:read, clinical:read
 *   accountant               billing:read, claims:read, orders/payments/dte/patients/services read,
 *                            reports:read, audit:read, clinical:read
 *   doctor                   billing:read, claims:read, patients read/create/update, services:read,
 *                            orders:read, inventory:read, clinical:*
 *   receptionist             billing:create, billing:read, patients create/read/update,
 *                            services:read, orders create/read, payments create/read, clinical:*
 *   pharmacist               inventory:*, services:read, patients:read
 */
#include "mod/auth/perm.h"

#include <string.h>

#include "core/err.h"

static const char *const perm_names[PERM__COUNT] = {
	[PERM_BILLING_CREATE] = "billing:create",
	[PERM_BILLING_READ] = "billing:read",
	[PERM_BILLING_UPDATE] = "billing:update",
	[PERM_BILLING_DELETE] = "billing:delete",
	[PERM_CLAIMS_CREATE] = "claims:create",
	[PERM_CLAIMS_READ] = "claims:read",
	[PERM_CLAIMS_SUBMIT] = "claims:submit",
	[PERM_CLAIMS_PROCESS] = "claims:process",
	[PERM_CLAIMS_APPEAL] = "claims:appeal",
	[PERM_PATIENTS_CREATE] = "patients:create",
	[PERM_PATIENTS_READ] = "patients:read",
	[PERM_PATIENTS_UPDATE] = "patients:update",
	[PERM_PATIENTS_DELETE] = "patients:delete",
	[PERM_SERVICES_CREATE] = "services:create",
	[PERM_SERVICES_READ] = "services:read",
	[PERM_SERVICES_UPDATE] = "services:update",
	[PERM_SERVICES_DELETE] = "services:delete",
	[PERM_ORDERS_CREATE] = "orders:create",
	[PERM_ORDERS_READ] = "orders:read",
	[PERM_ORDERS_UPDATE] = "orders:update",
	[PERM_ORDERS_DELETE] = "orders:delete",
	[PERM_PAYMENTS_CREATE] = "payments:create",
	[PERM_PAYMENTS_READ] = "payments:read",
	[PERM_PAYMENTS_REFUND] = "payments:refund",
	[PERM_DTE_READ] = "dte:read",
	[PERM_DTE_SUBMIT] = "dte:submit",
	[PERM_DTE_INVALIDATE] = "dte:invalidate",
	[PERM_INVENTORY_READ] = "inventory:read",
	[PERM_INVENTORY_WRITE] = "inventory:write",
	[PERM_INVENTORY_CONTROLLED] = "inventory:controlled",
	[PERM_REPORTS_READ] = "reports:read",
	[PERM_AUDIT_READ] = "audit:read",
	[PERM_ADMIN_USERS] = "admin:users",
	[PERM_ADMIN_APIKEYS] = "admin:apikeys",
	[PERM_ADMIN_JOBS] = "admin:jobs",
	[PERM_ADMIN_TENANT] = "admin:tenant",
	[PERM_CLINICAL_CREATE] = "clinical:create",
	[PERM_CLINICAL_READ] = "clinical:read",
};

#define B(p) PERM_BIT(PERM_##p)
#define AREA_BILLING (B(BILLING_CREATE) | B(BILLING_READ) | B(BILLING_UPDATE) | B(BILLING_DELETE))
#define AREA_CLAIMS (B(CLAIMS_CREATE) | B(CLAIMS_READ) | B(CLAIMS_SUBMIT) | B(CLAIMS_PROCESS) | B(CLAIMS_APPEAL))
#define AREA_ORDERS (B(ORDERS_CREATE) | B(ORDERS_READ) | B(ORDERS_UPDATE) | B(ORDERS_DELETE))
#define AREA_PAYMENTS (B(PAYMENTS_CREATE) | B(PAYMENTS_READ) | B(PAYMENTS_REFUND))
#define AREA_DTE (B(DTE_READ) | B(DTE_SUBMIT) | B(DTE_INVALIDATE))
#define AREA_INVENTORY (B(INVENTORY_READ) | B(INVENTORY_WRITE) | B(INVENTORY_CONTROLLED))

static const struct {
	const char *role;
	perm_set perms;
} role_table[] = {
	{ "admin", PERM_ALL },
	{ "medical_director", PERM_ALL },
	{ "billing_staff", AREA_BILLING | AREA_CLAIMS | AREA_ORDERS | AREA_PAYMENTS | AREA_DTE |
				   B(PATIENTS_CREATE) | B(PATIENTS_READ) | B(PATIENTS_UPDATE) |
				   B(SERVICES_READ) | B(REPORTS_READ) | B(CLINICAL_READ) },
	{ "accountant", B(BILLING_READ) | B(CLAIMS_READ) | B(ORDERS_READ) | B(PAYMENTS_READ) | B(DTE_READ) |
				B(PATIENTS_READ) | B(SERVICES_READ) | B(REPORTS_READ) | B(AUDIT_READ) |
				B(CLINICAL_READ) },
	{ "doctor", B(BILLING_READ) | B(CLAIMS_READ) | B(PATIENTS_CREATE) | B(PATIENTS_READ) |
			    B(PATIENTS_UPDATE) | B(SERVICES_READ) | B(ORDERS_READ) | B(INVENTORY_READ) |
			    B(CLINICAL_CREATE) | B(CLINICAL_READ) },
	{ "receptionist", B(BILLING_CREATE) | B(BILLING_READ) | B(PATIENTS_CREATE) | B(PATIENTS_READ) |
				  B(PATIENTS_UPDATE) | B(SERVICES_READ) | B(ORDERS_CREATE) | B(ORDERS_READ) |
				  B(PAYMENTS_CREATE) | B(PAYMENTS_READ) | B(CLINICAL_CREATE) | B(CLINICAL_READ) },
	{ "pharmacist", AREA_INVENTORY | B(SERVICES_READ) | B(PATIENTS_READ) },
};

const char *const perm_role_names[] = { "admin",  "medical_director", "billing_staff", "accountant",
					"doctor", "receptionist", "pharmacist", NULL };

const char *perm_name(enum perm p)
{
	if (p < 0 || p >= PERM__COUNT)
		return NULL;
	return perm_names[p];
}

int perm_parse(const char *name, perm_set *set)
{
	size_t len = strlen(name);

	if (strcmp(name, "*") == 0) {
		*set |= PERM_ALL;
		return 0;
	}
	if (len > 2 && strcmp(name + len - 2, ":*") == 0) {
		perm_set found = 0;
		for (int p = 0; p < PERM__COUNT; p++)
			if (strncmp(perm_names[p], name, len - 1) == 0)
				found |= PERM_BIT(p);
		if (!found)
			return ERR_INVALID;
		*set |= found;
		return 0;
	}
	for (int p = 0; p < PERM__COUNT; p++) {
		if (strcmp(perm_names[p], name) == 0) {
			*set |= PERM_BIT(p);
			return 0;
		}
	}
	return ERR_INVALID;
}

perm_set perm_role_defaults(const char *role, int *known)
{
	for (size_t i = 0; i < sizeof(role_table) / sizeof(role_table[0]); i++) {
		if (strcmp(role_table[i].role, role) == 0) {
			*known = 1;
			return role_table[i].perms;
		}
	}
	*known = 0;
	return 0;
}
