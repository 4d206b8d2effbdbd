/*
 * test_dte_keys.c - unit tests of src/mod/dte/dte_keys.c.
 *
 * MH's certificate file (<NIT>.crt, README §2.2) is built here the way MH's
 * portal writes it: an XML <CertificadoMH> whose privateKey/encodied is the
 * base64 of an unencrypted PKCS#8 RSA-2048 key generated with the OpenSSL
 * API, publicKey/encodied the base64 SubjectPublicKeyInfo, and
 * privateKey/clave the lower-case hex SHA-512 of the password. Then: the
 * password gate, inactive and mismatched files, malformed XML; PEM key +
 * PEM certificate (a self-signed X.509 made here), a certificate of another
 * key refused; loading from files and from the DTE_* environment; and that
 * no error message ever shows key material or the password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/err.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "crypto/jws.h"
#include "mod/dte/dte_keys.h"

#define NIT	 "06141809480014"
#define PASSWORD "MiClavePrivada-2025"

static EVP_PKEY *pk_a, *pk_b, *pk_small;
static char *priv_b64_a, *pub_b64_a, *pub_b64_b, *priv_b64_small, *pub_b64_small;
static char *pem_key_a, *pem_cert_a, *pem_cert_b;
static char dir[64];

static char *b64_of(const unsigned char *der, int n)
{
	return b64_encode(der, (size_t)n);
}

static char *pkcs8_b64(EVP_PKEY *pk)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pk);
	unsigned char *der = NULL;
	int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	PKCS8_PRIV_KEY_INFO_free(p8);
	char *out = b64_of(der, n);
	OPENSSL_clear_free(der, (size_t)n);
	return out;
}

static char *spki_b64(EVP_PKEY *pk)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pk, &der);
	char *out = b64_of(der, n);
	OPENSSL_free(der);
	return out;
}

static char *cert_pem(EVP_PKEY *pk)
{
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (unsigned char *)NIT, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, pk, EVP_sha256());
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *out = xstrndup(data, (size_t)n);
	BIO_free(b);
	X509_free(x);
	return out;
}

static char *key_pem(EVP_PKEY *pk, const char *pass)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (pass)
		PEM_write_bio_PKCS8PrivateKey(b, pk, EVP_aes_256_cbc(), pass, (int)strlen(pass), NULL, NULL);
	else
		PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *out = xstrndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

/* Wrap base64 text at 76 columns (some exports break lines). */
static char *wrapped(const char *b64)
{
	size_t n = strlen(b64);
	char *out = xmalloc(n + n / 76 + 2), *w = out;
	for (size_t i = 0; i < n; i++) {
		if (i && i % 76 == 0)
			*w++ = '\n';
		*w++ = b64[i];
	}
	*w = '\0';
	return out;
}

/* MH's certificate file (structure of README §2.2 / GoFirmadorDTE-SV's
 * models/CertificadoMH.go). */
