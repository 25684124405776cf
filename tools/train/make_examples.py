"""Step 4: write realistic prompt files under ``examples/``.

Each prompt is the start of a top-level function or class from a *held-out*
standard-library file (see prepare_corpus.py): its header, its docstring and
the first few lines of its body, ending mid-definition, so a model continues
code it has never been trained on.  The script checks that every source file
is in the held-out split.

Run:  python tools/train/make_examples.py
"""
import argparse
import ast
import os
import sysconfig

from prepare_corpus import is_heldout

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# (stdlib file, top-level name, body lines after the docstring)
CHOICES = [
    ("ipaddress.py", "ip_network", 3),
    ("operator.py", "length_hint", 4),
    ("uuid.py", "uuid1", 3),
    ("pickle.py", "encode_long", 2),
    ("tracemalloc.py", "Frame", 3),
    ("pydoc.py", "synopsis", 4),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "examples"))
    args = ap.parse_args()
    root = sysconfig.get_paths()["stdlib"]
    os.makedirs(args.out, exist_ok=True)
    for rel, name, extra in CHOICES:
        assert is_heldout(rel), f"{rel} is not in the held-out split"
        src = open(os.path.join(root, rel), encoding="utf-8").read()
        lines = src.splitlines(keepends=True)
        node = next(n for n in ast.parse(src).body
                    if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)
        doc = node.body[0]
        assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
        start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
        end = doc.end_lineno + extra  # exclusive, 0-based
        assert end < node.end_lineno, f"{rel}:{name} prompt would cover the whole definition"
        text = "".join(lines[start:end])
        stem = os.path.splitext(rel.replace("/", "_"))[0]
        path = os.path.join(args.out, f"prompt-{stem}-{name}.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"{path}: {rel} lines {start + 1}-{end} of {name} (ends at {node.end_lineno})")


if __name__ == "__main__":
    main()
