#!/usr/bin/python3
"""Seed corpora for the fuzz harnesses, made from small real cores.

  make_seeds.py OUTDIR [CORE...]

CORE (default: corefiles/committed/*.core.zst) are real Python cores; from
each: its headers and notes (the core parser's input, cut where the first
PT_LOAD data starts, plus that data's first 16 KiB), the same compressed
with zstd, xz, gzip and lz4 (the decompressors' input). Line tables come
from the code objects of every interpreter found (3.6-3.9 lnotab, 3.10
PEP 626, 3.11+ locations). The census harness gets a few mutation records
(8 bytes each: u32 position, 4 bytes). Writes OUTDIR/{core,linetable,
decompress,census}/; existing files are kept.
"""
import glob
import os
import random
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def plain_bytes(path):
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], stdout=subprocess.PIPE, check=True).stdout
    with open(path, "rb") as f:
        return f.read()


def notes_prefix(core):
    phoff, = struct.unpack_from("<Q", core, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", core, 0x36)
    first_load = len(core)
    for i in range(phnum):
        p_type, _, p_offset = struct.unpack_from("<IIQ", core, phoff + i * phentsize)
        if p_type == 1 and p_offset:
            first_load = min(first_load, p_offset)
    return core[:first_load + 16384]


LINETABLE_DUMP = r"""
import sys, struct
fmt = 0 if sys.version_info < (3, 10) else (1 if sys.version_info < (3, 11) else 2)
def codes(c, out):
    out.append(c)
    for k in c.co_consts:
        if hasattr(k, "co_code"):
            codes(k, out)
import json, os, re, textwrap
out = []
for m in (json, os, re, textwrap):
    src = open(m.__file__.replace(".pyc", ".py")).read()
    codes(compile(src, m.__file__, "exec"), out)
sys.stdout.buffer.write(struct.pack("<I", len(out)))
for c in out[:400]:
    t = c.co_lnotab if fmt == 0 else c.co_linetable
    sys.stdout.buffer.write(struct.pack("<BiiI", fmt, c.co_firstlineno, len(c.co_code) - 2, len(t)) + t)
"""


def linetables(outdir):
    pythons = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    pythons += ["/usr/bin/python3.11"]
    n = 0
    for py in pythons:
        if not os.access(py, os.X_OK):
            continue
        try:
            data = subprocess.run([py, "-c", LINETABLE_DUMP], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=60, check=True).stdout
        except (subprocess.SubprocessError, OSError):
            continue
        pos = 4
        tag = os.path.basename(os.path.dirname(os.path.dirname(py))) or "debian"
        rng = random.Random(7)
        while pos + 13 <= len(data):
            fmt, first, last, length = struct.unpack_from("<BiiI", data, pos)
            table = data[pos + 13:pos + 13 + length]
            pos += 13 + length
            if rng.random() < 0.1 and length:
                off = rng.randrange(0, max(last, 1) + 1) & ~1
                write(outdir, "linetable", "%s-%d" % (tag, n),
                      struct.pack("<Bii", fmt, first, off) + table)
                n += 1
    return n


def write(outdir, kind, name, data):
    d = os.path.join(outdir, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    outdir = sys.argv[1]
    cores = sys.argv[2:] or sorted(glob.glob(os.path.join(ROOT, "corefiles/committed/*.core.zst")))
    for path in cores:
        name = os.path.basename(path).split(".")[0]
        prefix = notes_prefix(plain_bytes(path))
        write(outdir, "core", name + "-notes", prefix)
        for tool, ext in (("zstd", "zst"), ("xz", "xz"), ("gzip", "gz"), ("lz4", "lz4")):
            if shutil.which(tool):
                packed = subprocess.run([tool, "-c"], input=prefix, stdout=subprocess.PIPE,
                                        check=True).stdout
                write(outdir, "decompress", "%s.%s" % (name, ext), packed)
    rng = random.Random(20261203)
    write(outdir, "census", "empty", b"")
    for i in range(4):
        write(outdir, "census", "random-%d" % i,
              b"".join(struct.pack("<I", rng.randrange(1 << 32)) + bytes(rng.randrange(256) for _ in range(4))
                       for _ in range(1 + i * 4)))
    print("linetables: %d" % linetables(outdir))


if __name__ == "__main__":
    main()
