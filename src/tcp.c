/* A minimal TCP client for one long-lived connection, sans I/O; see tcp.h.
 *
 * What it does: active open with MSS, window scale and ECN negotiation;
 * in-order data both ways; a byte ring holding what is sent and not yet
 * acknowledged plus what is queued; the peer's window (scaled) and a
 * congestion window (slow start, congestion avoidance, NewReno-style fast
 * retransmit and recovery without window inflation, halved once per window
 * on ECE with CWR on the next new segment); RTO per RFC 6298 with Karn's
 * rule and exponential backoff; window probes on a zero window; keepalive;
 * both closes (ours and the peer's), TIME_WAIT; RST checked per RFC 5961
 * (exact sequence closes, in-window sends a challenge ACK, the rest is
 * dropped); RSTs for segments that reach a closed connection.
 *
 * What it leaves out compared with a full TCP (docs/tcp.md says more):
 *  - passive open (LISTEN, SYN_RECEIVED) and simultaneous open: a SYN
 *    without ACK in SYN_SENT is dropped;
 *  - a large out-of-order queue: data past rcv_nxt is kept in up to
 *    OOO_MAX disjoint ranges (a segment that would make one more is
 *    dropped) and every such segment gets a duplicate ACK at once;
 *  - SACK as a sender (we offer SACK and put SACK blocks on our duplicate
 *    ACKs, but ignore the peer's), timestamps (and so PAWS, RTTM on
 *    retransmissions), window scaling
 *    of our own window (we send shift 0 and a fixed window), TCP Fast Open,
 *    MD5/AO signatures, urgent data (URG is ignored);
 *  - Nagle, delayed ACKs (every data segment is ACKed when the call that
 *    brought it returns), sender and receiver silly-window avoidance;
 *  - data carried on the SYN-ACK (dropped; the peer sends it again);
 *  - PMTU discovery (DF is set, ICMP is the driver's; the MSS is fixed),
 *    IPv6, IP options (accepted and skipped on input, never sent), IP
 *    fragments (refused), ICMP errors;
 *  - a rate limit on challenge ACKs, RTO restart after idle (RFC 5681 4.1),
 *    PRR, CUBIC or any pacing, F-RTO, tail-loss probes, RACK.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "braid/wire.h"
#include "tcp.h"

#define NEVER UINT64_MAX
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull
/* RFC 6298's clock granularity G: the driver's clock is in ns, and a
 * microsecond is well below any RTT a NIC can show. */
#define CLOCK_G_NS 1000ull
#define CWND_MAX (1u << 30)
#define SNDBUF_MAX ((size_t)1 << 30)
#define PERSIST_SHIFT_MAX 16
#define IPPROTO_TCP_NUM 6
/* The out-of-order queue: a byte ring indexed by sequence number, larger
 * than any window we advertise so that no two bytes in the window share a
 * slot, and at most OOO_MAX disjoint ranges of it in use. */
#define OOO_SIZE 65536u
#define OOO_MAX 8
/* The options on our SYN: MSS (4), NOP (1), window scale (3), NOP, NOP,
 * SACK-permitted (2). */
#define SYN_OPT_LEN 12
/* SACK blocks on a duplicate ACK: NOP, NOP, kind, length, then 8 bytes a
 * block; four fit the 40 bytes of options. */
#define SACK_BLOCKS_MAX 4

struct tcp {
	struct tcp_params p;
	struct tcp_io io;
	enum tcp_state state;
	uint64_t now;		/* the time given to the current call */
	unsigned busy;		/* nesting depth of public calls (callbacks) */
	bool ack_now;		/* an ACK is owed when the outer call returns */

	/* Send side. [snd_una, snd_una + qlen) is in the ring at head: sent
	 * and unacknowledged up to snd_nxt, the rest waiting. snd_max is the
	 * highest sequence ever sent + 1: it stays put when an RTO sends
	 * snd_nxt back to snd_una (go-back-N). Our FIN, once tcp_close
	 * queues it, takes sequence number fin_seq, after the last byte. */
	uint32_t iss;
	uint32_t snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, max_snd_wnd;
	uint32_t snd_wl1, snd_wl2;	/* segment that last updated snd_wnd */
	uint8_t snd_wscale;
	uint16_t mss;			/* what we send per segment */
	uint8_t *ring;
	size_t cap, head, qlen;
	bool fin_queued;
	uint32_t fin_seq;

	/* Congestion control. */
	uint32_t cwnd, ssthresh;
	uint32_t recover;		/* snd_max when recovery began */
	bool in_recovery;
	unsigned dupacks;

	/* RTT (RFC 6298): one segment timed at a time, and never one that was
	 * sent twice (Karn): every retransmission stops the timing. */
	bool timing;
	uint32_t rtt_seq;		/* an ACK at or past it ends the sample */
	uint64_t rtt_start;
	bool have_srtt;
	uint64_t srtt, rttvar, rto;
	unsigned retries;		/* timeouts in a row */
	uint64_t rto_at;

	uint64_t persist_at;
	unsigned persist_shift;
	unsigned persist_probes;	/* unanswered window probes */

	/* ECN (RFC 3168). */
	bool ecn_ok;
	bool cwr_pending;		/* put CWR on the next new data segment */
	uint32_t ecn_recover;		/* no second cut before an ACK past it */
	bool ece_echo;			/* CE seen; ECE on our ACKs until CWR */

	/* Receive side: we deliver at once, so the window never shrinks.
	 * Data past rcv_nxt waits in ooo, in the ranges ooo_iv[0..ooo_n),
	 * sorted and disjoint, each past rcv_nxt. */
	uint32_t irs, rcv_nxt;
	bool sack_ok;			/* the peer's SYN-ACK permitted SACK */
	unsigned ooo_last;		/* the range the latest segment went to */
	uint8_t *ooo;
	struct ooo_range {
		uint32_t start, end;
	} ooo_iv[OOO_MAX];
	unsigned ooo_n;

	uint64_t ka_at;
	unsigned ka_sent;
	uint64_t tw_at;		/* TIME_WAIT end, or the FIN_WAIT_2 limit */

	uint16_t ip_id;
	uint8_t *pkt;		/* scratch for the packet being sent */
	size_t pkt_cap;

	struct tcp_counters c;
};

