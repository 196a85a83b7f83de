/* braidd's configuration file: see config.h for the shape and docs/config.md
 * for every key.
 *
 * The parser walks the text one line at a time, copying each line into one
 * fixed buffer; it allocates nothing else, so any input costs O(len) time and
 * a bounded amount of stack. It stops at the first error and names its line:
 * a config that is half applied is worse than none, so cfg is only written
 * when the whole file is good. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "config.h"
#include "flow.h"

#define CONFIG_LINE_MAX  1024		/* characters, without the line end */
#define CONFIG_FILE_MAX  (1u << 20)
#define CONFIG_CPU_MAX   1023
#define CLIP             48		/* longest value quoted in a message */

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S  1000000000ull

/* Sizes and widths the key table relies on when it stores through offsets. */
_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "unsigned is 32 bits");
_Static_assert(SCHED_WEIGHT_MAX == 1000, "docs/config.md says weight is 0..1000");
_Static_assert(FLOW_MAX == 1024, "max-flows' range text says 1..1024");

enum section { SEC_NONE, SEC_BOND, SEC_APP, SEC_LINK, SEC_DPDK };

enum kind {
	K_ROLE,		/* edge | hub */
	K_PATH,		/* stored as written */
	K_MODE,		/* sched_mode_parse() */
	K_SCHED,	/* sched_algo_parse() */
	K_DURATION,	/* uint64_t ns, bare number = ms */
	K_BUSY,		/* unsigned us, bare number = us */
	K_BOOL,
	K_U32,		/* unsigned or uint32_t */
	K_INT,		/* int */
	K_POW2,		/* unsigned, a power of two */
	K_SIZE,		/* unsigned bytes, K/M/G */
	K_CPUS,		/* the cpus[] list */
	K_ADDR,		/* union braid_addr */
	K_IFNAME,
	K_FEC,		/* off | K:M | auto */
	K_WEIGHT,	/* auto | 0..max */
	K_RATE,		/* auto | a rate in bit/s, stored as uint64_t bytes/s */
	K_USER,		/* a user name */
	K_DEST,		/* [udp://|tcp://|dpdk-tcp://]ADDR */
	K_TEXT,		/* a string stored as written, up to max bytes */
	K_CIDR,		/* IPv4/PREFIX into dpdk.addr and dpdk.prefix */
	K_IPV4,		/* an IPv4 address without port, uint32_t host order */
};

struct key_def {
	const char *name;
	enum section sec;
	enum kind kind;
	size_t off;		/* into braid_config, or link_config for SEC_LINK */
	uint64_t min, max;	/* in the stored unit (ns for K_DURATION) */
	const char *range;	/* min..max as a user writes it, for messages */
	bool zero_ok;		/* 0 means off and is allowed below min */
};

/* The destination's schemes, by enum dest_kind. */
static const char *const dest_schemes[DEST_KINDS] = { "udp", "tcp", "dpdk-tcp" };

const char *config_dest_scheme(enum dest_kind kind)
{
	return (unsigned)kind < DEST_KINDS ? dest_schemes[kind] : "?";
}

#define B(f) offsetof(struct braid_config, f)
#define L(f) offsetof(struct link_config, f)

