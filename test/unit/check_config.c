/* Tests for the config parser: good files parse to the fields they say, every
 * kind of bad file fails on the right line with a message that names what is
 * wrong, and the value parsers hold their edges. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "config.h"

#define NAME "t.conf"

static char err[512];

static int parse_n(const char *text, size_t len, struct braid_config *cfg)
{
	memset(err, 0, sizeof(err));
	return config_parse(text, len, NAME, cfg, err, sizeof(err));
}

static int parse(const char *text, struct braid_config *cfg)
{
	return parse_n(text, strlen(text), cfg);
}

static void assert_addr4(const union braid_addr *a, const char *ip, unsigned port)
{
	struct in_addr want;

	ck_assert_int_eq(inet_pton(AF_INET, ip, &want), 1);
	ck_assert_int_eq(a->in.sin_family, AF_INET);
	ck_assert_uint_eq(a->in.sin_addr.s_addr, want.s_addr);
	ck_assert_uint_eq(ntohs(a->in.sin_port), port);
}

/* Expects a failure at `line` whose message contains `what`, and cfg left as
 * it was. */
static void assert_fails(const char *text, size_t len, int line, const char *what)
{
	struct braid_config cfg, before;
	char prefix[64];
	int rc;

	memset(&cfg, 0xa5, sizeof(cfg));
	memcpy(&before, &cfg, sizeof(cfg));
	rc = parse_n(text, len, &cfg);
	ck_assert_msg(rc == -EINVAL, "rc %d for:\n%s", rc, text);
	snprintf(prefix, sizeof(prefix), NAME ":%d: ", line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
		      "want line %d, got '%s' for:\n%s", line, err, text);
	ck_assert_msg(strstr(err, what) != NULL, "want '%s' in '%s' for:\n%s",
		      what, err, text);
	ck_assert_msg(memcmp(&cfg, &before, sizeof(cfg)) == 0,
		      "cfg changed by a failed parse");
}

/* --- locating docs/examples from wherever the test runs ---------------------- */

/* The binary may run from the top of the tree (make) or from anywhere else;
 * BRAID_SRCDIR wins, then the working directory, then the directories above
 * the binary. */
static int find_example(const char *file, char *out, size_t len)
{
	char exe[PATH_MAX], rel[64];
	const char *env = getenv("BRAID_SRCDIR");
	ssize_t n;

	snprintf(rel, sizeof(rel), "docs/examples/%s", file);
	if (env) {
		snprintf(out, len, "%s/%s", env, rel);
		if (access(out, R_OK) == 0)
			return 0;
	}
	snprintf(out, len, "%s", rel);
	if (access(out, R_OK) == 0)
		return 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = '\0';
	for (int up = 0; up < 6; up++) {
		char *dir = dirname(exe);

		snprintf(out, len, "%s/%s", dir, rel);
		if (access(out, R_OK) == 0)
			return 0;
		if (strcmp(dir, "/") == 0)
			break;
		memmove(exe, dir, strlen(dir) + 1);
	}
	return -ENOENT;
}

/* Reads a whole small file into buf (NUL-terminated); returns its length. */
static size_t slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, cap - 1, f);
	ck_assert_msg(n < cap - 1, "%s too big for the test", path);
	fclose(f);
	buf[n] = '\0';
	return n;
}

static void check_edge_example(const struct braid_config *cfg)
{
	static const char *const names[] = { "lo1", "lo2", "lo3" };
	static const unsigned weights[] = { 5, 3, 2 };

	ck_assert_int_eq(cfg->role, ROLE_EDGE);
	ck_assert_str_eq(cfg->key_path, "/etc/braid/demo.key");
	ck_assert_int_eq(cfg->mode, SCHED_AGGREGATE);
	ck_assert_uint_eq(cfg->budget_ns, 20000000u);
	assert_addr4(&cfg->app_listen, "127.0.0.1", 5000);
	ck_assert_int_eq(cfg->app_dest.sa.sa_family, AF_UNSPEC);
	ck_assert_uint_eq(cfg->nlinks, 3);
	for (unsigned i = 0; i < 3; i++) {
		const struct link_config *l = &cfg->links[i];

		ck_assert_str_eq(l->name, names[i]);
		assert_addr4(&l->local, "127.0.0.1", 7101 + i);
		ck_assert(l->has_remote);
		assert_addr4(&l->remote, "127.0.0.1", 7201 + i);
		ck_assert_uint_eq(l->weight, weights[i]);
		ck_assert_uint_eq(l->priority, i);
		ck_assert_str_eq(l->device, "");
	}
}

static void check_hub_example(const struct braid_config *cfg)
{
	static const unsigned weights[] = { 5, 3, 2 };

	ck_assert_int_eq(cfg->role, ROLE_HUB);
	ck_assert_str_eq(cfg->key_path, "/etc/braid/demo.key");
	assert_addr4(&cfg->app_dest, "127.0.0.1", 6000);
	ck_assert_int_eq(cfg->app_listen.sa.sa_family, AF_UNSPEC);
	ck_assert_uint_eq(cfg->nlinks, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_addr4(&cfg->links[i].local, "127.0.0.1", 7201 + i);
		ck_assert(!cfg->links[i].has_remote);
		ck_assert_uint_eq(cfg->links[i].weight, weights[i]);
	}
}

/* --- good files ------------------------------------------------------------- */

START_TEST(test_defaults)
{
	struct braid_config cfg;

	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	ck_assert_int_eq(cfg.mode, SCHED_AGGREGATE);
	ck_assert_int_eq(cfg.scheduler, SCHED_ARRIVAL);
	ck_assert_uint_eq(cfg.budget_ns, 20000000u);
	ck_assert(!cfg.unordered);
	ck_assert_uint_eq(cfg.probe_interval_ns, 100000000u);
	ck_assert_uint_eq(cfg.workers, 1);
	ck_assert_uint_eq(cfg.ncpus, 0);
	for (unsigned i = 0; i < BRAID_MAX_WORKERS; i++)
		ck_assert_int_eq(cfg.cpus[i], -1);
	ck_assert(!cfg.sqpoll);
	ck_assert_int_eq(cfg.sqpoll_cpu, -1);
	ck_assert_uint_eq(cfg.busy_poll_us, 0);
	ck_assert(!cfg.spin);
	ck_assert_uint_eq(cfg.sndbuf, 4u << 20);
	ck_assert_uint_eq(cfg.rcvbuf, 4u << 20);
	ck_assert_uint_eq(cfg.stats_interval_ns, 0);
	ck_assert_uint_eq(cfg.max_flows, 64);
	ck_assert_uint_eq(cfg.flow_idle_ns, 60000000000ull);
	ck_assert_uint_eq(cfg.reorder_window, 4096);
	ck_assert_uint_eq(cfg.nlinks, 0);
	ck_assert_str_eq(cfg.key_path, "");
}
END_TEST

/* Every [bond] key set away from its default, comments of every kind. */
static const char good_edge[] =
	"\xef\xbb\xbf# edge, everything set\n"		/* 1 */
	"  ; indented comment\n"
	"\n"
	"[bond]   # the bond\n"
	"role=edge\n"					/* 5 */
	"\tkey = /etc/braid/a#b.key   # '#' inside a word stays\n"
	"mode = failover\n"
	"latency = 35ms\n"
	"unordered = yes\n"
	"probe-interval = 2s\n"				/* 10 */
	"workers = 4\n"
	"cpus = 2-3, 0,7\n"
	"sqpoll = on\n"
	"sqpoll-cpu = 5\n"
	"busy-poll = 50\n"				/* 15 */
	"spin = true\n"
	"sndbuf = 8M\n"
	"rcvbuf = 65536\n"
	"stats-interval = 1m\n"
	"max-flows = 1024\n"				/* 20 */
	"reorder-window = 65536\n"
	"\n"
	"[ app ]\n"
	"listen = 127.0.0.1:5000\n"
	"\n"						/* 25 */
	"[link lte1]\n"
	"local = 10.0.0.2:0\n"
	"device = wwan0\n"
	"remote = 192.0.2.1:7000\n"
	"weight = 1000\n"				/* 30 */
	"priority = 7\n"
	"[link  wifi_2.b-c]\n"
	"local = [::1]:7001\n"
	"remote = [2001:db8::1]:7002\n";

