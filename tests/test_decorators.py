"""@llmwatch.trace and @llmwatch.prompt: the user's functions as spans, with the LLM calls inside as children."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

import llmwatch
from llmwatch.testing import CapturedSpans, FakeLLMServer, capture_spans
from tests.conftest import API_KEY


def by_name(captured: CapturedSpans) -> dict[str, Any]:
    return {s.name: s for s in captured.spans()}


def ask(client: openai.OpenAI, text: str, **kwargs: Any) -> str:
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **kwargs)
    return reply.choices[0].message.content or ""


def test_nested_decorators_make_a_tree(client: openai.OpenAI, captured: CapturedSpans) -> None:
    @llmwatch.trace(kind="tool", name="lookup_order")
    def lookup(order_id: str) -> dict[str, str]:
        return {"order": order_id, "status": "shipped"}

    @llmwatch.prompt(name="answer", version=3)
    def answer(question: str) -> str:
        order = lookup("A-17")
        return ask(client, f"{question} {order['status']}")

    @llmwatch.trace(kind="workflow", name="support")
    def support(question: str) -> str:
        return answer(question)

    result = support("Where is my order?")

    spans = by_name(captured)
    workflow = spans["invoke_workflow support"]
    prompt_span = spans["answer"]
    tool = spans["execute_tool lookup_order"]
    (llm,) = captured.llm_spans()
    assert result == json.loads(llm.attributes["gen_ai.output.messages"])[0]["parts"][0]["content"]
    assert workflow.parent is None
    assert prompt_span.parent.span_id == workflow.context.span_id
    assert tool.parent.span_id == prompt_span.context.span_id
    assert llm.parent.span_id == prompt_span.context.span_id
    assert len({s.context.trace_id for s in (workflow, prompt_span, tool, llm)}) == 1
    assert workflow.kind == tool.kind == prompt_span.kind == SpanKind.INTERNAL
    assert workflow.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "lookup_order"
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"order_id": "A-17"}
    assert json.loads(tool.attributes["gen_ai.tool.call.result"]) == {"order": "A-17", "status": "shipped"}
    assert llm.attributes["llmwatch.prompt.name"] == "answer"
    assert llm.attributes["llmwatch.prompt.version"] == "3"
    assert prompt_span.attributes["llmwatch.span.kind"] == "prompt"


def test_prompt_span_sums_its_calls(client: openai.OpenAI, captured: CapturedSpans) -> None:
    @llmwatch.prompt(name="summarize", version="2")
    def summarize(texts: list[str]) -> list[str]:
        out = [ask(client, t) for t in texts]
        list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True))
        return out

    summarize(["first text", "second text"])

    children = captured.llm_spans()
    parent = by_name(captured)["summarize"]
    assert len(children) == 3
    assert all(c.parent.span_id == parent.context.span_id for c in children)
    attrs = parent.attributes
    assert attrs["llmwatch.rollup.calls"] == 3
    assert attrs["llmwatch.rollup.input_tokens"] == sum(c.attributes["gen_ai.usage.input_tokens"] for c in children)
    assert attrs["llmwatch.rollup.output_tokens"] == sum(c.attributes["gen_ai.usage.output_tokens"] for c in children)
    assert (
        abs(attrs["llmwatch.rollup.cost_usd"] - sum(c.attributes["llmwatch.cost.total_usd"] for c in children)) < 1e-12
    )
    assert attrs["llmwatch.rollup.estimated"] is True  # the stream had no usage
    assert "gen_ai.usage.input_tokens" not in attrs  # never double-counted by backends that sum usage
    assert parent.end_time >= max(c.end_time for c in children)


def test_prompt_span_carries_the_worst_flags_of_its_calls(server: FakeLLMServer, captured: CapturedSpans) -> None:
    replies = iter(["A complete and useful answer about invoices.", "I'm sorry, but I can't help with that."])
    with FakeLLMServer(responder=lambda body: next(replies)) as fake:
        client = openai.OpenAI(base_url=fake.url, api_key=API_KEY, max_retries=0)

        @llmwatch.prompt(name="two_step", version="1")
        def two_step() -> None:
            ask(client, "Summarise the invoice")
            ask(client, "Now email it to jane@example.com")

        two_step()

    parent = by_name(captured)["two_step"]
    first, second = captured.llm_spans()
    assert "llmwatch.quality.flags" not in first.attributes
    assert second.attributes["llmwatch.quality.flags"] == ("refusal",)
    assert parent.attributes["llmwatch.rollup.quality_flags"] == ("refusal",)
    assert parent.attributes["llmwatch.rollup.quality_score"] == second.attributes["llmwatch.quality.score"] == 0.75
    assert parent.attributes["llmwatch.rollup.safety_flags"] == ("pii.email",)


def test_prompt_attributes_reach_metrics(client: openai.OpenAI, captured: CapturedSpans) -> None:
    @llmwatch.prompt(name="classify", version="1")
    def classify(text: str) -> str:
        return ask(client, text)

    classify("is this spam?")

    (point,) = captured.metrics()["llmwatch.client.cost"].data.data_points
    assert point.attributes["llmwatch.prompt.name"] == "classify"
    assert point.attributes["llmwatch.prompt.version"] == "1"


async def test_async_functions_and_tasks(server: FakeLLMServer, captured: CapturedSpans) -> None:
    aclient = openai.AsyncOpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)

    @llmwatch.trace(kind="agent", name="planner")
    async def plan(goal: str) -> str:
        reply = await aclient.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": goal}])
        return reply.choices[0].message.content or ""

    @llmwatch.trace
    async def run_all() -> list[str]:
        return list(await asyncio.gather(plan("a"), plan("b")))

    assert len(await run_all()) == 2

    spans = captured.spans()
    root = next(s for s in spans if s.name.endswith("run_all"))
    agents = [s for s in spans if s.name == "invoke_agent planner"]
    assert len(agents) == 2
    assert all(a.parent.span_id == root.context.span_id for a in agents)
    assert agents[0].attributes["gen_ai.agent.name"] == "planner"
    for llm in captured.llm_spans():
        assert llm.parent.span_id in {a.context.span_id for a in agents}


def test_generator_span_covers_the_iteration(client: openai.OpenAI, captured: CapturedSpans) -> None:
    @llmwatch.trace(name="draft_sections")
    def sections(topics: list[str]) -> Iterator[str]:
        for topic in topics:
            yield ask(client, topic)

    produced = []
    for section in sections(["intro", "body"]):
        produced.append(section)
        assert by_name(captured).get("draft_sections") is None  # still open while iterating

    span = by_name(captured)["draft_sections"]
    assert len(produced) == 2
    assert [c.parent.span_id for c in captured.llm_spans()] == [span.context.span_id] * 2


def test_generator_closed_early(client: openai.OpenAI, captured: CapturedSpans) -> None:
    @llmwatch.trace(name="stream_ideas")
    def ideas() -> Iterator[str]:
        for i in range(10):
            yield ask(client, f"idea {i}")

    gen = ideas()
    next(gen)
    gen.close()

    span = by_name(captured)["stream_ideas"]
    assert span.status.status_code == StatusCode.UNSET
    assert span.attributes["llmwatch.rollup.calls"] == 1


async def test_async_generator(server: FakeLLMServer, captured: CapturedSpans) -> None:
    aclient = openai.AsyncOpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)

    @llmwatch.trace(name="answers")
    async def answers(n: int) -> AsyncIterator[str]:
        for i in range(n):
            reply = await aclient.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}]
            )
            yield reply.choices[0].message.content or ""

    got = [a async for a in answers(3)]

    span = by_name(captured)["answers"]
    assert len(got) == 3
    assert [c.parent.span_id for c in captured.llm_spans()] == [span.context.span_id] * 3


def test_exceptions_are_recorded_and_reraised_unchanged(captured: CapturedSpans) -> None:
    error = KeyError("missing")

    @llmwatch.trace(kind="tool")
    def broken() -> None:
        raise error

    with pytest.raises(KeyError) as raised:
        broken()

    assert raised.value is error
    span = next(s for s in captured.spans() if s.name.startswith("execute_tool"))
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "KeyError"
    assert [e.name for e in span.events] == ["exception"]


def test_methods_classmethods_staticmethods_and_metadata(captured: CapturedSpans) -> None:
    class Service:
        factor = 3

        @llmwatch.trace
        def method(self, x: int) -> int:
            """Multiply."""
            return x * self.factor

        @llmwatch.trace
        @classmethod
        def klass(cls, x: int) -> int:
            return x * cls.factor

        @llmwatch.trace(name="static")
        @staticmethod
        def static(x: int, *, y: int = 1) -> int:
            return x + y

    service = Service()
    assert service.method(2) == 6
    assert Service.klass(2) == 6
    assert Service.static(2, y=5) == 7
    assert Service.method.__doc__ == "Multiply."
    assert Service.method.__name__ == "method"
    assert str(inspect.signature(Service.static)) == "(x: 'int', *, y: 'int' = 1) -> 'int'"

    names = [s.name for s in captured.spans()]
    assert any(n.endswith("Service.method") for n in names)
    assert any(n.endswith("Service.klass") for n in names)
    assert "static" in names
    method_span = next(s for s in captured.spans() if s.name.endswith("Service.method"))
    assert json.loads(method_span.attributes["llmwatch.function.arguments"]) == {"x": 2}  # self is left out


def test_arguments_only_with_content_capture_and_redacted(client: openai.OpenAI) -> None:
    @llmwatch.trace
    def handle(email: str, blob: object) -> str:
        return email

    with capture_spans() as captured:
        handle("a@b.example", object())
        (plain,) = captured.spans()
    with capture_spans(capture_content=True, redact=lambda t: t.replace("a@b.example", "[email]")) as captured:
        handle("a@b.example", object())
        (captured_span,) = captured.spans()

    assert "llmwatch.function.arguments" not in plain.attributes
    arguments = json.loads(captured_span.attributes["llmwatch.function.arguments"])
    assert arguments["email"] == "[email]"
    assert arguments["blob"].startswith("<object object at")
    assert json.loads(captured_span.attributes["llmwatch.function.result"]) == "[email]"


def test_not_instrumented_is_a_plain_call() -> None:
    @llmwatch.trace
    def add(a: int, b: int) -> int:
        return a + b

    llmwatch.uninstrument()
    assert add(2, 3) == 5


def test_bad_kind_is_rejected_at_decoration() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        llmwatch.trace(kind="banana")(lambda: None)  # type: ignore[arg-type]
