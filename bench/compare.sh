#!/bin/bash
# Compare two builds of pycore-analyze on the same cores, for a shared,
# loaded machine where wall time is noise (docs/performance.md):
#   - output identity: `--json summary` and `--json report` (stdout and exit
#     code) byte for byte, unless --no-check;
#   - CPU time (user + sys) and peak RSS (/usr/bin/time -f '%U %S %M'), the
#     two binaries interleaved run by run, min and median of N.
#
#   bench/compare.sh [--runs N] [--cmd summary|report] [--no-check] BASE NEW CORE...
#
# Instruction counts (deterministic) are another matter:
#   valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null BIN summary CORE
set -euo pipefail

RUNS=5
CMD=summary
CHECK=1
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--cmd) CMD=$2; shift 2 ;;
	--no-check) CHECK=; shift ;;
	*) break ;;
	esac
done
[ $# -ge 3 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
BASE=$1 NEW=$2
shift 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

stats() {       # "user sys rss" lines -> min and median CPU, median RSS
	local f=$1
	awk '{printf "%.3f\n", $1 + $2}' "$f" | sort -g >"$f.cpu"
	awk '{print $3}' "$f" | sort -g >"$f.rss"
	med() { awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}' "$1"; }
	printf 'CPU s min %s median %s  peak RSS median %.1f MiB' "$(head -1 "$f.cpu")" "$(med "$f.cpu")" \
		"$(awk -v k="$(med "$f.rss")" 'BEGIN {print k / 1024}')"
}

for core in "$@"; do
	echo "== $core ($(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg))"
	if [ -n "$CHECK" ]; then
		for c in summary report; do
			for b in base new; do
				bin=$BASE; [ $b = new ] && bin=$NEW
				rc=0
				"$bin" --json "$c" "$core" >"$tmp/$b.$c.json" 2>/dev/null || rc=$?
				echo "exit $rc" >>"$tmp/$b.$c.json"
			done
			if cmp -s "$tmp/base.$c.json" "$tmp/new.$c.json"; then
				echo "  --json $c: identical"
			else
				echo "  --json $c: DIFFERENT"
				diff "$tmp/base.$c.json" "$tmp/new.$c.json" | head -20 || true
			fi
		done
	fi
	: >"$tmp/base.t"; : >"$tmp/new.t"
	for ((i = 0; i < RUNS; i++)); do
		for b in base new; do
			bin=$BASE; [ $b = new ] && bin=$NEW
			/usr/bin/time -f '%U %S %M' -o "$tmp/one" "$bin" "$CMD" "$core" >/dev/null 2>&1 || true
			tail -1 "$tmp/one" >>"$tmp/$b.t"
		done
	done
	echo "  $CMD base: $(stats "$tmp/base.t")   runs: $(awk '{printf "%.2f ", $1 + $2}' "$tmp/base.t")"
	echo "  $CMD new:  $(stats "$tmp/new.t")   runs: $(awk '{printf "%.2f ", $1 + $2}' "$tmp/new.t")"
done
