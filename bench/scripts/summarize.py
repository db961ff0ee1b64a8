#!/usr/bin/env python3
"""Median [min-max] of the load-test results in a directory written by targets.sh, as Markdown."""
import json
import pathlib
import statistics
import sys

# target prefix -> (title, [(label, path in the JSON, format)])
TABLE = {
    "memory": ("1. 19,000 idle connections held 5 min", [
        ("RSS per connection (KB)", "results.serverRssKbPerConnection", "{:.2f}"),
        ("lost during hold", "results.lostDuringHold", "{:.0f}"),
        ("pings answered during hold", "results.pingsAnsweredDuringHold", "{:.0f}"),
        ("server RSS after hold (MB)", "results.serverRssKbAfterHold", "kb2mb"),
    ]),
    "handshake": ("2. 5,000 HS256 handshakes, warm gateway", [
        ("server CPU per 1,000 handshakes (ms)", "results.serverCpuMsPer1000Handshakes", "{:.0f}"),
        ("handshakes/s", "results.handshakesPerSecond", "{:,.0f}"),
        ("handshake p99 (ms)", "latencies.handshake.p99Ms", "{:.1f}"),
    ]),
    "fanout": ("3a. 10,000 subscribers, 100,000 deliveries/s", [
        ("deliveries/s", "results.deliveriesPerSecond", "{:,.0f}"),
        ("missing", "results.missing", "{:.0f}"),
        ("latency p50 (ms)", "latencies.delivery.p50Ms", "{:.1f}"),
        ("latency p99 (ms)", "latencies.delivery.p99Ms", "{:.1f}"),
        ("latency p99.9 (ms)", "latencies.delivery.p999Ms", "{:.1f}"),
        ("server CPU per million deliveries (s)", "results.serverCpuSecondsPerMillionDeliveries", "{:.2f}"),
    ]),
    "fanout1k": ("3c. 1,000 subscribers, 100,000 deliveries/s", [
        ("deliveries/s", "results.deliveriesPerSecond", "{:,.0f}"),
        ("missing", "results.missing", "{:.0f}"),
        ("latency p50 (ms)", "latencies.delivery.p50Ms", "{:.1f}"),
        ("latency p99 (ms)", "latencies.delivery.p99Ms", "{:.1f}"),
        ("server CPU per million deliveries (s)", "results.serverCpuSecondsPerMillionDeliveries", "{:.2f}"),
    ]),
    "saturate": ("3b. 1,000 subscribers, saturated", [
        ("deliveries/s", "results.deliveriesPerSecond", "{:,.0f}"),
        ("missing", "results.missing", "{:.0f}"),
        ("latency p99 (ms)", "latencies.delivery.p99Ms", "{:.1f}"),
        ("server CPU per million deliveries (s)", "results.serverCpuSecondsPerMillionDeliveries", "{:.2f}"),
    ]),
    "inbound": ("5. 200 clients publishing into rooms", [
        ("accepted/s", "results.acceptedPerSecond", "{:,.0f}"),
        ("server CPU per million messages (s)", "results.serverCpuSecondsPerMillionAccepted", "{:.2f}"),
        ("ack p99 (ms)", "latencies.ack.p99Ms", "{:.1f}"),
    ]),
    "cluster": ("4. 100,000 connections on 6 gateways + Redis, a broadcast every 2 s", [
        ("subscribers", "results.subscribers", "{:,.0f}"),
        ("missing", "results.missing", "{:.0f}"),
        ("latency p50 (ms)", "latencies.delivery.p50Ms", "{:.0f}"),
        ("latency p99 (ms)", "latencies.delivery.p99Ms", "{:.0f}"),
        ("server CPU per million deliveries (s)", "results.serverCpuSecondsPerMillionDeliveries", "{:.2f}"),
    ]),
}


def get(doc, path):
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def fmt(value, how):
    if how == "kb2mb":
        return "{:,.0f}".format(value / 1024)
    return how.format(value)


def generator_share(doc):
    """The generator's CPU as a share of one core over the whole run."""
    cpu = get(doc, "generator.cpuMs")
    seconds = sum(p.get("seconds", 0) for p in doc.get("phases", []))
    return None if not cpu or not seconds else cpu / 1000 / seconds


