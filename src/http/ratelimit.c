/* ratelimit.c - striped fixed-size table of token buckets. */
#include "http/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

#define RL_SLOTS 65536
#define RL_STRIPES 64
#define RL_PROBE 8
#define RL_KEY 64

struct rl_slot {
	char key[RL_KEY];
	int64_t milli_tokens;
	int64_t last_ms;
};

struct ratelimit {
	int per_minute, burst;
	struct rl_slot *slots;
	pthread_mutex_t locks[RL_STRIPES];
};

struct ratelimit *ratelimit_new(int per_minute, int burst)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	rl->per_minute = per_minute;
	rl->burst = burst > 0 ? burst : 1;
	rl->slots = xcalloc(RL_SLOTS, sizeof(*rl->slots));
	for (int i = 0; i < RL_STRIPES; i++)
		pthread_mutex_init(&rl->locks[i], NULL);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < RL_STRIPES; i++)
		pthread_mutex_destroy(&rl->locks[i]);
	free(rl->slots);
	free(rl);
}

static uint64_t rl_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

int ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s)
{
	char k[RL_KEY];
	uint64_t h;
	size_t base, stripe, pick = SIZE_MAX, oldest = 0;
	int allowed;

	if (rl->per_minute <= 0)
		return 1;
	snprintf(k, sizeof(k), "%s", key);
	h = rl_hash(k);
	/* probe within one stripe so a single lock covers the whole probe */
	base = (size_t)(h % RL_SLOTS) & ~(size_t)(RL_PROBE - 1);
	stripe = (base / RL_PROBE) % RL_STRIPES;
	pthread_mutex_lock(&rl->locks[stripe]);
	for (size_t i = 0; i < RL_PROBE; i++) {
		struct rl_slot *s = &rl->slots[base + i];
		if (strcmp(s->key, k) == 0) {
			pick = base + i;
			break;
		}
		if (!s->key[0] && pick == SIZE_MAX)
			pick = base + i;
		if (s->last_ms < rl->slots[base + oldest].last_ms)
			oldest = i;
	}
	if (pick == SIZE_MAX || strcmp(rl->slots[pick].key, k) != 0) {
		if (pick == SIZE_MAX)
			pick = base + oldest;
		memcpy(rl->slots[pick].key, k, sizeof(k));
		rl->slots[pick].milli_tokens = (int64_t)rl->burst * 1000;
		rl->slots[pick].last_ms = now_ms;
	}
	struct rl_slot *s = &rl->slots[pick];
	int64_t elapsed = now_ms - s->last_ms;
	if (elapsed > 0) {
		/* per_minute tokens per 60,000 ms = per_minute milli-tokens per 60 ms */
		int64_t refill = elapsed * rl->per_minute / 60;
		if (refill > 0) {
			/* advance the clock only by the time converted, keeping the remainder */
			s->last_ms += refill * 60 / rl->per_minute;
			s->milli_tokens += refill;
			if (s->milli_tokens >= (int64_t)rl->burst * 1000) {
				s->milli_tokens = (int64_t)rl->burst * 1000;
				s->last_ms = now_ms;
			}
		}
	}
	if (s->milli_tokens >= 1000) {
		s->milli_tokens -= 1000;
		allowed = 1;
	} else {
		int64_t missing = 1000 - s->milli_tokens;
		int64_t wait_ms = (missing * 60 + rl->per_minute - 1) / rl->per_minute;
		*retry_after_s = (int)((wait_ms + 999) / 1000);
		if (*retry_after_s < 1)
			*retry_after_s = 1;
		allowed = 0;
	}
	pthread_mutex_unlock(&rl->locks[stripe]);
	return allowed;
}
