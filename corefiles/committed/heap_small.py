"""A tiny program for a committed core (corefiles/committed/README.md): a few
hundred objects of known kinds (instances with __dict__, __slots__ instances,
lists, dicts, tuples, strs, ints, a reference cycle), then abort."""
import gc
import os


class Record:
    def __init__(self, i):
        self.name = "record-%d" % i
        self.values = [i, i * 2, i * 3]


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Node:
    def __init__(self):
        self.other = None


def main():
    records = [Record(i) for i in range(200)]
    points = tuple(Point(i, -i) for i in range(100))
    index = {r.name: r for r in records}
    a, b = Node(), Node()
    a.other, b.other = b, a          # a cycle, reachable from here
    keep = (records, points, index, a)
    gc.collect()
    os.abort()
    return keep


if __name__ == "__main__":
    main()
