/* Counters as JSON; see report.h. The schema is documented in README.md. */
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "alloc.h"
#include "braid/stats.h"
#include "report.h"

struct out {
	char *buf;
	size_t len, used;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->used < o->len ? o->buf + o->used : NULL,
		      o->used < o->len ? o->len - o->used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n;
}

const char *report_link_state(unsigned state)
{
	switch (state) {
	case LINK_DOWN:
		return "down";
	case LINK_PROBING:
		return "probing";
	case LINK_UP:
		return "up";
	}
	return "unknown";
}

#define U(s, f) put(&o, "\"" #f "\":%" PRIu64 ",", stat_get((s)->f))

/* Parity and retransmissions, in wire bytes, per wire byte of first-time
 * data; 0 before any data. */
static double overhead_ratio(const struct braid_bond_stats *b)
{
	uint64_t data = stat_get(b->data_bytes);

	return data ? (double)(stat_get(b->parity_bytes) + stat_get(b->retx_bytes)) /
		      (double)data : 0.0;
}

/* A prefilter drop cause summed over the workers; cause PF_CAUSES: the
 * datagrams dropped for their link's share of the ring (share_full). */
static uint64_t prefilter_total(const struct braidd *d, unsigned cause)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < d->nworkers; i++) {
		const struct worker_stats *w = braidd_worker_stats(d, i);

		if (w)
			sum += cause < PF_CAUSES ? stat_get(w->pf_drops[cause]) :
			       stat_get(w->share_full);
	}
	return sum;
}

