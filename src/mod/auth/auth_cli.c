/*
 * auth_cli.c - `clinicledger user add`, `apikey create`, `apikey revoke`.
 *
 * Commands that create something print exactly one line on stdout (the
 * user id; the API key) so scripts can capture it; other information goes
 * to stderr. Errors: message on stderr, exit 1 (2 for usage errors). The
 * audit actor is kind "system", id "cli". The command line is trusted: it
 * may grant any role or permission and serve several tenants with one key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mod/auth/accounts.h"
#include "mod/tenants/tenants.h"

static void print_err(const char *cmd, const struct err *e)
{
	fprintf(stderr, "clinicledger %s: %s\n", cmd, e->message);
}

/* Resolve a tenant slug to its id. */
static int tenant_id_of(struct db_conn *c, const char *slug, char id[37], struct err *e)
{
	struct tenant t;
	int rc = tenants_get_by_slug(c, slug, &t, e);

	if (rc == ERR_NOT_FOUND)
		return err_set(e, ERR_NOT_FOUND, "tenant", "no tenant with slug \"%s\"", slug);
	if (rc)
		return rc;
	memcpy(id, t.id, 37);
	tenant_release(&t);
	return 0;
}

static const char user_usage[] =
    "usage: clinicledger user add --tenant SLUG --email EMAIL --role ROLE [--name \"Full Name\"]\n"
    "                             [--password PASSWORD]\n"
    "\n"
    "Create a user in the tenant SLUG and print the user's id.\n"
    "ROLE: admin, medical_director, billing_staff, accountant, doctor, receptionist, pharmacist.\n"
    "The password comes from --password, else CLINICLEDGER_USER_PASSWORD, else one is generated\n"
    "and printed on stderr (once). Passwords need 10-128 characters with a letter and a digit.\n";

int cli_user_add(int argc, char **argv)
{
	struct actor a = {.kind = "system", .id = "cli"};
	struct user_input in = {0};
	struct app app;
	struct db_conn *c = NULL;
	struct user u;
	struct err e;
	char tenant_id[37], local[128], *generated = NULL;
	const char *slug, *email, *name;
	int rc = 1;

	if (cli_wants_help(argc, argv)) {
		fputs(user_usage, stdout);
		return 0;
	}
	slug = cli_opt(argc, argv, "--tenant");
	email = cli_opt(argc, argv, "--email");
	in.role = cli_opt(argc, argv, "--role");
	name = cli_opt(argc, argv, "--name");
	in.password = cli_opt(argc, argv, "--password");
	if (!slug || !email || !in.role) {
		fprintf(stderr, "clinicledger user add: --tenant, --email and --role are required\n\n");
		fputs(user_usage, stderr);
		return 2;
	}
	if (!in.password)
		in.password = getenv("CLINICLEDGER_USER_PASSWORD");
	if (!in.password || !in.password[0]) {
		generated = users_generate_password();
		in.password = generated;
	}
	in.email = email;
	if (name) {
		in.full_name = name;
	} else {
		/* default full name: the local part of the email */
		size_t n = strcspn(email, "@");
		snprintf(local, sizeof(local), "%.*s", (int)(n < sizeof(local) - 1 ? n : sizeof(local) - 1), email);
		in.full_name = local;
	}
	in.active = 1;
	if (cli_open_app(&app))
		goto done;
	err_clear(&e);
	if (db_acquire(app.db, DB_WRITE, &c, &e) || db_begin(c, &e) || tenant_id_of(c, slug, tenant_id, &e))
		goto fail;
	a.tenant_id = tenant_id;
	if (users_create(c, &a, PERM_ALL, &in, &u, &e) || db_commit(c, &e))
		goto fail;
	printf("%s\n", u.id);
	if (generated)
		fprintf(stderr, "generated password for %s (shown once): %s\n", u.email, generated);
	rc = 0;
	goto out;
fail:
	print_err("user add", &e);
out:
	if (c)
		db_release(c);
	app_release(&app);
done:
	if (generated) {
		memset(generated, 0, strlen(generated));
		free(generated);
	}
	return rc;
}

static const char key_usage[] =
    "usage: clinicledger apikey create --tenant SLUG --name NAME --permissions \"billing:read patients:*\"\n"
    "                                  [--extra-tenants slug1,slug2]\n"
    "\n"
    "Create an API key in tenant SLUG. The key is printed once on stdout and its id on stderr.\n"
    "Permissions: space-separated names (billing:read, patients:*, ... or * for all).\n"
    "--extra-tenants: other tenants the key may act in, chosen per request with x-tenant-id.\n";

