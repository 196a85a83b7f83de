#!/usr/bin/env bash
# The hub's TCP destinations (issue 7): tcp:// through the kernel and
# dpdk-tcp:// through DPDK's af_packet PMD, each carrying every bond datagram
# as one message framed by a 2-byte big-endian length, both ways.
#
#   root ns: braid-bench send --echo -> braidd edge =2 loopback links=> braidd hub
#            hub tcp://      via tck0 10.93.1.1/24 <-veth-> tck1 10.93.1.2/24
#            hub dpdk-tcp:// via tcv0 (no address: DPDK owns 10.93.0.1 there)
#                                       <-veth-> tcv1 10.93.0.2/24
#   ns braid-tcp-PID: braid-bench tcp-server --echo on :18900
#
# For each kind, three cases, each with a fresh edge, hub and server:
#   a) a clean stream: every message reaches the server intact, once and in
#      order, and every echo comes back to the edge;
#   b) the server killed mid-stream and started again 0.5 s later: the hub
#      connects again, the stream resumes, the server sees nothing twice,
#      corrupt or out of order, what is missing is one range around the
#      restart, and the hub counted what came while it was down;
#   c) about 5% of TCP segments dropped each way at the namespace's end of
#      the veth (nftables): everything still arrives intact and in order,
#      and the TCP under test retransmitted.
# Each case prints its numbers as '# ...' lines. Ports 18900-18949; the
# namespace and both veth pairs are deleted on exit.
set -u
. "$(dirname "$0")/lib.sh"
lib_require "${BUILD:-build}" braidd braidctl braid-bench
[ "$(id -u)" -eq 0 ] || skip_all "needs root (a network namespace and veth pairs)"
command -v ip >/dev/null || skip_all "ip (iproute2) is not installed"
for l in tck0 tcv0; do
	ip link show "$l" >/dev/null 2>&1 &&
		skip_all "an interface $l exists already (a run that was killed? ip link del $l)"
done
lib_init_local "${BUILD:-build}"
BENCH=$B/braid-bench

NS=braid-tcp-$$
# lib.sh's cleanup kills what runs in NSH and deletes it; with the
# namespace go the veth pairs.
# shellcheck disable=SC2034 # lib.sh's cleanup reads it
NSH=$NS
ip netns add "$NS" 2>/dev/null || skip_all "cannot create a network namespace (ip netns add)"

PORT=18900		# the server, in the namespace
APP=127.0.0.1:18901	# the edge's app port
RATE=1000		# messages/s of every stream
SIZE=1000		# bytes per message: most cross a TCP segment boundary
DROP_PERMILLE=50	# case c

# ---- topology -------------------------------------------------------------

HAVE_DPDK_NET=1
tcp_dest_net "$NS" tck0 tck1 10.93.1 tcv0 tcv1 10.93.0
case $? in
0) ;;
1) skip_all "cannot set up the veth pairs tck0/tck1 and tcv0/tcv1" ;;
*)
	skip "dpdk-tcp:// cases" "ethtool cannot turn the DPDK veth's offloads off (is it installed?)"
	HAVE_DPDK_NET=0
	;;
esac

# Case c's dropper: nftables on the namespace's end of the veth, in the
# netdev family's ingress and egress hooks (this kernel has no netem and no
# tc gact), dropping DROP_PERMILLE of the IPv4 frames each way at random.
# ARP passes, so the loss is TCP's alone. The egress hook runs after the
# server's TCP has sent the segment, so it is a loss on the wire to it.
HAVE_DROP=1
drop_why=
if ! command -v nft >/dev/null; then
	HAVE_DROP=0
	drop_why="nft is not installed (apt-get install nftables)"
fi

