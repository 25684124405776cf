#!/usr/bin/env bash
# Side by side with llama.cpp on the same GGUF files: decode (1 and 2 threads) and prefill-128
# (2 threads) tokens/s, llama-bench against `decograph bench runtime`, plus an end-to-end row
# (chat prompts, prefill + 100 new tokens, whole-process wall time): llama-completion against
# `decograph run` with a greedy graph on the GGUF. Prints one markdown table (and the load).
#
#   tools/llama/build.sh                 # llama.cpp, once (20 min to hours on 2 shared cores)
#   tools/llama/side_by_side.sh          # prepares the files, builds decograph (release), runs
#
# Files (in $DECOGRAPH_CACHE/bench, default ~/.cache/decograph/bench; never committed):
#  - SmolLM2-135M-Instruct Q4_1, the real file (scripts/fetch-model.sh), and from it with
#    `llama-quantize --allow-requantize` Q8_0, Q4_0 and BF16. Requantizing from Q4_1 loses
#    accuracy (the Q4_1 rounding is kept and another added), which does not matter for speed:
#    the byte counts and kernels are those of a file quantized from the original weights.
#  - a random-weight model of TinyLlama-1.1B's shape (tools/llama/make_random_gguf.py, BF16),
#    quantized by llama-quantize to Q8_0, Q4_0, Q4_1 and Q4_K_M.
# The two engines alternate file by file (llama.cpp first), each at top CPU priority (nice -20
# plus the autogroup's nice, which is what wins CPU from other sessions' processes here).
# It runs whatever decograph the checkout builds. When build.sh has built libllama.so but not yet
# the tools, llama.cpp is driven through tools/llama/llama_ctypes.py (same library, same tests,
# a Python loop around llama_decode; the table says which).
#
# Environment: ROUNDS (alternations per file, default 1), REPS (llama-bench -r, default 3),
# FILES (space-separated subset of the labels below), E2E=0 to skip the end-to-end row,
# OUT (folder for the raw JSON and logs, default $DECOGRAPH_CACHE/bench/run-DATE).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${DECOGRAPH_CACHE:-$HOME/.cache/decograph}"
bench="$cache/bench"
bin="$cache/llama.cpp/build/bin"
rounds="${ROUNDS:-1}"
reps="${REPS:-3}"
out="${OUT:-$bench/run-$(date +%Y%m%d-%H%M%S)}"
# llama-bench's prompt and generation lengths; decograph bench runtime's prefill is also 128
# tokens (after which it decodes steps after 64 context tokens; llama-bench's tg64 averages
# the 64 steps after an empty context).
prompt_tokens=128
gen_tokens=64
# The end-to-end row: new tokens per prompt, end-of-sequence ignored so both engines do the
# same work.
e2e_tokens=100
mkdir -p "$bench" "$out"

# llama.cpp's own tools when build.sh has got that far; otherwise the same library driven through
# tools/llama/llama_ctypes.py (build.sh builds libllama.so first and the tools last).
ctypes_driver="$repo/tools/llama/llama_ctypes.py"
if [ -x "$bin/llama-bench" ] && [ -x "$bin/llama-quantize" ]; then
    llama_driver="llama-bench"
elif compgen -G "$cache/llama.cpp/build/bin/libllama.so*" >/dev/null; then
    llama_driver="llama_ctypes.py"
    echo "side_by_side: no llama-bench yet; driving libllama.so through $ctypes_driver" >&2
else
    echo "side_by_side: no llama.cpp build in $cache/llama.cpp/build; run tools/llama/build.sh" >&2
    exit 1
fi
echo "$llama_driver" >"$out/llama-driver.txt"

# --- files ---------------------------------------------------------------------------------
smol_q4_1="$("$repo/scripts/fetch-model.sh")"
quantize() { # SOURCE DEST TYPE
    [ -f "$2" ] && return 0
    if [ "$llama_driver" = llama-bench ]; then
        "$bin/llama-quantize" --allow-requantize "$1" "$2.partial" "$3" >"$out/quantize-$(basename "$2").log" 2>&1
    else
        python3 "$ctypes_driver" quantize "$1" "$2.partial" "$3" >"$out/quantize-$(basename "$2").log" 2>&1
    fi
    mv "$2.partial" "$2"
}
for t in Q8_0 Q4_0 BF16; do quantize "$smol_q4_1" "$bench/smollm2-135m-$t.gguf" "$t"; done
tiny_bf16="$bench/tinyllama-1.1b-random-BF16.gguf"
if [ ! -f "$tiny_bf16" ]; then
    python3 "$repo/tools/llama/make_random_gguf.py" "$tiny_bf16.partial" >/dev/null
    mv "$tiny_bf16.partial" "$tiny_bf16"
fi
for t in Q8_0 Q4_0 Q4_1 Q4_K_M; do quantize "$tiny_bf16" "$bench/tinyllama-1.1b-random-$t.gguf" "$t"; done

