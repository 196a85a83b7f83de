/* libFuzzer harness for the length framing of TCP destinations (src/frame.c).
 *
 * The input is a stream: fed to one frame_rx whole and to another in pieces
 * whose sizes come from the input itself, both must hand on the same
 * messages (count, lengths, bytes: a running hash), none longer than the
 * limit, and both must count the same oversized ones. The same messages,
 * put through a frame_tx ring and drained in small bites, must come back
 * the same through a third frame_rx.
 *
 * With -DFUZZ_STANDALONE, main() replays the files it is given (replay.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT 1996

struct seen {
	uint64_t count, hash;
	struct frame_tx *tx;	/* if set, each message is also queued here */
};

static void on_msg(void *ctx, const uint8_t *m, size_t len)
{
	struct seen *s = ctx;

	if (len > LIMIT)
		abort();
	s->count++;
	s->hash = (s->hash ^ len) * 0x100000001b3ull;
	for (size_t i = 0; i < len; i++)
		s->hash = (s->hash ^ m[i]) * 0x100000001b3ull;
	if (s->tx && frame_tx_put(s->tx, m, len) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frame_rx a, b, c;
	struct seen sa = { 0, 0xcbf29ce484222325ull, NULL };
	struct seen sb = sa, sc = sa;
	struct frame_tx tx;
	size_t off = 0, i = 0;

	if (frame_tx_init(&tx, size * 2 + 16) < 0)
		return 0;
	sa.tx = &tx;
	frame_rx_init(&a, LIMIT);
	frame_rx_init(&b, LIMIT);
	frame_rx_init(&c, LIMIT);
	frame_rx_feed(&a, data, size, on_msg, &sa);
	while (off < size) {
		size_t k = 1 + (size_t)data[i++ % size] % 37;

		if (k > size - off)
			k = size - off;
		frame_rx_feed(&b, data + off, k, on_msg, &sb);
		off += k;
	}
	if (sa.count != sb.count || sa.hash != sb.hash || a.oversize != b.oversize)
		abort();
	/* Back through a send ring, drained a few bytes at a time. */
	i = 0;
	while (frame_tx_queued(&tx)) {
		const uint8_t *p[2];
		size_t n[2], k;

		if (frame_tx_peek(&tx, p, n) < 1)
			abort();
		k = 1 + (size ? data[i++ % size] : 0) % 23;
		if (k > n[0])
			k = n[0];
		frame_rx_feed(&c, p[0], k, on_msg, &sc);
		frame_tx_consume(&tx, k);
	}
	if (sc.count != sa.count || sc.hash != sa.hash || c.oversize != 0)
		abort();
	frame_tx_free(&tx);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_HARNESS "fuzz_frame"
#include "replay.h"
#endif
