/* braid-attack: hostile input for braidd's link ports, for the tests.
 *
 *   braid-attack capture --port P --count N --out FILE [--timeout S]
 *       Copies the first N UDP payloads sent to 127.0.0.1:P (any source) off
 *       the loopback interface (an AF_PACKET socket: needs CAP_NET_RAW) into
 *       FILE, each as a 2-byte big-endian length and the bytes.
 *   braid-attack flood --to ADDR[,ADDR...] [--rate PPS|max] [--duration S]
 *                      [--kinds K,K...] [--replay FILE] [--json FILE]
 *                      [--spoof IPv4:PORT[,...]]
 *       Sends, round robin over the targets and the kinds, from one socket:
 *         random    1..1400 random bytes
 *         short     a valid outer header cut short (1..31 bytes)
 *         badtag    a captured packet (--replay) with a fresh counter and its
 *                   ciphertext or tag changed: the session is right, the tag
 *                   is not
 *         badsession  a captured packet with another session id: its header
 *                   and length are right, its session is no one's
 *         oversize  2049..65000 bytes, larger than any tunnel packet
 *         replay    a captured packet as it was
 *         hsinit    a handshake init with a wrong MAC
 *         hsreplay  a captured handshake init (--replay) as it was: a valid
 *                   MAC, so the hub answers it, from its source's bucket
 *       --rate max sends as fast as the socket takes them (waiting only when
 *       its buffer is full), for a flood at the machine's limit.
 *       It counts what comes back to that socket: a relay must never send an
 *       unauthenticated source more bytes than it got from it. With --spoof
 *       (IPv4, CAP_NET_RAW) the packets to the Nth target claim to come from
 *       the Nth spoofed address (the edge's connected sockets take nothing
 *       from anyone else), through a raw socket; nothing comes back then.
 *
 * The JSON summary: {"sent": {KIND: N...}, "sent_bytes": N, "received_pkts": N,
 * "received_bytes": N}. Exit status 0, or 2 for bad arguments. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "braid/wire.h"
#include "addr.h"

#define TARGETS_MAX 16
#define CAPTURE_MAX 256
#define BIG_MAX 65507

enum kind { K_RANDOM, K_SHORT, K_BADTAG, K_OVERSIZE, K_REPLAY, K_HSINIT, K_BADSESSION,
	    K_HSREPLAY, K_COUNT };
static const char *const kind_names[K_COUNT] = {
	"random", "short", "badtag", "oversize", "replay", "hsinit", "badsession", "hsreplay",
};

struct captured {
	uint16_t len;
	uint8_t data[BRAID_PKT_MAX];
};

static struct captured cap[CAPTURE_MAX];
static unsigned ncap;
/* The captured handshake inits, for hsreplay. */
static unsigned init_idx[CAPTURE_MAX], ninit;
static uint8_t big[BIG_MAX];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*, seeded once from getrandom: a syscall per packet would be
 * most of what a flood at full rate costs. Not for keys, only for junk. */
static uint64_t rnd_state;

static uint32_t rnd32(void)
{
	if (!rnd_state) {
		if (getrandom(&rnd_state, sizeof(rnd_state), 0) != sizeof(rnd_state) || !rnd_state)
			rnd_state = now_ns() | 1;
	}
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (uint32_t)((rnd_state * 2685821657736338717ull) >> 32);
}

static void rnd_fill(uint8_t *p, size_t n)
{
	while (n >= 4) {
		uint32_t v = rnd32();

		memcpy(p, &v, 4);
		p += 4;
		n -= 4;
	}
	while (n-- > 0)
		*p++ = (uint8_t)rnd32();
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: braid-attack capture --port P --count N --out FILE [--timeout S]\n"
		"       braid-attack flood --to ADDR[,ADDR...] [--rate PPS|max] [--duration S]\n"
		"                          [--kinds K,K...] [--replay FILE] [--json FILE]\n"
		"                          [--spoof IPv4:PORT[,...]]\n"
		"kinds: random, short, badtag, oversize, replay, hsinit, badsession, hsreplay\n"
		"(default: all that apply; badtag, replay and badsession need --replay,\n"
		"hsreplay a handshake init in it)\n");
}

