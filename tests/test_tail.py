"""`llmwatch tail`: recent calls, then each new one as it lands in the store."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import openai

import llmwatch
from llmwatch.testing import FakeLLMServer
from tests.conftest import API_KEY


def record(server: FakeLLMServer, store: Path, users: list[str]) -> None:
    handle = llmwatch.instrument(exporters=["local"], store=str(store))
    try:
        client = openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)
        for user in users:
            with llmwatch.attributes(user_id=user):
                client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": user}])
        handle.force_flush()
    finally:
        llmwatch.uninstrument()


def test_tail_shows_recent_then_new_calls(server: FakeLLMServer, tmp_path: Path) -> None:
    store = tmp_path / "llmwatch.db"
    record(server, store, ["first", "second", "third"])
    tail = subprocess.Popen(
        [sys.executable, "-m", "llmwatch.cli", "tail", "--store", str(store), "-n", "2", "--interval", "0.05"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)
        record(server, store, ["fourth"])
        deadline = time.monotonic() + 20
        lines: list[str] = []
        while time.monotonic() < deadline and len(lines) < 3:
            line = tail.stdout.readline() if tail.stdout else ""
            if line:
                lines.append(line)
    finally:
        tail.send_signal(signal.SIGINT)
        tail.wait(10)

    assert [line.split("user=")[-1].strip() for line in lines] == ["second", "third", "fourth"]
    assert all("chat gpt-4o-mini" in line and "tok" in line and "$0.0" in line for line in lines)
    assert tail.returncode == 0
