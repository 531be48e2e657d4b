"""Context-local attributes stamped on llmwatch's spans and metrics: user, session, feature, custom keys, prompt.

Values live in ``contextvars``: nested scopes merge, and threads and asyncio tasks never see each other's values.
``asyncio.to_thread`` and new asyncio tasks inherit the current values automatically; work handed to a
``concurrent.futures`` executor needs :func:`propagate`.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, ParamSpec, TypeVar

from llmwatch.telemetry import names as n

P = ParamSpec("P")
R = TypeVar("R")

_EMPTY: Mapping[str, str] = MappingProxyType({})
_ATTRIBUTES: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("llmwatch_attributes", default=_EMPTY)

#: Keyword -> attribute name for the well-known keys; anything else becomes ``llmwatch.attr.<key>``.
_KNOWN = {"user_id": n.USER_ID, "session_id": n.SESSION_ID}


def current() -> Mapping[str, str]:
    """The attributes in effect here (read-only)."""
    return _ATTRIBUTES.get()


def attribute_name(key: str) -> str:
    """``user_id`` -> ``user.id``, ``session_id`` -> ``session.id``, ``feature`` -> ``llmwatch.attr.feature``."""
    return _KNOWN.get(key) or f"{n.LLMWATCH_ATTR_PREFIX}{key}"


class attributes:
    """Stamp attributes on every span and metric llmwatch records inside this scope.

    Use as a context manager or as a decorator (sync or async functions, generators)::

        with llmwatch.attributes(user_id="u1", session_id="s1", feature="search", tenant="acme"):
            client.chat.completions.create(...)   # span and metrics carry user.id, session.id,
                                                  # llmwatch.attr.feature, llmwatch.attr.tenant
    """

    def __init__(
        self, *, user_id: object = None, session_id: object = None, feature: object = None, **custom: object
    ) -> None:
        given = {"user_id": user_id, "session_id": session_id, "feature": feature, **custom}
        self._values = {attribute_name(k): str(v) for k, v in given.items() if v is not None}
        self._tokens: list[contextvars.Token[Mapping[str, str]]] = []

    def __enter__(self) -> attributes:
        merged = MappingProxyType({**_ATTRIBUTES.get(), **self._values})
        self._tokens.append(_ATTRIBUTES.set(merged))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _ATTRIBUTES.reset(self._tokens.pop())

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        values = self._values

        def scope() -> attributes:
            scoped = attributes()
            scoped._values = values
            return scoped

        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def agen(*args: Any, **kwargs: Any) -> Any:
                with scope():
                    async for item in fn(*args, **kwargs):
                        yield item

            return agen
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def coro(*args: Any, **kwargs: Any) -> Any:
                with scope():
                    return await fn(*args, **kwargs)

            return coro  # type: ignore[return-value]
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen(*args: Any, **kwargs: Any) -> Any:
                with scope():
                    yield from fn(*args, **kwargs)

            return gen

        @functools.wraps(fn)
        def plain(*args: P.args, **kwargs: P.kwargs) -> R:
            with scope():
                return fn(*args, **kwargs)

        return plain


def propagate(fn: Callable[P, R]) -> Callable[P, R]:
    """Bind ``fn`` to the current context (llmwatch attributes and the current span) for another thread.

    ``executor.submit(llmwatch.propagate(work), item)``: the LLM calls in ``work`` carry the caller's
    ``llmwatch.attributes`` and are children of the caller's span. (``asyncio.to_thread`` does this already.)
    """
    context = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return context.copy().run(fn, *args, **kwargs)

    return run


class Rollup:
    """Sums the calls made inside a decorated function, and closes its span once every call has finished.

    A call inside may finish after the function returns (a stream read later, or usage estimated on the
    background thread): the span then ends when the last of those calls is recorded, with the function's own
    end time.
    """

    def __init__(self, on_close: Callable[[Rollup], None]) -> None:
        self.calls = 0
        self.failed_calls = 0
        self.unpriced_calls = 0
        self.cost_usd = 0.0
        self.input_tokens = 0
        self.output_tokens = 0
        self.estimated = False
        self.quality_flags: list[str] = []
        self.quality_score: float | None = None
        self.safety_flags: list[str] = []
        self._on_close = on_close
        self._pending = 0
        self._closed = False
        self._fired = False
        self._lock = threading.Lock()

    def child_started(self) -> None:
        with self._lock:
            self._pending += 1

    def child_finished(self, call: Any) -> None:
        with self._lock:
            self.calls += 1
            self.failed_calls += call.error is not None
            usage = call.usage
            self.input_tokens += usage.input_tokens or 0
            self.output_tokens += usage.output_tokens or 0
            self.estimated = self.estimated or usage.estimated
            self.quality_flags.extend(f for f in call.quality_flags if f not in self.quality_flags)
            for flag in [*call.safety_input_flags, *call.safety_output_flags]:
                if flag not in self.safety_flags:
                    self.safety_flags.append(flag)
            if call.quality_score is not None:  # the worst call decides
                self.quality_score = min(call.quality_score, self.quality_score or 1.0)
            if call.cost_input_usd is not None and call.cost_output_usd is not None:
                self.cost_usd += call.cost_input_usd + call.cost_output_usd
            elif usage.input_tokens is not None or usage.output_tokens is not None:
                self.unpriced_calls += 1
            self._pending -= 1
        self._maybe_fire()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._maybe_fire()

    def _maybe_fire(self) -> None:
        with self._lock:
            fire = self._closed and self._pending == 0 and not self._fired
            self._fired = self._fired or fire
        if fire:
            self._on_close(self)


_ROLLUPS: contextvars.ContextVar[tuple[Rollup, ...]] = contextvars.ContextVar("llmwatch_rollups", default=())


def current_rollups() -> tuple[Rollup, ...]:
    """The roll-ups of the decorated functions enclosing this point, outermost first."""
    return _ROLLUPS.get()


def enter_scope(values: Mapping[str, str], rollup: Rollup | None) -> tuple[contextvars.Token[Any], ...]:
    """Make ``values`` (merged) and ``rollup`` current; returns the tokens for :func:`exit_scope`."""
    tokens: list[contextvars.Token[Any]] = []
    if values:
        tokens.append(_ATTRIBUTES.set(MappingProxyType({**_ATTRIBUTES.get(), **values})))
    if rollup is not None:
        tokens.append(_ROLLUPS.set((*_ROLLUPS.get(), rollup)))
    return tuple(tokens)


def exit_scope(tokens: tuple[contextvars.Token[Any], ...]) -> None:
    for token in reversed(tokens):
        token.var.reset(token)
