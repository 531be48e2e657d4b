"""The ``llmwatch`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from llmwatch._version import __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``llmwatch`` command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="llmwatch", description="Observability for LLM calls.")
    parser.add_argument("--version", action="version", version=f"llmwatch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run a realistic offline workload through the real openai client and show what was recorded"
    )
    demo.add_argument("--calls", type=int, default=24, help="number of model calls (default 24)")
    demo.add_argument("--seed", type=int, default=7, help="workload seed (default 7)")
    prices = commands.add_parser("prices", help="show the per-million-token rates llmwatch uses, and their source")
    prices.add_argument("model", nargs="?", help="a model name (default: list the overrides in use)")
    prices.add_argument("--provider", default="openai", help="gen_ai.provider.name to look up (default openai)")
    prices.add_argument("--prices", dest="prices_file", help="a price override file (default: $LLMWATCH_PRICES)")
    args = parser.parse_args(argv)

    if args.command == "prices":
        from llmwatch._prices_command import show_prices

        return show_prices(args.model, provider=args.provider, prices_file=args.prices_file, out=sys.stdout)

    if args.command == "demo":
        from llmwatch._demo import run_demo

        return run_demo(calls=args.calls, seed=args.seed, out=sys.stdout)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
