#!/usr/bin/env bash
# Scenario benchmark: the same traffic over the same emulated links through
# every system, side by side in one run, one table.
#
#   scripts/bench-scenarios.sh BUILD_DIR        (`make bench` runs it)
#
# Systems (each on loopback, each through braid-linkem):
#   direct      braid-bench send -> link 1 -> braid-bench recv
#   forwarders  send -> udpfwd -> link 1 -> udpfwd -> recv   (one path: the floor)
#   braid-agg   send -> braidd edge =links 1..3=> braidd hub -> recv, mode aggregate
#               (NACK on, the default; no FEC), weights fixed to the links' capacity
#   braid-auto  the same with weight = auto (the default): braid finds the shares
#   braid-fec   the same with fec = 8:2 (BENCH_FEC)
#   braid-dup   the same as braid-agg, mode duplicate
#   braid-default  the same path with braid's default config: only the role,
#               key, application address and links are set (and the stats
#               interval the bench reads), as a new user would write it
#   librist     send -> ristsender =links 1..3=> ristreceiver -> recv (main
#               profile, load sharing by weight, ARQ buffer = the latency budget)
# Scenarios (3 links; single-path systems use link 1):
#   lossless    10 ms each
#   loss5       10 ms, 5% random loss each
#   hetero      10/5/2 Mbit/s at 20/40/80 ms
#   blackout    10 ms each, link 1 dark for 2 s, 3 s into the traffic
#   bursty      10 ms, Gilbert-Elliott loss (bursts of 5 on average, ~5% loss)
#   loss5-2ms   2 ms, 5% random loss each (the loss recovery target: residual
#               loss at most 1e-4 with p99 at most 10 ms)
#   degrade     10 ms each; link 3 loses 20% from 2 s to 5 s into the traffic
#               (weight = auto should turn it down within a second and back up
#               after: BENCH_OUT/degrade.json has link 3's share over time)
# Traffic: RATE datagrams/s of SIZE bytes for SECS seconds, one-way latency
# from the sender's timestamp (same host, same clock). braid's latency budget
# and librist's buffer are both BUDGET_MS.
#
# Wire bytes (braid): what the edge sent on all links, probes and parity
# included, over the payload bytes the application sent.
#
# CPU per datagram: user + system time of the relay pair (both forwarders,
# edge + hub, or ristsender + ristreceiver, all threads) while the traffic
# runs, from /proc/PID/task/*/schedstat, divided by the datagrams sent.
# braid-linkem is the network here and is not counted.
#
# Environment: BENCH_SCEN_SECONDS (default 8), BENCH_SCEN_RATE (1000),
# BENCH_SCEN_SIZE (1000), BENCH_SCEN_BUDGET_MS (100), BENCH_FEC (braid-fec's
# code, default 8:2), BENCH_SCENARIOS
# (default: all five), BENCH_SYSTEMS (default: all five), BENCH_OUT
# (default bench-results), BENCH_KEEP=1 (keep the logs).
# Writes BENCH_OUT/scenarios.json and, with gnuplot, the plots
# BENCH_OUT/latency-SCENARIO.png and BENCH_OUT/links-SCENARIO.png.
set -euo pipefail

B=${1:?usage: bench-scenarios.sh BUILD_DIR}
B=$(cd "$B" && pwd)
cd "$(dirname "$0")/.."

SECS=${BENCH_SCEN_SECONDS:-8}
RATE=${BENCH_SCEN_RATE:-1000}
SIZE=${BENCH_SCEN_SIZE:-1000}
BUDGET=${BENCH_SCEN_BUDGET_MS:-100}
SCENARIOS=${BENCH_SCENARIOS:-lossless loss5 hetero blackout bursty loss5-2ms degrade}
SYSTEMS=${BENCH_SYSTEMS:-direct forwarders braid-agg braid-auto braid-fec braid-dup librist}
OUT=${BENCH_OUT:-bench-results}
FEC=${BENCH_FEC:-8:2}		# the code braid-fec uses
LEAD=2		# seconds from link emulator start to the first datagram
STATS_MS=200	# braidd stats interval: the per-link series' resolution

