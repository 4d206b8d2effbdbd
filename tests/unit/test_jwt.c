/*
 * test_jwt.c - unit tests of src/crypto/jwt.c.
 *
 * Round trips, then every way a token must be refused (tampering, wrong
 * key, alg none/HS512, expiry, issuer, audience, garbage, oversize), and
 * two vectors made by an independent implementation (Node.js 20 crypto
 * createHmac, see the comment on NODE_KEY) so sign and verify are not only
 * checked against each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"

#define ISS "clinicledger"
#define AUD "clinicledger-api"
#define NOW ((int64_t)1760000000)

static const unsigned char KEY[] = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz";
#define KEY_LEN (sizeof(KEY) - 1)

static void fill_claims(struct jwt_claims *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->iss, sizeof(c->iss), "%s", ISS);
	snprintf(c->aud, sizeof(c->aud), "%s", AUD);
	snprintf(c->sub, sizeof(c->sub), "%s", "usr_0001");
	snprintf(c->tid, sizeof(c->tid), "%s", "ten_0001");
	snprintf(c->role, sizeof(c->role), "%s", "admin");
	snprintf(c->sid, sizeof(c->sid), "%s", "ses_0001");
	snprintf(c->jti, sizeof(c->jti), "%s", "jti_0001");
	c->iat = NOW;
	c->exp = NOW + 900;
}

static int verify(const char *tok, struct jwt_claims *out, struct err *e)
{
	err_clear(e);
	return jwt_verify_hs256(tok, KEY, KEY_LEN, ISS, AUD, NOW, out, e);
}

static void assert_rejected(const char *tok)
{
	struct jwt_claims out;
	struct err e;

	assert_int_equal(verify(tok, &out, &e), ERR_UNAUTHORIZED);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_string_equal(e.message, "invalid or expired access token");
	assert_true(e.detail[0] != '\0');
}

/* header.payload signed with KEY under HS256, from raw JSON texts. */
static char *forge(const char *header_json, const char *payload_json)
{
	char *h = b64url_encode(header_json, strlen(header_json));
	char *p = b64url_encode(payload_json, strlen(payload_json));
	char *signing, *sig, *tok;
	unsigned char mac[SHA256_LEN];
	size_t n;

	n = strlen(h) + strlen(p) + 2;
	signing = malloc(n);
	snprintf(signing, n, "%s.%s", h, p);
	crypto_hmac_sha256(KEY, KEY_LEN, signing, strlen(signing), mac);
	sig = b64url_encode(mac, sizeof(mac));
	n = strlen(signing) + strlen(sig) + 2;
	tok = malloc(n);
	snprintf(tok, n, "%s.%s", signing, sig);
	free(h);
	free(p);
	free(signing);
	free(sig);
	return tok;
}

#define GOOD_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define GOOD_PAYLOAD                                                                             \
	"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"usr_0001\","           \
	"\"tid\":\"ten_0001\",\"iat\":1760000000,\"exp\":1760000900}"

static void test_round_trip(void **state)
{
	struct jwt_claims c, out;
	struct err e;
	char *tok;

	(void)state;
	fill_claims(&c);
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	assert_non_null(strchr(tok, '.'));
	assert_null(strchr(tok, '='));
	memset(&out, 0xaa, sizeof(out));
	assert_int_equal(verify(tok, &out, &e), 0);
	assert_int_equal(e.code, 0);
	assert_string_equal(out.iss, ISS);
	assert_string_equal(out.aud, AUD);
	assert_string_equal(out.sub, "usr_0001");
	assert_string_equal(out.tid, "ten_0001");
	assert_string_equal(out.role, "admin");
	assert_string_equal(out.sid, "ses_0001");
	assert_string_equal(out.jti, "jti_0001");
	assert_int_equal(out.iat, NOW);
	assert_int_equal(out.exp, NOW + 900);
	free(tok);

	/* Optional claims may be absent. */
	c.role[0] = c.sid[0] = c.jti[0] = '\0';
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	assert_int_equal(verify(tok, &out, &e), 0);
	assert_string_equal(out.role, "");
	assert_string_equal(out.sid, "");
	free(tok);

	/* The forge helper itself produces acceptable tokens. */
	tok = forge(GOOD_HEADER, GOOD_PAYLOAD);
	assert_int_equal(verify(tok, &out, &e), 0);
	free(tok);
}

