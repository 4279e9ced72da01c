"""Words of thanks that credit nobody: declining an offer, sarcasm, a thanks that reports a failure, a thanks to the
whole group or to Steward. Each class in English and German, as cues and as conversations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.app.engine import Engine
from bot.core.events import MessagePosted
from bot.settings import Settings
from facilitation_rules.recognition import says_thanks
from facilitation_rules.text.cues import asks_when_who_or_why, is_thanks
from storage.recognition import credits_of
from tests.support import WS, at, community, message

MONDAY = at("2026-03-02 08:00")


@pytest.mark.parametrize(
    "text",
    [
        "No thanks, I can do it myself.", "nope, thanks, all set", "Nein danke, brauche ich nicht.",  # declining
        "Thanks for nothing, the link is dead.", "Na super, danke für nichts.",  # sarcasm
        "Thanks, but it still doesn't work.", "thank you, but I can't open the file",
        "Danke, aber es hat leider nicht geklappt.", "Danke, aber die Seite lädt immer noch nicht.",
    ],
)
def test_no_gratitude_for_help(text: str) -> None:
    assert not is_thanks(text)


@pytest.mark.parametrize(
    "text",
    ["Thanks, works now but not sure why", "thanks, no more questions from me", "Danke, kein Problem mehr",
     "no worries, thanks a lot!", "Danke! Das war's, nichts mehr offen."],
)
def test_gratitude_with_a_negation_elsewhere_is_still_thanks(text: str) -> None:
    assert is_thanks(text)


@pytest.mark.parametrize(
    "text",
    ["thanks all of you, that helps", "Thanks everyone, lots to try", "Vielen Dank euch allen für die Ideen!",
     "danke, Leute, hat geholfen", "thanks team, great tips"],
)
def test_a_thanks_to_the_whole_group_credits_nobody_in_particular(text: str) -> None:
    assert not says_thanks(text, "en")


@pytest.mark.parametrize("text", ["thanks, all sorted now", "Thanks Ben!", "Danke dir, hat geklappt"])
def test_a_thanks_to_one_member_is_not_taken_for_the_group(text: str) -> None:
    assert says_thanks(text, "en")


@pytest.mark.parametrize(
    ("text", "asks"),
    [("When is the next town hall?", True), ("<@U1> who owns the stakeholder list?", True),
     ("Hi all, why is the dashboard empty?", True), ("Wann trifft sich das Board?", True),
     ("Weiß jemand, wer das geändert hat?", True), ("How do I pin a message?", False),
     ("Where is the escalation path?", False), ("Wie beantrage ich eine Lizenz?", False)],
)
def test_questions_for_a_moment_a_person_or_a_cause(text: str, asks: bool) -> None:
    assert asks_when_who_or_why(text) is asks


# --- as conversations ------------------------------------------------------------------------------------------
@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    engine = await community(settings, MONDAY)
    yield engine
    await engine.db.dispose()


def when(minutes: int) -> datetime:
    return MONDAY + timedelta(minutes=minutes)


async def credited(engine: Engine, *members: str) -> dict[str, int]:
    await engine.flush()
    async with engine.db.connect() as conn:
        return {m: len(await credits_of(conn, WS, m)) for m in members}


async def answered_thread(engine: Engine, closing: str, *, language: str = "en") -> None:
    engine.state.workspace(WS).language = language
    for event in (
        message("ana", "How do I export the attendee list from the meeting?", when(0), message_id="q1"),
        message("ben", "Open the people pane and download the list.", when(5), thread="q1", message_id="b1"),
        message("cem", "Or ask the organiser for it.", when(7), thread="q1", message_id="c1"),
        message("ana", closing, when(9), thread="q1", message_id="t1"),
    ):
        await engine.handle(event)


@pytest.mark.parametrize(
    ("closing", "language"),
    [("Thanks, but that didn't work, the button is missing.", "en"),
     ("Danke, aber das hat nicht geklappt, der Knopf fehlt.", "de"),
     ("Thanks for nothing, I'll ask IT.", "en"),
     ("Thanks all of you, I'll try both.", "en"),
     ("Vielen Dank euch allen für die Tipps!", "de")],
)
async def test_these_thank_yous_in_a_thread_credit_nobody(engine: Engine, closing: str, language: str) -> None:
    await answered_thread(engine, closing, language=language)
    assert await credited(engine, "ben", "cem") == {"ben": 0, "cem": 0}


async def test_an_offer_declined_with_no_thanks_credits_nobody(engine: Engine) -> None:
    await engine.handle(message("gus", "Fin, want me to set up the board for your workshop?", when(0),
                                message_id="o1"))
    await engine.handle(message("fin", "No thanks, I've got it covered.", when(3), thread="o1", message_id="o2"))
    await engine.handle(message("max", "Nein danke, ich habe sie schon.", when(4), thread="o1", message_id="o3"))
    assert await credited(engine, "gus", "fin") == {"gus": 0, "fin": 0}


async def test_a_thanks_to_steward_by_name_credits_no_member(engine: Engine) -> None:
    await answered_thread(engine, "Give me a minute.")
    bot_said = MessagePosted(workspace=WS, at=when(10), channel="help", message_id="s1", user="steward",
                             user_name="Steward", text="A related lesson: exporting attendee lists.", thread="q1",
                             bot=True)
    await engine.handle(bot_said)
    await engine.handle(message("ana", "thanks <@steward>, that's the one", when(11), thread="q1", message_id="t2"))
    assert await credited(engine, "ben", "cem", "steward") == {"ben": 0, "cem": 0, "steward": 0}
    await engine.handle(message("ana", "and thanks <@ben>!", when(12), thread="q1", message_id="t3"))
    assert await credited(engine, "ben", "cem") == {"ben": 1, "cem": 0}, "naming a member still credits them"
