/* The DPDK port behind the dpdk-tcp:// destination; see dpdk.h.
 *
 * One port, one RX and one TX queue, one mbuf pool, one struct tcp. The
 * thread that calls dpdk_poll (worker 0) is the only one that touches the
 * port after dpdk_port_open; it need not be an EAL lcore (the pool has no
 * per-lcore cache, so a thread without an lcore id is fine).
 *
 * Receive is zero copy: Ethernet and ARP are parsed by eth.c and the IPv4
 * packet by tcp_parse, straight from the mbuf's data, every length checked,
 * and the connection's rx_data hands the layer above a pointer into the
 * mbuf, which is freed after the burst. Send copies: tcp.c builds each
 * packet in its own scratch buffer and the tx callback copies it behind an
 * Ethernet header into a fresh mbuf, queued for one TX burst at the end of
 * the call.
 *
 * Checksums. RX: when the port offers IPv4 and TCP checksum offload it is
 * enabled, and a packet the port marks good on both goes to
 * tcp_rx_verified (no software check); marked bad, it is dropped and
 * counted; anything else (unknown, or no offload) is checked in software
 * by tcp_rx. TX stays in software even on a port that could do it: tcp.c
 * fills both checksums while it builds the packet, so offload would only
 * add work here (zeroing them and writing the pseudo-header sum) unless
 * tcp.c learnt to skip them; one pass over at most an MSS of bytes that we
 * copy anyway is not worth that coupling yet.
 *
 * Events. The connection reports state changes from inside tcp_rx,
 * tcp_tick and the like, where only tcp_send and tcp_close may be called
 * on it. So the layer above hears about them (events.state) when that call
 * has returned, and may then call anything here but dpdk_poll and
 * dpdk_port_close. A dpdk_abort from inside events.rx_data is likewise
 * carried out when tcp_rx returns. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dpdk.h"
#include "eth.h"
#include "tcp.h"

#define RX_BURST 32
#define TX_BURST 32
#define NB_MBUF 4095		/* a power of two minus one suits the ring */
#define NB_DESC 512
#define ARP_RETRY_NS 100000000ull	/* 100 ms */
#define ARP_GIVEUP_NS 1000000000ull	/* 1 s */
#define EPHEMERAL_LO 49152u
#define EPHEMERAL_N  16384u
#define EAL_ARGS_MAX 64
#define IPV4_TCP_OVERHEAD 40	/* IPv4 + TCP headers without options */

/* The connection as the layer above sees it. */
enum conn {
	CONN_IDLE,	/* down, reported (a closing tcp may linger: LAST_ACK) */
	CONN_ARP,	/* dpdk_connect is waiting for the next hop's MAC */
	CONN_LIVE,	/* SYN_SENT or ESTABLISHED: up or coming up */
};

struct dpdk_port {
	struct dpdk_params p;
	struct dpdk_events ev;
	struct tcp *tcp;
	struct rte_mempool *pool;
	uint16_t port;
	uint32_t next_hop;
	bool rx_csum;			/* RX checksum offload enabled */
	uint64_t now;			/* the time of the current call */

	enum conn conn;
	uint64_t arp_start, arp_next;
	bool forget_mac;		/* ask again before the next connection */
	uint16_t next_port;		/* the next ephemeral port */

	/* What happened inside a tcp call, for when it has returned. */
	unsigned in_tcp;
	bool ev_up, ev_down, abort_pending;
	int ev_err;

	struct rte_mbuf *tx[TX_BURST];
	uint16_t tx_len[TX_BURST];
	unsigned ntx;

	struct dpdk_stats st;		/* mac, peer_mac and flags live here too */

	char *eal_buf;			/* the EAL's argv points into it */
	char *argv[EAL_ARGS_MAX + 1];
};

/* --- transmit -------------------------------------------------------------- */

/* Hands the queued frames to the port; frees and counts what it refused
 * (the frames are the port's once taken, ours to free otherwise). */
static void tx_flush(struct dpdk_port *dp)
{
	uint16_t sent, i;

	if (!dp->ntx)
		return;
	sent = rte_eth_tx_burst(dp->port, 0, dp->tx, (uint16_t)dp->ntx);
	for (i = 0; i < sent; i++)
		dp->st.tx_bytes += dp->tx_len[i];
	dp->st.tx_frames += sent;
	for (i = sent; i < dp->ntx; i++) {
		rte_pktmbuf_free(dp->tx[i]);
		dp->st.tx_dropped++;
	}
	dp->ntx = 0;
}

