/* The minimal TCP (src/tcp.c), driven by crafted segments and a fake clock.
 *
 * The harness plays the peer: it builds IPv4 + TCP packets with correct
 * checksums and hands them to tcp_rx, and records every packet the
 * connection sends (parsed back through tcp_parse, checksums verified).
 * Malformed inputs are copied into heap buffers of exactly their length so
 * that ASan catches a read one byte too far. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tcp.h"

#define LOCAL_ADDR  0x0a000001u	/* 10.0.0.1 */
#define REMOTE_ADDR 0x0a000002u	/* 10.0.0.2 */
#define LOCAL_PORT  40000
#define REMOTE_PORT 5000
#define MS 1000000ull
#define SENT_MAX 256
#define PKT_MAX 2048

struct harness {
	struct tcp *t;
	uint8_t sent[SENT_MAX][PKT_MAX];
	size_t sent_len[SENT_MAX];
	unsigned nsent;
	uint8_t rx[1 << 16];
	size_t rxlen;
	enum tcp_state st;
	int err;
	unsigned transitions;
	uint64_t now;
	uint32_t iss;		/* ours */
	uint32_t pseq;		/* the peer's next sequence number */
};

static struct harness H;

static void on_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct harness *h = ctx;

	ck_assert_uint_lt(h->nsent, SENT_MAX);
	ck_assert_uint_le(len, PKT_MAX);
	memcpy(h->sent[h->nsent], pkt, len);
	h->sent_len[h->nsent++] = len;
}

static void on_rx(void *ctx, const uint8_t *data, size_t len)
{
	struct harness *h = ctx;

	ck_assert_uint_le(h->rxlen + len, sizeof(h->rx));
	memcpy(h->rx + h->rxlen, data, len);
	h->rxlen += len;
}

static void on_state(void *ctx, enum tcp_state from, enum tcp_state to, int err)
{
	struct harness *h = ctx;

	ck_assert_int_ne(from, to);
	h->st = to;
	h->err = err;
	h->transitions++;
}

static void default_params(struct tcp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->local_addr = LOCAL_ADDR;
	p->remote_addr = REMOTE_ADDR;
	p->local_port = LOCAL_PORT;
	p->remote_port = REMOTE_PORT;
	p->isn = 1000;
	p->rto_init_ns = 100 * MS;
	p->time_wait_ns = 1000 * MS;
}

static void h_create(const struct tcp_params *p)
{
	struct tcp_io io = {
		.ctx = &H, .tx = on_tx, .rx_data = on_rx, .state = on_state,
	};

	memset(&H, 0, sizeof(H));
	ck_assert_int_eq(tcp_create(&H.t, p, &io), 0);
	H.iss = p->isn;
	H.now = 1000 * MS;
}

static void h_free(void)
{
	tcp_destroy(H.t);
	H.t = NULL;
}

/* Parses sent packet i (checksums included). */
static void sent_seg(unsigned i, struct tcp_seg *s)
{
	ck_assert_uint_lt(i, H.nsent);
	ck_assert_int_eq(tcp_parse(H.sent[i], H.sent_len[i], s), 0);
	ck_assert(tcp_csum_verify(s));
	ck_assert_uint_eq(s->src, LOCAL_ADDR);
	ck_assert_uint_eq(s->dst, REMOTE_ADDR);
	ck_assert_uint_eq(s->sport, LOCAL_PORT);
	ck_assert_uint_eq(s->dport, REMOTE_PORT);
}

static void last_seg(struct tcp_seg *s)
{
	ck_assert_uint_gt(H.nsent, 0);
	sent_seg(H.nsent - 1, s);
}

/* Builds a packet from the peer: IPv4 (tos = ecn), TCP with opts, data. */
static size_t build(uint8_t *p, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		    const uint8_t *opts, size_t optlen, const void *data, size_t n, uint8_t ecn)
{
	size_t tot = 40 + optlen + n;
	uint8_t *th = p + 20;

	memset(p, 0, tot);
	p[0] = 0x45;
	p[1] = ecn;
	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = 6;
	p[12] = 10, p[15] = 2;
	p[16] = 10, p[19] = 1;
	th[0] = REMOTE_PORT >> 8, th[1] = REMOTE_PORT & 0xff;
	th[2] = LOCAL_PORT >> 8, th[3] = LOCAL_PORT & 0xff;
	th[4] = (uint8_t)(seq >> 24), th[5] = (uint8_t)(seq >> 16);
	th[6] = (uint8_t)(seq >> 8), th[7] = (uint8_t)seq;
	th[8] = (uint8_t)(ack >> 24), th[9] = (uint8_t)(ack >> 16);
	th[10] = (uint8_t)(ack >> 8), th[11] = (uint8_t)ack;
	th[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	th[13] = flags;
	th[14] = (uint8_t)(wnd >> 8), th[15] = (uint8_t)wnd;
	if (optlen)
		memcpy(th + 20, opts, optlen);
	if (n)
		memcpy(th + 20 + optlen, data, n);
	ck_assert_int_eq(tcp_csum_fill(p, tot), 0);
	return tot;
}

static void peer_ex(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		    const uint8_t *opts, size_t optlen, const void *data, size_t n, uint8_t ecn)
{
	uint8_t p[PKT_MAX];
	size_t len = build(p, seq, ack, flags, wnd, opts, optlen, data, n, ecn);

	tcp_rx(H.t, p, len, H.now);
}

static void peer(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const void *data,
		 size_t n)
{
	peer_ex(seq, ack, flags, wnd, NULL, 0, data, n, 0);
}

/* The peer acknowledges ack with its current sequence and window wnd. */
static void peer_ack(uint32_t ack, uint16_t wnd)
{
	peer(H.pseq, ack, TCP_ACK, wnd, NULL, 0);
}

/* Connects, answers with a SYN-ACK 10 ms later (peer ISN piss, MSS mss,
 * window scale ws (-1: none), window wnd, ECE if ecn), and checks the
 * handshake's ACK. */
static void establish(uint32_t piss, uint16_t mss, int ws, uint16_t wnd, bool ecn)
{
	uint8_t opts[8] = { 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss, 1, 3, 3, 0 };
	struct tcp_seg s;
	unsigned before;

	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_SYN_SENT);
	H.now += 10 * MS;
	opts[7] = (uint8_t)(ws < 0 ? 0 : ws);
	before = H.nsent;
	peer_ex(piss, H.iss + 1, TCP_SYN | TCP_ACK | (ecn ? TCP_ECE : 0), wnd, opts,
		ws < 0 ? 4 : 8, NULL, 0, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK);
	ck_assert_uint_eq(s.seq, H.iss + 1);
	ck_assert_uint_eq(s.ack, piss + 1);
	H.pseq = piss + 1;
}

/* Default connection: ISN 1000, peer ISN 5000, MSS 1000, shift 0. */
static void h_established(void)
{
	struct tcp_params p;

	default_params(&p);
	h_create(&p);
	establish(5000, 1000, 0, 65535, false);
}

static struct tcp_snapshot snap(void)
{
	struct tcp_snapshot s;

	tcp_get_snapshot(H.t, &s);
	return s;
}

static void fill_pattern(uint8_t *b, size_t n, unsigned salt)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + salt);
}

/* --- sequence arithmetic ----------------------------------------------------- */

START_TEST(seq_compare_across_wrap)
{
	static const struct {
		uint32_t a, b;
		bool lt;
	} tbl[] = {
		{ 0, 1, true }, { 1, 0, false },
		{ 0xffffffffu, 0, true }, { 0, 0xffffffffu, false },
		{ 0xfffffff0u, 0x10, true }, { 0x10, 0xfffffff0u, false },
		{ 0x7ffffffeu, 0xfffffffdu, true },
		{ 0x80000000u, 0x00000001u, false },
		{ 5, 5, false },
	};

	for (size_t i = 0; i < sizeof(tbl) / sizeof(tbl[0]); i++) {
		ck_assert_msg(tcp_seq_lt(tbl[i].a, tbl[i].b) == tbl[i].lt, "row %zu", i);
		ck_assert(tcp_seq_geq(tbl[i].a, tbl[i].b) == !tbl[i].lt);
		ck_assert(tcp_seq_gt(tbl[i].b, tbl[i].a) == tbl[i].lt);
		ck_assert(tcp_seq_leq(tbl[i].b, tbl[i].a) == !tbl[i].lt ||
			  tbl[i].a == tbl[i].b);
	}
}
END_TEST

/* --- handshake ----------------------------------------------------------------- */

