/* braidd: the bonding relay daemon. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>

#ifdef BRAID_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "config.h"
#include "addr.h"
#include "crypto.h"
#include "ctl.h"
#include "ctlsock.h"
#include "log.h"
#include "braid/stats.h"
#include "report.h"
#include "worker.h"

#define BRAID_VERSION "0.1.0"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --- systemd (Type=notify) -------------------------------------------------
 * READY once the sockets and rings are set up; WATCHDOG only while every
 * worker keeps turning: its loop count moved within WORKER_STALL_NS (an idle
 * worker still wakes for its timers at least once a second), so a wedged
 * worker gets the service restarted; STOPPING on the way out. Without
 * libsystemd, or when not started by systemd, these do nothing. */
#define WORKER_STALL_NS 3000000000ull
static uint64_t wd_ns;		/* half the watchdog interval; 0 = none */
static uint64_t loops[BRAID_MAX_WORKERS], moved_at[BRAID_MAX_WORKERS];

static void notify_ready(const struct braidd *d)
{
#ifdef BRAID_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec)
		wd_ns = usec * 1000 / 2;
	for (unsigned i = 0; i < d->nworkers && i < BRAID_MAX_WORKERS; i++) {
		loops[i] = stat_get(braidd_worker_stats(d, i)->loops);
		moved_at[i] = mono_ns();
	}
	sd_notifyf(0, "READY=1\nSTATUS=%s, %u link%s, %u worker%s",
		   d->cfg.role == ROLE_EDGE ? "edge" : "hub", d->cfg.nlinks,
		   d->cfg.nlinks == 1 ? "" : "s", d->nworkers, d->nworkers == 1 ? "" : "s");
#else
	(void)d;
#endif
}

static void notify_watchdog(const struct braidd *d, uint64_t now)
{
	bool alive = true;

	for (unsigned i = 0; i < d->nworkers && i < BRAID_MAX_WORKERS; i++) {
		uint64_t n = stat_get(braidd_worker_stats(d, i)->loops);

		if (n != loops[i]) {
			loops[i] = n;
			moved_at[i] = now;
		} else if (now - moved_at[i] > WORKER_STALL_NS) {
			log_warn("worker %u has not turned for %llu ms: no watchdog ping", i,
				 (unsigned long long)((now - moved_at[i]) / 1000000));
			alive = false;
		}
	}
#ifdef BRAID_SYSTEMD
	if (alive)
		sd_notify(0, "WATCHDOG=1");
#else
	(void)alive;
#endif
}

static void notify_stopping(void)
{
#ifdef BRAID_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}

/* --- the control socket -------------------------------------------------------
 * A UNIX stream socket, mode 0660, made only where ctlsock.h allows, served
 * by this (main) thread only, one request per connection (ctl.h): the
 * workers are never stopped or touched, the counters are read as the stats
 * line reads them. Peers are checked with SO_PEERCRED: root, our own user,
 * or our group. */
#define CTL_IO_MS 500
#define CTL_LINGER_MS 200	/* waiting for the peer to close after the reply */
#define CTL_REPLY_MAX (256u << 10)

/* The default path: /run/braid/NAME.sock for config NAME.conf. */
static void ctl_default_path(const char *config, char *out, size_t len)
{
	const char *base = strrchr(config, '/');
	size_t n;

	base = base ? base + 1 : config;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".conf") == 0)
		n -= 5;
	snprintf(out, len, "/run/braid/%.*s.sock", (int)n, base);
}

/* --- privileges ---------------------------------------------------------------
 * `user = NAME`: once everything that needs root is done (link sockets,
 * rings, locked memory, the control socket), become NAME, with its primary
 * group only. The main thread keeps CAP_NET_BIND_SERVICE, for links added
 * later on ports below 1024; the workers, started after this, keep nothing.
 * Capabilities are per thread, and the capset below is this thread's. */
