/* braidctl: talks to a running braidd over its control socket (src/ctl.h).
 *
 *   braidctl [-s SOCKET | -n NAME] stats [--json]
 *   braidctl [-s SOCKET | -n NAME] metrics | link list | version
 *   braidctl [-s SOCKET | -n NAME] link add NAME KEY=VALUE... | link del NAME
 *   braidctl [-s SOCKET | -n NAME] link set NAME weight=N|auto|state=up|down
 *   braidctl [-s SOCKET | -n NAME] top [-i SECONDS] [-c COUNT]
 *   braidctl genkey
 *
 * Without -s or -n it uses the only socket in /run/braid/. Exit status: 0 ok,
 * 1 braidd refused the request (its errno-style status is printed), 2 bad
 * usage, 3 no braidd to talk to (the socket path tried is printed). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"
#include "top.h"

#define RUN_DIR "/run/braid"
#define IO_MS 2000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: braidctl [-s SOCKET | -n NAME] COMMAND\n"
		"\n"
		"Commands, answered by a running braidd:\n"
		"  stats            the counters, per bond and per link, as a table\n"
		"  stats --json     the same as the JSON object of braidd's stats line\n"
		"  metrics          the counters in the Prometheus text format\n"
		"  link list        the links: state, weight, RTT, jitter, capacity, delay,\n"
		"                   queue, loss, times down\n"
		"  link add NAME local=ADDR [remote=ADDR] [weight=N|auto] [device=DEV]\n"
		"           [priority=N] [id=N]\n"
		"                   a new link, in the schedule once its first probe is answered\n"
		"  link del NAME    take a link out: drained, then closed\n"
		"  link set NAME weight=N|auto | state=up|down\n"
		"                   change a link's weight, or take it out of service and back\n"
		"  top [-i SECONDS] [-c COUNT]\n"
		"                   a live view of the bond and its links, redrawn every\n"
		"                   SECONDS (default 1); COUNT frames, or until Ctrl-C\n"
		"  version          braidd's version\n"
		"and one it answers itself:\n"
		"  genkey           print a new random key (base64 of 32 bytes) for a key file\n"
		"\n"
		"  -s SOCKET        braidd's control socket (its config's control = ...)\n"
		"  -n NAME          the socket of the bond configured in NAME.conf:\n"
		"                   " RUN_DIR "/NAME.sock\n"
		"  (neither: the only socket in " RUN_DIR "/)\n"
		"\n"
		"Exit status: 0 ok, 1 braidd refused the request, 2 bad usage, 3 no braidd\n"
		"to talk to.\n");
}

static int genkey(void)
{
	unsigned char key[32];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];

	if (sodium_init() < 0 || getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		fprintf(stderr, "braidctl: no randomness for a key\n");
		return 1;
	}
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
	printf("%s\n", b64);
	sodium_memzero(b64, sizeof(b64));
	return 0;
}

/* The only *.sock in RUN_DIR, or an error that lists what is there. */
static int find_socket(char *out, size_t len)
{
	DIR *dir = opendir(RUN_DIR);
	struct dirent *e;
	int n = 0;

	if (!dir) {
		fprintf(stderr, "braidctl: no braidd to talk to: %s: %s (is braidd running? "
			"give -s SOCKET)\n", RUN_DIR, strerror(errno));
		return -1;
	}
	while ((e = readdir(dir))) {
		size_t k = strlen(e->d_name);

		if (k > 5 && strcmp(e->d_name + k - 5, ".sock") == 0) {
			if (n++ == 0)
				snprintf(out, len, "%s/%s", RUN_DIR, e->d_name);
			else
				fprintf(stderr, "%s%s/%s", n == 2 ? "braidctl: more than one braidd: "
					: ", ", RUN_DIR, e->d_name);
		}
	}
	closedir(dir);
	if (n == 0) {
		fprintf(stderr, "braidctl: no braidd to talk to: no socket in %s (is braidd "
			"running? give -s SOCKET)\n", RUN_DIR);
		return -1;
	}
	if (n > 1) {
		fprintf(stderr, " (and %s); pick one with -s or -n\n", out);
		return -1;
	}
	return 0;
}

