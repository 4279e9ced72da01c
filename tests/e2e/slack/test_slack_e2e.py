"""The real slack-bolt app and slack_sdk client against the local fake Slack, Socket Mode and HTTP mode."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from adapters.slack.adapter import SlackAdapter
from bot.app.delivery import DeliveryWorker
from bot.app.engine import Engine
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.core.events import Event, MessagePosted, TimePassed
from bot.core.ports import AdapterStartError
from tests.conftest import make_settings
from tests.e2e.slack.fake_slack import TEAM, FakeSlack, trigger_id, wait_for

WS = f"slack:{TEAM}"
SECRET = "signing-secret"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning


@dataclass
class Harness:
    fake: FakeSlack
    engine: Engine
    clock: SimulatedClock
    adapter: SlackAdapter
    worker: DeliveryWorker
    handled: list[Event]

    def ts(self) -> str:
        return f"{self.clock.now().timestamp():.6f}"

    async def message(
        self,
        user: str,
        text: str,
        *,
        channel: str = "C1",
        thread: str | None = None,
        event_id: str | None = None,
        retry: int = 0,
    ) -> str:
        """A member posts; returns the message's ts once Steward has processed it."""
        ts = self.ts()
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "channel",
        }
        if thread:
            event["thread_ts"] = thread
        await self.push_event(event, event_id or f"Ev{ts}", retry=retry)
        await wait_for(lambda: (WS, ts) in self.engine.state.messages)
        self.clock.advance(timedelta(minutes=1))
        return ts

    async def push_event(self, event: dict[str, Any], event_id: str, *, retry: int = 0) -> str:
        payload = {
            "token": "t",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event": event,
            "event_id": event_id,
            "event_time": int(self.clock.now().timestamp()),
        }
        envelope = await self.fake.push("events_api", payload, retry_attempt=retry)
        await wait_for(lambda: self.fake.acked(envelope))
        return envelope

    async def command(self, user: str, text: str, key: str) -> dict[str, Any]:
        payload = {
            "token": "t",
            "team_id": TEAM,
            "channel_id": "C1",
            "user_id": user,
            "command": "/steward",
            "text": text,
            "response_url": self.fake.response_url(key),
            "trigger_id": trigger_id(),
        }
        envelope = await self.fake.push("slash_commands", payload)
        await wait_for(lambda: self.fake.acked(envelope))
        return await wait_for(lambda: next((r for r in self.fake.responses if r["key"] == key), None))

    async def let_time_pass(self, span: timedelta) -> None:
        """Run the timed work falling due within the span (as the scheduler would), then deliver."""
        until = self.clock.now() + span
        while (due := self.engine.next_due(until)) is not None and due <= until:
            self.clock.set(due)
            await self.engine.handle(TimePassed(workspace="", at=self.clock.now()))
        self.clock.set(until)
        await self.worker.run_once()


async def _harness(tmp_path: Path, **overrides: Any) -> AsyncIterator[Harness]:
    fake = FakeSlack()
    await fake.start()
    settings = make_settings(
        f"sqlite:///{tmp_path}/steward.db",
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-1-test",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        **overrides,
    )
    clock = SimulatedClock(START)
    engine = await build_engine(settings, clock)
    adapter = SlackAdapter(settings, engine, send_interval=0, http_host="127.0.0.1", connect_timeout=5)
    handled: list[Event] = []
    original = engine.handle

    async def spy(event: Event) -> Any:
        handled.append(event)
        return await original(event)

    engine.handle = spy  # type: ignore[method-assign]
    worker = DeliveryWorker(engine.db, [adapter.sender], clock)
    try:
        await adapter.start()
        yield Harness(fake, engine, clock, adapter, worker, handled)
    finally:
        await adapter.stop()
        await engine.db.dispose()
        await fake.close()


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(tmp_path):
        yield harness