START_TEST(test_good_edge)
{
	struct braid_config cfg;
	struct in6_addr want6;

	ck_assert_msg(parse(good_edge, &cfg) == 0, "%s", err);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(cfg.role, ROLE_EDGE);
	ck_assert_str_eq(cfg.key_path, "/etc/braid/a#b.key");
	ck_assert_int_eq(cfg.mode, SCHED_FAILOVER);
	ck_assert_uint_eq(cfg.budget_ns, 35000000u);
	ck_assert(cfg.unordered);
	ck_assert_uint_eq(cfg.probe_interval_ns, 2000000000u);
	ck_assert_uint_eq(cfg.workers, 4);
	ck_assert_uint_eq(cfg.ncpus, 4);
	ck_assert_int_eq(cfg.cpus[0], 2);
	ck_assert_int_eq(cfg.cpus[1], 3);
	ck_assert_int_eq(cfg.cpus[2], 0);
	ck_assert_int_eq(cfg.cpus[3], 7);
	ck_assert_int_eq(cfg.cpus[4], -1);
	ck_assert(cfg.sqpoll);
	ck_assert_int_eq(cfg.sqpoll_cpu, 5);
	ck_assert_uint_eq(cfg.busy_poll_us, 50);
	ck_assert(cfg.spin);
	ck_assert_uint_eq(cfg.sndbuf, 8u << 20);
	ck_assert_uint_eq(cfg.rcvbuf, 65536);
	ck_assert_uint_eq(cfg.stats_interval_ns, 60000000000ull);
	ck_assert_uint_eq(cfg.max_flows, 1024);
	ck_assert_uint_eq(cfg.reorder_window, 65536);
	assert_addr4(&cfg.app_listen, "127.0.0.1", 5000);

	ck_assert_uint_eq(cfg.nlinks, 2);
	ck_assert_str_eq(cfg.links[0].name, "lte1");
	assert_addr4(&cfg.links[0].local, "10.0.0.2", 0);
	ck_assert_str_eq(cfg.links[0].device, "wwan0");
	ck_assert(cfg.links[0].has_remote);
	assert_addr4(&cfg.links[0].remote, "192.0.2.1", 7000);
	ck_assert_uint_eq(cfg.links[0].weight, 1000);
	ck_assert(!cfg.links[0].weight_auto);
	ck_assert_uint_eq(cfg.links[0].priority, 7);
	ck_assert_int_eq(cfg.links[0].line, 26);

	ck_assert_str_eq(cfg.links[1].name, "wifi_2.b-c");
	ck_assert_int_eq(cfg.links[1].local.sa.sa_family, AF_INET6);
	ck_assert_uint_eq(ntohs(cfg.links[1].local.in6.sin6_port), 7001);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", &want6), 1);
	ck_assert(memcmp(&cfg.links[1].remote.in6.sin6_addr, &want6, sizeof(want6)) == 0);
	ck_assert(cfg.links[1].weight_auto);		/* default */
	ck_assert_uint_eq(cfg.links[1].weight, BRAID_AUTO_WEIGHT);
	ck_assert_uint_eq(cfg.links[1].priority, 1);	/* default: its index */
	ck_assert_int_eq(cfg.links[1].line, 32);
}
END_TEST

/* A minimal hub: every default holds, links need no remote. */
START_TEST(test_good_hub)
{
	static const char text[] =
		"[link a]\n"
		"local = 0.0.0.0:7201\n"
		"[app]\n"
		"destination = 127.0.0.1:6000\n"
		"[link b]\n"
		"local = 0.0.0.0:7202\n"
		"remote = 192.0.2.9:1\n"
		"[bond]\n"
		"key = hub.key\n"
		"role = hub\n";
	struct braid_config cfg, def;

	ck_assert_msg(parse(text, &cfg) == 0, "%s", err);
	config_defaults(&def);
	ck_assert_int_eq(cfg.role, ROLE_HUB);
	ck_assert_str_eq(cfg.key_path, "hub.key");
	ck_assert_int_eq(cfg.mode, def.mode);
	ck_assert_uint_eq(cfg.budget_ns, def.budget_ns);
	ck_assert_uint_eq(cfg.probe_interval_ns, def.probe_interval_ns);
	ck_assert_uint_eq(cfg.workers, def.workers);
	ck_assert_uint_eq(cfg.ncpus, 0);
	ck_assert_int_eq(cfg.sqpoll_cpu, -1);
	ck_assert_uint_eq(cfg.sndbuf, def.sndbuf);
	ck_assert_uint_eq(cfg.reorder_window, def.reorder_window);
	assert_addr4(&cfg.app_dest, "127.0.0.1", 6000);
	ck_assert_uint_eq(cfg.nlinks, 2);
	ck_assert(!cfg.links[0].has_remote);
	ck_assert(cfg.links[1].has_remote);
	ck_assert_uint_eq(cfg.links[0].priority, 0);
	ck_assert_uint_eq(cfg.links[1].priority, 1);
	ck_assert_int_eq(cfg.links[1].line, 5);
}
END_TEST

START_TEST(test_examples)
{
	struct braid_config cfg;
	char path[PATH_MAX];

	ck_assert_msg(find_example("edge.conf", path, sizeof(path)) == 0,
		      "docs/examples/edge.conf not found (set BRAID_SRCDIR)");
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s", err);
	check_edge_example(&cfg);

	ck_assert(find_example("hub.conf", path, sizeof(path)) == 0);
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s", err);
	check_hub_example(&cfg);
}
END_TEST

/* CRLF line ends, and no line end at all on the last line. */
START_TEST(test_line_ends)
{
	static char text[8192], crlf[16384];
	struct braid_config cfg;
	char path[PATH_MAX];
	size_t n, m = 0;

	ck_assert(find_example("edge.conf", path, sizeof(path)) == 0);
	n = slurp(path, text, sizeof(text));
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\n')
			crlf[m++] = '\r';
		crlf[m++] = text[i];
	}
	ck_assert_msg(parse_n(crlf, m, &cfg) == 0, "%s", err);
	check_edge_example(&cfg);

	/* Without its last line end (CR LF or LF) the file means the same. */
	ck_assert(m > 2 && crlf[m - 1] == '\n');
	ck_assert_msg(parse_n(crlf, m - 2, &cfg) == 0, "%s", err);
	check_edge_example(&cfg);
	ck_assert(n > 1 && text[n - 1] == '\n');
	ck_assert_msg(parse_n(text, n - 1, &cfg) == 0, "%s", err);
	check_edge_example(&cfg);
	/* The last value really is read from the unterminated line. */
	ck_assert(strcmp(text + n - 11, "weight = 2\n") == 0);
	text[n - 2] = '9';
	ck_assert_msg(parse_n(text, n - 1, &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.links[2].weight, 9);

	/* A bare CR inside a line is not a line end. */
	assert_fails("[bond]\rrole = edge\n", 19, 1, "control character 0x0d");
}
END_TEST

/* Comments: '#' and ';' lines, " #" after a value; ';' after a value and
 * '#' inside a word are part of the value. */