/* --- capture ----------------------------------------------------------------- */

static int capture(unsigned port, unsigned count, const char *out, unsigned timeout_s)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	uint64_t end = now_ns() + (uint64_t)timeout_s * 1000000000ull;
	uint8_t frame[BIG_MAX + 64];
	unsigned got = 0;
	FILE *f;
	int fd;

	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (fd < 0) {
		perror("braid-attack: AF_PACKET socket (needs CAP_NET_RAW)");
		return 1;
	}
	sll.sll_ifindex = (int)if_nametoindex("lo");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("braid-attack: bind to lo");
		close(fd);
		return 1;
	}
	f = fopen(out, "wb");
	if (!f) {
		perror(out);
		close(fd);
		return 1;
	}
	while (got < count && now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		const struct iphdr *ip = (const void *)frame;
		const struct udphdr *udp;
		size_t ihl, ulen;
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recvfrom(fd, frame, sizeof(frame), 0, (struct sockaddr *)&from, &flen);
		/* Loopback shows each packet twice (out and in): take one. */
		if (n < (ssize_t)sizeof(*ip) || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		ihl = (size_t)ip->ihl * 4;
		if (ip->version != 4 || ip->protocol != IPPROTO_UDP || ihl < sizeof(*ip) ||
		    (size_t)n < ihl + sizeof(*udp))
			continue;
		udp = (const void *)(frame + ihl);
		ulen = ntohs(udp->len);
		if (ntohs(udp->dest) != port || ulen < sizeof(*udp) || ihl + ulen > (size_t)n ||
		    ulen - sizeof(*udp) > BRAID_PKT_MAX)
			continue;
		ulen -= sizeof(*udp);
		fputc((int)(ulen >> 8), f);
		fputc((int)(ulen & 0xff), f);
		fwrite(frame + ihl + sizeof(*udp), 1, ulen, f);
		got++;
	}
	close(fd);
	if (fclose(f) != 0) {
		perror(out);
		return 1;
	}
	fprintf(stderr, "braid-attack: captured %u packet%s to port %u\n", got,
		got == 1 ? "" : "s", port);
	return got == count ? 0 : 1;
}

static int load_capture(const char *path)
{
	FILE *f = fopen(path, "rb");
	int hi, lo;

	if (!f) {
		perror(path);
		return -1;
	}
	while (ncap < CAPTURE_MAX && (hi = fgetc(f)) != EOF && (lo = fgetc(f)) != EOF) {
		size_t len = (size_t)hi << 8 | (size_t)lo;

		if (len > BRAID_PKT_MAX || fread(cap[ncap].data, 1, len, f) != len)
			break;
		if (len == WIRE_HS_LEN && cap[ncap].data[1] == WIRE_HS_INIT)
			init_idx[ninit++] = ncap;
		cap[ncap++].len = (uint16_t)len;
	}
	fclose(f);
	return 0;
}

/* --- flood ------------------------------------------------------------------- */

/* Builds one packet of kind k in buf (or big); returns its length, 0 if the
 * kind cannot be made. */
