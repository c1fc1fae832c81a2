#!/bin/sh
# Installs the Debian packages pycore-analyze needs to build and test.
# Idempotent: does nothing (and needs no network) when all are present.
# python3.11 and its -dbg package must be the same Debian revision for the
# debug info to match, so they are installed (upgraded) together.
set -eu
PACKAGES="build-essential cmake pkg-config libdw-dev libelf-dev libcmocka-dev
  libzstd-dev liblzma-dev zlib1g-dev liblz4-dev elfutils gdb zstd xz-utils lz4
  python3.11 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib
  python3.11-dbg python3-flask"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The debug info must be for the installed python3.11 (same revision).
if [ -z "$missing" ]; then
  v1=$(dpkg-query -W -f='${Version}' python3.11-minimal)
  v2=$(dpkg-query -W -f='${Version}' python3.11-dbg)
  [ "$v1" = "$v2" ] || missing="python3.11 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11-dbg"
fi
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
