"""Lesson errands: read a thread, distil it, store, search and curate lessons in the knowledge store."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.rules import Decision, KnowledgeBase, RuleContext
from facilitation_rules.lessons import (
    MAX_SEARCH_RESULTS,
    CaptureLesson,
    ConsiderLesson,
    CurateLesson,
    Distiller,
    DropLessonOf,
    LessonBook,
    LessonView,
    OfflineDistiller,
    SearchLessons,
    SuggestLesson,
    ThreadReader,
    captured,
    permalink,
    related_reply,
    review_reply,
    search_reply,
)

logger = logging.getLogger(__name__)


class LessonErrands:
    def __init__(
        self,
        book: LessonBook,
        reader: ThreadReader,
        distiller: Distiller | None = None,
        knowledge: KnowledgeBase | None = None,
    ) -> None:
        self.book, self.reader = book, reader
        self.distiller = distiller or OfflineDistiller()
        self.knowledge: KnowledgeBase = knowledge or book
        self._captured: dict[tuple[str, int], dict[str, str]] = {}

    def captured_report(self) -> list[dict[str, str]]:
        """Lessons captured while this process ran, for the replay report."""
        return list(self._captured.values())

    async def capture(self, errand: CaptureLesson, ctx: RuleContext) -> Decision:
        actions, outcome = await self._capture(errand.workspace, errand.channel, errand.root, errand.title, ctx)
        if errand.command is None:
            return actions
        lesson = await self.book.by_source(errand.workspace, errand.root)
        found = {"id": lesson.id, "title": lesson.title} if lesson else {"id": "", "title": ""}
        return [*actions, ctx.reply(errand.command, outcome, **found)]

    async def consider(self, errand: ConsiderLesson, ctx: RuleContext) -> Decision:
        if await self.book.by_source(errand.workspace, errand.root) is not None:
            return ()  # already a lesson; more reactions change nothing
        if not errand.by_facilitator:
            reaction = errand.reaction
            reactors = await self.reader.reactors(errand.workspace, reaction.message_id, reaction.emoji)
            if len(reactors | {reaction.user}) < ctx.settings.lesson_reaction_threshold:
                return ()
        actions, _ = await self._capture(errand.workspace, errand.channel, errand.root, None, ctx)
        return actions

    async def drop(self, errand: DropLessonOf, ctx: RuleContext) -> Decision:
        if await self.book.delete_by_source(errand.workspace, errand.message_id):
            self._captured = {k: v for k, v in self._captured.items() if v["source"] != errand.message_id}
        return ()

    async def suggest(self, errand: SuggestLesson, ctx: RuleContext) -> Decision:
        hits = await self.knowledge.related(errand.workspace, errand.text, limit=1)
        return related_reply(errand.question_id, errand.workspace, errand.channel, hits, ctx)

    async def search(self, errand: SearchLessons, ctx: RuleContext) -> Decision:
        event = errand.command
        hits = await self.book.search(event.workspace, errand.query, MAX_SEARCH_RESULTS, channel_id=event.channel)
        return [search_reply(event, errand.query, hits, ctx)]

    async def curate(self, errand: CurateLesson, ctx: RuleContext) -> Decision:
        event, ws, book, verb = errand.command, errand.workspace, self.book, errand.verb
        if verb == "review":
            stale = await book.list_for_review(ws, ctx.now - timedelta(days=ctx.settings.lesson_review_days))
            return [review_reply(event, stale, ctx)]
        lesson_id = errand.lesson_id
        assert lesson_id is not None
        result = await curate_lesson(
            book, ws, lesson_id, verb, words=errand.words, into_id=errand.into_id, by=event.user, now=ctx.now
        )
        if verb in ("delete", "merge"):
            self._captured.pop((ws, lesson_id), None)
        if not result:
            return [ctx.reply(event, "lesson.not_found", id=lesson_id)]
        title = result.title if not isinstance(result, bool) else ""
        if not isinstance(result, bool) and result.id is not None and (ws, result.id) in self._captured:
            self._captured[(ws, result.id)]["title"] = result.title
        return [ctx.reply(event, f"lesson.{verb}_done", id=lesson_id, title=title)]

    async def _capture(
        self, ws: str, channel: str, root: str, title: str | None, ctx: RuleContext
    ) -> tuple[Decision, str]:
        """Distil and store the thread; the actions to take and a catalog key saying what happened."""
        thread = await self.reader.thread(ws, root)
        if not any(m.text for m in thread):
            return [], "lesson.empty"
        draft = await self.distiller.distill(thread, title=title)
        if not draft.summary and not title:
            return [], "lesson.empty"
        lesson, created = await self.book.upsert(
            ws, root, draft, channel_id=channel, permalink=permalink(ws, channel, root), now=ctx.now
        )
        lesson_id = lesson.id or 0
        self._captured[(ws, lesson_id)] = {"id": str(lesson_id), "title": lesson.title, "source": root}
        return captured(lesson, created, ws, channel, root, ctx), "lesson.saved" if created else "lesson.updated"


async def curate_lesson(
    book: LessonBook,
    workspace: str,
    lesson_id: int,
    verb: str,
    *,
    words: Sequence[str] = (),
    into_id: int | None = None,
    by: str,
    now: datetime,
) -> LessonView | bool | None:
    """One facilitator operation on a lesson, for the slash command and the portal alike; falsy if not found."""
    if verb == "delete":
        return await book.delete(workspace, lesson_id)
    if verb == "verify":
        return await book.verify(workspace, lesson_id, by=by, now=now)
    if verb == "retag":
        return await book.retag(workspace, lesson_id, tag_list(words), now=now, by=by)
    if verb == "edit":
        return await book.edit(workspace, lesson_id, title=" ".join(words), now=now, by=by)
    if verb == "merge" and into_id is not None:
        return await book.merge(workspace, lesson_id, into_id, now=now, by=by)
    raise ValueError(f"unknown lesson operation {verb!r}")


def tag_list(words: Sequence[str]) -> list[str]:
    """`retag 3 vpn laptop` gives two tags; with commas, phrases: `retag 3 VPN client, home office`."""
    text = " ".join(words)
    return [t.strip() for t in text.split(",")] if "," in text else text.split()
