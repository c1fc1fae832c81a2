"""A tiny program for a committed core (corefiles/committed/README.md): two
threads parked in known functions and the main thread three calls deep when
it aborts. Kept small so that its compressed core stays small."""
import os
import threading

ready = threading.Barrier(3)
stop = threading.Event()


def worker_leaf(n):
    ready.wait()
    stop.wait()
    return n


def worker(n):
    return worker_leaf(n)


def crash_here():
    os.abort()


def middle(depth):
    if depth:
        return middle(depth - 1)
    crash_here()


def main():
    threads = [threading.Thread(target=worker, args=(i,), name="worker-%d" % i, daemon=True)
               for i in range(2)]
    for t in threads:
        t.start()
    ready.wait()
    middle(2)


if __name__ == "__main__":
    main()
