"""What happens to a Call record once the provider has answered: the order of the stages lives only here.

``start`` opens the span; ``finish`` runs token estimation (when the provider sent no usage), pricing, the
quality and safety evaluators, then the telemetry (span attributes, metrics). Work that could be slow on the
caller's thread (loading a tokenizer, the first price lookup of a model, the evaluators' text scans) runs on one
background finisher thread; the span keeps its real end time either way.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from opentelemetry.trace import Span, Tracer

from llmwatch import _guard, context
from llmwatch.evaluators.base import Evaluator, run_evaluators
from llmwatch.pricing import SOURCE_UNKNOWN, PriceBook, cost_of
from llmwatch.record import Call, Message, Usage
from llmwatch.telemetry import names as n
from llmwatch.telemetry.attributes import ContentPolicy
from llmwatch.telemetry.metrics import Metrics
from llmwatch.telemetry.spans import close_span, open_span

logger = logging.getLogger("llmwatch")

_ESTIMABLE_OPERATIONS = frozenset({n.OP_CHAT, n.OP_TEXT_COMPLETION, n.OP_EMBEDDINGS, n.OP_GENERATE_CONTENT})


@dataclass(slots=True)
class Tracked:
    """A call in flight: its record and span. ``finish`` takes effect once, whoever calls it first."""

    call: Call
    span: Span
    pipeline: Pipeline
    _done: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def finish(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self.pipeline.finish(self)

    @property
    def done(self) -> bool:
        return self._done


class Pipeline:
    """Turns finished Call records into telemetry with the settings of the current ``instrument()``."""

    def __init__(
        self,
        tracer: Tracer,
        content: ContentPolicy,
        *,
        prices: PriceBook | None = None,
        metrics: Metrics | None = None,
        evaluators: Sequence[Evaluator] = (),
        estimate_tokens: bool = True,
    ) -> None:
        self.tracer = tracer
        self.content = content
        self.prices = prices if prices is not None else PriceBook()
        self.metrics = metrics
        self.evaluators = tuple(evaluators)
        self.estimate_tokens = estimate_tokens
        self._finisher = _FINISHER

    def start(self, call: Call) -> Tracked:
        """Stamp the start time and open the span."""
        call.context_attributes = context.current()
        call.rollups = context.current_rollups()
        for rollup in call.rollups:
            rollup.child_started()
        call.start_time_ns = time.time_ns()
        call.start_monotonic_ns = time.monotonic_ns()
        return Tracked(call, open_span(self.tracer, call), self)

    def finish(self, tracked: Tracked) -> None:
        """Complete the record and emit it; deferred to the finisher thread when tokens must be estimated."""
        call = tracked.call
        if call.end_monotonic_ns is None:
            call.end_monotonic_ns = time.monotonic_ns()
        end_time_ns = call.start_time_ns + (call.end_monotonic_ns - call.start_monotonic_ns)
        if call.error is not None and call.error_type is None:
            call.error_type = error_type(call.error)
        estimate = self.estimate_tokens and needs_estimate(call)
        # Evaluators scan the text with regular expressions: like a tokenizer load or a first price lookup, that
        # is work the user's call should not wait for.
        if estimate or self.evaluators or (has_usage(call) and not self.prices.is_resolved(call)):
            self._finisher.submit(self.emit, tracked, end_time_ns)
        else:
            self.emit(tracked, end_time_ns, metrics_inline=False)

    def emit(self, tracked: Tracked, end_time_ns: int, *, metrics_inline: bool = True) -> None:
        """Run the stages and end the span. Each stage is guarded: a fault loses that stage only.

        Metrics are recorded on the finisher thread unless this already runs there: nothing in them has to
        happen before the user's call returns.
        """
        call = tracked.call
        if self.estimate_tokens and needs_estimate(call):
            _guard.run_guarded("tokens.estimate", None, estimate_usage, call)
        _guard.run_guarded("pricing", None, price, call, self.prices)
        if self.evaluators:
            run_evaluators(call, self.evaluators)  # each evaluator is guarded on its own
        try:
            close_span(tracked.span, call, self.content, end_time_ns)
        except Exception as exc:
            if tracked.span.is_recording():
                tracked.span.end(end_time=end_time_ns)
            _guard.report("telemetry.close_span", exc)
        for rollup in call.rollups:
            _guard.run_guarded("rollup", None, rollup.child_finished, call)
        if self.metrics is not None:
            if metrics_inline:
                _guard.run_guarded("telemetry.metrics", None, self.metrics.record, call)
            else:
                self._finisher.submit(_guard.run_guarded, "telemetry.metrics", None, self.metrics.record, call)

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every deferred record has been emitted."""
        return self._finisher.drain(timeout_s)


