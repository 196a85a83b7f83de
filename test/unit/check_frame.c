/* Length framing (src/frame.c): a stream of messages, zero-length and
 * oversized ones among them, cut at every byte and in random pieces, must
 * come out message for message; the send ring must give the stream exactly
 * the framed bytes whatever it takes at a time, and refuse what does not fit
 * whole. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "frame.h"

#define NMSG 40
#define MAXLEN 300
#define OVER_MAX 5000	/* how far past MAXLEN an oversized message goes, at most */

/* A test stream: message i is len[i] bytes, byte k of it (i * 31 + k). */
struct stream {
	size_t len[NMSG];
	uint8_t bytes[NMSG * (FRAME_HDR + MAXLEN + OVER_MAX)];
	size_t n;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void make_stream(struct stream *s, size_t over)
{
	ck_assert_uint_le(over, OVER_MAX);
	s->n = 0;
	for (unsigned i = 0; i < NMSG; i++) {
		/* Every fifth empty, every seventh longer than MAXLEN by over. */
		size_t len = i % 5 == 0 ? 0 : i % 7 == 0 ? MAXLEN + over : 1 + rnd() % MAXLEN;

		s->len[i] = len;
		s->bytes[s->n++] = (uint8_t)(len >> 8);
		s->bytes[s->n++] = (uint8_t)len;
		for (size_t k = 0; k < len; k++)
			s->bytes[s->n++] = (uint8_t)(i * 31 + k);
	}
}

struct got {
	unsigned count;
	size_t len[NMSG];
	unsigned bad;
	const struct stream *s;
};

/* The next message that should come: the stream's messages not longer
 * than MAXLEN, in order. */
static void on_msg(void *ctx, const uint8_t *m, size_t len)
{
	struct got *g = ctx;
	unsigned want = 0, seen = 0;

	for (unsigned i = 0; i < NMSG; i++) {
		if (g->s->len[i] > MAXLEN)
			continue;
		if (seen++ == g->count) {
			want = i;
			break;
		}
	}
	if (g->count >= NMSG || len != g->s->len[want]) {
		g->bad++;
	} else {
		for (size_t k = 0; k < len; k++)
			if (m[k] != (uint8_t)(want * 31 + k))
				g->bad++;
	}
	if (g->count < NMSG)
		g->len[g->count] = len;
	g->count++;
}

static unsigned expected_count(const struct stream *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NMSG; i++)
		n += s->len[i] <= MAXLEN;
	return n;
}

START_TEST(rx_every_split)
{
	static struct stream s;
	static struct frame_rx r;

	make_stream(&s, 1 + (size_t)_i * 97);
	for (size_t cut = 0; cut <= s.n; cut++) {
		struct got g = { .s = &s };

		frame_rx_init(&r, MAXLEN);
		frame_rx_feed(&r, s.bytes, cut, on_msg, &g);
		frame_rx_feed(&r, s.bytes + cut, s.n - cut, on_msg, &g);
		ck_assert_msg(g.bad == 0 && g.count == expected_count(&s),
			      "cut at %zu: %u messages, %u bad", cut, g.count, g.bad);
		ck_assert_uint_eq(r.oversize, NMSG - expected_count(&s));
		ck_assert_uint_eq(r.have, 0);
	}
}
END_TEST

START_TEST(rx_random_pieces)
{
	static struct stream s;
	static struct frame_rx r;

	make_stream(&s, OVER_MAX);
	for (unsigned round = 0; round < 500; round++) {
		struct got g = { .s = &s };
		size_t off = 0;

		frame_rx_init(&r, MAXLEN);
		while (off < s.n) {
			size_t k = rnd() % (round % 3 == 0 ? 4 : 700);

			if (k > s.n - off)
				k = s.n - off;
			frame_rx_feed(&r, s.bytes + off, k, on_msg, &g);
			off += k;
		}
		ck_assert_msg(g.bad == 0 && g.count == expected_count(&s), "round %u", round);
	}
}
END_TEST

