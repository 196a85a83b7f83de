#!/usr/bin/env bash
# braidctl against a running edge and hub on loopback (3 links each): every
# command it has, the Prometheus output through a strict checker, and the
# errors it must give (unknown command, bad request, no daemon).
set -u
. "$(dirname "$0")/lib.sh"
lib_require "${BUILD:-build}" braidd braidctl braid-bench
lib_init_local "${BUILD:-build}"

head -c 32 /dev/urandom | base64 >"$TMP/key"
chmod 600 "$TMP/key"
for role in edge hub; do
	{
		printf '[bond]\nrole = %s\nkey = %s\ncontrol = %s\nprobe-interval = 50ms\n' \
			"$role" "$TMP/key" "$TMP/$role.sock"
		if [ "$role" = edge ]; then
			printf '[app]\nlisten = 127.0.0.1:18600\n'
		else
			printf 'metrics-listen = 127.0.0.1:18609\n[app]\ndestination = 127.0.0.1:18601\n'
		fi
		for n in 1 2 3; do
			if [ "$role" = edge ]; then
				printf '[link l%d]\nlocal = 127.0.0.1:1861%d\nremote = 127.0.0.1:1862%d\n' "$n" "$n" "$n"
			else
				printf '[link l%d]\nlocal = 127.0.0.1:1862%d\n' "$n" "$n"
			fi
		done
	} >"$TMP/$role.conf"
done

# A strict checker of the Prometheus text exposition format: every sample's
# family has HELP and TYPE first, once each; names and labels are well
# formed; counters end in _total; values are numbers; no series twice.
prom_check() {
	awk '
		function fail(m) { print "line " NR ": " m ": " $0; bad = 1 }
		/^# HELP / { if (help[$3]++) fail("second HELP"); next }
		/^# TYPE / {
			if (type[$3]) fail("second TYPE")
			if ($4 !~ /^(counter|gauge|histogram|summary|untyped)$/) fail("bad type")
			if ($4 == "counter" && $3 !~ /_total$/) fail("counter not named _total")
			type[$3] = $4; next
		}
		/^#/ { fail("stray comment"); next }
		/^$/ { fail("empty line"); next }
		{
			if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) { fail("bad name"); next }
			name = substr($0, 1, RLENGTH); rest = substr($0, RLENGTH + 1)
			if (!type[name] || !help[name]) fail("sample before its HELP and TYPE")
			if (rest ~ /^\{/) {
				if (!match(rest, /^\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\}/))
					fail("bad labels")
				series = name substr(rest, 1, RLENGTH); rest = substr(rest, RLENGTH + 1)
			} else series = name
			if (rest !~ /^ [-+]?([0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|NaN|[-+]?Inf)$/) fail("bad value")
			if (seen[series]++) fail("series twice")
			n++
		}
		END { if (bad) exit 1; if (n < 50) { print "only " n " samples"; exit 1 } }
	' "$1"
}

# No daemon yet: exit 3, naming the socket tried.
out=$(ctl edge stats 2>&1); rc=$?
[ "$rc" -eq 3 ] && grep -q "$TMP/edge.sock" <<<"$out" &&
	pass "no braidd: exit 3 naming $TMP/edge.sock" || fail "no braidd: rc $rc, '$out'"

"$B/braid-bench" recv --listen 127.0.0.1:18601 --echo --quiet 2>/dev/null &
LIB_PIDS+=($!)
"$B/braidd" -c "$TMP/hub.conf" 2>"$TMP/hub.log" &
LIB_PIDS+=($!)
"$B/braidd" -c "$TMP/edge.conf" 2>"$TMP/edge.log" &
LIB_PIDS+=($!)
for _ in $(seq 1 100); do
	st=$(ctl edge stats --json 2>/dev/null)
	[ -n "$st" ] && jq -e '.ready and all(.links[]; .state == "up")' <<<"$st" >/dev/null 2>&1 && break
	sleep 0.1
