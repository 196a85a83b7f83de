/* The core's handshake (core_priv.h names the core's other files): the
 * edge's HS_INIT on every link, retried under a fresh nonce and sent again
 * with the cookie the hub asks for; the hub's cookie or answer, bound to
 * the init it answers, and its pending session, promoted once a packet
 * under it authenticates; and the session state either end installs. */
#include <string.h>

#include "braid/wire.h"
#include "cookie.h"
#include "core_priv.h"
#include "crypto.h"
#include "prefilter.h"
#include "ratelimit.h"
#include "recover.h"
#include "reorder.h"
#include "replay.h"

/* The wait before the n-th retry of an init (n from 0): two probe
 * intervals (50 ms to 1 s), doubling each retry up to 1 s, so an answer
 * slower than the first wait still lands before the nonce it answers is
 * replaced. */
uint64_t hs_retry_ns(const struct core *c, unsigned n)
{
	uint64_t t = 2 * c->p.probe_interval_ns;

	if (t < 50 * NS_PER_MS)
		t = 50 * NS_PER_MS;
	for (; n && t < NS_PER_S; n--)
		t *= 2;
	return t > NS_PER_S ? NS_PER_S : t;
}

/* How long the edge uses a cookie: a little less than the shortest life
 * the hub gives one, so it rarely spends a round trip on a stale one. */
#define EDGE_COOKIE_NS (COOKIE_ROTATE_NS - 10 * NS_PER_S)

/* Tells the workers' prefilter which sessions a packet may now be under:
 * after every change to the session in force or the pending one. */
static void publish_sessions(struct core *c)
{
	uint32_t pending;

	if (c->p.role == ROLE_HUB)
		pending = c->pend.on ? c->pend.session : 0;
	else
		pending = c->hs_pending ? c->hs_session : 0;
	prefilter_publish(&c->pf, c->ready ? c->session : 0, pending);
}

/* One HS_INIT on link id, with the link's cookie if it has a fresh one
 * (zeros ask the hub for one). */
static void send_hs_init_on(struct core *c, unsigned id)
{
	struct core_link *lk = &c->link[id];
	struct wire_outer o = {
		.version = BRAID_WIRE_VERSION,
		.type = WIRE_HS_INIT,
		.session = c->hs_session,
	};
	struct wire_hs hs = { 0 };
	uint8_t *buf;

	if (!lk->present || !lk->has_remote)
		return;
	memcpy(hs.nonce, c->hs_nonce, sizeof(hs.nonce));
	if (lk->cookie_have && c->now - lk->cookie_at < EDGE_COOKIE_NS)
		memcpy(hs.cookie, lk->cookie, sizeof(hs.cookie));
	buf = pkt_alloc(c, id);
	if (!buf)
		return;
	wire_put_outer(buf, &o);
	wire_put_hs(buf + WIRE_OUTER_LEN, &hs);
	pkt_send(c, id, buf, crypto_hs_seal(c->hs_key, buf, NULL), &lk->path);
}

/* Every link carries a copy: the first to arrive wins. */
void send_hs_init(struct core *c)
{
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++)
		send_hs_init_on(c, id);
}

/* A fresh nonce for the init; the last one is kept for a cookie that
 * answers it. */
void edge_hs_nonce(struct core *c)
{
	memcpy(c->hs_prev, c->hs_nonce, sizeof(c->hs_prev));
	c->hs_have_prev = c->hs_tries > 0;
	c->io.random(c->io.ctx, c->hs_nonce, sizeof(c->hs_nonce));
}

void edge_start_handshake(struct core *c)
{
	do
		c->io.random(c->io.ctx, &c->hs_session, sizeof(c->hs_session));
	while (c->hs_session == 0 || (c->ready && c->hs_session == c->session));
	c->hs_tries = 0;
	edge_hs_nonce(c);
	c->hs_pending = true;
	c->hs_next = c->now;
	publish_sessions(c);
}

/* Where a direction's bond sequence starts: derived from the session id, so
 * the receiver awaits the very first datagram even if a later one overtakes
 * it, and different sessions start at different places in the 32-bit
 * space (wraps get exercised, not just in theory). */
static uint32_t session_seq0(uint32_t session, bool from_edge)
{
	return from_edge ? session * 2654435761u : ~session * 2654435761u;
}

