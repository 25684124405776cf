#!/usr/bin/env python3
"""Transformers oracle for decograph's CPU Llama-family runtime.

Builds tiny random-weight Hugging Face causal-LM models, saves them the way HF
does (config.json + safetensors), and records float32 reference logits that the
Swift runtime tests compare against.

Usage (from the repository root):

    pip install -r tools/oracle/requirements.txt
    python3 tools/oracle/make_runtime_fixtures.py [--out Tests/Fixtures/runtime]

The output directory is deleted and rewritten on every run. Everything is
seeded, so re-running with the pinned versions reproduces the same tensors.
See tools/oracle/README.md for the layout of what is written.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import sys
import tempfile

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import (
    AutoModelForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

N_SEQ = 3
SEQ_LEN = 24
VOCAB = 80
MIN_LOGIT_STD = 0.1

COMMON = dict(
    vocab_size=VOCAB,
    hidden_size=64,
    num_hidden_layers=2,
    intermediate_size=96,
    max_position_embeddings=128,
    rms_norm_eps=1e-5,
    initializer_range=0.2,
    hidden_act="silu",
)

DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def build_model(arch: str, seed: int, **cfg_kwargs):
    """Random-init a model in float32 with a fixed seed."""
    cls_cfg, cls_model = {
        "llama": (LlamaConfig, LlamaForCausalLM),
        "mistral": (MistralConfig, MistralForCausalLM),
        "qwen2": (Qwen2Config, Qwen2ForCausalLM),
    }[arch]
    kwargs = dict(COMMON)
    kwargs.update(cfg_kwargs)
    cfg = cls_cfg(**kwargs)
    cfg._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = cls_model(cfg).to(torch.float32)
    model.config._attn_implementation = "eager"
    # HF initialises RMSNorm weights to exactly 1.0, which would hide a runtime that forgets (or misapplies)
    # the norm weight. Give them random values around 1 instead.
    g = torch.Generator().manual_seed(seed + 99)
    n_norm = 0
    with torch.no_grad():
        for mod in model.modules():
            if type(mod).__name__.endswith("RMSNorm"):
                mod.weight.copy_(1.0 + 0.2 * torch.randn(mod.weight.shape, generator=g))
                n_norm += 1
    assert n_norm == 2 * cfg.num_hidden_layers + 1, n_norm
    model.eval()
    return model


def clone_with_config(model, **overrides):
    """Same weights, different config fields (used for the 'does X matter' asserts)."""
    cfg = copy.deepcopy(model.config)
    for k, v in overrides.items():
        setattr(cfg, k, v)
    other = type(model)(cfg).to(torch.float32)
    other.load_state_dict(model.state_dict())
    other.config._attn_implementation = "eager"
    other.eval()
    return other


def make_tokens(seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, VOCAB, (SEQ_LEN,), generator=g, dtype=torch.int64) for _ in range(N_SEQ)]


@torch.no_grad()
def logits_of(model, tokens: list[torch.Tensor]) -> list[torch.Tensor]:
    out = []
    for t in tokens:
        lg = model(input_ids=t[None, :], use_cache=False).logits[0]
        assert lg.dtype == torch.float32, lg.dtype
        assert lg.shape == (SEQ_LEN, VOCAB), lg.shape
        out.append(lg.contiguous().clone())
    return out


def max_abs_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a, b))


def round_trip(model, dtype: torch.dtype):
    """Weights as stored in `dtype`, upcast back to f32 (what an f32 runtime sees)."""
    if dtype == torch.float32:
        return model
    # Round only the *parameters*: model.to(dtype) would also round non-persistent buffers such as the
    # rotary inv_freq, which a real loader recomputes in f32 from the config.
    m = copy.deepcopy(model)
    with torch.no_grad():
        for p in m.parameters():
            p.data = p.data.to(dtype).to(torch.float32)
    m.eval()
    return m


def load_saved(case_dir: str):
    m = AutoModelForCausalLM.from_pretrained(case_dir, dtype=torch.float32, attn_implementation="eager")
    m.eval()
    return m


def saved_weight_dtypes(case_dir: str) -> set[torch.dtype]:
    dts = set()
    for f in os.listdir(case_dir):
        if f.endswith(".safetensors") and f != "expected.safetensors":
            dts |= {t.dtype for t in load_file(os.path.join(case_dir, f)).values()}
    return dts


# --------------------------------------------------------------------------------------
# config-format rewrite (case 4)
# --------------------------------------------------------------------------------------


def rewrite_rope_format(cfg_path: str) -> str:
    """Rewrite config.json into the *other* RoPE config format. Returns the format now in the file."""
    with open(cfg_path) as f:
        cfg = json.load(f)
    if "rope_parameters" in cfg:
        # transformers >= 5 format -> legacy (transformers 4.x) format
        rp = dict(cfg.pop("rope_parameters"))
        if "dtype" in cfg:  # transformers 4.x wrote the weight dtype as `torch_dtype`
            cfg["torch_dtype"] = cfg.pop("dtype")
        cfg["rope_theta"] = rp.pop("rope_theta")
        if rp.get("rope_type", "default") != "default":
            cfg["rope_scaling"] = rp  # keeps rope_type, factor, low/high_freq_factor, original_max_position_embeddings
        else:
            cfg["rope_scaling"] = None
        fmt = "legacy: top-level rope_theta + rope_scaling"
    elif "rope_theta" in cfg:
        rp = dict(cfg.pop("rope_scaling", None) or {})
        rp.setdefault("rope_type", rp.pop("type", "default"))
        rp["rope_theta"] = cfg.pop("rope_theta")
        if "torch_dtype" in cfg:
            cfg["dtype"] = cfg.pop("torch_dtype")
        cfg["rope_parameters"] = rp
        fmt = "rope_parameters"
    else:
        raise RuntimeError("config.json has neither rope_parameters nor rope_theta")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    return fmt


def rope_format_of(cfg_path: str) -> str:
    with open(cfg_path) as f:
        cfg = json.load(f)
    if "rope_parameters" in cfg:
        return "rope_parameters"
    return "legacy: top-level rope_theta + rope_scaling"


# --------------------------------------------------------------------------------------
# sliding-window rule probe (case 8)
# --------------------------------------------------------------------------------------


@torch.no_grad()
def probe_sliding_window_rule(window: int, seed: int) -> int:
    """Empirically determine how many keys (including itself) query position i may see.

    Uses a 1-layer Mistral so that logits at position q depend only on the tokens the
    attention of q can see (no multi-layer receptive-field growth). Returns the number
    of visible keys K, i.e. position q sees positions max(0, q-K+1) ... q.
    """
    m = build_model("mistral", seed, num_hidden_layers=1, num_attention_heads=4, num_key_value_heads=2,
                    sliding_window=window, rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    base = make_tokens(seed + 1)[0]
    q = SEQ_LEN - 1
    ref = m(input_ids=base[None], use_cache=False).logits[0, q]
    visible = []
    for k in range(q + 1):
        t = base.clone()
        t[k] = (t[k] + 1 + k) % VOCAB
        if t[k] == base[k]:
            t[k] = (t[k] + 1) % VOCAB
        lg = m(input_ids=t[None], use_cache=False).logits[0, q]
        if (lg - ref).abs().max().item() > 1e-6:
            visible.append(k)
    K = len(visible)
    assert visible == list(range(q - K + 1, q + 1)), f"visible set not contiguous ending at q: {visible}"
    return K


# --------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------

LLAMA3_ROPE = {
    "rope_type": "llama3",
    "rope_theta": 500000.0,
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 16,
}

CASES = [
    dict(
        case="llama-mha-untied", arch="llama", seed=1001, dtype="f32",
        cfg=dict(num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=False,
                 rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        notes="Llama MHA (4 heads / 4 kv heads, head_dim 16), untied lm_head, rope_theta 10000.",
    ),
    dict(
        case="llama-gqa-tied", arch="llama", seed=1002, dtype="f32",
        cfg=dict(num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                 rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        notes="Llama GQA (4 heads / 2 kv heads), tie_word_embeddings=true: the checkpoint has NO lm_head.weight; "
              "use model.embed_tokens.weight as the output projection.",
    ),
    dict(
        case="llama3-rope-scaling", arch="llama", seed=1003, dtype="f32",
        cfg=dict(num_attention_heads=8, num_key_value_heads=2, tie_word_embeddings=False,
                 rope_parameters=dict(LLAMA3_ROPE)),
        check_rope_matters=True,
        notes="Llama 8 heads (head_dim 8) / 2 kv heads, rope_theta 500000, llama3 rope scaling factor 8, "
              "low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings 16. "
              "config.json uses the transformers-5 `rope_parameters` format.",
    ),
    dict(
        case="llama-legacy-rope-config", arch="llama", seed=1004, dtype="f32",
        cfg=dict(num_attention_heads=8, num_key_value_heads=2, tie_word_embeddings=False,
                 rope_parameters=dict(LLAMA3_ROPE, original_max_position_embeddings=32)),
        check_rope_matters=True, rewrite_rope=True,
        notes="Like llama3-rope-scaling (different seed) but original_max_position_embeddings 32 so the "
              "'high frequency: keep unchanged' llama3 branch is exercised; config.json rewritten to the "
              "legacy transformers-4 format (top-level rope_theta + rope_scaling; `dtype` renamed `torch_dtype`).",
    ),
    dict(
        case="llama-head-dim", arch="llama", seed=1005, dtype="f32",
        cfg=dict(num_attention_heads=4, num_key_value_heads=2, head_dim=32, tie_word_embeddings=False,
                 rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        notes="Llama with explicit head_dim 32 != hidden/heads (16): q_proj [128,64], k/v_proj [64,64], "
              "o_proj [64,128]; attention scale 1/sqrt(32).",
    ),
    dict(
        case="llama-bf16", arch="llama", seed=1006, dtype="bf16",
        cfg=dict(num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                 rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        notes="Llama GQA, untied, weights stored as bfloat16; expected logits computed in f32 over the "
              "upcast bf16 weights.",
    ),
    dict(
        case="llama-f16-sharded", arch="llama", seed=1007, dtype="f16", shard="60KB",
        cfg=dict(num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                 rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        notes="Llama GQA, untied, weights stored as float16 in several shards + model.safetensors.index.json; "
              "expected logits computed in f32 over the upcast f16 weights.",
    ),
    dict(
        case="mistral-sliding", arch="mistral", seed=1008, dtype="f32",
        cfg=dict(num_attention_heads=4, num_key_value_heads=2, sliding_window=8, tie_word_embeddings=False,
                 rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        check_window_matters=True,
        notes="Mistral 4 heads / 2 kv heads, sliding_window 8 (L=24 > window) on every layer. Rule: query at "
              "position i attends keys j with i-8 < j <= i (8 keys incl. itself).",
    ),
    dict(
        case="qwen2-bias", arch="qwen2", seed=1009, dtype="f32",
        cfg=dict(num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                 use_sliding_window=False, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
        reinit_bias=True,
        notes="Qwen2 4 heads / 2 kv heads, q/k/v_proj have nonzero biases (o_proj none), untied, "
              "use_sliding_window false, rope_theta 1e6.",
    ),
]


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def run_case(spec: dict, out_root: str, report: dict) -> dict:
    name = spec["case"]
    case_dir = os.path.join(out_root, name)
    os.makedirs(case_dir)
    dtype = DTYPES[spec["dtype"]]
    seed = spec["seed"]

    model = build_model(spec["arch"], seed, **spec["cfg"])

    if spec.get("reinit_bias"):
        g = torch.Generator().manual_seed(seed + 77)
        n = 0
        with torch.no_grad():
            for mod_name, mod in model.named_modules():
                if isinstance(mod, torch.nn.Linear) and mod.bias is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.2)
                    n += 1
        assert n == 3 * COMMON["num_hidden_layers"], f"expected q/k/v biases in every layer, got {n}"

    if name == "llama-head-dim":
        qp = model.model.layers[0].self_attn.q_proj.weight
        assert qp.shape == (128, 64), f"transformers Llama ignores head_dim? q_proj {tuple(qp.shape)}"

    # the model whose weights are exactly the stored low-precision ones, in f32
    ref_model = round_trip(model, dtype)

    tokens = make_tokens(seed + 500)
    expected = logits_of(ref_model, tokens)

    # sanity: logits are not degenerate
    min_std = min(lg.std(dim=-1).min().item() for lg in expected)
    assert min_std > MIN_LOGIT_STD, f"{name}: logits too flat (min std over vocab {min_std})"
    assert all(torch.isfinite(lg).all() for lg in expected)

    extra = {}
    if spec.get("check_rope_matters"):
        plain = clone_with_config(ref_model, rope_parameters={"rope_type": "default",
                                                              "rope_theta": spec["cfg"]["rope_parameters"]["rope_theta"]})
        d = max_abs_diff(expected, logits_of(plain, tokens))
        assert d > 1e-2, f"{name}: llama3 rope scaling has no effect on logits (max diff {d})"
        extra["max|diff| vs unscaled rope"] = d
    if spec.get("check_window_matters"):
        full = clone_with_config(ref_model, sliding_window=None)
        d = max_abs_diff(expected, logits_of(full, tokens))
        assert d > 1e-2, f"{name}: sliding window has no effect on logits (max diff {d})"
        extra["max|diff| vs sliding_window=None"] = d
        # the first `window` positions must be identical to full attention
        w = spec["cfg"]["sliding_window"]
        lf = logits_of(full, tokens)
        d_early = max((a[:w] - b[:w]).abs().max().item() for a, b in zip(expected, lf))
        assert d_early < 1e-5, f"{name}: positions < window differ from full attention ({d_early})"

    # save the weights the way HF does
    save_model = copy.deepcopy(model).to(dtype)
    save_model.config._attn_implementation = "eager"
    if spec.get("shard"):
        save_model.save_pretrained(case_dir, max_shard_size=spec["shard"])
    else:
        save_model.save_pretrained(case_dir)
    # we only want config + weights (no generation_config.json)
    for extra_file in ("generation_config.json",):
        p = os.path.join(case_dir, extra_file)
        if os.path.exists(p):
            os.remove(p)

    cfg_path = os.path.join(case_dir, "config.json")
    if spec.get("rewrite_rope"):
        rewrite_rope_format(cfg_path)
    rope_fmt = rope_format_of(cfg_path)

    weight_files = sorted(f for f in os.listdir(case_dir) if f.endswith(".safetensors"))
    sharded = os.path.exists(os.path.join(case_dir, "model.safetensors.index.json"))
    if spec.get("shard"):
        assert sharded and len(weight_files) >= 2, f"{name}: expected >= 2 shards, got {weight_files}"
    else:
        assert weight_files == ["model.safetensors"], weight_files

    dts = saved_weight_dtypes(case_dir)
    assert dts == {dtype}, f"{name}: stored weight dtypes {dts}, wanted {dtype}"

    # reload from disk exactly as a user would (this also validates the rewritten config)
    reloaded = load_saved(case_dir)
    d_reload = max_abs_diff(expected, logits_of(reloaded, tokens))
    assert d_reload < 1e-5, f"{name}: reloaded model disagrees with expected ({d_reload})"

    # write expected.safetensors
    tensors = {}
    for i, (t, lg) in enumerate(zip(tokens, expected)):
        tensors[f"tokens_{i}"] = t.to(torch.int32).contiguous()
        tensors[f"logits_{i}"] = lg.to(torch.float32).contiguous()
    save_file(tensors, os.path.join(case_dir, "expected.safetensors"),
              # a single key on purpose: safetensors serialises __metadata__ from a hash map, so several
              # keys come out in a random order and the file would not be byte-reproducible
              metadata={"count": str(N_SEQ)})

    report[name] = dict(
        arch=spec["arch"], dtype=spec["dtype"], sharded=sharded, files=len(weight_files),
        rope_format=rope_fmt, min_logit_std=min_std, reload_diff=d_reload, **extra,
    )
    return dict(case=name, architecture=type(model).__name__, dtype=spec["dtype"], sharded=sharded,
                notes=spec["notes"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "Tests", "Fixtures", "runtime"))
    ap.add_argument("--out", default=default_out)
    args = ap.parse_args()

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    print(f"torch {torch.__version__}  transformers {transformers.__version__}")

    # 1. determine the sliding-window rule of the installed transformers
    window = next(c for c in CASES if c["case"] == "mistral-sliding")["cfg"]["sliding_window"]
    visible = probe_sliding_window_rule(window, seed=4242)
    print(f"sliding window {window}: query i sees {visible} keys: positions i-{visible - 1} ... i")
    assert visible == window, (
        f"installed transformers lets position i see {visible} keys for sliding_window={window}; "
        "update README and the mistral-sliding notes")

    # 2. build the fixtures into a temp dir, then swap it in (re-runnable, never half-written)
    out_root = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out_root), exist_ok=True)
    tmp_root = tempfile.mkdtemp(prefix=".runtime-fixtures-", dir=os.path.dirname(out_root))
    report: dict = {}
    manifest = []
    try:
        for spec in CASES:
            manifest.append(run_case(spec, tmp_root, report))
        with open(os.path.join(tmp_root, "MANIFEST.json"), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
    except BaseException:
        shutil.rmtree(tmp_root, ignore_errors=True)
        raise
    if os.path.exists(out_root):
        shutil.rmtree(out_root)
    os.rename(tmp_root, out_root)
    for dp, _, fs in os.walk(out_root):  # safetensors writes 0600; make the fixtures world-readable
        os.chmod(dp, 0o755)
        for f in fs:
            os.chmod(os.path.join(dp, f), 0o644)

    # 3. summary
    print()
    hdr = f"{'case':26} {'arch':8} {'dtype':5} {'shards':6} {'rope config format':44} {'min std':>8}  extra"
    print(hdr)
    print("-" * len(hdr))
    for name, r in report.items():
        extra = ", ".join(f"{k}={v:.3g}" for k, v in r.items()
                          if k not in ("arch", "dtype", "sharded", "files", "rope_format", "min_logit_std",
                                       "reload_diff"))
        print(f"{name:26} {r['arch']:8} {r['dtype']:5} {r['files']:<6} {r['rope_format']:44} "
              f"{r['min_logit_std']:8.3f}  {extra}")
    total = 0
    for dp, _, fs in os.walk(out_root):
        total += sum(os.path.getsize(os.path.join(dp, f)) for f in fs)
    print(f"\nwrote {len(report)} cases to {out_root} ({total / 1024:.1f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
