"""Slack failing, and Steward coming through: the real slack-bolt app and slack_sdk client against the fake Slack.

429 storms, 5xx bursts, answers that come too late, Socket Mode connections closed, cut or moved, a revoked
token, and Steward removed from a channel. Whatever the fault: nothing is lost while Slack recovers in time,
nothing is posted twice, retries are bounded and spaced, each fault is one log line without a traceback, and the
outbox drains afterwards.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.slack.adapter import SlackAdapter
from bot.app.delivery import DeliveryWorker
from bot.app.engine import Engine
from bot.app.wiring import build_engine
from bot.core.actions import Action, Button, PinMessage, PostMessage
from bot.core.clock import SimulatedClock
from bot.core.events import Event, MessagePosted
from bot.i18n import translate
from storage.repository import T_OUTBOX, unreachable_channels
from tests.conftest import make_settings
from tests.e2e.slack.fake_slack import TEAM, FakeSlack, trigger_id, wait_for

WS = f"slack:{TEAM}"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
OURS = ("bot", "adapters", "storage", "slack_bolt", "slack_sdk")  # loggers whose records must carry no traceback


@dataclass
class Slack:
    fake: FakeSlack
    engine: Engine
    clock: SimulatedClock
    adapter: SlackAdapter
    worker: DeliveryWorker
    handled: list[Event]
    call_times: list[tuple[str, datetime]] = field(default_factory=list)  # (method, simulated time) of each call

    async def queue(self, *actions: Action) -> None:
        """Actions decided now, into the outbox (as rules' decisions are)."""
        self.engine._enqueue(actions, self.clock.now())
        await self.engine.flush()

    async def rows(self) -> dict[str, dict[str, Any]]:
        async with self.engine.db.connect() as conn:
            result = await conn.execute(select(T_OUTBOX).order_by(T_OUTBOX.c.id))
            return {r.key: dict(r._mapping) for r in result}

    async def drain(self, rounds: int = 50) -> int:
        """Deliver until nothing is pending, moving the clock to each next due row; returns the rounds taken."""
        for done in range(1, rounds + 1):
            await self.worker.run_once()
            pending = [r for r in (await self.rows()).values() if r["status"] in {"pending", "sending"}]
            if not pending:
                return done
            self.clock.set(max(self.clock.now(), min(r["due_at"] for r in pending)))
        raise AssertionError(f"the outbox did not drain in {rounds} rounds")

    def posts_of(self, key: str) -> list[dict[str, Any]]:
        """The messages Slack holds for the action with this key (from the metadata Steward posts with)."""
        return [m for m in self.fake.posted if (m.get("metadata") or {}).get("event_payload", {}).get("key") == key]

    async def event(self, user: str, text: str, event_id: str, *, ts: str | None = None, retry: int = 0) -> str:
        ts = ts or f"{self.clock.now().timestamp():.6f}"
        event = {"type": "message", "channel": "C1", "user": user, "text": text, "ts": ts, "event_ts": ts,
                 "channel_type": "channel"}
        payload = {"token": "t", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback", "event": event,
                   "event_id": event_id, "event_time": int(self.clock.now().timestamp())}
        envelope = await self.fake.push("events_api", payload, retry_attempt=retry)
        await wait_for(lambda: self.fake.acked(envelope))
        await wait_for(lambda: (WS, ts) in self.engine.state.messages)
        self.clock.advance(timedelta(minutes=1))
        return ts


async def _slack(tmp_path: Path, **adapter: Any) -> AsyncIterator[Slack]:
    fake = FakeSlack()
    await fake.start()
    settings = make_settings(
        f"sqlite:///{tmp_path}/steward.db",
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-1-test",
        slack_api_url=fake.api_url,
    )
    clock = SimulatedClock(START)
    engine = await build_engine(settings, clock)
    handled: list[Event] = []
    engine.observers.append(lambda event, actions, ctx: handled.append(event))
    slack_adapter = SlackAdapter(settings, engine, send_interval=0, connect_timeout=5, **adapter)
    worker = DeliveryWorker(engine.db, [slack_adapter.sender], clock, max_attempts=6, base_backoff=2.0)
    harness = Slack(fake, engine, clock, slack_adapter, worker, handled)

    async def note(method: str, params: dict[str, Any]) -> None:
        harness.call_times.append((method, clock.now()))

    fake.on_call = note
    try:
        await slack_adapter.start()
        yield harness
    finally:
        await slack_adapter.stop()
        await engine.db.dispose()
        await fake.close()


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Slack]:
    """The workspace as Steward runs it, except that the SDK does not wait out 429s itself (no real sleeps)."""
    async for harness in _slack(tmp_path, rate_limit_retries=0, ping_interval=0.3):
        yield harness


