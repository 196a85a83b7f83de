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
#
# Then a second bond (ports 19400..19424), its hub on two workers with a
# fourth link the edge does not use, worker 1's with l2: braid-attack floods
# that one port as fast as this machine lets it (junk, captured packets under
# another session, and ones under the live session with a bad tag). Asserts:
# the real stream over l1..l3 loses nothing; the kernel drops nothing on the
# real links' sockets and neither does the ring to worker 0; the workers'
# prefilter counters (and share_full, ring_full, the core's bad-input
# counters, the kernel's drops on the flooded port) account for every
# datagram of the flood.
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
	ctl "$1" stats --json | jq '.bond.malformed + .bond.auth_fail + .bond.replayed + .bond.wrong_link +
		.bond.oversize + .bond.no_session + .bond.hs_cookie + .bond.hs_ratelimited +
		([.workers[].rx_nobufs] | add) +
		.prefilter.version + .prefilter.type + .prefilter.length + .prefilter.session +
		.prefilter.share_full'
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
			jq -c '.bond | {malformed, auth_fail, replayed, wrong_link, oversize, no_session,
				hs_cookie, hs_ratelimited}'),
			prefilter $(ctl $side stats --json | jq -c .prefilter))" ||
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
stop_pid "$RECV"

# ---- one hub port flooded at the machine's limit ---------------------------------
F0=$LIB_FAIL
local_confs 3 127.0.0.1:19400 127.0.0.1:19401 19410 19420 19420 \
	'latency = 100ms\nstats-interval = 1s\n' 'workers = 2\n'
# l4 (id 3) goes to worker 1, with l2 (id 1); no edge link reaches it.
printf '[link l4]\nlocal = 127.0.0.1:19424\n' >>"$TMP/hub.conf"
REAL_PORTS="19421 19422 19423"
FLOOD_PORT=19424
local_start RECV recv2 "$B/braid-bench" recv --listen 127.0.0.1:19401 --echo --quiet \
	--json "$TMP/recv2.json"
local_start HUB hub2 "$B/braidd" -c "$TMP/hub.conf"
local_start EDGE edge2 "$B/braidd" -c "$TMP/edge.conf"
must "the second bond came up (edge)" wait_until 10 links_up edge 3
must "the second bond came up (hub)" wait_until 5 links_up hub 3
local_start SEND send2 "$B/braid-bench" send --to 127.0.0.1:19400 --rate "$RATE" --duration 9 \
	--size 400 --linger 2 --quiet --json "$TMP/send2.json"
"$B/braid-attack" capture --port 19421 --count 64 --out "$TMP/to-hub2.cap" --timeout 5 \
	2>"$TMP/cap3.log"
[ -s "$TMP/to-hub2.cap" ] || fail "capture on the second bond: $(cat "$TMP/cap3.log")"
sleep 0.5

# Everything the flood can end in (a bad-tag copy of another link's packet
# is wrong_link: its counter names the link it was sent on). rx_nobufs is
# left out: a datagram the kernel had no buffer for stays in its socket for
# the next receive.
flood_count() {
	ctl hub stats --json | jq '.bond.malformed + .bond.auth_fail + .bond.replayed +
		.bond.wrong_link + .bond.hs_cookie + .bond.hs_ratelimited +
		.bond.oversize + .bond.no_session + .prefilter.version + .prefilter.type +
		.prefilter.length + .prefilter.session + .prefilter.share_full +
		([.workers[].ring_full] | add)'
}
ring_full() { ctl hub stats --json | jq '[.workers[].ring_full] | add'; }
c0=$(flood_count)
q0=$(ring_full)
k0=$(kernel_drops $FLOOD_PORT)
r0=$(kernel_drops $REAL_PORTS)
# One sender per core: together, as much as the machine can send.
FPIDS=()
for i in $(seq 1 "$(nproc)"); do
	"$B/braid-attack" flood --to "127.0.0.1:$FLOOD_PORT" --rate max --duration 4 \
		--kinds random,short,badsession,badtag,hsinit --replay "$TMP/to-hub2.cap" \
		--json "$TMP/flood-max$i.json" 2>"$TMP/flood-max$i.log" &
	FPIDS+=($!)
done
for p in "${FPIDS[@]}"; do
	wait "$p"
