#!/usr/bin/env bash
# braid end to end: an edge and a hub braidd in two network namespaces joined
# by three veth pairs, with braid-bench checking every datagram (exactly
# once, intact) in both directions.
#
#   test/integration/test_netns_bond.sh [BUILD_DIR]   (default: $BUILD, else build)
#
# Cases:
#   0  the checker itself, through udpfwd on the hub's loopback: a clean run
#      is counted clean, and injected drops, duplicates, corruption, garbage
#      and reordering are each counted exactly (a checker never shown a
#      fault proves nothing when it reports none)
#   1  aggregate 5:3:2, 5000 datagrams each way (echo), each delivered once
#      and intact; each link's share of the edge's tx_data within 0.05 of
#      weight/sum
#   2  duplicate mode, a link down for ~1 s mid-run: nothing lost, no
#      duplicate delivered; the link carries data again once back up
#   3  aggregate mode, the same: at most rate x 3 x probe interval missing,
#      no duplicates, no corruption; the link carries data again
# Needs root and ip netns, else it prints SKIP and exits 77. No assertion
# depends on timing but case 3's in-flight bound: waits poll for a state,
# with generous limits.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
. test/integration/lib.sh

lib_init "${1:-${BUILD:-build}}"
log "namespaces $NSE (edge) and $NSH (hub), temp dir $TMP"

RATE=1000

# run_send NS NAME ARGS...: braid-bench send in the foreground, at most 60 s.
run_send() {
	local ns=$1 name=$2
	shift 2
	timeout -s INT 60 ip netns exec "$ns" "$BENCH" send --quiet \
		--json "$TMP/$name.json" "$@" 2>"$TMP/$name.log"
}

# start_recv NAME PORT [--echo]: braid-bench recv in the hub namespace;
# waits until its port is bound. Sets RECV_PID.
start_recv() {
	local name=$1 port=$2
	shift 2
	bg RECV_PID "$NSH" "$name" "$BENCH" recv --listen "127.0.0.1:$port" --quiet \
		--json "$TMP/$name.json" "$@"
	wait_until 10 port_bound "$NSH" "$port"
}

# stop_recv: SIGTERM; recv writes its JSON summary and exits 0.
stop_recv() {
	stop_pid "$RECV_PID" || echo "# braid-bench recv exited with status $?"
}

# eq NAME ACTUAL EXPECTED
eq() {
	if [ "$2" = "$3" ]; then
		pass "$1 = $3"
	else
		fail "$1" "got $2, expected $3"
	fi
}