START_TEST(handshake_syn_has_mss_and_wscale)
{
	struct tcp_params p;
	struct tcp_seg s;
	struct tcp_snapshot i;

	default_params(&p);
	h_create(&p);
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	ck_assert_int_eq(tcp_connect(H.t, H.now), -EISCONN);
	ck_assert_uint_eq(H.nsent, 1);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_SYN);
	ck_assert_uint_eq(s.seq, 1000);
	ck_assert(s.has_mss);
	ck_assert_uint_eq(s.mss, TCP_MSS_DFL);
	ck_assert(s.has_wscale);
	ck_assert_uint_eq(s.wscale, 0);
	ck_assert(s.sack_ok);
	ck_assert_uint_eq(s.data_len, 0);
	ck_assert_uint_eq(s.ecn, TCP_ECN_NOT_ECT);
	ck_assert_uint_eq(H.sent[0][8], 64);		/* TTL */
	ck_assert_uint_eq(H.sent[0][6] & 0x40, 0x40);	/* DF */
	ck_assert_uint_eq(tcp_next_tick(H.t), H.now + 100 * MS);

	/* SYN-ACK 10 ms later: MSS 1000, shift 2, window 1000 (not scaled). */
	H.now += 10 * MS;
	{
		uint8_t opts[8] = { 2, 4, 0x03, 0xe8, 1, 3, 3, 2 };

		peer_ex(7000, 1001, TCP_SYN | TCP_ACK, 1000, opts, 8, NULL, 0, 0);
	}
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert_int_eq(H.st, TCPS_ESTABLISHED);
	ck_assert_int_eq(H.err, 0);
	ck_assert_uint_eq(H.nsent, 2);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK);
	ck_assert_uint_eq(s.seq, 1001);
	ck_assert_uint_eq(s.ack, 7001);
	ck_assert_uint_eq(s.wnd, 65535);
	i = snap();
	ck_assert_uint_eq(i.mss, 1000);
	ck_assert_uint_eq(i.snd_wscale, 2);
	ck_assert_uint_eq(i.snd_wnd, 1000);
	ck_assert_uint_eq(i.srtt_ns, 10 * MS);		/* the SYN was timed */
	ck_assert_uint_eq(i.cwnd, 10000);		/* RFC 6928 */
	ck_assert(!i.ecn);

	/* From now on the peer's window is scaled. */
	peer(7001, 1001, TCP_ACK, 1000, NULL, 0);
	ck_assert_uint_eq(snap().snd_wnd, 4000);
	ck_assert_uint_eq(tcp_counters(H.t)->seg_in, 2);
	h_free();
}
END_TEST

START_TEST(handshake_without_options_uses_536)
{
	struct tcp_params p;

	default_params(&p);
	h_create(&p);
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	peer(9, 1001, TCP_SYN | TCP_ACK, 8192, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert_uint_eq(snap().mss, TCP_MSS_PEER_DFL);
	ck_assert_uint_eq(snap().snd_wscale, 0);
	/* Karn: the SYN was never retransmitted, so it was timed (0 ns here),
	 * and the RTO is at its floor. */
	ck_assert_uint_eq(snap().rto_ns, 1 * MS);
	h_free();
}
END_TEST

START_TEST(handshake_bad_ack_refused_with_rst)
{
	struct tcp_params p;
	struct tcp_seg s;

	default_params(&p);
	h_create(&p);
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);

	/* An ACK for something we never sent: RST with seq = that ACK. */
	peer(7000, 5555, TCP_SYN | TCP_ACK, 1000, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_SYN_SENT);
	ck_assert_uint_eq(H.nsent, 2);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_RST);
	ck_assert_uint_eq(s.seq, 5555);
	ck_assert_uint_eq(tcp_counters(H.t)->rst_out, 1);

	/* ACK = ISS (not past it) is refused too. */
	peer(7000, 1000, TCP_SYN | TCP_ACK, 1000, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_SYN_SENT);
	ck_assert_uint_eq(H.nsent, 3);

	/* A RST with a wrong ACK is ignored and not answered. */
	peer(0, 4242, TCP_RST | TCP_ACK, 0, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_SYN_SENT);
	ck_assert_uint_eq(H.nsent, 3);
	/* A RST without ACK is ignored. */
	peer(0, 0, TCP_RST, 0, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_SYN_SENT);
	/* A bare SYN (simultaneous open) is dropped. */
	peer(7000, 0, TCP_SYN, 1000, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_SYN_SENT);
	ck_assert_uint_eq(H.nsent, 3);

	/* A RST acknowledging our SYN: refused. */
	peer(0, 1001, TCP_RST | TCP_ACK, 0, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSED);
	ck_assert_int_eq(H.err, -ECONNREFUSED);
	ck_assert_uint_eq(tcp_next_tick(H.t), UINT64_MAX);
	h_free();
}
END_TEST

START_TEST(handshake_syn_retries_then_timeout)
{
	struct tcp_params p;
	struct tcp_seg s;
	uint64_t start;

	default_params(&p);
	p.syn_retries = 2;
	h_create(&p);
	start = H.now;
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	H.now = tcp_next_tick(H.t);
	ck_assert_uint_eq(H.now, start + 100 * MS);
	ck_assert_uint_eq(tcp_tick(H.t, H.now), H.now + 200 * MS);
	ck_assert_uint_eq(H.nsent, 2);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_SYN);
	ck_assert_uint_eq(s.seq, 1000);
	H.now += 200 * MS;
	ck_assert_uint_eq(tcp_tick(H.t, H.now), H.now + 400 * MS);
	ck_assert_uint_eq(H.nsent, 3);
	H.now += 400 * MS;
	ck_assert_uint_eq(tcp_tick(H.t, H.now), UINT64_MAX);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSED);
	ck_assert_int_eq(H.err, -ETIMEDOUT);
	ck_assert_uint_eq(H.nsent, 3);
	/* The SYN-ACK to a retransmitted SYN gives no RTT sample (Karn). */
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	H.now = tcp_next_tick(H.t);
	tcp_tick(H.t, H.now);
	H.now += 5 * MS;
	peer(1, 1001, TCP_SYN | TCP_ACK, 1000, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert_uint_eq(snap().srtt_ns, 0);
	ck_assert_uint_eq(snap().rto_ns, 100 * MS);
	h_free();
}
END_TEST

/* --- receiving ------------------------------------------------------------------ */

START_TEST(data_in_order_delivered_and_acked)
{
	struct tcp_seg s;
	unsigned before;

	h_established();
	before = H.nsent;
	peer(5001, 1001, TCP_ACK | TCP_PSH, 65535, "hello", 5);
	ck_assert_uint_eq(H.rxlen, 5);
	ck_assert_mem_eq(H.rx, "hello", 5);
	ck_assert_uint_eq(H.nsent, before + 1);		/* one ACK */
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK);
	ck_assert_uint_eq(s.ack, 5006);
	peer(5006, 1001, TCP_ACK, 65535, " world", 6);
	ck_assert_uint_eq(H.rxlen, 11);
	ck_assert_mem_eq(H.rx, "hello world", 11);
	ck_assert_uint_eq(tcp_counters(H.t)->bytes_in, 11);

	/* A retransmission overlapping what we have: only the new part. */
	peer(5009, 1001, TCP_ACK, 65535, "rld!!", 5);
	ck_assert_uint_eq(H.rxlen, 13);
	ck_assert_mem_eq(H.rx, "hello world!!", 13);
	last_seg(&s);
	ck_assert_uint_eq(s.ack, 5014);

	/* Entirely old data: not delivered again, answered with an ACK. */
	before = H.nsent;
	peer(5001, 1001, TCP_ACK, 65535, "hello", 5);
	ck_assert_uint_eq(H.rxlen, 13);
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.ack, 5014);
	h_free();
}
END_TEST

START_TEST(data_out_of_order_kept_with_dup_ack)
{
	struct tcp_seg s;
	unsigned before;

	h_established();
	before = H.nsent;
	peer(5011, 1001, TCP_ACK, 65535, "later", 5);
	ck_assert_uint_eq(H.rxlen, 0);
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK);
	ck_assert_uint_eq(s.ack, 5001);
	ck_assert_uint_eq(s.data_len, 0);
	ck_assert_uint_eq(tcp_counters(H.t)->out_of_order, 1);
	ck_assert_uint_eq(tcp_counters(H.t)->ooo_kept, 1);

	/* A FIN past a hole is not taken. */
	peer(5016, 1001, TCP_ACK | TCP_FIN, 65535, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert_uint_eq(tcp_counters(H.t)->out_of_order, 2);

	/* The hole filled: it and what waited behind it, one ACK for all. */
	before = H.nsent;
	peer(5001, 1001, TCP_ACK, 65535, "0123456789", 10);
	ck_assert_uint_eq(H.rxlen, 15);
	ck_assert_mem_eq(H.rx, "0123456789later", 15);
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.ack, 5016);
	/* The segment again: old, only an ACK. */
	peer(5011, 1001, TCP_ACK, 65535, "later", 5);
	ck_assert_uint_eq(H.rxlen, 15);
	ck_assert_uint_eq(tcp_counters(H.t)->out_of_window, 1);

	/* Beyond the window altogether: out_of_window, an ACK, nothing kept. */
	before = H.nsent;
	peer(5016 + 70000, 1001, TCP_ACK, 65535, "x", 1);
	ck_assert_uint_eq(H.nsent, before + 1);
	ck_assert_uint_eq(tcp_counters(H.t)->out_of_window, 2);
	ck_assert_uint_eq(H.rxlen, 15);
	h_free();
}
END_TEST