size_t report_json(const struct braidd *d, char *buf, size_t len)
{
	const struct braid_bond_stats *b = core_bond_stats(d->core);
	struct out o = { buf, len, 0 };
	struct timespec now;

	if (len)
		buf[0] = 0;
	clock_gettime(CLOCK_REALTIME, &now);
	put(&o, "{\"role\":\"%s\",\"time\":%lld.%03ld,\"ready\":%s,\"session\":%" PRIu64
	    ",\"bond\":{", d->cfg.role == ROLE_EDGE ? "edge" : "hub", (long long)now.tv_sec,
	    now.tv_nsec / 1000000, stat_get(b->session) ? "true" : "false", stat_get(b->session));
	U(b, app_rx_pkts); U(b, app_rx_bytes); U(b, delivered_pkts); U(b, delivered_bytes);
	U(b, lost); U(b, duplicates); U(b, reordered); U(b, late); U(b, auth_fail);
	U(b, replayed); U(b, wrong_link); U(b, hs_cookie); U(b, hs_ratelimited); U(b, malformed);
	U(b, oversize);
	U(b, no_link); U(b, no_session);
	U(b, tx_nobuf);
	U(b, handshakes);
	U(b, fec_k); U(b, fec_m); U(b, parity_sent); U(b, parity_rx); U(b, fec_recovered);
	U(b, fec_unusable); U(b, nack_sent); U(b, nack_rx); U(b, nack_seqs);
	U(b, retransmitted); U(b, retx_rx); U(b, retx_dup); U(b, fec_early);
	U(b, feedback_sent); U(b, feedback_rx);
	put(&o, "\"overhead\":%.4f},\"links\":[", overhead_ratio(b));
	for (unsigned i = 0, n = 0; i < BRAID_MAX_LINKS; i++) {
		const struct braid_link_stats *l = braidd_link_stats(d, i, NULL);

		if (!l)
			continue;
		put(&o, "%s{\"name\":\"%s\",\"id\":%u,\"state\":\"%s\",", n++ ? "," : "",
		    braidd_link_name(d, i), i, report_link_state((unsigned)stat_get(l->state)));
		U(l, weight); U(l, weight_auto); U(l, admin_down); U(l, draining); U(l, tx_pkts); U(l, tx_bytes); U(l, rx_pkts); U(l, rx_bytes);
		U(l, tx_data); U(l, rx_data); U(l, rx_seq_lost); U(l, peer_rx_lost);
		U(l, probes_sent); U(l, probes_answered); U(l, rtt_us); U(l, rttvar_us);
		U(l, jitter_us); U(l, loss_ppm); U(l, rate_bps); U(l, owd_rel_us); U(l, queue_us);
		U(l, tx_loss_ppm); U(l, rx_loss_ppm); U(l, state_since_ns);
		put(&o, "\"down_events\":%" PRIu64 "}", stat_get(l->down_events));
	}
	put(&o, "],\"workers\":[");
	for (unsigned i = 0; i < d->nworkers; i++) {
		const struct worker_stats *w = braidd_worker_stats(d, i);

		put(&o, "%s{\"id\":%u,", i ? "," : "", i);
		U(w, alloc_bytes); U(w, rx_nobufs); U(w, tx_errors); U(w, ring_full);
		U(w, flows_full); U(w, flow_stale);
		for (unsigned c = PF_PASS + 1; c < PF_CAUSES; c++)
			put(&o, "\"pf_%s\":%" PRIu64 ",", prefilter_cause_name(c),
			    stat_get(w->pf_drops[c]));
		U(w, share_full);
		put(&o, "\"loops\":%" PRIu64 "}", stat_get(w->loops));
	}
	put(&o, "],\"prefilter\":{");
	for (unsigned c = PF_PASS + 1; c < PF_CAUSES; c++)
		put(&o, "\"%s\":%" PRIu64 ",", prefilter_cause_name(c), prefilter_total(d, c));
	put(&o, "\"share_full\":%" PRIu64 "}", prefilter_total(d, PF_CAUSES));
	if (d->td) {
		const struct tcpdest_stats *t = &d->td->stats;
		uint64_t err = stat_get(t->last_error);

		put(&o, ",\"tcp\":{\"kind\":\"%s\",\"state\":\"%s\",\"last_error\":\"%s\",",
		    config_dest_scheme(d->cfg.dest_kind),
		    tcpdest_state_name((enum tcpdest_state)stat_get(t->state)),
		    err ? strerror((int)err) : "");
		U(t, state_since_ns); U(t, connects); U(t, established); U(t, disconnects);
		U(t, msgs_out); U(t, bytes_out); U(t, msgs_in); U(t, bytes_in);
		U(t, dropped_down); U(t, dropped_full); U(t, dropped_oversize);
		U(t, dropped_queued); U(t, oversize_in);
		U(t, retransmits); U(t, rto_timeouts); U(t, fast_retransmits); U(t, dup_acks);
		U(t, bad_csum); U(t, malformed); U(t, out_of_order); U(t, arp_requests_out);
		U(t, arp_replies_in); U(t, rx_frames); U(t, tx_frames);
		put(&o, "\"tx_nombuf\":%" PRIu64 "}", stat_get(t->tx_nombuf));
	}
	put(&o, "}");
	return o.used;
}

/* --- Prometheus --------------------------------------------------------------- */

/* A counter of a stats struct: where it is, and its metric name and help. */
struct counter_def {
	size_t off;
	const char *name, *help;
};

