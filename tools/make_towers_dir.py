#!/usr/bin/env python3
"""Assemble an HF folder holding both full-size random towers, for `--mmproj DIR` beside a GGUF
text model in the memory and speed benchmarks (never commit it):

    python3 tools/make_towers_dir.py --replica /tmp/replica-e2b --vision /tmp/mnv5-replica \
        --audio /tmp/audio-replica --out /tmp/towers-e2b [--clip /tmp/clip30.wav]

Writes <out>/config.json (the replica's nested config: its vision_config and audio_config),
links the towers' model.safetensors as vision.safetensors / audio.safetensors, and writes the
model.safetensors.index.json that maps each tensor to its file. --clip also writes a 30 s
16 kHz mono WAV (a chirp plus noise) to encode. Needs numpy only for --clip.
"""

import argparse
import json
import os
import struct


def header_names(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return [k for k in json.loads(f.read(n)) if k != "__metadata__"]


def write_clip(path, seconds=30, sr=16000):
    import numpy as np

    t = np.arange(seconds * sr) / sr
    x = 0.3 * np.sin(2 * np.pi * (200 + 100 * t) * t) + 0.05 * np.random.default_rng(0).standard_normal(t.size)
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, sr, sr * 2, 2, 16)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replica", required=True, help="text replica (tools/make_replica.py): its config.json")
    ap.add_argument("--vision", required=True, help="tools/make_vision_replica.py output")
    ap.add_argument("--audio", required=True, help="tools/make_audio_replica.py output")
    ap.add_argument("--out", required=True)
    ap.add_argument("--clip", help="also write a 30 s WAV here")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.replica, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    weight_map = {}
    for src, name in [(a.vision, "vision.safetensors"), (a.audio, "audio.safetensors")]:
        st = os.path.abspath(os.path.join(src, "model.safetensors"))
        dst = os.path.join(a.out, name)
        if not os.path.exists(dst):
            os.symlink(st, dst)
        for k in header_names(st):
            weight_map[k] = name
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
    if a.clip:
        write_clip(a.clip)
    print(f"{len(weight_map)} tower tensors -> {a.out}")


if __name__ == "__main__":
    main()
