"""One source of truth: a restart or a redelivered event changes nothing Steward decided or did.

Each test runs on SQLite and on a real PostgreSQL server. A "restart" flushes the engine, closes its database
connections and starts a new engine on the same database, as a new process would.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from bot.app.engine import Engine
from bot.app.replay import run_due_work
from bot.core.actions import Action
from bot.core.events import CommandInvoked, Event, InteractionClicked
from bot.settings import Settings
from storage.repository import T_NUDGE, T_OUTBOX, T_QUESTION
from tests.conftest import make_settings
from tests.support import WS, at, command, community, message


async def say(engine: Engine, event: Event) -> list[Action]:
    await run_due_work(engine, until=event.at)
    engine.clock.set(event.at)  # type: ignore[attr-defined]
    return await engine.handle(event)


async def redeliver(engine: Engine, event: Event) -> list[Action]:
    """The platform sends an event again: it keeps its own time, the clock does not go back."""
    return await engine.handle(event)


async def wait_until(engine: Engine, moment) -> None:  # type: ignore[no-untyped-def]
    await run_due_work(engine, until=moment)
    engine.clock.set(moment)  # type: ignore[attr-defined]
    await engine.flush()


async def restart(engine: Engine, settings: Settings) -> Engine:
    await engine.flush()
    now = engine.clock.now()
    await engine.db.dispose()
    return await community(settings, now)


async def outbox_keys(engine: Engine) -> list[str]:
    async with engine.db.connect() as conn:
        return [r.key for r in await conn.execute(select(T_OUTBOX.c.key).order_by(T_OUTBOX.c.id))]


async def stored_status(engine: Engine, question_id: str) -> str:
    async with engine.db.connect() as conn:
        row = (await conn.execute(select(T_QUESTION.c.status).where(T_QUESTION.c.id == question_id))).one()
    return str(row.status)


def berlin(database_url: str, **overrides: object) -> Settings:
    return make_settings(database_url, steward_timezone="Europe/Berlin", **overrides)


async def test_a_redelivered_question_after_a_restart_does_not_undo_its_answer(database_url: str) -> None:
    settings = berlin(database_url)
    engine = await community(settings, at("2026-03-02 07:00"))
    asked = message("tom", "How do I export a Jira board to Excel?", at("2026-03-02 08:00"), message_id="q")
    answered = message("ben", "Board menu, then Export to CSV", at("2026-03-02 08:30"), thread="q", message_id="a")
    await say(engine, asked)
    await say(engine, answered)
    engine = await restart(engine, settings)
    before = await outbox_keys(engine)

    await redeliver(engine, asked)
    # Past the answer time and the escalation time: a question taken for unanswered would be flagged by now.
    await wait_until(engine, at("2026-03-02 16:30"))
    await redeliver(engine, answered)
    await wait_until(engine, at("2026-03-02 16:40"))

    question = engine.state.question(WS, "q")
    assert question is not None and question.status == "answered" and question.first_response_id == "a"
    assert question.responders == ["ben"], "the redelivered answer is not counted twice"
    assert await stored_status(engine, "q") == "answered"
    assert await outbox_keys(engine) == before, "no flag, no nudge, no stuck help: nothing new at all"
    await engine.db.dispose()


async def test_a_redelivery_older_than_the_memory_window_is_found_in_the_database(database_url: str) -> None:
    settings = berlin(database_url)
    engine = await community(settings, at("2026-03-02 07:00"))
    asked = message("tom", "Where is the Jira export button?", at("2026-03-02 08:00"), message_id="q")
    await say(engine, asked)
    await say(engine, message("ben", "Board menu, top right", at("2026-03-02 08:30"), thread="q"))
    await say(engine, message("tom", "Thanks, found it!", at("2026-03-02 08:40"), thread="q"))
    await wait_until(engine, at("2026-03-20 10:00"))
    engine = await restart(engine, settings)
    engine.state.questions.clear()  # even if the working set had let the question go
    keys = await outbox_keys(engine)

    assert await redeliver(engine, asked) == []
    await wait_until(engine, at("2026-03-21 16:00"))
    assert await stored_status(engine, "q") == "resolved"
    assert await outbox_keys(engine) == keys
    await engine.db.dispose()


async def test_the_stored_status_of_a_question_never_moves_backwards(database_url: str) -> None:
    settings = berlin(database_url)
    engine = await community(settings, at("2026-03-02 07:00"))
    await say(engine, message("tom", "Who runs the SAP training?", at("2026-03-02 08:00"), message_id="q"))
    await say(engine, message("ben", "Ines does, ask her", at("2026-03-02 08:10"), thread="q"))
    question = engine.state.question(WS, "q")
    assert question is not None
    question.status = "asked"  # a stale copy of the row, as another process might hold it
    engine.state.touch_question(question)
    await engine.flush()
    assert await stored_status(engine, "q") == "answered"
    question.status = "answered"
    assert not question.advance("asked") and not question.advance("flagged") and question.status == "answered"
    assert question.advance("resolved") and not question.advance("answered") and question.status == "resolved"
    await engine.db.dispose()


async def expert_answers(engine: Engine, day: str) -> None:
    await say(engine, message("someone", "How do I get SAP access?", at(f"{day} 07:00"), message_id=f"old-{day}"))
    await say(engine, message("marc", "Request the SAP role in the portal", at(f"{day} 07:10"), thread=f"old-{day}"))


async def test_a_spent_nudge_budget_holds_across_a_restart(database_url: str) -> None:
    settings = berlin(database_url, nudges_per_day=1, nudges_per_week=1)
    engine = await community(settings, at("2026-03-02 06:00"))
    await expert_answers(engine, "2026-03-02")
    await say(engine, message("nina", "How long do SAP access requests take?", at("2026-03-02 08:00"), message_id="q1"))
    await wait_until(engine, at("2026-03-02 13:30"))
    engine = await restart(engine, settings)
    await say(engine, message("ida", "Who approves SAP access requests?", at("2026-03-03 08:00"), message_id="q2"))
    await wait_until(engine, at("2026-03-03 16:00"))
    nudges = [k for k in await outbox_keys(engine) if k.startswith("nudge:")]
    assert nudges == ["nudge:q1:marc"], "marc's weekly budget was spent before the restart"
    async with engine.db.connect() as conn:
        stored = (await conn.execute(select(T_NUDGE.c.question_id).where(T_NUDGE.c.kind == "expert"))).all()
    assert [r.question_id for r in stored] == ["q1"]
    await engine.db.dispose()


async def test_the_weekly_confirmation_cap_holds_across_a_restart(database_url: str) -> None:
    settings = berlin(database_url)
    engine = await community(settings, at("2026-03-02 07:00"))
    await say(engine, message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q1"))
    await say(engine, message("ben", "Use the Share button, top right", at("2026-03-02 08:30"), thread="q1"))
    await wait_until(engine, at("2026-03-03 08:31"))
    assert [k for k in await outbox_keys(engine) if k.startswith("confirm:")] == ["confirm:q1"]
    engine = await restart(engine, settings)
    await say(engine, message("tom", "Where is the travel policy?", at("2026-03-03 09:00"), message_id="q2"))
    await say(engine, message("ben", "On the HR wiki, under Policies", at("2026-03-03 09:10"), thread="q2"))
    await wait_until(engine, at("2026-03-06 16:00"))
    assert [k for k in await outbox_keys(engine) if k.startswith("confirm:")] == ["confirm:q1"], "once a week"
    await engine.db.dispose()


async def test_a_confirmation_that_fell_due_while_steward_was_down_is_asked_after_the_start(database_url: str) -> None:
    settings = berlin(database_url)
    engine = await community(settings, at("2026-03-02 07:00"))
    await say(engine, message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q"))
    await say(engine, message("ben", "Use the Share button, top right", at("2026-03-02 08:30"), thread="q"))
    await engine.flush()
    await engine.db.dispose()
    # Down from Monday 09:30 until Wednesday 10:00 (Berlin): the question fell due on Tuesday morning.
    engine = await community(settings, at("2026-03-04 09:00"))
    await wait_until(engine, at("2026-03-04 09:05"))
    assert [k for k in await outbox_keys(engine) if k.startswith("confirm:")] == ["confirm:q"]
    engine = await restart(engine, settings)
    await wait_until(engine, at("2026-03-05 16:00"))
    assert [k for k in await outbox_keys(engine) if k.startswith("confirm:")] == ["confirm:q"], "and only once"
    await engine.db.dispose()


async def test_a_repeated_click_and_a_repeated_command_count_once(database_url: str) -> None:
    settings = berlin(database_url)
    engine = await community(settings, at("2026-03-02 07:00"))
    await say(engine, message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q"))
    click = InteractionClicked(
        workspace=WS, at=at("2026-03-02 08:05"), channel="help", user="tom", action="not_a_question", value="q"
    )
    mute = command("ben", "mute 3", at("2026-03-02 08:06"))
    await say(engine, click)
    assert len(await say(engine, mute)) == 1, "one private reply"
    engine = await restart(engine, settings)
    assert await redeliver(engine, click) == []
    assert await redeliver(engine, mute) == [], "a command delivered again is not run again"
    question = engine.state.question(WS, "q")
    assert question is not None and question.status == "not_a_question"
    assert await stored_status(engine, "q") == "not_a_question"
    await engine.db.dispose()


async def test_a_command_and_a_click_delivered_again_later_keep_the_platforms_id(database_url: str) -> None:
    """A platform stamps nothing on a command but its own id of the invocation; Steward stamps the time it
    received it. Delivered again after a crash (its acknowledgement lost), the command arrives at a later time
    with the same id, and must not run (nor answer the member) twice."""
    settings = berlin(database_url)
    engine = await community(settings, at("2026-03-02 07:00"))
    await say(engine, message("tom", "How do I share a Planner board?", at("2026-03-02 08:00"), message_id="q"))
    expert = CommandInvoked(workspace=WS, at=at("2026-03-02 08:05"), channel="help", user="ben",
                            args="expert add planner", delivery_id="trigger-1")
    click = InteractionClicked(workspace=WS, at=at("2026-03-02 08:06"), channel="help", user="tom",
                               action="not_a_question", value="q", delivery_id="trigger-2")
    assert len(await say(engine, expert)) == 1, "one private reply"
    await say(engine, click)
    engine = await restart(engine, settings)
    later = at("2026-03-02 08:09")
    engine.clock.set(later)  # type: ignore[attr-defined]
    assert await redeliver(engine, dataclasses.replace(expert, at=later)) == [], "not run (nor answered) again"
    assert await redeliver(engine, dataclasses.replace(click, at=later)) == []
    again = dataclasses.replace(expert, at=later, delivery_id="trigger-3")  # the member runs it once more
    assert len(await say(engine, again)) == 1, "a new invocation is a new command"
    await engine.db.dispose()


async def test_keys_of_old_events_are_purged_but_a_posted_message_stays_known(database_url: str) -> None:
    from storage.repository import T_PROCESSED, purge_processed_events

    settings = berlin(database_url)
    engine = await community(settings, at("2026-03-02 07:00"))
    posted = message("tom", "Who runs the SAP training?", at("2026-03-02 08:00"), message_id="q")
    await say(engine, posted)
    await say(engine, command("tom", "mute 3", at("2026-03-02 08:05")))
    assert await purge_processed_events(engine.db, at("2026-04-10 00:00")) == 1
    async with engine.db.connect() as conn:
        assert (await conn.execute(select(T_PROCESSED))).all() == []
    engine = await restart(engine, settings)
    engine.clock.set(at("2026-04-10 00:00"))  # type: ignore[attr-defined]
    engine.state.questions.clear()  # long forgotten by the working set
    before = await outbox_keys(engine)
    # Older than the memory window: the message's own row says it was processed, so nothing happens.
    assert await engine.handle(posted) == []
    assert engine.state.question(WS, "q") is None
    assert await outbox_keys(engine) == before
    await engine.db.dispose()


async def test_after_a_clean_stop_the_start_takes_the_checkpoint_and_reads_no_history(database_url: str) -> None:
    from storage.repository import load_checkpoints, load_snapshot

    settings = berlin(database_url)
    engine = await community(settings, at("2026-03-02 07:00"))
    await say(engine, message("tom", "Who runs the SAP training?", at("2026-03-02 08:00"), message_id="q"))
    await say(engine, message("ines", "I do, every Thursday.", at("2026-03-02 08:10"), thread="q"))
    await engine.close()
    engine = await community(settings, at("2026-03-02 09:00"))
    async with engine.db.connect() as conn:
        assert set(await load_checkpoints(conn)) == {WS}
    full = await load_snapshot(engine.db, at("2026-03-02 09:00"))
    kept = await load_snapshot(engine.db, at("2026-03-02 09:00"), models_kept={WS})
    assert len(full.activity) == 2 and kept.activity == [], "the message history is read only without a checkpoint"
    suggested = engine.state.expertise_index(WS).suggest("SAP training", at=at("2026-03-02 09:00"), limit=1)
    assert [s.user for s in suggested] == ["ines"], "the expertise index came back with the checkpoint"
    await engine.db.dispose()
