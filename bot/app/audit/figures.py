"""The audit's figures: SQL aggregates over the stored tables, one row per question for percentiles."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.text.topics import topics
from storage.db import create_engine
from storage.metrics import INACTIVE_AFTER, inactive_at, percentile
from storage.repository import T_CHANNEL, T_MEMBER, T_MESSAGE, T_QUESTION, T_REACTION

logger = logging.getLogger(__name__)

NOT_QUESTIONS = ("not_a_question", "withdrawn")
NEW_WITHIN = INACTIVE_AFTER  # "new": first message in the report's last weeks (or since --since)
LESSON_MIN_REPLIES = 3
TOP_TERMS = 5
TOPIC_SAMPLE = 200  # questions per answerer read for their topics (the most recent come first)
LISTED = 50
EXCERPT = 140  # characters of a question quoted in the report


class AuditError(Exception):
    """The report cannot be written (no data, unreadable database)."""


@dataclass
class WeekRow:
    week: date
    asked: int
    answered: int
    resolved: int
    flagged: int
    median_s: float | None = None
    p90_s: float | None = None

    @property
    def unanswered(self) -> int:
        return self.asked - self.answered


@dataclass
class ChannelRow:
    channel: str
    asked: int
    answered: int
    median_s: float | None
    p90_s: float | None


@dataclass
class Answerer:
    member: str
    answers: int
    share: float
    topics: list[str]


@dataclass
class QuestionRow:
    id: str
    channel: str
    asker: str
    asked_at: datetime
    text: str
    flagged_at: datetime | None = None
    experts: list[str] = field(default_factory=list)


@dataclass
class LessonRow:
    id: str
    channel: str
    text: str
    replies: int
    reactions: int


@dataclass
class Audit:
    since: datetime | None
    until: datetime | None
    questions: int = 0
    answered: int = 0
    resolved: int = 0
    flagged: int = 0
    median_s: float | None = None
    p90_s: float | None = None
    weeks: list[WeekRow] = field(default_factory=list)
    channels: list[ChannelRow] = field(default_factory=list)
    unanswered: list[QuestionRow] = field(default_factory=list)
    answerers: list[Answerer] = field(default_factory=list)
    half_of_answers_by: int = 0
    new_contributors: list[str] = field(default_factory=list)
    inactive_contributors: list[str] = field(default_factory=list)
    lessons: list[LessonRow] = field(default_factory=list)
    would_flag: list[QuestionRow] = field(default_factory=list)
    would_nudge: list[tuple[str, int]] = field(default_factory=list)

    @property
    def unanswered_count(self) -> int:
        return self.questions - self.answered


# --- collecting ---------------------------------------------------------------------------------------
async def collect(url: str, *, since: datetime | None = None, workspace: str | None = None) -> Audit:
    """All figures of the report, read from the database at `url`."""
    db = create_engine(url)
    try:
        async with db.connect() as conn:
            return await _collect(conn, since, workspace)
    finally:
        await db.dispose()


async def _collect(conn: AsyncConnection, since: datetime | None, workspace: str | None) -> Audit:
    q, ch = T_QUESTION, T_CHANNEL
    private_channels = select(ch.c.workspace_id, ch.c.id).where(ch.c.private.is_(True))
    private = {(r.workspace_id, r.id) for r in await conn.execute(private_channels)}
    where: list[ColumnElement[bool]] = [q.c.status.not_in(NOT_QUESTIONS)]
    if since is not None:
        where.append(q.c.asked_at >= since)
    if workspace is not None:
        where.append(q.c.workspace_id == workspace)
    names = await _names(conn)
    channel_names = {(r.workspace_id, r.id): r.name for r in await conn.execute(select(ch))}
    audit = Audit(since=since, until=None)

    def keep(ws: str, channel: str) -> bool:
        return (ws, channel) not in private

    await _weeks(conn, audit, where, keep)
    await _responses(conn, audit, where, keep, channel_names)
    await _unanswered(conn, audit, where, keep, names, channel_names)
    await _answerers(conn, audit, where, keep, names)
    await _contributors(conn, audit, since, workspace, names)
    await _lessons(conn, audit, where, keep, channel_names)
    return audit


async def _names(conn: AsyncConnection) -> dict[tuple[str, str], str]:
    return {(r.workspace_id, r.id): r.name or r.id for r in await conn.execute(select(T_MEMBER))}


def _week_of(conn: AsyncConnection, column: Any) -> Any:
    """The Monday starting the week of a timestamp, as SQL (each dialect spells it differently)."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.date_trunc("week", func.timezone("UTC", column)), "YYYY-MM-DD")
    return func.date(column, "weekday 0", "-6 days")


