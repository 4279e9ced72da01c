"""A learning path through the real slack-bolt app and slack_sdk client against the local fake Slack: a facilitator
arranges two lessons into a path, a member starts it, the first lesson arrives by direct message with its buttons,
and "Done" brings the next one at the member's pace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.slack.test_slack_cocreation import buttons, press, until
from tests.e2e.slack.test_slack_e2e import Harness, _harness


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(tmp_path, steward_timezone="Europe/Berlin"):
        yield harness


async def test_path_start_sends_the_lesson_by_dm_and_done_brings_the_next(slack: Harness) -> None:
    slack.fake.users["UADMIN"] = {"id": "UADMIN", "name": "admin", "tz": "Europe/Berlin", "locale": "en-US",
                                  "is_admin": True}
    for question, answer in (
        ("How do I book the big meeting room for a workshop?", "Use the room finder in Outlook, then confirm."),
        ("Where do I find the rollout plan for the new CRM?", "It is in the wiki, under Projects and then CRM."),
    ):
        root = await slack.message("UALICE", question)
        await slack.message("UBOB", answer, thread=root)
        saved = await slack.command("UADMIN", "lesson", f"lesson-{root}")
        assert "Saved as lesson #" in saved["text"]
    made = await slack.command("UADMIN", "path new crm Get going with the CRM rollout", "new")
    assert 'The learning path "crm" is ready' in made["text"]
    for n in (2, 1):
        added = await slack.command("UADMIN", f"path add crm {n}", f"add-{n}")
        assert f"Lesson #{n} is now number" in added["text"]

    started = await slack.command("UCAROL", "path start crm", "start")
    assert started["response_type"] == "ephemeral" and "2 lessons, one lesson every 2 working days" in started["text"]
    await slack.let_time_pass(timedelta(minutes=1))
    [first] = await until(slack, lambda: [p for p in slack.fake.calls_to("chat.postMessage")
                                          if p["channel"] == "DCAROL"])
    assert "lesson 1 of 2" in first["text"] and "rollout plan" in str(first["blocks"]), "lesson #2 first"
    assert buttons(first) == [("path_done", "1:2:0"), ("path_later", "1:2:0")]

    done = await press(slack, "UCAROL", "path_done", "1:2:0", "done", "1700000000.000011")
    assert done["response_type"] == "ephemeral" and "1 of 2 done" in done["text"]
    await slack.let_time_pass(timedelta(days=1))
    assert len([p for p in slack.fake.calls_to("chat.postMessage") if p["channel"] == "DCAROL"]) == 1, "not yet"
    await slack.let_time_pass(timedelta(days=2))
    dms = [p for p in slack.fake.calls_to("chat.postMessage") if p["channel"] == "DCAROL"]
    assert len(dms) == 2 and "lesson 2 of 2" in dms[1]["text"] and "meeting room" in str(dms[1]["blocks"])
    assert buttons(dms[1]) == [("path_done", "1:1:1"), ("path_later", "1:1:1")]
