"""Settings: every option of :func:`llmwatch.instrument`, its environment variables, default and meaning.

Precedence for each option: the argument passed to ``instrument()``, else the first environment variable set
(in the order listed), else the default. ``docs/configuration.md`` is generated from the same table.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

logger = logging.getLogger("llmwatch")

#: Exporter names accepted in ``exporters=`` and ``LLMWATCH_EXPORTERS``.
EXPORTER_NAMES = ("local", "otlp", "console")
#: Default cap on each captured text part, in characters.
DEFAULT_CONTENT_MAX_CHARS = 8192

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# util-genai content modes (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)
_CONTENT_MODES_ON = {"span_only", "span_and_event", "event_only"}
_CONTENT_MODES_OFF = {"no_content"}


@dataclass(frozen=True)
class Option:
    """How one setting is named and documented."""

    env: tuple[str, ...]
    doc: str


#: The documented table of options: argument name -> environment variables and description.
OPTIONS: dict[str, Option] = {
    "service_name": Option(
        ("OTEL_SERVICE_NAME",), "Service name on the resource, when llmwatch builds the TracerProvider."
    ),
    "exporters": Option(
        ("LLMWATCH_EXPORTERS",),
        "Where spans go: a list of 'local', 'otlp', 'console' or SpanExporter instances (env: comma-separated). "
        "Default: 'otlp' when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, "
        "else 'local' (the local store). With an application-owned global TracerProvider, no exporter is added "
        "unless given.",
    ),
    "store": Option(
        ("LLMWATCH_STORE",),
        "Path of the local store (SQLite) used by the 'local' exporter; default ./.llmwatch/llmwatch.db.",
    ),
    "retention": Option(
        ("LLMWATCH_RETENTION",),
        "How much the local store keeps: an age (30d), a size (500MB), both (30d,500MB) or 'none'; default 30d.",
    ),
    "providers": Option(
        ("LLMWATCH_PROVIDERS",),
        "Which provider SDKs to instrument (env: comma-separated). Default: every supported SDK installed.",
    ),
    "capture_content": Option(
        ("LLMWATCH_CAPTURE_CONTENT", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"),
        "Record prompts and completions on spans. Default: on when every exporter is the local store, off "
        "otherwise (otlp, console and custom exporters may send data out of the process). "
        "The OTEL variable also accepts util-genai's modes: SPAN_ONLY/SPAN_AND_EVENT/EVENT_ONLY = on, "
        "NO_CONTENT = off.",
    ),
    "content_max_chars": Option(
        ("LLMWATCH_CONTENT_MAX_CHARS",),
        f"Longest captured text part, in characters (default {DEFAULT_CONTENT_MAX_CHARS}); longer text is cut "
        "and ends with a '…[truncated N chars]' marker.",
    ),
    "sample_rate": Option(
        ("LLMWATCH_SAMPLE_RATE",),
        "Share of traces recorded, 0..1 (default 1.0), parent-based; applies when llmwatch builds the TracerProvider.",
    ),
    "redact": Option((), "A callable(str) -> str applied to every captured text before it is recorded."),
    "prices": Option(
        ("LLMWATCH_PRICES",),
        "Price overrides in USD per million tokens: a mapping model -> {input, output, cache_read, cache_write, "
        "reasoning, input_audio, output_audio}, or a .json/.toml file of the same (env: the file path).",
    ),
    "prices_auto_update": Option(
        ("LLMWATCH_PRICES_AUTO_UPDATE",),
        "Let genai-prices refresh its price data from the internet in the background (off: the offline snapshot "
        "shipped with the package is used).",
    ),
    "metrics_semconv": Option(
        ("LLMWATCH_METRICS_SEMCONV",),
        "Which GenAI metric names to emit: 'v1.41' (default, gen_ai.client.operation.duration / token.usage) or "
        "'latest' (the gen_ai.client.inference.* set).",
    ),
    "meter_provider": Option((), "Use this MeterProvider instead of the global one (as OTel instrumentors do)."),
    "tracer_provider": Option((), "Use this TracerProvider instead of the global one (as OTel instrumentors do)."),
}


def default_service_name() -> str:
    """The running script's name, as OpenTelemetry SDKs do when OTEL_SERVICE_NAME is unset."""
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    stem = os.path.splitext(script)[0]
    return stem if stem and stem not in {"-c", "-m"} else "python"


