/* braidctl top's model (tools/lib/top.c): the `stats raw` reader, with a table of
 * bad replies, replies with and without the link estimates (an older braidd),
 * and the frames drawn from two replies: rates, the estimates, links that
 * come and go, share bars, widths. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "top.h"

#define BOND "bond time_ns=1000000000 role=edge session=7 app_rx_pkts=10 app_rx_bytes=1000 " \
	"delivered_pkts=9 delivered_bytes=900 lost=1 late=2 duplicates=3 reordered=4 fec_k=8 " \
	"fec_m=2 fec_recovered=5 nack_sent=6 nack_rx=7 retransmitted=8\n"
/* A link line as a braidd before the FEEDBACK estimates wrote it ... */
#define LINK(name) "link " name " tx_bytes=100 rx_bytes=200 tx_pkts=3 rx_pkts=4 rtt_us=25000 " \
	"jitter_us=1500 loss_ppm=20000 weight=5 weight_auto=1 admin_down=0 draining=0 " \
	"state=up down_events=2\n"
/* ... and as braidd writes it now (src/report.c, report_raw). */
#define EST "rate_bps=12500000 owd_rel_us=15000 queue_us=2500 tx_loss_ppm=10000 rx_loss_ppm=500"
#define LINK_EST(name) "link " name " tx_bytes=100 rx_bytes=200 tx_pkts=3 rx_pkts=4 " \
	"rtt_us=25000 jitter_us=1500 loss_ppm=20000 " EST " weight=5 weight_auto=1 admin_down=0 " \
	"draining=0 state=up down_events=2\n"

#define A16 "aaaaaaaaaaaaaaaa"

static struct top_snap snap_a, snap_b;
static char frame[1 << 16];

static int parse_str(const char *text, struct top_snap *s, unsigned *line)
{
	return top_parse(text, strlen(text), s, line);
}

