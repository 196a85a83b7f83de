/* braid wire format, version 1.
 *
 * Every tunnel packet is one UDP datagram:
 *
 *   offset size  field           (all integers big-endian)
 *   0      1     version         BRAID_WIRE_VERSION
 *   1      1     type            enum wire_type
 *   2      2     reserved        zero on send; a packet with non-zero bits is malformed
 *   4      4     session         session id, in the clear so a load balancer can steer
 *   8      8     counter         the AEAD nonce and the replay-window index: the id of
 *                                the link the packet was sent on in the top 8 bits,
 *                                that link's packet number (per session, per
 *                                direction, from 1) in the low 56. Each link has a
 *                                replay window of its own, so no skew between links
 *                                pushes a slow link's packets out of it, and since the
 *                                header is authenticated, a packet that arrives on
 *                                another link than the one it names is refused before
 *                                decryption. Nonces stay unique under one session key:
 *                                the links' spaces are disjoint and a link's number
 *                                is never reset within a session (not when the link
 *                                is deleted and added again).
 *   16     ...   ciphertext      the inner header and body, ChaCha20-Poly1305 (IETF)
 *   end-16 16    tag             over the 16-byte outer header (as associated data)
 *                                and the ciphertext
 *
 * Handshake packets (HS_INIT, HS_RESP, HS_COOKIE) use the same outer header
 * with counter 0 and a body of their own (struct wire_hs, struct
 * wire_hs_cookie), authenticated by a key derived from the pre-shared key
 * only; see crypto.h. The exchange:
 *
 *   edge                                  hub
 *   HS_INIT (nonce N, cookie zero)  ->
 *                                   <-    HS_COOKIE (cookie C for the init's
 *                                         source address; MAC binds N)
 *   HS_INIT (nonce N, cookie C)     ->    checks C; takes N once
 *                                   <-    HS_RESP (hub nonce; MAC binds N)
 *
 * The hub holds no state for an init until it echoes a cookie that the hub
 * made, from a secret only it knows and changes every two minutes on its
 * own clock, for the address the init came from; so freshness never
 * depends on the edge's clock, and a stranger that cannot receive at an
 * address cannot make the hub keep anything for it. WireGuard's cookie
 * reply is the model, and a Noise handshake could carry the same cookie.
 *
 * Compatibility: this layout of the counter (one space per link) replaced a
 * single per-session counter without a version change; both ends must run
 * the same version of braid.
 *
 * Every link_id field below (DATA, PARITY, NACK, PROBE other than a BYE,
 * PROBE_REPLY) must name the link the packet arrived on, as its counter
 * does; a packet where either differs is refused and counted (wrong_link).
 * FEEDBACK's link ids are the links its entries describe, any of them.
 *
 * Inner header of DATA packets, 16 bytes, then the payload:
 *   0  4  bond_seq     bond-wide sequence number, wraps
 *   4  4  link_seq     per-link sequence number of this sender, wraps
 *   8  4  tx_us        sender's monotonic clock in microseconds, truncated
 *   12 2  flow         application flow id: bits 0..9 the edge's flow slot,
 *                      10..15 its generation (src/flow.h); opaque here
 *   14 1  link_id      the sender's id of the link this copy went out on
 *   15 1  flags        WIRE_DATA_RETX: a retransmission asked for by a NACK;
 *                      other bits zero
 *
 * Inner header of PARITY packets, 16 bytes, then one parity shard of the
 * block's FEC code (fec.h: each data shard is a 2-byte length, the flow id
 * and the payload; the parity shard is as long as the longest):
 *   0  4  first_seq    bond_seq of the block's data packet 0; data packet i
 *                      of the block is bond_seq first_seq + i
 *   4  4  link_seq     per-link sequence number (shared with DATA)
 *   8  4  tx_us        as in DATA
 *   12 1  code         (K - 1) << 3 | (M - 1): K data packets, M parity shards
 *   13 1  k_used       data packets in this block, 1..K (fewer when its timer
 *                      closed it early)
 *   14 1  index        which parity shard, 0..M-1
 *   15 1  link_id
 *
 * NACK body: count u8 (1..WIRE_NACK_MAX), link_id u8 (the link it went out
 *   on), reserved u16 zero, then count entries of base_seq u32 and bits u64:
 *   bond_seq base_seq + i is asked for if bit i is set; bit 0 always is.
 *   4 + 12 * count bytes.
 *
 * PROBE body (24 bytes): link_id u8, flags u8, pad u8[2], probe_seq u32,
 *   tx_ns u64, rx_pkts u32 (data packets received on this link from the peer
 *   so far), rx_lost u32 (per-link sequence gaps seen on this link from the
 *   peer). flags: WIRE_PROBE_BYE says the sender has taken link_id out of
 *   service (deleted or set down): stop sending on it and expect no answer.
 *   It may arrive on any link. Other flag bits are refused.
 * PROBE_REPLY body: the probe's link_id, probe_seq and tx_ns echoed, then the
 *   replier's own rx_pkts and rx_lost for that link, then jitter_us u32 (the
 *   replier's RFC 3550 interarrival jitter estimate for that link), 28 bytes.
 *   Its flags are zero.
 *
 * FEEDBACK body: what the receiver measured on each link, for the sender's
 *   scheduler (src/estimate.h makes and reads it). One FEEDBACK may go out
 *   on any link and describes every link it lists, so unlike the types
 *   above it names no link of its own: its counter names the link it came
 *   on. count u8 (1..WIRE_FEEDBACK_MAX), reserved u8[3] zero, then count
 *   entries of 28 bytes, 4 + 28 * count bytes in all:
 *     0  1  link_id      the link the entry describes, < WIRE_FEEDBACK_MAX;
 *                        each link at most once in a packet
 *     1  1  flags        WIRE_FB_QUEUED: the link was backlogged through the
 *                        interval, so `rate` is its capacity, not just the
 *                        load offered; WIRE_FB_DELAY: tx_us, owd_rel_us and
 *                        queue_us are valid (packets came on the link in the
 *                        interval). QUEUED only with DELAY and a rate; other
 *                        bits refused; without DELAY the three fields are 0
 *     2  2  reserved     zero
 *     4  4  tx_us        the sender's tx_us (DATA, PARITY; a PROBE's tx_ns /
 *                        1000) of the newest packet of the interval on the
 *                        link: the moment the figures refer to
 *     8  4  owd_rel_us   the link's one-way delay above the smallest of the
 *                        listed links' (windowed transit minima: the clocks'
 *                        offset cancels)
 *     12 4  queue_us     the link's standing queue: the interval's smallest
 *                        transit above the link's windowed minimum
 *     16 4  rate         bytes per second delivered in the interval; 0: too
 *                        few packets to say
 *     20 4  rx_pkts      DATA and PARITY packets received on the link so far
 *     24 4  rx_lost      per-link sequence gaps seen on it, as in a PROBE
 */