@pytest.fixture
async def slack_http(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(tmp_path, slack_mode="http", slack_http_port=0):
        yield harness


async def test_unanswered_question_is_flagged_with_working_buttons_and_experts_get_a_dm(slack: Harness) -> None:
    earlier = await slack.message("UCAROL", "How do I get access to the SAP sandbox system?")
    await slack.message(
        "UBOB", "You request SAP sandbox access in the service portal, under SAP roles.", thread=earlier
    )
    await slack.message("UCAROL", "Thanks, that worked!", thread=earlier)
    slack.clock.set(START + timedelta(days=1))
    question = await slack.message("UALICE", "Does anyone know how to request access to the SAP sandbox?")
    assert slack.engine.state.question(WS, question) is not None

    await slack.let_time_pass(timedelta(hours=5))

    flag = next(p for p in slack.fake.calls_to("chat.postMessage") if p.get("thread_ts") == question)
    assert flag["channel"] == "C1" and "<@UALICE>" in flag["text"]
    buttons = next(b for b in flag["blocks"] if b["type"] == "actions")["elements"]
    assert {(b["action_id"], b["value"]) for b in buttons} == {
        ("claim", question),
        ("solved", question),
        ("not_a_question", question),
    }
    assert [p["users"] for p in slack.fake.calls_to("conversations.open")] == ["UBOB"]
    dm = next(p for p in slack.fake.calls_to("chat.postMessage") if p["channel"] == "DBOB")
    assert "<@UBOB>" in dm["text"]

    click = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": "UALICE", "team_id": TEAM},
        "api_app_id": "A1",
        "token": "t",
        "trigger_id": trigger_id(),
        "channel": {"id": "C1"},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C1"},
        "message": {"ts": "1700000000.000001", "text": flag["text"]},
        "response_url": slack.fake.response_url("click"),
        "actions": [
            {"type": "button", "action_id": "solved", "block_id": "b1", "value": question, "action_ts": slack.ts()}
        ],
    }
    envelope = await slack.fake.push("interactive", click)
    await wait_for(lambda: slack.fake.acked(envelope))
    state = slack.engine.state.question(WS, question)
    await wait_for(lambda: state is not None and state.resolved)


async def test_slash_command_help_and_unknown_reply_privately(slack: Harness) -> None:
    help_reply = await slack.command("UALICE", "help", "help")
    assert help_reply["response_type"] == "ephemeral"
    assert "/steward unanswered" in json.dumps(help_reply["blocks"])

    unknown = await slack.command("UALICE", "frobnicate", "unknown")
    assert "frobnicate" in unknown["text"] and unknown["response_type"] == "ephemeral"
    assert not slack.fake.calls_to("chat.postMessage"), "command replies are never posted into the channel"


async def test_member_time_zone_and_language_come_from_users_info(slack: Harness) -> None:
    slack.fake.users["UDORA"] = {
        "id": "UDORA",
        "tz": "America/New_York",
        "locale": "de-DE",
        "is_admin": True,
        "profile": {"display_name": "Dora"},
    }
    await slack.message("UDORA", "Hello everyone")
    await slack.message("UDORA", "Me again")
    member = slack.engine.state.members[(WS, "UDORA")]
    assert (member.timezone, member.language, member.name) == ("America/New_York", "de", "Dora")
    assert len([p for p in slack.fake.calls_to("users.info") if p["user"] == "UDORA"]) == 1


async def test_a_retried_event_is_processed_once(slack: Harness) -> None:
    await slack.message("UALICE", "Where do I find the rollout plan?", event_id="EvSAME")
    ts = slack.handled[-1].message_id  # type: ignore[attr-defined]
    event = {
        "type": "message",
        "channel": "C1",
        "user": "UALICE",
        "text": "Where do I find the rollout plan?",
        "ts": ts,
        "event_ts": ts,
    }
    await slack.push_event(event, "EvSAME", retry=1)
    await slack.message("UALICE", "marker")
    posted = [e for e in slack.handled if isinstance(e, MessagePosted)]
    assert [e.text for e in posted] == ["Where do I find the rollout plan?", "marker"]


async def test_a_429_delays_a_message_without_losing_it(slack: Harness) -> None:
    question = await slack.message("UALICE", "How do I reset the training environment?")
    slack.fake.rate_limited["chat.postMessage"] = 2  # the SDK retries once, then the worker waits Retry-After

    await slack.let_time_pass(timedelta(hours=5))
    assert len(slack.fake.calls_to("chat.postMessage")) == 2
    assert await slack.worker.run_once() == 0  # not due yet

    slack.clock.advance(timedelta(seconds=2))
    assert await slack.worker.run_once() == 1
    posts = slack.fake.calls_to("chat.postMessage")
    assert len(posts) == 3 and all(p.get("thread_ts") == question for p in posts)