/* --- bytes and checksums --------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* The one's complement sum (RFC 1071) of p[0..n), added to sum. A 64-bit
 * accumulator cannot overflow for any IPv4 packet. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint64_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint64_t)p[i] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint64_t csum_pseudo(uint32_t src, uint32_t dst, size_t tcp_len)
{
	return (uint64_t)(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       IPPROTO_TCP_NUM + tcp_len;
}

bool tcp_csum_verify(const struct tcp_seg *s)
{
	uint64_t sum;

	if (csum_fold(csum_add(0, s->ip, s->ip_hlen)) != 0xffff)
		return false;
	sum = csum_add(csum_pseudo(s->src, s->dst, s->tcp_len), s->th, s->tcp_len);
	return csum_fold(sum) == 0xffff;
}

int tcp_csum_fill(uint8_t *pkt, size_t len)
{
	size_t ihl, tot;
	uint32_t src, dst;
	uint8_t *th;

	if (!pkt || len < TCP_IP_HDR_LEN + TCP_HDR_LEN)
		return -EINVAL;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	tot = get16(pkt + 2);
	if (ihl < TCP_IP_HDR_LEN || tot > len || tot < ihl + TCP_HDR_LEN)
		return -EINVAL;
	put16(pkt + 10, 0);
	put16(pkt + 10, (uint16_t)~csum_fold(csum_add(0, pkt, ihl)));
	src = (uint32_t)get16(pkt + 12) << 16 | get16(pkt + 14);
	dst = (uint32_t)get16(pkt + 16) << 16 | get16(pkt + 18);
	th = pkt + ihl;
	put16(th + 16, 0);
	put16(th + 16, (uint16_t)~csum_fold(csum_add(csum_pseudo(src, dst, tot - ihl),
						     th, tot - ihl)));
	return 0;
}

/* --- parsing --------------------------------------------------------------- */

/* Walks the options in r (the bytes between the fixed TCP header and the
 * data offset). Every option but EOL and NOP has a length byte, at least 2
 * and no more than what is left; MSS and window scale have exact lengths. */
static int parse_options(struct wire_reader *r, struct tcp_seg *s)
{
	while (wire_reader_left(r) > 0) {
		uint8_t kind = wire_read_u8(r), olen;
		const uint8_t *body;

		if (kind == 0)			/* end of options */
			break;
		if (kind == 1)			/* NOP */
			continue;
		olen = wire_read_u8(r);
		if (r->err || olen < 2)
			return -EBADMSG;
		body = wire_read_ptr(r, olen - 2u);
		if (r->err)
			return -EBADMSG;
		switch (kind) {
		case 2:
			if (olen != 4)
				return -EBADMSG;
			s->mss = get16(body);
			s->has_mss = true;
			break;
		case 3:
			if (olen != 3)
				return -EBADMSG;
			s->wscale = body[0] > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : body[0];
			s->has_wscale = true;
			break;
		case 4:
			if (olen != 2)
				return -EBADMSG;
			s->sack_ok = true;
			break;
		default:			/* SACK blocks, timestamps, ...: not used */
			break;
		}
	}
	return 0;
}

int tcp_parse(const uint8_t *pkt, size_t len, struct tcp_seg *s)
{
	struct wire_reader r;
	uint8_t vihl, proto;
	uint16_t frag, offflags;
	size_t doff;

	memset(s, 0, sizeof(*s));
	if (!pkt || len < TCP_IP_HDR_LEN + TCP_HDR_LEN)
		return -EMSGSIZE;
	wire_reader_init(&r, pkt, len);
	vihl = wire_read_u8(&r);
	s->ecn = wire_read_u8(&r) & 3;
	s->ip_len = wire_read_u16(&r);
	(void)wire_read_u16(&r);		/* identification */
	frag = wire_read_u16(&r);
	(void)wire_read_u8(&r);			/* TTL */
	proto = wire_read_u8(&r);
	(void)wire_read_u16(&r);		/* checksum: tcp_csum_verify */
	s->src = wire_read_u32(&r);
	s->dst = wire_read_u32(&r);
	if (r.err)
		return -EMSGSIZE;
	if (vihl >> 4 != 4)
		return -EBADMSG;
	s->ip_hlen = (size_t)(vihl & 0x0f) * 4;
	if (s->ip_hlen < TCP_IP_HDR_LEN)
		return -EBADMSG;
	if (s->ip_hlen > len || s->ip_len > len)
		return -EMSGSIZE;
	if (s->ip_len < s->ip_hlen + TCP_HDR_LEN)
		return -EBADMSG;
	/* MF set or a fragment offset: a fragment, which we do not reassemble. */
	if (frag & 0x3fff)
		return -EBADMSG;
	if (proto != IPPROTO_TCP_NUM)
		return -EBADMSG;
	s->ip = pkt;
	s->tcp_len = s->ip_len - s->ip_hlen;

	/* The TCP header, read only inside the IPv4 total length. */
	wire_reader_init(&r, pkt + s->ip_hlen, s->tcp_len);
	s->th = wire_read_ptr(&r, 0);
	s->sport = wire_read_u16(&r);
	s->dport = wire_read_u16(&r);
	s->seq = wire_read_u32(&r);
	s->ack = wire_read_u32(&r);
	offflags = wire_read_u16(&r);
	s->wnd = wire_read_u16(&r);
	(void)wire_read_u16(&r);		/* checksum */
	(void)wire_read_u16(&r);		/* urgent pointer: URG is ignored */
	if (r.err)
		return -EMSGSIZE;
	s->flags = (uint8_t)offflags;
	doff = (size_t)(offflags >> 12) * 4;
	if (doff < TCP_HDR_LEN)
		return -EBADMSG;
	if (doff > s->tcp_len)
		return -EMSGSIZE;
	{
		struct wire_reader o;
		int rc;

		wire_reader_init(&o, pkt + s->ip_hlen + TCP_HDR_LEN, doff - TCP_HDR_LEN);
		rc = parse_options(&o, s);
		if (rc < 0)
			return rc;
	}
	s->data_len = s->tcp_len - doff;
	s->data = s->data_len ? pkt + s->ip_hlen + doff : NULL;
	return 0;
}

/* --- sending --------------------------------------------------------------- */

static bool synchronized(enum tcp_state st)
{
	return st != TCPS_CLOSED && st != TCPS_SYN_SENT;
}

/* Copies n bytes from ring offset off (from snd_una) to dst. */
static void ring_read(const struct tcp *t, size_t off, uint8_t *dst, size_t n)
{
	size_t pos = t->head + off, first;

	if (pos >= t->cap)
		pos -= t->cap;
	first = t->cap - pos < n ? t->cap - pos : n;
	memcpy(dst, t->ring + pos, first);
	memcpy(dst + first, t->ring, n - first);
}

