"""What a private channel shows about its people routes only its own questions, and its words stay in it."""

from __future__ import annotations

from dataclasses import replace

from bot.app.engine import Engine
from bot.core.actions import PostMessage, SendDirectMessage
from bot.core.events import CommandInvoked
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
    assert "<@hanna>" not in escalations[0].text, "who belongs to a private channel stays in it too"  # type: ignore[attr-defined]
    assert "1 member of the channel" in escalations[0].text  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_the_unanswered_list_shows_a_private_question_only_in_its_channel(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 07:00"))
    make_private(engine, "hr-private")
    await say(engine, message("olga", "Does anyone know who signs the reorganisation budget?", at("2026-03-02 08:40"),
                              message_id="priv", channel="hr-private"))
    await say(engine, message("nina", "Does anyone know how long SAP access requests take?", at("2026-03-02 08:50"),
                              message_id="pub", channel="help"))

    async def listed(channel: str) -> str:
        when = at("2026-03-02 09:00")
        replies = await engine.handle(CommandInvoked(workspace=WS, channel=channel, user="paul", args="unanswered",
                                                     at=when))
        return " ".join(getattr(r, "text", "") for r in replies)

    in_public = await listed("help")
    assert "SAP access" in in_public and "reorganisation" not in in_public
    in_private = await listed("hr-private")
    assert "reorganisation" in in_private and "SAP access" in in_private
    await engine.db.dispose()


async def test_a_channel_the_platform_calls_private_is_private_from_its_first_message(settings: Settings) -> None:
    """Live Slack says `channel_type: group`, a Discord private thread says so by its type: the question asked
    there is escalated without its words, though nobody marked the channel by hand."""
    engine = await community(settings, at("2026-03-02 07:00"))
    seen = Recorder(engine)
    first = message("olga", "Does anyone know who signs the reorganisation budget?", at("2026-03-02 08:40"),
                    message_id="priv", channel="leads")
    await say(engine, replace(first, channel_private=True))
    await wait_until(engine, at("2026-03-04 16:00"))
    assert engine.state.channel(WS, "leads").private
    escalations = [p for p in seen.of(PostMessage) if p.key == "escalate:priv"]  # type: ignore[attr-defined]
    assert escalations and "reorganisation" not in escalations[0].text  # type: ignore[attr-defined]
    await engine.db.dispose()
