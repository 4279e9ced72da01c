"""Platform-neutral events: what happened, in the past tense.

Adapters translate Slack, Discord, console and transcript input into these; rules only ever see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    workspace: str
    at: datetime


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


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEdited(Event):
    message_id: str
    text: str
    channel: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDeleted(Event):
    message_id: str
    channel: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionAdded(Event):
    message_id: str
    user: str
    emoji: str
    channel: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionRemoved(Event):
    message_id: str
    user: str
    emoji: str
    channel: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberJoined(Event):
    channel: str
    user: str
    user_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandInvoked(Event):
    """`/steward <args>`; `thread` is set when the command was run inside a thread."""

    channel: str
    user: str
    args: str
    thread: str | None = None
    is_admin: bool = False  # the platform says this member administers the workspace


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionClicked(Event):
    """A button on one of Steward's messages: `action` names it, `value` carries its subject (a question id)."""

    channel: str
    user: str
    action: str
    value: str
    message_id: str | None = None
    is_admin: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ForumTagChanged(Event):
    """A forum post's tags changed; `solved` says whether the configured "solved" tag is now set."""

    channel: str
    thread: str
    user: str
    solved: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TimePassed(Event):
    """The scheduler's tick: time-based rules decide from stored timestamps what is due at `at`."""