START_TEST(rx_reset_forgets_partial)
{
	static struct frame_rx r;
	static struct stream s;
	struct got g = { .s = &s };
	const uint8_t half[] = { 0, 10, 1, 2, 3 };

	make_stream(&s, 1);
	frame_rx_init(&r, MAXLEN);
	frame_rx_feed(&r, half, sizeof(half), on_msg, &g);
	ck_assert_uint_eq(g.count, 0);
	frame_rx_reset(&r);
	frame_rx_feed(&r, s.bytes, s.n, on_msg, &g);
	ck_assert_msg(g.bad == 0 && g.count == expected_count(&s), "%u bad", g.bad);
}
END_TEST

START_TEST(tx_put_and_drain)
{
	struct frame_tx t;
	static struct stream s;
	static uint8_t out[sizeof(s.bytes)];

	make_stream(&s, 1);
	/* A ring smaller than the stream, drained in random bites while being
	 * filled: what leaves is exactly the framed stream. */
	ck_assert_int_eq(frame_tx_init(&t, 1000), 0);
	for (unsigned round = 0; round < 50; round++) {
		size_t outn = 0;
		unsigned next = 0;

		frame_tx_reset(&t);
		while (next < NMSG || frame_tx_queued(&t)) {
			const uint8_t *p[2];
			size_t n[2], k;
			unsigned pieces;

			while (next < NMSG) {
				size_t off = 0;

				for (unsigned i = 0; i < next; i++)
					off += FRAME_HDR + s.len[i];
				if (frame_tx_put(&t, s.bytes + off + FRAME_HDR, s.len[next]) < 0)
					break;
				next++;
			}
			pieces = frame_tx_peek(&t, p, n);
			ck_assert_uint_ge(pieces, 1);
			k = 1 + rnd() % n[0];
			memcpy(out + outn, p[0], k);
			outn += k;
			frame_tx_consume(&t, k);
		}
		ck_assert_uint_eq(outn, s.n);
		ck_assert_mem_eq(out, s.bytes, s.n);
	}
	frame_tx_free(&t);
}
END_TEST

START_TEST(tx_refuses_what_does_not_fit)
{
	struct frame_tx t;
	static uint8_t big[FRAME_MAX + 1];
	const uint8_t *p[2];
	size_t n[2];

	ck_assert_int_eq(frame_tx_init(&t, 2), -EINVAL);
	ck_assert_int_eq(frame_tx_init(&t, 10), 0);
	ck_assert_int_eq(frame_tx_put(&t, big, 8), 0);		/* 10 bytes: full */
	ck_assert_int_eq(frame_tx_put(&t, big, 0), -ENOBUFS);
	ck_assert_uint_eq(frame_tx_queued(&t), 10);
	frame_tx_consume(&t, 3);
	ck_assert_int_eq(frame_tx_put(&t, big, 2), -ENOBUFS);	/* 4 needed, 3 free */
	ck_assert_int_eq(frame_tx_put(&t, big, 1), 0);		/* wraps */
	ck_assert_uint_eq(frame_tx_peek(&t, p, n), 2);
	ck_assert_uint_eq(n[0] + n[1], 10);
	frame_tx_consume(&t, 100);				/* more than queued */
	ck_assert_uint_eq(frame_tx_queued(&t), 0);
	ck_assert_uint_eq(frame_tx_peek(&t, p, n), 0);
	frame_tx_free(&t);
	ck_assert_int_eq(frame_tx_init(&t, FRAME_HDR + FRAME_MAX + 1), 0);
	ck_assert_int_eq(frame_tx_put(&t, big, FRAME_MAX + 1), -EMSGSIZE);
	ck_assert_int_eq(frame_tx_put(&t, big, FRAME_MAX), 0);
	frame_tx_free(&t);
}
END_TEST

static Suite *frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("frame");

	tcase_add_loop_test(tc, rx_every_split, 0, 3);
	tcase_add_test(tc, rx_random_pieces);
	tcase_add_test(tc, rx_reset_forgets_partial);
	tcase_add_test(tc, tx_put_and_drain);
	tcase_add_test(tc, tx_refuses_what_does_not_fit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(frame_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
