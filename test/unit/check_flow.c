/* Edge flow table: ids per sender, reuse of idle flows, a full table. */
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
	ck_assert_int_eq(flow_lookup(&ft, &c, 100 + FLOW_IDLE_NS), 0);
	ck_assert(addr_equal(flow_addr(&ft, 0), &c));
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
	ck_assert_int_eq(flow_table_init(&ft, 65535), 0);
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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
