"""The "Record decision" and "Make an idea" message menus through the real discord.py client against the local fake
Discord: a decision recorded from a reply in a thread (its card in that thread), one from a message outside any
thread (the message becomes the thread's root), and an idea card made from a member's message in its channel."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import discord
from sqlalchemy import select

from adapters.discord.adapter import MESSAGE_MENU_LIMIT
from storage.cocreation_model import T_DECISION
from storage.ideas_model import T_IDEA
from tests.e2e.discord import fake_discord as fd
from tests.e2e.discord.test_discord_cocreation import components
from tests.e2e.discord.test_discord_e2e import ALICE, BOB, CAROL, HELP, MONDAY, World
from tests.e2e.discord.test_discord_e2e import world as world  # the fixture

ROOT = "910000000000000501"  # the message the thread was started from; the thread has its id


async def on_message(world: World, member: str, menu: str, message: dict[str, Any]) -> fd.Call:
    """A member picks `menu` from a message's Apps menu, as Discord sends it; returns Steward's private answer."""
    data = {"id": "830000000000000009", "name": menu, "type": 3, "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}}}
    return await world._interact(2, data, member, message["channel_id"])


async def test_record_decision_on_a_reply_records_the_threads_decision_with_its_card_there(world: World) -> None:
    await world.say(ROOT, HELP, ALICE, "Where do we hold the kickoff workshop: Teams or the big room?", MONDAY)
    world.fake.channels[ROOT] = fd.thread(ROOT, HELP, ALICE, "Kickoff")
    await world.fake.dispatch("THREAD_CREATE", {**world.fake.channels[ROOT], "newly_created": True})
    await world.say("910000000000000502", ROOT, BOB, "Or Teams, because half the team is remote.",
                    MONDAY + timedelta(minutes=2))
    decided = fd.message("910000000000000503", ROOT, world.fake.members[CAROL]["user"],
                         "Okay, dann machen wir das so: Teams, damit alle dabei sind.")
    await world.say("910000000000000503", ROOT, CAROL, decided["content"], MONDAY + timedelta(minutes=4))

    reply = await on_message(world, ALICE, "Record decision", decided)
    assert reply.body["flags"] & 64 and "Recorded decision #1 “Dann machen wir das so: Teams”" in reply.body["content"]
    await world.worker.run_once()
    [card] = [m for m in world.fake.messages.values()
              if m["channel_id"] == ROOT and "steward:decision_agree:1" in components(m)]
    assert components(card) == ["steward:decision_agree:1", "steward:decision_object:1"]
    assert "Dann machen wir das so: Teams" in json.dumps(card["embeds"], ensure_ascii=False)
    async with world.engine.db.connect() as conn:
        [(thread, recorded_by, private)] = (await conn.execute(
            select(T_DECISION.c.thread_id, T_DECISION.c.recorded_by, T_DECISION.c.private))).all()
    assert (thread, recorded_by, private) == (ROOT, ALICE, False)


async def test_record_decision_outside_a_thread_makes_the_message_the_root(world: World) -> None:
    text = "We decided to hold the kickoff on Teams, so everyone can join."
    message = fd.message("910000000000000511", HELP, world.fake.members[BOB]["user"], text)
    await world.say("910000000000000511", HELP, BOB, text, MONDAY)
    reply = await on_message(world, ALICE, "Record decision", message)
    assert reply.body["flags"] & 64 and "Recorded decision #1" in reply.body["content"]
    async with world.engine.db.connect() as conn:
        [(thread, channel)] = (await conn.execute(select(T_DECISION.c.thread_id, T_DECISION.c.channel_id))).all()
    assert (thread, channel) == ("910000000000000511", HELP)


async def test_make_an_idea_posts_the_messages_words_as_an_idea_card_in_its_channel(world: World) -> None:
    text = "We could book meeting rooms through a shared calendar."
    message = fd.message("910000000000000521", HELP, world.fake.members[BOB]["user"], text)
    await world.say("910000000000000521", HELP, BOB, text, MONDAY)
    reply = await on_message(world, ALICE, "Make an idea", message)
    assert reply.body["flags"] & 64 and "Your idea is posted as #1" in reply.body["content"]
    await world.worker.run_once()
    [card] = [m for m in world.fake.messages.values()
              if m["channel_id"] == HELP and "steward:idea_vote:1" in components(m)]
    assert text in json.dumps(card["embeds"], ensure_ascii=False)
    async with world.engine.db.connect() as conn:
        [(stored, author)] = (await conn.execute(select(T_IDEA.c.text, T_IDEA.c.author_id))).all()
    assert (stored, author) == (text, ALICE), "the member who made it the idea raised it"


async def test_the_message_menus_are_registered_within_discords_limit(world: World) -> None:
    assert world.adapter.client is not None
    menus = world.adapter.client.tree.get_commands(type=discord.AppCommandType.message)
    assert sorted(m.name for m in menus) == ["Make an idea", "Record decision", "Save as lesson"]
    assert len(menus) <= MESSAGE_MENU_LIMIT == 5


async def test_menus_on_a_private_threads_message_keep_the_decision_and_idea_in_that_thread(world: World) -> None:
    hidden = "910000000000000531"
    world.fake.channels[hidden] = {**fd.thread(hidden, HELP, ALICE, "Budget"), "type": 12}  # a private thread
    await world.fake.dispatch("THREAD_CREATE", {**world.fake.channels[hidden], "newly_created": True})
    text = "We decided to move the budget review to Thursday, because finance needs Wednesday."
    message = fd.message("910000000000000532", hidden, world.fake.members[ALICE]["user"], text)
    await world.say("910000000000000532", hidden, ALICE, text, MONDAY)
    decided = await on_message(world, ALICE, "Record decision", message)
    assert "Recorded decision #1" in decided.body["content"]
    made = await on_message(world, ALICE, "Make an idea", message)
    assert "Your idea is posted as #1" in made.body["content"]
    async with world.engine.db.connect() as conn:
        decisions = (await conn.execute(select(T_DECISION.c.channel_id, T_DECISION.c.private))).all()
        ideas = (await conn.execute(select(T_IDEA.c.channel_id, T_IDEA.c.private))).all()
    assert [tuple(r) for r in decisions] == [(hidden, True)] and [tuple(r) for r in ideas] == [(hidden, True)]

    listed = await world.slash(BOB, "decisions", "budget")  # asked in the public channel
    assert "No decision matches" in listed.body["content"] and "budget review" not in json.dumps(listed.body)