static size_t make(enum kind k, uint8_t *buf, const uint8_t **out)
{
	size_t n;

	*out = buf;
	switch (k) {
	case K_RANDOM:
		n = 1 + rnd32() % 1400;
		rnd_fill(buf, n);
		return n;
	case K_SHORT:
		n = 1 + rnd32() % (WIRE_MIN_LEN - 1);
		memset(buf, 0, n);
		buf[0] = BRAID_WIRE_VERSION;
		if (n > 1)
			buf[1] = (uint8_t)(1 + rnd32() % WIRE_TYPE_MAX);
		return n;
	case K_BADTAG: {
		const struct captured *c;
		uint64_t ctr;

		if (!ncap)
			return 0;
		c = &cap[rnd32() % ncap];
		if (c->len < WIRE_MIN_LEN + 1)
			return 0;
		memcpy(buf, c->data, c->len);
		/* A counter far ahead on the captured packet's link (its top
		 * byte, kept), so that only the tag can fail there. */
		ctr = ((uint64_t)rnd32() << 20) | 1u << 30;
		for (int i = 1; i < 8; i++)
			buf[8 + i] = (uint8_t)(ctr >> (56 - 8 * i));
		buf[WIRE_OUTER_LEN + rnd32() % (c->len - WIRE_OUTER_LEN)] ^= 0x5a;
		return c->len;
	}
	case K_OVERSIZE:
		n = BRAID_PKT_MAX + 1 + rnd32() % (65000 - BRAID_PKT_MAX);
		big[0] = BRAID_WIRE_VERSION;
		big[1] = 1;
		*out = big;
		return n;
	case K_REPLAY: {
		const struct captured *c;

		if (!ncap)
			return 0;
		c = &cap[rnd32() % ncap];
		memcpy(buf, c->data, c->len);
		return c->len;
	}
	case K_BADSESSION: {
		const struct captured *c;
		uint32_t s;

		if (!ncap)
			return 0;
		c = &cap[rnd32() % ncap];
		if (c->len < WIRE_OUTER_LEN)
			return 0;
		memcpy(buf, c->data, c->len);
		/* Any other id, never 0 (which a check of 0 alone would catch). */
		do
			s = rnd32();
		while (s == 0 || s == ((uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
				       (uint32_t)buf[6] << 8 | buf[7]));
		for (int i = 0; i < 4; i++)
			buf[4 + i] = (uint8_t)(s >> (24 - 8 * i));
		return c->len;
	}
	case K_HSREPLAY: {
		const struct captured *c;

		if (!ninit)
			return 0;
		c = &cap[init_idx[rnd32() % ninit]];
		memcpy(buf, c->data, c->len);
		return c->len;
	}
	case K_HSINIT:
		rnd_fill(buf, WIRE_HS_LEN);
		buf[0] = BRAID_WIRE_VERSION;
		buf[1] = WIRE_HS_INIT;
		buf[2] = buf[3] = 0;
		memset(buf + 8, 0, 8);
		return WIRE_HS_LEN;
	case K_COUNT:
		break;
	}
	return 0;
}

static int parse_kinds(const char *s, bool *want)
{
	char tmp[256], *save = NULL;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	memset(want, 0, K_COUNT * sizeof(*want));
	for (char *w = strtok_r(tmp, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int k = -1;

		for (int i = 0; i < K_COUNT; i++)
			if (!strcmp(w, kind_names[i]))
				k = i;
		if (k < 0)
			return -1;
		want[k] = true;
	}
	return 0;
}

/* Sends len bytes of pkt to dst as if from src: IPv4 and UDP headers of our
 * own on a raw socket (UDP checksum 0: none, as IPv4 allows). */
static ssize_t send_spoofed(int raw, const union braid_addr *src, const union braid_addr *dst,
			    const uint8_t *pkt, size_t len)
{
	static uint8_t frame[sizeof(struct iphdr) + sizeof(struct udphdr) + BIG_MAX];
	struct iphdr *ip = (struct iphdr *)frame;
	struct udphdr *udp = (struct udphdr *)(frame + sizeof(*ip));
	size_t total = sizeof(*ip) + sizeof(*udp) + len;

	if (total > sizeof(frame) || total > 65535)
		return -1;
	memset(frame, 0, sizeof(*ip) + sizeof(*udp));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)total);
	ip->saddr = src->in.sin_addr.s_addr;
	ip->daddr = dst->in.sin_addr.s_addr;
	udp->source = src->in.sin_port;
	udp->dest = dst->in.sin_port;
	udp->len = htons((uint16_t)(sizeof(*udp) + len));
	memcpy(frame + sizeof(*ip) + sizeof(*udp), pkt, len);
	/* The kernel fills the IP checksum and id of an IPPROTO_RAW packet. */
	return sendto(raw, frame, total, 0, &dst->sa, addr_len(dst)) == (ssize_t)total ?
	       (ssize_t)len : -1;
}

