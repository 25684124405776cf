"""Summarises compare.sh's results directory as Markdown tables: per server and client count, the
range (min–max over rounds) of each `bench serve` figure, the /health probes and the peak memory
and threads.
    python3 tools/serving/httplib/summarize.py RESULTS_DIR STEP_MS
"""
import glob
import json
import os
import re
import sys

SERVERS = {"mhd": "libmicrohttpd (thread per connection)", "evhttp": "libevent evhttp (event loop)"}


def span(values, scale=1.0, digits=1):
    """'low–high' (or one value when they agree at the printed precision)."""
    low, high = (f"{min(values) * scale:.{digits}f}", f"{max(values) * scale:.{digits}f}")
    return low if low == high else f"{low}–{high}"


def main():
    results, step_ms = sys.argv[1], float(sys.argv[2])
    runs = {}  # server -> list of (round, report rows, health lines, ps samples)
    for path in sorted(glob.glob(os.path.join(results, "*.json"))):
        server, round_ = os.path.basename(path)[:-5].rsplit("-", 1)
        tag = path[:-5]
        rows = json.load(open(path))["rows"]
        health = {n: open(f"{tag}.health-{n}").read().strip() for n in ("1", "64")}
        samples = [tuple(map(int, line.split())) for line in open(f"{tag}.ps") if line.strip()]
        runs.setdefault(server, []).append((round_, rows, health, samples))

    print("| server | N | requests | failed | tok/s | TTFT p50 / p99 ms | ITL p50 / p99 ms | ITL p99 − step ms |")
    print("|---|---|---|---|---|---|---|---|")
    for server in SERVERS:
        by_clients = {}
        for _, rows, _, _ in runs.get(server, []):
            for row in rows:
                by_clients.setdefault(row["clients"], []).append(row)
        for clients, rows in sorted(by_clients.items()):
            pick = lambda key: [row[key] for row in rows]
            print(f"| {server} | {clients} | {span(pick('requests'), digits=0)} | {sum(pick('failures'))} "
                  f"| {span(pick('tokens_per_second'), digits=0)} "
                  f"| {span(pick('time_to_first_token_p50'), 1000)} / {span(pick('time_to_first_token_p99'), 1000)} "
                  f"| {span(pick('inter_token_p50'), 1000)} / {span(pick('inter_token_p99'), 1000)} "
                  f"| {span([v * 1000 - step_ms for v in pick('inter_token_p99')], 1, 1)} |")

    print()
    print("| server | /health, 1 connection: p50 / p99 ms, req/s | /health, 64 connections: p50 / p99 ms, req/s | peak RSS MiB | peak threads |")
    print("|---|---|---|---|---|")
    pattern = re.compile(r"p50 ([\d.]+) ms p99 ([\d.]+) ms (\d+) req/s")
    for server in SERVERS:
        cells = []
        for n in ("1", "64"):
            figures = [tuple(map(float, pattern.search(health[n]).groups())) for _, _, health, _ in runs.get(server, [])]
            cells.append(f"{span([f[0] for f in figures], digits=2)} / {span([f[1] for f in figures], digits=2)}, "
                         f"{span([f[2] for f in figures], digits=0)}")
        rss = [max(s[0] for s in samples) / 1024 for _, _, _, samples in runs.get(server, []) if samples]
        threads = [max(s[1] for s in samples) for _, _, _, samples in runs.get(server, []) if samples]
        print(f"| {server} | {cells[0]} | {cells[1]} | {span(rss)} | {span(threads, digits=0)} |")


if __name__ == "__main__":
    main()