START_TEST(test_parse_ok)
{
	unsigned line;

	ck_assert_int_eq(parse_str(BOND LINK("lte1") LINK("dsl.2"), &snap_a, &line), 0);
	ck_assert_uint_eq(snap_a.time_ns, 1000000000);
	ck_assert_str_eq(snap_a.role, "edge");
	ck_assert_uint_eq(snap_a.session, 7);
	ck_assert_uint_eq(snap_a.delivered_pkts, 9);
	ck_assert_uint_eq(snap_a.lost, 1);
	ck_assert_uint_eq(snap_a.fec_recovered, 5);
	ck_assert_uint_eq(snap_a.nack_sent, 6);
	ck_assert_uint_eq(snap_a.nack_rx, 7);
	ck_assert_uint_eq(snap_a.retransmitted, 8);
	ck_assert_uint_eq(snap_a.nlinks, 2);
	ck_assert_str_eq(snap_a.links[0].name, "lte1");
	ck_assert_str_eq(snap_a.links[1].name, "dsl.2");
	ck_assert_uint_eq(snap_a.links[1].tx_bytes, 100);
	ck_assert_uint_eq(snap_a.links[1].rx_pkts, 4);
	ck_assert_uint_eq(snap_a.links[1].rtt_us, 25000);
	ck_assert_uint_eq(snap_a.links[1].loss_ppm, 20000);
	ck_assert_uint_eq(snap_a.links[1].weight, 5);
	ck_assert(snap_a.links[1].weight_auto);
	ck_assert(!snap_a.links[1].admin_down);
	ck_assert_str_eq(snap_a.links[1].state, "up");
	ck_assert_uint_eq(snap_a.links[1].down_events, 2);
	/* An older braidd: no estimates, and they read 0. */
	ck_assert(!snap_a.links[1].estimates);
	ck_assert_uint_eq(snap_a.links[1].rate_bps, 0);
	ck_assert_uint_eq(snap_a.links[1].queue_us, 0);

	/* Today's braidd: the estimates, each link on its own. */
	ck_assert_int_eq(parse_str(BOND LINK_EST("lte1") LINK("dsl.2"), &snap_a, &line), 0);
	ck_assert_uint_eq(snap_a.nlinks, 2);
	ck_assert(snap_a.links[0].estimates);
	ck_assert_uint_eq(snap_a.links[0].rate_bps, 12500000);
	ck_assert_uint_eq(snap_a.links[0].owd_rel_us, 15000);
	ck_assert_uint_eq(snap_a.links[0].queue_us, 2500);
	ck_assert_uint_eq(snap_a.links[0].tx_loss_ppm, 10000);
	ck_assert_uint_eq(snap_a.links[0].rx_loss_ppm, 500);
	ck_assert_uint_eq(snap_a.links[0].loss_ppm, 20000);
	ck_assert_uint_eq(snap_a.links[0].weight, 5);
	ck_assert_uint_eq(snap_a.links[0].down_events, 2);
	ck_assert(!snap_a.links[1].estimates);
	/* In any order, and after the keys a link line ended in before. */
	ck_assert_int_eq(parse_str(BOND "link a rx_loss_ppm=1 tx_bytes=1 rx_bytes=1 tx_pkts=1 "
				   "rx_pkts=1 rtt_us=1 jitter_us=1 loss_ppm=1 weight=1 "
				   "weight_auto=0 admin_down=0 draining=0 state=up down_events=0 "
				   "queue_us=2 tx_loss_ppm=3 owd_rel_us=4 rate_bps=18446744073709551615\n",
				   &snap_a, &line), 0);
	ck_assert(snap_a.links[0].estimates);
	ck_assert_uint_eq(snap_a.links[0].rate_bps, UINT64_MAX);
	ck_assert_uint_eq(snap_a.links[0].owd_rel_us, 4);
	ck_assert_uint_eq(snap_a.links[0].rx_loss_ppm, 1);

	/* No links; the largest number; keys and lines from a newer braidd. */
	ck_assert_int_eq(parse_str(BOND, &snap_a, &line), 0);
	ck_assert_uint_eq(snap_a.nlinks, 0);
	ck_assert_int_eq(parse_str("bond time_ns=18446744073709551615 role=hub session=0 "
				   "app_rx_pkts=0 app_rx_bytes=0 delivered_pkts=0 "
				   "delivered_bytes=0 lost=0 late=0 duplicates=0 reordered=0 "
				   "fec_k=0 fec_m=0 fec_recovered=0 nack_sent=0 nack_rx=0 "
				   "retransmitted=0 shiny_new=42\nworker 0 loops=5\n", &snap_a,
				   &line), 0);
	ck_assert_uint_eq(snap_a.time_ns, UINT64_MAX);
	ck_assert_str_eq(snap_a.role, "hub");
	/* A word of TOP_WORD_MAX bytes. */
	ck_assert_int_eq(parse_str(BOND "other " A16 A16 A16 A16 "\n", &snap_a, &line), 0);
	/* Lines in any order. */
	ck_assert_int_eq(parse_str(LINK("a") BOND LINK("b"), &snap_a, &line), 0);
	ck_assert_uint_eq(snap_a.nlinks, 2);
}
END_TEST