static const struct key_def keys[] = {
	{ "role",           SEC_BOND, K_ROLE,     B(role) },
	{ "key",            SEC_BOND, K_PATH,     B(key_path) },
	{ "metrics-listen", SEC_BOND, K_ADDR,     B(metrics_listen) },
	{ "user",           SEC_BOND, K_USER,     B(user) },
	{ "control",        SEC_BOND, K_PATH,     B(control_path),
	  0, sizeof(((struct braid_config *)0)->control_path) - 1 },
	{ "mode",           SEC_BOND, K_MODE,     B(mode) },
	{ "scheduler",      SEC_BOND, K_SCHED,    B(scheduler) },
	{ "latency",        SEC_BOND, K_DURATION, B(budget_ns),
	  NS_PER_MS, 10 * NS_PER_S, "1ms..10s" },
	{ "unordered",      SEC_BOND, K_BOOL,     B(unordered) },
	{ "fec",            SEC_BOND, K_FEC,      B(fec_k) },
	{ "nack",           SEC_BOND, K_BOOL,     B(nack) },
	{ "probe-interval", SEC_BOND, K_DURATION, B(probe_interval_ns),
	  10 * NS_PER_MS, 10 * NS_PER_S, "10ms..10s" },
	{ "workers",        SEC_BOND, K_U32,      B(workers),
	  1, BRAID_MAX_WORKERS, "1..16" },
	{ "cpus",           SEC_BOND, K_CPUS,     B(cpus),
	  0, CONFIG_CPU_MAX, "0..1023" },
	{ "sqpoll",         SEC_BOND, K_BOOL,     B(sqpoll) },
	{ "sqpoll-cpu",     SEC_BOND, K_INT,      B(sqpoll_cpu),
	  0, CONFIG_CPU_MAX, "0..1023" },
	{ "busy-poll",      SEC_BOND, K_BUSY,     B(busy_poll_us),
	  0, NS_PER_S, "0..1s" },
	{ "spin",           SEC_BOND, K_BOOL,     B(spin) },
	{ "sndbuf",         SEC_BOND, K_SIZE,     B(sndbuf),
	  64u << 10, 256u << 20, "64K..256M" },
	{ "rcvbuf",         SEC_BOND, K_SIZE,     B(rcvbuf),
	  64u << 10, 256u << 20, "64K..256M" },
	{ "stats-interval", SEC_BOND, K_DURATION, B(stats_interval_ns),
	  100 * NS_PER_MS, 3600 * NS_PER_S, "0 (off) or 100ms..1h", true },
	{ "max-flows",      SEC_BOND, K_U32,      B(max_flows),
	  1, FLOW_MAX, "1..1024" },
	{ "flow-idle",      SEC_BOND, K_DURATION, B(flow_idle_ns),
	  100 * NS_PER_MS, 3600 * NS_PER_S, "100ms..1h" },
	{ "reorder-window", SEC_BOND, K_POW2,     B(reorder_window),
	  64, 65536, "64..65536" },

	{ "listen",         SEC_APP,  K_ADDR,     B(app_listen) },
	{ "destination",    SEC_APP,  K_DEST,     B(app_dest) },
	{ "reconnect-min",  SEC_APP,  K_DURATION, B(reconnect_min_ns),
	  NS_PER_MS, 60 * NS_PER_S, "1ms..60s" },
	{ "reconnect-max",  SEC_APP,  K_DURATION, B(reconnect_max_ns),
	  NS_PER_MS, 600 * NS_PER_S, "1ms..10m" },
	{ "tcp-buffer",     SEC_APP,  K_SIZE,     B(tcp_buffer),
	  64u << 10, 64u << 20, "64K..64M" },
	{ "rto-min",        SEC_APP,  K_DURATION, B(tcp_rto_min_ns),
	  NS_PER_MS / 10, NS_PER_S, "100us..1s" },

	{ "eal",            SEC_DPDK, K_TEXT,     B(dpdk.eal), 0, CONFIG_EAL_MAX - 1 },
	{ "port",           SEC_DPDK, K_U32,      B(dpdk.port), 0, 1023, "0..1023" },
	{ "address",        SEC_DPDK, K_CIDR,     B(dpdk.addr) },
	{ "gateway",        SEC_DPDK, K_IPV4,     B(dpdk.gateway) },
	{ "local-port",     SEC_DPDK, K_U32,      B(dpdk.local_port), 0, 65535,
	  "0..65535 (0: a new ephemeral port each connection)" },

	{ "local",          SEC_LINK, K_ADDR,     L(local) },
	{ "device",         SEC_LINK, K_IFNAME,   L(device) },
	{ "remote",         SEC_LINK, K_ADDR,     L(remote) },
	{ "weight",         SEC_LINK, K_WEIGHT,   L(weight),
	  0, SCHED_WEIGHT_MAX, "auto or 0..1000 (0: standby)" },
	{ "rate",           SEC_LINK, K_RATE,     L(rate_Bps),
	  CONFIG_RATE_MIN, CONFIG_RATE_MAX, "auto or 8kbit..100gbit" },
	{ "priority",       SEC_LINK, K_U32,      L(priority),
	  0, 1000, "0..1000" },
};

#undef B
#undef L

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct parser {
	const char *name;
	char *err;
	size_t errlen;
	struct braid_config cfg;
	enum section sec;
	unsigned link;			/* current link while sec == SEC_LINK */
	int line;
	int bond_line, app_line, dpdk_line;	/* where each section was opened, 0 = never */
	int seen[NKEYS];		/* [bond]/[app]: line of each key, 0 = unset */
	int link_seen[BRAID_MAX_LINKS][NKEYS];
	char buf[CONFIG_LINE_MAX + 1];
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || p->errlen == 0)
		return -EINVAL;
	if (line > 0)
		n = snprintf(p->err, p->errlen, "%s:%d: ", p->name, line);
	else	/* not from a file: `braidctl link add` */
		n = snprintf(p->err, p->errlen, "%s: ", p->name);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A value quoted in a message is cut short so that the message's own words
 * (the range, the reason) survive a small err buffer. */
