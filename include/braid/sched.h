/* Link scheduler: which link(s) carry the next packet.
 *
 * Deficit weighted round robin over the live links: each visit adds
 * weight / w_min * SCHED_QUANTUM bytes of credit to a link (w_min: the
 * lightest live link's weight); a link sends while its credit covers the
 * packet. Over many packets each live link carries bytes in
 * proportion to its weight. A link that is down (or has weight 0) is skipped
 * and keeps no credit, so a link that was idle cannot burst when it returns.
 *
 * One scheduler per bond, used by one thread; no allocation, no locks. */
#ifndef BRAID_SCHED_H
#define BRAID_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_MAX_LINKS  16
#define SCHED_QUANTUM    1500u	/* bytes of credit per round for the lightest link */
#define SCHED_WEIGHT_MAX 1000u

enum sched_mode {
	SCHED_AGGREGATE = 0,	/* each packet on one link, split by weight */
	SCHED_DUPLICATE = 1,	/* each packet on every live link */
	SCHED_FAILOVER  = 2,	/* each packet on the live link of best priority */
};

struct sched_link {
	bool     present;
	bool     live;
	uint32_t weight;	/* 0 .. SCHED_WEIGHT_MAX */
	uint32_t priority;	/* failover: lower number is preferred; ties go to the lower id */
	int64_t  deficit;	/* bytes of credit */
};

struct sched {
	enum sched_mode mode;
	unsigned cur;		/* link the round robin is on */
	struct sched_link link[SCHED_MAX_LINKS];
};

void sched_init(struct sched *s, enum sched_mode mode);
void sched_set_mode(struct sched *s, enum sched_mode mode);
/* Links start present but not live. 0, -EINVAL (id or weight out of range),
 * or -EEXIST. */
int sched_link_add(struct sched *s, unsigned id, uint32_t weight, uint32_t priority);
/* 0 or -ENOENT. */
int sched_link_del(struct sched *s, unsigned id);
/* Takes effect from the link's next visit. 0, -EINVAL or -ENOENT. */
int sched_link_set_weight(struct sched *s, unsigned id, uint32_t weight);
/* Going down or coming up clears the link's credit. 0 or -ENOENT. */
int sched_link_set_live(struct sched *s, unsigned id, bool live);

/* Chooses the link(s) for one packet of len bytes: writes up to max link ids
 * into out and returns how many (0 when no link is live). aggregate and
 * failover write one; duplicate writes every live link. */
unsigned sched_pick(struct sched *s, size_t len, unsigned *out, unsigned max);
/* The live link with the best priority (failover order), or -1. */
int sched_best(const struct sched *s);
/* Parses "aggregate" | "duplicate" | "failover"; 0 or -EINVAL. */
int sched_mode_parse(const char *s, enum sched_mode *mode);
const char *sched_mode_name(enum sched_mode mode);

#endif
