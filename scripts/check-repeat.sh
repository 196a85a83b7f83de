#!/usr/bin/env bash
# Runs .ci/run on N fresh clones of this repository's HEAD, one after the
# other, each started right after the last (a flaky test shows itself here,
# not in one lucky run). Prints each run's result and time, and a closing
# line "N passed, N failed". Logs stay in the printed directory, with a
# failed run's test logs.
#   scripts/check-repeat.sh [N]      (make check-repeat N=5)
set -u
n=${1:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
rev=$(git -C "$top" rev-parse --short HEAD) || exit 2
dir=$(mktemp -d /tmp/braid-check-repeat.XXXXXX)
pass=0 fail=0
echo "check-repeat: $n fresh clones of $rev, logs in $dir"
for i in $(seq 1 "$n"); do
	git clone --quiet "$top" "$dir/clone$i" || exit 2
	t0=$(date +%s)
	if (cd "$dir/clone$i" && CI=true bash .ci/run) </dev/null >"$dir/run$i.log" 2>&1; then
		pass=$((pass + 1)); verdict=PASS
	else
		fail=$((fail + 1)); verdict=FAIL
	fi
	printf '  run %d: %s in %d s (%s)\n' "$i" "$verdict" $(($(date +%s) - t0)) \
		"$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dir/run$i.log" | tr '\n' ';')"
	[ "$verdict" = FAIL ] && grep -E '^failed:|FAIL' "$dir/run$i.log" | head -n 10 | sed 's/^/      /'
	# What a run built is not needed by the next; a failed run's test
	# logs are kept (the run log shows only their last lines).
	if [ "$verdict" = FAIL ]; then
		mkdir -p "$dir/logs$i"
		cp -r "$dir/clone$i"/build*/test-logs "$dir/logs$i/" 2>/dev/null
	fi
	rm -rf "$dir/clone$i"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
