/* Per-link estimates: what the receiver measures on each
 * link, the FEEDBACK that carries it back (wire.h), and what the sender
 * keeps of it, for the scheduler that predicts each packet's arrival.
 *
 * Receiver (struct est_rx, one a link): every DATA, PARITY and PROBE that
 * arrives goes to est_rx_sample with the sender's timestamp. Transit =
 * arrival - tx_us holds the two clocks' offset, the same on every link, so
 * the difference of two links' windowed transit minima is the difference of
 * their one-way delays, whatever the offset. When est_rx_due says so for
 * any link, est_rx_report fills one FEEDBACK for all of them.
 *
 * Sender (struct est_tx, one a link): each FEEDBACK entry goes to
 * est_tx_feedback for the link it names; the accessors give the capacity
 * (biased low), the relative delay, the standing queue and the loss of our
 * sends as the peer counted it.
 *
 * Pure: no I/O, no clock reads, no allocation, no locks; every time is
 * passed in as nanoseconds of the caller's monotonic clock (the receiver's
 * on the receiving side, the sender's on the sending side). A zeroed struct
 * (est_rx_init, est_tx_init) is the state before any packet; the core
 * starts each session with fresh ones, since the counters and the peer's
 * clock start over. */
#ifndef BRAID_ESTIMATE_H
#define BRAID_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>

#include "braid/wire.h"

#define EST_NS_PER_MS        1000000ull
#define EST_NS_PER_S         1000000000ull

/* How long a transit minimum, and a capacity maximum, is remembered. Long
 * enough to see a link empty its queue now and then, short enough that
 * clock drift (100 ppm: 1 ms in 10 s) and a change of route or capacity
 * show within seconds. */
#define EST_MIN_WIN_NS       (10 * EST_NS_PER_S)
#define EST_RATE_WIN_NS      (10 * EST_NS_PER_S)
/* A report is due this long after the first packet since the last one. */
#define EST_REPORT_NS        (15 * EST_NS_PER_MS)
/* A rate needs this many packets over at least this span, and at least
 * EST_RATE_JITTER_SPANS times the link's jitter; a link too quiet (or too
 * jittery) to have them within EST_RATE_IV_MAX_NS gives no rate. */
#define EST_RATE_MIN_PKTS    4
#define EST_RATE_MIN_SPAN_NS (1 * EST_NS_PER_MS)
#define EST_RATE_JITTER_SPANS 32
#define EST_RATE_IV_MAX_NS   (250 * EST_NS_PER_MS)
/* The least queueing that counts as "every packet waited": this, or
 * EST_QUEUED_JITTERS times the link's jitter (see estimate.c). */
#define EST_QUEUED_MIN_US    1000
#define EST_QUEUED_JITTERS   4
/* Delay figures older than this are stale (est_tx_delay_valid). */
#define EST_STALE_NS         (1 * EST_NS_PER_S)
/* The loss estimate averages over about this many packets, or more where
 * loss is rare: enough to hold EST_LOSS_EVENTS losses, up to
 * EST_LOSS_HORIZON_MAX packets (see est_loss_update). */
#define EST_LOSS_HORIZON     4096u
#define EST_LOSS_EVENTS      100u
#define EST_LOSS_HORIZON_MAX 65536u

/* A windowed minimum or maximum: the best of the samples of the last
 * window, from three kept samples (Kathleen Nichols' filter, as BBR uses
 * it). Private to estimate.c. */
struct est_win {
	struct est_win_sample {
		int64_t v;
		uint64_t t;
	} s[3];
	bool have;
};

/* A loss rate from cumulative counts of packets received and lost (as the
 * core keeps per link and PROBE and FEEDBACK carry). */
struct est_loss {
	bool have;
	uint32_t pkts, lost;	/* the counts at the last update */
	uint32_t seen;		/* packets averaged so far, up to the horizon */
	uint64_t ppb;		/* the estimate, in parts per 10^9 */
};

struct est_rx {
	bool have;		/* a sample came */
	uint32_t t_last;	/* its transit as on the wire, us */
	int64_t t_unw;		/* ... unwrapped: consecutive samples never jump 2^32 */
	uint64_t last_ns;	/* its arrival */
	uint64_t jit_q4;	/* RFC 3550 interarrival jitter, us * 16 */
	struct est_win tmin;	/* windowed minimum of t_unw */

	/* Since the last report: for the delay figures, and when it is due. */
	uint32_t dv_pkts;
	uint64_t dv_first_ns;
	int64_t dv_tmin;
	uint32_t dv_tx_us;	/* newest (latest sent) tx_us */

	/* The rate's interval: closed by a report only once it gives a rate
	 * (or is too old to), so a link carrying a few packets per report
	 * still gets one. */
	uint32_t rv_pkts;
	uint64_t rv_bytes;	/* after the first packet */
	uint64_t rv_first_ns, rv_last_ns;
	uint32_t rv_first_tx_us, rv_last_tx_us;
	int64_t rv_tmin;
	uint32_t rv_tmin_bytes;	/* the length of the packet with rv_tmin */

