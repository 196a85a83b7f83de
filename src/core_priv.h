/* What the files of the bond's protocol core (core.h) share, and nothing
 * outside them sees: the state of a core and of its links, and the
 * functions one file calls in another. The core is split along its
 * concepts, a file each:
 *
 *   core.c       creating and destroying a core, and what it tells of itself
 *   handshake.c  the handshake: the edge's inits and retries, the hub's
 *                cookies and answers, and the session either end installs
 *   send.c       sealing and sending packets: DATA, FEC parity, and the
 *                application's datagrams onto the links
 *   receive.c    a link's packet opened, checked and handed on by type; data
 *                and parity through loss recovery into the reorder buffer
 *   horizon.c    when a gap is given up on: the horizon and its grace
 *   nack.c       NACKs: asking for what is missing, answering the peer's asks
 *   link.c       link state, weight = auto, links added, deleted and taken
 *                out of service, and the BYE that tells the peer
 *   feedback.c   what each link shows the receiver (estimate.h), reported back,
 *                and the scheduler's delays and rates taken from the reports
 *   probe.c      probes, and what they and the data tell of each link: round
 *                trip, loss, jitter
 *   timers.c     core_tick: what falls due with time
 *
 * A function is declared here only if another of these files calls it;
 * its comment stays with its definition. */
#ifndef BRAID_CORE_PRIV_H
#define BRAID_CORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "braid/sched.h"
#include "braid/stats.h"
#include "braid/wire.h"
#include "cookie.h"
#include "core.h"
#include "estimate.h"
#include "prefilter.h"
#include "ratelimit.h"
#include "replay.h"

/* Bytes a DATA packet adds around the application's datagram. */
#define DATA_OVERHEAD (WIRE_OUTER_LEN + WIRE_DATA_HDR_LEN + WIRE_TAG_LEN)
#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull
/* Probes remembered per link for loss accounting (power of two). */
#define PROBE_RING 16
/* Retransmitted seqs remembered to account for their late originals. */
#define RETX_TOOK 1024
/* Sequence numbers waiting to be asked for (power of two). */
#define NACK_QUEUE 256
/* How many times a missing datagram is asked for, an answer time apart,
 * while an answer can still arrive within the budget (the peer answers each
 * ask: RETX_MAX in recover.c is the same number). */
#define NACK_ASKS 3
#define NACK_FEC_CHK 8
#define NACK_EARLY 64

_Static_assert(BRAID_MAX_LINKS <= REPLAY_LINKS, "every link id fits in a counter");

struct core_link {
	bool present;
	bool has_remote;
	char name[BRAID_NAME_MAX];
	struct core_path path;		/* where packets for this link go */
	enum link_state state;

	/* Taken out of service here (core_link_set_admin), or deleted and
	 * draining until drain_until (core_link_drain): no data, probes or
	 * answers go out on it, but what arrives is still taken. peer_bye:
	 * when the peer said it took the link out of service; answers to our
	 * probes sent before then do not bring the link back. */
	bool admin_down;
	bool draining;
	bool weight_auto;		/* weight set by auto_weights() */
	uint64_t rate_cfg;		/* rate = ...: bytes/s, 0 = auto */
	uint64_t drain_until;
	uint64_t peer_bye;

	uint32_t tx_seq;		/* per-link sequence of our DATA */

	/* Receive side, for the peer's view of this link (sent in probes). A
	 * gap in the per-link sequence counts as lost only once 64 newer
	 * packets have arrived: reordering within a link is not loss, and the
	 * count only ever grows, so the peer can take differences of it. */
	bool rx_any;
	uint32_t rx_seq_max;		/* highest per-link sequence seen */
	uint64_t rx_window;		/* bit i: rx_seq_max - i arrived */
	uint32_t rx_lost;		/* per-link sequence numbers lost */
	uint32_t rx_mark_seq;		/* rx_seq_max at the last report (link_rx_age) */
	uint64_t rx_mark_at;		/* ... and when (0: none yet) */
	uint32_t rx_data;
	bool jit_have;
	int64_t jit_prev_transit;	/* us */
	/* The highest bond sequence this link has delivered this session and
	 * when it came (rx_bond_at 0: nothing yet), how many DATA packets came,
	 * and the longest a packet arrived after a later-sent one on this same
	 * link (reordering inside the link): see set_horizon. */
	uint32_t rx_bond_max;
	uint64_t rx_bond_at;
	uint32_t rx_bond_n;
	uint64_t rx_reorder_ns;
	uint64_t rx_first_at;		/* first DATA from this link this session */
	/* When the peer may have started sending on this link though it has
	 * delivered nothing yet this session: it came UP here, or we answered
	 * its probe (it comes UP at the peer once the answer lands). */
	uint64_t fresh_at;
	uint64_t rx_data_at;		/* last DATA from this link */
	uint64_t rx_gap_ns;		/* EWMA of the time between them (1/8) */
	int64_t transit_min, transit_max;	/* us, this session (jit_have) */
	uint64_t jit_q4;		/* jitter in us, scaled by 16 (RFC 3550) */

