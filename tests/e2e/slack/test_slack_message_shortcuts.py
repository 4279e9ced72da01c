"""The "Record decision" and "Make an idea" message shortcuts through the real slack-bolt app and slack_sdk client
against the local fake Slack: a decision recorded from a reply in a thread (its consent card in that thread), an
idea card made from a member's message, and both on a private channel's message staying in that channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.cocreation_model import T_DECISION
from storage.ideas_model import T_IDEA
from tests.e2e.slack.fake_slack import TEAM, trigger_id, wait_for
from tests.e2e.slack.test_slack_cocreation import buttons, until
from tests.e2e.slack.test_slack_e2e import WS, Harness, _harness


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(tmp_path):
        yield harness


async def on_message(
    slack: Harness, callback_id: str, user: str, message: dict[str, Any], key: str, *, channel: str = "C1"
) -> dict[str, Any]:
    """A member picks a message shortcut; returns Steward's private answer (through the response URL)."""
    payload = {
        "type": "message_action", "callback_id": callback_id, "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM}, "channel": {"id": channel}, "token": "t", "trigger_id": trigger_id(),
        "message_ts": message["ts"], "message": message, "response_url": slack.fake.response_url(key),
    }
    envelope = await slack.fake.push("interactive", payload)
    await wait_for(lambda: slack.fake.acked(envelope))
    return await wait_for(lambda: next((r for r in slack.fake.responses if r["key"] == key), None))


async def in_private_channel(slack: Harness, user: str, text: str) -> str:
    """A member posts in the private channel G1 (Slack says `channel_type: group`)."""
    ts = slack.ts()
    event = {"type": "message", "channel": "G1", "user": user, "text": text, "ts": ts, "event_ts": ts,
             "channel_type": "group"}
    await slack.push_event(event, f"Ev{ts}")
    await wait_for(lambda: (WS, ts) in slack.engine.state.messages)
    return ts


async def test_record_decision_on_a_reply_records_the_threads_decision_and_posts_its_consent_card(
    slack: Harness,
) -> None:
    root = await slack.message("UALICE", "Where do we hold the kickoff workshop: Teams or the big room?")
    await slack.message("UBOB", "We could use the big room, people like meeting in person.", thread=root)
    await slack.message("UCAROL", "Or Teams, because half the team is remote.", thread=root)
    said = "Let's go with Teams then, so everyone can join."
    reply = await slack.message("UALICE", said, thread=root)

    answer = await on_message(slack, "record_decision", "UBOB", {"ts": reply, "thread_ts": root, "text": said},
                              "decide")
    assert answer["response_type"] == "ephemeral" and "Recorded decision #1 “Let's go with Teams”" in answer["text"]
    [card] = await until(slack, lambda: [p for p in slack.fake.calls_to("chat.postMessage")
                                         if ("decision_agree", "1") in buttons(p)])
    assert card["channel"] == "C1" and card["thread_ts"] == root
    assert buttons(card) == [("decision_agree", "1"), ("decision_object", "1")]
    shown = str(card["blocks"])
    assert "Let's go with Teams" in shown and "Where do we hold the kickoff workshop" in shown
    async with slack.engine.db.connect() as conn:
        [(thread, recorded_by, private)] = (await conn.execute(
            select(T_DECISION.c.thread_id, T_DECISION.c.recorded_by, T_DECISION.c.private))).all()
    assert (thread, recorded_by, private) == (root, "UBOB", False)


async def test_make_an_idea_posts_the_messages_words_as_an_idea_card_in_its_channel(slack: Harness) -> None:
    said = "We could book meeting rooms through a shared calendar."
    ts = await slack.message("UALICE", said)
    answer = await on_message(slack, "make_idea", "UBOB", {"ts": ts, "text": said}, "idea")
    assert answer["response_type"] == "ephemeral" and "Your idea is posted as #1" in answer["text"]
    [card] = await until(slack, lambda: [p for p in slack.fake.calls_to("chat.postMessage")
                                         if ("idea_vote", "1") in buttons(p)])
    assert card["channel"] == "C1" and "thread_ts" not in card and said in str(card["blocks"])
    async with slack.engine.db.connect() as conn:
        [(text, author, private)] = (await conn.execute(
            select(T_IDEA.c.text, T_IDEA.c.author_id, T_IDEA.c.private))).all()
    assert (text, author, private) == (said, "UBOB", False), "the member who made it an idea raised it"


async def test_shortcuts_on_a_private_channels_message_keep_the_decision_and_idea_in_that_channel(
    slack: Harness,
) -> None:
    await slack.message("UALICE", "Good morning, change agents!")  # the public channel C1 is known too
    said = "We decided to move the budget review to Thursday, because finance needs Wednesday."
    ts = await in_private_channel(slack, "UALICE", said)
    decided = await on_message(slack, "record_decision", "UALICE", {"ts": ts, "text": said}, "g-decide",
                               channel="G1")
    assert "Recorded decision #1" in decided["text"]
    made = await on_message(slack, "make_idea", "UALICE", {"ts": ts, "text": said}, "g-idea", channel="G1")
    assert "Your idea is posted as #1" in made["text"]
    await until(slack, lambda: [p for p in slack.fake.calls_to("chat.postMessage") if ("idea_vote", "1") in buttons(p)])
    cards = [p for p in slack.fake.calls_to("chat.postMessage") if buttons(p)]
    assert cards and all(p["channel"] == "G1" for p in cards)
    async with slack.engine.db.connect() as conn:
        decisions = (await conn.execute(select(T_DECISION.c.channel_id, T_DECISION.c.private))).all()
        ideas = (await conn.execute(select(T_IDEA.c.channel_id, T_IDEA.c.private))).all()
    assert [tuple(r) for r in decisions] == [("G1", True)] and [tuple(r) for r in ideas] == [("G1", True)]

    listed = await slack.command("UBOB", "decisions budget", "public-decisions")  # asked in the public C1
    assert "No decision matches" in listed["text"] and "budget review" not in str(listed)
    open_ideas = await slack.command("UBOB", "ideas", "public-ideas")
    assert "There are no open ideas yet" in open_ideas["text"] and "budget review" not in str(open_ideas)
