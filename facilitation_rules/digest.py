"""The weekly digest: once per channel and period, what happened, compared with the week before.

Each watched public channel has a schedule (default Monday 09:00 in the workspace's time zone, changed with
`/steward digest schedule DAY HH:MM`). When an occurrence falls due, the rule asks the shell to publish that
period (`PublishDigest`); the shell claims the period through the `DigestSource` port (a unique row in the
database), so a restart, a late start or a second replica never posts a digest twice or skips one, and a digest
that is due while nobody ran is posted late, once. Figures come from the port too (aggregate SQL), and an
optional `Narrator` port may write the opening sentences from the aggregate figures (an LLM when one is
configured); without it, or when it delivers nothing, the template opening stands. The rule itself does no I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from bot.changes import Change, DigestDue, Set
from bot.core.digest_figures import (
    LESSONS_LISTED,
    QUIET_MESSAGES,
    WEEK,
    DigestSource,
    Figures,
    Helper,
    Narrator,
    NewLesson,
    OpenQuestion,
    Period,
    digest_key,
)
from bot.core.events import CommandInvoked, Event, TimePassed
from bot.i18n import time_of_day, weekday
from bot.rules import Command, CommandErrand, Decision, Errand, RuleBase, RuleContext
from bot.settings import WEEKDAYS
from bot.state import ChannelState
from facilitation_rules.digest_render import render_digest, render_stats
from facilitation_rules.digest_schedule import (
    GERMAN_WEEKDAYS,
    Schedule,
    in_digest,
    parse_day,
    parse_time,
    schedule_of,
)

logger = logging.getLogger(__name__)

STATS_DAYS = 30

__all__ = [
    "GERMAN_WEEKDAYS",
    "LESSONS_LISTED",
    "QUIET_MESSAGES",
    "WEEK",
    "DigestSource",
    "Figures",
    "Helper",
    "Narrator",
    "NewLesson",
    "OpenQuestion",
    "Period",
    "Schedule",
    "WeeklyDigest",
    "digest_key",
    "in_digest",
    "parse_day",
    "parse_time",
    "render_digest",
    "render_stats",
    "schedule_of",
]


class WeeklyDigest(RuleBase):
    """Posts each channel's digest when its schedule falls due, and answers the digest and stats commands."""

    name = "digest"
    reacts_to = (TimePassed,)

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the digest store in: then the rule stays silent
        # Caches of what the view implies, recomputed when channels, workspaces or the stored due moments change.
        self._schedules: dict[tuple[str, str], tuple[ChannelState, Schedule]] = {}
        self._layout_version = -1
        self._next: tuple[tuple[int, int], datetime | None] | None = None

    def commands(self) -> Mapping[str, Command]:
        return {
            "digest": Command("digest", self.digest_command, "digest.help", usage="preview | now | schedule DAY HH:MM"),
            "stats": Command("stats", self.stats_command, "digest.stats_help", usage="[days]"),
        }

    def next_due(self, ctx: RuleContext) -> datetime | None:
        if not self.enabled:
            return None
        version = (ctx.state.layout_version, ctx.state.digest_version)
        if self._next is not None and self._next[0] == version:
            return self._next[1]
        due = self._channels_due(ctx)
        earliest = min((at for _, at, _ in due), default=None)
        if all(stored for _, _, stored in due):  # a channel seen first waits for its latest occurrence: due now
            self._next = (version, earliest)
        return earliest

    def _channels_due(self, ctx: RuleContext) -> list[tuple[ChannelState, datetime, bool]]:
        """Each digest channel with the occurrence it waits for, and whether that is stored (a channel seen first
        waits for its latest occurrence, which the rule then stores)."""
        result = []
        for key, (channel, schedule) in self._scheduled(ctx).items():
            stored = ctx.state.digest_due.get(key)
            result.append((channel, stored or schedule.latest(ctx.now), stored is not None))
        return result

    def _scheduled(self, ctx: RuleContext) -> dict[tuple[str, str], tuple[ChannelState, Schedule]]:
        """The digest channels and their schedules, recomputed only when channels or workspaces changed.

        Replay asks for `next_due` before every event, so this must not re-read every channel's settings each time.
        """
        if ctx.state.layout_version != self._layout_version:
            self._layout_version = ctx.state.layout_version
            self._schedules = {}
            for key, channel in ctx.state.channels.items():
                schedule = schedule_of(ctx, channel) if in_digest(ctx, channel) else None
                if schedule is not None:
                    self._schedules[key] = (channel, schedule)
        return self._schedules

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not isinstance(event, TimePassed) or not self.enabled:
            return ()
        decision: list[Errand | Change] = []
        for channel, due, _ in self._channels_due(ctx):
            if due > ctx.now:
                continue
            _, schedule = self._schedules[(channel.workspace_id, channel.id)]
            decision.append(DigestDue(channel.workspace_id, channel.id, schedule.following(ctx.now)))
            if not ctx.backfill:  # history gets no digests; the first live period does
                decision.extend(self.scheduled(channel, schedule, due))
        return decision

    def scheduled(self, channel: ChannelState, schedule: Schedule, occurrence: datetime) -> list[Errand]:
        """The period's digest, posted late if Steward was not running at the occurrence; none for a channel
        silent for this week and the one before (a quiet week gets a short digest, a dead channel none at all).
        """
        period = schedule.period_ending(occurrence)
        if channel.last_activity_at is not None and channel.last_activity_at < period.start - WEEK:
            return []
        return [
            PublishDigest(
                workspace=channel.workspace_id,
                channel=channel.id,
                period=period,
                period_key=schedule.period_key(period),
            )
        ]

    # --- commands--------------------------------------------------------------------------------------------
    def digest_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        sub = args[0].lower() if args else "preview"
        if not self.enabled:
            return [ctx.reply(event, "digest.unavailable")]
        channel = ctx.channel(event.workspace, event.channel)
        if sub in {"preview", "vorschau"}:
            if not in_digest(ctx, channel):
                return [ctx.reply(event, "digest.not_here")]
            return [ShowDigest(workspace=event.workspace, command=event, channel=channel.id)]
        if not ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin):
            return [ctx.reply(event, "command.not_allowed", name=f"digest {sub}")]
        if sub in {"now", "jetzt"}:
            if not in_digest(ctx, channel):
                return [ctx.reply(event, "digest.not_here")]
            return [self.post_now(event, ctx, channel)]
        if sub in {"schedule", "zeitplan"}:
            return self.reschedule(event, args[1:], ctx)
        return [ctx.reply(event, "digest.usage")]

    def post_now(self, event: CommandInvoked, ctx: RuleContext, channel: ChannelState) -> ShowDigest:
        """Last week's digest, posted on request. Late in the week it replaces the scheduled one, which would
        repeat most of it: the shell claims that period and marks it skipped, so no scheduler or replica posts it.
        """
        stands_in: tuple[datetime, str] | None = None
        schedule = schedule_of(ctx, channel)
        if schedule is not None:
            occurrence = schedule.following(ctx.now)
            if occurrence - ctx.now <= WEEK / 2:
                stands_in = (occurrence, schedule.period_key(schedule.period_ending(occurrence)))
        return ShowDigest(workspace=event.workspace, command=event, channel=channel.id, post=True, stands_in=stands_in)

    def reschedule(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        """`schedule DAY HH:MM` or `schedule off`; the next digest follows the new schedule."""
        channel = ctx.channel(event.workspace, event.channel)
        if not in_digest(ctx, channel):
            return [ctx.reply(event, "digest.not_here")]
        ws, channel_id = channel.workspace_id, channel.id
        if args and args[0].lower() in {"off", "aus"}:
            return [
                Set.channel(ws, channel_id, settings={**channel.settings, "digest": "off"}),
                DigestDue(ws, channel_id, None),
                ctx.reply(event, "digest.schedule_off"),
            ]
        try:
            day, at = parse_day(args[0]), parse_time(args[1])
        except (IndexError, ValueError):
            return [ctx.reply(event, "digest.schedule_usage")]
        settings = {**channel.settings, "digest": {"day": WEEKDAYS[day], "time": f"{at:%H:%M}"}}
        schedule = schedule_of(ctx, replace(channel, settings=settings))
        assert schedule is not None
        lang = ctx.language(event.workspace, event.user)
        return [
            Set.channel(ws, channel_id, settings=settings),
            DigestDue(ws, channel_id, schedule.following(ctx.now)),
            ctx.reply(
                event,
                "digest.scheduled",
                day=weekday(day, lang),
                time=time_of_day(at, lang),
                timezone=schedule.timezone,
            )
        ]

    def stats_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        """Community health over the last days (default 30), for the whole workspace's public channels."""
        if not self.enabled:
            return [ctx.reply(event, "digest.unavailable")]
        try:
            days = int(args[0]) if args else STATS_DAYS
            if not 1 <= days <= 365:
                raise ValueError(days)
        except ValueError:
            return [ctx.reply(event, "digest.stats_usage")]
        return [ShowStats(workspace=event.workspace, command=event, days=days)]


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishDigest(Errand):
    """Post a channel's digest of a period that has ended: claim it (once per channel and period, whoever asks),
    read its figures, and post it unless the channel began in the period's second half (no fair comparison)."""

    channel: str
    period: Period
    period_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowDigest(CommandErrand):
    """`/steward digest preview|now`: the last seven days' digest, to the member or posted in the channel."""

    channel: str
    post: bool = False
    stands_in: tuple[datetime, str] | None = None  # the scheduled occurrence (and period key) it replaces


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowStats(CommandErrand):
    """`/steward stats [days]`: the workspace's health over the last days."""

    days: int