static void test_tampered(void **state)
{
	struct jwt_claims c;
	char *tok, *dot1, *dot2, *copy;
	size_t len;

	(void)state;
	fill_claims(&c);
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	len = strlen(tok);
	dot1 = strchr(tok, '.');
	dot2 = strchr(dot1 + 1, '.');

	/* Payload: change one character. */
	copy = strdup(tok);
	copy[(dot1 - tok) + 5] = copy[(dot1 - tok) + 5] == 'A' ? 'B' : 'A';
	assert_rejected(copy);
	free(copy);

	/* Payload replaced by one granting another tenant, old signature kept. */
	{
		char *other = b64url_encode("{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\","
					    "\"sub\":\"usr_0001\",\"tid\":\"ten_9999\","
					    "\"iat\":1760000000,\"exp\":1760000900}",
					    strlen("{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\","
						   "\"sub\":\"usr_0001\",\"tid\":\"ten_9999\","
						   "\"iat\":1760000000,\"exp\":1760000900}"));
		size_t n = (size_t)(dot1 - tok) + 1 + strlen(other) + strlen(dot2) + 1;
		copy = malloc(n);
		snprintf(copy, n, "%.*s.%s%s", (int)(dot1 - tok), tok, other, dot2);
		assert_rejected(copy);
		free(copy);
		free(other);
	}

	/* Signature: change first character, and drop last character. */
	copy = strdup(tok);
	copy[(dot2 - tok) + 1] = copy[(dot2 - tok) + 1] == 'A' ? 'B' : 'A';
	assert_rejected(copy);
	free(copy);
	copy = strdup(tok);
	copy[len - 1] = '\0';
	assert_rejected(copy);
	free(copy);

	/* Header. */
	copy = strdup(tok);
	copy[2] = copy[2] == 'A' ? 'B' : 'A';
	assert_rejected(copy);
	free(copy);

	/* Trailing data. */
	{
		size_t n = len + 3;
		copy = malloc(n);
		snprintf(copy, n, "%s.x", tok);
		assert_rejected(copy);
		snprintf(copy, n, "%sA", tok);
		assert_rejected(copy);
		free(copy);
	}
	free(tok);
}

static void test_wrong_key(void **state)
{
	static const unsigned char other[] = "another-key-0123456789-abcdefghijklmnopqrstuvwxyz0";
	struct jwt_claims c, out;
	struct err e;
	char *tok;

	(void)state;
	fill_claims(&c);
	tok = jwt_sign_hs256(&c, other, sizeof(other) - 1);
	assert_rejected(tok);
	err_clear(&e);
	assert_int_equal(jwt_verify_hs256(tok, other, sizeof(other) - 1, ISS, AUD, NOW, &out, &e), 0);
	free(tok);
}

static void test_alg_none_and_others(void **state)
{
	char *tok, *h, *p, *raw;
	size_t n;

	(void)state;
	/* alg none, unsigned (empty signature). */
	h = b64url_encode("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27);
	p = b64url_encode(GOOD_PAYLOAD, strlen(GOOD_PAYLOAD));
	n = strlen(h) + strlen(p) + 3;
	raw = malloc(n);
	snprintf(raw, n, "%s.%s.", h, p);
	assert_rejected(raw);
	/* ... and with no third part at all. */
	raw[strlen(raw) - 1] = '\0';
	assert_rejected(raw);
	free(raw);
	free(h);
	free(p);

	/* Correct HMAC-SHA256 signature but a header naming another alg. */
	tok = forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD_PAYLOAD);
	assert_rejected(tok);
	free(tok);
	tok = forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", GOOD_PAYLOAD);
	assert_rejected(tok);
	free(tok);
	tok = forge("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", GOOD_PAYLOAD);
	assert_rejected(tok);
	free(tok);
	tok = forge("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", GOOD_PAYLOAD);
	assert_rejected(tok);
	free(tok);
	tok = forge("{\"typ\":\"JWT\"}", GOOD_PAYLOAD);
	assert_rejected(tok);
	free(tok);
	tok = forge("{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}", GOOD_PAYLOAD);
	assert_rejected(tok);
	free(tok);
	tok = forge("{\"alg\":\"HS256\",\"alg\":\"none\"}", GOOD_PAYLOAD);
	assert_rejected(tok);
	free(tok);
	tok = forge("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", GOOD_PAYLOAD);
	assert_rejected(tok);
	free(tok);
	tok = forge("[\"HS256\"]", GOOD_PAYLOAD);
	assert_rejected(tok);
	free(tok);
}

