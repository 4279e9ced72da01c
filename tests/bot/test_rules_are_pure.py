"""Rules decide; only the engine changes the working set. The sample community is replayed with every rule's
`handle` and every command watched: the working set must be the same after a rule's call as before it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.app.replay import replay
from bot.commands import CommandRouter
from bot.rules import RuleContext
from bot.settings import Settings
from bot.state import CommunityState
from facilitation_rules import default_rules

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-community.jsonl"


def fingerprint(state: CommunityState) -> tuple[str, ...]:
    """Everything a rule could change in the working set, except the text models (the engine feeds those)."""
    return (
        repr(sorted(state.workspaces.items())),
        repr(sorted(state.channels.items())),
        repr(sorted(state.members.items())),
        repr(sorted(state.questions.items())),
        repr(sorted(state.expert_topics.items())),
        repr(sorted(state.timers._heaps.items())),
        repr(sorted(state.digest_due.items())),
        repr((state.new_nudges, state.new_responses, state.answered_nudges, state.topic_changes)),
        repr(state.forget_requests),
    )


async def test_no_rule_changes_the_working_set_itself(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter[str] = Counter()
    changed: list[str] = []

    def watched(name: str, method: Any) -> Any:
        def call(self: Any, event: Any, ctx: RuleContext, *args: Any) -> Any:
            before = fingerprint(ctx.state)
            decision = method(self, event, ctx, *args)
            calls[name] += 1
            if fingerprint(ctx.state) != before:
                changed.append(f"{name} on {type(event).__name__}")
            return decision

        return call

    for rule in default_rules(settings):
        kind = type(rule)
        if "handle" in kind.__dict__:
            monkeypatch.setattr(kind, "handle", watched(kind.__name__, kind.__dict__["handle"]))
    monkeypatch.setattr(CommandRouter, "dispatch", watched("commands", CommandRouter.dispatch))

    result = await replay(SAMPLE, settings)

    assert changed == [], "rules changed the working set themselves"
    assert sum(calls.values()) > 1_000 and calls["QuestionLifecycle"] > 100, "the watch saw the sample's events"
    assert result.actions > 10, "and the rules decided things the engine carried out"
