/* The DPDK port behind the hub's dpdk-tcp:// destination (issue 7).
 *
 * One ethdev port, one IPv4 address on it, one TCP connection (src/tcp.c)
 * to the destination. dpdk_port_open runs in braidd's main thread during
 * setup, as root: it initialises the EAL from the config's arguments,
 * configures and starts the port with one RX and one TX queue, and creates
 * the mbuf pool. From then on one thread (worker 0) drives it: dpdk_poll
 * takes one burst of received frames, answers and learns ARP, hands IPv4
 * TCP to the connection straight from the mbuf (zero copy, every header
 * length checked by eth.c and tcp_parse), runs the connection's timers and
 * flushes what the connection sent as one TX burst.
 *
 * The byte stream is the caller's: dpdk_send queues bytes, events.rx_data
 * hands on the peer's in-order bytes, events.state says when the connection
 * is up and when it is lost. The framing (frame.h) and the reconnect policy
 * (tcpdest.h) sit above this file and are the same as the kernel tcp://
 * destination's.
 *
 * No allocation and no lock after dpdk_port_open. Built only when pkg-config
 * finds libdpdk (and not with WITH_DPDK=0); see the Makefile. */
#ifndef BRAID_DPDK_H
#define BRAID_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dpdk_port;

struct dpdk_params {
	const char *eal;		/* EAL arguments, separated by blanks */
	uint16_t port_id;		/* the ethdev port (0 with one device) */
	uint32_t addr;			/* our IPv4 on the port, host byte order */
	uint8_t prefix;			/* its prefix length, 1..32 */
	uint32_t gateway;		/* next hop when the destination is off-link; 0: none */
	uint32_t remote;		/* the destination, host byte order */
	uint16_t remote_port;
	uint16_t local_port;		/* 0: a new ephemeral port for each connection */
	size_t sndbuf;			/* the connection's retransmit ring (tcp_params.sndbuf) */
	uint64_t keepalive_idle_ns;	/* 0: no keepalive; else probes 1 s apart, 5 of them */
	uint64_t rto_min_ns;		/* the connection's least RTO (tcp_params.rto_min_ns) */
	bool ecn;
};

/* Called from dpdk_poll (state also from dpdk_abort), state only once the
 * TCP call that caused it has returned. From either the callee may call
 * dpdk_send and dpdk_abort (from rx_data it takes effect when the packet
 * is done), from state also dpdk_connect; never dpdk_poll or
 * dpdk_port_close. */
struct dpdk_events {
	void *ctx;
	/* In-order stream bytes from the peer, valid only during the call. */
	void (*rx_data)(void *ctx, const uint8_t *data, size_t len);
	/* up: the connection is established. !up: it is closed (err as in
	 * tcp_io.state: 0, -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT,
	 * -ECONNABORTED, or -EHOSTUNREACH when ARP found no answer). */
	void (*state)(void *ctx, bool up, int err);
};

/* Everything counted, only ever increased (the connection's own counters
 * are in tcp). */
struct dpdk_stats {
	uint64_t rx_frames, tx_frames, rx_bursts;
	uint64_t rx_bytes, tx_bytes;
	uint64_t arp_requests_in, arp_replies_out, arp_requests_out, arp_replies_in;
	uint64_t malformed;		/* short Ethernet or ARP, refused by eth.c */
	uint64_t not_ours;		/* other EtherTypes, other IP protocols, other addresses */
	uint64_t multiseg;		/* chained mbufs (never configured; dropped) */
	uint64_t tx_nombuf;		/* mbuf pool empty: the packet was not sent */
	uint64_t tx_dropped;		/* the port did not take a packet */
	uint64_t connects;		/* SYNs started */
	uint64_t vlan;			/* 802.1Q/802.1ad tagged frames (no VLANs; dropped) */
	uint64_t rx_csum_bad;		/* the port's RX offload said bad (dropped) */
	uint64_t tx_no_mac;		/* a packet for the peer before its MAC was known */
	uint64_t arp_timeouts;		/* connects given up for want of an ARP answer */
	bool rx_csum_offload, tx_csum_offload;	/* what the port does for us */
	uint8_t mac[6], peer_mac[6];
	bool peer_mac_known;
};

/* EAL, port, pool, connection (closed). 0, or a negative errno with a
 * sentence in err. The EAL may be initialised once per process. */
int dpdk_port_open(struct dpdk_port **out, const struct dpdk_params *p,
		   const struct dpdk_events *ev, char *err, size_t errlen);
/* Stops and closes the port, frees everything, cleans up the EAL. */
void dpdk_port_close(struct dpdk_port *dp);

/* Starts a connection: ARP for the next hop if it is not known yet (asking
 * again every 100 ms, giving up with -EHOSTUNREACH after 1 s), then the
 * SYN. 0 or -EISCONN (not closed). */
int dpdk_connect(struct dpdk_port *dp, uint64_t now);
/* Queues up to len stream bytes; returns how many it took (0: full), or
 * -ENOTCONN. */
ssize_t dpdk_send(struct dpdk_port *dp, const void *data, size_t len, uint64_t now);
size_t dpdk_send_space(const struct dpdk_port *dp);
/* Resets the connection (RST) and closes it at once. */
void dpdk_abort(struct dpdk_port *dp);
/* One RX burst, the timers due, one TX flush. */
void dpdk_poll(struct dpdk_port *dp, uint64_t now);

void dpdk_get_stats(const struct dpdk_port *dp, struct dpdk_stats *st);
/* The connection, for its counters and snapshot (tcp.h). */
const struct tcp *dpdk_tcp(const struct dpdk_port *dp);

#endif
