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
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.actions import Action, Card, PostMessage
from bot.events import CommandInvoked, Event, TimePassed
from bot.i18n import translate
from bot.rules import Command, RuleBase, RuleContext
from bot.settings import WEEKDAYS
from bot.state import ChannelState

logger = logging.getLogger(__name__)

WEEK = timedelta(days=7)
QUIET_MESSAGES = 5  # fewer messages and no question: a quiet week gets the short digest
GERMAN_WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")
STATS_DAYS = 30
LESSONS_LISTED = 5  # new lessons named in a digest; the count covers all of them


# --- what the port delivers----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time, [start, end)."""

    start: datetime
    end: datetime

    def previous(self) -> Period:
        return Period(self.start - (self.end - self.start), self.start)


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    id: str
    channel: str
    asker: str
    asked_at: datetime
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class Helper:
    member: str
    answers: int


@dataclass(frozen=True, slots=True)
class NewLesson:
    title: str
    link: str = ""


@dataclass(frozen=True, slots=True)
class Figures:
    """Community health for one scope and period (see storage.metrics for the definitions)."""

    period: Period
    messages: int = 0
    active_members: int = 0
    new_members: int = 0
    questions_asked: int = 0
    questions_answered: int = 0
    questions_resolved: int = 0
    median_first_response_s: float | None = None
    p90_first_response_s: float | None = None
    first_message_at: datetime | None = None
    oldest_unanswered: tuple[OpenQuestion, ...] = ()
    helpers: tuple[Helper, ...] = ()
    first_responses: int = 0
    answerer_concentration: int | None = None
    new_contributors: tuple[str, ...] = ()
    inactive_contributors: tuple[str, ...] = ()
    trending: tuple[str, ...] = ()
    nudges_answered: int = 0
    new_lessons: int = 0
    lessons: tuple[NewLesson, ...] = ()  # the newest public ones, at most LESSONS_LISTED

    @property
    def response_rate(self) -> float | None:
        return self.questions_answered / self.questions_asked if self.questions_asked else None

    @property
    def quiet(self) -> bool:
        return self.messages < QUIET_MESSAGES and self.questions_asked == 0


class DigestSource(Protocol):
    """What the digest needs from storage; the app wires it to the database."""

    async def claim(self, workspace: str, channel: str, period_key: str, at: datetime) -> bool:
        """True if this caller now owns the digest of that channel and period (nobody else posts it)."""
        ...

    async def skip(self, workspace: str, channel: str, period_key: str) -> None:
        """Record that a claimed period gets no digest (no history yet, or one posted on request replaced it)."""
        ...

    async def figures(self, workspace: str, channel: str | None, period: Period, *, detail: bool = True) -> Figures: ...


class Narrator(Protocol):
    """Writes a digest's opening from aggregate figures only; None when it cannot (the template is used)."""

    async def opening(self, figures_summary: str, language: str) -> str | None: ...


def digest_key(channel: str, period_key: str) -> str:
    """The idempotency key of a scheduled digest post (also how storage finds its outbox row)."""
    return f"digest:{channel}:{period_key}"


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