	/* Probes we send, and what the answers tell. The last PROBE_RING
	 * probes are remembered so a probe counts as lost only once its answer
	 * is overdue for this link's round trip, not merely when the next
	 * probe leaves (which on a link slower than the probe interval would
	 * call every probe lost). */
	uint32_t probe_seq;
	struct {
		uint32_t seq;
		uint64_t sent;
		bool judged;	/* answered, or counted lost */
	} probe_ring[PROBE_RING];
	unsigned probe_ring_next;	/* where the next probe sampled goes */
	uint64_t next_probe;
	uint64_t probe_at;		/* when the last probe left */
	/* Last heard from the peer on this link: a probe answer or handshake
	 * answer, or, while the link is up, DATA or PARITY (see
	 * link_rx_account). The link leaves the schedule when this is older
	 * than dead_after_ns(). */
	uint64_t last_reply;
	bool have_rtt;
	uint64_t srtt_ns, rttvar_ns;
	uint32_t peer_rx_prev, peer_lost_prev;
	bool peer_have;
	/* Loss on this link: our DATA the peer reports lost, and our probes
	 * unanswered, as one estimate (see on_probe_reply). iv_probe_*:
	 * probes judged since the last update. */
	uint64_t loss_ppm;
	uint32_t iv_probe_ok, iv_probe_lost;

	/* Edge: the cookie the hub last gave this link's address, and when. */
	bool cookie_have;
	uint64_t cookie_at;
	uint8_t cookie[WIRE_HS_COOKIE_LEN];

	/* What the peer's packets on this link show (our end of its
	 * reports), and what its reports say of our sends (feedback.c). */
	struct est_rx erx;
	struct est_tx etx;

	struct braid_link_stats st;
};


struct nack_ring {
	struct {
		uint32_t seq;
		uint32_t asks;		/* times asked for already */
		uint64_t due;
	} e[NACK_QUEUE];
	unsigned head, len;
};

struct core {
	struct core_params p;
	struct core_io io;
	struct sched sched;
	struct reorder *ro;
	struct recover *rec;

	/* NACKs: sequence numbers the horizon passed while missing, each
	 * asked for when its grace is up (due) if an answer can still arrive
	 * within the budget (nackq[0]), and again, up to NACK_ASKS times in
	 * all, each time it is still missing an answer time later (nackq[1]).
	 * Each ring's dues rise (nearly), so each is read from its head.
	 * nack_from is where the next scan starts. */
	struct nack_ring nackq[2];
	uint32_t nack_from;
	bool nack_from_set;
	/* FEC blocks whose parity came but cannot rebuild them: checked
	 * once the rest of their parity had time to come (at), and what they
	 * still lack then is asked for at once (nack_fec_block), not when
	 * the horizon passes; nack_early keeps those seqs (plus one, by seq
	 * % NACK_EARLY) so that the horizon's scan does not ask again. */
	struct { uint32_t first; uint64_t at; } fec_chk[NACK_FEC_CHK];
	uint32_t nack_early[NACK_EARLY];
	struct core_link link[BRAID_MAX_LINKS];
	uint8_t hs_key[BRAID_KEY_LEN];

	/* The established session. The hub sends nothing under a new
	 * session until a packet under it authenticates, so its data cannot
	 * overtake the HS_RESP that gives the edge the keys. */
	bool ready;
	bool confirmed;
	uint32_t session;
	uint8_t tx_key[BRAID_KEY_LEN];
	uint8_t rx_key[BRAID_KEY_LEN];
	/* Each link numbers its packets apart (replay.h): tx_counter[id] is
	 * link id's last outer counter, rx_win[id] the window over the
	 * peer's on it. Both last the session, not the link: a link deleted
	 * and added again must neither reuse a nonce nor take a replay of
	 * what it carried before. */
	uint64_t tx_counter[BRAID_MAX_LINKS];
	struct replay rx_win[BRAID_MAX_LINKS];
	struct replay_links replay;		/* over rx_win */
	uint32_t bond_seq;

	/* Edge: the handshake in progress. Each retry takes a new nonce, so
	 * nothing the hub remembers can refuse it for good; a cookie may
	 * answer the previous one (hs_prev) as well, in flight when the
	 * retry left. */
	bool hs_pending;
	uint32_t hs_session;
	uint8_t hs_nonce[WIRE_HS_NONCE_LEN];
	uint8_t hs_prev[WIRE_HS_NONCE_LEN];
	bool hs_have_prev;
	unsigned hs_tries;		/* inits sent with this session id */
	uint64_t hs_next;		/* next HS_INIT (re)send */
	uint64_t all_down_since;