done
"$B/braid-bench" send --to 127.0.0.1:18600 --rate 1000 --count 500 --size 200 --linger 1 --quiet \
	--json "$TMP/send.json" 2>/dev/null

# stats --json: the stats line's object, live.
st=$(ctl edge stats --json); rc=$?
[ "$rc" -eq 0 ] && pass "stats --json exits 0" || fail "stats --json: rc $rc"
[ -n "$st" ] && [ "$(jq -r .role <<<"$st")" = edge ] && pass "stats --json is the edge's JSON" ||
	fail "stats --json: '$st'"
[ "$(jq '.bond.app_rx_pkts' <<<"$st")" -ge 500 ] 2>/dev/null &&
	pass "stats --json counts the 500 datagrams sent" || fail "app_rx_pkts $(jq '.bond.app_rx_pkts' <<<"$st")"
[ "$(jq '[.links[] | select(.state == "up")] | length' <<<"$st")" -eq 3 ] 2>/dev/null &&
	pass "stats --json: 3 links up" || fail "links up: $(jq -c '[.links[].state]' <<<"$st")"
# The FEEDBACK counts and each link's estimates, as numbers (0 until measured).
jq -e '([.bond.feedback_sent, .bond.feedback_rx] | all(type == "number")) and
	all(.links[]; [.rate_bps, .owd_rel_us, .queue_us, .tx_loss_ppm, .rx_loss_ppm] |
	    all(type == "number"))' <<<"$st" >/dev/null 2>&1 &&
	pass "stats --json: feedback_sent/rx, and rate_bps owd_rel_us queue_us tx/rx_loss_ppm per link" ||
	fail "stats --json: estimates: $(jq -c '{bond: (.bond | {feedback_sent, feedback_rx}), links: [.links[] | {rate_bps, owd_rel_us, queue_us, tx_loss_ppm, rx_loss_ppm}]}' <<<"$st")"

# stats: a table for people.
out=$(ctl hub stats); rc=$?
[ "$rc" -eq 0 ] && grep -q '^bond: hub, session [1-9]' <<<"$out" && grep -q '^l2 ' <<<"$out" &&
	pass "stats: the hub's table, with a session and link l2" || fail "stats: rc $rc, '$out'"
grep -Eq '^  feedback sent [0-9]+  received [0-9]+$' <<<"$out" &&
	pass "stats: the FEEDBACK packets sent and received" || fail "stats: no feedback line: '$out'"

# link list.
out=$(ctl edge link list); rc=$?
[ "$rc" -eq 0 ] && [ "$(grep -c ' up ' <<<"$out")" -eq 3 ] &&
	pass "link list: 3 links up" || fail "link list: rc $rc, '$out'"
# Its columns, by name, and a value in each: a number, the capacity "-" while
# unknown.
cols="link id state weight rtt_ms jitter_ms cap_Mbit/s owd_ms queue_ms p+d_loss_% tx_loss_% rx_loss_% downs"
[ "$(head -n 1 <<<"$out" | tr -s ' ')" = "$cols" ] &&
	pass "link list: the columns, capacity, delay, queue and loss each way among them" ||
	fail "link list: header '$(head -n 1 <<<"$out")'"
num='[0-9]+(\.[0-9]+)?'
[ "$(grep -Ec "^l[123] +[0-9]+ +up +(auto:)?[0-9]+ +$num +$num +(-|$num) +$num +$num +$num +$num +$num +[0-9]+$" <<<"$out")" = 3 ] &&
	pass "link list: a value in every column of each link" || fail "link list: rows '$out'"

