"""The local store: rows for spans, private file, schema versions, bad files moved aside, failures never raised."""

from __future__ import annotations

import json
import logging
import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

import openai
import pytest

from llmwatch.exporters.local import LocalStoreExporter
from llmwatch.store import schema
from llmwatch.store.retention import Retention, parse_duration, parse_instant, parse_size
from llmwatch.testing import FakeLLMServer, capture_spans
from tests.conftest import API_KEY


def record_calls(server: FakeLLMServer, exporter: LocalStoreExporter, count: int = 3) -> list[Any]:
    """Real calls through the real client; the spans go to the in-memory capture and to ``exporter``."""
    client = openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)
    with capture_spans(capture_content=True) as captured:
        for i in range(count):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}])
        spans = captured.llm_spans()
    assert exporter.export(spans).name == "SUCCESS"
    return spans


def rows(path: Path, sql: str = "SELECT * FROM spans") -> list[sqlite3.Row]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql).fetchall()


def test_one_typed_row_per_span(server: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "store" / "llmwatch.db"
    exporter = LocalStoreExporter(path)

    spans = record_calls(server, exporter)
    exporter.export(spans)  # the same spans again: stored once

    stored = rows(path, "SELECT * FROM spans ORDER BY start_time_ns")
    assert len(stored) == 3
    for row, span in zip(stored, spans, strict=True):
        a = span.attributes
        assert row["span_id"] == format(span.context.span_id, "016x")
        assert row["trace_id"] == format(span.context.trace_id, "032x")
        assert (row["operation"], row["provider"], row["request_model"]) == ("chat", "openai", "gpt-4o-mini")
        assert row["response_model"] == a["gen_ai.response.model"]
        assert row["input_tokens"] == a["gen_ai.usage.input_tokens"]
        assert row["output_tokens"] == a["gen_ai.usage.output_tokens"]
        assert row["cost_total_usd"] == a["llmwatch.cost.total_usd"]
        assert row["duration_s"] == pytest.approx((span.end_time - span.start_time) / 1e9)
        assert row["status"] == "ok" and row["error_type"] is None
        assert json.loads(row["input_messages"]) == json.loads(a["gen_ai.input.messages"])
        rest = json.loads(row["attributes"])
        assert rest["server.port"] == server.port
        assert "gen_ai.usage.input_tokens" not in rest  # typed columns are not stored twice
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION


def test_corrupt_file_is_moved_aside(server: FakeLLMServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "llmwatch.db"
    path.write_bytes(b"this is not a database" * 100)

    with caplog.at_level(logging.WARNING, logger="llmwatch"):
        record_calls(server, LocalStoreExporter(path), count=1)

    (moved,) = tmp_path.glob("llmwatch.db.corrupt-*")
    assert moved.read_bytes() == b"this is not a database" * 100  # kept, never deleted
    assert len(rows(path)) == 1
    assert any("not a usable llmwatch store" in r.getMessage() for r in caplog.records)


def test_foreign_database_is_moved_aside(server: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "llmwatch.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
        conn.execute("INSERT INTO invoices VALUES (42)")

    record_calls(server, LocalStoreExporter(path), count=1)

    (moved,) = tmp_path.glob("llmwatch.db.corrupt-*")
    with sqlite3.connect(moved) as conn:
        assert conn.execute("SELECT id FROM invoices").fetchall() == [(42,)]
    assert len(rows(path)) == 1


def test_a_newer_schema_is_refused_without_touching_it(server: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "llmwatch.db"
    LocalStoreExporter(path).export([])
    record_calls(server, LocalStoreExporter(path), count=1)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")

    with pytest.raises(schema.StoreError, match="newer than this llmwatch"):
        schema.connect(path)
    assert len(rows(path)) == 1


def test_unwritable_store_drops_new_rows_with_one_warning(
    server: FakeLLMServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store's folder should be")
    exporter = LocalStoreExporter(blocker / "llmwatch.db")
    client = openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)

    with capture_spans() as captured, caplog.at_level(logging.WARNING, logger="llmwatch"):
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
        results = [exporter.export([span]).name for span in captured.llm_spans()]

    assert results == ["FAILURE", "FAILURE"]
    assert len([r for r in caplog.records if "could not write" in r.getMessage()]) == 1


def test_full_disk_keeps_what_was_stored(server: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "llmwatch.db"
    exporter = LocalStoreExporter(path)
    record_calls(server, exporter, count=2)
    # SQLite's own page cap stands in for a full disk: the next write fails with SQLITE_FULL
    pages = exporter._connection().execute("PRAGMA page_count").fetchone()[0]
    exporter._connection().execute(f"PRAGMA max_page_count = {pages}")
    client = openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)

    with capture_spans(capture_content=True) as captured:
        for _ in range(50):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "y" * 500}])
        result = exporter.export(captured.llm_spans())

    assert result.name == "FAILURE"
    assert len(rows(path)) == 2


def _write_from_another_process(path: str, server_url: str) -> None:
    exporter = LocalStoreExporter(path)
    client = openai.OpenAI(base_url=server_url, api_key="k", max_retries=0)
    with capture_spans() as captured:
        for _ in range(5):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "p"}])
        exporter.export(captured.llm_spans())


def test_several_processes_write_one_file(server: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "llmwatch.db"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_from_another_process, args=(str(path), server.url)) for _ in range(3)]
    for worker in workers:
        worker.start()
    record_calls(server, LocalStoreExporter(path), count=5)
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0

    assert len(rows(path)) == 20


def test_retention_by_age(server: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "llmwatch.db"
    record_calls(server, LocalStoreExporter(path), count=3)
    old = time.time_ns() - int(40 * 86400 * 1e9)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE spans SET start_time_ns = ? WHERE span_id IN (SELECT span_id FROM spans LIMIT 2)", (old,))

    record_calls(server, LocalStoreExporter(path, Retention.parse("30d")), count=1)

    assert len(rows(path)) == 2  # the two 40-day-old rows are gone, the new and the recent one stay


def test_retention_by_size(server: FakeLLMServer, tmp_path: Path) -> None:
    path = tmp_path / "llmwatch.db"
    exporter = LocalStoreExporter(path, Retention(max_age_s=None, max_bytes=10_000_000))
    for _ in range(4):
        record_calls(server, exporter, count=25)
    before = len(rows(path))

    small = LocalStoreExporter(path, Retention.parse("100kB"))
    record_calls(server, small, count=1)

    after = len(rows(path))
    assert before == 100
    assert 0 < after < before
    assert path.stat().st_size <= 100_000 + 4096


def test_parsing_windows_and_sizes() -> None:
    assert parse_duration("24h") == 86400
    assert parse_duration("7d") == 7 * 86400
    assert parse_size("500MB") == 500_000_000
    assert parse_size("1GiB") == 1024**3
    assert Retention.parse("30d,500MB") == Retention(30 * 86400, 500_000_000)
    assert Retention.parse("none") == Retention(None, None)
    assert parse_instant("2026-11-01").isoformat() == "2026-11-01T00:00:00+00:00"
    with pytest.raises(ValueError, match="not a time"):
        parse_instant("yesterday-ish")
