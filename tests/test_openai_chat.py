"""Chat Completions through the real openai client: one whole, correct span per call."""

from __future__ import annotations

import json
from typing import Any

import openai
import pydantic
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from llmwatch.testing import CapturedSpans, FakeLLMServer

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Name three rivers in Europe."},
]


def only_span(captured: CapturedSpans) -> Any:
    spans = captured.llm_spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def expected_chat_attributes(server: FakeLLMServer, completion: Any, **extra: Any) -> dict[str, Any]:
    usage = completion.usage
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "openai.api.type": "chat_completions",
        "gen_ai.response.id": completion.id,
        "gen_ai.response.model": completion.model,
        "gen_ai.response.finish_reasons": tuple(c.finish_reason for c in completion.choices),
        "openai.response.service_tier": completion.service_tier,
        "openai.response.system_fingerprint": completion.system_fingerprint,
        "gen_ai.usage.input_tokens": usage.prompt_tokens,
        "gen_ai.usage.output_tokens": usage.completion_tokens,
        "gen_ai.usage.cache_read.input_tokens": usage.prompt_tokens_details.cached_tokens,
        "gen_ai.usage.reasoning.output_tokens": usage.completion_tokens_details.reasoning_tokens,
        **gpt_4o_mini_cost(usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.completion_tokens),
        "llmwatch.quality.score": 1.0,  # a plain, complete answer: no quality flag
    }
    attrs.update(extra)
    return attrs


def gpt_4o_mini_cost(prompt: int, cached: int, completion: int) -> dict[str, Any]:
    """OpenAI's published gpt-4o-mini rates: $0.15 input, $0.075 cached input, $0.60 output per million."""
    input_usd = ((prompt - cached) * 0.15 + cached * 0.075) / 1e6
    output_usd = completion * 0.60 / 1e6
    return {
        "llmwatch.cost.input_usd": pytest.approx(input_usd, abs=1e-12),
        "llmwatch.cost.output_usd": pytest.approx(output_usd, abs=1e-12),
        "llmwatch.cost.total_usd": pytest.approx(input_usd + output_usd, abs=1e-12),
        "llmwatch.cost.source": "genai-prices",
    }


def without_timing(attrs: dict[str, Any]) -> dict[str, Any]:
    """Drop attributes whose value is a measured duration (asserted separately)."""
    timing = {
        "llmwatch.latency.output_tokens_per_second",
        "gen_ai.response.time_to_first_chunk",
        "llmwatch.latency.time_to_first_token",
    }
    return {k: v for k, v in attrs.items() if k not in timing}


def test_chat_create_gives_one_complete_client_span(
    client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans
) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, temperature=0.2, max_tokens=200, seed=7, top_p=0.9, stop=["\n\n"]
    )

    span = only_span(captured)
    assert isinstance(completion, openai.types.chat.ChatCompletion)
    assert span.name == "chat gpt-4o-mini"
    assert span.kind == SpanKind.CLIENT
    assert span.status.status_code == StatusCode.UNSET
    attrs = dict(span.attributes)
    content = {k: attrs.pop(k) for k in ("gen_ai.input.messages", "gen_ai.output.messages")}
    assert without_timing(attrs) == expected_chat_attributes(
        server,
        completion,
        **{
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.max_tokens": 200,
            "gen_ai.request.seed": 7,
            "gen_ai.request.top_p": 0.9,
            "gen_ai.request.stop_sequences": ("\n\n",),
        },
    )
    assert attrs["llmwatch.latency.output_tokens_per_second"] > 0
    assert json.loads(content["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Name three rivers in Europe."}]},
    ]
    assert json.loads(content["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": completion.choices[0].message.content}],
            "finish_reason": "stop",
        }
    ]


