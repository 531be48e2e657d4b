"""Metrics: GenAI semantic-convention names, units and buckets, and llmwatch's cost and request counters."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from llmwatch.testing import CapturedSpans, FakeLLMServer, capture_spans

# From the GenAI semantic conventions (bucket advisories).
DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]


def mixed_workload(client: openai.OpenAI, server: FakeLLMServer) -> None:
    messages = [{"role": "user", "content": "Explain OpenTelemetry in two sentences."}]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    client.chat.completions.create(model="gpt-4o", messages=messages, n=2)
    list(client.chat.completions.create(model="o4-mini", messages=messages, stream=True))  # estimated usage
    list(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    client.responses.create(model="gpt-4o-mini", input="Explain tracing.")
    client.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
    client.chat.completions.create(model="acme-unknown-model", messages=messages)  # no price: no cost
    server.fail_next(429)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-mini", messages=messages)


def bucket_reaching(counts: list[int], rank: int) -> int:
    """Index of the histogram bucket in which the cumulative count reaches ``rank``."""
    cumulative = 0
    for index, count in enumerate(counts):
        cumulative += count
        if cumulative >= rank:
            return index
    return len(counts) - 1


def points(metric: Any) -> list[Any]:
    return list(metric.data.data_points)


def test_cost_counter_total_equals_the_sum_of_span_costs(
    client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans
) -> None:
    mixed_workload(client, server)

    spans = captured.llm_spans()
    span_total = sum(s.attributes.get("llmwatch.cost.total_usd", 0.0) for s in spans)
    cost = captured.metrics()["llmwatch.client.cost"]
    assert cost.unit == "USD"
    assert span_total > 0
    assert abs(sum(p.value for p in points(cost)) - span_total) < 1e-12
    by_model: dict[str, float] = {}
    for span in spans:
        model = span.attributes["gen_ai.request.model"]
        by_model[model] = by_model.get(model, 0.0) + span.attributes.get("llmwatch.cost.total_usd", 0.0)
    for point in points(cost):
        assert abs(point.value - by_model[point.attributes["gen_ai.request.model"]]) < 1e-12
    assert "acme-unknown-model" not in {p.attributes["gen_ai.request.model"] for p in points(cost)}


def test_request_counter_counts_failures_by_error_type(
    client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans
) -> None:
    mixed_workload(client, server)

    requests = points(captured.metrics()["llmwatch.client.requests"])
    assert sum(p.value for p in requests) == len(captured.llm_spans()) == 8
    failed = [p for p in requests if "error.type" in p.attributes]
    assert [(p.attributes["error.type"], p.value) for p in failed] == [("openai.RateLimitError", 1)]


def test_histograms_use_the_convention_buckets_and_give_p95(
    client: openai.OpenAI, server: FakeLLMServer, captured: CapturedSpans
) -> None:
    mixed_workload(client, server)
    spans = captured.llm_spans()
    metrics = captured.metrics()

    duration = metrics["gen_ai.client.operation.duration"]
    assert duration.unit == "s"
    for point in points(duration):
        assert list(point.explicit_bounds) == DURATION_BUCKETS
    tokens = metrics["gen_ai.client.token.usage"]
    assert tokens.unit == "{token}"
    for point in points(tokens):
        assert list(point.explicit_bounds) == TOKEN_BUCKETS
        assert point.attributes["gen_ai.token.type"] in {"input", "output"}
    ttfc = metrics["gen_ai.client.operation.time_to_first_chunk"]
    assert sum(p.count for p in points(ttfc)) == 2  # the two streams

    # p95 from the buckets: the bucket where the cumulative count reaches 95% holds the true p95
    counts = [0] * (len(DURATION_BUCKETS) + 1)
    for point in points(duration):
        counts = [a + b for a, b in zip(counts, point.bucket_counts, strict=True)]
    durations = sorted((s.end_time - s.start_time) / 1e9 for s in spans)
    assert sum(counts) == len(durations)
    rank = -(-95 * len(durations) // 100)  # nearest-rank p95
    index = bucket_reaching(counts, rank)
    low = DURATION_BUCKETS[index - 1] if index else 0.0
    high = DURATION_BUCKETS[index] if index < len(DURATION_BUCKETS) else float("inf")
    true_p95 = durations[rank - 1]
    assert low <= true_p95 <= high * 1.001  # metric durations and span durations come from the same clock reads


def test_token_usage_matches_spans(client: openai.OpenAI, captured: CapturedSpans) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])

    (span,) = captured.llm_spans()
    usage = {p.attributes["gen_ai.token.type"]: p for p in points(captured.metrics()["gen_ai.client.token.usage"])}
    assert usage["input"].sum == span.attributes["gen_ai.usage.input_tokens"]
    assert usage["output"].sum == span.attributes["gen_ai.usage.output_tokens"]
    assert usage["input"].attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": span.attributes["gen_ai.response.model"],
        "server.address": "127.0.0.1",
        "server.port": span.attributes["server.port"],
        "openai.response.service_tier": "default",
        "gen_ai.token.type": "input",
    }


def test_latest_semconv_set(client: openai.OpenAI, server: FakeLLMServer) -> None:
    with capture_spans(metrics_semconv="latest") as captured:
        mixed_workload(client, server)
        metrics = captured.metrics()
        spans = captured.llm_spans()

    assert "gen_ai.client.token.usage" not in metrics
    assert "gen_ai.client.operation.duration" not in metrics
    inference = metrics["gen_ai.client.inference.duration"]
    assert sum(p.count for p in points(inference)) == 7  # everything but the embeddings call
    assert sum(p.count for p in points(metrics["gen_ai.client.embeddings.duration"])) == 1
    input_total = sum(p.value for p in points(metrics["gen_ai.client.inference.usage.input_tokens"]))
    chat_spans = [s for s in spans if s.attributes["gen_ai.operation.name"] != "embeddings"]
    assert input_total == sum(s.attributes.get("gen_ai.usage.input_tokens", 0) for s in chat_spans)
    modalities = {
        p.attributes["gen_ai.token.modality"] for p in points(metrics["gen_ai.client.inference.usage.input_tokens"])
    }
    assert modalities == {"text", "unknown"}  # the failed call is recorded with 0 tokens of unknown modality
    assert metrics["gen_ai.client.inference.usage.input_tokens"].unit == "{token}"
    for point in points(metrics["gen_ai.client.inference.operation.input_tokens"]):
        assert list(point.explicit_bounds) == TOKEN_BUCKETS


def test_unknown_semconv_set_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="metrics_semconv"), capture_spans(metrics_semconv="v2"):
        pass
