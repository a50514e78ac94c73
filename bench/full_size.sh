#!/usr/bin/env bash
# Full-size proof: writes random-weight replicas of E2B and E4B in the real HF layout (never
# committed; ~9 GB and ~14 GB), then runs `gemma3n bench` on each and appends one JSON line per
# run to bench/results/full_size.jsonl. Each model runs twice: the first run reads the weights
# from disk, the second finds them in the page cache.
#
#   bash bench/full_size.sh [REPLICA_ROOT=/tmp] [-p 512] [-n 32]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-/tmp}
P=${P:-512}
N=${N:-32}
THREADS=${THREADS:-$(nproc)}
BIN=./build/gemma3n
[ -x "$BIN" ] || make build
PY=python3
if ! $PY -c "import numpy" 2>/dev/null; then
  [ -x "$ROOT/g3n-bench-venv/bin/python" ] || { python3 -m venv "$ROOT/g3n-bench-venv" && "$ROOT/g3n-bench-venv/bin/pip" install -q numpy; }
  PY="$ROOT/g3n-bench-venv/bin/python"
fi
mkdir -p bench/results
for size in e2b e4b; do
  dir="$ROOT/replica-$size"
  [ -f "$dir/model.safetensors.index.json" ] || $PY tools/make_replica.py --size $size --out "$dir" --force
  for run in cold warm; do
    line=$($BIN bench --model "$dir" -p "$P" -n "$N" -t "$THREADS" --json)
    echo "{\"size\": \"$size\", \"run\": \"$run\", \"date\": \"$(date -u +%FT%TZ)\", \"cpu\": \"$(lscpu | sed -n 's/^Model name: *//p')\", \"result\": $line}" \
      | tee -a bench/results/full_size.jsonl
  done
done
