"""Workspace leases and the inbox: the database says which process decides for a workspace.

A lease is a row (workspace, owner, expires_at). Taking one succeeds when nobody holds it or its holder let it
expire; holding one means renewing it. Every write of a workspace's decisions first checks, in the same
transaction, that the writer still holds the lease (a fence), so a process that stalled past its lease cannot
overwrite what the new owner decided. Events that reach a process without the lease wait in the inbox for the
owner. Both dialects run the same statements (ON CONFLICT ... WHERE, RETURNING).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import dialect_insert
from storage.models import InboxEvent, Replica, Workspace, WorkspaceLease

T_LEASE: Table = WorkspaceLease.__table__  # type: ignore[attr-defined]
T_INBOX: Table = InboxEvent.__table__  # type: ignore[attr-defined]
T_WORKSPACE: Table = Workspace.__table__  # type: ignore[attr-defined]
T_REPLICA: Table = Replica.__table__  # type: ignore[attr-defined]
WAITING_PAGE = 500  # inbox rows read at a time


class LeaseLost(Exception):
    """A write was refused: this process no longer holds the lease of these workspaces."""

    def __init__(self, workspaces: Iterable[str]) -> None:
        self.workspaces = frozenset(workspaces)
        super().__init__(f"lease lost for {', '.join(sorted(self.workspaces))}")


async def take(conn: AsyncConnection, workspace: str, owner: str, *, now: datetime, until: datetime) -> bool:
    """Take or renew the lease of `workspace` until `until`; False when another process holds it."""
    stmt = dialect_insert(conn, T_LEASE).values(workspace_id=workspace, owner=owner, expires_at=until)
    stmt = stmt.on_conflict_do_update(
        index_elements=["workspace_id"],
        set_={"owner": stmt.excluded.owner, "expires_at": stmt.excluded.expires_at},
        where=or_(T_LEASE.c.owner == owner, T_LEASE.c.expires_at < now),
    ).returning(T_LEASE.c.owner)
    return (await conn.execute(stmt)).first() is not None


async def holder(conn: AsyncConnection, workspace: str) -> str | None:
    """Who holds (or last held) the lease of `workspace`, its row locked until the transaction ends (PostgreSQL), so
    that the answer still stands when `take` runs next in the same transaction."""
    stmt = select(T_LEASE.c.owner).where(T_LEASE.c.workspace_id == workspace)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).scalar_one_or_none()


async def renew(conn: AsyncConnection, workspaces: Sequence[str], owner: str, *, until: datetime) -> set[str]:
    """Renew the leases this process holds; the workspaces whose lease it still holds."""
    if not workspaces:
        return set()
    result = await conn.execute(
        update(T_LEASE)
        .where(T_LEASE.c.workspace_id.in_(list(workspaces)), T_LEASE.c.owner == owner)
        .values(expires_at=until)
        .returning(T_LEASE.c.workspace_id)
    )
    return {row.workspace_id for row in result}


async def fence(conn: AsyncConnection, workspaces: Iterable[str], owner: str, *, now: datetime) -> None:
    """Inside a write's transaction: raise LeaseLost unless this process holds every one of these leases.

    The rows are locked (PostgreSQL) until the transaction ends, so a lease cannot change hands mid-write.
    """
    wanted = set(workspaces)
    if not wanted:
        return
    stmt = select(T_LEASE.c.workspace_id).where(
        T_LEASE.c.workspace_id.in_(sorted(wanted)), T_LEASE.c.owner == owner, T_LEASE.c.expires_at >= now
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    held = {row.workspace_id for row in await conn.execute(stmt)}
    if held != wanted:
        raise LeaseLost(wanted - held)


async def release(conn: AsyncConnection, workspaces: Sequence[str], owner: str) -> None:
    if workspaces:
        await conn.execute(
            delete(T_LEASE).where(T_LEASE.c.workspace_id.in_(list(workspaces)), T_LEASE.c.owner == owner)
        )


async def unowned(conn: AsyncConnection, *, now: datetime) -> list[str]:
    """Workspaces nobody holds a live lease for (a new one, or one whose owner died): someone should take them."""
    live = select(T_LEASE.c.workspace_id).where(T_LEASE.c.expires_at >= now)
    stored = select(T_WORKSPACE.c.id).where(T_WORKSPACE.c.id.not_in(live))
    waiting = select(T_INBOX.c.workspace_id).where(T_INBOX.c.workspace_id.not_in(live)).distinct()
    found = {row[0] for row in await conn.execute(stored)} | {row[0] for row in await conn.execute(waiting)}
    return sorted(found)


async def announce(conn: AsyncConnection, owner: str, *, now: datetime, until: datetime) -> None:
    """This process shares the database and is alive until `until` (renewed with its leases). Announcements that
    ran out (processes that died) go, so the table holds only the living."""
    await conn.execute(delete(T_REPLICA).where(T_REPLICA.c.expires_at < now))
    stmt = dialect_insert(conn, T_REPLICA).values(owner=owner, expires_at=until)
    await conn.execute(
        stmt.on_conflict_do_update(index_elements=["owner"], set_={"expires_at": stmt.excluded.expires_at})
    )


async def retire(conn: AsyncConnection, owner: str) -> None:
    """A clean stop: the others count one replica fewer at once, instead of when this one's announcement expires."""
    await conn.execute(delete(T_REPLICA).where(T_REPLICA.c.owner == owner))


