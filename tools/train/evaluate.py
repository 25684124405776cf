"""Step 6: evaluate the exported demo models (held-out loss, draft/target agreement).

Loads ``models/demo-target`` and ``models/demo-draft`` (fp16 weights upcast to
float32) and measures, on the held-out split only:

* held-out loss (nats/token), perplexity and bits/byte of both models over
  all non-overlapping 256-token windows of ``work/heldout.bin``;
* greedy agreement on >= 50 held-out prompts (default 64): each prompt is
  ``<|bos|>`` + 96 consecutive tokens of a held-out file; the target greedily
  continues it by 64 tokens; agreement = fraction of those positions where
  the draft's argmax (given the same prefix) equals the target's token.  The
  same is also reported teacher-forced on the real held-out text (the 96
  prompt positions);
* the simulated mean accepted length of greedy speculative decoding with
  k = 4 drafted tokens: walking the target's greedy continuation, each step
  accepts the longest prefix (<= 4) of draft tokens equal to the target's,
  plus one token from the target.  Because acceptance is greedy-exact, the
  draft's i-th proposal given accepted tokens equals its teacher-forced
  argmax on the target trajectory, so the simulation is exact.

Writes ``tools/train/logs/eval.json`` (consumed by write_model_cards.py).

Run:  python tools/train/evaluate.py [--threads 2]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from transformers import LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SEQ = 256
BOS_ID, EOS_ID = 0, 1


def load(path):
    m = LlamaForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="sdpa")
    return m.eval()


@torch.no_grad()
def heldout_loss(model, data, batch=16, max_windows=None):
    n = (data.size - 1) // SEQ
    if max_windows:
        n = min(n, max_windows)
    tot, cnt = 0.0, 0
    for s in range(0, n, batch):
        rows = [data[c * SEQ: c * SEQ + SEQ + 1].astype(np.int64) for c in range(s, min(n, s + batch))]
        t = torch.from_numpy(np.stack(rows))
        logits = model(input_ids=t[:, :-1]).logits.float()
        tot += F.cross_entropy(logits.reshape(-1, logits.size(-1)), t[:, 1:].reshape(-1), reduction="sum").item()
        cnt += t[:, 1:].numel()
    return tot / cnt, cnt


def pick_prompts(data, docs, n_prompts, ctx, gen, seed):
    rng = np.random.default_rng(seed)
    eligible = [d for d in docs if d["length"] >= ctx + gen + 8]
    prompts = []
    for i in range(n_prompts):
        d = eligible[i % len(eligible)]
        p = int(rng.integers(ctx, d["length"] - gen))
        toks = data[d["offset"] + p - ctx: d["offset"] + p].astype(np.int64)
        prompts.append({"path": d["path"], "pos": p, "ids": [BOS_ID] + toks.tolist()})
    return prompts


def accepted_lengths(match, k):
    """Greedy speculative decoding walk over a match vector; returns accepted counts per step."""
    out, p, n = [], 0, len(match)
    while p < n:
        a = 0
        while a < k and p + a < n and match[p + a]:
            a += 1
        out.append(a)
        p += a + 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", default=os.path.join(REPO, "models", "demo-target"))
    ap.add_argument("--draft", default=os.path.join(REPO, "models", "demo-draft"))
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--out", default=os.path.join(HERE, "logs", "eval.json"))
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--ctx", type=int, default=96)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-windows", type=int, default=None, help="limit held-out windows (smoke tests)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()

    data = np.fromfile(os.path.join(args.work, "heldout.bin"), dtype=np.uint16)
    docs = json.load(open(os.path.join(args.work, "heldout_docs.json")))
    tokinfo = json.load(open(os.path.join(args.work, "tokens_info.json")))
    bytes_per_token = tokinfo["heldout"]["bytes"] / tokinfo["heldout"]["tokens"]
    target, draft = load(args.target), load(args.draft)

    res = {"heldout_tokens_total": int(data.size), "heldout_bytes_per_token": round(bytes_per_token, 4)}
    for name, m in (("target", target), ("draft", draft)):
        loss, cnt = heldout_loss(m, data, max_windows=args.max_windows)
        res[name] = {"heldout_loss": round(loss, 4), "heldout_ppl": round(float(np.exp(loss)), 3),
                     "heldout_bits_per_byte": round(loss / np.log(2) / bytes_per_token, 4),
                     "heldout_tokens_scored": cnt,
                     "params": sum(p.numel() for p in m.parameters())}
        print(name, res[name], flush=True)

    prompts = pick_prompts(data, docs, args.prompts, args.ctx, args.gen, args.seed)
    traj_match, text_match, accepted, consistency = [], [], [], []
    with torch.no_grad():
        for pr in prompts:
            ids = torch.tensor([pr["ids"]])
            out = target.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                  max_new_tokens=args.gen, eos_token_id=EOS_ID, pad_token_id=2)
            gen = out[0, ids.size(1):]
            if (gen == EOS_ID).any():  # keep the continuation up to and including EOS
                gen = gen[: int((gen == EOS_ID).nonzero()[0]) + 1]
            full = torch.cat([ids[0], gen]).unsqueeze(0)
            L = ids.size(1)
            t_arg = target(input_ids=full).logits[0].argmax(-1)
            d_arg = draft(input_ids=full).logits[0].argmax(-1)
            # predictions for generated positions come from positions L-1 .. end-1
            m = (d_arg[L - 1: L - 1 + gen.numel()] == gen).tolist()
            consistency += (t_arg[L - 1: L - 1 + gen.numel()] == gen).tolist()
            traj_match += m
            accepted += accepted_lengths(m, args.k)
            # teacher-forced on real held-out text: prompt positions 1..L-1 predicting ids[2..L]
            text_match += (d_arg[1: L - 1] == t_arg[1: L - 1]).tolist()
    res["agreement"] = {
        "prompts": len(prompts),
        "distinct_files": len({p["path"] for p in prompts}),
        "prompt_tokens": args.ctx + 1,
        "generated_tokens_per_prompt_max": args.gen,
        "greedy_agreement_on_target_continuations": round(float(np.mean(traj_match)), 4),
        "positions_on_target_continuations": len(traj_match),
        "greedy_agreement_on_heldout_text": round(float(np.mean(text_match)), 4),
        "positions_on_heldout_text": len(text_match),
        "target_cached_vs_full_forward_consistency": round(float(np.mean(consistency)), 4),
        "k": args.k,
        "sim_mean_accepted_length": round(float(np.mean(accepted)), 4),
        "sim_mean_tokens_per_target_forward": round(float(np.mean(accepted)) + 1, 4),
        "sim_steps": len(accepted),
    }
    res["eval_seconds"] = round(time.time() - t0)
    res["command"] = "python tools/train/evaluate.py"
    print(json.dumps(res, indent=2))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
