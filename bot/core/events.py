"""Platform-neutral events: what happened, in the past tense.

Adapters translate Slack, Discord, console and transcript input into these; rules only ever see them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from bot.core.recognition import Credit


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    workspace: str
    at: datetime

    @property
    def key(self) -> str:
        """What makes this event itself: a redelivered event has the same key, a new one a different key.

        The engine stores the key of every event it processed (the `processed_event` table; a posted message's
        own row serves for it) and skips an event whose key it has seen, so a platform's redelivery, a retried
        request or a replayed line changes nothing.
        """
        return f"{type(self).__name__}:{self.at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePosted(Event):
    channel: str
    message_id: str
    user: str
    text: str
    thread: str | None = None
    reply_to: str | None = None
    bot: bool = False
    user_name: str | None = None
    mentions: tuple[str, ...] = ()
    # What the platform says of the author, when it says it (Slack's users.info): the engine keeps it on the member.
    user_timezone: str | None = None
    user_language: str | None = None
    # What the platform says of the channel, when it says it (Slack's channel_type, a Discord private thread): the
    # engine keeps it on the channel, so a private channel is private before its first message is decided on.
    channel_private: bool | None = None

    @property
    def key(self) -> str:
        return f"posted:{self.message_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited(Event):
    message_id: str
    text: str
    channel: str | None = None

    @property
    def key(self) -> str:
        return f"edited:{self.message_id}:{self.at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDeleted(Event):
    message_id: str
    channel: str | None = None

    @property
    def key(self) -> str:
        return f"deleted:{self.message_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionAdded(Event):
    message_id: str
    user: str
    emoji: str
    channel: str | None = None

    @property
    def key(self) -> str:
        return f"reacted:{self.message_id}:{self.user}:{self.emoji}:{self.at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionRemoved(Event):
    message_id: str
    user: str
    emoji: str
    channel: str | None = None

    @property
    def key(self) -> str:
        return f"unreacted:{self.message_id}:{self.user}:{self.emoji}:{self.at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    channel: str
    user: str
    user_name: str | None = None

    @property
    def key(self) -> str:
        return f"joined:{self.channel}:{self.user}:{self.at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInvoked(Event):
    """`/steward <args>`; `thread` is set when the command was run inside a thread."""

    channel: str
    user: str
    args: str
    thread: str | None = None
    is_admin: bool = False  # the platform says this member administers the workspace
    user_timezone: str | None = None  # as the platform says, when it says it
    user_language: str | None = None
    delivery_id: str | None = None  # the platform's id of this invocation (Slack trigger_id, Discord interaction id)

    @property
    def key(self) -> str:
        # `at` is when Steward received it, so a command delivered again (its acknowledgement lost to a crash)
        # would be a new command: the platform's own id of the invocation is what a redelivery keeps.
        if self.delivery_id:
            return f"command:{self.delivery_id}"
        return f"command:{self.channel}:{self.user}:{self.at.isoformat()}:{self.args}"


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionClicked(Event):
    """A button on one of Steward's messages: `action` names it, `value` carries its subject (a question id)."""

    channel: str
    user: str
    action: str
    value: str
    message_id: str | None = None
    is_admin: bool = False
    user_timezone: str | None = None  # as the platform says, when it says it
    user_language: str | None = None
    delivery_id: str | None = None  # the platform's id of this click (Slack trigger_id, Discord interaction id)

    @property
    def key(self) -> str:
        if self.delivery_id:  # as for commands: the same click delivered again keeps the platform's id
            return f"clicked:{self.delivery_id}:{self.action}:{self.value}"
        where = self.message_id or self.channel
        return f"clicked:{where}:{self.user}:{self.action}:{self.value}:{self.at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ForumTagChanged(Event):
    """A forum post's tags changed; `solved` says whether the configured "solved" tag is now set."""

    channel: str
    thread: str
    user: str
    solved: bool

    @property
    def key(self) -> str:
        return f"tagged:{self.thread}:{self.solved}:{self.at.isoformat()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimePassed(Event):
    """The scheduler's tick: time-based rules decide from stored timestamps what is due at `at`."""



# --- facts a rule decided while handling an event ------------------------------------------------------------
# The engine hands them to every rule right after the event that led to them, in the order they were decided.
# They are how one rule tells the others what it understood; they are never stored, handed over or delivered.


@dataclass(frozen=True, slots=True, kw_only=True)
class Decided(Event):
    @property
    def key(self) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class Answer:
    """Someone other than the asker responded to a question (perhaps with an earlier line this one revealed)."""

    question_id: str
    responder: str
    message_id: str  # the responding line
    at: datetime  # when the responding line was written
    how: str  # thread | reply | inferred | ...
    first: bool  # it is the question's first response


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageUnderstood(Decided):
    """What the question rule made of a posted message: a new question, an answer, both or neither."""

    message: MessagePosted
    question_id: str | None = None  # the message asks this (new) question
    asked_again: bool = False  # ... which repeats an earlier one of the asker's, still unanswered
    answer: Answer | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerAccepted(Decided):
    """The asker marked someone's reply as the answer (their resolve reaction on it)."""

    question_id: str
    answerer: str
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionResolved(Decided):
    question_id: str
    how: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpCredited(Decided):
    """Credits just kept for thanks: only the new ones (a thank-you said twice, or decided again, is one credit),
    so whoever tells the story of a community (the demo's narrator) names each credit once."""

    credits: tuple[Credit, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionsFlagged(Decided):
    """Questions that just got their "nobody answered yet" flag."""

    question_ids: tuple[str, ...]


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        MessagePosted,
        MessageEdited,
        MessageDeleted,
        ReactionAdded,
        ReactionRemoved,
        MemberJoined,
        CommandInvoked,
        InteractionClicked,
        ForumTagChanged,
        TimePassed,
    )
}


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready form of an event, for the inbox (an event handed to the process that owns its workspace)."""
    data: dict[str, Any] = {"type": type(event).__name__}
    for item in fields(event):
        value = getattr(event, item.name)
        data[item.name] = value.isoformat() if isinstance(value, datetime) else value
    return data


def event_from_dict(data: dict[str, Any]) -> Event:
    """The event `event_to_dict` described; raises ValueError for anything else."""
    values = dict(data)
    cls = EVENT_TYPES.get(str(values.pop("type", "")))
    if cls is None:
        raise ValueError(f"unknown event type {data.get('type')!r}")
    try:
        values["at"] = datetime.fromisoformat(values["at"])
        if "mentions" in values:
            values["mentions"] = tuple(values["mentions"])
        return cls(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed {cls.__name__}: {exc}") from exc