# stats raw (what top reads): a bond line, then a link line per link, each
# with every key src/ctl.h documents, as KEY=NUMBER (or a word, where noted).
raw_check() { # FILE -> nothing, or what is wrong
	awk '
		function need(keys, words,   n, k, i, seen) {
			for (i = 1; i <= NF; i++) {
				if ($i !~ /^[a-z_]+=[a-z0-9]+$/) { print "line " NR ": bad word " $i; continue }
				split($i, kv, "="); seen[kv[1]] = kv[2]
			}
			n = split(keys, k, " ")
			for (i = 1; i <= n; i++) {
				if (!(k[i] in seen)) print "line " NR ": no " k[i]
				else if (index(" " words " ", " " k[i] " ") == 0 && seen[k[i]] !~ /^[0-9]+$/)
					print "line " NR ": " k[i] " is not a number"
			}
		}
		NR == 1 {
			if ($1 != "bond") { print "line 1 is not the bond line: " $0; next }
			$1 = ""; $0 = $0
			need("time_ns role session app_rx_pkts app_rx_bytes delivered_pkts delivered_bytes " \
			     "lost late duplicates reordered fec_k fec_m fec_recovered nack_sent nack_rx " \
			     "retransmitted", "role")
			next
		}
		$1 == "link" {
			names = names " " $2; $1 = ""; $2 = ""; $0 = $0
			need("tx_bytes rx_bytes tx_pkts rx_pkts rtt_us jitter_us loss_ppm rate_bps " \
			     "owd_rel_us queue_us tx_loss_ppm rx_loss_ppm weight weight_auto " \
			     "admin_down draining state down_events", "state")
			next
		}
		{ print "line " NR ": not a bond or link line: " $0 }
		END { if (names != " l1 l2 l3") print "links:" names }
	' "$1"
}
if command -v socat >/dev/null; then
	printf 'stats raw\n' | socat -t 2 - UNIX-CONNECT:"$TMP/edge.sock" >"$TMP/raw.reply"
	[ "$(head -n 1 "$TMP/raw.reply")" = "0 ok" ] && pass "raw 'stats raw': 0 ok" ||
		fail "raw 'stats raw': '$(head -n 1 "$TMP/raw.reply")'"
	sed 1d "$TMP/raw.reply" >"$TMP/raw"
	problems=$(raw_check "$TMP/raw")
	[ -z "$problems" ] && pass "stats raw: a bond line and l1 l2 l3, every documented key" ||
		fail "stats raw: $(head -n 3 <<<"$problems")"
	grep -Eq '^link l1 .* weight_auto=[01] admin_down=0 draining=0 state=up down_events=[0-9]+$' \
		"$TMP/raw" && pass "stats raw: l1 is up, in service" || fail "stats raw: l1: $(grep '^link l1' "$TMP/raw")"
	t1=$(sed -n 's/^bond time_ns=\([0-9]*\) .*/\1/p' "$TMP/raw")
	t2=$(printf 'stats raw\n' | socat -t 2 - UNIX-CONNECT:"$TMP/edge.sock" |
		sed -n 's/^bond time_ns=\([0-9]*\) .*/\1/p')
	[ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -gt "$t1" ] &&
		pass "stats raw: time_ns goes forward" || fail "stats raw: time_ns '$t1' then '$t2'"
	out=$(printf 'stats raw x\n' | socat -t 2 - UNIX-CONNECT:"$TMP/edge.sock")
	[ "$out" = "7 E2BIG" ] && pass "raw 'stats raw x': 7 E2BIG" || fail "raw 'stats raw x': '$out'"
else
	skip "stats raw checks" "socat is not installed"
fi

# top, stdout not a terminal: plain frames, no escapes, one blank line between
# them; each names every link; the second has rates (numbers) for each.
t0=$(date +%s%N)
ctl edge top -c 2 -i 0.2 >"$TMP/top" 2>"$TMP/top.err"; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 0 ] && [ ! -s "$TMP/top.err" ] && pass "top -c 2 -i 0.2: exit 0, nothing on stderr" ||
	fail "top: rc $rc, '$(head -c 300 "$TMP/top.err")'"
[ "$ms" -ge 150 ] && [ "$ms" -lt 3000 ] && pass "top -c 2 -i 0.2: two frames in $ms ms" ||
	fail "top -c 2 -i 0.2 took $ms ms"
! grep -q $'\033' "$TMP/top" && pass "top: no escape sequences when stdout is not a terminal" ||
	fail "top: escapes in plain output"
