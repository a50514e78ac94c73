"""The web chat page in headless Chromium, driven by Selenium: send a message and watch the answer
stream in, attach an image (tiny-chat has no vision tower: the server's 400 shows), stop a long answer.

Needs Debian's chromium + chromium-driver (apt-get install chromium chromium-driver) and
selenium in /work/venv (pip install selenium); skipped when they are missing.
    /work/venv/bin/python -m pytest tests/server/test_browser.py -q
G3N_SCREENSHOT=DIR saves a screenshot of the page there.
"""

import json
import os
import shutil
import struct
import sys
import tempfile
import time
import urllib.request
import zlib

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_util import Server  # noqa: E402

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not (os.access(CHROMEDRIVER, os.X_OK) and os.access(CHROMIUM, os.X_OK)),
                                reason="chromium / chromium-driver are not installed")


def tiny_png(path):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\xff\x00\x00"  # one red pixel
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
           chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


@pytest.fixture(scope="module")
def server():
    with Server("--max-concurrent", 2, "--queue", 8, "--max-tokens", 2000, ctx=2048) as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    opts = Options()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,800",
              "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    # An explicit driver path: Selenium Manager must not try to download one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def wait(driver, cond, timeout=30):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: cond(d))


def idle(d):
    return d.find_element(By.ID, "stop").get_attribute("hidden") is not None


def assistant_bubbles(d):
    return d.find_elements(By.CSS_SELECTOR, ".msg.assistant")


def health(server):
    with urllib.request.urlopen(server.url + "/health", timeout=10) as r:
        return json.loads(r.read())


def test_chat_page(server, browser):
    d = browser
    d.get(server.url + "/")
    wait(d, lambda d: "tiny-chat" in d.find_element(By.ID, "model").text)

    # 1. A message: the answer streams in (several updates of the bubble), then tokens/s shows.
    d.execute_script("window.g3nExtraBody = {ignore_eos: true, seed: 5};"
                     "document.getElementById('max-tokens').value = '48';")
    box = d.find_element(By.ID, "input")
    box.send_keys("Hello there!")
    d.find_element(By.ID, "send").click()
    wait(d, lambda d: len(assistant_bubbles(d)) == 1 and idle(d))
    bubble = assistant_bubbles(d)[0]
    answer = bubble.find_element(By.CSS_SELECTOR, ".content").text
    assert answer.strip(), "empty answer"
    assert "streaming" not in bubble.get_attribute("class")
    # The page applies each SSE delta as it comes (the tiny model is fast enough that they may
    # all arrive in one read, so count deltas rather than screen updates).
    assert int(bubble.get_attribute("data-chunks")) >= 10, "the answer did not come as a stream of deltas"
    assert "tokens/s" in d.find_element(By.ID, "stats").text
    assert "48 tokens" in bubble.find_element(By.CSS_SELECTOR, ".meta").text
    assert d.find_elements(By.CSS_SELECTOR, ".msg.user")[0].text == "Hello there!"

    # 2. An image attachment: the server's 400 shows in the page; the chat goes on.
    with tempfile.TemporaryDirectory() as td:
        png = os.path.join(td, "red.png")
        tiny_png(png)
        file_input = d.find_element(By.ID, "file")
        d.execute_script("arguments[0].hidden = false;", file_input)
        file_input.send_keys(png)
        wait(d, lambda d: "red.png" in d.find_element(By.ID, "attachments").text)
        box.send_keys("What is in this picture?")
        d.find_element(By.ID, "send").click()
        err = wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".msg.error"))[0]
        assert "no vision tower" in err.text
        wait(d, idle)
        assert d.find_element(By.ID, "attachments").text == ""

    # 3. Stop: a long answer is cut short, and the server stops generating it.
    before = health(server)["cancelled"]
    # The tiny model writes 2000 tokens in about a second, so the page itself presses Stop as
    # soon as the first words of the answer show.
    d.execute_script("window.g3nExtraBody = {ignore_eos: true};"
                     "document.getElementById('max-tokens').value = '2000';"
                     "const obs = new MutationObserver(() => {"
                     "  const b = document.querySelectorAll('.msg.assistant')[1];"
                     "  if (b && b.querySelector('.content').textContent.trim()) {"
                     "    obs.disconnect(); document.getElementById('stop').click(); } });"
                     "obs.observe(document.getElementById('messages'), {subtree: true, childList: true,"
                     "                                                  characterData: true});")
    box.send_keys("Tell me a very long story.")
    d.find_element(By.ID, "send").click()
    wait(d, lambda d: len(assistant_bubbles(d)) == 2 and idle(d))
    meta = wait(d, lambda d: assistant_bubbles(d)[1].find_elements(By.CSS_SELECTOR, ".meta"))[0]
    assert meta.text.startswith("stopped"), meta.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and health(server)["cancelled"] == before:
        time.sleep(0.05)
    h = health(server)
    assert h["cancelled"] == before + 1 and h["active"] == 0, h

    shots = os.environ.get("G3N_SCREENSHOT")
    if shots:
        os.makedirs(shots, exist_ok=True)
        d.save_screenshot(os.path.join(shots, "chat_page.png"))


def test_image_attachment_is_answered(browser):
    """On the tiny vision model (it has a tower and a tokenizer), an attached image goes to the
    model with the message and the answer streams back."""
    vision = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tiny-vision")
    with Server("--max-tokens", 24, model=vision, ctx=256) as s, tempfile.TemporaryDirectory() as td:
        d = browser
        d.get(s.url + "/")
        png = os.path.join(td, "red.png")
        tiny_png(png)
        file_input = d.find_element(By.ID, "file")
        d.execute_script("arguments[0].hidden = false;", file_input)
        file_input.send_keys(png)
        wait(d, lambda d: "red.png" in d.find_element(By.ID, "attachments").text)
        box = d.find_element(By.ID, "input")
        box.send_keys("What is in this picture?")
        d.find_element(By.ID, "send").click()
        wait(d, lambda d: len(assistant_bubbles(d)) == 1 and idle(d))
        assert not d.find_elements(By.CSS_SELECTOR, ".msg.error")
        answer = assistant_bubbles(d)[0].find_element(By.CSS_SELECTOR, ".content").text
        assert answer.strip(), "empty answer"
        assert d.find_element(By.ID, "attachments").text == ""