static int drop_privileges(const char *user, const struct ctlsock *cs, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2] = { { 0 } };
	const struct passwd *pw = getpwnam(user);
	int r;

	if (!pw) {
		snprintf(err, errlen, "user = %s: no such user", user);
		return -ENOENT;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw->pw_uid)
			return 0;
		snprintf(err, errlen, "user = %s: braidd was not started as root and cannot "
			 "become another user", user);
		return -EPERM;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user = %s: that is root", user);
		return -EINVAL;
	}
	/* braidctl reaches us as this user or group, or root. */
	r = cs->fd >= 0 ? ctlsock_chown(cs, pw->pw_uid, pw->pw_gid) : 0;
	if (r < 0)
		log_warn("control socket: chown to %s: %s", user, strerror(-r));
	if (setgroups(1, &pw->pw_gid) < 0 || prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "user = %s: %s", user, strerror(errno));
		return -errno;
	}
	caps[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].permitted = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
	caps[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].effective = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
	if (syscall(SYS_capset, &hdr, caps) < 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "user = %s: dropping capabilities: %s", user, strerror(errno));
		return -errno;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, errlen, "user = %s: root could be had back", user);
		return -EPERM;
	}
	log_info("running as %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid,
		 (unsigned)pw->pw_gid);
	return 0;
}

/* Reads one request line within CTL_IO_MS; its length, or a negative errno. */
static ssize_t ctl_read(int fd, char *buf, size_t len)
{
	uint64_t end = mono_ns() + CTL_IO_MS * 1000000ull;
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = mono_ns();
		ssize_t n;

		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)((end - now) / 1000000u) + 1) <= 0)
			continue;
		n = read(fd, buf + got, len - got);
		if (n == 0)
			return -EMSGSIZE;	/* closed before a newline */
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
		if (memchr(buf + got - (size_t)n, '\n', (size_t)n))
			return (ssize_t)got;
	}
	return -EMSGSIZE;
}

static void ctl_write_all(int fd, const char *p, size_t n)
{
	uint64_t end = mono_ns() + CTL_IO_MS * 1000000ull;

	while (n) {
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		ssize_t w;

		if (mono_ns() >= end)
			return;
		w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			poll(&pf, 1, 50);
		} else {
			return;
		}
	}
}

/* Closes a connection whose request may not have been read to the end:
 * what is left unread, or arrives after, would make the kernel send a reset,
 * which can cut off the reply at the peer. So the reply is followed by our
 * FIN, and what comes is read away until the peer closes too (at most
 * CTL_LINGER_MS). */
static void ctl_close(int fd)
{
	uint64_t end = mono_ns() + CTL_LINGER_MS * 1000000ull;
	char junk[512];

	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = mono_ns();
		ssize_t n;

		if (now >= end || poll(&p, 1, (int)((end - now) / 1000000u) + 1) <= 0)
			break;
		n = read(fd, junk, sizeof(junk));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;	/* the peer closed (or is gone): no reset to fear */
	}
	close(fd);
}

/* Serves one connection, start to end. */
/* link add / del / set: 0 or a positive errno, with the body in msg. */
static int ctl_link(struct braidd *d, const struct ctl_req *r, char *msg, size_t len)
{
	const char *name = r->argv[2];
	int rc = 0;

	msg[0] = '\0';
	switch (r->cmd) {
	case CTL_LINK_ADD: {
		const char *kv[CTL_ARGS_MAX];
		struct link_config lc;
		unsigned n = 0;
		int id = -1;

		for (unsigned i = 3; i < r->argc; i++) {
			if (strncmp(r->argv[i], "id=", 3) == 0) {
				char *end;
				long v = strtol(r->argv[i] + 3, &end, 10);

				if (end == r->argv[i] + 3 || *end || v < 0 || v >= BRAID_MAX_LINKS) {
					snprintf(msg, len, "id '%.16s' must be 0..%d\n",
						 r->argv[i] + 3, BRAID_MAX_LINKS - 1);
					return EINVAL;
				}
				id = (int)v;
			} else {
				kv[n++] = r->argv[i];
			}
		}
		rc = config_link_parse(d->cfg.role, name, kv, n, &lc, msg, len);
		if (rc == 0)
			rc = braidd_link_add(d, &lc, id, msg, len);
		if (rc >= 0) {
			snprintf(msg, len, "link %s added as id %d\n", name, rc);
			return 0;
		}
		break;
	}
	case CTL_LINK_DEL:
		rc = braidd_link_del(d, name, msg, len);
		break;
	case CTL_LINK_SET:
		for (unsigned i = 3; i < r->argc && rc == 0; i++)
			rc = braidd_link_set(d, name, r->argv[i], msg, len);
		break;
	default:
		return EINVAL;
	}
	if (rc < 0) {
		size_t k = strlen(msg);

		if (k + 1 < len) {
			msg[k] = '\n';
			msg[k + 1] = '\0';
		}
		return -rc;
	}
	return 0;
}

