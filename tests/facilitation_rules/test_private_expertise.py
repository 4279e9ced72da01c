"""What a private channel shows about its people routes only its own questions, and its words stay in it."""

from __future__ import annotations

from bot.app.engine import Engine
from bot.core.actions import PostMessage, SendDirectMessage
from bot.settings import Settings
from tests.facilitation_rules.test_facilitation_scenarios import Recorder, say, wait_until
from tests.support import WS, at, community, message


def make_private(engine: Engine, channel: str) -> None:
    state = engine.state.channel(WS, channel)
    state.private = True
    engine.state.touch_channel(state)


async def answered_in(engine: Engine, channel: str, expert: str, day: str) -> None:
    qid, aid = f"old-{channel}-{day}", f"ans-{channel}-{day}"
    await say(engine, message("someone", "How do I get SAP access for the test system?", at(f"{day} 08:00"),
                              message_id=qid, channel=channel))
    await say(engine, message(expert, "Request the SAP role through the access portal.", at(f"{day} 08:10"),
                              thread=qid, message_id=aid, channel=channel))


async def test_expertise_shown_only_in_a_private_channel_never_routes_public_questions(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 07:00"))
    make_private(engine, "hr-private")
    seen = Recorder(engine)
    await answered_in(engine, "hr-private", "hanna", "2026-03-02")
    await answered_in(engine, "help", "marc", "2026-03-03")
    await say(engine, message("nina", "Anyone know how long SAP access requests take?", at("2026-03-04 08:30"),
                              message_id="pub", channel="help"))
    await say(engine, message("olga", "Does anyone know how long SAP access requests take?", at("2026-03-04 08:40"),
                              message_id="priv", channel="hr-private"))
    await wait_until(engine, at("2026-03-05 16:00"))

    public, private = engine.state.question(WS, "pub"), engine.state.question(WS, "priv")
    assert public is not None and private is not None
    assert "hanna" not in public.suggested_experts + public.nudged_experts
    assert "marc" not in private.suggested_experts + private.nudged_experts
    assert "hanna" in private.suggested_experts
    to_hanna = [d for d in seen.of(SendDirectMessage) if d.user == "hanna"]  # type: ignore[attr-defined]
    assert all("priv" in d.key for d in to_hanna)  # type: ignore[attr-defined]
    escalations = [p for p in seen.of(PostMessage) if p.key == "escalate:priv"]  # type: ignore[attr-defined]
    assert escalations and "SAP" not in escalations[0].text  # type: ignore[attr-defined]
    assert "private channel" in escalations[0].text  # type: ignore[attr-defined]
    await engine.db.dispose()