async def test_save_as_lesson_shortcut_captures_and_pins_the_thread_and_app_home(slack: Harness) -> None:
    question = await slack.message("UALICE", "How do I reset the training environment for my team?")
    await slack.message("UBOB", "Open the admin console, choose Training, then Reset.", thread=question)
    await slack.message("UBOB", "It takes ten minutes; everyone has to log in again afterwards.", thread=question)
    shortcut = {
        "type": "message_action",
        "callback_id": "save_lesson",
        "team": {"id": TEAM},
        "user": {"id": "UALICE", "team_id": TEAM},
        "channel": {"id": "C1"},
        "token": "t",
        "trigger_id": trigger_id(),
        "message_ts": question,
        "message": {"ts": question, "text": "How do I reset the training environment for my team?"},
        "response_url": slack.fake.response_url("shortcut"),
    }
    envelope = await slack.fake.push("interactive", shortcut)
    await wait_for(lambda: slack.fake.acked(envelope))
    await wait_for(lambda: slack.fake.responses)
    assert slack.fake.responses[0]["key"] == "shortcut"
    while await slack.worker.run_once():
        pass
    pins = slack.fake.calls_to("pins.add")
    assert [(p["channel"], p["timestamp"]) for p in pins] == [("C1", question)]
    card = [p for p in slack.fake.calls_to("chat.postMessage") if p.get("thread_ts") == question]
    assert card and "UBOB" in json.dumps(card[0])

    await slack.push_event(
        {"type": "app_home_opened", "user": "UALICE", "tab": "home", "event_ts": slack.ts()}, "EvHome"
    )
    published = await wait_for(lambda: slack.fake.calls_to("views.publish"))
    assert published[0]["user_id"] == "UALICE" and "Your open questions" in json.dumps(published[0]["view"])


async def test_start_names_the_setting_to_fix(tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    settings = make_settings(f"sqlite:///{tmp_path}/s.db", slack_bot_token="xoxb-wrong", slack_api_url=fake.api_url)
    engine = await build_engine(settings, SimulatedClock(START))
    try:
        with pytest.raises(AdapterStartError, match="SLACK_BOT_TOKEN"):
            await SlackAdapter(settings, engine).start()
        fixed = settings.model_copy(
            update={"slack_bot_token": make_settings("x", slack_bot_token="xoxb-test").slack_bot_token}
        )
        with pytest.raises(AdapterStartError, match="SLACK_APP_TOKEN"):
            await SlackAdapter(fixed, engine).start()
    finally:
        await engine.db.dispose()
        await fake.close()


async def _post_signed(harness: Harness, body: str, *, timestamp: int | None = None, forge: bool = False) -> int:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    if forge:
        signature = signature[:-4] + "0000"
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": "application/json"}
    url = f"http://127.0.0.1:{harness.adapter.http_port}/slack/events"
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


def _event_body(harness: Harness, event_id: str, text: str) -> str:
    ts = harness.ts()
    event = {"type": "message", "channel": "C1", "user": "UALICE", "text": text, "ts": ts, "event_ts": ts}
    return json.dumps(
        {
            "token": "t",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event": event,
            "event_id": event_id,
            "event_time": 1,
        }
    )


async def test_http_mode_verifies_signatures(slack_http: Harness) -> None:
    harness = slack_http
    assert await _post_signed(harness, _event_body(harness, "Ev1", "forged"), forge=True) == 401
    old = int(time.time()) - 6 * 60
    assert await _post_signed(harness, _event_body(harness, "Ev2", "old"), timestamp=old) == 401
    assert await _post_signed(harness, _event_body(harness, "Ev3", "Is the town hall recorded?")) == 200
    await wait_for(lambda: any(isinstance(e, MessagePosted) for e in harness.handled))
    assert [e.text for e in harness.handled if isinstance(e, MessagePosted)] == ["Is the town hall recorded?"]
