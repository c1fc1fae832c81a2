#!/usr/bin/env bash
# The scale benchmark of `pycore-analyze summary` and `report` (not a test;
# nothing fails on a target). See bench/README.md.
#
#   bench/run.sh [--rev REV] [--runs N] [--no-census] [--append] [SIZE ...]
#                                                     SIZE: 1M 10M (default)
#
# --runs 1 skips the warm-up runs (for the largest cores). --no-census makes
# missing cores without make_core.py's in-process census (implied for sizes
# of 100M and more: it would not fit beside the heap). --append adds to
# bench/out/results.tsv (the table then shows every size measured so far).
#
# Builds the tool in release mode (the work tree, or with --rev the committed
# tree REV exported by `git archive`), makes the cores with bench/make_core.py
# when they are missing (bench/out/PYVER-SIZE/core, kept for the next run),
# then per core: the tool's wall time (median of N runs after one warm-up,
# core in the page cache), its peak RSS, the mapped core's touched pages, the
# floor (one mmap pass over every byte of the core) and the in-process census
# time make_core.py recorded; prints them side by side with the targets.
#
# Environment: PYTHON (default pyenv 3.12.1), JOBS (build, default 2).
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
PYTHON=${PYTHON:-/root/.pyenv/versions/3.12.1/bin/python3}
JOBS=${JOBS:-2}
RUNS=5
REV=
NO_CENSUS=
APPEND=
SIZES=()
while [ $# -gt 0 ]; do
	case $1 in
	--rev) REV=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--no-census) NO_CENSUS=1; shift ;;
	--append) APPEND=1; shift ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 64 ;;
	*) SIZES+=("$1"); shift ;;
	esac
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1M 10M)

say() { echo "run.sh: $*" >&2; }

# --- build ------------------------------------------------------------------
mkdir -p "$BENCH/build"
if [ -n "$REV" ]; then
	commit=$(git -C "$REPO" rev-parse --verify "$REV^{commit}")
	SRC=$BENCH/build/src-${commit:0:12}
	BUILD=$BENCH/build/rev-${commit:0:12}
	if [ ! -d "$SRC" ]; then
		mkdir -p "$SRC.tmp"
		git -C "$REPO" archive "$commit" | tar -x -C "$SRC.tmp"
		mv "$SRC.tmp" "$SRC"
	fi
	TREE="commit ${commit:0:12}"
else
	SRC=$REPO
	BUILD=$BENCH/build/tree
	TREE="work tree at $(git -C "$REPO" rev-parse --short=12 HEAD)$(git -C "$REPO" diff --quiet HEAD -- src CMakeLists.txt || echo ' + uncommitted changes')"
fi
say "building $TREE (Release) in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPCA_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$JOBS" >/dev/null
TOOL=$BUILD/pycore-analyze
cc -O2 -o "$BENCH/build/mmap_scan" "$BENCH/mmap_scan.c"
cc -O2 -shared -fPIC -o "$BENCH/build/rss_shim.so" "$BENCH/rss_shim.c" -ldl -lpthread
SCAN=$BENCH/build/mmap_scan
SHIM=$BENCH/build/rss_shim.so

# --- cores ------------------------------------------------------------------
PYVER=$("$PYTHON" -c 'import platform; print(platform.python_version())')
core_of() { echo "$BENCH/out/$PYVER-$1"; }
count_of() {            # 1M -> 1000000, 250k -> 250000, 5000 -> 5000
	case $1 in
	*[mM]) echo $((${1%[mM]} * 1000000)) ;;
	*[kK]) echo $((${1%[kK]} * 1000)) ;;
	*) echo $(($1)) ;;
	esac
}

for size in "${SIZES[@]}"; do
	dir=$(core_of "$size")
	[ -f "$dir/core" ] && [ -f "$dir/census.json" ] && continue
	n=$(count_of "$size")
	need=$((n * 100))          # about 73 bytes of core per object, with room
	census=()
	[ -z "$NO_CENSUS" ] && [ "$n" -lt 100000000 ] || census=(--no-census)
	mkdir -p "$dir"
	avail=$(df --output=avail -B1 "$dir" | tail -1)
	if [ "$avail" -lt "$need" ]; then
		say "$dir: $avail bytes free, the $size core needs about $need"; exit 2
	fi
	say "making the $size core with $PYTHON in $dir"
	rm -f "$dir"/core "$dir"/core.* "$dir/census.json"
	( cd "$dir" && ulimit -c unlimited && exec "$PYTHON" "$BENCH/make_core.py" "${census[@]}" "$size" census.json ) || true
	found=$(ls -t "$dir"/core "$dir"/core.* 2>/dev/null | head -1 || true)
	if [ -z "$found" ] || [ ! -f "$dir/census.json" ]; then
		say "no core in $dir: /proc/sys/kernel/core_pattern is '$(cat /proc/sys/kernel/core_pattern)'; it must write 'core' in the cwd"
		exit 2
	fi
	[ "$found" = "$dir/core" ] || mv "$found" "$dir/core"