/* --- retransmission ------------------------------------------------------------- */

START_TEST(rto_retransmits_with_backoff_and_karn)
{
	uint8_t data[100];
	struct tcp_seg s;
	uint64_t rto;

	h_established();
	/* SRTT 10 ms, RTTVAR 5 ms: RTO 30 ms. */
	ck_assert_uint_eq(snap().rto_ns, 30 * MS);
	fill_pattern(data, sizeof(data), 1);
	ck_assert_int_eq(tcp_send(H.t, data, sizeof(data), H.now), 100);
	last_seg(&s);
	ck_assert_uint_eq(s.seq, 1001);
	ck_assert_uint_eq(s.data_len, 100);
	ck_assert_uint_eq(s.flags, TCP_ACK | TCP_PSH);
	ck_assert_uint_eq(tcp_next_tick(H.t), H.now + 30 * MS);

	rto = 30 * MS;
	for (unsigned k = 1; k <= 3; k++) {
		unsigned before = H.nsent;

		H.now += rto;
		ck_assert_uint_eq(tcp_tick(H.t, H.now), H.now + 2 * rto);
		ck_assert_uint_eq(H.nsent, before + 1);
		last_seg(&s);
		ck_assert_uint_eq(s.seq, 1001);
		ck_assert_uint_eq(s.data_len, 100);
		ck_assert_mem_eq(s.data, data, 100);
		ck_assert_uint_eq(tcp_counters(H.t)->retransmits, k);
		ck_assert_uint_eq(tcp_counters(H.t)->rto_timeouts, k);
		ck_assert_uint_eq(snap().cwnd, 1000);
		rto *= 2;
	}
	/* The ACK of a retransmitted segment gives no sample (Karn): SRTT and
	 * the backed-off RTO stay. */
	H.now += 1 * MS;
	peer_ack(1101, 65535);
	ck_assert_uint_eq(snap().snd_una, 1101);
	ck_assert_uint_eq(snap().srtt_ns, 10 * MS);
	ck_assert_uint_eq(snap().rto_ns, 240 * MS);
	ck_assert_uint_eq(tcp_next_tick(H.t), UINT64_MAX);

	/* New data, acknowledged 20 ms later: a sample, and the RTO is
	 * computed again from it. */
	ck_assert_int_eq(tcp_send(H.t, data, 10, H.now), 10);
	H.now += 20 * MS;
	peer_ack(1111, 65535);
	/* SRTT = 7/8 10 + 1/8 20 = 11.25; RTTVAR = 3/4 5 + 1/4 10 = 6.25. */
	ck_assert_uint_eq(snap().srtt_ns, 11250000);
	ck_assert_uint_eq(snap().rttvar_ns, 6250000);
	ck_assert_uint_eq(snap().rto_ns, 11250000 + 4 * 6250000);
	h_free();
}
END_TEST

START_TEST(rto_gives_up_after_max_retries)
{
	struct tcp_params p;
	struct tcp_seg s;

	default_params(&p);
	p.max_retries = 3;
	p.rto_max_ns = 50 * MS;
	h_create(&p);
	establish(5000, 1000, 0, 65535, false);
	ck_assert_int_eq(tcp_send(H.t, "abc", 3, H.now), 3);
	for (unsigned k = 0; k < 3; k++) {
		H.now = tcp_next_tick(H.t);
		tcp_tick(H.t, H.now);
		ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	}
	/* The backoff stops at rto_max. */
	ck_assert_uint_eq(snap().rto_ns, 50 * MS);
	H.now = tcp_next_tick(H.t);
	tcp_tick(H.t, H.now);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSED);
	ck_assert_int_eq(H.err, -ETIMEDOUT);
	last_seg(&s);
	ck_assert_uint_eq(s.flags & TCP_RST, TCP_RST);
	ck_assert_int_eq(tcp_send(H.t, "x", 1, H.now), -ENOTCONN);
	h_free();
}
END_TEST

START_TEST(fast_retransmit_after_three_dup_acks)
{
	uint8_t data[5000];
	struct tcp_seg s;
	unsigned before;

	h_established();
	fill_pattern(data, sizeof(data), 3);
	ck_assert_int_eq(tcp_send(H.t, data, sizeof(data), H.now), 5000);
	ck_assert_uint_eq(snap().snd_nxt, 6001);
	before = H.nsent;
	peer_ack(2001, 65535);				/* first segment arrived */
	peer_ack(2001, 65535);				/* dup 1 */
	peer_ack(2001, 65535);				/* dup 2 */
	ck_assert_uint_eq(H.nsent, before);
	ck_assert_uint_eq(tcp_counters(H.t)->dup_acks, 2);
	peer_ack(2001, 65535);				/* dup 3 */
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.seq, 2001);
	ck_assert_uint_eq(s.data_len, 1000);
	ck_assert_mem_eq(s.data, data + 1000, 1000);
	ck_assert_uint_eq(tcp_counters(H.t)->fast_retransmits, 1);
	ck_assert_uint_eq(tcp_counters(H.t)->retransmits, 1);
	/* ssthresh = flight / 2 = 4000 / 2. */
	ck_assert_uint_eq(snap().ssthresh, 2000);
	ck_assert_uint_eq(snap().cwnd, 2000);
	/* More dup ACKs: no second fast retransmit. */
	peer_ack(2001, 65535);
	ck_assert_uint_eq(tcp_counters(H.t)->fast_retransmits, 1);
	/* A partial ACK (NewReno): the next hole goes at once. */
	peer_ack(3001, 65535);
	last_seg(&s);
	ck_assert_uint_eq(s.seq, 3001);
	ck_assert_uint_eq(s.data_len, 1000);
	/* Everything: recovery ends. */
	peer_ack(6001, 65535);
	ck_assert_uint_eq(snap().snd_una, 6001);
	ck_assert_uint_eq(snap().cwnd, 2000);
	ck_assert_uint_eq(tcp_next_tick(H.t), UINT64_MAX);
	h_free();
}
END_TEST

/* A window update is not a duplicate ACK, nor is an ACK carrying data. */
START_TEST(dup_ack_rules)
{
	uint8_t data[3000];

	h_established();
	fill_pattern(data, sizeof(data), 0);
	ck_assert_int_eq(tcp_send(H.t, data, sizeof(data), H.now), 3000);
	peer_ack(1001, 60000);
	peer_ack(1001, 61000);
	peer_ack(1001, 62000);
	ck_assert_uint_eq(tcp_counters(H.t)->dup_acks, 0);
	peer(H.pseq, 1001, TCP_ACK, 62000, "a", 1);
	H.pseq++;
	peer(H.pseq, 1001, TCP_ACK, 62000, "b", 1);
	H.pseq++;
	peer(H.pseq, 1001, TCP_ACK, 62000, "c", 1);
	H.pseq++;
	ck_assert_uint_eq(tcp_counters(H.t)->dup_acks, 0);
	ck_assert_uint_eq(tcp_counters(H.t)->fast_retransmits, 0);
	h_free();
}
END_TEST

/* --- windows --------------------------------------------------------------------- */

START_TEST(peer_window_respected)
{
	uint8_t data[5000];
	struct tcp_params p;
	unsigned before;

	default_params(&p);
	h_create(&p);
	establish(5000, 1000, 1, 1500, false);	/* 1500 in the SYN-ACK */
	fill_pattern(data, sizeof(data), 5);
	before = H.nsent;
	ck_assert_int_eq(tcp_send(H.t, data, sizeof(data), H.now), 5000);
	/* 1000 + 500 bytes: the window, not the MSS, limits the second. */
	ck_assert_uint_eq(H.nsent, before + 2);
	ck_assert_uint_eq(snap().snd_nxt, 2501);
	/* ACK of everything, window 1000 << 1 = 2000. */
	peer_ack(2501, 1000);
	ck_assert_uint_eq(snap().snd_wnd, 2000);
	ck_assert_uint_eq(snap().snd_nxt, 4501);
	peer_ack(4501, 1000);
	ck_assert_uint_eq(snap().snd_nxt, 6001);
	h_free();
}
END_TEST

