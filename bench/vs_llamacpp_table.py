"""Prints bench/results/vs_llamacpp.jsonl (written by bench/vs_llamacpp.sh) as a Markdown table
with our/llama.cpp ratios (higher is better for us: speed ratios, and llama.cpp's TTFT / ours)."""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "bench/results/vs_llamacpp.jsonl"
rows = [json.loads(l) for l in open(path) if l.strip()]
print("| date | model | type | pp512 ours / llama.cpp (x) | tg128 ours / llama.cpp (x) | TTFT-1024 ours / llama.cpp (x) | "
      "decode share of bandwidth ours / llama.cpp | machine |")
print("|---|---|---|---|---|---|---|---|")


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


for r in rows:
    o, l = r["ours"], r["llama_cpp"]
    # Runs before the "model" field were all on the E2B replica.
    print(f"| {r['date']} | {r.get('model', 'replica-e2b')} | {r['type']} | {o['pp512']:.1f} / {l['pp512'] or 0:.1f} ({ratio(o['pp512'], l['pp512'])}) "
          f"| {o['tg128']:.2f} / {l['tg128'] or 0:.2f} ({ratio(o['tg128'], l['tg128'])}) "
          f"| {o['ttft1024_s']:.1f} s / {l['ttft1024_s'] or 0:.1f} s ({ratio(l['ttft1024_s'], o['ttft1024_s'])}) "
          f"| {o['bw_fraction']:.0%} / {(l['bw_fraction'] or 0):.0%} | {r['machine']}, {r['bandwidth_gbps']:.1f} GB/s |")
