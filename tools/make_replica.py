#!/usr/bin/env python3
"""Write a full-size RANDOM-weight replica of google/gemma-3n-E2B-it or -E4B-it.

The output has the real Hugging Face layout, so it can stand in for the real
checkpoint in load-time, memory and speed benchmarks:

    config.json                       nested Gemma3nConfig (tools/replica_configs/<size>.json)
    generation_config.json            as Google's converter writes it for the IT models
    model-0000K-of-0000N.safetensors  text tensors only (model.language_model.*), BF16
    model.safetensors.index.json      {"metadata": {"total_size": ...}, "weight_map": {...}}
    tokenizer.json, tokenizer_config.json   only with --tokenizer-dir

Usage (needs only Python 3 and numpy; no torch, no transformers):

    python3 tools/make_replica.py --size e2b --out /tmp/e2b [--seed 0]
    python3 tools/make_replica.py --size e4b --out /tmp/e4b --tokenizer-dir shared/tokenizer
    options: --shard-gb 4.0 (max shard size in GB = 1e9 bytes; a larger tensor gets its
             own shard, like huggingface_hub), --force (write into a non-empty --out)

Output is ~8.9 GB (E2B) / ~13.7 GB (E4B). Never commit it.

What is written (see shared/spec/gemma3n-text.md sections 1, 2.1, 5):
  * the 11 global + 24 per-layer text tensors with their exact names and shapes
    (731 tensors for E2B, 851 for E4B); no vision/audio towers.
  * values are random but chosen so a forward pass stays numerically sane:
      nn.Linear weights [out, in] ~ N(0, 1/in)
      embed_tokens, embed_tokens_per_layer ~ N(0, 0.03^2); embed_tokens rows
        262144..262399 are copies of row 0, as in the real converter output
      RMSNorm weights ~ 1 + 0.05 N (q_norm / k_norm: 0.25 * (1 + 0.05 N), so that
        the unscaled q.k scores have std ~1 instead of ~16)
      altup.correct_output_scale ~ 1 + 0.05 N, altup prediction/correction coefs ~ 0.05 N
  * speed: tensors with more than 1M elements are not drawn element by element.
    One 16M-value bf16 block per distinct standard deviation is drawn once; each
    4M-value chunk of a tensor is a slice of that block at a per-tensor, per-chunk
    pseudo-random offset, XORed with a per-chunk mask that flips the sign and the
    3 low mantissa bits. The bytes depend only on --seed (deterministic output).
  * streaming: tensor data is written in chunks; peak RSS stays ~0.4 GB (measured 389 MB).

The config templates were produced once with transformers 5.24
(Gemma3nConfig(text_config=Gemma3nTextConfig(num_hidden_layers=30|35,
intermediate_size=[8192]*30|[16384]*35, num_kv_shared_layers=10|15), default
vision/audio configs).to_json_string()) and then rewritten to the original
release's spelling (transformers 4.53): rope_theta / rope_local_base_freq /
rope_scaling instead of rope_parameters, plus query_pre_attn_scalar,
altup_lr_multiplier, torch_dtype, architectures and eos_token_id [1, 106].
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import time

import numpy as np

PREFIX = "model.language_model."
BLOCK = 1 << 24          # values per shared random block
CHUNK = 1 << 22          # values per write
SMALL = 1 << 20          # tensors up to this many values are drawn directly
EXPECTED_NON_EMBEDDING = {"e2b": 1_905_495_648, "e4b": 3_980_491_248}
EXPECTED_TENSORS = {"e2b": 731, "e4b": 851}

GENERATION_CONFIG = {
    "bos_token_id": 2,
    "cache_implementation": "hybrid",
    "do_sample": True,
    "eos_token_id": [1, 106],
    "pad_token_id": 0,
    "temperature": 1.0,
    "top_k": 64,
    "top_p": 0.95,
    "transformers_version": "4.53.0.dev0",
}


def to_bf16(x):
    """float array -> little-endian uint16 bf16 bits, round to nearest even."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    r = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    return r.astype("<u2")


def name_seed(seed, name):
    h = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(h[:8], "little")


