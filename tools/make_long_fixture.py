#!/usr/bin/env python3
"""Generate tests/fixtures/tiny-long/: a tiny random Gemma 3n run past 32K positions.

The checkpoint is built and written by tools/make_fixtures.py (imported, same weight
init, same HF layout: nested config.json, BF16 `model.language_model.*` tensors).
The transformers reference runs in float32 (eager attention) over T = 33000 tokens,
fed in chunks of CHUNK tokens through one DynamicCache, and records the soft-capped
logits at the first 32 positions, around position 32768 and at the last 32 positions.
It shows that positions, RoPE (bases 1e4 / 1e6) and the sliding window (64) are still
exact at the far end of a 32K context.

Layers: sliding, sliding, full, sliding, full. The last two share KV: layer 3 reads
layer 1's cache (sliding) and layer 4 reads layer 2's cache (full), so the far end also
covers a KV-consumer query against a 33K-position global cache. (Types cannot be 4 sliding
+ 1 full with the full layer last and KV sharing on: transformers needs a non-shared
layer of every shared type.)

Run from the repository root (same environment as tools/make_fixtures.py; about a
minute on one CPU thread):

    ~/venv/bin/python tools/make_long_fixture.py [--out tests/fixtures]

Seeded and single-threaded: reruns give byte-identical files. Before the long run the
script checks, on a 2600-token prefix, that chunked prefill through the DynamicCache
equals one cache-less forward. After it, it reruns the last chunk with deliberate
errors (RoPE position off by one, window 63, RoPE angles in float64) and prints how
far each moves the recorded logits, to show the fixture's tolerance would catch them.
"""

import argparse
import copy
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import transformers
import safetensors
from safetensors.torch import save_file
from transformers import DynamicCache

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (build_model, write_checkpoint)

NAME = "tiny-long"
T_LONG = 33000  # past 32768
CHUNK = 1024  # tokens per reference forward
N_EDGE = 32  # logits of the first / last N_EDGE positions
AROUND = list(range(32760, 32776))  # logits around position 32768 (2^15)
T_CHECK = 2600  # chunked-vs-whole check length (> 2 chunks, >> window)

SPEC = dict(
    seed=4004,
    nested=True,
    storage="bf16",
    shards=1,
    text=dict(
        vocab_size=256,
        vocab_size_per_layer_input=256,
        hidden_size=32,
        hidden_size_per_layer_input=4,
        num_hidden_layers=5,
        num_attention_heads=1,
        num_key_value_heads=1,
        head_dim=16,
        intermediate_size=[64, 48, 64, 48, 64],
        laurel_rank=4,
        altup_num_inputs=4,
        sliding_window=64,
        layer_types=["sliding_attention", "sliding_attention", "full_attention",
                     "sliding_attention", "full_attention"],
        num_kv_shared_layers=2,
        activation_sparsity_pattern=[0.95, 0.0, 0.0, 0.0, 0.0],
        final_logit_softcapping=30.0,
        max_position_embeddings=40960,
        rope_parameters={
            "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
            "full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
        },
    ),
)


def logit_positions(T):
    pos = list(range(N_EDGE)) + AROUND + list(range(T - N_EDGE, T))
    assert pos == sorted(set(pos)) and pos[-1] == T - 1
    return pos


@torch.no_grad()
def run_chunked(model, ids, chunk, keep=None, stop_before=None):
    """Feed ids[None] in chunks through one DynamicCache; return {pos: logits row}.

    With stop_before, stops before the chunk that starts there and also returns the cache."""
    cache = DynamicCache(config=model.config)
    out = {}
    T = ids.numel()
    for b in range(0, T, chunk):
        if stop_before is not None and b == stop_before:
            return out, cache
        o = model(input_ids=ids[None, b:b + chunk], cache=cache, use_cache=True, logits_to_keep=0)
        cache = o.cache
        lg = o.logits[0].float()
        for t in range(lg.shape[0]):
            if keep is None or b + t in keep:
                out[b + t] = lg[t].clone()
    return out, cache


class RopeTamper:
    """Context manager that perturbs the rotary embedding of one layer type."""

    def __init__(self, model, layer_type, shift=0, float64=False):
        self.rot = model.model.rotary_emb
        self.layer_type, self.shift, self.float64 = layer_type, shift, float64

    def __enter__(self):
        orig = self.rot.forward

        def fwd(x, position_ids, layer_type=None):
            if layer_type != self.layer_type:
                return orig(x, position_ids, layer_type)
            pid = position_ids + self.shift
            if not self.float64:
                return orig(x, pid, layer_type)
            inv = getattr(self.rot, f"{layer_type}_inv_freq").double()
            freqs = pid[0].double()[:, None] * inv[None, :]
            emb = torch.cat((freqs, freqs), dim=-1)
            scale = getattr(self.rot, f"{layer_type}_attention_scaling", 1.0)
            return (emb.cos() * scale).float()[None], (emb.sin() * scale).float()[None]

        self.rot.forward = fwd
        return self

    def __exit__(self, *a):
        del self.rot.forward


