#!/usr/bin/env bash
# braid-linkem, the user-space link emulator, between real processes on
# loopback (ports 17100-17199), with braid-bench as the traffic source and
# the checker.
#
#   test/integration/test_linkem.sh [BUILD_DIR]   (default: $BUILD, else build)
#
# Cases:
#   1  clean pass-through, echo: every datagram back exactly once, intact
#   2  loss=0.1, 5000 datagrams: delivered fraction within 0.87..0.93
#      (binomial sigma is 0.004, so the bound is ~7 sigma), and the
#      emulator's own counters add up (in = out + loss)
#   3  delay=20ms each way: echo p50 one-way through linkem minus direct is
#      15..30 ms (the only timing assertion, with a generous bound)
#   4  rate=1mbit, queue=16kb, 1000 x 1000 B at 500 pps (4 Mbit/s offered):
#      0.15..0.35 of what was sent arrives, the rest counted as queue drops
#   5  determinism: --selftest with the same seed twice prints the same hash
#      (exact); another seed prints a different one; --selftest also shows
#      Gilbert-Elliott loss and duplication counted
#   6  timeline: a profile with `at 1s blackout 1s`, 3000 datagrams at
#      1000 pps from start: 700..1200 dropped as blackout, none otherwise
#      lost, received + blackout = sent
#   7  bad arguments exit 2; SIGTERM exits 0 with a final JSON stats line
# Loopback only, no root needed; SKIP (exit 77) if jq or the programs are
# missing. Takes about 15 s.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1

PASS=0
FAIL=0
PIDS=()

