"""Reading community transcripts (JSON lines, version 1: docs/transcripts.md) as a stream of events.

A broken line is reported with its line number and skipped; unknown kinds and fields are ignored with a
warning. Nothing is loaded whole: a transcript of any size streams through.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.events import Event, MemberJoined, MessageDeleted, MessageEdited, MessagePosted, ReactionAdded
from bot.core.markup import mentions

logger = logging.getLogger(__name__)

KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "meta": frozenset({"kind", "ts", "platform", "workspace", "timezone", "language"}),
    "message": frozenset({"kind", "ts", "id", "channel", "user", "text", "user_name", "thread", "reply_to", "bot"}),
    "edit": frozenset({"kind", "ts", "id", "text"}),
    "delete": frozenset({"kind", "ts", "id"}),
    "reaction": frozenset({"kind", "ts", "message", "user", "emoji"}),
    "join": frozenset({"kind", "ts", "channel", "user"}),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "meta": (),
    "message": ("id", "channel", "user", "text"),
    "edit": ("id", "text"),
    "delete": ("id",),
    "reaction": ("message", "user", "emoji"),
    "join": ("channel", "user"),
}


class TranscriptError(Exception):
    """The transcript as a whole cannot be read (missing file, no usable line)."""


@dataclass
class TranscriptMeta:
    platform: str = "console"
    workspace: str = "replay"
    timezone: str | None = None
    language: str | None = None


SKIPS_SHOWN = 3  # skipped lines named one by one; a broken file's thousand others are counted


@dataclass
class Problems:
    """Lines that were skipped or partly ignored, with their line numbers."""

    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _warned_fields: set[tuple[str, str]] = field(default_factory=set)

    def skip(self, path: Path, number: int, why: str) -> None:
        """Note a skipped line; the reader hears of them once, at the end (`summary`)."""
        message = f"{path.name}:{number}: {why}; line skipped"
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
            message = f"{path.name}:{number}: unknown {name!r} in a {kind!r} line ignored"
            self.warnings.append(message)
            logger.warning(message)


def parse_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("ts must be an ISO-8601 string")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_meta(path: Path) -> TranscriptMeta:
    """The optional first `meta` line (defaults when there is none)."""
    with _open(path) as handle:
        for raw in handle:
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError:
                break
            if isinstance(data, dict) and data.get("kind") == "meta":
                return TranscriptMeta(
                    platform=str(data.get("platform") or "console"),
                    workspace=str(data.get("workspace") or "replay"),
                    timezone=data.get("timezone"),
                    language=data.get("language"),
                )
            break
    return TranscriptMeta()


def read_events(path: Path, workspace: str, problems: Problems) -> Iterator[tuple[int, Event]]:
    """Yield (line number, event) for every usable line, in file order."""
    with _open(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.skip(path, number, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(data, dict):
                problems.skip(path, number, "not a JSON object")
                continue
            kind = data.get("kind")
            if kind not in KNOWN_FIELDS:
                problems.warn_once(path, number, "transcript", f"kind {kind}")
                continue
            if kind == "meta":
                continue
            missing = [name for name in ("ts", *REQUIRED[kind]) if _absent(data, name)]
            if missing:
                problems.skip(path, number, f"{kind} line lacks {', '.join(missing)}")
                continue
            for name in data.keys() - KNOWN_FIELDS[kind]:
                problems.warn_once(path, number, kind, name)
            try:
                yield number, _event(kind, data, workspace)
            except (ValueError, TypeError) as exc:
                problems.skip(path, number, f"{kind} line is malformed ({exc})")


def _event(kind: str, d: dict[str, Any], workspace: str) -> Event:
    at = parse_timestamp(d["ts"])
    if kind == "message":
        text = str(d["text"])
        return MessagePosted(
            workspace=workspace,
            at=at,
            channel=str(d["channel"]),
            message_id=str(d["id"]),
            user=str(d["user"]),
            text=text,
            thread=_opt(d.get("thread")),
            reply_to=_opt(d.get("reply_to")),
            bot=bool(d.get("bot", False)),
            user_name=_opt(d.get("user_name")),
            mentions=mentions(text),
        )
    if kind == "edit":
        return MessageEdited(workspace=workspace, at=at, message_id=str(d["id"]), text=str(d["text"]))
    if kind == "delete":
        return MessageDeleted(workspace=workspace, at=at, message_id=str(d["id"]))
    if kind == "reaction":
        return ReactionAdded(
            workspace=workspace, at=at, message_id=str(d["message"]), user=str(d["user"]), emoji=str(d["emoji"])
        )
    return MemberJoined(workspace=workspace, at=at, channel=str(d["channel"]), user=str(d["user"]))


def _absent(data: dict[str, Any], name: str) -> bool:
    """Required fields must be there; an empty text is a message all the same (a file share, an embed)."""
    value = data.get(name)
    return value is None or (value == "" and name != "text")


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


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
