"""Checks the sample community transcript that the demo and the scenario tests rely on.

The file is hand-written data, so these tests guard its shape (format, order, references) and the
situations that examples/README.md promises a newcomer will see when running Steward on it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.console.render import Narrator
from bot.app.replay import replay
from bot.core.actions import Action, PostEphemeral, action_text
from bot.core.events import Event, HelpCredited
from bot.core.recognition import Credit
from bot.rules import RuleContext
from bot.runner import SAMPLE_FACILITATORS, sample_settings
from bot.settings import Settings

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
    "command": {"kind", "ts", "channel", "user", "text"},
    "click": {"kind", "ts", "channel", "user", "action", "message"},
}

FACILITATORS = {"U01ANNA", "U01JONAS"}
NEWCOMERS = {"U01NINA", "U01OMAR", "U01LEA"}  # they join and post within days
SILENT_NEWCOMER = "U01FELIX"  # joins and never posts: welcomed, then invited once
ORIGINAL_MESSAGES = 235  # s1..s235 in time order; the lines added later continue the numbering where they fall
CO_CREATION_MESSAGES = 253  # s236..s253: newcomers, thanks, decisions, ideas; s254 on: lessons, paths, the report
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
    # The history ends on the Monday after the two weeks, when the second week's digests go out.
    assert _local(meta["until"]) == datetime(2026, 3, 16, 9, tzinfo=BERLIN)


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
    assert sorted(ids, key=lambda i: int(i[1:])) == [f"s{n}" for n in range(1, len(ids) + 1)]
    numbers = [int(i[1:]) for i in ids]
    parts = [
        [n for n in numbers if n <= ORIGINAL_MESSAGES],
        [n for n in numbers if ORIGINAL_MESSAGES < n <= CO_CREATION_MESSAGES],
        [n for n in numbers if n > CO_CREATION_MESSAGES],
    ]
    assert all(part == sorted(part) for part in parts), "each part is numbered in time order"


def test_every_reference_points_to_an_earlier_message(lines: list[dict[str, Any]]) -> None:
    seen: dict[str, dict[str, Any]] = {}
    ideas: list[dict[str, Any]] = []  # `/steward idea TEXT` in order: a button or 👍 names an idea by its number
    paths: dict[str, set[int]] = {}  # `/steward path new NAME …` in order, with the lessons `path add` put on it
    for line in lines:
        targets = [line.get("thread"), line.get("reply_to")] if line["kind"] == "message" else []
        if line["kind"] == "command" and line["text"].split()[:2][-1:] == ["idea"]:
            ideas.append(line)
        if line["kind"] == "command" and line["text"].split()[1:3] in (["path", "new"], ["path", "add"]):
            name, *rest = line["text"].split()[3:]
            paths.setdefault(name, set()).update(int(rest[0]) for _ in rest[:1] if line["text"].split()[2] == "add")
        if line["kind"] == "click" and line["action"].startswith("path_"):  # its value: PATH:LESSON:ROUND
            path, lesson, _round = (int(part) for part in line["message"].split(":"))
            assert 1 <= path <= len(paths), f"click at {line['ts']} names path #{path} before it exists"
            assert lesson in list(paths.values())[path - 1], f"click at {line['ts']}: lesson #{lesson} is not on it"
            continue
        if line["kind"] in ("reaction", "click") and line["message"].isdigit():
            number = int(line["message"])
            assert 1 <= number <= len(ideas), f"{line['kind']} at {line['ts']} names idea #{number} before it exists"
            assert line.get("channel", ideas[number - 1]["channel"]) == ideas[number - 1]["channel"]
            continue
        if line["kind"] in ("reaction", "click"):
            targets = [line["message"]]
        elif line["kind"] == "command":
            targets = [line.get("thread")]
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
    assert {x["user"] for x in joins} == NEWCOMERS | {SILENT_NEWCOMER}
    assert all(x.get("user_name") for x in joins), "a newcomer is named before their first message"
    assert not [m for m in messages if m["user"] == SILENT_NEWCOMER], "one newcomer never posts"
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


# --- what the demo shows: the sample replayed, as `make run` narrates it ----------------------------------------
WS = "slack:Acme Wandel"


@dataclass
class Demo:
    """One replay of the sample with the demo's narrator: what Steward did, the credits kept, the report, the story."""

    actions: list[tuple[datetime, Action]] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    told: list[str] = field(default_factory=list)

    def sent(self, prefix: str) -> list[tuple[datetime, Action]]:
        return [(when, a) for when, a in self.actions if a.key.startswith(prefix)]

    def local(self, prefix: str) -> list[datetime]:
        return [when.astimezone(BERLIN).replace(tzinfo=None) for when, _ in self.sent(prefix)]

    def text(self, prefix: str) -> str:
        return "\n".join(action_text(a) for _, a in self.sent(prefix))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    shown = Demo()
    narrator = Narrator(shown.told.append)

    def watch(event: Event, actions: Sequence[Action], ctx: RuleContext) -> None:
        narrator(event, actions, ctx)
        shown.actions.extend((event.at, a) for a in actions)
        if isinstance(event, HelpCredited):
            shown.credits.extend(event.credits)

    with pytest.MonkeyPatch.context() as env:  # never a developer's tokens or database
        for name in list(os.environ):
            if name.startswith(("SLACK_", "DISCORD_", "OPENAI_")) or name in {"DATABASE_URL", "FACILITATORS"}:
                env.delenv(name)
        database = f"sqlite:///{tmp_path_factory.mktemp('demo')}/steward.db"
        settings = Settings(_env_file=None, database_url=database, steward_timezone="Europe/Berlin")  # type: ignore[call-arg]
        shown.report = asyncio.run(replay(SAMPLE, sample_settings(settings), on_actions=watch)).report
    return shown