# ----------------------------------------------------------------------------
# tensor inventory


def tensor_specs(tc):
    """List of (name, shape, kind, std) in HF state-dict (module) order.

    kind: 'linear' / 'embed' (big, block generated or direct if small),
          'norm' (1 + 0.05 N, times std), 'coef' (std * N).
    """
    H = tc["hidden_size"]
    L = tc["num_hidden_layers"]
    P = tc["hidden_size_per_layer_input"]
    A = tc["altup_num_inputs"]
    Dh = tc["head_dim"]
    nq = tc["num_attention_heads"]
    nkv = tc["num_key_value_heads"]
    V = tc["vocab_size"]
    Vp = tc["vocab_size_per_layer_input"]
    R = tc["laurel_rank"]
    ffn = tc["intermediate_size"]
    if not isinstance(ffn, list):
        ffn = [ffn] * L
    assert len(ffn) == L

    def lin(name, out, inp):
        return (name, [out, inp], "linear", 1.0 / np.sqrt(inp))

    def norm(name, n, scale=1.0):
        return (name, [n], "norm", scale)

    specs = [(PREFIX + "embed_tokens.weight", [V, H], "embed", 0.03)]
    for l in range(L):
        p = f"{PREFIX}layers.{l}."
        F = ffn[l]
        specs += [
            lin(p + "self_attn.q_proj.weight", nq * Dh, H),
            lin(p + "self_attn.k_proj.weight", nkv * Dh, H),
            lin(p + "self_attn.v_proj.weight", nkv * Dh, H),
            lin(p + "self_attn.o_proj.weight", H, nq * Dh),
            norm(p + "self_attn.q_norm.weight", Dh, 0.25),
            norm(p + "self_attn.k_norm.weight", Dh, 0.25),
            lin(p + "mlp.gate_proj.weight", F, H),
            lin(p + "mlp.up_proj.weight", F, H),
            lin(p + "mlp.down_proj.weight", H, F),
            norm(p + "input_layernorm.weight", H),
            norm(p + "post_attention_layernorm.weight", H),
            norm(p + "pre_feedforward_layernorm.weight", H),
            norm(p + "post_feedforward_layernorm.weight", H),
            norm(p + "altup.correct_output_scale", H),
            (p + "altup.correction_coefs.weight", [A, A], "coef", 0.05),
            (p + "altup.prediction_coefs.weight", [A * A, A], "coef", 0.05),
            lin(p + "altup.modality_router.weight", A, H),
            norm(p + "altup.router_norm.weight", H),
            lin(p + "laurel.linear_left.weight", R, H),
            lin(p + "laurel.linear_right.weight", H, R),
            norm(p + "laurel.post_laurel_norm.weight", H),
            lin(p + "per_layer_input_gate.weight", P, H),
            lin(p + "per_layer_projection.weight", H, P),
            norm(p + "post_per_layer_input_norm.weight", H),
        ]
    specs += [
        norm(PREFIX + "norm.weight", H),
        (PREFIX + "embed_tokens_per_layer.weight", [Vp, L * P], "embed", 0.03),
        lin(PREFIX + "per_layer_model_projection.weight", L * P, H),
        norm(PREFIX + "per_layer_projection_norm.weight", P),
    ]
    specs += [lin(f"{PREFIX}altup_projections.{i}.weight", H, H) for i in range(A - 1)]
    specs += [lin(f"{PREFIX}altup_unembed_projections.{i}.weight", H, H) for i in range(A - 1)]
    return specs


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


# ----------------------------------------------------------------------------
# value generation


