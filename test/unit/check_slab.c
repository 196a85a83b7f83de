/* Check suite for the packet buffer slab (src/slab.c). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "slab.h"

/* Every buffer from a full drain: distinct, 64-aligned, inside the region,
 * and writable over its whole size without touching a neighbour. */
START_TEST(test_get_all)
{
	enum { N = 100 };
	struct slab s;
	uint8_t *bufs[N];

	ck_assert_int_eq(slab_init(&s, N, 200), 0);
	ck_assert_uint_eq(s.buf_size, 256);
	ck_assert_uint_eq(s.count, N);
	ck_assert_uint_eq(s.nfree, N);
	ck_assert_uint_ge(s.map_len, (size_t)N * 256);
	for (unsigned i = 0; i < N; i++) {
		bufs[i] = slab_get(&s);
		ck_assert_ptr_nonnull(bufs[i]);
		ck_assert_uint_eq((uintptr_t)bufs[i] % 64, 0);
		ck_assert(bufs[i] >= s.mem && bufs[i] + s.buf_size <= s.mem + s.map_len);
		memset(bufs[i], (int)i, s.buf_size);
	}
	ck_assert_uint_eq(s.nfree, 0);
	for (unsigned i = 0; i < N; i++) {
		for (unsigned j = 0; j < s.buf_size; j++) {
			if (bufs[i][j] != (uint8_t)i)
				ck_abort_msg("buffer %u byte %u overwritten", i, j);
		}
		for (unsigned j = i + 1; j < N; j++)
			ck_assert_ptr_ne(bufs[i], bufs[j]);
	}
	slab_destroy(&s);
}
END_TEST

START_TEST(test_exhausted)
{
	struct slab s;
	void *a, *b, *c;

	ck_assert_int_eq(slab_init(&s, 2, 64), 0);
	a = slab_get(&s);
	b = slab_get(&s);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(slab_get(&s));
	ck_assert_ptr_null(slab_get(&s));
	ck_assert_uint_eq(s.nfree, 0);
	slab_put(&s, a);
	c = slab_get(&s);
	ck_assert_ptr_eq(c, a);
	ck_assert_ptr_null(slab_get(&s));
	slab_destroy(&s);
}
END_TEST

/* The most recently put buffer is the next one out. */
START_TEST(test_lifo)
{
	struct slab s;
	void *b[8];

	ck_assert_int_eq(slab_init(&s, 8, 1500), 0);
	for (unsigned i = 0; i < 8; i++) {
		b[i] = slab_get(&s);
		/* A fresh slab hands out buffers in index order. */
		ck_assert_uint_eq(slab_index(&s, b[i]), i);
	}
	slab_put(&s, b[2]);
	slab_put(&s, b[6]);
	slab_put(&s, b[0]);
	ck_assert_uint_eq(s.nfree, 3);
	ck_assert_ptr_eq(slab_get(&s), b[0]);
	ck_assert_ptr_eq(slab_get(&s), b[6]);
	slab_put(&s, b[5]);
	ck_assert_ptr_eq(slab_get(&s), b[5]);
	ck_assert_ptr_eq(slab_get(&s), b[2]);
	ck_assert_ptr_null(slab_get(&s));
	slab_destroy(&s);
}
END_TEST

START_TEST(test_index_roundtrip)
{
	struct slab s;

	ck_assert_int_eq(slab_init(&s, 33, 2048), 0);
	for (uint32_t i = 0; i < 33; i++) {
		uint8_t *p = slab_buf(&s, i);

		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_eq(p, s.mem + (size_t)i * 2048);
		ck_assert_uint_eq(slab_index(&s, p), i);
	}
	/* Out of range or not a buffer start. */
	ck_assert_ptr_null(slab_buf(&s, 33));
	ck_assert_ptr_null(slab_buf(&s, UINT32_MAX));
	ck_assert_uint_eq(slab_index(&s, NULL), UINT32_MAX);
	ck_assert_uint_eq(slab_index(&s, s.mem + 1), UINT32_MAX);
	ck_assert_uint_eq(slab_index(&s, s.mem + 2048 + 64), UINT32_MAX);
	ck_assert_uint_eq(slab_index(&s, s.mem - 2048), UINT32_MAX);
	ck_assert_uint_eq(slab_index(&s, s.mem + s.map_len), UINT32_MAX);
	ck_assert_uint_eq(slab_index(&s, &s), UINT32_MAX);
	slab_destroy(&s);
}
END_TEST

