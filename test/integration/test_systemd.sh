#!/usr/bin/env bash
# systemd integration: `make install` lays out what it promises, the unit
# passes `systemd-analyze verify`, the man pages render cleanly, and braidd
# speaks sd_notify: READY once set up, WATCHDOG while its workers turn,
# STOPPING on the way out.
set -u
B=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
[ -x "$B/braidd" ] || { echo "SKIP: $B/braidd is not built"; exit 77; }
B=$(cd "$B" && pwd)

TMP=$(mktemp -d /tmp/braid-systemd.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ "${BRAID_TEST_KEEP:-0}" = 1 ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

npass=0 nfail=0 nskip=0
ok() { npass=$((npass + 1)); echo "PASS: $1"; }
bad() { nfail=$((nfail + 1)); echo "FAIL: $1"; }
skip() { nskip=$((nskip + 1)); echo "SKIP: $1"; }

# 1. make install, with what this build directory holds.
D=$TMP/root
if make --no-print-directory -s install B="$B" DESTDIR="$D" PREFIX=/usr >"$TMP/install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr"
else
	bad "make install failed: $(tail -n 3 "$TMP/install.log")"
fi
for f in usr/bin/braidd usr/bin/braid-linkem usr/bin/braid-bench \
	usr/lib/systemd/system/braidd@.service usr/share/man/man8/braidd.8 \
	usr/share/man/man5/braid.conf.5 etc/braid/edge.conf.example etc/braid/hub.conf.example; do
	[ -f "$D/$f" ] && ok "installed /$f" || bad "missing /$f"
done
[ -x "$D/usr/bin/braidd" ] && ok "braidd is executable" || bad "braidd is not executable"
unit=$D/usr/lib/systemd/system/braidd@.service
if grep -q '^ExecStart=/usr/bin/braidd -c /etc/braid/%i.conf$' "$unit" 2>/dev/null &&
	! grep -q '@BINDIR@' "$unit"; then
	ok "the unit runs /usr/bin/braidd -c /etc/braid/%i.conf"
else
	bad "the unit's ExecStart is not /usr/bin/braidd -c /etc/braid/%i.conf"
fi
for k in Type=notify WatchdogSec= Restart=on-failure ProtectSystem=strict PrivateTmp=yes \
	NoNewPrivileges=yes CapabilityBoundingSet= LimitMEMLOCK= RuntimeDirectory=braid; do
	grep -q "^$k" "$unit" 2>/dev/null && ok "the unit sets $k" || bad "the unit lacks $k"
done

# 2. systemd-analyze verify, on an instance whose binary exists here.
if command -v systemd-analyze >/dev/null; then
	sed "s#@BINDIR@#$B#g" systemd/braidd@.service >"$TMP/braidd@test.service"
	if systemd-analyze verify --man=no "$TMP/braidd@test.service" >"$TMP/verify.log" 2>&1; then
		ok "systemd-analyze verify"
	else
		bad "systemd-analyze verify: $(head -n 5 "$TMP/verify.log")"
	fi
else
	skip "systemd-analyze is not installed"
fi

# 3. The man pages render without a warning.
if command -v groff >/dev/null; then
	for m in man/braidd.8 man/braid.conf.5; do
		if groff -man -ww -z "$m" >"$TMP/groff.log" 2>&1 && [ ! -s "$TMP/groff.log" ]; then
			ok "groff renders $m cleanly"
		else
			bad "groff warns on $m: $(head -n 3 "$TMP/groff.log")"
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
	PIDS+=($!)
	for _ in $(seq 1 50); do [ -S "$TMP/notify" ] && break; sleep 0.1; done
	NOTIFY_SOCKET=$TMP/notify WATCHDOG_USEC=400000 "$B/braidd" -c "$TMP/hub.conf" 2>"$TMP/braidd.log" &
	bpid=$!
	PIDS+=("$bpid")
	sleep 1.5
	kill -TERM "$bpid"
	wait "$bpid"
	rc=$?
	sleep 0.2
	[ "$rc" -eq 0 ] && ok "braidd exits 0 on SIGTERM" || bad "braidd exited $rc"
	grep -q 'READY=1' "$TMP/notify.out" 2>/dev/null && ok "READY=1 sent" ||
		bad "no READY=1 (got: $(tr '\n' ' ' <"$TMP/notify.out" 2>/dev/null))"
	grep -q 'STATUS=hub, 1 link, 1 worker' "$TMP/notify.out" 2>/dev/null && ok "STATUS says what runs" ||
		bad "no STATUS line"
	n=$(grep -o 'WATCHDOG=1' "$TMP/notify.out" 2>/dev/null | wc -l)
	[ "${n:-0}" -ge 2 ] && ok "WATCHDOG=1 sent while running ($n in 1.5 s at 400 ms)" ||
		bad "WATCHDOG=1 sent ${n:-0} times in 1.5 s with a 400 ms watchdog"
	grep -q 'STOPPING=1' "$TMP/notify.out" 2>/dev/null && ok "STOPPING=1 sent" || bad "no STOPPING=1"
fi

line="$npass passed, $nfail failed"
[ "$nskip" -gt 0 ] && line="$line, $nskip skipped"
echo "$line"
[ "$nfail" -eq 0 ]
