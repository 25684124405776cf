#!/usr/bin/env python3
"""Builds a large code corpus from the sources of the installed Python packages, for the n-gram
store's at-scale measurements (docs/ngram-store.md, "At scale"). Nothing it writes is committed:
the texts stay under their packages' own licences (listed in licences.tsv next to the corpus).

Deterministic: files are taken in sorted order of their path relative to their root, exact
duplicates (same bytes; vendored copies) are kept once, and the held-out files are chosen by a
hash of their relative path, so the same installation gives the same corpus byte for byte.

Output, under --out (default $DECOGRAPH_CACHE/corpus/python, cache ~/.cache/decograph):
  corpus.txt     the training text: the files concatenated, each led by a `# file: PATH` line
  heldout/       the held-out files (not in corpus.txt), for `store simulate` and prompts
  manifest.tsv   bytes, sha256 and path of every file, and whether it was held out
  licences.tsv   distribution, version and licence field of every *.dist-info found
  prompts.jsonl  code-completion prompts for `bench graphs --prompts`: the first PROMPT_LINES
                 lines of the first --prompts held-out files
"""
import argparse
import hashlib
import json
import os
import site
import sys
from pathlib import Path

# Source-like text in site-packages: Python, its stubs, the C/C++ headers that packages ship
# (torch, numpy, triton) and reStructuredText docs. Binary and data files are left out.
DEFAULT_SUFFIXES = [".py", ".pyi", ".h", ".hpp", ".rst"]
# One file in HOLDOUT_MODULUS (by path hash) is held out, among files of a size a prompt or a
# simulation can use whole, up to --holdout files; the modulus spreads the default 40 over the
# whole ~46 k files of this machine's installation instead of the first packages in path order.
HOLDOUT_MODULUS = 401
HOLDOUT_MIN_BYTES = 2_000
HOLDOUT_MAX_BYTES = 40_000
# A prompt is a held-out file's opening: enough lines for imports and a first definition, few
# enough that a 135 M model's prefill stays a small part of a 96-token completion.
PROMPT_LINES = 40


def roots(extra):
    found = [Path(p) for p in site.getsitepackages()]
    # The standard library of this interpreter: plain Python, a different author than packages.
    found.append(Path(os.__file__).parent)
    return [r for r in found + [Path(e) for e in extra] if r.is_dir()]


def walk(root, suffixes):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and d != "__pycache__"
                             and not (Path(dirpath) == root and d == "site-packages"))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if path.suffix in suffixes and path.is_file() and not path.is_symlink():
                yield path


def licences(root):
    rows = []
    for info in sorted(root.glob("*.dist-info")):
        meta = info / "METADATA"
        if not meta.is_file():
            continue
        fields = {}
        for line in meta.read_text(errors="replace").splitlines():
            if not line:
                break
            key, _, value = line.partition(": ")
            if key in ("Name", "Version", "License", "License-Expression") and key not in fields:
                fields[key] = value.strip()
        lic = fields.get("License-Expression") or fields.get("License", "")
        rows.append((fields.get("Name", info.name), fields.get("Version", ""), lic[:120]))
    return rows


def main():
    cache = Path(os.environ.get("DECOGRAPH_CACHE", Path.home() / ".cache/decograph"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=cache / "corpus/python")
    ap.add_argument("--max-bytes", type=int, default=0,
                    help="stop adding files once the corpus holds this many bytes (0: all)")
    ap.add_argument("--holdout", type=int, default=40, help="number of held-out files")
    ap.add_argument("--prompts", type=int, default=6, help="number of prompts in prompts.jsonl")
    ap.add_argument("--suffix", action="append", help=f"file suffixes (default {DEFAULT_SUFFIXES})")
    ap.add_argument("--root", action="append", default=[], help="another directory to include")
    args = ap.parse_args()
    suffixes = set(args.suffix or DEFAULT_SUFFIXES)
    args.out.mkdir(parents=True, exist_ok=True)
    held_dir = args.out / "heldout"
    held_dir.mkdir(exist_ok=True)
    for old in held_dir.iterdir():
        old.unlink()

    seen = set()
    total = held = kept = dupes = undecodable = 0
    tmp = args.out / "corpus.txt.partial"
    with open(tmp, "wb") as corpus, open(args.out / "manifest.tsv", "w") as manifest:
        manifest.write("bytes\tsha256\trole\tpath\n")
        for root in roots(args.root):
            for path in walk(root, suffixes):
                data = path.read_bytes()
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    undecodable += 1
                    continue
                digest = hashlib.sha256(data).hexdigest()
                if digest in seen:
                    dupes += 1
                    continue
                seen.add(digest)
                rel = f"{root.name}/{path.relative_to(root)}"
                bucket = int(hashlib.sha256(rel.encode()).hexdigest(), 16) % HOLDOUT_MODULUS
                if (held < args.holdout and bucket == 0 and path.suffix == ".py"
                        and HOLDOUT_MIN_BYTES <= len(data) <= HOLDOUT_MAX_BYTES):
                    held += 1
                    (held_dir / f"{held:03d}_{path.name}").write_bytes(data)
                    manifest.write(f"{len(data)}\t{digest}\theldout\t{rel}\n")
                    continue
                if args.max_bytes and total >= args.max_bytes:
                    continue
                header = f"# file: {rel}\n".encode()
                text = header + data + (b"" if data.endswith(b"\n") else b"\n")
                corpus.write(text)
                total += len(text)
                kept += 1
                manifest.write(f"{len(data)}\t{digest}\tcorpus\t{rel}\n")
    tmp.rename(args.out / "corpus.txt")
    with open(args.out / "licences.tsv", "w") as out:
        out.write("name\tversion\tlicence\n")
        for root in roots(args.root):
            for row in licences(root):
                out.write("\t".join(row) + "\n")
    with open(args.out / "prompts.jsonl", "w") as out:
        for path in sorted(held_dir.iterdir())[:args.prompts]:
            lines = path.read_text().splitlines(keepends=True)[:PROMPT_LINES]
            out.write(json.dumps({"prompt": "".join(lines), "category": path.name}) + "\n")
    print(f"{args.out/'corpus.txt'}: {total} bytes from {kept} files; {held} held out; "
          f"{dupes} duplicates and {undecodable} non-UTF-8 files left out", file=sys.stderr)


if __name__ == "__main__":
    main()
