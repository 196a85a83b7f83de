/* Ethernet and ARP for the DPDK port (src/eth.c): crafted frames, every
 * truncation, every refused field, requests and replies built byte-exact
 * and parsed back, what an ARP packet asks of us, the IPv4 pre-sort and
 * the next-hop choice.
 *
 * Inputs that must be refused for their length are copied into heap
 * buffers of exactly that length so that ASan catches a read one byte too
 * far. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "eth.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const uint8_t our_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 };
static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

/* A request from 10.93.0.2 (peer_mac) for 10.93.0.1, as Linux sends it:
 * broadcast, target hardware address zero, padded to 60 bytes. */
static const uint8_t linux_request[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,		/* dst */
	0x52, 0x54, 0x00, 0xab, 0xcd, 0xef,		/* src */
	0x08, 0x06,					/* ARP */
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,	/* Ethernet, IPv4, 6, 4, request */
	0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 10, 93, 0, 2,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 93, 0, 1,
};

static int eth_parse_exact(const uint8_t *f, size_t len, struct eth_hdr *h)
{
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, f, len);
	rc = eth_parse(len ? p : NULL, len, h);
	free(p);
	return rc;
}

static int arp_parse_exact(const uint8_t *a, size_t len, struct eth_arp *out)
{
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, a, len);
	rc = eth_arp_parse(len ? p : NULL, len, out);
	free(p);
	return rc;
}

static int classify_exact(const uint8_t *ip, size_t len, uint32_t addr)
{
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, ip, len);
	rc = eth_ipv4_classify(len ? p : NULL, len, addr);
	free(p);
	return rc;
}

/* --- Ethernet ------------------------------------------------------------------ */

START_TEST(eth_header_parsed)
{
	struct eth_hdr h;

	ck_assert_int_eq(eth_parse_exact(linux_request, sizeof(linux_request), &h), ETH_HDR_LEN);
	ck_assert_mem_eq(h.dst, eth_broadcast, 6);
	ck_assert_mem_eq(h.src, peer_mac, 6);
	ck_assert_uint_eq(h.type, ETH_TYPE_ARP);
	/* Just the header, no payload: fine. */
	ck_assert_int_eq(eth_parse_exact(linux_request, ETH_HDR_LEN, &h), ETH_HDR_LEN);
	/* Any other EtherType, 802.3 lengths included, is the caller's. */
	{
		uint8_t f[ETH_HDR_LEN];

		memcpy(f, linux_request, sizeof(f));
		f[12] = 0x86, f[13] = 0xdd;
		ck_assert_int_eq(eth_parse_exact(f, sizeof(f), &h), ETH_HDR_LEN);
		ck_assert_uint_eq(h.type, 0x86dd);
		f[12] = 0x00, f[13] = 0x2e;
		ck_assert_int_eq(eth_parse_exact(f, sizeof(f), &h), ETH_HDR_LEN);
		ck_assert_uint_eq(h.type, 0x002e);
	}
}
END_TEST

START_TEST(eth_every_truncation_refused)
{
	struct eth_hdr h;

	for (size_t n = 0; n < ETH_HDR_LEN; n++)
		ck_assert_msg(eth_parse_exact(linux_request, n, &h) == -EMSGSIZE, "len %zu", n);
}
END_TEST

START_TEST(eth_vlan_tags_refused)
{
	static const uint16_t tags[] = { ETH_TYPE_VLAN, ETH_TYPE_QINQ, ETH_TYPE_QINQ_OLD };
	uint8_t f[64];
	struct eth_hdr h;

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		memcpy(f, linux_request, sizeof(linux_request));
		f[12] = (uint8_t)(tags[i] >> 8), f[13] = (uint8_t)tags[i];
		ck_assert_int_eq(eth_parse_exact(f, sizeof(linux_request), &h), -EPROTONOSUPPORT);
		ck_assert_uint_eq(h.type, tags[i]);
	}
}
END_TEST

