/* The control protocol's parser (src/ctl.c): every command, and a table of
 * bad requests, each with the error it must get. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ctl.h"

static int parse(const char *text, size_t len, struct ctl_req *r)
{
	static char buf[CTL_LINE_MAX * 2 + 8];

	ck_assert_uint_le(len, sizeof(buf));
	memcpy(buf, text, len);
	return ctl_parse(buf, len, r);
}

static int parse_str(const char *text, struct ctl_req *r)
{
	return parse(text, strlen(text), r);
}

START_TEST(test_commands)
{
	static const struct {
		const char *text;
		enum ctl_cmd cmd;
		unsigned argc;
	} ok[] = {
		{ "stats\n", CTL_STATS, 1 },
		{ "stats json\n", CTL_STATS_JSON, 2 },
		{ "stats raw\n", CTL_STATS_RAW, 2 },
		{ "metrics\n", CTL_METRICS, 1 },
		{ "link list\n", CTL_LINK_LIST, 2 },
		{ "version\n", CTL_VERSION, 1 },
		{ "link add a local=127.0.0.1:1\n", CTL_LINK_ADD, 4 },
		{ "link add a b c d e f g h i j k l m n\n", CTL_LINK_ADD, 16 },
		{ "link del a\n", CTL_LINK_DEL, 3 },
		{ "link set a weight=3\n", CTL_LINK_SET, 4 },
		{ "link set a weight=3 state=down\n", CTL_LINK_SET, 5 },
	};
	struct ctl_req r;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(parse_str(ok[i].text, &r), 0);
		ck_assert_int_eq(r.cmd, ok[i].cmd);
		ck_assert_uint_eq(r.argc, ok[i].argc);
	}
	ck_assert_int_eq(parse_str("link list\n", &r), 0);
	ck_assert_str_eq(r.argv[0], "link");
	ck_assert_str_eq(r.argv[1], "list");
}
END_TEST

START_TEST(test_bad)
{
	static const struct {
		const char *text;
		int err;
	} bad[] = {
		{ "", -EMSGSIZE },			/* nothing */
		{ "stats", -EMSGSIZE },			/* no newline */
		{ "\n", -EINVAL },			/* empty line */
		{ " stats\n", -EINVAL },		/* leading space */
		{ "stats \n", -EINVAL },		/* trailing space */
		{ "link  list\n", -EINVAL },		/* doubled space */
		{ "stats\tjson\n", -EINVAL },		/* a tab */
		{ "stats\r\n", -EINVAL },		/* CR */
		{ "st\x01ts\n", -EINVAL },		/* a control byte */
		{ "st\xc3\xa4ts\n", -EINVAL },		/* not ASCII */
		{ "stats\nstats\n", -EINVAL },		/* two lines */
		{ "stats\n\n", -EINVAL },
		{ "bogus\n", -ENOENT },
		{ "Stats\n", -ENOENT },			/* case matters */
		{ "link\n", -EINVAL },			/* half a command */
		{ "link add\n", -EINVAL },		/* no name */
		{ "link add a\n", -EINVAL },		/* no keys */
		{ "link add a b c d e f g h i j k l m n o\n", -EMSGSIZE },	/* 17 words */
		{ "link del\n", -EINVAL },
		{ "link del a b\n", -E2BIG },
		{ "link set a\n", -EINVAL },
		{ "link set a b c d\n", -E2BIG },
		{ "link remove a\n", -EINVAL },
		{ "stats json extra\n", -E2BIG },
		{ "stats yaml\n", -E2BIG },
		{ "stats raw x\n", -E2BIG },
		{ "stats raw raw\n", -E2BIG },
		{ "raw\n", -ENOENT },
		{ "stats RAW\n", -E2BIG },		/* case matters */
		{ "metrics now\n", -E2BIG },
		{ "version 2\n", -E2BIG },
	};
	struct ctl_req r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_str(bad[i].text, &r) == bad[i].err, "case %zu: '%s' gave %d",
			      i, bad[i].text, parse_str(bad[i].text, &r));
	/* A NUL inside is a control byte, not the end of the line. */
	ck_assert_int_eq(parse("sta\0s\n", 6, &r), -EINVAL);
}
END_TEST

/* Every bound: the line, a word, the number of words. */
START_TEST(test_bounds)
{
	static char line[CTL_LINE_MAX * 2];
	struct ctl_req r;
	size_t n;

	/* A word of CTL_WORD_MAX is fine (an unknown command), one more is not. */
	memset(line, 'a', CTL_WORD_MAX);
	line[CTL_WORD_MAX] = '\n';
	ck_assert_int_eq(parse(line, CTL_WORD_MAX + 1, &r), -ENOENT);
	memset(line, 'a', CTL_WORD_MAX + 1);
	line[CTL_WORD_MAX + 1] = '\n';
	ck_assert_int_eq(parse(line, CTL_WORD_MAX + 2, &r), -EMSGSIZE);

	/* CTL_ARGS_MAX words are counted, one more is too many. */
	n = 0;
	for (unsigned i = 0; i < CTL_ARGS_MAX; i++) {
		memcpy(line + n, "stats ", 6);
		n += 6;
	}
	line[n - 1] = '\n';
	ck_assert_int_eq(parse(line, n, &r), -E2BIG);
	line[n - 1] = ' ';
	memcpy(line + n, "x\n", 2);
	ck_assert_int_eq(parse(line, n + 2, &r), -EMSGSIZE);

	/* The whole line: CTL_LINE_MAX at most. */
	n = 0;
	while (n + 100 < CTL_LINE_MAX + 100) {
		memset(line + n, 'b', 99);
		line[n + 99] = ' ';
		n += 100;
	}
	line[n - 1] = '\n';
	ck_assert_uint_gt(n, CTL_LINE_MAX);
	ck_assert_int_eq(parse(line, n, &r), -EMSGSIZE);
}
END_TEST

START_TEST(test_errname)
{
	ck_assert_str_eq(ctl_errname(0), "ok");
	ck_assert_str_eq(ctl_errname(EINVAL), "EINVAL");
	ck_assert_str_eq(ctl_errname(ENOENT), "ENOENT");
	ck_assert_str_eq(ctl_errname(EACCES), "EACCES");
	ck_assert_str_eq(ctl_errname(12345), "E?");
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_commands);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_errname);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
