"""Community health figures (CHAOSS-style) from aggregate SQL over the stored lifecycle timestamps.

Every figure is a query over the question, message, member, nudge and lesson tables; nothing re-reads chat in Python
except the texts of recent questions, which feed the trending keywords. Private channels never count.
Periods are half-open, [start, end): a digest computed late gives the same figures as one computed on time,
because lifecycle steps after the period's end are ignored.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from bot.core.digest_figures import LESSONS_LISTED, Cohort, Figures, Helper, NewLesson, OpenQuestion, Period
from bot.core.markup import excerpt
from bot.core.questions import OPEN_STATUSES
from bot.core.text.topics import topics
from storage.decisions import decided_in
from storage.ideas import ideas_in
from storage.initiatives import active_in
from storage.lesson_model import T_LESSON
from storage.repository import T_CHANNEL, T_MEMBER, T_MESSAGE, T_NUDGE, T_QUESTION, T_RESPONSE, T_WORKSPACE

logger = logging.getLogger(__name__)

NOT_QUESTIONS = ("not_a_question", "withdrawn")
# CHAOSS "inactive contributors": someone who posted before and then nothing in scope for this long. The audit
# lists who is inactive at its end; a digest, who became inactive during its week. One definition for both.
INACTIVE_AFTER = timedelta(days=28)
TRENDING_SAMPLE = 200  # most recent question texts read for topics (tagging costs a few ms each)
TRENDING_MIN_QUESTIONS = 2
EXCERPT = 120
COHORT_MONTHS = 13  # newcomer conversion is shown for at most this many months

Q, M, MEM = T_QUESTION, T_MESSAGE, T_MEMBER
# Second copies of tables for "was there an earlier one?" look-ups, built once: an alias of a wide table costs
# more to build than some of the queries it serves take to run.
EARLIER_RESPONSE = aliased(T_RESPONSE, name="earlier_response")
EARLIER_QUESTION = aliased(Q, name="earlier_question")
EARLIER_MESSAGE = aliased(M, name="earlier_message")


async def public_channels(conn: AsyncConnection, workspace: str, channel: str | None) -> list[str]:
    """The channels in scope: the one asked for, or every channel of the workspace, never a private one."""
    stmt = select(T_CHANNEL.c.id).where(T_CHANNEL.c.workspace_id == workspace, T_CHANNEL.c.private.is_(False))
    if channel is not None:
        stmt = stmt.where(T_CHANNEL.c.id == channel)
    return sorted((await conn.execute(stmt)).scalars())


async def figures(
    db: AsyncEngine, workspace: str, period: Period, channel: str | None = None, *, detail: bool = True
) -> Figures:
    """All figures for one period; `detail=False` skips the lists (enough for "compared with last week")."""
    async with db.connect() as conn:
        channels = await public_channels(conn, workspace, channel)
        if not channels:
            return Figures(period=period)
        scope = _Scope(workspace, channels)
        counts = await _message_counts(conn, scope, period)
        asked, answered = await _question_counts(conn, scope, period)
        median, p90 = await _first_response_percentiles(conn, scope, period)
        result = Figures(
            period=period,
            messages=counts[0],
            active_members=counts[1],
            new_members=await _new_members(conn, scope, period, whole_workspace=channel is None),
            questions_asked=asked,
            questions_answered=answered,
            questions_resolved=await _resolved(conn, scope, period),
            median_first_response_s=median,
            p90_first_response_s=p90,
            first_message_at=await _first_message_at(conn, scope),
            new_lessons=await _new_lesson_count(conn, scope, period),
        )
        if not detail:
            return result
        responses, concentration = await _answerer_concentration(conn, scope, period)
        answerers, first_timers = await _answerers(conn, scope, period)
        return replace(
            result,
            answerers=answerers,
            first_time_helpers=first_timers,
            newcomers=await _cohorts(conn, scope, period),
            oldest_unanswered=await oldest_unanswered(conn, scope, period.end),
            helpers=await _helpers(conn, scope, period),
            first_responses=responses,
            answerer_concentration=concentration,
            new_contributors=await _new_contributors(conn, scope, period),
            inactive_contributors=await _inactive_contributors(conn, scope, period),
            trending=await _trending(conn, scope, period),
            nudges_answered=await _nudges_answered(conn, scope, period),
            lessons=await _new_lessons(conn, scope, period) if result.new_lessons else (),
            decisions=await decided_in(conn, scope.workspace, scope.channels, period.start, period.end),
            ideas=await ideas_in(conn, scope.workspace, scope.channels, period.start, period.end),
            initiatives=await active_in(conn, scope.workspace, scope.channels, period.end),
        )


class _Scope:
    """Which rows count: one workspace, its public channels (or one of them)."""

    def __init__(self, workspace: str, channels: Sequence[str]) -> None:
        self.workspace = workspace
        self.channels = list(channels)

    def messages(self) -> ColumnElement[bool]:
        return and_(
            M.c.workspace_id == self.workspace,
            M.c.channel_id.in_(self.channels),
            M.c.is_bot.is_(False),
            M.c.deleted_at.is_(None),
        )

    def lessons(self) -> ColumnElement[bool]:
        """Public lessons captured in the channels in scope (a private lesson never reaches a digest)."""
        return and_(
            T_LESSON.c.workspace_id == self.workspace,
            T_LESSON.c.channel_id.in_(self.channels),
            T_LESSON.c.private.is_(False),
        )

    def questions(self, table: Any = Q) -> ColumnElement[bool]:
        """Questions asked in scope (`table`: the question table or an alias of it)."""
        return and_(
            table.c.workspace_id == self.workspace,
            table.c.channel_id.in_(self.channels),
            table.c.status.not_in(NOT_QUESTIONS),
        )


def _within(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _seconds_between(conn: AsyncConnection, later: Any, earlier: Any) -> Any:
    """Seconds from `earlier` to `later`, in the dialect's own arithmetic."""
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