START_TEST(zero_window_probe_then_open)
{
	struct tcp_params p;
	struct tcp_seg s;
	unsigned before;
	uint64_t at;

	default_params(&p);
	h_create(&p);
	establish(5000, 1000, 0, 0, false);
	before = H.nsent;
	ck_assert_int_eq(tcp_send(H.t, "payload", 7, H.now), 7);
	ck_assert_uint_eq(H.nsent, before);
	at = tcp_next_tick(H.t);
	ck_assert_uint_eq(at, H.now + 30 * MS);
	H.now = at;
	ck_assert_uint_eq(tcp_tick(H.t, H.now), H.now + 60 * MS);
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK);
	ck_assert_uint_eq(s.seq, 1000);			/* snd_una - 1 */
	ck_assert_uint_eq(s.data_len, 0);
	ck_assert_uint_eq(tcp_counters(H.t)->window_probes, 1);
	/* Still closed: the probes back off. */
	peer_ack(1001, 0);
	H.now += 60 * MS;
	ck_assert_uint_eq(tcp_tick(H.t, H.now), H.now + 120 * MS);
	ck_assert_uint_eq(tcp_counters(H.t)->window_probes, 2);
	/* The window opens: the data goes, the probe timer stops. */
	before = H.nsent;
	peer_ack(1001, 4000);
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.seq, 1001);
	ck_assert_uint_eq(s.data_len, 7);
	ck_assert_mem_eq(s.data, "payload", 7);
	ck_assert_uint_eq(tcp_next_tick(H.t), H.now + 30 * MS);	/* the RTO */
	h_free();
}
END_TEST

START_TEST(send_ring_full_and_wrapping)
{
	enum { RING = 4096 };
	static uint8_t data[3 * RING], got[3 * RING];
	struct tcp_params p;
	size_t off = 0, acked = 0;
	unsigned seen = 0;

	default_params(&p);
	p.sndbuf = RING;
	h_create(&p);
	establish(5000, 1000, 0, 65535, false);
	fill_pattern(data, sizeof(data), 9);
	seen = H.nsent;
	ck_assert_int_eq(tcp_send(H.t, data, sizeof(data), H.now), RING);
	off = RING;
	ck_assert_uint_eq(tcp_send_space(H.t), 0);
	ck_assert_int_eq(tcp_send(H.t, data + off, 1, H.now), 0);
	ck_assert_uint_eq(tcp_counters(H.t)->send_full, 1);
	/* Ack 1500 at a time and refill: the ring wraps, bytes stay intact. */
	while (acked < sizeof(data)) {
		for (; seen < H.nsent; seen++) {
			struct tcp_seg s;

			sent_seg(seen, &s);
			if (s.data_len) {
				size_t at = s.seq - 1001;

				ck_assert_uint_le(at + s.data_len, sizeof(got));
				memcpy(got + at, s.data, s.data_len);
			}
		}
		acked += 1500;
		if (acked > snap().snd_max - 1001)
			acked = snap().snd_max - 1001;
		peer_ack(1001 + (uint32_t)acked, 65535);
		if (off < sizeof(data)) {
			ssize_t n = tcp_send(H.t, data + off, sizeof(data) - off, H.now);

			ck_assert_int_ge(n, 0);
			off += (size_t)n;
		}
	}
	ck_assert_mem_eq(got, data, sizeof(data));
	ck_assert_uint_eq(snap().queued, 0);
	h_free();
}
END_TEST

/* --- sequence wrap ------------------------------------------------------------------ */

START_TEST(sequence_numbers_across_wrap)
{
	uint8_t data[3000], in[3000];
	struct tcp_params p;
	struct tcp_seg s;
	uint32_t pseq;

	default_params(&p);
	p.isn = 0xfffffc00u;		/* 1024 below the wrap */
	h_create(&p);
	establish(0xfffffff0u, 1000, 0, 65535, false);
	fill_pattern(data, sizeof(data), 11);
	ck_assert_int_eq(tcp_send(H.t, data, sizeof(data), H.now), 3000);
	ck_assert_uint_eq(snap().snd_nxt, 0xfffffc01u + 3000);
	last_seg(&s);
	ck_assert_uint_eq(s.seq, (uint32_t)(0xfffffc01u + 2000));
	/* An ACK past the wrap acknowledges across it. */
	peer_ack(0xfffffc01u + 1500, 65535);
	ck_assert_uint_eq(snap().snd_una, 0xfffffc01u + 1500);
	ck_assert_uint_eq(snap().queued, 1500);
	/* An ACK "before" snd_una across the wrap is a duplicate, not new. */
	peer_ack(0xfffffc01u + 1500, 65535);
	ck_assert_uint_eq(snap().snd_una, 0xfffffc01u + 1500);
	/* An ACK beyond snd_max across the wrap is refused. */
	peer_ack(0xfffffc01u + 3001, 65535);
	ck_assert_uint_eq(snap().snd_una, 0xfffffc01u + 1500);
	ck_assert_uint_eq(tcp_counters(H.t)->out_of_window, 1);
	/* Retransmission after the wrap carries the right bytes. */
	H.now = tcp_next_tick(H.t);
	tcp_tick(H.t, H.now);
	last_seg(&s);
	ck_assert_uint_eq(s.seq, 0xfffffc01u + 1500);
	ck_assert_mem_eq(s.data, data + 1500, s.data_len);
	peer_ack(0xfffffc01u + 3000, 65535);
	ck_assert_uint_eq(snap().queued, 0);

	/* The peer's data across its wrap: in order, then out of order. */
	fill_pattern(in, sizeof(in), 13);
	pseq = 0xfffffff1u;
	peer(pseq, snap().snd_nxt, TCP_ACK, 65535, in, 1000);
	pseq += 1000;
	ck_assert_uint_eq(snap().rcv_nxt, pseq);
	peer(pseq + 1000, snap().snd_nxt, TCP_ACK, 65535, in + 2000, 1000);
	ck_assert_uint_eq(H.rxlen, 1000);
	ck_assert_uint_eq(tcp_counters(H.t)->out_of_order, 1);
	peer(pseq, snap().snd_nxt, TCP_ACK, 65535, in + 1000, 1000);
	peer(pseq + 1000, snap().snd_nxt, TCP_ACK, 65535, in + 2000, 1000);
	ck_assert_uint_eq(H.rxlen, 3000);
	ck_assert_mem_eq(H.rx, in, 3000);
	last_seg(&s);
	ck_assert_uint_eq(s.ack, 0xfffffff1u + 3000);
	h_free();
}
END_TEST

/* The SACK blocks (RFC 2018) of the last segment sent: how many, into
 * b[2 * k] (start) and b[2 * k + 1] (end). */
static unsigned last_sack(uint32_t b[2 * 4])
{
	struct tcp_seg s;
	const uint8_t *o, *end;

	last_seg(&s);
	o = s.th + 20;
	end = s.th + (s.th[12] >> 4) * 4;
	while (o < end) {
		if (o[0] == 0)
			break;
		if (o[0] == 1) {
			o++;
			continue;
		}
		if (o[0] == 5) {
			unsigned n = (o[1] - 2u) / 8;

			ck_assert_uint_le(n, 4);
			for (unsigned k = 0; k < 2 * n; k++)
				b[k] = (uint32_t)o[2 + 4 * k] << 24 | (uint32_t)o[3 + 4 * k] << 16 |
				       (uint32_t)o[4 + 4 * k] << 8 | o[5 + 4 * k];
			return n;
		}
		o += o[1];
	}
	return 0;
}

/* SACK agreed: each duplicate ACK names the queued ranges, the one the
 * latest segment went to first, at most four; segments with data and
 * ACKs with no hole carry none. Not agreed: none ever. */