[ "$(awk -v RS= 'END { print NR }' "$TMP/top")" = 2 ] && [ "$(grep -c '^$' "$TMP/top")" = 1 ] &&
	pass "top: two frames, one blank line between them" ||
	fail "top: $(awk -v RS= 'END { print NR }' "$TMP/top") frames: $(head -c 600 "$TMP/top")"
for f in 1 2; do
	awk -v RS= -v f="$f" 'NR == f' "$TMP/top" >"$TMP/top.$f"
	n=0
	for l in l1 l2 l3; do
		grep -Eq "^$l +up " "$TMP/top.$f" && grep -Eq "^$l +tx \[" "$TMP/top.$f" && n=$((n + 1))
	done
	[ "$n" = 3 ] && grep -q '^braid edge  session [0-9]' "$TMP/top.$f" &&
		grep -Eq '^bond  delivered ' "$TMP/top.$f" && grep -q 'fec rebuilt [0-9]' "$TMP/top.$f" &&
		grep -q 'nacks sent [0-9]' "$TMP/top.$f" &&
		pass "top: frame $f names the bond and l1 l2 l3" || fail "top: frame $f: $(cat "$TMP/top.$f")"
done
# link state weight [auto] tx Mbit/s, pkt/s, rx Mbit/s, pkt/s, rtt, jitter, loss
row="^l[123] +up +[0-9]+( auto)? +$num +$num +$num +$num +$num +$num +$num$"
[ "$(grep -Ec "$row" "$TMP/top.2")" = 3 ] && grep -Eq "^bond  delivered $num/s $num Mbit/s  lost [0-9]+ \($num/s\)" "$TMP/top.2" &&
	pass "top: frame 2 has numbers: rates, RTT, jitter, loss for each link" ||
	fail "top: frame 2: $(cat "$TMP/top.2")"
[ "$(grep -Ec '^l[123] +up +[0-9]+( auto)? +- +- +- +- +[0-9.]+ ' "$TMP/top.1")" = 3 ] &&
	pass "top: frame 1 shows no rate yet, but the RTT" || fail "top: frame 1: $(cat "$TMP/top.1")"
[ "$(grep -Ec '^l[123] +tx \[[#.]+\] +[0-9]+%  rx \[[#.]+\] +[0-9]+%$' "$TMP/top.2")" = 3 ] &&
	pass "top: frame 2 has a share bar per link" || fail "top: bars: $(grep ' tx \[' "$TMP/top.2")"
# link capacity (- while unknown), relative delay, queue, loss tx, rx
for f in 1 2; do
	grep -Eq '^link +cap Mbit/s +owd ms +queue ms +tx loss % +rx loss %$' "$TMP/top.$f" &&
		[ "$(grep -Ec "^l[123] +(-|$num) +$num +$num +$num +$num$" "$TMP/top.$f")" = 3 ] &&
		pass "top: frame $f has the peer's estimates for each link" ||
		fail "top: frame $f estimates: $(cat "$TMP/top.$f")"
done

