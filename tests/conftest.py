"""Shared fixtures: one loopback fake server, real openai clients pointed at it, and span capture."""

from __future__ import annotations

import os

os.environ["LLMWATCH_STRICT"] = "1"  # our own faults fail the tests instead of being swallowed

from collections.abc import Iterator

import openai
import pytest

from llmwatch.testing import CapturedSpans, FakeLLMServer, capture_spans

pytest_plugins = ["pytester"]

API_KEY = "sk-test-SECRET-key-1234567890"


@pytest.fixture(scope="session")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
def captured() -> Iterator[CapturedSpans]:
    """llmwatch instrumented with content capture on, spans in memory."""
    with capture_spans(capture_content=True) as spans:
        yield spans


@pytest.fixture
def client(server: FakeLLMServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)


@pytest.fixture
def aclient(server: FakeLLMServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)
