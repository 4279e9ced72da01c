"""The decisions log through the real discord.py client against the local fake Discord: a thread that decides, a
decision recorded by slash command inside the thread, its card there, and consent given by button."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from storage.cocreation_model import T_DECISION, T_DECISION_VOTE
from tests.e2e.discord import fake_discord as fd
from tests.e2e.discord.test_discord_e2e import ALICE, BOB, CAROL, HELP, MONDAY, WS, World
from tests.e2e.discord.test_discord_e2e import world as world  # the fixture

ROOT = "910000000000000201"  # the message the thread was started from; the thread has its id


def components(message: dict[str, object]) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]  # type: ignore[index, union-attr, attr-defined]


async def test_a_decision_recorded_in_a_thread_by_command_and_agreed_to_by_button(world: World) -> None:
    await world.say(ROOT, HELP, ALICE, "Where do we hold the kickoff workshop: Teams or the big room?", MONDAY)
    world.fake.channels[ROOT] = fd.thread(ROOT, HELP, ALICE, "Kickoff")
    await world.fake.dispatch("THREAD_CREATE", {**world.fake.channels[ROOT], "newly_created": True})
    await world.say("910000000000000202", ROOT, BOB, "We could use the big room, people like meeting in person.",
                    MONDAY + timedelta(minutes=2))
    await world.say("910000000000000203", ROOT, CAROL, "Or Teams, because half the team is remote.",
                    MONDAY + timedelta(minutes=4))
    await world.say("910000000000000204", ROOT, ALICE, "Okay, dann machen wir das so: Teams, damit alle dabei sind.",
                    MONDAY + timedelta(minutes=6))
    message = world.engine.state.message(WS, "910000000000000204")
    assert message is not None and (message.channel, message.thread) == (HELP, ROOT)

    reply = await world.slash(ALICE, "decide", "Kickoff on Teams", channel=ROOT)
    assert reply.body["flags"] & 64 and "Recorded decision #1 “Kickoff on Teams”" in reply.body["content"]
    await world.worker.run_once()
    posts = world.fake.calls_to("POST", rf"/channels/{ROOT}/messages")
    offers = [p for p in posts if "steward:decision_record" in json.dumps(p.body)]
    assert len(offers) == 1, "the thread sounded decided: one offer"
    card = next(m for m in world.fake.messages.values()
                if m["channel_id"] == ROOT and "steward:decision_agree:1" in components(m))
    assert components(card) == ["steward:decision_agree:1", "steward:decision_object:1"]
    shown = json.dumps(card["embeds"], ensure_ascii=False)
    assert "Kickoff on Teams" in shown and "dann machen wir das so" in shown

    agreed = await world.click(BOB, "steward:decision_agree:1", card)
    assert agreed.body["flags"] & 64 and "you agree with decision #1" in agreed.body["content"]
    await world.worker.run_once()
    edits = world.fake.calls_to("PATCH", rf"/channels/{ROOT}/messages/{card['id']}")
    assert edits and "one agrees so far" in json.dumps(edits[-1].body)
    async with world.engine.db.connect() as conn:
        votes = [(r.member_id, r.vote) for r in await conn.execute(select(T_DECISION_VOTE))]
        [status] = (await conn.execute(select(T_DECISION.c.status))).scalars().all()
    assert votes == [(BOB, "agree")] and status == "proposed"
