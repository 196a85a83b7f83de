#!/usr/bin/env bash
# The hub's TCP destinations side by side (issue 7): the same message stream
# through tcp:// (the kernel's TCP, driven through io_uring) and dpdk-tcp://
# (braid's minimal TCP on a DPDK port), and, for reference, the plain udp://
# destination over the same wire.
#
#   scripts/bench-tcp.sh BUILD_DIR            (as root: a namespace, veths)
#
#   root ns: braid-bench send --rate R (echoed) -> braidd edge =2 loopback
#            links=> braidd hub, whose destination is
#              tcp://      via tbk0 10.93.11.1 <-veth-> tbk1 10.93.11.2
#              dpdk-tcp:// via tbv0 (DPDK's af_packet PMD, 10.93.10.1 in DPDK)
#                                       <-veth-> tbv1 10.93.10.2
#              udp://      via tbk0, to braid-bench recv --echo
#   ns braid-tcpb-PID: braid-bench tcp-server --echo (or recv --echo)
#
# Latency is what braid-bench send reports: one-way = round trip / 2, from
# the edge's application through both braidd, the TCP destination and back.
# The server also stamps each message's arrival against the sender's
# CLOCK_MONOTONIC (the namespace shares the clock): "server one-way" is the
# edge-to-server half alone.
#
# NOTE: af_packet on a veth is not a real NIC. The af_packet PMD copies every
# frame through a kernel packet socket, so dpdk-tcp:// here measures braid's
# code path (its TCP, framing and polling), not what DPDK does on hardware.
#
# Environment: BENCH_RATE (messages/s, default 2000), BENCH_SECONDS (default
# 10), BENCH_SIZE (bytes per message, default 200), BENCH_ROUNDS (default 1;
# the kinds alternate within a round), BENCH_OUT (default bench-results),
# BENCH_KEEP=1 (keep the temporary directory). Ports 18930-18949.
# Writes BENCH_OUT/tcp.json.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: bench-tcp.sh BUILD_DIR" >&2; exit 2; }
cd "$(dirname "$0")/.."
. test/integration/lib.sh

RATE=${BENCH_RATE:-2000}
SECS=${BENCH_SECONDS:-10}
SIZE=${BENCH_SIZE:-200}
ROUNDS=${BENCH_ROUNDS:-1}
OUT=${BENCH_OUT:-bench-results}
BRAID_TEST_KEEP=${BENCH_KEEP:-0}	# lib.sh's cleanup keeps $TMP then
PORT=18930
APP=127.0.0.1:18931
NOTE="af_packet on a veth is not a real NIC: the af_packet PMD copies every frame through a kernel packet socket, so dpdk-tcp:// measures braid's code path, not DPDK's speed on hardware"

die() { echo "bench-tcp: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (a network namespace and veth pairs)"
for t in ip jq ethtool ss; do
	command -v "$t" >/dev/null || die "$t not found (make deps installs it)"
done
for t in braidd braidctl braid-bench; do
	[ -x "$1/$t" ] || die "$1/$t not built (run make)"
done
for l in tbk0 tbv0; do
	ip link show "$l" >/dev/null 2>&1 && die "an interface $l exists already (a run that was killed? ip link del $l)"
done
lib_init_local "$1"
BRAIDD=$B/braidd
BENCH=$B/braid-bench

# lib.sh's cleanup stops what was started, kills what is left in NSH and
# deletes it; the veth pairs go with it.
NS=braid-tcpb-$$
NSH=$NS
ip netns add "$NS"
tcp_dest_net "$NS" tbk0 tbk1 10.93.11 tbv0 tbv1 10.93.10 ||
	die "cannot set up the veth pairs, or turn tbv0/tbv1's offloads off"

# confs KIND: the edge's and the hub's configs for a destination of KIND.
confs() {
	local dest extra=
	case $1 in
	tcp) dest=tcp://10.93.11.2:$PORT ;;
	dpdk-tcp)
		dest=dpdk-tcp://10.93.10.2:$PORT
		extra="$(dpdk_section tbv0 10.93.10.1/24)\n"
		;;
	udp) dest=10.93.11.2:$PORT ;;
	esac
	local_confs 2 "$APP" "$dest" 18940 18944 18944 'latency = 20ms\n' "$extra"
}

# stop_all PID...: stops each (their exit status is not this script's).
stop_all() {
	local p
	for p in "$@"; do
		stop_pid "$p" || true
	done
}

dest_up() { # KIND
	[ "$1" = udp ] && return 0
	[ "$(ctl hub stats --json 2>/dev/null | jq -r '.tcp.state // empty')" = up ]
}
listening() { # udp|tcp
	local o=-Hltn
	[ "$1" = udp ] && o=-Hlun
	[ -n "$(ip netns exec "$NS" ss "$o" "sport = :$PORT" 2>/dev/null)" ]
}

