"""The delivery worker: send due outbox rows through the adapters.

Rows are claimed with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so several replicas share the work
without sending a row twice. A platform's `Retry-After` delays a row without counting against its attempts;
other errors are retried with exponential backoff up to `max_attempts`, then the row is marked failed and
logged, never posted into a channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.actions import action_from_dict
from bot.core.clock import Clock
from bot.core.ports import RefLookup, Sender
from storage.repository import T_OUTBOX

logger = logging.getLogger(__name__)

__all__ = ["DeliveryWorker", "PermanentFailure", "RefLookup", "RetryLater", "Sender"]


class RetryLater(Exception):
    """The platform asked us to slow down (HTTP 429 with Retry-After)."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {retry_after:.1f}s")
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Retrying cannot help (unknown channel, missing permission): fail the row at once."""


class DeliveryWorker:
    def __init__(
        self,
        db: AsyncEngine,
        senders: Sequence[Sender],
        clock: Clock,
        *,
        max_attempts: int = 5,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=2),
        base_backoff: float = 2.0,
        max_backoff: float = 300.0,
    ) -> None:
        self.db = db
        self.senders = list(senders)
        self.clock = clock
        self.max_attempts = max_attempts
        self.batch = batch
        self.lease = lease
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called by the engine after it committed new outbox rows."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, idle: float = 1.0) -> None:
        while not stop.is_set():
            try:
                delivered = await self.run_once()
            except Exception:
                logger.exception("delivery round failed; trying again shortly")
                delivered = 0
            if delivered:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle)

    async def run_once(self) -> int:
        """Claim and deliver the rows due now; returns how many were handled."""
        rows = await self._claim()
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _claim(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        due = (T_OUTBOX.c.status == "pending") & (T_OUTBOX.c.due_at <= now) | (T_OUTBOX.c.status == "sending") & (
            T_OUTBOX.c.claimed_until < now
        )
        pick = select(T_OUTBOX.c.id).where(due).order_by(T_OUTBOX.c.id).limit(self.batch)
        async with self.db.begin() as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            # One statement that re-checks `due`: two workers can never both claim a row (SQLite serialises the
            # UPDATE; PostgreSQL skips rows another worker has locked).
            claim = (
                update(T_OUTBOX)
                .where(T_OUTBOX.c.id.in_(pick.scalar_subquery()), due)
                .values(status="sending", claimed_until=now + self.lease)
                .returning(*T_OUTBOX.c)
            )
            claimed = [dict(r._mapping) for r in await conn.execute(claim)]
        return sorted(claimed, key=lambda row: row["id"])

    async def _deliver(self, row: dict[str, Any]) -> None:
        try:
            action = action_from_dict(row["action"])
        except (KeyError, TypeError, ValueError) as exc:
            await self._finish(row, status="failed", error=f"unreadable action: {exc}")
            logger.error("outbox row %s holds an unreadable action; marked failed", row["id"])
            return
        sender = next((s for s in self.senders if s.handles(action.workspace)), None)
        if sender is None:
            await self._finish(row, status="failed", error=f"no adapter for workspace {action.workspace}")
            logger.error("no adapter delivers to %s; action %s marked failed", action.workspace, action.key)
            return
        try:
            ref = await sender.send(action, self.ref_of)
        except RetryLater as exc:
            logger.warning("%s for %s: rate limited, retrying in %.1fs", action.type, action.key, exc.retry_after)
            await self._reschedule(row, delay=exc.retry_after, count_attempt=False, error=str(exc))
        except PermanentFailure as exc:
            logger.error("%s for %s failed for good: %s", action.type, action.key, exc)
            await self._finish(row, status="failed", error=str(exc), attempts=row["attempts"] + 1)
        except Exception as exc:
            attempts = row["attempts"] + 1
            if attempts >= self.max_attempts:
                logger.error("%s for %s failed %d times; giving up: %s", action.type, action.key, attempts, exc)
                await self._finish(row, status="failed", error=str(exc), attempts=attempts)
            else:
                delay = min(self.max_backoff, self.base_backoff * 2 ** (attempts - 1)) * (1 + random.random() / 4)
                logger.warning(
                    "%s for %s failed (%s); retry %d in %.1fs", action.type, action.key, exc, attempts, delay
                )
                await self._reschedule(row, delay=delay, count_attempt=True, error=str(exc))
        else:
            await self._finish(row, status="sent", ref=ref, attempts=row["attempts"] + 1, sent_at=self.clock.now())

    async def _reschedule(self, row: dict[str, Any], *, delay: float, count_attempt: bool, error: str) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                update(T_OUTBOX)
                .where(T_OUTBOX.c.id == row["id"])
                .values(
                    status="pending",
                    due_at=self.clock.now() + timedelta(seconds=delay),
                    attempts=row["attempts"] + (1 if count_attempt else 0),
                    claimed_until=None,
                    last_error=error[:500],
                )
            )

    async def _finish(
        self,
        row: dict[str, Any],
        *,
        status: str,
        error: str | None = None,
        ref: str | None = None,
        attempts: int | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        async with self.db.begin() as conn:
            await conn.execute(
                update(T_OUTBOX)
                .where(T_OUTBOX.c.id == row["id"])
                .values(
                    status=status,
                    platform_ref=ref,
                    attempts=row["attempts"] if attempts is None else attempts,
                    sent_at=sent_at,
                    claimed_until=None,
                    last_error=error[:500] if error else None,
                )
            )

    async def ref_of(self, workspace: str, key: str) -> str | None:
        """The platform id of what an earlier action posted (to update Steward's own messages)."""
        async with self.db.connect() as conn:
            result = await conn.execute(
                select(T_OUTBOX.c.platform_ref).where(T_OUTBOX.c.workspace_id == workspace, T_OUTBOX.c.key == key)
            )
            return result.scalar_one_or_none()
