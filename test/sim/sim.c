/* braid-sim: a deterministic simulator for the protocol core (src/core.h).
 *
 * One process, one thread, a virtual clock in ns. An edge and a hub core talk
 * over N links; every direction of every link has its own model (base delay,
 * jitter, reordering, loss, Gilbert-Elliott bursts, duplication, corruption,
 * and a rate behind a drop-tail queue) and a link can go dark in both
 * directions for windows of time. An application on each side sends
 * numbered, self-describing datagrams; every delivery is checked against what
 * was sent, and at the end every datagram must be accounted for. All
 * randomness comes from seeded PRNG streams and ties in the event queue are
 * broken by insertion order, so a seed replays bit for bit
 * (--check-determinism proves it on every run it is given).
 *
 * Timeline of a run (t0 = start of the virtual clock, D = traffic duration):
 *   [t0, t0+D)        traffic under the scenario's impairments
 *   [t0+D, +TAIL)     the network heals (no loss, duplication, corruption or
 *                     blackout; delays, jitter, rates and queues stay) and
 *                     the applications keep sending at a low rate. Without
 *                     this a datagram lost at the very end leaves no gap
 *                     behind it, the receiver never declares it lost, and
 *                     the books could not balance exactly.
 *   [.., +budget+Dmax+margin)  no more sends; everything in flight drains.
 *
 * Invariants checked at every delivery: never twice, never corrupted (length
 * and content regenerated from the sender's record), in order per flow
 * (ordered bonds), and
 *     deliver_time - send_time <= Dmax + budget + SLACK   (ordered)
 *     deliver_time - send_time <= Dmax + SLACK            (unordered)
 * where Dmax is the largest base + jitter + Q of any link direction, Q being
 * the longest its full queue holds a packet (queue * 8 / rate; 0 without a
 * rate). Why this is tight: the core sends inside core_rx_app (no pacing), a
 * rate-limited link has serialized a packet at most Q after it was sent, and
 * a link without reordering delays a packet to max(own arrival, previous
 * arrival), which is still <= its send time + Q + base + jitter; the
 * reorder buffer holds a gap at most `budget` after the first datagram beyond
 * it arrived, and the sim calls core_tick exactly at the deadline it returns.
 * SLACK (1 us) covers only integer rounding; it is not tick granularity (all
 * scenarios pass with SLACK = 0).
 *
 * At the end every datagram has one fate, each some counter's: delivered;
 * dropped by the sender (seen as a rise of oversize, no_session, no_link or
 * tx_nobuf during its core_rx_app with no DATA packet sent); given up by the
 * receiver (it lies between the first datagram of the session and the highest
 * one the receiver authenticated, so its reorder buffer must count it in `lost`: checked
 * exactly); or sent before the receiver's first one (session start: refused
 * as no_session or `late`, never in `lost`; allowed only before the sessions
 * settled). After the drain no datagram may lie beyond the highest one the
 * receiver saw. Scenarios without loss also require that everything sent
 * after both sessions were up and every link UP arrived.
 *
 * Capacity (rate_bps, queue_bytes in struct dir_model; 0 = unlimited, as all
 * scenarios before hetero have it) is braid-linkem's model: one packet at a
 * time serialized at the rate, whole UDP payload counted and no IP or UDP
 * header, behind a drop-tail queue (64 KiB unless set) that refuses a packet
 * when the bytes not yet serialized plus its own would exceed it. It then
 * leaves when its last bit is out, arrives base + jitter later, and keeps
 * FIFO order unless the direction reorders. A queue drop is counted apart
 * from random loss (qdropped) and is, to the books, a loss on the wire.
 *
 * Every run measures each way, over its window (datagrams sent from the
 * moment both sessions were up and every link UP until the network heals),
 * the p50 and p99 one-way delay of what was delivered and, per link, the
 * share of the DATA bytes, the queue drops and the longest wait in the queue
 * (struct net_report). --verbose prints them; a run with a rate-limited link
 * prints them as two lines under its result. The rate-limited scenarios,
 * hetero, hetero12 and equal (braid issue 14's links and loads), offer 8 or
 * 12 Mbit/s of evenly spaced 1000 B datagrams; a scenario's expect() judges
 * a scheduler on the report. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/wait.h>

#include "braid/rng.h"
#include "braid/sched.h"
#include "braid/stats.h"
#include "braid/wire.h"
#include "addr.h"
#include "config.h"
#include "core.h"
#include "crypto.h"
#include "prefilter.h"
#include "ratelimit.h"

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

#define SIM_MAX_LINKS  4
#define SIM_MAX_FLOWS  4
#define SIM_MAX_DARK   64
#define SIM_MAX_MARKS  64
#define SIM_NET_MAX    4096	/* packets in flight on the whole network */
#define SIM_POOL_MAX   256	/* tx buffers per core */
#define SIM_HDR_LEN    20	/* seq u32, flow u16, len u16, send_ns u64, cksum u32 */
#define SIM_MIN_LEN    4	/* the seq must fit: it names the datagram */
#define SIM_SLACK_NS   NS_PER_US
#define SIM_TAIL_NS    (300 * NS_PER_MS)
#define SIM_TAIL_RATE  50.0	/* datagrams/s per direction while healing */
#define SIM_MARGIN_NS  (300 * NS_PER_MS)
#define SIM_FLOOD      40	/* inits a stranger's flood sends at once */
#define SIM_SPIN_MAX   1000	/* core_tick calls at one instant before we call it a livelock */
#define SIM_DEF_QUEUE  (64 * 1024)	/* bytes: braid-linkem's default queue */

/* --- PRNG (include/braid/rng.h) ------------------------------------------- */

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	rng_init(r, seed * 0x9e3779b97f4a7c15ull ^ (stream + 1) * 0xd1342543de82ef95ull);
}

/* Uniform in [0, n); n = 0 gives 0. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static bool rng_chance(struct rng *r, double p)
{
	return p > 0 && rng_u01(r) < p;
}

/* --- the model ------------------------------------------------------------ */

/* One direction of one link. */
struct dir_model {
	uint64_t base_ns;
	uint64_t jitter_ns;	/* extra delay in [0, jitter_ns] */
	bool normal;		/* bell-shaped (Irwin-Hall of 4) instead of uniform */
	bool reorder;		/* packets may overtake each other */
	double loss;
	bool ge;		/* Gilbert-Elliott: loss is `loss` in good, ge_loss_bad in bad */
	double ge_p_gb, ge_p_bg, ge_loss_bad;
	double dup;
	double corrupt;
	/* Capacity, as braid-linkem models it: one packet serialized at a time
	 * at rate_bps behind a drop-tail queue of queue_bytes. 0 = unlimited:
	 * no queue at all, and no draw or state touched. */
	uint64_t rate_bps;
	uint64_t queue_bytes;	/* 0: SIM_DEF_QUEUE */
	/* state */
	bool ge_bad;
	uint64_t last_arrival;
	uint64_t free_at;	/* when the last packet admitted is serialized */
	struct rng rng;
	uint64_t sent, dropped, duplicated, corrupted;
	uint64_t bytes, data_pkts, data_bytes;	/* what the sender offered the link */
	uint64_t win_data_bytes;	/* DATA bytes sent in the window (struct net_report) */
	uint64_t qdropped;	/* refused by the full queue: not in `dropped` */
	uint64_t max_qdelay;	/* longest wait before a packet's serialization began */
};

struct window {
	uint64_t start, end;	/* absolute virtual time, [start, end) */
};

struct sim_link {
	struct dir_model dir[2];	/* indexed by the sending side */
	struct window dark[SIM_MAX_DARK];
	unsigned ndark;
	uint32_t weight, priority;
	union braid_addr edge_local;	/* the edge's socket */
	union braid_addr edge_public;	/* what the hub sees (NAT) */
	union braid_addr edge_stale;	/* the public address before a NAT rebinding */
	bool rebound;
	union braid_addr hub_addr;
};

enum rec_state {
	REC_SENT = 0,		/* at least one DATA packet left the sender */
	REC_DELIVERED,
	REC_DROP_OVERSIZE,	/* the sender counted it and sent nothing */
	REC_DROP_NOSESSION,
	REC_DROP_NOLINK,
	REC_DROP_NOBUF,
};

static const char *const rec_state_name[] = {
	"sent", "delivered", "oversize", "no_session", "no_link", "nobuf",
};

struct rec {
	uint64_t send_ns;
	uint32_t ord;		/* position in the sender's bond sequence, ORD_NONE if none */
	uint16_t len;
	uint8_t state;
	bool after_settle;
};

struct flowrec {
	uint16_t id;
	double interval_ns;
	struct rec *rec;
	uint32_t cap, nsent;
	int64_t last_seq;
};

#define ORD_NONE UINT32_MAX

/* Datagrams sent by side d and delivered at side 1 - d.
 *
 * The core numbers datagrams with one bond sequence in the order the
 * application hands them over, so the sim knows that order without reading
 * the (encrypted) sequence numbers: `ord` indexes seqlog, which names the
 * datagram (flow index << 30 | seq). Every datagram that got past the
 * sender's drop checks gets an ord, including those then dropped for want of
 * a buffer. The receiver's reorder buffer starts at the first datagram sent
 * under the session it authenticates (base) and can only ever give up on what lies between base
 * and the highest one it authenticated (top): that is what its `lost` counter
 * must match. */
struct dirstate {
	unsigned nflows;
	double rate;
	unsigned len_fixed;	/* every datagram this long; 0: random (payload_len) */
	bool even;		/* sends evenly spaced at `rate`, not at random gaps */
	struct flowrec flow[SIM_MAX_FLOWS];
	uint64_t sent, delivered, dropped[REC_DROP_NOBUF + 1];
	uint64_t payload_bytes;	/* of everything sent */
	uint64_t max_delay;
	/* One-way delay of every datagram sent in the window and delivered,
	 * for the percentiles (struct net_report); room for all it sends. */
	uint64_t *lat;
	uint32_t nlat, caplat;
	uint64_t slow;		/* sent 2 s after t0 or later, delayed > dmax + budget / 2 */
	uint32_t *seqlog;
	uint32_t nlog, caplog;
	bool have_base;
	uint32_t base, top;
	uint64_t rx_session;	/* receiver's session when base was taken */
	/* Where each of the sender's recent sessions began in the log: both
	 * cores know a session's first sequence number, so the receiver's
	 * window starts at the first datagram sent under it, not at the
	 * first that happened to arrive. */
	struct { uint64_t session; uint32_t first; } txs[4];
	unsigned ntxs;
	bool inexact;		/* the receiver started over mid-run */
};

struct side {
	struct sim *sim;
	unsigned id;		/* 0 edge, 1 hub */
	const char *name;
	struct core *core;
	struct rng core_rng, app_rng;
	uint8_t *pool;
	uint8_t *pool_state;	/* POOL_* */
	uint32_t *pool_free;
	unsigned pool_nfree;
	uint64_t deadline;
	uint64_t spin_at;
	unsigned spins;
	bool was_ready;
	/* What the current core call sent. */
	unsigned call_data_tx;
	uint32_t call_ord;	/* ord of the datagram core_rx_app is taking, or ORD_NONE */
	uint64_t tx_bytes;
	uint64_t retx_tx;	/* DATA sent outside core_rx_app: NACK answers */
	uint64_t extra_copies;	/* DATA packets beyond one per datagram in core_rx_app */
	uint64_t ndeliv;
	/* Links deleted here: closed once the core says they are gone (what
	 * arrives then is dropped, as the kernel would with no socket). */
	bool closed[SIM_MAX_LINKS];
	unsigned gone[SIM_MAX_LINKS];	/* link_gone calls */
	uint64_t closed_drops;
	/* A restarted side's earlier cores: what their counters said when
	 * they were destroyed, for the books at the end. */
	uint64_t prev_delivered, prev_app_rx, prev_lost, prev_ratelimited;
};

enum { POOL_FREE = 0, POOL_ALLOC = 1, POOL_INFLIGHT = 2 };

struct pkt {
	uint32_t next;		/* free list */
	uint32_t ord;		/* DATA: the datagram it carries */
	uint32_t len;
	uint8_t to, link;
	bool corrupted;
	union braid_addr src;
	uint8_t data[BRAID_PKT_MAX];
};

enum ev_type { EV_ARRIVE = 0, EV_APP, EV_TXDONE, EV_MARK };

struct ev {
	uint64_t t;
	uint64_t ord;
	uint32_t idx;
	uint8_t type, side;
};

struct heap {
	struct ev *v;
	size_t n, cap;
};

/* Link counters of both sides at one instant, for scenario checks. */
struct snap {
	uint64_t t;
	bool taken;
	uint64_t tx_data[2][SIM_MAX_LINKS];
	uint64_t state[2][SIM_MAX_LINKS];
	uint64_t weight[2][SIM_MAX_LINKS];
	uint64_t loss[2][SIM_MAX_LINKS];
};

/* Things done at a set time: a snapshot of the links' counters, a NAT
 * rebinding, and what braidctl does to a side's link (`side`, `link`):
 * delete it (drain), add it back, set it down or up; and a link's loss
 * changed (both directions, `value`). */
enum mark_kind { MARK_SNAP = 0, MARK_NAT, MARK_DRAIN, MARK_ADD, MARK_ADMIN_DOWN, MARK_ADMIN_UP,
		 MARK_LOSS, MARK_REPLAY, MARK_RESTART };

struct sim;

/* What a run measured, each way, over its window: the datagrams sent from
 * the moment both sessions were up and every link UP (settle) until the
 * network heals. Before it the links' delays are still being learnt; after
 * it only the tail's trickle is sent. */
struct net_report {
	struct {
		uint64_t n;		/* datagrams sent in the window and delivered */
		uint64_t p50_ns, p99_ns;	/* their one-way delay, nearest rank */
		double share[SIM_MAX_LINKS];	/* of the DATA bytes sent in the window */
		uint64_t qdrops[SIM_MAX_LINKS];	/* the whole run's */
		uint64_t qdelay_max_ns[SIM_MAX_LINKS];
	} dir[2];
};

struct scenario {
	const char *name;
	const char *help;
	void (*setup)(struct sim *s);
	void (*check)(struct sim *s);	/* after the run, if nothing failed yet */
	/* What a scheduler must achieve on these links, judged on the
	 * measurements; after check, if nothing failed yet. */
	void (*expect)(struct sim *s, const struct net_report *r);
};

struct sim {
	const struct scenario *sc;
	uint64_t seed;
	int verbose;
	bool alloc_check;

	/* configuration, set by the scenario */
	uint64_t dur_ns;
	enum sched_mode mode;
	enum sched_algo algo;	/* aggregate mode's rule; default arrival */
	uint64_t budget_ns;
	bool unordered;
	unsigned fec_k, fec_m;	/* 0: no FEC */
	bool fec_auto;		/* fec = auto: fec_k is the most per block, M from loss */
	bool nack;
	uint64_t probe_ns;
	unsigned nlinks;
	struct sim_link link[SIM_MAX_LINKS];
	unsigned pool_n;
	uint64_t txdone_ns;	/* how long the driver keeps a sent buffer */
	unsigned burst_max;
	unsigned len_max;
	unsigned window;	/* reorder window */
	bool expect_all;	/* no loss configured: all sent after settle arrives */
	double spoof;		/* share of corrupted packets to the hub sent from a stranger */
	/* The edge's first HS_INIT and first DATA, as sent, for MARK_REPLAY
	 * (`value` 0: the init, 1: the data) from the stranger's address. */
	uint8_t cap_init[BRAID_PKT_MAX], cap_data[BRAID_PKT_MAX];
	size_t cap_init_len, cap_data_len;
	/* Bytes the stranger sent the hub, and the hub sent the stranger;
	 * the answers it got, and when its first and last inits came. */
	uint64_t spoof_rx_bytes, spoof_tx_bytes, spoof_tx_pkts;
	uint64_t spoof_inits, spoof_first, spoof_last;
	struct {
		uint64_t t;
		enum mark_kind kind;
		unsigned side, link;
		double value;
	} mark[SIM_MAX_MARKS];
	bool weight_auto;	/* every link weight = auto */
	unsigned nmarks;
	struct snap snap[SIM_MAX_MARKS];
	unsigned nat_link;

	/* run state */
	uint64_t t0, now, t_heal, t_stop_app, t_end, t_settle;
	bool settled;
	/* Counters when the steady state begins, 2 s in: needless
	 * retransmissions while the links' delays are still being learnt are
	 * allowed (ck_recovery). */
	bool steady;
	uint64_t steady_retx[2], steady_retx_dup[2];
	uint64_t dmax_ns;
	uint64_t ord;
	struct heap heap;
	struct pkt *net;
	uint32_t net_free;	/* free list, then the never-used tail from net_fresh */
	uint32_t net_fresh;
	unsigned net_used;
	struct side side[2];
	struct dirstate dir[2];
	uint64_t payload_key;
	union braid_addr spoof_addr;
	/* MARK_RESTART: when a side restarted, and when both sides were
	 * under one new session again (0: not yet), which must be within
	 * restart_within_ns. */
	uint64_t restart_at, restart_back_at, restart_within_ns;
	unsigned restart_side;
	bool hub_learned_new;	/* NAT: hub authenticated a packet from the new address */
	uint64_t hub_tx_new;	/* NAT: packets the hub sent to the new address */
	uint64_t nat_dropped;
	uint64_t hash;
	uint64_t events;
	uint64_t corrupt_arrivals[2];
	struct net_report report;	/* filled in by sim_finish */
	bool failed;
	char why[640];
};

static const union braid_addr *spoof_src(struct sim *s)
{
	return &s->spoof_addr;
}

/* --- allocation counting ---------------------------------------------------- */

/* --alloc-check interposes the allocator: the executable's malloc & co. take
 * precedence over libc's for every library in the process, and forward to
 * glibc's exported __libc_* entry points. ASan must own malloc to do its job,
 * so under ASan none of this is compiled and the check is skipped. */
#if defined(__SANITIZE_ADDRESS__)
#define SIM_ALLOC_HOOKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ALLOC_HOOKS 0
#else
#define SIM_ALLOC_HOOKS 1
#endif
#else
#define SIM_ALLOC_HOOKS 1
#endif

static bool alloc_watch;
static uint64_t alloc_count;
static size_t alloc_first_size;

#if SIM_ALLOC_HOOKS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static void alloc_note(size_t n)
{
	if (alloc_watch) {
		if (alloc_count++ == 0)
			alloc_first_size = n;
	}
}

