"""Scenario program for the framework end-to-end test of pycore-analyze
(tests/e2e/test_framework.py): a real Flask application (Debian's
python3-flask) serves requests through its test client (no network), some
of which raise and catch exceptions, with the collector off, as a service
between two collections is.

Usage: python flask_scenario.py abort|gcore TRUTH.json

Needs Flask importable (Debian's python3.11 finds it; another interpreter
needs PYTHONPATH=/usr/lib/python3/dist-packages). Exits 3 without a core
when Flask cannot be imported.

Requests (REQUESTS rounds of each):
  /item/<n>   returns JSON: ordinary garbage of a request (Werkzeug's
              environ, request and response objects, their cycles).
  /kept/<n>   catches a KeptFailure raised two calls deep and appends it to
              FAILURES (a module global): exception -> traceback -> frames
              of finished calls -> their locals (a Payload each) stay alive.
  /drop/<n>   catches a DroppedFailure and keeps it in a local of the view,
              which returns: exception -> traceback -> the view's frame ->
              its locals -> the exception, the most common garbage cycle of
              real services; the Payload its frames hold is garbage too.

The truth (keys of TRUTH.json):
  unreachable  {count, types}: gc.garbage after gc.set_debug(DEBUG_SAVEALL)
               and gc.collect() in a forked child (the collector's verdict on
               the heap of the core), and its per-type counts for the
               scenario's types and traceback/frame.
  counts       {type name: count} of the scenario's types (KeptFailure,
               DroppedFailure, Payload) and traceback over gc.get_objects()
               (every tracked object: the collector is off, nothing was
               freed by it, the permanent generation was emptied).
  expected     what the scenario made: KeptFailure REQUESTS, DroppedFailure
               REQUESTS, Payload 3 * 2 * REQUESTS (three frames per failure).
  self_check_problems  empty when the counts are what the scenario made.

Debugging aid (not used by the tests): FLASK_SCENARIO_IDS=FILE makes the
probe write the address (id) of every object the collector found
unreachable to FILE, one hex number a line.

Runs on CPython 3.11 (Debian's Flask 2.2 supports 3.7+).
"""

import gc
import json
import os
import platform
import sys
import time

from scenario_truth import ready_line, type_name, write_file

try:
    import flask
except ImportError as e:
    sys.stderr.write("flask_scenario: cannot import flask (%s): install python3-flask\n" % e)
    sys.exit(3)

REQUESTS = 60
FAIL_DEPTH = 2
PYTHON_VERSION = platform.python_version()


class KeptFailure(Exception):
    pass


class DroppedFailure(Exception):
    pass


class Payload(object):
    """Held only by the locals of a failed call's frame."""
    def __init__(self, n):
        self.n = n
        self.body = ["payload", n]


FAILURES = []
app = flask.Flask("flask_scenario")


def fail_deep(cls, n, depth):
    payload = Payload(n)
    if depth:
        return fail_deep(cls, n, depth - 1)
    raise cls("request %d failed" % n, payload.n)


@app.route("/item/<int:n>")
def item(n):
    return flask.jsonify({"item": n, "tags": ["a", "b", str(n)]})


@app.route("/kept/<int:n>")
def kept(n):
    try:
        fail_deep(KeptFailure, n, FAIL_DEPTH)
    except KeptFailure as e:
        FAILURES.append(e)
    return "kept %d" % n


@app.route("/drop/<int:n>")
def drop(n):
    try:
        fail_deep(DroppedFailure, n, FAIL_DEPTH)
    except DroppedFailure:
        # the exception in a local of the frame its traceback holds: a cycle
        failure = sys.exc_info()[1]
    return "dropped %d" % (failure.args[1],)


def serve(client, rounds, base):
    for i in range(rounds):
        n = base + i
        for path in ("/item/%d" % n, "/kept/%d" % n, "/drop/%d" % n):
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit("%s: status %d" % (path, response.status_code))
            response.close()


COUNTED = ("KeptFailure", "DroppedFailure", "Payload")


def census():
    """{type name: count} over the collector's lists for the counted types."""
    names = ["__main__." + n for n in COUNTED] + ["traceback"]
    out = dict((n, 0) for n in names)
    for o in gc.get_objects():
        name = type_name(type(o))
        if name in out:
            out[name] += 1
    return out


def fork_probe():
    """The collector's verdict on this heap, from a forked child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            gc.set_debug(gc.DEBUG_SAVEALL)
            collected = gc.collect()
            types = {}
            for o in gc.garbage:
                name = type_name(type(o))
                types[name] = types.get(name, 0) + 1
            if os.environ.get("FLASK_SCENARIO_IDS"):
                with open(os.environ["FLASK_SCENARIO_IDS"], "w") as f:
                    for o in gc.garbage:
                        f.write("%x\n" % id(o))
            data = json.dumps({"count": len(gc.garbage), "collect_returned": collected,
                               "types": types}, sort_keys=True).encode("ascii")
            while data:
                data = data[os.write(w, data):]
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks).decode("ascii"))


def compute_truth(mode):
    counts = census()
    unreachable = fork_probe()
    expected = {"__main__.KeptFailure": REQUESTS, "__main__.DroppedFailure": REQUESTS,
                "__main__.Payload": 2 * REQUESTS * (FAIL_DEPTH + 1)}
    problems = []
    for name, n in sorted(expected.items()):
        if counts.get(name) != n:
            problems.append("%s: %s objects, the scenario made %d" % (name, counts.get(name), n))
    want_garbage = {"__main__.DroppedFailure": REQUESTS,
                    "__main__.Payload": REQUESTS * (FAIL_DEPTH + 1)}
    for name, n in sorted(want_garbage.items()):
        if unreachable["types"].get(name) != n:
            problems.append("%s: %s unreachable, the scenario dropped %d"
                            % (name, unreachable["types"].get(name), n))
    return {"pid": os.getpid(), "mode": mode, "version": PYTHON_VERSION,
            "executable": sys.executable, "flask": flask.__file__,
            "requests": 3 * REQUESTS, "counts": counts, "expected": expected,
            "unreachable": unreachable, "self_check_problems": problems}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("abort", "gcore"):
        sys.stderr.write("usage: flask_scenario.py abort|gcore TRUTH.json\n")
        sys.exit(64)
    mode, path = sys.argv[1], sys.argv[2]
    client = app.test_client()
    # Warm up (first-request state, lazy imports, the probe's own code),
    # then collect: what the truth sees is the served requests' heap.
    serve(client, 2, 10 ** 6)
    del FAILURES[:]
    sys.stdout.write("warm\n")
    sys.stdout.flush()
    fork_probe()
    write_file(path + ".warm-up", b"{}")
    os.unlink(path + ".warm-up")
    if hasattr(gc, "unfreeze"):
        gc.unfreeze()
    gc.collect()
    gc.disable()          # no collection from here to the core
    serve(client, REQUESTS, 0)
    truth = compute_truth(mode)
    write_file(path, json.dumps(truth, sort_keys=True).encode("ascii"))
    if mode == "abort":
        os.abort()
    ready_line()
    time.sleep(3600)


if __name__ == "__main__":
    main()
