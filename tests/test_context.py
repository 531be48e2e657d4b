"""llmwatch.attributes(...): stamped on spans and metrics, merged when nested, never leaking across tasks."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai

import llmwatch
from llmwatch.testing import CapturedSpans, FakeLLMServer
from tests.conftest import API_KEY


def ask(client: openai.OpenAI, text: str) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])


def test_attributes_on_spans_and_metrics(client: openai.OpenAI, captured: CapturedSpans) -> None:
    with llmwatch.attributes(user_id="u-1", session_id="s-9", feature="search", tenant="acme"):
        ask(client, "hello")

    (span,) = captured.llm_spans()
    stamped = {
        "user.id": "u-1",
        "session.id": "s-9",
        "llmwatch.attr.feature": "search",
        "llmwatch.attr.tenant": "acme",
    }
    assert {k: span.attributes[k] for k in stamped} == stamped
    metrics = captured.metrics()
    for name in ("llmwatch.client.cost", "llmwatch.client.requests", "gen_ai.client.operation.duration"):
        (point,) = metrics[name].data.data_points
        assert {k: point.attributes[k] for k in stamped} == stamped, name
    (cost_point,) = metrics["llmwatch.client.cost"].data.data_points
    assert abs(cost_point.value - span.attributes["llmwatch.cost.total_usd"]) < 1e-12


def test_nested_scopes_merge_and_restore(client: openai.OpenAI, captured: CapturedSpans) -> None:
    with llmwatch.attributes(user_id="u-1", feature="chat"):
        with llmwatch.attributes(feature="summarize", step="2"):
            ask(client, "inner")
        ask(client, "outer")
    ask(client, "none")

    inner, outer, none = captured.llm_spans()
    assert (inner.attributes["user.id"], inner.attributes["llmwatch.attr.feature"]) == ("u-1", "summarize")
    assert inner.attributes["llmwatch.attr.step"] == "2"
    assert outer.attributes["llmwatch.attr.feature"] == "chat"
    assert "llmwatch.attr.step" not in outer.attributes
    assert not [k for k in none.attributes if k.startswith(("user.", "llmwatch.attr."))]


def test_as_a_decorator_on_sync_and_async(server: FakeLLMServer, captured: CapturedSpans) -> None:
    client = openai.OpenAI(base_url=server.url, api_key=API_KEY)
    aclient = openai.AsyncOpenAI(base_url=server.url, api_key=API_KEY)

    @llmwatch.attributes(feature="billing")
    def sync_feature() -> None:
        ask(client, "sync")

    @llmwatch.attributes(feature="billing-async")
    async def async_feature() -> None:
        await aclient.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "a"}])

    sync_feature()
    asyncio.run(async_feature())

    features = [s.attributes["llmwatch.attr.feature"] for s in captured.llm_spans()]
    assert features == ["billing", "billing-async"]
    assert sync_feature.__name__ == "sync_feature"


def test_fifty_tasks_and_twenty_threads_never_see_each_other(server: FakeLLMServer, captured: CapturedSpans) -> None:
    aclient = openai.AsyncOpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)
    client = openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)

    async def task(i: int) -> None:
        with llmwatch.attributes(user_id=f"task-{i}"):
            await asyncio.sleep(0.001 * (i % 5))  # interleave the tasks
            await aclient.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": f"task-{i}"}]
            )

    async def all_tasks() -> None:
        await asyncio.gather(*(task(i) for i in range(50)))

    def thread(i: int) -> None:
        with llmwatch.attributes(user_id=f"thread-{i}"):
            ask(client, f"thread-{i}")

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    asyncio.run(all_tasks())
    for t in threads:
        t.join()

    spans = captured.llm_spans()
    assert len(spans) == 70
    for span in spans:
        asked = json.loads(span.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"]
        assert span.attributes["user.id"] == asked


def test_propagate_into_executors_and_to_thread(client: openai.OpenAI, captured: CapturedSpans) -> None:
    def work(text: str) -> None:
        ask(client, text)

    with llmwatch.attributes(user_id="carried"), ThreadPoolExecutor(2) as pool:
        pool.submit(llmwatch.propagate(work), "via-executor").result()
        pool.submit(work, "without-propagate").result()

    async def via_to_thread() -> None:
        with llmwatch.attributes(user_id="carried"):
            await asyncio.to_thread(work, "via-to-thread")

    asyncio.run(via_to_thread())

    by_text = {
        json.loads(s.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"]: s for s in captured.llm_spans()
    }
    assert by_text["via-executor"].attributes["user.id"] == "carried"
    assert by_text["via-to-thread"].attributes["user.id"] == "carried"
    assert "user.id" not in by_text["without-propagate"].attributes