done
sleep 1
log "at full rate: $(cat "$TMP"/flood-max*.log)"
kill -0 "$HUB" 2>/dev/null && pass "hub: alive after the flood at full rate" ||
	fail "hub: braidd died under the flood at full rate"
jq -s '{sent: (map(.sent) | reduce .[] as $s ({}; . as $a | $s | with_entries(.value += ($a[.key] // 0))))}' \
	"$TMP"/flood-max[0-9]*.json >"$TMP/flood-max.json"
sent=$(jq '[.sent[]] | add' "$TMP/flood-max.json")
counted=$(( $(flood_count) - c0 ))
dropped=$(( $(kernel_drops $FLOOD_PORT) - k0 ))
st=$(ctl hub stats --json)
log "hub: $sent sent to l4, $counted counted by braidd, $dropped dropped by the kernel;" \
	"prefilter $(jq -c .prefilter <<<"$st"), auth_fail $(jq .bond.auth_fail <<<"$st")," \
	"workers $(jq -c '[.workers[] | {rx_nobufs, ring_full, share_full}]' <<<"$st")"
[ "$sent" -gt 10000 ] || fail "only $sent packets in the flood at full rate"
[ $((counted + dropped)) -eq "$sent" ] &&
	pass "every one of the $sent datagrams of the flood at full rate counted" ||
	fail "flood at full rate: $sent sent, $counted counted, $dropped dropped by the kernel"
# What the prefilter must have taken: cut short (length), other sessions
# (session), random bytes (mostly version). Of the kinds sent, only bad tags
# and handshake inits may pass it.
pf=$(jq '.prefilter.version + .prefilter.type + .prefilter.length + .prefilter.session' <<<"$st")
past=$(jq '.sent.badtag + .sent.hsinit' "$TMP/flood-max.json")
[ "$(jq '.prefilter.length > 0 and .prefilter.session > 0 and .prefilter.version > 0' \
	<<<"$st")" = true ] && [ $((pf + past + dropped)) -ge "$sent" ] &&
	pass "the prefilter dropped the flood's junk before worker 0 ($pf)" ||
	fail "prefilter: $(jq -c .prefilter <<<"$st"), $past could pass, $sent sent"
[ $(( $(kernel_drops $REAL_PORTS) - r0 )) -eq 0 ] &&
	pass "the kernel dropped nothing on the real links' sockets" ||
	fail "the kernel dropped $(( $(kernel_drops $REAL_PORTS) - r0 )) on the real links"
[ $(( $(ring_full) - q0 )) -eq 0 ] && pass "the ring to worker 0 never overflowed" ||
	fail "ring_full rose by $(( $(ring_full) - q0 ))"

wait "$SEND"
kill -TERM "$RECV" 2>/dev/null
wait "$RECV" 2>/dev/null
r=$TMP/recv2.json
s=$TMP/send2.json
sent=$(jq .sent "$s")
[ "$(jq ".unique" "$r")" -eq "$sent" ] &&
	[ "$(jq '.corrupt + .foreign + .duplicates' "$r")" -eq 0 ] &&
	pass "flood at full rate: edge to hub, all $sent datagrams arrived, once, intact" ||
	fail "flood at full rate: edge to hub: $(jq -c '{unique, corrupt, foreign, duplicates}' "$r") of $sent"
[ "$(jq ".echo.unique" "$s")" -eq "$(jq .unique "$r")" ] &&
	[ "$(jq '.echo.corrupt + .echo.foreign + .echo.misrouted + .echo.duplicates' "$s")" -eq 0 ] &&
	pass "flood at full rate: hub to edge, all echoes arrived" ||
	fail "flood at full rate: hub to edge: $(jq -c '.echo' "$s")"
[ "$(ctl hub stats --json | jq '.bond.lost')" -eq 0 ] && [ "$(ctl edge stats --json | jq '.bond.lost')" -eq 0 ] &&
	pass "flood at full rate: neither end gave up on a sequence number" ||
	fail "flood at full rate: lost $(ctl hub stats --json | jq '.bond.lost') at the hub, $(ctl edge stats --json | jq '.bond.lost') at the edge"

dump_on_fail "$F0" "$TMP/edge2.log" "$TMP/hub2.log"
stop_pid "$EDGE"
stop_pid "$HUB"
lib_finish
