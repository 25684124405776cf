"""Dynamic Focus Decoding's per-step temperature on the demo target, for FocusOpTests.

Dynamic Focus Decoding (Luo et al. 2025, "Odysseus Navigates the Sirens' Song") sets each step's
temperature from the KL divergence between the final layer's next-token distribution and those of
earlier layers (the LM head over `hidden_states[j]`), both restricted to the final distribution's
plausible tokens: KA = mean over layers of Σ_plausible p_final · (log p_final − log p_j), and
T = base · 0.5^(KA / sigma). This script computes KA and T with transformers 5 (its hidden states
and LM head; no generation code is involved) at the end of each prompt of examples/prompts.txt and
writes Tests/Fixtures/operators/focus.json.

    python3 tools/oracle/make_focus_fixture.py
"""
import json
import os

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "demo-target")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "operators", "focus.json")
# (layers, relative_top, base temperature, sigma): the reference demo's defaults, and a variant.
SETTINGS = [(None, 0.1, 1.1, 4.0), ([2, 4], 0.3, 0.9, 0.5)]
MASK_VALUE = -1e9


def focus_weight(final, premature, relative_top):
    p = torch.softmax(final, dim=-1)
    mask = p > relative_top * p.max()
    final_log = torch.log_softmax(torch.where(mask, final, torch.full_like(final, MASK_VALUE)), dim=-1)
    total = 0.0
    for logits in premature:
        layer_log = torch.log_softmax(torch.where(mask, logits, torch.full_like(logits, MASK_VALUE)), dim=-1)
        pointwise = torch.exp(final_log) * (final_log - layer_log)
        total += float((pointwise * mask).sum())
    return total / len(premature)


def main():
    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    model = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32).eval()
    layers_total = model.config.num_hidden_layers
    tied = model.config.tie_word_embeddings
    start = 0 if not tied else (1 if layers_total > 1 else 0)
    with open(os.path.join(ROOT, "examples", "prompts.txt")) as f:
        prompts = [line.rstrip("\n") for line in f if line.strip()]
    cases = []
    for layers, relative_top, base, sigma in SETTINGS:
        candidates = [j for j in layers if j < layers_total] if layers is not None else list(range(start, layers_total))
        for prompt in prompts:
            ids = tokenizer(prompt, return_tensors="pt").input_ids
            with torch.no_grad():
                out = model(ids, output_hidden_states=True)
                final = out.logits[0, -1].double()
                premature = [model.lm_head(out.hidden_states[j][0, -1]).double() for j in candidates]
            ka = focus_weight(final, premature, relative_top)
            cases.append({"prompt": ids[0].tolist(), "layers": layers, "relative_top": relative_top,
                          "base_temperature": base, "sigma": sigma, "focus_weight": ka,
                          "temperature": base * 0.5 ** (ka / sigma)})
    with open(OUT, "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
