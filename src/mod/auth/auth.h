/*
 * auth.h - authentication of requests: users (JWT access tokens) and API keys.
 *
 * Credentials are read from "Authorization: Bearer <token>" or "X-API-Key".
 * A token with two dots is an access JWT (HS256, iss/aud/exp checked, its
 * refresh session must not be revoked); anything else is an API key
 * ("clk_..."), looked up by SHA-256 hash. For a key that serves several
 * tenants, "x-tenant-id" picks one; a key asking for a tenant it does not
 * serve is refused (403). A user's tenant is the one in the token; an
 * x-tenant-id naming another tenant is refused (403).
 */
#ifndef CL_AUTH_AUTH_H
#define CL_AUTH_AUTH_H

#include "app.h"
#include "http/http.h"

/* Fill *out from the request's credentials. Missing/invalid -> ERR_UNAUTHORIZED;
 * tenant not allowed -> ERR_FORBIDDEN. */
int auth_authenticate(struct app *app, const struct http_req *req, struct principal *out, struct err *e);

#endif