/* A fresh mbuf holding len bytes (zero padded to the shortest frame),
 * queued for the next flush; returns where to write them, or NULL (counted)
 * when the pool is empty. */
static uint8_t *tx_frame(struct dpdk_port *dp, size_t len)
{
	size_t flen = len < ETH_FRAME_MIN ? ETH_FRAME_MIN : len;
	struct rte_mbuf *m;
	uint8_t *p;

	if (flen > UINT16_MAX) {
		dp->st.tx_dropped++;
		return NULL;
	}
	m = rte_pktmbuf_alloc(dp->pool);
	if (!m) {
		dp->st.tx_nombuf++;
		return NULL;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)flen);
	if (!p) {			/* longer than the mbuf's data room */
		rte_pktmbuf_free(m);
		dp->st.tx_dropped++;
		return NULL;
	}
	if (flen > len)
		memset(p + len, 0, flen - len);
	if (dp->ntx == TX_BURST)
		tx_flush(dp);
	dp->tx[dp->ntx] = m;
	dp->tx_len[dp->ntx++] = (uint16_t)flen;
	return p;
}

static void arp_request(struct dpdk_port *dp)
{
	uint8_t *p = tx_frame(dp, ETH_FRAME_MIN);

	if (!p)
		return;
	eth_arp_build_request(p, ETH_FRAME_MIN, dp->st.mac, dp->p.addr, dp->next_hop);
	dp->st.arp_requests_out++;
}

static void arp_reply(struct dpdk_port *dp, const struct eth_arp *req)
{
	uint8_t *p = tx_frame(dp, ETH_FRAME_MIN);

	if (!p)
		return;
	eth_arp_build_reply(p, ETH_FRAME_MIN, dp->st.mac, dp->p.addr, req);
	dp->st.arp_replies_out++;
}

/* --- the connection's callbacks ---------------------------------------------- */

static void on_tcp_tx(void *ctx, const uint8_t *pkt, size_t len)
{
	struct dpdk_port *dp = ctx;
	uint8_t *p;

	if (!dp->st.peer_mac_known) {
		dp->st.tx_no_mac++;
		return;
	}
	p = tx_frame(dp, ETH_HDR_LEN + len);
	if (!p)
		return;
	eth_put_hdr(p, dp->st.peer_mac, dp->st.mac, ETH_TYPE_IPV4);
	memcpy(p + ETH_HDR_LEN, pkt, len);
}

static void on_tcp_rx(void *ctx, const uint8_t *data, size_t len)
{
	struct dpdk_port *dp = ctx;

	dp->ev.rx_data(dp->ev.ctx, data, len);
}

static void conn_down(struct dpdk_port *dp, int err)
{
	dp->conn = CONN_IDLE;
	dp->ev_down = true;
	dp->ev_err = err;
	/* No answer for that long: the next hop may have a new MAC. */
	if (err == -ETIMEDOUT)
		dp->forget_mac = true;
}

static void on_tcp_state(void *ctx, enum tcp_state from, enum tcp_state to, int err)
{
	struct dpdk_port *dp = ctx;

	(void)from;
	/* What is left of a connection already reported down (LAST_ACK, or
	 * the RST dpdk_connect sends it) is nobody's business above. */
	if (dp->conn != CONN_LIVE)
		return;
	switch (to) {
	case TCPS_ESTABLISHED:
		dp->ev_up = true;
		break;
	case TCPS_CLOSE_WAIT:
		/* The peer closed. For the layer above the stream is over
		 * (it reconnects); our FIN finishes this one on its own. */
		conn_down(dp, 0);
		tcp_close(dp->tcp, dp->now);
		break;
	case TCPS_CLOSED:
		conn_down(dp, err);
		break;
	default:
		break;
	}
}

static uint32_t on_tcp_isn(void *ctx)
{
	(void)ctx;
	return randombytes_random();
}

/* --- events ---------------------------------------------------------------- */

static void do_abort(struct dpdk_port *dp)
{
	if (dp->conn == CONN_ARP)
		conn_down(dp, -ECONNABORTED);
	dp->in_tcp++;
	tcp_abort(dp->tcp);
	dp->in_tcp--;
}

