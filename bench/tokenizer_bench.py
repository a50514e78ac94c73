#!/usr/bin/env python3
"""Gemma tokenizer speed: ours (bench/tokenizer_bench.cpp) vs Hugging Face `tokenizers`, one thread.

    /work/venv/bin/python bench/tokenizer_bench.py [--bin build/tokenizer_bench] [--seconds 3]

Both encode every text of tests/tokenizer/corpus.jsonl (invalid-UTF-8 records as their
errors="replace" repair) without <bos>, in whole passes; the best pass counts. HF runs with
RAYON_NUM_THREADS=1 and TOKENIZERS_PARALLELISM=false, through Tokenizer.encode per text and
through encode_batch (one call, less Python overhead); the faster of the two is the reference.
HF caches BPE results per word (here: per line) inside a Tokenizer, so its first pass on a fresh
instance ("cold") is reported too. Load times: Tokenizer.from_file vs our JSON parse and our
binary cache. Needs tokenizers (the project venv) and the built bench binary.
"""
import argparse
import json
import os
import subprocess
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402  (after the thread settings)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def corpus_texts(path):
    texts = []
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        texts.append(r["text"] if "text" in r else bytes.fromhex(r["hex"]).decode("utf-8", errors="replace"))
    return texts


def best_of(fn, seconds):
    best, total, passes = float("inf"), 0.0, 0
    while total < seconds or passes < 3:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, total, passes = min(best, dt), total + dt, passes + 1
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "tokenizer_bench"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "..", "shared", "tokenizer"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests", "tokenizer", "corpus.jsonl"))
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()

    texts = corpus_texts(args.corpus)
    nbytes = sum(len(t.encode()) for t in texts)
    t0 = time.perf_counter()
    tok = Tokenizer.from_file(os.path.join(args.tokenizer, "tokenizer.json"))
    hf_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    ntok = sum(len(tok.encode(t, add_special_tokens=False).ids) for t in texts)
    hf_cold = time.perf_counter() - t0
    hf_single = best_of(lambda: [tok.encode(t, add_special_tokens=False) for t in texts], args.seconds)
    hf_batch = best_of(lambda: tok.encode_batch(texts, add_special_tokens=False), args.seconds)
    hf_best = min(hf_single, hf_batch)

    out = subprocess.run([args.bin, "--tokenizer", args.tokenizer, "--corpus", args.corpus, "--seconds",
                          str(args.seconds), "--json"], check=True, capture_output=True, text=True).stdout
    ours = json.loads(out)
    if ours["tokens"] != ntok:
        sys.exit(f"token counts differ: ours {ours['tokens']}, HF {ntok}")

    mb = lambda s: nbytes / s / 1e6  # noqa: E731
    print(f"corpus: {len(texts)} texts, {nbytes} bytes, {ntok} tokens (one thread each)")
    print(f"{'':34s} {'seconds':>9s} {'MB/s':>8s} {'Mtok/s':>8s}")
    rows = [("HF tokenizers encode, first pass", hf_cold), ("HF tokenizers encode, best pass", hf_single),
            ("HF tokenizers encode_batch, best", hf_batch), ("gemma3n.cpp Encode, best pass", ours["encode_best_s"])]
    for name, s in rows:
        print(f"{name:34s} {s:9.4f} {mb(s):8.2f} {ntok / s / 1e6:8.2f}")
    print(f"encode speed ratio (ours / best HF): {hf_best / ours['encode_best_s']:.2f}x")
    print(f"load: HF from_file {hf_load:.3f} s; ours {ours['load_json_s']:.3f} s from JSON, "
          f"{ours['load_cache_s']:.3f} s from the binary cache")
    print(f"decode (ours): {ours['decode_mb_s']:.1f} MB/s")


if __name__ == "__main__":
    main()