#ifndef BRAID_WIRE_H
#define BRAID_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define BRAID_WIRE_VERSION   1
#define WIRE_OUTER_LEN       16
#define WIRE_TAG_LEN         16
#define WIRE_DATA_HDR_LEN    16
#define WIRE_PARITY_HDR_LEN  16
#define WIRE_DATA_RETX       0x01	/* DATA flags */
#define WIRE_NACK_MAX        16	/* entries in one NACK */
#define WIRE_NACK_HDR_LEN    4
#define WIRE_NACK_ENTRY_LEN  12
#define WIRE_PROBE_LEN       24
#define WIRE_PROBE_REPLY_LEN 28
#define WIRE_FEEDBACK_MAX    16	/* entries, one a link: BRAID_MAX_LINKS */
#define WIRE_FEEDBACK_HDR_LEN   4
#define WIRE_FEEDBACK_ENTRY_LEN 28
#define WIRE_FB_QUEUED       0x01	/* FEEDBACK entry flags */
#define WIRE_FB_DELAY        0x02
/* Largest datagram braid reads or writes on a link, and the slab buffer size. */
#define BRAID_PKT_MAX        2048
/* Bytes a FEC data shard adds to a payload: its length and its flow id. */
#define WIRE_FEC_SHARD_EXTRA 4
/* Largest application datagram carried: what fits in BRAID_PKT_MAX after the
 * outer header, the inner header and the tag, with room for the length and
 * flow a parity shard covers besides the payload. */
