"""Digest runs: one row per channel and period, claimed before a digest is decided.

The unique key (workspace, channel, period) is what makes a digest exactly-once: whoever inserts the row
first posts it; every other scheduler, replica or restarted process gets an IntegrityError and stays silent.
A claim whose owner died before its post reached the outbox is taken over after `LEASE`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import Column, UniqueConstraint, and_, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel

from bot.core.digest_figures import Figures, Period, digest_key
from storage import metrics
from storage.db import process_owner
from storage.repository import T_OUTBOX
from storage.types import UTCDateTime

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)


class DigestRun(SQLModel, table=True):
    """A scheduled digest: claimed -> posted (or skipped when the channel had no history yet)."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", "period_key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str
    channel_id: str
    period_key: str  # ISO week of the period's first day, e.g. "2026-W10"
    status: str = "claimed"  # claimed | posted | skipped
    owner: str
    message_ref: str | None = None  # the platform id of the posted digest
    claimed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


T_DIGEST_RUN = DigestRun.__table__  # type: ignore[attr-defined]


def _key_match(workspace: str, channel: str, period_key: str) -> object:
    return and_(
        T_DIGEST_RUN.c.workspace_id == workspace,
        T_DIGEST_RUN.c.channel_id == channel,
        T_DIGEST_RUN.c.period_key == period_key,
    )


async def claim(
    db: AsyncEngine, *, workspace: str, channel: str, period_key: str, owner: str, at: datetime
) -> bool:
    """Insert the run; True if it is ours (new, or an abandoned claim taken over), False if someone has it."""
    row = {
        "workspace_id": workspace,
        "channel_id": channel,
        "period_key": period_key,
        "status": "claimed",
        "owner": owner,
        "claimed_at": at,
    }
    try:
        async with db.begin() as conn:
            await conn.execute(insert(T_DIGEST_RUN).values(**row))
        return True
    except IntegrityError:
        return await _take_over(db, workspace, channel, period_key, owner, at)


async def _take_over(
    db: AsyncEngine, workspace: str, channel: str, period_key: str, owner: str, at: datetime
) -> bool:
    """A claim older than the lease whose post never reached the outbox: its owner died; carry on for it."""
    posted = exists().where(
        T_OUTBOX.c.workspace_id == workspace, T_OUTBOX.c.key == digest_key(channel, period_key)
    )
    async with db.begin() as conn:
        result = await conn.execute(
            update(T_DIGEST_RUN)
            .where(
                _key_match(workspace, channel, period_key),  # type: ignore[arg-type]
                T_DIGEST_RUN.c.status == "claimed",
                T_DIGEST_RUN.c.claimed_at < at - LEASE,
                ~posted,
            )
            .values(owner=owner, claimed_at=at)
        )
    if result.rowcount == 1:
        logger.warning("digest %s %s %s: took over an abandoned claim", workspace, channel, period_key)
        return True
    return False


async def settle(db: AsyncEngine, *, workspace: str, channel: str, period_key: str, status: str) -> None:
    async with db.begin() as conn:
        await conn.execute(
            update(T_DIGEST_RUN)
            .where(_key_match(workspace, channel, period_key))  # type: ignore[arg-type]
            .values(status=status)
        )


async def record_posted(db: AsyncEngine) -> int:
    """Copy the platform id of delivered digests from the outbox onto their runs; returns how many.

    One UPDATE over the runs still marked claimed, matched to their outbox rows by the digest's idempotency key
    (`digest_key`), so the cost does not grow with the number of digests ever posted.
    """
    outbox_key = literal("digest:") + T_DIGEST_RUN.c.channel_id + literal(":") + T_DIGEST_RUN.c.period_key
    sent = (
        select(T_OUTBOX.c.platform_ref)
        .where(
            T_OUTBOX.c.workspace_id == T_DIGEST_RUN.c.workspace_id,
            T_OUTBOX.c.key == outbox_key,
            T_OUTBOX.c.status == "sent",
        )
        .limit(1)
        .scalar_subquery()
    )
    async with db.begin() as conn:
        result = await conn.execute(
            update(T_DIGEST_RUN)
            .where(T_DIGEST_RUN.c.status == "claimed", sent.is_not(None))
            .values(status="posted", message_ref=sent)
        )
    return int(result.rowcount or 0)


class StoredDigests:
    """The digest rule's port onto the database: claims in `digest_run`, figures from `storage.metrics`.

    `flush` writes the engine's pending batch first, so figures include every event processed so far (replay
    batches its writes).
    """

    def __init__(
        self, db: AsyncEngine, *, flush: Callable[[], Awaitable[None]] | None = None, owner: str | None = None
    ) -> None:
        self.db = db
        self.flush = flush
        self.owner = owner or process_owner()

    async def claim(self, workspace: str, channel: str, period_key: str, at: datetime) -> bool:
        await record_posted(self.db)
        return await claim(
            self.db, workspace=workspace, channel=channel, period_key=period_key, owner=self.owner, at=at
        )

    async def skip(self, workspace: str, channel: str, period_key: str) -> None:
        await settle(self.db, workspace=workspace, channel=channel, period_key=period_key, status="skipped")

    async def figures(
        self, workspace: str, channel: str | None, period: Period, *, detail: bool = True
    ) -> Figures:
        if self.flush is not None:
            await self.flush()
        return await metrics.figures(self.db, workspace, period, channel, detail=detail)
