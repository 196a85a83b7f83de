/* Counters a bond keeps, per bond and per link.
 *
 * One thread writes each struct (the worker that runs the bond's core); any
 * other thread may read it at any time without a lock. Writers store every
 * field with stat_set/stat_add (relaxed atomic stores of whole 64-bit words);
 * readers load with stat_get. A reader may see one field a packet ahead of
 * another, never a torn value. */
#ifndef BRAID_STATS_H
#define BRAID_STATS_H

#include <stdint.h>

#define stat_get(f)    __atomic_load_n(&(f), __ATOMIC_RELAXED)
#define stat_set(f, v) __atomic_store_n(&(f), (v), __ATOMIC_RELAXED)
#define stat_add(f, n) __atomic_store_n(&(f), (f) + (n), __ATOMIC_RELAXED)

enum link_state {
	LINK_DOWN    = 0,	/* no answer to probes: out of the schedule */
	LINK_PROBING = 1,	/* waiting for the first probe reply */
	LINK_UP      = 2,	/* in the schedule */
};

struct braid_link_stats {
	uint64_t tx_pkts, tx_bytes;	/* tunnel packets sent on this link */
	uint64_t rx_pkts, rx_bytes;	/* authenticated tunnel packets received */
	uint64_t tx_data;		/* DATA and PARITY packets sent */
	uint64_t rx_data;		/* DATA and PARITY packets received */
	uint64_t rx_seq_lost;		/* per-link sequence gaps we saw */
	uint64_t probes_sent, probes_answered;
	uint64_t peer_rx_lost;		/* losses the peer reports on our sends */
	uint64_t rtt_us;		/* smoothed probe round trip */
	uint64_t rttvar_us;
	uint64_t jitter_us;		/* RFC 3550 interarrival jitter, our receive side */
	uint64_t loss_ppm;		/* probe and data loss estimate, parts per million */
	uint64_t state;			/* enum link_state */
	uint64_t state_since_ns;	/* monotonic time of the last state change */
	uint64_t weight;		/* the DWRR weight in force */
	uint64_t weight_auto;		/* 1: weight = auto (set from loss and RTT) */
	uint64_t admin_down;		/* 1: taken out of service (link set state=down) */
	uint64_t draining;		/* 1: deleted, waiting for what is in flight */
	uint64_t down_events;
	/* What the peer's FEEDBACK says of the link (feedback.c, estimate.h),
	 * as the scheduler takes it. */
	uint64_t rate_bps;		/* capacity, bits/s: measured, capped by rate = (0: unknown) */
	uint64_t owd_rel_us;		/* one-way delay above the fastest link's */
	uint64_t queue_us;		/* standing queue the peer saw */
	uint64_t tx_loss_ppm;		/* our DATA and PARITY the peer lost, ppm */
	uint64_t rx_loss_ppm;		/* the peer's DATA and PARITY we lost, ppm */
};

struct braid_bond_stats {
	uint64_t app_rx_pkts, app_rx_bytes;	/* datagrams taken from the application side */
	uint64_t delivered_pkts, delivered_bytes;	/* datagrams handed to the application side */
	uint64_t lost;			/* gaps declared lost after the latency budget */
	uint64_t duplicates;		/* copies dropped (duplicate mode, replays past decryption excluded) */
	uint64_t reordered;		/* delivered after waiting for a gap */
	uint64_t late;			/* arrived after their gap was declared lost */
	uint64_t auth_fail;		/* failed AEAD or handshake MAC */
	uint64_t replayed;		/* counter already seen or left of its link's window */
	uint64_t wrong_link;		/* sent on another link than it arrived on */
	uint64_t hs_cookie;		/* inits without a valid cookie: answered with one, not taken */
	uint64_t hs_ratelimited;	/* handshake answers refused: the source's bucket was empty */
	uint64_t malformed;		/* failed parsing */
	uint64_t oversize;		/* datagrams larger than a buffer or BRAID_PAYLOAD_MAX */
	uint64_t no_link;		/* no live link to send on */
	uint64_t no_session;		/* data while no session is established */
	uint64_t tx_nobuf;		/* no free packet buffer */
	uint64_t handshakes;		/* sessions established */
	/* Loss recovery. */
	uint64_t fec_k, fec_m;		/* the code of the blocks we send now (m 0: none) */
	uint64_t parity_sent;		/* PARITY packets sent */
	uint64_t parity_bytes;		/* their wire bytes */
	uint64_t parity_rx;		/* PARITY packets received */
	uint64_t fec_recovered;		/* datagrams rebuilt from parity */
	uint64_t fec_unusable;		/* parity we could not use (another K, inconsistent) */
	uint64_t fec_early;		/* originals that came after FEC had rebuilt them (each
					 * also counted in duplicates) */
	uint64_t nack_sent, nack_rx;	/* NACK packets sent / received */
	uint64_t nack_seqs;		/* sequence numbers asked for in them */
	uint64_t retransmitted;		/* datagrams sent again for a NACK */
	uint64_t retx_bytes;		/* their wire bytes */
	uint64_t retx_rx;		/* retransmissions received */
	uint64_t retx_dup;		/* ... that were not needed: the datagram was already
					 * here (each also counted in duplicates) */
	uint64_t data_bytes;		/* wire bytes of first-time DATA sent (the overhead base) */
	uint64_t feedback_sent, feedback_rx;	/* FEEDBACK packets sent / received */
	uint64_t session;		/* current session id, 0 if none */
};

#endif
