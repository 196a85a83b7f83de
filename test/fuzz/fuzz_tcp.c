/* libFuzzer harness for the minimal TCP (src/tcp.c): parser and state machine.
 *
 * Each input drives one connection, brought to ESTABLISHED with a crafted
 * SYN-ACK, through a list of steps. An input is records of
 *
 *   [ctl: u8][len: u16 big-endian][len bytes]
 *
 * and whatever is left when a record does not fit is fed as one raw packet.
 * The bytes of a record are an IPv4 packet handed to tcp_rx; ctl says what
 * the harness does around it:
 *   0x01  fix it up first: our addresses and ports, then the checksums
 *         (only if the lengths in it let tcp_csum_fill work), so that it
 *         gets past the parser and the checksum and reaches the state machine;
 *   0x02  (with 0x01) rebase seq and ack: seq = rcv_nxt + (int16)low16(seq),
 *         ack = snd_una + (int16)low16(ack), so that it lands near the windows;
 *   0x04  before it, the application sends the record's bytes as data;
 *   0x08  before it, the clock moves by (ctl >> 5) * 50 ms + 1 ms and
 *         tcp_tick runs (RTOs, probes, keepalive, TIME_WAIT);
 *   0x10  after it, tcp_close.
 *
 * Besides "no crash, no sanitizer report", it checks that every packet the
 * connection sends parses with valid checksums and our addresses, that the
 * send variables stay ordered (snd_una <= snd_nxt <= snd_max, the ring
 * within its size), and that the bytes delivered match the counter. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

#define LOCAL_ADDR  0x0a000001u
#define REMOTE_ADDR 0x0a000002u
#define LOCAL_PORT  40000
#define REMOTE_PORT 5000
#define SNDBUF      8192
#define PEER_ISN    0xfffff000u
#define MS 1000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	uint64_t delivered;
	unsigned sent;
};

static void on_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct fz *f = ctx;
	struct tcp_seg s;

	if (tcp_parse(pkt, len, &s) != 0 || !tcp_csum_verify(&s) ||
	    s.src != LOCAL_ADDR || s.dst != REMOTE_ADDR ||
	    s.sport != LOCAL_PORT || s.dport != REMOTE_PORT)
		abort();
	f->sent++;
}

static void on_rx(void *ctx, const uint8_t *d, size_t len)
{
	struct fz *f = ctx;

	if (!d || !len)
		abort();
	f->delivered += len;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Points the packet at our connection and fixes its checksums, where its
 * own lengths allow. */
static void fix_up(struct tcp *t, uint8_t *p, size_t len, bool rebase)
{
	size_t ihl;
	uint8_t *th;

	if (len < 40)
		return;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || ihl + 20 > len)
		return;
	put32(p + 12, REMOTE_ADDR);
	put32(p + 16, LOCAL_ADDR);
	th = p + ihl;
	put16(th, REMOTE_PORT);
	put16(th + 2, LOCAL_PORT);
	if (rebase) {
		struct tcp_snapshot i;

		tcp_get_snapshot(t, &i);
		put32(th + 4, i.rcv_nxt + (uint32_t)(int32_t)(int16_t)get32(th + 4));
		put32(th + 8, i.snd_una + (uint32_t)(int32_t)(int16_t)get32(th + 8));
	}
	(void)tcp_csum_fill(p, len);
}

static void check(const struct tcp *t, const struct fz *f)
{
	struct tcp_snapshot i;

	tcp_get_snapshot(t, &i);
	if (tcp_get_state(t) != TCPS_CLOSED) {
		if (tcp_seq_gt(i.snd_una, i.snd_nxt) || tcp_seq_gt(i.snd_nxt, i.snd_max))
			abort();
	}
	if (i.queued > SNDBUF)
		abort();
	if (f->delivered != tcp_counters(t)->bytes_in)
		abort();
}

static void establish(struct tcp *t, uint64_t now)
{
	uint8_t p[48] = { 0x45, 0, 0, 48, 0, 0, 0x40, 0, 64, 6 };
	uint8_t *th = p + 20;

	if (tcp_connect(t, now) != 0)
		abort();
	put32(p + 12, REMOTE_ADDR);
	put32(p + 16, LOCAL_ADDR);
	put16(th, REMOTE_PORT);
	put16(th + 2, LOCAL_PORT);
	put32(th + 4, PEER_ISN);
	put32(th + 8, 1001);
	th[12] = 7 << 4;
	th[13] = TCP_SYN | TCP_ACK | TCP_ECE;
	put16(th + 14, 4096);
	th[20] = 2, th[21] = 4, put16(th + 22, 1000);	/* MSS 1000 */
	th[24] = 3, th[25] = 3, th[26] = 2, th[27] = 0;	/* shift 2, EOL */
	if (tcp_csum_fill(p, sizeof(p)) != 0)
		abort();
	tcp_rx(t, p, sizeof(p), now + MS);
	if (tcp_get_state(t) != TCPS_ESTABLISHED)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { 0 };
	struct tcp_params p = {
		.local_addr = LOCAL_ADDR, .remote_addr = REMOTE_ADDR,
		.local_port = LOCAL_PORT, .remote_port = REMOTE_PORT,
		.isn = 1000, .sndbuf = SNDBUF, .ecn = true,
		.keepalive_idle_ns = 500 * MS, .keepalive_intvl_ns = 100 * MS,
		.keepalive_count = 2, .max_retries = 4, .time_wait_ns = 200 * MS,
	};
	struct tcp_io io = { .ctx = &f, .tx = on_tx, .rx_data = on_rx };
	struct tcp *t;
	uint64_t now = 1000 * MS;
	size_t off = 0;

	if (tcp_create(&t, &p, &io) != 0)
		return 0;
	establish(t, now);
	now += MS;
	while (off < size) {
		uint8_t ctl = data[off];
		size_t len;
		uint8_t *pkt;

		if (size - off < 3) {
			len = size - off;
			ctl = 0;
		} else {
			len = (size_t)data[off + 1] << 8 | data[off + 2];
			if (len > size - off - 3) {
				len = size - off;
				ctl = 0;
			} else {
				off += 3;
			}
		}
		/* An exact-size copy, so ASan sees any over-read. */
		pkt = malloc(len ? len : 1);
		if (!pkt)
			break;
		if (len)
			memcpy(pkt, data + off, len);
		off += len;

		if (ctl & 0x04)
			(void)tcp_send(t, pkt, len, now);
		if (ctl & 0x08) {
			now += (uint64_t)(ctl >> 5) * 50 * MS + MS;
			if (tcp_tick(t, now) < now)
				abort();
		}
		if (ctl & 0x01)
			fix_up(t, pkt, len, ctl & 0x02);
		tcp_rx(t, pkt, len, now);
		if (ctl & 0x10)
			(void)tcp_close(t, now);
		free(pkt);
		check(t, &f);
	}
	/* Let every timer run out: the connection must end, or stay quiet. */
	for (int i = 0; i < 64 && tcp_next_tick(t) != UINT64_MAX; i++) {
		now = tcp_next_tick(t) > now ? tcp_next_tick(t) : now;
		tcp_tick(t, now);
		check(t, &f);
	}
	tcp_destroy(t);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_HARNESS "fuzz_tcp"
#include "replay.h"
#endif
