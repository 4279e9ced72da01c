"""Slack payloads -> Steward events. Pure functions, tested on recorded-style payloads.

Message ids are Slack's `ts` strings; a thread is named by its root's `ts`. Bot messages (Steward's own
included) and housekeeping subtypes (joins, topic changes) produce no event: rules learn from people.

A payload that does not have the shape Slack documents (a field of the wrong type, a message without its
`ts`) is dropped with one warning naming what was wrong, never with a traceback: a bad payload must not stop
the events behind it. Commands and shortcuts are always answered, so there a wrong field is read as empty.
"""

from __future__ import annotations

import logging
import math
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
from facilitation_rules import decisions as decide_rule
from facilitation_rules import ideas as idea_rule

logger = logging.getLogger(__name__)

PLATFORM = "slack"
SAVE_LESSON = (
    "save_lesson"  # callback id of the "Save as lesson" message shortcut, also the action it becomes
)
RECORD_DECISION = "record_decision"  # callback id of the "Record decision" message shortcut
MAKE_IDEA = "make_idea"  # callback id of the "Make an idea" message shortcut
MESSAGE_SHORTCUTS = (SAVE_LESSON, RECORD_DECISION, MAKE_IDEA)
ACTION_SUFFIX = "#"  # action_id "solved#2": a second button with the same action in one message

# Subtypes that are still a member speaking; every other subtype is housekeeping.
_SPOKEN_SUBTYPES = frozenset({None, "thread_broadcast", "file_share", "me_message"})

Payload = Mapping[str, Any]


class Malformed(ValueError):
    """A payload that is not shaped as Slack documents it; the message says which field is wrong."""


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


def slack_moment(ts: Any) -> datetime | None:
    """Slack's `1712.000100` timestamps as aware datetimes; None for anything that is not one."""
    if isinstance(ts, bool) or not isinstance(ts, str | int | float):
        return None
    try:
        seconds = float(ts)
        return datetime.fromtimestamp(seconds, tz=UTC) if math.isfinite(seconds) else None
    except (ValueError, OverflowError, OSError):
        return None


def ts_time(ts: Any, default: datetime | None = None) -> datetime:
    """Slack's `1712.000100` timestamps as aware datetimes; `default` (else now) when there is none."""
    return slack_moment(ts) or default or datetime.now(UTC)


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
    return team if isinstance(team, str) else ""


