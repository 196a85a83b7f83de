/* libFuzzer harness for Ethernet and ARP (src/eth.c).
 *
 * The input is one received frame, handled as the DPDK driver does: the
 * Ethernet header, then by EtherType the ARP packet (with what it asks of
 * us) or the IPv4 pre-sort followed by tcp_parse. Its first 13 bytes also
 * give an address, prefix, gateway and destination for the next-hop
 * choice.
 *
 * Besides "no crash, no sanitizer report" it checks: eth_parse refuses
 * exactly the frames shorter than the header; an accepted ARP packet gets a
 * reply that parses back with the addresses swapped, and a request built
 * from its fields parses back the same; an answer is only ever asked for a
 * request to our address from a unicast sender; a next hop is the
 * destination only when it is on the link, else the gateway, which is.
 *
 * With -DFUZZ_STANDALONE, main() replays the files it is given (replay.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eth.h"
#include "tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUR_IP  0x0a5d0001u	/* 10.93.0.1 */
#define HOP_IP  0x0a5d0002u	/* 10.93.0.2 */

static const uint8_t our_mac[ETH_MAC_LEN] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 };

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_arp(const uint8_t *p, size_t len)
{
	struct eth_arp a, b;
	uint8_t frame[ETH_FRAME_MIN];
	unsigned act;

	if (eth_arp_parse(p, len, &a) < 0)
		return;
	if (len < ETH_ARP_LEN || (a.op != ETH_ARP_REQUEST && a.op != ETH_ARP_REPLY))
		abort();
	act = eth_arp_actions(&a, OUR_IP, HOP_IP);
	if ((act & ETH_ARP_ANSWER) &&
	    (a.op != ETH_ARP_REQUEST || a.tpa != OUR_IP || !eth_mac_is_unicast(a.sha)))
		abort();
	if ((act & ETH_ARP_LEARN) && (a.spa != HOP_IP || !eth_mac_is_unicast(a.sha)))
		abort();

	/* Our reply to it, parsed back: the addresses swapped. */
	if (eth_arp_build_reply(frame, sizeof(frame), our_mac, OUR_IP, &a) != ETH_FRAME_MIN)
		abort();
	if (eth_arp_parse(frame + ETH_HDR_LEN, sizeof(frame) - ETH_HDR_LEN, &b) < 0)
		abort();
	if (b.op != ETH_ARP_REPLY || memcmp(b.sha, our_mac, ETH_MAC_LEN) ||
	    b.spa != OUR_IP || memcmp(b.tha, a.sha, ETH_MAC_LEN) || b.tpa != a.spa ||
	    memcmp(frame, a.sha, ETH_MAC_LEN))
		abort();

	/* A request from its sender for its target, parsed back the same. */
	if (eth_arp_build_request(frame, sizeof(frame), a.sha, a.spa, a.tpa) != ETH_FRAME_MIN)
		abort();
	if (eth_arp_parse(frame + ETH_HDR_LEN, sizeof(frame) - ETH_HDR_LEN, &b) < 0)
		abort();
	if (b.op != ETH_ARP_REQUEST || memcmp(b.sha, a.sha, ETH_MAC_LEN) || b.spa != a.spa ||
	    b.tpa != a.tpa || memcmp(frame, eth_broadcast, ETH_MAC_LEN))
		abort();
}

static void check_ipv4(const uint8_t *p, size_t len)
{
	struct tcp_seg s;
	int rc = eth_ipv4_classify(p, len, OUR_IP);

	if (rc == -EMSGSIZE && len >= 20)
		abort();
	if (rc != 0)
		return;
	if (len < 20 || p[0] >> 4 != 4 || p[9] != 6 || get32(p + 16) != OUR_IP)
		abort();
	if (tcp_parse(p, len, &s) == 0) {
		if (s.ip_len > len || s.ip_hlen + s.tcp_len != s.ip_len ||
		    (s.data_len && s.data + s.data_len > p + len))
			abort();
		(void)tcp_csum_verify(&s);
	}
}

static void check_next_hop(const uint8_t *d)
{
	uint32_t addr = get32(d), gw = get32(d + 5), remote = get32(d + 9), hop = 0, mask;
	uint8_t prefix = d[4];
	int rc = eth_next_hop(addr, prefix, gw, remote, &hop);

	if (rc < 0)
		return;
	if (prefix < 1 || prefix > 32 || !addr || !remote || remote == addr)
		abort();
	mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
	if ((remote & mask) == (addr & mask)) {
		if (hop != remote)
			abort();
	} else if (hop != gw || (gw & mask) != (addr & mask) || gw == addr) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eth_hdr h;
	int off = eth_parse(data, size, &h);

	if (size >= 13)
		check_next_hop(data);
	if ((off == -EMSGSIZE) != (size < ETH_HDR_LEN))
		abort();
	if (off < 0)
		return 0;
	if (off != ETH_HDR_LEN)
		abort();
	(void)eth_dst_is_ours(h.dst, our_mac, h.type == ETH_TYPE_ARP);
	if (h.type == ETH_TYPE_ARP)
		check_arp(data + off, size - (size_t)off);
	else if (h.type == ETH_TYPE_IPV4)
		check_ipv4(data + off, size - (size_t)off);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_HARNESS "fuzz_eth"
#include "replay.h"
#endif
