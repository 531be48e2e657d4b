"""Responses API, legacy completions, embeddings and raw-response paths: each one whole span."""

from __future__ import annotations

import json
from typing import Any

import openai
import pydantic
import pytest

from llmwatch.testing import CapturedSpans, FakeLLMServer


def only_span(captured: CapturedSpans) -> Any:
    spans = captured.llm_spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def assert_responses_span(attrs: Any, response: Any, server: FakeLLMServer) -> None:
    usage = response.usage
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["openai.api.type"] == "responses"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["server.port"] == server.port
    assert attrs["gen_ai.response.id"] == response.id
    assert attrs["gen_ai.response.model"] == response.model
    assert attrs["gen_ai.usage.input_tokens"] == usage.input_tokens
    assert attrs["gen_ai.usage.output_tokens"] == usage.output_tokens
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == usage.input_tokens_details.cached_tokens
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == usage.output_tokens_details.reasoning_tokens
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    output = json.loads(attrs["gen_ai.output.messages"])
    assert output[0]["parts"] == [{"type": "text", "content": response.output_text}]


def test_responses_create(client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans) -> None:
    response = client.responses.create(
        model="gpt-4o-mini", instructions="Be brief.", input="Plan a trip to Rome.", max_output_tokens=300
    )

    span = only_span(captured)
    assert span.name == "chat gpt-4o-mini"
    attrs = span.attributes
    assert_responses_span(attrs, response, server)
    assert attrs["gen_ai.request.max_tokens"] == 300
    assert json.loads(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Plan a trip to Rome."}]}
    ]


async def test_async_responses_create(
    aclient: openai.AsyncOpenAI, server: FakeLLMServer, captured: CapturedSpans
) -> None:
    response = await aclient.responses.create(
        model="gpt-4o-mini", input=[{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}]
    )

    assert_responses_span(only_span(captured).attributes, response, server)


def test_responses_stream(client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans) -> None:
    events = list(client.responses.create(model="gpt-4o-mini", input="Plan a trip to Rome.", stream=True))

    final = next(e.response for e in events if e.type == "response.completed")
    attrs = only_span(captured).attributes
    assert_responses_span(attrs, final, server)
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0


def test_responses_stream_helper(client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans) -> None:
    with client.responses.stream(model="gpt-4o-mini", input="Plan a trip to Rome.") as stream:
        final = stream.get_final_response()

    assert_responses_span(only_span(captured).attributes, final, server)


async def test_async_responses_stream_helper(
    aclient: openai.AsyncOpenAI, server: FakeLLMServer, captured: CapturedSpans
) -> None:
    async with aclient.responses.stream(model="gpt-4o-mini", input="Plan a trip to Rome.") as stream:
        final = await stream.get_final_response()

    assert_responses_span(only_span(captured).attributes, final, server)


class Trip(pydantic.BaseModel):
    city: str
    days: int


def test_responses_parse(client: openai.OpenAI, captured: CapturedSpans) -> None:
    parsed = client.responses.parse(model="gpt-4o-mini", input="Plan a trip.", text_format=Trip)

    assert isinstance(parsed.output_parsed, Trip)
    attrs = only_span(captured).attributes
    assert attrs["gen_ai.output.type"] == "json"
    assert attrs["gen_ai.usage.output_tokens"] == parsed.usage.output_tokens


def test_responses_truncated_is_length(client: openai.OpenAI, captured: CapturedSpans) -> None:
    response = client.responses.create(model="gpt-4o-mini", input="Write an essay.", max_output_tokens=2)

    assert response.status == "incomplete"
    assert only_span(captured).attributes["gen_ai.response.finish_reasons"] == ("length",)


def test_legacy_completion(client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=50)

    span = only_span(captured)
    assert span.name == "text_completion gpt-3.5-turbo-instruct"
    attrs = span.attributes
    assert attrs["gen_ai.operation.name"] == "text_completion"
    assert attrs["gen_ai.usage.input_tokens"] == completion.usage.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens
    assert attrs["gen_ai.response.finish_reasons"] == (completion.choices[0].finish_reason,)
    assert "openai.api.type" not in attrs
    output = json.loads(attrs["gen_ai.output.messages"])
    assert output[0]["parts"] == [{"type": "text", "content": completion.choices[0].text}]


