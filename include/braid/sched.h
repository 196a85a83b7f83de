/* Link scheduler: which link(s) carry the next packet.
 *
 * Aggregate mode sends each packet on one link, chosen by one of two rules:
 *
 * - SCHED_ARRIVAL (the default): the live link where the packet would arrive
 *   first (arrival.c). Each link is a FIFO with a one-way delay and a rate:
 *   the packet waits for what the link was given before (its "free at"
 *   time), takes len / rate to serialize and then the delay. Links whose
 *   predictions lie within SCHED_TIE_NS of the earliest are ties, and DWRR
 *   by weight splits the ties, so equal links share as they always did. The
 *   caller feeds in the estimates (sched_link_set_path) and what the peer
 *   saw of the queue (sched_link_observe); until every usable link has a
 *   delay, the rule is DWRR's.
 * - SCHED_DWRR: deficit weighted round robin over the live links, whatever
 *   their delay (dwrr.c): each visit adds weight / w_min * SCHED_QUANTUM
 *   bytes of credit to a link (w_min: the lightest live link's weight); a
 *   link sends while its credit covers the packet. Over many packets each
 *   live link carries bytes in proportion to its weight.
 *
 * In both, a link that is down or has weight 0 is skipped and keeps no
 * credit, so a link that was idle cannot burst when it returns; weight 0
 * means standby: it carries data only when no other link is up.
 *
 * One scheduler per bond, used by one thread; no allocation, no locks.
 * Times are the caller's monotonic ns. */
#ifndef BRAID_SCHED_H
#define BRAID_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_MAX_LINKS  16
#define SCHED_QUANTUM    1500u	/* bytes of credit per round for the lightest link */
#define SCHED_WEIGHT_MAX 1000u
/* Earliest arrival: predictions this close to the earliest are ties. */
#define SCHED_TIE_NS     1000000ull
/* Send-time predictions of each link's queue kept to compare with what the
 * peer reports (sched_link_observe), one per SCHED_HIST_NS at most. */
#define SCHED_HIST       64
#define SCHED_HIST_NS    1000000ull

enum sched_mode {
	SCHED_AGGREGATE = 0,	/* each packet on one link, split by weight */
	SCHED_DUPLICATE = 1,	/* each packet on every live link */
	SCHED_FAILOVER  = 2,	/* each packet on the live link of best priority */
};

/* How aggregate mode picks. */
enum sched_algo {
	SCHED_ARRIVAL = 0,	/* earliest predicted arrival, ties by weight */
	SCHED_DWRR    = 1,	/* fixed shares by weight */
};

struct sched_link {
	bool     present;
	bool     live;
	uint32_t weight;	/* 0 .. SCHED_WEIGHT_MAX */
	uint32_t priority;	/* failover: lower number is preferred; ties go to the lower id */
	int64_t  deficit;	/* bytes of credit */

	/* Earliest arrival (arrival.c). */
	bool     have_delay;
	uint64_t delay_ns;	/* one-way; only the differences between links matter */
	uint64_t rate_Bps;	/* what it drains at, bytes/s; 0: unknown, no serialization time */
	uint32_t rate_scale;	/* of 1024: cut while the peer sees more queue than predicted */
	uint64_t free_at;	/* when what it was given has left */
	uint64_t fix_at;	/* the last correction from the peer's report */
	uint64_t obs_sent;	/* what the last report referred to */
	struct {
		uint64_t at;	/* a send */
		uint64_t wait;	/* the queue predicted in front of it */
	} hist[SCHED_HIST];
	unsigned hist_next;
};

struct sched {
	enum sched_mode mode;
	enum sched_algo algo;
	unsigned cur;		/* link the round robin is on */
	struct sched_link link[SCHED_MAX_LINKS];
};

/* Starts with algo SCHED_ARRIVAL and no link. */
void sched_init(struct sched *s, enum sched_mode mode);
void sched_set_mode(struct sched *s, enum sched_mode mode);
void sched_set_algo(struct sched *s, enum sched_algo algo);
/* Links start present but not live. 0, -EINVAL (id or weight out of range),
 * or -EEXIST. */
int sched_link_add(struct sched *s, unsigned id, uint32_t weight, uint32_t priority);
/* 0 or -ENOENT. */
int sched_link_del(struct sched *s, unsigned id);
/* Takes effect from the link's next visit. 0, -EINVAL or -ENOENT. */
int sched_link_set_weight(struct sched *s, unsigned id, uint32_t weight);
/* Going down or coming up clears the link's credit. 0 or -ENOENT. */
int sched_link_set_live(struct sched *s, unsigned id, bool live);

/* The link's one-way delay (have_delay false: unknown) and rate (bytes/s,
 * 0: unknown; the caller applies any configured cap). Delays of the links
 * must be measured alike (all relative to one link, or all half a round
 * trip): only their differences count. 0 or -ENOENT. */
int sched_link_set_path(struct sched *s, unsigned id, bool have_delay, uint64_t delay_ns,
			uint64_t rate_Bps);
/* The peer saw at least queue_ns of queue in front of what left on link id
 * since its last report, up to sent_at: against the least predicted for
 * those sends, more moves the link's "free at" time out by the difference
 * and trims its rate by 1/16 (down to half the estimate); less moves it
 * back; while predictions hold, the trim grows back. Reports on what was
 * sent before the last correction are ignored (they show the error
 * already corrected). 0 or -ENOENT. */
int sched_link_observe(struct sched *s, unsigned id, uint64_t sent_at, uint64_t queue_ns,
		       uint64_t now);
/* len bytes sent on link id besides sched_pick's (parity, retransmissions):
 * they occupy its queue. 0 or -ENOENT. */
int sched_link_charge(struct sched *s, unsigned id, size_t len, uint64_t now);
/* When len bytes given to link id now would arrive, by its estimates
 * (UINT64_MAX without a delay). */
uint64_t sched_predict(const struct sched *s, unsigned id, size_t len, uint64_t now);

/* Chooses the link(s) for one packet of len bytes: writes up to max link ids
 * into out and returns how many (0 when no link is live). aggregate and
 * failover write one; duplicate writes every live link. Aggregate mode
 * charges the link it picks. */
unsigned sched_pick(struct sched *s, size_t len, uint64_t now, unsigned *out, unsigned max);
/* The live link with the best priority (failover order), or -1. */
int sched_best(const struct sched *s);
/* Parses "aggregate" | "duplicate" | "failover"; 0 or -EINVAL. */
int sched_mode_parse(const char *s, enum sched_mode *mode);
const char *sched_mode_name(enum sched_mode mode);
/* Parses "arrival" | "dwrr"; 0 or -EINVAL. */
int sched_algo_parse(const char *s, enum sched_algo *algo);
const char *sched_algo_name(enum sched_algo algo);

#endif
