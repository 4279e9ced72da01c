"""The decisions log: decisions recorded from threads, their consent votes, the offers to record one, and search.

Search works on the same stemmed English and German terms as the lessons (`storage.lesson_search.index_terms`):
SQLite FTS5 ranked by bm25, PostgreSQL a weighted tsvector ranked by ts_rank_cd. The index is written in the
same transaction as the decision. Every write is keyed by the event that made it (`origin`), so an event handled
again after a crash finds what it wrote the first time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from bot.core.cocreation import (
    AGREED,
    LIVE_DECISION,
    OBJECTED,
    OPEN_FOR_CONSENT,
    REOPENED,
    SUPERSEDED,
    DecisionDraft,
    DecisionRecord,
)
from bot.core.digest_figures import DECISIONS_LISTED, DecidedItem
from storage.cocreation_model import T_DECISION, T_DECISION_OFFER, T_DECISION_VOTE
from storage.db import dialect_insert
from storage.lesson_search import index_terms, query_groups
from storage.repository import T_OUTBOX

logger = logging.getLogger(__name__)

D, V, OFFER = T_DECISION, T_DECISION_VOTE, T_DECISION_OFFER
TITLE_WEIGHT = 4.0
MATCHES_RANKED = 200  # decisions are few: rank this many matches, then filter by workspace and privacy
CardKey = Callable[[int, int], str]  # (decision id, round) -> the outbox key of its card


def _draft_values(draft: DecisionDraft) -> dict[str, Any]:
    return {
        "title": draft.title,
        "question": draft.question,
        "options": list(draft.options),
        "outcome": draft.outcome,
        "reasons": list(draft.reasons),
        "participants": list(draft.participants),
        "authors": {
            "title": draft.title_author,
            "question": draft.question_author,
            "outcome": draft.outcome_author,
            "options": list(draft.option_authors),
            "reasons": list(draft.reason_authors),
        },
    }


class DecisionStore:
    """Decisions of all workspaces, on Steward's async engine (SQLite or PostgreSQL)."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db
        self.postgres = db.dialect.name == "postgresql"

    # --- writing ---------------------------------------------------------------------------------------------
    async def record(
        self,
        workspace: str,
        draft: DecisionDraft,
        *,
        origin: str,
        channel: str,
        thread: str,
        permalink: str,
        language: str,
        private: bool,
        recorded_by: str | None,
        now: datetime,
        consent_until: datetime,
        card_key: CardKey,
        supersedes: int | None = None,
    ) -> tuple[DecisionRecord, bool]:
        """Store a new decision (proposed); the second value is False when this event stored it before."""
        try:
            async with self.db.begin() as conn:
                found = await self._by_origin(conn, workspace, origin)
                if found is not None:
                    return found, False
                result = await conn.execute(D.insert().values(
                    workspace_id=workspace, channel_id=channel, thread_id=thread, origin=origin,
                    permalink=permalink, language=language, private=private, recorded_by=recorded_by,
                    recorded_at=now, status="proposed", round=0, round_origin=origin, consent_until=consent_until,
                    card_key="",
                    supersedes=supersedes, updated_at=now, **_draft_values(draft),
                ))
                decision_id = int(result.inserted_primary_key[0])  # type: ignore[index]
                await conn.execute(update(D).where(D.c.id == decision_id).values(card_key=card_key(decision_id, 0)))
                if supersedes is not None:
                    await conn.execute(
                        update(D).where(D.c.workspace_id == workspace, D.c.id == supersedes)
                        .values(status=SUPERSEDED, superseded_by=decision_id, updated_at=now)
                    )
                await self._index(conn, decision_id, draft)
                stored = await self._get(conn, workspace, decision_id)
                assert stored is not None
                return stored, True
        except IntegrityError:  # the same event, stored concurrently by another process
            found = await self.by_origin(workspace, origin)
            if found is None:
                raise
            return found, False

    async def repropose(
        self,
        workspace: str,
        decision_id: int,
        draft: DecisionDraft,
        *,
        origin: str,
        now: datetime,
        consent_until: datetime,
        card_key: CardKey,
    ) -> DecisionRecord | None:
        """An objected decision, recorded again in its thread: a new round of consent with what the thread says
        now. None unless it was objected to (or this event re-proposed it already: then it is returned)."""
        async with self.db.begin() as conn:
            current = await self._get(conn, workspace, decision_id)
            if current is None:
                return None
            opened_by = (await conn.execute(select(D.c.round_origin).where(D.c.id == decision_id))).scalar()
            if current.status == REOPENED and opened_by == origin:
                return current  # this event re-proposed it already
            if current.status != OBJECTED:
                return None
            round_ = current.round + 1
            await conn.execute(
                update(D).where(D.c.id == decision_id).values(
                    status=REOPENED, round=round_, round_origin=origin, consent_until=consent_until,
                    card_key=card_key(decision_id, round_), updated_at=now, **_draft_values(draft),
                )
            )
            await self._index(conn, decision_id, draft)
            return await self._get(conn, workspace, decision_id)

    async def vote(
        self, workspace: str, decision_id: int, member: str, vote: str, *, origin: str, now: datetime
    ) -> tuple[DecisionRecord | None, bool]:
        """A member agrees or objects in the current round; an objection reopens the decision for discussion.

        Returns the decision afterwards and whether the vote counted (False: consent is closed, or the member
        voted so already). A vote this event cast before counts again (the event is being handled again)."""
        async with self.db.begin() as conn:
            current = await self._get(conn, workspace, decision_id)
            if current is None:
                return None, False
            if await self._vote_origin(conn, workspace, decision_id, origin):
                return current, True
            if not current.open_for_consent:
                return current, False
            mine = (await conn.execute(
                select(V.c.id, V.c.vote).where(
                    V.c.workspace_id == workspace, V.c.decision_id == decision_id, V.c.member_id == member,
                    V.c.round == current.round,
                )
            )).first()
            if mine is not None and (mine.vote == vote or vote == "agree"):
                return current, False
            if mine is not None:
                await conn.execute(update(V).where(V.c.id == mine.id).values(vote=vote, at=now, origin=origin))
            else:
                await conn.execute(V.insert().values(
                    workspace_id=workspace, decision_id=decision_id, member_id=member, round=current.round,
                    vote=vote, at=now, origin=origin,
                ))
            if vote == "object":
                await conn.execute(update(D).where(D.c.id == decision_id).values(
                    status=OBJECTED, objected_at=now, objected_by=member, updated_at=now
                ))
            return await self._get(conn, workspace, decision_id), True

    async def agree(self, workspace: str, decision_id: int, round_: int, now: datetime) -> DecisionRecord | None:
        """Consent closed without an objection: the decision stands. Returns it when it is agreed (now or by this
        round's close before), None when it is not (an objection, a newer round, gone)."""
        async with self.db.begin() as conn:
            current = await self._get(conn, workspace, decision_id)
            if current is None or current.round != round_:
                return None
            if current.status == AGREED:
                return current
            if not current.open_for_consent or current.consent_until > now:
                return None
            await conn.execute(update(D).where(D.c.id == decision_id).values(
                status=AGREED, agreed_at=current.consent_until, updated_at=now
            ))
            return await self._get(conn, workspace, decision_id)

    async def add_offer(self, workspace: str, thread: str, channel: str, message: str, now: datetime) -> bool:
        """Note that Steward offers to record the thread's decision; True when this message's offer is the
        thread's one offer (new, or made by this same message before)."""
        async with self.db.begin() as conn:
            await conn.execute(
                dialect_insert(conn, OFFER).values(
                    workspace_id=workspace, thread_id=thread, channel_id=channel, message_id=message, offered_at=now
                ).on_conflict_do_nothing(index_elements=["workspace_id", "thread_id"])
            )
            row = (await conn.execute(
                select(OFFER.c.message_id).where(OFFER.c.workspace_id == workspace, OFFER.c.thread_id == thread)
            )).first()
            return row is not None and row.message_id == message

    async def forget_member(self, workspace: str, member: str) -> int:
        """A member's forget-me request: their votes go, they no longer record or take part in any decision, and
        the parts of a decision they wrote are removed."""
        changed = 0
        async with self.db.begin() as conn:
            await conn.execute(delete(V).where(V.c.workspace_id == workspace, V.c.member_id == member))
            for row in (await conn.execute(select(D).where(D.c.workspace_id == workspace))).all():
                values = _without(dict(row._mapping), member)
                if values:
                    await conn.execute(update(D).where(D.c.id == row.id).values(**values))
                    kept = {**dict(row._mapping), **values}
                    await self._index(conn, int(row.id), DecisionDraft(
                        title=kept["title"], question=kept["question"], options=tuple(kept["options"]),
                        outcome=kept["outcome"], reasons=tuple(kept["reasons"]),
                    ))
                    changed += 1
        return changed

    # --- reading ---------------------------------------------------------------------------------------------
    async def get(self, workspace: str, decision_id: int) -> DecisionRecord | None:
        async with self.db.connect() as conn:
            return await self._get(conn, workspace, decision_id)

    async def by_origin(self, workspace: str, origin: str) -> DecisionRecord | None:
        async with self.db.connect() as conn:
            return await self._by_origin(conn, workspace, origin)

    async def live_in_thread(self, workspace: str, thread: str) -> DecisionRecord | None:
        """The thread's current decision (not superseded), if it has one."""
        async with self.db.connect() as conn:
            row = (await conn.execute(
                select(D.c.id).where(D.c.workspace_id == workspace, D.c.thread_id == thread,
                                     D.c.status.in_(sorted(LIVE_DECISION)))
                .order_by(D.c.id.desc()).limit(1)
            )).first()
            return await self._get(conn, workspace, row.id) if row is not None else None

    async def open_for_consent(self, workspace: str) -> list[DecisionRecord]:
        """Decisions whose consent window is still open (their closing is due at `consent_until`)."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(D.c.id).where(D.c.workspace_id == workspace, D.c.status.in_(sorted(OPEN_FOR_CONSENT)))
                .order_by(D.c.consent_until)
            )
            return [d for r in rows.all() if (d := await self._get(conn, workspace, r.id)) is not None]

    async def agreed_unannounced(self, workspace: str, since: datetime, key: CardKey) -> list[DecisionRecord]:
        """Decisions agreed since `since` whose announcement (`key(id, round)`) never reached the outbox: the
        process stopped between storing the agreement and deciding the post."""
        async with self.db.connect() as conn:
            rows = (await conn.execute(
                select(D.c.id, D.c.round).where(D.c.workspace_id == workspace, D.c.status == AGREED,
                                                D.c.agreed_at >= since)
            )).all()
            missing = []
            for row in rows:
                posted = (await conn.execute(
                    select(T_OUTBOX.c.id).where(T_OUTBOX.c.workspace_id == workspace,
                                                T_OUTBOX.c.key == key(row.id, row.round))
                )).first()
                if posted is None and (found := await self._get(conn, workspace, row.id)) is not None:
                    missing.append(found)
            return missing

    async def agreed_since(self, workspace: str, since: datetime) -> list[DecisionRecord]:
        """Decisions that stood (agreed, not superseded since) at `since` or later, oldest first."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(D.c.id).where(D.c.workspace_id == workspace, D.c.status == AGREED, D.c.agreed_at >= since)
                .order_by(D.c.agreed_at, D.c.id)
            )
            return [d for r in rows.all() if (d := await self._get(conn, workspace, r.id)) is not None]

    async def recent(
        self, workspace: str, limit: int = 8, *, channel: str | None = None, channels: Collection[str] | None = None
    ) -> list[DecisionRecord]:
        """The latest decisions the channel may see (a private channel's only there), newest first; with
        `channels`, those of exactly these channels (the ones a portal reader may see)."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(D.c.id).where(D.c.workspace_id == workspace, _scope(channel, channels))
                .order_by(D.c.recorded_at.desc(), D.c.id.desc()).limit(limit)
            )
            return [d for r in rows.all() if (d := await self._get(conn, workspace, r.id)) is not None]

    async def search(
        self, workspace: str, query: str, limit: int = 5, *, channel: str | None = None,
        channels: Collection[str] | None = None,
    ) -> list[DecisionRecord]:
        """The best matches, best first: decisions holding every query word, then (if too few) any of them.
        `channel` and `channels` say which decisions may be found, as for `recent`."""
        groups = query_groups(query)
        if not groups or limit <= 0:
            return []
        scope = _scope(channel, channels)
        found = await self._search(workspace, groups, "all", limit, scope)
        if len(found) < limit and len(groups) > 1:
            seen = {d.id for d in found}
            more = await self._search(workspace, groups, "any", limit, scope)
            found += [d for d in more if d.id not in seen][: limit - len(found)]
        return found

    async def all(self, workspace: str | None = None) -> list[DecisionRecord]:
        async with self.db.connect() as conn:
            stmt = select(D.c.id, D.c.workspace_id).order_by(D.c.id)
            if workspace is not None:
                stmt = stmt.where(D.c.workspace_id == workspace)
            rows = (await conn.execute(stmt)).all()
            return [d for r in rows if (d := await self._get(conn, r.workspace_id, r.id)) is not None]

    async def offers(self, workspace: str) -> list[dict[str, Any]]:
        """Every offer to record a thread's decision, in the order made (the replay report lists them)."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(OFFER).where(OFFER.c.workspace_id == workspace).order_by(OFFER.c.offered_at, OFFER.c.thread_id)
            )
            return [dict(r._mapping) for r in rows]

    # --- internals -------------------------------------------------------------------------------------------
    async def _search(
        self, workspace: str, groups: list[list[str]], mode: str, limit: int, scope: ColumnElement[bool]
    ) -> list[DecisionRecord]:
        async with self.db.connect() as conn:
            if self.postgres:
                joiner = " & " if mode == "all" else " | "
                tsquery = joiner.join("(" + " | ".join(f"'{t}'" for t in g) + ")" for g in groups)
                rows = await conn.execute(
                    select(D.c.id).where(D.c.workspace_id == workspace, scope,
                                         text("decision.search @@ to_tsquery('simple', :q)"))
                    .order_by(text("ts_rank_cd(decision.search, to_tsquery('simple', :q)) DESC"), D.c.id.desc())
                    .limit(limit),
                    {"q": tsquery},
                )
                ids = [r.id for r in rows]
            else:
                joiner = " AND " if mode == "all" else " OR "
                match = joiner.join("(" + " OR ".join(f'"{t}"' for t in g) + ")" for g in groups)
                ranked = await conn.execute(
                    text(f"SELECT rowid AS rid FROM decision_fts WHERE decision_fts MATCH :q "
                         f"ORDER BY bm25(decision_fts, {TITLE_WEIGHT}, 1.0) LIMIT {MATCHES_RANKED}"),
                    {"q": match},
                )
                order = [int(r.rid) for r in ranked]
                allowed = set((await conn.execute(
                    select(D.c.id).where(D.c.workspace_id == workspace, scope, D.c.id.in_(order))
                )).scalars()) if order else set()
                ids = [i for i in order if i in allowed][:limit]
            return [d for i in ids if (d := await self._get(conn, workspace, i)) is not None]

    async def _index(self, conn: AsyncConnection, decision_id: int, draft: DecisionDraft) -> None:
        body = " ".join([draft.question, *draft.options, draft.outcome, *draft.reasons])
        row = {"id": decision_id, "title": " ".join(index_terms(draft.title)), "body": " ".join(index_terms(body))}
        if self.postgres:
            await conn.execute(
                text("UPDATE decision SET search = setweight(to_tsvector('simple', :title), 'A')"
                     " || setweight(to_tsvector('simple', :body), 'B') WHERE id = :id"),
                row,
            )
            return
        await conn.execute(text("DELETE FROM decision_fts WHERE rowid = :id"), {"id": decision_id})
        await conn.execute(text("INSERT INTO decision_fts(rowid, title, body) VALUES (:id, :title, :body)"), row)

    async def _vote_origin(self, conn: AsyncConnection, workspace: str, decision_id: int, origin: str) -> bool:
        found = await conn.execute(
            select(V.c.id).where(V.c.workspace_id == workspace, V.c.decision_id == decision_id, V.c.origin == origin)
        )
        return found.first() is not None

    async def _by_origin(self, conn: AsyncConnection, workspace: str, origin: str) -> DecisionRecord | None:
        row = (await conn.execute(
            select(D.c.id).where(D.c.workspace_id == workspace, D.c.origin == origin)
        )).first()
        return await self._get(conn, workspace, row.id) if row is not None else None

    async def _get(self, conn: AsyncConnection, workspace: str, decision_id: int) -> DecisionRecord | None:
        row = (await conn.execute(
            select(D).where(D.c.workspace_id == workspace, D.c.id == decision_id)
        )).first()
        if row is None:
            return None
        agreed = (await conn.execute(
            select(V.c.member_id).where(
                V.c.workspace_id == workspace, V.c.decision_id == decision_id, V.c.round == row.round,
                V.c.vote == "agree",
            ).order_by(V.c.at, V.c.id)
        )).scalars()
        return _record(row._mapping, tuple(agreed))


