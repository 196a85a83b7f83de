# shellcheck shell=bash
# Helpers for braid's integration tests; source it, then call lib_init (the
# network-namespace tests) or lib_init_local (tests on the host's loopback).
#
# Two namespaces, an edge and a hub, joined by three veth pairs:
#   edge ns  vethN 10.91.N.1/24  <==>  hub ns  vethN 10.91.N.2/24   (N = 1..3)
# braidd runs in each; the application side is each namespace's own loopback
# (edge app listen 127.0.0.1:5000, hub destination 127.0.0.1:6000), so the
# only way between them is the bond. Everything started is killed and both
# namespaces are deleted on exit (`trap cleanup EXIT`).
#
# Results: pass NAME / fail NAME WHY print one line each; lib_finish prints
# "N passed, N failed[, N skipped]" and exits non-zero on any failure.

LIB_PASS=0
LIB_FAIL=0
LIB_SKIP=0
LIB_PIDS=()
NSE=
NSH=
TMP=

skip_all() {
	echo "SKIP: $*"
	exit 77
}

pass() {
	echo "PASS: $1"
	LIB_PASS=$((LIB_PASS + 1))
}

fail() {
	echo "FAIL: $1${2:+: $2}"
	LIB_FAIL=$((LIB_FAIL + 1))
}

skip() {
	echo "SKIP: $1${2:+: $2}"
	LIB_SKIP=$((LIB_SKIP + 1))
}

lib_finish() {
	local line="$LIB_PASS passed, $LIB_FAIL failed"
	[ "$LIB_SKIP" -gt 0 ] && line="$line, $LIB_SKIP skipped"
	echo "$line"
	[ "$LIB_FAIL" -eq 0 ]
}

log() {
	echo "# $*"
}

