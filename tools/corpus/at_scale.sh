#!/usr/bin/env bash
# The n-gram store's at-scale run (docs/ngram-store.md, "At scale"): builds the Python-source
# corpus's stores both ways, simulates, times queries, runs a graph on SmolLM2, and puts
# llama.cpp's lookup-create / lookup-stats beside them on the same corpus and tokenizer.
# Usage: tools/corpus/at_scale.sh STEP…  (steps below; each logs to $out/logs/STEP.txt with the
# load average before and after, and /usr/bin/time -v for the builds).
# Needs: a release decograph at $DECOGRAPH (default /tmp/decograph-atscale: `swift build -c release
# --product decograph` copied there), the corpus (tools/corpus/make_python_corpus.py), llama.cpp
# (tools/llama/build.sh) and the SmolLM2 GGUF. Run one step at a time on a shared machine.
set -euo pipefail
cache="${DECOGRAPH_CACHE:-$HOME/.cache/decograph}"
out="$cache/corpus/python"
bin="${DECOGRAPH:-/tmp/decograph-atscale}"
gguf="${GGUF:-$cache/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}"
llama="$cache/llama.cpp/build/bin"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$out/logs" "$out/stores"
timed() { /usr/bin/time -v "$@"; }

step() {
    case "$1" in
    lmdb)   rm -f "$out/stores/python.lmdb"
            timed "$bin" store build --tokenizer "$gguf" --out "$out/stores/python.lmdb" "$out/corpus.txt" ;;
    lmdb-128m) rm -f "$out/stores/python-128m.lmdb"
            timed "$bin" store build --tokenizer "$gguf" --memory 128M --out "$out/stores/python-128m.lmdb" "$out/corpus.txt" ;;
    sa)     timed "$bin" store build --format suffix-array --tokenizer "$gguf" --out "$out/stores/python.sa" "$out/corpus.txt" ;;
    stats)  "$bin" store stats "$out/stores/python.lmdb"; "$bin" store stats "$out/stores/python.sa" ;;
    simulate-lmdb) timed "$bin" store simulate "$out/stores/python.lmdb" --tokenizer "$gguf" "$out/heldout" ;;
    simulate-sa)   timed "$bin" store simulate "$out/stores/python.sa" --tokenizer "$gguf" "$out/heldout" ;;
    bench-lmdb) "$bin" bench store "$out/stores/python.lmdb" --tokenizer "$gguf" "$out/heldout" ;;
    bench-sa)   timed "$bin" bench suffix-array "$out/stores/python.sa" --lookups 100000 --dir "$out/stores" ;;
    graph)  # draft.ngram with the built store, read-only, on SmolLM2 (the graph's model is replaced by --model).
            for kind in lmdb sa; do
                sed -e "s|path: ../stores/learned.lmdb, learn: true|path: $out/stores/python.$kind|" \
                    -e '/op: store.learn/d' -e 's/gates: lax/gates: strict/' \
                    -e "s|^graph: ngram|graph: ngram-python-$kind|" "$repo/graphs/ngram.yaml" > "$out/ngram-python-$kind.yaml"
            done
            "$bin" bench graphs --model "$gguf" --graphs "$repo/graphs/greedy.yaml,$repo/graphs/lookup.yaml,$out/ngram-python-lmdb.yaml,$out/ngram-python-sa.yaml" \
                --prompts "$out/prompts.jsonl" --max-tokens 96 ;;
    llama-create) rm -f "$out/stores/llama-static.bin"
            timed "$llama/llama-lookup-create" -m "$gguf" -f "$out/corpus.txt" -lcs "$out/stores/llama-static.bin" -c 0 -t 2 ;;
    # Without the static cache (lookup-create did not finish), llama.cpp's context and dynamic tiers alone.
    llama-stats) cat "$out"/heldout/*.py > "$out/heldout.txt"
            static=(); [ -f "$out/stores/llama-static.bin" ] && static=(-lcs "$out/stores/llama-static.bin")
            timed "$llama/llama-lookup-stats" -m "$gguf" -f "$out/heldout.txt" "${static[@]}" --spec-draft-n-max 8 -c 2048 -t 2 ;;
    *) echo "at_scale.sh: unknown step '$1'" >&2; exit 64 ;;
    esac
}

for s in "$@"; do
    log="$out/logs/$s.txt"
    { echo "# $(date -u +%FT%TZ) $s"; uptime; } > "$log"
    step "$s" >> "$log" 2>&1
    uptime >> "$log"
    echo "$log"
done
