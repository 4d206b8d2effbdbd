/*
 * ratelimit.h - token buckets per caller (API key, user, or client IP).
 *
 * A bucket holds `burst` tokens and refills at per_minute/60 tokens a
 * second. State lives in a fixed table (no growth under attack): a key
 * hashes to a slot with a short probe; when every probed slot is busy the
 * least recently used one is recycled. Integer arithmetic in milli-tokens.
 */
#ifndef CL_HTTP_RATELIMIT_H
#define CL_HTTP_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* per_minute 0 disables limiting. Owned: free with ratelimit_free. */
struct ratelimit *ratelimit_new(int per_minute, int burst);
void ratelimit_free(struct ratelimit *rl);

/* Take one token for key at now_ms. Returns 1 when allowed; 0 when limited,
 * with *retry_after_s set to the whole seconds until a token is available. */
int ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s);

#endif
