"""Replay: run the facilitation rules over a transcript on a simulated clock.

No platform and no sleeping: between two events, every piece of time-based work that falls due (flags,
escalations, nudges, digests) runs at its simulated moment, up to the last event's time. Nothing is delivered;
what Steward would have done goes into the report (TRANSCRIPT.md, "Report").
"""

from __future__ import annotations

import json
import logging
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.actions import Action, action_text
from bot.app import build_engine
from bot.clock import SimulatedClock
from bot.engine import Engine, Observer
from bot.events import TimePassed
from bot.settings import Settings
from bot.transcript import Problems, TranscriptError, read_events, read_meta

logger = logging.getLogger(__name__)

MAX_TICKS_BETWEEN_EVENTS = 10_000  # a guard against a rule whose next_due never moves forward


@dataclass
class ReplayResult:
    events: int = 0
    problems: Problems = field(default_factory=Problems)
    actions: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


async def replay(
    path: Path,
    settings: Settings,
    *,
    report_path: Path | None = None,
    on_actions: Observer | None = None,
    batch_size: int = 500,
) -> ReplayResult:
    """Replay `path` into the database in `settings.database_url`; raise TranscriptError if nothing is usable."""
    meta = read_meta(path)
    workspace = f"{meta.platform}:{meta.workspace}"
    clock = SimulatedClock(datetime.fromtimestamp(0).astimezone())
    engine = await build_engine(settings, clock, batch_size=batch_size)
    result = ReplayResult()
    if on_actions is not None:
        engine.observers.append(on_actions)
    engine.observers.append(
        lambda event, actions, _ctx: result.actions.extend(_report_action(a, event.at) for a in actions)
    )
    try:
        ws = engine.state.workspace(workspace)
        ws.name = meta.workspace
        ws.timezone = meta.timezone or settings.steward_timezone
        ws.language = meta.language or settings.steward_language
        engine.state.touch_workspace(ws)
        last_at: datetime | None = None
        for _, event in read_events(path, workspace, result.problems):
            if last_at is not None:
                await run_due_work(engine, until=event.at)
            clock.set(event.at)
            await engine.process(event)
            result.events += 1
            last_at = event.at
        if result.events == 0:
            raise TranscriptError(f"transcript has no usable lines: {path}")
        await engine.flush()
        result.report = build_report(engine, result.actions)
        if report_path is not None:
            write_report(report_path, result.report)
    finally:
        await engine.db.dispose()
    return result


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


def build_report(engine: Engine, actions: list[dict[str, Any]]) -> dict[str, Any]:
    questions = sorted(engine.state.questions.values(), key=lambda q: (q.asked_at, q.id))
    listed = [q for q in questions if q.status != "not_a_question"]
    waits = [(q.first_response_at - q.asked_at).total_seconds() for q in listed if q.first_response_at is not None]
    lessons = engine.extras.get("report_lessons", lambda: [])()
    return {
        "questions": [
            {
                "id": q.id,
                "channel": q.channel_id,
                "asker": q.asker_id,
                "asked_at": q.asked_at.isoformat(),
                "answered": q.answered,
                "first_response_id": q.first_response_id,
                "first_response_at": _iso(q.first_response_at),
                "resolved": q.resolved,
                "flagged_at": _iso(q.flagged_at),
                "suggested_experts": list(q.suggested_experts),
                "nudged_experts": list(q.nudged_experts),
            }
            for q in listed
        ],
        "actions": actions,
        "lessons": lessons,
        "metrics": {
            "questions": len(listed),
            "answered": sum(q.answered for q in listed),
            "resolved": sum(q.resolved for q in listed),
            "flagged": sum(q.flagged_at is not None for q in listed),
            "escalated": sum(q.escalated_at is not None for q in listed),
            "median_time_to_first_response_s": round(statistics.median(waits)) if waits else None,
        },
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