pass() { echo "PASS: $1"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $1${2:+: $2}"; FAIL=$((FAIL + 1)); }
log() { echo "# $*"; }

B=$(cd "${1:-${BUILD:-build}}" 2>/dev/null && pwd) || { echo "SKIP: no build directory"; exit 77; }
LINKEM=$B/braid-linkem
BENCH=$B/braid-bench
command -v jq >/dev/null || { echo "SKIP: jq not installed"; exit 77; }
[ -x "$LINKEM" ] || { echo "SKIP: $LINKEM not built"; exit 77; }
[ -x "$BENCH" ] || { echo "SKIP: $BENCH not built"; exit 77; }

TMP=$(mktemp -d /tmp/braid-linkem.XXXXXX)
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${BRAID_TEST_KEEP:-0}" = 1 ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# port_bound PORT: a UDP socket is bound to 127.0.0.1:PORT.
port_bound() { [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }
wait_bound() {
	for _ in $(seq 1 50); do port_bound "$1" && return 0; sleep 0.1; done
	return 1
}

# start NAME PORT CMD...: a background process whose readiness is PORT bound.
# Sets LAST_PID.
start() {
	local name=$1 port=$2
	shift 2
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
	wait_bound "$port" || log "$name: port $port not bound after 5 s"
}

# stop PID: SIGTERM, wait (10 s at most); returns its exit status.
stop() {
	local p=$1
	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null && log "pid $p needed SIGKILL"
	wait "$p"
}

# send NAME TO ARGS...: braid-bench send in the foreground, 60 s at most.
send() {
	local name=$1 to=$2
	shift 2
	timeout -s INT 60 "$BENCH" send --quiet --to "$to" --json "$TMP/$name.json" "$@" \
		2>"$TMP/$name.slog"
}

# recv NAME PORT ARGS...: braid-bench recv in the background; RECV_PID.
recv() {
	local name=$1 port=$2
	shift 2
	start "$name" "$port" "$BENCH" recv --quiet --listen "127.0.0.1:$port" \
		--json "$TMP/$name.json" "$@"
	RECV_PID=$LAST_PID
}

# final LOG: the last JSON stats line braid-linkem wrote.
final() { grep '^{' "$1" | tail -n 1; }

# in_range NAME VALUE LO HI (floating point)
in_range() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
		pass "$1 = $2 (within $3..$4)"
	else
		fail "$1" "$2 not within $3..$4"
	fi
}

eq() {
	if [ "$2" = "$3" ]; then pass "$1 = $3"; else fail "$1" "got '$2', expected '$3'"; fi
}

# --- one emulator, four links ------------------------------------------------
recv r_clean 17111 --echo
R1=$RECV_PID
recv r_loss 17121
R2=$RECV_PID
recv r_delay 17131 --echo
R3=$RECV_PID
recv r_rate 17141
R4=$RECV_PID
start linkem 17140 "$LINKEM" --seed 7 --stats-interval 1 \
	LISTEN=127.0.0.1:17110,TARGET=127.0.0.1:17111 \
	LISTEN=127.0.0.1:17120,TARGET=127.0.0.1:17121,loss=0.1 \
	LISTEN=127.0.0.1:17130,TARGET=127.0.0.1:17131,delay=20ms \
	LISTEN=127.0.0.1:17140,TARGET=127.0.0.1:17141,rate=1mbit,queue=16kb
LK=$LAST_PID

# 1: clean
send s_clean 127.0.0.1:17110 --rate 10000 --count 2000 --size 200 --linger 1
eq "clean: echoes unique" "$(jq .echo.unique "$TMP/s_clean.json")" 2000
eq "clean: echo duplicates" "$(jq .echo.duplicates "$TMP/s_clean.json")" 0
eq "clean: echo corrupt" "$(jq .echo.corrupt "$TMP/s_clean.json")" 0

# 2: random loss
send s_loss 127.0.0.1:17120 --rate 10000 --count 5000 --size 100 --linger 0
# 3: delay, against the direct path to the same echo server
send s_direct 127.0.0.1:17131 --rate 1000 --count 300 --linger 1
send s_delay 127.0.0.1:17130 --rate 1000 --count 300 --linger 1
# 4: rate limit
send s_rate 127.0.0.1:17140 --rate 500 --count 1000 --size 1000 --linger 0
sleep 0.5	# the 16 KB queue drains in 0.13 s

for p in $R1 $R2 $R3 $R4; do stop "$p" || log "braid-bench recv $p exited $?"; done
stop "$LK"
rc=$?
eq "linkem exit status on SIGTERM" $rc 0
ST=$(final "$TMP/linkem.log")
eq "final stats line is final" "$(jq .final <<<"$ST" 2>/dev/null)" true
n=$(grep -c '"final":false' "$TMP/linkem.log")
in_range "periodic stats lines" "$n" 1 100

got=$(jq .unique "$TMP/r_loss.json")
in_range "loss=0.1: delivered fraction" "$(awk -v g="$got" 'BEGIN { printf "%.4f", g / 5000 }')" 0.87 0.93
eq "loss=0.1: linkem in" "$(jq '.links[1].up.in' <<<"$ST")" 5000
eq "loss=0.1: linkem out + loss" "$(jq '.links[1].up | .out + .loss' <<<"$ST")" 5000
eq "loss=0.1: receiver got what linkem sent" "$got" "$(jq '.links[1].up.out' <<<"$ST")"

direct=$(jq .one_way_us.p50 "$TMP/s_direct.json")
delayed=$(jq .one_way_us.p50 "$TMP/s_delay.json")
log "one-way p50: direct $direct us, through delay=20ms $delayed us"
in_range "delay=20ms: added one-way p50 (ms)" \
	"$(awk -v a="$delayed" -v b="$direct" 'BEGIN { printf "%.3f", (a - b) / 1000 }')" 15 30
eq "delay=20ms: echoes unique" "$(jq .echo.unique "$TMP/s_delay.json")" 300

got=$(jq .unique "$TMP/r_rate.json")
in_range "rate=1mbit at 4 Mbit/s offered: delivered fraction" \
	"$(awk -v g="$got" 'BEGIN { printf "%.4f", g / 1000 }')" 0.15 0.35
eq "rate: linkem in = out + queue drops" \
	"$(jq '.links[3].up | .out + .queue' <<<"$ST")" "$(jq '.links[3].up.in' <<<"$ST")"

# --- 5: determinism of the decision sequence --------------------------------
SPEC='loss=0.05,ge=0.01,0.3,0.2,1,dup=0.02,rate=10mbit,delay=20ms,jitter=5ms,reorder=yes'
h1=$("$LINKEM" --selftest --seed 42 --count 50000 "$SPEC")
h2=$("$LINKEM" --selftest --seed 42 --count 50000 "$SPEC")
h3=$("$LINKEM" --selftest --seed 43 --count 50000 "$SPEC")
eq "selftest: same seed, same hash" "$(jq -r .hash <<<"$h1")" "$(jq -r .hash <<<"$h2")"
if [ "$(jq -r .hash <<<"$h1")" != "$(jq -r .hash <<<"$h3")" ]; then
	pass "selftest: another seed, another hash"
else
	fail "selftest: another seed, another hash" "seed 42 and 43 both $(jq -r .hash <<<"$h1")"
fi
in_range "selftest: Gilbert-Elliott drops" "$(jq .up.ge_loss <<<"$h1")" 1 50000
in_range "selftest: duplicates" "$(jq .up.dup <<<"$h1")" 1 50000
eq "selftest: in = out - dup + every drop" \
	"$(jq '.up | .out - .dup + .loss + .ge_loss + .queue + .blackout' <<<"$h1")" 50000

# --- 6: timeline blackout ----------------------------------------------------
printf '# test profile\ndelay = 1ms\nat 1s blackout 1s\n' >"$TMP/bo.profile"
recv r_bo 17151
R5=$RECV_PID
start linkem_bo 17150 "$LINKEM" LISTEN=127.0.0.1:17150,TARGET=127.0.0.1:17151,profile="$TMP/bo.profile"
LB=$LAST_PID
send s_bo 127.0.0.1:17150 --rate 1000 --count 3000 --size 100 --linger 0
sleep 0.2
stop "$R5" || log "braid-bench recv exited $?"
stop "$LB" || fail "blackout linkem exit status" "$?"
ST=$(final "$TMP/linkem_bo.log")
bo=$(jq '.links[0].up.blackout' <<<"$ST")
got=$(jq .unique "$TMP/r_bo.json")
log "blackout: received $got, blackout drops $bo"
in_range "blackout 1 s at 1000 pps: dropped" "$bo" 700 1200
eq "blackout: received + blackout = sent" $((got + bo)) 3000
eq "blackout: no other loss" "$(jq '.links[0].up | .loss + .queue + .pool + .tx_err' <<<"$ST")" 0

# --- 7: bad arguments ---------------------------------------------------------
for a in "LISTEN=127.0.0.1:17160" "LISTEN=127.0.0.1:17160,TARGET=127.0.0.1:17161,loss=1.5" \
	"LISTEN=127.0.0.1:17160,TARGET=127.0.0.1:17161,rate=fast" \
	"LISTEN=127.0.0.1:17160,TARGET=127.0.0.1:17161,ge=0.1" \
	"LISTEN=127.0.0.1:17160,TARGET=127.0.0.1:17161,bogus=1" \
	"LISTEN=127.0.0.1:17160,TARGET=127.0.0.1:17161,profile=/nonexistent" \
	"--seed"; do
	"$LINKEM" "$a" >/dev/null 2>"$TMP/bad.log"
	rc=$?
	if [ $rc -eq 2 ] && [ -s "$TMP/bad.log" ]; then
		pass "bad argument '$a' exits 2 with a message"
	else
		fail "bad argument '$a'" "exit $rc, message '$(head -c 200 "$TMP/bad.log")'"
	fi
done
printf 'at 1s explode 2s\n' >"$TMP/badline.profile"
"$LINKEM" "LISTEN=127.0.0.1:17160,TARGET=127.0.0.1:17161,profile=$TMP/badline.profile" 2>"$TMP/bad.log"
rc=$?
if [ $rc -eq 2 ] && grep -q 'badline.profile:1' "$TMP/bad.log"; then
	pass "bad profile line: exit 2 naming file:line"
else
	fail "bad profile line" "exit $rc, '$(cat "$TMP/bad.log")'"
fi
for p in tools/linkem/*.profile; do
	if "$LINKEM" --selftest --count 1000 "profile=$p" >/dev/null 2>"$TMP/bad.log"; then
		pass "shipped profile $(basename "$p") loads"
	else
		fail "shipped profile $(basename "$p")" "$(cat "$TMP/bad.log")"
	fi
done

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