die() { echo "bench: $*" >&2; exit 1; }
for t in jq awk; do
	command -v "$t" >/dev/null || die "$t not found (make deps installs it)"
done
for t in braidd braid-bench braid-linkem udpfwd; do
	[ -x "$B/$t" ] || die "$B/$t not built (run make)"
done
if ! command -v ristsender >/dev/null || ! command -v ristreceiver >/dev/null; then
	echo "bench: WARNING: ristsender/ristreceiver not found (Debian rist-tools): librist rows skipped" >&2
	SYSTEMS=${SYSTEMS//librist/}
fi
HAVE_GNUPLOT=1
command -v gnuplot >/dev/null || { echo "bench: WARNING: gnuplot not found: no plots" >&2; HAVE_GNUPLOT=0; }

TMP=$(mktemp -d /tmp/braid-scen.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bg() { # LOG CMD...: starts CMD in the background; its pid is in $BGPID
	local log=$1
	shift
	"$@" >/dev/null 2>"$log" &
	BGPID=$!
	PIDS+=("$BGPID")
}
halt() { # PID...: SIGTERM, wait, forget
	local p i
	for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "$@"; do
		wait "$p" 2>/dev/null || true
		for i in "${!PIDS[@]}"; do [ "${PIDS[$i]}" = "$p" ] && unset 'PIDS[i]'; done
	done
	return 0
}

# Nanoseconds on the CPU of every thread of the given processes.
cpu_ns() {
	local p t=0 f
	for p in "$@"; do
		for f in /proc/"$p"/task/*/schedstat; do
			[ -r "$f" ] && t=$((t + $(cut -d' ' -f1 "$f" 2>/dev/null || echo 0)))
		done
	done
	echo "$t"
}

mkdir -p "$OUT"
head -c 32 /dev/urandom | base64 >"$TMP/key"
chmod 600 "$TMP/key"

# Ports: the sender sends to :19400, the receiver listens on :19401; link n
# enters braid-linkem at :1941(2n) and leaves it towards :1943(2n).
APP=127.0.0.1:19400
DST=127.0.0.1:19401
lk_in() { echo "127.0.0.1:$((19410 + 2 * $1))"; }
lk_out() { echo "127.0.0.1:$((19430 + 2 * $1))"; }

# Link n of a scenario, as a braid-linkem parameter list.
link_params() { # scenario n
	case $1 in
	lossless) echo "delay=10ms" ;;
	loss5) echo "delay=10ms,loss=0.05" ;;
	hetero)
		local r=(0 10 5 2) d=(0 20 40 80)
		echo "rate=${r[$2]}mbit,delay=${d[$2]}ms,queue=256kb" ;;
	blackout)
		if [ "$2" = 1 ]; then
			printf 'delay = 10ms\nat %ds blackout 2s\n' $((LEAD + 3)) >"$TMP/blackout.profile"
			echo "profile=$TMP/blackout.profile"
		else
			echo "delay=10ms"
		fi ;;
	bursty) echo "delay=10ms,ge=0.0105,0.2" ;;
	loss5-2ms) echo "delay=2ms,loss=0.05" ;;
	degrade)
		if [ "$2" = 3 ]; then
			printf 'delay = 10ms\nat %ds loss 0.2 for 3s\n' $((LEAD + 2)) >"$TMP/degrade.profile"
			echo "profile=$TMP/degrade.profile"
		else
			echo "delay=10ms"
		fi ;;
	*) die "unknown scenario $1" ;;
	esac
}
# Weights that match the links' capacity in the heterogeneous scenario.
link_weight() { # scenario n
	if [ "$1" = hetero ]; then local w=(0 10 5 2); echo "${w[$2]}"; else echo 1; fi
}

braid_conf() { # role mode scenario fec weights(fixed|auto|default)
	local role=$1 n
	if [ "${5:-fixed}" = default ]; then
		printf '[bond]\nrole = %s\nkey = %s\nstats-interval = %dms\n' "$role" "$TMP/key" "$STATS_MS"
		if [ "$role" = edge ]; then printf '[app]\nlisten = %s\n' "$APP"; else printf '[app]\ndestination = %s\n' "$DST"; fi
		for n in 1 2 3; do
			printf '[link l%d]\n' "$n"
			if [ "$role" = edge ]; then
				printf 'local = 127.0.0.1:%d\nremote = %s\n' $((19420 + 2 * n)) "$(lk_in "$n")"
			else
				printf 'local = %s\n' "$(lk_out "$n")"
			fi
		done
		return
	fi
	printf '[bond]\nrole = %s\nkey = %s\nmode = %s\nlatency = %dms\nprobe-interval = 50ms\n' \
		"$role" "$TMP/key" "$2" "$BUDGET"
	printf 'fec = %s\n' "${4:-off}"
	printf 'stats-interval = %dms\nworkers = 1\n' "$STATS_MS"
	if [ "$role" = edge ]; then printf '[app]\nlisten = %s\n' "$APP"; else printf '[app]\ndestination = %s\n' "$DST"; fi
	for n in 1 2 3; do
		if [ "${5:-fixed}" = auto ]; then
			printf '[link l%d]\nweight = auto\n' "$n"
		else
			printf '[link l%d]\nweight = %d\n' "$n" "$(link_weight "$3" "$n")"
		fi
		if [ "$role" = edge ]; then
			printf 'local = 127.0.0.1:%d\nremote = %s\n' $((19420 + 2 * n)) "$(lk_in "$n")"
		else
			printf 'local = %s\n' "$(lk_out "$n")"
		fi
	done
}

edge_ready() { # log: ready and every link up
	local s
	s=$(grep '^stats ' "$1" 2>/dev/null | tail -n 1 | cut -c7-)
	[ -n "$s" ] && jq -e '.ready and all(.links[]; .state == "up")' <<<"$s" >/dev/null 2>&1
}

# run SCENARIO SYSTEM: one measurement; appends one JSON object to
# $TMP/results.jsonl and leaves the logs under $TMP/SCENARIO-SYSTEM.*.
run() {
	local sc=$1 sys=$2 p=$TMP/$1-$2 n specs=() relays=() recv_pid linkem_pid t0 c0 c1 i
	local nlinks=3
	case $sys in direct | forwarders) nlinks=1 ;; esac

	bg "$p.recv.log" "$B/braid-bench" recv --listen "$DST" --quiet --json "$p.recv.json" \
		--hist "$p.hist" --series "$p.series"
	recv_pid=$BGPID
	for n in $(seq 1 "$nlinks"); do
		local target
		target=$(lk_out "$n")
		case $sys in
		direct) target=$DST ;;
		forwarders) target=127.0.0.1:19403 ;;
		esac
		specs+=("LISTEN=$(lk_in "$n"),TARGET=$target,$(link_params "$sc" "$n")")
	done
	t0=$(date +%s.%N)
	bg "$p.linkem.log" "$B/braid-linkem" --seed 7 "${specs[@]}"
	linkem_pid=$BGPID

	case $sys in
	direct)
		: ;;
	forwarders)
		bg "$p.fwd1.log" "$B/udpfwd" "$APP" "$(lk_in 1)"
		relays+=("$BGPID")
		bg "$p.fwd2.log" "$B/udpfwd" 127.0.0.1:19403 "$DST"
		relays+=("$BGPID") ;;
	braid-agg | braid-auto | braid-fec | braid-dup | braid-default)
		local mode=aggregate fec=off weights=fixed
		[ "$sys" = braid-dup ] && mode=duplicate
		[ "$sys" = braid-fec ] && fec=$FEC
		[ "$sys" = braid-auto ] && weights=auto
		[ "$sys" = braid-default ] && weights=default
		braid_conf hub "$mode" "$sc" "$fec" "$weights" >"$p.hub.conf"
		braid_conf edge "$mode" "$sc" "$fec" "$weights" >"$p.edge.conf"
		bg "$p.hub.log" "$B/braidd" -c "$p.hub.conf"
		relays+=("$BGPID")
		bg "$p.edge.log" "$B/braidd" -c "$p.edge.conf"
		relays+=("$BGPID")
		for i in $(seq 1 "$((LEAD * 10))"); do
			edge_ready "$p.edge.log" && break
			sleep 0.1
		done
		edge_ready "$p.edge.log" || { cat "$p.edge.log" >&2; die "$sc/$sys: braid not ready"; } ;;
	librist)
		local ins=() outs=() w
		for n in 1 2 3; do
			w=$(link_weight "$sc" "$n")
			ins+=("rist://@$(lk_out "$n")")
			outs+=("rist://$(lk_in "$n")?weight=$w")
		done
		bg "$p.ristrecv.log" ristreceiver -p 1 -b "$BUDGET" -S 0 -v 4 \
			-i "$(IFS=,; echo "${ins[*]}")" -o "udp://$DST"
		relays+=("$BGPID")
		bg "$p.ristsend.log" ristsender -p 1 -b "$BUDGET" -S 0 -v 4 \
			-i "udp://@$APP" -o "$(IFS=,; echo "${outs[*]}")"
		relays+=("$BGPID") ;;
	*) die "unknown system $sys" ;;
	esac

	# The first datagram leaves LEAD seconds after the emulator started, so
	# timeline events fall at the same point of the traffic for everyone.
	sleep "$(awk -v t0="$t0" -v lead="$LEAD" -v now="$(date +%s.%N)" \
		'BEGIN { s = t0 + lead - now; print (s > 0 ? s : 0) }')"
	local send_start
	send_start=$(date +%s.%N)
	c0=$(cpu_ns "${relays[@]}")
	local to=$APP
	[ "$sys" = direct ] && to=$(lk_in 1)
	"$B/braid-bench" send --to "$to" --rate "$RATE" --duration "$SECS" --size "$SIZE" \
		--linger 0 --quiet --json "$p.send.json" 2>"$p.send.log" ||
		{ cat "$p.send.log" >&2; die "$sc/$sys: send failed"; }
	# What is still in flight: the delay, the budget, the slowest queue.
	sleep "$(awk -v b="$BUDGET" 'BEGIN { print (b + 400) / 1000 }')"
	c1=$(cpu_ns "${relays[@]}")
	halt "$recv_pid"
	[ ${#relays[@]} -gt 0 ] && halt "${relays[@]}"
	halt "$linkem_pid"
	[ -s "$p.recv.json" ] || { cat "$p.recv.log" >&2; die "$sc/$sys: receiver wrote nothing"; }

	local wire=null
	if [ -s "$p.edge.log" ]; then
		wire=$(grep '^stats ' "$p.edge.log" | tail -n 1 | cut -c7- |
			jq '[.links[].tx_bytes] | add // null' 2>/dev/null || echo null)
	fi
	jq -n -c --arg sc "$sc" --arg sys "$sys" --argjson cpu "$((c1 - c0))" --argjson t "$send_start" \
		--argjson wire "${wire:-null}" --argjson size "$SIZE" \
		--slurpfile s "$p.send.json" --slurpfile r "$p.recv.json" '
		($s[0]) as $s | ($r[0]) as $r |
		{scenario: $sc, system: $sys, start_unix: $t, sent: $s.sent, delivered: $r.unique,
		 lost: ($s.sent - $r.unique), duplicates: $r.duplicates,
		 corrupt: ($r.corrupt + $r.foreign), reordered: $r.reordered,
		 loss_ratio: (if $s.sent > 0 then ($s.sent - $r.unique) / $s.sent else null end),
		 one_way_ms: ($r.one_way_us | with_entries(if .key == "samples" then . else .value /= 1000 end)),
		 wire_bytes_per_payload_byte: (if $wire == null or $s.sent == 0 then null
			else ($wire / ($s.sent * $size) * 100 | round / 100) end),
		 pair_cpu_us_per_datagram: (if $sys == "direct" or $s.sent == 0 then null
			else ($cpu / 1000 / $s.sent * 100 | round / 100) end)}' >>"$TMP/results.jsonl"
	jq -r '"  \(.scenario) \(.system): lost \(.lost)/\(.sent), dup \(.duplicates), p50 \(.one_way_ms.p50) ms, p99 \(.one_way_ms.p99) ms\(if .wire_bytes_per_payload_byte then ", wire \(.wire_bytes_per_payload_byte)x" else "" end)"' \
		<<<"$(tail -n 1 "$TMP/results.jsonl")"
}

echo "bench: scenarios: $RATE datagrams/s of $SIZE B for ${SECS}s each; budget/buffer ${BUDGET} ms; $(nproc) cpus"
: >"$TMP/results.jsonl"
for sc in $SCENARIOS; do
	for sys in $SYSTEMS; do
		run "$sc" "$sys"
	done
done

jq -s --argjson rate "$RATE" --argjson size "$SIZE" --argjson secs "$SECS" --argjson budget "$BUDGET" \
	--arg fec "$FEC" '
	{traffic: {rate_pps: $rate, size: $size, seconds: $secs}, budget_ms: $budget,
	 links: {lossless: "3 x 10 ms", loss5: "3 x 10 ms, 5% random loss",
		 hetero: "10/5/2 Mbit/s at 20/40/80 ms, 256 KiB queues",
		 blackout: "3 x 10 ms, link 1 dark for 2 s from 3 s into the traffic",
		 bursty: "3 x 10 ms, Gilbert-Elliott p=0.0105 r=0.2 (bursts of 5, ~5% loss)",
		 "loss5-2ms": "3 x 2 ms, 5% random loss",
		 degrade: "3 x 10 ms, link 3 20% loss from 2 s to 5 s into the traffic"},
	 braid: ("braid-agg and braid-dup: nack = yes (the default), fec = off, weights fixed to the links capacity (10:5:2 in hetero, else equal); braid-auto: as braid-agg with weight = auto; braid-fec: aggregate, fec = " + $fec + ", nack = yes; braid-default: the defaults, nothing but the role, key, application address and links set"),
	 single_path_systems_use: "link 1",
	 cpu: "user+system of the relay pair, all threads, /proc/PID/task/*/schedstat",
	 results: .}' "$TMP/results.jsonl" >"$OUT/scenarios.json"

echo
echo "scenarios: one-way latency in ms; cpu = us of CPU per datagram, both relays together"
printf '%-9s %-11s %6s %6s %9s %4s %8s %8s %8s %8s %6s\n' \
	scenario system sent lost loss dup p50 p99 p99.9 max cpu
jq -r '.results[] | [.scenario, .system, .sent, .lost, .loss_ratio, .duplicates + .corrupt,
	.one_way_ms.p50, .one_way_ms.p99, .one_way_ms.p99_9, .one_way_ms.max,
	(.pair_cpu_us_per_datagram // "-")] | @tsv' "$OUT/scenarios.json" |
	awk -F'\t' '{ printf "%-9s %-11s %6d %6d %9.2e %4d %8.2f %8.2f %8.2f %8.2f %6s\n",
		$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }'
echo "(loss = lost/sent; dup = duplicates + corrupt delivered to the application)"

# ---- plots -------------------------------------------------------------------
if [ "$HAVE_GNUPLOT" = 1 ]; then
	for sc in $SCENARIOS; do
		plot=()
		for sys in $SYSTEMS; do
			[ -s "$TMP/$sc-$sys.hist" ] && grep -qv '^#' "$TMP/$sc-$sys.hist" &&
				plot+=("'$TMP/$sc-$sys.hist' using 2:(\$3/1000) with lines lw 2 title '$sys'")
		done
		[ ${#plot[@]} -gt 0 ] || continue
		gnuplot <<-EOF
		set terminal pngcairo size 900,540 noenhanced
		set output '$OUT/latency-$sc.png'
		set title 'one-way latency by percentile: $sc ($RATE datagrams/s, $SIZE B)'
		set logscale x
		set xtics ("p0" 1, "p90" 10, "p99" 100, "p99.9" 1000, "p99.99" 10000)
		set xlabel 'percentile'
		set ylabel 'one-way latency, ms'
		set key top left
		set grid
		plot $(IFS=,; echo "${plot[*]}")
		EOF
	done
	# Per link, what the hub received (braid aggregate; with weight = auto
	# in degrade), beside what the application received, 0.2 s buckets,
	# time from the first datagram.
	for sc in $SCENARIOS; do
		sys=braid-agg
		[ "$sc" = degrade ] && sys=braid-auto
		p=$TMP/$sc-$sys
		[ -s "$p.hub.log" ] || continue
		t0=$(jq -r --arg sc "$sc" --arg sys "$sys" \
			'.results[] | select(.scenario == $sc and .system == $sys) | .start_unix' \
			"$OUT/scenarios.json")
		grep '^stats ' "$p.hub.log" | cut -c7- | jq -r --argjson t0 "$t0" \
			'[.time - $t0] + [.links[].rx_bytes] | @tsv' |
			awk -F'\t' 'NR > 1 { dt = $1 - t; printf "%.2f", $1; for (i = 2; i <= NF; i++)
				printf " %.3f", (dt > 0 ? ($i - b[i]) * 8 / dt / 1e6 : 0); print "" }
				{ t = $1; for (i = 2; i <= NF; i++) b[i] = $i }' >"$p.links.dat"
		awk -v t0="$t0" '!/^#/ { printf "%.2f %.3f\n", $1 - t0, $3 }' "$p.series" >"$p.app.dat"
		gnuplot <<-EOF
		set terminal pngcairo size 900,540 noenhanced
		set output '$OUT/links-$sc.png'
		set title '$sys, $sc: throughput per link at the hub, and delivered'
		set xlabel 'seconds from the first datagram'
		set ylabel 'Mbit/s'
		set xrange [-0.5:$((SECS + 1))]
		set yrange [0:*]
		set key top right
		set grid
		plot '$p.links.dat' using 1:2 with steps lw 2 title 'link 1 (wire bytes)', \
		     '' using 1:3 with steps lw 2 title 'link 2', \
		     '' using 1:4 with steps lw 2 title 'link 3', \
		     '$p.app.dat' using 1:2 with lines lw 1 lc rgb 'black' title 'delivered to the application'
		EOF
	done
	echo "plots: $(cd "$OUT" && ls latency-*.png links-*.png 2>/dev/null | tr '\n' ' ')"
fi

# degrade: link 3's share of what the edge sent, and its weight, before the
# loss, in its first second, in its last two, and from 1.5 s after it ended.
for sys in braid-agg braid-auto; do
	case " $SCENARIOS " in *" degrade "*) ;; *) break ;; esac
	p=$TMP/degrade-$sys
	[ -s "$p.edge.log" ] || continue
	t0=$(jq -r --arg sys "$sys" '.results[] | select(.scenario == "degrade" and .system == $sys) |
		.start_unix' "$OUT/scenarios.json")
	grep '^stats ' "$p.edge.log" | cut -c7- | jq -c --argjson t0 "$t0" \
		'{t: (.time - $t0), tx: [.links[].tx_bytes], w: [.links[].weight]}' |
		jq -s --arg sys "$sys" '
		def at($t): (map(select(.t <= $t)) | last);
		def share($a; $b): (at($b).tx as $y | at($a).tx as $x |
			(($y[2] - $x[2]) / ([range(0; 3)] | map($y[.] - $x[.]) | add)));
		{system: $sys,
		 link3_share: {before: share(0.5; 2), first_second: share(2; 3),
			       last_two_seconds: share(3; 5), after: share(6.5; '"$SECS"')},
		 link3_weight: {before: at(2).w[2], at_1s: at(3).w[2], at_3s: at(5).w[2],
				after_3s: at(8).w[2]}}' >>"$TMP/degrade.jsonl"
done
if [ -s "$TMP/degrade.jsonl" ]; then
	jq -s '{scenario: "link 3 of 3 loses 20% from 2 s to 5 s (shares of tx bytes at the edge)",
		results: .}' "$TMP/degrade.jsonl" >"$OUT/degrade.json"
	echo "degrade, link 3's share of the edge's bytes (before / first second / seconds 2-3 / after):"
	jq -r '.results[] | "  \(.system): \(.link3_share | [.before, .first_second, .last_two_seconds, .after] |
		map(. * 100 | floor | tostring + "%") | join(" / "))   weight \(.link3_weight |
		[.before, .at_1s, .at_3s, .after_3s] | map(tostring) | join(" / "))"' "$OUT/degrade.json"
fi
echo "wrote $OUT/scenarios.json"
