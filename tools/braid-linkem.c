/* braid-linkem: a user-space UDP link emulator, for machines whose kernel has
 * no netem.
 *
 *   braid-linkem [--seed N] [--stats-interval S] LINKSPEC...
 *   braid-linkem --selftest [--seed N] [--count N] PARAMS
 *
 * LINKSPEC is LISTEN=ADDR,TARGET=ADDR[,profile=FILE][,rate=..][,delay=..]
 * [,jitter=..][,reorder=yes|no][,loss=..][,ge=p,r[,h,k]][,dup=..][,queue=..].
 * Datagrams from a client to LISTEN leave a second socket connected to
 * TARGET after impairment; replies come back to the most recent client
 * through a second, independent copy of the same model. docs/linkem.md
 * describes the model, the profile format and the measured overhead.
 *
 * One thread, one event loop: ppoll on every socket with a timeout to the
 * next release in a binary heap keyed by release time (CLOCK_MONOTONIC). The
 * last LINKEM_SPIN_NS before a release are busy-waited, because a sleeping
 * ppoll wakes tens of microseconds late; that burns a core while a release is
 * imminent, which an emulator on a test machine can afford.
 *
 * Packet buffers come from a fixed pool allocated at start; the packet path
 * never allocates. A datagram that finds the pool empty is dropped and
 * counted. SIGTERM or SIGINT ends it with exit status 0 and a JSON line of
 * counters on stderr; bad arguments exit 2. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "braid/rng.h"
#include "addr.h"

#define LINKEM_MAX_LINKS    64
#define LINKEM_MAX_EVENTS   128
#define LINKEM_MAX_DGRAM    65535
#define LINKEM_SMALL_SIZE   2048
#define LINKEM_SMALL_COUNT  16384
#define LINKEM_LARGE_COUNT  128
#define LINKEM_POOL         (LINKEM_SMALL_COUNT + LINKEM_LARGE_COUNT)
/* A buffer is in the heap at most twice (original and duplicate). */
#define LINKEM_HEAP_CAP     (2 * LINKEM_POOL)
#define LINKEM_SPIN_NS      50000ull
#define LINKEM_RX_BATCH     64
#define LINKEM_SOCKBUF      (4 << 20)
#define LINKEM_DEF_QUEUE    (64 * 1024)
#define NS_PER_S            1000000000ull

enum { DIR_UP, DIR_DOWN, DIR_N };	/* client->target, target->client */

enum ev_kind { EV_BLACKOUT, EV_RATE, EV_DELAY, EV_LOSS };

/* One timeline line. "every" events repeat with period > 0: windows start at
 * period, 2*period, ...; others start once at `at`. `dur` is 0 for a change
 * that persists. */
struct ev {
	enum ev_kind kind;
	uint64_t at, dur, period;
	uint64_t u;		/* rate in bit/s or delay in ns */
	double d;		/* loss probability */
};

struct params {
	uint64_t rate;		/* bit/s, 0 = unlimited */
	uint64_t delay;		/* ns */
	uint64_t jitter;	/* ns */
	uint64_t queue;		/* bytes */
	bool reorder;
	double loss, dup;
	/* Gilbert-Elliott: p = P(good->bad), r = P(bad->good) per datagram;
	 * h = P(delivered | bad), k = P(delivered | good). p = 0 disables it. */
	double ge_p, ge_r, ge_h, ge_k;
};

struct counters {
	uint64_t in, out, loss, ge, queue, blackout, dup, pool, tx_err, no_client;
};

struct dirstate {
	struct rng rng;
	uint64_t busy_until;	/* end of the serialization of the last admitted datagram */
	uint64_t last_release;	/* for reorder=no */
	bool ge_bad;
	struct counters c;
};

struct link {
	char listen_s[ADDR_STRLEN], target_s[ADDR_STRLEN];
	union braid_addr listen, target, client;
	bool have_client;
	int lfd, tfd;
	struct params base;
	struct ev ev[LINKEM_MAX_EVENTS];
	int nev;
	struct dirstate d[DIR_N];
};

struct buf {
	uint8_t *data;
	uint32_t len;
	uint8_t refs;
};

struct hent {
	uint64_t t, seq;
	uint32_t buf;
	uint16_t link;
	uint8_t dir;
};