async def decided_in(
    conn: AsyncConnection, workspace: str, channels: Sequence[str], start: datetime, end: datetime
) -> tuple[DecidedItem, ...]:
    """Decisions that came to stand in [start, end) in these (public) channels, first agreed first: the digest's
    "decided this week, and why". A private channel's decision never reaches a digest."""
    rows = await conn.execute(
        select(D.c.id, D.c.title, D.c.reasons, D.c.outcome, D.c.permalink)
        .where(D.c.workspace_id == workspace, D.c.channel_id.in_(list(channels)), D.c.private.is_(False),
               D.c.agreed_at >= start, D.c.agreed_at < end)
        .order_by(D.c.agreed_at, D.c.id)
        .limit(DECISIONS_LISTED)
    )
    return tuple(
        DecidedItem(id=int(r.id), title=r.title, why=(list(r.reasons or []) or [r.outcome or ""])[0],
                    link=r.permalink or "")
        for r in rows
    )


def _visible(channel: str | None) -> ColumnElement[bool]:
    """Public decisions, and a private channel's own where it is asked in."""
    public: ColumnElement[bool] = D.c.private.is_(False)
    return or_(public, D.c.channel_id == channel) if channel is not None else public


def _scope(channel: str | None, channels: Collection[str] | None) -> ColumnElement[bool]:
    """Which decisions a reader may find: those of the given channels, else as `_visible` says."""
    return D.c.channel_id.in_(sorted(channels)) if channels is not None else _visible(channel)


