#!/bin/sh
# Quick start, step 2: the whole test suite (unit and end-to-end), built with
# -Werror, AddressSanitizer and UndefinedBehaviorSanitizer. CI runs exactly this.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DPCA_WERROR=ON -DPCA_SANITIZE=ON >/dev/null
cmake --build build-test -j"$(nproc)" >/dev/null
ctest --test-dir build-test --output-on-failure -j"$(nproc)" --timeout 900
