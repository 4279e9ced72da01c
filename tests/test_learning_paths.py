"""Learning paths and stale-lesson reviews through the real engine and store (Berlin time, a simulated clock):
paths arranged by facilitators, followed at a member's pace within the etiquette, a restart in between, forget-me,
a deleted lesson leaving its paths, and a stale lesson offered once to its authors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app.engine import Engine
from bot.app.replay import run_due_work
from bot.app.wiring import build_engine
from bot.core.actions import Action, PostEphemeral, PostMessage, SendDirectMessage
from bot.core.clock import SimulatedClock
from bot.core.events import Event, InteractionClicked
from bot.settings import Settings
from storage.lesson_model import T_LESSON
from storage.path_model import T_PATH_DONE, T_PATH_LESSON, T_PATH_MEMBER
from storage.repository import T_NUDGE, T_OUTBOX
from tests.conftest import make_settings
from tests.support import WS, at, command, community, message

MONDAY = at("2026-03-02 08:00")  # 09:00 in Berlin
FRAN = "fran"  # a facilitator (a workspace admin)
LESSONS = [
    ("How do I book the big meeting room for a workshop?", "Use the room finder in Outlook, then confirm."),
    ("Where do I find the rollout plan for the new CRM?", "It is in the wiki, under Projects and then CRM."),
    ("How do I request SAP roles for a new colleague?", "Request the SAP roles in the access portal."),
]


class Recorder:
    def __init__(self, engine: Engine) -> None:
        self.actions: list[tuple[datetime, Action]] = []
        engine.observers.append(lambda event, actions, ctx: self.actions.extend((event.at, a) for a in actions))

    def of(self, kind: type, prefix: str = "") -> list[Action]:
        return [a for _, a in self.actions if isinstance(a, kind) and a.key.startswith(prefix)]

    def times(self, prefix: str) -> list[datetime]:
        return [t for t, a in self.actions if a.key.startswith(prefix)]


async def say(engine: Engine, event: Event) -> Sequence[Action]:
    await run_due_work(engine, until=event.at)
    engine.clock.set(event.at)  # type: ignore[attr-defined]
    return await engine.handle(event)


async def wait_until(engine: Engine, moment: datetime) -> None:
    await run_due_work(engine, until=moment)
    engine.clock.set(moment)  # type: ignore[attr-defined]
    await engine.flush()


def click(user: str, action: str, value: str, when: datetime) -> InteractionClicked:
    return InteractionClicked(workspace=WS, at=when, channel=f"D-{user}", user=user, action=action, value=value)


def texts(replies: Sequence[Action]) -> str:
    return " ".join(getattr(r, "text", "") for r in replies)


async def rows(engine: Engine, table: object) -> list[dict[str, object]]:
    await engine.flush()
    async with engine.db.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(table))]  # type: ignore[call-overload]


async def with_lessons(settings: Settings) -> Engine:
    """Lessons #1 to #3 captured by a facilitator (ana asked, ben answered), and the path "crm" of #3, #1, #2."""
    engine = await community(settings, MONDAY - timedelta(hours=1))
    when = MONDAY - timedelta(hours=1)
    for n, (question, answer) in enumerate(LESSONS, start=1):
        await say(engine, message("ana", question, when, message_id=f"q{n}"))
        await say(engine, message("ben", answer, when + timedelta(minutes=2), thread=f"q{n}"))
        saved = await say(engine, command(FRAN, "lesson", when + timedelta(minutes=3), thread=f"q{n}", is_admin=True))
        assert f"lesson #{n}" in texts(saved)
        when += timedelta(minutes=5)
    made = await say(engine, command(FRAN, "path new crm Get going with the CRM rollout", when, is_admin=True))
    assert 'The learning path "crm" is ready' in texts(made)
    for args in ("path add crm 1", "path add crm 2", "path add crm 3 1"):
        when += timedelta(minutes=1)
        assert "on the path" in texts(await say(engine, command(FRAN, args, when, is_admin=True)))
    return engine


def button_value(dm: Action) -> str:
    [done, later] = dm.buttons  # type: ignore[attr-defined]
    assert (done.action, later.action) == ("path_done", "path_later")
    return str(done.value)


