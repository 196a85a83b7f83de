/* braidd's configuration file: INI style.
 *
 *   [bond]   role, key, user, control, metrics-listen, mode, scheduler, latency, unordered, fec, nack, probe-interval, workers, cpus,
 *            sqpoll, sqpoll-cpu, busy-poll, spin, sndbuf, rcvbuf,
 *            stats-interval, max-flows, flow-idle, reorder-window
 *   [app]    listen (edge), destination (hub: IP:PORT or udp://, tcp://,
 *            dpdk-tcp://), reconnect-min, reconnect-max, tcp-buffer, rto-min
 *   [dpdk]   eal, port, address, gateway, local-port (dpdk-tcp:// only)
 *   [link NAME]  local, device, remote, weight, rate, priority
 *
 * Comments start with '#' or ';'. Durations take us, ms, s, m suffixes (bare
 * numbers are ms, but us for busy-poll); sizes take K, M, G suffixes (bare
 * numbers are bytes). See docs/config.md for every key, its default and its
 * bounds. */
#ifndef BRAID_CONFIG_H
#define BRAID_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "braid/sched.h"
#include "addr.h"

#define BRAID_MAX_LINKS   SCHED_MAX_LINKS
#define BRAID_MAX_WORKERS 16
#define BRAID_NAME_MAX    32	/* link name, with its NUL */
#define CONFIG_FEC_K_MAX  32
#define CONFIG_FEC_M_MAX  8
#define CONFIG_FEC_AUTO_K 32	/* fec = auto: the most per block; fewer at low rates */
#define BRAID_AUTO_WEIGHT 100u	/* weight = auto: a link as good as the best */
#define CONFIG_PRIORITY_LAST UINT32_MAX
#define CONFIG_RATE_MIN   1000ull		/* rate = 8kbit, in bytes/s */
#define CONFIG_RATE_MAX   12500000000ull	/* rate = 100gbit */	/* link add without priority: after the others */

enum braid_role { ROLE_EDGE = 0, ROLE_HUB = 1 };

/* How the hub reaches its destination. */
enum dest_kind {
	DEST_UDP = 0,		/* IP:PORT or udp://IP:PORT: one socket per flow */
	DEST_TCP,		/* tcp://IP:PORT: one kernel TCP connection (io_uring) */
	DEST_DPDK_TCP,		/* dpdk-tcp://IP:PORT: the minimal TCP over a DPDK port */
	DEST_KINDS
};
#define CONFIG_EAL_MAX 1024	/* [dpdk] eal, with its NUL */

/* [dpdk]: the port behind a dpdk-tcp:// destination. */
struct dpdk_config {
	char eal[CONFIG_EAL_MAX];	/* EAL arguments, blank-separated (required) */
	unsigned port;			/* ethdev port id, default 0 */
	uint32_t addr;			/* ours, IPv4 host order (required, address = IP/PREFIX) */
	unsigned prefix;		/* 1..32 */
	uint32_t gateway;		/* 0: none (the destination must be on-link) */
	unsigned local_port;		/* 0 (default): a new ephemeral port per connection */
};

struct link_config {
	char name[BRAID_NAME_MAX];	/* [A-Za-z0-9_.-], 1..31 chars */
	union braid_addr local;		/* required */
	char device[IFNAMSIZ];		/* optional: SO_BINDTODEVICE */
	union braid_addr remote;	/* required on the edge; the hub may learn it */
	bool has_remote;
	uint32_t weight;		/* 0..SCHED_WEIGHT_MAX (0: standby); with weight_auto, where it starts */
	uint64_t rate_Bps;		/* rate = ...: the scheduler's prior and cap, bytes/s; 0 = auto */
	bool weight_auto;		/* weight = auto (the default): from loss and RTT */
	uint32_t priority;		/* failover order, lower first; default: file order */
	int line;			/* where the section starts, for messages */
};

