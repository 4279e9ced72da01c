"""The sample community's answer key (examples/README.md) as a test: what the demo shows must agree with it.

Nothing the key calls "not a question" is flagged, escalated, nudged about or asked about; every question the
key calls unanswered is flagged; none it calls answered is; the stuck member is helped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app.replay import replay
from bot.core.actions import Action
from bot.settings import Settings

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample-community.jsonl"

GREETINGS = ["s1", "s2", "s31", "s32", "s136", "s138", "s190", "s191"]
ANNOUNCEMENTS = ["s12", "s18", "s42", "s57", "s58", "s62", "s134", "s155", "s207", "s233"]
JOKES = ["s50", "s69", "s124", "s157", "s158", "s188", "s234"]  # and rhetorical questions
REQUESTS_AND_UPDATES = ["s25", "s205", "s54", "s56", "s168"]
NOT_QUESTIONS = GREETINGS + ANNOUNCEMENTS + JOKES + REQUESTS_AND_UPDATES
UNANSWERED = ["s41", "s99", "s122", "s164", "s228"]
ANSWERED = [
    "s4", "s9", "s35", "s45", "s101", "s139", "s144", "s161", "s182", "s197", "s202", "s19", "s219", "s225",
    "s112", "s13", "s88", "s96", "s171", "s194", "s38", "s107", "s119", "s126", "s148", "s71", "s72", "s211",
    "s22", "s178", "s230", "s59",
]


def decided(settings: Settings) -> list[Action]:
    actions: list[Action] = []
    asyncio.run(replay(SAMPLE, settings, on_actions=lambda _event, acts, _ctx: actions.extend(acts)))
    return actions


def about(action: Action, message_id: str) -> bool:
    """Whether an action is Steward's flag, escalation, nudge, help or confirmation about that message."""
    parts = action.key.split(":")
    return parts[0] in {"flag", "escalate", "nudge", "confirm", "stuck"} and message_id in parts[1:]


def test_the_demo_agrees_with_the_sample_answer_key(settings: Settings) -> None:
    actions = decided(settings)
    false_alarms = sorted({m for m in NOT_QUESTIONS for a in actions if about(a, m)})
    assert false_alarms == [], "Steward acted on messages that are not questions"
    flagged = {a.key.split(":")[1] for a in actions if a.key.startswith("flag:")}
    assert set(UNANSWERED) <= flagged, f"unanswered but not flagged: {sorted(set(UNANSWERED) - flagged)}"
    assert flagged & set(ANSWERED) == set(), "an answered question was flagged"
    helped = [a for a in actions if a.key.startswith("stuck:U01KATRIN:")]
    assert helped, "the stuck member is offered help"
