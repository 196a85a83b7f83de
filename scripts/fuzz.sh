#!/usr/bin/env bash
# Builds every test/fuzz/fuzz_*.c harness with clang's libFuzzer (+ ASan and
# UBSan) and runs each for SECONDS against a scratch copy of its corpus.
# Findings are left in build-fuzz/<harness>/ as crash-* files.
set -euo pipefail
SECONDS_EACH=${1:-60}
top=$(cd "$(dirname "$0")/.." && pwd); cd "$top"
command -v clang >/dev/null || { echo "fuzz: clang is not installed (apt-get install clang)" >&2; exit 1; }
out=build-fuzz; mkdir -p "$out"
flags="-std=gnu11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc -Itools/lib -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(pkg-config --cflags liburing libsodium libisal)"
libs="$(pkg-config --libs liburing libsodium libisal) -lm"
srcs=$(ls src/*.c sched/*.c fec/*.c tools/lib/*.c | grep -v -e 'src/main.c' -e 'src/dpdk.c')
rc=0
for h in test/fuzz/fuzz_*.c; do
	n=$(basename "$h" .c); c=test/fuzz/corpus/${n#fuzz_}
	echo "== $n (${SECONDS_EACH}s)"
	clang $flags -o "$out/$n" "$h" $srcs $libs
	mkdir -p "$out/$n.corpus"; [ -d "$c" ] && cp -n "$c"/* "$out/$n.corpus/" 2>/dev/null || true
	(cd "$out" && "./$n" -max_total_time="$SECONDS_EACH" -artifact_prefix="$n-" "$n.corpus") || rc=1
done
exit $rc