# drop_on DEV / drop_off DEV: the dropper on both directions of DEV (the
# namespace's end), or gone.
drop_on() {
	ip netns exec "$NS" nft -f - <<-EOF
	table netdev braid_loss {
		chain in { type filter hook ingress device "$1" priority 0; meta protocol ip counter; meta protocol ip numgen random mod 1000 < $DROP_PERMILLE counter drop; }
		chain out { type filter hook egress device "$1" priority 0; meta protocol ip counter; meta protocol ip numgen random mod 1000 < $DROP_PERMILLE counter drop; }
	}
	EOF
}
drop_off() { ip netns exec "$NS" nft delete table netdev braid_loss 2>/dev/null || true; }
# What the dropper saw (both directions) and what it dropped: "PACKETS DROPPED".
drop_counts() {
	ip netns exec "$NS" nft list table netdev braid_loss 2>/dev/null | awk '
		/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") v = $(i + 1)
				    if (/drop/) d += v; else p += v }
		END { print p + 0, d + 0 }'
}
if [ "$HAVE_DROP" = 1 ]; then
	if drop_on tck1; then
		drop_off tck1
	else
		HAVE_DROP=0
		drop_why="nft cannot add netdev ingress/egress hooks (CONFIG_NETFILTER_EGRESS)"
	fi
fi

# ---- the processes ----------------------------------------------------------

make_key
# confs KIND: the edge's and the hub's configs for a destination of KIND
# (tcp or dpdk-tcp).
confs() {
	if [ "$1" = tcp ]; then
		local_confs 2 "$APP" "tcp://10.93.1.2:$PORT" 18910 18920 18920 'latency = 100ms\n' '' \
			'reconnect-min = 10ms\nreconnect-max = 200ms\n'
	else
		local_confs 2 "$APP" "dpdk-tcp://10.93.0.2:$PORT" 18910 18920 18920 'latency = 100ms\n' \
			"$(dpdk_section tcv0 10.93.0.1/24)\n" 'reconnect-min = 10ms\nreconnect-max = 200ms\n'
	fi
}

bond_up() {
	kill -0 "$HUB" 2>/dev/null || return 0	# dead: up() says why
	links_up edge 2
}
tcp_json() { ctl hub stats --json 2>/dev/null | jq -c '.tcp // empty' 2>/dev/null; }
tcp_up() { [ "$(tcp_json | jq -r .state)" = up ]; }
server_listening() { [ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$PORT" 2>/dev/null)" ]; }

# server NAME: a tcp-server in the namespace; its summary goes to
# $TMP/NAME.json when it is stopped. Sets SRV.
server() {
	bg SRV "$NS" "$1" "$BENCH" tcp-server --listen "0.0.0.0:$PORT" --echo --json "$TMP/$1.json"
	wait_until 5 server_listening
}

# up KIND CASE: a server, then hub and edge; the bond up and the hub's
# connection established. Returns 2 if braidd has no DPDK.
up() {
	confs "$1"
	server "srv-$2" || { UP_FAILED=1; fail "$2: the server listens" "see $TMP/srv-$2.log"; return 1; }
	local_start HUB "hub-$2" "$B/braidd" -c "$TMP/hub.conf"
	local_start EDGE "edge-$2" "$B/braidd" -c "$TMP/edge.conf"
	HUB_LOG=$TMP/hub-$2.log
	if ! wait_until 15 bond_up || ! wait_until 10 tcp_up; then
		if grep -q 'built without' "$HUB_LOG"; then
			down
			return 2
		fi
		UP_FAILED=1
		fail "$2: the bond came up and the hub connected" \
			"tcp: $(tcp_json); hub log: $(grep -v '^stats ' "$HUB_LOG" | tail -n 3 | tr '\n' '|')"
		down
		return 1
	fi
}

down() {
	[ -n "${EDGE:-}" ] && stop_pid "$EDGE"
	[ -n "${HUB:-}" ] && stop_pid "$HUB"
	[ -n "${SRV:-}" ] && stop_pid "$SRV"
	EDGE='' HUB='' SRV=''
}

# send NAME ARGS...: the stream, with echoes; summary in $TMP/NAME.json.
send() {
	local n=$1
	shift
	"$BENCH" send --to "$APP" --rate "$RATE" --size "$SIZE" --linger 3 --quiet \
		--json "$TMP/$n.json" "$@" 2>"$TMP/$n.log"
}

# dump CASE FAILS_BEFORE: after a FAIL in CASE, what its hub and edge said.
dump() { dump_on_fail "$2" "$TMP/hub-$1.log" "$TMP/edge-$1.log"; }

# check WHAT EXPR: EXPR (a shell arithmetic expression) must hold.
check() {
	if (($2)); then pass "$1"; else fail "$1" "${3:-}"; fi
}

