#!/usr/bin/env python3
"""Writes tokenizer-only GGUF fixtures and llama.cpp's token ids for them.

Each fixture holds just the `tokenizer.ggml.*` metadata (plus the few `llama.*` hyper-parameters
llama.cpp reads before the vocabulary), converted from the tokenizer.json fixtures under
Tests/Fixtures/tokenizers the way llama.cpp's convert_hf_to_gguf.py writes them:

- `gpt2` (byte-level BPE): tokens by id, merges as "left right", token_type 3 (control) for
  special added tokens and 4 (user-defined) for the others, one file per pre-tokenizer name
  (`tokenizer.ggml.pre`), since the name alone selects llama.cpp's splitting rules;
- `llama` (SentencePiece): the llama2 fixture's pieces with scores (a merged piece scores minus
  the rank of the first merge making it, as SentencePiece's BPE trainer orders pieces; other
  pieces 0), `<0xXX>` byte tokens of type 6, `<unk>` type 2, one file with and one without
  `add_space_prefix`.

Expected ids come from llama.cpp: the `llama_tokenize(vocab, text, add_special, parse_special=true)`
call its `llama-tokenize` tool makes, run by a small driver compiled here against the libllama
that tools/llama/build.sh builds (one vocabulary load for all strings), without add_special for a
sample of the shared fixture strings and with it for a few, to check BOS/EOS. Output: Tests/Fixtures/tokenizers/gguf/*.gguf and
expected.jsonl.gz, one line per string: {"text", "special", "ids": {file: ids}}.

    python3 tools/oracle/make_gguf_tokenizer_fixtures.py [--llama-bin DIR] [--per-file 500]
"""
import argparse
import gzip
import json
import os
import random
import subprocess
from pathlib import Path

import gguf

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures" / "tokenizers"
OUT = FIXTURES / "gguf"

# (file stem, source fixture, pre-tokenizer name): one per llama.cpp recipe and the names the
# issue lists; llama-bpe reads the llama3 fixture (its special tokens), qwen2/stablelm2 the qwen2 one.
BPE_CASES = [
    ("default", "gpt2", "default"), ("gpt-2", "gpt2", "gpt-2"), ("olmo", "gpt2", "olmo"),
    ("llama-bpe", "llama3", "llama-bpe"), ("dbrx", "llama3", "dbrx"), ("smaug-bpe", "llama3", "smaug-bpe"),
    ("qwen2", "qwen2", "qwen2"), ("stablelm2", "qwen2", "stablelm2"),
    ("smollm", "gpt2", "smollm"), ("starcoder", "gpt2", "starcoder"), ("refact", "gpt2", "refact"),
    ("command-r", "gpt2", "command-r"), ("falcon", "gpt2", "falcon"),
    ("deepseek-llm", "gpt2", "deepseek-llm"), ("deepseek-coder", "gpt2", "deepseek-coder"),
    ("deepseek-v3", "gpt2", "deepseek-v3"), ("gpt-4o", "gpt2", "gpt-4o"), ("seed-coder", "gpt2", "seed-coder"),
    ("bloom", "gpt2", "bloom"), ("viking", "gpt2", "viking"),
]
SPM_CASES = [("llama-spm", True), ("llama-spm-no-prefix", False)]
BOS_CASES = ["", "Hello World", " hello <s> world</s>"]


def write_header(w: gguf.GGUFWriter):
    # llama.cpp reads the architecture's hyper-parameters before the vocabulary, even vocab-only.
    w.add_context_length(64)
    w.add_embedding_length(8)
    w.add_block_count(1)
    w.add_feed_forward_length(16)
    w.add_head_count(1)
    w.add_layer_norm_rms_eps(1e-5)


