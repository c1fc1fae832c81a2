"""Scenario program for the `stacks` end-to-end test of pycore-analyze.

Usage: python stacks_scenario.py abort|gcore TRUTH.json

Builds known Python stacks and writes, computed in-process, the truth about
them to TRUTH.json; then either aborts (mode "abort": the kernel writes a
core) or prints "ready" and blocks (mode "gcore": the test takes a core with
gcore and kills us).

The main thread's stack, innermost first, at the moment of the core:
  finish, <lambda>, produce (a generator being iterated), consume,
  recurse x5, Scenario.method, level_two, level_one, main, <module>.
Three extra threads are each blocked in a C call (lock acquire, time.sleep,
os.read on an empty pipe) in a distinct function with 2 frames of ours and
threading's bootstrap frames under it.

The truth records the main thread's innermost line as the line of the
os.abort() / time.sleep() call (found by its marker comment), because the
truth is computed a few lines before the stack freezes there.

Must run unchanged on CPython 3.6 .. 3.13: no walrus, no 3.7+ only stdlib
(threading.get_native_id and co_qualname are used only where they exist).
Every call that matters to the truth is written on one line, so every
version reports the same f_lineno for it.
"""

import io
import json
import os
import platform
import sys
import threading
import time

HELD = threading.Lock()          # acquired by main, never released
PIPE_R, PIPE_W = os.pipe()       # nothing is ever written to PIPE_W
NATIVE_IDS = {}                  # threading.get_ident() -> native id or None
THREAD_WAIT_SECONDS = 30.0


def marker_line(name):
    """Line number of the unique line ending in the comment '# <<name>>'."""
    tag = "# <<" + name + ">>"
    found = []
    with io.open(os.path.abspath(__file__), encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            if text.rstrip().endswith(tag):
                found.append(number)
    if len(found) != 1:
        raise RuntimeError("marker %r found %d times" % (name, len(found)))
    return found[0]


def native_id():
    get = getattr(threading, "get_native_id", None)   # 3.8+
    if get is None:
        return None
    return get()


def note_self():
    NATIVE_IDS[threading.get_ident()] = native_id()


# --- extra threads: each blocks in a C call at a marked line -----------------

def alpha_block():
    note_self()
    HELD.acquire()  # <<alpha>>


def alpha_middle():
    alpha_block()


def alpha_entry():
    alpha_middle()


def beta_block():
    note_self()
    time.sleep(3600)  # <<beta>>


def beta_middle():
    beta_block()


def beta_entry():
    beta_middle()


def gamma_block():
    note_self()
    os.read(PIPE_R, 1)  # <<gamma>>


def gamma_middle():
    gamma_block()


def gamma_entry():
    gamma_middle()


WORKERS = [("alpha", alpha_entry, "alpha_block"),
           ("beta", beta_entry, "beta_block"),
           ("gamma", gamma_entry, "gamma_block")]


def start_workers():
    """Start the workers; return {ident: (name, block function, marker line)}
    once each one's innermost frame sits at its marked line."""
    started = {}
    for name, entry, block in WORKERS:
        t = threading.Thread(target=entry, name=name)
        t.daemon = True
        t.start()
        started[t.ident] = (name, block, marker_line(name))
    deadline = time.time() + THREAD_WAIT_SECONDS
    while True:
        frames = sys._current_frames()
        waiting = [name for ident, (name, block, line) in started.items()
                   if ident not in frames or ident not in NATIVE_IDS
                   or frames[ident].f_code.co_name != block
                   or frames[ident].f_lineno != line]
        if not waiting:
            break
        if time.time() > deadline:
            raise RuntimeError("threads never blocked: %s" % waiting)
        time.sleep(0.01)
    # They are at the line of the blocking call; give them time to enter it.
    time.sleep(0.1)
    return started


# --- truth -------------------------------------------------------------------

def describe_frames(frame, innermost_line):
    frames = []
    while frame is not None:
        code = frame.f_code
        entry = {"function": code.co_name,
                 "filename": code.co_filename,
                 "basename": os.path.basename(code.co_filename),
                 "line": frame.f_lineno}
        qualname = getattr(code, "co_qualname", None)   # 3.11+
        if qualname is not None:
            entry["qualname"] = qualname
        frames.append(entry)
        frame = frame.f_back
    if innermost_line is not None:
        frames[0]["line"] = innermost_line
    return frames


def write_truth(path, mode, main_frame, main_line, workers):
    main_ident = threading.get_ident()
    current = sys._current_frames()
    threads = [{"thread_id": main_ident,
                "native_thread_id": native_id(),
                "name": "main",
                "crashed": mode == "abort",
                "frames": describe_frames(main_frame, main_line)}]
    for ident, (name, block, line) in sorted(workers.items()):
        threads.append({"thread_id": ident,
                        "native_thread_id": NATIVE_IDS[ident],
                        "name": name,
                        "crashed": False,
                        "frames": describe_frames(current[ident], None)})
    truth = {"mode": mode,
             "pid": os.getpid(),
             "executable": sys.executable,
             "python_version": platform.python_version(),
             "implementation": platform.python_implementation(),
             "main_thread_id": main_ident,
             "threads": threads}
    tmp = path + ".tmp"
    with io.open(tmp, "w", encoding="utf-8") as f:
        f.write(json.dumps(truth, indent=1, sort_keys=True))
    os.rename(tmp, path)   # the test never sees a half-written truth


# --- main thread: a known chain of calls ---------------------------------------

def finish(args):
    mode, path, workers = args
    here = sys._getframe()
    if mode == "abort":
        write_truth(path, mode, here, marker_line("abort"), workers)
        os.abort()  # <<abort>>
    else:
        write_truth(path, mode, here, marker_line("gcore"), workers)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        time.sleep(3600)  # <<gcore>>


CALL_FINISH = lambda args: finish(args)


def produce(args):
    yield CALL_FINISH(args)


def consume(args):
    for value in produce(args):
        return value


def recurse(depth, args):
    if depth > 1:
        return recurse(depth - 1, args)
    return consume(args)


class Scenario(object):
    def method(self, args):
        return recurse(5, args)


def level_two(args):
    return Scenario().method(args)


def level_one(args):
    return level_two(args)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("abort", "gcore"):
        sys.stderr.write("usage: stacks_scenario.py abort|gcore TRUTH.json\n")
        sys.exit(64)
    HELD.acquire()
    workers = start_workers()
    level_one((sys.argv[1], sys.argv[2], workers))


if __name__ == "__main__":
    main()
