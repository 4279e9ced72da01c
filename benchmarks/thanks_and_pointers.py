"""Thanks and lesson pointers on small hand-labelled sets, precision first: whom a thank-you credits, and which
lesson a new question is pointed to.

Both sets are English and German chat written for this benchmark (tests/data/README.md says what is in them).
The thanks set holds short threads labelled with who credits whom (`credited`: pairs of thanker and credited
member; most hard negatives credit nobody). Each thread goes into a channel of its own, through the real engine
(`steward replay`'s code path), and the credits the engine stored are compared with the labels.

The pointer set is a knowledge store of lessons (two of them kept in private channels) and questions labelled
with the one lesson that answers them, or none. The lessons are written into the knowledge store, the questions
are replayed with related-lesson replies switched on, and the pointers Steward posted are compared with the
labels. Precision is right pointers over all pointers offered; recall is the share of questions that have an
answering lesson and got a right pointer. `--sweep` also prints the precision and recall the same search would
reach at other thresholds of its score, for the questions the engine took for questions.

Each set has a development part (the rules were tuned on it) and a held-out part (never tuned on).

    .venv/bin/python benchmarks/thanks_and_pointers.py [--verbose] [--sweep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
THANKS = {"development": DATA / "thanks_threads.jsonl", "held-out": DATA / "thanks_heldout_threads.jsonl"}
LESSONS = DATA / "lesson_store.jsonl"
QUESTIONS = {"development": DATA / "lesson_questions.jsonl", "held-out": DATA / "lesson_heldout_questions.jsonl"}
TIMEZONE = "Europe/Berlin"
THANKS_WORKSPACE = "thanks-benchmark"
POINTER_WORKSPACE = "pointer-benchmark"
LESSONS_SAVED_AT = datetime.fromisoformat("2026-03-01T09:00:00+01:00")
QUESTIONS_START = datetime.fromisoformat("2026-04-13T09:00:00+02:00")
SWEEP = (0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Score:
    """Precision and recall of one decision on one language (or all)."""

    name: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def recall(self) -> float | None:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else None


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def lesson_link(lesson_id: str) -> str:
    """The permalink a lesson of the set is stored with: a pointer names its lesson by it."""
    return f"console:{POINTER_WORKSPACE}#lessons/{lesson_id}"


def _settings(folder: str, **overrides: Any) -> Any:
    from bot.settings import Settings

    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"sqlite:///{folder}/benchmark.db", steward_timezone=TIMEZONE, **overrides
    )


def _write(folder: str, events: list[dict[str, Any]]) -> Path:
    path = Path(folder) / "transcript.jsonl"
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events) + "\n", encoding="utf-8")
    return path


# --- thanks ----------------------------------------------------------------------------------------------------
def thanks_transcript(threads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The threads as one replay transcript: each in a channel of its own, a reply every five minutes."""
    events: list[dict[str, Any]] = []
    for thread in threads:
        start = datetime.fromisoformat(thread["start"])
        events.append({"kind": "channel", "ts": start.isoformat(), "id": thread["id"], "name": thread["id"],
                       "language": thread["language"]})
        for n, said in enumerate(thread["messages"]):
            event: dict[str, Any] = {
                "kind": "message", "ts": (start + timedelta(minutes=5 * n)).isoformat(), "id": f"{thread['id']}-{n}",
                "channel": thread["id"], "user": said["user"], "user_name": said["user"], "text": said["text"],
            }
            if n and not thread.get("flat"):
                event["thread"] = f"{thread['id']}-0"
            if "reply_to" in said:
                event["reply_to"] = f"{thread['id']}-{said['reply_to']}"
            if said.get("bot"):
                event["bot"] = True
            events.append(event)
    meta = {"kind": "meta", "ts": events[0]["ts"], "platform": "console", "workspace": THANKS_WORKSPACE,
            "timezone": TIMEZONE, "language": "en"}
    return [meta, *events]


