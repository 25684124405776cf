"""Builds the tokenizer fixtures under Tests/Fixtures/tokenizers/ with Hugging Face `tokenizers`.

No downloads: every tokenizer is trained here on local text (the CPython standard library sources
of this machine plus generated multilingual, emoji and whitespace strings), so the fixtures are
reproducible anywhere the pinned `tokenizers` version (requirements-tokenizers.txt) is installed.

Families (one directory each, tokenizer.json + tokenizer_config.json):
  gpt2     byte-level BPE, ByteLevel pre-tokenizer with the GPT-2 regex, ByteLevel decoder
  llama3   Split with the tiktoken-style regex (contractions (?i:...), \\p{N}{1,3}), ignore_merges
  qwen2    NFC normalizer, Split with Qwen2's regex (single digits), ByteLevel
  llama2   SentencePiece-style BPE: Prepend+Replace normalizer, byte_fallback <0xXX> tokens,
           fuse_unk, Replace+ByteFallback+Fuse+Strip decoders
  mistral  the llama2 model with Metaspace pre-tokenizer (prepend_scheme first), Metaspace+ByteFallback+Fuse decoders
  metaspace the llama2 model with NFKD + Replace(regex) normalizers, Digits + Metaspace(always,
           split) pre-tokenizers, Metaspace+ByteFallback+Fuse decoders, EOS suffix
  roberta  NFD normalizer, Whitespace + ByteLevel(add_prefix_space) pre-tokenizers, RobertaProcessing
  misc     NFKC+Lowercase+Strip normalizer, Whitespace/Digits/Punctuation/Split-behaviour
           pre-tokenizers, WordPiece-free BPE with unk (exercises the remaining components)

Strings (shared by all families, Tests/Fixtures/tokenizers/strings.jsonl): code lines, prose in
several scripts, emoji and ZWJ sequences, combining marks, whitespace runs, digits, every family's
special tokens inside text, and rare characters that go through byte fallback. For each family
`<family>/expected.jsonl.gz` holds one line per string: {"ids": [...], "decoded": "..."} where
"decoded" is omitted when decode(ids) equals the string itself (keeps the fixtures small).

Run:  python3 tools/oracle/make_tokenizer_fixtures.py [--count 6000] [--seed 7]
"""
import argparse
import glob
import gzip
import json
import os
import random

import tokenizers

from tokenizers import Tokenizer, AddedToken, decoders, models, normalizers, pre_tokenizers, processors, trainers, Regex

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "Tests", "Fixtures", "tokenizers")

GPT2_PATTERN = None  # ByteLevel(use_regex=True) carries the GPT-2 pattern itself
LLAMA3_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

REQUIRED = ["gpt2", "llama3", "qwen2", "llama2"]
EXTRA_FAMILY_STRINGS = 1500

# Vocabulary sizes are modest so the committed tokenizer.json files stay small.
VOCAB = 3000

SCRIPTS = {
    "cyrillic": (0x0430, 0x044F), "greek": (0x03B1, 0x03C9), "arabic": (0x0627, 0x064A),
    "devanagari": (0x0915, 0x0939), "hebrew": (0x05D0, 0x05EA), "thai": (0x0E01, 0x0E2E),
    "hangul": (0xAC00, 0xACFF), "cjk": (0x4E00, 0x4F00), "latin1": (0x00E0, 0x00FF),
    "hiragana": (0x3041, 0x3096),
}
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "❤️", "🧑🏿‍💻", "✨", "🙈", "👩‍❤️‍💋‍👨", "🤷‍♀️", "1️⃣", "🫠"]
COMBINING = ["e\u0301", "a\u0308", "n\u0303", "o\u0302\u0323", "\u1100\u1161\u11a8", "A\u030a", "i\u0307", "Å", "é"]
RARE = ["\U0001D54F", "\u2603", "\U00010348", "\uE000", "\U000F0000", "\u0F3A", "\u2028", "\u00A0", "\u3000",
        "\u200B", "\uFEFF", "\U0001F9EC", "\u0B95", "\u16A0", "\u0700", "ﬁ", "Ⅻ", "①", "ｆｕｌｌ", "㎏", "½"]