/* Runs what a tcp call left for later, once no tcp call is under way. */
static void settle(struct dpdk_port *dp)
{
	if (dp->in_tcp)
		return;
	if (dp->abort_pending) {
		dp->abort_pending = false;
		do_abort(dp);
	}
	if (dp->ev_up) {
		dp->ev_up = false;
		dp->ev.state(dp->ev.ctx, true, 0);
	}
	if (dp->ev_down) {
		dp->ev_down = false;
		dp->ev.state(dp->ev.ctx, false, dp->ev_err);
	}
}

static void start_syn(struct dpdk_port *dp)
{
	dp->conn = CONN_LIVE;
	dp->st.connects++;
	dp->in_tcp++;
	tcp_connect(dp->tcp, dp->now);
	dp->in_tcp--;
}

/* --- receive --------------------------------------------------------------- */

static void rx_arp(struct dpdk_port *dp, const uint8_t *p, size_t len)
{
	struct eth_arp a;
	unsigned act;

	if (eth_arp_parse(p, len, &a) < 0) {
		dp->st.malformed++;
		return;
	}
	if (a.op == ETH_ARP_REQUEST)
		dp->st.arp_requests_in++;
	else
		dp->st.arp_replies_in++;
	act = eth_arp_actions(&a, dp->p.addr, dp->next_hop);
	if (!act) {
		dp->st.not_ours++;
		return;
	}
	if (act & ETH_ARP_LEARN) {
		memcpy(dp->st.peer_mac, a.sha, ETH_MAC_LEN);
		dp->st.peer_mac_known = true;
		if (dp->conn == CONN_ARP)
			start_syn(dp);
	}
	if (act & ETH_ARP_ANSWER)
		arp_reply(dp, &a);
}

