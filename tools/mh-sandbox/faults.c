/*
 * faults.c - fault injection for the MH endpoints (never /_sandbox/).
 *
 * Knobs (JSON names of /_sandbox/faults; flags and MH_SANDBOX_* variables
 * in docs/mh-sandbox.md):
 *   latencyMs     every matching request waits this long first
 *   hangNext      the next N requests hang hangSeconds (-1 = all of them),
 *   hangSeconds   then, hangMode "drop": the connection is closed with no
 *   hangMode      answer; "answer": the request is processed normally and
 *                 answered late (MH received it although the client gave up)
 *   failNext      the next N requests answer failStatus (-1 = all of them:
 *   failStatus    "MH is down"), 500/502/503/504, default 503
 *   errorRatePct  each request fails with failStatus with this probability
 *   seed          of that deterministic pseudo-random sequence
 *   rejectNext    the next N DTE receptions are RECHAZADO with rejectCode
 *   rejectCode    (a codigoMsg, default "099"), after the document passed
 *                 every check (so the rejection is the only difference)
 *   path          only requests whose path starts with this ("" = all MH
 *                 endpoints, "/fesv/" = all but auth, "/fesv/recepciondte")
 * Order per request: latency, hang, fail. A request that hangs in "drop"
 * mode does not also count as a failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sbx.h"

struct faults {
	int latency_ms;
	int hang_next;
	int hang_seconds;
	char hang_mode[8];
	int fail_next;
	int fail_status;
	int error_rate_pct;
	unsigned long long seed, rng;
	int reject_next;
	char reject_code[4];
	char path[128];
};

static pthread_mutex_t flock = PTHREAD_MUTEX_INITIALIZER;
static struct faults F = {
    .hang_seconds = 10, .hang_mode = "drop", .fail_status = 503, .seed = 1, .rng = 1, .reject_code = "099"};

static unsigned next_random(void)
{
	/* xorshift64*: deterministic for a given seed */
	unsigned long long x = F.rng ? F.rng : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	F.rng = x;
	return (unsigned)((x * 0x2545F4914F6CDD1Dull) >> 33);
}

void sbx_faults_reset(void)
{
	pthread_mutex_lock(&flock);
	memset(&F, 0, sizeof(F));
	F.hang_seconds = 10;
	snprintf(F.hang_mode, sizeof(F.hang_mode), "drop");
	F.fail_status = 503;
	F.seed = F.rng = 1;
	snprintf(F.reject_code, sizeof(F.reject_code), "099");
	pthread_mutex_unlock(&flock);
}

json_t *sbx_faults_json(void)
{
	pthread_mutex_lock(&flock);
	json_t *j =
	    json_pack("{s:i, s:i, s:i, s:s, s:i, s:i, s:i, s:I, s:i, s:s, s:s}", "latencyMs", F.latency_ms, "hangNext",
		      F.hang_next, "hangSeconds", F.hang_seconds, "hangMode", F.hang_mode, "failNext", F.fail_next,
		      "failStatus", F.fail_status, "errorRatePct", F.error_rate_pct, "seed", (json_int_t)F.seed,
		      "rejectNext", F.reject_next, "rejectCode", F.reject_code, "path", F.path);
	pthread_mutex_unlock(&flock);
	return j;
}

static int set_int(const char *name, const char *value, long lo, long hi, long *out, struct err *e)
{
	char *end;
	long v = strtol(value, &end, 10);
	if (*value == '\0' || *end != '\0' || v < lo || v > hi)
		return err_set(e, ERR_INVALID, name, "%s must be an integer from %ld to %ld", name, lo, hi);
	*out = v;
	return 0;
}

