"""Reading the working set at start and writing batches of changes in one transaction.

The message path uses SQLAlchemy Core bulk statements (executemany), not the ORM unit of work: that is the
difference between ~1,000 and ~100,000 rows per second. Upserts use each dialect's ON CONFLICT.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.questions import STATUS_RANK
from storage import leases
from storage.db import dialect_insert
from storage.models import (
    Channel,
    Checkpoint,
    ExpertTopic,
    Member,
    Message,
    Nudge,
    OutboxEntry,
    ProcessedEvent,
    Question,
    Reaction,
    Response,
    UnreachableChannel,
    Workspace,
)

logger = logging.getLogger(__name__)

T_WORKSPACE: Table = Workspace.__table__  # type: ignore[attr-defined]
T_CHANNEL: Table = Channel.__table__  # type: ignore[attr-defined]
T_MEMBER: Table = Member.__table__  # type: ignore[attr-defined]
T_MESSAGE: Table = Message.__table__  # type: ignore[attr-defined]
T_REACTION: Table = Reaction.__table__  # type: ignore[attr-defined]
T_QUESTION: Table = Question.__table__  # type: ignore[attr-defined]
T_NUDGE: Table = Nudge.__table__  # type: ignore[attr-defined]
T_EXPERT_TOPIC: Table = ExpertTopic.__table__  # type: ignore[attr-defined]
T_OUTBOX: Table = OutboxEntry.__table__  # type: ignore[attr-defined]
T_PROCESSED: Table = ProcessedEvent.__table__  # type: ignore[attr-defined]
T_RESPONSE: Table = Response.__table__  # type: ignore[attr-defined]
T_CHECKPOINT: Table = Checkpoint.__table__  # type: ignore[attr-defined]
T_UNREACHABLE: Table = UnreachableChannel.__table__  # type: ignore[attr-defined]

EXPERTISE_HISTORY = timedelta(days=90)  # the index's half-life: older evidence barely counts


def column_names(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns)


@dataclass
class WriteBatch:
    """Everything one flush writes, in one transaction."""

    workspaces: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    message_edits: list[dict[str, Any]] = field(default_factory=list)
    message_deletes: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)
    reaction_removals: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    nudges: list[dict[str, Any]] = field(default_factory=list)
    nudge_answers: list[dict[str, Any]] = field(default_factory=list)
    expert_topics_added: list[dict[str, Any]] = field(default_factory=list)
    expert_topics_removed: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    forgotten: list[dict[str, Any]] = field(default_factory=list)  # {"ws", "mid"}: members to forget
    processed: list[dict[str, Any]] = field(default_factory=list)  # keys of the events these changes came from
    responses: list[dict[str, Any]] = field(default_factory=list)  # expertise evidence
    stale_checkpoints: list[dict[str, Any]] = field(default_factory=list)  # {"ws"}: checkpoints this batch outdates
    # Events this batch processed, as (workspace, key): their inbox rows go in the same transaction. By key, not by
    # row id: SQLite hands a deleted row's id to the next row, so an id remembered a moment too long names another
    # event.
    inbox_taken: list[tuple[str, str]] = field(default_factory=list)
    inbox_dropped: list[int] = field(default_factory=list)  # unreadable inbox rows, dropped by id

    def workspace_ids(self) -> set[str]:
        """Every workspace this batch writes for (the leases a write must hold)."""
        found = {row["id"] for row in self.workspaces}
        for name, rows in vars(self).items():
            if name not in {"workspaces", "inbox_taken", "inbox_dropped"}:
                found.update(row.get("workspace_id") or row.get("ws") or "" for row in rows)
        found.discard("")
        return found

    def __len__(self) -> int:
        return sum(len(v) for v in vars(self).values())


async def _upsert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    stmt = dialect_insert(conn, table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=updates) if updates else stmt.on_conflict_do_nothing()
    await conn.execute(stmt, list(rows))


async def _upsert_questions(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Questions are upserted, but a stored status never moves backwards (see `bot.core.questions.TRANSITIONS`)."""
    if not rows:
        return
    stmt = dialect_insert(conn, T_QUESTION)
    keys = {c.name for c in T_QUESTION.primary_key.columns}
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    forward = _status_rank(T_QUESTION.c.status) <= _status_rank(stmt.excluded.status)
    await conn.execute(stmt.on_conflict_do_update(index_elements=sorted(keys), set_=updates, where=forward), list(rows))


