#!/usr/bin/env bash
# Starts `decograph serve` on SmolLM2-135M-Instruct (scripts/fetch-model.sh) over graphs/ — the
# graphs whose drafter is the tiny demo draft model are not served, its vocabulary being another —
# and drives it with the official `openai` Python package (tools/serving/openai_client.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c "import openai" 2>/dev/null || python3 -m pip install --quiet --break-system-packages openai
model="$(scripts/fetch-model.sh)"
swift build -c release --product decograph >/dev/null
port="${PORT:-18931}"
.build/release/decograph serve --graphs graphs --model "target=$model" --port "$port" 2>/tmp/decograph-serve.log &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 1
done
python3 tools/serving/openai_client.py --base-url "http://127.0.0.1:$port/v1" --chat-model greedy --spec-model lookup
