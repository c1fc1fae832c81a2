#!/usr/bin/env bash
# The scale benchmark of `pycore-analyze summary` (not a test; nothing fails on
# a target). See bench/README.md.
#
#   bench/run.sh [--rev REV] [--runs N] [SIZE ...]      SIZE: 1M 10M (default)
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
SIZES=()
while [ $# -gt 0 ]; do
	case $1 in
	--rev) REV=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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
	need=$((n * 100))          # about 65 bytes of core per object, with room
	mkdir -p "$dir"
	avail=$(df --output=avail -B1 "$dir" | tail -1)
	if [ "$avail" -lt "$need" ]; then
		say "$dir: $avail bytes free, the $size core needs about $need"; exit 2
	fi
	say "making the $size core with $PYTHON in $dir"
	rm -f "$dir"/core "$dir"/core.* "$dir/census.json"
	( cd "$dir" && ulimit -c unlimited && exec "$PYTHON" "$BENCH/make_core.py" "$size" census.json ) || true
	found=$(ls -t "$dir"/core "$dir"/core.* 2>/dev/null | head -1 || true)
	if [ -z "$found" ] || [ ! -f "$dir/census.json" ]; then
		say "no core in $dir: /proc/sys/kernel/core_pattern is '$(cat /proc/sys/kernel/core_pattern)'; it must write 'core' in the cwd"
		exit 2
	fi
	[ "$found" = "$dir/core" ] || mv "$found" "$dir/core"
done

# --- measure ----------------------------------------------------------------
RESULTS=$BENCH/out/results.tsv
: >"$RESULTS"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", b - a}'; }

for size in "${SIZES[@]}"; do
	dir=$(core_of "$size")
	core=$dir/core
	cat "$core" >/dev/null          # the page cache holds the core for every run
	"$TOOL" --json summary "$core" >"$dir/summary.json" 2>"$dir/summary.err" || [ $? -eq 1 ] ||
		{ say "summary failed on $core:"; cat "$dir/summary.err" >&2; exit 2; }

	say "$size: floor, $RUNS runs after a warm-up"
	"$SCAN" "$core" >/dev/null
	floor=()
	for ((i = 0; i < RUNS; i++)); do
		t0=$EPOCHREALTIME; "$SCAN" "$core" >/dev/null; t1=$EPOCHREALTIME
		floor+=("$(elapsed "$t0" "$t1")")
	done

	say "$size: summary, $RUNS runs after a warm-up"
	"$TOOL" summary "$core" >/dev/null 2>&1 || true
	wall=(); rss=()
	for ((i = 0; i < RUNS; i++)); do
		t0=$EPOCHREALTIME
		/usr/bin/time -f %M -o "$dir/time.txt" "$TOOL" summary "$core" >/dev/null 2>&1 || true
		t1=$EPOCHREALTIME
		wall+=("$(elapsed "$t0" "$t1")"); rss+=("$(tail -1 "$dir/time.txt")")
	done

	say "$size: one more run with PCA_TIMING=1 (phase times)"
	PCA_TIMING=1 "$TOOL" summary "$core" 2>"$dir/phases.txt" >/dev/null || true

	say "$size: one more run under the RSS probe (bench/rss_shim.c)"
	PCA_BENCH_CORE=$core PCA_BENCH_OUT=$dir/shim.txt LD_PRELOAD=$SHIM \
		"$TOOL" summary "$core" >/dev/null 2>&1 || true

	{
		printf 'size\t%s\n' "$size"
		printf 'core_bytes\t%s\n' "$(stat -L -c %s "$core")"
		printf 'floor_s\t%s\n' "$(printf '%s\n' "${floor[@]}" | median)"
		printf 'floor_runs\t%s\n' "${floor[*]}"
		printf 'wall_s\t%s\n' "$(printf '%s\n' "${wall[@]}" | median)"
		printf 'wall_runs\t%s\n' "${wall[*]}"
		printf 'peak_rss_kb\t%s\n' "$(printf '%s\n' "${rss[@]}" | median)"
		printf 'shim\t%s\n' "$(cat "$dir/shim.txt")"
		printf 'census_json\t%s\n' "$dir/census.json"
		printf 'summary_json\t%s\n' "$dir/summary.json"
		printf 'end\t\n'
	} >>"$RESULTS"
done

echo "pycore-analyze summary at scale: $TREE, Release; $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; $(uname -r)"
echo "cores: $PYTHON ($PYVER) running bench/make_core.py; medians of $RUNS runs after a warm-up, core in the page cache"
python3 "$BENCH/table.py" "$RESULTS"
echo
echo "summary phases (one run each, PCA_TIMING=1):"
for size in "${SIZES[@]}"; do
	echo "  $size: $(grep -v '^$' "$(core_of "$size")/phases.txt" | tr '\n' ' ')"
done

# The full report beside it (issue: at most 5x the summary time, 128 B of RSS
# per object beyond the mapped core): wall and peak RSS of each run, and the
# phase times the tool prints with PCA_TIMING=1, from one more run.
echo
echo "report (all analyses: census, graph, collector, roots, dominators, owner paths):"
printf '| %-6s | %-22s | %-16s | %-14s | %s\n' size "report wall, s (median)" "report / summary" "peak RSS, MiB" "RSS - touched core, B/object"
for size in "${SIZES[@]}"; do
	dir=$(core_of "$size")
	core=$dir/core
	wall=(); rss=()
	"$TOOL" report "$core" >/dev/null 2>&1 || true
	for ((i = 0; i < RUNS; i++)); do
		t0=$EPOCHREALTIME
		/usr/bin/time -f %M -o "$dir/time-report.txt" "$TOOL" report "$core" >/dev/null 2>&1 || true
		t1=$EPOCHREALTIME
		wall+=("$(elapsed "$t0" "$t1")"); rss+=("$(tail -1 "$dir/time-report.txt")")
	done
	w=$(printf '%s\n' "${wall[@]}" | median)
	r=$(printf '%s\n' "${rss[@]}" | median)
	s=$(awk -F'\t' -v size="$size" '$1 == "size" {cur = $2} $1 == "wall_s" && cur == size {v = $2} END {print v}' "$RESULTS")
	touched=$(awk -F'\t' -v size="$size" '$1 == "size" {cur = $2} $1 == "shim" && cur == size {v = $2} END {print v}' "$RESULTS" | grep -o '[0-9]*' | head -1)
	objects=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals']['objects'])" "$dir/summary.json")
	printf '| %-6s | %22s | %15.1fx | %14.1f | %s\n' "$size" "$w" "$(awk -v a="$w" -v b="$s" 'BEGIN {print a / b}')" \
		"$(awk -v r="$r" 'BEGIN {print r / 1024}')" \
		"$(awk -v r="$r" -v t="${touched:-0}" -v n="$objects" 'BEGIN {printf "%.1f", (r - t) * 1024 / n}')"
	echo "  phases ($size): $(PCA_TIMING=1 "$TOOL" report "$core" 2>&1 >/dev/null | tr '\n' ' ')"
done
