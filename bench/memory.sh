#!/usr/bin/env bash
# Peak memory on full-size replicas (issue 5): E2B with every matrix in 4 bits (LM head and PLE
# included), E2B in the default Q4_0 mix (LM head Q6_K, as llama.cpp writes it) next to
# llama.cpp on the same file, and E4B all-4-bit; 1K-token prompt + 128 new tokens, 4K context.
#   bash bench/memory.sh [E2B_REPLICA=/tmp/replica-e2b] [E4B_REPLICA=/tmp/replica-e4b]
# With TOWERS=DIR (an HF folder holding both full-size towers: see bench/README.md) it also
# runs E2B all-4-bit with the image and audio towers loaded in 8 bits (--encoder-type Q8_0),
# encoding IMAGE and a 30 s AUDIO clip before the same text run.
# Appends JSON lines to bench/results/memory.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
E2B=${1:-/tmp/replica-e2b}
E4B=${2:-/tmp/replica-e4b}
WORK=${WORK:-/tmp/g3n-memory}
OUT=bench/results/memory.jsonl
mkdir -p "$WORK"
quant() {  # quant SRC OUT ARGS...
  local src=$1 out=$2
  shift 2
  [ -f "$out" ] || build/gemma3n quantize --model "$src" --out "$out" "$@" > /dev/null 2>&1
}
record() {  # record LABEL CMD...
  local label=$1
  shift
  local json
  json=$("$@" -p 1024 -n 128 --ctx 4096 -t 2 --json --memory)
  python3 -c "import json,sys,datetime; r=json.loads(sys.argv[2]); print(json.dumps({'date': datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%MZ'), 'label': sys.argv[1], 'load': open('/proc/loadavg').read().split()[0], 'result': r}))" "$label" "$json" | tee -a "$OUT"
}
quant "$E2B" "$WORK/e2b-all4.gguf" --type Q4_0 --embed-type Q4_0 --ple-type Q4_0
record "E2B all-4-bit (Q4_0 incl. LM head and PLE)" build/gemma3n bench --model "$WORK/e2b-all4.gguf"
quant "$E2B" "$WORK/e2b-q4_0.gguf" --type Q4_0
record "E2B Q4_0 (llama.cpp's mix: LM head Q6_K)" build/gemma3n bench --model "$WORK/e2b-q4_0.gguf"
# llama.cpp on the same file: peak RSS of llama-bench, 512-token prompt as in the issue's figure.
LLAMA_BENCH=${LLAMA_BENCH:-$(bash bench/build_llamacpp.sh)}
/usr/bin/time -f "%M" -o "$WORK/llama.rss" "$LLAMA_BENCH" -m "$WORK/e2b-q4_0.gguf" -p 512 -n 128 -t 2 -r 1 -o jsonl > /dev/null 2>&1 || true
python3 -c "import json,datetime; print(json.dumps({'date': datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%MZ'), 'label': 'llama.cpp llama-bench on the same E2B Q4_0 file (pp512 + tg128)', 'peak_rss_mib': round(int(open('$WORK/llama.rss').read().split()[-1]) / 1024, 1)}))" | tee -a "$OUT"
if [ -n "${TOWERS:-}" ]; then
  record "E2B all-4-bit + vision and audio towers in Q8_0 (one image, one 30 s clip)" build/gemma3n bench \
    --model "$WORK/e2b-all4.gguf" --mmproj "$TOWERS" --encoder-type Q8_0 --image "$IMAGE" --audio "$AUDIO"
fi
[ -d "$E4B" ] || exit 0
quant "$E4B" "$WORK/e4b-all4.gguf" --type Q4_0 --embed-type Q4_0 --ple-type Q4_0
record "E4B all-4-bit (Q4_0 incl. LM head and PLE)" build/gemma3n bench --model "$WORK/e4b-all4.gguf"
