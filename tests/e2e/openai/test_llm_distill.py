"""The LLM path with the real openai client against a local stub: requests as sent, masking, fallbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app.llm import SYSTEM_PROMPT, LLMDistiller, make_distiller, merge_answer
from bot.core.lessons import ThreadMessage
from bot.settings import Settings
from facilitation_rules.lessons import OfflineDistiller
from facilitation_rules.text.distill import distill
from tests.e2e.openai.fake_openai import FakeOpenAI

THREAD = [
    ThreadMessage(id="m0", author="U1", text="Our shared mailbox stopped syncing to Outlook after the move. "
                  "Write me at ben.k@example.org or call +49 170 1234567 if you know why?", position=0),
    ThreadMessage(id="m1", author="U2", text="Step 1: remove the mailbox from your profile, then add it again "
                  "under Account settings. Use the token xoxb-9999-8888-SECRETsecret only in the admin tool.",
                  position=1, reactions=2),
    ThreadMessage(id="m2", author="U1", text="That worked, thanks!", position=2),
]
ANSWER = {"title": "Shared mailbox not syncing after the move",
          "summary": "After the move the shared mailbox stopped syncing. Removing and re-adding it fixed it.",
          "steps": ["Remove the mailbox from the profile", "Add it again under Account settings"],
          "tags": ["Outlook", "#mailbox"]}


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.answer = ANSWER
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def settings_for(fake: FakeOpenAI, **overrides: object) -> Settings:
    values: dict[str, object] = {"openai_api_key": "test-key", "openai_base_url": fake.base_url,
                                 "openai_model": "local-model", "openai_timeout_seconds": 0.5}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_without_a_key_distillation_stays_offline() -> None:
    assert isinstance(make_distiller(Settings(_env_file=None)), OfflineDistiller)  # type: ignore[call-arg]


async def test_the_model_writes_the_lesson_from_a_masked_thread(fake: FakeOpenAI) -> None:
    distiller = make_distiller(settings_for(fake))
    assert isinstance(distiller, LLMDistiller)
    lesson = await distiller.distill(THREAD)
    assert lesson.title == ANSWER["title"] and lesson.summary == ANSWER["summary"]
    assert lesson.steps == tuple(ANSWER["steps"]) and lesson.tags == ("outlook", "mailbox")
    assert lesson.contributors == distill(THREAD).contributors  # credit comes from the thread, not the model
    request = fake.requests[0]
    assert request["model"] == "local-model" and request["response_format"] == {"type": "json_object"}
    assert fake.headers[0]["Authorization"] == "Bearer test-key"
    sent = request["messages"][1]["content"]
    for private in ("ben.k@example.org", "1234567", "xoxb-", "U1", "U2"):
        assert private not in sent
    assert "[email]" in sent and "[phone]" in sent and "[token]" in sent and sent.startswith("<thread>\nP1: ")


async def test_input_is_capped(fake: FakeOpenAI) -> None:
    long = [*THREAD, ThreadMessage(id="m3", author="U3", text="word " * 2000, position=3)]
    await make_distiller(settings_for(fake, openai_max_input_chars=600)).distill(long)
    assert len(fake.requests[0]["messages"][1]["content"]) <= 600


@pytest.mark.parametrize("mode", ["error", "slow", "garbage"])
async def test_failures_fall_back_to_the_offline_lesson(fake: FakeOpenAI, mode: str) -> None:
    fake.mode = mode
    lesson = await make_distiller(settings_for(fake)).distill(THREAD, title="Mailbox sync")
    assert lesson == distill(THREAD, title="Mailbox sync")
    assert 1 <= len(fake.requests) <= 2  # bounded retries


async def test_the_model_answers_in_the_cards_shape(fake: FakeOpenAI) -> None:
    fake.answer = {"title": "Shared mailbox not syncing", "problem": "The shared mailbox stopped syncing.",
                   "what_worked": "Removing and re-adding it.", "steps": ["Remove the mailbox", "Add it again"],
                   "tips": ["Tip: restart Outlook afterwards"], "tags": ["outlook"]}
    lesson = await make_distiller(settings_for(fake)).distill(THREAD)
    assert (lesson.summary, lesson.solution) == ("The shared mailbox stopped syncing.", "Removing and re-adding it.")
    assert lesson.steps == ("Remove the mailbox", "Add it again")
    assert lesson.tips == ("Tip: restart Outlook afterwards",)
    for key in ('"problem"', '"what_worked"', '"steps"', '"tips"'):
        assert key in SYSTEM_PROMPT


def test_the_older_shape_is_still_taken_without_repeating_anything() -> None:
    offline = distill(THREAD)
    lesson = merge_answer(ANSWER, offline, title=None)
    assert lesson.summary == ANSWER["summary"] and lesson.solution == ""  # the summary already says what worked
    assert lesson.tips == offline.tips and lesson.steps == tuple(ANSWER["steps"])
    assert merge_answer({**ANSWER, "tips": []}, offline, title=None).tips == ()
