#!/usr/bin/env bash
# Runs braid's tests against a build directory and prints one closing line:
#   "N passed, N failed, N skipped"
# Usage: run-tests.sh BUILD_DIR SIM_SEEDS [unit]
# Unit suites (Check), the deterministic simulator over SIM_SEEDS seeds, the
# fuzz corpora replayed through their harnesses, braidd's config checks, and
# the integration tests (which need root and network namespaces; without
# them they report a skip, never a pass).
set -u
B=${1:?build dir}
SEEDS=${2:-300}
ONLY=${3:-all}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

pass=0 fail=0 skip=0
failed=()
log_dir=$B/test-logs
mkdir -p "$log_dir"

run() { # name, command...
	local name=$1; shift
	local log="$log_dir/${name//\//_}.log"
	local t0=$SECONDS rc
	"$@" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); printf '  PASS  %-40s %3ss\n' "$name" $((SECONDS - t0))
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); printf '  SKIP  %-40s %s\n' "$name" "$(grep -m1 -i skip "$log")"
	else
		fail=$((fail + 1)); failed+=("$name")
		printf '  FAIL  %-40s (exit %d; log %s)\n' "$name" $rc "$log"
		tail -n 25 "$log" | sed 's/^/        | /'
	fi
}

echo "unit suites:"
for t in $(find "$B/test/unit" "$B/sched/tests" "$B/fec/tests" -maxdepth 1 -type f -name 'check_*' ! -name '*.[od]' 2>/dev/null | sort); do
	run "$(basename "$t")" "$t"
done

if [ "$ONLY" = all ]; then
	echo "fuzz corpora (replayed once each):"
	for h in "$B"/fuzz/fuzz_*; do
		[ -x "$h" ] || continue
		n=$(basename "$h"); c=test/fuzz/corpus/${n#fuzz_}
		[ -d "$c" ] && run "corpus/${n#fuzz_}" "$h" "$c"/*
	done

	echo "config checks:"
	run "braidd --check examples" scripts/test-config-check.sh "$B"

	if [ "$SEEDS" -gt 0 ]; then
		echo "deterministic simulation:"
		run "braid-sim seeds 1-$SEEDS" "$B/braid-sim" --seeds "1-$SEEDS" --scenario all --jobs 2
		run "braid-sim determinism" "$B/braid-sim" --seeds 1-5 --scenario all --check-determinism
		run "braid-sim alloc-check" "$B/braid-sim" --seed 1 --scenario clean --alloc-check
	fi

	echo "integration (real processes, network namespaces):"
	for t in test/integration/test_*.sh; do
		[ -f "$t" ] && run "$(basename "$t" .sh)" env BUILD="$B" bash "$t"
	done
fi

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