# --- paths -------------------------------------------------------------------------------------------------------
async def test_a_member_follows_a_path_at_their_pace_and_is_congratulated_once(settings: Settings) -> None:
    engine = await with_lessons(settings)
    seen = Recorder(engine)
    shown = await say(engine, command("tom", "path crm", MONDAY))
    card = shown[0].card  # type: ignore[attr-defined]
    assert card is not None and "Get going with the CRM rollout" in card.sections[0]
    assert [line.split(" ")[0] for line in card.sections[1].splitlines()] == ["1.", "2.", "3."]
    assert "SAP roles" in card.sections[1].splitlines()[0], "#3 was put first"

    started = await say(engine, command("tom", "path start crm", MONDAY + timedelta(minutes=1)))
    assert "3 lessons, one lesson every 2 working days" in texts(started)
    await wait_until(engine, MONDAY + timedelta(minutes=2))
    [first] = seen.of(SendDirectMessage, "path-lesson:")
    assert first.user == "tom" and "lesson 1 of 3" in first.text  # type: ignore[attr-defined]
    assert "SAP roles" in first.card.title and first.card.footer == "Lesson 1 of 3"  # type: ignore[attr-defined]

    # Done on Monday 09:10: the next lesson two working days later, Wednesday 09:10 Berlin.
    done = await say(engine, click("tom", "path_done", button_value(first), MONDAY + timedelta(minutes=10)))
    assert "1 of 3 done" in texts(done) and "Mar 4, 2026, 09:10" in texts(done)
    again = await say(engine, click("tom", "path_done", button_value(first), MONDAY + timedelta(minutes=11)))
    assert "already" in texts(again), "done twice counts once"
    await wait_until(engine, at("2026-03-04 08:09"))
    assert len(seen.of(SendDirectMessage, "path-lesson:")) == 1
    await wait_until(engine, at("2026-03-04 09:00"))
    second = seen.of(SendDirectMessage, "path-lesson:")[1]
    assert seen.times("path-lesson:")[1] == at("2026-03-04 08:10") and "lesson 2 of 3" in second.text  # type: ignore[attr-defined]

    # Later: the same lesson again two working days on (Friday); then done twice more, and one congratulation.
    later = await say(engine, click("tom", "path_later", button_value(second), at("2026-03-04 09:00")))
    assert "again around Mar 6, 2026, 10:00" in texts(later)
    await wait_until(engine, at("2026-03-06 12:00"))
    third = seen.of(SendDirectMessage, "path-lesson:")[2]
    assert "lesson 2 of 3" in third.text and third.card == second.card  # type: ignore[attr-defined]
    await say(engine, click("tom", "path_done", button_value(third), at("2026-03-06 12:00")))
    await wait_until(engine, at("2026-03-11 12:00"))
    fourth = seen.of(SendDirectMessage, "path-lesson:")[3]
    assert "lesson 3 of 3" in fourth.text  # type: ignore[attr-defined]
    await say(engine, click("tom", "path_done", button_value(fourth), at("2026-03-11 12:05")))
    [congratulation] = seen.of(SendDirectMessage, "path-finished:")
    assert congratulation.user == "tom" and "all 3 lessons" in congratulation.text  # type: ignore[attr-defined]
    await wait_until(engine, at("2026-03-20 12:00"))
    assert len(seen.of(SendDirectMessage, "path-lesson:")) == 4, "nothing after the last lesson"
    assert len(seen.of(SendDirectMessage, "path-finished:")) == 1, "one congratulation"
    [member] = await rows(engine, T_PATH_MEMBER)
    assert member["status"] == "finished"
    status = await say(engine, command("tom", "path crm", at("2026-03-20 12:00")))
    assert "You finished this path (3 of 3)" in status[0].card.as_text()  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_paces_next_stop_and_the_listing(settings: Settings) -> None:
    engine = await with_lessons(settings)
    seen = Recorder(engine)
    listed = await say(engine, command("ida", "paths", MONDAY))
    assert "crm" in listed[0].card.as_text() and "3 lessons" in listed[0].card.as_text()  # type: ignore[attr-defined]
    bad = await say(engine, command("ida", "path start crm every now and then", MONDAY))
    assert "didn't understand the pace" in texts(bad)
    weekly = await say(engine, command("ida", "path start crm weekly", MONDAY + timedelta(minutes=1)))
    assert "one lesson every 5 working days" in texts(weekly)
    await wait_until(engine, MONDAY + timedelta(minutes=2))
    [first] = seen.of(SendDirectMessage, "path-lesson:")
    await say(engine, click("ida", "path_done", button_value(first), MONDAY + timedelta(minutes=3)))
    # `next` sends the next lesson at once, whatever the pace.
    sent = await say(engine, command("ida", "path next crm", MONDAY + timedelta(minutes=4)))
    assert "sent you the next lesson" in texts(sent)
    now = seen.of(SendDirectMessage, "path-lesson:")[-1]
    assert "lesson 2 of 3" in now.text  # type: ignore[attr-defined]
    daily = await say(engine, command("ida", "path start crm daily", MONDAY + timedelta(minutes=5)))
    assert "from now on, one lesson every working day" in texts(daily)
    stopped = await say(engine, command("ida", "path stop crm", MONDAY + timedelta(minutes=6)))
    assert "stopped following" in texts(stopped)
    await say(engine, click("ida", "path_done", button_value(now), MONDAY + timedelta(minutes=7)))
    await wait_until(engine, at("2026-03-20 12:00"))
    assert len(seen.of(SendDirectMessage, "path-lesson:")) == 2, "`next` is sent at once, nothing after stop"
    unknown = await say(engine, command("ida", "path start nowhere", at("2026-03-20 12:00")))
    assert "no learning path called" in texts(unknown)
    usage = await say(engine, command("ida", "path crm extra words", at("2026-03-20 12:01")))
    assert "Usage" in texts(usage)
    alone = await say(engine, command("ida", "path", at("2026-03-20 12:02")))
    assert alone[0].card == listed[0].card, "`path` alone lists the paths, as `paths` does"  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_deliveries_keep_the_etiquette_mute_quiet_hours_and_budget(settings: Settings) -> None:
    engine = await with_lessons(settings)
    seen = Recorder(engine)
    # ben is muted until Thursday; quinn is quiet from 09:00 to 12:00 her time (Berlin); kim has no budget left.
    await say(engine, command("ben", "mute 3", MONDAY))
    quinn = engine.state.member(WS, "quinn")
    quinn.quiet_start, quinn.quiet_end = 9, 12
    await say(engine, command("kim", "stuck", MONDAY))
    kim = engine.state.member(WS, "kim")
    kim.nudges_sent = [MONDAY, MONDAY]
    for who in ("ben", "quinn", "kim"):
        await say(engine, command(who, "path start crm", MONDAY + timedelta(minutes=1)))
    await wait_until(engine, at("2026-03-06 12:00"))
    sent = {a.user: t for t, a in seen.actions if a.key.startswith("path-lesson:")}  # type: ignore[attr-defined]
    assert sent["ben"] == at("2026-03-05 08:01"), "when the mute ended"
    assert sent["quinn"] == at("2026-03-02 11:01"), "after her quiet hours"
    assert sent["kim"] == at("2026-03-03 08:01"), "once a day's budget is free again"
    nudges = [(n["member_id"], n["kind"]) for n in await rows(engine, T_NUDGE) if n["kind"] == "path"]
    assert sorted(nudges) == [("ben", "path"), ("kim", "path"), ("quinn", "path")], "each counts as a nudge"
    await engine.db.dispose()


