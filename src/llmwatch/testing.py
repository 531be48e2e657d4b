"""Helpers for testing code that uses llmwatch (and for llmwatch's own tests).

- :class:`FakeLLMServer`: a loopback, OpenAI-compatible HTTP server (chat, streams, responses, completions,
  embeddings, injected errors) to point a real client at with ``base_url=server.url``.
- :func:`capture_spans`: instrument with an in-memory exporter and read back the finished spans.

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

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llmwatch._fake_server import FakeLLMServer, RecordedRequest
from llmwatch._setup import Handle, instrument, uninstrument

__all__ = ["CapturedSpans", "FakeLLMServer", "RecordedRequest", "capture_spans"]


class CapturedSpans:
    """Finished spans recorded while :func:`capture_spans` is active."""

    def __init__(self, exporter: InMemorySpanExporter, handle: Handle) -> None:
        self.exporter = exporter
        self.handle = handle

    def spans(self) -> list[ReadableSpan]:
        """Every finished span so far (flushes llmwatch first), oldest first."""
        self.handle.force_flush()
        return list(self.exporter.get_finished_spans())

    def llm_spans(self) -> list[ReadableSpan]:
        """Only the model-call spans (those with ``gen_ai.operation.name``)."""
        return [s for s in self.spans() if s.attributes and "gen_ai.operation.name" in s.attributes]

    def clear(self) -> None:
        """Forget the spans captured so far."""
        self.handle.force_flush()
        self.exporter.clear()


@contextmanager
def capture_spans(**instrument_kwargs: Any) -> Iterator[CapturedSpans]:
    """Instrument with an in-memory exporter (plus any ``instrument()`` arguments); uninstrument on exit."""
    exporter = InMemorySpanExporter()
    handle = instrument(exporters=[exporter], **instrument_kwargs)
    try:
        yield CapturedSpans(exporter, handle)
    finally:
        handle.force_flush()
        uninstrument()
