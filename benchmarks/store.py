"""Local store speed: ingest rate of the store exporter, and report time over a million stored calls.

Run with ``nox -s bench`` or ``python benchmarks/store.py [--rows 1000000]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from llmwatch.exporters.local import LocalStoreExporter
from llmwatch.report.build import build_report
from llmwatch.report.render import render
from llmwatch.store.schema import COLUMNS, connect

MODELS = ["gpt-4o-mini", "gpt-4o", "o4-mini", "gpt-4.1-nano", "claude-sonnet-4-5"]


def make_spans(count: int) -> list[object]:
    """Realistic finished LLM spans, made by the OpenTelemetry SDK itself."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("bench")
    rng = random.Random(1)
    for i in range(count):
        model = MODELS[i % len(MODELS)]
        with tracer.start_as_current_span(f"chat {model}", kind=SpanKind.CLIENT) as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": model,
                    "gen_ai.response.model": model + "-2024",
                    "gen_ai.usage.input_tokens": rng.randint(10, 4000),
                    "gen_ai.usage.output_tokens": rng.randint(1, 800),
                    "llmwatch.cost.total_usd": rng.random() / 100,
                    "llmwatch.cost.source": "genai-prices",
                    "server.address": "api.openai.com",
                    "server.port": 443,
                    "user.id": f"user-{i % 50}",
                    "gen_ai.response.finish_reasons": ("stop",),
                }
            )
    return list(memory.get_finished_spans())


def bench_ingest(count: int) -> float:
    spans = make_spans(count)
    with tempfile.TemporaryDirectory() as folder:
        exporter = LocalStoreExporter(Path(folder) / "bench.db")
        exporter.export(spans[:10])  # open and migrate outside the timing
        start = time.perf_counter()
        for i in range(10, len(spans), 512):
            exporter.export(spans[i : i + 512])
        elapsed = time.perf_counter() - start
        exporter.shutdown()
    return (len(spans) - 10) / elapsed


def fill(path: Path, rows: int) -> None:
    conn = connect(path)
    rng = random.Random(2)
    now = time.time_ns()
    placeholders = ", ".join("?" * len(COLUMNS))
    batch = []
    conn.execute("BEGIN")
    for i in range(rows):
        model = MODELS[i % len(MODELS)]
        start = now - rng.randint(0, 7 * 86400) * 10**9
        duration = rng.lognormvariate(-0.5, 0.8)
        failed = rng.random() < 0.02
        cost = None if failed else rng.random() / 100
        batch.append((
            f"{i:032x}", f"{i:016x}", None, f"chat {model}", "CLIENT", start, start + int(duration * 1e9), duration,
            "bench", "error" if failed else "ok", "openai.RateLimitError" if failed else None, "chat", "openai",
            model, model, rng.randint(10, 4000), rng.randint(1, 800), 0, 0, 0, cost, cost, cost,
            "genai-prices", duration / 5 if i % 3 == 0 else None, f"prompt-{i % 7}", "1", f"user-{i % 50}",
            None, ("search", "chat")[i % 2], None, None, None, None, json.dumps({"server.port": 443}),
        ))  # fmt: skip
        if len(batch) == 10_000:
            conn.executemany(f"INSERT INTO spans ({', '.join(COLUMNS)}) VALUES ({placeholders})", batch)
            batch.clear()
    if batch:
        conn.executemany(f"INSERT INTO spans ({', '.join(COLUMNS)}) VALUES ({placeholders})", batch)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def bench_report(rows: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.db"
        fill(path, rows)
        conn = connect(path, readonly=True)
        try:
            start = time.perf_counter()
            text = render(build_report(conn, store=str(path)), "table")
            table_s = time.perf_counter() - start
            start = time.perf_counter()
            render(build_report(conn, store=str(path), by="user"), "table")
            by_user_s = time.perf_counter() - start
        finally:
            conn.close()
        assert "Latency by model" in text
    return table_s, by_user_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=50_000, help="spans to ingest (default 50,000)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="stored calls to report on (default 1,000,000)")
    args = parser.parse_args()
    print(f"store ingest: {bench_ingest(args.spans):,.0f} spans/s ({args.spans:,} spans, batches of 512)")
    table_s, by_user_s = bench_report(args.rows)
    print(f"report over {args.rows:,} calls: {table_s:.2f} s (--by model), {by_user_s:.2f} s (--by user)")
    with sqlite3.connect(":memory:") as conn:
        print(f"sqlite {conn.execute('select sqlite_version()').fetchone()[0]}")


if __name__ == "__main__":
    main()
