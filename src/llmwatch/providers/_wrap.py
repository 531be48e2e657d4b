"""The one wrapper every patched SDK method goes through.

The provider's own call runs outside every guard: its result and its exceptions reach the user unchanged.
Everything llmwatch does before and after is guarded (see ``_guard``). Sync or async is chosen once, when the
method is patched.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace

from llmwatch import _guard, pipeline
from llmwatch.pipeline import Tracked
from llmwatch.providers._stream import Accumulate, AsyncStreamProxy, SyncStreamProxy
from llmwatch.record import Call

#: Set while a patched call is running, so a patched method called by another (an SDK helper, a wrapper
#: library on top of the SDK) does not make a second span.
_IN_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar("llmwatch_in_call", default=False)

#: Raw-response modes, from the SDK's own marker header.
RAW_READ = "read"  # with_raw_response: the body is read, ``.parse()`` gives the object
RAW_DEFERRED = "deferred"  # with_streaming_response: the body is read later by the user


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One patched SDK method and how to translate it into a Call record."""

    module: str
    attribute: str  # "Class.method"
    is_async: bool
    #: (instance, kwargs) -> Call, before the request is sent.
    request: Callable[[Any, dict[str, Any]], Call]
    #: (call, response object) -> None, for a complete (non-stream) response.
    response: Callable[[Call, Any], None]
    #: (call, chunks) -> None, when a stream ends.
    accumulate: Accumulate
    #: Is this returned object a stream of chunks?
    is_stream: Callable[[Any], bool]
    #: kwargs -> RAW_READ, RAW_DEFERRED or None.
    raw_mode: Callable[[dict[str, Any]], str | None]


