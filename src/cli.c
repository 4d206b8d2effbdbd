/* cli.c - shared command-line helpers and the migrate, backup, restore and version commands. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "db/db.h"

int cli_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

const char *cli_opt(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], name, n) != 0)
			continue;
		if (argv[i][n] == '=')
			return argv[i] + n + 1;
		if (argv[i][n] == '\0' && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

int cli_open_app(struct app *app)
{
	struct config cfg;
	struct err e;

	err_clear(&e);
	if (config_load(&cfg, &e) || app_init(app, &cfg, &e)) {
		fprintf(stderr, "clinicledger: %s%s%s\n", e.message, e.detail[0] ? ": " : "", e.detail);
		return 1;
	}
	return 0;
}

int cli_migrate(int argc, char **argv)
{
	struct app app;
	int version = 0;
	struct err e;

	if (cli_wants_help(argc, argv)) {
		printf("usage: clinicledger migrate\n\n"
		       "Apply the pending database migrations to CLINICLEDGER_DB and print the schema version.\n");
		return 0;
	}
	if (cli_open_app(&app))
		return 1;
	err_clear(&e);
	db_schema_version(app.db, &version, &e);
	printf("schema version %d (%s)\n", version, db_backend_name(app.db));
	app_release(&app);
	return 0;
}

int cli_backup(int argc, char **argv)
{
	struct config cfg;
	struct db *db = NULL;
	struct err e;
	int rc = 1;

	if (cli_wants_help(argc, argv) || argc < 2) {
		printf("usage: clinicledger backup FILE\n\n"
		       "Write a consistent copy of the SQLite database CLINICLEDGER_DB to FILE (must not exist),\n"
		       "while the server may keep running (SQLite online backup). With PostgreSQL use pg_dump\n"
		       "or pg_basebackup (see README, Operations).\n");
		return argc < 2 && !cli_wants_help(argc, argv) ? 2 : 0;
	}
	err_clear(&e);
	if (config_load(&cfg, &e) || db_open(cfg.db_url, NULL, &db, &e) || db_backup(db, argv[1], &e) ||
	    db_verify_file(argv[1], &e)) {
		fprintf(stderr, "clinicledger backup: %s%s%s\n", e.message, e.detail[0] ? ": " : "", e.detail);
		goto out;
	}
	printf("backup written to %s and verified\n", argv[1]);
	rc = 0;
out:
	if (db)
		db_close(db);
	return rc;
}

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = NULL;
	char buf[65536];
	size_t n;
	int rc = -1;

	if (!in)
		return -1;
	out = fopen(to, "wb");
	if (!out)
		goto out;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			goto out;
	if (ferror(in) || fflush(out) != 0 || fsync(fileno(out)) != 0)
		goto out;
	rc = 0;
out:
	fclose(in);
	if (out && fclose(out) != 0)
		rc = -1;
	return rc;
}

int cli_restore(int argc, char **argv)
{
	struct config cfg;
	struct err e;
	char tmp[1100], side[1100];

	if (cli_wants_help(argc, argv) || argc < 2) {
		printf("usage: clinicledger restore FILE\n\n"
		       "Replace the SQLite database CLINICLEDGER_DB with the backup FILE after checking it\n"
		       "(integrity_check and schema). Stop the server first. The replaced database is kept\n"
		       "as CLINICLEDGER_DB.before-restore. With PostgreSQL use pg_restore (see README).\n");
		return argc < 2 && !cli_wants_help(argc, argv) ? 2 : 0;
	}
	err_clear(&e);
	if (config_load(&cfg, &e))
		goto fail;
	if (strncmp(cfg.db_url, "postgres", 8) == 0) {
		err_set(&e, ERR_INVALID, NULL, "restore of PostgreSQL is done with pg_restore (see README)");
		goto fail;
	}
	if (db_verify_file(argv[1], &e))
		goto fail;
	snprintf(tmp, sizeof(tmp), "%s.restore-tmp", cfg.db_url);
	snprintf(side, sizeof(side), "%s.before-restore", cfg.db_url);
	if (copy_file(argv[1], tmp) != 0) {
		err_set(&e, ERR_INTERNAL, NULL, "cannot copy %s", argv[1]);
		goto fail;
	}
	if (access(cfg.db_url, F_OK) == 0 && rename(cfg.db_url, side) != 0) {
		err_set(&e, ERR_INTERNAL, NULL, "cannot move the current database aside");
		goto fail;
	}
	/* the WAL may hold committed pages: it travels with the database it belongs to */
	for (int i = 0; i < 2; i++) {
		const char *suffix = i ? "-shm" : "-wal";
		char from_path[1200], to_path[1200];
		snprintf(from_path, sizeof(from_path), "%s%s", cfg.db_url, suffix);
		snprintf(to_path, sizeof(to_path), "%s%s", side, suffix);
		if (access(from_path, F_OK) == 0 && rename(from_path, to_path) != 0) {
			err_set(&e, ERR_INTERNAL, NULL, "cannot move %s aside", from_path);
			goto fail;
		}
	}
	if (rename(tmp, cfg.db_url) != 0) {
		err_set(&e, ERR_INTERNAL, NULL, "cannot move the restored database into place");
		goto fail;
	}
	printf("restored %s from %s (previous database kept as %s)\n", cfg.db_url, argv[1], side);
	return 0;
fail:
	fprintf(stderr, "clinicledger restore: %s%s%s\n", e.message, e.detail[0] ? ": " : "", e.detail);
	return 1;
}

int cli_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("clinicledger %s\n", CLI_VERSION);
	return 0;
}
