"""Step 1: collect the training corpus from the CPython standard library.

Collects every ``.py`` file of the standard library of the running Python
(located with ``sysconfig.get_paths()["stdlib"]``; PSF license), skipping
generated and vendored code, and splits it into a training set and a held-out
set (5 % of files) chosen by a hash of each file's path relative to the
stdlib root, so the split is stable across machines with the same Python.

Outputs (in the work dir, default ``tools/train/work``):
  train.jsonl, heldout.jsonl  one JSON object per file: {"path", "text"}
  files.tsv                   relative path, split, size in bytes
  corpus_info.json            stdlib root, Python version, counts

Run:  python tools/train/prepare_corpus.py [--work tools/train/work]
"""
import argparse
import hashlib
import json
import os
import platform
import re
import sysconfig

# Directories (relative to the stdlib root) that are vendored, generated or
# deliberately malformed.
EXCLUDED_DIRS = {
    "site-packages", "dist-packages", "__pycache__",
    "ensurepip/_bundled",          # vendored wheels
    "pydoc_data",                  # generated topic dump
    "lib2to3/tests/data",          # intentionally odd syntax
    "test/encoded_modules",        # non-UTF-8 test data
    "test/tokenizedata",
}
# Markers near the top of a file that identify generated files
# (e.g. encodings/cp*.py produced by gencodec.py, token.py, re/_casefix.py).
GENERATED_RE = re.compile(
    r"auto-?generated|do not edit|generated (from|by) \S+\.(py|txt|c)\b",
    re.IGNORECASE)
MAX_BYTES = 400_000
HELDOUT_PER_10000 = 500  # 5 %


def is_heldout(relpath: str) -> bool:
    h = hashlib.sha256(relpath.encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") % 10000 < HELDOUT_PER_10000


def excluded_dir(reldir: str) -> bool:
    parts = reldir.split("/")
    for i in range(1, len(parts) + 1):
        if "/".join(parts[:i]) in EXCLUDED_DIRS or parts[i - 1] in ("__pycache__", "site-packages"):
            return True
    return reldir.startswith("config-")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    root = sysconfig.get_paths()["stdlib"]
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        reldir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        reldir = "" if reldir == "." else reldir
        if reldir and excluded_dir(reldir):
            dirnames[:] = []
            continue
        dirnames.sort()
        for fn in sorted(filenames):
            if not fn.endswith(".py") or fn.startswith("_sysconfigdata"):
                continue
            rel = f"{reldir}/{fn}" if reldir else fn
            files.append(rel)
    files.sort()

    kept = {"train": [], "heldout": []}
    skipped = []
    for rel in files:
        full = os.path.join(root, rel)
        if os.path.getsize(full) > MAX_BYTES:
            skipped.append((rel, "too large"))
            continue
        try:
            with open(full, "rb") as f:
                text = f.read().decode("utf-8")
        except UnicodeDecodeError:
            skipped.append((rel, "not utf-8"))
            continue
        if GENERATED_RE.search(text[:800]):
            skipped.append((rel, "generated"))
            continue
        text = text.replace("\r\n", "\n")
        if not text.strip():
            continue
        kept["heldout" if is_heldout(rel) else "train"].append((rel, text))

    for split, items in kept.items():
        with open(os.path.join(args.work, f"{split}.jsonl"), "w", encoding="utf-8") as f:
            for rel, text in items:
                f.write(json.dumps({"path": rel, "text": text}) + "\n")
    with open(os.path.join(args.work, "files.tsv"), "w", encoding="utf-8") as f:
        for split, items in kept.items():
            for rel, text in items:
                f.write(f"{rel}\t{split}\t{len(text.encode('utf-8'))}\n")
        for rel, why in skipped:
            f.write(f"{rel}\tskipped:{why}\t0\n")
    info = {
        "stdlib": root,
        "python": platform.python_version(),
        "files_train": len(kept["train"]),
        "files_heldout": len(kept["heldout"]),
        "bytes_train": sum(len(t.encode()) for _, t in kept["train"]),
        "bytes_heldout": sum(len(t.encode()) for _, t in kept["heldout"]),
        "files_skipped": len(skipped),
        "split_rule": "sha256(relative path)[:8] as big-endian int % 10000 < 500 -> heldout",
    }
    with open(os.path.join(args.work, "corpus_info.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
