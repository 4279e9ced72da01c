"""Slack payloads -> Steward events. Pure functions, tested on recorded-style payloads.

Message ids are Slack's `ts` strings; a thread is named by its root's `ts`. Bot messages (Steward's own
included) and housekeeping subtypes (joins, topic changes) produce no event: rules learn from people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.events import (
    CommandInvoked,
    Event,
    InteractionClicked,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.core.markup import mentions

PLATFORM = "slack"
SAVE_LESSON = (
    "save_lesson"  # callback id of the "Save as lesson" message shortcut, also the action it becomes
)
ACTION_SUFFIX = "#"  # action_id "solved#2": a second button with the same action in one message

# Subtypes that are still a member speaking; every other subtype is housekeeping.
_SPOKEN_SUBTYPES = frozenset({None, "thread_broadcast", "file_share", "me_message"})

Payload = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who Steward is in this workspace (from auth.test), so its own messages and reactions are ignored."""

    team_id: str
    user_id: str = ""
    bot_id: str = ""

    @property
    def workspace(self) -> str:
        return workspace_id(self.team_id)


def workspace_id(team_id: str) -> str:
    return f"{PLATFORM}:{team_id}"


def ts_time(ts: str | float | None, default: datetime | None = None) -> datetime:
    """Slack's `1712.000100` timestamps as aware datetimes."""
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default or datetime.now(UTC)


def emoji_name(reaction: str) -> str:
    """`thumbsup::skin-tone-3` -> `thumbsup`: a skin tone is not a different reaction."""
    return reaction.split("::", 1)[0]


def team_of(body: Payload) -> str:
    """The workspace id a request belongs to, wherever this payload type keeps it."""
    team = body.get("team_id") or body.get("team")
    if isinstance(team, Mapping):
        team = team.get("id")
    if not team:
        user = body.get("user")
        team = user.get("team_id") if isinstance(user, Mapping) else None
    return str(team or "")


def translate_event(event: Payload, me: BotIdentity) -> Event | None:
    """One Events API `event` object -> a Steward event, or None for what rules need not see."""
    kind = event.get("type")
    if kind == "message":
        return _message(event, me)
    if kind in ("reaction_added", "reaction_removed"):
        return _reaction(event, me)
    if kind == "member_joined_channel":
        if event.get("user") == me.user_id:
            return None
        return MemberJoined(
            workspace=me.workspace,
            at=ts_time(event.get("event_ts")),
            channel=str(event.get("channel", "")),
            user=str(event.get("user", "")),
        )
    return None


def _is_bot(message: Payload, me: BotIdentity) -> bool:
    return bool(
        message.get("bot_id")
        or message.get("subtype") == "bot_message"
        or (me.user_id and message.get("user") == me.user_id)
    )


def _thread(message: Payload) -> str | None:
    thread_ts = message.get("thread_ts")
    return str(thread_ts) if thread_ts and thread_ts != message.get("ts") else None


def _message(event: Payload, me: BotIdentity) -> Event | None:
    subtype = event.get("subtype")
    channel = str(event.get("channel", ""))
    at = ts_time(event.get("event_ts") or event.get("ts"))
    if subtype == "message_changed":
        message = event.get("message") or {}
        previous = event.get("previous_message") or {}
        if _is_bot(message, me) or message.get("text") == previous.get("text"):
            return None  # unfurls and thread-reply bookkeeping also arrive as message_changed
        return MessageEdited(
            workspace=me.workspace,
            at=at,
            message_id=str(message.get("ts", "")),
            text=str(message.get("text", "")),
            channel=channel,
        )
    if subtype == "message_deleted":
        return MessageDeleted(
            workspace=me.workspace, at=at, message_id=str(event.get("deleted_ts", "")), channel=channel
        )
    if subtype not in _SPOKEN_SUBTYPES or _is_bot(event, me) or not event.get("user"):
        return None
    text = str(event.get("text", ""))
    return MessagePosted(
        workspace=me.workspace,
        at=ts_time(event.get("ts"), at),
        channel=channel,
        message_id=str(event.get("ts", "")),
        user=str(event["user"]),
        text=text,
        thread=_thread(event),
        mentions=mentions(text),
    )


def _reaction(event: Payload, me: BotIdentity) -> Event | None:
    item = event.get("item") or {}
    user = str(event.get("user", ""))
    if item.get("type") != "message" or not user or user == me.user_id:
        return None
    cls = ReactionAdded if event.get("type") == "reaction_added" else ReactionRemoved
    return cls(
        workspace=me.workspace,
        at=ts_time(event.get("event_ts")),
        message_id=str(item.get("ts", "")),
        user=user,
        emoji=emoji_name(str(event.get("reaction", ""))),
        channel=str(item.get("channel", "")) or None,
    )


def translate_command(body: Payload, *, at: datetime, is_admin: bool = False) -> CommandInvoked:
    """A `/steward ...` slash command; Slack sends no thread for commands, so `thread` stays None."""
    return CommandInvoked(
        workspace=workspace_id(team_of(body)),
        at=at,
        channel=str(body.get("channel_id", "")),
        user=str(body.get("user_id", "")),
        args=str(body.get("text", "")).strip(),
        is_admin=is_admin,
    )


def action_name(action_id: str) -> str:
    """The Steward action behind a Block Kit action_id (`solved#2` -> `solved`)."""
    return action_id.split(ACTION_SUFFIX, 1)[0]


def translate_block_actions(
    body: Payload, *, at: datetime, is_admin: bool = False
) -> list[InteractionClicked]:
    """Button clicks on Steward's messages; `value` is the question id the button was rendered with."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
    message_id = container.get("message_ts") or (body.get("message") or {}).get("ts")
    user = str((body.get("user") or {}).get("id", ""))
    workspace = workspace_id(team_of(body))
    return [
        InteractionClicked(
            workspace=workspace,
            at=at,
            channel=str(channel),
            user=user,
            action=action_name(str(action.get("action_id", ""))),
            value=str(action.get("value", "")),
            message_id=str(message_id) if message_id else None,
            is_admin=is_admin,
        )
        for action in body.get("actions", ())
        if action.get("type") == "button" and action.get("action_id")
    ]


def translate_message_shortcut(body: Payload, *, at: datetime, is_admin: bool = False) -> CommandInvoked:
    """The "Save as lesson" shortcut on a message is `/steward lesson` run in that message's thread."""
    message = body.get("message") or {}
    ts = str(message.get("thread_ts") or message.get("ts") or body.get("message_ts", ""))
    return CommandInvoked(
        workspace=workspace_id(team_of(body)),
        at=at,
        channel=str((body.get("channel") or {}).get("id", "")),
        user=str((body.get("user") or {}).get("id", "")),
        args="lesson",
        thread=ts or None,
        is_admin=is_admin,
    )
