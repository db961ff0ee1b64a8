#!/usr/bin/env python3
"""Every query of deploy/grafana/portcullis.json returns data from a real Prometheus.

Run by deploy/compose/test.sh against the compose Prometheus, which scrapes real gateways that have
just served a client: no panel may point at a metric that does not exist. Grafana's variables are
replaced as Grafana would for the job "portcullis" and all instances.
Usage: check_dashboard.py <dashboard.json> <prometheus base URL> <seconds to wait>
"""
import json
import sys
import time
import urllib.parse
import urllib.request

dashboard, base, wait = sys.argv[1], sys.argv[2].rstrip("/"), float(sys.argv[3])
queries = []
for panel in json.load(open(dashboard))["panels"]:
    for target in panel.get("targets", []):
        expr = (target["expr"].replace("$__rate_interval", "1m").replace("$job", "portcullis")
                .replace("$instance", ".*"))
        queries.append((panel["title"], expr))


def results(expr):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        answer = json.load(response)
    if answer.get("status") != "success":
        raise SystemExit(f"dashboard check: Prometheus refused {expr}: {answer}")
    return answer["data"]["result"]


deadline = time.time() + wait
empty = queries
while True:
    empty = [(title, expr) for title, expr in empty if not results(expr)]
    if not empty or time.time() > deadline:
        break
    time.sleep(2)
if empty:
    for title, expr in empty:
        print(f"dashboard check: no data for '{title}': {expr}", file=sys.stderr)
    sys.exit(1)
print(f"compose test: all {len(queries)} dashboard queries return data from Prometheus")
