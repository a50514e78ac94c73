#!/usr/bin/env bash
# Builds llama.cpp's llama-bench from the source package of the pip package llama-cpp-python
# (PyPI ships it with llama.cpp vendored), outside the repo. Prints the path of llama-bench.
#   bash bench/build_llamacpp.sh [DEST=~/.cache/gemma3n-bench]
set -euo pipefail
VERSION=0.3.36
DEST=${1:-$HOME/.cache/gemma3n-bench}
SRC="$DEST/llama_cpp_python-$VERSION"
BIN="$SRC/vendor/llama.cpp/build/bin/llama-bench"
if [ ! -x "$BIN" ] || ! grep -q "GGML_AMX_TILE:BOOL=OFF" "$SRC/vendor/llama.cpp/build/CMakeCache.txt" 2>/dev/null; then
  mkdir -p "$DEST"
  if [ ! -d "$SRC" ]; then
    PIP=pip3
    command -v pip3 > /dev/null || PIP="python3 -m pip"
    $PIP download --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$DEST" -q
    tar -xzf "$DEST/llama_cpp_python-$VERSION.tar.gz" -C "$DEST"
  fi
  # Native x86 flags except AMX: on these VMs the CPU reports AMX but ggml's AMX matmul
  # segfaults (llama-bench on a Q4_0 Gemma 3n, in ggml_backend_amx_mul_mat), and -march=native
  # would compile it in. AVX-512 (+VNNI/BF16/VBMI), AVX2/FMA and weight repacking stay on.
  FLAGS=(-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
  if [ "$(uname -m)" = x86_64 ]; then
    for f in avx avx2 fma f16c bmi2 avx512f avx512vbmi avx512_vnni avx512_bf16 avx_vnni; do
      flag=$(echo "$f" | tr a-z A-Z | tr -d _)
      [ "$f" = avx512_vnni ] && flag=AVX512_VNNI
      [ "$f" = avx512_bf16 ] && flag=AVX512_BF16
      [ "$f" = avx512f ] && flag=AVX512
      [ "$f" = avx512vbmi ] && flag=AVX512_VBMI
      [ "$f" = avx_vnni ] && flag=AVX_VNNI
      grep -qw "$f" /proc/cpuinfo && FLAGS+=("-DGGML_$flag=ON")
    done
  else
    FLAGS=(-DGGML_NATIVE=ON)
  fi
  cmake -S "$SRC/vendor/llama.cpp" -B "$SRC/vendor/llama.cpp/build" -DCMAKE_BUILD_TYPE=Release "${FLAGS[@]}" \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF > "$DEST/cmake.log" 2>&1
  cmake --build "$SRC/vendor/llama.cpp/build" --target llama-bench -j "$(nproc)" > "$DEST/build.log" 2>&1
fi
echo "$BIN"