static void test_time_checks(void **state)
{
	struct jwt_claims c, out;
	struct err e;
	char *tok;

	(void)state;
	fill_claims(&c);

	c.exp = NOW - 31; /* beyond the 30 s skew */
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	assert_rejected(tok);
	free(tok);

	c.exp = NOW - 10; /* within the skew */
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	assert_int_equal(verify(tok, &out, &e), 0);
	free(tok);

	c.exp = NOW - 30; /* exp must be > now - 30 */
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	assert_rejected(tok);
	free(tok);

	c.exp = NOW + 900;
	c.iat = NOW + 31; /* issued in the future */
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	assert_rejected(tok);
	free(tok);

	c.iat = NOW + 30;
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	assert_int_equal(verify(tok, &out, &e), 0);
	free(tok);
}

static void test_iss_aud(void **state)
{
	struct jwt_claims c;
	char *tok;

	(void)state;
	fill_claims(&c);
	snprintf(c.iss, sizeof(c.iss), "%s", "someone-else");
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	assert_rejected(tok);
	free(tok);

	fill_claims(&c);
	snprintf(c.aud, sizeof(c.aud), "%s", "other-api");
	tok = jwt_sign_hs256(&c, KEY, KEY_LEN);
	assert_rejected(tok);
	free(tok);

	/* aud as an array is refused (we only issue strings). */
	tok = forge(GOOD_HEADER, "{\"iss\":\"clinicledger\",\"aud\":[\"clinicledger-api\"],"
				 "\"sub\":\"usr_0001\",\"tid\":\"ten_0001\",\"iat\":1760000000,"
				 "\"exp\":1760000900}");
	assert_rejected(tok);
	free(tok);
}

static void test_claim_shape(void **state)
{
	static const char *payloads[] = {
		/* sub missing */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"tid\":\"ten_0001\","
		"\"iat\":1760000000,\"exp\":1760000900}",
		/* tid missing */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"usr_0001\","
		"\"iat\":1760000000,\"exp\":1760000900}",
		/* sub empty */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"\",\"tid\":\"t\","
		"\"iat\":1760000000,\"exp\":1760000900}",
		/* sub not a string */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":1,\"tid\":\"t\","
		"\"iat\":1760000000,\"exp\":1760000900}",
		/* exp missing */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"u\",\"tid\":\"t\","
		"\"iat\":1760000000}",
		/* exp a string */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"u\",\"tid\":\"t\","
		"\"iat\":1760000000,\"exp\":\"1760000900\"}",
		/* exp a real */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"u\",\"tid\":\"t\","
		"\"iat\":1760000000,\"exp\":1760000900.5}",
		/* iat missing */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"u\",\"tid\":\"t\","
		"\"exp\":1760000900}",
		/* sub longer than 39 bytes */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\","
		"\"sub\":\"usr_0123456789012345678901234567890123456789\",\"tid\":\"t\","
		"\"iat\":1760000000,\"exp\":1760000900}",
		/* role longer than 31 bytes */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"u\",\"tid\":\"t\","
		"\"role\":\"abcdefghijabcdefghijabcdefghijab\",\"iat\":1760000000,\"exp\":1760000900}",
		/* embedded NUL */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"u\\u0000x\","
		"\"tid\":\"t\",\"iat\":1760000000,\"exp\":1760000900}",
		/* duplicate key */
		"{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\",\"sub\":\"u\",\"tid\":\"t\","
		"\"tid\":\"t2\",\"iat\":1760000000,\"exp\":1760000900}",
		/* not an object / not JSON */
		"[1,2,3]",
		"not json",
		"",
	};
	char *tok;

	(void)state;
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		tok = forge(GOOD_HEADER, payloads[i]);
		assert_rejected(tok);
		free(tok);
	}
	/* Longest accepted sub: 39 bytes. */
	tok = forge(GOOD_HEADER, "{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\","
				 "\"sub\":\"usr_01234567890123456789012345678901234\",\"tid\":\"t\","
				 "\"iat\":1760000000,\"exp\":1760000900}");
	{
		struct jwt_claims out;
		struct err e;
		assert_int_equal(verify(tok, &out, &e), 0);
		assert_int_equal(strlen(out.sub), 39);
	}
	free(tok);
}