def _record(row: Any, agreements: Sequence[str]) -> DecisionRecord:
    return DecisionRecord(
        id=int(row["id"]),
        workspace_id=row["workspace_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        title=row["title"],
        question=row["question"] or "",
        options=tuple(row["options"] or ()),
        outcome=row["outcome"] or "",
        reasons=tuple(row["reasons"] or ()),
        participants=tuple(row["participants"] or ()),
        permalink=row["permalink"] or "",
        language=row["language"] or "en",
        private=bool(row["private"]),
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        status=row["status"],
        round=int(row["round"]),
        consent_until=row["consent_until"],
        card_key=row["card_key"] or "",
        agreed_at=row["agreed_at"],
        objected_at=row["objected_at"],
        objected_by=row["objected_by"],
        supersedes=row["supersedes"],
        superseded_by=row["superseded_by"],
        agreements=tuple(agreements),
    )


def _without(row: dict[str, Any], member: str) -> dict[str, Any]:
    """The changes that take a forgotten member out of a decision (empty: they are not in it)."""
    values: dict[str, Any] = {}
    authors = dict(row.get("authors") or {})
    if member in (row.get("participants") or []):
        values["participants"] = [p for p in row["participants"] if p != member]
    if row.get("recorded_by") == member:
        values["recorded_by"] = None
    if row.get("objected_by") == member:
        values["objected_by"] = None
    for part in ("question", "outcome"):
        if authors.get(part) == member:
            values[part] = ""
            authors[part] = None
    if authors.get("title") == member:
        values["title"] = f"#{row['id']}"
        authors["title"] = None
    for part in ("options", "reasons"):
        items, by = list(row.get(part) or []), list(authors.get(part) or [])
        kept = [(item, who) for item, who in zip(items, by + [None] * (len(items) - len(by)), strict=False)
                if who != member]
        if len(kept) != len(items):
            values[part] = [item for item, _ in kept]
            authors[part] = [who for _, who in kept]
    if values:
        values["authors"] = authors
    return values
