"""The monthly sponsor report through the real slack-bolt app and slack_sdk client against the local fake Slack:
on the first working day of the month it goes to SPONSOR_REPORT_CHANNEL as a summary with the HTML report
attached (files upload v2), once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.slack.test_slack_e2e import Harness, _harness

APRIL_FIRST = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)  # a Wednesday; the community's time zone is UTC


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(tmp_path, sponsor_report_channel="sponsors", web_min_group=1):
        yield harness


async def deliver_all(slack: Harness) -> None:
    while await slack.worker.run_once():
        pass


async def test_the_report_is_posted_with_the_html_attached_once(slack: Harness) -> None:
    question = await slack.message("UALICE", "How do I request access to the SAP sandbox system?")
    await slack.message("UBOB", "In the service portal, under SAP roles.", thread=question)
    await slack.message("UALICE", "Thanks, that worked!", thread=question)
    await slack.let_time_pass(timedelta(hours=2))  # past February's date (March 2, 10:00): nothing to report on
    fran = {"id": "UFRAN", "tz": "Europe/Berlin", "locale": "en-US", "is_admin": True}
    slack.fake.users["UFRAN"] = fran
    noted = await slack.command("UFRAN", "report note The sandbox queue is down to a day.", "note")
    assert noted["response_type"] == "ephemeral" and "Noted for the report on March 2026" in noted["text"]
    told = await slack.command("UFRAN", "report", "when")
    assert "March 2026" in told["text"] and "#sponsors" in told["text"] and "Apr 1, 2026, 10:00" in told["text"]

    await slack.let_time_pass(APRIL_FIRST - slack.clock.now() - timedelta(minutes=1))
    await deliver_all(slack)
    assert not slack.fake.files, "nothing before its time (February, before Steward arrived, is not posted)"

    await slack.let_time_pass(timedelta(minutes=2))
    await deliver_all(slack)
    [shared] = slack.fake.files
    assert shared["channel"] == "sponsors"
    assert shared["title"].startswith("Sponsor report:") and shared["title"].endswith("March 2026")
    assert "March 2026" in shared["initial_comment"] and "1 questions" in shared["initial_comment"]
    assert "The full report is attached." in shared["initial_comment"]
    html = shared["content"].decode("utf-8")
    assert html.startswith("<!doctype html>") and "<svg" in html  # the portal's charts, inline
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html), "self-contained: nothing fetched"
    assert "The sandbox queue is down to a day." in html
    [asked] = slack.fake.calls_to("files.getUploadURLExternal")
    assert asked["filename"] == "sponsor-report-2026-03.html" and int(asked["length"]) == len(shared["content"])

    await slack.let_time_pass(timedelta(days=3))  # more ticks, the same month: nothing more
    await deliver_all(slack)
    assert len(slack.fake.files) == 1 and len(slack.fake.calls_to("files.completeUploadExternal")) == 1
