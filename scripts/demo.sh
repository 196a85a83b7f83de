#!/usr/bin/env bash
# make demo: an edge and a hub on this machine, bonded over 3 emulated links
# (braid-linkem: an LTE link in good shape, a DSL line, an LTE link in bad
# shape; weights 5:3:2, aggregate), with a traffic generator sending through
# the bond to an echo server behind the hub, and the edge's per-link counters
# shown live. DEMO_SECONDS (default 30) bounds it; Ctrl-C ends it.
set -euo pipefail
B=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"
SECS=${DEMO_SECONDS:-30}
RATE=${DEMO_RATE:-1000}
d=$(mktemp -d /tmp/braid-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "logs were in $d (removed)"; rm -rf "$d"
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
specs=()
for n in 1 2 3; do
	specs+=("LISTEN=127.0.0.1:730$n,TARGET=127.0.0.1:720$n,profile=tools/linkem/${profiles[n-1]}.profile")
done
"$B/braid-linkem" --seed 1 "${specs[@]}" 2>"$d/linkem.log" & pids+=($!)

"$B/braid-bench" recv --listen 127.0.0.1:6000 --echo --quiet --json "$d/recv.json" 2>"$d/recv.log" & pids+=($!)
"$B/braidd" -c "$d/hub.conf" 2>"$d/hub.log" & pids+=($!)
"$B/braidd" -c "$d/edge.conf" 2>"$d/edge.log" & pids+=($!)
sleep 0.5
"$B/braid-bench" send --to 127.0.0.1:5000 --rate "$RATE" --size 1200 --duration "$SECS" --flows 2 \
	--quiet --json "$d/send.json" 2>"$d/send.log" & sender=$!; pids+=($sender)

echo "braid demo: edge 127.0.0.1:5000 ==lo1 lte-good, lo2 dsl, lo3 lte-bad (emulated)==> hub -> echo 127.0.0.1:6000, $RATE datagrams/s for ${SECS}s"
tput civis 2>/dev/null || true
while kill -0 "$sender" 2>/dev/null; do
	sleep 1
	line=$(grep '^stats ' "$d/edge.log" | tail -n 1 | cut -c7-)
	[ -n "$line" ] || continue
	printf '\033[H\033[2J'
	echo "braid demo — edge view; links emulated by braid-linkem: lo1 lte-good, lo2 dsl, lo3 lte-bad (Ctrl-C to stop)"
	jq -r '"session \(.session)   sent \(.bond.app_rx_pkts)   came back \(.bond.delivered_pkts)   lost \(.bond.lost)   duplicates \(.bond.duplicates)   reordered \(.bond.reordered)\n"' <<<"$line"
	jq -r '(["link","state","weight","tx_data","rx_data","rtt_us","jitter_us","loss_ppm","downs"] | @tsv),
	  (.links[] | [.name,.state,.weight,.tx_data,.rx_data,.rtt_us,.jitter_us,.loss_ppm,.down_events] | @tsv)' \
		<<<"$line" | column -t
done
tput cnorm 2>/dev/null || true
kill -TERM "${pids[1]}" "${pids[2]}" "${pids[3]}" 2>/dev/null || true
wait "${pids[1]}" "${pids[2]}" "${pids[3]}" 2>/dev/null || true
echo; echo "sender:"; cat "$d/send.json" 2>/dev/null || tail -n 3 "$d/send.log"
