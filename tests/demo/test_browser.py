"""The Gradio demo in headless Chromium: upload a wav, continue it, get audio back; and the
limits a user meets (prompt length, upload size, seed range) are messages in the page."""

import os
import re
import shutil
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TEXTLESS_TEST_ARTIFACTS", "out/test-artifacts"))
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_module():
    import textless.demo

    return vars(textless.demo)


@pytest.fixture
def demo_url(demo_module, tiny_pipeline_dir, monkeypatch):
    """The app served the way ``textless demo`` serves it (``textless.demo.launch``)."""
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    port = _free_port()
    demo = demo_module["launch"]([str(tiny_pipeline_dir)], server_name="127.0.0.1",
                                 server_port=port, prevent_thread_lock=True, quiet=True,
                                 show_error=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@contextmanager
def _page(url, screenshot: str):
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            page.goto(url, wait_until="networkidle", timeout=60_000)
            yield page
        finally:
            page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
            browser.close()


def _flite(path, text="hello there my friend"):
    subprocess.run(["flite", "-voice", "slt", "-t", text, "-o", str(path)], check=True)
    return path


def _upload(page, path):
    page.locator("#prompt-audio input[type=file]").set_input_files(str(path))
    page.wait_for_timeout(1000)


def _message(page, pattern: str, timeout_ms: int = 60_000):
    """Wait until a message matching ``pattern`` shows in the page (Gradio's error toast)."""
    page.get_by_text(re.compile(pattern)).first.wait_for(state="visible", timeout=timeout_ms)


def test_upload_and_continue(demo_url, tmp_path):
    wav = _flite(tmp_path / "prompt.wav")
    with _page(demo_url, "demo-continuation.png") as page:
        _upload(page, wav)
        page.click("#continue-button")
        # the output audio's source: the file Gradio serves for the continuation player
        src = page.wait_for_function(
            "() => { const a = document.querySelector('#continuation-out a[download]');"
            " return a && a.getAttribute('href'); }",
            timeout=120_000,
        ).json_value()
        body = page.request.get(src).body()
        units = page.locator("#units-text textarea").input_value()
    assert src.endswith(".wav")
    assert body[:4] == b"RIFF" and len(body) >= 44 + 2 * 320, "the continuation audio is empty"
    assert units.startswith("prompt (") and "continuation (" in units


def test_prompts_over_30_s_are_refused_with_a_message(demo_module, demo_url, tmp_path):
    limit = demo_module["MAX_PROMPT_S"]
    assert limit == 30.0
    sr = 16000
    t = np.arange(int((limit + 1) * sr)) / sr
    wav = tmp_path / "long.wav"
    sf.write(wav, (0.1 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), sr, subtype="PCM_16")
    with _page(demo_url, "demo-prompt-too-long.png") as page:
        _upload(page, wav)
        page.click("#continue-button")
        _message(page, r"longer than 30 s")
        units = page.locator("#units-text textarea").input_value()
    assert units == "", "a prompt over the limit was continued"


def test_uploads_over_the_cap_are_refused_by_the_page_and_the_server(demo_module, demo_url, tmp_path):
    """A 21 MB wav: the page says it is too big and the app never gets it; Gradio's upload
    route answers 413 to a client that skips the page's check, and still takes a small file."""
    cap = demo_module["MAX_UPLOAD_MB"] * 10**6
    assert cap == 20 * 10**6
    big = tmp_path / "big.wav"
    frames = (cap + 10**6) // 4  # 16-bit stereo: 4 bytes per frame
    sf.write(big, np.zeros((frames, 2), dtype=np.float32), 48000, subtype="PCM_16")
    assert big.stat().st_size > cap
    small = _flite(tmp_path / "small.wav")
    with _page(demo_url, "demo-upload-too-big.png") as page:
        _upload(page, big)
        _message(page, r"exceed the maximum allowed size of 20")
        page.click("#continue-button")
        _message(page, r"Upload or record some speech first")  # the app got no file
        route = demo_url + "gradio_api/upload"
        too_big = page.request.post(route, multipart={
            "files": {"name": "big.wav", "mimeType": "audio/wav", "buffer": big.read_bytes()}})
        fine = page.request.post(route, multipart={
            "files": {"name": "small.wav", "mimeType": "audio/wav", "buffer": small.read_bytes()}})
        statuses, stored = (too_big.status, fine.status), fine.json() if fine.ok else None
    assert statuses == (413, 200)
    assert stored[0].endswith("small.wav")


def test_out_of_range_seed_is_a_message_in_the_page(demo_url, tmp_path):
    wav = _flite(tmp_path / "prompt.wav")
    with _page(demo_url, "demo-bad-seed.png") as page:
        _upload(page, wav)
        page.get_by_label(re.compile(r"^seed")).fill("1e30")
        page.click("#continue-button")
        _message(page, r"seed must be a whole number from 0 to 4294967295")
        units = page.locator("#units-text textarea").input_value()
    assert units == ""


def test_out_of_range_seeds_are_gradio_errors_not_crashes(demo_module, tiny_pipeline_dir, tmp_path):
    """Through the app's handler directly (what the API route calls): a gr.Error, which Gradio
    shows as a message, instead of torch's ValueError (2**70) or a silently wrapped seed (-1)."""
    import gradio as gr

    wav = str(_flite(tmp_path / "prompt.wav", "hello"))
    model = str(tiny_pipeline_dir)
    app = demo_module["ContinuationApp"]([model])
    for seed in (2**70, -1, 2.5, float("nan"), float("inf"), None, "x"):
        with pytest.raises(gr.Error, match="seed"):
            app.run(wav, model, 0.7, seed, 1.0)
    # the largest allowed seed runs, whether it comes as an int or as Gradio's float
    top = demo_module["MAX_SEED"]
    assert app.run(wav, model, 0.7, top, 1.0)[0] == app.run(wav, model, 0.7, float(top), 1.0)[0]
