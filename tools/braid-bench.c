/* braid-bench: traffic generator and checker for braid and anything else that
 * carries UDP.
 *
 *   braid-bench send --to ADDR [--rate PPS] [--count N | --duration S] ...
 *   braid-bench recv --listen ADDR [--echo] [--idle-exit S] ...
 *   braid-bench tcp-server --listen ADDR [--echo] [--idle-exit S] ...
 *   braid-bench dgram --bind ADDR [--to ADDR --text T | --size N] [--recv N] ...
 *
 * dgram is for tests that need to see addresses rather than count
 * datagrams: one socket, a datagram sent by hand, and a line for each one
 * received saying where it came from.
 *
 * tcp-server is the far end of the hub's tcp:// and dpdk-tcp:// destinations:
 * the same checks on a TCP stream of messages, each framed by a 2-byte
 * big-endian length (src/frame.h), echoed framed the same way; TCP keeps
 * order, so it also holds every flow to arriving in order.
 *
 * Every datagram carries a header (bench_hdr below), a payload derived from
 * (run, flow, seq) and a checksum over both, so the receiver can tell, for
 * each datagram, whether it arrived intact and whether it arrived before:
 * exactly-once delivery is checked per flow against a bitmap of sequence
 * numbers, not estimated from counters. The sender measures round trips on
 * echoes and reports one-way latency as half of them (as sockperf does).
 *
 * Fault injection (--drop/--duplicate/--corrupt/--reorder/--garbage) exists so
 * the checker's own verdicts can be tested: a checker that was never shown a
 * fault cannot be trusted to see one. */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "frame.h"

/* ---- wire format of a bench datagram -------------------------------------
 *
 *  0  magic   u32  BENCH_MAGIC
 *  4  run     u32  random per sender process: restarts and concurrent
 *                  senders never mix their sequence spaces
 *  8  seq     u64  per (run, flow), from 0
 * 16  sent    u64  CLOCK_MONOTONIC ns at send (only the sender reads it)
 * 24  flow    u16
 * 26  len     u16  length of the whole datagram
 * 28  csum    u32  bench_csum over the datagram with this field zero
 * 32  payload      little-endian words bench_word(seed, i), the tail cut short
 *
 * All fields little-endian. */
#define BENCH_MAGIC    0x31425242u	/* "BRB1" */
#define BENCH_HDR_LEN  32
#define BENCH_MAX_LEN  65507		/* largest IPv4 UDP payload */
#define BENCH_MAX_FLOWS 1024
#define BENCH_SEQ_MAX  (UINT64_C(1) << 32)	/* bitmap bound: 512 MiB per flow */
#define BENCH_BATCH    32
#define BENCH_SOCKBUF  (4 << 20)

struct bench_hdr {
	uint32_t magic, run;
	uint64_t seq, sent_ns;
	uint16_t flow, len;
	uint32_t csum;
};

enum verdict { PKT_OK, PKT_CORRUPT, PKT_FOREIGN };

/* Signals seen: send stops sending on the first and stops waiting for
 * echoes on the second; recv exits on the first. */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	if (stop < 2)
		stop++;
}

/* Without SA_RESTART, so a blocking poll returns at once with EINTR. */
static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static uint64_t bench_seed(uint32_t run, uint16_t flow, uint64_t seq)
{
	return splitmix64(splitmix64(((uint64_t)run << 16 | flow)) ^ seq);
}

/* Word i of the payload: differs between datagrams (seed) and between
 * positions (i), so a swapped, shifted or stale payload shows. */