def error_type(error: BaseException) -> str:
    """The exception's fully qualified class name (builtins unqualified), as GenAI conventions suggest."""
    cls = type(error)
    module = cls.__module__
    return cls.__qualname__ if module in {"builtins", "__main__"} else f"{module}.{cls.__qualname__}"


def has_usage(call: Call) -> bool:
    return call.usage.input_tokens is not None or call.usage.output_tokens is not None


def price(call: Call, prices: PriceBook) -> None:
    """Set the call's cost from its usage, or mark the price unknown (never a cost of zero)."""
    if not has_usage(call):
        return
    rates = prices.rates_for(call)
    if rates is None:
        call.cost_source = SOURCE_UNKNOWN
        return
    cost = cost_of(call, rates)
    call.cost_input_usd, call.cost_output_usd, call.cost_source = cost.input_usd, cost.output_usd, rates.source


def needs_estimate(call: Call) -> bool:
    """True when the provider reported no usage but the call produced (or consumed) tokens."""
    if has_usage(call):
        return False
    if call.operation not in _ESTIMABLE_OPERATIONS:
        return False
    # Only when a response was seen: an unread or failed response has no counts to estimate.
    seen = call.response_model or call.response_id or call.output_messages
    return bool(seen) or call.first_chunk_monotonic_ns is not None


def estimate_usage(call: Call) -> None:
    """Count tokens locally (offline tiktoken encodings) and mark the usage as estimated."""
    # deferred: the tokenizer module is only needed when usage is missing
    from llmwatch.tokens import count_messages, count_text

    model = call.response_model or call.request_model
    if call.operation == n.OP_EMBEDDINGS:
        input_tokens = sum(count_text(m.text(), model) for m in call.input_messages)
        call.usage = Usage(input_tokens=input_tokens, estimated=True)
        return
    if call.operation == n.OP_TEXT_COMPLETION:  # plain prompts: no chat-message framing tokens
        call.usage = Usage(
            input_tokens=sum(count_text(m.text(), model) for m in call.input_messages),
            output_tokens=sum(count_text(_message_text(m), model) for m in call.output_messages),
            estimated=True,
        )
        return
    pairs = [("system", str(p.get("content", ""))) for p in call.system_instructions if p.get("type") == "text"]
    pairs.extend((m.role, _message_text(m)) for m in call.input_messages)
    output_tokens = sum(count_text(_message_text(m), model) for m in call.output_messages)
    call.usage = Usage(input_tokens=count_messages(pairs, model), output_tokens=output_tokens, estimated=True)


def _message_text(message: Message) -> str:
    """Text plus tool-call arguments: what the model read or wrote."""
    pieces: list[str] = []
    for part in message.parts:
        kind = part.get("type")
        if kind in ("text", "reasoning"):
            pieces.append(str(part.get("content", "")))
        elif kind == "tool_call":
            pieces.append(str(part.get("name", "")))
            pieces.append(str(part.get("arguments", "")))
        elif kind == "tool_call_response":
            pieces.append(str(part.get("response", "")))
    return "".join(pieces)


class _Finisher:
    """One daemon thread per process that runs the work that need not (or must not) delay the user's call."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Callable[..., object], tuple[object, ...]]] = queue.SimpleQueue()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._errors: list[BaseException] = []

    def submit(self, fn: Callable[..., object], *args: object) -> None:
        with self._pending_lock:
            self._pending += 1
        self._queue.put((fn, args))
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="llmwatch-finisher", daemon=True)
                    self._thread.start()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every submitted job has run (at most ``timeout_s``); never raises."""
        if self._thread is None or threading.current_thread() is self._thread:
            return not self._pending
        deadline = time.monotonic() + timeout_s
        while self._pending:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def drain(self, timeout_s: float) -> bool:
        if not self.wait_idle(timeout_s):
            return False
        if self._errors and _guard.strict():
            raise self._errors.pop(0)
        return True

    def _run(self) -> None:
        while True:
            fn, args = self._queue.get()
            try:
                fn(*args)
            except Exception as exc:  # strict mode re-raises from the guarded stages: surface it at the next flush
                self._errors.append(exc)
                logger.warning("llmwatch: finisher failed: %r", exc)
            finally:
                with self._pending_lock:
                    self._pending -= 1


_FINISHER = _Finisher()
if hasattr(os, "register_at_fork"):
    # Before a fork, let the finisher go idle (bounded), so that no lock it holds (an import, a tokenizer load)
    # is copied into the child held; the child, which has no finisher thread, starts a fresh one.
    os.register_at_fork(before=lambda: _FINISHER.wait_idle(5.0), after_in_child=_FINISHER._reset)

_active: Pipeline | None = None


def active() -> Pipeline | None:
    """The pipeline of the current ``instrument()``, or None when llmwatch is not instrumenting."""
    return _active


def set_active(pipeline: Pipeline | None) -> None:
    """Install (or remove) the pipeline every patched method reports to."""
    global _active
    _active = pipeline
