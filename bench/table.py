"""Prints bench/run.sh's table from bench/out/results.tsv (stdlib only).

  python3 table.py RESULTS.tsv
"""
import json
import sys

MIB = 1024.0 * 1024.0


def load(path):
    rows, cur = [], {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            if key == "end":
                rows.append(cur)
                cur = {}
            else:
                cur[key] = value
    for r in rows:
        census = json.load(open(r["census_json"]))
        summary = json.load(open(r["summary_json"]))
        shim = dict(kv.split("=") for kv in r["shim"].split())
        r["tool_objects"] = summary["totals"]["objects"]
        # make_core.py --no-census: no in-process figures (shown as "-")
        r["has_census"] = census["objects"] is not None
        r["heap_objects"] = census["objects"] or r["tool_objects"]
        r["census_tracked"] = census["gc_tracked"]
        r["census_s"] = census["census_seconds"]
        r["python"] = census["python"]
        r["core_bytes"] = int(r["core_bytes"])
        r["floor_s"] = float(r["floor_s"])
        r["wall_s"] = float(r["wall_s"])
        r["peak"] = int(r["peak_rss_kb"]) * 1024
        r["core_rss"] = int(shim["core_rss_kb"]) * 1024
        r["anon_peak"] = int(shim["anon_peak_kb"]) * 1024
        r["beyond"] = r["peak"] - r["core_rss"]
        r["beyond_simple"] = r["peak"] - r["core_bytes"]
        w = [float(x) for x in r["wall_runs"].split()]
        r["wall_range"] = "%.3f-%.3f" % (min(w), max(w))
        if "report_wall_s" in r:
            rshim = dict(kv.split("=") for kv in r["report_shim"].split())
            r["r_wall_s"] = float(r["report_wall_s"])
            w = [float(x) for x in r["report_wall_runs"].split()]
            r["r_wall_range"] = "%.3f-%.3f" % (min(w), max(w))
            r["r_peak"] = int(r["report_peak_rss_kb"]) * 1024
            r["r_core_rss"] = int(rshim["core_rss_kb"]) * 1024
            r["r_anon_peak"] = int(rshim["anon_peak_kb"]) * 1024
            r["r_beyond"] = r["r_peak"] - r["r_core_rss"]
            try:
                r["r_phases"] = open(r["report_phases"]).read()
            except OSError:
                r["r_phases"] = ""
    return rows


def census_only(fmt):
    return lambda r: fmt(r) if r["has_census"] else "-"


def print_table(rows, lines):
    head = ["", ] + [r["size"] for r in rows] + ["target"]
    widths = [max(len(x[i]) for x in lines + [head]) for i in range(len(head))]
    fmt = "| " + " | ".join(("%%-%ds" if i == 0 else "%%%ds") % w
                            for i, w in enumerate(widths)) + " |"
    print(fmt % tuple(head))
    print("|" + "|".join(("-" * (w + 1) + ":") if i else "-" * (w + 2)
                         for i, w in enumerate(widths)) + "|")
    for l in lines:
        print(fmt % tuple(l))


def main():
    rows = load(sys.argv[1])
    lines = []

    def row(label, fmt, target=""):
        lines.append([label] + [fmt(r) for r in rows] + [target])

    row("core file", lambda r: "%.0f MiB" % (r["core_bytes"] / MIB))
    row("heap objects (in-process census)", census_only(lambda r: "{:,}".format(r["heap_objects"])))
    row("  of which collector-tracked", census_only(lambda r: "{:,}".format(r["census_tracked"])))
    row("objects the tool counted", lambda r: "{:,}".format(r["tool_objects"]))
    row("in-process census, s (one run)", census_only(lambda r: "%.2f" % r["census_s"]))
    row("summary wall, s (median)", lambda r: "%.3f" % r["wall_s"])
    row("  min-max", lambda r: r["wall_range"])
    row("floor: mmap pass over all bytes, s", lambda r: "%.3f" % r["floor_s"])
    row("census / summary", census_only(lambda r: "%.1fx" % (r["census_s"] / r["wall_s"])), ">= 20x")
    row("summary / floor", lambda r: "%.1fx" % (r["wall_s"] / r["floor_s"]), "<= 5x")
    row("objects/s, counted by the tool", lambda r: "{:,.0f}".format(r["tool_objects"] / r["wall_s"]))
    row("objects/s, heap objects", census_only(lambda r: "{:,.0f}".format(r["heap_objects"] / r["wall_s"])))
    row("peak RSS (time -f %M, median)", lambda r: "%.1f MiB" % (r["peak"] / MIB))
    row("core pages touched (smaps Rss)", lambda r: "%.1f MiB" % (r["core_rss"] / MIB))
    row("peak RSS - touched core", lambda r: "%.1f MiB" % (r["beyond"] / MIB))
    row("  per object counted, B", lambda r: "%.1f" % (r["beyond"] / r["tool_objects"]), "<= 32")
    row("  per heap object, B", census_only(lambda r: "%.1f" % (r["beyond"] / r["heap_objects"])), "<= 32")
    row("peak RSS - core file size, per object counted, B",
        lambda r: "%.1f" % (r["beyond_simple"] / r["tool_objects"]))
    row("peak anonymous RSS (sampled 1 ms)", lambda r: "%.1f MiB" % (r["anon_peak"] / MIB))
    print_table(rows, lines)
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        dn = b["tool_objects"] - a["tool_objects"]
        if dn > 0:
            print("marginal RSS beyond the touched core, %s -> %s: %.1f B per object counted"
                  % (a["size"], b["size"], (b["beyond"] - a["beyond"]) / dn))

    rows = [r for r in rows if "r_wall_s" in r]
    if not rows:
        return
    lines = []
    row("report wall, s (median)", lambda r: "%.3f" % r["r_wall_s"])
    row("  min-max", lambda r: r["r_wall_range"])
    row("report / summary", lambda r: "%.1fx" % (r["r_wall_s"] / r["wall_s"]), "<= 3x")
    row("peak RSS (time -f %M, median)", lambda r: "%.1f MiB" % (r["r_peak"] / MIB))
    row("core pages touched (smaps Rss)", lambda r: "%.1f MiB" % (r["r_core_rss"] / MIB))
    row("peak RSS - touched core", lambda r: "%.1f MiB" % (r["r_beyond"] / MIB))
    row("  per object counted, B", lambda r: "%.1f" % (r["r_beyond"] / r["tool_objects"]), "<= 48")
    row("peak anonymous RSS (sampled 1 ms)", lambda r: "%.1f MiB" % (r["r_anon_peak"] / MIB))
    row("  per object counted, B", lambda r: "%.1f" % (r["r_anon_peak"] / r["tool_objects"]))
    print()
    print("report:")
    print_table(rows, lines)
    for r in rows:
        print()
        print("report phases, %s (PCA_TIMING=1; memory: bench/rss_shim.c, PCA_BENCH_PHASES=1):" % r["size"])
        print(r["r_phases"].rstrip())


main()