def _told(demo: Demo, *parts: str) -> list[str]:
    return [line for line in demo.told if all(part in line for part in parts)]


def test_each_newcomer_is_welcomed_once_and_the_silent_one_invited_once(demo: Demo) -> None:
    for user in NEWCOMERS | {SILENT_NEWCOMER}:
        assert len(demo.sent(f"welcome:{user}")) == 1, f"{user} is welcomed once"
    assert demo.local(f"welcome:{SILENT_NEWCOMER}") == [datetime(2026, 3, 4, 11, 10)]
    assert "Willkommen in <#wandel-de>" in demo.text(f"welcome:{SILENT_NEWCOMER}"), "welcomed in German"
    invitations = demo.sent("invite:")
    assert [a.user for _, a in invitations] == [SILENT_NEWCOMER], "only the newcomer who never posted is invited"  # type: ignore[attr-defined]
    assert demo.local("invite:") == [datetime(2026, 3, 11, 11, 10)], "a week after joining, once"
    assert "vor 7 Tagen" in demo.text("invite:")
    assert _told(demo, "👋 Felix Braun joined #wandel-de") and _told(demo, "👋 Nina Brandt joined #general")
    assert _told(demo, "→ DM to @Felix Braun"), "the narration names the newcomer, not an id"


def test_thanks_credit_the_helpers_in_english_and_german(demo: Demo) -> None:
    credited = {(c.by, c.member, c.how) for c in demo.credits}
    assert ("U01DAVID", "U01MARC", "thanks") in credited, "“Request submitted, thanks Marc!” credits Marc"
    assert ("U01KATRIN", "U01LUKAS", "thanks") in credited, "“Danke, hat geklappt!” credits Lukas"
    on_purpose = [c for c in demo.credits if c.how == "command"]
    assert {(c.by, c.member) for c in on_purpose} == {("U01NINA", "U01OMAR"), ("U01KATRIN", "U01LUKAS")}
    assert len({c.key for c in demo.credits}) == len(demo.credits), "each thank-you is credited once"
    told = demo.text("thanks:")
    assert "<@U01NINA> thanked you" in told and "rerouting my GRC request" in told
    assert "<@U01KATRIN> thanked you" in told and "für die Anleitung zum Board" in told
    assert _told(demo, "🙏 thanks from Nina Brandt credited to Omar Haddad (command)")
    assert _told(demo, "🙏 thanks from David Okafor credited to Marc Schneider (thanks)")


