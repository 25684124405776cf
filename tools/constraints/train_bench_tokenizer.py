#!/usr/bin/env python3
"""Train the byte-level BPE tokenizer that `decograph bench constraints` masks against.

The issue asks for mask timings on a >= 100k-token byte-level BPE vocabulary. Real tokenizers of that
size (Llama 3, GPT-4o) are not shipped here, so we train one with HF `tokenizers` on local text: the
CPython standard library sources plus the text files under /usr/share/doc. The result is not
committed (it is ~10 MB); run this once:

    python3 tools/constraints/train_bench_tokenizer.py --out .build/bench-tokenizer --vocab 100352

It writes OUT/tokenizer.json (HF format, ByteLevel pre-tokenizer and decoder, `<|endoftext|>` special).
"""
import argparse
import glob
import gzip
import os

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers


def corpus(limit_bytes):
    """Yields local text files' contents until `limit_bytes` have been read."""
    seen = 0
    paths = sorted(glob.glob("/usr/lib/python3*/**/*.py", recursive=True))
    paths += sorted(glob.glob("/usr/share/doc/**/*", recursive=True))
    for path in paths:
        if seen >= limit_bytes or not os.path.isfile(path):
            continue
        try:
            if path.endswith(".gz"):
                with gzip.open(path, "rb") as f:
                    data = f.read()
            else:
                with open(path, "rb") as f:
                    data = f.read()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
            continue
        seen += len(data)
        yield text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--vocab", type=int, default=100352)
    parser.add_argument("--limit-mb", type=int, default=120)
    args = parser.parse_args()
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab,
        min_frequency=2,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(args.limit_mb << 20), trainer=trainer)
    os.makedirs(args.out, exist_ok=True)
    tokenizer.save(os.path.join(args.out, "tokenizer.json"))
    print("vocab size", tokenizer.get_vocab_size())


if __name__ == "__main__":
    main()
