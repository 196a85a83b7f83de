/* Edge flow table: ids per sender, reuse of idle flows, a full table, and
 * the generation a reused slot gets. */
#include <errno.h>
#include <stdlib.h>

#include <check.h>

#include "flow.h"

static union braid_addr A(const char *s)
{
	union braid_addr a;

	ck_assert_int_eq(addr_parse(s, &a), 0);
	return a;
}

START_TEST(test_same_sender_same_flow)
{
	struct flow_table ft;
	union braid_addr a = A("127.0.0.1:1000"), b = A("127.0.0.1:1001"), c = A("[::1]:1000");

	ck_assert_int_eq(flow_table_init(&ft, 8), 0);
	ck_assert_int_eq(flow_lookup(&ft, &a, 1), 0);
	ck_assert_int_eq(flow_lookup(&ft, &b, 2), 1);
	ck_assert_int_eq(flow_lookup(&ft, &c, 3), 2);
	ck_assert_int_eq(flow_lookup(&ft, &a, 4), 0);
	ck_assert_int_eq(flow_lookup(&ft, &b, 5), 1);
	ck_assert(addr_equal(flow_addr(&ft, 2), &c));
	ck_assert_ptr_null(flow_addr(&ft, 3));
	ck_assert_ptr_null(flow_addr(&ft, 8));
	ck_assert_ptr_null(flow_addr(&ft, 65535));
	flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_full_table_refuses_live_reuses_idle)
{
	struct flow_table ft;
	union braid_addr a = A("127.0.0.1:1"), b = A("127.0.0.1:2"), c = A("127.0.0.1:3");

	ck_assert_int_eq(flow_table_init(&ft, 2), 0);
	ck_assert_int_eq(flow_lookup(&ft, &a, 100), 0);
	ck_assert_int_eq(flow_lookup(&ft, &b, 200), 1);
	/* Both live: the third sender gets no flow. */
	ck_assert_int_eq(flow_lookup(&ft, &c, 300), -ENOSPC);
	/* Exactly at the idle limit the oldest (a, last seen at 100) may go. */
	ck_assert_int_eq(flow_lookup(&ft, &c, 100 + FLOW_IDLE_NS - 1), -ENOSPC);
	ck_assert_int_eq(flow_lookup(&ft, &c, 100 + FLOW_IDLE_NS), flow_id(0, 1));
	ck_assert(addr_equal(flow_addr(&ft, flow_id(0, 1)), &c));
	/* b is still known as flow 1. */
	ck_assert_int_eq(flow_lookup(&ft, &b, 100 + FLOW_IDLE_NS), 1);
	flow_table_destroy(&ft);
}
END_TEST

START_TEST(test_bad_sizes)
{
	struct flow_table ft;

	ck_assert_int_eq(flow_table_init(&ft, 0), -EINVAL);
	ck_assert_int_eq(flow_table_init(&ft, 65536), -EINVAL);
	ck_assert_int_eq(flow_table_init(&ft, FLOW_MAX + 1), -EINVAL);
	ck_assert_int_eq(flow_table_init(&ft, FLOW_MAX), 0);
	flow_table_destroy(&ft);
}
END_TEST

/* Security defect 3: a slot given to another sender must reach the hub as
 * another flow, and a reply for the old sender must not find the new one.
 * Only the API that predates generations, so it runs against the old
 * table too (where it fails: the new sender got the old id 0). */
