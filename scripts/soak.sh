#!/usr/bin/env bash
# Soak: SOAK_SECONDS (default 600) of traffic both ways through an edge and a
# hub over three links emulated by braid-linkem (2% loss and 2 ms of jitter
# each, fec = auto, NACK), while a fourth link is added and deleted on both
# ends every 5 s and the weights of the others change. Asserts that:
#   - each braidd's resident memory, sampled every 10 s, stays within 5% of
#     what it was at the end of the warm-up (the first 60 s, or a tenth of a
#     short run);
#   - the counters balance both ways: every datagram sent was delivered to
#     the application, or counted lost by the receiver, or counted dropped by
#     the sender (no link, no buffer), or dropped by the kernel at a socket;
#   - nothing was delivered twice or corrupted.
#
#   scripts/soak.sh BUILD_DIR           (`make soak` runs it; not in `make check`)
# Writes $SOAK_OUT (default bench-results)/soak.json and the RSS samples.
set -u
cd "$(dirname "$0")/.."
. test/integration/lib.sh
SECS=${SOAK_SECONDS:-600}
RATE=${SOAK_RATE:-2000}
OUT=${SOAK_OUT:-bench-results}
WARM=$((SECS / 10 < 60 ? SECS / 10 : 60))
lib_require "${1:-build}" braidd braidctl braid-bench braid-linkem
lib_init_local "${1:-build}"
mkdir -p "$OUT"

# Links 1-3 and the churned link 4: edge 1881N -> linkem 1882N -> hub 1883N.
local_confs 3 127.0.0.1:18800 127.0.0.1:18801 18810 18820 18830 \
	'latency = 100ms\nfec = auto\nnack = yes\nstats-interval = 10s\nworkers = 2\n'
specs=()
for n in 1 2 3 4; do
	specs+=("LISTEN=127.0.0.1:1882$n,TARGET=127.0.0.1:1883$n,delay=5ms,jitter=2ms,loss=0.02")
done
"$B/braid-linkem" --seed 11 "${specs[@]}" >"$TMP/linkem.log" 2>&1 &
LIB_PIDS+=($!)
local_start RECV recv "$B/braid-bench" recv --listen 127.0.0.1:18801 --echo --quiet \
	--json "$TMP/recv.json"
local_start HUB hub "$B/braidd" -c "$TMP/hub.conf"
local_start EDGE edge "$B/braidd" -c "$TMP/edge.conf"
must "the bond came up" wait_until 10 links_up edge

echo "soak: ${SECS}s at $RATE datagrams/s each way, warm-up ${WARM}s"
local_start SEND send "$B/braid-bench" send --to 127.0.0.1:18800 --rate "$RATE" \
	--duration "$SECS" --size 600 --linger 3 --quiet --json "$TMP/send.json"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
: >"$OUT/soak-rss.dat"
t0=$(date +%s)
i=0
base_edge=
base_hub=
while kill -0 "$SEND" 2>/dev/null; do
	t=$(( $(date +%s) - t0 ))
	[ "$t" -ge "$SECS" ] && break
	# Every 5 s: link 4 in or out on both ends; weights moved about.
	if [ $((i % 5)) -eq 0 ]; then
		if [ $((i / 5 % 2)) -eq 0 ]; then
			ctl hub link add l4 local=127.0.0.1:18834 id=3 >/dev/null &&
				ctl edge link add l4 local=127.0.0.1:18814 remote=127.0.0.1:18824 id=3 \
					>/dev/null || log "t=$t: link add failed"
		else
			ctl edge link del l4 >/dev/null && ctl hub link del l4 >/dev/null ||
				log "t=$t: link del failed"
		fi
		w=$(( (i / 5) % 3 ))
		ctl edge link set l$((w + 1)) weight=$((w + 2)) >/dev/null
		ctl edge link set l$(( (w + 1) % 3 + 1 )) weight=auto >/dev/null
	fi
	if [ $((i % 10)) -eq 0 ]; then
		re=$(rss "$EDGE")
		rh=$(rss "$HUB")
		echo "$t $re $rh" >>"$OUT/soak-rss.dat"
		if [ -z "$base_edge" ] && [ "$t" -ge "$WARM" ]; then
			base_edge=$re
			base_hub=$rh
			log "t=${t}s: after warm-up, RSS edge $re kB, hub $rh kB"
		fi
	fi
	i=$((i + 1))
	sleep 1
