#!/usr/bin/env python3
"""Generate tests/fixtures/tiny-audio/: a tiny random Gemma3nForConditionalGeneration whose audio
tower keeps the real block types (SSCP, conformer blocks, decimation, embed_audio) at toy widths,
plus transformers' float32 outputs of every audio stage and the decoder logits of a prompt that
holds one expanded audio placeholder.

Install: the venv of tools/make_fixtures.py plus soundfile/soxr from tools/make_audio_fixtures.py.
Run from the repository root (overwrites tests/fixtures/tiny-audio/):

    ~/venv/bin/python tools/make_audio_model_fixtures.py [--out tests/fixtures/tiny-audio]

Why the vocabulary is laid out as it is: transformers takes the audio padding id as
`text vocab_size - 1` and embeds it with embed_audio, so the audio hard-token table must end at
the text vocabulary's end. A 262400-row text table would not fit a small fixture, so the tiny
model keeps the real layout scaled down: text 512 ids, PLE table 256 ids, embed_vision ids
[256, 384), embed_audio ids [384, 512) (so <end_of_audio> = 384, <audio_soft_token> = 385 and
the padding id 511 = audio row 127, as 262272 / 262273 / 262399 are in the real model).

Seeded and single-threaded; rerunning gives identical tensors.
"""

