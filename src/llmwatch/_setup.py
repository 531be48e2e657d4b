"""``instrument()`` / ``uninstrument()``: settings -> tracer provider and exporters -> pipeline -> patches."""

from __future__ import annotations

import atexit
import importlib
import logging
import threading
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, SamplingResult, TraceIdRatioBased

from llmwatch import pipeline, pricing, providers
from llmwatch._version import __version__
from llmwatch.config import Settings
from llmwatch.evaluators import builtin_evaluators
from llmwatch.exporters import build_exporter, build_metric_reader
from llmwatch.telemetry import names as n
from llmwatch.telemetry.attributes import ContentPolicy
from llmwatch.telemetry.metrics import Metrics

logger = logging.getLogger("llmwatch")


class Handle:
    """What ``instrument()`` returns: flush or shut down llmwatch's telemetry."""

    def __init__(self, settings: Settings, tracer_provider: Any, meter_provider: Any) -> None:
        self.settings = settings
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Emit every finished call and push buffered spans to the exporters. True if all done in time."""
        return _state.flush(timeout_millis)

    def shutdown(self) -> None:
        """Uninstrument, flush, and stop the exporters llmwatch added."""
        uninstrument()
        _state.close_exporters()


class _SwitchableProcessor(SpanProcessor):
    """Added once to a tracer provider; the exporters behind it change with each ``instrument()``.

    An exporter kept from one ``instrument()`` to the next keeps its batch processor (and buffered spans);
    only the exporters no longer asked for are flushed and shut down.
    """

    def __init__(self) -> None:
        self.by_key: dict[object, SpanProcessor] = {}
        self.processors: list[SpanProcessor] = []

    def replace(self, exporters: tuple[Any, ...], settings: Settings | None = None) -> None:
        current: dict[object, SpanProcessor] = {}
        for spec in exporters:
            key: object = id(spec)
            if isinstance(spec, str):  # a named exporter is kept only while its settings stay the same
                key = (spec, settings.store, settings.retention) if spec == "local" and settings else spec
            kept = self.by_key.pop(key, None)
            current[key] = kept if kept is not None else BatchSpanProcessor(build_exporter(spec, settings))
        removed = list(self.by_key.values())
        self.by_key, self.processors = current, list(current.values())
        for processor in removed:
            processor.shutdown()

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        for processor in self.processors:
            processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self.processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        self.replace(())

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return all(p.force_flush(timeout_millis) for p in self.processors)


class _AdjustableSampler(Sampler):
    """Parent-based ratio sampling whose ratio follows the latest ``instrument(sample_rate=...)``."""

    def __init__(self, rate: float) -> None:
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        self._delegate = ParentBased(TraceIdRatioBased(rate))

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        return self._delegate.should_sample(*args, **kwargs)

    def get_description(self) -> str:
        description: str = self._delegate.get_description()  # type: ignore[no-untyped-call]
        return f"llmwatch({description})"


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.patches: dict[str, list[providers.Patch]] = {}
        self.handle: Handle | None = None
        self.own_provider: TracerProvider | None = None
        self.sampler: _AdjustableSampler | None = None
        # one switchable processor per provider we attach exporters to
        self.processors: dict[int, _SwitchableProcessor] = {}
        self.atexit_registered = False
        self.own_meter_provider: MeterProvider | None = None
        # instruments are created once per (meter provider, semantic-convention set)
        self.metrics: dict[tuple[int, str], Metrics] = {}
        self.prices_warmed = False
        self.auto_update_started = False

    def flush(self, timeout_millis: int) -> bool:
        active = pipeline.active()
        drained = active.flush(timeout_millis / 1000) if active is not None else True
        flushed = True
        if self.handle is not None:
            for provider in (self.handle.tracer_provider, self.handle.meter_provider):
                flush = getattr(provider, "force_flush", None)
                flushed = bool(flush(timeout_millis)) and flushed if flush is not None else flushed
        return bool(drained and flushed)

    def close_exporters(self) -> None:
        for processor in self.processors.values():
            processor.shutdown()

    def at_exit(self) -> None:
        try:
            self.flush(5_000)
        except Exception as exc:  # never fail interpreter exit
            logger.debug("llmwatch: flush at exit failed: %r", exc)


_state = _State()


def instrument(
    service_name: str | None = None,
    exporters: list[str | SpanExporter] | None = None,
    providers: list[str] | None = None,
    capture_content: bool | None = None,
    store: str | None = None,
    sample_rate: float | None = None,
    prices: dict[str, Any] | str | None = None,
    evaluators: list[Any] | None = None,
    redact: Any = None,
    *,
    retention: str | None = None,
    content_max_chars: int | None = None,
    prices_auto_update: bool | None = None,
    metrics_semconv: str | None = None,
    tracer_provider: Any = None,
    meter_provider: Any = None,
) -> Handle:
    """Instrument every supported LLM SDK that is installed. Idempotent: a second call changes settings.

    Invalid settings (an unknown exporter, a bad price file) raise ``ValueError`` here, at start-up.
    """
    settings = Settings.resolve(
        service_name=service_name,
        exporters=exporters,
        providers=providers,
        capture_content=capture_content,
        store=store,
        retention=retention,
        sample_rate=sample_rate,
        redact=redact,
        prices=prices,
        content_max_chars=content_max_chars,
        prices_auto_update=prices_auto_update,
        metrics_semconv=metrics_semconv,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
    )
    price_book = pricing.PriceBook(pricing.load_overrides(settings.prices))
    importlib.import_module("llmwatch.tokens")  # imported here, not on the background thread (fork safety)
    with _state.lock:
        provider = _tracer_provider(settings)
        tracer = provider.get_tracer(n.SCOPE_NAME, __version__, schema_url=n.SCHEMA_URL)
        meters = _meter_provider(settings, app_owns_tracing=provider is not _state.own_provider)
        in_use = settings.exporters_for_new_provider() if provider is _state.own_provider else settings.exporters
        content = ContentPolicy(settings.content_enabled(in_use or ()), settings.content_max_chars, settings.redact)
        old = pipeline.active()
        if old is not None:
            old.flush()
        chosen = builtin_evaluators() if evaluators is None else list(evaluators)
        pipeline.set_active(
            pipeline.Pipeline(
                tracer,
                content,
                prices=price_book,
                metrics=_metrics(meters, settings.metrics_semconv),
                evaluators=chosen,
            )
        )
        _sync_patches(settings)
        _warm_prices(settings)
        _state.handle = Handle(settings, provider, meters)
        if not _state.atexit_registered:
            atexit.register(_state.at_exit)
            _state.atexit_registered = True
        return _state.handle


def uninstrument() -> None:
    """Restore every patched method (the identical original objects) and stop recording calls."""
    with _state.lock:
        active = pipeline.active()
        pipeline.set_active(None)
        for patches in _state.patches.values():
            for patch in reversed(patches):
                patch.undo()
        _state.patches.clear()
        if active is not None:
            active.flush()


def _sync_patches(settings: Settings) -> None:
    wanted = {spec.name: spec for spec in providers.available(settings.providers)}
    for name in list(_state.patches):
        if name not in wanted:
            for patch in reversed(_state.patches.pop(name)):
                patch.undo()
    for name, spec in wanted.items():
        if name not in _state.patches:
            _state.patches[name] = providers.patch(spec)


def _tracer_provider(settings: Settings) -> Any:
    """The application's provider when it has one (exporters added only if asked), else llmwatch's own."""
    provider = settings.tracer_provider
    if provider is None:
        global_provider = trace.get_tracer_provider()
        if not isinstance(global_provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
            provider = global_provider
    if provider is not None and provider is not _state.own_provider:
        if settings.exporters is not None:
            _attach(provider, settings.exporters, settings)
        return provider
    if _state.own_provider is None:
        _state.sampler = _AdjustableSampler(settings.sample_rate)
        resource = Resource.create({SERVICE_NAME: settings.service_name})
        _state.own_provider = TracerProvider(resource=resource, sampler=_state.sampler)
        trace.set_tracer_provider(_state.own_provider)
    elif _state.sampler is not None:
        _state.sampler.set_rate(settings.sample_rate)
    _attach(_state.own_provider, settings.exporters_for_new_provider(), settings)
    return _state.own_provider


def _attach(provider: Any, exporters: tuple[Any, ...], settings: Settings) -> None:
    if not hasattr(provider, "add_span_processor"):
        logger.warning("llmwatch: the tracer provider %r cannot take exporters; none added", provider)
        return
    switchable = _state.processors.get(id(provider))
    if switchable is None:
        switchable = _SwitchableProcessor()
        provider.add_span_processor(switchable)
        _state.processors[id(provider)] = switchable
    switchable.replace(exporters, settings)


def _meter_provider(settings: Settings, *, app_owns_tracing: bool) -> Any:
    """The application's MeterProvider when it has one, else llmwatch's own (OTLP metrics when configured).

    An application that owns tracing but has no MeterProvider yet gets the global proxy: our instruments start
    recording once the application sets one, and llmwatch exports nothing on its behalf unless asked.
    """
    if settings.meter_provider is not None:
        return settings.meter_provider
    global_provider = metrics.get_meter_provider()
    if type(global_provider).__name__ not in {"_ProxyMeterProvider", "NoOpMeterProvider"}:
        return global_provider
    if app_owns_tracing and settings.exporters is None:
        return global_provider
    if _state.own_meter_provider is None:
        readers = [build_metric_reader(name) for name in settings.metric_exporters()]
        resource = Resource.create({SERVICE_NAME: settings.service_name})
        _state.own_meter_provider = MeterProvider(resource=resource, metric_readers=readers)
        metrics.set_meter_provider(_state.own_meter_provider)
    return _state.own_meter_provider


def _metrics(meter_provider: Any, semconv: str) -> Metrics:
    key = (id(meter_provider), semconv)
    if key not in _state.metrics:
        meter = meter_provider.get_meter(n.SCOPE_NAME, __version__, schema_url=n.SCHEMA_URL)
        _state.metrics[key] = Metrics(meter, semconv)
    return _state.metrics[key]


def _warm_prices(settings: Settings) -> None:
    """Load the price snapshot off the caller's thread, so the first priced call does not wait for it."""
    if not _state.prices_warmed:
        _state.prices_warmed = True
        threading.Thread(target=_quietly, args=(pricing.warm_up,), name="llmwatch-prices", daemon=True).start()
    if settings.prices_auto_update and not _state.auto_update_started:
        _state.auto_update_started = True
        _quietly(pricing.start_auto_update)


def _quietly(fn: Any) -> None:
    try:
        fn()
    except Exception as exc:
        logger.warning("llmwatch: price data could not be loaded: %r", exc)
