"""``opentelemetry-instrument python app.py`` support: a BaseInstrumentor registered as an entry point."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from llmwatch import _setup


class LLMWatchInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments every supported LLM SDK that is installed, with the tracer provider OTel configured."""

    def instrumentation_dependencies(self) -> Collection[str]:
        # Each provider SDK is optional and checked when patching, so there is nothing to require here.
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        _setup.instrument(tracer_provider=kwargs.get("tracer_provider"))

    def _uninstrument(self, **kwargs: Any) -> None:
        _setup.uninstrument()
