# braid — multi-link UDP bonding relay.
#
#   make            build braidd, the tools and the test programs
#   make check      install missing Debian packages, build, run every test
#   make demo       install, build, run an edge and a hub over 3 links with live stats
#   make bench      benchmarks: scenario table (braid vs direct, forwarders, librist over
#                   emulated links), loopback latency/throughput/CPU, the TCP destinations
#                   (kernel vs DPDK), FEC (JSON + PNG out)
#   make SANITIZE=address,undefined check   the same tests under ASan + UBSan
#   make soak       ten minutes of traffic with loss and link churn (SOAK_SECONDS)
#   make bench-flap link health at 5% and 20% loss, and blackout detection
#   make check-repeat N=5   .ci/run on N fresh clones of HEAD in a row, each timed
#
#   make install    braidd, braid-linkem, braid-bench, the systemd unit, man pages and
#                   example configs, under PREFIX (default /usr/local) and DESTDIR
#
# Variables: V=1 (show commands), WERROR=1 (warnings are errors; CI sets it),
# SANITIZE=..., WITH_DPDK=0 (build without the dpdk-tcp:// destination even
# when pkg-config finds libdpdk), PREFIX, DESTDIR.

CC      ?= cc
CFLAGS  ?= -O2 -g
PKG_CONFIG ?= pkg-config
PREFIX  ?= /usr/local
.DEFAULT_GOAL := all

LIBS_CORE := liburing libsodium
LIBS_FEC  := libisal
LIBS_TEST := check

override CFLAGS += -std=gnu11 -pthread \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wvla -Wno-missing-field-initializers \
	-D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE \
	-MMD -MP -Iinclude -Isrc -Itools/lib
override LDFLAGS += -pthread -pie -Wl,-z,relro,-z,now

ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif

ifneq ($(SANITIZE),)
B := build-san
override CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SANITIZE)
# ASan brings its own allocator; jemalloc would hide every heap error from it.
JEMALLOC_LIBS :=
else
B := build
JEMALLOC_LIBS := $(shell $(PKG_CONFIG) --libs jemalloc 2>/dev/null)
override CFLAGS += -DBRAID_JEMALLOC
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_CORE) $(LIBS_FEC) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(LIBS_CORE) $(LIBS_FEC) 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_TEST) 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs $(LIBS_TEST) 2>/dev/null)
override CFLAGS += $(PKG_CFLAGS)

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

