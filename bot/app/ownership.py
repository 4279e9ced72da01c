"""Which workspaces this process decides for: leases in the database, taken, renewed and given up here.

Several Steward processes can share one PostgreSQL database. Each workspace is decided by one of them at a
time: the one holding its lease. The others hand the workspace's events to the inbox, where the owner takes
them in order. A process that dies stops renewing; after `ttl` another one takes the lease, rebuilds the
workspace's working set from the database and goes on. Every write is fenced (`storage.leases.fence`), so a
process that stalled past its lease cannot overwrite the new owner's decisions.

The workspaces are shared out evenly: each process announces itself with its leases, and holds at most its fair
share, the workspaces divided by the live processes (rounded up). One that holds more (it started first, or
another has joined) gives the rest up: it stops deciding for them, waits for a send under way to finish, hands
the lease back, and does not take it again for a lease's length, so that a process with room takes it.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
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
        self._leaving: set[str] = set()  # given up, still leased until the send under way has finished
        self._resting: dict[str, datetime] = {}  # given back: not taken again before then
        self._sending: Counter[str] = Counter()  # workspace -> sends under way
        self.share: int | None = None  # the most this process should hold; None until it has counted the others
        self.replicas = 1  # live processes at the last count, this one included
        self._counted_at: datetime | None = None
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
        if workspace not in self._held and not await self._has_room(workspace, now):
            return Taken.REFUSED
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
            await leases.announce(conn, self.owner, now=now, until=now + self.ttl)
            kept = await leases.renew(conn, sorted({*self._held, *self._leaving}), self.owner, until=now + self.ttl)
        self._leaving &= kept
        lost = set(self._held) - kept
        for workspace in kept - self._leaving:
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
            await leases.release(conn, sorted({*self._held, *self._leaving}), self.owner)
            await leases.retire(conn, self.owner)
        self._held.clear()
        self._leaving.clear()

    # --- an even share ------------------------------------------------------------------------------------------
    async def count(self) -> None:
        """Count the live processes and the workspaces, and so this process's share (renew announces it first)."""
        now = self.now()
        async with self.db.connect() as conn:
            replicas, workspaces = await leases.census(conn, now=now)
        self.replicas = max(1, replicas)
        self.share = max(1, math.ceil(workspaces / self.replicas))
        self._counted_at = now

    async def _has_room(self, workspace: str, now: datetime) -> bool:
        """Whether this process may take one more workspace: not one it has just given up, and not beyond its
        share (counted again first when the count is older than a renewal round, as after a stall)."""
        if workspace in self._leaving or self._resting.get(workspace, now) > now:
            return False
        self._resting.pop(workspace, None)
        if self.share is None or len(self._held) < self.share:
            return True
        if self._counted_at is None or now - self._counted_at > self.ttl / 3:
            await self.count()
        return len(self._held) < self.share

    def surplus(self) -> list[str]:
        """The workspaces held beyond this process's share: the last ones by name, so the choice is stable."""
        if self.share is None or len(self._held) <= self.share:
            return []
        return sorted(self._held)[self.share:]

    def leave(self, workspace: str) -> None:
        """Stop deciding and sending for `workspace`; its lease is handed back by `let_go` once no send of it is
        under way (a send the new holder repeated would reach the platform twice)."""
        if self._held.pop(workspace, None) is not None:
            self._leaving.add(workspace)
            logger.info("giving %s up to even out the workspaces between processes", workspace)

    async def let_go(self) -> list[str]:
        """Hand back the leases given up whose sends have finished; the workspaces handed back."""
        done = sorted(w for w in self._leaving if not self._sending[w])
        if not done:
            return []
        now = self.now()
        async with self.db.begin() as conn:
            await leases.release(conn, done, self.owner)
        for workspace in done:
            self._leaving.discard(workspace)
            self._resting[workspace] = now + self.ttl
        return done

    @contextlib.contextmanager
    def sending(self, workspace: str) -> Iterator[None]:
        """Around a send to the platform for `workspace`: its lease is not handed back meanwhile."""
        self._sending[workspace] += 1
        try:
            yield
        finally:
            self._sending[workspace] -= 1
