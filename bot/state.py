"""The community as Steward currently knows it: an in-memory read model of the stored tables.

Rules read this state and return what should change (`bot.changes`); the engine applies the changes, which marks
the objects dirty, and writes the dirty objects together with the outbox in one transaction. Keeping the working
set in memory is what lets replay and import
reach thousands of messages per second; the database stays the source of truth and the state is rebuilt from it
at start.
"""

from __future__ import annotations

import functools
import heapq
import logging
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from bot.core.questions import CLOSED_STATUSES, OPEN_STATUSES, TRANSITIONS
from facilitation_rules.text.answers import ConversationTracker
from facilitation_rules.text.expertise import ExpertiseIndex

logger = logging.getLogger(__name__)

ACTIVITY_STORED_EVERY = timedelta(hours=1)
EARLY_REPLIES_KEPT = 5_000  # threads whose replies came before their first message, remembered at most

@dataclass(slots=True)
class WorkspaceState:
    id: str
    platform: str
    name: str = ""
    timezone: str = "UTC"
    language: str = "en"
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ChannelState:
    workspace_id: str
    id: str
    name: str = ""
    watched: bool = True
    private: bool = False
    kind: str = "text"
    settings: dict[str, Any] = field(default_factory=dict)
    last_activity_at: datetime | None = None  # the latest message (the digest's dormancy check)


@dataclass(slots=True)
class MemberState:
    workspace_id: str
    id: str
    name: str = ""
    timezone: str | None = None
    language: str | None = None
    is_bot: bool = False
    is_facilitator: bool = False
    muted_until: datetime | None = None
    quiet_start: int | None = None  # the member's own quiet hours, in their time zone (None: the community's)
    quiet_end: int | None = None
    chosen_timezone: str | None = None  # the member's own choice (`/steward settings timezone`), over the platform's
    dm_closed: bool = False
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    # Onboarding (facilitation_rules.onboarding): when a newcomer joined a facilitated channel, which one, when
    # the welcome and the one invitation went out, and their first post since; stored, so none is sent twice.
    joined_at: datetime | None = None
    joined_channel: str | None = None
    welcomed_at: datetime | None = None
    invited_at: datetime | None = None
    first_post_at: datetime | None = None
    # Not stored as columns: rebuilt from the nudge table at start.
    nudges_sent: list[datetime] = field(default_factory=list)
    last_nudged: dict[str, datetime] = field(default_factory=dict)  # kind -> the latest nudge of that kind


@dataclass(slots=True)
class QuestionState:
    workspace_id: str
    id: str
    channel_id: str
    asker_id: str
    asked_at: datetime
    language: str = "en"
    status: str = "asked"
    first_response_id: str | None = None
    first_responder_id: str | None = None
    first_response_at: datetime | None = None
    answered_how: str | None = None
    resolved_at: datetime | None = None
    resolved_how: str | None = None
    flagged_at: datetime | None = None
    escalated_at: datetime | None = None
    stale_at: datetime | None = None
    not_a_question_at: datetime | None = None
    not_a_question_by: str | None = None
    claimed_by: str | None = None
    suggested_experts: list[str] = field(default_factory=list)
    nudged_experts: list[str] = field(default_factory=list)
    confirm_asked_at: datetime | None = None
    unanswered_confidence: float | None = None
    checked_at: datetime | None = None
    # Not stored as columns: the text lives in the message table (subject to retention).
    text: str = ""
    responders: list[str] = field(default_factory=list)
    followup: bool = False  # asked inside a running conversation or re-posted: not flagged on its own

    def can_advance(self, status: str) -> bool:
        """Whether `status` is a step forward (or no step) from here."""
        return status == self.status or status in TRANSITIONS[self.status]

    def advance(self, status: str) -> bool:
        """Move to `status` if that is a step forward (or no step); a step backwards is refused and logged."""
        if status == self.status:
            return True
        if status not in TRANSITIONS[self.status]:
            logger.debug("question %s stays %s (refused: %s)", self.id, self.status, status)
            return False
        self.status = status
        return True

    @property
    def answered(self) -> bool:
        return self.first_response_id is not None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def awaiting_answer(self) -> bool:
        """Still nobody has responded and it has not been closed."""
        return self.status in OPEN_STATUSES and not self.answered