/* Builds one segment in the scratch buffer and hands it to io->tx: seq,
 * ack (written only with TCP_ACK), flags, n payload bytes from ring offset
 * off, ECT(0) in the IP header when ect. */
static void emit(struct tcp *t, uint32_t seq, uint32_t ack, uint8_t flags,
		 size_t off, size_t n, bool ect)
{
	uint8_t *p = t->pkt, *th = p + TCP_IP_HDR_LEN;
	size_t optlen = (flags & TCP_SYN) ? SYN_OPT_LEN : 0;
	/* SACK blocks on an ACK without data while data waits past a hole
	 * (RFC 2018): the block holding the latest segment first. Data
	 * segments carry none, so they stay within the MSS. */
	unsigned nsack = t->sack_ok && t->ooo_n && n == 0 && (flags & TCP_ACK) &&
			 !(flags & (TCP_SYN | TCP_RST | TCP_FIN)) ?
			 (t->ooo_n < SACK_BLOCKS_MAX ? t->ooo_n : SACK_BLOCKS_MAX) : 0;
	size_t tot;

	if (nsack)
		optlen = 4 + 8 * nsack;
	tot = TCP_IP_HDR_LEN + TCP_HDR_LEN + optlen + n;

	if (t->ecn_ok && t->ece_echo && (flags & TCP_ACK) && !(flags & (TCP_SYN | TCP_RST)))
		flags |= TCP_ECE;
	p[0] = 0x45;
	p[1] = ect ? TCP_ECN_ECT0 : TCP_ECN_NOT_ECT;
	put16(p + 2, (uint16_t)tot);
	put16(p + 4, t->ip_id++);
	put16(p + 6, 0x4000);			/* DF */
	p[8] = t->p.ttl;
	p[9] = IPPROTO_TCP_NUM;
	put32(p + 12, t->p.local_addr);
	put32(p + 16, t->p.remote_addr);
	put16(th, t->p.local_port);
	put16(th + 2, t->p.remote_port);
	put32(th + 4, seq);
	put32(th + 8, (flags & TCP_ACK) ? ack : 0);
	th[12] = (uint8_t)(((TCP_HDR_LEN + optlen) / 4) << 4);
	th[13] = flags;
	put16(th + 14, (flags & TCP_RST) ? 0 : t->p.rcv_wnd);
	put16(th + 18, 0);
	if (flags & TCP_SYN) {
		uint8_t *o = th + TCP_HDR_LEN;

		o[0] = 2;
		o[1] = 4;
		put16(o + 2, t->p.mss);
		o[4] = 1;
		o[5] = 3;
		o[6] = 3;
		o[7] = 0;	/* we do not scale our own window */
		o[8] = 1;
		o[9] = 1;
		o[10] = 4;	/* SACK-permitted */
		o[11] = 2;
	} else if (nsack) {
		uint8_t *o = th + TCP_HDR_LEN;
		unsigned k = 0, last = t->ooo_last < t->ooo_n ? t->ooo_last : 0;

		o[0] = 1;
		o[1] = 1;
		o[2] = 5;
		o[3] = (uint8_t)(2 + 8 * nsack);
		put32(o + 4, t->ooo_iv[last].start);
		put32(o + 8, t->ooo_iv[last].end);
		for (unsigned i = 0; i < t->ooo_n && k + 1 < nsack; i++) {
			if (i == last)
				continue;
			k++;
			put32(o + 4 + 8 * k, t->ooo_iv[i].start);
			put32(o + 8 + 8 * k, t->ooo_iv[i].end);
		}
	}
	if (n)
		ring_read(t, off, th + TCP_HDR_LEN + optlen, n);
	tcp_csum_fill(p, tot);
	if ((flags & TCP_ACK) && ack == t->rcv_nxt)
		t->ack_now = false;
	if (flags & TCP_RST)
		t->c.rst_out++;
	t->c.seg_out++;
	t->io.tx(t->io.ctx, p, tot);
}

static void send_ack(struct tcp *t)
{
	emit(t, t->snd_nxt, t->rcv_nxt, TCP_ACK, 0, 0, false);
}

static void send_rst(struct tcp *t)
{
	emit(t, t->snd_nxt, t->rcv_nxt, TCP_RST | TCP_ACK, 0, 0, false);
}

static void send_syn(struct tcp *t)
{
	uint8_t flags = TCP_SYN;

	if (t->p.ecn)
		flags |= TCP_ECE | TCP_CWR;	/* ECN-setup SYN */
	emit(t, t->iss, 0, flags, 0, 0, false);
}

/* Sends up to maxlen bytes starting at seq (snd_una <= seq), with our FIN
 * when the segment reaches it. Returns the sequence space it took (0: there
 * was nothing at seq). Does not move snd_nxt; moves snd_max and starts the
 * RTT timing and the retransmission timer as needed. */
static uint32_t send_seg(struct tcp *t, uint32_t seq, size_t maxlen)
{
	size_t off = seq - t->snd_una;
	size_t n = off < t->qlen ? t->qlen - off : 0;
	bool retx = tcp_seq_lt(seq, t->snd_max);
	uint8_t flags = TCP_ACK;
	uint32_t end;

	if (n > maxlen)
		n = maxlen;
	if (t->fin_queued && seq + (uint32_t)n == t->fin_seq)
		flags |= TCP_FIN;
	if (n == 0 && !(flags & TCP_FIN))
		return 0;
	if (n && off + n == t->qlen)
		flags |= TCP_PSH;
	/* RFC 3168 6.1.5: retransmissions are not ECN-capable, and CWR goes
	 * on new data. */
	if (t->cwr_pending && n && !retx) {
		flags |= TCP_CWR;
		t->cwr_pending = false;
	}
	emit(t, seq, t->rcv_nxt, flags, off, n, t->ecn_ok && n && !retx);

	end = seq + (uint32_t)n + ((flags & TCP_FIN) ? 1 : 0);
	if (retx) {
		t->c.retransmits++;
		t->timing = false;	/* Karn */
	} else if (!t->timing) {
		t->timing = true;
		t->rtt_seq = end;
		t->rtt_start = t->now;
	}
	if (tcp_seq_gt(end, t->snd_max)) {
		t->c.bytes_out += (end - t->snd_max) - ((flags & TCP_FIN) ? 1u : 0u);
		t->snd_max = end;
	}
	if (t->rto_at == NEVER)
		t->rto_at = t->now + t->rto;
	return end - seq;
}