def _kind(value: Any) -> str:
    """How a wrong value is named in a warning: its JSON type, never its content (which may be huge)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _text(payload: Payload, key: str, *, required: bool = False) -> str:
    """A string field; absent or null reads as "" unless it is required."""
    value = payload.get(key)
    if isinstance(value, str) and (value or not required):
        return value
    if value is None or value == "":
        if required:
            raise Malformed(f"no {key!r}")
        return ""
    raise Malformed(f"{key!r} is {_kind(value)}, not a string")


def _object(payload: Payload, key: str) -> Payload:
    """An object field; absent or null reads as an empty object."""
    value = payload.get(key)
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise Malformed(f"{key!r} is {_kind(value)}, not an object")


def _ts(payload: Payload, key: str) -> str:
    """A required Slack timestamp that names a message."""
    ts = _text(payload, key, required=True)
    if slack_moment(ts) is None:
        raise Malformed(f"{key!r} is not a Slack timestamp")
    return ts


def translate_event(event: Payload, me: BotIdentity) -> Event | None:
    """One Events API `event` object -> a Steward event, or None for what rules need not see."""
    if not isinstance(event, Mapping):
        logger.warning("Slack event dropped: the event is %s, not an object", _kind(event))
        return None
    kind = event.get("type")
    try:
        if kind == "message":
            return _message(event, me)
        if kind in ("reaction_added", "reaction_removed"):
            return _reaction(event, me)
        if kind == "member_joined_channel":
            return _joined(event, me)
    except Malformed as exc:
        logger.warning("Slack %s event dropped: %s", kind, exc)
    return None


def _joined(event: Payload, me: BotIdentity) -> MemberJoined | None:
    user = _text(event, "user", required=True)
    if user == me.user_id:
        return None
    return MemberJoined(
        workspace=me.workspace,
        at=ts_time(event.get("event_ts")),
        channel=_text(event, "channel", required=True),
        user=user,
    )


def _is_bot(message: Payload, me: BotIdentity) -> bool:
    return bool(
        message.get("bot_id")
        or message.get("subtype") == "bot_message"
        or (me.user_id and message.get("user") == me.user_id)
    )


def _thread(message: Payload, ts: str) -> str | None:
    thread_ts = _text(message, "thread_ts")
    if thread_ts and slack_moment(thread_ts) is None:
        raise Malformed("'thread_ts' is not a Slack timestamp")
    return thread_ts if thread_ts and thread_ts != ts else None


def _message(event: Payload, me: BotIdentity) -> Event | None:
    subtype = event.get("subtype")
    if subtype is not None and not isinstance(subtype, str):
        raise Malformed(f"'subtype' is {_kind(subtype)}, not a string")
    channel = _text(event, "channel", required=True)
    at = ts_time(event.get("event_ts"), slack_moment(event.get("ts")))
    if subtype == "message_changed":
        message = _object(event, "message")
        previous = _object(event, "previous_message")
        if _is_bot(message, me) or message.get("text") == previous.get("text"):
            return None  # unfurls and thread-reply bookkeeping also arrive as message_changed
        return MessageEdited(
            workspace=me.workspace,
            at=at,
            message_id=_ts(message, "ts"),
            text=_text(message, "text"),
            channel=channel,
        )
    if subtype == "message_deleted":
        return MessageDeleted(workspace=me.workspace, at=at, message_id=_ts(event, "deleted_ts"), channel=channel)
    if subtype not in _SPOKEN_SUBTYPES or _is_bot(event, me):
        return None
    user = _text(event, "user")
    if not user:
        return None  # integrations post without a user; rules learn from people
    ts = _ts(event, "ts")
    text = _text(event, "text")
    return MessagePosted(
        workspace=me.workspace,
        at=ts_time(ts, at),
        channel=channel,
        message_id=ts,
        user=user,
        text=text,
        thread=_thread(event, ts),
        mentions=mentions(text),
        channel_private=_private(event),
    )


def _private(event: Payload) -> bool | None:
    """Whether the message's channel is private, as Slack's `channel_type` says: "channel" is public; "group" (a
    private channel), "mpim" and "im" are not; absent or unknown: not said."""
    kind = event.get("channel_type")
    if kind == "channel":
        return False
    if kind in ("group", "mpim", "im"):
        return True
    return None


def _reaction(event: Payload, me: BotIdentity) -> Event | None:
    item = _object(event, "item")
    if item.get("type") != "message":
        return None  # reactions on files and file comments
    user = _text(event, "user", required=True)
    if user == me.user_id:
        return None
    cls = ReactionAdded if event.get("type") == "reaction_added" else ReactionRemoved
    return cls(
        workspace=me.workspace,
        at=ts_time(event.get("event_ts")),
        message_id=_ts(item, "ts"),
        user=user,
        emoji=emoji_name(_text(event, "reaction", required=True)),
        channel=_text(item, "channel") or None,
    )


def _lenient(body: Payload, key: str, what: str) -> str:
    """A string field of a request that must be answered whatever it holds: a wrong value reads as ""."""
    try:
        return _text(body, key)
    except Malformed as exc:
        logger.warning("Slack %s: %s; read as empty", what, exc)
        return ""


def _lenient_object(body: Payload, key: str, what: str) -> Payload:
    try:
        return _object(body, key)
    except Malformed as exc:
        logger.warning("Slack %s: %s; read as empty", what, exc)
        return {}


def translate_command(body: Payload, *, at: datetime, is_admin: bool = False) -> CommandInvoked:
    """A `/steward ...` slash command; Slack sends no thread for commands, so `thread` stays None."""
    return CommandInvoked(
        workspace=workspace_id(team_of(body)),
        at=at,
        channel=_lenient(body, "channel_id", "command"),
        user=_lenient(body, "user_id", "command"),
        args=_lenient(body, "text", "command").strip(),
        is_admin=is_admin,
        delivery_id=_lenient(body, "trigger_id", "command") or None,
    )


def action_name(action_id: str) -> str:
    """The Steward action behind a Block Kit action_id (`solved#2` -> `solved`)."""
    return action_id.split(ACTION_SUFFIX, 1)[0]


def translate_block_actions(
    body: Payload, *, at: datetime, is_admin: bool = False
) -> list[InteractionClicked]:
    """Button clicks on Steward's messages; `value` is the question id the button was rendered with."""
    try:
        container = _object(body, "container")
        channel = _text(_object(body, "channel"), "id") or _text(container, "channel_id")
        message_id = _text(container, "message_ts") or _text(_object(body, "message"), "ts")
        user = _text(_object(body, "user"), "id")
        actions = body.get("actions") or ()
        if not isinstance(actions, list | tuple):
            raise Malformed(f"'actions' is {_kind(actions)}, not a list")
    except Malformed as exc:
        logger.warning("Slack block_actions dropped: %s", exc)
        return []
    workspace = workspace_id(team_of(body))
    trigger = _lenient(body, "trigger_id", "block_actions")
    clicks = []
    for action in actions:
        try:
            if not isinstance(action, Mapping):
                raise Malformed(f"an action is {_kind(action)}, not an object")
            if action.get("type") != "button":
                continue  # Steward renders buttons only
            action_id = _text(action, "action_id", required=True)
            value = _text(action, "value")
        except Malformed as exc:
            logger.warning("Slack block_actions: an action dropped: %s", exc)
            continue
        clicks.append(
            InteractionClicked(
                workspace=workspace,
                at=at,
                channel=channel,
                user=user,
                action=action_name(action_id),
                value=value,
                message_id=message_id or None,
                is_admin=is_admin,
                delivery_id=trigger or None,
            )
        )
    return clicks


def translate_message_shortcut(body: Payload, *, at: datetime, is_admin: bool = False) -> CommandInvoked:
    """A message shortcut is a `/steward` command run in that message's thread (a message outside one starts it):
    "Save as lesson" is `lesson`, "Record decision" is `decide` titled from the message, "Make an idea" is `idea`
    with the message's words."""
    what = "message shortcut"
    message = _lenient_object(body, "message", what)
    ts = (
        _lenient(message, "thread_ts", what)
        or _lenient(message, "ts", what)
        or _lenient(body, "message_ts", what)
    )
    callback = body.get("callback_id")
    if callback == RECORD_DECISION:
        args = decide_rule.shortcut_command(_lenient(message, "text", what))
    elif callback == MAKE_IDEA:
        args = idea_rule.shortcut_command(_lenient(message, "text", what))
    else:
        args = "lesson"
    return CommandInvoked(
        workspace=workspace_id(team_of(body)),
        at=at,
        channel=_lenient(_lenient_object(body, "channel", what), "id", what),
        user=_lenient(_lenient_object(body, "user", what), "id", what),
        args=args,
        thread=ts or None,
        is_admin=is_admin,
        delivery_id=_lenient(body, "trigger_id", what) or None,
    )