async def test_async_chat_create(aclient: openai.AsyncOpenAI, server: FakeLLMServer, captured: CapturedSpans) -> None:
    completion = await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    span = only_span(captured)
    attrs = without_timing(dict(span.attributes))
    attrs.pop("gen_ai.input.messages")
    attrs.pop("gen_ai.output.messages")
    assert attrs == expected_chat_attributes(server, completion)


def test_stream_with_include_usage_records_provider_usage_and_ttft(
    client: openai.OpenAI, captured: CapturedSpans
) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)

    usage = chunks[-1].usage
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    span = only_span(captured)
    attrs = span.attributes
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert "llmwatch.usage.estimated" not in attrs
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert 0 < attrs["gen_ai.response.time_to_first_chunk"] <= (span.end_time - span.start_time) / 1e9
    assert attrs["llmwatch.latency.time_to_first_token"] == attrs["gen_ai.response.time_to_first_chunk"]
    output = json.loads(attrs["gen_ai.output.messages"])
    assert output[0]["parts"] == [{"type": "text", "content": text}]


def test_stream_without_usage_is_estimated_offline_and_request_untouched(
    client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans
) -> None:
    from llmwatch import tokens

    before = len(server.requests)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    chunks = list(stream)

    assert all(c.usage is None for c in chunks), "llmwatch must never inject include_usage"
    assert "stream_options" not in server.requests[before].body
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    attrs = only_span(captured).attributes
    assert attrs["llmwatch.usage.estimated"] is True
    assert attrs["gen_ai.usage.output_tokens"] == tokens.count_text(text, "gpt-4o-mini")
    assert attrs["gen_ai.usage.input_tokens"] == tokens.count_messages(
        [(m["role"], m["content"]) for m in MESSAGES], "gpt-4o-mini"
    )


async def test_async_stream(aclient: openai.AsyncOpenAI, captured: CapturedSpans) -> None:
    stream = await aclient.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    assert isinstance(stream, openai.AsyncStream)
    async with stream as entered:
        assert entered is stream
        chunks = [chunk async for chunk in entered]

    attrs = only_span(captured).attributes
    assert attrs["gen_ai.usage.output_tokens"] == chunks[-1].usage.completion_tokens
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.response.time_to_first_chunk"] > 0


def test_stream_context_manager_returns_the_proxy(client: openai.OpenAI, captured: CapturedSpans) -> None:
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    with stream as entered:
        assert entered is stream
        next(entered)

    span = only_span(captured)  # ended by __exit__ after one chunk
    assert span.end_time is not None
    assert span.status.status_code == StatusCode.UNSET


def test_stream_helper_makes_exactly_one_span(client: openai.OpenAI, captured: CapturedSpans) -> None:
    with client.chat.completions.stream(
        model="gpt-4o-mini", messages=MESSAGES, stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()

    attrs = only_span(captured).attributes
    assert attrs["gen_ai.usage.output_tokens"] == final.usage.completion_tokens
    output = json.loads(attrs["gen_ai.output.messages"])
    assert output[0]["parts"][0]["content"] == final.choices[0].message.content


async def test_async_stream_helper(aclient: openai.AsyncOpenAI, captured: CapturedSpans) -> None:
    async with aclient.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = await stream.get_final_completion()

    attrs = only_span(captured).attributes
    assert attrs["gen_ai.response.finish_reasons"] == (final.choices[0].finish_reason,)
    assert attrs["llmwatch.usage.estimated"] is True


class Rivers(pydantic.BaseModel):
    answer: str


def test_parse_with_pydantic_model(client: openai.OpenAI, captured: CapturedSpans) -> None:
    parsed = client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Rivers)

    assert isinstance(parsed.choices[0].message.parsed, Rivers)
    attrs = only_span(captured).attributes
    assert attrs["gen_ai.output.type"] == "json"
    assert attrs["gen_ai.usage.output_tokens"] == parsed.usage.completion_tokens
    assert attrs["gen_ai.response.id"] == parsed.id


