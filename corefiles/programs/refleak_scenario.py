"""A C-style reference leak: Py_IncRef through ctypes on objects that are
then dropped, so nothing reachable refers to them while their blocks stay
allocated. PCA_LEAK=N leaks N bytes objects (201 bytes long) and N // 2
floats; 0 leaks nothing (the control run). Runs on CPython 3.6-3.13.

  python refleak_scenario.py abort|gcore TRUTH.json
"""
import ctypes
import gc
import os
import sys
import time


def leak(n):
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    for i in range(n):
        incref(b"%201d" % i)        # a fresh bytes object each time
    for i in range(n // 2):
        incref(float(i) + 0.5)      # a fresh float each time


def main():
    mode, truth_path = sys.argv[1], sys.argv[2]
    n = int(os.environ.get("PCA_LEAK", "0"))
    gc.disable()
    leak(n)
    with open(truth_path, "w") as f:
        f.write('{"pid": %d, "leaked": {"bytes": %d, "float": %d}}' % (os.getpid(), n, n // 2))
    if mode == "abort":
        os.abort()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    time.sleep(3600)


main()
