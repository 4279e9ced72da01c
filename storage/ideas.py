"""Ideas and their supporters: proposed by command, supported by button or reaction, moved through their statuses.

A vote is one row per member and idea, so a second vote by the same member changes nothing. Every change the
idea's card shows counts up `revision`, which keys the card's update: an event handled again after a crash
yields the same update, and the outbox sends it once. A reaction finds its idea through the card's outbox row
(its `platform_ref` is the message the reaction is on).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from bot.core.ideas import DECLINED, OPEN_IDEA, PROPOSED, IdeaItem, IdeaRecord, IdeasDigest, next_statuses
from storage.ideas_model import T_IDEA, T_IDEA_VOTE
from storage.repository import T_MESSAGE, T_OUTBOX

logger = logging.getLogger(__name__)

IDEA, V = T_IDEA, T_IDEA_VOTE
NEW_LISTED = 5  # the week's new ideas a digest names (it counts them all)
SUPPORTED_LISTED = 3  # the open ideas with the most support a digest names


class IdeaStore:
    """Ideas of all workspaces, on Steward's async engine (SQLite or PostgreSQL)."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    # --- writing ---------------------------------------------------------------------------------------------
    async def record(
        self,
        workspace: str,
        *,
        origin: str,
        channel: str,
        text: str,
        author: str,
        language: str,
        private: bool,
        now: datetime,
        card_key: Callable[[int], str],
    ) -> tuple[IdeaRecord, bool]:
        """Store a new idea; the second value is False when this event stored it before."""
        try:
            async with self.db.begin() as conn:
                found = await self._by_origin(conn, workspace, origin)
                if found is not None:
                    return found, False
                result = await conn.execute(IDEA.insert().values(
                    workspace_id=workspace, channel_id=channel, origin=origin, text=text, author_id=author,
                    language=language, private=private, created_at=now, status=PROPOSED, reason="",
                    status_origin="", card_key="", revision=0, comments=0, updated_at=now,
                ))
                idea_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                await conn.execute(update(IDEA).where(IDEA.c.id == idea_id).values(card_key=card_key(idea_id)))
                stored = await self._get(conn, workspace, idea_id)
                assert stored is not None
                return stored, True
        except IntegrityError:  # the same event, stored concurrently by another process
            again = await self.by_origin(workspace, origin)
            if again is None:
                raise
            return again, False

    async def vote(
        self, workspace: str, idea_id: int, member: str, *, origin: str, now: datetime
    ) -> tuple[IdeaRecord | None, bool]:
        """A member supports an open idea. Returns the idea afterwards and whether the vote counted (False: the
        member supports it already, or it is closed). A vote this event cast before counts again."""
        try:
            async with self.db.begin() as conn:
                current = await self._get(conn, workspace, idea_id)
                if current is None:
                    return None, False
                cast = (await conn.execute(
                    select(V.c.origin).where(V.c.workspace_id == workspace, V.c.idea_id == idea_id,
                                             V.c.member_id == member)
                )).first()
                if cast is not None:
                    return current, cast.origin == origin
                if not current.open:
                    return current, False
                await conn.execute(V.insert().values(
                    workspace_id=workspace, idea_id=idea_id, member_id=member, at=now, origin=origin
                ))
                await self._changed(conn, idea_id, now)
                return await self._get(conn, workspace, idea_id), True
        except IntegrityError:  # the same member's vote, cast concurrently
            return await self.get(workspace, idea_id), False

    async def withdraw(
        self, workspace: str, idea_id: int, member: str, now: datetime
    ) -> tuple[IdeaRecord | None, bool]:
        """A member takes back their support; False when they had none (or the idea is closed)."""
        async with self.db.begin() as conn:
            current = await self._get(conn, workspace, idea_id)
            if current is None or not current.open or member not in current.voters:
                return current, False
            await conn.execute(
                delete(V).where(V.c.workspace_id == workspace, V.c.idea_id == idea_id, V.c.member_id == member)
            )
            await self._changed(conn, idea_id, now)
            return await self._get(conn, workspace, idea_id), True

    async def move(
        self, workspace: str, idea_id: int, status: str, *, by: str, reason: str, origin: str, now: datetime
    ) -> tuple[IdeaRecord | None, bool]:
        """Move an idea forward to `status`; False when it may not go there from where it is. The event that
        moved it before moves it "again" (True, unchanged)."""
        async with self.db.begin() as conn:
            current = await self._get(conn, workspace, idea_id)
            if current is None:
                return None, False
            done_by = (await conn.execute(select(IDEA.c.status_origin).where(IDEA.c.id == idea_id))).scalar()
            if done_by == origin and current.status == status:
                return current, True
            if status not in next_statuses(current.status):
                return current, False
            await conn.execute(update(IDEA).where(IDEA.c.id == idea_id).values(
                status=status, reason=reason if status == DECLINED else "", status_by=by, status_at=now,
                status_origin=origin,
            ))
            await self._changed(conn, idea_id, now)
            return await self._get(conn, workspace, idea_id), True

    async def count_comments(self, workspace: str, idea: IdeaRecord, thread: str, now: datetime) -> IdeaRecord:
        """The replies in the card's thread, counted from the stored messages (so counting twice is harmless)."""
        async with self.db.begin() as conn:
            count = int((await conn.execute(
                select(func.count()).select_from(T_MESSAGE).where(
                    T_MESSAGE.c.workspace_id == workspace, T_MESSAGE.c.channel_id == idea.channel_id,
                    T_MESSAGE.c.posted_at >= idea.created_at, T_MESSAGE.c.thread_id == thread,
                    T_MESSAGE.c.id != thread, T_MESSAGE.c.is_bot.is_(False), T_MESSAGE.c.deleted_at.is_(None),
                )
            )).scalar() or 0)
            if count != idea.comments:
                await conn.execute(update(IDEA).where(IDEA.c.id == idea.id).values(comments=count))
                await self._changed(conn, idea.id, now)
            found = await self._get(conn, workspace, idea.id)
            return found if found is not None else idea

    async def forget_member(self, workspace: str, member: str) -> int:
        """A member's forget-me request: their votes go, and the ideas they proposed no longer name them."""
        async with self.db.begin() as conn:
            voted = [r.idea_id for r in await conn.execute(
                select(V.c.idea_id).where(V.c.workspace_id == workspace, V.c.member_id == member)
            )]
            await conn.execute(delete(V).where(V.c.workspace_id == workspace, V.c.member_id == member))
            authored = [r.id for r in await conn.execute(
                select(IDEA.c.id).where(IDEA.c.workspace_id == workspace,
                                     or_(IDEA.c.author_id == member, IDEA.c.status_by == member))
            )]
            if authored:
                await conn.execute(update(IDEA).where(IDEA.c.workspace_id == workspace, IDEA.c.author_id == member)
                                   .values(author_id=None))
                await conn.execute(update(IDEA).where(IDEA.c.workspace_id == workspace, IDEA.c.status_by == member)
                                   .values(status_by=None))
            changed = sorted(set(voted) | set(authored))
            if changed:
                await conn.execute(update(IDEA).where(IDEA.c.id.in_(changed)).values(revision=IDEA.c.revision + 1))
            return len(changed)

    # --- reading ---------------------------------------------------------------------------------------------
    async def get(self, workspace: str, idea_id: int) -> IdeaRecord | None:
        async with self.db.connect() as conn:
            return await self._get(conn, workspace, idea_id)

    async def by_origin(self, workspace: str, origin: str) -> IdeaRecord | None:
        async with self.db.connect() as conn:
            return await self._by_origin(conn, workspace, origin)

    async def by_card(self, workspace: str, message: str) -> IdeaRecord | None:
        """The idea whose card is this platform message (a reaction on it, a reply in its thread). Discord keeps
        a card as "channel/message", Slack and the console as the message alone."""
        async with self.db.connect() as conn:
            rows = (await conn.execute(
                select(IDEA.c.id, T_OUTBOX.c.platform_ref)
                .join(T_OUTBOX, and_(T_OUTBOX.c.workspace_id == IDEA.c.workspace_id, T_OUTBOX.c.key == IDEA.c.card_key))
                .where(IDEA.c.workspace_id == workspace, T_OUTBOX.c.platform_ref.is_not(None))
            )).all()
            for row in rows:
                if message in (row.platform_ref, str(row.platform_ref).rsplit("/", 1)[-1]):
                    return await self._get(conn, workspace, row.id)
            return None

    async def card_ref(self, idea: IdeaRecord) -> str | None:
        """The platform message the idea's card was posted as (None until it was delivered)."""
        async with self.db.connect() as conn:
            return (await conn.execute(
                select(T_OUTBOX.c.platform_ref).where(T_OUTBOX.c.workspace_id == idea.workspace_id,
                                                      T_OUTBOX.c.key == idea.card_key)
            )).scalar()

    async def open_ideas(
        self, workspace: str, words: Sequence[str] = (), *, channel: str | None = None, limit: int = 10
    ) -> list[IdeaRecord]:
        """Open ideas the channel may see, holding every word (any case, accents ignored), most supported first."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(IDEA.c.id).where(IDEA.c.workspace_id == workspace, IDEA.c.status.in_(sorted(OPEN_IDEA)),
                                     _visible(channel))
            )
            found = [i for r in rows.all() if (i := await self._get(conn, workspace, r.id)) is not None]
        wanted = [_folded(w) for w in words if w.strip()]
        found = [i for i in found if all(w in _folded(i.text) for w in wanted)]
        found.sort(key=lambda i: (-i.votes, i.created_at, i.id))
        return found[:limit]

    async def all(self, workspace: str) -> list[IdeaRecord]:
        async with self.db.connect() as conn:
            stmt = select(IDEA.c.id).where(IDEA.c.workspace_id == workspace).order_by(IDEA.c.id)
            rows = (await conn.execute(stmt)).all()
            return [i for r in rows if (i := await self._get(conn, workspace, r.id)) is not None]

    # --- internals -------------------------------------------------------------------------------------------
    async def _changed(self, conn: AsyncConnection, idea_id: int, now: datetime) -> None:
        await conn.execute(
            update(IDEA).where(IDEA.c.id == idea_id).values(revision=IDEA.c.revision + 1, updated_at=now)
        )

    async def _by_origin(self, conn: AsyncConnection, workspace: str, origin: str) -> IdeaRecord | None:
        stmt = select(IDEA.c.id).where(IDEA.c.workspace_id == workspace, IDEA.c.origin == origin)
        row = (await conn.execute(stmt)).first()
        return await self._get(conn, workspace, row.id) if row is not None else None

    async def _get(self, conn: AsyncConnection, workspace: str, idea_id: int) -> IdeaRecord | None:
        row = (await conn.execute(select(IDEA).where(IDEA.c.workspace_id == workspace, IDEA.c.id == idea_id))).first()
        if row is None:
            return None
        voters = (await conn.execute(
            select(V.c.member_id).where(V.c.workspace_id == workspace, V.c.idea_id == idea_id).order_by(V.c.at, V.c.id)
        )).scalars()
        return _record(row._mapping, tuple(voters))


async def ideas_in(
    conn: AsyncConnection, workspace: str, channels: Sequence[str], start: datetime, end: datetime
) -> IdeasDigest:
    """The digest's ideas in these (public) channels: those proposed in [start, end), and the open ones with the
    most support by `end`. A private channel's idea never reaches a digest."""
    scope = and_(IDEA.c.workspace_id == workspace, IDEA.c.channel_id.in_(list(channels)), IDEA.c.private.is_(False))
    votes = (
        select(func.count()).select_from(V)
        .where(V.c.workspace_id == IDEA.c.workspace_id, V.c.idea_id == IDEA.c.id, V.c.at < end)
        .scalar_subquery()
    )
    new_rows = (await conn.execute(
        select(IDEA.c.id, IDEA.c.text, IDEA.c.status, votes.label("votes"))
        .where(scope, IDEA.c.created_at >= start, IDEA.c.created_at < end).order_by(IDEA.c.created_at, IDEA.c.id)
    )).all()
    supported = (await conn.execute(
        select(IDEA.c.id, IDEA.c.text, IDEA.c.status, votes.label("votes"))
        .where(scope, IDEA.c.status.in_(sorted(OPEN_IDEA)), IDEA.c.created_at < end, votes > 0)
        .order_by(votes.desc(), IDEA.c.created_at, IDEA.c.id).limit(SUPPORTED_LISTED)
    )).all()

    def item(row: Any) -> IdeaItem:
        return IdeaItem(id=int(row.id), text=row.text, votes=int(row.votes or 0), status=row.status)

    return IdeasDigest(
        new=tuple(item(r) for r in new_rows[:NEW_LISTED]),
        new_count=len(new_rows),
        supported=tuple(item(r) for r in supported),
    )


def _visible(channel: str | None) -> ColumnElement[bool]:
    """Public ideas, and a private channel's own where it is asked in."""
    public: ColumnElement[bool] = IDEA.c.private.is_(False)
    return or_(public, IDEA.c.channel_id == channel) if channel is not None else public


def _folded(text: str) -> str:
    """Text as a search compares it: case-folded, accents dropped ("Über" matches "uber")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _record(row: Any, voters: Sequence[str]) -> IdeaRecord:
    return IdeaRecord(
        id=int(row["id"]),
        workspace_id=row["workspace_id"],
        channel_id=row["channel_id"],
        text=row["text"],
        author_id=row["author_id"],
        created_at=row["created_at"],
        status=row["status"],
        card_key=row["card_key"] or "",
        revision=int(row["revision"] or 0),
        language=row["language"] or "en",
        private=bool(row["private"]),
        reason=row["reason"] or "",
        status_by=row["status_by"],
        status_at=row["status_at"],
        comments=int(row["comments"] or 0),
        voters=tuple(voters),
    )