static const char *clip(const char *s, char out[CLIP + 4])
{
	size_t n = strlen(s);

	if (n <= CLIP)
		return s;
	memcpy(out, s, CLIP - 3);
	memcpy(out + CLIP - 3, "...", 4);
	return out;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Reads the digits at *s. Returns -EINVAL when there are none, -ERANGE when
 * they do not fit, else 0; *s is left after the last digit either way, so a
 * caller can tell "garbage after the number" from "too big". */
static int read_u64(const char **s, uint64_t *v)
{
	const char *c = *s;
	uint64_t x = 0;
	bool over = false;

	if (*c < '0' || *c > '9')
		return -EINVAL;
	for (; *c >= '0' && *c <= '9'; c++) {
		unsigned d = (unsigned)(*c - '0');

		if (x > (UINT64_MAX - d) / 10)
			over = true;
		else
			x = x * 10 + d;
	}
	*s = c;
	*v = over ? UINT64_MAX : x;
	return over ? -ERANGE : 0;
}

/* A whole string of digits. */
static int parse_u64(const char *s, uint64_t *v)
{
	int rc = read_u64(&s, v);

	if (rc == -EINVAL || *s != '\0')
		return -EINVAL;
	return rc;
}

struct unit {
	const char *suffix;
	uint64_t mult;
};

/* Number then one of the units, no space; a bare number takes bare_mult. */
static int parse_scaled(const char *s, const struct unit *units, uint64_t bare_mult,
			uint64_t *out)
{
	uint64_t v, mult = 0;
	int rc = read_u64(&s, &v);

	if (rc == -EINVAL)
		return -EINVAL;
	if (*s == '\0') {
		mult = bare_mult;
	} else {
		for (; units->suffix; units++) {
			if (strcmp(s, units->suffix) == 0) {
				mult = units->mult;
				break;
			}
		}
		if (mult == 0)
			return -EINVAL;
	}
	if (rc == -ERANGE || (v != 0 && mult > UINT64_MAX / v))
		return -ERANGE;
	*out = v * mult;
	return 0;
}

static const struct unit duration_units[] = {
	{ "us", NS_PER_US }, { "ms", NS_PER_MS }, { "s", NS_PER_S },
	{ "m", 60 * NS_PER_S }, { NULL, 0 },
};

static const struct unit size_units[] = {
	{ "K", 1ull << 10 }, { "M", 1ull << 20 }, { "G", 1ull << 30 }, { NULL, 0 },
};

/* Rates in bits per second, as tc writes them; stored as bytes/s. */
static const struct unit rate_units[] = {
	{ "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 },
	{ NULL, 0 },
};

int config_rate_parse(const char *s, uint64_t *Bps)
{
	uint64_t bits;

	if (strcmp(s, "auto") == 0) {
		*Bps = 0;
		return 0;
	}
	if (parse_scaled(s, rate_units, 0, &bits) < 0 || bits / 8 < CONFIG_RATE_MIN ||
	    bits / 8 > CONFIG_RATE_MAX)
		return -EINVAL;
	*Bps = bits / 8;
	return 0;
}

static int parse_size64(const char *s, uint64_t *bytes)
{
	return parse_scaled(s, size_units, 1, bytes);
}

int config_parse_duration(const char *s, uint64_t *ns)
{
	uint64_t v;

	if (!s || parse_scaled(s, duration_units, NS_PER_MS, &v) < 0)
		return -EINVAL;
	*ns = v;
	return 0;
}

int config_parse_size(const char *s, unsigned *bytes)
{
	uint64_t v;

	if (!s || parse_size64(s, &v) < 0 || v > UINT_MAX)
		return -EINVAL;
	*bytes = (unsigned)v;
	return 0;
}

int config_parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool config_valid_name(const char *s)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (n >= BRAID_NAME_MAX - 1)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return n > 0;
}

/* What the kernel's dev_valid_name() accepts, so that SO_BINDTODEVICE fails
 * only for a device that does not exist, never for a name it cannot hold. */
static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || is_space(*s))
			return false;
	return true;
}

void config_defaults(struct braid_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = ROLE_EDGE;
	cfg->mode = SCHED_AGGREGATE;
	cfg->budget_ns = 20 * NS_PER_MS;
	cfg->unordered = false;
	cfg->probe_interval_ns = 100 * NS_PER_MS;
	cfg->workers = 1;
	for (unsigned i = 0; i < BRAID_MAX_WORKERS; i++)
		cfg->cpus[i] = -1;
	cfg->ncpus = 0;
	cfg->sqpoll_cpu = -1;
	cfg->busy_poll_us = 0;
	cfg->sndbuf = 4u << 20;
	cfg->rcvbuf = 4u << 20;
	cfg->stats_interval_ns = 0;
	cfg->max_flows = 64;
	cfg->flow_idle_ns = FLOW_IDLE_NS;
	cfg->reorder_window = 4096;
	cfg->fec_k = CONFIG_FEC_AUTO_K;
	cfg->fec_m = 0;
	cfg->fec_auto = true;
	cfg->nack = true;
	cfg->dest_kind = DEST_UDP;
	cfg->reconnect_min_ns = 10 * NS_PER_MS;
	cfg->reconnect_max_ns = NS_PER_S;
	cfg->tcp_buffer = 1u << 20;
	cfg->tcp_rto_min_ns = 10 * NS_PER_MS;
	cfg->nlinks = 0;
}

int config_parse_fec(const char *s, unsigned *k, unsigned *m, bool *is_auto)
{
	unsigned long kk, mm;
	char *end;

	if (strcmp(s, "off") == 0) {
		*k = *m = 0;
		*is_auto = false;
		return 0;
	}
	if (strcmp(s, "auto") == 0) {
		*k = CONFIG_FEC_AUTO_K;
		*m = 0;
		*is_auto = true;
		return 0;
	}
	if (*s < '1' || *s > '9')
		return -EINVAL;
	kk = strtoul(s, &end, 10);
	if (*end != ':' || end[1] < '1' || end[1] > '9')
		return -EINVAL;
	mm = strtoul(end + 1, &end, 10);
	if (*end || kk < 1 || kk > CONFIG_FEC_K_MAX || mm < 1 || mm > CONFIG_FEC_M_MAX)
		return -EINVAL;
	*k = (unsigned)kk;
	*m = (unsigned)mm;
	*is_auto = false;
	return 0;
}