WHITESPACE = [" ", "  ", "\t", "\n", "\r\n", "\n\n", "   \n", " \t ", "\u00A0", "\u3000", "\r", "\x0b", "\x0c"]


def stdlib_files():
    files = sorted(glob.glob("/usr/lib/python3*/**/*.py", recursive=True))
    return [f for f in files if "site-packages" not in f and "dist-packages" not in f]


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def word(rng, script):
    lo, hi = SCRIPTS[script]
    return "".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 8)))


def prose(rng):
    script = rng.choice(list(SCRIPTS))
    parts = []
    for _ in range(rng.randint(1, 14)):
        parts.append(word(rng, script))
        parts.append(rng.choice([" ", " ", " ", ", ", ". ", "\n", "! ", "? ", "、", "。"]))
    return "".join(parts)


def special_tokens(family):
    return {
        "gpt2": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        "llama3": ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"],
        "qwen2": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        "llama2": ["<unk>", "<s>", "</s>"],
        "mistral": ["<unk>", "<s>", "</s>"],
        "misc": ["[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    }[family]


# Added (non-special) tokens with each flag combination, shared by all families.
EXTRA_ADDED = [
    AddedToken("<tool>", lstrip=True, rstrip=False, single_word=False, normalized=False, special=True),
    AddedToken("</tool>", lstrip=False, rstrip=True, single_word=False, normalized=False, special=True),
    AddedToken("<mark>", lstrip=True, rstrip=True, single_word=False, normalized=False, special=False),
    AddedToken("foobar", lstrip=False, rstrip=False, single_word=True, normalized=True, special=False),
    AddedToken("Hello World", lstrip=False, rstrip=False, single_word=False, normalized=True, special=False),
    AddedToken("<sep>", lstrip=False, rstrip=False, single_word=True, normalized=False, special=True),
]
ALL_SPECIAL_TEXT = sorted({t for f in ["gpt2", "llama3", "llama2", "misc"] for t in special_tokens(f)}
                          | {t.content for t in EXTRA_ADDED})


def make_strings(rng, count, code_lines):
    out = []
    kinds = ["code", "code", "code", "prose", "prose", "emoji", "combining", "whitespace", "digits",
             "special", "special", "rare", "mixed", "contraction", "bytes"]
    while len(out) < count:
        kind = rng.choice(kinds)
        if kind == "code":
            start = rng.randrange(len(code_lines))
            s = "\n".join(code_lines[start:start + rng.randint(1, 3)])
        elif kind == "prose":
            s = prose(rng)
        elif kind == "emoji":
            s = "".join(rng.choice(EMOJI + [" ", "a", "x "]) for _ in range(rng.randint(1, 10)))
        elif kind == "combining":
            s = "".join(rng.choice(COMBINING + [" ", "z", "ő"]) for _ in range(rng.randint(1, 12)))
        elif kind == "whitespace":
            s = "".join(rng.choice(WHITESPACE + ["x", "if", "'s", "1"]) for _ in range(rng.randint(1, 16)))
            s = s * rng.randint(1, 3)
        elif kind == "digits":
            s = "".join(rng.choice(["0123456789", "3.14159", " 42", "1,000,000", "٣٤٥", "１２", "x9"])
                        for _ in range(rng.randint(1, 5)))
        elif kind == "special":
            pieces = []
            for _ in range(rng.randint(1, 6)):
                pieces.append(rng.choice(ALL_SPECIAL_TEXT + ["word", " ", "  ", "\n", "a", "Hello World", "foobarx", " foobar "]))
            s = "".join(pieces)
        elif kind == "rare":
            s = "".join(rng.choice(RARE + [" ", "a", "ab"]) for _ in range(rng.randint(1, 8)))
        elif kind == "contraction":
            s = "".join(rng.choice(["'s", "'S", "'t", "'RE", "'ve", "'M", "'ll", "'D", "'x", " it", "don", "'", "''", "ſ", "'ſ"])
                        for _ in range(rng.randint(1, 8)))
        elif kind == "bytes":
            # Characters no tokenizer saw in training: forces byte fallback / multi-byte byte-level symbols.
            s = "".join(chr(rng.choice([rng.randint(0x80, 0x7FF), rng.randint(0x800, 0xD7FF),
                                         rng.randint(0xE000, 0xFFFD), rng.randint(0x10000, 0x10FFFF)]))
                        for _ in range(rng.randint(1, 6)))
            s = s.encode("utf-8", "replace").decode("utf-8")
        else:
            s = prose(rng) + " " + rng.choice(code_lines) + rng.choice(EMOJI) + rng.choice(WHITESPACE)
        if len(s) > 240:
            s = s[:240]
        out.append(s)
    out[0:0] = ["", " ", "a", "\n", "<s>", " <s> ", "<|endoftext|>", "Hello World", "hello world", "foobar", "foobar foobar"]
    return out


def training_texts(rng, files):
    texts = [read(f) for f in files[:400]]
    for _ in range(3000):
        texts.append(prose(rng))
    for _ in range(300):
        texts.append("".join(rng.choice(EMOJI + COMBINING + WHITESPACE) for _ in range(20)))
    return texts


def train_bytelevel(texts, family):
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False, ignore_merges=(family == "llama3")))
    if family == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    elif family == "roberta":
        tok.normalizer = normalizers.NFD()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Whitespace(), pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False)])
    else:
        pattern = LLAMA3_PATTERN if family == "llama3" else QWEN2_PATTERN
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    if family == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.decoder = decoders.ByteLevel()
    specials = special_tokens("gpt2" if family == "roberta" else family)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok.add_tokens(EXTRA_ADDED)
    if family == "gpt2":
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        config = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_bos_token": False}
    elif family == "roberta":
        tok.post_processor = processors.RobertaProcessing(sep=("<|im_end|>", tok.token_to_id("<|im_end|>")),
                                                          cls_token=("<|im_start|>", tok.token_to_id("<|im_start|>")))
        config = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}
    elif family == "llama3":
        bos = tok.token_to_id("<|begin_of_text|>")
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                          special_tokens=[("<|begin_of_text|>", bos)])])
        config = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>", "add_bos_token": True}
    else:
        config = {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "add_bos_token": False}
    return tok, config


