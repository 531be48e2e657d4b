"""Helpers for testing code that uses llmwatch (and for llmwatch's own tests).

- :class:`FakeLLMServer`: a loopback, OpenAI-compatible HTTP server (chat, streams, responses, completions,
  embeddings, injected errors) to point a real client at with ``base_url=server.url``.
- :func:`capture_spans`: instrument with an in-memory exporter and metric reader, and read back the finished
  spans and the metrics.

Example::

    from llmwatch.testing import FakeLLMServer, capture_spans

    with FakeLLMServer() as server, capture_spans() as captured:
        client = openai.OpenAI(base_url=server.url, api_key="test")
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        (span,) = captured.spans()
        assert span.attributes["gen_ai.usage.output_tokens"] > 0
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, Metric
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from llmwatch._fake_server import FakeLLMServer, RecordedRequest
from llmwatch._setup import Handle, instrument, uninstrument

__all__ = ["CapturedSpans", "FakeLLMServer", "RecordedRequest", "capture_spans"]


class CapturedSpans:
    """Finished spans recorded while :func:`capture_spans` is active."""

    def __init__(self, exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader, handle: Handle) -> None:
        self.exporter = exporter
        self.metric_reader = metric_reader
        self.handle = handle

    def spans(self) -> list[ReadableSpan]:
        """Every finished span so far (flushes llmwatch first), oldest first."""
        self.handle.force_flush()
        return list(self.exporter.get_finished_spans())

    def llm_spans(self) -> list[ReadableSpan]:
        """Only the model-call spans (CLIENT spans with ``gen_ai.operation.name``)."""
        return [
            s
            for s in self.spans()
            if s.kind == SpanKind.CLIENT and s.attributes and "gen_ai.operation.name" in s.attributes
        ]

    def metrics(self) -> dict[str, Metric]:
        """The metrics recorded so far (cumulative), by name."""
        self.handle.force_flush()
        data = self.metric_reader.get_metrics_data()
        found: dict[str, Metric] = {}
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    found[metric.name] = metric
        return found

    def clear(self) -> None:
        """Forget the spans captured so far."""
        self.handle.force_flush()
        self.exporter.clear()


@contextmanager
def capture_spans(**instrument_kwargs: Any) -> Iterator[CapturedSpans]:
    """Instrument with an in-memory exporter and metric reader (plus any ``instrument()`` arguments).

    Uninstruments on exit.
    """
    exporter = InMemorySpanExporter()
    reader = InMemoryMetricReader()
    instrument_kwargs.setdefault("meter_provider", MeterProvider(metric_readers=[reader]))
    handle = instrument(exporters=[exporter], **instrument_kwargs)
    try:
        yield CapturedSpans(exporter, reader, handle)
    finally:
        handle.force_flush()
        uninstrument()
