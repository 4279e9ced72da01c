"""When a channel's digest is due: its weekly schedule, parsed from what facilitators type."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.digest_figures import WEEK, Period
from bot.rules import RuleContext
from bot.settings import WEEKDAYS
from bot.state import ChannelState

logger = logging.getLogger(__name__)

GERMAN_WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")


# --- schedules-----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Schedule:
    weekday: int  # 0 = Monday
    at: time
    timezone: str = "UTC"

    def latest(self, now: datetime) -> datetime:
        """The most recent occurrence at or before `now` (UTC)."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        day = local.date() - timedelta(days=(local.weekday() - self.weekday) % 7)
        moment = self._at(day)
        return moment if moment <= now else self._at(day - WEEK)

    def following(self, now: datetime) -> datetime:
        """The first occurrence after `now`."""
        latest = self.latest(now)
        return self._at(latest.astimezone(ZoneInfo(self.timezone)).date() + WEEK)

    def period_ending(self, occurrence: datetime) -> Period:
        """The week a digest at `occurrence` reports on: from the occurrence a week earlier (local time)."""
        day = occurrence.astimezone(ZoneInfo(self.timezone)).date()
        return Period(self._at(day - WEEK), occurrence)

    def period_key(self, period: Period) -> str:
        """ISO week of the period's first local day: at most one scheduled digest per channel and week."""
        return period.start.astimezone(ZoneInfo(self.timezone)).date().strftime("%G-W%V")

    def _at(self, day: date) -> datetime:
        return datetime.combine(day, self.at, tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)


def parse_day(text: str) -> int:
    """`mon`, `Monday`, `Mo`, `Montag` -> 0."""
    word = text.strip().lower()
    for names in (WEEKDAYS, GERMAN_WEEKDAYS):
        for index, name in enumerate(names):
            if word.startswith(name) and (len(word) >= 3 or len(name) == 2):
                return index
    raise ValueError(text)


def parse_time(text: str) -> time:
    """`9:00`, `09:30`, `17` -> a time of day."""
    hour, _, minute = text.strip().partition(":")
    return time(int(hour), int(minute or 0))


def schedule_of(ctx: RuleContext, channel: ChannelState) -> Schedule | None:
    """The channel's schedule (its own setting, else the community default); None when switched off."""
    own = channel.settings.get("digest")
    timezone = ctx.workspace(channel.workspace_id).timezone or "UTC"
    if own == "off":
        return None
    day, at = ctx.settings.digest_day, ctx.settings.digest_time
    if isinstance(own, dict):
        day, at = own.get("day", day), own.get("time", at)
    try:
        return Schedule(parse_day(day), parse_time(at), timezone)
    except ValueError:
        logger.warning("channel %s has an unreadable digest schedule %r; using Monday 09:00", channel.id, own)
        return Schedule(0, time(9), timezone)


def in_digest(ctx: RuleContext, channel: ChannelState) -> bool:
    """Watched public community channels get a digest; private ones and the facilitators' never do."""
    return (
        channel.watched
        and not channel.private
        and channel.kind != "facilitators"
        and channel.name != ctx.settings.facilitators_channel
    )


# --- the rule------------------------------------------------------------------------------------------------
