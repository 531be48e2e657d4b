"""pytest plugin (registered as ``llmwatch`` under ``pytest11``): fixtures for testing instrumented apps.

- ``llmwatch_spans``: llmwatch instrumented for the test with content capture on; ``.llm_spans()``,
  ``.spans()``, ``.metrics()`` return what was recorded.
- ``llmwatch_fake_server``: a loopback OpenAI-compatible server for the session (``base_url=server.url``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmwatch.testing import CapturedSpans, FakeLLMServer, capture_spans


@pytest.fixture
def llmwatch_spans() -> Iterator[CapturedSpans]:
    """Spans and metrics llmwatch records during the test (content capture on, in memory only)."""
    with capture_spans(capture_content=True) as captured:
        yield captured


@pytest.fixture(scope="session")
def llmwatch_fake_server() -> Iterator[FakeLLMServer]:
    """A loopback OpenAI-compatible server, started once per test session."""
    with FakeLLMServer() as server:
        yield server
