/* braidd's control protocol: parsing and naming (see ctl.h). */
#include <errno.h>
#include <string.h>

#include "ctl.h"

static const struct {
	const char *words;	/* the command's words, space-separated */
	unsigned nwords;
	unsigned min_args, max_args;	/* words after the command's own */
	enum ctl_cmd cmd;
} commands[] = {
	{ "stats json", 2, 0, 0, CTL_STATS_JSON },
	{ "stats raw", 2, 0, 0, CTL_STATS_RAW },
	{ "stats", 1, 0, 0, CTL_STATS },
	{ "metrics", 1, 0, 0, CTL_METRICS },
	{ "link list", 2, 0, 0, CTL_LINK_LIST },
	{ "link add", 2, 2, CTL_ARGS_MAX - 2, CTL_LINK_ADD },
	{ "link del", 2, 1, 1, CTL_LINK_DEL },
	{ "link set", 2, 2, 3, CTL_LINK_SET },
	{ "version", 1, 0, 0, CTL_VERSION },
};

/* True if the first n words of req spell words. */
static int words_match(const struct ctl_req *req, const char *words, unsigned n)
{
	const char *w = words;

	if (req->argc < n)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		size_t k = strlen(req->argv[i]);

		if (strncmp(w, req->argv[i], k) != 0 || (w[k] != ' ' && w[k] != '\0'))
			return 0;
		w += k + (w[k] == ' ');
	}
	return 1;
}

int ctl_parse(char *buf, size_t len, struct ctl_req *req)
{
	size_t start = 0;
	int partial = 0;

	req->argc = 0;
	if (len == 0 || len > CTL_LINE_MAX || buf[len - 1] != '\n')
		return -EMSGSIZE;
	if (len == 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch == ' ' || ch == '\n') {
			if (i == start)
				return -EINVAL;	/* leading, doubled or trailing space */
			if (i - start > CTL_WORD_MAX)
				return -EMSGSIZE;
			if (req->argc == CTL_ARGS_MAX)
				return -EMSGSIZE;
			buf[i] = '\0';
			req->argv[req->argc++] = buf + start;
			start = i + 1;
			if (ch == '\n' && i != len - 1)
				return -EINVAL;	/* a second line */
		} else if (ch < 0x21 || ch > 0x7e) {
			return -EINVAL;
		}
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (!words_match(req, commands[c].words, commands[c].nwords)) {
			if (words_match(req, commands[c].words, 1))
				partial = 1;
			continue;
		}
		if (req->argc > commands[c].nwords + commands[c].max_args)
			return -E2BIG;
		if (req->argc < commands[c].nwords + commands[c].min_args)
			return -EINVAL;
		req->cmd = commands[c].cmd;
		return 0;
	}
	return partial ? -EINVAL : -ENOENT;
}

const char *ctl_errname(int err)
{
	switch (err) {
	case 0: return "ok";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case E2BIG: return "E2BIG";
	case EMSGSIZE: return "EMSGSIZE";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOBUFS: return "ENOBUFS";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EEXIST: return "EEXIST";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	case EALREADY: return "EALREADY";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENODEV: return "ENODEV";
	default: return "E?";
	}
}
