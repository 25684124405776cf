"""Outputs of methods transformers 4.x implements and transformers 5 moved out of the library.

transformers 5 moved contrastive search and DoLa to Hub `custom_generate` repositories, which this
machine cannot reach; 4.46.3 still implements both in `generate`. Run this in its own environment
so the project's pinned transformers 5 stays as it is:

    python3 -m venv --system-site-packages /tmp/tf4
    /tmp/tf4/bin/pip install "transformers==4.46.3"
    /tmp/tf4/bin/python tools/oracle/make_transformers4_fixtures.py

Writes, on the demo target in float32, for each prompt of examples/prompts.txt:
- Tests/Fixtures/operators/contrastive_search.json: `generate(penalty_alpha=, top_k=)` for three
  (top_k, penalty_alpha) settings (ContrastiveSearchTests);
- Tests/Fixtures/operators/dola.json: `generate(dola_layers=, repetition_penalty=)` for three
  settings (DoLaTests).
A run ends at `new_tokens` or after the end-of-sequence token, which is then the last id.
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "demo-target")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "operators")
NEW_TOKENS = 32
METHODS = {
    "contrastive_search.json": [
        ({"top_k": k, "penalty_alpha": a}, {"top_k": k, "penalty_alpha": a}) for k, a in [(4, 0.6), (2, 0.3), (6, 0.9)]
    ],
    "dola.json": [
        ({"dola_layers": layers, "repetition_penalty": penalty}, {"dola_layers": layers, "repetition_penalty": penalty})
        for layers, penalty in [("high", 1.2), ("low", 1.2), ([1, 3], 1.0)]
    ],
}


def main():
    if not transformers.__version__.startswith("4."):
        sys.exit(f"needs transformers 4.x (contrastive search and DoLa in the library); found {transformers.__version__}")
    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    model = AutoModelForCausalLM.from_pretrained(MODEL, torch_dtype=torch.float32).eval()
    with open(os.path.join(ROOT, "examples", "prompts.txt")) as f:
        prompts = [line.rstrip("\n") for line in f if line.strip()]
    for name, settings in METHODS.items():
        cases = []
        for arguments, recorded in settings:
            for prompt in prompts:
                ids = tokenizer(prompt, return_tensors="pt").input_ids
                with torch.no_grad():
                    out = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False,
                                         pad_token_id=tokenizer.pad_token_id, **arguments)
                cases.append({"prompt": ids[0].tolist(), **recorded, "generated": out[0, ids.shape[1]:].tolist()})
        with open(os.path.join(OUT, name), "w") as f:
            json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "new_tokens": NEW_TOKENS,
                       "cases": cases}, f, indent=1)
            f.write("\n")
        print(f"wrote {len(cases)} cases to {name}")


if __name__ == "__main__":
    main()