# ---- 0: the checker, through a bare forwarder ---------------------------------
case0() {
	local s r inj

	bg FWD_PID "$NSH" udpfwd "$UDPFWD" 127.0.0.1:5100 127.0.0.1:6100
	wait_until 10 port_bound "$NSH" 5100 || { fail "0: udpfwd did not bind"; return; }

	# A clean run: everything arrives once, intact, and comes back.
	start_recv recv0a 6100 --echo || { fail "0: recv did not bind"; return; }
	run_send "$NSH" send0a --to 127.0.0.1:5100 --rate 2000 --count 2000 ||
		fail "0: send exited with status $?"
	stop_recv
	s=$TMP/send0a.json r=$TMP/recv0a.json
	if [ -s "$s" ] && [ -s "$r" ]; then
		eq "0 clean: sent" "$(jf "$s" .sent)" 2000
		eq "0 clean: received unique" "$(jf "$r" .unique)" 2000
		eq "0 clean: dup+corrupt+foreign+missing" \
			"$(jf "$r" '.duplicates + .corrupt + .foreign + .missing')" 0
		eq "0 clean: echoes unique" "$(jf "$s" .echo.unique)" 2000
		eq "0 clean: echo dup+corrupt+foreign+missing" \
			"$(jf "$s" '.echo | .duplicates + .corrupt + .foreign + .missing')" 0
	else
		fail "0 clean" "no JSON summary from send or recv"
	fi

	# Faults at prime periods, so no datagram gets two of them and each
	# count must come out exact.
	start_recv recv0b 6100 --echo || { fail "0: recv did not bind"; return; }
	run_send "$NSH" send0b --to 127.0.0.1:5100 --rate 2000 --count 2000 \
		--drop 97 --duplicate 89 --corrupt 83 --garbage 79 --linger 0.5
	stop_recv
	s=$TMP/send0b.json r=$TMP/recv0b.json
	if [ -s "$s" ] && [ -s "$r" ]; then
		inj=$(jq -c .injected "$s")
		log "injected: $inj"
		eq "0 faults: sent" "$(jf "$s" .sent)" $((2000 - $(jq .dropped <<<"$inj")))
		eq "0 faults: duplicates seen" "$(jf "$r" .duplicates)" "$(jq .duplicated <<<"$inj")"
		eq "0 faults: corrupt seen" "$(jf "$r" .corrupt)" "$(jq .corrupted <<<"$inj")"
		eq "0 faults: foreign seen" "$(jf "$r" .foreign)" "$(jq .garbage <<<"$inj")"
		eq "0 faults: unique = sent - corrupted" "$(jf "$r" .unique)" \
			"$(($(jf "$s" .sent) - $(jq .corrupted <<<"$inj")))"
		eq "0 faults: echoed duplicates seen by sender" "$(jf "$s" .echo.duplicates)" \
			"$(jq .duplicated <<<"$inj")"
		eq "0 faults: sender misses exactly the corrupted" "$(jf "$s" .echo.missing)" \
			"$(jq .corrupted <<<"$inj")"
	else
		fail "0 faults" "no JSON summary from send or recv"
	fi

	start_recv recv0c 6100 || { fail "0: recv did not bind"; return; }
	run_send "$NSH" send0c --to 127.0.0.1:5100 --rate 2000 --count 1000 --reorder 50 --linger 0
	stop_recv
	if [ -s "$TMP/send0c.json" ] && [ -s "$TMP/recv0c.json" ]; then
		eq "0 reorder: reordered seen" "$(jf "$TMP/recv0c.json" .reordered)" \
			"$(jf "$TMP/send0c.json" .injected.reordered)"
		eq "0 reorder: unique" "$(jf "$TMP/recv0c.json" .unique)" 1000
	else
		fail "0 reorder" "no JSON summary from send or recv"
	fi
	stop_pid "$FWD_PID" || fail "0: udpfwd exit status" "$?"
}

# The direction checks every case makes: forward at the receiver, reverse
# (the echoes) at the sender. Sets FWD_MISSING and REV_MISSING.
check_delivery() {
	local c=$1 s=$2 r=$3 sent
	sent=$(jf "$s" .sent)
	FWD_MISSING=$((sent - $(jf "$r" .unique)))
	REV_MISSING=$(($(jf "$r" .echoed) - $(jf "$s" .echo.unique)))
	log "$c: sent $sent; hub got $(jf "$r" .unique) unique, echoed $(jf "$r" .echoed);" \
		"edge got $(jf "$s" .echo.unique) echoes; one-way p50 $(jf "$s" .one_way_us.p50)us" \
		"p99 $(jf "$s" .one_way_us.p99)us max $(jf "$s" .one_way_us.max)us"
	eq "$c: forward duplicates" "$(jf "$r" .duplicates)" 0
	eq "$c: forward corrupt+foreign" "$(jf "$r" '.corrupt + .foreign')" 0
	eq "$c: reverse duplicates" "$(jf "$s" .echo.duplicates)" 0
	eq "$c: reverse corrupt+foreign" "$(jf "$s" '.echo.corrupt + .echo.foreign')" 0
	eq "$c: replies to the right sender (misrouted)" "$(jf "$s" .echo.misrouted)" 0
}