START_TEST(test_comments)
{
	static const char text[] =
		"[bond]\n"
		"role = hub\t#edge\n"
		"key = /k;v#w #comment\n"
		"   # role = edge\n"
		"\t; key = other\n"
		"[app]\n"
		"destination = 127.0.0.1:1 # = 5\n"
		"[link a] ; not a comment after a header\n";
	static const char text2[] =
		"[bond]\n"
		"role = hub\n"
		"key = /k\n"
		"[app] # fine\n"
		"destination = 127.0.0.1:1\n"
		"[link a]\t# fine\n"
		"local = 127.0.0.1:2\n";
	struct braid_config cfg;

	assert_fails(text, strlen(text), 8, "no closing ']'");
	ck_assert_msg(parse(text2, &cfg) == 0, "%s", err);
	ck_assert_int_eq(cfg.role, ROLE_HUB);
	ck_assert_str_eq(cfg.key_path, "/k");
	ck_assert_str_eq(cfg.links[0].name, "a");
}
END_TEST

START_TEST(test_key_value_kept)
{
	static const char text[] =
		"[bond]\n"
		"role = hub\n"
		"key = /k;v#w   x #comment\n"
		"[app]\n"
		"destination = 127.0.0.1:1\n"
		"[link a]\n"
		"local = 127.0.0.1:2\n";
	struct braid_config cfg;

	ck_assert_msg(parse(text, &cfg) == 0, "%s", err);
	ck_assert_str_eq(cfg.key_path, "/k;v#w   x");
}
END_TEST

/* --- bad files: one table, each row a file, its error line and message ------- */

/* A good edge file with one extra line at line 4, inside [bond]. */
#define BOND(x) "[bond]\nrole = edge\nkey = /k\n" x "\n[app]\nlisten = 127.0.0.1:5000\n" \
	"[link a]\nlocal = 127.0.0.1:1\nremote = 127.0.0.1:2\n"
/* The same with the extra line at line 9, inside [link a]. */
#define LINK(x) "[bond]\nrole = edge\nkey = /k\n[app]\nlisten = 127.0.0.1:5000\n" \
	"[link a]\nlocal = 127.0.0.1:1\nremote = 127.0.0.1:2\n" x "\n"
#define HUB(x) "[bond]\nrole = hub\nkey = /k\n" x "\n[app]\ndestination = 127.0.0.1:6000\n" \
	"[link a]\nlocal = 127.0.0.1:1\n"

/* A hub whose destination is DEST, with EXTRA lines after it (line 6 on). */
#define TCPHUB(dest, extra) "[bond]\nrole = hub\nkey = /k\n[app]\ndestination = " dest "\n" \
	extra "[link a]\nlocal = 127.0.0.1:1\n"