class Settings(BaseModel):
    """Resolved, immutable settings of one ``instrument()`` call."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    service_name: str = Field(default_factory=default_service_name)
    exporters: tuple[Any, ...] | None = None
    providers: tuple[str, ...] | None = None
    capture_content: bool | None = None
    content_max_chars: int = Field(default=DEFAULT_CONTENT_MAX_CHARS, ge=16)
    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    redact: Callable[[str], str] | None = None
    prices: Any = None
    prices_auto_update: bool = False
    metrics_semconv: Literal["v1.41", "latest"] = "v1.41"
    tracer_provider: Any = None
    meter_provider: Any = None
    store: str | None = None
    retention: str | None = None

    @field_validator("exporters", mode="before")
    @classmethod
    def _check_exporters(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = _split(value)
        items = tuple(value)
        for item in items:
            if isinstance(item, str) and item not in EXPORTER_NAMES:
                raise ValueError(f"unknown exporter {item!r}; expected one of {', '.join(EXPORTER_NAMES)}")
            if not isinstance(item, str) and not hasattr(item, "export"):
                raise ValueError(f"exporter {item!r} is neither a name nor a SpanExporter")
        return items

    @field_validator("providers", mode="before")
    @classmethod
    def _check_providers(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = _split(value)
        return tuple(str(v).strip().lower() for v in value)

    @field_validator("capture_content", mode="before")
    @classmethod
    def _check_capture(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_capture_content(value)
        return value

    @classmethod
    def resolve(cls, **arguments: Any) -> Settings:
        """Build settings from ``instrument()`` arguments (None = not given) and the environment."""
        values: dict[str, Any] = {}
        for name, option in OPTIONS.items():
            value = arguments.get(name)
            if value is None:
                value = _from_env(option.env)
            if value is not None:
                values[name] = value
        return cls(**values)

    def exporters_for_new_provider(self) -> tuple[Any, ...]:
        """The exporters to attach when llmwatch builds the TracerProvider itself."""
        if self.exporters is not None:
            return self.exporters
        if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            return ("otlp",)
        return ("local",)

    def metric_exporters(self) -> tuple[str, ...]:
        """Exporter names that also carry metrics: those asked for, else OTLP when an endpoint is set.

        The automatic console fallback is for spans only: printing metrics every minute would be noise.
        """
        if os.environ.get("OTEL_METRICS_EXPORTER", "").strip().lower() == "none":
            return ()  # the standard switch: no metrics exported (e.g. a trace-only backend such as Jaeger)
        if self.exporters is not None:
            return tuple(e for e in self.exporters if e in ("otlp", "console"))  # the store keeps spans only
        if os.environ.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            return ("otlp",)
        return ()

    def content_enabled(self, exporters: tuple[Any, ...]) -> bool:
        """The explicit setting, else on only when every exporter in use keeps data on this machine."""
        if self.capture_content is not None:
            return self.capture_content
        return bool(exporters) and all(e == "local" for e in exporters)


def parse_capture_content(raw: str) -> bool | None:
    """Parse a capture-content environment value; None (with a warning) when it is not understood."""
    value = raw.strip().lower()
    if value in _TRUE or value in _CONTENT_MODES_ON:
        return True
    if value in _FALSE or value in _CONTENT_MODES_OFF:
        return False
    if value:
        logger.warning("llmwatch: ignoring unrecognised capture-content value %r", raw)
    return None


def _from_env(names: Sequence[str]) -> str | None:
    for name in names:
        raw = os.environ.get(name)
        if raw is not None and raw.strip():
            return raw.strip()
    return None


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]
