#!/usr/bin/env bash
# Keys and privileges: a key file others can read is refused with a clear
# message; with `user = nobody` braidd, started as root, ends up with every
# thread running as nobody, the main thread holding only
# CAP_NET_BIND_SERVICE and the workers nothing, and still carries traffic,
# answers braidctl, adds a link on a port below 1024 and exits cleanly.
set -u
. "$(dirname "$0")/lib.sh"
lib_require "${BUILD:-build}" braidd braidctl braid-bench
[ "$(id -u)" -eq 0 ] || skip_all "needs root (braidd starts as root and becomes nobody)"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
lib_init_local "${BUILD:-build}"
chmod 755 "$TMP"	# nobody must reach the control sockets in it
NOBODY=$(id -u nobody)

# Edge l1, l2 on 18882, 18883 to the hub's 18891, 18892.
local_confs 2 127.0.0.1:18880 127.0.0.1:18881 18881 18890 18890 'user = nobody\nworkers = 2\n'

# A key file the group or others can read: refused, saying what to do.
cp "$TMP/key" "$TMP/open.key"
chmod 644 "$TMP/open.key"
sed "s#^key = .*#key = $TMP/open.key#" "$TMP/edge.conf" >"$TMP/open.conf"
out=$("$B/braidd" -c "$TMP/open.conf" 2>&1); rc=$?
[ "$rc" -eq 1 ] && grep -q "open.key.*0644.*chmod 600" <<<"$out" &&
	pass "a key file mode 0644 is refused: $(head -n 1 <<<"$out")" ||
	fail "open key file: rc $rc, '$out'"

local_start RECV recv "$B/braid-bench" recv --listen 127.0.0.1:18881 --echo --quiet \
	--json "$TMP/recv.json"
local_start HUB hub "$B/braidd" -c "$TMP/hub.conf"
local_start EDGE edge "$B/braidd" -c "$TMP/edge.conf"
must "the bond came up as nobody" wait_until 10 links_up edge 2

# Every thread: uid and gid nobody's; the main thread's effective and
# permitted capabilities are CAP_NET_BIND_SERVICE (bit 10) alone, the
# workers' none.
for side in edge hub; do
	pid=$(eval echo "\$${side^^}")
	bad=
	for st in /proc/"$pid"/task/*/status; do
		tid=$(basename "$(dirname "$st")")
		uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st")
		eff=$(awk '/^CapEff:/ { print $2 }' "$st")
		prm=$(awk '/^CapPrm:/ { print $2 }' "$st")
		want=0000000000000000
		[ "$tid" = "$pid" ] && want=0000000000000400
		[ "$uids" = "$NOBODY $NOBODY $NOBODY $NOBODY" ] && [ "$eff" = "$want" ] &&
			[ "$prm" = "$want" ] || bad="$bad task $tid: uids '$uids' eff $eff prm $prm;"
	done
	ntask=$(ls /proc/"$pid"/task | wc -l)
	[ -z "$bad" ] && pass "$side: all $ntask threads run as nobody, the main one with only CAP_NET_BIND_SERVICE" ||
		fail "$side:$bad"
	grep -q "running as nobody" "$TMP/$side.log" && pass "$side: says it runs as nobody" ||
		fail "$side: no 'running as nobody' in its log"
done

"$B/braid-bench" send --to 127.0.0.1:18880 --rate 1000 --count 2000 --size 300 --linger 1 --quiet \
	--json "$TMP/send.json" 2>/dev/null
[ "$(jq .echo.unique "$TMP/send.json")" -eq 2000 ] &&
	pass "2000 datagrams there and back as nobody" ||
	fail "as nobody: $(jq -c '{sent, echo: .echo.unique}' "$TMP/send.json")"

# braidctl: root may talk to it, and so may nobody (the socket is nobody's).
out=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	"$B/braidctl" -s "$TMP/hub.sock" version 2>&1) &&
	pass "braidctl as nobody: $out" || fail "braidctl as nobody: '$out'"

# A link added at run time on a port below 1024: the kept capability.
if ctl hub link add l3 local=127.0.0.1:980 >/dev/null &&
	ctl edge link add l3 local=127.0.0.1:0 remote=127.0.0.1:980 >/dev/null &&
	wait_until 3 bash -c "$(declare -f ctl); B=$B TMP=$TMP; ctl edge link list | grep -q '^l3 .* up '"; then
	pass "link add on port 980 as nobody: up"
else
	fail "link add on port 980: $(ctl hub link list 2>&1 | tail -n 2)"
fi

kill -TERM "$EDGE" "$HUB"
rc=0
lib_reap "$EDGE" || rc=$?
lib_reap "$HUB" || rc=$((rc + $?))
[ "$rc" -eq 0 ] && pass "both exit 0 on SIGTERM" || fail "exit status $rc"

dump_on_fail 0
lib_finish