START_TEST(test_take)
{
	struct slab s;
	int seen[6] = { 0 };
	void *p;

	ck_assert_int_eq(slab_init(&s, 6, 64), 0);
	ck_assert_int_eq(slab_take(&s, 3), 0);
	ck_assert_uint_eq(s.nfree, 5);
	ck_assert_int_eq(slab_take(&s, 3), -EINVAL);	/* not free any more */
	ck_assert_int_eq(slab_take(&s, 6), -EINVAL);
	ck_assert_int_eq(slab_take(&s, UINT32_MAX), -EINVAL);
	ck_assert_int_eq(slab_take(&s, 0), 0);	/* the top of the stack */
	ck_assert_uint_eq(s.nfree, 4);

	/* get never returns a taken buffer. */
	while ((p = slab_get(&s)) != NULL)
		seen[slab_index(&s, p)]++;
	ck_assert_int_eq(seen[0], 0);
	ck_assert_int_eq(seen[3], 0);
	ck_assert_int_eq(seen[1] + seen[2] + seen[4] + seen[5], 4);
	ck_assert_int_eq(seen[1] * seen[2] * seen[4] * seen[5], 1);
	ck_assert_int_eq(slab_take(&s, 1), -EINVAL);	/* taken by get */

	/* A taken buffer goes back with put and can be taken again. */
	slab_put(&s, slab_buf(&s, 3));
	ck_assert_uint_eq(s.nfree, 1);
	ck_assert_int_eq(slab_take(&s, 3), 0);
	ck_assert_uint_eq(s.nfree, 0);
	ck_assert_ptr_null(slab_get(&s));
	slab_put(&s, slab_buf(&s, 3));
	ck_assert_ptr_eq(slab_get(&s), slab_buf(&s, 3));
	slab_destroy(&s);
}
END_TEST

/* Take from the middle of the stack many times against a simple model:
 * the free set must stay exact. */
START_TEST(test_take_random)
{
	enum { N = 64 };
	struct slab s;
	uint8_t model[N];	/* 1 = free */
	uint32_t x = 12345;

	ck_assert_int_eq(slab_init(&s, N, 100), 0);
	memset(model, 1, sizeof(model));
	for (unsigned step = 0; step < 20000; step++) {
		uint32_t idx;
		int rc;

		x = x * 1103515245u + 12345u;
		idx = (x >> 16) % N;
		switch ((x >> 8) % 3) {
		case 0:
			rc = slab_take(&s, idx);
			if (rc != (model[idx] ? 0 : -EINVAL))
				ck_abort_msg("step %u: take %u gave %d", step, idx, rc);
			model[idx] = 0;
			break;
		case 1:
			slab_put(&s, slab_buf(&s, idx));	/* a double put is ignored */
			model[idx] = 1;
			break;
		default: {
			void *p = slab_get(&s);

			if (p == NULL) {
				for (unsigned i = 0; i < N; i++) {
					if (model[i])
						ck_abort_msg("step %u: get empty but %u free", step, i);
				}
				break;
			}
			idx = slab_index(&s, p);
			if (idx >= N || !model[idx])
				ck_abort_msg("step %u: get returned %u, not free", step, idx);
			model[idx] = 0;
			break;
		}
		}
		unsigned nfree = 0;

		for (unsigned i = 0; i < N; i++)
			nfree += model[i];
		if (nfree != s.nfree)
			ck_abort_msg("step %u: nfree %u, model %u", step, s.nfree, nfree);
	}
	slab_destroy(&s);
}
END_TEST

/* A put of something that is not a taken buffer of this slab changes
 * nothing: the free list never holds a bad or duplicate entry. */