/* Connects to braidd at path and sends line: the socket, or minus the exit
 * status (2 bad path, 3 no braidd) with a sentence in err. */
static int dial(const char *path, const char *line, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -2;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "no braidd to talk to at %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -3;
	}
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -3;
	}
	return fd;
}

/* Sends line, prints the body of the reply; the exit status. */
static int request(const char *path, const char *line);

/* `braidctl COMMAND --help` for the commands without options of their own. */
static int cmd_help(const char *cmd)
{
	static const struct {
		const char *cmd, *text;
	} help[] = {
		{ "stats", "usage: braidctl stats [--json]\n\n"
		  "The counters, per bond and per link, as a table; with --json, the JSON\n"
		  "object of braidd's stats line (its schema is in the README).\n" },
		{ "metrics", "usage: braidctl metrics\n\n"
		  "The counters in the Prometheus text exposition format (counters named\n"
		  "braid_..._total, per-link series labelled link=\"NAME\").\n" },
		{ "link list", "usage: braidctl link list\n\n"
		  "One line per link: its id, state (up, probing, down, disabled, draining),\n"
		  "weight (auto:N when braidd sets it), RTT, jitter; what the peer's feedback\n"
		  "says of it: capacity (- while unknown), one-way delay above the fastest\n"
		  "link's, standing queue; the loss estimate from probes and data (p+d_loss),\n"
		  "the data lost each way (tx_loss: ours the peer lost, rx_loss: the peer's we\n"
		  "lost); times down.\n" },
		{ "version", "usage: braidctl version\n\nThe running braidd's version.\n" },
		{ "genkey", "usage: braidctl genkey\n\n"
		  "Prints a new random key, base64 of 32 bytes, for a key file:\n"
		  "  braidctl genkey > /etc/braid/bond.key && chmod 600 /etc/braid/bond.key\n" },
		{ "help", "usage: braidctl help\n\nThe list of commands.\n" },
	};

	for (size_t k = 0; k < sizeof(help) / sizeof(help[0]); k++) {
		if (!strcmp(cmd, help[k].cmd)) {
			fputs(help[k].text, stdout);
			return 0;
		}
	}
	fprintf(stderr, "braidctl: unknown command '%s' (braidctl --help lists them)\n", cmd);
	return 2;
}

static const struct {
	const char *sub, *usage;
	int min, max;		/* words after NAME */
} link_cmds[] = {
	{ "add",
	  "usage: braidctl link add NAME local=ADDR [remote=ADDR] [weight=N|auto]\n"
	  "                [device=DEV] [priority=N] [id=N]\n"
	  "\n"
	  "Adds a link to the running bond: the keys of a [link NAME] section in\n"
	  "braid.conf(5). remote is required on an edge; a hub learns it. The link\n"
	  "joins the schedule once its first probe is answered, so add it on the hub\n"
	  "first. It gets the lowest free id unless id=N is given; the two ends must\n"
	  "give a link the same id (adding links in the same order on both does).\n"
	  "Errors: EEXIST (the name or id is taken), EBUSY (a link of that name is\n"
	  "still draining), EINVAL (a bad key or address), EADDRINUSE, ENOSPC.\n", 1, 7 },
	{ "del",
	  "usage: braidctl link del NAME\n"
	  "\n"
	  "Deletes a link without loss: it leaves the schedule at once, the peer is\n"
	  "told to stop using it, and it keeps receiving what is already on its way\n"
	  "for about two round trips before its socket closes and its id is free.\n"
	  "Errors: ENOENT (no such link), EALREADY (being deleted).\n", 0, 0 },
	{ "set",
	  "usage: braidctl link set NAME weight=N|auto\n"
	  "       braidctl link set NAME state=up|down\n"
	  "\n"
	  "weight: a share of the traffic in aggregate mode (0..1000, 0: standby), in effect from\n"
	  "the link's next scheduler visit; auto sets it from the link's loss and\n"
	  "round trip against the best link's. state=down takes the link out of\n"
	  "service both ways (the peer is told) until state=up, when it probes its\n"
	  "way back. Both keys may be given at once. Errors: ENOENT, EINVAL.\n", 1, 2 },
};

