"""Store queries -> a Report: the answers to "what does it cost, what is slow, what fails, what looks wrong".

SQL does the grouping and the ordering (with the store's indexes), so memory stays bounded however many rows
the store holds: only aggregates and the top N rows reach Python. Percentiles use the nearest-rank definition
(the smallest value with at least q of the calls at or below it), read with an indexed ORDER BY ... OFFSET.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

#: ``--by`` choices -> the SQL expression grouped on.
GROUPS = {
    "model": "request_model",
    "provider": "provider",
    "prompt": "prompt_name || coalesce('@' || prompt_version, '')",
    "user": "user_id",
    "feature": "feature",
}
SCHEMA = "llmwatch.report/1"
_MODEL_CALL = "kind = 'CLIENT' AND operation IS NOT NULL"


@dataclass
class Overview:
    calls: int
    errors: int
    error_rate: float
    input_tokens: int
    output_tokens: int
    cost_usd: float
    priced_calls: int
    unpriced_calls: int
    estimated_calls: int
    estimated_share: float


@dataclass
class Group:
    key: str
    calls: int
    errors: int
    input_tokens: int
    output_tokens: int
    #: None when no call of the group has a known price (never shown as free).
    cost_usd: float | None
    cost_share: float
    unpriced_calls: int


@dataclass
class CallRow:
    time: str
    span: str
    model: str | None
    prompt: str | None
    user: str | None
    cost_usd: float
    input_tokens: int | None
    output_tokens: int | None
    duration_s: float
    preview: str | None


@dataclass
class PromptRow:
    prompt: str
    calls: int
    cost_usd: float
    avg_cost_usd: float


@dataclass
class Latency:
    model: str
    calls: int
    p50_s: float
    p90_s: float
    p95_s: float
    p99_s: float
    ttft_calls: int
    ttft_p50_s: float | None
    ttft_p95_s: float | None


@dataclass
class Failure:
    error_type: str
    model: str | None
    count: int
    rate: float


@dataclass
class Flagged:
    flag: str
    count: int
    examples: list[str]


@dataclass
class TimePoint:
    start: str
    calls: int
    cost_usd: float


@dataclass
class Report:
    """Everything ``llmwatch report`` shows; ``to_json()`` is the documented, stable JSON schema."""

    schema: str
    store: str
    since: str | None
    until: str | None
    by: str
    overview: Overview
    groups: list[Group]
    top_calls: list[CallRow]
    top_prompts: list[PromptRow]
    latency: list[Latency]
    failures: list[Failure]
    unpriced_models: list[dict[str, Any]]
    flagged: list[Flagged]
    cost_over_time: list[TimePoint]
    savings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _window(since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]:
    clauses, params = [_MODEL_CALL], []
    if since is not None:
        clauses.append("start_time_ns >= ?")
        params.append(int(since.timestamp() * 1e9))
    if until is not None:
        clauses.append("start_time_ns < ?")
        params.append(int(until.timestamp() * 1e9))
    return " AND ".join(clauses), params


def nearest_rank(count: int, q: float) -> int:
    """0-based index of the q-quantile among ``count`` sorted values (nearest-rank)."""
    return max(0, math.ceil(q * count) - 1)


def build_report(
    conn: sqlite3.Connection,
    *,
    store: str,
    since: datetime | None = None,
    until: datetime | None = None,
    by: str = "model",
    top: int = 10,
) -> Report:
    """Run the report's queries over the model-call rows in the window."""
    if by not in GROUPS:
        raise ValueError(f"--by must be one of {', '.join(GROUPS)}")
    where, params = _window(since, until)

    def q(sql: str, extra: tuple[Any, ...] = ()) -> list[Any]:
        return conn.execute(sql.format(where=where), (*params, *extra)).fetchall()

    groups_rows = q(
        f"SELECT {GROUPS[by]} AS g, count(*), sum(status = 'error'), sum(input_tokens), sum(output_tokens), "
        "sum(cost_total_usd), count(cost_total_usd), sum(usage_estimated), sum(cost_source = 'unknown') "
        f"FROM spans {'INDEXED BY calls_by_model' if by == 'model' else ''} WHERE {{where}} GROUP BY g"
    )  # the one pass over the rows (by model: over its covering index); the overview is the sum of the groups
    calls = sum(r[1] for r in groups_rows)
    errors = sum(r[2] or 0 for r in groups_rows)
    cost = sum(r[5] or 0.0 for r in groups_rows)
    estimated = sum(r[7] or 0 for r in groups_rows)
    overview = Overview(
        calls, errors, errors / calls if calls else 0.0, sum(r[3] or 0 for r in groups_rows),
        sum(r[4] or 0 for r in groups_rows), cost, sum(r[6] for r in groups_rows),
        sum(r[8] or 0 for r in groups_rows), estimated, estimated / calls if calls else 0.0,
    )  # fmt: skip
    groups = sorted(
        (
            Group(
                key if key is not None else "(none)", n, e or 0, i or 0, o or 0, c,
                (c or 0.0) / cost if cost else 0.0, u or 0,
            )
            for key, n, e, i, o, c, _, _, u in groups_rows
        ),
        key=lambda g: (-(g.cost_usd if g.cost_usd is not None else -1.0), -g.calls),
    )  # fmt: skip
    top_calls = [
        CallRow(_iso(start), name, model, _prompt(pn, pv), user, c, i, o, d, _preview(messages))
        for start, name, model, pn, pv, user, c, i, o, d, messages in q(
            "SELECT start_time_ns, name, request_model, prompt_name, prompt_version, user_id, cost_total_usd, "
            "input_tokens, output_tokens, duration_s, input_messages FROM spans "
            "WHERE {where} AND cost_total_usd IS NOT NULL ORDER BY cost_total_usd DESC LIMIT ?",
            (top,),
        )
    ]
    top_prompts = [
        PromptRow(_prompt(name, version) or "", n, c, c / n)
        for name, version, n, c in q(
            "SELECT prompt_name, prompt_version, count(*), sum(cost_total_usd) FROM spans "
            "WHERE {where} AND prompt_name IS NOT NULL AND cost_total_usd IS NOT NULL "
            "GROUP BY prompt_name, prompt_version ORDER BY sum(cost_total_usd) DESC LIMIT ?",
            (top,),
        )
    ]
    ok_by_model = q("SELECT request_model, count(*) FROM spans WHERE {where} AND status = 'ok' GROUP BY request_model")
    latency = [_latency(q, model, n) for model, n in sorted(ok_by_model, key=lambda r: -r[1])]
    by_model = dict(q("SELECT request_model, count(*) FROM spans WHERE {where} GROUP BY request_model"))
    failures = [
        Failure(error_type, model, n, n / by_model.get(model, n))
        for error_type, model, n in q(
            "SELECT error_type, request_model, count(*) FROM spans WHERE {where} AND status = 'error' "
            "GROUP BY error_type, request_model ORDER BY count(*) DESC"
        )
    ]
    unpriced_models = [
        {"model": model, "calls": n}
        for model, n in q(
            "SELECT coalesce(response_model, request_model), count(*) FROM spans "
            "WHERE {where} AND cost_source = 'unknown' GROUP BY 1 ORDER BY 2 DESC"
        )
    ]
    return Report(
        SCHEMA, store, _iso_dt(since), _iso_dt(until), by, overview, groups, top_calls, top_prompts, latency,
        failures, unpriced_models, _flagged(q), _cost_over_time(q), _savings(),
    )  # fmt: skip


