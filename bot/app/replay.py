"""Replay: run the facilitation rules over a transcript on a simulated clock.

No platform and no sleeping: between two events, every piece of time-based work that falls due (flags,
escalations, nudges, digests) runs at its simulated moment, up to the last event's time (or the meta line's
`until`, when the history ends later than its last line). Nothing is delivered;
what Steward would have done goes into the report (docs/transcripts.md).
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app.engine import Engine, Observer
from bot.app.wiring import build_engine
from bot.core.actions import Action, action_from_dict, action_text
from bot.core.clock import SimulatedClock
from bot.core.events import Event, TimePassed
from bot.core.transcript import ChannelLine, Problems, TranscriptError, read_meta, read_transcript
from bot.i18n import LANGUAGES
from bot.settings import Settings
from bot.state import CommunityState
from storage.repository import T_OUTBOX, T_QUESTION

logger = logging.getLogger(__name__)

MAX_TICKS_BETWEEN_EVENTS = 10_000  # a guard against a rule whose next_due never moves forward


@dataclass
class ReplayResult:
    events: int = 0
    actions: int = 0
    problems: Problems = field(default_factory=Problems)
    report: dict[str, Any] = field(default_factory=dict)


async def replay(
    path: Path,
    settings: Settings,
    *,
    report_path: Path | None = None,
    on_actions: Observer | None = None,
    batch_size: int = 500,
    build_report_at_end: bool = True,
    backfill: bool = False,
) -> ReplayResult:
    """Replay `path` into the database in `settings.database_url`; raise TranscriptError if nothing is usable.

    `backfill`: as history is imported: the rules decide as they would live, and nothing is sent."""
    meta = read_meta(path)
    workspace = f"{meta.platform}:{meta.workspace}"
    clock = SimulatedClock(datetime.fromtimestamp(0).astimezone())
    engine = await build_engine(settings, clock, batch_size=batch_size, backfill=backfill)
    result = ReplayResult()
    if on_actions is not None:
        engine.observers.append(on_actions)
    engine.observers.append(lambda _event, actions, _ctx: _count(result, actions))
    try:
        ws = engine.state.workspace(workspace)
        ws.name = meta.workspace
        ws.timezone = meta.timezone or settings.steward_timezone
        ws.language = meta.language or settings.steward_language
        engine.state.touch_workspace(ws)
        playback = Playback(engine, clock)
        for _, item in read_transcript(path, workspace, result.problems):
            if isinstance(item, ChannelLine):
                describe_channel(
                    engine.state, workspace, item.id, name=item.name, private=item.private, kind=item.type,
                    language=item.language,
                )
                continue
            await playback.feed(item)
            result.events += 1
        if result.events == 0:
            raise TranscriptError(f"transcript has no usable lines: {path}")
        if meta.until is not None and meta.until > clock.now():
            # The history ends after its last line (a quiet weekend): what falls due by then still happens.
            await run_due_work(engine, until=meta.until)
            clock.set(meta.until)
        await engine.flush()
        if build_report_at_end or report_path is not None:
            result.report = await build_report(engine, workspace)
        if report_path is not None:
            write_report(report_path, result.report)
    finally:
        await engine.close()
    return result


def describe_channel(
    state: CommunityState,
    workspace: str,
    channel_id: str,
    *,
    name: str | None = None,
    private: bool = False,
    kind: str = "text",
    language: str | None = None,
) -> None:
    """What the platform says of a channel, kept as the live adapters keep it: a private channel's questions are
    never quoted outside it, its threads never become public lessons, its people never experts elsewhere."""
    channel = state.channel(workspace, channel_id)
    settings = channel.settings
    if language in LANGUAGES and settings.get("language") != language:
        settings = {**settings, "language": language}
    wanted = (name or channel.name, private, kind, settings)
    if (channel.name, channel.private, channel.kind, channel.settings) != wanted:
        channel.name, channel.private, channel.kind, channel.settings = wanted
        state.touch_channel(channel)


class Playback:
    """Feeds history into an engine on a simulated clock: the work due before an event, then the event.

    `sweep_every` looks for due work at most that often (as the live scheduler's sweep would); None: before every
    event, so time-based work happens at its exact moment.
    """

    def __init__(
        self,
        engine: Engine,
        clock: SimulatedClock,
        *,
        sweep_every: timedelta | None = None,
        resume_at: datetime | None = None,
    ) -> None:
        """`resume_at`: history played up to this moment before (a restart): work due after it still runs."""
        self.engine = engine
        self.clock = clock
        self.sweep_every = sweep_every
        self._swept: datetime | None = resume_at

    async def feed(self, event: Event) -> None:
        if self._swept is None:
            self._swept = event.at  # the first event: nothing can be due before history starts
        elif self.sweep_every is None or event.at - self._swept >= self.sweep_every:
            await run_due_work(self.engine, until=event.at)
            self._swept = event.at
        self.clock.set(event.at)
        await self.engine.process(event)


async def run_due_work(engine: Engine, *, until: datetime) -> None:
    """Fire TimePassed at each simulated moment some rule has work due, up to `until`."""
    previous: datetime | None = None
    for _ in range(MAX_TICKS_BETWEEN_EVENTS):
        due = engine.next_due(engine.clock.now())
        if due is None or due > until:
            return
        if previous is not None and due <= previous:
            due = previous + timedelta(seconds=1)  # never tick twice at the same moment
        previous = due
        engine.clock.set(due)  # type: ignore[attr-defined]
        await engine.process(TimePassed(workspace="", at=due))
    logger.warning("time-based work kept falling due before %s; moving on", until.isoformat())


def _count(result: ReplayResult, actions: Sequence[Action]) -> None:
    result.actions += len(actions)


def _report_action(action: Action, at: datetime) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": at.isoformat(), "type": action.type}
    for name in ("channel", "thread", "user", "message_id", "emoji"):
        value = getattr(action, name, None)
        if value is not None:
            entry[name] = value
    text = action_text(action)
    if text:
        entry["text"] = text
    return entry


async def build_report(engine: Engine, workspace: str) -> dict[str, Any]:
    """The report, read back from the database: memory stays flat however long the transcript was."""
    async with engine.db.connect() as conn:
        questions = [
            dict(r._mapping)
            for r in await conn.execute(
                select(T_QUESTION)
                .where(T_QUESTION.c.workspace_id == workspace, T_QUESTION.c.status != "not_a_question")
                .order_by(T_QUESTION.c.asked_at, T_QUESTION.c.id)
            )
        ]
        actions = [
            _report_action(action_from_dict(r.action), r.created_at)
            for r in await conn.execute(
                select(T_OUTBOX.c.action, T_OUTBOX.c.created_at)
                .where(T_OUTBOX.c.workspace_id == workspace)
                .order_by(T_OUTBOX.c.id)
            )
        ]
    waits = [(q["first_response_at"] - q["asked_at"]).total_seconds() for q in questions if q["first_response_at"]]
    lessons = engine.extras.get("report_lessons", lambda: [])()
    cocreation = engine.extras.get("report_cocreation")  # offers to record a decision, decisions, commitments
    cocreated: dict[str, Any] = await cocreation(workspace) if cocreation is not None else {}
    ideas = engine.extras.get("report_ideas")  # ideas proposed, with their status and support
    proposed: dict[str, Any] = await ideas(workspace) if ideas is not None else {}
    return {
        "questions": [
            {
                "id": q["id"],
                "channel": q["channel_id"],
                "asker": q["asker_id"],
                "asked_at": q["asked_at"].isoformat(),
                "answered": q["first_response_id"] is not None,
                "first_response_id": q["first_response_id"],
                "first_response_at": _iso(q["first_response_at"]),
                "resolved": q["resolved_at"] is not None,
                "flagged_at": _iso(q["flagged_at"]),
                "unanswered_confidence": q["unanswered_confidence"],
                "checked_with_asker_at": _iso(q["checked_at"]),
                "suggested_experts": list(q["suggested_experts"]),
                "nudged_experts": list(q["nudged_experts"]),
            }
            for q in questions
        ],
        "actions": actions,
        "lessons": lessons,
        "decision_offers": cocreated.get("decision_offers", []),
        "decisions": cocreated.get("decisions", []),
        "commitments": cocreated.get("commitments", []),
        "ideas": proposed.get("ideas", []),
        "metrics": {
            "questions": len(questions),
            "answered": sum(q["first_response_id"] is not None for q in questions),
            "resolved": sum(q["resolved_at"] is not None for q in questions),
            "flagged": sum(q["flagged_at"] is not None for q in questions),
            "escalated": sum(q["escalated_at"] is not None for q in questions),
            "median_time_to_first_response_s": round(statistics.median(waits)) if waits else None,
        },
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
