"""The hand-labelled thanks and lesson-pointer sets (benchmarks/thanks_and_pointers.py): they load, every label
names something that exists, the development and held-out parts do not overlap, and the figures on the
development part stay above their floor, precision first."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def benchmark() -> ModuleType:
    path = ROOT / "benchmarks" / "thanks_and_pointers.py"
    spec = importlib.util.spec_from_file_location("thanks_pointers_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while the module loads
    spec.loader.exec_module(module)
    return module


BENCH = benchmark()


@pytest.mark.parametrize("which", ["development", "held-out"])
def test_thanks_labels_credit_members_who_spoke_in_the_thread(which: str) -> None:
    threads = BENCH.load(BENCH.THANKS[which])
    assert len(threads) >= 10 and {t["language"] for t in threads} == {"en", "de"}
    assert any(t["credited"] for t in threads) and any(not t["credited"] for t in threads)
    for thread in threads:
        people = {m["user"] for m in thread["messages"] if not m.get("bot")}
        for n, said in enumerate(thread["messages"]):
            assert said["text"].strip(), (thread["id"], n)
            assert 0 <= said.get("reply_to", 0) < n or "reply_to" not in said, (thread["id"], n)
        for by, member in thread["credited"]:
            assert by in people and member in people and by != member, (thread["id"], by, member)


@pytest.mark.parametrize("which", ["development", "held-out"])
def test_pointer_labels_name_a_lesson_the_asker_may_see(which: str) -> None:
    lessons: dict[str, dict[str, Any]] = {lesson["id"]: lesson for lesson in BENCH.load(BENCH.LESSONS)}
    questions = BENCH.load(BENCH.QUESTIONS[which])
    assert len(lessons) >= 30 and any(lesson["private"] for lesson in lessons.values())
    assert {q["language"] for q in questions} == {"en", "de"}
    answered = [q for q in questions if q["lesson"]]
    assert answered and len(answered) < len(questions), "some questions have no answering lesson"
    for question in answered:
        assert question["lesson"] in lessons, question
        assert not lessons[question["lesson"]]["private"], "no question is answered by a lesson it cannot see"


def test_development_and_held_out_parts_do_not_overlap() -> None:
    for parts in (BENCH.THANKS, BENCH.QUESTIONS):
        dev, held = (BENCH.load(parts[which]) for which in ("development", "held-out"))
        assert not {r["id"] for r in dev} & {r["id"] for r in held}
        texts = {m["text"] for r in dev for m in r.get("messages", [r])}
        assert not texts & {m["text"] for r in held for m in r.get("messages", [r])}


def test_thanks_credit_nobody_wrongly_on_the_development_part() -> None:
    scores, found, threads = BENCH.measure_thanks("development")
    every = {s.name: s for s in scores}["credits (all)"]
    assert every.false_positives == 0, sorted(found - BENCH.gold_credits(threads))
    assert every.recall >= 0.9, every


def test_lesson_pointers_are_never_wrong_on_the_development_part() -> None:
    scores, run, _questions = BENCH.measure_pointers("development")
    every = {s.name: s for s in scores}["pointers (all)"]
    assert every.false_positives == 0, run.pointed
    assert every.recall >= 0.7, every
    private = {lesson["id"] for lesson in BENCH.load(BENCH.LESSONS) if lesson["private"]}
    assert not set(run.pointed.values()) & private, "a pointer never leads into a private channel"


async def test_a_question_for_when_who_or_why_gets_no_lesson_pointer(sqlite_url: str) -> None:
    from bot.core.actions import Action, PostMessage
    from bot.core.lessons import LessonDraft
    from storage.lessons import LessonStore
    from tests.conftest import make_settings
    from tests.support import at, community, message

    engine = await community(make_settings(sqlite_url, lesson_related_replies=True), at("2026-03-04 08:00"))
    try:
        await LessonStore(engine.db).upsert(
            "console:test", "t1", LessonDraft(title="Town hall recording", summary="Recording the town hall.",
                                              solution="Start the recording in the meeting."),
            channel_id="help", permalink="console:test/help/t1", now=at("2026-03-04 08:00"),
        )
        decided: list[Action] = []
        engine.observers.append(lambda _e, actions, _c: decided.extend(actions))
        await engine.handle(message("lea", "When is the next town hall recording?", at("2026-03-04 09:00"),
                                    message_id="q1"))
        await engine.handle(message("max", "How do I start the town hall recording?", at("2026-03-04 09:10"),
                                    message_id="q2"))
        pointers = [a.key for a in decided if isinstance(a, PostMessage) and a.key.startswith("lesson-related:")]
        assert pointers == ["lesson-related:q2"]
    finally:
        await engine.db.dispose()
