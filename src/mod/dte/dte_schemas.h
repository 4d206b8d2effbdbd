/*
 * dte_schemas.h - the official MH JSON schemas, embedded in the binary.
 *
 * The bytes of the files in tests/fixtures/dte-sv/ (see SOURCES.md there) are
 * compiled in by tools/embed_schemas.sh (generated file
 * build/gen/dte_schema_data.c), so the server and the MH sandbox validate
 * against exactly the files MH publishes, with no file to find at run time.
 * Each schema is compiled once, on first use, and shared by all threads.
 */
#ifndef CL_MOD_DTE_SCHEMAS_H
#define CL_MOD_DTE_SCHEMAS_H

#include <stddef.h>

#include "core/err.h"
#include "core/jschema.h"

struct dte_schema_file {
	const char *name; /* file name without ".json": "fe-fc-v1", "anulacion-schema-v2" */
	const char *text; /* the file's bytes (NUL-terminated for convenience) */
	size_t len;
};

/* Generated table, sorted by name, ended by { NULL, NULL, 0 }. */
extern const struct dte_schema_file dte_schema_files[];
extern const size_t dte_schema_files_count;

/* The embedded file called name, or NULL. Borrowed (static). */
const struct dte_schema_file *dte_schema_file(const char *name);

/* Schema name for a DTE type and version: ("01",1) "fe-fc-v1", ("03",3)
 * "fe-ccf-v3", ("05",3) "fe-nc-v3", ("06",3) "fe-nd-v3", ("14",1)
 * "fe-fse-v1"; events: ("anulacion",2) "anulacion-schema-v2",
 * ("contingencia",3) "contingencia-schema-v3". NULL when not supported. */
const char *dte_schema_name(const char *tipo_dte, int version);

/* The compiled schema called name (compiled on first use, then cached for
 * the life of the process; thread-safe). Borrowed. Unknown name ->
 * ERR_NOT_FOUND; a schema that does not compile -> ERR_INTERNAL. */
int dte_schema_get(const char *name, const struct jschema **out, struct err *e);

struct jschema_report;
/* Index of the first error in rep that MH would really reject, or -1 when
 * none: the v1 schemas' per-departamento municipio patterns predate the 2024
 * territorial reform (README §3.8) and the catalog CAT-013 is authoritative,
 * so errors at ".municipio" (and the "direccion" if/then that carries them)
 * do not count. Both the server's check before signing and the MH sandbox
 * use this one rule. */
int dte_schema_first_real_error(const struct jschema_report *rep);

#endif
