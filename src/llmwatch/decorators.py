"""``@llmwatch.trace`` and ``@llmwatch.prompt``: spans around the user's own functions, LLM calls as children.

The decorated function's result, exceptions and signature are untouched; llmwatch's own work is guarded. When
llmwatch is not instrumenting, the wrapper only calls the function.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from llmwatch import _guard, context, pipeline
from llmwatch.telemetry import names as n
from llmwatch.telemetry.attributes import ContentPolicy, clip_value

F = TypeVar("F", bound=Callable[..., Any])
Kind = Literal["workflow", "task", "tool", "agent"]

#: kind -> (gen_ai.operation.name, attribute naming the thing) where the GenAI conventions define one.
_KINDS: dict[str, tuple[str | None, str | None]] = {
    "workflow": (n.OP_INVOKE_WORKFLOW, None),
    "task": (None, None),
    "tool": (n.OP_EXECUTE_TOOL, n.GEN_AI_TOOL_NAME),
    "agent": (n.OP_INVOKE_AGENT, n.GEN_AI_AGENT_NAME),
    "prompt": (None, None),
}


class _Scope:
    """One execution of a decorated function: its span, context and roll-up of the LLM calls inside."""

    def __init__(self, spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        active = pipeline.active()
        self.content = active.content if active is not None else ContentPolicy()
        self.spec = spec
        self.end_time_ns: int | None = None
        self.span: Span = active.tracer.start_span(  # type: ignore[union-attr]
            spec.span_name, kind=SpanKind.INTERNAL, attributes=spec.start_attributes()
        )
        self.rollup = context.Rollup(self._close)
        if self.content.capture:
            key = n.GEN_AI_TOOL_CALL_ARGUMENTS if spec.kind == "tool" else n.LLMWATCH_FUNCTION_ARGUMENTS
            self.span.set_attribute(key, clip_value(spec.arguments(args, kwargs), self.content))
        self._otel_token: object = None
        self._tokens: tuple[Any, ...] = ()

    def enter(self) -> None:
        self._otel_token = otel_context.attach(otel_trace.set_span_in_context(self.span))
        self._tokens = context.enter_scope(self.spec.context_values, self.rollup)

    def exit(self) -> None:
        context.exit_scope(self._tokens)
        otel_context.detach(self._otel_token)  # type: ignore[arg-type]

    def finish(self, error: BaseException | None = None, result: Any = None, has_result: bool = False) -> None:
        self.end_time_ns = time.time_ns()
        if error is not None:
            self.span.record_exception(error)
            self.span.set_status(Status(StatusCode.ERROR, str(error)[:300] or type(error).__name__))
            self.span.set_attribute(n.ERROR_TYPE, pipeline.error_type(error))
        elif has_result and self.content.capture:
            key = n.GEN_AI_TOOL_CALL_RESULT if self.spec.kind == "tool" else n.LLMWATCH_FUNCTION_RESULT
            self.span.set_attribute(key, clip_value(result, self.content))
        self.rollup.close()

    def _close(self, rollup: context.Rollup) -> None:
        """Called once every LLM call inside has been recorded: the sums go on the span, which then ends."""
        if rollup.calls:
            self.span.set_attributes(
                {
                    n.LLMWATCH_ROLLUP_CALLS: rollup.calls,
                    n.LLMWATCH_ROLLUP_FAILED_CALLS: rollup.failed_calls,
                    n.LLMWATCH_ROLLUP_INPUT_TOKENS: rollup.input_tokens,
                    n.LLMWATCH_ROLLUP_OUTPUT_TOKENS: rollup.output_tokens,
                    n.LLMWATCH_ROLLUP_COST_USD: rollup.cost_usd,
                    n.LLMWATCH_ROLLUP_UNPRICED_CALLS: rollup.unpriced_calls,
                }
            )
            if rollup.estimated:
                self.span.set_attribute(n.LLMWATCH_ROLLUP_ESTIMATED, True)
            if rollup.quality_flags:
                self.span.set_attribute(n.LLMWATCH_ROLLUP_QUALITY_FLAGS, rollup.quality_flags)
            if rollup.quality_score is not None:
                self.span.set_attribute(n.LLMWATCH_ROLLUP_QUALITY_SCORE, rollup.quality_score)
            if rollup.safety_flags:
                self.span.set_attribute(n.LLMWATCH_ROLLUP_SAFETY_FLAGS, rollup.safety_flags)
        self.span.end(end_time=self.end_time_ns)


class _Spec:
    """What a decorator was asked for: names, kind, prompt, and the function's signature."""

    def __init__(self, fn: Callable[..., Any], name: str | None, kind: str, prompt: tuple[str, str | None] | None):
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of workflow, task, tool, agent; not {kind!r}")
        self.name: str = name or str(getattr(fn, "__qualname__", getattr(fn, "__name__", "function")))
        self.kind = kind
        operation, self.name_attribute = _KINDS[kind]
        self.operation = operation
        self.span_name = f"{operation} {self.name}" if operation else self.name
        self.function = f"{fn.__module__}.{getattr(fn, '__qualname__', self.name)}"
        self.context_values: dict[str, str] = {}
        if prompt is not None:
            self.context_values[n.LLMWATCH_PROMPT_NAME] = prompt[0]
            if prompt[1] is not None:
                self.context_values[n.LLMWATCH_PROMPT_VERSION] = prompt[1]
        try:
            self.signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            self.signature = None

    def start_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {n.LLMWATCH_SPAN_KIND: self.kind, n.CODE_FUNCTION_NAME: self.function}
        if self.operation:
            attrs[n.GEN_AI_OPERATION_NAME] = self.operation
        if self.name_attribute:
            attrs[self.name_attribute] = self.name
        attrs.update(context.current())
        attrs.update(self.context_values)
        return attrs

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.signature is None:
            return {"args": list(args), "kwargs": kwargs}
        try:
            bound = self.signature.bind_partial(*args, **kwargs)
        except TypeError:
            return {"args": list(args), "kwargs": kwargs}
        return {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}