static uint64_t backoff(const struct tcp *t, unsigned shift)
{
	uint64_t v = t->rto;

	while (shift-- && v < t->p.rto_max_ns)
		v *= 2;
	return v < t->p.rto_max_ns ? v : t->p.rto_max_ns;
}

/* Sends what the windows allow, then our FIN if it is due. */
static void output(struct tcp *t)
{
	switch (t->state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		break;
	default:
		return;
	}
	for (;;) {
		uint32_t flight = t->snd_nxt - t->snd_una;
		uint32_t wnd = t->snd_wnd < t->cwnd ? t->snd_wnd : t->cwnd;
		size_t unsent = flight < t->qlen ? t->qlen - flight : 0;
		size_t n = 0;
		uint32_t took;

		if (unsent) {
			if (flight >= wnd) {
				if (t->snd_wnd == 0 && t->snd_max == t->snd_una &&
				    t->persist_at == NEVER)
					t->persist_at = t->now + backoff(t, t->persist_shift);
				return;
			}
			n = wnd - flight;
			if (n > unsent)
				n = unsent;
			if (n > t->mss)
				n = t->mss;
		} else if (!t->fin_queued || t->snd_nxt != t->fin_seq) {
			return;
		}
		took = send_seg(t, t->snd_nxt, n);
		if (!took)
			return;
		t->snd_nxt += took;
	}
}

/* --- state ----------------------------------------------------------------- */

static void set_state(struct tcp *t, enum tcp_state to, int err)
{
	enum tcp_state from = t->state;

	t->state = to;
	switch (to) {
	case TCPS_CLOSED:
		t->rto_at = t->persist_at = t->ka_at = t->tw_at = NEVER;
		break;
	case TCPS_ESTABLISHED:
		t->ka_at = t->p.keepalive_idle_ns ? t->now + t->p.keepalive_idle_ns : NEVER;
		t->ka_sent = 0;
		break;
	case TCPS_CLOSE_WAIT:
		break;
	case TCPS_FIN_WAIT_2:
		/* A peer that never sends its FIN must not hold us forever. */
		t->tw_at = t->now + t->p.time_wait_ns;
		t->ka_at = NEVER;
		break;
	case TCPS_TIME_WAIT:
		t->tw_at = t->now + t->p.time_wait_ns;
		t->rto_at = t->persist_at = t->ka_at = NEVER;
		break;
	default:
		t->ka_at = NEVER;
		break;
	}
	if (t->io.state && from != to)
		t->io.state(t->io.ctx, from, to, err);
}

static void fail(struct tcp *t, int err)
{
	set_state(t, TCPS_CLOSED, err);
}

static void enter(struct tcp *t, uint64_t now)
{
	if (t->busy++ == 0)
		t->now = now;
}

/* Leaving the outermost call: send what is due, and the owed ACK unless a
 * segment already carried it. */
static void leave(struct tcp *t)
{
	if (--t->busy)
		return;
	output(t);
	if (t->ack_now && synchronized(t->state))
		send_ack(t);
	t->ack_now = false;
}

/* --- RTT, congestion ------------------------------------------------------- */

static void rtt_sample(struct tcp *t, uint64_t r)
{
	if (!t->have_srtt) {
		t->srtt = r;
		t->rttvar = r / 2;
		t->have_srtt = true;
	} else {
		uint64_t delta = t->srtt > r ? t->srtt - r : r - t->srtt;

		t->rttvar = (3 * t->rttvar + delta) / 4;
		t->srtt = (7 * t->srtt + r) / 8;
	}
	t->rto = t->srtt + (4 * t->rttvar > CLOCK_G_NS ? 4 * t->rttvar : CLOCK_G_NS);
	if (t->rto < t->p.rto_min_ns)
		t->rto = t->p.rto_min_ns;
	if (t->rto > t->p.rto_max_ns)
		t->rto = t->p.rto_max_ns;
}

static uint32_t half_flight(const struct tcp *t)
{
	uint32_t h = (t->snd_max - t->snd_una) / 2;

	return h > 2u * t->mss ? h : 2u * t->mss;
}

static void cwnd_grow(struct tcp *t, uint32_t acked)
{
	uint32_t inc;

	if (t->cwnd < t->ssthresh)
		inc = acked < t->mss ? acked : t->mss;
	else
		inc = (uint32_t)((uint64_t)t->mss * t->mss / t->cwnd);
	if (!inc)
		inc = 1;
	t->cwnd = t->cwnd + inc > CWND_MAX ? CWND_MAX : t->cwnd + inc;
}

static void fast_retransmit(struct tcp *t)
{
	t->ssthresh = half_flight(t);
	t->cwnd = t->ssthresh;
	t->recover = t->snd_max;
	t->in_recovery = true;
	t->c.fast_retransmits++;
	send_seg(t, t->snd_una, t->mss);
}

static void ecn_cut(struct tcp *t)
{
	uint32_t half = t->cwnd / 2;

	t->ssthresh = half > 2u * t->mss ? half : 2u * t->mss;
	t->cwnd = t->ssthresh;
	t->cwr_pending = true;
	t->ecn_recover = t->snd_max;
	t->c.cwnd_ecn_cuts++;
}

/* --- receiving ------------------------------------------------------------- */

/* ACK processing in a synchronized state. False if the segment is to be
 * dropped (or the connection ended). */
