/* braidctl: talks to a running braidd over its control socket (src/ctl.h).
 *
 *   braidctl [-s SOCKET | -n NAME] stats [--json]
 *   braidctl [-s SOCKET | -n NAME] metrics | link list | version
 *   braidctl genkey
 *
 * Without -s or -n it uses the only socket in /run/braid/. Exit status: 0 ok,
 * 1 braidd refused the request (its errno-style status is printed), 2 bad
 * usage, 3 no braidd to talk to (the socket path tried is printed). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "ctl.h"

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
		"  link list        the links: state, weight, RTT, jitter, loss, times down\n"
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

/* Sends line, prints the body of the reply; the exit status. */
static int request(const char *path, const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[65536], *nl;
	size_t got = 0, hdr;
	int fd, status;
	FILE *out = stdout;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "braidctl: socket path too long: %s\n", path);
		return 2;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "braidctl: no braidd to talk to at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 3;
	}
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "braidctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return 3;
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
		fprintf(stderr, "braidctl: braidd refused '%.*s': %.*s (%s)\n",
			(int)strcspn(line, "\n"), line, (int)(nl - buf), buf, strerror(status));
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
	if (!strcmp(cmd, "genkey") && i == argc)
		return genkey();
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
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
