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

The truth (keys of TRUTH.json; framework_truth.py computes it):
  unreachable  {count, types}: gc.garbage after gc.set_debug(DEBUG_SAVEALL)
               and gc.collect() in a forked child (the collector's verdict on
               the heap of the core), and its per-type counts for the
               scenario's types and traceback/frame.
  counts       {type name: count} of the scenario's types (KeptFailure,
               DroppedFailure, Payload), traceback and every class of the
               framework's packages (flask, werkzeug, jinja2) with instances,
               over gc.get_objects() (every tracked object: the collector is
               off, nothing was freed by it, the permanent generation was
               emptied; instances of Python classes are always tracked).
  expected     what the scenario made: KeptFailure REQUESTS, DroppedFailure
               REQUESTS, Payload 3 * 2 * REQUESTS (three frames per failure).
  self_check_problems  empty when the counts are what the scenario made.

Debugging aid (not used by the tests): FLASK_SCENARIO_IDS=FILE makes the
probe write the address (id) of every object the collector found
unreachable to FILE, one hex number a line.

Runs on CPython 3.11 (Debian's Flask 2.2 supports 3.7+).
"""

import sys

import framework_truth
from framework_truth import FAIL_DEPTH

try:
    import flask
except ImportError as e:
    sys.stderr.write("flask_scenario: cannot import flask (%s): install python3-flask\n" % e)
    sys.exit(3)


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
client = app.test_client()


@app.route("/item/<int:n>")
def item(n):
    return flask.jsonify({"item": n, "tags": ["a", "b", str(n)]})


@app.route("/kept/<int:n>")
def kept(n):
    try:
        framework_truth.fail_deep(KeptFailure, Payload, n, FAIL_DEPTH)
    except KeptFailure as e:
        FAILURES.append(e)
    return "kept %d" % n


@app.route("/drop/<int:n>")
def drop(n):
    try:
        framework_truth.fail_deep(DroppedFailure, Payload, n, FAIL_DEPTH)
    except DroppedFailure:
        # the exception in a local of the frame its traceback holds: a cycle
        failure = sys.exc_info()[1]
    return "dropped %d" % (failure.args[1],)


def serve(rounds, base):
    for i in range(rounds):
        n = base + i
        for path in ("/item/%d" % n, "/kept/%d" % n, "/drop/%d" % n):
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit("%s: status %d" % (path, response.status_code))
            response.close()


if __name__ == "__main__":
    framework_truth.run("flask_scenario.py", serve, 3, ("flask", "werkzeug", "jinja2"),
                        FAILURES, "FLASK_SCENARIO_IDS",
                        {"framework": "flask", "flask": flask.__file__})
