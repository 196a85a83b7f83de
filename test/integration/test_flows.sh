#!/usr/bin/env bash
# A flow slot that passes to another sender (security defect 3). The edge
# tracks one flow (max-flows = 1): sender A talks and goes idle, sender B
# takes the slot. Asserts that the destination sees B from another source
# address than A (the hub opened a new socket for the new generation), that
# a late reply for A never reaches B (the edge drops it and counts
# flow_stale), that B's own replies do, and that the hub has closed A's old
# socket, so what the destination still sends there reaches nobody.
#
# Loopback only; ports 19500-19599. Nothing here races a clock: each step
# waits for what the previous one must have caused (a counter, a socket, a
# datagram), and the one sleep only has to be longer than flow-idle.
set -u
. "$(dirname "$0")/lib.sh"
lib_require "${BUILD:-build}" braidd braidctl braid-bench
lib_init_local "${BUILD:-build}"
command -v ss >/dev/null || skip_all "ss (iproute2) is not installed"

L=127.0.0.1:19500	# the edge's app listen
D=127.0.0.1:19501	# the hub's destination
SA=127.0.0.1:19530	# sender A
SB=127.0.0.1:19531	# sender B
IDLE_MS=300
# Edge link l1 on 19511 to the hub's 19521.
local_confs 1 "$L" "$D" 19510 19520 19520 "max-flows = 1\nflow-idle = ${IDLE_MS}ms\n"

dgram() { "$B/braid-bench" dgram "$@"; }
# dgram_bg VAR NAME ARGS...: a dgram in the background, stdout to $TMP/NAME.out.
dgram_bg() {
	local var=$1 name=$2
	shift 2
	"$B/braid-bench" dgram "$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
	LIB_PIDS+=($!)
	printf -v "$var" '%s' "$!"
}
# udp_open PORT: some UDP socket has PORT as its local port.
udp_open() { [ -n "$(ss -Huan "sport = :$1" 2>/dev/null)" ]; }
counter() { ctl "$1" stats --json | jq "[.workers[].$2] | add"; }
counter_is() { [ "$(counter "$1" "$2")" = "$3" ]; }
bond_is() { [ "$(ctl "$1" stats --json | jq ".bond.$2")" = "$3" ]; }

local_start HUB hub "$B/braidd" -c "$TMP/hub.conf"
local_start EDGE edge "$B/braidd" -c "$TMP/edge.conf"
must "the bond came up" wait_until 10 links_up edge 1
must "the hub's session is up" wait_until 10 links_up hub 1

# 1. A talks: the hub opens flow 0's socket; the destination sees it as HA.
dgram_bg D1 d1 --bind "$D" --recv 1 --timeout 10
must "the destination is listening" wait_until 5 udp_open 19501
dgram --bind "$SA" --to "$L" --text from-a
wait "$D1"
read -r HA _ text <"$TMP/d1.out" || HA=
[ -n "$HA" ] && [ "$text" = from-a ] && pass "A's datagram reached the destination from $HA" ||
	fail "A's datagram did not arrive ($(cat "$TMP/d1.out"))"
[ -n "$HA" ] || { lib_finish; exit; }

# 2. A is idle past flow-idle; B's first datagram takes A's slot. It is too
# large to carry (over BRAID_PAYLOAD_MAX, under the edge's receive buffer),
# so the edge has given B the slot but the hub has not heard of B yet: the
# moment, made to last, when A's late replies are still on their way.
sleep "$(awk -v ms=$IDLE_MS 'BEGIN { print 3 * ms / 1000 }')"
dgram_bg B1 b1 --bind "$SB" --to "$L" --size 2100 --recv 1 --timeout 30
must "the edge took B's first datagram (and dropped it as oversize)" \
	wait_until 10 bond_is edge oversize 1

# 3. The destination answers A, late, on A's socket at the hub: the hub
# sends it to A's flow, whose slot is B's now.
dgram --bind "$D" --to "$HA" --text late-for-a
if wait_until 10 counter_is edge flow_stale 1; then
	pass "the edge dropped the reply for A's old flow and counted it (flow_stale 1)"
else
	fail "the edge did not count a stale reply (flow_stale $(counter edge flow_stale))"
fi
stop_pid "$B1"
[ ! -s "$TMP/b1.out" ] && pass "B never got the reply meant for A" ||
	fail "B got what the destination sent A: $(cat "$TMP/b1.out")"

# 4. B talks: the hub sees the slot's new generation and opens a new socket.
dgram_bg D2 d2 --bind "$D" --recv 1 --echo --timeout 10
must "the destination is listening again" wait_until 5 udp_open 19501
dgram --bind "$SB" --to "$L" --text from-b --recv 1 --timeout 10 >"$TMP/b2.out"
rc=$?
wait "$D2"
read -r HB _ text <"$TMP/d2.out" || HB=
[ -n "$HB" ] && [ "$text" = from-b ] && pass "B's datagram reached the destination from $HB" ||
	fail "B's datagram did not arrive ($(cat "$TMP/d2.out"))"
[ -n "$HB" ] && [ "$HB" != "$HA" ] &&
	pass "the destination sees B from another address than A ($HB, not $HA)" ||
	fail "the destination sees B as A ($HB)"
[ "$rc" -eq 0 ] && [ "$(cat "$TMP/b2.out")" = "$L 6 from-b" ] &&
	pass "B's reply came back to B" || fail "B's reply did not come back ($(cat "$TMP/b2.out"))"

# 5. A's old socket at the hub is closed: what the destination still sends
# there reaches nobody, and B's next datagram is its own.
must "the hub closed A's old socket" wait_until 10 eval "! udp_open ${HA##*:}"
dgram_bg B3 b3 --bind "$SB" --recv 1 --timeout 10
must "B is listening" wait_until 5 udp_open 19531
dgram --bind "$D" --to "$HA" --text late-for-a
dgram --bind "$D" --to "$HB" --text for-b
wait "$B3"
[ "$(cat "$TMP/b3.out")" = "$L 5 for-b" ] && pass "after the reopen, B gets only its own replies" ||
	fail "B got $(cat "$TMP/b3.out")"

# The counter on every surface: stats JSON (above), braidctl stats, /metrics.
ctl edge stats | grep -q "stale replies dropped 1" && pass "braidctl stats shows flow_stale" ||
	fail "braidctl stats: $(ctl edge stats | grep flows)"
ctl edge metrics | grep -qx "braid_flow_stale_packets_total 1" && pass "/metrics has flow_stale" ||
	fail "/metrics: $(ctl edge metrics | grep flow_stale)"
[ "$(counter edge flows_full)" = 0 ] && pass "no sender went without a flow" ||
	fail "flows_full $(counter edge flows_full)"
log "hub flow_stale $(counter hub flow_stale) (replies that met A's socket while it closed)"

lib_finish
