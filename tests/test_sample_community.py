"""Checks the sample community transcript that the demo and the scenario tests rely on.

The file is hand-written data, so these tests guard its shape (format, order, references) and the
situations that examples/README.md promises a newcomer will see when running Steward on it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample-community.jsonl"
BERLIN = ZoneInfo("Europe/Berlin")
FIRST_DAY, LAST_DAY = date(2026, 3, 2), date(2026, 3, 15)

REQUIRED = {
    "meta": {"kind", "ts", "platform", "workspace"},
    "message": {"kind", "ts", "id", "channel", "user", "text"},
    "edit": {"kind", "ts", "id", "text"},
    "delete": {"kind", "ts", "id"},
    "reaction": {"kind", "ts", "message", "user", "emoji"},
    "join": {"kind", "ts", "channel", "user"},
}

FACILITATORS = {"U01ANNA", "U01JONAS"}
NEWCOMERS = {"U01NINA", "U01OMAR", "U01LEA"}
UNANSWERED = ["s41", "s99", "s122", "s164", "s228"]
STUCK = ["s156", "s159", "s180"]
LESSON = "s59"
INTERLEAVED = ["s71", "s72"]

GERMAN_WORDS = {"und", "ich", "nicht", "der", "die", "das", "ist", "wir", "für", "mit", "danke", "bei",
                "uns", "es", "gibt", "auf", "noch", "mich", "dir", "euch", "moin", "hallo", "passt", "bis",
                "man", "ein", "eine", "oder"}
ENGLISH_WORDS = {"the", "and", "is", "to", "you", "for", "it", "of", "in", "thanks", "my", "our", "we",
                 "i", "that", "on", "this", "with", "all", "me"}


def _load() -> list[dict[str, Any]]:
    """Parse every line; a broken line fails here with its number, which is what a reader needs."""
    lines: list[dict[str, Any]] = []
    with SAMPLE.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError as exc:
                pytest.fail(f"line {number} is not valid JSON: {exc}")
    return lines


@pytest.fixture(scope="module")
def lines() -> list[dict[str, Any]]:
    return _load()


@pytest.fixture(scope="module")
def messages(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["kind"] == "message"]


@pytest.fixture(scope="module")
def by_id(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in messages}


def _local(ts: str) -> datetime:
    """Timestamps must carry an offset; comparing them in Berlin time matches the community's day."""
    parsed = datetime.fromisoformat(ts)
    assert parsed.tzinfo is not None, f"timestamp without offset: {ts}"
    return parsed.astimezone(BERLIN)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-zäöüß]+", text.lower()))


def _replies_to(messages: list[dict[str, Any]], root: str) -> list[dict[str, Any]]:
    """Messages that explicitly belong to a question, in its thread or by reply_to."""
    return [m for m in messages if root in (m.get("thread"), m.get("reply_to"))]


def _reactions(lines: list[dict[str, Any]], target: str, emoji: str) -> list[dict[str, Any]]:
    return [x for x in lines if x["kind"] == "reaction" and x["message"] == target and x["emoji"] == emoji]


def test_every_line_has_a_known_kind_and_its_required_fields(lines: list[dict[str, Any]]) -> None:
    for number, line in enumerate(lines, start=1):
        assert line.get("kind") in REQUIRED, f"line {number}: unknown kind {line.get('kind')!r}"
        missing = REQUIRED[line["kind"]] - line.keys()
        assert not missing, f"line {number}: missing {sorted(missing)}"


def test_meta_describes_the_workspace(lines: list[dict[str, Any]]) -> None:
    meta = lines[0]
    assert meta["kind"] == "meta"
    assert (meta["platform"], meta["workspace"]) == ("slack", "Acme Wandel")
    assert (meta["timezone"], meta["language"]) == ("Europe/Berlin", "en")
    assert all(line["kind"] != "meta" for line in lines[1:])


def test_lines_are_in_time_order_within_the_two_weeks(lines: list[dict[str, Any]]) -> None:
    stamps = [_local(line["ts"]) for line in lines]
    assert stamps == sorted(stamps)
    assert stamps[0].date() >= FIRST_DAY and stamps[-1].date() <= LAST_DAY
    days = {s.date() for s, line in zip(stamps, lines, strict=True) if line["kind"] == "message"}
    assert {FIRST_DAY, LAST_DAY} <= days


def test_messages_happen_mostly_in_working_hours(messages: list[dict[str, Any]]) -> None:
    stamps = [_local(m["ts"]) for m in messages]
    weekend = [s for s in stamps if s.weekday() >= 5]
    office = [s for s in stamps if s.weekday() < 5 and 8 <= s.hour < 18]
    evening = [s for s in stamps if s.weekday() < 5 and s.hour >= 18]
    assert len(weekend) <= 3
    assert len(office) >= 0.85 * len(stamps)
    assert len(evening) >= 5


def test_enough_messages_with_unique_sequential_ids(messages: list[dict[str, Any]]) -> None:
    assert len(messages) >= 230
    ids = [m["id"] for m in messages]
    assert len(set(ids)) == len(ids)
    assert ids == [f"s{n}" for n in range(1, len(ids) + 1)]


def test_every_reference_points_to_an_earlier_message(lines: list[dict[str, Any]]) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for line in lines:
        targets = [line.get("thread"), line.get("reply_to")] if line["kind"] == "message" else []
        if line["kind"] == "reaction":
            targets = [line["message"]]
        elif line["kind"] in ("edit", "delete"):
            targets = [line["id"]]
        for target in filter(None, targets):
            assert target in seen, f"{line['kind']} at {line['ts']} refers to unknown or later {target}"
            assert seen[target]["channel"] == line.get("channel", seen[target]["channel"])
        if line.get("thread"):
            assert "thread" not in seen[line["thread"]], "a thread root must not itself sit in a thread"
        if line["kind"] == "message":
            seen[line["id"]] = line


