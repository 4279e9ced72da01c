"""Recognition as conversations: a thank-you credits the member it thanks (in English and German, in words, with
🙏 or the asker's ✅), `/steward thanks` credits on purpose and tells the member privately, `/steward me` shows a
member what they helped with, and the digest counts helpers without ranking them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from bot.app.engine import Engine
from bot.app.replay import run_due_work
from bot.core.actions import Action, PostEphemeral, SendDirectMessage
from bot.core.digest_figures import Figures, Period
from bot.core.events import Event
from bot.rules import RuleContext
from bot.settings import Settings
from bot.state import ChannelState, CommunityState
from facilitation_rules.digest_render import render_digest
from storage.recognition import credits_of
from tests.support import WS, at, command, community, message, reaction

MONDAY = at("2026-03-02 08:00")  # 09:00 in Berlin


class Chat:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.said: list[Action] = []
        engine.observers.append(lambda event, actions, ctx: self.said.extend(actions))

    async def say(self, event: Event) -> Sequence[Action]:
        await run_due_work(self.engine, until=event.at)
        self.engine.clock.set(event.at)  # type: ignore[attr-defined]
        return await self.engine.handle(event)

    async def credits(self, member: str) -> list[tuple[str | None, str, str | None]]:
        """(who thanked, how, for which message) of each credit the member received."""
        await self.engine.flush()
        async with self.engine.db.connect() as conn:
            return [(c["by_id"], c["how"], c["message_id"]) for c in await credits_of(conn, WS, member)]


@pytest.fixture
async def chat(settings: Settings) -> Chat:
    engine = await community(settings.model_copy(update={"facilitators": "fran"}), MONDAY)
    yield Chat(engine)  # type: ignore[misc]
    await engine.db.dispose()


def when(minutes: int) -> datetime:
    return MONDAY + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("language", "question", "thanks"),
    [
        ("en", "How do I share a OneDrive folder with a supplier?", "Thanks, that worked!"),
        ("de", "Wie teile ich einen OneDrive-Ordner mit einem Lieferanten?", "Danke dir, hat geklappt!"),
    ],
)
async def test_a_thank_you_in_the_thread_credits_the_responder_it_answers(
    chat: Chat, language: str, question: str, thanks: str
) -> None:
    chat.engine.state.workspace(WS).language = language
    await chat.say(message("ana", question, when(0), message_id="q1"))
    await chat.say(message("ben", "Share it from the web." if language == "en" else "Über das Web teilen.",
                           when(5), thread="q1", message_id="b1"))
    await chat.say(message("carl", "And choose 'specific people'." if language == "en"
                           else "Und 'bestimmte Personen' wählen.", when(7), thread="q1", message_id="c1"))
    await chat.say(message("ana", thanks, when(9), thread="q1", message_id="t1"))
    assert await chat.credits("carl") == [("ana", "thanks", "c1")], "the answer the thanks replied to"
    assert await chat.credits("ben") == []
    question_state = chat.engine.state.question(WS, "q1")
    assert question_state is not None and question_state.resolved_how == "thanks"


async def test_a_thank_you_names_replies_or_reacts_and_one_thank_you_is_one_credit(chat: Chat) -> None:
    await chat.say(message("ana", "Where is the rollout plan for the new CRM?", when(0), message_id="q1"))
    await chat.say(message("ben", "In the wiki under Projects.", when(5), thread="q1", message_id="b1"))
    # The asker's ✅ on the answer, a 🙏 and a "thanks" in the thread: one thank-you for ben's answer.
    await chat.say(reaction("ana", "b1", "white_check_mark", when(6)))
    await chat.say(reaction("ana", "b1", "pray", when(7)))
    await chat.say(message("ana", "Thanks!", when(8), thread="q1"))
    assert await chat.credits("ben") == [("ana", "accepted", "b1")]

    await chat.say(reaction("dora", "b1", "pray", when(9)))  # someone else finds it useful too
    await chat.say(message("eve", "thanks <@ben>, saved me a search", when(10), channel="general"))
    await chat.say(message("finn", "Found the template at last", when(11), channel="general", message_id="f1"))
    await chat.say(message("gil", "Thank you!", when(12), channel="general", reply_to="f1"))
    assert [c[:2] for c in await chat.credits("ben")] == [("ana", "accepted"), ("dora", "reaction"),
                                                         ("eve", "thanks")]
    assert await chat.credits("finn") == [("gil", "thanks", "f1")]

    await chat.say(reaction("ana", "q1", "pray", when(13)))  # a 🙏 on a question is not credit for help
    await chat.say(message("hana", "Thanks everyone for the session today!", when(14), channel="general"))
    await chat.say(message("ivo", "Great discussion, thanks all!", when(15), thread="q1"))
    assert await chat.credits("ana") == [], "a thank-you to everyone credits nobody in particular"
    assert len(await chat.credits("ben")) == 3


async def test_a_flat_channel_thanks_credits_the_first_responder(chat: Chat) -> None:
    await chat.say(message("ana", "Does anyone know who approves travel requests?", when(0), message_id="q1"))
    await chat.say(message("ben", "<@ana> your team lead does, in the HR portal.", when(3), message_id="b1"))
    await chat.say(message("ana", "Perfect, thanks a lot!", when(5)))
    question = chat.engine.state.question(WS, "q1")
    assert question is not None and question.resolved_how == "thanks" and question.first_responder_id == "ben"
    assert await chat.credits("ben") == [("ana", "thanks", "b1")]


async def test_steward_thanks_credits_and_tells_the_member_privately_within_etiquette(chat: Chat) -> None:
    await chat.say(message("ben", "Morning!", when(0)))
    await chat.say(message("carl", "Morning!", when(1)))
    replies = await chat.say(command("ana", "thanks <@ben> for walking me through the SAP roles", when(2)))
    assert [r.text for r in replies if isinstance(r, PostEphemeral)] == [
        "Thank you for saying it! I've told <@ben> privately."
    ]
    [dm] = [a for a in chat.said if isinstance(a, SendDirectMessage)]
    assert dm.user == "ben" and "<@ana>" in dm.text and "“for walking me through the SAP roles”" in dm.text
    assert [c[:2] for c in await chat.credits("ben")] == [("ana", "command")]

    await chat.say(command("carl", "mute 3", when(3)))
    replies = await chat.say(command("ana", "thanks @carl", when(4)))
    assert "isn't taking messages right now" in replies[0].text  # type: ignore[attr-defined]
    assert [a.user for a in chat.said if isinstance(a, SendDirectMessage)] == ["ben"], "a muted member gets no DM"
    assert [c[:2] for c in await chat.credits("carl")] == [("ana", "command")], "the credit is kept all the same"

    for args, expected in [("thanks", "Use `/steward thanks"), ("thanks <@ana>", "Thanking yourself"),
                           ("thanks @nobody", "I don't know @nobody")]:
        replies = await chat.say(command("ana", args, when(5)))
        assert replies[0].text.startswith(expected), replies  # type: ignore[attr-defined]


async def test_steward_me_shows_answers_thanks_and_lessons_and_forget_me_removes_credits(chat: Chat) -> None:
    nothing = await chat.say(command("ben", "me", when(0)))
    assert "Nothing yet" in nothing[0].card.sections[0]  # type: ignore[attr-defined]

    await chat.say(message("ana", "How do I book the big meeting room for a workshop?", when(1), message_id="q1"))
    await chat.say(message("ben", "Use the room finder in Outlook, then confirm by mail.", when(3), thread="q1",
                           message_id="b1"))
    await chat.say(message("ana", "Thanks Ben!", when(4), thread="q1"))
    await chat.say(command("fran", "lesson Booking the big meeting room", when(5), thread="q1"))
    await chat.say(message("ben", "Who has the slides from Tuesday?", when(6), message_id="q2"))  # his own question
    await chat.say(message("ana", "I do, sending them.", when(7), thread="q2"))
    await chat.say(command("ana", "thanks <@ben> great tip!", when(8)))

    replies = await chat.say(command("ben", "me", when(9)))
    card = replies[0].card  # type: ignore[attr-defined]
    text = "\n".join(card.sections)
    assert "You answered one question first:" in text and "meeting room" in text
    assert "Who has the slides" not in text, "his own question is not an answer of his"
    assert "You were thanked 2 times:" in text
    assert "<@ana> thanked you" in text and "great tip!" in text and "<@ana> said thanks" in text
    assert "One of your answers became a lesson:" in text and "Booking the big meeting room" in text
    assert "never ranks" in card.footer

    await chat.say(command("ben", "forget me", when(10)))
    assert await chat.credits("ben") == []


def test_the_digest_counts_who_answered_and_names_first_time_helpers_without_ranking() -> None:
    state = CommunityState()
    state.workspace(WS).language = "en"
    for member, name in (("u1", "Anna"), ("u2", "Ben")):
        state.member(WS, member).name = name
    ctx = RuleContext(now=MONDAY, settings=Settings(_env_file=None, database_url="sqlite://"),  # type: ignore[call-arg]
                      state=state)
    period = Period(MONDAY - timedelta(days=7), MONDAY)
    now = Figures(period=period, messages=40, active_members=6, answerers=5, first_time_helpers=("u2", "u1"))
    card = render_digest(ctx, ChannelState(workspace_id=WS, id="help"), now, Figures(period=period.previous()))
    assert "Answered by 5 people this week, incl. first-time helpers <@u1> and <@u2>." in card.sections
    one = Figures(period=period, messages=40, active_members=6, answerers=1, first_time_helpers=("u2",))
    state.workspace(WS).language = "de"
    card = render_digest(ctx, ChannelState(workspace_id=WS, id="help"), one, Figures(period=period.previous()))
    assert "Diese Woche hat eine Person Fragen beantwortet: <@u2> zum ersten Mal." in card.sections
