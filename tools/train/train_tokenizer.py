"""Step 2: train the byte-level BPE tokenizer (vocab 4096) on the training split.

Trains a GPT-2 style byte-level BPE (``tokenizers``; ByteLevel pre-tokenizer
without prefix space, ByteLevel decoder) on ``work/train.jsonl`` only, with the
special tokens ``<|bos|>`` (id 0), ``<|eos|>`` (id 1) and ``<|pad|>`` (id 2).
The post-processor prepends ``<|bos|>`` to every encoded sequence, matching
``add_bos_token: true`` in ``tokenizer_config.json``.

Writes ``tokenizer.json`` and ``tokenizer_config.json`` into both model
directories (default ``models/demo-target`` and ``models/demo-draft``).

Run:  python tools/train/train_tokenizer.py
"""
import argparse
import json
import os

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VOCAB_SIZE = 4096
BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"


def iter_texts(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)["text"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--out", nargs="+", default=[os.path.join(REPO, "models", "demo-target"),
                                                  os.path.join(REPO, "models", "demo-draft")])
    args = ap.parse_args()

    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=[BOS, EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(iter_texts(os.path.join(args.work, "train.jsonl")), trainer=trainer)
    bos_id, eos_id, pad_id = (tok.token_to_id(t) for t in (BOS, EOS, PAD))
    assert (bos_id, eos_id, pad_id) == (0, 1, 2), (bos_id, eos_id, pad_id)
    assert tok.get_vocab_size() == VOCAB_SIZE, tok.get_vocab_size()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)])

    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS,
        "eos_token": EOS,
        "pad_token": PAD,
        "unk_token": None,
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 256,
    }
    for d in args.out:
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        with open(os.path.join(d, "special_tokens_map.json"), "w") as f:
            json.dump({"bos_token": BOS, "eos_token": EOS, "pad_token": PAD}, f, indent=2)
            f.write("\n")
        print("wrote", d)
    sample = "def add(a, b):\n    return a + b\n"
    enc = tok.encode(sample)
    print(len(enc.ids), enc.tokens)
    assert tok.decode(enc.ids) == sample


if __name__ == "__main__":
    main()