static const struct counter_def bond_counters[] = {
#define BC(f, n, h) { offsetof(struct braid_bond_stats, f), n, h }
	BC(app_rx_pkts, "app_rx_packets", "Datagrams taken from the application side"),
	BC(app_rx_bytes, "app_rx_bytes", "Bytes of datagrams taken from the application side"),
	BC(delivered_pkts, "delivered_packets", "Datagrams handed to the application side"),
	BC(delivered_bytes, "delivered_bytes", "Bytes of datagrams handed to the application side"),
	BC(lost, "lost_packets", "Sequence numbers given up on"),
	BC(duplicates, "duplicate_packets", "Extra copies dropped"),
	BC(reordered, "reordered_packets", "Datagrams delivered after waiting for a gap"),
	BC(late, "late_packets", "Datagrams that arrived after their gap was given up on"),
	BC(auth_fail, "auth_fail_packets", "Packets that failed authentication"),
	BC(replayed, "replayed_packets", "Packets refused as replays"),
	BC(wrong_link, "wrong_link_packets", "Packets refused for arriving on another link than sent on"),
	BC(hs_cookie, "hs_cookie_packets",
	   "Handshake inits without a valid cookie, answered with one and not taken"),
	BC(hs_ratelimited, "hs_ratelimited_packets",
	   "Handshake answers refused because the source's rate limit was spent"),
	BC(malformed, "malformed_packets", "Packets that failed parsing"),
	BC(oversize, "oversize_packets", "Datagrams too large to carry"),
	BC(no_link, "no_link_packets", "Datagrams dropped for want of a link"),
	BC(no_session, "no_session_packets", "Packets for no or another session"),
	BC(tx_nobuf, "tx_nobuf_packets", "Datagrams dropped for want of a send buffer"),
	BC(handshakes, "handshakes", "Sessions established"),
	BC(parity_sent, "parity_sent_packets", "FEC parity packets sent"),
	BC(parity_rx, "parity_received_packets", "FEC parity packets received"),
	BC(fec_recovered, "fec_recovered_packets", "Datagrams rebuilt from parity"),
	BC(fec_early, "fec_early_packets", "Originals that came after FEC rebuilt them"),
	BC(fec_unusable, "fec_unusable_packets", "Parity packets that could not be used"),
	BC(nack_sent, "nack_sent_packets", "NACK packets sent"),
	BC(nack_rx, "nack_received_packets", "NACK packets received"),
	BC(nack_seqs, "nack_requested_packets", "Sequence numbers asked for in NACKs"),
	BC(retransmitted, "retransmitted_packets", "Datagrams sent again for a NACK"),
	BC(retx_rx, "retransmission_received_packets", "Retransmissions received"),
	BC(retx_dup, "retransmission_needless_packets", "Retransmissions that were not needed"),
	BC(feedback_sent, "feedback_sent_packets", "FEEDBACK packets sent"),
	BC(feedback_rx, "feedback_received_packets", "FEEDBACK packets received"),
#undef BC
};

static const struct counter_def link_counters[] = {
#define LC(f, n, h) { offsetof(struct braid_link_stats, f), n, h }
	LC(tx_pkts, "link_tx_packets", "Tunnel packets sent on the link"),
	LC(tx_bytes, "link_tx_bytes", "Tunnel bytes sent on the link"),
	LC(rx_pkts, "link_rx_packets", "Authenticated tunnel packets received on the link"),
	LC(rx_bytes, "link_rx_bytes", "Authenticated tunnel bytes received on the link"),
	LC(tx_data, "link_tx_data_packets", "DATA and PARITY packets sent on the link"),
	LC(rx_data, "link_rx_data_packets", "DATA and PARITY packets received on the link"),
	LC(rx_seq_lost, "link_rx_lost_packets", "Gaps in the link's sequence we saw"),
	LC(peer_rx_lost, "link_peer_lost_packets", "Losses the peer reports on our sends"),
	LC(probes_sent, "link_probes_sent", "Probes sent"),
	LC(probes_answered, "link_probes_answered", "Probes answered"),
	LC(down_events, "link_down_events", "Times the link left the schedule"),
#undef LC
};

/* A link gauge: where it is, and what to divide it by for the metric's unit
 * (1: a whole number, written as one). */
static const struct gauge_def {
	size_t off;
	uint64_t div;
	const char *name, *help;
} link_gauges[] = {
#define LG(f, div, n, h) { offsetof(struct braid_link_stats, f), div, n, h }
	LG(weight, 1, "link_weight", "The link's weight"),
	LG(rtt_us, 1000000, "link_rtt_seconds", "Smoothed probe round trip"),
	LG(rttvar_us, 1000000, "link_rttvar_seconds", "Round-trip variation"),
	LG(jitter_us, 1000000, "link_jitter_seconds", "RFC 3550 interarrival jitter, our receive side"),
	LG(loss_ppm, 1000000, "link_loss_ratio",
	   "Loss estimate from probes unanswered and DATA the peer reports lost"),
	/* From the peer's FEEDBACK, as the scheduler takes them. */
	LG(rate_bps, 1, "link_rate_bits_per_second",
	   "Capacity estimate from the peer's reports, capped by the link's rate (0: unknown)"),
	LG(owd_rel_us, 1000000, "link_delay_relative_seconds",
	   "One-way delay above the fastest link's"),
	LG(queue_us, 1000000, "link_queue_seconds", "Standing queue the peer saw on the link"),
	LG(tx_loss_ppm, 1000000, "link_tx_loss_ratio",
	   "Share of our DATA and PARITY on the link that the peer lost"),
	LG(rx_loss_ppm, 1000000, "link_rx_loss_ratio",
	   "Share of the peer's DATA and PARITY on the link that we lost"),
#undef LG
};