def test_the_second_weeks_digests_name_first_time_helpers_newcomers_and_decisions(demo: Demo) -> None:
    monday = [a for when, a in demo.sent("digest:") if when.astimezone(BERLIN).date() == date(2026, 3, 16)]
    digests = {a.channel: action_text(a) for a in monday}  # type: ignore[attr-defined]
    assert set(digests) == {"general", "help", "wandel-de"}
    assert "incl. first-time helper <@U01OMAR>" in digests["help"]
    assert "darunter <@U01LEA> zum ersten Mal" in digests["wandel-de"]
    assert "Neue Mitglieder im März 2026: 2 beigetreten, davon 1 mit Beitrag und 1 mit einer Antwort" in digests[
        "wandel-de"]
    assert "Decided this week, and why" in digests["general"] and "Files tab in Teams" in digests["general"]
    assert "Diese Woche entschieden, und warum" in digests["wandel-de"]
    assert "Schichtleiter-Schulung vor Ort in Hamburg" in digests["wandel-de"]
    first_week = [a for when, a in demo.sent("digest:") if when.astimezone(BERLIN).date() == date(2026, 3, 9)]
    assert len(first_week) == 3 and not any("first-time" in action_text(a) for a in first_week), (
        "nobody is a first-time helper in the first week Steward has answers for")


def test_decisions_are_recorded_in_their_threads_and_stand_by_consent(demo: Demo) -> None:
    offers = {o["thread"]: o["message"] for o in demo.report["decision_offers"]}
    assert offers == {"s236": "s239", "s244": "s248"}, "“dann machen wir das so”, “let's go with”: one offer each"
    decisions = {d["thread"]: d for d in demo.report["decisions"]}
    assert {t: d["status"] for t, d in decisions.items()} == {"s236": "agreed", "s244": "agreed"}
    german, english = decisions["s236"], decisions["s244"]
    assert german["title"] == "Schichtleiter-Schulung vor Ort in Hamburg", "the title Jonas gave with /steward decide"
    # The German one was objected to and proposed anew: 48 working hours from the second proposal (Wed 09:40).
    assert demo.sent(f"decision-objected:{WS}:{german['id']}:0"), "Marc's objection opens it again"
    assert demo.sent(f"decision:{WS}:{german['id']}:1"), "/steward decide after the talk proposes it anew"
    assert demo.local(f"decision-agreed:{WS}:{german['id']}:") == [datetime(2026, 3, 12, 9, 40)]
    assert "gilt: Niemand hat Einwände erhoben" in demo.text(f"decision-agreed:{WS}:{german['id']}:")
    # The English one was recorded from Steward's offer (Anna's click) and agreed by three.
    assert demo.sent(f"decision:{WS}:{english['id']}:0")[0][1].thread == "s244"  # type: ignore[attr-defined]
    assert demo.local(f"decision-agreed:{WS}:{english['id']}:") == [datetime(2026, 3, 13, 16, 42)]
    agreed_by_three = demo.text(f"decision-card:{WS}:{english['id']}:")
    assert "3 agree so far" in agreed_by_three, "Priya's, Sabine's and David's agreement is counted"
    assert _told(demo, "🔘 Anna Becker pressed “Record decision”", "One thing we didn't settle")
    assert _told(demo, "🔘 Marc Schneider pressed “Object”")
    assert _told(demo, "⌨️ Sabine Krüger in #wandel-de: /steward decide")