START_TEST(sack_blocks_on_dup_acks)
{
	static const uint8_t opts[] = { 2, 4, 0x03, 0xe8, 1, 1, 4, 2 };	/* MSS 1000, SACK ok */
	static uint8_t in[10000];
	struct tcp_params p;
	struct tcp_seg s;
	uint32_t b[8];

	fill_pattern(in, sizeof(in), 3);
	default_params(&p);
	h_create(&p);
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	peer_ex(5000, H.iss + 1, TCP_SYN | TCP_ACK, 65535, opts, sizeof(opts), NULL, 0, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert(snap().sack);
	H.pseq = 5001;
	ck_assert_uint_eq(last_sack(b), 0);

	peer(5001 + 2000, H.iss + 1, TCP_ACK, 65535, in + 2000, 1000);
	ck_assert_uint_eq(last_sack(b), 1);
	ck_assert_uint_eq(b[0], 5001 + 2000);
	ck_assert_uint_eq(b[1], 5001 + 3000);
	peer(5001 + 6000, H.iss + 1, TCP_ACK, 65535, in + 6000, 1000);
	peer(5001 + 4000, H.iss + 1, TCP_ACK, 65535, in + 4000, 1000);
	ck_assert_uint_eq(last_sack(b), 3);
	ck_assert_uint_eq(b[0], 5001 + 4000);	/* the latest first */
	ck_assert_uint_eq(b[2], 5001 + 2000);
	ck_assert_uint_eq(b[4], 5001 + 6000);
	peer(5001 + 8000, H.iss + 1, TCP_ACK, 65535, in + 8000, 1000);
	peer(5001 + 9500, H.iss + 1, TCP_ACK, 65535, in + 9500, 500);
	ck_assert_uint_eq(last_sack(b), 4);	/* five ranges, four blocks */
	ck_assert_uint_eq(b[0], 5001 + 9500);
	ck_assert_uint_eq(b[1], 5001 + 10000);
	last_seg(&s);
	ck_assert_uint_le(s.ip_len, 20 + 60);

	/* Data we send carries no blocks, whatever is queued. */
	ck_assert_int_eq(tcp_send(H.t, "x", 1, H.now), 1);
	last_seg(&s);
	ck_assert_uint_eq(s.data_len, 1);
	ck_assert_uint_eq(last_sack(b), 0);

	/* The first hole filled: the rest still has blocks; all filled: none. */
	peer(5001, H.iss + 1, TCP_ACK, 65535, in, 2000);
	ck_assert_uint_eq(H.rxlen, 3000);
	peer(5001 + 3000, H.iss + 1, TCP_ACK, 65535, in + 3000, 1000);
	ck_assert_uint_eq(H.rxlen, 5000);
	ck_assert_uint_eq(last_sack(b), 3);
	peer(5001 + 5000, H.iss + 1, TCP_ACK, 65535, in + 5000, 1000);
	peer(5001 + 7000, H.iss + 1, TCP_ACK, 65535, in + 7000, 1000);
	peer(5001 + 9000, H.iss + 1, TCP_ACK, 65535, in + 9000, 500);
	ck_assert_uint_eq(H.rxlen, 10000);
	ck_assert_mem_eq(H.rx, in, 10000);
	ck_assert_uint_eq(last_sack(b), 0);
	h_free();

	/* Without SACK-permitted on the SYN-ACK: plain duplicate ACKs. */
	h_established();
	ck_assert(!snap().sack);
	peer(5001 + 2000, 1001, TCP_ACK, 65535, in + 2000, 1000);
	ck_assert_uint_eq(last_sack(b), 0);
	h_free();
}
END_TEST

/* The queue: many holes filled in any order, overlapping and repeated
 * segments, the ring's own wrap, a segment cut at the window's edge, one
 * hole too many dropped, and a FIN only where the data ends. */
START_TEST(data_out_of_order_queue)
{
	static uint8_t in[70000];
	struct tcp_seg s;
	const uint32_t base = 5001;
	/* Segments of 1000 bytes: 1..8 arrive first, each leaving a hole
	 * before it (0, and the odd ones missing), then the rest. */
	static const unsigned first[] = { 2, 4, 6, 8, 10, 12, 14, 16 };
	static const unsigned then[] = { 15, 1, 13, 3, 11, 5, 9, 7, 0 };

	h_established();
	fill_pattern(in, sizeof(in), 7);
	for (unsigned i = 0; i < 8; i++)
		peer(base + first[i] * 1000, 1001, TCP_ACK, 65535, in + first[i] * 1000, 1000);
	ck_assert_uint_eq(tcp_counters(H.t)->ooo_kept, 8);
	/* A ninth hole: no room, dropped and counted, still a duplicate ACK. */
	peer(base + 18000, 1001, TCP_ACK, 65535, in + 18000, 1000);
	ck_assert_uint_eq(tcp_counters(H.t)->ooo_overflow, 1);
	last_seg(&s);
	ck_assert_uint_eq(s.ack, base);
	/* Overlapping what is queued, bridging two ranges. */
	peer(base + 2500, 1001, TCP_ACK, 65535, in + 2500, 2000);
	ck_assert_uint_eq(H.rxlen, 0);
	for (unsigned i = 0; i < sizeof(then) / sizeof(then[0]); i++)
		peer(base + then[i] * 1000, 1001, TCP_ACK, 65535, in + then[i] * 1000, 1000);
	ck_assert_uint_eq(H.rxlen, 17000);
	ck_assert_mem_eq(H.rx, in, 17000);
	last_seg(&s);
	ck_assert_uint_eq(s.ack, base + 17000);
	ck_assert_uint_eq(snap().rcv_nxt, base + 17000);

	/* The ring wraps at 64 KiB of sequence space: push on past it with
	 * holes filled late, and a segment running past the window's edge
	 * kept only up to it. */
	H.rxlen = 0;
	for (uint32_t at = 17000; at + 3000 <= 68000; at += 3000) {
		peer(base + at + 2000, 1001, TCP_ACK, 65535, in + at + 2000, 1000);
		peer(base + at + 1000, 1001, TCP_ACK, 65535, in + at + 1000, 1000);
		peer(base + at, 1001, TCP_ACK, 65535, in + at, 1000);
	}
	ck_assert_uint_eq(H.rxlen, 51000);
	ck_assert_mem_eq(H.rx, in + 17000, 51000);
	/* rcv_nxt = base + 68000; the window ends 65535 bytes later. */
	{
		static uint8_t far[1400];

		fill_pattern(far, sizeof(far), 9);
		peer(base + 68000 + 65535 - 400, 1001, TCP_ACK, 65535, far, sizeof(far));
		ck_assert_uint_eq(tcp_counters(H.t)->ooo_kept, 8 + 1 + 8 + 34 + 1);
	}

	/* A FIN on a queued segment is dropped; one where the data ends is
	 * taken once the hole before it is filled. */
	h_free();
	h_established();
	H.rxlen = 0;
	peer(5101, 1001, TCP_ACK | TCP_FIN, 65535, in + 100, 100);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	peer(5001, 1001, TCP_ACK, 65535, in, 100);
	ck_assert_uint_eq(H.rxlen, 200);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	peer(5101, 1001, TCP_ACK | TCP_FIN, 65535, in + 100, 100);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSE_WAIT);
	ck_assert_uint_eq(H.rxlen, 200);
	ck_assert_uint_eq(snap().rcv_nxt, 5202);
	h_free();
}
END_TEST

/* --- closing ---------------------------------------------------------------------- */

START_TEST(peer_fin_close_wait_then_last_ack)
{
	struct tcp_seg s;

	h_established();
	peer(5001, 1001, TCP_ACK | TCP_FIN, 65535, "bye", 3);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSE_WAIT);
	ck_assert_uint_eq(H.rxlen, 3);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK);
	ck_assert_uint_eq(s.ack, 5005);			/* data + FIN */
	/* We may still send. */
	ck_assert_int_eq(tcp_send(H.t, "ok", 2, H.now), 2);
	last_seg(&s);
	ck_assert_uint_eq(s.data_len, 2);
	/* A retransmitted FIN is answered with an ACK. */
	peer(5004, 1001, TCP_ACK | TCP_FIN, 65535, NULL, 0);
	last_seg(&s);
	ck_assert_uint_eq(s.ack, 5005);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSE_WAIT);

	ck_assert_int_eq(tcp_close(H.t, H.now), 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_LAST_ACK);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK | TCP_FIN);
	ck_assert_uint_eq(s.seq, 1003);
	ck_assert_int_eq(tcp_close(H.t, H.now), -EALREADY);
	ck_assert_int_eq(tcp_send(H.t, "x", 1, H.now), -EPIPE);
	/* The ACK of the data only: still LAST_ACK. */
	peer(5005, 1003, TCP_ACK, 65535, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_LAST_ACK);
	peer(5005, 1004, TCP_ACK, 65535, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSED);
	ck_assert_int_eq(H.err, 0);
	ck_assert_uint_eq(tcp_next_tick(H.t), UINT64_MAX);
	h_free();
}
END_TEST

START_TEST(our_fin_after_data_then_time_wait)
{
	struct tcp_seg s;
	unsigned before;

	h_established();
	ck_assert_int_eq(tcp_send(H.t, "last words", 10, H.now), 10);
	ck_assert_int_eq(tcp_close(H.t, H.now), 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_FIN_WAIT_1);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK | TCP_FIN);
	ck_assert_uint_eq(s.seq, 1011);
	/* The FIN is retransmitted on RTO. */
	H.now = tcp_next_tick(H.t);
	tcp_tick(H.t, H.now);
	last_seg(&s);
	ck_assert_uint_eq(s.seq, 1001);
	ck_assert_uint_eq(s.data_len, 10);
	ck_assert_uint_eq(s.flags & TCP_FIN, TCP_FIN);	/* data and FIN together */

	peer(5001, 1012, TCP_ACK, 65535, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_FIN_WAIT_2);
	/* Half-closed: the peer may still send. */
	peer(5001, 1012, TCP_ACK, 65535, "more", 4);
	ck_assert_uint_eq(H.rxlen, 4);
	before = H.nsent;
	peer(5005, 1012, TCP_ACK | TCP_FIN, 65535, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_TIME_WAIT);
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.ack, 5006);
	ck_assert_uint_eq(tcp_next_tick(H.t), H.now + 1000 * MS);
	/* The FIN again (our ACK was lost): ACKed, TIME_WAIT restarts. */
	H.now += 500 * MS;
	peer(5005, 1012, TCP_ACK | TCP_FIN, 65535, NULL, 0);
	ck_assert_uint_eq(H.nsent, before + 2);
	ck_assert_uint_eq(tcp_next_tick(H.t), H.now + 1000 * MS);
	H.now += 1000 * MS;
	tcp_tick(H.t, H.now);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSED);
	ck_assert_int_eq(H.err, 0);

	/* Closed: a late segment is answered with a RST, seq = its ACK. */
	peer(5006, 1012, TCP_ACK, 65535, "late", 4);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_RST);
	ck_assert_uint_eq(s.seq, 1012);
	/* And the connection can be opened again. */
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	ck_assert_uint_eq(snap().queued, 0);
	h_free();
}
END_TEST

