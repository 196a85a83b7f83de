/* braidctl top's model: `stats raw` replies in, frames for people out; see
 * top.h. The reply's format is in src/ctl.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "top.h"

/* --- reading a reply -------------------------------------------------------- */

/* Every byte of a reply is read through this: a cursor that cannot pass len. */
struct rd {
	const char *p;
	size_t len, off;
};

/* The next word: at *w, *n bytes, and *eol if the line ends after it. 0, or
 * -EINVAL for an empty or over-long word, a byte that is not printable
 * ASCII, or the end of the reply before a '\n'. */
static int rd_word(struct rd *r, const char **w, size_t *n, bool *eol)
{
	size_t start = r->off;

	while (r->off < r->len) {
		unsigned char c = (unsigned char)r->p[r->off];

		if (c == ' ' || c == '\n') {
			*n = r->off - start;
			if (*n == 0 || *n > TOP_WORD_MAX)
				return -EINVAL;
			*w = r->p + start;
			*eol = c == '\n';
			r->off++;
			return 0;
		}
		if (c < 0x21 || c > 0x7e)
			return -EINVAL;
		r->off++;
	}
	return -EINVAL;
}

/* A decimal number of 1..20 digits that fits 64 bits. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

enum key_kind { K_NUM, K_FLAG, K_WORD };

struct key {
	const char *name;
	size_t off;		/* in struct top_snap or struct top_link */
	enum key_kind kind;
	size_t size;		/* K_WORD: the field's size, its NUL included */
	bool opt;		/* newer than the first braidd with `stats raw`: such
				 * keys of a line come all together or not at all */
};

#define BN(f) { #f, offsetof(struct top_snap, f), K_NUM, 0 }
static const struct key bond_keys[] = {
	BN(time_ns),
	{ "role", offsetof(struct top_snap, role), K_WORD, sizeof(((struct top_snap *)0)->role) },
	BN(session), BN(app_rx_pkts), BN(app_rx_bytes), BN(delivered_pkts), BN(delivered_bytes),
	BN(lost), BN(late), BN(duplicates), BN(reordered), BN(fec_k), BN(fec_m),
	BN(fec_recovered), BN(nack_sent), BN(nack_rx), BN(retransmitted),
};
#undef BN

#define LN(f) { #f, offsetof(struct top_link, f), K_NUM, 0 }
#define LF(f) { #f, offsetof(struct top_link, f), K_FLAG, 0 }
#define LO(f) { #f, offsetof(struct top_link, f), K_NUM, 0, true }
static const struct key link_keys[] = {
	LN(tx_bytes), LN(rx_bytes), LN(tx_pkts), LN(rx_pkts), LN(rtt_us), LN(jitter_us),
	LN(loss_ppm), LN(weight), LF(weight_auto), LF(admin_down), LF(draining),
	{ "state", offsetof(struct top_link, state), K_WORD, sizeof(((struct top_link *)0)->state) },
	LN(down_events),
	LO(rate_bps), LO(owd_rel_us), LO(queue_us), LO(tx_loss_ppm), LO(rx_loss_ppm),
};
#undef LN
#undef LF
#undef LO

