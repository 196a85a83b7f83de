#!/usr/bin/env bash
# make demo: an edge and a hub on this machine, bonded over 3 emulated links
# (braid-linkem: an LTE link in good shape, a DSL line, an LTE link in bad
# shape; aggregate, the earliest-arrival scheduler), with a traffic generator
# sending through the bond to an echo server behind the hub. Shown live: the
# echoed stream's one-way latency percentiles (half the round trip, as the
# sender measures it) and each link's Mbit/s and share of what the edge
# sends. Link 1 goes dark for DEMO_BLACKOUT seconds (default 4) in the middle
# of the run, to show the traffic move and come back. DEMO_SECONDS (default
# 30) bounds it; Ctrl-C ends it.
set -euo pipefail
B=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"
SECS=${DEMO_SECONDS:-30}
# 500 x 1200 B: what the two links left carry while link 1 is dark.
RATE=${DEMO_RATE:-500}
DARK=${DEMO_BLACKOUT:-4}
d=$(mktemp -d /tmp/braid-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${DEMO_KEEP:-0}" = 1 ]; then echo "logs kept in $d"; else echo "logs were in $d (removed)"; rm -rf "$d"; fi
}
trap cleanup EXIT INT TERM

head -c 32 /dev/urandom | base64 > "$d/key"; chmod 600 "$d/key"
# The edge reaches the hub through the emulator: link n goes to linkem's
# 730n, which forwards to the hub's 720n. The links' delays differ by up to
# ~75 ms with jitter, so the latency budget covers that skew.
for r in edge hub; do
	sed -e "s#^key *=.*#key = $d/key#" -e "s#^stats-interval *=.*##" -e "s#^latency *=.*##" \
		-e "s#^remote = 127.0.0.1:720#remote = 127.0.0.1:730#" "docs/examples/$r.conf" > "$d/$r.conf"
	sed -i "/^\[bond\]/a stats-interval = 1s\nlatency = 100ms" "$d/$r.conf"
done
profiles=(lte-good dsl lte-bad)
# Link 1 as shipped, and dark for DARK s from the middle of the traffic
# (which starts 0.5 s after the emulator).
dark_at=$(awk -v s="$SECS" -v d="$DARK" 'BEGIN { print int(s / 2 - d / 2 + 0.5) }')
{ cat tools/linkem/lte-good.profile; [ "$DARK" != 0 ] && echo "at ${dark_at}s blackout ${DARK}s"; } >"$d/link1.profile"
specs=("LISTEN=127.0.0.1:7301,TARGET=127.0.0.1:7201,profile=$d/link1.profile")
for n in 2 3; do
	specs+=("LISTEN=127.0.0.1:730$n,TARGET=127.0.0.1:720$n,profile=tools/linkem/${profiles[n-1]}.profile")
done
"$B/braid-linkem" --seed 1 "${specs[@]}" 2>"$d/linkem.log" & pids+=($!)

"$B/braid-bench" recv --listen 127.0.0.1:6000 --echo --quiet --json "$d/recv.json" 2>"$d/recv.log" & pids+=($!)
"$B/braidd" -c "$d/hub.conf" 2>"$d/hub.log" & pids+=($!)
"$B/braidd" -c "$d/edge.conf" 2>"$d/edge.log" & pids+=($!)
sleep 0.5
"$B/braid-bench" send --to 127.0.0.1:5000 --rate "$RATE" --size 1200 --duration "$SECS" --flows 2 \
	--json "$d/send.json" 2>"$d/send.log" & sender=$!; pids+=($sender)

