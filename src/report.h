/* The counters as one line of JSON, read without stopping the workers. */
#ifndef BRAID_REPORT_H
#define BRAID_REPORT_H

#include <stddef.h>

#include "worker.h"

/* Writes the JSON object (no newline) into buf; returns its length, or the
 * length it needed if that is >= len (as snprintf). */
size_t report_json(const struct braidd *d, char *buf, size_t len);
const char *report_link_state(unsigned state);
/* The counters in the Prometheus text exposition format (version 0.0.4):
 * HELP and TYPE before each family, counters named braid_..._total, link
 * series labelled link="NAME". Same return as report_json. */
size_t report_prometheus(const struct braidd *d, char *buf, size_t len);
/* The counters as a table for people, per bond and per link. */
size_t report_text(const struct braidd *d, char *buf, size_t len);
/* One line per link: name, id, state, weight, RTT, jitter, the FEEDBACK
 * estimates (capacity, relative one-way delay, queue), the loss estimate
 * from probes and data, the data loss each way, times down. */
size_t report_links(const struct braidd *d, char *buf, size_t len);
/* The counters braidctl top needs, for a program to read without JSON: a
 * line "bond time_ns=N role=edge|hub KEY=N ...", then one line per link,
 * "link NAME KEY=N ... state=WORD down_events=N"; every line ends in '\n',
 * words are separated by single spaces. time_ns is braidd's monotonic clock,
 * for exact rates. The keys are listed in src/ctl.h. Same return as
 * report_json. */
size_t report_raw(const struct braidd *d, char *buf, size_t len);

#endif
