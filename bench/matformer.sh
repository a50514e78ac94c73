#!/usr/bin/env bash
# MatFormer (issue 8): the full-size E4B replica run as itself, as the official E2B slice and as
# two mix-n-match points, all elastic (one E4B load, no weight copy), next to a standalone E2B
# checkpoint cut by `gemma3n slice`: resident weights, peak RSS and decode speed.
#   bash bench/matformer.sh [E4B_REPLICA=/tmp/replica-e4b]
# Appends JSON lines to bench/results/matformer.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
E4B=${1:-/tmp/replica-e4b}
SLICE=${SLICE:-/tmp/g3n-e4b-slice-e2b}
OUT=bench/results/matformer.jsonl
[ -d "$SLICE" ] || build/gemma3n slice --model "$E4B" --submodel E2B --out "$SLICE" > /dev/null 2>&1
run() {  # run LABEL ARGS...
  local label=$1
  shift
  local json
  json=$(build/gemma3n bench "$@" -p 64 -n 32 -t 2 --json --memory)
  python3 -c "import json,sys,datetime; r=json.loads(sys.argv[2]); print(json.dumps({'date': datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%MZ'), 'label': sys.argv[1], 'load': open('/proc/loadavg').read().split()[0], 'result': r}))" "$label" "$json" | tee -a "$OUT"
}
run "E4B (full)" --model "$E4B"
run "E4B as E2B (elastic)" --model "$E4B" --submodel E2B
run "E4B as E2.49B-block (elastic)" --model "$E4B" --submodel E2.49B-block
run "E4B as E2.98B-layer (elastic)" --model "$E4B" --submodel E2.98B-layer
run "E2B sliced checkpoint" --model "$SLICE"
