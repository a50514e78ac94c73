#!/usr/bin/env python3
"""Writes tests/fixtures/tiny-chat/: a tiny random-weight Gemma 3n (nested config, BF16, vocab 512)
with a tokenizer whose ids agree with the model's generation config, for end-to-end chat tests
(C API, server, web page). The model's answers are random tokens; what matters is that every
id it can produce decodes, and that <end_of_turn> (106) and <eos> (1) are the stop ids.

Token ids (the real Gemma 3 layout for the first 107 ids):
    0 <pad>  1 <eos>  2 <bos>  3 <unk>  4 <mask>  5 [multimodal]  6..104 <unused0..98>
    105 <start_of_turn>  106 <end_of_turn>  107..362 byte pieces <0x00>..<0xFF>
    363..511 BPE pieces (SentencePiece BPE trained on a small seeded English-word corpus)
generation_config.json: bos 2, eos [1, 106], pad 0, do_sample, top_k 64, top_p 0.95.

The weights come from tools/make_fixtures.py (build_model / write_checkpoint); the tokenizer
files from SentencePiece + transformers' GemmaTokenizer, like tools/make_gguf_fixtures.py.
The script checks transformers' apply_chat_template (the real Gemma 3n template) against the
ids the fixture's tokenizer gives, so the C++ chat encoding can be compared with it.

Install (the versions used for the committed files):
    /work/venv/bin/pip install torch==2.15.0 transformers==5.24.0 safetensors==0.8.0 \
        numpy==2.4.6 tokenizers==0.23.3 sentencepiece==0.2.3 protobuf==7.36.2
Run from the repository root:
    /work/venv/bin/python tests/server/make_tiny_chat_fixture.py
"""

import io
import json
import os
import random
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "tiny-chat")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import make_fixtures as mf  # noqa: E402  (the weight helpers: one definition of the fixtures' model)

VOCAB = 512
SPEC = dict(
    seed=5005,
    nested=True,
    storage="bf16",
    shards=1,
    text=dict(
        vocab_size=VOCAB,
        vocab_size_per_layer_input=VOCAB,
        hidden_size=64,
        hidden_size_per_layer_input=8,
        num_hidden_layers=5,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        intermediate_size=[128] * 5,
        laurel_rank=4,
        altup_num_inputs=4,
        sliding_window=32,
        layer_types=["sliding_attention", "sliding_attention", "full_attention", "sliding_attention",
                     "full_attention"],  # layers 3, 4 reuse the KV of 1, 2
        num_kv_shared_layers=2,
        activation_sparsity_pattern=[0.95] + [0.0] * 4,
        final_logit_softcapping=30.0,
        max_position_embeddings=2048,
    ),
)

USER_SYMBOLS = (["<mask>", "[multimodal]"] + [f"<unused{i}>" for i in range(99)] +
                ["<start_of_turn>", "<end_of_turn>"])

WORDS = ("the a an of to in is it you that he was for on are with as his they be at one have this from or "
         "had by hot word but what some we can out other were all there when up use your how said each she "
         "which do their time if will way about many then them write would like so these her long make thing "
         "see him two has look more day could go come did number sound no most people my over know water than "
         "call first who may down side been now find hello world model chat token").split()


def corpus(seed, n):
    rng = random.Random(seed)
    for _ in range(n):
        s = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        yield s.capitalize() + rng.choice(".?!,") + (" " + str(rng.randint(0, 99)) if rng.random() < 0.1 else "")


def make_tokenizer(outdir):
    import sentencepiece as spm
    from transformers import GemmaTokenizer

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=corpus(17, 3000), model_writer=buf, model_type="bpe", vocab_size=VOCAB,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3,
        pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>",
        user_defined_symbols=USER_SYMBOLS, byte_fallback=True, character_coverage=1.0,
        add_dummy_prefix=False, remove_extra_whitespaces=False, normalization_rule_name="identity",
        split_digits=True, num_threads=1, minloglevel=2)
    template = open(os.path.join(ROOT, "tests", "tokenizer", "gemma3n_chat_template.jinja"), encoding="utf-8").read()
    with tempfile.TemporaryDirectory() as td:
        with open(os.path.join(td, "tokenizer.model"), "wb") as f:
            f.write(buf.getvalue())
        tok = GemmaTokenizer.from_pretrained(td, add_bos_token=True, add_eos_token=False)
    assert len(tok) == VOCAB, len(tok)
    for name, want in (("<start_of_turn>", 105), ("<end_of_turn>", 106), ("<0x00>", 107), ("<eos>", 1)):
        assert tok.convert_tokens_to_ids(name) == want, (name, tok.convert_tokens_to_ids(name))
    tok.chat_template = template
    tok.save_pretrained(outdir)
    for extra in ("special_tokens_map.json", "chat_template.jinja", "tokenizer.model"):
        if os.path.exists(os.path.join(outdir, extra)):
            os.remove(os.path.join(outdir, extra))
    tj = json.load(open(os.path.join(outdir, "tokenizer.json"), encoding="utf-8"))
    decoder = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip", "single_word", "special")}
               for t in tj["added_tokens"]}
    cfg = {"add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": decoder,
           "bos_token": "<bos>", "chat_template": template, "clean_up_tokenization_spaces": False,
           "eos_token": "<eos>", "mask_token": "<mask>", "model_max_length": 1000000, "pad_token": "<pad>",
           "padding_side": "left", "tokenizer_class": "GemmaTokenizer", "unk_token": "<unk>"}
    with open(os.path.join(outdir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    return tok


def main():
    import torch
    import transformers
    from transformers import AutoTokenizer

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    # Everything but README.md is generated.
    if os.path.isdir(OUT):
        for f in os.listdir(OUT):
            if f != "README.md":
                os.remove(os.path.join(OUT, f))
    _, tcfg, ckpt = mf.build_model(SPEC)
    mf.write_checkpoint(OUT, SPEC, tcfg, ckpt)
    make_tokenizer(OUT)

    # Cross-check for the C++ side (tests/server_test.cpp uses these ids).
    tok = AutoTokenizer.from_pretrained(OUT)
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello world!"},
            {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "How are you?"}]
    ids = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True, return_dict=False)
    if isinstance(ids, dict):
        ids = ids["input_ids"]
    print("chat ids:", list(ids))
    print("hello:", tok("Hello world!").input_ids)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))  # (README included)
    print(f"== {os.path.relpath(OUT, ROOT)}: {sorted(os.listdir(OUT))}, {total} bytes; "
          f"torch {torch.__version__} transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
