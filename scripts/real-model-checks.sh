#!/usr/bin/env bash
# Checks against the real SmolLM2-135M-Instruct (Q4_1 GGUF): fetches it into the cache
# (scripts/fetch-model.sh, sha256-pinned) and runs the test suites that are enabled only when it
# is there. Without the file those suites are skipped by `swift test`, so this is the command
# that runs them. The demo on the same model is scripts/demo.sh.
#
#   scripts/real-model-checks.sh            # debug build, as `swift test`
#   scripts/real-model-checks.sh -c release # extra arguments go to `swift test`
#
# To add a suite that needs the real model: enable it with `.enabled(if: …)` on the cached file
# (`Support.ModelCache.smolLM2`) and add its name to
# `suites` below; each entry is a `swift test --filter` pattern, and they are joined into one
# filter so one build runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."

suites=(
    RealModelTests               # logits and greedy tokens against transformers and llama.cpp (Tests/Fixtures/real-model)
    SmolLM2TokenizerParityTests  # the GGUF's tokenizer against llama.cpp's on 5,500 strings
    ChatTemplatesTests           # chat templates (SmolLM2's among 71) rendered as transformers renders them
    ChatRunTests                 # run --chat/--messages through a template
)

if ! path="$(scripts/fetch-model.sh)"; then
    echo "real-model-checks: could not fetch the model (see above); nothing was run" >&2
    exit 1
fi
echo "real-model-checks: model $path" >&2
filter="$(IFS='|'; echo "${suites[*]}")"
exec swift test --filter "$filter" "$@"
