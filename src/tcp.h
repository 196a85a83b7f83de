/* A minimal TCP client for one long-lived connection, without I/O.
 *
 * It speaks IPv4 + TCP to one peer (address and ports fixed at creation):
 * active open only, in-order data both ways, a fixed-size retransmit ring,
 * RTO after RFC 6298, fast retransmit, ECN, keepalive, FIN and RST. What it
 * leaves out compared with a full TCP is listed in docs/tcp.md and at the
 * top of tcp.c.
 *
 * Like the bond core (core.h) it does no I/O and reads no clock: the driver
 * (a DPDK worker, or a test) hands it each received IPv4 packet and the
 * monotonic time in ns, calls tcp_tick when tcp_next_tick says so, and the
 * connection answers through the callbacks in struct tcp_io, from inside the
 * call that caused them. Ethernet and ARP are the driver's.
 *
 * One thread drives a connection. tcp_create allocates everything; after it
 * no call allocates. */
#ifndef BRAID_TCP_H
#define BRAID_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TCP_IP_HDR_LEN    20	/* IPv4 header without options */
#define TCP_HDR_LEN       20	/* TCP header without options */
#define TCP_OPT_MAX_LEN   40
#define TCP_MSS_DFL   1460	/* ours, when the params give 0 */
#define TCP_MSS_PEER_DFL  536	/* the peer's, when its SYN has no MSS option */
#define TCP_MSS_MIN       64	/* a smaller peer MSS is raised to this */
#define TCP_WSCALE_MAX    14	/* RFC 7323 */

/* TCP header flags. */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* IPv4 ECN codepoints (the low two bits of the TOS byte). */
#define TCP_ECN_NOT_ECT 0
#define TCP_ECN_ECT1    1
#define TCP_ECN_ECT0    2
#define TCP_ECN_CE      3

enum tcp_state {
	TCPS_CLOSED,
	TCPS_SYN_SENT,
	TCPS_ESTABLISHED,
	TCPS_FIN_WAIT_1,	/* we closed; our FIN not yet acknowledged */
	TCPS_FIN_WAIT_2,	/* our FIN acknowledged; waiting for the peer's */
	TCPS_CLOSING,		/* both FINs sent, ours not yet acknowledged */
	TCPS_TIME_WAIT,
	TCPS_CLOSE_WAIT,	/* the peer closed; we may still send */
	TCPS_LAST_ACK,		/* the peer closed, then we did */
};

struct tcp;

/* One parsed IPv4 + TCP packet; the pointers point into the caller's
 * buffer. Addresses and ports in host byte order. */
struct tcp_seg {
	const uint8_t *ip;	/* the IPv4 header */
	const uint8_t *th;	/* the TCP header */
	const uint8_t *data;	/* payload (data_len bytes; NULL if none) */
	size_t ip_hlen;		/* IHL * 4 */
	size_t ip_len;		/* IPv4 total length (<= the buffer) */
	size_t tcp_len;		/* ip_len - ip_hlen: TCP header + payload */
	size_t data_len;
	uint32_t src, dst;
	uint8_t ecn;		/* TCP_ECN_* from the TOS byte */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;		/* TCP_FIN .. TCP_CWR */
	uint16_t wnd;		/* as on the wire, unscaled */
	uint16_t mss;		/* option values, valid when has_* */
	uint8_t wscale;		/* clamped to TCP_WSCALE_MAX */
	bool has_mss, has_wscale;
	bool sack_ok;		/* SACK-permitted (RFC 2018), on a SYN */
};

/* Parses one IPv4 packet carrying TCP, checking every length: the buffer
 * against the minimum headers, IHL (>= 5, inside the buffer), the total
 * length (>= the header, <= the buffer; bytes past it, such as Ethernet
 * padding, are ignored), the TCP data offset (>= 5, inside the total
 * length), and each option's length against what is left of the header.
 * Fragments and protocols other than TCP are refused. Checksums are not
 * checked here: see tcp_csum_verify. 0, -EMSGSIZE (too short: a length
 * points past the end) or -EBADMSG (a malformed field). */
int tcp_parse(const uint8_t *pkt, size_t len, struct tcp_seg *seg);