/* "0,1", "0-3", "0-1, 4": at most BRAID_MAX_WORKERS distinct CPUs. */
static int parse_cpus(struct parser *p, const struct key_def *k, char *v)
{
	char c1[CLIP + 4], c2[CLIP + 4];
	int cpus[BRAID_MAX_WORKERS];
	unsigned n = 0;
	char *item, *next;

	for (item = v; item; item = next) {
		char *dash, *lo_s, *hi_s;
		uint64_t lo, hi;

		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		item = trim(item);
		if (*item == '\0')
			return fail(p, p->line, "%s: empty item in the list", k->name);
		dash = strchr(item, '-');
		lo_s = item;
		hi_s = item;
		if (dash) {
			*dash = '\0';
			lo_s = trim(item);
			hi_s = trim(dash + 1);
		}
		if (parse_u64(lo_s, &lo) == -EINVAL || parse_u64(hi_s, &hi) == -EINVAL)
			return fail(p, p->line, "%s: '%s%s%s' is not a CPU number or range "
				    "(e.g. 0,1 or 0-3)", k->name, clip(lo_s, c1),
				    dash ? "-" : "", dash ? clip(hi_s, c2) : "");
		if (lo > CONFIG_CPU_MAX || hi > CONFIG_CPU_MAX)
			return fail(p, p->line, "%s: CPU '%s' out of range %s", k->name,
				    clip(lo > CONFIG_CPU_MAX ? lo_s : hi_s, c1), k->range);
		if (lo > hi)
			return fail(p, p->line, "%s: range '%s-%s' runs backwards",
				    k->name, clip(lo_s, c1), clip(hi_s, c2));
		if (hi - lo + 1 > BRAID_MAX_WORKERS - n)
			return fail(p, p->line, "%s: more than %d CPUs", k->name,
				    BRAID_MAX_WORKERS);
		for (uint64_t c = lo; c <= hi; c++) {
			for (unsigned i = 0; i < n; i++)
				if (cpus[i] == (int)c)
					return fail(p, p->line, "%s: CPU %d listed twice",
						    k->name, (int)c);
			cpus[n++] = (int)c;
		}
	}
	memcpy(p->cfg.cpus, cpus, n * sizeof(cpus[0]));
	p->cfg.ncpus = n;
	return 0;
}