# server_clean LABEL JSON: nothing twice, corrupt, foreign or out of order.
server_clean() {
	local j=$2 d c f r
	read -r d c f r < <(jq -r '"\(.duplicates) \(.corrupt) \(.foreign) \(.reordered)"' "$j")
	check "$1: the server saw no duplicate, corrupt or out-of-order message" \
		"d + c + f + r == 0" "duplicates $d, corrupt $c, foreign $f, out of order $r"
}

# echo_clean LABEL SEND_JSON: the echoes came back intact and once.
echo_clean() {
	local j=$2 d c r
	read -r d c r < <(jq -r '.echo | "\(.duplicates) \(.corrupt) \(.reordered)"' "$j")
	check "$1: echoes back at the edge intact, once and in order" "d + c + r == 0" \
		"duplicates $d, corrupt $c, out of order $r"
}

# ---- the checker first -----------------------------------------------------------

# A checker never shown a fault cannot be trusted to see one: eight bench
# datagrams captured from braid-bench send, framed by hand into one stream
# with a duplicate, two swapped, one corrupted and the last cut short, fed to
# tcp-server on loopback; its verdicts and its echoes must be exactly these.
self_listening() { [ -n "$(ss -Hltn "sport = :18903")" ]; }
checker_selftest() {
	local j=$TMP/self.json cap i srv
	if ! command -v socat >/dev/null; then
		skip "tcp-server's checker" "socat is not installed"
		return
	fi
	socat -u UDP-RECV:18902,bind=127.0.0.1 "OPEN:$TMP/dgrams,creat,trunc" 2>/dev/null &
	cap=$!
	LIB_PIDS+=("$cap")
	sleep 0.2
	"$BENCH" send --to 127.0.0.1:18902 --count 8 --size 100 --rate 1000 --linger 0 --quiet
	sleep 0.2
	stop_pid "$cap" || true
	if [ "$(stat -c %s "$TMP/dgrams" 2>/dev/null)" != 800 ]; then
		fail "tcp-server's checker" "captured $(stat -c %s "$TMP/dgrams" 2>/dev/null) bytes, not 8 datagrams of 100"
		return
	fi
	for i in 0 1 2 3 4 5 6 7; do
		dd if="$TMP/dgrams" of="$TMP/m$i" bs=100 skip=$i count=1 status=none
	done
	printf 'X' | dd of="$TMP/m4" bs=1 seek=60 conv=notrunc status=none	# corrupt
	frame() { printf '\x00\x64'; cat "$TMP/m$1"; }
	{ frame 0; frame 1; frame 1; frame 3; frame 2; frame 4; frame 5; } >"$TMP/intact"
	{ cat "$TMP/intact"; printf '\x00\x64'; head -c 50 "$TMP/m6"; } >"$TMP/stream"
	# The echoes: every intact message, duplicates included, in order.
	{ frame 0; frame 1; frame 1; frame 3; frame 2; frame 5; } >"$TMP/want-echo"

	local_start srv self "$BENCH" tcp-server --listen 127.0.0.1:18903 --echo --json "$j"
	wait_until 5 self_listening ||
		{ fail "tcp-server's checker: it listens"; stop_pid "$srv"; return; }
	socat -t 2 - TCP:127.0.0.1:18903 <"$TMP/stream" >"$TMP/echo" 2>/dev/null
	stop_pid "$srv"
	local got
	got=$(jq -c '{received, unique, duplicates, corrupt, reordered, missing, torn, connections, gaps: .seq[0].gaps}' "$j")
	check "tcp-server's checker: sees the duplicate, the swap, the corruption and the cut ($got)" \
		"$(jq '[.received == 7, .unique == 5, .duplicates == 1, .corrupt == 1, .reordered == 1, .missing == 1, .torn == 1, .connections == 1, .seq[0].gaps == [[4,4]], .highest_seq == 5] | all | if . then 1 else 0 end' "$j")"
	check "tcp-server's checker: echoes exactly the intact messages, framed, in order" \
		"$(cmp -s "$TMP/echo" "$TMP/want-echo" && echo 1 || echo 0)" \
		"$(stat -c %s "$TMP/echo") bytes back, $(stat -c %s "$TMP/want-echo") expected"
}
checker_selftest

# ---- the cases ----------------------------------------------------------------

