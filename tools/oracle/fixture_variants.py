"""Shared by the oracle scripts that add a variant beside a runtime fixture's expected logits."""
import os
from typing import Callable, Optional

import torch
from safetensors.torch import load_file, save_file


def write_variant(directory: str, model, file_name: str, metadata: dict,
                  check: Optional[Callable[[int, torch.Tensor, torch.Tensor], None]] = None) -> str:
    """Runs ``model`` on the token sequences of ``directory/expected.safetensors`` and writes
    ``directory/file_name`` with ``tokens_<i>`` (int32 [L]) and ``logits_<i>`` (float32 [L, vocab]).

    ``check(i, logits, expected_logits)`` may assert how the variant relates to the fixture's own
    logits. ``metadata`` gains the sequence ``count``. Returns the path written.
    """
    expected = load_file(os.path.join(directory, "expected.safetensors"))
    count = len([k for k in expected if k.startswith("tokens_")])
    out = {}
    with torch.no_grad():
        for i in range(count):
            tokens = expected[f"tokens_{i}"].to(torch.long)
            logits = model(tokens[None, :]).logits[0].to(torch.float32)
            out[f"tokens_{i}"] = expected[f"tokens_{i}"]
            out[f"logits_{i}"] = logits.contiguous()
            if check is not None:
                check(i, logits, expected[f"logits_{i}"])
    path = os.path.join(directory, file_name)
    save_file(out, path, metadata={"count": str(count), **metadata})
    os.chmod(path, 0o644)
    return path
