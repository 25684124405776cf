#!/usr/bin/env python3
"""llama.cpp's logits for the real-model oracle's rows, for judging decograph's tolerance.

llama.cpp runs the Q4_1 GGUF the way decograph does: activations quantized to 8 bits per block
of 32 before each block product (Q8_1 / Q8_0 dot products). Its distance from transformers'
float32 logits (make_real_model_oracle.py) is therefore the honest size of that scheme's error,
and decograph's distance from llama.cpp shows what is left once the scheme is the same.

Reads Tests/Fixtures/real-model/smollm2-135m-q4_1.transformers.json, evaluates every prompt +
its transformers continuation in one batch (F32 KV cache, flash attention off, so the cache does
not add an f16 rounding transformers and decograph do not have), and writes, for each recorded
row, llama.cpp's logits at transformers' top-k ids and llama.cpp's own argmax, to
Tests/Fixtures/real-model/smollm2-135m-q4_1.llama-cpp.json. Prints the largest differences.

Uses tools/llama/llama_ctypes.py's loader: the ctypes module of the pinned llama-cpp-python
sdist over the libllama.so that build.sh builds:

    tools/llama/build.sh
    python3 tools/oracle/make_real_model_llama_logits.py
"""
import argparse
import json
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = pathlib.Path(os.environ.get("DECOGRAPH_CACHE", pathlib.Path.home() / ".cache/decograph"))
FIXTURES = ROOT / "Tests/Fixtures/real-model"
sys.path.insert(0, str(ROOT / "tools/llama"))
from llama_ctypes import SDIST_VERSION, bindings  # noqa: E402  (libllama.so through the sdist's ctypes module)
GGML_TYPE_F32 = 0
LLAMA_FLASH_ATTN_TYPE_DISABLED = 0
# Threads for llama.cpp's evaluation: the machine's two cores (the numbers do not depend on it
# beyond summation order).
THREADS = 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=str(CACHE / "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--oracle", default=str(FIXTURES / "smollm2-135m-q4_1.transformers.json"))
    parser.add_argument("--out", default=str(FIXTURES / "smollm2-135m-q4_1.llama-cpp.json"))
    args = parser.parse_args()
    oracle = json.loads(pathlib.Path(args.oracle).read_text())
    L = bindings()
    model = L.llama_model_load_from_file(args.gguf.encode(), L.llama_model_default_params())
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    out = {"generator": f"tools/oracle/make_real_model_llama_logits.py, llama.cpp from llama-cpp-python {SDIST_VERSION}, "
                        "F32 KV cache, flash attention off", "model": oracle["model"], "prompts": []}
    worst = 0.0
    for prompt in oracle["prompts"]:
        tokens = prompt["ids"] + prompt["continuation"]
        params = L.llama_context_default_params()
        params.n_ctx = params.n_batch = params.n_ubatch = len(tokens)
        params.n_threads = params.n_threads_batch = THREADS
        params.type_k = params.type_v = GGML_TYPE_F32
        params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED
        ctx = L.llama_init_from_model(model, params)
        batch = L.llama_batch_init(len(tokens), 0, 1)
        for i, t in enumerate(tokens):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = t, i, 1, 1
            batch.seq_id[i][0] = 0
        batch.n_tokens = len(tokens)
        if L.llama_decode(ctx, batch) != 0:
            sys.exit(f"llama_decode failed on {prompt['name']}")
        rows = []
        for row in prompt["rows"]:
            logits = L.llama_get_logits_ith(ctx, row["position"])
            values = [logits[i] for i in range(n_vocab)]
            argmax = max(range(n_vocab), key=values.__getitem__)
            at = [round(values[i], 5) for i in row["ids"]]
            worst = max(worst, max(abs(a - b) for a, b in zip(at, row["logits"])))
            rows.append({"position": row["position"], "logits": at, "argmax": argmax})
        L.llama_batch_free(batch)
        L.llama_free(ctx)
        out["prompts"].append({"name": prompt["name"], "rows": rows})
        agree = sum(r["argmax"] == o["ids"][0] for r, o in zip(rows, prompt["rows"]))
        print(f"{prompt['name']}: top-1 agrees with transformers at {agree}/{len(rows)} rows")
    L.llama_model_free(model)
    print(f"largest |llama.cpp - transformers| over the top-{oracle['top_k']} ids of every row: {worst:.4f}")
    path = pathlib.Path(args.out)
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
