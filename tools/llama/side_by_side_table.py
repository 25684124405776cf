#!/usr/bin/env python3
"""Prints side_by_side.sh's markdown table from the raw results in its OUT folder.

    python3 tools/llama/side_by_side_table.py OUT "label|file|type" ...

Speed rows: llama-bench's avg_ts (tg64 at 1 and 2 threads, pp128 at 2 threads) against
decograph bench runtime's decode tokens_per_s (1 and 2 threads) and prefill_tokens_per_s (128
tokens, 2 threads); with several rounds, the median of each. Ratio = decograph / llama.cpp
(above 1: decograph faster). End-to-end row: new tokens / whole-process wall seconds (model
load, prefill and decode), mean over the chat prompts.
"""
import glob
import json
import os
import re
import statistics
import sys

PROMPT, GEN, TOP_THREADS = 128, 64, 2


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def parsed(paths):
    """The JSON documents among `paths` (a run killed midway leaves an empty or partial file)."""
    for path in paths:
        try:
            yield json.load(open(path))
        except (OSError, ValueError):
            continue


def llama(paths):
    decode = {1: [], 2: []}
    prefill = []
    for entries in parsed(paths):
        for e in entries:
            if e["n_gen"] == GEN and e["n_prompt"] == 0 and e["n_threads"] in decode:
                decode[e["n_threads"]].append(e["avg_ts"])
            if e["n_prompt"] == PROMPT and e["n_gen"] == 0 and e["n_threads"] == TOP_THREADS:
                prefill.append(e["avg_ts"])
    return {t: median_or_none(v) for t, v in decode.items()}, median_or_none(prefill)


def decograph(paths):
    decode = {1: [], 2: []}
    prefill = []
    for report in parsed(paths):
        for d in report["decode"]:
            if d["threads"] in decode:
                decode[d["threads"]].append(d["tokens_per_s"])
        prefill.append(report["prefill_tokens_per_s"])
    return {t: median_or_none(v) for t, v in decode.items()}, median_or_none(prefill)


def cell(x):
    return "—" if x is None else f"{x:.1f}"


def ratio(ours, theirs):
    return "—" if ours is None or theirs is None else f"{ours / theirs:.2f}×"


def e2e(out):
    rows = {"llama": [], "decograph": []}
    prompt_tokens = []
    for ids in sorted(glob.glob(os.path.join(out, "e2e-*.ids"))):
        base = ids[:-4]
        prompt_tokens.append(len(open(ids).read().split()))
        for engine in rows:
            for wall in glob.glob(f"{base}.{engine}.*.wall_ns"):
                round_ = wall.split(".")[-2]
                log = f"{base}.{engine}.{round_}.log"
                text = open(log, errors="replace").read() if os.path.exists(log) else ""
                seconds = int(open(wall).read()) / 1e9
                if engine == "llama":
                    m = re.search(r"eval time =\s*[\d.]+ ms /\s*(\d+) runs", text)
                    # The first new token comes from the prompt's pass, the rest one run each.
                    new = int(m.group(1)) + 1 if m else None
                    timed = [json.loads(line) for line in text.splitlines() if line.startswith('{"prompt_tokens"')]
                    if timed:  # llama_ctypes.py generate: timed from model load, Python's start-up excluded
                        new, seconds = timed[-1]["new_tokens"], timed[-1]["seconds"]
                else:
                    steps = [json.loads(line) for line in open(f"{base}.{engine}.{round_}.out") if line.startswith("{")]
                    new = sum(len(s.get("tokens", [])) for s in steps) or None
                if new:
                    rows[engine].append(new / seconds)
    if not prompt_tokens:
        return None
    mean = lambda v: statistics.mean(v) if v else None
    return statistics.mean(prompt_tokens), mean(rows["llama"]), mean(rows["decograph"])


def main():
    out, entries = sys.argv[1], sys.argv[2:]
    print("| file | type | decode 1T llama.cpp | decograph | ratio | decode 2T llama.cpp | decograph | ratio "
          "| prefill-128 2T llama.cpp | decograph | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for entry in entries:
        label, _, type_ = entry.split("|")
        key = label.replace(" ", "_")
        l_dec, l_pre = llama(sorted(glob.glob(os.path.join(out, f"{key}.llama.*.json"))))
        d_dec, d_pre = decograph(sorted(glob.glob(os.path.join(out, f"{key}.decograph.*.json"))))
        if l_pre is None and d_pre is None:
            continue
        print(f"| {label.split()[0]} | {type_} | {cell(l_dec[1])} | {cell(d_dec[1])} | {ratio(d_dec[1], l_dec[1])} "
              f"| {cell(l_dec[2])} | {cell(d_dec[2])} | {ratio(d_dec[2], l_dec[2])} "
              f"| {cell(l_pre)} | {cell(d_pre)} | {ratio(d_pre, l_pre)} |")
    row = e2e(out)
    if row:
        prompt, l, d = row
        print()
        print("| end to end (SmolLM2 Q4_1, chat prompts) | prompt tokens | new tokens | llama.cpp wall tok/s "
              "| decograph wall tok/s | ratio |")
        print("|---|---|---|---|---|---|")
        driver = "llama-completion" if os.path.exists(os.path.join(out, "llama-driver.txt")) and \
            open(os.path.join(out, "llama-driver.txt")).read().strip() == "llama-bench" else "llama_ctypes.py generate"
        print(f"| {driver} vs decograph run (greedy, 2 threads) | {prompt:.0f} (mean) | 100 | {cell(l)} "
              f"| {cell(d)} | {ratio(d, l)} |")
    driver = os.path.join(out, "llama-driver.txt")
    if os.path.exists(driver):
        print()
        print(f"llama.cpp driven by: {open(driver).read().strip()}")
    load = os.path.join(out, "load.txt")
    if os.path.exists(load):
        print()
        for line in open(load):
            print(f"    {line.rstrip()}")


if __name__ == "__main__":
    main()