START_TEST(test_parse_bad)
{
	static const struct {
		const char *text;
		unsigned line;
	} bad[] = {
		{ "", 0 },					/* nothing */
		{ LINK("a"), 0 },				/* no bond line */
		{ "bond time_ns=1\n", 1 },			/* keys missing */
		{ BOND BOND, 2 },				/* bond twice */
		{ BOND "link\n", 2 },				/* no name */
		{ BOND "link a\n", 2 },				/* no keys */
		{ BOND "link a/b tx_bytes=1\n", 2 },		/* not a link name */
		{ BOND "link abcdefghijklmnopqrstuvwxyz012345 tx_bytes=1\n", 2 },
		{ BOND "\n", 2 },				/* an empty line */
		{ "bond  time_ns=1\n", 1 },			/* doubled space */
		{ "bond time_ns=1 \n", 1 },			/* trailing space */
		{ "bond\ttime_ns=1\n", 1 },			/* a tab */
		{ "bond time_ns=1\r\n", 1 },			/* CR */
		{ "bond time_n\xc3\xa4=1\n", 1 },		/* not ASCII */
		{ "bond time_ns\n", 1 },			/* no '=' */
		{ "bond =5\n", 1 },				/* no key */
		{ "bond time_ns=\n", 1 },			/* no value */
		{ "bond time_ns=-1\n", 1 },
		{ "bond time_ns=+1\n", 1 },
		{ "bond time_ns=1x\n", 1 },
		{ "bond time_ns=0x10\n", 1 },
		{ "bond time_ns=18446744073709551616\n", 1 },	/* 2^64 */
		{ "bond time_ns=99999999999999999999\n", 1 },
		{ "bond time_ns=000000000000000000001\n", 1 },	/* 21 digits */
		{ "bond role=EDGE\n", 1 },			/* a word in capitals */
		{ "bond role=edge1\n", 1 },
		{ "bond role=abcdefgh\n", 1 },			/* longer than the field */
		{ BOND "link a weight_auto=2\n", 2 },		/* a flag is 0 or 1 */
		{ BOND "link a weight_auto=01\n", 2 },
		{ BOND "link a state=\n", 2 },
		{ BOND "link a state=abcdefghijklmnop\n", 2 },
		{ BOND "other " A16 A16 A16 A16 "a\n", 2 },	/* a word over TOP_WORD_MAX */
		{ BOND "other\n\n", 3 },			/* unknown line, then empty */
		/* The estimates come all or none, as numbers. */
		{ BOND "link a tx_bytes=1 rx_bytes=1 tx_pkts=1 rx_pkts=1 rtt_us=1 jitter_us=1 "
		  "loss_ppm=1 rate_bps=1 weight=1 weight_auto=0 admin_down=0 draining=0 state=up "
		  "down_events=0\n", 2 },
		{ BOND "link a tx_bytes=1 rx_bytes=1 tx_pkts=1 rx_pkts=1 rtt_us=1 jitter_us=1 "
		  "loss_ppm=1 rate_bps=1 owd_rel_us=1 queue_us=1 tx_loss_ppm=1 weight=1 "
		  "weight_auto=0 admin_down=0 draining=0 state=up down_events=0\n", 2 },
		{ BOND "link a tx_bytes=1 rx_bytes=1 tx_pkts=1 rx_pkts=1 rtt_us=1 jitter_us=1 "
		  "loss_ppm=1 rate_bps=10mbit owd_rel_us=1 queue_us=1 tx_loss_ppm=1 rx_loss_ppm=1 "
		  "weight=1 weight_auto=0 admin_down=0 draining=0 state=up down_events=0\n", 2 },
		{ BOND "link a tx_bytes=1 rx_bytes=1 tx_pkts=1 rx_pkts=1 rtt_us=1 jitter_us=1 "
		  "loss_ppm=1 rate_bps=1 owd_rel_us=-1 queue_us=1 tx_loss_ppm=1 rx_loss_ppm=1 "
		  "weight=1 weight_auto=0 admin_down=0 draining=0 state=up down_events=0\n", 2 },
		/* The estimates are no substitute for the keys every braidd sends. */
		{ BOND "link a " EST "\n", 2 },
	};
	unsigned line;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_str(bad[i].text, &snap_a, &line);

		ck_assert_msg(rc == -EINVAL && line == bad[i].line,
			      "case %zu: '%s' gave %d at line %u", i, bad[i].text, rc, line);
	}
	/* Cut short: a prefix of a good reply is refused unless it ends a line
	 * (after the bond line, it is a good reply of no links). */
	{
		const char *good = BOND LINK_EST("lte1");

		for (size_t n = 0; n < strlen(good); n++) {
			int want = n == strlen(BOND) ? 0 : -EINVAL;

			ck_assert_msg(top_parse(good, n, &snap_a, &line) == want,
				      "prefix of %zu bytes", n);
		}
	}
	/* A NUL is a control byte, not the end. */
	ck_assert_int_eq(top_parse("bond time\0ns=1\n", 15, &snap_a, &line), -EINVAL);
}
END_TEST

