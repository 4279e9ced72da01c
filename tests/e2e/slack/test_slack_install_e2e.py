""""Add to Slack" end to end: the real slack-bolt app in HTTP mode with its OAuth flow, the database stores, and
the local fake Slack issuing a bot token per workspace. Three workspaces install, each is served with its own
token (rotated when it expires), one uninstalls, and replayed or forged states are refused."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import yaml
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from adapters.slack.adapter import SlackAdapter
from adapters.slack.install import UNINSTALLED
from bot.app.delivery import DeliveryWorker
from bot.app.engine import Engine
from bot.app.wiring import build_engine
from bot.core.actions import PostMessage
from bot.core.clock import SimulatedClock
from bot.core.ports import AdapterStartError
from bot.runner import platform_adapters
from storage.models import Message
from storage.slack_installations import T_OUTBOX
from tests.conftest import make_settings
from tests.e2e.slack.fake_slack import CLIENT_ID, CLIENT_SECRET, FakeSlack, wait_for

SECRET = "signing-secret"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COOKIE = "slack-app-oauth-state"
T_MESSAGE = Message.__table__  # type: ignore[attr-defined]


@dataclass
class World:
    fake: FakeSlack
    engine: Engine
    clock: SimulatedClock
    adapter: SlackAdapter
    worker: DeliveryWorker
    said: int = 0  # messages posted so far: each gets its own ts

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.adapter.http_port}"

    async def install(self, team: str) -> tuple[int, str, str]:
        """A browser-less installer: /slack/install, Slack's approval, back to the redirect URL with the state
        cookie. Returns the final status, the state and the redirect URL Slack sent the installer to."""
        self.fake.installing_team = team
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{self.base}/slack/install", allow_redirects=False) as started:
                assert started.status == 302
                to_slack = started.headers["Location"]
                cookie = SimpleCookie(started.headers["Set-Cookie"])[COOKIE].value
            async with session.get(to_slack, allow_redirects=False) as approved:
                assert approved.status == 302
                back = approved.headers["Location"]
            state = parse_qs(urlsplit(back).query)["state"][0]
            assert state == cookie
            status = await self.visit(back, cookie)
        return status, state, back

    async def visit(self, url: str, cookie: str | None) -> int:
        headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers,
                                                                   allow_redirects=False) as response:
            await response.read()
            return response.status

    async def signed(self, payload: dict[str, Any]) -> int:
        body = json.dumps(payload)
        ts = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
        assert signature is not None
        headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
                   "Content-Type": "application/json"}
        async with aiohttp.ClientSession() as session, session.post(f"{self.base}/slack/events", data=body,
                                                                    headers=headers) as response:
            await response.read()
            return response.status

    async def message(self, team: str, user: str, text: str) -> tuple[int, str]:
        self.said += 1
        ts = f"{START.timestamp() + self.said:.6f}"
        event = {"type": "message", "channel": f"C{team}", "user": user, "text": text, "ts": ts, "event_ts": ts,
                 "channel_type": "channel"}
        status = await self.signed(_callback(team, event, f"Ev{team}{ts}"))
        return status, ts

    async def installed(self, team: str) -> str | None:
        assert self.adapter.installations is not None
        bot = await self.adapter.installations.async_find_bot(enterprise_id=None, team_id=team)
        return bot.bot_token if bot is not None else None

    async def rows(self) -> dict[str, dict[str, Any]]:
        async with self.engine.db.connect() as conn:
            return {r.key: dict(r._mapping) for r in await conn.execute(select(T_OUTBOX))}

    async def queue(self, *actions: PostMessage) -> None:
        self.engine._enqueue(actions, self.clock.now())
        await self.engine.flush()


def _callback(team: str, event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {"token": "t", "team_id": team, "api_app_id": "A1", "type": "event_callback", "event": event,
            "event_id": event_id, "event_time": int(time.time())}


async def _world(tmp_path: Path, **overrides: Any) -> AsyncIterator[World]:
    fake = FakeSlack()
    await fake.start()
    settings = make_settings(
        f"sqlite:///{tmp_path}/steward.db",
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_signing_secret=SECRET,
        slack_mode="http",
        slack_http_port=0,
        slack_api_url=fake.api_url,
        slack_authorize_url=fake.authorize_url,
        **overrides,
    )
    clock = SimulatedClock(START)
    engine = await build_engine(settings, clock)
    adapter = SlackAdapter(settings, engine, send_interval=0, http_host="127.0.0.1", connect_timeout=5)
    worker = DeliveryWorker(engine.db, [adapter.sender], clock)
    try:
        await adapter.start()
        fake.redirect_url = f"http://127.0.0.1:{adapter.http_port}/slack/oauth_redirect"
        yield World(fake, engine, clock, adapter, worker)
    finally:
        await adapter.stop()
        await engine.db.dispose()
        await fake.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for made in _world(tmp_path):
        yield made


def _lines(caplog: pytest.LogCaptureFixture, logger: str, level: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno >= level]


async def test_three_workspaces_install_and_each_is_served_with_its_own_token(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert world.adapter.sender is world.adapter.out
    status, _, _ = await world.install("TAAA")
    assert status == 200
    asked = world.fake.authorize_requests[0]
    assert asked["client_id"] == CLIENT_ID and "chat:write" in asked["scope"].split(",") and asked["state"]
    first = await world.installed("TAAA")
    assert first is not None and world.fake.token_teams[first] == "TAAA"

    assert (await world.install("TBBB"))[0] == 200
    world.fake.token_lifetime = 3600  # TCCC's app rotates tokens: this one expires within the hour
    assert (await world.install("TCCC"))[0] == 200
    expiring = await world.installed("TCCC")
    assert expiring is not None
    world.fake.token_lifetime = 12 * 3600
    world.fake.token_expiry[expiring] = time.time() - 1  # and has expired now
    assert len(_lines(caplog, "adapters.slack.install")) == 3
    assert not any(token in record.getMessage() for record in caplog.records for token in world.fake.token_teams)

    said = {}
    for team, user in (("TAAA", "UANNA"), ("TBBB", "UBERT"), ("TCCC", "UCLAU")):
        status, ts = await world.message(team, user, f"Hello from {team}, where is the rollout plan?")
        assert status == 200
        said[team] = ts
    for team, ts in said.items():
        await wait_for(lambda team=team, ts=ts: (f"slack:{team}", ts) in world.engine.state.messages)

    refreshed = await world.installed("TCCC")
    assert refreshed not in (None, expiring), "the expired token was refreshed and stored"
    refreshes = [p for p in world.fake.calls_to("oauth.v2.access") if p.get("grant_type") == "refresh_token"]
    assert len(refreshes) == 1
    tokens = {team: await world.installed(team) for team in said}
    users_info = dict(zip([p["user"] for p in world.fake.calls_to("users.info")], world.fake.tokens_of("users.info"),
                          strict=True))
    assert users_info == {"UANNA": tokens["TAAA"], "UBERT": tokens["TBBB"], "UCLAU": tokens["TCCC"]}
    assert len(set(tokens.values())) == 3

    await world.queue(*(PostMessage(key=f"hello-{team}", workspace=f"slack:{team}", channel=f"C{team}",
                                    text=f"Welcome, {team}") for team in said))
    assert await world.worker.run_once() == 3
    posted = dict(zip([p["channel"] for p in world.fake.calls_to("chat.postMessage")],
                      world.fake.tokens_of("chat.postMessage"), strict=True))
    assert posted == {f"C{team}": token for team, token in tokens.items()}
    assert {r["status"] for r in (await world.rows()).values()} == {"sent"}


async def test_an_uninstalled_workspace_loses_its_installation_and_its_later_events_are_refused(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    for team in ("TAAA", "TBBB"):
        assert (await world.install(team))[0] == 200
    await world.queue(PostMessage(key="waiting", workspace="slack:TBBB", channel="CTBBB", text="Soon"))
    caplog.set_level(logging.INFO)

    world.fake.revoke("TBBB")
    uninstalled = _callback("TBBB", {"type": "app_uninstalled", "event_ts": "1"}, "EvGone")
    assert await world.signed(uninstalled) == 200
    await wait_for(lambda: any("removed Steward" in line for line in _lines(caplog, "adapters.slack.adapter")))
    assert await world.installed("TBBB") is None and await world.installed("TAAA") is not None
    removed = [line for line in _lines(caplog, "adapters.slack.adapter") if "removed Steward" in line]
    assert len(removed) == 1 and "1 unsent messages failed" in removed[0] and "kept" in removed[0]
    waiting = (await world.rows())["waiting"]
    assert (waiting["status"], waiting["last_error"]) == ("failed", UNINSTALLED)
    assert await world.worker.run_once() == 0, "a failed row is not retried"

    caplog.clear()
    status, ts = await world.message("TBBB", "UBERT", "Anyone still here?")
    assert status == 200, "answered, so Slack does not deliver it again"
    refused = [line for line in _lines(caplog, "adapters.slack.adapter") if "refused" in line]
    assert refused == ["Slack request from workspace TBBB refused: Steward is not installed there "
                       "(uninstalled, or never installed)"]
    assert ("slack:TBBB", ts) not in world.engine.state.messages
    status, ts = await world.message("TAAA", "UANNA", "Still here")
    await wait_for(lambda: ("slack:TAAA", ts) in world.engine.state.messages)

    caplog.clear()
    await world.queue(PostMessage(key="later", workspace="slack:TBBB", channel="CTBBB", text="Late"))
    assert await world.worker.run_once() == 1
    assert (await world.rows())["later"]["status"] == "failed"
    failed = _lines(caplog, "bot.app.delivery", logging.ERROR)
    assert len(failed) == 1 and "not installed in Slack workspace TBBB" in failed[0]
    assert not [r for r in caplog.records if r.exc_info]
    assert "CTBBB" not in [p["channel"] for p in world.fake.calls_to("chat.postMessage")]


async def test_a_replayed_or_forged_state_is_refused_in_one_line(world: World,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    status, state, back = await world.install("TAAA")
    assert status == 200
    token = await world.installed("TAAA")
    caplog.clear()
    caplog.set_level(logging.INFO)

    assert await world.visit(back, state) == 401, "the same redirect again, cookie and all"
    forged = back.replace(state, "forged-state")
    assert await world.visit(forged, "forged-state") == 401
    assert await world.visit(forged, None) == 400, "a state without its browser cookie"
    lines = _lines(caplog, "adapters.slack.install")
    assert len(lines) == 3
    assert [line.split(" (")[0] for line in lines] == ["Slack install refused: invalid_state"] * 2 + [
        "Slack install refused: invalid_browser"]
    assert all(state not in r.getMessage() and "code-" not in r.getMessage() for r in caplog.records)
    assert len([p for p in world.fake.calls_to("oauth.v2.access") if p.get("code")]) == 1, "no second exchange"
    assert await world.installed("TAAA") == token


async def test_purge_on_uninstall_deletes_the_workspace_community_data(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    async for world in _world(tmp_path, slack_uninstall="purge"):
        for team in ("TAAA", "TBBB"):
            assert (await world.install(team))[0] == 200
        for team in ("TAAA", "TBBB"):
            _, ts = await world.message(team, f"U{team}", "Where do I find the training plan?")
            key, messages = (f"slack:{team}", ts), world.engine.state.messages
            await wait_for(lambda key=key, messages=messages: key in messages)
        await world.engine.flush()
        caplog.set_level(logging.INFO)

        assert await world.signed(_callback("TAAA", {"type": "app_uninstalled"}, "EvGoneA")) == 200
        await wait_for(lambda: any("removed Steward" in line for line in _lines(caplog, "adapters.slack.adapter")))
        line = next(line for line in _lines(caplog, "adapters.slack.adapter") if "removed Steward" in line)
        assert "purged" in line and "SLACK_UNINSTALL=purge" in line
        async with world.engine.db.connect() as conn:
            counts: dict[str, int] = dict(
                (await conn.execute(select(T_MESSAGE.c.workspace_id, func.count()).group_by(T_MESSAGE.c.workspace_id)))
                .all()
            )
        assert counts == {"slack:TBBB": 1}
        assert "slack:TAAA" not in world.engine.state.workspaces and "slack:TBBB" in world.engine.state.workspaces
        assert await world.installed("TAAA") is None


async def test_steward_run_picks_the_install_flow_and_it_needs_http_mode(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/s.db", slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET)
    assert settings.has_slack and settings.slack_installs and settings.slack_uninstall == "keep"
    engine = await build_engine(settings, SimulatedClock(START))
    try:
        (adapter,) = platform_adapters(settings, engine)
        assert isinstance(adapter, SlackAdapter) and adapter.installations is not None
        with pytest.raises(AdapterStartError, match="SLACK_MODE=http"):
            await adapter.start()
    finally:
        await engine.db.dispose()
    with pytest.raises(ValueError, match="keep"):
        make_settings("sqlite:///x.db", slack_uninstall="forget")


def test_the_scopes_asked_on_install_are_the_manifests() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parents[3] / "adapters/slack/manifest.yml").read_text())
    asked = make_settings("sqlite:///x.db").slack_scopes.split(",")
    assert asked == manifest["oauth_config"]["scopes"]["bot"]


async def test_revoked_bot_tokens_remove_the_installation_and_a_revoked_user_token_does_not(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await world.install("TAAA"))[0] == 200
    caplog.set_level(logging.INFO)
    user_only = {"type": "tokens_revoked", "tokens": {"oauth": ["UANNA"], "bot": []}}
    assert await world.signed(_callback("TAAA", user_only, "EvUser")) == 200
    status, ts = await world.message("TAAA", "UANNA", "Still installed?")
    assert status == 200
    await wait_for(lambda: ("slack:TAAA", ts) in world.engine.state.messages)
    assert await world.installed("TAAA") is not None

    bot = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOTTAAA"]}}
    assert await world.signed(_callback("TAAA", bot, "EvBot")) == 200
    await wait_for(lambda: any("removed Steward (tokens_revoked)" in line
                               for line in _lines(caplog, "adapters.slack.adapter")))
    assert await world.installed("TAAA") is None
