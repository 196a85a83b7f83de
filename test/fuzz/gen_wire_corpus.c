/* Writes the seed corpus for fuzz_wire.c, reproducibly: valid packets sealed
 * with the harness's fixed test key and fixed counters, plus a few malformed
 * ones. Nothing here is random, so rerunning it gives identical files.
 *
 *   cc -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc test/fuzz/gen_wire_corpus.c \
 *     src/wire.c src/crypto.c $(pkg-config --libs libsodium) -o /tmp/gen_wire_corpus
 *   /tmp/gen_wire_corpus test/fuzz/corpus/wire
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "braid/wire.h"
#include "crypto.h"
#include "fuzz_wire_key.h"


#define SESSION 0x0b1d0001u

static const char *outdir;

static int write_seed(const char *name, const uint8_t *p, size_t len)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, p, len) != (ssize_t)len) {
		fprintf(stderr, "gen_wire_corpus: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	printf("%s (%zu bytes)\n", path, len);
	return 0;
}

static size_t put_outer(uint8_t *pkt, uint8_t type, uint64_t counter)
{
	const struct wire_outer o = {
		.version = BRAID_WIRE_VERSION, .type = type,
		.session = SESSION, .counter = counter,
	};

	return wire_put_outer(pkt, &o);
}

static size_t make_data(uint8_t *pkt, uint64_t counter)
{
	static const char payload[] = "hello, braid";
	const struct wire_data d = {
		.bond_seq = 1000, .link_seq = 10, .tx_us = 123456,
		.flow = 1, .link_id = 2, .flags = 0,
	};
	size_t n = put_outer(pkt, WIRE_DATA, counter);

	n += wire_put_data(pkt + n, &d);
	memcpy(pkt + n, payload, sizeof(payload) - 1);
	n += sizeof(payload) - 1;
	return crypto_seal(fuzz_key, counter, pkt, n - WIRE_OUTER_LEN);
}

static size_t make_probe(uint8_t *pkt, int reply, uint64_t counter, uint8_t flags)
{
	const struct wire_probe pr = {
		.link_id = 1, .flags = flags, .probe_seq = 77, .tx_ns = 5000000000ULL,
		.rx_pkts = 4096, .rx_lost = 3, .jitter_us = 250,
	};
	size_t n = put_outer(pkt, reply ? WIRE_PROBE_REPLY : WIRE_PROBE, counter);

	n += wire_put_probe(pkt + n, &pr, reply);
	return crypto_seal(fuzz_key, counter, pkt, n - WIRE_OUTER_LEN);
}

/* A PARITY packet. The header fields are taken as given (h->k and h->m
 * only through wire_put_parity's code byte), so a malformed one is built the
 * same way; the shard bytes are a fixed pattern, since the wire layer does
 * not look inside them. */
static size_t make_parity(uint8_t *pkt, const struct wire_parity *h, size_t shard_len,
			  uint64_t counter)
{
	size_t n = put_outer(pkt, WIRE_PARITY, counter);

	n += wire_put_parity(pkt + n, h);
	for (size_t i = 0; i < shard_len; i++)
		pkt[n + i] = (uint8_t)(i * 13 + 1);
	n += shard_len;
	return crypto_seal(fuzz_key, counter, pkt, n - WIRE_OUTER_LEN);
}

/* A NACK of nk->count entries; or, if entries is not negative, of that many
 * entries under nk->count, to make the length disagree with the count. */
static size_t make_nack(uint8_t *pkt, const struct wire_nack *nk, int entries,
			uint64_t counter)
{
	struct wire_nack body = *nk;
	size_t n = put_outer(pkt, WIRE_NACK, counter);

	if (entries >= 0)
		body.count = (uint8_t)entries;
	n += wire_put_nack(pkt + n, &body);
	pkt[WIRE_OUTER_LEN] = nk->count;
	return crypto_seal(fuzz_key, counter, pkt, n - WIRE_OUTER_LEN);
}

/* A FEEDBACK; like make_nack, entries >= 0 writes that many entries under
 * fb->count. */
static size_t make_feedback(uint8_t *pkt, const struct wire_feedback *fb, int entries,
			    uint64_t counter)
{
	struct wire_feedback body = *fb;
	size_t n = put_outer(pkt, WIRE_FEEDBACK, counter);

	if (entries >= 0)
		body.count = (uint8_t)entries;
	n += wire_put_feedback(pkt + n, &body);
	pkt[WIRE_OUTER_LEN] = fb->count;
	return crypto_seal(fuzz_key, counter, pkt, n - WIRE_OUTER_LEN);
}