START_TEST(test_put_foreign_ignored)
{
	struct slab s, other;
	uint8_t stack_buf[64];
	void *a, *b;
	void *seen[4];
	unsigned n = 0;

	ck_assert_int_eq(slab_init(&s, 4, 64), 0);
	ck_assert_int_eq(slab_init(&other, 4, 64), 0);
	a = slab_get(&s);
	b = slab_get(&s);
	ck_assert_uint_eq(s.nfree, 2);

	slab_put(&s, NULL);
	slab_put(&s, stack_buf);
	slab_put(&s, (uint8_t *)a + 1);		/* inside a buffer */
	slab_put(&s, (uint8_t *)b + 63);
	slab_put(&s, s.mem + s.map_len);	/* one past the end */
	slab_put(&s, s.mem - 64);		/* just before */
	slab_put(&s, slab_get(&other));		/* another slab's */
	slab_put(&s, slab_buf(&s, 3));		/* already free */
	ck_assert_uint_eq(s.nfree, 2);

	slab_put(&s, a);
	slab_put(&s, a);			/* double put */
	ck_assert_uint_eq(s.nfree, 3);
	slab_put(&s, b);
	ck_assert_uint_eq(s.nfree, 4);
	slab_put(&s, b);			/* all free: still nothing */
	ck_assert_uint_eq(s.nfree, 4);

	/* Four distinct buffers come out, then none. */
	for (void *p; (p = slab_get(&s)) != NULL;) {
		ck_assert_uint_lt(n, 4);
		for (unsigned i = 0; i < n; i++)
			ck_assert_ptr_ne(seen[i], p);
		seen[n++] = p;
	}
	ck_assert_uint_eq(n, 4);
	slab_destroy(&other);
	slab_destroy(&s);
}
END_TEST

START_TEST(test_bad_init)
{
	struct slab s;

	ck_assert_int_eq(slab_init(&s, 0, 64), -EINVAL);
	ck_assert_ptr_null(s.mem);
	ck_assert_ptr_null(s.free);
	ck_assert_int_eq(slab_init(&s, 4, 0), -EINVAL);
	ck_assert_int_eq(slab_init(&s, 4, UINT32_MAX), -EINVAL);
	ck_assert_int_eq(slab_init(&s, 4, UINT32_MAX - 62), -EINVAL);
	/* More than the address space can hold. */
	ck_assert_int_eq(slab_init(&s, UINT32_MAX, 1u << 30), -ENOMEM);
	ck_assert_ptr_null(s.mem);
	ck_assert_uint_eq(s.count, 0);

	/* A failed init leaves an empty slab that is safe to use and destroy. */
	ck_assert_ptr_null(slab_get(&s));
	ck_assert_ptr_null(slab_buf(&s, 0));
	ck_assert_uint_eq(slab_index(&s, &s), UINT32_MAX);
	ck_assert_int_eq(slab_take(&s, 0), -EINVAL);
	slab_put(&s, &s);
	slab_destroy(&s);
	slab_destroy(&s);
}
END_TEST

START_TEST(test_buf_size_rounding)
{
	static const struct {
		uint32_t in, want;
	} cases[] = {
		{ 1, 64 }, { 63, 64 }, { 64, 64 }, { 65, 128 }, { 127, 128 },
		{ 128, 128 }, { 1500, 1536 }, { 2048, 2048 }, { 2049, 2112 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct slab s;
		uint8_t *a, *b;

		ck_assert_int_eq(slab_init(&s, 2, cases[i].in), 0);
		ck_assert_uint_eq(s.buf_size, cases[i].want);
		ck_assert_uint_ge(s.map_len, 2 * (size_t)cases[i].want);
		a = slab_buf(&s, 0);
		b = slab_buf(&s, 1);
		ck_assert_uint_eq((size_t)(b - a), cases[i].want);
		slab_destroy(&s);
	}
}
END_TEST

static Suite *slab_suite(void)
{
	Suite *su = suite_create("slab");
	TCase *tc = tcase_create("slab");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_get_all);
	tcase_add_test(tc, test_exhausted);
	tcase_add_test(tc, test_lifo);
	tcase_add_test(tc, test_index_roundtrip);
	tcase_add_test(tc, test_take);
	tcase_add_test(tc, test_take_random);
	tcase_add_test(tc, test_put_foreign_ignored);
	tcase_add_test(tc, test_bad_init);
	tcase_add_test(tc, test_buf_size_rounding);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(slab_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
