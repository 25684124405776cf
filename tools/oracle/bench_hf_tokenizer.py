"""Measures Hugging Face `tokenizers` encode throughput on one thread, on the same text that
`decograph bench tokenizer` uses by default, so the two figures can be compared.

The text: the CPython standard library `.py` files of this machine (not site-packages), in
byte-wise path order, concatenated, cut to the first N MB at a line end (N = 10 by default).

Run:  python3 tools/oracle/bench_hf_tokenizer.py [--tokenizer Tests/Fixtures/tokenizers/llama3] [--megabytes 10] [--text FILE]
Then: decograph bench tokenizer --baseline <the printed MB/s>
"""
import argparse
import glob
import os
import time

# One thread: tokenizers parallelises batches with rayon; a single encode call is sequential,
# but pin it anyway so the comparison is one core against one core.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from tokenizers import Tokenizer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def default_text(nbytes):
    roots = sorted(d for d in glob.glob("/usr/lib/python3*") if os.path.isdir(d))
    root = roots[-1]
    files = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if n.endswith(".py") and "site-packages" not in rel and "dist-packages" not in rel:
                files.append(rel)
    files.sort(key=lambda r: r.encode("utf-8"))
    out = bytearray()
    for rel in files:
        try:
            with open(os.path.join(root, rel), "rb") as f:
                data = f.read()
            data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        out += data
        if len(out) >= nbytes:
            break
    end = nbytes
    while end > 0 and out[end - 1] != 0x0A:
        end -= 1
    return bytes(out[:end]).decode("utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", default=os.path.join(REPO, "Tests", "Fixtures", "tokenizers", "llama3"))
    ap.add_argument("--megabytes", type=int, default=10)
    ap.add_argument("--text")
    args = ap.parse_args()
    text = open(args.text, encoding="utf-8").read() if args.text else default_text(args.megabytes * 1_000_000)
    tok = Tokenizer.from_file(os.path.join(args.tokenizer, "tokenizer.json"))
    mb = len(text.encode("utf-8")) / 1e6
    t0 = time.perf_counter()
    enc = tok.encode(text, add_special_tokens=False)
    t1 = time.perf_counter()
    tok.encode(text, add_special_tokens=False)
    t2 = time.perf_counter()
    ids = enc.ids
    t3 = time.perf_counter()
    decoded = tok.decode(ids, skip_special_tokens=False)
    t4 = time.perf_counter()
    print(f"text: {mb:.2f} MB, {len(ids)} tokens")
    print(f"hf encode (one thread, first call):  {mb / (t1 - t0):8.2f} MB/s")
    print(f"hf encode (one thread, second call): {mb / (t2 - t1):8.2f} MB/s")
    print(f"hf decode:                           {len(decoded.encode('utf-8')) / 1e6 / (t4 - t3):8.2f} MB/s")


if __name__ == "__main__":
    main()