# lib_init BUILD_DIR: checks what the tests need (root, ip netns, jq, the
# programs), else SKIP with exit 77; makes the temporary directory and the
# namespaces.
lib_init() {
	B=$(cd "${1:-build}" 2>/dev/null && pwd) || skip_all "no build directory ${1:-build}"
	BRAIDD=$B/braidd
	BENCH=$B/braid-bench
	UDPFWD=$B/udpfwd
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
	command -v ip >/dev/null || skip_all "ip (iproute2) not installed"
	command -v jq >/dev/null || skip_all "jq not installed"
	[ -x "$BENCH" ] || skip_all "$BENCH not built"
	[ -x "$UDPFWD" ] || skip_all "$UDPFWD not built"

	NSE=braid-e-$$
	NSH=braid-h-$$
	TMP=$(mktemp -d /tmp/braid-netns.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	ip netns add "$NSE" 2>/dev/null || skip_all "cannot create a network namespace (ip netns add)"
	ip netns add "$NSH" || skip_all "cannot create a second network namespace"
	ns_setup || skip_all "cannot set up veth pairs between namespaces"
}

# lib_require BUILD_DIR PROG...: SKIP (exit 77) unless every PROG is built
# in BUILD_DIR and jq is installed.
lib_require() {
	local b=$1 t
	shift
	for t in "$@"; do
		[ -x "$b/$t" ] || skip_all "$b/$t is not built"
	done
	command -v jq >/dev/null || skip_all "jq is not installed"
}

# lib_init_local BUILD_DIR: no namespaces and no root needed; only the
# temporary directory, and everything in LIB_PIDS killed on exit.
lib_init_local() {
	B=$(cd "${1:-build}" 2>/dev/null && pwd) || skip_all "no build directory ${1:-build}"
	TMP=$(mktemp -d /tmp/braid-test.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

# ---- an edge and a hub on the host's loopback ---------------------------------

# ctl SIDE ARGS...: braidctl against $TMP/SIDE.sock (local_confs puts the
# control sockets there).
ctl() { "$B/braidctl" -s "$TMP/$1.sock" "${@:2}"; }

# local_confs NLINKS APP_LISTEN APP_DEST EDGE_BASE REMOTE_BASE HUB_BASE
#             [BOND_EXTRA [HUB_EXTRA [HUB_APP_EXTRA]]]
# writes $TMP/edge.conf and $TMP/hub.conf (key $TMP/key, made if missing;
# control $TMP/SIDE.sock; probe-interval 50ms): edge link lN binds
# 127.0.0.1:EDGE_BASE+N and sends to 127.0.0.1:REMOTE_BASE+N, hub link lN
# binds 127.0.0.1:HUB_BASE+N. BOND_EXTRA is added to both [bond]s,
# HUB_EXTRA to the hub's only (it may open sections of its own, e.g.
# [dpdk]), HUB_APP_EXTRA to the hub's [app] (printf escapes, e.g.
# 'workers = 2\n').
local_confs() {
	local n=$1 listen=$2 dest=$3 eb=$4 rb=$5 hb=$6 extra=${7:-} hextra=${8:-} happ=${9:-} role i
	[ -f "$TMP/key" ] || make_key
	for role in edge hub; do
		{
			printf '[bond]\nrole = %s\nkey = %s\ncontrol = %s\nprobe-interval = 50ms\n' \
				"$role" "$TMP/key" "$TMP/$role.sock"
			printf "$extra"
			if [ "$role" = edge ]; then
				printf '[app]\nlisten = %s\n' "$listen"
			else
				printf "$hextra"
				printf '[app]\ndestination = %s\n' "$dest"
				printf "$happ"
			fi
			for i in $(seq 1 "$n"); do
				if [ "$role" = edge ]; then
					printf '[link l%d]\nlocal = 127.0.0.1:%d\nremote = 127.0.0.1:%d\n' \
						"$i" $((eb + i)) $((rb + i))
				else
					printf '[link l%d]\nlocal = 127.0.0.1:%d\n' "$i" $((hb + i))
				fi
			done
		} >"$TMP/$role.conf"
	done
}

# ---- the hub's TCP destinations (test_tcp.sh, scripts/bench-tcp.sh) ---------

# tcp_dest_net NS KROOT KNS KADDR VROOT VNS VADDR: namespace NS (made by the
# caller) with its lo up and two veth pairs into it. KROOT/KNS is for
# tcp:// (KADDR is X.Y.Z: .1/24 at the root end, .2/24 in NS); VROOT/VNS is
# for dpdk-tcp://: no address at the root end, where DPDK's af_packet PMD
# owns VADDR.1, and VADDR.2/24 in NS. Neither end speaks IPv6 (its chatter
# would only be noise on the DPDK port), and the root end of the DPDK pair
# neither routes nor offloads: af_packet must see whole frames with their
# checksums filled in. 0; 1 if a veth pair could not be made; 2 if the
# offloads could not be turned off (no dpdk-tcp:// then).
tcp_dest_net() {
	local ns=$1
	ip -n "$ns" link set lo up || return 1
	_tcp_veth "$ns" "$2" "$3" "$4.1/24" "$4.2/24" || return 1
	_tcp_veth "$ns" "$5" "$6" - "$7.2/24" || return 1
	sysctl -qw "net.ipv4.conf.$5.forwarding=0" 2>/dev/null
	command -v ethtool >/dev/null || return 2
	ethtool -K "$5" tx off tso off gso off gro off rx off >/dev/null 2>&1 || return 2
	ip netns exec "$ns" ethtool -K "$6" tx off tso off gso off gro off >/dev/null 2>&1 ||
		return 2
}

_tcp_veth() { # NS ROOT_END NS_END ROOT_ADDR|- NS_ADDR
	ip link add "$2" type veth peer name "$3" netns "$1" || return 1
	sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" 2>/dev/null
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$3.disable_ipv6=1" 2>/dev/null
	if [ "$4" != - ]; then
		ip addr add "$4" dev "$2" || return 1
	fi
	ip -n "$1" addr add "$5" dev "$3" || return 1
	ip link set "$2" up && ip -n "$1" link set "$3" up
}

# dpdk_section IFACE ADDR/PREFIX: a hub's [dpdk] for the af_packet PMD on
# IFACE, without hugepages or PCI, as local_confs' HUB_EXTRA.
dpdk_section() {
	printf '[dpdk]\neal = --no-huge --no-pci --no-shconf -l 0 -m 256 '
	printf -- '--vdev=net_af_packet0,iface=%s --file-prefix=braid-%s-%s\n' "$1" "$1" "$$"
	printf 'address = %s\n' "$2"
}

# local_start VAR NAME CMD...: runs CMD in the background, stderr to
# $TMP/NAME.log; its pid goes into VAR and LIB_PIDS.
local_start() {
	local var=$1 name=$2
	shift 2
	"$@" 2>"$TMP/$name.log" &
	LIB_PIDS+=($!)
	printf -v "$var" '%s' "$!"
}

# links_up SIDE [N]: SIDE answers, has a session and N links up (every link
# without N). (jq -e succeeds on empty input: a reply is tested for first.)
links_up() {
	local st
	st=$(ctl "$1" stats --json 2>/dev/null)
	[ -n "$st" ] || return 1
	if [ $# -gt 1 ]; then
		jq -e --argjson n "$2" '.ready and ([.links[] | select(.state == "up")] | length) == $n' \
			<<<"$st" >/dev/null 2>&1
	else
		jq -e '.ready and all(.links[]; .state == "up")' <<<"$st" >/dev/null 2>&1
	fi
}

# must WHAT CMD...: CMD must succeed (wait_until and the like), else WHAT
# fails, the logs are shown and the test ends here.
must() {
	local what=$1
	shift
	"$@" && return 0
	fail "$what"
	dump_on_fail 0
	lib_finish
	exit
}

ns_setup() {
	local n
	ip -n "$NSE" link set lo up || return 1
	ip -n "$NSH" link set lo up || return 1
	for n in 1 2 3; do
		ip -n "$NSE" link add "veth$n" type veth peer name "veth$n" netns "$NSH" || return 1
		ip -n "$NSE" addr add "10.91.$n.1/24" dev "veth$n" || return 1
		ip -n "$NSH" addr add "10.91.$n.2/24" dev "veth$n" || return 1
		ip -n "$NSE" link set "veth$n" up || return 1
		ip -n "$NSH" link set "veth$n" up || return 1
	done
}

cleanup() {
	local p ns
	for p in "${LIB_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${LIB_PIDS[@]}"; do
		lib_reap "$p" || true
	done
	# Anything left inside our own namespaces was started by this script.
	for ns in $NSE $NSH; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ -n "$TMP" ]; then
		if [ "${BRAID_TEST_KEEP:-0}" = 1 ]; then
			echo "# kept $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
}

# Waits up to 10 s for a pid that was signalled (killing it after that) and
# returns its exit status.
lib_reap() {
	local p=$1 i
	for i in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$p" 2>/dev/null; then
		echo "# pid $p did not exit in 10 s: killed"
		kill -KILL "$p" 2>/dev/null || true
	fi
	wait "$p" 2>/dev/null
}

# bg VAR NS NAME CMD...: runs CMD in namespace NS in the background, stdout
# to $TMP/NAME.out and stderr to $TMP/NAME.log; its pid goes into VAR.
# `ip netns exec` execs CMD, so the pid is CMD's own.
bg() {
	local var=$1 ns=$2 name=$3
	shift 3
	ip netns exec "$ns" "$@" >"$TMP/$name.out" 2>"$TMP/$name.log" &
	LIB_PIDS+=($!)
	printf -v "$var" '%s' "$!"
}

# stop_pid PID [SIGNAL]: signals one process started with bg, waits for it
# (10 s at most) and forgets it. Returns its exit status.
stop_pid() {
	local p=$1 sig=${2:-TERM} i rc=0
	kill -"$sig" "$p" 2>/dev/null || true
	lib_reap "$p" || rc=$?
	for i in "${!LIB_PIDS[@]}"; do
		[ "${LIB_PIDS[$i]}" = "$p" ] && unset 'LIB_PIDS[i]'
	done
	return $rc
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s.
wait_until() {
	local t=$1 i
	shift
	for i in $(seq 1 $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---- braidd ------------------------------------------------------------------

PROBE_MS=50
LATENCY_MS=50

make_key() {
	head -c 32 /dev/urandom | base64 >"$TMP/key"
	chmod 600 "$TMP/key"
}

# write_configs MODE W1 W2 W3: $TMP/edge.conf and $TMP/hub.conf.
# EDGE_WORKERS / HUB_WORKERS (default 1) set each side's worker threads.
write_configs() {
	local mode=$1 n w
	shift
	[ -f "$TMP/key" ] || make_key
	cat >"$TMP/edge.conf" <<-EOF
	[bond]
	role = edge
	key = $TMP/key
	mode = $mode
	workers = ${EDGE_WORKERS:-1}
	latency = ${LATENCY_MS}ms
	probe-interval = ${PROBE_MS}ms
	stats-interval = 1s
	[app]
	listen = 127.0.0.1:5000
	EOF
	cat >"$TMP/hub.conf" <<-EOF
	[bond]
	role = hub
	key = $TMP/key
	mode = $mode
	workers = ${HUB_WORKERS:-1}
	latency = ${LATENCY_MS}ms
	probe-interval = ${PROBE_MS}ms
	stats-interval = 1s
	[app]
	destination = 127.0.0.1:6000
	EOF
	for n in 1 2 3; do
		w=$1
		shift
		printf '[link l%d]\nlocal = 10.91.%d.1:7001\nremote = 10.91.%d.2:7001\nweight = %d\n' \
			"$n" "$n" "$n" "$w" >>"$TMP/edge.conf"
		printf '[link l%d]\nlocal = 10.91.%d.2:7001\nweight = %d\n' \
			"$n" "$n" "$w" >>"$TMP/hub.conf"
	done
}

# The JSON of the last (or the Nth, from 1) 'stats ' line of a braidd log.
stats_last() {
	grep '^stats ' "$1" 2>/dev/null | tail -n 1 | sed 's/^stats //'
}

stats_count() {
	grep -c '^stats ' "$1" 2>/dev/null || true
}

stats_nth() {
	grep '^stats ' "$1" 2>/dev/null | sed -n "${2}p" | sed 's/^stats //'
}

# True if the last stats line of LOG says ready (and, with a second
# argument, that every link is up).
braid_is_ready() {
	local s
	s=$(stats_last "$1")
	[ -n "$s" ] || return 1
	if [ "${2:-}" = links ]; then
		jq -e '.ready == true and (.links | length > 0) and all(.links[]; .state == "up")' \
			<<<"$s" >/dev/null 2>&1
	else
		jq -e '.ready == true' <<<"$s" >/dev/null 2>&1
	fi
}

# braid_start MODE W1 W2 W3: configs, --check, hub then edge; waits until
# both are ready and the edge sees every link up. Sets HUB_PID, EDGE_PID.
# Returns non-zero (after saying why) if they do not get there in 20 s.
braid_start() {
	local out n=1
	write_configs "$@"
	# Keep the previous run's logs (BRAID_TEST_KEEP=1 leaves them all).
	while [ -e "$TMP/edge.$n.log" ]; do n=$((n + 1)); done
	[ -f "$TMP/edge.log" ] && mv "$TMP/edge.log" "$TMP/edge.$n.log"
	[ -f "$TMP/hub.log" ] && mv "$TMP/hub.log" "$TMP/hub.$n.log"
	: >"$TMP/hub.log"
	: >"$TMP/edge.log"
	if ! out=$(ip netns exec "$NSH" "$BRAIDD" -c "$TMP/hub.conf" --check 2>&1); then
		echo "# braidd --check rejected the hub config: $out"
		return 1
	fi
	if ! out=$(ip netns exec "$NSE" "$BRAIDD" -c "$TMP/edge.conf" --check 2>&1); then
		echo "# braidd --check rejected the edge config: $out"
		return 1
	fi
	bg HUB_PID "$NSH" hub "$BRAIDD" -c "$TMP/hub.conf"
	bg EDGE_PID "$NSE" edge "$BRAIDD" -c "$TMP/edge.conf"
	if ! wait_until 20 braid_ready_both; then
		echo "# braidd edge/hub not ready with all links up after 20 s; last lines:"
		tail -n 5 "$TMP/edge.log" "$TMP/hub.log" | sed 's/^/#   /'
		return 1
	fi
}

braid_ready_both() {
	kill -0 "$EDGE_PID" 2>/dev/null || return 1
	kill -0 "$HUB_PID" 2>/dev/null || return 1
	braid_is_ready "$TMP/edge.log" links && braid_is_ready "$TMP/hub.log"
}

# braid_stop: SIGTERM to edge then hub; each must exit 0 and print its last
# stats line. Logs are kept as $TMP/edge.log and $TMP/hub.log until the next
# braid_start.
braid_stop() {
	local rc=0
	if [ -n "${EDGE_PID:-}" ]; then
		stop_pid "$EDGE_PID" || { echo "# braidd edge exited with status $?"; rc=1; }
	fi
	if [ -n "${HUB_PID:-}" ]; then
		stop_pid "$HUB_PID" || { echo "# braidd hub exited with status $?"; rc=1; }
	fi
	EDGE_PID=
	HUB_PID=
	return $rc
}

# link_field JSON LINK FIELD: one field of one link of a stats object.
link_field() {
	jq -r --arg l "$2" --arg f "$3" '.links[] | select(.name == $l) | .[$f]' <<<"$1"
}

# jf FILE FILTER: a value from a JSON file.
jf() {
	jq -r "$2" "$1"
}

# dump_on_fail FAILS_BEFORE [LOG...]: if a FAIL came since, shows what
# braidd said (in LOG..., by default $TMP/edge.log and $TMP/hub.log)
# besides its stats lines, so a CI log alone can explain it.
dump_on_fail() {
	local f
	[ "$LIB_FAIL" -gt "$1" ] || return 0
	shift
	[ $# -gt 0 ] || set -- "$TMP/edge.log" "$TMP/hub.log"
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "# last lines of $(basename "$f") (stats lines left out):"
		grep -v '^stats ' "$f" | tail -n 15 | sed 's/^/#   /'
	done
	echo "# (BRAID_TEST_KEEP=1 keeps every log and config in the temp dir)"
}

# port_bound NS PORT: a UDP socket is bound to PORT in namespace NS.
port_bound() {
	[ -n "$(ip netns exec "$1" ss -Hlun "sport = :$2" 2>/dev/null)" ]
}