done
wait "$SEND"
kill -TERM "$RECV" 2>/dev/null
wait "$RECV" 2>/dev/null
sleep 1

# Memory: flat within 5% of the post-warm-up sample.
for side in edge hub; do
	col=2
	[ "$side" = hub ] && col=3
	base=$(eval echo "\$base_$side")
	max=$(awk -v w="$WARM" -v c="$col" '$1 >= w && $c > m { m = $c } END { print m + 0 }' \
		"$OUT/soak-rss.dat")
	if [ -z "$base" ]; then
		fail "$side: no RSS sample after the warm-up"
	elif [ $((max * 100)) -le $((base * 105)) ]; then
		pass "$side: RSS after warm-up $base kB, at most $max kB (within 5%)"
	else
		fail "$side: RSS grew from $base kB to $max kB"
	fi
done

# The books: datagrams sent = delivered + counted lost + counted dropped by
# the sender + dropped by the kernel at the receiving application socket.
drops() { # port
	awk -v p="$(printf ':%04X' "$1")" \
		'NR > 1 && substr($2, length($2) - 4) == p { s += $NF } END { print s + 0 }' /proc/net/udp
}
E=$(ctl edge stats --json)
H=$(ctl hub stats --json)
sent=$(jq .sent "$TMP/send.json")
got=$(jq .unique "$TMP/recv.json")
hub_lost=$(jq '.bond.lost' <<<"$H")
edge_drop=$(jq '.bond.no_link + .bond.tx_nobuf + .bond.no_session + .bond.oversize +
	([.workers[].flows_full] | add)' <<<"$E")
k_hub=$(( $(drops 18800) + $(drops 18801) ))
bal=$((got + hub_lost + edge_drop + k_hub))
log "edge to hub: sent $sent, delivered $got, lost $hub_lost, dropped by the edge $edge_drop, by the kernel $k_hub (app sockets)"
[ "$bal" -eq "$sent" ] && pass "edge to hub balances: $sent = $got + $hub_lost + $edge_drop + $k_hub" ||
	fail "edge to hub: $sent sent, $bal accounted for"
echo_got=$(jq .echo.unique "$TMP/send.json")
edge_lost=$(jq '.bond.lost' <<<"$E")
hub_drop=$(jq '.bond.no_link + .bond.tx_nobuf + .bond.no_session + .bond.oversize +
	([.workers[].flows_full] | add)' <<<"$H")
bal=$((echo_got + edge_lost + hub_drop))
log "hub to edge: echoed $got, delivered $echo_got, lost $edge_lost, dropped by the hub $hub_drop"
[ "$bal" -eq "$got" ] && pass "hub to edge balances: $got = $echo_got + $edge_lost + $hub_drop" ||
	fail "hub to edge: $got sent, $bal accounted for"
[ "$(jq '.duplicates + .corrupt + .foreign' "$TMP/recv.json")" -eq 0 ] &&
	[ "$(jq '.echo.duplicates + .echo.corrupt + .echo.foreign' "$TMP/send.json")" -eq 0 ] &&
	pass "nothing duplicated or corrupted either way" || fail "duplicates or corruption"

jq -n --argjson secs "$SECS" --argjson rate "$RATE" --argjson send "$(cat "$TMP/send.json")" \
	--argjson recv "$(cat "$TMP/recv.json")" --argjson edge "$E" --argjson hub "$H" \
	--arg rss "$(cat "$OUT/soak-rss.dat")" \
	'{seconds: $secs, rate: $rate, sent: $send.sent, delivered: $recv.unique,
	  echoed: $send.echo.unique, edge: $edge.bond, hub: $hub.bond,
	  rss_kb: ($rss | split("\n") | map(select(length > 0) | split(" ") | map(tonumber)))}' \
	>"$OUT/soak.json"
echo "wrote $OUT/soak.json and $OUT/soak-rss.dat"
dump_on_fail 0
stop_pid "$EDGE"
stop_pid "$HUB"
lib_finish
