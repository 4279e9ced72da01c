"""Discord -> Steward: turn discord.py objects and raw gateway events into platform-neutral events.

Pure functions: no I/O, no client. They read only attributes that discord.py fills from the gateway payload,
so tests can hand in small stand-ins. A message in a thread or forum post keeps its parent channel as
`channel` and the thread's id as `thread`; on Discord a thread started from a message (and every forum post)
has the id of that message, which is exactly what Steward's rules expect of a thread root.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.core.events import (
    ForumTagChanged,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)

PLATFORM = "discord"

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
    return int(rest) if prefix == PLATFORM and rest.isdigit() else None


def emoji_name(emoji: Any) -> str:
    """A reaction's name as Steward knows it: custom emoji by name, unicode emoji by their short name."""
    if getattr(emoji, "id", None):
        return str(emoji.name)
    text = str(getattr(emoji, "name", None) or emoji)
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
    """(channel, thread) of a message's channel: threads report their parent and themselves as the thread."""
    parent_id = getattr(channel, "parent_id", None)
    if channel_kind(channel) == "thread" and parent_id:
        return str(parent_id), str(channel.id)
    return str(channel.id), None


def message_posted(message: Any) -> MessagePosted | None:
    """A guild message (text channel, thread or forum post) ; DMs and system messages: None."""
    guild = getattr(message, "guild", None)
    if guild is None or not _is_chat(message):
        return None
    channel, thread = place(message.channel)
    reference = getattr(message, "reference", None)
    reply_to = str(reference.message_id) if reference is not None and reference.message_id else None
    author = message.author
    return MessagePosted(
        workspace=workspace_id(guild.id),
        at=message.created_at,
        channel=channel,
        message_id=str(message.id),
        user=str(author.id),
        text=message.content or "",
        thread=thread,
        reply_to=reply_to,
        bot=bool(getattr(author, "bot", False)),
        user_name=getattr(author, "display_name", None) or getattr(author, "name", None),
        mentions=tuple(str(uid) for uid in getattr(message, "raw_mentions", ()) or ()),
    )


def _is_chat(message: Any) -> bool:
    """Default messages and replies are chat; pins, joins and thread notices are not."""
    kind = str(getattr(message, "type", "default"))
    return kind.rsplit(".", 1)[-1] in {"default", "reply", "thread_starter_message"}


def message_edited(
    guild_id: int | None, message_id: int, channel: Any, data: dict[str, Any], at: datetime
) -> MessageEdited | None:
    """A MESSAGE_UPDATE that changed the text; embed-only updates (link previews) are not edits."""
    if guild_id is None or "content" not in data or data.get("author", {}).get("bot"):
        return None
    parent, _ = place(channel)
    return MessageEdited(
        workspace=workspace_id(guild_id),
        at=at,
        message_id=str(message_id),
        text=data.get("content") or "",
        channel=parent,
    )


def message_deleted(
    guild_id: int | None, message_id: int, channel_id: int, at: datetime
) -> MessageDeleted | None:
    if guild_id is None:
        return None
    return MessageDeleted(
        workspace=workspace_id(guild_id), at=at, message_id=str(message_id), channel=str(channel_id)
    )


def reaction(raw: Any, at: datetime) -> ReactionAdded | ReactionRemoved | None:
    """A raw reaction event (so reactions on uncached messages count); DMs and the bot's own are skipped."""
    if raw.guild_id is None:
        return None
    common: dict[str, Any] = {
        "workspace": workspace_id(raw.guild_id),
        "at": at,
        "message_id": str(raw.message_id),
        "user": str(raw.user_id),
        "emoji": emoji_name(raw.emoji),
        "channel": str(raw.channel_id),
    }
    if str(getattr(raw, "event_type", "REACTION_ADD")) == "REACTION_ADD":
        return ReactionAdded(**common)
    return ReactionRemoved(**common)


def member_joined(member: Any, at: datetime) -> MemberJoined | None:
    """A member joined the server; the channel is the server's welcome (system) channel when there is one."""
    guild = member.guild
    if getattr(member, "bot", False):
        return None
    system = getattr(guild, "system_channel", None)
    return MemberJoined(
        workspace=workspace_id(guild.id),
        at=at,
        channel=str(system.id) if system is not None else str(guild.id),
        user=str(member.id),
        user_name=getattr(member, "display_name", None) or getattr(member, "name", None),
    )


def solved_tag_ids(tags: Iterable[Any], solved_name: str) -> set[int]:
    """The ids of a forum's tags named like the configured "solved" tag (case and emoji-insensitive)."""
    wanted = solved_name.strip().casefold()
    return {int(t.id) for t in tags if str(t.name).strip().casefold() == wanted}


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
    if permissions is not None and (permissions.manage_guild or permissions.administrator):
        return True
    wanted = facilitator_role.strip().casefold()
    return bool(wanted) and any(
        str(role.name).casefold() == wanted or str(role.id) == wanted
        for role in getattr(member, "roles", ()) or ()
    )


def language_of(interaction: Any) -> str | None:
    """The language the member's Discord client runs in ("de" for de, "en" for en-US), if it says."""
    locale = getattr(interaction, "locale", None)
    value = str(getattr(locale, "value", locale) or "")
    return value.split("-")[0].lower() or None
