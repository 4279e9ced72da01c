"""REPLY_LINKS=model: the engine finds flat-channel answers with the learned tracker, across a restart."""

from __future__ import annotations

from datetime import timedelta

from bot.app.engine import Engine
from facilitation_rules.text.linked_tracker import LinkedConversationTracker
from tests.bot.test_restart_and_redelivery import berlin, restart, say
from tests.support import WS, at, community, message


async def test_a_flat_answer_is_found_by_the_learned_links_and_survives_a_restart(database_url: str) -> None:
    settings = berlin(database_url, reply_links="model")
    start = at("2024-03-04 10:00")
    engine: Engine = await community(settings, start)
    question = message("U1", "How do I export the kanban board as a PDF?", start)
    await say(engine, question)
    other = message("U2", "Does anyone know why my calendar invites arrive twice?", start + timedelta(seconds=40))
    await say(engine, other)
    assert isinstance(engine.state.tracker(WS), LinkedConversationTracker)
    engine = await restart(engine, settings)
    assert isinstance(engine.state.tracker(WS), LinkedConversationTracker)
    answer = message("U3", "U1: use the print view of the board, then save it as PDF", start + timedelta(minutes=2))
    await say(engine, answer)
    state = engine.state.question(WS, question.message_id)
    assert state is not None and state.first_response_id == answer.message_id
    assert state.status == "answered"
    await engine.flush()
    await engine.db.dispose()
