#!/bin/sh
# Regenerate the committed cores and their expected JSON (see README.md).
#   corefiles/committed/make_cores.sh [--expected-only] [TOOL]    (TOOL: build/pycore-analyze)
# --expected-only keeps the cores and rewrites only the expected JSON (after a
# deliberate change of the tool's output; review it with git diff).
# Needs Debian's /usr/bin/python3.11 with python3.11-dbg, zstd, and
# /proc/sys/kernel/core_pattern = core (cores land in the working directory).
set -eu
expected_only=false
[ "${1:-}" = --expected-only ] && { expected_only=true; shift; }
here=$(cd "$(dirname "$0")" && pwd)
tool=$(cd "$here/../.." && pwd)/build/pycore-analyze
[ $# -ge 1 ] && tool=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
python=/usr/bin/python3.11
# A fixed directory: the programs' paths are in the cores (code objects'
# co_filename), so the expected JSON must not depend on the checkout.
work=/tmp/pca-committed
[ "$(cat /proc/sys/kernel/core_pattern)" = core ] || {
	echo "core_pattern must be 'core': echo core > /proc/sys/kernel/core_pattern" >&2
	exit 2
}
if ! $expected_only; then
rm -rf "$work"
mkdir -p "$work"
cp "$here/stacks_small.py" "$here/heap_small.py" "$work/"
cd "$work"
for prog in stacks heap; do
	rm -f core core.*
	# The default coredump_filter (0x33) already leaves out file-backed
	# mappings: the interpreter's own pages are read from the file on disk.
	(ulimit -c unlimited; exec "$python" "${prog}_small.py") || true
	core=$(ls core core.* 2>/dev/null | head -n1)
	[ -n "$core" ] || { echo "no core from ${prog}_small.py" >&2; exit 1; }
	zstd -19 -q -f "$core" -o "$here/$prog.core.zst"
	rm -f "$core"
done
fi
cd "$here"
# Expected output: the tool run from this directory on the relative name,
# as the test runs it.
# Exit codes go to cores.json with the interpreter's build-id and package
# version: the test skips when the installed interpreter is another build.
codes=
for prog in stacks heap; do
	for cmd in summary stacks report; do
		rc=0
		"$tool" --no-progress --json "$cmd" "$prog.core.zst" >"$prog.$cmd.json" || rc=$?
		codes="$codes $prog.$cmd=$rc"
	done
done
/usr/bin/python3 - "$python" $codes >cores.json <<'PY'
import json, subprocess, sys
sys.path.insert(0, "../../tests/e2e")
import corelib
python = sys.argv[1]
version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "python3.11"],
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
exit_codes = dict(arg.split("=") for arg in sys.argv[2:])
print(json.dumps({"python": python, "build_id": corelib.build_id(python),
                  "package_version": version,
                  "exit_codes": {k: int(v) for k, v in exit_codes.items()}},
                 indent=1, sort_keys=True))
PY
ls -l "$here"/*.core.zst
