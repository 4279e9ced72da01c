"""Lessons: good threads become short, searchable lessons, pinned where they happened.

A lesson is captured by `/steward lesson [title]` in a thread, by a facilitator's reaction with the lesson emoji,
or when enough members react with it. Capturing a thread again updates its lesson. Steward pins the thread's
first message and answers in the thread with the lesson card, crediting the people who worked it out.
Private channels never feed the knowledge store. Facilitators curate with `/steward lesson edit|retag|merge|
verify|delete|review`; anyone searches with `/steward lessons QUERY` (answered privately).

The store, the thread's messages and the distiller are I/O, so they come in through the ports below.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.actions import Action, Card, PinMessage, PostMessage, UpdateMessage
from bot.core.events import CommandInvoked, Event, MessageDeleted, MessageUnderstood, ReactionAdded
from bot.rules import Command, KnowledgeBase, RuleBase, RuleContext
from bot.state import QuestionState
from facilitation_rules.text.distill import LessonDraft, ThreadMessage, distill

logger = logging.getLogger(__name__)

CURATION = ("edit", "retag", "merge", "verify", "delete", "review")
MAX_SEARCH_RESULTS = 5


class LessonView(Protocol):
    """A stored lesson as the rule reads it."""

    @property
    def id(self) -> int | None: ...
    @property
    def source_message_id(self) -> str: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def steps(self) -> list[str]: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def permalink(self) -> str: ...
    @property
    def contributors(self) -> list[str]: ...


class SearchResult(Protocol):
    @property
    def lesson(self) -> LessonView: ...
    @property
    def score(self) -> float: ...


class LessonBook(KnowledgeBase, Protocol):
    """The knowledge store (storage.lessons.LessonStore)."""

    async def upsert(
        self, workspace_id: str, source_message_id: str, draft: LessonDraft, *, channel_id: str, permalink: str,
        now: datetime, private: bool = False,
    ) -> tuple[LessonView, bool]: ...
    async def get(self, workspace_id: str, lesson_id: int) -> LessonView | None: ...
    async def by_source(self, workspace_id: str, source_message_id: str) -> LessonView | None: ...
    async def edit(self, workspace_id: str, lesson_id: int, *, now: datetime, **changes: Any) -> LessonView | None: ...
    async def retag(
        self, workspace_id: str, lesson_id: int, tags: Sequence[str], *, now: datetime
    ) -> LessonView | None: ...
    async def verify(self, workspace_id: str, lesson_id: int, *, by: str, now: datetime) -> LessonView | None: ...
    async def merge(self, workspace_id: str, lesson_id: int, into_id: int, *, now: datetime) -> LessonView | None: ...
    async def delete(self, workspace_id: str, lesson_id: int) -> bool: ...
    async def delete_by_source(self, workspace_id: str, source_message_id: str) -> bool: ...
    async def list_for_review(self, workspace_id: str, older_than: datetime) -> Sequence[LessonView]: ...
    async def search(
        self, workspace_id: str, query: str, limit: int = 5, *, channel_id: str | None = None
    ) -> Sequence[SearchResult]: ...


class ThreadReader(Protocol):
    """The messages of a thread, root first (storage.lessons.MessageThreadReader)."""

    async def thread(self, workspace_id: str, root_id: str) -> list[ThreadMessage]: ...
    async def reactors(self, workspace_id: str, message_id: str, emoji: str) -> set[str]: ...


class Distiller(Protocol):
    async def distill(self, thread: Sequence[ThreadMessage], *, title: str | None = None) -> LessonDraft: ...


class OfflineDistiller:
    """The extractive method; no text leaves the process."""

    async def distill(self, thread: Sequence[ThreadMessage], *, title: str | None = None) -> LessonDraft:
        return distill(thread, title=title)


def permalink(workspace: str, channel: str, message_id: str) -> str:
    """A link to the source message that the platform opens (Slack and Discord); a readable reference elsewhere."""
    platform, _, team = workspace.partition(":")
    if platform == "slack":
        return f"https://slack.com/archives/{channel}/p{message_id.replace('.', '')}"
    if platform == "discord":
        return f"https://discord.com/channels/{team}/{channel}/{message_id}"
    return f"{workspace}#{channel}/{message_id}"


class LessonCapture(RuleBase):
    name = "lessons"
    reacts_to = (MessageUnderstood, MessageDeleted, ReactionAdded)

    def __init__(self) -> None:
        self.book: LessonBook | None = None
        self.reader: ThreadReader | None = None
        self.distiller: Distiller = OfflineDistiller()
        self._captured: dict[tuple[str, int], dict[str, str]] = {}

    def attach(self, *, book: LessonBook, reader: ThreadReader, distiller: Distiller | None = None) -> None:
        """Connect the rule to the knowledge store; without it, lesson commands say the store is unavailable."""
        self.book, self.reader = book, reader
        if distiller is not None:
            self.distiller = distiller

    def captured_report(self) -> list[dict[str, str]]:
        """Lessons captured while this process ran, for the replay report."""
        return list(self._captured.values())

    def commands(self) -> Mapping[str, Command]:
        return {
            "lesson": Command("lesson", self.lesson_command, "lesson.help",
                              usage="[title] | edit|retag|merge|verify|delete ID … | review"),
            "lessons": Command("lessons", self.search_command, "lessons.help", usage="QUERY"),
        }

    # --- events --------------------------------------------------------------------------------------------
    async def handle(self, event: Event, ctx: RuleContext) -> Sequence[Action]:
        if self.book is None or self.reader is None:
            return ()
        if isinstance(event, ReactionAdded) and event.emoji == ctx.settings.lesson_emoji:
            return await self.on_reaction(event, ctx)
        if isinstance(event, MessageDeleted):
            if await self.book.delete_by_source(event.workspace, event.message_id):
                self._captured = {k: v for k, v in self._captured.items() if v["source"] != event.message_id}
            return ()
        if isinstance(event, MessageUnderstood) and ctx.settings.lesson_related_replies and not ctx.backfill:
            question = ctx.state.question(event.workspace, event.question_id) if event.question_id else None
            if question is not None and not ctx.channel(event.workspace, event.message.channel).private:
                return await self.related_reply(question, ctx)
        return ()

    async def on_reaction(self, event: ReactionAdded, ctx: RuleContext) -> Sequence[Action]:
        """A facilitator's lesson emoji captures at once; members' count when enough of them agree."""
        assert self.book is not None and self.reader is not None
        info = ctx.state.message(event.workspace, event.message_id)
        if info is None or info.bot:
            return ()
        root = info.thread or event.message_id
        if await self.book.by_source(event.workspace, root) is not None:
            return ()  # already a lesson; more reactions change nothing
        if not ctx.is_facilitator(event.workspace, event.user):
            reactors = await self.reader.reactors(event.workspace, event.message_id, event.emoji)
            if len(reactors | {event.user}) < ctx.settings.lesson_reaction_threshold:
                return ()
        actions, _ = await self.capture(event.workspace, info.channel, root, None, ctx)
        return actions

    async def related_reply(self, question: QuestionState, ctx: RuleContext) -> Sequence[Action]:
        """Point a new question to one lesson, only when it clearly covers the same thing."""
        hits = await ctx.knowledge.related(question.workspace_id, question.text, limit=1)
        if not hits or hits[0].score < ctx.settings.lesson_related_min_score:
            return ()
        hit = hits[0]
        return [PostMessage(
            key=f"lesson-related:{question.id}", workspace=question.workspace_id, channel=question.channel_id,
            thread=question.id, text=ctx.t(question.workspace_id, "lesson.related", title=hit.title, link=hit.link),
        )]

    # --- capture -------------------------------------------------------------------------------------------
    async def capture(
        self, ws: str, channel: str, root: str, title: str | None, ctx: RuleContext
    ) -> tuple[list[Action], str]:
        """Distil and store the thread; the actions to take and a catalog key saying what happened."""
        assert self.book is not None and self.reader is not None
        if ctx.channel(ws, channel).private:
            return [], "lesson.private_channel"
        thread = await self.reader.thread(ws, root)
        if not any(m.text for m in thread):
            return [], "lesson.empty"
        draft = await self.distiller.distill(thread, title=title)
        if not draft.summary and not title:
            return [], "lesson.empty"
        lesson, created = await self.book.upsert(ws, root, draft, channel_id=channel,
                                                 permalink=permalink(ws, channel, root), now=ctx.now)
        lesson_id = lesson.id or 0
        self._captured[(ws, lesson_id)] = {"id": str(lesson_id), "title": lesson.title, "source": root}
        card = lesson_card(lesson, ctx, ws)
        if created:
            text = ctx.t(ws, "lesson.captured", contributors=_mentions(lesson.contributors))
            return [
                PinMessage(key=f"lesson-pin:{root}", workspace=ws, channel=channel, message_id=root),
                PostMessage(key=f"lesson:{ws}:{lesson_id}", workspace=ws, channel=channel, thread=root, text=text,
                            card=card),
            ], "lesson.saved"
        text = ctx.t(ws, "lesson.captured", contributors=_mentions(lesson.contributors))
        revision = hashlib.sha256(repr((text, card)).encode()).hexdigest()[:16]  # the same update is one update
        return [
            UpdateMessage(key=f"lesson-update:{lesson_id}:{revision}", workspace=ws, channel=channel,
                          original_key=f"lesson:{ws}:{lesson_id}", text=text, card=card)
        ], "lesson.updated"

    # --- commands ------------------------------------------------------------------------------------------
    async def lesson_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> list[Action]:
        if self.book is None or self.reader is None:
            return [ctx.reply(event, "lesson.unavailable")]
        if args and args[0].lower() in CURATION:
            if not ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin):
                return [ctx.reply(event, "command.not_allowed", name=f"lesson {args[0].lower()}")]
            return await self.curate(event, args[0].lower(), args[1:], ctx)
        root = event.thread or _latest_question(ctx, event.workspace, event.channel)
        known = ctx.state.message(event.workspace, root) if root else None
        if known is not None and known.thread:
            root = known.thread  # run on a reply: the lesson is the whole thread
        if root is None:
            return [ctx.reply(event, "lesson.need_thread")]
        actions, outcome = await self.capture(event.workspace, event.channel, root, " ".join(args) or None, ctx)
        lesson = await self.book.by_source(event.workspace, root)
        found = {"id": lesson.id, "title": lesson.title} if lesson else {"id": "", "title": ""}
        return [*actions, ctx.reply(event, outcome, **found)]

    async def curate(self, event: CommandInvoked, verb: str, args: list[str], ctx: RuleContext) -> list[Action]:
        """Facilitators keep the store useful: fix, retag, merge, verify, delete, and review old lessons."""
        assert self.book is not None
        ws, book = event.workspace, self.book
        if verb == "review":
            older = ctx.now - timedelta(days=ctx.settings.lesson_review_days)
            stale = await book.list_for_review(ws, older)
            if not stale:
                return [ctx.reply(event, "lesson.review_none")]
            card = Card(title=ctx.t(ws, "lesson.review_title", for_member=event.user),
                        sections=tuple(f"#{x.id} {x.title} {x.permalink}".rstrip() for x in stale[:20]))
            return [ctx.reply(event, "lesson.review", card=card, count=len(stale))]
        ids = [int(a.lstrip("#")) for a in args[:2] if a.lstrip("#").isdigit()]
        if not ids:
            return [ctx.reply(event, "lesson.usage")]
        lesson_id, rest = ids[0], args[1:]
        result: LessonView | bool | None
        if verb == "delete":
            result = await book.delete(ws, lesson_id)
            self._captured.pop((ws, lesson_id), None)
        elif verb == "verify":
            result = await book.verify(ws, lesson_id, by=event.user, now=ctx.now)
        elif verb == "retag":
            result = await book.retag(ws, lesson_id, [t for a in rest for t in a.split(",")], now=ctx.now)
        elif verb == "edit":
            if not rest:
                return [ctx.reply(event, "lesson.usage")]
            result = await book.edit(ws, lesson_id, title=" ".join(rest), now=ctx.now)
        else:  # merge ID INTO
            if len(ids) < 2:
                return [ctx.reply(event, "lesson.usage")]
            result = await book.merge(ws, lesson_id, ids[1], now=ctx.now)
            self._captured.pop((ws, lesson_id), None)
        if not result:
            return [ctx.reply(event, "lesson.not_found", id=lesson_id)]
        title = result.title if not isinstance(result, bool) else ""
        if not isinstance(result, bool) and result.id is not None and (ws, result.id) in self._captured:
            self._captured[(ws, result.id)]["title"] = result.title
        return [ctx.reply(event, f"lesson.{verb}_done", id=lesson_id, title=title)]

    async def search_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> list[Action]:
        if self.book is None:
            return [ctx.reply(event, "lesson.unavailable")]
        query = " ".join(args).strip()
        if not query:
            return [ctx.reply(event, "lessons.usage")]
        hits = await self.book.search(event.workspace, query, MAX_SEARCH_RESULTS, channel_id=event.channel)
        if not hits:
            return [ctx.reply(event, "lessons.none", query=query)]
        card = Card(
            title=ctx.t(event.workspace, "lessons.title", for_member=event.user, query=query),
            sections=tuple(f"#{h.lesson.id} *{h.lesson.title}* {h.lesson.permalink}".rstrip() for h in hits),
        )
        return [ctx.reply(event, "lessons.found", card=card, count=len(hits))]


def lesson_card(lesson: LessonView, ctx: RuleContext, ws: str) -> Card:
    """The lesson as members see it in the thread."""
    sections = [lesson.summary]
    if lesson.steps:
        sections.append("\n".join(f"• {step}" for step in lesson.steps))
    fields: list[tuple[str, str]] = []
    if lesson.tags:
        fields.append((ctx.t(ws, "lesson.field_tags"), ", ".join(lesson.tags)))
    if lesson.contributors:
        fields.append((ctx.t(ws, "lesson.field_contributors"), _mentions(lesson.contributors)))
    fields.append((ctx.t(ws, "lesson.field_source"), lesson.permalink))
    return Card(title=f"💡 {lesson.title}", sections=tuple(s for s in sections if s), fields=tuple(fields),
                footer=ctx.t(ws, "lesson.card_footer", id=lesson.id))


def _mentions(members: Sequence[str]) -> str:
    return ", ".join(f"<@{m}>" for m in members)


def _latest_question(ctx: RuleContext, ws: str, channel: str) -> str | None:
    """Outside a thread, `/steward lesson` means the channel's most recent question."""
    latest: QuestionState | None = None
    for question in ctx.state.questions.values():
        if question.workspace_id == ws and question.channel_id == channel and (
            latest is None or question.asked_at > latest.asked_at
        ):
            latest = question
    return latest.id if latest else None