async def census(conn: AsyncConnection, *, now: datetime) -> tuple[int, int]:
    """(live replicas, workspaces to decide for): the stored workspaces and those with events waiting."""
    live = select(func.count()).select_from(T_REPLICA).where(T_REPLICA.c.expires_at >= now)
    known = select(T_WORKSPACE.c.id).union(select(T_INBOX.c.workspace_id)).subquery()
    replicas = (await conn.execute(live)).scalar_one()
    workspaces = (await conn.execute(select(func.count()).select_from(known))).scalar_one()
    return int(replicas), int(workspaces)


async def hand_over(conn: AsyncConnection, workspace: str, key: str, event: dict[str, Any], at: datetime) -> None:
    """Leave an event for the owner of its workspace (once: the same event handed over twice is one row)."""
    insert = dialect_insert(conn, T_INBOX)
    await conn.execute(
        insert.values(workspace_id=workspace, key=key, event=event, received_at=at).on_conflict_do_nothing(
            index_elements=["workspace_id", "key"]
        )
    )


async def take_in(conn: AsyncConnection, workspace: str, key: str, event: dict[str, Any], at: datetime) -> int | None:
    """Store an event as it arrives, before the platform is told it arrived; its row, or None when the same event
    is waiting already (a redelivery)."""
    insert = dialect_insert(conn, T_INBOX)
    result = await conn.execute(
        insert.values(workspace_id=workspace, key=key, event=event, received_at=at)
        .on_conflict_do_nothing(index_elements=["workspace_id", "key"])
        .returning(T_INBOX.c.id)
    )
    found = result.scalar_one_or_none()
    return int(found) if found is not None else None


async def waiting(
    conn: AsyncConnection, workspaces: Sequence[str] | None, *, after: int = 0, limit: int = WAITING_PAGE
) -> list[dict[str, Any]]:
    """Events waiting for these workspaces (None: for any), oldest first, from the row after `after` on."""
    if workspaces is not None and not workspaces:
        return []
    stmt = select(T_INBOX.c.id, T_INBOX.c.workspace_id, T_INBOX.c.event, T_INBOX.c.received_at)
    stmt = stmt.where(T_INBOX.c.id > after)
    if workspaces is not None:
        stmt = stmt.where(T_INBOX.c.workspace_id.in_(list(workspaces)))
    result = await conn.execute(stmt.order_by(T_INBOX.c.id).limit(limit))
    return [dict(row._mapping) for row in result]


async def taken(conn: AsyncConnection, events: Sequence[tuple[str, str]], dropped: Sequence[int] = ()) -> None:
    """The owner processed these events, given as (workspace, key) (called in the transaction that stores their
    effects); `dropped`: rows removed by id (unreadable ones)."""
    by_workspace: dict[str, list[str]] = {}
    for workspace, key in events:
        by_workspace.setdefault(workspace, []).append(key)
    for workspace, keys in by_workspace.items():
        await conn.execute(delete(T_INBOX).where(T_INBOX.c.workspace_id == workspace, T_INBOX.c.key.in_(keys)))
    if dropped:
        await conn.execute(delete(T_INBOX).where(T_INBOX.c.id.in_(list(dropped))))