# top on a terminal: the cursor hidden and shown again, frames drawn over
# each other (cursor home, lines erased to their end), never a clear screen;
# and SIGINT ends it with the terminal restored.
if command -v script >/dev/null && script -qfc true /dev/null >/dev/null 2>&1; then
	script -qfc "$B/braidctl -s $TMP/edge.sock top -c 3 -i 0.2" /dev/null >"$TMP/top.tty" 2>&1
	esc=$'\033'
	[ "$(grep -o "$esc\[H" "$TMP/top.tty" | wc -l)" = 3 ] && grep -q "$esc\[?25l" "$TMP/top.tty" &&
		[ "$(tail -c 8 "$TMP/top.tty" | tr -d '\r\n')" = "${esc}[?25h" ] &&
		grep -q "$esc\[K" "$TMP/top.tty" && ! grep -q "$esc\[2J" "$TMP/top.tty" &&
		pass "top on a tty: 3 frames home-and-erase, cursor hidden then restored" ||
		fail "top on a tty: $(head -c 300 "$TMP/top.tty" | cat -v)"
	script -qfc "timeout --foreground --preserve-status -s INT 1 $B/braidctl -s $TMP/edge.sock top -i 0.2; echo rc=\$?" \
		/dev/null >"$TMP/top.int" 2>&1
	grep -q "$esc\[?25h" "$TMP/top.int" && grep -q 'rc=0' "$TMP/top.int" &&
		pass "top on a tty: SIGINT exits 0 and shows the cursor again" ||
		fail "top SIGINT: $(tail -c 200 "$TMP/top.int" | cat -v)"
else
	skip "top on a terminal" "script (util-linux) is not usable"
fi

# --help for every command, each its own usage.
wrong=
for c in "stats" "stats --json" "metrics" "link list" "version" "genkey" "link" "link add" \
	"link del" "link set" "top"; do
	# shellcheck disable=SC2086 # the command's words, split
	out=$("$B/braidctl" $c --help 2>&1); rc=$?
	[ "$rc" -eq 0 ] && grep -q "^usage: braidctl .*${c%% *}" <<<"$out" || wrong="$wrong '$c'(rc $rc)"
done
[ -z "$wrong" ] && pass "--help for every command" || fail "--help:$wrong"

# Link commands' errors name what is wrong; the bond is unchanged after them.
lerr() { # expected-status words...
	local want=$1 out rc
	shift
	out=$(ctl edge "$@" 2>&1); rc=$?
	if [ "$rc" -eq 1 ] && grep -q "$want" <<<"$out"; then
		return 0
	fi
	echo "'$*': rc $rc, '$out'"
	return 1
}
wrong=
lerr ENOENT link del nosuch || wrong=1
lerr "no link nosuch" link set nosuch weight=3 || wrong=1
lerr EEXIST link add l1 local=127.0.0.1:0 remote=127.0.0.1:18621 || wrong=1
lerr EINVAL link add l9 local=127.0.0.1 remote=127.0.0.1:18621 || wrong=1
lerr "is not an address" link add l9 local=127.0.0.1 remote=127.0.0.1:18621 || wrong=1
lerr "missing 'remote'" link add l9 local=127.0.0.1:0 || wrong=1
lerr EADDRINUSE link add l9 local=127.0.0.1:18611 remote=127.0.0.1:18621 || wrong=1
lerr "unknown key 'mode'" link add l9 local=127.0.0.1:0 remote=127.0.0.1:18621 mode=x || wrong=1
lerr "must be auto or 0..1000" link set l1 weight=1001 || wrong=1
lerr "state=up|down" link set l1 state=sideways || wrong=1
[ -z "$wrong" ] && pass "link add/del/set errors: ENOENT, EEXIST, EINVAL, EADDRINUSE, each explained" ||
	fail "link command errors"
[ "$(ctl edge stats --json | jq '[.links[] | select(.state == "up")] | length')" -eq 3 ] &&
	pass "the three links are still up after the refused commands" ||
	fail "links after refused commands: $(ctl edge stats --json | jq -c '[.links[].state]')"

# A link taken down and back up by hand, and re-weighted.
ctl edge link set l2 state=down weight=4 >/dev/null && sleep 0.3
out=$(ctl edge link list)
hub=$(ctl hub stats --json | jq -r '.links[] | select(.name == "l2") | .state')
grep -q '^l2 .* disabled  *4 ' <<<"$out" && [ "$hub" = down ] &&
	pass "link set l2 state=down: disabled here, down at the hub (BYE)" ||
	fail "state=down: '$(grep '^l2' <<<"$out")', hub '$hub'"
ctl edge link set l2 state=up weight=auto >/dev/null
wait_until 3 bash -c "$(declare -f ctl); B=$B TMP=$TMP; ctl edge link list | grep -q '^l2 .* up  *auto:'" &&
	pass "link set l2 state=up weight=auto: up again, weight auto" ||
	fail "state=up: '$(ctl edge link list | grep '^l2')'"

# top's options.
out=$(ctl edge top --help); rc=$?
[ "$rc" -eq 0 ] && grep -q '^usage: braidctl .*top \[-i SECONDS\] \[-c COUNT\]' <<<"$out" &&
	pass "top --help: its usage" || fail "top --help: rc $rc, '$out'"
"$B/braidctl" --help | grep -q '^  top ' && pass "braidctl --help lists top" ||
	fail "braidctl --help does not list top"
wrong=
for bad in "-i 0" "-i 0.01" "-i abc" "-i 1e9" "-i nan" "-c 0" "-c -1" "-c 1x" "-x" "-i"; do
	# shellcheck disable=SC2086 # the options, split
	ctl edge top $bad >/dev/null 2>&1; rc=$?
	[ "$rc" -eq 2 ] || wrong="$wrong '$bad' (rc $rc)"
done
[ -z "$wrong" ] && pass "top: bad options exit 2" || fail "top: bad options:$wrong"

# version.
out=$(ctl edge version); rc=$?
[ "$rc" -eq 0 ] && grep -q '^braidd [0-9]' <<<"$out" && pass "version: $out" || fail "version: '$out'"

# metrics, through a strict checker of the text exposition format: every
# sample's family has HELP and TYPE first, once each; names and labels are
# well formed; counters end in _total; values are numbers; no series twice.
ctl hub metrics >"$TMP/metrics"; rc=$?
[ "$rc" -eq 0 ] && pass "metrics exits 0" || fail "metrics: rc $rc"
prom_check "$TMP/metrics" >"$TMP/metrics.check" 2>&1 &&
	pass "metrics pass the strict format check ($(grep -vc '^#' "$TMP/metrics") samples)" ||
	fail "metrics format: $(head -n 3 "$TMP/metrics.check")"
grep -q '^braid_delivered_packets_total [1-9]' "$TMP/metrics" &&
	pass "metrics: the hub delivered datagrams" || fail "metrics: braid_delivered_packets_total"
[ "$(grep -c '^braid_link_rx_packets_total{link="l[123]"} [1-9]' "$TMP/metrics")" -eq 3 ] &&
	pass "metrics: per-link series with a link label" || fail "metrics: per-link series"
# The link estimates, a gauge each with a series per link; the FEEDBACK counters.
missing=
for m in braid_link_rate_bits_per_second braid_link_delay_relative_seconds \
	braid_link_queue_seconds braid_link_tx_loss_ratio braid_link_rx_loss_ratio; do
	grep -q "^# TYPE $m gauge$" "$TMP/metrics" &&
		[ "$(grep -Ec "^$m\{link=\"l[123]\"\} [0-9]" "$TMP/metrics")" -eq 3 ] || missing="$missing $m"
done
for m in braid_feedback_sent_packets_total braid_feedback_received_packets_total; do
	grep -q "^# TYPE $m counter$" "$TMP/metrics" && grep -Eq "^$m [0-9]+$" "$TMP/metrics" ||
		missing="$missing $m"
done
[ -z "$missing" ] && pass "metrics: the link estimates per link and the FEEDBACK counters" ||
	fail "metrics: missing or without a series per link:$missing"
if ldd "$B/braidd" | grep -q jemalloc; then
	grep -q '^braid_jemalloc_resident_bytes [1-9]' "$TMP/metrics" &&
		pass "metrics: jemalloc resident bytes" || fail "metrics: no jemalloc bytes"
else
	skip "metrics: jemalloc bytes" "braidd has no jemalloc here (sanitizer build)"
fi

# The Grafana dashboard asks only for metrics braidd exports.
dash=$(dirname "$0")/../../docs/grafana/braid.json
if [ -f "$dash" ]; then
	missing=
	for m in $(jq -r '.panels[].targets[].expr' "$dash" | grep -o 'braid_[a-z_]*' | sort -u); do
		# The allocator's figures exist only where jemalloc is the allocator.
		[[ $m == braid_jemalloc_* ]] && ! ldd "$B/braidd" | grep -q jemalloc && continue
		grep -q "^# TYPE $m " "$TMP/metrics" || missing="$missing $m"
	done
	[ -z "$missing" ] && pass "the Grafana dashboard's metrics all exist" ||
		fail "the Grafana dashboard asks for metrics braidd lacks:$missing"
fi

# GET /metrics over HTTP (metrics-listen), for scraping.
http_get() { # METHOD PATH -> the whole response on stdout
	exec 3<>/dev/tcp/127.0.0.1/18609 || return 1
	printf '%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" "$2" >&3
	timeout 3 cat <&3
	exec 3<&-
}
http_get GET /metrics >"$TMP/http" 2>/dev/null
head -n 1 "$TMP/http" | grep -q '^HTTP/1.0 200 OK' && ok_http=1 || ok_http=0
[ "$ok_http" = 1 ] && pass "GET /metrics: 200" || fail "GET /metrics: $(head -n 1 "$TMP/http")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$TMP/http" &&
	pass "GET /metrics: the exposition format's content type" || fail "GET /metrics: content type"
sed '1,/^\r$/d' "$TMP/http" >"$TMP/http.body"
prom_check "$TMP/http.body" >"$TMP/http.check" 2>&1 &&
	pass "GET /metrics: the body passes the strict format check" ||
	fail "GET /metrics body: $(head -n 3 "$TMP/http.check")"
[ "$(http_get GET /other 2>/dev/null | head -n 1 | tr -d '\r')" = "HTTP/1.0 404 Not Found" ] &&
	pass "GET /other: 404" || fail "GET /other is not 404"
[ "$(http_get POST /metrics 2>/dev/null | head -n 1 | tr -d '\r')" = "HTTP/1.0 405 Method Not Allowed" ] &&
	pass "POST /metrics: 405" || fail "POST /metrics is not 405"

# Errors.
out=$(ctl edge bogus 2>&1); rc=$?
[ "$rc" -eq 2 ] && grep -q "unknown command 'bogus'" <<<"$out" &&
	pass "unknown command: exit 2" || fail "unknown command: rc $rc, '$out'"
if command -v socat >/dev/null; then
	out=$(printf 'link add x\n' | socat -t 2 - UNIX-CONNECT:"$TMP/edge.sock")
	[ "$out" = "22 EINVAL" ] && pass "raw 'link add x': 22 EINVAL" || fail "raw bad request: '$out'"
	out=$(head -c 2000 /dev/zero | tr '\0' a | socat -t 2 - UNIX-CONNECT:"$TMP/edge.sock")
	[ "$out" = "90 EMSGSIZE" ] && pass "raw 2000-byte line: 90 EMSGSIZE" || fail "raw long line: '$out'"
	out=$(printf 'stats' | socat -t 2 - UNIX-CONNECT:"$TMP/edge.sock")
	[ "$out" = "90 EMSGSIZE" ] || [ "$out" = "110 ETIMEDOUT" ] &&
		pass "raw request without a newline: $out" || fail "raw no newline: '$out'"
	# The daemon still answers afterwards.
	ctl edge version >/dev/null && pass "braidd answers after bad requests" || fail "braidd stopped answering"
else
	skip "raw-protocol checks" "socat is not installed"
fi
[ "$(stat -c %a "$TMP/edge.sock")" = 660 ] && pass "the socket is mode 0660" ||
	fail "socket mode $(stat -c %a "$TMP/edge.sock")"

# genkey: 32 random bytes in base64, different each time.
k1=$("$B/braidctl" genkey) k2=$("$B/braidctl" genkey)
[ "$(printf '%s' "$k1" | base64 -d 2>/dev/null | wc -c)" -eq 32 ] && [ "$k1" != "$k2" ] &&
	pass "genkey: 32 bytes, fresh each time" || fail "genkey: '$k1' '$k2'"

# The socket goes away with braidd.
kill -TERM "${LIB_PIDS[2]}"
wait "${LIB_PIDS[2]}"
[ ! -e "$TMP/edge.sock" ] && pass "braidd removes its socket on exit" || fail "socket left behind"

lib_finish