static void rx_ipv4(struct dpdk_port *dp, const struct rte_mbuf *m, const uint8_t *ip,
		    size_t len)
{
	int rc = eth_ipv4_classify(ip, len, dp->p.addr);

	if (rc == -ENOENT) {
		dp->st.not_ours++;
		return;
	}
	if (rc < 0) {
		dp->st.malformed++;
		return;
	}
	dp->in_tcp++;
	if (dp->rx_csum) {
		uint64_t ipf = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
		uint64_t l4f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

		if (ipf == RTE_MBUF_F_RX_IP_CKSUM_BAD || l4f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
			dp->st.rx_csum_bad++;
		else if (ipf == RTE_MBUF_F_RX_IP_CKSUM_GOOD && l4f == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			tcp_rx_verified(dp->tcp, ip, len, dp->now);
		else
			tcp_rx(dp->tcp, ip, len, dp->now);
	} else {
		tcp_rx(dp->tcp, ip, len, dp->now);
	}
	dp->in_tcp--;
}

static void rx_frame(struct dpdk_port *dp, const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t len = m->data_len;
	struct eth_hdr h;
	int off;

	dp->st.rx_frames++;
	dp->st.rx_bytes += m->pkt_len;
	if (m->nb_segs != 1) {
		dp->st.multiseg++;
		return;
	}
	off = eth_parse(f, len, &h);
	if (off == -EPROTONOSUPPORT) {
		dp->st.vlan++;
		return;
	}
	if (off < 0) {
		dp->st.malformed++;
		return;
	}
	switch (h.type) {
	case ETH_TYPE_ARP:
		if (!eth_dst_is_ours(h.dst, dp->st.mac, true))
			break;
		rx_arp(dp, f + off, len - (size_t)off);
		return;
	case ETH_TYPE_IPV4:
		if (!eth_dst_is_ours(h.dst, dp->st.mac, false))
			break;
		rx_ipv4(dp, m, f + off, len - (size_t)off);
		return;
	default:
		break;
	}
	dp->st.not_ours++;
}

/* --- API ------------------------------------------------------------------- */

void dpdk_poll(struct dpdk_port *dp, uint64_t now)
{
	struct rte_mbuf *rx[RX_BURST];
	uint16_t n, i;

	dp->now = now;
	n = rte_eth_rx_burst(dp->port, 0, rx, RX_BURST);
	if (n) {
		dp->st.rx_bursts++;
		for (i = 0; i < n; i++) {
			rx_frame(dp, rx[i]);
			settle(dp);
		}
		/* The connection and the layer above are done with the
		 * bytes: nothing keeps a pointer past its callback. */
		rte_pktmbuf_free_bulk(rx, n);
	}
	if (tcp_next_tick(dp->tcp) <= now) {
		dp->in_tcp++;
		tcp_tick(dp->tcp, now);
		dp->in_tcp--;
		settle(dp);
	}
	if (dp->conn == CONN_ARP) {
		if (now - dp->arp_start >= ARP_GIVEUP_NS) {
			dp->st.arp_timeouts++;
			conn_down(dp, -EHOSTUNREACH);
			settle(dp);
		} else if (now >= dp->arp_next) {
			arp_request(dp);
			dp->arp_next = now + ARP_RETRY_NS;
		}
	}
	tx_flush(dp);
}

int dpdk_connect(struct dpdk_port *dp, uint64_t now)
{
	if (dp->conn != CONN_IDLE || dp->in_tcp)
		return -EISCONN;
	dp->now = now;
	if (tcp_get_state(dp->tcp) != TCPS_CLOSED) {
		/* The last connection, reported down, still closing (LAST_ACK):
		 * reset it rather than wait. */
		dp->in_tcp++;
		tcp_abort(dp->tcp);
		dp->in_tcp--;
	}
	if (dp->forget_mac) {
		dp->forget_mac = false;
		dp->st.peer_mac_known = false;
	}
	if (!dp->p.local_port) {
		/* A new 4-tuple: the server may still hold the old one. */
		tcp_set_local_port(dp->tcp, dp->next_port);
		dp->next_port = (uint16_t)(EPHEMERAL_LO +
					   (dp->next_port - EPHEMERAL_LO + 1) % EPHEMERAL_N);
	}
	if (dp->st.peer_mac_known) {
		start_syn(dp);
	} else {
		dp->conn = CONN_ARP;
		dp->arp_start = now;
		dp->arp_next = now + ARP_RETRY_NS;
		arp_request(dp);
	}
	tx_flush(dp);
	return 0;
}

ssize_t dpdk_send(struct dpdk_port *dp, const void *data, size_t len, uint64_t now)
{
	ssize_t n;

	if (dp->conn != CONN_LIVE)
		return -ENOTCONN;
	dp->now = now;
	dp->in_tcp++;
	n = tcp_send(dp->tcp, data, len, now);
	dp->in_tcp--;
	/* Inside rx_data the segments leave when tcp_rx returns. */
	if (!dp->in_tcp)
		tx_flush(dp);
	return n < 0 ? -ENOTCONN : n;
}

size_t dpdk_send_space(const struct dpdk_port *dp)
{
	return dp->conn == CONN_LIVE ? tcp_send_space(dp->tcp) : 0;
}

void dpdk_abort(struct dpdk_port *dp)
{
	if (dp->in_tcp) {
		dp->abort_pending = true;
		return;
	}
	do_abort(dp);
	tx_flush(dp);
	settle(dp);
}

void dpdk_get_stats(const struct dpdk_port *dp, struct dpdk_stats *st)
{
	*st = dp->st;
}

const struct tcp *dpdk_tcp(const struct dpdk_port *dp)
{
	return dp->tcp;
}

/* --- setup ----------------------------------------------------------------- */

/* Splits eal on blanks into dp->argv after "braidd". The argument count,
 * or -E2BIG. */
static int split_eal(struct dpdk_port *dp)
{
	char *save = NULL, *tok;
	int argc = 0;

	dp->argv[argc++] = (char *)"braidd";
	for (tok = strtok_r(dp->eal_buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (argc == EAL_ARGS_MAX)
			return -E2BIG;
		dp->argv[argc++] = tok;
	}
	dp->argv[argc] = NULL;
	return argc;
}

static int next_hop_check(const struct dpdk_params *p, uint32_t *hop, char *err, size_t errlen)
{
	int rc = eth_next_hop(p->addr, p->prefix, p->gateway, p->remote, hop);

	switch (rc) {
	case 0:
		return 0;
	case -ENETUNREACH:
		snprintf(err, errlen, "the destination is not on the port's subnet and no "
			 "gateway is set");
		break;
	case -EADDRNOTAVAIL:
		snprintf(err, errlen, "the gateway is not a host on the port's subnet");
		break;
	default:
		snprintf(err, errlen, "the port's address, prefix length (1..32) or the "
			 "destination is not usable (the destination may not be the port's "
			 "own, network or broadcast address)");
		break;
	}
	return rc;
}

int dpdk_port_open(struct dpdk_port **out, const struct dpdk_params *p,
		   const struct dpdk_events *ev, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	struct tcp_params tp;
	struct tcp_io io;
	struct dpdk_port *dp;
	cpu_set_t cpus;
	uint16_t nb_rxd = NB_DESC, nb_txd = NB_DESC, mtu = 1500;
	uint64_t want_rx = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	uint32_t hop;
	int argc, rc, socket;

	if (!p || !ev || !ev->rx_data || !ev->state || !p->eal || !p->remote_port) {
		snprintf(err, errlen, "the DPDK port needs EAL arguments, a destination port "
			 "and both event callbacks");
		return -EINVAL;
	}
	rc = next_hop_check(p, &hop, err, errlen);
	if (rc < 0)
		return rc;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium did not initialise (needed for the TCP ISN)");
		return -EIO;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		snprintf(err, errlen, "out of memory for the DPDK port");
		return -ENOMEM;
	}
	dp->p = *p;
	dp->p.eal = NULL;		/* the caller's string; we keep our copy */
	dp->ev = *ev;
	dp->port = p->port_id;
	dp->next_hop = hop;
	dp->conn = CONN_IDLE;
	dp->eal_buf = strdup(p->eal);
	if (!dp->eal_buf) {
		snprintf(err, errlen, "out of memory for the EAL arguments");
		rc = -ENOMEM;
		goto err_buf;
	}
	argc = split_eal(dp);
	if (argc < 0) {
		snprintf(err, errlen, "more than %d EAL arguments", EAL_ARGS_MAX - 1);
		rc = argc;
		goto err_eal;
	}

	/* rte_eal_init pins the calling thread to the main lcore; the
	 * workers, created later from this thread, must not inherit that. */
	rc = pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (rc) {
		snprintf(err, errlen, "cannot read the thread's CPU affinity: %s", strerror(rc));
		rc = -rc;
		goto err_eal;
	}
	rc = rte_eal_init(argc, dp->argv);
	if (rc < 0) {
		rc = rte_errno ? -rte_errno : -EINVAL;
		pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
		snprintf(err, errlen, "the DPDK EAL did not start (%s) with the arguments "
			 "\"%s\"", rte_strerror(-rc), p->eal);
		goto err_eal;
	}
	rc = pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (rc) {
		snprintf(err, errlen, "cannot restore the thread's CPU affinity after the "
			 "EAL started: %s", strerror(rc));
		rc = -rc;
		goto err_cleanup;
	}

	if (!rte_eth_dev_is_valid_port(dp->port)) {
		snprintf(err, errlen, "there is no DPDK port %u (the EAL found %u; check the "
			 "--vdev or PCI device in the EAL arguments)", dp->port,
			 rte_eth_dev_count_avail());
		rc = -ENODEV;
		goto err_cleanup;
	}
	rc = rte_eth_dev_info_get(dp->port, &info);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read DPDK port %u's capabilities: %s", dp->port,
			 rte_strerror(-rc));
		goto err_cleanup;
	}
	if (rte_eth_dev_get_mtu(dp->port, &mtu) < 0)
		mtu = 1500;
	socket = rte_eth_dev_socket_id(dp->port);
	if (socket < 0)
		socket = SOCKET_ID_ANY;

	/* No per-lcore cache: the thread that polls is not an EAL lcore. */
	dp->pool = rte_pktmbuf_pool_create("braid_dpdk_mbufs", NB_MBUF, 0, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (!dp->pool) {
		snprintf(err, errlen, "cannot create the mbuf pool (%u mbufs): %s (give the "
			 "EAL more memory with -m)", NB_MBUF, rte_strerror(rte_errno));
		rc = -ENOMEM;
		goto err_cleanup;
	}

	memset(&conf, 0, sizeof(conf));
	if ((info.rx_offload_capa & want_rx) == want_rx) {
		conf.rxmode.offloads |= want_rx;
		dp->rx_csum = true;
	}
	rc = rte_eth_dev_configure(dp->port, 1, 1, &conf);
	if (rc < 0) {
		snprintf(err, errlen, "cannot configure DPDK port %u: %s", dp->port,
			 rte_strerror(-rc));
		goto err_pool;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(dp->port, &nb_rxd, &nb_txd);
	if (rc < 0) {
		snprintf(err, errlen, "cannot size DPDK port %u's rings: %s", dp->port,
			 rte_strerror(-rc));
		goto err_close;
	}
	rc = rte_eth_rx_queue_setup(dp->port, 0, nb_rxd, (unsigned)socket, NULL, dp->pool);
	if (rc < 0) {
		snprintf(err, errlen, "cannot set up DPDK port %u's RX queue: %s", dp->port,
			 rte_strerror(-rc));
		goto err_close;
	}
	rc = rte_eth_tx_queue_setup(dp->port, 0, nb_txd, (unsigned)socket, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "cannot set up DPDK port %u's TX queue: %s", dp->port,
			 rte_strerror(-rc));
		goto err_close;
	}
	rc = rte_eth_macaddr_get(dp->port, &mac);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read DPDK port %u's MAC address: %s", dp->port,
			 rte_strerror(-rc));
		goto err_close;
	}
	memcpy(dp->st.mac, mac.addr_bytes, ETH_MAC_LEN);
	dp->st.rx_csum_offload = dp->rx_csum;
	dp->st.tx_csum_offload = false;		/* see the top of this file */

	memset(&tp, 0, sizeof(tp));
	tp.local_addr = p->addr;
	tp.remote_addr = p->remote;
	tp.remote_port = p->remote_port;
	dp->next_port = (uint16_t)(EPHEMERAL_LO + randombytes_uniform(EPHEMERAL_N));
	tp.local_port = p->local_port ? p->local_port : dp->next_port;
	tp.sndbuf = p->sndbuf;
	tp.keepalive_idle_ns = p->keepalive_idle_ns;
	/* A dead server is found in seconds, as the kernel tcp:// path finds
	 * it (keepalive 5 x 1 s, TCP_USER_TIMEOUT 10 s): probes 1 s apart,
	 * and at most 10 timeouts in a row with the RTO capped at 1 s. */
	tp.keepalive_intvl_ns = 1000000000ull;
	tp.keepalive_count = 5;
	tp.rto_max_ns = 1000000000ull;
	tp.max_retries = 10;
	tp.rto_min_ns = p->rto_min_ns;
	tp.ecn = p->ecn;
	if (mtu < IPV4_TCP_OVERHEAD + TCP_MSS_MIN) {
		snprintf(err, errlen, "DPDK port %u's MTU (%u) is too small for TCP",
			 dp->port, mtu);
		rc = -EINVAL;
		goto err_close;
	}
	/* Our segments and the peer's (our MSS) fit the port's MTU and one
	 * default mbuf: no multi-segment frames either way. */
	tp.mss = mtu > IPV4_TCP_OVERHEAD + TCP_MSS_DFL ? TCP_MSS_DFL
						       : (uint16_t)(mtu - IPV4_TCP_OVERHEAD);
	memset(&io, 0, sizeof(io));
	io.ctx = dp;
	io.tx = on_tcp_tx;
	io.rx_data = on_tcp_rx;
	io.state = on_tcp_state;
	io.isn = on_tcp_isn;
	rc = tcp_create(&dp->tcp, &tp, &io);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create the TCP connection: %s (check the "
			 "send buffer size)", strerror(-rc));
		goto err_close;
	}

	rc = rte_eth_dev_start(dp->port);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start DPDK port %u: %s", dp->port,
			 rte_strerror(-rc));
		goto err_tcp;
	}
	*out = dp;
	return 0;

err_tcp:
	tcp_destroy(dp->tcp);
err_close:
	rte_eth_dev_close(dp->port);
err_pool:
	rte_mempool_free(dp->pool);
err_cleanup:
	rte_eal_cleanup();
err_eal:
	free(dp->eal_buf);
err_buf:
	free(dp);
	return rc;
}

void dpdk_port_close(struct dpdk_port *dp)
{
	if (!dp)
		return;
	/* Closing down: the RST goes out, nobody above hears of it. */
	dp->conn = CONN_IDLE;
	dp->in_tcp++;
	tcp_abort(dp->tcp);
	dp->in_tcp--;
	tx_flush(dp);
	rte_eth_dev_stop(dp->port);
	rte_eth_dev_close(dp->port);
	rte_mempool_free(dp->pool);
	tcp_destroy(dp->tcp);
	rte_eal_cleanup();
	free(dp->eal_buf);
	free(dp);
}