def _status_rank(column: Any) -> Any:
    return case(STATUS_RANK, value=column, else_=-1)


async def event_processed(conn: AsyncConnection, workspace: str, key: str) -> bool:
    """Whether an event with this key was processed (and its effects stored)."""
    found = await conn.execute(
        select(T_PROCESSED.c.key).where(T_PROCESSED.c.workspace_id == workspace, T_PROCESSED.c.key == key)
    )
    return found.first() is not None


async def message_stored(conn: AsyncConnection, workspace: str, message_id: str) -> bool:
    """Whether a posted message was processed: its row is written with its effects."""
    found = await conn.execute(
        select(T_MESSAGE.c.id).where(T_MESSAGE.c.workspace_id == workspace, T_MESSAGE.c.id == message_id)
    )
    return found.first() is not None


async def insert_ignoring_duplicates(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str] | None = None
) -> None:
    """Idempotent inserts: a row whose key exists already is skipped (re-import, retried event).

    The rows of one batch share their keys, so the statement is compiled once and the rows go to the driver's
    executemany as plain tuples, converted by the columns' own bind processors: SQLAlchemy's generic parameter
    handling per row was most of a bulk write's cost (an import writes a message, a response and more per line).
    """
    if not rows:
        return
    stmt = dialect_insert(conn, table).on_conflict_do_nothing(index_elements=conflict)
    plan = _insert_plan(stmt, conn.dialect, tuple(rows[0]), tuple(conflict or ()))
    if plan is None:  # a column the rows leave out has a default to fill in: SQLAlchemy's own path does that
        await conn.execute(stmt, list(rows))
        return
    sql, names, processors = plan
    if any(processors):
        params = [tuple(p(row[n]) if p else row[n] for n, p in zip(names, processors, strict=True)) for row in rows]
    else:
        params = [tuple(row[n] for n in names) for row in rows]
    await conn.exec_driver_sql(sql, params)


_InsertPlan = tuple[str, tuple[str, ...], tuple[Any, ...]]
_INSERT_PLANS: dict[tuple[str, Any, tuple[str, ...], tuple[str, ...]], _InsertPlan | None] = {}


