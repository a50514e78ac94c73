"""The official `openai` Python client against `gemma3n serve` on the tiny-chat fixture.

Run (after building; needs /work/venv with `openai` and `pytest`):
    /work/venv/bin/python -m pytest tests/server/test_openai_client.py -q
G3N_BINARY overrides the gemma3n binary (default build/gemma3n).

Ids: the server returns them when asked with the extension field `return_token_ids: true`
(choices[0].token_ids per chunk / per answer, prompt_token_ids), as vLLM names them; the tests
compare them with `gemma3n run --tokens ... --seed S` for the same sampling settings.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import openai
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_util import FIXTURE, ROOT, Server, binary  # noqa: E402

CTX = 1024
THREADS = 2


@pytest.fixture(scope="module")
def server():
    with Server("--max-concurrent", 4, "--queue", 16, "--max-body-mb", 1, "--max-tokens", 512,
                "--read-timeout", 1, ctx=CTX, threads=THREADS) as s:
        yield s
        assert s.alive(), "the server died during the tests"
        assert s.stop() == 0, "SIGTERM should stop the server cleanly (exit status 0)"


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="no-key", max_retries=0, timeout=60)


def cli_ids(prompt_ids, n, temp, top_p, seed):
    """What `gemma3n run` samples for the same prompt and settings."""
    out = subprocess.run([binary(), "run", "--model", FIXTURE, "--tokens", ",".join(map(str, prompt_ids)),
                          "-n", str(n), "--temp", str(temp), "--top-p", str(top_p), "--seed", str(seed),
                          "--ctx", str(CTX), "-t", str(THREADS)],
                         capture_output=True, text=True, timeout=120, check=True)
    return [int(x) for x in out.stdout.split()]


def extra(obj, name):
    """A non-standard field of an openai response object."""
    return (obj.model_extra or {}).get(name)


def post_raw(server, path, body, headers=None):
    req = urllib.request.Request(server.url + path, data=body, method="POST",
                                 headers=headers or {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def health(server):
    with urllib.request.urlopen(server.url + "/health", timeout=10) as r:
        return json.loads(r.read())


def test_models(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["tiny-chat"]
    assert client.models.retrieve("tiny-chat").id == "tiny-chat"


def test_chat(client):
    r = client.chat.completions.create(model="tiny-chat", messages=[{"role": "user", "content": "Hello world!"}],
                                       max_tokens=16, seed=1)
    c = r.choices[0]
    assert r.object == "chat.completion"
    assert c.message.role == "assistant"
    assert isinstance(c.message.content, str)
    assert c.finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens == 19
    assert 0 <= r.usage.completion_tokens <= 16


def test_chat_streaming_matches_non_streaming(client):
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me about water."}]
    whole = client.chat.completions.create(model="tiny-chat", messages=msgs, max_tokens=24, seed=42,
                                           temperature=0.9, top_p=0.9)
    chunks = list(client.chat.completions.create(model="tiny-chat", messages=msgs, max_tokens=24, seed=42,
                                                 temperature=0.9, top_p=0.9, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert text == whole.choices[0].message.content
    assert finish == [whole.choices[0].finish_reason]
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_streamed_completion_ids_equal_cli(client):
    prompt = [2, 105, 484, 456, 433, 409, 383, 477, 106, 117, 105, 468, 457, 430, 117]
    stream = client.completions.create(model="tiny-chat", prompt=prompt, max_tokens=40, temperature=0.8,
                                       top_p=0.95, seed=1234, stream=True, extra_body={"return_token_ids": True})
    ids, text = [], ""
    for chunk in stream:
        for c in chunk.choices:
            ids += extra(c, "token_ids") or []
            text += c.text or ""
    assert ids == cli_ids(prompt, 40, 0.8, 0.95, 1234)
    assert len(ids) > 0


def test_chat_ids_equal_cli(client):
    r = client.chat.completions.create(model="tiny-chat", messages=[{"role": "user", "content": "How are you?"}],
                                       max_tokens=32, temperature=1.2, top_p=0.9, seed=77,
                                       extra_body={"return_token_ids": True})
    c = r.choices[0]
    prompt_ids = extra(c, "prompt_token_ids")
    assert prompt_ids[:2] == [2, 105] and prompt_ids[-1] == 117
    assert extra(c, "token_ids") == cli_ids(prompt_ids, 32, 1.2, 0.9, 77)


def test_multi_turn_chat_reuses_the_prefix_cache(client):
    msgs = [{"role": "user", "content": "Hello there, model."}]
    first = client.chat.completions.create(model="tiny-chat", messages=msgs, max_tokens=12, seed=3)
    msgs += [{"role": "assistant", "content": first.choices[0].message.content},
             {"role": "user", "content": "And what then?"}]
    second = client.chat.completions.create(model="tiny-chat", messages=msgs, max_tokens=12, seed=3)
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached >= first.usage.prompt_tokens
    assert second.usage.prompt_tokens > cached


def expect_status(fn, status, needle=None, code=None):
    with pytest.raises(openai.APIStatusError) as e:
        fn()
    assert e.value.status_code == status, e.value
    body = e.value.body if isinstance(e.value.body, dict) else {}
    if needle is not None:
        assert needle in (body.get("message") or str(e.value)), body
    if code is not None:
        assert body.get("code") == code, body
    return body


def test_errors_are_clear_and_the_server_stays_up(client, server):
    chat = client.chat.completions.create
    user = [{"role": "user", "content": "hi"}]
    # Wrong types and values.
    assert expect_status(lambda: chat(model="m", messages=user, temperature="hot"), 400)["param"] == "temperature"
    expect_status(lambda: chat(model="m", messages="hi"), 400, "must be an array")
    expect_status(lambda: chat(model="m", messages=[]), 400, "must not be empty")
    expect_status(lambda: chat(model="m", messages=[{"role": "user", "content": 5}]), 400, "content")
    expect_status(lambda: chat(model="m", messages=user, max_tokens=0), 400, "max_tokens")
    expect_status(lambda: chat(model="m", messages=user, n=3), 400, "n = 1")
    expect_status(lambda: chat(model="m", messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]),
                  400, "alternate")
    # Media on a model without towers, invalid base64, and URLs the server will not fetch.
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
    for part, needle in (({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}}, "no vision tower"),
                         ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@not-base64@@"}}, "base64"),
                         ({"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}, "data URLs"),
                         ({"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}, "no audio tower")):
        expect_status(lambda: chat(model="m", messages=[{"role": "user", "content": [part]}]), 400, needle)
    # Too long a prompt for the context.
    long_text = " ".join(["water"] * (CTX + 100))
    expect_status(lambda: chat(model="m", messages=[{"role": "user", "content": long_text}]), 400,
                  "maximum context length", code="context_length_exceeded")
    # A body over --max-body-mb 1.
    expect_status(lambda: chat(model="m", messages=[{"role": "user", "content": "x" * (2 << 20)}]), 413,
                  "exceeds the limit")
    # Malformed JSON and a non-object body, sent raw.
    status, body = post_raw(server, "/v1/chat/completions", b'{"messages": [')
    assert status == 400 and "not valid JSON" in body["error"]["message"]
    status, body = post_raw(server, "/v1/completions", b"[1, 2, 3]")
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    # A client that sends half a request and stalls: 408 after --read-timeout 1.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"pr")
        reply = s.recv(4096).decode()
        assert reply.startswith("HTTP/1.1 408"), reply
    # A client that vanishes mid-request.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nContent-Length: 500\r\n\r\n{")
    # Still serving.
    assert health(server)["status"] == "ok"
    r = chat(model="m", messages=user, max_tokens=4)
    assert r.choices[0].finish_reason in ("stop", "length")
    assert server.alive()


def test_queue_full_gives_503_and_disconnect_cancels():
    with Server("--max-concurrent", 1, "--queue", 0, "--max-tokens", 2000, ctx=2048, threads=THREADS) as s:
        c = openai.OpenAI(base_url=s.url + "/v1", api_key="no-key", max_retries=0, timeout=60)
        stream = c.completions.create(model="m", prompt=[2, 105, 7], max_tokens=2000, stream=True,
                                      extra_body={"ignore_eos": True})
        next(iter(stream))  # generating now
        body = expect_status(lambda: c.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}]),
                             503, "busy")
        assert body["code"] == "server_busy"
        stream.close()  # the client goes away mid-answer
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and health(s)["active"] != 0:
            time.sleep(0.02)
        h = health(s)
        assert h["active"] == 0 and h["cancelled"] == 1 and h["rejected_busy"] == 1, h
        assert c.completions.create(model="m", prompt=[2, 105], max_tokens=2).choices[0].finish_reason
        assert s.alive()


VISION = os.path.join(ROOT, "tests", "fixtures", "tiny-vision")


def vision_bmp(path):
    """A BMP of the tiny-vision fixture's reference pixels."""
    from safetensors.numpy import load_file
    px = load_file(os.path.join(VISION, "reference.safetensors"))["pixels_u8"]  # [3, H, W]
    _, h, w = px.shape
    stride = (w * 3 + 3) & ~3
    rows = b""
    for y in range(h - 1, -1, -1):
        row = bytes(int(px[c, y, x]) for x in range(w) for c in (2, 1, 0))
        rows += row + b"\0" * (stride - w * 3)
    import struct
    header = b"BM" + struct.pack("<IIII", 54 + len(rows), 0, 54, 40) + struct.pack("<iiHHIIiiII", w, h, 1, 24, 0, 0, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(header + rows)


def test_image_part_with_the_openai_client(tmp_path):
    """An image_url part (data URL, and a local file under --media-dir) on the tiny vision model:
    the answer is the one `gemma3n run --image` gives for the same image and text (greedy)."""
    bmp = tmp_path / "pixels.bmp"
    vision_bmp(bmp)
    cli = subprocess.run([binary(), "run", "--model", VISION, "--image", str(bmp), "--prompt", "Describe it.",
                          "-n", "6", "--greedy", "-t", str(THREADS)], capture_output=True, text=True, timeout=120,
                         check=True).stdout.rstrip("\n")
    assert cli
    data_url = "data:image/bmp;base64," + base64.b64encode(bmp.read_bytes()).decode()
    with Server("--media-dir", str(tmp_path), model=VISION, ctx=256, threads=THREADS) as s:
        c = openai.OpenAI(base_url=s.url + "/v1", api_key="no-key", max_retries=0, timeout=60)
        for url in (data_url, "file://" + str(bmp)):
            content = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "Describe it."}]
            r = c.chat.completions.create(model="tiny-vision", messages=[{"role": "user", "content": content}],
                                          max_tokens=6, temperature=0)
            assert r.choices[0].message.content == cli
            streamed = "".join(ch.choices[0].delta.content or "" for ch in c.chat.completions.create(
                model="tiny-vision", messages=[{"role": "user", "content": content}], max_tokens=6, temperature=0,
                stream=True) if ch.choices)
            assert streamed == cli
        # Files outside --media-dir are refused.
        with pytest.raises(openai.BadRequestError) as e:
            c.chat.completions.create(model="tiny-vision", max_tokens=2, messages=[{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}, {"type": "text", "text": "x"}]}])
        assert "not served" in str(e.value)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_examples(server):
    subprocess.run(["bash", os.path.join(ROOT, "tests", "server", "curl_examples.sh"), server.url], check=True,
                   timeout=120)