static char *mh_xml(const char *nit, const char *activo, const char *priv_b64, const char *pub_b64,
		    const char *password)
{
	char clave[JWS_SHA512_HEX_LEN + 1], clave_pub[JWS_SHA512_HEX_LEN + 1];
	jws_sha512_hex(password, strlen(password), clave);
	jws_sha512_hex("publica", 7, clave_pub);
	return xasprintf(
	    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	    "<!-- certificado generado por el portal de facturacion electronica -->\n"
	    "<CertificadoMH>\n"
	    "  <_id>%s</_id>\n"
	    "  <nit>%s</nit>\n"
	    "  <publicKey>\n"
	    "    <keyType>PUBLIC</keyType>\n"
	    "    <algorithm>RSA</algorithm>\n"
	    "    <encodied>%s</encodied>\n"
	    "    <format>X.509</format>\n"
	    "    <clave>%s</clave>\n"
	    "  </publicKey>\n"
	    "  <privateKey>\n"
	    "    <keyType>PRIVATE</keyType>\n"
	    "    <algorithm>RSA</algorithm>\n"
	    "    <encodied>%s</encodied>\n"
	    "    <format>PKCS#8</format>\n"
	    "    <clave>%s</clave>\n"
	    "  </privateKey>\n"
	    "  <activo>%s</activo>\n"
	    "  <certificado>\n"
	    "    <basicEstructure>\n"
	    "      <version>3</version>\n"
	    "      <serial>1675952123456</serial>\n"
	    "      <signatureAlgorithm><algorithm>SHA512withRSA</algorithm><parameters/></signatureAlgorithm>\n"
	    "      <issuer><countryName>SV</countryName><localilyName>SAN SALVADOR</localilyName>"
	    "<organizationalUnit>DIRECCION GENERAL DE IMPUESTOS INTERNOS</organizationalUnit>"
	    "<organizationalName>MINISTERIO DE HACIENDA</organizationalName>"
	    "<commonName>UNIDAD DE FACTURACION ELECTRONICA &amp; FIRMA</commonName></issuer>\n"
	    "      <validity><notBefore>1675952123456</notBefore><notAfter>1770646523456</notAfter></validity>\n"
	    "      <subject><countryName>SV</countryName><organizationName>CLINICA DEMO S.A. DE C.V.</organizationName>"
	    "<commonName>CLINICA DEMO</commonName><description>CLINICA</description></subject>\n"
	    "    </basicEstructure>\n"
	    "    <extensions><keyUsage><digitalSignature>1</digitalSignature></keyUsage></extensions>\n"
	    "  </certificado>\n"
	    "  <clavePub/>\n"
	    "  <clavePri/>\n"
	    "  <fechaVerificacion/>\n"
	    "  <verificado/>\n"
	    "</CertificadoMH>\n",
	    nit, nit, pub_b64, clave_pub, priv_b64, clave, activo);
}

