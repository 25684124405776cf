#!/usr/bin/env bash
# Builds stores/demo.lmdb, the retrieval n-gram store of the demo models, from the demo training
# split (the CPython standard library files of tools/train/work/train.jsonl, made by
# tools/train/prepare_corpus.py), then replays the held-out split to show what it adds over
# prompt lookup alone. Run from the repository root after `swift build -c release`.
set -euo pipefail
cd "$(dirname "$0")/.."
DECOGRAPH=${DECOGRAPH:-.build/release/decograph}
WORK=${WORK:-tools/train/work}
TOKENIZER=models/demo-target
# Contexts seen once can never pass the store tier's default gates (at least 2 samples), so the
# static demo store drops them; a store that keeps learning online should keep them.
"$DECOGRAPH" store build --tokenizer "$TOKENIZER" --out stores/demo.lmdb --min-total 2 --compact "$WORK/train.jsonl"
"$DECOGRAPH" store stats stores/demo.lmdb --top 3
"$DECOGRAPH" store simulate stores/demo.lmdb --tokenizer "$TOKENIZER" "$WORK/heldout.jsonl"
