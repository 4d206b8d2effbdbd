/*
 * migrations.h - the SQL migrations embedded in the binary.
 *
 * sql/sqlite/NNNN_name.sql and sql/pgsql/NNNN_name.sql are compiled in by
 * tools/embed_sql.sh; both dialects carry the same numbers. Tables are in
 * ascending version order, terminated by a zero entry.
 */
#ifndef CL_DB_MIGRATIONS_H
#define CL_DB_MIGRATIONS_H

#include <stddef.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration db_migrations_sqlite[];
extern const size_t db_migrations_sqlite_count;
extern const struct migration db_migrations_pgsql[];
extern const size_t db_migrations_pgsql_count;

#endif
