#!/usr/bin/python3
"""End-to-end test on the cores committed under corefiles/committed/: the
tool's `--json` summary, stacks and report of each core equal the expected
JSON checked in beside it, and the exit codes equal those in cores.json.
It makes no core, so it runs where no pyenv interpreter exists; it needs the
Debian interpreter that made the cores (/usr/bin/python3.11 and its
python3.11-dbg). When that interpreter is another build (a newer Debian
revision: another build-id), or its debug info is missing, the cores cannot
be analysed here and the test SKIPs (exit 77) saying why.

  test_committed_cores.py --tool build/pycore-analyze --workdir DIR
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corelib  # noqa: E402

COMMITTED = os.path.join(corelib.REPO, "corefiles", "committed")
SKIP = 77          # ctest's SKIP_RETURN_CODE for this test
CORES = ("stacks", "heap")
COMMANDS = ("summary", "stacks", "report")


def skip(why):
    print("SKIP " + why)
    print("  the committed cores cannot be analysed with this interpreter; "
          "regenerate them as corefiles/committed/README.md says")
    sys.exit(SKIP)


def check_interpreter(meta):
    python = meta["python"]
    if not os.access(python, os.X_OK):
        skip("%s is not installed" % python)
    have = corelib.build_id(python)
    if have != meta["build_id"]:
        skip("%s has build-id %s, the cores were made by build-id %s (package %s)"
             % (python, have, meta["build_id"], meta["package_version"]))
    debug = "/usr/lib/debug/.build-id/%s/%s.debug" % (have[:2], have[2:])
    if not os.path.exists(debug):
        skip("no debug info for %s (%s missing): install python3.11-dbg" % (python, debug))


def main():
    args = corelib.parse_args(__doc__)
    with open(os.path.join(COMMITTED, "cores.json")) as f:
        meta = json.load(f)
    check_interpreter(meta)
    problems = []
    for core in CORES:
        for command in COMMANDS:
            name = "%s.%s" % (core, command)
            run = corelib.run_tool([args.tool, "--no-progress", "--json", command,
                                    os.path.join(COMMITTED, core + ".core.zst")])
            if run.crashed() or run.returncode != meta["exit_codes"][name]:
                problems.append("%s: exit %s, expected %s\n%s" % (
                    name, run.returncode, meta["exit_codes"][name], run.describe()))
                continue
            with open(os.path.join(COMMITTED, name + ".json")) as f:
                expected = json.load(f)
            try:
                got = json.loads(run.stdout)
            except ValueError as e:
                problems.append("%s: output is not JSON (%s)" % (name, e))
                continue
            # the expected output was made on the relative name
            if isinstance(got.get("core"), dict):
                got["core"]["path"] = expected["core"]["path"]
            if got != expected:
                out = os.path.join(args.workdir, name + ".json")
                with open(out, "w") as f:
                    f.write(run.stdout)
                problems.append("%s: differs from %s (got: %s)" % (
                    name, os.path.join(COMMITTED, name + ".json"), out))
    corelib.conclude("committed cores", problems, [args.workdir],
                     "%d commands on %d committed cores" % (len(CORES) * len(COMMANDS), len(CORES)))


if __name__ == "__main__":
    main()
