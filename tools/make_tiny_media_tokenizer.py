#!/usr/bin/env python3
"""Gives tests/fixtures/tiny-audio (and tiny-vision) a tokenizer: tiny-chat's, with the media
tokens moved to the ids those fixtures' config.json uses (their id layout is scaled down to a
512-token vocabulary: <start_of_image> 250/255, <start_of_audio> 251/254, <end_of_image> 256,
<image_soft_token> 257, <end_of_audio> 384, <audio_soft_token> 385). The pieces those ids held
before (byte pieces and two BPE pieces) are dropped together with every merge that uses them.
So the C API, `transcribe` and the server can be driven with text on these models; the
answers are random tokens, what the tests check is that every path gives the same ids.

    /work/venv/bin/python tools/make_tiny_media_tokenizer.py   (from the repository root)
"""
import json
import shutil

from tokenizers import Tokenizer

SRC = "tests/fixtures/tiny-chat"
for fixture in ("tiny-audio", "tiny-vision"):
    dst = f"tests/fixtures/{fixture}"
    cfg = json.load(open(f"{dst}/config.json"))
    media = {"<start_of_image>": cfg["boi_token_id"], "<end_of_image>": cfg["eoi_token_id"],
             "<image_soft_token>": cfg["image_token_id"], "<start_of_audio>": cfg["boa_token_id"],
             "<end_of_audio>": cfg["eoa_token_id"], "<audio_soft_token>": cfg["audio_token_id"]}
    tj = json.load(open(f"{SRC}/tokenizer.json"))
    vocab = tj["model"]["vocab"]
    by_id = {i: p for p, i in vocab.items()}
    dropped = {by_id[i] for i in media.values() if i in by_id}
    for p in dropped:
        del vocab[p]
    for content, i in media.items():
        vocab[content] = i
    # Merges whose parts or result were dropped go too (repeat: results feed later merges).
    merges = tj["model"]["merges"]
    while True:
        keep = []
        for m in merges:
            a, b = m if isinstance(m, list) else m.split(" ")
            if a in vocab and b in vocab and (a + b) in vocab:
                keep.append(m)
        if len(keep) == len(merges):
            break
        merges = keep
    tj["model"]["merges"] = merges
    tj["added_tokens"] = [t for t in tj["added_tokens"] if t["id"] not in media.values()]
    for content, i in sorted(media.items(), key=lambda kv: kv[1]):
        tj["added_tokens"].append({"id": i, "content": content, "single_word": False, "lstrip": False,
                                   "rstrip": False, "normalized": False, "special": True})
    json.dump(tj, open(f"{dst}/tokenizer.json", "w"), ensure_ascii=False, indent=1)
    tc = json.load(open(f"{SRC}/tokenizer_config.json"))
    dec = tc.get("added_tokens_decoder", {})
    for content, i in media.items():
        dec[str(i)] = {"content": content, "lstrip": False, "normalized": False, "rstrip": False,
                       "single_word": False, "special": True}
    json.dump(tc, open(f"{dst}/tokenizer_config.json", "w"), ensure_ascii=False, indent=1)
    tok = Tokenizer.from_file(f"{dst}/tokenizer.json")
    print(fixture, len(vocab), "pieces,", len(merges), "merges; dropped", sorted(dropped),
          tok.encode("<start_of_audio><audio_soft_token><end_of_audio> Transcribe this audio clip.").ids)