START_TEST(test_parse_links_max)
{
	static char text[(TOP_LINKS_MAX + 2) * 256];
	unsigned line;
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, BOND);
	for (unsigned i = 0; i < TOP_LINKS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "link l%u tx_bytes=1 rx_bytes=1 "
				      "tx_pkts=1 rx_pkts=1 rtt_us=1 jitter_us=1 loss_ppm=1 weight=1 "
				      "weight_auto=0 admin_down=0 draining=0 state=up down_events=0\n",
				      i);
	ck_assert_int_eq(top_parse(text, n, &snap_a, &line), 0);
	ck_assert_uint_eq(snap_a.nlinks, TOP_LINKS_MAX);
	n += (size_t)snprintf(text + n, sizeof(text) - n, LINK("onemore"));
	ck_assert_int_eq(top_parse(text, n, &snap_a, &line), -E2BIG);
}
END_TEST

/* The line of frame that starts with "name ", the first (the table's). */
static const char *row(const char *f, const char *name)
{
	size_t k = strlen(name);

	for (const char *l = f; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, k) == 0 && l[k] == ' ')
			return l;
	return NULL;
}

/* Word i (0-based) of the line at l, into w. */
static const char *word(const char *l, unsigned i, char *w, size_t len)
{
	size_t k = 0;

	for (;;) {
		while (*l == ' ')
			l++;
		if (!*l || *l == '\n')
			return "";
		k = strcspn(l, " \n");
		if (i-- == 0)
			break;
		l += k;
	}
	snprintf(w, len, "%.*s", (int)k, l);
	return w;
}

/* The link's second row (the estimates'), after its first (the table's). */
static const char *row2(const char *f, const char *name)
{
	const char *r = row(f, name);

	return r ? row(strchr(r, '\n') + 1, name) : NULL;
}

/* Words first, first + 1, ... of the line at l are those of want, and
 * no more follow. */
static void assert_words(const char *l, unsigned first, const char *want)
{
	char w[64], x[64];
	unsigned i = 0;

	ck_assert_ptr_nonnull(l);
	for (; *word(want, i, x, sizeof(x)); i++)
		ck_assert_msg(strcmp(word(l, first + i, w, sizeof(w)), x) == 0,
			      "word %u: '%s', not '%s', in: %.*s", first + i, w, x,
			      (int)strcspn(l, "\n"), l);
	ck_assert_str_eq(word(l, first + i, w, sizeof(w)), "");
}

static void set_link(struct top_link *l, const char *name, uint64_t tx, uint64_t rx)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->state, sizeof(l->state), "up");
	l->tx_bytes = tx;
	l->rx_bytes = rx;
	l->tx_pkts = tx / 1000;
	l->rx_pkts = rx / 1000;
	l->rtt_us = 12340;
	l->jitter_us = 678;
	l->loss_ppm = 5000;
	l->weight = 3;
	l->estimates = true;
	l->rate_bps = 10000000;
	l->owd_rel_us = 20500;
	l->queue_us = 1250;
	l->tx_loss_ppm = 12345;
	l->rx_loss_ppm = 100;
}

static void two_snaps(void)
{
	memset(&snap_a, 0, sizeof(snap_a));
	memset(&snap_b, 0, sizeof(snap_b));
	snprintf(snap_a.role, sizeof(snap_a.role), "edge");
	snprintf(snap_b.role, sizeof(snap_b.role), "edge");
	snap_a.time_ns = 5000000000ull;
	snap_b.time_ns = 7000000000ull;	/* 2 s later */
	snap_a.delivered_pkts = 100;
	snap_b.delivered_pkts = 2100;	/* 1000/s */
	snap_b.delivered_bytes = 2500000;	/* 10 Mbit/s */
	snap_a.lost = 4;
	snap_b.lost = 10;		/* 3/s */
	/* "same": 3 MB and 1 MB in 2 s: 12 Mbit/s, 1500 pkt/s; 4 Mbit/s, 500 pkt/s. */
	set_link(&snap_a.links[0], "same", 1000000, 2000000);
	set_link(&snap_b.links[0], "same", 4000000, 3000000);
	/* "gone" leaves; "new" comes; "again" was deleted and added: counters back. */
	set_link(&snap_a.links[1], "gone", 0, 0);
	set_link(&snap_a.links[2], "again", 5000000, 5000000);
	set_link(&snap_b.links[1], "new", 9000000, 9000000);
	snap_b.links[1].rate_bps = 0;		/* not measured yet */
	snap_b.links[1].owd_rel_us = 0;
	snap_b.links[1].tx_loss_ppm = 0;
	set_link(&snap_b.links[2], "again", 1000, 1000);
	snap_b.links[2].estimates = false;	/* as from an older braidd */
	/* "slow": 1 MB sent, 3 MB received in 2 s. */
	set_link(&snap_a.links[3], "slow", 0, 0);
	set_link(&snap_b.links[3], "slow", 1000000, 3000000);
	snap_b.links[3].weight_auto = true;
	snap_a.nlinks = 4;
	snap_b.nlinks = 4;
}

