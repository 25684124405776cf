"""Step 3: tokenize the corpus into flat token files for training/evaluation.

Each document (one stdlib file) becomes ``<|bos|> tokens... <|eos|>``; the
documents are concatenated in file order into ``work/train.bin`` and
``work/heldout.bin`` (numpy uint16).  ``work/heldout_docs.json`` records
each held-out document's path and token offset (used for prompts).

Run:  python tools/train/tokenize_corpus.py
"""
import argparse
import json
import os

import numpy as np
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--tokenizer", default=os.path.join(REPO, "models", "demo-target", "tokenizer.json"))
    args = ap.parse_args()
    tok = Tokenizer.from_file(args.tokenizer)
    eos = tok.token_to_id("<|eos|>")
    info = {}
    for split in ("train", "heldout"):
        docs = []
        with open(os.path.join(args.work, f"{split}.jsonl"), encoding="utf-8") as f:
            for line in f:
                docs.append(json.loads(line))
        encs = tok.encode_batch([d["text"] for d in docs])  # BOS added by post-processor
        ids, index, nbytes = [], [], 0
        for d, e in zip(docs, encs):
            index.append({"path": d["path"], "offset": len(ids), "length": len(e.ids) + 1})
            ids.extend(e.ids)
            ids.append(eos)
            nbytes += len(d["text"].encode("utf-8"))
        arr = np.asarray(ids, dtype=np.uint16)
        arr.tofile(os.path.join(args.work, f"{split}.bin"))
        info[split] = {"documents": len(docs), "tokens": int(arr.size), "bytes": nbytes,
                       "bytes_per_token": round(nbytes / arr.size, 3)}
        if split == "heldout":
            with open(os.path.join(args.work, "heldout_docs.json"), "w") as f:
                json.dump(index, f, indent=1)
    with open(os.path.join(args.work, "tokens_info.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
