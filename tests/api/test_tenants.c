/*
 * test_tenants.c - GET/PUT /api/v1/tenant and `clinicledger tenant add`.
 *
 * The bootstrap tenant's profile; partial updates of name, kind, time zone,
 * currency, country and the fiscal identity in settings (NIT/NRC/RNC stored
 * canonical after their check digits pass); validation errors naming the
 * field with nothing written; 403 for roles without admin:tenant; tenants
 * never see or change each other; every update audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct api_resp *get_tenant(const char *token)
{
	return api_req("GET", "/api/v1/tenant", token, NULL, NULL);
}

static struct api_resp *put_tenant(const char *token, const char *body)
{
	return api_req("PUT", "/api/v1/tenant", token, body, NULL);
}

/* PUT must fail with 400 naming field, and the tenant must be unchanged. */
static void expect_invalid(const char *body, const char *field)
{
	struct api_resp *before = get_tenant(api_admin_token()), *r, *after;

	r = put_tenant(api_admin_token(), body);
	assert_status(r, 400);
	assert_string_equal(api_str(r, "error.code"), "VALIDATION_ERROR");
	if (!strstr(r->body, field))
		fail_msg("400 for %s does not name %s: %s", body, field, r->body);
	after = get_tenant(api_admin_token());
	assert_string_equal(before->body, after->body);
	api_resp_free(r);
	api_resp_free(before);
	api_resp_free(after);
}

#define EMISOR_OK                                                                                                      \
	"{\"nit\":\"0614-050707-104-8\",\"nrc\":\"123456-7\",\"nombre\":\"Clinica Demo S.A. de C.V.\","                \
	"\"nombreComercial\":\"Clinica Demo\",\"codActividad\":\"86100\",\"descActividad\":\"Servicios de "            \
	"hospital\",\"tipoEstablecimiento\":\"01\",\"codEstable\":\"M001\",\"codPuntoVenta\":\"P001\","                \
	"\"direccion\":{\"departamento\":\"06\",\"municipio\":\"14\",\"complemento\":\"Colonia Escalon\"},"            \
	"\"telefono\":\"22223333\",\"correo\":\"facturas@demo.test\"}"

static void test_get_bootstrap_tenant(void **state)
{
	struct api_resp *r = get_tenant(api_admin_token());
	char *doctor;

	(void)state;
	assert_status(r, 200);
	assert_true(json_is_true(api_path(r, "success")));
	assert_string_equal(api_str(r, "data.slug"), "demo");
	assert_string_equal(api_str(r, "data.name"), "Demo Clinic");
	assert_string_equal(api_str(r, "data.kind"), "clinic");
	assert_string_equal(api_str(r, "data.timeZone"), "America/El_Salvador");
	assert_string_equal(api_str(r, "data.currency"), "USD");
	assert_string_equal(api_str(r, "data.country"), "SV");
	assert_true(json_is_object(api_path(r, "data.settings")));
	assert_true(json_is_true(api_path(r, "data.active")));
	assert_non_null(api_str(r, "data.createdAt"));
	/* any authenticated caller of the tenant may read it */
	doctor = api_user_token("demo", "doctor", NULL);
	api_resp_free(r);
	r = get_tenant(doctor);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.slug"), "demo");
	api_resp_free(r);
	free(doctor);
	r = get_tenant(NULL);
	assert_status(r, 401);
	api_resp_free(r);
}