void *malloc(size_t n)
{
	alloc_note(n);
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	alloc_note(n * size);
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	alloc_note(n);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

void *aligned_alloc(size_t align, size_t n)
{
	alloc_note(n);
	return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	alloc_note(n);
	p = __libc_memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}
#endif

/* --- helpers ---------------------------------------------------------------- */

static double rel_s(const struct sim *s, uint64_t t)
{
	return (double)(t - s->t0) / 1e9;
}

static void violation(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void violation(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->failed)
		return;
	s->failed = true;
	n = snprintf(s->why, sizeof(s->why), "t=%.6fs: ", rel_s(s, s->now));
	if (n < 0 || (size_t)n >= sizeof(s->why))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(s->why + n, sizeof(s->why) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void trace(const struct sim *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void trace(const struct sim *s, int level, const char *fmt, ...)
{
	va_list ap;

	if (s->verbose < level)
		return;
	printf("  %10.6f ", rel_s(s, s->now));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void hash_u64(uint64_t *h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		*h ^= (v >> (8 * i)) & 0xff;
		*h *= 0x100000001b3ull;
	}
}

static void addr_v4(union braid_addr *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->in.sin_family = AF_INET;
	a->in.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a->in.sin_addr);
}

static bool mem_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static bool addr_same(const union braid_addr *a, const union braid_addr *b)
{
	return a->sa.sa_family == AF_INET && b->sa.sa_family == AF_INET &&
	       a->in.sin_port == b->in.sin_port &&
	       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
}

static const char *addr_str(const union braid_addr *a, char *buf)
{
	char ip[INET_ADDRSTRLEN] = "?";

	if (a->sa.sa_family == AF_INET)
		inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip));
	snprintf(buf, ADDR_STRLEN, "%s:%u", ip, ntohs(a->in.sin_port));
	return buf;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* --- event queue: a binary heap on (time, insertion order) ------------------ */

static bool ev_before(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->ord < b->ord);
}

static void ev_push(struct sim *s, uint64_t t, enum ev_type type, unsigned side, uint32_t idx)
{
	struct heap *h = &s->heap;
	size_t i = h->n;

	if (h->n == h->cap) {
		violation(s, "sim: event queue full (%zu events)", h->cap);
		return;
	}
	h->v[h->n++] = (struct ev){ .t = t, .ord = s->ord++, .idx = idx,
				    .type = (uint8_t)type, .side = (uint8_t)side };
	while (i > 0) {
		size_t up = (i - 1) / 2;
		struct ev tmp;

		if (!ev_before(&h->v[i], &h->v[up]))
			break;
		tmp = h->v[i];
		h->v[i] = h->v[up];
		h->v[up] = tmp;
		i = up;
	}
}

static struct ev ev_pop(struct heap *h)
{
	struct ev top = h->v[0];
	size_t i = 0;

	h->v[0] = h->v[--h->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct ev tmp;

		if (l < h->n && ev_before(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && ev_before(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			break;
		tmp = h->v[i];
		h->v[i] = h->v[m];
		h->v[m] = tmp;
		i = m;
	}
	return top;
}

/* --- application payloads --------------------------------------------------- */

/* A datagram is a pure function of (direction, flow, seq, len, send time),
 * so the receiver can regenerate what must have been sent from the sender's
 * record and compare every byte. Datagrams shorter than the header carry its
 * first bytes (at least the seq). */
static void payload_fill(const struct sim *s, uint8_t *out, unsigned dir, unsigned fi,
			 uint32_t seq, unsigned len, uint64_t send_ns)
{
	uint8_t hdr[SIM_HDR_LEN];
	uint64_t x = s->payload_key ^ ((uint64_t)dir << 62) ^ ((uint64_t)fi << 56) ^
		     (uint64_t)seq * 0x2545f4914f6cdd1dull;
	uint64_t ck64 = 0xcbf29ce484222325ull;
	uint32_t ck;
	uint16_t flow = s->dir[dir].flow[fi].id, l16 = (uint16_t)len;

	/* A 64-bit LCG word at a time, output mixed; the checksum runs over
	 * the same words (the last one cut to what is sent). */
	for (unsigned i = SIM_HDR_LEN; i < len; i += 8) {
		unsigned n = len - i < 8 ? len - i : 8;
		uint64_t v;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		v = x ^ (x >> 29);
		if (n < 8)
			v &= (1ull << (8 * n)) - 1;
		memcpy(out + i, &v, n);
		ck64 = (ck64 ^ v) * 0x100000001b3ull;
	}
	ck = (uint32_t)(ck64 ^ (ck64 >> 32));
	memcpy(hdr, &seq, 4);
	memcpy(hdr + 4, &flow, 2);
	memcpy(hdr + 6, &l16, 2);
	memcpy(hdr + 8, &send_ns, 8);
	memcpy(hdr + 16, &ck, 4);
	memcpy(out, hdr, len < SIM_HDR_LEN ? len : SIM_HDR_LEN);
}

static unsigned payload_len(struct sim *s, struct rng *r)
{
	/* One in eight is small, to exercise tiny datagrams (and the header
	 * truncation above); the rest are uniform up to len_max. */
	if (rng_below(r, 8) == 0)
		return SIM_MIN_LEN + (unsigned)rng_below(r, 61);
	return SIM_MIN_LEN + (unsigned)rng_below(r, s->len_max - SIM_MIN_LEN + 1);
}

/* --- the network ------------------------------------------------------------ */

static bool link_dark(const struct sim *s, const struct sim_link *l, uint64_t t)
{
	if (t >= s->t_heal)
		return false;
	for (unsigned i = 0; i < l->ndark; i++)
		if (t >= l->dark[i].start && t < l->dark[i].end)
			return true;
	return false;
}

static uint64_t jitter_sample(struct dir_model *m)
{
	if (!m->jitter_ns)
		return 0;
	if (m->normal) {
		uint64_t sum = 0;

		for (int i = 0; i < 4; i++)
			sum += rng_below(&m->rng, m->jitter_ns + 1);
		return sum / 4;
	}
	return rng_below(&m->rng, m->jitter_ns + 1);
}

static uint64_t queue_limit(const struct dir_model *m)
{
	return m->queue_bytes ? m->queue_bytes : SIM_DEF_QUEUE;
}

/* The longest a packet can take from its send to the end of its
 * serialization on a rate-limited direction: a full queue, its own bytes
 * included (plus one byte for the rounding in queue_admit); 0 without a
 * rate. */
static uint64_t queue_max_ns(const struct dir_model *m)
{
	if (!m->rate_bps)
		return 0;
	return (uint64_t)(((unsigned __int128)(queue_limit(m) + 1) * 8 * NS_PER_S +
			   m->rate_bps - 1) / m->rate_bps);
}

/* braid-linkem's drop-tail queue and rate limiter (model_admit in
 * tools/braid-linkem.c): the link serializes one packet at a time, len * 8
 * / rate each; the backlog is the unserialized time ahead of this packet
 * in bytes at the rate, and a packet for which backlog + len would exceed
 * the queue is dropped. len is what the core handed tx_send, the whole UDP
 * payload; like linkem, no IP or UDP header is counted (issue 14's figures
 * count 1000 B + braid's 48 B the same way).
 * Returns false for a drop; else sets *depart, when its last bit leaves. */
static bool queue_admit(struct dir_model *m, uint64_t now, size_t len, uint64_t *depart)
{
	uint64_t start = m->free_at > now ? m->free_at : now;
	uint64_t backlog = (uint64_t)((unsigned __int128)(start - now) * m->rate_bps /
				      (8 * NS_PER_S));

	if (backlog + len > queue_limit(m)) {
		m->qdropped++;
		return false;
	}
	if (start - now > m->max_qdelay)
		m->max_qdelay = start - now;
	m->free_at = start + (uint64_t)len * 8 * NS_PER_S / m->rate_bps;
	*depart = m->free_at;
	return true;
}

/* One packet into the network, from `from`'s end of link li (or, with
 * stranger, from the stranger's address to the hub), leaving that end at
 * depart. */
static void net_copy(struct sim *s, unsigned from, unsigned li, const uint8_t *buf, size_t len,
		     uint32_t ord, bool corrupt, bool stranger, uint64_t depart)
{
	struct sim_link *l = &s->link[li];
	struct dir_model *m = &l->dir[from];
	uint64_t arr = depart + m->base_ns + jitter_sample(m);
	struct pkt *p;
	uint32_t idx;

	if (s->net_free != UINT32_MAX) {
		idx = s->net_free;
		s->net_free = s->net[idx].next;
	} else if (s->net_fresh < SIM_NET_MAX) {
		/* Touch the arena only as deep as a run needs it. */
		idx = s->net_fresh++;
	} else {
		violation(s, "sim: network packet pool exhausted (%u in flight)", s->net_used);
		return;
	}
	p = &s->net[idx];
	s->net_used++;
	memcpy(p->data, buf, len);
	p->len = (uint32_t)len;
	p->ord = ord;
	p->to = (uint8_t)(1 - from);
	p->link = (uint8_t)li;
	p->corrupted = corrupt;
	p->src = from == 0 ? l->edge_public : l->hub_addr;
	if (stranger)
		p->src = *spoof_src(s);
	if (corrupt) {
		size_t at = rng_below(&m->rng, len);

		p->data[at] ^= (uint8_t)(1 + rng_below(&m->rng, 255));
		m->corrupted++;
		/* A stranger's garbage: the hub must not learn its address. */
		if (from == 0 && rng_chance(&m->rng, s->spoof)) {
			p->src = *spoof_src(s);
			s->spoof_rx_bytes += len;
		}
	}
	if (!m->reorder) {
		if (arr < m->last_arrival)
			arr = m->last_arrival;
		m->last_arrival = arr;
	}
	ev_push(s, arr, EV_ARRIVE, p->to, idx);
}

static void net_transmit(struct sim *s, unsigned from, unsigned li, const uint8_t *buf, size_t len,
			 uint32_t ord)
{
	struct sim_link *l = &s->link[li];
	struct dir_model *m = &l->dir[from];
	bool impaired = s->now < s->t_heal;
	bool lost;
	unsigned copies = 1;
	uint64_t depart = s->now;

	m->sent++;
	m->bytes += len;
	if (buf[1] == WIRE_DATA) {
		m->data_pkts++;
		m->data_bytes += len;
		if (s->settled && impaired)
			m->win_data_bytes += len;
	}
	if (link_dark(s, l, s->now)) {
		m->dropped++;
		trace(s, 2, "%s link%u tx len=%zu: dark, dropped", s->side[from].name, li, len);
		return;
	}
	/* A full queue drops whether the network has healed or not: it is the
	 * link's capacity, not an impairment. The tail's trickle (SIM_TAIL_RATE)
	 * is far below the scenarios' rates, so a queue full at t_heal drains
	 * and what follows gets through, leaving a gap behind every drop for
	 * the books. Random loss comes after the queue, as in linkem: a packet
	 * lost on the wire has used its serialization time. */
	if (m->rate_bps && !queue_admit(m, s->now, len, &depart)) {
		trace(s, 2, "%s link%u tx len=%zu: queue full, dropped", s->side[from].name, li, len);
		return;
	}
	if (m->ge) {
		/* Step the chain once per packet, then lose by state. */
		if (m->ge_bad ? rng_chance(&m->rng, m->ge_p_bg) : rng_chance(&m->rng, m->ge_p_gb))
			m->ge_bad = !m->ge_bad;
		lost = rng_chance(&m->rng, m->ge_bad ? m->ge_loss_bad : m->loss);
	} else {
		lost = rng_chance(&m->rng, m->loss);
	}
	if (lost && impaired) {
		m->dropped++;
		trace(s, 2, "%s link%u tx len=%zu: lost", s->side[from].name, li, len);
		return;
	}
	if (rng_chance(&m->rng, m->dup) && impaired) {
		copies = 2;
		m->duplicated++;
	}
	/* A duplicate is made past the bottleneck: it takes no serialization
	 * of its own (linkem likewise). */
	for (unsigned c = 0; c < copies; c++)
		net_copy(s, from, li, buf, len, ord, impaired && rng_chance(&m->rng, m->corrupt),
			 false, depart);
}

/* --- core_io callbacks ------------------------------------------------------ */

static uint8_t *io_tx_alloc(void *ctx, unsigned li)
{
	struct side *sd = ctx;
	uint32_t i;

	(void)li;
	if (sd->pool_nfree == 0)
		return NULL;
	i = sd->pool_free[--sd->pool_nfree];
	sd->pool_state[i] = POOL_ALLOC;
	return sd->pool + (size_t)i * BRAID_PKT_MAX;
}

/* Where the hub addressed a packet decides whether it reaches the edge. */
static bool hub_route_ok(struct sim *s, unsigned li, const struct core_path *path)
{
	struct sim_link *l = &s->link[li];
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	if (path->has_local && !addr_same(&path->local, &l->hub_addr)) {
		violation(s, "hub sent on link%u from %s, not from the address it was reached on (%s)",
			  li, addr_str(&path->local, a), addr_str(&l->hub_addr, b));
		return false;
	}
	if (addr_same(&path->remote, &l->edge_public)) {
		if (l->rebound)
			s->hub_tx_new++;
		return true;
	}
	if (l->rebound && addr_same(&path->remote, &l->edge_stale)) {
		if (s->hub_learned_new)
			violation(s, "hub kept sending link%u to the stale address %s after it "
				  "authenticated packets from %s", li, addr_str(&path->remote, a),
				  addr_str(&l->edge_public, b));
		s->nat_dropped++;
		return false;	/* the NAT mapping is gone */
	}
	if (addr_same(&path->remote, spoof_src(s)))
		violation(s, "hub sent link%u to %s, an address it only saw in unauthenticated packets",
			  li, addr_str(&path->remote, a));
	else
		violation(s, "hub sent link%u to %s, which is no edge address", li,
			  addr_str(&path->remote, a));
	return false;
}

static void io_tx_send(void *ctx, unsigned li, uint8_t *buf, size_t len, const struct core_path *path)
{
	struct side *sd = ctx;
	struct sim *s = sd->sim;
	size_t off = (size_t)(buf - sd->pool);
	uint32_t i;
	char a[ADDR_STRLEN];

	if (buf < sd->pool || off >= (size_t)s->pool_n * BRAID_PKT_MAX || off % BRAID_PKT_MAX) {
		violation(s, "%s: tx_send with a buffer that tx_alloc never gave out", sd->name);
		return;
	}
	i = (uint32_t)(off / BRAID_PKT_MAX);
	if (sd->pool_state[i] != POOL_ALLOC) {
		violation(s, "%s: tx_send of buffer %u, which is %s", sd->name, i,
			  sd->pool_state[i] == POOL_FREE ? "free" : "already sent");
		return;
	}
	/* The driver owns the buffer until the send completes. */
	sd->pool_state[i] = POOL_INFLIGHT;
	ev_push(s, s->now + s->txdone_ns, EV_TXDONE, sd->id, i);

	if (li >= s->nlinks) {
		violation(s, "%s: tx_send on link %u, which was never added", sd->name, li);
		return;
	}
	if (len < WIRE_MIN_LEN || len > BRAID_PKT_MAX) {
		violation(s, "%s: tx_send of %zu bytes on link%u", sd->name, len, li);
		return;
	}
	if (buf[0] != BRAID_WIRE_VERSION || buf[1] < WIRE_DATA || buf[1] > WIRE_TYPE_MAX ||
	    buf[2] || buf[3]) {
		violation(s, "%s: sent a packet with a bad outer header (%02x %02x %02x %02x)",
			  sd->name, buf[0], buf[1], buf[2], buf[3]);
		return;
	}
	if (buf[1] == WIRE_DATA) {
		if (sd->call_ord != ORD_NONE) {
			sd->call_data_tx++;
		} else if (s->nack) {
			/* Only core_rx_app has a new datagram to send; outside
			 * it, only a retransmission (checked against the
			 * core's count at the end). */
			sd->retx_tx++;
		} else {
			violation(s, "%s sent a DATA packet outside core_rx_app", sd->name);
			return;
		}
	}
	/* The init worth replaying is one the hub takes: with a cookie. */
	if (sd->id == 0 && buf[1] == WIRE_HS_INIT && !s->cap_init_len &&
	    len == WIRE_HS_LEN && !mem_zero(buf + WIRE_OUTER_LEN + WIRE_HS_NONCE_LEN,
					    WIRE_HS_COOKIE_LEN)) {
		memcpy(s->cap_init, buf, len);
		s->cap_init_len = len;
	} else if (sd->id == 0 && buf[1] == WIRE_DATA && !s->cap_data_len) {
		memcpy(s->cap_data, buf, len);
		s->cap_data_len = len;
	}
	if (sd->id == 1 && addr_same(&path->remote, spoof_src(s)) &&
	    (buf[1] == WIRE_HS_RESP || buf[1] == WIRE_HS_COOKIE)) {
		/* The answer to an init replayed by the stranger: allowed, if
		 * never more than the stranger sent and within its bucket
		 * (checked at the end). */
		s->spoof_tx_bytes += len;
		s->spoof_tx_pkts++;
		return;
	}
	sd->tx_bytes += len;
	hash_u64(&s->hash, s->now ^ ((uint64_t)sd->id << 60) ^ ((uint64_t)li << 56) ^
			   ((uint64_t)buf[1] << 48) ^ len);
	trace(s, 2, "%s link%u tx type=%u len=%zu", sd->name, li, buf[1], len);

	if (!path) {
		violation(s, "%s: tx_send on link%u without a path", sd->name, li);
		return;
	}
	if (sd->id == 0) {
		if (!addr_same(&path->remote, &s->link[li].hub_addr)) {
			violation(s, "edge sent link%u to %s, not to its configured remote", li,
				  addr_str(&path->remote, a));
			return;
		}
	} else if (!hub_route_ok(s, li, path)) {
		return;
	}
	net_transmit(s, sd->id, li, buf, len, buf[1] == WIRE_DATA ? sd->call_ord : ORD_NONE);
}

static void io_deliver(void *ctx, uint16_t flow, const uint8_t *data, size_t len)
{
	struct side *sd = ctx;
	struct sim *s = sd->sim;
	unsigned dir = 1 - sd->id;
	struct dirstate *ds = &s->dir[dir];
	struct flowrec *fr = NULL;
	struct rec *r;
	static uint8_t expect[BRAID_PKT_MAX];
	uint64_t delay, bound;
	uint32_t seq;
	unsigned fi;

	sd->ndeliv++;
	if (s->failed)
		return;
	for (fi = 0; fi < ds->nflows; fi++) {
		if (ds->flow[fi].id == flow) {
			fr = &ds->flow[fi];
			break;
		}
	}
	if (!fr) {
		violation(s, "%s delivered %zu bytes on flow %u, which the %s never used", sd->name,
			  len, flow, s->side[dir].name);
		return;
	}
	if (len < SIM_MIN_LEN || len > BRAID_PAYLOAD_MAX) {
		violation(s, "%s delivered %zu bytes on flow %u: no datagram that short or long "
			  "was sent", sd->name, len, flow);
		return;
	}
	seq = get_u32(data);
	if (seq >= fr->nsent) {
		violation(s, "%s delivered flow %u seq %u, never sent (%u sent so far)", sd->name,
			  flow, seq, fr->nsent);
		return;
	}
	r = &fr->rec[seq];
	if (r->len != len) {
		violation(s, "%s delivered flow %u seq %u with %zu bytes, %u were sent", sd->name,
			  flow, seq, len, r->len);
		return;
	}
	payload_fill(s, expect, dir, fi, seq, (unsigned)len, r->send_ns);
	if (memcmp(expect, data, len)) {
		size_t at = 0;

		while (expect[at] == data[at])
			at++;
		violation(s, "%s delivered flow %u seq %u corrupted: byte %zu of %zu is %02x, "
			  "sent %02x%s", sd->name, flow, seq, at, len, data[at], expect[at],
			  len >= SIM_HDR_LEN && memcmp(expect + 16, data + 16, 4) ?
			  " (checksum field differs)" : "");
		return;
	}
	if (r->state == REC_DELIVERED) {
		violation(s, "%s delivered flow %u seq %u twice", sd->name, flow, seq);
		return;
	}
	if (r->state != REC_SENT) {
		violation(s, "%s delivered flow %u seq %u, which the %s counted as dropped "
			  "(%s)", sd->name, flow, seq, s->side[dir].name, rec_state_name[r->state]);
		return;
	}
	if (!s->unordered && (int64_t)seq <= fr->last_seq) {
		violation(s, "%s delivered flow %u seq %u after seq %" PRId64 ": out of order",
			  sd->name, flow, seq, fr->last_seq);
		return;
	}
	delay = s->now - r->send_ns;
	/* A datagram rebuilt or sent again arrives late and may then wait up
	 * to the budget again behind a gap before it. */
	bound = s->dmax_ns + (s->unordered ? 0 : s->budget_ns) + SIM_SLACK_NS +
		(s->fec_k || s->nack ? s->budget_ns : 0);
	if (delay > bound) {
		violation(s, "%s delivered flow %u seq %u after %.3f ms, more than the bound "
			  "%.3f ms (max link delay %.3f + budget %.3f + slack)", sd->name, flow,
			  seq, delay / 1e6, bound / 1e6, s->dmax_ns / 1e6,
			  s->unordered ? 0.0 : s->budget_ns / 1e6);
		return;
	}
	if ((int64_t)seq > fr->last_seq)
		fr->last_seq = seq;
	r->state = REC_DELIVERED;
	ds->delivered++;
	if (delay > ds->max_delay)
		ds->max_delay = delay;
	if (r->after_settle && r->send_ns < s->t_heal && ds->nlat < ds->caplat)
		ds->lat[ds->nlat++] = delay;
	if (r->send_ns >= s->t0 + 2 * NS_PER_S && delay > s->dmax_ns + s->budget_ns / 2)
		ds->slow++;
	hash_u64(&s->hash, ((uint64_t)dir << 63) ^ ((uint64_t)flow << 32) ^ seq);
	hash_u64(&s->hash, s->now);
	trace(s, 2, "%s deliver flow=%u seq=%u len=%zu delay=%.3fms", sd->name, flow, seq, len,
	      delay / 1e6);
}

static void io_random(void *ctx, void *buf, size_t len)
{
	struct side *sd = ctx;
	uint8_t *p = buf;

	while (len) {
		uint64_t v = rng_next(&sd->core_rng);
		size_t n = len < 8 ? len : 8;

		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}

static void io_link_state(void *ctx, unsigned li, enum link_state st)
{
	static const char *const names[] = { "DOWN", "PROBING", "UP" };
	struct side *sd = ctx;
	struct sim *s = sd->sim;

	if (li >= s->nlinks || (unsigned)st > LINK_UP) {
		violation(s, "%s: link_state(%u, %d) for no such link or state", sd->name, li, (int)st);
		return;
	}
	trace(s, 1, "%s link%u %s", sd->name, li, names[st]);
}

static void io_link_gone(void *ctx, unsigned li)
{
	struct side *sd = ctx;
	struct sim *s = sd->sim;

	if (li >= s->nlinks) {
		violation(s, "%s: link_gone(%u) for no such link", sd->name, li);
		return;
	}
	trace(s, 1, "%s link%u gone", sd->name, li);
	sd->closed[li] = true;
	sd->gone[li]++;
}

/* --- driving the cores ------------------------------------------------------ */

static const struct braid_bond_stats *bond(const struct sim *s, unsigned side)
{
	return core_bond_stats(s->side[side].core);
}

static uint64_t link_stat_state(const struct sim *s, unsigned side, unsigned li)
{
	const struct braid_link_stats *ls = core_link_stats(s->side[side].core, li);

	return ls ? stat_get(ls->state) : LINK_DOWN;
}

static void side_tick(struct sim *s, struct side *sd)
{
	uint64_t dl = core_tick(sd->core, s->now);

	if (dl <= s->now) {
		/* "Call me again now" is allowed once in a while; forever is a
		 * livelock that would hang a real worker too. */
		if (sd->spin_at != s->now) {
			sd->spin_at = s->now;
			sd->spins = 0;
		}
		if (++sd->spins > SIM_SPIN_MAX)
			violation(s, "%s: core_tick returned a deadline <= now %u times in a row",
				  sd->name, SIM_SPIN_MAX);
		dl = s->now;
	}
	sd->deadline = dl;
}

/* The receiver authenticated a DATA packet: it went into its reorder buffer. */
static void note_accepted(struct sim *s, struct dirstate *ds, uint32_t ord, uint64_t session)
{
	if (ds->have_base && session != ds->rx_session) {
		/* A new session resets the reorder buffer: what it held or
		 * waited for is forgotten uncounted, so the books can only be
		 * checked loosely from here on. */
		ds->inexact = true;
		ds->have_base = false;
		trace(s, 1, "receiver changed session: accounting becomes inexact");
	}
	if (!ds->have_base) {
		ds->have_base = true;
		ds->base = ds->top = ord;
		ds->rx_session = session;
		for (unsigned i = 0; i < ds->ntxs; i++)
			if (ds->txs[i].session == session && ds->txs[i].first < ord)
				ds->base = ds->txs[i].first;
	}
	if (ord > ds->top)
		ds->top = ord;
}

static void on_arrive(struct sim *s, uint32_t idx)
{
	struct pkt *p = &s->net[idx];
	struct side *sd = &s->side[p->to];
	struct sim_link *l = &s->link[p->link];
	const struct braid_link_stats *ls = core_link_stats(sd->core, p->link);
	struct core_path path = { .remote = p->src, .has_local = true };
	uint64_t rx0 = ls ? stat_get(ls->rx_pkts) : 0, deliv0 = sd->ndeliv, tx0 = sd->tx_bytes;

	path.local = p->to == 0 ? l->edge_local : l->hub_addr;
	if (sd->closed[p->link]) {
		sd->closed_drops++;
		trace(s, 2, "%s link%u rx len=%u: deleted, dropped", sd->name, p->link, p->len);
	} else if (link_dark(s, l, s->now)) {
		l->dir[1 - p->to].dropped++;
		trace(s, 2, "%s link%u rx len=%u: dark, dropped", sd->name, p->link, p->len);
	} else {
		trace(s, 2, "%s link%u rx len=%u%s", sd->name, p->link, p->len,
		      p->corrupted ? " (corrupted)" : "");
		/* braidd's workers run the prefilter first: it must never
		 * refuse what the core takes (authenticated, or a handshake
		 * answered). Checked before the core opens it in place. */
		enum prefilter_cause pc = prefilter_check(p->data, p->len,
							  core_prefilter_view(sd->core));
		uint64_t hs0 = stat_get(bond(s, p->to)->handshakes);

		sd->call_data_tx = 0;
		core_rx_link(sd->core, p->link, &path, p->data, p->len, s->now);
		if (pc != PF_PASS && ((ls && stat_get(ls->rx_pkts) != rx0) ||
				      stat_get(bond(s, p->to)->handshakes) != hs0 ||
				      (p->len == WIRE_HS_LEN && sd->tx_bytes != tx0)))
			violation(s, "%s: the prefilter refused (%s) a %u-byte packet on link%u "
				  "that the core took", sd->name, prefilter_cause_name(pc), p->len,
				  p->link);
		if (p->corrupted) {
			s->corrupt_arrivals[p->to]++;
			if (ls && stat_get(ls->rx_pkts) != rx0)
				violation(s, "%s accepted a corrupted packet on link%u as authentic",
					  sd->name, p->link);
			else if (sd->ndeliv != deliv0)
				violation(s, "%s delivered data from a corrupted packet", sd->name);
			else if (sd->tx_bytes - tx0 > p->len)
				violation(s, "%s answered a corrupted %u-byte packet with %" PRIu64
					  " bytes", sd->name, p->len, sd->tx_bytes - tx0);
		}
		if (p->to == 1 && l->rebound && addr_same(&p->src, &l->edge_public) && ls &&
		    stat_get(ls->rx_pkts) != rx0)
			s->hub_learned_new = true;
		if (p->ord != ORD_NONE && !p->corrupted && ls && stat_get(ls->rx_pkts) != rx0)
			note_accepted(s, &s->dir[1 - p->to], p->ord, stat_get(bond(s, p->to)->session));
		side_tick(s, sd);
	}
	p->next = s->net_free;
	s->net_free = idx;
	s->net_used--;
}

static void app_send_one(struct sim *s, struct side *sd, unsigned fi)
{
	static uint8_t buf[BRAID_PKT_MAX + 128];
	struct dirstate *ds = &s->dir[sd->id];
	struct flowrec *fr = &ds->flow[fi];
	const struct braid_bond_stats *bs = bond(s, sd->id);
	uint64_t ov0 = stat_get(bs->oversize), ns0 = stat_get(bs->no_session);
	uint64_t nl0 = stat_get(bs->no_link), nb0 = stat_get(bs->tx_nobuf);
	unsigned len = ds->len_fixed ? ds->len_fixed : payload_len(s, &sd->app_rng);
	uint32_t seq = fr->nsent;
	struct rec *r;

	if (seq >= fr->cap) {
		violation(s, "sim: record table of %s flow %u full (%u)", sd->name, fr->id, fr->cap);
		return;
	}
	fr->nsent++;
	ds->sent++;
	ds->payload_bytes += len;
	r = &fr->rec[seq];
	*r = (struct rec){ .send_ns = s->now, .len = (uint16_t)len, .after_settle = s->settled };
	r->ord = ORD_NONE;
	payload_fill(s, buf, sd->id, fi, seq, len, s->now);
	if (ds->nlog >= ds->caplog) {
		violation(s, "sim: sequence log of %s full", sd->name);
		return;
	}
	sd->call_data_tx = 0;
	sd->call_ord = ds->nlog;
	core_rx_app(sd->core, fr->id, buf, len, s->now);
	sd->call_ord = ORD_NONE;
	if (sd->call_data_tx) {
		r->state = REC_SENT;
		/* Extra copies: duplicate mode, or no link up (the core then
		 * tries every link). The receiver may count each a duplicate. */
		sd->extra_copies += sd->call_data_tx - 1;
		if (s->mode != SCHED_DUPLICATE && sd->call_data_tx > 1 &&
		    link_stat_state(s, sd->id, 0) == LINK_UP)
			trace(s, 1, "%s sent seq %u on %u links in %s mode", sd->name, seq,
			      sd->call_data_tx, sched_mode_name(s->mode));
	} else if (stat_get(bs->oversize) != ov0) {
		r->state = REC_DROP_OVERSIZE;
	} else if (stat_get(bs->no_session) != ns0) {
		r->state = REC_DROP_NOSESSION;
	} else if (stat_get(bs->no_link) != nl0) {
		r->state = REC_DROP_NOLINK;
	} else if (stat_get(bs->tx_nobuf) != nb0) {
		r->state = REC_DROP_NOBUF;
	} else {
		violation(s, "%s: core_rx_app took flow %u seq %u (%u bytes), sent nothing and "
			  "counted no drop", sd->name, fr->id, seq, len);
		return;
	}
	trace(s, 2, "%s app flow=%u seq=%u len=%u: %s", sd->name, fr->id, seq, len,
	      rec_state_name[r->state]);
	if (r->state == REC_SENT) {
		uint64_t sess = stat_get(bs->session);
		unsigned i;

		for (i = 0; i < ds->ntxs && ds->txs[i].session != sess; i++)
			;
		if (i == ds->ntxs) {
			if (ds->ntxs == 4) {	/* forget the oldest session */
				memmove(ds->txs, ds->txs + 1, 3 * sizeof(ds->txs[0]));
				i = 3;
			} else {
				ds->ntxs++;
			}
			ds->txs[i].session = sess;
			ds->txs[i].first = ds->nlog;
		}
	}
	if (r->state == REC_SENT || r->state == REC_DROP_NOBUF) {
		r->ord = ds->nlog;
		ds->seqlog[ds->nlog++] = (uint32_t)fi << 30 | seq;
	}
	if (r->state != REC_SENT)
		ds->dropped[r->state]++;
}

static void on_app(struct sim *s, unsigned side, unsigned fi)
{
	struct side *sd = &s->side[side];
	struct dirstate *ds = &s->dir[side];
	struct flowrec *fr = &ds->flow[fi];
	unsigned burst = 1 + (unsigned)rng_below(&sd->app_rng, s->burst_max);
	double iv = s->now < s->t_heal ? fr->interval_ns : ds->nflows * 1e9 / SIM_TAIL_RATE;
	uint64_t next;

	for (unsigned b = 0; b < burst && !s->failed; b++)
		app_send_one(s, sd, fi);
	side_tick(s, sd);
	if (ds->even)
		next = s->now + (uint64_t)(iv * burst);
	else
		next = s->now + (uint64_t)(iv * burst * (0.5 + rng_u01(&sd->app_rng)));
	if (next < s->t_stop_app)
		ev_push(s, next, EV_APP, side, fi);
}

static void take_snap(struct sim *s, struct snap *sn)
{
	sn->taken = true;
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned li = 0; li < s->nlinks; li++) {
			const struct braid_link_stats *ls = core_link_stats(s->side[d].core, li);

			sn->tx_data[d][li] = ls ? stat_get(ls->tx_data) : 0;
			sn->state[d][li] = ls ? stat_get(ls->state) : LINK_DOWN;
			sn->weight[d][li] = ls ? stat_get(ls->weight) : 0;
			sn->loss[d][li] = ls ? stat_get(ls->loss_ppm) : 0;
			trace(s, 1, "snapshot %s link%u: state %" PRIu64 " weight %" PRIu64
			      " loss %" PRIu64 " ppm tx_data %" PRIu64, s->side[d].name, li,
			      sn->state[d][li], sn->weight[d][li], sn->loss[d][li], sn->tx_data[d][li]);
		}
	}
}

static int sim_link_add(struct sim *s, unsigned d, unsigned li)
{
	char name[16];
	struct core_link_params lp = {
		.id = li,
		.name = name,
		.weight = s->weight_auto ? CORE_AUTO_WEIGHT : s->link[li].weight,
		.weight_auto = s->weight_auto,
		.priority = s->link[li].priority,
		.remote = d == 0 ? &s->link[li].hub_addr : NULL,
	};

	snprintf(name, sizeof(name), "link%u", li);
	s->side[d].closed[li] = false;
	return core_link_add(s->side[d].core, &lp);
}

/* A side's core, as configured, with every link added. */
static int side_core_create(struct sim *s, struct side *sd)
{
	struct core_io io = {
		.ctx = sd,
		.tx_alloc = io_tx_alloc,
		.tx_send = io_tx_send,
		.deliver = io_deliver,
		.random = io_random,
		.link_state = io_link_state,
		.link_gone = io_link_gone,
	};
	struct core_params cp = {
		.role = sd->id == 0 ? ROLE_EDGE : ROLE_HUB,
		.mode = s->mode,
		.algo = s->algo,
		.budget_ns = s->budget_ns,
		.unordered = s->unordered,
		.probe_interval_ns = s->probe_ns,
		.reorder_window = s->window,
		.fec_k = s->fec_k,
		.fec_m = s->fec_m,
		.fec_auto = s->fec_auto,
		.nack = s->nack,
	};
	int err;

	for (unsigned i = 0; i < BRAID_KEY_LEN; i++)
		cp.psk[i] = (uint8_t)(s->seed * 131 + i * 7);
	err = core_create(&sd->core, &cp, &io);
	if (err < 0)
		return err;
	for (unsigned li = 0; li < s->nlinks; li++) {
		err = sim_link_add(s, sd->id, li);
		if (err < 0)
			return err;
	}
	return 0;
}

/* The side's process restarts: a new core with no memory of the session.
 * (The edge's wall clock an hour behind, as on a board without a
 * battery-backed clock that booted before NTP, used to lock it out; the
 * core no longer reads a wall clock at all, so nothing here can set it.)
 * What the old core counted is kept for the books; what it held is gone,
 * as it would be. */
static int side_restart(struct sim *s, struct side *sd)
{
	const struct braid_bond_stats *b = core_bond_stats(sd->core);

	sd->prev_delivered += stat_get(b->delivered_pkts);
	sd->prev_app_rx += stat_get(b->app_rx_pkts);
	sd->prev_lost += stat_get(b->lost);
	sd->prev_ratelimited += stat_get(b->hs_ratelimited);
	core_destroy(sd->core);
	sd->core = NULL;
	sd->was_ready = false;
	sd->deadline = s->now;
	s->restart_at = s->now;
	s->restart_side = sd->id;
	s->restart_back_at = 0;
	return side_core_create(s, sd);
}

static void on_mark(struct sim *s, unsigned i)
{
	struct sim_link *l;
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	struct side *sd = &s->side[s->mark[i].side];
	unsigned li = s->mark[i].link;
	int err = 0;

	switch (s->mark[i].kind) {
	case MARK_DRAIN:
		trace(s, 1, "%s: link%u deleted", sd->name, li);
		err = core_link_drain(sd->core, li);
		break;
	case MARK_ADD:
		trace(s, 1, "%s: link%u added", sd->name, li);
		err = sim_link_add(s, sd->id, li);
		break;
	case MARK_ADMIN_DOWN:
	case MARK_ADMIN_UP:
		trace(s, 1, "%s: link%u set %s", sd->name, li,
		      s->mark[i].kind == MARK_ADMIN_DOWN ? "down" : "up");
		err = core_link_set_admin(sd->core, li, s->mark[i].kind == MARK_ADMIN_DOWN);
		break;
	case MARK_REPLAY: {
		/* value 0: the init, 1: the data, 2: a flood of inits at once. */
		bool data = s->mark[i].value == 1;
		unsigned n = s->mark[i].value == 2 ? SIM_FLOOD : 1;
		const uint8_t *pkt = data ? s->cap_data : s->cap_init;
		size_t len = data ? s->cap_data_len : s->cap_init_len;

		if (!len)
			break;
		trace(s, 1, "stranger replays the edge's first %s on link%u, %u times",
		      data ? "DATA" : "HS_INIT", li, n);
		for (unsigned k = 0; k < n; k++) {
			/* Not through the edge's queue: the stranger
			 * has its own way to the hub. */
			net_copy(s, 0, li, pkt, len, ORD_NONE, false, true, s->now);
			s->spoof_rx_bytes += len;
		}
		if (!data) {
			if (!s->spoof_inits)
				s->spoof_first = s->now;
			s->spoof_last = s->now;
			s->spoof_inits += n;
		}
		break;
	}
	case MARK_RESTART:
		trace(s, 1, "%s restarts", sd->name);
		err = side_restart(s, sd);
		break;
	case MARK_LOSS:
		trace(s, 1, "link%u loss now %.3f", li, s->mark[i].value);
		for (unsigned d = 0; d < 2; d++)
			s->link[li].dir[d].loss = s->mark[i].value;
		break;
	case MARK_SNAP:
		take_snap(s, &s->snap[i]);
		break;
	case MARK_NAT:
		l = &s->link[s->nat_link];
		l->edge_stale = l->edge_public;
		l->edge_public.in.sin_port = htons((uint16_t)(ntohs(l->edge_public.in.sin_port) + 10000));
		l->rebound = true;
		trace(s, 1, "NAT rebinding on link%u: %s -> %s", s->nat_link,
		      addr_str(&l->edge_stale, a), addr_str(&l->edge_public, b));
		break;
	}
	if (err < 0)
		violation(s, "%s: mark %u on link%u failed: %s", sd->name, i, li, strerror(-err));
	/* What the call sent or scheduled must be acted on now. */
	if ((s->mark[i].kind >= MARK_DRAIN && s->mark[i].kind <= MARK_ADMIN_UP) ||
	    s->mark[i].kind == MARK_RESTART)
		side_tick(s, sd);
}

static bool all_up(const struct sim *s)
{
	for (unsigned d = 0; d < 2; d++) {
		if (!core_ready(s->side[d].core))
			return false;
		for (unsigned li = 0; li < s->nlinks; li++)
			if (link_stat_state(s, d, li) != LINK_UP)
				return false;
	}
	return true;
}

static void sim_loop(struct sim *s)
{
	while (!s->failed) {
		uint64_t t = s->heap.n ? s->heap.v[0].t : UINT64_MAX;
		struct side *tick = NULL;

		/* Timers first at equal times, edge before hub: any fixed rule
		 * keeps the run deterministic. */
		for (unsigned d = 0; d < 2; d++) {
			if (s->side[d].deadline <= t && (!tick || s->side[d].deadline < tick->deadline))
				tick = &s->side[d];
		}
		if (tick)
			t = tick->deadline;
		if (t >= s->t_end)
			break;
		if (t < s->now) {
			violation(s, "sim: time went backwards");
			break;
		}
		s->now = t;
		s->events++;
		alloc_watch = s->alloc_check && s->settled && t < s->t_heal;
		if (tick) {
			side_tick(s, tick);
		} else {
			struct ev e = ev_pop(&s->heap);

			switch (e.type) {
			case EV_ARRIVE:
				on_arrive(s, e.idx);
				break;
			case EV_APP:
				on_app(s, e.side, e.idx);
				break;
			case EV_TXDONE:
				s->side[e.side].pool_state[e.idx] = POOL_FREE;
				s->side[e.side].pool_free[s->side[e.side].pool_nfree++] = e.idx;
				break;
			case EV_MARK:
				on_mark(s, e.idx);
				break;
			}
		}
		alloc_watch = false;
		for (unsigned d = 0; d < 2; d++) {
			struct side *sd = &s->side[d];

			if (!sd->was_ready && core_ready(sd->core)) {
				sd->was_ready = true;
				trace(s, 1, "%s session %08" PRIx64 " up", sd->name,
				      stat_get(bond(s, d)->session));
			}
		}
		if (s->restart_at && !s->restart_back_at && core_ready(s->side[0].core) &&
		    core_ready(s->side[1].core) &&
		    stat_get(bond(s, 0)->session) == stat_get(bond(s, 1)->session)) {
			s->restart_back_at = s->now;
			trace(s, 1, "both sides under one session again, %.3f ms after the restart",
			      (s->now - s->restart_at) / 1e6);
		}
		if (s->restart_at && !s->restart_back_at &&
		    s->now > s->restart_at + s->restart_within_ns)
			violation(s, "a side restarted at %.3f s and %.3f s later the two sides still "
				  "had no session in common (hub refused %" PRIu64 " inits as replayed)",
				  (s->restart_at - s->t0) / 1e9, s->restart_within_ns / 1e9,
				  stat_get(bond(s, 1)->replayed));
		if (!s->steady && s->now >= s->t0 + 2 * NS_PER_S) {
			s->steady = true;
			for (unsigned d = 0; d < 2; d++) {
				s->steady_retx[d] = stat_get(bond(s, d)->retransmitted);
				s->steady_retx_dup[d] = stat_get(bond(s, d)->retx_dup);
			}
		}
		if (!s->settled && all_up(s)) {
			s->settled = true;
			s->t_settle = s->now;
			trace(s, 1, "settled: both sessions up, every link UP on both sides");
		}
	}
}

/* --- scenarios -------------------------------------------------------------- */

static void link_delay(struct sim *s, unsigned li, double base_ms, double jitter_ms, bool reorder)
{
	for (unsigned d = 0; d < 2; d++) {
		struct dir_model *m = &s->link[li].dir[d];

		m->base_ns = (uint64_t)(base_ms * NS_PER_MS);
		m->jitter_ns = (uint64_t)(jitter_ms * NS_PER_MS);
		m->reorder = reorder;
	}
}

static void links_each(struct sim *s, void (*fn)(struct dir_model *m, double v), double v)
{
	for (unsigned li = 0; li < s->nlinks; li++)
		for (unsigned d = 0; d < 2; d++)
			fn(&s->link[li].dir[d], v);
}

static void set_loss(struct dir_model *m, double v)
{
	m->loss = v;
}

static void set_dup(struct dir_model *m, double v)
{
	m->dup = v;
}

static void set_corrupt(struct dir_model *m, double v)
{
	m->corrupt = v;
}

static void set_normal(struct dir_model *m, double v)
{
	m->normal = v != 0;
}

static void add_dark(struct sim *s, unsigned li, uint64_t start, uint64_t len)
{
	struct sim_link *l = &s->link[li];

	if (l->ndark < SIM_MAX_DARK)
		l->dark[l->ndark++] = (struct window){ s->t0 + start, s->t0 + start + len };
}

static unsigned add_mark(struct sim *s, uint64_t at, enum mark_kind kind)
{
	unsigned i = s->nmarks++;

	s->mark[i].t = s->t0 + at;
	s->mark[i].kind = kind;
	return i;
}

static void sc_clean(struct sim *s)
{
	link_delay(s, 0, 10, 1, false);
	link_delay(s, 1, 12, 1, false);
	link_delay(s, 2, 15, 2, false);
	s->expect_all = true;
}

static void sc_loss(struct sim *s)
{
	link_delay(s, 0, 10, 2, false);
	link_delay(s, 1, 20, 2, false);
	link_delay(s, 2, 30, 4, false);
	links_each(s, set_loss, 0.05);
	s->budget_ns = 30 * NS_PER_MS;
}

/* As sc_loss, with 20% lost on every link direction: one probe round trip
 * in three fails. */
static void sc_loss20(struct sim *s)
{
	sc_loss(s);
	links_each(s, set_loss, 0.20);
}

/* Links that lose packets but never fall silent never leave the schedule:
 * a link goes down only when neither probe answers nor data come for its
 * timeout, not when a few probe answers in a row are lost. */
static void ck_no_flap(struct sim *s)
{
	for (unsigned d = 0; d < 2 && !s->failed; d++)
		for (unsigned li = 0; li < s->nlinks; li++) {
			const struct braid_link_stats *ls = core_link_stats(s->side[d].core, li);

			if (ls && stat_get(ls->down_events))
				violation(s, "%s: link%u went down %" PRIu64 " times on a link that "
					  "only loses packets", s->side[d].name, li,
					  stat_get(ls->down_events));
		}
}

static void sc_burst(struct sim *s)
{
	sc_loss(s);
	for (unsigned li = 0; li < s->nlinks; li++) {
		for (unsigned d = 0; d < 2; d++) {
			struct dir_model *m = &s->link[li].dir[d];

			/* Mean burst 4 packets, about 6% lost overall. */
			m->ge = true;
			m->loss = 0.002;
			m->ge_p_gb = 0.02;
			m->ge_p_bg = 0.25;
			m->ge_loss_bad = 0.8;
		}
	}
}

/* Links that keep order, with loss, and a budget far above their skew: once
 * every link has passed a gap it is given up on within the grace, so after
 * the first seconds hardly any datagram waits anywhere near the budget (at
 * most 5%: when the peer stops using a link, the gap waits until that link
 * has been silent for four of its usual gaps; without the horizon about a
 * quarter wait). */
static void sc_horizon(struct sim *s)
{
	link_delay(s, 0, 10, 1, false);
	link_delay(s, 1, 12, 1, false);
	link_delay(s, 2, 15, 2, false);
	links_each(s, set_loss, 0.05);
	s->budget_ns = 300 * NS_PER_MS;
}

static void sc_reorder(struct sim *s)
{
	link_delay(s, 0, 5, 10, true);
	link_delay(s, 1, 20, 10, true);
	link_delay(s, 2, 60, 10, true);
	links_each(s, set_normal, 1);
	/* More than the 55 ms skew plus jitter: nothing may be given up. */
	s->budget_ns = 100 * NS_PER_MS;
	s->expect_all = true;
}

static void sc_skew(struct sim *s)
{
	sc_reorder(s);
	/* Far below the skew: gaps are given up on, late copies dropped. */
	s->budget_ns = 10 * NS_PER_MS;
	s->expect_all = false;
}

static void sc_dup(struct sim *s)
{
	sc_clean(s);
	links_each(s, set_dup, 0.10);
}

static void sc_corrupt(struct sim *s)
{
	sc_clean(s);
	s->expect_all = false;
	links_each(s, set_corrupt, 0.03);
	s->spoof = 0.5;
}

static uint64_t blackout_at(const struct sim *s)
{
	return s->dur_ns * 2 / 5;
}

static void sc_blackout(struct sim *s)
{
	uint64_t at = blackout_at(s);

	link_delay(s, 0, 10, 2, false);
	link_delay(s, 1, 15, 2, false);
	link_delay(s, 2, 20, 2, false);
	add_dark(s, 1, at, 2 * NS_PER_S);
	add_mark(s, at + NS_PER_S, MARK_SNAP);			/* 0: mid-blackout */
	add_mark(s, at + 2 * NS_PER_S, MARK_SNAP);		/* 1: light again */
	add_mark(s, at + 3 * s->probe_ns, MARK_SNAP);		/* 2: 3 probe intervals in */
}

static void sc_flap(struct sim *s)
{
	link_delay(s, 0, 10, 2, false);
	link_delay(s, 1, 15, 2, false);
	link_delay(s, 2, 20, 2, false);
	for (uint64_t t = NS_PER_S; t + 200 * NS_PER_MS <= s->dur_ns; t += 600 * NS_PER_MS)
		add_dark(s, 0, t, 200 * NS_PER_MS);
}

static void sc_dupblackout(struct sim *s)
{
	sc_blackout(s);
	s->mode = SCHED_DUPLICATE;
	s->expect_all = true;
}

static void sc_failover(struct sim *s)
{
	uint64_t at = s->dur_ns * 3 / 10, len = s->dur_ns * 3 / 10;

	if (len < 2 * NS_PER_S)
		len = 2 * NS_PER_S;
	s->mode = SCHED_FAILOVER;
	link_delay(s, 0, 10, 2, false);
	link_delay(s, 1, 25, 2, false);
	link_delay(s, 2, 40, 2, false);
	add_dark(s, 0, at, len);
	add_mark(s, at, MARK_SNAP);				/* 0: primary goes dark */
	add_mark(s, at + NS_PER_S, MARK_SNAP);			/* 1: surely detected */
	add_mark(s, at + len, MARK_SNAP);			/* 2: light again */
	add_mark(s, at + len + NS_PER_S, MARK_SNAP);		/* 3: surely back */
	add_mark(s, s->dur_ns, MARK_SNAP);			/* 4: end of traffic */
}

static void sc_unordered(struct sim *s)
{
	sc_reorder(s);
	s->budget_ns = 20 * NS_PER_MS;
	s->unordered = true;
	s->expect_all = false;
	links_each(s, set_loss, 0.01);
}

/* Loss recovery. Each runs on the lossy links of sc_loss (5% each way, FIFO)
 * or sc_burst with a budget that leaves room for a round trip. */
static void sc_fec(struct sim *s)
{
	sc_loss(s);
	s->budget_ns = 100 * NS_PER_MS;
	s->fec_k = 8;
	s->fec_m = 2;
}

static void sc_nack(struct sim *s)
{
	sc_loss(s);
	s->budget_ns = 150 * NS_PER_MS;
	s->nack = true;
}

static void sc_fec_nack(struct sim *s)
{
	sc_fec(s);
	s->budget_ns = 150 * NS_PER_MS;
	s->nack = true;
}

/* test_scenarios' recover case, where time is virtual: three 10 ms links
 * losing 5% each way, a 100 ms budget, FEC 8:2 and NACK, 1000 datagrams/s
 * each way for 12 s. At least 99.99% of what is sent in the steady state
 * arrives: a loss FEC cannot repair is asked for until an answer no longer
 * fits the budget (each ask fails with about 10%: the NACK or its answer
 * lost). */
static void sc_recover(struct sim *s)
{
	for (unsigned li = 0; li < s->nlinks; li++)
		link_delay(s, li, 10, 1, false);
	links_each(s, set_loss, 0.05);
	s->budget_ns = 100 * NS_PER_MS;
	s->fec_k = 8;
	s->fec_m = 2;
	s->nack = true;
	for (unsigned d = 0; d < 2; d++)
		s->dir[d].rate = 1000;
	if (s->dur_ns < 12 * NS_PER_S)
		s->dur_ns = 12 * NS_PER_S;
}

static void sc_fec_burst(struct sim *s)
{
	sc_burst(s);
	s->budget_ns = 150 * NS_PER_MS;
	s->fec_k = 8;
	s->fec_m = 2;
	s->nack = true;
}

/* Pure reordering between and inside links, no loss: recovery must not
 * mistake it for loss (no NACK answered with a copy that arrives twice) and
 * nothing may be lost. */
static void sc_fec_reorder(struct sim *s)
{
	sc_reorder(s);
	s->fec_k = 8;
	s->fec_m = 2;
	s->nack = true;
}

static void sc_fec_blackout(struct sim *s)
{
	sc_blackout(s);
	s->budget_ns = 150 * NS_PER_MS;
	s->fec_k = 8;
	s->fec_m = 2;
	s->nack = true;
}

static void sc_nobuf(struct sim *s)
{
	sc_clean(s);
	s->expect_all = false;
	s->pool_n = 6;
	s->txdone_ns = 1 * NS_PER_MS;
	s->burst_max = 8;
}

static void sc_nat(struct sim *s)
{
	sc_clean(s);
	s->expect_all = false;
	s->nat_link = 1;
	add_mark(s, s->dur_ns / 2, MARK_NAT);
}

static void sc_sizes(struct sim *s)
{
	sc_clean(s);
	/* Up to past the largest payload: the core must carry
	 * BRAID_PAYLOAD_MAX exactly and refuse one byte more. */
	s->len_max = BRAID_PAYLOAD_MAX + 64;
	s->expect_all = false;
}

/* --- scenario checks -------------------------------------------------------- */

static uint64_t snap_delta(const struct sim *s, unsigned a, unsigned b, unsigned side,
			   unsigned li);

static unsigned add_link_mark(struct sim *s, uint64_t at, enum mark_kind kind, unsigned side,
			      unsigned li)
{
	unsigned i = add_mark(s, at, kind);

	s->mark[i].side = side;
	s->mark[i].link = li;
	return i;
}

/* Every 1.2 s: link2 deleted on the edge, on the hub 30 ms later, added
 * back on the hub 400 ms after that and on the edge 20 ms later (its first
 * probe then finds the hub's socket); link1 set down on the edge and up
 * again 300 ms later. No loss anywhere: everything must arrive, and nothing
 * may need asking for again. */
#define CHURN_CYCLE (1200 * NS_PER_MS)
static void sc_churn(struct sim *s)
{
	link_delay(s, 0, 10, 2, false);
	link_delay(s, 1, 15, 2, false);
	link_delay(s, 2, 20, 2, false);
	s->expect_all = true;
	s->nack = true;
	for (uint64_t t = 800 * NS_PER_MS; t + CHURN_CYCLE <= s->dur_ns &&
	     s->nmarks + 8 <= SIM_MAX_MARKS; t += CHURN_CYCLE) {
		add_link_mark(s, t, MARK_DRAIN, 0, 2);
		add_link_mark(s, t + 30 * NS_PER_MS, MARK_DRAIN, 1, 2);
		add_mark(s, t + 200 * NS_PER_MS, MARK_SNAP);
		add_mark(s, t + 400 * NS_PER_MS, MARK_SNAP);
		add_link_mark(s, t + 430 * NS_PER_MS, MARK_ADD, 1, 2);
		add_link_mark(s, t + 450 * NS_PER_MS, MARK_ADD, 0, 2);
		add_link_mark(s, t + 700 * NS_PER_MS, MARK_ADMIN_DOWN, 0, 1);
		add_link_mark(s, t + 1000 * NS_PER_MS, MARK_ADMIN_UP, 0, 1);
	}
}

static void ck_churn(struct sim *s)
{
	unsigned cycles = 0;

	for (unsigned i = 0; i < s->nmarks; i++)
		cycles += s->mark[i].kind == MARK_DRAIN && s->mark[i].side == 0;
	for (unsigned d = 0; d < 2 && !s->failed; d++) {
		const struct braid_bond_stats *b = bond(s, d);

		if (s->side[d].gone[2] != cycles)
			violation(s, "%s: link2 deleted %u times but gone %u times", s->side[d].name,
				  cycles, s->side[d].gone[2]);
		else if (stat_get(b->lost) || stat_get(b->nack_sent))
			violation(s, "%s: %" PRIu64 " lost and %" PRIu64 " NACKs on lossless links: "
				  "a drain closed a link on something still on its way",
				  s->side[d].name, stat_get(b->lost), stat_get(b->nack_sent));
		else if (link_stat_state(s, d, 1) != LINK_UP || link_stat_state(s, d, 2) != LINK_UP)
			violation(s, "%s: link1 or link2 not UP at the end", s->side[d].name);
	}
	/* Between the hub's delete and the re-add, nobody sends on link2; the
	 * edge had stopped at its own delete, before the snapshot. */
	for (unsigned i = 0; i + 1 < s->nmarks && !s->failed; i++) {
		if (s->mark[i].kind != MARK_SNAP || s->mark[i + 1].kind != MARK_SNAP)
			continue;
		for (unsigned d = 0; d < 2; d++)
			if (snap_delta(s, i, i + 1, d, 2))
				violation(s, "%s sent %" PRIu64 " data packets on deleted link2",
					  s->side[d].name, snap_delta(s, i, i + 1, d, 2));
	}
}

/* weight = auto on three equal links; link2 takes 20% loss each way for 2 s
 * from 2 s into the traffic: within a second its weight is at most 0.6 of
 * the others', within two at most 0.4 (it settles near a quarter), and
 * 3.5 s after it healed it is back to three quarters (its loss estimate
 * halves about every half second once the loss stops). */
static void sc_degrade(struct sim *s)
{
	link_delay(s, 0, 10, 1, false);
	link_delay(s, 1, 10, 1, false);
	link_delay(s, 2, 10, 1, false);
	s->weight_auto = true;
	s->expect_all = false;
	/* The hub's way carries as much as the edge's: each side judges the
	 * loss on its own sends, and at the hub's usual rate (100-300
	 * datagrams/s over three links) its link2 may show it too few losses
	 * in a second to judge by. (Before links stopped going down for lost
	 * probes, a hub whose link2 had flapped down at a snapshot passed
	 * by being down: "down is no share at all" below.) */
	s->dir[1].rate = s->dir[0].rate;
	add_mark(s, 1900 * NS_PER_MS, MARK_SNAP);			/* 0: before */
	s->mark[add_link_mark(s, 2000 * NS_PER_MS, MARK_LOSS, 0, 2)].value = 0.20;
	add_mark(s, 3000 * NS_PER_MS, MARK_SNAP);			/* 2: a second into it */
	add_mark(s, 4000 * NS_PER_MS, MARK_SNAP);			/* 3: two seconds */
	s->mark[add_link_mark(s, 4000 * NS_PER_MS, MARK_LOSS, 0, 2)].value = 0;
	add_mark(s, 7500 * NS_PER_MS, MARK_SNAP);			/* 5: 3.5 s healed */
	if (s->dur_ns < 8 * NS_PER_S)
		s->dur_ns = 8 * NS_PER_S;
}

static void ck_degrade(struct sim *s)
{
	static const struct { unsigned snap; double lo, hi; const char *when; } want[] = {
		{ 0, 0.75, 1.34, "before the loss" },
		{ 2, 0.0, 0.6, "1 s into 20% loss" },
		{ 3, 0.0, 0.4, "2 s into 20% loss" },
		{ 5, 0.75, 1.34, "3.5 s after it healed" },
	};

	for (unsigned d = 0; d < 2; d++) {
		for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			const struct snap *sn = &s->snap[want[i].snap];
			uint64_t ref = sn->weight[d][0] < sn->weight[d][1] ? sn->weight[d][0] :
									    sn->weight[d][1];
			double r = ref ? (double)sn->weight[d][2] / (double)ref : 0;

			/* Down is no share at all. */
			if (want[i].hi < 1 && sn->state[d][2] != LINK_UP)
				continue;
			if (!ref || r < want[i].lo || r > want[i].hi) {
				violation(s, "%s: link2's weight %" PRIu64 " against %" PRIu64 " (%.2f) %s: "
					  "want %.2f..%.2f", s->side[d].name, sn->weight[d][2], ref, r,
					  want[i].when, want[i].lo, want[i].hi);
				return;
			}
		}
	}
}

/* weight = auto over 10, 12 and 150 ms links with a 100 ms budget: link2's
 * round trip is more than twice the budget above the best, so once the round
 * trips are known it gets weight 0 and no data; link1, 4 ms more round trip,
 * keeps most of its share. */
static void sc_slowlink(struct sim *s)
{
	link_delay(s, 0, 10, 1, false);
	link_delay(s, 1, 12, 1, false);
	link_delay(s, 2, 150, 1, false);
	s->budget_ns = 100 * NS_PER_MS;
	s->weight_auto = true;
	s->expect_all = false;		/* the first datagrams on link2 come too late */
	add_mark(s, 2 * NS_PER_S, MARK_SNAP);			/* 0 */
	add_mark(s, s->dur_ns, MARK_SNAP);			/* 1: end of traffic */
}

static void ck_slowlink(struct sim *s)
{
	for (unsigned d = 0; d < 2; d++) {
		const struct snap *sn = &s->snap[1];

		if (sn->weight[d][2] != 0 || snap_delta(s, 0, 1, d, 2))
			violation(s, "%s: link2 (150 ms) has weight %" PRIu64 " and carried %" PRIu64
				  " data packets after 2 s", s->side[d].name, sn->weight[d][2],
				  snap_delta(s, 0, 1, d, 2));
		else if (sn->weight[d][1] * 4 < sn->weight[d][0] * 3)
			violation(s, "%s: link1 (2 ms slower) has weight %" PRIu64 " against %" PRIu64,
				  s->side[d].name, sn->weight[d][1], sn->weight[d][0]);
		else if (stat_get(bond(s, 1 - d)->lost) > 50)
			violation(s, "%s->%s: %" PRIu64 " lost: more than the first datagrams on link2",
				  s->side[d].name, s->side[1 - d].name, stat_get(bond(s, 1 - d)->lost));
	}
}

/* A stranger replays the edge's first HS_INIT (one with a cookie, which
 * is not the stranger's) and first DATA packet, from its own address, on
 * every link, again and again, and floods the init once: the hub answers
 * the inits with cookies (never with more bytes than it got, never more
 * than the stranger's bucket holds, counting the rest in hs_ratelimited),
 * but keeps the session, keeps sending to the edge, and counts the data as
 * replayed; nothing is lost. */
static void sc_replay(struct sim *s)
{
	sc_clean(s);
	s->mark[add_link_mark(s, 1500 * NS_PER_MS, MARK_REPLAY, 1, 0)].value = 2;
	for (uint64_t t = NS_PER_S; t + NS_PER_S <= s->dur_ns && s->nmarks + 6 <= SIM_MAX_MARKS;
	     t += 500 * NS_PER_MS) {
		for (unsigned li = 0; li < s->nlinks; li++) {
			s->mark[add_link_mark(s, t, MARK_REPLAY, 1, li)].value = 0;
			s->mark[add_link_mark(s, t + 50 * NS_PER_MS, MARK_REPLAY, 1, li)].value = 1;
		}
	}
}

static void ck_flood(struct sim *s);

static void ck_replay(struct sim *s)
{
	const struct braid_bond_stats *hub = bond(s, 1);

	if (stat_get(hub->handshakes) != 1 || stat_get(bond(s, 0)->handshakes) != 1)
		violation(s, "%" PRIu64 " handshakes at the hub, %" PRIu64 " at the edge: a replayed "
			  "init displaced the session", stat_get(hub->handshakes),
			  stat_get(bond(s, 0)->handshakes));
	else if (!s->spoof_rx_bytes || !stat_get(hub->replayed))
		violation(s, "the stranger sent %" PRIu64 " bytes and the hub counted %" PRIu64
			  " replayed: the scenario tests nothing", s->spoof_rx_bytes,
			  stat_get(hub->replayed));
	else if (s->spoof_tx_bytes > s->spoof_rx_bytes)
		violation(s, "the hub sent the stranger %" PRIu64 " bytes for %" PRIu64,
			  s->spoof_tx_bytes, s->spoof_rx_bytes);
	else
		ck_flood(s);
}

/* The edge restarts 2 s in, and a stranger floods the hub with the edge's
 * captured init meanwhile. Before braid issue 13 the hub refused every init
 * not newer than the last it took by the edge's wall clock, and an edge
 * whose clock was behind (no battery-backed clock, booted before NTP; a VM
 * restored) was locked out for good; now freshness is the hub's cookie.
 * Both sides must be under one new session within 1 s. No loss, but what
 * was in flight to the old edge is gone, so not everything sent arrives. */
static void sc_restart(struct sim *s)
{
	sc_clean(s);
	s->expect_all = false;
	s->restart_within_ns = NS_PER_S;
	add_link_mark(s, 2 * NS_PER_S, MARK_RESTART, 0, 0);
	s->mark[add_link_mark(s, 2 * NS_PER_S, MARK_REPLAY, 1, 0)].value = 2;
	s->mark[add_link_mark(s, 2 * NS_PER_S + 20 * NS_PER_MS, MARK_REPLAY, 1, 1)].value = 2;
}

/* The hub restarts 2 s in, and a stranger floods it with the edge's captured
 * init right after: the restarted hub has taken nothing yet, which is when
 * the old hub took a replayed init and answered every copy of it one for
 * one. Now each copy gets a cookie (smaller than the init) or nothing, at
 * most the stranger's bucket's worth; and the edge, which finds its links
 * silent and asks for a new session, is back within 2 s. */
static void sc_hubrestart(struct sim *s)
{
	sc_clean(s);
	s->expect_all = false;
	s->restart_within_ns = 2 * NS_PER_S;
	add_link_mark(s, 2 * NS_PER_S, MARK_RESTART, 1, 0);
	for (unsigned i = 0; i < 4; i++)
		s->mark[add_link_mark(s, 2 * NS_PER_S + (1 + 10 * i) * NS_PER_MS, MARK_REPLAY, 1,
				      i % s->nlinks)].value = 2;
}

/* What a stranger's init flood may get back: cookies or responses for at
 * most its bucket, the rest counted as over the rate. */
static void ck_flood(struct sim *s)
{
	uint64_t refused = stat_get(bond(s, 1)->hs_ratelimited) + s->side[1].prev_ratelimited;

	trace(s, 1, "stranger: %" PRIu64 " inits, %" PRIu64 " answers (%" PRIu64 " bytes), %"
	      PRIu64 " refused over the rate", s->spoof_inits, s->spoof_tx_pkts, s->spoof_tx_bytes,
	      refused);
	if (!s->spoof_inits)
		violation(s, "the stranger sent no init: the scenario tests nothing");
	else if (s->spoof_tx_pkts > RATELIMIT_BURST + RATELIMIT_RATE *
		 (s->spoof_last - s->spoof_first + s->dmax_ns) / NS_PER_S)
		violation(s, "the hub answered the stranger's %" PRIu64 " inits over %.3f s %"
			  PRIu64 " times: more than its bucket (burst %d, %d/s)", s->spoof_inits,
			  (s->spoof_last - s->spoof_first) / 1e9, s->spoof_tx_pkts,
			  RATELIMIT_BURST, RATELIMIT_RATE);
	else if (!refused)
		violation(s, "a flood of %u inits at once: the hub refused none", SIM_FLOOD);
	else if (s->spoof_tx_pkts + refused != s->spoof_inits)
		violation(s, "the stranger sent %" PRIu64 " inits; the hub answered %" PRIu64
			  " and refused %" PRIu64 " as over the rate", s->spoof_inits,
			  s->spoof_tx_pkts, refused);
}

static void ck_restart(struct sim *s)
{
	if (!s->restart_at)
		violation(s, "nothing restarted: the scenario tests nothing");
	else if (!s->restart_back_at)
		violation(s, "a side restarted at %.3f s and never got a session again",
			  (s->restart_at - s->t0) / 1e9);
	else if (s->restart_back_at - s->restart_at > s->restart_within_ns)
		violation(s, "a side restarted and was back only %.3f ms later (at most %.3f s)",
			  (s->restart_back_at - s->restart_at) / 1e6, s->restart_within_ns / 1e9);
	else if (stat_get(bond(s, s->restart_side)->handshakes) != 1 ||
		 stat_get(bond(s, 1 - s->restart_side)->handshakes) != 2)
		violation(s, "%" PRIu64 " handshakes at the restarted %s, %" PRIu64 " at the %s: "
			  "expected 1 and 2", stat_get(bond(s, s->restart_side)->handshakes),
			  s->side[s->restart_side].name, stat_get(bond(s, 1 - s->restart_side)->handshakes),
			  s->side[1 - s->restart_side].name);
	else
		ck_flood(s);
}

static uint64_t snap_delta(const struct sim *s, unsigned a, unsigned b, unsigned side, unsigned li)
{
	return s->snap[b].tx_data[side][li] - s->snap[a].tx_data[side][li];
}

/* Aggregate mode over links of 10, 12 and 15 ms without a rate limit:
 * DWRR gives every link its share; earliest arrival puts the data on link0,
 * where it lands first (the others carry what went before the estimates
 * came, and what a tie sends them). */
static void ck_clean(struct sim *s)
{
	if (s->mode != SCHED_AGGREGATE)
		return;
	for (unsigned d = 0; d < 2; d++) {
		uint64_t tx[SIM_MAX_LINKS] = { 0 }, others = 0;

		for (unsigned li = 0; li < s->nlinks; li++) {
			const struct braid_link_stats *ls = core_link_stats(s->side[d].core, li);

			tx[li] = ls ? stat_get(ls->tx_data) : 0;
			if (li)
				others += tx[li];
			if (s->algo == SCHED_DWRR && tx[li] == 0)
				violation(s, "%s never sent data on link%u with scheduler = dwrr",
					  s->side[d].name, li);
		}
		if (s->algo == SCHED_ARRIVAL && tx[0] <= 4 * others)
			violation(s, "%s sent %" PRIu64 " data packets on link0, where they land "
				  "first, and %" PRIu64 " on the others", s->side[d].name, tx[0],
				  others);
	}
}

static void sc_clean_dwrr(struct sim *s)
{
	sc_clean(s);
	s->algo = SCHED_DWRR;
}

/* Nothing is lost on these links, so no link may report loss: a probe
 * whose answer takes longer than the probe interval is late, not lost. */
static void ck_reorder(struct sim *s)
{
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned li = 0; li < s->nlinks; li++) {
			const struct braid_link_stats *ls = core_link_stats(s->side[d].core, li);

			if (ls && stat_get(ls->loss_ppm) != 0)
				violation(s, "%s reports %" PRIu64 " ppm loss on lossless link%u "
					  "(rtt %" PRIu64 " us)", s->side[d].name,
					  stat_get(ls->loss_ppm), li, stat_get(ls->rtt_us));
		}
	}
}