static int set_value(struct parser *p, const struct key_def *k, char *v)
{
	char *base = k->sec == SEC_LINK ? (char *)&p->cfg.links[p->link] : (char *)&p->cfg;
	void *field = base + k->off;
	char c[CLIP + 4];
	uint64_t x;
	bool b;
	int rc;

	switch (k->kind) {
	case K_ROLE:
		if (strcmp(v, "edge") == 0)
			*(enum braid_role *)field = ROLE_EDGE;
		else if (strcmp(v, "hub") == 0)
			*(enum braid_role *)field = ROLE_HUB;
		else
			return fail(p, p->line, "%s '%s' must be edge or hub",
				    k->name, clip(v, c));
		return 0;
	case K_PATH:
		if (strlen(v) > (k->max ? k->max : PATH_MAX - 1))
			return fail(p, p->line, "%s: path longer than %llu bytes", k->name,
				    (unsigned long long)(k->max ? k->max : PATH_MAX - 1));
		strcpy((char *)field, v);
		return 0;
	case K_MODE:
		if (sched_mode_parse(v, (enum sched_mode *)field) < 0)
			return fail(p, p->line, "%s '%s' must be aggregate, duplicate "
				    "or failover", k->name, clip(v, c));
		return 0;
	case K_DURATION:
	case K_BUSY:
		rc = parse_scaled(v, duration_units,
				  k->kind == K_BUSY ? NS_PER_US : NS_PER_MS, &x);
		if (rc == -EINVAL)
			return fail(p, p->line, "%s '%s' is not a duration (a whole number "
				    "with no space before an optional us, ms, s or m; "
				    "bare numbers are %s)", k->name, clip(v, c),
				    k->kind == K_BUSY ? "us" : "ms");
		if (rc < 0 || ((x < k->min || x > k->max) && !(k->zero_ok && x == 0)))
			return fail(p, p->line, "%s '%s' out of range %s",
				    k->name, clip(v, c), k->range);
		if (k->kind == K_BUSY)	/* exact: us is the finest unit */
			*(unsigned *)field = (unsigned)(x / NS_PER_US);
		else
			*(uint64_t *)field = x;
		return 0;
	case K_BOOL:
		if (config_parse_bool(v, &b) < 0)
			return fail(p, p->line, "%s '%s' is not a boolean "
				    "(yes|no|true|false|on|off|1|0)", k->name, clip(v, c));
		*(bool *)field = b;
		return 0;
	case K_U32:
	case K_INT:
	case K_POW2:
		rc = parse_u64(v, &x);
		if (rc == -EINVAL)
			return fail(p, p->line, "%s '%s' is not a whole number",
				    k->name, clip(v, c));
		if (rc < 0 || x < k->min || x > k->max)
			return fail(p, p->line, "%s '%s' out of range %s",
				    k->name, clip(v, c), k->range);
		if (k->kind == K_POW2 && (x & (x - 1)) != 0)
			return fail(p, p->line, "%s '%s' is not a power of two",
				    k->name, clip(v, c));
		if (k->kind == K_INT)
			*(int *)field = (int)x;
		else
			*(unsigned *)field = (unsigned)x;
		return 0;
	case K_SIZE:
		rc = parse_size64(v, &x);
		if (rc == -EINVAL)
			return fail(p, p->line, "%s '%s' is not a size (a whole number with "
				    "no space before an optional K, M or G; bare numbers "
				    "are bytes)", k->name, clip(v, c));
		if (rc < 0 || x < k->min || x > k->max)
			return fail(p, p->line, "%s '%s' out of range %s",
				    k->name, clip(v, c), k->range);
		*(unsigned *)field = (unsigned)x;
		return 0;
	case K_CPUS:
		return parse_cpus(p, k, v);
	case K_ADDR:
		if (addr_parse(v, (union braid_addr *)field) < 0)
			return fail(p, p->line, "%s '%s' is not an address "
				    "(IPv4:PORT or [IPv6]:PORT)", k->name, clip(v, c));
		if (k->sec == SEC_LINK && strcmp(k->name, "remote") == 0)
			p->cfg.links[p->link].has_remote = true;
		if (strcmp(k->name, "metrics-listen") == 0)
			p->cfg.has_metrics_listen = true;
		return 0;
	case K_FEC:
		if (config_parse_fec(v, &p->cfg.fec_k, &p->cfg.fec_m, &p->cfg.fec_auto) < 0)
			return fail(p, p->line, "%s '%s' must be off, auto, or K:M with K "
				    "1..%d and M 1..%d", k->name, clip(v, c),
				    CONFIG_FEC_K_MAX, CONFIG_FEC_M_MAX);
		return 0;
	case K_SCHED:
		if (sched_algo_parse(v, (enum sched_algo *)field) < 0)
			return fail(p, p->line, "%s '%s' must be arrival or dwrr", k->name,
				    clip(v, c));
		return 0;
	case K_RATE:
		if (config_rate_parse(v, (uint64_t *)field) < 0)
			return fail(p, p->line, "%s '%s' must be %s (a whole number and "
				    "bit, kbit, mbit or gbit, no space)", k->name, clip(v, c),
				    k->range);
		return 0;
	case K_WEIGHT:
		if (strcmp(v, "auto") == 0) {
			p->cfg.links[p->link].weight_auto = true;
			*(uint32_t *)field = BRAID_AUTO_WEIGHT;
			return 0;
		}
		rc = parse_u64(v, &x);
		if (rc < 0 || x < k->min || x > k->max)
			return fail(p, p->line, "%s '%s' must be %s", k->name, clip(v, c),
				    k->range);
		p->cfg.links[p->link].weight_auto = false;
		*(uint32_t *)field = (uint32_t)x;
		return 0;
	case K_USER:
		if (!config_valid_name(v) || v[0] == '-' || strlen(v) >= sizeof(p->cfg.user))
			return fail(p, p->line, "%s '%s' is not a user name (1..%zu characters "
				    "of A-Z a-z 0-9 _ . -, not starting with -)", k->name,
				    clip(v, c), sizeof(p->cfg.user) - 1);
		strcpy((char *)field, v);
		return 0;
	case K_DEST: {
		const char *a = v, *sep = strstr(v, "://");

		p->cfg.dest_kind = DEST_UDP;
		if (sep) {
			size_t i, n = (size_t)(sep - v);

			for (i = 0; i < DEST_KINDS; i++) {
				if (strlen(dest_schemes[i]) == n && strncmp(v, dest_schemes[i], n) == 0) {
					p->cfg.dest_kind = (enum dest_kind)i;
					a = sep + 3;
					break;
				}
			}
			if (i == DEST_KINDS)
				return fail(p, p->line, "%s '%s': unknown scheme (udp://, "
					    "tcp:// or dpdk-tcp://)", k->name, clip(v, c));
		}
		if (addr_parse(a, (union braid_addr *)field) < 0)
			return fail(p, p->line, "%s '%s' is not an address (IPv4:PORT or "
				    "[IPv6]:PORT, after udp://, tcp:// or dpdk-tcp://)",
				    k->name, clip(v, c));
		if (p->cfg.dest_kind == DEST_DPDK_TCP &&
		    ((union braid_addr *)field)->sa.sa_family != AF_INET)
			return fail(p, p->line, "%s '%s': dpdk-tcp:// takes an IPv4 "
				    "address", k->name, clip(v, c));
		return 0;
	}
	case K_TEXT:
		if (strlen(v) > k->max)
			return fail(p, p->line, "%s is longer than %u characters",
				    k->name, (unsigned)k->max);
		strcpy((char *)field, v);
		return 0;
	case K_CIDR: {
		char ip[INET_ADDRSTRLEN];
		const char *slash = strchr(v, '/');
		struct in_addr in;
		uint64_t pre;

		if (!slash || (size_t)(slash - v) >= sizeof(ip) ||
		    parse_u64(slash + 1, &pre) < 0 || pre < 1 || pre > 32)
			return fail(p, p->line, "%s '%s' must be IPv4/PREFIX with "
				    "PREFIX 1..32", k->name, clip(v, c));
		memcpy(ip, v, (size_t)(slash - v));
		ip[slash - v] = '\0';
		if (inet_pton(AF_INET, ip, &in) != 1 || in.s_addr == 0)
			return fail(p, p->line, "%s '%s': '%s' is not an IPv4 address",
				    k->name, clip(v, c), ip);
		p->cfg.dpdk.addr = ntohl(in.s_addr);
		p->cfg.dpdk.prefix = (unsigned)pre;
		return 0;
	}
	case K_IPV4: {
		struct in_addr in;

		if (inet_pton(AF_INET, v, &in) != 1 || in.s_addr == 0)
			return fail(p, p->line, "%s '%s' is not an IPv4 address",
				    k->name, clip(v, c));
		*(uint32_t *)field = ntohl(in.s_addr);
		return 0;
	}
	case K_IFNAME:
		if (!valid_ifname(v))
			return fail(p, p->line, "%s '%s' is not an interface name "
				    "(1..%d characters, no '/', ':' or space)",
				    k->name, clip(v, c), IFNAMSIZ - 1);
		strcpy((char *)field, v);
		return 0;
	}
	return fail(p, p->line, "internal error: key '%s' has no parser", k->name);
}

