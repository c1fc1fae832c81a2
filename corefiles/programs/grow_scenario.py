"""Memory that grows like a leak: 5 MiB every 50 ms up to 400 MiB, then a
long sleep. With argv[1] == "exit" it stops growing at 50 MiB and exits.
Runs on CPython 3.6-3.13.

  python grow_scenario.py [exit]
"""
import sys
import time

BLOCKS = []


def main():
    limit = 10 if sys.argv[1:] == ["exit"] else 80
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while len(BLOCKS) < limit:
        BLOCKS.append(bytearray(5 * 1024 * 1024))   # zero-filled: resident at once
        time.sleep(0.05)
    if limit == 10:
        return
    time.sleep(3600)


main()
