"""Builds the multilingual tokenizer fixtures under Tests/Fixtures/tokenizers/ with Hugging Face `tokenizers`.

The families of make_tokenizer_fixtures.py are trained mostly on code and random letters; these
three are trained on text in scripts whose user-perceived characters (grapheme clusters) span
several Unicode scalars — Indic consonant + virama clusters (Tamil, Devanagari, Bengali), Thai
with above/below vowels and tone marks, Arabic with harakat, Hangul syllables and conjoining
jamo, NFD Latin with combining accents, emoji ZWJ sequences — plus CJK. Their vocabularies and
merges therefore hold strings such as "ன ்" (a merge whose right side starts with a combining
mark, so the separating space and the mark form one grapheme cluster) and both the NFC and NFD
spellings of the same letter, which a tokenizer must keep apart (they are different tokens).

Families (one directory each, same layout and writer as make_tokenizer_fixtures.py):
  multi_bytelevel  byte-level BPE, ByteLevel pre-tokenizer (GPT-2 regex) and decoder; merges
                   saved as JSON arrays (the format of tokenizers >= 0.20)
  multi_spbpe      SentencePiece-style BPE like Llama-2/Mistral: Metaspace(prepend first, no
                   split), byte_fallback with <0x00>..<0xFF>, fuse_unk, Metaspace+ByteFallback+Fuse
                   decoders, BOS template; merges saved as legacy "left right" strings
  multi_unigram    Unigram (trained by UnigramTrainer) with byte_fallback and <0xXX> tokens,
                   Metaspace(prepend always, split) pre-tokenizer and decoders, EOS template

Text sources, all local (no downloads beyond PyPI):
  - Faker (PyPI `faker`) locales ta_IN, hi_IN, bn_BD, th_TH, ar_AA, fa_IR, he_IL, ko_KR, zh_CN,
    ja_JP, vi_VN, ru_RU, el_GR, en_US: names, addresses, cities, companies and locale text
  - /usr/share/i18n/locales (Debian `locales`): every <Uxxxx>-spelled string of every locale
    file (day and month names, yes/no words, ... in a few hundred languages), when present
  - words built here from Unicode blocks with Python's `unicodedata` (syllables with realistic
    structure per script: consonant+virama+consonant clusters, base+combining marks, Hangul
    L+V(+T) jamo, emoji ZWJ/skin-tone/flag/keycap sequences), mixed with ASCII
Probe strings (strings-multilingual.jsonl.gz, shared by the three families) come from the same
sources with a different seed, plus adversarial cases: lone combining marks and viramas, ZWJ at
string start/end, variation selectors, CRLF, control characters (no NUL), very long words, mixed
scripts without spaces, NFC/NFD twins, literal "<0x41>" and "▁" text.

Run:  python3 tools/oracle/make_multilingual_tokenizer_fixtures.py [--count 5200] [--seed 11]
"""
import argparse
import glob
import json
import os
import random
import re
import unicodedata

from faker import Faker
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from make_tokenizer_fixtures import OUT, write_family, write_gz, with_byte_tokens

STRINGS_FILE = "strings-multilingual.jsonl.gz"
FAMILIES = ["multi_bytelevel", "multi_spbpe", "multi_unigram"]
# A larger vocabulary than the code families: a dozen scripts share it, and merges inside
# Indic/Thai/Hangul clusters are what the fixtures are for. Still ~200 KB per tokenizer.json.
VOCAB = 4000
# Characters kept as initial symbols by the SentencePiece-style trainers; the rest of the ~4,000
# distinct characters (mostly CJK and rare letters) go through byte fallback, which the
# fixtures must exercise.
LIMIT_ALPHABET = 600
FAKER_LOCALES = ["ta_IN", "hi_IN", "bn_BD", "th_TH", "ar_AA", "fa_IR", "he_IL", "ko_KR", "zh_CN", "ja_JP",
                 "vi_VN", "ru_RU", "el_GR", "en_US"]
# Longest probe string of the ordinary kinds, in scalars (the "long" kind is far longer on purpose).
MAX_PROBE = 300


def letters(lo, hi, categories):
    return [chr(c) for c in range(lo, hi + 1) if unicodedata.category(chr(c)) in categories]


