"""The delivery worker: send due outbox rows through the adapters.

Rows are claimed with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so several replicas share the work
without sending a row twice. A platform's `Retry-After` delays a row (and the rest of its workspace's rows, which
would only be refused too) without counting against its attempts, for at most `max_retry_after` at a time and
`give_up_after` in all. Other errors are retried with exponential backoff up to `max_attempts`, then the row is
marked failed and logged, never posted into a channel. Every fault is one log line, without a traceback.

A retry of a row whose earlier attempt may have reached the platform (a timeout, a crash while sending) first
asks the sender whether it did (`find_delivered`), so a lost answer does not become a second message.

A channel Steward can no longer post in (removed, deleted, archived) fails its rows at once; the first such
failure is recorded durably together with a notice for the facilitators' channel, an outbox row of its own, so
the facilitators hear of it exactly once, in the community's language.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.app.metrics import RATE_LIMITED, Metrics, error_name
from bot.app.ownership import Ownership
from bot.core.actions import Action, PostMessage, action_from_dict
from bot.core.clock import Clock
from bot.core.ports import RefLookup, Sender
from bot.i18n import supported, translate
from storage import repository as repo
from storage.db import unavailable
from storage.repository import T_OUTBOX

logger = logging.getLogger(__name__)

__all__ = [
    "ChannelUnreachable",
    "DeliveryWorker",
    "PermanentFailure",
    "RefLookup",
    "RetryLater",
    "Sender",
    "TemporaryFailure",
]

NOTICE_PREFIX = "unreachable:"  # the key of a facilitators' notice about an unreachable channel
UNREACHABLE_REASONS = ("removed", "gone", "archived")


class RetryLater(Exception):
    """The platform asked us to slow down (HTTP 429 with Retry-After)."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {retry_after:.1f}s")
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Retrying cannot help (unknown channel, missing permission): fail the row at once."""


class ChannelUnreachable(PermanentFailure):
    """Steward cannot post in this channel any more: `reason` is removed, gone (deleted or hidden) or archived."""

    def __init__(self, channel: str, reason: str, detail: str = "") -> None:
        super().__init__(detail or f"channel {channel} is unreachable ({reason})")
        self.channel = channel
        self.reason = reason if reason in UNREACHABLE_REASONS else "gone"


class TemporaryFailure(Exception):
    """The platform failed this time (a 5xx, a timeout, a dropped connection): retried with backoff."""


def describe(exc: BaseException) -> str:
    """One line for the log: the first line of the message, or the exception's name when it has none."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class DeliveryWorker:
    def __init__(
        self,
        db: AsyncEngine,
        senders: Sequence[Sender],
        clock: Clock,
        *,
        max_attempts: int = 10,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=2),
        base_backoff: float = 2.0,
        max_backoff: float = 300.0,
        max_retry_after: float = 3600.0,
        give_up_after: timedelta = timedelta(hours=24),
        facilitators_channel: str = "facilitators",
        language: str = "en",
        ownership: Ownership | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics  # counts sends, failures and platform errors (`steward run` with METRICS_PORT)
        # With leases, a workspace's rows are sent by the process that decides it: so when a process takes over
        # from one that died, the sends left half done are known to be abandoned.
        self.ownership = ownership
        self.senders = list(senders)
        self.clock = clock
        self.max_attempts = max_attempts
        self.batch = batch
        self.lease = lease
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after  # an absurd Retry-After (a misconfigured proxy) is not obeyed
        self.give_up_after = give_up_after
        self.facilitators_channel = facilitators_channel
        self.language = supported(language)  # for a workspace the database holds no language for
        self._wake = asyncio.Event()
        self._paused: dict[str, datetime] = {}  # workspace -> until when its platform asked us to wait

    def wake(self) -> None:
        """Called by the engine after it committed new outbox rows."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, idle: float = 1.0) -> None:
        while not stop.is_set():
            try:
                delivered = await self.run_once()
            except Exception as exc:
                if unavailable(exc):  # a restart of the database server, say: one line, and the next round
                    logger.warning("delivery round failed, the database did not answer (%s); trying again shortly",
                                   describe(getattr(exc, "orig", None) or exc))
                else:
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
            if self.clock.now() >= row["claimed_until"]:
                # Sending the rows before took longer than the lease: another worker may have this one now.
                logger.info("outbox row %s: lease ran out before its turn; left for the next round", row["id"])
                continue
            if self.ownership is not None and not self.ownership.holds(row["workspace_id"]):
                # This process stalled past the renewal of the workspace's lease: another one may have taken it
                # over and be sending this very row. Only the holder sends, so the row goes back to be claimed again.
                logger.info("outbox row %s: this process is not sure it still decides for %s; handed back",
                            row["id"], row["workspace_id"])
                await self._hand_back(row)
                continue
            with self._sending(row["workspace_id"]):  # entered before any await: the lease stays for the send
                await self._deliver(row)
        return len(rows)

    def _sending(self, workspace: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if self.ownership is None else self.ownership.sending(workspace)

    async def _hand_back(self, row: dict[str, Any]) -> None:
        """Give up a claim without an attempt: the row is due again for whoever holds its workspace's lease."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(T_OUTBOX)
                .where(T_OUTBOX.c.id == row["id"], T_OUTBOX.c.status == "sending",
                       T_OUTBOX.c.claimed_until == row["claimed_until"])
                .values(status="pending", claimed_until=None)
            )

    async def release_abandoned(self, workspace: str | None = None) -> int:
        """Rows a process left "sending" when it died become due now, instead of when their claim runs out: at a
        start when no other process delivers (SQLite), and for a workspace whose lease this process has just
        taken (only the lease holder delivers). Their next attempt first asks whether the send went through."""
        stmt = update(T_OUTBOX).where(T_OUTBOX.c.status == "sending")
        if workspace is not None:
            stmt = stmt.where(T_OUTBOX.c.workspace_id == workspace)
        async with self.db.begin() as conn:
            result = await conn.execute(stmt.values(claimed_until=self.clock.now() - timedelta(seconds=1)))
        released = int(result.rowcount or 0)
        if released:
            logger.info("%d outbox rows were being sent when their process stopped; checked and sent now", released)
            self.wake()
        return released

    async def _claim(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        due = (T_OUTBOX.c.status == "pending") & (T_OUTBOX.c.due_at <= now) | (T_OUTBOX.c.status == "sending") & (
            T_OUTBOX.c.claimed_until < now
        )
        if self.ownership is not None:
            held = self.ownership.held
            if not held:
                return []
            due = due & T_OUTBOX.c.workspace_id.in_(held)
        pick = select(T_OUTBOX.c.id).where(due).order_by(T_OUTBOX.c.id).limit(self.batch)
        async with self.db.begin() as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            # One statement that re-checks `due`: two workers can never both claim a row (SQLite serialises the
            # UPDATE; PostgreSQL skips rows another worker has locked). A row still "sending" was being sent when
            # its worker stopped: that counts as an attempt, whose outcome nobody knows.
            claim = (
                update(T_OUTBOX)
                .where(T_OUTBOX.c.id.in_(pick.scalar_subquery()), due)
                .values(
                    status="sending",
                    claimed_until=now + self.lease,
                    attempts=case((T_OUTBOX.c.status == "sending", T_OUTBOX.c.attempts + 1), else_=T_OUTBOX.c.attempts),
                )
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
            self._gave_up(action)
            logger.error("no adapter delivers to %s; action %s marked failed", action.workspace, action.key)
            return
        now = self.clock.now()
        paused = self._paused.get(action.workspace)
        if paused is not None and paused > now:
            # The platform refused another row of this workspace a moment ago: this one would be refused too.
            await self._reschedule(row, delay=(paused - now).total_seconds(), count_attempt=False,
                                   error=row["last_error"] or "rate limited")
            return
        if row["attempts"] >= self.max_attempts:
            logger.error("%s for %s was being sent when its worker stopped, %d times; giving up",
                         action.type, action.key, row["attempts"])
            await self._finish(row, status="failed", error="the worker stopped while sending it, every attempt")
            self._gave_up(action)
            return
        try:
            ref = await self._delivered_before(sender, action, row) if row["attempts"] else None
            if ref is None:
                ref = await sender.send(action, self.ref_of)
        except RetryLater as exc:
            self._platform_error(action, RATE_LIMITED)
            await self._rate_limited(row, action, exc)
        except ChannelUnreachable as exc:
            self._platform_error(action, f"channel_{exc.reason}")
            await self._unreachable(row, action, exc)
            self._gave_up(action)
        except PermanentFailure as exc:
            self._platform_error(action, error_name(exc))
            logger.error("%s for %s failed for good: %s", action.type, action.key, describe(exc))
            await self._finish(row, status="failed", error=str(exc), attempts=row["attempts"] + 1)
            self._gave_up(action)
        except Exception as exc:
            self._platform_error(action, error_name(exc))
            attempts = row["attempts"] + 1
            if attempts >= self.max_attempts:
                logger.error(
                    "%s for %s failed %d times; giving up: %s", action.type, action.key, attempts, describe(exc)
                )
                await self._finish(row, status="failed", error=describe(exc), attempts=attempts)
                self._gave_up(action)
            else:
                delay = min(self.max_backoff, self.base_backoff * 2 ** (attempts - 1)) * (1 + random.random() / 4)
                logger.warning(
                    "%s for %s failed (%s); retry %d in %.1fs", action.type, action.key, describe(exc), attempts, delay
                )
                await self._reschedule(row, delay=delay, count_attempt=True, error=describe(exc))
        else:
            sent_at = self.clock.now()
            await self._finish(row, status="sent", ref=ref, attempts=row["attempts"] + 1, sent_at=sent_at,
                               reached=action)
            if self.metrics is not None:
                self.metrics.sent(action, row["created_at"], sent_at)

    def _gave_up(self, action: Action) -> None:
        if self.metrics is not None:
            self.metrics.gave_up(action)

    def _platform_error(self, action: Action, error: str) -> None:
        if self.metrics is not None:
            self.metrics.platform_error(action.workspace, error)

    async def _delivered_before(self, sender: Sender, action: Action, row: dict[str, Any]) -> str | None:
        """What an earlier attempt delivered although its answer never came back (the sender looks, if it can)."""
        find = getattr(sender, "find_delivered", None)
        if find is None:
            return None
        ref: str | None = await find(action, row["created_at"])
        if ref is not None:
            logger.info("%s for %s had been delivered (the answer was lost); not sent again", action.type, action.key)
        return ref

    async def _rate_limited(self, row: dict[str, Any], action: Action, exc: RetryLater) -> None:
        now = self.clock.now()
        if now - row["created_at"] >= self.give_up_after:
            logger.error("%s for %s: rate limited since %s; giving up", action.type, action.key,
                         row["created_at"].isoformat(timespec="minutes"))
            await self._finish(row, status="failed", error=f"rate limited for {self.give_up_after}; {exc}")
            self._gave_up(action)
            return
        delay = max(0.0, min(exc.retry_after, self.max_retry_after))
        self._paused = {ws: until for ws, until in self._paused.items() if until > now}
        self._paused[action.workspace] = now + timedelta(seconds=delay)
        logger.warning("%s for %s: rate limited (%s), retrying in %.1fs", action.type, action.key, exc, delay)
        await self._reschedule(row, delay=delay, count_attempt=False, error=str(exc))

    async def _unreachable(self, row: dict[str, Any], action: Action, exc: ChannelUnreachable) -> None:
        """Fail the row; the first failure for the channel is recorded, and the facilitators are told once."""
        workspace, channel, now = action.workspace, exc.channel, self.clock.now()
        async with self.db.begin() as conn:
            await self._mark(conn, row, status="failed", error=str(exc), attempts=row["attempts"] + 1)
            if await repo.is_unreachable(conn, workspace, channel):
                told = "known unreachable already"
            elif action.key.startswith(NOTICE_PREFIX) or await self._is_facilitators(conn, workspace, channel):
                await repo.mark_unreachable(conn, workspace, channel, exc.reason, now, None)
                told = "it is the facilitators' channel: nobody can be told there, add Steward to it again"
            elif await repo.is_unreachable(conn, workspace, self.facilitators_channel):
                await repo.mark_unreachable(conn, workspace, channel, exc.reason, now, None)
                told = "the facilitators' channel is unreachable too, so they are not told"
            else:
                notice = await self._notice(conn, workspace, channel, exc.reason, now)
                if await repo.mark_unreachable(conn, workspace, channel, exc.reason, now, notice.key):
                    await repo.insert_ignoring_duplicates(
                        conn, T_OUTBOX, [outbox_row(notice, now)], ["workspace_id", "key"]
                    )
                    told = "the facilitators are told once"
                else:
                    told = "known unreachable already"
        logger.error("%s for %s failed for good: %s; channel %s unreachable (%s), %s",
                     action.type, action.key, describe(exc), channel, exc.reason, told)

    async def _is_facilitators(self, conn: AsyncConnection, workspace: str, channel: str) -> bool:
        name = self.facilitators_channel.lstrip("#")
        if channel.lstrip("#") == name:
            return True
        facts = await repo.channel_facts(conn, workspace, channel)
        return facts is not None and (facts[1] == "facilitators" or facts[0] == name)

    async def _notice(
        self, conn: AsyncConnection, workspace: str, channel: str, reason: str, now: datetime
    ) -> PostMessage:
        """The facilitators' notice, in the community's language, naming the channel as they know it."""
        language = supported(await repo.workspace_language(conn, workspace) or self.language)
        facts = await repo.channel_facts(conn, workspace, channel)
        name = facts[0] if facts is not None and facts[0] and facts[0] != channel else ""
        shown = f"#{name}" if name else (f"<#{channel}>" if _looks_like_an_id(channel) else f"#{channel}")
        return PostMessage(
            key=f"{NOTICE_PREFIX}{channel}:{int(now.timestamp())}",
            workspace=workspace,
            channel=self.facilitators_channel,
            text=translate(f"delivery.unreachable.{reason}", language, channel=shown),
        )

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
        reached: Action | None = None,
    ) -> None:
        """Mark the row done; `reached`: the delivered action, whose channel is reachable (again)."""
        async with self.db.begin() as conn:
            await self._mark(conn, row, status=status, error=error, ref=ref, attempts=attempts, sent_at=sent_at)
            channel = getattr(reached, "channel", None)
            if channel:
                await repo.clear_unreachable(conn, row["workspace_id"], channel)

    async def _mark(
        self,
        conn: AsyncConnection,
        row: dict[str, Any],
        *,
        status: str,
        error: str | None = None,
        ref: str | None = None,
        attempts: int | None = None,
        sent_at: datetime | None = None,
    ) -> None:
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


def outbox_row(action: Action, at: datetime) -> dict[str, Any]:
    """A new, due outbox row for `action` (the shape the engine writes)."""
    return {
        "workspace_id": action.workspace,
        "key": action.key,
        "action": action.to_dict(),
        "status": "pending",
        "attempts": 0,
        "created_at": at,
        "due_at": at,
        "claimed_until": None,
        "sent_at": None,
        "platform_ref": None,
        "last_error": None,
    }


def _looks_like_an_id(channel: str) -> bool:
    """A platform's channel id (Slack's C…/G…, Discord's digits) rather than a name."""
    return channel.isdigit() or (channel[:1] in {"C", "G"} and channel.isalnum() and channel.isupper())