static void ck_horizon(struct sim *s)
{
	for (unsigned d = 0; d < 2; d++) {
		if (!stat_get(bond(s, 1 - d)->lost))
			violation(s, "%s->%s: nothing was given up on: the scenario tests nothing",
				  s->side[d].name, s->side[1 - d].name);
		else if (s->dir[d].slow * 20 > s->dir[d].delivered)
			violation(s, "%s->%s: %" PRIu64 " of %" PRIu64 " datagrams waited more than "
				  "half the %.0f ms budget for gaps every link had passed",
				  s->side[d].name, s->side[1 - d].name, s->dir[d].slow,
				  s->dir[d].delivered, s->budget_ns / 1e6);
	}
}

static void ck_blackout(struct sim *s)
{
	for (unsigned d = 0; d < 2; d++) {
		if (s->snap[2].state[d][1] == LINK_UP)
			violation(s, "%s: link1 still UP 3 probe intervals into its blackout",
				  s->side[d].name);
		else if (s->snap[0].state[d][1] == LINK_UP)
			violation(s, "%s: link1 still UP 1 s into its blackout", s->side[d].name);
		else if (snap_delta(s, 0, 1, d, 1))
			violation(s, "%s sent %" PRIu64 " data packets on link1 while it was DOWN",
				  s->side[d].name, snap_delta(s, 0, 1, d, 1));
		else if (link_stat_state(s, d, 1) != LINK_UP)
			violation(s, "%s: link1 not UP again at the end", s->side[d].name);
	}
}

