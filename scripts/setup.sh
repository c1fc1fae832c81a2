#!/bin/sh
# Quick start, step 1: install what is needed, build, and show a real report
# of a core made from the bundled demo program (corefiles/demo/demo_app.py).
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
demo=build/demo
rm -rf "$demo" && mkdir -p "$demo"
# A kernel core of Debian's python3.11 (debug info from python3.11-dbg).
(cd "$demo" && ulimit -c unlimited && { /usr/bin/python3.11 ../../corefiles/demo/demo_app.py >/dev/null 2>&1 || true; }) 2>/dev/null
core=$(ls "$demo"/core* 2>/dev/null | head -n 1)
if [ -z "$core" ]; then
  echo "no core was written: check /proc/sys/kernel/core_pattern ($(cat /proc/sys/kernel/core_pattern))" >&2
  exit 1
fi
echo "\$ build/pycore-analyze $core"
./build/pycore-analyze "$core" || [ $? -eq 1 ]   # 1: a report with warnings
