"""The skills map in chat: nobody is listed without consent, `/steward skills TOPIC` names consenting members with
what they answered in public channels (never a private channel's words), and forget-me removes the listing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.app.engine import Engine
from bot.core.actions import Action, PostEphemeral, action_text
from bot.i18n import translate
from bot.settings import Settings
from storage.skills import holders, is_visible
from tests.support import WS, at, command, community, message

START = at("2026-03-02 08:00")  # a Monday, 09:00 in Berlin
SECRET = "ZEBRA-PRIVATE-7731"


async def run(engine: Engine, event: object) -> Sequence[Action]:
    engine.clock.set(event.at)  # type: ignore[attr-defined]
    return await engine.handle(event)  # type: ignore[arg-type]


def reply_text(replies: Sequence[Action]) -> str:
    return "\n".join(action_text(r) for r in replies if isinstance(r, PostEphemeral))


async def answered_community(settings: Settings) -> tuple[Engine, datetime]:
    """ben answers two SharePoint questions in #help and one in the private #steering (with a secret word);
    cara signed up for SharePoint in the registry; dora answered a SharePoint question too."""
    engine = await community(settings, START)
    when = START
    steering = engine.state.channel(WS, "steering")
    steering.private = True
    engine.state.touch_channel(steering)
    talks = [
        ("ana", "How do I share a SharePoint site with an external partner?", "ben",
         "Use the SharePoint sharing dialog and pick 'specific people'.", "help"),
        ("tom", "Why does my SharePoint library not sync to OneDrive?", "ben",
         "Reset the OneDrive client, then sync the SharePoint library again.", "help"),
        ("eva", f"Who can open the {SECRET} SharePoint folder for the steering group?", "ben",
         "The steering assistant grants it.", "steering"),
        ("ana", "Where is the SharePoint template for project sites?", "dora",
         "In the SharePoint hub, under Templates.", "help"),
    ]
    for n, (asker, question, helper, answer, channel) in enumerate(talks, start=1):
        await run(engine, message(asker, question, when, channel=channel, message_id=f"q{n}"))
        await run(engine, message(helper, answer, when + timedelta(minutes=5), channel=channel, thread=f"q{n}"))
        when += timedelta(minutes=10)
    await run(engine, command("cara", "expert add sharepoint, teams", when))
    await engine.flush()
    return engine, when + timedelta(minutes=1)


async def test_nobody_is_listed_without_consent_and_the_help_says_so(settings: Settings) -> None:
    engine, when = await answered_community(settings)
    try:
        assert "off until you say so" in translate("help.expert", "en")
        assert not await is_visible(engine.db, WS, "ben")
        replies = await run(engine, command("ana", "skills SharePoint", when))
        assert reply_text(replies) == translate("skills.none", "en", topic="SharePoint")
        assert await holders(engine.db, WS, "sharepoint") == []
    finally:
        await engine.db.dispose()


async def test_consenting_members_are_found_with_what_they_answered_in_public(settings: Settings) -> None:
    engine, when = await answered_community(settings)
    try:
        for who in ("ben", "cara"):
            said = reply_text(await run(engine, command(who, "expert visible on", when)))
            assert said == translate("skills.visible_on", "en")
            when += timedelta(minutes=1)
        assert await is_visible(engine.db, WS, "ben") and not await is_visible(engine.db, WS, "dora")

        text = reply_text(await run(engine, command("ana", "skills sharepoint", when)))
        assert "<@ben>" in text and "<@cara>" in text and "<@dora>" not in text, "dora did not consent"
        assert "answered 2 questions on it" in text, "the private channel's answer does not count"
        assert "How do I share a SharePoint site" in text
        assert "signed up for sharepoint" in text
        assert SECRET not in text and "steering" not in text
        assert text.index("<@ben>") < text.index("<@cara>"), "answers first, then registered topics"

        [ben, cara] = await holders(engine.db, WS, "SharePoint")
        assert (ben.member, ben.answers, ben.registered) == ("ben", 2, ())
        assert (cara.member, cara.answers, cara.registered) == ("cara", 0, ("sharepoint",))
        assert not any(SECRET in q for q in ben.answered)
        assert await holders(engine.db, WS, SECRET) == [], "a private question is never evidence"

        off = reply_text(await run(engine, command("ben", "expert visible off", when + timedelta(minutes=1))))
        assert off == translate("skills.visible_off", "en")
        assert [h.member for h in await holders(engine.db, WS, "sharepoint")] == ["cara"]
    finally:
        await engine.db.dispose()


async def test_forget_me_removes_the_consent_and_the_listing(settings: Settings) -> None:
    engine, when = await answered_community(settings)
    try:
        await run(engine, command("ben", "expert visible on", when))
        assert [h.member for h in await holders(engine.db, WS, "sharepoint")] == ["ben"]
        await run(engine, command("ben", "forget me", when + timedelta(minutes=1)))
        await engine.flush()
        assert not await is_visible(engine.db, WS, "ben")
        assert await holders(engine.db, WS, "sharepoint") == []
    finally:
        await engine.db.dispose()


async def test_bad_input_gets_the_usage(settings: Settings) -> None:
    engine, when = await answered_community(settings)
    try:
        assert reply_text(await run(engine, command("ana", "skills", when))) == translate("skills.usage", "en")
        said = reply_text(await run(engine, command("ana", "expert visible maybe", when + timedelta(minutes=1))))
        assert said == translate("skills.visible_usage", "en")
        assert not await is_visible(engine.db, WS, "ana")
    finally:
        await engine.db.dispose()
