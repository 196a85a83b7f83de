/* The counters as one line of JSON, read without stopping the workers. */
#ifndef BRAID_REPORT_H
#define BRAID_REPORT_H

#include <stddef.h>

#include "worker.h"

/* Writes the JSON object (no newline) into buf; returns its length, or the
 * length it needed if that is >= len (as snprintf). */
size_t report_json(const struct braidd *d, char *buf, size_t len);
const char *report_link_state(unsigned state);

#endif