# label, file, type
files=(
    "smollm2-135m Q4_1|$smol_q4_1|Q4_1"
    "smollm2-135m Q8_0|$bench/smollm2-135m-Q8_0.gguf|Q8_0"
    "smollm2-135m Q4_0|$bench/smollm2-135m-Q4_0.gguf|Q4_0"
    "smollm2-135m BF16|$bench/smollm2-135m-BF16.gguf|BF16"
    "tinyllama-1.1b Q8_0|$bench/tinyllama-1.1b-random-Q8_0.gguf|Q8_0"
    "tinyllama-1.1b Q4_0|$bench/tinyllama-1.1b-random-Q4_0.gguf|Q4_0"
    "tinyllama-1.1b Q4_1|$bench/tinyllama-1.1b-random-Q4_1.gguf|Q4_1"
    "tinyllama-1.1b Q4_K_M|$bench/tinyllama-1.1b-random-Q4_K_M.gguf|Q4_K_M"
)

# --- decograph -----------------------------------------------------------------------------
(cd "$repo" && swift build -c release --product decograph >"$out/swift-build.log" 2>&1) \
    || { echo "side_by_side: release build failed, see $out/swift-build.log" >&2; exit 1; }
decograph="$(cd "$repo" && swift build -c release --show-bin-path)/decograph"

top() { bash -c 'echo -20 > /proc/$$/autogroup 2>/dev/null || true; exec nice -n -20 "$@"' top "$@"; }

# --- speed ---------------------------------------------------------------------------------
echo "load before: $(uptime)" | tee "$out/load.txt" >&2
for entry in "${files[@]}"; do
    IFS='|' read -r label file type <<<"$entry"
    if [ -n "${FILES:-}" ] && [[ " $FILES " != *" ${label// /_} "* ]]; then continue; fi
    key="${label// /_}"
    for round in $(seq 1 "$rounds"); do
        echo "[$label] round $round: llama.cpp ($llama_driver)" >&2
        if [ "$llama_driver" = llama-bench ]; then
            top "$bin/llama-bench" -m "$file" -t 1,2 -p "$prompt_tokens" -n "$gen_tokens" -r "$reps" -o json \
                >"$out/$key.llama.$round.json" 2>"$out/$key.llama.$round.log"
        else
            top python3 "$ctypes_driver" bench -m "$file" -t 1,2 -p "$prompt_tokens" -n "$gen_tokens" -r "$reps" \
                >"$out/$key.llama.$round.json" 2>"$out/$key.llama.$round.log"
        fi
        echo "[$label] round $round: decograph bench runtime" >&2
        top "$decograph" bench runtime --model "$file" --threads 2 --json \
            >"$out/$key.decograph.$round.json" 2>"$out/$key.decograph.$round.log"
    done
done

# --- end to end ----------------------------------------------------------------------------
if [ "${E2E:-1}" != 0 ]; then
    graph="$out/greedy-smollm2.yaml"
    cat >"$graph" <<YAML
# Plain greedy decoding of the real SmolLM2 GGUF, a fixed $e2e_tokens new tokens (side_by_side.sh).
graph: greedy-smollm2
models:
  target: { path: $smol_q4_1, kv_cache_mb: 64 }
nodes:
  scores: { op: score, model: target }
  pick: { op: sample, from: scores, temperature: 0 }
  accept: { op: verify, from: pick }
output: accept
limits: { max_new_tokens: $e2e_tokens, ignore_eos: true }
YAML
    # The oracle's chat prompts (the model's own template), as text for llama.cpp and as the ids
    # transformers' tokenizer gave for decograph (which has no GGUF tokenizer yet).
    python3 - "$repo/Tests/Fixtures/real-model/smollm2-135m-q4_1.transformers.json" "$out" <<'PY'
import json, sys
oracle = json.load(open(sys.argv[1]))
for i, p in enumerate(x for x in oracle["prompts"] if x["kind"] == "chat"):
    open(f"{sys.argv[2]}/e2e-{i}.txt", "w").write(p["text"])
    open(f"{sys.argv[2]}/e2e-{i}.ids", "w").write(" ".join(map(str, p["ids"])))
PY
    for prompt in "$out"/e2e-*.txt; do
        base="${prompt%.txt}"
        for round in $(seq 1 "$rounds"); do
            start=$(date +%s%N)
            if [ -x "$bin/llama-completion" ]; then
                top "$bin/llama-completion" -m "$smol_q4_1" -f "$prompt" -n "$e2e_tokens" --ignore-eos --temp 0 \
                    -t 2 -c 512 -no-cnv --no-warmup --simple-io </dev/null >"$base.llama.$round.out" 2>"$base.llama.$round.log"
            else
                # Times itself from model load to the last token (Python's start-up excluded).
                top python3 "$ctypes_driver" generate -m "$smol_q4_1" -f "$prompt" -n "$e2e_tokens" --ignore-eos -t 2 \
                    >"$base.llama.$round.out" 2>"$base.llama.$round.log"
            fi
            echo $(($(date +%s%N) - start)) >"$base.llama.$round.wall_ns"
            start=$(date +%s%N)
            top "$decograph" run "$graph" --prompt-ids "$(cat "$base.ids")" --jsonl \
                >"$base.decograph.$round.out" 2>"$base.decograph.$round.log"
            echo $(($(date +%s%N) - start)) >"$base.decograph.$round.wall_ns"
        done
    done
fi
echo "load after: $(uptime)" | tee -a "$out/load.txt" >&2

python3 "$repo/tools/llama/side_by_side_table.py" "$out" "${files[@]}"