/* braidctl link add|del|set NAME ...: one request line of the words. */
static int link_main(char *path, size_t pathlen, int argc, char **argv)
{
	char line[CTL_LINE_MAX + 1];
	size_t off = 0;
	unsigned c = 0;

	while (c < sizeof(link_cmds) / sizeof(link_cmds[0]) && strcmp(argv[0], link_cmds[c].sub))
		c++;
	if (c == sizeof(link_cmds) / sizeof(link_cmds[0])) {
		if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
			printf("usage: braidctl link list | add | del | set ...   "
			       "(braidctl link COMMAND --help)\n");
			return 0;
		}
		fprintf(stderr, "braidctl: unknown command 'link %s' (list, add, del, set)\n",
			argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(link_cmds[c].usage, stdout);
			return 0;
		}
	}
	if (argc < 2 + link_cmds[c].min || argc > 2 + link_cmds[c].max) {
		fputs(link_cmds[c].usage, stderr);
		return 2;
	}
	off = (size_t)snprintf(line, sizeof(line), "link");
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (n == 0 || n > CTL_WORD_MAX || strpbrk(argv[i], " \t\n") ||
		    off + 1 + n + 2 > sizeof(line)) {
			fprintf(stderr, "braidctl: bad word '%s' (1..%d characters, no spaces)\n",
				argv[i], CTL_WORD_MAX);
			return 2;
		}
		line[off++] = ' ';
		memcpy(line + off, argv[i], n);
		off += n;
	}
	line[off++] = '\n';
	line[off] = '\0';
	if (!path[0] && find_socket(path, pathlen) < 0)
		return 3;
	return request(path, line);
}

static int request(const char *path, const char *line)
{
	char buf[65536], *nl, err[512];
	size_t got = 0, hdr;
	int fd, status;
	FILE *out = stdout;

	fd = dial(path, line, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "braidctl: %s\n", err);
		return -fd;
	}
	/* The status line first, then the body as it comes. */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, IO_MS) <= 0) {
			fprintf(stderr, "braidctl: %s: no answer within %d ms\n", path, IO_MS);
			close(fd);
			return 3;
		}
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		nl = strchr(buf, '\n');
		if (nl)
			break;
		if (got == sizeof(buf) - 1)
			break;
	}
	buf[got] = '\0';
	nl = strchr(buf, '\n');
	if (!nl || sscanf(buf, "%d", &status) != 1) {
		fprintf(stderr, "braidctl: %s: not a braidd answer\n", path);
		close(fd);
		return 3;
	}
	hdr = (size_t)(nl - buf) + 1;
	if (status != 0) {
		/* The body, if any, says what is wrong in braidd's words. */
		char *why = buf + hdr;

		while (got < sizeof(buf) - 1) {
			ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
		buf[got] = '\0';
		why[strcspn(why, "\n")] = '\0';
		fprintf(stderr, "braidctl: braidd refused '%.*s': %.*s (%s)%s%s\n",
			(int)strcspn(line, "\n"), line, (int)(nl - buf), buf, strerror(status),
			*why ? ": " : "", why);
		close(fd);
		return 1;
	}
	fwrite(buf + hdr, 1, got - hdr, out);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, out);
	}
	close(fd);
	return fflush(out) == 0 ? 0 : 1;
}

/* --- top ------------------------------------------------------------------------
 * A live view, from `stats raw` (src/ctl.h) once per interval: tools/lib/top.c
 * parses and draws a frame as plain lines; here it goes to the terminal over
 * the last one (cursor home, each line erased to its end, the rest of the
 * screen erased below it: nothing flickers), or, when stdout is not a
 * terminal, as plain frames separated by a blank line. */

#define TOP_REPLY_MAX (64u << 10)
#define TOP_FRAME_MAX (128u << 10)
#define TOP_INTERVAL_MIN 0.05
#define TOP_INTERVAL_MAX 3600.0
#define TOP_COUNT_MAX 1000000000ul

static volatile sig_atomic_t top_quit, top_resized, top_suspend;
static bool top_tty, top_drawn;

