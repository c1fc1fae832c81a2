"""Fills pymalloc with a mix of small objects, frees part of them (holes in
pools, empty pools, released arenas), then takes sys._debugmallocstats() as
the truth at the last possible moment and dies: argv[1] "abort" (os.abort)
or "gcore" (writes "ready", sleeps). Runs unchanged on CPython 3.6-3.13.

  python arenas_scenario.py abort|gcore TRUTH.json

TRUTH.json is written before the capture: {"pid", "version", "mallocstats"}.
The truth itself is the raw text _PyObject_DebugMallocStats printed, in the
file TRUTH.json.mallocstats: the test parses it. It cannot be parsed or
written here: any allocation after the capture would change pymalloc's state
between the truth and the core.

How the capture avoids allocating after the snapshot: fd 2 is pointed at the
file beforehand (os.open + os.dup2, whose allocations happen before the
snapshot and are part of it); C's stderr is unbuffered, so
_PyObject_DebugMallocStats writes straight to the file with fputs/fprintf
(no pymalloc). After it returns, only calls of builtins already bound to
locals run, with constant arguments and results that are None or cached
small ints: os.abort() (abort mode), or os.write(1, b"ready\\n") and
time.sleep(3600) (gcore mode). The collector is disabled so no collection
can move anything in between either.
"""
import gc
import os
import sys
import time


class Record(object):
    __slots__ = ("key", "value", "tags")

    def __init__(self, key, value, tags):
        self.key = key
        self.value = value
        self.tags = tags


def build():
    """Objects of many size classes: ints, floats, strs and bytes of many
    lengths (16 to ~500 bytes), tuples, lists, dicts, slotted instances."""
    keep = []
    for i in range(40000):
        n = i % 97
        keep.append(i * 1000003)                    # int (28-32 bytes)
        keep.append(float(i) + 0.5)                 # float (24)
        keep.append("s" * (i % 450))                # str, 49..499 bytes
        keep.append(b"b" * (i % 470))               # bytes, 33..503 bytes
        keep.append(tuple(range(n % 40)))           # tuple, up to 360 bytes
        if i % 3 == 0:
            keep.append([i] * (n % 30))             # list + its item array
        if i % 5 == 0:
            keep.append({"k": i, "v": n})           # dict + keys
        if i % 7 == 0:
            keep.append(Record(i, n, (i, n)))
    return keep


def fragment(keep):
    """Free a pattern of objects (holes in most pools) and one long run
    (whole pools, and arenas that pymalloc gives back)."""
    n = len(keep)
    for i in range(0, n, 3):
        keep[i] = None
    for i in range(n // 2, n // 2 + n // 4):
        keep[i] = None
    # More small objects after the holes exist: they reuse free blocks.
    for i in range(0, n // 10, 7):
        keep[i] = "r" * (i % 200)


def main():
    mode, truth_path = sys.argv[1], sys.argv[2]
    keep = build()
    fragment(keep)
    gc.collect()
    gc.disable()  # no collection between the snapshot and the core
    stats_path = truth_path + ".mallocstats"
    with open(truth_path, "w") as f:
        f.write('{"pid": %d, "version": "%d.%d.%d", "mallocstats": "%s"}'
                % ((os.getpid(),) + tuple(sys.version_info[:3]) + (stats_path,)))
    # Everything the capture and the death need, bound before the snapshot.
    stats = sys._debugmallocstats
    abort = os.abort
    write = os.write
    sleep = time.sleep
    ready = b"ready\n"
    fd = os.open(stats_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 2)
    if mode == "abort":
        stats()
        abort()
    stats()
    write(1, ready)
    sleep(3600)
    keep.append(None)  # keep `keep` alive to the end


main()
