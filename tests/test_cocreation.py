"""Co-creation scenarios through the real engine and store: decisions by consent, offers, commitments followed up,
a restart in the middle, forget-me, and the console's buttons (Berlin time, a simulated clock)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.console.adapter import ConsoleSession
from bot.app.engine import Engine
from bot.app.replay import run_due_work
from bot.app.wiring import build_engine
from bot.cli import app
from bot.core.actions import Action, AddReaction, PostEphemeral, PostMessage, SendDirectMessage, UpdateMessage
from bot.core.clock import SimulatedClock
from bot.core.digest_figures import Period
from bot.core.events import Event, InteractionClicked
from bot.settings import Settings
from storage import metrics
from storage.cocreation_model import T_COMMITMENT, T_DECISION, T_DECISION_VOTE
from storage.repository import T_NUDGE, T_OUTBOX
from tests.support import WS, at, command, community, message

MONDAY = at("2026-03-02 08:00")  # 09:00 in Berlin


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


def click(user: str, action: str, value: str, when: datetime, channel: str = "help") -> InteractionClicked:
    return InteractionClicked(workspace=WS, at=when, channel=channel, user=user, action=action, value=value)


def texts(replies: Sequence[Action]) -> str:
    return " ".join(getattr(r, "text", "") for r in replies)


async def kickoff_thread(engine: Engine, start: datetime = MONDAY) -> None:
    """Three people weigh two options in a thread, and one of them states the outcome."""
    await say(engine, message("ana", "Where should we hold the kickoff workshop: Teams or the big room?", start,
                              message_id="root"))
    await say(engine, message("ben", "We could do it in the big room, people like meeting in person.",
                              start + timedelta(minutes=2), thread="root"))
    await say(engine, message("cem", "Or we go fully on Teams, because half the team is remote.",
                              start + timedelta(minutes=4), thread="root"))
    await say(engine, message("ana", "Good point. Let's go with Teams then, so everyone can join.",
                              start + timedelta(minutes=6), thread="root"))


async def rows(engine: Engine, table: object) -> list[dict[str, object]]:
    await engine.flush()
    async with engine.db.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(table))]  # type: ignore[call-overload]


# --- decisions -----------------------------------------------------------------------------------------------
async def test_a_decision_recorded_in_its_thread_stands_after_48_working_hours_and_reaches_the_digest(
    settings: Settings,
) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await kickoff_thread(engine)
    offers = seen.of(PostMessage, "decision-offer:")
    assert len(offers) == 1 and offers[0].thread == "root", "decision language in a discussed thread: one offer"  # type: ignore[attr-defined]

    replies = await say(engine, command("ana", "decide Kickoff on Teams", MONDAY + timedelta(minutes=10),
                                        thread="root"))
    assert "Recorded decision #1 “Kickoff on Teams”" in texts(replies) and "Mar 10" in texts(replies)
    [card] = seen.of(PostMessage, f"decision:{WS}:1:0")
    assert card.thread == "root" and card.card is not None  # type: ignore[attr-defined]
    assert [(b.action, b.value) for b in card.buttons] == [("decision_agree", "1"), ("decision_object", "1")]  # type: ignore[attr-defined]
    shown = card.card.as_text()  # type: ignore[attr-defined]
    for part in ("Teams or the big room?", "We could do it in the big room", "Let's go with Teams then",
                 "So everyone can join", "<@ana>, <@ben>, <@cem>"):
        assert part in shown

    await say(engine, click("ben", "decision_agree", "1", MONDAY + timedelta(minutes=20)))
    assert "one agrees so far" in seen.of(UpdateMessage)[-1].text  # type: ignore[attr-defined]
    again = await say(engine, click("ben", "decision_agree", "1", MONDAY + timedelta(minutes=21)))
    assert "already" in texts(again)

    # 48 working hours of 8 each: six working days, so Tuesday next week at the same time.
    await wait_until(engine, at("2026-03-10 08:09"))
    assert seen.of(PostMessage, f"decision-agreed:{WS}:1") == []
    await wait_until(engine, at("2026-03-10 08:11"))
    [stands] = seen.of(PostMessage, f"decision-agreed:{WS}:1")
    assert stands.thread == "root" and "stands" in stands.text  # type: ignore[attr-defined]
    assert seen.times(f"decision-agreed:{WS}:1") == [at("2026-03-10 08:10")]
    assert not seen.of(UpdateMessage)[-1].buttons, "a decision that stands takes no more votes"  # type: ignore[attr-defined]
    [stored] = await rows(engine, T_DECISION)
    assert stored["status"] == "agreed" and stored["agreed_at"] == at("2026-03-10 08:10")

    figures = await metrics.figures(engine.db, WS, Period(at("2026-03-09 00:00"), at("2026-03-16 00:00")))
    assert [(d.title, d.why) for d in figures.decisions] == [("Kickoff on Teams", "So everyone can join")]
    before = await metrics.figures(engine.db, WS, Period(at("2026-03-02 00:00"), at("2026-03-09 00:00")))
    assert before.decisions == ()
    [preview] = await say(engine, command("dan", "digest preview", at("2026-03-10 09:00")))
    shown = preview.card.as_text()  # type: ignore[attr-defined]
    assert "Decided this week, and why" in shown and "• *Kickoff on Teams*: So everyone can join" in shown
    await engine.db.dispose()


async def test_an_objection_reopens_a_decision_and_recording_it_again_proposes_it_anew(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await kickoff_thread(engine)
    await say(engine, command("ana", "decide", MONDAY + timedelta(minutes=10), thread="root"))
    replies = await say(engine, click("ben", "decision_object", "1", MONDAY + timedelta(minutes=30)))
    assert "object" in texts(replies)
    [objected] = seen.of(PostMessage, f"decision-objected:{WS}:1:0")
    assert "<@ben>" in objected.text and objected.thread == "root"  # type: ignore[attr-defined]
    [stored] = await rows(engine, T_DECISION)
    assert stored["status"] == "objected" and stored["objected_by"] == "ben"

    late = await say(engine, click("cem", "decision_agree", "1", MONDAY + timedelta(minutes=40)))
    assert "no longer open" in texts(late)
    await wait_until(engine, at("2026-03-11 08:00"))
    assert seen.of(PostMessage, f"decision-agreed:{WS}:1") == [], "an objected decision does not stand"

    await say(engine, message("ben", "OK with Teams if we record it for the night shift.", at("2026-03-11 08:05"),
                              thread="root"))
    replies = await say(engine, command("ana", "decide", at("2026-03-11 08:10"), thread="root"))
    assert "proposed again" in texts(replies)
    [card] = seen.of(PostMessage, f"decision:{WS}:1:1")
    assert "proposed again" in card.text  # type: ignore[attr-defined]
    [stored] = await rows(engine, T_DECISION)
    assert (stored["status"], stored["round"]) == ("reopened", 1)
    await wait_until(engine, at("2026-03-20 08:00"))
    assert len(seen.of(PostMessage, f"decision-agreed:{WS}:1:1")) == 1
    await engine.db.dispose()


async def test_offers_are_made_once_per_thread_and_only_where_several_people_decided(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await kickoff_thread(engine)
    await say(engine, message("ben", "Great, we decided then. Teams it is!", MONDAY + timedelta(minutes=8),
                              thread="root"))
    assert len(seen.of(PostMessage, "decision-offer:")) == 1, "once per thread"
    # One person thinking aloud in a thread decides nothing together; a question decides nothing at all.
    await say(engine, message("dan", "Notes for myself", MONDAY + timedelta(minutes=30), message_id="solo"))
    await say(engine, message("dan", "Let's go with the blue template.", MONDAY + timedelta(minutes=31),
                              thread="solo"))
    await say(engine, message("eva", "Which room for Friday?", MONDAY + timedelta(minutes=40), message_id="q2"))
    await say(engine, message("dan", "Have we decided on the room yet?", MONDAY + timedelta(minutes=41), thread="q2"))
    assert len(seen.of(PostMessage, "decision-offer:")) == 1

    # The offer's button records the thread's decision, for anyone.
    replies = await say(engine, click("cem", "decision_record", "root", MONDAY + timedelta(minutes=50)))
    assert "Recorded decision #1" in texts(replies)
    again = await say(engine, click("ben", "decision_record", "root", MONDAY + timedelta(minutes=51)))
    assert "recorded already as #1" in texts(again)
    [stored] = await rows(engine, T_DECISION)
    assert stored["recorded_by"] == "cem" and stored["thread_id"] == "root"
    await engine.db.dispose()


async def test_a_later_decision_supersedes_an_earlier_one_and_the_chain_is_kept(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await kickoff_thread(engine)
    await say(engine, command("ana", "decide Kickoff on Teams", MONDAY + timedelta(minutes=10), thread="root"))
    start = MONDAY + timedelta(days=1)
    await say(engine, message("ben", "The big room is free after all. Should we move the kickoff?", start,
                              message_id="root2"))
    await say(engine, message("cem", "In person is better for a kickoff.", start + timedelta(minutes=2),
                              thread="root2"))
    await say(engine, message("ben", "Let's go with the big room then.", start + timedelta(minutes=4), thread="root2"))
    refused = await say(engine, command("dan", "decide supersede 1 Kickoff in the big room",
                                        start + timedelta(minutes=5), thread="root2"))
    assert "not allowed" in texts(refused).lower() or "facilitators" in texts(refused).lower()
    replies = await say(engine, command("ana", "decide supersede #1 Kickoff in the big room",
                                        start + timedelta(minutes=6), thread="root2"))
    assert "supersedes #1" in texts(replies)
    decisions = {d["id"]: d for d in await rows(engine, T_DECISION)}
    assert decisions[1]["status"] == "superseded" and decisions[1]["superseded_by"] == 2
    assert decisions[2]["supersedes"] == 1 and decisions[2]["thread_id"] == "root2"
    old_card = [u for u in seen.of(UpdateMessage) if u.original_key == f"decision:{WS}:1:0"]  # type: ignore[attr-defined]
    assert old_card and "superseded by #2" in old_card[-1].text  # type: ignore[attr-defined]
    twice = await say(engine, command("ana", "decide supersede 1", start + timedelta(minutes=7), thread="root2"))
    assert "superseded already" in texts(twice)
    await engine.db.dispose()


async def test_decisions_are_searchable_and_a_private_channels_stay_there(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    await kickoff_thread(engine)
    await say(engine, command("ana", "decide Kickoff on Teams", MONDAY + timedelta(minutes=10), thread="root"))
    engine.state.channel(WS, "board").private = True
    await say(engine, message("fran", "Budget for the trainings: external or internal trainers?",
                              MONDAY + timedelta(minutes=20), channel="board", message_id="b1"))
    await say(engine, message("gus", "Internal trainers know our processes.", MONDAY + timedelta(minutes=21),
                              channel="board", thread="b1"))
    await say(engine, message("fran", "We decided on internal trainers, because they are cheaper.",
                              MONDAY + timedelta(minutes=22), channel="board", thread="b1"))
    await say(engine, command("fran", "decide Internal trainers", MONDAY + timedelta(minutes=23), channel="board",
                              thread="b1"))
    found = await say(engine, command("dan", "decisions teams", MONDAY + timedelta(minutes=30)))
    assert found[0].card is not None and "Kickoff on Teams" in found[0].card.as_text()  # type: ignore[attr-defined]
    hidden = await say(engine, command("dan", "decisions trainers", MONDAY + timedelta(minutes=31)))
    assert "No decision matches" in texts(hidden)
    inside = await say(engine, command("fran", "decisions Trainer", MONDAY + timedelta(minutes=32), channel="board"))
    assert "Internal trainers" in inside[0].card.as_text()  # type: ignore[attr-defined, union-attr]
    latest = await say(engine, command("dan", "decisions", MONDAY + timedelta(minutes=33)))
    assert "latest" in latest[0].card.title.lower()  # type: ignore[attr-defined, union-attr]
    await engine.db.dispose()


# --- commitments ---------------------------------------------------------------------------------------------
async def test_a_commitment_is_noted_and_its_owner_asked_once_shortly_before_it_is_due(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await say(engine, message("ben", "I'll send the invitation by Friday.", MONDAY, message_id="promise"))
    [pin] = seen.of(AddReaction)
    assert (pin.message_id, pin.emoji) == ("promise", "pushpin")  # type: ignore[attr-defined]
    [stored] = await rows(engine, T_COMMITMENT)
    assert stored["owner_id"] == "ben" and stored["due_at"] == at("2026-03-06 16:00")  # Friday 17:00 in Berlin

    await wait_until(engine, at("2026-03-06 13:59"))
    assert seen.of(SendDirectMessage, "commitment-ask:") == []
    await wait_until(engine, at("2026-03-09 12:00"))
    [ask] = seen.of(SendDirectMessage, "commitment-ask:")
    assert seen.times("commitment-ask:") == [at("2026-03-06 14:00")], "two working hours before it is due"
    assert ask.user == "ben" and "I'll send the invitation by Friday" in ask.text  # type: ignore[attr-defined]
    assert [b.action for b in ask.buttons] == ["commitment_done", "commitment_help", "commitment_later"]  # type: ignore[attr-defined]
    nudges = [n for n in await rows(engine, T_NUDGE) if n["kind"] == "commitment"]
    assert [(n["member_id"], n["question_id"]) for n in nudges] == [("ben", "commitment:1:0")]

    done = await say(engine, click("ben", "commitment_done", "1", at("2026-03-09 12:05"), channel="D-ben"))
    assert "done" in texts(done).lower()
    [stored] = await rows(engine, T_COMMITMENT)
    assert stored["status"] == "done"
    await engine.db.dispose()


async def test_later_moves_the_due_date_once_and_steward_asks_again_before_the_new_one(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await say(engine, command("ben", "commit update the FAQ by Wednesday", MONDAY))
    await wait_until(engine, at("2026-03-04 15:00"))
    assert len(seen.of(SendDirectMessage, "commitment-ask:")) == 1
    moved = await say(engine, click("ben", "commitment_later", "1", at("2026-03-04 15:10"), channel="D-ben"))
    assert "Moved to Mar 9, 2026, 17:00" in texts(moved), "three working days later: Monday"
    await wait_until(engine, at("2026-03-10 12:00"))
    asks = seen.of(SendDirectMessage, "commitment-ask:")
    assert [a.key for a in asks] == [f"commitment-ask:{WS}:1:0", f"commitment-ask:{WS}:1:1"]
    assert seen.times(f"commitment-ask:{WS}:1:1") == [at("2026-03-09 14:00")]
    assert "commitment_later" not in [b.action for b in asks[1].buttons], "later, once"  # type: ignore[attr-defined]
    once = await say(engine, click("ben", "commitment_later", "1", at("2026-03-10 12:01"), channel="D-ben"))
    assert "moved once already" in texts(once)
    await engine.db.dispose()


async def test_need_help_becomes_a_question_the_experts_are_asked_about(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await say(engine, message("olga", "How do I request SAP roles for a new colleague?", MONDAY, message_id="old"))
    await say(engine, message("marc", "Request the SAP roles in the access portal, your manager approves them.",
                              MONDAY + timedelta(minutes=2), thread="old"))
    await say(engine, message("nina", "I'll set up the SAP roles for the new team by Wednesday.",
                              MONDAY + timedelta(minutes=5), message_id="sap"))
    await wait_until(engine, at("2026-03-04 15:00"))
    helped = await say(engine, click("nina", "commitment_help", "1", at("2026-03-04 15:05"), channel="D-nina"))
    assert "asked the community" in texts(helped)
    question = engine.state.question(WS, "sap")
    assert question is not None and question.status == "flagged" and question.asker_id == "nina"
    [post] = seen.of(PostMessage, "commitment-help:")
    assert post.thread == "sap" and "<@nina>" in post.text  # type: ignore[attr-defined]
    nudged = [d for d in seen.of(SendDirectMessage, "nudge:sap:")]
    assert [d.user for d in nudged] == ["marc"], "the expert routing takes the question up"  # type: ignore[attr-defined]
    [stored] = await rows(engine, T_COMMITMENT)
    assert stored["status"] == "help" and stored["help_question"] == "sap"
    await engine.db.dispose()


async def test_follow_ups_keep_the_etiquette_mute_quiet_hours_and_forget_me(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    seen = Recorder(engine)
    await say(engine, message("ben", "I'll send the agenda by Friday.", MONDAY, message_id="p1"))
    await say(engine, command("ben", "mute 7", MONDAY + timedelta(minutes=1)))
    await say(engine, message("ida", "Ich schicke euch die Folien bis morgen.", MONDAY + timedelta(minutes=2),
                              message_id="p2"))
    await say(engine, command("ida", "forget me", MONDAY + timedelta(minutes=3)))
    assert [c["owner_id"] for c in await rows(engine, T_COMMITMENT)] == ["ben"], "forget-me takes hers"
    # Due at 17:00 tomorrow in Los Angeles: asked in her working hours there, not in Berlin's.
    engine.state.member(WS, "lou").timezone = "America/Los_Angeles"
    await say(engine, message("lou", "I'll review the survey tomorrow.", MONDAY + timedelta(minutes=4),
                              message_id="p3"))
    # Quiet from 14:00 to 18:00 (Berlin): not asked on Friday afternoon, but when Monday's working hours begin.
    quinn = engine.state.member(WS, "quinn")
    quinn.quiet_start, quinn.quiet_end = 14, 18
    await say(engine, message("quinn", "I'll send the numbers by Friday.", MONDAY + timedelta(minutes=5),
                              message_id="p4"))
    await wait_until(engine, at("2026-03-09 12:00"))
    asks = seen.of(SendDirectMessage, "commitment-ask:")
    assert [a.user for a in asks] == ["lou", "quinn"], "muted and forgotten members are never asked"  # type: ignore[attr-defined]
    assert seen.times("commitment-ask:") == [at("2026-03-03 23:00"), at("2026-03-09 08:30")], "in their hours"
    await engine.db.dispose()


async def test_commit_command_records_lists_and_explains_itself(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    recorded = await say(engine, command("ben", "commit send the slides by Friday 3pm", MONDAY))
    assert "Noted: “send the slides”, due on Mar 6, 2026, 15:00" in texts(recorded)
    listed = await say(engine, command("ben", "commit", MONDAY + timedelta(minutes=1)))
    assert "send the slides" in texts(listed)
    usage = await say(engine, command("ben", "commit send the slides soon", MONDAY + timedelta(minutes=2)))
    assert "/steward commit WHAT by WHEN" in texts(usage)
    german = await say(engine, command("ida", "commit Folien schicken bis Freitag", MONDAY + timedelta(minutes=3)))
    assert "Folien schicken" in texts(german)
    await engine.db.dispose()


# --- restarts and forget-me ------------------------------------------------------------------------------------
async def test_a_restart_in_the_middle_of_a_pending_follow_up_neither_skips_nor_doubles_it(
    settings: Settings,
) -> None:
    engine = await community(settings, MONDAY)
    await say(engine, message("ben", "I'll send the invitation by Friday.", MONDAY, message_id="promise"))
    await kickoff_thread(engine, MONDAY + timedelta(minutes=10))
    await say(engine, command("ana", "decide", MONDAY + timedelta(minutes=20), thread="root"))
    await engine.close()

    # Steward was down from Monday until Friday 16:00 Berlin, past the follow-up's moment (15:00).
    later = SimulatedClock(at("2026-03-06 15:00"))
    engine = await build_engine(settings, later)
    seen = Recorder(engine)
    await wait_until(engine, at("2026-03-06 15:05"))
    assert len(seen.of(SendDirectMessage, "commitment-ask:")) == 1, "done once, now"
    await engine.close()

    # And again: a second restart does not ask a second time, and the consent window still closes on time.
    engine = await build_engine(settings, SimulatedClock(at("2026-03-06 15:10")))
    seen = Recorder(engine)
    await wait_until(engine, at("2026-03-11 12:00"))
    assert seen.of(SendDirectMessage, "commitment-ask:") == []
    assert seen.times(f"decision-agreed:{WS}:1") == [at("2026-03-10 08:20")]
    async with engine.db.connect() as conn:
        keys = [r.key for r in await conn.execute(select(T_OUTBOX.c.key))]
    assert keys.count(f"commitment-ask:{WS}:1:0") == 1
    await engine.close()


async def test_forget_me_removes_a_members_votes_and_what_they_wrote_in_decisions(settings: Settings) -> None:
    engine = await community(settings, MONDAY)
    await kickoff_thread(engine)
    await say(engine, command("ana", "decide", MONDAY + timedelta(minutes=10), thread="root"))
    await say(engine, click("cem", "decision_agree", "1", MONDAY + timedelta(minutes=11)))
    await say(engine, command("cem", "forget me", MONDAY + timedelta(minutes=12)))
    [decision] = await rows(engine, T_DECISION)
    assert "cem" not in decision["participants"]
    assert decision["options"] == ["We could do it in the big room, people like meeting in person."]
    assert await rows(engine, T_DECISION_VOTE) == []
    await say(engine, command("ana", "forget me", MONDAY + timedelta(minutes=13)))
    [decision] = await rows(engine, T_DECISION)
    assert decision["recorded_by"] is None and decision["outcome"] == "" and decision["question"] == ""
    await engine.db.dispose()


# --- the console -----------------------------------------------------------------------------------------------
async def test_the_console_records_a_decision_and_presses_every_button(settings: Settings) -> None:
    clock = SimulatedClock(MONDAY)
    engine = await build_engine(settings, clock)
    out: list[str] = []
    session = ConsoleSession(engine, clock, out.append)
    for line in [
        "/as ana", "Where do we keep the slide templates: wiki or SharePoint?",  # [1]
        "/as ben", "/reply 1 The wiki is easier to search.",  # [2]
        "/as ana", "/reply 1 OK, let's go with the wiki then, it is easier to search.",  # [3]
        "/steward decide Templates live in the wiki",
    ]:
        await session.handle_line(line)
    shown = "\n".join(out)
    assert "This sounds like a decision" in shown and "[Record decision]" in shown
    assert "Recorded decision #1" in shown and "[Agree] [Object]" in shown
    await session.handle_line("/as cem")
    await session.handle_line("/click decision_agree 1")  # message 1 is the thread the decision was taken in
    await session.handle_line("/click decision_object 1")
    shown = "\n".join(out)
    assert "you agree with decision #1" in shown and "objected, so decision #1 is open again" in shown

    out.clear()
    await session.handle_line("I'll update the template page by Wednesday.")  # [4], cem's promise
    assert "react :pushpin:" in "\n".join(out)
    await session.handle_line("/advance 3d")
    shown = "\n".join(out)
    assert "DM to @cem  [Done ✅] [Need help] [Later]" in shown
    await session.handle_line("/as ben")
    await session.handle_line("/click commitment_done 4")
    assert "Only the person who made this commitment" in "\n".join(out)
    await session.handle_line("/as cem")
    await session.handle_line("/click commitment_done 4")
    assert "Marked as done" in "\n".join(out)
    out.clear()
    await session.handle_line("I'll set up the SAP roles for the new team by Friday.")  # [5]
    await session.handle_line("/click commitment_later 5")
    await session.handle_line("/click commitment_help 5")
    shown = "\n".join(out)
    assert "Moved to" in shown and "asked the community for help" in shown
    assert "post in #general (thread [5])" in shown and "could use a hand" in shown
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT status FROM commitment ORDER BY id").fetchall() == [("done",), ("help",)]
    await engine.close()


async def test_without_a_thread_decide_takes_the_channels_latest_thread_and_says_when_there_is_none(
    settings: Settings,
) -> None:
    engine = await community(settings, MONDAY)
    nothing = await say(engine, command("ana", "decide", MONDAY))
    assert "inside the thread" in texts(nothing)
    await kickoff_thread(engine, MONDAY + timedelta(minutes=1))
    recorded = await say(engine, command("ana", "decide", MONDAY + timedelta(minutes=10)))
    assert "Recorded decision #1" in texts(recorded)
    assert [r for r in recorded if isinstance(r, PostEphemeral) and r.user == "ana"]
    [stored] = await rows(engine, T_DECISION)
    assert stored["thread_id"] == "root"
    await engine.db.dispose()


# --- export ----------------------------------------------------------------------------------------------------
def test_decisions_export_as_markdown_with_front_matter_and_as_json_with_the_chain(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def decide() -> None:
        engine = await community(settings, MONDAY)
        await kickoff_thread(engine)
        await say(engine, command("ana", "decide Kickoff on Teams", MONDAY + timedelta(minutes=10), thread="root"))
        await say(engine, command("ana", "decide supersede 1 Kickoff in the big room",
                                  MONDAY + timedelta(minutes=20), thread="root"))
        await engine.close()

    asyncio.run(decide())
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    out = tmp_path / "log"
    result = CliRunner().invoke(app, ["decisions", "export", str(out)])
    assert result.exit_code == 0 and "2 decisions exported" in result.output, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "00001-kickoff-on-teams.md", "00002-kickoff-in-the-big-room.md", "index.md"]
    text = (out / "00001-kickoff-on-teams.md").read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["status"] == "superseded" and front["superseded_by"] == 2 and front["recorded_by"] == "ana"
    assert front["people"] == ["ana", "ben", "cem"] and front["source"].startswith("console:test#")
    assert "## Options discussed" in text and "- Or we go fully on Teams" in text and "## Why" in text
    result = CliRunner().invoke(app, ["decisions", "export", "--format", "json", str(out)])
    assert result.exit_code == 0, result.output
    records = json.loads((out / "decisions.json").read_text(encoding="utf-8"))
    assert [(r["id"], r["supersedes"], r["status"]) for r in records] == [(1, None, "superseded"),
                                                                          (2, 1, "proposed")]
