/* The bond's protocol core, without I/O.
 *
 * A core is one end of a bond: the handshake and session keys, bond and
 * per-link sequencing, the link scheduler, the reorder buffer, loss recovery
 * (FEC parity and NACK retransmission, with recover.c), probes and link
 * state, and the counters. It does no I/O and reads no clock: the driver (an
 * io_uring worker in braidd, or the deterministic simulator) feeds it received
 * packets, application datagrams and the time, and the core answers through
 * the callbacks in struct core_io, from inside the call that caused them.
 *
 * One thread drives a core. After core_create and the links are added, the
 * packet path (core_rx_link, core_rx_app, core_tick) allocates nothing. */
#ifndef BRAID_CORE_H
#define BRAID_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "braid/sched.h"
#include "braid/stats.h"
#include "addr.h"
#include "config.h"
#include "crypto.h"

struct core;
struct prefilter_view;

/* Where a packet came from and which local address it arrived on. The hub
 * answers from that local address, so a NATed or multi-homed edge sees
 * replies from the address it sent to. */
struct core_path {
	union braid_addr remote;
	union braid_addr local;
	bool has_local;
};

struct core_io {
	void *ctx;
	/* A buffer of BRAID_PKT_MAX bytes to build one packet for link in, or
	 * NULL when none is free (the core counts tx_nobuf and drops). */
	uint8_t *(*tx_alloc)(void *ctx, unsigned link);
	/* Sends len bytes of buf (from tx_alloc) on link along path. The
	 * driver owns buf from here and frees it once the send completes or
	 * fails. */
	void (*tx_send)(void *ctx, unsigned link, uint8_t *buf, size_t len,
			const struct core_path *path);
	/* One datagram for the application side, in order; data is valid only
	 * during the call. */
	void (*deliver)(void *ctx, uint16_t flow, const uint8_t *data, size_t len);
	/* Fills buf with random bytes (handshake nonces, session ids, the
	 * hub's cookie secrets). */
	void (*random)(void *ctx, void *buf, size_t len);
	/* Optional: a link entered a new state. */
	void (*link_state)(void *ctx, unsigned link, enum link_state st);
	/* Optional: a link deleted with core_link_drain is gone; its id is
	 * free and nothing more will be sent on it. */
	void (*link_gone)(void *ctx, unsigned link);
};

struct core_params {
	enum braid_role role;
	enum sched_mode mode;
	enum sched_algo algo;		/* aggregate mode's rule (scheduler = ...) */
	uint64_t budget_ns;
	bool unordered;
	uint64_t probe_interval_ns;
	unsigned reorder_window;
	unsigned fec_k, fec_m;		/* 0: no FEC */
	bool fec_auto;			/* M chosen from the links' loss */
	bool nack;			/* ask for and answer retransmissions */
	uint8_t psk[BRAID_KEY_LEN];
};

/* The weight of a weight = auto link as good as the best one. */
#define CORE_AUTO_WEIGHT BRAID_AUTO_WEIGHT

struct core_link_params {
	unsigned id;			/* 0 .. BRAID_MAX_LINKS - 1 */
	const char *name;
	uint32_t weight;
	bool weight_auto;		/* weight set from loss and RTT; `weight` is the start */
	uint32_t priority;
	uint64_t rate_Bps;		/* rate = ...: the scheduler's prior and cap; 0 = auto */
	const union braid_addr *remote;	/* NULL: learn it from authenticated packets (hub) */
};

/* Copies what it needs from p (the PSK too; wipe yours). 0, -EINVAL, -ENOMEM. */
int core_create(struct core **out, const struct core_params *p, const struct core_io *io);
/* Wipes the keys and frees everything. */
void core_destroy(struct core *c);

/* 0, -EINVAL, -EEXIST (id taken). A link starts in LINK_PROBING and joins
 * the schedule once a probe on it is answered. */
int core_link_add(struct core *c, const struct core_link_params *lp);
/* Forgets a link at once (what is on its way is lost). 0 or -ENOENT. */
int core_link_del(struct core *c, unsigned id);
/* Deletes a link without loss: it leaves the schedule now, the peer is
 * told (a BYE), and it keeps receiving what is already on its way for about
 * two round trips, then is forgotten and io->link_gone is called. 0,
 * -ENOENT, -EALREADY (draining already). */
int core_link_drain(struct core *c, unsigned id);
/* down: out of service both ways (out of the schedule, no probes or
 * answers, the peer told) until set up again, when it probes its way back.
 * 0 or -ENOENT. */
int core_link_set_admin(struct core *c, unsigned id, bool down);
/* A fixed weight (from the next DWRR visit), or is_auto: weight from the
 * link's loss and round trip against the best link's. 0, -EINVAL, -ENOENT. */
int core_link_set_weight(struct core *c, unsigned id, uint32_t weight, bool is_auto);

/* A datagram received on link. The core may decrypt pkt in place; it does not
 * keep the pointer. `now` is the monotonic time in ns. */
void core_rx_link(struct core *c, unsigned link, const struct core_path *path,
		  uint8_t *pkt, size_t len, uint64_t now);
/* A datagram from the application side for flow. */
void core_rx_app(struct core *c, uint16_t flow, const uint8_t *data, size_t len, uint64_t now);
/* The driver received a datagram too large for its buffer on a link: count it. */
void core_count_oversize(struct core *c);
/* Runs timers due at now (handshake retries, probes, link timeouts, reorder
 * gap expiry). Returns the time it next wants to be called; calling earlier
 * is harmless. */
uint64_t core_tick(struct core *c, uint64_t now);

/* When core_tick next has work: what the last core_tick returned, made
 * earlier by anything received since that needs a timer sooner (a gap in
 * the sequence, a new session). A driver may skip core_tick until then. */
uint64_t core_next_tick(const struct core *c);
/* The sessions the core takes, published for the workers' prefilter
 * (prefilter.h); valid until core_destroy, read from any thread. */
const struct prefilter_view *core_prefilter_view(const struct core *c);
/* True once a session is established (edge: HS_RESP received; hub: a valid
 * HS_INIT accepted). */
bool core_ready(const struct core *c);
const struct braid_bond_stats *core_bond_stats(const struct core *c);
/* NULL for an id with no link. */
const struct braid_link_stats *core_link_stats(const struct core *c, unsigned id);
const char *core_link_name(const struct core *c, unsigned id);
/* Link id's counters whether or not it is present: for another thread,
 * which knows from elsewhere which ids are in use (the counters are only
 * ever changed with stat_set/stat_add). NULL only for an id out of range. */
const struct braid_link_stats *core_link_stats_any(const struct core *c, unsigned id);

#endif