static int group_setup(void **state)
{
	(void)state;
	pk_a = EVP_RSA_gen(2048);
	pk_b = EVP_RSA_gen(2048);
	pk_small = EVP_RSA_gen(1024);
	if (!pk_a || !pk_b || !pk_small)
		return -1;
	priv_b64_a = pkcs8_b64(pk_a);
	pub_b64_a = spki_b64(pk_a);
	pub_b64_b = spki_b64(pk_b);
	priv_b64_small = pkcs8_b64(pk_small);
	pub_b64_small = spki_b64(pk_small);
	pem_key_a = key_pem(pk_a, NULL);
	pem_cert_a = cert_pem(pk_a);
	pem_cert_b = cert_pem(pk_b);
	snprintf(dir, sizeof(dir), "/tmp/test_dte_keys_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	EVP_PKEY_free(pk_a);
	EVP_PKEY_free(pk_b);
	EVP_PKEY_free(pk_small);
	free(priv_b64_a);
	free(pub_b64_a);
	free(pub_b64_b);
	free(priv_b64_small);
	free(pub_b64_small);
	free(pem_key_a);
	free(pem_cert_a);
	free(pem_cert_b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* No error text may show the password or key material. */
static void assert_clean(const struct err *e)
{
	assert_null(strstr(e->message, PASSWORD));
	assert_null(strstr(e->message, "MII"));
	assert_null(strstr(e->detail, PASSWORD));
	assert_null(strstr(e->detail, "MII"));
}

static void assert_signs(const struct dte_key *k)
{
	const char *doc = "{\"identificacion\":{\"version\":3}}";
	char *jws = NULL;
	struct err e;
	unsigned char *payload = NULL;
	size_t len = 0;
	assert_int_equal(dte_keys_sign(k, doc, strlen(doc), &jws, &e), 0);
	assert_true(strncmp(jws, JWS_RS512_HEADER_B64 ".", 21) == 0);
	assert_int_equal(jws_verify_rs512(dte_keys_public(k), jws, &payload, &len, &e), 0);
	assert_memory_equal(payload, doc, len);
	free(payload);
	free(jws);
}

static char *write_file(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static void test_mh_file_with_password(void **state)
{
	struct dte_key *k = NULL;
	struct err e;
	(void)state;
	char *xml = mh_xml(NIT, "true", priv_b64_a, pub_b64_a, PASSWORD);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), PASSWORD, &k, &e), 0);
	assert_non_null(k);
	assert_string_equal(dte_keys_nit(k), NIT);
	assert_int_equal(dte_keys_source(k), DTE_KEY_MH);
	assert_signs(k);
	/* the public key exported is the file's */
	char *pem = dte_keys_public_pem(k);
	struct jws_key *pub = NULL;
	assert_int_equal(jws_key_public_pem(pem, strlen(pem), &pub, &e), 0);
	assert_null(strstr(pem, "PRIVATE"));
	struct jws_key *file_pub = NULL;
	unsigned char *der;
	size_t der_len;
	assert_int_equal(b64_decode(pub_b64_a, &der, &der_len, &e), 0);
	assert_int_equal(jws_key_public_der(der, der_len, &file_pub, &e), 0);
	assert_true(jws_key_match(pub, file_pub));
	free(der);
	jws_key_free(pub);
	jws_key_free(file_pub);
	free(pem);
	dte_keys_free(k);
	free(xml);
}

static void test_mh_wrong_password_refused(void **state)
{
	struct dte_key *k = NULL;
	struct err e;
	(void)state;
	char *xml = mh_xml(NIT, "true", priv_b64_a, pub_b64_a, PASSWORD);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), "MiClavePrivada-2024", &k, &e), ERR_INVALID);
	assert_null(k);
	assert_string_equal(e.field, "DTE_CERT_PASSWORD");
	assert_clean(&e);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), "", &k, &e), ERR_INVALID);
	assert_string_equal(e.field, "DTE_CERT_PASSWORD");
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), NULL, &k, &e), ERR_INVALID);
	assert_string_equal(e.field, "DTE_CERT_PASSWORD");
	assert_null(k);
	/* the gate compares sha512 hex: the hash itself is not the password */
	char clave[JWS_SHA512_HEX_LEN + 1];
	jws_sha512_hex(PASSWORD, strlen(PASSWORD), clave);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), clave, &k, &e), ERR_INVALID);
	free(xml);
}

static void test_mh_upper_case_clave_and_wrapped_base64(void **state)
{
	struct dte_key *k = NULL;
	struct err e;
	(void)state;
	char *w1 = wrapped(priv_b64_a), *w2 = wrapped(pub_b64_a);
	char *xml = mh_xml(NIT, "true", w1, w2, PASSWORD);
	/* upper-case the hex of privateKey/clave */
	char clave[JWS_SHA512_HEX_LEN + 1];
	jws_sha512_hex(PASSWORD, strlen(PASSWORD), clave);
	char *at = strstr(xml, clave);
	assert_non_null(at);
	for (int i = 0; i < JWS_SHA512_HEX_LEN; i++)
		at[i] = (char)((at[i] >= 'a' && at[i] <= 'f') ? at[i] - 32 : at[i]);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), PASSWORD, &k, &e), 0);
	assert_signs(k);
	dte_keys_free(k);
	free(xml);
	/* the key inside CDATA, with a character reference in the NIT */
	char *cdata = xasprintf("<![CDATA[%s]]>", priv_b64_a);
	xml = mh_xml("0614180948001&#52;", "true", cdata, pub_b64_a, PASSWORD);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), PASSWORD, &k, &e), 0);
	assert_string_equal(dte_keys_nit(k), NIT);
	dte_keys_free(k);
	free(xml);
	free(cdata);
	free(w1);
	free(w2);
}