async def test_legacy_completion_stream_async(aclient: openai.AsyncOpenAI, captured: CapturedSpans) -> None:
    stream = await aclient.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True, stream_options={"include_usage": True}
    )
    chunks = [c async for c in stream]

    text = "".join(c.choices[0].text for c in chunks if c.choices)
    attrs = only_span(captured).attributes
    assert attrs["gen_ai.usage.output_tokens"] == chunks[-1].usage.completion_tokens
    assert json.loads(attrs["gen_ai.output.messages"])[0]["parts"][0]["content"] == text


@pytest.mark.parametrize("encoding_format", [None, "float"])
def test_embeddings(
    client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans, encoding_format: str | None
) -> None:
    kwargs = {"encoding_format": encoding_format} if encoding_format else {}
    result = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"], **kwargs)

    span = only_span(captured)
    assert span.name == "embeddings text-embedding-3-small"
    attrs = dict(span.attributes)
    attrs.pop("gen_ai.input.messages")
    attrs.pop("llmwatch.latency.output_tokens_per_second", None)
    expected = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "gen_ai.response.model": result.model,
        "gen_ai.embeddings.dimension.count": len(result.data[0].embedding),
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
        # text-embedding-3-small: $0.02 per million input tokens
        "llmwatch.cost.input_usd": pytest.approx(result.usage.prompt_tokens * 0.02 / 1e6, abs=1e-12),
        "llmwatch.cost.output_usd": 0.0,
        "llmwatch.cost.total_usd": pytest.approx(result.usage.prompt_tokens * 0.02 / 1e6, abs=1e-12),
        "llmwatch.cost.source": "genai-prices",
    }
    if encoding_format:
        expected["gen_ai.request.encoding_formats"] = (encoding_format,)
    assert attrs == expected


def test_raw_response_still_parses(client: openai.OpenAI, captured: CapturedSpans) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )

    assert type(raw).__name__ == "LegacyAPIResponse"
    completion = raw.parse()
    assert raw.headers.get("x-request-id")
    attrs = only_span(captured).attributes
    assert attrs["gen_ai.response.id"] == completion.id
    assert attrs["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens


def test_raw_response_stream(client: openai.OpenAI, captured: CapturedSpans) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )

    stream = raw.parse()
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    output = json.loads(only_span(captured).attributes["gen_ai.output.messages"])
    assert output[0]["parts"][0]["content"] == text


async def test_async_raw_response(aclient: openai.AsyncOpenAI, captured: CapturedSpans) -> None:
    raw = await aclient.embeddings.with_raw_response.create(model="text-embedding-3-small", input="hello")

    result = raw.parse()
    assert only_span(captured).attributes["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens


def test_streaming_response_parsed(client: openai.OpenAI, captured: CapturedSpans) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    ) as response:
        assert not captured.llm_spans()  # the body is not read yet
        completion = response.parse()

    attrs = only_span(captured).attributes
    assert attrs["gen_ai.response.id"] == completion.id
    assert attrs["gen_ai.usage.input_tokens"] == completion.usage.prompt_tokens


def test_streaming_response_read_as_json(client: openai.OpenAI, captured: CapturedSpans) -> None:
    with client.responses.with_streaming_response.create(model="gpt-4o-mini", input="hi") as response:
        body = response.json()

    attrs = only_span(captured).attributes
    assert attrs["gen_ai.response.id"] == body["id"]
    assert attrs["gen_ai.usage.output_tokens"] == body["usage"]["output_tokens"]


def test_streaming_response_of_a_stream(client: openai.OpenAI, captured: CapturedSpans) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    ) as response:
        chunks = list(response.parse())

    attrs = only_span(captured).attributes
    assert attrs["gen_ai.usage.output_tokens"] == chunks[-1].usage.completion_tokens


def test_streaming_response_closed_unread_still_ends_span(client: openai.OpenAI, captured: CapturedSpans) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    ):
        pass

    span = only_span(captured)
    assert span.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert span.end_time is not None


async def test_async_streaming_response(aclient: openai.AsyncOpenAI, captured: CapturedSpans) -> None:
    async with aclient.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    ) as response:
        completion = await response.parse()

    assert only_span(captured).attributes["gen_ai.response.id"] == completion.id