static void ck_failover(struct sim *s)
{
	for (unsigned d = 0; d < 2 && !s->failed; d++) {
		const char *n = s->side[d].name;

		if (s->snap[1].state[d][0] == LINK_UP)
			violation(s, "%s: primary still UP 1 s into its blackout", n);
		else if (snap_delta(s, 1, 2, d, 0))
			violation(s, "%s sent %" PRIu64 " data packets on the dark primary", n,
				  snap_delta(s, 1, 2, d, 0));
		else if (!snap_delta(s, 1, 2, d, 1))
			violation(s, "%s: traffic did not move to link1 while the primary was dark", n);
		else if (snap_delta(s, 0, 4, d, 2))
			violation(s, "%s sent data on link2 although link1 was UP", n);
		else if (!snap_delta(s, 3, 4, d, 0))
			violation(s, "%s: traffic did not return to the primary", n);
		else if (snap_delta(s, 3, 4, d, 1))
			violation(s, "%s kept sending on link1 after the primary came back", n);
	}
}

/* What every loss recovery scenario checks, each way: what the core says it
 * retransmitted is what the driver saw leave outside core_rx_app; the
 * duplicates are originals that FEC had already rebuilt, needless
 * retransmissions (one that came after its original, or whose late original
 * came after it), and at most the copies a sender sprayed over every link
 * while none was up; needless retransmissions from 2 s on, once the links'
 * delays are known, are at most 3 + 1/8 of those sent (an original delayed
 * by jitter past NACK's age rule is asked for); and the residual loss in
 * the steady state is at most max_ppm of what was sent. Without recovery
 * these links lose 5%. */