# --- libraries -------------------------------------------------------------
SCHED_SRC := $(wildcard sched/*.c)
FEC_SRC   := $(wildcard fec/*.c)
# Everything in src/ but the daemon's main() forms libbraid, which the tests,
# the simulator and the tools link against.
# src/dpdk.c (the dpdk-tcp:// destination's port) is braidd's alone and is
# built only with DPDK.
CORE_SRC  := $(filter-out src/main.c src/dpdk.c,$(wildcard src/*.c))

# DPDK: used when pkg-config finds libdpdk, unless WITH_DPDK=0. Its headers
# are system headers here, so braid's warnings stay braid's.
WITH_DPDK ?= $(if $(shell $(PKG_CONFIG) --exists libdpdk 2>/dev/null && echo y),1,0)
ifeq ($(WITH_DPDK),1)
DPDK_CFLAGS := $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags libdpdk)) -DBRAID_DPDK
DPDK_LIBS   := $(shell $(PKG_CONFIG) --libs libdpdk)
DPDK_OBJ    := $(B)/src/dpdk.o
$(B)/src/dpdk.o $(B)/src/worker.o $(B)/src/main.o: override CFLAGS += $(DPDK_CFLAGS)
endif
# The objects that differ with and without DPDK are rebuilt when it changes.
DPDK_STAMP := $(B)/.with-dpdk-$(WITH_DPDK)
$(DPDK_STAMP):
	@mkdir -p $(B)
	@rm -f $(B)/.with-dpdk-*
	@touch $@
$(B)/src/worker.o $(B)/src/main.o: $(DPDK_STAMP)

# What the tools share and the daemon does not (braidctl top's model).
TLIB_SRC  := $(wildcard tools/lib/*.c)

SCHED_LIB := $(B)/libbraid_sched.a
FEC_LIB   := $(B)/libbraid_fec.a
CORE_LIB  := $(B)/libbraid.a
TLIB      := $(B)/libbraid_tools.a
ALL_LIBS  := $(TLIB) $(CORE_LIB) $(SCHED_LIB) $(if $(FEC_SRC),$(FEC_LIB))
LINK_LIBS := $(ALL_LIBS) $(PKG_LIBS) -lm

# --- programs --------------------------------------------------------------
BRAIDD    := $(B)/braidd
TOOL_SRC  := $(wildcard tools/*.c)
TOOLS     := $(patsubst tools/%.c,$(B)/%,$(TOOL_SRC))
SIM       := $(B)/braid-sim

UNIT_SRC  := $(wildcard test/unit/check_*.c) $(wildcard sched/tests/check_*.c) $(wildcard fec/tests/check_*.c)
UNIT_BIN  := $(patsubst %.c,$(B)/%,$(UNIT_SRC))

# Fuzz harnesses: built plain (FUZZ_STANDALONE main() replays the files it is
# given) so `make check` runs every corpus under the same flags, sanitizers
# included; `make fuzz` builds them with clang's libFuzzer and runs each.
FUZZ_SRC  := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BIN  := $(patsubst test/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60

all: $(BRAIDD) $(TOOLS) $(SIM) $(UNIT_BIN) $(FUZZ_BIN)

$(B)/%.o: %.c
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(SCHED_LIB): $(SCHED_SRC:%.c=$(B)/%.o)
$(FEC_LIB): $(FEC_SRC:%.c=$(B)/%.o)
$(CORE_LIB): $(CORE_SRC:%.c=$(B)/%.o)
$(TLIB): $(TLIB_SRC:%.c=$(B)/%.o)
$(SCHED_LIB) $(FEC_LIB) $(CORE_LIB) $(TLIB):
	$(call say,AR,$@)
	@rm -f $@
	$(Q)ar rcs $@ $^

# braidd tells systemd when it is ready and that it is alive (sd_notify),
# when libsystemd is there to build with.
SYSTEMD_LIBS := $(shell $(PKG_CONFIG) --libs libsystemd 2>/dev/null)
ifneq ($(SYSTEMD_LIBS),)
$(B)/src/main.o: override CFLAGS += -DBRAID_SYSTEMD $(shell $(PKG_CONFIG) --cflags libsystemd)
endif

$(BRAIDD): $(B)/src/main.o $(DPDK_OBJ) $(ALL_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(DPDK_OBJ) $(LINK_LIBS) $(DPDK_LIBS) $(SYSTEMD_LIBS) $(JEMALLOC_LIBS)

$(B)/%: $(B)/tools/%.o $(ALL_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LINK_LIBS)

$(SIM): $(B)/test/sim/sim.o $(ALL_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LINK_LIBS)

$(UNIT_BIN): $(B)/%: $(B)/%.o $(ALL_LIBS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LINK_LIBS) $(CHECK_LIBS)

$(UNIT_BIN:%=%.o): override CFLAGS += $(CHECK_CFLAGS)

$(B)/fuzz/%: test/fuzz/%.c $(ALL_LIBS)
	$(call say,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -DFUZZ_STANDALONE $(LDFLAGS) -o $@ $< $(LINK_LIBS)

# libFuzzer needs clang and its own build of the libraries.
fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# --- dependencies on a fresh machine ----------------------------------------
deps:
	@scripts/deps.sh

# --- tests -----------------------------------------------------------------
SIM_SEEDS ?= 300

check: deps
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory test

# Runs the tests against what is built; `check` installs and builds first.
test: all
	@scripts/run-tests.sh $(B) $(SIM_SEEDS)

# .ci/run on N fresh clones of HEAD, one after another: what a flaky test
# needs to show itself. Not part of check.
N ?= 5
check-repeat:
	@scripts/check-repeat.sh $(N)

unit: $(UNIT_BIN)
	@scripts/run-tests.sh $(B) 0 unit

# --- demo and benchmarks -----------------------------------------------------
demo: deps
	$(MAKE) --no-print-directory all
	@scripts/demo.sh $(B)

# The scenario table (braid against a direct path, two forwarders and
# librist over emulated links), then loopback latency, throughput, CPU and
# instructions per datagram, then the FEC codec. Results in bench-results/.
bench: bench-deps
	$(MAKE) --no-print-directory all
	@scripts/bench-scenarios.sh $(B)
	@scripts/bench-latency.sh $(B)
	@scripts/bench-tcp.sh $(B)
	@$(B)/braid-fecbench --json bench-results/fec.json

bench-scenarios: bench-deps
	$(MAKE) --no-print-directory all
	@scripts/bench-scenarios.sh $(B)

bench-latency: bench-deps
	$(MAKE) --no-print-directory all
	@scripts/bench-latency.sh $(B)

# The hub's TCP destinations side by side: tcp:// (kernel) against
# dpdk-tcp:// (af_packet PMD on a veth) and udp://, latency percentiles.
bench-tcp: bench-deps
	$(MAKE) --no-print-directory all
	@scripts/bench-tcp.sh $(B)

# Link health over lossy links with real processes: down events at 5% and
# 20% loss for 60 s (FLAP_SECONDS), and how soon a dark link leaves the
# schedule. Writes bench-results/flap.json.
bench-flap: bench-deps
	$(MAKE) --no-print-directory all
	@scripts/bench-flap.sh $(B)

# Ten minutes (SOAK_SECONDS) of traffic with loss and link churn: memory
# flat, counters balanced. Not part of check.
soak: deps
	$(MAKE) --no-print-directory all
	@scripts/soak.sh $(B)

bench-deps:
	@scripts/deps.sh bench

# --- install ----------------------------------------------------------------
# PREFIX (default /usr/local) and DESTDIR as usual; the unit goes where
# systemd looks for it under PREFIX, the examples to /etc/braid (never
# overwriting a config: they end in .example).
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man
UNITDIR := $(PREFIX)/lib/systemd/system
CONFDIR ?= /etc/braid
INSTALL_TOOLS := $(B)/braidctl $(B)/braid-linkem $(B)/braid-bench

install: $(BRAIDD) $(INSTALL_TOOLS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 $(BRAIDD) $(INSTALL_TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 0644 man/braidd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/braidctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/braid.conf.5 $(DESTDIR)$(MANDIR)/man5/
	sed 's#@BINDIR@#$(BINDIR)#g' systemd/braidd@.service >$(DESTDIR)$(UNITDIR)/braidd@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/braidd@.service
	install -d $(DESTDIR)$(PREFIX)/lib/sysusers.d
	install -m 0644 systemd/braid.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/braid.conf
	install -m 0644 docs/examples/edge.conf $(DESTDIR)$(CONFDIR)/edge.conf.example
	install -m 0644 docs/examples/hub.conf $(DESTDIR)$(CONFDIR)/hub.conf.example
	install -m 0644 docs/examples/hub-dpdk.conf $(DESTDIR)$(CONFDIR)/hub-dpdk.conf.example
	install -d $(DESTDIR)$(PREFIX)/share/braid
	install -m 0644 systemd/braidd-dpdk.conf $(DESTDIR)$(PREFIX)/share/braid/braidd-dpdk.conf

clean:
	rm -rf build build-san

.PHONY: all deps check check-repeat test unit demo bench bench-flap bench-scenarios bench-latency bench-tcp bench-deps fuzz soak install clean

-include $(shell find $(B) -name '*.d' 2>/dev/null)
