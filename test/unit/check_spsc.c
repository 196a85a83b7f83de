/* Check suite for the SPSC ring (src/spsc.c). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "spsc.h"

/* The byte a message of sequence seq carries at offset i: depends on both,
 * so a slot read at the wrong time or place shows up as a mismatch. */
static uint8_t pattern(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (seq >> 8));
}

static void fill(struct spsc_msg *m, uint32_t seq, uint32_t len)
{
	m->kind = (uint16_t)seq;
	m->arg = (uint16_t)(seq >> 16);
	m->len = len;
	memcpy(m->addr, &seq, sizeof(seq));
	for (uint32_t i = 0; i < len; i++)
		m->data[i] = pattern(seq, i);
}

/* NULL if m is message seq of length len, else a short reason. */
static const char *verify(const struct spsc_msg *m, uint32_t seq, uint32_t len)
{
	uint32_t got;

	memcpy(&got, m->addr, sizeof(got));
	if (got != seq || m->kind != (uint16_t)seq || m->arg != (uint16_t)(seq >> 16))
		return "sequence";
	if (m->len != len)
		return "length";
	for (uint32_t i = 0; i < len; i++) {
		if (m->data[i] != pattern(seq, i))
			return "payload";
	}
	return NULL;
}

START_TEST(test_bad_create)
{
	static const unsigned bad_slots[] = { 0, 1, 3, 6, 100, 65535, 65537, 131072, UINT32_MAX };
	struct spsc *q = (struct spsc *)&q;

	for (size_t i = 0; i < sizeof(bad_slots) / sizeof(bad_slots[0]); i++) {
		q = (struct spsc *)&q;
		ck_assert_int_eq(spsc_create(&q, bad_slots[i], 64), -EINVAL);
		ck_assert_ptr_null(q);
	}
	ck_assert_int_eq(spsc_create(&q, 8, SIZE_MAX), -EINVAL);
	ck_assert_int_eq(spsc_create(&q, 8, SIZE_MAX - 63), -EINVAL);
	ck_assert_int_eq(spsc_create(&q, 8, (16u << 20) + 1), -EINVAL);
	ck_assert_int_eq(spsc_create(NULL, 8, 64), -EINVAL);

	/* The bounds themselves are fine. */
	ck_assert_int_eq(spsc_create(&q, 2, 0), 0);
	ck_assert_uint_eq(spsc_slot_data(q), 0);
	spsc_destroy(q);
	ck_assert_int_eq(spsc_create(&q, 65536, 16), 0);
	ck_assert(spsc_empty(q));
	spsc_destroy(q);
	spsc_destroy(NULL);
}
END_TEST

START_TEST(test_fill_empty)
{
	enum { SLOTS = 8 };
	struct spsc *q;
	struct spsc_msg *m, *slot[SLOTS];

	ck_assert_int_eq(spsc_create(&q, SLOTS, 100), 0);
	ck_assert_uint_eq(spsc_slot_data(q), 100);
	ck_assert(spsc_empty(q));
	ck_assert_ptr_null(spsc_peek(q));

	for (uint32_t i = 0; i < SLOTS; i++) {
		m = spsc_reserve(q);
		ck_assert_ptr_nonnull(m);
		/* Slots are cache-line aligned and distinct. */
		ck_assert_uint_eq((uintptr_t)m % 64, 0);
		for (uint32_t j = 0; j < i; j++)
			ck_assert_ptr_ne(slot[j], m);
		slot[i] = m;
		/* Reserving again before the push gives the same slot. */
		ck_assert_ptr_eq(spsc_reserve(q), m);
		fill(m, i, 100);
		spsc_push(q);
		ck_assert(!spsc_empty(q));
	}
	/* Slots do not overlap: each still holds what was written. */
	for (uint32_t i = 0; i < SLOTS; i++)
		ck_assert_ptr_null(verify(slot[i], i, 100));

	/* Full: nothing to reserve, and a stray push publishes nothing. */
	ck_assert_ptr_null(spsc_reserve(q));
	spsc_push(q);
	ck_assert_ptr_null(spsc_reserve(q));

	for (uint32_t i = 0; i < SLOTS; i++) {
		m = spsc_peek(q);
		ck_assert_ptr_eq(m, slot[i]);
		ck_assert_ptr_eq(spsc_peek(q), m);	/* peek does not consume */
		ck_assert_ptr_null(verify(m, i, 100));
		spsc_pop(q);
		/* One slot freed: the producer can go again. */
		if (i == 0)
			ck_assert_ptr_nonnull(spsc_reserve(q));
	}
	ck_assert(spsc_empty(q));
	ck_assert_ptr_null(spsc_peek(q));

	/* A stray pop on an empty ring does not run the consumer ahead. */
	spsc_pop(q);
	spsc_pop(q);
	ck_assert(spsc_empty(q));
	ck_assert_ptr_null(spsc_peek(q));
	m = spsc_reserve(q);
	ck_assert_ptr_nonnull(m);
	fill(m, 77, 5);
	spsc_push(q);
	m = spsc_peek(q);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(verify(m, 77, 5));
	spsc_pop(q);
	ck_assert(spsc_empty(q));
	spsc_destroy(q);
}
END_TEST

