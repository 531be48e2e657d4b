"""Rendering a Report: a rich table for the terminal, JSON, Markdown, and one self-contained HTML file.

The HTML has no external resources (inline CSS and SVG charts) and escapes every value, so a completion
containing ``<script>`` renders as text.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Sequence
from typing import Any

from llmwatch.report.build import Report

FORMATS = ("table", "json", "markdown", "html")


def render(report: Report, fmt: str) -> str:
    """The report in ``fmt`` (table, json, markdown or html)."""
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(report)
    if fmt == "html":
        return _html(report)
    if fmt == "table":
        return _table(report)
    raise ValueError(f"--format must be one of {', '.join(FORMATS)}")


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.6f}" if value < 0.01 else f"${value:,.4f}"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _sections(report: Report) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every tabular section, shared by all text formats."""
    o = report.overview
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        (
            "Overview",
            ["calls", "errors", "input tokens", "output tokens", "cost", "estimated usage"],
            [
                [
                    f"{o.calls:,}",
                    f"{o.errors:,} ({_pct(o.error_rate)})",
                    f"{o.input_tokens:,}",
                    f"{o.output_tokens:,}",
                    _usd(o.cost_usd),
                    f"{o.estimated_calls:,} ({_pct(o.estimated_share)})",
                ]
            ],
        ),
        (
            f"Cost by {report.by}",
            [report.by, "calls", "errors", "input tokens", "output tokens", "cost", "share"],
            [
                [
                    g.key,
                    f"{g.calls:,}",
                    f"{g.errors:,}",
                    f"{g.input_tokens:,}",
                    f"{g.output_tokens:,}",
                    _usd(g.cost_usd) + (f" (+{g.unpriced_calls:,} unpriced)" if g.unpriced_calls else ""),
                    _pct(g.cost_share),
                ]
                for g in report.groups
            ],
        ),
        (
            "Most expensive calls",
            ["time", "span", "prompt", "user", "tokens in/out", "duration", "cost", "prompt preview"],
            [
                [
                    c.time,
                    c.span,
                    c.prompt or "-",
                    c.user or "-",
                    f"{c.input_tokens or 0:,}/{c.output_tokens or 0:,}",
                    _ms(c.duration_s),
                    _usd(c.cost_usd),
                    c.preview or "-",
                ]
                for c in report.top_calls
            ],
        ),
        (
            "Most expensive prompts",
            ["prompt", "calls", "cost", "cost per call"],
            [[p.prompt, f"{p.calls:,}", _usd(p.cost_usd), _usd(p.avg_cost_usd)] for p in report.top_prompts],
        ),
        (
            "Latency by model",
            ["model", "calls", "p50", "p90", "p95", "p99", "TTFT p50", "TTFT p95"],
            [
                [
                    m.model,
                    f"{m.calls:,}",
                    _ms(m.p50_s),
                    _ms(m.p90_s),
                    _ms(m.p95_s),
                    _ms(m.p99_s),
                    _ms(m.ttft_p50_s),
                    _ms(m.ttft_p95_s),
                ]
                for m in report.latency
            ],
        ),
        (
            "Failures",
            ["error type", "model", "count", "failure rate"],
            [[f.error_type, f.model or "-", f"{f.count:,}", _pct(f.rate)] for f in report.failures],
        ),
        (
            "Models with no known price (not counted as free)",
            ["model", "calls"],
            [[str(u["model"]), f"{u['calls']:,}"] for u in report.unpriced_models],
        ),
        (
            "Flagged responses",
            ["flag", "count", "examples"],
            [[f.flag, f"{f.count:,}", " | ".join(f.examples)] for f in report.flagged],
        ),
    ]
    return sections


_SAVINGS_NOTE = "Savings suggestions (caching, cheaper models, shorter prompts) arrive with the savings advisor."