static uint64_t bench_word(uint64_t seed, size_t i)
{
	return seed + (uint64_t)i * UINT64_C(0x9e3779b97f4a7c15);
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void store64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static void store32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static uint16_t load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static void store16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

/* The checksum state over 64-bit words: multiply-xor is a bijection of the
 * state for each word, so any single changed word changes the state; the
 * final mix spreads that over the 32 bits kept. */
#define CSUM_INIT UINT64_C(0xcbf29ce484222325)

static uint64_t csum_step(uint64_t h, uint64_t w)
{
	return (h ^ w) * UINT64_C(0x100000001b3);
}

static uint32_t csum_final(uint64_t h)
{
	h = splitmix64(h);
	return (uint32_t)(h ^ (h >> 32));
}

/* Checksum of the header words with csum zeroed (bytes 0..31). */
static uint64_t csum_header(const uint8_t *p)
{
	uint64_t h = CSUM_INIT;

	h = csum_step(h, load64(p));
	h = csum_step(h, load64(p + 8));
	h = csum_step(h, load64(p + 16));
	h = csum_step(h, load64(p + 24) & UINT64_C(0x00000000ffffffff));
	return h;
}

/* Builds a complete datagram of len bytes (BENCH_HDR_LEN..BENCH_MAX_LEN) in
 * buf. */
static void bench_fill(uint8_t *buf, size_t len, uint32_t run, uint16_t flow,
		       uint64_t seq, uint64_t sent_ns)
{
	uint64_t seed = bench_seed(run, flow, seq), h;
	size_t i, words = (len - BENCH_HDR_LEN) / 8, tail = (len - BENCH_HDR_LEN) % 8;
	uint8_t *p = buf + BENCH_HDR_LEN;
	uint64_t w;

	store32(buf, BENCH_MAGIC);
	store32(buf + 4, run);
	store64(buf + 8, seq);
	store64(buf + 16, sent_ns);
	store16(buf + 24, flow);
	store16(buf + 26, (uint16_t)len);
	store32(buf + 28, 0);
	h = csum_header(buf);
	for (i = 0; i < words; i++, p += 8) {
		w = bench_word(seed, i);
		store64(p, w);
		h = csum_step(h, w);
	}
	if (tail) {
		uint8_t t[8] = { 0 };

		store64(t, bench_word(seed, i));
		memset(t + tail, 0, 8 - tail);
		memcpy(p, t, tail);
		h = csum_step(h, load64(t));
	}
	store32(buf + 28, csum_final(h));
}

/* Classifies one received datagram; fills *hdr unless PKT_FOREIGN. Anything
 * without our magic, or too short to hold it, is foreign; a datagram with our
 * magic that is truncated, padded or altered anywhere is corrupt. */
static enum verdict bench_check(const uint8_t *buf, size_t n, struct bench_hdr *hdr)
{
	size_t i, words, tail;
	const uint8_t *p;
	uint64_t seed, h, w;

	if (n < 4 || load32(buf) != BENCH_MAGIC)
		return PKT_FOREIGN;
	if (n < BENCH_HDR_LEN || n > BENCH_MAX_LEN)
		return PKT_CORRUPT;
	hdr->magic = BENCH_MAGIC;
	hdr->run = load32(buf + 4);
	hdr->seq = load64(buf + 8);
	hdr->sent_ns = load64(buf + 16);
	hdr->flow = load16(buf + 24);
	hdr->len = load16(buf + 26);
	hdr->csum = load32(buf + 28);
	if (hdr->len != n)
		return PKT_CORRUPT;

	seed = bench_seed(hdr->run, hdr->flow, hdr->seq);
	words = (n - BENCH_HDR_LEN) / 8;
	tail = (n - BENCH_HDR_LEN) % 8;
	p = buf + BENCH_HDR_LEN;
	h = csum_header(buf);
	for (i = 0; i < words; i++, p += 8) {
		w = load64(p);
		if (w != bench_word(seed, i))
			return PKT_CORRUPT;
		h = csum_step(h, w);
	}
	if (tail) {
		uint8_t t[8] = { 0 }, e[8];

		memcpy(t, p, tail);
		store64(e, bench_word(seed, i));
		if (memcmp(t, e, tail) != 0)
			return PKT_CORRUPT;
		h = csum_step(h, load64(t));
	}
	return csum_final(h) == hdr->csum ? PKT_OK : PKT_CORRUPT;
}

/* ---- exactly-once bookkeeping --------------------------------------------- */

/* The sequence numbers one flow has delivered, as a bitmap that grows with
 * the highest one seen. */
struct seqset {
	uint64_t *bits;
	uint64_t cap;		/* bits */
	uint64_t next;		/* highest seq seen + 1; 0: none yet */
	uint64_t unique, dups, reordered;
};

enum { SEQ_NEW, SEQ_DUP };

/* SEQ_NEW, SEQ_DUP, or -ERANGE (seq beyond BENCH_SEQ_MAX), -ENOMEM. */
static int seqset_add(struct seqset *s, uint64_t seq)
{
	uint64_t *bits, ncap;

	if (seq >= BENCH_SEQ_MAX)
		return -ERANGE;
	if (seq >= s->cap) {
		ncap = s->cap ? s->cap : 1 << 16;
		while (ncap <= seq)
			ncap *= 2;
		bits = realloc(s->bits, ncap / 8);
		if (!bits)
			return -ENOMEM;
		memset((uint8_t *)bits + s->cap / 8, 0, (ncap - s->cap) / 8);
		s->bits = bits;
		s->cap = ncap;
	}
	if (s->bits[seq / 64] & (UINT64_C(1) << (seq % 64))) {
		s->dups++;
		return SEQ_DUP;
	}
	s->bits[seq / 64] |= UINT64_C(1) << (seq % 64);
	s->unique++;
	if (seq + 1 < s->next)
		s->reordered++;
	else
		s->next = seq + 1;
	return SEQ_NEW;
}

/* Sequence numbers below the highest seen that never came. */
static uint64_t seqset_missing(const struct seqset *s)
{
	return s->next - s->unique;
}

/* ---- latency histogram ------------------------------------------------------
 * Log-linear: exact below 256 ns, then 128 buckets per power of two (under
 * 0.8% error), covering all of uint64_t in 7424 buckets. */
#define HIST_SUB 128
#define HIST_BUCKETS (58 * HIST_SUB)

struct hist {
	uint64_t n, max, min;
	uint64_t b[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);	/* 8..63 */
	return (e - 6) * HIST_SUB + (unsigned)((v >> (e - 7)) - HIST_SUB);
}

/* Middle of bucket i. */
static uint64_t hist_value(unsigned i)
{
	unsigned e;

	if (i < 2 * HIST_SUB)
		return i;
	e = i / HIST_SUB + 6;
	return ((uint64_t)(i % HIST_SUB + HIST_SUB) << (e - 7)) + ((UINT64_C(1) << (e - 7)) >> 1);
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
}

/* The value at percentile p (0..100]; the exact max for 100. */
static uint64_t hist_pct(const struct hist *h, double p)
{
	uint64_t rank, acc = 0, v;
	unsigned i;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
	if (rank < 1)
		rank = 1;
	if (rank >= h->n)
		return h->max;
	for (i = 0; i < HIST_BUCKETS; i++) {
		acc += h->b[i];
		if (acc >= rank) {
			v = hist_value(i);
			return v > h->max ? h->max : v < h->min ? h->min : v;
		}
	}
	return h->max;
}

/* Writes the percentile distribution of h for plotting, one line per point:
 * "percentile 1/(1-percentile) value". The points are spaced evenly on the
 * log scale of 1/(1-p) (20 per decade, from p = 0 up to where fewer than one
 * sample is left beyond p), then the max. Values are divided by div. */
static int hist_write(const char *path, const struct hist *h, double div)
{
	FILE *f = fopen(path, "w");
	double x, p;

	if (!f) {
		fprintf(stderr, "braid-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# samples %" PRIu64 "\n# percentile  1/(1-p)  value\n", h->n);
	for (x = 0; h->n && pow(10, x) <= (double)h->n; x += 0.05) {
		p = 100.0 * (1.0 - pow(10, -x));
		fprintf(f, "%.6f %.3f %.3f\n", p, pow(10, x), (double)hist_pct(h, p) / div);
	}
	if (h->n)
		fprintf(f, "100 %" PRIu64 " %.3f\n", h->n, (double)h->max / div);
	if (fclose(f) != 0) {
		fprintf(stderr, "braid-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- option parsing ------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Seconds as a decimal (0.5, 10); stored as ns. */
static int parse_secs(const char *s, uint64_t *ns)
{
	double v;
	char *end;

	if (!s || ((*s < '0' || *s > '9') && *s != '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 1e6)
		return -EINVAL;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

static int bad_arg(const char *cmd, const char *opt, const char *val)
{
	fprintf(stderr, "braid-bench %s: bad value for --%s: '%s'\n", cmd, opt, val ? val : "");
	return 2;
}

/* ---- sockets -------------------------------------------------------------- */

/* As root SO_RCVBUFFORCE passes net.core.rmem_max; otherwise take what the
 * kernel allows. A small buffer only costs throughput. */
static void set_bufs(int fd)
{
	int v = BENCH_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static FILE *open_json(const char *cmd, const char *path)
{
	FILE *f;

	if (strcmp(path, "-") == 0)
		return stdout;
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "braid-bench %s: %s: %s\n", cmd, path, strerror(errno));
	return f;
}

static int close_json(FILE *f)
{
	if (f == stdout)
		return fflush(f) == 0 ? 0 : -EIO;
	return fclose(f) == 0 ? 0 : -EIO;
}

#define SERIES_NS 100000000u	/* recv --series: one line per 0.1 s */

static double unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* ---- send ----------------------------------------------------------------- */

struct send_flow {
	int fd;
	uint64_t pos;		/* datagrams built so far: the stream position */
	uint64_t limit;		/* positions this flow gets (--count) */
	uint64_t sent;		/* distinct seqs handed to the kernel */
	struct seqset echo;
};

struct faults {
	uint64_t drop, duplicate, corrupt, reorder, garbage;	/* every Nth; 0 = never */
	uint64_t n_drop, n_duplicate, n_corrupt, n_reorder, n_garbage;
};

struct sender {
	struct send_flow *flows;
	unsigned nflows;
	uint32_t run;
	size_t size;
	struct faults fl;
	uint8_t *bufs;			/* BENCH_BATCH * size */
	uint8_t *rxbuf;
	uint8_t garbage[64];
	uint64_t pos;			/* positions built over all flows */
	uint64_t sent, sent_bytes, send_errors;
	uint64_t echo_rx, echo_corrupt, echo_foreign, echo_misrouted;
	struct hist rtt;
};

/* ---- pacing ----------------------------------------------------------------
 * cbr: one datagram every 1/rate s. video: a frame every 1/fps s, its
 * datagrams back to back, as an encoder hands a frame to the network; every
 * gop-th frame is an I-frame `iframe` times the size of the P-frames between.
 * Frame sizes carry their fractions over, so the mean rate is --rate. */
struct pacer {
	bool video;
	uint64_t interval;		/* cbr */
	uint64_t fps, frame_ns;
	unsigned gop, frame;		/* frame: index within the GOP */
	double per_p, iframe;		/* datagrams in a P-frame; I/P size ratio */
	double carry;			/* fraction of a datagram owed */
	uint64_t left;			/* datagrams of the current frame not yet sent */
};

/* Moves to the next frame that has at least one datagram; returns how long
 * after the current frame it starts. */
static uint64_t pacer_next_frame(struct pacer *p)
{
	uint64_t gap = 0;

	do {
		gap += p->frame_ns;
		p->frame = (p->frame + 1) % p->gop;
		p->carry += p->frame == 0 ? p->per_p * p->iframe : p->per_p;
		p->left = (uint64_t)p->carry;
		p->carry -= (double)p->left;
	} while (p->left == 0);
	return gap;
}

static void pacer_init(struct pacer *p, uint64_t rate)
{
	if (!p->video) {
		p->interval = rate ? (1000000000u / rate ? 1000000000u / rate : 1) : 0;
		return;
	}
	p->frame_ns = 1000000000u / p->fps;
	p->per_p = (double)rate * p->frame_ns / 1e9 * p->gop / (p->gop - 1 + p->iframe);
	p->frame = p->gop - 1;
	p->carry = 0;
	pacer_next_frame(p);			/* the first frame: an I-frame, now */
}

/* Time from the datagram just sent to the next one. */
static uint64_t pacer_gap(struct pacer *p)
{
	if (!p->video)
		return p->interval;
	if (p->left > 1) {
		p->left--;
		return 0;
	}
	return pacer_next_frame(p);
}

/* The seq at stream position pos: with --reorder N, positions k*N and k*N+1
 * swap seqs, so seq k*N+1 leaves first (unless it would be past count). */
static uint64_t send_seq_at(const struct faults *fl, uint64_t pos, uint64_t limit)
{
	uint64_t r = fl->reorder;

	if (r < 2)
		return pos;
	if (pos % r == 0 && pos + 1 < limit)
		return pos + 1;
	if (pos % r == 1)
		return pos - 1;
	return pos;
}

/* Sends n consecutive datagrams of flow f (n <= BENCH_BATCH), with the
 * configured faults. Blocks only while the socket buffer is full. */
static void send_batch(struct sender *s, unsigned f, unsigned n)
{
	struct send_flow *fl = &s->flows[f];
	struct mmsghdr mm[3 * BENCH_BATCH];
	struct iovec iov[3 * BENCH_BATCH];
	bool primary[3 * BENCH_BATCH];
	unsigned k = 0, i, tries = 0;
	uint64_t seq, pos;
	uint8_t *b;
	int r;

	memset(mm, 0, sizeof(mm));
	for (i = 0; i < n; i++) {
		pos = fl->pos++;
		s->pos++;
		seq = send_seq_at(&s->fl, pos, fl->limit);
		b = s->bufs + (size_t)i * s->size;
		bench_fill(b, s->size, s->run, (uint16_t)f, seq, now_ns());
		if (s->fl.garbage && (pos + 1) % s->fl.garbage == 0) {
			iov[k] = (struct iovec){ s->garbage, sizeof(s->garbage) };
			primary[k++] = false;
			s->fl.n_garbage++;
		}
		if (s->fl.drop && (pos + 1) % s->fl.drop == 0) {
			s->fl.n_drop++;
			continue;
		}
		if (s->fl.corrupt && (pos + 1) % s->fl.corrupt == 0) {
			b[BENCH_HDR_LEN / 2 + pos % (s->size - BENCH_HDR_LEN / 2)] ^= 0x10;
			s->fl.n_corrupt++;
		}
		if (s->fl.reorder >= 2 && pos % s->fl.reorder == 0 && seq != pos)
			s->fl.n_reorder++;
		iov[k] = (struct iovec){ b, s->size };
		primary[k++] = true;
		if (s->fl.duplicate && (pos + 1) % s->fl.duplicate == 0) {
			iov[k] = (struct iovec){ b, s->size };
			primary[k++] = false;
			s->fl.n_duplicate++;
		}
	}
	for (i = 0; i < k; i++) {
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	i = 0;
	while (i < k && stop < 2) {
		r = sendmmsg(fl->fd, mm + i, k - i, 0);
		if (r > 0) {
			for (unsigned j = i; j < i + (unsigned)r; j++) {
				if (!primary[j])
					continue;
				fl->sent++;
				s->sent++;
				s->sent_bytes += iov[j].iov_len;
			}
			i += (unsigned)r;
			tries = 0;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ENOBUFS) {
			struct pollfd p = { .fd = fl->fd, .events = POLLOUT };

			(void)poll(&p, 1, 100);
			continue;
		}
		/* ECONNREFUSED and the like report an earlier datagram's ICMP;
		 * this one did not leave. Retry it a little, then give up on
		 * it so a dead target cannot stall us. */
		s->send_errors++;
		if (++tries >= 3) {
			i++;
			tries = 0;
		}
	}
}

/* fd_flow: the flow whose socket the echo arrived on. */
static void send_rx_one(struct sender *s, unsigned fd_flow, const uint8_t *buf, size_t len,
			uint64_t now)
{
	struct bench_hdr h;
	enum verdict v;
	int r;

	s->echo_rx++;
	v = bench_check(buf, len, &h);
	if (v == PKT_CORRUPT) {
		s->echo_corrupt++;
		return;
	}
	if (v == PKT_FOREIGN || h.run != s->run || h.flow >= s->nflows) {
		s->echo_foreign++;
		return;
	}
	/* A relay must answer each sender on its own address; an echo on
	 * another flow's socket still counts for its flow, but is flagged. */
	if (h.flow != fd_flow)
		s->echo_misrouted++;
	r = seqset_add(&s->flows[h.flow].echo, h.seq);
	if (r < 0) {
		s->echo_foreign++;
		return;
	}
	if (r == SEQ_NEW && now >= h.sent_ns)
		hist_add(&s->rtt, now - h.sent_ns);
}

/* Reads every echo waiting on the sockets; waits at most timeout_ns for the
 * first. Returns true if anything arrived. */
static bool send_rx(struct sender *s, struct pollfd *pfd, uint64_t timeout_ns)
{
	struct mmsghdr mm[BENCH_BATCH];
	struct iovec iov[BENCH_BATCH];
	struct timespec ts = { (time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u) };
	bool got = false;
	unsigned f, i;
	uint64_t now;
	int r;

	r = ppoll(pfd, s->nflows, &ts, NULL);
	if (r <= 0)
		return false;
	for (f = 0; f < s->nflows; f++) {
		if (!(pfd[f].revents & (POLLIN | POLLERR)))
			continue;
		for (;;) {
			memset(mm, 0, sizeof(mm));
			for (i = 0; i < BENCH_BATCH; i++) {
				iov[i] = (struct iovec){ s->rxbuf + (size_t)i * 65536, 65536 };
				mm[i].msg_hdr.msg_iov = &iov[i];
				mm[i].msg_hdr.msg_iovlen = 1;
			}
			r = recvmmsg(s->flows[f].fd, mm, BENCH_BATCH, MSG_DONTWAIT, NULL);
			if (r <= 0) {
				/* An ICMP error is reported once; the next
				 * read goes on. */
				if (r < 0 && errno != EAGAIN && errno != EINTR)
					continue;
				break;
			}
			now = now_ns();
			got = true;
			for (i = 0; i < (unsigned)r; i++)
				send_rx_one(s, f, iov[i].iov_base, mm[i].msg_len, now);
		}
	}
	return got;
}

static void send_totals(const struct sender *s, uint64_t *uniq, uint64_t *dups,
			uint64_t *reord, uint64_t *missing)
{
	unsigned f;

	*uniq = *dups = *reord = *missing = 0;
	for (f = 0; f < s->nflows; f++) {
		*uniq += s->flows[f].echo.unique;
		*dups += s->flows[f].echo.dups;
		*reord += s->flows[f].echo.reordered;
		*missing += s->flows[f].sent - (s->flows[f].echo.unique < s->flows[f].sent ?
						s->flows[f].echo.unique : s->flows[f].sent);
	}
}

static void send_progress(const struct sender *s, uint64_t elapsed, uint64_t last_sent)
{
	uint64_t u, d, r, m;

	send_totals(s, &u, &d, &r, &m);
	fprintf(stderr, "send: %6.1fs sent %" PRIu64 " (+%" PRIu64 "/s) err %" PRIu64
		" | echo %" PRIu64 " uniq %" PRIu64 " dup %" PRIu64 " corrupt %" PRIu64
		" | one-way p50 %.1fus p99 %.1fus\n",
		secs(elapsed), s->sent, s->sent - last_sent, s->send_errors,
		s->echo_rx, u, d, s->echo_corrupt,
		(double)hist_pct(&s->rtt, 50) / 2000.0, (double)hist_pct(&s->rtt, 99) / 2000.0);
}

static void json_lat(FILE *f, const char *name, const struct hist *h, double div)
{
	fprintf(f, "\"%s\":{\"samples\":%" PRIu64 ",\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
		"\"p99\":%.3f,\"p99_9\":%.3f,\"p99_99\":%.3f,\"max\":%.3f}", name, h->n,
		(double)h->min / div, (double)hist_pct(h, 50) / div, (double)hist_pct(h, 90) / div,
		(double)hist_pct(h, 99) / div, (double)hist_pct(h, 99.9) / div,
		(double)hist_pct(h, 99.99) / div, (double)h->max / div);
}

static void send_report(const struct sender *s, FILE *f, uint64_t dur)
{
	uint64_t u, d, r, m;
	double sd = secs(dur) > 0 ? secs(dur) : 1e-9;

	send_totals(s, &u, &d, &r, &m);
	fprintf(f, "{\"sent\":%" PRIu64 ",\"sent_bytes\":%" PRIu64 ",\"send_errors\":%" PRIu64
		",\"size\":%zu,\"flows\":%u,\"duration_s\":%.3f,\"pps\":%.1f,\"mbps\":%.3f,",
		s->sent, s->sent_bytes, s->send_errors, s->size, s->nflows, secs(dur),
		(double)s->sent / sd, (double)s->sent_bytes * 8 / sd / 1e6);
	fprintf(f, "\"echo\":{\"received\":%" PRIu64 ",\"unique\":%" PRIu64 ",\"duplicates\":%"
		PRIu64 ",\"corrupt\":%" PRIu64 ",\"foreign\":%" PRIu64 ",\"reordered\":%" PRIu64
		",\"missing\":%" PRIu64 ",\"misrouted\":%" PRIu64 "},", s->echo_rx, u, d,
		s->echo_corrupt, s->echo_foreign, r, m, s->echo_misrouted);
	json_lat(f, "one_way_us", &s->rtt, 2000.0);
	fputc(',', f);
	json_lat(f, "rtt_us", &s->rtt, 1000.0);
	fprintf(f, ",\"injected\":{\"dropped\":%" PRIu64 ",\"duplicated\":%" PRIu64
		",\"corrupted\":%" PRIu64 ",\"reordered\":%" PRIu64 ",\"garbage\":%" PRIu64 "}}\n",
		s->fl.n_drop, s->fl.n_duplicate, s->fl.n_corrupt, s->fl.n_reorder, s->fl.n_garbage);
}

static void send_usage(FILE *f)
{
	fprintf(f,
		"usage: braid-bench send --to ADDR [options]\n"
		"  --to ADDR        destination, IPv4:PORT or [IPv6]:PORT\n"
		"  --rate PPS       datagrams per second over all flows; 0 = as fast as possible (default 1000)\n"
		"  --count N        stop after N datagrams\n"
		"  --duration S     stop after S seconds (default 10 if no --count)\n"
		"  --size BYTES     datagram size, %d..%d (default 64)\n"
		"  --flows N        N sockets (distinct source ports), round robin, 1..%d (default 1)\n"
		"  --linger S       after the last send, wait up to S idle seconds for echoes (default 1)\n"
		"  --pattern P      cbr (default): evenly spaced; video: a frame every 1/FPS s sent\n"
		"                   back to back, every GOP-th frame an I-frame IFRAME times a P-frame;\n"
		"                   the mean rate is still --rate\n"
		"  --fps N --gop N --iframe N   the video pattern (defaults 30, 30, 8)\n"
		"  --hist FILE      write the one-way (rtt/2) latency distribution for plotting\n"
		"  (without --count or --duration: 10 s; SIGINT/SIGTERM stops sending, a second one stops waiting)\n"
		"  --json FILE      write the summary as JSON to FILE ('-' = stdout)\n"
		"  --quiet          no progress lines\n"
		"  faults, every Nth datagram of each flow, to test a checker:\n"
		"  --drop N --duplicate N --corrupt N --reorder N --garbage N\n",
		BENCH_HDR_LEN, BENCH_MAX_LEN, BENCH_MAX_FLOWS);
}

static int send_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "flows", required_argument, NULL, 'f' },
		{ "linger", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "drop", required_argument, NULL, 'D' },
		{ "duplicate", required_argument, NULL, 'U' },
		{ "corrupt", required_argument, NULL, 'C' },
		{ "reorder", required_argument, NULL, 'R' },
		{ "garbage", required_argument, NULL, 'G' },
		{ "pattern", required_argument, NULL, 'P' },
		{ "fps", required_argument, NULL, 'F' },
		{ "gop", required_argument, NULL, 'O' },
		{ "iframe", required_argument, NULL, 'I' },
		{ "hist", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sender s;
	struct pacer pc = { .fps = 30, .gop = 30, .iframe = 8 };
	union braid_addr to;
	const char *to_s = NULL, *json = NULL, *hist = NULL;
	uint64_t rate = 1000, count = 0, dur = 0, size = 64, nflows = 1, linger = 1000000000u;
	uint64_t gop = 30, iframe = 8;
	bool quiet = false, has_count = false, has_dur = false;
	uint64_t start, now, end_send, next_tx, next_prog, last_rx, last_sent = 0;
	struct pollfd *pfd;
	unsigned f, rr = 0;
	FILE *jf;
	int c, li = 0, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		int e = 0;

		switch (c) {
		case 't': to_s = optarg; break;
		case 'r': e = parse_u64(optarg, 0, 100000000, &rate); break;
		case 'c': e = parse_u64(optarg, 1, UINT64_MAX, &count); has_count = true; break;
		case 'd': e = parse_secs(optarg, &dur); has_dur = true; break;
		case 's': e = parse_u64(optarg, BENCH_HDR_LEN, BENCH_MAX_LEN, &size); break;
		case 'f': e = parse_u64(optarg, 1, BENCH_MAX_FLOWS, &nflows); break;
		case 'l': e = parse_secs(optarg, &linger); break;
		case 'j': json = optarg; break;
		case 'q': quiet = true; break;
		case 'D': e = parse_u64(optarg, 1, UINT64_MAX, &s.fl.drop); break;
		case 'U': e = parse_u64(optarg, 1, UINT64_MAX, &s.fl.duplicate); break;
		case 'C': e = parse_u64(optarg, 1, UINT64_MAX, &s.fl.corrupt); break;
		case 'R': e = parse_u64(optarg, 2, UINT64_MAX, &s.fl.reorder); break;
		case 'G': e = parse_u64(optarg, 1, UINT64_MAX, &s.fl.garbage); break;
		case 'P':
			if (!strcmp(optarg, "video"))
				pc.video = true;
			else if (strcmp(optarg, "cbr"))
				e = -EINVAL;
			break;
		case 'F': e = parse_u64(optarg, 1, 1000, &pc.fps); break;
		case 'O': e = parse_u64(optarg, 1, 10000, &gop); break;
		case 'I': e = parse_u64(optarg, 1, 1000, &iframe); break;
		case 'H': hist = optarg; break;
		case 'h': send_usage(stdout); return 0;
		default: send_usage(stderr); return 2;
		}
		if (e < 0)
			return bad_arg("send", opts[li].name, optarg);
	}
	if (optind != argc || !to_s) {
		send_usage(stderr);
		return 2;
	}
	if (addr_parse(to_s, &to) < 0)
		return bad_arg("send", "to", to_s);
	if (pc.video && !rate) {
		fprintf(stderr, "braid-bench send: --pattern video needs a --rate above 0\n");
		return 2;
	}
	pc.gop = (unsigned)gop;
	pc.iframe = (double)iframe;
	if (!has_count && !has_dur) {
		dur = 10000000000u;
		has_dur = true;
	}

	s.nflows = (unsigned)nflows;
	s.size = (size_t)size;
	s.flows = calloc(s.nflows, sizeof(*s.flows));
	pfd = calloc(s.nflows, sizeof(*pfd));
	s.bufs = malloc(BENCH_BATCH * s.size);
	s.rxbuf = malloc((size_t)BENCH_BATCH * 65536);
	if (!s.flows || !pfd || !s.bufs || !s.rxbuf) {
		fprintf(stderr, "braid-bench send: out of memory\n");
		return 1;
	}
	if (getrandom(&s.run, sizeof(s.run), 0) != sizeof(s.run))
		s.run = (uint32_t)(now_ns() ^ (uint64_t)getpid() << 16);
	for (size_t i = 0; i < sizeof(s.garbage); i++)
		s.garbage[i] = (uint8_t)(0xa5 ^ i);
	for (f = 0; f < s.nflows; f++) {
		int fd = socket(to.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, &to.sa, addr_len(&to)) < 0) {
			fprintf(stderr, "braid-bench send: socket to %s: %s\n", to_s, strerror(errno));
			return 1;
		}
		set_bufs(fd);
		s.flows[f].fd = fd;
		pfd[f] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	install_signals();

	pacer_init(&pc, rate);
	/* With --count, flow f gets every nflows-th position from f on, so each
	 * flow knows its own last position (the --reorder fault needs it). */
	for (f = 0; f < s.nflows; f++)
		s.flows[f].limit = !has_count ? UINT64_MAX :
			f < count ? (count - f + s.nflows - 1) / s.nflows : 0;
	start = now_ns();
	next_tx = start;
	next_prog = start + 1000000000u;
	for (;;) {
		now = now_ns();
		if (stop || (has_dur && now - start >= dur) || (has_count && s.pos >= count))
			break;
		if (!rate) {
			struct send_flow *fl = &s.flows[rr];
			uint64_t todo = fl->limit - fl->pos;

			if (todo > BENCH_BATCH)
				todo = BENCH_BATCH;
			if (todo)
				send_batch(&s, rr, (unsigned)todo);
			rr = (rr + 1) % s.nflows;
			send_rx(&s, pfd, 0);
		} else if (now >= next_tx) {
			/* Catch up after a stall, but in bounded bursts. */
			unsigned burst = 0;

			while (next_tx <= now && burst < BENCH_BATCH &&
			       !(has_count && s.pos >= count)) {
				send_batch(&s, (unsigned)(s.pos % s.nflows), 1);
				next_tx += pacer_gap(&pc);
				burst++;
			}
			send_rx(&s, pfd, 0);
		} else {
			uint64_t wait = next_tx - now;

			if (next_prog > now && next_prog - now < wait)
				wait = next_prog - now;
			send_rx(&s, pfd, wait);
		}
		if (!quiet && now >= next_prog) {
			send_progress(&s, now - start, last_sent);
			last_sent = s.sent;
			next_prog += 1000000000u;
		}
	}
	end_send = now_ns();

	/* Echoes still in flight: wait while they keep coming. */
	last_rx = end_send;
	while (stop < 2 && linger) {
		uint64_t u, d, r, m;

		send_totals(&s, &u, &d, &r, &m);
		if (m == 0)
			break;
		now = now_ns();
		if (now - last_rx >= linger)
			break;
		if (send_rx(&s, pfd, 50000000u))
			last_rx = now_ns();
	}
	if (!quiet)
		send_progress(&s, end_send - start, last_sent);

	if (json) {
		jf = open_json("send", json);
		if (!jf)
			ret = 1;
		else {
			send_report(&s, jf, end_send - start);
			if (close_json(jf) < 0)
				ret = 1;
		}
	}
	if (hist && hist_write(hist, &s.rtt, 2000.0) < 0)
		ret = 1;
	for (f = 0; f < s.nflows; f++) {
		close(s.flows[f].fd);
		free(s.flows[f].echo.bits);
	}
	free(s.flows);
	free(pfd);
	free(s.bufs);
	free(s.rxbuf);
	return ret;
}

/* ---- recv ----------------------------------------------------------------- */

/* Flows by (run, flow): open addressing, at most half full. */
#define RECV_FLOWS_CAP 8192
#define RECV_FLOWS_MAX (RECV_FLOWS_CAP / 2)

struct recv_flow {
	bool used;
	uint32_t run;
	uint16_t flow;
	struct seqset seen;
};

struct receiver {
	struct recv_flow *tab;
	unsigned nflows;
	uint64_t received, bytes, corrupt, foreign, overflow;
	uint64_t echoed, echo_errors;
	uint64_t first_ns, last_ns;
	struct hist lat;		/* now - sent, first copies only */
};

static struct recv_flow *recv_flow_get(struct receiver *r, uint32_t run, uint16_t flow)
{
	uint64_t h = splitmix64((uint64_t)run << 16 | flow);
	unsigned i = (unsigned)h & (RECV_FLOWS_CAP - 1);

	for (;;) {
		struct recv_flow *e = &r->tab[i];

		if (!e->used) {
			if (r->nflows >= RECV_FLOWS_MAX)
				return NULL;
			e->used = true;
			e->run = run;
			e->flow = flow;
			r->nflows++;
			return e;
		}
		if (e->run == run && e->flow == flow)
			return e;
		i = (i + 1) & (RECV_FLOWS_CAP - 1);
	}
}

/* Accounts one datagram; true if it is intact and should be echoed. */
static bool recv_one(struct receiver *r, const uint8_t *buf, size_t len, bool trunc, uint64_t now)
{
	struct recv_flow *fl;
	struct bench_hdr h;
	enum verdict v;
	int ret;

	r->received++;
	r->bytes += len;
	if (!r->first_ns)
		r->first_ns = now;
	r->last_ns = now;
	v = trunc ? PKT_CORRUPT : bench_check(buf, len, &h);
	if (v == PKT_FOREIGN) {
		r->foreign++;
		return false;
	}
	if (v == PKT_CORRUPT) {
		r->corrupt++;
		return false;
	}
	fl = recv_flow_get(r, h.run, h.flow);
	if (!fl) {
		r->overflow++;
		return false;
	}
	ret = seqset_add(&fl->seen, h.seq);
	if (ret < 0) {
		r->overflow++;
		return false;
	}
	if (ret == SEQ_NEW && h.sent_ns && now >= h.sent_ns)
		hist_add(&r->lat, now - h.sent_ns);
	return true;
}

static void recv_totals(const struct receiver *r, uint64_t *uniq, uint64_t *dups,
			uint64_t *reord, uint64_t *missing)
{
	unsigned i;

	*uniq = *dups = *reord = *missing = 0;
	for (i = 0; i < RECV_FLOWS_CAP; i++) {
		if (!r->tab[i].used)
			continue;
		*uniq += r->tab[i].seen.unique;
		*dups += r->tab[i].seen.dups;
		*reord += r->tab[i].seen.reordered;
		*missing += seqset_missing(&r->tab[i].seen);
	}
}

/* cmd: the line's prefix ("recv", "tcp-server"). */
static void recv_progress(const struct receiver *r, const char *cmd, uint64_t elapsed,
			  uint64_t last_rx)
{
	uint64_t u, d, o, m;

	recv_totals(r, &u, &d, &o, &m);
	fprintf(stderr, "%s: %6.1fs received %" PRIu64 " (+%" PRIu64 "/s) uniq %" PRIu64
		" dup %" PRIu64 " corrupt %" PRIu64 " foreign %" PRIu64 " reord %" PRIu64
		" missing %" PRIu64 " flows %u echoed %" PRIu64 "\n",
		cmd, secs(elapsed), r->received, r->received - last_rx, u, d, r->corrupt,
		r->foreign + r->overflow, o, m, r->nflows, r->echoed);
}

/* Writes the summary's keys, from the opening brace on, but not the closing
 * one: tcp-server adds its own keys after these. */
static void recv_report(const struct receiver *r, FILE *f, bool has_expect, uint64_t expect)
{
	uint64_t u, d, o, m, span = r->last_ns - r->first_ns;
	double sd = span ? secs(span) : 0;

	recv_totals(r, &u, &d, &o, &m);
	if (has_expect)
		m = expect > u ? expect - u : 0;
	fprintf(f, "{\"received\":%" PRIu64 ",\"unique\":%" PRIu64 ",\"duplicates\":%" PRIu64
		",\"corrupt\":%" PRIu64 ",\"foreign\":%" PRIu64 ",\"reordered\":%" PRIu64
		",\"missing\":%" PRIu64 ",\"flows\":%u,\"bytes\":%" PRIu64 ",\"echoed\":%" PRIu64
		",\"echo_errors\":%" PRIu64 ",\"duration_s\":%.3f,\"pps\":%.1f,\"mbps\":%.3f,",
		r->received, u, d, r->corrupt, r->foreign + r->overflow, o, m, r->nflows, r->bytes,
		r->echoed, r->echo_errors, sd, sd > 0 ? (double)u / sd : 0,
		sd > 0 ? (double)r->bytes * 8 / sd / 1e6 : 0);
	json_lat(f, "one_way_us", &r->lat, 1000.0);
}

/* Sends back the n datagrams in mm (addresses and lengths as received). */
static void recv_echo(struct receiver *r, int fd, struct mmsghdr *mm, unsigned n)
{
	unsigned i = 0;
	int k;

	while (i < n) {
		k = sendmmsg(fd, mm + i, n - i, 0);
		if (k > 0) {
			r->echoed += (unsigned)k;
			i += (unsigned)k;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == ENOBUFS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			if (poll(&p, 1, 100) <= 0) {
				r->echo_errors += n - i;
				return;
			}
		} else {
			r->echo_errors++;
			i++;
		}
	}
}

static void recv_usage(FILE *f)
{
	fprintf(f,
		"usage: braid-bench recv --listen ADDR [options]\n"
		"  --listen ADDR    bind here, IPv4:PORT or [IPv6]:PORT\n"
		"  --echo           send every intact datagram back to its sender\n"
		"  --idle-exit S    exit when nothing arrived for S seconds (default: only on a signal)\n"
		"  --expect N       N datagrams were sent: missing = N - unique\n"
		"  --json FILE      write the summary as JSON to FILE ('-' = stdout)\n"
		"  --quiet          no progress lines\n"
		"  --hist FILE      write the one-way latency distribution for plotting\n"
		"  --series FILE    every 0.1 s, a line: unix time, datagrams/s and Mbit/s delivered\n"
		"One-way latency is arrival time minus the sender's CLOCK_MONOTONIC stamp: it is\n"
		"only meaningful when sender and receiver run on the same host.\n");
}

static int recv_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "echo", no_argument, NULL, 'e' },
		{ "idle-exit", required_argument, NULL, 'i' },
		{ "expect", required_argument, NULL, 'x' },
		{ "json", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "hist", required_argument, NULL, 'H' },
		{ "series", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct mmsghdr mm[BENCH_BATCH], out[BENCH_BATCH];
	static struct iovec iov[BENCH_BATCH], oiov[BENCH_BATCH];
	static struct sockaddr_storage from[BENCH_BATCH];
	static struct receiver r;
	const char *listen_s = NULL, *json = NULL, *hist = NULL, *series = NULL;
	uint64_t idle = 0, expect = 0, start, now, last_act, next_prog, last_rx = 0;
	uint64_t next_series = UINT64_MAX, last_su = 0, last_sb = 0;
	FILE *sf = NULL;
	bool echo = false, quiet = false, has_expect = false;
	union braid_addr la;
	uint8_t *bufs;
	FILE *jf;
	int c, li = 0, fd, n, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		int e = 0;

		switch (c) {
		case 'l': listen_s = optarg; break;
		case 'e': echo = true; break;
		case 'i': e = parse_secs(optarg, &idle); break;
		case 'x': e = parse_u64(optarg, 0, UINT64_MAX, &expect); has_expect = true; break;
		case 'j': json = optarg; break;
		case 'q': quiet = true; break;
		case 'H': hist = optarg; break;
		case 'S': series = optarg; break;
		case 'h': recv_usage(stdout); return 0;
		default: recv_usage(stderr); return 2;
		}
		if (e < 0)
			return bad_arg("recv", opts[li].name, optarg);
	}
	if (optind != argc || !listen_s) {
		recv_usage(stderr);
		return 2;
	}
	if (addr_parse(listen_s, &la) < 0)
		return bad_arg("recv", "listen", listen_s);

	r.tab = calloc(RECV_FLOWS_CAP, sizeof(*r.tab));
	bufs = malloc((size_t)BENCH_BATCH * 65536);
	if (!r.tab || !bufs) {
		fprintf(stderr, "braid-bench recv: out of memory\n");
		return 1;
	}
	fd = socket(la.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "braid-bench recv: socket: %s\n", strerror(errno));
		return 1;
	}
	set_bufs(fd);
	if (bind(fd, &la.sa, addr_len(&la)) < 0) {
		fprintf(stderr, "braid-bench recv: bind %s: %s\n", listen_s, strerror(errno));
		return 1;
	}
	if (series) {
		sf = fopen(series, "w");
		if (!sf) {
			fprintf(stderr, "braid-bench recv: %s: %s\n", series, strerror(errno));
			return 1;
		}
		fprintf(sf, "# every %.1f s: unix_time delivered_pps mbit_s (unique datagrams; bytes of all)\n",
			secs(SERIES_NS));
	}
	install_signals();

	start = last_act = now_ns();
	next_prog = start + 1000000000u;
	if (sf)
		next_series = start + SERIES_NS;
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int wait_ms = 100;

		now = now_ns();
		if (idle && now - last_act >= idle)
			break;
		if (!quiet && now >= next_prog) {
			recv_progress(&r, "recv", now - start, last_rx);
			last_rx = r.received;
			next_prog += 1000000000u;
		}
		if (now >= next_series) {
			uint64_t u, d, o, m;

			recv_totals(&r, &u, &d, &o, &m);
			fprintf(sf, "%.3f %.1f %.4f\n", unix_now(), (double)(u - last_su) / secs(SERIES_NS),
				(double)(r.bytes - last_sb) * 8 / secs(SERIES_NS) / 1e6);
			last_su = u;
			last_sb = r.bytes;
			next_series += SERIES_NS;
		}
		if (next_series != UINT64_MAX && next_series > now && (next_series - now) / 1000000u < 100)
			wait_ms = (int)((next_series - now) / 1000000u) + 1;
		if (poll(&p, 1, wait_ms) <= 0)
			continue;
		for (;;) {
			unsigned i, k = 0;

			memset(mm, 0, sizeof(mm));
			for (i = 0; i < BENCH_BATCH; i++) {
				iov[i] = (struct iovec){ bufs + (size_t)i * 65536, 65536 };
				mm[i].msg_hdr.msg_iov = &iov[i];
				mm[i].msg_hdr.msg_iovlen = 1;
				mm[i].msg_hdr.msg_name = &from[i];
				mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
			}
			n = recvmmsg(fd, mm, BENCH_BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0)
				break;
			now = last_act = now_ns();
			for (i = 0; i < (unsigned)n; i++) {
				bool ok = recv_one(&r, iov[i].iov_base, mm[i].msg_len,
						   mm[i].msg_hdr.msg_flags & MSG_TRUNC, now);

				if (!ok || !echo)
					continue;
				oiov[k] = (struct iovec){ iov[i].iov_base, mm[i].msg_len };
				memset(&out[k], 0, sizeof(out[k]));
				out[k].msg_hdr.msg_iov = &oiov[k];
				out[k].msg_hdr.msg_iovlen = 1;
				out[k].msg_hdr.msg_name = &from[i];
				out[k].msg_hdr.msg_namelen = mm[i].msg_hdr.msg_namelen;
				k++;
			}
			if (k)
				recv_echo(&r, fd, out, k);
		}
	}
	if (!quiet)
		recv_progress(&r, "recv", now_ns() - start, last_rx);
	if (json) {
		jf = open_json("recv", json);
		if (!jf)
			ret = 1;
		else {
			recv_report(&r, jf, has_expect, expect);
			fputs("}\n", jf);
			if (close_json(jf) < 0)
				ret = 1;
		}
	}
	if (hist && hist_write(hist, &r.lat, 1000.0) < 0)
		ret = 1;
	if (sf && fclose(sf) != 0) {
		fprintf(stderr, "braid-bench recv: %s: %s\n", series, strerror(errno));
		ret = 1;
	}
	for (unsigned i = 0; i < RECV_FLOWS_CAP; i++)
		free(r.tab[i].seen.bits);
	free(r.tab);
	free(bufs);
	close(fd);
	return ret;
}

/* ---- tcp-server ------------------------------------------------------------
 * The far end of the hub's tcp:// and dpdk-tcp:// destinations: a TCP server
 * that takes the stream of 2-byte big-endian length framed messages
 * (frame.h), checks each message as recv checks a datagram, and with --echo
 * writes it back framed the same way on the same connection. A TCP stream
 * keeps order, so "reordered" counts every message that came after a later
 * one of its flow: anything but 0 is a bug in the sender's stream. The
 * connections are served side by side (the hub reconnects, and a new
 * connection may come before the old one is seen to close); what a
 * connection's close cuts short is counted as torn. */
#define TSRV_CONNS	16
#define TSRV_CHUNK	65536			/* bytes per read */
#define TSRV_ECHO_RING	(1u << 20)		/* echo bytes waiting per connection */
#define TSRV_READS	16			/* reads per connection per poll round */
#define TSRV_GAPS_SHOWN	32			/* gap ranges listed per flow */
#define TSRV_FLOWS_SHOWN 64			/* flows listed in "seq" */

struct tsrv_conn {
	int fd;				/* -1: the slot is free */
	uint64_t id;			/* 1, 2, ... in the order accepted */
	char peer[ADDR_STRLEN];
	struct frame_rx rx;
	struct frame_tx echo;
	uint64_t msgs;
};

struct tsrv {
	struct receiver r;
	struct tsrv_conn *conns;	/* TSRV_CONNS */
	bool echo, quiet;
	unsigned open, open_max;
	uint64_t accepted, refused, resets, torn, stream_bytes, echo_unsent_bytes;
	struct tsrv_conn *cur;		/* the connection frame_rx is feeding */
	uint64_t now;
};

/* frame_rx's callback: one whole message of the connection t->cur. */
static void tsrv_msg(void *ctx, const uint8_t *msg, size_t len)
{
	struct tsrv *t = ctx;

	t->cur->msgs++;
	if (!recv_one(&t->r, msg, len, false, t->now) || !t->echo)
		return;
	/* tsrv_read keeps room for whatever one read can complete. */
	if (frame_tx_put(&t->cur->echo, msg, len) < 0)
		t->r.echo_errors++;
	else
		t->r.echoed++;
}

static void tsrv_close(struct tsrv *t, struct tsrv_conn *c, const char *why)
{
	bool torn = c->rx.have || c->rx.skip;

	if (torn)
		t->torn++;
	t->echo_unsent_bytes += frame_tx_queued(&c->echo);
	if (!t->quiet)
		fprintf(stderr, "tcp-server: connection %" PRIu64 " from %s closed (%s) after %"
			PRIu64 " messages%s%s\n", c->id, c->peer, why, c->msgs,
			torn ? ", the last one cut short" : "",
			frame_tx_queued(&c->echo) ? ", echoes left unsent" : "");
	close(c->fd);
	c->fd = -1;
	frame_tx_reset(&c->echo);
	frame_rx_reset(&c->rx);
	t->open--;
}

/* Writes what c's echo ring holds, as far as the socket takes it. 0, or a
 * negative errno when the connection is gone. */
static int tsrv_flush(struct tsrv_conn *c)
{
	const uint8_t *p[2];
	size_t n[2];
	unsigned k, i;

	while ((k = frame_tx_peek(&c->echo, p, n)) > 0) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = k };
		ssize_t w;

		for (i = 0; i < k; i++)
			iov[i] = (struct iovec){ (void *)p[i], n[i] };
		w = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			frame_tx_consume(&c->echo, (size_t)w);
		else if (w < 0 && errno == EINTR)
			continue;
		else if (w < 0 && errno == EAGAIN)
			return 0;
		else
			return w < 0 ? -errno : -EIO;
	}
	return 0;
}

/* True while c's echo ring has room for all one read can complete: the
 * bytes read plus a message begun in an earlier read. */
static bool tsrv_room(const struct tsrv *t, const struct tsrv_conn *c)
{
	return !t->echo || c->echo.size - frame_tx_queued(&c->echo) >=
		TSRV_CHUNK + FRAME_HDR + FRAME_MAX;
}

/* Reads what c has (a bounded number of times, so no connection starves
 * the others) and echoes it. Closes c when the peer closed or reset it. */
static void tsrv_serve(struct tsrv *t, struct tsrv_conn *c, uint8_t *buf)
{
	unsigned i;
	ssize_t n;
	int e;

	for (i = 0; i < TSRV_READS && tsrv_room(t, c); i++) {
		n = recv(c->fd, buf, TSRV_CHUNK, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (n < 0)
				t->resets++;
			/* The peer may still read what it is owed. */
			if (n == 0)
				(void)tsrv_flush(c);
			tsrv_close(t, c, n == 0 ? "by the peer" : strerror(errno));
			return;
		}
		t->stream_bytes += (uint64_t)n;
		t->now = now_ns();
		t->cur = c;
		frame_rx_feed(&c->rx, buf, (size_t)n, tsrv_msg, t);
		if (t->echo && (e = tsrv_flush(c)) < 0) {
			t->resets++;
			tsrv_close(t, c, strerror(-e));
			return;
		}
	}
}

static void tsrv_accept(struct tsrv *t, int lfd)
{
	union braid_addr pa;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct tsrv_conn *c = NULL;
	int fd, one = 1;
	unsigned i;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < TSRV_CONNS && !c; i++)
		if (t->conns[i].fd < 0)
			c = &t->conns[i];
	t->accepted++;
	if (!c) {
		t->refused++;
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->id = t->accepted;
	c->msgs = 0;
	if (addr_from_sockaddr(&pa, (struct sockaddr *)&ss, sl) == 0)
		addr_format(&pa, c->peer, sizeof(c->peer));
	else
		snprintf(c->peer, sizeof(c->peer), "?");
	if (++t->open > t->open_max)
		t->open_max = t->open;
	if (!t->quiet)
		fprintf(stderr, "tcp-server: connection %" PRIu64 " from %s\n", c->id, c->peer);
}

/* One flow's sequence numbers for the report: the lowest and highest seen
 * and the ranges missing from 0 to the highest, the first TSRV_GAPS_SHOWN
 * of them listed. */
static void tsrv_json_flow(FILE *f, const struct recv_flow *fl)
{
	const struct seqset *s = &fl->seen;
	uint64_t seq = 0, first = UINT64_MAX, ranges = 0, a;

	fprintf(f, "{\"run\":%" PRIu32 ",\"flow\":%u,\"unique\":%" PRIu64 ",\"highest\":%" PRIu64
		",\"gaps\":[", fl->run, fl->flow, s->unique, s->next - 1);
	while (seq < s->next) {
		uint64_t w = s->bits[seq / 64] >> (seq % 64);

		/* Whole words at a time where they are all seen or all not. */
		if (seq % 64 == 0 && w == UINT64_MAX && seq + 64 <= s->next) {
			if (first == UINT64_MAX)
				first = seq;
			seq += 64;
			continue;
		}
		if (w & 1) {
			if (first == UINT64_MAX)
				first = seq;
			seq++;
			continue;
		}
		a = seq;
		while (seq < s->next && !(s->bits[seq / 64] & (UINT64_C(1) << (seq % 64)))) {
			if (seq % 64 == 0 && s->bits[seq / 64] == 0 && seq + 64 <= s->next)
				seq += 64;
			else
				seq++;
		}
		if (ranges < TSRV_GAPS_SHOWN)
			fprintf(f, "%s[%" PRIu64 ",%" PRIu64 "]", ranges ? "," : "", a, seq - 1);
		ranges++;
	}
	fprintf(f, "],\"gap_ranges\":%" PRIu64 ",\"first\":%" PRIu64 "}", ranges, first);
}

static void tsrv_report(const struct tsrv *t, FILE *f, bool has_expect, uint64_t expect)
{
	uint64_t highest = 0;
	unsigned i, shown = 0;
	bool any = false;

	recv_report(&t->r, f, has_expect, expect);
	for (i = 0; i < RECV_FLOWS_CAP; i++) {
		const struct recv_flow *fl = &t->r.tab[i];

		if (fl->used && fl->seen.next && fl->seen.next - 1 >= highest) {
			highest = fl->seen.next - 1;
			any = true;
		}
	}
	fprintf(f, ",\"connections\":%" PRIu64 ",\"connections_open_max\":%u"
		",\"connections_refused\":%" PRIu64 ",\"resets\":%" PRIu64 ",\"torn\":%" PRIu64
		",\"stream_bytes\":%" PRIu64 ",\"echo_unsent_bytes\":%" PRIu64 ",\"highest_seq\":",
		t->accepted, t->open_max, t->refused, t->resets, t->torn, t->stream_bytes,
		t->echo_unsent_bytes);
	if (any)
		fprintf(f, "%" PRIu64, highest);
	else
		fputs("null", f);
	fputs(",\"seq\":[", f);
	for (i = 0; i < RECV_FLOWS_CAP && shown < TSRV_FLOWS_SHOWN; i++) {
		const struct recv_flow *fl = &t->r.tab[i];

		if (!fl->used || !fl->seen.next)
			continue;
		if (shown++)
			fputc(',', f);
		tsrv_json_flow(f, fl);
	}
	fputs("]}\n", f);
}

static void tsrv_usage(FILE *f)
{
	fprintf(f,
		"usage: braid-bench tcp-server --listen ADDR [options]\n"
		"Accepts TCP connections (up to %d at once, again and again) carrying messages\n"
		"framed by a 2-byte big-endian length, as the hub's tcp:// and dpdk-tcp://\n"
		"destinations send them, and checks each message as recv checks a datagram.\n"
		"  --listen ADDR    listen here, IPv4:PORT or [IPv6]:PORT\n"
		"  --echo           write every intact message back, framed, on its connection\n"
		"  --idle-exit S    exit when nothing arrived for S seconds (default: only on a signal)\n"
		"  --expect N       N messages were sent: missing = N - unique\n"
		"  --json FILE      write the summary as JSON to FILE ('-' = stdout): recv's keys,\n"
		"                   \"reordered\" being messages that came after a later one of\n"
		"                   their flow, plus connections, torn (messages a close cut short),\n"
		"                   highest_seq, and per flow \"seq\": first, highest, and the\n"
		"                   missing seqs as ranges (\"gaps\", the first %d)\n"
		"  --quiet          no progress lines, no line per connection\n"
		"  --hist FILE      write the one-way latency distribution for plotting\n"
		"SIGINT or SIGTERM ends it, with the summary.\n",
		TSRV_CONNS, TSRV_GAPS_SHOWN);
}

static int tsrv_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "echo", no_argument, NULL, 'e' },
		{ "idle-exit", required_argument, NULL, 'i' },
		{ "expect", required_argument, NULL, 'x' },
		{ "json", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "hist", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct tsrv t;
	struct pollfd pfd[1 + TSRV_CONNS];
	struct tsrv_conn *pc[1 + TSRV_CONNS];
	const char *listen_s = NULL, *json = NULL, *hist = NULL;
	uint64_t idle = 0, expect = 0, start, now, last_act, next_prog, last_rx = 0;
	bool has_expect = false;
	union braid_addr la;
	uint8_t *buf;
	unsigned i, np;
	FILE *jf;
	int c, li = 0, lfd, one = 1, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		int e = 0;

		switch (c) {
		case 'l': listen_s = optarg; break;
		case 'e': t.echo = true; break;
		case 'i': e = parse_secs(optarg, &idle); break;
		case 'x': e = parse_u64(optarg, 0, UINT64_MAX, &expect); has_expect = true; break;
		case 'j': json = optarg; break;
		case 'q': t.quiet = true; break;
		case 'H': hist = optarg; break;
		case 'h': tsrv_usage(stdout); return 0;
		default: tsrv_usage(stderr); return 2;
		}
		if (e < 0)
			return bad_arg("tcp-server", opts[li].name, optarg);
	}
	if (optind != argc || !listen_s) {
		tsrv_usage(stderr);
		return 2;
	}
	if (addr_parse(listen_s, &la) < 0)
		return bad_arg("tcp-server", "listen", listen_s);

	t.r.tab = calloc(RECV_FLOWS_CAP, sizeof(*t.r.tab));
	t.conns = calloc(TSRV_CONNS, sizeof(*t.conns));
	buf = malloc(TSRV_CHUNK);
	if (!t.r.tab || !t.conns || !buf) {
		fprintf(stderr, "braid-bench tcp-server: out of memory\n");
		return 1;
	}
	for (i = 0; i < TSRV_CONNS; i++) {
		t.conns[i].fd = -1;
		frame_rx_init(&t.conns[i].rx, FRAME_MAX);
		if (t.echo && frame_tx_init(&t.conns[i].echo, TSRV_ECHO_RING) < 0) {
			fprintf(stderr, "braid-bench tcp-server: out of memory\n");
			return 1;
		}
	}
	lfd = socket(la.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		fprintf(stderr, "braid-bench tcp-server: socket: %s\n", strerror(errno));
		return 1;
	}
	/* A restarted server binds again at once, its old connections in
	 * TIME_WAIT or not. */
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, &la.sa, addr_len(&la)) < 0 || listen(lfd, TSRV_CONNS) < 0) {
		fprintf(stderr, "braid-bench tcp-server: listen %s: %s\n", listen_s, strerror(errno));
		return 1;
	}
	install_signals();

	start = last_act = now_ns();
	next_prog = start + 1000000000u;
	while (!stop) {
		now = now_ns();
		if (idle && now - last_act >= idle)
			break;
		if (!t.quiet && now >= next_prog) {
			recv_progress(&t.r, "tcp-server", now - start, last_rx);
			last_rx = t.r.received;
			next_prog += 1000000000u;
		}
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pc[0] = NULL;
		np = 1;
		for (i = 0; i < TSRV_CONNS; i++) {
			struct tsrv_conn *cn = &t.conns[i];
			short ev = 0;

			if (cn->fd < 0)
				continue;
			/* An echo ring too full to take another read waits
			 * for the peer to read: TCP's own back-pressure. */
			if (tsrv_room(&t, cn))
				ev |= POLLIN;
			if (frame_tx_queued(&cn->echo))
				ev |= POLLOUT;
			pfd[np] = (struct pollfd){ .fd = cn->fd, .events = ev };
			pc[np++] = cn;
		}
		if (poll(pfd, np, 100) <= 0)
			continue;
		if (pfd[0].revents & POLLIN)
			tsrv_accept(&t, lfd);
		for (i = 1; i < np; i++) {
			struct tsrv_conn *cn = pc[i];
			int e;

			if (!pfd[i].revents)
				continue;
			if ((pfd[i].revents & POLLOUT) && (e = tsrv_flush(cn)) < 0) {
				t.resets++;
				tsrv_close(&t, cn, strerror(-e));
				continue;
			}
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				uint64_t before = t.stream_bytes;

				tsrv_serve(&t, cn, buf);
				if (t.stream_bytes != before)
					last_act = now_ns();
			}
		}
	}
	if (!t.quiet)
		recv_progress(&t.r, "tcp-server", now_ns() - start, last_rx);
	for (i = 0; i < TSRV_CONNS; i++)
		if (t.conns[i].fd >= 0)
			tsrv_close(&t, &t.conns[i], "exiting");
	if (json) {
		jf = open_json("tcp-server", json);
		if (!jf)
			ret = 1;
		else {
			tsrv_report(&t, jf, has_expect, expect);
			if (close_json(jf) < 0)
				ret = 1;
		}
	}
	if (hist && hist_write(hist, &t.r.lat, 1000.0) < 0)
		ret = 1;
	for (i = 0; i < TSRV_CONNS; i++)
		frame_tx_free(&t.conns[i].echo);
	for (i = 0; i < RECV_FLOWS_CAP; i++)
		free(t.r.tab[i].seen.bits);
	free(t.r.tab);
	free(t.conns);
	free(buf);
	close(lfd);
	return ret;
}

