"""Ideas through the real discord.py client against the local fake Discord: an idea proposed by slash command (one
that Discord's 25-subcommand group leaves standing alone, as `/steward-idea`), its embed card in the channel, two
votes by button and one by a 👍 reaction on the card, and its author accepting it; the card edited in place."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import select

from storage.ideas_model import T_IDEA, T_IDEA_VOTE
from tests.e2e.discord import fake_discord as fd
from tests.e2e.discord.test_discord_cocreation import components
from tests.e2e.discord.test_discord_e2e import ALICE, BOB, CAROL, FACILITATOR, HELP, MONDAY, World
from tests.e2e.discord.test_discord_e2e import world as world  # the fixture


async def steward(world: World, member: str, name: str, args: str) -> fd.Call:
    """`/steward NAME ARGS`, as Discord sends it when NAME stands alone as `/steward-NAME`."""
    data = {"id": "830000000000000002", "name": f"steward-{name}", "type": 1,
            "options": [{"name": "args", "type": 3, "value": args}]}
    return await world._interact(2, data, member, HELP)


async def test_an_idea_voted_for_by_button_and_reaction_and_accepted_is_edited_in_place(world: World) -> None:
    await world.say("910000000000000301", HELP, ALICE, "Good morning, change agents!", MONDAY)
    reply = await steward(world, ALICE, "idea", "Book meeting rooms through a shared calendar")
    assert reply.body["flags"] & 64 and "Your idea is posted as #1" in reply.body["content"]
    await world.worker.run_once()
    card = next(m for m in world.fake.messages.values()
                if m["channel_id"] == HELP and "steward:idea_vote:1" in components(m))
    assert components(card) == ["steward:idea_vote:1", "steward:idea_withdraw:1", "steward:idea_accept:1",
                                "steward:idea_start:1", "steward:idea_decline:1"]
    shown = json.dumps(card["embeds"], ensure_ascii=False)
    assert "Book meeting rooms through a shared calendar" in shown and f"<@{ALICE}>" in shown

    voted = await world.click(BOB, "steward:idea_vote:1", card)
    assert voted.body["flags"] & 64 and "you support idea #1" in voted.body["content"]
    world.clock.set(MONDAY + timedelta(minutes=1))
    assert "you support idea #1" in (await world.click(CAROL, "steward:idea_vote:1", card)).body["content"]
    await world.worker.run_once()
    edits = world.fake.calls_to("PATCH", rf"/channels/{HELP}/messages/{card['id']}")
    assert edits and "2 votes" in json.dumps(edits[-1].body)

    world.clock.set(MONDAY + timedelta(minutes=2))
    await world.fake.dispatch("MESSAGE_REACTION_ADD", {
        "user_id": FACILITATOR, "channel_id": HELP, "message_id": card["id"], "guild_id": fd.GUILD_ID,
        "emoji": {"id": None, "name": "👍"}, "member": world.fake.members[FACILITATOR], "type": 0, "burst": False,
    })
    async def three_votes() -> bool:
        await world.worker.run_once()
        patched = world.fake.calls_to("PATCH", rf"/channels/{HELP}/messages/{card['id']}")
        return bool(patched) and "3 votes" in json.dumps(patched[-1].body)

    for _ in range(250):  # the reaction is handled off the gateway's loop turn: poll, as the worker would
        if await three_votes():
            break
        await asyncio.sleep(0.02)
    assert await three_votes(), "the 👍 on the card counted"

    world.clock.set(MONDAY + timedelta(minutes=3))
    moved = await steward(world, ALICE, "idea", "status 1 accepted")
    assert "Idea #1 is now accepted" in moved.body["content"]
    await world.worker.run_once()
    last = world.fake.calls_to("PATCH", rf"/channels/{HELP}/messages/{card['id']}")[-1].body
    assert "accepted" in json.dumps(last) and "3 votes" in json.dumps(last)
    assert [c["custom_id"] for row in last["components"] for c in row["components"]] == [
        "steward:idea_vote:1", "steward:idea_withdraw:1", "steward:idea_start:1", "steward:idea_done:1",
        "steward:idea_decline:1"]
    async with world.engine.db.connect() as conn:
        voters = sorted((await conn.execute(select(T_IDEA_VOTE.c.member_id))).scalars())
        [status] = (await conn.execute(select(T_IDEA.c.status))).scalars().all()
    assert voters == sorted([BOB, CAROL, FACILITATOR]) and status == "accepted"