async def replay_credits(threads: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(channel, thanker, credited member) of every credit the engine kept."""
    from sqlalchemy import select

    from bot.app.replay import replay
    from storage.db import create_engine
    from storage.recognition import T_CREDIT

    with tempfile.TemporaryDirectory() as folder:
        settings = _settings(folder)
        await replay(_write(folder, thanks_transcript(threads)), settings)
        db = create_engine(settings.database_url)
        try:
            async with db.connect() as conn:
                rows = await conn.execute(select(T_CREDIT.c.channel_id, T_CREDIT.c.by_id, T_CREDIT.c.member_id))
                return {(r.channel_id or "", r.by_id or "", r.member_id) for r in rows}
        finally:
            await db.dispose()


def gold_credits(threads: Iterable[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(t["id"], by, member) for t in threads for by, member in t["credited"]}


def score_thanks(
    threads: list[dict[str, Any]], found: set[tuple[str, str, str]], language: str | None
) -> Score:
    chosen = {t["id"] for t in threads if language in (None, t["language"])}
    gold = {c for c in gold_credits(threads) if c[0] in chosen}
    made = {c for c in found if c[0] in chosen}
    return Score(f"credits ({language or 'all'})", len(made & gold), len(made - gold), len(gold - made))


# --- lesson pointers -------------------------------------------------------------------------------------------
def pointer_transcript(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions as one replay transcript: one channel per language, each question by its own member."""
    events: list[dict[str, Any]] = []
    for language in ("en", "de"):
        events.append({"kind": "channel", "ts": QUESTIONS_START.isoformat(), "id": f"ask-{language}",
                       "name": f"ask-{language}", "language": language})
    for n, question in enumerate(questions):
        events.append({
            "kind": "message", "ts": (QUESTIONS_START + timedelta(minutes=10 * n)).isoformat(), "id": question["id"],
            "channel": f"ask-{question['language']}", "user": f"asker-{question['id']}",
            "user_name": f"asker-{question['id']}", "text": question["text"],
        })
    meta = {"kind": "meta", "ts": events[0]["ts"], "platform": "console", "workspace": POINTER_WORKSPACE,
            "timezone": TIMEZONE, "language": "en"}
    return [meta, *events]


async def fill_store(database_url: str, lessons: list[dict[str, Any]]) -> None:
    """Write the set's lessons into the knowledge store, as capturing their threads would have."""
    from bot.core.lessons import LessonDraft
    from storage.db import create_engine
    from storage.lessons import LessonStore
    from storage.migrate import upgrade

    await upgrade(database_url)
    db = create_engine(database_url)
    try:
        store = LessonStore(db)
        for lesson in lessons:
            draft = LessonDraft(title=lesson["title"], summary=lesson["summary"], solution=lesson["solution"],
                                tags=tuple(lesson["tags"]))
            await store.upsert(f"console:{POINTER_WORKSPACE}", lesson["id"], draft, channel_id=lesson["channel"],
                               permalink=lesson_link(lesson["id"]), now=LESSONS_SAVED_AT, private=lesson["private"])
    finally:
        await db.dispose()


@dataclass(frozen=True)
class PointerRun:
    """What the engine did with the questions, and what the search scored for each of them."""

    pointed: dict[str, str]  # question id -> lesson id of the pointer posted in its thread
    asked: set[str]  # the questions the engine took for questions
    best: dict[str, tuple[str, float]]  # question id -> (lesson id, score) of the search's best related lesson
    threshold: float


async def replay_pointers(lessons: list[dict[str, Any]], questions: list[dict[str, Any]]) -> PointerRun:
    from bot.app.replay import replay
    from storage.db import create_engine
    from storage.lessons import LessonStore

    links = {lesson_link(lesson["id"]): lesson["id"] for lesson in lessons}
    with tempfile.TemporaryDirectory() as folder:
        settings = _settings(folder, lesson_related_replies=True)
        await fill_store(settings.database_url, lessons)
        result = await replay(_write(folder, pointer_transcript(questions)), settings)
        pointed = {}
        for action in result.report["actions"]:
            text = action.get("text", "")
            found = [lesson for link, lesson in links.items() if link in text]
            if action["type"] == "post_message" and action.get("thread") and found:
                pointed[action["thread"]] = found[0]
        asked = {q["id"] for q in result.report["questions"]}
        db = create_engine(settings.database_url)
        try:
            store, best = LessonStore(db), {}
            for question in questions:
                hits = await store.related(f"console:{POINTER_WORKSPACE}", question["text"], limit=1)
                if hits:
                    best[question["id"]] = (links.get(hits[0].link, hits[0].link), hits[0].score)
        finally:
            await db.dispose()
    return PointerRun(pointed, asked, best, settings.lesson_related_min_score)


def score_pointers(questions: list[dict[str, Any]], pointed: dict[str, str], language: str | None) -> Score:
    chosen = [q for q in questions if language in (None, q["language"])]
    right = sum(1 for q in chosen if q["id"] in pointed and pointed[q["id"]] == q["lesson"])
    wrong = sum(1 for q in chosen if q["id"] in pointed and pointed[q["id"]] != q["lesson"])
    missed = sum(1 for q in chosen if q["lesson"] and pointed.get(q["id"]) != q["lesson"])
    return Score(f"pointers ({language or 'all'})", right, wrong, missed)


def sweep(questions: list[dict[str, Any]], run: PointerRun) -> list[tuple[float, Score]]:
    """What the search would point to at each threshold, for the questions the engine took for questions and the
    rule looks a lesson up for."""
    from facilitation_rules.text.cues import asks_when_who_or_why

    asked = [q for q in questions if q["id"] in run.asked and not asks_when_who_or_why(q["text"])]
    rows = []
    for threshold in SWEEP:
        looked_up = {q["id"] for q in asked}
        pointed = {q: lesson for q, (lesson, score) in run.best.items() if score >= threshold and q in looked_up}
        score = score_pointers(asked, pointed, None)
        missing = sum(1 for q in questions if q["lesson"] and q["id"] not in looked_up)
        rows.append((threshold, Score(f"at {threshold:.2f}", score.true_positives, score.false_positives,
                                      score.false_negatives + missing)))
    return rows


# --- both ------------------------------------------------------------------------------------------------------
def measure_thanks(which: str = "development") -> tuple[list[Score], set[tuple[str, str, str]], list[dict[str, Any]]]:
    threads = load(THANKS[which])
    found = asyncio.run(replay_credits(threads))
    return [score_thanks(threads, found, lang) for lang in ("en", "de", None)], found, threads


def measure_pointers(which: str = "development") -> tuple[list[Score], PointerRun, list[dict[str, Any]]]:
    questions = load(QUESTIONS[which])
    run = asyncio.run(replay_pointers(load(LESSONS), questions))
    return [score_pointers(questions, run.pointed, lang) for lang in ("en", "de", None)], run, questions


def table(scores: Iterable[Score]) -> str:
    def share(value: float | None) -> str:
        return "   –  " if value is None else f"{value:6.2f}"

    rows = [f"{'':20} {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>7}"]
    rows += [f"{s.name:20} {s.true_positives:3} {s.false_positives:3} {s.false_negatives:3} "
             f"{share(s.precision):>9} {share(s.recall):>7}" for s in scores]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every miss and false alarm")
    parser.add_argument("--sweep", action="store_true", help="pointer precision and recall at other thresholds")
    args = parser.parse_args()
    for which in THANKS:
        scores, found, threads = measure_thanks(which)
        print(f"thanks, {which} part: {len(threads)} threads, {len(gold_credits(threads))} credits labelled")
        print(table(scores))
        if args.verbose:
            gold = gold_credits(threads)
            for credit in sorted(found - gold):
                print(f"  false credit {credit}")
            for credit in sorted(gold - found):
                print(f"  missed credit {credit}")
        print()
    for which in QUESTIONS:
        scores, run, questions = measure_pointers(which)
        answerable = sum(1 for q in questions if q["lesson"])
        print(f"lesson pointers, {which} part: {len(questions)} questions ({answerable} with an answering lesson), "
              f"threshold in use {run.threshold:.2f}, {len(run.asked)} taken for questions")
        print(table(scores))
        if args.sweep:
            print(table(score for _, score in sweep(questions, run)))
        if args.verbose:
            for q in questions:
                got = run.pointed.get(q["id"])
                if got != q["lesson"] and (got or q["id"] in run.asked):
                    best = run.best.get(q["id"])
                    print(f"  {q['id']}: labelled {q['lesson']}, pointed {got}, best {best}: {q['text']}")
                elif q["id"] not in run.asked:
                    print(f"  {q['id']}: not taken for a question: {q['text']}")
        print()


if __name__ == "__main__":
    main()
