"""An errand may write the engine's pending batch midway through an event (loading learning paths after a lease
changed hands does, at the next sweep): the actions decided before it are written with it, so a later write that
fails or is refused cannot leave the state changes stored without the posts that came with them (a question
marked flagged whose flag never goes out)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.core.actions import PostMessage
from bot.core.events import Event, MessagePosted
from bot.rules import Decision, Errand, RuleBase, RuleContext
from bot.settings import Settings
from storage.repository import T_MESSAGE, T_OUTBOX
from tests.bot.test_engine import Echo, count
from tests.support import at, community, message


@dataclass(frozen=True, slots=True, kw_only=True)
class LookUp(Errand):
    pass


class LooksUp(RuleBase):
    """Decides after Echo: an errand that reads the store, writing the pending batch first."""

    name = "looks_up"

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        return [LookUp(workspace=event.workspace)]


class Afterwards(RuleBase):
    """Decides after the errand: a post of its own, for the event's last write."""

    name = "afterwards"

    def handle(self, event: Event, ctx: RuleContext) -> Decision:
        if not isinstance(event, MessagePosted):
            return []
        return [
            PostMessage(key=f"after:{event.message_id}", workspace=event.workspace, channel=event.channel, text="later")
        ]


async def test_a_post_decided_before_a_midway_write_is_written_with_it(settings: Settings) -> None:
    engine = await community(settings, at("2026-03-02 09:00"), rules=[Echo(), LooksUp(), Afterwards()])
    write = engine._write
    looked_up = False

    async def look_up(errand: LookUp, ctx: RuleContext) -> Decision:
        nonlocal looked_up
        await engine.flush()
        looked_up = True
        return []

    async def fails_after_the_look_up(batch):  # type: ignore[no-untyped-def]
        if looked_up:
            raise ConnectionError("the database went away")
        await write(batch)

    engine.errands.register(LookUp, look_up)
    engine._write = fails_after_the_look_up  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await engine.handle(message("anna", "hello", at("2026-03-02 09:00"), message_id="m1"))
    assert await count(engine, T_MESSAGE) == 1, "the midway write stored the message"
    assert await count(engine, T_OUTBOX, T_OUTBOX.c.key == "echo:m1") == 1, "and the post decided before it"
    assert await count(engine, T_OUTBOX, T_OUTBOX.c.key == "after:m1") == 0, "the failed write stored nothing"
    await engine.db.dispose()