static void test_update_fiscal_identity(void **state)
{
	struct api_resp *r;

	(void)state;
	r = put_tenant(api_admin_token(), "{\"settings\":{\"emisor\":" EMISOR_OK "}}");
	assert_status(r, 200);
	/* stored canonical */
	assert_string_equal(api_str(r, "data.settings.emisor.nit"), "06140507071048");
	assert_string_equal(api_str(r, "data.settings.emisor.nrc"), "1234567");
	assert_string_equal(api_str(r, "data.settings.emisor.direccion.municipio"), "14");
	assert_string_equal(api_str(r, "data.settings.emisor.correo"), "facturas@demo.test");
	api_resp_free(r);
	r = get_tenant(api_admin_token());
	assert_string_equal(api_str(r, "data.settings.emisor.nit"), "06140507071048");
	assert_string_equal(api_str(r, "data.settings.emisor.nombre"), "Clinica Demo S.A. de C.V.");
	api_resp_free(r);

	/* partial: a name change keeps the settings; another settings member merges */
	r = put_tenant(api_admin_token(), "{\"name\":\"Clinica Demo\"}");
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.name"), "Clinica Demo");
	assert_string_equal(api_str(r, "data.settings.emisor.nit"), "06140507071048");
	api_resp_free(r);
	r = put_tenant(api_admin_token(), "{\"settings\":{\"rnc\":\"1-01-85004-3\"}}");
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.settings.rnc"), "101850043");
	assert_string_equal(api_str(r, "data.settings.emisor.nrc"), "1234567");
	api_resp_free(r);
	/* null removes a member */
	r = put_tenant(api_admin_token(), "{\"settings\":{\"rnc\":null}}");
	assert_status(r, 200);
	assert_null(api_path(r, "data.settings.rnc"));
	assert_non_null(api_path(r, "data.settings.emisor"));
	api_resp_free(r);

	/* profile fields */
	r = put_tenant(api_admin_token(),
		       "{\"kind\":\"hospital\",\"timeZone\":\"America/Santo_Domingo\",\"currency\":\"DOP\","
		       "\"country\":\"DO\"}");
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.kind"), "hospital");
	assert_string_equal(api_str(r, "data.timeZone"), "America/Santo_Domingo");
	assert_string_equal(api_str(r, "data.currency"), "DOP");
	assert_string_equal(api_str(r, "data.country"), "DO");
	assert_string_equal(api_str(r, "data.slug"), "demo");
	api_resp_free(r);
	r = put_tenant(
	    api_admin_token(),
	    "{\"kind\":\"clinic\",\"timeZone\":\"America/El_Salvador\",\"currency\":\"USD\",\"country\":\"SV\"}");
	assert_status(r, 200);
	api_resp_free(r);

	/* audited with before and after */
	r = api_req("GET", "/api/audit-logs?entity=tenant&action=tenant.update", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_true(json_array_size(api_path(r, "data")) >= 5);
	assert_non_null(api_path(r, "data.0.before"));
	assert_non_null(api_path(r, "data.0.after"));
	api_resp_free(r);
}

static void test_update_validation(void **state)
{
	(void)state;
	/* bad check digit (NIT, RNC) or shape (NRC: 1-8 digits, no check digit) */
	expect_invalid("{\"settings\":{\"emisor\":{\"nit\":\"0614-050707-104-9\",\"nrc\":\"123456-7\","
		       "\"nombre\":\"X\"}}}",
		       "settings.emisor.nit");
	expect_invalid("{\"settings\":{\"emisor\":{\"nit\":\"0614-050707-104-8\",\"nrc\":\"12A456\","
		       "\"nombre\":\"X\"}}}",
		       "settings.emisor.nrc");
	expect_invalid("{\"settings\":{\"rnc\":\"1-01-85004-4\"}}", "settings.rnc");
	/* required members of the emisor */
	expect_invalid("{\"settings\":{\"emisor\":{\"nrc\":\"123456-7\",\"nombre\":\"X\"}}}", "settings.emisor.nit");
	expect_invalid("{\"settings\":{\"emisor\":{\"nit\":\"0614-050707-104-8\",\"nrc\":\"123456-7\"}}}",
		       "settings.emisor.nombre");
	/* catalogue codes and shapes */
	expect_invalid("{\"settings\":{\"emisor\":{\"nit\":\"0614-050707-104-8\",\"nrc\":\"123456-7\",\"nombre\":\"X\","
		       "\"direccion\":{\"departamento\":\"15\",\"municipio\":\"01\",\"complemento\":\"c\"}}}}",
		       "settings.emisor.direccion.departamento");
	expect_invalid("{\"settings\":{\"emisor\":{\"nit\":\"0614-050707-104-8\",\"nrc\":\"123456-7\",\"nombre\":\"X\","
		       "\"direccion\":{\"departamento\":\"06\",\"municipio\":\"01\"}}}}",
		       "settings.emisor.direccion.complemento");
	expect_invalid("{\"settings\":{\"emisor\":{\"nit\":\"0614-050707-104-8\",\"nrc\":\"123456-7\",\"nombre\":\"X\","
		       "\"tipoEstablecimiento\":\"03\"}}}",
		       "settings.emisor.tipoEstablecimiento");
	expect_invalid("{\"settings\":{\"emisor\":{\"nit\":\"0614-050707-104-8\",\"nrc\":\"123456-7\",\"nombre\":\"X\","
		       "\"codActividad\":\"86A00\"}}}",
		       "settings.emisor.codActividad");
	expect_invalid("{\"settings\":{\"emisor\":{\"nit\":\"0614-050707-104-8\",\"nrc\":\"123456-7\",\"nombre\":\"X\","
		       "\"correo\":\"not-an-email\"}}}",
		       "settings.emisor.correo");
	expect_invalid("{\"settings\":{\"emisor\":{\"nit\":\"0614-050707-104-8\",\"nrc\":\"123456-7\",\"nombre\":\"X\","
		       "\"color\":\"blue\"}}}",
		       "settings.emisor.color");
	expect_invalid("{\"settings\":{\"theme\":\"dark\"}}", "settings.theme");
	/* the DTE flow's settings (dte_settings_check) */
	expect_invalid("{\"settings\":{\"dte\":{\"autoSubmit\":\"yes\"}}}", "settings.dte.autoSubmit");
	expect_invalid("{\"settings\":{\"dte\":{\"mhUser\":\"\"}}}", "settings.dte.mhUser");
	expect_invalid("{\"settings\":{\"dte\":{\"batch\":true}}}", "settings.dte.batch");
	expect_invalid("{\"settings\":{\"dte\":{\"responsable\":{\"nombre\":\"Ana Lopez\",\"tipoDocumento\":\"99\","
		       "\"numDocumento\":\"01234567-8\"}}}}",
		       "settings.dte.responsable.tipoDocumento");
	expect_invalid("{\"settings\":{\"dte\":[]}}", "settings.dte");
	{
		struct api_resp *r = put_tenant(api_admin_token(),
						"{\"settings\":{\"dte\":{\"autoSubmit\":false,\"mhUser\":\"06140507071048\","
						"\"responsable\":{\"nombre\":\"Ana Lopez\",\"tipoDocumento\":\"13\","
						"\"numDocumento\":\"01234567-8\"}}}}");
		assert_status(r, 200);
		assert_true(json_is_false(api_path(r, "data.settings.dte.autoSubmit")));
		api_resp_free(r);
		r = put_tenant(api_admin_token(), "{\"settings\":{\"dte\":null}}");
		assert_status(r, 200);
		api_resp_free(r);
	}
	expect_invalid("{\"settings\":\"x\"}", "settings");
	/* profile */
	expect_invalid("{\"timeZone\":\"Mars/Olympus\"}", "timeZone");
	expect_invalid("{\"timeZone\":\"../../etc/passwd\"}", "timeZone");
	expect_invalid("{\"currency\":\"XYZ\"}", "currency");
	expect_invalid("{\"currency\":\"usd\"}", "currency");
	expect_invalid("{\"country\":\"sv\"}", "country");
	expect_invalid("{\"kind\":\"spa\"}", "kind");
	expect_invalid("{\"name\":\"\"}", "name");
	expect_invalid("{\"slug\":\"new\"}", "slug");
	expect_invalid("{\"active\":false}", "active");
}

static void test_update_forbidden_and_isolated(void **state)
{
	char *doctor = api_user_token("demo", "doctor", NULL);
	char *billing = api_user_token("demo", "billing_staff", NULL);
	char *other = api_user_token("ten-other", "admin", NULL);
	struct api_resp *r, *demo_before, *demo_after;

	(void)state;
	r = put_tenant(doctor, "{\"name\":\"Hacked\"}");
	assert_status(r, 403);
	assert_string_equal(api_str(r, "error.code"), "FORBIDDEN");
	api_resp_free(r);
	r = put_tenant(billing, "{\"name\":\"Hacked\"}");
	assert_status(r, 403);
	api_resp_free(r);

	/* another tenant sees and changes only itself */
	demo_before = get_tenant(api_admin_token());
	r = get_tenant(other);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.slug"), "ten-other");
	assert_string_not_equal(api_str(r, "data.id"), api_str(demo_before, "data.id"));
	assert_null(strstr(r->body, "06140507071048"));
	api_resp_free(r);
	r = put_tenant(other, "{\"name\":\"Other Lab\",\"kind\":\"lab\"}");
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.name"), "Other Lab");
	api_resp_free(r);
	demo_after = get_tenant(api_admin_token());
	assert_string_equal(demo_before->body, demo_after->body);
	api_resp_free(demo_before);
	api_resp_free(demo_after);
	/* demo's audit trail does not show the other tenant's update */
	r = api_req("GET", "/api/audit-logs?entity=tenant", api_admin_token(), NULL, NULL);
	assert_status(r, 200);
	assert_null(strstr(r->body, "Other Lab"));
	api_resp_free(r);
	free(doctor);
	free(billing);
	free(other);
}

static void test_cli_tenant_add(void **state)
{
	char *out = NULL, *token;
	struct api_resp *r;

	(void)state;
	{
		const char *args[] = {
		    "tenant",	 "add", "--name",      "Laboratorio Central",	"--slug",     "lab-central",
		    "--kind",	 "lab", "--time-zone", "America/Santo_Domingo", "--currency", "DOP",
		    "--country", "DO",	NULL};
		assert_int_equal(api_cli(&out, args), 0);
		out[strcspn(out, "\r\n")] = '\0';
		assert_int_equal(strlen(out), 36);
	}
	/* a user of the new tenant sees it */
	{
		const char *args[] = {
		    "user",   "add",   "--tenant",   "lab-central",	"--email", "boss@lab-central.test",
		    "--role", "admin", "--password", API_USER_PASSWORD, NULL};
		assert_int_equal(api_cli(NULL, args), 0);
	}
	token = api_login("boss@lab-central.test", API_USER_PASSWORD);
	assert_non_null(token);
	r = get_tenant(token);
	assert_status(r, 200);
	assert_string_equal(api_str(r, "data.id"), out);
	assert_string_equal(api_str(r, "data.name"), "Laboratorio Central");
	assert_string_equal(api_str(r, "data.kind"), "lab");
	assert_string_equal(api_str(r, "data.timeZone"), "America/Santo_Domingo");
	assert_string_equal(api_str(r, "data.currency"), "DOP");
	assert_string_equal(api_str(r, "data.country"), "DO");
	api_resp_free(r);
	/* its creation is in its own audit trail */
	r = api_req("GET", "/api/audit-logs?action=tenant.create", token, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(api_path(r, "data")), 1);
	assert_string_equal(api_str(r, "data.0.actorType"), "system");
	api_resp_free(r);
	free(token);
	free(out);
	out = NULL;

	/* defaults */
	{
		const char *args[] = {"tenant", "add", "--name", "Clinica Norte", "--slug", "norte", NULL};
		assert_int_equal(api_cli(&out, args), 0);
		free(out);
		out = NULL;
	}
	/* errors */
	{
		const char *dup[] = {"tenant", "add", "--name", "Again", "--slug", "norte", NULL};
		const char *badslug[] = {"tenant", "add", "--name", "X", "--slug", "Bad Slug", NULL};
		const char *badtz[] = {"tenant", "add",		"--name",	"X", "--slug",
				       "x-tz",	 "--time-zone", "Nowhere/City", NULL};
		const char *badcur[] = {"tenant", "add", "--name", "X", "--slug", "x-cur", "--currency", "ABC", NULL};
		const char *badkind[] = {"tenant", "add", "--name", "X", "--slug", "x-kind", "--kind", "spa", NULL};
		const char *missing[] = {"tenant", "add", "--name", "X", NULL};
		const char *help[] = {"tenant", "add", "--help", NULL};
		assert_int_equal(api_cli(NULL, dup), 1);
		assert_int_equal(api_cli(NULL, badslug), 1);
		assert_int_equal(api_cli(NULL, badtz), 1);
		assert_int_equal(api_cli(NULL, badcur), 1);
		assert_int_equal(api_cli(NULL, badkind), 1);
		assert_int_equal(api_cli(NULL, missing), 2);
		assert_int_equal(api_cli(&out, help), 0);
		assert_non_null(strstr(out, "usage: clinicledger tenant add"));
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_bootstrap_tenant), cmocka_unit_test(test_update_fiscal_identity),
	    cmocka_unit_test(test_update_validation),	 cmocka_unit_test(test_update_forbidden_and_isolated),
	    cmocka_unit_test(test_cli_tenant_add),
	};
	return cmocka_run_group_tests(tests, api_setup, api_teardown);
}