async def _weeks(conn: AsyncConnection, audit: Audit, where: list[Any], keep: Any) -> None:
    """Asked, answered, resolved and flagged per week and channel (SQL GROUP BY), summed over kept channels."""
    q = T_QUESTION
    week = _week_of(conn, q.c.asked_at).label("week")
    stmt: Select[Any] = (
        select(
            q.c.workspace_id,
            q.c.channel_id,
            week,
            func.count().label("asked"),
            func.sum(case((q.c.first_response_at.is_not(None), 1), else_=0)).label("answered"),
            func.sum(case((q.c.resolved_at.is_not(None), 1), else_=0)).label("resolved"),
            func.sum(case((q.c.flagged_at.is_not(None), 1), else_=0)).label("flagged"),
            func.min(q.c.asked_at).label("first"),
            func.max(q.c.asked_at).label("last"),
        )
        .where(and_(*where))
        .group_by(q.c.workspace_id, q.c.channel_id, literal_column("week"))
    )
    weeks: dict[date, WeekRow] = {}
    for r in await conn.execute(stmt):
        if not keep(r.workspace_id, r.channel_id):
            continue
        key = date.fromisoformat(str(r.week)[:10])
        row = weeks.setdefault(key, WeekRow(key, 0, 0, 0, 0))
        row.asked += r.asked
        row.answered += int(r.answered or 0)
        row.resolved += int(r.resolved or 0)
        row.flagged += int(r.flagged or 0)
        last = _aware(r.last)
        audit.until = max(audit.until, last) if audit.until else last
    audit.weeks = [weeks[k] for k in sorted(weeks)]
    audit.questions = sum(w.asked for w in audit.weeks)
    audit.answered = sum(w.answered for w in audit.weeks)
    audit.resolved = sum(w.resolved for w in audit.weeks)
    audit.flagged = sum(w.flagged for w in audit.weeks)


async def _responses(
    conn: AsyncConnection, audit: Audit, where: list[Any], keep: Any, channel_names: dict[tuple[str, str], str]
) -> None:
    """Time to first response, median and p90, per channel, per week and overall."""
    q = T_QUESTION
    stmt = select(q.c.workspace_id, q.c.channel_id, q.c.asked_at, q.c.first_response_at).where(and_(*where))
    by_channel: dict[tuple[str, str], list[float]] = defaultdict(list)
    asked: Counter[tuple[str, str]] = Counter()
    by_week: dict[date, list[float]] = defaultdict(list)
    for r in await conn.execute(stmt):
        key = (r.workspace_id, r.channel_id)
        if not keep(*key):
            continue
        asked[key] += 1
        if r.first_response_at is None:
            continue
        wait = (_aware(r.first_response_at) - _aware(r.asked_at)).total_seconds()
        by_channel[key].append(wait)
        by_week[_monday(_aware(r.asked_at))].append(wait)
    audit.channels = sorted(
        (
            ChannelRow(channel_names.get(k, k[1]), n, len(by_channel[k]), *_median_p90(by_channel[k]))
            for k, n in asked.items()
        ),
        key=lambda c: (-c.asked, c.channel),
    )
    for week in audit.weeks:
        week.median_s, week.p90_s = _median_p90(by_week.get(week.week, []))
    audit.median_s, audit.p90_s = _median_p90([w for waits in by_channel.values() for w in waits])


async def _unanswered(
    conn: AsyncConnection,
    audit: Audit,
    where: list[Any],
    keep: Any,
    names: dict[tuple[str, str], str],
    channel_names: dict[tuple[str, str], str],
) -> None:
    """The questions nobody answered, what Steward flagged and whom it asked.

    Whom it asked is what the live rules decided (an import replays history through them, sending nothing), so the
    report and a running Steward never disagree about who would be nudged, or how often."""
    q, m = T_QUESTION, T_MESSAGE
    stmt = (
        select(q, m.c.text)
        .select_from(q.outerjoin(m, and_(m.c.workspace_id == q.c.workspace_id, m.c.id == q.c.id)))
        .where(and_(*where), (q.c.first_response_at.is_(None)) | (q.c.flagged_at.is_not(None)))
        .order_by(q.c.asked_at.desc())
    )
    nudged: Counter[str] = Counter()
    for r in await conn.execute(stmt):
        if not keep(r.workspace_id, r.channel_id):
            continue
        ws = r.workspace_id
        experts = [names.get((ws, e), e) for e in (r.nudged_experts or [])]
        row = QuestionRow(
            r.id,
            channel_names.get((ws, r.channel_id), r.channel_id),
            names.get((ws, r.asker_id), r.asker_id),
            _aware(r.asked_at),
            r.text or "",
            _aware(r.flagged_at) if r.flagged_at else None,
            experts,
        )
        if r.first_response_at is None:
            audit.unanswered.append(row)
        if r.flagged_at is not None:
            audit.would_flag.append(row)
            nudged.update(experts)
    audit.would_nudge = sorted(nudged.items(), key=lambda kv: (-kv[1], kv[0]))