START_TEST(simultaneous_close_goes_through_closing)
{
	h_established();
	ck_assert_int_eq(tcp_close(H.t, H.now), 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_FIN_WAIT_1);
	/* The peer's FIN crosses ours: it does not acknowledge our FIN. */
	peer(5001, 1001, TCP_ACK | TCP_FIN, 65535, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSING);
	peer(5002, 1002, TCP_ACK, 65535, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_TIME_WAIT);
	h_free();
}
END_TEST

START_TEST(close_in_syn_sent_and_abort)
{
	struct tcp_params p;
	struct tcp_seg s;

	default_params(&p);
	h_create(&p);
	ck_assert_int_eq(tcp_close(H.t, H.now), -ENOTCONN);
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	ck_assert_int_eq(tcp_send(H.t, "queued", 6, H.now), 6);	/* before SYN-ACK */
	ck_assert_int_eq(tcp_close(H.t, H.now), 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSED);
	ck_assert_uint_eq(H.nsent, 1);
	h_free();

	h_established();
	tcp_abort(H.t);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSED);
	ck_assert_int_eq(H.err, -ECONNABORTED);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_RST | TCP_ACK);
	ck_assert_uint_eq(s.seq, 1001);
	h_free();
}
END_TEST

START_TEST(data_queued_in_syn_sent_goes_after_handshake)
{
	struct tcp_params p;
	struct tcp_seg s;

	default_params(&p);
	h_create(&p);
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	ck_assert_int_eq(tcp_send(H.t, "early", 5, H.now), 5);
	ck_assert_uint_eq(H.nsent, 1);
	peer(5000, 1001, TCP_SYN | TCP_ACK, 65535, NULL, 0);
	/* The handshake's ACK rides on the data segment. */
	ck_assert_uint_eq(H.nsent, 2);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK | TCP_PSH);
	ck_assert_uint_eq(s.ack, 5001);
	ck_assert_uint_eq(s.data_len, 5);
	h_free();
}
END_TEST

/* --- RST ------------------------------------------------------------------------------ */

START_TEST(rst_in_window_and_out)
{
	struct tcp_seg s;
	unsigned before;

	h_established();
	before = H.nsent;
	/* Out of the window: dropped, no answer. */
	peer(5001 + 100000, 0, TCP_RST, 0, NULL, 0);
	peer(5000, 0, TCP_RST, 0, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert_uint_eq(H.nsent, before);
	ck_assert_uint_eq(tcp_counters(H.t)->out_of_window, 2);
	/* In the window but not exact: a challenge ACK (RFC 5961). */
	peer(5001 + 100, 0, TCP_RST, 0, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK);
	ck_assert_uint_eq(s.ack, 5001);
	ck_assert_uint_eq(tcp_counters(H.t)->challenge_acks, 1);
	/* A SYN in a synchronized state: challenge ACK too. */
	peer(5001, 0, TCP_SYN, 0, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert_uint_eq(tcp_counters(H.t)->challenge_acks, 2);
	/* Exactly rcv_nxt: reset. */
	peer(5001, 0, TCP_RST, 0, NULL, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSED);
	ck_assert_int_eq(H.err, -ECONNRESET);
	ck_assert_uint_eq(tcp_counters(H.t)->rst_in, 1);
	ck_assert_uint_eq(H.nsent, before + 2);
	h_free();
}
END_TEST

/* --- ECN -------------------------------------------------------------------------------- */

START_TEST(ece_halves_cwnd_and_sets_cwr)
{
	static uint8_t data[20000];
	struct tcp_params p;
	struct tcp_seg s;
	uint32_t cwnd;

	default_params(&p);
	p.ecn = true;
	h_create(&p);
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_SYN | TCP_ECE | TCP_CWR);
	ck_assert_uint_eq(s.ecn, TCP_ECN_NOT_ECT);
	tcp_destroy(H.t);
	h_create(&p);
	establish(5000, 1000, 0, 65535, true);
	ck_assert(snap().ecn);

	fill_pattern(data, sizeof(data), 17);
	ck_assert_int_eq(tcp_send(H.t, data, 4000, H.now), 4000);
	last_seg(&s);
	ck_assert_uint_eq(s.ecn, TCP_ECN_ECT0);		/* data: ECT(0) */
	peer_ack(2001, 65535);
	cwnd = snap().cwnd;
	ck_assert_uint_eq(cwnd, 11000);
	peer(H.pseq, 2001, TCP_ACK | TCP_ECE, 65535, NULL, 0);
	ck_assert_uint_eq(tcp_counters(H.t)->ece_seen, 1);
	ck_assert_uint_eq(tcp_counters(H.t)->cwnd_ecn_cuts, 1);
	ck_assert_uint_eq(snap().cwnd, cwnd / 2);
	ck_assert_uint_eq(snap().ssthresh, cwnd / 2);
	/* Another ECE in the same window: no second cut. */
	peer(H.pseq, 4001, TCP_ACK | TCP_ECE, 65535, NULL, 0);
	ck_assert_uint_eq(tcp_counters(H.t)->ece_seen, 2);
	ck_assert_uint_eq(tcp_counters(H.t)->cwnd_ecn_cuts, 1);
	/* The next new segment carries CWR; the one after does not. */
	ck_assert_int_eq(tcp_send(H.t, data + 4000, 2000, H.now), 2000);
	sent_seg(H.nsent - 2, &s);
	ck_assert_uint_eq(s.flags & TCP_CWR, TCP_CWR);
	last_seg(&s);
	ck_assert_uint_eq(s.flags & TCP_CWR, 0);
	/* A retransmission is not ECN-capable. */
	H.now = tcp_next_tick(H.t);
	tcp_tick(H.t, H.now);
	last_seg(&s);
	ck_assert_uint_eq(s.ecn, TCP_ECN_NOT_ECT);
	h_free();
}
END_TEST

START_TEST(ce_received_is_echoed_until_cwr)
{
	struct tcp_params p;
	struct tcp_seg s;

	default_params(&p);
	p.ecn = true;
	h_create(&p);
	establish(5000, 1000, 0, 65535, true);
	peer_ex(5001, 1001, TCP_ACK, 65535, NULL, 0, "ce", 2, TCP_ECN_CE);
	ck_assert_uint_eq(tcp_counters(H.t)->ce_seen, 1);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK | TCP_ECE);
	peer_ex(5003, 1001, TCP_ACK, 65535, NULL, 0, "x", 1, TCP_ECN_ECT0);
	last_seg(&s);
	ck_assert_uint_eq(s.flags & TCP_ECE, TCP_ECE);
	peer_ex(5004, 1001, TCP_ACK | TCP_CWR, 65535, NULL, 0, "y", 1, TCP_ECN_ECT0);
	last_seg(&s);
	ck_assert_uint_eq(s.flags & TCP_ECE, 0);
	h_free();
}
END_TEST

/* Without agreement (no ECE on the SYN-ACK), ECE means nothing. */
START_TEST(ece_ignored_without_ecn)
{
	h_established();
	ck_assert_int_eq(tcp_send(H.t, "abc", 3, H.now), 3);
	peer(5001, 1004, TCP_ACK | TCP_ECE, 65535, NULL, 0);
	ck_assert_uint_eq(tcp_counters(H.t)->cwnd_ecn_cuts, 0);
	h_free();
}
END_TEST

/* --- keepalive ------------------------------------------------------------------------- */