static uint64_t field(const void *base, size_t off)
{
	return stat_get(*(const uint64_t *)((const char *)base + off));
}

#define TC(f, name, help) { offsetof(struct tcpdest_stats, f), name, help }
static const struct counter_def tcp_counters[] = {
	TC(connects, "destination_connects", "Connections to the TCP destination started"),
	TC(established, "destination_established", "Connections to the TCP destination made"),
	TC(disconnects, "destination_disconnects", "Established connections lost"),
	TC(msgs_out, "destination_sent_messages", "Datagrams queued for the TCP destination"),
	TC(msgs_in, "destination_received_messages", "Messages from the TCP destination"),
	TC(dropped_down, "destination_dropped_down_messages",
	   "Datagrams dropped while no connection was up"),
	TC(dropped_full, "destination_dropped_full_messages",
	   "Datagrams dropped because the queue to the destination was full"),
	TC(dropped_queued, "destination_dropped_queued_bytes",
	   "Queued bytes not yet sent when a connection was lost"),
	TC(retransmits, "destination_retransmitted_segments",
	   "TCP segments sent again (dpdk-tcp only)"),
};

enum worker_counter { FLOWS_FULL, FLOW_STALE };

/* A worker counter over all workers. */
static uint64_t workers_sum(const struct braidd *d, enum worker_counter c)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < d->nworkers; i++) {
		const struct worker_stats *w = braidd_worker_stats(d, i);

		if (w)
			sum += c == FLOWS_FULL ? stat_get(w->flows_full) : stat_get(w->flow_stale);
	}
	return sum;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP braid_%s %s\n# TYPE braid_%s %s\n", name, help, name, type);
}

/* A family with a series per link, of the link stats field at off divided
 * by div. */
static void link_family(struct out *o, const struct braidd *d, const char *name,
			const char *type, const char *help, size_t off, uint64_t div)
{
	family(o, name, type, help);
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct braid_link_stats *l = braidd_link_stats(d, id, NULL);

		if (!l)
			continue;
		if (div == 1)
			put(o, "braid_%s{link=\"%s\"} %" PRIu64 "\n", name, braidd_link_name(d, id),
			    field(l, off));
		else
			put(o, "braid_%s{link=\"%s\"} %.6g\n", name, braidd_link_name(d, id),
			    (double)field(l, off) / (double)div);
	}
}

