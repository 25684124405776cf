"""Step 8: write ``models/demo-{target,draft}/MODEL_CARD.md`` from the recorded results.

Reads ``work/corpus_info.json``, ``work/tokens_info.json``, each model's
``config.json`` and ``training_info.json``, the loss curves in
``logs/<model>.log`` and the evaluation results in ``logs/eval.json``, and
adds a short greedy sample from ``examples/``.  Run after evaluate.py.

Run:  python tools/train/write_model_cards.py
"""
import glob
import json
import os
import re

import torch
from tokenizers import Tokenizer
from transformers import LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BARS = {"target_heldout_loss_max": 2.75, "agreement_min": 0.65}


def curve(log_paths, every=250):
    """Loss rows every ``every`` steps from one or more logs (later logs override resumed steps)."""
    rows, evals = {}, {}
    for line in (line for path in log_paths if os.path.exists(path) for line in open(path)):
        m = re.match(r"step (\d+) loss ([\d.]+) lr (\S+) tokens (\d+) elapsed (\d+)s", line)
        if m:
            rows[int(m.group(1))] = (float(m.group(2)), int(m.group(4)), int(m.group(5)))
        m = re.match(r"eval step (\d+) heldout_loss ([\d.]+)", line)
        if m:
            evals[int(m.group(1))] = float(m.group(2))
    out = []
    for s in sorted(rows):
        if s % every == 0 or s == max(rows) or s == 10:
            out.append((s, rows[s][1], rows[s][0], evals.get(s), rows[s][2]))
    return out


def sample(model_dir, prompt_file, n=48):
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    model = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    ids = torch.tensor([tok.encode(open(prompt_file).read()).ids])
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=n,
                             eos_token_id=1, pad_token_id=2)
    return tok.decode(out[0, ids.size(1):].tolist(), skip_special_tokens=True)