def with_byte_tokens(tok, specials):
    """The BPE tokenizer with SentencePiece's 256 byte tokens `<0x00>`…`<0xFF>` in the model
    vocabulary right after the first ``specials`` ids, as SentencePiece keeps them."""
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    ordered = sorted(vocab.items(), key=lambda kv: kv[1])
    new = {}
    for k, _ in ordered[:specials]:
        new[k] = len(new)
    for b in range(256):
        new[f"<0x{b:02X}>"] = len(new)
    for k, _ in ordered[specials:]:
        if k not in new:
            new[k] = len(new)
    data["model"]["vocab"] = new
    for t in data["added_tokens"]:
        t["id"] = new[t["content"]]
    return Tokenizer.from_str(json.dumps(data))


def train_sentencepiece(texts, family):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=["<unk>", "<s>", "</s>"],
                                  limit_alphabet=300, show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok = with_byte_tokens(tok, 3)
    if family == "metaspace":
        tok.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.Replace(Regex(r"\s{2,}"), " ")])
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=False),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)])
        tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True),
                                         decoders.ByteFallback(), decoders.Fuse()])
        # (A Strip decoder with right > 0 panics in tokenizers 0.23.3 when decoding to an empty
        # text — an index underflow — so the right-strip case is not in the fixtures.)
    elif family == "llama2":
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(content=" ", left=1, right=0)])
    else:
        tok.normalizer = None
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
        tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False),
                                         decoders.ByteFallback(), decoders.Fuse()])
    tok.add_tokens(EXTRA_ADDED)
    if family == "metaspace":
        tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                           special_tokens=[("</s>", 2)])
        config = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": False}
        return tok, config
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    config = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True}
    return tok, config