/* Set one knob by its JSON name; caller holds flock. */
static int set_locked(const char *name, const char *value, struct err *e)
{
	long v;
	int rc;

	if (strcmp(name, "latencyMs") == 0) {
		if ((rc = set_int(name, value, 0, 600000, &v, e)))
			return rc;
		F.latency_ms = (int)v;
	} else if (strcmp(name, "hangNext") == 0) {
		if ((rc = set_int(name, value, -1, 1000000, &v, e)))
			return rc;
		F.hang_next = (int)v;
	} else if (strcmp(name, "hangSeconds") == 0) {
		if ((rc = set_int(name, value, 0, 3600, &v, e)))
			return rc;
		F.hang_seconds = (int)v;
	} else if (strcmp(name, "hangMode") == 0) {
		if (strcmp(value, "drop") != 0 && strcmp(value, "answer") != 0)
			return err_set(e, ERR_INVALID, name, "hangMode must be \"drop\" or \"answer\"");
		snprintf(F.hang_mode, sizeof(F.hang_mode), "%s", value);
	} else if (strcmp(name, "failNext") == 0) {
		if ((rc = set_int(name, value, -1, 1000000, &v, e)))
			return rc;
		F.fail_next = (int)v;
	} else if (strcmp(name, "failStatus") == 0) {
		if ((rc = set_int(name, value, 500, 599, &v, e)))
			return rc;
		F.fail_status = (int)v;
	} else if (strcmp(name, "errorRatePct") == 0) {
		if ((rc = set_int(name, value, 0, 100, &v, e)))
			return rc;
		F.error_rate_pct = (int)v;
	} else if (strcmp(name, "seed") == 0) {
		if ((rc = set_int(name, value, 0, 2147483647, &v, e)))
			return rc;
		F.seed = (unsigned long long)v;
		F.rng = F.seed * 0x9E3779B97F4A7C15ull + 1;
	} else if (strcmp(name, "rejectNext") == 0) {
		if ((rc = set_int(name, value, -1, 1000000, &v, e)))
			return rc;
		F.reject_next = (int)v;
	} else if (strcmp(name, "rejectCode") == 0) {
		if (strlen(value) != 3 || !sbx_msg_text(value) || strcmp(value, "001") == 0 ||
		    strcmp(value, "002") == 0)
			return err_set(e, ERR_INVALID, name,
				       "rejectCode must be one of MH's rejection codes (003..099)");
		snprintf(F.reject_code, sizeof(F.reject_code), "%s", value);
	} else if (strcmp(name, "path") == 0) {
		if (value[0] != '\0' && value[0] != '/')
			return err_set(e, ERR_INVALID, name, "path must be empty or start with /");
		snprintf(F.path, sizeof(F.path), "%s", value);
	} else {
		return err_set(e, ERR_INVALID, name, "unknown fault knob %s", name);
	}
	return 0;
}

int sbx_faults_set(const char *name, const char *value, struct err *e)
{
	pthread_mutex_lock(&flock);
	int rc = set_locked(name, value, e);
	pthread_mutex_unlock(&flock);
	return rc;
}

int sbx_faults_update(const json_t *body, struct err *e)
{
	struct faults saved;
	const char *key;
	json_t *v;
	int rc = 0;

	if (!json_is_object(body))
		return err_set(e, ERR_INVALID, NULL, "body must be a JSON object of fault knobs");
	pthread_mutex_lock(&flock);
	saved = F;
	json_object_foreach((json_t *)body, key, v)
	{
		char text[160];
		if (json_is_integer(v))
			snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_string(v))
			snprintf(text, sizeof(text), "%s", json_string_value(v));
		else {
			rc = err_set(e, ERR_INVALID, key, "%s must be an integer or a string", key);
			break;
		}
		if ((rc = set_locked(key, text, e)))
			break;
	}
	if (rc)
		F = saved; /* all or nothing */
	pthread_mutex_unlock(&flock);
	return rc;
}

bool sbx_faults_before(const struct sbx_req *r, struct sbx_resp *resp)
{
	int latency, hang_s = 0, fail_status = 0;
	bool hang = false, drop = false;

	pthread_mutex_lock(&flock);
	if (F.path[0] && strncmp(r->path, F.path, strlen(F.path)) != 0) {
		pthread_mutex_unlock(&flock);
		return false;
	}
	latency = F.latency_ms;
	if (F.hang_next != 0) {
		if (F.hang_next > 0)
			F.hang_next--;
		hang = true;
		hang_s = F.hang_seconds;
		drop = strcmp(F.hang_mode, "drop") == 0;
	}
	if (!(hang && drop)) {
		if (F.fail_next != 0) {
			if (F.fail_next > 0)
				F.fail_next--;
			fail_status = F.fail_status;
		} else if (F.error_rate_pct > 0 && (int)(next_random() % 100) < F.error_rate_pct) {
			fail_status = F.fail_status;
		}
	}
	pthread_mutex_unlock(&flock);

	if (latency > 0)
		sbx_sleep_ms(latency);
	if (hang) {
		sbx_lock();
		sbx_stats()->faults_hung++;
		if (drop)
			sbx_stats()->faults_dropped++;
		sbx_unlock();
		sbx_sleep_ms((int64_t)hang_s * 1000);
		if (drop) {
			resp->drop = true;
			return true;
		}
	}
	if (fail_status) {
		sbx_lock();
		sbx_stats()->faults_5xx++;
		sbx_unlock();
		sbx_reply_error(resp, r, fail_status, "Servicio no disponible (sandbox fault injection)");
		return true;
	}
	return false;
}

bool sbx_faults_take_reject(char code[4])
{
	bool take = false;
	pthread_mutex_lock(&flock);
	if (F.reject_next != 0) {
		if (F.reject_next > 0)
			F.reject_next--;
		snprintf(code, 4, "%s", F.reject_code);
		take = true;
	}
	pthread_mutex_unlock(&flock);
	return take;
}
