"""Reading DiscordChatExporter JSON exports (one file per channel or thread, or a folder of them) as events.

A file holds `guild`, `channel` and `messages` (`id`, `type`, `timestamp`, `author`, `content`, `reference`,
`reactions`, `mentions`). Replies become explicit answer links (`reply_to`); a thread or forum post keeps its
parent channel and the post's first message is the thread's root. With several files, each is read once and
its events spilled to a temporary file, then all are merged by time: one export file is in memory at a time.
Direct messages (channel types `DirectTextChat`, `DirectGroupTextChat`, or the "Direct Messages" pseudo-server
with id 0) are private and never read: Steward never watches them live either. A private thread is a private
channel of its own (the export does not say which server channels are private; their threads keep their parent).
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import pickle
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from bot.core.events import Event, MemberJoined, MessageEdited, MessagePosted, ReactionAdded
from bot.core.ports import ChannelInfo, ExportError, ExportProblems, UserInfo

logger = logging.getLogger(__name__)

THREAD_TYPES = frozenset({"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread"})
PRIVATE_TYPES = frozenset({"DirectTextChat", "DirectGroupTextChat"})
PRIVATE_THREAD = "GuildPrivateThread"
DIRECT_MESSAGES_GUILD = "0"  # DiscordChatExporter files DMs under a pseudo-server "Direct Messages" with this id
MESSAGE_TYPES = frozenset({"Default", "Reply", "ChatInputCommand", "ContextMenuCommand"})
JOIN_TYPES = frozenset({"GuildMemberJoin", "RecipientAdd"})
AFTER = timedelta(milliseconds=1)  # a reaction or edit without its own time comes just after its message
EARLIEST = datetime(2015, 1, 1, tzinfo=UTC)  # Discord's epoch: no message is older
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # far off, yet leaves room for the moments just after a message
LABEL_CHARS = 40  # how much of an odd value a problem quotes


class DiscordExport:
    """DiscordChatExporter JSON as one time-ordered event stream (see bot.app.importer.Export)."""

    platform = "discord"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems = ExportProblems()
        if path.is_dir():
            self._files = sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            self._files = [path]
        else:
            raise ExportError(f"{path}: no such file or folder")
        if not self._files:
            raise ExportError(f"{path}: no DiscordChatExporter JSON files (*.json) found")
        self._channels: dict[str, ChannelInfo] = {}
        self._users: dict[str, UserInfo] = {}
        self._headers: dict[Path, dict[str, Any]] = {}
        self._scan()
        self.workspace_id, self.workspace_name = self._guild()
        self.timezone: str | None = None  # Discord exports carry no time zones

    @property
    def channels(self) -> dict[str, ChannelInfo]:
        return self._channels

    @property
    def users(self) -> dict[str, UserInfo]:
        return self._users

    # --- scanning -------------------------------------------------------------------------------------
    def _load(self, file: Path) -> dict[str, Any] | None:
        """One export file, or None (reported) when it is broken or not DiscordChatExporter JSON."""
        try:
            data = json.loads(file.read_bytes())
        except RecursionError:
            self.problems.skip(file.name, "is not readable JSON (nested too deeply)")
            return None
        except (OSError, ValueError) as exc:  # also bad UTF-8 and numbers beyond Python's digit limit
            reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            self.problems.skip(file.name, f"is not readable JSON ({reason})")
            return None
        if not (isinstance(data, dict) and isinstance(data.get("channel"), dict)):
            self.problems.skip(file.name, "is not a DiscordChatExporter JSON export (no 'channel')")
            return None
        if not isinstance(data.get("messages"), list):
            self.problems.skip(file.name, "is not a DiscordChatExporter JSON export (no 'messages' list)")
            return None
        return data

    def _scan(self) -> None:
        """Read each file once to learn the channels, threads and members (the messages are read later)."""
        for file in self._files:
            data = self._load(file)
            if data is None:
                continue
            channel = data["channel"]
            kind = _text(channel.get("type"))
            if kind in PRIVATE_TYPES or _is_direct(_mapping(data.get("guild"))):
                self.problems.warn_once(f"dm:{file}", f"{file.name}: direct messages are private; skipped")
                continue
            if kind in THREAD_TYPES and not _id(channel.get("id")):
                self.problems.skip(file.name, "is a thread without an id")
                continue
            self._headers[file] = {"guild": _mapping(data.get("guild")), "channel": channel}
            if kind == PRIVATE_THREAD:
                cid = str(_id(channel.get("id")))
                self._channels[cid] = ChannelInfo(cid, _text(channel.get("name")) or cid, private=True)
            elif kind not in THREAD_TYPES:
                cid = _id(channel.get("id")) or file.stem
                name = _text(channel.get("name")) or cid
                self._channels[cid] = ChannelInfo(cid, name, kind="forum" if kind == "GuildForum" else "text")
            else:
                parent = _id(channel.get("categoryId"))
                if parent and parent not in self._channels:
                    self._channels[parent] = ChannelInfo(parent, _text(channel.get("category")) or parent)
            for message in data["messages"]:
                author = _mapping(message.get("author") if isinstance(message, dict) else None)
                uid = _id(author.get("id"))
                if uid and uid not in self._users:
                    name = _text(author.get("nickname")) or _text(author.get("name")) or uid
                    self._users[uid] = UserInfo(uid, name, bot=author.get("isBot") is True)
        if not self._headers:
            raise ExportError(f"{self.path}: no usable DiscordChatExporter JSON file")

    def _guild(self) -> tuple[str, str]:
        guilds = Counter(
            (_id(h["guild"].get("id")) or "", _text(h["guild"].get("name")) or "") for h in self._headers.values()
        )
        (gid, name), _ = guilds.most_common(1)[0]
        if len(guilds) > 1:
            self.problems.warn_once(
                "guilds", f"{self.path}: files of several servers; all imported as {name or gid}"
            )
        return gid or self.path.stem, name or gid or self.path.stem

    # --- events ---------------------------------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        files = list(self._headers)
        if len(files) == 1:
            yield from self._file_events(files[0])
            return
        with tempfile.TemporaryDirectory(prefix="steward-discord-") as scratch:
            spills = [
                _spill(self._file_events(f), Path(scratch) / f"{n}.pickle") for n, f in enumerate(files)
            ]
            seq = itertools.count()
            streams = [((e.at, next(seq), e) for e in _unspill(p)) for p in spills]
            for _at, _n, event in heapq.merge(*streams):
                yield event

    def _file_events(self, file: Path) -> Iterator[Event]:
        """One file's events in time order."""
        data = self._load(file)
        if data is None:
            return
        channel = data["channel"]
        ws = f"discord:{self.workspace_id}"
        own_id = _id(channel.get("id")) or file.stem
        kind = _text(channel.get("type"))
        in_thread = kind in THREAD_TYPES and kind != PRIVATE_THREAD  # a private thread is a channel of its own
        thread_id = own_id if in_thread else None
        channel_id = (_id(channel.get("categoryId")) or own_id) if in_thread else own_id
        events: list[Event] = []
        messages = [m for m in data["messages"] if isinstance(m, dict)]
        if len(messages) < len(data["messages"]):
            self.problems.skip(file.name, f"{len(data['messages']) - len(messages)} entries are not message objects")
        last_at: datetime | None = None
        for raw in messages:
            event = self._message(raw, ws, channel_id, thread_id, file.name)
            if event is None:
                continue
            events.append(event)
            if isinstance(event, MessagePosted):
                events.extend(self._extras(raw, event))
            last_at = event.at if last_at is None else max(last_at, event.at)
        if thread_id is not None and last_at is not None:
            events = [_after_thread(e, thread_id, last_at) for e in events]
        del data, messages
        events.sort(key=lambda e: (e.at, 0 if isinstance(e, MessagePosted | MemberJoined) else 1))
        yield from events

    def _message(
        self, raw: dict[str, Any], ws: str, channel: str, thread: str | None, where: str
    ) -> MessagePosted | MemberJoined | None:
        mid = _id(raw.get("id"))
        if not mid:
            self.problems.skip(where, "message without a Discord id")
            return None
        try:
            at = discord_time(raw.get("timestamp"))
        except ValueError:
            self.problems.skip(where, f"unparsable timestamp {label(raw.get('timestamp'))}", mid)
            return None
        author = _mapping(raw.get("author"))
        user = _id(author.get("id"))
        if not user:
            self.problems.skip(where, "message without an author id", mid)
            return None
        kind = raw.get("type") or "Default"
        if not isinstance(kind, str):
            self.problems.skip(where, "message type is not a string", mid)
            return None
        if raw.get("content") is not None and not isinstance(raw.get("content"), str):
            self.problems.skip(where, "content is not a string", mid)
            return None
        if kind in JOIN_TYPES:
            return MemberJoined(
                workspace=ws, at=at, channel=channel, user=user, user_name=self._users[user].name
            )
        if kind not in MESSAGE_TYPES:
            return None  # pins, thread-created notices, boosts: housekeeping, not conversation
        reference = _mapping(raw.get("reference"))
        reply_to = _id(reference.get("messageId"))
        return MessagePosted(
            workspace=ws,
            at=at,
            channel=channel,
            message_id=mid,
            user=user,
            text=_message_text(raw),
            thread=thread if thread != mid else None,
            reply_to=reply_to,
            bot=bool(author.get("isBot")),
            user_name=self._users[user].name,
            mentions=tuple(
                uid for uid in (_id(_mapping(m).get("id")) for m in _items(raw.get("mentions"))) if uid
            ),
        )

    def _extras(self, raw: dict[str, Any], message: MessagePosted) -> list[Event]:
        """The edit (final text, at its edit time) and one reaction per reacting user."""
        extras: list[Event] = []
        edited = raw.get("timestampEdited")
        if edited:
            try:
                at = max(discord_time(edited), _after(message.at))
                extras.append(
                    MessageEdited(
                        workspace=message.workspace,
                        at=at,
                        message_id=message.message_id,
                        text=message.text,
                        channel=message.channel,
                    )
                )
            except ValueError:
                self.problems.warn_once(
                    f"edit:{message.message_id}", f"unparsable edit time of {message.message_id}"
                )
        for reaction in _items(raw.get("reactions")):
            emoji = _mapping(_mapping(reaction).get("emoji"))
            name = _text(emoji.get("code")) or _text(emoji.get("name"))
            if not name:
                continue
            for user in _items(reaction.get("users")):
                uid = _id(_mapping(user).get("id"))
                if uid:
                    extras.append(
                        ReactionAdded(
                            workspace=message.workspace,
                            at=_after(message.at),
                            message_id=message.message_id,
                            user=uid,
                            emoji=name,
                            channel=message.channel,
                        )
                    )
        return extras