def _latency(q: Any, model: str | None, count: int) -> Latency:
    # the term order matches the covering indexes calls_latency / calls_ttft: (request_model, status, value)
    model_clause = "request_model IS ?" if model is None else "request_model = ?"

    def at(column: str, extra: str, n: int, quantile: float) -> float:
        rank = nearest_rank(n, quantile)
        # walk the index from whichever end is nearer: p99 of a million calls reads 1% of them, not 99%
        order, offset = ("DESC", n - 1 - rank) if rank > n // 2 else ("", rank)
        rows = q(
            f"SELECT {column} FROM spans WHERE {{where}}{extra} AND {model_clause} AND status = 'ok' "
            f"ORDER BY {column} {order} LIMIT 1 OFFSET ?",
            (model, offset),
        )
        return float(rows[0][0]) if rows else 0.0

    ttft = " AND ttft_s IS NOT NULL"
    ttft_n = q(f"SELECT count(*) FROM spans WHERE {{where}}{ttft} AND {model_clause} AND status = 'ok'", (model,))[0][0]
    return Latency(
        model or "(none)", count, at("duration_s", "", count, 0.5), at("duration_s", "", count, 0.9),
        at("duration_s", "", count, 0.95), at("duration_s", "", count, 0.99), ttft_n,
        at("ttft_s", ttft, ttft_n, 0.5) if ttft_n else None, at("ttft_s", ttft, ttft_n, 0.95) if ttft_n else None,
    )  # fmt: skip


