"""Exporters end to end, each in a fresh interpreter (the global TracerProvider can be set once per process):
OTLP over http/protobuf and gRPC to a loopback collector, console, and an application's own provider."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

#: Metric export requests received by the loopback collector of the current test.
METRIC_REQUESTS: list[Any] = []

APP = textwrap.dedent(
    """
    import openai, llmwatch
    from llmwatch.testing import FakeLLMServer

    with FakeLLMServer() as server:
        llmwatch.instrument(service_name="shop")
        client = openai.OpenAI(base_url=server.url, api_key="sk-live-DO-NOT-LEAK", max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    """
)


def run_app(code: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMWATCH_"))}
    clean.update(env, LLMWATCH_STRICT="1")
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd or tempfile.gettempdir(),
    )
    assert result.returncode == 0, result.stderr
    return result


def span_attributes(span: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for kv in span.attributes:
        field = kv.value.WhichOneof("value")
        value = getattr(kv.value, field)
        values[kv.key] = [v.string_value for v in value.values] if field == "array_value" else value
    return values


def received_spans(requests: list[trace_service_pb2.ExportTraceServiceRequest]) -> list[tuple[Any, Any]]:
    return [
        (rs.resource, span)
        for request in requests
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]


@pytest.fixture
def http_collector() -> Iterator[tuple[str, list[Any], list[dict[str, str]]]]:
    requests: list[Any] = []
    headers: list[dict[str, str]] = []
    metric_requests = METRIC_REQUESTS
    metric_requests.clear()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            if self.path == "/v1/metrics":
                metric_request = metrics_service_pb2.ExportMetricsServiceRequest()
                metric_request.ParseFromString(body)
                metric_requests.append(metric_request)
                reply = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
            else:
                message = trace_service_pb2.ExportTraceServiceRequest()
                message.ParseFromString(body)
                requests.append(message)
                headers.append({k.lower(): v for k, v in self.headers.items()})
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests, headers
    finally:
        server.shutdown()
        server.server_close()


def test_otlp_http_with_headers_like_honeycomb(http_collector: tuple[str, list[Any], list[dict[str, str]]]) -> None:
    endpoint, requests, headers = http_collector

    result = run_app(
        APP, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_EXPORTER_OTLP_HEADERS="x-honeycomb-team=test-team-key"
    )

    ((resource, span),) = received_spans(requests)
    assert span.name == "chat gpt-4o-mini"
    assert span.kind == span.SPAN_KIND_CLIENT
    attrs = span_attributes(span)
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.usage.output_tokens"] > 0
    assert "gen_ai.input.messages" not in attrs  # content is off for remote exporters
    assert {kv.key: kv.value.string_value for kv in resource.attributes}["service.name"] == "shop"
    assert headers[0]["x-honeycomb-team"] == "test-team-key"
    assert "sk-live-DO-NOT-LEAK" not in str(requests)
    assert result.stdout == ""  # no console exporter when OTLP is configured


def test_otlp_metrics_next_to_the_spans(http_collector: tuple[str, list[Any], list[dict[str, str]]]) -> None:
    endpoint, requests, _ = http_collector

    run_app(APP, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)

    ((_, span),) = received_spans(requests)
    metrics = {
        metric.name: metric
        for request in METRIC_REQUESTS
        for rm in request.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }
    assert {name: metrics[name].unit for name in metrics} == {
        "gen_ai.client.operation.duration": "s",
        "gen_ai.client.token.usage": "{token}",
        "llmwatch.client.cost": "USD",
        "llmwatch.client.requests": "{request}",
    }
    duration = metrics["gen_ai.client.operation.duration"].histogram.data_points[0]
    assert list(duration.explicit_bounds) == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24,
                                              20.48, 40.96, 81.92]  # fmt: skip
    cost = metrics["llmwatch.client.cost"].sum.data_points[0].as_double
    assert abs(cost - span_attributes(span)["llmwatch.cost.total_usd"]) < 1e-12


def test_metrics_exporter_none_is_honoured(http_collector: tuple[str, list[Any], list[dict[str, str]]]) -> None:
    endpoint, requests, _ = http_collector

    run_app(APP, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_METRICS_EXPORTER="none")

    assert len(received_spans(requests)) == 1
    assert METRIC_REQUESTS == []  # a trace-only backend (Jaeger) is not sent metrics it would refuse


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.requests: list[Any] = []

    def Export(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()


def test_otlp_grpc() -> None:
    service = _TraceService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        run_app(
            APP,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}",
            OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
            OTEL_EXPORTER_OTLP_INSECURE="true",
        )
    finally:
        server.stop(grace=None)

    ((_, span),) = received_spans(service.requests)
    assert span.name == "chat gpt-4o-mini"
    assert span_attributes(span)["gen_ai.operation.name"] == "chat"


def test_local_store_is_the_default_without_an_endpoint(tmp_path: Path) -> None:
    result = run_app(APP, cwd=tmp_path)

    store = tmp_path / ".llmwatch" / "llmwatch.db"
    assert result.stdout == ""
    assert oct(store.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(store) as conn:
        rows = conn.execute(
            "SELECT name, kind, operation, request_model, service_name, input_tokens, cost_total_usd, input_messages "
            "FROM spans"
        ).fetchall()
    ((name, kind, operation, model, service, input_tokens, cost, input_messages),) = rows
    assert (name, kind, operation, model, service) == ("chat gpt-4o-mini", "CLIENT", "chat", "gpt-4o-mini", "shop")
    assert input_tokens > 0 and cost > 0
    assert json.loads(input_messages)[0]["parts"][0]["content"] == "hi"  # content is kept locally by default


def test_console_when_asked() -> None:
    result = run_app(APP, LLMWATCH_EXPORTERS="console")

    printed, end = json.JSONDecoder().raw_decode(result.stdout)
    assert "llmwatch.client.cost" in result.stdout[end:]  # asked-for console also prints the metrics
    assert printed["name"] == "chat gpt-4o-mini"
    assert printed["kind"] == "SpanKind.CLIENT"
    assert printed["attributes"]["gen_ai.request.model"] == "gpt-4o-mini"
    assert "gen_ai.input.messages" not in printed["attributes"]  # console counts as remote: no content
    assert printed["resource"]["attributes"]["service.name"] == "shop"


def test_existing_global_provider_is_used_without_adding_exporters() -> None:
    code = textwrap.dedent(
        """
        import json, openai, llmwatch
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from llmwatch.testing import FakeLLMServer

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)

        with FakeLLMServer() as server:
            llmwatch.instrument()
            client = openai.OpenAI(base_url=server.url, api_key="k", max_retries=0)
            with trace.get_tracer("app").start_as_current_span("handle request") as parent:
                client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        spans = exporter.get_finished_spans()
        print("RESULT", json.dumps([[s.name, s.parent.span_id if s.parent else None, s.context.span_id,
                                      s.context.trace_id] for s in spans]))
        """
    )

    result = run_app(code, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")  # would fail loudly if used

    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    (child, parent) = json.loads(line.removeprefix("RESULT "))
    assert child[0] == "chat gpt-4o-mini" and parent[0] == "handle request"
    assert child[1] == parent[2] and child[3] == parent[3]  # the LLM span is a child of the app's span
    assert result.stdout.count("gen_ai.operation.name") == 0  # no console copy
    assert "Failed to export" not in result.stderr


def test_zero_code_with_opentelemetry_instrument(tmp_path: Any) -> None:
    script = tmp_path / "app.py"
    script.write_text(
        textwrap.dedent(
            """
            import openai
            from llmwatch.testing import FakeLLMServer

            with FakeLLMServer() as server:  # no llmwatch import: the runner loads llmwatch's entry point
                client = openai.OpenAI(base_url=server.url, api_key="k", max_retries=0)
                client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            """
        )
    )
    runner = Path(sys.executable).parent / "opentelemetry-instrument"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMWATCH_"))}
    env.update(
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="zero-code",
        LLMWATCH_STRICT="1",
    )

    result = subprocess.run(
        [str(runner), sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60, check=True
    )

    printed = json.loads(result.stdout)
    assert printed["name"] == "chat gpt-4o-mini"
    assert printed["attributes"]["gen_ai.provider.name"] == "openai"
    assert printed["resource"]["attributes"]["service.name"] == "zero-code"
