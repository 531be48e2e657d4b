"""Exporter selection: names in ``exporters=`` / ``LLMWATCH_EXPORTERS`` -> span exporters and metric readers."""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter


def build_exporter(spec: Any, settings: Any = None) -> SpanExporter:
    """``"local"``, ``"otlp"``, ``"console"`` or a SpanExporter instance (returned as is)."""
    if spec == "local":
        from llmwatch.exporters.local import LocalStoreExporter
        from llmwatch.store.retention import Retention

        store = getattr(settings, "store", None)
        return LocalStoreExporter(store, Retention.parse(getattr(settings, "retention", None)))
    if spec == "console":
        return ConsoleSpanExporter()
    if spec == "otlp":
        return otlp_exporter()
    if isinstance(spec, SpanExporter) or hasattr(spec, "export"):
        return spec  # type: ignore[no-any-return]
    raise ValueError(f"unknown exporter {spec!r}")


def otlp_exporter() -> SpanExporter:
    """OTLP over http/protobuf, or gRPC when ``OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL=grpc``.

    Endpoint, headers (e.g. Honeycomb's ``x-honeycomb-team``), timeout, compression and certificates come from
    the standard ``OTEL_EXPORTER_OTLP_*`` variables, read by the exporter itself.
    """
    protocol = (
        (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "")
        .strip()
        .lower()
    )
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    return HttpExporter()


def build_metric_reader(spec: str) -> MetricReader:
    """A periodic reader for ``"otlp"`` (protocol as for spans) or ``"console"`` metrics."""
    if spec == "console":
        return PeriodicExportingMetricReader(ConsoleMetricExporter())
    if spec != "otlp":
        raise ValueError(f"unknown metric exporter {spec!r}")
    protocol = (
        (os.environ.get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "")
        .strip()
        .lower()
    )
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetrics

        return PeriodicExportingMetricReader(GrpcMetrics())
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetrics

    return PeriodicExportingMetricReader(HttpMetrics())
