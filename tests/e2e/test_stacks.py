#!/usr/bin/python3
"""End-to-end test of `pycore-analyze --json stacks`.

Runs corefiles/programs/stacks_scenario.py under PYTHON, makes a real core of
it (abort: the kernel writes it; gcore: gdb takes it from the live process),
runs `TOOL --json stacks CORE` and compares the JSON with the truth the
program wrote about itself, exactly:
  - exit status 0, one JSON object, schema 1, no warnings;
  - core.pid, python.version; core.signal 6 for abort;
  - the same set of threads (by thread_id = threading.get_ident());
  - per thread: frames innermost first (function, basename(filename), line,
    and qualname on 3.11+, absent before); crashed: the main thread only in
    abort mode, no thread in gcore mode; native_thread_id equal to
    threading.get_native_id() when the tool gives one (null is accepted).

  test_stacks.py --tool build/pycore-analyze --python PYTHON --method abort|gcore --workdir DIR

--python may be given several times, or as "all" (every interpreter that
corelib.find_interpreters() finds); --method likewise accepts "both".
Exit 0 when every run passes, 1 when one differs, 2 when a core could not be
made. Success prints one line per run; a failure prints the differences and
keeps the core (its path is printed).
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

PROGRAM = "stacks_scenario.py"


def frame_text(frame):
    if frame is None:
        return "-"
    if not isinstance(frame, dict):
        return repr(frame)
    text = "%s %s:%s" % (frame.get("function"), frame.get("basename"), frame.get("line"))
    if "qualname" in frame:
        text += " [%s]" % frame["qualname"]
    return text


def normalize_tool_frame(frame):
    """The tool's frame in the truth's terms (basename of filename)."""
    if not isinstance(frame, dict):
        return frame
    out = {"function": frame.get("function"),
           "basename": os.path.basename(frame["filename"])
           if isinstance(frame.get("filename"), str) else frame.get("filename"),
           "line": frame.get("line")}
    if "qualname" in frame:
        out["qualname"] = frame["qualname"]
    return out


def expected_frame(frame):
    out = {"function": frame["function"], "basename": frame["basename"], "line": frame["line"]}
    if "qualname" in frame:
        out["qualname"] = frame["qualname"]
    return out


def frames_diff(expected, got):
    """Side-by-side listing of two frame lists, differing rows marked."""
    width = max([len(frame_text(f)) for f in expected] + [8])
    rows = ["      %-*s | %s" % (width, "expected", "got")]
    for i in range(max(len(expected), len(got))):
        e = expected[i] if i < len(expected) else None
        g = got[i] if i < len(got) else None
        mark = "  " if e == g else "!!"
        rows.append("  %s%2d %-*s | %s" % (mark, i, width, frame_text(e), frame_text(g)))
    return "\n".join(rows)


def compare(truth, result, method):
    """Return a list of problems (empty when the tool's JSON is right)."""
    problems = []

    def check(what, expected, got):
        if expected != got:
            problems.append("%s: expected %r, got %r" % (what, expected, got))

    if not isinstance(result, dict):
        return ["stdout is not a JSON object"]
    check("schema", 1, result.get("schema"))
    core = result.get("core") or {}
    check("core.pid", truth["pid"], core.get("pid"))
    if method == "abort":
        check("core.signal", 6, core.get("signal"))
    python = result.get("python") or {}
    check("python.version", truth["python_version"], python.get("version"))
    if python.get("layout_source") not in ("dwarf", "debug_offsets", "table"):
        problems.append("python.layout_source: %r is not dwarf, debug_offsets or table"
                        % python.get("layout_source"))
    check("warnings", [], result.get("warnings"))

    threads = result.get("threads")
    if not isinstance(threads, list):
        problems.append("threads: expected a list, got %r" % (threads,))
        return problems
    by_id = {}
    for t in threads:
        tid = t.get("thread_id") if isinstance(t, dict) else None
        if tid in by_id:
            problems.append("thread_id %r appears twice" % (tid,))
        by_id[tid] = t
    check("thread count", len(truth["threads"]), len(threads))
    want_ids = set(t["thread_id"] for t in truth["threads"])
    extra = [tid for tid in by_id if tid not in want_ids]
    if extra:
        problems.append("threads the program does not have: %r (expected ids %r)"
                        % (extra, sorted(want_ids)))

    for want in truth["threads"]:
        label = "thread %s (%s)" % (want["thread_id"], want["name"])
        got = by_id.get(want["thread_id"])
        if got is None:
            problems.append("%s: missing; its frames:\n%s" % (
                label, frames_diff([expected_frame(f) for f in want["frames"]], [])))
            continue
        check(label + " crashed", want["crashed"], got.get("crashed"))
        if "native_thread_id" not in got:
            problems.append("%s: no native_thread_id key" % label)
        else:
            # null is allowed (not every version records it); a number must
            # be threading.get_native_id() where the program could ask (3.8+).
            native, real = got["native_thread_id"], want["native_thread_id"]
            if native is not None and real is not None and native != real:
                problems.append("%s native_thread_id: expected %r (or null), got %r"
                                % (label, real, native))
        exp_frames = [expected_frame(f) for f in want["frames"]]
        got_frames = [normalize_tool_frame(f) for f in (got.get("frames") or [])]
        if exp_frames != got_frames:
            problems.append("%s frames differ (innermost first):\n%s"
                            % (label, frames_diff(exp_frames, got_frames)))
    return problems


def run_one(tool, python, method, workdir):
    """One interpreter, one method. Returns 0 pass, 1 mismatch, 2 no core."""
    version, tag, rundir = corelib.run_names(python, method, workdir, "stacks")
    try:
        core, truth, make_seconds = corelib.make_scenario_core(python, PROGRAM, rundir, method)
    except (corelib.CoreError, OSError, ValueError) as e:
        print("ERROR %s: could not make a core: %s" % (tag, e))
        return 2
    size_mb = os.path.getsize(core) / 1e6

    run = corelib.run_tool([tool, "--json", "stacks", core])
    problems = []
    result = None
    if run.timed_out:
        problems.append("the tool did not finish within %.0f s" % corelib.TOOL_TIMEOUT)
    elif run.crashed():
        problems.append("the tool crashed (exit %s)" % run.returncode)
    elif run.returncode != 0:
        problems.append("exit status: expected 0, got %s" % run.returncode)
    try:
        result = json.loads(run.stdout)
    except ValueError as e:
        problems.append("stdout is not valid JSON: %s" % e)
    if result is not None:
        problems.extend(compare(truth, result, method))

    if problems:
        print("FAIL %s (Python %s, %s, core %.1f MB)" % (tag, version, method, size_mb))
        for p in problems:
            print("  - " + p.replace("\n", "\n    "))
        corelib.print_failed_run(run, core, os.path.join(rundir, "truth.json"))
        return 1
    print("PASS Python %s (%s) %s: tool %.2f s, core %.1f MB made in %.1f s"
          % (version, python, method, run.seconds, size_mb, make_seconds))
    shutil.rmtree(rundir, ignore_errors=True)
    return 0


def main():
    def add_arguments(ap):
        corelib.add_matrix_arguments(ap)
    args = corelib.parse_args(__doc__, add_arguments)
    worst = 0
    for python, method in corelib.matrix(args):
        rc = run_one(args.tool, python, method, args.workdir)
        worst = max(worst, rc)
    return worst


if __name__ == "__main__":
    sys.exit(main())