# Per script: consonants (or base letters), dependent signs, and the virama that joins
# consonants into a cluster (None where the script has none).
INDIC = {
    "tamil": (letters(0x0B95, 0x0BB9, {"Lo"}), letters(0x0BBE, 0x0BCC, {"Mc", "Mn"}), "\u0BCD"),
    "devanagari": (letters(0x0915, 0x0939, {"Lo"}), letters(0x093E, 0x094C, {"Mc", "Mn"}) + ["\u0902", "\u093C"], "\u094D"),
    "bengali": (letters(0x0995, 0x09B9, {"Lo"}), letters(0x09BE, 0x09CC, {"Mc", "Mn"}) + ["\u0981", "\u09BC"], "\u09CD"),
}
THAI_CONSONANTS = letters(0x0E01, 0x0E2E, {"Lo"})
THAI_ABOVE = ["\u0E31", "\u0E34", "\u0E35", "\u0E36", "\u0E37", "\u0E38", "\u0E39"]
THAI_TONES = ["\u0E48", "\u0E49", "\u0E4A", "\u0E4B"]
THAI_LEAD = ["\u0E40", "\u0E41", "\u0E42", "\u0E43", "\u0E44"]
ARABIC_LETTERS = letters(0x0621, 0x064A, {"Lo"})
ARABIC_HARAKAT = [chr(c) for c in range(0x064B, 0x0653)]
LATIN_BASE = "aeiouycnszAEIOUCNS"
COMBINING = [chr(c) for c in range(0x0300, 0x0370) if unicodedata.category(chr(c)) == "Mn"]
EMOJI_PEOPLE = ["\U0001F468", "\U0001F469", "\U0001F9D1", "\U0001F466", "\U0001F467"]
SKIN = [chr(c) for c in range(0x1F3FB, 0x1F400)]
EMOJI_OBJECTS = ["\U0001F4BB", "\U0001F373", "\U0001F680", "\U0001F3A8", "\u2695\uFE0F", "\U0001F52C", "\u2764\uFE0F"]
REGIONAL = [chr(c) for c in range(0x1F1E6, 0x1F200)]


def indic_word(rng, script):
    consonants, signs, virama = INDIC[script]
    out = []
    for _ in range(rng.randint(1, 4)):
        c = rng.choice(consonants)
        r = rng.random()
        if r < 0.3:
            out.append(c + virama + rng.choice(consonants) + (rng.choice(signs) if rng.random() < 0.6 else ""))
        elif r < 0.75:
            out.append(c + rng.choice(signs))
        elif r < 0.85:
            out.append(c + virama)
        else:
            out.append(c)
    return "".join(out)


def thai_word(rng):
    out = []
    for _ in range(rng.randint(1, 4)):
        s = rng.choice(THAI_LEAD) if rng.random() < 0.2 else ""
        s += rng.choice(THAI_CONSONANTS)
        if rng.random() < 0.5:
            s += rng.choice(THAI_ABOVE)
        if rng.random() < 0.4:
            s += rng.choice(THAI_TONES)
        out.append(s)
    return "".join(out)


def arabic_word(rng):
    return "".join(rng.choice(ARABIC_LETTERS) + (rng.choice(ARABIC_HARAKAT) if rng.random() < 0.5 else "")
                   for _ in range(rng.randint(2, 7)))


def hangul_word(rng):
    out = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.7:
            out.append(chr(rng.randint(0xAC00, 0xD7A3)))
        else:  # conjoining jamo: leading consonant, vowel, optional trailing consonant
            out.append(chr(rng.randint(0x1100, 0x1112)) + chr(rng.randint(0x1161, 0x1175))
                       + (chr(rng.randint(0x11A8, 0x11C2)) if rng.random() < 0.5 else ""))
    return "".join(out)


def latin_nfd_word(rng):
    w = "".join(rng.choice(LATIN_BASE) + "".join(rng.choice(COMBINING) for _ in range(rng.choice([0, 0, 1, 1, 2])))
                for _ in range(rng.randint(1, 7)))
    # Half NFC, half NFD: both spellings must reach the vocabulary.
    return unicodedata.normalize("NFC", w) if rng.random() < 0.5 else unicodedata.normalize("NFD", w)


def cjk_word(rng):
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(rng.randint(1, 4)))


def emoji(rng):
    r = rng.random()
    if r < 0.35:  # person (skin tone) ZWJ object
        return rng.choice(EMOJI_PEOPLE) + (rng.choice(SKIN) if rng.random() < 0.5 else "") + "\u200D" + rng.choice(EMOJI_OBJECTS)
    if r < 0.55:  # family
        return "\u200D".join(rng.choice(EMOJI_PEOPLE) for _ in range(rng.randint(2, 4)))
    if r < 0.75:
        return rng.choice(REGIONAL) + rng.choice(REGIONAL)
    if r < 0.85:
        return rng.choice("0123456789#*") + "\uFE0F\u20E3"
    return rng.choice(["\u2764\uFE0F", "\u263A\uFE0E", "\U0001F3F3\uFE0F\u200D\U0001F308", "\U0001F44D\U0001F3FD"])


