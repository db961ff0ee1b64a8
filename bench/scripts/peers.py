#!/usr/bin/env python3
"""Portcullis, node-ws and the floor side by side from a directory written by peers.sh, as Markdown:
median [min-max] of the runs per server, and the ratio of Portcullis's median to each other's."""
import json
import pathlib
import platform
import re
import statistics
import sys

from summarize import generator_share, get  # the same readings as targets.sh's table (this folder is on sys.path)

PEERS = ["portcullis", "node-ws", "floor"]

# scenario -> [(label, path in the JSON, format)]
ROWS = {
    "fanout": [
        ("server user CPU per million deliveries (s)", "results.serverUserCpuSecondsPerMillionDeliveries", "{:.2f}"),
        ("server system CPU per million deliveries (s)", "results.serverSystemCpuSecondsPerMillionDeliveries", "{:.2f}"),
        ("server CPU per million deliveries (s)", "results.serverCpuSecondsPerMillionDeliveries", "{:.2f}"),
        ("publish-to-receive p50 (ms)", "latencies.delivery.p50Ms", "{:.1f}"),
        ("publish-to-receive p99 (ms)", "latencies.delivery.p99Ms", "{:.1f}"),
        ("deliveries/s", "results.deliveriesPerSecond", "{:,.0f}"),
        ("missing", "results.missing", "{:.0f}"),
    ],
    "handshake-cold": [
        ("server user CPU per 1,000 handshakes (ms)", "results.serverUserCpuMsPer1000Handshakes", "{:.0f}"),
        ("server system CPU per 1,000 handshakes (ms)", "results.serverSystemCpuMsPer1000Handshakes", "{:.0f}"),
        ("server CPU per 1,000 handshakes (ms)", "results.serverCpuMsPer1000Handshakes", "{:.0f}"),
        ("handshake p50 (ms)", "latencies.handshake.p50Ms", "{:.1f}"),
        ("handshake p99 (ms)", "latencies.handshake.p99Ms", "{:.1f}"),
        ("handshakes/s", "results.handshakesPerSecond", "{:,.0f}"),
        ("launch to ready (ms)", "ready.readyMs", "{:.0f}"),
    ],
}


def cell(values, how):
    if not values:
        return "n/a"
    med = statistics.median(values)
    if len(values) == 1:
        return how.format(med)
    return "{} [{}-{}]".format(how.format(med), how.format(min(values)), how.format(max(values)))


def ratio(a, b):
    if not a or not b:
        return "n/a"
    m = statistics.median(b)
    return "n/a" if m == 0 else "{:.2f}x".format(statistics.median(a) / m)


def cpu_model():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    docs = {}  # (scenario, peer) -> [doc]
    failed = []
    for f in sorted(out.glob("*.json")):
        m = re.fullmatch(r"(fanout|handshake-cold)-(portcullis|node-ws|floor)-(\d+)\.json", f.name)
        if not m:
            continue
        doc = json.loads(f.read_text())
        ready = f.with_name(f.name[:-5] + ".ready.json")
        if ready.exists():
            doc["ready"] = json.loads(ready.read_text())
        if not doc.get("ok"):
            failed.append((f.name, doc.get("summary", "")))
        docs.setdefault((m.group(1), m.group(2)), []).append(doc)
    for scenario, rows in ROWS.items():
        present = [p for p in PEERS if (scenario, p) in docs]
        if not present:
            continue
        runs = {p: len(docs[(scenario, p)]) for p in present}
        any_doc = docs[(scenario, present[0])][0]
        print("### {} ({}; runs: {})".format(scenario, ", ".join(
            "{}={}".format(k, v) for k, v in (get(any_doc, "options") or {}).items()
            if k in ("connections", "deliveriesPerSecondAsked", "durationSeconds", "warmupSeconds", "holdSeconds", "payloadBytes") and v),
            ", ".join("{} {}".format(p, runs[p]) for p in present)))
        print()
        all_docs = [d for p in present for d in docs[(scenario, p)]]
        loads = [float(get(d, "loadAverage.atStart").split()[0]) for d in all_docs if get(d, "loadAverage.atStart") not in (None, "n/a")]
        print("{} to {}, {} cores ({}); 1-minute load average at the start of each run: {}.".format(
            min(d.get("finishedAt", "?") for d in all_docs)[:16], max(d.get("finishedAt", "?") for d in all_docs)[:16],
            get(any_doc, "generator.cores"), cpu_model(), cell(loads, "{:.1f}")))
        print()
        print("Generator: `portcullis-bench {}`".format(" ".join(get(any_doc, "command") or [])))
        print()
        others = [p for p in present if p != "portcullis"]
        header = "| measure | " + " | ".join(present) + " |"
        if "portcullis" in present:
            header += "".join(" Portcullis / {} |".format(p) for p in others)
        print(header)
        print("|---" * (header.count("|") - 1) + "|")
        for label, path, how in rows + [("generator CPU (share of a core)", None, "{:.2f}")]:
            values = {}
            for p in present:
                vs = [generator_share(d) if path is None else get(d, path) for d in docs[(scenario, p)]]
                values[p] = [v for v in vs if isinstance(v, (int, float))]
            line = "| {} | ".format(label) + " | ".join(cell(values[p], how) for p in present) + " |"
            if "portcullis" in present:
                line += "".join(" {} |".format(ratio(values["portcullis"], values[p])) for p in others)
            print(line)
        print()
    for name, summary in failed:
        print("FAILED run {}: {}".format(name, summary.replace("|", "/")))


if __name__ == "__main__":
    main()
