"""The `llmwatch` command."""

from __future__ import annotations

import re

import pytest

from llmwatch.cli import main


def test_demo_runs_offline_and_reports_what_it_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--calls", "12", "--seed", "3"]) == 0

    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("chat ", "embeddings "))]
    assert len(rows) == 12
    summary = re.search(r"^12 calls, (\d+) failed, (\d+) input \+ (\d+) output tokens", out, re.MULTILINE)
    assert summary is not None
    assert int(summary.group(1)) == sum("ERROR" in row for row in rows)
    assert int(summary.group(2)) == sum(int(row.split()[2]) for row in rows)
    assert re.search(r"estimated cost \$\d+\.\d{6}", out)
    assert re.search(r"latency p50 [\d.]+ ms, p90 [\d.]+ ms, p95 [\d.]+ ms", out)