/* What the model decided for one datagram. */
enum verdict { V_DELIVER, V_BLACKOUT, V_QUEUE, V_LOSS, V_GE };

struct decision {
	enum verdict v;
	int copies;		/* 1, or 2 when duplicated */
	uint64_t release[2];
};

static struct link links[LINKEM_MAX_LINKS];
static int nlinks;
static uint64_t start_ns;

static struct buf pool[LINKEM_POOL];
static uint32_t free_small[LINKEM_SMALL_COUNT], free_large[LINKEM_LARGE_COUNT];
static uint32_t nfree_small, nfree_large;
static struct hent *heap;
static size_t heap_n;
static uint64_t heap_seq;
static uint8_t scratch[LINKEM_MAX_DGRAM + 1];

static volatile sig_atomic_t stop_flag;

/* ---- small helpers ------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: braid-linkem [--seed N] [--stats-interval S] LINKSPEC...\n"
		"       braid-linkem --selftest [--seed N] [--count N] PARAMS\n"
		"  LINKSPEC: LISTEN=ADDR,TARGET=ADDR[,profile=FILE][,rate=10mbit][,delay=20ms]\n"
		"            [,jitter=5ms][,reorder=yes|no][,loss=0.05][,ge=p,r[,h,k]][,dup=0.01]\n"
		"            [,queue=64kb]   (options override the profile's values)\n"
		"  ge: p = P(good->bad), r = P(bad->good), h = P(deliver|bad) (default 0),\n"
		"      k = P(deliver|good) (default 1), each per datagram\n"
		"  --selftest runs the model on a synthetic arrival sequence without\n"
		"  sockets and prints its counters and a hash of every decision.\n"
		"  SIGTERM/SIGINT: exit 0, counters as one JSON line on stderr.\n");
}

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad(const char *fmt, ...)
{
	va_list ap;

	fputs("braid-linkem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* One stream per link and direction (include/braid/rng.h). */
static void rng_seed(struct rng *r, uint64_t seed, int link, int dir)
{
	rng_init(r, seed ^ ((uint64_t)(link * DIR_N + dir + 1) * 0xd1342543de82ef95ull));
}

/* ---- value parsers: 0 or -EINVAL --------------------------------------- */

static int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -EINVAL;
	*out = v;
	return (int)(end - s);
}

/* "20ms", "1.5s", "500us", "0". */
static int parse_time(const char *s, uint64_t *ns)
{
	double v, mul;
	int n = parse_double(s, &v);

	if (n < 0 || v < 0)
		return -EINVAL;
	s += n;
	if (!strcmp(s, "s"))
		mul = 1e9;
	else if (!strcmp(s, "ms"))
		mul = 1e6;
	else if (!strcmp(s, "us"))
		mul = 1e3;
	else if (!strcmp(s, "ns") || (!*s && v == 0))
		mul = 1;
	else
		return -EINVAL;
	if (v * mul > 1e15)	/* ~11 days: more is a typo */
		return -EINVAL;
	*ns = (uint64_t)llround(v * mul);
	return 0;
}

/* "10mbit", "500kbit", "1gbit", "64000bit", "64000" (bit/s); 0 = unlimited. */
static int parse_rate(const char *s, uint64_t *bps)
{
	double v, mul;
	int n = parse_double(s, &v);

	if (n < 0 || v < 0)
		return -EINVAL;
	s += n;
	if (!*s || !strcmp(s, "bit"))
		mul = 1;
	else if (!strcmp(s, "kbit"))
		mul = 1e3;
	else if (!strcmp(s, "mbit"))
		mul = 1e6;
	else if (!strcmp(s, "gbit"))
		mul = 1e9;
	else
		return -EINVAL;
	if (v * mul > 1e12 || (v > 0 && v * mul < 1000))
		return -EINVAL;	/* below 1 kbit/s a datagram takes minutes */
	*bps = (uint64_t)llround(v * mul);
	return 0;
}

