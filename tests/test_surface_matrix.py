"""Every generating surface x sync/async x stream/non-stream: one span, the right name, usage that matches."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from llmwatch.testing import CapturedSpans, FakeLLMServer
from tests.conftest import API_KEY

MESSAGES = [{"role": "user", "content": "Give me one tip for writing tests."}]

SURFACES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "chat": ("chat.completions", "chat gpt-4o-mini", {"model": "gpt-4o-mini", "messages": MESSAGES}),
    "responses": ("responses", "chat gpt-4o-mini", {"model": "gpt-4o-mini", "input": "One tip for tests?"}),
    "completions": (
        "completions",
        "text_completion gpt-3.5-turbo-instruct",
        {"model": "gpt-3.5-turbo-instruct", "prompt": "One tip for tests:"},
    ),
}


def resource(client: Any, path: str) -> Any:
    for name in path.split("."):
        client = getattr(client, name)
    return client


def output_tokens_of(result: Any) -> int:
    usage = result.usage
    return int(getattr(usage, "completion_tokens", None) or usage.output_tokens)


def stream_kwargs(surface: str) -> dict[str, Any]:
    return {"stream": True} if surface == "responses" else {"stream": True, "stream_options": {"include_usage": True}}


def usage_from_events(surface: str, events: list[Any]) -> int:
    if surface == "responses":
        return int(next(e.response for e in events if e.type == "response.completed").usage.output_tokens)
    return output_tokens_of(events[-1])


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_sync(
    client: openai.OpenAI, captured: CapturedSpans, server: FakeLLMServer, surface: str, stream: bool
) -> None:
    path, name, kwargs = SURFACES[surface]
    create = resource(client, path).create

    if stream:
        events = list(create(**kwargs, **stream_kwargs(surface)))
        expected_output = usage_from_events(surface, events)
    else:
        expected_output = output_tokens_of(create(**kwargs))

    (span,) = captured.llm_spans()
    assert span.name == name
    assert span.attributes["gen_ai.usage.output_tokens"] == expected_output
    assert span.attributes.get("gen_ai.request.stream", False) is stream
    assert ("gen_ai.response.time_to_first_chunk" in span.attributes) is stream


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_async(server: FakeLLMServer, captured: CapturedSpans, surface: str, stream: bool) -> None:
    client = openai.AsyncOpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)
    path, name, kwargs = SURFACES[surface]
    create = resource(client, path).create

    if stream:
        events = [e async for e in await create(**kwargs, **stream_kwargs(surface))]
        expected_output = usage_from_events(surface, events)
    else:
        expected_output = output_tokens_of(await create(**kwargs))

    (span,) = captured.llm_spans()
    assert span.name == name
    assert span.attributes["gen_ai.usage.output_tokens"] == expected_output
    assert span.attributes.get("gen_ai.request.stream", False) is stream


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_embeddings_both_clients(server: FakeLLMServer, captured: CapturedSpans, is_async: bool) -> None:
    if is_async:
        result = await openai.AsyncOpenAI(base_url=server.url, api_key=API_KEY).embeddings.create(
            model="text-embedding-3-small", input="hello"
        )
    else:
        result = openai.OpenAI(base_url=server.url, api_key=API_KEY).embeddings.create(
            model="text-embedding-3-small", input="hello"
        )

    (span,) = captured.llm_spans()
    assert span.attributes["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens
    assert span.attributes["gen_ai.embeddings.dimension.count"] == len(result.data[0].embedding)


def test_server_without_usage_gets_estimated_tokens(captured: CapturedSpans) -> None:
    from llmwatch import tokens

    with FakeLLMServer(omit_usage=True) as bare:
        client = openai.OpenAI(base_url=bare.url, api_key=API_KEY, max_retries=0)
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert completion.usage is None
    attrs = captured.llm_spans()[0].attributes
    assert attrs["llmwatch.usage.estimated"] is True
    assert attrs["gen_ai.usage.output_tokens"] == tokens.count_text(
        completion.choices[0].message.content, "gpt-4o-mini"
    )


def test_legacy_completion_without_usage_counts_plain_prompt_tokens(captured: CapturedSpans) -> None:
    from llmwatch import tokens

    with FakeLLMServer(omit_usage=True) as bare:
        client = openai.OpenAI(base_url=bare.url, api_key=API_KEY, max_retries=0)
        completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi to the team")

    attrs = captured.llm_spans()[0].attributes
    assert attrs["llmwatch.usage.estimated"] is True
    assert attrs["gen_ai.usage.input_tokens"] == tokens.count_text("Say hi to the team", "gpt-3.5-turbo-instruct")
    assert attrs["gen_ai.usage.output_tokens"] == tokens.count_text(
        completion.choices[0].text, "gpt-3.5-turbo-instruct"
    )