START_TEST(keepalive_probes_then_failure)
{
	struct tcp_params p;
	struct tcp_seg s;
	uint64_t est;

	default_params(&p);
	p.keepalive_idle_ns = 1000 * MS;
	p.keepalive_intvl_ns = 100 * MS;
	p.keepalive_count = 3;
	h_create(&p);
	establish(5000, 1000, 0, 65535, false);
	est = H.now;
	ck_assert_uint_eq(tcp_next_tick(H.t), est + 1000 * MS);
	/* Traffic pushes it back. */
	H.now += 500 * MS;
	peer(5001, 1001, TCP_ACK, 65535, "hi", 2);
	ck_assert_uint_eq(tcp_next_tick(H.t), H.now + 1000 * MS);
	H.now += 1000 * MS;
	ck_assert_uint_eq(tcp_tick(H.t, H.now), H.now + 100 * MS);
	last_seg(&s);
	ck_assert_uint_eq(s.flags, TCP_ACK);
	ck_assert_uint_eq(s.seq, 1000);			/* snd_una - 1 */
	ck_assert_uint_eq(s.data_len, 0);
	ck_assert_uint_eq(tcp_counters(H.t)->keepalive_probes, 1);
	/* An answer resets the count. */
	peer(5003, 1001, TCP_ACK, 65535, NULL, 0);
	ck_assert_uint_eq(tcp_next_tick(H.t), H.now + 1000 * MS);
	/* Then silence: three probes, and at the fourth interval, failure. */
	H.now += 1000 * MS;
	tcp_tick(H.t, H.now);
	H.now += 100 * MS;
	tcp_tick(H.t, H.now);
	H.now += 100 * MS;
	tcp_tick(H.t, H.now);
	ck_assert_uint_eq(tcp_counters(H.t)->keepalive_probes, 4);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	H.now += 100 * MS;
	tcp_tick(H.t, H.now);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_CLOSED);
	ck_assert_int_eq(H.err, -ETIMEDOUT);
	last_seg(&s);
	ck_assert_uint_eq(s.flags & TCP_RST, TCP_RST);
	h_free();
}
END_TEST

/* --- malformed input --------------------------------------------------------------------- */

/* Runs tcp_rx on an exact-length heap copy of pkt. */
static void rx_exact(const uint8_t *pkt, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, pkt, len);
	tcp_rx(H.t, p, len, H.now);
	free(p);
}

static int parse_exact(const uint8_t *pkt, size_t len)
{
	struct tcp_seg s;
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, pkt, len);
	rc = tcp_parse(p, len, &s);
	free(p);
	return rc;
}

/* A mutation of a valid data segment, and what tcp_parse says of it. */
struct bad_case {
	const char *name;
	void (*mutate)(uint8_t *p, size_t *len);
	int rc;
};

static void m_short(uint8_t *p, size_t *len) { (void)p; *len = 39; }
static void m_empty(uint8_t *p, size_t *len) { (void)p; *len = 0; }
static void m_ihl_small(uint8_t *p, size_t *len) { (void)len; p[0] = 0x44; }
static void m_ihl_past_end(uint8_t *p, size_t *len) { *len = 50; p[0] = 0x4f; p[2] = 0; p[3] = 50; }
static void m_version(uint8_t *p, size_t *len) { (void)len; p[0] = 0x65; }
static void m_totlen_long(uint8_t *p, size_t *len) { (void)len; p[2] = 0x7f; }
static void m_totlen_short(uint8_t *p, size_t *len) { (void)len; p[2] = 0; p[3] = 30; }
static void m_fragment(uint8_t *p, size_t *len) { (void)len; p[6] = 0x20; }	/* MF */
static void m_frag_off(uint8_t *p, size_t *len) { (void)len; p[7] = 0x01; }
static void m_proto(uint8_t *p, size_t *len) { (void)len; p[9] = 17; }
static void m_doff_small(uint8_t *p, size_t *len) { (void)len; p[32] = 0x40; }
static void m_doff_past_end(uint8_t *p, size_t *len) { (void)len; p[32] = 0xf0; }
/* The options below assume a 4-byte option area (data offset 6). */
static void m_opt_len0(uint8_t *p, size_t *len) { (void)len; p[41] = 0; }
static void m_opt_len1(uint8_t *p, size_t *len) { (void)len; p[41] = 1; }
static void m_opt_len_past(uint8_t *p, size_t *len) { (void)len; p[40] = 8; p[41] = 10; }
static void m_opt_no_len(uint8_t *p, size_t *len) { (void)len; p[40] = 1; p[41] = 1; p[42] = 1; p[43] = 8; }
static void m_opt_mss_len(uint8_t *p, size_t *len) { (void)len; p[41] = 3; p[43] = 1; }

static const struct bad_case bad_cases[] = {
	{ "short", m_short, -EMSGSIZE },
	{ "empty", m_empty, -EMSGSIZE },
	{ "ihl < 5", m_ihl_small, -EBADMSG },
	{ "ihl past end", m_ihl_past_end, -EMSGSIZE },
	{ "version 6", m_version, -EBADMSG },
	{ "total length > buffer", m_totlen_long, -EMSGSIZE },
	{ "total length < headers", m_totlen_short, -EBADMSG },
	{ "fragment MF", m_fragment, -EBADMSG },
	{ "fragment offset", m_frag_off, -EBADMSG },
	{ "not TCP", m_proto, -EBADMSG },
	{ "data offset < 5", m_doff_small, -EBADMSG },
	{ "data offset past end", m_doff_past_end, -EMSGSIZE },
	{ "option length 0", m_opt_len0, -EBADMSG },
	{ "option length 1", m_opt_len1, -EBADMSG },
	{ "option past header", m_opt_len_past, -EBADMSG },
	{ "option without length", m_opt_no_len, -EBADMSG },
	{ "MSS option length 3", m_opt_mss_len, -EBADMSG },
};

START_TEST(malformed_headers_counted)
{
	const uint8_t mss_opt[4] = { 2, 4, 0x05, 0xb4 };
	uint8_t good[PKT_MAX], p[PKT_MAX];
	size_t glen, len;
	unsigned before;
	const struct bad_case *bc = &bad_cases[_i];

	h_established();
	glen = build(good, 5001, 1001, TCP_ACK, 65535, mss_opt, 4, "data", 4, 0);
	ck_assert_int_eq(parse_exact(good, glen), 0);
	memcpy(p, good, glen);
	len = glen;
	bc->mutate(p, &len);
	ck_assert_msg(parse_exact(p, len) == bc->rc, "%s: %d", bc->name, parse_exact(p, len));
	before = H.nsent;
	rx_exact(p, len);
	ck_assert_uint_eq(tcp_counters(H.t)->malformed, 1);
	ck_assert_uint_eq(H.nsent, before);
	ck_assert_uint_eq(H.rxlen, 0);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	/* The good packet still goes through afterwards. */
	rx_exact(good, glen);
	ck_assert_uint_eq(H.rxlen, 4);
	h_free();
}
END_TEST

START_TEST(bad_checksums_counted)
{
	uint8_t p[PKT_MAX];
	size_t len;

	h_established();
	len = build(p, 5001, 1001, TCP_ACK, 65535, NULL, 0, "data", 4, 0);
	p[10] ^= 0x01;					/* IPv4 header checksum */
	rx_exact(p, len);
	p[10] ^= 0x01;
	p[len - 1] ^= 0x80;				/* payload: TCP checksum */
	rx_exact(p, len);
	p[len - 1] ^= 0x80;
	p[15] ^= 0x01;					/* source: both */
	rx_exact(p, len);
	p[15] ^= 0x01;
	ck_assert_uint_eq(tcp_counters(H.t)->bad_csum, 3);
	ck_assert_uint_eq(H.rxlen, 0);
	rx_exact(p, len);
	ck_assert_uint_eq(H.rxlen, 4);

	/* Right checksums, wrong port or address: not ours. */
	len = build(p, 5005, 1001, TCP_ACK, 65535, NULL, 0, "x", 1, 0);
	p[21] ^= 1;
	tcp_csum_fill(p, len);
	rx_exact(p, len);
	len = build(p, 5005, 1001, TCP_ACK, 65535, NULL, 0, "x", 1, 0);
	p[19] = 9;
	tcp_csum_fill(p, len);
	rx_exact(p, len);
	ck_assert_uint_eq(tcp_counters(H.t)->not_ours, 2);
	ck_assert_uint_eq(H.rxlen, 4);
	h_free();
}
END_TEST

/* With RX checksum offload the driver hands over packets the port found
 * good: no software check, but every other rule holds. */
START_TEST(rx_verified_skips_checksum)
{
	uint8_t p[PKT_MAX];
	struct tcp_seg s;
	size_t len;
	unsigned before;

	h_established();
	len = build(p, 5001, 1001, TCP_ACK, 65535, NULL, 0, "data", 4, 0);
	p[len - 1] ^= 0x80;			/* the TCP checksum no longer holds */
	rx_exact(p, len);
	ck_assert_uint_eq(tcp_counters(H.t)->bad_csum, 1);
	ck_assert_uint_eq(H.rxlen, 0);
	before = H.nsent;
	tcp_rx_verified(H.t, p, len, H.now);
	ck_assert_uint_eq(tcp_counters(H.t)->bad_csum, 1);
	ck_assert_uint_eq(H.rxlen, 4);
	ck_assert_mem_eq(H.rx, "dat\xe1", 4);
	ck_assert_uint_eq(H.nsent, before + 1);
	last_seg(&s);
	ck_assert_uint_eq(s.ack, 5005);

	/* Still parsed with every length checked, and still filtered. */
	tcp_rx_verified(H.t, p, 39, H.now);
	ck_assert_uint_eq(tcp_counters(H.t)->malformed, 1);
	len = build(p, 5005, 1001, TCP_ACK, 65535, NULL, 0, "x", 1, 0);
	p[21] ^= 1;				/* another source port */
	tcp_rx_verified(H.t, p, len, H.now);
	ck_assert_uint_eq(tcp_counters(H.t)->not_ours, 1);
	ck_assert_uint_eq(H.rxlen, 4);
	h_free();
}
END_TEST

