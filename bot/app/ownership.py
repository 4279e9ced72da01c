"""Which workspaces this process decides for: leases in the database, taken, renewed and given up here.

Several Steward processes can share one PostgreSQL database. Each workspace is decided by one of them at a
time: the one holding its lease. The others hand the workspace's events to the inbox, where the owner takes
them in order. A process that dies stops renewing; after `ttl` another one takes the lease, rebuilds the
workspace's working set from the database and goes on. Every write is fenced (`storage.leases.fence`), so a
process that stalled past its lease cannot overwrite the new owner's decisions.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import leases
from storage.db import process_owner

logger = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=30)


class Taken(enum.Enum):
    """What taking a lease came to; true unless another process holds it."""

    REFUSED = "refused"  # another process holds it
    KEPT = "kept"  # this process held it and nobody else has since: its working set is still right
    NEW = "new"  # nobody held it, or another process did: what this process knows of it must be loaded again

    def __bool__(self) -> bool:
        return self is not Taken.REFUSED


def wall_clock() -> datetime:
    """Leases are about real processes, so they follow real time, also when the engine's clock is simulated."""
    return datetime.now(UTC)


class Ownership:
    def __init__(
        self,
        db: AsyncEngine | None = None,
        *,
        owner: str | None = None,
        ttl: timedelta = LEASE_TTL,
        now: Callable[[], datetime] = wall_clock,
    ) -> None:
        self._db = db
        self.owner = owner or process_owner()
        self.ttl = ttl
        self.now = now
        self._held: dict[str, datetime] = {}  # workspace -> until when this process holds it
        # Called with a workspace this process has just come to hold (the delivery worker takes over the sends a
        # dead holder left unfinished).
        self.on_taken: list[Callable[[str], Awaitable[object]]] = []

    @property
    def db(self) -> AsyncEngine:
        if self._db is None:
            raise RuntimeError("Ownership has no database yet (build_engine binds it)")
        return self._db

    def bind(self, db: AsyncEngine) -> None:
        """Use this database (the engine's), unless one was given already."""
        if self._db is None:
            self._db = db

    @property
    def held(self) -> list[str]:
        return sorted(self._held)

    def holds(self, workspace: str) -> bool:
        """Held, with a margin: a lease about to run out is not relied on (it is renewed or taken again)."""
        until = self._held.get(workspace)
        return until is not None and until - self.ttl / 3 > self.now()

    async def take(self, workspace: str) -> Taken:
        """Take the lease of `workspace`, or take it again after this process was late renewing it. Only a lease
        that was someone else's since (or nobody's) is NEW: a busy process that renews late must not reload its
        working set for it, or each late renewal makes it later still."""
        now = self.now()
        async with self.db.begin() as conn:
            before = await leases.holder(conn, workspace)
            taken = await leases.take(conn, workspace, self.owner, now=now, until=now + self.ttl)
        if not taken:
            return Taken.REFUSED
        fresh = workspace not in self._held
        self._held[workspace] = now + self.ttl
        if not fresh and before == self.owner:
            return Taken.KEPT
        if fresh:
            logger.info("deciding for %s now (lease taken by %s)", workspace, self.owner)
            for hook in self.on_taken:
                await hook(workspace)
        return Taken.NEW

    async def renew(self) -> set[str]:
        """Renew every lease held; the workspaces lost (another process took them after this one stalled)."""
        now = self.now()
        async with self.db.begin() as conn:
            kept = await leases.renew(conn, self.held, self.owner, until=now + self.ttl)
        lost = set(self._held) - kept
        for workspace in kept:
            self._held[workspace] = now + self.ttl
        for workspace in lost:
            self.forget(workspace)
        return lost

    def forget(self, workspace: str) -> None:
        if self._held.pop(workspace, None) is not None:
            logger.warning("no longer deciding for %s: its lease went to another process", workspace)

    async def unowned(self) -> list[str]:
        async with self.db.connect() as conn:
            return await leases.unowned(conn, now=self.now())

    async def fence(self, conn: AsyncConnection, workspaces: Iterable[str]) -> None:
        await leases.fence(conn, workspaces, self.owner, now=self.now())

    async def release_all(self) -> None:
        """A clean stop gives its leases back at once, so another process need not wait for them to run out."""
        async with self.db.begin() as conn:
            await leases.release(conn, self.held, self.owner)
        self._held.clear()