START_TEST(test_render_rates)
{
	struct top_view v = { .width = 120, .interval_s = 2 };
	const char *r;
	char w[64];
	size_t n;

	two_snaps();
	n = top_render(&snap_a, &snap_b, &v, frame, sizeof(frame));
	ck_assert_uint_lt(n, sizeof(frame));
	ck_assert_uint_eq(strlen(frame), n);
	ck_assert_msg(strstr(frame, "delivered 1000/s 10.00 Mbit/s"), "%s", frame);
	ck_assert_msg(strstr(frame, "lost 10 (3.0/s)"), "%s", frame);

	/* link state weight txMbit txpkt rxMbit rxpkt rtt jitter loss */
	assert_words(row(frame, "same"), 1, "up 3 12.00 1500 4.00 500 12.34 0.68 0.50");
	r = row(frame, "slow");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(word(r, 3, w, sizeof(w)), "auto");
	ck_assert_str_eq(word(r, 4, w, sizeof(w)), "4.00");

	/* The estimates, a row per link below the table: link capacity owd
	 * queue tx-loss rx-loss. */
	ck_assert_ptr_nonnull(strstr(frame, "\nlink   cap Mbit/s  owd ms  queue ms  tx loss %  "
					    "rx loss %\n"));
	assert_words(row2(frame, "same"), 1, "10.00 20.50 1.25 1.23 0.01");

	/* New, and made again: no rates yet. Gone: not shown. */
	r = row(frame, "new");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(word(r, 3, w, sizeof(w)), "-");
	ck_assert_str_eq(word(r, 6, w, sizeof(w)), "-");
	r = row(frame, "again");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(word(r, 3, w, sizeof(w)), "-");
	ck_assert_ptr_null(row(frame, "gone"));
	/* Capacity unknown: "-", the others as they are. From a braidd without
	 * estimates: "-" for all. */
	assert_words(row2(frame, "new"), 1, "- 0.00 1.25 0.00 0.01");
	assert_words(row2(frame, "again"), 1, "- - - - -");

	/* Shares of what the links with a rate carried: tx 3:1, rx 1:3. */
	r = strstr(frame, "\nsame   tx [");	/* the names' column is "again"'s */
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strstr(r, "]  75%  rx [") && strstr(r, "]  25%\n"), "%s", r);
	r = strstr(frame, "\nslow   tx [");
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strstr(r, "]  25%  rx [") && strstr(r, "]  75%\n"), "%s", r);
	r = strstr(frame, "\nnew    tx [");
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strncmp(strchr(r, ']'), "]    -  rx", 10) == 0, "%s", r);
}
END_TEST

START_TEST(test_render_first)
{
	struct top_view v = { .width = 80, .interval_s = 1, .clock = "12:34:56" };
	const char *r;
	char w[64];

	two_snaps();
	top_render(NULL, &snap_b, &v, frame, sizeof(frame));
	ck_assert_msg(strstr(frame, "delivered -/s - Mbit/s  lost 10  "), "%s", frame);
	ck_assert_ptr_nonnull(strstr(frame, "12:34:56\n"));
	ck_assert_ptr_nonnull(strstr(frame, "braid edge  no session  fec off  4 links, 4 up"));
	r = row(frame, "same");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(word(r, 3, w, sizeof(w)), "-");
	ck_assert_str_eq(word(r, 7, w, sizeof(w)), "12.34");	/* no rate, but an RTT */

	/* The same reply twice, or braidd's clock gone back: no rates either. */
	top_render(&snap_b, &snap_b, &v, frame, sizeof(frame));
	ck_assert_str_eq(word(row(frame, "same"), 3, w, sizeof(w)), "-");
	top_render(&snap_b, &snap_a, &v, frame, sizeof(frame));
	ck_assert_str_eq(word(row(frame, "same"), 3, w, sizeof(w)), "-");
}
END_TEST