/* "64kb", "1mb", "1500b", "1500" (bytes; k = 1024 as in tc). */
static int parse_size(const char *s, uint64_t *bytes)
{
	double v, mul;
	int n = parse_double(s, &v);

	if (n < 0 || v < 0)
		return -EINVAL;
	s += n;
	if (!*s || !strcmp(s, "b"))
		mul = 1;
	else if (!strcmp(s, "kb"))
		mul = 1024;
	else if (!strcmp(s, "mb"))
		mul = 1024 * 1024;
	else
		return -EINVAL;
	if (v * mul > (double)(1ull << 32))
		return -EINVAL;
	*bytes = (uint64_t)llround(v * mul);
	return 0;
}

/* "0.05" or "5%", within [0, 1]. */
static int parse_prob(const char *s, double *p)
{
	double v;
	int n = parse_double(s, &v);

	if (n < 0)
		return -EINVAL;
	if (!strcmp(s + n, "%"))
		v /= 100;
	else if (s[n])
		return -EINVAL;
	if (v < 0 || v > 1)
		return -EINVAL;
	*p = v;
	return 0;
}

/* "p,r" or "p,r,h,k" (',' ':' or '/' between them). */
static int parse_ge(const char *s, struct params *pr)
{
	char tmp[128], *tok, *save = NULL;
	double v[4] = { 0, 0, 0, 1 };
	int n = 0;

	if (strlen(s) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, s);
	for (tok = strtok_r(tmp, ",:/", &save); tok; tok = strtok_r(NULL, ",:/", &save)) {
		if (n == 4 || parse_prob(tok, &v[n]) < 0)
			return -EINVAL;
		n++;
	}
	if (n != 2 && n != 4)
		return -EINVAL;
	pr->ge_p = v[0];
	pr->ge_r = v[1];
	pr->ge_h = v[2];
	pr->ge_k = v[3];
	return 0;
}

/* Applies one key = value; returns 0, -ENOENT for an unknown key, -EINVAL
 * for a bad value. */
