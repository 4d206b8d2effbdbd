/*
 * main.c - `clinicledger <command>`: the command table and `serve`.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/log.h"
#include "http/server.h"
#include "jobs/jobs.h"
#include "mod/tenants/tenants.h"
#include "net/httpc.h"

static const struct command {
	const char *name;  /* one or two words */
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "serve", cli_serve, "start the HTTP server and job workers" },
	{ "migrate", cli_migrate, "apply pending database migrations" },
	{ "tenant add", cli_tenant_add, "create a tenant (clinic, hospital or lab)" },
	{ "user add", cli_user_add, "create a user in a tenant" },
	{ "apikey create", cli_apikey_create, "create an API key (shown once)" },
	{ "apikey revoke", cli_apikey_revoke, "revoke an API key" },
	{ "backup", cli_backup, "online backup of the SQLite database to a file" },
	{ "restore", cli_restore, "restore the SQLite database from a backup file" },
	{ "audit verify", cli_audit_verify, "verify the hash chain of the audit trail" },
	{ "dte setup", cli_dte_setup, "make a tenant an El Salvador DTE issuer (settings.emisor)" },
	{ "version", cli_version, "print the version" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: clinicledger <command> [options]   (each command takes --help)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nConfiguration comes from CLINICLEDGER_* environment variables (README.md).\n");
}

int cli_serve(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	struct server *server = NULL;
	struct jobs *jobs = NULL;
	struct err e;
	sigset_t set;
	int sig, rc = 1;

	if (cli_wants_help(argc, argv)) {
		printf("usage: clinicledger serve\n\n"
		       "Apply migrations, create the demo tenant and admin on first start, start the job\n"
		       "workers and serve HTTP on CLINICLEDGER_LISTEN until SIGINT or SIGTERM.\n");
		return 0;
	}
	err_clear(&e);
	/* block the stop signals in every thread; this one waits for them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (config_load(&cfg, &e) || httpc_global_init(&e))
		goto fail;
	log_set_level((enum log_level)log_level_parse(cfg.log_level));
	if (app_init(&app, &cfg, &e))
		goto fail;
	if (tenants_bootstrap(&app, &e))
		goto fail_app;
	if (app.cfg.job_workers > 0) {
		size_t ntypes, nsched;
		const struct job_type *types = job_types_table(&ntypes);
		const struct job_schedule *sched = job_schedules_table(&nsched);
		if (jobs_start(&app, types, ntypes, sched, nsched, app.cfg.job_workers, &jobs, &e))
			goto fail_app;
	}
	app.jobs = jobs;
	if (server_start(&app, &server, &e))
		goto fail_jobs;
	log_info("msg=\"clinicledger ready\" version=%s backend=%s", CLI_VERSION, db_backend_name(app.db));
	fflush(stdout);
	sigwait(&set, &sig);
	log_info("msg=\"stopping\" signal=%d", sig);
	rc = 0;
	server_stop(server);
fail_jobs:
	jobs_stop(jobs);
fail_app:
	app_release(&app);
fail:
	if (rc)
		fprintf(stderr, "clinicledger serve: %s%s%s\n", e.message, e.detail[0] ? ": " : "", e.detail);
	return rc;
}

int main(int argc, char **argv)
{
	/* glibc malloc with dozens of request threads: keep freed memory instead
	 * of trimming each thread arena back to the system (mprotect/munmap on
	 * the request path; 5-15% of throughput, docs/performance.md). */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cli_version(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *name = commands[i].name, *space = strchr(name, ' ');
		if (!space && strcmp(argv[1], name) == 0)
			return commands[i].run(argc - 1, argv + 1);
		if (space && argc >= 3 && strncmp(argv[1], name, (size_t)(space - name)) == 0 &&
		    argv[1][space - name] == '\0' && strcmp(argv[2], space + 1) == 0)
			return commands[i].run(argc - 2, argv + 2);
	}
	fprintf(stderr, "clinicledger: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
