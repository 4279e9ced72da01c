"""The engine: record each event, ask every enabled rule what to do, persist state and outbox together.

A rule that raises is logged and skipped; the others still run (one broken plugin never takes the bot down).
State changes and outbound actions of an event are written in one transaction, so a crash between deciding
and sending loses nothing, and the idempotency key of each action means a re-decided action is not sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.actions import Action, PostEphemeral
from bot.clock import Clock
from bot.commands import CommandRouter
from bot.events import (
    CommandInvoked,
    Event,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    TimePassed,
)
from bot.rules import KnowledgeBase, NoKnowledge, Rule, RuleContext
from bot.settings import Settings
from bot.state import (
    ChannelState,
    CommunityState,
    MemberState,
    MessageInfo,
    QuestionState,
    WorkspaceState,
    columns,
)
from facilitation_rules.text.answers import ChatLine
from storage import repository as repo

logger = logging.getLogger(__name__)

CLOSED_QUESTIONS_KEPT = timedelta(days=7)
ANSWERED_QUESTIONS_KEPT = timedelta(days=30)
OUTBOX_KEYS_KEPT = 100_000

Observer = Callable[[Event, Sequence[Action], RuleContext], None]


class Engine:
    def __init__(
        self,
        db: AsyncEngine,
        settings: Settings,
        rules: Sequence[Rule],
        clock: Clock,
        *,
        knowledge: KnowledgeBase | None = None,
        backfill: bool = False,
        batch_size: int = 1,
    ) -> None:
        self.db = db
        self.settings = settings
        self.rules = list(rules)
        # Only rules that react to events or keep time are asked (command-only rules have neither).
        self._handlers = [r for r in self.rules if _overrides(r, "handle")]
        self._timekeepers = [r for r in self.rules if _overrides(r, "next_due")]
        self.clock = clock
        self.knowledge: KnowledgeBase = knowledge or NoKnowledge()
        self.backfill = backfill
        self.batch_size = batch_size
        self.state = CommunityState()
        self.router = CommandRouter(self.rules)
        self.observers: list[Observer] = []
        self.on_outbox: list[Callable[[], None]] = []
        self.on_forget: list[Callable[[str, str], Awaitable[object]]] = []  # stores outside the batch (lessons)
        self.rule_failures: dict[str, int] = {}
        self.extras: dict[str, Any] = {}  # hooks modules hang on the engine (e.g. the report's lessons)
        self._batch = repo.WriteBatch()
        self._pending_events = 0
        self._outbox_keys: set[tuple[str, str]] = set()
        self._store_text = settings.message_retention_days > 0
        self._last_forget: datetime | None = None
        self._lock = asyncio.Lock()

    # --- life cycle ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Rebuild the working set from the database."""
        snapshot = await repo.load_snapshot(self.db, self.clock.now())
        hydrate(self.state, snapshot)
        self._outbox_keys = snapshot.outbox_keys
        logger.info(
            "state loaded: %d workspaces, %d members, %d unresolved questions",
            len(self.state.workspaces),
            len(self.state.members),
            len(self.state.unresolved),
        )

    # --- events --------------------------------------------------------------------------------------------
    async def handle(self, event: Event) -> list[Action]:
        """Process one event and commit it; returns the private replies to hand straight back to the member.

        Events are handled one at a time (adapters, the scheduler and the console share one engine), so rules
        always see a consistent community and each event's writes form one transaction.
        """
        async with self._lock:
            replies = await self.process(event)
            await self.flush()
        return replies

    async def process(self, event: Event) -> list[Action]:
        """Process one event into the pending batch (flushed every `batch_size` events)."""
        self._record(event)
        ctx = self.context(event.at)
        actions: list[Action] = []
        for rule in self._handlers:
            try:
                actions.extend(await rule.handle(event, ctx))
            except Exception:
                self.rule_failures[rule.name] = self.rule_failures.get(rule.name, 0) + 1
                logger.exception("rule %s failed on %s; the other rules go on", rule.name, type(event).__name__)
        if isinstance(event, CommandInvoked):
            actions.extend(await self.router.dispatch(event, ctx))
        replies = self._enqueue(actions, event.at)
        for observer in self.observers:
            observer(event, actions, ctx)
        self._pending_events += 1
        if self._pending_events >= self.batch_size:
            await self.flush()
        return replies

    async def flush(self) -> None:
        """Write the pending state changes and outbox rows in one transaction."""
        dirty = self.state.take_dirty()
        batch, self._batch = self._batch, repo.WriteBatch()
        self._pending_events = 0
        batch.workspaces = [columns(w, _WS_COLS) for w in dirty.workspaces.values()]
        batch.channels = [columns(c, _CH_COLS) for c in dirty.channels.values()]
        batch.members = [columns(m, _MEMBER_COLS) for m in dirty.members.values()]
        batch.questions = [columns(q, _QUESTION_COLS) for q in dirty.questions.values()]
        self._take_rule_writes(batch)
        if not len(batch):
            return
        started = time.perf_counter()
        async with self.db.begin() as conn:
            await repo.write_batch(conn, batch)
        logger.debug("flushed %d rows in %.1f ms", len(batch), (time.perf_counter() - started) * 1000)
        if batch.outbox:
            for notify in self.on_outbox:
                notify()
        for row in batch.forgotten:
            for forget in self.on_forget:
                await forget(row["ws"], row["mid"])
        self._forget_old_state()

    def _forget_old_state(self) -> None:
        """Once a simulated or real day, old closed and answered questions leave the working set."""
        now = self.clock.now()
        if self._last_forget is not None and now - self._last_forget < timedelta(days=1):
            return
        self._last_forget = now
        forgotten = self.state.forget_old_questions(now - CLOSED_QUESTIONS_KEPT, now - ANSWERED_QUESTIONS_KEPT)
        if len(self._outbox_keys) > OUTBOX_KEYS_KEPT:
            self._outbox_keys.clear()  # the outbox's unique key still refuses a repeated decision
        if forgotten:
            logger.debug("forgot %d closed questions from memory", forgotten)

    def _take_rule_writes(self, batch: repo.WriteBatch) -> None:
        """Rows rules asked for through the state: nudges and the expert registry."""
        state = self.state
        batch.nudges, state.new_nudges = state.new_nudges, []
        batch.nudge_answers, state.answered_nudges = state.answered_nudges, []
        for op, ws, member, topics in state.topic_changes:
            if op == "remove":
                batch.expert_topics_removed.append({"ws": ws, "mid": member})
            batch.expert_topics_added.extend(
                {"workspace_id": ws, "member_id": member, "topic": topic} for topic in sorted(topics)
            )
        state.topic_changes = []
        batch.forgotten = [{"ws": ws, "mid": member} for ws, member in state.forget_requests]
        state.forget_requests = []

    # --- recording -----------------------------------------------------------------------------------------
    def _record(self, event: Event) -> None:
        """Store what happened (before any rule runs, so a failing rule never loses an event)."""
        if isinstance(event, TimePassed):
            return
        state, batch, ws = self.state, self._batch, event.workspace
        state.workspace(ws)
        if isinstance(event, MessagePosted):
            state.channel(ws, event.channel).last_activity_at = event.at
            self._seen(ws, event.user, event.at, event.user_name, bot=event.bot)
            batch.messages.append(
                {
                    "workspace_id": ws,
                    "id": event.message_id,
                    "channel_id": event.channel,
                    "user_id": event.user,
                    "thread_id": event.thread,
                    "reply_to": event.reply_to,
                    "is_bot": event.bot,
                    "text": event.text if self._store_text else None,
                    "posted_at": event.at,
                    "edited_at": None,
                    "deleted_at": None,
                }
            )
            state.remember_message(
                ws, event.message_id, MessageInfo(event.channel, event.user, event.thread, event.at, event.bot)
            )
        elif isinstance(event, MessageEdited):
            batch.message_edits.append(
                {"ws": ws, "mid": event.message_id, "text": event.text if self._store_text else None, "at": event.at}
            )
        elif isinstance(event, MessageDeleted):
            batch.message_deletes.append({"ws": ws, "mid": event.message_id, "at": event.at})
        elif isinstance(event, ReactionAdded):
            self._seen(ws, event.user, event.at)
            batch.reactions.append(
                {
                    "workspace_id": ws,
                    "message_id": event.message_id,
                    "user_id": event.user,
                    "emoji": event.emoji,
                    "reacted_at": event.at,
                    "removed_at": None,
                }
            )
        elif isinstance(event, ReactionRemoved):
            batch.reaction_removals.append({"ws": ws, "mid": event.message_id, "uid": event.user, "emo": event.emoji})
        elif isinstance(event, MemberJoined):
            state.channel(ws, event.channel)
            self._seen(ws, event.user, event.at, event.user_name)

    def _seen(self, ws: str, user: str, at: datetime, name: str | None = None, *, bot: bool = False) -> None:
        member = self.state.member(ws, user)
        changed = False
        if member.first_seen_at is None:
            member.first_seen_at, changed = at, True
        if name and member.name != name:
            member.name, changed = name, True
        if bot and not member.is_bot:
            member.is_bot, changed = True, True
        # last_seen_at is written at most hourly: it feeds "inactive contributors", not a live presence.
        if member.last_seen_at is None or at - member.last_seen_at >= timedelta(hours=1):
            member.last_seen_at, changed = at, True
        if changed:
            self.state.touch_member(member)

    def _enqueue(self, actions: Sequence[Action], at: datetime) -> list[Action]:
        """Outbound actions go to the outbox (once per key); private replies go straight back."""
        replies: list[Action] = []
        for action in actions:
            if isinstance(action, PostEphemeral):
                replies.append(action)
                continue
            if self.backfill:
                continue  # importing history: decisions shape the state, but nothing is posted for the past
            key = (action.workspace, action.key)
            if key in self._outbox_keys:
                logger.debug("action %s already decided; not sent again", action.key)
                continue
            self._outbox_keys.add(key)
            self._batch.outbox.append(
                {
                    "workspace_id": action.workspace,
                    "key": action.key,
                    "action": action.to_dict(),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": at,
                    "due_at": at,
                    "claimed_until": None,
                    "sent_at": None,
                    "platform_ref": None,
                    "last_error": None,
                }
            )
        return replies

    def context(self, now: datetime) -> RuleContext:
        return RuleContext(
            now=now, settings=self.settings, state=self.state, knowledge=self.knowledge, backfill=self.backfill
        )

    def next_due(self, now: datetime) -> datetime | None:
        """The earliest moment any rule has time-based work."""
        ctx = self.context(now)
        moments = [due for rule in self._timekeepers if (due := _next_due(rule, ctx)) is not None]
        return min(moments, default=None)

