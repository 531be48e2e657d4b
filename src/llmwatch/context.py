"""Context-local attributes stamped on llmwatch's spans and metrics: user, session, feature, custom keys, prompt.

Values live in ``contextvars``: nested scopes merge, and threads and asyncio tasks never see each other's values.
``asyncio.to_thread`` and new asyncio tasks inherit the current values automatically; work handed to a
``concurrent.futures`` executor needs :func:`propagate`.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
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
