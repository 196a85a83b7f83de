/* libFuzzer harness for the wire parsers and the packet-receive path: the
 * workers' prefilter and the outer header, then the handshake MAC or AEAD
 * open with a fixed test key, then the inner parsers.
 *
 * A forged tag never verifies, so mutated inputs would stop at crypto_open;
 * the inner parsers therefore also run on the raw bytes after the outer
 * header when opening fails. Every successful parse must re-encode to the
 * exact bytes it came from, which catches a parser that accepts a
 * non-canonical encoding or misreads a field, and must yield fields inside
 * the bounds wire.h documents (for PARITY, a code and a shard length the FEC
 * codec accepts; for NACK, a count in range and bit 0 set in every entry;
 * for FEEDBACK, a count in range, each link once and the flags' rules).
 *
 * The input is copied into a BRAID_PKT_MAX buffer, as the daemon's slab
 * buffers are, and under ASan the bytes past the input are poisoned, so a read
 * beyond the datagram is caught even though it stays inside the buffer.
 *
 * Fuzzing (clang 14):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *     test/fuzz/fuzz_wire.c src/wire.c src/prefilter.c src/crypto.c $(pkg-config --libs libsodium) \
 *     -o /tmp/fuzz_wire
 *   /tmp/fuzz_wire -max_len=2100 -max_total_time=60 /tmp/wire-corpus test/fuzz/corpus/wire
 * Replaying a corpus without libFuzzer (as CI does, under ASan):
 *   cc -g -DFUZZ_STANDALONE -fsanitize=address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *     test/fuzz/fuzz_wire.c src/wire.c src/prefilter.c src/crypto.c $(pkg-config --libs libsodium) \
 *     -o /tmp/fuzz_wire_replay
 *   /tmp/fuzz_wire_replay test/fuzz/corpus/wire    (files or directories)
 * The seed corpus comes from test/fuzz/gen_wire_corpus.c, which uses the same
 * test key as below. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#endif
#endif
/* Without ASan (or its header) poisoning is a no-op. */
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

#include "braid/fec.h"
#include "braid/wire.h"
#include "crypto.h"
#include "fuzz_wire_key.h"
#include "prefilter.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t hs_key[BRAID_KEY_LEN];
static uint8_t init_nonce[WIRE_HS_NONCE_LEN];

static void fuzz_init(void)
{
	static int done;

	if (done)
		return;
	if (crypto_init() < 0)
		abort();
	crypto_derive_hs_key(fuzz_key, hs_key);
	for (int i = 0; i < WIRE_HS_NONCE_LEN; i++)
		init_nonce[i] = (uint8_t)(FUZZ_INIT_NONCE_BASE + i);
	done = 1;
}

/* An oracle failure: abort so libFuzzer records the input. */
static void check(int ok)
{
	if (!ok)
		abort();
}

/* The longest inner body any parser re-encodes: a full FEEDBACK. */
#define RE_MAX (WIRE_FEEDBACK_HDR_LEN + WIRE_FEEDBACK_MAX * WIRE_FEEDBACK_ENTRY_LEN)
_Static_assert(RE_MAX >= WIRE_PROBE_REPLY_LEN && RE_MAX >= WIRE_PARITY_HDR_LEN &&
	       RE_MAX >= WIRE_DATA_HDR_LEN &&
	       RE_MAX >= WIRE_NACK_HDR_LEN + WIRE_NACK_MAX * WIRE_NACK_ENTRY_LEN,
	       "re-encode buffer too small");

/* What wire.h promises of a FEEDBACK the parser took. */
static void check_feedback(const struct wire_feedback *fb, size_t len)
{
	uint32_t seen = 0;

	check(fb->count >= 1 && fb->count <= WIRE_FEEDBACK_MAX);
	check(len == WIRE_FEEDBACK_HDR_LEN + (size_t)fb->count * WIRE_FEEDBACK_ENTRY_LEN);
	for (unsigned i = 0; i < fb->count; i++) {
		const struct wire_feedback_entry *e = &fb->e[i];

		check(e->link_id < WIRE_FEEDBACK_MAX && !(seen & 1u << e->link_id));
		seen |= 1u << e->link_id;
		check(!(e->flags & ~(WIRE_FB_QUEUED | WIRE_FB_DELAY)));
		if (e->flags & WIRE_FB_QUEUED)
			check((e->flags & WIRE_FB_DELAY) && e->rate != 0);
		if (!(e->flags & WIRE_FB_DELAY))
			check(e->tx_us == 0 && e->owd_rel_us == 0 && e->queue_us == 0);
	}
}

