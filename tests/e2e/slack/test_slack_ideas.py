"""Ideas through the real slack-bolt app and slack_sdk client against the local fake Slack: an idea proposed by
slash command, its Block Kit card in the channel, two votes by button and one by a 👍 reaction on the card, a
reply in its thread, and a status change by its author; the card edited in place (`chat.update`) each time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.ideas_model import T_IDEA, T_IDEA_VOTE
from tests.e2e.slack.test_slack_cocreation import buttons, press, until
from tests.e2e.slack.test_slack_e2e import Harness, _harness


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(tmp_path):
        yield harness


def card_updates(slack: Harness, ts: str) -> list[dict[str, Any]]:
    return [u for u in slack.fake.calls_to("chat.update") if u.get("ts") == ts]


async def test_an_idea_voted_for_by_button_and_reaction_and_moved_on_is_edited_in_place(slack: Harness) -> None:
    await slack.message("UALICE", "Good morning, change agents!")  # the channel is known to Steward
    reply = await slack.command("UALICE", "idea Book meeting rooms through a shared calendar", "idea")
    assert reply["response_type"] == "ephemeral" and "Your idea is posted as #1" in reply["text"]
    [card] = await until(slack, lambda: [p for p in slack.fake.calls_to("chat.postMessage")
                                         if ("idea_vote", "1") in buttons(p)])
    assert card["channel"] == "C1" and "thread_ts" not in card
    assert buttons(card) == [("idea_vote", "1"), ("idea_withdraw", "1"), ("idea_accept", "1"), ("idea_start", "1"),
                             ("idea_decline", "1")]
    shown = str(card["blocks"])
    assert "Book meeting rooms through a shared calendar" in shown and "<@UALICE>" in shown and "0 votes" in shown
    ts = next(m["ts"] for m in slack.fake.posted if m["text"] == card["text"])

    first = await press(slack, "UBOB", "idea_vote", "1", "bob-votes", ts)
    assert first["response_type"] == "ephemeral" and "you support idea #1" in first["text"]
    second = await press(slack, "UCAROL", "idea_vote", "1", "carol-votes", ts)
    assert "you support idea #1" in second["text"]
    slack.clock.advance(timedelta(minutes=1))  # a later click (the same click again is a redelivery)
    again = await press(slack, "UBOB", "idea_vote", "1", "bob-again", ts)
    assert "already" in again["text"]
    await until(slack, lambda: [u for u in card_updates(slack, ts) if "2 votes" in u.get("text", "")])

    await slack.push_event({"type": "reaction_added", "user": "UDAVE", "reaction": "+1::skin-tone-2",
                            "event_ts": slack.ts(), "item": {"type": "message", "channel": "C1", "ts": ts}},
                           "EvReact1")
    await until(slack, lambda: [u for u in card_updates(slack, ts) if "3 votes" in u.get("text", "")])
    await slack.message("UDAVE", "Yes please, the room list is always out of date.", thread=ts)
    await until(slack, lambda: [u for u in card_updates(slack, ts) if "one comment" in str(u.get("blocks", ""))])

    moved = await press(slack, "UALICE", "idea_accept", "1", "alice-accepts", ts)
    assert "Idea #1 is now accepted" in moved["text"]
    updates = await until(slack, lambda: [u for u in card_updates(slack, ts) if "accepted" in u.get("text", "")])
    assert updates[-1]["channel"] == "C1"
    assert buttons(updates[-1]) == [("idea_vote", "1"), ("idea_withdraw", "1"), ("idea_start", "1"),
                                    ("idea_done", "1"), ("idea_decline", "1")]
    assert "3 votes" in str(updates[-1]["blocks"])
    assert not [p for p in slack.fake.calls_to("chat.postMessage") if ("idea_vote", "1") in buttons(p)][1:], \
        "one card, edited in place"

    async with slack.engine.db.connect() as conn:
        voters = sorted((await conn.execute(select(T_IDEA_VOTE.c.member_id))).scalars())
        [status] = (await conn.execute(select(T_IDEA.c.status))).scalars().all()
    assert voters == ["UBOB", "UCAROL", "UDAVE"] and status == "accepted"