/* HS_INIT (with a cookie when cookie is set) or HS_RESP. */
static size_t make_hs(uint8_t *pkt, int resp, int cookie, const uint8_t hs_key[BRAID_KEY_LEN])
{
	struct wire_hs hs = { 0 };
	uint8_t init_nonce[WIRE_HS_NONCE_LEN];
	size_t n = put_outer(pkt, resp ? WIRE_HS_RESP : WIRE_HS_INIT, 0);

	for (int i = 0; i < WIRE_HS_NONCE_LEN; i++) {
		init_nonce[i] = (uint8_t)(FUZZ_INIT_NONCE_BASE + i);
		hs.nonce[i] = resp ? (uint8_t)(0x90 + i) : init_nonce[i];
	}
	for (int i = 0; cookie && i < WIRE_HS_COOKIE_LEN; i++)
		hs.cookie[i] = (uint8_t)(0xc5 ^ i);
	wire_put_hs(pkt + n, &hs);
	return crypto_hs_seal(hs_key, pkt, resp ? init_nonce : NULL);
}

/* HS_COOKIE answering the harness's init nonce. */
static size_t make_cookie(uint8_t *pkt, const uint8_t hs_key[BRAID_KEY_LEN])
{
	struct wire_hs_cookie ck;
	uint8_t init_nonce[WIRE_HS_NONCE_LEN];
	size_t n = put_outer(pkt, WIRE_HS_COOKIE, 0);

	for (int i = 0; i < WIRE_HS_NONCE_LEN; i++)
		init_nonce[i] = (uint8_t)(FUZZ_INIT_NONCE_BASE + i);
	for (int i = 0; i < WIRE_HS_COOKIE_LEN; i++)
		ck.cookie[i] = (uint8_t)(0xc5 ^ i);
	wire_put_hs_cookie(pkt + n, &ck);
	return crypto_hs_seal(hs_key, pkt, init_nonce);
}