def test_commitments_are_followed_up_once_before_due_and_closed_by_done(demo: Demo) -> None:
    promised = {c["message"]: c for c in demo.report["commitments"]}
    for message, asked_at in (("s14", datetime(2026, 3, 4, 10)), ("s242", datetime(2026, 3, 5, 15))):
        commitment = promised[message]
        assert (commitment["status"], commitment["asked"]) == ("done", True), message
        due = _local(commitment["due_at"]).replace(tzinfo=None)
        assert demo.local(f"commitment-ask:{WS}:{commitment['id']}:") == [asked_at], f"{message}: asked once"
        assert asked_at == due - timedelta(hours=2), "two working hours before it is due"
    assert "Du hattest zugesagt: „Ich kümmere mich bis Donnerstag um die Raumbuchung im Lager“" in demo.text(
        f"commitment-ask:{WS}:{promised['s242']['id']}:"), "Tom is asked in German"
    done = [a for _, a in demo.actions if isinstance(a, PostEphemeral) and a.key.endswith(":commit.done_noted")]
    assert sorted(a.user for a in done) == ["U01PRIYA", "U01TOM"]
    assert {c["status"] for c in promised.values() if c["message"] not in ("s14", "s242")} == {"open"}
    assert _told(demo, "📌 a commitment noted: Tom Fischer's message “Ich kümmere mich bis Donnerstag")
    assert _told(demo, "🔘 Tom Fischer pressed “Done ✅”", "Raumbuchung")


def _monday_digests(demo: Demo) -> dict[str, str]:
    monday = [a for when, a in demo.sent("digest:") if when.astimezone(BERLIN).date() == date(2026, 3, 16)]
    return {a.channel: action_text(a) for a in monday}  # type: ignore[attr-defined]


def _replies_to_command(demo: Demo, user: str, key: str) -> list[str]:
    """The private answers `user` got to their commands, by catalog key (`reply:CHANNEL:USER:AT:KEY`)."""
    return [action_text(a) for _, a in demo.actions
            if isinstance(a, PostEphemeral) and a.user == user and a.key.endswith(f":{key}")]


def test_facilitators_of_the_sample_are_the_programme_office() -> None:
    assert set(SAMPLE_FACILITATORS) == FACILITATORS
    plain = Settings(_env_file=None, facilitators="U9")  # type: ignore[call-arg]
    assert sample_settings(plain).facilitator_ids == {"U9", *FACILITATORS}, "a configured facilitator stays one"


def test_ideas_get_their_votes_and_one_is_accepted_by_a_facilitator(demo: Demo) -> None:
    ideas = {i["id"]: i for i in demo.report["ideas"]}
    english, german = (next(i for i in ideas.values() if i["channel"] == c) for c in ("general", "wandel-de"))
    assert (english["status"], english["votes"]) == ("accepted", 5), "four Support clicks and Priya's 👍"
    assert (german["status"], german["votes"]) == ("proposed", 3), "two Support clicks and Katrin's 👍"
    assert "office hours" in english["text"] and "Video-Anleitungen" in german["text"]
    assert "Idee #{}: vorgeschlagen · 3 Stimmen".format(german["id"]) in demo.text(f"idea-card:{WS}:{german['id']}:")
    assert "Idea #{}: accepted · 5 votes".format(english["id"]) in demo.text(f"idea-card:{WS}:{english['id']}:")
    assert _told(demo, "🔘 Elif Yılmaz pressed “👍 Support” on idea #1")
    assert _told(demo, "➕ Priya Nair reacted :+1: to idea #1"), "a 👍 on the card is a vote, told as one"
    assert _told(demo, "🔘 Anna Becker pressed “Accept” on idea #1")
    digests = _monday_digests(demo)
    assert "*A new idea this week*" in digests["general"] and "(5 votes)" in digests["general"]
    assert "*Eine neue Idee diese Woche*" in digests["wandel-de"] and "(3 Stimmen)" in digests["wandel-de"]
    assert "Video-Anleitungen" not in digests["general"], "each channel's digest names its own ideas"