size_t report_prometheus(const struct braidd *d, char *buf, size_t len)
{
	const struct braid_bond_stats *b = core_bond_stats(d->core);
	struct out o = { buf, len, 0 };
	uint64_t alloc, resident;

	if (len)
		buf[0] = 0;
	family(&o, "info", "gauge", "braidd: its role; always 1");
	put(&o, "braid_info{role=\"%s\"} 1\n", d->cfg.role == ROLE_EDGE ? "edge" : "hub");
	family(&o, "ready", "gauge", "1 while a session is established");
	put(&o, "braid_ready %d\n", stat_get(b->session) ? 1 : 0);
	for (size_t i = 0; i < sizeof(bond_counters) / sizeof(bond_counters[0]); i++) {
		char name[96];

		snprintf(name, sizeof(name), "%s_total", bond_counters[i].name);
		family(&o, name, "counter", bond_counters[i].help);
		put(&o, "braid_%s %" PRIu64 "\n", name, field(b, bond_counters[i].off));
	}
	family(&o, "fec_k", "gauge", "Data packets per FEC block being sent (0: FEC off)");
	put(&o, "braid_fec_k %" PRIu64 "\n", stat_get(b->fec_k));
	family(&o, "fec_m", "gauge", "Parity packets per FEC block being sent");
	put(&o, "braid_fec_m %" PRIu64 "\n", stat_get(b->fec_m));
	family(&o, "overhead_ratio", "gauge",
	       "Wire bytes of parity and retransmissions per wire byte of first-time data");
	put(&o, "braid_overhead_ratio %.6f\n", overhead_ratio(b));

	for (size_t i = 0; i < sizeof(link_counters) / sizeof(link_counters[0]); i++) {
		char name[96];

		snprintf(name, sizeof(name), "%s_total", link_counters[i].name);
		link_family(&o, d, name, "counter", link_counters[i].help, link_counters[i].off, 1);
	}
	family(&o, "link_up", "gauge", "1 if the link is in the schedule");
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct braid_link_stats *l = braidd_link_stats(d, id, NULL);

		if (l)
			put(&o, "braid_link_up{link=\"%s\"} %d\n", braidd_link_name(d, id),
			    stat_get(l->state) == LINK_UP);
	}
	for (size_t g = 0; g < sizeof(link_gauges) / sizeof(link_gauges[0]); g++)
		link_family(&o, d, link_gauges[g].name, "gauge", link_gauges[g].help,
			    link_gauges[g].off, link_gauges[g].div);
	family(&o, "flows_full_packets_total", "counter",
	       "Datagrams dropped: no flow id free for a new application sender");
	put(&o, "braid_flows_full_packets_total %" PRIu64 "\n", workers_sum(d, FLOWS_FULL));
	family(&o, "flow_stale_packets_total", "counter",
	       "Replies dropped: for a flow whose slot has passed to another sender");
	put(&o, "braid_flow_stale_packets_total %" PRIu64 "\n", workers_sum(d, FLOW_STALE));
	family(&o, "prefilter_dropped_packets_total", "counter",
	       "Link datagrams the workers dropped before the core, by cause");
	for (unsigned c = PF_PASS + 1; c < PF_CAUSES; c++)
		put(&o, "braid_prefilter_dropped_packets_total{cause=\"%s\"} %" PRIu64 "\n",
		    prefilter_cause_name(c), prefilter_total(d, c));
	family(&o, "ring_share_full_packets_total", "counter",
	       "Link datagrams dropped because their link held its share of the ring to worker 0");
	put(&o, "braid_ring_share_full_packets_total %" PRIu64 "\n", prefilter_total(d, PF_CAUSES));
	if (d->td) {
		const struct tcpdest_stats *t = &d->td->stats;

		family(&o, "destination_up", "gauge",
		       "1 while the connection to the TCP destination is established");
		put(&o, "braid_destination_up %d\n", stat_get(t->state) == TD_UP);
		for (size_t i = 0; i < sizeof(tcp_counters) / sizeof(tcp_counters[0]); i++) {
			char name[96];

			snprintf(name, sizeof(name), "%s_total", tcp_counters[i].name);
			family(&o, name, "counter", tcp_counters[i].help);
			put(&o, "braid_%s %" PRIu64 "\n", name, field(t, tcp_counters[i].off));
		}
	}
	if (alloc_process_bytes(&alloc, &resident)) {
		family(&o, "jemalloc_allocated_bytes", "gauge", "Bytes allocated (jemalloc)");
		put(&o, "braid_jemalloc_allocated_bytes %" PRIu64 "\n", alloc);
		family(&o, "jemalloc_resident_bytes", "gauge", "Bytes resident (jemalloc)");
		put(&o, "braid_jemalloc_resident_bytes %" PRIu64 "\n", resident);
	}
	return o.used;
}

/* --- for people --------------------------------------------------------------- */

/* A capacity in Mbit/s for people, "-" while unknown. */
static const char *fmt_cap(char *b, size_t n, uint64_t bps)
{
	if (bps)
		snprintf(b, n, "%.2f", (double)bps / 1e6);
	else
		snprintf(b, n, "-");
	return b;
}

