"""Oracle for partial-depth forward passes (self-speculative drafting).

For each runtime fixture model named below, loads it with transformers, keeps only its first
`depth` decoder layers (the final norm and LM head unchanged), and writes
``Tests/Fixtures/runtime/<case>/expected-depth<depth>.safetensors`` with ``tokens_<i>`` (int32 [L])
and ``logits_<i>`` (float32 [L, vocab]) for the same token sequences as ``expected.safetensors``.
The Swift test runs ``Model.forward(..., depth:)`` on them.

Run (after make_runtime_fixtures.py):  python tools/oracle/make_partial_depth_fixture.py
Requires the versions pinned in tools/oracle/requirements.txt.
"""
import os

import torch
from transformers import AutoModelForCausalLM

from fixture_variants import write_variant

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "Tests", "Fixtures", "runtime")
CASES = {"llama-gqa-tied": 1, "qwen2-bias": 1, "mistral-sliding": 1}


def main() -> None:
    torch.set_num_threads(1)
    for case, depth in CASES.items():
        directory = os.path.join(ROOT, case)
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager")
        model.eval()
        model.model.layers = model.model.layers[:depth]
        model.config.num_hidden_layers = depth
        if getattr(model.config, "layer_types", None):
            model.config.layer_types = model.config.layer_types[:depth]

        def differs(i, logits, full, case=case, depth=depth):
            assert (logits - full).abs().max() > 1e-3, f"{case}: depth-{depth} logits equal the full model's"

        path = write_variant(directory, model, f"expected-depth{depth}.safetensors", {"depth": str(depth)}, differs)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