static void test_mh_inactive_or_mismatched_refused(void **state)
{
	struct dte_key *k = NULL;
	struct err e;
	(void)state;
	char *xml = mh_xml(NIT, "false", priv_b64_a, pub_b64_a, PASSWORD);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), PASSWORD, &k, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "not active"));
	free(xml);
	/* publicKey of another key pair */
	xml = mh_xml(NIT, "true", priv_b64_a, pub_b64_b, PASSWORD);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), PASSWORD, &k, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "does not belong"));
	assert_clean(&e);
	assert_null(k);
	free(xml);
	/* an RSA-1024 key */
	xml = mh_xml(NIT, "true", priv_b64_small, pub_b64_small, PASSWORD);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), PASSWORD, &k, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "too short"));
	free(xml);
	/* not base64, not PKCS#8 */
	xml = mh_xml(NIT, "true", "@@@@", pub_b64_a, PASSWORD);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), PASSWORD, &k, &e), ERR_INVALID);
	free(xml);
	xml = mh_xml(NIT, "true", pub_b64_a, pub_b64_a, PASSWORD);
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), PASSWORD, &k, &e), ERR_INVALID);
	assert_clean(&e);
	free(xml);
}

static void test_mh_malformed_xml_refused(void **state)
{
	struct dte_key *k = NULL;
	struct err e;
	(void)state;
	char *xml = mh_xml(NIT, "true", priv_b64_a, pub_b64_a, PASSWORD);
	const char *cases[] = {
	    "</CertificadoMH>\n", /* cut: the root never closes */
	};
	/* unclosed root */
	char *cut = xstrndup(xml, (size_t)(strstr(xml, cases[0]) - xml));
	assert_int_equal(dte_keys_from_mh(cut, strlen(cut), PASSWORD, &k, &e), ERR_INVALID);
	free(cut);
	/* a DOCTYPE (entities) is refused */
	char *dtd = xasprintf("<!DOCTYPE CertificadoMH [<!ENTITY x \"y\">]>%s", strstr(xml, "<CertificadoMH>"));
	assert_int_equal(dte_keys_from_mh(dtd, strlen(dtd), PASSWORD, &k, &e), ERR_INVALID);
	free(dtd);
	/* two privateKey elements: ambiguous */
	char *priv = strstr(xml, "  <privateKey>");
	size_t plen = (size_t)(strstr(xml, "</privateKey>\n") + 14 - priv);
	char *twice = xasprintf("%.*s%.*s%s", (int)(priv - xml), xml, (int)plen, priv, priv);
	assert_int_equal(dte_keys_from_mh(twice, strlen(twice), PASSWORD, &k, &e), ERR_INVALID);
	assert_non_null(strstr(e.message, "twice"));
	free(twice);
	/* mismatched closing tag */
	char *bad = xstrdup(xml);
	char *tag = strstr(bad, "</format>");
	memcpy(tag, "</formas>", 9);
	assert_int_equal(dte_keys_from_mh(bad, strlen(bad), PASSWORD, &k, &e), ERR_INVALID);
	free(bad);
	/* another root element, and PEM text */
	assert_int_equal(dte_keys_from_mh("<Certificado/>", 14, PASSWORD, &k, &e), ERR_INVALID);
	assert_int_equal(dte_keys_from_mh(pem_key_a, strlen(pem_key_a), PASSWORD, &k, &e), ERR_INVALID);
	/* unknown entity */
	char *ent = xstrdup(xml);
	char *id = strstr(ent, "<_id>");
	memcpy(id + 5, "&foo;", 5);
	assert_int_equal(dte_keys_from_mh(ent, strlen(ent), PASSWORD, &k, &e), ERR_INVALID);
	free(ent);
	assert_null(k);
	free(xml);
}