def finish(w: gguf.GGUFWriter):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def load(name):
    t = json.loads((FIXTURES / name / "tokenizer.json").read_text())
    config = json.loads((FIXTURES / name / "tokenizer_config.json").read_text())
    vocab = dict(t["model"]["vocab"])
    for a in t["added_tokens"]:
        vocab[a["content"]] = a["id"]
    tokens = [None] * (max(vocab.values()) + 1)
    for tok, i in vocab.items():
        tokens[i] = tok
    types = [gguf.TokenType.NORMAL] * len(tokens)
    for a in t["added_tokens"]:
        types[a["id"]] = gguf.TokenType.CONTROL if a["special"] else gguf.TokenType.USER_DEFINED
    merges = [m if isinstance(m, str) else " ".join(m) for m in t["model"].get("merges", [])]
    ids = {k: vocab[config[k]] for k in ("bos_token", "eos_token", "pad_token", "unk_token") if config.get(k)}
    return tokens, types, merges, ids, config


def write_bpe(stem, source, pre):
    tokens, types, merges, ids, config = load(source)
    w = gguf.GGUFWriter(str(OUT / f"{stem}.gguf"), "llama")
    write_header(w)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    if "bos_token" in ids:
        w.add_bos_token_id(ids["bos_token"])
    if "eos_token" in ids:
        w.add_eos_token_id(ids["eos_token"])
    if "pad_token" in ids:
        w.add_pad_token_id(ids["pad_token"])
    w.add_add_bos_token(bool(config.get("add_bos_token")))
    finish(w)


def write_spm(stem, add_space_prefix):
    tokens, types, merges, ids, _ = load("llama2")
    rank = {}
    for r, m in enumerate(merges):
        left, right = m.split(" ")
        rank.setdefault(left + right, r)
    scores = [-float(rank[t]) if t in rank else 0.0 for t in tokens]
    for i, t in enumerate(tokens):
        if len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
            types[i] = gguf.TokenType.BYTE
    types[ids["unk_token"]] = gguf.TokenType.UNKNOWN
    w = gguf.GGUFWriter(str(OUT / f"{stem}.gguf"), "llama")
    write_header(w)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(ids["bos_token"])
    w.add_eos_token_id(ids["eos_token"])
    w.add_unk_token_id(ids["unk_token"])
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(add_space_prefix)
    finish(w)


