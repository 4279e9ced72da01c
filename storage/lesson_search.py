"""Ranked full-text search over lessons: the same stems on SQLite (FTS5, bm25) and PostgreSQL (tsvector).

Search works on stemmed terms computed here (English and German Snowball stems of every content word), so a
query finds "Berechtigungen" with "Berechtigung" and "migrated" with "migration" on both backends.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    column,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from bot.core.lessons import LessonHit
from bot.core.text.tokens import ENGLISH_STOP_WORDS, GERMAN_STOP_WORDS, stem, words
from storage.lesson_model import T_LESSON, Lesson, _body, _lesson

logger = logging.getLogger(__name__)

TITLE_WEIGHT = 4.0  # a query word in the title counts this many times one in the body
OVERFETCH = 4  # FTS candidates per wanted hit, before the workspace and privacy filters
CANDIDATES = 2000  # at most this many of a frequent word's matches are ranked (the newest)
PG_CANDIDATES = 400  # ts_rank_cd reads each candidate's tsvector: several times bm25's cost per lesson
WIDEN = 16  # each further look back ranks this many times more candidates
RELATED_MIN_SCORE = 0.5  # below this share of shared terms a lesson is about something else
RELATED_MIN_WORDS = 2  # one shared word (a tool's name, "Excel") never shows that a lesson covers a question
_STOP = ENGLISH_STOP_WORDS | GERMAN_STOP_WORDS


def index_terms(text_: str) -> list[str]:
    """Search terms of a text: both the English and the German stem of each content word.

    Communities mix the two languages and a language guess on a short query is unreliable, so documents
    and queries both carry both stems; a shared stem is what makes a match.
    """
    found: dict[str, None] = {}
    for word in words(text_):
        if len(word) < 2 or word.isdigit() or word in _STOP:
            continue
        found[stem(word, "en")] = None
        found[stem(word, "de")] = None
    return list(found)


def query_groups(query: str) -> list[list[str]]:
    """One group of alternative stems (English, German) per distinct content word of a query."""
    groups: dict[tuple[str, ...], None] = {}
    for word in words(query):
        if len(word) >= 2 and not word.isdigit() and word not in _STOP:
            groups[tuple(dict.fromkeys((stem(word, "en"), stem(word, "de"))))] = None
    return [list(group) for group in groups]


def _ts_group(group: list[str]) -> str:
    """One query word as a PostgreSQL tsquery: any of its stems."""
    return "(" + " | ".join(f"'{t}'" for t in group) + ")"


def _fts_group(group: list[str]) -> str:
    """One query word as FTS5 syntax: any of its stems."""
    return "(" + " OR ".join(f'"{t}"' for t in group) + ")"


@dataclass(frozen=True, slots=True)
class _Candidates:
    """The lessons bm25 ranks for an FTS query: every match, or (given a floor) the newest matches plus
    every lesson holding one of the `rare` query words."""

    match: str
    floor: int | None = None
    rare: str = ""

    def sql(self, *, scored: bool) -> str:
        """A SELECT of `rid` (and `score`, the bm25 score, lower is better) over the candidates."""
        columns = f"rowid AS rid, bm25(lesson_fts, {TITLE_WEIGHT}, 1.0) AS score" if scored else "rowid AS rid"
        base = f"SELECT {columns} FROM lesson_fts WHERE lesson_fts MATCH :q"
        if self.floor is None:
            return base
        if not self.rare:
            return f"{base} AND rowid > :floor"  # FTS5 seeks to a rowid range: only the newest are scored
        # One pass with a filter: looking each rare rowid up would make FTS5 redo bm25's statistics per row.
        return f"{base} AND (rowid > :floor OR rowid IN (SELECT rowid FROM lesson_fts WHERE lesson_fts MATCH :rare))"

    def params(self) -> dict[str, Any]:
        """The bound values `sql` refers to."""
        return {"q": self.match, "floor": self.floor, "rare": self.rare}


@dataclass(frozen=True, slots=True)
class SearchHit:
    lesson: Lesson
    score: float  # larger is better


class LessonSearch:
    """Search and the search index, on Steward's async engine; `LessonStore` adds the writing side."""

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db
        self.postgres = db.dialect.name == "postgresql"
        self.candidates = PG_CANDIDATES if self.postgres else CANDIDATES

    async def search(
        self, workspace_id: str, query: str, limit: int = 5, *, channel_id: str | None = None
    ) -> list[SearchHit]:
        """The best matches, best first; private lessons only show up in their own channel.

        Lessons holding every query word come first; only when they are too few do lessons holding some of
        them fill the list. Besides ranking better, this keeps the matched set (and the latency) small.

        On SQLite, bm25 costs about half a microsecond per matching lesson, so a frequent word (in thousands of
        lessons) would dominate latency. When a query matches more than `candidates` lessons, only the newest
        `candidates` matches are ranked, plus every lesson holding a query word that is itself rare; bm25's
        word weights still come from all lessons, so scores stay comparable. If the filters leave fewer than
        `limit`, the look-back widens until it covers every match. Trade-off: for an unspecific query an
        older lesson that matches no rare word can lose its place to a slightly weaker newer one (on 100,000
        lessons: about 3 in 4 queries return the same scores, the rest at most 7 % lower). PostgreSQL is
        bounded the same way (`_rank_postgres`).
        """
        groups = query_groups(query)
        if not groups or limit <= 0:
            return []
        visible: ColumnElement[bool] = T_LESSON.c.private.is_(False)
        if channel_id is not None:
            visible = or_(visible, T_LESSON.c.channel_id == channel_id)
        hits = await self._search(workspace_id, groups, "all", limit, visible)
        if len(hits) < limit and len(groups) > 1:
            seen = {hit.lesson.id for hit in hits}
            more = await self._search(workspace_id, groups, "any", limit + len(hits), visible)
            hits += [hit for hit in more if hit.lesson.id not in seen][: limit - len(hits)]
        return hits

    async def _search(
        self, workspace_id: str, groups: list[list[str]], mode: str, limit: int, visible: ColumnElement[bool]
    ) -> list[SearchHit]:
        async with self.db.connect() as conn:
            if self.postgres:
                return await self._rank_postgres(conn, workspace_id, groups, mode, limit, visible)
            joiner = " AND " if mode == "all" else " OR "
            match = joiner.join(_fts_group(group) for group in groups)
            size = self.candidates
            while True:
                floor = await self._floor(conn, match, size)
                rare = await self._rare(conn, groups, size) if floor is not None and len(groups) > 1 else ""
                found = await self._rank(conn, workspace_id, visible, limit, _Candidates(match, floor, rare))
                if len(found) == limit or floor is None:
                    return found
                size *= WIDEN  # the workspace and privacy filters left too few: look further back

    async def _rank_postgres(
        self, conn: AsyncConnection, workspace_id: str, groups: list[list[str]], mode: str, limit: int,
        visible: ColumnElement[bool],
    ) -> list[SearchHit]:
        """Rank the newest `candidates` visible matches, plus every match of a rare query word, by ts_rank_cd.

        The same bound as on SQLite: ts_rank_cd reads each candidate's tsvector, so a word in tens of thousands
        of lessons would otherwise make one query cost a scan of them all. The filters apply before the bound,
        so no look-back needs widening.
        """
        # A word's frequency decides the plan (walk the newest ids, or look the word up in the GIN index); a
        # generic plan, which PostgreSQL may settle on for a repeated prepared statement, cannot see it.
        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        joiner = " & " if mode == "all" else " | "
        tsquery = joiner.join(_ts_group(group) for group in groups)
        matches = select(T_LESSON.c.id).where(
            T_LESSON.c.workspace_id == workspace_id, visible, text("lesson.search @@ to_tsquery('simple', :q)")
        )
        candidates = matches.order_by(T_LESSON.c.id.desc()).limit(max(self.candidates, limit))
        params: dict[str, Any] = {"q": tsquery}
        if mode == "any":
            rare = [group for group in groups if await self._rare_postgres(conn, workspace_id, group)]
            if rare:
                params["rare"] = " | ".join(_ts_group(group) for group in rare)
                rare_matches = select(T_LESSON.c.id).where(
                    T_LESSON.c.workspace_id == workspace_id, visible,
                    text("lesson.search @@ to_tsquery('simple', :rare)"),
                )
                candidates = union(candidates, rare_matches)  # type: ignore[assignment]
        chosen = candidates.subquery("c")
        rows = await conn.execute(
            select(T_LESSON, text("ts_rank_cd(lesson.search, to_tsquery('simple', :q)) AS score"))
            .join(chosen, chosen.c.id == T_LESSON.c.id)
            .order_by(text("score DESC"), T_LESSON.c.id)
            .limit(limit),
            params,
        )
        return [SearchHit(_lesson(r), float(r._mapping["score"])) for r in rows]

    async def _rare_postgres(self, conn: AsyncConnection, workspace_id: str, group: list[str]) -> bool:
        """Whether at most `candidates` lessons of the workspace hold this query word (counting stops there)."""
        probe = text(
            "SELECT count(*) FROM (SELECT 1 FROM lesson WHERE workspace_id = :ws"
            " AND search @@ to_tsquery('simple', :g) LIMIT :n) AS m"
        )
        found = await conn.execute(probe, {"ws": workspace_id, "g": _ts_group(group), "n": self.candidates + 1})
        return int(found.scalar_one()) <= self.candidates

    async def _rank(
        self, conn: AsyncConnection, workspace_id: str, visible: ColumnElement[bool], limit: int,
        candidates: _Candidates,
    ) -> list[SearchHit]:
        """Rank the candidates by bm25 and keep the best `limit` the workspace may see.

        Ranking happens inside FTS5 first (its ORDER BY score LIMIT needs no join), over-fetching for the
        filters; only when the filters leave too few does the exact (slower) joined query run.
        """
        params = candidates.params()
        for fetch in (limit * OVERFETCH, None):
            ranked = text(
                f"SELECT rid, score FROM ({candidates.sql(scored=True)}) ORDER BY score"
                + (f" LIMIT {fetch}" if fetch else "")
            ).columns(column("rid"), column("score")).subquery("f")
            found = (await conn.execute(
                select(T_LESSON, ranked.c.score)
                .join(ranked, ranked.c.rid == T_LESSON.c.id)
                .where(T_LESSON.c.workspace_id == workspace_id, visible)
                .order_by(ranked.c.score, T_LESSON.c.id)
                .limit(limit),
                params,
            )).all()
            if fetch is None or len(found) == limit or not await self._more(conn, candidates, fetch):
                break
        return [SearchHit(_lesson(r), -float(r._mapping["score"])) for r in found]

    async def _more(self, conn: AsyncConnection, candidates: _Candidates, than: int) -> bool:
        """Whether there are more candidates than were fetched (so filtering may have dropped good ones)."""
        probe = text(f"SELECT count(*) FROM (SELECT rid FROM ({candidates.sql(scored=False)}) LIMIT {than + 1})")
        return int((await conn.execute(probe, candidates.params())).scalar_one()) > than

    async def _floor(self, conn: AsyncConnection, match: str, size: int) -> int | None:
        """The rowid below the newest `size` matches, or None when there are no more matches than that.

        FTS5 walks a posting list backwards by rowid without scoring, so this costs little even for a word
        that half the lessons contain.
        """
        probe = text(
            "SELECT rowid FROM lesson_fts WHERE lesson_fts MATCH :q ORDER BY rowid DESC LIMIT 1 OFFSET :n"
        )
        found = (await conn.execute(probe, {"q": match, "n": size})).scalar()
        return None if found is None else int(found)

    async def _rare(self, conn: AsyncConnection, groups: list[list[str]], size: int) -> str:
        """An FTS query for the query words held by at most `size` lessons ("" when all are frequent)."""
        probe = text(f"SELECT count(*) FROM (SELECT 1 FROM lesson_fts WHERE lesson_fts MATCH :q LIMIT {size + 1})")
        rare = [
            _fts_group(group) for group in groups
            if int((await conn.execute(probe, {"q": _fts_group(group)})).scalar_one()) <= size
        ]
        return " OR ".join(rare)

    async def related(self, workspace: str, text: str, *, limit: int = 3) -> Sequence[LessonHit]:
        """Lessons about the same thing as `text`; the score is the share of its terms a lesson contains.

        Only lessons everyone may see (no private channel's), and only those sharing at least
        `RELATED_MIN_WORDS` of the text's content words."""
        wanted = set(index_terms(text))
        if not wanted:
            return []
        groups = query_groups(text)
        hits = await self.search(workspace, text, limit)
        found = []
        for hit in hits:
            lesson = hit.lesson
            have = set(index_terms(f"{lesson.title} {_body(lesson)}"))
            if sum(1 for group in groups if have.intersection(group)) < RELATED_MIN_WORDS:
                continue
            found.append(LessonHit(id=str(lesson.id), title=lesson.title, link=lesson.permalink,
                                   score=round(len(wanted & have) / len(wanted), 3)))
        return sorted((h for h in found if h.score >= RELATED_MIN_SCORE), key=lambda h: -h.score)

    async def _index(self, conn: AsyncConnection, lessons: Sequence[Lesson], *, fresh: bool = False) -> None:
        """Write the search terms of the lessons (replacing earlier ones unless they are new)."""
        rows = [
            {"id": x.id, "title": " ".join(index_terms(x.title)), "body": " ".join(index_terms(_body(x)))}
            for x in lessons
        ]
        if not rows:
            return
        if self.postgres:
            await conn.execute(
                text(
                    "UPDATE lesson SET search = setweight(to_tsvector('simple', :title), 'A')"
                    " || setweight(to_tsvector('simple', :body), 'B') WHERE id = :id"
                ),
                rows,
            )
            return
        if not fresh:
            await conn.execute(text("DELETE FROM lesson_fts WHERE rowid = :id"), [{"id": r["id"]} for r in rows])
        await conn.execute(text("INSERT INTO lesson_fts(rowid, title, body) VALUES (:id, :title, :body)"), rows)