static void ctl_serve(struct braidd *d, int lfd)
{
	char msg[512];
	static char reply[CTL_REPLY_MAX];
	char req[CTL_LINE_MAX + 1];
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct ctl_req r;
	size_t off, n = 0;
	ssize_t got;
	int fd, err = 0;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0 ||
	    (cr.uid != 0 && cr.uid != geteuid() && cr.gid != getegid())) {
		err = EACCES;
	} else {
		got = ctl_read(fd, req, sizeof(req));
		err = got < 0 ? (int)-got : -ctl_parse(req, (size_t)got, &r);
	}
	msg[0] = '\0';
	if (!err && (r.cmd == CTL_LINK_ADD || r.cmd == CTL_LINK_DEL || r.cmd == CTL_LINK_SET))
		err = ctl_link(d, &r, msg, sizeof(msg));
	off = (size_t)snprintf(reply, sizeof(reply), "%d %s\n%s", err, ctl_errname(err), msg);
	if (!err) {
		switch (r.cmd) {
		case CTL_STATS:
			n = report_text(d, reply + off, sizeof(reply) - off);
			break;
		case CTL_STATS_JSON:
			n = report_json(d, reply + off, sizeof(reply) - off);
			if (n + 1 < sizeof(reply) - off)
				reply[off + n++] = '\n';
			break;
		case CTL_STATS_RAW:
			n = report_raw(d, reply + off, sizeof(reply) - off);
			break;
		case CTL_METRICS:
			n = report_prometheus(d, reply + off, sizeof(reply) - off);
			break;
		case CTL_LINK_LIST:
			n = report_links(d, reply + off, sizeof(reply) - off);
			break;
		case CTL_VERSION:
			n = (size_t)snprintf(reply + off, sizeof(reply) - off, "braidd %s\n",
					     BRAID_VERSION);
			break;
		case CTL_LINK_ADD:
		case CTL_LINK_DEL:
		case CTL_LINK_SET:
			break;
		}
		if (n >= sizeof(reply) - off) {
			off = (size_t)snprintf(reply, sizeof(reply), "%d %s\n", ENOBUFS,
					       ctl_errname(ENOBUFS));
			n = 0;
		}
	}
	ctl_write_all(fd, reply, off + n);
	ctl_close(fd);
}

/* --- GET /metrics over HTTP ---------------------------------------------------
 * For a Prometheus server to scrape (metrics-listen = 127.0.0.1:9469): the
 * same text as braidctl metrics, HTTP/1.0, one request per connection, served
 * by the main thread like the control socket. */