START_TEST(test_reused_slot_is_another_flow)
{
	struct flow_table ft;
	union braid_addr a = A("127.0.0.1:1"), b = A("127.0.0.1:2");
	int fa, fb;

	ck_assert_int_eq(flow_table_init(&ft, 1), 0);
	fa = flow_lookup(&ft, &a, 1000);
	ck_assert_int_ge(fa, 0);
	fb = flow_lookup(&ft, &b, 1000 + FLOW_IDLE_NS);
	ck_assert_int_ge(fb, 0);
	ck_assert_int_ne(fb, fa);
	/* The same slot (the low 10 bits)... */
	ck_assert_int_eq(fb & 0x3ff, fa & 0x3ff);
	/* ...but a's replies no longer have an address to go to. */
	ck_assert_ptr_null(flow_addr(&ft, (uint16_t)fa));
	ck_assert(addr_equal(flow_addr(&ft, (uint16_t)fb), &b));
	/* b keeps its id while it talks. */
	ck_assert_int_eq(flow_lookup(&ft, &b, 2000 + FLOW_IDLE_NS), fb);
	flow_table_destroy(&ft);
}
END_TEST

/* The generation: counted per slot, only when the slot changes hands, and
 * wrapping in its 6 bits; a returning sender is a new flow too. */
START_TEST(test_generation_per_slot_and_wrap)
{
	struct flow_table ft;
	union braid_addr a = A("127.0.0.1:1"), b = A("127.0.0.1:2"), s[2];
	uint64_t t = 0, idle = 1000;
	int id;

	ck_assert_int_eq(flow_table_init(&ft, 2), 0);
	ft.idle_ns = idle;
	ck_assert_int_eq(flow_lookup(&ft, &a, t), flow_id(0, 0));
	ck_assert_int_eq(flow_lookup(&ft, &b, t), flow_id(1, 0));
	/* Not idle long enough (flow-idle): refused, nothing counted up. */
	s[0] = A("127.0.0.1:3");
	ck_assert_int_eq(flow_lookup(&ft, &s[0], t + idle - 1), -ENOSPC);
	ck_assert_int_eq(flow_lookup(&ft, &a, t + idle - 1), flow_id(0, 0));
	/* b is the oldest now: slot 1 changes hands, slot 0 keeps gen 0. */
	t += 2 * idle;
	ck_assert_int_eq(flow_lookup(&ft, &s[0], t), flow_id(1, 1));
	ck_assert_ptr_null(flow_addr(&ft, flow_id(1, 0)));
	ck_assert(addr_equal(flow_addr(&ft, flow_id(0, 0)), &a));
	/* The old sender coming back is another flow: a third generation. */
	ck_assert_int_eq(flow_lookup(&ft, &a, t + idle / 2), flow_id(0, 0));
	t += idle;
	ck_assert_int_eq(flow_lookup(&ft, &b, t), flow_id(1, 2));
	/* Slot 0 handed on FLOW_GEN_MAX times comes back to generation 0. */
	for (unsigned i = 1; i <= FLOW_GEN_MAX; i++) {
		s[i & 1] = A(i & 1 ? "127.0.0.1:5" : "127.0.0.1:6");
		t += 2 * idle;
		ck_assert_int_eq(flow_lookup(&ft, &b, t - 1), flow_id(1, 2));
		id = flow_lookup(&ft, &s[i & 1], t);
		ck_assert_int_eq(id, flow_id(0, i % FLOW_GEN_MAX));
		ck_assert_uint_eq(flow_slot((uint16_t)id), 0);
		ck_assert_uint_eq(flow_gen((uint16_t)id), i % FLOW_GEN_MAX);
	}
	/* Ids naming no slot in use, or a slot beyond the table. */
	ck_assert_ptr_null(flow_addr(&ft, flow_id(2, 0)));
	ck_assert_ptr_null(flow_addr(&ft, flow_id(FLOW_MAX - 1, 63)));
	ck_assert_ptr_null(flow_addr(&ft, 0xffff));
	flow_table_destroy(&ft);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("flow");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_same_sender_same_flow);
	tcase_add_test(tc, test_full_table_refuses_live_reuses_idle);
	tcase_add_test(tc, test_bad_sizes);
	tcase_add_test(tc, test_reused_slot_is_another_flow);
	tcase_add_test(tc, test_generation_per_slot_and_wrap);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
