#!/bin/bash
# The whole test suite, as CI runs it (README's test command): installs the
# dependencies, builds omm twice (plain with -Werror, and with ASan+UBSan),
# runs every ctest test in the first and the unit tests plus the sanitizer
# set of scenarios (labels "unit" and "sanitize", tests/CMakeLists.txt) in
# the second, then each fuzz harness briefly.
# Needs root (ommd ptraces other users' processes; tests create users).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run.sh: must run as root (ommd is a ptrace supervisor)" >&2
	exit 1
fi
sh tests/deps.sh

jobs=$(nproc)
fuzz_secs=${OMM_FUZZ_SECS:-12}
status=0

# run_suite DIR "CTEST ARGS" CMAKE ARGS...
run_suite() {
	local dir=$1 cargs=$2; shift 2
	cmake -S . -B "$dir" -DOMM_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j"$jobs" >/dev/null
	# shellcheck disable=SC2086
	(cd "$dir" && ctest --output-on-failure $cargs) | tee "$dir/ctest.log" ||
	    status=1
	# "100% tests passed, 0 tests failed out of 12"
	local line f n
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$dir/ctest.log" |
	    tail -1)
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
	n=$(echo "$line" | sed -E 's/.* failed out of ([0-9]+).*/\1/')
	if [ -z "$line" ]; then status=1; return; fi
	total_fail=$((total_fail + f)); total_pass=$((total_pass + n - f))
}
total_pass=0 total_fail=0

echo "== plain build (-Werror): every test =="
run_suite build-ci ""
# The other scenarios repeat the sanitizer set's code paths at length: they
# run once, above (tests/CMakeLists.txt says which and why).
echo "== AddressSanitizer + UBSan build: unit tests and the sanitizer set =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-ci-asan "-L unit|sanitize" -DOMM_SANITIZE=ON

echo "== fuzz harnesses (${fuzz_secs}s each) =="
CC=clang cmake -S . -B build-ci-fuzz -DOMM_FUZZ=ON >/dev/null
cmake --build build-ci-fuzz -j"$jobs" >/dev/null
fpass=0 ffail=0
for f in build-ci-fuzz/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="fuzz/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	# libFuzzer writes crash-*, leak-*, timeout-*, oom-* and slow-unit-*
	# files to its working directory unless told otherwise: never the tree.
	art=$(mktemp -d /tmp/omm-fuzz-$name.XXXXXX)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
	if "$f" -max_total_time="$fuzz_secs" -print_final_stats=0 \
	    -artifact_prefix="$art/" "$work" >"$work.log" 2>&1; then
		fpass=$((fpass + 1)); echo "fuzz $name: ok"
		rm -rf "$art"
	else
		ffail=$((ffail + 1)); status=1
		echo "fuzz $name: FAILED"; tail -40 "$work.log"
		echo "fuzz $name: artefacts in $art: $(ls "$art" | tr '\n' ' ')"
	fi
	rm -rf "$work" "$work.log"
done
echo "fuzz: $fpass passed, $ffail failed"
total_pass=$((total_pass + fpass)); total_fail=$((total_fail + ffail))
[ "$total_fail" -eq 0 ] || status=1
echo "omm: $total_pass passed, $total_fail failed"
exit $status
