#!/usr/bin/env bash
# systemd integration: `make install` lays out what it promises, the unit
# passes `systemd-analyze verify`, the man pages render cleanly, and braidd
# speaks sd_notify: READY once set up, WATCHDOG while its workers turn,
# STOPPING on the way out.
set -u
. "$(dirname "$0")/lib.sh"
[ -x "${BUILD:-build}/braidd" ] || skip_all "${BUILD:-build}/braidd is not built"
lib_init_local "${BUILD:-build}"
cd "$(dirname "$0")/../.."

# 1. make install, with what this build directory holds.
D=$TMP/root
if make --no-print-directory -s install B="$B" DESTDIR="$D" PREFIX=/usr >"$TMP/install.log" 2>&1; then
	pass "make install DESTDIR=... PREFIX=/usr"
else
	fail "make install failed: $(tail -n 3 "$TMP/install.log")"
fi
for f in usr/bin/braidd usr/bin/braidctl usr/bin/braid-linkem usr/bin/braid-bench \
	usr/lib/systemd/system/braidd@.service usr/share/man/man8/braidd.8 \
	usr/share/man/man1/braidctl.1 \
	usr/share/man/man5/braid.conf.5 etc/braid/edge.conf.example etc/braid/hub.conf.example \
	etc/braid/hub-dpdk.conf.example usr/share/braid/braidd-dpdk.conf \
	usr/lib/sysusers.d/braid.conf; do
	[ -f "$D/$f" ] && pass "installed /$f" || fail "missing /$f"
done
[ -x "$D/usr/bin/braidd" ] && pass "braidd is executable" || fail "braidd is not executable"
unit=$D/usr/lib/systemd/system/braidd@.service
if grep -q '^ExecStart=/usr/bin/braidd -c /etc/braid/%i.conf$' "$unit" 2>/dev/null &&
	! grep -q '@BINDIR@' "$unit"; then
	pass "the unit runs /usr/bin/braidd -c /etc/braid/%i.conf"
else
	fail "the unit's ExecStart is not /usr/bin/braidd -c /etc/braid/%i.conf"
fi
for k in Type=notify WatchdogSec= Restart=on-failure ProtectSystem=strict PrivateTmp=yes \
	NoNewPrivileges=yes CapabilityBoundingSet= LimitMEMLOCK= RuntimeDirectory=braid; do
	grep -q "^$k" "$unit" 2>/dev/null && pass "the unit sets $k" || fail "the unit lacks $k"
done
# The sysusers snippet makes the user the examples name (user = braid).
if command -v systemd-sysusers >/dev/null; then
	out=$(systemd-sysusers --dry-run "$D/usr/lib/sysusers.d/braid.conf" 2>&1)
	grep -q "braid" <<<"$out" && pass "systemd-sysusers reads braid.conf: $(grep -m1 braid <<<"$out")" ||
		fail "systemd-sysusers --dry-run: '$out'"
else
	skip "systemd-sysusers is not installed"
fi

# 2. systemd-analyze verify, on an instance whose binary exists here.
if command -v systemd-analyze >/dev/null; then
	sed "s#@BINDIR@#$B#g" systemd/braidd@.service >"$TMP/braidd@test.service"
	# verify exits 0 on a key it does not know, so its words count too.
	if systemd-analyze verify --man=no "$TMP/braidd@test.service" >"$TMP/verify.log" 2>&1 &&
		! grep -qiE "unknown|ignoring|invalid|failed" "$TMP/verify.log"; then
		pass "systemd-analyze verify"
	else
		fail "systemd-analyze verify: $(head -n 5 "$TMP/verify.log")"
	fi
	# The DPDK drop-in's settings, read after the unit's as systemd would.
	cat "$TMP/braidd@test.service" systemd/braidd-dpdk.conf >"$TMP/braidd-dpdk@test.service"
	if systemd-analyze verify --man=no "$TMP/braidd-dpdk@test.service" >"$TMP/verify-dpdk.log" 2>&1 &&
		! grep -qiE "unknown|ignoring|invalid|failed" "$TMP/verify-dpdk.log"; then
		pass "systemd-analyze verify, with the DPDK drop-in"
	else
		fail "systemd-analyze verify with the DPDK drop-in: $(head -n 5 "$TMP/verify-dpdk.log")"
	fi
else
	skip "systemd-analyze is not installed"
fi

# 3. The man pages render without a warning.
if command -v groff >/dev/null; then
	for m in man/braidd.8 man/braidctl.1 man/braid.conf.5; do
		if groff -man -ww -z "$m" >"$TMP/groff.log" 2>&1 && [ ! -s "$TMP/groff.log" ]; then
			pass "groff renders $m cleanly"
		else
			fail "groff warns on $m: $(head -n 3 "$TMP/groff.log")"
		fi
	done
else
	skip "groff is not installed: man pages not rendered"
fi

# 4. sd_notify, through a socket of our own in NOTIFY_SOCKET.
if ! ldd "$B/braidd" 2>/dev/null | grep -q libsystemd; then
	skip "braidd was built without libsystemd"
elif ! command -v socat >/dev/null; then
	skip "socat is not installed"
else
	head -c 32 /dev/urandom | base64 >"$TMP/key"
	chmod 600 "$TMP/key"
	printf '[bond]\nrole = hub\nkey = %s\n[app]\ndestination = 127.0.0.1:18499\n[link a]\nlocal = 127.0.0.1:18498\n' \
		"$TMP/key" >"$TMP/hub.conf"
	socat -u UNIX-RECV:"$TMP/notify" OPEN:"$TMP/notify.out",creat,append &
	LIB_PIDS+=($!)
	for _ in $(seq 1 50); do [ -S "$TMP/notify" ] && break; sleep 0.1; done
	NOTIFY_SOCKET=$TMP/notify WATCHDOG_USEC=400000 "$B/braidd" -c "$TMP/hub.conf" 2>"$TMP/braidd.log" &
	bpid=$!
	LIB_PIDS+=("$bpid")
	sleep 1.5
	kill -TERM "$bpid"
	wait "$bpid"
	rc=$?
	sleep 0.2
	[ "$rc" -eq 0 ] && pass "braidd exits 0 on SIGTERM" || fail "braidd exited $rc"
	grep -q 'READY=1' "$TMP/notify.out" 2>/dev/null && pass "READY=1 sent" ||
		fail "no READY=1 (got: $(tr '\n' ' ' <"$TMP/notify.out" 2>/dev/null))"
	grep -q 'STATUS=hub, 1 link, 1 worker' "$TMP/notify.out" 2>/dev/null && pass "STATUS says what runs" ||
		fail "no STATUS line"
	n=$(grep -o 'WATCHDOG=1' "$TMP/notify.out" 2>/dev/null | wc -l)
	[ "${n:-0}" -ge 2 ] && pass "WATCHDOG=1 sent while running ($n in 1.5 s at 400 ms)" ||
		fail "WATCHDOG=1 sent ${n:-0} times in 1.5 s with a 400 ms watchdog"
	grep -q 'STOPPING=1' "$TMP/notify.out" 2>/dev/null && pass "STOPPING=1 sent" || fail "no STOPPING=1"
fi

lib_finish