static int param_set(struct params *pr, const char *k, const char *v)
{
	if (!strcmp(k, "rate"))
		return parse_rate(v, &pr->rate);
	if (!strcmp(k, "delay"))
		return parse_time(v, &pr->delay);
	if (!strcmp(k, "jitter"))
		return parse_time(v, &pr->jitter);
	if (!strcmp(k, "queue"))
		return parse_size(v, &pr->queue);
	if (!strcmp(k, "loss"))
		return parse_prob(v, &pr->loss);
	if (!strcmp(k, "dup"))
		return parse_prob(v, &pr->dup);
	if (!strcmp(k, "ge"))
		return parse_ge(v, pr);
	if (!strcmp(k, "reorder")) {
		if (!strcmp(v, "yes"))
			pr->reorder = true;
		else if (!strcmp(v, "no"))
			pr->reorder = false;
		else
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

/* ---- profile files ------------------------------------------------------ */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* "at T blackout D" | "at T rate R [for D]" | "at T delay D [for D]" |
 * "at T loss P [for D]" | "every P blackout D". Returns 0 or -EINVAL. */
static int parse_event(char *line, struct link *l)
{
	char *w[7], *save = NULL;
	int n = 0, r;
	struct ev e = { 0 };
	uint64_t t;

	for (char *tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == 7)
			return -EINVAL;
		w[n++] = tok;
	}
	if (n != 4 && n != 6)
		return -EINVAL;
	if (parse_time(w[1], &t) < 0)
		return -EINVAL;
	if (!strcmp(w[0], "at"))
		e.at = t;
	else if (!strcmp(w[0], "every") && t > 0 && !strcmp(w[2], "blackout") && n == 4)
		e.period = t;
	else
		return -EINVAL;
	if (n == 6) {
		if (strcmp(w[4], "for") || parse_time(w[5], &e.dur) < 0 || e.dur == 0)
			return -EINVAL;
	}
	if (!strcmp(w[2], "blackout")) {
		if (n != 4 || parse_time(w[3], &e.dur) < 0 || e.dur == 0)
			return -EINVAL;
		if (e.period && e.dur >= e.period)
			return -EINVAL;
		e.kind = EV_BLACKOUT;
		r = 0;
	} else if (!strcmp(w[2], "rate")) {
		e.kind = EV_RATE;
		r = parse_rate(w[3], &e.u);
	} else if (!strcmp(w[2], "delay")) {
		e.kind = EV_DELAY;
		r = parse_time(w[3], &e.u);
	} else if (!strcmp(w[2], "loss")) {
		e.kind = EV_LOSS;
		r = parse_prob(w[3], &e.d);
	} else {
		return -EINVAL;
	}
	if (r < 0)
		return -EINVAL;
	if (l->nev == LINKEM_MAX_EVENTS)
		return -EINVAL;
	l->ev[l->nev++] = e;
	return 0;
}

static void load_profile(const char *path, struct link *l)
{
	char line[512];
	int lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		bad("profile %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq, *hash;

		lineno++;
		if (!strchr(line, '\n') && !feof(f))
			bad("%s:%d: line too long", path, lineno);
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		s = trim(line);
		if (!*s)
			continue;
		if (!strncmp(s, "at ", 3) || !strncmp(s, "every ", 6)) {
			if (parse_event(s, l) < 0)
				bad("%s:%d: bad timeline line (at T blackout D | at T rate R|delay D|loss P [for D] | every P blackout D, D < P)",
				    path, lineno);
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			bad("%s:%d: expected key = value", path, lineno);
		*eq = '\0';
		switch (param_set(&l->base, trim(s), trim(eq + 1))) {
		case 0:
			break;
		case -ENOENT:
			bad("%s:%d: unknown key '%s'", path, lineno, trim(s));
		default:
			bad("%s:%d: bad value for %s", path, lineno, trim(s));
		}
	}
	fclose(f);
}

/* ---- LINKSPEC ----------------------------------------------------------- */

static void params_default(struct params *pr)
{
	memset(pr, 0, sizeof(*pr));
	pr->queue = LINKEM_DEF_QUEUE;
	pr->ge_k = 1;
}

/* Splits on ','; a token without '=' continues the previous value, so
 * "ge=0.01,0.3,0,1" keeps its commas. The profile is loaded first, then the
 * other keys override it whatever their order. need_addrs is false for
 * --selftest, which has no sockets. */
static void parse_linkspec(const char *spec, struct link *l, bool need_addrs)
{
	char buf[1024], *keys[32], *vals[32], *tok, *save = NULL;
	char vbuf[32][256];
	int n = 0, i;
	const char *profile = NULL;
	bool have_l = false, have_t = false;

	if (strlen(spec) >= sizeof(buf))
		bad("LINKSPEC too long: %s", spec);
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			if (!n || strlen(vbuf[n - 1]) + strlen(tok) + 2 > sizeof(vbuf[0]))
				bad("LINKSPEC '%s': '%s' is not key=value", spec, tok);
			strcat(vbuf[n - 1], ",");
			strcat(vbuf[n - 1], tok);
			continue;
		}
		if (n == 32)
			bad("LINKSPEC '%s': too many options", spec);
		*eq = '\0';
		keys[n] = tok;
		if (strlen(eq + 1) >= sizeof(vbuf[0]))
			bad("LINKSPEC '%s': value too long", spec);
		strcpy(vbuf[n], eq + 1);
		vals[n] = vbuf[n];
		n++;
	}
	params_default(&l->base);
	for (i = 0; i < n; i++) {
		if (!strcasecmp(keys[i], "listen")) {
			if (addr_parse(vals[i], &l->listen) < 0)
				bad("LINKSPEC '%s': bad LISTEN address '%s'", spec, vals[i]);
			have_l = true;
		} else if (!strcasecmp(keys[i], "target")) {
			if (addr_parse(vals[i], &l->target) < 0 || !l->target.in.sin_port)
				bad("LINKSPEC '%s': bad TARGET address '%s'", spec, vals[i]);
			have_t = true;
		} else if (!strcmp(keys[i], "profile")) {
			profile = vals[i];
		}
	}
	if (need_addrs && (!have_l || !have_t))
		bad("LINKSPEC '%s': needs LISTEN=ADDR and TARGET=ADDR", spec);
	if (profile)
		load_profile(profile, l);
	for (i = 0; i < n; i++) {
		if (!strcasecmp(keys[i], "listen") || !strcasecmp(keys[i], "target") ||
		    !strcmp(keys[i], "profile"))
			continue;
		switch (param_set(&l->base, keys[i], vals[i])) {
		case 0:
			break;
		case -ENOENT:
			bad("LINKSPEC '%s': unknown option '%s'", spec, keys[i]);
		default:
			bad("LINKSPEC '%s': bad value '%s' for %s", spec, vals[i], keys[i]);
		}
	}
	if (l->base.rate && l->base.queue == 0)
		bad("LINKSPEC '%s': queue must be > 0 with a rate", spec);
	addr_format(&l->listen, l->listen_s, sizeof(l->listen_s));
	addr_format(&l->target, l->target_s, sizeof(l->target_s));
}