START_TEST(eth_header_written)
{
	uint8_t p[ETH_HDR_LEN + 2];
	static const uint8_t want[ETH_HDR_LEN] = {
		0x52, 0x54, 0x00, 0xab, 0xcd, 0xef,
		0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,
		0x08, 0x00,
	};
	struct eth_hdr h;

	memset(p, 0xaa, sizeof(p));
	ck_assert_uint_eq(eth_put_hdr(p, peer_mac, our_mac, ETH_TYPE_IPV4), ETH_HDR_LEN);
	ck_assert_mem_eq(p, want, ETH_HDR_LEN);
	ck_assert_uint_eq(p[ETH_HDR_LEN], 0xaa);		/* nothing past it */
	ck_assert_int_eq(eth_parse(p, ETH_HDR_LEN, &h), ETH_HDR_LEN);
	ck_assert_mem_eq(h.dst, peer_mac, 6);
	ck_assert_mem_eq(h.src, our_mac, 6);
	ck_assert_uint_eq(h.type, ETH_TYPE_IPV4);
}
END_TEST

START_TEST(eth_addresses_sorted)
{
	static const uint8_t zero[6], group[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	uint8_t other[6];

	memcpy(other, our_mac, 6);
	other[5] ^= 1;
	ck_assert(eth_dst_is_ours(our_mac, our_mac, false));
	ck_assert(eth_dst_is_ours(our_mac, our_mac, true));
	ck_assert(!eth_dst_is_ours(other, our_mac, true));
	ck_assert(!eth_dst_is_ours(eth_broadcast, our_mac, false));
	ck_assert(eth_dst_is_ours(eth_broadcast, our_mac, true));
	ck_assert(!eth_dst_is_ours(group, our_mac, true));	/* multicast: never */

	ck_assert(eth_mac_is_unicast(our_mac));
	ck_assert(eth_mac_is_unicast(peer_mac));
	ck_assert(!eth_mac_is_unicast(zero));
	ck_assert(!eth_mac_is_unicast(group));
	ck_assert(!eth_mac_is_unicast(eth_broadcast));
}
END_TEST

/* --- ARP parsing ------------------------------------------------------------------ */

START_TEST(arp_request_parsed)
{
	const uint8_t *a = linux_request + ETH_HDR_LEN;
	struct eth_arp arp;

	/* With the frame's padding behind it, and without. */
	ck_assert_int_eq(arp_parse_exact(a, sizeof(linux_request) - ETH_HDR_LEN, &arp), 0);
	ck_assert_int_eq(arp_parse_exact(a, ETH_ARP_LEN, &arp), 0);
	ck_assert_uint_eq(arp.op, ETH_ARP_REQUEST);
	ck_assert_mem_eq(arp.sha, peer_mac, 6);
	ck_assert_uint_eq(arp.spa, IP(10, 93, 0, 2));
	ck_assert_uint_eq(arp.tpa, IP(10, 93, 0, 1));
	{
		static const uint8_t zero[6];

		ck_assert_mem_eq(arp.tha, zero, 6);
	}
}
END_TEST

START_TEST(arp_every_truncation_refused)
{
	const uint8_t *a = linux_request + ETH_HDR_LEN;
	struct eth_arp arp;

	memset(&arp, 0x5a, sizeof(arp));
	for (size_t n = 0; n < ETH_ARP_LEN; n++)
		ck_assert_msg(arp_parse_exact(a, n, &arp) == -EMSGSIZE, "len %zu", n);
	ck_assert_uint_eq(arp.op, 0x5a5a);		/* untouched when refused */
}
END_TEST

/* Each field that is not Ethernet/IPv4 ARP, with the error it gets. */
static const struct {
	size_t off;		/* in the ARP packet */
	uint8_t v[2];
	size_t n;
	int err;
} bad_fields[] = {
	{ 0, { 0x00, 0x06 }, 2, -EPFNOSUPPORT },	/* htype IEEE 802 */
	{ 0, { 0x00, 0x00 }, 2, -EPFNOSUPPORT },
	{ 0, { 0x01, 0x01 }, 2, -EPFNOSUPPORT },
	{ 4, { 8 }, 1, -EPFNOSUPPORT },			/* hlen */
	{ 4, { 0 }, 1, -EPFNOSUPPORT },
	{ 2, { 0x86, 0xdd }, 2, -EAFNOSUPPORT },	/* ptype IPv6 */
	{ 2, { 0x08, 0x06 }, 2, -EAFNOSUPPORT },
	{ 2, { 0x00, 0x08 }, 2, -EAFNOSUPPORT },	/* byte-swapped */
	{ 5, { 16 }, 1, -EAFNOSUPPORT },		/* plen */
	{ 5, { 0 }, 1, -EAFNOSUPPORT },
	{ 6, { 0x00, 0x00 }, 2, -EOPNOTSUPP },		/* op */
	{ 6, { 0x00, 0x03 }, 2, -EOPNOTSUPP },		/* RARP */
	{ 6, { 0x00, 0x04 }, 2, -EOPNOTSUPP },
	{ 6, { 0x00, 0x08 }, 2, -EOPNOTSUPP },		/* InARP */
	{ 6, { 0x01, 0x00 }, 2, -EOPNOTSUPP },		/* byte-swapped request */
	{ 6, { 0xff, 0xff }, 2, -EOPNOTSUPP },
};

START_TEST(arp_bad_field_refused)
{
	uint8_t a[ETH_ARP_LEN];
	struct eth_arp arp;

	memcpy(a, linux_request + ETH_HDR_LEN, sizeof(a));
	memcpy(a + bad_fields[_i].off, bad_fields[_i].v, bad_fields[_i].n);
	ck_assert_int_eq(arp_parse_exact(a, sizeof(a), &arp), bad_fields[_i].err);
	/* The length check comes first: one byte short is short. */
	ck_assert_int_eq(arp_parse_exact(a, sizeof(a) - 1, &arp), -EMSGSIZE);
}
END_TEST

/* A slow reference on random packets (fixed seed): accepted exactly when
 * every field is right, and then every field read back. */
START_TEST(arp_random_against_reference)
{
	uint32_t x = 12345;
	uint8_t a[ETH_ARP_LEN];
	struct eth_arp arp;

	for (int iter = 0; iter < 20000; iter++) {
		int want, rc;

		for (size_t i = 0; i < sizeof(a); i++) {
			x = x * 1103515245u + 12345u;
			a[i] = (uint8_t)(x >> 16);
		}
		/* Bias towards valid headers so both paths run. */
		if (iter % 4) {
			memcpy(a, linux_request + ETH_HDR_LEN, 8);
			a[7] = (uint8_t)(1 + iter % 3);		/* op 1, 2 or 3 */
			if (iter % 7 == 0)
				a[(size_t)iter % 8] ^= (uint8_t)(1u << (iter % 8));
		}
		if (!(a[0] == 0 && a[1] == 1 && a[4] == 6))
			want = -EPFNOSUPPORT;
		else if (!(a[2] == 8 && a[3] == 0 && a[5] == 4))
			want = -EAFNOSUPPORT;
		else if (!(a[6] == 0 && (a[7] == 1 || a[7] == 2)))
			want = -EOPNOTSUPP;
		else
			want = 0;
		rc = eth_arp_parse(a, sizeof(a), &arp);
		ck_assert_int_eq(rc, want);
		if (rc == 0) {
			ck_assert_uint_eq(arp.op, a[7]);
			ck_assert_mem_eq(arp.sha, a + 8, 6);
			ck_assert_uint_eq(arp.spa, IP(a[14], a[15], a[16], a[17]));
			ck_assert_mem_eq(arp.tha, a + 18, 6);
			ck_assert_uint_eq(arp.tpa, IP(a[24], a[25], a[26], a[27]));
		}
	}
}
END_TEST

/* --- ARP building ------------------------------------------------------------------ */

START_TEST(arp_request_built_byte_exact)
{
	static const uint8_t want[ETH_FRAME_MIN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 10, 93, 0, 1,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 93, 0, 2,
	};
	uint8_t buf[ETH_FRAME_MIN + 4];
	struct eth_hdr h;
	struct eth_arp a;

	memset(buf, 0xcc, sizeof(buf));
	ck_assert_int_eq(eth_arp_build_request(buf, sizeof(buf), our_mac, IP(10, 93, 0, 1),
					       IP(10, 93, 0, 2)), ETH_FRAME_MIN);
	ck_assert_mem_eq(buf, want, ETH_FRAME_MIN);
	ck_assert_uint_eq(buf[ETH_FRAME_MIN], 0xcc);
	/* And back. */
	ck_assert_int_eq(eth_parse(buf, ETH_FRAME_MIN, &h), ETH_HDR_LEN);
	ck_assert_uint_eq(h.type, ETH_TYPE_ARP);
	ck_assert_int_eq(eth_arp_parse(buf + ETH_HDR_LEN, ETH_FRAME_MIN - ETH_HDR_LEN, &a), 0);
	ck_assert_uint_eq(a.op, ETH_ARP_REQUEST);
	ck_assert_mem_eq(a.sha, our_mac, 6);
	ck_assert_uint_eq(a.spa, IP(10, 93, 0, 1));
	ck_assert_uint_eq(a.tpa, IP(10, 93, 0, 2));

	/* Exactly the minimum frame fits; one byte less does not. */
	ck_assert_int_eq(eth_arp_build_request(buf, ETH_FRAME_MIN, our_mac, 1, 2), ETH_FRAME_MIN);
	ck_assert_int_eq(eth_arp_build_request(buf, ETH_FRAME_MIN - 1, our_mac, 1, 2), -ENOBUFS);
	ck_assert_int_eq(eth_arp_build_request(NULL, 0, our_mac, 1, 2), -ENOBUFS);
}
END_TEST

START_TEST(arp_reply_built_byte_exact)
{
	static const uint8_t want[ETH_FRAME_MIN] = {
		0x52, 0x54, 0x00, 0xab, 0xcd, 0xef,		/* to the requester */
		0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
		0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 10, 93, 0, 1,
		0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 10, 93, 0, 2,
	};
	uint8_t buf[ETH_FRAME_MIN];
	struct eth_arp req, a;

	ck_assert_int_eq(eth_arp_parse(linux_request + ETH_HDR_LEN, ETH_ARP_LEN, &req), 0);
	ck_assert_uint_eq(eth_arp_actions(&req, IP(10, 93, 0, 1), IP(10, 93, 0, 2)),
			  ETH_ARP_ANSWER | ETH_ARP_LEARN);
	memset(buf, 0xcc, sizeof(buf));
	ck_assert_int_eq(eth_arp_build_reply(buf, sizeof(buf), our_mac, IP(10, 93, 0, 1), &req),
			 ETH_FRAME_MIN);
	ck_assert_mem_eq(buf, want, ETH_FRAME_MIN);
	ck_assert_int_eq(eth_arp_parse(buf + ETH_HDR_LEN, ETH_ARP_LEN, &a), 0);
	ck_assert_uint_eq(a.op, ETH_ARP_REPLY);
	ck_assert_mem_eq(a.tha, peer_mac, 6);
	/* The reply, seen by the requester, teaches it our MAC. */
	ck_assert_uint_eq(eth_arp_actions(&a, IP(10, 93, 0, 2), IP(10, 93, 0, 1)), ETH_ARP_LEARN);
	ck_assert_int_eq(eth_arp_build_reply(buf, ETH_FRAME_MIN - 1, our_mac, 1, &req), -ENOBUFS);
}
END_TEST

START_TEST(arp_actions_table)
{
	const uint32_t me = IP(10, 93, 0, 1), hop = IP(10, 93, 0, 254), other = IP(10, 93, 0, 7);
	static const uint8_t group[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 }, zero[6];
	const struct {
		uint16_t op;
		const uint8_t *sha;
		uint32_t spa, tpa;
		unsigned want;
	} tbl[] = {
		{ ETH_ARP_REQUEST, peer_mac, other, me, ETH_ARP_ANSWER },
		{ ETH_ARP_REQUEST, peer_mac, hop, me, ETH_ARP_ANSWER | ETH_ARP_LEARN },
		{ ETH_ARP_REQUEST, peer_mac, hop, other, ETH_ARP_LEARN },	/* asks someone else */
		{ ETH_ARP_REQUEST, peer_mac, other, other, 0 },
		{ ETH_ARP_REQUEST, peer_mac, 0, me, ETH_ARP_ANSWER },		/* RFC 5227 probe */
		{ ETH_ARP_REPLY, peer_mac, hop, me, ETH_ARP_LEARN },
		{ ETH_ARP_REPLY, peer_mac, hop, hop, ETH_ARP_LEARN },		/* gratuitous */
		{ ETH_ARP_REPLY, peer_mac, other, me, 0 },
		{ ETH_ARP_REQUEST, group, hop, me, 0 },			/* group sender: nobody */
		{ ETH_ARP_REQUEST, eth_broadcast, hop, me, 0 },
		{ ETH_ARP_REPLY, zero, hop, me, 0 },
	};

	for (size_t i = 0; i < sizeof(tbl) / sizeof(tbl[0]); i++) {
		struct eth_arp a = { .op = tbl[i].op, .spa = tbl[i].spa, .tpa = tbl[i].tpa };

		memcpy(a.sha, tbl[i].sha, 6);
		ck_assert_msg(eth_arp_actions(&a, me, hop) == tbl[i].want, "row %zu", i);
	}
	/* Without a next hop (never the case once open) nothing is learnt. */
	{
		struct eth_arp a = { .op = ETH_ARP_REPLY, .spa = 0, .tpa = me };

		memcpy(a.sha, peer_mac, 6);
		ck_assert_uint_eq(eth_arp_actions(&a, me, 0), 0);
	}
}
END_TEST

/* --- IPv4 pre-sort ------------------------------------------------------------------ */

START_TEST(ipv4_classified)
{
	uint8_t ip[20] = {
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,
		10, 93, 0, 2, 10, 93, 0, 1,
	};
	const uint32_t me = IP(10, 93, 0, 1);

	ck_assert_int_eq(classify_exact(ip, sizeof(ip), me), 0);
	for (size_t n = 0; n < sizeof(ip); n++)
		ck_assert_msg(classify_exact(ip, n, me) == -EMSGSIZE, "len %zu", n);
	ck_assert_int_eq(classify_exact(ip, sizeof(ip), IP(10, 93, 0, 9)), -ENOENT);
	ip[9] = 17;					/* UDP */
	ck_assert_int_eq(classify_exact(ip, sizeof(ip), me), -ENOENT);
	ip[9] = 1;					/* ICMP */
	ck_assert_int_eq(classify_exact(ip, sizeof(ip), me), -ENOENT);
	ip[9] = 6;
	ip[19] = 255;					/* broadcast */
	ck_assert_int_eq(classify_exact(ip, sizeof(ip), me), -ENOENT);
	ip[19] = 1;
	ip[0] = 0x65;					/* version 6 */
	ck_assert_int_eq(classify_exact(ip, sizeof(ip), me), -EBADMSG);
	/* IHL and the rest are tcp_parse's: a bad IHL still passes here. */
	ip[0] = 0x43;
	ck_assert_int_eq(classify_exact(ip, sizeof(ip), me), 0);
}
END_TEST

/* --- next hop ------------------------------------------------------------------ */

START_TEST(next_hop_table)
{
	const struct {
		uint32_t addr;
		uint8_t prefix;
		uint32_t gw, remote;
		int rc;
		uint32_t hop;
	} tbl[] = {
		/* On the link: the destination itself, gateway or not. */
		{ IP(10, 93, 0, 1), 24, 0, IP(10, 93, 0, 2), 0, IP(10, 93, 0, 2) },
		{ IP(10, 93, 0, 1), 24, IP(10, 93, 0, 254), IP(10, 93, 0, 2), 0, IP(10, 93, 0, 2) },
		{ IP(10, 93, 0, 1), 24, 0, IP(10, 93, 0, 254), 0, IP(10, 93, 0, 254) },
		/* Off the link: the gateway. */
		{ IP(10, 93, 0, 1), 24, IP(10, 93, 0, 254), IP(192, 0, 2, 9), 0, IP(10, 93, 0, 254) },
		{ IP(10, 93, 0, 1), 24, IP(10, 93, 0, 254), IP(10, 93, 1, 2), 0, IP(10, 93, 0, 254) },
		{ IP(10, 93, 0, 1), 24, 0, IP(192, 0, 2, 9), -ENETUNREACH, 0 },
		/* Gateways that are not hosts on the link. */
		{ IP(10, 93, 0, 1), 24, IP(10, 93, 1, 1), IP(192, 0, 2, 9), -EADDRNOTAVAIL, 0 },
		{ IP(10, 93, 0, 1), 24, IP(10, 93, 0, 1), IP(192, 0, 2, 9), -EADDRNOTAVAIL, 0 },
		{ IP(10, 93, 0, 1), 24, IP(10, 93, 0, 255), IP(192, 0, 2, 9), -EADDRNOTAVAIL, 0 },
		{ IP(10, 93, 0, 1), 24, IP(10, 93, 0, 0), IP(192, 0, 2, 9), -EADDRNOTAVAIL, 0 },
		/* Destinations that are not hosts. */
		{ IP(10, 93, 0, 1), 24, 0, IP(10, 93, 0, 1), -EINVAL, 0 },
		{ IP(10, 93, 0, 1), 24, 0, IP(10, 93, 0, 255), -EINVAL, 0 },
		{ IP(10, 93, 0, 1), 24, 0, IP(10, 93, 0, 0), -EINVAL, 0 },
		{ IP(10, 93, 0, 1), 24, 0, 0, -EINVAL, 0 },
		{ 0, 24, 0, IP(10, 93, 0, 2), -EINVAL, 0 },
		/* Prefix bounds. */
		{ IP(10, 93, 0, 1), 0, 0, IP(10, 93, 0, 2), -EINVAL, 0 },
		{ IP(10, 93, 0, 1), 33, 0, IP(10, 93, 0, 2), -EINVAL, 0 },
		/* /31 (RFC 3021): both addresses are hosts. */
		{ IP(10, 93, 0, 0), 31, 0, IP(10, 93, 0, 1), 0, IP(10, 93, 0, 1) },
		{ IP(10, 93, 0, 1), 31, 0, IP(10, 93, 0, 0), 0, IP(10, 93, 0, 0) },
		{ IP(10, 93, 0, 1), 31, 0, IP(10, 93, 0, 2), -ENETUNREACH, 0 },
		/* /30: two hosts, network and broadcast are not. */
		{ IP(10, 93, 0, 1), 30, 0, IP(10, 93, 0, 2), 0, IP(10, 93, 0, 2) },
		{ IP(10, 93, 0, 1), 30, 0, IP(10, 93, 0, 3), -EINVAL, 0 },
		/* /32: nothing else on the link, so no gateway either. */
		{ IP(10, 93, 0, 1), 32, 0, IP(10, 93, 0, 2), -ENETUNREACH, 0 },
		{ IP(10, 93, 0, 1), 32, IP(10, 93, 0, 2), IP(10, 93, 0, 3), -EADDRNOTAVAIL, 0 },
		/* /1 and /8 boundaries. */
		{ IP(10, 0, 0, 1), 1, 0, IP(127, 255, 255, 254), 0, IP(127, 255, 255, 254) },
		{ IP(10, 0, 0, 1), 1, 0, IP(128, 0, 0, 1), -ENETUNREACH, 0 },
		{ IP(10, 0, 0, 1), 8, 0, IP(10, 255, 255, 255), -EINVAL, 0 },
		{ IP(10, 0, 0, 1), 8, 0, IP(10, 255, 255, 254), 0, IP(10, 255, 255, 254) },
	};

	for (size_t i = 0; i < sizeof(tbl) / sizeof(tbl[0]); i++) {
		uint32_t hop = 0xdeadbeef;
		int rc = eth_next_hop(tbl[i].addr, tbl[i].prefix, tbl[i].gw, tbl[i].remote, &hop);

		ck_assert_msg(rc == tbl[i].rc, "row %zu: rc %d, want %d", i, rc, tbl[i].rc);
		if (rc == 0)
			ck_assert_msg(hop == tbl[i].hop, "row %zu: hop %08x", i, hop);
		else
			ck_assert_msg(hop == 0xdeadbeef, "row %zu: hop written", i);
	}
}
END_TEST

static Suite *eth_suite(void)
{
	Suite *s = suite_create("eth");
	TCase *tc;

	tc = tcase_create("ethernet");
	tcase_add_test(tc, eth_header_parsed);
	tcase_add_test(tc, eth_every_truncation_refused);
	tcase_add_test(tc, eth_vlan_tags_refused);
	tcase_add_test(tc, eth_header_written);
	tcase_add_test(tc, eth_addresses_sorted);
	suite_add_tcase(s, tc);

	tc = tcase_create("arp");
	tcase_add_test(tc, arp_request_parsed);
	tcase_add_test(tc, arp_every_truncation_refused);
	tcase_add_loop_test(tc, arp_bad_field_refused, 0,
			    (int)(sizeof(bad_fields) / sizeof(bad_fields[0])));
	tcase_add_test(tc, arp_random_against_reference);
	tcase_add_test(tc, arp_request_built_byte_exact);
	tcase_add_test(tc, arp_reply_built_byte_exact);
	tcase_add_test(tc, arp_actions_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("ip");
	tcase_add_test(tc, ipv4_classified);
	tcase_add_test(tc, next_hop_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(eth_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
