"""The `llmwatch` command: the demo records a realistic workload and its report matches the stored rows."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from llmwatch.cli import main


def test_demo_records_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "demo.db"

    assert main(["demo", "--calls", "60", "--store", str(store), "--format", "json"]) == 0

    out = capsys.readouterr().out
    report = __import__("json").JSONDecoder().raw_decode(out)[0]
    with sqlite3.connect(store) as conn:
        calls, errors, cost, users, prompts = conn.execute(
            "SELECT count(*), sum(status = 'error'), sum(cost_total_usd), count(DISTINCT user_id), "
            "count(DISTINCT prompt_name) FROM spans WHERE kind = 'CLIENT'"
        ).fetchone()
    assert calls == report["overview"]["calls"] == 60
    assert errors == report["overview"]["errors"] > 0
    assert abs(cost - report["overview"]["cost_usd"]) < 1e-12
    assert users == 3 and prompts == 2
    assert [u["model"] for u in report["unpriced_models"]] == ["ft:acme-support-v2"]
    assert {"pii.email", "truncated"} <= {f["flag"] for f in report["flagged"]}
    assert re.search(rf"Recorded in {re.escape(str(store))}", out)