#define BRAID_PAYLOAD_MAX    (BRAID_PKT_MAX - WIRE_OUTER_LEN - WIRE_DATA_HDR_LEN - \
			      WIRE_TAG_LEN - WIRE_FEC_SHARD_EXTRA)
/* Every tunnel packet is at least this long (outer header + tag). */
#define WIRE_MIN_LEN         (WIRE_OUTER_LEN + WIRE_TAG_LEN)

enum wire_type {
	WIRE_DATA        = 1,
	WIRE_PROBE       = 2,
	WIRE_PROBE_REPLY = 3,
	WIRE_HS_INIT     = 4,
	WIRE_HS_RESP     = 5,
	WIRE_PARITY      = 6,
	WIRE_NACK        = 7,
	WIRE_FEEDBACK    = 8,
	WIRE_HS_COOKIE   = 9,
	WIRE_TYPE_MAX    = 9,
};

struct wire_outer {
	uint8_t  version;
	uint8_t  type;
	uint32_t session;
	uint64_t counter;
};

struct wire_data {
	uint32_t bond_seq;
	uint32_t link_seq;
	uint32_t tx_us;
	uint16_t flow;
	uint8_t  link_id;
	uint8_t  flags;
};

struct wire_parity {
	uint32_t first_seq;
	uint32_t link_seq;
	uint32_t tx_us;
	uint8_t  k, m;		/* the code: 1..32, 1..8 */
	uint8_t  k_used;	/* 1..k */
	uint8_t  index;		/* 0..m-1 */
	uint8_t  link_id;
};

struct wire_nack {
	uint8_t count;		/* 1..WIRE_NACK_MAX */
	uint8_t link_id;
	struct {
		uint32_t base_seq;
		uint64_t bits;	/* bit 0 set */
	} e[WIRE_NACK_MAX];
};

struct wire_feedback {
	uint8_t count;		/* 1..WIRE_FEEDBACK_MAX */
	struct wire_feedback_entry {
		uint8_t  link_id;	/* < WIRE_FEEDBACK_MAX */
		uint8_t  flags;		/* WIRE_FB_QUEUED, WIRE_FB_DELAY */
		uint32_t tx_us;
		uint32_t owd_rel_us;
		uint32_t queue_us;
		uint32_t rate;		/* bytes per second; 0 unknown */
		uint32_t rx_pkts;
		uint32_t rx_lost;
	} e[WIRE_FEEDBACK_MAX];
};

#define WIRE_PROBE_BYE 0x01

struct wire_probe {
	uint8_t  link_id;
	uint8_t  flags;		/* WIRE_PROBE_BYE; zero in a reply */
	uint32_t probe_seq;
	uint64_t tx_ns;
	uint32_t rx_pkts;
	uint32_t rx_lost;
	uint32_t jitter_us;	/* PROBE_REPLY only */
};

/* Handshake body of HS_INIT and HS_RESP (after the outer header, before the
 * tag), 48 bytes:
 *   0  32 nonce      the sender's fresh random nonce
 *   32 16 cookie     HS_INIT: the cookie the hub last gave this link's
 *                    address, or zeros to ask for one. HS_RESP: zeros.
 * HS_COOKIE body, 16 bytes: the cookie. Its session is the init's, and its
 * MAC binds the init's nonce, as HS_RESP's does, so the edge takes only an
 * answer to an init it sent. 48 bytes in all: smaller than the init it
 * answers.
 */
#define WIRE_HS_NONCE_LEN  32
#define WIRE_HS_COOKIE_LEN 16
#define WIRE_HS_BODY_LEN   48
#define WIRE_HS_LEN        (WIRE_OUTER_LEN + WIRE_HS_BODY_LEN + WIRE_TAG_LEN)
#define WIRE_HS_COOKIE_PKT_LEN (WIRE_OUTER_LEN + WIRE_HS_COOKIE_LEN + WIRE_TAG_LEN)

