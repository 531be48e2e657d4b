"""``llmwatch demo``: a realistic offline workload through the real openai client, and what llmwatch saw.

Everything runs on this machine: the client talks to the loopback :class:`FakeLLMServer`; no API key, no network.
"""

from __future__ import annotations

import random
from typing import Any, TextIO

from llmwatch.testing import FakeLLMServer, capture_spans

_QUESTIONS = [
    "Summarise our refund policy for a customer who bought shoes 40 days ago.",
    "Write a SQL query that finds the ten customers with the highest lifetime value.",
    "Translate 'where is the train station' into French, Spanish and German.",
    "Explain the difference between a process and a thread to a junior developer.",
    "Draft a polite reply declining a meeting invitation next Tuesday.",
    "List three risks of deploying on a Friday afternoon and how to mitigate them.",
    "What is the capital of Australia, and why is it not Sydney?",
    "Give me a regex that matches ISO 8601 dates.",
]
_MODELS = ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o", "o4-mini", "ft:acme-support-v2"]


def run_demo(*, calls: int, seed: int, out: TextIO) -> int:
    """Run the workload, print one line per recorded call and a summary; returns the exit status."""
    try:
        import openai
    except ImportError:
        out.write("llmwatch demo needs the openai SDK: pip install 'llmwatch[openai]'\n")
        return 1
    rng = random.Random(seed)
    with FakeLLMServer(latency_s=0.01, chunk_delay_s=0.002) as server, capture_spans() as captured:
        client = openai.OpenAI(base_url=server.url, api_key="demo-key", max_retries=0)
        for i in range(calls):
            _one_call(client, server, rng, i, openai)
        spans = captured.llm_spans()
    _print(spans, out)
    return 0


def _one_call(client: Any, server: FakeLLMServer, rng: random.Random, i: int, openai: Any) -> None:
    question = rng.choice(_QUESTIONS)
    model = rng.choice(_MODELS)
    messages = [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": question}]
    kind = i % 6
    try:
        if kind == 5 and i % 12 == 5:
            server.fail_next(429)
            client.chat.completions.create(model=model, messages=messages)
        elif kind == 1:
            for _ in client.chat.completions.create(
                model=model, messages=messages, stream=True, stream_options={"include_usage": True}
            ):
                pass
        elif kind == 2:
            for _ in client.chat.completions.create(model=model, messages=messages, stream=True):
                pass  # no usage requested: llmwatch estimates tokens offline
        elif kind == 3:
            client.responses.create(model=model, instructions="Be concise.", input=question)
        elif kind == 4:
            client.embeddings.create(model="text-embedding-3-small", input=[question])
        else:
            client.chat.completions.create(model=model, messages=messages, temperature=0.3)
    except openai.APIError:
        pass  # the demo shows failures too; the app decides what to do with them


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (the same definition as numpy's default)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _print(spans: list[Any], out: TextIO) -> None:
    out.write(f"{'span':<34} {'in':>6} {'out':>6} {'cost $':>10} {'ms':>7} {'ttft ms':>8}  status\n")
    durations: list[float] = []
    ttfts: list[float] = []
    totals = {"in": 0, "out": 0, "estimated": 0, "errors": 0}
    cost_total = 0.0
    unpriced: set[str] = set()
    for span in spans:
        attrs = span.attributes
        duration_ms = (span.end_time - span.start_time) / 1e6
        durations.append(duration_ms)
        ttft = attrs.get("gen_ai.response.time_to_first_chunk")
        if ttft is not None:
            ttfts.append(ttft * 1000)
        tokens_in = int(attrs.get("gen_ai.usage.input_tokens", 0))
        tokens_out = int(attrs.get("gen_ai.usage.output_tokens", 0))
        totals["in"] += tokens_in
        totals["out"] += tokens_out
        totals["estimated"] += bool(attrs.get("llmwatch.usage.estimated"))
        error = attrs.get("error.type")
        totals["errors"] += error is not None
        status = (
            f"ERROR {error}" if error else ("ok (estimated tokens)" if attrs.get("llmwatch.usage.estimated") else "ok")
        )
        ttft_text = f"{ttft * 1000:8.1f}" if ttft is not None else f"{'-':>8}"
        cost = attrs.get("llmwatch.cost.total_usd")
        if cost is not None:
            cost_total += float(cost)
        elif attrs.get("llmwatch.cost.source") == "unknown":
            unpriced.add(str(attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")))
        cost_text = f"{cost:10.6f}" if cost is not None else f"{'-':>10}"
        out.write(
            f"{span.name:<34} {tokens_in:>6} {tokens_out:>6} {cost_text} {duration_ms:>7.1f} {ttft_text}  {status}\n"
        )
    out.write(
        f"\n{len(spans)} calls, {totals['errors']} failed, {totals['in']} input + {totals['out']} output tokens "
        f"({totals['estimated']} calls estimated offline), estimated cost ${cost_total:.6f}\n"
        f"latency p50 {_percentile(durations, 0.5):.1f} ms, p90 {_percentile(durations, 0.9):.1f} ms, "
        f"p95 {_percentile(durations, 0.95):.1f} ms"
    )
    if ttfts:
        out.write(f"; time to first token p50 {_percentile(ttfts, 0.5):.1f} ms")
    out.write("\n")
    if unpriced:
        out.write(f"no price known (not counted as free): {', '.join(sorted(unpriced))}\n")