/* ---- the model ---------------------------------------------------------- */

/* Parameters in force at t (ns since start), the timeline applied in file
 * order so a later line wins and a "for" change falls back when it ends. */
static bool params_at(const struct link *l, uint64_t t, struct params *out)
{
	bool blackout = false;
	int i;

	*out = l->base;
	for (i = 0; i < l->nev; i++) {
		const struct ev *e = &l->ev[i];

		if (e->period) {
			if (t >= e->period && t % e->period < e->dur)
				blackout = true;
			continue;
		}
		if (t < e->at || (e->dur && t >= e->at + e->dur))
			continue;
		switch (e->kind) {
		case EV_BLACKOUT:
			blackout = true;
			break;
		case EV_RATE:
			out->rate = e->u;
			break;
		case EV_DELAY:
			out->delay = e->u;
			break;
		case EV_LOSS:
			out->loss = e->d;
			break;
		}
	}
	return blackout;
}

/* Runs one datagram of len bytes arriving at now (ns since start) through
 * one direction's model. Every arrival draws the same six random numbers
 * whatever happens to it, so the nth datagram's fate depends only on the
 * seed and n, not on timing. */
static void model_admit(const struct link *l, struct dirstate *ds, uint64_t now,
			uint32_t len, struct decision *dc)
{
	struct params p;
	bool blackout = params_at(l, now, &p);
	double u_loss = rng_u01(&ds->rng), u_tr = rng_u01(&ds->rng);
	double u_ge = rng_u01(&ds->rng), u_dup = rng_u01(&ds->rng);
	double u_j[2] = { rng_u01(&ds->rng), rng_u01(&ds->rng) };
	uint64_t depart = now;
	int i;

	dc->copies = 0;
	ds->c.in++;
	/* The Gilbert-Elliott chain steps once per datagram, before the state
	 * decides this datagram's fate. */
	if (p.ge_p > 0) {
		if (ds->ge_bad)
			ds->ge_bad = !(u_tr < p.ge_r);
		else
			ds->ge_bad = u_tr < p.ge_p;
	}
	if (blackout) {
		ds->c.blackout++;
		dc->v = V_BLACKOUT;
		return;
	}
	if (p.rate) {
		uint64_t start = ds->busy_until > now ? ds->busy_until : now;
		double backlog = (double)(start - now) * (double)p.rate / 8e9;
		uint64_t ser = (uint64_t)((double)len * 8e9 / (double)p.rate);

		if (backlog + len > (double)p.queue) {
			ds->c.queue++;
			dc->v = V_QUEUE;
			return;
		}
		ds->busy_until = start + ser;
		depart = ds->busy_until;
	}
	/* Losses happen on the wire: the datagram has used its serialization
	 * time already. */
	if (u_loss < p.loss) {
		ds->c.loss++;
		dc->v = V_LOSS;
		return;
	}
	if (p.ge_p > 0 && u_ge >= (ds->ge_bad ? p.ge_h : p.ge_k)) {
		ds->c.ge++;
		dc->v = V_GE;
		return;
	}
	dc->v = V_DELIVER;
	dc->copies = u_dup < p.dup ? 2 : 1;
	if (dc->copies == 2)
		ds->c.dup++;
	for (i = 0; i < dc->copies; i++) {
		double off = (double)p.delay + (u_j[i] * 2 - 1) * (double)p.jitter;
		uint64_t rel = depart + (off > 0 ? (uint64_t)off : 0);

		if (!p.reorder && rel < ds->last_release)
			rel = ds->last_release;
		ds->last_release = rel;
		dc->release[i] = rel;
	}
}

/* ---- buffer pool and heap ----------------------------------------------- */

