"""The one transparent stream proxy (sync and async), shared by every provider.

The proxy stays an instance of the SDK's stream class (wrapt), forwards every attribute, and only appends
each chunk to a list: chunks are translated into the Call record once, when the stream ends. The span ends
exactly once: on exhaustion, ``close()``/``aclose()``, context exit, an error mid-stream, a helper closing the
underlying HTTP response, or garbage collection of an abandoned stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import wrapt

from llmwatch import _guard
from llmwatch.pipeline import Tracked
from llmwatch.telemetry import names as n

#: Translates the chunks seen so far into the call record (provider-specific).
Accumulate = Callable[[Any, list[Any]], None]


class _StreamState:
    """Chunks and the finish-once logic, kept apart from the proxy so that __del__ stays trivial."""

    __slots__ = ("accumulate", "chunks", "tracked")

    def __init__(self, tracked: Tracked, accumulate: Accumulate) -> None:
        self.tracked = tracked
        self.accumulate = accumulate
        self.chunks: list[Any] = []

    def add(self, chunk: Any) -> None:
        if not self.chunks:
            self.tracked.call.first_chunk_monotonic_ns = time.monotonic_ns()
        self.chunks.append(chunk)

    def finish(self, error: BaseException | None = None) -> None:
        if self.tracked.done:
            return
        _guard.run_guarded("stream.finish", None, self._finish, error)

    def _finish(self, error: BaseException | None) -> None:
        call = self.tracked.call
        call.end_monotonic_ns = time.monotonic_ns()
        try:
            self.accumulate(call, self.chunks)
        finally:
            if error is not None:
                call.error = error
                _mark_unfinished_choices(call)
            self.tracked.finish()


def _mark_unfinished_choices(call: Any) -> None:
    """A choice whose finish never arrived finishes with ``error`` (GenAI conventions)."""
    expected = max(call.choice_count or 1, len(call.output_messages), len(call.finish_reasons))
    reasons = list(call.finish_reasons) + [n.FINISH_REASON_ERROR] * (expected - len(call.finish_reasons))
    call.finish_reasons = reasons


class _FinishOnClose(wrapt.ObjectProxy[Any]):
    """``close()`` ends the span after the wrapped object's own close."""

    _self_state: _StreamState

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_state.finish()


class _ResponseCloseHook(_FinishOnClose):
    """Proxies the stream's HTTP response: SDK helpers close it directly on early exit."""

    def __init__(self, response: Any, state: _StreamState) -> None:
        super().__init__(response)
        self._self_state = state

    async def aclose(self) -> Any:
        try:
            return await self.__wrapped__.aclose()
        finally:
            self._self_state.finish()


class _StreamProxyBase(_FinishOnClose):
    def __init__(self, stream: Any, tracked: Tracked, accumulate: Accumulate) -> None:
        super().__init__(stream)
        self._self_state = _StreamState(tracked, accumulate)
        self._self_response: Any = None

    @property
    def response(self) -> Any:
        if self._self_response is None:
            self._self_response = _ResponseCloseHook(self.__wrapped__.response, self._self_state)
        return self._self_response

    def __del__(self) -> None:
        # An abandoned stream (never exhausted or closed) still ends its span.
        state = getattr(self, "_self_state", None)
        if isinstance(state, _StreamState) and not state.tracked.done:
            state.finish()


class SyncStreamProxy(_StreamProxyBase):
    """A sync stream that records its chunks; use exactly like the SDK's own stream."""

    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        state = self._self_state
        try:
            chunk = next(self.__wrapped__)
        except StopIteration:
            state.finish()
            raise
        except BaseException as exc:
            state.finish(exc)
            raise
        state.add(chunk)
        return chunk

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_state.finish()


class AsyncStreamProxy(_StreamProxyBase):
    """An async stream that records its chunks; use exactly like the SDK's own stream."""

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        state = self._self_state
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            state.finish()
            raise
        except BaseException as exc:
            state.finish(exc)
            raise
        state.add(chunk)
        return chunk

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_state.finish()

    async def close(self) -> Any:  # the SDK's AsyncStream.close() is a coroutine
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_state.finish()

    async def aclose(self) -> Any:
        try:
            return await self.__wrapped__.aclose()
        finally:
            self._self_state.finish()
