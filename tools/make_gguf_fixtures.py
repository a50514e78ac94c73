#!/usr/bin/env python3
"""GGUF cross-check fixtures: llama.cpp's converter and runtime against gemma3n.cpp.

Three steps, each writing committed files (run from the repository root):

  model    tests/fixtures/tiny-gguf/: a tiny random Gemma 3n HF folder (nested config, BF16)
           whose shape obeys llama.cpp's hard-coded gemma3n constants (laurel rank 64,
           per-layer input width 256, 4 AltUp streams, 10 sparse layers then dense, KV
           sharing only from layer 20, so none here), with a tiny SentencePiece tokenizer
           (tokenizer.model + tokenizer.json + tokenizer_config.json) and reference.safetensors
           from transformers, made by tools/make_fixtures.py's own functions.
           Also tests/fixtures/gguf/tokenizer-600/: a byte-fallback SentencePiece tokenizer
           with 600 pieces for tiny-sharded (which ships without one).
  convert  runs llama.cpp's own convert_hf_to_gguf.py (from the llama-cpp-python sdist) on
           tiny-gguf and on a copy of tiny-sharded + tokenizer-600, writing
           tests/fixtures/gguf/{tiny-gguf,tiny-sharded}.llamacpp.bf16.gguf.
  quantize-ref  runs llama.cpp's own quantizer (llama_model_quantize) on the converter's BF16 file
           for each mix and records every tensor's type and an FNV-1a hash of its bytes in
           tests/fixtures/gguf/llamacpp_quantize.json (our quantize must write the same bytes).
  logits   runs llama-cpp-python (logits_all) on tiny-gguf.llamacpp.bf16.gguf and on GGUFs that
           our `gemma3n quantize` writes from tests/fixtures/tiny-gguf (F32, F16, BF16, Q8_0,
           Q4_0, Q4_1, Q5_0, Q5_1 where our quantize supports them) and saves llama.cpp's
           logits for the reference input_ids to tests/fixtures/gguf/llamacpp_logits.safetensors.

Install (versions used for the committed files):

    ~/venv/bin/pip install torch==2.15.0 transformers==5.24.0 safetensors==0.8.0 numpy==2.4.6 \
        tokenizers==0.23.3 sentencepiece==0.2.3 protobuf==7.36.2 llama-cpp-python==0.3.36 gguf

Run:

    ~/venv/bin/python tools/make_gguf_fixtures.py model
    ~/venv/bin/python tools/make_gguf_fixtures.py convert [--llama-src DIR]
    ~/venv/bin/python tools/make_gguf_fixtures.py logits --gemma3n build/gemma3n

--llama-src is an unpacked llama-cpp-python sdist (its vendor/llama.cpp holds the converter); by
default the script downloads the sdist of the installed llama-cpp-python version with pip.
"""

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
FIX = os.path.join(ROOT, "tests", "fixtures")
GGUF_DIR = os.path.join(FIX, "gguf")

# Types our quantize is asked to write for the llama.cpp logits step; those it rejects (not
# implemented yet) are skipped with a note.
OUR_TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K_M", "Q5_K_M", "Q6_K"]


def _types(n):
    return ["full_attention" if (i + 1) % 5 == 0 else "sliding_attention" for i in range(n)]


TINY_GGUF = dict(
    seed=4004,
    nested=True,
    storage="bf16",
    shards=1,
    text=dict(
        vocab_size=160,  # 128 tokenizer pieces + 4 added specials; the rest are padding ids
        vocab_size_per_layer_input=128,
        hidden_size=32,
        hidden_size_per_layer_input=256,  # llama.cpp: n_embd_altup = 256, not read from the file
        num_hidden_layers=11,  # 10 sparse layers (llama.cpp's n_layer_sparsity) + 1 dense
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        intermediate_size=[96] * 11,  # llama.cpp reads one FFN width (n_ff of layer 0) for all layers
        laurel_rank=64,  # llama.cpp: laurel_rank = 64, not read from the file
        altup_num_inputs=4,
        sliding_window=16,
        layer_types=_types(11),
        num_kv_shared_layers=0,  # llama.cpp shares KV only from layer 20 on
        activation_sparsity_pattern=[0.95] * 10 + [0.0],
        final_logit_softcapping=30.0,
        max_position_embeddings=512,
    ),
)

