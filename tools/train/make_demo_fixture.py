"""Step 7: write the runtime parity fixtures ``Tests/Fixtures/demo/<model>/expected.safetensors``.

For each demo model and each of N = 3 held-out prompts (the first N files of
``examples/``, sorted by name, tokenized with the model's tokenizer including
the leading ``<|bos|>`` and cut to L = 16 tokens) it stores

  tokens_<i>  int32   [L]
  logits_<i>  float32 [L, vocab]

computed by transformers' LlamaForCausalLM in float32 from the stored fp16
weights (upcast to float32) with ``attn_implementation="eager"``, and the
safetensors metadata ``{"count": "N", "length": "L", "model": ..., "prompt_<i>": text}``.

Run:  python tools/train/make_demo_fixture.py
"""
import argparse
import glob
import os

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["demo-target", "demo-draft"])
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--length", type=int, default=16)
    ap.add_argument("--models-dir", default=os.path.join(REPO, "models"))
    ap.add_argument("--out", default=os.path.join(REPO, "Tests", "Fixtures", "demo"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    prompt_files = sorted(glob.glob(os.path.join(REPO, "examples", "prompt-*.py")))[: args.count]
    assert len(prompt_files) == args.count, prompt_files
    for name in args.models:
        mdir = os.path.join(args.models_dir, name)
        tok = Tokenizer.from_file(os.path.join(mdir, "tokenizer.json"))
        model = LlamaForCausalLM.from_pretrained(mdir, dtype=torch.float32, attn_implementation="eager").eval()
        tensors, meta = {}, {"count": str(args.count), "length": str(args.length), "model": name,
                             "dtype_of_stored_weights": "float16", "computed_in": "float32, eager attention"}
        for i, pf in enumerate(prompt_files):
            ids = tok.encode(open(pf, encoding="utf-8").read()).ids[: args.length]
            assert len(ids) == args.length and ids[0] == tok.token_to_id("<|bos|>")
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([ids])).logits[0].float()
            tensors[f"tokens_{i}"] = torch.tensor(ids, dtype=torch.int32)
            tensors[f"logits_{i}"] = logits.contiguous()
            meta[f"prompt_{i}"] = tok.decode(ids, skip_special_tokens=False)
            meta[f"source_{i}"] = os.path.relpath(pf, REPO)
        od = os.path.join(args.out, name)
        os.makedirs(od, exist_ok=True)
        save_file(tensors, os.path.join(od, "expected.safetensors"), metadata=meta)
        print("wrote", os.path.join(od, "expected.safetensors"), {k: tuple(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main()
