"""The local store exporter: finished spans -> rows of the SQLite store, in batches, off the caller's thread.

It runs inside a BatchSpanProcessor, so the app's threads only enqueue. A write that fails (disk full, read-only
file, a locked database past the timeout) drops that batch with one warning and never raises into the app;
rows already stored are untouched.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode

from llmwatch.store.retention import Retention
from llmwatch.store.schema import COLUMNS, DEFAULT_PATH, connect
from llmwatch.telemetry import names as n

logger = logging.getLogger("llmwatch")

_INSERT = f"INSERT OR IGNORE INTO spans ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_TYPED = {
    n.GEN_AI_OPERATION_NAME, n.GEN_AI_PROVIDER_NAME, n.GEN_AI_REQUEST_MODEL, n.GEN_AI_RESPONSE_MODEL,
    n.ERROR_TYPE, n.GEN_AI_USAGE_INPUT_TOKENS, n.GEN_AI_USAGE_OUTPUT_TOKENS, n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, n.LLMWATCH_USAGE_ESTIMATED, n.LLMWATCH_COST_INPUT_USD,
    n.LLMWATCH_COST_OUTPUT_USD, n.LLMWATCH_COST_TOTAL_USD, n.LLMWATCH_COST_SOURCE,
    n.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, n.LLMWATCH_PROMPT_NAME, n.LLMWATCH_PROMPT_VERSION, n.USER_ID,
    n.SESSION_ID, n.LLMWATCH_FEATURE, n.LLMWATCH_QUALITY_FLAGS, n.LLMWATCH_SAFETY_FLAGS, n.GEN_AI_INPUT_MESSAGES,
    n.GEN_AI_OUTPUT_MESSAGES,
}  # fmt: skip
_PRUNE_EVERY_S = 60.0


def default_store_path() -> Path:
    """``LLMWATCH_STORE``, else ``./.llmwatch/llmwatch.db``."""
    return Path(os.environ.get("LLMWATCH_STORE") or DEFAULT_PATH)


def _flags(value: Any) -> str | None:
    return json.dumps(list(value)) if value else None


def span_row(span: ReadableSpan) -> tuple[Any, ...]:
    """One store row for a finished span."""
    a = dict(span.attributes or {})
    context = span.get_span_context()
    parent = span.parent
    start, end = span.start_time or 0, span.end_time or 0
    rest = {k: (list(v) if isinstance(v, tuple) else v) for k, v in a.items() if k not in _TYPED}
    error = span.status.status_code == StatusCode.ERROR
    return (
        format(context.trace_id, "032x") if context else "",
        format(context.span_id, "016x") if context else "",
        format(parent.span_id, "016x") if parent else None,
        span.name,
        span.kind.name,
        start,
        end,
        (end - start) / 1e9,
        span.resource.attributes.get("service.name") if span.resource else None,
        "error" if error else "ok",
        a.get(n.ERROR_TYPE) or (type(span.status).__name__ if error else None),
        a.get(n.GEN_AI_OPERATION_NAME),
        a.get(n.GEN_AI_PROVIDER_NAME),
        a.get(n.GEN_AI_REQUEST_MODEL),
        a.get(n.GEN_AI_RESPONSE_MODEL),
        a.get(n.GEN_AI_USAGE_INPUT_TOKENS),
        a.get(n.GEN_AI_USAGE_OUTPUT_TOKENS),
        a.get(n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
        a.get(n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
        1 if a.get(n.LLMWATCH_USAGE_ESTIMATED) else 0,
        a.get(n.LLMWATCH_COST_INPUT_USD),
        a.get(n.LLMWATCH_COST_OUTPUT_USD),
        a.get(n.LLMWATCH_COST_TOTAL_USD),
        a.get(n.LLMWATCH_COST_SOURCE),
        a.get(n.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK),
        a.get(n.LLMWATCH_PROMPT_NAME),
        a.get(n.LLMWATCH_PROMPT_VERSION),
        a.get(n.USER_ID),
        a.get(n.SESSION_ID),
        a.get(n.LLMWATCH_FEATURE),
        _flags(a.get(n.LLMWATCH_QUALITY_FLAGS)),
        _flags(a.get(n.LLMWATCH_SAFETY_FLAGS)),
        a.get(n.GEN_AI_INPUT_MESSAGES),
        a.get(n.GEN_AI_OUTPUT_MESSAGES),
        json.dumps(rest, default=str, separators=(",", ":")),
    )


class LocalStoreExporter(SpanExporter):
    """Writes spans to the local SQLite store (``store=`` / ``LLMWATCH_STORE``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, retention: Retention | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.retention = retention or Retention.parse(os.environ.get("LLMWATCH_RETENTION"))
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._warned = False
        self._last_prune = 0.0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            rows = [span_row(span) for span in spans]
        except Exception as exc:  # a malformed span must not lose the batch's others silently: say so once
            self._warn(f"could not read {len(spans)} spans", exc)
            return SpanExportResult.FAILURE
        with self._lock:
            try:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(_INSERT, rows)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                if time.monotonic() - self._last_prune > _PRUNE_EVERY_S:
                    self._prune(conn)
            except Exception as exc:  # sqlite3.Error, OSError, StoreError: never into the app
                self._warn(f"could not write {len(rows)} spans to {self.path}; they are dropped", exc)
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path)
        return self._conn

    def _prune(self, conn: sqlite3.Connection) -> None:
        self._last_prune = time.monotonic()
        if self.retention.max_age_s is not None:
            cutoff = time.time_ns() - int(self.retention.max_age_s * 1e9)
            conn.execute("DELETE FROM spans WHERE start_time_ns < ?", (cutoff,))
        if self.retention.max_bytes is not None:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            while conn.execute("PRAGMA page_count").fetchone()[0] * page_size > self.retention.max_bytes:
                stored = conn.execute("SELECT count(*) FROM spans").fetchone()[0]
                deleted = conn.execute(  # the oldest tenth at a time, then measure again
                    "DELETE FROM spans WHERE (trace_id, span_id) IN "
                    "(SELECT trace_id, span_id FROM spans ORDER BY start_time_ns LIMIT ?)",
                    (max(1, stored // 10),),
                ).rowcount
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file itself shrinks only now
                if not deleted:
                    break

    def _warn(self, what: str, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("llmwatch: %s: %s (the app is unaffected; further failures are not logged)", what, exc)

    def shutdown(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True