int cli_apikey_create(int argc, char **argv)
{
	struct actor a = {.kind = "system", .id = "cli"};
	struct apikey_input in = {0};
	struct app app;
	struct db_conn *c = NULL;
	struct apikey k;
	struct err e;
	char tenant_id[37], extra[APIKEY_MAX_EXTRA_TENANTS][37], slugbuf[64];
	const char *extra_ptrs[APIKEY_MAX_EXTRA_TENANTS];
	const char *slug, *perms, *extras;
	char *key = NULL;
	int rc = 1;

	if (cli_wants_help(argc, argv)) {
		fputs(key_usage, stdout);
		return 0;
	}
	slug = cli_opt(argc, argv, "--tenant");
	in.name = cli_opt(argc, argv, "--name");
	perms = cli_opt(argc, argv, "--permissions");
	extras = cli_opt(argc, argv, "--extra-tenants");
	if (!slug || !in.name || !perms) {
		fprintf(stderr, "clinicledger apikey create: --tenant, --name and --permissions are required\n\n");
		fputs(key_usage, stderr);
		return 2;
	}
	err_clear(&e);
	if (accounts_perms_parse(perms, &in.perms, "permissions", &e)) {
		print_err("apikey create", &e);
		return 1;
	}
	if (cli_open_app(&app))
		return 1;
	if (db_acquire(app.db, DB_WRITE, &c, &e) || db_begin(c, &e) || tenant_id_of(c, slug, tenant_id, &e))
		goto fail;
	if (extras) {
		const char *p = extras;
		while (*p) {
			size_t len = strcspn(p, ", ");
			if (len > 0) {
				if (in.n_extra_tenants == APIKEY_MAX_EXTRA_TENANTS || len >= sizeof(slugbuf)) {
					err_set(&e, ERR_INVALID, "extra-tenants", "too many or too long extra tenants");
					goto fail;
				}
				memcpy(slugbuf, p, len);
				slugbuf[len] = '\0';
				if (tenant_id_of(c, slugbuf, extra[in.n_extra_tenants], &e))
					goto fail;
				extra_ptrs[in.n_extra_tenants] = extra[in.n_extra_tenants];
				in.n_extra_tenants++;
			}
			p += len;
			while (*p == ',' || *p == ' ')
				p++;
		}
		in.extra_tenant_ids = extra_ptrs;
	}
	a.tenant_id = tenant_id;
	in.created_by = "cli";
	if (apikeys_create(c, &a, PERM_ALL, &in, &k, &key, &e) || db_commit(c, &e))
		goto fail;
	printf("%s\n", key);
	fflush(stdout);
	fprintf(stderr, "%s\n", k.id);
	rc = 0;
	goto out;
fail:
	print_err("apikey create", &e);
out:
	if (key) {
		memset(key, 0, strlen(key));
		free(key);
	}
	if (c)
		db_release(c);
	app_release(&app);
	return rc;
}

static const char revoke_usage[] = "usage: clinicledger apikey revoke KEY_ID\n"
				   "\n"
				   "Revoke the API key KEY_ID (the id printed by apikey create, not the key).\n";

int cli_apikey_revoke(int argc, char **argv)
{
	struct actor a = {.kind = "system", .id = "cli"};
	struct app app;
	struct db_conn *c = NULL;
	struct apikey k;
	struct err e;
	const char *id = NULL;
	int rc = 1;

	if (cli_wants_help(argc, argv)) {
		fputs(revoke_usage, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-') {
			id = argv[i];
			break;
		}
	if (!id) {
		fputs(revoke_usage, stderr);
		return 2;
	}
	if (cli_open_app(&app))
		return 1;
	err_clear(&e);
	if (db_acquire(app.db, DB_WRITE, &c, &e) || db_begin(c, &e) || apikeys_get(c, NULL, id, &k, &e))
		goto fail;
	a.tenant_id = k.tenant_id;
	if (apikeys_revoke(c, &a, id, &k, &e) || db_commit(c, &e))
		goto fail;
	printf("revoked %s\n", k.id);
	rc = 0;
	goto out;
fail:
	print_err("apikey revoke", &e);
out:
	if (c)
		db_release(c);
	app_release(&app);
	return rc;
}