async def test_async_parse(aclient: openai.AsyncOpenAI, captured: CapturedSpans) -> None:
    parsed = await aclient.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Rivers)

    assert isinstance(parsed.choices[0].message.parsed, Rivers)
    assert only_span(captured).attributes["gen_ai.response.id"] == parsed.id


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def test_tool_calls_are_recorded(client: openai.OpenAI, captured: CapturedSpans) -> None:
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL])

    call = completion.choices[0].message.tool_calls[0]
    attrs = only_span(captured).attributes
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert json.loads(attrs["gen_ai.tool.definitions"]) == [{"type": "function", "name": "get_weather"}]
    output = json.loads(attrs["gen_ai.output.messages"])
    assert output[0]["parts"] == [
        {
            "type": "tool_call",
            "id": call.id,
            "name": "get_weather",
            "arguments": json.loads(call.function.arguments),
        }
    ]


def test_streamed_tool_calls_are_assembled(client: openai.OpenAI, captured: CapturedSpans) -> None:
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    chunks = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL], stream=True)
    )

    first = next(c.choices[0].delta.tool_calls[0] for c in chunks if c.choices and c.choices[0].delta.tool_calls)
    output = json.loads(only_span(captured).attributes["gen_ai.output.messages"])
    (part,) = output[0]["parts"]
    assert part["type"] == "tool_call"
    assert part["id"] == first.id
    assert part["name"] == "get_weather"
    assert isinstance(part["arguments"], dict)


def test_tool_result_round_trip_is_in_input_messages(client: openai.OpenAI, captured: CapturedSpans) -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
    ]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL])

    inputs = json.loads(only_span(captured).attributes["gen_ai.input.messages"])
    assert inputs[1] == {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}],
    }
    assert inputs[2] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "18C and sunny"}],
    }


def test_n_choices(client: openai.OpenAI, captured: CapturedSpans) -> None:
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=3)

    attrs = only_span(captured).attributes
    assert attrs["gen_ai.request.choice.count"] == 3
    assert attrs["gen_ai.response.finish_reasons"] == ("stop", "stop", "stop")
    output = json.loads(attrs["gen_ai.output.messages"])
    assert [m["parts"][0]["content"] for m in output] == [c.message.content for c in completion.choices]


def test_n_choices_streamed(client: openai.OpenAI, captured: CapturedSpans) -> None:
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=2, stream=True))

    texts = ["", ""]
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    output = json.loads(only_span(captured).attributes["gen_ai.output.messages"])
    assert [m["parts"][0]["content"] for m in output] == texts


def test_truncated_answer_reports_length(client: openai.OpenAI, captured: CapturedSpans) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_completion_tokens=3)

    attrs = only_span(captured).attributes
    assert attrs["gen_ai.request.max_tokens"] == 3
    assert attrs["gen_ai.response.finish_reasons"] == ("length",)


def test_reasoning_model_tokens_and_effort(client: openai.OpenAI, captured: CapturedSpans) -> None:
    completion = client.chat.completions.create(model="o4-mini", messages=MESSAGES, reasoning_effort="low")

    attrs = only_span(captured).attributes
    assert attrs["gen_ai.request.reasoning.level"] == "low"
    reasoning = completion.usage.completion_tokens_details.reasoning_tokens
    assert reasoning > 0
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == reasoning


def test_cached_prompt_tokens_on_a_continuing_conversation(client: openai.OpenAI, captured: CapturedSpans) -> None:
    first = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    follow_up = [*MESSAGES, {"role": "assistant", "content": first.choices[0].message.content}]
    second = client.chat.completions.create(
        model="gpt-4o-mini", messages=[*follow_up, {"role": "user", "content": "And in Asia?"}]
    )

    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached > 0
    spans = captured.llm_spans()
    assert spans[1].attributes["gen_ai.usage.cache_read.input_tokens"] == cached
    assert spans[1].attributes["gen_ai.usage.input_tokens"] == second.usage.prompt_tokens
