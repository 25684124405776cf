#!/usr/bin/env python3
"""Transformers oracle for diverse (group) beam search (Vijayakumar et al. 2018).

transformers 4.56 still runs group beam search inside `generate` (`num_beam_groups`,
`diversity_penalty`); later releases move it to a Hub `custom_generate` repository, which this
machine cannot reach. Run this in its own environment so the project's pinned transformers 5
stays as it is:

    python3 -m venv --system-site-packages /tmp/tf456
    /tmp/tf456/bin/pip install "transformers==4.56.2"
    /tmp/tf456/bin/python tools/oracle/make_group_beam_fixtures.py

Writes Tests/Fixtures/operators/group_beam_search.json: `generate(num_beams=, num_beam_groups=,
diversity_penalty=, …)` runs of the same tiny random-weight Llama as beam_search.json
(`make_operator_fixtures.tiny_llama`, EOS made likely so groups finish and close early), with
every returned hypothesis (generated tokens, ending with EOS when one ended it, and
`sequences_scores`) and the float32 next-token logits of every prefix the model scored. The Swift
test (GroupBeamSearchTests) drives its own search with those logits; asking for a prefix
transformers never scored is itself a failure.
"""

from __future__ import annotations

import os
import sys

import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_operator_fixtures import EOS, record_scored_prefixes, returned_hypotheses, tiny_llama, write_replay_fixture  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "operators", "group_beam_search.json")

# (num_beams, num_beam_groups, diversity_penalty, length_penalty, early_stopping, repetition_penalty)
GRID = [
    (4, 2, 0.5, 1.0, False, 1.0),
    (4, 4, 1.0, 1.0, False, 1.0),
    (6, 3, 0.8, 1.0, True, 1.0),
    (6, 2, 2.0, 2.0, "never", 1.0),
    (6, 3, 0.5, 0.0, False, 1.3),
    (8, 4, 1.5, -1.0, True, 1.0),
    (4, 2, 5.0, 1.0, "never", 1.0),
    (6, 2, 0.3, 0.5, False, 1.0),
]


def main() -> None:
    if transformers.__version__ != "4.56.2":
        sys.exit(f"needs transformers 4.56.2 (group beam search inside generate); found {transformers.__version__}")
    model = tiny_llama()
    seen, handle = record_scored_prefixes(model)
    prompts = [[1, 5, 9, 14], [1, 20, 2, 11, 8, 6], [1, 7]]
    runs = []
    for p_index, prompt in enumerate(prompts):
        for beams, groups, diversity, lp, early, rep in GRID:
            max_new = 7 + p_index
            with torch.no_grad():
                out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                                     do_sample=False, num_beams=beams, num_beam_groups=groups, diversity_penalty=diversity,
                                     num_return_sequences=beams, length_penalty=lp, early_stopping=early,
                                     max_new_tokens=max_new, repetition_penalty=rep, eos_token_id=EOS, pad_token_id=EOS,
                                     use_cache=False, output_scores=True, return_dict_in_generate=True,
                                     trust_remote_code=True)
            hyps = returned_hypotheses(out, prompt)
            runs.append(dict(prompt=prompt, num_beams=beams, num_beam_groups=groups, diversity_penalty=diversity,
                             length_penalty=lp, repetition_penalty=rep, early_stopping=str(early).lower(),
                             max_new_tokens=max_new, eos=[EOS], hypotheses=hyps))
    handle.remove()
    write_replay_fixture(OUT, runs, seen, "tools/oracle/make_group_beam_fixtures.py")


if __name__ == "__main__":
    main()
