"""Working hours: answer times count only the hours a community works, in its own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class WorkingHours:
    timezone: str = "UTC"
    start_hour: int = 9
    end_hour: int = 17
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0

    def is_working(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        return local.weekday() in self.weekdays and self.start_hour <= local.hour < self.end_hour

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `start` (DST-safe: computed on local wall-clock days)."""
        zone = ZoneInfo(self.timezone)
        remaining = timedelta(hours=hours)
        local = start.astimezone(zone)
        for _ in range(3700):  # ten years of days: a guard, not a limit anyone reaches
            day = local.date()
            if local.weekday() in self.weekdays:
                opens = datetime.combine(day, time(self.start_hour), zone)
                closes = (
                    datetime.combine(day + timedelta(days=1), time(0), zone)
                    if self.end_hour >= 24
                    else datetime.combine(day, time(self.end_hour), zone)
                )
                begin = max(local, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= available
            local = datetime.combine(day + timedelta(days=1), time(0), zone)
        raise ValueError("working hours never open: check WORK_DAYS and the working hours")

    def subtract(self, end: datetime, hours: float) -> datetime:
        """The moment `hours` working hours before `end` (the reverse of `add`, on the same wall-clock days)."""
        zone = ZoneInfo(self.timezone)
        remaining = timedelta(hours=hours)
        local = end.astimezone(zone)
        for _ in range(3700):
            day = local.date()
            if local.weekday() in self.weekdays:
                opens = datetime.combine(day, time(self.start_hour), zone)
                closes = (
                    datetime.combine(day + timedelta(days=1), time(0), zone)
                    if self.end_hour >= 24
                    else datetime.combine(day, time(self.end_hour), zone)
                )
                finish = min(local, closes)
                if finish > opens:
                    available = finish - opens
                    if remaining <= available:
                        return (finish - remaining).astimezone(end.tzinfo)
                    remaining -= available
            local = datetime.combine(day, time(0), zone) - timedelta(microseconds=1)  # the day before, at its end
        raise ValueError("working hours never open: check WORK_DAYS and the working hours")


def in_quiet_hours(moment: datetime, timezone: str, quiet_start: int, quiet_end: int) -> bool:
    """Quiet hours may wrap midnight (20 -> 8)."""
    hour = moment.astimezone(ZoneInfo(timezone)).hour
    if quiet_start == quiet_end:
        return False
    if quiet_start < quiet_end:
        return quiet_start <= hour < quiet_end
    return hour >= quiet_start or hour < quiet_end
