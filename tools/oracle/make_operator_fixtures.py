#!/usr/bin/env python3
"""Transformers oracle for decograph's Operators module (logits processors and beam search).

Writes two small JSON fixtures that `Tests/OperatorsTests` replays:

* `logits_processors.json` — for several sampling configurations, the processor list transformers
  builds in `GenerationMixin._get_logits_processor` (class names, in application order) and the
  processed logits it produces on seeded random logits and token histories; the typical / epsilon /
  eta cases also replay edge rows (peaked, flat, tied, partly masked).
* `beam_search.json` — `generate(num_beams=…)` runs of a tiny random-weight LlamaForCausalLM over a
  grid of `num_beams`, `length_penalty` and `early_stopping`, with the returned hypotheses
  (generated tokens and `sequences_scores`) and, for every prefix the model was asked to score, the
  float32 next-token logits it returned. The Swift test drives its own beam search with those
  logits; asking for a prefix transformers never scored is itself a failure.

Usage (from the repository root; needs torch and transformers, pinned in the output):

    python3 tools/oracle/make_operator_fixtures.py [--out Tests/Fixtures/operators] [--only logits_processors]

Everything is seeded; re-running with the same versions reproduces the files.
"""

from __future__ import annotations

import argparse
import json
import os

import torch
import transformers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

VOCAB = 24
EOS = 3


def tiny_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=64, max_position_embeddings=64,
                         initializer_range=0.5, bos_token_id=1, eos_token_id=EOS, pad_token_id=0)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        # Make EOS likely enough that beams finish early and the pool logic is exercised.
        model.lm_head.weight[EOS] *= 2.0
    return model


def f32(x: torch.Tensor) -> list:
    """float32 values as Python floats (exact: every float32 is a double)."""
    return [float(v) if torch.isfinite(v) else ("-inf" if v < 0 else "inf") for v in x.to(torch.float32)]


