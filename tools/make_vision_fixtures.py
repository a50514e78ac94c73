#!/usr/bin/env python3
"""Generate the image-input fixtures (issue 6): test images + transformers' preprocessing of
them (tests/fixtures/vision/), and a tiny random Gemma3nForConditionalGeneration with a
scaled-down MobileNet-V5 tower plus its float32 reference activations
(tests/fixtures/tiny-vision/).

Install (CPU is enough; versions used for the committed files):

    /work/venv/bin/pip install torch==2.15.0 transformers==5.24.0 timm==1.0.31 \
        torchvision==0.29.2 pillow==13.0.0 safetensors numpy

Run from the repository root (overwrites both folders):

    /work/venv/bin/python tools/make_vision_fixtures.py [--only images|model]

Everything is seeded and single-threaded. JPEG/WebP/GIF bytes depend on the Pillow build, so
regenerate only when you mean to.

The reference decoding is the one transformers uses when handed a file path
(`load_image_as_tensor`: torchvision `decode_image(mode=RGB, apply_exif_orientation=True)`);
the reference resize is the image processor's torchvision bilinear+antialias on uint8.
"""

import argparse
import io
import json
import math
import os
import struct
import sys
import zlib

import numpy as np
import torch

torch.set_num_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMG_DIR = os.path.join(ROOT, "tests", "fixtures", "vision")
MODEL_DIR = os.path.join(ROOT, "tests", "fixtures", "tiny-vision")
SEED = 6006


# --------------------------------------------------------------------------------------
# synthetic images
# --------------------------------------------------------------------------------------

def synth_rgb(w, h, rng):
    """Gradients + a few shapes + noise: smooth areas and sharp edges for the resampler."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)
    img = np.stack([r, g, b], -1)
    cx, cy, rad = w * 0.6, h * 0.4, min(w, h) * 0.25
    img[(x - cx) ** 2 + (y - cy) ** 2 < rad ** 2] = [250, 30, 40]
    img[int(h * 0.7):int(h * 0.9), int(w * 0.1):int(w * 0.4)] = [20, 200, 60]
    img += rng.normal(0, 12, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def write_png16_rgb(path, arr16):
    """Pillow cannot write 16-bit RGB PNG; this is the minimal encoder (filter 0 rows)."""
    h, w, _ = arr16.shape
    raw = b"".join(b"\x00" + arr16[i].astype(">u2").tobytes() for i in range(h))
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
    data += png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def exif_with_orientation(o):
    """A little-endian TIFF EXIF block holding only tag 0x0112 (Orientation)."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, o, 0) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd


