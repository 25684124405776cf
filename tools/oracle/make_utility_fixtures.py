#!/usr/bin/env python3
"""sacrebleu oracle for the MBR utilities of `rerank` (SentenceUtility): sentence-level chrF and BLEU.

    python3 -m venv --system-site-packages /tmp/tf456 && /tmp/tf456/bin/pip install sacrebleu==2.6.0
    /tmp/tf456/bin/python tools/oracle/make_utility_fixtures.py

Writes Tests/Fixtures/operators/sentence_utility.json: for every ordered pair of the texts below,
`sacrebleu.sentence_chrf(h, [r]).score` and `sacrebleu.sentence_bleu(h, [r]).score` (defaults:
chrF2 with character order 6; BLEU with the 13a tokenizer, exp smoothing, effective order).
The texts are written for this file: punctuation, numbers with separators, dashes after digits,
HTML entities, non-ASCII letters, code, repeated words and the empty string.
"""
import json
import os

import sacrebleu

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "operators", "sentence_utility.json")

TEXTS = [
    "The cat sat on the mat.",
    "The cat sat on a mat!",
    "A dog slept on the mat, quietly.",
    "Prices rose 3.5% to $1,200 in 2024-25.",
    "Prices rose 3,5 % to 1.200 dollars in 2024 - 25.",
    "She said &quot;yes&quot; &amp; left <early>.",
    "Crème brûlée, naïve café — déjà vu.",
    "def add(a, b):\n    return a + b",
    "def add(x, y): return x+y",
    "the the the the the",
    "the",
    "東京は大きい都市です。",
    "",
    "   spaced   out\ttext  ",
]


def main():
    pairs = []
    for h in TEXTS:
        for r in TEXTS:
            pairs.append(dict(hypothesis=h, reference=r,
                              chrf=sacrebleu.sentence_chrf(h, [r]).score,
                              bleu=sacrebleu.sentence_bleu(h, [r]).score))
    with open(OUT, "w") as f:
        json.dump(dict(sacrebleu=sacrebleu.__version__, generated_by="tools/oracle/make_utility_fixtures.py", pairs=pairs),
                  f, indent=0, ensure_ascii=False)
        f.write("\n")
    print(len(pairs), "pairs")


if __name__ == "__main__":
    main()