class Generator:
    def __init__(self, seed):
        self.seed = seed
        self.blocks = {}   # std -> uint16 array of BLOCK + CHUNK values (wrap-free slices)
        self.base = None
        self.buf = np.empty(CHUNK, dtype="<u2")

    def block(self, std):
        key = float(np.float32(std))
        b = self.blocks.get(key)
        if b is None:
            if self.base is None:
                rng = np.random.default_rng([self.seed, 0x5EED])
                self.base = rng.standard_normal(BLOCK, dtype=np.float32)
            b = np.empty(BLOCK + CHUNK, dtype="<u2")
            b[:BLOCK] = to_bf16(self.base * np.float32(std))
            b[BLOCK:] = b[:CHUNK]
            self.blocks[key] = b
        return b

    def small(self, name, shape, kind, std):
        rng = np.random.default_rng(name_seed(self.seed, name))
        z = rng.standard_normal(numel(shape), dtype=np.float32)
        if kind == "norm":
            v = std * (1.0 + 0.05 * z)
        else:
            v = std * z
        return to_bf16(v)

    def chunks(self, name, shape, kind, std):
        """Yield uint16 arrays whose concatenation is the tensor's bf16 data."""
        n = numel(shape)
        if n <= SMALL or kind in ("norm", "coef"):
            yield self.small(name, shape, kind, std)
            return
        blk = self.block(std)
        rng = np.random.default_rng(name_seed(self.seed, name))
        is_embed = name == PREFIX + "embed_tokens.weight"
        if is_embed:
            # real checkpoint: rows vocab_size_per_layer_input.. are copies of row 0 (<pad>)
            rows, cols = shape
            n_copy = max(0, rows - 262144)
            n = (rows - n_copy) * cols
        done = 0
        row0 = None
        while done < n:
            m = min(CHUNK, n - done)
            start = int(rng.integers(0, BLOCK))
            r = int(rng.integers(0, 16))
            mask = np.uint16((r & 0x7) | ((r >> 3) << 15))
            out = self.buf[:m]
            np.bitwise_xor(blk[start:start + m], mask, out=out)
            if is_embed and row0 is None:
                row0 = out[:cols].copy()
            yield out
            done += m
        if is_embed and n_copy:
            yield np.tile(row0, n_copy)


# ----------------------------------------------------------------------------
# sharding and safetensors writing


def plan_shards(specs, max_bytes):
    """Greedy split in state-dict order, like huggingface_hub: a tensor larger than
    max_bytes gets a shard of its own."""
    shards, cur, cur_bytes = [], [], 0
    for spec in specs:
        nbytes = numel(spec[1]) * 2
        if nbytes > max_bytes:
            shards.append([spec])
            continue
        if cur and cur_bytes + nbytes > max_bytes:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append(spec)
        cur_bytes += nbytes
    if cur:
        shards.append(cur)
    return shards


def safetensors_header(specs):
    """specs must already be in file order. Returns the padded header bytes."""
    hdr = {"__metadata__": {"format": "pt"}}
    off = 0
    for name, shape, _, _ in specs:
        nb = numel(shape) * 2
        hdr[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [off, off + nb]}
        off += nb
    js = json.dumps(hdr, separators=(",", ":")).encode()
    js += b" " * ((-len(js)) % 8)
    return len(js).to_bytes(8, "little") + js, off


def write_shard(path, specs, gen, progress):
    specs = sorted(specs, key=lambda s: s[0])
    header, data_bytes = safetensors_header(specs)
    with open(path, "wb") as f:
        f.write(header)
        for spec in specs:
            expect = numel(spec[1]) * 2
            wrote = 0
            for arr in gen.chunks(*spec):
                f.write(memoryview(arr).cast("B"))
                wrote += arr.nbytes
                progress(arr.nbytes)
            assert wrote == expect, (spec[0], wrote, expect)
    size = os.path.getsize(path)
    assert size == len(header) + data_bytes, (path, size)
    return size