struct braid_config {
	enum braid_role role;
	char key_path[PATH_MAX];
	char control_path[108];		/* control socket; "" = /run/braid/NAME.sock */
	char user[BRAID_NAME_MAX];	/* run as this user once set up; "" = stay */
	union braid_addr metrics_listen;	/* HTTP GET /metrics, if has_metrics_listen */
	bool has_metrics_listen;
	enum sched_mode mode;		/* default aggregate */
	enum sched_algo scheduler;	/* aggregate mode's rule, default arrival */
	uint64_t budget_ns;		/* latency = ..., default 20ms, 1ms..10s */
	bool unordered;			/* default no */
	unsigned fec_k, fec_m;		/* fec = K:M; 0:0 = off (default) */
	bool fec_auto;			/* fec = auto (the default): K from the rate, M from loss */
	bool nack;			/* default yes */
	uint64_t probe_interval_ns;	/* default 100ms, 10ms..10s */
	unsigned workers;		/* default 1, 1..BRAID_MAX_WORKERS */
	int cpus[BRAID_MAX_WORKERS];	/* cpus = 0,1: worker i pinned to cpus[i]; -1 = not pinned */
	unsigned ncpus;
	bool sqpoll;			/* default no */
	int sqpoll_cpu;			/* -1 = not pinned */
	unsigned busy_poll_us;		/* SO_BUSY_POLL, 0 = off, max 1000000 */
	bool spin;			/* busy-spin the worker loop, default no */
	unsigned sndbuf, rcvbuf;	/* socket buffers, default 4M, 64K..256M */
	uint64_t stats_interval_ns;	/* print counters to stderr; 0 = never; default 0 */
	unsigned max_flows;		/* default 64, 1..FLOW_MAX (1024) */
	uint64_t flow_idle_ns;		/* edge: a full table's idle flow may go, default 60s */
	unsigned reorder_window;	/* default 4096, power of two 64..65536 */
	union braid_addr app_listen;	/* edge: where the application sends */
	union braid_addr app_dest;	/* hub: where datagrams go */
	enum dest_kind dest_kind;	/* hub: how (default DEST_UDP) */
	uint64_t reconnect_min_ns;	/* TCP destinations: first retry after, default 10ms */
	uint64_t reconnect_max_ns;	/* ... doubling up to, default 1s */
	unsigned tcp_buffer;		/* ... messages waiting for the stream, default 1M */
	uint64_t tcp_rto_min_ns;	/* ... the least retransmission timeout, default 10ms */
	struct dpdk_config dpdk;
	struct link_config links[BRAID_MAX_LINKS];
	unsigned nlinks;
};

/* Fills cfg with the defaults above (no role, no links). */
void config_defaults(struct braid_config *cfg);
/* Parses text (len bytes, need not be NUL-terminated) named `name` in messages.
 * Returns 0, or -EINVAL with "NAME:LINE: what is wrong" in err. Also checks
 * the whole: a role, a key, the app address the role needs, at least one link,
 * unique link names, remotes on the edge. */
int config_parse(const char *text, size_t len, const char *name,
		 struct braid_config *cfg, char *err, size_t errlen);
/* Reads and parses a file (at most 1 MiB). */
int config_load(const char *path, struct braid_config *cfg, char *err, size_t errlen);

/* Parsers shared with braidctl: 0 or -EINVAL. */
int config_parse_duration(const char *s, uint64_t *ns);
int config_parse_size(const char *s, unsigned *bytes);
int config_parse_bool(const char *s, bool *b);
/* "off", "auto" or "K:M"; 0 or -EINVAL. */
int config_parse_fec(const char *s, unsigned *k, unsigned *m, bool *is_auto);
bool config_valid_name(const char *s);
/* The words of `braidctl link add NAME key=value...` (the keys of a [link]
 * section) into out, checked as a config file's link would be for role.
 * 0 or -EINVAL with "link: what is wrong" in err (or -ENOMEM). */
int config_link_parse(enum braid_role role, const char *name, const char *const *kv,
		      unsigned n, struct link_config *out, char *err, size_t errlen);
/* "udp", "tcp" or "dpdk-tcp": how a destination of kind is written, less
 * its "://". */
const char *config_dest_scheme(enum dest_kind kind);
/* "auto" or 0..SCHED_WEIGHT_MAX. 0 or -EINVAL. */
int config_weight_parse(const char *s, uint32_t *weight, bool *is_auto);
/* "auto" (0) or a rate in bit/s with a bit, kbit, mbit or gbit suffix,
 * CONFIG_RATE_MIN..CONFIG_RATE_MAX bytes/s, into *Bps. 0 or -EINVAL. */
int config_rate_parse(const char *s, uint64_t *Bps);

#endif