done

# --- measure ----------------------------------------------------------------
RESULTS=$BENCH/out/results.tsv
[ -n "$APPEND" ] || : >"$RESULTS"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", b - a}'; }

for size in "${SIZES[@]}"; do
	dir=$(core_of "$size")
	core=$dir/core
	cat "$core" >/dev/null          # the page cache holds the core for every run
	"$TOOL" --json summary "$core" >"$dir/summary.json" 2>"$dir/summary.err" || [ $? -eq 1 ] ||
		{ say "summary failed on $core:"; cat "$dir/summary.err" >&2; exit 2; }

	warm() { [ "$RUNS" -le 1 ] || "$@" >/dev/null 2>&1 || true; }

	say "$size: floor, $RUNS runs"
	warm "$SCAN" "$core"
	floor=()
	for ((i = 0; i < RUNS; i++)); do
		t0=$EPOCHREALTIME; "$SCAN" "$core" >/dev/null; t1=$EPOCHREALTIME
		floor+=("$(elapsed "$t0" "$t1")")
	done

	# RUNS timed runs of the tool's COMMAND: wall clock into wall[], peak
	# RSS (time -f %M) into rss[].
	tool_runs() {
		say "$size: $1, $RUNS runs"
		warm "$TOOL" "$1" "$core"
		wall=(); rss=()
		for ((i = 0; i < RUNS; i++)); do
			t0=$EPOCHREALTIME
			/usr/bin/time -f %M -o "$dir/time-$1.txt" "$TOOL" "$1" "$core" >/dev/null 2>&1 || true
			t1=$EPOCHREALTIME
			wall+=("$(elapsed "$t0" "$t1")"); rss+=("$(tail -1 "$dir/time-$1.txt")")
		done
	}
	tool_runs summary

	say "$size: one more run with PCA_TIMING=1 (phase times)"
	PCA_TIMING=1 "$TOOL" summary "$core" 2>"$dir/phases.txt" >/dev/null || true

	say "$size: one more summary under the RSS probe (bench/rss_shim.c)"
	PCA_BENCH_CORE=$core PCA_BENCH_OUT=$dir/shim.txt LD_PRELOAD=$SHIM \
		"$TOOL" summary "$core" >/dev/null 2>&1 || true

	# report: every analysis (census with references, graph, collector,
	# roots, dominators, retained sizes, owner paths, cycles, caches).
	swall=("${wall[@]}"); srss=("${rss[@]}")
	tool_runs report
	rwall=("${wall[@]}"); rrss=("${rss[@]}")
	wall=("${swall[@]}"); rss=("${srss[@]}")
	say "$size: one more report under the RSS probe, with the phases (PCA_TIMING=1)"
	PCA_TIMING=1 PCA_BENCH_PHASES=1 PCA_BENCH_CORE=$core PCA_BENCH_OUT=$dir/shim-report.txt \
		LD_PRELOAD=$SHIM "$TOOL" report "$core" 2>"$dir/report-phases.txt" >/dev/null || true

	{
		printf 'size\t%s\n' "$size"
		printf 'core_bytes\t%s\n' "$(stat -L -c %s "$core")"
		printf 'floor_s\t%s\n' "$(printf '%s\n' "${floor[@]}" | median)"
		printf 'floor_runs\t%s\n' "${floor[*]}"
		printf 'wall_s\t%s\n' "$(printf '%s\n' "${wall[@]}" | median)"
		printf 'wall_runs\t%s\n' "${wall[*]}"
		printf 'peak_rss_kb\t%s\n' "$(printf '%s\n' "${rss[@]}" | median)"
		printf 'shim\t%s\n' "$(cat "$dir/shim.txt")"
		printf 'report_wall_s\t%s\n' "$(printf '%s\n' "${rwall[@]}" | median)"
		printf 'report_wall_runs\t%s\n' "${rwall[*]}"
		printf 'report_peak_rss_kb\t%s\n' "$(printf '%s\n' "${rrss[@]}" | median)"
		printf 'report_shim\t%s\n' "$(cat "$dir/shim-report.txt")"
		printf 'report_phases\t%s\n' "$dir/report-phases.txt"
		printf 'census_json\t%s\n' "$dir/census.json"
		printf 'summary_json\t%s\n' "$dir/summary.json"
		printf 'end\t\n'
	} >>"$RESULTS"
done

echo "pycore-analyze summary and report at scale: $TREE, Release; $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; $(uname -r)"
echo "cores: $PYTHON ($PYVER) running bench/make_core.py; medians of $RUNS runs$([ "$RUNS" -le 1 ] || echo " after a warm-up"), core in the page cache"
python3 "$BENCH/table.py" "$RESULTS"
echo
echo "summary phases (one run each, PCA_TIMING=1):"
for size in "${SIZES[@]}"; do
	echo "  $size: $(grep -v '^$' "$(core_of "$size")/phases.txt" | tr '\n' ' ')"
done