static void parse_inner(uint8_t type, const uint8_t *p, size_t len)
{
	uint8_t re[RE_MAX];
	struct wire_data d;
	struct wire_probe pr;
	struct wire_parity ph;
	struct wire_nack nk;
	struct wire_feedback fb;

	switch (type) {
	case WIRE_DATA:
		if (wire_parse_data(p, len, &d) == 0) {
			check(len >= WIRE_DATA_HDR_LEN);
			check(wire_put_data(re, &d) == WIRE_DATA_HDR_LEN);
			check(memcmp(re, p, WIRE_DATA_HDR_LEN) == 0);
		}
		break;
	case WIRE_PROBE:
	case WIRE_PROBE_REPLY: {
		int reply = type == WIRE_PROBE_REPLY;

		if (wire_parse_probe(p, len, &pr, reply) == 0) {
			check(wire_put_probe(re, &pr, reply) == len);
			check(memcmp(re, p, len) == 0);
		}
		break;
	}
	case WIRE_PARITY:
		if (wire_parse_parity(p, len, &ph) == 0) {
			/* The shard that follows must be one braid_fec_decode
			 * accepts, and the code one braid_fec_new accepts. */
			check(len >= WIRE_PARITY_HDR_LEN + BRAID_FEC_PREFIX_LEN);
			check(len - WIRE_PARITY_HDR_LEN <= BRAID_PAYLOAD_MAX + WIRE_FEC_SHARD_EXTRA);
			check(len - WIRE_PARITY_HDR_LEN <= BRAID_FEC_SHARD_MAX);
			check(ph.k >= 1 && ph.k <= BRAID_FEC_K_MAX);
			check(ph.m >= 1 && ph.m <= BRAID_FEC_M_MAX);
			check(ph.k_used >= 1 && ph.k_used <= ph.k && ph.index < ph.m);
			check(wire_put_parity(re, &ph) == WIRE_PARITY_HDR_LEN);
			check(memcmp(re, p, WIRE_PARITY_HDR_LEN) == 0);
		}
		break;
	case WIRE_NACK:
		if (wire_parse_nack(p, len, &nk) == 0) {
			check(nk.count >= 1 && nk.count <= WIRE_NACK_MAX);
			check(len == WIRE_NACK_HDR_LEN + (size_t)nk.count * WIRE_NACK_ENTRY_LEN);
			for (unsigned i = 0; i < nk.count; i++)
				check(nk.e[i].bits & 1);
			check(wire_put_nack(re, &nk) == len);
			check(memcmp(re, p, len) == 0);
		}
		break;
	case WIRE_FEEDBACK:
		if (wire_parse_feedback(p, len, &fb) == 0) {
			check_feedback(&fb, len);
			check(wire_put_feedback(re, &fb) == len);
			check(memcmp(re, p, len) == 0);
		}
		break;
	default:
		/* The handshake types, parsed by the caller. */
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(64) uint8_t pkt[BRAID_PKT_MAX];
	uint8_t re[WIRE_HS_BODY_LEN];
	struct wire_outer o;
	struct wire_hs hs;
	struct wire_hs_cookie ck;
	const uint8_t *bind;
	int n;

	fuzz_init();
	if (size > BRAID_PKT_MAX) {
		/* Refused from the length alone, before any byte is read. */
		check(wire_parse_outer(data, size, &o) == -EMSGSIZE);
		return 0;
	}
	ASAN_UNPOISON_MEMORY_REGION(pkt, sizeof(pkt));
	memcpy(pkt, data, size);
	ASAN_POISON_MEMORY_REGION(pkt + size, sizeof(pkt) - size);

	/* The workers' prefilter reads within the datagram too, and never
	 * passes what the outer parser refuses. Each end's view, with the
	 * input's own session in force, so that the session check passes. */
	{
		struct prefilter_view v;
		uint32_t sess = size >= 8 ? (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 |
					    (uint32_t)pkt[6] << 8 | pkt[7] : 0;
		int ok = wire_parse_outer(pkt, size, &o) == 0;

		for (int hub = 0; hub < 2; hub++) {
			prefilter_view_init(&v, hub);
			prefilter_publish(&v, sess, 0);
			check(prefilter_check(pkt, size, &v) != PF_PASS || ok);
		}
	}
	if (wire_parse_outer(pkt, size, &o) < 0)
		return 0;
	check(size >= WIRE_MIN_LEN && size <= BRAID_PKT_MAX);
	check(wire_put_outer(re, &o) == WIRE_OUTER_LEN);
	check(memcmp(re, pkt, WIRE_OUTER_LEN) == 0);

	switch (o.type) {
	case WIRE_HS_INIT:
	case WIRE_HS_RESP:
		check(size == WIRE_HS_LEN);
		bind = o.type == WIRE_HS_RESP ? init_nonce : NULL;
		(void)crypto_hs_verify(hs_key, pkt, size, bind);
		/* Parse the body whether or not the MAC held, for coverage. */
		if (wire_parse_hs(pkt + WIRE_OUTER_LEN, WIRE_HS_BODY_LEN, &hs) == 0) {
			check(wire_put_hs(re, &hs) == WIRE_HS_BODY_LEN);
			check(memcmp(re, pkt + WIRE_OUTER_LEN, WIRE_HS_BODY_LEN) == 0);
		}
		break;
	case WIRE_HS_COOKIE:
		check(size == WIRE_HS_COOKIE_PKT_LEN);
		(void)crypto_hs_verify(hs_key, pkt, size, init_nonce);
		if (wire_parse_hs_cookie(pkt + WIRE_OUTER_LEN, WIRE_HS_COOKIE_LEN, &ck) == 0) {
			check(wire_put_hs_cookie(re, &ck) == WIRE_HS_COOKIE_LEN);
			check(memcmp(re, pkt + WIRE_OUTER_LEN, WIRE_HS_COOKIE_LEN) == 0);
		}
		/* Any other length is refused by the parser. */
		check(wire_parse_hs_cookie(pkt + WIRE_OUTER_LEN, WIRE_HS_COOKIE_LEN + 1, &ck) ==
		      -EMSGSIZE);
		break;
	default:
		n = crypto_open(fuzz_key, o.counter, pkt, size);
		if (n >= 0) {
			check((size_t)n == size - WIRE_MIN_LEN);
			parse_inner(o.type, pkt + WIRE_OUTER_LEN, (size_t)n);
		} else {
			/* A failed open may have wiped pkt; use the input. */
			parse_inner(o.type, data + WIRE_OUTER_LEN, size - WIRE_MIN_LEN);
		}
		break;
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_HARNESS "fuzz_wire"
#include "replay.h"
#endif
