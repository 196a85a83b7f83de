#!/usr/bin/env bash
# Hostile input while a bond carries traffic: braid-attack floods the hub's
# three link ports from a stranger's address, and the edge's from the hub's
# own addresses (spoofed: the edge's sockets are connected), with random
# datagrams, headers cut short, captured packets with bad tags, replays of
# captured packets, oversized datagrams, handshake inits with a wrong MAC
# and the edge's captured handshake inits as they were.
# Asserts: both braidd alive; no injected payload delivered; the real stream
# loses nothing either way; every bogus packet is in one of braidd's
# bad-input counters, hs_cookie (an init answered with a cookie, nothing
# kept) or hs_ratelimited (the kernel's drop count for the socket aside);
# the hub sends the stranger no more bytes than the stranger sent it, and
# answers it no more often than its rate limit allows (a burst of 5, then
# 20 a second).
set -u
. "$(dirname "$0")/lib.sh"
lib_require "${BUILD:-build}" braidd braidctl braid-bench braid-attack
[ "$(id -u)" -eq 0 ] || skip_all "needs root (captures packets and spoofs addresses)"
lib_init_local "${BUILD:-build}"

RATE=1000
# Edge l1..l3 on 18861..18863 to the hub's 18871..18873.
local_confs 3 127.0.0.1:18850 127.0.0.1:18851 18860 18870 18870 \
	'latency = 100ms\nstats-interval = 1s\n'
HUB_PORTS="127.0.0.1:18871,127.0.0.1:18872,127.0.0.1:18873"
EDGE_PORTS="127.0.0.1:18861,127.0.0.1:18862,127.0.0.1:18863"

local_start RECV recv "$B/braid-bench" recv --listen 127.0.0.1:18851 --echo --quiet \
	--json "$TMP/recv.json"
local_start HUB hub "$B/braidd" -c "$TMP/hub.conf"
# The session's first packets to the hub, its handshake init among them: a
# stranger replaying the init must get no more than the init's size back,
# and must not take the link over.
"$B/braid-attack" capture --port 18871 --count 4 --out "$TMP/start.cap" --timeout 5 \
	2>"$TMP/cap0.log" &
C0=$!
sleep 0.3
local_start EDGE edge "$B/braidd" -c "$TMP/edge.conf"
must "the bond came up (edge)" wait_until 10 links_up edge 3
must "the bond came up (hub)" wait_until 5 links_up hub 3

local_start SEND send "$B/braid-bench" send --to 127.0.0.1:18850 --rate "$RATE" --duration 9 \
	--size 400 --linger 2 --quiet --json "$TMP/send.json"

# Real packets of this session, each way, to replay and to forge from.
"$B/braid-attack" capture --port 18871 --count 64 --out "$TMP/to-hub.cap" --timeout 5 \
	2>"$TMP/cap1.log" &
C1=$!
"$B/braid-attack" capture --port 18861 --count 64 --out "$TMP/to-edge.cap" --timeout 5 \
	2>"$TMP/cap2.log"
wait "$C1"
wait "$C0"
[ -s "$TMP/to-hub.cap" ] && [ -s "$TMP/to-edge.cap" ] && [ -s "$TMP/start.cap" ] &&
	pass "captured live packets each way, and the handshake" || fail "capture: $(cat "$TMP"/cap*.log)"
cat "$TMP/start.cap" >>"$TMP/to-hub.cap"
sleep 1

# What braidd counts as bad input, and the kernel's drops on its sockets.
bad_count() {
	ctl "$1" stats --json | jq '.bond.malformed + .bond.auth_fail + .bond.replayed +
		.bond.oversize + .bond.no_session + .bond.hs_cookie + .bond.hs_ratelimited +
		([.workers[].rx_nobufs] | add)'
}
kernel_drops() { # ports...
	local p sum=0 d
	for p in "$@"; do
		d=$(awk -v p="$(printf ':%04X' "$p")" \
			'NR > 1 && substr($2, length($2) - 4) == p { s += $NF } END { print s + 0 }' \
			/proc/net/udp)
		sum=$((sum + d))
	done
	echo "$sum"
}
hub_drops() { kernel_drops 18871 18872 18873; }
edge_drops() { kernel_drops 18861 18862 18863; }
b0_hub=$(bad_count hub)
b0_edge=$(bad_count edge)
d0_hub=$(hub_drops)
d0_edge=$(edge_drops)
rl0=$(ctl hub stats --json | jq .bond.hs_ratelimited)
t0=$(date +%s%N)

"$B/braid-attack" flood --to "$HUB_PORTS" --rate 3000 --duration 4 --replay "$TMP/to-hub.cap" \
	--json "$TMP/flood-hub.json" 2>"$TMP/flood-hub.log" &