GENERATED = {
    "tamil": lambda rng: indic_word(rng, "tamil"), "devanagari": lambda rng: indic_word(rng, "devanagari"),
    "bengali": lambda rng: indic_word(rng, "bengali"), "thai": thai_word, "arabic": arabic_word,
    "hangul": hangul_word, "latin_nfd": latin_nfd_word, "cjk": cjk_word, "emoji": emoji,
}


def locale_strings():
    """Every string spelled with <Uxxxx> escapes in the glibc locale sources, decoded."""
    out = []
    escape = re.compile(r"<U([0-9A-Fa-f]{4,6})>")
    for path in sorted(glob.glob("/usr/share/i18n/locales/*")):
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except (IsADirectoryError, OSError):
            continue
        for quoted in re.findall(r'"((?:<U[0-9A-Fa-f]{4,6}>)+)"', text):
            s = escape.sub(lambda m: chr(int(m.group(1), 16)), quoted)
            if any(ord(c) > 0x7F for c in s) and s.isprintable():
                out.append(s)
    return out


class Sources:
    """Sentences and words from Faker, the locale files and the generators above."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.fakers = []
        for i, loc in enumerate(FAKER_LOCALES):
            f = Faker(loc)
            f.seed_instance(seed * 100 + i)
            self.fakers.append(f)
        self.locale = locale_strings()

    def faker_text(self):
        f = self.rng.choice(self.fakers)
        kind = self.rng.choice(["name", "address", "city", "company", "text", "text"])
        if kind == "text":
            return f.text(max_nb_chars=self.rng.choice([60, 120, 200]))
        return str(getattr(f, kind)())

    def generated_sentence(self):
        script = self.rng.choice(list(GENERATED))
        words = [GENERATED[script](self.rng) for _ in range(self.rng.randint(1, 10))]
        sep = "" if script in ("thai", "cjk") and self.rng.random() < 0.7 else " "
        return sep.join(words) + self.rng.choice(["", ".", "।", "。", "؟", "!", "\n"])

    def locale_line(self):
        return " ".join(self.rng.choice(self.locale) for _ in range(self.rng.randint(1, 5))) if self.locale else self.faker_text()

    def ascii_line(self):
        return self.rng.choice(["def f(x):\n    return x + 1", "Hello, world!", "The quick brown fox jumps over the lazy dog.",
                                "for (int i = 0; i < n; ++i) {", "x = 3.14159 * r ** 2", "user@example.com"])

    def line(self):
        r = self.rng.random()
        if r < 0.4:
            return self.faker_text()
        if r < 0.75:
            return self.generated_sentence()
        if r < 0.9:
            return self.locale_line()
        return self.ascii_line()


def training_texts(seed, lines):
    src = Sources(seed)
    texts = [src.line() for _ in range(lines)]
    # Every locale string once, so the real words of many languages reach the vocabulary.
    texts += src.locale
    return texts


ADVERSARIAL_PIECES = [
    "\u0301", "\u0BCD", "\u094D", "\u09CD", "\u0E48", "\u064B", "\u20E3",   # lone combining marks and viramas
    "\u200D", "\u200C", "\uFE0F", "\uFE0E", "\U000E0100",                  # ZWJ, ZWNJ, variation selectors
    "\r\n", "\r", "\n", "\t", "\x01", "\x1b", "\x7f", "\x85", "\u2028",      # controls (no NUL)
    "\u00A0", "\u3000", "\u202F", " ", "  ",
    "<0x41>", "<0xE0>", "▁", "▁▁", "<unk>", "<s>",                          # token-looking text
    "e\u0301", "\u00E9", "A\u030A", "\u212B", "\u00C5", "\u1100\u1161", "\uAC00",  # NFC/NFD/canonical twins
]


def probe_strings(seed, count):
    src = Sources(seed)
    rng = src.rng
    out = []
    kinds = ["line", "line", "line", "words", "adversarial", "mixed", "twins"]
    while len(out) < count:
        kind = rng.choice(kinds)
        if kind == "line":
            s = src.line()
        elif kind == "words":
            s = " ".join(GENERATED[rng.choice(list(GENERATED))](rng) for _ in range(rng.randint(1, 6)))
        elif kind == "adversarial":
            parts = [rng.choice(ADVERSARIAL_PIECES + [src.generated_sentence()]) for _ in range(rng.randint(1, 8))]
            s = "".join(parts)
        elif kind == "mixed":  # scripts run together without spaces
            s = "".join(GENERATED[rng.choice(list(GENERATED))](rng) for _ in range(rng.randint(2, 8)))
        else:
            w = latin_nfd_word(rng)
            s = unicodedata.normalize("NFC", w) + " " + unicodedata.normalize("NFD", w)
        out.append(s[:MAX_PROBE])
    # Very long words: one whitespace-free run of several thousand scalars per script, and the
    # fixed edge cases every family must get right.
    for script in ["tamil", "thai", "hangul", "latin_nfd", "emoji", "cjk"]:
        out.append("".join(GENERATED[script](rng) for _ in range(400)))
    out[0:0] = ["", " ", "\u200Dx", "x\u200D", "\u200D", "\u0BCD", "\u0301abc", "ன்", "ன ்", "a\r\nb", "\uFE0F",
                "\U0001F468\u200D\U0001F469\u200D\U0001F467", "\u212B\u00C5A\u030A", "<0xE0><0x41>"]
    return out


def train_bytelevel(texts):
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok, {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_bos_token": False}


def train_spbpe(texts):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=["<unk>", "<s>", "</s>"],
                                  limit_alphabet=LIMIT_ALPHABET, show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok = with_byte_tokens(tok, 3)
    tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False),
                                     decoders.ByteFallback(), decoders.Fuse()])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
    return tok, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True}


def common_characters_only(texts, keep):
    """The texts without the characters outside the ``keep`` most frequent ones: UnigramTrainer
    puts every character it sees into the vocabulary (it has no limit_alphabet), so rare CJK and
    Hangul syllables are left out of its training text and reach byte fallback when probed."""
    counts = {}
    for t in texts:
        for c in t:
            counts[c] = counts.get(c, 0) + 1
    kept = {c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]}
    return ["".join(c for c in t if c in kept) for t in texts]


def train_unigram(texts):
    texts = common_characters_only(texts, LIMIT_ALPHABET)
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.UnigramTrainer(vocab_size=VOCAB, special_tokens=["<unk>", "<s>", "</s>"], unk_token="<unk>",
                                      show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    # SentencePiece byte tokens (score 0, as SentencePiece gives BYTE pieces) after the specials,
    # and byte_fallback on: characters outside the vocabulary become their UTF-8 bytes.
    data = json.loads(tok.to_str())
    model = data["model"]
    vocab = model["vocab"]
    unk = vocab[model["unk_id"]][0]
    specials, rest = vocab[:3], [v for v in vocab[3:] if not re.fullmatch(r"<0x[0-9A-F]{2}>", v[0])]
    model["vocab"] = specials + [[f"<0x{b:02X}>", 0.0] for b in range(256)] + rest
    model["unk_id"] = [v[0] for v in model["vocab"]].index(unk)
    model["byte_fallback"] = True
    ids = {v[0]: i for i, v in enumerate(model["vocab"])}
    for t in data["added_tokens"]:
        t["id"] = ids[t["content"]]
    tok = Tokenizer.from_str(json.dumps(data, ensure_ascii=False))
    tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True),
                                     decoders.ByteFallback(), decoders.Fuse()])
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", ids["</s>"])])
    return tok, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": False}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=5200)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--training-lines", type=int, default=40000)
    ap.add_argument("--families", default=",".join(FAMILIES))
    args = ap.parse_args()
    texts = training_texts(args.seed, args.training_lines)
    strings = probe_strings(args.seed + 1, args.count)
    os.makedirs(OUT, exist_ok=True)
    write_gz(os.path.join(OUT, STRINGS_FILE), "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in strings))
    trainers_by_family = {"multi_bytelevel": train_bytelevel, "multi_spbpe": train_spbpe, "multi_unigram": train_unigram}
    for family in args.families.split(","):
        tok, config = trainers_by_family[family](texts)
        # Llama-2/Mistral tokenizer.json files (saved before tokenizers 0.20) spell merges as
        # "left right"; that is the form whose split must not be by grapheme cluster.
        write_family(tok, config, os.path.join(OUT, family), strings, strings_file=STRINGS_FILE,
                     legacy_merges=(family == "multi_spbpe"))
        print(family, tok.get_vocab_size(), "ok", flush=True)


if __name__ == "__main__":
    main()