int main(int argc, char **argv)
{
	uint8_t pkt[BRAID_PKT_MAX], hs_key[BRAID_KEY_LEN];
	uint32_t x = 0x12345678;
	size_t n;
	int bad = 0;

	outdir = argc > 1 ? argv[1] : "test/fuzz/corpus/wire";
	if (crypto_init() < 0) {
		fprintf(stderr, "gen_wire_corpus: libsodium failed to initialise\n");
		return EXIT_FAILURE;
	}
	crypto_derive_hs_key(fuzz_key, hs_key);

	n = make_data(pkt, 1);
	bad |= write_seed("data", pkt, n);
	/* The same packet cut short inside the outer header + tag minimum. */
	bad |= write_seed("truncated", pkt, WIRE_MIN_LEN - 12);
	/* A valid packet with a reserved bit set: refused by wire_parse_outer. */
	n = make_data(pkt, 2);
	pkt[3] = 0x01;
	bad |= write_seed("reserved_bit", pkt, n);

	n = make_probe(pkt, 0, 3, 0);
	bad |= write_seed("probe", pkt, n);
	n = make_probe(pkt, 1, 4, 0);
	bad |= write_seed("probe_reply", pkt, n);
	n = make_probe(pkt, 0, 5, WIRE_PROBE_BYE);
	bad |= write_seed("probe_bye", pkt, n);

	n = make_hs(pkt, 0, 0, hs_key);
	bad |= write_seed("hs_init", pkt, n);
	n = make_hs(pkt, 0, 1, hs_key);
	bad |= write_seed("hs_init_cookie", pkt, n);
	n = make_hs(pkt, 1, 0, hs_key);
	bad |= write_seed("hs_resp", pkt, n);
	n = make_cookie(pkt, hs_key);
	bad |= write_seed("hs_cookie", pkt, n);
	/* Malformed: a cookie packet one byte short, and one an init's length. */
	bad |= write_seed("hs_cookie_short", pkt, n - 1);
	memset(pkt + n, 0, WIRE_HS_LEN - n);
	bad |= write_seed("hs_cookie_long", pkt, WIRE_HS_LEN);

	{
		struct wire_parity h = {
			.first_seq = 5000, .link_seq = 11, .tx_us = 654321,
			.k = 4, .m = 2, .k_used = 4, .index = 1, .link_id = 2,
		};

		n = make_parity(pkt, &h, 40, 5);
		bad |= write_seed("parity", pkt, n);
		/* The largest code, a partial block, the last parity shard and
		 * the shortest shard there is (the length prefix alone). */
		h.k = 32;
		h.m = 8;
		h.k_used = 3;
		h.index = 7;
		n = make_parity(pkt, &h, 2, 6);
		bad |= write_seed("parity_partial", pkt, n);
		/* Malformed: k_used above K, k_used 0, index M, a 1-byte shard. */
		h.k = 4;
		h.m = 2;
		h.k_used = 5;
		h.index = 0;
		n = make_parity(pkt, &h, 40, 7);
		bad |= write_seed("parity_bad_kused", pkt, n);
		h.k_used = 0;
		n = make_parity(pkt, &h, 40, 8);
		bad |= write_seed("parity_kused0", pkt, n);
		h.k_used = 4;
		h.index = 2;
		n = make_parity(pkt, &h, 40, 9);
		bad |= write_seed("parity_bad_index", pkt, n);
		h.index = 0;
		n = make_parity(pkt, &h, 1, 10);
		bad |= write_seed("parity_short", pkt, n);
	}
	{
		struct wire_nack nk = { .count = 2, .link_id = 1 };

		nk.e[0].base_seq = 1000;
		nk.e[0].bits = 0x5;
		nk.e[1].base_seq = 0xfffffff0u;	/* wraps within the 64 */
		nk.e[1].bits = 0x8000000000000001ull;
		n = make_nack(pkt, &nk, -1, 11);
		bad |= write_seed("nack", pkt, n);
		for (unsigned i = 0; i < WIRE_NACK_MAX; i++) {
			nk.e[i].base_seq = 2000 + 64 * i;
			nk.e[i].bits = ~0ull;
		}
		nk.count = WIRE_NACK_MAX;
		n = make_nack(pkt, &nk, -1, 12);
		bad |= write_seed("nack_max", pkt, n);
		/* Malformed: count 0 (with an entry after it), bit 0 clear,
		 * and a count of 3 with two entries. */
		nk.count = 0;
		n = make_nack(pkt, &nk, 1, 13);
		bad |= write_seed("nack_count0", pkt, n);
		nk.count = 2;
		nk.e[1].bits = 0x6;
		n = make_nack(pkt, &nk, -1, 14);
		bad |= write_seed("nack_bit0", pkt, n);
		nk.e[1].bits = 0x7;
		nk.count = 3;
		n = make_nack(pkt, &nk, 2, 15);
		bad |= write_seed("nack_short", pkt, n);
	}

	{
		struct wire_feedback fb = { .count = 2 };

		fb.e[0] = (struct wire_feedback_entry){
			.link_id = 1, .flags = WIRE_FB_DELAY | WIRE_FB_QUEUED,
			.tx_us = 0xfffff000u, .owd_rel_us = 40000, .queue_us = 3500,
			.rate = 1250000, .rx_pkts = 90000, .rx_lost = 900,
		};
		fb.e[1] = (struct wire_feedback_entry){
			.link_id = 0, .flags = 0, .rx_pkts = 12, .rx_lost = 0,
		};
		n = make_feedback(pkt, &fb, -1, 16);
		bad |= write_seed("feedback", pkt, n);
		for (unsigned i = 0; i < WIRE_FEEDBACK_MAX; i++)
			fb.e[i] = (struct wire_feedback_entry){
				.link_id = (uint8_t)(WIRE_FEEDBACK_MAX - 1 - i),
				.flags = WIRE_FB_DELAY, .tx_us = 1000 * i,
				.owd_rel_us = 500 * i, .queue_us = i, .rate = 100000 * i,
				.rx_pkts = 1000 + i, .rx_lost = i,
			};
		fb.count = WIRE_FEEDBACK_MAX;
		n = make_feedback(pkt, &fb, -1, 17);
		bad |= write_seed("feedback_max", pkt, n);
		/* Malformed: count 0 with an entry, a link listed twice, an
		 * unknown flag, QUEUED without a rate, and a count of 3 with
		 * two entries. */
		fb.count = 0;
		n = make_feedback(pkt, &fb, 1, 18);
		bad |= write_seed("feedback_count0", pkt, n);
		fb.count = 2;
		fb.e[1].link_id = fb.e[0].link_id;
		n = make_feedback(pkt, &fb, -1, 19);
		bad |= write_seed("feedback_dup_link", pkt, n);
		fb.e[1].link_id = 3;
		fb.e[1].flags = 0x04 | WIRE_FB_DELAY;
		n = make_feedback(pkt, &fb, -1, 20);
		bad |= write_seed("feedback_bad_flag", pkt, n);
		fb.e[1].flags = WIRE_FB_DELAY | WIRE_FB_QUEUED;
		fb.e[1].rate = 0;
		n = make_feedback(pkt, &fb, -1, 21);
		bad |= write_seed("feedback_queued_norate", pkt, n);
		fb.e[1].rate = 1;
		fb.count = 3;
		n = make_feedback(pkt, &fb, 2, 22);
		bad |= write_seed("feedback_short", pkt, n);
	}

	/* Garbage from a fixed xorshift sequence, with a plausible first byte. */
	for (size_t i = 0; i < 96; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pkt[i] = (uint8_t)x;
	}
	pkt[0] = BRAID_WIRE_VERSION;
	bad |= write_seed("garbage", pkt, 96);

	return bad ? EXIT_FAILURE : EXIT_SUCCESS;
}
