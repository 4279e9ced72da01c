"""Reading community transcripts (JSON lines, version 1: docs/transcripts.md) as a stream of events.

A broken line is reported with its line number and skipped; unknown kinds and fields are ignored with a
warning. Nothing is loaded whole: a transcript of any size streams through. A `channel` line is no event but a
description (is the channel private?); `read_transcript` hands it over in file order, and a channel line that
cannot be read keeps its channel private, since an unreadable privacy flag proves nothing about a channel.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
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
)
from bot.core.markup import mentions

logger = logging.getLogger(__name__)

KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "meta": frozenset({"kind", "ts", "platform", "workspace", "timezone", "language", "until"}),
    "message": frozenset({"kind", "ts", "id", "channel", "user", "text", "user_name", "thread", "reply_to", "bot"}),
    "edit": frozenset({"kind", "ts", "id", "text"}),
    "delete": frozenset({"kind", "ts", "id"}),
    "reaction": frozenset({"kind", "ts", "message", "user", "emoji"}),
    "join": frozenset({"kind", "ts", "channel", "user", "user_name"}),
    "command": frozenset({"kind", "ts", "channel", "user", "text", "thread"}),
    "click": frozenset({"kind", "ts", "channel", "user", "action", "message"}),
    "channel": frozenset({"kind", "ts", "id", "name", "private", "type", "language"}),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "meta": (),
    "message": ("id", "channel", "user", "text"),
    "edit": ("id", "text"),
    "delete": ("id",),
    "reaction": ("message", "user", "emoji"),
    "join": ("channel", "user"),
    "command": ("channel", "user", "text"),
    "click": ("channel", "user", "action", "message"),
    "channel": ("id",),
}
CHANNEL_TYPES = ("text", "forum", "dm", "group_dm")
DIRECT_TYPES = frozenset({"dm", "group_dm"})  # private whatever the line's `private` says
_STEWARD = re.compile(r"^\s*/steward\b\s*", re.IGNORECASE)  # a command line may repeat the command's own name


class TranscriptError(Exception):
    """The transcript as a whole cannot be read (missing file, no usable line)."""


@dataclass(frozen=True, slots=True)
class ChannelLine:
    """What a `channel` line says: the channel as message and join lines name it (`id`), and whether it is
    private. Not an event: replay applies it to the channel before the channel's next event."""

    id: str
    name: str | None = None
    private: bool = False
    type: str = "text"
    language: str | None = None


@dataclass
class TranscriptMeta:
    platform: str = "console"
    workspace: str = "replay"
    timezone: str | None = None
    language: str | None = None
    until: datetime | None = None  # the history ends here: a replay's clock runs on to it after the last line


SKIPS_SHOWN = 3  # skipped lines named one by one; a broken file's thousand others are counted


@dataclass
class Problems:
    """Lines that were skipped or partly ignored, with their line numbers."""

    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _warned_fields: set[tuple[str, str]] = field(default_factory=set)

    def skip(self, path: Path, number: int, why: str, what: str = "line skipped") -> None:
        """Note a skipped line; the reader hears of them once, at the end (`summary`)."""
        message = f"{path.name}:{number}: {why}; {what}"
        self.skipped.append(message)
        logger.debug(message)

    def summary(self) -> list[str]:
        """The skipped lines as a reader wants them: the first few, then how many more."""
        shown = self.skipped[:SKIPS_SHOWN]
        more = len(self.skipped) - len(shown)
        return shown + ([f"... and {more} more lines skipped"] if more else [])

    def warn_once(self, path: Path, number: int, kind: str, name: str) -> None:
        if (kind, name) not in self._warned_fields:
            self._warned_fields.add((kind, name))
            message = f"{path.name}:{number}: unknown {_shown(name)} in a {kind!r} line ignored"
            self.warnings.append(message)
            logger.warning(message)


SHOWN_CHARS = 40  # how much of an unknown name a warning repeats


def _shown(name: str) -> str:
    """A name from the file as a warning quotes it: on one line, and short."""
    quoted = repr(name)
    return quoted if len(quoted) <= SHOWN_CHARS else quoted[: SHOWN_CHARS - 1] + "…"