def heap_row(out, runs):
    """Live heap per held connection, from the class histograms targets.sh takes (Total line)."""
    values = []
    for run in range(1, runs + 1):
        try:
            before = int((out / f"memory-{run}.heap-before.txt").read_text().split()[2])
            held = int((out / f"memory-{run}.heap-held.txt").read_text().split()[2])
        except (OSError, IndexError, ValueError):
            continue
        values.append((held - before) / 19000)
    if values:
        print("| 1. 19,000 idle connections held 5 min | live heap per connection (bytes, class histogram) | {:.0f} [{:.0f}-{:.0f}] | {} |".format(
            statistics.median(values), min(values), max(values), len(values)))


def cell(values, how="{:.0f}"):
    if len(values) == 1:
        return fmt(values[0], how)
    return "{} [{}-{}]".format(fmt(statistics.median(values), how), fmt(min(values), how), fmt(max(values), how))


def coldstart(out):
    """Rows of bench/scripts/coldstart.sh: one per variant (files <variant>-<run>.ready and .json)."""
    variants = []
    for f in sorted(out.glob("*-*.ready")):
        variant = f.name.rsplit("-", 1)[0]
        if variant not in variants:
            variants.append(variant)
    for variant in variants:
        ready, total, user, system, per_second, targets = [], [], [], [], [], set()
        for f in sorted(out.glob(variant + "-*.ready")):
            ready.append(int(f.read_text()))
            result = f.with_suffix(".json")
            if not result.exists():
                continue
            doc = json.loads(result.read_text())
            opened = get(doc, "results.opened")
            connect = next((p for p in doc.get("phases", []) if p.get("name") == "connect"), None)
            if not opened or connect is None or "serverCpuMs" not in connect:
                continue
            total.append(connect["serverCpuMs"] * 1000 / opened)
            user.append(connect["serverUserCpuMs"] * 1000 / opened)
            system.append((connect["serverCpuMs"] - connect["serverUserCpuMs"]) * 1000 / opened)
            per_second.append(get(doc, "results.handshakesPerSecond"))
            targets.add(get(doc, "results.target"))
        title = "cold start: " + variant
        print("| {} | process start to ready (ms) | {} | {} |".format(title, cell(ready), len(ready)))
        if total:
            first = "/".join("{:,}".format(t) for t in sorted(targets))
            which = "the {} after 3 x {} served".format(first, first) if variant == "steady" else "first " + first
            print("| {} | server CPU per 1,000 handshakes, {} (ms) | {} | {} |".format(title, which, cell(total), len(total)))
            print("| {} | of which user (ms) | {} | {} |".format(title, cell(user), len(user)))
            print("| {} | of which system (ms) | {} | {} |".format(title, cell(system), len(system)))
            print("| {} | handshakes/s | {} | {} |".format(title, cell(per_second, "{:,.0f}"), len(per_second)))


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    print("| target | measure | median [min-max] of runs | runs |")
    print("|---|---|---|---|")
    for prefix, (title, rows) in TABLE.items():
        docs = []
        for f in sorted(out.glob(prefix + "-*.json")):
            if "warmup" in f.name:
                continue
            docs.append(json.loads(f.read_text()))
        if not docs:
            continue
        measures = list(rows) + [("generator CPU (share of a core)", None, "{:.2f}")]
        for label, path, how in measures:
            values = [generator_share(d) if path is None else get(d, path) for d in docs]
            values = [v for v in values if isinstance(v, (int, float))]
            if not values:
                continue
            cell = fmt(statistics.median(values), how) if len(values) == 1 else "{} [{}-{}]".format(
                fmt(statistics.median(values), how), fmt(min(values), how), fmt(max(values), how))
            print("| {} | {} | {} | {} |".format(title, label, cell, len(values)))
        if prefix == "memory":
            heap_row(out, len(docs))
        failed = [d.get("summary", "") for d in docs if not d.get("ok")]
        for summary in failed:
            print("| {} | FAILED run | {} | |".format(title, summary.replace("|", "/")))
    coldstart(out)


if __name__ == "__main__":
    main()