# ----------------------------------------------------------------------------


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=["e2b", "e4b"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shard-gb", type=float, default=4.0)
    ap.add_argument("--tokenizer-dir", default=None)
    ap.add_argument("--config-dir", default=os.path.join(here, "replica_configs"))
    ap.add_argument("--force", action="store_true", help="allow a non-empty --out")
    args = ap.parse_args()

    t0 = time.time()
    with open(os.path.join(args.config_dir, args.size + ".json")) as f:
        config = json.load(f)
    tc = config["text_config"]

    if os.path.isdir(args.out) and os.listdir(args.out) and not args.force:
        sys.exit(f"error: {args.out} is not empty (use --force)")
    os.makedirs(args.out, exist_ok=True)
    # remove stale shards from an earlier run with a different shard count
    for fn in os.listdir(args.out):
        if fn.startswith("model-") and fn.endswith(".safetensors") or fn == "model.safetensors.index.json":
            os.remove(os.path.join(args.out, fn))

    specs = tensor_specs(tc)
    names = [s[0] for s in specs]
    assert len(set(names)) == len(names)
    assert len(specs) == EXPECTED_TENSORS[args.size], len(specs)
    total_params = sum(numel(s[1]) for s in specs)
    emb = numel(specs[0][1]) + sum(numel(s[1]) for s in specs
                                   if s[0] == PREFIX + "embed_tokens_per_layer.weight")
    non_emb = total_params - emb
    assert non_emb == EXPECTED_NON_EMBEDDING[args.size], (non_emb, EXPECTED_NON_EMBEDDING[args.size])
    total_size = total_params * 2

    with open(os.path.join(args.out, "config.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True) + "\n")
    with open(os.path.join(args.out, "generation_config.json"), "w") as f:
        f.write(json.dumps(GENERATION_CONFIG, indent=2, sort_keys=True) + "\n")
    copied = []
    if args.tokenizer_dir:
        for fn in ("tokenizer.json", "tokenizer_config.json"):
            src = os.path.join(args.tokenizer_dir, fn)
            if not os.path.exists(src):
                sys.exit(f"error: {src} not found")
            shutil.copyfile(src, os.path.join(args.out, fn))
            copied.append(fn)

    shards = plan_shards(specs, int(args.shard_gb * 1e9))
    nshards = len(shards)
    gen = Generator(args.seed)
    state = {"bytes": 0, "last": time.time()}

    def progress(nb):
        state["bytes"] += nb
        now = time.time()
        if now - state["last"] >= 5.0:
            state["last"] = now
            el = now - t0
            print(f"  {state['bytes'] / 1e9:6.2f} / {total_size / 1e9:.2f} GB  "
                  f"{el:6.1f}s  {state['bytes'] / 1e6 / max(el, 1e-9):.0f} MB/s", flush=True)

    print(f"gemma-3n-{args.size.upper()}-it replica -> {args.out}: {len(specs)} tensors, "
          f"{total_size / 1e9:.3f} GB in {nshards} shard(s), seed {args.seed}", flush=True)
    weight_map = {}
    files = []
    for k, shard in enumerate(shards, 1):
        fn = f"model-{k:05d}-of-{nshards:05d}.safetensors"
        ts = time.time()
        size = write_shard(os.path.join(args.out, fn), shard, gen, progress)
        for s in shard:
            weight_map[s[0]] = fn
        files.append((fn, size, len(shard)))
        print(f"wrote {fn}: {len(shard)} tensors, {size / 1e9:.3f} GB, {time.time() - ts:.1f}s", flush=True)

    index = {"metadata": {"total_size": total_size},
             "weight_map": {k: weight_map[k] for k in sorted(weight_map)}}
    with open(os.path.join(args.out, "model.safetensors.index.json"), "w") as f:
        f.write(json.dumps(index, indent=2) + "\n")

    el = time.time() - t0
    file_bytes = sum(s for _, s, _ in files)
    print("\nsummary")
    print(f"  out dir           {args.out}")
    for fn, size, nt in files:
        print(f"  {fn}  {size:>14,d} bytes  {nt:4d} tensors")
    print("  config.json, generation_config.json, model.safetensors.index.json"
          + (", " + ", ".join(copied) if copied else ""))
    print(f"  tensors           {len(specs)}")
    print(f"  tensor bytes      {total_size:,d} (index total_size)")
    print(f"  file bytes        {file_bytes:,d}")
    print(f"  params total text {total_params:,d}")
    print(f"  params embeddings {emb:,d} (embed_tokens + embed_tokens_per_layer)")
    print(f"  params non-embed  {non_emb:,d} (expected {EXPECTED_NON_EMBEDDING[args.size]:,d}) OK")
    print(f"  time              {el:.1f}s ({file_bytes / 1e6 / el:.0f} MB/s)")


if __name__ == "__main__":
    main()
