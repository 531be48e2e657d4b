"""Opening the store file: permissions, WAL, schema version and forward migrations, and bad files moved aside.

The file is ours when its SQLite ``application_id`` is :data:`APPLICATION_ID`; ``user_version`` is the schema
version. A file that is not SQLite, or is another application's database, is renamed ``<name>.corrupt-<time>``
(never deleted) with a warning, and a new store is started in its place.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

logger = logging.getLogger("llmwatch")

#: "LLMW" as an integer: marks a SQLite file as an llmwatch store.
APPLICATION_ID = 0x4C4C4D57
DEFAULT_PATH = Path(".llmwatch") / "llmwatch.db"

#: Typed columns, in order; everything else about a span is in ``attributes`` (JSON).
COLUMNS = (
    "trace_id", "span_id", "parent_span_id", "name", "kind", "start_time_ns", "end_time_ns", "duration_s",
    "service_name", "status", "error_type", "operation", "provider", "request_model", "response_model",
    "input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens", "usage_estimated",
    "cost_input_usd", "cost_output_usd", "cost_total_usd", "cost_source", "ttft_s",
    "prompt_name", "prompt_version", "user_id", "session_id", "feature", "quality_flags", "safety_flags",
    "input_messages", "output_messages", "attributes",
)  # fmt: skip

#: MIGRATIONS[i] takes a store from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE spans (
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_span_id TEXT,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        start_time_ns INTEGER NOT NULL,
        end_time_ns INTEGER NOT NULL,
        duration_s REAL NOT NULL,
        service_name TEXT,
        status TEXT NOT NULL,
        error_type TEXT,
        operation TEXT,
        provider TEXT,
        request_model TEXT,
        response_model TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cache_read_tokens INTEGER,
        reasoning_tokens INTEGER,
        usage_estimated INTEGER NOT NULL DEFAULT 0,
        cost_input_usd REAL,
        cost_output_usd REAL,
        cost_total_usd REAL,
        cost_source TEXT,
        ttft_s REAL,
        prompt_name TEXT,
        prompt_version TEXT,
        user_id TEXT,
        session_id TEXT,
        feature TEXT,
        quality_flags TEXT,
        safety_flags TEXT,
        input_messages TEXT,
        output_messages TEXT,
        attributes TEXT NOT NULL,
        UNIQUE (span_id, trace_id)
    );
    CREATE INDEX spans_time ON spans (start_time_ns);
    """,
    # 2: indexes for the report, only over model calls (the condition every report query states), each covering
    # the columns its query reads, so the report reads indexes rather than rows
    """
    CREATE INDEX calls_latency ON spans (request_model, status, duration_s)
        WHERE kind = 'CLIENT' AND operation IS NOT NULL;
    CREATE INDEX calls_by_model ON spans (
        request_model, status, input_tokens, output_tokens, cost_total_usd, usage_estimated, cost_source
    ) WHERE kind = 'CLIENT' AND operation IS NOT NULL;
    CREATE INDEX calls_ttft ON spans (request_model, status, ttft_s)
        WHERE kind = 'CLIENT' AND operation IS NOT NULL AND ttft_s IS NOT NULL;
    CREATE INDEX calls_cost ON spans (cost_total_usd)
        WHERE kind = 'CLIENT' AND operation IS NOT NULL AND cost_total_usd IS NOT NULL;
    CREATE INDEX calls_time ON spans (start_time_ns, cost_total_usd)
        WHERE kind = 'CLIENT' AND operation IS NOT NULL;
    CREATE INDEX calls_prompt ON spans (prompt_name, prompt_version, cost_total_usd)
        WHERE kind = 'CLIENT' AND operation IS NOT NULL AND prompt_name IS NOT NULL;
    CREATE INDEX calls_errors ON spans (error_type, request_model)
        WHERE kind = 'CLIENT' AND operation IS NOT NULL AND status = 'error';
    CREATE INDEX calls_unpriced ON spans (response_model, request_model)
        WHERE kind = 'CLIENT' AND operation IS NOT NULL AND cost_source = 'unknown';
    CREATE INDEX calls_flags ON spans (start_time_ns)
        WHERE kind = 'CLIENT' AND operation IS NOT NULL AND (quality_flags IS NOT NULL OR safety_flags IS NOT NULL);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The store cannot be used (it is newer than this llmwatch, or cannot be created)."""


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating and migrating when writable) the store at ``path``."""
    if readonly:
        if not path.exists():
            raise StoreError(f"no llmwatch store at {path}")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10, check_same_thread=False)
        _check(conn, path)
        return conn
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # private from the start: it may hold prompts
    try:
        conn = _open_writable(path)
    except sqlite3.DatabaseError as exc:
        moved = _move_aside(path)
        logger.warning(
            "llmwatch: %s is not a usable llmwatch store (%s); moved it to %s and started a new store", path, exc, moved
        )
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = _open_writable(path)
    return conn


def _open_writable(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=10, check_same_thread=False, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")  # several processes may write, readers never block writers
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -32768")  # 32 MiB: index pages stay cached between batches
        _migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _check(conn: sqlite3.Connection, path: Path) -> int:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
        raise sqlite3.DatabaseError(f"foreign SQLite database (application_id {app_id}, {tables} tables)")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}, newer than this llmwatch understands ({SCHEMA_VERSION}): "
            "upgrade llmwatch, or point LLMWATCH_STORE elsewhere"
        )
    return version


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait and then see the new version
    try:
        version = _check(conn, path)
        for step in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[step].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step + 1}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _move_aside(path: Path) -> Path:
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(Path(f"{target}{suffix}"))
    return target
