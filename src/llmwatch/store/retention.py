"""Reading durations (``24h``, ``7d``) and sizes (``500MB``), for retention and report windows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNITS_B = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``24h``, ``7d``, ``2w`` -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 24h, 7d, 2w)")
    return float(match.group(1)) * _UNITS_S[match.group(2)]


def parse_size(text: str) -> int:
    """``500MB``, ``2GiB``, ``1000000`` -> bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*", text.lower())
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 500MB, 2GB, 1GiB)")
    return int(float(match.group(1)) * _UNITS_B[match.group(2) or "b"])


def parse_instant(text: str, now: datetime | None = None) -> datetime:
    """A point in time: a duration back from now (``24h``) or an ISO date/time (UTC if no zone)."""
    now = now or datetime.now(timezone.utc)
    try:
        return datetime.fromtimestamp(now.timestamp() - parse_duration(text), timezone.utc)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use 24h, 7d or an ISO date such as 2026-11-01)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Retention:
    """How much the store keeps: rows younger than ``max_age_s`` and a file under ``max_bytes``."""

    max_age_s: float | None = 30 * 86400
    max_bytes: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> Retention:
        """``30d``, ``500MB``, ``30d,500MB`` or ``none``; default: 30 days, no size limit."""
        if text is None or not text.strip():
            return cls()
        age: float | None = None
        size: int | None = None
        for raw in text.split(","):
            part = raw.strip().lower()
            if part in ("none", "forever", "0"):
                continue
            try:
                age = parse_duration(part)
            except ValueError:
                size = parse_size(part)
        return cls(age, size)
