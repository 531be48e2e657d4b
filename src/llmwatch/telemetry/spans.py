"""Opening and closing the one CLIENT span of a model call."""

from __future__ import annotations

from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from llmwatch import _guard
from llmwatch.record import Call
from llmwatch.telemetry import names as n
from llmwatch.telemetry.attributes import (
    ContentPolicy,
    content_attributes,
    end_attributes,
    span_name,
    start_attributes,
)


def open_span(tracer: Tracer, call: Call) -> Span:
    """Start the call's span with the sampling-relevant attributes; it is not made current here."""
    return tracer.start_span(
        span_name(call), kind=SpanKind.CLIENT, attributes=start_attributes(call), start_time=call.start_time_ns
    )


def close_span(span: Span, call: Call, content: ContentPolicy, end_time_ns: int | None = None) -> None:
    """Set the outcome attributes and status, record the error if any, and end the span."""
    if span.is_recording():
        # usage before content, so a huge prompt cannot push token counts out of an attribute limit
        span.set_attributes(end_attributes(call))
        # a failing redact hook loses the content of this span, nothing else
        span.set_attributes(_guard.run_guarded("telemetry.content", {}, content_attributes, call, content))
        if call.error is not None:
            status_code = getattr(call.error, "status_code", None)
            if isinstance(status_code, int):
                span.set_attribute(n.HTTP_RESPONSE_STATUS_CODE, status_code)
            span.record_exception(call.error)
            span.set_status(Status(StatusCode.ERROR, _describe(call.error)))
    span.end(end_time=end_time_ns)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 300 else text[:300] + "…"