static void pool_init(void)
{
	uint8_t *small = calloc(LINKEM_SMALL_COUNT, LINKEM_SMALL_SIZE);
	uint8_t *large = calloc(LINKEM_LARGE_COUNT, LINKEM_MAX_DGRAM + 1);
	uint32_t i;

	heap = calloc(LINKEM_HEAP_CAP, sizeof(*heap));
	if (!small || !large || !heap) {
		fprintf(stderr, "braid-linkem: out of memory for the packet pool\n");
		exit(1);
	}
	for (i = 0; i < LINKEM_SMALL_COUNT; i++) {
		pool[i].data = small + (size_t)i * LINKEM_SMALL_SIZE;
		free_small[nfree_small++] = i;
	}
	for (i = 0; i < LINKEM_LARGE_COUNT; i++) {
		pool[LINKEM_SMALL_COUNT + i].data = large + (size_t)i * (LINKEM_MAX_DGRAM + 1);
		free_large[nfree_large++] = LINKEM_SMALL_COUNT + i;
	}
}

/* Returns a buffer index for len bytes, or -1 when the pool is empty. */
static int64_t pool_get(uint32_t len)
{
	if (len <= LINKEM_SMALL_SIZE && nfree_small)
		return free_small[--nfree_small];
	if (nfree_large)
		return free_large[--nfree_large];
	return -1;
}

static void pool_put(uint32_t i)
{
	if (--pool[i].refs)
		return;
	if (i < LINKEM_SMALL_COUNT)
		free_small[nfree_small++] = i;
	else
		free_large[nfree_large++] = i;
}

