"""Discord -> Steward: turn discord.py objects and raw gateway events into platform-neutral events.

Pure functions: no I/O, no client. They read only attributes that discord.py fills from the gateway payload,
so tests can hand in small stand-ins. A message in a thread or forum post keeps its parent channel as
`channel` and the thread's id as `thread`; on Discord a thread started from a message (and every forum post)
has the id of that message, which is exactly what Steward's rules expect of a thread root.

Input that is not shaped as discord.py and the gateway document it (an id that is no snowflake, a text that is
no string) is dropped with one warning that names what was wrong, so one bad event never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bot.core.events import (
    CommandInvoked,
    ForumTagChanged,
    InteractionClicked,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from facilitation_rules import decisions as decide_rule
from facilitation_rules import ideas as idea_rule

logger = logging.getLogger(__name__)

PLATFORM = "discord"
SNOWFLAKE_DIGITS = 20  # a 64-bit id has at most 20 decimal digits

# Unicode emoji <-> the short names Steward's settings use (the same names as on Slack).
EMOJI_NAMES: dict[str, str] = {
    "✅": "white_check_mark",
    "✔️": "heavy_check_mark",
    "☑️": "ballot_box_with_check",
    "💡": "bulb",
    "👍": "+1",
    "👎": "-1",
    "❤️": "heart",
    "🎉": "tada",
    "👀": "eyes",
    "🙏": "pray",
    "🙌": "raised_hands",
    "❓": "question",
    "🚀": "rocket",
    "📌": "pushpin",
    "🤔": "thinking_face",
    "💯": "100",
}
EMOJI_BY_NAME: dict[str, str] = {name: char for char, name in EMOJI_NAMES.items()}
EMOJI_BY_NAME.update({"thumbsup": "👍", "thumbsdown": "👎", "heavy_check": "✔️"})


def workspace_id(guild_id: int | str) -> str:
    """Steward's workspace id for a guild."""
    return f"{PLATFORM}:{guild_id}"


def guild_of(workspace: str) -> int | None:
    """The guild id in a workspace id, or None if it is not a Discord workspace."""
    prefix, _, rest = workspace.partition(":")
    return int(rest) if prefix == PLATFORM and _is_snowflake_text(rest) else None


class Malformed(ValueError):
    """Input that is not shaped as discord.py documents it; the message says which part is wrong."""


