/*
 * audit_cli.c - `clinicledger audit verify [--tenant SLUG]`.
 *
 * Recomputes every tenant's audit chain (or one tenant's) and prints one
 * line per tenant, then a summary. Exit 0 when every chain is intact, 1
 * when one is broken (the tenant and first bad seq are named) or the
 * database cannot be read, 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "mod/audit/audit.h"
#include "mod/audit/audit_repo.h"

struct cli_verify {
	struct db *db;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: clinicledger audit verify [--tenant SLUG]\n"
		   "\n"
		   "Recompute the hash chain of every tenant's audit trail (or of the tenant\n"
		   "SLUG) and check that no entry was edited, removed or inserted.\n"
		   "Exit status: 0 intact, 1 broken or error, 2 usage error.\n");
}

/* "slug (id)" of a tenant, or the id alone when the tenant row is gone. */
static void tenant_label(struct db *db, const char *tenant_id, char *out, size_t outlen)
{
	char slug[128] = "";
	struct db_conn *c = NULL;
	struct err e;

	err_clear(&e);
	if (db_acquire(db, DB_READ, &c, &e) == 0) {
		if (audit_repo_tenant_slug(c, tenant_id, slug, sizeof(slug), &e) != 0)
			slug[0] = '\0';
		db_release(c);
	}
	if (slug[0])
		snprintf(out, outlen, "%s (%s)", slug, tenant_id);
	else
		snprintf(out, outlen, "%s", tenant_id);
}

static void print_tenant(const struct audit_verify_tenant *t, void *ud)
{
	const struct cli_verify *v = ud;
	char label[256];

	tenant_label(v->db, t->tenant_id, label, sizeof(label));
	if (t->intact)
		printf("tenant %s: %lld entries, chain intact\n", label, (long long)t->entries);
	else
		printf("tenant %s: BROKEN at seq %lld: %s (%lld entries intact before it)\n", label,
		       (long long)t->bad_seq, t->problem, (long long)t->entries);
	fflush(stdout);
}

int cli_audit_verify(int argc, char **argv)
{
	struct audit_verify_result res;
	struct cli_verify v;
	struct db_conn *c = NULL;
	struct app app;
	struct err e;
	char tenant_id[40], label[256];
	const char *slug;
	int i, rc, status = 1;

	if (cli_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	/* argv holds the options after "audit verify" (main.c); a leading
	 * "verify" is tolerated should the caller pass the subcommand too. */
	for (i = 0; i < argc; i++) {
		if (i == 0 && strcmp(argv[i], "verify") == 0)
			continue;
		if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--tenant=", 9) == 0)
			continue;
		fprintf(stderr, "audit verify: unexpected argument '%s'\n", argv[i]);
		usage(stderr);
		return 2;
	}
	slug = cli_opt(argc, argv, "--tenant");
	if (slug && !*slug) {
		fprintf(stderr, "audit verify: --tenant needs a tenant slug\n");
		return 2;
	}
	if (cli_open_app(&app) != 0)
		return 1;
	err_clear(&e);
	if (slug) {
		rc = db_acquire(app.db, DB_READ, &c, &e);
		if (rc == 0)
			rc = audit_repo_tenant_by_slug(c, slug, tenant_id, &e);
		db_release(c);
		if (rc == ERR_NOT_FOUND) {
			fprintf(stderr, "audit verify: no tenant with slug '%s'\n", slug);
			goto out;
		}
		if (rc) {
			fprintf(stderr, "audit verify: %s (%s)\n", e.message, e.detail);
			goto out;
		}
	}
	v.db = app.db;
	rc = audit_verify_each(app.db, slug ? tenant_id : NULL, print_tenant, &v, &res, &e);
	if (rc) {
		fprintf(stderr, "audit verify: %s (%s)\n", e.message, e.detail);
		goto out;
	}
	if (res.broken == 0) {
		printf("audit: %lld entries in %lld tenants verified, chain intact\n", (long long)res.entries,
		       (long long)res.tenants);
		status = 0;
	} else {
		tenant_label(app.db, res.first_bad_tenant, label, sizeof(label));
		printf("audit: chain BROKEN in tenant %s at seq %lld (%lld of %lld tenants broken)\n", label,
		       (long long)res.first_bad_seq, (long long)res.broken, (long long)res.tenants);
		fprintf(stderr, "audit verify: chain broken in tenant %s at seq %lld\n", label,
			(long long)res.first_bad_seq);
	}
out:
	app_release(&app);
	return status;
}
