"""Capturing lessons in a conversation: by command and by reactions, once per thread, never from private channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from bot.app.engine import Engine
from bot.core.actions import Action, PinMessage, PostEphemeral, PostMessage, UpdateMessage
from bot.core.events import MessageDeleted
from storage.lessons import LessonStore
from tests.conftest import make_settings
from tests.support import WS, at, command, community, message, reaction

START = at("2026-03-04 08:00")


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[Engine]:
    engine = await community(make_settings(sqlite_url, facilitators="anna"), START)
    try:
        yield engine
    finally:
        await engine.db.dispose()


async def run(engine: Engine, *events: object) -> list[Action]:
    """Every action decided for the events, private replies included."""
    decided: list[Action] = []
    engine.observers.append(lambda _e, actions, _c: decided.extend(actions))
    for event in events:
        await engine.handle(event)  # type: ignore[arg-type]
    engine.observers.pop()
    return decided


async def thread(engine: Engine, root: str = "q1", channel: str = "help") -> None:
    await run(
        engine,
        message("elif", "Half of our team gets OneDrive sync errors saying the path is too long. What can we do?",
                at("2026-03-04 08:10"), message_id=root, channel=channel),
        message("priya", "Step 1: stop syncing the whole library and add a shortcut to My files instead.",
                at("2026-03-04 08:20"), thread=root, message_id=f"{root}a", channel=channel),
        message("david", "Tip: click the cloud icon and open View sync problems to see which paths are too long.",
                at("2026-03-04 08:30"), thread=root, message_id=f"{root}b", channel=channel),
        message("elif", "That worked, the sync errors are gone. Thanks!", at("2026-03-04 08:40"), thread=root,
                message_id=f"{root}c", channel=channel),
    )


def store(engine: Engine) -> LessonStore:
    return LessonStore(engine.db)


def of(actions: list[Action], kind: type[Action]) -> list[Action]:
    return [a for a in actions if isinstance(a, kind)]


async def test_command_in_a_thread_pins_and_posts_the_lesson_card(engine: Engine) -> None:
    await thread(engine)
    actions = await run(engine, command("tom", "lesson", at("2026-03-04 09:00"), thread="q1"))
    pins = of(actions, PinMessage)
    posts = of(actions, PostMessage)
    assert [p.message_id for p in pins] == ["q1"]  # type: ignore[attr-defined]
    assert len(posts) == 1 and posts[0].thread == "q1"  # type: ignore[attr-defined]
    card = posts[0].card  # type: ignore[attr-defined]
    assert card is not None and "OneDrive sync errors" in card.title
    assert "<@priya>" in posts[0].text and "<@elif>" in posts[0].text  # type: ignore[attr-defined]
    reply = of(actions, PostEphemeral)[0]
    assert "Saved as lesson #" in reply.text  # type: ignore[attr-defined]
    assert engine.extras["report_lessons"]() == [{"id": "1", "title": card.title.removeprefix("💡 "), "source": "q1"}]


async def test_capturing_twice_updates_the_same_lesson(engine: Engine) -> None:
    await thread(engine)
    await run(engine, command("tom", "lesson", at("2026-03-04 09:00"), thread="q1"))
    actions = await run(engine, command("tom", "lesson OneDrive path too long", at("2026-03-04 09:05"),
                                        thread="q1"))
    assert of(actions, PinMessage) == [] and of(actions, PostMessage) == []
    assert len(of(actions, UpdateMessage)) == 1
    lessons = await store(engine).all(WS)
    assert len(lessons) == 1 and lessons[0].title == "OneDrive path too long"


async def test_members_reactions_capture_at_the_threshold(engine: Engine) -> None:
    await thread(engine)
    two = await run(engine, reaction("tom", "q1", "bulb", at("2026-03-04 09:00")),
                    reaction("katrin", "q1", "bulb", at("2026-03-04 09:01")))
    assert of(two, PinMessage) == [] and await store(engine).all(WS) == []
    reply = await run(engine, reaction("omar", "q1a", "bulb", at("2026-03-04 09:02")))
    assert of(reply, PinMessage) == []  # a reply's reactions count on their own
    third = await run(engine, reaction("lea", "q1", "bulb", at("2026-03-04 09:03")))
    assert len(of(third, PinMessage)) == 1 and len(await store(engine).all(WS)) == 1
    again = await run(engine, reaction("marc", "q1", "bulb", at("2026-03-04 09:05")))
    assert of(again, PostMessage) == [] and of(again, UpdateMessage) == []


async def test_a_facilitators_reaction_captures_at_once(engine: Engine) -> None:
    await thread(engine)
    actions = await run(engine, reaction("anna", "q1b", "bulb", at("2026-03-04 09:00")))
    assert [a.message_id for a in of(actions, PinMessage)] == ["q1"]  # type: ignore[attr-defined]
    other = await run(engine, reaction("anna", "q1", "tada", at("2026-03-04 09:01")))
    assert of(other, PostMessage) == []


async def test_private_channels_never_feed_the_store(engine: Engine) -> None:
    channel = engine.state.channel(WS, "hr-private")
    channel.private = True
    engine.state.touch_channel(channel)
    await thread(engine, "p1", channel="hr-private")
    actions = await run(engine, command("anna", "lesson", at("2026-03-04 09:00"), thread="p1", channel="hr-private"),
                        reaction("anna", "p1", "bulb", at("2026-03-04 09:01")))
    assert of(actions, PinMessage) == [] and of(actions, PostMessage) == []
    assert "private" in of(actions, PostEphemeral)[0].text  # type: ignore[attr-defined]
    assert await store(engine).all(WS) == []


async def test_search_answers_privately_with_ranked_lessons(engine: Engine) -> None:
    await thread(engine)
    await run(engine, command("tom", "lesson", at("2026-03-04 09:00"), thread="q1"))
    found = await run(engine, command("nina", "lessons onedrive syncing", at("2026-03-04 10:00"), channel="general"))
    assert len(found) == 1 and isinstance(found[0], PostEphemeral) and found[0].user == "nina"
    assert found[0].card is not None and "#1" in found[0].card.sections[0]
    nothing = await run(engine, command("nina", "lessons payroll", at("2026-03-04 10:01")))
    assert "No lesson matches" in nothing[0].text  # type: ignore[attr-defined]


async def test_curation_is_for_facilitators(engine: Engine) -> None:
    await thread(engine)
    await run(engine, command("tom", "lesson", at("2026-03-04 09:00"), thread="q1"))
    refused = await run(engine, command("tom", "lesson delete 1", at("2026-03-04 09:10")))
    assert "facilitators only" in refused[0].text  # type: ignore[attr-defined]
    renamed = await run(engine, command("anna", "lesson edit 1 Fixing OneDrive sync", at("2026-03-04 09:11")))
    assert "Fixing OneDrive sync" in renamed[0].text  # type: ignore[attr-defined]
    verified = await run(engine, command("anna", "lesson verify 1", at("2026-03-04 09:12")))
    assert "verified" in verified[0].text  # type: ignore[attr-defined]
    missing = await run(engine, command("anna", "lesson delete 7", at("2026-03-04 09:13")))
    assert "no lesson #7" in missing[0].text  # type: ignore[attr-defined]
    await run(engine, command("anna", "lesson delete 1", at("2026-03-04 09:14")))
    assert await store(engine).all(WS) == [] and engine.extras["report_lessons"]() == []


async def test_deleting_the_source_message_removes_its_lesson(engine: Engine) -> None:
    await thread(engine)
    await run(engine, command("tom", "lesson", at("2026-03-04 09:00"), thread="q1"))
    await run(engine, MessageDeleted(workspace=WS, at=at("2026-03-04 09:30"), message_id="q1", channel="help"))
    assert await store(engine).all(WS) == []


async def test_related_lesson_reply_is_opt_in(sqlite_url: str) -> None:
    for enabled in (False, True):
        settings = make_settings(f"{sqlite_url}.{enabled}", lesson_related_replies=enabled)
        engine = await community(settings, START)
        try:
            await thread(engine)
            await run(engine, command("tom", "lesson", at("2026-03-04 09:00"), thread="q1"))
            asked: datetime = at("2026-03-05 09:00")
            actions = await run(engine, message("lea", "We get OneDrive sync errors, the path is too long. Any fix?",
                                                asked, message_id="q2"))
            related = [a for a in of(actions, PostMessage) if a.key == "lesson-related:q2"]
            assert len(related) == int(enabled)
        finally:
            await engine.db.dispose()