static void test_garbage_and_size(void **state)
{
	static const char *garbage[] = {
		"", ".", "..", "...", "a.b.c", "abc", "a.b", "a..c", ".b.c", "a.b.",
		"eyJhbGciOiJIUzI1NiJ9.e30.!!!!", "Bearer x.y.z", "a.b.c.d",
	};
	static const char fmt[] = "{\"iss\":\"clinicledger\",\"aud\":\"clinicledger-api\","
				  "\"sub\":\"u\",\"tid\":\"t\",\"iat\":1760000000,"
				  "\"exp\":1760000900,\"pad\":\"%s\"}";
	struct jwt_claims out;
	struct err e;
	char *big, *payload, *pad, *tok;

	(void)state;
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		assert_rejected(garbage[i]);
	assert_rejected(NULL);

	big = malloc(8001);
	memset(big, 'A', 8000);
	big[8000] = '\0';
	big[100] = '.';
	big[200] = '.';
	assert_rejected(big);
	free(big);

	/* A validly signed token over 4096 bytes is refused for its size... */
	payload = malloc(4000);
	pad = malloc(3200);
	memset(pad, 'x', 2950);
	pad[2950] = '\0';
	snprintf(payload, 4000, fmt, pad);
	tok = forge(GOOD_HEADER, payload);
	assert_true(strlen(tok) > 4096 && strlen(tok) < 4200);
	assert_rejected(tok);
	free(tok);
	/* ... while the same shape below the cap is accepted. */
	pad[2900] = '\0';
	snprintf(payload, 4000, fmt, pad);
	tok = forge(GOOD_HEADER, payload);
	assert_true(strlen(tok) <= 4096);
	assert_int_equal(verify(tok, &out, &e), 0);
	free(tok);
	free(payload);
	free(pad);
}

/*
 * Vectors from an independent implementation. Produced with Node.js v20:
 *
 *   const key = Buffer.from("independent-node-hmac-key-for-clinicledger-tests!");
 *   const b64u = s => Buffer.from(s).toString("base64url");
 *   const h = b64u(JSON.stringify(HEADER)), p = b64u(JSON.stringify(CLAIMS));
 *   h + "." + p + "." + crypto.createHmac("sha256", key).update(h + "." + p)
 *                                                 .digest("base64url")
 *
 * NODE_TOKEN_FOREIGN uses header {typ, alg} and claims in another order
 * (sub, tid, role, sid, jti, iat, exp, iss, aud): it must verify.
 * NODE_TOKEN_OURS uses our exact layout ({alg, typ}; iss, aud, sub, tid,
 * role, sid, jti, iat, exp): jwt_sign_hs256 must reproduce it byte for byte.
 */
