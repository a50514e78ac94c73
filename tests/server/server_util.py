"""Starts `gemma3n serve` on a free loopback port for the Python tests and tools here.

The binary is $G3N_BINARY, else build/gemma3n under the repository root. The server prints
"listening on http://HOST:PORT" once it accepts connections; --port 0 lets it pick the port.
"""

import os
import re
import signal
import subprocess
import threading
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "tiny-chat")


def binary():
    path = os.environ.get("G3N_BINARY", os.path.join(ROOT, "build", "gemma3n"))
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"gemma3n binary not found at {path}: build it or set G3N_BINARY")
    return path


class Server:
    """A running `gemma3n serve`; use as a context manager. `log` collects its stderr lines."""

    def __init__(self, *extra_args, model=FIXTURE, threads=2, ctx=1024, timeout=60):
        self.args = [binary(), "serve", "--model", model, "--host", "127.0.0.1", "--port", "0",
                     "-t", str(threads), "--ctx", str(ctx), *map(str, extra_args)]
        self.timeout = timeout
        self.proc = None
        self.port = None
        self.log = []

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        deadline = time.monotonic() + self.timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on http://(?:\[[^\]]+\]|[^\s:/]+):(\d+)", line)
            if m:
                self.port = int(m.group(1))
                return self
        self.stop()
        raise RuntimeError(f"server did not start: {line!r}; stderr: {''.join(self.log)[-2000:]}")

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.log.append(line)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __exit__(self, *exc):
        self.stop()
