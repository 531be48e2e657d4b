"""``llmwatch report``: read the local store, print or write the report."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TextIO

from llmwatch.exporters.local import default_store_path
from llmwatch.report.build import build_report
from llmwatch.report.render import render
from llmwatch.store.retention import parse_instant
from llmwatch.store.schema import StoreError, connect


def run_report(
    *,
    store: str | None,
    since: str | None,
    until: str | None,
    by: str,
    top: int,
    fmt: str,
    output: str | None,
    out: TextIO,
) -> int:
    """Build and render the report; returns the exit status (2 for a missing or unreadable store)."""
    path = Path(store) if store else default_store_path()
    try:
        window: tuple[datetime | None, datetime | None] = (
            parse_instant(since) if since else None,
            parse_instant(until) if until else None,
        )
    except ValueError as exc:
        out.write(f"llmwatch report: {exc}\n")
        return 2
    try:
        conn = connect(path, readonly=True)
    except (StoreError, sqlite3.Error) as exc:
        out.write(f"llmwatch report: cannot read the store {path}: {exc}\n")
        return 2
    try:
        report = build_report(conn, store=str(path), since=window[0], until=window[1], by=by, top=top)
    finally:
        conn.close()
    text = render(report, fmt)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        out.write(f"wrote the {fmt} report to {output}\n")
    else:
        out.write(text)
    return 0