/* Installs fresh session state; the keys are set by the caller. */
static void session_begin(struct core *c, uint32_t session)
{
	bool edge = c->p.role == ROLE_EDGE;

	c->ready = true;
	c->confirmed = edge;
	c->session = session;
	memset(c->tx_counter, 0, sizeof(c->tx_counter));
	replay_links_init(&c->replay);
	c->bond_seq = session_seq0(session, edge);
	reorder_reset_at(c->ro, session_seq0(session, !edge));
	recover_reset(c->rec);
	c->nackq[0].len = c->nackq[1].len = 0;
	memset(c->fec_chk, 0, sizeof(c->fec_chk));
	memset(c->nack_early, 0, sizeof(c->nack_early));
	c->nack_from_set = false;
	c->data_since = 0;
	c->fec_rx_k = 0;
	c->fec_rx_at = 0;
	for (unsigned id = 0; id < BRAID_MAX_LINKS; id++) {
		struct core_link *lk = &c->link[id];

		lk->rx_any = false;
		lk->rx_mark_at = 0;
		lk->fresh_at = 0;
		lk->rx_bond_at = 0;
		lk->rx_data_at = 0;
		lk->rx_gap_ns = 0;
		lk->rx_bond_n = 0;
		lk->rx_reorder_ns = 0;
		lk->jit_have = false;
		lk->peer_have = false;
		lk->next_probe = c->now;
		/* The peer's clock and counts start over with its session. */
		est_rx_init(&lk->erx);
		est_tx_init(&lk->etx);
	}
	c->fb_last = 0;
	c->fb_data = false;
	fb_sched_paths(c);
	stat_add(c->st.handshakes, 1);
	stat_set(c->st.session, session);
	c->wake = c->now;
	publish_sessions(c);
}

/* An answer to the handshake packet that came from path: HS_COOKIE or
 * HS_RESP, session of the init, MAC binding the init's nonce. Back to where
 * the init came from, without taking that as the link's path (an init can
 * be replayed from anywhere; only packets under the session's keys move a
 * path). Never larger than the init it answers: not an amplifier. */
static void hub_answer(struct core *c, unsigned id, const struct core_path *path,
		       uint8_t type, uint32_t session, const uint8_t *body, size_t body_len,
		       const uint8_t *init_nonce)
{
	struct wire_outer ro = {
		.version = BRAID_WIRE_VERSION,
		.type = type,
		.session = session,
	};
	uint8_t *buf = pkt_alloc(c, id);

	if (!buf)
		return;
	wire_put_outer(buf, &ro);
	memcpy(buf + WIRE_OUTER_LEN, body, body_len);
	pkt_send(c, id, buf, crypto_hs_seal(c->hs_key, buf, init_nonce), path);
}

void hub_on_init(struct core *c, unsigned id, const struct core_path *path,
		 const struct wire_outer *o, uint8_t *pkt, size_t len)
{
	const uint8_t *answer, *init_nonce;
	struct wire_hs hs, rs = { 0 };
	uint8_t body[WIRE_HS_BODY_LEN];

	if (crypto_hs_verify(c->hs_key, pkt, len, NULL) < 0) {
		stat_add(c->st.auth_fail, 1);
		return;
	}
	if (wire_parse_hs(pkt + WIRE_OUTER_LEN, WIRE_HS_BODY_LEN, &hs) < 0 || o->session == 0) {
		stat_add(c->st.malformed, 1);
		return;
	}
	/* Every answer, cookie or response, comes out of the source's
	 * bucket: a flood of captured inits gets a trickle back. */
	if (!ratelimit_allow(&c->rl, &path->remote, c->now)) {
		stat_add(c->st.hs_ratelimited, 1);
		return;
	}
	if (cookie_need_secret(&c->ck, c->now)) {
		uint8_t fresh[COOKIE_SECRET_LEN];

		c->io.random(c->io.ctx, fresh, sizeof(fresh));
		cookie_rotate(&c->ck, fresh, c->now);
		crypto_wipe(fresh, sizeof(fresh));
	}
	if (!cookie_valid(&c->ck, &path->remote, hs.cookie, c->now)) {
		/* No cookie, a stale one or another address's: ask for the
		 * one of this address, and keep nothing. */
		struct wire_hs_cookie ck;

		stat_add(c->st.hs_cookie, 1);
		cookie_make(&c->ck, &path->remote, ck.cookie);
		wire_put_hs_cookie(body, &ck);
		hub_answer(c, id, path, WIRE_HS_COOKIE, o->session, body, WIRE_HS_COOKIE_LEN,
			   hs.nonce);
		return;
	}
	if (c->pend.on && o->session == c->pend.session &&
	    memcmp(hs.nonce, c->pend.init_nonce, sizeof(hs.nonce)) == 0) {
		/* A copy of the pending init (another link, or a replay):
		 * answer it the same way. */
		answer = c->pend.hub_nonce;
		init_nonce = c->pend.init_nonce;
	} else if (c->ready && o->session == c->session &&
		   memcmp(hs.nonce, c->init_nonce, sizeof(hs.nonce)) == 0) {
		/* A late copy of the init of the session in force (a slower
		 * link's), from the edge's address on this link or on a link
		 * that has none yet: answered alike. From anywhere else it is
		 * a replay. */
		if (c->link[id].has_remote && !addr_equal(&c->link[id].path.remote, &path->remote)) {
			stat_add(c->st.replayed, 1);
			return;
		}
		answer = c->hub_nonce;
		init_nonce = c->init_nonce;
	} else if (cookie_nonce_taken(&c->ck, hs.nonce, c->now)) {
		/* An init taken before and since superseded: replayed. */
		stat_add(c->st.replayed, 1);
		return;
	} else {
		cookie_nonce_take(&c->ck, hs.nonce, c->now);
		c->pend.on = true;
		c->pend.session = o->session;
		memcpy(c->pend.init_nonce, hs.nonce, sizeof(c->pend.init_nonce));
		c->io.random(c->io.ctx, c->pend.hub_nonce, sizeof(c->pend.hub_nonce));
		crypto_derive_session(c->p.psk, c->pend.init_nonce, c->pend.hub_nonce, o->session, 0,
				      c->pend.tx_key, c->pend.rx_key);
		/* Before the answer leaves: the edge's first packet under
		 * the new session must find it taken. */
		publish_sessions(c);
		answer = c->pend.hub_nonce;
		init_nonce = c->pend.init_nonce;
	}
	memcpy(rs.nonce, answer, sizeof(rs.nonce));
	wire_put_hs(body, &rs);
	hub_answer(c, id, path, WIRE_HS_RESP, o->session, body, WIRE_HS_BODY_LEN, init_nonce);
}

