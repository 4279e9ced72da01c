"""The sample community's answer key (examples/sample-answer-key.json, described in examples/README.md) as a
test: what the demo shows must agree with it.

Nothing the key calls "not a question" is flagged, escalated, nudged about or asked about; every question the
key calls unanswered is flagged; none it calls answered is; the stuck member is helped.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.app.replay import replay
from bot.core.actions import Action
from bot.runner import SAMPLE, AnswerKey, against_key, sample_settings
from bot.settings import Settings


def decided(settings: Settings) -> tuple[list[Action], dict[str, Any]]:
    """The sample replayed as the demo replays it (its facilitators known)."""
    actions: list[Action] = []
    result = asyncio.run(replay(SAMPLE, sample_settings(settings),
                                on_actions=lambda _event, acts, _ctx: actions.extend(acts)))
    return actions, result.report


def about(action: Action, message_id: str) -> bool:
    """Whether an action is Steward's flag, escalation, nudge, help or confirmation about that message."""
    parts = action.key.split(":")
    return parts[0] in {"flag", "escalate", "nudge", "confirm", "stuck"} and message_id in parts[1:]


def test_the_demo_agrees_with_the_sample_answer_key(settings: Settings) -> None:
    key = AnswerKey.load()
    actions, report = decided(settings)
    false_alarms = sorted({m for m in key.not_questions for a in actions if about(a, m)})
    assert false_alarms == [], "Steward acted on messages that are not questions"
    flagged = {a.key.split(":")[1] for a in actions if a.key.startswith("flag:")}
    assert set(key.unanswered) <= flagged, f"unanswered but not flagged: {sorted(set(key.unanswered) - flagged)}"
    assert flagged & set(key.answered) == set(), "an answered question was flagged"
    assert [a for a in actions if a.key.startswith(f"stuck:{key.stuck_member}:")], "the stuck member is helped"

    taken = {q["id"] for q in report["questions"]}
    assert taken & set(key.not_questions) == set(), "announcements about ideas and greetings are no questions"
    assert {"s252", "s253"} <= set(key.not_questions), "the messages about the ideas are in the key"
    assert [i["status"] for i in report["ideas"]] == ["accepted", "proposed"], "both ideas reported"

    lines = against_key(report, key)
    assert lines[-1].endswith("non-questions): 0"), lines
    assert any("5 of 5" in line for line in lines), lines
    assert any("precision 1.00, recall 0.88" in line for line in lines), lines
