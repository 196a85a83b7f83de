/* The replay main() of the fuzz harnesses built with -DFUZZ_STANDALONE (no
 * libFuzzer): include it at the end of a harness, with FUZZ_HARNESS defined
 * to its name, after LLVMFuzzerTestOneInput. */
#ifndef BRAID_FUZZ_REPLAY_H
#define BRAID_FUZZ_REPLAY_H

/* Replays files through the target once each, without libFuzzer. Each input
 * gets a heap buffer of exactly its size so ASan sees any over-read. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int ran = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;
			char path[4096];

			if (!d) {
				perror(argv[i]);
				failed++;
				continue;
			}
			while ((e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
				if (run_file(path) < 0)
					failed++;
				else
					ran++;
			}
			closedir(d);
		} else if (run_file(argv[i]) < 0) {
			failed++;
		} else {
			ran++;
		}
	}
	fprintf(stderr, FUZZ_HARNESS ": ran %d inputs, %d unreadable\n", ran, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
