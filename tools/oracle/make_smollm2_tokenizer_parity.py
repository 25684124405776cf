#!/usr/bin/env python3
"""Records llama.cpp's token ids for SmolLM2-135M-Instruct's GGUF tokenizer on 5,000+ strings.

The GGUF (scripts/fetch-model.sh prints its path) carries a 49,152-token byte-level BPE vocabulary
with `tokenizer.ggml.pre = smollm`, whose pre-tokenizer splits every digit on its own; the
transformers GGUF conversion drops that split, so llama.cpp's `llama-tokenize` is the oracle.
Strings: the shared tokenizer fixture corpora (code, prose in many scripts, emoji, whitespace
runs), plus generated digit runs, whitespace runs, code and chat-template text with the model's
special tokens (`<|im_start|>`, `<|im_end|>`, `<|endoftext|>`). Ids come from llama.cpp's
`llama_tokenize` with parse_special, through the driver make_gguf_tokenizer_fixtures.py compiles. Output:
Tests/Fixtures/tokenizers/gguf/smollm2-expected.jsonl.gz, one {"text", "ids"} per line (ids
without BOS, as `--no-bos`; SmolLM2 adds none anyway).

    python3 tools/oracle/make_smollm2_tokenizer_parity.py [--gguf PATH] [--llama-bin DIR]
"""
import argparse
import gzip
import json
import os
import random
import subprocess
from pathlib import Path

from make_gguf_tokenizer_fixtures import FIXTURES, OUT, driver, llama_tokenize_batch

SPECIALS = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<repo_name>", "<file_sep>", "<fim_prefix>"]


def generated(rng, count):
    out = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            out.append("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 40))))
        elif kind == 1:
            out.append(f"{rng.randint(0, 10**9)}.{rng.randint(0, 999)} + {rng.randint(0, 99999)} = x{rng.randint(0, 9)}")
        elif kind == 2:
            ws = "".join(rng.choice([" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000"]) for _ in range(rng.randint(1, 12)))
            out.append(f"a{ws}b{ws}")
        elif kind == 3:
            out.append(f"def f{i}(x):\n    return [y ** {rng.randint(2, 9)} for y in range(x)]  # it's {i}\n")
        else:
            role = rng.choice(["system", "user", "assistant"])
            special = rng.choice(SPECIALS)
            out.append(f"{special}{role}\nHello, I'm message {i}! 12345 {rng.choice(SPECIALS)}\n")
    return out


def main():
    cache = Path(os.environ.get("DECOGRAPH_CACHE", Path.home() / ".cache" / "decograph"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", default=str(cache / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--llama-bin", default=str(cache / "llama.cpp" / "build" / "bin"))
    ap.add_argument("--seed", type=int, default=135)
    a = ap.parse_args()

    def read(name):
        rows = [json.loads(l) for l in gzip.open(FIXTURES / name, "rt", encoding="utf-8")]
        ok = []
        for t in rows:
            try:
                t.encode("utf-8")
                ok.append(t)
            except UnicodeEncodeError:
                pass
        return ok

    rng = random.Random(a.seed)
    base = read("strings.jsonl.gz")
    multi = read("strings-multilingual.jsonl.gz")
    texts = base[:3000] + rng.sample(multi, 2000) + generated(rng, 500)
    results = llama_tokenize_batch(driver(a.llama_bin), a.gguf, [(t, False) for t in texts])
    with gzip.open(OUT / "smollm2-expected.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        for text, ids in zip(texts, results):
            f.write(json.dumps({"text": text, "ids": ids}, ensure_ascii=False) + "\n")
    print(f"{len(texts)} strings")


if __name__ == "__main__":
    main()