async def test_a_restart_neither_skips_nor_doubles_a_delivery(settings: Settings) -> None:
    engine = await with_lessons(settings)
    seen = Recorder(engine)
    await say(engine, command("tom", "path start crm", MONDAY))
    await wait_until(engine, MONDAY + timedelta(minutes=1))
    [first] = seen.of(SendDirectMessage, "path-lesson:")
    await say(engine, click("tom", "path_done", button_value(first), MONDAY + timedelta(minutes=5)))
    await engine.close()

    # Down from Monday until Thursday, past Wednesday's delivery: sent once, when Steward is back.
    engine = await build_engine(settings, SimulatedClock(at("2026-03-05 09:00")))
    seen = Recorder(engine)
    await wait_until(engine, at("2026-03-05 09:05"))
    [second] = seen.of(SendDirectMessage, "path-lesson:")
    assert "lesson 2 of 3" in second.text  # type: ignore[attr-defined]
    await engine.close()

    engine = await build_engine(settings, SimulatedClock(at("2026-03-05 09:10")))
    seen = Recorder(engine)
    await wait_until(engine, at("2026-03-12 12:00"))
    assert seen.of(SendDirectMessage, "path-lesson:") == [], "nothing again: tom has not answered yet"
    async with engine.db.connect() as conn:
        keys = [r.key for r in await conn.execute(select(T_OUTBOX.c.key))]
    assert sum(1 for k in keys if k.startswith("path-lesson:")) == 2
    # His progress survived both restarts.
    done = await say(engine, click("tom", "path_done", button_value(second), at("2026-03-12 12:00")))
    assert "2 of 3 done" in texts(done)
    await engine.close()


