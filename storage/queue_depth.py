"""How much work waits in the database's queues, per workspace: for the metrics scrape, not for deciding.

Two grouped counts: outbox rows not yet sent (served by the `status, due_at` index) and inbox events not yet
handled (the inbox holds only those: a handled event's row is deleted with its effects).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.leases import T_INBOX
from storage.repository import T_OUTBOX

WAITING = ("pending", "sending")


async def outbox_depth(conn: AsyncConnection) -> dict[str, int]:
    """Outbox rows pending or being sent, per workspace."""
    result = await conn.execute(
        select(T_OUTBOX.c.workspace_id, func.count())
        .where(T_OUTBOX.c.status.in_(WAITING))
        .group_by(T_OUTBOX.c.workspace_id)
    )
    return {str(workspace): int(count) for workspace, count in result}


async def inbox_depth(conn: AsyncConnection) -> dict[str, int]:
    """Inbox events waiting to be handled, per workspace."""
    result = await conn.execute(select(T_INBOX.c.workspace_id, func.count()).group_by(T_INBOX.c.workspace_id))
    return {str(workspace): int(count) for workspace, count in result}
