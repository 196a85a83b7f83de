/* Length framing for the hub's TCP destinations (issue 7: tcp:// through the
 * kernel, dpdk-tcp:// through the minimal TCP): each bond datagram is one
 * message, a 2-byte big-endian length and that many bytes, both ways.
 *
 * frame_tx is a fixed byte ring of whole messages waiting for the stream:
 * the driver puts a datagram in, hands the stream the bytes frame_tx_peek
 * shows, and consumes what the stream took, however little. A datagram that
 * does not fit whole is refused (the caller counts it): a message is never
 * cut, so the stream stays in step with its framing.
 *
 * frame_rx takes the stream's bytes in pieces of any size and hands each
 * complete message to a callback, from the stream's bytes directly when a
 * message lies whole in one piece, else from its own buffer. A message
 * longer than max is skipped and counted; its length says where the next
 * one starts, so the stream stays in step.
 *
 * No allocation after frame_*_init; one thread each. */
#ifndef BRAID_FRAME_H
#define BRAID_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HDR 2
#define FRAME_MAX 65535u	/* what a 2-byte length can say */

struct frame_tx {
	uint8_t *buf;
	size_t size;		/* bytes in buf */
	size_t head;		/* first byte not yet taken by the stream */
	size_t len;		/* bytes queued */
};

/* size: the ring's bytes, more than FRAME_HDR (FRAME_HDR + FRAME_MAX fits
 * any message). 0, -EINVAL or -ENOMEM. */
int frame_tx_init(struct frame_tx *t, size_t size);
void frame_tx_free(struct frame_tx *t);
/* Queues one message: 0, or -ENOBUFS (no room for all of it) or -EMSGSIZE
 * (longer than FRAME_MAX). */
int frame_tx_put(struct frame_tx *t, const uint8_t *data, size_t len);
/* The queued bytes as at most two pieces (the ring may wrap): returns how
 * many pieces (0..2) were written to p[] and n[]. */
unsigned frame_tx_peek(const struct frame_tx *t, const uint8_t *p[2], size_t n[2]);
/* The stream took n bytes from the front (n <= queued). */
void frame_tx_consume(struct frame_tx *t, size_t n);
/* Drops everything queued: the connection went down, and a new one starts
 * a new stream (a message half sent would put the new one out of step). */
void frame_tx_reset(struct frame_tx *t);
size_t frame_tx_queued(const struct frame_tx *t);

typedef void (*frame_fn)(void *ctx, const uint8_t *msg, size_t len);

struct frame_rx {
	uint8_t buf[FRAME_HDR + FRAME_MAX];
	size_t have;		/* bytes of the current message (header included) held */
	size_t want;		/* its total length once the header is in, else 0 */
	size_t skip;		/* bytes still to skip of an oversized message */
	size_t max;		/* longest message handed on */
	uint64_t messages, oversize;
};

/* max: the longest message to hand on (1..FRAME_MAX). */
void frame_rx_init(struct frame_rx *r, size_t max);
/* Feeds n bytes of the stream; calls fn for each complete message. */
void frame_rx_feed(struct frame_rx *r, const uint8_t *p, size_t n, frame_fn fn, void *ctx);
/* Forgets a message cut short (a new connection starts a new stream). */
void frame_rx_reset(struct frame_rx *r);

#endif
