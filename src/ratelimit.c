/* Per-source token buckets; see ratelimit.h. */
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

void ratelimit_init(struct ratelimit *rl, const uint8_t key[RATELIMIT_KEY_LEN],
		    uint32_t rate, uint32_t burst)
{
	memset(rl, 0, sizeof(*rl));
	memcpy(rl->key, key, RATELIMIT_KEY_LEN);
	rl->cost_ns = 1000000000ull / (rate ? rate : 1);
	rl->max_ns = rl->cost_ns * (burst ? burst : 1);
}

static unsigned set_of(const struct ratelimit *rl, const uint8_t k[ADDR_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, k, ADDR_KEY_LEN, rl->key);
	return (unsigned)(h[0] | (unsigned)h[1] << 8) & (RATELIMIT_SETS - 1);
}

unsigned ratelimit_set_of(const struct ratelimit *rl, const union braid_addr *a)
{
	uint8_t k[ADDR_KEY_LEN];

	addr_key(a, k);
	return set_of(rl, k);
}

bool ratelimit_allow(struct ratelimit *rl, const union braid_addr *a, uint64_t now)
{
	uint8_t k[ADDR_KEY_LEN];
	struct ratelimit_entry *set, *e = NULL, *old;

	addr_key(a, k);
	set = rl->e[set_of(rl, k)];
	old = &set[0];
	for (unsigned w = 0; w < RATELIMIT_WAYS; w++) {
		if (set[w].used && memcmp(set[w].addr, k, sizeof(k)) == 0) {
			e = &set[w];
			break;
		}
		/* The first free way, else the least recently used. */
		if (old->used && (!set[w].used || set[w].last < old->last))
			old = &set[w];
	}
	if (!e) {
		e = old;
		memcpy(e->addr, k, sizeof(k));
		e->used = true;
		e->credit_ns = rl->max_ns;
		e->last = now;
	}
	/* A clock that went back (it should not: it is monotonic) refills
	 * nothing rather than everything. */
	if (now > e->last) {
		uint64_t add = now - e->last;

		e->credit_ns = add >= rl->max_ns - e->credit_ns ? rl->max_ns : e->credit_ns + add;
	}
	e->last = now;
	if (e->credit_ns < rl->cost_ns)
		return false;
	e->credit_ns -= rl->cost_ns;
	return true;
}
