"""The decisions log through the real slack-bolt app and slack_sdk client against the local fake Slack: a decision
recorded by slash command (Slack sends no thread with a command: the channel's latest thread is meant), its card
in the thread, an objection by button, and the commitment said in the same thread followed up by direct message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.cocreation_model import T_DECISION
from tests.e2e.slack.fake_slack import TEAM, trigger_id, wait_for
from tests.e2e.slack.test_slack_e2e import Harness, _harness


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(tmp_path):
        yield harness


async def press(slack: Harness, user: str, action: str, value: str, key: str, message_ts: str) -> dict[str, Any]:
    """A member clicks one of Steward's buttons; returns Steward's private answer (through the response URL)."""
    click = {
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM}, "api_app_id": "A1",
        "token": "t", "trigger_id": trigger_id(), "channel": {"id": "C1"},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": "C1"},
        "message": {"ts": message_ts, "text": "decision"}, "response_url": slack.fake.response_url(key),
        "actions": [{"type": "button", "action_id": action, "block_id": "b1", "value": value,
                     "action_ts": slack.ts()}],
    }
    envelope = await slack.fake.push("interactive", click)
    await wait_for(lambda: slack.fake.acked(envelope))
    return await wait_for(lambda: next((r for r in slack.fake.responses if r["key"] == key), None))


def buttons(post: dict[str, Any]) -> list[tuple[str, str]]:
    return [(b["action_id"], b["value"]) for block in post.get("blocks", []) if block["type"] == "actions"
            for b in block["elements"]]


async def test_a_decision_recorded_by_command_objected_to_by_button_and_a_commitment_followed_up(
    slack: Harness,
) -> None:
    root = await slack.message("UALICE", "Where do we hold the kickoff workshop: Teams or the big room?")
    await slack.message("UBOB", "We could use the big room, people like meeting in person.", thread=root)
    await slack.message("UCAROL", "Or Teams, because half the team is remote.", thread=root)
    await slack.message("UALICE", "Let's go with Teams then, so everyone can join.", thread=root)
    promise = await slack.message("UBOB", "I'll send the invitation by Wednesday.", thread=root)
    await until(slack, lambda: slack.fake.calls_to("reactions.add"))
    offer = [p for p in slack.fake.calls_to("chat.postMessage") if ("decision_record", root) in buttons(p)]
    assert len(offer) == 1 and offer[0]["thread_ts"] == root
    assert [(p["name"], p["timestamp"]) for p in slack.fake.calls_to("reactions.add")] == [("pushpin", promise)]

    reply = await slack.command("UALICE", "decide Kickoff on Teams", "decide")
    assert reply["response_type"] == "ephemeral" and "Recorded decision #1 “Kickoff on Teams”" in reply["text"]
    [card] = await until(slack, lambda: [p for p in slack.fake.calls_to("chat.postMessage")
                                         if ("decision_agree", "1") in buttons(p)])
    assert card["thread_ts"] == root and buttons(card) == [("decision_agree", "1"), ("decision_object", "1")]
    shown = str(card["blocks"])
    assert "Let's go with Teams then" in shown and "We could use the big room" in shown

    answer = await press(slack, "UBOB", "decision_object", "1", "object", "1700000000.000009")
    assert answer["response_type"] == "ephemeral" and "you object to decision #1" in answer["text"]
    [objected] = await until(slack, lambda: [p for p in slack.fake.calls_to("chat.postMessage")
                                             if "objected" in p.get("text", "")])
    assert objected["thread_ts"] == root and "<@UBOB>" in objected["text"]
    updated = await until(slack, lambda: [u for u in slack.fake.calls_to("chat.update")
                                          if "objected by" in str(u.get("blocks", ""))])
    assert not buttons(updated[-1]), "an objected decision takes no more votes"
    async with slack.engine.db.connect() as conn:
        status = (await conn.execute(select(T_DECISION.c.status))).scalars().all()
    assert status == ["objected"]

    # Bob promised the invitation by Wednesday (17:00 in his time zone, Berlin): asked two working hours before.
    await slack.let_time_pass(timedelta(days=2, hours=6))
    dm = [p for p in slack.fake.calls_to("chat.postMessage") if p["channel"] == "DBOB"]
    assert len(dm) == 1 and "I'll send the invitation by Wednesday" in dm[0]["text"]
    assert buttons(dm[0]) == [("commitment_done", "1"), ("commitment_help", "1"), ("commitment_later", "1")]
    done = await press(slack, "UBOB", "commitment_done", "1", "done", "1700000000.000010")
    assert "Marked as done" in done["text"]


async def until(slack: Harness, found: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Deliver what Steward decided until the fake Slack has seen what `found` looks for: the harness returns once
    a message is known to the engine, while its rules may still be deciding."""
    deadline = time.monotonic() + timeout
    while True:
        await slack.worker.run_once()
        value = found()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("Slack did not see it in time")
        await asyncio.sleep(0.01)