static void ck_recovery(struct sim *s, uint64_t max_ppm, bool want_fec, bool want_retx)
{
	uint64_t lost = 0, sent = 0;

	for (unsigned d = 0; d < 2 && !s->failed; d++) {
		const struct braid_bond_stats *tx = bond(s, d), *rx = bond(s, 1 - d);
		const char *a = s->side[d].name, *b = s->side[1 - d].name;
		const struct dirstate *ds = &s->dir[d];

		/* The steady state: from 2 s in, when the links' delays and
		 * round trips are known. Both ways together: the hub's
		 * direction carries a few hundred datagrams, too few to judge
		 * a rate alone. */
		for (unsigned fi = 0; fi < ds->nflows; fi++) {
			for (uint32_t q = 0; q < ds->flow[fi].nsent; q++) {
				const struct rec *r = &ds->flow[fi].rec[q];

				if (r->send_ns < s->t0 + 2 * NS_PER_S ||
				    (r->state != REC_SENT && r->state != REC_DELIVERED))
					continue;
				sent++;
				lost += r->state != REC_DELIVERED;
			}
		}
		if (stat_get(tx->retransmitted) != s->side[d].retx_tx)
			violation(s, "%s counts %" PRIu64 " retransmissions, the network saw %" PRIu64,
				  a, stat_get(tx->retransmitted), s->side[d].retx_tx);
		else if (stat_get(rx->retx_dup) - s->steady_retx_dup[1 - d] >
			 3 + (stat_get(tx->retransmitted) - s->steady_retx[d]) / 8)
			violation(s, "%s->%s: %" PRIu64 " of %" PRIu64 " retransmissions from 2 s on "
				  "were not needed (the datagram was recovered, or not lost)", a, b,
				  stat_get(rx->retx_dup) - s->steady_retx_dup[1 - d],
				  stat_get(tx->retransmitted) - s->steady_retx[d]);
		else if (stat_get(rx->duplicates) < stat_get(rx->fec_early) + stat_get(rx->retx_dup) ||
			 stat_get(rx->duplicates) > stat_get(rx->fec_early) + stat_get(rx->retx_dup) +
						    s->side[d].extra_copies)
			violation(s, "%s->%s: %" PRIu64 " duplicates, of which only %" PRIu64
				  " are originals overtaken by FEC, %" PRIu64 " needless "
				  "retransmissions and at most %" PRIu64 " copies sent while no "
				  "link was up", a, b, stat_get(rx->duplicates),
				  stat_get(rx->fec_early), stat_get(rx->retx_dup),
				  s->side[d].extra_copies);
		else if (want_fec && !stat_get(rx->fec_recovered))
			violation(s, "%s->%s: FEC recovered nothing", a, b);
		else if (want_retx && !stat_get(tx->retransmitted))
			violation(s, "%s->%s: nothing was retransmitted", a, b);
	}
	if (!s->failed && lost * 1000000 > max_ppm * sent)
		violation(s, "%" PRIu64 " of %" PRIu64 " datagrams sent after 2 s lost, above %"
			  PRIu64 " ppm", lost, sent, max_ppm);
}

