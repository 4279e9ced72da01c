"""Onboarding and recognition through the real slack-bolt app and slack_sdk client against the local fake Slack:
a `member_joined_channel` event leads to one welcome DM, and the Home tab shows what a member helped with."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.slack.fake_slack import TEAM, wait_for
from tests.e2e.slack.test_slack_e2e import WS, Harness, _harness


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(tmp_path):
        yield harness


async def test_a_join_leads_to_one_welcome_dm_with_the_channels_purpose(slack: Harness) -> None:
    slack.fake.users["UFRAN"] = {"id": "UFRAN", "tz": "Europe/Berlin", "locale": "en-US", "is_admin": True,
                                 "profile": {"display_name": "Fran"}}
    reply = await slack.command("UFRAN", "channel purpose Change agents help each other with the rollout.", "purpose")
    assert reply["response_type"] == "ephemeral" and "Newcomers to <#C1> will read" in reply["text"]

    joined = {"type": "member_joined_channel", "user": "UNINA", "channel": "C1", "channel_type": "C",
              "team": TEAM, "event_ts": slack.ts()}
    await slack.push_event(joined, "EvJoin")
    await wait_for(lambda: slack.engine.state.member(WS, "UNINA").welcomed_at is not None)
    await slack.push_event(joined, "EvJoin", retry=1)  # Slack delivers it again: still one welcome
    while await slack.worker.run_once():
        pass

    assert [p["users"] for p in slack.fake.calls_to("conversations.open")] == ["UNINA"]
    [welcome] = [p for p in slack.fake.calls_to("chat.postMessage") if p["channel"] == "DNINA"]
    assert "Welcome to <#C1>" in welcome["text"]
    assert "Change agents help each other with the rollout." in welcome["text"]
    assert "because you joined <#C1>" in welcome["text"]


async def test_the_home_tab_shows_what_a_member_helped_with(slack: Harness) -> None:
    question = await slack.message("UALICE", "How do I share a OneDrive folder with our supplier?")
    await slack.message("UBOB", "Share it from the web and choose 'specific people'.", thread=question)
    await slack.message("UALICE", "Thanks, that worked!", thread=question)

    await slack.push_event({"type": "app_home_opened", "user": "UBOB", "tab": "home", "event_ts": slack.ts()},
                           "EvHomeBob")
    [published] = await wait_for(lambda: slack.fake.calls_to("views.publish"))
    view = json.dumps(published["view"], ensure_ascii=False)
    assert published["user_id"] == "UBOB"
    assert "What you helped with" in view and "You answered one question first" in view
    assert "You were thanked once" in view and "<@UALICE> said thanks" in view
