"""Our own faults: logged once per site, never raised into user code (except under ``LLMWATCH_STRICT=1``).

Every piece of llmwatch that runs inside a user's call goes through :func:`guarded` or :func:`run_guarded`.
The test suite sets ``LLMWATCH_STRICT=1`` so that a fault in llmwatch fails the test instead of being swallowed.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

logger = logging.getLogger("llmwatch")

P = ParamSpec("P")
T = TypeVar("T")

_reported: set[str] = set()
_lock = threading.Lock()


def strict() -> bool:
    """True when ``LLMWATCH_STRICT`` asks for our own faults to be raised (tests only)."""
    return os.environ.get("LLMWATCH_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}


def report(site: str, exc: BaseException) -> None:
    """Log an internal fault once per site; re-raise it in strict mode."""
    with _lock:
        first = site not in _reported
        _reported.add(site)
    if first:
        logger.warning(
            "llmwatch: internal error in %s (the call itself is unaffected; further errors here are "
            "logged at debug level): %r",
            site,
            exc,
            exc_info=exc,
        )
    else:
        logger.debug("llmwatch: internal error in %s: %r", site, exc, exc_info=exc)
    if strict():
        raise exc


def run_guarded(site: str, fallback: T, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn``; on an exception report it and return ``fallback``."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        report(site, exc)
        return fallback


def guarded(site: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Decorate a procedure (returning None) so that its faults are reported, never raised."""

    def decorate(fn: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                fn(*args, **kwargs)
            except Exception as exc:
                report(site, exc)

        return wrapper

    return decorate


def reset_reported() -> None:
    """Forget which sites were reported (tests)."""
    with _lock:
        _reported.clear()
