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
        r["heap_objects"] = census["objects"]
        r["census_tracked"] = census["gc_tracked"]
        r["census_s"] = census["census_seconds"]
        r["python"] = census["python"]
        r["tool_objects"] = summary["totals"]["objects"]
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
    return rows


def main():
    rows = load(sys.argv[1])
    lines = []

    def row(label, fmt, target=""):
        lines.append([label] + [fmt(r) for r in rows] + [target])

    row("core file", lambda r: "%.0f MiB" % (r["core_bytes"] / MIB))
    row("heap objects (in-process census)", lambda r: "{:,}".format(r["heap_objects"]))
    row("  of which collector-tracked", lambda r: "{:,}".format(r["census_tracked"]))
    row("objects the tool counted", lambda r: "{:,}".format(r["tool_objects"]))
    row("in-process census, s (one run)", lambda r: "%.2f" % r["census_s"])
    row("summary wall, s (median)", lambda r: "%.3f" % r["wall_s"])
    row("  min-max", lambda r: r["wall_range"])
    row("floor: mmap pass over all bytes, s", lambda r: "%.3f" % r["floor_s"])
    row("census / summary", lambda r: "%.1fx" % (r["census_s"] / r["wall_s"]), ">= 20x")
    row("summary / floor", lambda r: "%.1fx" % (r["wall_s"] / r["floor_s"]), "<= 15x")
    row("objects/s, counted by the tool", lambda r: "{:,.0f}".format(r["tool_objects"] / r["wall_s"]))
    row("objects/s, heap objects", lambda r: "{:,.0f}".format(r["heap_objects"] / r["wall_s"]))
    row("peak RSS (time -f %M, median)", lambda r: "%.1f MiB" % (r["peak"] / MIB))
    row("core pages touched (smaps Rss)", lambda r: "%.1f MiB" % (r["core_rss"] / MIB))
    row("peak RSS - touched core", lambda r: "%.1f MiB" % (r["beyond"] / MIB))
    row("  per object counted, B", lambda r: "%.1f" % (r["beyond"] / r["tool_objects"]), "<= 32")
    row("  per heap object, B", lambda r: "%.1f" % (r["beyond"] / r["heap_objects"]), "<= 32")
    row("peak RSS - core file size, per heap object, B",
        lambda r: "%.1f" % (r["beyond_simple"] / r["heap_objects"]))
    row("peak anonymous RSS (sampled 1 ms)", lambda r: "%.1f MiB" % (r["anon_peak"] / MIB))

    head = ["", ] + [r["size"] for r in rows] + ["target"]
    widths = [max(len(x[i]) for x in lines + [head]) for i in range(len(head))]
    fmt = "| " + " | ".join(("%%-%ds" if i == 0 else "%%%ds") % w
                            for i, w in enumerate(widths)) + " |"
    print(fmt % tuple(head))
    print("|" + "|".join(("-" * (w + 1) + ":") if i else "-" * (w + 2)
                         for i, w in enumerate(widths)) + "|")
    for l in lines:
        print(fmt % tuple(l))
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        for key, label in (("tool_objects", "object counted"), ("heap_objects", "heap object")):
            dn = b[key] - a[key]
            if dn > 0:
                print("marginal RSS beyond the touched core, %s -> %s: %.1f B per %s"
                      % (a["size"], b["size"], (b["beyond"] - a["beyond"]) / dn, label))


main()