def _is_snowflake_text(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= SNOWFLAKE_DIGITS


def snowflake(value: Any, what: str) -> str:
    """An id as Steward keeps it (decimal text); discord.py gives ints, the raw gateway strings."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64:
        return str(value)
    if isinstance(value, str) and _is_snowflake_text(value):
        return value
    raise Malformed(f"{what} is not a Discord id")


def _string(value: Any, what: str) -> str:
    """A text discord.py may leave None (no message content intent, no nickname)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise Malformed(f"{what} is {type(value).__name__}, not a string")


def _moment(value: Any, what: str) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    raise Malformed(f"{what} is not an aware datetime")


def _listed(holder: Any, attribute: str) -> list[Any] | tuple[Any, ...]:
    """A list attribute; None (or anything that is no list) reads as empty."""
    value = getattr(holder, attribute, None)
    return value if isinstance(value, list | tuple) else ()


def _dropped(what: str, exc: Malformed) -> None:
    logger.warning("Discord %s dropped: %s", what, exc)


def emoji_name(emoji: Any) -> str:
    """A reaction's name as Steward knows it: custom emoji by name (by id when Discord lost the name of a
    deleted one), unicode emoji by their short name."""
    name = getattr(emoji, "name", None)
    custom = getattr(emoji, "id", None)
    if custom:
        return name if isinstance(name, str) and name else str(custom)
    text = name if isinstance(name, str) and name else str(emoji)
    return EMOJI_NAMES.get(text) or EMOJI_NAMES.get(text.replace("\ufe0f", "")) or text


def emoji_char(name: str) -> str:
    """The unicode character for a short name for the reaction endpoint; unknown names pass through."""
    return EMOJI_BY_NAME.get(name.strip(":"), name)


def channel_kind(channel: Any) -> str:
    """Steward's channel kind: "forum" for forum (and media) channels, "thread", "voice", else "text"."""
    kind = str(getattr(channel, "type", "text"))
    if kind in {"forum", "media"}:
        return "forum"
    if kind.endswith("thread"):
        return "thread"
    if kind in {"voice", "stage_voice"}:
        return "voice"
    return "text"


def place(channel: Any) -> tuple[str, str | None]:
    """(channel, thread) of a message's channel: threads report their parent and themselves as the thread.

    A private thread is a channel of its own: only those invited see it, so nothing in it may count as said in
    its (perhaps public) parent."""
    own = snowflake(getattr(channel, "id", None), "the channel id")
    parent_id = getattr(channel, "parent_id", None)
    if channel_kind(channel) == "thread" and parent_id and not private_thread(channel):
        return snowflake(parent_id, "the thread's parent id"), own
    return own, None


def private_thread(channel: Any) -> bool:
    return str(getattr(channel, "type", "")) == "private_thread"


def _name(who: Any) -> str | None:
    """What a member is called here: their server nickname or display name, else their user name."""
    for attribute in ("display_name", "name"):
        value = getattr(who, attribute, None)
        if isinstance(value, str) and value:
            return value
    return None


def message_posted(message: Any) -> MessagePosted | None:
    """A guild message (text channel, thread or forum post) ; DMs and system messages: None."""
    guild = getattr(message, "guild", None)
    if guild is None or not _is_chat(message):
        return None
    try:
        channel, thread = place(getattr(message, "channel", None))
        reference = getattr(message, "reference", None)
        replied = getattr(reference, "message_id", None)
        author = getattr(message, "author", None)
        return MessagePosted(
            workspace=workspace_id(snowflake(getattr(guild, "id", None), "the server id")),
            at=_moment(getattr(message, "created_at", None), "the message time"),
            channel=channel,
            message_id=snowflake(getattr(message, "id", None), "the message id"),
            user=snowflake(getattr(author, "id", None), "the author id"),
            text=_string(getattr(message, "content", None), "the content"),
            thread=thread,
            reply_to=snowflake(replied, "the replied-to message id") if replied else None,
            bot=getattr(author, "bot", False) is True,
            user_name=_name(author),
            mentions=tuple(snowflake(uid, "a mentioned user id") for uid in _listed(message, "raw_mentions")),
            channel_private=True if private_thread(getattr(message, "channel", None)) else None,
        )
    except Malformed as exc:
        _dropped("message", exc)
        return None


def _is_chat(message: Any) -> bool:
    """Default messages and replies are chat; pins, joins and thread notices are not."""
    kind = str(getattr(message, "type", "default"))
    return kind.rsplit(".", 1)[-1] in {"default", "reply", "thread_starter_message"}


def message_edited(
    guild_id: int | None, message_id: int, channel: Any, data: dict[str, Any], at: datetime
) -> MessageEdited | None:
    """A MESSAGE_UPDATE that changed the text; embed-only updates (link previews) are not edits."""
    if guild_id is None or not isinstance(data, Mapping) or "content" not in data:
        return None
    author = data.get("author")
    if isinstance(author, Mapping) and author.get("bot"):
        return None
    try:
        parent, _ = place(channel)
        return MessageEdited(
            workspace=workspace_id(snowflake(guild_id, "the server id")),
            at=at,
            message_id=snowflake(message_id, "the message id"),
            text=_string(data.get("content"), "the content"),
            channel=parent,
        )
    except Malformed as exc:
        _dropped("message edit", exc)
        return None


def message_deleted(
    guild_id: int | None, message_id: int, channel_id: int, at: datetime
) -> MessageDeleted | None:
    if guild_id is None:
        return None
    try:
        return MessageDeleted(
            workspace=workspace_id(snowflake(guild_id, "the server id")),
            at=at,
            message_id=snowflake(message_id, "the message id"),
            channel=snowflake(channel_id, "the channel id"),
        )
    except Malformed as exc:
        _dropped("message delete", exc)
        return None


def reaction(raw: Any, at: datetime) -> ReactionAdded | ReactionRemoved | None:
    """A raw reaction event (so reactions on uncached messages count); DMs and the bot's own are skipped."""
    if getattr(raw, "guild_id", None) is None:
        return None
    try:
        common: dict[str, Any] = {
            "workspace": workspace_id(snowflake(raw.guild_id, "the server id")),
            "at": at,
            "message_id": snowflake(getattr(raw, "message_id", None), "the message id"),
            "user": snowflake(getattr(raw, "user_id", None), "the user id"),
            "emoji": emoji_name(getattr(raw, "emoji", "")),
            "channel": snowflake(getattr(raw, "channel_id", None), "the channel id"),
        }
    except Malformed as exc:
        _dropped("reaction", exc)
        return None
    if not common["emoji"]:
        _dropped("reaction", Malformed("it names no emoji"))
        return None
    if str(getattr(raw, "event_type", "REACTION_ADD")) == "REACTION_ADD":
        return ReactionAdded(**common)
    return ReactionRemoved(**common)


def member_joined(member: Any, at: datetime) -> MemberJoined | None:
    """A member joined the server; the channel is the server's welcome (system) channel when there is one."""
    if getattr(member, "bot", False):
        return None
    guild = getattr(member, "guild", None)
    try:
        guild_id = snowflake(getattr(guild, "id", None), "the server id")
        system = getattr(guild, "system_channel", None)
        return MemberJoined(
            workspace=workspace_id(guild_id),
            at=at,
            channel=snowflake(getattr(system, "id", None), "the welcome channel id") if system else guild_id,
            user=snowflake(getattr(member, "id", None), "the member id"),
            user_name=_name(member),
        )
    except Malformed as exc:
        _dropped("member join", exc)
        return None


def solved_tag_ids(tags: Iterable[Any], solved_name: str) -> set[int]:
    """The ids of a forum's tags named like the configured "solved" tag (case and emoji-insensitive)."""
    wanted = solved_name.strip().casefold()
    return {
        t.id
        for t in tags
        if isinstance(t.id, int) and isinstance(t.name, str) and t.name.strip().casefold() == wanted
    }


def forum_tag_changed(
    before_tags: Iterable[int],
    after_tags: Iterable[int],
    solved_ids: set[int],
    *,
    guild_id: int,
    forum_id: int,
    thread_id: int,
    user_id: int,
    at: datetime,
) -> ForumTagChanged | None:
    """ForumTagChanged when the "solved" tag was set on or taken off a post; None for other tags."""
    was = bool(solved_ids & set(before_tags))
    now = bool(solved_ids & set(after_tags))
    if was == now:
        return None
    return ForumTagChanged(
        workspace=workspace_id(guild_id),
        at=at,
        channel=str(forum_id),
        thread=str(thread_id),
        user=str(user_id),
        solved=now,
    )


def is_facilitator(member: Any, facilitator_role: str) -> bool:
    """Facilitators hold Manage Server or the configured role (by name or id)."""
    permissions = getattr(member, "guild_permissions", None)
    if getattr(permissions, "manage_guild", False) is True or getattr(permissions, "administrator", False) is True:
        return True
    wanted = facilitator_role.strip().casefold()
    return bool(wanted) and any(
        str(getattr(role, "name", "")).casefold() == wanted or str(getattr(role, "id", "")) == wanted
        for role in _listed(member, "roles")
    )


def language_of(interaction: Any) -> str | None:
    """The language the member's Discord client runs in ("de" for de, "en" for en-US), if it says."""
    locale = getattr(interaction, "locale", None)
    value = getattr(locale, "value", locale)
    return (value.split("-")[0].lower() or None) if isinstance(value, str) else None


def interaction_id(interaction: Any) -> str | None:
    """The interaction's own snowflake: what a redelivered interaction keeps (None when it has none)."""
    value = getattr(interaction, "id", None)
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _asked(interaction: Any) -> tuple[str, str, str | None, str]:
    """Where and by whom an interaction was made: (workspace, channel, thread, user)."""
    guild_id = getattr(interaction, "guild_id", None)
    workspace = workspace_id(snowflake(guild_id, "the server id") if guild_id is not None else "0")
    channel = getattr(interaction, "channel", None)
    where, thread = place(channel) if channel is not None else ("", None)
    user = snowflake(getattr(getattr(interaction, "user", None), "id", None), "the member id")
    return workspace, where, thread, user


def command_invoked(
    interaction: Any, args: str, *, at: datetime, facilitator_role: str, thread: str | None = None
) -> CommandInvoked | None:
    """A `/steward` subcommand (or the "Save as lesson" menu, with the message's id as `thread`)."""
    try:
        workspace, channel, in_thread, user = _asked(interaction)
    except Malformed as exc:
        _dropped("command", exc)
        return None
    return CommandInvoked(
        workspace=workspace,
        at=at,
        channel=channel,
        user=user,
        args=args,
        thread=thread or in_thread,
        is_admin=is_facilitator(getattr(interaction, "user", None), facilitator_role),
        user_language=language_of(interaction),
        delivery_id=interaction_id(interaction),
    )


SHORTCUT_COMMANDS = {"decide": decide_rule.shortcut_command, "idea": idea_rule.shortcut_command}


def message_shortcut(
    interaction: Any, message: Any, command: str, *, at: datetime, facilitator_role: str
) -> CommandInvoked | None:
    """A message context-menu command ("Record decision" is `decide`, "Make an idea" is `idea`): that `/steward`
    command run in the chosen message's thread with the message's words; a message outside a thread starts one."""
    try:
        _, thread = place(getattr(message, "channel", None))
        root = thread or snowflake(getattr(message, "id", None), "the message id")
    except Malformed as exc:
        _dropped(f"{command} menu", exc)
        return None
    content = getattr(message, "content", "")
    args = SHORTCUT_COMMANDS[command](content if isinstance(content, str) else "")
    return command_invoked(interaction, args, at=at, facilitator_role=facilitator_role, thread=root)


def interaction_clicked(
    interaction: Any, action: str, value: str, *, at: datetime, facilitator_role: str
) -> InteractionClicked | None:
    """A click on one of Steward's buttons, whose custom id carried `action` and `value`."""
    try:
        workspace, channel, _, user = _asked(interaction)
        message = getattr(interaction, "message", None)
        message_id = snowflake(getattr(message, "id", None), "the clicked message id") if message else None
    except Malformed as exc:
        _dropped("button click", exc)
        return None
    return InteractionClicked(
        workspace=workspace,
        at=at,
        channel=channel,
        user=user,
        action=action,
        value=value,
        message_id=message_id,
        is_admin=is_facilitator(getattr(interaction, "user", None), facilitator_role),
        user_language=language_of(interaction),
        delivery_id=interaction_id(interaction),
    )
