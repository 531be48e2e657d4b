"""Overhead of llmwatch on a real openai client, against the bare client in the same process.

The HTTP layer is an in-process ``httpx2.MockTransport`` so the measurement is the SDK plus llmwatch, not the
network. Prints, for each scenario, the median per-call time bare and instrumented, the added microseconds and
the ratio. Run with ``nox -s bench`` (or ``python benchmarks/overhead.py --calls 2000``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx2
import openai
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import llmwatch

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }
).encode()


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> str:
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini", "choices": choices}
    if usage:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n"


STREAM = (
    "".join(_chunk({"content": f"word{i} "}) for i in range(40))
    + _chunk({}, "stop")
    + _chunk({}, usage={"prompt_tokens": 12, "completion_tokens": 40, "total_tokens": 52})
    + "data: [DONE]\n\n"
).encode()


def handler(request: httpx2.Request) -> httpx2.Response:
    if b'"stream":true' in request.content.replace(b" ", b""):
        return httpx2.Response(200, content=STREAM, headers={"content-type": "text/event-stream"})
    return httpx2.Response(200, content=COMPLETION, headers={"content-type": "application/json"})


class NullExporter(SpanExporter):
    """Accepts spans and drops them: we measure llmwatch, not an exporter."""

    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def scenarios(client: openai.OpenAI) -> dict[str, Callable[[], Any]]:
    messages = [{"role": "user", "content": "Say hello."}]

    def chat() -> Any:
        return client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    def stream() -> Any:
        for _ in client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
        ):
            pass

    return {"chat.completions.create": chat, "chat stream (40 chunks)": stream}


def measure(fn: Callable[[], Any], calls: int) -> float:
    for _ in range(min(50, calls)):
        fn()
    samples = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    client = openai.OpenAI(
        api_key="bench", http_client=openai.DefaultHttpx2Client(transport=httpx2.MockTransport(handler))
    )
    print(f"{'scenario':<28} {'bare µs':>9} {'llmwatch µs':>12} {'added µs':>9} {'ratio':>6}")
    for name, fn in scenarios(client).items():
        bare = measure(fn, args.calls)
        handle = llmwatch.instrument(exporters=[NullExporter()])
        instrumented = measure(fn, args.calls)
        handle.force_flush()
        llmwatch.uninstrument()
        print(f"{name:<28} {bare:>9.1f} {instrumented:>12.1f} {instrumented - bare:>9.1f} {instrumented / bare:>6.3f}")


if __name__ == "__main__":
    main()