async def test_forget_me_removes_a_members_progress_and_deliveries(settings: Settings) -> None:
    engine = await with_lessons(settings)
    seen = Recorder(engine)
    for who in ("tom", "ida"):
        await say(engine, command(who, "path start crm", MONDAY))
    await wait_until(engine, MONDAY + timedelta(minutes=1))
    for dm in seen.of(SendDirectMessage, "path-lesson:"):
        await say(engine, click(dm.user, "path_done", button_value(dm), MONDAY + timedelta(minutes=2)))  # type: ignore[attr-defined]
    await say(engine, command("tom", "forget me", MONDAY + timedelta(minutes=3)))
    assert [m["member_id"] for m in await rows(engine, T_PATH_MEMBER)] == ["ida"]
    assert [d["member_id"] for d in await rows(engine, T_PATH_DONE)] == ["ida"]
    await wait_until(engine, at("2026-03-06 12:00"))
    assert [a.user for a in seen.of(SendDirectMessage, "path-lesson:")] == ["tom", "ida", "ida"]  # type: ignore[attr-defined]
    await engine.db.dispose()


async def test_a_deleted_lesson_drops_out_of_paths_cleanly(settings: Settings) -> None:
    engine = await with_lessons(settings)
    seen = Recorder(engine)
    await say(engine, command("tom", "path start crm", MONDAY))
    await wait_until(engine, MONDAY + timedelta(minutes=1))
    [first] = seen.of(SendDirectMessage, "path-lesson:")
    await say(engine, click("tom", "path_done", button_value(first), MONDAY + timedelta(minutes=2)))
    deleted = await say(engine, command(FRAN, "lesson delete 3", MONDAY + timedelta(minutes=3), is_admin=True))
    assert "deleted" in texts(deleted)
    assert sorted((r["lesson_id"], r["position"]) for r in await rows(engine, T_PATH_LESSON)) == [(1, 1), (2, 2)]
    assert await rows(engine, T_PATH_DONE) == [], "progress on the deleted lesson goes too"
    removed = await say(engine, command(FRAN, "path remove crm 2", MONDAY + timedelta(minutes=4), is_admin=True))
    assert "off the path" in texts(removed)
    stale = await say(engine, click("tom", "path_done", button_value(first), MONDAY + timedelta(minutes=5)))
    assert "no longer there" in texts(stale)
    await wait_until(engine, at("2026-03-05 12:00"))
    second = seen.of(SendDirectMessage, "path-lesson:")[1]
    assert "lesson 1 of 1" in second.text and "meeting room" in second.card.title  # type: ignore[attr-defined]
    gone = await say(engine, command(FRAN, "path delete crm", at("2026-03-05 12:00"), is_admin=True))
    assert "deleted" in texts(gone) and await rows(engine, T_PATH_MEMBER) == []
    await engine.db.dispose()


