"""The weekly digest: once per channel and period, what happened, compared with the week before.

Each watched public channel has a schedule (default Monday 09:00 in the workspace's time zone, changed with
`/steward digest schedule DAY HH:MM`). When an occurrence falls due, the rule claims the period through its
`DigestSource` port (a unique row in the database), so a restart, a late start or a second replica never posts
a digest twice or skips one; a digest that is due while nobody ran is posted late, once. Figures come from the
port too (aggregate SQL), which keeps the rule free of I/O of its own. An optional `Narrator` port may write
the opening sentences from the aggregate figures (an LLM when one is configured); without it, or when it
delivers nothing, the template opening stands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.actions import Action, Card, PostMessage
from bot.core.events import CommandInvoked, Event, TimePassed
from bot.i18n import translate
from bot.rules import Command, RuleBase, RuleContext
from bot.settings import WEEKDAYS
from bot.state import ChannelState
from facilitation_rules.digest_figures import (
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
from facilitation_rules.digest_render import duration, figures_summary, render_digest, render_stats
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
    "GERMAN_WEEKDAYS", "LESSONS_LISTED", "QUIET_MESSAGES", "WEEK", "DigestSource", "Figures", "Helper", "Narrator",
    "NewLesson", "OpenQuestion", "Period", "Schedule", "WeeklyDigest", "digest_key", "duration", "in_digest",
    "parse_day", "parse_time", "render_digest", "render_stats", "schedule_of",
]


class WeeklyDigest(RuleBase):
    """Posts each channel's digest when its schedule falls due, and answers the digest and stats commands."""

    name = "digest"
    reacts_to = (TimePassed,)

    def __init__(self, source: DigestSource | None = None, narrator: Narrator | None = None) -> None:
        self.source = source  # None until the app wires storage in: then the rule stays silent
        self.narrator = narrator  # None: the template opening
        self._due: dict[tuple[str, str], datetime] = {}  # the occurrence each channel waits for
        self._schedules: dict[tuple[str, str], tuple[ChannelState, Schedule]] = {}
        self._layout_version = -1
        self._next: tuple[datetime | None] | None = None  # cached earliest due moment; None: recompute

    def commands(self) -> Mapping[str, Command]:
        return {
            "digest": Command("digest", self.digest_command, "digest.help", usage="preview | now | schedule DAY HH:MM"),
            "stats": Command("stats", self.stats_command, "digest.stats_help", usage="[days]"),
        }

    def next_due(self, ctx: RuleContext) -> datetime | None:
        if self.source is None:
            return None
        if self._next is None or ctx.state.layout_version != self._layout_version:
            self._next = (min((due for _, due in self._channels_due(ctx)), default=None),)
        return self._next[0]

    def _channels_due(self, ctx: RuleContext) -> list[tuple[ChannelState, datetime]]:
        """Each digest channel with the occurrence it waits for (a newly seen channel: its latest one)."""
        result = []
        for key, (channel, schedule) in self._scheduled(ctx).items():
            due = self._due.get(key)
            if due is None:
                due = self._due[key] = schedule.latest(ctx.now)
            result.append((channel, due))
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
            for key in self._due.keys() - self._schedules.keys():
                del self._due[key]
        return self._schedules

    async def handle(self, event: Event, ctx: RuleContext) -> Sequence[Action]:
        if not isinstance(event, TimePassed) or self.source is None:
            return ()
        actions: list[Action] = []
        for channel, due in self._channels_due(ctx):
            if due > ctx.now:
                continue
            _, schedule = self._schedules[(channel.workspace_id, channel.id)]
            self._due[(channel.workspace_id, channel.id)] = schedule.following(ctx.now)
            self._next = None
            if not ctx.backfill:  # history gets no digests; the first live period does
                actions.extend(await self.scheduled(ctx, channel, schedule, due))
        return actions

    async def scheduled(
        self, ctx: RuleContext, channel: ChannelState, schedule: Schedule, occurrence: datetime
    ) -> list[Action]:
        """Claim the period, then post its digest (late if Steward was not running at the occurrence).

        A channel that began in the second half of the period gets its first digest a week later: a few days
        of history make a misleading week (and "compared with last week" would compare with nothing). A channel
        silent for this week and the one before gets none.
        """
        assert self.source is not None
        ws, period = channel.workspace_id, schedule.period_ending(occurrence)
        if channel.last_activity_at is not None and channel.last_activity_at < period.start - WEEK:
            return []  # dormant for two weeks: a quiet week gets a short digest, a dead channel none at all
        key = schedule.period_key(period)
        if not await self.source.claim(ws, channel.id, key, ctx.now):
            logger.info("digest %s %s %s is someone else's", ws, channel.id, key)
            return []
        figures = await self.source.figures(ws, channel.id, period)
        if (
            figures.first_message_at is None
            or figures.first_message_at > period.start + (period.end - period.start) / 2
        ):
            await self.source.skip(ws, channel.id, key)
            return []
        previous = await self.source.figures(ws, channel.id, period.previous(), detail=False)
        opening = await self.opening(ctx, channel, figures, previous)
        card = render_digest(ctx, channel, figures, previous, opening=opening)
        logger.info("digest %s %s %s decided", ws, channel.id, key)
        return [PostMessage(key=digest_key(channel.id, key), workspace=ws, channel=channel.id, text="", card=card)]

    # --- commands--------------------------------------------------------------------------------------------
    async def digest_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> list[Action]:
        sub = args[0].lower() if args else "preview"
        if self.source is None:
            return [ctx.reply(event, "digest.unavailable")]
        if sub in {"preview", "vorschau"}:
            return await self.preview(event, ctx)
        if not ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin):
            return [ctx.reply(event, "command.not_allowed", name=f"digest {sub}")]
        if sub in {"now", "jetzt"}:
            return await self.post_now(event, ctx)
        if sub in {"schedule", "zeitplan"}:
            return self.reschedule(event, args[1:], ctx)
        return [ctx.reply(event, "digest.usage")]

    async def _last_week(self, ctx: RuleContext, channel: ChannelState) -> Card:
        assert self.source is not None
        period = Period(ctx.now - WEEK, ctx.now)
        figures = await self.source.figures(channel.workspace_id, channel.id, period)
        previous = await self.source.figures(channel.workspace_id, channel.id, period.previous(), detail=False)
        opening = await self.opening(ctx, channel, figures, previous)
        return render_digest(ctx, channel, figures, previous, opening=opening)

    async def opening(self, ctx: RuleContext, channel: ChannelState, now: Figures, before: Figures) -> str | None:
        """The narrator's opening for a busy week; None (the template) without one, for a quiet week or an import.

        A failing narrator must not cost a digest whose period is already claimed, so any error means None.
        """
        if self.narrator is None or now.quiet or ctx.backfill:
            return None
        try:
            return await self.narrator.opening(figures_summary(now, before), ctx.language(channel.workspace_id))
        except Exception as exc:  # the optional opening never stops the digest; the reason goes to the log
            logger.warning("digest opening failed (%s: %s); using the template", type(exc).__name__, exc)
            return None

    async def preview(self, event: CommandInvoked, ctx: RuleContext) -> list[Action]:
        channel = ctx.channel(event.workspace, event.channel)
        if not in_digest(ctx, channel):
            return [ctx.reply(event, "digest.not_here")]
        return [ctx.reply(event, "digest.preview_intro", card=await self._last_week(ctx, channel))]

    async def post_now(self, event: CommandInvoked, ctx: RuleContext) -> list[Action]:
        channel = ctx.channel(event.workspace, event.channel)
        if not in_digest(ctx, channel):
            return [ctx.reply(event, "digest.not_here")]
        card = await self._last_week(ctx, channel)
        post = PostMessage(
            key=f"digest-now:{channel.id}:{event.at.isoformat()}",
            workspace=event.workspace,
            channel=channel.id,
            text="",
            card=card,
        )
        replaced = await self._stand_in_for_scheduled(ctx, channel)
        if replaced is None:
            return [post, ctx.reply(event, "digest.posted")]
        local = replaced.astimezone(ZoneInfo(ctx.workspace(event.workspace).timezone or "UTC"))
        day = translate(f"digest.day_{WEEKDAYS[local.weekday()]}", ctx.language(event.workspace, event.user))
        return [post, ctx.reply(event, "digest.posted_instead", day=day, time=f"{local:%H:%M}")]

    async def _stand_in_for_scheduled(self, ctx: RuleContext, channel: ChannelState) -> datetime | None:
        """A digest posted by hand late in the week replaces the scheduled one, which would repeat most of it.

        The scheduled period is claimed and marked skipped, so no scheduler or replica posts it; returns the
        occurrence replaced (None when the next one is more than half a week away and is still wanted).
        """
        assert self.source is not None
        schedule = schedule_of(ctx, channel)
        if schedule is None:
            return None
        occurrence = schedule.following(ctx.now)
        if occurrence - ctx.now > WEEK / 2:
            return None
        key = schedule.period_key(schedule.period_ending(occurrence))
        if not await self.source.claim(channel.workspace_id, channel.id, key, ctx.now):
            return None
        await self.source.skip(channel.workspace_id, channel.id, key)
        logger.info("digest %s %s %s replaced by one posted on request", channel.workspace_id, channel.id, key)
        return occurrence

    def reschedule(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> list[Action]:
        """`schedule DAY HH:MM` or `schedule off`; the next digest follows the new schedule."""
        channel = ctx.channel(event.workspace, event.channel)
        if not in_digest(ctx, channel):
            return [ctx.reply(event, "digest.not_here")]
        if args and args[0].lower() in {"off", "aus"}:
            channel.settings = {**channel.settings, "digest": "off"}
            ctx.state.touch_channel(channel)
            self._due.pop((channel.workspace_id, channel.id), None)
            return [ctx.reply(event, "digest.schedule_off")]
        try:
            day, at = parse_day(args[0]), parse_time(args[1])
        except (IndexError, ValueError):
            return [ctx.reply(event, "digest.schedule_usage")]
        channel.settings = {**channel.settings, "digest": {"day": WEEKDAYS[day], "time": f"{at:%H:%M}"}}
        ctx.state.touch_channel(channel)
        schedule = schedule_of(ctx, channel)
        assert schedule is not None
        self._due[(channel.workspace_id, channel.id)] = schedule.following(ctx.now)
        lang = ctx.language(event.workspace, event.user)
        return [
            ctx.reply(
                event,
                "digest.scheduled",
                day=translate(f"digest.day_{WEEKDAYS[day]}", lang),
                time=f"{at:%H:%M}",
                timezone=schedule.timezone,
            )
        ]

    async def stats_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> list[Action]:
        """Community health over the last days (default 30), for the whole workspace's public channels."""
        if self.source is None:
            return [ctx.reply(event, "digest.unavailable")]
        try:
            days = int(args[0]) if args else STATS_DAYS
            if not 1 <= days <= 365:
                raise ValueError(days)
        except ValueError:
            return [ctx.reply(event, "digest.stats_usage")]
        period = Period(ctx.now - timedelta(days=days), ctx.now)
        figures = await self.source.figures(event.workspace, None, period)
        lang = ctx.language(event.workspace, event.user)
        return [ctx.reply(event, "digest.stats_intro", card=render_stats(figures, lang, days))]