/* True if the IPv4 header checksum and the TCP checksum (over the
 * pseudo-header, the TCP header and payload) of a packet tcp_parse accepted
 * both check out. */
bool tcp_csum_verify(const struct tcp_seg *seg);

/* Computes and stores the IPv4 header checksum and the TCP checksum of the
 * packet in pkt[0..len), whose IHL and total length are already set (the
 * checksum fields may hold anything). 0, or -EINVAL when the lengths in the
 * header do not fit len. */
int tcp_csum_fill(uint8_t *pkt, size_t len);

struct tcp_io {
	void *ctx;
	/* Sends one IPv4 packet of len bytes. pkt is the connection's own
	 * scratch buffer, valid only during the call: the driver copies it
	 * (into an mbuf, with the Ethernet header in front) before it
	 * returns. */
	void (*tx)(void *ctx, const uint8_t *pkt, size_t len);
	/* In-order payload for the application; valid only during the call. */
	void (*rx_data)(void *ctx, const uint8_t *data, size_t len);
	/* Optional: the connection went from `from` to `to`. err is 0, or for
	 * a connection that failed into TCPS_CLOSED: -ECONNREFUSED (RST answered
	 * our SYN), -ECONNRESET (RST from the peer), -ETIMEDOUT (too many
	 * retransmissions, or keepalive probes unanswered), -ECONNABORTED
	 * (tcp_abort). An orderly close ends with err 0. */
	void (*state)(void *ctx, enum tcp_state from, enum tcp_state to, int err);
	/* Optional: the initial sequence number for each tcp_connect (RFC 6528
	 * wants it unpredictable). Without it, params.isn is used. */
	uint32_t (*isn)(void *ctx);
};

/* Zero means "the default" for every number here. */
struct tcp_params {
	uint32_t local_addr, remote_addr;	/* IPv4, host byte order */
	uint16_t local_port, remote_port;
	uint32_t isn;			/* when io->isn is NULL */
	size_t sndbuf;			/* retransmit ring bytes (256 KiB) */
	uint16_t mss;			/* ours: advertised, and the most we send (1460) */
	uint16_t rcv_wnd;		/* the fixed window we advertise (65535) */
	uint64_t rto_min_ns;		/* 1 ms */
	uint64_t rto_max_ns;		/* 60 s */
	uint64_t rto_init_ns;		/* before the first RTT sample (1 s) */
	unsigned syn_retries;		/* SYNs resent before -ETIMEDOUT (6) */
	unsigned max_retries;		/* timeouts in a row before -ETIMEDOUT (15) */
	uint64_t keepalive_idle_ns;	/* 0: no keepalive */
	uint64_t keepalive_intvl_ns;	/* between probes (75 s) */
	unsigned keepalive_count;	/* unanswered probes before -ETIMEDOUT (9) */
	uint64_t time_wait_ns;		/* TIME_WAIT, 2 MSL (60 s) */
	bool ecn;			/* ask for ECN; ECT(0) on data if agreed */
	uint8_t ttl;			/* 64 */
};

/* Counters, only ever increased. */
struct tcp_counters {
	uint64_t seg_in;		/* valid segments for this connection */
	uint64_t seg_out;		/* packets passed to io->tx */
	uint64_t bytes_in;		/* payload handed to rx_data */
	uint64_t bytes_out;		/* payload sent for the first time */
	uint64_t retransmits;		/* segments sent again (any cause) */
	uint64_t rto_timeouts;
	uint64_t fast_retransmits;
	uint64_t dup_acks;		/* duplicate ACKs received */
	uint64_t dup_acks_sent;		/* ACKs sent for out-of-order or old data */
	uint64_t bad_csum;
	uint64_t malformed;		/* refused by tcp_parse */
	uint64_t not_ours;		/* other addresses or ports */
	uint64_t out_of_window;		/* sequence or ACK outside the window */
	uint64_t out_of_order;		/* segments past rcv_nxt (a hole before them) */
	uint64_t ooo_kept;		/* ... whose data was kept for later */
	uint64_t ooo_overflow;		/* ... dropped: OOO_MAX holes already */
	uint64_t rst_in;		/* RSTs that closed the connection */
	uint64_t rst_out;
	uint64_t challenge_acks;	/* RFC 5961 */
	uint64_t ece_seen;		/* ACKs with ECE */
	uint64_t cwnd_ecn_cuts;		/* halvings of cwnd because of ECE */
	uint64_t ce_seen;		/* CE-marked segments received */
	uint64_t window_probes;
	uint64_t keepalive_probes;
	uint64_t send_full;		/* tcp_send calls that found the ring full */
};