static void top_usage(FILE *f)
{
	fprintf(f,
		"usage: braidctl [-s SOCKET | -n NAME] top [-i SECONDS] [-c COUNT]\n"
		"\n"
		"A live view of braidd's bond and links, redrawn every SECONDS until Ctrl-C.\n"
		"Per link: throughput sent and received (Mbit/s, packets/s), RTT, jitter, loss,\n"
		"weight (\"auto\" when braidd sets it), state; what the peer's feedback says of\n"
		"it: capacity, one-way delay above the fastest link's, queue, data lost each\n"
		"way; and bars of each link's share of the bytes on all links. On top, the\n"
		"bond: delivered per second, lost, rebuilt by FEC, NACKs. Rates are\n"
		"differences between two frames, so the first frame and a link new since the\n"
		"last one show none (\"-\"). When stdout is not a terminal, plain frames,\n"
		"separated by a blank line.\n"
		"\n"
		"  -i SECONDS       time between frames (default 1; fractions such as 0.2 too;\n"
		"                   %g to %g)\n"
		"  -c COUNT         stop after COUNT frames\n"
		"  -h, --help       this help\n", TOP_INTERVAL_MIN, TOP_INTERVAL_MAX);
}

static void top_on_signal(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else if (sig == SIGTSTP)
		top_suspend = 1;
	else
		top_quit = 1;
}