# --- rendering-----------------------------------------------------------------------------------------------
def render_digest(
    ctx: RuleContext, channel: ChannelState, now: Figures, before: Figures, *, opening: str | None = None
) -> Card:
    """The digest card in the workspace's language: a clear template, short for a quiet week.

    `opening` replaces the template's first sentence (a narrator's); the figures below it stay the template's.
    """
    ws = channel.workspace_id
    lang = ctx.language(ws)
    zone = ZoneInfo(ctx.workspace(ws).timezone or "UTC")
    title = translate(
        "digest.title",
        lang,
        channel=f"<#{channel.id}>",
        start=_date(now.period.start.astimezone(zone), lang),
        end=_date((now.period.end - timedelta(seconds=1)).astimezone(zone), lang),
    )
    waiting = _unanswered_section(ctx, ws, now, lang)
    lessons = _lessons_section(now, lang)
    if now.quiet:
        quiet = translate("digest.quiet", lang, channel=f"<#{channel.id}>", messages=now.messages)
        return Card(title=title, sections=(quiet, *lessons, *waiting), footer=translate("digest.footer", lang))
    sections = [
        opening
        or translate(
            "digest.opening",
            lang,
            messages=now.messages,
            members=now.active_members,
            change=_change(now.messages, before.messages, lang),
        )
    ]
    if now.helpers:
        names = sorted((h.member for h in now.helpers), key=lambda m: _name(ctx, ws, m).lower())
        sections.append(translate("digest.thanks", lang, names=_join([f"<@{m}>" for m in names], lang)))
    if now.new_members:
        sections.append(translate("digest.welcome", lang, count=now.new_members))
    if now.trending:
        sections.append(translate("digest.trending", lang, topics=", ".join(now.trending)))
    sections.extend(lessons)
    sections.extend(waiting)
    return Card(
        title=title,
        sections=tuple(sections),
        fields=_fields(now, before, lang),
        footer=translate("digest.footer", lang),
    )


def _fields(now: Figures, before: Figures, lang: str) -> tuple[tuple[str, str], ...]:
    """The numbers, each with last week's beside it."""

    def compared(key: str, value: int, previous: int) -> tuple[str, str]:
        return translate(key, lang), f"{value} ({_change(value, previous, lang)})"

    rows = [
        compared("digest.field_messages", now.messages, before.messages),
        compared("digest.field_active", now.active_members, before.active_members),
        compared("digest.field_new", now.new_members, before.new_members),
        compared("digest.field_lessons", now.new_lessons, before.new_lessons),
        (
            translate("digest.field_questions", lang),
            translate(
                "digest.questions_value",
                lang,
                asked=now.questions_asked,
                answered=now.questions_answered,
                resolved=now.questions_resolved,
                before=before.questions_asked,
            ),
        ),
    ]
    if now.response_rate is not None:
        rate = translate("digest.percent", lang, value=round(100 * now.response_rate))
        if before.response_rate is not None:
            rate += " " + translate(
                "digest.last_week",
                lang,
                value=translate("digest.percent", lang, value=round(100 * before.response_rate)),
            )
        rows.append((translate("digest.field_response_rate", lang), rate))
    if now.median_first_response_s is not None and now.p90_first_response_s is not None:
        value = translate(
            "digest.response_time_value",
            lang,
            median=duration(now.median_first_response_s, lang),
            p90=duration(now.p90_first_response_s, lang),
        )
        if before.median_first_response_s is not None:
            value += " " + translate("digest.last_week", lang, value=duration(before.median_first_response_s, lang))
        rows.append((translate("digest.field_response_time", lang), value))
    return tuple(rows)


def _lessons_section(figures: Figures, lang: str) -> list[str]:
    """The period's new lessons with links: what the community now knows that it did not before."""
    if not figures.new_lessons:
        return []
    lines = [translate("digest.lessons_title", lang, count=figures.new_lessons)]
    lines += [
        translate("digest.lesson_item", lang, title=lesson.title, link=lesson.link).rstrip()
        for lesson in figures.lessons
    ]
    return ["\n".join(lines)]


def figures_summary(now: Figures, before: Figures) -> str:
    """The period in plain aggregate numbers, for a narrator: no message text, no names, no topics."""
    rate = "n/a" if now.response_rate is None else f"{round(100 * now.response_rate)} %"
    median = "n/a" if now.median_first_response_s is None else f"{now.median_first_response_s / 3600:.1f} h"
    lines = [
        f"days: {round((now.period.end - now.period.start).total_seconds() / 86400)}",
        f"messages: {now.messages} (previous period: {before.messages})",
        f"active members: {now.active_members} (previous period: {before.active_members})",
        f"new members: {now.new_members}",
        f"questions asked: {now.questions_asked} (previous period: {before.questions_asked})",
        f"questions answered: {now.questions_answered}",
        f"questions resolved: {now.questions_resolved}",
        f"response rate: {rate}",
        f"median time to first response: {median}",
        f"members thanked for helpful answers: {len(now.helpers)}",
        f"new lessons captured: {now.new_lessons}",
    ]
    return "\n".join(lines)