struct wire_hs {
	uint8_t nonce[WIRE_HS_NONCE_LEN];
	uint8_t cookie[WIRE_HS_COOKIE_LEN];
};

struct wire_hs_cookie {
	uint8_t cookie[WIRE_HS_COOKIE_LEN];
};

/* A bounds-checked reader over a byte range: every wire and control parser
 * reads through it. A read past the end sets `err` and returns zero; callers
 * check `err` once at the end instead of after every field. */
struct wire_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};

void wire_reader_init(struct wire_reader *r, const void *p, size_t len);
uint8_t wire_read_u8(struct wire_reader *r);
uint16_t wire_read_u16(struct wire_reader *r);
uint32_t wire_read_u32(struct wire_reader *r);
uint64_t wire_read_u64(struct wire_reader *r);
/* Copies n bytes out; on a short buffer zeroes dst and sets err. */
void wire_read_bytes(struct wire_reader *r, void *dst, size_t n);
/* Returns a pointer to the next n bytes and advances, or NULL (err set). */
const uint8_t *wire_read_ptr(struct wire_reader *r, size_t n);
size_t wire_reader_left(const struct wire_reader *r);

/* Writers: put fixed-size fields at p, return the bytes written. The caller
 * guarantees room (all sizes are the constants above). */
size_t wire_put_outer(uint8_t *p, const struct wire_outer *o);
size_t wire_put_data(uint8_t *p, const struct wire_data *d);
size_t wire_put_probe(uint8_t *p, const struct wire_probe *pr, int reply);
size_t wire_put_hs(uint8_t *p, const struct wire_hs *hs);
size_t wire_put_hs_cookie(uint8_t *p, const struct wire_hs_cookie *ck);
size_t wire_put_parity(uint8_t *p, const struct wire_parity *h);
/* Writes WIRE_NACK_HDR_LEN + count * WIRE_NACK_ENTRY_LEN bytes. */
size_t wire_put_nack(uint8_t *p, const struct wire_nack *n);
/* Writes WIRE_FEEDBACK_HDR_LEN + count * WIRE_FEEDBACK_ENTRY_LEN bytes, as
 * given: the caller makes an entry that wire_parse_feedback takes. */
size_t wire_put_feedback(uint8_t *p, const struct wire_feedback *fb);

/* Parsers: 0 on success, -EBADMSG for a malformed field (wrong version,
 * unknown type, reserved bits set), -EMSGSIZE for too short or too long input.
 * wire_parse_outer checks the whole datagram length: at least WIRE_MIN_LEN and
 * at most BRAID_PKT_MAX; HS_INIT and HS_RESP must be exactly WIRE_HS_LEN,
 * HS_COOKIE exactly WIRE_HS_COOKIE_PKT_LEN. */
int wire_parse_outer(const uint8_t *pkt, size_t len, struct wire_outer *o);
int wire_parse_data(const uint8_t *p, size_t len, struct wire_data *d);
int wire_parse_probe(const uint8_t *p, size_t len, struct wire_probe *pr, int reply);
int wire_parse_hs(const uint8_t *p, size_t len, struct wire_hs *hs);
/* A HS_COOKIE body: exactly WIRE_HS_COOKIE_LEN bytes. */
int wire_parse_hs_cookie(const uint8_t *p, size_t len, struct wire_hs_cookie *ck);
/* The header of a PARITY packet; len is the whole inner plaintext, so the
 * shard is len - WIRE_PARITY_HDR_LEN bytes, which must be 2..the largest
 * shard. k, m, k_used and index must be in range. */
int wire_parse_parity(const uint8_t *p, size_t len, struct wire_parity *h);
/* A NACK body of exactly the length its count says; every entry's bit 0 set. */
int wire_parse_nack(const uint8_t *p, size_t len, struct wire_nack *n);
/* A FEEDBACK body of exactly the length its count says, count in range,
 * every reserved bit zero, each link id below WIRE_FEEDBACK_MAX and listed
 * once, flags as documented above (QUEUED only with DELAY and a non-zero
 * rate; tx_us, owd_rel_us and queue_us zero without DELAY). */
int wire_parse_feedback(const uint8_t *p, size_t len, struct wire_feedback *fb);

#endif