static int http_listen(const union braid_addr *a, char *err, size_t errlen)
{
	char as[64];
	int fd, one = 1;

	fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, &a->sa, addr_len(a)) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		snprintf(err, errlen, "metrics-listen %s: %s",
			 addr_format(a, as, sizeof(as)), strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static void http_serve(const struct braidd *d, int lfd)
{
	static char body[CTL_REPLY_MAX];
	char req[4096], head[256];
	const char *status = "200 OK";
	size_t n = 0, h;
	ssize_t got;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	/* The request line is all that matters; it comes first. */
	got = ctl_read(fd, req, sizeof(req) - 1);
	if (got < 0) {
		status = got == -ETIMEDOUT ? "408 Request Timeout" : "400 Bad Request";
	} else {
		req[got] = '\0';
		if (strncmp(req, "GET ", 4) != 0 && strncmp(req, "HEAD ", 5) != 0)
			status = "405 Method Not Allowed";
		else if (strncmp(req + (req[0] == 'G' ? 4 : 5), "/metrics ", 9) != 0 &&
			 strncmp(req + (req[0] == 'G' ? 4 : 5), "/metrics\r", 9) != 0)
			status = "404 Not Found";
	}
	if (status[0] == '2') {
		n = report_prometheus(d, body, sizeof(body));
		if (n >= sizeof(body)) {
			status = "500 Internal Server Error";
			n = 0;
		}
		if (req[0] == 'H')
			n = 0;
	}
	h = (size_t)snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
			     "Content-Length: %zu\r\nConnection: close\r\n\r\n", status,
			     status[0] == '2' ? "text/plain; version=0.0.4; charset=utf-8" :
			     "text/plain", n);
	ctl_write_all(fd, head, h);
	ctl_write_all(fd, body, n);
	ctl_close(fd);
}

/* What this build can do, for --version. */
#ifdef BRAID_DPDK
#define BRAID_FEATURES "dpdk"
#else
#define BRAID_FEATURES "no dpdk"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: braidd -c FILE [--check] [-v] [-q]\n"
		"\n"
		"Carries an application's UDP datagrams across several links at once, as\n"
		"the edge or the hub of a bond (the config file's [bond] role).\n"
		"\n"
		"  -c, --config FILE  the configuration (INI; see docs/config.md)\n"
		"      --check        validate FILE and its key file, name the line of any\n"
		"                     error, and exit: 0 if good, 1 if not\n"
		"  -v, --verbose      log more (debug)\n"
		"  -q, --quiet        log only warnings and errors\n"
		"  -V, --version      print the version, and whether DPDK is built in\n"
		"  -h, --help         this text\n"
		"\n"
		"Runs in the foreground and logs to stderr. With stats-interval set, and\n"
		"once at exit, prints the counters as a line 'stats {JSON}' on stderr.\n"
		"braidctl reads them any time, as a table, JSON or Prometheus metrics,\n"
		"through the control socket (the config's control, by default\n"
		"/run/braid/NAME.sock for NAME.conf), and adds, deletes and changes\n"
		"links there while it runs (braidctl link --help).\n"
		"With user = NAME in [bond], it becomes NAME once set up (start it as root).\n"
		"A hub's destination may be UDP, tcp:// or dpdk-tcp:// (docs/config.md).\n"
		"SIGTERM or SIGINT drains what is in flight and exits 0.\n");
}