def test_channels_people_and_languages(messages: list[dict[str, Any]]) -> None:
    assert {m["channel"] for m in messages} == {"general", "help", "wandel-de", "facilitators"}
    names: dict[str, set[str]] = {}
    for m in messages:
        assert re.fullmatch(r"U01[A-Z]+", m["user"]), m["user"]
        names.setdefault(m["user"], set()).add(m["user_name"])
    assert all(len(n) == 1 for n in names.values()), "one display name per user"
    assert 11 <= len(names) <= 14

    def german(m: dict[str, Any]) -> bool:
        words = _words(m["text"])
        return len(words & GERMAN_WORDS) > len(words & ENGLISH_WORDS)

    de = [m for m in messages if m["channel"] == "wandel-de"]
    en = [m for m in messages if m["channel"] in ("general", "help")]
    assert len(de) >= 40 and sum(map(german, de)) >= 0.9 * len(de)
    assert len(en) >= 150 and sum(not german(m) for m in en) >= 0.95 * len(en)


def test_three_newcomers_join_and_one_asks_a_first_question(
        lines: list[dict[str, Any]], messages: list[dict[str, Any]]) -> None:
    joins = [x for x in lines if x["kind"] == "join"]
    assert {x["user"] for x in joins} == NEWCOMERS
    for user in NEWCOMERS:
        joined = min(_local(x["ts"]) for x in joins if x["user"] == user)
        posts = [m for m in messages if m["user"] == user]
        assert posts and all(_local(m["ts"]) > joined for m in posts)
    first_posts_in_help = [next(m for m in messages if m["user"] == u and m["channel"] == "help")
                           for u in NEWCOMERS if any(m["user"] == u and m["channel"] == "help"
                                                     for m in messages)]
    assert any("?" in m["text"] for m in first_posts_in_help)


def test_unanswered_questions_get_no_reply_for_four_working_hours(
        messages: list[dict[str, Any]], by_id: dict[str, dict[str, Any]]) -> None:
    assert len(UNANSWERED) >= 4
    for qid in UNANSWERED:
        question = by_id[qid]
        asked = _local(question["ts"])
        assert asked.weekday() < 5 and 8 <= asked.hour < 13, f"{qid} should be asked in working hours"
        assert not _replies_to(messages, qid), f"{qid} must stay unanswered"
        later_same_day = [m for m in messages
                          if m["channel"] == question["channel"] and "thread" not in m
                          and m["user"] != question["user"]
                          and asked < _local(m["ts"]) and _local(m["ts"]).date() == asked.date()
                          and (_local(m["ts"]) - asked).total_seconds() < 4 * 3600]
        assert not later_same_day, f"{qid}: nobody else may post flat in the channel for four hours"


def test_stuck_member_asks_twice_then_says_so(
        lines: list[dict[str, Any]], messages: list[dict[str, Any]],
        by_id: dict[str, dict[str, Any]]) -> None:
    asks = [by_id[i] for i in STUCK]
    assert len({m["user"] for m in asks}) == 1
    days = [_local(m["ts"]).date() for m in asks]
    assert days == sorted(set(days))
    assert not _replies_to(messages, STUCK[0]) and not _replies_to(messages, STUCK[1])
    assert "komme nicht weiter" in asks[-1]["text"].lower()
    helper = [m for m in _replies_to(messages, STUCK[-1]) if m["user"] != asks[-1]["user"]]
    assert any("<@" in m["text"] for m in helper), "someone brings in an expert by mention"
    assert _reactions(lines, STUCK[-1], "white_check_mark")


def test_lesson_thread_is_long_helpful_and_appreciated(
        lines: list[dict[str, Any]], messages: list[dict[str, Any]],
        by_id: dict[str, dict[str, Any]]) -> None:
    replies = [m for m in messages if m.get("thread") == LESSON]
    assert len(replies) >= 8
    assert sum("https://wiki.example.com/" in m["text"] for m in replies) >= 2
    assert sum("Step" in m["text"] for m in replies) >= 3
    bulbs = {x["user"] for x in _reactions(lines, LESSON, "bulb")}
    assert len(bulbs) >= 3 and bulbs & FACILITATORS
    asker = by_id[LESSON]["user"]
    assert {x["user"] for x in _reactions(lines, LESSON, "white_check_mark")} == {asker}


def test_the_demo_shows_the_everyday_variety(lines: list[dict[str, Any]], messages: list[dict[str, Any]],
                                             by_id: dict[str, dict[str, Any]]) -> None:
    kinds = Counter(line["kind"] for line in lines)
    assert kinds["edit"] >= 1 and kinds["delete"] >= 1
    emojis = {x["emoji"] for x in lines if x["kind"] == "reaction"}
    assert {"white_check_mark", "bulb", "+1", "tada", "raised_hands"} <= emojis
    assert sum(1 for m in messages if re.search(r"<@U01[A-Z]+>", m["text"])) >= 2
    assert any(m.get("reply_to") for m in messages) and any(m.get("thread") for m in messages)
    first, second = (by_id[i] for i in INTERLEAVED)
    assert first["channel"] == second["channel"] == "help"
    assert not _replies_to(messages, first["id"]) and not _replies_to(messages, second["id"])
