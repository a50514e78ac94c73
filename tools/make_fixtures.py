#!/usr/bin/env python3
"""Generate tiny random-weight Gemma 3n text-decoder fixtures + HF reference outputs.

Writes tests/fixtures/{tiny-nested,tiny-sharded,tiny-f32}/ (checkpoint in the real
Hugging Face layout: config.json, generation_config.json, *.safetensors with
`model.language_model.` tensor names) plus reference.safetensors with logits and
internal activations computed by the transformers reference implementation in fp32
(attn_implementation="eager").

Install (CPU-only torch is enough; these are the versions the committed fixtures
were generated with):

    python3 -m venv ~/venv
    ~/venv/bin/pip install torch==2.15.0 transformers==5.24.0 safetensors==0.8.0 \
        numpy==2.4.6 tokenizers==0.23.3

Run (from the repository root; overwrites tests/fixtures/<model>/):

    ~/venv/bin/python tools/make_fixtures.py [--out tests/fixtures] [--only NAME ...]

The script is fully seeded and single-threaded: running it twice produces
byte-identical files (check with `sha256sum tests/fixtures/*/*`). Results can
differ across torch/transformers versions or CPU types (last-bit differences in
fp32 matmuls), so regenerate only when you mean to.
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
import safetensors
from safetensors.torch import save_file
from transformers import DynamicCache, GenerationConfig
from transformers.models.gemma3n import (
    Gemma3nConfig,
    Gemma3nForCausalLM,
    Gemma3nTextConfig,
)

T_REF = 80  # reference sequence length (longer than every sliding window used)
GREEDY_PROMPT = 24  # greedy_ids: prompt = input_ids[:GREEDY_PROMPT]
GREEDY_NEW = 20
CKPT_PREFIX = "model.language_model."


# --------------------------------------------------------------------------------------
# model definitions
# --------------------------------------------------------------------------------------

def _types(n):
    return ["full_attention" if (i + 1) % 5 == 0 else "sliding_attention" for i in range(n)]


MODELS = {
    # Nested multimodal config (Gemma3nForConditionalGeneration layout), BF16, 1 file.
    "tiny-nested": dict(
        seed=1001,
        nested=True,
        storage="bf16",
        shards=1,
        text=dict(
            vocab_size=512,
            vocab_size_per_layer_input=384,
            hidden_size=128,
            hidden_size_per_layer_input=16,
            num_hidden_layers=10,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=32,
            intermediate_size=[256, 192, 256, 128, 320, 256, 192, 256, 128, 256],
            laurel_rank=8,
            altup_num_inputs=4,
            sliding_window=16,
            layer_types=_types(10),
            num_kv_shared_layers=4,
            activation_sparsity_pattern=[0.95] * 3 + [0.0] * 7,
            final_logit_softcapping=30.0,
            max_position_embeddings=512,
        ),
    ),
    # Text-only config (model_type gemma3n_text), BF16, 3 shards + index.
    # Non-default RoPE thetas so that a parser which ignores rope_parameters fails.
    "tiny-sharded": dict(
        seed=2002,
        nested=False,
        storage="bf16",
        shards=3,
        text=dict(
            vocab_size=640,
            vocab_size_per_layer_input=600,
            hidden_size=96,
            hidden_size_per_layer_input=8,
            num_hidden_layers=7,
            num_attention_heads=4,
            num_key_value_heads=1,
            head_dim=24,
            intermediate_size=[192, 160, 224, 128, 256, 176, 208],
            laurel_rank=12,
            altup_num_inputs=4,
            sliding_window=8,
            layer_types=_types(7),
            num_kv_shared_layers=2,
            activation_sparsity_pattern=[0.95] * 2 + [0.0] * 5,
            final_logit_softcapping=30.0,
            max_position_embeddings=256,
            rope_parameters={
                "sliding_attention": {"rope_type": "default", "rope_theta": 20000.0},
                "full_attention": {"rope_type": "default", "rope_theta": 500000.0},
            },
        ),
    ),
    # Nested config, scalar intermediate_size, no KV sharing, mixed F16/F32 storage, 1 file.
    "tiny-f32": dict(
        seed=3003,
        nested=True,
        storage="mixed",
        shards=1,
        text=dict(
            vocab_size=320,
            vocab_size_per_layer_input=320,
            hidden_size=64,
            hidden_size_per_layer_input=8,
            num_hidden_layers=6,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=16,
            intermediate_size=160,  # scalar on purpose (transformers expands it to a list)
            laurel_rank=4,
            altup_num_inputs=4,
            sliding_window=12,
            layer_types=_types(6),
            num_kv_shared_layers=0,
            activation_sparsity_pattern=[0.95] + [0.0] * 5,
            final_logit_softcapping=30.0,
            max_position_embeddings=256,
        ),
    ),
}


# --------------------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------------------

def draw_weight(name, shape, H, gen):
    """Random value for a HF (CausalLM-style, `model.`-prefixed) parameter name."""
    randn = lambda: torch.randn(shape, generator=gen, dtype=torch.float32)  # noqa: E731
    if name.endswith("embed_tokens.weight"):
        return randn() * 0.4  # x0 = E*sqrt(H); logits = E.hf -> std ~ 0.4*sqrt(H)
    if name.endswith("embed_tokens_per_layer.weight"):
        return randn() * 0.25  # times sqrt(P) in the model
    if name.endswith("q_norm.weight") or name.endswith("k_norm.weight"):
        return 0.5 + 0.1 * randn()  # keeps q.k (scale 1.0) moderate -> non-one-hot softmax
    if name.endswith("norm.weight"):
        return 1.0 + 0.1 * randn()
    if name.endswith("altup.correct_output_scale"):
        return 1.0 + 0.1 * randn()
    if name.endswith("altup.correction_coefs.weight") or name.endswith("altup.prediction_coefs.weight"):
        return 0.1 * randn()
    if name.endswith("altup.modality_router.weight"):
        # router input is RMSNorm(x)/H, so a row.input ~ std(W)/sqrt(H); make tanh arg O(1)
        return randn() * math.sqrt(H)
    if len(shape) == 2:
        return randn() / math.sqrt(shape[1])  # nn.Linear [out, in]
    raise ValueError(f"no init rule for {name} {tuple(shape)}")


def storage_dtype(storage, idx):
    if storage == "bf16":
        return torch.bfloat16
    if storage == "f32":
        return torch.float32
    if storage == "mixed":  # alternate F16 / F32 in sorted-name order
        return torch.float16 if idx % 2 == 0 else torch.float32
    raise ValueError(storage)


def build_model(spec):
    torch.manual_seed(spec["seed"])
    tcfg = Gemma3nTextConfig(**spec["text"])
    tcfg._attn_implementation = "eager"
    model = Gemma3nForCausalLM(tcfg).to(torch.float32).eval()
    model.config._attn_implementation = "eager"
    H = tcfg.hidden_size

    gen = torch.Generator().manual_seed(spec["seed"])
    ckpt = {}  # checkpoint name -> tensor in storage dtype
    params = dict(model.named_parameters())  # lm_head tied -> not listed separately
    names = sorted(params)
    # Dead K/V weights of KV-consumer layers: real checkpoints contain them, transformers 5.x
    # doesn't even instantiate them. Include random ones so loaders must ignore them.
    extra = {}
    head_dim, nkv = tcfg.head_dim, tcfg.num_key_value_heads
    for i, mode in enumerate(tcfg.kv_sharing_modes):
        if mode == "reuse":
            extra[f"model.layers.{i}.self_attn.k_proj.weight"] = (nkv * head_dim, H)
            extra[f"model.layers.{i}.self_attn.v_proj.weight"] = (nkv * head_dim, H)
            extra[f"model.layers.{i}.self_attn.k_norm.weight"] = (head_dim,)
    all_names = sorted(set(names) | set(extra))
    with torch.no_grad():
        for idx, name in enumerate(all_names):
            assert name.startswith("model."), name
            shape = params[name].shape if name in params else extra[name]
            w = draw_weight(name, shape, H, gen)
            dt = storage_dtype(spec["storage"], idx)
            w_store = w.to(dt).contiguous()
            if name in params:
                params[name].copy_(w_store.to(torch.float32))  # reference uses stored values exactly
            ckpt[CKPT_PREFIX + name[len("model."):]] = w_store
    # lm_head must be the same storage as embed_tokens (tied)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    return model, tcfg, ckpt


# --------------------------------------------------------------------------------------
# saving
# --------------------------------------------------------------------------------------

def write_checkpoint(outdir, spec, tcfg, ckpt):
    os.makedirs(outdir, exist_ok=True)
    storage_name = {"bf16": "bfloat16", "f32": "float32", "mixed": "float32"}[spec["storage"]]
    if spec["nested"]:
        cfg = Gemma3nConfig(text_config=tcfg.to_dict())  # default vision / audio configs
        cfg.architectures = ["Gemma3nForConditionalGeneration"]
        cfg.text_config.dtype = storage_name
    else:
        cfg = Gemma3nTextConfig.from_dict(tcfg.to_dict())
        cfg.architectures = ["Gemma3nForCausalLM"]
    cfg.dtype = storage_name
    cfg.save_pretrained(outdir)  # config.json (transformers' own use_diff serialisation)

    gcfg = GenerationConfig(
        bos_token_id=2,
        eos_token_id=[1, 106],
        pad_token_id=0,
        do_sample=True,
        top_k=64,
        top_p=0.95,
        temperature=1.0,
    )
    gcfg.save_pretrained(outdir)

    meta = {"format": "pt"}
    names = sorted(ckpt)
    if spec["shards"] == 1:
        save_file({k: ckpt[k] for k in names}, os.path.join(outdir, "model.safetensors"), metadata=meta)
        return
    # split in sorted-name order into n shards of roughly equal byte size
    n = spec["shards"]
    nbytes = {k: ckpt[k].numel() * ckpt[k].element_size() for k in names}
    total = sum(nbytes.values())
    groups, cur, acc = [], [], 0
    for k in names:
        cur.append(k)
        acc += nbytes[k]
        if len(groups) < n - 1 and acc >= total * (len(groups) + 1) / n:
            groups.append(cur)
            cur = []
    groups.append(cur)
    assert len(groups) == n and all(groups)
    weight_map = {}
    for gi, g in enumerate(groups):
        fname = f"model-{gi + 1:05d}-of-{n:05d}.safetensors"
        save_file({k: ckpt[k] for k in g}, os.path.join(outdir, fname), metadata=meta)
        for k in g:
            weight_map[k] = fname
    index = {
        "metadata": {"total_parameters": sum(ckpt[k].numel() for k in names), "total_size": total},
        "weight_map": weight_map,
    }
    with open(os.path.join(outdir, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------
# reference computation
# --------------------------------------------------------------------------------------

def softcap(x, c):
    return c * torch.tanh(x / c)


@torch.no_grad()
def make_reference(model, tcfg, spec):
    L, H, V = tcfg.num_hidden_layers, tcfg.hidden_size, tcfg.vocab_size
    gen = torch.Generator().manual_seed(spec["seed"] + 7)
    ids = torch.randint(3, tcfg.vocab_size_per_layer_input, (T_REF,), generator=gen, dtype=torch.int64)
    ids[0] = 2  # <bos>
    input_ids = ids[None, :]
    tm = model.model

    # ---- hooks -------------------------------------------------------------------------
    cap = {}
    hooks = []

    def pre_layer(i):
        def fn(mod, args, kwargs):
            hs = args[0] if len(args) > 0 else kwargs["hidden_states"]
            pli = args[2] if len(args) > 2 else kwargs["per_layer_input"]
            if i == 0:
                cap["streams_in"] = hs.detach().clone()
            cap[f"pli.{i}"] = pli.detach().clone()
        return fn

    def post_layer(i):
        def fn(mod, args, out):
            o = out[0] if isinstance(out, tuple) else out
            cap[f"layer_out.{i}"] = o.detach().clone()
        return fn

    def act_in(i):
        def fn(mod, args):
            cap[f"act_in.{i}"] = args[0].detach().clone()
        return fn

    hooks.append(tm.embed_tokens.register_forward_hook(lambda m, a, o: cap.__setitem__("embeddings", o.detach().clone())))
    hooks.append(tm.norm.register_forward_hook(lambda m, a, o: cap.__setitem__("final_hidden", o.detach().clone())))
    for i, layer in enumerate(tm.layers):
        hooks.append(layer.register_forward_pre_hook(pre_layer(i), with_kwargs=True))
        hooks.append(layer.register_forward_hook(post_layer(i)))
        hooks.append(layer.mlp.act_fn.register_forward_pre_hook(act_in(i)))

    # ---- prefill with a fresh cache (the reference) ------------------------------------
    out = model(input_ids=input_ids, use_cache=True, logits_to_keep=0)
    prefill = out.logits[0].float().clone()
    internals = dict(cap)
    for h in hooks:
        h.remove()
    assert prefill.shape == (T_REF, V)

    # ---- prefill without cache ---------------------------------------------------------
    out_nc = model(input_ids=input_ids, use_cache=False, logits_to_keep=0)
    d_nocache = (out_nc.logits[0] - prefill).abs().max().item()

    # ---- step-by-step decode -----------------------------------------------------------
    cache = DynamicCache(config=model.config)
    dec = []
    for t in range(T_REF):
        o = model(input_ids=input_ids[:, t:t + 1], cache=cache, use_cache=True)
        cache = o.cache
        dec.append(o.logits[0, -1].float())
    decode = torch.stack(dec)
    d_decode = (decode - prefill).abs().max().item()

    # ---- greedy generation -------------------------------------------------------------
    prompt = input_ids[:, :GREEDY_PROMPT]
    model.generation_config.eos_token_id = None  # never stop early, no eos suppression
    gcfg = GenerationConfig(do_sample=False, max_new_tokens=GREEDY_NEW, eos_token_id=None,
                            pad_token_id=0, bos_token_id=2)
    gout = model.generate(prompt, generation_config=gcfg, attention_mask=torch.ones_like(prompt))
    greedy = gout[0, GREEDY_PROMPT:]
    assert greedy.numel() == GREEDY_NEW, greedy
    # cross-check with a manual argmax loop on a fresh cache
    cache = DynamicCache(config=model.config)
    o = model(input_ids=prompt, cache=cache, use_cache=True)
    manual = []
    nxt = o.logits[0, -1].argmax()
    for _ in range(GREEDY_NEW):
        manual.append(int(nxt))
        o = model(input_ids=nxt.view(1, 1), cache=o.cache, use_cache=True)
        nxt = o.logits[0, -1].argmax()
    assert manual == greedy.tolist(), (manual, greedy.tolist())

    # ---- checks on the captured internals ---------------------------------------------
    x0 = internals["embeddings"][0]
    pli_direct = tm.project_per_layer_inputs(internals["embeddings"], tm.get_per_layer_inputs(input_ids))[0]
    pli = torch.stack([internals[f"pli.{i}"][0] for i in range(L)], dim=1)  # [T, L, P]
    d_pli = (pli - pli_direct).abs().max().item()
    fh = internals["final_hidden"][0]
    logits_from_fh = softcap(fh @ tm.embed_tokens.weight.T, tcfg.final_logit_softcapping)
    d_fh = (logits_from_fh - prefill).abs().max().item()

    ref = {
        "input_ids": ids.to(torch.int32),
        "prefill_logits": prefill,
        "decode_logits": decode,
        "embeddings": x0.float(),
        "per_layer_inputs": pli.float(),
        "streams_in": internals["streams_in"][:, 0].float(),  # [4, T, H]
        "final_hidden": fh.float(),
        "greedy_ids": greedy.to(torch.int32),
    }
    for i in range(L):
        ref[f"layer_out.{i}"] = internals[f"layer_out.{i}"][:, 0].float()  # [4, T, H]
        assert ref[f"layer_out.{i}"].shape == (tcfg.altup_num_inputs, T_REF, H)
    ref = {k: v.contiguous() for k, v in ref.items()}

    # ---- summary -----------------------------------------------------------------------
    sparse = []
    for i in range(L):
        if tcfg.activation_sparsity_pattern[i] > 0:
            a = internals[f"act_in.{i}"]
            sparse.append(f"L{i}:{(a == 0).float().mean().item():.3f}")
    stats = {
        "max|prefill - nocache|": d_nocache,
        "max|decode - prefill|": d_decode,
        "max|softcap(final_hidden@E^T) - prefill|": d_fh,
        "max|per_layer_inputs(hook) - direct|": d_pli,
        "max|logit|": prefill.abs().max().item(),
        "logit std": prefill.std().item(),
        "distinct argmax over T": int(prefill.argmax(-1).unique().numel()),
        "zeroed gate fraction (sparse layers)": " ".join(sparse),
        "x0 rms": x0.pow(2).mean().sqrt().item(),
        "final stream rms": [round(ref[f"layer_out.{L-1}"][k].pow(2).mean().sqrt().item(), 3)
                             for k in range(tcfg.altup_num_inputs)],
        "greedy_ids": greedy.tolist(),
    }
    return ref, stats


@torch.no_grad()
def roundtrip_check(outdir, spec, ref):
    """Reload the written checkpoint with transformers and compare logits."""
    cfg_json = json.load(open(os.path.join(outdir, "config.json")))
    if spec["nested"]:
        tcfg = Gemma3nConfig.from_pretrained(outdir).text_config
    else:
        tcfg = Gemma3nTextConfig.from_pretrained(outdir)
    m, info = Gemma3nForCausalLM.from_pretrained(outdir, config=tcfg, dtype=torch.float32,
                                                 attn_implementation="eager", output_loading_info=True)
    m.eval()
    assert not info["missing_keys"], info["missing_keys"]
    ids = ref["input_ids"].to(torch.int64)[None]
    lg = m(input_ids=ids, use_cache=True).logits[0]
    return (lg - ref["prefill_logits"]).abs().max().item(), cfg_json.get("model_type"), info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--no-roundtrip", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    print(f"torch {torch.__version__}  transformers {transformers.__version__}  "
          f"safetensors {safetensors.__version__}  numpy {np.__version__}")

    for name, spec in MODELS.items():
        if args.only and name not in args.only:
            continue
        outdir = os.path.normpath(os.path.join(args.out, name))
        if os.path.isdir(outdir):
            shutil.rmtree(outdir)
        model, tcfg, ckpt = build_model(spec)
        write_checkpoint(outdir, spec, tcfg, ckpt)
        ref, stats = make_reference(model, tcfg, spec)
        # One metadata key only: safetensors serialises the metadata map in hash order,
        # so several keys would make the file bytes differ from run to run.
        info = json.dumps({
            "generator": "tools/make_fixtures.py",
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "T": T_REF,
            "greedy_prompt_len": GREEDY_PROMPT,
            "greedy_new_tokens": GREEDY_NEW,
        }, sort_keys=True)
        save_file(ref, os.path.join(outdir, "reference.safetensors"), metadata={"fixture_info": info})
        print(f"== {name}: L={tcfg.num_hidden_layers} H={tcfg.hidden_size} V={tcfg.vocab_size} "
              f"storage={spec['storage']} shards={spec['shards']} kv_sharing={tcfg.kv_sharing_modes}")
        for k, v in stats.items():
            print(f"   {k}: {v}")
        if not args.no_roundtrip:
            d, mt, info = roundtrip_check(outdir, spec, ref)
            print(f"   reload via from_pretrained (model_type {mt}): max|logits - prefill| = {d}; "
                  f"unexpected keys (ignored): {sorted(info['unexpected_keys'])}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