/* Two links of one name (one draining, one added again): each matched once,
 * in order. */
START_TEST(test_render_same_name)
{
	struct top_view v = { .width = 100, .interval_s = 1 };
	const char *r;
	char w[64];

	two_snaps();
	set_link(&snap_a.links[0], "x", 0, 0);
	snap_a.nlinks = 1;
	set_link(&snap_b.links[0], "x", 250000, 0);	/* 1 Mbit/s over 2 s */
	snap_b.links[0].draining = true;
	set_link(&snap_b.links[1], "x", 0, 0);
	snap_b.nlinks = 2;
	top_render(&snap_a, &snap_b, &v, frame, sizeof(frame));
	r = row(frame, "x");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(word(r, 1, w, sizeof(w)), "draining");
	ck_assert_str_eq(word(r, 3, w, sizeof(w)), "1.00");
	r = row(strchr(r, '\n') + 1, "x");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(word(r, 3, w, sizeof(w)), "-");
	ck_assert_ptr_nonnull(strstr(frame, "2 links, 1 up"));

	snap_b.links[0].draining = false;
	snap_b.links[0].admin_down = true;
	top_render(&snap_a, &snap_b, &v, frame, sizeof(frame));
	ck_assert_str_eq(word(row(frame, "x"), 1, w, sizeof(w)), "disabled");
}
END_TEST

/* Every line within the width (clamped), and the snprintf contract. */
START_TEST(test_render_width)
{
	static const unsigned widths[] = { 0, 10, TOP_WIDTH_MIN, 79, 80, 200, TOP_WIDTH_MAX,
					   TOP_WIDTH_MAX + 1, 100000 };
	char small[100];

	two_snaps();
	snprintf(snap_b.links[0].name, sizeof(snap_b.links[0].name), "%s",
		 "a_link_with_a_name_of_31_chars_");
	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		struct top_view v = { .width = widths[i], .interval_s = 0.2 };
		unsigned lim = widths[i] < TOP_WIDTH_MIN ? TOP_WIDTH_MIN :
			       widths[i] > TOP_WIDTH_MAX ? TOP_WIDTH_MAX : widths[i];
		size_t n = top_render(&snap_a, &snap_b, &v, frame, sizeof(frame)), lines = 0;

		ck_assert_uint_eq(strlen(frame), n);
		ck_assert(n > 0 && frame[n - 1] == '\n');
		for (const char *l = frame; *l; l = strchr(l, '\n') + 1, lines++)
			ck_assert_msg(strcspn(l, "\n") <= lim, "width %u: line of %zu: %.*s",
				      widths[i], strcspn(l, "\n"), (int)strcspn(l, "\n"), l);
		/* No empty line: frames one after the other are told apart by one. */
		ck_assert_ptr_null(strstr(frame, "\n\n"));
		ck_assert_uint_eq(lines, 3 + 2 + snap_b.nlinks + 2 + snap_b.nlinks + 1 +
				  snap_b.nlinks);
		/* Too small a buffer: cut, NUL-terminated, the same length needed. */
		ck_assert_uint_eq(top_render(&snap_a, &snap_b, &v, small, sizeof(small)), n);
		ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
		ck_assert_uint_eq(top_render(&snap_a, &snap_b, &v, NULL, 0), n);
	}
}
END_TEST

static Suite *top_suite(void)
{
	Suite *s = suite_create("top");
	TCase *tp = tcase_create("parse"), *tr = tcase_create("render");

	tcase_add_test(tp, test_parse_ok);
	tcase_add_test(tp, test_parse_bad);
	tcase_add_test(tp, test_parse_links_max);
	tcase_add_test(tr, test_render_rates);
	tcase_add_test(tr, test_render_first);
	tcase_add_test(tr, test_render_same_name);
	tcase_add_test(tr, test_render_width);
	suite_add_tcase(s, tp);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(top_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