	/* Hub: cookies and the init nonces taken (cookie.h), so an init
	 * makes state only when its sender receives at its address and only
	 * once; per-source buckets on every handshake answer; the nonces of
	 * the session in force, to answer late copies of its init alike. A
	 * new init makes a pending session, with keys of its own, and the
	 * session in force goes on until a packet authenticates under the
	 * pending one: an init replayed by a stranger (after a hub restart,
	 * say) never displaces a working session, nor points a link at the
	 * stranger. */
	struct cookie_hub ck;
	struct ratelimit rl;
	uint8_t init_nonce[WIRE_HS_NONCE_LEN];
	uint8_t hub_nonce[WIRE_HS_NONCE_LEN];
	struct {
		bool on;
		uint32_t session;
		uint8_t init_nonce[WIRE_HS_NONCE_LEN];
		uint8_t hub_nonce[WIRE_HS_NONCE_LEN];
		uint8_t tx_key[BRAID_KEY_LEN];
		uint8_t rx_key[BRAID_KEY_LEN];
	} pend;

	uint64_t now;
	uint64_t wake;			/* when core_tick next has work */
	uint64_t data_since;		/* first DATA received this session (0: none) */
	/* The application's datagrams: when the last came, and the mean gap
	 * between them (an EWMA of 1/8, each gap capped at a quarter of the
	 * budget; 0 until two came), from which fec = auto sizes its blocks. */
	uint64_t app_last_at, app_gap_ns;
	/* The peer's FEC blocks: k_used of the last whose parity came, and
	 * when (the horizon holds a gap back that many packets for its
	 * parity); 0 if none did this session. */
	unsigned fec_rx_k;
	uint64_t fec_rx_at;
	/* Seqs (plus one; 0 is empty) a retransmission brought, so that an
	 * original arriving after it counts as a needless retransmission. */
	uint32_t retx_took[RETX_TOOK];
	struct braid_bond_stats st;
	/* The sessions taken, for the workers' prefilter (publish_sessions). */
	struct prefilter_view pf;
	/* FEEDBACK: the last report sent, and whether DATA or PARITY came
	 * since (feedback.c). */
	uint64_t fb_last;
	bool fb_data;
};

/* DATA packets a link delivers before what it showed of its order is used
 * to give up on gaps early (set_horizon). */
#define HORIZON_WARMUP 64

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* handshake.c */
uint64_t hs_retry_ns(const struct core *c, unsigned n);
void send_hs_init(struct core *c);
void edge_hs_nonce(struct core *c);
void edge_start_handshake(struct core *c);
void hub_on_init(struct core *c, unsigned id, const struct core_path *path,
		 const struct wire_outer *o, uint8_t *pkt, size_t len);
void hub_promote(struct core *c);
void edge_on_resp(struct core *c, unsigned id, const struct wire_outer *o,
		  const uint8_t *pkt, size_t len);
void edge_on_cookie(struct core *c, unsigned id, const struct wire_outer *o,
		    const uint8_t *pkt, size_t len);

/* send.c */
uint8_t *pkt_alloc(struct core *c, unsigned id);
void pkt_send(struct core *c, unsigned id, uint8_t *buf, size_t len,
	      const struct core_path *path);
void pkt_seal_send(struct core *c, unsigned id, uint8_t *buf, uint8_t type,
		   size_t plain_len, const struct core_path *path);
bool send_data(struct core *c, unsigned id, uint32_t seq, uint16_t flow,
	       const uint8_t *data, size_t len, uint8_t flags);
unsigned fastest_link(const struct core *c, unsigned fallback);
unsigned earliest_link(const struct core *c, size_t len, unsigned fallback);
void fec_close(struct core *c);
uint64_t fec_deadline(const struct core *c);

/* receive.c */
void sync_reorder_stats(struct core *c);
unsigned fec_rx_wait_k(const struct core *c);
void on_deliver(void *ctx, uint16_t flow, const uint8_t *data, size_t len);

/* horizon.c */
void set_horizon(struct core *c);

/* nack.c */
uint64_t nack_round_trip(const struct core *c);
void nack_scan(struct core *c, uint32_t h, uint64_t due);
void nack_flush(struct core *c);
void nack_fec_block(struct core *c, uint32_t first_seq);
void on_nack(struct core *c, unsigned id, const struct wire_nack *nk);

/* link.c */
uint64_t dead_after_ns(const struct core *c, const struct core_link *lk);
void link_set_state(struct core *c, unsigned id, enum link_state st);
void auto_weights(struct core *c);
void link_heard(struct core *c, unsigned id);
void on_bye(struct core *c, unsigned id);
void link_forget(struct core *c, unsigned id);

/* probe.c */
void send_probe(struct core *c, unsigned id, bool quick);
uint64_t probe_due(const struct core *c, const struct core_link *lk);
void link_rx_account(struct core *c, struct core_link *lk, uint32_t link_seq,
		     uint32_t tx_us);
void on_probe(struct core *c, unsigned id, const struct wire_probe *in);
void on_probe_reply(struct core *c, unsigned id, const struct wire_probe *in);
void link_rx_age(struct core *c, struct core_link *lk);

/* feedback.c */
void fb_rx_sample(struct core *c, unsigned id, uint32_t tx_us, size_t len, bool data);
uint64_t fb_tick(struct core *c);
void fb_sched_paths(struct core *c);
void on_feedback(struct core *c, const struct wire_feedback *fb);

#endif
