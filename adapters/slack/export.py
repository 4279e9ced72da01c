"""Reading a Slack workspace export (the ZIP an admin downloads, or its unpacked folder) as Steward events.

Layout: `users.json`, `channels.json`, optional `groups.json` (private channels), `dms.json`/`mpims.json`
(direct and group messages: never read, they are private and Steward never watches them live either), and one
folder per channel holding one JSON file per day. Every channel says whether it is private (`groups.json`,
`is_private`), so an import, or a transcript written from the export, keeps private what was private.
Day files are read one at a time and the channels are merged by time, so memory stays flat for exports of any
size. Message ids are Slack's `ts` values, as the live adapter uses them, so an import continues seamlessly.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import logging
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.events import Event, MemberJoined, MessageDeleted, MessageEdited, MessagePosted, ReactionAdded
from bot.core.markup import mentions
from bot.core.ports import ChannelInfo, ExportError, ExportProblems, UserInfo

logger = logging.getLogger(__name__)

JOIN_SUBTYPES = frozenset({"channel_join", "group_join"})
MESSAGE_SUBTYPES = frozenset(
    {None, "bot_message", "file_share", "thread_broadcast", "me_message", "reply_broadcast"}
)
PRIVATE_LISTINGS = ("dms.json", "mpims.json")
AFTER = timedelta(milliseconds=1)  # a reaction without its own time comes just after what it reacts to
TS = re.compile(r"[0-9]{1,11}(?:\.[0-9]{1,9})?")  # "1709283302.000200": seconds and microseconds
LABEL_CHARS = 40  # how much of an odd value a problem quotes


class _Files:
    """The export's files, from a ZIP or an unpacked folder, read one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if path.is_dir():
            self._names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*.json") if p.is_file())
            return
        try:
            self._zip = zipfile.ZipFile(path)
        except FileNotFoundError as exc:
            raise ExportError(f"{path}: no such file") from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise ExportError(f"{path}: not a readable ZIP file ({exc})") from exc
        names = [n for n in self._zip.namelist() if n.endswith(".json") and not n.startswith("__MACOSX/")]
        self._names = sorted(names)
        self._prefix = _common_prefix(self._names)

    def names(self) -> list[str]:
        """Paths relative to the export root (a ZIP holding everything in one top folder counts too)."""
        if self._zip is None:
            return self._names
        return [n[len(self._prefix) :] for n in self._names]

    def load(self, name: str) -> Any:
        """The parsed JSON of one file; raises ValueError with a readable reason."""
        try:
            raw = (self.path / name).read_bytes() if self._zip is None else self._zip.read(self._prefix + name)
        except (zipfile.BadZipFile, OSError, KeyError, EOFError) as exc:
            raise ValueError(f"cannot be read ({exc})") from exc
        return load_json(raw)

    def where(self, name: str) -> str:
        return f"{self.path.name}:{name}"