static const struct bad {
	const char *text;
	int line;
	const char *msg;
} bad[] = {
	/* lines that are not key = value */
	{ "role = edge\n[bond]\n", 1, "key outside of any section" },
	{ BOND("role"), 4, "expected 'key = value'" },
	{ BOND("= edge"), 4, "missing key before '='" },
	{ BOND("latency ="), 4, "missing value for 'latency'" },
	{ BOND("latency =   # nothing"), 4, "missing value for 'latency'" },
	{ BOND("wieght = 1"), 4, "unknown key 'wieght' in [bond]" },
	{ BOND("Role = edge"), 4, "unknown key 'Role' in [bond]" },
	{ BOND("listen = 127.0.0.1:1"), 4, "unknown key 'listen' in [bond]" },
	{ LINK("wieght = 3"), 9, "unknown key 'wieght' in [link a]" },
	{ BOND("role = edge"), 4, "duplicate key 'role' in [bond] (first at line 2)" },
	{ BOND("mode = duplicate\nmode = failover"), 5, "duplicate key 'mode'" },
	{ LINK("local = 127.0.0.1:3"), 9, "duplicate key 'local' in [link a] (first at line 7)" },
	{ BOND("key = /k\x1b[31m"), 4, "control character 0x1b" },
	{ BOND("key = /k\x7f"), 4, "control character 0x7f" },
	/* sections */
	{ BOND("[bnod]"), 4, "unknown section [bnod]" },
	{ BOND("[Bond]"), 4, "unknown section [Bond]" },
	{ BOND("[linkx]"), 4, "unknown section [linkx]" },
	{ BOND("[]"), 4, "unknown section []" },
	{ BOND("[bond"), 4, "no closing ']'" },
	{ BOND("[bond]x"), 4, "no closing ']'" },
	{ BOND("[bond]"), 4, "duplicate section [bond] (first at line 1)" },
	{ LINK("[app]"), 9, "duplicate section [app] (first at line 4)" },
	{ BOND("[link]"), 4, "missing link name" },
	{ BOND("[link  ]"), 4, "missing link name" },
	{ BOND("[link a b]"), 4, "invalid link name 'a b'" },
	{ BOND("[link a/b]"), 4, "invalid link name 'a/b'" },
	{ BOND("[link 01234567890123456789012345678901]"), 4, "invalid link name" },
	{ LINK("[link a]"), 9, "duplicate link name 'a' (first at line 6)" },
	/* role, mode, key */
	{ "[bond]\nrole = spoke\n", 2, "role 'spoke' must be edge or hub" },
	{ "[bond]\nrole = Edge\n", 2, "role 'Edge' must be edge or hub" },
	{ BOND("mode = fast"), 4, "mode 'fast' must be aggregate, duplicate or failover" },
	/* durations */
	{ BOND("latency = 0ms"), 4, "latency '0ms' out of range 1ms..10s" },
	{ BOND("latency = 0"), 4, "latency '0' out of range 1ms..10s" },
	{ BOND("latency = 999us"), 4, "out of range 1ms..10s" },
	{ BOND("latency = 10001ms"), 4, "out of range 1ms..10s" },
	{ BOND("latency = 1m"), 4, "out of range 1ms..10s" },
	{ BOND("latency = 99999999999999999999ms"), 4, "latency '99999999999999999999ms' out of range" },
	{ BOND("latency = 18446744073709551615s"), 4, "out of range" },
	{ BOND("latency = -5ms"), 4, "latency '-5ms' is not a duration" },
	{ BOND("latency = +5ms"), 4, "is not a duration" },
	{ BOND("latency = 10 ms"), 4, "latency '10 ms' is not a duration" },
	{ BOND("latency = 10msx"), 4, "is not a duration" },
	{ BOND("latency = 10MS"), 4, "is not a duration" },
	{ BOND("latency = 1.5ms"), 4, "is not a duration" },
	{ BOND("latency = 1h"), 4, "is not a duration" },
	{ BOND("latency = ms"), 4, "is not a duration" },
	{ BOND("latency = 0x10"), 4, "is not a duration" },
	{ BOND("probe-interval = 9ms"), 4, "probe-interval '9ms' out of range 10ms..10s" },
	{ BOND("probe-interval = 11s"), 4, "out of range 10ms..10s" },
	{ BOND("busy-poll = 1000001"), 4, "busy-poll '1000001' out of range 0..1s" },
	{ BOND("busy-poll = 2s"), 4, "out of range 0..1s" },
	{ BOND("busy-poll = 1001ms"), 4, "out of range 0..1s" },
	{ BOND("user = -root"), 4, "is not a user name" },
	{ BOND("user = a b"), 4, "is not a user name" },
	{ BOND("user = a/b"), 4, "is not a user name" },
	{ BOND("user = 0123456789012345678901234567890123"), 4, "is not a user name" },
	{ BOND("busy-poll = 5 us"), 4, "bare numbers are us" },
	{ BOND("stats-interval = 50ms"), 4, "stats-interval '50ms' out of range 0 (off) or 100ms..1h" },
	{ BOND("stats-interval = 61m"), 4, "out of range" },
	{ BOND("stats-interval = 3600001ms"), 4, "out of range" },
	/* booleans */
	{ BOND("unordered = maybe"), 4, "unordered 'maybe' is not a boolean" },
	{ BOND("fec = on"), 4, "fec 'on' must be off, auto, or K:M" },
	{ BOND("fec = 8"), 4, "fec '8' must be off" },
	{ BOND("fec = 8:"), 4, "fec '8:' must be off" },
	{ BOND("fec = :2"), 4, "fec ':2' must be off" },
	{ BOND("fec = 0:2"), 4, "fec '0:2' must be off" },
	{ BOND("fec = 8:0"), 4, "fec '8:0' must be off" },
	{ BOND("fec = 33:2"), 4, "fec '33:2' must be off" },
	{ BOND("fec = 8:9"), 4, "fec '8:9' must be off" },
	{ BOND("fec = 8:2x"), 4, "fec '8:2x' must be off" },
	{ BOND("fec = 8 : 2"), 4, "fec '8 : 2' must be off" },
	{ BOND("fec = -8:2"), 4, "fec '-8:2' must be off" },
	{ BOND("fec = 99999999999999999999:2"), 4, "must be off" },
	{ BOND("nack = sometimes"), 4, "nack 'sometimes' is not a boolean" },
	{ BOND("unordered = Yes"), 4, "is not a boolean" },
	{ BOND("spin = 2"), 4, "spin '2' is not a boolean" },
	{ BOND("sqpoll = y"), 4, "is not a boolean" },
	/* integers */
	{ BOND("workers = 0"), 4, "workers '0' out of range 1..16" },
	{ BOND("workers = 17"), 4, "out of range 1..16" },
	{ BOND("workers = 1x"), 4, "workers '1x' is not a whole number" },
	{ BOND("workers = -1"), 4, "is not a whole number" },
	{ BOND("workers = +1"), 4, "is not a whole number" },
	{ BOND("workers = 1 2"), 4, "is not a whole number" },
	{ BOND("workers = 18446744073709551616"), 4, "out of range 1..16" },
	{ BOND("max-flows = 0"), 4, "max-flows '0' out of range 1..1024" },
	/* The slot part of a flow id has 10 bits (flow.h). */
	{ BOND("max-flows = 1025"), 4, "out of range 1..1024" },
	{ BOND("flow-idle = 99ms"), 4, "flow-idle '99ms' out of range 100ms..1h" },
	{ BOND("flow-idle = 61m"), 4, "out of range 100ms..1h" },
	{ BOND("reorder-window = 100"), 4, "reorder-window '100' is not a power of two" },
	{ BOND("reorder-window = 32"), 4, "out of range 64..65536" },
	{ BOND("reorder-window = 131072"), 4, "out of range 64..65536" },
	{ BOND("reorder-window = 0"), 4, "out of range 64..65536" },
	{ BOND("sqpoll-cpu = 1024"), 4, "sqpoll-cpu '1024' out of range 0..1023" },
	{ BOND("sqpoll-cpu = -1"), 4, "is not a whole number" },
	/* sizes */
	{ BOND("sndbuf = 63K"), 4, "sndbuf '63K' out of range 64K..256M" },
	{ BOND("sndbuf = 65535"), 4, "out of range 64K..256M" },
	{ BOND("rcvbuf = 257M"), 4, "rcvbuf '257M' out of range 64K..256M" },
	{ BOND("rcvbuf = 4G"), 4, "out of range 64K..256M" },
	{ BOND("rcvbuf = 99999999999999999999G"), 4, "out of range 64K..256M" },
	{ BOND("sndbuf = 4MB"), 4, "sndbuf '4MB' is not a size" },
	{ BOND("sndbuf = 4m"), 4, "is not a size" },
	{ BOND("sndbuf = 4 M"), 4, "is not a size" },
	{ BOND("sndbuf = 1T"), 4, "is not a size" },
	{ BOND("sndbuf = -4M"), 4, "is not a size" },
	/* cpu lists */
	{ BOND("cpus = 0,,1"), 4, "cpus: empty item" },
	{ BOND("cpus = 0,"), 4, "cpus: empty item" },
	{ BOND("cpus = ,0"), 4, "cpus: empty item" },
	{ BOND("cpus = 3-1"), 4, "cpus: range '3-1' runs backwards" },
	{ BOND("cpus = 1024"), 4, "cpus: CPU '1024' out of range 0..1023" },
	{ BOND("cpus = 0-99999999999999999999"), 4, "out of range 0..1023" },
	{ BOND("cpus = 0-16"), 4, "cpus: more than 16 CPUs" },
	{ BOND("cpus = 0-1023"), 4, "cpus: more than 16 CPUs" },
	{ BOND("cpus = 0,0"), 4, "cpus: CPU 0 listed twice" },
	{ BOND("cpus = 0-3,2"), 4, "cpus: CPU 2 listed twice" },
	{ BOND("cpus = a"), 4, "cpus: 'a' is not a CPU number" },
	{ BOND("cpus = -1"), 4, "is not a CPU number" },
	{ BOND("cpus = 1-"), 4, "is not a CPU number" },
	{ BOND("cpus = 0-1-2"), 4, "is not a CPU number" },
	{ BOND("cpus = 0 1"), 4, "is not a CPU number" },
	/* addresses and names */
	{ "[bond]\n[app]\nlisten = 127.0.0.1\n", 3, "listen '127.0.0.1' is not an address" },
	{ LINK("device = 0123456789abcdef"), 9, "device '0123456789abcdef' is not an interface name" },
	{ LINK("device = a/b"), 9, "is not an interface name" },
	{ LINK("device = a:b"), 9, "is not an interface name" },
	{ LINK("device = .."), 9, "is not an interface name" },
	{ LINK("weight = -1"), 9, "weight '-1' must be auto or 0..1000 (0: standby)" },
	{ LINK("weight = 1001"), 9, "must be auto or 0..1000" },
	{ LINK("weight = Auto"), 9, "must be auto or 0..1000" },
	{ LINK("rate = 10"), 9, "rate '10' must be auto or 8kbit..100gbit" },
	{ LINK("rate = 10 mbit"), 9, "must be auto or 8kbit..100gbit" },
	{ LINK("rate = 10Mbit"), 9, "must be auto or 8kbit..100gbit" },
	{ LINK("rate = 7kbit"), 9, "must be auto or 8kbit..100gbit" },
	{ LINK("rate = 101gbit"), 9, "must be auto or 8kbit..100gbit" },
	{ LINK("rate = 99999999999999999999gbit"), 9, "must be auto or 8kbit..100gbit" },
	{ BOND("scheduler = fastest"), 4, "scheduler 'fastest' must be arrival or dwrr" },
	{ LINK("weight = auto\nweight = 3"), 10, "duplicate key 'weight'" },
	{ LINK("priority = 1001"), 9, "priority '1001' out of range 0..1000" },
	{ "[bond]\n[link a]\nlocal = ::1:5\n", 3, "local '::1:5' is not an address" },
	{ "[bond]\n[link a]\nremote = 1.2.3.4:65536\n", 3, "is not an address" },
	/* the file as a whole */
	{ "", 1, "missing [bond] section" },
	{ "# nothing\n\n", 2, "missing [bond] section" },
	{ "[app]\nlisten = 127.0.0.1:1\n", 2, "missing [bond] section" },
	{ "[bond]\nkey = /k\n", 1, "missing 'role' in [bond]" },
	{ "\n[bond]\nrole = edge\n", 2, "missing 'key' in [bond]" },
	{ "[bond]\nrole = edge\nkey = /k\n[link a]\nlocal = 127.0.0.1:1\n"
	  "remote = 127.0.0.1:2\n", 6, "an edge needs 'listen' in [app]" },
	{ "[bond]\nrole = edge\nkey = /k\n[app]\n[link a]\nlocal = 127.0.0.1:1\n"
	  "remote = 127.0.0.1:2\n", 4, "an edge needs 'listen' in [app]" },
	{ "[bond]\nrole = hub\nkey = /k\n[app]\n[link a]\nlocal = 127.0.0.1:1\n",
	  4, "a hub needs 'destination' in [app]" },
	{ "[bond]\nrole = hub\nkey = /k\n[app]\ndestination = 127.0.0.1:6000\n"
	  "listen = 127.0.0.1:1\n[link a]\nlocal = 127.0.0.1:1\n", 6, "'listen' is for an edge" },
	{ "[bond]\nrole = edge\nkey = /k\n[app]\nlisten = 127.0.0.1:1\n"
	  "destination = 127.0.0.1:2\n[link a]\nlocal = 127.0.0.1:1\nremote = 127.0.0.1:2\n",
	  6, "'destination' is for a hub" },
	{ "[bond]\nrole = hub\nkey = /k\n[app]\ndestination = 127.0.0.1:6000\n\n",
	  6, "no links" },
	{ "[bond]\nrole = edge\nkey = /k\n[app]\nlisten = 127.0.0.1:5000\n"
	  "[link a]\nlocal = 127.0.0.1:1\nremote = 127.0.0.1:2\n[link b]\nlocal = 127.0.0.1:3\n",
	  9, "missing 'remote' in [link b] (required on an edge)" },
	{ HUB("[link b]\nremote = 127.0.0.1:2"), 4, "missing 'local' in [link b]" },
	{ HUB("[link b]\nlocal = 127.0.0.1:2\nremote = [::1]:3"), 6,
	  "link 'b': remote and local are not the same address family" },
	{ BOND("cpus = 0,1"), 4, "cpus lists 2 CPUs but workers is 1" },
	{ BOND("cpus = 0-2\nworkers = 2"), 4, "cpus lists 3 CPUs but workers is 2" },
	{ BOND("sqpoll-cpu = 1"), 4, "sqpoll-cpu is set but sqpoll is off" },
	/* destinations (a hub's [app] at line 5, the extra lines from 6) */
	{ TCPHUB("ftp://127.0.0.1:1", ""), 5, "unknown scheme" },
	{ TCPHUB("tcp://127.0.0.1", ""), 5, "is not an address" },
	{ TCPHUB("tcp:/127.0.0.1:1", ""), 5, "is not an address" },
	{ TCPHUB("dpdk-tcp://[::1]:7000", ""), 5, "dpdk-tcp:// takes an IPv4 address" },
	{ TCPHUB("127.0.0.1:1", "reconnect-min = 5ms\n"), 6,
	  "reconnect-min is for a tcp:// or dpdk-tcp:// destination" },
	{ TCPHUB("udp://127.0.0.1:1", "tcp-buffer = 1M\n"), 6,
	  "tcp-buffer is for a tcp:// or dpdk-tcp:// destination" },
	{ TCPHUB("tcp://127.0.0.1:1", "reconnect-min = 2s\nreconnect-max = 1s\n"), 6,
	  "reconnect-min is more than reconnect-max" },
	{ TCPHUB("tcp://127.0.0.1:1", "tcp-buffer = 1K\n"), 6, "out of range 64K..64M" },
	{ TCPHUB("tcp://127.0.0.1:1", "[dpdk]\neal = -l 0\n"), 6,
	  "[dpdk] is for a dpdk-tcp:// destination" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", ""), 5, "dpdk-tcp:// needs a [dpdk] section" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\naddress = 10.0.0.1/24\n"), 6,
	  "missing 'eal' in [dpdk]" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\neal = -l 0\n"), 6,
	  "missing 'address' in [dpdk]" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\naddress = 10.0.0.1\n"), 7,
	  "must be IPv4/PREFIX" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\naddress = 10.0.0.1/33\n"), 7,
	  "must be IPv4/PREFIX" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\naddress = 10.0.0/8\n"), 7,
	  "'10.0.0' is not an IPv4 address" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\ngateway = ::1\n"), 7,
	  "gateway '::1' is not an IPv4 address" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\nlocal-port = 65536\n"), 7,
	  "out of range" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\nport = 1024\n"), 7, "out of range" },
	{ TCPHUB("tcp://10.0.0.2:7000", "rto-min = 2s\n"), 6, "100us..1s" },
	{ TCPHUB("10.0.0.2:7000", "rto-min = 20ms\n"), 6, "rto-min is for a tcp://" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\nnic = 1\n"), 7,
	  "unknown key 'nic' in [dpdk]" },
	{ TCPHUB("dpdk-tcp://10.0.0.2:7000", "[dpdk]\n[dpdk]\n"), 7, "duplicate section [dpdk]" },
};

/* tcp:// and dpdk-tcp:// destinations and [dpdk]. */
START_TEST(test_destinations)
{
	struct braid_config cfg;

	ck_assert_msg(parse(HUB("# fine"), &cfg) == 0, "%s", err);
	ck_assert_int_eq(cfg.dest_kind, DEST_UDP);
	ck_assert_uint_eq(cfg.reconnect_min_ns, 10000000u);
	ck_assert_uint_eq(cfg.reconnect_max_ns, 1000000000u);
	ck_assert_uint_eq(cfg.tcp_buffer, 1u << 20);
	ck_assert_uint_eq(cfg.tcp_rto_min_ns, 10000000u);
	ck_assert_msg(parse(TCPHUB("udp://127.0.0.1:9", ""), &cfg) == 0, "%s", err);
	ck_assert_int_eq(cfg.dest_kind, DEST_UDP);
	ck_assert_uint_eq(ntohs(cfg.app_dest.in.sin_port), 9);
	ck_assert_msg(parse(TCPHUB("tcp://[::1]:7000", "reconnect-min = 50ms\n"
				   "reconnect-max = 5s\ntcp-buffer = 64K\nrto-min = 200us\n"), &cfg) == 0,
		      "%s", err);
	ck_assert_uint_eq(cfg.tcp_rto_min_ns, 200000u);
	ck_assert_int_eq(cfg.dest_kind, DEST_TCP);
	ck_assert_int_eq(cfg.app_dest.sa.sa_family, AF_INET6);
	ck_assert_uint_eq(cfg.reconnect_min_ns, 50000000u);
	ck_assert_uint_eq(cfg.reconnect_max_ns, 5000000000ull);
	ck_assert_uint_eq(cfg.tcp_buffer, 64u << 10);
	ck_assert_msg(parse(TCPHUB("dpdk-tcp://10.93.0.2:7000",
				   "[dpdk]\neal = --no-huge --no-pci -l 0 --vdev=net_af_packet0,iface=x\n"
				   "address = 10.93.0.1/24\ngateway = 10.93.0.254\nport = 1\n"
				   "local-port = 40000\n"), &cfg) == 0, "%s", err);
	ck_assert_int_eq(cfg.dest_kind, DEST_DPDK_TCP);
	ck_assert_str_eq(config_dest_scheme(cfg.dest_kind), "dpdk-tcp");
	ck_assert_str_eq(config_dest_scheme(DEST_TCP), "tcp");
	ck_assert_str_eq(config_dest_scheme(DEST_UDP), "udp");
	ck_assert_str_eq(cfg.dpdk.eal, "--no-huge --no-pci -l 0 --vdev=net_af_packet0,iface=x");
	ck_assert_uint_eq(cfg.dpdk.addr, 0x0a5d0001u);
	ck_assert_uint_eq(cfg.dpdk.prefix, 24);
	ck_assert_uint_eq(cfg.dpdk.gateway, 0x0a5d00feu);
	ck_assert_uint_eq(cfg.dpdk.port, 1);
	ck_assert_uint_eq(cfg.dpdk.local_port, 40000);
}
END_TEST

/* fec = off | K:M | auto, nack = bool, and their defaults. */
START_TEST(test_fec_nack)
{
	static const struct {
		const char *text;
		unsigned k, m;
		bool is_auto, nack;
	} ok[] = {
		{ BOND(""), CONFIG_FEC_AUTO_K, 0, true, true },
		{ BOND("fec = off"), 0, 0, false, true },
		{ BOND("fec = 8:2\nnack = no"), 8, 2, false, false },
		{ BOND("fec = 1:1"), 1, 1, false, true },
		{ BOND("fec = 32:8"), 32, 8, false, true },
		{ BOND("fec = auto\nnack = on"), CONFIG_FEC_AUTO_K, 0, true, true },
	};
	struct braid_config cfg;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(parse(ok[i].text, &cfg) == 0, "%zu: %s", i, err);
		ck_assert_uint_eq(cfg.fec_k, ok[i].k);
		ck_assert_uint_eq(cfg.fec_m, ok[i].m);
		ck_assert(cfg.fec_auto == ok[i].is_auto);
		ck_assert(cfg.nack == ok[i].nack);
	}
}
END_TEST