def post(key: str, channel: str = "C1", **extra: Any) -> PostMessage:
    return PostMessage(key=key, workspace=WS, channel=channel, text=f"Message {key}", **extra)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info and r.name.startswith(OURS)]


def delivery_lines(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.app.delivery" and r.levelno >= level]


# --- 429 storms ---------------------------------------------------------------------------------------------
async def test_a_429_storm_holds_the_workspace_back_and_posts_everything_once(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await slack.queue(post("a", "C1"), post("b", "C2"), post("c", "C3"))
    slack.fake.rate_limited["chat.postMessage"] = 5
    slack.fake.retry_after = 7

    await slack.worker.run_once()
    assert len(slack.fake.calls_to("chat.postMessage")) == 1, "after one 429 the other rows wait without a call"
    assert {r["due_at"] for r in (await slack.rows()).values()} == {START + timedelta(seconds=7)}

    await slack.drain()
    assert all(len(slack.posts_of(key)) == 1 for key in "abc"), "every message once"
    assert len(slack.fake.calls_to("chat.postMessage")) == 5 + 3, "each 429 cost one call, each message one more"
    times = [at for method, at in slack.call_times if method == "chat.postMessage"]
    assert all(later - earlier >= timedelta(seconds=7) for earlier, later in itertools.pairwise(times[:6]))
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in (await slack.rows()).values())
    lines = delivery_lines(caplog)
    assert len(lines) == 5 and all("rate limited (chat.postMessage: HTTP 429)" in line for line in lines)
    assert not tracebacks(caplog)


async def test_the_sdk_waits_out_a_short_429_and_the_outbox_the_rest(tmp_path: Path) -> None:
    """As Steward runs: slack_sdk retries one 429 after Retry-After itself; a longer storm goes back to the outbox."""
    async for slack in _slack(tmp_path):
        await slack.queue(post("a"))
        slack.fake.rate_limited["chat.postMessage"] = 3
        slack.fake.retry_after = 1
        await slack.worker.run_once()
        assert len(slack.fake.calls_to("chat.postMessage")) == 2 and not slack.fake.posted
        await slack.drain()
        assert len(slack.posts_of("a")) == 1 and len(slack.fake.calls_to("chat.postMessage")) == 4


async def test_the_sdk_leaves_a_long_retry_after_to_the_outbox_instead_of_sleeping_through_it(tmp_path: Path) -> None:
    async for slack in _slack(tmp_path):
        await slack.queue(post("a"))
        slack.fake.rate_limited["chat.postMessage"] = 1
        slack.fake.retry_after = 30
        started = time.monotonic()
        await slack.worker.run_once()
        assert time.monotonic() - started < 5, "no worker sleeps 30 s inside a call"
        [row] = (await slack.rows()).values()
        assert row["due_at"] == START + timedelta(seconds=30) and len(slack.fake.calls_to("chat.postMessage")) == 1
        await slack.drain()
        assert len(slack.posts_of("a")) == 1


async def test_an_absurd_retry_after_is_bounded(slack: Slack) -> None:
    await slack.queue(post("a"))
    slack.fake.rate_limited["chat.postMessage"] = 1
    slack.fake.retry_after = 86_400
    await slack.worker.run_once()
    [row] = (await slack.rows()).values()
    assert row["status"] == "pending" and row["due_at"] == START + timedelta(seconds=slack.worker.max_retry_after)
    await slack.drain()
    assert len(slack.posts_of("a")) == 1


async def test_rate_limited_for_a_day_the_row_is_given_up_loudly(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    await slack.queue(post("a"))
    slack.fake.rate_limited["chat.postMessage"] = 10_000
    slack.fake.retry_after = 3600
    await slack.drain(rounds=30)
    [row] = (await slack.rows()).values()
    assert row["status"] == "failed" and not slack.fake.posted
    assert len(slack.fake.calls_to("chat.postMessage")) == 25, "hourly, as Retry-After says, for a day"
    assert any("giving up" in line for line in delivery_lines(caplog, logging.ERROR))


# --- 5xx bursts -----------------------------------------------------------------------------------------------
async def test_a_burst_of_server_errors_is_retried_with_growing_backoff_then_posted_once(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    await slack.queue(post("a"))
    slack.fake.server_errors["chat.postMessage"] = 4
    await slack.drain()
    assert len(slack.posts_of("a")) == 1 and len(slack.fake.calls_to("chat.postMessage")) == 5
    times = [at for method, at in slack.call_times if method == "chat.postMessage"]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    assert gaps == sorted(gaps) and gaps[0] >= 2 and gaps[-1] <= slack.worker.max_backoff * 1.25
    [row] = (await slack.rows()).values()
    assert row["status"] == "sent" and row["attempts"] == 5
    lines = delivery_lines(caplog)
    assert len(lines) == 4 and all("chat.postMessage: unknown_error (HTTP 503)" in line for line in lines)
    assert all("\n" not in line for line in lines)
    assert not tracebacks(caplog)


async def test_an_outage_longer_than_the_retries_fails_the_row_after_max_attempts(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    await slack.queue(post("a"))
    slack.fake.server_errors["chat.postMessage"] = 1_000
    await slack.drain()
    [row] = (await slack.rows()).values()
    assert row["status"] == "failed" and row["attempts"] == slack.worker.max_attempts
    assert len(slack.fake.calls_to("chat.postMessage")) == slack.worker.max_attempts
    assert await slack.worker.run_once() == 0
    [gave_up] = delivery_lines(caplog, logging.ERROR)
    assert "failed 6 times; giving up" in gave_up and "HTTP 503" in gave_up
    assert not tracebacks(caplog)


# --- answers that come too late -------------------------------------------------------------------------------
@pytest.mark.parametrize("thread", [None, "1699999999.000001"], ids=["channel", "thread"])
async def test_a_post_whose_answer_times_out_is_found_again_not_posted_twice(
    slack: Slack, caplog: pytest.LogCaptureFixture, thread: str | None
) -> None:
    slack.adapter.client.timeout = 0.2  # type: ignore[assignment]
    slack.fake.slow["chat.postMessage"] = 1
    slack.fake.slow_seconds = 1.0
    await slack.queue(post("a", thread=thread))

    await slack.worker.run_once()
    [row] = (await slack.rows()).values()
    assert row["status"] == "pending" and row["attempts"] == 1
    await wait_for(lambda: slack.posts_of("a"))  # Slack did post it; only its answer was late
    assert any("Slack did not answer within 0.2 s" in line for line in delivery_lines(caplog))

    await slack.drain()
    [message] = slack.posts_of("a")
    [row] = (await slack.rows()).values()
    assert row["status"] == "sent" and row["platform_ref"] == message["ts"]
    assert len(slack.fake.calls_to("chat.postMessage")) == 1, "looked up, not posted again"
    looked = slack.fake.calls_to("conversations.replies" if thread else "conversations.history")
    assert looked and looked[0]["channel"] == "C1"
    assert not tracebacks(caplog)


async def test_a_post_lost_on_the_way_is_posted_once_on_the_retry(slack: Slack) -> None:
    slack.adapter.client.timeout = 0.2  # type: ignore[assignment]
    slack.fake.slow["chat.postMessage"] = 1
    slack.fake.slow_processed = False
    await slack.queue(post("a"))
    await slack.drain()
    assert len(slack.posts_of("a")) == 1 and len(slack.fake.calls_to("chat.postMessage")) == 2


# --- Socket Mode going away -----------------------------------------------------------------------------------
async def _reconnected_and_once(slack: Slack, cut: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    first = await slack.event("UALICE", "Where do I find the rollout plan?", "EvFirst")
    connections = slack.fake.connections_made
    await cut()
    await wait_for(lambda: slack.fake.connections_made > connections and slack.fake.connected, timeout=10)
    # Slack delivers again what it is not sure was acknowledged, then goes on.
    await slack.event("UALICE", "Where do I find the rollout plan?", "EvFirst", ts=first, retry=1)
    second = await slack.event("UBOB", "It is in the project wiki, under Rollout.", "EvSecond")
    posted = [e.message_id for e in slack.handled if isinstance(e, MessagePosted)]
    assert posted == [first, second]
    assert slack.fake.open_connections == 1
    assert not tracebacks(caplog)


async def test_socket_mode_closed_by_slack_reconnects_and_processes_each_event_once(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    await _reconnected_and_once(slack, slack.fake.drop_connections, caplog)
    assert len(slack.fake.calls_to("apps.connections.open")) == 2


async def test_a_disconnect_envelope_moves_to_a_new_connection_and_processes_each_event_once(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    await _reconnected_and_once(slack, slack.fake.send_disconnect, caplog)
    assert len(slack.fake.calls_to("apps.connections.open")) == 2


async def test_a_connection_cut_without_a_close_frame_is_noticed_and_replaced(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    async def cut() -> None:
        slack.fake.sever_connections()

    await _reconnected_and_once(slack, cut, caplog)


# --- the token stops working -----------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["invalid_auth", "token_revoked", "account_inactive"])
async def test_a_refused_token_fails_the_rows_for_good_in_one_clear_line_each(
    slack: Slack, caplog: pytest.LogCaptureFixture, code: str
) -> None:
    await slack.queue(post("a"), post("b"), post("c", "C2"))
    slack.fake.token_error = code
    await slack.worker.run_once()
    assert {r["status"] for r in (await slack.rows()).values()} == {"failed"}
    assert len(slack.fake.calls_to("chat.postMessage")) == 1, "once refused, the token is not tried again"
    assert await slack.worker.run_once() == 0, "nothing is retried"
    lines = delivery_lines(caplog, logging.ERROR)
    assert len(lines) == 3
    assert code in lines[0] and "SLACK_BOT_TOKEN" in lines[0]
    assert all("failed for good" in line for line in lines)
    assert not tracebacks(caplog)
    # Steward carries on: members' messages are still read and stored.
    said = await slack.event("UALICE", "Is the training tomorrow still on?", "EvAfter")
    assert (WS, said) in slack.engine.state.messages


# --- Steward removed from a channel ------------------------------------------------------------------------------
def notices(slack: Slack) -> list[dict[str, Any]]:
    return [p for p in slack.fake.calls_to("chat.postMessage") if p["channel"] == "facilitators"]


async def test_removed_from_a_channel_the_rows_fail_and_the_facilitators_hear_it_once(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.channel_errors["C1"] = "not_in_channel"
    await slack.queue(post("a"), post("b", buttons=(Button("claim", "I'll take it", "q1"),)),
                      PinMessage(key="pin", workspace=WS, channel="C1", message_id="1700000000.000009"))
    await slack.drain()
    rows = await slack.rows()
    assert {k: r["status"] for k, r in rows.items() if not k.startswith("unreachable:")} == {
        "a": "failed", "b": "failed", "pin": "failed"
    }
    [notice] = notices(slack)
    assert notice["text"] == translate("delivery.unreachable.removed", "en", channel="<#C1>")
    assert [(c["channel_id"], c["reason"]) for c in await _unreachable(slack)] == [("C1", "removed")]

    await slack.queue(post("c"))  # the next failure for the same channel is no news
    await slack.drain()
    assert len(notices(slack)) == 1
    lines = delivery_lines(caplog, logging.ERROR)
    assert len(lines) == 4 and all("not_in_channel" in line and "failed for good" in line for line in lines)
    assert "the facilitators are told once" in lines[0] and "known unreachable already" in lines[-1]
    assert not tracebacks(caplog)

    # Invited again: a message gets through, so a later removal is news again.
    del slack.fake.channel_errors["C1"]
    await slack.queue(post("d"))
    await slack.drain()
    assert len(slack.posts_of("d")) == 1 and await _unreachable(slack) == []
    slack.fake.channel_errors["C1"] = "channel_not_found"
    slack.clock.advance(timedelta(hours=1))
    await slack.queue(post("e"))
    await slack.drain()
    assert [n["text"] for n in notices(slack)][1:] == [
        translate("delivery.unreachable.gone", "en", channel="<#C1>")
    ]


async def test_the_notice_speaks_the_communitys_language(slack: Slack) -> None:
    workspace = slack.engine.state.workspace(WS)
    workspace.language = "de"
    slack.engine.state.touch_workspace(workspace)
    slack.fake.channel_errors["C1"] = "is_archived"
    await slack.queue(post("a"))
    await slack.drain()
    [notice] = notices(slack)
    assert notice["text"] == translate("delivery.unreachable.archived", "de", channel="<#C1>")
    assert "archiviert" in notice["text"]


async def test_when_the_facilitators_channel_itself_is_unreachable_nothing_loops(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.channel_errors.update({"C1": "not_in_channel", "facilitators": "not_in_channel"})
    await slack.queue(post("a"), post("escalate:q1", "facilitators"), post("b"))
    rounds = await slack.drain()
    assert rounds <= 3
    assert {r["status"] for r in (await slack.rows()).values()} == {"failed"}
    # a, the escalation, and the one notice about C1 (which then finds the facilitators' channel gone too).
    assert len(slack.fake.calls_to("chat.postMessage")) == 4
    assert len(notices(slack)) == 2  # the escalation and the single notice
    assert {c["channel_id"] for c in await _unreachable(slack)} == {"C1", "facilitators"}
    assert any("it is the facilitators' channel" in line for line in delivery_lines(caplog, logging.ERROR))
    assert await slack.worker.run_once() == 0
    assert not tracebacks(caplog)


async def _unreachable(slack: Slack) -> list[dict[str, Any]]:
    async with slack.engine.db.connect() as conn:
        return await unreachable_channels(conn, WS)


# --- payloads that are not shaped as Slack documents them ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["block_actions", "message_action"])
async def test_a_click_or_shortcut_whose_user_is_not_an_object_is_dropped_in_one_line(
    slack: Slack, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    payload: dict[str, Any] = {
        "type": kind,
        "team": {"id": TEAM},
        "user": "UALICE",  # Slack sends an object here
        "api_app_id": "A1",
        "token": "t",
        "trigger_id": trigger_id(),
        "channel": {"id": "C1"},
        "response_url": slack.fake.response_url(kind),
    }
    if kind == "block_actions":
        payload |= {
            "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C1"},
            "message": {"ts": "1700000000.000001", "text": "flag"},
            "actions": [{"type": "button", "action_id": "solved", "block_id": "b", "value": "q", "action_ts": "1"}],
        }
    else:
        payload |= {"callback_id": "save_lesson", "message_ts": "1700000000.000001",
                    "message": {"ts": "1700000000.000001", "text": "How do I reset the sandbox?"}}
    envelope = await slack.fake.push("interactive", payload)
    await wait_for(lambda: slack.fake.acked(envelope))
    await slack.event("UBOB", "still listening", "EvAfterClick")  # the app goes on with what comes next
    assert not tracebacks(caplog)
    assert not slack.fake.calls_to("users.info") or all(p["user"] != "" for p in slack.fake.calls_to("users.info"))
    assert any("user" in r.getMessage() for r in caplog.records if r.name.startswith("adapters.slack"))
    assert json.dumps(payload)  # the payload itself was a plain, valid JSON object