def make_wrapper(endpoint: Endpoint) -> Callable[..., Any]:
    """The wrapt wrapper for ``endpoint``; async endpoints get an async wrapper."""
    site = f"{endpoint.module}.{endpoint.attribute}"
    if endpoint.is_async:

        async def async_wrapper(wrapped: Any, instance: Any, args: Any, kwargs: dict[str, Any]) -> Any:
            tracked = _begin(site, endpoint, instance, kwargs)
            if tracked is None:
                return await wrapped(*args, **kwargs)
            tokens = _enter(tracked)
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException as exc:
                _exit(tokens)
                _guard.run_guarded(site, None, _fail, tracked, exc)
                raise
            _exit(tokens)
            return _guard.run_guarded(site, result, _succeed, tracked, endpoint, kwargs, result)

        return async_wrapper

    def sync_wrapper(wrapped: Any, instance: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        tracked = _begin(site, endpoint, instance, kwargs)
        if tracked is None:
            return wrapped(*args, **kwargs)
        tokens = _enter(tracked)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            _exit(tokens)
            _guard.run_guarded(site, None, _fail, tracked, exc)
            raise
        _exit(tokens)
        return _guard.run_guarded(site, result, _succeed, tracked, endpoint, kwargs, result)

    return sync_wrapper


def _begin(site: str, endpoint: Endpoint, instance: Any, kwargs: dict[str, Any]) -> Tracked | None:
    active = pipeline.active()
    if active is None or _IN_CALL.get():
        return None
    return _guard.run_guarded(site, None, lambda: active.start(endpoint.request(instance, kwargs)))


def _enter(tracked: Tracked) -> tuple[contextvars.Token[bool], object]:
    ctx = trace.set_span_in_context(tracked.span)
    return _IN_CALL.set(True), otel_context.attach(ctx)


def _exit(tokens: tuple[contextvars.Token[bool], object]) -> None:
    in_call, ctx = tokens
    otel_context.detach(ctx)  # type: ignore[arg-type]
    _IN_CALL.reset(in_call)


def _fail(tracked: Tracked, error: BaseException) -> None:
    tracked.call.end_monotonic_ns = time.monotonic_ns()
    tracked.call.error = error
    tracked.finish()


def _succeed(tracked: Tracked, endpoint: Endpoint, kwargs: dict[str, Any], result: Any) -> Any:
    """Record the outcome; returns the object to hand to the user (the result, or a proxy of it)."""
    mode = endpoint.raw_mode(kwargs)
    if mode == RAW_DEFERRED:
        proxy = AsyncDeferredResponse if endpoint.is_async else DeferredResponse
        return proxy(result, tracked, endpoint)
    if mode == RAW_READ:
        if kwargs.get("stream"):
            return RawStreamResponse(result, tracked, endpoint)
        _record_parsed(tracked, endpoint, result.parse())
        return result
    return _adopt(tracked, endpoint, result)


def _adopt(tracked: Tracked, endpoint: Endpoint, parsed: Any) -> Any:
    """Finish a complete response now, or hand back a stream proxy that finishes when the stream ends."""
    if endpoint.is_stream(parsed):
        proxy = AsyncStreamProxy if endpoint.is_async else SyncStreamProxy
        return proxy(parsed, tracked, endpoint.accumulate)
    _record_parsed(tracked, endpoint, parsed)
    return parsed


def _record_parsed(tracked: Tracked, endpoint: Endpoint, parsed: Any) -> None:
    tracked.call.end_monotonic_ns = time.monotonic_ns()
    try:
        endpoint.response(tracked.call, parsed)
    finally:
        tracked.finish()


def _finish_unparsed(tracked: Tracked) -> None:
    if not tracked.done:
        tracked.call.end_monotonic_ns = time.monotonic_ns()
        tracked.finish()


class _ResponseProxy(wrapt.ObjectProxy[Any]):
    """Base for raw-response proxies: ends the span on garbage collection if nothing else did."""

    def __init__(self, response: Any, tracked: Tracked, endpoint: Endpoint) -> None:
        super().__init__(response)
        self._self_tracked = tracked
        self._self_endpoint = endpoint
        self._self_parsed: Any = None

    def _self_adopt(self, parsed: Any) -> Any:
        """Record ``parsed`` once and return what the user should see (a stream proxy for streams)."""
        if self._self_parsed is None:
            tracked = self._self_tracked
            if tracked.done:
                return parsed
            self._self_parsed = _guard.run_guarded(
                "raw_response.parse", parsed, _adopt, tracked, self._self_endpoint, parsed
            )
        return self._self_parsed

    def _self_record_body(self) -> None:
        """The user read the body: parse it (the SDK caches it) to record usage."""
        tracked = self._self_tracked
        if not tracked.done:
            _guard.run_guarded("raw_response.read", None, lambda: self._self_adopt(self.__wrapped__.parse()))

    def _self_finish(self) -> None:
        """The response is closed: end a stream we handed out with its chunks, else end the span now."""
        parsed = self._self_parsed
        if isinstance(parsed, SyncStreamProxy | AsyncStreamProxy):
            parsed._self_state.finish()
        else:
            _guard.run_guarded("raw_response.close", None, _finish_unparsed, self._self_tracked)

    def __del__(self) -> None:
        tracked = getattr(self, "_self_tracked", None)
        if isinstance(tracked, Tracked) and not tracked.done:
            _guard.run_guarded("raw_response.gc", None, _finish_unparsed, tracked)


class RawStreamResponse(_ResponseProxy):
    """``with_raw_response.create(stream=True)``: ``.parse()`` returns our stream proxy."""

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        parsed = self.__wrapped__.parse(*args, **kwargs)
        return parsed if args or kwargs else self._self_adopt(parsed)


class DeferredResponse(_ResponseProxy):
    """``with_streaming_response``: the span ends when the user parses, reads or closes the response."""

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        parsed = self.__wrapped__.parse(*args, **kwargs)
        return parsed if args or kwargs else self._self_adopt(parsed)

    def read(self) -> Any:
        body = self.__wrapped__.read()
        self._self_record_body()
        return body

    def text(self) -> Any:
        body = self.__wrapped__.text()
        self._self_record_body()
        return body

    def json(self, *args: Any, **kwargs: Any) -> Any:
        body = self.__wrapped__.json(*args, **kwargs)
        self._self_record_body()
        return body

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_finish()


class AsyncDeferredResponse(_ResponseProxy):
    """Async ``with_streaming_response``."""

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        parsed = await self.__wrapped__.parse(*args, **kwargs)
        return parsed if args or kwargs else self._self_adopt(parsed)

    async def _self_record_async_body(self) -> None:
        if not self._self_tracked.done:
            try:
                parsed = await self.__wrapped__.parse()
            except Exception as exc:
                _guard.report("raw_response.read", exc)
                return
            self._self_adopt(parsed)

    async def read(self) -> Any:
        body = await self.__wrapped__.read()
        await self._self_record_async_body()
        return body

    async def text(self) -> Any:
        body = await self.__wrapped__.text()
        await self._self_record_async_body()
        return body

    async def json(self, *args: Any, **kwargs: Any) -> Any:
        body = await self.__wrapped__.json(*args, **kwargs)
        await self._self_record_async_body()
        return body

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_finish()