import argparse
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from safetensors.numpy import load_file as load_np
from safetensors.torch import save_file
from transformers import GenerationConfig
from transformers.models.gemma3n import (
    Gemma3nAudioConfig,
    Gemma3nAudioFeatureExtractor,
    Gemma3nConfig,
    Gemma3nForConditionalGeneration,
    Gemma3nTextConfig,
    Gemma3nVisionConfig,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import draw_weight  # noqa: E402  (text weight init rules)

SEED = 4004
SR = 16000
MAX_SAMPLES = 480_000
SLOTS = 188  # audio_soft_tokens_per_image

TEXT = dict(
    vocab_size=512,
    vocab_size_per_layer_input=256,
    hidden_size=64,
    hidden_size_per_layer_input=8,
    num_hidden_layers=4,
    num_attention_heads=2,
    num_key_value_heads=1,
    head_dim=32,
    intermediate_size=[128, 128, 128, 128],
    laurel_rank=4,
    altup_num_inputs=4,
    sliding_window=64,  # shorter than the ~200-token prompt
    layer_types=["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
    num_kv_shared_layers=2,
    activation_sparsity_pattern=[0.95, 0.0, 0.0, 0.0],
    final_logit_softcapping=30.0,
    max_position_embeddings=512,
)

AUDIO = dict(
    vocab_size=128,
    vocab_offset=384,
    input_feat_size=128,  # the extractor is fixed at 128 mel bins
    hidden_size=32,
    conf_num_hidden_layers=2,
    conf_num_attention_heads=4,  # head_dim 8
    sscp_conv_channel_size=[16, 8],  # conv_0 1->16, conv_1 16->8; 8 ch x 32 freq = 256 -> 32
)

IDS = dict(boi_token_id=250, eoi_token_id=256, image_token_id=257,
           boa_token_id=251, eoa_token_id=384, audio_token_id=385)

# Per-block multiplier of q_proj: block 1's logits are large enough that the soft cap (50) bites.
Q_GAIN = [4.0, 60.0]


def audio_weight(name, shape, gen):
    randn = lambda: torch.randn(shape, generator=gen, dtype=torch.float32)  # noqa: E731
    if name.endswith("per_dim_scale"):
        return 0.3 * randn()
    if name.endswith("norm.weight"):  # RMSNorms and the cumulative group norms
        return 1.0 + 0.1 * randn()
    if name.endswith("embed_audio.embedding.weight"):
        return randn()
    if len(shape) == 4:  # conv2d [out, in, kh, kw]
        return randn() / math.sqrt(shape[1] * shape[2] * shape[3])
    if len(shape) == 3:  # depthwise conv1d [C, 1, K]
        return randn() / math.sqrt(shape[2])
    if len(shape) == 2:
        w = randn() / math.sqrt(shape[1])
        if ".attn.q_proj." in name:
            w = w * Q_GAIN[int(name.split("conformer.")[1].split(".")[0])]
        if ".attn.k_proj." in name or "pos_proj" in name:
            w = w * 2.0
        return w
    raise ValueError(f"no init rule for {name} {tuple(shape)}")


def audio_storage(idx):
    # Every accepted storage type appears: the loader must widen BF16, F16 and F32 alike.
    return [torch.bfloat16, torch.float16, torch.float32][idx % 3]


def build_model():
    torch.manual_seed(SEED)
    tcfg = Gemma3nTextConfig(**TEXT)
    cfg = Gemma3nConfig(text_config=tcfg.to_dict(), audio_config=Gemma3nAudioConfig(**AUDIO).to_dict(),
                        vision_config=Gemma3nVisionConfig(vocab_offset=256, vocab_size=128).to_dict(),
                        audio_soft_tokens_per_image=SLOTS, **IDS)
    cfg.architectures = ["Gemma3nForConditionalGeneration"]
    cfg.text_config._attn_implementation = "eager"
    model = Gemma3nForConditionalGeneration(cfg).to(torch.float32).eval()
    model.config._attn_implementation = "eager"
    model.config.text_config._attn_implementation = "eager"

    gen = torch.Generator().manual_seed(SEED)
    params = dict(model.named_parameters())
    ckpt = {}
    audio_idx = 0
    with torch.no_grad():
        for name in sorted(params):
            p = params[name]
            if name.startswith("model.language_model."):
                w = draw_weight(name, p.shape, TEXT["hidden_size"], gen).to(torch.bfloat16)
            elif name.startswith("model.audio_tower.") or name.startswith("model.embed_audio."):
                w = audio_weight(name, p.shape, gen).to(audio_storage(audio_idx))
                audio_idx += 1
            else:
                continue  # vision tower / embed_vision: default init, not saved
            p.copy_(w.to(torch.float32))  # the reference runs on exactly the stored values
            ckpt[name] = w.contiguous()
    return model, cfg, ckpt


def write_checkpoint(outdir, cfg, ckpt):
    os.makedirs(outdir, exist_ok=True)
    cfg.dtype = "bfloat16"
    cfg.text_config.dtype = "bfloat16"
    cfg.save_pretrained(outdir)
    GenerationConfig(bos_token_id=2, eos_token_id=[1, 106], pad_token_id=0, do_sample=True, top_k=64,
                     top_p=0.95, temperature=1.0).save_pretrained(outdir)
    save_file({k: ckpt[k] for k in sorted(ckpt)}, os.path.join(outdir, "model.safetensors"),
              metadata={"format": "pt"})
    os.chmod(os.path.join(outdir, "model.safetensors"), 0o644)


def long_signal_16k(n):
    # Same integer formula as tools/make_audio_fixtures.py (the C++ tests regenerate it).
    i = np.arange(n, dtype=np.float64)
    x = 8000.0 * np.sin(2 * np.pi * 440.0 * i / SR) + 4000.0 * np.sin(2 * np.pi * (150.0 + 0.25 * i / SR) * i / SR)
    return (np.round(x).astype(np.int32) / 32768.0).astype(np.float32)


def prompt_ids():
    # <bos><start_of_turn>user\n + "\n\n<start_of_audio>" + 188 soft + "<end_of_audio>\n\n" +
    # a few text ids + <end_of_turn>\n<start_of_turn>model\n, with stand-in ids for the text
    # pieces (107 "\n", 108 "\n\n", 200-204 words; ids 256-383 would be embed_vision hard tokens).
    ids = [2, 105, 200, 109, IDS["boa_token_id"]] + [IDS["audio_token_id"]] * SLOTS
    ids += [IDS["eoa_token_id"], 108, 201, 202, 203, 106, 107, 105, 204, 107]
    return ids


@torch.no_grad()
def encoder_stages(model, feats, mask_valid, prefix, ref):
    """Runs get_audio_features on a batch and records every stage under prefix.{b}."""
    at = model.model.audio_tower
    cap = {}
    hooks = [at.subsample_conv_projection.register_forward_hook(lambda m, a, o: cap.__setitem__("sscp", o))]
    for i, blk in enumerate(at.conformer):
        hooks.append(blk.register_forward_hook(lambda m, a, o, i=i: cap.__setitem__(f"block.{i}", o)))
    out = model.model.get_audio_features(torch.from_numpy(feats), ~torch.from_numpy(mask_valid.astype(bool)),
                                         return_dict=True)
    for h in hooks:
        h.remove()
    enc = out.last_hidden_state
    enc_mask = out.audio_mel_mask  # True = padded
    soft = out.pooler_output
    pad = model.model.embed_audio(input_ids=torch.tensor([[model.model.vocab_size - 1]]))[0, 0]
    for b in range(feats.shape[0]):
        p = f"{prefix}.{b}" if feats.shape[0] > 1 else prefix
        ref[f"{p}.features"] = feats[b]
        ref[f"{p}.features_mask"] = mask_valid[b].astype(np.uint8)
        ref[f"{p}.sscp"] = cap["sscp"][b].numpy()
        for i in range(len(at.conformer)):
            ref[f"{p}.block.{i}"] = cap[f"block.{i}"][b].numpy()
        ref[f"{p}.encoder"] = enc[b].numpy()
        ref[f"{p}.encoder_mask"] = (~enc_mask[b]).numpy().astype(np.uint8)  # 1 = valid
        ref[f"{p}.soft"] = soft[b].numpy()
        # The 188 rows as Gemma3nModel.forward builds them (masked rows and the tail = pad).
        rows = torch.where(enc_mask[b][:, None], pad[None, :], soft[b])
        rows = torch.cat([rows, pad[None, :].expand(SLOTS - rows.shape[0], -1)], 0)
        ref[f"{p}.rows"] = rows.numpy()
    return soft, enc_mask


@torch.no_grad()
def make_reference(model, cfg):
    fe = Gemma3nAudioFeatureExtractor()
    ref = {}
    x31 = long_signal_16k(496_000)
    clip30, clip1 = x31[:MAX_SAMPLES], x31[MAX_SAMPLES:]
    audio_ref = load_np(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                                     "audio", "reference.safetensors"))
    speech = audio_ref["speech_16k.wav.samples"]  # 0.5 s

    def feats(clips):
        o = fe(clips, return_tensors="np")
        return o["input_features"].astype(np.float32), o["input_features_mask"].astype(bool)

    # 30 s clip alone: 2997 frames -> 750 -> 188 tokens.
    f, m = feats([clip30])
    encoder_stages(model, f, m, "long", ref)
    # One extractor call on [1 s clip, 0.5 s speech]: the second is padded to 1 s, so its mask
    # ends early. batch.0 (97 frames -> 25 -> 7 tokens, three 12-frame attention chunks) equals
    # the 1 s clip run alone, which is what the prompt below holds.
    f, m = feats([clip1, speech])
    encoder_stages(model, f, m, "batch", ref)

    # Hard path for every audio id.
    off = AUDIO["vocab_offset"]
    ids = torch.arange(off, off + AUDIO["vocab_size"])[None, :]
    ref["hard"] = model.model.embed_audio(input_ids=ids)[0].numpy()

    # Decoder on the prompt with the 1 s clip, exactly as Gemma3nForConditionalGeneration runs it.
    pid = torch.tensor([prompt_ids()])
    f, m = feats([clip1])
    cap = {}
    h = model.model.language_model.register_forward_pre_hook(
        lambda mod, a, kw: cap.__setitem__("embeds", kw["inputs_embeds"]), with_kwargs=True)
    out = model(input_ids=pid, input_features=torch.from_numpy(f), input_features_mask=torch.from_numpy(m),
                attention_mask=torch.ones_like(pid), use_cache=False)
    h.remove()
    ref["prompt_ids"] = pid[0].numpy().astype(np.int32)
    ref["prompt_embeddings"] = cap["embeds"][0].numpy()
    ref["prompt_logits"] = out.logits[0].numpy()
    ref = {k: np.ascontiguousarray(v) for k, v in ref.items()}
    return ref


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                                  "fixtures", "tiny-audio"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    outdir = os.path.normpath(args.out)
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    model, cfg, ckpt = build_model()
    write_checkpoint(outdir, cfg, ckpt)
    ref = make_reference(model, cfg)
    info = json.dumps({"generator": "tools/make_audio_model_fixtures.py", "torch": torch.__version__,
                       "transformers": transformers.__version__, "numpy": np.__version__}, sort_keys=True)
    from safetensors.numpy import save_file as save_np
    save_np(ref, os.path.join(outdir, "reference.safetensors"), metadata={"fixture_info": info})
    os.chmod(os.path.join(outdir, "reference.safetensors"), 0o644)
    for k in sorted(ref):
        v = ref[k]
        print(f"{k:28s} {str(v.dtype):8s} {str(list(v.shape)):16s} max|x| {np.abs(v.astype(np.float64)).max():.4g}")
    total = sum(os.path.getsize(os.path.join(outdir, f)) for f in os.listdir(outdir))
    print(f"total {total} bytes in {outdir}")


if __name__ == "__main__":
    main()