static bool rx_ack(struct tcp *t, const struct tcp_seg *s)
{
	uint32_t ack = s->ack;
	uint32_t wnd = (uint32_t)s->wnd << t->snd_wscale;
	bool fin_acked;

	if (tcp_seq_gt(ack, t->snd_max)) {
		/* RFC 793: ACK something not yet sent: answer with an ACK. */
		t->c.out_of_window++;
		send_ack(t);
		return false;
	}
	if (tcp_seq_lt(ack, t->snd_una - t->max_snd_wnd)) {
		/* RFC 5961 5.2: too old to be from this connection. */
		t->c.out_of_window++;
		t->c.challenge_acks++;
		send_ack(t);
		return false;
	}

	if (tcp_seq_gt(ack, t->snd_una)) {
		uint32_t acked = ack - t->snd_una;
		size_t data = acked < t->qlen ? acked : t->qlen;

		t->head += data;
		if (t->head >= t->cap)
			t->head -= t->cap;
		t->qlen -= data;
		t->snd_una = ack;
		if (tcp_seq_lt(t->snd_nxt, ack))
			t->snd_nxt = ack;
		if (t->timing && tcp_seq_geq(ack, t->rtt_seq)) {
			rtt_sample(t, t->now - t->rtt_start);
			t->timing = false;
		}
		t->retries = 0;
		t->dupacks = 0;
		if (t->in_recovery) {
			if (tcp_seq_geq(ack, t->recover)) {
				t->in_recovery = false;
				t->cwnd = t->ssthresh;
			} else {
				/* A partial ACK: the next hole is at snd_una. */
				send_seg(t, t->snd_una, t->mss);
			}
		} else {
			cwnd_grow(t, acked);
		}
		t->rto_at = t->snd_una == t->snd_max ? NEVER : t->now + t->rto;
	} else if (ack == t->snd_una && t->snd_max != t->snd_una && s->data_len == 0 &&
		   !(s->flags & (TCP_SYN | TCP_FIN)) && wnd == t->snd_wnd) {
		t->c.dup_acks++;
		if (++t->dupacks == 3 && !t->in_recovery && tcp_seq_geq(ack, t->recover))
			fast_retransmit(t);
	}

	/* RFC 793 window update: only from a segment no older than the one
	 * that last set it. */
	if (tcp_seq_lt(t->snd_wl1, s->seq) ||
	    (t->snd_wl1 == s->seq && tcp_seq_leq(t->snd_wl2, ack))) {
		t->snd_wnd = wnd;
		t->snd_wl1 = s->seq;
		t->snd_wl2 = ack;
		if (wnd > t->max_snd_wnd)
			t->max_snd_wnd = wnd;
		if (wnd) {
			t->persist_at = NEVER;
			t->persist_shift = 0;
		}
	}
	t->persist_probes = 0;

	if (t->ecn_ok && (s->flags & TCP_ECE)) {
		t->c.ece_seen++;
		if (tcp_seq_gt(ack, t->ecn_recover))
			ecn_cut(t);
	}

	fin_acked = t->fin_queued && t->snd_una == t->fin_seq + 1;
	if (fin_acked) {
		switch (t->state) {
		case TCPS_FIN_WAIT_1:
			set_state(t, TCPS_FIN_WAIT_2, 0);
			break;
		case TCPS_CLOSING:
			set_state(t, TCPS_TIME_WAIT, 0);
			break;
		case TCPS_LAST_ACK:
			set_state(t, TCPS_CLOSED, 0);
			return false;
		default:
			break;
		}
	}
	return t->state != TCPS_CLOSED;
}

static void ooo_copy_in(struct tcp *t, uint32_t seq, const uint8_t *p, size_t n)
{
	size_t off = seq & (OOO_SIZE - 1), first = OOO_SIZE - off;

	if (first > n)
		first = n;
	memcpy(t->ooo + off, p, first);
	memcpy(t->ooo, p + first, n - first);
}

/* Keeps [seq, seq + n), which lies past rcv_nxt and inside the window.
 * False when it would need one range more than OOO_MAX. */
static bool ooo_add(struct tcp *t, uint32_t seq, const uint8_t *p, size_t n)
{
	uint32_t lo = seq, hi = seq + (uint32_t)n;
	unsigned i, j;

	for (i = 0; i < t->ooo_n && tcp_seq_lt(t->ooo_iv[i].end, lo); i++)
		;
	/* Ranges i..j-1 touch or overlap the new one: they become one. */
	for (j = i; j < t->ooo_n && tcp_seq_leq(t->ooo_iv[j].start, hi); j++) {
		if (tcp_seq_lt(t->ooo_iv[j].start, lo))
			lo = t->ooo_iv[j].start;
		if (tcp_seq_gt(t->ooo_iv[j].end, hi))
			hi = t->ooo_iv[j].end;
	}
	if (j == i && t->ooo_n == OOO_MAX)
		return false;
	ooo_copy_in(t, seq, p, n);
	memmove(&t->ooo_iv[i + 1], &t->ooo_iv[j], (t->ooo_n - j) * sizeof(t->ooo_iv[0]));
	t->ooo_iv[i].start = lo;
	t->ooo_iv[i].end = hi;
	t->ooo_n = t->ooo_n - (j - i) + 1;
	t->ooo_last = i;
	return true;
}

/* Hands on what the queue holds from rcv_nxt on. False if the connection
 * closed in a callback. */
static bool ooo_deliver(struct tcp *t)
{
	while (t->ooo_n && tcp_seq_leq(t->ooo_iv[0].start, t->rcv_nxt)) {
		uint32_t end = t->ooo_iv[0].end;
		size_t n, off, first;

		t->ooo_n--;
		memmove(&t->ooo_iv[0], &t->ooo_iv[1], t->ooo_n * sizeof(t->ooo_iv[0]));
		if (t->ooo_last)
			t->ooo_last--;
		if (tcp_seq_leq(end, t->rcv_nxt))
			continue;
		n = end - t->rcv_nxt;
		off = t->rcv_nxt & (OOO_SIZE - 1);
		first = OOO_SIZE - off < n ? OOO_SIZE - off : n;
		t->rcv_nxt = end;
		t->c.bytes_in += n;
		t->io.rx_data(t->io.ctx, t->ooo + off, first);
		if (t->state == TCPS_CLOSED)
			return false;
		if (n > first) {
			t->io.rx_data(t->io.ctx, t->ooo, n - first);
			if (t->state == TCPS_CLOSED)
				return false;
		}
	}
	return true;
}

static bool in_rcv_wnd(const struct tcp *t, uint32_t x)
{
	return tcp_seq_geq(x, t->rcv_nxt) && tcp_seq_lt(x, t->rcv_nxt + t->p.rcv_wnd);
}