static void test_public_from_text(void **state)
{
	struct jws_key *pub = NULL;
	char nit[DTE_NIT_MAX + 1];
	struct err e;
	(void)state;
	/* MH's file: the public key, no password needed */
	char *xml = mh_xml(NIT, "true", priv_b64_a, pub_b64_a, PASSWORD);
	assert_int_equal(dte_keys_public_from_text(xml, strlen(xml), &pub, nit, &e), 0);
	assert_string_equal(nit, NIT);
	assert_false(jws_key_is_private(pub));
	struct dte_key *k = NULL;
	assert_int_equal(dte_keys_from_mh(xml, strlen(xml), PASSWORD, &k, &e), 0);
	assert_true(jws_key_match(pub, dte_keys_public(k)));
	dte_keys_free(k);
	jws_key_free(pub);
	free(xml);
	/* a PEM certificate */
	assert_int_equal(dte_keys_public_from_text(pem_cert_a, strlen(pem_cert_a), &pub, nit, &e), 0);
	assert_string_equal(nit, "");
	jws_key_free(pub);
	/* nothing usable */
	assert_int_equal(dte_keys_public_from_text("nada", 4, &pub, nit, &e), ERR_INVALID);
	assert_null(pub);
}

static void test_pem_key_and_certificate(void **state)
{
	struct dte_key *k = NULL;
	struct err e;
	(void)state;
	assert_int_equal(dte_keys_from_pem(pem_key_a, strlen(pem_key_a), pem_cert_a, strlen(pem_cert_a), NULL, &k, &e),
			 0);
	assert_int_equal(dte_keys_source(k), DTE_KEY_PEM);
	assert_string_equal(dte_keys_nit(k), "");
	assert_signs(k);
	dte_keys_free(k);
	k = NULL;
	/* key alone: the public half comes from the key */
	assert_int_equal(dte_keys_from_pem(pem_key_a, strlen(pem_key_a), NULL, 0, NULL, &k, &e), 0);
	assert_signs(k);
	dte_keys_free(k);
	k = NULL;
	/* an encrypted key with its passphrase */
	char *enc = key_pem(pk_a, PASSWORD);
	assert_int_equal(dte_keys_from_pem(enc, strlen(enc), pem_cert_a, strlen(pem_cert_a), PASSWORD, &k, &e), 0);
	assert_signs(k);
	dte_keys_free(k);
	k = NULL;
	assert_int_equal(dte_keys_from_pem(enc, strlen(enc), NULL, 0, "otra", &k, &e), ERR_INVALID);
	assert_string_equal(e.field, "DTE_PRIVATE_KEY");
	assert_clean(&e);
	free(enc);
}

static void test_pem_mismatched_certificate_refused(void **state)
{
	struct dte_key *k = NULL;
	struct err e;
	(void)state;
	assert_int_equal(dte_keys_from_pem(pem_key_a, strlen(pem_key_a), pem_cert_b, strlen(pem_cert_b), NULL, &k, &e),
			 ERR_INVALID);
	assert_null(k);
	assert_string_equal(e.field, "DTE_CERTIFICATE");
	assert_non_null(strstr(e.message, "does not belong"));
	assert_clean(&e);
	/* a certificate that is not one */
	assert_int_equal(dte_keys_from_pem(pem_key_a, strlen(pem_key_a),
					   "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 60, NULL,
					   &k, &e),
			 ERR_INVALID);
	assert_string_equal(e.field, "DTE_CERTIFICATE");
	/* the private key where the certificate should be: no public key in it */
	assert_int_equal(dte_keys_from_pem(pem_key_a, strlen(pem_key_a), pem_key_a, strlen(pem_key_a), NULL, &k, &e),
			 ERR_INVALID);
	assert_clean(&e);
}