# ---- 1: both directions, aggregate 5:3:2 -------------------------------------
# Two workers on each side, so packets also cross between workers (SPSC
# rings and MSG_RING wakeups), not only through worker 0.
case1() {
	local s=$TMP/send1.json r=$TMP/recv1.json st l share want ok=1 detail=

	EDGE_WORKERS=2 HUB_WORKERS=2 braid_start aggregate 5 3 2 ||
		{ fail "1: braid did not come up"; braid_stop; return; }
	start_recv recv1 6000 --echo || { fail "1: recv did not bind"; braid_stop; return; }
	run_send "$NSE" send1 --to 127.0.0.1:5000 --rate "$RATE" --count 5000 --flows 2 ||
		fail "1: send exited with status $?"
	stop_recv
	braid_stop || fail "1: braidd did not exit cleanly on SIGTERM"
	if [ ! -s "$s" ] || [ ! -s "$r" ]; then
		fail "1" "no JSON summary from send or recv"
		return
	fi
	# Steady state allocates nothing: each worker's jemalloc byte count
	# (alloc_bytes) is the same in the first stats line that shows traffic
	# and in the last. (The sanitizer build has no jemalloc: all zero.)
	for side in edge hub; do
		local first last
		first=$(grep '^stats ' "$TMP/$side.log" | sed 's/^stats //' |
			jq -c 'select(.bond.app_rx_pkts > 0 and .bond.delivered_pkts > 0) | [.workers[].alloc_bytes]' |
			head -n 1)
		last=$(stats_last "$TMP/$side.log" | jq -c '[.workers[].alloc_bytes]')
		if [ -z "$first" ]; then
			fail "1: $side: no stats line showed traffic, so allocations went unchecked"
		else
			eq "1: $side: workers allocate nothing once traffic flows" "$last" "$first"
		fi
	done
	eq "1: forward sent" "$(jf "$s" .sent)" 5000
	eq "1: forward delivered exactly once (unique)" "$(jf "$r" .unique)" 5000
	eq "1: reverse delivered exactly once (unique echoes)" "$(jf "$s" .echo.unique)" 5000
	check_delivery 1 "$s" "$r"

	st=$(stats_last "$TMP/edge.log")
	if [ -z "$st" ]; then
		fail "1: weights" "no stats line from the edge"
		return
	fi
	for l in l1:5 l2:3 l3:2; do
		share=$(jq -r --arg l "${l%%:*}" \
			'([.links[].tx_data] | add) as $t | .links[] | select(.name == $l) |
			 if $t > 0 then .tx_data / $t else -1 end' <<<"$st")
		want=$(awk -v w="${l##*:}" 'BEGIN { printf "%.2f", w / 10 }')
		detail="$detail ${l%%:*} $(printf '%.3f' "$share") (want $want)"
		awk -v s="$share" -v w="$want" 'BEGIN { d = s - w; if (d < 0) d = -d; exit !(d <= 0.05) }' ||
			ok=0
	done
	detail=${detail# }
	if [ $ok = 1 ]; then
		pass "1: tx_data shares within 0.05 of 5:3:2: $detail"
	else
		fail "1: tx_data shares within 0.05 of 5:3:2" "$detail"
	fi
}

# l2_up_after LOG N: a stats line after the Nth shows link l2 up; sets L2_TX.
l2_up_after() {
	local n i line
	n=$(stats_count "$1")
	for ((i = $2 + 1; i <= n; i++)); do
		line=$(stats_nth "$1" "$i")
		if [ "$(link_field "$line" l2 state)" = up ]; then
			L2_TX=$(link_field "$line" l2 tx_data)
			return 0
		fi
	done
	return 1
}

# flap CASE MODE W1 W2 W3: traffic at RATE with echo while l2's veth on the
# edge side goes down for ~1 s; leaves send/recv JSON as $TMP/sendCASE.json,
# $TMP/recvCASE.json. Returns non-zero if the run itself broke.
flap() {
	local c=$1 mode=$2 n0 states st
	shift 2

	braid_start "$mode" "$@" || { fail "$c: braid did not come up"; braid_stop; return 1; }
	start_recv "recv$c" 6000 --echo || { fail "$c: recv did not bind"; braid_stop; return 1; }
	bg SEND_PID "$NSE" "send$c" "$BENCH" send --quiet --json "$TMP/send$c.json" \
		--to 127.0.0.1:5000 --rate "$RATE" --duration 30 --flows 1
	sleep 1.5
	log "$c: veth2 (link l2) down in the edge namespace"
	ip -n "$NSE" link set veth2 down
	sleep 1
	n0=$(stats_count "$TMP/edge.log")
	ip -n "$NSE" link set veth2 up
	log "$c: veth2 up again"
	L2_TX=
	if wait_until 15 l2_up_after "$TMP/edge.log" "$n0"; then
		log "$c: l2 reported up again with tx_data $L2_TX"
		# Traffic goes on for a while on the recovered link.
		sleep 1.5
	else
		fail "$c: l2 back up" "no stats line shows l2 up within 15 s of the link coming back"
	fi
	# First SIGINT: stop sending, collect the echoes still in flight.
	stop_pid "$SEND_PID" INT || echo "# braid-bench send exited with status $?"
	stop_recv
	braid_stop || fail "$c: braidd did not exit cleanly on SIGTERM"

	states=$(grep '^stats ' "$TMP/edge.log" | sed 's/^stats //' |
		jq -r '.links[] | select(.name == "l2") | .state' | uniq | paste -sd, -)
	log "$c: l2 states over the run (1 s samples): $states"
	st=$(stats_last "$TMP/edge.log")
	if [ -n "$L2_TX" ] && [ -n "$st" ]; then
		local tx_end state_end
		tx_end=$(link_field "$st" l2 tx_data)
		state_end=$(link_field "$st" l2 state)
		if [ "$state_end" = up ] && [ "$tx_end" -gt "$L2_TX" ]; then
			pass "$c: l2 carries data again after coming back (tx_data $L2_TX -> $tx_end, state $state_end)"
		else
			fail "$c: l2 carries data again" "tx_data $L2_TX -> $tx_end, state $state_end"
		fi
	fi
	if [ ! -s "$TMP/send$c.json" ] || [ ! -s "$TMP/recv$c.json" ]; then
		fail "$c" "no JSON summary from send or recv"
		return 1
	fi
}

# ---- 2: duplicate mode, a link down mid-run -----------------------------------
case2() {
	flap 2 duplicate 1 1 1 || return
	check_delivery 2 "$TMP/send2.json" "$TMP/recv2.json"
	eq "2: forward missing (nothing lost)" "$FWD_MISSING" 0
	eq "2: reverse missing (nothing lost)" "$REV_MISSING" 0
}

# ---- 3: aggregate mode, a link down mid-run -----------------------------------
case3() {
	local bound=$((RATE * 3 * PROBE_MS / 1000))

	flap 3 aggregate 5 3 2 || return
	check_delivery 3 "$TMP/send3.json" "$TMP/recv3.json"
	for d in forward:$FWD_MISSING reverse:$REV_MISSING; do
		if [ "${d##*:}" -le "$bound" ]; then
			pass "3: ${d%%:*} missing ${d##*:} <= $bound (rate $RATE/s x 3 x probe interval ${PROBE_MS}ms: the in-flight window)"
		else
			fail "3: ${d%%:*} missing <= $bound (rate $RATE/s x 3 x probe interval ${PROBE_MS}ms)" \
				"${d##*:} missing"
		fi
	done
}

case0
if [ -x "$BRAIDD" ]; then
	for c in case1 case2 case3; do
		f0=$LIB_FAIL
		$c
		dump_on_fail "$f0"
	done
else
	fail "1-3: braid cases" "$BRAIDD not built"
fi
lib_finish
