/* Ethernet II and ARP (IPv4 over Ethernet) for the DPDK port, without I/O.
 *
 * The dpdk-tcp:// destination (src/dpdk.c) owns one IPv4 address on one
 * Ethernet port and talks to one peer. This file is what it needs of the
 * link layer, kept free of DPDK so that a Check suite and a fuzzer can
 * drive it: parsing a received frame's Ethernet header and ARP packet,
 * building ARP requests and replies into a caller's buffer, deciding what
 * a received ARP packet means for us, pre-sorting IPv4 packets, and the
 * on-link / next-hop choice made once at setup.
 *
 * Every parser reads through braid's bounds-checked wire_reader and checks
 * every length before it is used; none keeps a pointer. Addresses are in
 * host byte order, MAC addresses are 6 bytes as on the wire. Nothing here
 * allocates. */
#ifndef BRAID_ETH_H
#define BRAID_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETH_MAC_LEN    6
#define ETH_HDR_LEN    14	/* destination, source, EtherType */
#define ETH_FRAME_MIN  60	/* shortest frame on the wire, FCS not counted */
#define ETH_TYPE_IPV4  0x0800
#define ETH_TYPE_ARP   0x0806
#define ETH_TYPE_VLAN  0x8100	/* 802.1Q */
#define ETH_TYPE_QINQ  0x88a8	/* 802.1ad */
#define ETH_TYPE_QINQ_OLD 0x9100

#define ETH_ARP_LEN    28	/* the ARP packet for IPv4 over Ethernet */
#define ETH_ARP_REQUEST 1
#define ETH_ARP_REPLY   2

/* What eth_arp_actions asks of the driver (a bit set). */
#define ETH_ARP_ANSWER 0x1	/* a request for our address: send a reply */
#define ETH_ARP_LEARN  0x2	/* the sender is our next hop: take its MAC */

struct eth_hdr {
	uint8_t dst[ETH_MAC_LEN];
	uint8_t src[ETH_MAC_LEN];
	uint16_t type;
};

struct eth_arp {
	uint16_t op;		/* ETH_ARP_REQUEST or ETH_ARP_REPLY */
	uint8_t sha[ETH_MAC_LEN];	/* sender hardware address */
	uint32_t spa;		/* sender IPv4 */
	uint8_t tha[ETH_MAC_LEN];	/* target hardware address */
	uint32_t tpa;		/* target IPv4 */
};

extern const uint8_t eth_broadcast[ETH_MAC_LEN];

/* Parses the Ethernet II header of a frame of len bytes. Returns the offset
 * of the payload (ETH_HDR_LEN) with h filled in, or -EMSGSIZE (shorter than
 * the header) or -EPROTONOSUPPORT (an 802.1Q or 802.1ad tag: VLANs are not
 * supported; h is still filled in). Any other EtherType, 802.3 lengths
 * included, is returned for the caller to sort. */
int eth_parse(const uint8_t *frame, size_t len, struct eth_hdr *h);

/* True if a frame sent to dst is for a port whose MAC is mac: dst is mac,
 * or broadcast when broadcast_ok (ARP requests are broadcast; IPv4 to us
 * never is). */
bool eth_dst_is_ours(const uint8_t dst[ETH_MAC_LEN], const uint8_t mac[ETH_MAC_LEN],
		     bool broadcast_ok);
/* True for a MAC that may stand for one host: not group (the I/G bit),
 * not all zeros. */
bool eth_mac_is_unicast(const uint8_t mac[ETH_MAC_LEN]);

/* Writes an Ethernet II header at p (ETH_HDR_LEN bytes, the caller's room).
 * Returns ETH_HDR_LEN. */
size_t eth_put_hdr(uint8_t *p, const uint8_t dst[ETH_MAC_LEN],
		   const uint8_t src[ETH_MAC_LEN], uint16_t type);

/* Parses the ARP packet that follows an Ethernet header (p, len: the
 * payload; padding past the 28 bytes is ignored). 0, or:
 *   -EMSGSIZE        shorter than ETH_ARP_LEN;
 *   -EPFNOSUPPORT    hardware type not 1 (Ethernet) or hardware length not 6;
 *   -EAFNOSUPPORT    protocol type not 0x0800 (IPv4) or protocol length not 4;
 *   -EOPNOTSUPP      an operation other than request (1) or reply (2).
 * a is filled in only on success. */
int eth_arp_parse(const uint8_t *p, size_t len, struct eth_arp *a);

/* Build a whole frame (Ethernet header and ARP packet, zero padded to
 * ETH_FRAME_MIN) into buf of cap bytes. They return the frame's length
 * (ETH_FRAME_MIN), or -ENOBUFS when cap is smaller.
 *
 * A request from (mac, ip) asking who has target, broadcast, the target
 * hardware address zero. */
int eth_arp_build_request(uint8_t *buf, size_t cap, const uint8_t mac[ETH_MAC_LEN],
			  uint32_t ip, uint32_t target);
/* The reply from (mac, ip) to the request req: sent to the requester's
 * hardware address (unicast), its addresses as the target ones. */
int eth_arp_build_reply(uint8_t *buf, size_t cap, const uint8_t mac[ETH_MAC_LEN],
			uint32_t ip, const struct eth_arp *req);

/* What a parsed ARP packet asks of a port that owns ip and wants to reach
 * next_hop: ETH_ARP_ANSWER for a request whose target is ip (RFC 5227
 * probes, whose sender address is 0, included) from a unicast sender;
 * ETH_ARP_LEARN for a request or reply (gratuitous ones included) whose
 * sender is next_hop with a unicast hardware address. 0: ignore it. */
unsigned eth_arp_actions(const struct eth_arp *a, uint32_t ip, uint32_t next_hop);

/* Sorts the IPv4 packet after an Ethernet header before the TCP layer sees
 * it: 0 if it carries TCP (protocol 6) to addr, -ENOENT for another
 * protocol or destination, -EMSGSIZE if shorter than an IPv4 header,
 * -EBADMSG if the version is not 4. Lengths, options, fragments and
 * checksums are tcp_parse's (tcp.h). */
int eth_ipv4_classify(const uint8_t *ip, size_t len, uint32_t addr);

/* The next hop towards remote from an interface with address addr/prefix
 * and gateway (0: none): remote itself when it is on the link, else the
 * gateway. On a link of /30 or wider the all-zeros and all-ones host parts
 * (network and broadcast) are not hosts; /31 (RFC 3021) has no such
 * addresses, and on a /32 nothing but addr is on the link. 0 with *hop
 * set, or:
 *   -EINVAL        prefix not 1..32, addr or remote 0, remote == addr, or
 *                  remote the link's network or broadcast address;
 *   -ENETUNREACH   remote is off the link and there is no gateway;
 *   -EADDRNOTAVAIL the gateway is not a host on the link other than addr. */
int eth_next_hop(uint32_t addr, uint8_t prefix, uint32_t gateway, uint32_t remote,
		 uint32_t *hop);

#endif
