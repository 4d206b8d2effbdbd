/*
 * dte_schemas.c - lookup and lazy compilation of the embedded MH schemas
 * (see dte_schemas.h). The compiled schemas live until the process exits.
 */
#include "mod/dte/dte_schemas.h"

#include <pthread.h>
#include <string.h>

static const struct {
	const char *tipo;
	int version;
	const char *schema;
} schema_map[] = {
    {"01", 1, "fe-fc-v1"},
    {"03", 3, "fe-ccf-v3"},
    {"05", 3, "fe-nc-v3"},
    {"06", 3, "fe-nd-v3"},
    {"14", 1, "fe-fse-v1"},
    {"anulacion", 2, "anulacion-schema-v2"},
    {"contingencia", 3, "contingencia-schema-v3"},
};

#define CACHE_MAX 32

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const struct dte_schema_file *file;
	struct jschema *compiled;
} cache[CACHE_MAX];
static size_t ncache;

const struct dte_schema_file *dte_schema_file(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < dte_schema_files_count; i++)
		if (strcmp(dte_schema_files[i].name, name) == 0)
			return &dte_schema_files[i];
	return NULL;
}

const char *dte_schema_name(const char *tipo_dte, int version)
{
	if (!tipo_dte)
		return NULL;
	for (size_t i = 0; i < sizeof(schema_map) / sizeof(schema_map[0]); i++)
		if (schema_map[i].version == version && strcmp(schema_map[i].tipo, tipo_dte) == 0)
			return schema_map[i].schema;
	return NULL;
}

int dte_schema_get(const char *name, const struct jschema **out, struct err *e)
{
	const struct dte_schema_file *f = dte_schema_file(name);
	struct jschema *s = NULL;
	struct err sub;
	int rc = 0;

	*out = NULL;
	if (!f)
		return err_set(e, ERR_NOT_FOUND, NULL, "no embedded schema called %s", name ? name : "(null)");
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < ncache; i++) {
		if (cache[i].file == f) {
			*out = cache[i].compiled;
			goto out;
		}
	}
	if (ncache == CACHE_MAX) {
		rc = err_set(e, ERR_INTERNAL, NULL, "schema cache full");
		goto out;
	}
	if (jschema_compile(f->text, f->len, &s, &sub) != 0) {
		rc = err_set(e, ERR_INTERNAL, NULL, "embedded schema %s does not compile: %s", name, sub.message);
		goto out;
	}
	cache[ncache].file = f;
	cache[ncache].compiled = s;
	ncache++;
	*out = s;
out:
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

static int path_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int dte_schema_first_real_error(const struct jschema_report *rep)
{
	for (size_t i = 0; i < rep->count; i++) {
		const char *path = rep->errors[i].path;
		if (!path_ends_with(path, ".municipio") && !path_ends_with(path, ".direccion"))
			return (int)i;
	}
	return -1;
}
