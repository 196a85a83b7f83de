#!/usr/bin/env bash
# Latency and throughput benchmark on loopback: braid against two bare
# forwarders (the floor any user-space relay pair has to pay) and against
# going direct.
#
#   scripts/bench-latency.sh BUILD_DIR        (`make bench` runs it)
#
# Latency: sockperf ping-pong (64-byte messages) through
#   direct      client -> sockperf server 127.0.0.1:6000
#   forwarders  client -> udpfwd :5100 -> udpfwd :5200 -> server
#   braid       client -> braidd edge :5000 =3 links=> braidd hub -> server
# run alternately (ABCABC...) so drift in the machine's load hits all three
# alike. Throughput: braid-bench send --rate 0 (1400-byte datagrams) through
# the braid pair and through the forwarder pair to braid-bench recv.
#
# Environment: BENCH_SECONDS (latency run length, default 10), BENCH_ROUNDS
# (default 2), BENCH_TP_SECONDS (throughput run length, default 5),
# BENCH_OUT (results directory, default bench-results), BENCH_KEEP=1 (keep
# the temporary directory with configs and logs).
# Writes BENCH_OUT/latency.json and BENCH_OUT/throughput.json.
set -euo pipefail

B=${1:?usage: bench-latency.sh BUILD_DIR}
B=$(cd "$B" && pwd)
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
TP_SECONDS=${BENCH_TP_SECONDS:-5}
OUT=${BENCH_OUT:-bench-results}

BRAIDD=$B/braidd
UDPFWD=$B/udpfwd
BENCH=$B/braid-bench

die() { echo "bench: $*" >&2; exit 1; }
for t in sockperf jq taskset awk; do
	command -v "$t" >/dev/null || die "$t not found (make deps installs it)"
done
for t in "$UDPFWD" "$BENCH"; do
	[ -x "$t" ] || die "$t not built (run make)"
done
HAVE_BRAID=1
if [ ! -x "$BRAIDD" ]; then
	echo "bench: WARNING: $BRAIDD not built: braid rows are skipped" >&2
	HAVE_BRAID=0
fi

# Two cores: the measuring programs (sockperf client and server, the bench
# sender) on one, the relays under test (both udpfwd, or both braidd) on the
# other, so a relay never waits for the CPU its own client holds. The
# throughput receiver sits with the relays: beside a sender that never
# sleeps it would measure its own starvation, not the relays. Every
# configuration gets the same placement. BENCH_CPU_APP / BENCH_CPU_RELAY
# override it.
#
# That placement is what the throughput runs use. For latency, BENCH_PIN
# picks it:
#   one (default)  every process on CPU 0: each hop is a same-CPU wakeup,
#                  so the figures measure the software cost of each hop and
#                  repeat from run to run; this reproduces the reference
#                  figures for this machine (~9 us direct, ~25 us through
#                  two forwarders);
#   free           the scheduler places everything, as on a user's machine;
#                  on 2 shared cores it varies run to run (a direct path
#                  measured 6 us in one run and 36 us in the next);
#   split          the throughput placement: every hop crosses CPUs.
NCPU=$(nproc)
TP_CPU_APP=${BENCH_CPU_APP:-0}
TP_CPU_RELAY=${BENCH_CPU_RELAY:-$((NCPU >= 2 ? 1 : 0))}
if [ "${BENCH_PIN:-one}" = one ]; then
	CPU_APP=${BENCH_CPU_APP:-0}
	CPU_RELAY=${BENCH_CPU_RELAY:-0}
elif [ "${BENCH_PIN:-one}" = free ]; then
	CPU_APP=${BENCH_CPU_APP:-0-$((NCPU - 1))}
	CPU_RELAY=${BENCH_CPU_RELAY:-0-$((NCPU - 1))}
