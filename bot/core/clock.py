"""Time as a dependency: the real clock in production, a simulated one for replay, the console and tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to; it never goes backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        moment = _aware(moment)
        if moment > self._now:
            self._now = moment

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `2h`, `3d`, `1w`, or combinations like `1h30m`."""
    import re

    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhdw])", text.strip().lower())
    if (
        not parts
        or re.sub(r"[\d.\sa-z]", "", text)
        or "".join(n + u for n, u in parts) != text.replace(" ", "").lower()
    ):
        raise ValueError(f"'{text}' is not a duration like 30m, 2h or 1d")
    return sum((timedelta(**{units[u]: float(n)}) for n, u in parts), timedelta())
