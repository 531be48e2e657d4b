"""``llmwatch tail``: one line per model call as it lands in the local store."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TextIO

from llmwatch.exporters.local import default_store_path
from llmwatch.store.schema import StoreError, connect

_QUERY = (
    "SELECT start_time_ns, span_id, name, status, error_type, input_tokens, output_tokens, usage_estimated, "
    "cost_total_usd, duration_s, ttft_s, user_id, prompt_name FROM spans "
    "WHERE kind = 'CLIENT' AND operation IS NOT NULL AND (start_time_ns, span_id) > (?, ?) "
    "ORDER BY start_time_ns, span_id LIMIT 500"
)


def format_line(row: tuple[object, ...]) -> str:
    """``12:03:04  chat gpt-4o-mini  812 ms  ttft 95 ms  1,204->311 tok  $0.000367  user=u1 prompt=faq``."""
    start, _, name, status, error, tin, tout, estimated, cost, duration, ttft, user, prompt = row
    clock = time.strftime("%H:%M:%S", time.localtime(int(start) / 1e9))  # type: ignore[call-overload]
    parts = [clock, f"{name:<32}", f"{float(duration) * 1000:7.0f} ms"]  # type: ignore[arg-type]
    parts.append(f"ttft {float(ttft) * 1000:.0f} ms" if ttft is not None else "")  # type: ignore[arg-type]
    parts.append(f"{tin or 0:,}->{tout or 0:,} tok{'~' if estimated else ''}")
    parts.append(f"${cost:.6f}" if cost is not None else "$?")
    parts.append(f"ERROR {error}" if status == "error" else "")
    parts.append(" ".join(f"{k}={v}" for k, v in (("user", user), ("prompt", prompt)) if v))
    return "  ".join(p for p in parts if p)


def run_tail(*, store: str | None, lines: int, follow: bool, interval: float, out: TextIO) -> int:
    """Print the last ``lines`` calls, then (with ``follow``) each new one until interrupted."""
    path = Path(store) if store else default_store_path()
    try:
        conn = connect(path, readonly=True)
    except (StoreError, sqlite3.Error) as exc:
        out.write(f"llmwatch tail: cannot read the store {path}: {exc}\n")
        return 2
    last = conn.execute(
        _QUERY.replace("> (?, ?)", ">= (0, '')").replace(
            "ORDER BY start_time_ns, span_id LIMIT 500", "ORDER BY start_time_ns DESC, span_id DESC LIMIT ?"
        ),
        (max(lines, 0),),
    ).fetchall()
    for row in reversed(last):
        out.write(format_line(row) + "\n")
    cursor: tuple[int, str] = (last[0][0], last[0][1]) if last else (0, "")
    try:
        while True:
            if not follow:
                return 0
            rows = conn.execute(_QUERY, cursor).fetchall()
            for row in rows:
                out.write(format_line(row) + "\n")
                cursor = (row[0], row[1])
            out.flush()
            if not rows:
                time.sleep(interval)
    except KeyboardInterrupt:
        return 0
    finally:
        conn.close()
