/*
 * perm.h - permissions and roles.
 *
 * A permission is a bit in a uint64_t set. The names are those of
 * billing-service-api.md ("Permissions Required"), extended for the other
 * capabilities. The role -> permission map is one static table in perm.c.
 */
#ifndef CL_AUTH_PERM_H
#define CL_AUTH_PERM_H

#include <stdint.h>

enum perm {
	PERM_NONE = -1, /* route needs no permission (public, or any authenticated caller) */
	PERM_BILLING_CREATE = 0,
	PERM_BILLING_READ,
	PERM_BILLING_UPDATE,
	PERM_BILLING_DELETE,
	PERM_CLAIMS_CREATE,
	PERM_CLAIMS_READ,
	PERM_CLAIMS_SUBMIT,
	PERM_CLAIMS_PROCESS,
	PERM_CLAIMS_APPEAL,
	PERM_PATIENTS_CREATE,
	PERM_PATIENTS_READ,
	PERM_PATIENTS_UPDATE,
	PERM_PATIENTS_DELETE,
	PERM_SERVICES_CREATE,
	PERM_SERVICES_READ,
	PERM_SERVICES_UPDATE,
	PERM_SERVICES_DELETE,
	PERM_ORDERS_CREATE,
	PERM_ORDERS_READ,
	PERM_ORDERS_UPDATE,
	PERM_ORDERS_DELETE,
	PERM_PAYMENTS_CREATE,
	PERM_PAYMENTS_READ,
	PERM_PAYMENTS_REFUND,
	PERM_DTE_READ,
	PERM_DTE_SUBMIT,
	PERM_DTE_INVALIDATE,
	PERM_INVENTORY_READ,
	PERM_INVENTORY_WRITE,
	PERM_INVENTORY_CONTROLLED,
	PERM_REPORTS_READ,
	PERM_AUDIT_READ,
	PERM_ADMIN_USERS,
	PERM_ADMIN_APIKEYS,
	PERM_ADMIN_JOBS,
	PERM_ADMIN_TENANT,
	PERM_CLINICAL_CREATE, /* clinical activities (encounters) recorded by clinical systems */
	PERM_CLINICAL_READ,
	PERM__COUNT
};

typedef uint64_t perm_set; /* bit (1 << perm) */

#define PERM_BIT(p) ((perm_set)1 << (p))
#define PERM_ALL (PERM_BIT(PERM__COUNT) - 1)

/* "billing:create" etc. Static storage; NULL for PERM_NONE/out of range. */
const char *perm_name(enum perm p);
/* Parse a name; also accepts "area:*" patterns into *set. Returns 0 or ERR_INVALID. */
int perm_parse(const char *name, perm_set *set);
/* Default permission set of a role, or 0 with *known=0 when the role is unknown. */
perm_set perm_role_defaults(const char *role, int *known);
/* Role names in table order; NULL-terminated. */
extern const char *const perm_role_names[];
static inline int perm_has(perm_set s, enum perm p)
{
	return p == PERM_NONE || (s & PERM_BIT(p)) != 0;
}

#endif
