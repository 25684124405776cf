"""DoLa outputs of transformers 4.x on the demo target, for DoLaTests.

transformers 4.46.3 implements DoLa in `generate(dola_layers=…)` (it is not in transformers 5, which
moved it to a Hub `custom_generate` repository this machine cannot reach). Run it in its own
environment, as tools/oracle/make_contrastive_search_fixture.py does:

    python3 -m venv --system-site-packages /tmp/tf4
    /tmp/tf4/bin/pip install "transformers==4.46.3"
    /tmp/tf4/bin/python tools/oracle/make_dola_fixture.py

Writes Tests/Fixtures/operators/dola.json: for each prompt of examples/prompts.txt and each
(dola_layers, repetition_penalty), the greedy ids. float32; a run ends at `new_tokens` or after the
end-of-sequence token.
"""
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "demo-target")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "operators", "dola.json")
SETTINGS = [("high", 1.2), ("low", 1.2), ([1, 3], 1.0)]
NEW_TOKENS = 32


def main():
    if not transformers.__version__.startswith("4."):
        sys.exit(f"needs transformers 4.x (DoLa in the library); found {transformers.__version__}")
    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    model = AutoModelForCausalLM.from_pretrained(MODEL, torch_dtype=torch.float32).eval()
    with open(os.path.join(ROOT, "examples", "prompts.txt")) as f:
        prompts = [line.rstrip("\n") for line in f if line.strip()]
    cases = []
    for layers, penalty in SETTINGS:
        for prompt in prompts:
            ids = tokenizer(prompt, return_tensors="pt").input_ids
            with torch.no_grad():
                out = model.generate(ids, dola_layers=layers, repetition_penalty=penalty, max_new_tokens=NEW_TOKENS,
                                     do_sample=False, pad_token_id=tokenizer.pad_token_id)
            cases.append({"prompt": ids[0].tolist(), "dola_layers": layers, "repetition_penalty": penalty,
                          "generated": out[0, ids.shape[1]:].tolist()})
    with open(OUT, "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "new_tokens": NEW_TOKENS,
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