def _insert_plan(stmt: Any, dialect: Any, keys: tuple[str, ...], conflict: tuple[str, ...]) -> _InsertPlan | None:
    """The positional SQL of an insert for rows with these keys, its parameters' order and their converters;
    None when the dialect takes no positional parameters or the statement needs values the rows lack."""
    cache_key = (str(stmt.table.name), dialect, keys, conflict)
    if cache_key in _INSERT_PLANS:
        return _INSERT_PLANS[cache_key]
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    columns = stmt.table.c
    plan = None
    usable = set(keys) & set(columns.keys())
    if compiled.positional and names and set(names) <= usable and len(set(names)) == len(names):
        processors = tuple(columns[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names)
        plan = (compiled.string, names, processors)
    if len(_INSERT_PLANS) > 256:  # engines come and go in tests; each brings its own dialect
        _INSERT_PLANS.clear()
    _INSERT_PLANS[cache_key] = plan
    return plan


async def write_batch(conn: AsyncConnection, batch: WriteBatch) -> None:
    """Write one batch; the caller owns the transaction."""
    if batch.stale_checkpoints:
        await conn.execute(
            delete(T_CHECKPOINT).where(T_CHECKPOINT.c.workspace_id == bindparam("ws")), batch.stale_checkpoints
        )
    await _upsert(conn, T_WORKSPACE, batch.workspaces)
    await _upsert(conn, T_CHANNEL, batch.channels)
    await _upsert(conn, T_MEMBER, batch.members)
    await insert_ignoring_duplicates(conn, T_MESSAGE, batch.messages)
    if batch.message_edits:
        await conn.execute(
            update(T_MESSAGE)
            .where(T_MESSAGE.c.workspace_id == bindparam("ws"), T_MESSAGE.c.id == bindparam("mid"))
            .values(text=bindparam("text"), edited_at=bindparam("at")),
            batch.message_edits,
        )
    if batch.message_deletes:
        await conn.execute(
            update(T_MESSAGE)
            .where(T_MESSAGE.c.workspace_id == bindparam("ws"), T_MESSAGE.c.id == bindparam("mid"))
            .values(text=None, deleted_at=bindparam("at")),
            batch.message_deletes,
        )
    await insert_ignoring_duplicates(
        conn, T_REACTION, batch.reactions, ["workspace_id", "message_id", "user_id", "emoji"]
    )
    if batch.reaction_removals:
        await conn.execute(
            delete(T_REACTION).where(
                T_REACTION.c.workspace_id == bindparam("ws"),
                T_REACTION.c.message_id == bindparam("mid"),
                T_REACTION.c.user_id == bindparam("uid"),
                T_REACTION.c.emoji == bindparam("emo"),
            ),
            batch.reaction_removals,
        )
    await _upsert_questions(conn, batch.questions)
    await insert_ignoring_duplicates(conn, T_PROCESSED, batch.processed)
    await insert_ignoring_duplicates(
        conn, T_RESPONSE, batch.responses, ["workspace_id", "question_id", "message_id", "accepted"]
    )
    await insert_ignoring_duplicates(conn, T_NUDGE, batch.nudges, ["workspace_id", "member_id", "question_id", "kind"])
    if batch.nudge_answers:
        await conn.execute(
            update(T_NUDGE)
            .where(
                T_NUDGE.c.workspace_id == bindparam("ws"),
                T_NUDGE.c.member_id == bindparam("mid"),
                T_NUDGE.c.question_id == bindparam("qid"),
            )
            .values(led_to_answer=True),
            batch.nudge_answers,
        )
    if batch.expert_topics_removed:
        await conn.execute(
            delete(T_EXPERT_TOPIC).where(
                T_EXPERT_TOPIC.c.workspace_id == bindparam("ws"),
                T_EXPERT_TOPIC.c.member_id == bindparam("mid"),
            ),
            batch.expert_topics_removed,
        )
    await insert_ignoring_duplicates(conn, T_EXPERT_TOPIC, batch.expert_topics_added)
    await insert_ignoring_duplicates(conn, T_OUTBOX, batch.outbox, ["workspace_id", "key"])
    await leases.taken(conn, batch.inbox_taken, batch.inbox_dropped)
    if batch.forgotten:
        await forget_members(conn, batch.forgotten)


async def forget_members(conn: AsyncConnection, members: Sequence[dict[str, Any]]) -> None:
    """Delete what a member wrote and did: message texts, reactions, nudges (counts for metrics stay)."""
    await conn.execute(
        update(T_MESSAGE)
        .where(T_MESSAGE.c.workspace_id == bindparam("ws"), T_MESSAGE.c.user_id == bindparam("mid"))
        .values(text=None),
        list(members),
    )
    for table, column in (
        (T_REACTION, T_REACTION.c.user_id),
        (T_NUDGE, T_NUDGE.c.member_id),
        (T_RESPONSE, T_RESPONSE.c.responder_id),
    ):
        await conn.execute(
            delete(table).where(table.c.workspace_id == bindparam("ws"), column == bindparam("mid")), list(members)
        )


@dataclass
class Snapshot:
    """The stored working set, read at start to rebuild the in-memory state."""

    workspaces: list[dict[str, Any]]
    channels: list[dict[str, Any]]
    members: list[dict[str, Any]]
    questions: list[dict[str, Any]]  # unresolved ones, plus recent closed ones
    question_texts: dict[tuple[str, str], str]
    recent_messages: list[dict[str, Any]]
    nudges: list[dict[str, Any]]
    expert_topics: list[dict[str, Any]]
    outbox_keys: set[tuple[str, str]]
    processed: dict[tuple[str, str], datetime]  # (workspace, event key) -> time, for events since `processed_since`
    activity: list[tuple[str, str, datetime, bool, str | None, str]]  # (ws, user, at, is_bot, question text, channel)
    responses: list[dict[str, Any]]  # response rows with "question_text", "answer_text", "question_channel"


async def load_snapshot(
    engine: AsyncEngine,
    now: datetime,
    *,
    recent: timedelta = timedelta(days=2),
    processed_since: datetime | None = None,
    only: Collection[str] | None = None,
    models_kept: Collection[str] = (),
) -> Snapshot:
    """The stored working set; `only`: of these workspaces alone (a process that just took their leases).

    `models_kept`: workspaces whose text models come from a checkpoint, so their message history (what the
    expertise index would otherwise be taught again from) is not read.
    """

    def mine(stmt: Any, column: Any) -> Any:
        return stmt if only is None else stmt.where(column.in_(sorted(only)))

    async with engine.connect() as conn:

        async def rows(stmt: Any) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in (await conn.execute(stmt)).all()]

        questions = await rows(
            mine(
                select(T_QUESTION).where(
                    T_QUESTION.c.status.in_(["asked", "answered", "flagged", "escalated"])
                    | (T_QUESTION.c.asked_at >= now - timedelta(days=30))
                ),
                T_QUESTION.c.workspace_id,
            )
        )
        texts: dict[tuple[str, str], str] = {}
        for chunk in _chunks([(q["workspace_id"], q["id"]) for q in questions], 500):
            for ws in {w for w, _ in chunk}:
                ids = [i for w, i in chunk if w == ws]
                result = await conn.execute(
                    select(T_MESSAGE.c.id, T_MESSAGE.c.text).where(
                        T_MESSAGE.c.workspace_id == ws, T_MESSAGE.c.id.in_(ids)
                    )
                )
                texts.update({(ws, r.id): r.text or "" for r in result})
        return Snapshot(
            workspaces=await rows(mine(select(T_WORKSPACE), T_WORKSPACE.c.id)),
            channels=await rows(mine(select(T_CHANNEL), T_CHANNEL.c.workspace_id)),
            members=await rows(mine(select(T_MEMBER), T_MEMBER.c.workspace_id)),
            questions=questions,
            question_texts=texts,
            recent_messages=await rows(
                mine(
                    select(T_MESSAGE).where(T_MESSAGE.c.posted_at >= now - recent).order_by(T_MESSAGE.c.posted_at),
                    T_MESSAGE.c.workspace_id,
                )
            ),
            nudges=await rows(
                mine(select(T_NUDGE).where(T_NUDGE.c.sent_at >= now - timedelta(days=30)), T_NUDGE.c.workspace_id)
            ),
            expert_topics=await rows(mine(select(T_EXPERT_TOPIC), T_EXPERT_TOPIC.c.workspace_id)),
            processed={
                (r.workspace_id, r.key): r.at
                for r in await conn.execute(
                    mine(
                        select(T_PROCESSED).where(T_PROCESSED.c.at >= (processed_since or now - recent)),
                        T_PROCESSED.c.workspace_id,
                    )
                )
            },
            activity=[
                tuple(r)
                for r in await conn.execute(
                    mine(_activity(now - EXPERTISE_HISTORY), T_MESSAGE.c.workspace_id).where(
                        T_MESSAGE.c.workspace_id.not_in(sorted(models_kept))
                    )
                )
            ],
            responses=await rows(mine(_responses(now - EXPERTISE_HISTORY), T_RESPONSE.c.workspace_id)),
            outbox_keys={
                (r.workspace_id, r.key)
                for r in await conn.execute(
                    mine(
                        select(T_OUTBOX.c.workspace_id, T_OUTBOX.c.key).where(
                            T_OUTBOX.c.created_at >= now - timedelta(days=30)
                        ),
                        T_OUTBOX.c.workspace_id,
                    )
                )
            },
        )


