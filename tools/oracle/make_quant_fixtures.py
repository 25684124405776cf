#!/usr/bin/env python3
"""Oracle for decograph's block-quantized weights (Sources/CKernels/quant.c).

Writes Tests/Fixtures/quant/gguf_blocks.json with, for each of Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
Q4_K, Q5_K, Q6_K:
  - "blocks": two blocks of seeded random bytes (the f16 scale fields set to small finite values,
    every other bit random) and "values": what the `gguf` package's numpy dequantizer
    (gguf.quants.dequantize, the reading llama.cpp's Python tools use) says they stand for;
  - for the types gguf can quantize (Q8_0 … Q5_1): "inputs", seeded f32 values, and "quantized":
    gguf.quants.quantize's bytes for them (the port of ggml's quantize_row_*_ref).
KernelsTests/QuantizedMatMulTests compares its dequantizer and quantizer against these.

Run: pip install gguf==0.19.0 numpy  &&  python3 tools/oracle/make_quant_fixtures.py
Deterministic (fixed seeds); the file is a few tens of KB.
"""
import argparse
import importlib.metadata
import json
import pathlib

import numpy as np
import gguf
from gguf import quants

T = gguf.GGMLQuantizationType
# (type, byte offsets of its f16 scale fields inside a block)
TYPES = [(T.Q8_0, [0]), (T.Q4_0, [0]), (T.Q4_1, [0, 2]), (T.Q5_0, [0]), (T.Q5_1, [0, 2]),
         (T.Q4_K, [0, 2]), (T.Q5_K, [0, 2]), (T.Q6_K, [208])]
QUANTIZABLE = {T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1}
BLOCKS = 2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[2] / "Tests/Fixtures/quant/gguf_blocks.json"))
    args = parser.parse_args()
    rng = np.random.default_rng(20261206)
    out = {"generator": f"tools/oracle/make_quant_fixtures.py, gguf {importlib.metadata.version('gguf')}",
           "types": {}}
    for t, scale_fields in TYPES:
        elements, nbytes = gguf.GGML_QUANT_SIZES[t]
        raw = rng.integers(0, 256, size=(BLOCKS, nbytes), dtype=np.uint8)
        for b in range(BLOCKS):
            for i, at in enumerate(scale_fields):
                scale = np.float16(rng.uniform(0.005, 0.05) * (1 if i == 0 else -1))
                raw[b, at:at + 2] = np.frombuffer(scale.tobytes(), dtype=np.uint8)
        values = quants.dequantize(raw.reshape(-1), t).astype(np.float32).reshape(-1)
        assert values.shape == (BLOCKS * elements,) and np.all(np.isfinite(values)), t.name
        entry = {"ggml_type": int(t), "block_elements": elements, "block_bytes": nbytes,
                 "blocks": raw.reshape(-1).tobytes().hex(), "values": [float(v) for v in values]}
        if t in QUANTIZABLE:
            x = rng.uniform(-1.5, 1.5, size=(BLOCKS * elements,)).astype(np.float32)
            q = quants.quantize(x.reshape(1, -1), t).reshape(-1)
            entry["inputs"] = [float(v) for v in x]
            entry["quantized"] = q.tobytes().hex()
        out["types"][t.name.lower()] = entry
    path = pathlib.Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(path)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
