"""Summarises compare.sh's results directory as Markdown tables: per server and client count, the
range (min–max over rounds) of each `bench serve` figure, of tokens/s over its bound and of the
server's CPU time per 1000 tokens; then the /health probes and the memory and threads at the
largest client count.
    python3 tools/serving/httplib/summarize.py RESULTS_DIR STEP_MS
"""
import glob
import os
import json
import re
import sys

SERVERS = ("mhd", "evhttp")
# /proc/PID/stat counts CPU time in clock ticks of this length (getconf CLK_TCK: 100 on Linux).
TICK_MS = 10.0


def span(values, scale=1.0, digits=1):
    """'low–high' over the rounds (one value when they agree at the printed precision)."""
    if not values:
        return "–"
    low, high = f"{min(values) * scale:.{digits}f}", f"{max(values) * scale:.{digits}f}"
    return low if low == high else f"{low}–{high}"


def read(path):
    with open(path) as file:
        return file.read()


def main():
    results, step_ms = sys.argv[1], float(sys.argv[2])
    rows = {}  # (server, clients) -> [dict of one round's figures]
    for path in sorted(glob.glob(os.path.join(results, "*-*-*.json"))):
        server, _, clients = os.path.basename(path)[:-5].split("-")
        tag = path[:-5]
        row = json.loads(read(path))["rows"][0]
        row["server_cpu_ms"] = int(read(f"{tag}.cpu")) * TICK_MS
        if os.path.exists(f"{tag}.client-cpu"):
            user, system = read(f"{tag}.client-cpu").split()[-2:]
            row["client_cpu_ms"] = (float(user) + float(system)) * 1000
        samples = [tuple(map(int, line.split())) for line in read(f"{tag}.ps").splitlines() if line.strip()]
        row["peak_rss_mib"] = max(s[0] for s in samples) / 1024 if samples else float("nan")
        row["peak_threads"] = max(s[1] for s in samples) if samples else 0
        rows.setdefault((server, int(clients)), []).append(row)

    # A stream's tokens come one per step, so N streams deliver at most N × 1000 / step_ms tokens/s.
    print("| server | N | requests | failed | tok/s | of bound | TTFT p50 / p99 ms | ITL p50 / p99 ms "
          "| ITL p99 − step ms | server CPU ms / 1000 tok | load generator CPU ms / 1000 tok |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for server in SERVERS:
        for clients in sorted(n for s, n in rows if s == server):
            group = rows[(server, clients)]
            pick = lambda key: [row[key] for row in group if key in row]
            per_thousand = lambda key: [row[key] / max(1, row["completion_tokens"]) * 1000 for row in group if key in row]
            print(f"| {server} | {clients} | {span(pick('requests'), digits=0)} | {sum(pick('failures'))} "
                  f"| {span(pick('tokens_per_second'), digits=0)} "
                  f"| {span([v / (clients * 1000 / step_ms) for v in pick('tokens_per_second')], digits=2)} "
                  f"| {span(pick('time_to_first_token_p50'), 1000)} / {span(pick('time_to_first_token_p99'), 1000)} "
                  f"| {span(pick('inter_token_p50'), 1000)} / {span(pick('inter_token_p99'), 1000)} "
                  f"| {span([v * 1000 - step_ms for v in pick('inter_token_p99')])} "
                  f"| {span(per_thousand('server_cpu_ms'), digits=0)} | {span(per_thousand('client_cpu_ms'), digits=0)} |")

    busy = [float(read(path)) for path in glob.glob(os.path.join(results, "*.busy"))]
    print()
    print(f"cores kept busy by the rest of the machine just before each server started: {span(busy, digits=2)}")
    print()
    largest = max(n for _, n in rows)
    print(f"| server | /health, 1 connection: p50 / p99 ms, req/s | /health, 64 connections: p50 / p99 ms, req/s "
          f"| peak RSS MiB at {largest} streams | peak threads at {largest} streams |")
    print("|---|---|---|---|---|")
    pattern = re.compile(r"p50 ([\d.]+) ms p99 ([\d.]+) ms (\d+) req/s")
    for server in SERVERS:
        cells = []
        for n in ("1", "64"):
            figures = [tuple(map(float, pattern.search(read(path)).groups()))
                       for path in glob.glob(os.path.join(results, f"{server}-*.health-{n}"))]
            cells.append(f"{span([f[0] for f in figures], digits=2)} / {span([f[1] for f in figures], digits=2)}, "
                         f"{span([f[2] for f in figures], digits=0)}")
        group = rows.get((server, largest), [])
        print(f"| {server} | {cells[0]} | {cells[1]} | {span([r['peak_rss_mib'] for r in group])} "
              f"| {span([r['peak_threads'] for r in group], digits=0)} |")


if __name__ == "__main__":
    main()