@dataclass(slots=True, frozen=True)
class MessageInfo:
    """What rules need to know about a recent message without a database round trip."""

    channel: str
    user: str
    thread: str | None
    at: datetime
    bot: bool = False


@dataclass(slots=True, frozen=True)
class EarlyReply:
    """A reply in a thread whose first message Steward had not seen yet (events out of order)."""

    message_id: str
    message: MessageInfo
    text: str = ""


def columns(obj: Any, table_columns: frozenset[str]) -> dict[str, Any]:
    """The stored columns of a state object, as a row."""
    names = _stored_fields(type(obj), table_columns)  # type: ignore[arg-type]
    return {name: getattr(obj, name) for name in names}


@functools.cache
def _stored_fields(cls: type, table_columns: frozenset[str]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name in table_columns)


class Dirty:
    """Objects changed since the last flush, keyed so that repeated changes become one write."""

    def __init__(self) -> None:
        self.workspaces: dict[str, WorkspaceState] = {}
        self.channels: dict[tuple[str, str], ChannelState] = {}
        self.members: dict[tuple[str, str], MemberState] = {}
        self.questions: dict[tuple[str, str], QuestionState] = {}

    def __bool__(self) -> bool:
        return bool(self.workspaces or self.channels or self.members or self.questions)


class Timers:
    """Per-rule deadlines (a heap each): rules read which fell due and say, as changes, what to keep or drop."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[datetime, str, tuple[str, ...]]]] = {}
        self.seeded = False  # the rules' deadlines were derived from the stored questions (the engine does it)

    def due(self, owner: str, now: datetime) -> list[tuple[datetime, str, tuple[str, ...]]]:
        """The deadlines at or before `now`, earliest first, without taking them (a walk down the heap)."""
        heap = self._heaps.get(owner, [])
        found: list[tuple[datetime, str, tuple[str, ...]]] = []
        frontier = [(heap[0], 0)] if heap and heap[0][0] <= now else []
        while frontier:
            entry, index = heapq.heappop(frontier)
            found.append(entry)
            for child in (2 * index + 1, 2 * index + 2):
                if child < len(heap) and heap[child][0] <= now:
                    heapq.heappush(frontier, (heap[child], child))
        return found

    def schedule(self, owner: str, at: datetime, kind: str, *subject: str) -> None:
        heapq.heappush(self._heaps.setdefault(owner, []), (at, kind, subject))

    def next(self, owner: str) -> datetime | None:
        heap = self._heaps.get(owner)
        return heap[0][0] if heap else None

    def pop_due(self, owner: str, now: datetime) -> list[tuple[datetime, str, tuple[str, ...]]]:
        heap = self._heaps.get(owner, [])
        due = []
        while heap and heap[0][0] <= now:
            due.append(heapq.heappop(heap))
        return due


class CommunityState:
    """Everything rules may read; the engine's mutators (through `bot.changes`) mark what must be written."""

    def __init__(self, *, recent_messages: int = 50_000) -> None:
        self.workspaces: dict[str, WorkspaceState] = {}
        self.channels: dict[tuple[str, str], ChannelState] = {}
        self.members: dict[tuple[str, str], MemberState] = {}
        self.questions: dict[tuple[str, str], QuestionState] = {}
        self.awaiting: dict[tuple[str, str], QuestionState] = {}  # nobody has responded yet
        self.unresolved: dict[tuple[str, str], QuestionState] = {}  # not resolved, stale or dismissed
        # (workspace, asker) -> question ids, in the order asked (a dict: the same order whatever the hash seed)
        self._unresolved_askers: dict[tuple[str, str], dict[str, None]] = {}
        self.messages: OrderedDict[tuple[str, str], MessageInfo] = OrderedDict()
        # (workspace, thread root) -> replies seen before the root itself: events can arrive out of order (a
        # platform's retry, an event handed over between processes), and the root's question is answered by them
        self._early_replies: OrderedDict[tuple[str, str], list[EarlyReply]] = OrderedDict()
        self.expert_topics: dict[tuple[str, str], set[str]] = {}
        self.trackers: dict[str, ConversationTracker] = {}
        self.tracker_kind: type[ConversationTracker] = ConversationTracker  # or the learned reply links'
        self.expertise: dict[str, ExpertiseIndex] = {}  # per workspace: what its public channels show
        self.private_expertise: dict[tuple[str, str], ExpertiseIndex] = {}  # per private channel, kept apart
        self.timers = Timers()
        self.digest_due: dict[tuple[str, str], datetime] = {}  # the digest occurrence each channel waits for
        self.digest_version = 0  # bumped when digest_due changes (the digest rule caches its earliest moment)
        self.layout_version = 0  # bumped when a channel or workspace appears or changes (schedules depend on them)
        self.new_nudges: list[dict[str, Any]] = []
        self.new_responses: list[dict[str, Any]] = []  # expertise evidence, rebuilt into the index after a restart
        self.answered_nudges: list[dict[str, Any]] = []  # nudges that led to an answer
        self.topic_changes: list[tuple[str, str, str, set[str]]] = []  # (op, workspace, member, topics)
        self.forget_requests: list[tuple[str, str]] = []  # (workspace, member) who asked to be forgotten
        self.dirty = Dirty()
        self._recent_limit = recent_messages

    # --- lookups -------------------------------------------------------------------------------------------
    def workspace(self, workspace_id: str) -> WorkspaceState:
        ws = self.workspaces.get(workspace_id)
        if ws is None:
            platform = workspace_id.split(":", 1)[0] if ":" in workspace_id else workspace_id
            ws = self.workspaces[workspace_id] = WorkspaceState(id=workspace_id, platform=platform)
            self.dirty.workspaces[workspace_id] = ws
        return ws

    def channel(self, workspace_id: str, channel_id: str) -> ChannelState:
        key = (workspace_id, channel_id)
        ch = self.channels.get(key)
        if ch is None:
            ch = self.channels[key] = ChannelState(workspace_id=workspace_id, id=channel_id, name=channel_id)
            self.dirty.channels[key] = ch
            self.layout_version += 1
        return ch

    def member(self, workspace_id: str, member_id: str) -> MemberState:
        key = (workspace_id, member_id)
        m = self.members.get(key)
        if m is None:
            m = self.members[key] = MemberState(workspace_id=workspace_id, id=member_id, name=member_id)
            self.dirty.members[key] = m
        return m

    def question(self, workspace_id: str, question_id: str) -> QuestionState | None:
        return self.questions.get((workspace_id, question_id))

    def replies_before_root(self, workspace_id: str, root_id: str) -> list[EarlyReply]:
        """The replies in a thread that were seen before its first message."""
        return self._early_replies.get((workspace_id, root_id), [])

    def message(self, workspace_id: str, message_id: str) -> MessageInfo | None:
        return self.messages.get((workspace_id, message_id))

    def tracker(self, workspace_id: str) -> ConversationTracker:
        tracker = self.trackers.get(workspace_id)
        if tracker is None:
            tracker = self.trackers[workspace_id] = self.tracker_kind()
        return tracker

    def expertise_index(self, workspace_id: str, channel_id: str | None = None) -> ExpertiseIndex:
        """The expertise a channel's questions are routed by: the workspace's, learned in its public channels;
        a private channel's own, learned only there (its words and its people never reach anyone else)."""
        if channel_id is not None:
            channel = self.channels.get((workspace_id, channel_id))
            if channel is not None and channel.private:
                kept = self.private_expertise.get((workspace_id, channel_id))
                if kept is None:
                    kept = self.private_expertise[(workspace_id, channel_id)] = ExpertiseIndex()
                return kept
        index = self.expertise.get(workspace_id)
        if index is None:
            index = self.expertise[workspace_id] = ExpertiseIndex()
        return index

    def expertise_indexes(self, workspace_id: str) -> list[ExpertiseIndex]:
        """Every expertise index of a workspace (to forget a member everywhere)."""
        private = [index for (ws, _), index in sorted(self.private_expertise.items()) if ws == workspace_id]
        return [self.expertise_index(workspace_id), *private]

    def has_unresolved_question(self, workspace_id: str, member_id: str) -> bool:
        return bool(self._unresolved_askers.get((workspace_id, member_id)))

    def unresolved_of(self, workspace_id: str, member_id: str) -> list[QuestionState]:
        """The member's own questions that are not closed yet (answered or not)."""
        ids = self._unresolved_askers.get((workspace_id, member_id), ())
        return [self.unresolved[(workspace_id, qid)] for qid in ids if (workspace_id, qid) in self.unresolved]

    def awaiting_answer(self) -> list[QuestionState]:
        return list(self.awaiting.values())

    # --- mutators ------------------------------------------------------------------------------------------
    def remember_message(self, workspace_id: str, message_id: str, info: MessageInfo, text: str = "") -> None:
        """A recent message; `text` is kept (in memory) only for a reply that came before its thread's root."""
        root = (workspace_id, info.thread) if info.thread and info.thread != message_id else None
        if root is not None and root not in self.messages:
            self._early_replies.setdefault(root, []).append(EarlyReply(message_id, info, text))
            if len(self._early_replies) > EARLY_REPLIES_KEPT:
                self._early_replies.popitem(last=False)
        self.messages[(workspace_id, message_id)] = info
        if len(self.messages) > self._recent_limit:
            self.messages.popitem(last=False)

    def forget_early_replies_of(self, workspace_id: str, member_id: str) -> None:
        """A member asked to be forgotten: their replies waiting for a thread's root go too."""
        for key, replies in list(self._early_replies.items()):
            if key[0] == workspace_id:
                kept = [reply for reply in replies if reply.message.user != member_id]
                if kept:
                    self._early_replies[key] = kept
                else:
                    del self._early_replies[key]

    def add_question(self, question: QuestionState) -> None:
        key = (question.workspace_id, question.id)
        self.questions[key] = question
        self.touch_question(question)

    def touch_question(self, question: QuestionState) -> None:
        """Mark a question changed and keep the awaiting/unresolved indexes true."""
        key = (question.workspace_id, question.id)
        self.dirty.questions[key] = question
        closed = question.status in CLOSED_STATUSES
        _index(self.unresolved, key, question, not closed)
        asker = (question.workspace_id, question.asker_id)
        if closed:
            self._unresolved_askers.get(asker, {}).pop(question.id, None)
        else:
            self._unresolved_askers.setdefault(asker, {})[question.id] = None
        _index(self.awaiting, key, question, not closed and not question.answered)

    def touch_member(self, member: MemberState) -> None:
        self.dirty.members[(member.workspace_id, member.id)] = member

    def mark_active(self, channel: ChannelState, at: datetime) -> None:
        """A message arrived: remember when. Stored at most hourly (the dormancy check counts weeks), and no
        schedule depends on it."""
        last = channel.last_activity_at
        if last is None or at > last:
            channel.last_activity_at = at
            if last is None or at - last >= ACTIVITY_STORED_EVERY:
                self.touch_channel(channel, schedules=False)

    def touch_channel(self, channel: ChannelState, *, schedules: bool = True) -> None:
        """Mark a channel changed; `schedules=False` when nothing it changed decides a schedule (a tally, the
        last activity), so the digest's schedules are not recomputed for it."""
        self.dirty.channels[(channel.workspace_id, channel.id)] = channel
        if schedules:
            self.layout_version += 1

    def touch_workspace(self, workspace: WorkspaceState) -> None:
        self.dirty.workspaces[workspace.id] = workspace
        self.layout_version += 1

    def record_answer(
        self,
        question: QuestionState,
        *,
        responder: str,
        message_id: str,
        at: datetime,
        recorded_at: datetime,
        answer_text: str = "",
        first: bool = False,
        accepted: bool = False,
    ) -> None:
        """Someone answered (or the asker accepted an answer): the expertise index learns it, and so does the store."""
        self.expertise_index(question.workspace_id, question.channel_id).record_answer(
            question_id=question.id,
            question_text=question.text,
            answer_text=answer_text,
            answerer=responder,
            at=at,
            first=first,
            accepted=accepted,
        )
        self.new_responses.append(
            {
                "workspace_id": question.workspace_id,
                "question_id": question.id,
                "message_id": message_id,
                "responder_id": responder,
                "at": at,
                "recorded_at": recorded_at,
                "first": first,
                "accepted": accepted,
            }
        )

    def forget_old_questions(self, closed_before: datetime, answered_before: datetime) -> int:
        """Drop from memory questions closed before `closed_before`, and answered ones asked before
        `answered_before` that nobody marked resolved (most are never marked). They stay in the database; the
        working set, and so memory, stays flat however long Steward runs.
        """
        old = []
        for key, q in self.questions.items():
            if key in self.dirty.questions:
                continue
            if key in self.unresolved:
                if q.answered and q.asked_at < answered_before:
                    old.append(key)
            elif (q.resolved_at or q.stale_at or q.asked_at) < closed_before:
                old.append(key)
        for key in old:
            q = self.questions.pop(key)
            self.unresolved.pop(key, None)
            self.awaiting.pop(key, None)
            self._unresolved_askers.get((q.workspace_id, q.asker_id), {}).pop(q.id, None)
        return len(old)

    def drop_workspace(self, workspace_id: str) -> None:
        """Forget everything about one workspace (its lease went to another process, or is about to be reloaded).

        Deadlines of every workspace are derived again from the questions that stay (the rules seed anew).
        """

        def keep(key: tuple[str, str]) -> bool:
            return key[0] != workspace_id

        self.workspaces.pop(workspace_id, None)
        for index in (self.channels, self.members, self.questions, self.awaiting, self.unresolved):
            for key in [k for k in index if not keep(k)]:
                del index[key]
        for key in [k for k in self._unresolved_askers if not keep(k)]:
            del self._unresolved_askers[key]
        for key in [k for k in self.expert_topics if not keep(k)]:
            del self.expert_topics[key]
        self.messages = OrderedDict((k, v) for k, v in self.messages.items() if keep(k))
        self._early_replies = OrderedDict((k, v) for k, v in self._early_replies.items() if keep(k))
        self.trackers.pop(workspace_id, None)
        self.expertise.pop(workspace_id, None)
        for key in [k for k in self.private_expertise if k[0] == workspace_id]:
            del self.private_expertise[key]
        self.timers = Timers()
        for key in [k for k in self.digest_due if not keep(k)]:
            del self.digest_due[key]
        self.digest_version += 1
        self.layout_version += 1
        for name in ("workspaces", "channels", "members", "questions"):
            dirty = getattr(self.dirty, name)
            for key in [k for k in dirty if (k if isinstance(k, str) else k[0]) == workspace_id]:
                del dirty[key]

    def take_dirty(self) -> Dirty:
        dirty, self.dirty = self.dirty, Dirty()
        return dirty


def _index(index: dict[tuple[str, str], QuestionState], key: tuple[str, str], q: QuestionState, keep: bool) -> None:
    if keep:
        index[key] = q
    else:
        index.pop(key, None)
