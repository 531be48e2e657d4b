"""Dollar cost of a call, from its real usage and a price per million tokens of each kind.

Prices come from the user's overrides first (``instrument(prices=...)`` / ``LLMWATCH_PRICES``), else from the
offline snapshot shipped in the ``genai-prices`` package (never updated over the network unless the user opts in
with ``LLMWATCH_PRICES_AUTO_UPDATE``). A model's rates are resolved once per (provider, model, service tier) and
cached, so pricing a call is arithmetic only. A model with no known price gets no cost (never $0) and one warning.

Token maths (GenAI conventions): ``input_tokens`` includes cache reads and writes, ``output_tokens`` includes
reasoning tokens. Each subset is priced at its own rate and the rest at the plain rate, so nothing is counted
twice.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmwatch.record import Call

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

logger = logging.getLogger("llmwatch")

SOURCE_OVERRIDE = "override"
SOURCE_PACKAGE = "genai-prices"
SOURCE_UNKNOWN = "unknown"

#: GenAI ``gen_ai.provider.name`` -> genai-prices provider id.
_PROVIDER_IDS = {
    "openai": "openai",
    "azure.ai.openai": "azure",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "groq": "groq",
    "mistral_ai": "mistral",
    "x_ai": "x-ai",
    "deepseek": "deepseek",
    "cohere": "cohere",
    "perplexity": "perplexity",
    "moonshot_ai": "moonshotai",
    "together_ai": "together",
    "openrouter": "openrouter",
    "fireworks_ai": "fireworks",
}


class PriceOverride(BaseModel):
    """Rates for one model, in USD per million tokens. Unset subsets are priced at the plain rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(default=0.0, ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    reasoning: float | None = Field(default=None, ge=0)
    input_audio: float | None = Field(default=None, ge=0)
    output_audio: float | None = Field(default=None, ge=0)


class PricesError(ValueError):
    """A price override (argument or file) is invalid; the message names the file, line or field."""


@dataclass(frozen=True, slots=True)
class Tiered:
    """A rate that changes for the whole call once total input tokens pass a threshold (provider 'cliff')."""

    base: float
    tiers: tuple[tuple[int, float], ...]

    def at(self, total_input: int) -> float:
        for start, price in reversed(self.tiers):
            if total_input > start:
                return price
        return self.base


Rate = float | Tiered


@dataclass(frozen=True, slots=True)
class Rates:
    """Resolved USD-per-million-token rates of one model; None = billed at the plain input/output rate."""

    input: Rate
    output: Rate
    cache_read: Rate | None = None
    cache_write: Rate | None = None
    reasoning: Rate | None = None
    input_audio: Rate | None = None
    output_audio: Rate | None = None
    source: str = SOURCE_PACKAGE
    #: What matched, for ``llmwatch prices``: e.g. ``openai/gpt-4o-mini`` or the override key.
    matched: str = ""


@dataclass(frozen=True, slots=True)
class Cost:
    input_usd: float
    output_usd: float

    @property
    def total_usd(self) -> float:
        return self.input_usd + self.output_usd


def cost_of(call: Call, rates: Rates) -> Cost:
    """The call's cost at ``rates``: each token subset at its own rate, the remainder at the plain rate."""
    usage = call.usage
    total_in = usage.input_tokens or 0
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_write_input_tokens or 0
    audio_in = usage.input_audio_tokens or 0
    plain_in = max(total_in - cache_read - cache_write - audio_in, 0)
    total_out = usage.output_tokens or 0
    reasoning = usage.reasoning_output_tokens or 0
    audio_out = usage.output_audio_tokens or 0
    plain_out = max(total_out - reasoning - audio_out, 0)

    def rate(value: Rate | None, fallback: Rate) -> float:
        chosen = fallback if value is None else value
        return chosen.at(total_in) if isinstance(chosen, Tiered) else chosen

    input_usd = (
        plain_in * rate(rates.input, rates.input)
        + cache_read * rate(rates.cache_read, rates.input)
        + cache_write * rate(rates.cache_write, rates.input)
        + audio_in * rate(rates.input_audio, rates.input)
    ) / 1e6
    output_usd = (
        plain_out * rate(rates.output, rates.output)
        + reasoning * rate(rates.reasoning, rates.output)
        + audio_out * rate(rates.output_audio, rates.output)
    ) / 1e6
    return Cost(input_usd, output_usd)


def load_overrides(value: dict[str, Any] | str | Path | None) -> dict[str, Rates]:
    """Validate overrides given as a mapping, or a .json / .toml file path. Raises PricesError."""
    if value is None:
        return {}
    where = "prices="
    if isinstance(value, str | Path):
        path = Path(value)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PricesError(f"llmwatch: cannot read price file {path}: {exc.strerror or exc}") from exc
        try:
            data: Any = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        except json.JSONDecodeError as exc:
            raise PricesError(
                f"llmwatch: {path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise PricesError(f"llmwatch: {path}: invalid TOML: {exc}") from exc
        value = data
    if not isinstance(value, dict):
        raise PricesError(f"llmwatch: {where}: expected a mapping of model name -> rates")
    result: dict[str, Rates] = {}
    for model, raw in value.items():
        try:
            parsed = PriceOverride.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{model}.{'.'.join(map(str, e['loc'])) or '(rates)'}: {e['msg']}" for e in exc.errors()
            )
            raise PricesError(f"llmwatch: {where}: invalid price for model {model!r}: {problems}") from None
        result[str(model)] = Rates(
            input=parsed.input,
            output=parsed.output,
            cache_read=parsed.cache_read,
            cache_write=parsed.cache_write,
            reasoning=parsed.reasoning,
            input_audio=parsed.input_audio,
            output_audio=parsed.output_audio,
            source=SOURCE_OVERRIDE,
            matched=str(model),
        )
    return result


_MISSING = object()
#: Models already warned about as unpriced: one warning per model per process, across re-instrumentation.
_warned: set[str] = set()


class PriceBook:
    """Resolves a call's model to its rates (overrides, then the genai-prices snapshot) and caches the answer."""

    def __init__(self, overrides: dict[str, Rates] | None = None) -> None:
        self.overrides = overrides or {}
        self._cache: dict[tuple[str, str | None, str | None, str | None], Rates | None] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(call: Call) -> tuple[str, str | None, str | None, str | None]:
        return (call.provider, call.response_model, call.request_model, call.response_service_tier)

    def is_resolved(self, call: Call) -> bool:
        """True when pricing this call is arithmetic only (its model was looked up before)."""
        return self._key(call) in self._cache

    def rates_for(self, call: Call) -> Rates | None:
        """The call's rates, or None (with one warning per model) when no price is known."""
        key = self._key(call)
        cached = self._cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        rates = self._resolve(call)
        with self._lock:
            self._cache[key] = rates
            model = call.response_model or call.request_model or "(no model)"
            first = rates is None and model not in _warned
            if first:
                _warned.add(model)
        if first:
            logger.warning(
                "llmwatch: no price known for model %r (provider %s); its calls carry llmwatch.cost.source=unknown "
                "and no cost. Add it with instrument(prices=...) or LLMWATCH_PRICES.",
                model,
                call.provider,
            )
        return rates

    def _resolve(self, call: Call) -> Rates | None:
        names = [m for m in (call.response_model, call.request_model) if m]
        for name in names:
            override = self.overrides.get(name) or next(
                (r for key, r in self.overrides.items() if name.startswith(key + "-")), None
            )
            if override is not None:
                return override
        for name in names:
            rates = package_rates(call.provider, name, call.response_service_tier)
            if rates is not None:
                return rates
        return None


def package_rates(provider: str, model: str, service_tier: str | None = None) -> Rates | None:
    """Rates from the genai-prices offline snapshot, or None when it does not know the model."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    provider_id = _PROVIDER_IDS.get(provider)
    found = None
    for candidate in (provider_id, None) if provider_id else (None,):
        try:
            found = snapshot.find_provider_model(model, None, candidate, None)
            break
        except LookupError:
            continue
    if found is None:
        return None
    provider_info, model_info = found
    context = {"service_tier": service_tier} if service_tier else None
    price = model_info.get_prices(datetime.now(timezone.utc), context)

    def rate(name: str) -> Rate | None:
        value = getattr(price, name, None)
        if value is None:
            return None
        if hasattr(value, "tiers"):
            return Tiered(float(value.base), tuple((int(t.start), float(t.price)) for t in value.tiers))
        return float(value)

    input_rate = rate("input_mtok")
    if input_rate is None:
        return None
    return Rates(
        input=input_rate,
        output=rate("output_mtok") or 0.0,
        cache_read=rate("cache_read_mtok"),
        cache_write=rate("cache_write_mtok"),
        input_audio=rate("input_audio_mtok"),
        output_audio=rate("output_audio_mtok"),
        source=SOURCE_PACKAGE,
        matched=f"{provider_info.id}/{model_info.id}",
    )


def warm_up() -> None:
    """Import genai-prices and load its snapshot (call from a background thread at start-up)."""
    from genai_prices import data_snapshot

    data_snapshot.get_snapshot()


def start_auto_update() -> None:
    """Opt-in only: let genai-prices refresh its price data from the internet in the background."""
    from genai_prices import UpdatePrices

    UpdatePrices().start()