# --- stale lessons -----------------------------------------------------------------------------------------------
async def test_a_stale_lesson_is_offered_once_to_its_authors_and_a_verification_starts_again(
    sqlite_url: str,
) -> None:
    settings = make_settings(sqlite_url, steward_timezone="Europe/Berlin", stale_lesson_months=1)
    engine = await with_lessons(settings)
    seen = Recorder(engine)
    [lesson, *_] = await rows(engine, T_LESSON)
    authors = sorted(lesson["contributors"])  # type: ignore[arg-type]
    assert authors, "the thread's people are the lesson's authors"
    await wait_until(engine, at("2026-03-31 12:00"))
    assert seen.of(SendDirectMessage, "lesson-review:") == [], "not stale yet"
    await wait_until(engine, at("2026-04-03 12:00"))
    first_look = min(seen.times("lesson-review:"))
    offers = [a for t, a in seen.actions if t == first_look and a.key.startswith("lesson-review:")]
    assert sorted(o.user for o in offers) == authors, "one lesson per author and look"  # type: ignore[attr-defined]
    assert first_look - at("2026-04-02 07:13") < timedelta(hours=16), "found at the next look after a month"
    first = next(o for o in offers if o.user == authors[0])  # type: ignore[attr-defined]
    assert [b.action for b in first.buttons] == ["review_still_right", "review_needs_update", "review_retire"]  # type: ignore[attr-defined]
    assert "for a month" in first.text  # type: ignore[attr-defined]
    await wait_until(engine, at("2026-04-30 12:00"))
    everything = seen.of(SendDirectMessage, "lesson-review:")
    per_lesson = [o.key.split(":")[3] for o in everything if o.user == authors[0]]  # type: ignore[attr-defined]
    assert sorted(per_lesson) == ["1", "2", "3"], "each lesson offered to an author once, never twice"

    lesson_of = {o.key.split(":")[3]: o for o in everything if o.user == authors[0]}  # type: ignore[attr-defined]
    right = await say(engine, click(authors[0], "review_still_right", "1", at("2026-04-30 12:00")))
    assert "counts as checked" in texts(right)
    update = await say(engine, click(authors[0], "review_needs_update", "2", at("2026-04-30 12:01")))
    assert "told the facilitators" in texts(update)
    [told] = seen.of(PostMessage, "lesson-review-needs_update:")
    assert told.channel == settings.facilitators_channel and "needs an update" in told.text  # type: ignore[attr-defined]
    retired = await say(engine, click(authors[0], "review_retire", "3", at("2026-04-30 12:02")))
    assert "retired" in texts(retired) and [r["id"] for r in await rows(engine, T_LESSON)] == [1, 2]
    assert sorted(r["lesson_id"] for r in await rows(engine, T_PATH_LESSON)) == [1, 2], "it left the path"
    assert lesson_of["1"].buttons[0].value == "1"  # type: ignore[attr-defined]

    # Verified on April 30: stale again a month later, and offered again then (to each author, once).
    await wait_until(engine, at("2026-06-05 12:00"))
    again = [o for o in seen.of(SendDirectMessage, "lesson-review:") if o.key.split(":")[3] == "1"]
    assert len(again) == 2 * len(authors), "stale again after its verification: offered anew"
    nudged = [n for n in await rows(engine, T_NUDGE) if n["kind"] == "lesson_review"]
    assert len({(n["member_id"], n["question_id"]) for n in nudged}) == len(nudged)
    await engine.db.dispose()


async def test_only_a_lessons_authors_or_a_facilitator_answer_its_review(settings: Settings) -> None:
    engine = await with_lessons(settings)
    refused = await say(engine, click("mallory", "review_retire", "1", MONDAY))
    assert [type(a) for a in refused] == [PostEphemeral] and "Only the lesson's authors" in texts(refused)
    assert len(await rows(engine, T_LESSON)) == 3
    gone = await say(engine, click("mallory", "review_retire", "99", MONDAY))
    assert "no longer there" in texts(gone)
    await engine.db.dispose()