async def load_checkpoints(conn: AsyncConnection, only: Collection[str] | None = None) -> dict[str, tuple[int, bytes]]:
    """Workspace -> (format, blob) of every checkpoint a clean stop left (of the `only` workspaces, if given)."""
    stmt = select(T_CHECKPOINT.c.workspace_id, T_CHECKPOINT.c.format, T_CHECKPOINT.c.blob)
    if only is not None:
        stmt = stmt.where(T_CHECKPOINT.c.workspace_id.in_(sorted(only)))
    result = await conn.execute(stmt)
    return {r.workspace_id: (r.format, bytes(r.blob)) for r in result}


async def save_checkpoints(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    await _upsert(conn, T_CHECKPOINT, rows)


async def purge_processed_events(engine: AsyncEngine, before: datetime) -> int:
    """Forget the keys of events processed before `before`: no platform redelivers an event that late (a posted
    message keeps its own row, so its key lives as long as the message's metadata)."""
    async with engine.begin() as conn:
        result = await conn.execute(delete(T_PROCESSED).where(T_PROCESSED.c.at < before))
    return int(result.rowcount or 0)


def _activity(since: datetime) -> Any:
    """Every message since `since`, in order, with its text when it asked a question."""
    q = T_QUESTION
    asked = T_MESSAGE.join(
        q, (q.c.workspace_id == T_MESSAGE.c.workspace_id) & (q.c.id == T_MESSAGE.c.id), isouter=True
    )
    return (
        select(
            T_MESSAGE.c.workspace_id,
            T_MESSAGE.c.user_id,
            T_MESSAGE.c.posted_at,
            T_MESSAGE.c.is_bot,
            case((q.c.id.is_not(None), T_MESSAGE.c.text), else_=None).label("question_text"),
            T_MESSAGE.c.channel_id,
        )
        .select_from(asked)
        .where(T_MESSAGE.c.posted_at >= since)
        .order_by(T_MESSAGE.c.posted_at)
    )


def _responses(since: datetime) -> Any:
    """Response rows since `since`, in the order they were learned, with the question's and the answer's text and
    the question's channel (a private channel's answers teach only that channel's index, even for a question long
    gone from memory)."""
    r, q = T_RESPONSE, T_QUESTION
    asked, said = T_MESSAGE.alias("asked"), T_MESSAGE.alias("said")
    joined = (
        r.join(asked, (asked.c.workspace_id == r.c.workspace_id) & (asked.c.id == r.c.question_id), isouter=True)
        .join(said, (said.c.workspace_id == r.c.workspace_id) & (said.c.id == r.c.message_id), isouter=True)
        .join(q, (q.c.workspace_id == r.c.workspace_id) & (q.c.id == r.c.question_id), isouter=True)
    )
    return (
        select(
            r,
            asked.c.text.label("question_text"),
            said.c.text.label("answer_text"),
            func.coalesce(q.c.channel_id, asked.c.channel_id).label("question_channel"),
        )
        .select_from(joined)
        .where(r.c.recorded_at >= since)
        .order_by(r.c.recorded_at, r.c.id)
    )


async def purge_message_text(engine: AsyncEngine, before: datetime) -> int:
    """Forget the text of messages posted before `before` (the retention setting); metadata stays for metrics."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(T_MESSAGE)
            .where(T_MESSAGE.c.posted_at < before, T_MESSAGE.c.text.is_not(None))
            .values(text=None)
        )
    return int(result.rowcount or 0)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- channels Steward can no longer post in (the delivery worker's facts) -------------------------------------------
async def mark_unreachable(
    conn: AsyncConnection, workspace: str, channel: str, reason: str, since: datetime, notice_key: str | None
) -> bool:
    """Record that `channel` cannot be posted in; True when this is news (it was not recorded already).

    The primary key decides, so two workers failing rows of the same channel at once record it once.
    """
    row = {"workspace_id": workspace, "channel_id": channel, "reason": reason, "since": since, "notice_key": notice_key}
    stmt = dialect_insert(conn, T_UNREACHABLE).values(**row).on_conflict_do_nothing(
        index_elements=["workspace_id", "channel_id"]
    )
    result = await conn.execute(stmt)
    return bool(result.rowcount)


async def clear_unreachable(conn: AsyncConnection, workspace: str, channel: str) -> None:
    """A message reached the channel: it is reachable again, and a later failure is news again."""
    await conn.execute(
        delete(T_UNREACHABLE).where(T_UNREACHABLE.c.workspace_id == workspace, T_UNREACHABLE.c.channel_id == channel)
    )


async def is_unreachable(conn: AsyncConnection, workspace: str, channel: str) -> bool:
    found = await conn.execute(
        select(T_UNREACHABLE.c.channel_id).where(
            T_UNREACHABLE.c.workspace_id == workspace, T_UNREACHABLE.c.channel_id == channel
        )
    )
    return found.first() is not None


async def unreachable_channels(conn: AsyncConnection, workspace: str) -> list[dict[str, Any]]:
    """The channels of `workspace` Steward cannot post in now, oldest first."""
    result = await conn.execute(
        select(T_UNREACHABLE).where(T_UNREACHABLE.c.workspace_id == workspace).order_by(T_UNREACHABLE.c.since)
    )
    return [dict(r._mapping) for r in result]


async def workspace_language(conn: AsyncConnection, workspace: str) -> str | None:
    found = await conn.execute(select(T_WORKSPACE.c.language).where(T_WORKSPACE.c.id == workspace))
    return found.scalar_one_or_none()


async def channel_facts(conn: AsyncConnection, workspace: str, channel: str) -> tuple[str, str] | None:
    """The stored channel's (name, kind), if Steward has seen it."""
    found = await conn.execute(
        select(T_CHANNEL.c.name, T_CHANNEL.c.kind).where(
            T_CHANNEL.c.workspace_id == workspace, T_CHANNEL.c.id == channel
        )
    )
    row = found.first()
    return (str(row.name or ""), str(row.kind or "")) if row is not None else None