/* The driver takes a new port for each connection; only when closed. */
START_TEST(local_port_changed_when_closed)
{
	struct tcp_params p;
	struct tcp_seg s;
	uint8_t pkt[PKT_MAX];
	size_t len;

	default_params(&p);
	h_create(&p);
	ck_assert_int_eq(tcp_set_local_port(H.t, 0), -EINVAL);
	ck_assert_int_eq(tcp_set_local_port(H.t, 50001), 0);
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	ck_assert_int_eq(tcp_set_local_port(H.t, 50002), -EISCONN);
	ck_assert_int_eq(tcp_parse(H.sent[0], H.sent_len[0], &s), 0);
	ck_assert(tcp_csum_verify(&s));
	ck_assert_uint_eq(s.flags, TCP_SYN);
	ck_assert_uint_eq(s.sport, 50001);

	/* A SYN-ACK to the old port is not ours; to the new one it is. */
	peer(7000, 1001, TCP_SYN | TCP_ACK, 1000, NULL, 0);
	ck_assert_uint_eq(tcp_counters(H.t)->not_ours, 1);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_SYN_SENT);
	len = build(pkt, 7000, 1001, TCP_SYN | TCP_ACK, 1000, NULL, 0, NULL, 0, 0);
	pkt[22] = 50001 >> 8, pkt[23] = 50001 & 0xff;
	ck_assert_int_eq(tcp_csum_fill(pkt, len), 0);
	tcp_rx(H.t, pkt, len, H.now);
	ck_assert_int_eq(tcp_get_state(H.t), TCPS_ESTABLISHED);
	ck_assert_int_eq(tcp_parse(H.sent[1], H.sent_len[1], &s), 0);
	ck_assert_uint_eq(s.sport, 50001);
	ck_assert_uint_eq(s.ack, 7001);
	ck_assert_int_eq(tcp_set_local_port(H.t, 50002), -EISCONN);

	tcp_abort(H.t);
	ck_assert_int_eq(tcp_set_local_port(H.t, 50002), 0);
	ck_assert_int_eq(tcp_connect(H.t, H.now), 0);
	ck_assert_int_eq(tcp_parse(H.sent[H.nsent - 1], H.sent_len[H.nsent - 1], &s), 0);
	ck_assert_uint_eq(s.flags, TCP_SYN);
	ck_assert_uint_eq(s.sport, 50002);
	h_free();
}
END_TEST

START_TEST(options_walked)
{
	/* NOPs, an unknown option, SACK-permitted, timestamps, window scale
	 * above 14 (clamped), MSS, then EOL and padding. */
	const uint8_t opts[24] = {
		1, 1, 99, 3, 0, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
		3, 3, 20, 2, 4, 0x02, 0x00,
	};
	const uint8_t eol[8] = { 2, 4, 0x01, 0x00, 0, 3, 3, 7 };
	uint8_t p[PKT_MAX];
	struct tcp_seg s;
	size_t len;

	memset(&H, 0, sizeof(H));
	len = build(p, 1, 2, TCP_SYN | TCP_ACK, 100, opts, sizeof(opts), NULL, 0, 0);
	ck_assert_int_eq(tcp_parse(p, len, &s), 0);
	ck_assert(tcp_csum_verify(&s));
	ck_assert(s.has_mss);
	ck_assert_uint_eq(s.mss, 512);
	ck_assert(s.has_wscale);
	ck_assert_uint_eq(s.wscale, TCP_WSCALE_MAX);
	ck_assert_uint_eq(s.data_len, 0);
	ck_assert_ptr_null(s.data);
	/* After EOL nothing is read: the window scale behind it is not seen. */
	len = build(p, 1, 2, TCP_SYN | TCP_ACK, 100, eol, sizeof(eol), "zz", 2, 0);
	ck_assert_int_eq(tcp_parse(p, len, &s), 0);
	ck_assert_uint_eq(s.mss, 256);
	ck_assert(!s.has_wscale);
	ck_assert_uint_eq(s.data_len, 2);
	/* Trailing bytes past the total length (Ethernet padding) are
	 * ignored. */
	memset(p + len, 0xee, 10);
	ck_assert_int_eq(tcp_parse(p, len + 10, &s), 0);
	ck_assert_uint_eq(s.data_len, 2);
	ck_assert(tcp_csum_verify(&s));
	/* IP options are skipped. */
	{
		uint8_t q[PKT_MAX];

		memcpy(q, p, 20);
		q[0] = 0x46;
		memset(q + 20, 1, 4);			/* NOP options */
		memcpy(q + 24, p + 20, len - 20);
		q[3] = (uint8_t)(len + 4);
		ck_assert_int_eq(tcp_csum_fill(q, len + 4), 0);
		ck_assert_int_eq(tcp_parse(q, len + 4, &s), 0);
		ck_assert(tcp_csum_verify(&s));
		ck_assert_uint_eq(s.ip_hlen, 24);
		ck_assert_uint_eq(s.data_len, 2);
		ck_assert_mem_eq(s.data, "zz", 2);
	}
	ck_assert_int_eq(tcp_csum_fill(p, 10), -EINVAL);
}
END_TEST

START_TEST(create_refuses_bad_params)
{
	struct tcp_io io = { .ctx = &H, .tx = on_tx, .rx_data = on_rx };
	struct tcp_params p;
	struct tcp *t;

	default_params(&p);
	p.remote_port = 0;
	ck_assert_int_eq(tcp_create(&t, &p, &io), -EINVAL);
	default_params(&p);
	p.mss = 10;
	ck_assert_int_eq(tcp_create(&t, &p, &io), -EINVAL);
	default_params(&p);
	p.rto_min_ns = 2 * MS;
	p.rto_max_ns = 1 * MS;
	ck_assert_int_eq(tcp_create(&t, &p, &io), -EINVAL);
	default_params(&p);
	io.tx = NULL;
	ck_assert_int_eq(tcp_create(&t, &p, &io), -EINVAL);
	ck_assert_str_eq(tcp_state_name(TCPS_CLOSE_WAIT), "CLOSE_WAIT");
	ck_assert_str_eq(tcp_state_name((enum tcp_state)99), "?");
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, seq_compare_across_wrap);
	tcase_add_loop_test(tc, malformed_headers_counted, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, bad_checksums_counted);
	tcase_add_test(tc, rx_verified_skips_checksum);
	tcase_add_test(tc, local_port_changed_when_closed);
	tcase_add_test(tc, options_walked);
	tcase_add_test(tc, create_refuses_bad_params);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_test(tc, handshake_syn_has_mss_and_wscale);
	tcase_add_test(tc, handshake_without_options_uses_536);
	tcase_add_test(tc, handshake_bad_ack_refused_with_rst);
	tcase_add_test(tc, handshake_syn_retries_then_timeout);
	tcase_add_test(tc, data_queued_in_syn_sent_goes_after_handshake);
	suite_add_tcase(s, tc);

	tc = tcase_create("data");
	tcase_add_test(tc, data_in_order_delivered_and_acked);
	tcase_add_test(tc, data_out_of_order_kept_with_dup_ack);
	tcase_add_test(tc, data_out_of_order_queue);
	tcase_add_test(tc, sack_blocks_on_dup_acks);
	tcase_add_test(tc, rto_retransmits_with_backoff_and_karn);
	tcase_add_test(tc, rto_gives_up_after_max_retries);
	tcase_add_test(tc, fast_retransmit_after_three_dup_acks);
	tcase_add_test(tc, dup_ack_rules);
	tcase_add_test(tc, peer_window_respected);
	tcase_add_test(tc, zero_window_probe_then_open);
	tcase_add_test(tc, send_ring_full_and_wrapping);
	tcase_add_test(tc, sequence_numbers_across_wrap);
	suite_add_tcase(s, tc);

	tc = tcase_create("close");
	tcase_add_test(tc, peer_fin_close_wait_then_last_ack);
	tcase_add_test(tc, our_fin_after_data_then_time_wait);
	tcase_add_test(tc, simultaneous_close_goes_through_closing);
	tcase_add_test(tc, close_in_syn_sent_and_abort);
	tcase_add_test(tc, rst_in_window_and_out);
	suite_add_tcase(s, tc);

	tc = tcase_create("ecn-keepalive");
	tcase_add_test(tc, ece_halves_cwnd_and_sets_cwr);
	tcase_add_test(tc, ce_received_is_echoed_until_cwr);
	tcase_add_test(tc, ece_ignored_without_ecn);
	tcase_add_test(tc, keepalive_probes_then_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tcp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
