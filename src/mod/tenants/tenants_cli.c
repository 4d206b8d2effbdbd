/*
 * tenants_cli.c - `clinicledger tenant add`: create a tenant from the shell.
 *
 * Prints the new tenant's id on stdout (and nothing else), so scripts can
 * capture it; errors go to stderr with exit status 1 (2 for usage errors).
 * The audit entry names the actor kind "system", id "cli".
 */
#include <stdio.h>

#include "cli.h"
#include "mod/tenants/tenants.h"

static const char usage_text[] =
    "usage: clinicledger tenant add --name NAME --slug SLUG [--kind clinic|hospital|lab]\n"
    "                               [--time-zone America/El_Salvador] [--currency USD] [--country SV]\n"
    "\n"
    "Create a tenant and print its id. SLUG: 2-63 characters of a-z, 0-9 and '-', unique.\n"
    "Defaults: kind clinic, time zone America/El_Salvador, currency USD, country SV.\n"
    "The fiscal identity (emisor NIT/NRC, RNC) is set later with PUT /api/v1/tenant.\n";

int cli_tenant_add(int argc, char **argv)
{
	struct tenant_input in = {0};
	struct actor a = {.kind = "system", .id = "cli"};
	struct app app;
	struct db_conn *c = NULL;
	struct err e;
	char id[37];
	int rc = 1;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	in.name = cli_opt(argc, argv, "--name");
	in.slug = cli_opt(argc, argv, "--slug");
	in.kind = cli_opt(argc, argv, "--kind");
	in.time_zone = cli_opt(argc, argv, "--time-zone");
	in.currency = cli_opt(argc, argv, "--currency");
	in.country = cli_opt(argc, argv, "--country");
	if (!in.name || !in.slug) {
		fprintf(stderr, "clinicledger tenant add: --name and --slug are required\n\n");
		fputs(usage_text, stderr);
		return 2;
	}
	if (cli_open_app(&app))
		return 1;
	err_clear(&e);
	if (db_acquire(app.db, DB_WRITE, &c, &e) || db_begin(c, &e) || tenants_create(c, &a, &in, id, &e) ||
	    db_commit(c, &e)) {
		fprintf(stderr, "clinicledger tenant add: %s\n", e.message);
		goto out;
	}
	printf("%s\n", id);
	rc = 0;
out:
	if (c)
		db_release(c);
	app_release(&app);
	return rc;
}
