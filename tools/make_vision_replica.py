#!/usr/bin/env python3
"""Full-size random MobileNet-V5 (timm mobilenetv5_300m_enc, real names and shapes) + embed_vision,
for timing only: writes <out>/config.json and <out>/model.safetensors (BF16, ~600 MB). Never commit.

    /work/venv/bin/python tools/make_vision_replica.py /tmp/mnv5-replica
    G3N_VISION_REPLICA=/tmp/mnv5-replica ./build-vision/gemma3n_tests --gtest_filter='VisionSpeed*'
"""
import json
import os
import sys

import timm
import torch
from safetensors.torch import save_file


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/mnv5-replica"
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    m = timm.create_model("mobilenetv5_300m_enc", pretrained=False)
    ck = {}
    for name, p in m.state_dict().items():
        w = torch.randn(p.shape) * (0.02 if p.ndim > 1 else 0.1) + (1.0 if p.ndim == 1 else 0.0)
        ck["model.vision_tower.timm_model." + name] = w.to(torch.bfloat16).contiguous()
    ck["model.vision_tower.timm_model.conv_stem.conv.bias"] = torch.zeros(64, dtype=torch.bfloat16)
    e = "model.embed_vision."
    ck[e + "embedding.weight"] = torch.randn(128, 2048).to(torch.bfloat16)
    ck[e + "embedding_projection.weight"] = (torch.randn(2048, 2048) * 0.02).to(torch.bfloat16)
    ck[e + "hard_embedding_norm.weight"] = torch.ones(2048, dtype=torch.bfloat16)
    ck[e + "soft_embedding_norm.weight"] = torch.ones(2048, dtype=torch.bfloat16)
    print(len(ck), "tensors,", sum(t.numel() for t in ck.values()), "parameters")
    save_file(ck, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    cfg = {"model_type": "gemma3n", "vision_soft_tokens_per_image": 256,
           "vision_config": {"architecture": "mobilenetv5_300m_enc", "hidden_size": 2048, "vocab_size": 128,
                             "vocab_offset": 262144, "rms_norm_eps": 1e-6, "model_type": "gemma3n_vision"}}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


if __name__ == "__main__":
    main()