else
	CPU_APP=${BENCH_CPU_APP:-0}
	if [ "$NCPU" -ge 2 ]; then
		CPU_RELAY=${BENCH_CPU_RELAY:-1}
	else
		CPU_RELAY=${BENCH_CPU_RELAY:-0}
	fi
fi
PIN_NOTE="latency (BENCH_PIN=${BENCH_PIN:-one}): cpus $CPU_APP sockperf client+server, cpus $CPU_RELAY relays (udpfwd x2 or braidd edge+hub, 1 worker each); throughput: cpu $TP_CPU_APP braid-bench send, cpu $TP_CPU_RELAY relays and braid-bench recv; $NCPU cpus online"

TMP=$(mktemp -d /tmp/braid-bench.XXXXXX)
PIDS=()
edge_PID='' hub_PID='' sockperf_sr_PID=''	# set by start()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a background process pinned to a CPU: start NAME CPU CMD...; its
# stderr goes to $TMP/NAME.log and its pid to the variable NAME_PID.
start() {
	local name=$1 cpu=$2
	shift 2
	taskset -c "$cpu" "$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
	PIDS+=($!)
	printf -v "${name}_PID" '%s' "$!"
}

# Stops one process that start() began, waits for it and forgets its pid.
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for i in "${!PIDS[@]}"; do
		[ "${PIDS[$i]}" = "$pid" ] && unset 'PIDS[i]'
	done
	return 0
}

# True once the last stats line of a braidd log says ready.
braid_ready() {
	local s
	s=$(grep '^stats ' "$1" 2>/dev/null | tail -n 1 | sed 's/^stats //')
	# jq -e succeeds on empty input: no stats line yet is not ready.
	[ -n "$s" ] && jq -e '.ready == true' <<<"$s" >/dev/null 2>&1
}

wait_ready() {
	local log=$1 pid=$2 i
	for i in $(seq 1 150); do
		braid_ready "$log" && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "braidd exited early ($log)"; }
		sleep 0.1
	done
	cat "$log" >&2
	die "braidd not ready after 15 s ($log)"
}

# ---- set-up -----------------------------------------------------------------
mkdir -p "$OUT"
head -c 32 /dev/urandom | base64 >"$TMP/key"
chmod 600 "$TMP/key"

cat >"$TMP/edge.conf" <<EOF
[bond]
role = edge
key = $TMP/key
mode = aggregate
latency = 20ms
probe-interval = 50ms
stats-interval = 1s
workers = 1
[app]
listen = 127.0.0.1:5000
EOF
cat >"$TMP/hub.conf" <<EOF
[bond]
role = hub
key = $TMP/key
mode = aggregate
latency = 20ms
probe-interval = 50ms
stats-interval = 1s
workers = 1
[app]
destination = 127.0.0.1:6000
EOF
for n in 1 2 3; do
	printf '[link l%d]\nlocal = 127.0.0.1:71%02d\nremote = 127.0.0.1:72%02d\nweight = 1\n' \
		"$n" "$n" "$n" >>"$TMP/edge.conf"
	printf '[link l%d]\nlocal = 127.0.0.1:72%02d\n' "$n" "$n" >>"$TMP/hub.conf"
done

start udpfwd1 "$CPU_RELAY" "$UDPFWD" 127.0.0.1:5100 127.0.0.1:5200
start udpfwd2 "$CPU_RELAY" "$UDPFWD" 127.0.0.1:5200 127.0.0.1:6000
if [ "$HAVE_BRAID" = 1 ]; then
	"$BRAIDD" -c "$TMP/hub.conf" --check >/dev/null || die "hub config rejected"
	"$BRAIDD" -c "$TMP/edge.conf" --check >/dev/null || die "edge config rejected"
	start hub "$CPU_RELAY" "$BRAIDD" -c "$TMP/hub.conf"
	start edge "$CPU_RELAY" "$BRAIDD" -c "$TMP/edge.conf"
	wait_ready "$TMP/edge.log" "$edge_PID"
	wait_ready "$TMP/hub.log" "$hub_PID"
