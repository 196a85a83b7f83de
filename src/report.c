/* Counters as JSON; see report.h. The schema is documented in README.md. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

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
	U(b, replayed); U(b, malformed); U(b, oversize); U(b, no_link); U(b, no_session);
	U(b, tx_nobuf);
	U(b, handshakes);
	U(b, fec_k); U(b, fec_m); U(b, parity_sent); U(b, parity_rx); U(b, fec_recovered);
	U(b, fec_unusable); U(b, nack_sent); U(b, nack_rx); U(b, nack_seqs);
	U(b, retransmitted); U(b, retx_rx); U(b, retx_dup); U(b, fec_early);
	/* Parity and retransmissions, in wire bytes, per wire byte of data. */
	put(&o, "\"overhead\":%.4f},\"links\":[", stat_get(b->data_bytes) ?
	    (double)(stat_get(b->parity_bytes) + stat_get(b->retx_bytes)) /
	    (double)stat_get(b->data_bytes) : 0.0);
	for (unsigned i = 0, n = 0; i < BRAID_MAX_LINKS; i++) {
		const struct braid_link_stats *l = core_link_stats(d->core, i);

		if (!l)
			continue;
		put(&o, "%s{\"name\":\"%s\",\"state\":\"%s\",", n++ ? "," : "",
		    core_link_name(d->core, i), report_link_state((unsigned)stat_get(l->state)));
		U(l, weight); U(l, tx_pkts); U(l, tx_bytes); U(l, rx_pkts); U(l, rx_bytes);
		U(l, tx_data); U(l, rx_data); U(l, rx_seq_lost); U(l, peer_rx_lost);
		U(l, probes_sent); U(l, probes_answered); U(l, rtt_us); U(l, rttvar_us);
		U(l, jitter_us); U(l, loss_ppm); U(l, state_since_ns);
		put(&o, "\"down_events\":%" PRIu64 "}", stat_get(l->down_events));
	}
	put(&o, "],\"workers\":[");
	for (unsigned i = 0; i < d->nworkers; i++) {
		const struct worker_stats *w = braidd_worker_stats(d, i);

		put(&o, "%s{\"id\":%u,", i ? "," : "", i);
		U(w, alloc_bytes); U(w, rx_nobufs); U(w, tx_errors); U(w, ring_full);
		U(w, flows_full);
		put(&o, "\"loops\":%" PRIu64 "}", stat_get(w->loops));
	}
	put(&o, "]}");
	return o.used;
}