def _after_thread(event: Event, thread_id: str, last_at: datetime) -> Event:
    """Reactions on a thread's root count from the thread's last message (when an asker marks it solved);
    the export has no reaction times."""
    if isinstance(event, ReactionAdded) and event.message_id == thread_id:
        return ReactionAdded(
            workspace=event.workspace,
            at=_after(last_at),
            message_id=event.message_id,
            user=event.user,
            emoji=event.emoji,
            channel=event.channel,
        )
    return event


def _is_direct(guild: dict[str, Any]) -> bool:
    """The pseudo-server DiscordChatExporter files direct messages under."""
    gid = guild.get("id")
    return _id(gid) == DIRECT_MESSAGES_GUILD or (gid is None and guild.get("name") == "Direct Messages")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    """A string field: the string, or None when it is missing, empty or of another type."""
    return value if isinstance(value, str) and value else None


def _id(value: Any) -> str | None:
    """A snowflake as DiscordChatExporter writes it (a string of digits); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return value if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20 else None


def label(value: Any) -> str:
    """A value from the export as a problem names it: quoted and clipped, so every problem stays one line."""
    text = repr(value)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _message_text(raw: dict[str, Any]) -> str:
    """The content; attachments without text are described by their file names (no file is fetched)."""
    content = _text(raw.get("content")) or ""
    if content.strip():
        return content
    names = [_text(_mapping(a).get("fileName")) for a in _items(raw.get("attachments"))]
    return " ".join(f"[{n}]" for n in names if n)


def _after(moment: datetime) -> datetime:
    """Just after `moment`: where a reaction or edit without its own time goes."""
    return moment + AFTER


def discord_time(value: Any) -> datetime:
    """DiscordChatExporter's ISO-8601 timestamps ("2024-03-01T09:15:02.123+00:00") as aware UTC."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {label(value)}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"not a timestamp: {label(value)}") from None
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(f"not a timestamp of a Discord message: {label(value)}")
    return moment


def _spill(events: Iterator[Event], path: Path) -> Path:
    with path.open("wb") as handle:
        for event in events:
            pickle.dump(event, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _unspill(path: Path) -> Iterator[Event]:
    with path.open("rb") as handle:
        yield from _pickled(handle)


def _pickled(handle: IO[bytes]) -> Iterator[Event]:
    while True:
        try:
            yield pickle.load(handle)  # our own file, written just above: never foreign data
        except EOFError:
            return
