"""The console lets a member join a channel: a newcomer's welcome and `/steward me` read as they would in chat."""

from __future__ import annotations

from adapters.console.adapter import ConsoleSession
from bot.app.wiring import build_engine
from bot.core.clock import SimulatedClock
from bot.settings import Settings
from tests.support import at


async def test_joining_in_the_console_brings_the_welcome_and_me_shows_thanks(settings: Settings) -> None:
    clock = SimulatedClock(at("2026-03-02 08:00"))  # Monday 09:00 in Berlin
    engine = await build_engine(settings, clock)
    engine.state.workspace("console:demo").timezone = "Europe/Berlin"
    printed: list[str] = []
    session = ConsoleSession(engine, clock, printed.append)
    for line in ["/as nina", "/in help", "/join"]:
        assert await session.handle_line(line)
    output = "\n".join(printed)
    assert "(nina joins #help)" in output
    assert "@nina" in output and "Welcome to #help" in output, output

    printed.clear()
    for line in ["How do I add a guest to a Teams channel?", "/as marc", "/reply 1 Use the guest request form.",
                 "/as nina", "/reply 1 Thanks Marc, that worked!", "/as marc", "/steward me"]:
        assert await session.handle_line(line)
    output = "\n".join(printed)
    assert "You answered one question first" in output and "You were thanked once" in output, output
    await engine.db.dispose()
