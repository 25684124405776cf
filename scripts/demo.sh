#!/usr/bin/env bash
# The README's demo: speculative decoding (graphs/speculative.yaml) on the shipped demo models,
# then greedy, speculative, prompt-lookup and tree graphs run interleaved on the same prompts:
# tokens/s, mean accepted tokens per target call (MAT), speedup against plain greedy, identity.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product decograph
decograph=.build/release/decograph
echo "== decograph run graphs/speculative.yaml --prompt-file examples/prompt-ipaddress-ip_network.py"
cat examples/prompt-ipaddress-ip_network.py
"$decograph" run graphs/speculative.yaml --prompt-file examples/prompt-ipaddress-ip_network.py --max-tokens 128
echo
echo "== decograph bench graphs: the same prompts, plain greedy first"
"$decograph" bench graphs --graphs graphs/greedy.yaml,graphs/speculative.yaml,graphs/lookup.yaml,graphs/tree.yaml \
    --prompts examples/prompts.txt --max-tokens 128
