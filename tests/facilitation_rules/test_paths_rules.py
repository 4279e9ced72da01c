"""Learning paths and stale-lesson reviews as pure decisions: paces, names, the etiquette of a delivery, and a
review offered once per author and staleness. No database, no engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.changes import NudgeSent, Scheduled, apply_all
from bot.core.actions import PostEphemeral, SendDirectMessage
from bot.core.events import CommandInvoked
from bot.core.paths import Enrolment, PathRecord, PathStep, StaleLesson, path_subject, review_subject
from bot.rules import RuleContext
from bot.settings import Settings
from bot.state import CommunityState
from facilitation_rules.lesson_review import months_before, offers
from facilitation_rules.paths import (
    LearningPaths,
    PathCommand,
    deliver,
    next_round_at,
    next_step,
    parse_button,
    parse_pace,
    path_name,
)

WS = "console:view"
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
PATH = PathRecord(
    id=7, workspace_id=WS, name="crm", goal="Get going with the CRM", created_by="fran", created_at=MONDAY,
    steps=(
        PathStep(lesson_id=3, title="SAP roles", summary="How to request them", link="https://x/3", channel_id="help"),
        PathStep(lesson_id=1, title="Rooms", summary="Booking rooms", link="", channel_id="help"),
    ),
)


def context(now: datetime = MONDAY, **settings: object) -> RuleContext:
    state = CommunityState()
    state.workspace(WS).timezone = "Europe/Berlin"
    chosen = Settings(_env_file=None, database_url="sqlite://", steward_timezone="Europe/Berlin",  # type: ignore[call-arg]
                      **settings)
    return RuleContext(now=now, settings=chosen, state=state)


def enrolment(member: str = "tom", *, done: frozenset[int] = frozenset(), round_: int = 0) -> Enrolment:
    return Enrolment(workspace_id=WS, path_id=PATH.id, member_id=member, pace_days=2, status="active", round=round_,
                     due_at=MONDAY, started_at=MONDAY, done=done)


@pytest.mark.parametrize(("words", "days"), [
    ("", 2), ("daily", 1), ("täglich", 1), ("weekly", 5), ("wöchentlich", 5), ("every 3 days", 3),
    ("alle 4 Tage", 4), ("3d", 3), ("10", 10), ("every 1 day", 1),
])
def test_a_pace_is_read_in_english_and_german(words: str, days: int) -> None:
    assert parse_pace(words.split()) == days


@pytest.mark.parametrize("words", ["sometimes", "every 0 days", "every 400 days", "every two days", "3 4", "-1"])
def test_a_pace_that_makes_no_sense_is_refused(words: str) -> None:
    assert parse_pace(words.split()) is None


def test_names_are_one_word_and_never_a_subcommand() -> None:
    assert path_name("CRM-Rollout") == "crm-rollout"
    assert path_name("start") is None and path_name("new") is None
    assert path_name("two words") is None and path_name("x" * 41) is None and path_name("<@U1>") is None


def test_pace_counts_working_days_in_the_members_hours() -> None:
    ctx = context()
    friday = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)  # 15:00 in Berlin
    assert next_round_at(ctx, WS, "tom", 2, friday) == datetime(2026, 3, 10, 14, 0, tzinfo=UTC), "over the weekend"
    assert next_round_at(ctx, WS, "tom", 1, MONDAY) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_the_next_step_is_the_first_not_done_and_its_number_on_the_path() -> None:
    assert next_step(PATH, enrolment()) == (1, PATH.steps[0])
    assert next_step(PATH, enrolment(done=frozenset({3}))) == (2, PATH.steps[1])
    assert next_step(PATH, enrolment(done=frozenset({1, 3}))) is None


def test_a_delivery_is_a_nudge_with_the_progress_and_the_choice() -> None:
    ctx = context()
    nudged, message = deliver(PATH, enrolment(round_=4), ctx)
    assert isinstance(nudged, NudgeSent) and nudged.kind == "path" and nudged.question_id == path_subject(7, 4)
    assert isinstance(message, SendDirectMessage) and message.user == "tom"
    assert "lesson 1 of 2" in message.text and message.card is not None and message.card.footer == "Lesson 1 of 2"
    assert [(b.action, b.value) for b in message.buttons] == [("path_done", "7:3:4"), ("path_later", "7:3:4")]
    assert parse_button("7:3:4") == (7, 3, 4) and parse_button("7:x:4") is None and parse_button("1:2") is None
    german = context()
    german.state.member(WS, "tom").language = "de"
    [_, message] = deliver(PATH, enrolment(), german)
    assert "Lektion 1 von 2" in message.text and message.buttons[0].label.startswith("Erledigt")  # type: ignore[attr-defined]


def test_a_delivery_waits_for_mute_quiet_hours_and_budget_and_never_reaches_the_forgotten() -> None:
    ctx = context()
    tom = ctx.state.member(WS, "tom")
    tom.muted_until = MONDAY + timedelta(days=2)
    [later] = deliver(PATH, enrolment(), ctx)
    assert isinstance(later, Scheduled) and later.at == MONDAY + timedelta(days=2, minutes=1)
    tom.muted_until = MONDAY + timedelta(days=36500)  # forget-me mutes for good
    assert deliver(PATH, enrolment(), ctx) == []
    tom.muted_until = None
    tom.quiet_start, tom.quiet_end = 8, 12
    [later] = deliver(PATH, enrolment(), ctx)
    assert isinstance(later, Scheduled) and later.at == MONDAY + timedelta(minutes=30)
    tom.quiet_start = tom.quiet_end = None
    tom.nudges_sent = [MONDAY - timedelta(hours=1)] * 2
    [later] = deliver(PATH, enrolment(), ctx)
    assert isinstance(later, Scheduled) and later.at == MONDAY + timedelta(hours=2)
    [message] = deliver(PATH, enrolment(), ctx, asked=True)  # `path next`: asked for, so no nudge
    assert isinstance(message, SendDirectMessage)
    tom.dm_closed = True
    assert deliver(PATH, enrolment(), ctx) == []


def test_editing_a_path_is_for_facilitators_and_following_for_everyone() -> None:
    rule = LearningPaths(enabled=True)
    ctx = context()
    handler = rule.commands()["path"].handler

    def run(user: str, args: str, is_admin: bool = False) -> list[object]:
        event = CommandInvoked(workspace=WS, at=MONDAY, channel="help", user=user, args=f"path {args}",
                               is_admin=is_admin)
        return list(handler(event, args.split(), ctx))

    for args in ("new crm Get going", "add crm 1", "remove crm 1", "delete crm"):
        [refused] = run("mallory", args)
        assert isinstance(refused, PostEphemeral) and "for facilitators only" in refused.text, args
        [allowed] = run("fran", args, is_admin=True)
        assert isinstance(allowed, PathCommand) and allowed.verb == args.split()[0]
    [start] = run("mallory", "start crm every 3 days")
    assert isinstance(start, PathCommand) and (start.verb, start.name, start.pace) == ("start", "crm", 3)
    [listing] = run("mallory", "")
    assert isinstance(listing, PathCommand) and listing.verb == "list"
    for bad in ("add crm one", "add crm 1 0", "remove crm", "new crm", "start crm sometimes", "stop crm now"):
        [usage] = run("fran", bad, is_admin=True)
        assert isinstance(usage, PostEphemeral), bad


def test_months_before_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_before(datetime(2026, 8, 31, 9, tzinfo=UTC), 6) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert months_before(datetime(2026, 3, 15, tzinfo=UTC), 3) == datetime(2025, 12, 15, tzinfo=UTC)
    assert months_before(datetime(2028, 8, 31, tzinfo=UTC), 6) == datetime(2028, 2, 29, tzinfo=UTC)


def test_a_stale_lesson_is_offered_once_per_author_and_staleness() -> None:
    ctx = context(datetime(2026, 9, 7, 8, 0, tzinfo=UTC))
    checked = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    lessons = [
        StaleLesson(lesson_id=1, title="Rooms", link="https://x/1", contributors=("ana", "ben"), checked_at=checked),
        StaleLesson(lesson_id=2, title="CRM", link="", contributors=("ben",), checked_at=checked),
    ]
    decision = offers(lessons, set(), ctx, WS)
    sent = [a for a in decision if isinstance(a, SendDirectMessage)]
    assert [(m.user, m.buttons[0].value) for m in sent] == [("ana", "1"), ("ben", "1")], "one per author and look"
    assert "for 6 months" in sent[0].text and "https://x/1" in sent[0].text
    assert [b.action for b in sent[0].buttons] == ["review_still_right", "review_needs_update", "review_retire"]
    apply_all([c for c in decision if isinstance(c, NudgeSent)], ctx.state)
    asked = {(m.user, review_subject(1, checked)) for m in sent}
    again = [a for a in offers(lessons, asked, ctx, WS) if isinstance(a, SendDirectMessage)]
    assert [(m.user, m.buttons[0].value) for m in again] == [("ben", "2")], "never twice; the next lesson now"
    verified = datetime(2026, 3, 20, tzinfo=UTC)  # a verification starts a new staleness: offered again
    fresh = [StaleLesson(lesson_id=1, title="Rooms", link="", contributors=("ana",), checked_at=verified)]
    assert [a.user for a in offers(fresh, asked, ctx, WS) if isinstance(a, SendDirectMessage)] == ["ana"]
    ctx.state.member(WS, "ana").muted_until = ctx.now + timedelta(days=1)
    assert offers(fresh, asked, ctx, WS) == [], "within the etiquette"


def test_paths_is_another_word_for_the_path_command_and_takes_no_subcommand_of_its_own() -> None:
    from bot.commands import CommandRouter

    router = CommandRouter([LearningPaths(enabled=True)])
    assert set(router.commands) == {"path"} and router.aliases == {"paths": "path"}
    for args in ("paths", "path", "PATHS"):
        event = CommandInvoked(workspace=WS, at=MONDAY, channel="help", user="ida", args=args)
        [listing] = router.dispatch(event, context())
        assert isinstance(listing, PathCommand) and listing.verb == "list", args
    shown = router.dispatch(CommandInvoked(workspace=WS, at=MONDAY, channel="help", user="ida", args="paths crm"),
                            context())
    assert [(c.verb, c.name) for c in shown if isinstance(c, PathCommand)] == [("show", "crm")]
