/* stderr logging; see log.h. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int log_level = LOG_INFO;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;

	if ((int)lvl > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines from several threads do not interleave. */
	fprintf(stderr, "braidd: %s: %s\n", names[lvl], line);
}