F1=$!
"$B/braid-attack" flood --to "$EDGE_PORTS" --rate 3000 --duration 4 --replay "$TMP/to-edge.cap" \
	--spoof "$HUB_PORTS" --json "$TMP/flood-edge.json" 2>"$TMP/flood-edge.log"
wait "$F1"
t1=$(date +%s%N)
sleep 0.5
log "to the hub: $(cat "$TMP/flood-hub.log")"
log "to the edge: $(cat "$TMP/flood-edge.log")"

for side in edge hub; do
	kill -0 "$(eval echo "\$${side^^}")" 2>/dev/null && pass "$side: alive after the flood" ||
		fail "$side: braidd died"
done

# Every bogus packet counted: braidd's counters, plus what the kernel
# dropped before braidd could see it.
for side in hub edge; do
	f=$TMP/flood-$side.json
	sent=$(jq '[.sent[]] | add' "$f")
	b0=$(eval echo "\$b0_$side")
	d0=$(eval echo "\$d0_$side")
	counted=$(( $(bad_count $side) - b0 ))
	dropped=$(( $(${side}_drops) - d0 ))
	log "$side: $sent bogus packets sent, $counted counted by braidd, $dropped dropped by the kernel"
	[ "$sent" -gt 10000 ] || fail "$side: only $sent bogus packets sent"
	[ $((counted + dropped)) -eq "$sent" ] &&
		pass "$side: all $sent bogus packets counted ($(ctl $side stats --json |
			jq -c '.bond | {malformed, auth_fail, replayed, oversize, no_session, hs_cookie,
				hs_ratelimited}'))" ||
		fail "$side: $sent bogus packets sent, $counted counted, $dropped dropped by the kernel"
done
r=$(jq '.received_bytes' "$TMP/flood-hub.json")
s=$(jq '.sent_bytes' "$TMP/flood-hub.json")
[ "$r" -le "$s" ] && pass "the hub sent the stranger $r bytes for $s" ||
	fail "the hub sent the stranger $r bytes for $s: an amplifier"
# The stranger replayed real inits far above 20 a second: the hub answered
# at most its bucket's worth over the flood (plus a second of slack for the
# last answers and the clock reads) and counted the rest.
n_inits=$(jq '.sent.hsreplay // 0' "$TMP/flood-hub.json")
answers=$(jq '.received_pkts' "$TMP/flood-hub.json")
refused=$(( $(ctl hub stats --json | jq .bond.hs_ratelimited) - rl0 ))
limit=$(( 5 + 20 * ((t1 - t0) / 1000000000 + 2) ))
log "hub: $n_inits captured inits replayed, $answers answers, $refused refused over the rate"
[ "$n_inits" -gt 200 ] || fail "only $n_inits captured inits replayed"
[ "$answers" -le "$limit" ] && pass "the hub answered the stranger $answers times (at most $limit)" ||
	fail "the hub answered the stranger $answers times, over its rate limit ($limit)"
[ "$refused" -gt 0 ] && [ "$refused" -ge $((n_inits - answers - $(hub_drops) + d0_hub)) ] &&
	pass "hs_ratelimited counted $refused refused answers" ||
	fail "hs_ratelimited counted $refused refused answers for $n_inits inits, $answers answered"

wait "$SEND"
kill -TERM "$RECV" 2>/dev/null
wait "$RECV" 2>/dev/null
sent=$(jq .sent "$TMP/send.json")
r=$TMP/recv.json
s=$TMP/send.json
[ "$(jq '.corrupt + .foreign + .duplicates' "$r")" -eq 0 ] &&
	pass "edge to hub: nothing injected, corrupt or duplicated reached the application" ||
	fail "edge to hub: $(jq -c '{corrupt, foreign, duplicates}' "$r")"
[ "$(jq '.echo.corrupt + .echo.foreign + .echo.misrouted + .echo.duplicates' "$s")" -eq 0 ] &&
	pass "hub to edge: nothing injected, corrupt or duplicated reached the application" ||
	fail "hub to edge: $(jq -c '.echo | {corrupt, foreign, misrouted, duplicates}' "$s")"
[ "$(jq ".unique" "$r")" -eq "$sent" ] && pass "edge to hub: all $sent datagrams arrived" ||
	fail "edge to hub: $((sent - $(jq .unique "$r"))) of $sent lost"
[ "$(jq ".echo.unique" "$s")" -eq "$(jq .unique "$r")" ] && pass "hub to edge: all echoes arrived" ||
	fail "hub to edge: $(( $(jq .unique "$r") - $(jq .echo.unique "$s") )) lost"
for side in edge hub; do
	[ "$(ctl $side stats --json | jq '[.links[] | select(.state == "up")] | length')" -eq 3 ] &&
		pass "$side: all links up after the flood" ||
		fail "$side: links $(ctl $side stats --json | jq -c '[.links[].state]')"
done

dump_on_fail 0
stop_pid "$EDGE"
stop_pid "$HUB"
lib_finish
