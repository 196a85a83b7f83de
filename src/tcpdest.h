/* What the hub's two TCP destinations share: tcp:// (the kernel's TCP,
 * driven through io_uring in worker.c) and dpdk-tcp:// (the minimal TCP
 * over a DPDK port, dpdk.c). Without I/O, like frame.h below it.
 *
 * One long-lived connection carries every flow's datagrams, each as one
 * length-framed message (frame.h), both ways. This file keeps the framing,
 * the connection's state as the hub sees it, the reconnect schedule and the
 * counters; the driver opens and closes the connection and moves bytes:
 *
 *   tcpdest_due        time to start a connection (at start, after backoff)
 *   tcpdest_connecting the driver started one
 *   tcpdest_up         it is established (the backoff starts over)
 *   tcpdest_lost       it failed or ended: what was queued is dropped and
 *                      counted, the next try is backoff later, and the
 *                      backoff doubles up to its cap
 *   tcpdest_put        a datagram for the server: queued while the
 *                      connection is up, else counted (dropped_down); a
 *                      full queue is counted too (dropped_full)
 *   tcpdest_feed       bytes the server sent: each whole message goes to
 *                      the flow that most recently sent one
 *
 * Replies go to the most recent sender's flow because the stream carries
 * no flow id: a server answering one edge application is the case this is
 * for (docs/config.md).
 *
 * No allocation after tcpdest_init; one thread (worker 0) drives it, and
 * any thread may read stats (stat_get). */
#ifndef BRAID_TCPDEST_H
#define BRAID_TCPDEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

enum tcpdest_state { TD_DOWN = 0, TD_CONNECTING = 1, TD_UP = 2 };

/* Written by the driving thread with stat_set/stat_add (braid/stats.h). */
struct tcpdest_stats {
	uint64_t state;			/* enum tcpdest_state */
	uint64_t state_since_ns;
	uint64_t connects;		/* connections started */
	uint64_t established;		/* ... that came up */
	uint64_t disconnects;		/* established connections lost */
	uint64_t msgs_out, bytes_out;	/* datagrams queued for the server */
	uint64_t msgs_in, bytes_in;	/* messages from the server handed to the bond */
	uint64_t dropped_down;		/* datagrams that came while no connection was up */
	uint64_t dropped_full;		/* ... while the queue to the server was full */
	uint64_t dropped_oversize;	/* ... longer than a message can say */
	uint64_t dropped_queued;	/* bytes queued but not yet sent when a connection was lost */
	uint64_t oversize_in;		/* messages from the server longer than a datagram */
	uint64_t last_error;		/* errno of the last failure (positive), 0: none */
	/* The DPDK connection's own counters (tcp.h, dpdk.h), copied in by
	 * the driver; 0 for tcp://. */
	uint64_t retransmits, rto_timeouts, fast_retransmits, dup_acks;
	uint64_t bad_csum, malformed, out_of_order;
	uint64_t arp_requests_out, arp_replies_in;
	uint64_t rx_frames, tx_frames, tx_nombuf;
};

struct tcpdest {
	struct frame_tx tx;
	struct frame_rx rx;
	enum tcpdest_state st;
	uint64_t min_ns, max_ns;	/* the reconnect backoff's start and cap */
	uint64_t backoff_ns;		/* the next wait after a failure */
	uint64_t next_try_ns;		/* TD_DOWN: when to connect again */
	uint16_t flow;			/* who sent last: replies go there */
	struct tcpdest_stats stats;
};

/* buffer: bytes of messages waiting for the stream; max_msg: the longest
 * message from the server that is handed on (a datagram's largest size).
 * The first connection is due at once. 0, -EINVAL or -ENOMEM. */
int tcpdest_init(struct tcpdest *td, size_t buffer, size_t max_msg, uint64_t min_ns,
		 uint64_t max_ns);
void tcpdest_free(struct tcpdest *td);

bool tcpdest_due(const struct tcpdest *td, uint64_t now);
/* When the next connection is due (UINT64_MAX: not waiting for one). */
uint64_t tcpdest_next_ns(const struct tcpdest *td);
void tcpdest_connecting(struct tcpdest *td, uint64_t now);
void tcpdest_up(struct tcpdest *td, uint64_t now);
/* err: a negative errno, or 0 for an orderly close by the server. */
void tcpdest_lost(struct tcpdest *td, int err, uint64_t now);

/* 0 (queued), -ENOTCONN (no connection: counted dropped_down), -ENOBUFS
 * (counted dropped_full) or -EMSGSIZE (counted dropped_oversize). */
int tcpdest_put(struct tcpdest *td, uint16_t flow, const uint8_t *data, size_t len);

typedef void (*tcpdest_fn)(void *ctx, uint16_t flow, const uint8_t *msg, size_t len);
/* Stream bytes from the server; fn gets each whole message. */
void tcpdest_feed(struct tcpdest *td, const uint8_t *p, size_t n, tcpdest_fn fn, void *ctx);

const char *tcpdest_state_name(enum tcpdest_state s);

#endif