static void print_stats(const struct braidd *d)
{
	/* 16 links of 31-byte names with every counter near 2^64 need about
	 * 17 KiB; a line that does not fit is not written. */
	static char buf[32768];
	size_t n = report_json(d, buf, sizeof(buf));

	if (n < sizeof(buf))
		fprintf(stderr, "stats %s\n", buf);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct braidd d;
	const char *path = NULL;
	bool check = false;
	char err[512];
	uint64_t next_stats, next_wd;
	char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	sigset_t sigs;
	const struct passwd *pw;
	struct ctlsock cs;
	int opt, r, sfd, hfd;

	while ((opt = getopt_long(argc, argv, "c:vqVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'q':
			log_level = LOG_WARN;
			break;
		case 'V':
			printf("braidd %s (%s)\n", BRAID_VERSION, BRAID_FEATURES);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}

	if (config_load(path, &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		uint8_t psk[BRAID_KEY_LEN];

		if (crypto_init() < 0 || crypto_key_load(d.cfg.key_path, psk, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: %s\n", path, err);
			return 1;
		}
		crypto_wipe(psk, sizeof(psk));
#ifndef BRAID_DPDK
		if (d.cfg.dest_kind == DEST_DPDK_TCP) {
			fprintf(stderr, "%s: dpdk-tcp:// needs a braidd built with DPDK; this one "
				"was built without it (braidd --version says)\n", path);
			return 1;
		}
#endif
		printf("%s: ok (%s, %u link%s, mode %s)\n", path,
		       d.cfg.role == ROLE_EDGE ? "edge" : "hub", d.cfg.nlinks,
		       d.cfg.nlinks == 1 ? "" : "s", sched_mode_name(d.cfg.mode));
		return 0;
	}

	/* The workers inherit this mask; only the main thread takes signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = braidd_setup(&d, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		braidd_teardown(&d);
		return 1;
	}
	if (d.cfg.control_path[0])
		snprintf(ctl_path, sizeof(ctl_path), "%s", d.cfg.control_path);
	else
		ctl_default_path(path, ctl_path, sizeof(ctl_path));
	pw = d.cfg.user[0] ? getpwnam(d.cfg.user) : NULL;
	r = ctlsock_open(&cs, ctl_path, pw ? pw->pw_uid : (uid_t)-1, err, sizeof(err));
	if (r == -EPERM) {
		/* Set up, the socket would be someone else's to move or replace. */
		log_err("%s", err);
		braidd_teardown(&d);
		return 1;
	}
	if (r < 0)
		log_warn("%s: no control socket (braidctl cannot reach this braidd)", err);
	else
		log_info("control socket %s", ctl_path);
	hfd = -1;
	if (d.cfg.has_metrics_listen) {
		hfd = http_listen(&d.cfg.metrics_listen, err, sizeof(err));
		if (hfd < 0)
			log_warn("%s: no /metrics over HTTP", err);
	}
	/* Everything that needs root is done; the workers start as the user. */
	r = d.cfg.user[0] ? drop_privileges(d.cfg.user, &cs, err, sizeof(err)) : 0;
	if (r == 0)
		r = braidd_start(&d, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		ctlsock_close(&cs);
		if (hfd >= 0)
			close(hfd);
		braidd_teardown(&d);
		return 1;
	}
	log_info("%s ready: %u link%s, %u worker%s, mode %s, latency budget %llu ms",
		 d.cfg.role == ROLE_EDGE ? "edge" : "hub", d.cfg.nlinks, d.cfg.nlinks == 1 ? "" : "s",
		 d.nworkers, d.nworkers == 1 ? "" : "s", sched_mode_name(d.cfg.mode),
		 (unsigned long long)(d.cfg.budget_ns / 1000000));
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	notify_ready(&d);
	next_stats = mono_ns() + d.cfg.stats_interval_ns;
	next_wd = mono_ns() + wd_ns;
	for (;;) {
		uint64_t now = mono_ns(), until = now + 1000000000ull, iv;
		struct pollfd pf[3] = { { .fd = sfd, .events = POLLIN },
					{ .fd = cs.fd, .events = POLLIN },
					{ .fd = hfd, .events = POLLIN } };
		struct signalfd_siginfo si;
		int sig = 0;

		if (d.cfg.stats_interval_ns && next_stats < until)
			until = next_stats;
		if (wd_ns && next_wd < until)
			until = next_wd;
		iv = until > now ? until - now : 0;
		if (poll(pf, 3, (int)((iv + 999999) / 1000000)) > 0) {
			if ((pf[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si))
				sig = (int)si.ssi_signo;
			if (pf[1].revents & POLLIN)
				ctl_serve(&d, cs.fd);
			if (pf[2].revents & POLLIN)
				http_serve(&d, hfd);
		}
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: draining", sig);
			break;
		}
		braidd_links_reap(&d);
		now = mono_ns();
		if (d.cfg.stats_interval_ns && now >= next_stats) {
			print_stats(&d);
			next_stats += d.cfg.stats_interval_ns;
			if (next_stats <= now)
				next_stats = now + d.cfg.stats_interval_ns;
		}
		if (wd_ns && now >= next_wd) {
			notify_watchdog(&d, now);
			next_wd = now + wd_ns;
		}
	}
	notify_stopping();
	ctlsock_close(&cs);
	if (sfd >= 0)
		close(sfd);
	if (hfd >= 0)
		close(hfd);
	braidd_stop(&d);
	print_stats(&d);
	braidd_teardown(&d);
	return 0;
}
