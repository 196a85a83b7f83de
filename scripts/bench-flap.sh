#!/usr/bin/env bash
# Link health over lossy links, with real processes: does a link that only
# loses packets stay in the schedule, and how soon does a dark one leave it?
#
#   scripts/bench-flap.sh BUILD_DIR        (`make bench-flap`)
#
# An edge and a hub with the default bond settings (probe-interval 100ms)
# over three braid-linkem links of 2 ms each way, 1000 datagrams/s of 500
# bytes each way (echoed), for FLAP_SECONDS (default 60) at each loss rate
# in FLAP_LOSS (default "0.05 0.20", each way on every link); then, without
# loss, link l1 dark for 2 s, FLAP_BLACKOUTS times (default 5): how long
# after the blackout began the edge had l1 out of the schedule, from its
# stats lines (every 100 ms). Prints a table; writes BENCH_OUT/flap.json.
set -euo pipefail
B=${1:?usage: bench-flap.sh BUILD_DIR}
B=$(cd "$B" && pwd)
cd "$(dirname "$0")/.."
SECS=${FLAP_SECONDS:-60}
LOSSES=${FLAP_LOSS:-0.05 0.20}
NBLACK=${FLAP_BLACKOUTS:-5}
OUT=${BENCH_OUT:-bench-results}
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/braid-flap.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ "${BENCH_KEEP:-0}" = 1 ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
head -c 32 /dev/urandom | base64 >"$TMP/key"
chmod 600 "$TMP/key"

conf() { # role
	printf '[bond]\nrole = %s\nkey = %s\nstats-interval = 100ms\ncontrol = %s/%s.sock\n' \
		"$1" "$TMP/key" "$TMP" "$1"
	if [ "$1" = edge ]; then
		printf '[app]\nlisten = 127.0.0.1:19700\n'
	else
		printf '[app]\ndestination = 127.0.0.1:19701\n'
	fi
	for n in 1 2 3; do
		if [ "$1" = edge ]; then
			printf '[link l%d]\nlocal = 127.0.0.1:1971%d\nremote = 127.0.0.1:1973%d\n' "$n" "$n" "$n"
		else
			printf '[link l%d]\nlocal = 127.0.0.1:1972%d\n' "$n" "$n"
		fi
	done
}
conf edge >"$TMP/edge.conf"
conf hub >"$TMP/hub.conf"

# run NAME SECONDS SPEC1 SPEC2 SPEC3: one pair over linkem; leaves the logs.
run() {
	local name=$1 secs=$2 n specs=() pids=()
	shift 2
	for n in 1 2 3; do
		specs+=("LISTEN=127.0.0.1:1973$n,TARGET=127.0.0.1:1972$n,$1")
		shift
	done
	"$B/braid-bench" recv --listen 127.0.0.1:19701 --echo --quiet --json "$TMP/$name.recv.json" \
		2>/dev/null &
	pids+=($!)
	"$B/braid-linkem" --seed 7 "${specs[@]}" 2>"$TMP/$name.linkem.log" &
	pids+=($!)
	date +%s.%N >"$TMP/$name.t0"
	"$B/braidd" -c "$TMP/hub.conf" 2>"$TMP/$name.hub.log" &
	pids+=($!)
	"$B/braidd" -c "$TMP/edge.conf" 2>"$TMP/$name.edge.log" &
	pids+=($!)
	PIDS+=("${pids[@]}")
	sleep 1
	"$B/braid-bench" send --to 127.0.0.1:19700 --rate 1000 --duration "$secs" --size 500 \
		--linger 1 --quiet --json "$TMP/$name.send.json" 2>/dev/null
	kill -TERM "${pids[3]}" "${pids[2]}"
	wait "${pids[3]}" "${pids[2]}" || true
	kill -TERM "${pids[0]}" "${pids[1]}"
	wait "${pids[0]}" "${pids[1]}" || true
}
last_stats() { grep '^stats ' "$1" | tail -n 1 | cut -c7-; }

echo "link health: 3 links of 2 ms, default probe-interval (100 ms), 1000 datagrams/s each way"
printf '%-10s %8s %22s %22s %10s\n' loss seconds "down_events edge" "down_events hub" lost
rows=()
for p in $LOSSES; do
	spec="delay=2ms,loss=$p"
	run "loss$p" "$SECS" "$spec" "$spec" "$spec"
	e=$(last_stats "$TMP/loss$p.edge.log")
	h=$(last_stats "$TMP/loss$p.hub.log")
	de=$(jq -c '[.links[].down_events]' <<<"$e")
	dh=$(jq -c '[.links[].down_events]' <<<"$h")
	lost=$(jq -n --argjson e "$e" --argjson h "$h" '$e.bond.lost + $h.bond.lost')
	printf '%-10s %8s %22s %22s %10s\n' "$p" "$SECS" "$de" "$dh" "$lost"
	rows+=("{\"loss\":$p,\"seconds\":$SECS,\"down_events_edge\":$de,\"down_events_hub\":$dh,\"lost\":$lost}")
done

# Blackouts: l1 dark for 2 s at 3 s, 8 s, 13 s ... from linkem's start.
{
	echo "delay = 2ms"
	for i in $(seq 0 $((NBLACK - 1))); do echo "at $((3 + 5 * i))s blackout 2000ms"; done
} >"$TMP/black.profile"
run black $((3 + 5 * NBLACK)) "profile=$TMP/black.profile" "delay=2ms" "delay=2ms"
t0=$(cat "$TMP/black.t0")
det=()
for i in $(seq 0 $((NBLACK - 1))); do
	at=$(awk -v t="$t0" -v i="$i" 'BEGIN { printf "%.3f", t + 3 + 5 * i }')
	# The first stats line after the blackout began with l1 not up.
	d=$(grep '^stats ' "$TMP/black.edge.log" | cut -c7- |
		jq -r --argjson at "$at" 'select(.time >= $at and (.links[] | select(.name == "l1") | .state) != "up") | .time - $at' |
		head -n 1)
	det+=("${d:-null}")
done
ms=$(printf '%s\n' "${det[@]}" | awk '$1 != "null" { printf "%.0f\n", $1 * 1000 }' | sort -n)
med=$(awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "null" }' <<<"$ms")
lo=$(head -n 1 <<<"$ms")
hi=$(tail -n 1 <<<"$ms")
echo "blackout of l1 (2 s, $NBLACK times): out of the schedule after ${med} ms median (range ${lo}-${hi} ms; 3 probe intervals = 300 ms, stats every 100 ms)"
printf '{"loss":[%s],"blackout_detect_ms":{"median":%s,"min":%s,"max":%s,"runs":%s}}\n' \
	"$(IFS=,; echo "${rows[*]}")" "${med:-null}" "${lo:-null}" "${hi:-null}" "$NBLACK" >"$OUT/flap.json"
echo "wrote $OUT/flap.json"