# run KIND ROUND: one stream through a fresh server, hub and edge; a JSON
# object line on stdout.
run() {
	local k=$1 r=$2 tag=$1-$2 srv hub edge hubj
	if [ "$k" = udp ]; then
		bg srv "$NS" "srv-$tag" "$BENCH" recv --listen "0.0.0.0:$PORT" --echo --quiet \
			--json "$TMP/srv-$tag.json"
		wait_until 5 listening udp || die "$k: the receiver did not bind"
	else
		bg srv "$NS" "srv-$tag" "$BENCH" tcp-server --listen "0.0.0.0:$PORT" --echo --quiet \
			--json "$TMP/srv-$tag.json"
		wait_until 5 listening tcp || die "$k: the server did not listen"
	fi
	confs "$k"
	local_start hub "hub-$tag" "$BRAIDD" -c "$TMP/hub.conf"
	local_start edge "edge-$tag" "$BRAIDD" -c "$TMP/edge.conf"
	if ! wait_until 15 links_up edge 2 || ! wait_until 10 dest_up "$k"; then
		stop_all "$edge" "$hub" "$srv"
		if [ "$k" = dpdk-tcp ] && grep -q 'built without' "$TMP/hub-$tag.log"; then
			echo "bench-tcp: braidd was built without DPDK: no dpdk-tcp:// row" >&2
			return 0
		fi
		grep -v '^stats ' "$TMP/hub-$tag.log" | tail -n 10 >&2
		echo "bench-tcp: WARNING: $k: the bond or the destination did not come up: no $k row" >&2
		FAILED=1
		return 0
	fi
	sleep 0.5
	"$BENCH" send --to "$APP" --rate "$RATE" --duration "$SECS" --size "$SIZE" --linger 2 \
		--quiet --json "$TMP/send-$tag.json" 2>"$TMP/send-$tag.log" ||
		die "$k: braid-bench send failed"
	hubj=$(ctl hub stats --json 2>/dev/null | jq -c '.tcp // {}')
	stop_all "$edge" "$hub" "$srv"
	jq -n -c --arg k "$k" --argjson r "$r" --slurpfile s "$TMP/send-$tag.json" \
		--slurpfile v "$TMP/srv-$tag.json" --argjson t "$hubj" '
		($s[0]) as $s | ($v[0]) as $v |
		{kind: $k, round: $r, sent: $s.sent, server_unique: $v.unique,
		 server_reordered: $v.reordered, echoed_back: $s.echo.unique,
		 one_way_us: $s.one_way_us, server_one_way_us: $v.one_way_us,
		 hub_tcp: $t}'
}

echo "bench-tcp: $RATE messages/s of $SIZE bytes for ${SECS}s, echoed; $ROUNDS round(s); $(nproc) cpus"
echo "bench-tcp: note: $NOTE"
: >"$TMP/runs.jsonl"
FAILED=0
for r in $(seq 1 "$ROUNDS"); do
	for k in tcp dpdk-tcp udp; do
		run "$k" "$r" >>"$TMP/runs.jsonl"
		tail -n 1 "$TMP/runs.jsonl" | jq -r 'select(.round == '"$r"' and .kind == "'"$k"'") |
			"  round \(.round) \(.kind): sent \(.sent), server got \(.server_unique), echoes \(.echoed_back); one-way p50 \(.one_way_us.p50) p99 \(.one_way_us.p99) us"'
	done
done

mkdir -p "$OUT"
jq -s --argjson rate "$RATE" --argjson secs "$SECS" --argjson size "$SIZE" \
	--argjson rounds "$ROUNDS" --arg note "$NOTE" --arg cpus "$(nproc)" '
	def mean(f): (map(f) | add / length);
	def r3: . * 1000 | round / 1000;
	def lat(f): {p50: (mean(f.p50) | r3), p90: (mean(f.p90) | r3), p99: (mean(f.p99) | r3),
		p99_9: (mean(f.p99_9) | r3), max: (map(f.max) | max)};
	{tool: "braid-bench send (echoed) -> braidd edge => hub -> destination; one-way = rtt/2, usec",
	 rate: $rate, seconds: $secs, size: $size, rounds: $rounds, cpus: ($cpus | tonumber),
	 note: $note,
	 results: (group_by(.kind) | map({key: .[0].kind, value: {
		one_way_us: lat(.one_way_us), server_one_way_us: lat(.server_one_way_us),
		sent: mean(.sent), server_unique: mean(.server_unique),
		echoed_back: mean(.echoed_back), server_reordered: mean(.server_reordered),
		runs: .}}) | from_entries)}' "$TMP/runs.jsonl" >"$OUT/tcp.json"

echo
echo "one-way latency, usec (rtt/2 at the edge's application; server: edge to server only)"
printf '%-10s %9s %9s %9s %9s %9s | %9s %9s | %11s %7s\n' kind p50 p90 p99 p99.9 max \
	srv.p50 srv.p99 delivered echoed
for k in tcp dpdk-tcp udp; do
	jq -r --arg k "$k" '.results[$k] // empty | [$k, .one_way_us.p50, .one_way_us.p90, .one_way_us.p99,
		.one_way_us.p99_9, .one_way_us.max, .server_one_way_us.p50, .server_one_way_us.p99,
		"\(.server_unique)/\(.sent)", "\(.echoed_back)"] | @tsv' "$OUT/tcp.json" |
		awk -F'\t' '{ printf "%-10s %9.1f %9.1f %9.1f %9.1f %9.1f | %9.1f %9.1f | %11s %7s\n",
			$1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
done
echo
echo "note: $NOTE."
echo "wrote $OUT/tcp.json"
[ "$FAILED" = 0 ] || die "some kinds did not run (see the warnings above)"