def _start(spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Scope | None:
    if pipeline.active() is None:
        return None
    return _guard.run_guarded("decorator.start", None, _Scope, spec, args, kwargs)


_NO_RESULT = object()


def _leave(scope: _Scope, error: BaseException | None, result: Any = _NO_RESULT) -> None:
    """Restore the caller's context, then record the outcome (both guarded)."""
    _guard.run_guarded("decorator.exit", None, scope.exit)
    _guard.run_guarded("decorator.finish", None, scope.finish, error, result, result is not _NO_RESULT)


def _wrap(fn: Any, spec: _Spec) -> Any:
    if isinstance(fn, classmethod | staticmethod):
        return type(fn)(_wrap(fn.__func__, spec))

    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
            scope = _start(spec, args, kwargs)
            if scope is None:
                async for item in fn(*args, **kwargs):
                    yield item
                return
            iterator = fn(*args, **kwargs)
            try:
                while True:
                    _guard.run_guarded("decorator.enter", None, scope.enter)
                    try:
                        item = await iterator.__anext__()
                    except StopAsyncIteration:
                        break
                    finally:
                        _guard.run_guarded("decorator.exit", None, scope.exit)
                    yield item
            except BaseException as exc:
                _guard.run_guarded("decorator.finish", None, scope.finish, exc)
                raise
            _guard.run_guarded("decorator.finish", None, scope.finish)

        return agen_wrapper

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            scope = _start(spec, args, kwargs)
            if scope is None:
                return (yield from fn(*args, **kwargs))
            iterator = fn(*args, **kwargs)
            sent: Any = None
            try:
                while True:
                    _guard.run_guarded("decorator.enter", None, scope.enter)
                    try:
                        item = iterator.send(sent)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    finally:
                        _guard.run_guarded("decorator.exit", None, scope.exit)
                    sent = yield item
            except BaseException as exc:
                if isinstance(exc, GeneratorExit):
                    iterator.close()
                    _guard.run_guarded("decorator.finish", None, scope.finish)
                else:
                    _guard.run_guarded("decorator.finish", None, scope.finish, exc)
                raise
            _guard.run_guarded("decorator.finish", None, scope.finish)
            return result

        return gen_wrapper

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            scope = _start(spec, args, kwargs)
            if scope is None:
                return await fn(*args, **kwargs)
            _guard.run_guarded("decorator.enter", None, scope.enter)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                _leave(scope, exc)
                raise
            _leave(scope, None, result)
            return result

        return async_wrapper

    @functools.wraps(fn)
    def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
        scope = _start(spec, args, kwargs)
        if scope is None:
            return fn(*args, **kwargs)
        _guard.run_guarded("decorator.enter", None, scope.enter)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _leave(scope, exc)
            raise
        _leave(scope, None, result)
        return result

    return sync_wrapper


def _target(fn: Any) -> Any:
    return fn.__func__ if isinstance(fn, classmethod | staticmethod) else fn


@overload
def trace(fn: F, /) -> F: ...
@overload
def trace(*, name: str | None = None, kind: Kind = "task") -> Callable[[F], F]: ...
def trace(fn: Any = None, /, *, name: str | None = None, kind: Kind = "task") -> Any:
    """Trace a function as a span (``kind``: workflow, task, tool or agent); LLM calls inside are its children.

    Works on sync and async functions, generators and async generators (the span covers the iteration),
    methods, classmethods and staticmethods. Arguments and the return value are recorded only when content
    capture is on.
    """

    def decorate(target: Any) -> Any:
        return _wrap(target, _Spec(_target(target), name, kind, None))

    return decorate if fn is None else decorate(fn)


def prompt(name: str, version: str | int | None = None, *, kind: Kind = "task") -> Callable[[F], F]:
    """Like :func:`trace`, and every LLM call inside carries ``llmwatch.prompt.name`` / ``.version``.

    The function's span also sums the calls inside: ``llmwatch.rollup.cost_usd``, ``.input_tokens``,
    ``.output_tokens``, ``.calls`` (so a prompt function's cost is one number).
    """
    version_text = None if version is None else str(version)

    def decorate(target: Any) -> Any:
        spec = _Spec(_target(target), name, kind, (name, version_text))
        spec.kind = "prompt" if kind == "task" else kind
        return _wrap(target, spec)

    return decorate