static const char *section_label(const struct parser *p, char *out, size_t len)
{
	switch (p->sec) {
	case SEC_BOND:
		return "[bond]";
	case SEC_APP:
		return "[app]";
	case SEC_DPDK:
		return "[dpdk]";
	case SEC_LINK:
		snprintf(out, len, "[link %s]", p->cfg.links[p->link].name);
		return out;
	case SEC_NONE:
		break;
	}
	return "(no section)";
}

static int parse_section(struct parser *p, char *s)
{
	size_t n = strlen(s);
	char c[CLIP + 4];
	char *in;

	if (s[n - 1] != ']')
		return fail(p, p->line, "section header '%s' has no closing ']'", clip(s, c));
	s[n - 1] = '\0';
	in = trim(s + 1);

	if (strcmp(in, "bond") == 0 || strcmp(in, "app") == 0 || strcmp(in, "dpdk") == 0) {
		int *first = in[0] == 'b' ? &p->bond_line : in[0] == 'a' ? &p->app_line :
			     &p->dpdk_line;

		if (*first)
			return fail(p, p->line, "duplicate section [%s] (first at line %d)",
				    in, *first);
		*first = p->line;
		p->sec = in[0] == 'b' ? SEC_BOND : in[0] == 'a' ? SEC_APP : SEC_DPDK;
		return 0;
	}
	if (strncmp(in, "link", 4) == 0 && (in[4] == '\0' || is_space(in[4]))) {
		const char *name = trim(in + 4);
		struct link_config *l;

		if (*name == '\0')
			return fail(p, p->line, "missing link name: write [link NAME]");
		if (!config_valid_name(name))
			return fail(p, p->line, "invalid link name '%s' (1..%d characters "
				    "of A-Z a-z 0-9 _ . -)", clip(name, c), BRAID_NAME_MAX - 1);
		for (unsigned i = 0; i < p->cfg.nlinks; i++)
			if (strcmp(p->cfg.links[i].name, name) == 0)
				return fail(p, p->line, "duplicate link name '%s' "
					    "(first at line %d)", name, p->cfg.links[i].line);
		if (p->cfg.nlinks >= BRAID_MAX_LINKS)
			return fail(p, p->line, "too many links: at most %d",
				    BRAID_MAX_LINKS);
		p->link = p->cfg.nlinks++;
		l = &p->cfg.links[p->link];
		memset(l, 0, sizeof(*l));
		strcpy(l->name, name);
		l->weight = BRAID_AUTO_WEIGHT;
		l->weight_auto = true;
		l->priority = p->link;
		l->line = p->line;
		p->sec = SEC_LINK;
		return 0;
	}
	return fail(p, p->line, "unknown section [%s] (expected [bond], [app], [dpdk] "
		    "or [link NAME])", clip(in, c));
}

static int parse_line(struct parser *p, char *s)
{
	char c[CLIP + 4], label[BRAID_NAME_MAX + 8];
	const struct key_def *k = NULL;
	char *eq, *key, *val;
	int *seen;

	s = trim(s);
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	/* " #" ends the value; a '#' inside a word (a path, say) does not. */
	for (char *q = s + 1; *q; q++) {
		if (*q == '#' && is_space(q[-1])) {
			*q = '\0';
			break;
		}
	}
	s = trim(s);
	/* Values end up in messages and file names: no terminal escapes, no
	 * stray carriage returns from a file that mixes line ends. */
	for (const char *q = s; *q; q++)
		if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
			return fail(p, p->line, "control character 0x%02x in line",
				    (unsigned)(unsigned char)*q);

	if (*s == '[')
		return parse_section(p, s);

	eq = strchr(s, '=');
	if (!eq)
		return fail(p, p->line, "expected 'key = value' or '[section]', got '%s'",
			    clip(s, c));
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (p->sec == SEC_NONE)
		return fail(p, p->line, "key outside of any section");
	if (*key == '\0')
		return fail(p, p->line, "missing key before '='");
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].sec == p->sec && strcmp(keys[i].name, key) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (!k)
		return fail(p, p->line, "unknown key '%s' in %s", clip(key, c),
			    section_label(p, label, sizeof(label)));
	seen = p->sec == SEC_LINK ? p->link_seen[p->link] : p->seen;
	if (seen[k - keys])
		return fail(p, p->line, "duplicate key '%s' in %s (first at line %d)",
			    k->name, section_label(p, label, sizeof(label)), seen[k - keys]);
	if (*val == '\0')
		return fail(p, p->line, "missing value for '%s'", k->name);
	seen[k - keys] = p->line;
	return set_value(p, k, val);
}

