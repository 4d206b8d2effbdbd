/*
 * dte_cli.c - `clinicledger dte setup`: make a tenant an El Salvador DTE
 * issuer from the shell (tools/run.sh uses it for the demo tenant): its
 * settings.emisor (NIT, NRC, name, activity, establishment, address,
 * contact) and settings.dte (autoSubmit, the person responsible for
 * contingency events). The same checks as PUT /api/v1/tenant apply
 * (tenants_update); the audit entry names the actor "system" / "cli".
 * Prints the tenant's settings on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mod/tenants/tenants.h"

static const char usage_text[] =
    "usage: clinicledger dte setup [--tenant SLUG] --nit NIT --nrc NRC --nombre NAME\n"
    "           [--nombre-comercial NAME] [--cod-actividad 86201] [--desc-actividad TEXT]\n"
    "           [--tipo-establecimiento 02] [--cod-estable 0001] [--cod-punto-venta 0001]\n"
    "           [--departamento 06] [--municipio 14] [--complemento TEXT]\n"
    "           [--telefono 22223333] [--correo EMAIL] [--auto-submit on|off]\n"
    "           [--responsable-nombre NAME] [--responsable-tipo 13] [--responsable-doc NUMBER]\n"
    "\n"
    "Set the tenant's DTE issuer (settings.emisor) and DTE options (settings.dte); tenant\n"
    "default: demo. NIT and NRC are checked (check digits) and stored as digits. The key that\n"
    "signs, the MH endpoint and credentials are server configuration (DTE_* variables).\n";

static void put(json_t *o, const char *key, const char *value)
{
	if (value)
		json_object_set_new(o, key, json_string(value));
}

static const char *opt_or(int argc, char **argv, const char *name, const char *def)
{
	const char *v = cli_opt(argc, argv, name);

	return v ? v : def;
}

int cli_dte_setup(int argc, char **argv)
{
	struct actor a = {.kind = "system", .id = "cli"};
	const char *slug = opt_or(argc, argv, "--tenant", "demo"), *auto_submit;
	struct tenant t, out;
	struct app app;
	struct db_conn *c = NULL;
	struct err e;
	json_t *emisor, *dir, *dte, *resp, *patch = NULL;
	char *text;
	int rc = 1;

	if (cli_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!cli_opt(argc, argv, "--nit") || !cli_opt(argc, argv, "--nrc") || !cli_opt(argc, argv, "--nombre")) {
		fprintf(stderr, "clinicledger dte setup: --nit, --nrc and --nombre are required\n\n");
		fputs(usage_text, stderr);
		return 2;
	}
	auto_submit = opt_or(argc, argv, "--auto-submit", "on");
	if (strcmp(auto_submit, "on") != 0 && strcmp(auto_submit, "off") != 0) {
		fprintf(stderr, "clinicledger dte setup: --auto-submit must be on or off\n");
		return 2;
	}
	emisor = json_object();
	put(emisor, "nit", cli_opt(argc, argv, "--nit"));
	put(emisor, "nrc", cli_opt(argc, argv, "--nrc"));
	put(emisor, "nombre", cli_opt(argc, argv, "--nombre"));
	put(emisor, "nombreComercial", cli_opt(argc, argv, "--nombre-comercial"));
	put(emisor, "codActividad", opt_or(argc, argv, "--cod-actividad", "86201"));
	put(emisor, "descActividad", opt_or(argc, argv, "--desc-actividad", "Clínicas médicas"));
	put(emisor, "tipoEstablecimiento", opt_or(argc, argv, "--tipo-establecimiento", "02"));
	put(emisor, "codEstable", opt_or(argc, argv, "--cod-estable", "0001"));
	put(emisor, "codPuntoVenta", opt_or(argc, argv, "--cod-punto-venta", "0001"));
	dir = json_object();
	put(dir, "departamento", opt_or(argc, argv, "--departamento", "06"));
	put(dir, "municipio", opt_or(argc, argv, "--municipio", "14"));
	put(dir, "complemento", opt_or(argc, argv, "--complemento", "San Salvador"));
	json_object_set_new(emisor, "direccion", dir);
	put(emisor, "telefono", opt_or(argc, argv, "--telefono", "22223333"));
	put(emisor, "correo", opt_or(argc, argv, "--correo", "facturas@demo.clinic"));
	dte = json_pack("{s:b}", "autoSubmit", strcmp(auto_submit, "on") == 0);
	if (cli_opt(argc, argv, "--responsable-nombre")) {
		resp = json_object();
		put(resp, "nombre", cli_opt(argc, argv, "--responsable-nombre"));
		put(resp, "tipoDocumento", opt_or(argc, argv, "--responsable-tipo", "13"));
		put(resp, "numDocumento", cli_opt(argc, argv, "--responsable-doc"));
		json_object_set_new(dte, "responsable", resp);
	}
	patch = json_pack("{s:{s:o, s:o}}", "settings", "emisor", emisor, "dte", dte);

	if (cli_open_app(&app)) {
		json_decref(patch);
		return 1;
	}
	memset(&t, 0, sizeof(t));
	memset(&out, 0, sizeof(out));
	err_clear(&e);
	if (db_acquire(app.db, DB_WRITE, &c, &e) || db_begin(c, &e) || tenants_get_by_slug(c, slug, &t, &e)) {
		fprintf(stderr, "clinicledger dte setup: %s\n", e.code == ERR_NOT_FOUND ? "no such tenant" : e.message);
		goto out;
	}
	a.tenant_id = t.id;
	if (tenants_update(c, &a, t.id, patch, &out, &e) || db_commit(c, &e)) {
		fprintf(stderr, "clinicledger dte setup: %s%s%s\n", e.field[0] ? e.field : "", e.field[0] ? ": " : "",
			e.message);
		goto out;
	}
	text = json_dumps(out.settings, JSON_INDENT(2));
	printf("%s\n", text ? text : "{}");
	free(text);
	rc = 0;
out:
	tenant_release(&t);
	tenant_release(&out);
	if (c)
		db_release(c);
	json_decref(patch);
	app_release(&app);
	return rc;
}