async def _answerers(
    conn: AsyncConnection, audit: Audit, where: list[Any], keep: Any, names: dict[tuple[str, str], str]
) -> None:
    """Who answers first, how often, and on what (the topics of the questions they answered, newest first)."""
    q, m = T_QUESTION, T_MESSAGE
    stmt = (
        select(q.c.workspace_id, q.c.channel_id, q.c.first_responder_id, m.c.text)
        .select_from(q.outerjoin(m, and_(m.c.workspace_id == q.c.workspace_id, m.c.id == q.c.id)))
        .where(and_(*where), q.c.first_responder_id.is_not(None))
        .order_by(q.c.asked_at.desc(), q.c.id)
    )
    counts: Counter[tuple[str, str]] = Counter()
    questions: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in await conn.execute(stmt):
        if not keep(r.workspace_id, r.channel_id):
            continue
        key = (r.workspace_id, r.first_responder_id)
        counts[key] += 1
        if len(questions[key]) < TOPIC_SAMPLE:
            questions[key].append(r.text or "")
    member_names = list(names.values())
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], names.get(kv[0], kv[0][1])))
    named = await asyncio.to_thread(  # tagging is CPU work: off the event loop
        lambda: {key: topics(questions[key], limit=TOP_TERMS, names=member_names) for key, _ in ranked}
    )
    audit.answerers = [Answerer(names.get(key, key[1]), n, n / total, named[key]) for key, n in ranked]
    running = 0
    for index, (_key, n) in enumerate(ranked, start=1):
        running += n
        if running * 2 >= total:
            audit.half_of_answers_by = index
            break


async def _contributors(
    conn: AsyncConnection,
    audit: Audit,
    since: datetime | None,
    workspace: str | None,
    names: dict[tuple[str, str], str],
) -> None:
    """New contributors (first message in the report's last four weeks, or since --since) and inactive ones
    (storage.metrics.inactive_at the report's end: posted before, then silent four weeks), counted in public
    channels only: the report is shared, and someone who only ever wrote in private channels is not a
    contributor anyone else has seen."""
    m, ch = T_MESSAGE, T_CHANNEL
    private = select(ch.c.id).where(
        ch.c.workspace_id == m.c.workspace_id, ch.c.id == m.c.channel_id, ch.c.private.is_(True)
    )
    filters: list[ColumnElement[bool]] = [m.c.is_bot.is_(False), ~private.exists()]
    if workspace is not None:
        filters.append(m.c.workspace_id == workspace)
    stmt = (
        select(
            m.c.workspace_id, m.c.user_id, func.min(m.c.posted_at).label("first"), func.max(m.c.posted_at).label("last")
        )
        .where(and_(*filters))
        .group_by(m.c.workspace_id, m.c.user_id)
    )
    rows = [(r.workspace_id, r.user_id, _aware(r.first), _aware(r.last)) for r in await conn.execute(stmt)]
    if not rows:
        return
    end = max(last for *_rest, last in rows)
    audit.until = max(audit.until, end) if audit.until else end
    new_from = since if since is not None else end - NEW_WITHIN
    audit.new_contributors = sorted(names.get((ws, u), u) for ws, u, first, _ in rows if first >= new_from)
    audit.inactive_contributors = sorted(
        names.get((ws, u), u) for ws, u, _first, last in rows if inactive_at(last, end)
    )


async def _lessons(
    conn: AsyncConnection, audit: Audit, where: list[Any], keep: Any, channel_names: dict[tuple[str, str], str]
) -> None:
    """Answered questions with long threads that people reacted to: the best material for lessons."""
    q, m, rx = T_QUESTION, T_MESSAGE, T_REACTION
    replies = (
        select(m.c.workspace_id, m.c.thread_id, func.count().label("replies"))
        .where(m.c.thread_id.is_not(None))
        .group_by(m.c.workspace_id, m.c.thread_id)
        .subquery()
    )
    reacted = (
        select(m.c.workspace_id, func.coalesce(m.c.thread_id, m.c.id).label("root"), func.count(rx.c.id).label("n"))
        .select_from(m.join(rx, and_(rx.c.workspace_id == m.c.workspace_id, rx.c.message_id == m.c.id)))
        .where(rx.c.removed_at.is_(None))
        .group_by(m.c.workspace_id, literal_column("root"))
        .subquery()
    )
    text = select(m.c.text).where(m.c.workspace_id == q.c.workspace_id, m.c.id == q.c.id).scalar_subquery()
    stmt = (
        select(q.c.workspace_id, q.c.id, q.c.channel_id, replies.c.replies, reacted.c.n, text.label("text"))
        .select_from(
            q.join(replies, and_(replies.c.workspace_id == q.c.workspace_id, replies.c.thread_id == q.c.id)).join(
                reacted, and_(reacted.c.workspace_id == q.c.workspace_id, reacted.c.root == q.c.id)
            )
        )
        .where(and_(*where), q.c.first_response_at.is_not(None), replies.c.replies >= LESSON_MIN_REPLIES)
        .order_by((replies.c.replies + reacted.c.n).desc(), q.c.asked_at)
    )
    for r in await conn.execute(stmt):
        if keep(r.workspace_id, r.channel_id) and len(audit.lessons) < LISTED:
            name = channel_names.get((r.workspace_id, r.channel_id), r.channel_id)
            audit.lessons.append(LessonRow(r.id, name, r.text or "", r.replies, r.n))


def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    """Median and 90th percentile as the digest and the portal compute them (storage.metrics.percentile)."""
    ordered = sorted(values)
    return percentile(ordered, 0.5), percentile(ordered, 0.9)


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _monday(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())