# a) clean: exact counts both ways.
case_clean() {
	local k=$1 n=2000 t sent uniq echo_u
	up "$k" "$k-clean" || return
	send "send-$k-clean" --count $n
	t=$(tcp_json)
	# The packet path allocates nothing: worker 0 drives the connection.
	local alloc
	alloc=$(ctl hub stats --json | jq '.workers[0].alloc_bytes')
	down
	sent=$(jq .sent "$TMP/send-$k-clean.json")
	uniq=$(jq .unique "$TMP/srv-$k-clean.json")
	echo_u=$(jq .echo.unique "$TMP/send-$k-clean.json")
	log "$k clean: sent $sent, server got $uniq (highest seq $(jq .highest_seq "$TMP/srv-$k-clean.json")), edge got $echo_u echoes; one-way p50/p99 $(jq -r '"\(.one_way_us.p50)/\(.one_way_us.p99)"' "$TMP/send-$k-clean.json") us"
	log "$k clean: hub tcp $t"
	check "$k clean: every message reached the server ($uniq of $n)" "sent == $n && uniq == $n" \
		"sent $sent, server got $uniq"
	server_clean "$k clean" "$TMP/srv-$k-clean.json"
	check "$k clean: no message cut short at the server" \
		"$(jq '.torn + .missing' "$TMP/srv-$k-clean.json") == 0"
	check "$k clean: every echo came back ($echo_u of $n)" "echo_u == $n"
	echo_clean "$k clean" "$TMP/send-$k-clean.json"
	check "$k clean: the hub's worker 0 allocated nothing while it ran ($alloc bytes)" \
		"${alloc:-1} == 0"
	check "$k clean: the hub sent and received $n messages, dropped none, connected once" \
		"$(jq "[.msgs_out == $n, .msgs_in == $n, .dropped_down + .dropped_full == 0, .established == 1] | all | if . then 1 else 0 end" <<<"$t")" \
		"$t"
}

# b) the server killed and started again mid-stream.
case_restart() {
	local k=$1 t sent s1 s2 h1 f2 g1 g2 miss hi2 d e up_ms
	up "$k" "$k-restart" || return
	send "send-$k-restart" --duration 4 &
	local sp=$!
	sleep 1.5
	# The first server's summary comes out on SIGTERM; on the wire its end
	# is the same as a crash: the kernel closes its connection.
	stop_pid "$SRV"
	SRV=
	sleep 0.5
	local t_down
	t_down=$(tcp_json)
	server "srv-$k-restart2" || fail "$k restart: the server listens again"
	local t0
	t0=$(date +%s%N)
	wait_until 5 tcp_up
	up_ms=$((($(date +%s%N) - t0) / 1000000))
	wait "$sp"
	t=$(tcp_json)
	down
	s1=$TMP/srv-$k-restart.json
	s2=$TMP/srv-$k-restart2.json
	sent=$(jq .sent "$TMP/send-$k-restart.json")
	read -r h1 g1 < <(jq -r '"\(.highest_seq) \(.seq[0].gap_ranges // 0)"' "$s1")
	# The second server's first seq, and its gaps after it.
	read -r f2 hi2 g2 < <(jq -r '"\(.seq[0].first // -1) \(.highest_seq // -1) \([.seq[0].gaps[]? | select(.[0] > 0)] | length)"' "$s2")
	miss=$((f2 - h1 - 1))
	d=$(jq .dropped_down <<<"$t")
	e=$(jq .established <<<"$t")
	log "$k restart: sent $sent; server 1 got $(jq .unique "$s1") (seq 0..$h1, $g1 gaps), server 2 got $(jq .unique "$s2") (seq $f2..$hi2, $g2 gaps after $f2); missing between: $miss"
	log "$k restart: hub while down: $t_down"
	log "$k restart: hub at the end: $t (up again $up_ms ms after the server was back)"
	check "$k restart: the hub connected again (established $e)" "e >= 2"
	check "$k restart: messages after the restart reached the server" \
		"$(jq .unique "$s2") > 0 && hi2 == sent - 1" "server 2 highest seq $hi2 of $((sent - 1))"
	server_clean "$k restart (server 1)" "$s1"
	server_clean "$k restart (server 2)" "$s2"
	check "$k restart: the second server got nothing the first had got" "f2 > h1" \
		"server 1 up to $h1, server 2 from $f2"
	check "$k restart: what is missing is one range around the restart (seq $((h1 + 1))..$((f2 - 1)))" \
		"g1 == 0 && g2 == 0 && miss >= 0 && miss <= RATE * 2" \
		"$g1 gaps before, $g2 after, $miss between"
	check "$k restart: the hub counted what came while it was down (dropped_down $d)" "d > 0"
	echo_clean "$k restart" "$TMP/send-$k-restart.json"
}

