#!/usr/bin/env bash
# The full-size random towers, ours against the reference on the same weights in the same run
# (issues 6 and 7): seconds per 768x768 image (MobileNet-V5 + MSFA + embed_vision) and per 30 s
# clip (SSCP + 12 conformer blocks + embed_audio), ours on 1 and 2 threads with the towers as
# stored (BF16) and in Q8_0, the reference (timm / transformers, float32, torch CPU) on 2.
#   bash bench/encoders.sh TOWERS_DIR TEXT_MODEL [PYTHON=/opt/g3n-venv/bin/python]
# TOWERS_DIR from tools/make_towers_dir.py (with --clip /tmp/clip30.wav); TEXT_MODEL: the
# matching text model (e.g. the E2B all-4-bit GGUF of bench/memory.sh). Appends a JSON line to
# bench/results/encoders.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
TOWERS=$1
TEXT=$2
PY=${PYTHON:-/opt/g3n-venv/bin/python}
IMAGE=${IMAGE:-tests/fixtures/vision/big_800x600.jpg}
CLIP=${CLIP:-/tmp/clip30.wav}
OUT=bench/results/encoders.jsonl
ours() {  # ours THREADS TYPE: the second image / clip of each pair is timed (the first binds)
  build/gemma3n bench --model "$TEXT" -p 8 -n 1 -t "$1" --json --mmproj "$TOWERS" --encoder-type "$2" \
    --image "$IMAGE" --image "$IMAGE" --audio "$CLIP" --audio "$CLIP"
}
load=$(cut -d' ' -f1 /proc/loadavg)
o1=$(ours 1 stored)
o2=$(ours 2 stored)
q2=$(ours 2 Q8_0)
ref=$("$PY" bench/encoders_vs_transformers.py "$TOWERS" --threads 2)
python3 - "$load" "$o1" "$o2" "$q2" "$ref" <<'PY' | tee -a "$OUT"
import datetime, json, sys
load, o1, o2, q2, ref = sys.argv[1], *[json.loads(a) for a in sys.argv[2:]]
rec = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%MZ"), "load_at_start": load,
       "kernel_target": o2["kernel_target"],
       "ours": {"image_s_1t": o1["image_encode_s"], "image_s_2t": o2["image_encode_s"],
                "audio30_s_1t": o1["audio_encode_s"], "audio30_s_2t": o2["audio_encode_s"],
                "image_s_2t_q8_0": q2["image_encode_s"], "audio30_s_2t_q8_0": q2["audio_encode_s"]},
       "reference_2t": {"image_s": ref["image_s"], "audio30_s": ref["audio_30s_s"], "torch": ref["torch"]}}
rec["ratio_2t"] = {"image": round(ref["image_s"] / o2["image_encode_s"], 2),
                   "audio": round(ref["audio_30s_s"] / o2["audio_encode_s"], 2)}
rec["audio_rtf_2t"] = round(o2["audio_encode_s"] / 30.0, 3)
print(json.dumps(rec))
PY
