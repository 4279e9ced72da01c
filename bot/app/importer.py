"""Importing history: platform exports -> events -> the engine in backfill mode, or -> a transcript.

An import fills the store as if Steward had watched from the start (question lifecycle, expertise, metrics)
without posting anything for the past: the engine runs with `backfill=True`, and time-based work falls due
between events on a simulated clock exactly as in a replay. Messages already stored are skipped, so importing
the same export twice changes nothing.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select

from bot.app.engine import Engine
from bot.app.replay import Playback, describe_channel
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.core.events import Event, MemberJoined, MessageDeleted, MessageEdited, MessagePosted, ReactionAdded
from bot.core.ports import ChannelInfo, Export, ExportError, ExportProblems, UserInfo
from bot.core.transcript import channel_line, message_line
from bot.settings import Settings
from storage.db import create_engine
from storage.migrate import upgrade
from storage.repository import T_MESSAGE

logger = logging.getLogger(__name__)

__all__ = ["ChannelInfo", "Export", "ExportError", "ExportProblems", "ImportResult", "UserInfo", "import_export"]

BATCH_SIZE = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Time-based work is looked for at most once a simulated minute, as the live scheduler's sweep would.
SWEEP_EVERY = timedelta(minutes=1)


# --- progress
class Progress(Protocol):
    def advance(self, events: int, messages: int) -> None: ...

    def close(self) -> None: ...


class LogProgress:
    """Plain periodic log lines, for when nobody watches a terminal."""

    def __init__(self, label: str, every_s: float = 10.0) -> None:
        self.label, self.every_s = label, every_s
        self.started = self._last = time.monotonic()
        self.events = self.messages = 0

    def advance(self, events: int, messages: int) -> None:
        self.events += events
        self.messages += messages
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            logger.info("%s: %s messages (%s/s)", self.label, f"{self.messages:,}", f"{self._rate(now):,.0f}")

    def _rate(self, now: float) -> float:
        return self.messages / max(now - self.started, 1e-6)

    def close(self) -> None:
        logger.info("%s: %s messages in total", self.label, f"{self.messages:,}")


class RichProgress:
    """A live bar with counts and rate on an interactive terminal."""

    def __init__(self, label: str) -> None:
        from rich.progress import Progress as Bar
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar = Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,.0f} messages"),
            TextColumn("{task.fields[rate]:,.0f}/s"),
            TimeElapsedColumn(),
            transient=False,
        )
        self._task = self._bar.add_task(label, total=None, rate=0.0)
        self._started = time.monotonic()
        self._messages = 0
        self._bar.start()

    def advance(self, events: int, messages: int) -> None:
        self._messages += messages
        rate = self._messages / max(time.monotonic() - self._started, 1e-6)
        self._bar.update(self._task, advance=messages, rate=rate)

    def close(self) -> None:
        self._bar.stop()


def progress_for(label: str, *, terminal: bool | None = None) -> Progress:
    """A bar on a terminal, log lines elsewhere (CI, cron, redirected output)."""
    interactive = sys.stderr.isatty() if terminal is None else terminal
    return RichProgress(label) if interactive else LogProgress(label)


# --- import
@dataclass
class ImportResult:
    workspace: str = ""
    events: int = 0
    messages: int = 0
    already_known: int = 0
    seconds: float = 0.0
    problems: ExportProblems = field(default_factory=ExportProblems)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


async def import_export(
    export: Export, settings: Settings, *, progress: Progress | None = None, batch_size: int = BATCH_SIZE
) -> ImportResult:
    """Backfill the database in `settings.database_url`; raise ExportError if nothing was usable."""
    workspace = f"{export.platform}:{export.workspace_id}"
    result = ImportResult(workspace=workspace, problems=export.problems)
    started = time.perf_counter()
    await upgrade(settings.database_url)
    watermark, known = await _stored_watermark(settings.database_url, workspace)
    clock = SimulatedClock(watermark or EPOCH)
    engine = await build_engine(settings, clock, batch_size=batch_size, backfill=True, migrate=False)
    try:
        _describe_community(engine, export, workspace, settings)
        playback = Playback(engine, clock, sweep_every=SWEEP_EVERY)
        for chunk in _chunks(export.events(), batch_size):
            events = await _drop_known(engine, workspace, chunk, watermark) if known else chunk
            result.already_known += len(chunk) - len(events)
            for event in events:
                await playback.feed(event)
                result.events += 1
                result.messages += isinstance(event, MessagePosted)
            if progress is not None:
                progress.advance(len(events), sum(isinstance(e, MessagePosted) for e in events))
        await engine.flush()
    finally:
        if progress is not None:
            progress.close()
        await engine.close()
    result.seconds = time.perf_counter() - started
    if result.events == 0 and result.already_known == 0:
        raise ExportError(f"nothing could be imported from {_export_path(export)}")
    return result


def _export_path(export: Export) -> str:
    return str(getattr(export, "path", export.workspace_name))


async def _stored_watermark(url: str, workspace: str) -> tuple[datetime | None, bool]:
    """The newest stored message of this workspace (None when there is none), and whether any exist."""
    db = create_engine(url)
    try:
        async with db.connect() as conn:
            newest = (
                await conn.execute(
                    select(func.max(T_MESSAGE.c.posted_at)).where(T_MESSAGE.c.workspace_id == workspace)
                )
            ).scalar()
    finally:
        await db.dispose()
    if isinstance(newest, str):
        newest = datetime.fromisoformat(newest)
    if isinstance(newest, datetime) and newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return newest, newest is not None


def _describe_community(engine: Engine, export: Export, workspace: str, settings: Settings) -> None:
    """Workspace, channel and member details events do not carry (names, privacy, time zones)."""
    state = engine.state
    ws = state.workspace(workspace)
    ws.name = export.workspace_name
    ws.timezone = export.timezone or ws.timezone or settings.steward_timezone
    if not ws.language:
        ws.language = settings.steward_language
    state.touch_workspace(ws)
    for info in export.channels.values():
        describe_channel(state, workspace, info.id, name=info.name, private=info.private, kind=info.kind)
    for user in export.users.values():
        member = state.member(workspace, user.id)
        wanted = (user.name or member.name, user.timezone or member.timezone, user.bot or member.is_bot)
        if (member.name, member.timezone, member.is_bot) != wanted:
            member.name, member.timezone, member.is_bot = wanted
            state.touch_member(member)


async def _drop_known(
    engine: Engine, workspace: str, events: list[Event], watermark: datetime | None
) -> list[Event]:
    """The events the database does not hold yet (a re-import, or an export overlapping an earlier one)."""
    ids = sorted({mid for e in events if (mid := _message_of(e)) is not None})
    known: set[str] = set()
    async with engine.db.connect() as conn:
        for start in range(0, len(ids), 500):
            rows = await conn.execute(
                select(T_MESSAGE.c.id).where(
                    T_MESSAGE.c.workspace_id == workspace, T_MESSAGE.c.id.in_(ids[start : start + 500])
                )
            )
            known.update(r.id for r in rows)
    return [
        e
        for e in events
        if _message_of(e) not in known
        and not (isinstance(e, MemberJoined) and watermark is not None and e.at <= watermark)
    ]


def _chunks(events: Iterator[Event], size: int) -> Iterator[list[Event]]:
    chunk: list[Event] = []
    for event in events:
        chunk.append(event)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _message_of(event: Event) -> str | None:
    if isinstance(event, MessagePosted | MessageEdited | MessageDeleted | ReactionAdded):
        return event.message_id
    return None


# --- transcript
def write_transcript(export: Export, out: Path, *, progress: Progress | None = None) -> ImportResult:
    """Write `export` as a transcript (docs/transcripts.md); channels are named when their names are unique, and
    each is described (private or not) by a `channel` line before its first message or join."""
    result = ImportResult(workspace=f"{export.platform}:{export.workspace_id}", problems=export.problems)
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    names = _channel_names(export.channels)
    described: set[str] = set()
    try:
        with out.open("w", encoding="utf-8") as handle:
            first = True
            for event in export.events():
                if first:
                    handle.write(_dump(_meta_line(export, event.at)))
                    first = False
                if isinstance(event, MessagePosted | MemberJoined) and event.channel not in described:
                    described.add(event.channel)
                    handle.write(_dump(_channel_line(export.channels, event.channel, names, event.at)))
                handle.write(_dump(event_line(event, names)))
                posted = isinstance(event, MessagePosted)
                result.events += 1
                result.messages += posted
                if progress is not None:
                    progress.advance(1, int(posted))
    finally:
        if progress is not None:
            progress.close()
    result.seconds = time.perf_counter() - started
    if result.events == 0:
        raise ExportError(f"nothing could be imported from {_export_path(export)}")
    return result


def _channel_names(channels: dict[str, ChannelInfo]) -> dict[str, str]:
    """Channel id -> the name to write, keeping ids where two channels share a name."""
    counts: dict[str, int] = {}
    for info in channels.values():
        counts[info.name] = counts.get(info.name, 0) + 1
    return {cid: info.name for cid, info in channels.items() if info.name and counts[info.name] == 1}


def _channel_line(
    channels: dict[str, ChannelInfo], channel: str, names: dict[str, str], at: datetime
) -> dict[str, Any]:
    """The channel as the transcript's lines name it, with what the export knows of it."""
    info = channels.get(channel)
    if info is None:
        return channel_line(at, names.get(channel, channel))
    return channel_line(at, names.get(channel, channel), name=info.name, private=info.private, kind=info.kind)


