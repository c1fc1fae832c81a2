"""A cache that grows between two gcore snapshots: CACHE holds 1000 entries
(str keys, 100-byte bytes values) at the first "ready", 6000 at the second;
a line on stdin moves from one to the other. Runs on CPython 3.6-3.13.

  python growth_scenario.py
"""
import gc
import sys

CACHE = {}


def fill(n):
    for i in range(len(CACHE), n):
        CACHE["key-%06d" % i] = b"%100d" % i


def main():
    gc.disable()  # nothing but the cache changes between the snapshots
    fill(1000)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    fill(6000)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()


main()
