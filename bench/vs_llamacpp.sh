#!/usr/bin/env bash
# gemma3n.cpp side by side with llama.cpp on the same GGUF files (issue 4).
#
#   bash bench/vs_llamacpp.sh [REPLICA_DIR]      (default /tmp/replica-e2b)
#   env: TYPES="F16 BF16 Q8_0 Q4_0 Q4_K_M"  THREADS=2  WORK=/tmp/g3n-vs-llamacpp  REPS=1
#        LLAMA_BENCH=path/to/llama-bench (default: built by bench/build_llamacpp.sh)
#
# Needs build/gemma3n (make build), a full-size random replica (python3 tools/make_replica.py
# --size e2b --out /tmp/replica-e2b --tokenizer-dir ../shared/tokenizer) and llama-bench, which
# bench/build_llamacpp.sh builds from the llama-cpp-python source package. For each type it
# writes the GGUF with `gemma3n quantize` (llama.cpp loads these files), then measures both
# engines on it in turn: prefill of 512 tokens (pp512), decode of 128 (tg128) and time to first
# token of a 1024-token prompt (TTFT = 1024 / pp1024). It also measures the machine's memory
# read bandwidth and the share of it each engine's decode reaches (resident weight bytes read
# per token x tokens/s). One JSON line per type goes to bench/results/vs_llamacpp.jsonl; the
# table is printed by bench/vs_llamacpp_table.py.
set -euo pipefail
cd "$(dirname "$0")/.."
REPLICA=${1:-/tmp/replica-e2b}
TYPES=${TYPES:-"F16 BF16 Q8_0 Q4_0 Q4_K_M"}
T=${THREADS:-2}
WORK=${WORK:-/tmp/g3n-vs-llamacpp}
REPS=${REPS:-1}
OUT=bench/results/vs_llamacpp.jsonl
G3N=build/gemma3n
mkdir -p "$WORK"
LLAMA_BENCH=${LLAMA_BENCH:-$(bash bench/build_llamacpp.sh)}
[ -x "$G3N" ] || { echo "build first: make build" >&2; exit 1; }

BW=$(build/kernels_bench --threads "$T" --types Q4_0 --tokens 1 --shapes small --min-time 0.3 --json "$WORK/bw.json" \
     > /dev/null && python3 -c "import json;print(json.load(open('$WORK/bw.json'))['bandwidth_gbps'])")
echo "memory read bandwidth: $BW GB/s ($T threads)"

for type in $TYPES; do
  f="$WORK/$(basename "$REPLICA")-$type.gguf"
  [ -f "$f" ] || "$G3N" quantize --model "$REPLICA" --type "$type" --out "$f" > /dev/null
  load=$(cut -d' ' -f1 /proc/loadavg)
  ours=$("$G3N" bench --model "$f" -p 512 -n 128 -t "$T" --json --memory)
  ours_ttft=$("$G3N" bench --model "$f" -p 1024 -n 1 -t "$T" --json)
  theirs=$("$LLAMA_BENCH" -m "$f" -p 512,1024 -n 128 -t "$T" -r "$REPS" -o jsonl 2> "$WORK/llama-bench-$type.log")
  python3 - "$type" "$BW" "$load" "$(nproc)" <<PY >> "$OUT"
import json, sys, datetime
type_, bw, load, cores = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
ours = json.loads('''$ours''')
ttft = json.loads('''$ours_ttft''')
llama = [json.loads(l) for l in '''$theirs'''.splitlines() if l.strip().startswith("{")]
def ts(n_prompt, n_gen):
    for r in llama:
        if r["n_prompt"] == n_prompt and r["n_gen"] == n_gen:
            return r["avg_ts"]
    return None
weights_gb = ours["memory_mib"]["weights_resident"] * 1048576 / 1e9
rec = {
    "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ"), "model": "$(basename "$REPLICA")",
    "type": type_, "threads": ours["threads"],
    "machine": f"{cores} cores, load {load} at start", "bandwidth_gbps": bw, "weights_read_per_token_gb": round(weights_gb, 3),
    "ours": {"pp512": ours["prefill_tok_s"], "tg128": ours["decode_tok_s"],
             "ttft1024_s": round(1024 / ttft["prefill_tok_s"], 2), "peak_rss_mib": ours["peak_rss_mib"],
             "bw_fraction": round(weights_gb * ours["decode_tok_s"] / bw, 3)},
    "llama_cpp": {"pp512": ts(512, 0), "tg128": ts(0, 128),
                  "ttft1024_s": round(1024 / ts(1024, 0), 2) if ts(1024, 0) else None,
                  "bw_fraction": round(weights_gb * ts(0, 128) / bw, 3) if ts(0, 128) else None,
                  "build": llama[0].get("build_commit") if llama else None},
}
print(json.dumps(rec))
PY
  tail -1 "$OUT"
done
python3 bench/vs_llamacpp_table.py "$OUT"
