"""Short-lived memory of figures that are slow to compute and slow to change (health weeks, tag counts).

A week that has ended changes only when history is edited (a member forgotten, a message deleted), so its
figures are kept for minutes; the running week for seconds. Each process keeps its own; nothing here is a
source of truth.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar

from bot.core.digest_figures import Period
from storage.metrics import HealthWeek

T = TypeVar("T")

ENDED_WEEK_SECONDS = 600.0
RUNNING_WEEK_SECONDS = 30.0


class TimedCache(Generic[T]):
    """At most `size` values, each kept until its own expiry; the least recently used go first."""

    def __init__(self, size: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.clock = clock
        self._values: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()

    def get(self, key: Hashable) -> T | None:
        found = self._values.get(key)
        if found is None:
            return None
        if found[0] <= self.clock():
            del self._values[key]
            return None
        self._values.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, value: T, seconds: float) -> None:
        self._values[key] = (self.clock() + seconds, value)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    async def get_or(self, key: Hashable, seconds: float, compute: Callable[[], Awaitable[T]]) -> T:
        found = self.get(key)
        if found is None:
            found = await compute()
            self.put(key, found, seconds)
        return found


async def health_weeks(
    cache: TimedCache[HealthWeek],
    workspace: str,
    channel: str | None,
    periods: Sequence[Period],
    compute: Callable[[Sequence[Period]], Awaitable[list[HealthWeek]]],
) -> list[HealthWeek]:
    """The weeks' health, computing only those not remembered."""
    now = datetime.now(UTC)
    found: dict[Period, HealthWeek | None] = {p: cache.get((workspace, channel, p)) for p in periods}
    missing = [p for p, remembered in found.items() if remembered is None]
    for computed in await compute(missing) if missing else []:
        seconds = ENDED_WEEK_SECONDS if computed.period.end <= now else RUNNING_WEEK_SECONDS
        cache.put((workspace, channel, computed.period), computed, seconds)
        found[computed.period] = computed
    return [week for p in periods if (week := found[p]) is not None]