# c) segments dropped both ways on the namespace's end.
case_drops() {
	local k=$1 dev=$2 n=3000 t sent uniq echo_u pd retr
	if [ "$HAVE_DROP" = 0 ]; then
		skip "$k drops" "$drop_why"
		return
	fi
	up "$k" "$k-drops" || return
	drop_on "$dev" || { fail "$k drops: the dropper attached to $dev"; down; return; }
	send "send-$k-drops" --count $n
	pd=$(drop_counts "$dev")
	t=$(tcp_json)
	if [ "$k" = tcp ]; then
		# The hub's own socket: ss says how many segments it sent again.
		retr=$(ss -Htin dst "10.93.1.2:$PORT" 2>/dev/null | grep -o 'retrans:[0-9]*/[0-9]*' | head -n 1 | cut -d/ -f2)
		retr=${retr:-0}
	else
		retr=$(jq '.retransmits // 0' <<<"$t")
	fi
	drop_off "$dev"
	down
	sent=$(jq .sent "$TMP/send-$k-drops.json")
	uniq=$(jq .unique "$TMP/srv-$k-drops.json")
	echo_u=$(jq .echo.unique "$TMP/send-$k-drops.json")
	log "$k drops: frames passed/dropped at $dev: $pd; hub retransmitted $retr segments"
	log "$k drops: sent $sent, server got $uniq, edge got $echo_u echoes; one-way p50/p99/max $(jq -r '"\(.one_way_us.p50)/\(.one_way_us.p99)/\(.one_way_us.max)"' "$TMP/send-$k-drops.json") us"
	log "$k drops: hub tcp $t"
	check "$k drops: the dropper dropped frames ($pd)" "${pd#* } > 0"
	check "$k drops: every message reached the server ($uniq of $n)" "sent == $n && uniq == $n" \
		"sent $sent, server got $uniq"
	server_clean "$k drops" "$TMP/srv-$k-drops.json"
	check "$k drops: every echo came back ($echo_u of $n)" "echo_u == $n"
	echo_clean "$k drops" "$TMP/send-$k-drops.json"
	check "$k drops: the hub's TCP retransmitted ($retr segments)" "retr > 0"
	if [ "$k" = dpdk-tcp ]; then
		log "$k drops: rto_timeouts $(jq .rto_timeouts <<<"$t"), fast_retransmits $(jq .fast_retransmits <<<"$t"), dup_acks $(jq .dup_acks <<<"$t")"
	fi
	check "$k drops: the hub dropped no message" \
		"$(jq '.dropped_down + .dropped_full' <<<"$t") == 0" "$t"
}

for k in tcp dpdk-tcp; do
	if [ "$k" = tcp ]; then dev=tck1; else dev=tcv1; fi
	if [ "$k" = dpdk-tcp ] && [ "$HAVE_DPDK_NET" = 0 ]; then
		continue
	fi
	f0=$LIB_FAIL
	UP_FAILED=0
	case_clean "$k"
	rc=$?
	if [ "$k" = dpdk-tcp ] && [ $rc -eq 2 ]; then
		skip "dpdk-tcp:// cases" "braidd was built without DPDK (libdpdk-dev, not WITH_DPDK=0)"
		continue
	fi
	dump "$k-clean" "$f0"
	if [ "$UP_FAILED" = 1 ]; then
		# The other cases would only fail the same way, slowly.
		log "$k: not running the restart and drop cases"
		continue
	fi
	f0=$LIB_FAIL
	case_restart "$k"
	dump "$k-restart" "$f0"
	f0=$LIB_FAIL
	case_drops "$k" "$dev"
	dump "$k-drops" "$f0"
done
[ "$LIB_FAIL" -gt 0 ] && echo "# (BRAID_TEST_KEEP=1 keeps every log and config in the temp dir)"

lib_finish
