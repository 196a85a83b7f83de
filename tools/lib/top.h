/* braidctl top's model: reads braidd's `stats raw` replies (src/ctl.h) and
 * draws a frame for people from two of them, rates from their difference.
 * Plain text only: the terminal's escapes are braidctl's business. */
#ifndef BRAID_TOP_H
#define BRAID_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define TOP_LINKS_MAX 64	/* link lines in a reply; braidd has BRAID_MAX_LINKS */
#define TOP_WORD_MAX  64	/* bytes in one word of a reply */
#define TOP_WIDTH_MIN 40	/* columns a frame is drawn for, at least ... */
#define TOP_WIDTH_MAX 300	/* ... and at most */

struct top_link {
	char name[BRAID_NAME_MAX];
	char state[16];			/* report_link_state()'s word */
	uint64_t tx_bytes, rx_bytes, tx_pkts, rx_pkts;
	uint64_t rtt_us, jitter_us, loss_ppm, weight, down_events;
	bool weight_auto, admin_down, draining;
	/* What the peer's FEEDBACK says of the link (include/braid/stats.h);
	 * estimates is false, and they 0, when the reply had none of them (a
	 * braidd from before they were reported). */
	bool estimates;
	uint64_t rate_bps, owd_rel_us, queue_us, tx_loss_ppm, rx_loss_ppm;
};

/* One `stats raw` reply. */
struct top_snap {
	uint64_t time_ns;		/* braidd's monotonic clock when it answered */
	char role[8];
	uint64_t session, app_rx_pkts, app_rx_bytes, delivered_pkts, delivered_bytes;
	uint64_t lost, late, duplicates, reordered, fec_k, fec_m, fec_recovered;
	uint64_t nack_sent, nack_rx, retransmitted;
	unsigned nlinks;
	struct top_link links[TOP_LINKS_MAX];	/* in braidd's order */
};

/* Parses the body of a `stats raw` reply (len bytes; no NUL needed). Every
 * line must end in '\n' and the bond line come once; each bond and link line
 * must have every documented key but the link estimates, which an older
 * braidd does not send (all of them, or the link has none). Keys and line
 * kinds it does not know are skipped, so that braidd may add some. 0,
 * -EINVAL (malformed: *line is its line number, 1-based, or 0 for no bond
 * line) or -E2BIG (more than TOP_LINKS_MAX links). */
int top_parse(const char *body, size_t len, struct top_snap *s, unsigned *line);

struct top_view {
	unsigned width;			/* columns: each line is cut there (clamped to
					 * TOP_WIDTH_MIN..TOP_WIDTH_MAX) */
	double interval_s;		/* shown in the header */
	const char *clock;		/* shown in the header if not NULL */
};

/* Draws the frame for cur into buf, every line ending in '\n' and none
 * empty (an empty line can tell frames in a row apart), with rates
 * over the time since prev (NULL: none yet). Links are matched by name; a
 * link new since prev, or whose counters went back (deleted and added
 * again), shows "-" for its rates. Returns the length, or the length it
 * needed if that is >= len (as snprintf). */
size_t top_render(const struct top_snap *prev, const struct top_snap *cur,
		  const struct top_view *v, char *buf, size_t len);

#endif