static void rx_syn_sent(struct tcp *t, const struct tcp_seg *s)
{
	uint16_t peer_mss;

	if ((s->flags & TCP_ACK) &&
	    (tcp_seq_leq(s->ack, t->iss) || tcp_seq_gt(s->ack, t->snd_max))) {
		t->c.out_of_window++;
		if (!(s->flags & TCP_RST))
			emit(t, s->ack, 0, TCP_RST, 0, 0, false);
		return;
	}
	if (s->flags & TCP_RST) {
		if (s->flags & TCP_ACK) {
			t->c.rst_in++;
			fail(t, -ECONNREFUSED);
		}
		return;
	}
	/* A bare SYN would be a simultaneous open: not supported. */
	if ((s->flags & (TCP_SYN | TCP_ACK)) != (TCP_SYN | TCP_ACK))
		return;

	t->irs = s->seq;
	t->rcv_nxt = s->seq + 1;
	t->snd_una = s->ack;
	peer_mss = s->has_mss ? s->mss : TCP_MSS_PEER_DFL;
	t->mss = peer_mss < t->p.mss ? peer_mss : t->p.mss;
	if (t->mss < TCP_MSS_MIN)
		t->mss = TCP_MSS_MIN;
	/* RFC 7323: scaling holds only if both SYNs carry the option (ours
	 * always does), and the SYN-ACK's own window is never scaled. */
	t->snd_wscale = s->has_wscale ? s->wscale : 0;
	t->sack_ok = s->sack_ok;
	t->snd_wnd = s->wnd;
	t->max_snd_wnd = s->wnd;
	t->snd_wl1 = s->seq;
	t->snd_wl2 = s->ack;
	t->ecn_ok = t->p.ecn && (s->flags & (TCP_ECE | TCP_CWR)) == TCP_ECE;
	{
		uint32_t iw = 10u * t->mss, floor = 2u * t->mss > 14600 ? 2u * t->mss : 14600;

		t->cwnd = iw < floor ? iw : floor;	/* RFC 6928 */
	}
	t->ssthresh = CWND_MAX;
	t->retries = 0;
	t->rto_at = NEVER;
	if (t->timing && tcp_seq_geq(s->ack, t->rtt_seq))
		rtt_sample(t, t->now - t->rtt_start);
	else if (!t->have_srtt)
		t->rto = t->p.rto_init_ns;
	t->timing = false;
	t->ack_now = true;
	set_state(t, TCPS_ESTABLISHED, 0);
}

/* Answers a segment that reached a closed connection (RFC 793). */
static void rx_closed(struct tcp *t, const struct tcp_seg *s)
{
	uint32_t seg_len = (uint32_t)s->data_len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);

	if (s->flags & TCP_RST)
		return;
	if (s->flags & TCP_ACK)
		emit(t, s->ack, 0, TCP_RST, 0, 0, false);
	else
		emit(t, 0, s->seq + seg_len, TCP_RST | TCP_ACK, 0, 0, false);
}

static void rx_sync(struct tcp *t, const struct tcp_seg *s)
{
	uint32_t seg_len = (uint32_t)s->data_len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
	bool ok = in_rcv_wnd(t, s->seq) ||
		  (seg_len > 0 && in_rcv_wnd(t, s->seq + seg_len - 1));
	size_t skip, n;
	bool fin;

	if (!ok) {
		t->c.out_of_window++;
		if (!(s->flags & TCP_RST)) {
			/* Old data (our ACK was lost) or a stray: tell the
			 * peer where we are. */
			t->c.dup_acks_sent++;
			send_ack(t);
			if (t->state == TCPS_TIME_WAIT && (s->flags & TCP_FIN))
				t->tw_at = t->now + t->p.time_wait_ns;
		}
		return;
	}
	if (s->flags & TCP_RST) {
		if (s->seq != t->rcv_nxt) {
			t->c.challenge_acks++;
			send_ack(t);
			return;
		}
		t->c.rst_in++;
		fail(t, (t->state == TCPS_CLOSING || t->state == TCPS_LAST_ACK ||
			 t->state == TCPS_TIME_WAIT) ? 0 : -ECONNRESET);
		return;
	}
	if (s->flags & TCP_SYN) {
		t->c.challenge_acks++;
		send_ack(t);
		return;
	}
	if (!(s->flags & TCP_ACK))
		return;

	/* The peer is alive. */
	t->ka_sent = 0;
	if (t->state == TCPS_FIN_WAIT_2)
		t->tw_at = t->now + t->p.time_wait_ns;
	if (t->p.keepalive_idle_ns &&
	    (t->state == TCPS_ESTABLISHED || t->state == TCPS_CLOSE_WAIT))
		t->ka_at = t->now + t->p.keepalive_idle_ns;

	if (!rx_ack(t, s))
		return;

	if (t->ecn_ok) {
		if (s->flags & TCP_CWR)
			t->ece_echo = false;
		if (s->ecn == TCP_ECN_CE) {
			t->c.ce_seen++;
			t->ece_echo = true;
		}
	}

	fin = (s->flags & TCP_FIN) != 0;
	if (!s->data_len && !fin)
		return;
	if (t->state != TCPS_ESTABLISHED && t->state != TCPS_FIN_WAIT_1 &&
	    t->state != TCPS_FIN_WAIT_2) {
		/* The peer's FIN came already: this is a retransmission. */
		t->c.dup_acks_sent++;
		send_ack(t);
		if (t->state == TCPS_TIME_WAIT && fin)
			t->tw_at = t->now + t->p.time_wait_ns;
		return;
	}
	if (tcp_seq_gt(s->seq, t->rcv_nxt)) {
		/* Past a hole: kept (its FIN is not: the peer sends it again),
		 * and a duplicate ACK tells the peer (three of them, its fast
		 * retransmit) what is missing. */
		uint32_t room = t->rcv_nxt + t->p.rcv_wnd - s->seq;

		t->c.out_of_order++;
		n = s->data_len < room ? s->data_len : room;
		if (n) {
			if (ooo_add(t, s->seq, s->data, n))
				t->c.ooo_kept++;
			else
				t->c.ooo_overflow++;
		}
		t->c.dup_acks_sent++;
		send_ack(t);
		return;
	}
	/* seq <= rcv_nxt and the segment reaches into the window: skip what
	 * we have already, keep what fits the window. */
	skip = t->rcv_nxt - s->seq;
	n = skip < s->data_len ? s->data_len - skip : 0;
	if (n > t->p.rcv_wnd) {
		n = t->p.rcv_wnd;
		fin = false;
	}
	t->ack_now = true;
	if (n) {
		t->rcv_nxt += (uint32_t)n;
		t->c.bytes_in += n;
		t->io.rx_data(t->io.ctx, s->data + skip, n);
		if (t->state == TCPS_CLOSED)
			return;
		/* The hole it filled: what waited behind it follows. */
		if (!ooo_deliver(t))
			return;
	}
	/* The FIN counts only where the data ends. */
	if (!fin || t->rcv_nxt != s->seq + (uint32_t)s->data_len)
		return;
	t->rcv_nxt++;
	switch (t->state) {
	case TCPS_ESTABLISHED:
		set_state(t, TCPS_CLOSE_WAIT, 0);
		break;
	case TCPS_FIN_WAIT_1:
		set_state(t, TCPS_CLOSING, 0);
		break;
	case TCPS_FIN_WAIT_2:
		set_state(t, TCPS_TIME_WAIT, 0);
		break;
	default:
		break;
	}
}