size_t report_links(const struct braidd *d, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	if (len)
		buf[0] = 0;
	/* p+d_loss is the probe and data estimate weight = auto uses; tx_ and
	 * rx_loss, DATA and PARITY lost each way, from FEEDBACK. */
	put(&o, "%-16s %2s %-8s %9s %8s %9s %10s %7s %8s %10s %9s %9s %5s\n", "link", "id",
	    "state", "weight", "rtt_ms", "jitter_ms", "cap_Mbit/s", "owd_ms", "queue_ms",
	    "p+d_loss_%", "tx_loss_%", "rx_loss_%", "downs");
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct braid_link_stats *l = braidd_link_stats(d, id, NULL);
		char w[16], cap[32];

		if (!l)
			continue;
		/* auto shows the weight it chose; `state` says why a link is
		 * out of the schedule when we took it out. */
		snprintf(w, sizeof(w), stat_get(l->weight_auto) ? "auto:%" PRIu64 : "%" PRIu64,
			 stat_get(l->weight));
		put(&o, "%-16s %2u %-8s %9s %8.2f %9.2f %10s %7.2f %8.2f %10.3f %9.3f %9.3f %5"
		    PRIu64 "\n", braidd_link_name(d, id), id,
		    stat_get(l->draining) ? "draining" : stat_get(l->admin_down) ? "disabled" :
		    report_link_state((unsigned)stat_get(l->state)),
		    w, (double)stat_get(l->rtt_us) / 1000.0, (double)stat_get(l->jitter_us) / 1000.0,
		    fmt_cap(cap, sizeof(cap), stat_get(l->rate_bps)),
		    (double)stat_get(l->owd_rel_us) / 1000.0, (double)stat_get(l->queue_us) / 1000.0,
		    (double)stat_get(l->loss_ppm) / 1e4, (double)stat_get(l->tx_loss_ppm) / 1e4,
		    (double)stat_get(l->rx_loss_ppm) / 1e4, stat_get(l->down_events));
	}
	return o.used;
}

size_t report_text(const struct braidd *d, char *buf, size_t len)
{
	const struct braid_bond_stats *b = core_bond_stats(d->core);
	struct out o = { buf, len, 0 };
	size_t n;

	if (len)
		buf[0] = 0;
	put(&o, "bond: %s, session %" PRIu64 " (%s), fec %" PRIu64 ":%" PRIu64 "\n",
	    d->cfg.role == ROLE_EDGE ? "edge" : "hub", stat_get(b->session),
	    stat_get(b->session) ? "ready" : "not ready", stat_get(b->fec_k), stat_get(b->fec_m));
	put(&o, "  in from app %" PRIu64 "  delivered %" PRIu64 "  lost %" PRIu64
	    "  late %" PRIu64 "  duplicates %" PRIu64 "  reordered %" PRIu64 "\n",
	    stat_get(b->app_rx_pkts), stat_get(b->delivered_pkts), stat_get(b->lost),
	    stat_get(b->late), stat_get(b->duplicates), stat_get(b->reordered));
	put(&o, "  fec rebuilt %" PRIu64 "  nacks sent %" PRIu64 "  retransmitted %" PRIu64
	    "  bad input %" PRIu64 "  wrong link %" PRIu64 "\n", stat_get(b->fec_recovered),
	    stat_get(b->nack_sent), stat_get(b->retransmitted),
	    stat_get(b->auth_fail) + stat_get(b->replayed) + stat_get(b->wrong_link) +
	    stat_get(b->malformed) + stat_get(b->oversize), stat_get(b->wrong_link));
	put(&o, "  feedback sent %" PRIu64 "  received %" PRIu64 "\n", stat_get(b->feedback_sent),
	    stat_get(b->feedback_rx));
	put(&o, "  flows: no slot free %" PRIu64 "  stale replies dropped %" PRIu64 "\n",
	    workers_sum(d, FLOWS_FULL), workers_sum(d, FLOW_STALE));
	put(&o, "  prefilter dropped: version %" PRIu64 "  type %" PRIu64 "  length %" PRIu64
	    "  session %" PRIu64 "  share full %" PRIu64 "\n", prefilter_total(d, PF_VERSION),
	    prefilter_total(d, PF_TYPE), prefilter_total(d, PF_LENGTH),
	    prefilter_total(d, PF_SESSION), prefilter_total(d, PF_CAUSES));
	put(&o, "  handshakes %" PRIu64 "  inits asked for a cookie %" PRIu64
	    "  handshake answers refused over the rate %" PRIu64 "\n",
	    stat_get(b->handshakes), stat_get(b->hs_cookie), stat_get(b->hs_ratelimited));
	if (d->td) {
		const struct tcpdest_stats *t = &d->td->stats;
		char a[ADDR_STRLEN];

		addr_format(&d->cfg.app_dest, a, sizeof(a));
		put(&o, "  destination %s://%s %s  sent %" PRIu64 "  received %" PRIu64
		    "  dropped while down %" PRIu64 "  reconnects %" PRIu64 "\n",
		    config_dest_scheme(d->cfg.dest_kind), a,
		    tcpdest_state_name((enum tcpdest_state)stat_get(t->state)),
		    stat_get(t->msgs_out), stat_get(t->msgs_in), stat_get(t->dropped_down),
		    stat_get(t->established) ? stat_get(t->established) - 1 : 0);
	}
	n = report_links(d, o.used < len ? buf + o.used : NULL, o.used < len ? len - o.used : 0);
	o.used += n;
	return o.used;
}

