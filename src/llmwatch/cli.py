"""The ``llmwatch`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from llmwatch._version import __version__

# names only: the report modules themselves are imported when a command runs
FORMATS = ("table", "json", "markdown", "html")
GROUPS = ("model", "provider", "prompt", "user", "feature")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``llmwatch`` command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="llmwatch", description="Observability for LLM calls.")
    parser.add_argument("--version", action="version", version=f"llmwatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run a realistic offline workload through the real openai client and show what was recorded"
    )
    demo.add_argument("--calls", type=int, default=200, help="number of model calls (default 200)")
    demo.add_argument("--seed", type=int, default=7, help="workload seed (default 7)")
    demo.add_argument("--store", help="store to record into (default: a new one in a temporary folder)")
    demo.add_argument("--format", choices=FORMATS, default="table", help="report format (default table)")
    report = commands.add_parser("report", help="what the local store says: cost, latency, failures, flags")
    report.add_argument("--store", help="store path (default $LLMWATCH_STORE, else ./.llmwatch/llmwatch.db)")
    report.add_argument("--since", help="start of the window: 24h, 7d or an ISO date/time (default: all)")
    report.add_argument("--until", help="end of the window, same forms (default: now)")
    report.add_argument("--by", choices=list(GROUPS), default="model", help="how to group costs (default model)")
    report.add_argument("--top", type=int, default=10, help="how many expensive calls and prompts (default 10)")
    report.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    report.add_argument("-o", "--output", help="write to this file instead of standard output")
    prices = commands.add_parser("prices", help="show the per-million-token rates llmwatch uses, and their source")
    prices.add_argument("model", nargs="?", help="a model name (default: list the overrides in use)")
    prices.add_argument("--provider", default="openai", help="gen_ai.provider.name to look up (default openai)")
    prices.add_argument("--prices", dest="prices_file", help="a price override file (default: $LLMWATCH_PRICES)")
    tail = commands.add_parser("tail", help="one line per model call as it lands in the local store")
    tail.add_argument("--store", help="store path (default $LLMWATCH_STORE, else ./.llmwatch/llmwatch.db)")
    tail.add_argument("-n", "--lines", type=int, default=20, help="recent calls to show first (default 20)")
    tail.add_argument("--no-follow", dest="follow", action="store_false", help="print and exit")
    tail.add_argument("--interval", type=float, default=0.5, help="seconds between checks (default 0.5)")
    args = parser.parse_args(argv)

    if args.command == "tail":
        from llmwatch._tail_command import run_tail

        return run_tail(store=args.store, lines=args.lines, follow=args.follow, interval=args.interval, out=sys.stdout)

    if args.command == "prices":
        from llmwatch._prices_command import show_prices

        return show_prices(args.model, provider=args.provider, prices_file=args.prices_file, out=sys.stdout)

    if args.command == "demo":
        from llmwatch._demo import run_demo

        return run_demo(calls=args.calls, seed=args.seed, store=args.store, fmt=args.format, out=sys.stdout)
    if args.command == "report":
        from llmwatch._report_command import run_report

        return run_report(
            store=args.store, since=args.since, until=args.until, by=args.by, top=args.top, fmt=args.format,
            output=args.output, out=sys.stdout,
        )  # fmt: skip
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
