#!/bin/sh
# Installs the Debian packages pycore-analyze needs to build and test.
# Idempotent: does nothing (and needs no network) when all are present.
# python3.11 and its -dbg package must be the same Debian revision for the
# debug info to match, so they are installed (upgraded) together.
set -eu
PACKAGES="build-essential cmake pkg-config libdw-dev libelf-dev libcmocka-dev
  libzstd-dev liblzma-dev zlib1g-dev liblz4-dev elfutils gdb zstd xz-utils lz4
  python3.11 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib
  python3.11-dbg python3-flask python3-django python3-numpy
  python3-pandas python3-sqlalchemy python3-sqlalchemy-ext python3-aiohttp python3-msgpack python3-yaml
  python3-simplejson python3-ujson python3-lxml python3-regex python3-pydantic
  python3-attr python3-cachetools python3-sortedcontainers python3-jinja2
  python3-werkzeug"
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
# gdb-minimal (gdb built without Python) conflicts with gdb as a package, so
# tests/e2e/test_gdb.py runs it unpacked beside: $GDB_MINIMAL/usr/bin/gdb.
GDB_MINIMAL=/var/cache/pycore-analyze/gdb-minimal
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ -n "$missing" ]; then
  echo "installing:$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
fi
if [ ! -x "$GDB_MINIMAL/usr/bin/gdb" ]; then
  echo "unpacking gdb-minimal into $GDB_MINIMAL" >&2
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download gdb-minimal >/dev/null 2>&1); then
    $SUDO apt-get update -qq
    (cd "$tmp" && apt-get download gdb-minimal >/dev/null)
  fi
  $SUDO mkdir -p "$GDB_MINIMAL"
  $SUDO dpkg-deb -x "$tmp"/gdb-minimal_*.deb "$GDB_MINIMAL"
  rm -rf "$tmp"
fi
