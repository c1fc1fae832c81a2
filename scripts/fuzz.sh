#!/bin/sh
# Fuzz campaign: every harness in fuzz/ for SECONDS each (default 60).
#   scripts/fuzz.sh [SECONDS] [HARNESS...]
# Builds build-fuzz with clang-14 + libFuzzer + ASan + UBSan, makes the seed
# corpus from the committed real cores (fuzz/make_seeds.py), adds the
# committed corpus and regressions, and runs each harness. New corpus
# entries collect in build-fuzz/corpus/NAME, crashes in build-fuzz/crashes/NAME:
# minimise one (fuzz_NAME -minimize_crash=1 FILE), fix the bug, and commit
# the input to fuzz/regressions/NAME, where ctest replays it for ever.
# Prints, per harness, libFuzzer's executions, coverage (cov: edges, ft:
# features) and the number of crashes.
set -eu
seconds=${1:-60}
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build-fuzz
harnesses=${*:-core linetable census decompress}
command -v clang-14 >/dev/null || { echo "fuzz.sh: clang-14 is missing: apt-get install clang-14 libfuzzer-14-dev" >&2; exit 2; }
CC=clang-14 cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPCA_SANITIZE=ON \
	-DPCA_FUZZ=ON -DPCA_TESTS=OFF >/dev/null
targets=""
for h in $harnesses; do targets="$targets --target fuzz_$h"; done
# shellcheck disable=SC2086
cmake --build "$build" -j2 $targets >/dev/null
python3 "$here/fuzz/make_seeds.py" "$build/seeds" >/dev/null
export DEBUGINFOD_URLS=
for h in $harnesses; do
	case $h in
	core) max_len=65536 ;; linetable) max_len=4096 ;; census) max_len=1024 ;; *) max_len=65536 ;;
	esac
	mkdir -p "$build/corpus/$h" "$build/crashes/$h"
	log=$build/fuzz-$h.log
	# libFuzzer exits on a missing corpus directory: pass only those that exist
	# (a harness may have no committed corpus or regression yet).
	dirs="$build/corpus/$h"
	for d in "$build/seeds/$h" "$here/fuzz/corpus/$h" "$here/fuzz/regressions/$h"; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	# shellcheck disable=SC2086
	"$build/fuzz/fuzz_$h" $dirs -max_total_time="$seconds" -max_len="$max_len" \
		-timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/crashes/$h/" >"$log" 2>&1 || true
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
	crashes=$(find "$build/crashes/$h" -type f | wc -l)
	echo "$h: ${execs:-0} executions in ${seconds} s, ${cov:-no coverage line}, $crashes crash file(s) in build-fuzz/crashes/$h (log $log)"
done