/* A word value: 1 or more lower-case letters, '-' and '_', shorter than size. */
static int parse_word(const char *s, size_t n, char *out, size_t size)
{
	if (n == 0 || n >= size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-' || s[i] == '_'))
			return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* The rest of a line, KEY=VALUE words, into base by keys; every key of keys
 * must come, but the optional ones, which come all or none. *got_opt: they
 * came. */
static int parse_pairs(struct rd *r, bool eol, const struct key *keys, size_t nkeys,
		       void *base, bool *got_opt)
{
	uint64_t seen = 0, opt = 0;

	_Static_assert(sizeof(bond_keys) / sizeof(bond_keys[0]) <= 64, "seen is a uint64_t");
	_Static_assert(sizeof(link_keys) / sizeof(link_keys[0]) <= 64, "seen is a uint64_t");
	while (!eol) {
		const char *w, *eq;
		size_t n, klen;
		int rc = rd_word(r, &w, &n, &eol);

		if (rc < 0)
			return rc;
		eq = memchr(w, '=', n);
		if (!eq || eq == w)
			return -EINVAL;
		klen = (size_t)(eq - w);
		for (size_t k = 0; k < nkeys; k++) {
			char *field = (char *)base + keys[k].off;
			const char *v = eq + 1;
			size_t vlen = n - klen - 1;
			uint64_t num;

			if (strlen(keys[k].name) != klen || memcmp(keys[k].name, w, klen) != 0)
				continue;
			switch (keys[k].kind) {
			case K_NUM:
				if (parse_u64(v, vlen, &num) < 0)
					return -EINVAL;
				memcpy(field, &num, sizeof(num));
				break;
			case K_FLAG:
				if (vlen != 1 || (v[0] != '0' && v[0] != '1'))
					return -EINVAL;
				*(bool *)field = v[0] == '1';
				break;
			case K_WORD:
				if (parse_word(v, vlen, field, keys[k].size) < 0)
					return -EINVAL;
				break;
			}
			seen |= 1ull << k;
			break;
		}
	}
	for (size_t k = 0; k < nkeys; k++)
		opt |= keys[k].opt ? 1ull << k : 0;
	*got_opt = opt && (seen & opt) == opt;
	if ((seen & opt) != 0 && (seen & opt) != opt)
		return -EINVAL;
	return (seen | opt) == (nkeys == 64 ? ~0ull : (1ull << nkeys) - 1) ? 0 : -EINVAL;
}

int top_parse(const char *body, size_t len, struct top_snap *s, unsigned *line)
{
	struct rd r = { body, len, 0 };
	bool have_bond = false, got_opt;

	memset(s, 0, sizeof(*s));
	*line = 0;
	while (r.off < r.len) {
		const char *w;
		size_t n;
		bool eol;
		int rc;

		++*line;
		rc = rd_word(&r, &w, &n, &eol);
		if (rc < 0)
			return rc;
		if (n == 4 && memcmp(w, "bond", 4) == 0) {
			if (have_bond)
				return -EINVAL;
			have_bond = true;
			rc = parse_pairs(&r, eol, bond_keys, sizeof(bond_keys) / sizeof(bond_keys[0]),
					 s, &got_opt);
		} else if (n == 4 && memcmp(w, "link", 4) == 0) {
			struct top_link *l;

			if (s->nlinks == TOP_LINKS_MAX)
				return -E2BIG;
			l = &s->links[s->nlinks];
			if (eol || rd_word(&r, &w, &n, &eol) < 0 || n >= sizeof(l->name))
				return -EINVAL;
			memcpy(l->name, w, n);
			l->name[n] = '\0';
			if (!config_valid_name(l->name))
				return -EINVAL;
			rc = parse_pairs(&r, eol, link_keys, sizeof(link_keys) / sizeof(link_keys[0]),
					 l, &l->estimates);
			s->nlinks++;
		} else {
			/* A kind of line from a newer braidd: skip it, words checked. */
			while (rc == 0 && !eol)
				rc = rd_word(&r, &w, &n, &eol);
		}
		if (rc < 0)
			return rc;
	}
	if (!have_bond) {
		*line = 0;
		return -EINVAL;
	}
	return 0;
}

/* --- drawing a frame ----------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, used;
	unsigned width;
};

/* One line, cut at o->width columns (everything drawn is ASCII). */
static void line(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(struct out *o, const char *fmt, ...)
{
	char l[TOP_WIDTH_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l, sizeof(l), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((unsigned)n > o->width)
		n = (int)o->width;
	/* Trailing blanks would only be erased again; but one stays on a line
	 * cut down to nothing, which must not read as the end of the frame. */
	while (n > 1 && l[n - 1] == ' ')
		n--;
	if (n == 0)
		l[n++] = ' ';
	n = snprintf(o->used < o->len ? o->buf + o->used : NULL,
		     o->used < o->len ? o->len - o->used : 0, "%.*s\n", n, l);
	if (n > 0)
		o->used += (size_t)n;
}

/* Per second, from two readings of a counter dt seconds apart; false if the
 * counter went back (it is not the same counter any more). */
static bool per_s(uint64_t now, uint64_t then, double dt, double *out)
{
	if (dt <= 0 || now < then)
		return false;
	*out = (double)(now - then) / dt;
	return true;
}

/* A rate for people: "-" without one, fewer decimals as it grows. */
static const char *fmt_rate(char *b, size_t n, bool ok, double v)
{
	if (!ok)
		snprintf(b, n, "-");
	else if (v >= 999999.5)
		snprintf(b, n, "%.1fM", v / 1e6);
	else
		snprintf(b, n, "%.*f", v > 0 && v < 9.95 ? 1 : 0, v);
	return b;
}

static const char *fmt_mbit(char *b, size_t n, bool ok, double bytes_per_s)
{
	double v = bytes_per_s * 8 / 1e6;

	if (!ok)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.*f", v < 99.995 ? 2 : v < 999.95 ? 1 : 0, v);
	return b;
}

/* Milliseconds from microseconds, to 4 significant digits or so; "-"
 * without a value. */
static const char *fmt_ms(char *b, size_t n, bool ok, uint64_t us)
{
	double v = (double)us / 1000.0;

	if (!ok)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.*f", v < 99.995 ? 2 : v < 9999.95 ? 1 : 0, v);
	return b;
}

/* A loss in percent from parts per million; "-" without one. */
static const char *fmt_loss(char *b, size_t n, bool ok, uint64_t ppm)
{
	if (!ok)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.2f", (double)ppm / 1e4);
	return b;
}

/* " (N/s)", or nothing without a rate. */
static const char *fmt_paren(char *b, size_t n, bool ok, double v)
{
	char r[32];

	if (!ok)
		b[0] = '\0';
	else
		snprintf(b, n, " (%s/s)", fmt_rate(r, sizeof(r), true, v));
	return b;
}

/* "[####......]": share (0..1) of a bar w wide, or an empty bar without one. */
static const char *fmt_bar(char *b, size_t n, unsigned w, bool ok, double share)
{
	unsigned fill = 0;

	if (n < (size_t)w + 3)
		w = n > 3 ? (unsigned)n - 3 : 0;
	if (ok && share > 0)
		fill = share >= 1 ? w : (unsigned)(share * w + 0.5);
	b[0] = '[';
	memset(b + 1, '#', fill);
	memset(b + 1 + fill, ok ? '.' : ' ', w - fill);
	b[w + 1] = ']';
	b[w + 2] = '\0';
	return b;
}

static const char *fmt_pct(char *b, size_t n, bool ok, double share)
{
	if (!ok)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.0f%%", share * 100);
	return b;
}

/* What a link did since the last frame. */
struct link_rate {
	bool ok;		/* false: the link is new, or was made again */
	double tx_bps, rx_bps, tx_pps, rx_pps;	/* bytes and packets per second */
};

/* The link in prev of the same name that no earlier link took, or NULL. */
static const struct top_link *match(const struct top_snap *prev, const char *name, bool *used)
{
	for (unsigned j = 0; prev && j < prev->nlinks; j++) {
		if (!used[j] && strcmp(prev->links[j].name, name) == 0) {
			used[j] = true;
			return &prev->links[j];
		}
	}
	return NULL;
}

static const char *link_state(const struct top_link *l)
{
	if (l->draining)
		return "draining";
	if (l->admin_down)
		return "disabled";
	return l->state;
}

static void draw_bond(struct out *o, const struct top_snap *prev, const struct top_snap *cur,
		      const struct top_view *v, double dt)
{
	char sess[40], fec[48], t1[32], t2[32], p1[40], p2[40], p3[40];
	unsigned up = 0;
	double dp = 0, db = 0, dl = 0, df = 0, dn = 0;
	bool ok = prev && per_s(cur->delivered_pkts, prev->delivered_pkts, dt, &dp) &&
		  per_s(cur->delivered_bytes, prev->delivered_bytes, dt, &db);
	bool ok_l = prev && per_s(cur->lost, prev->lost, dt, &dl);
	bool ok_f = prev && per_s(cur->fec_recovered, prev->fec_recovered, dt, &df);
	bool ok_n = prev && per_s(cur->nack_sent, prev->nack_sent, dt, &dn);

	for (unsigned i = 0; i < cur->nlinks; i++)
		up += strcmp(link_state(&cur->links[i]), "up") == 0;
	if (cur->session)
		snprintf(sess, sizeof(sess), "session %" PRIu64, cur->session);
	else
		snprintf(sess, sizeof(sess), "no session");
	if (cur->fec_m)
		snprintf(fec, sizeof(fec), "fec %" PRIu64 ":%" PRIu64, cur->fec_k, cur->fec_m);
	else
		snprintf(fec, sizeof(fec), "fec off");
	line(o, "braid %s  %s  %s  %u link%s, %u up  every %g s%s%s", cur->role, sess, fec,
	     cur->nlinks, cur->nlinks == 1 ? "" : "s", up, v->interval_s,
	     v->clock ? "  " : "", v->clock ? v->clock : "");
	line(o, "bond  delivered %s/s %s Mbit/s  lost %" PRIu64 "%s  late %" PRIu64
	     "  reordered %" PRIu64, fmt_rate(t1, sizeof(t1), ok, dp),
	     fmt_mbit(t2, sizeof(t2), ok, db), cur->lost, fmt_paren(p1, sizeof(p1), ok_l, dl),
	     cur->late, cur->reordered);
	line(o, "      fec rebuilt %" PRIu64 "%s  nacks sent %" PRIu64 "%s, received %" PRIu64
	     "  retransmitted %" PRIu64, cur->fec_recovered, fmt_paren(p2, sizeof(p2), ok_f, df),
	     cur->nack_sent, fmt_paren(p3, sizeof(p3), ok_n, dn), cur->nack_rx,
	     cur->retransmitted);
}

/* A link's row of the table: state, weight, what it carried each way,
 * RTT, jitter, the loss estimate from probes and data. */
static void draw_link(struct out *o, const struct top_link *l, const struct link_rate *r,
		      int nw)
{
	char wt[32], a[32], b[32], c[32], d[32], rtt[32], jit[32], loss[32];

	snprintf(wt, sizeof(wt), "%" PRIu64 "%s", l->weight, l->weight_auto ? " auto" : "");
	line(o, "%-*s %-8s %-8s  %7s %6s  %7s %6s  %6s %6s %6s", nw, l->name, link_state(l), wt,
	     fmt_mbit(a, sizeof(a), r->ok, r->tx_bps), fmt_rate(b, sizeof(b), r->ok, r->tx_pps),
	     fmt_mbit(c, sizeof(c), r->ok, r->rx_bps), fmt_rate(d, sizeof(d), r->ok, r->rx_pps),
	     fmt_ms(rtt, sizeof(rtt), true, l->rtt_us), fmt_ms(jit, sizeof(jit), true, l->jitter_us),
	     fmt_loss(loss, sizeof(loss), true, l->loss_ppm));
}

/* A link's row of the estimates from the peer's FEEDBACK, the scheduler's
 * inputs: capacity (- while unknown), one-way delay above the fastest
 * link's, standing queue, DATA and PARITY lost each way; all - from a braidd
 * that does not report them. A table of its own, so that the frame keeps
 * to 80 columns. */
static void draw_estimates(struct out *o, const struct top_link *l, int nw)
{
	char cap[32], owd[32], q[32], tl[32], rl[32];
	bool e = l->estimates;

	line(o, "%-*s  %10s  %6s  %8s  %9s  %9s", nw, l->name,
	     fmt_mbit(cap, sizeof(cap), e && l->rate_bps, (double)l->rate_bps / 8),
	     fmt_ms(owd, sizeof(owd), e, l->owd_rel_us), fmt_ms(q, sizeof(q), e, l->queue_us),
	     fmt_loss(tl, sizeof(tl), e, l->tx_loss_ppm), fmt_loss(rl, sizeof(rl), e, l->rx_loss_ppm));
}

size_t top_render(const struct top_snap *prev, const struct top_snap *cur,
		  const struct top_view *v, char *buf, size_t len)
{
	static const struct link_rate none;
	struct out o = { buf, len, 0, v->width };
	struct link_rate rate[TOP_LINKS_MAX];
	bool used[TOP_LINKS_MAX] = { false };
	double dt = 0, tx_sum = 0, rx_sum = 0;
	int nw = 4;		/* the name column */
	unsigned bw;		/* each bar's inside */

	if (len)
		buf[0] = '\0';
	if (o.width < TOP_WIDTH_MIN)
		o.width = TOP_WIDTH_MIN;
	if (o.width > TOP_WIDTH_MAX)
		o.width = TOP_WIDTH_MAX;
	if (prev && cur->time_ns > prev->time_ns)
		dt = (double)(cur->time_ns - prev->time_ns) / 1e9;
	else
		prev = NULL;	/* another braidd, or the same reply twice: no rates */

	for (unsigned i = 0; i < cur->nlinks; i++) {
		const struct top_link *l = &cur->links[i];
		const struct top_link *p = match(prev, l->name, used);
		struct link_rate *r = &rate[i];

		*r = none;
		r->ok = p && per_s(l->tx_bytes, p->tx_bytes, dt, &r->tx_bps) &&
			per_s(l->rx_bytes, p->rx_bytes, dt, &r->rx_bps) &&
			per_s(l->tx_pkts, p->tx_pkts, dt, &r->tx_pps) &&
			per_s(l->rx_pkts, p->rx_pkts, dt, &r->rx_pps);
		if (r->ok) {
			tx_sum += r->tx_bps;
			rx_sum += r->rx_bps;
		}
		if ((int)strlen(l->name) > nw)
			nw = (int)strlen(l->name);
	}

	draw_bond(&o, prev, cur, v, dt);
	line(&o, "%*s  %-14s  %-14s", nw + 18, "", "----- tx -----", "----- rx -----");
	line(&o, "%-*s %-8s %-8s  %7s %6s  %7s %6s  %6s %6s %6s", nw, "link", "state", "weight",
	     "Mbit/s", "pkt/s", "Mbit/s", "pkt/s", "rtt ms", "jit ms", "loss %");
	for (unsigned i = 0; i < cur->nlinks; i++)
		draw_link(&o, &cur->links[i], &rate[i], nw);

	line(&o, "%s", "the peer's feedback: capacity, delay above the fastest link's, queue, loss");
	line(&o, "%-*s  %10s  %6s  %8s  %9s  %9s", nw, "link", "cap Mbit/s", "owd ms", "queue ms",
	     "tx loss %", "rx loss %");
	for (unsigned i = 0; i < cur->nlinks; i++)
		draw_estimates(&o, &cur->links[i], nw);

	/* Each link's share of what the links carried, as bars filling the width. */
	bw = o.width > (unsigned)nw + 24 + 8 ? (o.width - (unsigned)nw - 24) / 2 : 4;
	if (bw > 60)
		bw = 60;
	line(&o, "%s", "each link's share of the bytes on all links since the last frame");
	for (unsigned i = 0; i < cur->nlinks; i++) {
		const struct link_rate *r = &rate[i];
		bool ok_t = r->ok && tx_sum > 0, ok_r = r->ok && rx_sum > 0;
		double st = ok_t ? r->tx_bps / tx_sum : 0, sr = ok_r ? r->rx_bps / rx_sum : 0;
		char bt[TOP_WIDTH_MAX], br[TOP_WIDTH_MAX], pt[16], pr[16];

		line(&o, "%-*s  tx %s %4s  rx %s %4s", nw, cur->links[i].name,
		     fmt_bar(bt, sizeof(bt), bw, r->ok, st), fmt_pct(pt, sizeof(pt), ok_t, st),
		     fmt_bar(br, sizeof(br), bw, r->ok, sr), fmt_pct(pr, sizeof(pr), ok_r, sr));
	}
	return o.used;
}