@torch.no_grad()
def sensitivity(model, ids, last_b, cache_before, ref_rows, positions):
    """Rerun the last chunk with deliberate errors; max |dlogit| over the recorded rows in it."""
    rows = [p for p in positions if p >= last_b]
    want = torch.stack([ref_rows[p] for p in rows])

    def rerun():
        cache = copy.deepcopy(cache_before)
        lg = model(input_ids=ids[None, last_b:], cache=cache, use_cache=True, logits_to_keep=0).logits[0]
        return (torch.stack([lg[p - last_b] for p in rows]) - want).abs().max().item()

    res = {"rerun (no change)": rerun()}
    with RopeTamper(model, "full_attention", shift=1):
        res["full-attention RoPE position +1"] = rerun()
    with RopeTamper(model, "sliding_attention", shift=1):
        res["sliding RoPE position +1"] = rerun()
    with RopeTamper(model, "full_attention", float64=True):
        res["full-attention RoPE angles in float64"] = rerun()
    with RopeTamper(model, "sliding_attention", float64=True):
        res["sliding RoPE angles in float64"] = rerun()
    cfg = model.config
    w = cfg.sliding_window
    mods = [l.self_attn for l in model.model.layers if l.self_attn.is_sliding]
    try:
        cfg.sliding_window = w - 1
        for m in mods:
            m.sliding_window = w - 1
        res[f"sliding window {w - 1} instead of {w}"] = rerun()
    finally:
        cfg.sliding_window = w
        for m in mods:
            m.sliding_window = w
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
    ap.add_argument("--no-sensitivity", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    print(f"torch {torch.__version__}  transformers {transformers.__version__}  "
          f"safetensors {safetensors.__version__}  numpy {np.__version__}")

    outdir = os.path.normpath(os.path.join(args.out, NAME))
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    model, tcfg, ckpt = mf.build_model(SPEC)
    assert model.config._attn_implementation == "eager"
    mf.write_checkpoint(outdir, SPEC, tcfg, ckpt)
    print(f"== {NAME}: L={tcfg.num_hidden_layers} H={tcfg.hidden_size} V={tcfg.vocab_size} "
          f"types={tcfg.layer_types} kv_sharing={tcfg.kv_sharing_modes}")

    gen = torch.Generator().manual_seed(SPEC["seed"] + 7)
    ids = torch.randint(3, tcfg.vocab_size_per_layer_input, (T_LONG,), generator=gen, dtype=torch.int64)
    ids[0] = 2  # <bos>

    # ---- the chunked cache path equals a single cache-less forward (short prefix) ----------
    t0 = time.time()
    with torch.no_grad():
        whole = model(input_ids=ids[None, :T_CHECK], use_cache=False, logits_to_keep=0).logits[0]
    rows, _ = run_chunked(model, ids[:T_CHECK], CHUNK)
    chunked = torch.stack([rows[p] for p in range(T_CHECK)])
    d_chunk = (chunked - whole).abs().max().item()
    print(f"   check T={T_CHECK}: max|chunked({CHUNK}) - whole| = {d_chunk:.3e} "
          f"(max|logit| {whole.abs().max().item():.3f}) [{time.time() - t0:.1f}s]")
    assert d_chunk <= 1e-5 * whole.abs().max().item(), d_chunk

    # ---- the long run -------------------------------------------------------------------
    positions = logit_positions(T_LONG)
    last_b = (T_LONG - 1) // CHUNK * CHUNK
    t0 = time.time()
    ref_rows, cache_before = run_chunked(model, ids, CHUNK, keep=set(positions), stop_before=last_b)
    snapshot = copy.deepcopy(cache_before)
    with torch.no_grad():
        o = model(input_ids=ids[None, last_b:], cache=cache_before, use_cache=True, logits_to_keep=0)
    for t in range(o.logits.shape[1]):
        if last_b + t in positions:
            ref_rows[last_b + t] = o.logits[0, t].float().clone()
    t_long = time.time() - t0
    assert o.cache.get_seq_length() == T_LONG, o.cache.get_seq_length()
    logits = torch.stack([ref_rows[p] for p in positions]).contiguous()
    assert logits.shape == (len(positions), tcfg.vocab_size)

    ref = {
        "input_ids": ids.to(torch.int32).contiguous(),
        "logit_positions": torch.tensor(positions, dtype=torch.int32),
        "logits": logits,
    }
    info = json.dumps({
        "generator": "tools/make_long_fixture.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "T": T_LONG,
        "chunk": CHUNK,
    }, sort_keys=True)
    save_file(ref, os.path.join(outdir, "reference.safetensors"), metadata={"fixture_info": info})

    am = logits.argmax(-1)
    top2 = logits.topk(2, dim=-1).values
    print(f"   reference T={T_LONG} in chunks of {CHUNK}: {t_long:.1f}s")
    print(f"   logit positions: {len(positions)}; max|logit| {logits.abs().max().item():.3f}; "
          f"logit std {logits.std().item():.3f}; distinct argmax {int(am.unique().numel())}; "
          f"min top1-top2 gap {(top2[:, 0] - top2[:, 1]).min().item():.2e}")
    size = sum(os.path.getsize(os.path.join(outdir, f)) for f in os.listdir(outdir))
    print(f"   files: {sorted(os.listdir(outdir))}, {size} bytes")

    if not args.no_sensitivity:
        scale = logits.abs().max().item()
        for k, v in sensitivity(model, ids, last_b, snapshot, ref_rows, positions).items():
            print(f"   sensitivity, last {T_LONG - last_b} positions, {k}: max|dlogit| = {v:.3e} "
                  f"({v / scale:.1e} of max|logit|)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
