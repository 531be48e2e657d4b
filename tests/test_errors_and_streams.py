"""Provider errors reach the user unchanged; every stream ends its span exactly once, however it ends."""

from __future__ import annotations

import gc
import json
import socket
from typing import Any

import openai
import pytest
from opentelemetry.trace import StatusCode

from llmwatch.testing import CapturedSpans, FakeLLMServer
from tests.conftest import API_KEY

MESSAGES = [{"role": "user", "content": "Tell me a long story about a lighthouse keeper."}]


def only_span(captured: CapturedSpans) -> Any:
    spans = captured.llm_spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def assert_error_span(span: Any, error: BaseException, error_type: str) -> None:
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == error_type
    (event,) = [e for e in span.events if e.name == "exception"]
    assert event.attributes["exception.type"] == error_type
    assert event.attributes["exception.message"] == str(error)


@pytest.mark.parametrize(
    ("status", "exc_type", "error_type"),
    [
        (429, openai.RateLimitError, "openai.RateLimitError"),
        (500, openai.InternalServerError, "openai.InternalServerError"),
    ],
)
def test_http_errors_reach_the_user_unchanged(
    client: openai.OpenAI,
    server: FakeLLMServer,
    captured: CapturedSpans,
    status: int,
    exc_type: type[Exception],
    error_type: str,
) -> None:
    server.fail_next(status)

    with pytest.raises(exc_type) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert raised.value.status_code == status
    span = only_span(captured)
    assert_error_span(span, raised.value, error_type)
    assert span.attributes["http.response.status_code"] == status
    assert "gen_ai.usage.input_tokens" not in span.attributes


async def test_async_error_is_the_same_object(
    aclient: openai.AsyncOpenAI, server: FakeLLMServer, captured: CapturedSpans
) -> None:
    server.fail_next(429)
    seen: list[BaseException] = []

    def remember(exc: BaseException) -> None:
        seen.append(exc)

    try:
        await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    except openai.RateLimitError as exc:
        remember(exc)

    (error,) = seen
    span = only_span(captured)
    assert_error_span(span, error, "openai.RateLimitError")


def test_connection_refused(captured: CapturedSpans) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, max_retries=0)

    with pytest.raises(openai.APIConnectionError) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    span = only_span(captured)
    assert_error_span(span, raised.value, "openai.APIConnectionError")
    assert span.attributes["server.port"] == port


def test_timeout(server: FakeLLMServer, captured: CapturedSpans) -> None:
    client = openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0, timeout=0.2)
    server.delay_next(1.0)

    with pytest.raises(openai.APITimeoutError) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert_error_span(only_span(captured), raised.value, "openai.APITimeoutError")


def test_stream_broken_mid_way(client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans) -> None:
    server.drop_next()
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)

    received = []
    with pytest.raises(Exception) as raised:
        for chunk in stream:
            received.append(chunk)

    assert received, "the first chunk arrived before the connection dropped"
    span = only_span(captured)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == f"{type(raised.value).__module__}.{type(raised.value).__qualname__}"
    assert span.attributes["gen_ai.response.finish_reasons"] == ("error",)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0


def test_early_break_then_close(client: openai.OpenAI, captured: CapturedSpans) -> None:
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    chunks = iter(stream)
    next(chunks)  # the role-only first chunk
    second = next(chunks)
    stream.close()

    span = only_span(captured)
    assert span.status.status_code == StatusCode.UNSET
    output = json.loads(span.attributes["gen_ai.output.messages"])
    assert output == [{"role": "assistant", "parts": [{"type": "text", "content": second.choices[0].delta.content}]}]
    assert "gen_ai.response.finish_reasons" not in span.attributes  # the user stopped reading: no finish arrived
    stream.close()  # closing twice never ends the span twice
    assert len(captured.llm_spans()) == 1


def test_abandoned_stream_ends_its_span_when_collected(client: openai.OpenAI, captured: CapturedSpans) -> None:
    def consume_two() -> None:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        it = iter(stream)
        next(it)
        next(it)

    consume_two()
    gc.collect()

    span = only_span(captured)
    assert span.end_time is not None
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0


def test_stream_helper_closed_early(client: openai.OpenAI, captured: CapturedSpans) -> None:
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        for event in stream:
            if event.type == "content.delta":
                break
        assert not captured.llm_spans()

    span = only_span(captured)  # the helper closed the HTTP response directly: still exactly one span
    assert span.end_time is not None


async def test_async_early_break_aclose(aclient: openai.AsyncOpenAI, captured: CapturedSpans) -> None:
    stream = await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    async for _ in stream:
        break
    await stream.close()

    assert only_span(captured).end_time is not None


def test_user_error_inside_with_block_propagates(client: openai.OpenAI, captured: CapturedSpans) -> None:
    with (
        pytest.raises(KeyError),
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True) as stream,
    ):
        next(stream)
        raise KeyError("user code")

    assert only_span(captured).end_time is not None


def test_stream_proxy_adds_nothing_to_the_sdk_surface(client: openai.OpenAI, captured: CapturedSpans) -> None:
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)

    assert isinstance(stream, openai.Stream)
    assert not hasattr(stream, "aclose")  # a sync stream must not look async to duck-typing code
    assert not hasattr(stream, "__aiter__")
    assert stream.response.status_code == 200
    list(stream)