/* A len beyond the slot is cut at push, so a consumer trusting len stays
 * inside the slot. */
START_TEST(test_len_clamped)
{
	struct spsc *q;
	struct spsc_msg *m;

	ck_assert_int_eq(spsc_create(&q, 4, 40), 0);
	m = spsc_reserve(q);
	fill(m, 1, 40);
	m->len = UINT32_MAX;
	spsc_push(q);
	m = spsc_peek(q);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->len, 40);
	ck_assert_ptr_null(verify(m, 1, 40));
	spsc_pop(q);
	spsc_destroy(q);
}
END_TEST

/* Many laps of the ring with a fill level that keeps changing, so every
 * slot is used at every offset of the batch. */
START_TEST(test_wraparound)
{
	enum { SLOTS = 16, LAPS = 5000 };
	struct spsc *q;
	uint32_t next_in = 0, next_out = 0;

	ck_assert_int_eq(spsc_create(&q, SLOTS, 48), 0);
	for (uint32_t lap = 0; lap < LAPS; lap++) {
		uint32_t in = 1 + lap % SLOTS;		/* 1..16 */
		uint32_t out = 1 + (lap * 7) % SLOTS;
		uint32_t level = next_in - next_out;

		for (uint32_t i = 0; i < in; i++) {
			struct spsc_msg *m = spsc_reserve(q);

			if (level == SLOTS) {
				if (m != NULL)
					ck_abort_msg("lap %u: reserve on a full ring", lap);
				break;
			}
			if (m == NULL)
				ck_abort_msg("lap %u: reserve failed at level %u", lap, level);
			fill(m, next_in, next_in % 49);
			spsc_push(q);
			next_in++;
			level++;
		}
		for (uint32_t i = 0; i < out; i++) {
			struct spsc_msg *m = spsc_peek(q);
			const char *why;

			if (level == 0) {
				if (m != NULL || !spsc_empty(q))
					ck_abort_msg("lap %u: peek on an empty ring", lap);
				break;
			}
			if (m == NULL)
				ck_abort_msg("lap %u: peek failed at level %u", lap, level);
			why = verify(m, next_out, next_out % 49);
			if (why != NULL)
				ck_abort_msg("lap %u message %u: bad %s", lap, next_out, why);
			spsc_pop(q);
			next_out++;
			level--;
		}
	}
	ck_assert_uint_gt(next_out, 10 * SLOTS);
	spsc_destroy(q);
}
END_TEST

/* --- two threads ------------------------------------------------------- */

#define XFER_COUNT 1000000u
#define XFER_DATA  64u

struct xfer {
	struct spsc *q;
	atomic_bool stop;	/* consumer gave up: producer must not wait */
};

static void *producer(void *arg)
{
	struct xfer *x = arg;

	for (uint32_t seq = 0; seq < XFER_COUNT; seq++) {
		struct spsc_msg *m;

		while ((m = spsc_reserve(x->q)) == NULL) {
			if (atomic_load(&x->stop))
				return NULL;
			sched_yield();
		}
		fill(m, seq, seq % (XFER_DATA + 1));
		spsc_push(x->q);
	}
	return NULL;
}

START_TEST(test_two_threads)
{
	struct xfer x;
	pthread_t th;
	uint32_t seq = 0;
	const char *why = NULL;

	ck_assert_int_eq(spsc_create(&x.q, 256, XFER_DATA), 0);
	atomic_init(&x.stop, false);
	ck_assert_int_eq(pthread_create(&th, NULL, producer, &x), 0);

	/* Check's asserts leave the test at once; collect the first failure
	 * and let the producer finish before reporting it. */
	while (seq < XFER_COUNT) {
		struct spsc_msg *m = spsc_peek(x.q);

		if (m == NULL) {
			sched_yield();
			continue;
		}
		why = verify(m, seq, seq % (XFER_DATA + 1));
		if (why != NULL)
			break;
		spsc_pop(x.q);
		seq++;
	}
	atomic_store(&x.stop, true);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_msg(why == NULL, "message %u: bad %s", seq, why);
	ck_assert_uint_eq(seq, XFER_COUNT);
	/* Nothing more than what was sent. */
	ck_assert_ptr_null(spsc_peek(x.q));
	ck_assert(spsc_empty(x.q));
	spsc_destroy(x.q);
}
END_TEST

static Suite *spsc_suite(void)
{
	Suite *su = suite_create("spsc");
	TCase *tc = tcase_create("ring");
	TCase *tc_mt = tcase_create("threads");

	tcase_add_test(tc, test_bad_create);
	tcase_add_test(tc, test_fill_empty);
	tcase_add_test(tc, test_len_clamped);
	tcase_add_test(tc, test_wraparound);
	/* A generous bound only to stop a hang, not a speed check: a million
	 * messages on a shared machine under ASan. */
	tcase_set_timeout(tc_mt, 300);
	tcase_add_test(tc_mt, test_two_threads);
	suite_add_tcase(su, tc);
	suite_add_tcase(su, tc_mt);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(spsc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