def _meta_line(export: Export, at: datetime) -> dict[str, Any]:
    line: dict[str, Any] = {
        "kind": "meta",
        "ts": at.isoformat(),
        "platform": export.platform,
        "workspace": export.workspace_id,
    }
    if export.timezone:
        line["timezone"] = export.timezone
    return line


def event_line(event: Event, channel_names: dict[str, str] | None = None) -> dict[str, Any]:
    """The transcript line for an imported event."""
    names = channel_names or {}
    ts = event.at.isoformat()
    if isinstance(event, MessagePosted):
        line = message_line(event)
        line["channel"] = names.get(event.channel, event.channel)
        return line
    if isinstance(event, MessageEdited):
        return {"kind": "edit", "ts": ts, "id": event.message_id, "text": event.text}
    if isinstance(event, MessageDeleted):
        return {"kind": "delete", "ts": ts, "id": event.message_id}
    if isinstance(event, ReactionAdded):
        return {
            "kind": "reaction",
            "ts": ts,
            "message": event.message_id,
            "user": event.user,
            "emoji": event.emoji,
        }
    if isinstance(event, MemberJoined):
        return {
            "kind": "join",
            "ts": ts,
            "channel": names.get(event.channel, event.channel),
            "user": event.user,
        }
    raise ValueError(f"{type(event).__name__} has no transcript line")


def _dump(line: dict[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False) + "\n"
