/* Per-source-address token buckets for the hub's handshake answers, so a
 * flood of captured or forged inits from one address gets a bounded trickle
 * of answers instead of one for one (WireGuard's ratelimiter.c does the
 * same for its handshake: 20 a second per source, a burst of 5).
 *
 * A fixed table, no allocation: RATELIMIT_SETS sets of RATELIMIT_WAYS
 * entries, the set picked by a keyed hash (SipHash) of the address so a
 * stranger cannot aim its addresses at one set. A source the table does
 * not hold takes the set's least recently used entry, with a full bucket:
 * eviction can only ever be lenient to a source, never lock one out. */
#ifndef BRAID_RATELIMIT_H
#define BRAID_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define RATELIMIT_SETS   256		/* power of two */
#define RATELIMIT_WAYS   4
#define RATELIMIT_KEY_LEN 16
#define RATELIMIT_RATE   20		/* answers a second per source, the default */
#define RATELIMIT_BURST  5

struct ratelimit {
	uint8_t key[RATELIMIT_KEY_LEN];
	uint64_t cost_ns;	/* credit one answer takes: 1 s / rate */
	uint64_t max_ns;	/* a full bucket: burst * cost_ns */
	struct ratelimit_entry {
		uint8_t addr[ADDR_KEY_LEN];
		bool used;
		uint64_t credit_ns;
		uint64_t last;	/* when credit_ns was last brought up to date */
	} e[RATELIMIT_SETS][RATELIMIT_WAYS];
};

/* rate answers a second (>= 1) and a burst of burst (>= 1); key is the hash
 * key, random per process. */
void ratelimit_init(struct ratelimit *rl, const uint8_t key[RATELIMIT_KEY_LEN],
		    uint32_t rate, uint32_t burst);
/* True if an answer to a may go out at time now (ns, monotonic), and takes
 * its token; false if a's bucket is empty. Never allocates. */
bool ratelimit_allow(struct ratelimit *rl, const union braid_addr *a, uint64_t now);
/* The set a's entry lives in, 0..RATELIMIT_SETS-1 (for tests of collisions). */
unsigned ratelimit_set_of(const struct ratelimit *rl, const union braid_addr *a);

#endif
