"""What a rule changes in the working set, as data.

A rule returns changes beside its actions. The engine applies them to the working set right after the rule
(so the rules after it see them) and writes what they touched together with the outbox, in one transaction.
No rule changes the working set itself: a rule is a function of the event and the view, and a rule's test
asserts on what it returned. Each change says here, in `apply`, what it does to the working set.
"""

from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.state import ChannelState, CommunityState, MemberState, QuestionState, WorkspaceState

logger = logging.getLogger(__name__)

NUDGES_KEPT = timedelta(days=7)  # the span nudge budgets count; older send times are dropped from memory

Kind = Literal["workspace", "channel", "member", "question"]
_CLASSES: dict[str, type] = {
    "workspace": WorkspaceState,
    "channel": ChannelState,
    "member": MemberState,
    "question": QuestionState,
}


class Change(ABC):
    """One change to the working set; each kind says in `apply` what it does."""

    __slots__ = ()

    @abstractmethod
    def apply(self, state: CommunityState) -> None: ...


@functools.cache
def _field_names(kind: str) -> frozenset[str]:
    return frozenset(f.name for f in fields(_CLASSES[kind]))


@dataclass(frozen=True, slots=True)
class Set(Change):
    """New values for fields of a workspace, channel, member or question. A question's status only moves
    forward (`QuestionState.advance`): a step back is refused, and the other values still apply."""

    kind: Kind
    workspace: str
    id: str
    values: tuple[tuple[str, Any], ...]

    def __post_init__(self) -> None:
        known = _field_names(self.kind)
        if not all(name in known for name, _ in self.values):
            unknown = sorted(name for name, _ in self.values if name not in known)
            raise ValueError(f"{self.kind} has no field {', '.join(unknown)}")

    @classmethod
    def question(cls, question: QuestionState, **values: Any) -> Set:
        return cls("question", question.workspace_id, question.id, tuple(values.items()))

    @classmethod
    def member(cls, workspace: str, member: str, **values: Any) -> Set:
        return cls("member", workspace, member, tuple(values.items()))

    @classmethod
    def channel(cls, workspace: str, channel: str, **values: Any) -> Set:
        return cls("channel", workspace, channel, tuple(values.items()))

    def apply(self, state: CommunityState) -> None:
        if self.kind == "question":
            question = state.question(self.workspace, self.id)
            if question is None:
                logger.debug("question %s is not in the working set; change dropped", self.id)
                return
            for name, value in self.values:
                if name == "status":
                    question.advance(value)
                else:
                    setattr(question, name, value)
            state.touch_question(question)
        elif self.kind == "member":
            member = state.member(self.workspace, self.id)
            for name, value in self.values:
                setattr(member, name, value)
            state.touch_member(member)
        elif self.kind == "channel":
            channel = state.channel(self.workspace, self.id)
            for name, value in self.values:
                setattr(channel, name, value)
            state.touch_channel(channel)
        else:
            workspace = state.workspace(self.workspace)
            for name, value in self.values:
                setattr(workspace, name, value)
            state.touch_workspace(workspace)


@dataclass(frozen=True, slots=True)
class NewQuestion(Change):
    """A question was asked (a redelivered one is known already and changes nothing)."""

    question: QuestionState

    def apply(self, state: CommunityState) -> None:
        if state.question(self.question.workspace_id, self.question.id) is None:
            state.add_question(self.question)


@dataclass(frozen=True, slots=True)
class AskedIn(Change):
    """A question was asked in this language in this channel: the tally the channel's language is read from."""

    workspace: str
    channel: str
    language: str

    def apply(self, state: CommunityState) -> None:
        channel = state.channel(self.workspace, self.channel)
        tally = dict(channel.settings.get("asked_in") or {})
        tally[self.language] = int(tally.get(self.language, 0)) + 1
        channel.settings = {**channel.settings, "asked_in": tally}
        state.touch_channel(channel, schedules=False)


@dataclass(frozen=True, slots=True)
class NudgeSent(Change):
    """A member was messaged unasked: it counts against budgets and cool-downs, and is stored."""

    workspace: str
    member: str
    kind: str
    question_id: str | None
    reason: str
    at: datetime
    sent: bool = True  # False while importing history: it counts against budgets as it would have, unstored

    def apply(self, state: CommunityState) -> None:
        member = state.member(self.workspace, self.member)
        member.nudges_sent = [sent for sent in member.nudges_sent if self.at - sent < NUDGES_KEPT]
        member.nudges_sent.append(self.at)
        member.last_nudged[self.kind] = self.at
        state.touch_member(member)
        if not self.sent:
            return  # never sent: no member is held to it once the import is over, no digest counts it
        state.new_nudges.append(
            {
                "workspace_id": self.workspace,
                "member_id": self.member,
                "question_id": self.question_id,
                "kind": self.kind,
                "reason": self.reason,
                "sent_at": self.at,
                "led_to_answer": False,
            }
        )


