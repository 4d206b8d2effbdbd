/*
 * cli.h - the command line: `clinicledger <command> [options]`.
 *
 * Each command is a function returning the process exit status (0 ok,
 * 1 failure with a message on stderr, 2 usage error) and printing its
 * usage for --help. main.c holds the command table.
 */
#ifndef CL_CLI_H
#define CL_CLI_H

#include "app.h"

int cli_serve(int argc, char **argv);        /* main.c / serve.c */
int cli_migrate(int argc, char **argv);      /* cli.c */
int cli_backup(int argc, char **argv);       /* cli.c */
int cli_restore(int argc, char **argv);      /* cli.c */
int cli_version(int argc, char **argv);      /* cli.c */
int cli_tenant_add(int argc, char **argv);   /* mod/tenants/tenants_cli.c */
int cli_user_add(int argc, char **argv);     /* mod/auth/auth_cli.c */
int cli_apikey_create(int argc, char **argv);/* mod/auth/auth_cli.c */
int cli_apikey_revoke(int argc, char **argv);/* mod/auth/auth_cli.c */
int cli_audit_verify(int argc, char **argv); /* mod/audit/audit_cli.c */
int cli_dte_setup(int argc, char **argv);    /* mod/dte/dte_cli.c */

/* Open the application for a command: load config from the environment,
 * open the database and apply migrations. Prints errors to stderr.
 * Returns 0 or 1. Release with app_release. */
int cli_open_app(struct app *app);

/* True when argv (argc) contains "--help" or "-h". */
int cli_wants_help(int argc, char **argv);
/* Value of "--name VALUE" or "--name=VALUE" in argv, or NULL. Borrowed. */
const char *cli_opt(int argc, char **argv, const char *name);

#define CLI_VERSION "1.0.0"

#endif
