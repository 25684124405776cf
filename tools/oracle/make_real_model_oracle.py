#!/usr/bin/env python3
"""transformers-on-GGUF logits oracle for the real SmolLM2-135M-Instruct Q4_1 file.

transformers reads a GGUF by dequantizing every tensor to float (the `gguf` package's numpy
dequantizers) and runs its own Llama code in float32, so this oracle shares neither the block
kernels nor the 8-bit activation quantization with decograph (nor with llama.cpp): it is the
"exact" model the quantized weights stand for.

For each prompt (plain text, and chat prompts rendered by the GGUF's own chat template, which
adds its default system turn), with the tokenizer transformers builds from the GGUF:
  - "ids": the prompt's token ids;
  - "continuation": 32 greedy tokens (argmax, float32, no sampling);
  - "rows": for the prompt's last LAST_PROMPT_POSITIONS positions and every position whose
    logits chose a continuation token, the TOP_K largest logits ("ids", "logits") and the
    margin between the first and second (all read from one forward pass over prompt +
    continuation, as a verifier would run it).

Writes Tests/Fixtures/real-model/smollm2-135m-q4_1.transformers.json; RealModelTests reads it
when the GGUF is in the cache (scripts/fetch-model.sh puts it there).

    pip install torch transformers gguf==0.19.0 numpy
    python3 tools/oracle/make_real_model_oracle.py [--gguf PATH]   # default: the fetch-model.sh cache

Deterministic up to float32 summation order (CPU, one thread).
"""
import argparse
import hashlib
import importlib.metadata
import json
import os
import pathlib

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_GGUF = pathlib.Path(os.environ.get("DECOGRAPH_CACHE", pathlib.Path.home() / ".cache/decograph")) \
    / "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# How many logits per row: enough that a tolerance check sees the neighbourhood of the argmax and
# the runner-up tokens a sampler would weigh, while the fixture stays a few hundred KB.
TOP_K = 20
# Prompt positions checked besides the one that chooses the first new token: the logits of
# tokens the model was given, not generated (what a speculative verifier scores).
LAST_PROMPT_POSITIONS = 4
# Greedy tokens: long enough for the continuation to leave the prompt's immediate echo.
CONTINUATION = 32

TEXT_PROMPTS = [
    ("capital", "The capital of France is"),
    ("code", 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n'),
    ("story", "Once upon a time, in a small village by the sea,"),
    ("science", "Water boils at 100 degrees Celsius at sea level. At higher altitudes,"),
]
CHAT_PROMPTS = [
    ("chat-japan", "What is the capital of Japan?"),
    ("chat-haiku", "Write a haiku about autumn leaves."),
    ("chat-hash", "Explain in one sentence what a hash table is."),
    ("chat-colors", "List three primary colors."),
]


def sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def top(row: torch.Tensor) -> dict:
    values, ids = torch.topk(row, TOP_K)
    return {"ids": [int(i) for i in ids], "logits": [round(float(v), 5) for v in values],
            "margin": round(float(values[0] - values[1]), 5)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=str(DEFAULT_GGUF))
    parser.add_argument("--out", default=str(ROOT / "Tests/Fixtures/real-model/smollm2-135m-q4_1.transformers.json"))
    args = parser.parse_args()
    gguf_path = pathlib.Path(args.gguf)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32)
    model.eval()

    prompts = [(name, "text", text, text) for name, text in TEXT_PROMPTS]
    for name, message in CHAT_PROMPTS:
        rendered = tokenizer.apply_chat_template([{"role": "user", "content": message}], tokenize=False,
                                                 add_generation_prompt=True)
        prompts.append((name, "chat", message, rendered))

    out = {
        "generator": "tools/oracle/make_real_model_oracle.py, transformers "
                     f"{importlib.metadata.version('transformers')}, torch {torch.__version__}, "
                     f"gguf {importlib.metadata.version('gguf')}, float32",
        "model": {"file": gguf_path.name, "sha256": sha256(gguf_path), "bytes": gguf_path.stat().st_size},
        "top_k": TOP_K, "last_prompt_positions": LAST_PROMPT_POSITIONS, "continuation_length": CONTINUATION,
        "prompts": [],
    }
    with torch.no_grad():
        for name, kind, source, rendered in prompts:
            ids = tokenizer(rendered, add_special_tokens=False)["input_ids"]
            sequence = list(ids)
            for _ in range(CONTINUATION):
                logits = model(torch.tensor([sequence])).logits[0, -1]
                sequence.append(int(torch.argmax(logits)))
            # Rows from one pass over prompt + continuation (the generated tokens are the argmax of
            # rows n-1 … n+30 of this pass too, up to summation order; checked below).
            logits = model(torch.tensor([sequence])).logits[0]
            n = len(ids)
            first = n - LAST_PROMPT_POSITIONS
            rows = [dict(position=p, **top(logits[p])) for p in range(first, n - 1 + CONTINUATION)]
            for r in rows:
                if r["position"] >= n - 1 and r["ids"][0] != sequence[r["position"] + 1] and r["margin"] > 1e-4:
                    raise SystemExit(f"{name}: one-pass argmax differs from greedy at {r['position']}")
            out["prompts"].append({"name": name, "kind": kind, "source": source, "text": rendered,
                                   "ids": ids, "continuation": sequence[n:],
                                   "continuation_text": tokenizer.decode(sequence[n:]), "rows": rows})
            print(f"{name}: {n} prompt tokens → {tokenizer.decode(sequence[n:])!r}")
    path = pathlib.Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
    tmp.replace(path)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