static void rx_packet(struct tcp *t, const uint8_t *pkt, size_t len, uint64_t now,
		      bool verify)
{
	struct tcp_seg s;

	if (tcp_parse(pkt, len, &s) < 0) {
		t->c.malformed++;
		return;
	}
	if (verify && !tcp_csum_verify(&s)) {
		t->c.bad_csum++;
		return;
	}
	if (s.src != t->p.remote_addr || s.dst != t->p.local_addr ||
	    s.sport != t->p.remote_port || s.dport != t->p.local_port) {
		t->c.not_ours++;
		return;
	}
	t->c.seg_in++;
	enter(t, now);
	switch (t->state) {
	case TCPS_CLOSED:
		rx_closed(t, &s);
		break;
	case TCPS_SYN_SENT:
		rx_syn_sent(t, &s);
		break;
	default:
		rx_sync(t, &s);
		break;
	}
	leave(t);
}

void tcp_rx(struct tcp *t, const uint8_t *pkt, size_t len, uint64_t now)
{
	rx_packet(t, pkt, len, now, true);
}

void tcp_rx_verified(struct tcp *t, const uint8_t *pkt, size_t len, uint64_t now)
{
	rx_packet(t, pkt, len, now, false);
}

/* --- timers ---------------------------------------------------------------- */

static void on_rto(struct tcp *t)
{
	t->rto = t->rto * 2 < t->p.rto_max_ns ? t->rto * 2 : t->p.rto_max_ns;
	t->timing = false;
	if (t->state == TCPS_SYN_SENT) {
		if (++t->retries > t->p.syn_retries) {
			fail(t, -ETIMEDOUT);
			return;
		}
		t->c.retransmits++;
		t->c.rto_timeouts++;
		send_syn(t);
		t->rto_at = t->now + t->rto;
		return;
	}
	if (++t->retries > t->p.max_retries) {
		send_rst(t);
		fail(t, -ETIMEDOUT);
		return;
	}
	t->c.rto_timeouts++;
	/* RFC 5681 3.1: the loss window, and go back to snd_una. The
	 * retransmission goes out even into a zero window: it is the probe. */
	t->ssthresh = half_flight(t);
	t->cwnd = t->mss;
	t->in_recovery = false;
	t->recover = t->snd_max;
	t->dupacks = 0;
	t->snd_nxt = t->snd_una;
	t->rto_at = NEVER;
	t->snd_nxt += send_seg(t, t->snd_una, t->mss);
	t->rto_at = t->now + t->rto;
}

/* Linux's probe: one below snd_una, no data; the peer answers with an ACK
 * that carries its window, and loses nothing if it is closed. */
static void send_probe(struct tcp *t)
{
	emit(t, t->snd_una - 1, t->rcv_nxt, TCP_ACK, 0, 0, false);
}

uint64_t tcp_next_tick(const struct tcp *t)
{
	uint64_t d = t->rto_at;

	if (t->persist_at < d)
		d = t->persist_at;
	if (t->ka_at < d)
		d = t->ka_at;
	if (t->tw_at < d)
		d = t->tw_at;
	return d;
}

uint64_t tcp_tick(struct tcp *t, uint64_t now)
{
	enter(t, now);
	if (t->rto_at <= now)
		on_rto(t);
	if (t->persist_at <= now) {
		if (++t->persist_probes > t->p.max_retries) {
			send_rst(t);
			fail(t, -ETIMEDOUT);
		} else {
			send_probe(t);
			t->c.window_probes++;
			if (t->persist_shift < PERSIST_SHIFT_MAX)
				t->persist_shift++;
			t->persist_at = now + backoff(t, t->persist_shift);
		}
	}
	if (t->ka_at <= now) {
		if (t->snd_max != t->snd_una) {
			/* Data in flight: the RTO watches the peer. */
			t->ka_at = now + t->p.keepalive_idle_ns;
		} else if (t->ka_sent >= t->p.keepalive_count) {
			send_rst(t);
			fail(t, -ETIMEDOUT);
		} else {
			send_probe(t);
			t->ka_sent++;
			t->c.keepalive_probes++;
			t->ka_at = now + t->p.keepalive_intvl_ns;
		}
	}
	if (t->tw_at <= now)
		fail(t, t->state == TCPS_TIME_WAIT ? 0 : -ETIMEDOUT);
	leave(t);
	return tcp_next_tick(t);
}

/* --- API ------------------------------------------------------------------- */

int tcp_create(struct tcp **out, const struct tcp_params *params, const struct tcp_io *io)
{
	struct tcp *t;
	struct tcp_params p = *params;

	if (!io || !io->tx || !io->rx_data || !p.local_addr || !p.remote_addr ||
	    !p.local_port || !p.remote_port)
		return -EINVAL;
	if (!p.sndbuf)
		p.sndbuf = 256 * 1024;
	if (!p.mss)
		p.mss = TCP_MSS_DFL;
	if (!p.rcv_wnd)
		p.rcv_wnd = 65535;
	if (!p.rto_min_ns)
		p.rto_min_ns = NS_PER_MS;
	if (!p.rto_max_ns)
		p.rto_max_ns = 60 * NS_PER_S;
	if (!p.rto_init_ns)
		p.rto_init_ns = NS_PER_S;
	if (!p.syn_retries)
		p.syn_retries = 6;
	if (!p.max_retries)
		p.max_retries = 15;
	if (!p.keepalive_intvl_ns)
		p.keepalive_intvl_ns = 75 * NS_PER_S;
	if (!p.keepalive_count)
		p.keepalive_count = 9;
	if (!p.time_wait_ns)
		p.time_wait_ns = 60 * NS_PER_S;
	if (!p.ttl)
		p.ttl = 64;
	if (p.sndbuf > SNDBUF_MAX || p.mss < TCP_MSS_MIN ||
	    p.mss > 0xffff - TCP_IP_HDR_LEN - TCP_HDR_LEN - TCP_OPT_MAX_LEN ||
	    p.rto_min_ns > p.rto_max_ns)
		return -EINVAL;
	if (p.rto_init_ns < p.rto_min_ns)
		p.rto_init_ns = p.rto_min_ns;
	if (p.rto_init_ns > p.rto_max_ns)
		p.rto_init_ns = p.rto_max_ns;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->p = p;
	t->io = *io;
	t->cap = p.sndbuf;
	t->ring = malloc(t->cap);
	if (!t->ring)
		goto err_ring;
	t->pkt_cap = TCP_IP_HDR_LEN + TCP_HDR_LEN + TCP_OPT_MAX_LEN + p.mss;
	t->pkt = calloc(1, t->pkt_cap);
	if (!t->pkt)
		goto err_pkt;
	t->ooo = malloc(OOO_SIZE);
	if (!t->ooo) {
		free(t->pkt);
		goto err_pkt;
	}
	t->state = TCPS_CLOSED;
	t->rto_at = t->persist_at = t->ka_at = t->tw_at = NEVER;
	*out = t;
	return 0;

err_pkt:
	free(t->ring);
err_ring:
	free(t);
	return -ENOMEM;
}