_WS_COLS = repo.column_names(repo.T_WORKSPACE)
_CH_COLS = repo.column_names(repo.T_CHANNEL)
_MEMBER_COLS = repo.column_names(repo.T_MEMBER)
_QUESTION_COLS = repo.column_names(repo.T_QUESTION)


def _overrides(rule: Rule, method: str) -> bool:
    """Whether the rule brings its own `method`, rather than RuleBase's do-nothing default (or none at all)."""
    from bot.rules import RuleBase

    own = getattr(type(rule), method, None)
    return own is not None and own is not getattr(RuleBase, method)


def _next_due(rule: Rule, ctx: RuleContext) -> datetime | None:
    method = getattr(rule, "next_due", None)
    if method is None:
        return None
    try:
        due: datetime | None = method(ctx)
    except Exception:
        logger.exception("rule %s failed to say when it is next due", rule.name)
        return None
    return due


def _build(cls: type, row: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in row.items() if k in names})


def hydrate(state: CommunityState, snapshot: repo.Snapshot) -> None:
    """Fill an empty state from stored rows (without marking anything dirty)."""
    for row in snapshot.workspaces:
        state.workspaces[row["id"]] = _build(WorkspaceState, row)
    for row in snapshot.channels:
        state.channels[(row["workspace_id"], row["id"])] = _build(ChannelState, row)
    for row in snapshot.members:
        state.members[(row["workspace_id"], row["id"])] = _build(MemberState, row)
    for row in snapshot.nudges:
        member = state.members.get((row["workspace_id"], row["member_id"]))
        if member is not None:
            member.nudges_sent.append(row["sent_at"])
            if row["kind"] == "stuck":
                member.last_stuck_nudge_at = max(filter(None, (member.last_stuck_nudge_at, row["sent_at"])))
    for row in snapshot.expert_topics:
        state.expert_topics.setdefault((row["workspace_id"], row["member_id"]), set()).add(row["topic"])
    for (ws, member_id), topics in state.expert_topics.items():
        state.expertise_index(ws).set_registered_topics(member_id, topics)
    for row in snapshot.questions:
        question: QuestionState = _build(QuestionState, row)
        question.text = snapshot.question_texts.get((question.workspace_id, question.id), "")
        state.questions[(question.workspace_id, question.id)] = question
        state.touch_question(question)
        if question.first_responder_id:
            state.expertise_index(question.workspace_id).record_answer(
                question_id=question.id,
                question_text=question.text,
                answer_text="",
                answerer=question.first_responder_id,
                at=question.first_response_at or question.asked_at,
                first=True,
            )
    for row in snapshot.recent_messages:
        ws = row["workspace_id"]
        info = MessageInfo(row["channel_id"], row["user_id"], row["thread_id"], row["posted_at"], row["is_bot"])
        state.remember_message(ws, row["id"], info)
        state.tracker(ws).observe(
            ChatLine(
                id=row["id"],
                channel=row["channel_id"],
                user=row["user_id"],
                text=row["text"] or "",
                at=row["posted_at"],
                thread=row["thread_id"],
                reply_to=row["reply_to"],
                bot=row["is_bot"],
            ),
            is_question=(ws, row["id"]) in state.questions,
        )
    state.take_dirty()
