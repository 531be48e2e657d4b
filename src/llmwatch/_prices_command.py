"""``llmwatch prices [MODEL]``: the rates llmwatch would use for a model, and where they come from."""

from __future__ import annotations

import os
from typing import TextIO

from llmwatch import pricing
from llmwatch.record import Call

_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning", "input_audio", "output_audio")


def _format(rate: pricing.Rate | None) -> str:
    if rate is None:
        return "-"
    if isinstance(rate, pricing.Tiered):
        tiers = ", ".join(f"${price:g} above {start:,} input tokens" for start, price in rate.tiers)
        return f"${rate.base:g} ({tiers})"
    return f"${rate:g}"


def _print_rates(rates: pricing.Rates, out: TextIO) -> None:
    out.write(f"source: {rates.source} ({rates.matched})\n")
    out.write("USD per million tokens (- = billed at the plain input/output rate):\n")
    for name in _FIELDS:
        out.write(f"  {name:<13} {_format(getattr(rates, name))}\n")


def show_prices(model: str | None, *, provider: str, prices_file: str | None, out: TextIO) -> int:
    """Print the rates for ``model`` (or every override); returns the exit status (1 = unknown model)."""
    source = prices_file or os.environ.get("LLMWATCH_PRICES")
    try:
        overrides = pricing.load_overrides(source)
    except pricing.PricesError as exc:
        out.write(f"{exc}\n")
        return 2
    if model is None:
        if not overrides:
            out.write("No price overrides in use (set LLMWATCH_PRICES or pass --prices); prices come from the\n")
            out.write("genai-prices offline snapshot. Name a model to see its rates: llmwatch prices gpt-4o-mini\n")
            return 0
        for name, override in overrides.items():
            out.write(f"{name}\n")
            _print_rates(override, out)
        return 0
    rates = pricing.PriceBook(overrides).rates_for(Call(operation="chat", provider=provider, request_model=model))
    out.write(f"{model} ({provider})\n")
    if rates is None:
        out.write("source: unknown: no price known. Calls to it get llmwatch.cost.source=unknown and no cost.\n")
        return 1
    _print_rates(rates, out)
    return 0