static void ck_fec(struct sim *s)
{
	ck_recovery(s, 25000, true, false);
}

static void ck_nack(struct sim *s)
{
	ck_recovery(s, 20000, false, true);
}

/* What a new user gets: braid's defaults (config_defaults: a 20 ms budget,
 * NACK on, fec = auto, probes every 100 ms) over three 2 ms links that lose
 * 5% each way, 1000 datagrams/s of 1000 B each way for 8 s: the bench's
 * loss5-2ms with nothing set. */
static void sc_defaults(struct sim *s)
{
	for (unsigned li = 0; li < s->nlinks; li++)
		link_delay(s, li, 2, 0.2, false);
	links_each(s, set_loss, 0.05);
	s->budget_ns = 20 * NS_PER_MS;
	s->probe_ns = 100 * NS_PER_MS;
	s->fec_k = CONFIG_FEC_AUTO_K;
	s->fec_auto = true;
	s->nack = true;
	for (unsigned d = 0; d < 2; d++) {
		s->dir[d].rate = 1000;
		s->dir[d].len_fixed = 1000;
		s->dir[d].even = true;
	}
	if (s->dur_ns < 8 * NS_PER_S)
		s->dur_ns = 8 * NS_PER_S;
}

/* Nearly nothing sent in the steady state lost (what is, is a loss FEC
 * could not repair whose three asks were all lost too): at most 200 ppm of
 * a run's 12000 from 2 s on, which seeds 1-700 all keep, and 6-s runs lost
 * 9 of 4.8 million over 300 seeds; at most 1.6 wire bytes per payload
 * byte, probes, parity, NACKs and feedback all counted. */
static void ck_defaults(struct sim *s)
{
	ck_recovery(s, 200, true, false);
	for (unsigned d = 0; d < 2 && !s->failed; d++) {
		uint64_t wire = 0;

		for (unsigned li = 0; li < s->nlinks; li++)
			wire += s->link[li].dir[d].bytes;
		if (wire * 10 > s->dir[d].payload_bytes * 16)
			violation(s, "%s sent %.2f wire bytes per payload byte, above 1.6",
				  s->side[d].name, (double)wire / (double)s->dir[d].payload_bytes);
	}
}

/* The percentile p of both directions' delays together (each sorted). */
static uint64_t pooled_percentile(const struct sim *s, double p)
{
	const struct dirstate *a = &s->dir[0], *b = &s->dir[1];
	uint32_t n = a->nlat + b->nlat, rank = (uint32_t)(p * n + 0.999999), i = 0, j = 0;
	uint64_t v = 0;

	for (uint32_t k = 0; k < (rank ? rank : 1) && k < n; k++)
		v = j >= b->nlat || (i < a->nlat && a->lat[i] <= b->lat[j]) ? a->lat[i++]
									     : b->lat[j++];
	return v;
}

/* FEC 4:2 blocks fill in 3 ms and their parity lands 2 ms later, so what
 * FEC repairs (and what waits behind it) arrives within about 5.2 ms; what
 * it cannot (a block in about 500) is asked for as soon as its parity has
 * come and costs a round trip more, for the ten or so packets behind it
 * too. How many such blocks a run has varies, so the p99 is judged over
 * both directions together (12000 datagrams): about 5.15 ms for most
 * seeds, within 8 ms for seeds 1-700. p50 is a clean 2 ms link's. */
static void ex_defaults(struct sim *s, const struct net_report *r)
{
	uint64_t p99 = pooled_percentile(s, 0.99);

	for (unsigned d = 0; d < 2; d++)
		if (r->dir[d].p50_ns > 2300 * NS_PER_US)
			violation(s, "%s->%s p50 %.3f ms over 2 ms links, above 2.3 ms",
				  s->side[d].name, s->side[1 - d].name, r->dir[d].p50_ns / 1e6);
	if (!s->failed && p99 > 8 * NS_PER_MS)
		violation(s, "p99 %.3f ms (both ways) over 2 ms links, above 8 ms", p99 / 1e6);
}

static void ck_fec_nack(struct sim *s)
{
	ck_recovery(s, 8000, true, false);
}

static void ck_recover(struct sim *s)
{
	ck_recovery(s, 100, true, true);
}

static void ck_fec_burst(struct sim *s)
{
	ck_recovery(s, 30000, true, false);
}

static void ck_fec_reorder(struct sim *s)
{
	ck_reorder(s);
	ck_recovery(s, 0, false, false);
	for (unsigned d = 0; d < 2 && !s->failed; d++)
		if (stat_get(bond(s, d)->nack_sent))
			violation(s, "%s sent %" PRIu64 " NACKs over links that lose nothing",
				  s->side[d].name, stat_get(bond(s, d)->nack_sent));
}

static void ck_fec_blackout(struct sim *s)
{
	ck_blackout(s);
	ck_recovery(s, 1000000, false, false);
}

static void ck_dup(struct sim *s)
{
	ck_clean(s);
	for (unsigned d = 0; d < 2; d++) {
		uint64_t dups = 0;

		for (unsigned li = 0; li < s->nlinks; li++)
			dups += s->link[li].dir[1 - d].duplicated;
		if (dups > 20 && stat_get(bond(s, d)->replayed) == 0)
			violation(s, "%s saw %" PRIu64 " duplicated packets and counted no replay",
				  s->side[d].name, dups);
	}
}

static void ck_corrupt(struct sim *s)
{
	for (unsigned d = 0; d < 2; d++) {
		const struct braid_bond_stats *b = bond(s, d);
		uint64_t rejected = stat_get(b->auth_fail) + stat_get(b->malformed) +
				    stat_get(b->replayed) + stat_get(b->no_session);

		if (rejected < s->corrupt_arrivals[d])
			violation(s, "%s got %" PRIu64 " corrupted packets but counts only %" PRIu64
				  " rejections", s->side[d].name, s->corrupt_arrivals[d], rejected);
	}
}

static void ck_nobuf(struct sim *s)
{
	if (!stat_get(bond(s, 0)->tx_nobuf))
		violation(s, "edge never ran out of tx buffers: the scenario tests nothing");
}

static void ck_nat(struct sim *s)
{
	if (!s->hub_learned_new)
		violation(s, "hub never authenticated a packet from link%u's new address", s->nat_link);
	else if (!s->hub_tx_new)
		violation(s, "hub never sent to link%u's new address", s->nat_link);
	else if (link_stat_state(s, 1, s->nat_link) != LINK_UP)
		violation(s, "hub: link%u not UP after the NAT rebinding", s->nat_link);
}

static void ck_sizes(struct sim *s)
{
	if (!s->dir[0].dropped[REC_DROP_OVERSIZE] || !s->dir[1].dropped[REC_DROP_OVERSIZE])
		violation(s, "no oversize datagram was refused: the scenario tests nothing");
}

/* --- links with a capacity -------------------------------------------------- */

/* Both directions of link li: mbit Mbit/s behind braid-linkem's default
 * drop-tail queue (64 KiB), base_ms one way, no jitter, FIFO. */
static void link_rate(struct sim *s, unsigned li, double mbit, double base_ms, uint32_t weight)
{
	link_delay(s, li, base_ms, 0, false);
	s->link[li].weight = weight;
	for (unsigned d = 0; d < 2; d++)
		s->link[li].dir[d].rate_bps = (uint64_t)(mbit * 1e6);
}

/* The edge offers `rate` datagrams/s of 1000 B, evenly spaced, as issue
 * 14's model does; the hub answers with a light 50/s of mixed sizes. The
 * 150 ms budget is more than any datagram waits on these links (the
 * slowest link's delay and serialization, behind which in-order delivery
 * holds the rest), so nothing is given up for lateness; with no loss,
 * everything sent after settling must arrive. The traffic runs 3/5 of
 * --duration-ms (3 s by default): at 1000-1500 datagrams/s, 300 seeds stay
 * quick. */
static void rated_traffic(struct sim *s, double rate)
{
	s->dir[0].rate = rate;
	s->dir[0].len_fixed = 1000;
	s->dir[0].even = true;
	s->dir[1].rate = 50;
	s->budget_ns = 150 * NS_PER_MS;
	s->expect_all = true;
	s->dur_ns = s->dur_ns * 3 / 5;
}

/* Issue 14's links: link0, link1 and link2 at 10, 5 and 2 Mbit/s and 20,
 * 40 and 80 ms one way, weights 10:5:2 as in the bench, 8 Mbit/s offered.
 * link0 alone carries it in 20.8 ms (20 ms + 1048 B at 10 Mbit/s), the best
 * any scheduler can do; DWRR hands link2 2/17 of the bytes, and in-order
 * delivery holds every datagram behind the last one on it: p50 about 80 ms.
 *
 * Earliest predicted arrival (the default scheduler) is held to the best
 * (ex_hetero, ex_hetero12): at 8 Mbit/s all data on link0 within 21/22 ms;
 * at 12 Mbit/s (more than link0 can carry: at least 20.5% must cross
 * link1, 41.7 ms at best) about 80/20 on link0/link1 with p50 within 45 ms.
 * Its p99 there is 54-77 ms over seeds, above the 41.7 possible: while
 * link1's rate is not yet measured it looks able to take anything and gets
 * bursts (a queue of up to 37 ms); not asserted until that is fixed. */
static void sc_hetero(struct sim *s)
{
	link_rate(s, 0, 10, 20, 10);
	link_rate(s, 1, 5, 40, 5);
	link_rate(s, 2, 2, 80, 2);
	rated_traffic(s, 1000);
}

static void sc_hetero12(struct sim *s)
{
	sc_hetero(s);
	s->dir[0].rate = 1500;
}

/* Three equal 10 Mbit/s, 10 ms links at 8 Mbit/s: a third each. */
static void sc_equal(struct sim *s)
{
	for (unsigned li = 0; li < s->nlinks; li++)
		link_rate(s, li, 10, 10, 1);
	rated_traffic(s, 1000);
}

/* No queue overflows: what DWRR's shares put on each link fits its rate
 * (at 12 Mbit/s, link2's 2/17 of 12.6 Mbit/s on the wire is 1.5 of its
 * 2 Mbit/s), and the hub's trickle fits anywhere. */
static void ck_rated(struct sim *s)
{
	for (unsigned d = 0; d < 2; d++)
		for (unsigned li = 0; li < s->nlinks; li++)
			if (s->link[li].dir[d].qdropped)
				violation(s, "link%u %s: %" PRIu64 " packets dropped by its full "
					  "queue, under a load that fits", li,
					  d ? "hub->edge" : "edge->hub", s->link[li].dir[d].qdropped);
}

/* Earliest arrival over hetero's links (the scheduling note's model):
 * 8 Mbit/s fits link0, so everything goes there and arrives as soon as it
 * can, 20.8 ms after it left (DWRR's 10:5:2 made every datagram wait for
 * link2's share: 80.4 / 87.4 ms). */
static void ex_hetero(struct sim *s, const struct net_report *r)
{
	if (s->algo != SCHED_ARRIVAL)
		return;
	if (r->dir[0].share[0] < 0.99)
		violation(s, "edge->hub: link0 carried %.1f%% of 8 Mbit/s it has room for",
			  100 * r->dir[0].share[0]);
	if (r->dir[0].p50_ns > 21 * NS_PER_MS || r->dir[0].p99_ns > 22 * NS_PER_MS)
		violation(s, "edge->hub: p50 %.3f / p99 %.3f ms where link0 alone gives 20.8",
			  r->dir[0].p50_ns / 1e6, r->dir[0].p99_ns / 1e6);
}

/* 12 Mbit/s: at least a fifth must cross link1, which takes 41.7 ms; the
 * best split is about 80/20 and link2 need carry nothing. */
static void ex_hetero12(struct sim *s, const struct net_report *r)
{
	if (s->algo != SCHED_ARRIVAL)
		return;
	if (r->dir[0].share[0] < 0.72 || r->dir[0].share[0] > 0.86 || r->dir[0].share[2] > 0.03)
		violation(s, "edge->hub: shares %.1f/%.1f/%.1f%%, want about 80/20/0",
			  100 * r->dir[0].share[0], 100 * r->dir[0].share[1],
			  100 * r->dir[0].share[2]);
	if (r->dir[0].p50_ns > 45 * NS_PER_MS)
		violation(s, "edge->hub: p50 %.3f ms, want at most 45 (41.7 is the least)",
			  r->dir[0].p50_ns / 1e6);
}

static void ex_equal(struct sim *s, const struct net_report *r)
{
	for (unsigned li = 0; li < s->nlinks; li++) {
		double sh = r->dir[0].share[li];

		if (sh < 1.0 / 3 - 0.03 || sh > 1.0 / 3 + 0.03)
			violation(s, "edge->hub: link%u carried %.1f%% of the data on three equal "
				  "links: want 33.3 +- 3%%", li, 100 * sh);
	}
}

