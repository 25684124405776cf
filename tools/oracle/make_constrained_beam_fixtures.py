#!/usr/bin/env python3
"""Transformers oracle for lexically constrained beam search (`force_words_ids`).

transformers 4.56 still runs constrained beam search inside `generate` (a variant of Dynamic Beam
Allocation, Post & Vilar 2018: candidates that advance a constraint are added to the top-k ones,
and the beam is filled round-robin from banks of equal constraint progress); later releases move
it to a Hub `custom_generate` repository. Run it in its own environment:

    python3 -m venv --system-site-packages /tmp/tf456
    /tmp/tf456/bin/pip install "transformers==4.56.2"
    /tmp/tf456/bin/python tools/oracle/make_constrained_beam_fixtures.py

Writes Tests/Fixtures/operators/constrained_beam_search.json: `generate(num_beams=,
force_words_ids=, num_return_sequences=…)` runs (all beams, and 1: transformers' `finalize` adds
the beams that miss a constraint only while fewer than `num_return_sequences` met them all) of the tiny random Llama of
beam_search.json, with every returned hypothesis (generated tokens, cut after the first EOS, and
`sequences_scores`) and the float32 next-token logits of every prefix the model scored
(ConstrainedBeamSearchTests replays them).
"""

from __future__ import annotations

import os
import sys

import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_operator_fixtures import EOS, record_scored_prefixes, returned_hypotheses, tiny_llama, write_replay_fixture  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "operators", "constrained_beam_search.json")

# (num_beams, phrases, length_penalty, early_stopping)
GRID = [
    (3, [[17]], 1.0, False),
    (4, [[11, 12]], 1.0, False),
    (4, [[5], [19, 2]], 1.0, True),
    (5, [[13, 14, 15]], 0.0, False),
    (6, [[9, 9], [21]], 2.0, "never"),
    (3, [[6, 7], [8]], -1.0, True),
    (4, [[22], [16], [18]], 1.0, False),
]


def main() -> None:
    if transformers.__version__ != "4.56.2":
        sys.exit(f"needs transformers 4.56.2 (constrained beam search inside generate); found {transformers.__version__}")
    model = tiny_llama()
    seen, handle = record_scored_prefixes(model)
    prompts = [[1, 5, 9, 14], [1, 20, 2, 11, 8, 6], [1, 7]]
    runs = []
    for p_index, prompt in enumerate(prompts):
        for (beams, phrases, lp, early), keep in [(g, k) for g in GRID for k in (g[0], 1)]:
            max_new = 8 + p_index
            with torch.no_grad():
                out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                                     do_sample=False, num_beams=beams, force_words_ids=phrases, num_return_sequences=keep,
                                     length_penalty=lp, early_stopping=early, max_new_tokens=max_new, eos_token_id=EOS,
                                     pad_token_id=EOS, use_cache=False, output_scores=True, return_dict_in_generate=True,
                                     trust_remote_code=True)
            hyps = returned_hypotheses(out, prompt)
            runs.append(dict(prompt=prompt, num_beams=beams, num_return_sequences=keep, phrases=phrases, length_penalty=lp,
                             early_stopping=str(early).lower(), max_new_tokens=max_new, eos=[EOS], hypotheses=hyps))
    handle.remove()
    write_replay_fixture(OUT, runs, seen, "tools/oracle/make_constrained_beam_fixtures.py")


if __name__ == "__main__":
    main()
