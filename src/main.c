/* braidd: the bonding relay daemon. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef BRAID_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "config.h"
#include "crypto.h"
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
		"  -V, --version      print the version\n"
		"  -h, --help         this text\n"
		"\n"
		"Runs in the foreground and logs to stderr. With stats-interval set, and\n"
		"once at exit, prints the counters as a line 'stats {JSON}' on stderr.\n"
		"SIGTERM or SIGINT drains what is in flight and exits 0.\n");
}

static void print_stats(const struct braidd *d)
{
	static char buf[16384];
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
	sigset_t sigs;
	int opt, r;

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
			printf("braidd %s\n", BRAID_VERSION);
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
	if (r == 0)
		r = braidd_start(&d, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		braidd_teardown(&d);
		return 1;
	}
	log_info("%s ready: %u link%s, %u worker%s, mode %s, latency budget %llu ms",
		 d.cfg.role == ROLE_EDGE ? "edge" : "hub", d.cfg.nlinks, d.cfg.nlinks == 1 ? "" : "s",
		 d.nworkers, d.nworkers == 1 ? "" : "s", sched_mode_name(d.cfg.mode),
		 (unsigned long long)(d.cfg.budget_ns / 1000000));

	notify_ready(&d);
	next_stats = mono_ns() + d.cfg.stats_interval_ns;
	next_wd = mono_ns() + wd_ns;
	for (;;) {
		uint64_t now = mono_ns(), until = now + 1000000000ull, iv;
		struct timespec ts;
		int sig;

		if (d.cfg.stats_interval_ns && next_stats < until)
			until = next_stats;
		if (wd_ns && next_wd < until)
			until = next_wd;
		iv = until > now ? until - now : 0;
		ts = (struct timespec){ .tv_sec = (time_t)(iv / 1000000000ull),
					.tv_nsec = (long)(iv % 1000000000ull) };
		sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: draining", sig);
			break;
		}
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
	braidd_stop(&d);
	print_stats(&d);
	braidd_teardown(&d);
	return 0;
}