@dataclass(frozen=True, slots=True)
class NudgeAnswered(Change):
    """A nudged expert answered: the nudge led to an answer (the digest counts these)."""

    workspace: str
    member: str
    question_id: str

    def apply(self, state: CommunityState) -> None:
        state.answered_nudges.append({"ws": self.workspace, "mid": self.member, "qid": self.question_id})


@dataclass(frozen=True, slots=True)
class AnswerLearned(Change):
    """Someone answered a question (or its asker accepted an answer): expertise evidence, kept and stored."""

    workspace: str
    question_id: str
    responder: str
    message_id: str
    at: datetime
    recorded_at: datetime
    answer_text: str = ""
    first: bool = False
    accepted: bool = False

    def apply(self, state: CommunityState) -> None:
        question = state.question(self.workspace, self.question_id)
        if question is None:
            return
        state.record_answer(
            question, responder=self.responder, message_id=self.message_id, at=self.at,
            recorded_at=self.recorded_at, answer_text=self.answer_text, first=self.first, accepted=self.accepted,
        )


@dataclass(frozen=True, slots=True)
class ActivitySeen(Change):
    """A member spoke: presence for the expertise index, and the words of their question if it was one."""

    workspace: str
    member: str
    at: datetime
    question_text: str = ""
    channel: str | None = None  # a private channel's activity teaches only that channel's index

    def apply(self, state: CommunityState) -> None:
        state.expertise_index(self.workspace, self.channel).record_activity(self.member, self.at, self.question_text)


@dataclass(frozen=True, slots=True)
class ExpertTopics(Change):
    """A member's registered topics: `add` these, or `replace` them all with these (none: no longer an expert)."""

    workspace: str
    member: str
    topics: frozenset[str]
    op: Literal["add", "replace"] = "add"

    def apply(self, state: CommunityState) -> None:
        key = (self.workspace, self.member)
        current = state.expert_topics.setdefault(key, set())
        if self.op == "add":
            current |= self.topics
            state.topic_changes.append(("add", self.workspace, self.member, set(self.topics)))
        else:
            current.clear()
            current |= self.topics
            state.topic_changes.append(("remove", self.workspace, self.member, set(self.topics)))
        if not current:
            del state.expert_topics[key]
        state.expertise_index(self.workspace).set_registered_topics(self.member, current)


@dataclass(frozen=True, slots=True)
class MemberForgotten(Change):
    """A member asked to be forgotten: their expertise and name go, and the stores outside the batch hear of it."""

    workspace: str
    member: str

    def apply(self, state: CommunityState) -> None:
        for index in state.expertise_indexes(self.workspace):
            index.forget(self.member)
        state.tracker(self.workspace).register_name(self.member, self.member)
        state.forget_early_replies_of(self.workspace, self.member)
        state.forget_requests.append((self.workspace, self.member))


@dataclass(frozen=True, slots=True)
class TrackerForgets(Change):
    """A question was withdrawn or is not one: the conversation tracker stops linking answers to it."""

    workspace: str
    question_id: str

    def apply(self, state: CommunityState) -> None:
        state.tracker(self.workspace).forget_question(self.question_id)


@dataclass(frozen=True, slots=True)
class Scheduled(Change):
    """A rule's deadline: at `at`, `step` is due for `subject` (its timers are derived from stored timestamps)."""

    owner: str
    at: datetime
    step: str
    subject: tuple[str, ...]

    def apply(self, state: CommunityState) -> None:
        state.timers.schedule(self.owner, self.at, self.step, *self.subject)


@dataclass(frozen=True, slots=True)
class DeadlinesMet(Change):
    """A rule handled its deadlines up to `until` (`Timers.due`): they leave its timer."""

    owner: str
    until: datetime

    def apply(self, state: CommunityState) -> None:
        state.timers.pop_due(self.owner, self.until)


@dataclass(frozen=True, slots=True)
class DigestDue(Change):
    """The digest occurrence a channel waits for next (None: it has none, its digest is off)."""

    workspace: str
    channel: str
    at: datetime | None

    def apply(self, state: CommunityState) -> None:
        key = (self.workspace, self.channel)
        if self.at is None:
            state.digest_due.pop(key, None)
        else:
            state.digest_due[key] = self.at
        state.digest_version += 1


def apply_all(changes: Iterable[Change], state: CommunityState) -> None:
    for change in changes:
        change.apply(state)