def strings(count, seed):
    """The first strings of the shared corpus (hand-written edge cases come first), then a seeded
    sample of the rest and of the multilingual corpus."""
    base = [json.loads(l) for l in gzip.open(FIXTURES / "strings.jsonl.gz", "rt", encoding="utf-8")]
    multi = [json.loads(l) for l in gzip.open(FIXTURES / "strings-multilingual.jsonl.gz", "rt", encoding="utf-8")]
    def encodable(t):
        try:
            t.encode("utf-8")
            return True
        except UnicodeEncodeError:
            return False
    base = [t for t in base if encodable(t)]
    multi = [t for t in multi if encodable(t)]
    head = base[:count // 3]
    rng = random.Random(seed)
    rest = rng.sample(base[count // 3:], count // 3) + rng.sample(multi, count - 2 * (count // 3))
    return head + rest


# The call `llama-tokenize` makes (common_tokenize → llama_tokenize with parse_special), in a
# driver that loads a vocabulary once and tokenizes many strings: one llama-tokenize process per
# string reloads the vocabulary each time (minutes for a 49k-token GGUF and 5,000 strings). It is
# compiled against the libllama that tools/llama/build.sh builds, into the same cache.
DRIVER = r"""
#include "llama.h"
#include <cstdint>
#include <cstdio>
#include <vector>
static void quiet(ggml_log_level, const char *, void *) {}
int main(int argc, char ** argv) {
    llama_log_set(quiet, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    // Records on stdin: u32 length, the UTF-8 bytes, one byte add_special; one line of ids out.
    uint32_t n;
    while (fread(&n, 4, 1, stdin) == 1) {
        std::vector<char> text(n + 1);
        if (n && fread(text.data(), 1, n, stdin) != n) return 1;
        unsigned char special;
        if (fread(&special, 1, 1, stdin) != 1) return 1;
        std::vector<llama_token> ids(n + 8);
        int k = llama_tokenize(vocab, text.data(), (int32_t) n, ids.data(), (int32_t) ids.size(), special != 0, true);
        if (k < 0) { ids.resize(-k); k = llama_tokenize(vocab, text.data(), (int32_t) n, ids.data(), (int32_t) ids.size(), special != 0, true); }
        for (int i = 0; i < k; i++) printf(i ? " %d" : "%d", ids[i]);
        printf("\n");
    }
    llama_model_free(model);
    return 0;
}
"""


def driver(llama_bin):
    """Builds (once) and returns the path of the batch tokenizer driver."""
    bin_dir = Path(llama_bin)
    root = bin_dir.parent.parent / "src"
    exe = bin_dir.parent / "gguf-tokenize-batch"
    source = bin_dir.parent / "gguf-tokenize-batch.cpp"
    current = source.read_text() if source.exists() else ""
    if not exe.exists() or current != DRIVER:
        source.write_text(DRIVER)
        subprocess.run(["g++", "-O1", "-std=c++17", str(source), "-o", str(exe), f"-I{root / 'include'}",
                        f"-I{root / 'ggml' / 'include'}", f"-L{bin_dir}", "-lllama", f"-Wl,-rpath,{bin_dir}"], check=True)
    return str(exe)


def llama_tokenize_batch(exe, path, cases):
    """llama.cpp's ids for each (text, add_special) of `cases`, parse_special on."""
    data = bytearray()
    for text, special in cases:
        b = text.encode("utf-8")
        data += len(b).to_bytes(4, "little") + b + bytes([1 if special else 0])
    out = subprocess.run([exe, str(path)], input=bytes(data), capture_output=True, check=True).stdout.decode()
    lines = out.split("\n")[:len(cases)]
    assert len(lines) == len(cases), f"{path}: {len(lines)} results for {len(cases)} strings"
    return [[int(x) for x in l.split()] for l in lines]


def llama_tokenize(binary, path, text, bos):
    """One string through the `llama-tokenize` tool itself (spot checks of the driver)."""
    args = [binary, "-m", str(path), "--stdin", "--ids", "--log-disable", "--no-escape"]
    if not bos:
        args.append("--no-bos")
    out = subprocess.run(args, input=text.encode("utf-8"), capture_output=True, check=True).stdout.decode()
    line = [l for l in out.splitlines() if l.startswith("[")][-1]
    return json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    cache = Path(os.environ.get("DECOGRAPH_CACHE", Path.home() / ".cache" / "decograph"))
    ap.add_argument("--llama-bin", default=str(cache / "llama.cpp" / "build" / "bin"))
    ap.add_argument("--per-file", type=int, default=500)
    ap.add_argument("--seed", type=int, default=24)
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for stem, source, pre in BPE_CASES:
        write_bpe(stem, source, pre)
    for stem, prefix in SPM_CASES:
        write_spm(stem, prefix)
    # A model name without a token list, for the loader's missing-key error.
    w = gguf.GGUFWriter(str(OUT / "broken-no-tokens.gguf"), "llama")
    write_header(w)
    w.add_tokenizer_model("gpt2")
    finish(w)
    exe = driver(a.llama_bin)
    texts = strings(a.per_file, a.seed)
    stems = [c[0] for c in BPE_CASES] + [c[0] for c in SPM_CASES]
    cases = [(t, False) for t in texts] + [(t, True) for t in BOS_CASES]
    ids = {stem: llama_tokenize_batch(exe, OUT / f"{stem}.gguf", cases) for stem in stems}
    with gzip.open(OUT / "expected.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        for k, (text, special) in enumerate(cases):
            row = {"text": text, "special": special, "ids": {f"{stem}.gguf": ids[stem][k] for stem in stems}}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    jobs = stems
    print(f"{len(texts) + len(BOS_CASES)} cases in each of {len(jobs)} files")


if __name__ == "__main__":
    main()