/* ---- commands ------------------------------------------------------------- */

/* ---- dgram: one socket, datagrams by hand ----------------------------------- */

#define DGRAM_SHOW 64		/* bytes of a datagram printed */

static void dgram_usage(FILE *f)
{
	fprintf(f,
		"usage: braid-bench dgram --bind ADDR [options]\n"
		"  One UDP socket: optionally send one datagram, then print a line for each\n"
		"  datagram received: SOURCE LENGTH TEXT (the first %d bytes, unprintable as '.').\n"
		"  --bind ADDR      bind here, IPv4:PORT or [IPv6]:PORT\n"
		"  --to ADDR        first send one datagram here\n"
		"  --text T         its content (default \"x\")\n"
		"  --size N         instead N bytes, --text repeated, 1..%d\n"
		"  --recv N         wait for N datagrams (default 0: send and exit)\n"
		"  --timeout S      give up waiting after S seconds, exit 1 (default 5)\n"
		"  --echo           send each datagram received back to its source\n",
		DGRAM_SHOW, BENCH_MAX_LEN);
}

static int dgram_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "to", required_argument, NULL, 't' },
		{ "text", required_argument, NULL, 'T' },
		{ "size", required_argument, NULL, 's' },
		{ "recv", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 'w' },
		{ "echo", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t buf[BENCH_MAX_LEN];
	const char *bind_s = NULL, *to_s = NULL, *text = "x";
	uint64_t size = 0, want = 0, timeout = 5000000000ull, deadline, got = 0;
	union braid_addr la, to;
	bool echo = false;
	int c, li = 0, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
		int e = 0;

		switch (c) {
		case 'b': bind_s = optarg; break;
		case 't': to_s = optarg; break;
		case 'T': text = optarg; e = *text ? 0 : -EINVAL; break;
		case 's': e = parse_u64(optarg, 1, BENCH_MAX_LEN, &size); break;
		case 'r': e = parse_u64(optarg, 0, 1000000, &want); break;
		case 'w': e = parse_secs(optarg, &timeout); break;
		case 'e': echo = true; break;
		case 'h': dgram_usage(stdout); return 0;
		default: dgram_usage(stderr); return 2;
		}
		if (e < 0)
			return bad_arg("dgram", opts[li].name, optarg);
	}
	if (optind != argc || !bind_s) {
		dgram_usage(stderr);
		return 2;
	}
	if (addr_parse(bind_s, &la) < 0)
		return bad_arg("dgram", "bind", bind_s);
	if (to_s && addr_parse(to_s, &to) < 0)
		return bad_arg("dgram", "to", to_s);
	fd = socket(la.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, &la.sa, addr_len(&la)) < 0) {
		fprintf(stderr, "braid-bench dgram: bind %s: %s\n", bind_s, strerror(errno));
		return 1;
	}
	if (to_s) {
		size_t tl = strlen(text), len = size ? (size_t)size : tl;

		if (len > sizeof(buf))
			len = sizeof(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)text[i % tl];
		if (sendto(fd, buf, len, 0, &to.sa, addr_len(&to)) < 0) {
			fprintf(stderr, "braid-bench dgram: send to %s: %s\n", to_s, strerror(errno));
			return 1;
		}
	}
	deadline = now_ns() + timeout;
	while (got < want) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		union braid_addr from;
		socklen_t fl = sizeof(from);
		char a[ADDR_STRLEN], show[DGRAM_SHOW + 1];
		uint64_t now = now_ns();
		ssize_t n;
		size_t k;

		if (now >= deadline)
			return 1;
		if (poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000)) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &fl);
		if (n < 0)
			continue;
		for (k = 0; k < (size_t)n && k < DGRAM_SHOW; k++)
			show[k] = buf[k] >= 0x20 && buf[k] < 0x7f ? (char)buf[k] : '.';
		show[k] = 0;
		addr_format(&from, a, sizeof(a));
		printf("%s %zd %s\n", a, n, show);
		fflush(stdout);
		if (echo)
			(void)sendto(fd, buf, (size_t)n, 0, &from.sa, fl);
		got++;
	}
	close(fd);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "send", send_main, "Sends numbered, checksummed datagrams; measures echoes" },
	{ "recv", recv_main, "Receives and verifies datagrams (exactly once, intact); optionally echoes" },
	{ "tcp-server", tsrv_main, "Serves the hub's TCP destination: verifies framed messages (intact, once, in order)" },
	{ "dgram", dgram_main, "One socket, a datagram by hand: prints where each one received came from" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: braid-bench <command> [options]   (braid-bench <command> --help)\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "braid-bench: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
