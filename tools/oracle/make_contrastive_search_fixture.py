"""Contrastive search outputs of transformers 4.x on the demo target, for ContrastiveSearchTests.

transformers 5 moved contrastive search out of the library (to a Hub `custom_generate` repository,
which this machine cannot reach); 4.46.3 still implements it in `generate(penalty_alpha=…, top_k=…)`.
Run it in its own environment so the project's pinned transformers 5 stays as it is:

    python3 -m venv --system-site-packages /tmp/tf4
    /tmp/tf4/bin/pip install "transformers==4.46.3"
    /tmp/tf4/bin/python tools/oracle/make_contrastive_search_fixture.py

Writes Tests/Fixtures/operators/contrastive_search.json: for each prompt of examples/prompts.txt
(tokenized by the demo target's tokenizer) and each (top_k, penalty_alpha), the generated ids.
The model runs in float32 (the runtime's parity precision); a run ends at `new_tokens` or after
the end-of-sequence token, which is then the last id.
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "demo-target")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "operators", "contrastive_search.json")
SETTINGS = [(4, 0.6), (2, 0.3), (6, 0.9)]
NEW_TOKENS = 32


def main():
    if not transformers.__version__.startswith("4."):
        sys.exit(f"needs transformers 4.x (contrastive search in the library); found {transformers.__version__}")
    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    model = AutoModelForCausalLM.from_pretrained(MODEL, torch_dtype=torch.float32).eval()
    with open(os.path.join(ROOT, "examples", "prompts.txt")) as f:
        prompts = [line.rstrip("\n") for line in f if line.strip()]
    cases = []
    for top_k, alpha in SETTINGS:
        for prompt in prompts:
            ids = tokenizer(prompt, return_tensors="pt").input_ids
            with torch.no_grad():
                out = model.generate(ids, penalty_alpha=alpha, top_k=top_k, max_new_tokens=NEW_TOKENS,
                                     do_sample=False, pad_token_id=tokenizer.pad_token_id)
            generated = out[0, ids.shape[1]:].tolist()
            cases.append({"prompt": ids[0].tolist(), "top_k": top_k, "penalty_alpha": alpha, "generated": generated})
    with open(OUT, "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "new_tokens": NEW_TOKENS,
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