/* A packet under the pending session authenticated: it becomes the
 * session in force, and the old one's keys are forgotten. */
void hub_promote(struct core *c)
{
	memcpy(c->init_nonce, c->pend.init_nonce, sizeof(c->init_nonce));
	memcpy(c->hub_nonce, c->pend.hub_nonce, sizeof(c->hub_nonce));
	memcpy(c->tx_key, c->pend.tx_key, sizeof(c->tx_key));
	memcpy(c->rx_key, c->pend.rx_key, sizeof(c->rx_key));
	session_begin(c, c->pend.session);
	crypto_wipe(&c->pend, sizeof(c->pend));
	publish_sessions(c);
}

void edge_on_resp(struct core *c, unsigned id, const struct wire_outer *o,
		  const uint8_t *pkt, size_t len)
{
	static const uint8_t zero[WIRE_HS_COOKIE_LEN];
	struct wire_hs hs;

	if (!c->hs_pending || o->session != c->hs_session) {
		/* The other links' answers to the init just taken are
		 * expected; anything else answers an init we never sent. */
		if (!(c->ready && o->session == c->session))
			stat_add(c->st.replayed, 1);
		return;
	}
	/* Only an answer to the latest init: the hub's pending session is
	 * the newest init it took, and an older one's keys would not match
	 * it. */
	if (crypto_hs_verify(c->hs_key, pkt, len, c->hs_nonce) < 0) {
		stat_add(c->st.auth_fail, 1);
		return;
	}
	if (wire_parse_hs(pkt + WIRE_OUTER_LEN, WIRE_HS_BODY_LEN, &hs) < 0 ||
	    memcmp(hs.cookie, zero, sizeof(zero)) != 0) {
		stat_add(c->st.malformed, 1);
		return;
	}
	crypto_derive_session(c->p.psk, c->hs_nonce, hs.nonce, c->hs_session, 1,
			      c->tx_key, c->rx_key);
	c->hs_pending = false;
	c->all_down_since = 0;
	session_begin(c, c->hs_session);
	link_heard(c, id);
}

/* The hub asks for its cookie on link id: keep it, and send the init again
 * on that link with it, now. A copy of a cookie already held changes
 * nothing, so a replayed HS_COOKIE cannot make the edge send. */
void edge_on_cookie(struct core *c, unsigned id, const struct wire_outer *o,
		    const uint8_t *pkt, size_t len)
{
	struct core_link *lk = &c->link[id];
	struct wire_hs_cookie ck;

	if (!c->hs_pending || o->session != c->hs_session) {
		if (!(c->ready && o->session == c->session))
			stat_add(c->st.replayed, 1);
		return;
	}
	if (crypto_hs_verify(c->hs_key, pkt, len, c->hs_nonce) < 0 &&
	    (!c->hs_have_prev || crypto_hs_verify(c->hs_key, pkt, len, c->hs_prev) < 0)) {
		stat_add(c->st.auth_fail, 1);
		return;
	}
	if (wire_parse_hs_cookie(pkt + WIRE_OUTER_LEN, WIRE_HS_COOKIE_LEN, &ck) < 0) {
		stat_add(c->st.malformed, 1);
		return;
	}
	if (lk->cookie_have && c->now - lk->cookie_at < EDGE_COOKIE_NS &&
	    memcmp(lk->cookie, ck.cookie, sizeof(ck.cookie)) == 0)
		return;
	memcpy(lk->cookie, ck.cookie, sizeof(lk->cookie));
	lk->cookie_have = true;
	lk->cookie_at = c->now;
	send_hs_init_on(c, id);
	/* The answer is a round trip away: do not replace the nonce before. */
	c->hs_next = max_u64(c->hs_next, c->now + hs_retry_ns(c, c->hs_tries));
	c->wake = min_u64(c->wake, c->hs_next);
}