def parse_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("ts must be an ISO-8601 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("ts is not an ISO-8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _load(raw: str) -> Any:
    """One line's JSON; ValueError with a short reason for anything json cannot make into a value."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # a number beyond Python's digit limit
        raise ValueError(f"not valid JSON ({str(exc).splitlines()[0][:80]})") from None
    except RecursionError:
        raise ValueError("not valid JSON (nested too deeply)") from None


def read_meta(path: Path) -> TranscriptMeta:
    """The optional first `meta` line (defaults when there is none, or when the file breaks off before it: reading
    the events reports that)."""
    with _open(path) as handle:
        for _, raw in _lines(handle, path, Problems()):
            if not raw.strip():
                continue
            try:
                data = _load(raw)
            except ValueError:
                break
            if isinstance(data, dict) and data.get("kind") == "meta":
                return TranscriptMeta(
                    platform=_text_or(data.get("platform"), "console"),
                    workspace=_text_or(data.get("workspace"), "replay"),
                    timezone=_text_or(data.get("timezone"), None),
                    language=_text_or(data.get("language"), None),
                    until=_moment_or_none(data.get("until"), path),
                )
            break
    return TranscriptMeta()


def _text_or(value: Any, default: str | None) -> Any:
    """A meta setting: a non-empty string, else the default (a number or list there is no setting)."""
    return value if isinstance(value, str) and value else default


def _moment_or_none(value: Any, path: Path) -> datetime | None:
    """The meta line's `until`: a moment, or None (with one warning when it is there but no ISO-8601 time)."""
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        logger.warning("%s: the meta line's until is not an ISO-8601 time; ignored", path.name)
        return None


def read_events(path: Path, workspace: str, problems: Problems) -> Iterator[tuple[int, Event]]:
    """Yield (line number, event) for every usable line, in file order (channel lines left out)."""
    for number, item in read_transcript(path, workspace, problems):
        if isinstance(item, Event):
            yield number, item


def read_transcript(
    path: Path, workspace: str, problems: Problems
) -> Iterator[tuple[int, Event | ChannelLine]]:
    """Yield (line number, event or channel description) for every usable line, in file order."""
    with _open(path) as handle:
        for number, raw in _lines(handle, path, problems):
            if not raw.strip():
                continue
            try:
                data = _load(raw)
            except ValueError as exc:
                problems.skip(path, number, str(exc))
                continue
            if not isinstance(data, dict):
                problems.skip(path, number, "not a JSON object")
                continue
            kind = data.get("kind")
            if not isinstance(kind, str):
                problems.skip(path, number, "kind is missing or not a string")
                continue
            if kind not in KNOWN_FIELDS:
                problems.warn_once(path, number, "transcript", f"kind {kind}")
                continue
            if kind == "meta":
                continue
            if kind == "channel":
                line = _channel_line(data, path, number, problems)
                if line is not None:
                    yield number, line
                continue
            missing = [name for name in ("ts", *REQUIRED[kind]) if _absent(data, name)]
            if missing:
                problems.skip(path, number, f"{kind} line lacks {', '.join(missing)}")
                continue
            for name in data.keys() - KNOWN_FIELDS[kind]:
                problems.warn_once(path, number, kind, name)
            try:
                yield number, _event(kind, data, workspace)
            except ValueError as exc:
                problems.skip(path, number, f"{kind} line is malformed ({exc})")


def _channel_line(data: dict[str, Any], path: Path, number: int, problems: Problems) -> ChannelLine | None:
    """The channel a line describes; a line naming a channel but malformed otherwise keeps that channel private
    (reported), one without a usable id is skipped."""
    if _absent(data, "id"):
        problems.skip(path, number, "channel line lacks id")
        return None
    try:
        channel = _id(data, "id")
    except ValueError as exc:
        problems.skip(path, number, f"channel line is malformed ({exc})")
        return None
    for name in data.keys() - KNOWN_FIELDS["channel"]:
        problems.warn_once(path, number, "channel", name)
    try:
        if _absent(data, "ts"):
            raise ValueError("ts is missing")
        parse_timestamp(data["ts"])
        kind = data.get("type", "text")
        if kind not in CHANNEL_TYPES:
            raise ValueError(f"type must be one of {', '.join(CHANNEL_TYPES)}")
        language = _opt(data, "language")
        return ChannelLine(
            id=channel,
            name=_opt(data, "name"),
            private=_flag(data, "private") or kind in DIRECT_TYPES,
            type=kind,
            language=language.lower() if language else None,
        )
    except ValueError as exc:
        problems.skip(path, number, f"channel line is malformed ({exc})", "the channel is kept private")
        return ChannelLine(id=channel, private=True)


def _lines(handle: Any, path: Path, problems: Problems) -> Iterator[tuple[int, str]]:
    """The file's lines, numbered; a compressed file that breaks off ends the reading with one problem noted."""
    number = 0
    try:
        for number, raw in enumerate(handle, start=1):
            yield number, raw
    except (OSError, EOFError, zlib.error) as exc:
        problems.skip(path, number + 1, f"the compressed data is broken ({type(exc).__name__})", "rest of file skipped")


def _event(kind: str, d: dict[str, Any], workspace: str) -> Event:
    at = parse_timestamp(d["ts"])
    if kind == "message":
        text = _words(d, "text")
        return MessagePosted(
            workspace=workspace,
            at=at,
            channel=_id(d, "channel"),
            message_id=_id(d, "id"),
            user=_id(d, "user"),
            text=text,
            thread=_opt(d, "thread"),
            reply_to=_opt(d, "reply_to"),
            bot=_flag(d, "bot"),
            user_name=_opt(d, "user_name"),
            mentions=mentions(text),
        )
    if kind == "edit":
        return MessageEdited(workspace=workspace, at=at, message_id=_id(d, "id"), text=_words(d, "text"))
    if kind == "delete":
        return MessageDeleted(workspace=workspace, at=at, message_id=_id(d, "id"))
    if kind == "reaction":
        return ReactionAdded(
            workspace=workspace, at=at, message_id=_id(d, "message"), user=_id(d, "user"), emoji=_id(d, "emoji")
        )
    if kind == "command":
        return CommandInvoked(
            workspace=workspace, at=at, channel=_id(d, "channel"), user=_id(d, "user"),
            args=_STEWARD.sub("", _words(d, "text")).strip(), thread=_opt(d, "thread"),
        )
    if kind == "click":
        return InteractionClicked(
            workspace=workspace, at=at, channel=_id(d, "channel"), user=_id(d, "user"), action=_id(d, "action"),
            value=_id(d, "message"),
        )
    return MemberJoined(
        workspace=workspace, at=at, channel=_id(d, "channel"), user=_id(d, "user"), user_name=_opt(d, "user_name")
    )


def _absent(data: dict[str, Any], name: str) -> bool:
    """Required fields must be there; an empty text is a message all the same (a file share, an embed)."""
    value = data.get(name)
    return value is None or (value == "" and name != "text")


def _id(d: dict[str, Any], name: str) -> str:
    """An id or name: a string, or a whole number written without quotes."""
    value = d[name]
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{name} must be a string")


def _words(d: dict[str, Any], name: str) -> str:
    value = d[name]
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def _opt(d: dict[str, Any], name: str) -> str | None:
    return None if d.get(name) in (None, "") else _id(d, name)


def _flag(d: dict[str, Any], name: str) -> bool:
    value = d.get(name, False)
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


def _open(path: Path) -> Any:
    try:
        if path.suffix == ".gz":  # a compressed transcript is read as it is, without unpacking it first
            return gzip.open(path, "rt", encoding="utf-8", errors="replace")
        with path.open("rb") as probe:
            if b"\0" in probe.read(8192):
                raise TranscriptError(f"not a transcript (a binary file, not JSON lines): {path}")
        return path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError as exc:
        raise TranscriptError(f"transcript not found: {path}") from exc
    except IsADirectoryError as exc:
        raise TranscriptError(f"transcript is a directory, not a file: {path}") from exc
    except PermissionError as exc:
        raise TranscriptError(f"transcript cannot be read (permission denied): {path}") from exc


def channel_line(
    at: datetime, channel: str, *, name: str | None = None, private: bool = False, kind: str = "text"
) -> dict[str, Any]:
    """The transcript line describing a channel (written before the channel's first message or join)."""
    line: dict[str, Any] = {"kind": "channel", "ts": at.isoformat(), "id": channel}
    if name:
        line["name"] = name
    line["private"] = private or kind in DIRECT_TYPES
    line["type"] = kind if kind in CHANNEL_TYPES else "text"
    return line


def message_line(event: MessagePosted) -> dict[str, Any]:
    """The transcript line for a message event (used when writing transcripts)."""
    line: dict[str, Any] = {
        "kind": "message",
        "ts": event.at.isoformat(),
        "id": event.message_id,
        "channel": event.channel,
        "user": event.user,
        "text": event.text,
    }
    for name, value in (("user_name", event.user_name), ("thread", event.thread), ("reply_to", event.reply_to)):
        if value:
            line[name] = value
    if event.bot:
        line["bot"] = True
    return line
