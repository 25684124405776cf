"""Oracle for the bf16 activation mode (`activations: bf16`).

Loads the ``llama-bf16`` runtime fixture with transformers in f32 (the bf16 weights upcast
exactly), rounds the input of every ``nn.Linear`` (q/k/v/o, gate/up/down and the LM head) to
bfloat16 with a forward pre-hook, and writes
``Tests/Fixtures/runtime/llama-bf16/expected-bf16-activations.safetensors`` with ``tokens_<i>``
(int32 [L]) and ``logits_<i>`` (float32 [L, vocab]) for the token sequences of
``expected.safetensors``. That is the mode's definition: only matrix inputs are rounded, norms,
attention and the residual stream stay f32. The Swift test runs the model with
``activations: .bf16`` against it.

Run (after make_runtime_fixtures.py):  python tools/oracle/make_bf16_activation_fixture.py
Requires the versions pinned in tools/oracle/requirements.txt.
"""
import os

import torch
from transformers import AutoModelForCausalLM

from fixture_variants import write_variant

HERE = os.path.dirname(os.path.abspath(__file__))
CASE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "Tests", "Fixtures", "runtime", "llama-bf16")


def round_input(_module, args):
    (x,) = args
    return (x.to(torch.bfloat16).to(torch.float32),)


def main() -> None:
    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(CASE, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    hooked = 0
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.register_forward_pre_hook(round_input)
            hooked += 1
    assert hooked == 7 * model.config.num_hidden_layers + 1, f"expected 7 projections per layer and the LM head, hooked {hooked}"

    def moved(i, logits, exact):
        distance = (logits - exact).abs().max().item()
        assert distance > 1e-3, f"sequence {i}: rounding the activations did not change the logits ({distance})"
        print(f"sequence {i}: max |Δ logits| from the f32 oracle {distance:.4g}")

    path = write_variant(CASE, model, "expected-bf16-activations.safetensors", {"activations": "bf16"}, moved)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
