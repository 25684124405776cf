#!/usr/bin/env bash
# Builds llama.cpp's llama-bench, llama-tokenize, llama-quantize, llama-simple, llama-completion
# (non-interactive generation, for side_by_side.sh's end-to-end row) and llama-lookup-create /
# llama-lookup-stats (the static n-gram cache side by side in docs/ngram-store.md) from the copy vendored in the
# llama-cpp-python source distribution on PyPI (pinned version and sha256), for side-by-side
# speed and tokenizer oracles. Output: $DECOGRAPH_CACHE/llama.cpp/build/bin (default cache
# ~/.cache/decograph). Needs a C/C++ compiler; installs the cmake wheel from PyPI when cmake is
# missing. Nothing here is committed or needed to build or test decograph.
set -euo pipefail
version="0.3.36"
sdist_sha="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
cache="${DECOGRAPH_CACHE:-$HOME/.cache/decograph}"
root="$cache/llama.cpp"
sdist="$cache/llama_cpp_python-$version.tar.gz"
mkdir -p "$cache"

if [ ! -f "$sdist" ] || [ "$(sha256sum "$sdist" | cut -d' ' -f1)" != "$sdist_sha" ]; then
    # pip download would build the sdist's metadata (and cmake from source); read the simple index instead.
    python3 - "$version" "$sdist.partial" <<'PY'
import re, shutil, sys, urllib.request
version, dest = sys.argv[1], sys.argv[2]
index = urllib.request.urlopen("https://pypi.org/simple/llama-cpp-python/").read().decode()
urls = re.findall(r'href="([^"#]+llama_cpp_python-' + re.escape(version) + r'\.tar\.gz)', index)
if not urls:
    sys.exit(f"llama-cpp-python {version} sdist not in the PyPI index")
with urllib.request.urlopen(urls[0]) as src, open(dest, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
    got="$(sha256sum "$sdist.partial" | cut -d' ' -f1)"
    if [ "$got" != "$sdist_sha" ]; then
        echo "build.sh: sdist sha256 $got, expected $sdist_sha" >&2
        rm -f "$sdist.partial"; exit 1
    fi
    mv "$sdist.partial" "$sdist"
fi
if [ ! -d "$root/src" ]; then
    rm -rf "$root.unpack" && mkdir -p "$root.unpack"
    tar -xzf "$sdist" -C "$root.unpack"
    mkdir -p "$root"
    mv "$root.unpack/llama_cpp_python-$version/vendor/llama.cpp" "$root/src"
    rm -rf "$root.unpack"
fi
if ! command -v cmake >/dev/null; then
    python3 -m pip install --quiet --break-system-packages cmake >&2
fi
jobs="${JOBS:-$(nproc)}"
# Native CPU flags, as a user building llama.cpp for this machine would; no GPU back ends.
cmake -S "$root/src" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF >&2
cmake --build "$root/build" -j "$jobs" --target llama-bench llama-tokenize llama-quantize llama-simple llama-completion \
    llama-lookup-create llama-lookup-stats >&2
echo "$root/build/bin"
