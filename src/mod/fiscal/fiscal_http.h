/*
 * fiscal_http.h - what the fiscal module's HTTP adapters share (private to
 * src/mod/fiscal/, the *_http.c files).
 */
#ifndef CL_MOD_FISCAL_HTTP_H
#define CL_MOD_FISCAL_HTTP_H

#include <jansson.h>

#include "core/err.h"
#include "core/mem.h"
#include "mod/fiscal/fiscal.h"

/* Shape-check a receptor object (members of POST /api/receptores; field
 * names in errors prefixed with prefix, "" or "receptor.") and fill *out
 * with strings borrowed from obj (the request's body) or in a. */
int fiscal_http_receptor_input(struct arena *a, const json_t *obj, const char *prefix,
			       struct fiscal_receptor_input *out, struct err *e);

#endif
