"""Step 5: train the demo target or draft model (LlamaForCausalLM) on CPU.

  nice -n 19 python tools/train/train.py --model target --steps N [--stop-at S]
  nice -n 19 python tools/train/train.py --model draft  --steps N [--stop-at S]
  (the exact commands of the recorded runs are in run_all.sh)

* Architecture from MODEL_CONFIGS below (Llama; tied input/output embeddings).
* Data: ``work/train.bin`` (documents as <|bos|> ... <|eos|>, concatenated),
  packed into non-overlapping sequences of 256 (+1 for the shifted labels);
  the sequence order is a fixed-seed permutation per epoch.
* AdamW (betas 0.9/0.95, weight decay 0.1 on matrices), linear warmup then
  cosine decay to 10 % of the peak LR, gradient clipping 1.0, bf16 autocast on
  CPU, fp32 master weights, ``torch.set_num_threads(--threads)`` (default 1).
* Every --ckpt-every steps a checkpoint (model, optimizer, schedule, step) is
  written to ``work/ckpt-<model>.pt``; re-running the same command resumes.
  ``--stop-at S`` checkpoints and exits after step S; a resumed run may use
  another ``--steps``/``--lr`` (recorded in ``schedule_history``).
* ``--distill DIR`` (for a new cycle of a resumed run): the loss becomes
  ``w * KL(teacher || student) + (1 - w) * cross-entropy`` with ``w =
  --distill-weight``, the teacher being an exported model (the draft is
  distilled from ``models/demo-target`` so that it predicts what the target
  would, which is what speculative decoding accepts); the logged ``loss`` stays
  the data's cross-entropy and a ``kl`` field is added.
* Logs ``step loss lr tokens elapsed`` lines (and periodic held-out loss on a
  fixed subset) to stdout; run_all.sh redirects them to ``logs/<model>.log``.
* At the end (or with --export-only, from the last checkpoint) the model is
  exported in fp16 to ``models/demo-<model>/`` (config.json,
  model.safetensors, generation_config.json); tokenizer files are written
  there by train_tokenizer.py.
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SEQ = 256
BOS_ID, EOS_ID, PAD_ID = 0, 1, 2

MODEL_CONFIGS = {
    # The issue suggests ~384/6/6/1024; on the shared 2-core build machine that size ran at
    # ~10 s/step, too slow to train in the time available, so the shipped demo target is narrower.
    "target": dict(hidden_size=256, num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=4,
                   intermediate_size=768),
    # The planned size, trained in a later session (logs/target384.log); not shipped yet: at the
    # same step it trails the 256-wide model (see MODEL_CARD.md of demo-target).
    "target384": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=6, num_key_value_heads=6,
                      intermediate_size=1024),
    "draft": dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                  intermediate_size=512),
}
DEFAULTS = {  # steps, batch, peak lr, warmup
    "target": dict(steps=1800, batch=16, lr=3e-3, warmup=100),
    "target384": dict(steps=2000, batch=16, lr=3e-3, warmup=100),
    "draft": dict(steps=2000, batch=24, lr=3e-3, warmup=100),
}


def make_config(name, vocab_size=4096):
    return LlamaConfig(
        vocab_size=vocab_size,
        max_position_embeddings=SEQ,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        hidden_act="silu",
        attention_bias=False,
        mlp_bias=False,
        tie_word_embeddings=True,
        initializer_range=0.02,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        pad_token_id=PAD_ID,
        **MODEL_CONFIGS[name],
    )


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Batches:
    """Deterministic packed batches: chunk i = tokens[i*SEQ : i*SEQ+SEQ+1]."""

    def __init__(self, path, batch, seed):
        self.data = np.fromfile(path, dtype=np.uint16)
        self.n = (self.data.size - 1) // SEQ
        self.batch, self.seed = batch, seed
        self._perm_epoch, self._perm = None, None

    def get(self, step):
        rows = []
        for j in range(self.batch):
            k = step * self.batch + j
            epoch, i = divmod(k, self.n)
            if epoch != self._perm_epoch:
                g = np.random.default_rng(self.seed * 1000 + epoch)
                self._perm, self._perm_epoch = g.permutation(self.n), epoch
            c = int(self._perm[i])
            rows.append(self.data[c * SEQ: c * SEQ + SEQ + 1].astype(np.int64))
        t = torch.from_numpy(np.stack(rows))
        return t[:, :-1], t[:, 1:]


def lr_at(step, total, peak, warmup, min_ratio=0.1):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return peak * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))


def lm_loss(model, x, y):
    logits = model(input_ids=x).logits
    return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1))


def distill_losses(model, teacher, x, y):
    """Cross-entropy on the data and forward KL(teacher || student) per token, both in nats."""
    logits = model(input_ids=x).logits.float().reshape(-1, model.config.vocab_size)
    with torch.no_grad():
        t_logits = teacher(input_ids=x).logits.float().reshape(-1, model.config.vocab_size)
    ce = F.cross_entropy(logits, y.reshape(-1))
    kl = F.kl_div(F.log_softmax(logits, -1), F.log_softmax(t_logits, -1), log_target=True, reduction="batchmean")
    return ce, kl


@torch.no_grad()
def heldout_loss(model, path, nseq=32):
    data = np.fromfile(path, dtype=np.uint16)
    n = (data.size - 1) // SEQ
    idx = np.linspace(0, n - 1, nseq).astype(int)  # fixed, evenly spread subset
    model.eval()
    tot = 0.0
    for s in range(0, nseq, 8):
        rows = [data[c * SEQ: c * SEQ + SEQ + 1].astype(np.int64) for c in idx[s:s + 8]]
        t = torch.from_numpy(np.stack(rows))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            tot += lm_loss(model, t[:, :-1], t[:, 1:]).item() * len(rows)
    model.train()
    return tot / nseq


def export(model, out_dir, meta):
    os.makedirs(out_dir, exist_ok=True)
    m = model.to(torch.float16)
    m.config.dtype = "float16"
    m.save_pretrained(out_dir, safe_serialization=True)
    # transformers 5 writes rope settings only as "rope_parameters"; also keep the
    # classic top-level key that most Llama loaders read.
    cfg_path = os.path.join(out_dir, "config.json")
    cfg = json.load(open(cfg_path))
    cfg["rope_theta"] = cfg.get("rope_parameters", {}).get("rope_theta", 10000.0)
    cfg["torch_dtype"] = "float16"
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    GenerationConfig(bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID,
                     do_sample=False, max_length=SEQ).save_pretrained(out_dir)
    with open(os.path.join(out_dir, "training_info.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("exported", out_dir, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["target", "target384", "draft"], required=True)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--out", help="export dir (default models/demo-<model>)")
    ap.add_argument("--export-only", action="store_true", help="export the last checkpoint and exit")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--stop-at", type=int, help="checkpoint and exit after this step (schedule still uses --steps)")
    ap.add_argument("--distill", metavar="DIR",
                    help="for a new schedule cycle: train against this exported model's next-token "
                         "distributions (forward KL) as well as the data (recorded in schedule_history)")
    ap.add_argument("--distill-weight", type=float, default=0.8,
                    help="weight of the KL term; the data's cross-entropy gets 1 - this (default 0.8)")
    ap.add_argument("--rewarm", type=int, default=0,
                    help="when resuming with a new schedule, ramp the LR linearly over this many steps "
                         "from the resume step (avoids a jump from the annealed LR to the new cycle's)")
    args = ap.parse_args()
    for k, v in DEFAULTS[args.model].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    out_dir = args.out or os.path.join(REPO, "models", f"demo-{args.model}")
    torch.set_num_threads(args.threads)
    set_seed(args.seed)

    config = make_config(args.model)
    config._attn_implementation = "eager"  # faster than sdpa for bf16 autocast on CPU (measured)
    model = LlamaForCausalLM(config)
    nparams = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    ckpt_path = os.path.join(args.work, f"ckpt-{args.model}.pt")
    step, elapsed, history = 0, 0.0, []
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed = ck["step"], ck["elapsed"]
        history = ck.get("history", [{"from_step": 0, "steps": 2000}])
        torch.set_rng_state(ck["torch_rng"])
        print(f"resumed from {ckpt_path} at step {step}", flush=True)

    meta = {"model": args.model, "params": nparams, "seq_len": SEQ, "batch": args.batch,
            "steps": args.steps, "lr": args.lr, "warmup": args.warmup, "seed": args.seed,
            "threads": args.threads, "rewarm": args.rewarm, "tokens_per_step": args.batch * SEQ,
            "command": f"python tools/train/train.py --model {args.model} --steps {args.steps} "
                       f"--batch {args.batch} --lr {args.lr} --warmup {args.warmup} --seed {args.seed}"
                       + (f" --rewarm {args.rewarm}" if args.rewarm else "")
                       + (f" --distill {args.distill} --distill-weight {args.distill_weight}" if args.distill else "")}
    if not args.export_only and (not history or history[-1]["steps"] != args.steps
                                 or history[-1].get("lr", args.lr) != args.lr):
        # a resumed run may change the total step count or peak LR (and so the schedule)
        entry = {"from_step": step, "steps": args.steps, "lr": args.lr}
        if args.rewarm:
            entry["rewarm"] = args.rewarm
        if args.distill:
            entry["distill"] = os.path.relpath(os.path.abspath(args.distill), REPO)
            entry["distill_weight"] = args.distill_weight
        history.append(entry)
    meta["schedule_history"] = history
    if args.export_only:
        meta.update(steps_done=step, tokens_seen=step * args.batch * SEQ, train_seconds=round(elapsed))
        export(model, out_dir, meta)
        return

    print(json.dumps(meta), flush=True)
    print(f"params {nparams}", flush=True)
    batches = Batches(os.path.join(args.work, "train.bin"), args.batch, args.seed)
    heldout_path = os.path.join(args.work, "heldout.bin")
    model.train()
    # The current cycle's teacher, if it distils (a resumed run finds it in the history).
    cycle = history[-1] if history else {}
    teacher = None
    if cycle.get("distill"):
        teacher = LlamaForCausalLM.from_pretrained(os.path.join(REPO, cycle["distill"]), dtype=torch.float32).eval()
        teacher.config._attn_implementation = "eager"
        for p in teacher.parameters():
            p.requires_grad_(False)
        print(f"distilling from {cycle['distill']} (KL weight {cycle['distill_weight']})", flush=True)
    t0 = time.time() - elapsed
    loss_acc, n_acc, kl_acc = 0.0, 0, 0.0

    def save_ckpt():
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "elapsed": time.time() - t0, "torch_rng": torch.get_rng_state(),
                    "history": history}, tmp)
        os.replace(tmp, ckpt_path)

    stop = min(args.steps, args.stop_at or args.steps)
    while step < stop:
        lr = lr_at(step, args.steps, args.lr, args.warmup)
        cycle = history[-1] if history else {}
        if cycle.get("rewarm"):
            lr *= min(1.0, (step - cycle["from_step"] + 1) / cycle["rewarm"])
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batches.get(step)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            if teacher is None:
                loss = ce = lm_loss(model, x, y)
            else:
                ce, kl = distill_losses(model, teacher, x, y)
                w = cycle["distill_weight"]
                loss = w * kl + (1 - w) * ce
                kl_acc += kl.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        loss_acc += ce.item()
        n_acc += 1
        if step % args.log_every == 0 or step == args.steps:
            el = time.time() - t0
            # `loss` is always the data's cross-entropy; a distilling cycle adds the KL to the teacher.
            print(f"step {step} loss {loss_acc / n_acc:.4f} lr {lr:.2e} tokens {step * args.batch * SEQ} "
                  f"elapsed {el:.0f}s" + ("" if teacher is None else f" kl {kl_acc / n_acc:.4f}"), flush=True)
            loss_acc, n_acc, kl_acc = 0.0, 0, 0.0
        if step % args.eval_every == 0 or step == args.steps:
            print(f"eval step {step} heldout_loss {heldout_loss(model, heldout_path):.4f}", flush=True)
        if step % args.ckpt_every == 0 or step == args.steps:
            save_ckpt()

    elapsed = time.time() - t0
    if step < args.steps:
        save_ckpt()
        print(f"stopped at step {step} (--stop-at); resume with another train.py run", flush=True)
        return
    meta.update(steps_done=step, tokens_seen=step * args.batch * SEQ, train_seconds=round(elapsed))
    print(f"done {step} steps in {elapsed:.0f}s", flush=True)
    if not args.no_export:
        export(model, out_dir, meta)


if __name__ == "__main__":
    main()
