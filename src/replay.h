/* Anti-replay windows over a session's packet counters, after RFC 6479: a
 * ring of 64-bit blocks, so sliding the window forward clears whole blocks
 * instead of shifting a bitmap. Accepts any counter not seen before that is
 * no more than REPLAY_WINDOW below the highest seen.
 *
 * Each link has a counter space of its own: the outer counter is the link id
 * in its top 8 bits and that link's packet number below (replay_counter).
 * Packets on one link keep nearly their send order, so one window per link
 * (struct replay_links) covers any skew between links, at any rate: a packet
 * on a slow link is compared only with its own link's, never pushed out of
 * the window by a fast link's. And since the outer header is authenticated,
 * the counter says which link the sender sent a packet on: one that arrives
 * on another link is refused (REPLAY_WRONG_LINK) before decryption. */
#ifndef BRAID_REPLAY_H
#define BRAID_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_BLOCKS 64			/* power of two */
#define REPLAY_WINDOW ((REPLAY_BLOCKS - 1) * 64)	/* 4032 counters */
/* The link id's place in a counter, and the most packets one link can carry
 * in one session (2^56: at 10^8 packets a second, 22 years). */
#define REPLAY_LINK_SHIFT 56
#define REPLAY_SEQ_MAX    ((1ull << REPLAY_LINK_SHIFT) - 1)
#define REPLAY_LINKS      256		/* ids a counter can name */

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
/* True if counter is above every counter accepted so far (the first one is
 * too): the packet is the newest, not a late one the window still takes. */
bool replay_newest(const struct replay *r, uint64_t counter);

/* The counter of link's packet number seq (1 .. REPLAY_SEQ_MAX), and the
 * link a counter names. */
uint64_t replay_counter(unsigned link, uint64_t seq);
unsigned replay_counter_link(uint64_t counter);

/* One window per link id, 0 .. n - 1 (n <= REPLAY_LINKS). */
struct replay_links {
	unsigned n;
	struct replay *win;		/* n windows, the caller's storage */
};

enum replay_verdict {
	REPLAY_FRESH = 0,		/* new on its link, inside that link's window */
	REPLAY_OLD,			/* seen before, or left of its link's window */
	REPLAY_WRONG_LINK,		/* the counter names another link than arrival */
};

/* Empties all n windows (a new session). */
void replay_links_init(struct replay_links *rl);
/* What replay_check says of counter arriving on link `arrival`, without
 * recording it: call before decryption. */
enum replay_verdict replay_links_check(const struct replay_links *rl, unsigned arrival,
				       uint64_t counter);
/* Records counter on link arrival once the packet authenticated. Returns
 * REPLAY_FRESH and sets *newest (replay_newest before the commit), or the
 * verdict that refused it, recording nothing. */
enum replay_verdict replay_links_commit(struct replay_links *rl, unsigned arrival,
					uint64_t counter, bool *newest);

#endif
