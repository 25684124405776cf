#!/usr/bin/env python3
"""Writes tiny GGUF files converted from the transformers fixtures in Tests/Fixtures/runtime.

Each GGUF holds the same weights as its safetensors directory, laid out the way llama.cpp's
convert_hf_to_gguf.py lays them out, so the Swift tests can check that decograph gives the same
logits on the GGUF as transformers gave on the directory (the expected logits stay in
Tests/Fixtures/runtime/<case>/expected.safetensors; nothing is duplicated here):

- GGUF names (token_embd, blk.N.attn_q, ...) and GGML dims (innermost first: [columns, rows]);
- for the `llama` architecture the Q and K projections (weights and biases) are permuted the way
  the converter's `LlamaModel.permute` does (per head, rows [first half; second half] become
  interleaved pairs: its reshape(n_head, 2, head_dim/2, ...).swapaxes(1, 2));
  the `qwen2` converter does not permute;
- 1-D tensors (norms, biases) stay F32, as the converter keeps them;
- `output.weight` is omitted when embeddings are tied.

Uses only numpy and the `gguf` package (pip install gguf==0.19.0 numpy); safetensors files are
read directly (8-byte header length, JSON header, data). Deterministic: re-running gives
byte-identical files.

    python3 tools/oracle/make_gguf_fixtures.py            # writes Tests/Fixtures/gguf/
"""

import argparse
import json
import os
import struct
from pathlib import Path

import numpy as np
import gguf

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "Tests" / "Fixtures" / "runtime"

# (output file, source case, GGUF architecture, matrix storage, vocabulary recorded as)
CASES = [
    ("llama-gqa-tied-f32.gguf", "llama-gqa-tied", "llama", "F32", "tokens"),
    ("llama-f16.gguf", "llama-f16-sharded", "llama", "F16", "tokens"),
    ("llama-bf16.gguf", "llama-bf16", "llama", "BF16", "tokens"),
    ("qwen2-bias-f32.gguf", "qwen2-bias", "qwen2", "F32", "vocab_size"),
    # Q/K/V biases under the llama converter: the Q and K biases are permuted like the weights.
    ("qwen2-bias-as-llama-f32.gguf", "qwen2-bias", "llama", "F32", "vocab_size"),
    # head_dim (32) differs from hidden / heads (16): read from llama.attention.key_length.
    ("llama-head-dim-f32.gguf", "llama-head-dim", "llama", "F32", "tokens"),
]


def read_safetensors(path: Path) -> dict:
    """Reads F32/F16/BF16 tensors; BF16 is returned as float32 (exactly representable)."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        buf = data[begin:end]
        dtype = entry["dtype"]
        if dtype == "F32":
            a = np.frombuffer(buf, dtype="<f4")
        elif dtype == "F16":
            a = np.frombuffer(buf, dtype="<f2").astype(np.float32)
        elif dtype == "BF16":
            a = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise SystemExit(f"{path}: tensor {name} has dtype {dtype}")
        out[name] = a.reshape(entry["shape"]).copy()
    return out


def read_weights(case_dir: Path) -> dict:
    index = case_dir / "model.safetensors.index.json"
    if index.exists():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        weights = {}
        for shard in shards:
            weights.update(read_safetensors(case_dir / shard))
        return weights
    return read_safetensors(case_dir / "model.safetensors")


def permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's rotary layout: rows of each head go from [x0..x_{d/2-1}, y0..] to [x0, y0, x1, y1, ...]."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_name(hf: str) -> str:
    fixed = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    if hf in fixed:
        return fixed[hf]
    parts = hf.split(".")
    assert parts[0] == "model" and parts[1] == "layers", hf
    layer, rest = parts[2], ".".join(parts[3:])
    table = {
        "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
    }
    module, kind = rest.rsplit(".", 1)
    return f"blk.{layer}.{table[module]}.{kind}"


def to_storage(a: np.ndarray, storage: str):
    """Returns (array, raw_dtype) for GGUFWriter.add_tensor."""
    if a.ndim == 1 or storage == "F32":
        return a.astype(np.float32), None
    if storage == "F16":
        return a.astype(np.float16), None
    # BF16: the source values are bf16 already, so truncation is exact.
    bits = (a.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    return bits, gguf.GGMLQuantizationType.BF16


def convert(out: Path, case: str, arch: str, storage: str, vocab_as: str) -> None:
    case_dir = RUNTIME / case
    config = json.loads((case_dir / "config.json").read_text())
    weights = read_weights(case_dir)
    n_head = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads", n_head)
    head_dim = config.get("head_dim", config["hidden_size"] // n_head)
    rope = config.get("rope_parameters") or {}
    assert rope.get("rope_type", "default") == "default", case

    w = gguf.GGUFWriter(str(out), arch)
    w.add_name(case)
    w.add_context_length(config["max_position_embeddings"])
    w.add_embedding_length(config["hidden_size"])
    w.add_block_count(config["num_hidden_layers"])
    w.add_feed_forward_length(config["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(rope.get("rope_theta", 10000.0))
    w.add_layer_norm_rms_eps(config["rms_norm_eps"])
    if isinstance(config.get("bos_token_id"), int):
        w.add_bos_token_id(config["bos_token_id"])
    if isinstance(config.get("eos_token_id"), int):
        w.add_eos_token_id(config["eos_token_id"])
    if vocab_as == "tokens":
        w.add_tokenizer_model("llama")
        w.add_token_list([f"<t{i}>" for i in range(config["vocab_size"])])
    else:
        w.add_vocab_size(config["vocab_size"])

    for hf in sorted(weights):
        a = weights[hf]
        if arch == "llama":
            if hf.endswith(("q_proj.weight", "q_proj.bias")):
                a = permute(a, n_head)
            elif hf.endswith(("k_proj.weight", "k_proj.bias")):
                a = permute(a, n_kv)
        data, raw = to_storage(a, storage)
        w.add_tensor(gguf_name(hf), data, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "Tests" / "Fixtures" / "gguf")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, case, arch, storage, vocab_as in CASES:
        path = args.out / name
        convert(path, case, arch, storage, vocab_as)
        # Sanity check: the gguf package reads back what was written.
        reader = gguf.GGUFReader(str(path))
        assert len(reader.tensors) == len(read_weights(RUNTIME / case)), name
        manifest.append({"file": name, "source": f"runtime/{case}", "architecture": arch, "storage": storage,
                         "vocabulary": vocab_as, "bytes": os.path.getsize(path)})
    (args.out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