echo "braid demo: edge 127.0.0.1:5000 ==lo1 lte-good, lo2 dsl, lo3 lte-bad (emulated)==> hub -> echo 127.0.0.1:6000, $RATE datagrams/s for ${SECS}s"
t0=$(date +%s)
tput civis 2>/dev/null || true
while kill -0 "$sender" 2>/dev/null; do
	sleep 1
	# The last two stats lines: the links' Mbit/s between them.
	two=$(grep '^stats ' "$d/edge.log" | tail -n 2 | cut -c7- | jq -s -c . 2>/dev/null || true)
	[ -n "$two" ] && [ "$(jq length <<<"$two")" = 2 ] || continue
	printf '\033[H\033[2J'
	echo "braid demo — edge view; links emulated by braid-linkem: lo1 lte-good, lo2 dsl, lo3 lte-bad (Ctrl-C to stop)"
	el=$(( $(date +%s) - t0 ))
	if [ "$DARK" != 0 ]; then
		if [ "$el" -lt "$dark_at" ]; then echo "${el}s: lo1 goes dark at ${dark_at}s for ${DARK}s"
		elif [ "$el" -lt $((dark_at + DARK)) ]; then echo "${el}s: lo1 is DARK (blackout until $((dark_at + DARK))s)"
		else echo "${el}s: lo1 was dark from ${dark_at}s to $((dark_at + DARK))s"; fi
	fi
	jq -r '.[1] | "session \(.session)   sent \(.bond.app_rx_pkts)   came back \(.bond.delivered_pkts)   lost \(.bond.lost)   duplicates \(.bond.duplicates)   reordered \(.bond.reordered)"' <<<"$two"
	# braid-bench's progress line: the echoes' one-way latency so far.
	lat=$(tr '\r' '\n' <"$d/send.log" | grep -o 'one-way p50 [0-9.]*us p99 [0-9.]*us' | tail -n 1 |
		awk '{ printf "one-way latency of the echoed stream so far: p50 %.1f ms, p99 %.1f ms", $3 / 1000, $5 / 1000 }')
	echo "${lat:-one-way latency: waiting for echoes}"
	echo
	jq -r '.[0] as $a | .[1] as $b | ($b.time - $a.time) as $dt |
	  ([range(0; $b.links | length)] | map($b.links[.].tx_bytes - $a.links[.].tx_bytes) | add) as $all |
	  (["link","state","Mbit/s","share","rtt_ms","owd_rel_ms","rate_Mbit/s","tx_loss","rx_loss","downs"] | @tsv),
	  ($b.links | to_entries[] | .key as $i | .value as $l | ($l.tx_bytes - $a.links[$i].tx_bytes) as $by |
	   [$l.name, $l.state, (if $dt > 0 then ($by * 8 / $dt / 1e6 * 100 | round / 100) else 0 end),
	    (if $all > 0 then (($by / $all * 1000 | round) / 10 | tostring) + "%" else "-" end),
	    ($l.rtt_us / 1000 | . * 10 | round / 10), ($l.owd_rel_us / 1000 | . * 10 | round / 10),
	    ($l.rate_bps / 1e6 | . * 10 | round / 10),
	    (($l.tx_loss_ppm / 1e4 * 100 | round / 100 | tostring) + "%"),
	    (($l.rx_loss_ppm / 1e4 * 100 | round / 100 | tostring) + "%"), $l.down_events] | @tsv)' \
		<<<"$two" | column -t
done
tput cnorm 2>/dev/null || true
kill -TERM "${pids[1]}" "${pids[2]}" "${pids[3]}" 2>/dev/null || true
wait "${pids[1]}" "${pids[2]}" "${pids[3]}" 2>/dev/null || true
echo
if [ -s "$d/send.json" ]; then
	jq -r '"sent \(.sent), came back \(.echo.unique), missing \(.echo.missing), duplicates \(.echo.duplicates)",
	  "one-way latency of the echoed stream: p50 \(.one_way_us.p50 / 1000 | . * 100 | round / 100) ms, p99 \(.one_way_us.p99 / 1000 | . * 100 | round / 100) ms, p99.9 \(.one_way_us.p99_9 / 1000 | . * 100 | round / 100) ms, max \(.one_way_us.max / 1000 | . * 100 | round / 100) ms"' "$d/send.json"
else
	tail -n 3 "$d/send.log"
fi