def _unanswered_section(ctx: RuleContext, ws: str, figures: Figures, lang: str) -> list[str]:
    if not figures.oldest_unanswered:
        return []
    lines = [translate("digest.unanswered_title", lang)]
    for q in figures.oldest_unanswered:
        age = duration((figures.period.end - q.asked_at).total_seconds(), lang)
        lines.append(
            translate(
                "digest.unanswered_item",
                lang,
                excerpt=q.excerpt or q.id,
                asker=_name(ctx, ws, q.asker),
                age=age,
                channel=f"<#{q.channel}>",
            )
        )
    return ["\n".join(lines)]


def render_stats(figures: Figures, lang: str, days: int) -> Card:
    """`/steward stats`: the CHAOSS-style figures, private to the member who asked."""

    def t(key: str, **params: object) -> str:
        return translate(key, lang, **params)

    rows: list[tuple[str, str]] = [
        (t("digest.field_messages"), str(figures.messages)),
        (t("digest.field_active"), str(figures.active_members)),
        (t("digest.field_new"), str(figures.new_members)),
        (
            t("digest.field_questions"),
            t(
                "digest.questions_value_short",
                asked=figures.questions_asked,
                answered=figures.questions_answered,
                resolved=figures.questions_resolved,
            ),
        ),
        (
            t("digest.field_response_rate"),
            "–" if figures.response_rate is None else t("digest.percent", value=round(100 * figures.response_rate)),
        ),
    ]
    if figures.median_first_response_s is not None and figures.p90_first_response_s is not None:
        rows.append(
            (
                t("digest.field_response_time"),
                t(
                    "digest.response_time_value",
                    median=duration(figures.median_first_response_s, lang),
                    p90=duration(figures.p90_first_response_s, lang),
                ),
            )
        )
    rows += [
        (t("digest.field_new_contributors"), str(len(figures.new_contributors))),
        (t("digest.field_inactive"), str(len(figures.inactive_contributors))),
        (
            t("digest.field_concentration"),
            "–"
            if figures.answerer_concentration is None
            else t(
                "digest.concentration_value",
                people=figures.answerer_concentration,
                answers=figures.first_responses,
            ),
        ),
        (t("digest.field_unanswered"), str(len(figures.oldest_unanswered))),
        (t("digest.field_nudges"), str(figures.nudges_answered)),
        (t("digest.field_lessons"), str(figures.new_lessons)),
    ]
    if figures.trending:
        rows.append((t("digest.field_trending"), ", ".join(figures.trending)))
    return Card(title=t("digest.stats_title", days=days), fields=tuple(rows))


def duration(seconds: float, lang: str) -> str:
    """A readable span: `45 min`, `3 h 20 min`, `2 d 4 h`."""
    minutes = max(0, round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return translate("digest.duration_days", lang, days=days, hours=hours)
    if hours:
        return translate("digest.duration_hours", lang, hours=hours, minutes=mins)
    return translate("digest.duration_minutes", lang, minutes=mins)


def _change(value: int, previous: int, lang: str) -> str:
    delta = value - previous
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    return translate("digest.change", lang, delta=f"{sign}{abs(delta)}")


def _date(moment: datetime, lang: str) -> str:
    return translate("digest.date", lang, year=moment.year, month=moment.month, day=moment.day)


def _join(items: Sequence[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {translate('digest.and', lang)} {items[-1]}"


def _name(ctx: RuleContext, workspace: str, member_id: str) -> str:
    member = ctx.state.members.get((workspace, member_id))
    return member.name if member is not None and member.name else member_id