def main():
    work = os.path.join(HERE, "work")
    corpus = json.load(open(os.path.join(work, "corpus_info.json")))
    toks = json.load(open(os.path.join(work, "tokens_info.json")))
    ev = json.load(open(os.path.join(HERE, "logs", "eval.json")))
    ag = ev["agreement"]
    prompt_file = sorted(glob.glob(os.path.join(REPO, "examples", "prompt-*.py")))[0]
    for name in ("target", "draft"):
        d = os.path.join(REPO, "models", f"demo-{name}")
        cfg = json.load(open(os.path.join(d, "config.json")))
        ti = json.load(open(os.path.join(d, "training_info.json")))
        r = ev[name]
        epochs = ti["tokens_seen"] / toks["train"]["tokens"]
        rows = "\n".join(
            f"| {s} | {t / 1e6:.2f}M | {l:.3f} | {'' if e is None else f'{e:.3f}'} | {el / 60:.0f} |"
            for s, t, l, e, el in curve([os.path.join(HERE, "logs", f"{name}.log"),
                                         os.path.join(HERE, "logs", f"{name}-cycle3.log"),
                                         os.path.join(HERE, "logs", f"{name}-distill.log")]))
        smp = sample(d, prompt_file)
        if name == "target":
            ok = r["heldout_loss"] <= BARS["target_heldout_loss_max"]
            bar = (f"Bar: held-out loss <= {BARS['target_heldout_loss_max']} nats/token -> "
                   f"**{'met' if ok else 'NOT met'}** ({r['heldout_loss']:.3f})."
                   + ("" if ok else " The model is under-trained (well under one epoch; the held-out loss was still "
                                    "falling by ~0.2 nats per million tokens at the end); meeting the bar needs "
                                    "several times more CPU time than this run had."))
        else:
            a = ag["greedy_agreement_on_target_continuations"]
            ok = a >= BARS["agreement_min"]
            bar = (f"Bar: draft/target greedy agreement >= {BARS['agreement_min']} -> "
                   f"**{'met' if ok else 'NOT met'}** ({a:.3f} on the target's greedy continuations).")
        hist = ti.get("schedule_history", [])
        if name == "target":
            commands = "\n".join([
                "nice -n 19 python tools/train/train.py --model target --steps 1000 --stop-at 300",
                "nice -n 19 python tools/train/train.py --model target --steps 800 --stop-at 550",
                "nice -n 19 python tools/train/train.py --model target --steps 900",
                "nice -n 19 python tools/train/train.py --model target --steps 1300",
                "nice -n 19 python tools/train/train.py --model target --steps 4300 --lr 2e-3 --rewarm 100"])
            note = ("The planned size was about hidden 384 / 6 layers / 6 heads / FFN 1024. That model was started "
                    "but, on the shared 2-core build machine under `nice -n 19`, it ran at ~10 s/step and could "
                    "not be trained in the time available (its partial log is "
                    "`tools/train/logs/target-384x6-abandoned.log`), so the demo target is narrower "
                    "(hidden 256 / 6 layers / 4 heads / FFN 768). Even so it got only ~4-5 s/step, so the run, started "
                    "with `--steps 1800`, was re-targeted to `--steps 1000` at step 100 (inside the warm-up, where "
                    "the schedule does not depend on the step count), to `--steps 800` at step 300 (LR 0.90 -> 0.83 "
                    "of peak) and, when the machine got less busy, to `--steps 900` at step 550 (LR 0.36 -> "
                    "0.46 of peak, a short re-warm). That run finished at step 900; with time left, training was resumed "
                    "from its final checkpoint for a second cosine cycle to step 1300 (LR 0.10 -> 0.30 of peak, then "
                    "decaying to 0.10 again). At step 900 the held-out loss was 3.561 and the draft/target agreement "
                    "0.686 (`tools/train/logs/eval-target-step900.json`); the step-1300 model (held-out 3.241, "
                    "`tools/train/logs/eval-target1300-draft750.json` for its first evaluation) was shipped first. "
                    "A third cosine cycle then ran from the step-1300 checkpoint to step 4300 with a lower peak LR "
                    "(2e-3, re-warmed linearly over 100 steps, then decaying to 10 % of it; log "
                    "`tools/train/logs/target-cycle3.log`), on one thread and, from step 2900, on two "
                    "(`--threads 2`; the thread count does not change the schedule). The five commands above "
                    "reproduce that exact schedule.")
        else:
            commands = "\n".join([
                "nice -n 19 python tools/train/train.py --model draft --steps 2000 --stop-at 600",
                "nice -n 19 python tools/train/train.py --model draft --steps 1200 --stop-at 700",
                "nice -n 19 python tools/train/train.py --model draft --steps 900 --stop-at 750",
                "nice -n 19 python tools/train/train.py --model draft --steps 750",
                "nice -n 19 python tools/train/train.py --model draft --steps 1350",
                "python tools/train/train.py --model draft --steps 2850 --lr 2e-3 --rewarm 100 --distill models/demo-target",
                "python tools/train/train.py --model draft --steps 4050 --lr 1.5e-3 --rewarm 50 --distill models/demo-target "
                "--distill-weight 1.0"])
            note = ("Because of CPU contention the draft's planned 2000-step cosine schedule was shortened three "
                    "times by resuming from a checkpoint with a smaller `--steps` (at steps 600, 700 and 750), "
                    "to free the CPU for the target; the LR therefore ended at about 18 % of its peak instead of "
                    "10 %. After the target had finished (and its second cycle had lowered the draft/target agreement "
                    "from 0.686 to 0.630), the draft was resumed from its step-750 checkpoint for a second cosine "
                    "cycle to step 1350 (LR re-warmed to about 0.5 of peak, then decaying to 0.10). When the "
                    "target's third cycle lowered its held-out loss from 3.241 to 2.464, the agreement fell to 0.541, "
                    "so the draft was *distilled* from the exported target: from step 1350 to 2850 on "
                    "`0.8 * KL(target || draft) + 0.2 * cross-entropy` (agreement 0.640, "
                    "`tools/train/logs/eval-target4300-draft2850.json`), then to step 4050 on the KL alone (log "
                    "`tools/train/logs/draft-distill.log`; the loss column below stays the data's cross-entropy). "
                    "The seven commands above reproduce that exact schedule (each distilling command needs the "
                    "final target exported first).")
        role = ("the *target* (verifier) model" if name == "target" else
                "the *draft* (proposal) model for speculative decoding against `demo-target`")
        text = f"""---
license: other
license_name: psf-2.0
library_name: transformers
pipeline_tag: text-generation
tags: [llama, demo, speculative-decoding, decograph]
---

# decograph demo-{name}

A very small Llama-architecture causal language model trained from scratch on
the CPython standard library, built by `tools/train/` so that decograph can demo
and test its decoding methods (speculative decoding, constrained decoding,
retrieval drafts) without downloading any pretrained model. It is {role}.

**Good for:** exercising decoding algorithms end to end on CPU with real,
non-random logits; checking runtime parity against transformers; measuring
draft acceptance. **Not good for:** anything else. It is not a useful code
model: it imitates the surface of stdlib Python (indentation, docstrings,
common idioms) but produces code that is frequently wrong, repetitive or
nonsensical, has a 256-token context, and knows nothing outside the stdlib.

## Data

* CPython {corpus['python']} standard library `.py` files of the build machine
  (found with `sysconfig.get_paths()["stdlib"]`), licensed under the
  [PSF License Agreement](https://docs.python.org/3/license.html) (PSF-2.0).
* Excluded: `site-packages`, `__pycache__`, vendored wheels (`ensurepip/_bundled`),
  generated files (`pydoc_data`, gencodec `encodings/*`, `token.py`, `re/_casefix.py`, ...:
  any file whose first 800 characters say auto-generated / generated from|by / do not edit),
  `_sysconfigdata*`, non-UTF-8 files and files over 400 kB.
* Split by file: `sha256(relative path)[:8] % 10000 < 500` is held out (5 %).
  Train: {corpus['files_train']} files, {corpus['bytes_train'] / 1e6:.1f} MB, {toks['train']['tokens'] / 1e6:.2f}M tokens.
  Held out: {corpus['files_heldout']} files, {corpus['bytes_heldout'] / 1e6:.2f} MB, {toks['heldout']['tokens'] / 1e3:.0f}k tokens.
* Each file is one document: `<|bos|>` + tokens + `<|eos|>`, concatenated and packed into 256-token sequences.

## Tokenizer

Byte-level BPE (GPT-2 style pre-tokenizer, no prefix space), vocabulary 4096,
trained on the training split only. Special tokens `<|bos|>` = 0, `<|eos|>` = 1,
`<|pad|>` = 2; the tokenizer prepends `<|bos|>` (`add_bos_token: true`).
About {toks['heldout']['bytes_per_token']:.2f} bytes/token on the held-out split.
Shared by both demo models (identical `tokenizer.json`).

## Architecture

`LlamaForCausalLM`: hidden {cfg['hidden_size']}, {cfg['num_hidden_layers']} layers,
{cfg['num_attention_heads']} heads (head dim {cfg['head_dim']}, {cfg['num_key_value_heads']} KV heads),
SwiGLU FFN {cfg['intermediate_size']}, RMSNorm eps {cfg['rms_norm_eps']}, RoPE theta {cfg['rope_theta']},
vocab {cfg['vocab_size']}, max positions {cfg['max_position_embeddings']} (trained on 256-token windows),
tied input/output embeddings (no `lm_head.weight` tensor), no biases.
{r['params']:,} parameters, stored as float16 in `model.safetensors`.

## Training

```
{commands}
```
(all steps: `tools/train/run_all.sh`; versions: `tools/train/requirements.txt`;
schedule history: `{json.dumps(hist)}`)

{note}

* {ti['steps_done']} steps x batch {ti['batch']} x {ti['seq_len']} tokens = **{ti['tokens_seen'] / 1e6:.2f}M tokens seen** ({epochs:.2f} epochs).
* AdamW (betas 0.9/0.95, weight decay 0.1 on matrices), peak LR {ti['lr']}, {ti['warmup']} warmup steps,
  cosine decay to 10 %, gradient clipping 1.0, seed {ti['seed']}.
* CPU, bf16 autocast with fp32 master weights, {ti['threads']} thread, `nice -n 19`, trained
  (partly concurrently with the other demo model) on a 2-core machine shared with the team's
  compiles and benchmarks: {ti['train_seconds'] / 60:.0f} minutes of wall clock while running
  (step times varied several-fold with the load).
* Loss curve: `tools/train/logs/{name}.log` (training loss every 10 steps, held-out loss on a fixed
  32-window subset every 250 steps). Summary:

| step | tokens | train loss | held-out loss (subset) | minutes |
|---:|---:|---:|---:|---:|
{rows}

## Evaluation (`tools/train/evaluate.py`, held-out split only)

| metric | value |
|---|---|
| held-out loss (all {r['heldout_tokens_scored']:,} scored tokens, 256-token windows) | **{r['heldout_loss']:.3f} nats/token** |
| held-out perplexity | {r['heldout_ppl']:.2f} |
| held-out bits per byte | {r['heldout_bits_per_byte']:.3f} |

Draft vs target (same numbers in both cards), {ag['prompts']} prompts from {ag['distinct_files']} held-out
files, each `<|bos|>` + {ag['prompt_tokens'] - 1} tokens, continued greedily by the target for up to
{ag['generated_tokens_per_prompt_max']} tokens:

| metric | value |
|---|---|
| greedy next-token agreement on the target's greedy continuations ({ag['positions_on_target_continuations']} positions) | **{ag['greedy_agreement_on_target_continuations']:.3f}** |
| greedy next-token agreement on the held-out text itself ({ag['positions_on_heldout_text']} positions) | {ag['greedy_agreement_on_heldout_text']:.3f} |
| simulated mean accepted length, k = {ag['k']} greedy drafts | **{ag['sim_mean_accepted_length']:.3f}** draft tokens per step |
| simulated tokens per target forward (accepted + 1) | {ag['sim_mean_tokens_per_target_forward']:.3f} |

The simulation walks each target continuation: a step accepts the longest run
(at most k) of draft tokens equal to the target's greedy tokens, plus one token
from the target; with greedy verification this is exact.

{bar}

Greedy sample (prompt `{os.path.relpath(prompt_file, REPO)}`, 48 new tokens):

```python
{smp}
```

## Files

`config.json`, `generation_config.json` (greedy), `model.safetensors` (float16),
`tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`,
`training_info.json` (the exact training parameters). Runtime parity fixture
produced from these weights: `Tests/Fixtures/demo/demo-{name}/expected.safetensors`
(`tools/train/make_demo_fixture.py`).

## License

Trained only on PSF-licensed CPython source; the weights are distributed with
decograph for demonstration and testing. Text the model reproduces from the
standard library remains under the PSF License.
"""
        with open(os.path.join(d, "MODEL_CARD.md"), "w") as f:
            f.write(text)
        print("wrote", os.path.join(d, "MODEL_CARD.md"))


if __name__ == "__main__":
    main()