static const char NODE_KEY[] = "independent-node-hmac-key-for-clinicledger-tests!";
static const char NODE_TOKEN_FOREIGN[] =
	"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
	"eyJzdWIiOiJ1c3JfN2YzYTljMmUiLCJ0aWQiOiJ0ZW5fNDFiOGQwYWEiLCJyb2xlIjoiYmlsbGluZ19jbGVyayIsInNp"
	"ZCI6InNlc18wOWMxZTJmMyIsImp0aSI6Imp0aV81ZDZlN2Y4MCIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0"
	"ODAwLCJpc3MiOiJjbGluaWNsZWRnZXIiLCJhdWQiOiJjbGluaWNsZWRnZXItYXBpIn0."
	"7UQDu7gNuSTqcZUTkhbhj-VmFu6l3L6rrjRFSduye2w";
static const char NODE_TOKEN_OURS[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	"eyJpc3MiOiJjbGluaWNsZWRnZXIiLCJhdWQiOiJjbGluaWNsZWRnZXItYXBpIiwic3ViIjoidXNyXzdmM2E5YzJlIiwi"
	"dGlkIjoidGVuXzQxYjhkMGFhIiwicm9sZSI6ImJpbGxpbmdfY2xlcmsiLCJzaWQiOiJzZXNfMDljMWUyZjMiLCJqdGki"
	"OiJqdGlfNWQ2ZTdmODAiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0."
	"Bx4pLsBgXHqfqq3vvRvQvSK6fIiE9-2xkt-nVDwYCJs";

static void check_node_claims(const struct jwt_claims *out)
{
	assert_string_equal(out->iss, "clinicledger");
	assert_string_equal(out->aud, "clinicledger-api");
	assert_string_equal(out->sub, "usr_7f3a9c2e");
	assert_string_equal(out->tid, "ten_41b8d0aa");
	assert_string_equal(out->role, "billing_clerk");
	assert_string_equal(out->sid, "ses_09c1e2f3");
	assert_string_equal(out->jti, "jti_5d6e7f80");
	assert_int_equal(out->iat, 1700000000);
	assert_int_equal(out->exp, 4102444800);
}

static void test_independent_vectors(void **state)
{
	const unsigned char *key = (const unsigned char *)NODE_KEY;
	size_t key_len = sizeof(NODE_KEY) - 1;
	struct jwt_claims c, out;
	struct err e;
	char *tok;

	(void)state;
	err_clear(&e);
	assert_int_equal(jwt_verify_hs256(NODE_TOKEN_FOREIGN, key, key_len, "clinicledger",
					  "clinicledger-api", NOW, &out, &e),
			 0);
	check_node_claims(&out);

	err_clear(&e);
	assert_int_equal(jwt_verify_hs256(NODE_TOKEN_OURS, key, key_len, "clinicledger",
					  "clinicledger-api", NOW, &out, &e),
			 0);
	check_node_claims(&out);

	/* Our signer reproduces the independent token exactly. */
	memset(&c, 0, sizeof(c));
	snprintf(c.iss, sizeof(c.iss), "%s", "clinicledger");
	snprintf(c.aud, sizeof(c.aud), "%s", "clinicledger-api");
	snprintf(c.sub, sizeof(c.sub), "%s", "usr_7f3a9c2e");
	snprintf(c.tid, sizeof(c.tid), "%s", "ten_41b8d0aa");
	snprintf(c.role, sizeof(c.role), "%s", "billing_clerk");
	snprintf(c.sid, sizeof(c.sid), "%s", "ses_09c1e2f3");
	snprintf(c.jti, sizeof(c.jti), "%s", "jti_5d6e7f80");
	c.iat = 1700000000;
	c.exp = 4102444800;
	tok = jwt_sign_hs256(&c, key, key_len);
	assert_string_equal(tok, NODE_TOKEN_OURS);
	free(tok);

	/* With our test key instead, the node token is refused. */
	assert_rejected(NODE_TOKEN_FOREIGN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_alg_none_and_others),
		cmocka_unit_test(test_time_checks),
		cmocka_unit_test(test_iss_aud),
		cmocka_unit_test(test_claim_shape),
		cmocka_unit_test(test_garbage_and_size),
		cmocka_unit_test(test_independent_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