# --- lessons contradicted by a newer decision ---------------------------------------------------------------------
async def test_a_lesson_a_newer_decision_bears_on_is_offered_to_its_authors_once_naming_the_decision(
    settings: Settings,
) -> None:
    engine = await community(settings, MONDAY - timedelta(hours=1))
    seen = Recorder(engine)
    when = MONDAY - timedelta(hours=1)
    threads = [  # lesson #1: where recordings live (the decision bears on it); #2: rooms (it does not)
        (
            "ana",
            "Where do the slides and recordings of our training sessions live?",
            "ben",
            "In the wiki, not in the Files tab of the team: one page per session, with a link to the recording, so "
            "everyone finds them.",
        ),
        (
            "cem",
            "How do I book the big meeting room for a workshop?",
            "dan",
            "Use the room finder in Outlook, then confirm the booking in the room's calendar.",
        ),
    ]
    for n, (asker, question, helper, answer) in enumerate(threads, start=1):
        await say(engine, message(asker, question, when, message_id=f"q{n}"))
        await say(engine, message(helper, answer, when + timedelta(minutes=2), thread=f"q{n}"))
        saved = await say(engine, command(FRAN, "lesson", when + timedelta(minutes=3), thread=f"q{n}", is_admin=True))
        assert f"lesson #{n}" in texts(saved)
        when += timedelta(minutes=5)

    # Monday: the community settles where recordings live from now on, and records it in the thread.
    start = MONDAY + timedelta(hours=1)
    await say(
        engine,
        message(
            FRAN,
            "Where should the slides and recordings of our sessions live from now on, in the "
            "wiki or in the Files tab in Teams?",
            start,
            channel="general",
            message_id="d1",
        ),
    )
    await say(
        engine,
        message(
            "cem",
            "Teams, please: search finds the files there.",
            start + timedelta(minutes=3),
            channel="general",
            thread="d1",
        ),
    )
    await say(
        engine,
        message(
            FRAN,
            "So let's go with the Files tab in Teams, one folder per session, and links from "
            "the wiki, because that way search finds everything.",
            start + timedelta(minutes=6),
            channel="general",
            thread="d1",
        ),
    )
    recorded = await say(
        engine, command(FRAN, "decide", start + timedelta(minutes=8), channel="general", thread="d1", is_admin=True)
    )
    assert "Recorded decision #1" in texts(recorded)
    await wait_until(engine, at("2026-03-09 12:00"))  # proposed, not yet standing: nobody is asked
    assert seen.of(SendDirectMessage, "lesson-decision:") == []

    # It stands (48 working hours later, on Tuesday next week): the authors of lesson #1 hear of it, once each.
    await wait_until(engine, at("2026-03-10 12:00"))
    [stood] = seen.times(f"decision-agreed:{WS}:1")
    offers = seen.of(SendDirectMessage, "lesson-decision:")
    assert sorted(o.user for o in offers) == ["ana", "ben"], "the recordings lesson's authors, not the rooms one's"  # type: ignore[attr-defined]
    assert seen.times("lesson-decision:") == [stood, stood], "offered when the decision stands"
    offer = next(o for o in offers if o.user == "ben")  # type: ignore[attr-defined]
    assert 'Decision #1 "Let\'s go with the Files tab in Teams"' in offer.text and 'lesson #1 "' in offer.text  # type: ignore[attr-defined]
    assert [(b.action, b.value) for b in offer.buttons] == [  # type: ignore[attr-defined]
        ("review_still_right", "1"),
        ("review_needs_update", "1"),
        ("review_retire", "1"),
    ]

    # Looks for stale lessons go on every few working hours: the same lesson and decision are never offered again.
    await wait_until(engine, at("2026-03-20 12:00"))
    assert len(seen.of(SendDirectMessage, "lesson-decision:")) == 2
    nudged = [(n["member_id"], n["question_id"]) for n in await rows(engine, T_NUDGE) if n["kind"] == "lesson_review"]
    assert sorted(nudged) == [("ana", "lesson-decision:1:1"), ("ben", "lesson-decision:1:1")]

    update = await say(engine, click("ben", "review_needs_update", "1", at("2026-03-20 12:01")))
    assert "told the facilitators" in texts(update)
    [told] = seen.of(PostMessage, "lesson-review-needs_update:")
    assert "needs an update" in told.text and "#1" in told.text  # type: ignore[attr-defined]
    await engine.db.dispose()