static const struct scenario scenarios[] = {
	{ "clean", "no impairment; everything sent once settled arrives", sc_clean, ck_clean },
	{ "loss", "5% random loss on every link direction: no link goes down", sc_loss, ck_no_flap },
	{ "loss20", "20% random loss on every link direction: no link goes down", sc_loss20,
	  ck_no_flap },
	{ "burst", "Gilbert-Elliott bursty loss, ~6%", sc_burst, NULL },
	{ "horizon", "5% loss on links that keep order, 300 ms budget: gaps every link has "
	  "passed are given up on early", sc_horizon, ck_horizon },
	{ "reorder", "links of 5/20/60 ms with 10 ms jitter that reorders; budget covers the skew",
	  sc_reorder, ck_reorder },
	{ "skew", "as reorder but a 10 ms budget: gaps given up on, late copies dropped",
	  sc_skew, NULL },
	{ "dup", "10% of packets duplicated by the network", sc_dup, ck_dup },
	{ "corrupt", "3% of packets get a byte flipped; half of those to the hub come from a stranger",
	  sc_corrupt, ck_corrupt },
	{ "blackout", "link1 dark for 2 s mid-run", sc_blackout, ck_blackout },
	{ "flap", "link0 dark 200 ms of every 600 ms", sc_flap, NULL },
	{ "dupmode-blackout", "duplicate mode, link1 dark for 2 s: nothing may be lost",
	  sc_dupblackout, ck_blackout },
	{ "failover", "failover mode, the primary dark for a while: traffic moves and returns",
	  sc_failover, ck_failover },
	{ "unordered", "unordered bond over reordering links with 1% loss", sc_unordered, NULL },
	{ "fec", "FEC 8:2 over 5% loss on every link direction", sc_fec, ck_fec },
	{ "nack", "NACK retransmission over 5% loss, 150 ms budget", sc_nack, ck_nack },
	{ "fec-nack", "FEC 8:2 and NACK over 5% loss", sc_fec_nack, ck_fec_nack },
	{ "fec-burst", "FEC 8:2 and NACK over Gilbert-Elliott bursts", sc_fec_burst, ck_fec_burst },
	{ "recover", "FEC 8:2 and NACK, 5% loss on 10 ms links, 100 ms budget, 1000/s each way: "
	  "at least 99.99% arrives", sc_recover, ck_recover },
	{ "fec-reorder", "FEC and NACK over reordering links without loss: nothing asked for",
	  sc_fec_reorder, ck_fec_reorder },
	{ "fec-blackout", "FEC and NACK, link1 dark for 2 s", sc_fec_blackout, ck_fec_blackout },
	{ "nobuf", "6 tx buffers per core held 1 ms each, bursty senders", sc_nobuf, ck_nobuf },
	{ "nat", "link1's public address at the edge changes mid-run", sc_nat, ck_nat },
	{ "sizes", "datagrams up to BRAID_PAYLOAD_MAX + 64 bytes", sc_sizes, ck_sizes },
	{ "churn", "link2 deleted and added back, link1 set down and up, every 1.2 s: "
	  "nothing lost", sc_churn, ck_churn },
	{ "degrade", "weight = auto; link2 takes 20% loss for 2 s: it loses share and "
	  "regains it", sc_degrade, ck_degrade },
	{ "slowlink", "weight = auto; link2 150 ms against 10 ms, 100 ms budget: it carries "
	  "nothing", sc_slowlink, ck_slowlink },
	{ "replay", "a stranger replays the edge's first HS_INIT and DATA on every link, and "
	  "floods the init: the session stands, nothing is lost", sc_replay, ck_replay },
	{ "restart", "the edge restarts (its clock is trusted for nothing) under a stranger's "
	  "init flood: a session again within 1 s", sc_restart, ck_restart },
	{ "hubrestart", "the hub restarts and a stranger floods it with a captured init: "
	  "answers within the stranger's bucket, a session again within 2 s",
	  sc_hubrestart, ck_restart },
	/* Rate-limited links: each run also prints its latency and shares.
	 * New scenarios go at the end: a scenario's place seeds its draws. */
	{ "defaults", "the default config (20 ms, NACK, fec = auto) over three 2 ms links losing 5%: "
	  "at most 1e-4 lost, p99 within 8 ms (5.1 typical), at most 1.6 wire bytes per payload byte",
	  sc_defaults, ck_defaults, ex_defaults },
	{ "hetero", "10/5/2 Mbit/s links at 20/40/80 ms, weights 10:5:2, 8 Mbit/s of 1000 B "
	  "datagrams: all on link0 within 21/22 ms (p50/p99)", sc_hetero, ck_rated, ex_hetero },
	{ "hetero12", "as hetero at 12 Mbit/s, more than the fastest link carries: about 80/20 "
	  "over link0 and link1, p50 within 45 ms", sc_hetero12, ck_rated, ex_hetero12 },
	{ "equal", "three equal 10 Mbit/s, 10 ms links at 8 Mbit/s: a third of the data each",
	  sc_equal, ck_rated, ex_equal },
	{ "clean-dwrr", "as clean with scheduler = dwrr: every link carries its share",
	  sc_clean_dwrr, ck_clean },
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* --- a run ------------------------------------------------------------------ */

/* Every datagram ends in exactly one of these, and each is some counter's. */
struct fates {
	uint64_t dropped;	/* by the sender: oversize, no_session, no_link, nobuf */
	uint64_t nobuf_in_window; /* nobuf drops between base and top */
	uint64_t early;		/* before the receiver's base: its no_session or late */
	uint64_t early_settled;	/* ... of which sent after the sessions settled */
	uint64_t given_up;	/* between base and top, never delivered: lost */
	uint64_t trailing;	/* after top: nobody could count them */
	uint64_t after, missing; /* sent after settling, and not delivered */
};

static void count_fates(const struct dirstate *ds, struct fates *f)
{
	memset(f, 0, sizeof(*f));
	for (unsigned i = REC_DROP_OVERSIZE; i <= REC_DROP_NOBUF; i++)
		f->dropped += ds->dropped[i];
	for (unsigned fi = 0; fi < ds->nflows; fi++) {
		for (uint32_t q = 0; q < ds->flow[fi].nsent; q++) {
			const struct rec *r = &ds->flow[fi].rec[q];

			if (!r->after_settle)
				continue;
			f->after++;
			f->missing += r->state != REC_DELIVERED;
		}
	}
	for (uint32_t o = 0; o < ds->nlog; o++) {
		const struct rec *r = &ds->flow[ds->seqlog[o] >> 30].rec[ds->seqlog[o] & 0x3fffffff];
		bool before = !ds->have_base || o < ds->base, after = ds->have_base && o > ds->top;

		if (r->state == REC_DROP_NOBUF) {
			f->nobuf_in_window += !before && !after;
		} else if (r->state == REC_SENT) {
			if (before) {
				f->early++;
				f->early_settled += r->after_settle;
			} else if (after) {
				f->trailing++;
			} else {
				f->given_up++;
			}
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest delay that at least p of them do not exceed. */
static uint64_t percentile(const uint64_t *sorted, uint32_t n, double p)
{
	uint32_t rank = (uint32_t)(p * n + 0.999999);

	if (!n)
		return 0;
	return sorted[rank ? rank - 1 : 0];
}

static void net_report_fill(struct sim *s)
{
	struct net_report *r = &s->report;

	for (unsigned d = 0; d < 2; d++) {
		struct dirstate *ds = &s->dir[d];
		uint64_t data = 0;

		qsort(ds->lat, ds->nlat, sizeof(*ds->lat), cmp_u64);
		r->dir[d].n = ds->nlat;
		r->dir[d].p50_ns = percentile(ds->lat, ds->nlat, 0.50);
		r->dir[d].p99_ns = percentile(ds->lat, ds->nlat, 0.99);
		for (unsigned li = 0; li < s->nlinks; li++)
			data += s->link[li].dir[d].win_data_bytes;
		for (unsigned li = 0; li < s->nlinks; li++) {
			const struct dir_model *m = &s->link[li].dir[d];

			r->dir[d].share[li] = data ? (double)m->win_data_bytes / (double)data : 0;
			r->dir[d].qdrops[li] = m->qdropped;
			r->dir[d].qdelay_max_ns[li] = m->max_qdelay;
		}
	}
}

static void check_accounts(struct sim *s)
{
	static const char *const dname[2] = { "edge->hub", "hub->edge" };

	for (unsigned d = 0; d < 2 && !s->failed; d++) {
		struct dirstate *ds = &s->dir[d];
		const struct braid_bond_stats *rx = bond(s, 1 - d), *tx = bond(s, d);
		const struct side *rxs = &s->side[1 - d], *txs = &s->side[d];
		uint64_t lost = stat_get(rx->lost) + rxs->prev_lost, took;
		uint64_t rx_delivered = stat_get(rx->delivered_pkts) + rxs->prev_delivered;
		uint64_t tx_took = stat_get(tx->app_rx_pkts) + txs->prev_app_rx;
		struct fates f;

		count_fates(ds, &f);
		took = ds->sent - ds->dropped[REC_DROP_OVERSIZE] - ds->dropped[REC_DROP_NOSESSION];
		if (s->verbose)
			printf("  %s: sent=%" PRIu64 " delivered=%" PRIu64 " dropped-by-sender=%" PRIu64
			       " (oversize=%" PRIu64 " no_session=%" PRIu64 " no_link=%" PRIu64
			       " nobuf=%" PRIu64 ") lost=%" PRIu64 " given-up=%" PRIu64
			       " session-start=%" PRIu64 " trailing=%" PRIu64 "%s max-delay=%.3fms"
			       " window: p50=%.3fms p99=%.3fms of %" PRIu64 "\n",
			       dname[d], ds->sent, ds->delivered, f.dropped,
			       ds->dropped[REC_DROP_OVERSIZE], ds->dropped[REC_DROP_NOSESSION],
			       ds->dropped[REC_DROP_NOLINK], ds->dropped[REC_DROP_NOBUF], lost,
			       f.given_up, f.early, f.trailing, ds->inexact ? " (inexact)" : "",
			       ds->max_delay / 1e6, s->report.dir[d].p50_ns / 1e6,
			       s->report.dir[d].p99_ns / 1e6, s->report.dir[d].n);
		if (rx_delivered != ds->delivered) {
			violation(s, "%s: receiver's delivered_pkts is %" PRIu64 ", the app got %" PRIu64,
				  dname[d], rx_delivered, ds->delivered);
		} else if (tx_took != took) {
			violation(s, "%s: sender's app_rx_pkts is %" PRIu64 ", but it took %" PRIu64
				  " datagrams", dname[d], tx_took, took);
		} else if (f.trailing) {
			violation(s, "%s: %" PRIu64 " datagrams sent after the last one the receiver "
				  "authenticated never arrived, so nothing counted them lost",
				  dname[d], f.trailing);
		} else if (s->expect_all && f.missing) {
			uint64_t qd = 0;

			for (unsigned li = 0; li < s->nlinks; li++)
				qd += s->link[li].dir[d].qdropped;
			violation(s, "%s: %" PRIu64 " of %" PRIu64 " datagrams sent after the "
				  "sessions settled never arrived, with no loss configured (%" PRIu64
				  " packets dropped by full queues)", dname[d], f.missing, f.after, qd);

		} else if (ds->inexact) {
			/* The receiver reset mid-run: it can only have given up
			 * on fewer than went missing. */
			if (lost > f.given_up + f.nobuf_in_window + f.early)
				violation(s, "%s: receiver counts %" PRIu64 " lost, more than the %" PRIu64
					  " that went missing", dname[d], lost,
					  f.given_up + f.nobuf_in_window + f.early);
		} else if (s->unordered) {
			/* A seq counts as lost only once it slides out of the
			 * window: up to a window may still be open. */
			uint64_t gone = f.given_up + f.nobuf_in_window;

			if (lost > gone || gone - lost > s->window)
				violation(s, "%s: unordered receiver counts %" PRIu64 " lost, %" PRIu64
					  " went missing (at most a window apart)", dname[d], lost, gone);
		} else if (f.nobuf_in_window && lost == f.given_up + f.nobuf_in_window) {
			violation(s, "%s: %" PRIu64 " datagrams the sender dropped for want of a tx "
				  "buffer (counted tx_nobuf) also took a bond sequence number: the "
				  "receiver held each gap for the budget and counted them lost too "
				  "(sent %" PRIu64 " != delivered %" PRIu64 " + lost %" PRIu64
				  " + dropped %" PRIu64 ")", dname[d], f.nobuf_in_window, ds->sent,
				  ds->delivered, lost, f.dropped);
		} else if (lost != f.given_up) {
			violation(s, "%s: receiver counts %" PRIu64 " lost, but %" PRIu64 " datagrams "
				  "inside its window were never delivered (sent %" PRIu64
				  ", delivered %" PRIu64 ", dropped by sender %" PRIu64 ")", dname[d],
				  lost, f.given_up, ds->sent, ds->delivered, f.dropped);
		} else if (f.early_settled) {
			violation(s, "%s: %" PRIu64 " datagrams sent after the sessions settled fell "
				  "before the receiver's first one and were never delivered", dname[d],
				  f.early_settled);
		}
	}
}

static void print_link_stats(const struct sim *s)
{
	for (unsigned li = 0; li < s->nlinks; li++) {
		for (unsigned d = 0; d < 2; d++) {
			const struct dir_model *m = &s->link[li].dir[d];

			printf("  net link%u %s: sent=%" PRIu64 " dropped=%" PRIu64 " duplicated=%" PRIu64
			       " corrupted=%" PRIu64 " bytes=%" PRIu64 " data=%" PRIu64 "/%" PRIu64
			       "B window-share=%.1f%%", li, d ? "hub->edge" : "edge->hub", m->sent,
			       m->dropped, m->duplicated, m->corrupted, m->bytes, m->data_pkts,
			       m->data_bytes, 100 * s->report.dir[d].share[li]);
			if (m->rate_bps)
				printf(" rate=%.3fMbit/s queue=%" PRIu64 "B qdrops=%" PRIu64
				       " qdelay-max=%.3fms", m->rate_bps / 1e6, queue_limit(m),
				       m->qdropped, m->max_qdelay / 1e6);
			putchar('\n');
		}
	}
	if (s->link[s->nat_link].rebound)
		printf("  nat: hub sent %" PRIu64 " to the new address, %" PRIu64 " to the stale one\n",
		       s->hub_tx_new, s->nat_dropped);
	for (unsigned d = 0; d < 2; d++) {
		const struct braid_bond_stats *b = bond(s, d);

		printf("  %s: handshakes=%" PRIu64 " delivered=%" PRIu64 " lost=%" PRIu64
		       " dup=%" PRIu64 " reordered=%" PRIu64 " late=%" PRIu64 " auth_fail=%" PRIu64
		       " replayed=%" PRIu64 " malformed=%" PRIu64 " no_session=%" PRIu64
		       " no_link=%" PRIu64 " nobuf=%" PRIu64 " oversize=%" PRIu64 "\n",
		       s->side[d].name, stat_get(b->handshakes), stat_get(b->delivered_pkts),
		       stat_get(b->lost), stat_get(b->duplicates), stat_get(b->reordered),
		       stat_get(b->late), stat_get(b->auth_fail), stat_get(b->replayed),
		       stat_get(b->malformed), stat_get(b->no_session), stat_get(b->no_link),
		       stat_get(b->tx_nobuf), stat_get(b->oversize));
		if (s->fec_k || s->nack)
			printf("    recovery: fec %" PRIu64 ":%" PRIu64 " parity_sent=%" PRIu64
			       " parity_rx=%" PRIu64 " recovered=%" PRIu64 " early=%" PRIu64
			       " nack_sent=%" PRIu64 " nack_rx=%" PRIu64 " asked=%" PRIu64
			       " retransmitted=%" PRIu64 " retx_rx=%" PRIu64 " retx_dup=%" PRIu64 "\n",
			       stat_get(b->fec_k), stat_get(b->fec_m), stat_get(b->parity_sent),
			       stat_get(b->parity_rx), stat_get(b->fec_recovered),
			       stat_get(b->fec_early), stat_get(b->nack_sent), stat_get(b->nack_rx),
			       stat_get(b->nack_seqs), stat_get(b->retransmitted),
			       stat_get(b->retx_rx), stat_get(b->retx_dup));
		for (unsigned li = 0; li < s->nlinks; li++) {
			const struct braid_link_stats *ls = core_link_stats(s->side[d].core, li);

			if (!ls)
				continue;
			printf("    link%u: state=%" PRIu64 " tx=%" PRIu64 " data=%" PRIu64
			       " rx=%" PRIu64 " rtt=%" PRIu64 "us jitter=%" PRIu64 "us loss=%" PRIu64
			       "ppm down=%" PRIu64 " probes=%" PRIu64 "/%" PRIu64 "\n"
			       "           rate=%" PRIu64 "bit/s owd_rel=%" PRIu64 "us queue=%" PRIu64
			       "us tx_loss=%" PRIu64 "ppm rx_loss=%" PRIu64 "ppm\n", li,
			       stat_get(ls->state), stat_get(ls->tx_pkts), stat_get(ls->tx_data),
			       stat_get(ls->rx_pkts), stat_get(ls->rtt_us), stat_get(ls->jitter_us),
			       stat_get(ls->loss_ppm), stat_get(ls->down_events),
			       stat_get(ls->probes_answered), stat_get(ls->probes_sent),
			       stat_get(ls->rate_bps), stat_get(ls->owd_rel_us), stat_get(ls->queue_us),
			       stat_get(ls->tx_loss_ppm), stat_get(ls->rx_loss_ppm));
		}
	}
}

struct result {
	bool ok;
	uint64_t hash, sent, delivered, lost, dropped;
	uint64_t allocs;
	size_t alloc_first;
	uint64_t window_ns;
	char report[2][256];	/* rate-limited runs: what sim_report_line says */
};

static bool sim_rated(const struct sim *s)
{
	for (unsigned li = 0; li < s->nlinks; li++)
		if (s->link[li].dir[0].rate_bps || s->link[li].dir[1].rate_bps)
			return true;
	return false;
}

static void str_add(char *out, size_t size, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Appends to out[size], which holds *n characters; cuts what does not fit. */
static void str_add(char *out, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(out + *n, size - *n, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n = (size_t)k < size - *n ? *n + (size_t)k : size - 1;
}

/* One direction's measurements on one line, for the reader and for grep:
 * p50/p99 of the window, then per link the share of the DATA bytes, the
 * queue drops and the longest queueing delay. */
static void sim_report_line(const struct sim *s, unsigned d, char *out, size_t size)
{
	static const char *const dname[2] = { "edge->hub", "hub->edge" };
	const struct net_report *r = &s->report;
	size_t n = 0;

	out[0] = '\0';
	str_add(out, size, &n, "seed=%" PRIu64 " scenario=%s %s p50=%.3fms p99=%.3fms n=%" PRIu64
		" share=", s->seed, s->sc->name, dname[d], r->dir[d].p50_ns / 1e6,
		r->dir[d].p99_ns / 1e6, r->dir[d].n);
	for (unsigned li = 0; li < s->nlinks; li++)
		str_add(out, size, &n, "%s%.1f", li ? "/" : "", 100 * r->dir[d].share[li]);
	str_add(out, size, &n, "%% qdrops=");
	for (unsigned li = 0; li < s->nlinks; li++)
		str_add(out, size, &n, "%s%" PRIu64, li ? "/" : "", r->dir[d].qdrops[li]);
	str_add(out, size, &n, " qdelay-max=");
	for (unsigned li = 0; li < s->nlinks; li++)
		str_add(out, size, &n, "%s%.3f", li ? "/" : "", r->dir[d].qdelay_max_ns[li] / 1e6);
	str_add(out, size, &n, "ms");
}

static struct pkt *net_arena;

static int sim_setup(struct sim *s)
{
	struct rng r;
	uint64_t pool_bytes;

	rng_seed(&r, s->seed, 1000 + (uint64_t)(s->sc - scenarios));
	/* Some seeds start the clock near where the wire's 32-bit
	 * microsecond timestamps wrap, or at a large uptime. */
	switch (s->seed % 4) {
	case 2:
		s->t0 = 1000000ull * NS_PER_S + rng_below(&r, NS_PER_S);
		break;
	case 3:
		s->t0 = (1ull << 32) * NS_PER_US - 1500 * NS_PER_MS;
		break;
	default:
		s->t0 = NS_PER_S;
	}
	s->now = s->t0;
	s->mode = SCHED_AGGREGATE;
	s->budget_ns = 20 * NS_PER_MS;
	s->probe_ns = 100 * NS_PER_MS;
	s->nlinks = 3;
	s->pool_n = 64;
	s->txdone_ns = 0;
	s->burst_max = 1;
	s->len_max = 1400;
	s->window = 512;
	s->payload_key = rng_next(&r);
	addr_v4(&s->spoof_addr, "10.66.6.6", 666);
	for (unsigned li = 0; li < SIM_MAX_LINKS; li++) {
		struct sim_link *l = &s->link[li];

		l->weight = 1 + (uint32_t)rng_below(&r, 3);
		l->priority = li;
		addr_v4(&l->edge_local, "10.0.0.1", (uint16_t)(7100 + li));
		l->edge_public = l->edge_local;
		addr_v4(&l->hub_addr, "10.0.0.2", (uint16_t)(7200 + li));
		for (unsigned d = 0; d < 2; d++)
			rng_seed(&l->dir[d].rng, s->seed, 100 + 2 * li + d);
	}
	for (unsigned d = 0; d < 2; d++) {
		struct dirstate *ds = &s->dir[d];

		ds->nflows = 1 + (unsigned)rng_below(&r, SIM_MAX_FLOWS);
		ds->rate = d == 0 ? 300 + (double)rng_below(&r, 401) : 100 + (double)rng_below(&r, 201);
	}
	s->sc->setup(s);
	s->t_heal = s->t0 + s->dur_ns;
	s->t_stop_app = s->t_heal + SIM_TAIL_NS;
	for (unsigned li = 0; li < s->nlinks; li++)
		for (unsigned d = 0; d < 2; d++) {
			const struct dir_model *dm = &s->link[li].dir[d];
			uint64_t m = dm->base_ns + dm->jitter_ns + queue_max_ns(dm);

			if (m > s->dmax_ns)
				s->dmax_ns = m;
		}
	s->t_end = s->t_stop_app + s->budget_ns + s->dmax_ns + SIM_MARGIN_NS;

	s->heap.cap = SIM_NET_MAX + 2 * SIM_POOL_MAX + 2 * SIM_MAX_FLOWS + SIM_MAX_MARKS + 16;
	s->heap.v = calloc(s->heap.cap, sizeof(*s->heap.v));
	if (!s->heap.v)
		return -ENOMEM;
	s->net = net_arena;
	s->net_free = UINT32_MAX;
	s->net_fresh = 0;

	for (unsigned d = 0; d < 2; d++) {
		struct dirstate *ds = &s->dir[d];
		double span = (double)(s->dur_ns + SIM_TAIL_NS);

		for (unsigned fi = 0; fi < ds->nflows; fi++) {
			struct flowrec *fr = &ds->flow[fi];
			static const uint16_t ids[SIM_MAX_FLOWS] = { 0, 1, 65535, 4660 };

			fr->id = ids[fi];
			fr->interval_ns = ds->nflows * 1e9 / ds->rate;
			fr->last_seq = -1;
			/* Gaps are at least half the mean interval. */
			fr->cap = (uint32_t)(span / (fr->interval_ns * 0.5)) * s->burst_max + 64;
			fr->rec = calloc(fr->cap, sizeof(*fr->rec));
			if (!fr->rec)
				return -ENOMEM;
			ds->caplog += fr->cap;
		}
		ds->seqlog = calloc(ds->caplog, sizeof(*ds->seqlog));
		ds->lat = calloc(ds->caplog, sizeof(*ds->lat));
		if (!ds->seqlog || !ds->lat)
			return -ENOMEM;
		ds->caplat = ds->caplog;
	}

	pool_bytes = (uint64_t)s->pool_n * BRAID_PKT_MAX;
	for (unsigned d = 0; d < 2; d++) {
		struct side *sd = &s->side[d];
		int err;

		sd->sim = s;
		sd->id = d;
		sd->name = d == 0 ? "edge" : "hub";
		rng_seed(&sd->core_rng, s->seed, 10 + d);
		rng_seed(&sd->app_rng, s->seed, 20 + d);
		sd->pool = calloc(1, pool_bytes);
		sd->pool_state = calloc(s->pool_n, 1);
		sd->pool_free = calloc(s->pool_n, sizeof(*sd->pool_free));
		if (!sd->pool || !sd->pool_state || !sd->pool_free)
			return -ENOMEM;
		for (unsigned i = 0; i < s->pool_n; i++)
			sd->pool_free[i] = s->pool_n - 1 - i;
		sd->pool_nfree = s->pool_n;
		sd->deadline = s->t0;
		sd->call_ord = ORD_NONE;

		err = side_core_create(s, sd);
		if (err < 0)
			return err;
		for (unsigned fi = 0; fi < s->dir[d].nflows; fi++) {
			const struct dirstate *ds = &s->dir[d];
			uint64_t iv = (uint64_t)ds->flow[fi].interval_ns;

			/* Evenly spaced flows take turns: together they send
			 * one datagram every interval / nflows. */
			ev_push(s, s->t0 + (ds->even ? iv * fi / ds->nflows :
					    rng_below(&sd->app_rng, iv)), EV_APP, d, fi);
		}
	}
	for (unsigned i = 0; i < s->nmarks; i++)
		ev_push(s, s->mark[i].t, EV_MARK, 0, i);
	s->hash = 0xcbf29ce484222325ull;
	return 0;
}

static void sim_teardown(struct sim *s)
{
	for (unsigned d = 0; d < 2; d++) {
		struct side *sd = &s->side[d];

		core_destroy(sd->core);
		free(sd->pool);
		free(sd->pool_state);
		free(sd->pool_free);
	}
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned fi = 0; fi < s->dir[d].nflows; fi++)
			free(s->dir[d].flow[fi].rec);
		free(s->dir[d].seqlog);
		free(s->dir[d].lat);
	}
	free(s->heap.v);
}

static void sim_finish(struct sim *s)
{
	if (!s->settled) {
		violation(s, "never settled: edge ready=%d hub ready=%d, link states edge %" PRIu64
			  "%" PRIu64 "%" PRIu64 " hub %" PRIu64 "%" PRIu64 "%" PRIu64,
			  core_ready(s->side[0].core), core_ready(s->side[1].core),
			  link_stat_state(s, 0, 0), link_stat_state(s, 0, 1), link_stat_state(s, 0, 2),
			  link_stat_state(s, 1, 0), link_stat_state(s, 1, 1), link_stat_state(s, 1, 2));
		return;
	}
	/* Probes never stop; data must all have landed. */
	for (uint32_t i = 0; i < s->heap.n; i++) {
		const struct ev *e = &s->heap.v[i];

		if (e->type == EV_ARRIVE && s->net[e->idx].data[1] == WIRE_DATA &&
		    !s->net[e->idx].corrupted) {
			violation(s, "sim: a data packet is still in flight after the drain");
			return;
		}
	}
	for (unsigned d = 0; d < 2 && !s->failed; d++) {
		struct side *sd = &s->side[d];
		unsigned held = 0;

		for (unsigned i = 0; i < s->pool_n; i++)
			held += sd->pool_state[i] == POOL_ALLOC;
		if (held)
			violation(s, "%s took %u buffers from tx_alloc and never sent them", sd->name,
				  held);
	}
	net_report_fill(s);
	check_accounts(s);
	if (s->spoof_tx_bytes > s->spoof_rx_bytes)
		violation(s, "the hub sent %" PRIu64 " bytes to a stranger that sent it %" PRIu64,
			  s->spoof_tx_bytes, s->spoof_rx_bytes);
	if (!s->failed && s->sc->check)
		s->sc->check(s);
	if (!s->failed && s->sc->expect)
		s->sc->expect(s, &s->report);
}

static struct result sim_run(const struct scenario *sc, uint64_t seed, uint64_t dur_ns,
			     int verbose, bool alloc_check)
{
	static struct sim s;
	struct result res = { 0 };
	int err;

	memset(&s, 0, sizeof(s));
	s.sc = sc;
	s.seed = seed;
	s.verbose = verbose;
	s.alloc_check = alloc_check;
	s.dur_ns = dur_ns;
	if (verbose)
		printf("seed=%" PRIu64 " scenario=%s: %s\n", seed, sc->name, sc->help);
	err = sim_setup(&s);
	if (err < 0) {
		snprintf(s.why, sizeof(s.why), "setup failed: %s", strerror(-err));
		s.failed = true;
	} else {
		if (verbose)
			printf("  mode=%s budget=%.0fms unordered=%d flows=%u/%u rates=%.0f/%.0f/s "
			       "t0=%" PRIu64 "ns dmax=%.3fms\n", sched_mode_name(s.mode),
			       s.budget_ns / 1e6, s.unordered, s.dir[0].nflows, s.dir[1].nflows,
			       s.dir[0].rate, s.dir[1].rate, s.t0, s.dmax_ns / 1e6);
		alloc_count = 0;
		sim_loop(&s);
		res.allocs = alloc_count;
		res.alloc_first = alloc_first_size;
		res.window_ns = s.settled && s.t_heal > s.t_settle ? s.t_heal - s.t_settle : 0;
		if (!s.failed)
			sim_finish(&s);
		if (!s.failed && sim_rated(&s))
			for (unsigned d = 0; d < 2; d++)
				sim_report_line(&s, d, res.report[d], sizeof(res.report[d]));
		if (verbose) {
			if (s.settled)
				printf("  settled at %.6fs, %" PRIu64 " events\n", rel_s(&s, s.t_settle),
				       s.events);
			print_link_stats(&s);
		}
	}
	for (unsigned d = 0; d < 2; d++) {
		res.sent += s.dir[d].sent;
		res.delivered += s.dir[d].delivered;
		for (unsigned i = REC_DROP_OVERSIZE; i <= REC_DROP_NOBUF; i++)
			res.dropped += s.dir[d].dropped[i];
		if (s.side[d].core)
			res.lost += stat_get(bond(&s, d)->lost);
	}
	hash_u64(&s.hash, res.sent);
	hash_u64(&s.hash, res.delivered);
	hash_u64(&s.hash, res.lost);
	res.hash = s.hash;
	res.ok = !s.failed;
	if (!res.ok)
		printf("FAIL seed=%" PRIu64 " scenario=%s: %s\n"
		       "  replay: braid-sim --seed %" PRIu64 " --scenario %s --verbose\n",
		       seed, sc->name, s.why, seed, sc->name);
	sim_teardown(&s);
	return res;
}

/* --- command line ----------------------------------------------------------- */

struct opts {
	uint64_t seed_a, seed_b, dur_ns;
	const char *scen;
	int verbose;
	bool determinism, alloc_check, keep_going;
};

/* Runs this job's share of (scenario, seed) pairs; returns how many failed. */
static unsigned run_all(const struct opts *o, unsigned job, unsigned jobs, unsigned *nruns)
{
	const char *scen = o->scen;
	uint64_t seed_a = o->seed_a, seed_b = o->seed_b;
	int verbose = o->verbose;
	bool determinism = o->determinism, alloc_check = o->alloc_check;
	bool keep_going = o->keep_going;
	unsigned runs = 0, failed = 0;

	for (size_t i = 0; i < NSCENARIOS; i++) {
		const struct scenario *sc = &scenarios[i];

		if (strcmp(scen, "all") && strcmp(scen, sc->name))
			continue;
		for (uint64_t seed = seed_a + job; seed <= seed_b; seed += jobs) {
			struct result r = sim_run(sc, seed, o->dur_ns, verbose, alloc_check);

			runs++;
			if (r.ok && determinism) {
				struct result r2 = sim_run(sc, seed, o->dur_ns, 0, false);

				if (!r2.ok || r2.hash != r.hash) {
					printf("FAIL seed=%" PRIu64 " scenario=%s: not deterministic: "
					       "hash %016" PRIx64 " then %016" PRIx64 "\n"
					       "  replay: braid-sim --seed %" PRIu64 " --scenario %s "
					       "--check-determinism --verbose\n", seed, sc->name, r.hash,
					       r2.hash, seed, sc->name);
					r.ok = false;
				}
			}
			if (r.ok && alloc_check && r.allocs) {
				printf("FAIL seed=%" PRIu64 " scenario=%s: %" PRIu64 " allocations in "
				       "the steady state (first of %zu bytes)\n"
				       "  replay: braid-sim --seed %" PRIu64 " --alloc-check --verbose\n",
				       seed, sc->name, r.allocs, r.alloc_first, seed);
				r.ok = false;
			} else if (r.ok && alloc_check && !r.window_ns) {
				printf("FAIL seed=%" PRIu64 " scenario=%s: alloc-check measured nothing "
				       "(never settled)\n", seed, sc->name);
				r.ok = false;
			}
			if (r.ok) {
				printf("seed=%" PRIu64 " scenario=%s sent=%" PRIu64 " delivered=%" PRIu64
				       " lost=%" PRIu64 " dropped=%" PRIu64 " hash=%016" PRIx64, seed,
				       sc->name, r.sent, r.delivered, r.lost, r.dropped, r.hash);
				if (alloc_check)
					printf(" allocs=0 over %.3fs", r.window_ns / 1e9);
				printf("%s ok\n", determinism ? " deterministic" : "");
				for (unsigned d = 0; d < 2; d++)
					if (r.report[d][0])
						printf("  %s\n", r.report[d]);
			} else {
				failed++;
				if (!keep_going) {
					*nruns = runs;
					return failed;
				}
			}
		}
	}
	*nruns = runs;
	return failed;
}


static void usage(FILE *f)
{
	fprintf(f,
		"usage: braid-sim [--seed N | --seeds A-B] [--scenario NAME|all] [--duration-ms N]\n"
		"                 [--verbose]... [--check-determinism] [--alloc-check] [--keep-going]\n"
		"                 [--jobs N] [--list]\n"
		"  Runs an edge and a hub core over a simulated network and checks every\n"
		"  delivery. Defaults: --seed 1 --scenario all --duration-ms 5000.\n"
		"  --verbose twice traces every packet. --jobs N runs seeds in N processes.\n"
		"  --keep-going runs every seed even after a failure (default: stop at the first).\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return (errno || end == s || *end || *s == '-') ? -EINVAL : 0;
}

static int parse_range(const char *s, uint64_t *a, uint64_t *b)
{
	char buf[64];
	char *dash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = '\0';
	if (parse_u64(buf, a) || parse_u64(dash + 1, b) || *a > *b)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "seeds", required_argument, NULL, 'S' },
		{ "scenario", required_argument, NULL, 'c' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check-determinism", no_argument, NULL, 'D' },
		{ "alloc-check", no_argument, NULL, 'A' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t seed_a = 1, seed_b = 1, dur_ms = 5000, seed_tmp;
	const char *scen = NULL;
	bool determinism = false, alloc_check = false, keep_going = false;
	int verbose = 0, c;
	unsigned runs = 0, failed = 0, jobs = 1;
	struct opts o;

	/* stdio must not allocate while --alloc-check is counting. */
	setvbuf(stdout, outbuf, _IOLBF, sizeof(outbuf));
	while ((c = getopt_long(argc, argv, "s:S:c:d:vDAkj:lh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_u64(optarg, &seed_a))
				goto bad;
			seed_b = seed_a;
			break;
		case 'S':
			if (parse_range(optarg, &seed_a, &seed_b))
				goto bad;
			break;
		case 'c':
			scen = optarg;
			break;
		case 'd':
			if (parse_u64(optarg, &dur_ms) || dur_ms < 5000 || dur_ms > 600000) {
				fprintf(stderr, "braid-sim: --duration-ms must be 5000..600000\n");
				return 2;
			}
			break;
		case 'v':
			verbose++;
			break;
		case 'D':
			determinism = true;
			break;
		case 'A':
			alloc_check = true;
			break;
		case 'k':
			keep_going = true;
			break;
		case 'j':
			if (parse_u64(optarg, &seed_tmp) || seed_tmp < 1 || seed_tmp > 64)
				goto bad;
			jobs = (unsigned)seed_tmp;
			break;
		case 'l':
			for (size_t i = 0; i < NSCENARIOS; i++)
				printf("%-18s %s\n", scenarios[i].name, scenarios[i].help);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (alloc_check) {
		if (!SIM_ALLOC_HOOKS) {
			printf("alloc-check skipped: ASan owns malloc\n");
			return 0;
		}
		if (scen && strcmp(scen, "clean")) {
			fprintf(stderr, "braid-sim: --alloc-check runs the clean scenario only\n");
			return 2;
		}
		scen = "clean";
	}
	if (!scen)
		scen = "all";
	if (strcmp(scen, "all")) {
		size_t i;

		for (i = 0; i < NSCENARIOS && strcmp(scenarios[i].name, scen); i++)
			;
		if (i == NSCENARIOS) {
			fprintf(stderr, "braid-sim: no scenario '%s' (--list shows them)\n", scen);
			return 2;
		}
	}
	if (crypto_init() < 0) {
		fprintf(stderr, "braid-sim: crypto_init failed\n");
		return 2;
	}
	net_arena = calloc(SIM_NET_MAX, sizeof(*net_arena));
	if (!net_arena) {
		fprintf(stderr, "braid-sim: out of memory\n");
		return 2;
	}
	o = (struct opts){ .seed_a = seed_a, .seed_b = seed_b, .dur_ns = dur_ms * NS_PER_MS,
			   .scen = scen, .verbose = verbose, .determinism = determinism,
			   .alloc_check = alloc_check, .keep_going = keep_going };
	if (jobs > seed_b - seed_a + 1)
		jobs = (unsigned)(seed_b - seed_a + 1);

	if (jobs > 1) {
		/* Seeds are independent runs: spread them over processes. Each
		 * child prints its own lines and reports its counts on a pipe. */
		int fds[2];

		if (pipe(fds) < 0) {
			perror("braid-sim: pipe");
			return 2;
		}
		for (unsigned j = 0; j < jobs; j++) {
			pid_t pid;

			fflush(stdout);
			pid = fork();
			if (pid < 0) {
				perror("braid-sim: fork");
				return 2;
			}
			if (pid == 0) {
				unsigned cnt[2];

				close(fds[0]);
				cnt[1] = run_all(&o, j, jobs, &cnt[0]);
				fflush(stdout);
				if (write(fds[1], cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
					_exit(1);
				_exit(0);
			}
		}
		close(fds[1]);
		for (unsigned j = 0; j < jobs; j++) {
			unsigned cnt[2];

			if (read(fds[0], cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt)) {
				runs += cnt[0];
				failed += cnt[1];
			}
		}
		for (unsigned j = 0; j < jobs; j++) {
			int st;

			if (wait(&st) < 0)
				break;
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				fprintf(stderr, "braid-sim: a job died\n");
				failed++;
			}
		}
		close(fds[0]);
	} else {
		failed = run_all(&o, 0, 1, &runs);
	}
	free(net_arena);
	if (runs > 1 || failed)
		printf("braid-sim: %u run%s, %u failed\n", runs, runs == 1 ? "" : "s", failed);
	return failed ? 1 : 0;
bad:
	usage(stderr);
	return 2;
}