static void top_signals(void)
{
	/* SA_RESTART restarts reads and writes; poll() and clock_nanosleep()
	 * still return EINTR, which is where the loop looks at the flags. */
	struct sigaction sa = { .sa_handler = top_on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (top_tty) {
		sigaction(SIGWINCH, &sa, NULL);
		sigaction(SIGTSTP, &sa, NULL);
	}
}

static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(STDOUT_FILENO, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The cursor hidden while frames are drawn, shown again on the way out (and
 * while stopped), with the prompt on the line below the last frame. */
static void top_cursor(bool show)
{
	static const char hide[] = "\033[?25l", unhide[] = "\033[?25h\n";

	if (top_tty)
		(void)write_all(show ? unhide : hide, show ? sizeof(unhide) - (top_drawn ? 1 : 2) :
				sizeof(hide) - 1);
}

static void term_size(unsigned *cols, unsigned *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if (top_tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* Asks braidd at path for line; on success *body and *blen are the reply's
 * body, inside buf. The exit status (0 ok, 1 refused, 3 no braidd, with a
 * sentence in err), or -1 if a signal asked to quit meanwhile. */
static int fetch(const char *path, const char *line, char *buf, size_t len,
		 const char **body, size_t *blen, char *err, size_t errlen)
{
	size_t got = 0;
	char *nl;
	int fd, status;

	fd = dial(path, line, err, errlen);
	if (fd < 0)
		return -fd;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, IO_MS);
		ssize_t n;

		if (pr < 0 && errno == EINTR && !top_quit)
			continue;
		if (pr <= 0) {
			close(fd);
			if (top_quit)
				return -1;
			snprintf(err, errlen, "%s: no answer within %d ms", path, IO_MS);
			return 3;
		}
		if (got == len - 1) {
			close(fd);
			snprintf(err, errlen, "%s: answer longer than %zu bytes", path, len - 1);
			return 3;
		}
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	nl = memchr(buf, '\n', got);
	if (!nl || sscanf(buf, "%d", &status) != 1) {
		snprintf(err, errlen, "%s: not a braidd answer", path);
		return 3;
	}
	if (status != 0) {
		snprintf(err, errlen, "braidd refused '%.*s': %.*s (%s)%s",
			 (int)strcspn(line, "\n"), line, (int)(nl - buf), buf, strerror(status),
			 status == ENOENT ? "; is braidd older than this braidctl?" : "");
		return 1;
	}
	*body = nl + 1;
	*blen = got - (size_t)(nl + 1 - buf);
	return 0;
}

/* Draws the frame for b (rates since a) for the terminal, or as plain text
 * after a blank line unless it is the first. 0, or -1 if stdout failed. */
static int top_show(const struct top_snap *a, const struct top_snap *b, double interval,
		    bool first)
{
	static char frame[TOP_FRAME_MAX], out[TOP_FRAME_MAX + 8192];
	struct top_view v = { .interval_s = interval };
	char clock[16];
	struct tm tm;
	time_t t = time(NULL);
	unsigned cols, rows, nlines = 0;
	size_t n, o = 0;

	term_size(&cols, &rows);
	/* One column spare on a terminal: a line that fills the last column
	 * leaves the cursor waiting to wrap, and erasing to the end of the line
	 * from there takes the last character with it. */
	v.width = top_tty ? cols - 1 : cols;
	if (localtime_r(&t, &tm) && strftime(clock, sizeof(clock), "%H:%M:%S", &tm))
		v.clock = clock;
	n = top_render(a, b, &v, frame, sizeof(frame));
	if (n >= sizeof(frame))
		n = sizeof(frame) - 1;
	if (!top_tty) {
		if (!first && write_all("\n", 1) < 0)
			return -1;
		return write_all(frame, n);
	}
	/* Home, then each line erased to its end, then the screen below the last
	 * one erased; no more lines than rows, so that the screen never scrolls. */
	memcpy(out + o, "\033[H", 3);
	o += 3;
	for (size_t i = 0; i < n && nlines < rows; nlines++) {
		size_t k = strcspn(frame + i, "\n"), w = k < cols ? k : cols - 1;

		if (o + k + 8 > sizeof(out))
			break;
		if (nlines)
			out[o++] = '\n';
		/* Cut again on a terminal narrower than a frame can be. */
		memcpy(out + o, frame + i, w);
		o += w;
		memcpy(out + o, "\033[K", 3);
		o += 3;
		i += k + 1;
	}
	memcpy(out + o, "\033[J", 3);
	o += 3;
	top_drawn = true;
	return write_all(out, o);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleeps until `until` (monotonic ns), or until a signal sets a flag. The
 * flags are looked at with the signals blocked and ppoll() unblocks them as
 * it starts to wait, so that a signal in between cannot be slept through. */
static void top_sleep(uint64_t until)
{
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGTSTP);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (;;) {
		uint64_t now = now_ns();
		struct timespec ts;

		if (top_quit || top_resized || top_suspend || now >= until)
			break;
		ts.tv_sec = (time_t)((until - now) / 1000000000ull);
		ts.tv_nsec = (long)((until - now) % 1000000000ull);
		ppoll(NULL, 0, &ts, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Stops on ^Z with the terminal as it was, and picks up again on fg. */
static void top_stop(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, sa = { .sa_handler = top_on_signal,
								  .sa_flags = SA_RESTART };

	top_cursor(true);
	sigemptyset(&dfl.sa_mask);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &dfl, NULL);
	raise(SIGTSTP);
	sigaction(SIGTSTP, &sa, NULL);
	top_cursor(false);
}

static int top_run(const char *path, double interval, unsigned long count)
{
	static struct top_snap snap[2];
	static char reply[TOP_REPLY_MAX];
	const struct top_snap *a = NULL, *b = NULL;	/* the last two drawn */
	uint64_t step = (uint64_t)(interval * 1e9 + 0.5), next;
	char err[512] = "";
	int rc = 0;

	top_tty = isatty(STDOUT_FILENO);
	top_signals();
	top_cursor(false);
	next = now_ns();
	for (unsigned long frames = 0; !top_quit;) {
		struct top_snap *cur = b == &snap[0] ? &snap[1] : &snap[0];
		const char *body;
		size_t blen;
		unsigned bad;
		int e;

		rc = fetch(path, "stats raw\n", reply, sizeof(reply), &body, &blen, err,
			   sizeof(err));
		if (rc) {
			if (rc < 0)
				rc = 0;
			break;
		}
		e = top_parse(body, blen, cur, &bad);
		if (e) {
			if (e == -E2BIG)
				snprintf(err, sizeof(err), "braidd reported more than %d links",
					 TOP_LINKS_MAX);
			else
				snprintf(err, sizeof(err), "braidd's 'stats raw' answer is malformed "
					 "(line %u)", bad);
			rc = 3;
			break;
		}
		a = b;
		b = cur;
		if (top_show(a, b, interval, frames == 0) < 0) {
			snprintf(err, sizeof(err), "stdout: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (++frames == count)
			break;
		/* The next frame on the interval's beat, or a whole interval from
		 * now if braidd was slow to answer. */
		next += step;
		if (next <= now_ns())
			next = now_ns() + step;
		while (!top_quit) {
			top_sleep(next);
			if (top_suspend) {
				top_suspend = 0;
				top_stop();
				top_resized = 1;
			}
			if (!top_resized)
				break;
			top_resized = 0;
			(void)top_show(a, b, interval, false);
		}
	}
	top_cursor(true);
	if (err[0])
		fprintf(stderr, "braidctl: %s\n", err);
	return rc;
}

/* braidctl top [-i SECONDS] [-c COUNT]: args are what follows "top". */
static int top_main(char *path, size_t pathlen, int argc, char **argv)
{
	double interval = 1;
	unsigned long count = 0;

	for (int k = 0; k < argc; k++) {
		const char *a = argv[k];
		char *end;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			top_usage(stdout);
			return 0;
		} else if (!strcmp(a, "-i") && k + 1 < argc) {
			a = argv[++k];
			errno = 0;
			interval = strtod(a, &end);
			if (errno || end == a || *end || !isfinite(interval) ||
			    interval < TOP_INTERVAL_MIN || interval > TOP_INTERVAL_MAX) {
				fprintf(stderr, "braidctl: top -i takes seconds, %g to %g: '%s'\n",
					TOP_INTERVAL_MIN, TOP_INTERVAL_MAX, a);
				return 2;
			}
		} else if (!strcmp(a, "-c") && k + 1 < argc) {
			a = argv[++k];
			errno = 0;
			count = strtoul(a, &end, 10);
			if (errno || end == a || *end || a[0] < '0' || a[0] > '9' || count == 0 ||
			    count > TOP_COUNT_MAX) {
				fprintf(stderr, "braidctl: top -c takes a count of frames, 1 to %lu: "
					"'%s'\n", TOP_COUNT_MAX, a);
				return 2;
			}
		} else {
			top_usage(stderr);
			return 2;
		}
	}
	if (!path[0] && find_socket(path, pathlen) < 0)
		return 3;
	return top_run(path, interval, count);
}

int main(int argc, char **argv)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 64] = "";
	const char *cmd;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			snprintf(path, sizeof(path), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			if (strchr(argv[i + 1], '/')) {
				fprintf(stderr, "braidctl: -n takes a name, not a path: %s\n", argv[i + 1]);
				return 2;
			}
			snprintf(path, sizeof(path), "%s/%s.sock", RUN_DIR, argv[++i]);
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i++];
	/* COMMAND --help: that command's usage (link and top have their own). */
	if (strcmp(cmd, "link") != 0 && strcmp(cmd, "top") != 0) {
		for (int k = i; k < argc; k++) {
			if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h"))
				return cmd_help(cmd);
		}
	} else if (!strcmp(cmd, "link") && i < argc && !strcmp(argv[i], "list") &&
		   i + 1 < argc && (!strcmp(argv[i + 1], "--help") || !strcmp(argv[i + 1], "-h"))) {
		return cmd_help("link list");
	}
	if (!strcmp(cmd, "genkey") && i == argc)
		return genkey();
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "top"))
		return top_main(path, sizeof(path), argc - i, argv + i);
	if (!strcmp(cmd, "link") && i < argc && strcmp(argv[i], "list") != 0)
		return link_main(path, sizeof(path), argc - i, argv + i);
	{
		const char *line = NULL;

		if (!strcmp(cmd, "stats") && i == argc)
			line = "stats\n";
		else if (!strcmp(cmd, "stats") && i + 1 == argc && !strcmp(argv[i], "--json"))
			line = "stats json\n";
		else if (!strcmp(cmd, "metrics") && i == argc)
			line = "metrics\n";
		else if (!strcmp(cmd, "link") && i + 1 == argc && !strcmp(argv[i], "list"))
			line = "link list\n";
		else if (!strcmp(cmd, "version") && i == argc)
			line = "version\n";
		if (!line) {
			fprintf(stderr, "braidctl: unknown command '%s%s%s' (braidctl --help lists "
				"them)\n", cmd, i < argc ? " " : "", i < argc ? argv[i] : "");
			return 2;
		}
		if (!path[0] && find_socket(path, sizeof(path)) < 0)
			return 3;
		return request(path, line);
	}
}