fi
start sockperf_sr "$CPU_APP" sockperf sr -i 127.0.0.1 -p 6000
sleep 0.5

echo "bench: $PIN_NOTE"
echo "bench: latency: sockperf ping-pong, 64 B, ${SECONDS_PER_RUN}s per run, $ROUNDS rounds (ABC order)"

# ---- latency -------------------------------------------------------------------

# Runs one sockperf ping-pong against port $2 and appends a JSON object to
# $TMP/lat.jsonl. sockperf reports one-way latency (half the round trip) in
# usec: "---> percentile 99.000 =   47.740" and "---> <MAX> observation = ...".
# CPU time (user + system, from /proc, in clock ticks) of the relay pair
# a configuration goes through: both forwarders, or edge and hub.
relay_ticks() {
	local p t=0
	case $1 in
	forwarders) set -- "$udpfwd1_PID" "$udpfwd2_PID" ;;
	braid) set -- "$edge_PID" "$hub_PID" ;;
	*) echo 0; return ;;
	esac
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$t"
}
TICK=$(getconf CLK_TCK)

run_pp() {
	local name=$1 port=$2 round=$3 out=$TMP/pp-$1-$3.txt t0 t1
	t0=$(relay_ticks "$name")
	if ! taskset -c "$CPU_APP" sockperf pp -i 127.0.0.1 -p "$port" -m 64 \
		-t "$SECONDS_PER_RUN" >"$out" 2>&1; then
		cat "$out" >&2
		die "sockperf pp to port $port ($name) failed"
	fi
	t1=$(relay_ticks "$name")
	# Each round trip is two datagrams through each of the two relays.
	sed 's/\x1b\[[0-9;]*m//g' "$out" | awk -v name="$name" -v round="$round" \
		-v ticks=$((t1 - t0)) -v hz="$TICK" '
		/percentile 50\.000 =/ { p50 = $NF }
		/percentile 99\.000 =/ { p99 = $NF }
		/percentile 99\.900 =/ { p999 = $NF }
		/<MAX> observation =/  { max = $NF }
		/avg-latency=/ { sub(/.*avg-latency=/, ""); sub(/ .*/, ""); avg = $0 }
		/Total [0-9]+ observations/ { for (i = 1; i <= NF; i++) if ($i == "Total") n = $(i + 1) }
		END {
			if (p50 == "" || p99 == "" || max == "") exit 1
			cpu = (name == "direct" || n == 0) ? "null" : sprintf("%.3f", ticks * 1e6 / hz / (n * 4))
			printf "{\"config\":\"%s\",\"round\":%d,\"observations\":%d,\"avg_us\":%s,\"p50_us\":%s,\"p99_us\":%s,\"p99_9_us\":%s,\"max_us\":%s,\"relay_cpu_us_per_datagram\":%s}\n",
				name, round, n + 0, avg == "" ? "null" : avg, p50, p99, p999 == "" ? "null" : p999, max, cpu
		}' >>"$TMP/lat.jsonl" || { cat "$out" >&2; die "cannot parse sockperf output ($out)"; }
}

: >"$TMP/lat.jsonl"
configs=(direct:6000 forwarders:5100)
[ "$HAVE_BRAID" = 1 ] && configs+=(braid:5000)
for r in $(seq 1 "$ROUNDS"); do
	for c in "${configs[@]}"; do
		run_pp "${c%%:*}" "${c##*:}" "$r"
		tail -n 1 "$TMP/lat.jsonl" | jq -r '"  round \(.round) \(.config): p50 \(.p50_us) p99 \(.p99_us) max \(.max_us) usec"'
	done
done