def edge_rows(gen: torch.Generator) -> list[torch.Tensor]:
    """Rows where truncation rules meet their boundaries: one dominant token (entropy near 0), a flat
    row (every token tied), logits in five integer levels (ties inside and across the cut), and a
    row where a mask already removed half the tokens (-inf, as a constraint or top-k leaves them)."""
    peaked = torch.randn((1, VOCAB), generator=gen)
    peaked[0, int(torch.randint(0, VOCAB, (1,), generator=gen))] = 12.0
    flat = torch.zeros((1, VOCAB))
    levels = torch.randint(-2, 3, (1, VOCAB), generator=gen).to(torch.float32)
    masked = torch.randn((1, VOCAB), generator=gen) * 2.0
    masked[0, torch.randperm(VOCAB, generator=gen)[: VOCAB // 2]] = -float("inf")
    return [peaked, flat, levels, masked]


def logits_fixture(model: LlamaForCausalLM) -> dict:
    configs = [
        dict(do_sample=True, temperature=0.7),
        dict(do_sample=True, top_k=5),
        dict(do_sample=True, top_p=0.8),
        dict(do_sample=True, min_p=0.1),
        dict(do_sample=True, repetition_penalty=1.3),
        dict(do_sample=False, repetition_penalty=1.3, suppress_tokens=[2, 7]),
        dict(do_sample=True, temperature=1.5, top_k=8, top_p=0.9, min_p=0.05, repetition_penalty=1.2,
             suppress_tokens=[4]),
        dict(do_sample=True, temperature=0.5, top_p=0.95, min_tokens_to_keep=3),
    ]
    # The truncation warpers after min-p (typical, epsilon, eta), alone, behind temperature / top-k /
    # top-p / min-p, and with min_tokens_to_keep; each also sees the edge rows of `edge_rows`.
    truncation = [
        dict(do_sample=True, typical_p=0.9),
        dict(do_sample=True, typical_p=0.3),
        dict(do_sample=True, epsilon_cutoff=0.03),
        dict(do_sample=True, eta_cutoff=0.05),
        dict(do_sample=True, eta_cutoff=0.9),
        dict(do_sample=True, temperature=0.7, top_k=10, top_p=0.9, typical_p=0.8),
        dict(do_sample=True, temperature=1.3, top_p=0.95, epsilon_cutoff=0.01),
        dict(do_sample=True, temperature=1.5, top_k=12, eta_cutoff=0.1),
        dict(do_sample=True, temperature=0.8, min_p=0.02, typical_p=0.95, epsilon_cutoff=0.005, eta_cutoff=0.02,
             suppress_tokens=[5, 6]),
        dict(do_sample=True, typical_p=0.2, min_tokens_to_keep=4),
        dict(do_sample=True, epsilon_cutoff=0.5, min_tokens_to_keep=3),
        dict(do_sample=True, eta_cutoff=0.6, min_tokens_to_keep=5),
    ]
    gen = torch.Generator().manual_seed(1)
    cases = []
    # The original cases first, so their rows (drawn from `gen`) do not change when cases are added.
    for cfg in configs + truncation:
        keep = cfg.pop("min_tokens_to_keep", None)
        gc = GenerationConfig(**cfg)
        processors = model._get_logits_processor(generation_config=gc, input_ids_seq_length=6)
        if keep is not None:  # transformers only sets it for beam sampling; pass it to the warpers directly
            for p in processors:
                if hasattr(p, "min_tokens_to_keep"):
                    p.min_tokens_to_keep = keep
        rows = []
        edges = edge_rows(gen) if cfg in truncation else []
        if "top_p" in cfg:
            # Top-p cuts the flat row inside one tie group, and which tied tokens go is the order of
            # torch.sort(stable=False) on ties: unspecified, so not something to reproduce.
            edges = [row for row in edges if not bool((row == row[0, 0]).all())]
        for index in range(4 + len(edges)):
            history = torch.randint(0, VOCAB, (1, 6), generator=gen)
            scores = torch.randn((1, VOCAB), generator=gen) * 2.0 if index < 4 else edges[index - 4]
            out = processors(history, scores.clone())
            rows.append(dict(history=history[0].tolist(), logits=f32(scores[0]), processed=f32(out[0])))
        settings = dict(cfg)
        if keep is not None:
            settings["min_tokens_to_keep"] = keep
        cases.append(dict(settings=settings, processors=[type(p).__name__ for p in processors], rows=rows))
    return dict(cases=cases)


def record_scored_prefixes(model: LlamaForCausalLM):
    """Hooks the model so that every prefix it scores is stored with its float32 next-token logits
    (keyed by the ids joined with spaces); returns the table and the hook's handle."""
    seen: dict[str, list] = {}

    def record(module, args, kwargs, output):
        ids = kwargs["input_ids"]
        last = output.logits[:, -1, :]
        for row in range(ids.shape[0]):
            seen[" ".join(map(str, ids[row].tolist()))] = f32(last[row])

    return seen, model.register_forward_hook(record, with_kwargs=True)


def returned_hypotheses(out, prompt: list) -> list:
    """`generate(..., return_dict_in_generate=True)`'s sequences as generated tokens cut after the
    first EOS, with their `sequences_scores`."""
    hyps = []
    for seq, score in zip(out.sequences, out.sequences_scores):
        generated = seq[len(prompt):].tolist()
        if EOS in generated:
            generated = generated[: generated.index(EOS) + 1]
        hyps.append(dict(tokens=generated, score=float(score)))
    return hyps


def write_replay_fixture(path: str, runs: list, seen: dict, script: str) -> None:
    """Writes a replay fixture of generate() runs (the JSON the Swift beam oracles load with
    `ReplayScorer.fixture`): the runs, the logits of every scored prefix, and the versions."""
    payload = dict(vocab_size=VOCAB, runs=runs, logits=seen, generated_by=script,
                   versions=dict(torch=torch.__version__, transformers=transformers.__version__))
    with open(path, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
    print(os.path.basename(path), os.path.getsize(path), "bytes,", len(runs), "runs")


def beam_fixture(model: LlamaForCausalLM) -> dict:
    seen, handle = record_scored_prefixes(model)
    prompts = [[1, 5, 9, 14], [1, 20, 2, 11, 8, 6], [1, 7]]
    # (num_beams, length_penalty, early_stopping, repetition_penalty)
    grid = [(2, 1.0, False, 1.0), (3, 1.0, True, 1.0), (4, 1.0, "never", 1.0), (3, 0.0, False, 1.0),
            (3, 2.0, "never", 1.0), (4, -1.0, False, 1.0), (2, 2.0, True, 1.0), (4, 0.5, True, 1.0),
            (3, 1.0, False, 1.3)]
    runs = []
    for p_index, prompt in enumerate(prompts):
        for num_beams, lp, early, rep in grid:
            max_new = 7 + p_index
            with torch.no_grad():
                out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                                     do_sample=False, num_beams=num_beams, num_return_sequences=num_beams,
                                     length_penalty=lp, early_stopping=early, max_new_tokens=max_new, repetition_penalty=rep,
                                     eos_token_id=EOS, pad_token_id=EOS, use_cache=False,
                                     output_scores=True, return_dict_in_generate=True)
            hyps = returned_hypotheses(out, prompt)
            runs.append(dict(prompt=prompt, num_beams=num_beams, length_penalty=lp, repetition_penalty=rep,
                             early_stopping=str(early).lower(), max_new_tokens=max_new, eos=[EOS], hypotheses=hyps))
    handle.remove()
    return dict(vocab_size=VOCAB, runs=runs, logits=seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="Tests/Fixtures/operators")
    # The beam fixture's logits come from a matmul whose last bits vary with the CPU's vector units;
    # regenerating only the processor fixture leaves the other file's bytes alone.
    parser.add_argument("--only", choices=["logits_processors", "beam_search"], help="write one fixture only")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    model = tiny_llama()
    versions = dict(torch=torch.__version__, transformers=transformers.__version__)
    writers = [("logits_processors.json", logits_fixture), ("beam_search.json", beam_fixture)]
    for name, write in writers:
        if args.only is not None and name != args.only + ".json":
            continue
        payload = write(model)
        payload["generated_by"] = "tools/oracle/make_operator_fixtures.py"
        payload["versions"] = versions
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(payload, f, separators=(",", ":"))
        print(name, os.path.getsize(os.path.join(args.out, name)), "bytes")


if __name__ == "__main__":
    main()