def make_images():
    from PIL import Image

    rng = np.random.default_rng(SEED)
    os.makedirs(IMG_DIR, exist_ok=True)
    files = {}

    a = synth_rgb(97, 61, rng)
    p = "rgb_97x61.jpg"; Image.fromarray(a).save(os.path.join(IMG_DIR, p), quality=92); files[p] = "JPEG RGB 4:2:0"
    p = "rgb_97x61.png"; Image.fromarray(a).save(os.path.join(IMG_DIR, p)); files[p] = "PNG RGB 8-bit"
    # EXIF orientation 6 (rotate 90 CW to display) and 3 (180): stored 61 wide, shown 97 wide for 6.
    b = synth_rgb(64, 40, rng)
    for o in (3, 6, 8):
        p = f"exif{o}_64x40.jpg"
        Image.fromarray(b).save(os.path.join(IMG_DIR, p), quality=95, exif=exif_with_orientation(o))
        files[p] = f"JPEG, EXIF orientation {o} (stored 64x40)"
    p = "gray_50x70.jpg"; Image.fromarray(synth_rgb(50, 70, rng)[..., 1]).save(os.path.join(IMG_DIR, p), quality=90)
    files[p] = "JPEG grayscale"
    p = "cmyk_40x30.jpg"
    Image.fromarray(synth_rgb(40, 30, rng)).convert("CMYK").save(os.path.join(IMG_DIR, p), quality=95)
    files[p] = "JPEG CMYK (Adobe, inverted)"
    p = "progressive_80x60.jpg"
    Image.fromarray(synth_rgb(80, 60, rng)).save(os.path.join(IMG_DIR, p), quality=85, progressive=True)
    files[p] = "JPEG progressive"

    rgba = np.concatenate([synth_rgb(64, 48, rng), rng.integers(0, 256, (48, 64, 1), dtype=np.uint8)], -1)
    p = "rgba_64x48.png"; Image.fromarray(rgba, "RGBA").save(os.path.join(IMG_DIR, p)); files[p] = "PNG RGBA"
    p = "gray_50x70.png"; Image.fromarray(synth_rgb(50, 70, rng)[..., 0]).save(os.path.join(IMG_DIR, p))
    files[p] = "PNG grayscale 8-bit"
    g16 = (np.linspace(0, 65535, 40 * 30).reshape(30, 40) + rng.integers(0, 300, (30, 40))).clip(0, 65535)
    p = "gray16_40x30.png"; Image.fromarray(g16.astype(np.uint16)).save(os.path.join(IMG_DIR, p))
    files[p] = "PNG grayscale 16-bit"
    c16 = synth_rgb(36, 28, rng).astype(np.uint16) * 257 + rng.integers(0, 257, (28, 36, 3)).astype(np.uint16)
    p = "rgb16_36x28.png"; write_png16_rgb(os.path.join(IMG_DIR, p), c16); files[p] = "PNG RGB 16-bit"
    pal = Image.fromarray(synth_rgb(45, 33, rng)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    p = "palette_45x33.png"; pal.save(os.path.join(IMG_DIR, p)); files[p] = "PNG palette"

    w = synth_rgb(70, 50, rng)
    p = "lossless_70x50.webp"; Image.fromarray(w).save(os.path.join(IMG_DIR, p), lossless=True)
    files[p] = "WebP lossless"
    p = "lossy_70x50.webp"; Image.fromarray(w).save(os.path.join(IMG_DIR, p), quality=80); files[p] = "WebP lossy"
    p = "rgb_33x17.bmp"; Image.fromarray(synth_rgb(33, 17, rng)).save(os.path.join(IMG_DIR, p))
    files[p] = "BMP 24-bit bottom-up (row padding)"
    frames = [Image.fromarray(synth_rgb(40, 40, rng)).convert("P", palette=Image.Palette.ADAPTIVE) for _ in range(2)]
    p = "anim_40x40.gif"
    frames[0].save(os.path.join(IMG_DIR, p), save_all=True, append_images=frames[1:], duration=100, loop=0)
    files[p] = "GIF, 2 frames (first is used)"
    p = "big_800x600.jpg"; Image.fromarray(synth_rgb(800, 600, rng)).save(os.path.join(IMG_DIR, p), quality=60)
    files[p] = "JPEG larger than 768 (downscale)"
    return files


def reference_preprocess(files):
    """Decoded pixels and processor outputs, stored compactly (see the README section)."""
    import PIL.Image
    from transformers import SiglipImageProcessor
    from transformers.image_utils import load_image_as_tensor

    proc = SiglipImageProcessor(size={"height": 768, "width": 768}, resample=2, do_resize=True, do_rescale=True,
                                rescale_factor=1 / 255, do_normalize=False, image_mean=[0.5] * 3,
                                image_std=[0.5] * 3, do_convert_rgb=True)
    out, info = {}, {}
    rows = [0, 1, 383, 767]
    for name in sorted(files):
        path = os.path.join(IMG_DIR, name)
        try:
            dec = load_image_as_tensor(path)  # [3, H, W] uint8, what the processor gets from a path
        except RuntimeError:  # BMP: torchvision refuses it; transformers' PIL path (load_image)
            dec = load_image_as_tensor(PIL.Image.open(path))
        if dec.ndim == 4:  # an animated GIF decodes to every frame; the first is the picture
            dec = dec[0]
        if dec.dtype == torch.uint16:
            # torchvision hands 16-bit PNGs over as uint16, which the processor would rescale by
            # 1/255 into nonsense; keep the high byte, as PIL's 16-bit RGB PNG reader does.
            dec = (dec.to(torch.int32) >> 8).to(torch.uint8)
        assert dec.dtype == torch.uint8 and dec.shape[0] == 3, (name, dec.dtype, dec.shape)
        px = proc(images=dec, return_tensors="pt")["pixel_values"][0]  # [3, 768, 768] f32
        q = torch.round(px * 255)
        assert torch.allclose(q / 255, px, atol=1e-6), name  # the processor's values are k/255
        key = name.replace(".", "_")
        if dec.shape[1] * dec.shape[2] <= 20000:  # small images only: keeps the file small
            out[f"{key}.decoded"] = dec.permute(1, 2, 0).contiguous()  # HWC uint8
        out[f"{key}.rows"] = q[:, rows, :].to(torch.uint8).contiguous()  # [3, 4, 768] exact
        out[f"{key}.pool16"] = torch.nn.functional.avg_pool2d(px[None], 16)[0].half().contiguous()
        info[name] = files[name]
    out["rows_index"] = torch.tensor(rows, dtype=torch.int32)
    return out, info


# --------------------------------------------------------------------------------------
# tiny model
# --------------------------------------------------------------------------------------

# Same block kinds as mobilenetv5_300m_enc (timm's block strings), fewer and narrower.
TINY_ARCH = [
    ["er_r1_k3_s2_e4_c16", "er_r1_k3_s1_e4_c16"],
    ["uir_r1_a3_k5_s2_e6_c24", "uir_r1_a5_k0_s1_e4_c24", "uir_r1_a3_k0_s1_e4_c24"],
    ["uir_r1_a5_k5_s2_e6_c32", "uir_r1_a0_k0_s1_e1_c32", "mqa_r1_k3_h4_v2_s1_d8_c32", "uir_r1_a0_k0_s1_e2_c32"],
    ["uir_r1_a5_k5_s2_e6_c48", "mqa_r1_k3_h4_s1_d12_c48", "uir_r1_a0_k0_s1_e2_c48"],
]
TINY_MODEL_ARGS = dict(g3n_arch=TINY_ARCH, stem_size=8, num_features=64, msfa_output_resolution=4)
TINY_IMAGE = 192  # stage 2 at 12x12 -> MSFA pools 3x3 to 4x4 = 16 tokens, as 48 -> 16 in the real tower
TINY_TOKENS = 16

TEXT = dict(  # tiny-f32's text sizes with a vocabulary that leaves room for the multimodal ids
    vocab_size=512, vocab_size_per_layer_input=256, hidden_size=64, hidden_size_per_layer_input=8,
    num_hidden_layers=6, num_attention_heads=2, num_key_value_heads=2, head_dim=16, intermediate_size=160,
    laurel_rank=4, altup_num_inputs=4, sliding_window=12,
    layer_types=["sliding_attention"] * 3 + ["full_attention", "sliding_attention", "full_attention"],
    num_kv_shared_layers=2, activation_sparsity_pattern=[0.95] + [0.0] * 5, final_logit_softcapping=30.0,
    max_position_embeddings=256,
)
VISION_OFFSET, AUDIO_OFFSET = 256, 384
BOI, EOI, IMG = 255, 256, 257


def register_tiny_timm():
    import timm
    from timm.models._efficientnet_builder import decode_arch_def, round_channels
    from timm.models._registry import register_model
    from timm.layers import RmsNorm2d
    from timm.models.mobilenetv5 import MobileNetV5Encoder, MobileNetV5MultiScaleFusionAdapter, _GELU

    if "g3n_tiny_mobilenetv5_enc" in timm.list_models("g3n_*"):
        return

    def g3n_tiny_mobilenetv5_enc(pretrained=False, g3n_arch=None, stem_size=8, num_features=64,
                                 msfa_output_resolution=4, **kwargs):
        kwargs.pop("num_classes", None)
        m = MobileNetV5Encoder(block_args=decode_arch_def(g3n_arch), stem_size=stem_size, pad_type="same",
                               round_chs_fn=round_channels, norm_layer=RmsNorm2d, act_layer=_GELU,
                               layer_scale_init_value=1e-5, msfa_output_resolution=msfa_output_resolution)
        # timm fixes the MSFA width at 2048; the tiny tower narrows it to num_features.
        m.msfa = MobileNetV5MultiScaleFusionAdapter(in_chs=m.msfa_in_chs, out_chs=num_features,
                                                    output_resolution=msfa_output_resolution,
                                                    norm_layer=RmsNorm2d, act_layer=_GELU)
        m.num_features = m.head_hidden_size = num_features
        return m

    g3n_tiny_mobilenetv5_enc.__module__ = "timm.models.mobilenetv5"
    register_model(g3n_tiny_mobilenetv5_enc)


def draw(name, shape, gen):
    randn = lambda: torch.randn(shape, generator=gen, dtype=torch.float32)  # noqa: E731
    uni = lambda lo, hi: lo + (hi - lo) * torch.rand(shape, generator=gen)  # noqa: E731
    if name.endswith("conv_stem.conv.bias"):
        return 0.1 * randn()  # zero in the real checkpoint; random here so a dropped bias shows
    if name.endswith("layer_scale.gamma"):
        return uni(0.3, 1.0)
    if len(shape) == 1:  # RmsNorm2d / embedder norm scales, used as-is (not 1 + w)
        return uni(0.5, 1.5)
    if len(shape) == 4:  # conv [out, in/groups, kh, kw]
        fan_in = shape[1] * shape[2] * shape[3]
        return randn() * math.sqrt(2.0 / fan_in)
    if name.endswith("embed_vision.embedding.weight"):
        return randn()
    if len(shape) == 2:
        return randn() / math.sqrt(shape[1])
    raise ValueError(f"no init rule for {name} {tuple(shape)}")


def build_tiny():
    from transformers.models.gemma3n import (Gemma3nAudioConfig, Gemma3nConfig,
                                             Gemma3nForConditionalGeneration, Gemma3nTextConfig,
                                             Gemma3nVisionConfig)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from make_fixtures import draw_weight

    register_tiny_timm()
    torch.manual_seed(SEED)
    tcfg = Gemma3nTextConfig(**TEXT)
    vcfg = Gemma3nVisionConfig(architecture="g3n_tiny_mobilenetv5_enc", hidden_size=64, vocab_size=128,
                               vocab_offset=VISION_OFFSET, rms_norm_eps=1e-6, model_args=TINY_MODEL_ARGS)
    acfg = Gemma3nAudioConfig(vocab_size=128, vocab_offset=AUDIO_OFFSET, hidden_size=16, input_feat_size=16,
                              conf_num_hidden_layers=1, conf_num_attention_heads=2, sscp_conv_channel_size=[4, 4])
    cfg = Gemma3nConfig(text_config=tcfg.to_dict(), vision_config=vcfg.to_dict(), audio_config=acfg.to_dict(),
                        vision_soft_tokens_per_image=TINY_TOKENS, boi_token_id=BOI, eoi_token_id=EOI,
                        image_token_id=IMG, boa_token_id=254, eoa_token_id=AUDIO_OFFSET,
                        audio_token_id=AUDIO_OFFSET + 1)
    cfg._attn_implementation = "eager"
    cfg.text_config._attn_implementation = "eager"
    model = Gemma3nForConditionalGeneration(cfg).to(torch.float32).eval()

    gen = torch.Generator().manual_seed(SEED)
    ckpt = {}
    params = dict(model.named_parameters())
    H = tcfg.hidden_size
    with torch.no_grad():
        for name in sorted(params):
            if name.startswith("model.audio_tower.") or name.startswith("model.embed_audio."):
                continue  # not saved: the audio tower is another issue's fixture
            shape = params[name].shape
            if name.startswith("model.language_model."):
                w = draw_weight("model." + name[len("model.language_model."):], shape, H, gen)
            else:
                w = draw(name, shape, gen)
            w_store = w.to(torch.bfloat16).contiguous()
            params[name].copy_(w_store.to(torch.float32))
            ckpt[name] = w_store
    # Dead K/V weights of KV-consumer layers, as in the real checkpoints (see make_fixtures.py).
    for i, mode in enumerate(tcfg.kv_sharing_modes):
        if mode == "reuse":
            for n, s in (("k_proj.weight", (32, H)), ("v_proj.weight", (32, H)), ("k_norm.weight", (16,))):
                ckpt[f"model.language_model.layers.{i}.self_attn.{n}"] = torch.randn(s, generator=gen).to(torch.bfloat16)
    return model, cfg, ckpt


def expanded_prompt():
    """The prompt after the processor's placeholder expansion (§5.2), with ids of the tiny vocab:
    text, '\\n\\n', <start_of_image>, N x <image_soft_token>, <end_of_image>, '\\n\\n', text, plus one
    extra vision hard token (row 5) to exercise the hard path on a non-special row."""
    nl2 = 108
    ids = [2, 105, 30, 31, 107, nl2, BOI] + [IMG] * TINY_TOKENS + [EOI, nl2, 40, 41, VISION_OFFSET + 5, 42, 106, 107,
                                                                    105, 50, 107]
    return torch.tensor(ids, dtype=torch.int64)


@torch.no_grad()
def tiny_reference(model, pixel_u8):
    timm_model = model.model.vision_tower.timm_model
    cap, hooks = {}, []
    hooks.append(timm_model.conv_stem.register_forward_hook(lambda m, a, o: cap.__setitem__("stem", o.clone())))
    for s, stage in enumerate(timm_model.blocks):
        for i, blk in enumerate(stage):
            hooks.append(blk.register_forward_hook(
                lambda m, a, o, k=f"block.{s}.{i}": cap.__setitem__(k, o.clone())))
    hooks.append(timm_model.msfa.register_forward_hook(lambda m, a, o: cap.__setitem__("msfa", o.clone())))
    hooks.append(timm_model.msfa.ffn.register_forward_hook(lambda m, a, o: cap.__setitem__("msfa_ffn", o.clone())))
    pixels = pixel_u8.to(torch.float32) * torch.tensor(1 / 255, dtype=torch.float32)
    feats = model.model.get_image_features(pixels[None], return_dict=True)
    soft = feats.pooler_output[0]
    ids = expanded_prompt()
    out = model(input_ids=ids[None], pixel_values=pixels[None], use_cache=False)
    for h in hooks:
        h.remove()
    # Hard path for every vision row (ids offset .. offset+127).
    hard = model.model.embed_vision(input_ids=torch.arange(VISION_OFFSET, VISION_OFFSET + 128)[None])[0]
    ref = {k: v[0].contiguous() for k, v in cap.items()}
    ref["pixels_u8"] = pixel_u8.contiguous()
    ref["soft_embeddings"] = soft.contiguous()
    ref["hard_embeddings"] = hard.contiguous()
    ref["input_ids"] = ids.to(torch.int32)
    ref["logits"] = out.logits[0].contiguous()
    return ref


def make_model():
    from safetensors.torch import save_file
    from transformers import GenerationConfig

    model, cfg, ckpt = build_tiny()
    os.makedirs(MODEL_DIR, exist_ok=True)
    cfg.architectures = ["Gemma3nForConditionalGeneration"]
    cfg.dtype = "bfloat16"
    cfg.text_config.dtype = "bfloat16"
    cfg.save_pretrained(MODEL_DIR)
    GenerationConfig(bos_token_id=2, eos_token_id=[1, 106], pad_token_id=0).save_pretrained(MODEL_DIR)
    pre = {"image_processor_type": "SiglipImageProcessorFast", "size": {"height": TINY_IMAGE, "width": TINY_IMAGE},
           "resample": 2, "do_resize": True, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": False,
           "image_mean": [0.5] * 3, "image_std": [0.5] * 3, "do_convert_rgb": True,
           "image_seq_length": TINY_TOKENS}
    with open(os.path.join(MODEL_DIR, "preprocessor_config.json"), "w") as f:
        f.write(json.dumps(pre, indent=2) + "\n")
    save_file({k: ckpt[k] for k in sorted(ckpt)}, os.path.join(MODEL_DIR, "model.safetensors"),
              metadata={"format": "pt"})

    # The tower input: a synthetic image at the tower's size (so no resize is involved).
    rng = np.random.default_rng(SEED + 1)
    px = torch.from_numpy(synth_rgb(TINY_IMAGE, TINY_IMAGE, rng)).permute(2, 0, 1).contiguous()
    ref = tiny_reference(model, px)
    import timm
    import transformers
    meta = {"fixture_info": json.dumps({"torch": torch.__version__, "transformers": transformers.__version__,
                                        "timm": timm.__version__, "image": TINY_IMAGE, "tokens": TINY_TOKENS})}
    save_file(ref, os.path.join(MODEL_DIR, "reference.safetensors"), metadata=meta)
    print("tiny-vision: logits", tuple(ref["logits"].shape), "max|logit|", float(ref["logits"].abs().max()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["images", "model"])
    args = ap.parse_args()
    if args.only in (None, "images"):
        from safetensors.torch import save_file
        files = make_images()
        out, info = reference_preprocess(files)
        save_file(out, os.path.join(IMG_DIR, "reference.safetensors"), metadata={"files": json.dumps(info)})
        print("vision: wrote", len(files), "images")
    if args.only in (None, "model"):
        make_model()


if __name__ == "__main__":
    main()