/* Copies p and io. 0, -EINVAL (a zero address or port, an MSS below
 * TCP_MSS_MIN, rto_min > rto_max, ...) or -ENOMEM. The connection starts
 * in TCPS_CLOSED. */
int tcp_create(struct tcp **out, const struct tcp_params *p, const struct tcp_io *io);
void tcp_destroy(struct tcp *t);

/* Sends the SYN. Only in TCPS_CLOSED; it forgets everything of a previous
 * connection (queued data included). 0 or -EISCONN. */
int tcp_connect(struct tcp *t, uint64_t now);
/* Changes our port for the next tcp_connect (the driver takes a new
 * ephemeral port for each connection: the peer may still hold the old
 * 4-tuple in TIME_WAIT). Only in TCPS_CLOSED. 0, -EINVAL (port 0) or
 * -EISCONN. */
int tcp_set_local_port(struct tcp *t, uint16_t port);
/* Queues up to len bytes for sending (from SYN_SENT on, until tcp_close);
 * they go out as the windows allow. Returns the bytes taken (0 when the
 * ring is full), or -ENOTCONN (closed) or -EPIPE (after tcp_close). */
ssize_t tcp_send(struct tcp *t, const void *data, size_t len, uint64_t now);
/* Bytes tcp_send would take now. */
size_t tcp_send_space(const struct tcp *t);
/* Closes our direction: a FIN follows the queued data. In SYN_SENT, just
 * closes. 0, or -ENOTCONN when there is nothing to close. */
int tcp_close(struct tcp *t, uint64_t now);
/* Sends a RST (when synchronized) and closes at once, with -ECONNABORTED. */
void tcp_abort(struct tcp *t);
/* One received IPv4 packet (tcp_parse's rules). The connection does not
 * keep the pointer. */
void tcp_rx(struct tcp *t, const uint8_t *pkt, size_t len, uint64_t now);
/* tcp_rx for a packet whose IPv4 and TCP checksums the port has already
 * found good (RX checksum offload): the same, without the software check. */
void tcp_rx_verified(struct tcp *t, const uint8_t *pkt, size_t len, uint64_t now);
/* Runs the timers due at now (retransmission, window probe, keepalive,
 * TIME_WAIT). Returns the time it next wants to be called (UINT64_MAX:
 * never); calling earlier is harmless. */
uint64_t tcp_tick(struct tcp *t, uint64_t now);
/* The next deadline, made earlier by anything since the last tcp_tick. */
uint64_t tcp_next_tick(const struct tcp *t);

/* From inside a callback only tcp_send and tcp_close may be called on the
 * same connection; what they send leaves when the outer call returns. */

enum tcp_state tcp_get_state(const struct tcp *t);
const char *tcp_state_name(enum tcp_state s);
const struct tcp_counters *tcp_counters(const struct tcp *t);

/* A snapshot of the sender's variables, for tests and stats. */
struct tcp_snapshot {
	uint32_t snd_una, snd_nxt, snd_max, rcv_nxt;
	uint32_t snd_wnd;		/* the peer's window, scaled */
	uint32_t cwnd, ssthresh;
	uint16_t mss;			/* what we send: min(ours, the peer's) */
	uint8_t snd_wscale;		/* the peer's shift (0 if not agreed) */
	bool ecn;			/* ECN agreed */
	bool sack;			/* SACK agreed: our duplicate ACKs carry SACK blocks */
	uint64_t srtt_ns, rttvar_ns, rto_ns;
	size_t queued;			/* bytes in the ring: unacked + unsent */
};
void tcp_get_snapshot(const struct tcp *t, struct tcp_snapshot *info);

/* Wrap-safe sequence comparisons (RFC 793 arithmetic mod 2^32). */
static inline bool tcp_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool tcp_seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool tcp_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool tcp_seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

#endif
