/* Anti-replay window over a session's packet counters, after RFC 6479: a
 * ring of 64-bit blocks, so sliding the window forward clears whole blocks
 * instead of shifting a bitmap. Accepts any counter not seen before that is
 * no more than REPLAY_WINDOW below the highest seen. */
#ifndef BRAID_REPLAY_H
#define BRAID_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_BLOCKS 64			/* power of two */
#define REPLAY_WINDOW ((REPLAY_BLOCKS - 1) * 64)	/* 4032 counters */

struct replay {
	uint64_t top;		/* highest counter accepted; valid once `any` */
	bool any;
	uint64_t block[REPLAY_BLOCKS];
};

void replay_init(struct replay *r);
/* True if counter is acceptable now (new and inside the window). Does not
 * record it: call before the costly decryption to reject early. */
bool replay_check(const struct replay *r, uint64_t counter);
/* Records counter after the packet authenticated. Returns false (and records
 * nothing) if it is a replay or too old, so check+commit is race-free for one
 * thread. */
bool replay_commit(struct replay *r, uint64_t counter);

#endif