	struct est_loss loss;	/* the peer's sends on this link, as we saw them */
};

struct est_tx {
	struct est_win cap;	/* maximum of the rate samples, bytes/s */
	bool delay_have;
	uint32_t owd_rel_us, queue_us;
	uint32_t delay_tx_us;	/* the tx_us the delays refer to */
	uint64_t delay_at;	/* when they came */
	struct est_loss loss;	/* our sends on this link, as the peer saw them */
};

/* One link in a report: its receiver state and the core's cumulative
 * DATA+PARITY counts for it (what PROBE carries as rx_pkts, rx_lost). */
struct est_rx_link {
	struct est_rx *rx;
	uint8_t link_id;	/* < WIRE_FEEDBACK_MAX */
	uint32_t rx_pkts;
	uint32_t rx_lost;
};

/* --- receiver ------------------------------------------------------------- */

void est_rx_init(struct est_rx *e);
/* A DATA, PARITY or PROBE arrived on the link at now_ns (our clock),
 * bytes long (the datagram as sent: what the sender charges the link for
 * it), sent at tx_us of the sender's clock (a PROBE: its tx_ns / 1000,
 * truncated to 32 bits). Times are expected in arrival order. */
void est_rx_sample(struct est_rx *e, uint64_t now_ns, uint32_t tx_us, uint32_t bytes);
/* True when the link has had packets since the last report and the first
 * of them came EST_REPORT_NS ago or more: the core then reports every link
 * (est_rx_report). Never true for a link that has had no packet since. */
bool est_rx_due(const struct est_rx *e, uint64_t now_ns);
/* Fills fb with one entry for each of links[0..n) (up to
 * WIRE_FEEDBACK_MAX; a link id out of range or listed again is skipped),
 * closes each link's interval and updates its receive loss estimate from
 * the counts given. Each entry:
 *  - DELAY, tx_us and the delays if the link had packets since the last
 *    report: owd_rel_us above the smallest transit minimum among the listed
 *    links that had a packet within EST_MIN_WIN_NS; queue_us, the smallest
 *    transit since the last report above the link's minimum (which, made of
 *    probes, leaves in it a data packet's serialization: bytes / rate);
 *  - a rate once the rate's interval has EST_RATE_MIN_PKTS packets over a
 *    span long enough for the link's jitter (that interval may run over
 *    several reports), and QUEUED if every packet of it waited;
 *  - the counts.
 * Returns fb->count, 0 if there is nothing to send. What it writes is what
 * wire_parse_feedback takes. */
unsigned est_rx_report(struct wire_feedback *fb, const struct est_rx_link *links,
		       unsigned n, uint64_t now_ns);
/* The peer's DATA+PARITY lost on this link as we saw it, in ppm, from the
 * counts est_rx_report was given. */
uint32_t est_rx_loss_ppm(const struct est_rx *e);

/* --- sender --------------------------------------------------------------- */

void est_tx_init(struct est_tx *e);
/* One FEEDBACK entry about this link (the caller picks e by entry->link_id)
 * arrived at now_ns (our clock). An entry older than one already taken
 * (by its tx_us) does not replace the delays, nor its counts the loss's. */
void est_tx_feedback(struct est_tx *e, const struct wire_feedback_entry *entry,
		     uint64_t now_ns);
/* The link's capacity in bytes per second, 7/8 of the largest QUEUED rate
 * in the last EST_RATE_WIN_NS (or of a larger rate the link carried since);
 * 0 if it never queued: unknown, at least what it carries. */
uint32_t est_tx_rate_Bps(const struct est_tx *e);
/* Whether the delay figures below came within EST_STALE_NS of now_ns. The
 * accessors give the latest figures (0 before any) whether or not: a
 * stale figure is the caller's to distrust. */
bool est_tx_delay_valid(const struct est_tx *e, uint64_t now_ns);
/* The link's one-way delay above the fastest reported link's. */
uint64_t est_tx_owd_rel_ns(const struct est_tx *e);
/* The link's standing queue, as the receiver last saw it. */
uint64_t est_tx_queue_ns(const struct est_tx *e);
/* The tx_us (our clock, microseconds, truncated) they refer to. */
uint32_t est_tx_delay_tx_us(const struct est_tx *e);
/* Our DATA+PARITY lost on this link as the peer counted it, in ppm. */
uint32_t est_tx_loss_ppm(const struct est_tx *e);
/* True once a report gave the loss. */
bool est_tx_loss_valid(const struct est_tx *e);

/* --- loss, from cumulative counts ---------------------------------------- */

/* Takes the counts now (rx_pkts received and rx_lost lost, both cumulative
 * and wrapping): the packets since the last call are one sample, weighted
 * by its packet count against the horizon (the plain average until that
 * many have come). Counts that went backwards (an older report) are
 * ignored. */
void est_loss_update(struct est_loss *l, uint32_t rx_pkts, uint32_t rx_lost);
uint32_t est_loss_ppm(const struct est_loss *l);

#endif