def _flagged(q: Any) -> list[Flagged]:
    """Quality and safety flags with a few examples (the flags come from the evaluators, when enabled)."""
    counts: dict[str, Flagged] = {}
    for quality, safety, messages in q(
        "SELECT quality_flags, safety_flags, output_messages FROM spans WHERE {where} "
        "AND (quality_flags IS NOT NULL OR safety_flags IS NOT NULL) ORDER BY start_time_ns DESC LIMIT 10000"
    ):
        for raw in (quality, safety):
            for flag in json.loads(raw) if raw else []:
                entry = counts.setdefault(flag, Flagged(flag, 0, []))
                entry.count += 1
                preview = _preview(messages)
                if preview and preview not in entry.examples and len(entry.examples) < 3:
                    entry.examples.append(preview)
    return sorted(counts.values(), key=lambda f: -f.count)


def _cost_over_time(q: Any) -> list[TimePoint]:
    # two queries: SQLite answers a lone min() or max() from the index, not both at once
    bounds = (
        q("SELECT min(start_time_ns) FROM spans WHERE {where}")[0][0],
        q("SELECT max(start_time_ns) FROM spans WHERE {where}")[0][0],
    )
    if bounds[0] is None:
        return []
    span_ns = bounds[1] - bounds[0]
    bucket = 3_600 * 10**9 if span_ns <= 2 * 86_400 * 10**9 else 86_400 * 10**9
    if span_ns <= 3 * 3_600 * 10**9:
        bucket = 60 * 10**9 if span_ns > 3_600 * 10**9 else 10 * 10**9
    return [
        TimePoint(_iso(slot * bucket), n, c or 0.0)
        for slot, n, c in q(
            f"SELECT start_time_ns / {int(bucket)} AS slot, count(*), sum(cost_total_usd) "
            "FROM spans INDEXED BY calls_time WHERE {where} GROUP BY slot ORDER BY slot"
        )
    ]


def _savings() -> list[dict[str, Any]]:
    return []  # savings suggestions arrive with the savings advisor (cache hits, cheaper models, shorter prompts)


def _prompt(name: str | None, version: str | None) -> str | None:
    if name is None:
        return None
    return f"{name}@{version}" if version else name


def _preview(messages: str | None, limit: int = 80) -> str | None:
    if not messages:
        return None
    try:
        parsed = json.loads(messages)
    except ValueError:
        return None
    texts = [
        str(part.get("content", ""))
        for message in parsed
        if isinstance(message, dict) and message.get("role") in (None, "user", "assistant")
        for part in message.get("parts", [])
        if isinstance(part, dict) and part.get("type") == "text"
    ]
    text = " ".join(texts[-1:]).strip().replace("\n", " ")
    return (text[:limit] + "…") if len(text) > limit else (text or None)


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).isoformat(timespec="seconds")


def _iso_dt(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