ADDED_SPECIALS = ["<end_of_image>", "<image_soft_token>", "<end_of_audio>", "<audio_soft_token>"]

# A Gemma-style chat template (our own wording of the format in the spec, section 6).
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}"
    "{{ '<start_of_turn>' + role + '\\n' + m['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)


# --------------------------------------------------------------------------------------
# tokenizers
# --------------------------------------------------------------------------------------

def _corpus(seed, n_words, n_sent):
    rng = random.Random(seed)
    cons, vow = "bcdfghjklmnprstvwz", "aeiou"
    words = sorted({"".join(rng.choice(cons) + rng.choice(vow) for _ in range(rng.randint(1, 4)))
                    for _ in range(n_words)})
    for _ in range(n_sent):
        s = " ".join(rng.choice(words) for _ in range(rng.randint(3, 14)))
        tail = " " + str(rng.randint(0, 999)) if rng.random() < 0.2 else ""
        yield s.capitalize() + rng.choice(".?!,") + tail


def make_tokenizer(outdir, vocab_size, byte_fallback, seed):
    """Trains a Gemma-layout SentencePiece BPE model and writes tokenizer.model, tokenizer.json
    and tokenizer_config.json (via transformers' GemmaTokenizer) into outdir."""
    import sentencepiece as spm
    from transformers import GemmaTokenizer

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=_corpus(seed, 400 if vocab_size > 256 else 60, 4000),
        model_writer=buf, model_type="bpe", vocab_size=vocab_size,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3,
        pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>",
        user_defined_symbols=["<mask>", "<start_of_turn>", "<end_of_turn>"],
        byte_fallback=byte_fallback, character_coverage=1.0, add_dummy_prefix=False,
        remove_extra_whitespaces=False, normalization_rule_name="identity", split_digits=True,
        num_threads=1, minloglevel=2)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "tokenizer.model"), "wb") as f:
        f.write(buf.getvalue())
    with tempfile.TemporaryDirectory() as td:
        shutil.copy(os.path.join(outdir, "tokenizer.model"), td)
        tok = GemmaTokenizer.from_pretrained(td, add_bos_token=True, add_eos_token=False)
    assert len(tok) == vocab_size, (len(tok), vocab_size)
    tok.add_special_tokens({"additional_special_tokens": ADDED_SPECIALS})
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(outdir)
    for extra in ("special_tokens_map.json", "chat_template.jinja"):
        if os.path.exists(os.path.join(outdir, extra)):
            os.remove(os.path.join(outdir, extra))
    # tokenizer_config.json as Hugging Face Gemma repos ship it (transformers 5 writes a
    # reduced one with a temporary vocab_file path in it): special tokens, add_bos/add_eos,
    # the chat template and added_tokens_decoder, which llama.cpp's converter reads.
    tj = json.load(open(os.path.join(outdir, "tokenizer.json"), encoding="utf-8"))
    decoder = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
               for t in tj["added_tokens"]}
    cfg = {"add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": decoder,
           "bos_token": "<bos>", "chat_template": CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
           "eos_token": "<eos>", "extra_special_tokens": ADDED_SPECIALS, "mask_token": "<mask>",
           "model_max_length": 1000000, "pad_token": "<pad>", "padding_side": "left",
           "tokenizer_class": "GemmaTokenizer", "unk_token": "<unk>"}
    with open(os.path.join(outdir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    ids = tok("Hello world").input_ids
    assert ids[0] == 2, ids
    return tok


# --------------------------------------------------------------------------------------
# steps
# --------------------------------------------------------------------------------------

def step_model(args):
    import torch
    import transformers
    from safetensors.torch import save_file
    sys.path.insert(0, HERE)
    import make_fixtures as mf

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()

    outdir = os.path.join(FIX, "tiny-gguf")
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    model, tcfg, ckpt = mf.build_model(TINY_GGUF)
    mf.write_checkpoint(outdir, TINY_GGUF, tcfg, ckpt)
    make_tokenizer(outdir, TINY_GGUF["text"]["vocab_size_per_layer_input"], False, 11)
    ref, stats = mf.make_reference(model, tcfg, TINY_GGUF)
    del ref["per_layer_inputs"]  # [T, L, 256] would be 0.9 MB; nothing here uses it
    info = json.dumps({"generator": "tools/make_gguf_fixtures.py", "torch": torch.__version__,
                       "transformers": transformers.__version__, "T": mf.T_REF,
                       "greedy_prompt_len": mf.GREEDY_PROMPT, "greedy_new_tokens": mf.GREEDY_NEW},
                      sort_keys=True)
    save_file(ref, os.path.join(outdir, "reference.safetensors"), metadata={"fixture_info": info})
    print(f"== tiny-gguf: L={tcfg.num_hidden_layers} H={tcfg.hidden_size} V={tcfg.vocab_size}")
    for k, v in stats.items():
        print(f"   {k}: {v}")
    d, _, _ = mf.roundtrip_check(outdir, TINY_GGUF, ref)
    print(f"   reload via from_pretrained: max|logits - prefill| = {d}")

    tokdir = os.path.join(GGUF_DIR, "tokenizer-600")
    if os.path.isdir(tokdir):
        shutil.rmtree(tokdir)
    make_tokenizer(tokdir, 600, True, 22)
    print(f"== {os.path.relpath(tokdir, ROOT)}: 600 pieces with byte fallback")


def _llama_src(args):
    if args.llama_src:
        return os.path.join(args.llama_src, "vendor", "llama.cpp")
    import importlib.metadata as md
    ver = md.version("llama_cpp_python")
    cache = os.path.join(tempfile.gettempdir(), f"llama-cpp-python-{ver}")
    conv = os.path.join(cache, f"llama_cpp_python-{ver}", "vendor", "llama.cpp")
    if not os.path.isfile(os.path.join(conv, "convert_hf_to_gguf.py")):
        os.makedirs(cache, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                               f"llama-cpp-python=={ver}", "-d", cache])
        with tarfile.open(os.path.join(cache, f"llama_cpp_python-{ver}.tar.gz")) as t:
            t.extractall(cache, filter="data")
    return conv


def _convert(conv_dir, model_dir, out):
    env = dict(os.environ)
    env.pop("NO_LOCAL_GGUF", None)  # use the converter's own gguf-py
    cmd = [sys.executable, os.path.join(conv_dir, "convert_hf_to_gguf.py"), model_dir,
           "--outtype", "bf16", "--outfile", out]
    print("$ " + " ".join(cmd))
    subprocess.check_call(cmd, env=env)


def step_convert(args):
    conv = _llama_src(args)
    os.makedirs(GGUF_DIR, exist_ok=True)
    _convert(conv, os.path.join(FIX, "tiny-gguf"), os.path.join(GGUF_DIR, "tiny-gguf.llamacpp.bf16.gguf"))
    with tempfile.TemporaryDirectory() as td:
        m = os.path.join(td, "tiny-sharded")
        shutil.copytree(os.path.join(FIX, "tiny-sharded"), m)
        os.remove(os.path.join(m, "reference.safetensors"))
        for f in os.listdir(os.path.join(GGUF_DIR, "tokenizer-600")):
            shutil.copy(os.path.join(GGUF_DIR, "tokenizer-600", f), m)
        _convert(conv, m, os.path.join(GGUF_DIR, "tiny-sharded.llamacpp.bf16.gguf"))
    _summary(os.path.join(GGUF_DIR, "tiny-gguf.llamacpp.bf16.gguf"))


def _summary(path):
    from gguf import GGUFReader
    r = GGUFReader(path)
    print(f"== {os.path.relpath(path, ROOT)}")
    for f in r.fields.values():
        if f.name.startswith("tokenizer.ggml.") and f.name not in ("tokenizer.ggml.model", "tokenizer.ggml.pre"):
            print(f"   {f.name}: [{len(f.data)} entries]")
            continue
        v = f.contents() if hasattr(f, "contents") else None
        print(f"   {f.name}: {v}")
    for t in r.tensors:
        print(f"   {t.name:40s} {t.tensor_type.name:5s} {list(t.shape)}")


def step_logits(args):
    import numpy as np
    import llama_cpp.llama_cpp as lc
    from llama_cpp import Llama

    # llama.cpp's CPU weight repacking (extra buffer types) crashes on these tiny matrices
    # (ggml, llama-cpp-python 0.3.36, Q8_0 with 32-wide rows, also on the converter's own Q8_0
    # file); the plain CPU kernels are used instead.
    default_params = lc.llama_model_default_params

    def no_repack_params():
        p = default_params()
        p.use_extra_bufts = False
        return p
    lc.llama_model_default_params = no_repack_params
    from safetensors.numpy import load_file, save_file

    ref = load_file(os.path.join(FIX, "tiny-gguf", "reference.safetensors"))
    ids = [int(x) for x in ref["input_ids"]]
    hf = ref["prefill_logits"]
    out = {"input_ids": ref["input_ids"]}

    def run(path):
        llm = Llama(model_path=path, n_ctx=256, n_batch=256, n_ubatch=256, n_threads=2, logits_all=True,
                    verbose=False, seed=0)
        llm.reset()
        llm.eval(ids)
        lg = np.array(llm.scores[:len(ids)], dtype=np.float32)
        del llm
        return lg

    files = {"llamacpp_bf16": os.path.join(GGUF_DIR, "tiny-gguf.llamacpp.bf16.gguf")}
    with tempfile.TemporaryDirectory() as td:
        for t in OUR_TYPES:
            p = os.path.join(td, f"ours-{t}.gguf")
            r = subprocess.run([args.gemma3n, "quantize", "--model", os.path.join(FIX, "tiny-gguf"), "--type", t,
                                "--out", p], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"   skip ours_{t}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
                continue
            files[f"ours_{t}"] = p
        for key, p in files.items():
            lg = run(p)
            out[key] = np.ascontiguousarray(lg)
            d = np.abs(lg - hf).max()
            print(f"   {key:16s} llama.cpp vs HF reference: max|diff| = {d:.4g} "
                  f"(max|ref| {np.abs(hf).max():.3g}); argmax agree {np.mean(lg.argmax(-1) == hf.argmax(-1)):.3f}")
    save_file(out, os.path.join(GGUF_DIR, "llamacpp_logits.safetensors"),
              metadata={"fixture_info": json.dumps({"generator": "tools/make_gguf_fixtures.py logits",
                                                    "llama_cpp_python": _llama_version()}, sort_keys=True)})


LLAMA_FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18}


def _fnv1a64(data):
    import numpy as np
    h = np.uint64(0xcbf29ce484222325)
    prime = np.uint64(0x100000001b3)
    b = np.frombuffer(bytes(data), dtype=np.uint8)
    with np.errstate(over="ignore"):
        for x in b.tolist():
            h = np.uint64(h ^ np.uint64(x)) * prime
    return "%016x" % int(h)


def step_quantize_ref(args):
    """llama.cpp's own quantizer (llama_model_quantize) on the converter's BF16 file: the type and
    an FNV-1a hash of the bytes of every tensor, per mix -> llamacpp_quantize.json."""
    import ctypes
    import llama_cpp.llama_cpp as lc
    from gguf import GGUFReader
    src = os.path.join(GGUF_DIR, "tiny-gguf.llamacpp.bf16.gguf")
    out = {}
    with tempfile.TemporaryDirectory() as td:
        for mix, ftype in LLAMA_FTYPES.items():
            dst = os.path.join(td, mix + ".gguf")
            p = lc.llama_model_quantize_default_params()
            p.ftype = ftype
            p.nthread = 1
            rc = lc.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p))
            assert rc == 0, (mix, rc)
            r = GGUFReader(dst)
            out[mix] = {t.name: [t.tensor_type.name, _fnv1a64(t.data.tobytes())] for t in r.tensors}
            print(f"   {mix}: " + ", ".join(f"{k} x{v}" for k, v in sorted(
                __import__("collections").Counter(v[0] for v in out[mix].values()).items())))
    with open(os.path.join(GGUF_DIR, "llamacpp_quantize.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


def _llama_version():
    import importlib.metadata as md
    return md.version("llama_cpp_python")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("step", choices=["model", "convert", "logits", "quantize-ref", "summary"])
    ap.add_argument("--llama-src", default=None)
    ap.add_argument("--gemma3n", default=os.path.join(ROOT, "build", "gemma3n"))
    ap.add_argument("file", nargs="?")
    args = ap.parse_args()
    if args.step == "model":
        step_model(args)
    elif args.step == "convert":
        step_convert(args)
    elif args.step == "logits":
        step_logits(args)
    elif args.step == "quantize-ref":
        step_quantize_ref(args)
    else:
        _summary(args.file)


if __name__ == "__main__":
    main()