def train_misc(texts):
    tok = Tokenizer(models.BPE(unk_token="[UNK]", fuse_unk=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), normalizers.Strip(left=True, right=True)])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.Punctuation(behavior="isolated"),
        pre_tokenizers.Split("=", behavior="merged_with_previous"),
        pre_tokenizers.Split(Regex(r"[aeiou]{2,}"), behavior="merged_with_next"),
        pre_tokenizers.Split("_", behavior="removed"),
        pre_tokenizers.Split(Regex(r"\d"), behavior="contiguous", invert=True),
    ])
    specials = special_tokens("misc")
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=specials, limit_alphabet=400, show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok.add_tokens(EXTRA_ADDED)
    tok.decoder = decoders.Sequence([decoders.Replace("a", "a"), decoders.Fuse()])
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
    config = {"bos_token": "[CLS]", "eos_token": "[SEP]", "pad_token": "[MASK]"}
    return tok, config


def write_gz(path, text):
    """gzip with a zero timestamp and no file name, so reruns give identical bytes."""
    with open(path, "wb") as f:
        f.write(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def write_family(tok, config, d, strings, strings_file=None, legacy_merges=False):
    """Writes one family directory: tokenizer.json, tokenizer_config.json, expected.jsonl.gz with
    what `tokenizers` produced for each of ``strings``, and meta.json. ``strings_file`` names the
    shared strings file in the parent directory when it is not strings.jsonl.gz. With
    ``legacy_merges`` the BPE merges are written as "left right" strings (tokenizers < 0.20 wrote
    them so, and many published tokenizer.json files still have them; `save` writes arrays)."""
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "tokenizer.json")
    tok.save(path, pretty=False)
    if legacy_merges:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        data["model"]["merges"] = [" ".join(m) for m in data["model"]["merges"]]
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        assert Tokenizer.from_file(path).encode("x y").ids == tok.encode("x y").ids
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)
    rows, prefix, suffix = [], None, None
    for i, s in enumerate(strings):
        plain = tok.encode(s, add_special_tokens=False).ids
        full = tok.encode(s, add_special_tokens=True).ids
        # The post-processor adds the same tokens around every single sequence; stored once in meta.json.
        if prefix is None:
            probe_plain = tok.encode("a", add_special_tokens=False).ids
            probe = tok.encode("a", add_special_tokens=True).ids
            n = next(k for k in range(len(probe)) if probe[k:k + len(probe_plain)] == probe_plain)
            prefix, suffix = probe[:n], probe[n + len(probe_plain):]
        assert full == prefix + plain + suffix, (d, s)
        row = {"ids": plain}
        decoded = tok.decode(plain, skip_special_tokens=False)
        if decoded != s:
            row["decoded"] = decoded
        skipped = tok.decode(full, skip_special_tokens=True)
        if skipped != decoded:
            row["skipped"] = skipped
        if i % 25 == 0:
            row["full_decoded"] = tok.decode(full, skip_special_tokens=False)
        rows.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    write_gz(os.path.join(d, "expected.jsonl.gz"), "\n".join(rows) + "\n")
    meta = {"special_prefix": prefix, "special_suffix": suffix, "strings": len(strings),
            "tokenizers_version": tokenizers.__version__}
    if strings_file is not None:
        meta["strings_file"] = strings_file
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=5200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--families", default="gpt2,llama3,qwen2,llama2,mistral,misc,metaspace,roberta",
                    help="comma-separated families to (re)build; the strings are always rewritten (deterministic)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    files = stdlib_files()
    rng.shuffle(files)
    texts = training_texts(rng, files)
    code_lines = [l for f in files[400:800] for l in read(f).splitlines() if l.strip()]
    strings = make_strings(rng, args.count, code_lines)
    os.makedirs(OUT, exist_ok=True)
    write_gz(os.path.join(OUT, "strings.jsonl.gz"), "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in strings))
    for family in args.families.split(","):
        if family in ("gpt2", "llama3", "qwen2", "roberta"):
            tok, config = train_bytelevel(texts, family)
        elif family in ("llama2", "mistral", "metaspace"):
            tok, config = train_sentencepiece(texts, family)
        else:
            tok, config = train_misc(texts)
        # The extra families (not among the four required) cover a prefix of the strings to keep fixtures small.
        count = len(strings) if family in REQUIRED else EXTRA_FAMILY_STRINGS
        write_family(tok, config, os.path.join(OUT, family), strings[:count])
        print(family, tok.get_vocab_size(), "ok")


if __name__ == "__main__":
    main()
