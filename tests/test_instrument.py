"""instrument()/uninstrument(): idempotent, reversible, concurrent-safe, and never breaking the user's call."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import openai
import pytest
from openai.resources.chat.completions.completions import AsyncCompletions, Completions
from openai.resources.embeddings import Embeddings
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import llmwatch
from llmwatch.testing import CapturedSpans, FakeLLMServer, capture_spans
from tests.conftest import API_KEY

MESSAGES = [{"role": "user", "content": "Summarise the water cycle."}]


def test_uninstrument_restores_identical_originals(client: openai.OpenAI) -> None:
    originals = (Completions.__dict__["create"], AsyncCompletions.__dict__["parse"], Embeddings.__dict__["create"])

    with capture_spans():
        assert Completions.__dict__["create"] is not originals[0]
    assert (
        Completions.__dict__["create"],
        AsyncCompletions.__dict__["parse"],
        Embeddings.__dict__["create"],
    ) == originals
    assert all(
        a is b for a, b in zip(originals, (Completions.create, AsyncCompletions.parse, Embeddings.create), strict=True)
    )


def test_uninstrumented_calls_make_no_span(client: openai.OpenAI) -> None:
    exporter = InMemorySpanExporter()
    handle = llmwatch.instrument(exporters=[exporter])
    llmwatch.uninstrument()

    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    handle.force_flush()
    assert exporter.get_finished_spans() == ()


def test_instrument_twice_patches_once_and_applies_new_settings(client: openai.OpenAI, captured: CapturedSpans) -> None:
    create = Completions.__dict__["create"]
    llmwatch.instrument(exporters=[captured.exporter], capture_content=False)

    assert Completions.__dict__["create"] is create
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (span,) = captured.llm_spans()
    assert "gen_ai.input.messages" not in span.attributes  # the second call's setting wins


def test_providers_selection(client: openai.OpenAI) -> None:
    with capture_spans(providers=["anthropic"]) as captured:
        assert "create" in Completions.__dict__
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert captured.llm_spans() == []


def test_content_is_off_by_default_and_keys_never_recorded(client: openai.OpenAI) -> None:
    with capture_spans() as captured:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        (span,) = captured.llm_spans()

    names = set(span.attributes)
    assert not names & {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"}
    assert span.attributes["gen_ai.usage.output_tokens"] > 0
    assert API_KEY not in json.dumps(dict(span.attributes))


def test_content_env_variable_turns_capture_on(client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    with capture_spans() as captured:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        (span,) = captured.llm_spans()

    assert json.loads(span.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"] == MESSAGES[0]["content"]
    everything = json.dumps(dict(span.attributes)) + json.dumps([dict(e.attributes or {}) for e in span.events])
    assert API_KEY not in everything
    assert "Bearer" not in everything


def test_redact_and_truncate_before_recording(client: openai.OpenAI) -> None:
    secret_prompt = "My card is 4111 1111 1111 1111. " + "x" * 200

    with capture_spans(
        capture_content=True, redact=lambda text: text.replace("4111 1111 1111 1111", "[CARD]"), content_max_chars=40
    ) as captured:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": secret_prompt}])
        (span,) = captured.llm_spans()

    recorded = json.loads(span.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"]
    assert recorded.startswith("My card is [CARD]. xxx")
    assert recorded.endswith(f"…[truncated {len(secret_prompt.replace('4111 1111 1111 1111', '[CARD]')) - 40} chars]")
    assert "4111" not in json.dumps(dict(span.attributes))
    assert span.attributes["llmwatch.content.truncated"] is True


def test_a_fault_in_our_attribute_code_leaves_the_call_intact(
    client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("LLMWATCH_STRICT")

    def broken_redact(text: str) -> str:
        raise RuntimeError("redaction service down")

    with capture_spans(capture_content=True, redact=broken_redact) as captured, caplog.at_level(logging.WARNING):
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        stream_text = "".join(
            c.choices[0].delta.content or ""
            for c in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
            if c.choices
        )
        spans = captured.llm_spans()

    assert isinstance(completion, openai.types.chat.ChatCompletion)
    assert completion.choices[0].message.content
    assert stream_text
    assert len(spans) == 2
    for span in spans:  # each span still ended with everything but the failed stage (content)
        assert span.end_time is not None
        assert span.attributes["gen_ai.usage.output_tokens"] > 0
        assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
        assert "gen_ai.input.messages" not in span.attributes
    assert any("redaction service down" in r.getMessage() for r in caplog.records)


def test_application_tracer_provider_is_used_as_is(client: openai.OpenAI) -> None:
    app_exporter = InMemorySpanExporter()
    app_provider = TracerProvider()
    app_provider.add_span_processor(SimpleSpanProcessor(app_exporter))

    handle = llmwatch.instrument(tracer_provider=app_provider)
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        handle.force_flush()
    finally:
        llmwatch.uninstrument()

    (span,) = app_exporter.get_finished_spans()
    assert span.name == "chat gpt-4o-mini"
    assert span.instrumentation_scope.name == "llmwatch"


def test_opentelemetry_instrumentor_entry_point(client: openai.OpenAI) -> None:
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="opentelemetry_instrumentor") if e.name == "llmwatch"]
    instrumentor = entry.load()()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    original = Completions.__dict__["create"]

    instrumentor.instrument(tracer_provider=provider)
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        instrumentor.uninstrument()

    assert [s.name for s in exporter.get_finished_spans()] == ["chat gpt-4o-mini"]
    assert Completions.__dict__["create"] is original


def test_twenty_threads_each_get_their_own_span(client: openai.OpenAI, captured: CapturedSpans) -> None:
    results: dict[int, Any] = {}

    def worker(i: int) -> None:
        results[i] = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"Question number {i}?"}]
        )

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    spans = captured.llm_spans()
    assert len(spans) == 20
    by_id = {s.attributes["gen_ai.response.id"]: s for s in spans}
    for i, completion in results.items():
        span = by_id[completion.id]
        assert json.loads(span.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"] == f"Question number {i}?"
        assert span.attributes["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens
    assert len({s.context.trace_id for s in spans}) == 20


async def test_two_hundred_concurrent_tasks(server: FakeLLMServer, captured: CapturedSpans) -> None:
    aclient = openai.AsyncOpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)

    async def one(i: int) -> Any:
        if i % 2:
            stream = await aclient.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": f"Task {i}"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = [c async for c in stream]
            return chunks[0].id, chunks[-1].usage.completion_tokens
        completion = await aclient.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"Task {i}"}]
        )
        return completion.id, completion.usage.completion_tokens

    outcomes = await asyncio.gather(*(one(i) for i in range(200)))

    spans = {s.attributes["gen_ai.response.id"]: s for s in captured.llm_spans()}
    assert len(spans) == 200
    for i, (response_id, output_tokens) in enumerate(outcomes):
        span = spans[response_id]
        assert span.attributes["gen_ai.usage.output_tokens"] == output_tokens
        assert json.loads(span.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"] == f"Task {i}"
        assert span.attributes.get("gen_ai.request.stream", False) is bool(i % 2)


def test_forked_child_still_finishes_its_calls(server: FakeLLMServer, tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        f"""
        import os, openai, llmwatch
        from llmwatch.testing import capture_spans

        client = openai.OpenAI(base_url={server.url!r}, api_key="k", max_retries=0)
        with capture_spans() as captured:
            list(client.chat.completions.create(model="gpt-4o-mini", messages=[{{"role": "user", "content": "a"}}],
                                                stream=True))  # starts the background finisher in the parent
            pid = os.fork()
            if pid == 0:
                list(client.chat.completions.create(model="gpt-4o-mini",
                                                    messages=[{{"role": "user", "content": "b"}}], stream=True))
                spans = captured.llm_spans()
                print("CHILD", spans[-1].attributes["llmwatch.usage.estimated"], flush=True)
                os._exit(0)
            os.waitpid(pid, 0)
        """
    )
    env = {**os.environ, "LLMWATCH_STRICT": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)

    assert "CHILD True" in out.stdout  # the child's call was finished (usage estimated) by a fresh finisher