static void test_load_files_and_env(void **state)
{
	struct dte_key *k = NULL;
	struct err e;
	(void)state;
	char *key = write_file("key.pem", pem_key_a, 0600);
	char *cert = write_file("cert.pem", pem_cert_a, 0644);
	char *other = write_file("other.pem", pem_cert_b, 0644);
	char *xml = mh_xml(NIT, "true", priv_b64_a, pub_b64_a, PASSWORD);
	char *crt = write_file(NIT ".crt", xml, 0600);

	assert_int_equal(dte_keys_load_files(key, cert, NULL, &k, &e), 0);
	assert_signs(k);
	dte_keys_free(k);
	k = NULL;
	assert_int_equal(dte_keys_load_files(key, other, NULL, &k, &e), ERR_INVALID);
	/* MH's file by content, whatever its name */
	assert_int_equal(dte_keys_load_files(NULL, crt, PASSWORD, &k, &e), 0);
	assert_int_equal(dte_keys_source(k), DTE_KEY_MH);
	dte_keys_free(k);
	k = NULL;
	assert_int_equal(dte_keys_load_files("", crt, "mala", &k, &e), ERR_INVALID);
	assert_string_equal(e.field, "DTE_CERT_PASSWORD");
	/* MH's file plus a PEM key is ambiguous */
	assert_int_equal(dte_keys_load_files(key, crt, PASSWORD, &k, &e), ERR_INVALID);
	assert_string_equal(e.field, "DTE_PRIVATE_KEY");
	/* a PEM certificate alone cannot sign */
	assert_int_equal(dte_keys_load_files(NULL, cert, NULL, &k, &e), ERR_INVALID);
	assert_string_equal(e.field, "DTE_PRIVATE_KEY");
	/* missing file, directory, nothing configured */
	char *missing = xasprintf("%s/none.pem", dir);
	assert_int_equal(dte_keys_load_files(missing, NULL, NULL, &k, &e), ERR_INVALID);
	assert_string_equal(e.field, "DTE_PRIVATE_KEY");
	assert_int_equal(dte_keys_load_files(dir, NULL, NULL, &k, &e), ERR_INVALID);
	assert_int_equal(dte_keys_load_files(NULL, NULL, NULL, &k, &e), ERR_NOT_FOUND);
	assert_null(k);

	/* the environment */
	unsetenv("DTE_PRIVATE_KEY");
	unsetenv("DTE_CERTIFICATE");
	unsetenv("DTE_CERT_PASSWORD");
	assert_int_equal(dte_keys_load_env(&k, &e), ERR_NOT_FOUND);
	setenv("DTE_CERTIFICATE", crt, 1);
	setenv("DTE_CERT_PASSWORD", PASSWORD, 1);
	assert_int_equal(dte_keys_load_env(&k, &e), 0);
	assert_string_equal(dte_keys_nit(k), NIT);
	dte_keys_free(k);
	k = NULL;
	setenv("DTE_CERT_PASSWORD", "incorrecta", 1);
	assert_int_equal(dte_keys_load_env(&k, &e), ERR_INVALID);
	assert_clean(&e);
	setenv("DTE_PRIVATE_KEY", key, 1);
	setenv("DTE_CERTIFICATE", cert, 1);
	unsetenv("DTE_CERT_PASSWORD");
	assert_int_equal(dte_keys_load_env(&k, &e), 0);
	assert_int_equal(dte_keys_source(k), DTE_KEY_PEM);
	dte_keys_free(k);
	unsetenv("DTE_PRIVATE_KEY");
	unsetenv("DTE_CERTIFICATE");

	free(missing);
	free(key);
	free(cert);
	free(other);
	free(crt);
	free(xml);
}

static void test_sign_without_key(void **state)
{
	char *jws = (char *)"x";
	struct err e;
	(void)state;
	assert_int_equal(dte_keys_sign(NULL, "{}", 2, &jws, &e), ERR_UNAVAILABLE);
	assert_null(jws);
	assert_null(dte_keys_public(NULL));
	assert_string_equal(dte_keys_nit(NULL), "");
	dte_keys_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mh_file_with_password),
	    cmocka_unit_test(test_mh_wrong_password_refused),
	    cmocka_unit_test(test_mh_upper_case_clave_and_wrapped_base64),
	    cmocka_unit_test(test_mh_inactive_or_mismatched_refused),
	    cmocka_unit_test(test_mh_malformed_xml_refused),
	    cmocka_unit_test(test_public_from_text),
	    cmocka_unit_test(test_pem_key_and_certificate),
	    cmocka_unit_test(test_pem_mismatched_certificate_refused),
	    cmocka_unit_test(test_load_files_and_env),
	    cmocka_unit_test(test_sign_without_key),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