def test_the_initiative_groups_a_decision_an_idea_and_a_commitment_and_the_digest_shows_its_progress(
        demo: Demo) -> None:
    added = _replies_to_command(demo, "U01ANNA", "initiative.added")
    assert [line.split(" to ")[0] for line in added] == ["Added decision #2", "Added idea #1", "Added commitment #4"]
    grouped = {c["id"]: c["message"] for c in demo.report["commitments"]}
    assert grouped[4] == "s212", "commitment #4 is Anna's slide template for the wave 3 kickoff"
    assert {d["id"]: d["thread"] for d in demo.report["decisions"]}[2] == "s244", "decision #2: the Files tab"
    digest = _monday_digests(demo)["general"]
    line = next(x for x in digest.splitlines() if "Wave 3 onboarding" in x)
    assert "1 of one decision taken" in line and "1 accepted" in line and "1 open" in line, line
    assert "*Initiatives*" in digest and "Wave 3 onboarding" not in _monday_digests(demo)["wandel-de"]


def test_the_skills_map_lists_only_members_who_opted_in(lines: list[dict[str, Any]],
                                                          by_id: dict[str, dict[str, Any]], demo: Demo) -> None:
    opted_in = {x["user"] for x in lines if x["kind"] == "command" and x["text"].endswith("expert visible on")}
    assert opted_in == {"U01MARC", "U01LUKAS"}
    answered_by = {q["first_response_id"] and by_id[q["first_response_id"]]["user"] for q in demo.report["questions"]
                   if q["first_response_id"] and "jira" in by_id[q["id"]]["text"].lower()}
    assert answered_by - opted_in, "others answered Jira questions too: the map must leave them out"
    [answer] = _replies_to_command(demo, "U01LEA", "skills.found")
    listed = set(re.findall(r"<@(U01[A-Z]+)>", answer))
    assert listed and listed <= opted_in, answer
    assert _told(demo, "⌨️ Lea Vogel in #wandel-de: /steward skills Jira")


def test_make_run_twice_gives_the_sample_the_same_numbers(settings: Settings) -> None:
    """The transcript names idea #1, decision #2 and commitment #4: a second `make run` into the same database
    must give them those numbers again, or its clicks and `initiative add` would miss."""
    from bot.runner import run_demo

    for run in (1, 2):
        printed: list[str] = []
        run_demo(settings, printed.append)
        story = "\n".join(printed)
        assert "Added commitment #4 to the initiative Wave 3 onboarding." in story, f"run {run}"
        assert 'Lesson #1 is now number 3 on the path "wave3".' in story, f"run {run}: `path add wave3 1` finds it"
        assert "Idea #1 is now accepted." in story and "idea #2" in story, f"run {run}"
        assert "ideas: 2 (votes: 8), accepted: 1, proposed: 1" in printed, f"run {run}: the summary counts them"
        assert "false alarms (flags on answered questions or non-questions): 0" in story[story.index("Against"):]


# --- empowerment and learning: a learning path, the sponsor report so far, a lesson a newer decision bears on -------
PATH_LESSON = f"path-lesson:{WS}:1:"  # the direct message of one round on the path wave3 (path #1)


