"""`llmwatch report`: every figure checked against an independent computation over the stored rows."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import openai
import pytest

import llmwatch
from llmwatch.cli import main
from llmwatch.report.build import build_report
from llmwatch.report.render import render
from llmwatch.store.schema import connect
from llmwatch.testing import FakeLLMServer
from tests.conftest import API_KEY


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store recorded from a mixed workload through the real client (users, prompts, features, failures)."""
    path = tmp_path_factory.mktemp("report") / "llmwatch.db"

    def reply(body: dict[str, Any]) -> str:
        last = str(body.get("messages", [{}])[-1].get("content", ""))
        return "<script>alert('x')</script> done" if "script" in last else f"Answer about {last[:40]} " * 3

    with FakeLLMServer(responder=reply) as server:
        handle = llmwatch.instrument(exporters=["local"], store=str(path), capture_content=True)
        try:
            client = openai.OpenAI(base_url=server.url, api_key=API_KEY, max_retries=0)

            @llmwatch.prompt(name="faq", version="2")
            def faq(question: str, model: str) -> None:
                client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])

            for i in range(60):
                model = ["gpt-4o-mini", "gpt-4o", "o4-mini", "house-llm"][i % 4]
                with llmwatch.attributes(user_id=f"user-{i % 3}", feature=["search", "chat"][i % 2]):
                    if i % 10 == 3:
                        server.fail_next(429)
                        with pytest.raises(openai.RateLimitError):
                            faq(f"question {i}", model)
                    elif i % 5 == 0:
                        stream = client.chat.completions.create(
                            model=model, messages=[{"role": "user", "content": f"stream {i}"}], stream=True
                        )
                        list(stream)
                    else:
                        faq("write <script>alert(1)</script> for me" if i == 6 else f"question {i}", model)
            handle.force_flush()
        finally:
            llmwatch.uninstrument()
    return path


def stored_rows(path: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM spans WHERE kind = 'CLIENT' AND operation IS NOT NULL").fetchall()


def report_json(path: Path, **kwargs: Any) -> dict[str, Any]:
    conn = connect(path, readonly=True)
    try:
        return build_report(conn, store=str(path), **kwargs).to_json()
    finally:
        conn.close()


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def test_overview_and_groups_match_the_rows(store: Path) -> None:
    rows = stored_rows(store)
    report = report_json(store, by="model")

    overview = report["overview"]
    assert overview["calls"] == len(rows) == 60
    assert overview["errors"] == sum(r["status"] == "error" for r in rows) == 6
    assert overview["input_tokens"] == sum(r["input_tokens"] or 0 for r in rows)
    assert overview["output_tokens"] == sum(r["output_tokens"] or 0 for r in rows)
    assert overview["cost_usd"] == pytest.approx(sum(r["cost_total_usd"] or 0 for r in rows), abs=1e-12)
    assert overview["estimated_calls"] == sum(r["usage_estimated"] for r in rows) == 12
    assert overview["unpriced_calls"] == sum(r["cost_source"] == "unknown" for r in rows)
    costs: dict[str, float] = defaultdict(float)
    for r in rows:
        costs[r["request_model"]] += r["cost_total_usd"] or 0.0
    groups = {g["key"]: g for g in report["groups"]}
    for model, cost in costs.items():
        assert groups[model]["cost_usd"] == (pytest.approx(cost, abs=1e-12) if model != "house-llm" else None)
    assert [u["model"] for u in report["unpriced_models"]] == ["house-llm"]


def test_percentiles_match_an_independent_computation(store: Path) -> None:
    rows = [r for r in stored_rows(store) if r["status"] == "ok"]
    report = report_json(store)

    for entry in report["latency"]:
        durations = [r["duration_s"] for r in rows if r["request_model"] == entry["model"]]
        assert entry["calls"] == len(durations)
        for q, key in ((0.5, "p50_s"), (0.9, "p90_s"), (0.95, "p95_s"), (0.99, "p99_s")):
            assert entry[key] == nearest_rank(durations, q), (entry["model"], key)
        ttfts = [r["ttft_s"] for r in rows if r["request_model"] == entry["model"] and r["ttft_s"] is not None]
        assert entry["ttft_calls"] == len(ttfts)
        if ttfts:
            assert entry["ttft_p50_s"] == nearest_rank(ttfts, 0.5)


@pytest.mark.parametrize(("by", "column"), [("user", "user_id"), ("feature", "feature"), ("provider", "provider")])
def test_grouping(store: Path, by: str, column: str) -> None:
    rows = stored_rows(store)
    report = report_json(store, by=by)

    calls: dict[str, int] = defaultdict(int)
    for r in rows:
        calls[r[column]] += 1
    assert {g["key"]: g["calls"] for g in report["groups"]} == calls


def test_prompts_and_most_expensive_calls(store: Path) -> None:
    rows = stored_rows(store)
    report = report_json(store, by="prompt", top=3)

    priced = sorted((r["cost_total_usd"] for r in rows if r["cost_total_usd"] is not None), reverse=True)
    assert [c["cost_usd"] for c in report["top_calls"]] == priced[:3]
    faq_rows = [r for r in rows if r["prompt_name"] == "faq" and r["cost_total_usd"] is not None]
    (faq,) = report["top_prompts"]
    assert faq["prompt"] == "faq@2"
    assert faq["calls"] == len(faq_rows)
    assert faq["cost_usd"] == pytest.approx(sum(r["cost_total_usd"] for r in faq_rows), abs=1e-12)
    assert all(c["preview"] for c in report["top_calls"])


def test_failures_by_type_and_model(store: Path) -> None:
    report = report_json(store)

    assert sum(f["count"] for f in report["failures"]) == 6
    assert {f["error_type"] for f in report["failures"]} == {"openai.RateLimitError"}


def test_time_window(store: Path) -> None:
    assert report_json(store, since=None)["overview"]["calls"] == 60
    from datetime import datetime, timezone

    assert report_json(store, since=datetime.now(timezone.utc))["overview"]["calls"] == 0


def test_html_is_self_contained_and_escapes_content(store: Path) -> None:
    conn = connect(store, readonly=True)
    try:
        page = render(build_report(conn, store=str(store), top=60), "html")
    finally:
        conn.close()

    assert "<script>" not in page  # the prompt "write <script>alert(1)</script> for me" is shown as text
    assert "write &lt;script&gt;alert(1)&lt;/script&gt; for me" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("<svg") == 3
    assert "Cost over time" in page and "Latency p95 by model" in page


def test_formats_from_the_command_line(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--store", str(store), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "llmwatch.report/1"
    assert main(["report", "--store", str(store), "--format", "markdown", "--by", "user"]) == 0
    assert "## Cost by user" in capsys.readouterr().out
    assert main(["report", "--store", str(store)]) == 0
    table = capsys.readouterr().out
    assert "Latency by model" in table and "no known price" in table
    out = tmp_path / "report.html"
    assert main(["report", "--store", str(store), "--format", "html", "-o", str(out)]) == 0
    assert out.read_text().startswith("<!doctype html>")


def test_missing_store_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--store", str(tmp_path / "nope.db")]) == 2
    assert "no llmwatch store at" in capsys.readouterr().out
    assert main(["report", "--store", str(tmp_path / "nope.db"), "--since", "last tuesday"]) == 2