void tcp_destroy(struct tcp *t)
{
	if (!t)
		return;
	free(t->ooo);
	free(t->pkt);
	free(t->ring);
	free(t);
}

int tcp_connect(struct tcp *t, uint64_t now)
{
	uint32_t iss;

	if (t->state != TCPS_CLOSED)
		return -EISCONN;
	enter(t, now);
	iss = t->io.isn ? t->io.isn(t->io.ctx) : t->p.isn;
	t->iss = iss;
	t->snd_una = iss;
	t->snd_nxt = t->snd_max = iss + 1;
	t->snd_wnd = t->max_snd_wnd = 0;
	t->snd_wl1 = t->snd_wl2 = 0;
	t->snd_wscale = 0;
	t->mss = t->p.mss < TCP_MSS_PEER_DFL ? t->p.mss : TCP_MSS_PEER_DFL;
	t->head = t->qlen = 0;
	t->fin_queued = false;
	t->fin_seq = 0;
	t->cwnd = 2u * t->mss;
	t->ssthresh = CWND_MAX;
	t->recover = t->ecn_recover = iss;
	t->in_recovery = false;
	t->dupacks = 0;
	t->have_srtt = false;
	t->srtt = t->rttvar = 0;
	t->rto = t->p.rto_init_ns;
	t->retries = 0;
	t->persist_at = t->ka_at = t->tw_at = NEVER;
	t->persist_shift = t->persist_probes = 0;
	t->ecn_ok = t->cwr_pending = t->ece_echo = false;
	t->irs = t->rcv_nxt = 0;
	t->ooo_n = t->ooo_last = 0;
	t->sack_ok = false;
	t->ka_sent = 0;
	t->ack_now = false;
	send_syn(t);
	t->timing = true;
	t->rtt_seq = iss + 1;
	t->rtt_start = now;
	t->rto_at = now + t->rto;
	set_state(t, TCPS_SYN_SENT, 0);
	leave(t);
	return 0;
}

int tcp_set_local_port(struct tcp *t, uint16_t port)
{
	if (!port)
		return -EINVAL;
	if (t->state != TCPS_CLOSED)
		return -EISCONN;
	t->p.local_port = port;
	return 0;
}

size_t tcp_send_space(const struct tcp *t)
{
	return t->cap - t->qlen;
}

ssize_t tcp_send(struct tcp *t, const void *data, size_t len, uint64_t now)
{
	size_t n, tail, first;

	switch (t->state) {
	case TCPS_SYN_SENT:
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		if (!t->fin_queued)
			break;
		return -EPIPE;
	case TCPS_CLOSED:
		return -ENOTCONN;
	default:
		return -EPIPE;
	}
	n = t->cap - t->qlen < len ? t->cap - t->qlen : len;
	if (n == 0) {
		if (len)
			t->c.send_full++;
		return 0;
	}
	enter(t, now);
	tail = t->head + t->qlen;
	if (tail >= t->cap)
		tail -= t->cap;
	first = t->cap - tail < n ? t->cap - tail : n;
	memcpy(t->ring + tail, data, first);
	memcpy(t->ring, (const uint8_t *)data + first, n - first);
	t->qlen += n;
	leave(t);
	return (ssize_t)n;
}

int tcp_close(struct tcp *t, uint64_t now)
{
	switch (t->state) {
	case TCPS_SYN_SENT:
		enter(t, now);
		set_state(t, TCPS_CLOSED, 0);
		leave(t);
		return 0;
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		enter(t, now);
		t->fin_queued = true;
		t->fin_seq = t->snd_una + (uint32_t)t->qlen;
		set_state(t, t->state == TCPS_ESTABLISHED ? TCPS_FIN_WAIT_1 : TCPS_LAST_ACK, 0);
		leave(t);
		return 0;
	case TCPS_CLOSED:
		return -ENOTCONN;
	default:
		return -EALREADY;
	}
}

void tcp_abort(struct tcp *t)
{
	if (t->state == TCPS_CLOSED)
		return;
	enter(t, t->now);
	if (synchronized(t->state) && t->state != TCPS_TIME_WAIT)
		send_rst(t);
	fail(t, -ECONNABORTED);
	leave(t);
}

enum tcp_state tcp_get_state(const struct tcp *t)
{
	return t->state;
}

const char *tcp_state_name(enum tcp_state s)
{
	static const char *const names[] = {
		[TCPS_CLOSED] = "CLOSED",
		[TCPS_SYN_SENT] = "SYN_SENT",
		[TCPS_ESTABLISHED] = "ESTABLISHED",
		[TCPS_FIN_WAIT_1] = "FIN_WAIT_1",
		[TCPS_FIN_WAIT_2] = "FIN_WAIT_2",
		[TCPS_CLOSING] = "CLOSING",
		[TCPS_TIME_WAIT] = "TIME_WAIT",
		[TCPS_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCPS_LAST_ACK] = "LAST_ACK",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const struct tcp_counters *tcp_counters(const struct tcp *t)
{
	return &t->c;
}

void tcp_get_snapshot(const struct tcp *t, struct tcp_snapshot *i)
{
	memset(i, 0, sizeof(*i));
	i->snd_una = t->snd_una;
	i->snd_nxt = t->snd_nxt;
	i->snd_max = t->snd_max;
	i->rcv_nxt = t->rcv_nxt;
	i->sack = t->sack_ok;
	i->snd_wnd = t->snd_wnd;
	i->cwnd = t->cwnd;
	i->ssthresh = t->ssthresh;
	i->mss = t->mss;
	i->snd_wscale = t->snd_wscale;
	i->ecn = t->ecn_ok;
	i->srtt_ns = t->srtt;
	i->rttvar_ns = t->rttvar;
	i->rto_ns = t->rto;
	i->queued = t->qlen;
}
