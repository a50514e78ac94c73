#!/usr/bin/env bash
# Builds llama.cpp's llama-bench from the source package of the pip package llama-cpp-python
# (PyPI ships it with llama.cpp vendored), outside the repo. Prints the path of llama-bench.
#   bash bench/build_llamacpp.sh [DEST=~/.cache/gemma3n-bench]
set -euo pipefail
VERSION=0.3.36
DEST=${1:-$HOME/.cache/gemma3n-bench}
SRC="$DEST/llama_cpp_python-$VERSION"
BIN="$SRC/vendor/llama.cpp/build/bin/llama-bench"
if [ ! -x "$BIN" ]; then
  mkdir -p "$DEST"
  if [ ! -d "$SRC" ]; then
    PIP=pip3
    command -v pip3 > /dev/null || PIP="python3 -m pip"
    $PIP download --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$DEST" -q
    tar -xzf "$DEST/llama_cpp_python-$VERSION.tar.gz" -C "$DEST"
  fi
  cmake -S "$SRC/vendor/llama.cpp" -B "$SRC/vendor/llama.cpp/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF > "$DEST/cmake.log" 2>&1
  cmake --build "$SRC/vendor/llama.cpp/build" --target llama-bench -j "$(nproc)" > "$DEST/build.log" 2>&1
fi
echo "$BIN"
