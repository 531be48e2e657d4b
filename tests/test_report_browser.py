"""The HTML report in a real headless browser (Debian's chromium): it loads without errors and shows the charts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openai
import pytest

import llmwatch
from llmwatch.cli import main
from llmwatch.testing import FakeLLMServer
from tests.conftest import API_KEY

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium package (nox installs it when run as root with apt-get)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def test_html_report_renders_in_chromium(server: FakeLLMServer, tmp_path: Path) -> None:
    store = tmp_path / "llmwatch.db"
    handle = llmwatch.instrument(exporters=["local"], store=str(store), capture_content=True)
    try:
        client = openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)
        for model in ("gpt-4o-mini", "gpt-4o", "o4-mini"):
            client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "<script>document.title='pwned'</script> hi"}]
            )
        handle.force_flush()
    finally:
        llmwatch.uninstrument()
    page = tmp_path / "report.html"
    assert main(["report", "--store", str(store), "--format", "html", "-o", str(page)]) == 0
    profile = tmp_path / "profile"
    assert CHROMIUM is not None

    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1200,1600",
         page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip

    assert "<title>llmwatch report</title>" in dom.stdout  # the injected script did not run
    assert dom.stdout.count("<svg") == 3
    for text in ("Cost over time", "Cost by model", "Latency p95 by model", "Most expensive calls", "gpt-4o-mini"):
        assert text in dom.stdout
    assert "&lt;script&gt;document.title" in dom.stdout
    assert "Uncaught" not in dom.stderr and "CONSOLE" not in dom.stderr
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