def _table(report: Report) -> str:
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, width=160, color_system=None, legacy_windows=False)
    console.print(f"llmwatch report: {report.store}  window: {report.since or 'start'} .. {report.until or 'now'}")
    for title, header, rows in _sections(report):
        if not rows:
            continue
        table = Table(title=title, title_justify="left", show_lines=False, min_width=len(title) + 2)
        for column in header:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    console.print(_SAVINGS_NOTE)
    return buffer.getvalue()


def _markdown(report: Report) -> str:
    out = [
        f"# llmwatch report\n\nStore `{report.store}`, window {report.since or 'start'} .. {report.until or 'now'}.\n"
    ]
    for title, header, rows in _sections(report):
        out.append(f"\n## {title}\n")
        if not rows:
            out.append("\nNone.\n")
            continue
        out.append("\n| " + " | ".join(header) + " |\n| " + " | ".join("---" for _ in header) + " |\n")
        for row in rows:
            out.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |\n")
    out.append(f"\n## Savings\n\n{_SAVINGS_NOTE}\n")
    return "".join(out)


def _bars(title: str, labels: Sequence[str], values: Sequence[float], fmt: Any, color: str) -> str:
    """A horizontal bar chart as inline SVG."""
    if not values:
        return ""
    width, row_h, label_w = 760, 22, 220
    top = max(values) or 1.0
    height = row_h * len(values) + 30
    parts = [
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 20 + i * row_h
        bar = max(1.0, (width - label_w - 120) * value / top)
        parts.append(
            f'<text x="0" y="{y + 14}">{html.escape(label[:32])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{bar:.1f}" height="{row_h - 6}" fill="{color}"/>'
            f'<text x="{label_w + bar + 6:.1f}" y="{y + 14}">{html.escape(fmt(value))}</text>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)


def _line(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """A line chart of values over time, as inline SVG."""
    if len(values) < 2:
        return _bars(title, labels, values, _usd, "#4c78a8")
    width, height, pad = 760, 220, 40
    top = max(values) or 1.0
    step = (width - 2 * pad) / (len(values) - 1)
    points = " ".join(
        f"{pad + i * step:.1f},{height - pad - (height - 2 * pad) * v / top:.1f}" for i, v in enumerate(values)
    )
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">'
        f'<polyline fill="none" stroke="#e45756" stroke-width="2" points="{points}"/>'
        f'<text x="{pad}" y="{height - 8}">{html.escape(labels[0])}</text>'
        f'<text x="{width - pad}" y="{height - 8}" text-anchor="end">{html.escape(labels[-1])}</text>'
        f'<text x="{pad}" y="14">{html.escape(_usd(top))} max</text></svg></figure>'
    )


def _html(report: Report) -> str:
    priced = [g for g in report.groups if g.cost_usd is not None]  # unpriced groups are not drawn as $0
    charts = [
        _line("Cost over time", [p.start for p in report.cost_over_time], [p.cost_usd for p in report.cost_over_time]),
        _bars(f"Cost by {report.by}", [g.key for g in priced], [g.cost_usd or 0.0 for g in priced], _usd,
              "#4c78a8"),
        _bars("Latency p95 by model", [m.model for m in report.latency], [m.p95_s for m in report.latency], _ms,
              "#72b7b2"),
    ]  # fmt: skip
    body = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>llmwatch report</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}",
        "table{border-collapse:collapse;margin:0 0 1.5rem}",
        "th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:13px}th{background:#f4f4f4}",
        "figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:4px}",
        "</style></head><body>",
        "<h1>llmwatch report</h1>",
        f"<p>Store <code>{html.escape(report.store)}</code>, window "
        f"{html.escape(report.since or 'start')} .. {html.escape(report.until or 'now')}.</p>",
        *charts,
    ]
    for title, header, rows in _sections(report):
        body.append(f"<h2>{html.escape(title)}</h2>")
        if not rows:
            body.append("<p>None.</p>")
            continue
        body.append(
            "<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead><tbody>"
        )
        for row in rows:
            body.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>")
        body.append("</tbody></table>")
    body.append(f"<h2>Savings</h2><p>{html.escape(_SAVINGS_NOTE)}</p></body></html>\n")
    return "\n".join(body)
