/* Ethernet II and ARP for the DPDK port, without I/O; see eth.h.
 *
 * Parsers read through wire_reader (include/braid/wire.h), the one place
 * that checks a read against the end of the buffer. Builders write fixed
 * sizes into a buffer whose room they check first. */
#include <errno.h>
#include <string.h>

#include "braid/wire.h"
#include "eth.h"

#define ARP_HTYPE_ETHER 1
#define ARP_PLEN_IPV4   4
#define IPV4_HDR_MIN    20
#define IPPROTO_TCP_NUM 6

const uint8_t eth_broadcast[ETH_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static const uint8_t mac_zero[ETH_MAC_LEN];

int eth_parse(const uint8_t *frame, size_t len, struct eth_hdr *h)
{
	struct wire_reader r;

	wire_reader_init(&r, frame, len);
	wire_read_bytes(&r, h->dst, ETH_MAC_LEN);
	wire_read_bytes(&r, h->src, ETH_MAC_LEN);
	h->type = wire_read_u16(&r);
	if (r.err)
		return -EMSGSIZE;
	/* A tag would move the real EtherType and the payload by 4 bytes per
	 * tag; the port is configured untagged, so a tagged frame is not for
	 * us (the caller counts it). */
	if (h->type == ETH_TYPE_VLAN || h->type == ETH_TYPE_QINQ || h->type == ETH_TYPE_QINQ_OLD)
		return -EPROTONOSUPPORT;
	return ETH_HDR_LEN;
}

bool eth_dst_is_ours(const uint8_t dst[ETH_MAC_LEN], const uint8_t mac[ETH_MAC_LEN],
		     bool broadcast_ok)
{
	if (memcmp(dst, mac, ETH_MAC_LEN) == 0)
		return true;
	return broadcast_ok && memcmp(dst, eth_broadcast, ETH_MAC_LEN) == 0;
}

bool eth_mac_is_unicast(const uint8_t mac[ETH_MAC_LEN])
{
	return !(mac[0] & 1) && memcmp(mac, mac_zero, ETH_MAC_LEN) != 0;
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *put_mac(uint8_t *p, const uint8_t mac[ETH_MAC_LEN])
{
	memcpy(p, mac, ETH_MAC_LEN);
	return p + ETH_MAC_LEN;
}

size_t eth_put_hdr(uint8_t *p, const uint8_t dst[ETH_MAC_LEN],
		   const uint8_t src[ETH_MAC_LEN], uint16_t type)
{
	p = put_mac(p, dst);
	p = put_mac(p, src);
	put16(p, type);
	return ETH_HDR_LEN;
}

int eth_arp_parse(const uint8_t *p, size_t len, struct eth_arp *a)
{
	struct wire_reader r;
	uint16_t htype, ptype, op;
	uint8_t hlen, plen;
	struct eth_arp v;

	wire_reader_init(&r, p, len);
	htype = wire_read_u16(&r);
	ptype = wire_read_u16(&r);
	hlen = wire_read_u8(&r);
	plen = wire_read_u8(&r);
	op = wire_read_u16(&r);
	wire_read_bytes(&r, v.sha, ETH_MAC_LEN);
	v.spa = wire_read_u32(&r);
	wire_read_bytes(&r, v.tha, ETH_MAC_LEN);
	v.tpa = wire_read_u32(&r);
	if (r.err)
		return -EMSGSIZE;
	if (htype != ARP_HTYPE_ETHER || hlen != ETH_MAC_LEN)
		return -EPFNOSUPPORT;
	if (ptype != ETH_TYPE_IPV4 || plen != ARP_PLEN_IPV4)
		return -EAFNOSUPPORT;
	if (op != ETH_ARP_REQUEST && op != ETH_ARP_REPLY)
		return -EOPNOTSUPP;
	v.op = op;
	*a = v;
	return 0;
}

/* One ARP frame: Ethernet header to eth_dst, the ARP packet, zeros to the
 * minimum frame size. */
static int arp_build(uint8_t *buf, size_t cap, const uint8_t eth_dst[ETH_MAC_LEN],
		     uint16_t op, const uint8_t sha[ETH_MAC_LEN], uint32_t spa,
		     const uint8_t tha[ETH_MAC_LEN], uint32_t tpa)
{
	uint8_t *p = buf;

	if (!buf || cap < ETH_FRAME_MIN)
		return -ENOBUFS;
	memset(buf, 0, ETH_FRAME_MIN);
	p += eth_put_hdr(p, eth_dst, sha, ETH_TYPE_ARP);
	p = put16(p, ARP_HTYPE_ETHER);
	p = put16(p, ETH_TYPE_IPV4);
	*p++ = ETH_MAC_LEN;
	*p++ = ARP_PLEN_IPV4;
	p = put16(p, op);
	p = put_mac(p, sha);
	p = put32(p, spa);
	p = put_mac(p, tha);
	put32(p, tpa);
	return ETH_FRAME_MIN;
}

int eth_arp_build_request(uint8_t *buf, size_t cap, const uint8_t mac[ETH_MAC_LEN],
			  uint32_t ip, uint32_t target)
{
	return arp_build(buf, cap, eth_broadcast, ETH_ARP_REQUEST, mac, ip, mac_zero, target);
}

int eth_arp_build_reply(uint8_t *buf, size_t cap, const uint8_t mac[ETH_MAC_LEN],
			uint32_t ip, const struct eth_arp *req)
{
	return arp_build(buf, cap, req->sha, ETH_ARP_REPLY, mac, ip, req->sha, req->spa);
}

unsigned eth_arp_actions(const struct eth_arp *a, uint32_t ip, uint32_t next_hop)
{
	unsigned act = 0;

	/* A group or zero sender address is nobody to answer or to send to. */
	if (!eth_mac_is_unicast(a->sha))
		return 0;
	if (a->op == ETH_ARP_REQUEST && a->tpa == ip)
		act |= ETH_ARP_ANSWER;
	/* RFC 826 would also update an entry from any packet; with one entry
	 * that is this: whatever the next hop says about itself is news,
	 * gratuitous ARP (a moved or replaced gateway) included. */
	if (next_hop && a->spa == next_hop)
		act |= ETH_ARP_LEARN;
	return act;
}

int eth_ipv4_classify(const uint8_t *ip, size_t len, uint32_t addr)
{
	struct wire_reader r;
	uint8_t vihl, proto;
	uint32_t dst;

	wire_reader_init(&r, ip, len);
	vihl = wire_read_u8(&r);
	(void)wire_read_ptr(&r, 8);		/* TOS, length, id, fragment, TTL */
	proto = wire_read_u8(&r);
	(void)wire_read_ptr(&r, 6);		/* checksum, source */
	dst = wire_read_u32(&r);
	if (r.err)
		return -EMSGSIZE;
	if (vihl >> 4 != 4)
		return -EBADMSG;
	if (proto != IPPROTO_TCP_NUM || dst != addr)
		return -ENOENT;
	return 0;
}

/* True if x is a host address on the link net/mask (prefix < 31: not the
 * network or broadcast address). */
static bool on_link(uint32_t x, uint32_t net, uint32_t mask, uint8_t prefix)
{
	if ((x & mask) != net)
		return false;
	if (prefix <= 30 && ((x & ~mask) == 0 || (x & ~mask) == ~mask))
		return false;
	return true;
}

int eth_next_hop(uint32_t addr, uint8_t prefix, uint32_t gateway, uint32_t remote,
		 uint32_t *hop)
{
	uint32_t mask, net;

	if (prefix < 1 || prefix > 32 || !addr || !remote || remote == addr)
		return -EINVAL;
	mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
	net = addr & mask;
	if ((remote & mask) == net) {
		if (prefix == 32 || !on_link(remote, net, mask, prefix))
			return -EINVAL;
		*hop = remote;
		return 0;
	}
	if (!gateway)
		return -ENETUNREACH;
	if (prefix == 32 || gateway == addr || !on_link(gateway, net, mask, prefix))
		return -EADDRNOTAVAIL;
	*hop = gateway;
	return 0;
}
