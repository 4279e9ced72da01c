"""Several Steward processes on one PostgreSQL database: each workspace is decided by one of them at a time.

Three engines (as three replicas would be) receive the events of one workspace in random turns; the one holding
the workspace's lease decides, the others hand the events over through the inbox. Midway, the owner dies
without a clean stop; once its lease runs out another engine takes the workspace over from the database. Every
flag, nudge, escalation, confirmation and digest must come out exactly once and in the order a single engine
produces them, and nothing may be said about a question after its answer.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.engine import Engine
from bot.app.ownership import Ownership
from bot.app.replay import run_due_work
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.core.events import Event, InteractionClicked, TimePassed, event_to_dict
from storage import leases
from storage.repository import T_OUTBOX
from tests.conftest import make_settings
from tests.support import WS, LeaseClock, at, command, message

pytestmark = pytest.mark.postgres


def community_week() -> list[Event]:
    day = "2026-03-02"
    return [
        message("someone", "How do I get SAP access for the test system?", at(f"{day} 06:00"), message_id="old1"),
        message("marc", "Request the SAP role in the access portal.", at(f"{day} 06:10"), thread="old1"),
        message("lena", "How do I get a Teams license?", at(f"{day} 06:20"), message_id="old2"),
        message("ines", "Fill in the Teams license form on the IT page.", at(f"{day} 06:30"), thread="old2"),
        message("nina", "How long do SAP access requests take?", at(f"{day} 08:00"), message_id="q1"),
        message("tom", "How do I share a Planner board?", at(f"{day} 08:30"), message_id="q2"),
        message("ben", "Use the Share button, top right.", at(f"{day} 08:40"), thread="q2", message_id="a2"),
        message("ida", "Where is the Teams license form?", at(f"{day} 09:00"), message_id="q3"),
        command("ben", "mute 2", at(f"{day} 09:30")),
        message("ines", "On the IT page, under Licenses.", at(f"{day} 12:30"), thread="q3", message_id="a3"),
        message("paul", "Who runs the SAP key-user training?", at("2026-03-03 08:00"), message_id="q4"),
        InteractionClicked(
            workspace=WS, at=at("2026-03-03 09:00"), channel="help", user="ida", action="solved", value="q3"
        ),
        message("marc", "Paul, the key-user training is mine, see you Thursday.", at("2026-03-03 13:30"),
                thread="q4", message_id="a4"),
        message("anna", "Good morning, all", at("2026-03-04 08:00")),
        message("anna", "Reminder: office hours on Thursday.", at("2026-03-10 08:00")),
    ]


async def outbox(engine: Engine) -> list[tuple[str, str]]:
    async with engine.db.connect() as conn:
        rows = await conn.execute(select(T_OUTBOX.c.key, T_OUTBOX.c.created_at).order_by(T_OUTBOX.c.id))
        return [(r.key, r.created_at.isoformat()) for r in rows]


async def single_engine(events: list[Event], folder: Path) -> list[tuple[str, str]]:
    settings = make_settings(f"sqlite:///{folder}/single.db", steward_timezone="Europe/Berlin")
    engine = await start_engine(settings, None)
    try:
        for event in events:
            await run_due_work(engine, until=event.at)
            engine.clock.set(event.at)  # type: ignore[attr-defined]
            await engine.handle(event)
        return await outbox(engine)
    finally:
        await engine.close()


async def start_engine(settings, ownership: Ownership | None) -> Engine:  # type: ignore[no-untyped-def]
    engine = await build_engine(settings, SimulatedClock(at("2026-03-02 05:00")), ownership=ownership)
    if ownership is None or await ownership.take(WS):
        ws = engine.state.workspace(WS)
        ws.timezone, ws.language = "Europe/Berlin", "en"
        engine.state.touch_workspace(ws)
        await engine.flush()
    return engine


async def run_shared(
    events: list[Event], settings, *, replicas: int, seed: int, kill_at: int | None = None  # type: ignore[no-untyped-def]
) -> tuple[list[tuple[str, str]], list[str], str | None]:
    """Play `events` across replicas in random turns (some delivered twice, to another replica); kill the owner
    before event `kill_at`. Returns the outbox, who holds the lease at the end, and who was killed."""
    wall = LeaseClock()
    engines = [await start_engine(settings, Ownership(owner=f"r{n}", now=wall.now)) for n in range(replicas)]
    rng = random.Random(seed)
    alive = list(engines)
    killed: Engine | None = None
    try:
        for n, event in enumerate(events):
            if n == kill_at:  # the owner dies between two events, without a clean stop
                killed = next(e for e in alive if e.ownership and e.ownership.held)
                alive.remove(killed)
                wall.moment += timedelta(minutes=1)  # its lease runs out
            for engine in alive:
                await run_due_work(engine, until=event.at)
                engine.clock.set(event.at)  # type: ignore[attr-defined]
            await rng.choice(alive).handle(event)
            if rng.random() < 0.3:
                await rng.choice(alive).handle(event)  # the platform delivers it again, to another replica
            for engine in alive:
                await engine.tend_leases()
            wall.moment += timedelta(seconds=1)
        shared = await outbox(alive[0])
        holders = [e.ownership.owner for e in alive if e.ownership is not None and e.ownership.held]
    finally:
        for engine in alive:
            await engine.close()
        if killed is not None:
            await killed.db.dispose()
    # Private replies to commands go straight back to the member from the process that has the lease; one that
    # came through the inbox is delivered from the outbox instead.
    shared = [(key, created) for key, created in shared if not key.startswith("reply:")]
    return shared, holders, killed.ownership.owner if killed is not None and killed.ownership else None


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_three_engines_and_a_dead_owner_decide_everything_once_and_in_order(
    postgres_url: str, tmp_path: Path, seed: int
) -> None:
    events = community_week()
    expected = await single_engine(events, tmp_path)
    assert any(key.startswith("flag:q1") for key, _ in expected), "the scenario must flag and nudge"

    settings = make_settings(postgres_url, steward_timezone="Europe/Berlin")
    shared, holders, killed = await run_shared(events, settings, replicas=3, seed=seed, kill_at=7)

    assert [key for key, _ in shared] == [key for key, _ in expected]
    assert shared == expected, "at the same moments"
    assert len(holders) == 1 and holders != [killed], "one live engine took over; the other handed events on"
    answered = {"q2": at("2026-03-02 08:40"), "q3": at("2026-03-02 12:30"), "q4": at("2026-03-03 13:30")}
    for key, created in shared:
        kind, _, rest = key.partition(":")
        question = rest.split(":")[0]
        if kind in {"flag", "escalate", "nudge"} and question in answered:
            assert datetime.fromisoformat(created) <= answered[question], key


async def test_nudge_budgets_and_the_confirmation_cap_hold_across_two_replicas(postgres_url: str) -> None:
    day = "2026-03-02"
    events: list[Event] = [
        message("someone", "How do I get SAP access for the test system?", at(f"{day} 06:00"), message_id="old"),
        message("marc", "Request the SAP role in the access portal.", at(f"{day} 06:10"), thread="old"),
        message("nina", "How long do SAP access requests take?", at(f"{day} 08:00"), message_id="q1"),
        message("tom", "How do I share a Planner board?", at(f"{day} 08:30"), message_id="q2"),
        message("ben", "Use the Share button, top right.", at(f"{day} 08:40"), thread="q2"),
        message("ida", "Who approves SAP access requests?", at("2026-03-03 08:00"), message_id="q3"),
        message("tom", "Where is the travel policy?", at("2026-03-03 09:00"), message_id="q4"),
        message("ben", "On the HR wiki, under Policies.", at("2026-03-03 09:10"), thread="q4"),
        message("anna", "Good morning, all", at("2026-03-06 16:00")),
    ]
    settings = make_settings(postgres_url, steward_timezone="Europe/Berlin", nudges_per_day=1, nudges_per_week=1)
    shared, _, _ = await run_shared(events, settings, replicas=2, seed=5)
    keys = [key for key, _ in shared]
    assert [k for k in keys if k.startswith("nudge:") and k.endswith(":marc")] == ["nudge:q1:marc"]
    assert [k for k in keys if k.startswith("confirm:") and k != "confirm:old"] == ["confirm:q2"], "once a week"


async def two_engines_and_an_answered_question(
    postgres_url: str, wall: LeaseClock
) -> tuple[Engine, Engine, Event, Event]:
    """Two engines on one database (the first started holds the workspace), a question and its answer in a thread."""
    settings = make_settings(postgres_url, steward_timezone="Europe/Berlin")
    first = await start_engine(settings, Ownership(owner="first", now=wall.now))
    second = await start_engine(settings, Ownership(owner="second", now=wall.now))
    question = message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q")
    answer = message("ben", "Use the Share button, top right.", at("2026-03-02 08:10"), thread="q", message_id="a")
    return first, second, question, answer


async def test_a_new_owner_handles_what_waits_in_the_inbox_before_the_event_in_hand(postgres_url: str) -> None:
    wall = LeaseClock()
    first, second, question, answer = await two_engines_and_an_answered_question(postgres_url, wall)
    try:
        await second.handle(question)  # the first holds the lease: the question waits in the inbox
        assert second.state.question(WS, "q") is None
        await first.db.dispose()  # ... and the first dies before taking it
        wall.moment += timedelta(minutes=1)
        await run_due_work(second, until=answer.at)
        second.clock.set(answer.at)  # type: ignore[attr-defined]
        await second.handle(answer)  # the second takes the workspace over with the answer in hand
        taken = second.state.question(WS, "q")
        assert taken is not None and taken.status == "answered" and taken.first_response_id == "a"
        await run_due_work(second, until=at("2026-03-02 16:00"))
        assert not [key for key, _ in await outbox(second) if key.startswith(("flag:", "nudge:", "escalate:"))]
    finally:
        await second.close()


async def test_a_sweep_that_runs_before_the_inbox_is_drained_sees_the_answer_first(postgres_url: str) -> None:
    """The owner's loop was busy past the question's deadline; when it wakes, the sweep may run before the job
    that drains the inbox. The answer another process handed over must count before anything is flagged."""
    wall = LeaseClock()
    owner, other, question, answer = await two_engines_and_an_answered_question(postgres_url, wall)
    try:
        await owner.handle(question)
        other.clock.set(answer.at)  # type: ignore[attr-defined]
        await other.handle(answer)  # not the owner: the answer waits in the inbox
        waiting = owner.state.question(WS, "q")
        assert waiting is not None and waiting.status != "answered"
        owner.clock.set(at("2026-03-02 16:00"))  # type: ignore[attr-defined]
        await owner.handle(TimePassed(workspace="", at=at("2026-03-02 16:00")))  # a sweep; tend_leases never ran
        taken = owner.state.question(WS, "q")
        assert taken is not None and taken.status == "answered" and taken.first_response_id == "a"
        assert not [key for key, _ in await outbox(owner) if key.startswith(("flag:", "nudge:", "escalate:"))]
    finally:
        await owner.close()
        await other.close()


async def answered_and_never_flagged(owner: Engine) -> None:
    """Question `q` is answered by `a`, and nothing is said about it (no flag, nudge, escalation or help) a day on."""
    taken = owner.state.question(WS, "q")
    assert taken is not None and taken.status == "answered" and taken.first_response_id == "a"
    await run_due_work(owner, until=at("2026-03-03 16:00"))
    said = [key for key, _ in await outbox(owner)]
    assert not [key for key in said if key.startswith(("flag:", "nudge:", "escalate:", "stuck:"))], said


async def test_an_answer_the_owner_took_before_the_handed_over_question_still_answers_it(postgres_url: str) -> None:
    """The question reached the other process and waits in the inbox; its thread reply reached the owner, which
    handled it at once. When the owner drains the inbox, the question comes in answered: it is never flagged and
    its asker is not offered help."""
    wall = LeaseClock()
    owner, other, question, answer = await two_engines_and_an_answered_question(postgres_url, wall)
    try:
        await owner.handle(message("anna", "Good morning, all", at("2026-03-02 07:59")))  # takes the lease
        await other.handle(question)
        owner.clock.set(answer.at)  # type: ignore[attr-defined]
        await owner.handle(answer)
        assert owner.state.question(WS, "q") is None, "the question still waits in the inbox"
        await owner.tend_leases()
        await answered_and_never_flagged(owner)
    finally:
        await owner.close()
        await other.close()


async def test_while_others_run_the_owner_handles_the_inbox_before_an_event_it_receives(postgres_url: str) -> None:
    """In a flat channel an answer only counts once its question is known. With other processes running, the
    question may wait in the inbox while the answer reaches the owner: the owner handles the inbox first."""
    wall = LeaseClock()
    owner, other, _, _ = await two_engines_and_an_answered_question(postgres_url, wall)
    try:
        await owner.handle(message("anna", "Good morning, all", at("2026-03-02 07:59")))  # takes the lease
        await owner.tend_leases()
        await other.tend_leases()
        await owner.tend_leases()  # counts the other process
        question = message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q")
        await other.handle(question)
        owner.clock.set(at("2026-03-02 08:01"))  # type: ignore[attr-defined]
        await owner.handle(message("ben", "@tom use the Share button, top right.", at("2026-03-02 08:01"),
                                   message_id="a"))
        await answered_and_never_flagged(owner)
    finally:
        await owner.close()
        await other.close()


async def test_alone_the_owner_does_not_look_at_the_inbox_for_each_event(postgres_url: str) -> None:
    wall = LeaseClock()
    owner, other, question, _ = await two_engines_and_an_answered_question(postgres_url, wall)
    try:
        await other.close()
        await owner.handle(message("anna", "Good morning, all", at("2026-03-02 07:59")))
        await owner.tend_leases()
        assert owner.ownership is not None and owner.ownership.replicas == 1
        async with owner.db.begin() as conn:  # as if handed over by a process gone since
            await leases.hand_over(conn, WS, question.key, event_to_dict(question), at("2026-03-02 08:00"))
        await owner.handle(message("ben", "Good morning", at("2026-03-02 08:01")))
        assert owner.state.question(WS, "q") is None, "left for the next round of the leases"
        await owner.tend_leases()
        assert owner.state.question(WS, "q") is not None
    finally:
        await owner.close()