static int key_line(const struct parser *p, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].sec != SEC_LINK && strcmp(keys[i].name, name) == 0)
			return p->seen[i];
	return 0;
}

static int link_key_line(const struct parser *p, unsigned link, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].sec == SEC_LINK && strcmp(keys[i].name, name) == 0)
			return p->link_seen[link][i];
	return 0;
}

static int check_link(struct parser *p, unsigned i)
{
	const struct link_config *l = &p->cfg.links[i];

	if (!link_key_line(p, i, "local"))
		return fail(p, l->line, "missing 'local' in [link %s]", l->name);
	if (p->cfg.role == ROLE_EDGE && !l->has_remote)
		return fail(p, l->line, "missing 'remote' in [link %s] "
			    "(required on an edge)", l->name);
	if (l->has_remote && l->remote.sa.sa_family != l->local.sa.sa_family)
		return fail(p, link_key_line(p, i, "remote"), "link '%s': remote "
			    "and local are not the same address family", l->name);
	return 0;
}

/* What no single line can show: required keys, and keys that contradict
 * each other or the role. */
static int check_whole(struct parser *p, int last)
{
	const struct braid_config *cfg = &p->cfg;
	bool edge = cfg->role == ROLE_EDGE;
	int at;

	if (!p->bond_line)
		return fail(p, last, "missing [bond] section (it needs role and key)");
	if (!key_line(p, "role"))
		return fail(p, p->bond_line, "missing 'role' in [bond] (edge or hub)");
	if (!key_line(p, "key"))
		return fail(p, p->bond_line, "missing 'key' in [bond] (the key file)");

	at = key_line(p, edge ? "destination" : "listen");
	if (at)
		return fail(p, at, edge ? "'destination' is for a hub; an edge takes "
			    "'listen' in [app]" : "'listen' is for an edge; a hub takes "
			    "'destination' in [app]");
	if (!key_line(p, edge ? "listen" : "destination"))
		return fail(p, p->app_line ? p->app_line : last, edge ?
			    "an edge needs 'listen' in [app]" :
			    "a hub needs 'destination' in [app]");

	if (cfg->dest_kind != DEST_UDP && cfg->reconnect_min_ns > cfg->reconnect_max_ns)
		return fail(p, key_line(p, "reconnect-min"), "reconnect-min is more than "
			    "reconnect-max");
	if (cfg->dest_kind == DEST_UDP) {
		static const char *const tcp_only[] = { "reconnect-min", "reconnect-max",
							"tcp-buffer", "rto-min" };

		for (size_t i = 0; i < sizeof(tcp_only) / sizeof(tcp_only[0]); i++)
			if ((at = key_line(p, tcp_only[i])))
				return fail(p, at, "%s is for a tcp:// or dpdk-tcp:// "
					    "destination", tcp_only[i]);
	}
	if (p->dpdk_line && cfg->dest_kind != DEST_DPDK_TCP)
		return fail(p, p->dpdk_line, "[dpdk] is for a dpdk-tcp:// destination");
	if (cfg->dest_kind == DEST_DPDK_TCP) {
		if (!p->dpdk_line)
			return fail(p, key_line(p, "destination"), "dpdk-tcp:// needs a "
				    "[dpdk] section (eal and address)");
		if (!key_line(p, "eal"))
			return fail(p, p->dpdk_line, "missing 'eal' in [dpdk] (the EAL "
				    "arguments, e.g. -l 0 --vdev=...)");
		if (!key_line(p, "address"))
			return fail(p, p->dpdk_line, "missing 'address' in [dpdk] (ours on "
				    "the port, IPv4/PREFIX)");
	}

	at = key_line(p, "cpus");
	if (at && cfg->ncpus > cfg->workers)
		return fail(p, at, "cpus lists %u CPUs but workers is %u",
			    cfg->ncpus, cfg->workers);
	at = key_line(p, "sqpoll-cpu");
	if (at && !cfg->sqpoll)
		return fail(p, at, "sqpoll-cpu is set but sqpoll is off");

	if (cfg->nlinks == 0)
		return fail(p, last, "no links: add at least one [link NAME] section");
	for (unsigned i = 0; i < cfg->nlinks; i++) {
		int rc = check_link(p, i);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int config_parse(const char *text, size_t len, const char *name,
		 struct braid_config *cfg, char *err, size_t errlen)
{
	struct parser p;	/* about 9 KiB: the only memory a parse uses */
	size_t pos = 0;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!name)
		name = "config";
	if (!cfg || (!text && len)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: no text or no config to fill", name);
		return -EINVAL;
	}
	/* Also bounds the line count, so that an int holds it. */
	if (len > CONFIG_FILE_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %zu bytes, more than the %u a config "
				 "may have", name, len, CONFIG_FILE_MAX);
		return -EINVAL;
	}
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.err = err;
	p.errlen = errlen;
	config_defaults(&p.cfg);

	/* A UTF-8 byte order mark is what some editors put first; skip it. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len && rc == 0) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl ? 1 : 0);
		p.line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (memchr(s, '\0', n))
			rc = fail(&p, p.line, "NUL byte in line");
		else if (n > CONFIG_LINE_MAX)
			rc = fail(&p, p.line, "line too long (%zu characters, at most %d)",
				  n, CONFIG_LINE_MAX);
		else {
			memcpy(p.buf, s, n);
			p.buf[n] = '\0';
			rc = parse_line(&p, p.buf);
		}
	}
	if (rc == 0)
		rc = check_whole(&p, p.line > 0 ? p.line : 1);
	if (rc == 0)
		*cfg = p.cfg;
	return rc;
}

int config_link_parse(enum braid_role role, const char *name, const char *const *kv,
		      unsigned n, struct link_config *out, char *err, size_t errlen)
{
	struct parser *p;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!name || !config_valid_name(name)) {
		if (err && errlen)
			snprintf(err, errlen, "invalid link name (1..%d characters of "
				 "A-Z a-z 0-9 _ . -)", BRAID_NAME_MAX - 1);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->name = "link";
	p->err = err;
	p->errlen = errlen;
	p->cfg.role = role;
	p->sec = SEC_LINK;
	p->cfg.nlinks = 1;
	strcpy(p->cfg.links[0].name, name);
	p->cfg.links[0].weight = BRAID_AUTO_WEIGHT;
	p->cfg.links[0].weight_auto = true;
	p->cfg.links[0].priority = CONFIG_PRIORITY_LAST;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		const char *eq = strchr(kv[i], '=');
		const struct key_def *k = NULL;
		char c[CLIP + 4];

		if (strlen(kv[i]) >= sizeof(p->buf)) {
			rc = fail(p, 0, "argument too long");
			break;
		}
		strcpy(p->buf, kv[i]);
		if (!eq || eq == kv[i] || !eq[1]) {
			rc = fail(p, 0, "expected key=value, got '%s'", clip(kv[i], c));
			break;
		}
		p->buf[eq - kv[i]] = '\0';
		for (size_t j = 0; j < NKEYS; j++) {
			if (keys[j].sec == SEC_LINK && strcmp(keys[j].name, p->buf) == 0) {
				k = &keys[j];
				break;
			}
		}
		if (!k) {
			rc = fail(p, 0, "unknown key '%s' (local, remote, device, weight, "
				  "priority)", clip(p->buf, c));
			break;
		}
		if (p->link_seen[0][k - keys]) {
			rc = fail(p, 0, "duplicate key '%s'", k->name);
			break;
		}
		p->link_seen[0][k - keys] = 1;
		rc = set_value(p, k, p->buf + (eq - kv[i]) + 1);
	}
	if (rc == 0)
		rc = check_link(p, 0);
	if (rc == 0)
		*out = p->cfg.links[0];
	free(p);
	return rc;
}

int config_weight_parse(const char *s, uint32_t *weight, bool *is_auto)
{
	uint64_t x;

	if (strcmp(s, "auto") == 0) {
		*weight = BRAID_AUTO_WEIGHT;
		*is_auto = true;
		return 0;
	}
	if (parse_u64(s, &x) < 0 || x > SCHED_WEIGHT_MAX)
		return -EINVAL;
	*weight = (uint32_t)x;
	*is_auto = false;
	return 0;
}

int config_load(const char *path, struct braid_config *cfg, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int fd, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto err_sys;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto err_sys_close;
	}
	/* A directory or a FIFO would fail late or block; say so up front. */
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		if (err && errlen)
			snprintf(err, errlen, "%s: not a regular file", path);
		goto err_close;
	}
	/* Read up to one byte past the limit rather than trusting st_size: the
	 * file may change under us, and only what read() returns counts. */
	text = malloc(CONFIG_FILE_MAX + 1);
	if (!text) {
		rc = -ENOMEM;
		goto err_sys_close;
	}
	while (len <= CONFIG_FILE_MAX) {
		ssize_t r = read(fd, text + len, CONFIG_FILE_MAX + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto err_sys_free;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > CONFIG_FILE_MAX) {
		rc = -EFBIG;
		if (err && errlen)
			snprintf(err, errlen, "%s: larger than %u bytes, refusing it",
				 path, CONFIG_FILE_MAX);
		goto err_free;
	}
	close(fd);
	rc = config_parse(text, len, path, cfg, err, errlen);
	free(text);
	return rc;

err_sys_free:
	free(text);
err_sys_close:
	close(fd);
err_sys:
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
	return rc;
err_free:
	free(text);
err_close:
	close(fd);
	return rc;
}