def test_a_facilitator_arranges_a_learning_path_and_two_members_follow_it_at_their_own_pace(demo: Demo) -> None:
    assert _replies_to_command(demo, "U01ANNA", "path.created") == [
        'The learning path "wave3" is ready. Add lessons with `/steward path add wave3 LESSON_ID`.']
    added = _replies_to_command(demo, "U01ANNA", "path.added")
    assert added == [f'Lesson #{n} is now number {i} on the path "wave3".' for i, n in ((1, 3), (2, 4), (3, 1))]
    captured = {lesson["source"]: lesson["id"] for lesson in demo.report["lessons"]}
    assert [captured[s] for s in ("s101", "s161", "s59")] == ["3", "4", "1"], "the path's lessons, captured before"
    # Nina: one lesson every two working days; "Done" on Wednesday brings the second on Friday at the same time.
    assert demo.local(f"{PATH_LESSON}U01NINA:") == [datetime(2026, 3, 11, 10, 20), datetime(2026, 3, 13, 10, 45)]
    assert 'Your learning path "wave3": lesson 1 of 3.' in demo.text(f"{PATH_LESSON}U01NINA:0")
    assert "lesson 2 of 3" in demo.text(f"{PATH_LESSON}U01NINA:1")
    assert [line.split(".")[0] for line in _replies_to_command(demo, "U01NINA", "path.done_noted")] == [
        "Noted: 1 of 3 done", "Noted: 2 of 3 done"], "her progress is kept; the third lesson comes next week"
    # Lea: daily ("täglich"); she answers the second lesson with "Later", so it comes again on Monday afternoon.
    assert demo.local(f"{PATH_LESSON}U01LEA:") == [datetime(2026, 3, 12, 14, 15), datetime(2026, 3, 13, 14, 25)]
    assert "one lesson every working day" in _replies_to_command(demo, "U01LEA", "path.started")[0]
    [later] = _replies_to_command(demo, "U01LEA", "path.later_noted")
    assert "Mar 16, 2026, 14:40" in later, "the same lesson again, a working day later"
    sent = [a for a in demo.report["actions"] if a["type"] == "send_dm" and "wave3" in a.get("text", "")]
    assert {a["user"] for a in sent} == {"U01NINA", "U01LEA"}, "the replay report carries the deliveries"
    assert _told(demo, "⌨️ Anna Becker in #facilitators: /steward path new wave3")
    assert len(_told(demo, "📚 learning path: Nina Brandt gets the next lesson")) == 2
    assert _told(demo, "🔘 Nina Brandt pressed “Done ✅” on lesson #3 of their learning path")


def test_a_facilitator_notes_something_for_the_sponsor_report_and_sees_the_month_so_far(demo: Demo) -> None:
    assert _replies_to_command(demo, "U01ANNA", "report.note_saved") == ["Noted for the report on March 2026."]
    [preview] = _replies_to_command(demo, "U01ANNA", "report.preview")
    assert "Sponsor report so far: Acme Wandel, March 2026" in preview
    assert "active members" in preview and "questions (" in preview, "enough people: the figures are shown"
    assert "Schichtleiter-Schulung vor Ort in Hamburg" in preview, "the decision that stood on Thursday"
    assert "Files tab" not in preview, "the other one stands only after the preview (16:42)"
    assert "lessons were added to the knowledge store" in preview
    assert "Nina and Lea are trying our first learning path" in preview, "Anna's note"
    assert "Too few to show (fewer than 5 people)" in preview, "four newcomers: below the anonymity floor"
    assert _told(demo, "📊 the sponsor report of the month so far, privately for Anna Becker")
    assert not demo.sent("sponsor-report:"), "nothing is posted: no month ends inside the sample"


def test_a_decision_that_stands_offers_the_lesson_it_bears_on_to_its_authors_once(demo: Demo) -> None:
    lessons = {lesson["source"]: lesson["id"] for lesson in demo.report["lessons"]}
    recordings = lessons["s254"]  # "don't put them in the Files tab", captured before decision #2 was taken
    offers = demo.sent("lesson-decision:")
    assert sorted(a.user for _, a in offers) == ["U01KATRIN", "U01SABINE"], "the thread's two authors, once each"  # type: ignore[attr-defined]
    assert demo.local("lesson-decision:") == [datetime(2026, 3, 13, 16, 42)] * 2, "when decision #2 stands"
    text = demo.text("lesson-decision:")
    assert 'Decision #2 "' in text and f"lesson #{recordings}" in text and "Files tab in Teams" in text
    assert all(a.key.split(":")[-3] == str(recordings) for _, a in offers), "no other lesson is offered"
    assert _told(demo, f"🔎 decision #2 stands and bears on lesson #{recordings}: offered to Katrin Wolf")