def load_json(raw: bytes) -> Any:
    """Parsed JSON; ValueError with a one-line reason for anything that is not (bad bytes, depth, digits)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("is not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a number beyond Python's digit limit
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise ValueError(f"is not valid JSON ({reason})") from None


def label(value: Any) -> str:
    """A value from the export as a problem names it: as it is when it is a short, plain word, else quoted and
    clipped, so every problem stays one line."""
    text = value if isinstance(value, str) else repr(value)
    if text and len(text) <= LABEL_CHARS and text.isprintable() and not any(c.isspace() for c in text):
        return text
    quoted = repr(text)
    return quoted if len(quoted) <= LABEL_CHARS else quoted[: LABEL_CHARS - 1] + "…"


def _text(value: Any) -> str | None:
    """A string field: the string, or None when it is missing, empty or of another type."""
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _common_prefix(names: list[str]) -> str:
    """`export/` when every file sits inside one top folder that is not itself a channel folder."""
    tops = {n.split("/", 1)[0] + "/" for n in names if "/" in n}
    if len(tops) == 1 and not any("/" not in n for n in names):
        prefix = tops.pop()
        if any(n[len(prefix) :] == "users.json" for n in names):
            return prefix
    return ""


class SlackExport:
    """A Slack export as one time-ordered event stream (see bot.app.importer.Export)."""

    platform = "slack"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems = ExportProblems()
        self._files = _Files(path)
        names = set(self._files.names())
        if "users.json" not in names or "channels.json" not in names:
            raise ExportError(
                f"{path}: not a Slack export (users.json and channels.json are missing at its top level)"
            )
        self._users = self._read_users()
        self._channels, self._folders = self._read_channels(names)
        self.workspace_id = self._team_id() or path.stem
        self.workspace_name = path.stem
        self.timezone = self._common_timezone()

    # --- directory
    @property
    def channels(self) -> dict[str, ChannelInfo]:
        return self._channels

    @property
    def users(self) -> dict[str, UserInfo]:
        return {uid: info for uid, (info, _team) in self._users.items()}

    def _listing(self, name: str) -> list[dict[str, Any]]:
        try:
            data = self._files.load(name)
        except ValueError as exc:
            self.problems.skip(self._files.where(name), str(exc))
            return []
        if not isinstance(data, list):
            self.problems.skip(self._files.where(name), "is not a list")
            return []
        items = [item for item in data if isinstance(item, dict)]
        if len(items) < len(data):
            self.problems.skip(self._files.where(name), f"{len(data) - len(items)} entries are not objects")
        return items

    def _read_users(self) -> dict[str, tuple[UserInfo, str | None]]:
        users: dict[str, tuple[UserInfo, str | None]] = {}
        for raw in self._listing("users.json"):
            uid = _text(raw.get("id"))
            if not uid:
                self.problems.skip(self._files.where("users.json"), "a user without an id")
                continue
            profile = _mapping(raw.get("profile"))
            name = (
                _text(profile.get("display_name"))
                or _text(profile.get("real_name"))
                or _text(raw.get("real_name"))
                or _text(raw.get("name"))
                or uid
            )
            info = UserInfo(uid, name, _text(raw.get("tz")), raw.get("is_bot") is True)
            users[uid] = (info, _text(raw.get("team_id")) or _text(profile.get("team")))
        return users

    def _read_channels(self, names: set[str]) -> tuple[dict[str, ChannelInfo], dict[str, str]]:
        """Channels and private channels by id, and which folder holds each one's day files."""
        channels: dict[str, ChannelInfo] = {}
        folders: dict[str, str] = {}
        direct: set[str] = set()
        for listing, private in (("channels.json", False), ("groups.json", True)):
            if listing not in names:
                continue
            for raw in self._listing(listing):
                cid, name = _text(raw.get("id")), _text(raw.get("name"))
                if raw.get("is_im") is True or raw.get("is_mpim") is True:
                    direct.add(str(name or cid))  # older exports list group DMs here: private, never read
                    continue
                if not cid or not name:
                    self.problems.skip(self._files.where(listing), "a channel without an id or a name")
                    continue
                if folders.get(name, cid) != cid or (cid in channels and channels[cid].name != name):
                    # Slack's ids and names are unique: a second listing would move the first one's messages
                    self.problems.skip(
                        self._files.where(listing),
                        f"channel {label(name)} ({label(cid)}) repeats an id or a name listed before",
                    )
                    continue
                channels[cid] = ChannelInfo(cid, name, private=private or raw.get("is_private") is True)
                folders[name] = cid
        private_folders = direct | {
            str(_text(raw.get("name")) or _text(raw.get("id")))
            for listing in PRIVATE_LISTINGS
            if listing in names
            for raw in self._listing(listing)
        }
        for folder in sorted({n.split("/", 1)[0] for n in names if "/" in n} - set(folders)):
            if folder not in private_folders:
                self.problems.warn_once(
                    f"folder:{folder}", f"{self._files.where(folder)}/: not listed in channels.json; skipped"
                )
        return channels, folders

    def _team_id(self) -> str | None:
        teams = Counter(team for _info, team in self._users.values() if team)
        return teams.most_common(1)[0][0] if teams else None

    def _common_timezone(self) -> str | None:
        zones = Counter(
            info.timezone for info, _team in self._users.values() if info.timezone and not info.bot
        )
        return zones.most_common(1)[0][0] if zones else None

    # --- events
    def events(self) -> Iterator[Event]:
        """All channels' events, merged by time; each channel streams its day files in order."""
        by_folder: dict[str, list[str]] = {}
        for name in self._files.names():
            folder, _, rest = name.partition("/")
            if rest and folder in self._folders:
                by_folder.setdefault(folder, []).append(name)
        seq = itertools.count()  # shared, so ties in time never fall through to comparing events
        streams = [
            self._channel_events(self._folders[f], sorted(files), seq)
            for f, files in sorted(by_folder.items())
        ]
        return (event for _at, _seq, event in heapq.merge(*streams))

    def _channel_events(
        self, channel: str, files: list[str], seq: Iterator[int]
    ) -> Iterator[tuple[datetime, int, Event]]:
        """One channel's events in time order. Events wait in a heap until the next day file is known to
        start later (edits and reactions on threads come after their message; day files may overlap)."""
        pending: list[tuple[datetime, int, Event]] = []
        for name in files:
            messages = self._day(name)
            if messages:
                first = messages[0][0]
                while pending and pending[0][0] < first:
                    yield heapq.heappop(pending)
            for at, raw in messages:
                for event in self._message_events(channel, raw, name, at):
                    heapq.heappush(pending, (event.at, next(seq), event))
        while pending:
            yield heapq.heappop(pending)

    def _day(self, name: str) -> list[tuple[datetime, dict[str, Any]]]:
        """One day file's messages sorted by time; a broken file or message is reported and skipped."""
        where = self._files.where(name)
        try:
            data = self._files.load(name)
        except ValueError as exc:
            self.problems.skip(where, str(exc))
            return []
        if not isinstance(data, list):
            self.problems.skip(where, "is not a list of messages")
            return []
        messages = []
        for raw in data:
            if not isinstance(raw, dict):
                self.problems.skip(where, "an entry is not a message object")
                continue
            try:
                messages.append((slack_time(raw.get("ts")), raw))
            except ValueError:
                self.problems.skip(where, "unparsable timestamp", label(raw.get("ts") or "?"))
        messages.sort(key=lambda item: item[0])
        return messages

    def _message_events(self, channel: str, raw: dict[str, Any], name: str, at: datetime) -> list[Event]:
        """`at`: the message's time, as `_day` parsed it from its `ts` (parsed once per message, not twice)."""
        ws = f"slack:{self.workspace_id}"
        ts = str(raw["ts"])
        subtype = raw.get("subtype")
        where = self._files.where(name)
        if subtype is not None and not isinstance(subtype, str):
            self.problems.skip(where, "subtype is not a string", ts)
            return []
        if subtype in JOIN_SUBTYPES:
            user = _text(raw.get("user"))
            return [MemberJoined(workspace=ws, at=at, channel=channel, user=user)] if user else []
        if subtype == "message_changed":
            return self._changed(ws, raw, at, where)
        if subtype == "message_deleted":
            deleted = _text(raw.get("deleted_ts"))
            return [MessageDeleted(workspace=ws, at=at, message_id=deleted, channel=channel)] if deleted else []
        if subtype not in MESSAGE_SUBTYPES:
            return []  # topic, purpose, pins, renames: housekeeping, not conversation
        bot = subtype == "bot_message" or bool(raw.get("bot_id") and not raw.get("user"))
        user = _text(raw.get("user")) or (_text(raw.get("bot_id")) if bot else None) or _text(raw.get("username"))
        if not user:
            self.problems.skip(where, "message without a user", ts)
            return []
        if raw.get("text") is not None and not isinstance(raw.get("text"), str):
            self.problems.skip(where, "text is not a string", ts)
            return []
        known = self._users.get(user)
        if known is None and not bot:
            self.problems.warn_once(
                f"user:{user}",
                f"{where} (message {ts}): unknown user id {label(user)} (not in users.json); imported as is",
            )
        name_of = (
            known[0].name
            if known
            else _text(_mapping(raw.get("user_profile")).get("real_name")) or _text(raw.get("username"))
        )
        text = _message_text(raw)
        thread_ts = _text(raw.get("thread_ts"))
        thread = thread_ts if thread_ts and thread_ts != ts else None
        events: list[Event] = [
            MessagePosted(
                workspace=ws,
                at=at,
                channel=channel,
                message_id=ts,
                user=user,
                text=text,
                thread=thread,
                bot=bot or bool(known and known[0].bot),
                user_name=name_of,
                mentions=mentions(text),
            )
        ]
        edited = _mapping(raw.get("edited")).get("ts")
        if edited:
            try:
                events.append(
                    MessageEdited(
                        workspace=ws,
                        at=max(at, slack_time(edited)),
                        message_id=ts,
                        text=text,
                        channel=channel,
                    )
                )
            except ValueError:
                self.problems.warn_once(
                    f"edited:{ts}", f"{where} (message {ts}): unparsable edit time ignored"
                )
        events.extend(self._reactions(ws, raw, channel, at))
        return events

    def _changed(self, ws: str, raw: dict[str, Any], at: datetime, where: str) -> list[Event]:
        new = _mapping(raw.get("message"))
        target = _text(new.get("ts"))
        if not target:
            self.problems.skip(where, "message_changed without the changed message's ts", str(raw.get("ts")))
            return []
        return [
            MessageEdited(
                workspace=ws, at=at, message_id=target, text=_message_text(new), channel=_text(raw.get("channel"))
            )
        ]

    def _reactions(self, ws: str, raw: dict[str, Any], channel: str, at: datetime) -> list[Event]:
        """One reaction per user. The export has no reaction times: a thread's root counts as reacted to when
        its last reply came (that is when an asker marks it solved), any other message just after it was posted."""
        reactions = _items(raw.get("reactions"))
        if not reactions:
            return []
        when = at
        latest = raw.get("latest_reply")
        if latest:
            with contextlib.suppress(ValueError):
                when = max(at, slack_time(latest))
        when += AFTER
        events: list[Event] = []
        for reaction in reactions:
            emoji = _text(reaction.get("name")) if isinstance(reaction, dict) else None
            if not emoji:
                continue
            emoji = emoji.split("::", 1)[0]  # "+1::skin-tone-2" -> "+1"
            for user in _items(reaction.get("users")):
                if not _text(user):
                    continue
                events.append(
                    ReactionAdded(
                        workspace=ws,
                        at=when,
                        message_id=str(raw["ts"]),
                        user=user,
                        emoji=emoji,
                        channel=channel,
                    )
                )
        return events


def _message_text(raw: dict[str, Any]) -> str:
    """The message text; a file share without text is described by its files' names (no content is read)."""
    text = _text(raw.get("text")) or ""
    if text.strip():
        return text
    files = [f for f in _items(raw.get("files")) if isinstance(f, dict)]
    names = [_text(f.get("title")) or _text(f.get("name")) or "" for f in files]
    return " ".join(f"[{n}]" for n in names if n)


def slack_time(value: Any) -> datetime:
    """Slack's "1709283302.000200" (seconds since the epoch, as a string) as an aware UTC datetime."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    text = value if isinstance(value, str) else str(value) if number else ""
    if not TS.fullmatch(text):  # the id of a message is this text: one form, so one message, one id
        raise ValueError(f"not a Slack timestamp: {label(value)}")
    seconds = float(text)
    if not 0 < seconds < 32503680000:
        raise ValueError(f"not a Slack timestamp: {label(value)}")
    return datetime.fromtimestamp(seconds, UTC)
