"""The Gradio demo in headless Chromium: upload a wav, continue it, get audio back."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TEXTLESS_TEST_ARTIFACTS", "out/test-artifacts"))
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_url(tiny_pipeline_dir, monkeypatch):
    import runpy

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    script = Path(__file__).resolve().parents[2] / "demos" / "continuation.py"
    demo = runpy.run_path(str(script))["build_demo"]([str(tiny_pipeline_dir)])
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                quiet=True, show_error=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_upload_and_continue(demo_url, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    wav = tmp_path / "prompt.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", "hello there my friend", "-o", str(wav)], check=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        try:
            page.goto(demo_url, wait_until="networkidle", timeout=60_000)
            page.locator("#prompt-audio input[type=file]").set_input_files(str(wav))
            page.wait_for_timeout(1000)
            page.click("#continue-button")
            # the output audio's source: the file Gradio serves for the continuation player
            src = page.wait_for_function(
                "() => { const a = document.querySelector('#continuation-out a[download]');"
                " return a && a.getAttribute('href'); }",
                timeout=120_000,
            ).json_value()
            body = page.request.get(src).body()
            units = page.locator("#units-text textarea").input_value()
        finally:
            page.screenshot(path=str(ARTIFACTS / "demo-continuation.png"), full_page=True)
            browser.close()
    assert src.endswith(".wav")
    assert body[:4] == b"RIFF" and len(body) >= 44 + 2 * 320, "the continuation audio is empty"
    assert units.startswith("prompt (") and "continuation (" in units