/* What came back to the flood's socket. */
static void drain_replies(int fd, uint8_t *rbuf, uint64_t *pkts, uint64_t *bytes)
{
	ssize_t n;

	while ((n = recv(fd, rbuf, BIG_MAX, MSG_DONTWAIT)) >= 0) {
		(*pkts)++;
		*bytes += (uint64_t)n;
	}
}

static int flood(char *to_s, double rate, double secs, const bool *want, const char *json,
		 char *spoof_s)
{
	union braid_addr to[TARGETS_MAX], from[TARGETS_MAX];
	unsigned nfrom = 0;
	int raw = -1;
	uint64_t sent[K_COUNT] = { 0 }, sent_bytes = 0, rx_pkts = 0, rx_bytes = 0;
	uint8_t buf[BRAID_PKT_MAX], rbuf[BIG_MAX];
	unsigned nto = 0, turn = 0;
	char *save = NULL;
	uint64_t start, end, next;
	int fd, sndbuf = 4 << 20;

	for (char *w = strtok_r(to_s, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (nto == TARGETS_MAX || addr_parse(w, &to[nto]) < 0) {
			fprintf(stderr, "braid-attack: bad or too many targets at '%s'\n", w);
			return 2;
		}
		nto++;
	}
	if (!nto)
		return 2;
	save = NULL;
	for (char *w = spoof_s ? strtok_r(spoof_s, ",", &save) : NULL; w;
	     w = strtok_r(NULL, ",", &save)) {
		if (nfrom == TARGETS_MAX || addr_parse(w, &from[nfrom]) < 0 ||
		    from[nfrom].sa.sa_family != AF_INET) {
			fprintf(stderr, "braid-attack: --spoof takes IPv4:PORT addresses ('%s')\n", w);
			return 2;
		}
		nfrom++;
	}
	if (spoof_s) {
		if (nfrom != nto || to[0].sa.sa_family != AF_INET) {
			fprintf(stderr, "braid-attack: --spoof needs one IPv4 address per target\n");
			return 2;
		}
		raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		if (raw < 0) {
			perror("braid-attack: raw socket (needs CAP_NET_RAW)");
			return 1;
		}
	}
	fd = socket(to[0].sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("braid-attack: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	rnd_fill(big, sizeof(big));
	start = now_ns();
	end = start + (uint64_t)(secs * 1e9);
	next = start;
	while (now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t = now_ns();

		if (t >= next) {
			enum kind k = (enum kind)(turn % K_COUNT);
			unsigned ti = (turn / K_COUNT) % nto;
			const union braid_addr *dst = &to[ti];
			const uint8_t *pkt;
			size_t n;
			ssize_t r;

			turn++;
			if (!want[k] || !(n = make(k, buf, &pkt)))
				continue;
			if (raw >= 0)
				r = send_spoofed(raw, &from[ti], dst, pkt, n);
			else
				r = sendto(fd, pkt, n, 0, &dst->sa, addr_len(dst));
			if (r == (ssize_t)n) {
				sent[k]++;
				sent_bytes += n;
			} else if (rate == 0 && raw < 0 && errno == EAGAIN) {
				/* Full speed: the socket is the limit. */
				struct pollfd w = { .fd = fd, .events = POLLOUT };

				poll(&w, 1, 10);
			}
			if (rate == 0 && (turn & 1023) == 0)
				drain_replies(fd, rbuf, &rx_pkts, &rx_bytes);
			next += rate > 0 ? (uint64_t)(1e9 / rate) : 0;
			continue;
		}
		if (poll(&p, 1, (int)((next - t) / 1000000)) > 0) {
			ssize_t n;

			while ((n = recv(fd, rbuf, sizeof(rbuf), 0)) >= 0) {
				rx_pkts++;
				rx_bytes += (uint64_t)n;
			}
		}
	}
	/* Answers still on their way. */
	for (int i = 0; i < 20; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10) <= 0)
			continue;
		while ((n = recv(fd, rbuf, sizeof(rbuf), 0)) >= 0) {
			rx_pkts++;
			rx_bytes += (uint64_t)n;
		}
	}
	close(fd);
	if (raw >= 0)
		close(raw);
	fprintf(stderr, "braid-attack: sent %" PRIu64 " bytes in", sent_bytes);
	for (int k = 0; k < K_COUNT; k++)
		fprintf(stderr, " %s=%" PRIu64, kind_names[k], sent[k]);
	fprintf(stderr, "; got back %" PRIu64 " packets, %" PRIu64 " bytes\n", rx_pkts, rx_bytes);
	if (json) {
		FILE *f = strcmp(json, "-") ? fopen(json, "w") : stdout;

		if (!f) {
			perror(json);
			return 1;
		}
		fprintf(f, "{\"sent\":{");
		for (int k = 0; k < K_COUNT; k++)
			fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "", kind_names[k], sent[k]);
		fprintf(f, "},\"sent_bytes\":%" PRIu64 ",\"received_pkts\":%" PRIu64
			",\"received_bytes\":%" PRIu64 "}\n", sent_bytes, rx_pkts, rx_bytes);
		if (f != stdout)
			fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "to", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "kinds", required_argument, NULL, 'k' },
		{ "replay", required_argument, NULL, 'R' },
		{ "json", required_argument, NULL, 'j' },
		{ "spoof", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL, *json = NULL, *replay = NULL, *kinds = NULL;
	char *to = NULL, *spoof = NULL, *end;
	unsigned long port = 0, count = 0, timeout = 10;
	double rate = 2000, secs = 5;
	bool want[K_COUNT];
	int c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': port = strtoul(optarg, &end, 10); if (*end || port > 65535) return 2; break;
		case 'n': count = strtoul(optarg, &end, 10); if (*end) return 2; break;
		case 'o': out = optarg; break;
		case 'T': timeout = strtoul(optarg, &end, 10); if (*end) return 2; break;
		case 't': to = optarg; break;
		case 'r':
			if (!strcmp(optarg, "max")) {
				rate = 0;
				break;
			}
			rate = strtod(optarg, &end);
			if (*end || rate <= 0)
				return 2;
			break;
		case 'd': secs = strtod(optarg, &end); if (*end || secs <= 0) return 2; break;
		case 'k': kinds = optarg; break;
		case 'R': replay = optarg; break;
		case 'j': json = optarg; break;
		case 's': spoof = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!strcmp(argv[1], "capture")) {
		if (!port || !count || count > CAPTURE_MAX || !out) {
			usage(stderr);
			return 2;
		}
		return capture((unsigned)port, (unsigned)count, out, (unsigned)timeout);
	}
	if (strcmp(argv[1], "flood") != 0 || !to) {
		usage(stderr);
		return 2;
	}
	if (replay && load_capture(replay) < 0)
		return 1;
	for (int k = 0; k < K_COUNT; k++)
		want[k] = k == K_HSREPLAY ? ninit > 0 :
			  (k != K_BADTAG && k != K_REPLAY && k != K_BADSESSION) || ncap;
	if (kinds && parse_kinds(kinds, want) < 0) {
		fprintf(stderr, "braid-attack: bad --kinds '%s'\n", kinds);
		return 2;
	}
	return flood(to, rate, secs, want, json, spoof);
}
