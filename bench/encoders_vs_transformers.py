#!/usr/bin/env python3
"""The full-size random towers through the reference on CPU, for the side-by-side ratios of
issues 6 and 7 (bench/encoders.sh runs ours on the same weights in the same run).

    python bench/encoders_vs_transformers.py TOWERS_DIR [--threads 2] [--reps 2]

TOWERS_DIR as tools/make_towers_dir.py writes it. Prints one JSON object: seconds per 768x768
image through timm's MobileNet-V5 (forward_features: stem, stages, MSFA) and per 30 s clip
(3000 mel frames) through transformers' Gemma3nAudioEncoder, float32, the best of --reps runs
after one warm-up. Needs torch, timm and transformers (not CI).
"""

import argparse
import json
import time

import torch
from safetensors.torch import load_file


def best_of(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def strip(state, prefix):
    return {k[len(prefix):]: v.float() for k, v in state.items() if k.startswith(prefix)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("towers")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = json.load(open(f"{a.towers}/config.json"))
    out = {"threads": a.threads, "torch": torch.__version__}

    import timm

    vision = timm.create_model("mobilenetv5_300m_enc", pretrained=False).eval()
    missing, _ = vision.load_state_dict(strip(load_file(f"{a.towers}/vision.safetensors"), "model.vision_tower.timm_model."),
                                        strict=False)
    out["vision_missing_tensors"] = len(missing)
    px = torch.rand(1, 3, 768, 768)
    with torch.inference_mode():
        out["image_s"] = round(best_of(lambda: vision.forward_features(px), a.reps), 3)
    del vision

    from transformers.models.gemma3n.configuration_gemma3n import Gemma3nAudioConfig
    from transformers.models.gemma3n.modeling_gemma3n import Gemma3nAudioEncoder

    audio = Gemma3nAudioEncoder(Gemma3nAudioConfig(**cfg["audio_config"])).eval()
    missing, _ = audio.load_state_dict(strip(load_file(f"{a.towers}/audio.safetensors"), "model.audio_tower."), strict=False)
    out["audio_missing_tensors"] = len(missing)
    mel = torch.randn(1, 3000, cfg["audio_config"]["input_feat_size"])
    mask = torch.zeros(1, 3000, dtype=torch.bool)
    with torch.inference_mode():
        out["audio_30s_s"] = round(best_of(lambda: audio(mel, mask), a.reps), 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
