"""`/steward forget me`: texts, reactions, nudges, expertise, registry and lesson credits go; nudges stop."""

from __future__ import annotations

from sqlalchemy import select

from bot.settings import Settings
from storage.repository import T_EXPERT_TOPIC, T_MESSAGE, T_REACTION
from tests.support import WS, at, command, community, message, reaction


async def test_a_member_who_asks_is_forgotten(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 08:00"))
    await engine.handle(message("nina", "How do I get SAP access for the test system?", at("2026-03-02 08:00"),
                                message_id="q1"))
    await engine.handle(message("marc", "Request the SAP tester role in the access portal.", at("2026-03-02 08:05"),
                                thread="q1", message_id="a1"))
    await engine.handle(reaction("marc", "q1", "+1", at("2026-03-02 08:06")))
    await engine.handle(command("marc", "expert add SAP access", at("2026-03-02 08:07")))
    index = engine.state.expertise_index(WS)
    assert index.answered("marc") == 1

    [usage] = await engine.handle(command("marc", "forget", at("2026-03-02 08:10")))
    assert "forget me" in usage.text  # type: ignore[attr-defined]
    [done] = await engine.handle(command("marc", "forget me", at("2026-03-02 08:11")))
    assert "deleted" in done.text  # type: ignore[attr-defined]

    async with engine.db.connect() as conn:
        texts = dict((await conn.execute(select(T_MESSAGE.c.id, T_MESSAGE.c.text))).all())
        reactions = (await conn.execute(select(T_REACTION.c.user_id))).all()
        topics = (await conn.execute(select(T_EXPERT_TOPIC.c.member_id))).all()
    assert texts["a1"] is None and texts["q1"] is not None
    assert reactions == [] and topics == []
    assert index.answered("marc") == 0
    assert all(s.user != "marc" for s in index.suggest("SAP access test system", at=at("2026-03-02 09:00")))
    member = engine.state.members[(WS, "marc")]
    assert member.muted_until is not None and member.muted_until.year > 2100 and member.name == ""
    await engine.db.dispose()
