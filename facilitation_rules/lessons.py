"""Lessons: good threads become short, searchable lessons, pinned where they happened.

A lesson is captured by `/steward lesson [title]` in a thread, by a facilitator's reaction with the lesson emoji,
or when enough members react with it. Capturing a thread again updates its lesson. Steward pins the thread's
first message and answers in the thread with the lesson card, crediting the people who worked it out.
Private channels never feed the knowledge store. Facilitators curate with `/steward lesson edit|retag|merge|
verify|delete|review`; anyone searches with `/steward lessons QUERY` (answered privately).

The store, the thread's messages and the distiller are I/O: the rule decides, and leaves the reading, distilling
and storing to the shell as errands (bot.app.errands.lessons), through the ports below.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.actions import Action, Card, PinMessage, PostMessage, UpdateMessage
from bot.core.events import CommandInvoked, Event, MessageDeleted, MessageUnderstood, ReactionAdded
from bot.core.lessons import LessonDraft, ThreadMessage
from bot.core.markup import defuse
from bot.rules import (
    Command,
    CommandErrand,
    Decision,
    Errand,
    KnowledgeBase,
    LessonHit,
    RuleBase,
    RuleContext,
    command_failed,
)
from bot.state import QuestionState
from facilitation_rules.text.cues import asks_when_who_or_why
from facilitation_rules.text.distill import distill

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
    def solution(self) -> str: ...
    @property
    def steps(self) -> list[str]: ...
    @property
    def tips(self) -> list[str]: ...
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
        self,
        workspace_id: str,
        source_message_id: str,
        draft: LessonDraft,
        *,
        channel_id: str,
        permalink: str,
        now: datetime,
        private: bool = False,
    ) -> tuple[LessonView, bool]: ...
    async def get(self, workspace_id: str, lesson_id: int) -> LessonView | None: ...
    async def by_source(self, workspace_id: str, source_message_id: str) -> LessonView | None: ...
    async def edit(
        self, workspace_id: str, lesson_id: int, *, now: datetime, by: str | None = None, **fields: Any
    ) -> LessonView | None: ...
    async def retag(
        self, workspace_id: str, lesson_id: int, tags: Sequence[str], *, now: datetime, by: str | None = None
    ) -> LessonView | None: ...
    async def verify(self, workspace_id: str, lesson_id: int, *, by: str, now: datetime) -> LessonView | None: ...
    async def merge(
        self, workspace_id: str, lesson_id: int, into_id: int, *, now: datetime, by: str | None = None
    ) -> LessonView | None: ...
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
    """Decides when a thread becomes a lesson and who may curate; the shell reads, distils and stores."""

    name = "lessons"
    reacts_to = (MessageUnderstood, MessageDeleted, ReactionAdded)

    def __init__(self, *, enabled: bool = False) -> None:
        self.enabled = enabled  # False until the app wires the knowledge store in: lesson commands say so

    def commands(self) -> Mapping[str, Command]:
        return {
            "lesson": Command(
                "lesson",
                self.lesson_command,
                "lesson.help",
                usage="[title] | edit|retag|merge|verify|delete ID … | review",
            ),
            "lessons": Command("lessons", self.search_command, "lessons.help", usage="QUERY"),
        }

    # --- events --------------------------------------------------------------------------------------------
    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not self.enabled:
            return ()
        if isinstance(event, ReactionAdded) and event.emoji == ctx.settings.lesson_emoji:
            return self.on_reaction(event, ctx)
        if isinstance(event, MessageDeleted):
            return [DropLessonOf(workspace=event.workspace, message_id=event.message_id)]
        if isinstance(event, MessageUnderstood) and ctx.settings.lesson_related_replies and not ctx.backfill:
            question = ctx.state.question(event.workspace, event.question_id) if event.question_id else None
            if (
                question is not None
                and not ctx.channel(event.workspace, event.message.channel).private
                and not asks_when_who_or_why(question.text)  # a lesson says how, not when, who or why
            ):
                return [
                    SuggestLesson(
                        workspace=question.workspace_id,
                        question_id=question.id,
                        channel=question.channel_id,
                        text=question.text,
                    )
                ]
        return ()

    def on_reaction(self, event: ReactionAdded, ctx: RuleContext) -> Decision:
        """A facilitator's lesson emoji captures at once; members' count when enough of them agree."""
        info = ctx.state.message(event.workspace, event.message_id)
        if info is None or info.bot or ctx.channel(event.workspace, info.channel).private:
            return ()
        return [
            ConsiderLesson(
                workspace=event.workspace,
                channel=info.channel,
                root=info.thread or event.message_id,
                reaction=event,
                by_facilitator=ctx.is_facilitator(event.workspace, event.user),
            )
        ]

    # --- commands ------------------------------------------------------------------------------------------
    def lesson_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "lesson.unavailable")]
        if args and args[0].lower() in CURATION:
            verb = args[0].lower()
            if not ctx.is_facilitator(event.workspace, event.user, is_admin=event.is_admin):
                return [ctx.reply(event, "command.not_allowed", name=f"lesson {verb}")]
            return self.curate(event, verb, args[1:], ctx)
        root = event.thread or _latest_question(ctx, event.workspace, event.channel)
        known = ctx.state.message(event.workspace, root) if root else None
        if known is not None and known.thread:
            root = known.thread  # run on a reply: the lesson is the whole thread
        if root is None:
            return [ctx.reply(event, "lesson.need_thread")]
        if ctx.channel(event.workspace, event.channel).private:
            return [ctx.reply(event, "lesson.private_channel", id="", title="")]
        return [
            CaptureLesson(
                workspace=event.workspace, channel=event.channel, root=root, title=" ".join(args) or None, command=event
            )
        ]

    def curate(self, event: CommandInvoked, verb: str, args: list[str], ctx: RuleContext) -> Decision:
        """Facilitators keep the store useful: fix, retag, merge, verify, delete, and review old lessons."""
        if verb == "review":
            return [CurateLesson(workspace=event.workspace, command=event, verb=verb)]
        ids = [int(a.lstrip("#")) for a in args[:2] if a.lstrip("#").isdigit()]
        if not ids:
            return [ctx.reply(event, "lesson.usage")]
        rest = tuple(args[1:])
        if (verb == "edit" and not rest) or (verb == "merge" and len(ids) < 2):
            return [ctx.reply(event, "lesson.usage")]
        return [
            CurateLesson(
                workspace=event.workspace,
                command=event,
                verb=verb,
                lesson_id=ids[0],
                into_id=ids[1] if len(ids) > 1 else None,
                words=rest,
            )
        ]

    def search_command(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
        if not self.enabled:
            return [ctx.reply(event, "lesson.unavailable")]
        query = " ".join(args).strip()
        if not query:
            return [ctx.reply(event, "lessons.usage")]
        return [SearchLessons(workspace=event.workspace, command=event, query=query)]


# --- errands: what the shell does with the store ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureLesson(Errand):
    """Distil the thread and store it as a lesson (again: update it); pin it and answer with its card."""

    channel: str
    root: str
    title: str | None = None
    command: CommandInvoked | None = None  # who asked, to be told what happened

    def unserved(self, ctx: RuleContext) -> Decision:
        return [command_failed(self.command, ctx)] if self.command is not None else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsiderLesson(Errand):
    """Someone reacted with the lesson emoji: capture unless it is a lesson already or too few agree yet."""

    channel: str
    root: str
    reaction: ReactionAdded
    by_facilitator: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DropLessonOf(Errand):
    """A message was deleted: a lesson distilled from its thread goes too."""

    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SuggestLesson(Errand):
    """A new question: point it to one lesson, when one clearly covers the same thing."""

    question_id: str
    channel: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CurateLesson(CommandErrand):
    """`/steward lesson edit|retag|merge|verify|delete|review` by a facilitator."""

    verb: str
    lesson_id: int | None = None
    into_id: int | None = None
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchLessons(CommandErrand):
    """`/steward lessons QUERY`, answered privately."""

    query: str


def related_reply(question_id: str, ws: str, channel: str, hits: Sequence[LessonHit], ctx: RuleContext) -> Decision:
    """The pointer to a related lesson, only when the best match clearly covers the same thing: it holds at least
    `lesson_related_min_score` of the question's terms and shares two of its content words or more. The default
    0.6 is calibrated on the development part of benchmarks/thanks_and_pointers.py: no pointer there is wrong
    above 0.5, and 0.6 keeps a margin over that."""
    if not hits or hits[0].score < ctx.settings.lesson_related_min_score:
        return ()
    hit = hits[0]
    return [
        PostMessage(
            key=f"lesson-related:{question_id}",
            workspace=ws,
            channel=channel,
            thread=question_id,
            text=ctx.t(ws, "lesson.related", title=defuse(hit.title), link=hit.link),
        )
    ]


def captured(lesson: LessonView, created: bool, ws: str, channel: str, root: str, ctx: RuleContext) -> list[Action]:
    """What members see when a thread became a lesson: the pinned root and the card in the thread (or, captured
    again, the card updated in place)."""
    lesson_id = lesson.id or 0
    card = lesson_card(lesson, ctx, ws)
    text = ctx.t(ws, "lesson.captured", contributors=_mentions(lesson.contributors))
    if created:
        return [
            PinMessage(key=f"lesson-pin:{root}", workspace=ws, channel=channel, message_id=root),
            PostMessage(
                key=f"lesson:{ws}:{lesson_id}", workspace=ws, channel=channel, thread=root, text=text, card=card
            ),
        ]
    revision = hashlib.sha256(repr((text, card)).encode()).hexdigest()[:16]  # the same update is one update
    return [
        UpdateMessage(
            key=f"lesson-update:{lesson_id}:{revision}",
            workspace=ws,
            channel=channel,
            original_key=f"lesson:{ws}:{lesson_id}",
            text=text,
            card=card,
        )
    ]


def search_reply(event: CommandInvoked, query: str, hits: Sequence[SearchResult], ctx: RuleContext) -> Action:
    if not hits:
        return ctx.reply(event, "lessons.none", query=query)
    card = Card(
        title=ctx.t(event.workspace, "lessons.title", for_member=event.user, query=query),
        sections=tuple(f"#{h.lesson.id} *{defuse(h.lesson.title)}* {h.lesson.permalink}".rstrip() for h in hits),
    )
    return ctx.reply(event, "lessons.found", card=card, count=len(hits))


def review_reply(event: CommandInvoked, stale: Sequence[LessonView], ctx: RuleContext) -> Action:
    if not stale:
        return ctx.reply(event, "lesson.review_none")
    card = Card(
        title=ctx.t(event.workspace, "lesson.review_title", for_member=event.user),
        sections=tuple(f"#{x.id} {defuse(x.title)} {x.permalink}".rstrip() for x in stale[:20]),
    )
    return ctx.reply(event, "lesson.review", card=card, count=len(stale))


def lesson_card(lesson: LessonView, ctx: RuleContext, ws: str) -> Card:
    """The lesson as members see it in the thread: the problem first, then what worked, the steps in order and
    the tips, each under its heading so a reader finds what to do without reading the thread."""
    sections = [  # all of it is member text or a model's: it may quote, never mention or disguise a link
        defuse(lesson.summary),
        _section(ctx.t(ws, "lesson.heading_solution"), defuse(lesson.solution)),
        _section(ctx.t(ws, "lesson.heading_steps"), *(f"• {defuse(step)}" for step in lesson.steps)),
        _section(ctx.t(ws, "lesson.heading_tips"), *(f"• {defuse(tip)}" for tip in lesson.tips)),
    ]
    fields: list[tuple[str, str]] = []
    if lesson.tags:
        fields.append((ctx.t(ws, "lesson.field_tags"), defuse(", ".join(lesson.tags))))
    if lesson.contributors:
        fields.append((ctx.t(ws, "lesson.field_contributors"), _mentions(lesson.contributors)))
    fields.append((ctx.t(ws, "lesson.field_source"), lesson.permalink))
    return Card(
        title=f"💡 {defuse(lesson.title)}",
        sections=tuple(s for s in sections if s),
        fields=tuple(fields),
        footer=ctx.t(ws, "lesson.card_footer", id=lesson.id),
    )


def _section(heading: str, *lines: str) -> str:
    """A card section under a bold heading; empty when there is nothing to show."""
    body = [line for line in lines if line.strip()]
    return "\n".join([f"*{heading}*", *body]) if body else ""


def _mentions(members: Sequence[str]) -> str:
    return ", ".join(f"<@{m}>" for m in members)


def _latest_question(ctx: RuleContext, ws: str, channel: str) -> str | None:
    """Outside a thread, `/steward lesson` means the channel's most recent question."""
    latest: QuestionState | None = None
    for question in ctx.state.questions.values():
        if (
            question.workspace_id == ws
            and question.channel_id == channel
            and (latest is None or question.asked_at > latest.asked_at)
        ):
            latest = question
    return latest.id if latest else None