static bool hent_less(const struct hent *a, const struct hent *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* Capacity is 2 x the pool and each buffer is pushed at most twice, so a
 * push never finds the heap full. */
static void heap_push(struct hent e)
{
	size_t i = heap_n++;

	e.seq = heap_seq++;
	while (i) {
		size_t p = (i - 1) / 2;

		if (!hent_less(&e, &heap[p]))
			break;
		heap[i] = heap[p];
		i = p;
	}
	heap[i] = e;
}

static struct hent heap_pop(void)
{
	struct hent top = heap[0], last = heap[--heap_n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= heap_n)
			break;
		if (c + 1 < heap_n && hent_less(&heap[c + 1], &heap[c]))
			c++;
		if (!hent_less(&heap[c], &last))
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (heap_n)
		heap[i] = last;
	return top;
}

/* ---- stats -------------------------------------------------------------- */

static void json_dir(FILE *f, const char *name, const struct counters *c)
{
	fprintf(f,
		"\"%s\":{\"in\":%" PRIu64 ",\"out\":%" PRIu64 ",\"loss\":%" PRIu64
		",\"ge_loss\":%" PRIu64 ",\"queue\":%" PRIu64 ",\"blackout\":%" PRIu64
		",\"dup\":%" PRIu64 ",\"pool\":%" PRIu64 ",\"tx_err\":%" PRIu64
		",\"no_client\":%" PRIu64 "}",
		name, c->in, c->out, c->loss, c->ge, c->queue, c->blackout, c->dup,
		c->pool, c->tx_err, c->no_client);
}

static void print_stats(bool final)
{
	int i;

	fprintf(stderr, "{\"t\":%.3f,\"final\":%s,\"links\":[",
		(double)(now_ns() - start_ns) / 1e9, final ? "true" : "false");
	for (i = 0; i < nlinks; i++) {
		fprintf(stderr, "%s{\"listen\":\"%s\",\"target\":\"%s\",", i ? "," : "",
			links[i].listen_s, links[i].target_s);
		json_dir(stderr, "up", &links[i].d[DIR_UP].c);
		fputc(',', stderr);
		json_dir(stderr, "down", &links[i].d[DIR_DOWN].c);
		fputc('}', stderr);
	}
	fputs("]}\n", stderr);
	fflush(stderr);
}

/* ---- sockets and the event loop ----------------------------------------- */

static void set_bufs(int fd)
{
	int v = LINKEM_SOCKBUF;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static void open_link(struct link *l)
{
	l->lfd = socket(l->listen.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	l->tfd = socket(l->target.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->lfd < 0 || l->tfd < 0) {
		fprintf(stderr, "braid-linkem: socket: %s\n", strerror(errno));
		exit(1);
	}
	set_bufs(l->lfd);
	set_bufs(l->tfd);
	if (bind(l->lfd, &l->listen.sa, addr_len(&l->listen)) < 0) {
		fprintf(stderr, "braid-linkem: bind %s: %s\n", l->listen_s, strerror(errno));
		exit(1);
	}
	if (connect(l->tfd, &l->target.sa, addr_len(&l->target)) < 0) {
		fprintf(stderr, "braid-linkem: connect %s: %s\n", l->target_s, strerror(errno));
		exit(1);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Reads up to a batch from one socket and runs each datagram through the
 * model; delivered ones are copied into the pool and scheduled. */
static void rx(int li, int dir)
{
	struct link *l = &links[li];
	struct dirstate *ds = &l->d[dir];
	int fd = dir == DIR_UP ? l->lfd : l->tfd, n;

	for (n = 0; n < LINKEM_RX_BATCH; n++) {
		union braid_addr from;
		socklen_t flen = sizeof(from);
		struct decision dc;
		ssize_t r;
		int64_t b;
		int i;

		r = recvfrom(fd, scratch, sizeof(scratch), MSG_TRUNC, &from.sa, &flen);
		if (r < 0) {
			/* ECONNREFUSED: an ICMP error from the target; nothing to read. */
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			return;
		}
		if (r > LINKEM_MAX_DGRAM)
			continue;	/* cannot happen for UDP; never trust it */
		if (dir == DIR_UP) {
			union braid_addr c;

			if (addr_from_sockaddr(&c, &from.sa, flen) == 0) {
				l->client = c;
				l->have_client = true;
			}
		}
		model_admit(l, ds, now_ns() - start_ns, (uint32_t)r, &dc);
		if (dc.v != V_DELIVER)
			continue;
		b = pool_get((uint32_t)r);
		if (b < 0) {
			ds->c.pool++;
			continue;
		}
		memcpy(pool[b].data, scratch, (size_t)r);
		pool[b].len = (uint32_t)r;
		pool[b].refs = (uint8_t)dc.copies;
		for (i = 0; i < dc.copies; i++)
			heap_push((struct hent){ .t = dc.release[i] + start_ns, .buf = (uint32_t)b,
						 .link = (uint16_t)li, .dir = (uint8_t)dir });
	}
}

/* Sends one due datagram; a link that went dark while it was in flight
 * drops it, as a real one would. Releases the buffer reference. */
static void deliver(const struct hent *e, uint64_t now)
{
	struct link *l = &links[e->link];
	struct dirstate *ds = &l->d[e->dir];
	struct buf *b = &pool[e->buf];
	struct params p;
	ssize_t r;

	if (params_at(l, now - start_ns, &p)) {
		ds->c.blackout++;
	} else if (e->dir == DIR_UP) {
		r = send(l->tfd, b->data, b->len, MSG_DONTWAIT);
		if (r < 0)
			ds->c.tx_err++;
		else
			ds->c.out++;
	} else if (!l->have_client) {
		ds->c.no_client++;
	} else {
		r = sendto(l->lfd, b->data, b->len, MSG_DONTWAIT, &l->client.sa,
			   addr_len(&l->client));
		if (r < 0)
			ds->c.tx_err++;
		else
			ds->c.out++;
	}
	pool_put(e->buf);
}

static int run(uint64_t stats_ns)
{
	struct pollfd pfd[2 * LINKEM_MAX_LINKS];
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, waitmask;
	uint64_t next_stats;
	int i;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Signals are only let in inside ppoll, so a stop request can never
	 * slip between the flag test and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	for (i = 0; i < nlinks; i++) {
		open_link(&links[i]);
		pfd[2 * i] = (struct pollfd){ .fd = links[i].lfd, .events = POLLIN };
		pfd[2 * i + 1] = (struct pollfd){ .fd = links[i].tfd, .events = POLLIN };
	}
	start_ns = now_ns();
	next_stats = stats_ns ? start_ns + stats_ns : UINT64_MAX;

	while (!stop_flag) {
		uint64_t now = now_ns(), wake = next_stats;
		struct timespec ts = { 0, 0 };
		int n;

		while (heap_n && heap[0].t <= now) {
			struct hent e = heap_pop();

			deliver(&e, now);
		}
		if (now >= next_stats) {
			print_stats(false);
			next_stats += stats_ns;
			if (next_stats <= now)
				next_stats = now + stats_ns;
		}
		if (heap_n && heap[0].t < wake)
			wake = heap[0].t;
		/* Sleep until LINKEM_SPIN_NS before the next deadline, then poll
		 * without sleeping until it is due. */
		if (wake == UINT64_MAX) {
			n = ppoll(pfd, (nfds_t)(2 * nlinks), NULL, &waitmask);
		} else {
			uint64_t d = wake > now + LINKEM_SPIN_NS ? wake - now - LINKEM_SPIN_NS : 0;

			ts.tv_sec = (time_t)(d / NS_PER_S);
			ts.tv_nsec = (long)(d % NS_PER_S);
			n = ppoll(pfd, (nfds_t)(2 * nlinks), &ts, &waitmask);
		}
		if (n <= 0)
			continue;
		for (i = 0; i < 2 * nlinks; i++)
			if (pfd[i].revents)
				rx(i / 2, i % 2);
	}
	print_stats(true);
	return 0;
}

/* ---- selftest ----------------------------------------------------------- */

static uint64_t fnv(uint64_t h, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* A fixed synthetic arrival sequence (sizes 64..1463 bytes, gaps 50..290 us)
 * through both directions of one link; the hash covers every verdict and
 * release time, so any change in the decision sequence changes it. */
static int selftest(uint64_t count)
{
	struct link *l = &links[0];
	uint64_t h = 0xcbf29ce484222325ull, t = 0, i;
	int dir;

	for (i = 0; i < count; i++) {
		uint32_t len = 64 + (uint32_t)((i * 7919) % 1400);

		t += 50000 + (i * 104729 % 13) * 20000;
		for (dir = 0; dir < DIR_N; dir++) {
			struct decision dc;
			int k;

			model_admit(l, &l->d[dir], t, len, &dc);
			h = fnv(h, (uint64_t)dc.v);
			for (k = 0; k < dc.copies; k++) {
				h = fnv(h, dc.release[k]);
				l->d[dir].c.out++;
			}
		}
	}
	printf("{\"hash\":\"%016" PRIx64 "\",\"count\":%" PRIu64 ",", h, count);
	json_dir(stdout, "up", &l->d[DIR_UP].c);
	putchar(',');
	json_dir(stdout, "down", &l->d[DIR_DOWN].c);
	puts("}");
	return 0;
}

/* ---- main --------------------------------------------------------------- */

static uint64_t parse_u64_arg(const char *opt, const char *v)
{
	char *end;
	unsigned long long x;

	if (!v)
		bad("%s needs a value", opt);
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || end == v || *end || *v == '-')
		bad("%s: bad number '%s'", opt, v);
	return x;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, stats_ns = 0, count = 100000;
	bool self = false;
	int i, li;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "--seed")) {
			seed = parse_u64_arg(o, argv[++i]);
		} else if (!strcmp(o, "--count")) {
			count = parse_u64_arg(o, argv[++i]);
			if (!count || count > 100000000)
				bad("--count: 1..100000000");
		} else if (!strcmp(o, "--stats-interval")) {
			double s = 0;

			if (!argv[++i] || parse_double(argv[i], &s) != (int)strlen(argv[i]) ||
			    s <= 0 || s > 86400)
				bad("--stats-interval: seconds, > 0");
			stats_ns = (uint64_t)(s * 1e9);
		} else if (!strcmp(o, "--selftest")) {
			self = true;
		} else {
			usage(stderr);
			bad("unknown option %s", o);
		}
	}
	if (i == argc) {
		usage(stderr);
		bad("no LINKSPEC given");
	}
	if (self && argc - i != 1)
		bad("--selftest takes exactly one PARAMS spec");
	if (argc - i > LINKEM_MAX_LINKS)
		bad("at most %d links", LINKEM_MAX_LINKS);
	for (li = 0; i < argc; i++, li++) {
		parse_linkspec(argv[i], &links[li], !self);
		rng_seed(&links[li].d[DIR_UP].rng, seed, li, DIR_UP);
		rng_seed(&links[li].d[DIR_DOWN].rng, seed, li, DIR_DOWN);
	}
	nlinks = li;
	if (self)
		return selftest(count);
	for (i = 0; i < nlinks; i++)
		for (li = 0; li < i; li++)
			if (addr_equal(&links[i].listen, &links[li].listen))
				bad("two links listen on %s", links[i].listen_s);
	pool_init();
	return run(stats_ns);
}