async def _scalar(conn: AsyncConnection, stmt: Any) -> Any:
    return (await conn.execute(stmt)).scalar()


async def _message_counts(conn: AsyncConnection, scope: _Scope, period: Period) -> tuple[int, int]:
    """Messages and distinct authors (active members) in the period."""
    row = (
        await conn.execute(
            select(func.count(), func.count(M.c.user_id.distinct())).where(
                scope.messages(), _within(M.c.posted_at, period)
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def _first_message_at(conn: AsyncConnection, scope: _Scope) -> datetime | None:
    moment: datetime | None = await _scalar(conn, select(func.min(M.c.posted_at)).where(scope.messages()))
    return moment


async def _new_members(conn: AsyncConnection, scope: _Scope, period: Period, *, whole_workspace: bool) -> int:
    """Members first seen in the period; for one channel, only those who also posted there in the period."""
    stmt = select(func.count()).where(
        MEM.c.workspace_id == scope.workspace, MEM.c.is_bot.is_(False), _within(MEM.c.first_seen_at, period)
    )
    if not whole_workspace:
        posters = select(M.c.user_id).where(scope.messages(), _within(M.c.posted_at, period))
        stmt = stmt.where(MEM.c.id.in_(posters))
    return int(await _scalar(conn, stmt) or 0)


async def _question_counts(conn: AsyncConnection, scope: _Scope, period: Period) -> tuple[int, int]:
    """Questions asked in the period, and how many of them had a first response before the period ended."""
    answered = func.sum(func.coalesce((Q.c.first_response_at < period.end).cast(Integer), 0))
    row = (
        await conn.execute(
            select(func.count(), answered).where(scope.questions(), _within(Q.c.asked_at, period))
        )
    ).one()
    return int(row[0]), int(row[1] or 0)


async def _resolved(conn: AsyncConnection, scope: _Scope, period: Period) -> int:
    """Questions resolved during the period, whenever they were asked."""
    return int(
        await _scalar(conn, select(func.count()).where(scope.questions(), _within(Q.c.resolved_at, period)))
    )


async def _first_response_percentiles(
    conn: AsyncConnection, scope: _Scope, period: Period
) -> tuple[float | None, float | None]:
    """Median and 90th percentile of time to first response (questions asked and answered in the period)."""
    seconds = _seconds_between(conn, Q.c.first_response_at, Q.c.asked_at)
    where = and_(scope.questions(), _within(Q.c.asked_at, period), Q.c.first_response_at < period.end)
    if conn.dialect.name == "postgresql":
        row = (
            await conn.execute(
                select(
                    func.percentile_cont(0.5).within_group(seconds),
                    func.percentile_cont(0.9).within_group(seconds),
                ).where(where)
            )
        ).one()
        return _float(row[0]), _float(row[1])
    durations = [
        float(v) for v in (await conn.execute(select(seconds).where(where).order_by(seconds))).scalars()
    ]
    return percentile(durations, 0.5), percentile(durations, 0.9)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont does."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def oldest_unanswered(
    conn: AsyncConnection, scope: _Scope, before: datetime, *, limit: int = 3
) -> tuple[OpenQuestion, ...]:
    """Open questions nobody has responded to yet, oldest first, with the start of their text."""
    stmt = (
        select(Q.c.id, Q.c.channel_id, Q.c.asker_id, Q.c.asked_at, M.c.text)
        .select_from(Q.outerjoin(M, and_(M.c.workspace_id == Q.c.workspace_id, M.c.id == Q.c.id)))
        .where(
            scope.questions(),
            Q.c.status.in_(OPEN_STATUSES),
            Q.c.first_response_id.is_(None),
            Q.c.asked_at < before,
        )
        .order_by(Q.c.asked_at, Q.c.id)
        .limit(limit)
    )
    return tuple(
        OpenQuestion(
            id=r.id, channel=r.channel_id, asker=r.asker_id, asked_at=r.asked_at, excerpt=excerpt(r.text or "", EXCERPT)
        )
        for r in await conn.execute(stmt)
    )


async def _helpers(conn: AsyncConnection, scope: _Scope, period: Period) -> tuple[Helper, ...]:
    """Members whose first response was to a question resolved (accepted or thanked) in the period."""
    stmt = (
        select(Q.c.first_responder_id, func.count().label("answers"))
        .select_from(
            Q.outerjoin(MEM, and_(MEM.c.workspace_id == Q.c.workspace_id, MEM.c.id == Q.c.first_responder_id))
        )
        .where(
            scope.questions(),
            _within(Q.c.resolved_at, period),
            Q.c.first_responder_id.is_not(None),
            Q.c.first_responder_id != Q.c.asker_id,
            func.coalesce(MEM.c.is_bot, False).is_(False),
        )
        .group_by(Q.c.first_responder_id)
        .order_by(Q.c.first_responder_id)
    )
    return tuple(Helper(member=r[0], answers=int(r[1])) for r in await conn.execute(stmt))


async def _answerer_concentration(
    conn: AsyncConnection, scope: _Scope, period: Period
) -> tuple[int, int | None]:
    """First responses in the period, and the fewest people who gave half of them (CHAOSS "bus factor")."""
    per_person = (
        select(Q.c.first_responder_id.label("who"), func.count().label("n"))
        .where(scope.questions(), Q.c.first_responder_id.is_not(None), _within(Q.c.first_response_at, period))
        .group_by(Q.c.first_responder_id)
        .subquery()
    )
    ranked = select(
        per_person.c.n,
        func.sum(per_person.c.n)
        .over(order_by=(per_person.c.n.desc(), per_person.c.who), rows=(None, 0))
        .label("cum"),
        func.sum(per_person.c.n).over().label("total"),
    ).subquery()
    row = (
        await conn.execute(
            select(
                func.max(ranked.c.total),
                func.sum(func.coalesce((ranked.c.cum - ranked.c.n < ranked.c.total / 2.0).cast(Integer), 0)),
            )
        )
    ).one()
    total = int(row[0] or 0)
    return total, (int(row[1]) if total else None)


async def _answerers(conn: AsyncConnection, scope: _Scope, period: Period) -> tuple[int, tuple[str, ...]]:
    """How many people answered someone's question in the period, and who among them answered one for the first
    time (their earliest answer in scope falls in the period). A count and names, never a count per person.

    Nobody is a first-time helper in the first period Steward has answers for: without earlier history, "first"
    would only mean "first since Steward arrived"."""
    r = T_RESPONSE
    history = await _scalar(conn, _counted_answers(r, scope, Q).with_only_columns(r.c.id)
                            .where(r.c.at < period.start).limit(1))
    answerers = (
        _counted_answers(r, scope, Q).with_only_columns(r.c.responder_id)
        .where(_within(r.c.at, period)).group_by(r.c.responder_id).subquery("answerers")
    )
    # Whether each answerer answered before the period: one look along the responder index that stops at the
    # first earlier answer in scope, so the cost follows the period's answerers, not the whole history.
    earlier, asked = EARLIER_RESPONSE, EARLIER_QUESTION
    answered_before = exists(
        _counted_answers(earlier, scope, asked, check_bot=False).with_only_columns(earlier.c.id)
        .where(earlier.c.responder_id == answerers.c.responder_id, earlier.c.at < period.start)
    )
    rows = list(await conn.execute(
        select(answerers.c.responder_id, answered_before.label("veteran")).order_by(answerers.c.responder_id)
    ))
    first_timers = tuple(row.responder_id for row in rows if not row.veteran) if history is not None else ()
    return len(rows), first_timers


def _counted_answers(r: Any, scope: _Scope, asked: Any, *, check_bot: bool = True) -> Any:
    """Responses that count as someone answering a question in scope: not the asker's own, not a bot's, not an
    acceptance (a select of nothing yet: callers pick the columns)."""
    joined = r.join(asked, and_(asked.c.workspace_id == r.c.workspace_id, asked.c.id == r.c.question_id))
    conditions = [
        scope.questions(asked),
        r.c.workspace_id == scope.workspace,
        r.c.accepted.is_(False),
        r.c.responder_id != asked.c.asker_id,
    ]
    if check_bot:
        joined = joined.outerjoin(MEM, and_(MEM.c.workspace_id == r.c.workspace_id, MEM.c.id == r.c.responder_id))
        conditions.append(func.coalesce(MEM.c.is_bot, False).is_(False))
    return select().select_from(joined).where(*conditions)


def months_touching(period: Period, timezone: str) -> list[tuple[Period, date]]:
    """The calendar months (in the community's time zone) the period touches, oldest first, at most
    COHORT_MONTHS of them (the latest)."""
    zone = ZoneInfo(timezone)
    last = (period.end - timedelta(microseconds=1)).astimezone(zone).date().replace(day=1)
    day = period.start.astimezone(zone).date().replace(day=1)
    months: list[tuple[Period, date]] = []
    while day <= last:
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        start = datetime(day.year, day.month, 1, tzinfo=zone)
        end = datetime(following.year, following.month, 1, tzinfo=zone)
        months.append((Period(start, end), day))
        day = following
    return months[-COHORT_MONTHS:]


async def newcomer_conversion(
    conn: AsyncConnection, scope: _Scope, month: Period, first_day: date, *, as_of: datetime
) -> Cohort:
    """Newcomer conversion, the one definition (CHAOSS "Conversion Rate", D0 -> D1 -> D2): members who first joined
    a channel in scope during `month` (before `as_of`), how many of them have posted in scope since joining, and
    how many have answered someone else's question there, all before `as_of`."""
    joined = (
        select(MEM.c.id.label("member"), MEM.c.joined_at.label("joined_at"))
        .where(
            MEM.c.workspace_id == scope.workspace,
            MEM.c.is_bot.is_(False),
            MEM.c.joined_channel.in_(scope.channels),
            MEM.c.joined_at >= month.start,
            MEM.c.joined_at < min(month.end, as_of),
        )
        .subquery()
    )
    posted = exists(
        select(M.c.id).where(
            scope.messages(), M.c.user_id == joined.c.member, M.c.posted_at >= joined.c.joined_at, M.c.posted_at < as_of
        )
    )
    r = T_RESPONSE
    answered = exists(
        select(r.c.id)
        .select_from(r.join(Q, and_(Q.c.workspace_id == r.c.workspace_id, Q.c.id == r.c.question_id)))
        .where(
            scope.questions(),
            r.c.workspace_id == scope.workspace,
            r.c.responder_id == joined.c.member,
            Q.c.asker_id != joined.c.member,
            r.c.at >= joined.c.joined_at,
            r.c.at < as_of,
        )
    )
    row = (
        await conn.execute(
            select(
                func.count(),
                func.sum(case((posted, 1), else_=0)),
                func.sum(case((answered, 1), else_=0)),
            ).select_from(joined)
        )
    ).one()
    return Cohort(month=month, first_day=first_day, joined=int(row[0]), posted=int(row[1] or 0),
                  answered=int(row[2] or 0))


async def _cohorts(conn: AsyncConnection, scope: _Scope, period: Period) -> tuple[Cohort, ...]:
    """Newcomer conversion for each month the period touches, as of the period's end."""
    zone = await _scalar(conn, select(T_WORKSPACE.c.timezone).where(T_WORKSPACE.c.id == scope.workspace))
    try:
        months = months_touching(period, zone or "UTC")
    except (KeyError, ValueError):  # an unknown zone name: the months as UTC counts them
        logger.warning("workspace %s has an unknown time zone %r; months counted in UTC", scope.workspace, zone)
        months = months_touching(period, "UTC")
    return tuple(
        [await newcomer_conversion(conn, scope, month, first, as_of=period.end) for month, first in months]
    )


async def conversion(
    db: AsyncEngine, workspace: str, period: Period, channel: str | None = None
) -> tuple[Cohort, ...]:
    """Newcomer conversion per month over the public channels (or one of them), as `/steward stats` shows it."""
    async with db.connect() as conn:
        channels = await public_channels(conn, workspace, channel)
        if not channels:
            return ()
        return await _cohorts(conn, _Scope(workspace, channels), period)


async def _new_contributors(conn: AsyncConnection, scope: _Scope, period: Period) -> tuple[str, ...]:
    """Members whose first message in scope falls in the period: active in it, and silent in scope before it.

    Asked per active member (an index on workspace, member and time answers each), so the cost follows the
    period's activity, not the history's length."""
    earlier = EARLIER_MESSAGE
    before = select(earlier.c.id).where(
        earlier.c.workspace_id == scope.workspace,
        earlier.c.channel_id.in_(scope.channels),
        earlier.c.is_bot.is_(False),
        earlier.c.deleted_at.is_(None),
        earlier.c.posted_at < period.start,
    )
    active = (
        select(M.c.user_id.label("user_id")).distinct()
        .where(scope.messages(), _within(M.c.posted_at, period))
        .cte("active")
        .prefix_with("MATERIALIZED", dialect="sqlite")  # the period's range first, then one lookup per member
    )
    earlier_match = earlier.c.user_id == active.c.user_id
    stmt = (
        select(active.c.user_id)
        .where(~before.where(earlier_match).exists())
        .order_by(active.c.user_id)
    )
    return tuple((await conn.execute(stmt)).scalars())


def inactive_at(last_message: datetime, moment: datetime) -> bool:
    """Whether a contributor whose latest message in scope is `last_message` counts as inactive at `moment`."""
    return last_message <= moment - INACTIVE_AFTER


async def _inactive_contributors(conn: AsyncConnection, scope: _Scope, period: Period) -> tuple[str, ...]:
    """Members who became inactive during the period (`inactive_at` turned true for them within it): their last post
    before its end falls in [start, end) shifted back by INACTIVE_AFTER. Read as "posted in the shifted week and not
    since", so the query looks at five weeks of messages however long the history."""
    since, until = period.start - INACTIVE_AFTER, period.end - INACTIVE_AFTER
    posted_since = select(M.c.user_id).where(scope.messages(), M.c.posted_at > until, M.c.posted_at < period.end)
    stmt = (
        select(M.c.user_id)
        .where(scope.messages(), M.c.posted_at > since, M.c.posted_at <= until, M.c.user_id.not_in(posted_since))
        .group_by(M.c.user_id)
        .order_by(M.c.user_id)
    )
    return tuple((await conn.execute(stmt)).scalars())


async def _nudges_answered(conn: AsyncConnection, scope: _Scope, period: Period) -> int:
    """Nudges sent in the period that led to an answer."""
    stmt = (
        select(func.count())
        .select_from(
            T_NUDGE.join(Q, and_(Q.c.workspace_id == T_NUDGE.c.workspace_id, Q.c.id == T_NUDGE.c.question_id))
        )
        .where(scope.questions(), T_NUDGE.c.led_to_answer.is_(True), _within(T_NUDGE.c.sent_at, period))
    )
    return int(await _scalar(conn, stmt) or 0)


async def _new_lesson_count(conn: AsyncConnection, scope: _Scope, period: Period) -> int:
    """Lessons first captured in the period (capturing a thread again updates its lesson, not a new one)."""
    stmt = select(func.count()).where(scope.lessons(), _within(T_LESSON.c.created_at, period))
    return int(await _scalar(conn, stmt) or 0)


async def _new_lessons(conn: AsyncConnection, scope: _Scope, period: Period) -> tuple[NewLesson, ...]:
    """The newest lessons of the period, with the links that open them."""
    stmt = (
        select(T_LESSON.c.title, T_LESSON.c.permalink)
        .where(scope.lessons(), _within(T_LESSON.c.created_at, period))
        .order_by(T_LESSON.c.created_at.desc(), T_LESSON.c.id.desc())
        .limit(LESSONS_LISTED)
    )
    return tuple(NewLesson(title=r.title, link=r.permalink or "") for r in await conn.execute(stmt))


async def _trending(
    conn: AsyncConnection, scope: _Scope, period: Period, *, limit: int = 5
) -> tuple[str, ...]:
    """Topics several questions of the period share, most shared first (never a member's name)."""
    stmt = (
        select(M.c.text)
        .select_from(Q.join(M, and_(M.c.workspace_id == Q.c.workspace_id, M.c.id == Q.c.id)))
        .where(scope.questions(), _within(Q.c.asked_at, period), M.c.text.is_not(None))
        .order_by(Q.c.asked_at.desc())
        .limit(TRENDING_SAMPLE)
    )
    texts = list((await conn.execute(stmt)).scalars())
    names = (await conn.execute(select(MEM.c.name).where(MEM.c.workspace_id == scope.workspace))).scalars()
    named = partial(topics, limit=limit, names=[n for n in names if n], min_texts=TRENDING_MIN_QUESTIONS)
    return tuple(await asyncio.to_thread(named, texts))  # tagging is CPU work: the event loop keeps serving


@dataclass(frozen=True)
class HealthWeek:
    """One period's health, as the portal charts it: the same definitions as the digest and `/steward stats`."""

    period: Period
    asked: int
    answered: int
    median_first_response_s: float | None
    p90_first_response_s: float | None
    active_members: int
    new_contributors: int
    first_responses: int
    answerer_concentration: int | None

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def unanswered_share(self) -> float | None:
        return (self.asked - self.answered) / self.asked if self.asked else None

    @property
    def returning_contributors(self) -> int:
        return max(0, self.active_members - self.new_contributors)


async def health(
    db: AsyncEngine, workspace: str, periods: Sequence[Period], channel: str | None = None
) -> list[HealthWeek]:
    """Health per period over the public channels (or one of them), without the digest's lists and topics."""
    weeks: list[HealthWeek] = []
    async with db.connect() as conn:
        channels = await public_channels(conn, workspace, channel)
        if not channels:
            return []
        scope = _Scope(workspace, channels)
        for period in periods:
            counts = await _message_counts(conn, scope, period)
            asked, answered = await _question_counts(conn, scope, period)
            median, p90 = await _first_response_percentiles(conn, scope, period)
            responses, concentration = await _answerer_concentration(conn, scope, period)
            weeks.append(HealthWeek(
                period=period, asked=asked, answered=answered, median_first_response_s=median,
                p90_first_response_s=p90, active_members=counts[1],
                new_contributors=len(await _new_contributors(conn, scope, period)),
                first_responses=responses, answerer_concentration=concentration,
            ))
    return weeks