# Per configuration: the mean over rounds of each percentile, the max of maxes.
jq -s --argjson secs "$SECONDS_PER_RUN" --argjson rounds "$ROUNDS" \
	--arg cpus "$PIN_NOTE" '
	def mean(f): (map(f) | add / length);
	def r3: . * 1000 | round / 1000;
	(group_by(.config) | map({key: .[0].config, value: {
		p50_us: (mean(.p50_us) | r3), p99_us: (mean(.p99_us) | r3),
		p99_9_us: (mean(.p99_9_us // 0) | r3), max_us: (map(.max_us) | max),
		relay_cpu_us_per_datagram: (if .[0].relay_cpu_us_per_datagram == null then null
			else (mean(.relay_cpu_us_per_datagram) | r3) end),
		runs: .}}) | from_entries) as $res
	| {tool: "sockperf ping-pong, 64 B, one-way = rtt/2, usec", seconds_per_run: $secs,
	   rounds: $rounds, order: "direct, forwarders, braid per round", cpus: $cpus,
	   results: $res,
	   ratio_braid_vs_forwarders: (if $res.braid and $res.forwarders then {
		p50: ($res.braid.p50_us / $res.forwarders.p50_us | r3),
		p99: ($res.braid.p99_us / $res.forwarders.p99_us | r3)} else null end)}
	' "$TMP/lat.jsonl" >"$OUT/latency.json"

echo
echo "one-way latency, usec (sockperf pp, mean of $ROUNDS rounds; max = worst run)"
printf '%-12s %10s %10s %10s %10s %16s\n' config p50 p99 p99.9 max cpu/datagram
jq -r '.results | to_entries[] | [.key, .value.p50_us, .value.p99_us, .value.p99_9_us, .value.max_us,
	(.value.relay_cpu_us_per_datagram // "-")] | @tsv' \
	"$OUT/latency.json" | sort -t$'\t' -k2,2n |
	awk -F'\t' '{ printf "%-12s %10.3f %10.3f %10.3f %10.3f %16s\n", $1, $2, $3, $4, $5, $6 }'
echo "(cpu/datagram: user+system CPU us of one relay per datagram it forwards, from /proc)"
jq -r 'if .ratio_braid_vs_forwarders then
	"braid / forwarders: p50 x\(.ratio_braid_vs_forwarders.p50), p99 x\(.ratio_braid_vs_forwarders.p99)"
	else "braid / forwarders: n/a (braid skipped)" end' "$OUT/latency.json"

# ---- throughput --------------------------------------------------------------
# The receiver takes the sockperf server's port, so that goes first.
stop "$sockperf_sr_PID"
sleep 0.2

# A bond counter from the newest complete stats line of a braidd log.
bond_counter() {
	grep '^stats ' "$1" | tail -n 2 | sed 's/^stats //' | jq -c ".bond.$2" 2>/dev/null | tail -n 1
}

# Runs braid-bench send at full speed to $2 for TP_SECONDS, counted by a
# receiver on the destination port; prints one JSON object. For braid it
# adds how many datagrams the edge took in and the hub handed on, to show
# where the rest were dropped.
run_tp() {
	local name=$1 to=$2 e0=0 h0=0 e1=0 h1=0
	if [ "$name" = braid ]; then
		e0=$(bond_counter "$TMP/edge.log" app_rx_pkts)
		h0=$(bond_counter "$TMP/hub.log" delivered_pkts)
	fi
	start recv_"$name" "$TP_CPU_RELAY" "$BENCH" recv --listen 127.0.0.1:6000 --quiet \
		--json "$TMP/tp-recv-$name.json"
	local rpid_var=recv_${name}_PID
	sleep 0.3
	taskset -c "$TP_CPU_APP" "$BENCH" send --to "$to" --rate 0 --size 1400 \
		--duration "$TP_SECONDS" --linger 0 --quiet --json "$TMP/tp-send-$name.json" \
		2>"$TMP/tp-send-$name.log" || { cat "$TMP/tp-send-$name.log" >&2; die "send ($name) failed"; }
	# Let the relays drain what they still hold, then stop the receiver.
	sleep 1
	stop "${!rpid_var}"
	[ -s "$TMP/tp-recv-$name.json" ] || { cat "$TMP/recv_$name.log" >&2; die "recv ($name) wrote nothing"; }
	if [ "$name" = braid ]; then
		sleep 1.2	# one more stats interval
		e1=$(bond_counter "$TMP/edge.log" app_rx_pkts)
		h1=$(bond_counter "$TMP/hub.log" delivered_pkts)
	fi
	jq -n --arg name "$name" --slurpfile s "$TMP/tp-send-$name.json" \
		--slurpfile r "$TMP/tp-recv-$name.json" \
		--argjson e "$((${e1:-0} - ${e0:-0}))" --argjson h "$((${h1:-0} - ${h0:-0}))" '
		($s[0]) as $s | ($r[0]) as $r |
		{key: $name, value: ({sent: $s.sent, sent_pps: $s.pps, delivered: $r.unique,
		 delivered_pps: $r.pps, delivered_mbps: $r.mbps, lost: ($s.sent - $r.unique),
		 loss_pct: (if $s.sent > 0 then (($s.sent - $r.unique) * 100000 / $s.sent | round) / 1000 else 0 end),
		 duplicates: $r.duplicates, corrupt: $r.corrupt} +
		 (if $name == "braid" then {edge_app_rx: $e, hub_delivered: $h} else {} end))}'
}

echo
echo "throughput: braid-bench send --rate 0 --size 1400 for ${TP_SECONDS}s"
# The relays move to their own CPU, away from the sender that floods.
for p in "$udpfwd1_PID" "$udpfwd2_PID" "$edge_PID" "$hub_PID"; do
	[ -n "$p" ] && taskset -a -p -c "$TP_CPU_RELAY" "$p" >/dev/null 2>&1
done
{
	run_tp forwarders 127.0.0.1:5100
	[ "$HAVE_BRAID" = 1 ] && run_tp braid 127.0.0.1:5000
} >"$TMP/tp.jsonl"
jq -s --argjson secs "$TP_SECONDS" --arg cpus "$PIN_NOTE" \
	'{tool: "braid-bench send --rate 0 --size 1400 -> braid-bench recv", seconds: $secs,
	  size: 1400, cpus: $cpus, results: from_entries}' "$TMP/tp.jsonl" >"$OUT/throughput.json"

printf '%-12s %12s %14s %12s %10s %8s\n' config sent/s delivered/s Mbit/s lost loss%
jq -r '.results | to_entries[] | [.key, .value.sent_pps, .value.delivered_pps, .value.delivered_mbps, .value.lost, .value.loss_pct] | @tsv' \
	"$OUT/throughput.json" |
	awk -F'\t' '{ printf "%-12s %12.0f %14.0f %12.1f %10d %8.3f\n", $1, $2, $3, $4, $5, $6 }'
if [ "$HAVE_BRAID" = 1 ]; then
	jq -r '.results.braid | "braid: the edge took in \(.edge_app_rx) of \(.sent) sent, the hub handed on \(.hub_delivered), the receiver got \(.delivered)"' \
		"$OUT/throughput.json"
fi

# ---- instructions per datagram (callgrind) ----------------------------------
# A relay process under callgrind counts user-space instructions, the same
# from run to run however busy the machine is. Two runs of the same length,
# CG_LO and CG_HI paced round trips of 64 bytes: the difference divided by the
# extra datagrams (each round trip crosses the relay twice) leaves out what
# does not depend on traffic (start-up, timers, probes, shutdown).
CG_LO=${BENCH_CG_LO:-200}
CG_HI=${BENCH_CG_HI:-1000}
CG_SECONDS=4
cg_total() { # name port count -- relay command...
	local name=$1 port=$2 count=$3 pid echoed
	shift 4
	# --fair-sched: without it the worker thread, blocked in io_uring_enter,
	# can keep the main thread (signals, stats) from ever running.
	valgrind --tool=callgrind --fair-sched=yes --log-file="$TMP/cg-$name-$count.vg" \
		--callgrind-out-file="$TMP/cg-$name-$count.out" "$@" 2>"$TMP/cg-$name-$count.log" &
	pid=$!
	PIDS+=("$pid")
	if [[ $name == braid* ]]; then
		# Under valgrind the periodic stats lines may not come; the
		# links coming up (probes answered, so a session) will.
		for _ in $(seq 1 150); do
			[ "$(grep -c 'link l[0-9] is up' "$TMP/cg-$name-$count.log" 2>/dev/null)" -ge 3 ] && break
			kill -0 "$pid" 2>/dev/null || die "braidd under callgrind exited early"
			sleep 0.1
		done
	else
		for _ in $(seq 1 100); do
			ss -Hlun "sport = :$port" | grep -q . && break
			sleep 0.1
		done
	fi
	"$BENCH" send --to "127.0.0.1:$port" --rate $((count / CG_SECONDS)) --count "$count" \
		--size 64 --quiet --json "$TMP/cg-send-$name-$count.json" 2>/dev/null ||
		die "send through $name under callgrind failed"
	stop "$pid"
	echoed=$(jq '.echo.unique' "$TMP/cg-send-$name-$count.json")
	[ "$echoed" -ge $((count * 95 / 100)) ] ||
		die "$name under callgrind echoed only $echoed of $count round trips"
	# "instructions round-trips"
	echo "$(grep -oE 'Collected : [0-9]+' "$TMP/cg-$name-$count.vg" | grep -oE '[0-9]+$' | tail -n 1) $echoed"
}
cg_measure() { # name port -- relay command...
	local name=$1 port=$2 lo hi a b
	shift 3
	cg_total "$name" "$port" "$CG_LO" -- "$@" >"$TMP/cg-lo"
	cg_total "$name" "$port" "$CG_HI" -- "$@" >"$TMP/cg-hi"
	read -r lo a <"$TMP/cg-lo"
	read -r hi b <"$TMP/cg-hi"
	[ -n "$lo" ] && [ -n "$hi" ] || die "no callgrind totals for $name"
	jq -n --arg n "$name" --argjson lo "$lo" --argjson hi "$hi" --argjson a "$a" --argjson b "$b" \
		'{key: $n, value: {instructions_lo: $lo, instructions_hi: $hi, round_trips_lo: $a,
		  round_trips_hi: $b, instructions_per_datagram: (($hi - $lo) / (($b - $a) * 2) | round)}}'
}
if command -v valgrind >/dev/null; then
	echo
	echo "instructions per datagram (callgrind; $CG_LO vs $CG_HI paced 64-byte round trips through one relay)"
	start cg_echo "$TP_CPU_RELAY" "$BENCH" recv --listen 127.0.0.1:6000 --echo --quiet
	sleep 0.3
	{
		cg_measure forwarder 5300 -- "$UDPFWD" 127.0.0.1:5300 127.0.0.1:6000
		if [ "$HAVE_BRAID" = 1 ]; then
			# The edge under callgrind replaces the running one; the
			# hub takes each new handshake.
			stop "$edge_PID"
			cg_measure braid-edge 5000 -- "$BRAIDD" -c "$TMP/edge.conf"
		fi
	} >"$TMP/cg.jsonl"
	stop "$cg_echo_PID"
	jq -s '{tool: "valgrind --tool=callgrind, difference of two runs of equal length",
		size: 64, results: from_entries}' "$TMP/cg.jsonl" >"$OUT/instructions.json"
	jq -r '.results | to_entries[] | "  \(.key): \(.value.instructions_per_datagram) instructions per datagram"' \
		"$OUT/instructions.json"
else
	echo "bench: valgrind is not installed: no instruction counts" >&2
fi

echo
echo "wrote $OUT/latency.json $OUT/throughput.json $OUT/instructions.json"
echo "note: 2 cores only; $PIN_NOTE"
