"""Authorisation through the real platform clients: who is a facilitator is what the platform says on the
server side (Slack's users.info, Discord's member permissions in the interaction), and a plain member's
facilitator command or settling click is answered with a private refusal and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.core.events import TimePassed
from bot.i18n import translate
from tests.e2e.discord import fake_discord as fd
from tests.e2e.discord.test_discord_e2e import BOB, CAROL, FACILITATOR, HELP, MONDAY, World, community
from tests.e2e.discord.test_discord_e2e import WS as DISCORD_WS
from tests.e2e.slack.fake_slack import TEAM, trigger_id, wait_for
from tests.e2e.slack.test_slack_e2e import WS as SLACK_WS
from tests.e2e.slack.test_slack_e2e import Harness, _harness

MANAGERS = "700000000000000001"


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in _harness(tmp_path):
        yield harness


@pytest.fixture
async def discord_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    from adapters.discord.adapter import DiscordAdapter
    from bot.app.delivery import DeliveryWorker
    from bot.app.wiring import build_engine
    from bot.core.clock import SimulatedClock
    from tests.conftest import make_settings

    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    fake = community()
    # Facilitators on Discord hold Manage Server through a role, as Discord computes it from the guild's roles.
    fake.roles.append({"id": MANAGERS, "name": "Community managers", "permissions": str(1 << 5), "position": 1,
                       "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0})
    fake.members[FACILITATOR]["roles"] = [MANAGERS]
    await fake.start()
    settings = make_settings(
        f"sqlite:///{tmp_path}/steward.db", steward_timezone="Europe/Berlin", discord_token=fd.TOKEN,
        discord_application_id=fd.APP_ID, discord_api_url=fake.rest_url, discord_gateway_url=fake.gateway_url,
    )
    clock = SimulatedClock(MONDAY)
    engine = await build_engine(settings, clock)
    adapter = DiscordAdapter(settings, engine, guild_ready_timeout=0.05)
    worker = DeliveryWorker(engine.db, [adapter.sender], clock)
    try:
        await adapter.start()
        yield World(fake, engine, adapter, clock, worker, [])
    finally:
        await adapter.stop()
        await engine.db.dispose()
        await fake.stop()


def not_allowed(name: str) -> str:
    return translate("command.not_allowed", "en", name=name)


async def slack_click(slack: Harness, user: str, action: str, value: str, key: str) -> dict[str, Any]:
    click = {
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user, "team_id": TEAM}, "api_app_id": "A1",
        "token": "t", "trigger_id": trigger_id(), "channel": {"id": "C1"},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C1"},
        "message": {"ts": "1700000000.000001", "text": "flag"}, "response_url": slack.fake.response_url(key),
        "actions": [{"type": "button", "action_id": action, "block_id": "b1", "value": value,
                     "action_ts": slack.ts()}],
    }
    envelope = await slack.fake.push("interactive", click)
    await wait_for(lambda: slack.fake.acked(envelope))
    return await wait_for(lambda: next((r for r in slack.fake.responses if r["key"] == key), None))


async def test_slack_facilitator_commands_and_settling_clicks(slack: Harness) -> None:
    slack.fake.users["UADMIN"] = {"id": "UADMIN", "name": "admin", "tz": "Europe/Berlin", "locale": "en-US",
                                  "is_admin": True}
    refused = await slack.command("UMALLORY", "watch", "mallory-watch")
    assert refused["text"] == not_allowed("watch") and refused["response_type"] == "ephemeral"
    refused = await slack.command("UMALLORY", "facilitator add <@UMALLORY>", "mallory-promote")
    assert refused["text"] == not_allowed("facilitator")
    refused = await slack.command("UMALLORY", "report note The sponsors should fund us twice", "mallory-note")
    assert refused["text"] == not_allowed("report") and refused["response_type"] == "ephemeral"
    refused = await slack.command("UMALLORY", "path new crm Everything about the CRM", "mallory-path")
    assert refused["text"] == not_allowed("path new")
    assert not slack.engine.state.members.get((SLACK_WS, "UMALLORY")) or \
        not slack.engine.state.members[(SLACK_WS, "UMALLORY")].is_facilitator
    allowed = await slack.command("UADMIN", "unwatch", "admin-unwatch")  # an admin, as users.info says
    assert allowed["text"] != not_allowed("unwatch")
    await slack.command("UADMIN", "watch", "admin-watch")

    question = await slack.message("UALICE", "Does anyone know how to request a second monitor?")
    reply = await slack_click(slack, "UMALLORY", "not_a_question", question, "mallory-click")
    assert reply["text"] == translate("not_a_question.not_yours", "en")
    state = slack.engine.state.question(SLACK_WS, question)
    assert state is not None and state.status == "asked"
    reply = await slack_click(slack, "UMALLORY", "solved", question, "mallory-solved")
    assert reply["text"] == translate("solved.not_yours", "en")
    assert not slack.engine.state.question(SLACK_WS, question).resolved  # type: ignore[union-attr]
    assert not slack.fake.calls_to("chat.postMessage"), "nothing was posted for anyone"


async def test_discord_facilitator_commands_and_settling_clicks(discord_world: World) -> None:
    world = discord_world
    refused = await world.slash(BOB, "watch")
    assert refused.body["content"] == not_allowed("watch") and refused.body["flags"] & 64
    refused = await world.slash(BOB, "settings", "answer_time 1")
    assert refused.body["content"] == not_allowed("settings")
    allowed = await world.slash(FACILITATOR, "settings", "answer_time 6")  # Manage Server, as Discord says
    assert allowed.body["content"] != not_allowed("settings")

    await world.say("910000000000000051", HELP, CAROL, "Who can give me access to the travel booking tool?", MONDAY)
    world.clock.set(MONDAY + timedelta(hours=7))
    await world.engine.handle(TimePassed(workspace=DISCORD_WS, at=world.clock.now()))
    await world.worker.run_once()
    flag = next(m for m in world.fake.messages.values() if m.get("components") and "910000000000000051" in
                json.dumps(m["components"]))
    for action, key in (("not_a_question", "not_a_question.not_yours"), ("solved", "solved.not_yours")):
        reply = await world.click(BOB, f"steward:{action}:910000000000000051", flag)
        assert reply.body["content"] == translate(key, "en") and reply.body["flags"] & 64
    question = world.engine.state.question(DISCORD_WS, "910000000000000051")
    assert question is not None and not question.resolved and question.status != "not_a_question"
