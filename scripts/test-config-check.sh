#!/usr/bin/env bash
# `braidd --check`: accepts the shipped examples, names the line of an error,
# refuses a key file others can read.
set -u
B=${1:?build dir}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
ok=0; bad=0
expect() { # description, expected exit, grep pattern, args...
	local what=$1 code=$2 pat=$3; shift 3
	local out; out=$("$B/braidd" "$@" 2>&1); local rc=$?
	if [ $rc -eq "$code" ] && grep -qE -- "$pat" <<<"$out"; then ok=$((ok+1)); echo "ok: $what"
	else bad=$((bad+1)); echo "FAIL: $what: exit $rc, output: $out"; fi
}
head -c 32 /dev/urandom | base64 > "$d/key"; chmod 600 "$d/key"
for r in edge hub; do
	sed "s#^key *=.*#key = $d/key#" "docs/examples/$r.conf" > "$d/$r.conf"
	expect "$r example" 0 "ok \($r, 3 links" -c "$d/$r.conf" --check
done
sed "s#^key *=.*#key = $d/key#" docs/examples/hub-dpdk.conf > "$d/hub-dpdk.conf"
if "$B/braidd" --version | grep -q '(dpdk)'; then
	expect "hub-dpdk example" 0 "ok \(hub, 3 links" -c "$d/hub-dpdk.conf" --check
else
	expect "hub-dpdk example refused without DPDK" 1 "built without it" \
		-c "$d/hub-dpdk.conf" --check
fi
sed 's#^destination = dpdk-tcp://\(.*\)#destination = tcp://\1#; /^\[dpdk\]/,/^address/d' \
	"$d/hub-dpdk.conf" > "$d/hub-tcp.conf"
expect "the same hub with tcp://" 0 "ok \(hub, 3 links" -c "$d/hub-tcp.conf" --check
printf '[bond]\nrole = edge\nkey = %s\nlatency = 0ms\n' "$d/key" > "$d/bad.conf"
expect "bad latency names line 4" 1 "bad.conf:4:" -c "$d/bad.conf" --check
sed 's/^role = edge/role = sideways/' "$d/edge.conf" > "$d/bad2.conf"
expect "bad role names its line" 1 "bad2.conf:[0-9]+:.*sideways" -c "$d/bad2.conf" --check
chmod 644 "$d/key"
expect "world-readable key refused" 1 "chmod" -c "$d/edge.conf" --check
expect "missing config file" 1 "nope.conf" -c "$d/nope.conf" --check
expect "no arguments is a usage error" 2 "usage" 
echo "$ok passed, $bad failed"
[ $bad -eq 0 ]