/* --- for programs ------------------------------------------------------------- */

size_t report_raw(const struct braidd *d, char *buf, size_t len)
{
	const struct braid_bond_stats *b = core_bond_stats(d->core);
	struct out o = { buf, len, 0 };

	if (len)
		buf[0] = 0;
	put(&o, "bond time_ns=%" PRIu64 " role=%s session=%" PRIu64 " app_rx_pkts=%" PRIu64
	    " app_rx_bytes=%" PRIu64 " delivered_pkts=%" PRIu64 " delivered_bytes=%" PRIu64
	    " lost=%" PRIu64 " late=%" PRIu64 " duplicates=%" PRIu64 " reordered=%" PRIu64
	    " fec_k=%" PRIu64 " fec_m=%" PRIu64 " fec_recovered=%" PRIu64 " nack_sent=%" PRIu64
	    " nack_rx=%" PRIu64 " retransmitted=%" PRIu64 "\n", braidd_now_ns(),
	    d->cfg.role == ROLE_EDGE ? "edge" : "hub", stat_get(b->session),
	    stat_get(b->app_rx_pkts), stat_get(b->app_rx_bytes), stat_get(b->delivered_pkts),
	    stat_get(b->delivered_bytes), stat_get(b->lost), stat_get(b->late),
	    stat_get(b->duplicates), stat_get(b->reordered), stat_get(b->fec_k),
	    stat_get(b->fec_m), stat_get(b->fec_recovered), stat_get(b->nack_sent),
	    stat_get(b->nack_rx), stat_get(b->retransmitted));
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		const struct braid_link_stats *l = braidd_link_stats(d, id, NULL);

		if (!l)
			continue;
		put(&o, "link %s tx_bytes=%" PRIu64 " rx_bytes=%" PRIu64 " tx_pkts=%" PRIu64
		    " rx_pkts=%" PRIu64 " rtt_us=%" PRIu64 " jitter_us=%" PRIu64 " loss_ppm=%" PRIu64
		    " rate_bps=%" PRIu64 " owd_rel_us=%" PRIu64 " queue_us=%" PRIu64
		    " tx_loss_ppm=%" PRIu64 " rx_loss_ppm=%" PRIu64
		    " weight=%" PRIu64 " weight_auto=%d admin_down=%d draining=%d state=%s"
		    " down_events=%" PRIu64 "\n", braidd_link_name(d, id),
		    stat_get(l->tx_bytes), stat_get(l->rx_bytes), stat_get(l->tx_pkts),
		    stat_get(l->rx_pkts), stat_get(l->rtt_us), stat_get(l->jitter_us),
		    stat_get(l->loss_ppm), stat_get(l->rate_bps), stat_get(l->owd_rel_us),
		    stat_get(l->queue_us), stat_get(l->tx_loss_ppm), stat_get(l->rx_loss_ppm),
		    stat_get(l->weight), stat_get(l->weight_auto) != 0,
		    stat_get(l->admin_down) != 0, stat_get(l->draining) != 0,
		    report_link_state((unsigned)stat_get(l->state)), stat_get(l->down_events));
	}
	return o.used;
}
