"""Developer tasks: `nox` runs the tests and the linters; `nox -s bench` runs the benchmarks."""

from __future__ import annotations

import os
import shutil

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

TEST_DEPS = ["pytest>=8", "pytest-asyncio>=0.24", "opentelemetry-distro"]


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, with LLMWATCH_STRICT=1 so llmwatch's own faults fail tests."""
    session.install("-e", ".[all]", *TEST_DEPS)
    _ensure_chromium(session)
    session.run("pytest", *session.posargs, env={"LLMWATCH_STRICT": "1"})


def _ensure_chromium(session: nox.Session) -> None:
    """The HTML report is checked in a real headless browser: Debian's chromium, installed when we can."""
    if shutil.which("chromium") or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    # a failed install must not fail the session: the browser test then says what is missing
    anything = list(range(256))
    session.run("apt-get", "update", "-qq", external=True, silent=True, success_codes=anything)
    session.run(
        "apt-get", "install", "-y", "-qq", "chromium",
        external=True, silent=True, success_codes=anything, env={"DEBIAN_FRONTEND": "noninteractive"},
    )  # fmt: skip


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on everything, mypy --strict on src/."""
    session.install("-e", ".[all]", "ruff>=0.6", "mypy>=1.11", *TEST_DEPS)
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("mypy", "--strict", "src/llmwatch")


@nox.session
def bench(session: nox.Session) -> None:
    """Overhead against the bare client in the same process (ratios), then local store ingest and report speed."""
    session.install("-e", ".[all]")
    session.run("python", "benchmarks/overhead.py", *session.posargs)
    session.run("python", "benchmarks/store.py")
