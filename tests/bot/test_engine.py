"""The engine: rule isolation, one transaction for state and outbox, idempotent actions."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from bot.core.actions import Action, PostMessage
from bot.core.events import Event, MessagePosted
from bot.rules import Decision, Errand, RuleBase, RuleContext
from bot.settings import Settings
from storage.repository import T_MESSAGE, T_OUTBOX
from tests.support import at, command, community, message


class Exploding(RuleBase):
    name = "exploding"

    def handle(self, event: Event, ctx: RuleContext) -> Sequence[Action]:
        raise RuntimeError("boom")


class Echo(RuleBase):
    """Posts one reply per message, keyed by the message id."""

    name = "echo"

    def handle(self, event: Event, ctx: RuleContext) -> Sequence[Action]:
        if isinstance(event, MessagePosted):
            return [
                PostMessage(
                    key=f"echo:{event.message_id}",
                    workspace=event.workspace,
                    channel=event.channel,
                    text=f"heard {event.text}",
                )
            ]
        return []


async def count(engine, table, *where) -> int:  # type: ignore[no-untyped-def]
    async with engine.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one())


async def test_a_failing_rule_is_logged_and_the_others_still_run(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    engine = await community(settings, at("2026-03-02 09:00"), rules=[Exploding(), Echo()])
    await engine.handle(message("anna", "hello", at("2026-03-02 09:00"), message_id="m1"))
    assert await count(engine, T_OUTBOX) == 1
    assert await count(engine, T_MESSAGE) == 1, "the event is recorded although a rule failed"
    assert engine.rule_failures == {"exploding": 1}
    assert "rule exploding failed" in caplog.text
    await engine.db.dispose()


async def test_state_and_outbox_are_written_together_and_a_crash_before_commit_loses_both(
    settings: Settings,
) -> None:
    engine = await community(settings, at("2026-03-02 09:00"), rules=[Echo()])
    engine.batch_size = 10  # keep the decision in memory, as if the process died before committing
    await engine.process(message("anna", "first", at("2026-03-02 09:00"), message_id="m1"))
    assert await count(engine, T_OUTBOX) == 0 and await count(engine, T_MESSAGE) == 0
    await engine.db.dispose()

    # "Restart": a new engine on the same database sees neither; the platform redelivers the event.
    engine = await community(settings, at("2026-03-02 09:01"), rules=[Echo()])
    await engine.handle(message("anna", "first", at("2026-03-02 09:00"), message_id="m1"))
    assert await count(engine, T_OUTBOX) == 1 and await count(engine, T_MESSAGE) == 1
    await engine.db.dispose()


async def test_an_event_delivered_twice_after_a_restart_yields_one_outbox_row(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 09:00"), rules=[Echo()])
    await engine.handle(message("anna", "hi", at("2026-03-02 09:00"), message_id="m1"))
    await engine.db.dispose()
    engine = await community(settings, at("2026-03-02 09:05"), rules=[Echo()])
    await engine.handle(message("anna", "hi", at("2026-03-02 09:00"), message_id="m1"))
    assert await count(engine, T_OUTBOX) == 1
    assert await count(engine, T_MESSAGE) == 1
    await engine.db.dispose()


async def test_a_restart_rebuilds_open_questions_from_the_database(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 09:00"))
    await engine.handle(
        message("anna", "How do I request SAP access for a new colleague?", at("2026-03-02 09:00"), message_id="q1")
    )
    await engine.db.dispose()
    engine = await community(settings, at("2026-03-02 09:30"))
    question = engine.state.question("console:test", "q1")
    assert question is not None and question.awaiting_answer
    assert "SAP access" in question.text
    await engine.db.dispose()


async def test_old_closed_and_answered_questions_leave_memory_but_not_the_database(settings: Settings) -> None:
    from storage.repository import T_QUESTION

    engine = await community(settings, at("2026-03-02 09:00"))
    await engine.handle(message("anna", "How do I get access to the SAP sandbox?", at("2026-03-02 09:00"),
                                message_id="q1"))
    await engine.handle(message("marc", "Use the access portal.", at("2026-03-02 09:05"), thread="q1"))
    engine.clock.set(at("2026-04-15 09:00"))  # type: ignore[attr-defined]
    await engine.handle(message("tom", "Where are the Teams guidelines?", at("2026-04-15 09:00"), message_id="q2"))
    assert engine.state.question("console:test", "q1") is None
    assert not engine.state.has_unresolved_question("console:test", "anna")
    assert engine.state.question("console:test", "q2") is not None
    assert await count(engine, T_QUESTION) == 2
    await engine.db.dispose()


async def test_events_from_several_sources_are_handled_one_at_a_time(settings: Settings) -> None:
    import asyncio
    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True, kw_only=True)
    class Pause(Errand):
        pass

    class Slow(RuleBase):
        name = "slow"

        def handle(self, event: Event, ctx: RuleContext) -> Decision:
            return [Pause(workspace=event.workspace)]

    running = overlaps = paused = 0

    async def pause(errand: Pause, ctx: RuleContext) -> Decision:  # the shell's slow I/O, between rules' decisions
        nonlocal running, overlaps, paused
        running += 1
        overlaps += running > 1
        await asyncio.sleep(0.01)
        running -= 1
        paused += 1
        return []

    engine = await community(settings, at("2026-03-02 09:00"), rules=[Slow()])
    engine.errands.register(Pause, pause)
    await asyncio.gather(*(engine.handle(message("anna", f"hello {n}", at("2026-03-02 09:00"))) for n in range(5)))
    assert paused == 5 and overlaps == 0
    assert await count(engine, T_MESSAGE) == 5
    await engine.db.dispose()


async def test_backfill_decides_but_posts_nothing(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 09:00"), rules=[Echo()])
    engine.backfill = True
    await engine.handle(message("anna", "history", at("2026-03-02 09:00"), message_id="m1"))
    assert await count(engine, T_OUTBOX) == 0 and await count(engine, T_MESSAGE) == 1
    await engine.db.dispose()


async def test_a_failing_errand_leaves_its_unserved_decision(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The shell's slow work can fail (the store is down): a command's member hears so in one line."""
    from collections.abc import Mapping
    from dataclasses import dataclass

    from bot.core.actions import PostEphemeral
    from bot.core.events import CommandInvoked
    from bot.rules import Command, CommandErrand

    @dataclass(frozen=True, slots=True, kw_only=True)
    class Look(CommandErrand):
        pass

    class Looking(RuleBase):
        name = "looking"

        def commands(self) -> Mapping[str, Command]:
            return {"look": Command("look", self.look, "help.solved")}

        def look(self, event: CommandInvoked, args: list[str], ctx: RuleContext) -> Decision:
            return [Look(workspace=event.workspace, command=event)]

    async def broken(errand: Look, ctx: RuleContext) -> Decision:
        raise ConnectionError("the store is unreachable")

    engine = await community(settings, at("2026-03-02 09:00"), rules=[Looking()])
    engine.errands.register(Look, broken)
    [reply] = await engine.handle(command("anna", "look", at("2026-03-02 09:00")))
    assert isinstance(reply, PostEphemeral) and "/steward look" in reply.text and reply.user == "anna"
    assert "errand Look failed" in caplog.text
    await engine.db.dispose()
