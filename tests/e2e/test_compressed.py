#!/usr/bin/python3
"""End-to-end test of compressed cores (contract: zstd, xz, gzip or lz4,
recognised by content, not name): a real core compressed by each tool gives
the same `--json summary` totals and types as the plain core, and says which
compression it was; a compressed core cut short gives a result with a warning
or a refusal (exit 1 or 2), never a crash.

  test_compressed.py --tool build/pycore-analyze --python PYTHON --workdir DIR
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

# name, and the command that writes SRC compressed to DST
COMPRESSORS = [
    ("zstd", lambda src, dst: ["zstd", "-q", "-f", "-k", src, "-o", dst]),
    ("xz", lambda src, dst: ["sh", "-c", 'xz -T2 -c "$0" > "$1"', src, dst]),
    ("gzip", lambda src, dst: ["sh", "-c", 'gzip -c "$0" > "$1"', src, dst]),
    ("lz4", lambda src, dst: ["lz4", "-q", "-f", src, dst]),
]


def summary(tool, path):
    run = corelib.run_tool([tool, "--json", "summary", path])
    if run.crashed() or run.returncode not in (0, 1):
        raise SystemExit("FAIL %s: %s" % (path, run.describe()))
    return json.loads(run.stdout), run


def main():
    def add_arguments(ap):
        ap.add_argument("--python", required=True)
    args = corelib.parse_args(__doc__, add_arguments)
    rundir = os.path.join(args.workdir, "compressed")
    shutil.rmtree(rundir, ignore_errors=True)
    core, _, _ = corelib.make_scenario_core(args.python, "stacks_scenario.py", rundir, "abort")
    plain, _ = summary(args.tool, core)
    problems = []
    for name, command in COMPRESSORS:
        # named .core on purpose: the format comes from the content
        dst = os.path.join(rundir, "%s.core" % name)
        subprocess.check_call(command(core, dst))
        doc, _ = summary(args.tool, dst)
        if doc["totals"] != plain["totals"] or doc["types"] != plain["types"]:
            problems.append("%s: totals %s, plain core %s" % (name, doc["totals"], plain["totals"]))
        if doc["core"].get("compression") != name:
            problems.append("%s: core.compression is %r" % (name, doc["core"].get("compression")))
        if name == "zstd":
            cut = os.path.join(rundir, "cut.core")
            with open(dst, "rb") as f, open(cut, "wb") as g:
                g.write(f.read(os.path.getsize(dst) // 2))
            run = corelib.run_tool([args.tool, "--json", "summary", cut])
            if run.crashed() or run.returncode not in (1, 2):
                problems.append("cut zstd core: exit %s, expected 1 or 2\n%s" % (run.returncode, run.describe()))
            elif run.returncode == 1 and not any("ends early" in w for w in json.loads(run.stdout)["warnings"]):
                problems.append("cut zstd core: no warning that the stream ends early")
            elif run.returncode == 2 and "truncated" not in run.stderr:
                problems.append("cut zstd core: the refusal does not say the core is truncated: %s" % run.stderr)
    corelib.conclude("compressed cores", problems, [rundir],
                     "zstd, xz, gzip and lz4 cores read like the plain core (%d objects);"
                     " a cut one is refused or flagged" % plain["totals"]["objects"])


main()
