"""OpenAI-compatible servers and Azure: provider name and server address come from the client's URL."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest

from llmwatch.testing import CapturedSpans, FakeLLMServer

COMPLETION = {
    "id": "chatcmpl-compat",
    "object": "chat.completion",
    "created": 1,
    "model": "llama-3.3-70b-versatile",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}


def mock_client(base_url: str, seen: list[httpx2.Request]) -> openai.OpenAI:
    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=COMPLETION)

    http_client = openai.DefaultHttpx2Client(transport=httpx2.MockTransport(handler))
    return openai.OpenAI(base_url=base_url, api_key="gsk-secret", http_client=http_client, max_retries=0)


@pytest.mark.parametrize(
    ("base_url", "provider", "address", "port"),
    [
        ("https://api.groq.com/openai/v1", "groq", "api.groq.com", 443),
        ("https://api.deepseek.com/v1", "deepseek", "api.deepseek.com", 443),
        ("https://api.x.ai/v1", "x_ai", "api.x.ai", 443),
        (
            "https://generativelanguage.googleapis.com/v1beta/openai/",
            "gcp.gemini",
            "generativelanguage.googleapis.com",
            443,
        ),
        ("http://localhost:11434/v1", "ollama", "localhost", 11434),
        ("https://my-proxy.internal:8443/v1", "openai", "my-proxy.internal", 8443),
    ],
)
def test_provider_from_base_url(captured: CapturedSpans, base_url: str, provider: str, address: str, port: int) -> None:
    seen: list[httpx2.Request] = []
    client = mock_client(base_url, seen)

    client.chat.completions.create(model="llama-3.3-70b-versatile", messages=[{"role": "user", "content": "hi"}])

    (span,) = captured.llm_spans()
    attrs = span.attributes
    assert attrs["gen_ai.provider.name"] == provider
    assert attrs["server.address"] == address
    assert attrs["server.port"] == port
    assert attrs["gen_ai.usage.input_tokens"] == 9
    assert attrs["gen_ai.response.model"] == "llama-3.3-70b-versatile"
    if provider != "openai":  # the provider name discriminates: no openai.* attributes on other providers
        assert not [k for k in attrs if k.startswith("openai.")]
    assert seen[0].headers.get("authorization") == "Bearer gsk-secret"  # the request went out unchanged
    assert "gsk-secret" not in json.dumps(dict(attrs))


def test_azure_openai(server: FakeLLMServer, captured: CapturedSpans) -> None:
    client = openai.AzureOpenAI(
        api_key="azure-key",
        api_version="2024-10-21",
        azure_endpoint=f"http://127.0.0.1:{server.port}",
        max_retries=0,
    )

    completion = client.chat.completions.create(model="my-deployment", messages=[{"role": "user", "content": "hi"}])

    (span,) = captured.llm_spans()
    attrs: Any = span.attributes
    assert span.name == "chat my-deployment"
    assert attrs["gen_ai.provider.name"] == "azure.ai.openai"
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens
    assert attrs["openai.api.type"] == "chat_completions"
