#!/usr/bin/env python3
"""Load test for `gemma3n serve`: requests/s and p50/p99 latency with 1, 4 and 16 concurrent
clients, and zero failed or lost requests (exit status 1 otherwise).

Standard library only (runs without /work/venv). Traffic goes to loopback only: by default it
starts its own server on a free 127.0.0.1 port with the tiny-chat fixture; --url must name a
loopback address. Every level is bounded in request count and in time.

    python3 tests/server/load_test.py [--requests 48] [--levels 1,4,16] [--max-tokens 32]
                                      [--time-limit 120] [--binary build/gemma3n]
                                      [--url http://127.0.0.1:8080] [--json]

Each request is a chat completion with its own text and seed and `ignore_eos: true`, so every
answer is exactly --max-tokens long (the same work per request); requests alternate between
non-streaming and SSE streaming. A request counts as failed unless it returns 200 with a
well-formed body of exactly --max-tokens tokens (streamed: a finish chunk and `data: [DONE]`).
"""

import argparse
import http.client
import ipaddress
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_util import Server  # noqa: E402


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def one_request(conn, i, max_tokens):
    """Sends request i on `conn`; returns None when it succeeded, else what went wrong."""
    stream = i % 2 == 1
    body = json.dumps({
        "model": "tiny-chat",
        "messages": [{"role": "user", "content": f"Request {i}: tell me about water and time."}],
        "max_tokens": max_tokens, "seed": i, "temperature": 0.8, "ignore_eos": True, "stream": stream,
    })
    conn.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        return f"HTTP {r.status}: {data[:200]!r}"
    if not stream:
        j = json.loads(data)
        n = j["usage"]["completion_tokens"]
        return None if n == max_tokens else f"{n} tokens, want {max_tokens}"
    events = [e[6:] for e in data.decode().split("\n\n") if e.startswith("data: ")]
    if not events or events[-1] != "[DONE]":
        return "stream without data: [DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    return None if finish == ["length"] else f"stream finish reasons {finish}"


def run_level(host, port, clients, requests, max_tokens, time_limit):
    latencies, failures = [], []
    lock = threading.Lock()
    next_index = [0]
    deadline = time.monotonic() + time_limit

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=max(10.0, time_limit))
        try:
            while time.monotonic() < deadline:
                with lock:
                    if next_index[0] >= requests:
                        return
                    i = next_index[0]
                    next_index[0] += 1
                t0 = time.monotonic()
                try:
                    err = one_request(conn, i, max_tokens)
                except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
                    err = f"{type(e).__name__}: {e}"
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=max(10.0, time_limit))
                dt = time.monotonic() - t0
                with lock:
                    (failures.append(f"request {i}: {err}") if err else latencies.append(dt))
        finally:
            conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    done = len(latencies) + len(failures)
    lost = requests - done  # never sent or never answered within the time limit
    lat = sorted(latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] * 1000 if lat else float("nan")

    return {"clients": clients, "requests": requests, "ok": len(latencies), "failed": len(failures), "lost": lost,
            "seconds": wall, "req_per_s": len(latencies) / wall if wall > 0 else 0.0,
            "tokens_per_s": len(latencies) * max_tokens / wall if wall > 0 else 0.0,
            "p50_ms": pct(50), "p99_ms": pct(99), "errors": failures[:5]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running server on loopback (default: start one)")
    ap.add_argument("--binary", help="the gemma3n binary to start (default: $G3N_BINARY, else build/gemma3n)")
    ap.add_argument("--levels", default="1,4,16")
    ap.add_argument("--requests", type=int, default=48, help="requests per level")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--time-limit", type=float, default=120, help="seconds per level")
    ap.add_argument("--threads", type=int, default=2, help="server threads (when it starts one)")
    ap.add_argument("--json", action="store_true", help="print one JSON object per level")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    if args.binary:
        os.environ["G3N_BINARY"] = args.binary
    if args.requests < 1 or args.requests > 10000 or args.time_limit <= 0 or args.time_limit > 1800:
        ap.error("--requests must lie in [1, 10000] and --time-limit in (0, 1800]")

    server = None
    if args.url:
        u = urllib.parse.urlparse(args.url)
        if not is_loopback(u.hostname or ""):
            ap.error("--url must be a loopback address (127.0.0.0/8, ::1 or localhost)")
        host, port = u.hostname, u.port or 80
    else:
        server = Server("--max-concurrent", 4, "--queue", 64, "--max-tokens", max(args.max_tokens, 64),
                        threads=args.threads, ctx=1024)
        server.__enter__()
        host, port = "127.0.0.1", server.port
    try:
        socket.create_connection((host, port), timeout=5).close()
        results = [run_level(host, port, c, args.requests, args.max_tokens, args.time_limit) for c in levels]
    finally:
        if server is not None:
            server.stop()
    bad = False
    if not args.json:
        print(f"{'clients':>7} {'ok':>5} {'failed':>6} {'lost':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'tok/s':>8}")
    for r in results:
        bad |= r["failed"] > 0 or r["lost"] > 0
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['clients']:>7} {r['ok']:>5} {r['failed']:>6} {r['lost']:>5} {r['req_per_s']:>8.1f} "
                  f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['tokens_per_s']:>8.0f}")
        for e in r["errors"]:
            print(f"  {e}", file=sys.stderr)
    ok = sum(r["ok"] for r in results)
    failed = sum(r["failed"] + r["lost"] for r in results)
    print(f"load_test: {ok} passed, {failed} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
