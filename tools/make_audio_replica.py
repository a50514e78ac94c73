#!/usr/bin/env python3
"""Write a full-size RANDOM-weight replica of the Gemma 3n audio tower for speed checks.

    python3 tools/make_audio_replica.py --out /tmp/audio-replica [--size e2b] [--seed 0]

Output (~1.4 GB, never commit it):
    config.json        tools/replica_configs/<size>.json (the real nested config, audio_config included)
    model.safetensors  every model.audio_tower.* and model.embed_audio.* tensor with its real
                       name, shape (spec §3.8 / §4.1) and dtype (BF16); no text or vision tensors

Values are random but keep activations sane: nn.Linear / conv weights ~ N(0, 1/fan_in), norm
scales ~ 1 + 0.05 N, per_dim_scale ~ 0.05 N, the hard-token table ~ N(0, 1). Needs only numpy.
The C++ side: G3N_AUDIO_REPLICA_DIR=/tmp/audio-replica ./build/gemma3n_tests
--gtest_filter='AudioReplica*' (tests/audio_replica_test.cpp) times the encoder on a 30 s clip.
"""

import argparse
import json
import os
import shutil
import struct

import numpy as np


def tensor_list(cfg):
    a = cfg["audio_config"]
    D, L, K = a["hidden_size"], a["conf_num_hidden_layers"], a["conf_conv_kernel_size"]
    hd = D // a["conf_num_attention_heads"]
    ch, ks = a["sscp_conv_channel_size"], a["sscp_conv_kernel_size"]
    f = a["input_feat_size"]
    for i in range(2):
        f = (f + 2 - ks[i][1]) // a["sscp_conv_stride_size"][i][1] + 1
    H = cfg["text_config"]["hidden_size"]
    t = []
    p = "model.audio_tower.subsample_conv_projection."
    t.append((p + "conv_0.conv.weight", [ch[0], 1] + ks[0]))
    t.append((p + "conv_0.norm.weight", [ch[0]]))
    t.append((p + "conv_1.conv.weight", [ch[1], ch[0]] + ks[1]))
    t.append((p + "conv_1.norm.weight", [ch[1]]))
    t.append((p + "input_proj_linear.weight", [D, ch[1] * f]))
    for i in range(L):
        p = f"model.audio_tower.conformer.{i}."
        for ffw in ("ffw_layer_start", "ffw_layer_end"):
            t += [(p + ffw + ".pre_layer_norm.weight", [D]), (p + ffw + ".ffw_layer_1.weight", [4 * D, D]),
                  (p + ffw + ".ffw_layer_2.weight", [D, 4 * D]), (p + ffw + ".post_layer_norm.weight", [D])]
        t += [(p + "attention.pre_attn_norm.weight", [D]), (p + "attention.post_norm.weight", [D]),
              (p + "attention.attn.q_proj.weight", [D, D]), (p + "attention.attn.k_proj.weight", [D, D]),
              (p + "attention.attn.v_proj.weight", [D, D]), (p + "attention.attn.per_dim_scale", [hd]),
              (p + "attention.attn.relative_position_embedding.pos_proj.weight", [D, D]),
              (p + "attention.post.weight", [D, D]),
              (p + "lconv1d.pre_layer_norm.weight", [D]), (p + "lconv1d.conv_norm.weight", [D]),
              (p + "lconv1d.linear_start.weight", [2 * D, D]), (p + "lconv1d.depthwise_conv1d.weight", [D, 1, K]),
              (p + "lconv1d.linear_end.weight", [D, D]), (p + "norm.weight", [D])]
    p = "model.embed_audio."
    t += [(p + "embedding.weight", [a["vocab_size"], D]), (p + "hard_embedding_norm.weight", [D]),
          (p + "soft_embedding_norm.weight", [D]), (p + "embedding_projection.weight", [H, D])]
    return t


def draw(name, shape, rng):
    n = int(np.prod(shape))
    if name.endswith("per_dim_scale"):
        x = 0.05 * rng.standard_normal(n, dtype=np.float32)
    elif name.endswith("norm.weight"):
        x = 1.0 + 0.05 * rng.standard_normal(n, dtype=np.float32)
    elif name.endswith("embedding.weight"):
        x = rng.standard_normal(n, dtype=np.float32)
    else:
        x = rng.standard_normal(n, dtype=np.float32) / np.float32(np.sqrt(np.prod(shape[1:])))
    u = x.astype(np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)  # round to nearest even bf16


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", default="e2b", choices=["e2b", "e4b"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    cfg_path = os.path.join(here, "replica_configs", f"{args.size}.json")
    cfg = json.load(open(cfg_path))
    os.makedirs(args.out, exist_ok=True)
    shutil.copy(cfg_path, os.path.join(args.out, "config.json"))
    tensors = sorted(tensor_list(cfg))
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in tensors:
        nbytes = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [off, off + nbytes]}
        off += nbytes
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    rng = np.random.default_rng(args.seed)
    with open(os.path.join(args.out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for name, shape in tensors:
            f.write(draw(name, shape, rng).tobytes())
    params = sum(int(np.prod(s)) for n, s in tensors if n.startswith("model.audio_tower."))
    print(f"{len(tensors)} tensors ({params} audio-tower parameters), {off} data bytes -> {args.out}")


if __name__ == "__main__":
    main()