START_TEST(test_bad)
{
	const struct bad *b = &bad[_i];

	assert_fails(b->text, strlen(b->text), b->line, b->msg);
}
END_TEST

/* The rows above in the good direction: the same frames parse when the
 * extra line is fine, so a row cannot fail for a reason of the frame's. */
START_TEST(test_frames_are_good)
{
	struct braid_config cfg;

	ck_assert_msg(parse(BOND("# fine"), &cfg) == 0, "%s", err);
	ck_assert_msg(parse(LINK("# fine"), &cfg) == 0, "%s", err);
	ck_assert_msg(parse(HUB("# fine"), &cfg) == 0, "%s", err);
	ck_assert_msg(parse(BOND("cpus = 0-1\nworkers = 2"), &cfg) == 0, "%s", err);
	ck_assert_msg(parse(BOND("sqpoll-cpu = 1\nsqpoll = 1"), &cfg) == 0, "%s", err);
	ck_assert_msg(parse(BOND("latency = 1ms"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.budget_ns, 1000000u);
	ck_assert_msg(parse(BOND("latency = 10s"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.budget_ns, 10000000000ull);
	ck_assert_msg(parse(BOND("latency = 1000us"), &cfg) == 0, "%s", err);
	ck_assert_msg(parse(BOND("busy-poll = 1s"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.busy_poll_us, 1000000u);
	ck_assert_msg(parse(BOND("busy-poll = 0"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.busy_poll_us, 0);
	ck_assert_msg(parse(BOND("busy-poll = 3ms"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.busy_poll_us, 3000);
	ck_assert_msg(parse(BOND("stats-interval = 0"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.stats_interval_ns, 0);
	ck_assert_msg(parse(BOND("stats-interval = 100ms"), &cfg) == 0, "%s", err);
	ck_assert_msg(parse(BOND("stats-interval = 60m"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.stats_interval_ns, 3600000000000ull);
	ck_assert_msg(parse(BOND("sndbuf = 64K\nrcvbuf = 256M"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.sndbuf, 65536);
	ck_assert_uint_eq(cfg.rcvbuf, 256u << 20);
	ck_assert_msg(parse(BOND("reorder-window = 64"), &cfg) == 0, "%s", err);
	ck_assert_msg(parse(BOND("workers = 16\ncpus = 0-15"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.ncpus, 16);
	ck_assert_int_eq(cfg.cpus[15], 15);
	ck_assert_msg(parse(BOND("workers = 2\ncpus = 1023"), &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.ncpus, 1);
	ck_assert_int_eq(cfg.cpus[0], 1023);
	ck_assert_int_eq(cfg.cpus[1], -1);	/* fewer CPUs than workers: unpinned */
	ck_assert_msg(parse(BOND("sqpoll = 1\nsqpoll-cpu = 0"), &cfg) == 0, "%s", err);
	ck_assert_int_eq(cfg.sqpoll_cpu, 0);
	ck_assert_msg(parse(LINK("weight = 1000\npriority = 0\ndevice = 012345678901234"),
			    &cfg) == 0, "%s", err);
	ck_assert_str_eq(cfg.links[0].device, "012345678901234");
	ck_assert_msg(parse(BOND("mode = duplicate"), &cfg) == 0, "%s", err);
	ck_assert_int_eq(cfg.mode, SCHED_DUPLICATE);
	ck_assert_msg(parse(BOND("[link 0123456789012345678901234567890]\n"
				 "local = 127.0.0.1:9\nremote = 127.0.0.1:9"), &cfg) == 0,
		      "%s", err);
	ck_assert_str_eq(cfg.links[0].name, "0123456789012345678901234567890");
}
END_TEST

/* Things a string literal in the table cannot hold. */
START_TEST(test_bad_bytes)
{
	static char text[4096];
	static const char head[] = "[bond]\nrole = edge\n";
	size_t n;

	/* A NUL in a line, even in a comment. */
	memcpy(text, "[bond]\n# a\0b\nrole = edge\n", 25);
	assert_fails(text, 25, 2, "NUL byte");
	memcpy(text, "[bond]\nrole = ed\0ge\n", 20);
	assert_fails(text, 20, 2, "NUL byte");

	/* 1024 characters is the longest line, not counting its CR LF. */
	n = strlen(head);
	memcpy(text, head, n);
	text[n] = '#';
	memset(text + n + 1, 'x', 1023);
	memcpy(text + n + 1024, "\r\n", 2);
	assert_fails(text, n + 1026, 1, "missing 'key'");
	assert_fails(text, n + 1024, 1, "missing 'key'");
	text[n + 1024] = 'x';
	assert_fails(text, n + 1026, 3, "line too long (1025 characters, at most 1024)");
	assert_fails(text, n + 1025, 3, "line too long");
}
END_TEST

START_TEST(test_link_limit)
{
	static char text[16384];
	struct braid_config cfg;
	size_t n;
	int line;

	n = (size_t)snprintf(text, sizeof(text), "[bond]\nrole = hub\nkey = /k\n[app]\n"
			     "destination = 127.0.0.1:6000\n");
	line = 5;
	for (int i = 0; i < BRAID_MAX_LINKS; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[link l%d]\nlocal = 127.0.0.1:%d\n", i, 7000 + i);
		line += 2;
	}
	ck_assert_msg(parse_n(text, n, &cfg) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nlinks, BRAID_MAX_LINKS);
	ck_assert_str_eq(cfg.links[BRAID_MAX_LINKS - 1].name, "l15");
	ck_assert_uint_eq(cfg.links[BRAID_MAX_LINKS - 1].priority, BRAID_MAX_LINKS - 1);

	n += (size_t)snprintf(text + n, sizeof(text) - n, "[link one-more]\n");
	assert_fails(text, n, line + 1, "too many links: at most 16");
}
END_TEST

/* err may be absent or tiny; a message is cut, never overrun. */
START_TEST(test_err_buffer)
{
	static const char text[] = BOND("latency = 0ms");
	struct braid_config cfg;
	char small[12];

	ck_assert_int_eq(config_parse(text, strlen(text), NAME, &cfg, NULL, 0), -EINVAL);
	ck_assert_int_eq(config_parse(text, strlen(text), NAME, &cfg, small, 0), -EINVAL);
	memset(small, 'z', sizeof(small));
	ck_assert_int_eq(config_parse(text, strlen(text), NAME, &cfg, small, sizeof(small)),
			 -EINVAL);
	ck_assert_str_eq(small, "t.conf:4: l");
	ck_assert_int_eq(config_parse(text, strlen(text), NULL, &cfg, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strncmp(err, "config:4: ", 10) == 0, "%s", err);
	ck_assert_int_eq(config_parse(NULL, 0, NAME, &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "missing [bond]") != NULL, "%s", err);
	ck_assert_int_eq(config_parse(NULL, 5, NAME, &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(config_parse(text, strlen(text), NAME, NULL, err, sizeof(err)),
			 -EINVAL);
}
END_TEST

/* A long value is quoted cut short so that the reason still fits. */
START_TEST(test_long_value_clipped)
{
	static char text[2048];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "[bond]\nlatency = ");
	memset(text + n, '9', 900);
	n += 900;
	memcpy(text + n, "ms\n", 4);
	n += 3;
	assert_fails(text, n, 2, "...' out of range 1ms..10s");
	ck_assert_uint_lt(strlen(err), 120);
}
END_TEST

/* --- value parsers ---------------------------------------------------------- */

static const struct {
	const char *s;
	int rc;
	uint64_t ns;
} durations[] = {
	{ "0", 0, 0 },
	{ "1", 0, 1000000 },			/* bare = ms */
	{ "20ms", 0, 20000000 },
	{ "007ms", 0, 7000000 },
	{ "1us", 0, 1000 },
	{ "3s", 0, 3000000000ull },
	{ "2m", 0, 120000000000ull },
	{ "18446744073709551us", 0, 18446744073709551000ull },
	{ "18446744073709552us", -EINVAL, 0 },	/* * 1000 overflows */
	{ "18446744073709551616us", -EINVAL, 0 },	/* the number overflows */
	{ "99999999999999999999ms", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "ms", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },
	{ "1 ", -EINVAL, 0 },
	{ "10 ms", -EINVAL, 0 },
	{ "1.5s", -EINVAL, 0 },
	{ "1h", -EINVAL, 0 },
	{ "1ns", -EINVAL, 0 },
	{ "1S", -EINVAL, 0 },
	{ "1mss", -EINVAL, 0 },
};

START_TEST(test_duration)
{
	uint64_t ns = 12345;
	int rc = config_parse_duration(durations[_i].s, &ns);

	ck_assert_msg(rc == durations[_i].rc, "'%s': rc %d", durations[_i].s, rc);
	if (rc == 0)
		ck_assert_uint_eq(ns, durations[_i].ns);
	else
		ck_assert_uint_eq(ns, 12345);	/* untouched on error */
}
END_TEST

static const struct {
	const char *s;
	int rc;
	unsigned bytes;
} sizes[] = {
	{ "0", 0, 0 },
	{ "1", 0, 1 },
	{ "1K", 0, 1024 },
	{ "4M", 0, 4u << 20 },
	{ "3G", 0, 3u << 30 },
	{ "4294967295", 0, 4294967295u },
	{ "4194303K", 0, 4194303u << 10 },
	{ "4G", -EINVAL, 0 },			/* does not fit an unsigned */
	{ "4294967296", -EINVAL, 0 },
	{ "99999999999999999999K", -EINVAL, 0 },
	{ "18014398509481984K", -EINVAL, 0 },	/* 2^54 K: the product overflows */
	{ "1k", -EINVAL, 0 },
	{ "1KB", -EINVAL, 0 },
	{ "1KiB", -EINVAL, 0 },
	{ "1 K", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "K", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "1.5M", -EINVAL, 0 },
};

START_TEST(test_size)
{
	unsigned b = 777;
	int rc = config_parse_size(sizes[_i].s, &b);

	ck_assert_msg(rc == sizes[_i].rc, "'%s': rc %d", sizes[_i].s, rc);
	ck_assert_uint_eq(b, rc == 0 ? sizes[_i].bytes : 777);
}
END_TEST

START_TEST(test_bool)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	static const char *const neither[] = {
		"", "Yes", "TRUE", "y", "n", "2", "01", "yes ", " no", "onn", "of",
	};
	bool b;

	for (size_t i = 0; i < 4; i++) {
		b = false;
		ck_assert_int_eq(config_parse_bool(yes[i], &b), 0);
		ck_assert(b);
		b = true;
		ck_assert_int_eq(config_parse_bool(no[i], &b), 0);
		ck_assert(!b);
	}
	for (size_t i = 0; i < sizeof(neither) / sizeof(neither[0]); i++) {
		b = true;
		ck_assert_msg(config_parse_bool(neither[i], &b) == -EINVAL, "'%s'", neither[i]);
		ck_assert(b);
	}
	ck_assert_int_eq(config_parse_bool(NULL, &b), -EINVAL);
	ck_assert_int_eq(config_parse_duration(NULL, &(uint64_t){ 0 }), -EINVAL);
	ck_assert_int_eq(config_parse_size(NULL, &(unsigned){ 0 }), -EINVAL);
}
END_TEST

START_TEST(test_valid_name)
{
	ck_assert(config_valid_name("a"));
	ck_assert(config_valid_name("lte-1.x_Y9"));
	ck_assert(config_valid_name("0123456789012345678901234567890"));	/* 31 */
	ck_assert(!config_valid_name("01234567890123456789012345678901"));	/* 32 */
	ck_assert(!config_valid_name(""));
	ck_assert(!config_valid_name(NULL));
	ck_assert(!config_valid_name("a b"));
	ck_assert(!config_valid_name("a/b"));
	ck_assert(!config_valid_name("a]"));
	ck_assert(!config_valid_name("\xc3\xa4"));
	ck_assert(!config_valid_name("a\tb"));
}
END_TEST

/* --- config_load ------------------------------------------------------------ */

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_config.XXXXXX");
	ck_assert(mkdtemp(tmpdir) != NULL);
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert(fd >= 0);
	while (len > 0) {
		size_t chunk = len < 65536 ? len : 65536;
		ssize_t w = write(fd, data, chunk);

		ck_assert(w > 0);
		len -= (size_t)w;
		data += w;
	}
	close(fd);
}

START_TEST(test_load)
{
	static char big[(1u << 20) + 1];
	struct braid_config cfg;
	char path[128];
	int rc;

	make_tmpdir();

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	rc = config_load(path, &cfg, err, sizeof(err));
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_msg(strstr(err, path) == err, "%s", err);
	ck_assert_msg(strstr(err, strerror(ENOENT)) != NULL, "%s", err);

	rc = config_load(tmpdir, &cfg, err, sizeof(err));
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s", err);

	/* Errors inside the file carry its path as the name. */
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	write_file(path, "[bond]\nrole = edge\nwieght = 1\n", 30);
	rc = config_load(path, &cfg, err, sizeof(err));
	ck_assert_int_eq(rc, -EINVAL);
	{
		char want[192];

		snprintf(want, sizeof(want), "%s:3: unknown key 'wieght' in [bond]", path);
		ck_assert_str_eq(err, want);
	}

	/* Exactly 1 MiB of comments is read (and fails for want of a [bond]);
	 * one byte more is refused before parsing. */
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	memset(big, '#', sizeof(big));
	for (size_t i = 1023; i < sizeof(big) - 1; i += 1024)
		big[i] = '\n';
	write_file(path, big, 1u << 20);
	rc = config_load(path, &cfg, err, sizeof(err));
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "missing [bond] section") != NULL, "%s", err);
	write_file(path, big, (1u << 20) + 1);
	rc = config_load(path, &cfg, err, sizeof(err));
	ck_assert_int_eq(rc, -EFBIG);
	ck_assert_msg(strstr(err, "larger than 1048576 bytes") != NULL, "%s", err);
	ck_assert_int_eq(config_parse(big, (1u << 20) + 1, NAME, &cfg, err, sizeof(err)),
			 -EINVAL);

	unlink(path);
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}
END_TEST

/* `braidctl link add`: the same keys and checks as a [link] section. */
START_TEST(test_link_parse)
{
	static const struct {
		enum braid_role role;
		const char *name;
		const char *kv[4];
		const char *err;	/* NULL: accepted */
	} cases[] = {
		{ ROLE_EDGE, "lte2", { "local=127.0.0.1:0", "remote=127.0.0.1:9", "weight=4" }, NULL },
		{ ROLE_HUB, "lte2", { "local=127.0.0.1:9" }, NULL },
		{ ROLE_EDGE, "lte2", { "local=127.0.0.1:0" }, "missing 'remote'" },
		{ ROLE_HUB, "lte2", { "remote=127.0.0.1:9" }, "missing 'local'" },
		{ ROLE_EDGE, "lte2", { "local=127.0.0.1:0", "remote=[::1]:9" }, "address family" },
		{ ROLE_HUB, "lte2", { "local=10.0.0.1" }, "is not an address" },
		{ ROLE_HUB, "lte2", { "local" }, "expected key=value" },
		{ ROLE_HUB, "lte2", { "local=" }, "expected key=value" },
		{ ROLE_HUB, "lte2", { "=1" }, "expected key=value" },
		{ ROLE_HUB, "lte2", { "local=127.0.0.1:9", "mode=duplicate" }, "unknown key 'mode'" },
		{ ROLE_HUB, "lte2", { "local=127.0.0.1:9", "local=127.0.0.1:8" }, "duplicate key 'local'" },
		{ ROLE_HUB, "lte2", { "local=127.0.0.1:9", "weight=x" }, "must be auto or 0..1000" },
		{ ROLE_HUB, "lte2", { "local=127.0.0.1:9", "rate=fast" }, "must be auto or 8kbit" },
		{ ROLE_HUB, "lte2", { "local=127.0.0.1:9", "device=a/b" }, "interface name" },
		{ ROLE_HUB, "bad name", { "local=127.0.0.1:9" }, "invalid link name" },
		{ ROLE_HUB, "", { "local=127.0.0.1:9" }, "invalid link name" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct link_config lc;
		unsigned n = 0;
		int rc;

		while (n < 4 && cases[i].kv[n])
			n++;
		memset(&lc, 0x5a, sizeof(lc));
		rc = config_link_parse(cases[i].role, cases[i].name, cases[i].kv, n, &lc, err,
				       sizeof(err));
		if (!cases[i].err) {
			ck_assert_msg(rc == 0, "case %zu: %s", i, err);
			ck_assert_str_eq(lc.name, cases[i].name);
		} else {
			ck_assert_msg(rc == -EINVAL && strstr(err, cases[i].err),
				      "case %zu: want '%s', got %d '%s'", i, cases[i].err, rc, err);
			ck_assert_msg(strncmp(err, "link", 4) == 0 || strstr(err, "link name"),
				      "case %zu: '%s'", i, err);
		}
	}
	{
		const char *kv[] = { "local=127.0.0.1:0", "remote=127.0.0.1:9", "weight=4",
				     "device=eth1" };
		struct link_config lc;

		ck_assert_int_eq(config_link_parse(ROLE_EDGE, "a", kv, 4, &lc, err, sizeof(err)), 0);
		ck_assert_uint_eq(lc.weight, 4);
		ck_assert(!lc.weight_auto);
		ck_assert(lc.has_remote);
		ck_assert_str_eq(lc.device, "eth1");
		ck_assert_int_eq(config_link_parse(ROLE_EDGE, "a", kv, 2, &lc, err, sizeof(err)), 0);
		ck_assert(lc.weight_auto);
		ck_assert_uint_eq(lc.weight, BRAID_AUTO_WEIGHT);
	}
}
END_TEST

START_TEST(test_weight_parse)
{
	uint32_t w = 0;
	bool a = false;

	ck_assert_int_eq(config_weight_parse("auto", &w, &a), 0);
	ck_assert(a);
	ck_assert_uint_eq(w, BRAID_AUTO_WEIGHT);
	ck_assert_int_eq(config_weight_parse("1", &w, &a), 0);
	ck_assert(!a);
	ck_assert_uint_eq(w, 1);
	ck_assert_int_eq(config_weight_parse("1000", &w, &a), 0);
	ck_assert_uint_eq(w, 1000);
	ck_assert_int_eq(config_weight_parse("0", &w, &a), 0);
	ck_assert_uint_eq(w, 0);
	ck_assert_int_eq(config_weight_parse("1001", &w, &a), -EINVAL);
	ck_assert_int_eq(config_weight_parse("", &w, &a), -EINVAL);
	ck_assert_int_eq(config_weight_parse("5x", &w, &a), -EINVAL);
	ck_assert_int_eq(config_weight_parse("AUTO", &w, &a), -EINVAL);
}
END_TEST

/* scheduler, rate and weight 0 as a file sets them. */
START_TEST(test_scheduler_rate_standby)
{
	static const char text[] =
		"[bond]\nrole = edge\nkey = /k\nscheduler = dwrr\n[app]\nlisten = 127.0.0.1:5000\n"
		"[link a]\nlocal = 127.0.0.1:1\nremote = 127.0.0.1:2\nrate = 10mbit\nweight = 0\n"
		"[link b]\nlocal = 127.0.0.1:3\nremote = 127.0.0.1:4\nrate = auto\n";
	struct braid_config cfg;

	ck_assert_msg(parse(text, &cfg) == 0, "%s", err);
	ck_assert_int_eq(cfg.scheduler, SCHED_DWRR);
	ck_assert_uint_eq(cfg.links[0].rate_Bps, 1250000);
	ck_assert_uint_eq(cfg.links[0].weight, 0);
	ck_assert(!cfg.links[0].weight_auto);
	ck_assert_uint_eq(cfg.links[1].rate_Bps, 0);
	ck_assert(cfg.links[1].weight_auto);
}
END_TEST

START_TEST(test_rate_parse)
{
	uint64_t r = 1;

	ck_assert_int_eq(config_rate_parse("auto", &r), 0);
	ck_assert_uint_eq(r, 0);
	ck_assert_int_eq(config_rate_parse("10mbit", &r), 0);
	ck_assert_uint_eq(r, 1250000);
	ck_assert_int_eq(config_rate_parse("8kbit", &r), 0);
	ck_assert_uint_eq(r, 1000);
	ck_assert_int_eq(config_rate_parse("100gbit", &r), 0);
	ck_assert_uint_eq(r, 12500000000ull);
	ck_assert_int_eq(config_rate_parse("64000bit", &r), 0);
	ck_assert_uint_eq(r, 8000);
	ck_assert_int_eq(config_rate_parse("10", &r), -EINVAL);
	ck_assert_int_eq(config_rate_parse("", &r), -EINVAL);
	ck_assert_int_eq(config_rate_parse("mbit", &r), -EINVAL);
	ck_assert_int_eq(config_rate_parse("1.5mbit", &r), -EINVAL);
	ck_assert_int_eq(config_rate_parse("0mbit", &r), -EINVAL);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("good");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_good_edge);
	tcase_add_test(tc, test_fec_nack);
	tcase_add_test(tc, test_destinations);
	tcase_add_test(tc, test_good_hub);
	tcase_add_test(tc, test_examples);
	tcase_add_test(tc, test_line_ends);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_key_value_kept);
	tcase_add_test(tc, test_frames_are_good);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad");
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_bad_bytes);
	tcase_add_test(tc, test_link_limit);
	tcase_add_test(tc, test_err_buffer);
	tcase_add_test(tc, test_long_value_clipped);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_duration, 0, (int)(sizeof(durations) / sizeof(durations[0])));
	tcase_add_loop_test(tc, test_size, 0, (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_valid_name);
	tcase_add_test(tc, test_link_parse);
	tcase_add_test(tc, test_weight_parse);
	tcase_add_test(tc, test_rate_parse);
	tcase_add_test(tc, test_scheduler_rate_standby);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_load);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
